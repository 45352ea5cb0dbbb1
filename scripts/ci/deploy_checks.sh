#!/usr/bin/env bash
# Every check of the deploy/ recipes and the run metrics, timed (issue 11).
# Installs what it needs (Debian packages, a Python virtualenv, an npm package)
# under target/ci-tools on first use.
set -euo pipefail
cd "$(dirname "$0")/../.."

total=$SECONDS
for check in kubernetes systemd actions shell embedded airflow; do
  start=$SECONDS
  echo "== deploy check: $check"
  bash "scripts/ci/check_$check.sh"
  echo "== deploy check: $check passed in $((SECONDS - start)) s"
done
echo "== deploy checks: all passed in $((SECONDS - total)) s"

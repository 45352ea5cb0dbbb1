#!/usr/bin/env bash
# The systemd recipe with `systemd-analyze verify`. In a container systemd is
# not PID 1, so the units are verified offline in a scratch root holding
# systemd's own units and the two tools at the paths ExecStart= names. Verify
# only warns on an unknown key or a bad value: any output fails the check.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ci/lib.sh

ensure_command systemd-analyze systemd
cargo build --locked --quiet --workspace --bins
ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT/usr/lib/systemd" "$ROOT/etc/systemd/system" "$ROOT/usr/local/bin"
cp -a /usr/lib/systemd/system "$ROOT/usr/lib/systemd/"
cp target/debug/extract-mode target/debug/upload "$ROOT/usr/local/bin/"
cp deploy/systemd/mode-to-catalog.service deploy/systemd/mode-to-catalog.timer "$ROOT/etc/systemd/system/"
if ! out=$(systemd-analyze verify --root="$ROOT" --man=no mode-to-catalog.service mode-to-catalog.timer 2>&1) || [ -n "$out" ]; then
  echo "$out"
  echo "systemd: verify failed"
  exit 1
fi
echo "systemd: mode-to-catalog.service and .timer verified ($(systemd-analyze --version | head -1))"

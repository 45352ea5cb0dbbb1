#!/usr/bin/env bash
# Shell: shellcheck on the cron wrapper, the scripts embedded in the Kubernetes
# and GitHub Actions recipes and the CI scripts; the recipes' invariants; then
# the cron wrapper run for real against the sandbox:
#   a wrong Mode secret: exit 4, an ERROR line in the log and on stderr, nothing uploaded;
#   a workspace with item problems: exit 0, a WARNING in the log, every file arrives.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ci/lib.sh

ensure_command shellcheck shellcheck
ensure_venv
WORK=$(mktemp -d)
trap 'kill "${SANDBOX_PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/embedded"
"$VENV/bin/python" scripts/ci/check_recipes.py "$WORK/embedded"
shellcheck -x deploy/cron/mode-to-catalog.sh "$WORK"/embedded/*.sh scripts/ci/*.sh scripts/demo.sh .ci/run
echo "shell: shellcheck clean ($(shellcheck --version | sed -n 2p))"

cargo build --locked --quiet --workspace --bins
start_sandbox "$WORK" --seed 5 --collections 2 --reports 5 --item-problems
wrapper() {
  env CASTOR_MODE_ANALYTICS_HOST="$SANDBOX_URL" CASTOR_UPLOADER_ENDPOINT="$SANDBOX_URL" \
    MODE_EXTRACTOR_ENV="$WORK/settings.env" MODE_EXTRACTOR_HOME="$WORK/home" \
    MODE_EXTRACTOR_CREDENTIALS="$WORK/credentials" MODE_EXTRACTOR_BIN="$PWD/target/debug" \
    sh deploy/cron/mode-to-catalog.sh 2>"$WORK/stderr" || return $?
}
cat >"$WORK/settings.env" <<SETTINGS
CASTOR_MODE_ANALYTICS_WORKSPACE=demo
CASTOR_UPLOADER_SOURCE_ID=7b2f9a4e-3c1d-4e8f-9a6b-2d5c8e1f0a37
SETTINGS
mkdir -p "$WORK/credentials"
chmod 700 "$WORK/credentials"
secrets() {
  printf 'sandbox-token\n' >"$WORK/credentials/mode_token"
  printf '%s\n' "$1" >"$WORK/credentials/mode_secret"
  printf 'sandbox-ingest-token\n' >"$WORK/credentials/catalog_token"
  chmod 600 "$WORK/credentials"/*
}

secrets not-the-secret
rc=0
wrapper || rc=$?
[ "$rc" = 4 ] || { cat "$WORK/stderr" "$WORK/home/mode-to-catalog.log"; echo "cron: exit $rc, not 4"; exit 1; }
grep -q "ERROR: extract-mode failed with exit 4, nothing uploaded" "$WORK/home/mode-to-catalog.log"
grep -q "extract-mode failed with exit 4" "$WORK/stderr"
[ "$(received_count)" = 0 ] || { echo "cron: uploaded after a failed extract"; exit 1; }
! grep -q not-the-secret "$WORK/home/mode-to-catalog.log" || { echo "cron: a secret in the log"; exit 1; }

secrets sandbox-secret
wrapper || { cat "$WORK/stderr" "$WORK/home/mode-to-catalog.log"; echo "cron: the run failed"; exit 1; }
grep -q "WARNING: extract-mode completed with item problems" "$WORK/home/mode-to-catalog.log"
python3 scripts/check_received.py "$SANDBOX_URL" "$WORK/home/catalog" | tail -1
"$VENV/bin/python" scripts/ci/check_metrics.py "$WORK/home/metrics/extract-mode.prom" run_exit_code=3 last_success_timestamp_seconds
"$VENV/bin/python" scripts/ci/check_metrics.py "$WORK/home/metrics/upload.prom" run_exit_code=0 run_files'>0'
echo "cron: ok"

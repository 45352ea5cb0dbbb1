#!/usr/bin/env bash
# The scripts embedded in the Kubernetes CronJob and the GitHub Actions
# workflow, and the systemd service's ExecStart= lines as Type=oneshot runs
# them, run for real against the sandbox with the environment their recipe
# gives them (written out by check_recipes.py; the mount paths moved under a
# scratch directory, the sandbox as Mode host and ingest endpoint, the
# workspace and source id as the settings file would give them):
#   a wrong Mode secret: the tool's exit 4, a message, nothing uploaded;
#   a workspace with item problems: exit 0 after extract-mode's 3 with a
#   warning, every file of the run arrives intact, both metrics files parse.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ci/lib.sh

ensure_venv
cargo build --locked --quiet --workspace --bins
WORK=$(mktemp -d)
trap 'kill "${SANDBOX_PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
"$VENV/bin/python" scripts/ci/check_recipes.py "$WORK" >/dev/null
start_sandbox "$WORK" --seed 5 --collections 2 --reports 5 --item-problems

# run_embedded NAME SHELL MODE_SECRET: runs $WORK/NAME.sh with $WORK/NAME.env in
# an empty environment; its output goes to $WORK/NAME/out.log; returns its status.
run_embedded() {
  local root=$WORK/$1
  rm -rf "$root" && mkdir -p "$root/secrets" "$root/data"
  printf 'sandbox-token\n' >"$root/secrets/mode_token"
  printf '%s\n' "$3" >"$root/secrets/mode_secret"
  printf 'sandbox-ingest-token\n' >"$root/secrets/catalog_token"
  chmod 600 "$root/secrets"/*
  for f in sh env; do
    sed -e "s#/run/secrets/mode-to-catalog#$root/secrets#g" -e "s#/data#$root/data#g" \
      "$WORK/$1.$f" >"$root/run.$f"
  done
  # shellcheck disable=SC2016 # expanded by the inner shell
  env -i PATH="$PWD/target/debug:/usr/local/bin:/usr/bin:/bin" HOME="$root" \
    SANDBOX_URL="$SANDBOX_URL" GITHUB_WORKSPACE="$root/data" SECRET_MODE_TOKEN=sandbox-token \
    SECRET_MODE_SECRET="$3" SECRET_CATALOG_TOKEN=sandbox-ingest-token \
    bash -c 'set -a; . "$1"; CASTOR_MODE_ANALYTICS_WORKSPACE=demo
      CASTOR_UPLOADER_SOURCE_ID=7b2f9a4e-3c1d-4e8f-9a6b-2d5c8e1f0a37
      CASTOR_MODE_ANALYTICS_HOST=$SANDBOX_URL CASTOR_UPLOADER_ENDPOINT=$SANDBOX_URL
      set +a; exec "$2" "$3"' _ "$root/run.env" "$2" "$root/run.sh" >"$root/out.log" 2>&1
}

# check NAME SHELL DIR(under data/, holding catalog/ and metrics/) FAILURE_TEXT WARNING_TEXT
check() {
  local name=$1 data=$WORK/$1/data/$3 before rc=0
  before=$(received_count)
  run_embedded "$name" "$2" not-the-secret || rc=$?
  [ "$rc" = 4 ] || { cat "$WORK/$name/out.log"; echo "$name: exit $rc, not 4"; exit 1; }
  grep -q -- "$4" "$WORK/$name/out.log" || { cat "$WORK/$name/out.log"; echo "$name: no message"; exit 1; }
  [ "$(received_count)" = "$before" ] || { echo "$name: uploaded after a failed extract"; exit 1; }
  run_embedded "$name" "$2" sandbox-secret || { cat "$WORK/$name/out.log"; echo "$name: failed"; exit 1; }
  grep -q -- "$5" "$WORK/$name/out.log" || { cat "$WORK/$name/out.log"; echo "$name: no warning"; exit 1; }
  python3 scripts/check_received.py "$SANDBOX_URL" "$data/catalog" | tail -1
  "$VENV/bin/python" scripts/ci/check_metrics.py "$data/metrics/extract-mode.prom" run_exit_code=3
  "$VENV/bin/python" scripts/ci/check_metrics.py "$data/metrics/upload.prom" run_exit_code=0 run_files'>0'
  echo "$name: ok"
}

check kubernetes-cronjob sh . "nothing uploaded" "WARNING: extract-mode completed with item problems"
check github-actions-extract-then-upload bash mode-run "nothing uploaded" "::warning title=extract-mode::"
# systemd logs the tools' own lines: their error, and their item-problem warnings.
check systemd-service sh mode-extractor "error: authentication failed" " WARN "

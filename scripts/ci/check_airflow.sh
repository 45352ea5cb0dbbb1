#!/usr/bin/env bash
# The Airflow recipe, run for real: Airflow 3 (pinned, scripts/ci/requirements.txt)
# with an SQLite metadata database runs deploy/airflow/mode_to_catalog.py with
# `airflow dags test` against the sandbox, three times:
#   1. a wrong Mode secret: extract fails (exit 4, not retried), nothing is uploaded;
#   2. the right secret on a workspace with item problems: extract exits 3, which
#      is a success, and upload sends the run: every file arrives intact;
#   3. the wrong secret again: the metrics keep run 2's last-success timestamp.
# The metrics files are checked with prometheus_client's parser.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/ci/lib.sh

ensure_venv
cargo build --locked --quiet --workspace --bins
WORK=$(mktemp -d)
trap 'kill "${SANDBOX_PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
start_sandbox "$WORK" --seed 11 --collections 3 --reports 12 --item-problems
echo "airflow: sandbox at $SANDBOX_URL"

export AIRFLOW_HOME=$WORK/airflow
export AIRFLOW__CORE__DAGS_FOLDER=$PWD/deploy/airflow
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlite:///$WORK/airflow/airflow.db
export AIRFLOW__LOGGING__LOGGING_LEVEL=WARNING
export AIRFLOW_VAR_MODE_EXTRACTOR_DIR=$WORK/run
export AIRFLOW_VAR_MODE_EXTRACTOR_BIN_DIR=$PWD/target/debug
export AIRFLOW_VAR_MODE_EXTRACTOR_EXTRACT_ARGS='["--rate-limit", "100", "--rate-window", "1s"]'
SOURCE_ID=7b2f9a4e-3c1d-4e8f-9a6b-2d5c8e1f0a37
export AIRFLOW_CONN_CASTOR_CATALOG="{\"conn_type\": \"generic\", \"password\": \"sandbox-ingest-token\",
  \"extra\": {\"source_id\": \"$SOURCE_ID\", \"endpoint\": \"$SANDBOX_URL\"}}"
mode_connection() {
  export AIRFLOW_CONN_MODE_ANALYTICS="{\"conn_type\": \"generic\", \"host\": \"$SANDBOX_URL\",
    \"login\": \"sandbox-token\", \"password\": \"$1\", \"extra\": {\"workspace\": \"demo\"}}"
}
mkdir -p "$AIRFLOW_HOME"
"$VENV/bin/airflow" db migrate >"$WORK/migrate.log" 2>&1 || { cat "$WORK/migrate.log"; exit 1; }

# `airflow dags test` with its log kept; its exit status is not what is checked.
dag_test() {
  "$VENV/bin/airflow" dags test mode_to_catalog >"$WORK/dag-$1.log" 2>&1 || true
  grep -E "exited|WARNING - extract-mode|item problems" "$WORK/dag-$1.log" | sed 's/^/    /' || true
}
metrics() { "$VENV/bin/python" scripts/ci/check_metrics.py "$WORK/run/metrics/$1.prom" "${@:2}"; }
bad_secret=not-the-secret

echo "airflow: 1. wrong Mode secret"
mode_connection "$bad_secret"
dag_test 1
metrics extract-mode run_exit_code=4 run_success=0 '!last_success_timestamp_seconds' "nosecret:$bad_secret"
[ ! -e "$WORK/run/metrics/upload.prom" ] || { echo "upload ran after a failed extract"; exit 1; }
[ "$(received_count)" = 0 ] || { echo "the ingest received files after a failed extract"; exit 1; }
[ "$(grep -c 'exited 4' "$WORK/dag-1.log")" = 1 ] || { cat "$WORK/dag-1.log"; echo "exit 4 was retried"; exit 1; }

echo "airflow: 2. the right secret, a workspace with item problems"
mode_connection sandbox-secret
dag_test 2
metrics extract-mode run_exit_code=3 run_success=1 last_success_timestamp_seconds \
  run_item_problems'>0' run_api_calls'>0' 'run_items{asset=report}>0' nosecret:sandbox-secret
metrics upload run_exit_code=0 run_success=1 run_files'>0' nosecret:sandbox-ingest-token
python3 scripts/check_received.py "$SANDBOX_URL" "$WORK/run/catalog" | tail -1
sent=$(metrics upload print:run_files)
[ "$(received_count)" = "${sent%.0}" ] || { echo "metrics say $sent files sent, ingest has $(received_count)"; exit 1; }
grep -q "item problems (exit 3)" "$WORK/dag-2.log" || { cat "$WORK/dag-2.log"; echo "no warning for exit 3"; exit 1; }
last=$(metrics extract-mode print:last_success_timestamp_seconds)

echo "airflow: 3. the wrong secret again"
mode_connection "$bad_secret"
dag_test 3
metrics extract-mode run_exit_code=4 run_success=0 "last_success_timestamp_seconds=$last"
echo "airflow: ok"

#!/usr/bin/env bash
# The whole chain on the bundled demo workspace, no Mode account needed:
#   mode-sandbox (a local Mode API + catalog ingest endpoint)
#   → extract-mode (Mode → JSON files)
#   → upload (files → ingest)
#   → what the ingest side received, checked against the run's summary.
# Set DEMO_DIR to keep the output somewhere else than a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== building the binaries (a first build on a fresh machine takes several minutes)"
cargo build --locked --workspace --bins
BIN=target/debug
if [ -n "${DEMO_DIR:-}" ]; then
  WORK=$DEMO_DIR
  mkdir -p "$WORK"
else
  WORK=$(mktemp -d)
fi
OUT="$WORK/catalog"
rm -f "$WORK/url"
echo "== demo files in $WORK (catalog/: the run; sandbox.log: the sandbox's log); set DEMO_DIR to choose"

"$BIN/mode-sandbox" --port 0 --seed 42 --collections 8 --reports 120 \
  --rate-limit 50 --rate-window-ms 1000 --latency-ms 5 \
  --ready-file "$WORK/url" >/dev/null 2>"$WORK/sandbox.log" &
SANDBOX=$!
trap 'kill "$SANDBOX" 2>/dev/null || true; rm -f "$WORK/url"' EXIT
for _ in $(seq 1 100); do [ -s "$WORK/url" ] && break; sleep 0.1; done
URL=$(cat "$WORK/url")
echo "== sandbox: Mode API and ingest endpoint at $URL (workspace 'demo')"

export CASTOR_MODE_ANALYTICS_HOST="$URL"
export CASTOR_MODE_ANALYTICS_WORKSPACE=demo
export CASTOR_MODE_ANALYTICS_TOKEN=sandbox-token
export CASTOR_MODE_ANALYTICS_SECRET=sandbox-secret
echo "== extract-mode -o $OUT   (paced at the sandbox's 50 requests/s)"
"$BIN/extract-mode" -o "$OUT" --rate-limit 50 --rate-window 1s

echo "== files written"
ls -l "$OUT"

echo "== upload -d $OUT"
export CASTOR_UPLOADER_TOKEN=sandbox-ingest-token
"$BIN/upload" -s 7b2f9a4e-3c1d-4e8f-9a6b-2d5c8e1f0a37 -d "$OUT" --endpoint "$URL"
echo "== received by the ingest endpoint (checked against the run's summary)"
python3 scripts/check_received.py "$URL" "$OUT"
echo "== done: the run is in $OUT"

#!/usr/bin/env bash
# Checks our OpenMetadata requests against OpenMetadata itself: a 400-report
# sandbox workspace is extracted, pushed with `upload --target openmetadata`
# into the sandbox's OpenMetadata side, and every body that side received is
# validated by scripts/om_validate.py with the request models of the PyPI
# package openmetadata-ingestion 2.0.7.0 (installed --no-deps into a
# virtualenv, with pydantic v2 and email-validator: the generated models need
# nothing else). Needs python3 with venv and pip, and network access to PyPI
# on the first run. OM_VENV sets the virtualenv (default target/om-venv).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${OM_VENV:-target/om-venv}
PACKAGES=(pydantic==2.14.4 email-validator==2.4.0)
if [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" 2>/dev/null; then
  PY=("$VENV/bin/python")
  PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-warn-conflicts)
else
  # No venv module on this machine (Debian without python3-venv): the same
  # packages in a --target directory of their own, never the system's.
  rm -rf "$VENV"
  PY=(env PYTHONPATH="$VENV/site" python3)
  PIP=(python3 -m pip install --quiet --disable-pip-version-check --no-warn-conflicts --target "$VENV/site")
fi
"${PIP[@]}" "${PACKAGES[@]}"
# --no-deps: the generated models need only pydantic and email-validator.
"${PIP[@]}" --no-deps openmetadata-ingestion==2.0.7.0

cargo build --locked --quiet --workspace --bins
BIN=target/debug
WORK=$(mktemp -d)
"$BIN/mode-sandbox" --port 0 --seed 12 --collections 12 --reports 400 \
  --ready-file "$WORK/url" >/dev/null 2>"$WORK/sandbox.log" &
SANDBOX=$!
trap 'kill "$SANDBOX" 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do [ -s "$WORK/url" ] && break; sleep 0.1; done
URL=$(cat "$WORK/url")

CASTOR_MODE_ANALYTICS_HOST="$URL" CASTOR_MODE_ANALYTICS_WORKSPACE=demo \
CASTOR_MODE_ANALYTICS_TOKEN=sandbox-token CASTOR_MODE_ANALYTICS_SECRET=sandbox-secret \
  "$BIN/extract-mode" -o "$WORK/out" --quiet --rate-limit 5000 --rate-window 1s --concurrency 16

export OPENMETADATA_JWT_TOKEN=sandbox-openmetadata-jwt
"$BIN/upload" --target openmetadata -d "$WORK/out" --om-host "$URL/openmetadata/api" \
  --service mode --db-service warehouse --quiet
echo "== pushed; validating every body the OpenMetadata side received"
"${PY[@]}" scripts/om_validate.py "$URL"

#!/bin/sh
# mode-to-catalog.sh: extract-mode, then upload, on one output directory and one
# state file; for cron or any scheduler that runs a command (deploy/README.md).
#
# Exit status: 0 when both steps succeeded, including an extraction that
# completed with item problems (extract-mode's exit 3, logged as a WARNING);
# otherwise the failing tool's own exit code (README, "Exit codes"). A failed
# extraction is never uploaded. No lock here: extract-mode locks its directory,
# so an overlapping run ends at once with exit 9.
#
# Settings (environment; MODE_EXTRACTOR_ENV names a file of NAME=value lines
# read first, e.g. CASTOR_MODE_ANALYTICS_WORKSPACE and CASTOR_UPLOADER_SOURCE_ID):
#   MODE_EXTRACTOR_HOME         working directory    (/var/lib/mode-extractor)
#   MODE_EXTRACTOR_CREDENTIALS  secret files         (/etc/mode-extractor/credentials:
#                               mode_token, mode_secret, catalog_token; mode 0600)
#   MODE_EXTRACTOR_BIN          where the tools are  (/usr/local/bin)
#   MODE_EXTRACTOR_LOG          log file, appended   ($MODE_EXTRACTOR_HOME/mode-to-catalog.log)
# Secrets are passed as *_FILE paths, never in argv; both tools' logs go to
# the log file, and a failure is also printed on stderr (cron mails it).
set -u

if [ -n "${MODE_EXTRACTOR_ENV:-}" ]; then
  set -a
  # shellcheck disable=SC1090
  . "$MODE_EXTRACTOR_ENV" || exit 2
  set +a
fi

home=${MODE_EXTRACTOR_HOME:-/var/lib/mode-extractor}
credentials=${MODE_EXTRACTOR_CREDENTIALS:-/etc/mode-extractor/credentials}
bin=${MODE_EXTRACTOR_BIN:-/usr/local/bin}
logfile=${MODE_EXTRACTOR_LOG:-$home/mode-to-catalog.log}
output=$home/catalog
metrics=$home/metrics
mkdir -p "$metrics" || exit 11   # the output directory is left to extract-mode (it creates it 0700)

export CASTOR_OUTPUT_DIRECTORY="$output"
export CASTOR_UPLOADER_DIRECTORY_PATH="$output"
export MODE_EXTRACTOR_STATE="${MODE_EXTRACTOR_STATE:-$home/state.sqlite}"
# A secret given directly in the environment wins; a value and its _FILE
# form together are an error, so the _FILE default is set only without it.
[ -n "${CASTOR_MODE_ANALYTICS_TOKEN:-}" ] ||
  export CASTOR_MODE_ANALYTICS_TOKEN_FILE="${CASTOR_MODE_ANALYTICS_TOKEN_FILE:-$credentials/mode_token}"
[ -n "${CASTOR_MODE_ANALYTICS_SECRET:-}" ] ||
  export CASTOR_MODE_ANALYTICS_SECRET_FILE="${CASTOR_MODE_ANALYTICS_SECRET_FILE:-$credentials/mode_secret}"
[ -n "${CASTOR_UPLOADER_TOKEN:-}" ] ||
  export CASTOR_UPLOADER_TOKEN_FILE="${CASTOR_UPLOADER_TOKEN_FILE:-$credentials/catalog_token}"

log() {
  printf '%s mode-to-catalog: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$logfile"
}

fail() {
  log "ERROR: $*"
  printf 'mode-to-catalog: %s (log: %s)\n' "$*" "$logfile" >&2
}

# Exit codes a rerun cannot fix: a setting, credentials, a refused run, --strict.
advice() {
  case $1 in
    2 | 4 | 5 | 6 | 10 | 12 | 13) echo "fix the settings or credentials before the next run" ;;
    *) echo "the next scheduled run retries" ;;
  esac
}

log "start: extract-mode -o $output"
"$bin/extract-mode" --metrics-file "$metrics/extract-mode.prom" >>"$logfile" 2>&1
rc=$?
case $rc in
  0) log "extract-mode: complete" ;;
  3) log "WARNING: extract-mode completed with item problems (exit 3, see errors_logs); uploading" ;;
  *)
    fail "extract-mode failed with exit $rc, nothing uploaded; $(advice "$rc")"
    exit "$rc"
    ;;
esac

"$bin/upload" --metrics-file "$metrics/upload.prom" >>"$logfile" 2>&1
rc=$?
if [ "$rc" -ne 0 ]; then
  fail "upload failed with exit $rc; $(advice "$rc")"
  exit "$rc"
fi
log "done: uploaded $output"
exit 0

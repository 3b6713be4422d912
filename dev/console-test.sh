#!/usr/bin/env bash
# Browser tests of the agent console (console/): Playwright (PyPI) drives Debian's chromium
# headless against the local runner; axe-core (npm) checks every screen. Screenshots of each
# screen go to target/console-screenshots/.
#
# Installs what it needs, idempotently:
#   chromium                  Debian package (apt-get, only when /usr/bin/chromium is missing;
#                             never `playwright install`, which downloads browsers from outside)
#   .venv: playwright, pytest pinned, into the repo's venv (./dev/setup.sh makes it, with moto)
#   dev/console/node_modules  axe-core, pinned in dev/console/package.json + package-lock.json
# Then starts the runner on a free port (a copy of $OMS_LOCAL_BIN, default target/debug/oms-local:
# build it first, for example with `cargo build -p oms-local --locked`), runs tests/console with
# pytest and stops the runner (and the DynamoDB Local and moto it started).
#
# Environment: OMS_LOCAL_BIN (runner binary), OMS_CONSOLE_TEST_PORT (else the first free port in
# 3900-3999), OMS_BASE_URL (test an already running runner instead; nothing is started),
# CHROMIUM (default /usr/bin/chromium). Extra arguments go to pytest (for example -k refund).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

PY_PKGS=("playwright==1.65.2" "pytest==9.2.0")
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

need() { command -v "$1" >/dev/null 2>&1 || { echo "console-test: $1 not found: $2" >&2; exit 1; }; }
need npm "install Node.js 18+ (npm fetches axe-core)"
need python3 "install Python 3.10+ with venv"
need curl "install curl"

# Chromium from Debian, as dev/setup.sh installs its system packages: apt-get only when missing.
if [ ! -x "$CHROMIUM" ]; then
  command -v apt-get >/dev/null 2>&1 || { echo "console-test: install chromium ($CHROMIUM not found)" >&2; exit 1; }
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "console-test: installing chromium"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# The venv, DynamoDB Local and moto (the runner starts the last two) come from dev/setup.sh.
if [ -z "${OMS_BASE_URL:-}" ]; then
  ./dev/setup.sh
elif [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.oms-console-$(printf '%s ' "${PY_PKGS[@]}" | sha256sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "console-test: installing ${PY_PKGS[*]} into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check "${PY_PKGS[@]}"
  touch "$stamp"
fi

# axe-core, exactly as locked.
axe=dev/console/node_modules/axe-core/axe.min.js
lock_sum=$(sha256sum dev/console/package-lock.json | cut -c1-16)
if [ ! -f "$axe" ] || [ "$(cat dev/console/node_modules/.oms-lock 2>/dev/null)" != "$lock_sum" ]; then
  echo "console-test: installing axe-core (npm ci in dev/console)"
  (cd dev/console && npm ci --silent --no-audit --no-fund >/dev/null)
  echo "$lock_sum" > dev/console/node_modules/.oms-lock
fi

mkdir -p target/console-screenshots
rm -f target/console-screenshots/*.png

runner_pid=""
work=""
cleanup() {
  if [ -n "$runner_pid" ] && kill -0 "$runner_pid" 2>/dev/null; then
    # Ctrl-C lets the runner stop DynamoDB Local and moto; the group kill is the backstop.
    kill -INT "$runner_pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$runner_pid" 2>/dev/null || break; sleep 0.25; done
    kill -TERM -- "-$runner_pid" 2>/dev/null || true
  fi
  [ -n "$work" ] && rm -rf "$work"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${OMS_BASE_URL:-}" ]; then
  bin=${OMS_LOCAL_BIN:-target/debug/oms-local}
  [ -x "$bin" ] || { echo "console-test: $bin not found: build the runner first (cargo build -p oms-local --locked) or set OMS_LOCAL_BIN" >&2; exit 1; }
  port=${OMS_CONSOLE_TEST_PORT:-}
  if [ -z "$port" ]; then
    port=$(python3 - <<'EOF'
import socket
for p in range(3900, 4000):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
EOF
)
    [ -n "$port" ] || { echo "console-test: no free port in 3900-3999 (set OMS_CONSOLE_TEST_PORT)" >&2; exit 1; }
  fi
  # A copy, so a rebuild of the binary during the run does not touch the running one.
  work=$(mktemp -d)
  cp "$bin" "$work/oms-local"
  log=target/console-runner.log
  echo "console-test: starting the runner on 127.0.0.1:$port (log: $log)"
  # No DYNAMODB_ENDPOINT / MOTO_ENDPOINT: the runner starts its own on free ports.
  env -u DYNAMODB_ENDPOINT -u MOTO_ENDPOINT OMS_PORT="$port" OMS_HOST=127.0.0.1 \
    OMS_CONSOLE_DIR="$ROOT/console" OMS_WATCH_ENV="$work/watch.env" \
    setsid "$work/oms-local" >"$log" 2>&1 </dev/null &
  runner_pid=$!
  export OMS_BASE_URL="http://127.0.0.1:$port"
  for _ in $(seq 1 240); do
    if curl -fsS -o /dev/null "$OMS_BASE_URL/console/config.json" 2>/dev/null; then break; fi
    kill -0 "$runner_pid" 2>/dev/null || { echo "console-test: the runner stopped:" >&2; tail -20 "$log" >&2; exit 1; }
    sleep 0.25
  done
  curl -fsS -o /dev/null "$OMS_BASE_URL/console/config.json" || { echo "console-test: the runner did not answer in 60 s" >&2; tail -20 "$log" >&2; exit 1; }
fi

echo "console-test: testing $OMS_BASE_URL/console/ with $CHROMIUM"
CHROMIUM="$CHROMIUM" .venv/bin/python -m pytest tests/console -p no:cacheprovider -q -rfE "$@"

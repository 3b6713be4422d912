#!/usr/bin/env bash
# The README's local-development path, checked: the local runner (seed off, its own table and
# env file) and `cargo lambda watch` (./dev/watch.sh, a fresh debug build with `dev-auth`) on
# free ports; a dev token from the runner must get 200 from `GET /v1/orders` on the watched
# placement function, and no token a 401 problem document. Needs DYNAMODB_ENDPOINT and
# MOTO_ENDPOINT (dev/test.sh starts them).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DYNAMODB_ENDPOINT:?start DynamoDB Local first (dev/services.sh)}" "${MOTO_ENDPOINT:?start moto first}"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -- -"$p" 2>/dev/null || kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
runner_port=$(free_port); watch_port=$(free_port)
export OMS_WATCH_ENV="$work/watch.env"
cargo build --quiet --locked -p oms-local
setsid env OMS_PORT="$runner_port" OMS_SEED=0 TABLE_NAME="oms-watch-check-$$" ./target/debug/oms-local >"$work/runner.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do [ -s "$OMS_WATCH_ENV" ] && break; sleep 0.2; done
[ -s "$OMS_WATCH_ENV" ] || { cat "$work/runner.log" >&2; echo "watch-check: the runner wrote no env file" >&2; exit 1; }
setsid ./dev/watch.sh -A 127.0.0.1 -P "$watch_port" >"$work/watch.log" 2>&1 &
pids+=($!)
token=$(curl -sf -X POST "http://127.0.0.1:$runner_port/dev/token" -d '{"sub":"watch-check"}' \
  | python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])')
url="http://127.0.0.1:$watch_port/lambda-url/placement/v1/orders"
code=000
# The first request builds the function (a few minutes on a cold target directory).
for _ in $(seq 1 120); do
  code=$(curl -s -o "$work/body" -w '%{http_code}' -m 600 -H "Authorization: Bearer $token" "$url" || true)
  [ "$code" = 000 ] || break
  kill -0 "${pids[1]}" 2>/dev/null || { cat "$work/watch.log" >&2; echo "watch-check: cargo lambda watch stopped" >&2; exit 1; }
  sleep 2
done
if [ "$code" != 200 ]; then
  echo "watch-check: GET /v1/orders with a dev token answered $code" >&2
  cat "$work/body" "$work/watch.log" >&2 || true
  exit 1
fi
anon=$(curl -s -o "$work/anon" -w '%{http_code}' "$url")
[ "$anon" = 401 ] || { echo "watch-check: without a token: $anon (want 401)" >&2; exit 1; }
grep -q '"status":401' "$work/anon" || { echo "watch-check: 401 is not a problem document" >&2; exit 1; }
echo "watch-check: cargo lambda watch answers 200 with a dev token ($(cat "$work/body")) and 401 without"

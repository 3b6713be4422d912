#!/usr/bin/env bash
# Runs the functions under `cargo lambda watch` against the stack `./dev/run.sh` started: it
# reads the env file the runner wrote (.local/watch.env: table, queues, endpoints, and the
# secret the runner's dev tokens are signed with) and builds with the `dev-auth` feature, so a
# token from `POST http://127.0.0.1:3000/dev/token` is read like the API Gateway authorizer
# would (debug builds only; release builds never contain it).
#
#   terminal 1: ./dev/run.sh
#   terminal 2: ./dev/watch.sh                 # http://127.0.0.1:9000/lambda-url/<function>/...
#   terminal 3: TOKEN=$(curl -s -X POST localhost:3000/dev/token -d '{"sub":"cust-1"}' | jq -r .token)
#               curl -H "Authorization: Bearer $TOKEN" localhost:9000/lambda-url/placement/v1/orders
#               .venv/bin/cargo-lambda lambda invoke validate-order --data-file events/steps/validate-order.json
#
# Extra arguments go to `cargo lambda watch` (for example `-P 9001`).
set -euo pipefail
cd "$(dirname "$0")/.."
./dev/setup.sh >/dev/null
env_file=${OMS_WATCH_ENV:-.local/watch.env}
[ -f "$env_file" ] || { echo "watch: $env_file not found: start ./dev/run.sh first (it writes it)" >&2; exit 1; }
export PATH="$PWD/.venv/bin:$PATH"
exec cargo lambda watch --features oms-runtime/dev-auth --env-file "$env_file" "$@"

#!/usr/bin/env bash
# Contract test: the running local runner against docs/openapi.yaml, with schemathesis
# (no 5xx, documented status codes, content types and response schemas). Expects
# DYNAMODB_ENDPOINT and MOTO_ENDPOINT (dev/test.sh provides them).
set -euo pipefail
cd "$(dirname "$0")/.."
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
cargo build --quiet -p oms-local --locked
OMS_PORT=$port TABLE_NAME="oms-contract-$port" ./target/debug/oms-local >.local/contract-runner.log 2>&1 &
runner=$!
trap 'kill $runner 2>/dev/null || true' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 120); do curl -sf -XPOST "$base/dev/token" -d '{"sub":"probe"}' >/dev/null && break; sleep 0.5; done
token() { curl -sf -XPOST "$base/dev/token" -d "{\"sub\":\"$1\",\"scope\":\"$2\"}" | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])'; }
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
export SCHEMATHESIS_TELEMETRY=false
.venv/bin/schemathesis run docs/openapi.yaml --url "$base" -H "Authorization: Bearer $(token contract-customer '')" \
  --checks "$checks" --max-examples 15 --seed 1 --exclude-tag admin --no-color
.venv/bin/schemathesis run docs/openapi.yaml --url "$base" -H "Authorization: Bearer $(token contract-agent 'oms/admin')" \
  --checks "$checks" --max-examples 15 --seed 1 --include-tag admin --no-color

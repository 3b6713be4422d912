#!/usr/bin/env bash
# Contract test: the running local runner against docs/openapi.yaml, with schemathesis: every
# check (`--checks all`: no 5xx, documented statuses, content types and schemas, bad data
# refused, good data accepted, auth not ignored), every phase (examples, coverage, fuzzing,
# stateful links), a token per role, a fixed number of examples per operation. Then the
# runner's log is scanned for personal data and tokens. Expects DYNAMODB_ENDPOINT and
# MOTO_ENDPOINT (dev/test.sh provides them).
set -euo pipefail
cd "$(dirname "$0")/.."
# The document itself first: a valid OpenAPI 3.1 description (a YAML slip such as an unquoted
# comma in a flow mapping still parses, and then describes something else).
.venv/bin/openapi-spec-validator docs/openapi.yaml
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
cargo build --quiet -p oms-local --locked
log=.local/contract-runner.log
OMS_PORT=$port TABLE_NAME="oms-contract-$port" ./target/debug/oms-local >"$log" 2>&1 &
runner=$!
trap 'kill $runner 2>/dev/null || true' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 120); do curl -sf -XPOST "$base/dev/token" -d '{"sub":"probe"}' >/dev/null && break; sleep 0.5; done
token() { curl -sf -XPOST "$base/dev/token" -d "{\"sub\":\"$1\",\"scope\":\"$2\"}" | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])'; }
export SCHEMATHESIS_TELEMETRY=false
examples=${CONTRACT_EXAMPLES:-15}
run() { # role-name scope tag-filter
  printf '\n-- schemathesis as %s (%s examples per operation)\n' "$1" "$examples"
  .venv/bin/schemathesis --config-file dev/contract/schemathesis.toml run docs/openapi.yaml --url "$base" \
    -H "Authorization: Bearer $(token "contract-$1" "$2")" \
    --phases examples,coverage,fuzzing,stateful --max-examples "$examples" --seed 1 "$3" admin --no-color
}
run customer "" --exclude-tag
for role in agent supervisor warehouse finance integration; do run "$role" "oms/$role" --include-tag; done
run admin "oms/admin" --include-tag

printf '\n-- the runner log carries no e-mail addresses, bearer tokens or payment tokens\n'
if grep -nE '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}|eyJ[A-Za-z0-9_-]{8,}\.|tok_[A-Za-z0-9]+|pm_card_' "$log" | head -5 | grep .; then
  echo "personal data or a token in $log" >&2; exit 1
fi
echo "clean ($(wc -l <"$log") lines)"

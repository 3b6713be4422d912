#!/usr/bin/env bash
# Sets up and runs every test: format, lints, unit, property, DynamoDB Local and journey
# tests, infrastructure lint and deploy test, state machine checks, the cargo lambda watch
# check, the API contract test and the console's browser tests. This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
./dev/setup.sh
export SAM_CLI_TELEMETRY=0 CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# A clean clone builds once: incremental caches would only add gigabytes of disk (a CI run
# ran out of space with them).
export CARGO_INCREMENTAL=0

step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "layout: use-cases free of adapters and SDKs, no file over 400 lines"
./dev/check-layout.sh

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "template lint (cfn-lint, sam validate --lint)"
.venv/bin/cfn-lint infra/template.yaml
.venv/bin/sam validate --lint --template-file infra/template.yaml

step "deploy test: the template as CloudFormation on moto, every resource up, least privilege per role"
# Its own moto on a free port (the services below start later); about 10 s.
./dev/deploy.sh

step "analytics SQL: the Athena queries in DuckDB against figures computed from their definitions"
.venv/bin/python -m pytest dev/analytics -q -p no:cacheprovider

step "tests (one DynamoDB Local and one moto server for the whole run)"
# The harness starts them when these are unset; starting them once here saves a JVM per
# test binary. They stop when this script exits.
source dev/services.sh
start_services
cargo test --workspace --locked -- --test-threads=4

step "cargo lambda watch: the runner's env file, a fresh dev-auth build, 200 with a dev token"
./dev/watch-check.sh

step "sam build as the README says (one function: arm64, release), beside the contract test"
# The README's `./dev/sam.sh build` for one function (every function builds the same way from
# the same dependencies; all of them would add about 15 minutes on 2 cores).
( ./dev/sam.sh build ValidateOrderFunction >.local/sam-build.log 2>&1; echo $? >.local/sam-build.rc ) &
sam_build=$!

step "contract test: the local runner against docs/openapi.yaml (schemathesis)"
./dev/contract.sh

step "console: browser tests (Playwright + Debian chromium, axe-core on every screen), screenshots in target/console-screenshots/"
# The runner binary the contract test just built; the console test starts its own services.
OMS_LOCAL_BIN=target/debug/oms-local ./dev/console-test.sh

step "sam build: waiting for it"
wait "$sam_build" || true
if [ "$(cat .local/sam-build.rc)" != 0 ]; then tail -40 .local/sam-build.log; echo "sam build failed" >&2; exit 1; fi
python3 - <<'PY'
# The bootstrap SAM built is an arm64 (aarch64, e_machine 0xB7) ELF executable.
data = open(".aws-sam/build/ValidateOrderFunction/bootstrap", "rb").read(20)
assert data[:4] == b"\x7fELF" and int.from_bytes(data[18:20], "little") == 0xB7, "not an arm64 ELF"
print("sam build: ValidateOrderFunction/bootstrap is an arm64 ELF")
PY

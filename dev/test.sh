#!/usr/bin/env bash
# Sets up and runs every test: format, lints, unit, property, DynamoDB Local and journey
# tests, infrastructure lint and deploy test, state machine checks, the cargo lambda watch
# check and the API contract test. This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
./dev/setup.sh
export SAM_CLI_TELEMETRY=0 CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

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

step "tests (one DynamoDB Local and one moto server for the whole run)"
# The harness starts them when these are unset; starting them once here saves a JVM per
# test binary. They stop when this script exits.
source dev/services.sh
start_services
cargo test --workspace --locked -- --test-threads=4

step "cargo lambda watch: the runner's env file, a fresh dev-auth build, 200 with a dev token"
./dev/watch-check.sh

step "contract test: the local runner against docs/openapi.yaml (schemathesis)"
./dev/contract.sh

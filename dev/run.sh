#!/usr/bin/env bash
# Sets up and runs the OMS locally: DynamoDB Local and moto started (unless DYNAMODB_ENDPOINT /
# MOTO_ENDPOINT are set), the table created, demo catalog, locations and stock seeded, the HTTP
# API on 127.0.0.1:${OMS_PORT:-3000}. Stays up until Ctrl-C, then stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
./dev/setup.sh
cargo run --quiet -p oms-local --locked -- "$@"

#!/usr/bin/env bash
# Deploy test: infra/template.yaml through the SAM transform to CloudFormation, created on moto;
# checks that every resource comes up and that each role grants exactly what its function's
# code calls (dev/deploy/deploy_test.py says what and why). About 10 s.
#   ./dev/deploy.sh                                      # its own moto on a free port
#   MOTO_ENDPOINT=http://127.0.0.1:PORT ./dev/deploy.sh  # a moto already running
set -euo pipefail
cd "$(dirname "$0")/.."
# The tools come from ./dev/setup.sh (idempotent); run it, quietly, only when they are missing.
if [ ! -x .venv/bin/moto_server ] || [ ! -x .venv/bin/sam ]; then
  log=$(mktemp)
  if ! ./dev/setup.sh >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; exit 1
  fi
  rm -f "$log"
fi
exec .venv/bin/python dev/deploy/deploy_test.py "$@"

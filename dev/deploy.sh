#!/usr/bin/env bash
# Deploy test: infra/template.yaml through the SAM transform to CloudFormation, created on moto;
# checks that every resource comes up and that each role grants exactly what its function's
# code calls (dev/deploy/deploy_test.py says what and why), and publishes the console to the
# emulated stack. About 10 s. With `aws`, deploys for real and then publishes the console.
#   ./dev/deploy.sh                                      # the deploy test: its own moto on a free port
#   MOTO_ENDPOINT=http://127.0.0.1:PORT ./dev/deploy.sh  # the deploy test on a moto already running
#   ./dev/deploy.sh aws [sam deploy options]             # after ./dev/sam.sh build: sam deploy, then
#                                                        # console/ to the stack (publish_console.py)
#   ./dev/deploy.sh console [--stack-name N] [--region R] [--profile P]   # the console only
# `aws` and `console` use your AWS credentials (the usual environment or --profile); the stack
# name and region default to the samconfig.toml that `sam deploy --guided` writes.
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

case "${1:-}" in
  aws)
    shift
    if [ ! -f .aws-sam/build/template.yaml ]; then
      echo "deploy: build first: ./dev/sam.sh build" >&2
      exit 1
    fi
    # The console step needs the stack name, region and profile the deploy used.
    publish=()
    empty_ok=(--no-fail-on-empty-changeset)  # an unchanged stack still gets the new console
    args=("$@")
    for ((i = 0; i < ${#args[@]}; i++)); do
      case "${args[$i]}" in
        --stack-name | --region | --profile) publish+=("${args[$i]}" "${args[$((i + 1))]:-}") ;;
        --stack-name=* | --region=* | --profile=*) publish+=("${args[$i]}") ;;
        --fail-on-empty-changeset | --no-fail-on-empty-changeset) empty_ok=() ;;
      esac
    done
    # sam deploy picks .aws-sam/build/template.yaml and keeps samconfig.toml in the repo root.
    ./dev/sam.sh deploy "${empty_ok[@]}" "$@"
    exec .venv/bin/python dev/deploy/publish_console.py "${publish[@]}"
    ;;
  console)
    shift
    exec .venv/bin/python dev/deploy/publish_console.py "$@"
    ;;
esac
exec .venv/bin/python dev/deploy/deploy_test.py "$@"

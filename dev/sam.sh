#!/usr/bin/env bash
# Runs the pinned SAM CLI from .venv with what `sam build` needs on PATH: cargo-lambda (and its
# zig) live in .venv/bin, and the Rust target for arm64 (every function runs on arm64, see
# Globals.Function.Architectures in infra/template.yaml). Telemetry is off.
#
#   ./dev/sam.sh build                        # every function (cargo lambda build --release --arm64)
#   ./dev/sam.sh build ValidateOrderFunction  # one function
#   ./dev/sam.sh deploy --guided --template-file .aws-sam/build/template.yaml
#
# `build` and `validate` read infra/template.yaml unless a template is given.
set -euo pipefail
cd "$(dirname "$0")/.."

# The tools come from ./dev/setup.sh (idempotent); run it, quietly, only when they are missing.
if [ ! -x .venv/bin/sam ] || [ ! -x .venv/bin/cargo-lambda ]; then
  log=$(mktemp)
  if ! ./dev/setup.sh >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; exit 1
  fi
  rm -f "$log"
fi

export PATH="$PWD/.venv/bin:$PATH"
export SAM_CLI_TELEMETRY=0

sub=${1:-}
case "$sub" in
  build | validate)
    has_template=no
    for a in "$@"; do
      case "$a" in -t | --template | --template-file | --template=* | --template-file=*) has_template=yes ;; esac
    done
    if [ "$sub" = build ] && command -v rustup >/dev/null 2>&1 \
      && ! rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
      echo "sam.sh: adding the Rust target aarch64-unknown-linux-gnu (functions run on arm64)" >&2
      rustup target add aarch64-unknown-linux-gnu >/dev/null
    fi
    if [ "$has_template" = no ]; then
      shift
      exec sam "$sub" --template-file infra/template.yaml "$@"
    fi
    ;;
esac
exec sam "$@"

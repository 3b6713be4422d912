#!/usr/bin/env bash
# The architecture, checked: use-cases (shared/src/app) name no adapter and no AWS SDK type,
# by `use` or by inline path, and no Rust file in shared/src or functions/ is over 400 lines.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
# Comments may mention them; code may not.
if hits=$(grep -rnE '^[^/]*\b(adapters::|aws_sdk_[a-z0-9_]+|aws_smithy_[a-z_]+|aws_config|serde_dynamo|lambda_runtime|lambda_http)\b' shared/src/app shared/src/domain shared/src/ports); then
  echo "layout: use-cases, domain and ports must not name adapters or SDKs:" >&2
  echo "$hits" >&2
  fail=1
fi
long=$(find shared/src functions -name '*.rs' -print0 | xargs -0 wc -l | awk '$2 != "total" && $1 > 400 {print}')
if [ -n "$long" ]; then
  echo "layout: files over 400 lines (split them along use cases):" >&2
  echo "$long" >&2
  fail=1
fi
[ "$fail" = 0 ] && echo "layout: ok (app, domain and ports free of adapters and SDKs; no file over 400 lines)"
exit "$fail"

#!/usr/bin/env bash
# One command per benchmark, from a fresh clone: sets up what it needs (./dev/setup.sh, and the
# arm64 Rust target for cold-start), builds the benchmark in the `perf` profile and runs it.
# Figures go to stdout and docs/bench/<name>.json (plots beside them).
#
#   ./dev/bench.sh cost        [--orders 40] [--return-share 25]
#   ./dev/bench.sh latency     [--orders 200]
#   ./dev/bench.sh hot-sku     [--units 2000] [--buyers 64] [--shards 8]
#   ./dev/bench.sh cold-start  [--runs 5] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  cost|latency|hot-sku|cold-start) ;;
  *) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
./dev/setup.sh
if [ "$1" = cold-start ] && ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  rustup target add aarch64-unknown-linux-gnu
fi
cargo build --profile perf --locked -p oms-bench
exec ./target/perf/oms-bench "$@"

#!/usr/bin/env bash
# Benchmark: run-now latency of a one-cell notebook on a running cluster (p50, p95 over 50
# runs) and 100 concurrent runs. Not a test.
# Usage: scripts/bench-jobs.sh [release|debug] [runs=50] [concurrent=100]
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-release}"; runs="${2:-50}"; concurrent="${3:-100}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kiln-target}"
if [ "$profile" = release ]; then cargo build --release --bin kiln; else cargo build --bin kiln; fi
bin="$CARGO_TARGET_DIR/$profile/kiln"
data="$(mktemp -d)"; port=18384; host="http://127.0.0.1:$port"
token="dapi$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
KILN_ADMIN_TOKEN="$token" KILN_RATE_LIMITS=off KILN_SAMPLES_SCALE=0 KILN_LOG=warn "$bin" serve --data-dir "$data" --listen "127.0.0.1:$port" >/dev/null &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -sf "$host/.well-known/databricks-config" >/dev/null && break; sleep 0.1; done
python="${KILN_VENV:-$HOME/.cache/kiln-venv}/bin/python"
"$python" bench/jobs/run_now_latency.py "$host" "$token" "$runs" "$concurrent"

#!/usr/bin/env bash
# Benchmark: run-now latency of a one-cell notebook on a running cluster (p50, p95 over 50
# runs) and 100 concurrent runs. Not a test.
# Usage: scripts/bench-jobs.sh [release|debug] [runs=50] [concurrent=100]
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-release}"; runs="${2:-50}"; concurrent="${3:-100}"
. scripts/bench-server.sh
bench_start_server "$profile" 18384
python="${KILN_VENV:-$HOME/.cache/kiln-venv}/bin/python"
"$python" bench/jobs/run_now_latency.py "$host" "$token" "$runs" "$concurrent"

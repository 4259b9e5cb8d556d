#!/usr/bin/env bash
# Benchmark: TPC-H (22 queries) through the Statement Execution API vs in-process DataFusion
# over the same Delta files, and the SELECT 1 round trip. Not a test.
# Usage: scripts/bench-tpch.sh [scale=1] [iterations=3]
set -euo pipefail
cd "$(dirname "$0")/.."
scale="${1:-1}"; iterations="${2:-3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kiln-target}"
cargo build --release --bin kiln --example tpch_inprocess
bin="$CARGO_TARGET_DIR/release/kiln"
data="$(mktemp -d)"; port=18282
token="dapi$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
KILN_ADMIN_TOKEN="$token" KILN_RATE_LIMITS=off KILN_SAMPLES_SCALE=0 KILN_LOG=warn "$bin" serve --data-dir "$data" --listen "127.0.0.1:$port" >/dev/null &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/.well-known/databricks-config" >/dev/null && break; sleep 0.1; done
"$bin" samples --data-dir "$data" --scale "$scale"
schema="tpch_sf${scale//./_}"
python3 bench/tpch/run.py "http://127.0.0.1:$port" "$token" "$schema" "$iterations" "$CARGO_TARGET_DIR/release/examples/tpch_inprocess"
# The same round trip from a client with next to no overhead of its own: one connection,
# one statement at a time.
command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
warehouse="$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/2.0/sql/warehouses" | python3 -c 'import json, sys; print(json.load(sys.stdin)["warehouses"][0]["id"])')"
script="$data/select1.lua"
printf 'wrk.method = "POST"\nwrk.body = [[{"statement": "SELECT 1", "warehouse_id": "%s", "wait_timeout": "50s"}]]\nwrk.headers["Content-Type"] = "application/json"\n' "$warehouse" >"$script"
echo "SELECT 1 round trip, wrk, 1 connection:"
wrk -t1 -c1 -d10s --latency -s "$script" -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/2.0/sql/statements" | grep -E '^ +(50|99)%|Requests/sec'

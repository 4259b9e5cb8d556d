#!/usr/bin/env bash
# Benchmark: GET /api/2.0/preview/scim/v2/Me throughput and latency on loopback, rate limits
# off. Not a test. Usage: scripts/bench-me.sh [debug|release] [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-release}"; seconds="${2:-15}"; connections="${3:-64}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kiln-target}"
command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
if [ "$profile" = release ]; then cargo build --release --bin kiln; else cargo build --bin kiln; fi
bin="$CARGO_TARGET_DIR/$profile/kiln"
[ "$profile" = debug ] && bin="$CARGO_TARGET_DIR/debug/kiln"
data="$(mktemp -d)"; port=18181
token="dapi$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
KILN_ADMIN_TOKEN="$token" KILN_RATE_LIMITS=off KILN_LOG=warn "$bin" serve --data-dir "$data" --listen "127.0.0.1:$port" >/dev/null &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/.well-known/databricks-config" >/dev/null && break; sleep 0.1; done
wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/2.0/preview/scim/v2/Me"

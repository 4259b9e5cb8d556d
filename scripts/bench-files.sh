#!/usr/bin/env bash
# Benchmark: a large upload and download through the Files API, with the server's peak
# memory (VmHWM) before and after, to show streaming keeps memory flat. Not a test.
# Usage: scripts/bench-files.sh [release|debug] [size_mib=1024]
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-release}"; size_mib="${2:-1024}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/kiln-target}"
if [ "$profile" = release ]; then cargo build --release --bin kiln; else cargo build --bin kiln; fi
bin="$CARGO_TARGET_DIR/$profile/kiln"
data="$(mktemp -d)"; port=18383; host="http://127.0.0.1:$port"
token="dapi$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
KILN_ADMIN_TOKEN="$token" KILN_RATE_LIMITS=off KILN_SAMPLES_SCALE=0 KILN_LOG=warn "$bin" serve --data-dir "$data" --listen "127.0.0.1:$port" >/dev/null &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -sf "$host/.well-known/databricks-config" >/dev/null && break; sleep 0.1; done
auth=(-H "Authorization: Bearer $token")
warehouse="$(curl -sf "${auth[@]}" "$host/api/2.0/sql/warehouses" | python3 -c 'import json, sys; print(json.load(sys.stdin)["warehouses"][0]["id"])')"
curl -sf "${auth[@]}" "$host/api/2.0/sql/statements" -d "{\"statement\": \"CREATE VOLUME main.default.bench\", \"warehouse_id\": \"$warehouse\", \"wait_timeout\": \"30s\"}" >/dev/null
peak() { awk '/VmHWM/ {print $2 / 1024 " MiB"}' "/proc/$server/status"; }
url="$host/api/2.0/fs/files/Volumes/main/default/bench/big.bin"
echo "server peak memory after start: $(peak)"
started=$(date +%s.%N)
head -c "$((size_mib * 1024 * 1024))" /dev/zero | curl -sf "${auth[@]}" -X PUT -T - "$url?overwrite=true"
uploaded=$(date +%s.%N)
echo "uploaded $size_mib MiB in $(echo "$uploaded - $started" | bc) s; server peak memory: $(peak)"
curl -sf "${auth[@]}" "$url" -o /dev/null
downloaded=$(date +%s.%N)
echo "downloaded $size_mib MiB in $(echo "$downloaded - $uploaded" | bc) s; server peak memory: $(peak)"

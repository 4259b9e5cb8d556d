#!/usr/bin/env bash
# Benchmark: a large upload and download through the Files API, with the server's peak
# memory (VmHWM) before and after, to show streaming keeps memory flat. Not a test.
# Usage: scripts/bench-files.sh [release|debug] [size_mib=1024]
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-release}"; size_mib="${2:-1024}"
. scripts/bench-server.sh
bench_start_server "$profile" 18383
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

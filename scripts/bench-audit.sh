#!/usr/bin/env bash
# Benchmark of what a durable audit line costs: GET .../scim/v2/Me throughput (every request
# waits for its audit line's commit) and the latency of a write (secrets put: the secret's
# commit, then the audit commit). Rate limits off; not a test.
# Usage: scripts/bench-audit.sh [debug|release] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-release}"; seconds="${2:-10}"
command -v wrk >/dev/null || { apt-get update -q && apt-get install -y -q wrk; }
source scripts/bench-server.sh
bench_start_server "$profile" 18182
auth="Authorization: Bearer $token"
curl -sf -H "$auth" -d '{"scope":"bench"}' "$host/api/2.0/secrets/scopes/create" >/dev/null
lua="$(mktemp)"
cat > "$lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, '{"scope":"bench","key":"k' .. (counter % 100) .. '","string_value":"value"}')
end
LUA
for connections in 8 32 64; do
  echo "== GET Me, $connections connections"
  wrk -t2 -c"$connections" -d"${seconds}s" --latency -H "$auth" "$host/api/2.0/preview/scim/v2/Me" | grep -E "Requests/sec|50%|99%"
done
for connections in 1 8; do
  echo "== POST secrets/put, $connections connection(s)"
  wrk -t1 -c"$connections" -d"${seconds}s" --latency -s "$lua" -H "$auth" "$host/api/2.0/secrets/put" | grep -E "Requests/sec|50%|99%|Non-2xx"
done
rm -f "$lua"

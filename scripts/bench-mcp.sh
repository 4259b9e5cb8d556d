#!/usr/bin/env bash
# Benchmark of the MCP servers over loopback: a `tools/call` of execute_sql with SELECT 1
# (p50, p99), and `tools/list` on a schema with 1,000 functions. Each figure is one JSON-RPC
# POST on a kept-alive connection, as a client sends it once its session is open. Not a test.
# Usage: scripts/bench-mcp.sh [release|debug] [calls=500]
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-release}"; calls="${2:-500}"
source scripts/bench-server.sh
bench_start_server "$profile" 18484
venv="${KILN_VENV:-$HOME/.cache/kiln-venv}"
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; "$venv/bin/pip" install -q -r tests/conformance/requirements.txt; }
HOST="$host" TOKEN="$token" CALLS="$calls" "$venv/bin/python" - <<'PY'
import os, statistics, time
import requests

host, calls = os.environ["HOST"], int(os.environ["CALLS"])
http = requests.Session()
http.headers.update({"Authorization": f"Bearer {os.environ['TOKEN']}", "Accept": "application/json, text/event-stream"})

def rpc(path, method, params=None):
    response = http.post(host + path, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}, timeout=60)
    response.raise_for_status()
    body = response.json()
    assert "result" in body, body
    return body["result"]

def timed(path, method, params, count):
    rpc(path, method, params)  # warm up
    times = []
    for _ in range(count):
        started = time.perf_counter()
        rpc(path, method, params)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return f"p50 {statistics.median(times):.2f} ms, p99 {times[int(len(times) * 0.99) - 1]:.2f} ms over {count} calls"

print("execute_sql SELECT 1:", timed("/api/2.0/mcp/sql", "tools/call", {"name": "execute_sql", "arguments": {"query": "SELECT 1"}}, calls))
rpc("/api/2.0/mcp/sql", "tools/call", {"name": "execute_sql", "arguments": {"query": "CREATE SCHEMA main.bench_fns"}})
for n in range(1000):
    result = rpc("/api/2.0/mcp/sql", "tools/call", {"name": "execute_sql", "arguments": {"query": f"CREATE FUNCTION main.bench_fns.f{n}(x INT COMMENT 'a number') RETURNS INT COMMENT 'adds {n}' RETURN x + {n}"}})
    assert not result["isError"], result
tools = rpc("/api/2.0/mcp/functions/main/bench_fns", "tools/list")["tools"]
assert len(tools) == 1000, len(tools)
print("tools/list, 1,000 functions:", timed("/api/2.0/mcp/functions/main/bench_fns", "tools/list", {}, max(20, calls // 25)))
PY

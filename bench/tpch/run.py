"""TPC-H through the Statement Execution API against the same queries in-process on
DataFusion over the same Delta files, plus the `SELECT 1` round trip. Run by
scripts/bench-tpch.sh, which starts the server and generates the data; this is a
benchmark, not a test.

Usage: run.py <host> <token> <schema> <iterations> <inprocess-binary>
"""

import glob
import os
import statistics
import subprocess
import sys
import time

import requests

TABLES = ["region", "nation", "part", "supplier", "partsupp", "customer", "orders", "lineitem"]
QUERIES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "queries")


def main() -> None:
    host, token, schema, iterations, inprocess = sys.argv[1:6]
    iterations = int(iterations)
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    warehouse = http.get(f"{host}/api/2.0/sql/warehouses").json()["warehouses"][0]["id"]

    def run(sql: str, catalog: str = "samples") -> int:
        """Runs one statement to completion and fetches every row; returns the row count."""
        body = {"statement": sql, "warehouse_id": warehouse, "wait_timeout": "50s", "catalog": catalog, "schema": schema}
        response = http.post(f"{host}/api/2.0/sql/statements", json=body).json()
        while response["status"]["state"] in ("PENDING", "RUNNING"):
            time.sleep(0.05)
            response = http.get(f"{host}/api/2.0/sql/statements/{response['statement_id']}").json()
        if response["status"]["state"] != "SUCCEEDED":
            raise SystemExit(f"statement failed: {response['status']}")
        result = response.get("result", {})
        rows = len(result.get("data_array", []))
        while "next_chunk_internal_link" in result:
            result = http.get(host + result["next_chunk_internal_link"]).json()
            rows += len(result.get("data_array", []))
        return rows

    api = {}
    for path in sorted(glob.glob(os.path.join(QUERIES, "*.sql"))):
        sql = open(path).read()
        best = float("inf")
        for _ in range(iterations):
            started = time.perf_counter()
            rows = run(sql)
            best = min(best, (time.perf_counter() - started) * 1000)
        api[os.path.basename(path)[:-4]] = (best, rows)

    locations = []
    for table in TABLES:
        info = http.get(f"{host}/api/2.1/unity-catalog/tables/samples.{schema}.{table}").json()
        locations.append(f"{table}={info['storage_location']}")
    output = subprocess.run([inprocess, QUERIES, str(iterations), *locations], check=True, capture_output=True, text=True).stdout
    local = {name: (float(ms), int(rows)) for name, ms, rows in (line.split() for line in output.splitlines())}

    print(f"TPC-H samples.{schema}, best of {iterations}, milliseconds")
    print(f"{'query':6} {'API':>9} {'in-process':>11} {'ratio':>6} {'rows':>6}")
    for name in sorted(api):
        api_ms, rows = api[name]
        local_ms, local_rows = local[name]
        note = "" if rows == local_rows else f"  (in-process gave {local_rows} rows)"
        print(f"{name:6} {api_ms:9.1f} {local_ms:11.1f} {api_ms / local_ms:6.2f} {rows:6}{note}")
    total_api = sum(ms for ms, _ in api.values())
    total_local = sum(ms for ms, _ in local.values())
    print(f"{'total':6} {total_api:9.1f} {total_local:11.1f} {total_api / total_local:6.2f}")

    latencies = []
    for _ in range(300):
        started = time.perf_counter()
        run("SELECT 1", catalog="main")
        latencies.append((time.perf_counter() - started) * 1000)
    latencies = latencies[50:]
    print(f"SELECT 1 round trip, Python requests, over {len(latencies)} runs: p50 {statistics.median(latencies):.2f} ms, "
          f"p99 {statistics.quantiles(latencies, n=100)[98]:.2f} ms")


if __name__ == "__main__":
    main()

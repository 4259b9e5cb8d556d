"""run-now → TERMINATED/SUCCESS latency of a one-cell Python notebook on a running cluster,
and 100 concurrent runs. A benchmark, not a test: prints figures, asserts nothing timed.

Usage: python run_now_latency.py HOST TOKEN [runs=50] [concurrent=100]
Polls runs/get every 5 ms so the figure is the server's, not the client's backoff.
"""

import base64
from concurrent.futures import ThreadPoolExecutor
import statistics
import sys
import time

import requests

host, token = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 50
concurrent = int(sys.argv[4]) if len(sys.argv) > 4 else 100
session = requests.Session()
session.headers["Authorization"] = f"Bearer {token}"


def call(method, path, **kwargs):
    response = session.request(method, host + path, timeout=120, **kwargs)
    response.raise_for_status()
    return response.json()


def wait_cluster(cluster_id):
    while call("GET", "/api/2.1/clusters/get", params={"cluster_id": cluster_id})["state"] != "RUNNING":
        time.sleep(0.1)


def wait_run(run_id, poll=0.005):
    while True:
        run = call("GET", "/api/2.1/jobs/runs/get", params={"run_id": run_id})
        if run["state"]["life_cycle_state"] in ("TERMINATED", "SKIPPED", "INTERNAL_ERROR"):
            return run
        time.sleep(poll)


cluster_id = call("POST", "/api/2.1/clusters/create", json={"cluster_name": "bench", "spark_version": "15.4.x-scala2.12", "num_workers": 0})["cluster_id"]
wait_cluster(cluster_id)
call("POST", "/api/2.0/workspace/mkdirs", json={"path": "/Shared/bench"})
call("POST", "/api/2.0/workspace/import", json={"path": "/Shared/bench/one_cell", "language": "PYTHON", "overwrite": True, "content": base64.b64encode(b"dbutils.notebook.exit(str(6 * 7))").decode()})
task = {"task_key": "cell", "existing_cluster_id": cluster_id, "notebook_task": {"notebook_path": "/Shared/bench/one_cell"}}
job_id = call("POST", "/api/2.1/jobs/create", json={"name": "bench", "max_concurrent_runs": concurrent, "tasks": [task]})["job_id"]

# Warm up once (the first context of the cluster).
wait_run(call("POST", "/api/2.1/jobs/run-now", json={"job_id": job_id})["run_id"])

latencies = []
for _ in range(runs):
    started = time.perf_counter()
    run = wait_run(call("POST", "/api/2.1/jobs/run-now", json={"job_id": job_id})["run_id"])
    latencies.append((time.perf_counter() - started) * 1000)
    assert run["state"]["result_state"] == "SUCCESS", run["state"]
latencies.sort()
p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
print(f"run-now → SUCCESS over {runs} runs: p50 {statistics.median(latencies):.0f} ms, p95 {p95:.0f} ms, max {latencies[-1]:.0f} ms")

started = time.perf_counter()
run_ids = [call("POST", "/api/2.1/jobs/run-now", json={"job_id": job_id})["run_id"] for _ in range(concurrent)]
with ThreadPoolExecutor(16) as pool:
    finished = list(pool.map(lambda run_id: wait_run(run_id, poll=0.05), run_ids))
elapsed = time.perf_counter() - started
succeeded = sum(1 for run in finished if run["state"].get("result_state") == "SUCCESS")
print(f"{concurrent} concurrent runs: {succeeded} succeeded in {elapsed:.1f} s")
call("POST", "/api/2.1/clusters/permanent-delete", json={"cluster_id": cluster_id})

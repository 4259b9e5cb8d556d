"""kill -9 during concurrent writes of every kind: after a restart on the same data directory,
every write the server acknowledged (answered 2xx) is there with the written value, and every
acknowledged request has its audit line (decision `request`, the status it was answered with,
found by its `x-request-id`).

Eight threads cycle through the write kinds below against a dedicated server; after one to
three seconds the server is SIGKILLed mid-stream, started again on the same data directory,
and every acknowledged write of the round is checked. Three rounds, then all rounds' writes
are checked once more. The failure message counts, per kind, the acknowledged requests that
lack their effect or their audit line.
"""

from __future__ import annotations

import base64
import itertools
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

import pytest
import requests

import hardening_common
import kilnlib

SCIM = kilnlib.SCIM
AUDIT = "/api/2.0/kiln/audit-events"
STATEMENTS = "/api/2.0/sql/statements"
UC = "/api/2.1/unity-catalog"
WRITERS = 8
ROUNDS = 3
WRITE_SECONDS = (1.5, 3.0)
TOTAL_BUDGET_SECONDS = 90
TIME_LIMIT_SECONDS = 170
CLUSTERS_PER_ROUND = 2
REQUEST_TIMEOUT = (3, 20)

SCOPE = "crash-scope"
CATALOG, SCHEMA_NAME = "main", "default"
VOLUME = "crash_vol"
TABLE = "main.default.crash_rows"
WORKSPACE_DIR = "/Shared/crash"
DBFS_DIR = "/tmp/crash"
GROUPS = [f"crash-group-{i}" for i in range(12)]
PRIVILEGES = ["USE_CATALOG", "USE_SCHEMA", "CREATE_SCHEMA", "CREATE_TABLE", "SELECT", "MODIFY", "BROWSE", "EXECUTE", "CREATE_FUNCTION", "CREATE_VOLUME", "READ_VOLUME", "WRITE_VOLUME"]


@pytest.fixture(autouse=True)
def _time_limit():
    yield from hardening_common.time_limit(TIME_LIMIT_SECONDS)


# --- bookkeeping ------------------------------------------------------------------------------


@dataclass
class Ack:
    """One request the server answered 2xx, and how to find its effect afterwards."""

    kind: str
    request_id: Optional[str]
    status: int
    acked_at: float
    label: str
    check: Callable[["Verifier"], Optional[str]]
    killed_at: float = 0.0


@dataclass
class Round:
    number: int
    grant_catalog: str
    acks: list = field(default_factory=list)
    refused: dict = field(default_factory=lambda: defaultdict(Counter))
    refusal_samples: dict = field(default_factory=dict)
    unanswered: Counter = field(default_factory=Counter)
    clusters_made: int = 0
    killed_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    pairs: Optional[Iterator] = None


class Writer:
    """Sends writes of one kind; records acknowledged ones on the round."""

    def __init__(self, host: str, token: str, warehouse: str) -> None:
        self.host = host
        self.token = token
        self.warehouse = warehouse
        self.sequence = itertools.count()
        self.local = threading.local()

    def session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
            self.local.session.headers["Authorization"] = f"Bearer {self.token}"
        return self.local.session

    def send(self, round_: Round, kind: str, method: str, path: str, **kwargs) -> Optional[requests.Response]:
        try:
            response = self.session().request(method, self.host + path, timeout=REQUEST_TIMEOUT, **kwargs)
        except requests.RequestException:
            with round_.lock:
                round_.unanswered[kind] += 1
            self.local.__dict__.pop("session", None)
            return None
        if not 200 <= response.status_code < 300:
            with round_.lock:
                round_.refused[kind][response.status_code] += 1
                round_.refusal_samples.setdefault((kind, response.status_code), response.text[:200])
            return None
        return response

    def ack(self, round_: Round, kind: str, response: requests.Response, label: str, check) -> None:
        with round_.lock:
            round_.acks.append(Ack(kind, response.headers.get("x-request-id"), response.status_code, time.monotonic(), label, check))

    def unique(self, prefix: str) -> str:
        return f"{prefix}-{next(self.sequence)}-{uuid.uuid4().hex[:6]}"


# --- the write kinds --------------------------------------------------------------------------
# Each sends one write (a few send a preparatory one first) and records what to look for.


def write_secret(w: Writer, r: Round) -> None:
    key, value = w.unique("k"), uuid.uuid4().hex
    response = w.send(r, "secrets put", "POST", "/api/2.0/secrets/put", json={"scope": SCOPE, "key": key, "string_value": value})
    if response is not None:
        w.ack(r, "secrets put", response, key, lambda v: v.secret_problem(key, value))


def write_scope(w: Writer, r: Round) -> None:
    name = w.unique("crash-scope")
    response = w.send(r, "secret scope create", "POST", "/api/2.0/secrets/scopes/create", json={"scope": name})
    if response is not None:
        w.ack(r, "secret scope create", response, name, lambda v: None if name in v.scopes() else f"scope {name} missing")


def write_user(w: Writer, r: Round) -> None:
    name = w.unique("crash-user") + "@example.com"
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name}
    response = w.send(r, "SCIM user create", "POST", SCIM + "/Users", json=body)
    if response is not None:
        user_id = response.json().get("id")
        w.ack(r, "SCIM user create", response, name, lambda v: v.field_problem(f"{SCIM}/Users/{user_id}", "userName", name))


def write_group(w: Writer, r: Round) -> None:
    name = w.unique("crash-g")
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name}
    response = w.send(r, "SCIM group create", "POST", SCIM + "/Groups", json=body)
    if response is not None:
        group_id = response.json().get("id")
        w.ack(r, "SCIM group create", response, name, lambda v: v.field_problem(f"{SCIM}/Groups/{group_id}", "displayName", name))


def write_token(w: Writer, r: Round) -> None:
    comment = w.unique("crash-token")
    response = w.send(r, "token create", "POST", "/api/2.0/token/create", json={"comment": comment, "lifetime_seconds": 3600})
    if response is not None:
        body = response.json()
        value, token_id = body.get("token_value"), (body.get("token_info") or {}).get("token_id")
        kilnlib.ISSUED_SECRETS.add("crash-test token", value)
        w.ack(r, "token create", response, comment, lambda v: v.token_problem(token_id, value))


def write_job(w: Writer, r: Round) -> None:
    name = w.unique("crash-job")
    response = w.send(r, "jobs create", "POST", "/api/2.1/jobs/create", json={"name": name})
    if response is not None:
        job_id = response.json().get("job_id")
        w.ack(r, "jobs create", response, name, lambda v: v.job_problem(job_id, name))


def write_import(w: Writer, r: Round) -> None:
    path, marker = f"{WORKSPACE_DIR}/{w.unique('nb')}", uuid.uuid4().hex
    content = base64.b64encode(f"print('{marker}')".encode()).decode()
    body = {"path": path, "format": "SOURCE", "language": "PYTHON", "content": content}
    response = w.send(r, "workspace import", "POST", "/api/2.0/workspace/import", json=body)
    if response is not None:
        w.ack(r, "workspace import", response, path, lambda v: v.export_problem(path, marker))


def write_mkdirs(w: Writer, r: Round) -> None:
    path = f"{WORKSPACE_DIR}/dirs/{w.unique('d')}"
    response = w.send(r, "workspace mkdirs", "POST", "/api/2.0/workspace/mkdirs", json={"path": path})
    if response is not None:
        w.ack(r, "workspace mkdirs", response, path, lambda v: v.field_problem(f"/api/2.0/workspace/get-status?path={path}", "object_type", "DIRECTORY"))


def write_dbfs(w: Writer, r: Round) -> None:
    path, data = f"{DBFS_DIR}/{w.unique('f')}", uuid.uuid4().bytes * 4
    body = {"path": path, "contents": base64.b64encode(data).decode(), "overwrite": True}
    response = w.send(r, "DBFS put", "POST", "/api/2.0/dbfs/put", json=body)
    if response is not None:
        w.ack(r, "DBFS put", response, path, lambda v: v.dbfs_problem(path, data))


def write_file(w: Writer, r: Round) -> None:
    path, data = f"/Volumes/{CATALOG}/{SCHEMA_NAME}/{VOLUME}/{w.unique('f')}.bin", uuid.uuid4().bytes * 64
    response = w.send(r, "Files API upload", "PUT", f"/api/2.0/fs/files{path}?overwrite=true", data=data, headers={"Content-Type": "application/octet-stream"})
    if response is not None:
        w.ack(r, "Files API upload", response, path, lambda v: v.file_problem(path, data))


def write_catalog(w: Writer, r: Round) -> None:
    name = w.unique("crash_cat").replace("-", "_")
    response = w.send(r, "UC catalog create", "POST", f"{UC}/catalogs", json={"name": name})
    if response is not None:
        w.ack(r, "UC catalog create", response, name, lambda v: v.field_problem(f"{UC}/catalogs/{name}", "name", name))


def write_schema(w: Writer, r: Round) -> None:
    name = w.unique("crash_schema").replace("-", "_")
    response = w.send(r, "UC schema create", "POST", f"{UC}/schemas", json={"name": name, "catalog_name": CATALOG})
    if response is not None:
        w.ack(r, "UC schema create", response, name, lambda v: v.field_problem(f"{UC}/schemas/{CATALOG}.{name}", "name", name))


def write_grant(w: Writer, r: Round) -> None:
    with r.lock:
        pair = next(r.pairs, None)
    if pair is None:
        return
    group, privilege = pair
    body = {"changes": [{"principal": group, "add": [privilege]}]}
    response = w.send(r, "grants PATCH", "PATCH", f"{UC}/permissions/catalog/{r.grant_catalog}", json=body)
    if response is not None:
        catalog = r.grant_catalog
        w.ack(r, "grants PATCH", response, f"{privilege} to {group} on {catalog}", lambda v: v.grant_problem(catalog, group, privilege))


def write_permissions(w: Writer, r: Round) -> None:
    name = w.unique("crash-acl-job")
    made = w.send(r, "permissions PUT", "POST", "/api/2.1/jobs/create", json={"name": name})
    if made is None:
        return
    job_id = made.json().get("job_id")
    w.ack(r, "permissions PUT", made, f"(its job {name})", lambda v: v.job_problem(job_id, name))
    group = random.choice(GROUPS)
    body = {"access_control_list": [{"group_name": group, "permission_level": "CAN_MANAGE_RUN"}]}
    response = w.send(r, "permissions PUT", "PUT", f"/api/2.0/permissions/jobs/{job_id}", json=body)
    if response is not None:
        w.ack(r, "permissions PUT", response, f"CAN_MANAGE_RUN to {group} on job {job_id}", lambda v: v.acl_problem(job_id, group, "CAN_MANAGE_RUN"))


def write_destination(w: Writer, r: Round) -> None:
    name = w.unique("crash-hook")
    body = {"display_name": name, "config": {"generic_webhook": {"url": "http://127.0.0.1:9/crash"}}}
    response = w.send(r, "notification destination create", "POST", "/api/2.0/notification-destinations", json=body)
    if response is not None:
        destination_id = response.json().get("id")
        w.ack(r, "notification destination create", response, name, lambda v: v.field_problem(f"/api/2.0/notification-destinations/{destination_id}", "display_name", name))


def write_query(w: Writer, r: Round) -> None:
    name, text = w.unique("crash-query"), f"SELECT '{uuid.uuid4().hex}' AS marker"
    body = {"query": {"display_name": name, "query_text": text, "warehouse_id": w.warehouse}}
    response = w.send(r, "saved query create", "POST", "/api/2.0/sql/queries", json=body)
    if response is not None:
        query_id = response.json().get("id")
        w.ack(r, "saved query create", response, name, lambda v: v.field_problem(f"/api/2.0/sql/queries/{query_id}", "query_text", text))


def write_cluster(w: Writer, r: Round) -> None:
    with r.lock:
        if r.clusters_made >= CLUSTERS_PER_ROUND:
            return
        r.clusters_made += 1
    name = w.unique("crash-cluster")
    body = {"cluster_name": name, "spark_version": "15.4.x-scala2.12", "num_workers": 0, "autotermination_minutes": 10}
    response = w.send(r, "cluster create", "POST", "/api/2.1/clusters/create", json=body)
    if response is not None:
        cluster_id = response.json().get("cluster_id")
        w.ack(r, "cluster create", response, name, lambda v: v.cluster_problem(cluster_id, name))


def write_row(w: Writer, r: Round) -> None:
    row_id = random.getrandbits(40)
    body = {"statement": f"INSERT INTO {TABLE} VALUES ({row_id}, 'round {r.number}')", "warehouse_id": w.warehouse, "wait_timeout": "50s"}
    response = w.send(r, "SQL INSERT", "POST", STATEMENTS, json=body)
    if response is None:
        return
    state = (response.json().get("status") or {}).get("state")
    if state != "SUCCEEDED":
        with r.lock:
            r.refused["SQL INSERT"][f"200 {state}"] += 1
            r.refusal_samples.setdefault(("SQL INSERT", f"200 {state}"), str(response.json().get("status"))[:200])
        return
    w.ack(r, "SQL INSERT", response, f"row {row_id}", lambda v: None if row_id in v.rows() else f"row {row_id} missing from {TABLE}")


KINDS = [
    write_secret, write_scope, write_user, write_group, write_token, write_job, write_import, write_mkdirs,
    write_dbfs, write_file, write_catalog, write_schema, write_grant, write_permissions, write_destination,
    write_query, write_cluster, write_row,
]


# --- checking after the restart ---------------------------------------------------------------


class Verifier:
    """Looks for acknowledged writes on the restarted server; lists are fetched once."""

    def __init__(self, server: kilnlib.KilnServer, warehouse: str) -> None:
        self.server = server
        self.warehouse = warehouse
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {server.admin_token}"
        self._cache: dict = {}

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.server.host + path, timeout=30, **kwargs)

    def _cached(self, key, fetch):
        if key not in self._cache:
            self._cache[key] = fetch()
        return self._cache[key]

    def field_problem(self, path: str, name: str, expected) -> Optional[str]:
        response = self.get(path)
        if response.status_code != 200:
            return f"GET {path} answered {response.status_code}: {response.text[:120]}"
        got = response.json().get(name)
        return None if got == expected else f"GET {path}: {name} is {got!r}, wrote {expected!r}"

    def secret_problem(self, key: str, value: str) -> Optional[str]:
        response = self.get("/api/2.0/secrets/get", params={"scope": SCOPE, "key": key})
        if response.status_code != 200:
            return f"secret {key}: GET answered {response.status_code}"
        got = base64.b64decode(response.json().get("value", "")).decode(errors="replace")
        return None if got == value else f"secret {key} holds another value"

    def scopes(self) -> set:
        return self._cached("scopes", lambda: {s["name"] for s in self.get("/api/2.0/secrets/scopes/list").json().get("scopes", [])})

    def token_problem(self, token_id: str, value: str) -> Optional[str]:
        listed = self._cached("tokens", lambda: {t["token_id"] for t in self.get("/api/2.0/token/list").json().get("token_infos", [])})
        if token_id not in listed:
            return f"token {token_id} not listed"
        response = requests.get(self.server.host + SCIM + "/Me", headers={"Authorization": f"Bearer {value}"}, timeout=30)
        return None if response.status_code == 200 else f"token {token_id} no longer authenticates ({response.status_code})"

    def job_problem(self, job_id, name: str) -> Optional[str]:
        response = self.get("/api/2.1/jobs/get", params={"job_id": job_id})
        if response.status_code != 200:
            return f"job {job_id}: GET answered {response.status_code}"
        got = (response.json().get("settings") or {}).get("name")
        return None if got == name else f"job {job_id} is named {got!r}, wrote {name!r}"

    def export_problem(self, path: str, marker: str) -> Optional[str]:
        response = self.get("/api/2.0/workspace/export", params={"path": path, "format": "SOURCE"})
        if response.status_code != 200:
            return f"export {path} answered {response.status_code}"
        content = base64.b64decode(response.json().get("content", "")).decode(errors="replace")
        return None if marker in content else f"{path} lost its content"

    def dbfs_problem(self, path: str, data: bytes) -> Optional[str]:
        response = self.get("/api/2.0/dbfs/read", params={"path": path})
        if response.status_code != 200:
            return f"DBFS read {path} answered {response.status_code}"
        return None if base64.b64decode(response.json().get("data", "")) == data else f"DBFS {path} holds other bytes"

    def file_problem(self, path: str, data: bytes) -> Optional[str]:
        response = self.get(f"/api/2.0/fs/files{path}")
        if response.status_code != 200:
            return f"download {path} answered {response.status_code}"
        return None if response.content == data else f"{path} holds {len(response.content)} other bytes"

    def grant_problem(self, catalog: str, group: str, privilege: str) -> Optional[str]:
        def fetch():
            body = self.get(f"{UC}/permissions/catalog/{catalog}").json()
            return {(a["principal"], p) for a in body.get("privilege_assignments", []) for p in a.get("privileges", [])}

        return None if (group, privilege) in self._cached(("grants", catalog), fetch) else f"{privilege} for {group} on {catalog} missing"

    def acl_problem(self, job_id, group: str, level: str) -> Optional[str]:
        response = self.get(f"/api/2.0/permissions/jobs/{job_id}")
        if response.status_code != 200:
            return f"permissions of job {job_id} answered {response.status_code}"
        for entry in response.json().get("access_control_list", []):
            if entry.get("group_name") == group and any(p.get("permission_level") == level for p in entry.get("all_permissions", [])):
                return None
        return f"job {job_id} lost {level} for {group}"

    def cluster_problem(self, cluster_id: str, name: str) -> Optional[str]:
        return self.field_problem(f"/api/2.1/clusters/get?cluster_id={cluster_id}", "cluster_name", name)

    def rows(self) -> set:
        def fetch():
            body = {"statement": f"SELECT id FROM {TABLE}", "warehouse_id": self.warehouse, "wait_timeout": "50s", "disposition": "INLINE"}
            answer = self.session.post(self.server.host + STATEMENTS, json=body, timeout=60).json()
            assert answer["status"]["state"] == "SUCCEEDED", f"reading {TABLE}: {answer['status']}"
            ids, chunk = set(), answer
            rows = [int(row[0]) for row in (answer.get("result") or {}).get("data_array") or []]
            ids.update(rows)
            next_link = (chunk.get("result") or {}).get("next_chunk_internal_link")
            while next_link:
                chunk = self.get(next_link).json()
                ids.update(int(row[0]) for row in chunk.get("data_array") or [])
                next_link = chunk.get("next_chunk_internal_link")
            return ids

        return self._cached("rows", fetch)

    def audit_statuses(self) -> dict:
        """request_id -> statuses of its `request` lines, over the whole log."""

        def fetch():
            found, params = defaultdict(list), {"decision": "request", "max_results": 1000}
            for _ in range(10_000):
                page = self.get(AUDIT, params=params).json()
                for event in page.get("events", []):
                    found[event.get("request_id")].append(event.get("status"))
                if not page.get("next_page_token"):
                    return found
                params = {**params, "page_token": page["next_page_token"]}
            return found

        return self._cached("audit", fetch)

    def audit_problem(self, ack: Ack) -> Optional[str]:
        if not ack.request_id:
            return "the response had no x-request-id"
        if ack.status in self.audit_statuses().get(ack.request_id, []):
            return None
        # Confirm through the documented filter before calling it lost.
        events = self.get(AUDIT, params={"request_id": ack.request_id}).json().get("events", [])
        if any(e.get("decision") == "request" and e.get("status") == ack.status for e in events):
            return None
        if events:
            return f"no request line with status {ack.status} (found {[(e.get('decision'), e.get('status')) for e in events]})"
        return "no audit line at all"


# --- setup, rounds, report ----------------------------------------------------------------------


def must(response: requests.Response, what: str) -> dict:
    assert 200 <= response.status_code < 300, f"setup {what}: HTTP {response.status_code} {response.text[:300]}"
    return response.json() if response.content else {}


def set_up(server: kilnlib.KilnServer) -> str:
    warehouse = kilnlib.starter_warehouse_id(server.admin_client())
    must(server.request("POST", "/api/2.0/secrets/scopes/create", json={"scope": SCOPE}), "scope")
    must(server.request("POST", f"{UC}/volumes", json={"catalog_name": CATALOG, "schema_name": SCHEMA_NAME, "name": VOLUME, "volume_type": "MANAGED"}), "volume")
    must(server.request("POST", "/api/2.0/workspace/mkdirs", json={"path": WORKSPACE_DIR + "/dirs"}), "workspace folder")
    must(server.request("POST", "/api/2.0/dbfs/mkdirs", json={"path": DBFS_DIR}), "DBFS folder")
    for group in GROUPS:
        must(server.request("POST", SCIM + "/Groups", json={"displayName": group}), f"group {group}")
    made = must(server.request("POST", STATEMENTS, json={"statement": f"CREATE TABLE {TABLE} (id BIGINT, note STRING)", "warehouse_id": warehouse, "wait_timeout": "50s"}), "table")
    assert made["status"]["state"] == "SUCCEEDED", made["status"]
    return warehouse


def new_round(server: kilnlib.KilnServer, number: int) -> Round:
    catalog = f"crash_grants_{number}_{uuid.uuid4().hex[:6]}"
    must(server.request("POST", f"{UC}/catalogs", json={"name": catalog}), "grant catalog")
    round_ = Round(number, catalog)
    round_.pairs = iter([(g, p) for p in PRIVILEGES for g in GROUPS])
    return round_


def write_until_killed(server: kilnlib.KilnServer, writer: Writer, round_: Round, seconds: float) -> None:
    stop = threading.Event()
    offsets = itertools.count()

    def work():
        kinds = itertools.cycle(KINDS)
        for _ in range(next(offsets) * 2 + 1):
            next(kinds)
        while not stop.is_set():
            next(kinds)(writer, round_)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    server.process.kill()
    round_.killed_at = time.monotonic()
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a writer thread did not finish after the kill"


@dataclass
class Tally:
    acked: Counter = field(default_factory=Counter)
    no_effect: Counter = field(default_factory=Counter)
    no_audit: Counter = field(default_factory=Counter)
    samples: list = field(default_factory=list)
    audit_ages_ms: list = field(default_factory=list)


def verify(verifier: Verifier, acks: list, tally: Tally) -> None:
    for ack in acks:
        tally.acked[ack.kind] += 1
        problem = ack.check(verifier)
        if problem:
            tally.no_effect[ack.kind] += 1
            if len(tally.samples) < 25:
                tally.samples.append(f"[effect] {ack.kind} {ack.label} (request {ack.request_id}): {problem}")
        audit = verifier.audit_problem(ack)
        if audit:
            tally.no_audit[ack.kind] += 1
            age = (ack.killed_at - ack.acked_at) * 1000
            tally.audit_ages_ms.append(age)
            if len(tally.samples) < 25:
                tally.samples.append(f"[audit] {ack.kind} {ack.label} (request {ack.request_id}, acknowledged {age:.0f} ms before the kill): {audit}")


def report(tally: Tally, rounds: list, elapsed: float) -> str:
    lines = [f"{len(rounds)} rounds in {elapsed:.0f} s; per kind: acknowledged / without effect / without audit line"]
    for kind in sorted(tally.acked):
        lines.append(f"  {kind:32} {tally.acked[kind]:5} {tally.no_effect[kind]:5} {tally.no_audit[kind]:5}")
    refused = defaultdict(Counter)
    unanswered = Counter()
    for r in rounds:
        for kind, statuses in r.refused.items():
            refused[kind].update(statuses)
        unanswered.update(r.unanswered)
    if refused:
        lines.append("  not acknowledged (status: count): " + "; ".join(f"{k} {dict(v)}" for k, v in sorted(refused.items())))
    if unanswered:
        lines.append("  unanswered (connection cut by the kill): " + ", ".join(f"{k} {n}" for k, n in sorted(unanswered.items())))
    if tally.audit_ages_ms:
        ages = sorted(tally.audit_ages_ms)
        lines.append(f"  lost audit lines were acknowledged {ages[0]:.0f}..{ages[-1]:.0f} ms before the kill")
    samples = {}
    for r in rounds:
        samples.update(r.refusal_samples)
    for (kind, status), text in list(samples.items())[:8]:
        lines.append(f"  sample {kind} {status}: {text}")
    lines += ["  " + s for s in tally.samples]
    return "\n".join(lines)


def test_acknowledged_writes_and_their_audit_lines_survive_kill_9(kiln_bin, tmp_path):
    started = time.monotonic()
    server = kilnlib.start_kiln(kiln_bin, tmp_path)
    rounds, tally = [], Tally()
    try:
        warehouse = set_up(server)
        writer = Writer(server.host, server.admin_token, warehouse)
        rng = random.Random(20240607)
        for number in range(1, ROUNDS + 1):
            if time.monotonic() - started > TOTAL_BUDGET_SECONDS - 20:
                break
            round_ = new_round(server, number)
            write_until_killed(server, writer, round_, rng.uniform(*WRITE_SECONDS))
            rounds.append(round_)
            for ack in round_.acks:
                ack.killed_at = round_.killed_at
            server = kilnlib.crash_and_restart(kiln_bin, server)
            verify(Verifier(server, warehouse), round_.acks, tally)
        # Everything acknowledged in any round must also have survived the later crashes.
        final = Tally()
        verify(Verifier(server, warehouse), [a for r in rounds for a in r.acks], final)
        elapsed = time.monotonic() - started
        text = report(tally, rounds, elapsed)
        print("\n" + text)
        later = {k: final.no_effect[k] - tally.no_effect[k] for k in final.no_effect if final.no_effect[k] > tally.no_effect[k]}
        assert sum(tally.acked.values()) > 0, "no write was acknowledged at all:\n" + text
        assert not sum(tally.no_effect.values()) and not sum(tally.no_audit.values()) and not later, (
            "acknowledged writes lost their effect or audit line across kill -9:\n" + text
            + (f"\n  lost only after a later crash: {later}" if later else "")
        )
        assert len(rounds) == ROUNDS, f"only {len(rounds)} of {ROUNDS} rounds fit in {TOTAL_BUDGET_SECONDS} s"
    finally:
        problems = kilnlib.stop_kiln(server)
    assert not [p for p in problems if "panicked" in p], problems

"""Generated bad-input probes: no input may crash, wedge or poison Kiln, and every rejection
comes in the documented error shape of its route group.

For every write route of the API groups Kiln serves, hardening_catalogue*.py gives a valid
baseline body; hardening_inputs.py derives from the SDK's field types the mutations of each
field (wrong JSON types, unknown enum values, out-of-range numbers, control characters, 1 MiB
values), the whole-body mutations (deep nesting, trailing garbage, arrays and scalars for the
object, invalid UTF-8), query-string and path-parameter mutations, and positive cases (unknown
fields are ignored, as on Databricks). Each probe is one test that sends all its cases and fails
once, listing every failing case as `route field mutation -> status body[:200]` under its
root-cause tag:

- never a 5xx, never a hang (10 s per request), and the server answers SCIM Me afterwards;
- a rejection is a 4xx whose JSON body has the group's shape (`{error_code, message}`; SCIM's
  error schema under /api/2.0/preview/scim/v2; `{"error"}` under /api/1.2) and, for a bad field,
  names the field;
- a mutated write that is accepted is read back and its collection listed through the SDK
  ("poisoned" when that raises), then removed.

Probes run on their own server (rate limits off), so nothing they store disturbs other tests.
Set KILN_HARDENING_REPORT=/path.jsonl to also write every failure as a JSON line.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.parse
from collections import defaultdict
from typing import Any, Callable, Optional

import pytest
import requests
from databricks.sdk import errors

import kilnlib
import hardening_catalogue as catalogue
import hardening_catalogue_compute as compute_catalogue
from hardening_inputs import Case, judge, send, short

PROBES = {**catalogue.PROBES, **compute_catalogue.PROBES}
REQUEST_TIMEOUT_SECONDS = 10.0
ME = kilnlib.SCIM + "/Me"


class ProbeContext:
    """The server a probe writes to, with the objects it needs made on first use."""

    def __init__(self, server: kilnlib.KilnServer) -> None:
        self.server = server
        self.host = server.host
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {server.admin_token}"
        self.sdk = server.admin_client(retry_timeout_seconds=5, http_timeout_seconds=REQUEST_TIMEOUT_SECONDS)
        self.admin_name = self.sdk.current_user.me().user_name
        self._targets: dict[str, Any] = {}
        self.problems: list[tuple[str, str]] = []
        self.case: Optional[Case] = None
        self._log_offset = 0

    def new_panics(self) -> list[str]:
        """Lines about panics the server logged since the last call."""
        with open(self.server.log_dir / "stderr.log", "rb") as log:
            log.seek(self._log_offset)
            text = log.read()
            self._log_offset = log.tell()
        lines = re.sub(r"\x1b\[[0-9;]*m", "", text.decode("utf-8", "replace")).splitlines()
        return [line[:300] for line in lines if "panicked" in line]

    # names
    def unique(self, prefix: str) -> str:
        return kilnlib.unique(prefix)

    def uc_name(self, prefix: str) -> str:
        return kilnlib.uc_name(prefix)

    # raw calls for setup and cleanup
    def call(self, method: str, path: str, body: Any = None, query: Optional[str] = None, raw: Optional[bytes] = None) -> Any:
        url = self.host + path + (f"?{query}" if query else "")
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        response = self.session.request(method, url, data=data, headers={"Content-Type": "application/json"} if raw is None else {}, timeout=30)
        if not response.ok:
            raise AssertionError(f"setup call {method} {path} failed: {short(response)}")
        return response.json() if response.content and response.headers.get("Content-Type", "").startswith("application/json") else None

    def quiet(self, method: str, path: str, body: Any = None, query: Optional[str] = None, raw: Optional[bytes] = None) -> None:
        """A cleanup call: its failure only matters when the server fails (5xx or no answer)."""
        url = self.host + path + (f"?{query}" if query else "")
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        try:
            response = self.session.request(method, url, data=data, headers={"Content-Type": "application/json"} if raw is None else {}, timeout=REQUEST_TIMEOUT_SECONDS)
        except requests.RequestException as error:
            self.record("cleanup: no answer", f"{method} {path}: {type(error).__name__}")
            return
        if response.status_code >= 500:
            self.record("cleanup: 5xx", f"{method} {path} -> {short(response)}")

    def record(self, tag: str, text: str) -> None:
        prefix = f"{self.case.describe()}: " if self.case else ""
        self.problems.append((tag, prefix + text))

    def check(self, label: str, read: Callable[[], Any], allow_not_found: bool = False) -> None:
        """A read-back through the SDK after an accepted write; any error is a poisoned store."""
        try:
            read()
        except errors.NotFound:
            if not allow_not_found:
                self.record("poisoned: SDK read-back fails", f"{label} raised NotFound")
        except Exception as error:  # noqa: BLE001 - whatever the SDK raises is the finding
            message = str(error).split(" Config: ", 1)[0].replace("\n", "\\n")[:300]
            self.record("poisoned: SDK read-back fails", f"{label} raised {type(error).__name__}: {message}")

    def run_finishes(self, run_id: int, seconds: float = 3.0) -> None:
        """A run of condition tasks ends at once; one that does not is wedged."""
        deadline = time.monotonic() + seconds
        state = None
        while time.monotonic() < deadline:
            try:
                response = self.session.get(f"{self.host}{catalogue.JOBS}/runs/get", params={"run_id": run_id}, timeout=REQUEST_TIMEOUT_SECONDS)
            except requests.RequestException as error:
                self.record("wedged: run never finishes", f"runs/get of run {run_id}: {type(error).__name__}")
                return
            if response.status_code >= 500:
                self.record("poisoned: SDK read-back fails", f"runs/get of run {run_id} -> {short(response)}")
                return
            state = ((response.json() if response.ok else {}).get("state") or {}).get("life_cycle_state")
            if state in ("TERMINATED", "SKIPPED", "INTERNAL_ERROR"):
                return
            time.sleep(0.01)
        self.record("wedged: run never finishes", f"run {run_id} still {state} after {seconds:.0f} s")

    # targets: objects probes write to
    def target(self, name: str) -> Any:
        if name not in self._targets:
            self._targets[name] = TARGETS[name](self)
        return self._targets[name]

    def ref(self, name: str) -> str:
        """A placeholder for target `name` (or `name.attribute`) resolved when a case is sent,
        so a target remade after an accepted case is the one later cases reach."""
        return f"@@{name}@@"

    def reset(self, name: str) -> None:
        """Removes target `name` (best effort); the next use makes a new one."""
        value = self._targets.pop(name, None)
        remover = REMOVERS.get(name)
        if value is not None and remover:
            remover(self, value)

    def resolve_value(self, token: str) -> Any:
        name, _, attribute = token.partition(".")
        value = self.target(name)
        return value[attribute] if attribute else value

    def resolve(self, case: Case) -> Case:
        if "@@" not in case.path and (case.body is None or b"@@" not in case.body) and "@@" not in (case.query or ""):
            return case
        path, body, query = case.path, case.body, case.query
        for token in sorted({t for t in _tokens(path) | _tokens(query or "") | _tokens((body or b"").decode("latin-1"))}):
            value = self.resolve_value(token)
            path = path.replace(f"@@{token}@@", urllib.parse.quote(str(value), safe=""))
            if query:
                query = query.replace(f"@@{token}@@", urllib.parse.quote(str(value), safe=""))
            if body:
                body = body.replace(f'"@@{token}@@"'.encode(), json.dumps(value).encode())
                body = body.replace(f"@@{token}@@".encode(), json.dumps(str(value))[1:-1].encode())
        return Case(case.route, case.field, case.mutation, case.method, path, body, query, case.expect, case.names, case.headers)


def _tokens(text: str) -> set[str]:
    parts = text.split("@@")
    return {parts[i] for i in range(1, len(parts) - 1, 2)}


# --- targets ------------------------------------------------------------------------------------------


def _wait(ctx: ProbeContext, read: Callable[[], Any], done: Callable[[Any], bool], what: str, seconds: float = 30.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {seconds} s (last: {str(value)[:200]})")
        time.sleep(0.2)


def _cluster(ctx: ProbeContext, running: bool) -> str:
    cluster_id = ctx.call("POST", f"{catalogue.CLUSTERS}/create", compute_catalogue.cluster_spec(ctx))["cluster_id"]
    get = lambda: ctx.call("GET", f"{catalogue.CLUSTERS}/get", query=f"cluster_id={cluster_id}")
    state = _wait(ctx, get, lambda c: c["state"] in ("RUNNING", "TERMINATED", "ERROR"), f"cluster {cluster_id} starting")["state"]
    if running:
        assert state == "RUNNING", f"cluster {cluster_id} did not start: {state}"
        return cluster_id
    ctx.call("POST", f"{catalogue.CLUSTERS}/delete", {"cluster_id": cluster_id})
    _wait(ctx, get, lambda c: c["state"] == "TERMINATED", f"cluster {cluster_id} terminating")
    return cluster_id


def _context(ctx: ProbeContext) -> str:
    cluster_id = ctx.target("running_cluster")
    context_id = ctx.call("POST", "/api/1.2/contexts/create", {"clusterId": cluster_id, "language": "python"})["id"]
    _wait(ctx, lambda: ctx.call("GET", "/api/1.2/contexts/status", query=f"clusterId={cluster_id}&contextId={context_id}"), lambda s: s["status"] == "Running", "context starting")
    return context_id


def _finished_run(ctx: ProbeContext) -> int:
    run_id = ctx.call("POST", f"{catalogue.JOBS}/run-now", {"job_id": ctx.target("runs_job")})["run_id"]
    _wait(ctx, lambda: ctx.call("GET", f"{catalogue.JOBS}/runs/get", query=f"run_id={run_id}"), lambda r: r["state"]["life_cycle_state"] in ("TERMINATED", "INTERNAL_ERROR", "SKIPPED"), f"run {run_id} finishing")
    return run_id


def _table(ctx: ProbeContext) -> str:
    full = f"{ctx.target('home_schema')}.{ctx.uc_name('probe_table')}"
    answer = ctx.call("POST", "/api/2.0/sql/statements", {"statement": f"CREATE TABLE {full} (id INT)", "warehouse_id": ctx.target("starter"), "wait_timeout": "50s"})
    assert answer["status"]["state"] == "SUCCEEDED", answer
    return full


def _scim(segment: str, body: Callable[[ProbeContext], dict]) -> Callable[[ProbeContext], dict]:
    return lambda ctx: ctx.call("POST", f"{kilnlib.SCIM}/{segment}", body(ctx))


_user = _scim("Users", lambda ctx: {"userName": f"{ctx.unique('probe-target')}@example.com"})
_group = _scim("Groups", lambda ctx: {"displayName": ctx.unique("probe-target")})
_sp = _scim("ServicePrincipals", lambda ctx: {"displayName": ctx.unique("probe-target")})
_catalog = lambda ctx: ctx.call("POST", f"{catalogue.UC}/catalogs", {"name": ctx.uc_name("probe_target")})["name"]

TARGETS: dict[str, Callable[[ProbeContext], Any]] = {
    "user": _user, "stable_user": _user, "group": _group, "sp": _sp, "stable_sp": _sp, "secret_sp": _sp,
    "job": lambda ctx: ctx.call("POST", f"{catalogue.JOBS}/create", compute_catalogue.job_settings(ctx))["job_id"],
    "perm_job": lambda ctx: ctx.call("POST", f"{catalogue.JOBS}/create", compute_catalogue.job_settings(ctx))["job_id"],
    "runs_job": lambda ctx: ctx.call("POST", f"{catalogue.JOBS}/create", {**compute_catalogue.job_settings(ctx), "max_concurrent_runs": 1000, "schedule": None})["job_id"],
    "run": _finished_run,
    "cluster": lambda ctx: _cluster(ctx, running=False),
    "running_cluster": lambda ctx: _cluster(ctx, running=True),
    "context": _context,
    "warehouse": lambda ctx: ctx.call("POST", "/api/2.0/sql/warehouses", catalogue.warehouse_body(ctx))["id"],
    "starter": lambda ctx: kilnlib.starter_warehouse_id(ctx.sdk),
    "catalog": _catalog, "home_catalog": _catalog, "grant_catalog": _catalog,
    "schema": lambda ctx: ctx.call("POST", f"{catalogue.UC}/schemas", {"name": ctx.uc_name("probe_target"), "catalog_name": ctx.target("home_catalog")})["full_name"],
    "home_schema": lambda ctx: ctx.call("POST", f"{catalogue.UC}/schemas", {"name": ctx.uc_name("probe_home"), "catalog_name": ctx.target("home_catalog")})["full_name"],
    "volume": lambda ctx: ctx.call("POST", f"{catalogue.UC}/volumes", {"name": ctx.uc_name("probe_target"), "catalog_name": ctx.target("home_schema").split(".")[0], "schema_name": ctx.target("home_schema").split(".")[1], "volume_type": "MANAGED"})["full_name"],
    "home_volume": lambda ctx: ctx.call("POST", f"{catalogue.UC}/volumes", {"name": ctx.uc_name("probe_home"), "catalog_name": ctx.target("home_schema").split(".")[0], "schema_name": ctx.target("home_schema").split(".")[1], "volume_type": "MANAGED"})["full_name"],
    "function": lambda ctx: ctx.call("POST", f"{catalogue.UC}/functions", {"function_info": catalogue.function_info(ctx, *ctx.target("home_schema").split("."))})["full_name"],
    "table": _table,
    "query": lambda ctx: ctx.call("POST", "/api/2.0/sql/queries", {"query": catalogue.saved_query(ctx)})["id"],
    "destination": lambda ctx: ctx.call("POST", "/api/2.0/notification-destinations", {"display_name": ctx.unique("probe-target"), "config": {"generic_webhook": {"url": "https://example.com/hook"}}})["id"],
    "scope": lambda ctx: (lambda name: (ctx.call("POST", "/api/2.0/secrets/scopes/create", {"scope": name}), name)[1])(ctx.unique("probe-scope")),
    "folder": lambda ctx: (lambda path: (ctx.call("POST", "/api/2.0/workspace/mkdirs", {"path": path}), path)[1])(f"/Shared/{ctx.unique('probe')}"),
    "dbfs_dir": lambda ctx: (lambda path: (ctx.call("POST", "/api/2.0/dbfs/mkdirs", {"path": path}), path)[1])(f"/tmp/{ctx.unique('probe')}"),
    "dbfs_move_source": lambda ctx: (lambda path: (ctx.call("POST", "/api/2.0/dbfs/put", {"path": path, "contents": "eA==", "overwrite": True}), path)[1])(f"{ctx.target('dbfs_dir')}/{ctx.unique('move')}"),
    "dbfs_handle": lambda ctx: ctx.call("POST", "/api/2.0/dbfs/create", {"path": f"{ctx.target('dbfs_dir')}/{ctx.unique('handle')}", "overwrite": True})["handle"],
}

REMOVERS: dict[str, Callable[[ProbeContext, Any], None]] = {
    "user": lambda ctx, v: ctx.quiet("DELETE", f"{kilnlib.SCIM}/Users/{v['id']}"),
    "group": lambda ctx, v: ctx.quiet("DELETE", f"{kilnlib.SCIM}/Groups/{v['id']}"),
    "sp": lambda ctx, v: ctx.quiet("DELETE", f"{kilnlib.SCIM}/ServicePrincipals/{v['id']}"),
    "secret_sp": lambda ctx, v: ctx.quiet("DELETE", f"{kilnlib.SCIM}/ServicePrincipals/{v['id']}"),
    "job": lambda ctx, v: ctx.quiet("POST", f"{catalogue.JOBS}/delete", {"job_id": v}),
    "catalog": lambda ctx, v: ctx.quiet("DELETE", f"{catalogue.UC}/catalogs/{v}", query="force=true"),
    "schema": lambda ctx, v: ctx.quiet("DELETE", f"{catalogue.UC}/schemas/{v}", query="force=true"),
    "volume": lambda ctx, v: ctx.quiet("DELETE", f"{catalogue.UC}/volumes/{v}"),
    "function": lambda ctx, v: ctx.quiet("DELETE", f"{catalogue.UC}/functions/{v}"),
    "query": lambda ctx, v: ctx.quiet("DELETE", f"/api/2.0/sql/queries/{v}"),
    "destination": lambda ctx, v: ctx.quiet("DELETE", f"/api/2.0/notification-destinations/{v}"),
    "dbfs_handle": lambda ctx, v: ctx.quiet("POST", "/api/2.0/dbfs/close", {"handle": v}),
}


# --- running a probe -------------------------------------------------------------------------------------


def alive(ctx: ProbeContext) -> Optional[str]:
    """None when the server still answers SCIM Me with 200; otherwise what is wrong."""
    report = ctx.server.exit_report()
    if report:
        return report
    try:
        response = ctx.session.get(ctx.host + ME, timeout=REQUEST_TIMEOUT_SECONDS)
    except requests.RequestException as error:
        return f"GET {ME}: {type(error).__name__}"
    return None if response.status_code == 200 else f"GET {ME} -> {short(response)}"


def run_probe(ctx: ProbeContext, name: str) -> tuple[int, list[tuple[str, str]]]:
    ctx.problems = []
    probe = PROBES[name](ctx)
    ctx.new_panics()
    for index, case in enumerate(probe.cases):
        ctx.case = case
        try:
            sent = ctx.resolve(case)
            response = send(ctx.session, ctx.host, sent, REQUEST_TIMEOUT_SECONDS)
        except requests.Timeout:
            ctx.record("hang: no answer within 10 s", "")
            continue
        except requests.RequestException as error:
            # The server closed the connection without an answer: note it, and send the case
            # once more on a fresh connection to learn its answer.
            ctx.record("connection closed without an answer", f"{type(error).__name__}: {str(error)[:200]}")
            problem = alive(ctx)
            if problem:
                ctx.record("server down", problem)
                break
            try:
                response = send(ctx.session, ctx.host, sent, REQUEST_TIMEOUT_SECONDS)
            except requests.RequestException:
                continue
        before = len(ctx.problems)
        ctx.problems += judge(case, response)
        if 200 <= response.status_code < 300:
            try:
                answer = response.json() if response.content else None
            except ValueError:
                answer = None
            probe.after_accept(case, answer if isinstance(answer, dict) else None)
        for line in ctx.new_panics():
            ctx.record("panic logged (during this case or its read-back)", line)
        if any(tag == "5xx" or tag.startswith("poisoned") for tag, _ in ctx.problems[before:]):
            for name in probe.taint:
                ctx.reset(name)
        if index % 50 == 49 or index == len(probe.cases) - 1:
            problem = alive(ctx)
            if problem:
                ctx.record("server down or wedged after this case", problem)
                break
    ctx.case = None
    return len(probe.cases), ctx.problems


def report(name: str, count: int, problems: list[tuple[str, str]]) -> str:
    by_tag: dict[str, list[str]] = defaultdict(list)
    for tag, line in problems:
        by_tag[tag].append(line)
    parts = [f"{name}: {len(problems)} of {count} cases fail"]
    for tag in sorted(by_tag):
        parts.append(f"\n[{tag}] ({len(by_tag[tag])})")
        parts += [f"  {line}" for line in by_tag[tag]]
    return "\n".join(parts)


def save(name: str, count: int, problems: list[tuple[str, str]], seconds: float) -> None:
    path = os.environ.get("KILN_HARDENING_REPORT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps({"probe": name, "cases": count, "seconds": round(seconds, 1), "failures": [{"tag": t, "line": line} for t, line in problems]}) + "\n")


@pytest.fixture(scope="module")
def probe_server(launch_kiln):
    with launch_kiln() as running:
        yield ProbeContext(running)


@pytest.mark.parametrize("name", list(PROBES))
def test_bad_inputs_are_refused_in_shape_and_never_poison(probe_server, name):
    started = time.monotonic()
    count, problems = run_probe(probe_server, name)
    save(name, count, problems, time.monotonic() - started)
    assert not problems, report(name, count, problems)

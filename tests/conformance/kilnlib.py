"""Helpers shared by the conformance tests: run a `kiln serve` child, build SDK clients,
make non-admin identities, and remember every secret issued so tests can check for leaks.

Nothing here prints a token. Objects that hold one keep it out of their repr.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.clock import RealClock
from databricks.sdk.config import Config
from databricks.sdk import errors
from databricks.sdk.service import catalog, iam, sql

METADATA_PATH = "/.well-known/databricks-config"
SCIM = "/api/2.0/preview/scim/v2"
READY_TIMEOUT_SECONDS = 30
STOP_GRACE_SECONDS = 5
# The SDK retries connection errors and 429s for `retry_timeout_seconds` (default 300 s).
# A bounded budget keeps a dead server from stalling every test for five minutes.
CLIENT_RETRY_TIMEOUT_SECONDS = 30
PATCH_SCHEMAS = [iam.PatchSchema.URN_IETF_PARAMS_SCIM_API_MESSAGES_2_0_PATCH_OP]


def unique(prefix: str) -> str:
    """A name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def uc_name(prefix: str) -> str:
    """A unique securable name that needs no quoting in SQL (underscores, not hyphens)."""
    return unique(prefix).replace("-", "_")


def server_message(error: errors.DatabricksError) -> str:
    """The server's message: for 401 and 403 the SDK appends " Config: ..." to it."""
    return str(error).split(" Config: ", 1)[0]


def grants_of(response) -> dict[str, set[str]]:
    """`{principal: {"USE_CATALOG", ...}}` from a grants.get / grants.update response."""
    return {
        assignment.principal: {p.value for p in assignment.privileges or [] if p}
        for assignment in response.privilege_assignments or []
    }


def new_admin_token() -> str:
    """A token in the PAT format: `dapi` and 32 hex characters."""
    return "dapi" + secrets.token_hex(16)


# --- secrets issued during the session ------------------------------------------------------


class IssuedSecrets:
    """Every token value and OAuth secret the tests obtain, with a label to report instead
    of the value itself."""

    def __init__(self) -> None:
        self._items: list[tuple[str, str]] = []

    def add(self, label: str, value: Optional[str]) -> Optional[str]:
        if value:
            self._items.append((label, value))
        return value

    def found_in(self, text: str) -> list[str]:
        """Labels of the secrets that occur in `text` (never the values)."""
        return [label for label, value in self._items if value in text]

    def __repr__(self) -> str:
        return f"IssuedSecrets({len(self._items)} values)"


ISSUED_SECRETS = IssuedSecrets()


# --- SDK clients ----------------------------------------------------------------------------


def workspace_client(host: str, *, clock=None, **settings) -> WorkspaceClient:
    """A WorkspaceClient for `host`. Build it only once the server answers: the constructor
    GETs /.well-known/databricks-config and retries while the host is down."""
    settings.setdefault("retry_timeout_seconds", CLIENT_RETRY_TIMEOUT_SECONDS)
    return WorkspaceClient(config=Config(host=host, clock=clock, **settings))


def pat_client(host: str, token: str, **settings) -> WorkspaceClient:
    return workspace_client(host, token=token, auth_type="pat", **settings)


def oauth_client(host: str, client_id: str, client_secret: str, **settings) -> WorkspaceClient:
    """OAuth M2M through the SDK's default credential chain (no auth_type override)."""
    return workspace_client(host, client_id=client_id, client_secret=client_secret, **settings)


def bearer_of(client: WorkspaceClient) -> str:
    """The token the client currently sends (fetching an OAuth token if it has none)."""
    header = client.config.authenticate()["Authorization"]
    return header.split(" ", 1)[1]


class FastForwardClock(RealClock):
    """Real time, but `sleep` jumps the clock forward instead of blocking. The SDK's retry
    loop then reaches its deadline at once instead of waiting out a `Retry-After`."""

    def __init__(self) -> None:
        self._skipped = 0.0

    def time(self) -> float:
        return time.time() + self._skipped

    def sleep(self, seconds: float) -> None:
        self._skipped += seconds


# --- the kiln child process -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class KilnServer:
    host: str
    admin_token: str = field(repr=False)
    process: subprocess.Popen = field(repr=False)
    log_dir: Path

    @property
    def stderr(self) -> str:
        return (self.log_dir / "stderr.log").read_text(errors="replace")

    def stderr_tail(self, lines: int = 60) -> str:
        return "\n".join(self.stderr.splitlines()[-lines:]) or "<empty>"

    def auth_headers(self, token: Optional[str] = None) -> dict:
        return {"Authorization": f"Bearer {token or self.admin_token}"}

    def admin_client(self, **settings) -> WorkspaceClient:
        return pat_client(self.host, self.admin_token, **settings)

    def request(self, method: str, path: str, *, token: Optional[str] = None, **kwargs) -> requests.Response:
        """A raw authenticated request (admin unless `token` is given)."""
        headers = {**self.auth_headers(token), **kwargs.pop("headers", {})}
        return requests.request(method, self.host + path, headers=headers, timeout=30, **kwargs)

    def exit_report(self) -> Optional[str]:
        """None while the child runs; otherwise why it is gone, with its stderr."""
        code = self.process.poll()
        if code is None:
            return None
        return f"kiln exited early with code {code}; stderr:\n{self.stderr_tail()}"


def _child_env(admin_token: str, rate_limits_off: bool, samples: bool) -> dict:
    # DATABRICKS_* and KILN_* from the caller's shell must not leak into the child.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "KILN_"))}
    env["KILN_ADMIN_TOKEN"] = admin_token
    env["KILN_LOG"] = "warn"
    if rate_limits_off:
        env["KILN_RATE_LIMITS"] = "off"
    # Generating the TPC-H samples costs seconds of CPU per server; only a config that asks
    # for them (samples_scale = ...) gets them.
    if not samples:
        env["KILN_SAMPLES_SCALE"] = "0"
    return env


def _wait_until_ready(server: KilnServer) -> None:
    url = server.host + METADATA_PATH
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    last_problem = "no answer yet"
    while time.monotonic() < deadline:
        report = server.exit_report()
        if report:
            raise RuntimeError(report)
        try:
            response = requests.get(url, timeout=2)
            if response.status_code == 200:
                return
            last_problem = f"HTTP {response.status_code}"
        except requests.RequestException as error:
            last_problem = type(error).__name__
        time.sleep(0.2)
    raise RuntimeError(
        f"kiln did not answer GET {METADATA_PATH} within {READY_TIMEOUT_SECONDS} s "
        f"(last: {last_problem}); stderr:\n{server.stderr_tail()}"
    )


def start_kiln(binary: str, workdir: Path, config_toml: Optional[str] = None) -> KilnServer:
    """Starts `kiln serve` on a free port and waits until it answers. With `config_toml` the
    file is passed with `--config` and rate limits are left to it; otherwise they are off."""
    data_dir = workdir / "data"
    data_dir.mkdir()
    port = free_port()
    args = [binary, "serve", "--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"]
    if config_toml is not None:
        config_path = workdir / "kiln.toml"
        config_path.write_text(config_toml)
        args += ["--config", str(config_path)]
    admin_token = new_admin_token()
    ISSUED_SECRETS.add("admin token", admin_token)
    with open(workdir / "stdout.log", "wb") as stdout, open(workdir / "stderr.log", "wb") as stderr:
        process = subprocess.Popen(
            args,
            env=_child_env(admin_token, rate_limits_off=config_toml is None, samples="samples_scale" in (config_toml or "")),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )
    server = KilnServer(f"http://127.0.0.1:{port}", admin_token, process, workdir)
    try:
        _wait_until_ready(server)
    except RuntimeError:
        stop_kiln(server)
        raise
    return server


def stop_kiln(server: KilnServer) -> list[str]:
    """SIGTERM, then SIGKILL after a grace period. Returns what went wrong, if anything."""
    problems = []
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            problems.append(f"did not exit within {STOP_GRACE_SECONDS} s of SIGTERM and was killed")
    if process.returncode != 0:
        problems.append(f"exited with code {process.returncode}")
    log_text = server.stderr + (server.log_dir / "stdout.log").read_text(errors="replace")
    panics = [line for line in log_text.splitlines() if "panicked" in line]
    if panics:
        problems.append("panicked:\n" + "\n".join(panics))
    return problems


def crash_and_restart(binary: str, server: KilnServer) -> KilnServer:
    """SIGKILLs the server (a crash: nothing is flushed or shut down) and starts it again on
    the same data directory, port and admin token."""
    server.process.kill()
    server.process.wait()
    port = server.host.rsplit(":", 1)[1]
    args = [binary, "serve", "--data-dir", str(server.log_dir / "data"), "--listen", f"127.0.0.1:{port}"]
    with open(server.log_dir / "stdout.log", "ab") as stdout, open(server.log_dir / "stderr.log", "ab") as stderr:
        process = subprocess.Popen(args, env=_child_env(server.admin_token, rate_limits_off=True, samples=False), stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
    restarted = KilnServer(server.host, server.admin_token, process, server.log_dir)
    _wait_until_ready(restarted)
    return restarted


RUNNING_SERVERS: list[KilnServer] = []


@contextlib.contextmanager
def running_kiln(binary: str, workdir: Path, config_toml: Optional[str] = None) -> Iterator[KilnServer]:
    try:
        server = start_kiln(binary, workdir, config_toml)
    except RuntimeError as error:
        start_failure = str(error)
    else:
        start_failure = None
    if start_failure:
        pytest.fail(start_failure, pytrace=False)
    RUNNING_SERVERS.append(server)
    try:
        yield server
    finally:
        RUNNING_SERVERS.remove(server)
        problems = stop_kiln(server)
    if problems:
        pytest.fail(
            f"kiln at {server.host}: " + "; ".join(problems) + f"\nstderr tail:\n{server.stderr_tail()}",
            pytrace=False,
        )


# --- identities -----------------------------------------------------------------------------


@dataclass
class NonAdmin:
    """A service principal outside `admins`, with a client using an on-behalf-of token."""

    sp: iam.ServicePrincipal
    client: WorkspaceClient = field(repr=False)
    token_id: str

    @property
    def name(self) -> str:
        """The name grants and `current_user()` use: the application id."""
        return self.sp.application_id


def create_non_admin(server: KilnServer, admin: WorkspaceClient) -> NonAdmin:
    sp = admin.service_principals.create(display_name=unique("kiln-sp"))
    obo = admin.token_management.create_obo_token(application_id=sp.application_id, lifetime_seconds=3600)
    ISSUED_SECRETS.add("on-behalf-of token", obo.token_value)
    return NonAdmin(sp=sp, client=pat_client(server.host, obo.token_value), token_id=obo.token_info.token_id)


def group_names(principal) -> set[str]:
    return {g.display for g in principal.groups or []}


def group_ids(principal) -> set[str]:
    return {g.value for g in principal.groups or []}


# --- SQL statements ---------------------------------------------------------------------------

STARTER_WAREHOUSE = "Starter Warehouse"


def starter_warehouse_id(client: WorkspaceClient) -> str:
    """The id of the warehouse every fresh workspace has."""
    for warehouse in client.warehouses.list():
        if warehouse.name == STARTER_WAREHOUSE:
            return warehouse.id
    pytest.fail(f"no warehouse named {STARTER_WAREHOUSE!r} in a fresh workspace", pytrace=False)


def describe_statement(response: sql.StatementResponse) -> str:
    """The state and error of a statement response, for assertion messages."""
    status = response.status
    if status is None:
        return "no status"
    text = f"state {status.state.value if status.state else None}"
    if status.error:
        code = status.error.error_code.value if status.error.error_code else None
        text += f", error_code {code}: {status.error.message}"
    return text


class SqlClient:
    """Runs statements as one client on one warehouse through the Statement Execution API."""

    def __init__(self, client: WorkspaceClient, warehouse_id: str) -> None:
        self.client = client
        self.warehouse_id = warehouse_id

    def execute(self, statement: str, **kwargs) -> sql.StatementResponse:
        kwargs.setdefault("wait_timeout", "50s")
        return self.client.statement_execution.execute_statement(
            statement=statement, warehouse_id=kwargs.pop("warehouse_id", self.warehouse_id), **kwargs
        )

    def ok(self, statement: str, **kwargs) -> sql.StatementResponse:
        """Runs `statement` and requires it to succeed."""
        response = self.execute(statement, **kwargs)
        assert response.status and response.status.state == sql.StatementState.SUCCEEDED, (
            f"{statement!r}: {describe_statement(response)}"
        )
        return response

    def rows(self, statement: str, **kwargs) -> list:
        """The rows of the first (for small results: only) chunk of a statement that must succeed."""
        response = self.ok(statement, **kwargs)
        return (response.result.data_array if response.result else None) or []

    def error(self, statement: str, *, error_code: str = "BAD_REQUEST", **kwargs) -> str:
        """Runs `statement`, requires it to fail (HTTP 200, state FAILED) and returns the message."""
        response = self.execute(statement, **kwargs)
        status = response.status
        assert status and status.state == sql.StatementState.FAILED, f"{statement!r}: {describe_statement(response)}"
        assert status.error and status.error.error_code and status.error.error_code.value == error_code, (
            f"{statement!r}: {describe_statement(response)}"
        )
        assert response.manifest is None and response.result is None, "a failed statement has no result"
        return status.error.message


def insufficient(privilege: str, securable: str) -> str:
    """Databricks' message for a missing privilege, as a FAILED statement carries it."""
    return f"[INSUFFICIENT_PERMISSIONS] Insufficient privileges:\nUser does not have {privilege} on {securable}. SQLSTATE: 42501"


def records(response: sql.StatementResponse) -> list[dict]:
    """The first chunk's rows as dicts keyed by column name."""
    names = [c.name for c in response.manifest.schema.columns]
    return [dict(zip(names, row)) for row in (response.result.data_array or [])]


def grant(admin: WorkspaceClient, securable_type: str, full_name: str, principal: str, *privileges) -> None:
    """Grants Unity Catalog `privileges` on a securable to `principal`, over REST."""
    change = catalog.PermissionsChange(principal=principal, add=list(privileges))
    admin.grants.update(securable_type=securable_type, full_name=full_name, changes=[change])


def let_use_schema(admin: WorkspaceClient, schema: str, principal: str) -> None:
    """USE CATALOG and USE SCHEMA for `principal` on `catalog.schema`: what it needs to reach
    anything inside."""
    grant(admin, "catalog", schema.split(".")[0], principal, catalog.Privilege.USE_CATALOG)
    grant(admin, "schema", schema, principal, catalog.Privilege.USE_SCHEMA)

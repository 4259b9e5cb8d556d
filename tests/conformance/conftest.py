"""Fixtures for the Python SDK conformance suite.

Run from the repository root:

    KILN_BIN=/path/to/kiln python -m pytest tests/conformance -q

Each session starts its own `kiln serve` on a free port with a fresh data directory and a
generated admin token. Tests that change workspace-wide state start a dedicated server
through `launch_kiln`.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from databricks.sdk import errors

import kilnlib
from kilnlib import SqlClient, starter_warehouse_id, uc_name

# Settings from the caller's shell (DATABRICKS_HOST, DATABRICKS_TOKEN, ...) would mix into
# every Config the tests build; the suite configures clients explicitly.
for _name in [n for n in os.environ if n.startswith("DATABRICKS_")]:
    del os.environ[_name]


@pytest.fixture(scope="session")
def kiln_bin() -> str:
    path = os.environ.get("KILN_BIN")
    if not path:
        pytest.fail("KILN_BIN is not set: point it at a built kiln binary (KILN_BIN=/path/to/kiln)", pytrace=False)
    if not (Path(path).is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"KILN_BIN={path} is not an executable file", pytrace=False)
    return path


@pytest.fixture(scope="session")
def launch_kiln(kiln_bin, tmp_path_factory):
    """`with launch_kiln(config_toml=None) as server:` starts one more kiln child."""

    def launch(config_toml: str | None = None):
        return kilnlib.running_kiln(kiln_bin, tmp_path_factory.mktemp("kiln"), config_toml)

    return launch


@pytest.fixture(scope="session")
def server(launch_kiln) -> kilnlib.KilnServer:
    """The shared server: host URL and admin token. Rate limits are off."""
    with launch_kiln() as running:
        yield running


@pytest.fixture(scope="session")
def admin(server):
    return server.admin_client()


@pytest.fixture
def make_non_admin(server, admin):
    """Factory: a new service principal (not an admin) and a client acting as it."""
    return lambda: kilnlib.create_non_admin(server, admin)


@pytest.fixture
def non_admin(make_non_admin) -> kilnlib.NonAdmin:
    return make_non_admin()


TEST_TIME_LIMIT_SECONDS = 60


def _time_limit_exceeded(signum, frame):
    pytest.fail(
        f"test ran over {TEST_TIME_LIMIT_SECONDS} s: a call that never returns, or an SDK list "
        "that never ends (a SCIM list that ignores startIndex loops forever)",
        pytrace=False,
    )


@pytest.fixture(autouse=True)
def _time_limit():
    """No test may hang the suite (pytest-timeout is not a dependency)."""
    previous = signal.signal(signal.SIGALRM, _time_limit_exceeded)
    signal.alarm(TEST_TIME_LIMIT_SECONDS)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture(autouse=True)
def _kiln_still_running():
    """Fail fast, with the child's stderr, when a server died during the previous test."""
    for running in kilnlib.RUNNING_SERVERS:
        report = running.exit_report()
        if report:
            pytest.fail(report, pytrace=False)
    yield


# --- SQL: the starter warehouse, statement clients, throwaway catalogs ---------------------


@pytest.fixture(scope="module")
def warehouse_id(admin) -> str:
    return starter_warehouse_id(admin)


@pytest.fixture(scope="module")
def admin_sql(admin, warehouse_id) -> SqlClient:
    return SqlClient(admin, warehouse_id)


@pytest.fixture
def sp_sql(non_admin, warehouse_id) -> SqlClient:
    """Statements as the non-admin service principal (group `users` may use the warehouse)."""
    return SqlClient(non_admin.client, warehouse_id)


@pytest.fixture
def make_catalog(admin, admin_sql):
    """Factory: a new catalog made in SQL by the admin; all are dropped (force) afterwards."""
    made = []

    def make() -> str:
        name = uc_name("kiln_sql")
        admin_sql.ok(f"CREATE CATALOG {name}")
        made.append(name)
        return name

    yield make
    for name in made:
        try:
            admin.catalogs.delete(name, force=True)
        except errors.NotFound:
            pass


@pytest.fixture
def schema(admin_sql, make_catalog) -> str:
    """`catalog.schema` of a new, empty schema."""
    full_name = f"{make_catalog()}.{uc_name('kiln_schema')}"
    admin_sql.ok(f"CREATE SCHEMA {full_name}")
    return full_name

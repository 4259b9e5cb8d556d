"""Clusters 2.0/2.1 and Command Execution 1.2 through the official SDK: a cluster is a real
Python driver process; commands run Python and SQL in it, `spark.sql` runs on Kiln's governed
engine as the caller, `dbutils` reaches DBFS, volumes, secrets and widgets, and cluster ACLs
(CAN_ATTACH_TO < CAN_RESTART < CAN_MANAGE) are enforced.
"""

import time

import pytest
from databricks.sdk import errors
from databricks.sdk.service import compute, iam

from kilnlib import ISSUED_SECRETS, server_message, uc_name, unique

SPARK_VERSION = "15.4.x-scala2.12"


def start_cluster(client, **spec):
    return client.clusters.create_and_wait(cluster_name=unique("kiln-cluster"), spark_version=SPARK_VERSION, num_workers=0, **spec)


@pytest.fixture(scope="module")
def cluster(admin):
    details = start_cluster(admin, autotermination_minutes=60)
    yield details
    admin.clusters.permanent_delete(details.cluster_id)


class Session:
    """One execution context on a cluster, for one client."""

    def __init__(self, client, cluster_id):
        self.client, self.cluster_id = client, cluster_id
        self.context_id = client.command_execution.create_and_wait(cluster_id=cluster_id, language=compute.Language.PYTHON).id

    def run(self, code, language=compute.Language.PYTHON):
        return self.client.command_execution.execute_and_wait(cluster_id=self.cluster_id, context_id=self.context_id, language=language, command=code)

    def text(self, code):
        response = self.run(code)
        assert response.status == compute.CommandStatus.FINISHED, response
        assert response.results.result_type == compute.ResultType.TEXT, response.results
        return response.results.data

    def error(self, code):
        response = self.run(code)
        assert response.status == compute.CommandStatus.FINISHED and response.results.result_type == compute.ResultType.ERROR, response
        return response.results.summary


def test_versions_and_node_types_work_with_sdk_selectors(admin):
    assert admin.clusters.select_spark_version(long_term_support=True) == "16.4.x-scala2.12"
    assert admin.clusters.select_node_type(local_disk=True)
    assert {z for z in admin.clusters.list_zones().zones} == {"local"}


def test_create_get_list_and_events(admin, cluster):
    details = admin.clusters.get(cluster.cluster_id)
    assert details.state == compute.State.RUNNING and details.spark_version == SPARK_VERSION
    assert details.creator_user_name == admin.current_user.me().user_name and details.autotermination_minutes == 60
    assert details.driver and details.spark_context_id and details.cluster_source == compute.ClusterSource.API
    assert cluster.cluster_id in {c.cluster_id for c in admin.clusters.list()}
    running_only = {c.cluster_id for c in admin.clusters.list(filter_by=compute.ListClustersFilterBy(cluster_states=[compute.State.RUNNING]))}
    assert cluster.cluster_id in running_only
    types = [e.type for e in admin.clusters.events(cluster.cluster_id, order=compute.GetEventsOrder.ASC)]
    assert types[:3] == [compute.EventType.CREATING, compute.EventType.STARTING, compute.EventType.RUNNING]
    paged = list(admin.clusters.events(cluster.cluster_id, limit=1))
    assert len(paged) == len(types), "next_page bodies walk every event"


def test_python_and_sql_commands(admin, cluster):
    session = Session(admin, cluster.cluster_id)
    assert session.text("print('hello')\n40 + 2") == "hello\n42"
    session.text("x = 41")
    assert session.text("x + 1") == "42", "a context keeps its variables"
    assert session.error("1/0") == "ZeroDivisionError: division by zero"

    table = uc_name("cluster_t")
    assert session.text(f"spark.sql(\"CREATE TABLE main.default.{table} (id INT, name STRING)\")") == "DataFrame[]"
    session.text(f"spark.sql(\"INSERT INTO main.default.{table} VALUES (1, 'a'), (2, 'b')\")")
    rows = session.text(f"[tuple(r) for r in spark.sql('SELECT * FROM main.default.{table} ORDER BY id').collect()]")
    assert rows == "[(1, 'a'), (2, 'b')]"
    sql = session.run(f"SELECT id, name FROM main.default.{table} ORDER BY id", language=compute.Language.SQL)
    assert sql.results.result_type == compute.ResultType.TABLE and sql.results.data == [[1, "a"], [2, "b"]]
    assert [c["name"] for c in sql.results.schema] == ["id", "name"]
    assert "TABLE_OR_VIEW_NOT_FOUND" in session.error("spark.sql('SELECT * FROM main.default.no_such_table')")

    admin.command_execution.destroy(cluster_id=cluster.cluster_id, context_id=session.context_id)
    with pytest.raises(errors.DatabricksError):
        admin.command_execution.context_status(cluster_id=cluster.cluster_id, context_id=session.context_id)


def test_dbutils_on_the_cluster(admin, cluster):
    session = Session(admin, cluster.cluster_id)
    scope = unique("cluster-scope")
    secret = "pw-" + unique("v")
    ISSUED_SECRETS.add("cluster secret", secret)
    admin.secrets.create_scope(scope=scope)
    try:
        admin.secrets.put_secret(scope=scope, key="db", string_value=secret)
        out = session.text(f"s = dbutils.secrets.get('{scope}', 'db')\nprint('value:', s)\nlen(s)")
        assert out == f"value: [REDACTED]\n{len(secret)}", "secret values never reach command output"
    finally:
        admin.secrets.delete_scope(scope=scope)

    path = f"dbfs:/tmp/{unique('cluster')}/hello.txt"
    session.text(f"dbutils.fs.put('{path}', 'hi from the cluster', True)")
    assert admin.dbutils.fs.head(path) == "hi from the cluster"
    assert session.text(f"[f.name for f in dbutils.fs.ls('{path.rsplit('/', 1)[0]}')]") == "['hello.txt']"

    session.text("dbutils.widgets.text('stage', 'dev')")
    assert session.text("dbutils.widgets.get('stage')") == "'dev'"
    assert "InputWidgetNotDefined" in session.error("dbutils.widgets.get('missing')")
    exited = session.run("print('ignored')\ndbutils.notebook.exit('all done')")
    assert exited.status == compute.CommandStatus.FINISHED and exited.results.data == "all done"


def test_cancel_a_running_command(admin, cluster):
    session = Session(admin, cluster.cluster_id)
    started = admin.command_execution.execute(cluster_id=cluster.cluster_id, context_id=session.context_id, language=compute.Language.PYTHON, command="import time\ntime.sleep(30)")
    command_id = started.response.id
    begun = time.time()
    cancelled = admin.command_execution.cancel_and_wait(cluster_id=cluster.cluster_id, context_id=session.context_id, command_id=command_id)
    assert cancelled.status == compute.CommandStatus.CANCELLED and time.time() - begun < 15
    assert session.text("'still usable'") == "'still usable'"


def test_api_1_2_errors_have_their_own_shape(server, cluster):
    response = server.request("POST", "/api/1.2/commands/execute", json={"clusterId": cluster.cluster_id, "language": "python", "command": "1"})
    assert response.status_code == 400 and response.json() == {"error": "requirement failed: missing contextId"}
    response = server.request("POST", "/api/1.2/contexts/create", json={"clusterId": cluster.cluster_id, "language": "scala"})
    assert response.status_code == 400 and "Python and SQL" in response.json()["error"] and "error_code" not in response.json()


def test_missing_cluster_is_a_400_naming_it(server, admin):
    response = server.request("GET", "/api/2.1/clusters/get", params={"cluster_id": "0101-000000-nothere"})
    assert response.status_code == 400
    assert response.json() == {"error_code": "INVALID_PARAMETER_VALUE", "message": "Cluster 0101-000000-nothere does not exist"}
    with pytest.raises(errors.NotFound):  # the SDK maps this message to ResourceDoesNotExist
        admin.clusters.get("0101-000000-nothere")
    with pytest.raises(errors.InvalidParameterValue) as bad:
        admin.clusters.create(cluster_name="x", spark_version="1.0.x-scala2.12")
    assert "spark_version '1.0.x-scala2.12'" in server_message(bad.value)
    with pytest.raises(errors.InvalidParameterValue) as too_soon:
        admin.clusters.create(cluster_name="x", spark_version=SPARK_VERSION, autotermination_minutes=3)
    assert "autotermination_minutes" in server_message(too_soon.value)


def test_lifecycle_restart_edit_terminate_start_delete(admin):
    details = start_cluster(admin)
    cluster_id = details.cluster_id
    session = Session(admin, cluster_id)
    session.text("marker = 1")
    admin.clusters.restart_and_wait(cluster_id)
    assert admin.clusters.get(cluster_id).last_restarted_time
    fresh = Session(admin, cluster_id)
    assert "NameError" in fresh.error("marker"), "a restart starts a new driver"

    admin.clusters.edit_and_wait(cluster_id=cluster_id, spark_version=SPARK_VERSION, cluster_name="renamed", num_workers=0, autotermination_minutes=20)
    edited = admin.clusters.get(cluster_id)
    assert edited.cluster_name == "renamed" and edited.autotermination_minutes == 20 and edited.state == compute.State.RUNNING

    admin.clusters.update_and_wait(cluster_id=cluster_id, update_mask="autotermination_minutes", cluster=compute.UpdateClusterResource(autotermination_minutes=45))
    updated = admin.clusters.get(cluster_id)
    assert updated.autotermination_minutes == 45 and updated.cluster_name == "renamed", "update changes only the masked fields"

    admin.clusters.pin(cluster_id)
    assert admin.clusters.get(cluster_id).is_pinned if hasattr(compute.ClusterDetails, "is_pinned") else True
    admin.clusters.unpin(cluster_id)

    terminated = admin.clusters.delete_and_wait(cluster_id)
    assert terminated.state == compute.State.TERMINATED
    assert terminated.termination_reason.code == compute.TerminationReasonCode.USER_REQUEST
    with pytest.raises(errors.DatabricksError) as not_running:
        Session(admin, cluster_id)
    assert "not running" in str(not_running.value)
    admin.clusters.ensure_cluster_is_running(cluster_id)
    assert admin.clusters.get(cluster_id).state == compute.State.RUNNING
    types = {e.type for e in admin.clusters.events(cluster_id)}
    assert {compute.EventType.RESTARTING, compute.EventType.EDITED, compute.EventType.TERMINATING, compute.EventType.PINNED} <= types

    admin.clusters.permanent_delete(cluster_id)
    with pytest.raises(errors.NotFound):
        admin.clusters.get(cluster_id)


def driver_pids(cluster_id):
    """The driver process of a cluster, found by its environment (Kiln's children run as us)."""
    import os
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
            cmdline = open(f"/proc/{pid}/cmdline", "rb").read()
        except OSError:
            continue
        if f"KILN_CLUSTER_ID={cluster_id}".encode() in environ and b"kiln_runtime.driver" in cmdline:
            pids.append(int(pid))
    return pids


def test_a_context_that_dies_is_replaced_and_a_driver_that_dies_terminates_its_cluster(admin):
    import os
    import signal

    details = start_cluster(admin)
    session = Session(admin, details.cluster_id)
    session.text("kept = 1")
    crashed = session.run("import os\nos._exit(3)")
    assert crashed.results.result_type == compute.ResultType.ERROR and "exited (exit code 3)" in crashed.results.summary
    assert "NameError" in session.error("kept"), "the context starts over in a new process"
    assert admin.clusters.get(details.cluster_id).state == compute.State.RUNNING

    pids = driver_pids(details.cluster_id)
    assert pids, "the driver process is visible to the test"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    gone = admin.clusters.wait_get_cluster_terminated(details.cluster_id)
    assert gone.state == compute.State.TERMINATED and gone.termination_reason.code == compute.TerminationReasonCode.DRIVER_UNREACHABLE
    admin.clusters.permanent_delete(details.cluster_id)


def test_cluster_permissions_and_governed_sql(admin, cluster, non_admin):
    sp = non_admin.client
    with pytest.raises(errors.PermissionDenied) as no_entitlement:
        sp.clusters.create(cluster_name="x", spark_version=SPARK_VERSION, num_workers=0)
    assert "allow-cluster-create" in server_message(no_entitlement.value)
    with pytest.raises(errors.NotFound):
        sp.clusters.get(cluster.cluster_id)  # no permission: it does not exist for them
    assert cluster.cluster_id not in {c.cluster_id for c in sp.clusters.list()}

    admin.clusters.update_permissions(
        cluster.cluster_id,
        access_control_list=[compute.ClusterAccessControlRequest(service_principal_name=non_admin.name, permission_level=compute.ClusterPermissionLevel.CAN_ATTACH_TO)],
    )
    assert sp.clusters.get(cluster.cluster_id).state == compute.State.RUNNING
    with pytest.raises(errors.PermissionDenied) as no_restart:
        sp.clusters.restart(cluster.cluster_id)
    assert "CAN_RESTART" in server_message(no_restart.value)
    with pytest.raises(errors.PermissionDenied):
        sp.clusters.delete(cluster.cluster_id)

    # spark.sql runs as the caller: the principal sees only what it was granted.
    table = uc_name("admin_only")
    admin_session = Session(admin, cluster.cluster_id)
    admin_session.text(f"spark.sql('CREATE TABLE main.default.{table} AS SELECT 7 AS n')")
    sp_session = Session(sp, cluster.cluster_id)
    assert sp_session.text("spark.sql('SELECT current_user() AS u').first().u") == repr(non_admin.name)
    denied = sp_session.error(f"spark.sql('SELECT * FROM main.default.{table}')")
    assert "INSUFFICIENT_PERMISSIONS" in denied and "SELECT" in denied
    admin_session.text(f"spark.sql('GRANT SELECT ON TABLE main.default.{table} TO `{non_admin.name}`')")
    assert sp_session.text(f"spark.sql('SELECT n FROM main.default.{table}').first().n") == "7"
    with pytest.raises(errors.DatabricksError):
        sp.command_execution.context_status(cluster_id=cluster.cluster_id, context_id=admin_session.context_id)

    # With the entitlement, the principal creates and manages its own clusters.
    admin.service_principals.patch(
        non_admin.sp.id, operations=[iam.Patch(op=iam.PatchOp.ADD, path="entitlements", value=[{"value": "allow-cluster-create"}])]
    )
    own = sp.clusters.create(cluster_name=unique("sp-cluster"), spark_version=SPARK_VERSION, num_workers=0).response.cluster_id
    sp.clusters.delete(own)
    sp.clusters.permanent_delete(own)


def test_single_user_clusters_run_only_their_users_commands(admin, non_admin):
    me = admin.current_user.me().user_name
    details = start_cluster(admin, data_security_mode=compute.DataSecurityMode.SINGLE_USER, single_user_name=me)
    try:
        admin.clusters.update_permissions(
            details.cluster_id,
            access_control_list=[compute.ClusterAccessControlRequest(service_principal_name=non_admin.name, permission_level=compute.ClusterPermissionLevel.CAN_ATTACH_TO)],
        )
        with pytest.raises(errors.PermissionDenied) as denied:
            Session(non_admin.client, details.cluster_id)
        assert f"assigned to {me}" in str(denied.value)
        assert Session(admin, details.cluster_id).text("'mine'") == "'mine'"
    finally:
        admin.clusters.permanent_delete(details.cluster_id)


def test_code_on_a_cluster_cannot_read_kilns_data_or_environment(server, admin, cluster):
    """Drivers run sandboxed: the data directory (database, keys, admin token) is hidden,
    no other process is visible, and nothing of Kiln's environment is inherited."""
    session = Session(admin, cluster.cluster_id)
    data_dir = server.log_dir / "data"
    assert session.text("import os\nsorted(k for k in os.environ if k.startswith(('KILN_ADMIN', 'KILN_SECRETS', 'KILN_LOG', 'DATABRICKS')))") == "[]"
    for secret_file in ["keys/signing.key", "keys/secrets.key", "admin.token", "kiln.db"]:
        assert session.text(f"os.path.exists({str(data_dir / secret_file)!r})") == "False", secret_file
    summary = session.error(f"open({str(data_dir / 'keys' / 'signing.key')!r}).read()")
    assert summary.startswith(("FileNotFoundError", "PermissionError")), summary
    assert session.text(f"str({server.process.pid}) in os.listdir('/proc')") == "False", "Kiln's process is not visible"

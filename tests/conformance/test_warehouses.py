"""SQL warehouses (/api/2.0/sql/warehouses), their object ACL
(/api/2.0/permissions/warehouses/{id}) and the query history (/api/2.0/sql/history/queries)
through the official SDK.

Tests create warehouses under unique names and delete them afterwards. The SDK's
`*_and_wait` helpers poll `get` until the warehouse reaches the state they wait for; their
timeout is kept short so a warehouse that never gets there fails the test instead of
stalling it.
"""

import datetime
import time

import pytest
from databricks.sdk import errors
from databricks.sdk.service import iam, sql

from kilnlib import PATCH_SCHEMAS, STARTER_WAREHOUSE, SqlClient, starter_warehouse_id, uc_name, unique

WAIT = datetime.timedelta(seconds=60)
Level = sql.WarehousePermissionLevel
QueryStatus = sql.QueryStatus
UNKNOWN_ID = "0123456789abcdef"


def levels_by_principal(permissions: sql.WarehousePermissions) -> dict[str, set[str]]:
    """`{"group:users": {"CAN_USE"}, "sp:<app id>": {...}, "user:<name>": {...}}`."""
    levels: dict[str, set[str]] = {}
    for entry in permissions.access_control_list or []:
        if entry.group_name:
            key = f"group:{entry.group_name}"
        elif entry.service_principal_name:
            key = f"sp:{entry.service_principal_name}"
        else:
            key = f"user:{entry.user_name}"
        levels.setdefault(key, set()).update(
            p.permission_level.value for p in entry.all_permissions or [] if p.permission_level
        )
    return levels


def sp_level(application_id: str, level: Level) -> sql.WarehouseAccessControlRequest:
    return sql.WarehouseAccessControlRequest(service_principal_name=application_id, permission_level=level)


def assert_deleted(client, warehouse_id: str) -> None:
    """A deleted warehouse is gone (404), or still answers with state DELETED."""
    try:
        state = client.warehouses.get(warehouse_id).state
    except errors.NotFound:
        return
    assert state == sql.State.DELETED, f"warehouse {warehouse_id} is {state} after delete"


def queries(client, **filters) -> list[sql.QueryInfo]:
    """One page of query history matching `filters` (QueryFilter fields)."""
    return client.query_history.list(filter_by=sql.QueryFilter(**filters), max_results=100).res or []


def finished_queries(client, statement_ids: list[str], seconds: float = 5) -> list[sql.QueryInfo]:
    """The history entries of statements that have all ended, once every one is final. The
    history may trail the statement API a little, so this polls for a few seconds."""
    deadline = time.monotonic() + seconds
    while True:
        found = queries(client, statement_ids=statement_ids)
        if len(found) == len(statement_ids) and all(q.is_final for q in found):
            return found
        if time.monotonic() > deadline:
            states = {q.query_id: (q.status, q.is_final) for q in found}
            pytest.fail(f"query history still not final {seconds} s after the statements ended: {states}")
        time.sleep(0.2)


@pytest.fixture
def warehouses(admin):
    """Factory: `create(client=admin, **spec)` makes a running warehouse (2X-Small, unique
    name unless given); every one made is deleted afterwards."""
    made = []

    def create(client=None, **spec) -> sql.GetWarehouseResponse:
        spec.setdefault("name", unique("kiln-wh"))
        spec.setdefault("cluster_size", "2X-Small")
        info = (client or admin).warehouses.create_and_wait(timeout=WAIT, **spec)
        made.append(info.id)
        return info

    yield create
    for warehouse_id in made:
        try:
            admin.warehouses.delete(warehouse_id)
        except errors.NotFound:
            pass


@pytest.fixture
def admin_name(admin) -> str:
    return admin.current_user.me().user_name


# --- the default warehouse -------------------------------------------------------------------


def test_fresh_workspace_has_a_starter_warehouse_every_user_may_use(admin, non_admin):
    warehouse_id = starter_warehouse_id(admin)
    starter = admin.warehouses.get(warehouse_id)
    assert starter.name == STARTER_WAREHOUSE
    assert starter.cluster_size == "Small"
    assert starter.state in (sql.State.RUNNING, sql.State.STOPPED, sql.State.STARTING)

    levels = levels_by_principal(admin.warehouses.get_permissions(warehouse_id))
    assert "CAN_MANAGE" in levels.get("group:admins", set())
    assert "CAN_USE" in levels.get("group:users", set())

    # Service principals belong to `users`: they see it and run statements on it ...
    sp = non_admin.client
    assert warehouse_id in {w.id for w in sp.warehouses.list()}
    assert sp.warehouses.get(warehouse_id).name == STARTER_WAREHOUSE
    assert SqlClient(sp, warehouse_id).rows("SELECT 1 AS one") == [["1"]]

    # ... but only admins manage it.
    with pytest.raises(errors.PermissionDenied):
        sp.warehouses.edit(warehouse_id, name=unique("kiln-renamed"), cluster_size="Small")
    with pytest.raises(errors.PermissionDenied):
        sp.warehouses.stop(warehouse_id)
    with pytest.raises(errors.PermissionDenied):
        sp.warehouses.delete(warehouse_id)
    with pytest.raises(errors.PermissionDenied):
        sp.warehouses.set_permissions(warehouse_id, access_control_list=[])
    assert admin.warehouses.get(warehouse_id).name == STARTER_WAREHOUSE
    assert "CAN_USE" in levels_by_principal(admin.warehouses.get_permissions(warehouse_id)).get("group:users", set())


# --- lifecycle -------------------------------------------------------------------------------


def test_create_get_list_stop_start_edit_delete(admin, warehouses, admin_name):
    name = unique("kiln-wh")
    created = warehouses(name=name, cluster_size="2X-Small", auto_stop_mins=10, max_num_clusters=1)
    assert created.id
    assert created.state == sql.State.RUNNING
    assert (created.name, created.cluster_size, created.auto_stop_mins) == (name, "2X-Small", 10)
    assert (created.min_num_clusters, created.max_num_clusters) == (1, 1)
    assert created.creator_name == admin_name
    assert created.id in created.odbc_params.path
    assert created.id in created.jdbc_url

    fetched = admin.warehouses.get(created.id)
    assert (fetched.id, fetched.name, fetched.cluster_size, fetched.state) == (created.id, name, "2X-Small", sql.State.RUNNING)
    assert name in {w.name for w in admin.warehouses.list()}

    stopped = admin.warehouses.stop_and_wait(created.id, timeout=WAIT)
    assert stopped.state == sql.State.STOPPED
    assert admin.warehouses.get(created.id).state == sql.State.STOPPED

    started = admin.warehouses.start_and_wait(created.id, timeout=WAIT)
    assert started.state == sql.State.RUNNING

    new_name = unique("kiln-wh-edited")
    edited = admin.warehouses.edit_and_wait(
        created.id, name=new_name, cluster_size="X-Small", auto_stop_mins=20, timeout=WAIT
    )
    assert edited.state == sql.State.RUNNING
    assert (edited.name, edited.cluster_size, edited.auto_stop_mins) == (new_name, "X-Small", 20)
    assert admin.warehouses.get(created.id).name == new_name
    listed = {w.name for w in admin.warehouses.list()}
    assert new_name in listed and name not in listed

    admin.warehouses.delete(created.id)
    assert_deleted(admin, created.id)
    assert created.id not in {w.id for w in admin.warehouses.list()}


def test_auto_stop_zero_means_never(warehouses):
    assert warehouses(auto_stop_mins=0).auto_stop_mins == 0


def test_statement_on_a_stopped_warehouse_starts_it(admin, warehouses):
    warehouse = warehouses()
    admin.warehouses.stop_and_wait(warehouse.id, timeout=WAIT)
    assert SqlClient(admin, warehouse.id).rows("SELECT 'woke' AS v") == [["woke"]]
    assert admin.warehouses.get(warehouse.id).state == sql.State.RUNNING


INVALID_SPECS = [
    # (the field the error must name, the spec fields that are wrong)
    ("cluster_size", {"cluster_size": "Huge"}),
    ("auto_stop_mins", {"auto_stop_mins": 5}),
    ("max_num_clusters", {"min_num_clusters": 3, "max_num_clusters": 2}),
    ("name", {"name": "w" * 100}),
]


@pytest.mark.parametrize("field, wrong", INVALID_SPECS, ids=[case[0] for case in INVALID_SPECS])
def test_create_with_an_invalid_field_names_it(admin, field, wrong):
    spec = {"name": unique("kiln-wh-invalid"), "cluster_size": "2X-Small", **wrong}
    with pytest.raises(errors.InvalidParameterValue) as caught:
        admin.warehouses.create(**spec)
    assert field in str(caught.value)
    assert spec["name"] not in {w.name for w in admin.warehouses.list()}


def test_create_without_a_name_is_rejected(admin):
    with pytest.raises(errors.InvalidParameterValue) as caught:
        admin.warehouses.create(cluster_size="2X-Small")
    assert "name" in str(caught.value)


def test_edit_with_an_invalid_field_names_it_and_changes_nothing(admin, warehouses):
    warehouse = warehouses(auto_stop_mins=10)
    with pytest.raises(errors.InvalidParameterValue) as caught:
        admin.warehouses.edit(warehouse.id, name=warehouse.name, cluster_size="Huge")
    assert "cluster_size" in str(caught.value)
    with pytest.raises(errors.InvalidParameterValue) as caught:
        admin.warehouses.edit(warehouse.id, name=warehouse.name, auto_stop_mins=3)
    assert "auto_stop_mins" in str(caught.value)
    unchanged = admin.warehouses.get(warehouse.id)
    assert (unchanged.cluster_size, unchanged.auto_stop_mins) == ("2X-Small", 10)


def test_unknown_warehouse_is_not_found(admin):
    calls = {
        "get": lambda: admin.warehouses.get(UNKNOWN_ID),
        "edit": lambda: admin.warehouses.edit(UNKNOWN_ID, name=unique("kiln-wh"), cluster_size="Small"),
        "start": lambda: admin.warehouses.start(UNKNOWN_ID),
        "stop": lambda: admin.warehouses.stop(UNKNOWN_ID),
        "delete": lambda: admin.warehouses.delete(UNKNOWN_ID),
        "execute_statement": lambda: admin.statement_execution.execute_statement(
            statement="SELECT 1", warehouse_id=UNKNOWN_ID
        ),
    }
    for name, call in calls.items():
        with pytest.raises(errors.NotFound):
            call()
            pytest.fail(f"{name} on an unknown warehouse did not raise")


# --- permissions -----------------------------------------------------------------------------


def test_creator_owns_the_warehouse(admin, warehouses, admin_name):
    warehouse = warehouses()
    permissions = admin.warehouses.get_permissions(warehouse.id)
    assert permissions.object_type == "warehouses"
    assert permissions.object_id.endswith(warehouse.id)
    assert "IS_OWNER" in levels_by_principal(permissions).get(f"user:{admin_name}", set())

    described = admin.warehouses.get_permission_levels(warehouse.id).permission_levels
    assert {"CAN_VIEW", "CAN_MONITOR", "CAN_USE", "CAN_MANAGE", "IS_OWNER"} <= {
        d.permission_level.value for d in described if d.permission_level
    }


def test_running_statements_needs_can_use(admin, warehouses, non_admin, admin_name):
    me = non_admin.sp.application_id
    sp = non_admin.client
    warehouse = warehouses()
    sp_sql = SqlClient(sp, warehouse.id)

    # No level at all: the warehouse does not exist for the principal. Statements are refused
    # with an HTTP error, not run and FAILED.
    with pytest.raises(errors.NotFound):
        sp.warehouses.get(warehouse.id)
    assert warehouse.id not in {w.id for w in sp.warehouses.list()}
    with pytest.raises((errors.NotFound, errors.PermissionDenied)):
        sp_sql.execute("SELECT 1 AS one")

    # CAN_VIEW: visible, still not usable.
    merged = admin.warehouses.update_permissions(warehouse.id, access_control_list=[sp_level(me, Level.CAN_VIEW)])
    assert "CAN_VIEW" in levels_by_principal(merged).get(f"sp:{me}", set())
    assert sp.warehouses.get(warehouse.id).name == warehouse.name
    assert warehouse.id in {w.id for w in sp.warehouses.list()}
    with pytest.raises(errors.PermissionDenied):
        sp_sql.execute("SELECT 1 AS one")
    with pytest.raises(errors.PermissionDenied):
        sp.warehouses.start(warehouse.id)

    # CAN_USE through set_permissions, which replaces the direct grants; the owner stays.
    replaced = admin.warehouses.set_permissions(warehouse.id, access_control_list=[sp_level(me, Level.CAN_USE)])
    levels = levels_by_principal(replaced)
    assert levels.get(f"sp:{me}") == {"CAN_USE"}
    assert "IS_OWNER" in levels.get(f"user:{admin_name}", set())
    assert sp_sql.rows("SELECT 1 AS one") == [["1"]]
    sp.warehouses.start(warehouse.id)

    # CAN_USE is not CAN_MANAGE.
    with pytest.raises(errors.PermissionDenied):
        sp.warehouses.stop(warehouse.id)
    with pytest.raises(errors.PermissionDenied):
        sp.warehouses.edit(warehouse.id, name=warehouse.name, cluster_size="Small")
    with pytest.raises(errors.PermissionDenied):
        sp.warehouses.delete(warehouse.id)
    with pytest.raises(errors.PermissionDenied):
        sp.warehouses.set_permissions(warehouse.id, access_control_list=[sp_level(me, Level.CAN_MANAGE)])
    assert admin.warehouses.get(warehouse.id).cluster_size == "2X-Small"

    # Replacing the ACL with nothing takes the level away again; update_permissions gives it back.
    admin.warehouses.set_permissions(warehouse.id, access_control_list=[])
    assert f"sp:{me}" not in levels_by_principal(admin.warehouses.get_permissions(warehouse.id))
    with pytest.raises((errors.NotFound, errors.PermissionDenied)):
        sp_sql.execute("SELECT 1 AS one")
    admin.warehouses.update_permissions(warehouse.id, access_control_list=[sp_level(me, Level.CAN_USE)])
    assert sp_sql.rows("SELECT 2 AS two") == [["2"]]


def test_can_manage_may_stop_edit_and_share(admin, warehouses, non_admin, make_non_admin):
    me = non_admin.sp.application_id
    sp = non_admin.client
    warehouse = warehouses()
    admin.warehouses.update_permissions(warehouse.id, access_control_list=[sp_level(me, Level.CAN_MANAGE)])

    assert sp.warehouses.stop_and_wait(warehouse.id, timeout=WAIT).state == sql.State.STOPPED
    edited = sp.warehouses.edit_and_wait(warehouse.id, name=warehouse.name, cluster_size="X-Small", timeout=WAIT)
    assert edited.cluster_size == "X-Small"

    other = make_non_admin()
    sp.warehouses.update_permissions(
        warehouse.id, access_control_list=[sp_level(other.sp.application_id, Level.CAN_USE)]
    )
    assert SqlClient(other.client, warehouse.id).rows("SELECT 1 AS one") == [["1"]]


def test_creating_a_warehouse_needs_the_allow_cluster_create_entitlement(admin, warehouses, non_admin):
    me = non_admin.sp.application_id
    sp = non_admin.client
    name = unique("kiln-wh-sp")
    with pytest.raises(errors.PermissionDenied):
        sp.warehouses.create(name=name, cluster_size="2X-Small")
    assert name not in {w.name for w in admin.warehouses.list()}

    admin.service_principals.patch(
        non_admin.sp.id,
        operations=[iam.Patch(op=iam.PatchOp.ADD, path="entitlements", value=[{"value": "allow-cluster-create"}])],
        schemas=PATCH_SCHEMAS,
    )
    created = warehouses(client=sp, name=name)
    assert created.creator_name == me
    assert "IS_OWNER" in levels_by_principal(sp.warehouses.get_permissions(created.id)).get(f"sp:{me}", set())
    assert SqlClient(sp, created.id).rows("SELECT current_user()") == [[me]]

    # The owner manages it; admins still see it.
    assert sp.warehouses.stop_and_wait(created.id, timeout=WAIT).state == sql.State.STOPPED
    assert admin.warehouses.get(created.id).name == name
    sp.warehouses.delete(created.id)
    assert_deleted(admin, created.id)


# --- query history ---------------------------------------------------------------------------


def test_query_history_records_each_statement(admin, warehouses, admin_name):
    warehouse = warehouses()
    runner = SqlClient(admin, warehouse.id)
    table = f"main.default.{uc_name('kiln_history')}"
    statements = {
        "select": "SELECT 'one' AS v UNION ALL SELECT 'two'",
        "create": f"CREATE TABLE {table} (id BIGINT)",
        "insert": f"INSERT INTO {table} VALUES (1), (2), (3)",
        "failed": "SELECT * FROM main.default.kiln_history_no_such_table",
        "drop": f"DROP TABLE {table}",
    }
    ids = {key: runner.execute(text).statement_id for key, text in statements.items()}
    by_id = {q.query_id: q for q in finished_queries(admin, list(ids.values()))}
    assert set(by_id) == set(ids.values())

    expected = {
        "select": (QueryStatus.FINISHED, sql.QueryStatementType.SELECT),
        "create": (QueryStatus.FINISHED, sql.QueryStatementType.CREATE),
        "insert": (QueryStatus.FINISHED, sql.QueryStatementType.INSERT),
        "drop": (QueryStatus.FINISHED, sql.QueryStatementType.DROP),
    }
    for key, (status, statement_type) in expected.items():
        query = by_id[ids[key]]
        assert (query.status, query.statement_type) == (status, statement_type), key
        assert query.error_message is None, key
    for key, query_id in ids.items():
        query = by_id[query_id]
        assert query.query_text == statements[key]
        assert query.warehouse_id == warehouse.id
        assert query.user_name == admin_name and query.executed_as_user_name == admin_name
        assert query.is_final is True
        assert query.query_start_time_ms <= query.query_end_time_ms
    assert by_id[ids["select"]].rows_produced == 2

    failed = by_id[ids["failed"]]
    assert failed.status == QueryStatus.FAILED
    assert failed.error_message.startswith("[TABLE_OR_VIEW_NOT_FOUND]")

    # Filters: the warehouse is new, so it ran exactly these statements, newest first.
    on_warehouse = queries(admin, warehouse_ids=[warehouse.id])
    assert [q.query_id for q in on_warehouse] == list(reversed(ids.values()))
    assert [q.query_id for q in queries(admin, warehouse_ids=[warehouse.id], statuses=[QueryStatus.FAILED])] == [
        ids["failed"]
    ]
    me = int(admin.current_user.me().id)
    assert len(queries(admin, warehouse_ids=[warehouse.id], user_ids=[me])) == len(ids)
    first_start = min(q.query_start_time_ms for q in on_warehouse)
    window = sql.TimeRange(start_time_ms=first_start - 60_000, end_time_ms=first_start - 1)
    assert queries(admin, warehouse_ids=[warehouse.id], query_start_time_range=window) == []


def test_failed_statement_keeps_its_statement_type(admin, warehouses):
    warehouse = warehouses()
    failed = SqlClient(admin, warehouse.id).execute("SELECT * FROM main.default.kiln_history_missing")
    [query] = finished_queries(admin, [failed.statement_id])
    assert query.status == QueryStatus.FAILED
    assert query.statement_type == sql.QueryStatementType.SELECT


def test_query_history_pages(admin, warehouses):
    warehouse = warehouses()
    runner = SqlClient(admin, warehouse.id)
    ids = [runner.ok(f"SELECT {n} AS n").statement_id for n in range(3)]
    finished_queries(admin, ids)

    seen, token = [], None
    for _ in range(5):
        page = admin.query_history.list(
            filter_by=sql.QueryFilter(warehouse_ids=[warehouse.id]), max_results=1, page_token=token
        )
        seen += [q.query_id for q in page.res or []]
        token = page.next_page_token
        if not page.has_next_page:
            break
        assert token
    assert seen == list(reversed(ids))


def test_others_queries_need_can_monitor(admin, warehouses, non_admin):
    me = non_admin.sp.application_id
    sp = non_admin.client
    warehouse = warehouses()
    admins_query = SqlClient(admin, warehouse.id).ok("SELECT 'admin only' AS v").statement_id
    own_query = SqlClient(sp, starter_warehouse_id(admin)).ok("SELECT 'mine' AS v").statement_id
    finished_queries(admin, [admins_query, own_query])

    assert [q.query_id for q in queries(sp, statement_ids=[own_query])] == [own_query]
    assert queries(sp, statement_ids=[admins_query]) == []
    assert admins_query not in {q.query_id for q in queries(sp, warehouse_ids=[warehouse.id])}

    admin.warehouses.update_permissions(warehouse.id, access_control_list=[sp_level(me, Level.CAN_MONITOR)])
    [seen] = queries(sp, statement_ids=[admins_query])
    assert seen.query_text == "SELECT 'admin only' AS v"
    # Monitoring is not using.
    with pytest.raises(errors.PermissionDenied):
        SqlClient(sp, warehouse.id).execute("SELECT 1 AS one")

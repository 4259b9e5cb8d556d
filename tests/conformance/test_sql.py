"""The Statement Execution API (/api/2.0/sql/statements) through the official SDK, and the
SQL behind it: results and their manifest, chunking, parameters, time limits, cancel, DDL
and DML on Delta tables, time travel, SHOW / DESCRIBE, and Unity Catalog privileges as a
principal that is not an admin sees them from SQL and over REST.

Statements run on the fresh workspace's "Starter Warehouse", which every user may use.
Tests make their own catalogs under unique names and drop them (force) afterwards. A failed
statement is not an HTTP error: the API answers 200 with status.state FAILED and the
Databricks error condition (`[TABLE_OR_VIEW_NOT_FOUND] ...`) in status.error.message.

Slow statements run on a server of their own, so a statement that hogs it cannot stall the
other tests.
"""

import time

import pytest
import requests
from databricks.sdk import errors
from databricks.sdk.service import catalog, sql

from kilnlib import SqlClient, describe_statement, grants_of, insufficient, records, starter_warehouse_id, uc_name

ACCOUNT_USERS = "account users"
Privilege = catalog.Privilege
State = sql.StatementState
Param = sql.StatementParameterListItem

# Ten rows; cross joins of it make large or slow results from plain SQL.
DIGITS = "(VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9))"


def digits_cross_join(levels: int) -> str:
    """`d0(x) CROSS JOIN d1(x) ...`: 10**levels rows."""
    return " CROSS JOIN ".join(f"{DIGITS} AS d{i}(x)" for i in range(levels))


def slow_statement(levels: int = 10) -> str:
    """A CPU-bound aggregate over 10**levels rows: minutes in any build at 10 levels. A sum,
    not count(*), which an optimizer may answer from row-count statistics without running."""
    terms = " + ".join(f"d{i}.x" for i in range(levels))
    return f"SELECT sum({terms}) AS total FROM {digits_cross_join(levels)}"


def columns_of(response: sql.StatementResponse) -> list[tuple]:
    """`[(name, type_name, type_text), ...]` from a statement's manifest."""
    return [
        (c.name, c.type_name.value if c.type_name else None, c.type_text) for c in response.manifest.schema.columns
    ]


def wait_until_final(client, statement_id: str, seconds: float = 30) -> sql.StatementResponse:
    deadline = time.monotonic() + seconds
    while True:
        response = client.statement_execution.get_statement(statement_id)
        if response.status.state not in (State.PENDING, State.RUNNING):
            return response
        assert time.monotonic() < deadline, f"statement {statement_id} still {response.status.state} after {seconds} s"
        time.sleep(0.2)


def history_of(client, statement_id: str) -> list[sql.QueryInfo]:
    return client.query_history.list(filter_by=sql.QueryFilter(statement_ids=[statement_id])).res or []


@pytest.fixture
def own_server(launch_kiln):
    with launch_kiln() as running:
        yield running


def impatient_admin(server):
    """An admin client that gives up on a call after about ten seconds instead of a minute."""
    return server.admin_client(http_timeout_seconds=10, retry_timeout_seconds=10)


# --- results and their manifest -------------------------------------------------------------


def test_select_answers_inline_json_array_with_manifest(admin_sql):
    response = admin_sql.ok(
        "SELECT CAST(7 AS BIGINT) AS id, 'kiln' AS name, CAST(1.5 AS DECIMAL(10,2)) AS price, "
        "true AS flag, CAST(NULL AS STRING) AS missing, CAST(3 AS INT) AS small"
    )
    assert response.statement_id

    manifest = response.manifest
    assert manifest.format == sql.Format.JSON_ARRAY
    assert (manifest.total_row_count, manifest.total_chunk_count, manifest.truncated) == (1, 1, False)
    assert manifest.schema.column_count == 6
    assert columns_of(response) == [
        ("id", "LONG", "BIGINT"),
        ("name", "STRING", "STRING"),
        ("price", "DECIMAL", "DECIMAL(10,2)"),
        ("flag", "BOOLEAN", "BOOLEAN"),
        ("missing", "STRING", "STRING"),
        ("small", "INT", "INT"),
    ]
    assert [c.position for c in manifest.schema.columns] == list(range(6))
    price = manifest.schema.columns[2]
    assert (price.type_precision, price.type_scale) == (10, 2)

    # Every value is a string; NULL is JSON null.
    assert response.result.data_array == [["7", "kiln", "1.50", "true", None, "3"]]
    assert (response.result.chunk_index, response.result.row_offset, response.result.row_count) == (0, 0, 1)
    assert response.result.next_chunk_index is None

    again = admin_sql.client.statement_execution.get_statement(response.statement_id)
    assert again.status.state == State.SUCCEEDED
    assert again.result.data_array == response.result.data_array


def test_untyped_null_is_json_null(admin_sql):
    response = admin_sql.ok("SELECT NULL AS nothing, CAST(NULL AS INT) AS no_int")
    assert columns_of(response)[0][1] == "NULL"  # Databricks: type_name NULL, type_text VOID
    assert response.result.data_array == [[None, None]]


def test_unaliased_columns_are_named_as_in_spark(admin_sql):
    """Spark names an unaliased expression after its SQL text: `SELECT 1` has a column `1`."""
    response = admin_sql.ok("SELECT 1, 'a', CAST(2 AS BIGINT) AS b")
    assert [c.name for c in response.manifest.schema.columns] == ["1", "a", "b"]


EXPRESSION_CASES = [
    # (expression, type_name, type_text, value as the JSON array carries it)
    ("CAST(1 AS INT)", "INT", "INT", "1"),
    ("CAST(1 AS BIGINT)", "LONG", "BIGINT", "1"),
    ("CAST(2.5 AS DOUBLE)", "DOUBLE", "DOUBLE", "2.5"),
    ("CAST(2 AS DOUBLE)", "DOUBLE", "DOUBLE", "2.0"),
    ("CAST('12.30' AS DECIMAL(5,2))", "DECIMAL", "DECIMAL(5,2)", "12.30"),
    ("DATE'2024-02-29'", "DATE", "DATE", "2024-02-29"),
    ("false", "BOOLEAN", "BOOLEAN", "false"),
    ("1", "INT", "INT", "1"),
    ("10L", "LONG", "BIGINT", "10"),
    ("7S", "SHORT", "SMALLINT", "7"),
    ("2.5D", "DOUBLE", "DOUBLE", "2.5"),
    ("1.25BD", "DECIMAL", "DECIMAL(3,2)", "1.25"),
    ("3000000000", "LONG", "BIGINT", "3000000000"),
    ("2.5", "DECIMAL", "DECIMAL(2,1)", "2.5"),
]


@pytest.mark.parametrize("expression, type_name, type_text, value", EXPRESSION_CASES)
def test_value_and_type_of_an_expression(admin_sql, expression, type_name, type_text, value):
    """Values render as Databricks renders them; literals have Spark's types (an integer
    literal is INT, a decimal literal DECIMAL)."""
    response = admin_sql.ok(f"SELECT {expression} AS v")
    assert columns_of(response) == [("v", type_name, type_text)]
    assert response.result.data_array == [[value]]


def test_integer_literals_are_int_as_in_spark(admin_sql):
    response = admin_sql.ok(f"SELECT x, x + 1 AS next, CASE WHEN x > 4 THEN 1 ELSE 0 END AS big FROM {DIGITS} AS d(x) ORDER BY x LIMIT 1")
    assert columns_of(response) == [("x", "INT", "INT"), ("next", "INT", "INT"), ("big", "INT", "INT")]
    assert sorted(admin_sql.rows("SELECT 1 UNION ALL SELECT 2")) == [["1"], ["2"]]
    assert [c[0] for c in columns_of(admin_sql.ok("SELECT 1 UNION ALL SELECT 2"))] == ["1"]


def test_aggregate_and_window_result_types(admin_sql):
    response = admin_sql.ok(
        f"SELECT count(*) OVER () AS n, row_number() OVER (ORDER BY x) AS rn, rank() OVER (ORDER BY x DESC) AS r, "
        f"dense_rank() OVER (ORDER BY x) AS dr, ntile(2) OVER (ORDER BY x) AS half, "
        f"sum(CAST(x AS BIGINT)) OVER () AS total FROM {DIGITS} AS d(x) ORDER BY x LIMIT 1"
    )
    assert columns_of(response) == [
        ("n", "LONG", "BIGINT"),
        ("rn", "INT", "INT"),
        ("r", "INT", "INT"),
        ("dr", "INT", "INT"),
        ("half", "INT", "INT"),
        ("total", "LONG", "BIGINT"),
    ]
    assert response.result.data_array == [["10", "1", "10", "1", "1", "45"]]


def test_session_functions_follow_the_request_context(admin, admin_sql, schema, non_admin, sp_sql):
    assert admin_sql.rows("SELECT current_user(), current_catalog(), current_schema()") == [
        [admin.current_user.me().user_name, "main", "default"]
    ]
    cat, sch = schema.split(".")
    assert admin_sql.rows("SELECT current_catalog(), current_schema()", catalog=cat, schema=sch) == [[cat, sch]]
    assert sp_sql.rows("SELECT current_user()") == [[non_admin.sp.application_id]]


def test_unqualified_names_resolve_in_the_request_catalog_and_schema(admin_sql, schema):
    cat, sch = schema.split(".")
    admin_sql.ok(f"CREATE TABLE {schema}.pets (name STRING)")
    admin_sql.ok(f"INSERT INTO {schema}.pets VALUES ('rex')")
    assert admin_sql.rows("SELECT name FROM pets", catalog=cat, schema=sch) == [["rex"]]
    assert admin_sql.rows(f"SELECT name FROM {sch}.pets", catalog=cat) == [["rex"]]
    message = admin_sql.error("SELECT name FROM pets")  # main.default has no pets
    assert message.startswith("[TABLE_OR_VIEW_NOT_FOUND]"), message
    assert "`main`.`default`.`pets`" in message


# --- parameters, limits, chunks ----------------------------------------------------------------


def test_named_parameters_are_typed_values_not_sql(admin_sql):
    response = admin_sql.ok(
        "SELECT :id AS id, :price AS price, :day AS day, :text AS text, :nothing AS nothing",
        parameters=[
            Param(name="id", value="42", type="BIGINT"),
            Param(name="price", value="9.90", type="DECIMAL(10,2)"),
            Param(name="day", value="2024-02-29", type="DATE"),
            Param(name="text", value="x'); DROP TABLE t; --"),  # STRING when no type is given
            Param(name="nothing", type="INT"),  # no value is NULL
        ],
    )
    assert columns_of(response) == [
        ("id", "LONG", "BIGINT"),
        ("price", "DECIMAL", "DECIMAL(10,2)"),
        ("day", "DATE", "DATE"),
        ("text", "STRING", "STRING"),
        ("nothing", "INT", "INT"),
    ]
    assert response.result.data_array == [["42", "9.90", "2024-02-29", "x'); DROP TABLE t; --", None]]

    filtered = admin_sql.rows(
        f"SELECT x FROM {DIGITS} AS d(x) WHERE x > :low ORDER BY x", parameters=[Param(name="low", value="7", type="INT")]
    )
    assert filtered == [["8"], ["9"]]


def test_unbound_parameter_fails_the_statement(admin_sql):
    message = admin_sql.error("SELECT :missing AS m")
    assert message.startswith("[UNBOUND_SQL_PARAMETER] Found the unbound parameter: missing."), message


def test_arrays_structs_and_maps_are_json_text(admin_sql):
    response = admin_sql.ok(
        "SELECT array(1, 2) AS a, named_struct('x', 1, 'y', 'b') AS s, map('k', 1) AS m, "
        "struct(1 AS n, array('x', NULL) AS l) AS deep, CAST(NULL AS ARRAY<INT>) AS none"
    )
    assert response.result.data_array == [["[1,2]", '{"x":1,"y":"b"}', '{"k":1}', '{"n":1,"l":["x",null]}', None]]
    assert [c[1] for c in columns_of(response)] == ["ARRAY", "STRUCT", "MAP", "STRUCT", "ARRAY"]


def test_row_limit_truncates_and_says_so(admin_sql):
    cut = admin_sql.ok(f"SELECT x FROM {DIGITS} AS d(x) ORDER BY x", row_limit=3)
    assert cut.result.data_array == [["0"], ["1"], ["2"]]
    assert (cut.manifest.total_row_count, cut.manifest.truncated) == (3, True)

    whole = admin_sql.ok(f"SELECT x FROM {DIGITS} AS d(x) ORDER BY x", row_limit=10)
    assert len(whole.result.data_array) == 10
    assert (whole.manifest.total_row_count, whole.manifest.truncated) == (10, False)


def test_large_result_comes_in_chunks(admin_sql):
    """10,000 rows of 1,000 characters (about 10 MB of JSON) do not fit one ~4 MiB chunk."""
    response = admin_sql.ok(f"SELECT repeat('x', 1000) AS s FROM {digits_cross_join(4)}")
    manifest = response.manifest
    assert manifest.total_row_count == 10_000
    assert manifest.total_chunk_count > 1
    assert len(manifest.chunks) == manifest.total_chunk_count
    assert [c.chunk_index for c in manifest.chunks] == list(range(manifest.total_chunk_count))
    assert sum(c.row_count for c in manifest.chunks) == 10_000

    first = response.result
    assert first.chunk_index == 0 and first.next_chunk_index == 1
    assert first.next_chunk_internal_link == f"/api/2.0/sql/statements/{response.statement_id}/result/chunks/1"

    chunk, total_rows, seen = first, 0, []
    while True:
        seen.append(chunk.chunk_index)
        described = manifest.chunks[chunk.chunk_index]
        assert (chunk.row_offset, chunk.row_count) == (described.row_offset, described.row_count)
        assert chunk.row_offset == total_rows, "chunks must be contiguous"
        assert len(chunk.data_array) == chunk.row_count
        assert all(row == ["x" * 1000] for row in chunk.data_array)
        total_rows += chunk.row_count
        if chunk.next_chunk_index is None:
            break
        chunk = admin_sql.client.statement_execution.get_statement_result_chunk_n(
            response.statement_id, chunk.next_chunk_index
        )
    assert seen == list(range(manifest.total_chunk_count))
    assert total_rows == 10_000

    with pytest.raises(errors.BadRequest):
        admin_sql.client.statement_execution.get_statement_result_chunk_n(
            response.statement_id, manifest.total_chunk_count
        )


def test_range_table_valued_function(admin_sql):
    """Spark's range(): one BIGINT column named id."""
    response = admin_sql.ok("SELECT id FROM range(5)")
    assert columns_of(response) == [("id", "LONG", "BIGINT")]
    assert response.result.data_array == [["0"], ["1"], ["2"], ["3"], ["4"]]
    assert admin_sql.rows("SELECT id FROM range(2, 9, 3)") == [["2"], ["5"], ["8"]]
    big = admin_sql.ok("SELECT repeat('x', 1000) AS s FROM range(10000)")
    assert big.manifest.total_row_count == 10_000 and big.manifest.total_chunk_count > 1


# --- failures, validation, time limits ---------------------------------------------------------


def test_missing_table_is_a_failed_statement_not_an_http_error(admin_sql):
    response = admin_sql.execute("SELECT * FROM main.default.kiln_no_such_table")
    assert response.status.state == State.FAILED
    assert response.status.error.error_code == sql.ServiceErrorCode.BAD_REQUEST
    message = response.status.error.message
    assert message.startswith("[TABLE_OR_VIEW_NOT_FOUND] The table or view `main`.`default`.`kiln_no_such_table` cannot be found.")
    assert message.endswith("SQLSTATE: 42P01")
    assert response.status.sql_state == "42P01"

    again = admin_sql.client.statement_execution.get_statement(response.statement_id)
    assert again.status.state == State.FAILED
    assert again.status.error.message == message
    with pytest.raises(errors.BadRequest):
        admin_sql.client.statement_execution.get_statement_result_chunk_n(response.statement_id, 0)


def test_syntax_error_is_parse_syntax_error(admin_sql):
    message = admin_sql.error("SELEC 1")
    assert message.startswith("[PARSE_SYNTAX_ERROR]"), message
    assert message.endswith("SQLSTATE: 42601")


@pytest.mark.parametrize("wait_timeout", ["4s", "51s", "1s", "10", "1m", "abc"])
def test_wait_timeout_out_of_range_is_rejected(admin_sql, wait_timeout):
    with pytest.raises(errors.BadRequest) as caught:
        admin_sql.execute("SELECT 1 AS one", wait_timeout=wait_timeout)
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "wait_timeout" in str(caught.value)


def test_bad_on_wait_timeout_is_rejected(server, warehouse_id):
    response = server.request(
        "POST",
        "/api/2.0/sql/statements",
        json={"statement": "SELECT 1", "warehouse_id": warehouse_id, "on_wait_timeout": "LATER"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "on_wait_timeout" in response.json()["message"]


def test_zero_wait_timeout_answers_at_once_and_the_result_follows(admin_sql):
    response = admin_sql.execute("SELECT 'later' AS v", wait_timeout="0s")
    assert response.statement_id
    assert response.status.state in (State.PENDING, State.RUNNING, State.SUCCEEDED)
    done = wait_until_final(admin_sql.client, response.statement_id)
    assert done.status.state == State.SUCCEEDED, describe_statement(done)
    assert done.result.data_array == [["later"]]


def test_external_links_is_a_clean_501_or_serves_signed_links(admin_sql):
    """EXTERNAL_LINKS: while Kiln does not offer it, a clean 501 (NotImplemented) naming it.
    Once it does: presigned links the client downloads without its token, holding the same
    rows INLINE gives, and useless once their signature is altered."""
    statement = f"SELECT x, CAST(x * 2 AS BIGINT) AS doubled FROM {DIGITS} AS d(x) ORDER BY x"
    try:
        response = admin_sql.execute(statement, disposition=sql.Disposition.EXTERNAL_LINKS, format=sql.Format.JSON_ARRAY)
    except errors.NotImplemented as error:
        assert error.error_code == "NOT_IMPLEMENTED"
        assert "EXTERNAL_LINKS" in str(error)
        return
    assert response.status.state == State.SUCCEEDED, describe_statement(response)
    assert response.manifest.format == sql.Format.JSON_ARRAY
    assert response.result.data_array is None, "EXTERNAL_LINKS results are not inline"
    links = response.result.external_links
    assert links and links[0].chunk_index == 0
    assert links[0].expiration

    downloaded = requests.get(links[0].external_link, timeout=30)  # no Authorization header
    assert downloaded.status_code == 200, downloaded.text[:300]
    assert downloaded.json() == admin_sql.rows(statement)

    tampered = links[0].external_link.replace("signature=", "signature=0")
    assert requests.get(tampered, timeout=30).status_code in (400, 403)


def test_statement_of_another_principal_is_not_found(admin_sql, sp_sql):
    mine = admin_sql.ok("SELECT 1 AS one").statement_id
    hidden = (errors.NotFound, errors.PermissionDenied)
    with pytest.raises(hidden):
        sp_sql.client.statement_execution.get_statement(mine)
    with pytest.raises(hidden):
        sp_sql.client.statement_execution.get_statement_result_chunk_n(mine, 0)
    with pytest.raises(hidden):
        sp_sql.client.statement_execution.cancel_execution(mine)
    assert admin_sql.client.statement_execution.get_statement(mine).status.state == State.SUCCEEDED


def test_cancel_a_running_statement(own_server):
    """A statement started with wait_timeout 0s can be canceled while it runs; the API keeps
    answering meanwhile, and the work stops."""
    admin = impatient_admin(own_server)
    warehouse = starter_warehouse_id(admin)
    started = admin.statement_execution.execute_statement(
        statement=slow_statement(), warehouse_id=warehouse, wait_timeout="0s"
    )
    assert started.status.state in (State.PENDING, State.RUNNING), describe_statement(started)
    time.sleep(0.5)

    before = time.monotonic()
    try:
        polled = admin.statement_execution.get_statement(started.statement_id)
    except (TimeoutError, errors.DatabricksError) as error:
        pytest.fail(f"GET /api/2.0/sql/statements/{{id}} got no answer while the statement ran: {error!r}")
    assert time.monotonic() - before < 5, "the API answered only after seconds: the statement starves it"
    assert polled.status.state in (State.PENDING, State.RUNNING), describe_statement(polled)
    if polled.status.state == State.RUNNING:
        [running] = history_of(admin, started.statement_id)
        assert (running.status, running.is_final) == (sql.QueryStatus.RUNNING, False)

    admin.statement_execution.cancel_execution(started.statement_id)
    canceled = admin.statement_execution.get_statement(started.statement_id)
    assert canceled.status.state == State.CANCELED, describe_statement(canceled)
    assert canceled.result is None

    # The work stopped: a trivial statement answers at once.
    before = time.monotonic()
    assert SqlClient(admin, warehouse).rows("SELECT 1 AS one") == [["1"]]
    assert time.monotonic() - before < 5

    deadline = time.monotonic() + 5
    while [q.status for q in history_of(admin, started.statement_id)] != [sql.QueryStatus.CANCELED]:
        assert time.monotonic() < deadline, f"history: {history_of(admin, started.statement_id)}"
        time.sleep(0.2)
    assert history_of(admin, started.statement_id)[0].is_final is True


def test_on_wait_timeout_cancel_cancels_a_slow_statement(own_server):
    admin = impatient_admin(own_server)
    warehouse = starter_warehouse_id(admin)
    before = time.monotonic()
    try:
        response = admin.statement_execution.execute_statement(
            statement=slow_statement(),
            warehouse_id=warehouse,
            wait_timeout="5s",
            on_wait_timeout=sql.ExecuteStatementRequestOnWaitTimeout.CANCEL,
        )
    except (TimeoutError, errors.DatabricksError) as error:
        pytest.fail(f"execute with wait_timeout 5s did not answer within about 10 s: {error!r}")
    assert time.monotonic() - before < 9, "wait_timeout 5s answered late"
    assert response.status.state == State.CANCELED, describe_statement(response)


def test_on_wait_timeout_continue_leaves_the_statement_running(own_server):
    admin = impatient_admin(own_server)
    warehouse = starter_warehouse_id(admin)
    try:
        response = admin.statement_execution.execute_statement(
            statement=slow_statement(),
            warehouse_id=warehouse,
            wait_timeout="5s",
            on_wait_timeout=sql.ExecuteStatementRequestOnWaitTimeout.CONTINUE,
        )
    except (TimeoutError, errors.DatabricksError) as error:
        pytest.fail(f"execute with wait_timeout 5s did not answer within about 10 s: {error!r}")
    assert response.status.state in (State.PENDING, State.RUNNING), describe_statement(response)
    assert admin.statement_execution.get_statement(response.statement_id).status.state in (State.PENDING, State.RUNNING)
    admin.statement_execution.cancel_execution(response.statement_id)
    assert admin.statement_execution.get_statement(response.statement_id).status.state == State.CANCELED


# --- tables: DDL, DML, metadata ----------------------------------------------------------------


def test_create_table_insert_select_and_rest_metadata(admin, admin_sql, schema):
    table = f"{schema}.orders"
    admin_sql.ok(
        f"CREATE TABLE {table} (id BIGINT NOT NULL COMMENT 'order id', region STRING, "
        f"amount DECIMAL(10,2), paid BOOLEAN, day DATE) USING DELTA PARTITIONED BY (region) "
        f"COMMENT 'orders from SQL' TBLPROPERTIES ('team' = 'kiln')"
    )
    inserted = admin_sql.ok(
        f"INSERT INTO {table} VALUES (1, 'eu', 10.50, true, DATE'2024-01-01'), "
        f"(2, 'us', 20.00, false, DATE'2024-01-02'), (3, 'eu', 5.25, NULL, NULL)"
    )
    assert columns_of(inserted) == [("num_affected_rows", "LONG", "BIGINT"), ("num_inserted_rows", "LONG", "BIGINT")]
    assert inserted.result.data_array == [["3", "3"]]

    selected = admin_sql.ok(f"SELECT * FROM {table} ORDER BY id")
    assert columns_of(selected) == [
        ("id", "LONG", "BIGINT"),
        ("region", "STRING", "STRING"),
        ("amount", "DECIMAL", "DECIMAL(10,2)"),
        ("paid", "BOOLEAN", "BOOLEAN"),
        ("day", "DATE", "DATE"),
    ]
    assert selected.result.data_array == [
        ["1", "eu", "10.50", "true", "2024-01-01"],
        ["2", "us", "20.00", "false", "2024-01-02"],
        ["3", "eu", "5.25", None, None],
    ]

    info = admin.tables.get(table)
    assert info.full_name == table
    assert info.table_type == catalog.TableType.MANAGED
    assert info.data_source_format == catalog.DataSourceFormat.DELTA
    assert info.comment == "orders from SQL"
    assert (info.properties or {}).get("team") == "kiln"
    assert info.owner == admin.current_user.me().user_name
    columns = {c.name: c for c in info.columns}
    assert [c.name for c in info.columns] == ["id", "region", "amount", "paid", "day"]
    assert (columns["id"].type_name, columns["id"].type_text) == (catalog.ColumnTypeName.LONG, "bigint")
    assert columns["id"].nullable is False and columns["id"].comment == "order id"
    assert (columns["amount"].type_name, columns["amount"].type_text) == (catalog.ColumnTypeName.DECIMAL, "decimal(10,2)")
    assert (columns["amount"].type_precision, columns["amount"].type_scale) == (10, 2)
    assert (columns["day"].type_name, columns["day"].type_text) == (catalog.ColumnTypeName.DATE, "date")
    assert columns["region"].partition_index == 0
    assert columns["id"].partition_index is None
    cat, sch = schema.split(".")
    assert "orders" in {t.name for t in admin.tables.list(catalog_name=cat, schema_name=sch)}

    described = admin_sql.rows(f"DESCRIBE TABLE {table}")
    assert described[:5] == [
        ["id", "bigint", "order id"],
        ["region", "string", None],
        ["amount", "decimal(10,2)", None],
        ["paid", "boolean", None],
        ["day", "date", None],
    ]
    assert ["# Partition Information", "", ""] in described
    extended = {row[0]: row[1] for row in admin_sql.rows(f"DESCRIBE TABLE EXTENDED {table}")}
    assert (extended["Catalog"], extended["Database"], extended["Table"]) == (cat, sch, "orders")
    assert extended["Type"] == "MANAGED" and extended["Provider"] == "delta"
    assert extended["Comment"] == "orders from SQL"

    assert admin_sql.rows(f"SHOW COLUMNS IN {table}") == [["id"], ["region"], ["amount"], ["paid"], ["day"]]
    assert ["orders"] in [[row[1]] for row in admin_sql.rows(f"SHOW TABLES IN {schema}")]


def test_duplicate_table_fails_and_if_not_exists_does_not(admin_sql, schema):
    admin_sql.ok(f"CREATE TABLE {schema}.once (a INT)")
    message = admin_sql.error(f"CREATE TABLE {schema}.once (a INT)", error_code="ALREADY_EXISTS")
    assert message.startswith("[TABLE_OR_VIEW_ALREADY_EXISTS]"), message
    admin_sql.ok(f"CREATE TABLE IF NOT EXISTS {schema}.once (a INT)")


def test_ctas_and_insert_overwrite(admin, admin_sql, schema):
    admin_sql.ok(f"CREATE TABLE {schema}.sales (region STRING, amount BIGINT)")
    admin_sql.ok(f"INSERT INTO {schema}.sales VALUES ('eu', 10), ('eu', 5), ('us', 7)")
    admin_sql.ok(
        f"CREATE TABLE {schema}.totals AS SELECT region, sum(amount) AS total, count(*) AS n "
        f"FROM {schema}.sales GROUP BY region"
    )
    assert admin_sql.rows(f"SELECT * FROM {schema}.totals ORDER BY region") == [["eu", "15", "2"], ["us", "7", "1"]]
    columns = {c.name: c for c in admin.tables.get(f"{schema}.totals").columns}
    assert (columns["total"].type_name, columns["total"].type_text) == (catalog.ColumnTypeName.LONG, "bigint")
    assert columns["region"].type_text == "string"

    admin_sql.ok(f"INSERT OVERWRITE {schema}.totals SELECT 'all' AS region, sum(amount) AS total, count(*) AS n FROM {schema}.sales")
    assert admin_sql.rows(f"SELECT * FROM {schema}.totals") == [["all", "22", "3"]]


def test_update_delete_and_time_travel(admin_sql, schema):
    table = f"{schema}.stock"
    admin_sql.ok(f"CREATE TABLE {table} (item STRING, qty BIGINT)")  # version 0
    admin_sql.ok(f"INSERT INTO {table} VALUES ('apple', 1), ('pear', 2), ('plum', 3)")  # version 1
    assert admin_sql.rows(f"UPDATE {table} SET qty = qty * 10 WHERE item <> 'plum'") == [["2"]]  # version 2
    assert admin_sql.rows(f"DELETE FROM {table} WHERE item = 'pear'") == [["1"]]  # version 3

    assert admin_sql.rows(f"SELECT item, qty FROM {table} ORDER BY item") == [["apple", "10"], ["plum", "3"]]
    assert admin_sql.rows(f"SELECT count(*) FROM {table} VERSION AS OF 0") == [["0"]]
    assert admin_sql.rows(f"SELECT item, qty FROM {table} VERSION AS OF 1 ORDER BY item") == [
        ["apple", "1"],
        ["pear", "2"],
        ["plum", "3"],
    ]
    assert admin_sql.rows(f"SELECT item, qty FROM {table} VERSION AS OF 2 ORDER BY item") == [
        ["apple", "10"],
        ["pear", "20"],
        ["plum", "3"],
    ]

    described = admin_sql.ok(f"DESCRIBE HISTORY {table}")
    assert [c[:2] for c in columns_of(described)][:6] == [
        ("version", "LONG"),
        ("timestamp", "TIMESTAMP"),
        ("userId", "STRING"),
        ("userName", "STRING"),
        ("operation", "STRING"),
        ("operationParameters", "MAP"),
    ]
    history = records(described)
    assert [h["version"] for h in history] == ["3", "2", "1", "0"], "newest first"
    assert [h["operation"] for h in history] == ["DELETE", "UPDATE", "WRITE", "CREATE TABLE"]
    inserted_at = history[2]["timestamp"]
    assert admin_sql.rows(f"SELECT item, qty FROM {table} TIMESTAMP AS OF '{inserted_at}' ORDER BY item") == [
        ["apple", "1"],
        ["pear", "2"],
        ["plum", "3"],
    ]

    message = admin_sql.error(f"SELECT * FROM {table} VERSION AS OF 99")  # there is no version 99
    assert "99" in message, message


def test_describe_history_names_who_made_each_commit(admin, admin_sql, schema):
    table = f"{schema}.audited"
    admin_sql.ok(f"CREATE TABLE {table} (a BIGINT)")
    admin_sql.ok(f"INSERT INTO {table} VALUES (1)")
    admin_sql.ok(f"UPDATE {table} SET a = 2")
    history = records(admin_sql.ok(f"DESCRIBE HISTORY {table}"))
    me = admin.current_user.me().user_name
    assert [(h["operation"], h["userName"]) for h in history] == [("UPDATE", me), ("WRITE", me), ("CREATE TABLE", me)]


def test_joins_aggregates_windows_and_ctes(admin_sql, schema):
    admin_sql.ok(f"CREATE TABLE {schema}.customers (id BIGINT, name STRING, country STRING)")
    admin_sql.ok(f"CREATE TABLE {schema}.orders (customer_id BIGINT, amount BIGINT)")
    admin_sql.ok(f"INSERT INTO {schema}.customers VALUES (1, 'ada', 'uk'), (2, 'bob', 'us'), (3, 'cy', 'uk')")
    admin_sql.ok(f"INSERT INTO {schema}.orders VALUES (1, 10), (1, 30), (2, 5), (3, 7)")

    joined = admin_sql.rows(
        f"SELECT c.name, sum(o.amount) AS total FROM {schema}.customers c "
        f"JOIN {schema}.orders o ON o.customer_id = c.id GROUP BY c.name HAVING sum(o.amount) > 6 ORDER BY total DESC"
    )
    assert joined == [["ada", "40"], ["cy", "7"]]

    ranked = admin_sql.rows(
        f"WITH spend AS (SELECT c.country, c.name, sum(o.amount) AS total FROM {schema}.customers c "
        f"LEFT JOIN {schema}.orders o ON o.customer_id = c.id GROUP BY c.country, c.name) "
        f"SELECT country, name, total, rank() OVER (PARTITION BY country ORDER BY total DESC) AS r, "
        f"sum(total) OVER (PARTITION BY country) AS country_total FROM spend ORDER BY country, r"
    )
    assert [row[:2] + [row[2]] for row in ranked] == [["uk", "ada", "40"], ["uk", "cy", "7"], ["us", "bob", "5"]]
    assert [row[3] for row in ranked] == ["1", "2", "1"]
    assert [row[4] for row in ranked] == ["47", "47", "5"]


def test_catalog_schema_volume_ddl_and_show(admin, admin_sql, make_catalog):
    cat = make_catalog()
    assert admin.catalogs.get(cat).name == cat
    assert [cat] in admin_sql.rows("SHOW CATALOGS")
    assert admin_sql.rows(f"SHOW CATALOGS LIKE '{cat}'") == [[cat]]

    admin_sql.ok(f"CREATE SCHEMA {cat}.raw COMMENT 'landing zone'")
    assert admin.schemas.get(f"{cat}.raw").comment == "landing zone"
    assert ["raw"] in admin_sql.rows(f"SHOW SCHEMAS IN {cat}")
    admin_sql.ok(f"CREATE SCHEMA IF NOT EXISTS {cat}.raw")

    admin_sql.ok(f"CREATE VOLUME {cat}.raw.files")
    assert admin.volumes.read(f"{cat}.raw.files").volume_type == catalog.VolumeType.MANAGED
    assert admin_sql.rows(f"SHOW VOLUMES IN {cat}.raw") == [["raw", "files"]]
    admin_sql.ok(f"DROP VOLUME {cat}.raw.files")
    assert admin_sql.rows(f"SHOW VOLUMES IN {cat}.raw") == []

    admin_sql.ok(f"CREATE TABLE {cat}.raw.events (id BIGINT)")
    assert admin_sql.rows(f"SHOW TABLES IN {cat}.raw") == [["raw", "events", "false"]]
    message = admin_sql.error(f"DROP SCHEMA {cat}.raw")
    assert message.startswith("[SCHEMA_NOT_EMPTY]"), message
    admin_sql.ok(f"DROP TABLE {cat}.raw.events")
    assert admin.tables.exists(f"{cat}.raw.events").table_exists is False
    admin_sql.ok(f"DROP TABLE IF EXISTS {cat}.raw.events")

    admin_sql.ok(f"CREATE TABLE {cat}.raw.more (id BIGINT)")
    admin_sql.ok(f"DROP SCHEMA {cat}.raw CASCADE")
    with pytest.raises(errors.NotFound):
        admin.schemas.get(f"{cat}.raw")

    admin_sql.ok(f"CREATE SCHEMA {cat}.again")
    admin_sql.ok(f"CREATE TABLE {cat}.again.t (id BIGINT)")
    admin_sql.ok(f"DROP CATALOG {cat} CASCADE")
    with pytest.raises(errors.NotFound):
        admin.catalogs.get(cat)
    assert [cat] not in admin_sql.rows("SHOW CATALOGS")


def test_grant_show_grants_and_revoke_in_sql_mirror_rest(admin, admin_sql, schema, non_admin):
    me = non_admin.sp.application_id
    table = f"{schema}.shared"
    admin_sql.ok(f"CREATE TABLE {table} (id BIGINT)")

    admin_sql.ok(f"GRANT SELECT, MODIFY ON TABLE {table} TO `{me}`")
    assert grants_of(admin.grants.get(securable_type="table", full_name=table)).get(me) == {"SELECT", "MODIFY"}
    shown = admin_sql.rows(f"SHOW GRANTS ON TABLE {table}")
    assert [me, "SELECT", "TABLE", table] in shown
    assert [me, "MODIFY", "TABLE", table] in shown

    admin_sql.ok(f"GRANT USE SCHEMA ON SCHEMA {schema} TO `{me}`")
    assert [me, "USE SCHEMA", "SCHEMA", schema] in admin_sql.rows(f"SHOW GRANTS ON TABLE {table}")  # inherited row

    admin_sql.ok(f"REVOKE MODIFY ON TABLE {table} FROM `{me}`")
    assert grants_of(admin.grants.get(securable_type="table", full_name=table)).get(me) == {"SELECT"}
    assert [me, "MODIFY", "TABLE", table] not in admin_sql.rows(f"SHOW GRANTS ON TABLE {table}")


# --- privileges as a principal that is not an admin -----------------------------------------


def test_reading_needs_use_catalog_then_use_schema_then_select(admin, admin_sql, make_catalog, non_admin, sp_sql):
    me = non_admin.sp.application_id
    cat = make_catalog()
    admin_sql.ok(f"CREATE SCHEMA {cat}.sales")
    table = f"{cat}.sales.orders"
    admin_sql.ok(f"CREATE TABLE {table} (id BIGINT, item STRING)")
    admin_sql.ok(f"INSERT INTO {table} VALUES (1, 'apple'), (2, 'pear')")
    query = f"SELECT id, item FROM {table} ORDER BY id"

    # Nothing granted: the table does not exist for the principal, in SQL and over REST.
    message = sp_sql.error(query)
    assert message.startswith(f"[TABLE_OR_VIEW_NOT_FOUND] The table or view `{cat}`.`sales`.`orders` cannot be found."), message
    with pytest.raises(errors.NotFound):
        non_admin.client.tables.get(table)

    # BROWSE shows the metadata; reading still needs each privilege on the way down, named
    # in order, each failure a FAILED statement with SQLSTATE 42501.
    admin_sql.ok(f"GRANT BROWSE ON CATALOG {cat} TO `{me}`")
    assert non_admin.client.tables.get(table).full_name == table
    steps = [
        ("USE CATALOG", f"Catalog '{cat}'", f"GRANT USE CATALOG ON CATALOG {cat} TO `{me}`"),
        ("USE SCHEMA", f"Schema '{cat}.sales'", f"GRANT USE SCHEMA ON SCHEMA {cat}.sales TO `{me}`"),
        ("SELECT", f"Table '{table}'", f"GRANT SELECT ON TABLE {table} TO `{me}`"),
    ]
    for privilege, securable, grant_statement in steps:
        response = sp_sql.execute(query)
        assert response.status.state == State.FAILED, f"before {grant_statement!r}: {describe_statement(response)}"
        assert response.status.error.message == insufficient(privilege, securable)
        assert response.status.sql_state == "42501"
        admin_sql.ok(grant_statement)
    assert sp_sql.rows(query) == [["1", "apple"], ["2", "pear"]]

    # Writing needs MODIFY; a refused INSERT changes nothing.
    insert = f"INSERT INTO {table} VALUES (3, 'plum')"
    assert sp_sql.error(insert) == insufficient("MODIFY", f"Table '{table}'")
    assert admin_sql.rows(f"SELECT count(*) FROM {table}") == [["2"]]
    admin_sql.ok(f"GRANT MODIFY ON TABLE {table} TO `{me}`")
    assert sp_sql.rows(insert) == [["1", "1"]]
    assert sp_sql.rows(query) == [["1", "apple"], ["2", "pear"], ["3", "plum"]]


def test_table_without_any_grant_is_not_found(admin, admin_sql, make_catalog, non_admin, sp_sql):
    """A table in a catalog where the principal holds nothing answers exactly like a table
    that does not exist, whatever the statement, and REST agrees."""
    me = non_admin.sp.application_id
    visible, hidden = make_catalog(), make_catalog()
    for cat in (visible, hidden):
        admin_sql.ok(f"CREATE SCHEMA {cat}.s")
        admin_sql.ok(f"CREATE TABLE {cat}.s.t (id BIGINT)")
    admin_sql.ok(f"GRANT USE CATALOG ON CATALOG {visible} TO `{me}`")
    admin_sql.ok(f"GRANT USE SCHEMA, SELECT ON SCHEMA {visible}.s TO `{me}`")
    assert sp_sql.rows(f"SELECT count(*) FROM {visible}.s.t") == [["0"]]

    table = f"{hidden}.s.t"
    for statement in [
        f"SELECT * FROM {table}",
        f"INSERT INTO {table} VALUES (1)",
        f"DESCRIBE TABLE {table}",
        f"SELECT v.id FROM {visible}.s.t v JOIN {table} h ON v.id = h.id",
    ]:
        message = sp_sql.error(statement)
        assert message.startswith(f"[TABLE_OR_VIEW_NOT_FOUND] The table or view `{hidden}`.`s`.`t` cannot be found."), (
            statement,
            message,
        )
    missing = sp_sql.error(f"SELECT * FROM {hidden}.s.no_such_table")
    assert missing == sp_sql.error(f"SELECT * FROM {table}").replace("`t`", "`no_such_table`")

    assert [hidden] not in sp_sql.rows("SHOW CATALOGS")
    assert [visible] in sp_sql.rows("SHOW CATALOGS")
    assert sp_sql.execute(f"SHOW TABLES IN {hidden}.s").status.state == State.FAILED

    with pytest.raises(errors.NotFound) as caught:
        non_admin.client.tables.get(table)
    assert str(caught.value) == f"Table '{table}' does not exist."
    assert non_admin.client.tables.get(f"{visible}.s.t").full_name == f"{visible}.s.t"
    assert hidden not in {c.name for c in non_admin.client.catalogs.list()}


def test_show_tables_and_rest_list_only_what_the_principal_may_read(admin, admin_sql, make_catalog, non_admin, sp_sql):
    """With USE CATALOG and USE SCHEMA, a principal sees the tables it holds a privilege on
    (or owns); other tables of the schema stay out of SHOW TABLES and the REST list, and a
    schema it may not use stays out of SHOW SCHEMAS."""
    me = non_admin.sp.application_id
    cat = make_catalog()
    admin_sql.ok(f"CREATE SCHEMA {cat}.open")
    admin_sql.ok(f"CREATE SCHEMA {cat}.closed")
    admin_sql.ok(f"CREATE TABLE {cat}.open.mine (id BIGINT)")
    admin_sql.ok(f"CREATE TABLE {cat}.open.secret (id BIGINT)")
    admin_sql.ok(f"CREATE TABLE {cat}.closed.private (id BIGINT)")
    admin_sql.ok(f"GRANT USE CATALOG ON CATALOG {cat} TO `{me}`")
    admin_sql.ok(f"GRANT USE SCHEMA ON SCHEMA {cat}.open TO `{me}`")
    admin_sql.ok(f"GRANT SELECT ON TABLE {cat}.open.mine TO `{me}`")

    assert admin_sql.rows(f"SHOW TABLES IN {cat}.open") == [["open", "mine", "false"], ["open", "secret", "false"]]
    assert sp_sql.rows(f"SHOW TABLES IN {cat}.open") == [["open", "mine", "false"]]
    assert [t.name for t in non_admin.client.tables.list(catalog_name=cat, schema_name="open")] == ["mine"]
    with pytest.raises((errors.NotFound, errors.PermissionDenied)):
        non_admin.client.tables.get(f"{cat}.open.secret")
    # Reading it names the missing privilege.
    assert sp_sql.error(f"SELECT * FROM {cat}.open.secret") == insufficient("SELECT", f"Table '{cat}.open.secret'")

    schemas = sp_sql.rows(f"SHOW SCHEMAS IN {cat}")
    assert ["open"] in schemas and ["closed"] not in schemas
    closed = sp_sql.execute(f"SHOW TABLES IN {cat}.closed")
    if closed.status.state == State.SUCCEEDED:
        assert ["closed", "private", "false"] not in (closed.result.data_array or [])


def test_principal_cannot_grant_on_the_admins_table(admin, admin_sql, schema, non_admin, sp_sql):
    me = non_admin.sp.application_id
    table = f"{schema}.owned_by_admin"
    admin_sql.ok(f"CREATE TABLE {table} (id BIGINT)")
    cat = schema.split(".")[0]
    admin_sql.ok(f"GRANT USE CATALOG ON CATALOG {cat} TO `{me}`")
    admin_sql.ok(f"GRANT USE SCHEMA ON SCHEMA {schema} TO `{me}`")
    admin_sql.ok(f"GRANT SELECT ON TABLE {table} TO `{me}`")
    assert sp_sql.rows(f"SELECT count(*) FROM {table}") == [["0"]]

    message = sp_sql.error(f"GRANT SELECT ON TABLE {table} TO `{ACCOUNT_USERS}`")
    assert message.startswith("[INSUFFICIENT_PERMISSIONS]"), message
    assert table in message
    message = sp_sql.error(f"GRANT MODIFY ON TABLE {table} TO `{me}`")
    assert message.startswith("[INSUFFICIENT_PERMISSIONS]"), message

    change = catalog.PermissionsChange(principal=ACCOUNT_USERS, add=[Privilege.SELECT])
    with pytest.raises(errors.PermissionDenied):
        non_admin.client.grants.update(securable_type="table", full_name=table, changes=[change])

    held = grants_of(admin.grants.get(securable_type="table", full_name=table))
    assert ACCOUNT_USERS not in held
    assert held.get(me) == {"SELECT"}


def test_principal_creates_a_table_in_main_default_and_owns_it(admin, admin_sql, non_admin, sp_sql):
    """`account users` may create tables in main.default; the creator owns what it makes."""
    me = non_admin.sp.application_id
    table = f"main.default.{uc_name('kiln_sp_table')}"
    try:
        sp_sql.ok(f"CREATE TABLE {table} (id BIGINT)")
        assert sp_sql.rows(f"INSERT INTO {table} VALUES (1), (2)") == [["2", "2"]]
        assert sp_sql.rows(f"SELECT sum(id) FROM {table}") == [["3"]]
        assert admin.tables.get(table).owner == me
        assert non_admin.client.tables.get(table).owner == me
        sp_sql.ok(f"DROP TABLE {table}")
        assert admin.tables.exists(table).table_exists is False
    finally:
        admin_sql.ok(f"DROP TABLE IF EXISTS {table}")

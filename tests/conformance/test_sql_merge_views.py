"""MERGE INTO and views through the Statement Execution API, with the official SDK.

A view is a Unity Catalog table of type VIEW. Reading it needs SELECT on the view only: its
query runs with its owner's privileges (definer rights), while `current_user()` inside it
still answers who runs the statement.
"""

from databricks.sdk.service import catalog

from kilnlib import grant, insufficient, let_use_schema, records

Privilege = catalog.Privilege


# --- MERGE INTO -----------------------------------------------------------------------------


def test_merge_updates_inserts_and_deletes_in_one_commit(admin_sql, schema):
    target, changes = f"{schema}.stock", f"{schema}.changes"
    admin_sql.ok(f"CREATE TABLE {target} (item STRING, qty BIGINT)")
    admin_sql.ok(f"INSERT INTO {target} VALUES ('apple', 1), ('pear', 2), ('plum', 3)")
    admin_sql.ok(f"CREATE TABLE {changes} (item STRING, qty BIGINT, gone BOOLEAN)")
    admin_sql.ok(f"INSERT INTO {changes} VALUES ('apple', 10, false), ('plum', 0, true), ('kiwi', 7, false)")

    merged = admin_sql.ok(
        f"""MERGE INTO {target} AS t USING {changes} AS s ON t.item = s.item
            WHEN MATCHED AND s.gone THEN DELETE
            WHEN MATCHED THEN UPDATE SET qty = t.qty + s.qty
            WHEN NOT MATCHED THEN INSERT (item, qty) VALUES (s.item, s.qty)"""
    )
    assert records(merged) == [
        {"num_affected_rows": "3", "num_updated_rows": "1", "num_deleted_rows": "1", "num_inserted_rows": "1"}
    ]
    assert admin_sql.rows(f"SELECT item, qty FROM {target} ORDER BY item") == [["apple", "11"], ["kiwi", "7"], ["pear", "2"]]
    history = records(admin_sql.ok(f"DESCRIBE HISTORY {target}"))
    assert history[0]["operation"] == "MERGE", "one commit for the whole MERGE"


def test_merge_star_actions_subquery_source_and_not_matched_by_source(admin_sql, schema):
    target = f"{schema}.prices"
    admin_sql.ok(f"CREATE TABLE {target} (sku STRING, price DOUBLE)")
    admin_sql.ok(f"INSERT INTO {target} VALUES ('a', 1.0), ('b', 2.0), ('c', 3.0)")
    admin_sql.ok(
        f"""MERGE INTO {target} USING (SELECT 'b' AS sku, CAST(20 AS DOUBLE) AS price UNION ALL SELECT 'd', CAST(4 AS DOUBLE)) AS latest
            ON {target.split('.')[-1]}.sku = latest.sku
            WHEN MATCHED THEN UPDATE SET *
            WHEN NOT MATCHED THEN INSERT *
            WHEN NOT MATCHED BY SOURCE AND prices.sku = 'c' THEN DELETE"""
    )
    assert admin_sql.rows(f"SELECT sku, price FROM {target} ORDER BY sku") == [
        ["a", "1.0"],
        ["b", "20.0"],
        ["d", "4.0"],
    ]


def test_merge_needs_select_and_modify_on_the_target_and_select_on_the_source(admin, admin_sql, schema, non_admin, sp_sql):
    target, source = f"{schema}.target", f"{schema}.source"
    admin_sql.ok(f"CREATE TABLE {target} (id BIGINT, v STRING)")
    admin_sql.ok(f"CREATE TABLE {source} AS SELECT 1 AS id, 'new' AS v")
    let_use_schema(admin, schema, non_admin.name)
    grant(admin, "table", target, non_admin.name, Privilege.SELECT)
    grant(admin, "table", source, non_admin.name, Privilege.SELECT)
    merge = f"MERGE INTO {target} t USING {source} s ON t.id = s.id WHEN NOT MATCHED THEN INSERT *"

    message = sp_sql.error(merge)
    assert message == insufficient("MODIFY", f"Table '{target}'"), message
    grant(admin, "table", target, non_admin.name, Privilege.MODIFY)
    admin.grants.update(
        securable_type="table",
        full_name=source,
        changes=[catalog.PermissionsChange(principal=non_admin.name, remove=[Privilege.SELECT])],
    )
    message = sp_sql.error(merge)
    assert message == insufficient("SELECT", f"Table '{source}'"), message
    assert admin_sql.rows(f"SELECT count(*) FROM {target}") == [["0"]], "nothing was written"


def test_merge_errors_name_what_is_wrong(admin_sql, schema):
    target = f"{schema}.t"
    admin_sql.ok(f"CREATE TABLE {target} (id BIGINT)")
    message = admin_sql.error(f"MERGE INTO {target} USING (SELECT 1 AS id) ON true WHEN MATCHED THEN DELETE")
    assert "alias" in message, message
    message = admin_sql.error(f"MERGE INTO {target} t USING (SELECT 1 AS id) s ON t.id = s.id WHEN NOT MATCHED THEN DELETE")
    assert "DELETE is not allowed in a WHEN NOT MATCHED clause" in message, message
    message = admin_sql.error(f"MERGE INTO {target} t USING (SELECT 1 AS id) s ON t.id = s.id WHEN NOT MATCHED THEN INSERT (id) VALUES (1, 2)")
    assert "1 columns but gives 2 values" in message, message


# --- views ----------------------------------------------------------------------------------


def test_view_is_a_table_of_type_view_and_reads_live_data(admin, admin_sql, schema):
    table, view = f"{schema}.orders", f"{schema}.big_orders"
    admin_sql.ok(f"CREATE TABLE {table} (id BIGINT, amount DOUBLE)")
    admin_sql.ok(f"INSERT INTO {table} VALUES (1, 5.0), (2, 50.0)")
    admin_sql.ok(
        f"CREATE VIEW {view} (order_id COMMENT 'the order', amount) COMMENT 'large orders' "
        f"AS SELECT id, amount FROM {table} WHERE amount > 10"
    )
    assert admin_sql.rows(f"SELECT * FROM {view}") == [["2", "50.0"]]
    admin_sql.ok(f"INSERT INTO {table} VALUES (3, 99.0)")
    assert admin_sql.rows(f"SELECT order_id FROM {view} ORDER BY order_id") == [["2"], ["3"]], "a view reads live data"

    info = admin.tables.get(view)
    assert info.table_type == catalog.TableType.VIEW
    assert info.comment == "large orders"
    assert "WHERE amount > 10" in info.view_definition
    assert [(c.name, c.type_name, c.comment) for c in info.columns] == [
        ("order_id", catalog.ColumnTypeName.LONG, "the order"),
        ("amount", catalog.ColumnTypeName.DOUBLE, None),
    ]
    shown = {row[1] for row in admin_sql.rows(f"SHOW TABLES IN {schema}")}
    assert {"orders", "big_orders"} <= shown
    assert admin_sql.rows(f"SHOW VIEWS IN {schema}") == [[schema.split(".")[1], "big_orders", "false", "false"]]
    assert admin_sql.rows(f"SHOW VIEWS IN {schema} LIKE 'small*'") == []

    admin_sql.ok(f"CREATE OR REPLACE VIEW {view} AS SELECT count(*) AS n FROM {table}")
    assert admin_sql.rows(f"SELECT n FROM {view}") == [["3"]]
    message = admin_sql.error(f"CREATE VIEW {view} AS SELECT 1 AS one", error_code="ALREADY_EXISTS")
    assert "already exists" in message, message
    admin_sql.ok(f"CREATE VIEW IF NOT EXISTS {view} AS SELECT 1 AS one")
    message = admin_sql.error(f"CREATE OR REPLACE VIEW {table} AS SELECT 1 AS one")
    assert "EXPECT_VIEW_NOT_TABLE" in message, message
    message = admin_sql.error(f"INSERT INTO {view} VALUES (1)")
    assert "EXPECT_TABLE_NOT_VIEW" in message, message
    admin_sql.ok(f"DROP VIEW {view}")
    assert admin_sql.error(f"SELECT * FROM {view}").startswith("[TABLE_OR_VIEW_NOT_FOUND]")


def test_view_resolves_names_where_it_was_created(admin_sql, schema):
    catalog_name, schema_name = schema.split(".")
    admin_sql.ok("CREATE TABLE local_t AS SELECT 'here' AS place", catalog=catalog_name, schema=schema_name)
    admin_sql.ok("CREATE VIEW local_v AS SELECT place FROM local_t", catalog=catalog_name, schema=schema_name)
    # Read from elsewhere: `local_t` still means the table next to the view.
    assert admin_sql.rows(f"SELECT place FROM {schema}.local_v", catalog="main", schema="default") == [["here"]]


def test_view_runs_with_its_owners_privileges(admin, admin_sql, schema, non_admin, sp_sql):
    secret, view = f"{schema}.salaries", f"{schema}.my_salary"
    admin_sql.ok(f"CREATE TABLE {secret} (name STRING, salary BIGINT)")
    admin_sql.ok(f"INSERT INTO {secret} VALUES ('{non_admin.name}', 100), ('someone else', 999)")
    # Row-level security: the view filters on who is reading.
    admin_sql.ok(f"CREATE VIEW {view} AS SELECT name, salary FROM {secret} WHERE name = current_user()")
    let_use_schema(admin, schema, non_admin.name)

    message = sp_sql.error(f"SELECT * FROM {view}")
    assert message == insufficient("SELECT", f"Table '{view}'"), message
    grant(admin, "table", view, non_admin.name, Privilege.SELECT)
    assert sp_sql.rows(f"SELECT name, salary FROM {view}") == [[non_admin.name, "100"]]
    # ... without any privilege on the table behind it.
    message = sp_sql.error(f"SELECT * FROM {secret}")
    assert message == insufficient("SELECT", f"Table '{secret}'"), message


def test_creating_a_view_needs_select_on_what_it_reads(admin, admin_sql, schema, non_admin, sp_sql):
    secret = f"{schema}.secret"
    admin_sql.ok(f"CREATE TABLE {secret} (x BIGINT)")
    let_use_schema(admin, schema, non_admin.name)
    grant(admin, "schema", schema, non_admin.name, Privilege.CREATE_TABLE)
    message = sp_sql.error(f"CREATE VIEW {schema}.peek AS SELECT * FROM {secret}")
    assert message == insufficient("SELECT", f"Table '{secret}'"), message
    sp_sql.ok(f"CREATE VIEW {schema}.mine AS SELECT 42 AS answer")
    assert admin.tables.get(f"{schema}.mine").owner == non_admin.name


# --- ALTER and COMMENT ON -------------------------------------------------------------------


def test_alter_table_columns_properties_comment_rename_and_owner(admin, admin_sql, schema, non_admin):
    table = f"{schema}.events"
    admin_sql.ok(f"CREATE TABLE {table} (id BIGINT)")
    admin_sql.ok(f"INSERT INTO {table} VALUES (1)")
    admin_sql.ok(f"ALTER TABLE {table} ADD COLUMNS (kind STRING COMMENT 'what happened', at TIMESTAMP)")
    admin_sql.ok(f"INSERT INTO {table} VALUES (2, 'click', TIMESTAMP '2024-01-01 00:00:00')")
    assert admin_sql.rows(f"SELECT id, kind FROM {table} ORDER BY id") == [["1", None], ["2", "click"]]
    admin_sql.ok(f"ALTER TABLE {table} ALTER COLUMN id COMMENT 'the key'")
    admin_sql.ok(f"ALTER TABLE {table} SET TBLPROPERTIES ('team' = 'web', 'delta.appendOnly' = 'false')")
    admin_sql.ok(f"COMMENT ON TABLE {table} IS 'what users did'")
    info = admin.tables.get(table)
    assert [(c.name, c.comment, c.position) for c in info.columns] == [("id", "the key", 0), ("kind", "what happened", 1), ("at", None, 2)]
    assert info.properties["team"] == "web" and info.comment == "what users did"
    admin_sql.ok(f"ALTER TABLE {table} UNSET TBLPROPERTIES ('team')")
    assert "team" not in (admin.tables.get(table).properties or {})
    message = admin_sql.error(f"ALTER TABLE {table} ADD COLUMN id INT")
    assert "FIELDS_ALREADY_EXISTS" in message, message

    admin_sql.ok(f"ALTER TABLE {table} RENAME TO {schema}.user_events")
    assert admin_sql.rows(f"SELECT count(*) FROM {schema}.user_events") == [["2"]], "the data moves with the name"
    admin_sql.ok(f"ALTER TABLE {schema}.user_events OWNER TO `{non_admin.name}`")
    assert admin.tables.get(f"{schema}.user_events").owner == non_admin.name


def test_alter_catalog_schema_and_view(admin, admin_sql, schema, non_admin):
    catalog_name = schema.split(".")[0]
    admin_sql.ok(f"COMMENT ON CATALOG {catalog_name} IS 'team data'")
    admin_sql.ok(f"ALTER SCHEMA {schema} SET DBPROPERTIES ('stage' = 'dev')")
    admin_sql.ok(f"CREATE VIEW {schema}.v AS SELECT 1 AS one")
    admin_sql.ok(f"ALTER VIEW {schema}.v AS SELECT 2 AS two")
    assert admin_sql.rows(f"SELECT * FROM {schema}.v") == [["2"]]
    assert [c.name for c in admin.tables.get(f"{schema}.v").columns] == ["two"]

    admin_sql.ok(f"ALTER SCHEMA {schema} OWNER TO `{non_admin.name}`")
    assert admin.catalogs.get(catalog_name).comment == "team data"
    info = admin.schemas.get(schema)
    assert info.properties["stage"] == "dev" and info.owner == non_admin.name

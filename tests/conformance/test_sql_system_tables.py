"""`information_schema` (in each catalog, and `system.information_schema` over all of them)
and `system.access.audit`, read through the Statement Execution API. What a principal sees
there follows its privileges, as SHOW and the REST lists do.
"""

from databricks.sdk.service import catalog

from kilnlib import grant, insufficient, let_use_schema, records

Privilege = catalog.Privilege


def test_information_schema_describes_the_catalog(admin_sql, schema):
    catalog_name, schema_name = schema.split(".")
    admin_sql.ok(
        f"CREATE TABLE {schema}.orders (id BIGINT NOT NULL COMMENT 'key', amount DECIMAL(10,2), "
        f"CONSTRAINT orders_pk PRIMARY KEY (id)) COMMENT 'all orders'"
    )
    admin_sql.ok(f"CREATE VIEW {schema}.big AS SELECT id FROM {schema}.orders WHERE amount > 100")

    info = f"{catalog_name}.information_schema"
    assert admin_sql.rows(f"SELECT catalog_name FROM {info}.catalogs") == [[catalog_name]]
    assert [schema_name] in admin_sql.rows(f"SELECT schema_name FROM {info}.schemata")
    tables = records(admin_sql.ok(f"SELECT table_name, table_type, comment, data_source_format FROM {info}.tables WHERE table_schema = '{schema_name}' ORDER BY table_name"))
    assert tables == [
        {"table_name": "big", "table_type": "VIEW", "comment": None, "data_source_format": None},
        {"table_name": "orders", "table_type": "MANAGED", "comment": "all orders", "data_source_format": "DELTA"},
    ]
    columns = admin_sql.rows(
        f"SELECT column_name, ordinal_position, is_nullable, data_type, full_data_type, numeric_precision, numeric_scale, comment "
        f"FROM {info}.columns WHERE table_name = 'orders' ORDER BY ordinal_position"
    )
    assert columns == [
        ["id", "0", "NO", "LONG", "bigint", None, None, "key"],
        ["amount", "1", "YES", "DECIMAL", "decimal(10,2)", "10", "2", None],
    ]
    (view,) = records(admin_sql.ok(f"SELECT table_name, view_definition FROM {info}.views"))
    assert view["table_name"] == "big" and "amount > 100" in view["view_definition"]
    assert admin_sql.rows(f"SELECT constraint_name, constraint_type, table_name FROM {info}.table_constraints") == [
        ["orders_pk", "PRIMARY KEY", "orders"]
    ]
    assert admin_sql.rows(f"SELECT constraint_name, column_name, ordinal_position FROM {info}.key_column_usage") == [
        ["orders_pk", "id", "1"]
    ]
    shown = [row[1] for row in admin_sql.rows(f"SHOW TABLES IN {info}")]
    assert {"catalogs", "schemata", "tables", "columns", "views", "table_constraints", "key_column_usage", "table_privileges"} <= set(shown)


def test_information_schema_shows_only_what_the_principal_may_use(admin, admin_sql, schema, non_admin, sp_sql):
    catalog_name, schema_name = schema.split(".")
    admin_sql.ok(f"CREATE TABLE {schema}.shared (x BIGINT)")
    admin_sql.ok(f"CREATE TABLE {schema}.private (x BIGINT)")
    info = f"{catalog_name}.information_schema"
    hidden = sp_sql.error(f"SELECT * FROM {info}.tables")
    assert hidden.startswith("[TABLE_OR_VIEW_NOT_FOUND]"), "a catalog the principal cannot see has no information_schema for it"

    let_use_schema(admin, schema, non_admin.name)
    grant(admin, "table", f"{schema}.shared", non_admin.name, Privilege.SELECT)
    assert sp_sql.rows(f"SELECT table_name FROM {info}.tables WHERE table_schema = '{schema_name}'") == [["shared"]]
    assert sp_sql.rows(f"SELECT DISTINCT table_name FROM {info}.columns") == [["shared"]]
    privileges = sp_sql.rows(f"SELECT grantee, table_name, privilege_type, inherited_from FROM {info}.table_privileges")
    assert privileges == [[non_admin.name, "shared", "SELECT", "NONE"]]
    everywhere = {row[0] for row in sp_sql.rows("SELECT table_catalog FROM system.information_schema.tables")}
    assert catalog_name in everywhere and all(name == catalog_name or name == "main" or name == "samples" for name in everywhere)


def test_audit_log_is_a_table_for_admins(admin, admin_sql, sp_sql):
    # A denied read leaves a line the admin can find by request and action.
    message = sp_sql.error("SELECT * FROM system.access.audit")
    assert message == insufficient("SELECT", "Table 'system.access.audit'"), message

    list(admin.catalogs.list())  # the SDK's list is lazy
    rows = records(
        admin_sql.ok(
            "SELECT user_identity.email AS email, service_name, action_name, response.status_code AS status, "
            "request_params['decision'] AS decision, event_date = to_date(event_time) AS same_day "
            "FROM system.access.audit WHERE service_name = 'http' ORDER BY event_time DESC LIMIT 50"
        )
    )
    assert rows, "request lines are in the audit table"
    assert all(row["same_day"] == "true" for row in rows)
    me = admin.current_user.me().user_name
    assert any(row["email"] == me and row["status"] == "200" and row["action_name"] == "GET /api/2.1/unity-catalog/catalogs" for row in rows), rows
    assert {row["decision"] for row in rows} == {"request"}
    counted = admin_sql.rows("SELECT count(*) > 0 FROM system.access.audit WHERE request_params['decision'] = 'deny'")
    assert counted == [["true"]]


def test_information_schema_is_a_reserved_schema_name(admin, admin_sql, schema):
    catalog_name = schema.split(".")[0]
    message = admin_sql.error(f"CREATE SCHEMA {catalog_name}.information_schema")
    assert "reserved" in message, message

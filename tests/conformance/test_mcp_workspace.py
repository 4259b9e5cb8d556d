"""Kiln's workspace MCP server (/api/2.0/mcp/kiln) through the official `mcp` client: tools
over the same services as the REST routes, so ACLs and grants apply unchanged."""

import json

import pytest
from mcp.shared.exceptions import MCPError

import mcplib
from kilnlib import create_non_admin, starter_warehouse_id, uc_name

PATH = "/api/2.0/mcp/kiln"
TOOLS = {
    "execute_statement", "get_statement", "get_statement_result_chunk", "cancel_statement",
    "list_warehouses", "get_warehouse", "start_warehouse", "stop_warehouse",
    "list_catalogs", "list_schemas", "list_tables", "get_table",
    "list_clusters", "get_cluster", "start_cluster", "terminate_cluster",
    "list_jobs", "get_job", "run_job_now", "list_job_runs", "get_run_output",
    "current_user", "list_users", "list_secret_scopes",
}


def call(server, tool, arguments=None, **kwargs):
    result = mcplib.call(server, PATH, tool, arguments or {}, **kwargs)
    assert result.is_error is False, result.content[0].text
    return json.loads(result.content[0].text)


def test_lists_the_workspace_tools(server):
    tools = {t.name: t for t in mcplib.list_tools(server, PATH)}
    assert set(tools) == TOOLS
    assert tools["get_table"].input_schema["required"] == ["full_name"]


def test_sql_and_catalog_tools(server, admin):
    table = f"main.default.{uc_name('mcp_ws')}"
    created = call(server, "execute_statement", {"statement": f"CREATE TABLE {table} (id INT COMMENT 'the key', name STRING)"})
    assert created["status"]["state"] == "SUCCEEDED"
    unqualified = f"INSERT INTO {table.split('.')[-1]} VALUES (1, 'a')"
    assert call(server, "execute_statement", {"statement": unqualified, "catalog": "main", "schema": "default"})["status"]["state"] == "SUCCEEDED"
    selected = call(server, "execute_statement", {"statement": f"SELECT name FROM {table}", "warehouse_id": starter_warehouse_id(admin)})
    assert call(server, "get_statement", {"statement_id": selected["statement_id"]})["result"]["data_array"] == [["a"]]
    chunk = call(server, "get_statement_result_chunk", {"statement_id": selected["statement_id"], "chunk_index": 0})
    assert chunk["data_array"] == [["a"]]
    assert "main" in [c["name"] for c in call(server, "list_catalogs")["catalogs"]]
    assert "default" in [s["name"] for s in call(server, "list_schemas", {"catalog_name": "main"})["schemas"]]
    assert table.split(".")[-1] in [t["name"] for t in call(server, "list_tables", {"catalog_name": "main", "schema_name": "default"})["tables"]]
    columns = call(server, "get_table", {"full_name": table})["columns"]
    assert [(c["name"], c.get("comment")) for c in columns] == [("id", "the key"), ("name", None)]


def test_compute_jobs_identity_and_secrets_tools(server, admin):
    warehouse_id = starter_warehouse_id(admin)
    assert warehouse_id in [w["id"] for w in call(server, "list_warehouses")["warehouses"]]
    assert call(server, "get_warehouse", {"id": warehouse_id})["id"] == warehouse_id
    assert isinstance(call(server, "list_clusters")["clusters"], list)
    assert isinstance(call(server, "list_jobs")["jobs"], list)
    assert isinstance(call(server, "list_job_runs", {"active_only": True})["runs"], list)
    me = call(server, "current_user")
    assert me["userName"] == admin.current_user.me().user_name
    assert me["userName"] in [u["userName"] for u in call(server, "list_users")["Resources"]]
    scope = uc_name("mcp_scope")
    admin.secrets.create_scope(scope)
    assert scope in [s["name"] for s in call(server, "list_secret_scopes")["scopes"]]


def test_refusals_name_the_databricks_error(server, admin):
    with pytest.raises(MCPError) as missing:
        mcplib.call(server, PATH, "get_job", {"job_id": 987654321})
    # As on Databricks, a missing job is an invalid parameter.
    assert str(missing.value) == "INVALID_PARAMETER_VALUE: Job 987654321 does not exist."
    with pytest.raises(MCPError) as mistyped:
        mcplib.call(server, PATH, "get_job", {"job_id": "seven"})
    assert "must be an integer" in str(mistyped.value)
    agent = create_non_admin(server, admin)
    with pytest.raises(MCPError) as denied:
        mcplib.call(server, PATH, "stop_warehouse", {"id": starter_warehouse_id(admin)}, token=agent.client.config.token)
    assert str(denied.value).startswith("PERMISSION_DENIED") and "CAN_MANAGE" in str(denied.value)

"""Databricks' managed SQL MCP server (/api/2.0/mcp/sql) through the official `mcp` client
(2.x; `mode="legacy"` is the 1.x handshake), and its HTTP edges through raw requests.

The server is stateless: one JSON-RPC message per POST, no session id, 405 for GET/DELETE.
"""

import json

import pytest
from mcp.shared.exceptions import MCPError

import mcplib
from kilnlib import starter_warehouse_id

SQL_PATH = "/api/2.0/mcp/sql"


def call(server, tool, arguments, **kwargs):
    return mcplib.call(server, SQL_PATH, tool, arguments, **kwargs)


def statement_of(result) -> dict:
    """The Statement Execution response a SQL tool answered, from its text."""
    return json.loads(result.content[0].text)


def rpc(server, message, token=None):
    return server.request("POST", SQL_PATH, token=token, json=message, headers={"Accept": "application/json, text/event-stream"})


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_lists_the_three_databricks_sql_tools(server, mode):
    tools = mcplib.list_tools(server, SQL_PATH, mode=mode)
    assert sorted(t.name for t in tools) == ["execute_sql", "execute_sql_read_only", "poll_sql_result"]
    by_name = {t.name: t for t in tools}
    assert by_name["execute_sql"].input_schema["required"] == ["query"]
    assert by_name["poll_sql_result"].input_schema["required"] == ["statement_id"]
    assert all(t.output_schema is None for t in tools)


def test_execute_sql_answers_a_statement_execution_response(server):
    result = call(server, "execute_sql", {"query": "SELECT 1 AS one, 'x' AS letter"})
    assert result.is_error is False
    statement = statement_of(result)
    assert statement["status"]["state"] == "SUCCEEDED"
    assert [c["name"] for c in statement["manifest"]["schema"]["columns"]] == ["one", "letter"]
    assert statement["result"]["data_array"] == [["1", "x"]]
    assert result.structured_content == statement


def test_poll_sql_result_reports_a_statement_started_by_a_tool(server):
    started = statement_of(call(server, "execute_sql_read_only", {"query": "SELECT 42"}))
    polled = call(server, "poll_sql_result", {"statement_id": started["statement_id"]})
    assert statement_of(polled)["statement_id"] == started["statement_id"]
    assert statement_of(polled)["result"]["data_array"] == [["42"]]


def test_writes_go_through_execute_sql_and_are_refused_read_only(server, admin):
    table = "main.default.mcp_sql_rw"
    created = call(server, "execute_sql", {"query": f"CREATE OR REPLACE TABLE {table} (n INT)"})
    assert statement_of(created)["status"]["state"] == "SUCCEEDED"
    for query in [f"INSERT INTO {table} VALUES (1)", f"WITH a AS (SELECT 1 AS n) INSERT INTO {table} SELECT n FROM a", f"DROP TABLE {table}"]:
        refused = call(server, "execute_sql_read_only", {"query": query})
        assert refused.is_error is True, query
        assert "execute_sql_read_only runs only statements that read" in refused.content[0].text
    inserted = call(server, "execute_sql", {"query": f"INSERT INTO {table} VALUES (7)"})
    assert statement_of(inserted)["status"]["state"] == "SUCCEEDED"
    read = call(server, "execute_sql_read_only", {"query": f"SELECT n FROM {table}"})
    assert statement_of(read)["result"]["data_array"] == [["7"]]


def test_a_failed_statement_is_a_tool_error_with_its_message(server):
    result = call(server, "execute_sql", {"query": "SELECT * FROM main.default.no_such_table_mcp"})
    assert result.is_error is True
    statement = statement_of(result)
    assert statement["status"]["state"] == "FAILED"
    assert "TABLE_OR_VIEW_NOT_FOUND" in statement["status"]["error"]["message"]


def test_the_warehouse_comes_from_meta(server, admin):
    warehouse_id = starter_warehouse_id(admin)
    result = call(server, "execute_sql", {"query": "SELECT 1"}, meta={"warehouse_id": warehouse_id})
    assert statement_of(result)["status"]["state"] == "SUCCEEDED"
    with pytest.raises(MCPError) as refused:
        call(server, "execute_sql", {"query": "SELECT 1"}, meta={"warehouse_id": "0123456789abcdef"})
    assert "0123456789abcdef" in str(refused.value)


def test_refusals_are_json_rpc_errors_starting_with_a_databricks_code(server):
    with pytest.raises(MCPError) as unknown:
        call(server, "no_such_tool", {})
    assert str(unknown.value).startswith("BAD_REQUEST") and "not found" in str(unknown.value)
    with pytest.raises(MCPError) as missing:
        call(server, "execute_sql", {"sql": "SELECT 1"})
    assert "Missing parameter value" in str(missing.value)


def test_http_edges(server):
    unauthenticated = rpc(server, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, token="dapinotatoken")
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["WWW-Authenticate"] == "Bearer"
    assert unauthenticated.json()["error_code"]
    for method in ["GET", "DELETE"]:
        assert server.request(method, SQL_PATH).status_code == 405
    discover = rpc(server, {"jsonrpc": "2.0", "id": 2, "method": "server/discover"})
    assert discover.status_code == 200 and discover.json()["error"]["code"] == -32601
    notification = rpc(server, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert notification.status_code == 202 and notification.content == b""
    batch = rpc(server, [{"jsonrpc": "2.0", "id": 3, "method": "ping"}])
    assert batch.status_code == 400 and batch.json()["error"]["code"] == -32600
    garbage = server.request("POST", SQL_PATH, data=b"{not json", headers={"Content-Type": "application/json"})
    assert garbage.status_code == 400 and garbage.json()["error"]["code"] == -32700
    ping = rpc(server, {"jsonrpc": "2.0", "id": "p", "method": "ping"})
    assert ping.json() == {"jsonrpc": "2.0", "id": "p", "result": {}}
    init = rpc(server, {"jsonrpc": "2.0", "id": 4, "method": "initialize", "params": {"protocolVersion": "2099-01-01", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
    assert init.json()["result"]["protocolVersion"] == "2025-06-18"
    assert "Mcp-Session-Id" not in init.headers


def test_each_call_is_audited_with_its_tool(server):
    call(server, "execute_sql", {"query": "SELECT 'audited'"})
    events = server.request("GET", "/api/2.0/kiln/audit-events", params={"action_prefix": "POST /api/2.0/mcp/sql tools/call", "max_results": 1000}).json()["events"]
    actions = {e["action"] for e in events}
    assert "POST /api/2.0/mcp/sql tools/call execute_sql" in actions
    assert all(e["status"] == 200 for e in events)

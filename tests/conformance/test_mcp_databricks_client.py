"""`databricks-mcp`'s DatabricksMCPClient, unchanged, against Kiln's MCP servers: it opens a
session per call with the SDK's authentication and a 5-second HTTP timeout, and maps
function tools back to Unity Catalog resources."""

from databricks_mcp import DatabricksMCPClient

from kilnlib import SqlClient, starter_warehouse_id, uc_name


def client(server, admin, path):
    return DatabricksMCPClient(server_url=server.host + path, workspace_client=admin)


def test_sql_server(server, admin):
    sql = client(server, admin, "/api/2.0/mcp/sql")
    assert [t.name for t in sql.list_tools()] == ["execute_sql", "execute_sql_read_only", "poll_sql_result"]
    result = sql.call_tool("execute_sql", {"query": "SELECT 1 + 1 AS two"})
    assert result.structured_content["result"]["data_array"] == [["2"]]


def test_functions_server_and_its_resources(server, admin):
    schema = f"main.{uc_name('dbmcp')}"
    sql = SqlClient(admin, starter_warehouse_id(admin))
    sql.ok(f"CREATE SCHEMA {schema}")
    sql.ok(f"CREATE FUNCTION {schema}.echo(text STRING COMMENT 'what to say') RETURNS STRING COMMENT 'Echoes' RETURN text")
    functions = client(server, admin, "/api/2.0/mcp/functions/" + schema.replace(".", "/"))
    tool = schema.replace(".", "__") + "__echo"
    assert [t.name for t in functions.list_tools()] == [tool]
    assert functions.call_tool(tool, {"text": "hello"}).content[0].text == "hello"
    resources = functions.get_databricks_resources()
    assert [r.name for r in resources] == [f"{schema}.echo"]


def test_workspace_server(server, admin):
    workspace = client(server, admin, "/api/2.0/mcp/kiln")
    assert len(workspace.list_tools()) == 24
    assert '"userName"' in workspace.call_tool("current_user", {}).content[0].text

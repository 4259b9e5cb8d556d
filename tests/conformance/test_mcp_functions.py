"""Databricks' managed Unity Catalog functions server
(/api/2.0/mcp/functions/{catalog}/{schema}[/{function}]) through the official `mcp` client:
one tool per function the caller may EXECUTE, named catalog__schema__function."""

import pytest
from databricks.sdk.service import catalog
from mcp.shared.exceptions import MCPError

import mcplib
from kilnlib import SqlClient, create_non_admin, grant, let_use_schema, starter_warehouse_id, uc_name


@pytest.fixture(scope="module")
def schema(admin):
    """A schema with two functions: `add` (a defaulted parameter, comments) and `shout`."""
    sql = SqlClient(admin, starter_warehouse_id(admin))
    name = f"main.{uc_name('mcp_fn')}"
    sql.ok(f"CREATE SCHEMA {name}")
    sql.ok(f"CREATE FUNCTION {name}.add(x INT COMMENT 'the first number', y INT DEFAULT 1 COMMENT 'the second') RETURNS INT COMMENT 'Adds two numbers' RETURN x + y")
    sql.ok(f"CREATE FUNCTION {name}.shout(word STRING) RETURNS STRING RETURN upper(word)")
    return name


def path_of(schema, function=None):
    catalog_name, schema_name = schema.split(".")
    return f"/api/2.0/mcp/functions/{catalog_name}/{schema_name}" + (f"/{function}" if function else "")


def tool_name(schema, function):
    return schema.replace(".", "__") + "__" + function


def test_one_tool_per_function_with_a_schema_from_its_parameters(server, schema):
    tools = {t.name: t for t in mcplib.list_tools(server, path_of(schema))}
    assert sorted(tools) == [tool_name(schema, "add"), tool_name(schema, "shout")]
    add = tools[tool_name(schema, "add")]
    assert add.description == "Adds two numbers"
    assert add.input_schema == {
        "type": "object",
        "properties": {
            "x": {"type": "integer", "description": "the first number"},
            "y": {"type": "integer", "description": "the second (Default: 1)"},
        },
        "required": ["x"],
    }
    one = mcplib.list_tools(server, path_of(schema, "shout"))
    assert [t.name for t in one] == [tool_name(schema, "shout")]


def test_a_call_runs_the_function_and_answers_its_value(server, schema):
    assert mcplib.call(server, path_of(schema), tool_name(schema, "add"), {"x": 41}).content[0].text == "42"
    assert mcplib.call(server, path_of(schema), tool_name(schema, "add"), {"x": 1, "y": 2}).content[0].text == "3"
    assert mcplib.call(server, path_of(schema, "shout"), tool_name(schema, "shout"), {"word": "hello"}).content[0].text == "HELLO"


def test_refusals_match_databricks_wording(server, schema):
    cases = [
        (tool_name(schema, "add"), {"y": 2}, "Missing parameter value"),
        (tool_name(schema, "add"), {"x": 1, "z": 2}, "Missing parameter value"),
        ("nounderscores", {}, "malformed"),
        (tool_name(schema, "nope"), {}, "not found"),
    ]
    for tool, arguments, wording in cases:
        with pytest.raises(MCPError) as refused:
            mcplib.call(server, path_of(schema), tool, arguments)
        assert str(refused.value).startswith("BAD_REQUEST") and wording in str(refused.value), tool
    with pytest.raises(MCPError) as other_function:
        mcplib.call(server, path_of(schema, "shout"), tool_name(schema, "add"), {"x": 1})
    assert "not found" in str(other_function.value)


def test_only_functions_the_caller_may_execute_are_tools(server, admin, schema):
    agent = create_non_admin(server, admin)
    token = agent.client.config.token
    let_use_schema(admin, schema, agent.name)
    assert mcplib.list_tools(server, path_of(schema), token=token) == []
    with pytest.raises(MCPError) as denied:
        mcplib.call(server, path_of(schema), tool_name(schema, "add"), {"x": 1}, token=token)
    assert str(denied.value).startswith("PERMISSION_DENIED") and "EXECUTE" in str(denied.value) and f"{schema}.add" in str(denied.value)
    grant(admin, "function", f"{schema}.add", agent.name, catalog.Privilege.EXECUTE)
    assert [t.name for t in mcplib.list_tools(server, path_of(schema), token=token)] == [tool_name(schema, "add")]
    assert mcplib.call(server, path_of(schema), tool_name(schema, "add"), {"x": 9}, token=token).content[0].text == "10"

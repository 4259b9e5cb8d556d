"""SQL functions: CREATE FUNCTION in SQL and `/api/2.1/unity-catalog/functions` over REST,
both calling into the same Unity Catalog records. A call needs EXECUTE on the function
(plus USE CATALOG / USE SCHEMA); its body runs inlined, as Databricks runs SQL functions.
"""

import pytest
from databricks.sdk import errors
from databricks.sdk.service import catalog

from kilnlib import grant, insufficient, let_use_schema

Privilege = catalog.Privilege


def test_create_function_in_sql_and_call_it(admin, admin_sql, schema):
    fn = f"{schema}.add_tax"
    admin_sql.ok(
        f"CREATE FUNCTION {fn}(amount DECIMAL(10,2), rate DOUBLE DEFAULT 0.2 COMMENT 'a fraction') "
        f"RETURNS DECIMAL(12,2) DETERMINISTIC COMMENT 'gross from net' RETURN amount * (1 + rate)"
    )
    assert admin_sql.rows(f"SELECT {fn}(100)") == [["120.00"]]
    assert admin_sql.rows(f"SELECT {fn}(100, 0.5)") == [["150.00"]]
    assert admin_sql.rows(f"SELECT {fn}(rate => 0.1, amount => 10)") == [["11.00"]]
    catalog_name, schema_name = schema.split(".")
    assert admin_sql.rows("SELECT add_tax(1)", catalog=catalog_name, schema=schema_name) == [["1.20"]], "unqualified names resolve in the schema"

    info = admin.functions.get(fn)
    assert info.full_name == fn and info.owner == admin.current_user.me().user_name
    assert info.data_type == catalog.ColumnTypeName.DECIMAL and info.full_data_type == "decimal(12,2)"
    assert info.routine_body == catalog.FunctionInfoRoutineBody.SQL and info.is_deterministic
    assert [(p.name, p.type_text, p.parameter_default, p.comment) for p in info.input_params.parameters] == [
        ("amount", "decimal(10,2)", None, None),
        ("rate", "double", "0.2", "a fraction"),
    ]
    assert fn in [row[0] for row in admin_sql.rows(f"SHOW USER FUNCTIONS IN {schema}")]
    assert "upper" in [row[0] for row in admin_sql.rows("SHOW SYSTEM FUNCTIONS LIKE 'upp*'")]
    assert any("Input:    amount DECIMAL(10,2), rate DOUBLE" == row[0] for row in admin_sql.rows(f"DESCRIBE FUNCTION {fn}"))

    message = admin_sql.error(f"SELECT {fn}()")
    assert "REQUIRED_PARAMETER_NOT_FOUND" in message and "amount" in message, message
    message = admin_sql.error(f"SELECT {fn}(1, 2, 3)")
    assert "WRONG_NUM_ARGS" in message, message
    message = admin_sql.error(f"SELECT {schema}.no_such_function(1)")
    assert message.startswith("[UNRESOLVED_ROUTINE]"), message

    admin_sql.ok(f"CREATE OR REPLACE FUNCTION {fn}(amount DOUBLE) RETURNS DOUBLE RETURN amount * 2")
    assert admin_sql.rows(f"SELECT {fn}(4)") == [["8.0"]]
    admin_sql.ok(f"DROP FUNCTION {fn}")
    admin_sql.ok(f"DROP FUNCTION IF EXISTS {fn}")
    with pytest.raises(errors.NotFound):
        admin.functions.get(fn)


def test_functions_over_rest_run_in_sql(admin, admin_sql, schema):
    catalog_name, schema_name = schema.split(".")
    created = admin.functions.create(
        function_info=catalog.CreateFunction(
            name="Shout",
            catalog_name=catalog_name,
            schema_name=schema_name,
            input_params=catalog.FunctionParameterInfos(
                parameters=[
                    catalog.FunctionParameterInfo(name="word", type_text="string", type_name=catalog.ColumnTypeName.STRING, position=0)
                ]
            ),
            data_type=catalog.ColumnTypeName.STRING,
            full_data_type="string",
            routine_body=catalog.CreateFunctionRoutineBody.SQL,
            routine_definition="upper(word) || '!'",
            parameter_style=catalog.CreateFunctionParameterStyle.S,
            is_deterministic=True,
            sql_data_access=catalog.CreateFunctionSqlDataAccess.CONTAINS_SQL,
            is_null_call=False,
            security_type=catalog.CreateFunctionSecurityType.DEFINER,
            specific_name="shout",
        )
    )
    assert created.full_name == f"{schema}.shout" and created.function_id
    assert admin_sql.rows(f"SELECT {schema}.shout('hi')") == [["HI!"]]
    assert [f.name for f in admin.functions.list(catalog_name=catalog_name, schema_name=schema_name)] == ["shout"]

    with pytest.raises(errors.BadRequest) as caught:
        admin.functions.create(
            function_info=catalog.CreateFunction(
                name="py", catalog_name=catalog_name, schema_name=schema_name,
                input_params=catalog.FunctionParameterInfos(parameters=[]), data_type=catalog.ColumnTypeName.INT,
                full_data_type="int", routine_body=catalog.CreateFunctionRoutineBody.EXTERNAL, routine_definition="return 1",
                parameter_style=catalog.CreateFunctionParameterStyle.S, is_deterministic=True,
                sql_data_access=catalog.CreateFunctionSqlDataAccess.NO_SQL, is_null_call=False,
                security_type=catalog.CreateFunctionSecurityType.DEFINER, specific_name="py", external_language="PYTHON",
            )
        )
    assert "routine_body" in str(caught.value)
    admin.functions.delete(f"{schema}.shout")
    assert list(admin.functions.list(catalog_name=catalog_name, schema_name=schema_name)) == []


def test_calling_a_function_needs_execute(admin, admin_sql, schema, non_admin, sp_sql):
    fn = f"{schema}.double_it"
    admin_sql.ok(f"CREATE FUNCTION {fn}(x BIGINT) RETURNS BIGINT RETURN x * 2")
    let_use_schema(admin, schema, non_admin.name)
    message = sp_sql.error(f"SELECT {fn}(21)")
    assert message == insufficient("EXECUTE", f"Function '{fn}'"), message
    grant(admin, "function", fn, non_admin.name, Privilege.EXECUTE)
    assert sp_sql.rows(f"SELECT {fn}(21)") == [["42"]]
    message = sp_sql.error(f"CREATE FUNCTION {schema}.mine() RETURNS INT RETURN 1")
    assert message == insufficient("CREATE FUNCTION", f"Schema '{schema}'"), message

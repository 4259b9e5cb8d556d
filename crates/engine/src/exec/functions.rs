//! SQL functions: CREATE / DROP / SHOW / DESCRIBE FUNCTION, and calls. A Unity Catalog SQL
//! function runs by inlining: before a statement is planned, each call is replaced by the
//! function's body with the arguments cast to the parameter types, and the result cast to
//! the return type, as Spark expands SQL functions. EXECUTE is checked at every call.

use std::collections::HashMap;

use datafusion::execution::SessionState;
use datafusion::sql::sqlparser::ast::{Expr, FunctionArg, FunctionArgExpr, FunctionArgOperator, FunctionArguments, Ident, Statement, visit_expressions, visit_expressions_mut};
use kiln_api::uc::{CreateFunction as FunctionDefinition, FunctionParameterInfo, FunctionParameterInfos};
use kiln_core::authz::{Privilege, SecurablePath};
use kiln_core::uc::UnityCatalog;
use kiln_store::SecurableKind;

use super::{Run, StatementOutput};
use crate::catalog::Access;
use crate::error::SqlError;
use crate::parse::{CreateFunction, name_parts, parse_expression};
use crate::types;

/// How deep functions may call functions.
const MAX_NESTING: usize = 16;

pub(super) async fn create_function(run: &Run<'_>, function: CreateFunction) -> Result<StatementOutput, SqlError> {
    let parts = run.qualify(&function.name, 3)?;
    let full_name = parts.join(".");
    let uc = run.uc();
    let mut parameters = Vec::with_capacity(function.parameters.len());
    for (position, parameter) in function.parameters.iter().enumerate() {
        let data_type = types::parse_type(&parameter.type_text).map_err(|e| SqlError::bad_request(format!("parameter '{}': {e}", parameter.name)))?;
        let decimal = types::decimal_parts(&data_type);
        parameters.push(FunctionParameterInfo {
            name: parameter.name.clone(),
            type_text: types::type_text(&data_type),
            type_name: types::uc_type_name(&data_type).to_string(),
            position: position as i32,
            type_json: Some(types::spark_field_json(&parameter.name, &data_type, true, parameter.comment.as_deref()).to_string()),
            type_precision: decimal.map(|(p, _)| p),
            type_scale: decimal.map(|(_, s)| s),
            comment: parameter.comment.clone(),
            parameter_default: parameter.default.clone(),
            parameter_mode: Some("IN".to_string()),
            parameter_type: Some("PARAM".to_string()),
        });
    }
    let returns = types::parse_type(&function.returns).map_err(|e| SqlError::bad_request(format!("RETURNS: {e}")))?;
    let definition = FunctionDefinition {
        name: parts[2].clone(),
        catalog_name: parts[0].clone(),
        schema_name: parts[1].clone(),
        input_params: FunctionParameterInfos { parameters },
        data_type: types::uc_type_name(&returns).to_string(),
        full_data_type: types::type_text(&returns),
        routine_body: "SQL".to_string(),
        routine_definition: function.body.clone(),
        is_deterministic: function.deterministic,
        sql_data_access: function.sql_data_access.to_string(),
        comment: function.comment.clone(),
        // What Databricks answers for every SQL function, as REST creation defaults them.
        parameter_style: "S".to_string(),
        security_type: "DEFINER".to_string(),
        ..Default::default()
    };
    // The body must plan: called with NULLs of the parameter types, it names only what exists.
    let probe_args: Vec<String> = definition.input_params.parameters.iter().map(|p| format!("CAST(NULL AS {})", p.type_text)).collect();
    let probe = format!("SELECT {}", inlined(&definition, &full_name, probe_args.iter().map(|a| parse_expression(a)).collect::<Result<Vec<_>, _>>()?, &[])?);
    let crate::parse::KilnStatement::Sql(probe) = crate::parse::parse_statement(&probe)? else {
        return Err(SqlError::internal("the function probe is not a query"));
    };
    let mut state = run.session(Default::default())?;
    run.plan(&mut state, *probe).await.map_err(|e| SqlError::bad_request(format!("the body of {full_name} does not plan: {}", e.message)))?;

    let schema_path = uc.resolve(run.caller, SecurableKind::Schema, "name", &parts[..2].join(".")).await?;
    let existing = uc.store().find_securable(Some(&schema_path.leaf().id), SecurableKind::Function, &parts[2]).await.map_err(kiln_core::Error::from)?;
    let Some(existing) = existing else {
        uc.create_function(run.caller, definition).await?;
        return Ok(StatementOutput::empty("CREATE"));
    };
    if function.if_not_exists {
        return Ok(StatementOutput::empty("CREATE"));
    }
    if !function.or_replace {
        return Err(SqlError::condition("ROUTINE_ALREADY_EXISTS", format!("Cannot create the function {full_name} because it already exists."), "42723"));
    }
    // OR REPLACE keeps the function's grants.
    let spec = serde_json::to_value(&definition).map_err(|e| SqlError::internal(e.to_string()))?;
    uc.redefine(run.caller, "sql.create_or_replace_function", &schema_path, existing, spec, function.comment, None).await?;
    Ok(StatementOutput::empty("CREATE"))
}

pub(super) async fn drop_function(run: &Run<'_>, name: &[String], if_exists: bool) -> Result<StatementOutput, SqlError> {
    let full_name = run.qualify(name, 3)?.join(".");
    match run.uc().delete_function(run.caller, &full_name).await {
        Err(error) if if_exists && error.code.status() == 404 => {}
        other => other?,
    }
    Ok(StatementOutput::empty("DROP"))
}

/// SHOW FUNCTIONS: user functions of the schema the caller may see (by full name), then the
/// built-in ones, sorted, in one column `function`.
pub(super) async fn show_functions(run: &Run<'_>, user: bool, system: bool, schema: Option<&[String]>, pattern: Option<&str>) -> Result<StatementOutput, SqlError> {
    let mut names = Vec::new();
    if user {
        let schema = run.qualify(schema.unwrap_or_default(), 2)?;
        names.extend(run.uc().list_functions(run.caller, &schema[0], &schema[1]).await?.into_iter().map(|f| f.full_name));
    }
    if system {
        let state = run.session(Default::default())?;
        let mut builtins: Vec<String> = state.scalar_functions().keys().chain(state.aggregate_functions().keys()).chain(state.window_functions().keys()).cloned().collect();
        builtins.sort();
        builtins.dedup();
        names.extend(builtins);
    }
    // Databricks' SHOW patterns use `*` for any characters.
    let matches = |name: &str| pattern.is_none_or(|p| kiln_core::uc::tables::like(&p.replace('*', "%"), name.rsplit('.').next().unwrap_or(name)));
    let rows = names.into_iter().filter(|name| matches(name)).map(|name| vec![Some(name)]).collect();
    StatementOutput::strings(&["function"], rows, "SHOW")
}

/// DESCRIBE FUNCTION: one line per fact, as Databricks shows them.
pub(super) async fn describe_function(run: &Run<'_>, name: &[String]) -> Result<StatementOutput, SqlError> {
    let full_name = run.qualify(name, 3)?.join(".");
    let info = run.uc().get_function(run.caller, &full_name).await?;
    let inputs: Vec<String> = info.definition.input_params.parameters.iter().map(|p| format!("{} {}", p.name, p.type_text.to_uppercase())).collect();
    let lines = [
        format!("Function: {}", info.full_name),
        "Type:     SCALAR".to_string(),
        format!("Input:    {}", inputs.join(", ")),
        format!("Returns:  {}", info.definition.full_data_type.to_uppercase()),
        format!("Body:     {}", info.definition.routine_definition),
    ];
    StatementOutput::strings(&["function_desc"], lines.into_iter().map(|line| vec![Some(line)]).collect(), "DESCRIBE")
}

/// Replaces every call of a Unity Catalog function in `statement` by its body. Names with
/// one part that are built-in functions stay as they are; others resolve in `catalog` and
/// `schema`. A missing function with a qualified name is UNRESOLVED_ROUTINE.
pub(crate) async fn inline_calls(access: &Access, state: &SessionState, catalog: &str, schema: &str, statement: &mut Statement) -> Result<(), SqlError> {
    for _ in 0..MAX_NESTING {
        let mut called: Vec<Vec<String>> = Vec::new();
        let _ = visit_expressions(statement, |expr| {
            if let Expr::Function(function) = expr {
                let parts = name_parts(&function.name);
                if !called.contains(&parts) && !(parts.len() == 1 && is_builtin(state, &parts[0])) {
                    called.push(parts);
                }
            }
            std::ops::ControlFlow::<()>::Continue(())
        });
        let mut definitions: HashMap<Vec<String>, (String, FunctionDefinition)> = HashMap::new();
        for parts in called {
            let qualified: Vec<String> = match parts.len() {
                1 => vec![catalog.to_string(), schema.to_string(), parts[0].clone()],
                2 => vec![catalog.to_string(), parts[0].clone(), parts[1].clone()],
                3 => parts.clone(),
                _ => continue,
            };
            let Some(path) = resolve_function(access, &qualified).await? else {
                if parts.len() == 1 {
                    continue; // DataFusion reports an unknown function in its own words.
                }
                return Err(unresolved(&qualified));
            };
            access.uc.authz().require_privilege(&access.caller, "sql.execute_function", &path, Privilege::Execute).await?;
            definitions.insert(parts, (path.full_name(), UnityCatalog::function_definition(&path)?));
        }
        if definitions.is_empty() {
            return Ok(());
        }
        let mut failure = None;
        let _ = visit_expressions_mut(statement, |expr| {
            let Expr::Function(function) = expr else { return std::ops::ControlFlow::Continue(()) };
            let Some((full_name, definition)) = definitions.get(&name_parts(&function.name)) else { return std::ops::ControlFlow::Continue(()) };
            match call_arguments(&function.args).and_then(|(positional, named)| inlined(definition, full_name, positional, &named)) {
                Ok(body) => {
                    *expr = body;
                    std::ops::ControlFlow::Continue(())
                }
                Err(error) => {
                    failure = Some(error);
                    std::ops::ControlFlow::Break(())
                }
            }
        });
        if let Some(error) = failure {
            return Err(error);
        }
    }
    Err(SqlError::bad_request(format!("functions call functions more than {MAX_NESTING} deep: does a function call itself?")))
}

fn is_builtin(state: &SessionState, name: &str) -> bool {
    state.scalar_functions().contains_key(name) || state.aggregate_functions().contains_key(name) || state.window_functions().contains_key(name)
}

fn unresolved(parts: &[String]) -> SqlError {
    let quoted: Vec<String> = parts.iter().map(|p| format!("`{p}`")).collect();
    SqlError::condition("UNRESOLVED_ROUTINE", format!("Cannot resolve routine {} on search path.", quoted.join(".")), "42883")
}

/// The function the caller may address, or `None` when it does not exist for them.
async fn resolve_function(access: &Access, parts: &[String]) -> Result<Option<SecurablePath>, SqlError> {
    let path = match access.uc.lookup(SecurableKind::Function, parts).await {
        Ok(path) => path,
        Err(error) if error.code.status() == 404 => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    Ok(access.uc.authz().may_address(&access.caller, &path).await?.then_some(path))
}

/// Positional and named (`name => value`) arguments of a call.
fn call_arguments(arguments: &FunctionArguments) -> Result<(Vec<Expr>, Vec<(String, Expr)>), SqlError> {
    let FunctionArguments::List(list) = arguments else { return Ok((Vec::new(), Vec::new())) };
    let (mut positional, mut named) = (Vec::new(), Vec::new());
    for argument in &list.args {
        match argument {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) => positional.push(expr.clone()),
            FunctionArg::Named { name, arg: FunctionArgExpr::Expr(expr), operator: FunctionArgOperator::RightArrow | FunctionArgOperator::Equals | FunctionArgOperator::Assignment } => {
                named.push((name.value.to_lowercase(), expr.clone()))
            }
            other => return Err(SqlError::bad_request(format!("argument {other}: pass a value or name => value"))),
        }
    }
    Ok((positional, named))
}

/// The body of `definition` with its parameters bound: `CAST((body) AS returns)`.
fn inlined(definition: &FunctionDefinition, full_name: &str, positional: Vec<Expr>, named: &[(String, Expr)]) -> Result<Expr, SqlError> {
    let parameters = &definition.input_params.parameters;
    if positional.len() > parameters.len() {
        return Err(SqlError::condition(
            "WRONG_NUM_ARGS",
            format!("The function {full_name} takes {} arguments, but {} were given.", parameters.len(), positional.len()),
            "42605",
        ));
    }
    let mut values: HashMap<String, Expr> = HashMap::new();
    for (index, parameter) in parameters.iter().enumerate() {
        let given = positional.get(index).cloned().or_else(|| named.iter().find(|(name, _)| *name == parameter.name).map(|(_, e)| e.clone()));
        let value = match (given, &parameter.parameter_default) {
            (Some(value), _) => value,
            (None, Some(default)) => parse_expression(default)?,
            (None, None) => {
                return Err(SqlError::condition("REQUIRED_PARAMETER_NOT_FOUND", format!("The function {full_name} needs a value for parameter '{}'.", parameter.name), "4274K"));
            }
        };
        values.insert(parameter.name.clone(), parse_expression(&format!("CAST(({value}) AS {})", parameter.type_text))?);
    }
    if let Some((name, _)) = named.iter().find(|(name, _)| !parameters.iter().any(|p| p.name == *name)) {
        return Err(SqlError::condition("UNRECOGNIZED_PARAMETER_NAME", format!("The function {full_name} has no parameter '{name}'."), "4274K"));
    }
    let mut body = parse_expression(&definition.routine_definition)?;
    let function_name = definition.name.to_lowercase();
    let _ = visit_expressions_mut(&mut body, |expr| {
        let parameter = match expr {
            Expr::Identifier(Ident { value, .. }) => Some(value.to_lowercase()),
            // `f.x` names parameter x of function f.
            Expr::CompoundIdentifier(parts) if parts.len() == 2 && parts[0].value.to_lowercase() == function_name => Some(parts[1].value.to_lowercase()),
            _ => None,
        };
        if let Some(value) = parameter.and_then(|name| values.get(&name)) {
            *expr = Expr::Nested(Box::new(value.clone()));
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    parse_expression(&format!("CAST(({body}) AS {})", definition.full_data_type))
}

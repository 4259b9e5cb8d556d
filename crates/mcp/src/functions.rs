//! `/api/2.0/mcp/functions/{catalog}/{schema}[/{function}]`: Databricks' managed Unity
//! Catalog functions server. One tool per function the caller may EXECUTE, named
//! `catalog__schema__function` (databricks-mcp turns `__` back into dots), its input schema
//! built from the function's parameters. A call runs `SELECT catalog.schema.function(...)` on
//! Kiln's engine as the caller, so EXECUTE and the body's own privileges are checked there.

use async_trait::async_trait;
use kiln_api::uc::{FunctionInfo, FunctionParameterInfo};
use kiln_core::error::Result;
use kiln_core::principal::Caller;
use kiln_core::uc::UnityCatalog;
use kiln_core::{Error, ErrorCode};
use kiln_engine::{ExecutionPool, Executor};
use serde_json::{Map, Value, json};

use crate::tools::{Tool, ToolCall, ToolResult, ToolServer};

#[derive(Debug, Clone)]
pub struct FunctionsServer {
    uc: UnityCatalog,
    executor: Executor,
    pool: ExecutionPool,
    catalog: String,
    schema: String,
    /// Set when the URL names one function: the server offers only it.
    function: Option<String>,
}

impl FunctionsServer {
    pub fn new(uc: UnityCatalog, executor: Executor, pool: ExecutionPool, catalog: String, schema: String, function: Option<String>) -> FunctionsServer {
        let lower = |name: String| name.to_lowercase();
        FunctionsServer { uc, executor, pool, catalog: lower(catalog), schema: lower(schema), function: function.map(lower) }
    }

    fn prefix(&self) -> String {
        format!("{}__{}__", self.catalog, self.schema)
    }

    /// The function a tool name means on this server.
    fn function_of<'a>(&self, tool: &'a str) -> Result<&'a str> {
        let bad = |message: String| Error::new(ErrorCode::BadRequest, message);
        let prefix = self.prefix();
        let Some(function) = function_in(tool, &prefix) else {
            return Err(bad(if tool.matches("__").count() < 2 {
                format!("Tool name {tool} is malformed: tools here are named {prefix}<function>")
            } else {
                format!("Tool {tool} not found: this server serves functions of {}.{}", self.catalog, self.schema)
            }));
        };
        if self.function.as_deref().is_some_and(|only| !only.eq_ignore_ascii_case(function)) {
            return Err(bad(format!("Tool {tool} not found: this server serves {prefix}{} only", self.function.as_deref().unwrap_or_default())));
        }
        Ok(function)
    }

    async fn run(&self, caller: &Caller, function: &FunctionInfo, arguments: &Map<String, Value>) -> Result<ToolResult> {
        let (sql, values) = call_statement(function, arguments)?;
        let parameters = values.into_iter().enumerate().map(|(index, value)| (format!("p{index}"), value)).collect();
        match kiln_engine::cluster_sql::run(&self.executor, caller, &self.pool, &sql, &self.catalog, &self.schema, parameters).await {
            Ok(result) => {
                let value = result.rows.first().and_then(|row| row.first().cloned()).flatten();
                Ok(ToolResult { text: value.unwrap_or_else(|| "NULL".to_string()), structured: None, is_error: false })
            }
            Err(error) => Ok(ToolResult::failure(error.message)),
        }
    }
}

/// The function part of `tool` when it starts with `prefix` (lowercase), in any case. The
/// split is at the prefix's length in the name itself: lowercasing can change a name's
/// length (the Kelvin sign is three bytes, its lowercase `k` one).
fn function_in<'a>(tool: &'a str, prefix: &str) -> Option<&'a str> {
    let head = tool.get(..prefix.len())?;
    (head.to_lowercase() == prefix).then(|| &tool[prefix.len()..]).filter(|function| !function.is_empty())
}

/// `SELECT c.s.f(name => CAST(:p0 AS type), ...)` over the given arguments; parameters left
/// out use their defaults, and a required one left out is the caller's mistake.
fn call_statement(function: &FunctionInfo, arguments: &Map<String, Value>) -> Result<(String, Vec<Option<String>>)> {
    let parameters = &function.definition.input_params.parameters;
    if let Some(unknown) = arguments.keys().find(|given| !parameters.iter().any(|p| p.name.eq_ignore_ascii_case(given))) {
        let known: Vec<&str> = parameters.iter().map(|p| p.name.as_str()).collect();
        return Err(Error::new(ErrorCode::BadRequest, format!("Missing parameter value: {} has no parameter '{unknown}'; its parameters are [{}]", function.full_name, known.join(", "))));
    }
    let mut passed = Vec::new();
    let mut values = Vec::new();
    for parameter in parameters {
        let given = arguments.iter().find(|(name, _)| name.eq_ignore_ascii_case(&parameter.name)).map(|(_, value)| value);
        match given {
            Some(value) => {
                passed.push(format!("{} => CAST(:p{} AS {})", quote(&parameter.name), values.len(), parameter.type_text));
                values.push(sql_text(value));
            }
            None if parameter.parameter_default.is_some() => {}
            None => return Err(Error::new(ErrorCode::BadRequest, format!("Missing parameter value for '{}' of {}", parameter.name, function.full_name))),
        }
    }
    let name = [&function.definition.catalog_name, &function.definition.schema_name, &function.definition.name].map(|part| quote(part)).join(".");
    Ok((format!("SELECT {name}({})", passed.join(", ")), values))
}

fn quote(identifier: &str) -> String {
    format!("`{}`", identifier.replace('`', "``"))
}

/// An argument as the SQL text its CAST reads: strings as they are, other JSON as JSON.
fn sql_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

/// A tool for one function: JSON Schema types from the parameters' types, the parameter
/// comments (and defaults) as descriptions, and the required parameters: those without one.
fn function_tool(function: &FunctionInfo) -> Tool {
    let parameters = &function.definition.input_params.parameters;
    let properties: Map<String, Value> = parameters.iter().map(|p| (p.name.clone(), parameter_schema(p))).collect();
    let required: Vec<&str> = parameters.iter().filter(|p| p.parameter_default.is_none()).map(|p| p.name.as_str()).collect();
    let definition = &function.definition;
    Tool {
        name: format!("{}__{}__{}", definition.catalog_name, definition.schema_name, definition.name),
        description: definition.comment.clone().filter(|c| !c.is_empty()).unwrap_or_else(|| format!("Unity Catalog function {}", function.full_name)),
        input_schema: json!({ "type": "object", "properties": properties, "required": required }),
    }
}

fn parameter_schema(parameter: &FunctionParameterInfo) -> Value {
    let json_type = match parameter.type_name.to_ascii_uppercase().as_str() {
        "BYTE" | "SHORT" | "INT" | "LONG" => "integer",
        "FLOAT" | "DOUBLE" | "DECIMAL" => "number",
        "BOOLEAN" => "boolean",
        "ARRAY" => "array",
        "STRUCT" | "MAP" => "object",
        _ => "string",
    };
    let mut description = parameter.comment.clone().unwrap_or_default();
    if let Some(default) = &parameter.parameter_default {
        description = format!("{description} (Default: {default})").trim_start().to_string();
    }
    let mut schema = json!({ "type": json_type });
    if !description.is_empty() {
        schema["description"] = Value::String(description);
    }
    schema
}

#[async_trait]
impl ToolServer for FunctionsServer {
    fn name(&self) -> &str {
        "kiln-functions"
    }

    async fn list_tools(&self, caller: &Caller) -> Result<Vec<Tool>> {
        let functions = match &self.function {
            Some(name) => vec![self.uc.executable_function(caller, &format!("{}.{}.{name}", self.catalog, self.schema)).await?],
            None => self.uc.executable_functions(caller, &self.catalog, &self.schema).await?,
        };
        Ok(functions.iter().map(function_tool).collect())
    }

    async fn call_tool(&self, caller: &Caller, call: ToolCall) -> Result<ToolResult> {
        let function = self.function_of(&call.name)?;
        let full_name = format!("{}.{}.{function}", self.catalog, self.schema);
        let info = self.uc.executable_function(caller, &full_name).await.map_err(|error| match error.code {
            ErrorCode::PermissionDenied => error,
            _ => Error::new(ErrorCode::BadRequest, format!("Function {full_name} not found: {}", error.message)),
        })?;
        self.run(caller, &info, &call.arguments).await
    }
}

#[cfg(test)]
mod tests {
    use super::function_in;

    #[test]
    fn tool_names_split_at_the_prefix_in_any_case() {
        assert_eq!(function_in("main__sales__total", "main__sales__"), Some("total"));
        assert_eq!(function_in("MAIN__Sales__Total", "main__sales__"), Some("Total"));
        assert_eq!(function_in("main__sales__", "main__sales__"), None);
        assert_eq!(function_in("main__other__total", "main__sales__"), None);
        // Lowercases to the prefix, but is longer than it in bytes: no slicing mid-character.
        assert_eq!(function_in("kkkk\u{212A}\u{212A}\u{212A}__f", "kkkkkkk__"), None);
        assert_eq!(function_in("é", "main__sales__"), None);
    }
}

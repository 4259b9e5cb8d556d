//! What a server offers: tools with JSON input schemas, called with the caller's identity.

use async_trait::async_trait;
use kiln_core::principal::Caller;
use kiln_core::error::Result;
use serde_json::{Map, Value};

/// One tool as `tools/list` shows it. No output schema is declared: a declared one obliges
/// every result to carry conforming `structuredContent`, which clients check.
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    pub name: String,
    pub description: String,
    pub input_schema: Value,
}

impl Tool {
    pub fn to_json(&self) -> Value {
        serde_json::json!({ "name": self.name, "description": self.description, "inputSchema": self.input_schema })
    }
}

/// A `tools/call`: the tool's name, its arguments and the request's `_meta`.
#[derive(Debug, Clone, Default)]
pub struct ToolCall {
    pub name: String,
    pub arguments: Map<String, Value>,
    pub meta: Map<String, Value>,
}

impl ToolCall {
    /// A required string argument; a missing or mistyped one is the caller's mistake.
    pub fn string(&self, name: &str) -> Result<&str> {
        match self.arguments.get(name) {
            Some(Value::String(text)) => Ok(text),
            Some(other) => Err(kiln_core::Error::invalid(format!("Argument '{name}' of tool {} must be a string, got {other}", self.name))),
            None => Err(kiln_core::Error::invalid(format!("Missing parameter value for '{name}' of tool {}", self.name))),
        }
    }

    /// An optional string argument.
    pub fn optional_string(&self, name: &str) -> Result<Option<&str>> {
        match self.arguments.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.string(name).map(Some),
        }
    }

    /// A required integer argument (a JSON number, or digits in a string, as models send).
    pub fn integer(&self, name: &str) -> Result<i64> {
        match self.arguments.get(name) {
            Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64().unwrap_or_default()),
            Some(Value::String(text)) if text.parse::<i64>().is_ok() => Ok(text.parse().unwrap_or_default()),
            Some(other) => Err(kiln_core::Error::invalid(format!("Argument '{name}' of tool {} must be an integer, got {other}", self.name))),
            None => Err(kiln_core::Error::invalid(format!("Missing parameter value for '{name}' of tool {}", self.name))),
        }
    }

    /// An optional integer argument.
    pub fn optional_integer(&self, name: &str) -> Result<Option<i64>> {
        match self.arguments.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.integer(name).map(Some),
        }
    }

    /// An optional boolean argument, false when absent.
    pub fn flag(&self, name: &str) -> Result<bool> {
        match self.arguments.get(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(value)) => Ok(*value),
            Some(other) => Err(kiln_core::Error::invalid(format!("Argument '{name}' of tool {} must be true or false, got {other}", self.name))),
        }
    }

    /// An optional string from `_meta`.
    pub fn meta_string(&self, name: &str) -> Result<Option<&str>> {
        match self.meta.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(kiln_core::Error::invalid(format!("_meta.{name} must be a string, got {other}"))),
        }
    }
}

/// A tool's answer: text for the model, the same as a JSON object for programs, and whether
/// the tool failed (a failed SQL statement, a refused write): failures the agent can read
/// and act on, unlike protocol errors.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    pub text: String,
    pub structured: Option<Value>,
    pub is_error: bool,
}

impl ToolResult {
    /// A result whose text is `value` as JSON.
    pub fn json(value: Value, is_error: bool) -> ToolResult {
        ToolResult { text: value.to_string(), structured: Some(value), is_error }
    }

    /// A failure explained in words.
    pub fn failure(text: impl Into<String>) -> ToolResult {
        ToolResult { text: text.into(), structured: None, is_error: true }
    }

    pub fn to_json(&self) -> Value {
        let mut result = serde_json::json!({
            "content": [{ "type": "text", "text": self.text }],
            "isError": self.is_error,
        });
        if let Some(structured) = &self.structured {
            result["structuredContent"] = structured.clone();
        }
        result
    }
}

/// One MCP server: its tools for a caller, and calling one as that caller.
#[async_trait]
pub trait ToolServer: Send + Sync + std::fmt::Debug {
    /// The name announced in `serverInfo`.
    fn name(&self) -> &str;

    /// The tools `caller` may call.
    async fn list_tools(&self, caller: &Caller) -> Result<Vec<Tool>>;

    /// Calls one tool. `Err` is a refusal (unknown tool, bad arguments, missing permission),
    /// answered as a JSON-RPC error; a tool that ran and failed answers `Ok` with `is_error`.
    async fn call_tool(&self, caller: &Caller, call: ToolCall) -> Result<ToolResult>;
}

//! JSON-RPC 2.0 and MCP's lifecycle, statelessly: `initialize`, `ping`, notifications,
//! `tools/list` and `tools/call`; every other method is "method not found" (-32601), which
//! is also what makes newer clients' `server/discover` probe fall back to `initialize`.

use kiln_core::principal::Caller;
use kiln_core::{Error, ErrorCode};
use serde_json::{Map, Value, json};

use crate::tools::{ToolCall, ToolServer};

/// Handshake versions Kiln speaks, newest first; a client asking for another gets the
/// default, which every 1.x and 2.x client accepts.
pub const PROTOCOL_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];
pub const DEFAULT_PROTOCOL_VERSION: &str = "2025-06-18";

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
const INTERNAL_ERROR: i64 = -32603;
/// A request the server understood but refuses (permission, missing object).
const SERVER_ERROR: i64 = -32000;

/// What to send back: HTTP 200 with a JSON-RPC message, 202 with nothing (a notification
/// or a response), or 400 with a JSON-RPC error (a message that is not one).
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Message(Value),
    Accepted,
    Invalid(Value),
}

/// What one message asked for, for the audit line: `tools/call execute_sql`, `tools/list`.
pub fn summary(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Message {
        method: String,
        #[serde(default)]
        params: Option<Params>,
    }
    #[derive(serde::Deserialize)]
    struct Params {
        name: Option<Value>,
    }
    let message: Message = serde_json::from_slice(body).ok()?;
    let tool = message.params.and_then(|p| p.name).and_then(|name| name.as_str().map(str::to_string));
    Some(match tool {
        Some(tool) if message.method == "tools/call" => format!("tools/call {tool}"),
        _ => message.method,
    })
}

/// Answers one POSTed body from an authenticated `caller`.
pub async fn handle(server: &dyn ToolServer, caller: &Caller, body: &[u8]) -> Answer {
    let message: Value = match serde_json::from_slice(body) {
        Ok(message) => message,
        Err(error) => return Answer::Invalid(error_message(Value::Null, PARSE_ERROR, format!("Parse error: {error}"), None)),
    };
    let Value::Object(mut message) = message else {
        let what = if message.is_array() { "batches are not supported; send one message per request" } else { "a message must be a JSON object" };
        return Answer::Invalid(error_message(Value::Null, INVALID_REQUEST, format!("Invalid Request: {what}"), None));
    };
    if message.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        let id = message.remove("id").unwrap_or(Value::Null);
        return Answer::Invalid(error_message(id, INVALID_REQUEST, "Invalid Request: jsonrpc must be \"2.0\"", None));
    }
    let Some(method) = message.get("method").and_then(Value::as_str).map(str::to_string) else {
        // A response (to a request the server never sends) or garbage: nothing to answer.
        return if message.contains_key("result") || message.contains_key("error") {
            Answer::Accepted
        } else {
            let id = message.remove("id").unwrap_or(Value::Null);
            Answer::Invalid(error_message(id, INVALID_REQUEST, "Invalid Request: method is missing", None))
        };
    };
    let Some(id) = message.remove("id") else {
        return Answer::Accepted; // a notification: `notifications/initialized`, `notifications/cancelled` ...
    };
    if !(id.is_string() || id.is_i64() || id.is_u64()) {
        return Answer::Invalid(error_message(Value::Null, INVALID_REQUEST, "Invalid Request: id must be a string or an integer", None));
    }
    let params = match message.remove("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(params)) => params,
        Some(_) => return Answer::Message(error_message(id, INVALID_PARAMS, "Invalid params: params must be an object", None)),
    };
    let outcome = match method.as_str() {
        "initialize" => Ok(initialize(server, &params)),
        "ping" => Ok(json!({})),
        "tools/list" => list_tools(server, caller).await,
        "tools/call" => call_tool(server, caller, params).await,
        other => return Answer::Message(error_message(id, METHOD_NOT_FOUND, format!("Method not found: {other}"), None)),
    };
    Answer::Message(match outcome {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err(error) => service_error(id, &error),
    })
}

fn initialize(server: &dyn ToolServer, params: &Map<String, Value>) -> Value {
    let asked = params.get("protocolVersion").and_then(Value::as_str);
    let version = asked.filter(|v| PROTOCOL_VERSIONS.contains(v)).unwrap_or(DEFAULT_PROTOCOL_VERSION);
    json!({
        "protocolVersion": version,
        "capabilities": { "tools": { "listChanged": false } },
        "serverInfo": { "name": server.name(), "version": env!("CARGO_PKG_VERSION") },
    })
}

async fn list_tools(server: &dyn ToolServer, caller: &Caller) -> Result<Value, Error> {
    let tools = server.list_tools(caller).await?;
    Ok(json!({ "tools": tools.iter().map(crate::Tool::to_json).collect::<Vec<_>>() }))
}

async fn call_tool(server: &dyn ToolServer, caller: &Caller, mut params: Map<String, Value>) -> Result<Value, Error> {
    let name = match params.remove("name") {
        Some(Value::String(name)) => name,
        _ => return Err(Error::invalid("tools/call needs params.name, the tool's name as a string")),
    };
    let arguments = match params.remove("arguments") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(arguments)) => arguments,
        Some(_) => return Err(Error::invalid(format!("arguments of tool {name} must be an object"))),
    };
    let meta = match params.remove("_meta") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(meta)) => meta,
        Some(_) => return Err(Error::invalid("_meta must be an object")),
    };
    Ok(server.call_tool(caller, ToolCall { name, arguments, meta }).await?.to_json())
}

/// A refusal as a JSON-RPC error whose message starts with the Databricks error code (as
/// the managed servers' do), with the code again in `data` for programs.
fn service_error(id: Value, error: &Error) -> Value {
    let code = match error.code {
        ErrorCode::InvalidParameterValue | ErrorCode::MalformedRequest | ErrorCode::BadRequest => INVALID_PARAMS,
        ErrorCode::InternalError => INTERNAL_ERROR,
        _ => SERVER_ERROR,
    };
    let error_code = error.code.as_str();
    error_message(id, code, format!("{error_code}: {}", error.message), Some(json!({ "error_code": error_code })))
}

fn error_message(id: Value, code: i64, message: impl Into<String>, data: Option<Value>) -> Value {
    let mut error = json!({ "code": code, "message": message.into() });
    if let Some(data) = data {
        error["data"] = data;
    }
    json!({ "jsonrpc": "2.0", "id": id, "error": error })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use async_trait::async_trait;
    use kiln_core::principal::{Caller, Principal};
    use kiln_store::{PrincipalKind, PrincipalRecord};
    use serde_json::{Value, json};

    use super::{Answer, handle};
    use crate::tools::{Tool, ToolCall, ToolResult, ToolServer};

    /// A server with one tool, `echo`, that answers its `text` argument.
    #[derive(Debug)]
    struct Echo;

    #[async_trait]
    impl ToolServer for Echo {
        fn name(&self) -> &str {
            "echo"
        }

        async fn list_tools(&self, _caller: &Caller) -> kiln_core::Result<Vec<Tool>> {
            Ok(vec![Tool { name: "echo".into(), description: "echoes".into(), input_schema: json!({"type": "object"}) }])
        }

        async fn call_tool(&self, _caller: &Caller, call: ToolCall) -> kiln_core::Result<ToolResult> {
            match call.name.as_str() {
                "echo" => Ok(ToolResult { text: call.string("text")?.to_string(), structured: None, is_error: false }),
                _ => Err(kiln_core::Error::denied("no such luck")),
            }
        }
    }

    fn caller() -> Caller {
        let record = PrincipalRecord::new(7, PrincipalKind::ServicePrincipal, "agent");
        let principal = Principal { record, direct_groups: Vec::new(), all_group_ids: Vec::new(), group_names: Vec::new(), entitlements: Vec::new(), is_admin: false };
        Caller { principal: Arc::new(principal), request_id: "r".into() }
    }

    async fn answer(message: Value) -> Answer {
        handle(&Echo, &caller(), message.to_string().as_bytes()).await
    }

    fn message(answer: Answer) -> Value {
        match answer {
            Answer::Message(message) => message,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    #[test]
    fn summaries_name_the_method_and_tool() {
        let summary = |message: Value| super::summary(message.to_string().as_bytes());
        assert_eq!(summary(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "execute_sql", "arguments": {"query": "SELECT 'secret'"}}})).as_deref(), Some("tools/call execute_sql"));
        assert_eq!(summary(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})).as_deref(), Some("tools/list"));
        assert_eq!(summary(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"name": 5}})).as_deref(), Some("initialize"));
        assert_eq!(super::summary(b"[1]"), None);
    }

    #[tokio::test]
    async fn lifecycle_and_tools() {
        let init = message(answer(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}})).await);
        assert_eq!(init["result"]["protocolVersion"], "2025-11-25");
        assert_eq!(init["result"]["serverInfo"]["name"], "echo");
        assert!(init["result"]["capabilities"]["tools"].is_object());
        assert_eq!(answer(json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await, Answer::Accepted);
        let list = message(answer(json!({"jsonrpc": "2.0", "id": "l", "method": "tools/list"})).await);
        assert_eq!(list["result"]["tools"][0]["name"], "echo");
        assert_eq!(list["id"], "l");
        let called = message(answer(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "hi"}}})).await);
        assert_eq!(called["result"], json!({"content": [{"type": "text", "text": "hi"}], "isError": false}));
    }

    #[tokio::test]
    async fn errors_carry_json_rpc_and_databricks_codes() {
        let unknown = message(answer(json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover"})).await);
        assert_eq!(unknown["error"]["code"], -32601);
        let missing = message(answer(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo"}})).await);
        assert_eq!(missing["error"]["code"], -32602);
        assert!(missing["error"]["message"].as_str().unwrap().starts_with("INVALID_PARAMETER_VALUE: Missing parameter value"));
        let denied = message(answer(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "other"}})).await);
        assert_eq!(denied["error"]["data"]["error_code"], "PERMISSION_DENIED");
        let Answer::Invalid(batch) = answer(json!([{"jsonrpc": "2.0", "id": 4, "method": "ping"}])).await else { panic!("a batch is invalid") };
        assert_eq!(batch["error"]["code"], -32600);
        let Answer::Invalid(version) = answer(json!({"jsonrpc": "1.0", "id": 5, "method": "ping"})).await else { panic!("jsonrpc 1.0 is invalid") };
        assert_eq!(version["id"], 5);
        let Answer::Invalid(garbage) = handle(&Echo, &caller(), b"{").await else { panic!("garbage is invalid") };
        assert_eq!(garbage["error"]["code"], -32700);
        let bad_params = message(answer(json!({"jsonrpc": "2.0", "id": 6, "method": "ping", "params": [1]})).await);
        assert_eq!(bad_params["error"]["code"], -32602);
    }
}

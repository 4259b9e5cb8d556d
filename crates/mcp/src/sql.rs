//! `/api/2.0/mcp/sql`: Databricks' managed SQL server. Three tools, each answering a
//! Statement Execution response (`statement_id`, `status.state`, `manifest`, `result`):
//! `execute_sql` runs any statement, `execute_sql_read_only` only statements that read, and
//! `poll_sql_result` reports on a statement either started. A statement still running when
//! the answer is due comes back RUNNING, to be polled: MCP clients time out after 5 s.

use std::time::Duration;

use async_trait::async_trait;
use kiln_api::sql::{ExecuteStatementRequest, StatementResponse};
use kiln_core::Error;
use kiln_core::error::Result;
use kiln_core::principal::Caller;
use kiln_engine::statements::Statements;
use kiln_engine::warehouses::Warehouses;
use serde_json::json;

use crate::tools::{Tool, ToolCall, ToolResult, ToolServer};

/// How long a tool call waits for its statement before answering RUNNING; well inside the
/// 5 s HTTP timeout of `databricks-mcp` on mcp 2.x.
const ANSWER_WITHIN: Duration = Duration::from_secs(3);

const EXECUTE_SQL: &str = "execute_sql";
const EXECUTE_SQL_READ_ONLY: &str = "execute_sql_read_only";
const POLL_SQL_RESULT: &str = "poll_sql_result";

#[derive(Debug, Clone)]
pub struct SqlServer {
    statements: Statements,
    warehouses: Warehouses,
    /// How the client reached Kiln, for result links.
    base_url: String,
}

impl SqlServer {
    pub fn new(statements: Statements, warehouses: Warehouses, base_url: String) -> SqlServer {
        SqlServer { statements, warehouses, base_url }
    }

    /// `chosen` when given; else a running warehouse the caller can see, else any it can
    /// see (starting it is the statement's business, as in the REST API).
    async fn warehouse_for(&self, caller: &Caller, chosen: Option<&str>) -> Result<String> {
        if let Some(id) = chosen.filter(|id| !id.is_empty()) {
            return Ok(id.to_string());
        }
        let warehouses = self.warehouses.list(caller).await?;
        let running = warehouses.iter().find(|w| w.state == "RUNNING");
        match running.or(warehouses.first()) {
            Some(warehouse) => Ok(warehouse.id.clone()),
            None => Err(Error::invalid(format!(
                "{} can see no SQL warehouse to run the statement on: ask for CAN_USE on one, or pass _meta.warehouse_id",
                caller.name()
            ))),
        }
    }

    async fn execute(&self, caller: &Caller, call: &ToolCall, statement: &str) -> Result<ToolResult> {
        self.run(caller, Statement { text: statement, warehouse_id: call.meta_string("warehouse_id")?, catalog: None, schema: None }).await
    }

    /// Starts `statement` and answers its Statement Execution response once it ends or
    /// [`ANSWER_WITHIN`] passes.
    pub async fn run(&self, caller: &Caller, statement: Statement<'_>) -> Result<ToolResult> {
        let request = ExecuteStatementRequest {
            statement: statement.text.to_string(),
            warehouse_id: self.warehouse_for(caller, statement.warehouse_id).await?,
            catalog: statement.catalog.map(str::to_string),
            schema: statement.schema.map(str::to_string),
            parameters: Vec::new(),
            disposition: None,
            format: None,
            wait_timeout: None,
            on_wait_timeout: None,
            row_limit: None,
            byte_limit: None,
        };
        let response = self.statements.execute_waiting(caller, request, &self.base_url, Some(ANSWER_WITHIN)).await?;
        Ok(statement_result(&response))
    }

    /// A statement's state and first rows, as `poll_sql_result` reports them.
    pub async fn poll(&self, caller: &Caller, statement_id: &str) -> Result<ToolResult> {
        Ok(statement_result(&self.statements.get(caller, statement_id, &self.base_url).await?))
    }
}

/// One statement to run, where, and in which default catalog and schema.
#[derive(Debug, Clone, Copy)]
pub struct Statement<'a> {
    pub text: &'a str,
    pub warehouse_id: Option<&'a str>,
    pub catalog: Option<&'a str>,
    pub schema: Option<&'a str>,
}

/// The Statement Execution response, as text and as structured content; a FAILED or
/// CANCELED statement is a tool error the agent can read.
fn statement_result(response: &StatementResponse) -> ToolResult {
    let value = serde_json::to_value(response).unwrap_or_else(|e| json!({ "error": e.to_string() }));
    let failed = matches!(response.status.state.as_str(), "FAILED" | "CANCELED" | "CLOSED");
    ToolResult::json(value, failed)
}

fn query_tool(name: &str, description: &str) -> Tool {
    Tool {
        name: name.to_string(),
        description: description.to_string(),
        input_schema: json!({
            "type": "object",
            "properties": { "query": { "type": "string", "description": "One SQL statement, in Databricks SQL." } },
            "required": ["query"],
        }),
    }
}

#[async_trait]
impl ToolServer for SqlServer {
    fn name(&self) -> &str {
        "kiln-sql"
    }

    async fn list_tools(&self, _caller: &Caller) -> Result<Vec<Tool>> {
        Ok(vec![
            query_tool(
                EXECUTE_SQL,
                "Runs one SQL statement on a SQL warehouse (reads and writes). Answers its statement_id and status.state; \
                 rows come with state SUCCEEDED, otherwise poll with poll_sql_result.",
            ),
            query_tool(
                EXECUTE_SQL_READ_ONLY,
                "Runs one SQL statement that only reads (SELECT, SHOW, DESCRIBE, EXPLAIN) on a SQL warehouse; \
                 statements that would change anything are refused. Answers like execute_sql.",
            ),
            Tool {
                name: POLL_SQL_RESULT.to_string(),
                description: "Reports the state of a statement started by execute_sql or execute_sql_read_only, with its rows once SUCCEEDED.".to_string(),
                input_schema: json!({
                    "type": "object",
                    "properties": { "statement_id": { "type": "string", "description": "The statement_id an execute tool answered." } },
                    "required": ["statement_id"],
                }),
            },
        ])
    }

    async fn call_tool(&self, caller: &Caller, call: ToolCall) -> Result<ToolResult> {
        match call.name.as_str() {
            EXECUTE_SQL => self.execute(caller, &call, call.string("query")?).await,
            EXECUTE_SQL_READ_ONLY => {
                let query = call.string("query")?;
                // A statement that does not parse runs anyway, to fail with its syntax error.
                if let Ok(Some(kind)) = kiln_engine::parse::write_kind(query) {
                    return Ok(ToolResult::failure(format!(
                        "{EXECUTE_SQL_READ_ONLY} runs only statements that read; this statement is {} {kind}. Use {EXECUTE_SQL} to change data.",
                        if kind.starts_with(['A', 'E', 'I', 'O', 'U']) { "an" } else { "a" },
                    )));
                }
                self.execute(caller, &call, query).await
            }
            POLL_SQL_RESULT => self.poll(caller, call.string("statement_id")?).await,
            other => Err(Error::new(kiln_core::ErrorCode::BadRequest, format!("Tool {other} not found on this server: its tools are {EXECUTE_SQL}, {EXECUTE_SQL_READ_ONLY} and {POLL_SQL_RESULT}."))),
        }
    }
}

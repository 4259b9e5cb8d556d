//! `/api/2.0/mcp/kiln`: Kiln's own workspace server, the everyday tools an agent needs over
//! the services behind the REST API (statements, warehouses, Unity Catalog, clusters, jobs,
//! identities, secret scopes). Each tool calls the same service method as its REST route,
//! as the caller, so every ACL, grant and audit line applies exactly as over REST.

use std::sync::Arc;

use async_trait::async_trait;
use kiln_api::scim::ScimListQuery;
use kiln_core::clusters::{Clusters, ListFilter};
use kiln_core::error::Result;
use kiln_core::identity::{ScimService, render_me};
use kiln_core::jobs::Jobs;
use kiln_core::principal::Caller;
use kiln_core::secrets::SecretsService;
use kiln_core::uc::UnityCatalog;
use kiln_core::{Error, ErrorCode};
use kiln_engine::statements::Statements;
use kiln_engine::warehouses::Warehouses;
use kiln_store::{PrincipalKind, RunFilter};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::sql::{SqlServer, Statement};
use crate::tools::{Tool, ToolCall, ToolResult, ToolServer};

/// Runs listed by `list_job_runs` at most.
const MAX_RUNS: usize = 100;

/// The services the tools call.
#[derive(Debug, Clone)]
pub struct WorkspaceServices {
    pub statements: Statements,
    pub warehouses: Warehouses,
    pub uc: UnityCatalog,
    pub clusters: Clusters,
    pub jobs: Jobs,
    pub scim: ScimService,
    pub secrets: Arc<SecretsService>,
}

#[derive(Debug, Clone)]
pub struct WorkspaceServer {
    services: WorkspaceServices,
    sql: SqlServer,
    base_url: String,
}

impl WorkspaceServer {
    pub fn new(services: WorkspaceServices, base_url: String) -> WorkspaceServer {
        let sql = SqlServer::new(services.statements.clone(), services.warehouses.clone(), base_url.clone());
        WorkspaceServer { services, sql, base_url }
    }
}

/// A parameter of a tool: name, JSON type, whether required, what it means.
type Param = (&'static str, &'static str, bool, &'static str);

const STATEMENT_ID: Param = ("statement_id", "string", true, "The statement's id.");
const WAREHOUSE_ID: Param = ("id", "string", true, "The SQL warehouse's id.");
const CLUSTER_ID: Param = ("cluster_id", "string", true, "The cluster's id.");
const CATALOG: Param = ("catalog_name", "string", true, "The catalog's name.");
const SCHEMA: Param = ("schema_name", "string", true, "The schema's name.");

/// Every tool: name, description, parameters.
const TOOLS: &[(&str, &str, &[Param])] = &[
    ("execute_statement", "Runs one SQL statement on a SQL warehouse as you; answers a Statement Execution response (poll get_statement while PENDING or RUNNING).", &[
        ("statement", "string", true, "One SQL statement, in Databricks SQL."),
        ("warehouse_id", "string", false, "The warehouse to run on; by default a running one you can use."),
        ("catalog", "string", false, "The default catalog for unqualified names."),
        ("schema", "string", false, "The default schema for unqualified names."),
    ]),
    ("get_statement", "The state of a statement, with its first rows once SUCCEEDED.", &[STATEMENT_ID]),
    ("get_statement_result_chunk", "One chunk of a finished statement's rows (next_chunk_index in the previous chunk says which comes next).", &[
        STATEMENT_ID,
        ("chunk_index", "integer", true, "The chunk's index, from 0."),
    ]),
    ("cancel_statement", "Cancels a statement still running.", &[STATEMENT_ID]),
    ("list_warehouses", "The SQL warehouses you can see, with their states.", &[]),
    ("get_warehouse", "One SQL warehouse.", &[WAREHOUSE_ID]),
    ("start_warehouse", "Starts a stopped SQL warehouse.", &[WAREHOUSE_ID]),
    ("stop_warehouse", "Stops a running SQL warehouse.", &[WAREHOUSE_ID]),
    ("list_catalogs", "The Unity Catalog catalogs you can see.", &[]),
    ("list_schemas", "The schemas of a catalog you can see.", &[CATALOG]),
    ("list_tables", "The tables and views of a schema you can see.", &[CATALOG, SCHEMA]),
    ("get_table", "One table with its columns (names, types, comments) and constraints.", &[("full_name", "string", true, "catalog.schema.table")]),
    ("list_clusters", "The clusters you can see, with their states.", &[]),
    ("get_cluster", "One cluster.", &[CLUSTER_ID]),
    ("start_cluster", "Starts a terminated cluster.", &[CLUSTER_ID]),
    ("terminate_cluster", "Terminates a running cluster (it can be started again).", &[CLUSTER_ID]),
    ("list_jobs", "The jobs you can see.", &[("name", "string", false, "Only jobs with exactly this name.")]),
    ("get_job", "One job with its settings.", &[("job_id", "integer", true, "The job's id.")]),
    ("run_job_now", "Starts a run of a job; answers its run_id.", &[
        ("job_id", "integer", true, "The job's id."),
        ("job_parameters", "object", false, "Job parameter values by name."),
    ]),
    ("list_job_runs", "Recent runs, newest first (at most 100).", &[
        ("job_id", "integer", false, "Only this job's runs."),
        ("active_only", "boolean", false, "Only runs not yet finished."),
    ]),
    ("get_run_output", "A task run's output and error, with its state.", &[("run_id", "integer", true, "The task run's id.")]),
    ("current_user", "Who you are: your user or service principal, with groups and entitlements.", &[]),
    ("list_users", "The workspace's users.", &[("filter", "string", false, "A SCIM filter, e.g. userName co \"smith\".")]),
    ("list_secret_scopes", "The secret scopes' names (secret values are never shown).", &[]),
];

fn tool(name: &str, description: &str, params: &[Param]) -> Tool {
    let properties: Map<String, Value> = params.iter().map(|(name, kind, _, description)| (name.to_string(), json!({ "type": kind, "description": description }))).collect();
    let required: Vec<&str> = params.iter().filter(|(_, _, required, _)| *required).map(|(name, ..)| *name).collect();
    Tool { name: name.to_string(), description: description.to_string(), input_schema: json!({ "type": "object", "properties": properties, "required": required }) }
}

fn answer(value: impl Serialize) -> Result<ToolResult> {
    let value = serde_json::to_value(value).map_err(|e| Error::internal(format!("tool result: {e}")))?;
    Ok(ToolResult::json(value, false))
}

fn done(what: String) -> Result<ToolResult> {
    answer(json!({ "done": what }))
}

#[async_trait]
impl ToolServer for WorkspaceServer {
    fn name(&self) -> &str {
        "kiln-workspace"
    }

    async fn list_tools(&self, _caller: &Caller) -> Result<Vec<Tool>> {
        Ok(TOOLS.iter().map(|(name, description, params)| tool(name, description, params)).collect())
    }

    async fn call_tool(&self, caller: &Caller, call: ToolCall) -> Result<ToolResult> {
        let s = &self.services;
        match call.name.as_str() {
            "execute_statement" => {
                let statement = Statement { text: call.string("statement")?, warehouse_id: call.optional_string("warehouse_id")?, catalog: call.optional_string("catalog")?, schema: call.optional_string("schema")? };
                self.sql.run(caller, statement).await
            }
            "get_statement" => self.sql.poll(caller, call.string("statement_id")?).await,
            "get_statement_result_chunk" => {
                let index = usize::try_from(call.integer("chunk_index")?).map_err(|_| Error::invalid("chunk_index must not be negative"))?;
                answer(s.statements.chunk(caller, call.string("statement_id")?, index, &self.base_url).await?)
            }
            "cancel_statement" => {
                let id = call.string("statement_id")?;
                s.statements.cancel(caller, id).await?;
                done(format!("statement {id} canceled"))
            }
            "list_warehouses" => answer(json!({ "warehouses": s.warehouses.list(caller).await? })),
            "get_warehouse" => answer(s.warehouses.get(caller, call.string("id")?).await?),
            "start_warehouse" => {
                let id = call.string("id")?;
                s.warehouses.start(caller, id).await?;
                done(format!("warehouse {id} is starting; get_warehouse shows when it is RUNNING"))
            }
            "stop_warehouse" => {
                let id = call.string("id")?;
                s.warehouses.stop(caller, id).await?;
                done(format!("warehouse {id} is stopping"))
            }
            "list_catalogs" => answer(json!({ "catalogs": s.uc.list_catalogs(caller).await? })),
            "list_schemas" => answer(json!({ "schemas": s.uc.list_schemas(caller, call.string("catalog_name")?).await? })),
            "list_tables" => answer(json!({ "tables": s.uc.list_tables(caller, call.string("catalog_name")?, call.string("schema_name")?).await? })),
            "get_table" => answer(s.uc.get_table(caller, call.string("full_name")?).await?),
            "list_clusters" => answer(json!({ "clusters": s.clusters.list(caller, &ListFilter::default()).await? })),
            "get_cluster" => answer(s.clusters.get(caller, call.string("cluster_id")?).await?),
            "start_cluster" => {
                let id = call.string("cluster_id")?;
                s.clusters.start(caller, id).await?;
                done(format!("cluster {id} is starting; get_cluster shows when it is RUNNING"))
            }
            "terminate_cluster" => {
                let id = call.string("cluster_id")?;
                s.clusters.terminate(caller, id).await?;
                done(format!("cluster {id} is terminating"))
            }
            "list_jobs" => answer(json!({ "jobs": s.jobs.list(caller, call.optional_string("name")?, false).await? })),
            "get_job" => answer(s.jobs.get(caller, call.integer("job_id")?).await?),
            "run_job_now" => {
                let mut request = json!({ "job_id": call.integer("job_id")? });
                if let Some(parameters) = call.arguments.get("job_parameters").filter(|p| !p.is_null()) {
                    request["job_parameters"] = parameters.clone();
                }
                let (run_id, number_in_job) = s.jobs.run_now(caller, &request).await?;
                answer(json!({ "run_id": run_id, "number_in_job": number_in_job }))
            }
            "list_job_runs" => {
                let filter = RunFilter { job_id: call.optional_integer("job_id")?, active_only: call.flag("active_only")?, ..Default::default() };
                answer(json!({ "runs": s.jobs.list_runs(caller, &filter, 0, MAX_RUNS, false).await? }))
            }
            "get_run_output" => answer(s.jobs.get_output(caller, call.integer("run_id")?).await?),
            "current_user" => answer(render_me(&caller.principal)),
            "list_users" => {
                let query = ScimListQuery { filter: call.optional_string("filter")?.map(str::to_string), ..Default::default() };
                answer(json!({ "Resources": s.scim.list(PrincipalKind::User, &query).await?.resources }))
            }
            "list_secret_scopes" => {
                let scopes = s.secrets.list_scopes(caller).await?;
                answer(json!({ "scopes": scopes.iter().map(|scope| json!({ "name": scope.name })).collect::<Vec<_>>() }))
            }
            other => Err(Error::new(ErrorCode::BadRequest, format!("Tool {other} not found on this server; tools/list names its tools."))),
        }
    }
}

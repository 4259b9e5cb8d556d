//! SQL warehouses (`/api/2.0/sql/warehouses`), Statement Execution
//! (`/api/2.0/sql/statements`) and query history (`/api/2.0/sql/history/queries`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Channel {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dbsql_version: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EndpointTagPair {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EndpointTags {
    #[serde(default)]
    pub custom_tags: Vec<EndpointTagPair>,
}

/// The body of create and edit; every field is optional on the wire.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct WarehouseSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_size: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_num_clusters: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_num_clusters: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_stop_mins: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_photon: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_serverless_compute: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot_instance_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<EndpointTags>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement_timeout: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateWarehouseResponse {
    pub id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EndpointHealth {
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OdbcParams {
    pub hostname: String,
    pub path: String,
    pub port: i32,
    pub protocol: String,
}

/// `GET /warehouses/{id}` and each item of the list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EndpointInfo {
    pub id: String,
    pub name: String,
    pub cluster_size: String,
    pub min_num_clusters: i32,
    pub max_num_clusters: i32,
    pub auto_stop_mins: i32,
    pub enable_photon: bool,
    pub enable_serverless_compute: bool,
    pub warehouse_type: String,
    pub spot_instance_policy: String,
    pub channel: Channel,
    pub tags: EndpointTags,
    pub creator_name: String,
    pub state: String,
    pub num_clusters: i32,
    pub num_active_sessions: i64,
    pub health: EndpointHealth,
    pub jdbc_url: String,
    pub odbc_params: OdbcParams,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListWarehousesQuery {
    pub page_size: Option<i64>,
    pub page_token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListWarehousesResponse {
    pub warehouses: Vec<EndpointInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StatementParameter {
    pub name: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ExecuteStatementRequest {
    pub statement: String,
    pub warehouse_id: String,
    pub catalog: Option<String>,
    pub schema: Option<String>,
    #[serde(default)]
    pub parameters: Vec<StatementParameter>,
    pub disposition: Option<String>,
    pub format: Option<String>,
    pub wait_timeout: Option<String>,
    pub on_wait_timeout: Option<String>,
    pub row_limit: Option<i64>,
    pub byte_limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceError {
    pub error_code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StatementStatus {
    /// PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED or CLOSED.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ServiceError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql_state: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    pub position: i32,
    pub type_name: String,
    pub type_text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_precision: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_scale: Option<i32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResultSchema {
    pub column_count: i32,
    pub columns: Vec<ColumnInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChunkInfo {
    pub chunk_index: i32,
    pub row_offset: i64,
    pub row_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub byte_count: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResultManifest {
    pub format: String,
    pub schema: ResultSchema,
    pub total_chunk_count: i32,
    pub chunks: Vec<ChunkInfo>,
    pub total_row_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_byte_count: Option<i64>,
    pub truncated: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResultData {
    pub chunk_index: i32,
    pub row_offset: i64,
    pub row_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub byte_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_array: Option<Vec<Vec<Option<String>>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_links: Option<Vec<ExternalLink>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_chunk_index: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_chunk_internal_link: Option<String>,
}

/// A presigned link to one result chunk; fetched without the Authorization header.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExternalLink {
    pub chunk_index: i32,
    pub row_offset: i64,
    pub row_count: i64,
    pub byte_count: i64,
    pub external_link: String,
    /// RFC 3339.
    pub expiration: String,
    pub http_headers: std::collections::BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_chunk_index: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_chunk_internal_link: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StatementResponse {
    pub statement_id: String,
    pub status: StatementStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<ResultManifest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultData>,
}

/// The statuses of a query in the query history (`QueryStatus` in the SDK).
pub const QUERY_STATUSES: &[&str] = &["CANCELED", "COMPILED", "COMPILING", "FAILED", "FINISHED", "QUEUED", "RUNNING", "STARTED"];

/// The query history list's parameters. The SDK flattens `filter_by` into dotted keys and
/// repeats keys for lists (`filter_by.statuses=FAILED&filter_by.statuses=FINISHED`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQueriesQuery {
    pub max_results: Option<i64>,
    pub page_token: Option<String>,
    pub statuses: Vec<String>,
    pub user_ids: Vec<i64>,
    pub warehouse_ids: Vec<String>,
    pub statement_ids: Vec<String>,
    pub start_time_ms: Option<i64>,
    pub end_time_ms: Option<i64>,
}

impl ListQueriesQuery {
    /// Reads decoded `(key, value)` pairs; errors name the parameter.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<ListQueriesQuery, String> {
        fn number(key: &str, value: &str) -> Result<i64, String> {
            value.parse().map_err(|_| format!("{key} must be an integer, got '{value}'"))
        }
        let mut query = ListQueriesQuery::default();
        for (key, value) in pairs {
            match key {
                "max_results" => query.max_results = Some(number(key, value)?),
                "page_token" => query.page_token = Some(value.to_string()),
                "filter_by.statuses" if QUERY_STATUSES.contains(&value) => query.statuses.push(value.to_string()),
                "filter_by.statuses" => return Err(format!("{key} '{}' must be one of {}", value.escape_debug(), QUERY_STATUSES.join(", "))),
                "filter_by.user_ids" => query.user_ids.push(number(key, value)?),
                "filter_by.warehouse_ids" => query.warehouse_ids.push(value.to_string()),
                "filter_by.statement_ids" => query.statement_ids.push(value.to_string()),
                "filter_by.query_start_time_range.start_time_ms" => query.start_time_ms = Some(number(key, value)?),
                "filter_by.query_start_time_range.end_time_ms" => query.end_time_ms = Some(number(key, value)?),
                _ => {}
            }
        }
        Ok(query)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct QueryInfo {
    pub query_id: String,
    pub status: String,
    pub query_text: String,
    pub statement_type: String,
    pub user_id: i64,
    pub user_name: String,
    pub executed_as_user_id: i64,
    pub executed_as_user_name: String,
    pub warehouse_id: String,
    pub endpoint_id: String,
    pub query_start_time_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_end_time_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_end_time_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows_produced: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    pub is_final: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListQueriesResponse {
    pub res: Vec<QueryInfo>,
    pub has_next_page: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

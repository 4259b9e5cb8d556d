//! Clusters 2.0/2.1 (`/api/2.x/clusters`) and Command Execution 1.2 (`/api/1.2`). Cluster
//! specs and details travel as JSON objects (the spec is echoed back as given), so only the
//! request envelopes are typed here. 1.2 uses camelCase fields.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
pub struct ClusterIdRequest {
    #[serde(default)]
    pub cluster_id: String,
    /// `clusters/restart`: who restarts it; Kiln records the caller, but the field is typed.
    #[serde(default)]
    pub restart_user: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CreateClusterResponse {
    pub cluster_id: String,
}

/// `clusters/update`: the fields `update_mask` names, taken from `cluster`.
#[derive(Debug, Clone, Deserialize)]
pub struct UpdateClusterRequest {
    #[serde(default)]
    pub cluster_id: String,
    #[serde(default)]
    pub update_mask: String,
    #[serde(default)]
    pub cluster: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ResizeRequest {
    #[serde(default)]
    pub cluster_id: String,
    pub num_workers: Option<i64>,
    pub autoscale: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChangeOwnerRequest {
    #[serde(default)]
    pub cluster_id: String,
    #[serde(default)]
    pub owner_username: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct EventsRequest {
    #[serde(default)]
    pub cluster_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_types: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_token: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClusterEvent {
    pub cluster_id: String,
    pub timestamp: i64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventsResponse {
    pub events: Vec<ClusterEvent>,
    /// The request body of the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page: Option<EventsRequest>,
    pub total_count: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListClustersResponse {
    pub clusters: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// 1.2 `contexts/create`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateContextRequest {
    #[serde(default)]
    pub cluster_id: String,
    #[serde(default)]
    pub language: String,
}

/// 1.2 `contexts/status` (query) and `contexts/destroy` (body).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextRequest {
    #[serde(default)]
    pub cluster_id: String,
    #[serde(default)]
    pub context_id: String,
}

/// 1.2 `commands/execute`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecuteRequest {
    #[serde(default)]
    pub cluster_id: String,
    #[serde(default)]
    pub context_id: String,
    #[serde(default)]
    pub language: String,
    #[serde(default)]
    pub command: String,
}

/// 1.2 `commands/status` (query) and `commands/cancel` (body).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandRequest {
    #[serde(default)]
    pub cluster_id: String,
    #[serde(default)]
    pub context_id: String,
    #[serde(default)]
    pub command_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Created {
    pub id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContextStatusResponse {
    pub id: String,
    pub status: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CommandStatusResponse {
    pub id: String,
    pub status: String,
    /// Absent until the command is done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results: Option<serde_json::Value>,
}

/// The 1.2 error body: a message and no error code.
#[derive(Debug, Clone, Serialize)]
pub struct CommandError {
    pub error: String,
}

/// `spark.sql` from a cluster's driver (Kiln's own route).
#[derive(Debug, Clone, Deserialize)]
pub struct DriverSqlRequest {
    #[serde(default)]
    pub cluster_id: String,
    pub statement: String,
    pub catalog: Option<String>,
    pub schema: Option<String>,
    #[serde(default)]
    pub parameters: Vec<DriverSqlParameter>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DriverSqlParameter {
    pub name: String,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DriverSqlColumn {
    pub name: String,
    pub type_name: String,
    pub type_text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DriverSqlResponse {
    pub columns: Vec<DriverSqlColumn>,
    pub rows: Vec<Vec<Option<String>>>,
    pub truncated: bool,
    pub catalog: String,
    pub schema: String,
}

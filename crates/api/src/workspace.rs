//! Workspace 2.0 (`/api/2.0/workspace`): the tree of directories, notebooks and files.

use serde::{Deserialize, Serialize};

/// `ObjectInfo`, as get-status and list answer it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ObjectInfo {
    pub path: String,
    pub object_type: String,
    pub object_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    pub resource_id: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListResponse {
    /// Absent for an empty directory, as on Databricks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<ObjectInfo>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PathQuery {
    pub path: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ListQuery {
    pub path: String,
    pub notebooks_modified_after: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ExportQuery {
    pub path: String,
    pub format: Option<String>,
    #[serde(default)]
    pub direct_download: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportResponse {
    /// Base64 of the exported bytes.
    pub content: String,
    pub file_type: String,
}

/// The JSON form of import; the multipart form carries the same fields.
#[derive(Debug, Clone, Deserialize)]
pub struct ImportRequest {
    pub path: String,
    /// Base64.
    pub content: Option<String>,
    pub format: Option<String>,
    pub language: Option<String>,
    #[serde(default)]
    pub overwrite: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MkdirsRequest {
    pub path: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DeleteRequest {
    pub path: String,
    #[serde(default)]
    pub recursive: bool,
}

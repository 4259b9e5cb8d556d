//! The Files API (`/api/2.0/fs/files`, `/api/2.0/fs/directories`) over volume paths.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize)]
pub struct UploadQuery {
    pub overwrite: Option<bool>,
}

/// `POST /fs/files{path}?action=initiate-upload[&overwrite=...]`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UploadActionQuery {
    pub action: Option<String>,
    pub overwrite: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListDirectoryQuery {
    pub page_size: Option<i64>,
    pub page_token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DirectoryEntry {
    pub path: String,
    pub name: String,
    pub is_directory: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_size: Option<i64>,
    /// Epoch milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListDirectoryResponse {
    pub contents: Vec<DirectoryEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

//! DBFS 2.0 (`/api/2.0/dbfs`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
pub struct PathRequest {
    pub path: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Put {
    pub path: String,
    /// Base64.
    #[serde(default)]
    pub contents: String,
    #[serde(default)]
    pub overwrite: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Create {
    pub path: String,
    #[serde(default)]
    pub overwrite: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct CreateResponse {
    pub handle: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AddBlock {
    pub handle: i64,
    /// Base64.
    pub data: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Close {
    pub handle: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReadQuery {
    pub path: String,
    pub offset: Option<i64>,
    pub length: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReadResponse {
    pub bytes_read: i64,
    /// Base64.
    pub data: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileInfo {
    pub path: String,
    pub is_dir: bool,
    pub file_size: i64,
    pub modification_time: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListResponse {
    pub files: Vec<FileInfo>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Move {
    pub source_path: String,
    pub destination_path: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Delete {
    pub path: String,
    #[serde(default)]
    pub recursive: bool,
}

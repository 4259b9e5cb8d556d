//! The error body every Databricks REST endpoint answers with.

use serde::{Deserialize, Serialize};

/// `{"error_code": "...", "message": "...", "details": [...]}`
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorBody {
    pub error_code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<serde_json::Value>,
}

/// The SCIM flavour of an error: `{"schemas":[...Error], "detail", "status", "scimType"}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScimErrorBody {
    pub schemas: Vec<String>,
    pub detail: String,
    pub status: String,
    #[serde(rename = "scimType", skip_serializing_if = "Option::is_none")]
    pub scim_type: Option<String>,
}

pub const SCIM_ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// `google.rpc.ErrorInfo` detail, used to carry the request id of a 5xx.
pub fn request_info_detail(request_id: &str) -> serde_json::Value {
    serde_json::json!({
        "@type": "type.googleapis.com/google.rpc.RequestInfo",
        "request_id": request_id,
        "serving_data": "",
    })
}

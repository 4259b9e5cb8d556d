//! Secrets 2.0 (`/api/2.0/secrets`): scopes, secrets and scope ACLs.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
pub struct CreateScope {
    pub scope: String,
    pub initial_manage_principal: Option<String>,
    pub scope_backend_type: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ScopeRequest {
    pub scope: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SecretScope {
    pub name: String,
    pub backend_type: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListScopesResponse {
    pub scopes: Vec<SecretScope>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PutSecret {
    pub scope: String,
    pub key: String,
    pub string_value: Option<String>,
    pub bytes_value: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SecretRequest {
    pub scope: String,
    pub key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SecretMetadata {
    pub key: String,
    pub last_updated_timestamp: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListSecretsResponse {
    pub secrets: Vec<SecretMetadata>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GetSecretResponse {
    pub key: String,
    /// Base64 of the value.
    pub value: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PutAcl {
    pub scope: String,
    pub principal: String,
    pub permission: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AclRequest {
    pub scope: String,
    pub principal: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AclItem {
    pub principal: String,
    pub permission: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListAclsResponse {
    pub items: Vec<AclItem>,
}

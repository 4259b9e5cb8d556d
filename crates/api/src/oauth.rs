//! OIDC discovery, the token endpoint and service-principal OAuth secrets.

use serde::{Deserialize, Serialize};

/// `GET /.well-known/databricks-config`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostMetadata {
    pub oidc_endpoint: String,
    pub workspace_id: String,
    pub account_id: String,
    pub cloud: String,
    pub host_type: String,
    pub token_federation_default_oidc_audiences: Vec<String>,
}

/// `GET <oidc_endpoint>/.well-known/oauth-authorization-server`
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthorizationServerMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub grant_types_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub response_types_supported: Vec<String>,
    pub scopes_supported: Vec<String>,
}

/// The form body of `POST /oidc/v1/token`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TokenRequestForm {
    pub grant_type: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub subject_token: Option<String>,
    pub subject_token_type: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    pub scope: String,
}

/// OAuth errors use their own shape (RFC 6749 §5.2), not the Databricks one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OAuthErrorBody {
    pub error: String,
    pub error_description: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CreateSecretRequest {
    /// Seconds as a protobuf Duration string, e.g. `"63072000s"`.
    pub lifetime: Option<String>,
    pub scopes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateSecretResponse {
    /// The secret itself, shown only in this response.
    pub secret: String,
    #[serde(flatten)]
    pub info: SecretInfo,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecretInfo {
    pub id: String,
    pub secret_hash: String,
    pub status: String,
    pub create_time: String,
    pub update_time: String,
    pub expire_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListSecretsResponse {
    pub secrets: Vec<SecretInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListSecretsQuery {
    pub page_size: Option<i64>,
    pub page_token: Option<String>,
}

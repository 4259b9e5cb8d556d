//! `/api/2.0/token/*` and `/api/2.0/token-management/*`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CreateTokenRequest {
    pub comment: Option<String>,
    pub lifetime_seconds: Option<i64>,
    pub scopes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DeleteTokenRequest {
    pub token_id: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CreateOboTokenRequest {
    pub application_id: String,
    pub comment: Option<String>,
    pub lifetime_seconds: Option<i64>,
    pub scopes: Option<Vec<String>>,
}

/// The token as its owner sees it (`PublicTokenInfo`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PublicTokenInfo {
    pub token_id: String,
    pub creation_time: i64,
    /// `-1` means the token never expires.
    pub expiry_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}

/// The token as an admin sees it through token management (`TokenInfo`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenInfo {
    pub token_id: String,
    pub creation_time: i64,
    pub expiry_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub created_by_id: i64,
    pub created_by_username: String,
    pub owner_id: i64,
    pub workspace_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateTokenResponse {
    pub token_value: String,
    pub token_info: PublicTokenInfo,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateOboTokenResponse {
    pub token_value: String,
    pub token_info: TokenInfo,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListPublicTokensResponse {
    pub token_infos: Vec<PublicTokenInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListTokensResponse {
    pub token_infos: Vec<TokenInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetTokenResponse {
    pub token_info: TokenInfo,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListTokensQuery {
    pub created_by_id: Option<String>,
    pub created_by_username: Option<String>,
}

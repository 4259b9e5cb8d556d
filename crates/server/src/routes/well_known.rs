//! Unauthenticated discovery: host metadata and the OIDC authorization-server document.

use axum::Router;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use kiln_api::oauth::{AuthorizationServerMetadata, HostMetadata};

use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/databricks-config", get(host_metadata))
        .route("/oidc/.well-known/oauth-authorization-server", get(authorization_server))
}

/// The base URL as the client addressed us, so discovery works behind any host name.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(axum::http::header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}

async fn host_metadata(State(state): State<AppState>, headers: HeaderMap) -> Json<HostMetadata> {
    let base = base_url(&headers);
    Json(HostMetadata {
        oidc_endpoint: format!("{base}/oidc"),
        workspace_id: state.workspace.workspace_id.to_string(),
        account_id: state.workspace.account_id.clone(),
        cloud: "AWS".to_string(),
        host_type: "WORKSPACE_HOST".to_string(),
        token_federation_default_oidc_audiences: vec![format!("{base}/oidc/v1/token")],
    })
}

async fn authorization_server(headers: HeaderMap) -> Json<AuthorizationServerMetadata> {
    let base = base_url(&headers);
    Json(AuthorizationServerMetadata {
        issuer: format!("{base}/oidc"),
        authorization_endpoint: format!("{base}/oidc/v1/authorize"),
        token_endpoint: format!("{base}/oidc/v1/token"),
        jwks_uri: format!("{base}/oidc/v1/keys"),
        grant_types_supported: vec!["client_credentials".to_string()],
        token_endpoint_auth_methods_supported: vec!["client_secret_basic".to_string(), "client_secret_post".to_string()],
        response_types_supported: vec!["code".to_string()],
        scopes_supported: vec!["all-apis".to_string()],
    })
}

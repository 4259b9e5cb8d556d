//! `/api/2.0/secrets`: scopes, secrets and scope ACLs over [`kiln_core::secrets`].

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use kiln_api::secrets::*;
use kiln_core::Error;
use kiln_core::secrets::SecretValue;

use super::{CallerExtractor, empty};
use crate::error::ApiError;
use crate::extract::{AppJson, Checked};
use crate::state::AppState;

const BASE: &str = "/api/2.0/secrets";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(&format!("{BASE}/scopes/create"), post(create_scope))
        .route(&format!("{BASE}/scopes/list"), get(list_scopes))
        .route(&format!("{BASE}/scopes/delete"), post(delete_scope))
        .route(&format!("{BASE}/put"), post(put_secret))
        .route(&format!("{BASE}/list"), get(list_secrets))
        .route(&format!("{BASE}/get"), get(get_secret))
        .route(&format!("{BASE}/delete"), post(delete_secret))
        .route(&format!("{BASE}/acls/put"), post(put_acl))
        .route(&format!("{BASE}/acls/get"), get(get_acl))
        .route(&format!("{BASE}/acls/list"), get(list_acls))
        .route(&format!("{BASE}/acls/delete"), post(delete_acl))
}

type Reply<T> = Result<Json<T>, ApiError>;

async fn create_scope(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Checked(request): Checked<CreateScope>) -> Reply<serde_json::Value> {
    state.secrets.create_scope(&caller, &request.scope, request.initial_manage_principal.as_deref(), request.scope_backend_type.as_deref()).await?;
    Ok(empty())
}

async fn list_scopes(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor) -> Reply<ListScopesResponse> {
    let scopes = state.secrets.list_scopes(&caller).await?;
    Ok(Json(ListScopesResponse { scopes: scopes.into_iter().map(|s| SecretScope { name: s.name, backend_type: "DATABRICKS".to_string() }).collect() }))
}

async fn delete_scope(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<ScopeRequest>) -> Reply<serde_json::Value> {
    state.secrets.delete_scope(&caller, &request.scope).await?;
    Ok(empty())
}

async fn put_secret(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<PutSecret>) -> Reply<serde_json::Value> {
    let value = match (request.string_value, request.bytes_value) {
        (Some(text), None) => SecretValue::String(text),
        (None, Some(bytes)) => SecretValue::Bytes(bytes),
        _ => return Err(Error::invalid("set exactly one of string_value and bytes_value").into()),
    };
    state.secrets.put_secret(&caller, &request.scope, &request.key, value).await?;
    Ok(empty())
}

async fn list_secrets(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Query(query): Query<ScopeRequest>) -> Reply<ListSecretsResponse> {
    let secrets = state.secrets.list_secrets(&caller, &query.scope).await?;
    Ok(Json(ListSecretsResponse { secrets: secrets.into_iter().map(|s| SecretMetadata { key: s.key, last_updated_timestamp: s.last_updated_timestamp }).collect() }))
}

async fn get_secret(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Query(query): Query<SecretRequest>) -> Reply<GetSecretResponse> {
    let value = state.secrets.get_secret(&caller, &query.scope, &query.key).await?;
    Ok(Json(GetSecretResponse { key: query.key, value }))
}

async fn delete_secret(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<SecretRequest>) -> Reply<serde_json::Value> {
    state.secrets.delete_secret(&caller, &request.scope, &request.key).await?;
    Ok(empty())
}

async fn put_acl(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<PutAcl>) -> Reply<serde_json::Value> {
    state.secrets.put_acl(&caller, &request.scope, &request.principal, &request.permission).await?;
    Ok(empty())
}

async fn get_acl(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Query(query): Query<AclRequest>) -> Reply<AclItem> {
    let permission = state.secrets.get_acl(&caller, &query.scope, &query.principal).await?;
    Ok(Json(AclItem { principal: query.principal, permission }))
}

async fn list_acls(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Query(query): Query<ScopeRequest>) -> Reply<ListAclsResponse> {
    let acls = state.secrets.list_acls(&caller, &query.scope).await?;
    Ok(Json(ListAclsResponse { items: acls.into_iter().map(|(principal, permission)| AclItem { principal, permission }).collect() }))
}

async fn delete_acl(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<AclRequest>) -> Reply<serde_json::Value> {
    state.secrets.delete_acl(&caller, &request.scope, &request.principal).await?;
    Ok(empty())
}

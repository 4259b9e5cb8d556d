//! The OAuth token endpoint and service-principal secrets at the path the SDK's
//! `service_principal_secrets_proxy` uses.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Form, Json, Router};
use base64::Engine;
use kiln_api::oauth::{CreateSecretRequest, CreateSecretResponse, ListSecretsQuery, ListSecretsResponse, OAuthErrorBody, TokenRequestForm};
use kiln_api::page::{PageCursor, paginate};
use kiln_core::Error;
use kiln_core::oauth::OAuthError;

use super::CallerExtractor;
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::state::AppState;

const SECRETS: &str = "/api/2.0/accounts/servicePrincipals/{sp_id}/credentials/secrets";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/oidc/v1/token", post(token))
        .route(SECRETS, post(create_secret).get(list_secrets))
        .route(&format!("{SECRETS}/{{secret_id}}"), delete(delete_secret))
}

fn oauth_error(status: StatusCode, error: OAuthError) -> Response {
    (status, Json(OAuthErrorBody { error: error.error.to_string(), error_description: error.description })).into_response()
}

/// Client credentials from HTTP Basic, or else from the form.
fn client_credentials(headers: &HeaderMap, form: &TokenRequestForm) -> Option<(String, String)> {
    let basic = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|encoded| base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok())
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.split_once(':').map(|(id, secret)| (id.to_string(), secret.to_string())));
    basic.or_else(|| Some((form.client_id.clone()?, form.client_secret.clone()?)))
}

async fn token(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<TokenRequestForm>) -> Response {
    if form.grant_type.as_deref() != Some("client_credentials") {
        let description = format!("grant_type {} is not supported; use client_credentials", form.grant_type.as_deref().unwrap_or("(missing)"));
        return oauth_error(StatusCode::BAD_REQUEST, OAuthError { error: "unsupported_grant_type", description });
    }
    let Some((client_id, client_secret)) = client_credentials(&headers, &form) else {
        return oauth_error(StatusCode::UNAUTHORIZED, OAuthError { error: "invalid_client", description: "client credentials are missing".to_string() });
    };
    match state.oauth.client_credentials(&client_id, &client_secret, form.scope.as_deref()).await {
        Ok(response) => Json(response).into_response(),
        Err(error) if error.error == "server_error" => oauth_error(StatusCode::INTERNAL_SERVER_ERROR, error),
        Err(error) if error.error == "invalid_client" => oauth_error(StatusCode::UNAUTHORIZED, error),
        Err(error) => oauth_error(StatusCode::BAD_REQUEST, error),
    }
}

async fn create_secret(
    State(state): State<AppState>,
    CallerExtractor(caller): CallerExtractor,
    Path(sp_id): Path<String>,
    AppJson(request): AppJson<CreateSecretRequest>,
) -> Result<Json<CreateSecretResponse>, ApiError> {
    Ok(Json(state.oauth.create_secret(&caller, &sp_id, request).await?))
}

async fn list_secrets(
    State(state): State<AppState>,
    CallerExtractor(caller): CallerExtractor,
    Path(sp_id): Path<String>,
    Query(query): Query<ListSecretsQuery>,
) -> Result<Json<ListSecretsResponse>, ApiError> {
    let secrets = state.oauth.list_secrets(&caller, &sp_id).await?;
    let cursor = match query.page_token.as_deref() {
        Some(token) => PageCursor::decode(token).ok_or_else(|| Error::invalid("page_token is not a token this server issued"))?,
        None => PageCursor { offset: 0 },
    };
    let (page, next_page_token) = paginate(secrets, cursor, super::page_size("page_size", query.page_size, 100, 1000)?);
    Ok(Json(ListSecretsResponse { secrets: page, next_page_token }))
}

async fn delete_secret(
    State(state): State<AppState>,
    CallerExtractor(caller): CallerExtractor,
    Path((sp_id, secret_id)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    state.oauth.delete_secret(&caller, &sp_id, &secret_id).await?;
    Ok(Json(serde_json::json!({})))
}

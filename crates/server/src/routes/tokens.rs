//! `/api/2.0/token/{create,list,delete}`

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use kiln_api::tokens::{CreateTokenRequest, CreateTokenResponse, DeleteTokenRequest, ListPublicTokensResponse};

use super::CallerExtractor;
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/2.0/token/create", post(create))
        .route("/api/2.0/token/list", get(list))
        .route("/api/2.0/token/delete", post(delete))
}

async fn create(
    State(state): State<AppState>,
    CallerExtractor(caller): CallerExtractor,
    AppJson(request): AppJson<CreateTokenRequest>,
) -> Result<Json<CreateTokenResponse>, ApiError> {
    Ok(Json(state.tokens.create(&caller, request).await?))
}

async fn list(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor) -> Result<Json<ListPublicTokensResponse>, ApiError> {
    Ok(Json(state.tokens.list(&caller).await?))
}

async fn delete(
    State(state): State<AppState>,
    CallerExtractor(caller): CallerExtractor,
    AppJson(request): AppJson<DeleteTokenRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    state.tokens.delete(&caller, &request.token_id).await?;
    Ok(Json(serde_json::json!({})))
}

//! `/api/2.0/token/{create,list,delete}` and `/api/2.0/token-management/*`.

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use kiln_api::tokens::{
    CreateOboTokenRequest, CreateOboTokenResponse, CreateTokenRequest, CreateTokenResponse, DeleteTokenRequest, GetTokenResponse,
    ListPublicTokensResponse, ListTokensQuery, ListTokensResponse,
};

use super::CallerExtractor;
use crate::error::ApiError;
use crate::extract::{AppJson, Checked};
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/2.0/token/create", post(create))
        .route("/api/2.0/token/list", get(list))
        .route("/api/2.0/token/delete", post(delete))
        .route("/api/2.0/token-management/on-behalf-of/tokens", post(create_on_behalf_of))
        .route("/api/2.0/token-management/tokens", get(list_all))
        .route("/api/2.0/token-management/tokens/{token_id}", get(get_any).delete(delete_any))
}

async fn create_on_behalf_of(
    State(state): State<AppState>,
    CallerExtractor(caller): CallerExtractor,
    Checked(request): Checked<CreateOboTokenRequest>,
) -> Result<Json<CreateOboTokenResponse>, ApiError> {
    Ok(Json(state.tokens.create_on_behalf_of(&caller, request).await?))
}

async fn list_all(
    State(state): State<AppState>,
    CallerExtractor(caller): CallerExtractor,
    Query(query): Query<ListTokensQuery>,
) -> Result<Json<ListTokensResponse>, ApiError> {
    Ok(Json(ListTokensResponse { token_infos: state.tokens.list_all(&caller, &query).await? }))
}

async fn get_any(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Path(token_id): Path<String>) -> Result<Json<GetTokenResponse>, ApiError> {
    Ok(Json(GetTokenResponse { token_info: state.tokens.get_any(&caller, &token_id).await? }))
}

async fn delete_any(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Path(token_id): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    state.tokens.delete_any(&caller, &token_id).await?;
    Ok(Json(serde_json::json!({})))
}

async fn create(
    State(state): State<AppState>,
    CallerExtractor(caller): CallerExtractor,
    Checked(request): Checked<CreateTokenRequest>,
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

//! `/api/2.0/notification-destinations`: webhook destinations for job notifications.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use kiln_core::Error;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{CallerExtractor, empty};
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::state::AppState;

const BASE: &str = "/api/2.0/notification-destinations";

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(BASE, get(list).post(create)).route(&format!("{BASE}/{{id}}"), get(get_one).patch(update).delete(delete))
}

type Reply<T> = Result<Json<T>, ApiError>;

#[derive(Debug, Deserialize)]
struct DestinationRequest {
    display_name: Option<String>,
    config: Option<Value>,
}

async fn create(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<DestinationRequest>) -> Reply<Value> {
    let config = request.config.ok_or_else(|| Error::invalid("config is required"))?;
    Ok(Json(state.notifications.create(&caller, request.display_name.as_deref().unwrap_or(""), &config).await?))
}

/// `page_size` and `page_token` of the list, as the SDK pages it.
#[derive(Debug, Deserialize)]
struct ListQuery {
    page_size: Option<i64>,
    page_token: Option<String>,
}

async fn list(State(state): State<AppState>, CallerExtractor(_caller): CallerExtractor, Query(query): Query<ListQuery>) -> Reply<Value> {
    let cursor = super::page_cursor(query.page_token.as_deref())?;
    let page_size = super::page_size("page_size", query.page_size, 100, 1000)?;
    let (results, next_page_token) = kiln_api::page::paginate(state.notifications.list().await?, cursor, page_size);
    let mut body = json!({ "results": results });
    if let Some(token) = next_page_token {
        body["next_page_token"] = json!(token);
    }
    Ok(Json(body))
}

async fn get_one(State(state): State<AppState>, CallerExtractor(_caller): CallerExtractor, Path(id): Path<String>) -> Reply<Value> {
    Ok(Json(state.notifications.get(&id).await?))
}

async fn update(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Path(id): Path<String>, AppJson(request): AppJson<DestinationRequest>) -> Reply<Value> {
    Ok(Json(state.notifications.update(&caller, &id, request.display_name.as_deref(), request.config.as_ref()).await?))
}

async fn delete(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Path(id): Path<String>) -> Reply<Value> {
    state.notifications.delete(&caller, &id).await?;
    Ok(empty())
}

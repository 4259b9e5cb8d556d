//! `/api/2.0/sql/queries`: saved SQL queries over [`kiln_core::queries`].

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use kiln_api::page::{paginate};
use kiln_core::Error;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{CallerExtractor, empty, page_cursor};
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::state::AppState;

const BASE: &str = "/api/2.0/sql/queries";

pub(super) fn routes() -> Router<AppState> {
    Router::new().route(BASE, get(list).post(create)).route(&format!("{BASE}/{{id}}"), get(get_one).patch(update).delete(delete))
}

type Reply<T> = Result<Json<T>, ApiError>;

#[derive(Debug, Deserialize)]
struct QueryBody {
    query: Option<Value>,
    #[serde(default)]
    update_mask: String,
    /// Read only so that a wrong type is refused: Kiln has no name conflicts to resolve.
    #[allow(dead_code)]
    auto_resolve_display_name: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    page_size: Option<i64>,
    page_token: Option<String>,
}

async fn create(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(body): AppJson<QueryBody>) -> Reply<Value> {
    let query = body.query.ok_or_else(|| Error::invalid("query is required"))?;
    Ok(Json(state.queries.create(&caller, &query).await?))
}

async fn list(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Query(query): Query<ListQuery>) -> Reply<Value> {
    let cursor = page_cursor(query.page_token.as_deref())?;
    let (results, next_page_token) = paginate(state.queries.list(&caller).await?, cursor, super::page_size("page_size", query.page_size, 100, 1000)?);
    let mut answer = json!({"results": results});
    if let Some(token) = next_page_token {
        answer["next_page_token"] = json!(token);
    }
    Ok(Json(answer))
}

async fn get_one(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Path(id): Path<String>) -> Reply<Value> {
    Ok(Json(state.queries.get(&caller, &id).await?))
}

async fn update(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Path(id): Path<String>, AppJson(body): AppJson<QueryBody>) -> Reply<Value> {
    let query = body.query.unwrap_or_else(|| json!({}));
    Ok(Json(state.queries.update(&caller, &id, &body.update_mask, &query).await?))
}

async fn delete(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Path(id): Path<String>) -> Reply<Value> {
    state.queries.delete(&caller, &id).await?;
    Ok(empty())
}

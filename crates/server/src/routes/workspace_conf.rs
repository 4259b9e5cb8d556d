//! `/api/2.0/workspace-conf`: GET `?keys=a,b` answers a map of values (null when unset);
//! PATCH takes a map of changes (admins only).

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::CallerExtractor;
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/2.0/workspace-conf", get(get_conf).patch(set_conf))
}

#[derive(Debug, Deserialize)]
struct KeysQuery {
    #[serde(default)]
    keys: String,
}

async fn get_conf(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Query(query): Query<KeysQuery>) -> Result<Json<BTreeMap<String, Option<String>>>, ApiError> {
    Ok(Json(state.workspace_conf.get(&caller, &query.keys).await?))
}

async fn set_conf(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(changes): AppJson<BTreeMap<String, Option<String>>>) -> Result<StatusCode, ApiError> {
    state.workspace_conf.set(&caller, changes).await?;
    Ok(StatusCode::NO_CONTENT)
}

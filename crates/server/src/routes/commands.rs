//! `/api/1.2`: execution contexts and commands on running clusters. Errors use the 1.2 shape,
//! `{"error": "..."}` with no error code, and statuses are Title-case.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kiln_api::clusters::*;
use kiln_core::Error;
use serde::de::DeserializeOwned;

use super::CallerExtractor;
use crate::extract::parse_json;
use crate::state::AppState;

const BASE: &str = "/api/1.2";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(&format!("{BASE}/contexts/create"), post(create_context))
        .route(&format!("{BASE}/contexts/status"), get(context_status))
        .route(&format!("{BASE}/contexts/destroy"), post(destroy_context))
        .route(&format!("{BASE}/commands/execute"), post(execute))
        .route(&format!("{BASE}/commands/status"), get(command_status))
        .route(&format!("{BASE}/commands/cancel"), post(cancel))
}

/// A 1.2 error: the status of the underlying error, the body `{"error": message}`.
#[derive(Debug)]
struct CommandApiError(Error);

impl From<Error> for CommandApiError {
    fn from(error: Error) -> CommandApiError {
        CommandApiError(error)
    }
}

impl IntoResponse for CommandApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.status()).unwrap_or(StatusCode::BAD_REQUEST);
        (status, Json(CommandError { error: self.0.message })).into_response()
    }
}

type Reply<T> = Result<Json<T>, CommandApiError>;

fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CommandApiError> {
    parse_json(bytes).map_err(|e| CommandApiError(e.0))
}

async fn create_context(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, bytes: Bytes) -> Reply<Created> {
    let request: CreateContextRequest = body(&bytes)?;
    let language = if request.language.is_empty() { "python" } else { request.language.as_str() };
    Ok(Json(Created { id: state.clusters.create_context(&caller, &request.cluster_id, language).await? }))
}

async fn context_status(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Query(query): Query<ContextRequest>) -> Reply<ContextStatusResponse> {
    let status = state.clusters.context_status(&caller, &query.cluster_id, &query.context_id).await?;
    Ok(Json(ContextStatusResponse { id: status.id, status: status.status.to_string() }))
}

async fn destroy_context(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, bytes: Bytes) -> Reply<Created> {
    let request: ContextRequest = body(&bytes)?;
    state.clusters.destroy_context(&caller, &request.cluster_id, &request.context_id).await?;
    Ok(Json(Created { id: request.context_id }))
}

async fn execute(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, bytes: Bytes) -> Reply<Created> {
    let request: ExecuteRequest = body(&bytes)?;
    let id = state.clusters.execute(&caller, &request.cluster_id, &request.context_id, &request.language, &request.command).await?;
    Ok(Json(Created { id }))
}

async fn command_status(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Query(query): Query<CommandRequest>) -> Reply<CommandStatusResponse> {
    let status = state.clusters.command_status(&caller, &query.cluster_id, &query.context_id, &query.command_id).await?;
    Ok(Json(CommandStatusResponse { id: status.id, status: status.status.to_string(), results: status.results }))
}

async fn cancel(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, bytes: Bytes) -> Reply<Created> {
    let request: CommandRequest = body(&bytes)?;
    state.clusters.cancel(&caller, &request.cluster_id, &request.context_id, &request.command_id).await?;
    Ok(Json(Created { id: request.command_id }))
}

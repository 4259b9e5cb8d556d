//! `/api/2.0/sql/warehouses`, `/api/2.0/sql/statements` and `/api/2.0/sql/history/queries`.

use axum::extract::{Path, Query, RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use kiln_api::page::{paginate};
use kiln_api::sql::*;
use kiln_core::Error;

use super::{CallerExtractor, empty, page_cursor};
use crate::error::ApiError;
use crate::extract::Checked;
use crate::state::AppState;

const WAREHOUSES: &str = "/api/2.0/sql/warehouses";
const STATEMENTS: &str = "/api/2.0/sql/statements";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(WAREHOUSES, get(list_warehouses).post(create_warehouse))
        .route(&format!("{WAREHOUSES}/{{id}}"), get(get_warehouse).delete(delete_warehouse))
        .route(&format!("{WAREHOUSES}/{{id}}/edit"), post(edit_warehouse))
        .route(&format!("{WAREHOUSES}/{{id}}/start"), post(start_warehouse))
        .route(&format!("{WAREHOUSES}/{{id}}/stop"), post(stop_warehouse))
        .route(STATEMENTS, post(execute_statement))
        .route(&format!("{STATEMENTS}/{{id}}"), get(get_statement))
        .route(&format!("{STATEMENTS}/{{id}}/cancel"), post(cancel_statement))
        .route(&format!("{STATEMENTS}/{{id}}/result/chunks/{{chunk_index}}"), get(get_chunk))
        .route(&format!("{STATEMENTS}/{{id}}/result/chunks/{{chunk_index}}/download"), get(download_chunk))
        .route("/api/2.0/sql/history/queries", get(list_queries))
}

type Reply<T> = Result<Json<T>, ApiError>;

async fn create_warehouse(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Checked(spec): Checked<WarehouseSpec>) -> Reply<CreateWarehouseResponse> {
    Ok(Json(CreateWarehouseResponse { id: state.warehouses.create(&caller, spec).await? }))
}

async fn list_warehouses(
    State(state): State<AppState>,
    CallerExtractor(caller): CallerExtractor,
    Query(query): Query<ListWarehousesQuery>,
) -> Reply<ListWarehousesResponse> {
    let all = state.warehouses.list(&caller).await?;
    let cursor = page_cursor(query.page_token.as_deref())?;
    let (warehouses, next_page_token) = paginate(all, cursor, super::page_size("page_size", query.page_size, 1000, 1000)?);
    Ok(Json(ListWarehousesResponse { warehouses, next_page_token }))
}

async fn get_warehouse(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Path(id): Path<String>) -> Reply<EndpointInfo> {
    Ok(Json(state.warehouses.get(&caller, &id).await?))
}

async fn edit_warehouse(
    State(state): State<AppState>,
    CallerExtractor(caller): CallerExtractor,
    Path(id): Path<String>,
    Checked(spec): Checked<WarehouseSpec>,
) -> Reply<serde_json::Value> {
    state.warehouses.edit(&caller, &id, spec).await?;
    Ok(empty())
}

async fn start_warehouse(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Path(id): Path<String>) -> Reply<serde_json::Value> {
    state.warehouses.start(&caller, &id).await?;
    Ok(empty())
}

async fn stop_warehouse(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Path(id): Path<String>) -> Reply<serde_json::Value> {
    state.warehouses.stop(&caller, &id).await?;
    Ok(empty())
}

async fn delete_warehouse(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Path(id): Path<String>) -> Reply<serde_json::Value> {
    state.warehouses.delete(&caller, &id).await?;
    Ok(empty())
}

/// How the client reached us (`http://host:port`), for external links; a proxy in front
/// says so with the usual forwarding headers.
pub(super) fn base_url(headers: &HeaderMap) -> String {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty());
    let scheme = header("x-forwarded-proto").unwrap_or("http");
    let host = header("x-forwarded-host").or_else(|| header("host")).unwrap_or("127.0.0.1");
    format!("{scheme}://{host}")
}

async fn execute_statement(
    State(state): State<AppState>,
    CallerExtractor(caller): CallerExtractor,
    headers: HeaderMap,
    Checked(request): Checked<ExecuteStatementRequest>,
) -> Reply<StatementResponse> {
    Ok(Json(state.statements.execute(&caller, request, &base_url(&headers)).await?))
}

async fn get_statement(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, headers: HeaderMap, Path(id): Path<String>) -> Reply<StatementResponse> {
    Ok(Json(state.statements.get(&caller, &id, &base_url(&headers)).await?))
}

async fn cancel_statement(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Path(id): Path<String>) -> Reply<serde_json::Value> {
    state.statements.cancel(&caller, &id).await?;
    Ok(empty())
}

fn chunk_number(text: &str) -> Result<usize, Error> {
    text.parse().map_err(|_| Error::invalid(format!("chunk_index must be a non-negative integer, got '{text}'")))
}

async fn get_chunk(
    State(state): State<AppState>,
    CallerExtractor(caller): CallerExtractor,
    headers: HeaderMap,
    Path((id, chunk_index)): Path<(String, String)>,
) -> Reply<ResultData> {
    Ok(Json(state.statements.chunk(&caller, &id, chunk_number(&chunk_index)?, &base_url(&headers)).await?))
}

#[derive(Debug, serde::Deserialize)]
struct DownloadQuery {
    expires: i64,
    signature: String,
}

/// An external link: authorized by its signature, not a token (clients must not send
/// their token to it). Streams the chunk file.
async fn download_chunk(
    State(state): State<AppState>,
    Path((id, chunk_index)): Path<(String, String)>,
    Query(query): Query<DownloadQuery>,
) -> Result<axum::response::Response, ApiError> {
    let (content_type, file) = state.statements.download(&id, chunk_number(&chunk_index)?, query.expires, &query.signature)?;
    let opened = tokio::fs::File::open(&file).await.map_err(|e| Error::not_found(format!("result chunk {chunk_index} is gone: {e}")))?;
    let length = opened.metadata().await.map(|m| m.len()).unwrap_or_default();
    let body = axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(opened));
    let response = axum::response::Response::builder()
        .header(axum::http::header::CONTENT_TYPE, content_type)
        .header(axum::http::header::CONTENT_LENGTH, length)
        .body(body)
        .map_err(|e| Error::internal(e.to_string()))?;
    Ok(response)
}

async fn list_queries(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, RawQuery(raw): RawQuery) -> Reply<ListQueriesResponse> {
    let raw = raw.unwrap_or_default();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.as_bytes()).into_owned().collect();
    let query = ListQueriesQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).map_err(Error::invalid)?;
    Ok(Json(state.statements.history(&caller, &query).await?))
}

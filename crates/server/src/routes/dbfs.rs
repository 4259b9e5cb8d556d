//! `/api/2.0/dbfs`: DBFS over [`kiln_core::dbfs`]. Contents travel base64-encoded in JSON.

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use kiln_api::dbfs::*;
use kiln_core::Error;

use super::{CallerExtractor, empty};
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::state::AppState;

const BASE: &str = "/api/2.0/dbfs";
/// What a read returns when no length is given, as on Databricks.
const DEFAULT_READ_BYTES: usize = 512 * 1024;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(&format!("{BASE}/put"), post(put))
        .route(&format!("{BASE}/create"), post(create))
        .route(&format!("{BASE}/add-block"), post(add_block))
        .route(&format!("{BASE}/close"), post(close))
        .route(&format!("{BASE}/read"), get(read))
        .route(&format!("{BASE}/list"), get(list))
        .route(&format!("{BASE}/get-status"), get(get_status))
        .route(&format!("{BASE}/mkdirs"), post(mkdirs))
        .route(&format!("{BASE}/move"), post(move_path))
        .route(&format!("{BASE}/delete"), post(delete))
}

type Reply<T> = Result<Json<T>, ApiError>;

fn decode(field: &str, data: &str) -> Result<Vec<u8>, ApiError> {
    BASE64.decode(data.as_bytes()).map_err(|_| Error::invalid(format!("{field} must be base64")).into())
}

fn wire(info: kiln_core::dbfs::FileInfo) -> FileInfo {
    FileInfo { path: info.path, is_dir: info.is_dir, file_size: info.file_size as i64, modification_time: info.modification_time }
}

async fn put(State(state): State<AppState>, CallerExtractor(_caller): CallerExtractor, AppJson(request): AppJson<Put>) -> Reply<serde_json::Value> {
    state.dbfs.put(&request.path, &decode("contents", &request.contents)?, request.overwrite).await?;
    Ok(empty())
}

async fn create(State(state): State<AppState>, CallerExtractor(_caller): CallerExtractor, AppJson(request): AppJson<Create>) -> Reply<CreateResponse> {
    Ok(Json(CreateResponse { handle: state.dbfs.create(&request.path, request.overwrite).await? }))
}

async fn add_block(State(state): State<AppState>, CallerExtractor(_caller): CallerExtractor, AppJson(request): AppJson<AddBlock>) -> Reply<serde_json::Value> {
    state.dbfs.add_block(request.handle, &decode("data", &request.data)?).await?;
    Ok(empty())
}

async fn close(State(state): State<AppState>, CallerExtractor(_caller): CallerExtractor, AppJson(request): AppJson<Close>) -> Reply<serde_json::Value> {
    state.dbfs.close(request.handle).await?;
    Ok(empty())
}

async fn read(State(state): State<AppState>, CallerExtractor(_caller): CallerExtractor, Query(query): Query<ReadQuery>) -> Reply<ReadResponse> {
    let offset = u64::try_from(query.offset.unwrap_or(0)).map_err(|_| Error::invalid("offset must not be negative"))?;
    let length = match query.length {
        None | Some(0) => DEFAULT_READ_BYTES,
        Some(length) => usize::try_from(length).map_err(|_| Error::invalid(format!("length must not be negative, got {length}")))?,
    };
    let data = state.dbfs.read(&query.path, offset, length).await?;
    Ok(Json(ReadResponse { bytes_read: data.len() as i64, data: BASE64.encode(data) }))
}

async fn list(State(state): State<AppState>, CallerExtractor(_caller): CallerExtractor, Query(query): Query<PathRequest>) -> Reply<ListResponse> {
    Ok(Json(ListResponse { files: state.dbfs.list(&query.path).await?.into_iter().map(wire).collect() }))
}

async fn get_status(State(state): State<AppState>, CallerExtractor(_caller): CallerExtractor, Query(query): Query<PathRequest>) -> Reply<FileInfo> {
    Ok(Json(wire(state.dbfs.get_status(&query.path).await?)))
}

async fn mkdirs(State(state): State<AppState>, CallerExtractor(_caller): CallerExtractor, AppJson(request): AppJson<PathRequest>) -> Reply<serde_json::Value> {
    state.dbfs.mkdirs(&request.path).await?;
    Ok(empty())
}

async fn move_path(State(state): State<AppState>, CallerExtractor(_caller): CallerExtractor, AppJson(request): AppJson<Move>) -> Reply<serde_json::Value> {
    state.dbfs.move_path(&request.source_path, &request.destination_path).await?;
    Ok(empty())
}

async fn delete(State(state): State<AppState>, CallerExtractor(_caller): CallerExtractor, AppJson(request): AppJson<Delete>) -> Reply<serde_json::Value> {
    state.dbfs.delete(&request.path, request.recursive).await?;
    Ok(empty())
}

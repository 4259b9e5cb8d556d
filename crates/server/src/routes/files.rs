//! The Files API: `/api/2.0/fs/files{path}` (GET, HEAD, PUT, DELETE) and
//! `/api/2.0/fs/directories{path}` (GET lists, HEAD, PUT creates, DELETE) over
//! `/Volumes/...` paths. Bodies stream both ways; `Range` reads part of a file.

use std::io::SeekFrom;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use kiln_api::files::{DirectoryEntry, ListDirectoryQuery, ListDirectoryResponse, UploadActionQuery, UploadQuery};
use kiln_api::page::{paginate};
use kiln_core::{Error, ErrorCode};
use kiln_core::files::FileMeta;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::{CallerExtractor, page_cursor};
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/2.0/fs/files/{*path}", get(download).head(file_metadata).put(upload).delete(delete_file).post(upload_session))
        .route("/api/2.0/fs/directories/{*path}", get(list_directory).head(directory_metadata).put(create_directory).delete(delete_directory))
        .route("/api/2.0/fs/create-download-url", post(no_presigned_urls))
        .route("/api/2.0/fs/create-upload-part-urls", post(no_presigned_urls))
        .route("/api/2.0/fs/create-resumable-upload-url", post(no_presigned_urls))
        .route("/api/2.0/fs/create-abort-upload-url", post(no_presigned_urls))
        // Uploads stream to disk, whatever their size.
        .layer(DefaultBodyLimit::disable())
}

/// Kiln serves file bytes itself, with no cloud storage to presign URLs for. The SDK asks
/// for presigned URLs first and, on a 404, uses the Files API directly.
async fn no_presigned_urls() -> ApiError {
    ApiError(Error::new(ErrorCode::Specific(404, "NOT_FOUND"), "Presigned URLs are not available on this workspace: use the Files API (/api/2.0/fs/files) directly."))
}

/// `POST /fs/files{path}?action=initiate-upload`: the SDK starts every large upload with a
/// multipart session. Kiln hands out a session token, then has no part URLs to give (404),
/// so the SDK sends the file in one streamed PUT; completing a multipart upload therefore
/// never happens and is refused.
async fn upload_session(
    State(state): State<AppState>,
    CallerExtractor(caller): CallerExtractor,
    Path(path): Path<String>,
    Query(query): Query<UploadActionQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    match query.action.as_deref() {
        Some("initiate-upload") => {
            state.files.check_upload(&caller, &volume_path(&path), query.overwrite.unwrap_or(false)).await?;
            Ok(Json(serde_json::json!({"multipart_upload": {"session_token": uuid::Uuid::new_v4().to_string()}})))
        }
        Some("complete-upload") => Err(Error::invalid("multipart uploads are not available: upload the file in one PUT /api/2.0/fs/files{path}").into()),
        other => Err(Error::invalid(format!("action {}: expected initiate-upload", other.unwrap_or("(missing)"))).into()),
    }
}

/// Bytes read from disk per chunk of a download: large enough to keep syscalls few, small
/// enough that memory stays flat.
const READ_CHUNK: usize = 256 * 1024;

/// The route's path, which axum hands over percent-decoded and without its leading `/`.
fn volume_path(path: &str) -> String {
    format!("/{path}")
}

fn http_date(epoch_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(epoch_ms).unwrap_or_default().format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn file_headers(meta: FileMeta, length: u64) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(value) = HeaderValue::from_str(&http_date(meta.modified_ms)) {
        headers.insert(header::LAST_MODIFIED, value);
    }
    headers
}

async fn file_metadata(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Path(path): Path<String>) -> Result<Response, ApiError> {
    let meta = state.files.file_metadata(&caller, &volume_path(&path)).await?;
    Ok((StatusCode::OK, file_headers(meta, meta.size)).into_response())
}

/// `bytes=a-b`, `bytes=a-` and `bytes=-n` of a file of `size` bytes, as `(start, length)`.
fn byte_range(value: &str, size: u64) -> Option<(u64, u64)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    let (first, last) = spec.split_once('-')?;
    let (start, end) = match (first.trim(), last.trim()) {
        ("", suffix) => {
            let n: u64 = suffix.parse().ok()?;
            (size.saturating_sub(n), size.checked_sub(1)?)
        }
        (start, "") => (start.parse().ok()?, size.checked_sub(1)?),
        (start, end) => (start.parse().ok()?, end.parse::<u64>().ok()?.min(size.checked_sub(1)?)),
    };
    (start <= end && start < size).then(|| (start, end - start + 1))
}

async fn download(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Path(path): Path<String>, request: HeaderMap) -> Result<Response, ApiError> {
    let (mut file, meta) = state.files.open(&caller, &volume_path(&path)).await?;
    // A resumed download names the version it started on; a file changed since is 412.
    let since = request.get(header::IF_UNMODIFIED_SINCE).and_then(|v| v.to_str().ok()).and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok());
    if since.is_some_and(|since| meta.modified_ms / 1000 > since.timestamp()) {
        return Ok(StatusCode::PRECONDITION_FAILED.into_response());
    }
    let range = request.get(header::RANGE).and_then(|v| v.to_str().ok());
    let Some(range) = range else {
        let body = Body::from_stream(ReaderStream::with_capacity(file, READ_CHUNK));
        return Ok((StatusCode::OK, file_headers(meta, meta.size), body).into_response());
    };
    let Some((start, length)) = byte_range(range, meta.size) else {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(&format!("bytes */{}", meta.size)) {
            headers.insert(header::CONTENT_RANGE, value);
        }
        return Ok((StatusCode::RANGE_NOT_SATISFIABLE, headers).into_response());
    };
    file.seek(SeekFrom::Start(start)).await.map_err(|e| Error::internal(format!("reading {path}: {e}")))?;
    let mut headers = file_headers(meta, length);
    if let Ok(value) = HeaderValue::from_str(&format!("bytes {start}-{}/{}", start + length - 1, meta.size)) {
        headers.insert(header::CONTENT_RANGE, value);
    }
    let body = Body::from_stream(ReaderStream::with_capacity(file.take(length), READ_CHUNK));
    Ok((StatusCode::PARTIAL_CONTENT, headers, body).into_response())
}

async fn upload(
    State(state): State<AppState>,
    CallerExtractor(caller): CallerExtractor,
    Path(path): Path<String>,
    Query(query): Query<UploadQuery>,
    body: Body,
) -> Result<StatusCode, ApiError> {
    state.files.upload(&caller, &volume_path(&path), query.overwrite.unwrap_or(false), body.into_data_stream()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_file(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Path(path): Path<String>) -> Result<StatusCode, ApiError> {
    state.files.delete_file(&caller, &volume_path(&path)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn directory_metadata(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Path(path): Path<String>) -> Result<StatusCode, ApiError> {
    state.files.directory_metadata(&caller, &volume_path(&path)).await?;
    Ok(StatusCode::OK)
}

async fn create_directory(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Path(path): Path<String>) -> Result<StatusCode, ApiError> {
    state.files.create_directory(&caller, &volume_path(&path)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_directory(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Path(path): Path<String>) -> Result<StatusCode, ApiError> {
    state.files.delete_directory(&caller, &volume_path(&path)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_directory(
    State(state): State<AppState>,
    CallerExtractor(caller): CallerExtractor,
    Path(path): Path<String>,
    Query(query): Query<ListDirectoryQuery>,
) -> Result<Json<ListDirectoryResponse>, ApiError> {
    let entries = state.files.list_directory(&caller, &volume_path(&path)).await?;
    let cursor = page_cursor(query.page_token.as_deref())?;
    let contents: Vec<DirectoryEntry> = entries
        .into_iter()
        .map(|entry| DirectoryEntry {
            path: entry.path,
            name: entry.name,
            is_directory: entry.is_directory,
            file_size: entry.file_size.map(|size| size as i64),
            last_modified: entry.last_modified_ms,
        })
        .collect();
    let (contents, next_page_token) = paginate(contents, cursor, super::page_size("page_size", query.page_size, 1000, 1000)?);
    Ok(Json(ListDirectoryResponse { contents, next_page_token }))
}

#[cfg(test)]
mod tests {
    use super::byte_range;

    #[test]
    fn byte_ranges_as_http_has_them() {
        assert_eq!(byte_range("bytes=0-9", 100), Some((0, 10)));
        assert_eq!(byte_range("bytes=90-", 100), Some((90, 10)));
        assert_eq!(byte_range("bytes=-5", 100), Some((95, 5)));
        assert_eq!(byte_range("bytes=50-500", 100), Some((50, 50)));
        assert_eq!(byte_range("bytes=100-", 100), None);
        assert_eq!(byte_range("bytes=5-1", 100), None);
        assert_eq!(byte_range("items=0-1", 100), None);
    }
}

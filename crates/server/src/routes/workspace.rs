//! `/api/2.0/workspace`: the workspace tree over [`kiln_core::workspace_tree`]. Import takes
//! JSON (base64 content) or multipart form data (what `w.workspace.upload` sends); export
//! answers JSON, or the raw bytes with `direct_download=true`.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use kiln_api::workspace::*;
use kiln_core::Error;
use kiln_core::workspace_tree::{Format, Import};
use kiln_store::{WorkspaceObjectKind, WorkspaceObjectRecord};

use super::{CallerExtractor, empty};
use crate::error::ApiError;
use crate::extract::{AppJson, parse_json};
use crate::state::AppState;

const BASE: &str = "/api/2.0/workspace";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(&format!("{BASE}/get-status"), get(get_status))
        .route(&format!("{BASE}/list"), get(list))
        .route(&format!("{BASE}/mkdirs"), post(mkdirs))
        .route(&format!("{BASE}/import"), post(import))
        .route(&format!("{BASE}/export"), get(export))
        .route(&format!("{BASE}/delete"), post(delete))
}

type Reply<T> = Result<Json<T>, ApiError>;

fn object_info(object: WorkspaceObjectRecord) -> ObjectInfo {
    let has_times = object.kind != WorkspaceObjectKind::Directory;
    ObjectInfo {
        resource_id: object.object_id.to_string(),
        path: object.path,
        object_type: object.kind.as_str().to_string(),
        object_id: object.object_id,
        language: object.language,
        created_at: Some(object.created_at_ms).filter(|_| has_times),
        modified_at: Some(object.modified_at_ms).filter(|_| has_times),
        size: Some(object.size).filter(|_| object.kind == WorkspaceObjectKind::File),
    }
}

async fn get_status(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Query(query): Query<PathQuery>) -> Reply<ObjectInfo> {
    Ok(Json(object_info(state.workspace_tree.get_status(&caller, &query.path).await?)))
}

async fn list(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Query(query): Query<ListQuery>) -> Reply<ListResponse> {
    let objects = state.workspace_tree.list(&caller, &query.path, query.notebooks_modified_after).await?;
    Ok(Json(ListResponse { objects: objects.into_iter().map(object_info).collect() }))
}

async fn mkdirs(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<MkdirsRequest>) -> Reply<serde_json::Value> {
    state.workspace_tree.mkdirs(&caller, &request.path).await?;
    Ok(empty())
}

async fn delete(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<DeleteRequest>) -> Reply<serde_json::Value> {
    state.workspace_tree.delete(&caller, &request.path, request.recursive).await?;
    Ok(empty())
}

async fn import(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, headers: HeaderMap, body: Bytes) -> Reply<serde_json::Value> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let request = if content_type.to_ascii_lowercase().starts_with("multipart/form-data") {
        import_from_form(content_type, &body)?
    } else {
        let request: ImportRequest = parse_json(&body)?;
        let content = match request.content.as_deref() {
            Some(encoded) => BASE64.decode(encoded.trim()).map_err(|_| Error::invalid("content must be base64"))?,
            None => Vec::new(),
        };
        Import { path: request.path, content, format: Format::parse("format", request.format.as_deref())?, language: request.language, overwrite: request.overwrite }
    };
    state.workspace_tree.import(&caller, request).await?;
    Ok(empty())
}

/// The multipart form: fields `path`, `format`, `language`, `overwrite` and a `content` file.
fn import_from_form(content_type: &str, body: &[u8]) -> Result<Import, ApiError> {
    let parts = multipart::parse(content_type, body)?;
    let text = |name: &str| -> Result<Option<String>, ApiError> {
        match parts.iter().find(|part| part.name == name) {
            Some(part) => String::from_utf8(part.data.to_vec()).map(Some).map_err(|_| Error::invalid(format!("form field {name} must be UTF-8")).into()),
            None => Ok(None),
        }
    };
    let path = text("path")?.ok_or_else(|| Error::invalid("form field path is required"))?;
    let content = parts.iter().find(|part| part.name == "content").map(|part| part.data.to_vec()).ok_or_else(|| Error::invalid("form part content is required"))?;
    let overwrite = match text("overwrite")?.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(Error::invalid(format!("form field overwrite must be true or false, not '{other}'")).into()),
    };
    Ok(Import { path, content, format: Format::parse("format", text("format")?.as_deref())?, language: text("language")?, overwrite })
}

async fn export(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Query(query): Query<ExportQuery>) -> Result<Response, ApiError> {
    let format = Format::parse("format", query.format.as_deref())?;
    let direct = match query.direct_download.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(Error::invalid(format!("direct_download must be true or false, not '{other}'")).into()),
    };
    let exported = state.workspace_tree.export(&caller, &query.path, format).await?;
    if direct {
        return Ok(([(header::CONTENT_TYPE, "application/octet-stream")], exported.bytes).into_response());
    }
    Ok(Json(ExportResponse { content: BASE64.encode(&exported.bytes), file_type: exported.file_type }).into_response())
}

/// Just enough of RFC 7578 for import: named parts of a buffered body.
mod multipart {
    use kiln_core::Error;

    use crate::error::ApiError;

    #[derive(Debug)]
    pub(super) struct Part<'a> {
        pub(super) name: String,
        pub(super) data: &'a [u8],
    }

    pub(super) fn parse<'a>(content_type: &str, body: &'a [u8]) -> Result<Vec<Part<'a>>, ApiError> {
        let boundary = content_type
            .split(';')
            .filter_map(|parameter| parameter.trim().strip_prefix("boundary="))
            .next()
            .map(|b| b.trim_matches('"'))
            .filter(|b| !b.is_empty())
            .ok_or_else(|| Error::invalid("multipart/form-data needs a boundary"))?;
        let delimiter = format!("--{boundary}").into_bytes();
        let malformed = || ApiError(Error::invalid("malformed multipart/form-data body"));
        let mut parts = Vec::new();
        let mut rest = &body[find(body, &delimiter).ok_or_else(malformed)? + delimiter.len()..];
        loop {
            if rest.starts_with(b"--") {
                return Ok(parts);
            }
            rest = rest.strip_prefix(b"\r\n").ok_or_else(malformed)?;
            let headers_end = find(rest, b"\r\n\r\n").ok_or_else(malformed)?;
            let headers = std::str::from_utf8(&rest[..headers_end]).map_err(|_| malformed())?;
            let after_headers = &rest[headers_end + 4..];
            let mut closing = b"\r\n".to_vec();
            closing.extend_from_slice(&delimiter);
            let end = find(after_headers, &closing).ok_or_else(malformed)?;
            if let Some(name) = part_name(headers) {
                parts.push(Part { name, data: &after_headers[..end] });
            }
            rest = &after_headers[end + closing.len()..];
        }
    }

    /// `name` of the part's Content-Disposition.
    fn part_name(headers: &str) -> Option<String> {
        let disposition = headers.lines().find(|line| line.to_ascii_lowercase().starts_with("content-disposition:"))?;
        disposition.split(';').map(str::trim).find_map(|parameter| parameter.strip_prefix("name=")).map(|name| name.trim_matches('"').to_string())
    }

    fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
        haystack.windows(needle.len()).position(|window| window == needle)
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn parts_are_read_by_name() {
            let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\n/Shared/nb\r\n--XyZ\r\nContent-Disposition: form-data; name=\"content\"; filename=\"content\"\r\nContent-Type: application/octet-stream\r\n\r\nline1\r\nline2\r\n--XyZ--\r\n";
            let parts = super::parse("multipart/form-data; boundary=XyZ", body).expect("parse");
            assert_eq!(parts.len(), 2);
            assert_eq!((parts[0].name.as_str(), parts[0].data), ("path", &b"/Shared/nb"[..]));
            assert_eq!((parts[1].name.as_str(), parts[1].data), ("content", &b"line1\r\nline2"[..]));
            assert!(super::parse("multipart/form-data; boundary=XyZ", b"--XyZ\r\nbroken").is_err());
        }
    }
}

//! Turns a core error into the Databricks error body and status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kiln_api::error::ErrorBody;
use kiln_core::Error;

#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(error: Error) -> ApiError {
        ApiError(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.0.code.wire();
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // A 501 names a route Kiln has not built: the client's problem to know, not a fault.
        if status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED {
            tracing::error!(error_code = code, message = %self.0.message, "request failed");
        }
        let body = ErrorBody { error_code: code.to_string(), message: bounded_message(self.0.message), details: Vec::new() };
        (status, axum::Json(body)).into_response()
    }
}

/// Longest error message sent; a message quoting an oversized input is cut there.
const MAX_MESSAGE_BYTES: usize = 4096;

/// `message`, cut at [`MAX_MESSAGE_BYTES`] (on a character boundary) with a note saying so:
/// an error about a 1 MiB value must not answer with that megabyte again.
fn bounded_message(message: String) -> String {
    if message.len() <= MAX_MESSAGE_BYTES {
        return message;
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes in all, cut)", &message[..end], message.len())
}

/// The error body a route group documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ErrorShape {
    /// `{"error_code": ..., "message": ...}`
    Databricks,
    /// SCIM's `{"schemas": [...Error], "detail", "status", "scimType"}`.
    Scim,
    /// Command Execution 1.2: `{"error": ...}`.
    CommandExecution,
}

impl ErrorShape {
    fn of(path: &str) -> ErrorShape {
        if path.starts_with("/api/2.0/preview/scim/v2/") || path == "/api/2.0/preview/scim/v2" {
            return ErrorShape::Scim;
        }
        if path.starts_with("/api/1.2/") {
            return ErrorShape::CommandExecution;
        }
        ErrorShape::Databricks
    }
}

/// Largest error body read back for reshaping (framework errors are a line of text).
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// Answers every error in its route group's shape. Services answer Databricks errors; the
/// framework's own rejections (a bad query string or path parameter, a wrong method, a body
/// over the limit) come as plain text or nothing; SCIM and 1.2 document other shapes. One
/// layer puts them all in the right one, so no route can answer an error a client cannot read.
pub async fn uniform_errors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    use axum::http::header;
    let shape = ErrorShape::of(request.uri().path());
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    // Authentication, rate limits and an oversized request head answer for the platform,
    // before any API group reads the request, so they keep the platform's shape everywhere.
    let platform = [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS, StatusCode::URI_TOO_LONG, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE];
    let shape = if platform.contains(&status) { ErrorShape::Databricks } else { shape };
    let is_json = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"));
    if is_json && shape == ErrorShape::Databricks {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_ERROR_BODY_BYTES).await.unwrap_or_default();
    let parsed: Option<serde_json::Value> = if is_json { serde_json::from_slice(&bytes).ok() } else { None };
    if let Some(body) = &parsed
        && already_shaped(shape, body)
    {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    }
    let (code, message) = match &parsed {
        Some(body) => (text_field(body, "error_code"), text_field(body, "message").or_else(|| text_field(body, "error"))),
        None => (None, Some(String::from_utf8_lossy(&bytes).trim().to_string()).filter(|m| !m.is_empty())),
    };
    let code = code.unwrap_or_else(|| code_for_status(status).to_string());
    let message = message.unwrap_or_else(|| status.canonical_reason().unwrap_or("request failed").to_lowercase());
    let rendered = match shape {
        ErrorShape::Databricks => serde_json::to_vec(&ErrorBody { error_code: code, message, details: Vec::new() }),
        ErrorShape::Scim => {
            let scim_type = (status == StatusCode::BAD_REQUEST).then(|| "invalidValue".to_string());
            serde_json::to_vec(&kiln_api::error::ScimErrorBody { schemas: vec![kiln_api::error::SCIM_ERROR_SCHEMA.to_string()], detail: message, status: status.as_u16().to_string(), scim_type })
        }
        ErrorShape::CommandExecution => serde_json::to_vec(&serde_json::json!({ "error": message })),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    Response::from_parts(parts, axum::body::Body::from(rendered.unwrap_or_default()))
}

fn already_shaped(shape: ErrorShape, body: &serde_json::Value) -> bool {
    match shape {
        ErrorShape::Databricks => true,
        ErrorShape::Scim => body.get("schemas").is_some(),
        ErrorShape::CommandExecution => body.get("error").is_some_and(serde_json::Value::is_string) && body.get("error_code").is_none(),
    }
}

fn text_field(body: &serde_json::Value, key: &str) -> Option<String> {
    body.get(key).and_then(serde_json::Value::as_str).map(str::to_string)
}

/// The `error_code` of a framework rejection that carries none.
fn code_for_status(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 | 422 => "INVALID_PARAMETER_VALUE",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "ENDPOINT_NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        408 => "REQUEST_TIMEOUT",
        413 => "REQUEST_ENTITY_TOO_LARGE",
        414 => "REQUEST_URI_TOO_LONG",
        429 => "REQUEST_LIMIT_EXCEEDED",
        501 => "NOT_IMPLEMENTED",
        503 => "TEMPORARILY_UNAVAILABLE",
        status if status >= 500 => "INTERNAL_ERROR",
        _ => "BAD_REQUEST",
    }
}

//! Per-request limits applied before a handler runs: the length of the URI, the declared
//! size of the body against the route's limit (refused before a byte of it is read), and
//! the longest wait for the next piece of a body.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kiln_core::{Error, ErrorCode};

use crate::error::ApiError;

/// Largest body of a JSON or form request.
pub const MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;
/// Largest file one Files API upload may carry, as on Databricks.
pub const MAX_UPLOAD_BYTES: u64 = 5 * 1024 * 1024 * 1024;
/// Longest request target (path and query) answered; hyper itself stops at 64 KiB.
const MAX_URI_BYTES: usize = 16 * 1024;

/// The largest body `method path` may send.
pub fn body_limit(method: &Method, path: &str) -> u64 {
    if method == Method::PUT && path.starts_with("/api/2.0/fs/files/") {
        return MAX_UPLOAD_BYTES;
    }
    MAX_BODY_BYTES
}

/// Largest request head hyper itself reads; heads between `[http] max_header_bytes` and this
/// are answered with a JSON 431 here, larger ones by hyper with an empty one.
pub const HARD_MAX_HEADER_BYTES: usize = 2 * 1024 * 1024;

/// The limits of `[http]` a request is held to once hyper has read its head.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    pub body_read_timeout: Duration,
    pub max_header_bytes: usize,
}

/// Refuses an over-long URI, an oversized head and a declared body over the route's limit,
/// and gives the body a read timeout, so a client that promises 20 GB and sends nothing is
/// answered at once.
pub async fn enforce(State(limits): State<RequestLimits>, request: Request, next: Next) -> Response {
    let uri_bytes = request.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri_bytes > MAX_URI_BYTES {
        let message = format!("the request URI is {uri_bytes} bytes; at most {MAX_URI_BYTES} are accepted");
        return ApiError(Error::new(ErrorCode::Specific(414, "REQUEST_URI_TOO_LONG"), message)).into_response();
    }
    let head_bytes = uri_bytes + request.headers().iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum::<usize>();
    if head_bytes > limits.max_header_bytes {
        let message = format!("the request head is {head_bytes} bytes; at most {} are accepted", limits.max_header_bytes);
        return ApiError(Error::new(ErrorCode::Specific(431, "REQUEST_HEADER_FIELDS_TOO_LARGE"), message)).into_response();
    }
    let limit = body_limit(request.method(), request.uri().path());
    let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if let Some(declared) = declared
        && declared > limit
    {
        let message = format!("the request body is {declared} bytes; this API accepts at most {limit}");
        return ApiError(Error::new(ErrorCode::RequestTooLarge, message)).into_response();
    }
    let request = request.map(|body| Body::new(tower_http::timeout::TimeoutBody::new(limits.body_read_timeout, body)));
    next.run(request).await
}

/// Whether reading a body failed because the client stopped sending it.
pub fn is_body_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if error.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        current = error.source();
    }
    false
}

/// The error for a body the client stopped sending.
pub fn body_timeout_error() -> Error {
    Error::new(ErrorCode::Specific(408, "REQUEST_TIMEOUT"), "the client stopped sending the request body")
}

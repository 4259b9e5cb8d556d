//! Body extractors whose rejections are Databricks errors naming the offending field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use kiln_core::{Error, ErrorCode};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Like `axum::Json`, but a bad body answers 400 with the JSON path of the bad field.
#[derive(Debug)]
pub struct AppJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<AppJson<T>, ApiError> {
        let bytes = Bytes::from_request(request, state).await.map_err(body_rejection)?;
        parse_json(&bytes).map(AppJson)
    }
}

/// A body whose Databricks shape is declared ([`RequestShape`]): the raw JSON is checked
/// against it first, so a field Kiln has no use for is still refused when it is not of its
/// type (as Databricks refuses it), then `T` reads the fields Kiln uses.
#[derive(Debug)]
pub struct Checked<T>(pub T);

/// The declared shape of a request body (see `crate::request_shapes`).
pub trait RequestShape {
    const SHAPE: &'static kiln_core::shapes::Shape;
}

impl<T: DeserializeOwned + RequestShape, S: Send + Sync> FromRequest<S> for Checked<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Checked<T>, ApiError> {
        let bytes = Bytes::from_request(request, state).await.map_err(body_rejection)?;
        let value: serde_json::Value = parse_json(&bytes)?;
        kiln_core::shapes::check(&value, T::SHAPE)?;
        serde_path_to_error::deserialize(value).map(Checked).map_err(|error| ApiError(json_error(error)))
    }
}

/// Why a body could not be read: too large, stopped by the client, or broken off.
pub fn body_rejection(rejection: axum::extract::rejection::BytesRejection) -> ApiError {
    if crate::limits::is_body_timeout(&rejection) {
        return ApiError(crate::limits::body_timeout_error());
    }
    let code = if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE { ErrorCode::RequestTooLarge } else { ErrorCode::BadRequest };
    ApiError(Error::new(code, format!("cannot read request body: {rejection}")))
}

/// A JSON body as `T`; errors name the offending field. Anything after the value but
/// white space is refused, as is a value of the wrong kind (an array where an object
/// belongs).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Clients send `{}` or nothing at all for bodies with no required fields.
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    // Values under unknown fields are skipped unread, so check what serde would not.
    if std::str::from_utf8(text).is_err() {
        return Err(ApiError(Error::new(ErrorCode::MalformedRequest, "malformed JSON in request body: it is not valid UTF-8")));
    }
    if json_depth(text) > MAX_JSON_DEPTH {
        return Err(ApiError(Error::new(ErrorCode::MalformedRequest, format!("malformed JSON in request body: it nests deeper than {MAX_JSON_DEPTH} levels"))));
    }
    // Every Databricks request body is an object; serde would read an array positionally.
    if text.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError(Error::new(ErrorCode::MalformedRequest, "the request body must be a JSON object")));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(text);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| ApiError(json_error(error)))?;
    deserializer.end().map_err(|error| ApiError(Error::new(ErrorCode::MalformedRequest, format!("malformed JSON in request body: unexpected content after the JSON value ({error})"))))?;
    Ok(value)
}

/// Deepest nesting of objects and arrays a body may have; no Databricks request needs a
/// tenth of it.
const MAX_JSON_DEPTH: usize = 64;

/// The deepest nesting of `[` and `{` in JSON text, outside strings.
fn json_depth(text: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &byte in text {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

fn json_error(error: serde_path_to_error::Error<serde_json::Error>) -> Error {
    let path = error.path().to_string();
    let inner = error.into_inner();
    if inner.is_syntax() || inner.is_eof() {
        return Error::new(ErrorCode::MalformedRequest, format!("malformed JSON in request body: {inner}"));
    }
    if path == "." {
        return Error::invalid(format!("invalid request body: {inner}"));
    }
    Error::invalid(format!("invalid value for field '{path}': {inner}"))
}

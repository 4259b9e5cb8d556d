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
    // Every Databricks request body is an object; serde would read an array positionally.
    if text.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError(Error::new(ErrorCode::MalformedRequest, "the request body must be a JSON object")));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(text);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| ApiError(json_error(error)))?;
    deserializer.end().map_err(|error| ApiError(Error::new(ErrorCode::MalformedRequest, format!("malformed JSON in request body: unexpected content after the JSON value ({error})"))))?;
    Ok(value)
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

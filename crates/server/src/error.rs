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
        if status.is_server_error() {
            tracing::error!(error_code = code, message = %self.0.message, "request failed");
        }
        let body = ErrorBody { error_code: code.to_string(), message: self.0.message, details: Vec::new() };
        (status, axum::Json(body)).into_response()
    }
}

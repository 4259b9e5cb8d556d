//! The one error type services return. Its [`ErrorCode`] fixes the HTTP status and the
//! `error_code` string; the vocabulary is the official client's (databricks-sdk
//! `errors/platform.py`), kept deliberately small.

use kiln_store::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidParameterValue,
    MalformedRequest,
    BadRequest,
    Unauthenticated,
    PermissionDenied,
    ResourceDoesNotExist,
    EndpointNotFound,
    ResourceAlreadyExists,
    RequestLimitExceeded,
    RequestTooLarge,
    NotImplemented,
    InternalError,
    /// A status and `error_code` specific to one API, e.g. (404, `CATALOG_DOES_NOT_EXIST`).
    Specific(u16, &'static str),
}

impl ErrorCode {
    /// The HTTP status and wire `error_code` of each code.
    pub fn wire(self) -> (u16, &'static str) {
        match self {
            ErrorCode::InvalidParameterValue => (400, "INVALID_PARAMETER_VALUE"),
            ErrorCode::MalformedRequest => (400, "MALFORMED_REQUEST"),
            ErrorCode::BadRequest => (400, "BAD_REQUEST"),
            ErrorCode::Unauthenticated => (401, "UNAUTHENTICATED"),
            ErrorCode::PermissionDenied => (403, "PERMISSION_DENIED"),
            ErrorCode::ResourceDoesNotExist => (404, "RESOURCE_DOES_NOT_EXIST"),
            ErrorCode::EndpointNotFound => (404, "ENDPOINT_NOT_FOUND"),
            ErrorCode::ResourceAlreadyExists => (409, "RESOURCE_ALREADY_EXISTS"),
            ErrorCode::RequestLimitExceeded => (429, "REQUEST_LIMIT_EXCEEDED"),
            ErrorCode::RequestTooLarge => (413, "REQUEST_ENTITY_TOO_LARGE"),
            ErrorCode::NotImplemented => (501, "NOT_IMPLEMENTED"),
            ErrorCode::InternalError => (500, "INTERNAL_ERROR"),
            ErrorCode::Specific(status, code) => (status, code),
        }
    }

    pub fn status(self) -> u16 {
        self.wire().0
    }

    pub fn as_str(self) -> &'static str {
        self.wire().1
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error { code, message: message.into() }
    }

    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::InvalidParameterValue, message)
    }

    pub fn not_found(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::ResourceDoesNotExist, message)
    }

    pub fn already_exists(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::ResourceAlreadyExists, message)
    }

    pub fn denied(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::PermissionDenied, message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::Unauthenticated, message)
    }

    pub fn internal(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::InternalError, message)
    }
}

impl From<StoreError> for Error {
    fn from(error: StoreError) -> Error {
        match error {
            StoreError::AlreadyExists(what) => Error::already_exists(format!("{what} already exists")),
            StoreError::NotFound(what) => Error::not_found(format!("{what} does not exist")),
            StoreError::Backend(detail) => Error::internal(format!("metadata store failure: {detail}")),
        }
    }
}

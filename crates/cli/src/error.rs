//! Errors of the client and the exit codes they map to.

use std::fmt;

/// How the command ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The run was triggered (without `--wait`) or ended in SUCCESS.
    Success = 0,
    /// The run did not succeed, the API refused a request, or the workspace was unreachable.
    Failure = 1,
    /// Configuration or usage error: no host, no credentials, bad profile, unreadable JSON.
    Usage = 2,
    /// `--timeout` passed while waiting; the run was left running.
    TimedOut = 3,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// A Databricks error answer: `{"error_code": "...", "message": "..."}` (or the OAuth shape
/// `{"error": "...", "error_description": "..."}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub error_code: Option<String>,
    pub message: String,
}

impl ApiError {
    /// Reads an error body; a body that is not the Databricks shape becomes the message.
    pub fn from_body(status: u16, body: &[u8]) -> ApiError {
        let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let field = |name: &str| parsed.as_ref().and_then(|v| v.get(name)).and_then(|v| v.as_str()).map(str::to_string);
        let error_code = field("error_code").or_else(|| field("error"));
        let message = field("message").or_else(|| field("error_description"));
        let message = match message {
            Some(message) => message,
            None if error_code.is_some() => String::new(),
            None => {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                let mut short: String = text.chars().take(300).collect();
                if short.len() < text.len() {
                    short.push('…');
                }
                short
            }
        };
        ApiError { status, error_code, message: one_line(&message) }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.error_code, self.message.is_empty()) {
            (Some(code), false) => write!(f, "{code}: {}", self.message),
            (Some(code), true) => write!(f, "{code}"),
            (None, false) => write!(f, "HTTP {}: {}", self.status, self.message),
            (None, true) => write!(f, "HTTP {}", self.status),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Exit 2.
    #[error("{0}")]
    Config(String),
    /// The API answered with an error. Exit 1.
    #[error("{0}")]
    Api(ApiError),
    /// The OAuth token endpoint refused the client credentials. Exit 1.
    #[error("cannot get an OAuth token from {url}: {error}")]
    Token { url: String, error: ApiError },
    /// No usable answer: connection failures, unreadable bodies. Exit 1.
    #[error("{0}")]
    Transport(String),
}

impl CliError {
    pub fn exit(&self) -> Exit {
        match self {
            CliError::Config(_) => Exit::Usage,
            CliError::Api(_) | CliError::Token { .. } | CliError::Transport(_) => Exit::Failure,
        }
    }
}

impl From<crate::auth::ConfigError> for CliError {
    fn from(error: crate::auth::ConfigError) -> CliError {
        CliError::Config(error.0)
    }
}

/// An error and its sources on one line ("error sending request: connection refused").
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        source = inner.source();
    }
    text
}

/// Newlines and runs of whitespace collapsed, for one-line summaries.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

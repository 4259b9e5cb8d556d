//! The `Caller` extractor: resolves `Authorization: Bearer <token>`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use kiln_core::Error;
use kiln_core::principal::Caller;
use std::sync::{Arc, OnceLock};

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug)]
pub struct CallerExtractor(pub Caller);

impl FromRequestParts<AppState> for CallerExtractor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<CallerExtractor, ApiError> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let Some(header) = header else {
            return Err(ApiError(Error::unauthenticated("No access token was provided: send Authorization: Bearer <token>")));
        };
        let token = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer ")).map(str::trim);
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Err(ApiError(Error::unauthenticated("Authorization header must be Bearer <token>")));
        };
        // OAuth access tokens are JWTs (three dot-separated parts); PATs have no dots.
        let principal = if token.contains('.') {
            let principal_id = state.oauth.verify_access_token(token)?;
            let principal = state.authenticator.resolve(principal_id).await?;
            principal.ok_or_else(|| Error::unauthenticated("Invalid access token: its principal no longer exists"))?
        } else {
            state.authenticator.authenticate_bearer(token).await?
        };
        let context = parts.extensions.get::<RequestContext>().cloned();
        let request_id = context.as_ref().map(|c| c.id.clone()).unwrap_or_default();
        let caller = Caller { principal, request_id };
        if let Some(context) = context {
            // The request is audited with its status once answered; see `request_context`.
            let _ = context.caller.set(caller.clone());
        }
        Ok(CallerExtractor(caller))
    }
}

/// What the request-context middleware and the caller extractor share about one request.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub id: String,
    /// Set once the request has been authenticated.
    pub caller: Arc<OnceLock<Caller>>,
    /// What the request did, where its route alone does not say (an MCP server's
    /// `tools/call execute_sql`): appended to the audit line's action.
    pub action_detail: Arc<OnceLock<String>>,
}

impl Default for RequestContext {
    fn default() -> RequestContext {
        // Time-ordered ids keep the audit log's request index append-only.
        RequestContext { id: uuid::Uuid::now_v7().to_string(), caller: Arc::new(OnceLock::new()), action_detail: Arc::new(OnceLock::new()) }
    }
}

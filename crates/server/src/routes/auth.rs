//! The `Caller` extractor: resolves `Authorization: Bearer <token>`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use kiln_core::Error;
use kiln_core::principal::Caller;
use kiln_store::AuditDecision;

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
        let request_id = parts.extensions.get::<RequestId>().map(|id| id.0.clone()).unwrap_or_default();
        let caller = Caller { principal, request_id };
        // Every authenticated request is audited; the path carries no secrets (tokens travel
        // in headers and bodies, which are never recorded).
        let path = parts.uri.path();
        let action = format!("{} {}", parts.method, matched_route(parts).unwrap_or(path));
        state.audit.decision(&caller, &action, path, AuditDecision::Request, "authenticated").await;
        Ok(CallerExtractor(caller))
    }
}

/// The id of the request being served, set by the request-id middleware.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn matched_route(parts: &Parts) -> Option<&str> {
    parts.extensions.get::<axum::extract::MatchedPath>().map(|m| m.as_str())
}

//! The router: one module per API group, plus the fallback that tells unknown routes from
//! Databricks routes Kiln has not built yet.

mod audit;
mod auth;
mod clusters;
mod commands;
mod dbfs;
mod files;
mod jobs;
mod notifications;
mod oauth;
mod permissions;
mod queries;
mod scim;
mod secrets;
mod sql;
mod tokens;
mod uc;
mod well_known;
mod workspace;
mod workspace_conf;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use kiln_core::{Error, ErrorCode};

use crate::config::HttpConfig;
use crate::error::ApiError;
use crate::state::AppState;

pub use auth::{CallerExtractor, RequestContext};

pub fn router(state: AppState) -> Router {
    router_with_limits(state, &HttpConfig::default())
}

/// The whole API with the request limits of `[http]`.
pub fn router_with_limits(state: AppState, http: &HttpConfig) -> Router {
    layered(router_without_layers(), state, http)
}

/// Every API group's routes, before [`with_service_layers`].
pub fn router_without_layers() -> Router<AppState> {
    Router::new()
        .merge(well_known::routes())
        .merge(scim::routes())
        .merge(tokens::routes())
        .merge(permissions::routes())
        .merge(audit::routes())
        .merge(oauth::routes())
        .merge(uc::routes())
        .merge(sql::routes())
        .merge(files::routes())
        .merge(secrets::routes())
        .merge(dbfs::routes())
        .merge(workspace_conf::routes())
        .merge(workspace::routes())
        .merge(clusters::routes())
        .merge(commands::routes())
        .merge(jobs::routes())
        .merge(notifications::routes())
        .merge(queries::routes())
}

/// The layers every route gets, with the default limits. Public so tests can serve extra
/// routes the same way.
pub fn with_service_layers(api: Router<AppState>, state: AppState) -> Router {
    layered(api, state, &HttpConfig::default())
}

/// Outermost first: request id and audit, the error shape, request limits, body limit, rate
/// limits, the panic catcher, then the routes and their fallbacks.
fn layered(api: Router<AppState>, state: AppState, http: &HttpConfig) -> Router {
    let body_read_timeout = std::time::Duration::from_secs(http.body_read_timeout_secs);
    // The panic catcher sits innermost so the request is still audited, with its 500.
    api.fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(state.clone(), crate::ratelimit::enforce))
        .layer(axum::extract::DefaultBodyLimit::max(crate::limits::MAX_BODY_BYTES as usize))
        .layer(middleware::from_fn_with_state(body_read_timeout, crate::limits::enforce))
        .layer(middleware::from_fn(crate::error::uniform_errors))
        .layer(middleware::from_fn_with_state(state.clone(), request_context))
        .with_state(state)
}

/// The `{}` body of a call that answers nothing else.
fn empty() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({}))
}

/// Where a list starts: its `page_token` (none or empty: the beginning).
fn page_cursor(page_token: Option<&str>) -> Result<kiln_api::page::PageCursor, ApiError> {
    kiln_api::page::PageCursor::from_token(page_token).map_err(|message| ApiError(Error::invalid(message)))
}

/// Where a list that also takes the older `offset` starts: its page token, else `offset`.
fn start_offset(page_token: Option<&str>, offset: Option<i64>) -> Result<usize, ApiError> {
    match (page_token.filter(|t| !t.is_empty()), offset) {
        (Some(_), _) | (None, None) => Ok(page_cursor(page_token)?.offset),
        (None, Some(offset)) if offset >= 0 => Ok(offset as usize),
        (None, Some(_)) => Err(ApiError(Error::invalid("offset must not be negative"))),
    }
}

/// A handler panic: logged with an id, answered as a 500 that names the id only.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    use axum::response::IntoResponse;
    let error_id = uuid::Uuid::new_v4().to_string();
    let detail = kiln_core::panics::panic_message(panic.as_ref());
    tracing::error!(%error_id, %detail, "handler panicked");
    ApiError(Error::internal(format!("internal error; reference id {error_id}"))).into_response()
}

/// Gives each request an id, echoed as `x-request-id` and written on its audit lines; audits
/// every authenticated request with the status it was answered with; and names the
/// workspace on every response, as `get_workspace_id()` reads it from SCIM Me.
async fn request_context(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let context = RequestContext::default();
    request.extensions_mut().insert(context.clone());
    // Route templates, not raw paths, so actions group well; the path carries no secrets
    // (tokens travel in headers and bodies, which are never recorded).
    let path = request.uri().path().to_string();
    let route = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string());
    let action = format!("{} {}", request.method(), route.as_deref().unwrap_or(&path));
    let mut response = next.run(request).await;
    if let Some(caller) = context.caller.get() {
        state.audit.request(caller, &action, &path, response.status().as_u16()).await;
    }
    if let Ok(value) = HeaderValue::from_str(&context.id) {
        response.headers_mut().insert("x-request-id", value);
    }
    if let Ok(value) = HeaderValue::from_str(&state.workspace.workspace_id.to_string()) {
        response.headers_mut().insert("x-databricks-org-id", value);
    }
    response
}

/// Path prefixes of Databricks API groups that later milestones build; they answer 501.
const PLANNED_ROUTE_PREFIXES: &[&str] = &[
    "/api/2.0/preview/scim/v2/",
    "/api/2.0/token/",
    "/api/2.0/token-management/",
    "/api/2.0/permissions/",
    "/api/2.0/jobs/",
    "/api/2.1/jobs/",
    "/api/2.2/jobs/",
    "/api/2.0/clusters/",
    "/api/2.1/clusters/",
    "/api/1.2/",
    "/api/2.0/sql/",
    "/api/2.1/unity-catalog/",
    "/api/2.0/unity-catalog/",
    "/api/2.0/fs/",
    "/api/2.0/dbfs/",
    "/api/2.0/workspace/",
    "/api/2.0/secrets/",
    "/api/2.0/repos",
    "/api/2.0/workspace-conf",
    "/api/2.0/mlflow/",
    "/api/2.0/serving-endpoints",
    "/serving-endpoints/",
    "/api/2.0/mcp/",
    "/api/2.0/notification-destinations",
];

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError(Error::new(ErrorCode::Specific(405, "METHOD_NOT_ALLOWED"), format!("{method} is not allowed on {}", uri.path())))
}

async fn unknown_route(method: Method, uri: axum::http::Uri) -> ApiError {
    let path = uri.path();
    if PLANNED_ROUTE_PREFIXES.iter().any(|prefix| path.starts_with(prefix)) {
        return ApiError(Error::new(ErrorCode::NotImplemented, format!("{method} {path} is a Databricks API that Kiln does not implement yet")));
    }
    ApiError(Error::new(ErrorCode::EndpointNotFound, format!("No API found for '{method} {path}'")))
}

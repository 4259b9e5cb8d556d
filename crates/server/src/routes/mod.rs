//! The router: one module per API group, plus the fallback that tells unknown routes from
//! Databricks routes Kiln has not built yet.

#[cfg(test)]
mod tests;

mod audit;
mod auth;
mod clusters;
mod commands;
mod dbfs;
mod files;
mod jobs;
mod mcp;
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
        .merge(mcp::routes())
}

/// The layers every route gets, with the default limits. Public so tests can serve extra
/// routes the same way.
pub fn with_service_layers(api: Router<AppState>, state: AppState) -> Router {
    layered(api, state, &HttpConfig::default())
}

/// Outermost first: request id and audit, the error shape, request limits, body limit, rate
/// limits, the panic catcher, then the routes and their fallbacks.
fn layered(api: Router<AppState>, state: AppState, http: &HttpConfig) -> Router {
    let limits = crate::limits::RequestLimits { body_read_timeout: std::time::Duration::from_secs(http.body_read_timeout_secs), max_header_bytes: http.max_header_bytes };
    // The panic catcher sits innermost so the request is still audited, with its 500.
    api.fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn_with_state(state.clone(), crate::ratelimit::enforce))
        .layer(axum::extract::DefaultBodyLimit::max(crate::limits::MAX_BODY_BYTES as usize))
        .layer(middleware::from_fn_with_state(limits, crate::limits::enforce))
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

/// A list's page size from `field` (see [`kiln_api::page::page_size`]).
fn page_size(field: &str, requested: Option<i64>, default: usize, max: usize) -> Result<usize, ApiError> {
    kiln_api::page::page_size(field, requested, default, max).map_err(|message| ApiError(Error::invalid(message)))
}

/// Where a list that also takes the older `offset` starts: its page token, else `offset`
/// (no further than the longest list, so no arithmetic on it can overflow).
fn start_offset(page_token: Option<&str>, offset: Option<i64>) -> Result<usize, ApiError> {
    const MAX_OFFSET: i64 = kiln_api::page::MAX_OFFSET as i64;
    match (page_token.filter(|t| !t.is_empty()), offset) {
        (Some(_), _) | (None, None) => Ok(page_cursor(page_token)?.offset),
        (None, Some(offset)) if (0..=MAX_OFFSET).contains(&offset) => Ok(offset as usize),
        (None, Some(offset)) if offset > MAX_OFFSET => Err(ApiError(Error::invalid(format!("offset must be at most {MAX_OFFSET}, got {offset}")))),
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
        let action = match context.action_detail.get() {
            Some(detail) => format!("{action} {detail}"),
            None => action,
        };
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

/// `METHOD /path/{}` of every REST route the official SDK calls (`scripts/databricks-routes.py`
/// writes it from the SDK). A route on it that Kiln has not built answers 501; any other path
/// is not a Databricks route and answers 404, whatever group it looks like.
const DATABRICKS_ROUTES: &str = include_str!("databricks_routes.txt");

fn is_databricks_route(method: &Method, path: &str) -> bool {
    DATABRICKS_ROUTES.lines().filter_map(|line| line.split_once(' ')).any(|(route_method, template)| route_method == method.as_str() && template_matches(template, path))
}

/// Whether `path` fits `template`: `{}` as a whole segment is one segment, `{+}` two or
/// more (a resource name such as `experiments/42`), and `{}` after a prefix (`/fs/files{}`)
/// the rest of the path.
fn template_matches(template: &str, path: &str) -> bool {
    let template: Vec<&str> = template.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    segments_match(&template, &path)
}

fn segments_match(template: &[&str], path: &[&str]) -> bool {
    let (Some((&pattern, template_rest)), Some((&segment, path_rest))) = (template.split_first(), path.split_first()) else {
        return template.is_empty() && path.is_empty();
    };
    match pattern {
        "{}" => !segment.is_empty() && segments_match(template_rest, path_rest),
        // Two segments at least, then whatever the rest of the template needs.
        "{+}" => (2..=path.len()).any(|taken| path[..taken].iter().all(|s| !s.is_empty()) && segments_match(template_rest, &path[taken..])),
        _ => match pattern.strip_suffix("{}") {
            Some(prefix) => template_rest.is_empty() && segment.starts_with(prefix),
            None => pattern == segment && segments_match(template_rest, path_rest),
        },
    }
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError(Error::new(ErrorCode::Specific(405, "METHOD_NOT_ALLOWED"), format!("{method} is not allowed on {}", uri.path())))
}

async fn unknown_route(method: Method, uri: axum::http::Uri) -> ApiError {
    let path = uri.path();
    if is_databricks_route(&method, path) {
        return ApiError(Error::new(ErrorCode::NotImplemented, format!("{method} {path} is a Databricks API that Kiln does not implement yet")));
    }
    ApiError(Error::new(ErrorCode::EndpointNotFound, format!("No API found for '{method} {path}'")))
}

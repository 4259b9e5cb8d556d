//! The router: one module per API group, plus the fallback that tells unknown routes from
//! Databricks routes Kiln has not built yet.

mod audit;
mod auth;
mod oauth;
mod permissions;
mod scim;
mod tokens;
mod well_known;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use kiln_core::{Error, ErrorCode};

use crate::error::ApiError;
use crate::state::AppState;

pub use auth::{CallerExtractor, RequestId};

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(well_known::routes())
        .merge(scim::routes())
        .merge(tokens::routes())
        .merge(permissions::routes())
        .merge(audit::routes())
        .merge(oauth::routes())
        .fallback(unknown_route)
        .layer(middleware::from_fn_with_state(state.clone(), crate::ratelimit::enforce))
        .layer(middleware::from_fn_with_state(state.clone(), org_id_header))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response))
        .with_state(state)
}

/// Largest request body accepted by JSON endpoints (file uploads will set their own).
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// A handler panic: logged with an id, answered as a 500 that names the id only.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    use axum::response::IntoResponse;
    let error_id = uuid::Uuid::new_v4().to_string();
    let detail = panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
    tracing::error!(%error_id, %detail, "handler panicked");
    ApiError(Error::internal(format!("internal error; reference id {error_id}"))).into_response()
}

/// Every response names the workspace, as `get_workspace_id()` reads it from SCIM Me.
/// Also gives each request an id, echoed as `x-request-id` and written on its audit lines.
async fn org_id_header(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    request.extensions_mut().insert(RequestId(request_id.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
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
];

async fn unknown_route(method: Method, uri: axum::http::Uri) -> ApiError {
    let path = uri.path();
    if PLANNED_ROUTE_PREFIXES.iter().any(|prefix| path.starts_with(prefix)) {
        return ApiError(Error::new(ErrorCode::NotImplemented, format!("{method} {path} is a Databricks API that Kiln does not implement yet")));
    }
    ApiError(Error::new(ErrorCode::EndpointNotFound, format!("No API found for '{method} {path}'")))
}

//! `/api/2.0/mcp/...`: MCP servers over Streamable HTTP, served statelessly (see
//! `kiln-mcp`). Authentication is the REST API's; a missing or bad token is a 401 with
//! `WWW-Authenticate: Bearer`, as MCP clients expect. GET and DELETE (the event stream and
//! session end, which need a session) answer 405.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use kiln_mcp::functions::FunctionsServer;
use kiln_mcp::sql::SqlServer;
use kiln_mcp::workspace::{WorkspaceServer, WorkspaceServices};
use kiln_mcp::{Answer, ToolServer};

use super::{CallerExtractor, RequestContext};
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/2.0/mcp/sql", post(sql_server))
        .route("/api/2.0/mcp/kiln", post(workspace_server))
        .route("/api/2.0/mcp/functions/{catalog}/{schema}", post(schema_functions_server))
        .route("/api/2.0/mcp/functions/{catalog}/{schema}/{function}", post(function_server))
}

type Authenticated = Result<CallerExtractor, ApiError>;

async fn sql_server(State(state): State<AppState>, caller: Authenticated, Extension(context): Extension<RequestContext>, headers: HeaderMap, body: Bytes) -> Response {
    let server = SqlServer::new(state.statements.clone(), state.warehouses.clone(), super::sql::base_url(&headers));
    serve(&server, caller, &context, &body).await
}

async fn workspace_server(State(state): State<AppState>, caller: Authenticated, Extension(context): Extension<RequestContext>, headers: HeaderMap, body: Bytes) -> Response {
    let services = WorkspaceServices {
        statements: state.statements.clone(),
        warehouses: state.warehouses.clone(),
        uc: state.uc.clone(),
        clusters: state.clusters.clone(),
        jobs: state.jobs.clone(),
        scim: state.scim.clone(),
        secrets: state.secrets.clone(),
    };
    serve(&WorkspaceServer::new(services, super::sql::base_url(&headers)), caller, &context, &body).await
}

async fn schema_functions_server(State(state): State<AppState>, caller: Authenticated, Extension(context): Extension<RequestContext>, Path((catalog, schema)): Path<(String, String)>, body: Bytes) -> Response {
    serve(&functions_server(&state, catalog, schema, None), caller, &context, &body).await
}

async fn function_server(State(state): State<AppState>, caller: Authenticated, Extension(context): Extension<RequestContext>, Path((catalog, schema, function)): Path<(String, String, String)>, body: Bytes) -> Response {
    serve(&functions_server(&state, catalog, schema, Some(function)), caller, &context, &body).await
}

fn functions_server(state: &AppState, catalog: String, schema: String, function: Option<String>) -> FunctionsServer {
    FunctionsServer::new(state.uc.clone(), state.cluster_sql.clone(), state.cluster_pool.clone(), catalog, schema, function)
}

async fn serve(server: &dyn ToolServer, caller: Authenticated, context: &RequestContext, body: &[u8]) -> Response {
    if let Some(summary) = kiln_mcp::summary(body) {
        let _ = context.action_detail.set(summary);
    }
    match caller {
        Ok(CallerExtractor(caller)) => answer(kiln_mcp::handle(server, &caller, body).await),
        Err(error) => unauthenticated(error),
    }
}

fn answer(answer: Answer) -> Response {
    match answer {
        Answer::Message(message) => Json(message).into_response(),
        Answer::Accepted => StatusCode::ACCEPTED.into_response(),
        Answer::Invalid(message) => (StatusCode::BAD_REQUEST, Json(message)).into_response(),
    }
}

fn unauthenticated(error: ApiError) -> Response {
    let mut response = error.into_response();
    if response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

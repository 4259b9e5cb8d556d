//! `/api/2.0/mcp/...`: MCP servers over Streamable HTTP, served statelessly (see
//! `kiln-mcp`). Authentication is the REST API's; a missing or bad token is a 401 with
//! `WWW-Authenticate: Bearer`, as MCP clients expect. GET and DELETE (the event stream and
//! session end, which need a session) answer 405.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use kiln_mcp::Answer;
use kiln_mcp::sql::SqlServer;

use super::CallerExtractor;
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/2.0/mcp/sql", post(sql_server))
}

async fn sql_server(State(state): State<AppState>, caller: Result<CallerExtractor, ApiError>, headers: HeaderMap, body: Bytes) -> Response {
    let caller = match caller {
        Ok(CallerExtractor(caller)) => caller,
        Err(error) => return unauthenticated(error),
    };
    let server = SqlServer::new(state.statements.clone(), state.warehouses.clone(), super::sql::base_url(&headers));
    answer(kiln_mcp::handle(&server, &caller, &body).await)
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

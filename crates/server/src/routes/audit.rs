//! `GET /api/2.0/kiln/audit-events`: the audit log, for workspace admins. Kiln-specific;
//! Databricks exposes audit logs as system tables instead.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use kiln_api::page::{PageCursor};
use kiln_core::Error;
use kiln_store::{AuditDecision, AuditFilter};
use serde::Deserialize;

use super::CallerExtractor;
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/2.0/kiln/audit-events", get(list))
}

#[derive(Debug, Default, Deserialize)]
struct AuditQuery {
    principal_id: Option<i64>,
    request_id: Option<String>,
    decision: Option<String>,
    action_prefix: Option<String>,
    max_results: Option<i64>,
    page_token: Option<String>,
}

async fn list(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Query(query): Query<AuditQuery>) -> Result<Json<serde_json::Value>, ApiError> {
    state.authz.require_admin(&caller, "audit.list", "audit-events").await?;
    let decision = match query.decision.as_deref() {
        Some(text) => Some(AuditDecision::parse(text).ok_or_else(|| Error::invalid(format!("decision must be request, allow or deny, got '{text}'")))?),
        None => None,
    };
    // The page token carries the last sequence number seen.
    let after_seq = match query.page_token.as_deref() {
        Some(token) => PageCursor::decode(token).ok_or_else(|| Error::invalid("page_token is not a token this server issued"))?.offset as i64,
        None => 0,
    };
    let limit = super::page_size("max_results", query.max_results, 100, 1000)?;
    let filter = AuditFilter { principal_id: query.principal_id, request_id: query.request_id, decision, action_prefix: query.action_prefix };
    let events = state.audit.list(&filter, after_seq, limit).await?;
    let next_page_token = match events.last() {
        Some(last) if events.len() == limit => Some(PageCursor { offset: last.seq as usize }.encode()),
        _ => None,
    };
    let rendered: Vec<serde_json::Value> = events
        .iter()
        .map(|e| {
            serde_json::json!({
                "seq": e.seq, "time_ms": e.time_ms, "request_id": e.request_id, "principal_id": e.principal_id,
                "principal_name": e.principal_name, "action": e.action, "object": e.object,
                "decision": e.decision.as_str(), "reason": e.reason, "status": e.status,
            })
        })
        .collect();
    let mut body = serde_json::json!({ "events": rendered });
    if let Some(token) = next_page_token {
        body["next_page_token"] = serde_json::Value::String(token);
    }
    Ok(Json(body))
}

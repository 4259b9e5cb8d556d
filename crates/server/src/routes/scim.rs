//! SCIM 2.0 at `/api/2.0/preview/scim/v2`: Me, Users, Groups, ServicePrincipals. Errors leave
//! in the SCIM error body, as the real service answers them (see `error::uniform_errors`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use kiln_api::scim::{LIST_RESPONSE_SCHEMA, PatchRequest, ScimListQuery, ScimListResponse, ScimResourceInput};
use kiln_core::identity::render_me;
use kiln_store::PrincipalKind;

use super::CallerExtractor;
use crate::error::ApiError;
use crate::extract::Checked;
use crate::state::AppState;

const BASE: &str = "/api/2.0/preview/scim/v2";

pub(super) fn routes() -> Router<AppState> {
    let mut router = Router::new().route(&format!("{BASE}/Me"), get(me));
    for (segment, kind) in [("Users", PrincipalKind::User), ("Groups", PrincipalKind::Group), ("ServicePrincipals", PrincipalKind::ServicePrincipal)] {
        router = router
            .route(
                &format!("{BASE}/{segment}"),
                get(move |state, caller, query| list(state, caller, kind, query)).post(move |state, caller, body| create(state, caller, kind, body)),
            )
            .route(
                &format!("{BASE}/{segment}/{{id}}"),
                get(move |state, caller, id| get_one(state, caller, kind, id))
                    .put(move |state, caller, id, body| replace(state, caller, kind, id, body))
                    .patch(move |state, caller, id, body| patch(state, caller, kind, id, body))
                    .delete(move |state, caller, id| delete(state, caller, kind, id)),
            );
    }
    router
}

/// Errors leave as Databricks errors; the error-shape layer answers them in SCIM's shape.
type ScimResult<T> = Result<T, ApiError>;

/// The caller. A service principal also gets `userName` = its application id, as Databricks
/// answers `Me` for one, so `me().user_name` works for every caller.
async fn me(CallerExtractor(caller): CallerExtractor) -> Json<serde_json::Value> {
    Json(render_me(&caller.principal))
}

async fn list(
    State(state): State<AppState>,
    CallerExtractor(_caller): CallerExtractor,
    kind: PrincipalKind,
    Query(query): Query<ScimListQuery>,
) -> ScimResult<Json<ScimListResponse<serde_json::Value>>> {
    let page = state.scim.list(kind, &query).await?;
    Ok(Json(ScimListResponse {
        schemas: vec![LIST_RESPONSE_SCHEMA.to_string()],
        total_results: page.total_results,
        start_index: page.start_index,
        items_per_page: page.resources.len(),
        resources: page.resources,
    }))
}

async fn create(
    State(state): State<AppState>,
    CallerExtractor(caller): CallerExtractor,
    kind: PrincipalKind,
    Checked(input): Checked<ScimResourceInput>,
) -> ScimResult<(StatusCode, Json<serde_json::Value>)> {
    Ok((StatusCode::CREATED, Json(state.scim.create(&caller, kind, input).await?)))
}

async fn get_one(State(state): State<AppState>, CallerExtractor(_caller): CallerExtractor, kind: PrincipalKind, Path(id): Path<String>) -> ScimResult<Json<serde_json::Value>> {
    Ok(Json(state.scim.get(kind, &id).await?))
}

async fn replace(
    State(state): State<AppState>,
    CallerExtractor(caller): CallerExtractor,
    kind: PrincipalKind,
    Path(id): Path<String>,
    Checked(input): Checked<ScimResourceInput>,
) -> ScimResult<Json<serde_json::Value>> {
    Ok(Json(state.scim.replace(&caller, kind, &id, input).await?))
}

async fn patch(
    State(state): State<AppState>,
    CallerExtractor(caller): CallerExtractor,
    kind: PrincipalKind,
    Path(id): Path<String>,
    Checked(request): Checked<PatchRequest>,
) -> ScimResult<Json<serde_json::Value>> {
    Ok(Json(state.scim.patch(&caller, kind, &id, request.operations).await?))
}

async fn delete(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, kind: PrincipalKind, Path(id): Path<String>) -> ScimResult<StatusCode> {
    state.scim.delete(&caller, kind, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

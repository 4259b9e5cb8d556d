//! `/api/2.0/permissions/{object_type}/{object_id}` and `/permissionLevels`.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use kiln_api::permissions::{GetPermissionLevelsResponse, ObjectPermissions, SetPermissionsRequest};

use super::CallerExtractor;
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/2.0/permissions/{object_type}/{object_id}",
            get(get_permissions).put(|s, c, p, b| change(s, c, p, b, true)).patch(|s, c, p, b| change(s, c, p, b, false)),
        )
        .route("/api/2.0/permissions/{object_type}/{object_id}/permissionLevels", get(levels))
}

async fn get_permissions(
    State(state): State<AppState>,
    CallerExtractor(caller): CallerExtractor,
    Path((object_type, object_id)): Path<(String, String)>,
) -> Result<Json<ObjectPermissions>, ApiError> {
    let object = state.permissions.resolve(&object_type, &object_id).await?;
    Ok(Json(state.permissions.get(&caller, &object).await?))
}

async fn levels(
    State(state): State<AppState>,
    CallerExtractor(_caller): CallerExtractor,
    Path((object_type, object_id)): Path<(String, String)>,
) -> Result<Json<GetPermissionLevelsResponse>, ApiError> {
    let object = state.permissions.resolve(&object_type, &object_id).await?;
    Ok(Json(state.permissions.levels(&object)))
}

async fn change(
    State(state): State<AppState>,
    CallerExtractor(caller): CallerExtractor,
    Path((object_type, object_id)): Path<(String, String)>,
    AppJson(request): AppJson<SetPermissionsRequest>,
    replace: bool,
) -> Result<Json<ObjectPermissions>, ApiError> {
    let object = state.permissions.resolve(&object_type, &object_id).await?;
    Ok(Json(state.permissions.change(&caller, &object, &request.access_control_list, replace).await?))
}

//! SCIM 2.0 at `/api/2.0/preview/scim/v2`. So far: `Me`.

use axum::Json;
use axum::Router;
use axum::routing::get;
use kiln_api::scim::{ComplexValue, ResourceMeta, ScimName, ScimServicePrincipal, ScimUser, SERVICE_PRINCIPAL_SCHEMA, USER_SCHEMA};
use kiln_core::principal::Principal;
use kiln_store::PrincipalKind;

use super::CallerExtractor;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/api/2.0/preview/scim/v2/Me", get(me))
}

async fn me(CallerExtractor(caller): CallerExtractor) -> Json<serde_json::Value> {
    Json(render_principal(&caller.principal))
}

fn values(items: &[String]) -> Vec<ComplexValue> {
    items.iter().map(ComplexValue::of).collect()
}

/// The caller as a SCIM resource: a User, or a ServicePrincipal.
fn render_principal(principal: &Principal) -> serde_json::Value {
    let record = &principal.record;
    let groups: Vec<ComplexValue> = principal
        .direct_groups
        .iter()
        .map(|(id, name)| ComplexValue { value: Some(id.to_string()), display: Some(name.clone()), kind: Some("direct".to_string()), ..ComplexValue::default() })
        .collect();
    let attribute = |key: &str| record.attributes.get(key).cloned();
    match record.kind {
        PrincipalKind::ServicePrincipal => serde_json::to_value(ScimServicePrincipal {
            schemas: vec![SERVICE_PRINCIPAL_SCHEMA.to_string()],
            id: record.id.to_string(),
            application_id: record.name.clone(),
            display_name: record.display_name.clone(),
            active: record.active,
            groups,
            entitlements: values(&record.entitlements),
            roles: values(&record.roles),
            external_id: record.external_id.clone(),
            meta: ResourceMeta { resource_type: "ServicePrincipal".to_string() },
        }),
        _ => serde_json::to_value(ScimUser {
            schemas: vec![USER_SCHEMA.to_string()],
            id: record.id.to_string(),
            user_name: record.name.clone(),
            display_name: record.display_name.clone(),
            name: attribute("name").and_then(|v| serde_json::from_value::<ScimName>(v).ok()),
            active: record.active,
            emails: attribute("emails").and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default(),
            groups,
            entitlements: values(&record.entitlements),
            roles: values(&record.roles),
            external_id: record.external_id.clone(),
            meta: ResourceMeta { resource_type: "User".to_string() },
        }),
    }
    .unwrap_or_default()
}

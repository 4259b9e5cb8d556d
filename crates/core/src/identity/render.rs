//! Principal records as SCIM wire resources.

use kiln_api::scim::{
    ComplexValue, GROUP_SCHEMA, ResourceMeta, SERVICE_PRINCIPAL_SCHEMA, ScimGroup, ScimName, ScimServicePrincipal, ScimUser, USER_SCHEMA,
};
use kiln_store::{PrincipalKind, PrincipalRecord};

fn values(items: &[String]) -> Vec<ComplexValue> {
    items.iter().map(ComplexValue::of).collect()
}

fn refs(items: &[(i64, String)], kind: Option<&str>) -> Vec<ComplexValue> {
    items
        .iter()
        .map(|(id, display)| ComplexValue {
            value: Some(id.to_string()),
            display: Some(display.clone()),
            kind: kind.map(str::to_string),
            ..ComplexValue::default()
        })
        .collect()
}

/// A principal as SCIM shows it. `groups` are its direct groups; `members` (groups only)
/// its direct members, each as (id, display name).
pub fn render(record: &PrincipalRecord, groups: &[(i64, String)], members: &[(i64, String)]) -> serde_json::Value {
    let attribute = |key: &str| record.attributes.get(key).cloned();
    let meta = |resource_type: &str| ResourceMeta { resource_type: resource_type.to_string() };
    let rendered = match record.kind {
        PrincipalKind::User => serde_json::to_value(ScimUser {
            schemas: vec![USER_SCHEMA.to_string()],
            id: record.id.to_string(),
            user_name: record.name.clone(),
            display_name: record.display_name.clone(),
            name: attribute("name").and_then(|v| serde_json::from_value::<ScimName>(v).ok()),
            active: record.active,
            emails: attribute("emails").and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default(),
            groups: refs(groups, Some("direct")),
            entitlements: values(&record.entitlements),
            roles: values(&record.roles),
            external_id: record.external_id.clone(),
            meta: meta("User"),
        }),
        PrincipalKind::ServicePrincipal => serde_json::to_value(ScimServicePrincipal {
            schemas: vec![SERVICE_PRINCIPAL_SCHEMA.to_string()],
            id: record.id.to_string(),
            application_id: record.name.clone(),
            display_name: record.display_name.clone(),
            active: record.active,
            groups: refs(groups, Some("direct")),
            entitlements: values(&record.entitlements),
            roles: values(&record.roles),
            external_id: record.external_id.clone(),
            meta: meta("ServicePrincipal"),
        }),
        PrincipalKind::Group => serde_json::to_value(ScimGroup {
            schemas: vec![GROUP_SCHEMA.to_string()],
            id: record.id.to_string(),
            display_name: record.display_name.clone(),
            members: refs(members, None),
            groups: refs(groups, Some("direct")),
            entitlements: values(&record.entitlements),
            roles: values(&record.roles),
            external_id: record.external_id.clone(),
            meta: meta("Group"),
        }),
    };
    rendered.unwrap_or_default()
}

/// The caller as SCIM `Me` shows it: a service principal's `userName` is its application id.
pub fn render_me(principal: &crate::principal::Principal) -> serde_json::Value {
    let mut resource = render(&principal.record, &principal.direct_groups, &[]);
    if principal.kind() == PrincipalKind::ServicePrincipal
        && let Some(fields) = resource.as_object_mut()
    {
        fields.insert("userName".to_string(), serde_json::Value::String(principal.name().to_string()));
    }
    resource
}

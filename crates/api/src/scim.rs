//! SCIM 2.0 at `/api/2.0/preview/scim/v2`. Field names are camelCase on the wire and list
//! responses spell `Resources` with a capital R.

use serde::{Deserialize, Serialize};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const SERVICE_PRINCIPAL_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal";
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// `{value, display, primary, type, $ref}`: emails, groups, members, entitlements, roles.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ComplexValue {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(rename = "$ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl ComplexValue {
    pub fn of(value: impl Into<String>) -> ComplexValue {
        ComplexValue { value: Some(value.into()), ..ComplexValue::default() }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScimName {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ResourceMeta {
    pub resource_type: String,
}

/// What clients send to create or replace a User, Group or ServicePrincipal. Every field is
/// optional here; the service says which ones each resource requires.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimResourceInput {
    pub user_name: Option<String>,
    pub application_id: Option<String>,
    pub display_name: Option<String>,
    pub external_id: Option<String>,
    pub active: Option<bool>,
    pub name: Option<ScimName>,
    pub emails: Option<Vec<ComplexValue>>,
    pub entitlements: Option<Vec<ComplexValue>>,
    pub roles: Option<Vec<ComplexValue>>,
    pub groups: Option<Vec<ComplexValue>>,
    pub members: Option<Vec<ComplexValue>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScimUser {
    pub schemas: Vec<String>,
    pub id: String,
    pub user_name: String,
    pub display_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<ScimName>,
    pub active: bool,
    pub emails: Vec<ComplexValue>,
    pub groups: Vec<ComplexValue>,
    pub entitlements: Vec<ComplexValue>,
    pub roles: Vec<ComplexValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub meta: ResourceMeta,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScimServicePrincipal {
    pub schemas: Vec<String>,
    pub id: String,
    pub application_id: String,
    pub display_name: String,
    pub active: bool,
    pub groups: Vec<ComplexValue>,
    pub entitlements: Vec<ComplexValue>,
    pub roles: Vec<ComplexValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub meta: ResourceMeta,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScimGroup {
    pub schemas: Vec<String>,
    pub id: String,
    pub display_name: String,
    pub members: Vec<ComplexValue>,
    pub groups: Vec<ComplexValue>,
    pub entitlements: Vec<ComplexValue>,
    pub roles: Vec<ComplexValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub meta: ResourceMeta,
}

/// `{"schemas":[ListResponse], "totalResults", "startIndex", "itemsPerPage", "Resources"}`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimListResponse<T> {
    pub schemas: Vec<String>,
    pub total_results: usize,
    pub start_index: usize,
    pub items_per_page: usize,
    #[serde(rename = "Resources")]
    pub resources: Vec<T>,
}

/// Query parameters of a SCIM list.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimListQuery {
    pub filter: Option<String>,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
    pub start_index: Option<String>,
    pub count: Option<String>,
    pub sort_by: Option<String>,
    pub sort_order: Option<String>,
}

/// `attributes` / `excludedAttributes` on a single GET.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimGetQuery {
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PatchRequest {
    #[serde(rename = "Operations", alias = "operations", default)]
    pub operations: Vec<PatchOperation>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PatchOperation {
    pub op: String,
    pub path: Option<String>,
    pub value: Option<serde_json::Value>,
}

//! `/api/2.0/permissions/{object_type}/{object_id}`

use serde::{Deserialize, Serialize};

/// One entry of a request ACL: exactly one principal field and a level.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AccessControlRequest {
    pub user_name: Option<String>,
    pub group_name: Option<String>,
    pub service_principal_name: Option<String>,
    pub permission_level: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SetPermissionsRequest {
    #[serde(default)]
    pub access_control_list: Vec<AccessControlRequest>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Permission {
    pub permission_level: String,
    pub inherited: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherited_from_object: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessControlResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_principal_name: Option<String>,
    pub display_name: String,
    pub all_permissions: Vec<Permission>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ObjectPermissions {
    pub object_id: String,
    pub object_type: String,
    pub access_control_list: Vec<AccessControlResponse>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PermissionsDescription {
    pub permission_level: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetPermissionLevelsResponse {
    pub permission_levels: Vec<PermissionsDescription>,
}

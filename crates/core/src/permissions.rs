//! The Permissions API, `/api/2.0/permissions/{object_type}/{object_id}`: reads and changes
//! the direct ACL of a workspace object. Viewing an ACL needs the type's weakest level on
//! the object; changing it needs CAN_MANAGE.

use std::collections::BTreeMap;
use std::sync::Arc;

use kiln_api::permissions::{AccessControlRequest, AccessControlResponse, GetPermissionLevelsResponse, ObjectPermissions, Permission, PermissionsDescription};
use kiln_store::{AclEntry, PrincipalKind, Store};

use crate::authz::{AclPolicy, Authz, ObjectRef, ObjectType};
use crate::error::{Error, Result};
use crate::principal::Caller;
use crate::shapes;

#[derive(Debug, Clone)]
pub struct PermissionsService {
    store: Arc<dyn Store>,
    authz: Authz,
    acls: AclPolicy,
}

impl PermissionsService {
    pub fn new(store: Arc<dyn Store>, authz: Authz) -> PermissionsService {
        PermissionsService { acls: AclPolicy::new(store.clone()), store, authz }
    }

    /// Resolves the URL's `{object_type}/{object_id}`; `authorization/tokens` names the
    /// tokens singleton. Unknown or missing objects answer 404.
    pub async fn resolve(&self, object_type: &str, object_id: &str) -> Result<ObjectRef> {
        let (segment, id) = if object_type == "authorization" { (object_id, object_id) } else { (object_type, object_id) };
        let Some(kind) = ObjectType::find(segment) else {
            return Err(Error::not_found(format!("{object_type} is not a permissions object type")));
        };
        if object_type != "authorization" && matches!(segment, "tokens" | "passwords") {
            return Err(Error::not_found(format!("{object_type} is not a permissions object type; use authorization/{segment}")));
        }
        if self.store.get_object(kind.segment, id).await?.is_none() {
            return Err(Error::not_found(format!("{object_type} {object_id} does not exist")));
        }
        Ok(ObjectRef::new(kind, id))
    }

    pub async fn get(&self, caller: &Caller, object: &ObjectRef) -> Result<ObjectPermissions> {
        let weakest = object.object_type.levels[0].0;
        self.authz.require_permission(caller, "permissions.get", object, weakest).await?;
        self.render(object).await
    }

    pub fn levels(&self, object: &ObjectRef) -> GetPermissionLevelsResponse {
        let permission_levels = object
            .object_type
            .levels
            .iter()
            .map(|(level, description)| PermissionsDescription { permission_level: level.to_string(), description: description.to_string() })
            .collect();
        GetPermissionLevelsResponse { permission_levels }
    }

    /// PUT replaces the direct ACL (`replace`), PATCH merges into it.
    pub async fn change(&self, caller: &Caller, object: &ObjectRef, requested: &[AccessControlRequest], replace: bool) -> Result<ObjectPermissions> {
        // validations
        let list: Vec<serde_json::Value> = requested
            .iter()
            .map(|r| serde_json::json!({"user_name": r.user_name, "group_name": r.group_name, "service_principal_name": r.service_principal_name, "permission_level": r.permission_level}))
            .collect();
        shapes::check_at(&serde_json::Value::Array(list), &shapes::permissions::ACCESS_CONTROL_LIST, "access_control_list")?;
        let mut entries = Vec::with_capacity(requested.len());
        for (index, request) in requested.iter().enumerate() {
            entries.push(self.entry_from_request(object.object_type, index, request).await?);
        }
        // authz
        let action = if replace { "permissions.set" } else { "permissions.update" };
        self.authz.require_permission(caller, action, object, "CAN_MANAGE").await?;
        // business logic
        let segment = object.object_type.segment;
        let current = self.store.get_acl(segment, &object.object_id).await?;
        let mut resulting: BTreeMap<i64, String> = if replace { BTreeMap::new() } else { current.iter().map(|e| (e.principal_id, e.level.clone())).collect() };
        for entry in &entries {
            resulting.insert(entry.principal_id, entry.level.clone());
        }
        let owners = resulting.values().filter(|level| *level == "IS_OWNER").count();
        if owners > 1 {
            return Err(Error::invalid(format!("{} can have only one IS_OWNER", object.path())));
        }
        if replace {
            // The owner stays unless the new ACL names one.
            let kept_owner = current.iter().find(|e| e.level == "IS_OWNER").filter(|_| owners == 0);
            let mut all = entries.clone();
            all.extend(kept_owner.cloned());
            self.store.set_acl(segment, &object.object_id, &all).await?;
        } else {
            self.store.merge_acl(segment, &object.object_id, &entries).await?;
        }
        self.render(object).await
    }

    async fn entry_from_request(&self, object_type: &ObjectType, index: usize, request: &AccessControlRequest) -> Result<AclEntry> {
        let field = |name: &str| format!("access_control_list[{index}].{name}");
        let named: Vec<(PrincipalKind, &str)> = [
            (PrincipalKind::User, request.user_name.as_deref()),
            (PrincipalKind::Group, request.group_name.as_deref()),
            (PrincipalKind::ServicePrincipal, request.service_principal_name.as_deref()),
        ]
        .into_iter()
        .filter_map(|(kind, name)| name.map(|n| (kind, n)))
        .collect();
        let [(kind, name)] = named.as_slice() else {
            return Err(Error::invalid(format!("access_control_list[{index}] must set exactly one of user_name, group_name, service_principal_name")));
        };
        let Some(level) = request.permission_level.as_deref() else {
            return Err(Error::invalid(format!("{} is required", field("permission_level"))));
        };
        if object_type.rank(level).is_none() {
            return Err(Error::invalid(format!(
                "{} {level} is not valid for {}; valid levels: {}",
                field("permission_level"),
                object_type.segment,
                object_type.level_names()
            )));
        }
        let principal = self.store.find_principal(*kind, name).await?;
        let principal = principal.ok_or_else(|| Error::invalid(format!("Principal {name} ({}) does not exist", kind.as_str())))?;
        Ok(AclEntry { principal_id: principal.id, level: level.to_string() })
    }

    async fn render(&self, object: &ObjectRef) -> Result<ObjectPermissions> {
        let mut by_principal: BTreeMap<i64, Vec<Permission>> = BTreeMap::new();
        for entry in self.acls.effective_entries(object).await? {
            let permission = Permission {
                permission_level: entry.level,
                inherited: entry.inherited_from.is_some(),
                inherited_from_object: entry.inherited_from.into_iter().collect(),
            };
            by_principal.entry(entry.principal_id).or_default().push(permission);
        }
        let mut access_control_list = Vec::with_capacity(by_principal.len());
        for (principal_id, all_permissions) in by_principal {
            let Some(principal) = self.store.get_principal(principal_id).await? else { continue };
            let name = Some(principal.name.clone());
            access_control_list.push(AccessControlResponse {
                user_name: name.clone().filter(|_| principal.kind == PrincipalKind::User),
                group_name: name.clone().filter(|_| principal.kind == PrincipalKind::Group),
                service_principal_name: name.filter(|_| principal.kind == PrincipalKind::ServicePrincipal),
                display_name: principal.display_name,
                all_permissions,
            });
        }
        let object_id = object.path();
        Ok(ObjectPermissions { object_id, object_type: object.object_type.wire_name.to_string(), access_control_list })
    }
}

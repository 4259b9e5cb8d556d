//! Grants: `/api/2.1/unity-catalog/permissions/{securable_type}/{full_name}` and
//! `/effective-permissions/...`. SQL GRANT, REVOKE and SHOW GRANTS use the same functions.

use std::collections::BTreeMap;

use kiln_api::uc::{EffectivePrivilege, EffectivePrivilegeAssignment, PermissionsChange, PrivilegeAssignment};
use kiln_store::{GrantRecord, SecurableKind};

use super::{METASTORE_NAME, UnityCatalog, names};
use crate::authz::{Privilege, SecurablePath};
use crate::error::{Error, Result};
use crate::principal::Caller;

/// The securable type of a grants URL, in any case: `catalog`, `SCHEMA`, `Table`, ...
pub fn parse_securable_type(text: &str) -> Result<SecurableKind> {
    let kind = SecurableKind::parse(&text.to_ascii_lowercase());
    kind.ok_or_else(|| Error::invalid(format!("securable_type '{text}' is not one of METASTORE, CATALOG, SCHEMA, TABLE, VOLUME, FUNCTION")))
}

impl UnityCatalog {
    /// The securable a grants call names; the metastore goes by its id or name.
    pub async fn grant_target(&self, caller: &Caller, kind: SecurableKind, full_name: &str) -> Result<SecurablePath> {
        if kind == SecurableKind::Metastore {
            let metastore = self.metastore_path().await?;
            if full_name != self.metastore_id() && !full_name.eq_ignore_ascii_case(METASTORE_NAME) {
                return Err(super::does_not_exist(kind, full_name));
            }
            return Ok(metastore);
        }
        self.resolve(caller, kind, "full_name", full_name).await
    }

    /// Direct grants on the securable, one assignment per principal.
    pub async fn get_grants(&self, caller: &Caller, path: &SecurablePath, principal: Option<&str>) -> Result<Vec<PrivilegeAssignment>> {
        let _ = caller;
        let grants = self.store().list_grants(&[path.leaf().id.clone()]).await?;
        let mut by_principal: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for grant in grants.into_iter().filter(|g| principal.is_none_or(|p| p.eq_ignore_ascii_case(&g.principal))) {
            by_principal.entry(grant.principal).or_default().push(grant.privilege);
        }
        Ok(by_principal.into_iter().map(|(principal, privileges)| PrivilegeAssignment { principal, privileges }).collect())
    }

    /// Adds and removes privileges: needs MANAGE or ownership (or metastore admin).
    /// Privileges are checked against what the securable type accepts.
    pub async fn update_grants(&self, caller: &Caller, path: &SecurablePath, changes: &[PermissionsChange]) -> Result<Vec<PrivilegeAssignment>> {
        // validations
        let kind = path.leaf().kind;
        let mut add = Vec::new();
        let mut remove = Vec::new();
        for (index, change) in changes.iter().enumerate() {
            if change.principal.trim().is_empty() {
                return Err(Error::invalid(format!("changes[{index}].principal must not be empty")));
            }
            self.require_known_principal(&format!("changes[{index}].principal"), &change.principal).await?;
            for (field, list, target) in [("add", &change.add, &mut add), ("remove", &change.remove, &mut remove)] {
                for text in list {
                    let privilege = Privilege::parse(text)
                        .ok_or_else(|| Error::invalid(format!("changes[{index}].{field}: '{text}' is not a privilege")))?;
                    if !privilege.applies_to(kind) {
                        return Err(Error::invalid(format!(
                            "changes[{index}].{field}: privilege {} is not applicable to {} '{}'",
                            privilege.as_str(),
                            crate::authz::uc::kind_label(kind),
                            path.full_name()
                        )));
                    }
                    target.push(GrantRecord { securable_id: path.leaf().id.clone(), principal: change.principal.clone(), privilege: privilege.as_str().to_string() });
                }
            }
        }
        // authz
        self.authz().require_manage(caller, "uc.grants.update", path).await?;
        // business logic
        self.store().change_grants(&add, &remove).await?;
        self.get_grants(caller, path, None).await
    }

    /// Privileges per principal on the securable, direct and inherited from its catalog and
    /// schema (inherited ones name where they come from).
    pub async fn effective_grants(&self, caller: &Caller, path: &SecurablePath, principal: Option<&str>) -> Result<Vec<EffectivePrivilegeAssignment>> {
        let _ = caller;
        let depth_of_leaf = path.nodes.len() - 1;
        // Metastore grants do not flow down, so only the leaf and its containers count.
        let first = if depth_of_leaf == 0 { 0 } else { 1 };
        let ids: Vec<String> = path.nodes[first..].iter().map(|node| node.id.clone()).collect();
        let grants = self.store().list_grants(&ids).await?;
        let mut by_principal: BTreeMap<String, Vec<EffectivePrivilege>> = BTreeMap::new();
        for grant in grants.into_iter().filter(|g| principal.is_none_or(|p| p.eq_ignore_ascii_case(&g.principal))) {
            let Some(depth) = path.nodes.iter().position(|node| node.id == grant.securable_id) else { continue };
            let inherited = depth != depth_of_leaf;
            by_principal.entry(grant.principal).or_default().push(EffectivePrivilege {
                privilege: grant.privilege,
                inherited_from_type: inherited.then(|| path.nodes[depth].kind.as_str().to_ascii_uppercase()),
                inherited_from_name: inherited.then(|| path.prefix(depth).full_name()),
            });
        }
        Ok(by_principal.into_iter().map(|(principal, privileges)| EffectivePrivilegeAssignment { principal, privileges }).collect())
    }
}

/// Splits a SQL or REST full name for a securable type (used by SQL GRANT ... ON TABLE x).
pub fn full_name_parts(kind: SecurableKind, full_name: &str) -> Result<Vec<String>> {
    names::split_full_name("full_name", kind, full_name)
}

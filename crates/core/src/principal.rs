//! Who is calling: the resolved principal with its groups, and the per-request caller.

use std::sync::Arc;

use kiln_store::{PrincipalKind, PrincipalRecord};

/// Name of the group whose members administer the workspace.
pub const ADMINS_GROUP: &str = "admins";
/// Name of the group every user and service principal belongs to.
pub const USERS_GROUP: &str = "users";

/// A user or service principal resolved for authorization.
#[derive(Debug, Clone)]
pub struct Principal {
    pub record: PrincipalRecord,
    /// Direct groups with their display names, as SCIM `groups` shows them.
    pub direct_groups: Vec<(i64, String)>,
    /// Every group the principal belongs to, directly or through nested groups.
    pub all_group_ids: Vec<i64>,
    /// Display names of `all_group_ids`: Unity Catalog grants name groups.
    pub group_names: Vec<String>,
    /// Entitlements held directly or through any group (`allow-cluster-create`, ...).
    pub entitlements: Vec<String>,
    pub is_admin: bool,
}

impl Principal {
    pub fn id(&self) -> i64 {
        self.record.id
    }

    /// The name ACLs and audit lines use: user name, or application id.
    pub fn name(&self) -> &str {
        &self.record.name
    }

    pub fn kind(&self) -> PrincipalKind {
        self.record.kind
    }

    /// True when `principal_id` is this principal or one of its groups.
    pub fn is_or_belongs_to(&self, principal_id: i64) -> bool {
        principal_id == self.record.id || self.all_group_ids.contains(&principal_id)
    }
}

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Arc<Principal>,
    pub request_id: String,
}

impl Caller {
    pub fn id(&self) -> i64 {
        self.principal.id()
    }

    pub fn name(&self) -> &str {
        self.principal.name()
    }

    pub fn is_admin(&self) -> bool {
        self.principal.is_admin
    }
}

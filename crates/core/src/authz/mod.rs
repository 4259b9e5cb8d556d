//! The one place authorization is decided, for REST and SQL alike.
//!
//! Layer 1 is workspace object ACLs: an object's effective ACL is its own entries plus those
//! of its ancestors (a notebook inherits from its directories). Workspace admins hold every
//! permission. Layer 2 is Unity Catalog privileges on catalogs, schemas, tables, volumes
//! and functions (see [`uc`]). Every decision is written to the audit log with its reason, and every denial
//! names the permission that is missing and the object it is missing on.

mod levels;
pub mod uc;

use std::sync::Arc;

use async_trait::async_trait;
use kiln_store::{AclEntry, AuditDecision, ObjectRecord, Store};

pub use levels::{OBJECT_TYPES, ObjectType, SECRET_SCOPES};
pub use uc::{Privilege, SecurablePath};

use crate::audit::AuditLog;
use crate::error::{Error, Result};
use crate::principal::{Caller, Principal};

/// Ancestor chains longer than this are treated as a cycle.
const MAX_ANCESTRY: usize = 64;

/// A securable object: its type and id, e.g. (`jobs`, `123`) or (`tokens`, `authorization`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub object_type: &'static ObjectType,
    pub object_id: String,
}

impl ObjectRef {
    pub fn new(object_type: &'static ObjectType, object_id: impl Into<String>) -> ObjectRef {
        ObjectRef { object_type, object_id: object_id.into() }
    }

    /// The `/tokens` style path the API prints: `/jobs/123`, or `authorization/tokens`.
    pub fn path(&self) -> String {
        if is_authorization_object(self.object_type) {
            return format!("authorization/{}", self.object_type.segment);
        }
        format!("/{}/{}", self.object_type.segment, self.object_id)
    }
}

/// `authorization/tokens` and `authorization/passwords` are singletons with no numeric id.
pub fn is_authorization_object(object_type: &ObjectType) -> bool {
    matches!(object_type.segment, "tokens" | "passwords")
}

/// One ACL entry as seen on an object: the level and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveEntry {
    pub principal_id: i64,
    pub level: String,
    /// `None` for a direct entry, else the path of the ancestor it was inherited from.
    pub inherited_from: Option<String>,
}

/// The policy that answers "which level does P hold on O". Implementations: [`AclPolicy`]
/// over the store, and [`AllowAllPolicy`] for service tests.
#[async_trait]
pub trait Policy: Send + Sync + std::fmt::Debug {
    /// The strongest level `principal` holds on `object`, or `None`.
    async fn effective_level(&self, principal: &Principal, object: &ObjectRef) -> Result<Option<&'static str>>;
}

/// Grants everything. For tests of services in isolation only.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAllPolicy;

#[async_trait]
impl Policy for AllowAllPolicy {
    async fn effective_level(&self, _principal: &Principal, object: &ObjectRef) -> Result<Option<&'static str>> {
        Ok(object.object_type.levels.last().map(|(name, _)| *name))
    }
}

/// Object ACLs stored in the metadata store, with inheritance from parents.
#[derive(Debug, Clone)]
pub struct AclPolicy {
    store: Arc<dyn Store>,
}

impl AclPolicy {
    pub fn new(store: Arc<dyn Store>) -> AclPolicy {
        AclPolicy { store }
    }

    /// The object's direct entries followed by inherited ones, nearest ancestor first.
    pub async fn effective_entries(&self, object: &ObjectRef) -> Result<Vec<EffectiveEntry>> {
        let mut entries = Vec::new();
        let mut current = Some((object.object_type.segment.to_string(), object.object_id.clone()));
        let mut depth = 0;
        while let Some((object_type, object_id)) = current.take() {
            depth += 1;
            if depth > MAX_ANCESTRY {
                return Err(Error::internal(format!("object ancestry of {} is too deep", object.path())));
            }
            let Some(record) = self.store.get_object(&object_type, &object_id).await? else { break };
            let inherited_from = if depth == 1 { None } else { Some(ancestor_path(&record)) };
            for AclEntry { principal_id, level } in self.store.get_acl(&object_type, &object_id).await? {
                entries.push(EffectiveEntry { principal_id, level, inherited_from: inherited_from.clone() });
            }
            current = record.parent;
        }
        Ok(entries)
    }
}

fn ancestor_path(record: &ObjectRecord) -> String {
    format!("/{}/{}", record.object_type, record.object_id)
}

#[async_trait]
impl Policy for AclPolicy {
    async fn effective_level(&self, principal: &Principal, object: &ObjectRef) -> Result<Option<&'static str>> {
        if principal.is_admin {
            return Ok(Some(object.object_type.admin_level()));
        }
        let mut best: Option<usize> = None;
        for entry in self.effective_entries(object).await? {
            if !principal.is_or_belongs_to(entry.principal_id) {
                continue;
            }
            let Some(rank) = object.object_type.rank(&entry.level) else { continue };
            best = Some(best.map_or(rank, |current| current.max(rank)));
        }
        Ok(best.map(|rank| object.object_type.levels[rank].0))
    }
}

/// Authorization checks with auditing. Services call these; nothing else decides access.
#[derive(Debug, Clone)]
pub struct Authz {
    policy: Arc<dyn Policy>,
    /// Unity Catalog grants are read from here.
    store: Arc<dyn Store>,
    audit: AuditLog,
}

impl Authz {
    pub fn new(policy: Arc<dyn Policy>, store: Arc<dyn Store>, audit: AuditLog) -> Authz {
        Authz { policy, store, audit }
    }

    /// Workspace-admin-only actions (SCIM writes, token management, audit reads).
    /// Where decisions are recorded.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    pub async fn require_admin(&self, caller: &Caller, action: &str, object: &str) -> Result<()> {
        if caller.is_admin() {
            self.audit.decision(caller, action, object, AuditDecision::Allow, "caller is a workspace admin").await;
            return Ok(());
        }
        let reason = format!("{action} on {object} requires workspace admin (membership in the admins group)");
        self.audit.decision(caller, action, object, AuditDecision::Deny, &reason).await;
        Err(Error::denied(format!("{} is not a workspace admin: {reason}", caller.name())))
    }

    /// Requires an entitlement such as `allow-cluster-create`, held directly or through a
    /// group; admins hold every entitlement.
    pub async fn require_entitlement(&self, caller: &Caller, action: &str, entitlement: &str) -> Result<()> {
        if caller.is_admin() || caller.principal.entitlements.iter().any(|held| held == entitlement) {
            self.audit.decision(caller, action, entitlement, AuditDecision::Allow, &format!("holds entitlement {entitlement}")).await;
            return Ok(());
        }
        let reason = format!("missing entitlement {entitlement}");
        self.audit.decision(caller, action, entitlement, AuditDecision::Deny, &reason).await;
        Err(Error::denied(format!("{} does not have the {entitlement} entitlement, which {action} needs", caller.name())))
    }

    /// Requires at least `level` on `object`.
    pub async fn require_permission(&self, caller: &Caller, action: &str, object: &ObjectRef, level: &str) -> Result<()> {
        self.check_permission(caller, action, object, level, None, None).await
    }

    /// As [`Authz::require_permission`], with the object's name (a workspace path, say)
    /// beside its id in a denial.
    pub async fn require_named_permission(&self, caller: &Caller, action: &str, object: &ObjectRef, level: &str, name: &str) -> Result<()> {
        self.check_permission(caller, action, object, level, None, Some(name)).await
    }

    /// As [`Authz::require_permission`], but a caller holding no level at all on `object`
    /// gets `hidden` (Databricks answers "does not exist" for what one may not see).
    pub async fn require_visible_permission(&self, caller: &Caller, action: &str, object: &ObjectRef, level: &str, hidden: Error) -> Result<()> {
        self.check_permission(caller, action, object, level, Some(hidden), None).await
    }

    async fn check_permission(&self, caller: &Caller, action: &str, object: &ObjectRef, level: &str, hidden: Option<Error>, name: Option<&str>) -> Result<()> {
        let path = match name {
            Some(name) => format!("{} ({name})", object.path()),
            None => object.path(),
        };
        let required_rank = object.object_type.rank(level).ok_or_else(|| {
            Error::internal(format!("permission level {level} is not defined for {}", object.object_type.segment))
        })?;
        let held = self.policy.effective_level(&caller.principal, object).await?;
        let held_rank = held.and_then(|name| object.object_type.rank(name));
        if held_rank.is_some_and(|rank| rank >= required_rank) {
            let reason = format!("holds {} on {path}", held.unwrap_or(level));
            self.audit.decision(caller, action, &path, AuditDecision::Allow, &reason).await;
            return Ok(());
        }
        let reason = format!("missing permission {level} on {path}");
        self.audit.decision(caller, action, &path, AuditDecision::Deny, &reason).await;
        match hidden {
            Some(hidden) if held.is_none() => Err(hidden),
            _ => Err(Error::denied(format!("{} does not have {level} permission on {path}", caller.name()))),
        }
    }

    /// The strongest level the caller holds on `object` (no audit line: a read of policy).
    pub async fn level_of(&self, caller: &Caller, object: &ObjectRef) -> Result<Option<&'static str>> {
        self.policy.effective_level(&caller.principal, object).await
    }

    /// Requires `privilege` on the leaf of `path`, with the USE CATALOG / USE SCHEMA
    /// boundaries. The denial names the first privilege missing and where.
    pub async fn require_privilege(&self, caller: &Caller, action: &str, path: &SecurablePath, privilege: Privilege) -> Result<()> {
        let grants = self.store.list_grants(&path.ids()).await?;
        let evaluation = uc::Evaluation::new(&caller.principal, path, &grants);
        let object = path.describe(path.nodes.len() - 1);
        match evaluation.missing(privilege) {
            None => {
                let reason = format!("holds {} on {object}", privilege.sql_name());
                self.audit.decision(caller, action, &object, AuditDecision::Allow, &reason).await;
                Ok(())
            }
            Some(missing) => {
                let message = format!("User does not have {} on {}.", missing.privilege.sql_name(), path.describe(missing.depth));
                self.audit.decision(caller, action, &object, AuditDecision::Deny, &message).await;
                Err(Error::denied(message))
            }
        }
    }

    /// Requires the right to manage the leaf of `path` (change grants, owner, drop, alter):
    /// ownership of it or a container, `MANAGE`, or metastore admin.
    pub async fn require_manage(&self, caller: &Caller, action: &str, path: &SecurablePath) -> Result<()> {
        self.require_privilege(caller, action, path, Privilege::Manage).await
    }

    /// Whether the caller may learn that the leaf of `path` exists; callers answer "does not
    /// exist" otherwise. A read of policy, not audited.
    pub async fn may_see(&self, caller: &Caller, path: &SecurablePath) -> Result<bool> {
        if caller.is_admin() {
            return Ok(true);
        }
        let grants = self.store.list_grants(&path.ids()).await?;
        Ok(uc::Evaluation::new(&caller.principal, path, &grants).may_see())
    }

    /// Whether the caller may learn that the leaf exists when it names it directly (a get, a
    /// SQL reference): what it may see, or anything inside containers it may enter, so the
    /// answer can name the privilege it lacks. Lists show only what [`Authz::may_see`] allows.
    pub async fn may_address(&self, caller: &Caller, path: &SecurablePath) -> Result<bool> {
        if caller.is_admin() {
            return Ok(true);
        }
        let grants = self.store.list_grants(&path.ids()).await?;
        let evaluation = uc::Evaluation::new(&caller.principal, path, &grants);
        Ok(evaluation.may_see() || evaluation.may_enter_containers())
    }

    /// Those of `paths` on whose leaf the caller holds `privilege` (with the container
    /// privileges it needs), read from the store once for all: for lists of many objects.
    pub async fn holding_privilege(&self, caller: &Caller, paths: Vec<SecurablePath>, privilege: Privilege) -> Result<Vec<SecurablePath>> {
        /// Securable ids per store read, well inside SQLite's bind-parameter limit.
        const IDS_PER_READ: usize = 500;
        let mut ids: Vec<String> = paths.iter().flat_map(SecurablePath::ids).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut grants = Vec::new();
        for chunk in ids.chunks(IDS_PER_READ) {
            grants.extend(self.store.list_grants(chunk).await?);
        }
        Ok(paths.into_iter().filter(|path| uc::Evaluation::new(&caller.principal, path, &grants).missing(privilege).is_none()).collect())
    }

    /// Privileges the caller effectively holds on the leaf of `path`.
    pub async fn privileges_on(&self, caller: &Caller, path: &SecurablePath) -> Result<Vec<Privilege>> {
        let grants = self.store.list_grants(&path.ids()).await?;
        Ok(uc::Evaluation::new(&caller.principal, path, &grants).held_on_leaf())
    }
}

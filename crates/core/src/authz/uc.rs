//! Layer 2: Unity Catalog privileges on the securable tree metastore → catalog → schema →
//! table / volume / function, with Databricks' rules:
//! - a privilege granted on a catalog or schema applies to everything inside it;
//!   `ALL PRIVILEGES` covers every privilege but `MANAGE`; grants to a group apply to its
//!   members, and grants to `account users` to everyone;
//! - `USE CATALOG` on the catalog and `USE SCHEMA` on the schema are boundaries: without them
//!   nothing inside is reachable, whatever else is granted;
//! - the owner of an object holds every privilege on it; owners of a container may manage
//!   (grant on, alter, drop) what is inside but get no data access from that;
//! - workspace admins are metastore admins: they own the metastore, see and manage every
//!   object, and, like on Databricks, read data only where they are granted it or own it.

use kiln_store::{GrantRecord, SecurableKind, SecurableRecord};

use crate::principal::Principal;

/// The principal name every user and service principal matches in grants.
pub const ACCOUNT_USERS: &str = "account users";

/// Unity Catalog privileges, spelled as the REST API spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Privilege {
    AllPrivileges,
    Browse,
    CreateCatalog,
    CreateFunction,
    CreateSchema,
    CreateTable,
    CreateVolume,
    Execute,
    Manage,
    Modify,
    ReadVolume,
    Select,
    UseCatalog,
    UseSchema,
    WriteVolume,
}

const ALL: &[Privilege] = &[
    Privilege::AllPrivileges,
    Privilege::Browse,
    Privilege::CreateCatalog,
    Privilege::CreateFunction,
    Privilege::CreateSchema,
    Privilege::CreateTable,
    Privilege::CreateVolume,
    Privilege::Execute,
    Privilege::Manage,
    Privilege::Modify,
    Privilege::ReadVolume,
    Privilege::Select,
    Privilege::UseCatalog,
    Privilege::UseSchema,
    Privilege::WriteVolume,
];

impl Privilege {
    /// The REST spelling: `USE_CATALOG`.
    pub fn as_str(self) -> &'static str {
        match self {
            Privilege::AllPrivileges => "ALL_PRIVILEGES",
            Privilege::Browse => "BROWSE",
            Privilege::CreateCatalog => "CREATE_CATALOG",
            Privilege::CreateFunction => "CREATE_FUNCTION",
            Privilege::CreateSchema => "CREATE_SCHEMA",
            Privilege::CreateTable => "CREATE_TABLE",
            Privilege::CreateVolume => "CREATE_VOLUME",
            Privilege::Execute => "EXECUTE",
            Privilege::Manage => "MANAGE",
            Privilege::Modify => "MODIFY",
            Privilege::ReadVolume => "READ_VOLUME",
            Privilege::Select => "SELECT",
            Privilege::UseCatalog => "USE_CATALOG",
            Privilege::UseSchema => "USE_SCHEMA",
            Privilege::WriteVolume => "WRITE_VOLUME",
        }
    }

    /// The SQL spelling: `USE CATALOG`.
    pub fn sql_name(self) -> String {
        self.as_str().replace('_', " ")
    }

    /// Parses either spelling, any case: `use_catalog`, `USE CATALOG`, `all privileges`.
    pub fn parse(text: &str) -> Option<Privilege> {
        let normalized = text.split_whitespace().collect::<Vec<_>>().join("_").to_ascii_uppercase();
        ALL.iter().copied().find(|privilege| privilege.as_str() == normalized)
    }

    /// Where the privilege may be granted. Privileges on a container apply to what is inside.
    pub fn applies_to(self, kind: SecurableKind) -> bool {
        use Privilege::*;
        use SecurableKind as K;
        match self {
            CreateCatalog => kind == K::Metastore,
            UseCatalog => kind == K::Catalog,
            CreateSchema => kind == K::Catalog,
            UseSchema | CreateTable | CreateVolume | CreateFunction => matches!(kind, K::Catalog | K::Schema),
            Browse => matches!(kind, K::Catalog | K::Schema),
            Select | Modify => matches!(kind, K::Catalog | K::Schema | K::Table),
            ReadVolume | WriteVolume => matches!(kind, K::Catalog | K::Schema | K::Volume),
            Execute => matches!(kind, K::Catalog | K::Schema | K::Function),
            AllPrivileges | Manage => kind != K::Metastore,
        }
    }

    pub fn all() -> &'static [Privilege] {
        ALL
    }
}

/// How the API names a securable kind in messages: `Catalog 'main'`.
pub fn kind_label(kind: SecurableKind) -> &'static str {
    match kind {
        SecurableKind::Metastore => "Metastore",
        SecurableKind::Catalog => "Catalog",
        SecurableKind::Schema => "Schema",
        SecurableKind::Table => "Table",
        SecurableKind::Volume => "Volume",
        SecurableKind::Function => "Function",
    }
}

/// A securable with every ancestor: `nodes[0]` is the metastore, the last node the object.
#[derive(Debug, Clone)]
pub struct SecurablePath {
    pub nodes: Vec<SecurableRecord>,
}

impl SecurablePath {
    pub fn leaf(&self) -> &SecurableRecord {
        self.nodes.last().expect("a securable path is never empty")
    }

    /// `main.sales.orders`: the names below the metastore.
    pub fn full_name(&self) -> String {
        self.full_name_to(self.nodes.len() - 1)
    }

    fn full_name_to(&self, depth: usize) -> String {
        if depth == 0 {
            return self.nodes[0].name.clone();
        }
        self.nodes[1..=depth].iter().map(|node| node.name.as_str()).collect::<Vec<_>>().join(".")
    }

    /// `Schema 'main.sales'` for the node at `depth`.
    pub fn describe(&self, depth: usize) -> String {
        format!("{} '{}'", kind_label(self.nodes[depth].kind), self.full_name_to(depth))
    }

    pub fn ids(&self) -> Vec<String> {
        self.nodes.iter().map(|node| node.id.clone()).collect()
    }

    /// The path of `child`, a securable directly inside the leaf.
    pub fn child(&self, child: SecurableRecord) -> SecurablePath {
        let mut nodes = self.nodes.clone();
        nodes.push(child);
        SecurablePath { nodes }
    }

    /// The path of the node at `depth` (0 = metastore).
    pub fn prefix(&self, depth: usize) -> SecurablePath {
        SecurablePath { nodes: self.nodes[..=depth].to_vec() }
    }
}

/// True when a grant to `grantee` applies to `principal`.
pub fn is_grantee(principal: &Principal, grantee: &str) -> bool {
    grantee.eq_ignore_ascii_case(principal.name())
        || grantee.eq_ignore_ascii_case(ACCOUNT_USERS)
        || principal.group_names.iter().any(|group| group.eq_ignore_ascii_case(grantee))
}

/// Why a privilege check failed: the privilege that is missing and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub privilege: Privilege,
    /// Depth in the path of the securable it is missing on.
    pub depth: usize,
}

/// Evaluates privileges of one principal along one path, given the grants on its nodes.
#[derive(Debug)]
pub struct Evaluation<'a> {
    principal: &'a Principal,
    path: &'a SecurablePath,
    grants: &'a [GrantRecord],
}

impl<'a> Evaluation<'a> {
    pub fn new(principal: &'a Principal, path: &'a SecurablePath, grants: &'a [GrantRecord]) -> Evaluation<'a> {
        Evaluation { principal, path, grants }
    }

    /// Owner of exactly the node at `depth`.
    pub fn owns(&self, depth: usize) -> bool {
        is_owner(self.principal, &self.path.nodes[depth].owner)
    }

    /// Owner of the node at `depth` or of a catalog or schema above it, or metastore admin:
    /// the ways to manage an object without a MANAGE grant.
    pub fn administers(&self, depth: usize) -> bool {
        self.principal.is_admin || (1.min(depth)..=depth).any(|d| self.owns(d))
    }

    /// A grant of `privilege` (or ALL PRIVILEGES) on the node at `depth` or a container above it
    /// (metastore grants do not flow down).
    pub fn granted(&self, privilege: Privilege, depth: usize) -> bool {
        let ids: Vec<&str> = if depth == 0 {
            vec![self.path.nodes[0].id.as_str()]
        } else {
            self.path.nodes[1..=depth].iter().map(|node| node.id.as_str()).collect()
        };
        self.grants.iter().any(|grant| {
            ids.contains(&grant.securable_id.as_str())
                && is_grantee(self.principal, &grant.principal)
                && Privilege::parse(&grant.privilege).is_some_and(|held| {
                    held == privilege || (held == Privilege::AllPrivileges && privilege != Privilege::Manage)
                })
        })
    }

    /// Holds `privilege` on the node at `depth`, before the usage boundaries.
    pub fn holds(&self, privilege: Privilege, depth: usize) -> bool {
        (self.owns(depth) && privilege.applies_to(self.path.nodes[depth].kind)) || self.granted(privilege, depth)
    }

    /// The first thing missing for `privilege` on the leaf: `USE CATALOG`, then `USE SCHEMA`,
    /// then the privilege itself. `None` when allowed.
    pub fn missing(&self, privilege: Privilege) -> Option<Missing> {
        let leaf = self.path.nodes.len() - 1;
        if privilege == Privilege::Manage && self.administers(leaf) {
            return None;
        }
        // The boundaries, for anything inside a catalog or schema (BROWSE skips them).
        if privilege != Privilege::Browse {
            for (depth, node) in self.path.nodes.iter().enumerate().skip(1) {
                let usage = match node.kind {
                    SecurableKind::Catalog => Privilege::UseCatalog,
                    SecurableKind::Schema => Privilege::UseSchema,
                    _ => continue,
                };
                if usage == privilege && depth == leaf {
                    break;
                }
                if !self.holds(usage, depth) {
                    return Some(Missing { privilege: usage, depth });
                }
            }
        }
        (!self.holds(privilege, leaf)).then_some(Missing { privilege, depth: leaf })
    }

    /// May the principal learn that the leaf exists: metastore admins and owners (of it or
    /// a container) may; BROWSE on a container shows what is inside; otherwise it takes a
    /// privilege that works on the leaf: any grant on a catalog or schema itself, USE SCHEMA
    /// for a schema, SELECT or MODIFY for a table, READ or WRITE VOLUME for a volume,
    /// EXECUTE for a function (MANAGE for any of them).
    pub fn may_see(&self) -> bool {
        let leaf = self.path.nodes.len() - 1;
        let node = &self.path.nodes[leaf];
        if node.kind == SecurableKind::Metastore || self.administers(leaf) || self.granted(Privilege::Browse, leaf) {
            return true;
        }
        let direct = self.grants.iter().any(|grant| grant.securable_id == node.id && is_grantee(self.principal, &grant.principal));
        let working: &[Privilege] = match node.kind {
            SecurableKind::Metastore | SecurableKind::Catalog => &[],
            SecurableKind::Schema => &[Privilege::UseSchema],
            SecurableKind::Table => &[Privilege::Select, Privilege::Modify, Privilege::Manage],
            SecurableKind::Volume => &[Privilege::ReadVolume, Privilege::WriteVolume, Privilege::Manage],
            SecurableKind::Function => &[Privilege::Execute, Privilege::Manage],
        };
        (direct && matches!(node.kind, SecurableKind::Catalog | SecurableKind::Schema)) || working.iter().any(|privilege| self.granted(*privilege, leaf))
    }

    /// Holds USE CATALOG and USE SCHEMA on every container above the leaf: such a caller
    /// may learn that objects inside exist, and is told which privilege it lacks.
    pub fn may_enter_containers(&self) -> bool {
        let leaf = self.path.nodes.len() - 1;
        self.path.nodes[..leaf].iter().enumerate().skip(1).all(|(depth, node)| match node.kind {
            SecurableKind::Catalog => self.holds(Privilege::UseCatalog, depth),
            SecurableKind::Schema => self.holds(Privilege::UseSchema, depth),
            _ => true,
        }) && leaf >= 2
    }

    /// Privileges held on the leaf (ownership and admin expand to every applicable one).
    pub fn held_on_leaf(&self) -> Vec<Privilege> {
        let leaf_kind = self.path.leaf().kind;
        Privilege::all()
            .iter()
            .copied()
            .filter(|privilege| *privilege != Privilege::AllPrivileges && privilege.applies_to(leaf_kind))
            .filter(|privilege| self.missing(*privilege).is_none())
            .collect()
    }
}

/// Owned by the principal itself or by one of its groups.
pub fn is_owner(principal: &Principal, owner: &str) -> bool {
    owner.eq_ignore_ascii_case(principal.name()) || principal.group_names.iter().any(|group| group.eq_ignore_ascii_case(owner))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_store::{PrincipalKind, PrincipalRecord};

    fn node(id: &str, kind: SecurableKind, name: &str, owner: &str) -> SecurableRecord {
        SecurableRecord {
            id: id.to_string(),
            kind,
            parent_id: None,
            name: name.to_string(),
            owner: owner.to_string(),
            comment: None,
            properties: serde_json::json!({}),
            spec: serde_json::json!({}),
            created_at_ms: 0,
            created_by: owner.to_string(),
            updated_at_ms: 0,
            updated_by: owner.to_string(),
        }
    }

    /// kiln > main > sales > orders, owned by `owner` below the metastore.
    fn path(owner: &str) -> SecurablePath {
        SecurablePath {
            nodes: vec![
                node("m", SecurableKind::Metastore, "kiln", "admins"),
                node("c", SecurableKind::Catalog, "main", owner),
                node("s", SecurableKind::Schema, "sales", owner),
                node("t", SecurableKind::Table, "orders", owner),
            ],
        }
    }

    fn principal(name: &str, groups: &[&str], is_admin: bool) -> Principal {
        let record = PrincipalRecord::new(1, PrincipalKind::User, name);
        Principal { record, direct_groups: Vec::new(), all_group_ids: Vec::new(), group_names: groups.iter().map(|g| g.to_string()).collect(), entitlements: Vec::new(), is_admin }
    }

    fn grant(on: &str, to: &str, privilege: Privilege) -> GrantRecord {
        GrantRecord { securable_id: on.to_string(), principal: to.to_string(), privilege: privilege.as_str().to_string() }
    }

    #[test]
    fn boundaries_come_first_then_the_privilege_inherited_from_containers() {
        let path = path("owner@x");
        let bob = principal("bob@x", &["analysts"], false);
        let mut grants = vec![grant("s", "analysts", Privilege::Select)];
        let missing = |grants: &[GrantRecord]| Evaluation::new(&bob, &path, grants).missing(Privilege::Select);
        assert_eq!(missing(&grants), Some(Missing { privilege: Privilege::UseCatalog, depth: 1 }));
        grants.push(grant("c", "account users", Privilege::UseCatalog));
        assert_eq!(missing(&grants), Some(Missing { privilege: Privilege::UseSchema, depth: 2 }));
        grants.push(grant("c", "bob@x", Privilege::UseSchema));
        assert_eq!(missing(&grants), None, "SELECT on the schema covers its tables");
        assert_eq!(path.describe(2), "Schema 'main.sales'");
    }

    #[test]
    fn all_privileges_covers_everything_but_manage() {
        let path = path("owner@x");
        let bob = principal("bob@x", &[], false);
        let grants = [grant("c", "bob@x", Privilege::AllPrivileges)];
        let evaluation = Evaluation::new(&bob, &path, &grants);
        assert_eq!(evaluation.missing(Privilege::Modify), None);
        assert_eq!(evaluation.missing(Privilege::Manage), Some(Missing { privilege: Privilege::Manage, depth: 3 }));
    }

    #[test]
    fn owners_and_admins_manage_but_read_only_what_they_own() {
        let catalog_owner = principal("owner@x", &[], false);
        let mut path = path("owner@x");
        path.nodes[3].owner = "carol@x".to_string();
        let evaluation = Evaluation::new(&catalog_owner, &path, &[]);
        assert_eq!(evaluation.missing(Privilege::Manage), None, "a parent owner manages children");
        assert_eq!(evaluation.missing(Privilege::Select), Some(Missing { privilege: Privilege::Select, depth: 3 }), "but does not read them");
        let admin = principal("admin@x", &["admins"], true);
        let evaluation = Evaluation::new(&admin, &path, &[]);
        assert!(evaluation.may_see() && evaluation.missing(Privilege::Manage).is_none());
        assert!(evaluation.missing(Privilege::Select).is_some(), "metastore admins have no data access by default");
        let table_owner = principal("carol@x", &[], false);
        let evaluation = Evaluation::new(&table_owner, &path, &[]);
        assert_eq!(evaluation.missing(Privilege::Select), Some(Missing { privilege: Privilege::UseCatalog, depth: 1 }), "owning a table does not open its catalog");
    }

    #[test]
    fn visibility_needs_a_privilege_that_works_on_the_object() {
        let path = path("owner@x");
        let bob = principal("bob@x", &[], false);
        let boundaries = [grant("c", "bob@x", Privilege::UseCatalog), grant("s", "bob@x", Privilege::UseSchema)];
        let evaluation = Evaluation::new(&bob, &path, &boundaries);
        assert!(!evaluation.may_see(), "USE SCHEMA alone does not list a table");
        assert!(evaluation.may_enter_containers(), "but naming it tells which privilege is missing");
        let browse = [grant("c", "bob@x", Privilege::Browse)];
        assert!(Evaluation::new(&bob, &path, &browse).may_see());
        assert_eq!(Privilege::parse("all privileges"), Some(Privilege::AllPrivileges));
        assert_eq!(Privilege::parse("Use_Catalog"), Some(Privilege::UseCatalog));
        assert!(!Privilege::CreateSchema.applies_to(SecurableKind::Schema));
    }
}

//! Unity Catalog: the metastore's securable tree (catalogs, schemas, tables, volumes,
//! functions) and grants on it. REST handlers and the SQL statement layer both call these
//! services, so one set of rules governs both.

pub mod catalogs;
pub mod functions;
pub mod names;
pub mod grants;
pub mod tables;
pub mod volume_paths;
pub mod volumes;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kiln_store::{SecurableKind, SecurableRecord, Store, StoreError};

use crate::authz::uc::kind_label;
use crate::authz::{Authz, Privilege, SecurablePath};
use crate::clock::now_ms;
use crate::error::{Error, ErrorCode, Result};
use crate::principal::{ADMINS_GROUP, Caller};

/// The metastore's name; one per workspace.
pub const METASTORE_NAME: &str = "kiln";
/// The catalog and schema a fresh workspace has, where every user may create tables.
pub const DEFAULT_CATALOG: &str = "main";
pub const DEFAULT_SCHEMA: &str = "default";

/// Unity Catalog services over the metadata store and managed storage.
#[derive(Debug, Clone)]
pub struct UnityCatalog {
    store: Arc<dyn Store>,
    authz: Authz,
    metastore_id: String,
    /// Managed storage: `<data-dir>/storage`, one directory per securable id.
    storage_root: PathBuf,
}

/// The schema every catalog has, served by the SQL engine rather than stored.
pub const INFORMATION_SCHEMA: &str = "information_schema";

/// The wire error of a missing securable: `Catalog 'x' does not exist.`
pub fn does_not_exist(kind: SecurableKind, full_name: &str) -> Error {
    let code = match kind {
        SecurableKind::Metastore => "METASTORE_DOES_NOT_EXIST",
        SecurableKind::Catalog => "CATALOG_DOES_NOT_EXIST",
        SecurableKind::Schema => "SCHEMA_DOES_NOT_EXIST",
        SecurableKind::Table => "TABLE_DOES_NOT_EXIST",
        SecurableKind::Volume => "VOLUME_DOES_NOT_EXIST",
        SecurableKind::Function => "FUNCTION_DOES_NOT_EXIST",
    };
    Error::new(ErrorCode::Specific(404, code), format!("{} '{full_name}' does not exist.", kind_label(kind)))
}

/// The wire error of a name clash: `Catalog 'x' already exists.` The SDK raises
/// `ResourceAlreadyExists` only for this error code, so the kind lives in the message.
pub fn already_exists(kind: SecurableKind, full_name: &str) -> Error {
    Error::already_exists(format!("{} '{full_name}' already exists.", kind_label(kind)))
}

impl UnityCatalog {
    /// Opens the workspace's metastore, creating its root securable on first start. The
    /// `admins` group owns it: workspace admins are metastore admins.
    pub async fn open(store: Arc<dyn Store>, authz: Authz, storage_root: PathBuf) -> Result<UnityCatalog> {
        let existing = store.find_securable(None, SecurableKind::Metastore, METASTORE_NAME).await?;
        let metastore = match existing {
            Some(metastore) => metastore,
            None => {
                let metastore = new_record(SecurableKind::Metastore, None, METASTORE_NAME, ADMINS_GROUP, "system");
                match store.insert_securable(&metastore).await {
                    Ok(()) => {
                        create_default_catalog(&store, &metastore.id).await?;
                        metastore
                    }
                    // Another node created it first.
                    Err(StoreError::AlreadyExists(_)) => store
                        .find_securable(None, SecurableKind::Metastore, METASTORE_NAME)
                        .await?
                        .ok_or_else(|| Error::internal("metastore vanished during bootstrap"))?,
                    Err(other) => return Err(other.into()),
                }
            }
        };
        std::fs::create_dir_all(&storage_root).map_err(|e| Error::internal(format!("cannot create managed storage {}: {e}", storage_root.display())))?;
        Ok(UnityCatalog { store, authz, metastore_id: metastore.id, storage_root })
    }

    pub fn metastore_id(&self) -> &str {
        &self.metastore_id
    }

    pub fn authz(&self) -> &Authz {
        &self.authz
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The managed-storage directory of a securable.
    pub fn storage_dir(&self, securable_id: &str) -> PathBuf {
        self.storage_root.join(securable_id)
    }

    pub fn storage_root(&self) -> &Path {
        &self.storage_root
    }

    pub async fn metastore_path(&self) -> Result<SecurablePath> {
        let metastore = self.store.get_securable(&self.metastore_id).await?.ok_or_else(|| Error::internal("the metastore is missing"))?;
        Ok(SecurablePath { nodes: vec![metastore] })
    }

    /// The path of the securable of `kind` named by the parts of its full name, or the
    /// error naming the first part that does not exist. No visibility check.
    pub async fn lookup(&self, kind: SecurableKind, parts: &[String]) -> Result<SecurablePath> {
        let mut path = self.metastore_path().await?;
        for (index, part) in parts.iter().enumerate() {
            let step_kind = match index {
                0 => SecurableKind::Catalog,
                1 => SecurableKind::Schema,
                _ => kind,
            };
            let parent = &path.leaf().id;
            match self.store.find_securable(Some(parent), step_kind, part).await? {
                Some(node) => path.nodes.push(node),
                None => return Err(does_not_exist(step_kind, &parts[..=index].join("."))),
            }
        }
        Ok(path)
    }

    /// Like [`lookup`](Self::lookup) from a dotted full name, but what the caller may not see
    /// answers exactly as if it did not exist.
    pub async fn resolve(&self, caller: &Caller, kind: SecurableKind, field: &str, full_name: &str) -> Result<SecurablePath> {
        let parts = names::split_full_name(field, kind, full_name)?;
        let path = self.lookup(kind, &parts).await?;
        if !self.authz.may_address(caller, &path).await? {
            return Err(does_not_exist(kind, &parts.join(".")));
        }
        Ok(path)
    }

    /// Like [`resolve`](Self::resolve), for reading the securable's metadata (a REST get):
    /// it also takes a privilege that works on it (SELECT on a table, USE SCHEMA on a
    /// schema, ...), and the denial names that privilege.
    pub async fn resolve_readable(&self, caller: &Caller, kind: SecurableKind, field: &str, full_name: &str) -> Result<SecurablePath> {
        let path = self.resolve(caller, kind, field, full_name).await?;
        if !self.authz.may_see(caller, &path).await? {
            let privilege = match kind {
                SecurableKind::Catalog | SecurableKind::Metastore => Privilege::UseCatalog,
                SecurableKind::Schema => Privilege::UseSchema,
                SecurableKind::Table => Privilege::Select,
                SecurableKind::Volume => Privilege::ReadVolume,
                SecurableKind::Function => Privilege::Execute,
            };
            self.authz.require_privilege(caller, "uc.get", &path, privilege).await?;
        }
        Ok(path)
    }

    /// The children of `parent` of one kind that the caller may see, ordered by name.
    pub async fn visible_children(&self, caller: &Caller, parent: &SecurablePath, kind: SecurableKind) -> Result<Vec<SecurablePath>> {
        let mut visible = Vec::new();
        for child in self.store.list_securables(&parent.leaf().id, Some(kind)).await? {
            let mut path = parent.clone();
            path.nodes.push(child);
            if self.authz.may_see(caller, &path).await? {
                visible.push(path);
            }
        }
        Ok(visible)
    }

    /// Creates a child securable after `privilege` was checked on `parent`. The caller owns it.
    pub async fn create_child(
        &self,
        caller: &Caller,
        action: &str,
        parent: &SecurablePath,
        privilege: Privilege,
        mut record: SecurableRecord,
    ) -> Result<SecurablePath> {
        // authz
        self.authz.require_privilege(caller, action, parent, privilege).await?;
        // business logic
        record.parent_id = Some(parent.leaf().id.clone());
        let mut path = parent.clone();
        path.nodes.push(record.clone());
        match self.store.insert_securable(&record).await {
            Ok(()) => Ok(path),
            Err(StoreError::AlreadyExists(_)) => Err(already_exists(record.kind, &path.full_name())),
            Err(other) => Err(other.into()),
        }
    }

    /// Writes changed attributes of the leaf, stamping who and when.
    pub async fn save(&self, caller: &Caller, path: &mut SecurablePath) -> Result<()> {
        let leaf = path.nodes.last_mut().expect("a securable path is never empty");
        leaf.updated_at_ms = now_ms();
        leaf.updated_by = caller.name().to_string();
        match self.store.update_securable(leaf).await {
            Ok(()) => Ok(()),
            Err(StoreError::AlreadyExists(_)) => Err(already_exists(leaf.kind, &path.full_name())),
            Err(other) => Err(other.into()),
        }
    }

    /// CREATE OR REPLACE of a view or function: `existing` (a child of `parent`) gets a new
    /// definition, comment and properties in place, keeping its id, owner and grants.
    /// Ownership or MANAGE is required.
    pub async fn redefine(
        &self,
        caller: &Caller,
        action: &str,
        parent: &SecurablePath,
        existing: SecurableRecord,
        spec: serde_json::Value,
        comment: Option<String>,
        properties: Option<serde_json::Value>,
    ) -> Result<()> {
        let mut path = parent.clone();
        path.nodes.push(existing);
        self.authz.require_manage(caller, action, &path).await?;
        let record = path.nodes.last_mut().expect("the securable was just pushed");
        record.spec = spec;
        record.comment = comment;
        if let Some(properties) = properties {
            record.properties = properties;
        }
        self.save(caller, &mut path).await
    }

    /// Deletes the leaf, its descendants and grants, then the managed storage of all of them.
    pub async fn delete(&self, path: &SecurablePath) -> Result<()> {
        let mut doomed = vec![path.leaf().id.clone()];
        let mut index = 0;
        while index < doomed.len() {
            for child in self.store.list_securables(&doomed[index], None).await? {
                doomed.push(child.id);
            }
            index += 1;
        }
        self.store.delete_securable(&path.leaf().id).await?;
        for id in doomed {
            let dir = self.storage_dir(&id);
            // The metadata is gone already; leftover files are only disk space, so log them.
            if dir.exists() {
                if let Err(error) = std::fs::remove_dir_all(&dir) {
                    tracing::warn!(%error, path = %dir.display(), "could not remove managed storage of a dropped securable");
                }
            }
        }
        Ok(())
    }
}

/// `main.default`, owned by the admins group. As on a new Databricks workspace, every user
/// may use the catalog and create tables, volumes and functions in `default`. Only on the
/// first start, so later changes stick.
async fn create_default_catalog(store: &Arc<dyn Store>, metastore_id: &str) -> Result<()> {
    let catalog = new_record(SecurableKind::Catalog, Some(metastore_id.to_string()), DEFAULT_CATALOG, ADMINS_GROUP, "system");
    let mut schema = new_record(SecurableKind::Schema, Some(catalog.id.clone()), DEFAULT_SCHEMA, ADMINS_GROUP, "system");
    schema.comment = Some("Default schema (auto-created)".to_string());
    store.insert_securable(&catalog).await?;
    store.insert_securable(&schema).await?;
    let everyone = crate::authz::uc::ACCOUNT_USERS;
    let grant = |securable: &SecurableRecord, privilege: Privilege| kiln_store::GrantRecord {
        securable_id: securable.id.clone(),
        principal: everyone.to_string(),
        privilege: privilege.as_str().to_string(),
    };
    let grants = [
        grant(&catalog, Privilege::UseCatalog),
        grant(&schema, Privilege::UseSchema),
        grant(&schema, Privilege::CreateTable),
        grant(&schema, Privilege::CreateVolume),
        grant(&schema, Privilege::CreateFunction),
    ];
    store.change_grants(&grants, &[]).await?;
    Ok(())
}

/// A new securable owned by `owner`, stamped now; the caller sets spec and comment.
pub fn new_record(kind: SecurableKind, parent_id: Option<String>, name: &str, owner: &str, created_by: &str) -> SecurableRecord {
    let now = now_ms();
    SecurableRecord {
        id: uuid::Uuid::new_v4().to_string(),
        kind,
        parent_id,
        name: name.to_string(),
        owner: owner.to_string(),
        comment: None,
        properties: serde_json::json!({}),
        spec: serde_json::json!({}),
        created_at_ms: now,
        created_by: created_by.to_string(),
        updated_at_ms: now,
        updated_by: created_by.to_string(),
    }
}

impl UnityCatalog {
    /// The `file://` URL of a securable's managed storage directory.
    pub fn location_of(&self, securable_id: &str) -> String {
        format!("file://{}", self.storage_dir(securable_id).display())
    }

    /// Owners and grantees are named by user name, application id or group name.
    pub async fn require_known_principal(&self, field: &str, name: &str) -> Result<()> {
        if name.eq_ignore_ascii_case(crate::authz::uc::ACCOUNT_USERS) || self.store.find_principal_by_name(name).await?.is_some() {
            return Ok(());
        }
        Err(Error::new(ErrorCode::Specific(404, "PRINCIPAL_DOES_NOT_EXIST"), format!("{field}: Could not find principal with name {name}.")))
    }
}

impl UnityCatalog {
    pub async fn metastore_summary(&self) -> Result<kiln_api::uc::MetastoreSummary> {
        let metastore = self.metastore_path().await?;
        let record = metastore.leaf();
        Ok(kiln_api::uc::MetastoreSummary {
            metastore_id: record.id.clone(),
            global_metastore_id: format!("kiln:local:{}", record.id),
            name: record.name.clone(),
            owner: record.owner.clone(),
            cloud: "kiln".to_string(),
            region: "local".to_string(),
            storage_root: format!("file://{}", self.storage_root.display()),
            privilege_model_version: "1.0".to_string(),
            created_at: record.created_at_ms,
            created_by: record.created_by.clone(),
            updated_at: record.updated_at_ms,
            updated_by: record.updated_by.clone(),
        })
    }
}

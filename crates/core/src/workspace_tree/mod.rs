//! Workspace 2.0 (`/api/2.0/workspace`): a tree of directories, notebooks and files. The
//! tree's metadata lives in the store; each notebook's SOURCE text and each file's bytes
//! live in `<root>/objects/<object_id>`, written to a temporary file and renamed into place.
//!
//! Permissions are the Permissions API's `directories`, `notebooks` and `files` objects,
//! each registered with its folder as parent so folder ACLs are inherited. As on Databricks:
//! creating, importing and deleting in a folder needs CAN_MANAGE on it, editing needs
//! CAN_EDIT, reading needs CAN_READ; a creator manages what they create; every user manages
//! `/Shared` and their own `/Users/<name>`; `/` and `/Users` can be listed by anyone, showing
//! only what the caller may read; only admins create at the top.

pub mod notebook;

use std::path::PathBuf;
use std::sync::Arc;

use kiln_store::{AclEntry, ObjectRecord, PrincipalKind, Store, StoreError, WorkspaceObjectKind, WorkspaceObjectRecord};

use crate::authz::{Authz, ObjectRef, ObjectType};
use crate::clock::now_ms;
use crate::error::{Error, ErrorCode, Result};
use crate::principal::{Caller, USERS_GROUP};
pub use notebook::Language;

/// Databricks' limit on an import's content.
pub const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;
const ROOT: &str = "/";
const USERS: &str = "/Users";
const SHARED: &str = "/Shared";
/// The root's object id, as on Databricks.
const ROOT_ID: i64 = 0;

/// Import and export formats of the Workspace API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Source,
    Jupyter,
    Auto,
    Raw,
}

impl Format {
    /// `None` for no format (SOURCE); formats Kiln cannot read or write are a 400.
    pub fn parse(field: &str, text: Option<&str>) -> Result<Format> {
        match text.map(|t| t.to_ascii_uppercase()).as_deref() {
            None | Some("SOURCE") => Ok(Format::Source),
            Some("JUPYTER") => Ok(Format::Jupyter),
            Some("AUTO") => Ok(Format::Auto),
            Some("RAW") => Ok(Format::Raw),
            Some(other @ ("HTML" | "DBC" | "R_MARKDOWN")) => Err(Error::invalid(format!("{field} {other} is not supported by Kiln; use SOURCE, JUPYTER, AUTO or RAW"))),
            Some(other) => Err(Error::invalid(format!("{field} '{other}' is not one of SOURCE, HTML, JUPYTER, DBC, R_MARKDOWN, RAW, AUTO"))),
        }
    }
}

/// What an import brings.
#[derive(Debug, Clone)]
pub struct Import {
    pub path: String,
    pub content: Vec<u8>,
    pub format: Format,
    pub language: Option<String>,
    pub overwrite: bool,
}

/// An export's bytes and the `file_type` the JSON form names.
#[derive(Debug, Clone)]
pub struct Exported {
    pub bytes: Vec<u8>,
    pub file_type: String,
}

/// A notebook's language and SOURCE text, for code that runs notebooks.
#[derive(Debug, Clone)]
pub struct NotebookSource {
    pub path: String,
    pub language: Language,
    pub source: String,
}

#[derive(Debug, Clone)]
pub struct WorkspaceTree {
    store: Arc<dyn Store>,
    authz: Authz,
    objects_dir: Arc<PathBuf>,
}

/// `/a/b` from `/a/b/`, `/Workspace/a/b` or `//a//b`; `.` and `..` segments are refused so
/// nothing is addressed by two names.
pub fn normalize(field: &str, path: &str) -> Result<String> {
    if !path.starts_with('/') {
        return Err(Error::invalid(format!("{field} '{path}' must be an absolute path starting with /")));
    }
    crate::paths::check_addressable(field, path)?;
    let mut segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.iter().any(|s| *s == "." || *s == "..") {
        return Err(Error::invalid(format!("{field} '{path}' must not contain '.' or '..' segments")));
    }
    if segments.first() == Some(&"Workspace") {
        segments.remove(0);
    }
    Ok(format!("/{}", segments.join("/")))
}

fn parent_of(path: &str) -> Option<String> {
    if path == ROOT {
        return None;
    }
    let (parent, _) = path.rsplit_once('/')?;
    Some(if parent.is_empty() { ROOT.to_string() } else { parent.to_string() })
}

fn name_of(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn missing(path: &str) -> Error {
    Error::not_found(format!("Path ({path}) doesn't exist."))
}

fn object_type(kind: WorkspaceObjectKind) -> &'static ObjectType {
    let segment = match kind {
        WorkspaceObjectKind::Directory => "directories",
        WorkspaceObjectKind::Notebook => "notebooks",
        WorkspaceObjectKind::File => "files",
    };
    ObjectType::find(segment).expect("workspace object types are registered")
}

fn object_ref(object: &WorkspaceObjectRecord) -> ObjectRef {
    ObjectRef::new(object_type(object.kind), object.object_id.to_string())
}

/// Folders every user may list (their listing shows only what the caller may read).
fn is_navigable(path: &str) -> bool {
    path == ROOT || path == USERS
}

fn io_error(path: &str, error: std::io::Error) -> Error {
    Error::internal(format!("cannot store {path}: {error}"))
}

impl WorkspaceTree {
    pub fn new(store: Arc<dyn Store>, authz: Authz, root: PathBuf) -> WorkspaceTree {
        WorkspaceTree { store, authz, objects_dir: Arc::new(root.join("objects")) }
    }

    /// Creates `/`, `/Users` and `/Shared` (every user manages `/Shared`) when missing.
    pub async fn bootstrap(&self) -> Result<()> {
        std::fs::create_dir_all(self.objects_dir.as_path()).map_err(|e| io_error("the workspace directory", e))?;
        if self.store.get_workspace_object(ROOT).await?.is_none() {
            self.insert(ROOT, None, ROOT_ID, WorkspaceObjectKind::Directory, None, 0, &[]).await?;
        }
        let root = self.store.get_workspace_object(ROOT).await?.ok_or_else(|| Error::internal("the workspace root is missing"))?;
        if self.store.get_workspace_object(USERS).await?.is_none() {
            self.insert(USERS, Some(&root), crate::ids::numeric_id(), WorkspaceObjectKind::Directory, None, 0, &[]).await?;
        }
        if self.store.get_workspace_object(SHARED).await?.is_none() {
            let users = self.store.find_principal(PrincipalKind::Group, USERS_GROUP).await?.ok_or_else(|| Error::internal("the users group is missing"))?;
            let acl = [AclEntry { principal_id: users.id, level: "CAN_MANAGE".to_string() }];
            self.insert(SHARED, Some(&root), crate::ids::numeric_id(), WorkspaceObjectKind::Directory, None, 0, &acl).await?;
        }
        Ok(())
    }

    /// Registers the permissions object, then the tree entry, so an entry never exists
    /// without the object its ACL hangs on.
    #[allow(clippy::too_many_arguments)]
    async fn insert(
        &self,
        path: &str,
        parent: Option<&WorkspaceObjectRecord>,
        object_id: i64,
        kind: WorkspaceObjectKind,
        language: Option<Language>,
        size: i64,
        acl: &[AclEntry],
    ) -> Result<WorkspaceObjectRecord> {
        let now = now_ms();
        let record = WorkspaceObjectRecord {
            object_id,
            path: path.to_string(),
            parent_path: parent.map(|p| p.path.clone()),
            kind,
            language: language.map(|l| l.as_str().to_string()),
            size,
            created_at_ms: now,
            modified_at_ms: now,
        };
        let reference = object_ref(&record);
        let parent_ref = parent.map(|p| {
            let parent = object_ref(p);
            (parent.object_type.segment.to_string(), parent.object_id)
        });
        self.store.upsert_object(&ObjectRecord { object_type: reference.object_type.segment.to_string(), object_id: reference.object_id.clone(), parent: parent_ref }).await?;
        if !acl.is_empty() {
            self.store.merge_acl(reference.object_type.segment, &reference.object_id, acl).await?;
        }
        if let Err(error) = self.store.insert_workspace_object(&record).await {
            self.store.delete_object(reference.object_type.segment, &reference.object_id).await?;
            return Err(match error {
                StoreError::AlreadyExists(_) => Error::already_exists(format!("Path ({path}) already exists.")),
                other => other.into(),
            });
        }
        Ok(record)
    }

    /// The object at `path`; a missing `/Users/<name>` of an existing user or service
    /// principal is created first (they manage it).
    async fn lookup(&self, path: &str) -> Result<Option<WorkspaceObjectRecord>> {
        if let Some(found) = self.store.get_workspace_object(path).await? {
            return Ok(Some(found));
        }
        let Some(rest) = path.strip_prefix("/Users/") else { return Ok(None) };
        let home_name = rest.split('/').next().unwrap_or(rest);
        if self.ensure_home(home_name).await? { self.store.get_workspace_object(path).await.map_err(Into::into) } else { Ok(None) }
    }

    /// Creates `/Users/<name>` for the user or service principal so named; false if none is.
    async fn ensure_home(&self, name: &str) -> Result<bool> {
        let home = format!("{USERS}/{name}");
        if self.store.get_workspace_object(&home).await?.is_some() {
            return Ok(true);
        }
        let owner = match self.store.find_principal(PrincipalKind::User, name).await? {
            Some(user) => user,
            None => match self.store.find_principal(PrincipalKind::ServicePrincipal, name).await? {
                Some(service_principal) => service_principal,
                None => return Ok(false),
            },
        };
        let users = self.store.get_workspace_object(USERS).await?.ok_or_else(|| Error::internal("/Users is missing"))?;
        let acl = [AclEntry { principal_id: owner.id, level: "CAN_MANAGE".to_string() }];
        // The principal's own spelling, so `/Users/Ann@x` and `/Users/ann@x` are one home.
        match self.insert(&format!("{USERS}/{}", owner.name), Some(&users), crate::ids::numeric_id(), WorkspaceObjectKind::Directory, None, 0, &acl).await {
            Ok(_) => Ok(true),
            Err(error) if error.code == ErrorCode::ResourceAlreadyExists => Ok(true),
            Err(error) => Err(error),
        }
    }

    async fn existing(&self, path: &str) -> Result<WorkspaceObjectRecord> {
        self.lookup(path).await?.ok_or_else(|| missing(path))
    }

    async fn require(&self, caller: &Caller, action: &str, object: &WorkspaceObjectRecord, level: &str) -> Result<()> {
        if level == "CAN_READ" && is_navigable(&object.path) {
            return Ok(());
        }
        self.authz.require_named_permission(caller, action, &object_ref(object), level, &object.path).await
    }

    async fn may_read(&self, caller: &Caller, object: &WorkspaceObjectRecord) -> Result<bool> {
        Ok(is_navigable(&object.path) || self.authz.level_of(caller, &object_ref(object)).await?.is_some())
    }

    pub async fn get_status(&self, caller: &Caller, path: &str) -> Result<WorkspaceObjectRecord> {
        let path = normalize("path", path)?;
        let object = self.existing(&path).await?;
        self.require(caller, "workspace.getStatus", &object, "CAN_READ").await?;
        Ok(object)
    }

    /// The children the caller may read; notebooks modified at or before
    /// `notebooks_modified_after` are left out.
    pub async fn list(&self, caller: &Caller, path: &str, notebooks_modified_after: Option<i64>) -> Result<Vec<WorkspaceObjectRecord>> {
        let path = normalize("path", path)?;
        let directory = self.existing(&path).await?;
        self.require(caller, "workspace.list", &directory, "CAN_READ").await?;
        if directory.kind != WorkspaceObjectKind::Directory {
            return Ok(vec![directory]);
        }
        if path == USERS {
            self.ensure_all_homes().await?;
        }
        let mut visible = Vec::new();
        for child in self.store.list_workspace_children(&path).await? {
            let too_old = child.kind == WorkspaceObjectKind::Notebook && notebooks_modified_after.is_some_and(|after| child.modified_at_ms <= after);
            if !too_old && self.may_read(caller, &child).await? {
                visible.push(child);
            }
        }
        Ok(visible)
    }

    async fn ensure_all_homes(&self) -> Result<()> {
        for kind in [PrincipalKind::User, PrincipalKind::ServicePrincipal] {
            for principal in self.store.list_principals(kind).await? {
                self.ensure_home(&principal.name).await?;
            }
        }
        Ok(())
    }

    /// Creates the directory and its missing parents; an existing directory is fine.
    pub async fn mkdirs(&self, caller: &Caller, path: &str) -> Result<()> {
        let path = normalize("path", path)?;
        self.make_directories(caller, &path).await.map(|_| ())
    }

    async fn make_directories(&self, caller: &Caller, path: &str) -> Result<WorkspaceObjectRecord> {
        // Walk up to the nearest existing ancestor, then create downwards.
        let mut missing_paths = Vec::new();
        let mut current = path.to_string();
        let mut ancestor = loop {
            match self.lookup(&current).await? {
                Some(found) => break found,
                None => {
                    missing_paths.push(current.clone());
                    current = parent_of(&current).ok_or_else(|| Error::internal("the workspace root is missing"))?;
                }
            }
        };
        if ancestor.kind != WorkspaceObjectKind::Directory {
            return Err(Error::already_exists(format!("{} already exists as a {}; it cannot hold {path}", ancestor.path, ancestor.kind.as_str())));
        }
        if missing_paths.is_empty() {
            return Ok(ancestor);
        }
        self.require(caller, "workspace.mkdirs", &ancestor, "CAN_MANAGE").await?;
        let creator = [AclEntry { principal_id: caller.id(), level: "CAN_MANAGE".to_string() }];
        for directory in missing_paths.iter().rev() {
            ancestor = match self.insert(directory, Some(&ancestor), crate::ids::numeric_id(), WorkspaceObjectKind::Directory, None, 0, &creator).await {
                Ok(created) => created,
                // Another request made it meanwhile.
                Err(error) if error.code == ErrorCode::ResourceAlreadyExists => self.existing(directory).await?,
                Err(error) => return Err(error),
            };
        }
        Ok(ancestor)
    }

    pub async fn import(&self, caller: &Caller, import: Import) -> Result<WorkspaceObjectRecord> {
        // validations
        let requested = normalize("path", &import.path)?;
        if import.content.len() > MAX_IMPORT_BYTES {
            return Err(Error::new(ErrorCode::RequestTooLarge, format!("content is {} bytes; an import may carry at most {MAX_IMPORT_BYTES}", import.content.len())));
        }
        let language = import.language.as_deref().map(|text| Language::parse(text).ok_or_else(|| Error::invalid(format!("language '{text}' is not one of PYTHON, SQL, SCALA, R")))).transpose()?;
        let (path, content) = classify(&requested, import.format, language, import.content)?;
        if path == ROOT {
            return Err(Error::invalid("path must name an object below /"));
        }
        let parent_path = parent_of(&path).ok_or_else(|| Error::invalid("path must name an object below /"))?;
        let parent = self.lookup(&parent_path).await?.ok_or_else(|| Error::not_found(format!("The parent folder ({parent_path}) does not exist.")))?;
        if parent.kind != WorkspaceObjectKind::Directory {
            return Err(Error::invalid(format!("The parent ({parent_path}) is a {}, not a folder.", parent.kind.as_str())));
        }
        let (kind, language, bytes) = match content {
            Content::Notebook(language, source) => (WorkspaceObjectKind::Notebook, Some(language), source.into_bytes()),
            Content::File(bytes) => (WorkspaceObjectKind::File, None, bytes),
        };
        let size = bytes.len() as i64;
        match self.store.get_workspace_object(&path).await? {
            Some(existing) => {
                // authz
                if !import.overwrite {
                    self.require(caller, "workspace.import", &existing, "CAN_READ").await?;
                    return Err(Error::already_exists(format!("Path ({path}) already exists.")));
                }
                self.require(caller, "workspace.import", &existing, "CAN_EDIT").await?;
                if existing.kind != kind {
                    return Err(Error::already_exists(format!("Path ({path}) already exists as a {}; it cannot be overwritten by a {}.", existing.kind.as_str(), kind.as_str())));
                }
                // business logic
                self.write_bytes(existing.object_id, &path, &bytes).await?;
                let updated = WorkspaceObjectRecord { language: language.map(|l| l.as_str().to_string()), size, modified_at_ms: now_ms(), ..existing };
                self.store.update_workspace_object(&updated).await?;
                Ok(updated)
            }
            None => {
                self.require(caller, "workspace.import", &parent, "CAN_MANAGE").await?;
                let object_id = crate::ids::numeric_id();
                self.write_bytes(object_id, &path, &bytes).await?;
                let creator = [AclEntry { principal_id: caller.id(), level: "CAN_MANAGE".to_string() }];
                let inserted = self.insert(&path, Some(&parent), object_id, kind, language, size, &creator).await;
                if inserted.is_err() {
                    let _ = tokio::fs::remove_file(self.objects_dir.join(object_id.to_string())).await;
                }
                inserted
            }
        }
    }

    async fn write_bytes(&self, object_id: i64, path: &str, bytes: &[u8]) -> Result<()> {
        let target = self.objects_dir.join(object_id.to_string());
        let temporary = self.objects_dir.join(format!(".{object_id}.{}.tmp", crate::ids::random_hex(4)));
        tokio::fs::write(&temporary, bytes).await.map_err(|e| io_error(path, e))?;
        if let Err(error) = tokio::fs::rename(&temporary, &target).await {
            let _ = tokio::fs::remove_file(&temporary).await;
            return Err(io_error(path, error));
        }
        Ok(())
    }

    async fn read_bytes(&self, object: &WorkspaceObjectRecord) -> Result<Vec<u8>> {
        tokio::fs::read(self.objects_dir.join(object.object_id.to_string())).await.map_err(|e| Error::internal(format!("cannot read {}: {e}", object.path)))
    }

    pub async fn export(&self, caller: &Caller, path: &str, format: Format) -> Result<Exported> {
        let path = normalize("path", path)?;
        let object = self.existing(&path).await?;
        self.require(caller, "workspace.export", &object, "CAN_READ").await?;
        match object.kind {
            WorkspaceObjectKind::Directory => Err(Error::invalid(format!("{path} is a folder; Kiln exports notebooks and files one at a time"))),
            WorkspaceObjectKind::File => match format {
                Format::Source | Format::Auto | Format::Raw => {
                    let file_type = name_of(&path).rsplit_once('.').map(|(_, extension)| extension.to_string()).unwrap_or_default();
                    Ok(Exported { bytes: self.read_bytes(&object).await?, file_type })
                }
                Format::Jupyter => Err(Error::invalid(format!("{path} is a file, not a notebook; export it with format SOURCE, RAW or AUTO"))),
            },
            WorkspaceObjectKind::Notebook => {
                let notebook = self.notebook_of(object).await?;
                match format {
                    Format::Source | Format::Auto => Ok(Exported { bytes: notebook.source.into_bytes(), file_type: notebook.language.extension().to_string() }),
                    Format::Jupyter => Ok(Exported { bytes: notebook::to_ipynb(notebook.language, name_of(&path), &notebook.source).into_bytes(), file_type: "ipynb".to_string() }),
                    Format::Raw => Err(Error::invalid(format!("{path} is a notebook; export it with format SOURCE, JUPYTER or AUTO"))),
                }
            }
        }
    }

    async fn notebook_of(&self, object: WorkspaceObjectRecord) -> Result<NotebookSource> {
        let language = object.language.as_deref().and_then(Language::parse).unwrap_or(Language::Python);
        let source = String::from_utf8_lossy(&self.read_bytes(&object).await?).into_owned();
        Ok(NotebookSource { path: object.path, language, source })
    }

    /// A notebook the caller may run (CAN_RUN), for jobs and clusters.
    pub async fn read_notebook(&self, caller: &Caller, path: &str) -> Result<NotebookSource> {
        let path = normalize("notebook_path", path)?;
        let object = self.existing(&path).await?;
        self.require(caller, "workspace.runNotebook", &object, "CAN_RUN").await?;
        if object.kind != WorkspaceObjectKind::Notebook {
            return Err(Error::invalid(format!("{path} is a {}, not a notebook", object.kind.as_str())));
        }
        self.notebook_of(object).await
    }

    /// A workspace file's bytes, for a caller who may read it (a job's Python or SQL file).
    pub async fn read_file(&self, caller: &Caller, path: &str) -> Result<Vec<u8>> {
        let path = normalize("path", path)?;
        let object = self.existing(&path).await?;
        self.require(caller, "workspace.readFile", &object, "CAN_READ").await?;
        match object.kind {
            WorkspaceObjectKind::File => self.read_bytes(&object).await,
            WorkspaceObjectKind::Notebook => Ok(self.notebook_of(object).await?.source.into_bytes()),
            WorkspaceObjectKind::Directory => Err(Error::invalid(format!("{path} is a folder, not a file"))),
        }
    }

    pub async fn delete(&self, caller: &Caller, path: &str, recursive: bool) -> Result<()> {
        let path = normalize("path", path)?;
        let object = self.existing(&path).await?;
        if path == ROOT || path == USERS || path == SHARED {
            return Err(Error::denied(format!("{path} is a system folder and cannot be deleted")));
        }
        self.require(caller, "workspace.delete", &object, "CAN_MANAGE").await?;
        if object.kind == WorkspaceObjectKind::Directory && !recursive && !self.store.list_workspace_children(&path).await?.is_empty() {
            return Err(Error::new(ErrorCode::Specific(400, "DIRECTORY_NOT_EMPTY"), format!("Folder ({path}) is not empty")));
        }
        for deleted in self.store.delete_workspace_subtree(&path).await? {
            let reference = object_ref(&deleted);
            self.store.delete_object(reference.object_type.segment, &reference.object_id).await?;
            if deleted.kind != WorkspaceObjectKind::Directory {
                let _ = tokio::fs::remove_file(self.objects_dir.join(deleted.object_id.to_string())).await;
            }
        }
        Ok(())
    }
}

/// What an import stores: a notebook in SOURCE form, or a file's bytes.
#[derive(Debug)]
enum Content {
    Notebook(Language, String),
    File(Vec<u8>),
}

/// Decides where an import lands and as what. SOURCE keeps the path; AUTO and JUPYTER drop
/// the extension of what they turn into a notebook.
fn classify(path: &str, format: Format, language: Option<Language>, content: Vec<u8>) -> Result<(String, Content)> {
    let text = || String::from_utf8(content.clone()).map_err(|_| Error::invalid("content of a notebook must be UTF-8 text"));
    let without_extension = |extension: &str| match path.rsplit_once('.') {
        Some((stem, found)) if found.eq_ignore_ascii_case(extension) && !stem.ends_with('/') => stem.to_string(),
        _ => path.to_string(),
    };
    match format {
        Format::Raw => Ok((path.to_string(), Content::File(content))),
        Format::Source => {
            let text = text()?;
            let language = language.or_else(|| notebook::header_language(&text)).ok_or_else(|| Error::invalid("language is required when format is SOURCE (PYTHON, SQL, SCALA or R)"))?;
            Ok((path.to_string(), Content::Notebook(language, notebook::to_source(language, &text))))
        }
        Format::Jupyter => {
            let (language, source) = notebook::from_ipynb(&content)?;
            Ok((without_extension("ipynb"), Content::Notebook(language, source)))
        }
        Format::Auto => {
            if path.to_ascii_lowercase().ends_with(".ipynb")
                && let Ok((language, source)) = notebook::from_ipynb(&content)
            {
                return Ok((without_extension("ipynb"), Content::Notebook(language, source)));
            }
            let headed = std::str::from_utf8(&content).ok().and_then(notebook::header_language);
            match headed {
                Some(marked) => {
                    let extension_language = Language::from_extension(path);
                    let language = language.or(extension_language).unwrap_or(marked);
                    let path = match extension_language {
                        Some(found) => without_extension(found.extension()),
                        None => path.to_string(),
                    };
                    Ok((path, Content::Notebook(language, notebook::to_source(language, &text()?))))
                }
                None => Ok((path.to_string(), Content::File(content))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_and_refuse_dot_segments() {
        assert_eq!(normalize("path", "/Users/a//b/").unwrap(), "/Users/a/b");
        assert_eq!(normalize("path", "/Workspace/Shared/x").unwrap(), "/Shared/x");
        assert_eq!(normalize("path", "/").unwrap(), "/");
        assert!(normalize("path", "relative").unwrap_err().message.contains("absolute"));
        assert!(normalize("path", "/Shared/../Users").unwrap_err().message.contains("'..'"));
    }

    #[test]
    fn auto_import_tells_notebooks_from_files() {
        let (path, content) = classify("/a/nb.py", Format::Auto, None, b"# Databricks notebook source\nprint(1)".to_vec()).unwrap();
        assert_eq!(path, "/a/nb");
        assert!(matches!(content, Content::Notebook(Language::Python, _)));
        let (path, content) = classify("/a/util.py", Format::Auto, None, b"print(1)".to_vec()).unwrap();
        assert_eq!(path, "/a/util.py");
        assert!(matches!(content, Content::File(bytes) if bytes == b"print(1)"));
        let (path, _) = classify("/a/q.sql", Format::Source, Some(Language::Sql), b"SELECT 1".to_vec()).unwrap();
        assert_eq!(path, "/a/q.sql", "SOURCE keeps the path");
        assert!(classify("/a/q", Format::Source, None, b"SELECT 1".to_vec()).unwrap_err().message.contains("language is required"));
    }
}

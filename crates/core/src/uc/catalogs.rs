//! Catalogs and schemas: `/api/2.1/unity-catalog/catalogs` and `/schemas`.

use kiln_api::uc::{CatalogInfo, CreateCatalog, CreateSchema, SchemaInfo, UpdateSecurable};
use kiln_store::SecurableKind;
use serde_json::json;

use super::{INFORMATION_SCHEMA, UnityCatalog, names, new_record};
use crate::authz::{Privilege, SecurablePath};
use crate::error::{Error, ErrorCode, Result};
use crate::principal::Caller;
use crate::shapes;

impl UnityCatalog {
    pub async fn create_catalog(&self, caller: &Caller, request: CreateCatalog) -> Result<CatalogInfo> {
        // validations
        let given = json!({"name": request.name, "comment": request.comment, "properties": request.properties, "storage_root": request.storage_root});
        shapes::check(&given, &shapes::uc::SECURABLE)?;
        let name = names::normalize("name", &request.name)?;
        reject_storage_root(request.storage_root.as_deref())?;
        let mut record = new_record(SecurableKind::Catalog, None, &name, caller.name(), caller.name());
        record.comment = request.comment;
        record.properties = serde_json::to_value(&request.properties).unwrap_or_default();
        // authz + business logic
        let metastore = self.metastore_path().await?;
        let path = self.create_child(caller, "uc.catalogs.create", &metastore, Privilege::CreateCatalog, record).await?;
        Ok(self.catalog_info(&path))
    }

    pub async fn get_catalog(&self, caller: &Caller, name: &str) -> Result<CatalogInfo> {
        let path = self.resolve(caller, SecurableKind::Catalog, "name", name).await?;
        Ok(self.catalog_info(&path))
    }

    pub async fn list_catalogs(&self, caller: &Caller) -> Result<Vec<CatalogInfo>> {
        let metastore = self.metastore_path().await?;
        let catalogs = self.visible_children(caller, &metastore, SecurableKind::Catalog).await?;
        Ok(catalogs.iter().map(|path| self.catalog_info(path)).collect())
    }

    pub async fn update_catalog(&self, caller: &Caller, name: &str, update: UpdateSecurable) -> Result<CatalogInfo> {
        let mut path = self.resolve(caller, SecurableKind::Catalog, "name", name).await?;
        self.apply_update(caller, "uc.catalogs.update", &mut path, update).await?;
        Ok(self.catalog_info(&path))
    }

    /// Deletes a catalog; one that still holds schemas other than `information_schema`
    /// needs `force`.
    pub async fn delete_catalog(&self, caller: &Caller, name: &str, force: bool) -> Result<()> {
        let path = self.resolve(caller, SecurableKind::Catalog, "name", name).await?;
        self.authz().require_manage(caller, "uc.catalogs.delete", &path).await?;
        if !force && !self.store().list_securables(&path.leaf().id, None).await?.is_empty() {
            return Err(Error::new(
                ErrorCode::Specific(400, "CATALOG_NOT_EMPTY"),
                format!("Catalog '{}' is not empty: drop its schemas first, or pass force=true.", path.full_name()),
            ));
        }
        self.delete(&path).await
    }

    pub async fn create_schema(&self, caller: &Caller, request: CreateSchema) -> Result<SchemaInfo> {
        // validations
        let given = json!({"name": request.name, "catalog_name": request.catalog_name, "comment": request.comment, "properties": request.properties, "storage_root": request.storage_root});
        shapes::check(&given, &shapes::uc::SECURABLE)?;
        let name = names::normalize("name", &request.name)?;
        if name == INFORMATION_SCHEMA {
            return Err(Error::invalid("name information_schema is reserved: every catalog has one, built from what the caller may see"));
        }
        reject_storage_root(request.storage_root.as_deref())?;
        let catalog = self.resolve(caller, SecurableKind::Catalog, "catalog_name", &request.catalog_name).await?;
        let mut record = new_record(SecurableKind::Schema, None, &name, caller.name(), caller.name());
        record.comment = request.comment;
        record.properties = serde_json::to_value(&request.properties).unwrap_or_default();
        // authz + business logic
        let path = self.create_child(caller, "uc.schemas.create", &catalog, Privilege::CreateSchema, record).await?;
        Ok(self.schema_info(&path))
    }

    pub async fn get_schema(&self, caller: &Caller, full_name: &str) -> Result<SchemaInfo> {
        let path = self.resolve_readable(caller, SecurableKind::Schema, "full_name", full_name).await?;
        Ok(self.schema_info(&path))
    }

    pub async fn list_schemas(&self, caller: &Caller, catalog_name: &str) -> Result<Vec<SchemaInfo>> {
        let catalog = self.resolve(caller, SecurableKind::Catalog, "catalog_name", catalog_name).await?;
        let schemas = self.visible_children(caller, &catalog, SecurableKind::Schema).await?;
        Ok(schemas.iter().map(|path| self.schema_info(path)).collect())
    }

    pub async fn update_schema(&self, caller: &Caller, full_name: &str, update: UpdateSecurable) -> Result<SchemaInfo> {
        let mut path = self.resolve(caller, SecurableKind::Schema, "full_name", full_name).await?;
        self.apply_update(caller, "uc.schemas.update", &mut path, update).await?;
        Ok(self.schema_info(&path))
    }

    pub async fn delete_schema(&self, caller: &Caller, full_name: &str, force: bool) -> Result<()> {
        let path = self.resolve(caller, SecurableKind::Schema, "full_name", full_name).await?;
        self.authz().require_manage(caller, "uc.schemas.delete", &path).await?;
        if !force && !self.store().list_securables(&path.leaf().id, None).await?.is_empty() {
            return Err(Error::new(
                ErrorCode::Specific(400, "SCHEMA_NOT_EMPTY"),
                format!("Schema '{}' is not empty: drop its tables, volumes and functions first, or pass force=true.", path.full_name()),
            ));
        }
        self.delete(&path).await
    }

    /// Rename, owner, comment and properties changes. Changing anything needs MANAGE or
    /// ownership; a new owner must be a known principal name.
    pub async fn apply_update(&self, caller: &Caller, action: &str, path: &mut SecurablePath, update: UpdateSecurable) -> Result<()> {
        // validations
        let given = json!({"new_name": update.new_name, "owner": update.owner, "comment": update.comment, "properties": update.properties});
        shapes::check(&given, &shapes::uc::UPDATE)?;
        let new_name = update.new_name.as_deref().map(|name| names::normalize("new_name", name)).transpose()?;
        if let Some(owner) = update.owner.as_deref() {
            self.require_known_principal("owner", owner).await?;
        }
        // authz
        self.authz().require_manage(caller, action, path).await?;
        // business logic
        let leaf = path.nodes.last_mut().expect("a securable path is never empty");
        if let Some(name) = new_name {
            leaf.name = name;
        }
        if let Some(owner) = update.owner {
            leaf.owner = owner;
        }
        if let Some(comment) = update.comment {
            leaf.comment = Some(comment).filter(|c| !c.is_empty());
        }
        if let Some(properties) = update.properties {
            leaf.properties = serde_json::to_value(properties).unwrap_or_default();
        }
        self.save(caller, path).await
    }

    fn catalog_info(&self, path: &SecurablePath) -> CatalogInfo {
        let record = path.leaf();
        let location = self.location_of(&record.id);
        CatalogInfo {
            name: record.name.clone(),
            full_name: record.name.clone(),
            catalog_type: "MANAGED_CATALOG".to_string(),
            owner: record.owner.clone(),
            comment: record.comment.clone(),
            properties: properties_of(record),
            storage_root: location.clone(),
            storage_location: location,
            isolation_mode: "OPEN".to_string(),
            securable_type: "CATALOG".to_string(),
            metastore_id: self.metastore_id().to_string(),
            created_at: record.created_at_ms,
            created_by: record.created_by.clone(),
            updated_at: record.updated_at_ms,
            updated_by: record.updated_by.clone(),
        }
    }

    fn schema_info(&self, path: &SecurablePath) -> SchemaInfo {
        let record = path.leaf();
        let location = self.location_of(&record.id);
        SchemaInfo {
            name: record.name.clone(),
            catalog_name: path.nodes[1].name.clone(),
            full_name: path.full_name(),
            catalog_type: "MANAGED_CATALOG".to_string(),
            owner: record.owner.clone(),
            comment: record.comment.clone(),
            properties: properties_of(record),
            storage_root: location.clone(),
            storage_location: location,
            schema_id: record.id.clone(),
            metastore_id: self.metastore_id().to_string(),
            created_at: record.created_at_ms,
            created_by: record.created_by.clone(),
            updated_at: record.updated_at_ms,
            updated_by: record.updated_by.clone(),
        }
    }
}

/// Properties as stored (a JSON object of strings).
pub(crate) fn properties_of(record: &kiln_store::SecurableRecord) -> kiln_api::uc::Properties {
    serde_json::from_value(record.properties.clone()).unwrap_or_default()
}

/// Kiln keeps every catalog and schema in its managed storage; a custom root would point
/// outside it.
fn reject_storage_root(storage_root: Option<&str>) -> Result<()> {
    match storage_root {
        Some(root) if !root.is_empty() => Err(Error::invalid(format!(
            "storage_root '{root}' is not supported: Kiln keeps catalogs and schemas in its managed storage"
        ))),
        _ => Ok(()),
    }
}

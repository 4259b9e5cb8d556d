//! Volumes: `/api/2.1/unity-catalog/volumes`. A managed volume is a real directory under
//! managed storage; the Files API and SQL read and write inside it.

use kiln_api::uc::{CreateVolume, UpdateSecurable, VolumeInfo};
use kiln_store::SecurableKind;
use serde_json::json;

use super::{UnityCatalog, names, new_record};
use crate::authz::{Privilege, SecurablePath};
use crate::error::{Error, Result};
use crate::principal::Caller;
use crate::shapes;

impl UnityCatalog {
    pub async fn create_volume(&self, caller: &Caller, request: CreateVolume) -> Result<VolumeInfo> {
        // validations
        let given = json!({
            "name": request.name,
            "catalog_name": request.catalog_name,
            "schema_name": request.schema_name,
            "volume_type": request.volume_type,
            "comment": request.comment,
            "storage_location": request.storage_location,
        });
        shapes::check(&given, &shapes::uc::SECURABLE)?;
        let name = names::normalize("name", &request.name)?;
        if !request.volume_type.eq_ignore_ascii_case("MANAGED") {
            return Err(Error::invalid(format!(
                "volume_type {} is not supported: Kiln creates MANAGED volumes (external locations are not available)",
                request.volume_type
            )));
        }
        if request.storage_location.as_deref().is_some_and(|location| !location.is_empty()) {
            return Err(Error::invalid("storage_location must not be set for a MANAGED volume"));
        }
        let schema = self.resolve(caller, SecurableKind::Schema, "schema_name", &format!("{}.{}", request.catalog_name, request.schema_name)).await?;
        let mut record = new_record(SecurableKind::Volume, None, &name, caller.name(), caller.name());
        record.comment = request.comment;
        record.spec = serde_json::json!({"volume_type": "MANAGED"});
        // authz + business logic
        let path = self.create_child(caller, "uc.volumes.create", &schema, Privilege::CreateVolume, record).await?;
        let dir = self.storage_dir(&path.leaf().id);
        if let Err(error) = std::fs::create_dir_all(&dir) {
            self.store().delete_securable(&path.leaf().id).await?;
            return Err(Error::internal(format!("cannot create the volume directory {}: {error}", dir.display())));
        }
        Ok(self.volume_info(&path))
    }

    pub async fn get_volume(&self, caller: &Caller, full_name: &str) -> Result<VolumeInfo> {
        let path = self.resolve_readable(caller, SecurableKind::Volume, "name", full_name).await?;
        Ok(self.volume_info(&path))
    }

    pub async fn list_volumes(&self, caller: &Caller, catalog_name: &str, schema_name: &str) -> Result<Vec<VolumeInfo>> {
        let schema = self.resolve(caller, SecurableKind::Schema, "schema_name", &format!("{catalog_name}.{schema_name}")).await?;
        let volumes = self.visible_children(caller, &schema, SecurableKind::Volume).await?;
        Ok(volumes.iter().map(|path| self.volume_info(path)).collect())
    }

    pub async fn update_volume(&self, caller: &Caller, full_name: &str, update: UpdateSecurable) -> Result<VolumeInfo> {
        let mut path = self.resolve(caller, SecurableKind::Volume, "name", full_name).await?;
        self.apply_update(caller, "uc.volumes.update", &mut path, update).await?;
        Ok(self.volume_info(&path))
    }

    /// Drops a volume and every file in it.
    pub async fn delete_volume(&self, caller: &Caller, full_name: &str) -> Result<()> {
        let path = self.resolve(caller, SecurableKind::Volume, "name", full_name).await?;
        self.authz().require_manage(caller, "uc.volumes.delete", &path).await?;
        self.delete(&path).await
    }

    pub fn volume_info(&self, path: &SecurablePath) -> VolumeInfo {
        let record = path.leaf();
        VolumeInfo {
            name: record.name.clone(),
            catalog_name: path.nodes[1].name.clone(),
            schema_name: path.nodes[2].name.clone(),
            full_name: path.full_name(),
            volume_type: "MANAGED".to_string(),
            storage_location: self.location_of(&record.id),
            volume_id: record.id.clone(),
            owner: record.owner.clone(),
            comment: record.comment.clone(),
            metastore_id: self.metastore_id().to_string(),
            created_at: record.created_at_ms,
            created_by: record.created_by.clone(),
            updated_at: record.updated_at_ms,
            updated_by: record.updated_by.clone(),
        }
    }
}

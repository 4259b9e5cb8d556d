//! SQL functions: `/api/2.1/unity-catalog/functions`. A function's definition is kept as
//! Databricks takes it; the SQL engine runs SQL functions by inlining their bodies, with
//! EXECUTE checked on each call site.

use kiln_api::uc::{CreateFunction, FunctionInfo, UpdateSecurable};
use kiln_store::SecurableKind;

use super::{UnityCatalog, names, new_record};
use crate::authz::{Privilege, SecurablePath};
use crate::error::{Error, Result};
use crate::principal::Caller;
use crate::shapes;

impl UnityCatalog {
    /// Registers a function in its schema after checking CREATE FUNCTION there. Only SQL
    /// functions can run here, so only they may be created.
    pub async fn create_function(&self, caller: &Caller, mut definition: CreateFunction) -> Result<FunctionInfo> {
        // validations
        let given = serde_json::to_value(&definition).map_err(|e| Error::internal(format!("function spec: {e}")))?;
        shapes::check_at(&given, &shapes::uc::FUNCTION, "function_info")?;
        definition.name = names::normalize("function_info.name", &definition.name)?;
        if !definition.routine_body.eq_ignore_ascii_case("SQL") {
            let language = definition.external_language.as_deref().unwrap_or("an external language");
            return Err(Error::invalid(format!(
                "function_info.routine_body {}: Kiln runs SQL functions only, not functions in {language}; use routine_body SQL",
                definition.routine_body
            )));
        }
        definition.routine_body = "SQL".to_string();
        if definition.routine_definition.trim().is_empty() {
            return Err(Error::invalid("function_info.routine_definition must be the SQL expression the function returns"));
        }
        if definition.data_type.eq_ignore_ascii_case("TABLE_TYPE") {
            return Err(Error::invalid("function_info.data_type TABLE_TYPE: table functions are not supported; a function returns one value"));
        }
        let mut seen = std::collections::HashSet::new();
        for (index, parameter) in definition.input_params.parameters.iter_mut().enumerate() {
            parameter.name = parameter.name.to_lowercase();
            if !seen.insert(parameter.name.clone()) {
                return Err(Error::invalid(format!("function_info.input_params.parameters[{index}].name '{}' is used twice", parameter.name)));
            }
            parameter.position = index as i32;
        }
        if definition.specific_name.is_empty() {
            definition.specific_name = definition.name.clone();
        }
        let schema = self.resolve(caller, SecurableKind::Schema, "function_info.schema_name", &format!("{}.{}", definition.catalog_name, definition.schema_name)).await?;
        let mut record = new_record(SecurableKind::Function, None, &definition.name, caller.name(), caller.name());
        record.comment = definition.comment.clone();
        record.spec = serde_json::to_value(&definition).map_err(|e| Error::internal(format!("function spec: {e}")))?;
        // authz + business logic
        let path = self.create_child(caller, "uc.functions.create", &schema, Privilege::CreateFunction, record).await?;
        Ok(self.function_info(&path))
    }

    pub async fn get_function(&self, caller: &Caller, full_name: &str) -> Result<FunctionInfo> {
        let path = self.resolve_readable(caller, SecurableKind::Function, "name", full_name).await?;
        Ok(self.function_info(&path))
    }

    pub async fn list_functions(&self, caller: &Caller, catalog_name: &str, schema_name: &str) -> Result<Vec<FunctionInfo>> {
        let schema = self.resolve(caller, SecurableKind::Schema, "schema_name", &format!("{catalog_name}.{schema_name}")).await?;
        let functions = self.visible_children(caller, &schema, SecurableKind::Function).await?;
        Ok(functions.iter().map(|path| self.function_info(path)).collect())
    }

    /// The functions of a schema the caller may run (EXECUTE, with USE CATALOG and USE
    /// SCHEMA), as MCP's functions server offers them as tools.
    pub async fn executable_functions(&self, caller: &Caller, catalog_name: &str, schema_name: &str) -> Result<Vec<FunctionInfo>> {
        let schema = self.resolve(caller, SecurableKind::Schema, "schema_name", &format!("{catalog_name}.{schema_name}")).await?;
        let functions = self.store.list_securables(&schema.leaf().id, Some(SecurableKind::Function)).await?;
        let paths = functions.into_iter().map(|function| schema.child(function)).collect();
        let executable = self.authz().holding_privilege(caller, paths, Privilege::Execute).await?;
        Ok(executable.iter().map(|path| self.function_info(path)).collect())
    }

    /// A function the caller may run, or the denial naming EXECUTE (or the container
    /// privilege it lacks) on it; one it may not see does not exist.
    pub async fn executable_function(&self, caller: &Caller, full_name: &str) -> Result<FunctionInfo> {
        let path = self.resolve(caller, SecurableKind::Function, "name", full_name).await?;
        self.authz().require_privilege(caller, "uc.functions.execute", &path, Privilege::Execute).await?;
        Ok(self.function_info(&path))
    }

    /// Databricks changes only the owner of a function this way.
    pub async fn update_function(&self, caller: &Caller, full_name: &str, owner: Option<String>) -> Result<FunctionInfo> {
        let mut path = self.resolve(caller, SecurableKind::Function, "name", full_name).await?;
        let update = UpdateSecurable { owner, ..Default::default() };
        self.apply_update(caller, "uc.functions.update", &mut path, update).await?;
        Ok(self.function_info(&path))
    }

    pub async fn delete_function(&self, caller: &Caller, full_name: &str) -> Result<()> {
        let path = self.resolve(caller, SecurableKind::Function, "name", full_name).await?;
        self.authz().require_manage(caller, "uc.functions.delete", &path).await?;
        self.delete(&path).await
    }

    /// The stored definition of a function record.
    pub fn function_definition(path: &SecurablePath) -> Result<CreateFunction> {
        serde::Deserialize::deserialize(&path.leaf().spec).map_err(|e| Error::internal(format!("function {} has an unreadable definition: {e}", path.full_name())))
    }

    pub fn function_info(&self, path: &SecurablePath) -> FunctionInfo {
        let record = path.leaf();
        let mut definition = Self::function_definition(path).unwrap_or_default();
        // Names follow the record: a rename or a move shows here.
        definition.name = record.name.clone();
        definition.catalog_name = path.nodes[1].name.clone();
        definition.schema_name = path.nodes[2].name.clone();
        definition.comment = record.comment.clone();
        FunctionInfo {
            definition,
            full_name: path.full_name(),
            function_id: record.id.clone(),
            owner: record.owner.clone(),
            metastore_id: self.metastore_id().to_string(),
            created_at: record.created_at_ms,
            created_by: record.created_by.clone(),
            updated_at: record.updated_at_ms,
            updated_by: record.updated_by.clone(),
        }
    }
}

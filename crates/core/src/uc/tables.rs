//! Tables and views: `/api/2.1/unity-catalog/tables`. Managed tables are Delta tables
//! that the SQL engine writes under managed storage; their metadata lives here.

use kiln_api::uc::{ColumnInfo, TableConstraint, TableInfo, TableSummary};
use kiln_store::{SecurableKind, SecurableRecord};
use serde::{Deserialize, Serialize};

use super::{UnityCatalog, catalogs::properties_of, names, new_record};
use crate::authz::{Privilege, SecurablePath};
use crate::error::{Error, Result};
use crate::principal::Caller;
use crate::shapes;

pub const MANAGED: &str = "MANAGED";
pub const VIEW: &str = "VIEW";

/// What a table record's spec holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TableSpec {
    pub table_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_source_format: Option<String>,
    #[serde(default)]
    pub columns: Vec<ColumnInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub view_definition: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub table_constraints: Vec<TableConstraint>,
}

impl TableSpec {
    pub fn of(record: &SecurableRecord) -> TableSpec {
        serde_json::from_value(record.spec.clone()).unwrap_or_default()
    }

    pub fn is_view(&self) -> bool {
        self.table_type == VIEW
    }
}

/// A new table or view to register.
#[derive(Debug, Clone)]
pub struct NewTable {
    pub name: String,
    pub spec: TableSpec,
    pub comment: Option<String>,
    pub properties: kiln_api::uc::Properties,
}

impl UnityCatalog {
    /// Registers a table or view in `schema` after checking CREATE TABLE there. The SQL
    /// engine calls this before writing a managed table's first Delta commit, and
    /// [`UnityCatalog::delete`] if that write fails.
    pub async fn create_table(&self, caller: &Caller, schema: &SecurablePath, table: NewTable) -> Result<SecurablePath> {
        // validations
        shapes::check(&serde_json::json!({"name": table.name, "comment": table.comment, "properties": table.properties}), &shapes::uc::SECURABLE)?;
        let name = names::normalize("name", &table.name)?;
        let mut record = new_record(SecurableKind::Table, None, &name, caller.name(), caller.name());
        record.comment = table.comment;
        record.properties = serde_json::to_value(&table.properties).unwrap_or_default();
        record.spec = serde_json::to_value(&table.spec).map_err(|e| Error::internal(format!("table spec: {e}")))?;
        // authz + business logic
        self.create_child(caller, "uc.tables.create", schema, Privilege::CreateTable, record).await
    }

    /// `POST /tables`. Databricks creates only EXTERNAL tables this way, and Kiln has no
    /// external locations; managed tables come from `CREATE TABLE` in SQL.
    pub async fn create_table_from_rest(&self, caller: &Caller, request: kiln_api::uc::CreateTable) -> Result<TableInfo> {
        let schema = self.resolve(caller, SecurableKind::Schema, "schema_name", &format!("{}.{}", request.catalog_name, request.schema_name)).await?;
        self.authz().require_privilege(caller, "uc.tables.create", &schema, Privilege::CreateTable).await?;
        Err(Error::invalid(format!(
            "table_type {}: Kiln does not create tables over this API (it has no external locations); run CREATE TABLE {}.{}.{} (...) through the Statement Execution API to create a managed Delta table",
            request.table_type, request.catalog_name, request.schema_name, request.name
        )))
    }

    pub async fn get_table(&self, caller: &Caller, full_name: &str) -> Result<TableInfo> {
        let path = self.resolve_readable(caller, SecurableKind::Table, "full_name", full_name).await?;
        Ok(self.table_info(&path, true))
    }

    pub async fn table_exists(&self, caller: &Caller, full_name: &str) -> Result<bool> {
        let parts = names::split_full_name("full_name", SecurableKind::Table, full_name)?;
        // A missing catalog or schema is still an error, as on Databricks.
        let schema = self.resolve(caller, SecurableKind::Schema, "full_name", &parts[..2].join(".")).await?;
        match self.store().find_securable(Some(&schema.leaf().id), SecurableKind::Table, &parts[2]).await? {
            None => Ok(false),
            Some(table) => {
                let mut path = schema;
                path.nodes.push(table);
                self.authz().may_address(caller, &path).await
            }
        }
    }

    pub async fn list_tables(&self, caller: &Caller, catalog_name: &str, schema_name: &str) -> Result<Vec<TableInfo>> {
        let schema = self.resolve(caller, SecurableKind::Schema, "schema_name", &format!("{catalog_name}.{schema_name}")).await?;
        let tables = self.visible_children(caller, &schema, SecurableKind::Table).await?;
        Ok(tables.iter().map(|path| self.table_info(path, true)).collect())
    }

    /// `/table-summaries`: every visible table of a catalog whose schema and table names
    /// match the SQL LIKE patterns.
    pub async fn table_summaries(&self, caller: &Caller, catalog_name: &str, schema_pattern: Option<&str>, table_pattern: Option<&str>) -> Result<Vec<TableSummary>> {
        let catalog = self.resolve(caller, SecurableKind::Catalog, "catalog_name", catalog_name).await?;
        let mut summaries = Vec::new();
        for schema in self.visible_children(caller, &catalog, SecurableKind::Schema).await? {
            if !schema_pattern.is_none_or(|pattern| like(pattern, &schema.leaf().name)) {
                continue;
            }
            for table in self.visible_children(caller, &schema, SecurableKind::Table).await? {
                if table_pattern.is_none_or(|pattern| like(pattern, &table.leaf().name)) {
                    summaries.push(TableSummary { full_name: table.full_name(), table_type: TableSpec::of(table.leaf()).table_type });
                }
            }
        }
        Ok(summaries)
    }

    /// `PATCH /tables/{full_name}`: only the owner can change over REST.
    pub async fn set_table_owner(&self, caller: &Caller, full_name: &str, owner: Option<String>) -> Result<()> {
        let mut path = self.resolve(caller, SecurableKind::Table, "full_name", full_name).await?;
        let update = kiln_api::uc::UpdateSecurable { owner, ..Default::default() };
        self.apply_update(caller, "uc.tables.update", &mut path, update).await
    }

    /// Drops a table or view: MANAGE or ownership. A managed table's files go with it.
    pub async fn delete_table(&self, caller: &Caller, full_name: &str) -> Result<()> {
        let path = self.resolve(caller, SecurableKind::Table, "full_name", full_name).await?;
        self.authz().require_manage(caller, "uc.tables.delete", &path).await?;
        self.delete(&path).await
    }

    /// Replaces the stored columns (after a schema change the SQL engine made).
    pub async fn set_table_spec(&self, caller: &Caller, path: &mut SecurablePath, spec: &TableSpec) -> Result<()> {
        let leaf = path.nodes.last_mut().expect("a securable path is never empty");
        leaf.spec = serde_json::to_value(spec).map_err(|e| Error::internal(format!("table spec: {e}")))?;
        self.save(caller, path).await
    }

    pub fn table_info(&self, path: &SecurablePath, with_columns: bool) -> TableInfo {
        let record = path.leaf();
        let spec = TableSpec::of(record);
        let storage_location = (spec.table_type == MANAGED).then(|| self.location_of(&record.id));
        TableInfo {
            name: record.name.clone(),
            catalog_name: path.nodes[1].name.clone(),
            schema_name: path.nodes[2].name.clone(),
            full_name: path.full_name(),
            table_type: spec.table_type.clone(),
            data_source_format: spec.data_source_format.clone(),
            columns: if with_columns { spec.columns.clone() } else { Vec::new() },
            storage_location,
            view_definition: spec.view_definition.clone(),
            table_constraints: (!spec.table_constraints.is_empty()).then(|| spec.table_constraints.clone()),
            owner: record.owner.clone(),
            comment: record.comment.clone(),
            properties: properties_of(record),
            table_id: record.id.clone(),
            metastore_id: self.metastore_id().to_string(),
            created_at: record.created_at_ms,
            created_by: record.created_by.clone(),
            updated_at: record.updated_at_ms,
            updated_by: record.updated_by.clone(),
        }
    }
}

/// SQL LIKE with `%` and `_`, case-insensitive, as the summaries patterns are.
pub fn like(pattern: &str, text: &str) -> bool {
    fn matches(pattern: &[char], text: &[char]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some(('%', rest)) => (0..=text.len()).any(|skip| matches(rest, &text[skip..])),
            Some(('_', rest)) => !text.is_empty() && matches(rest, &text[1..]),
            Some((c, rest)) => text.first().is_some_and(|t| t.eq_ignore_ascii_case(c)) && matches(rest, &text[1..]),
        }
    }
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    matches(&pattern, &text)
}

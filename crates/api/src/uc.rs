//! Unity Catalog REST 2.1 (`/api/2.1/unity-catalog`): catalogs, schemas, tables, volumes,
//! functions, grants and the metastore. Timestamps are epoch milliseconds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub type Properties = BTreeMap<String, String>;

/// `max_results` and `page_token` of every UC list.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    pub max_results: Option<i64>,
    pub page_token: Option<String>,
    pub catalog_name: Option<String>,
    pub schema_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ForceQuery {
    pub force: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CreateCatalog {
    pub name: String,
    pub comment: Option<String>,
    #[serde(default)]
    pub properties: Properties,
    pub storage_root: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct UpdateSecurable {
    pub new_name: Option<String>,
    pub owner: Option<String>,
    pub comment: Option<String>,
    pub properties: Option<Properties>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CatalogInfo {
    pub name: String,
    pub full_name: String,
    pub catalog_type: String,
    pub owner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub properties: Properties,
    pub storage_root: String,
    pub storage_location: String,
    pub isolation_mode: String,
    pub securable_type: String,
    pub metastore_id: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListCatalogsResponse {
    pub catalogs: Vec<CatalogInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CreateSchema {
    pub name: String,
    pub catalog_name: String,
    pub comment: Option<String>,
    #[serde(default)]
    pub properties: Properties,
    pub storage_root: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SchemaInfo {
    pub name: String,
    pub catalog_name: String,
    pub full_name: String,
    pub catalog_type: String,
    pub owner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub properties: Properties,
    pub storage_root: String,
    pub storage_location: String,
    pub schema_id: String,
    pub metastore_id: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListSchemasResponse {
    pub schemas: Vec<SchemaInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// One column as Unity Catalog describes it; `position` is 0-based.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    pub type_name: String,
    pub type_text: String,
    pub type_json: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_precision: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_scale: Option<i32>,
    pub position: i32,
    pub nullable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_index: Option<i32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PrimaryKeyConstraint {
    pub name: String,
    pub child_columns: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ForeignKeyConstraint {
    pub name: String,
    pub child_columns: Vec<String>,
    pub parent_table: String,
    pub parent_columns: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableConstraint {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_key_constraint: Option<PrimaryKeyConstraint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub foreign_key_constraint: Option<ForeignKeyConstraint>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CreateTable {
    pub name: String,
    pub catalog_name: String,
    pub schema_name: String,
    pub table_type: String,
    pub data_source_format: String,
    pub storage_location: Option<String>,
    #[serde(default)]
    pub columns: Vec<ColumnInfo>,
    #[serde(default)]
    pub properties: Properties,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableInfo {
    pub name: String,
    pub catalog_name: String,
    pub schema_name: String,
    pub full_name: String,
    pub table_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_source_format: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<ColumnInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_location: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view_definition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_constraints: Option<Vec<TableConstraint>>,
    pub owner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub properties: Properties,
    pub table_id: String,
    pub metastore_id: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListTablesResponse {
    pub tables: Vec<TableInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListSummariesQuery {
    pub catalog_name: Option<String>,
    pub schema_name_pattern: Option<String>,
    pub table_name_pattern: Option<String>,
    pub max_results: Option<i64>,
    pub page_token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableSummary {
    pub full_name: String,
    pub table_type: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListTableSummariesResponse {
    pub tables: Vec<TableSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableExistsResponse {
    pub table_exists: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CreateVolume {
    pub name: String,
    pub catalog_name: String,
    pub schema_name: String,
    pub volume_type: String,
    pub comment: Option<String>,
    pub storage_location: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VolumeInfo {
    pub name: String,
    pub catalog_name: String,
    pub schema_name: String,
    pub full_name: String,
    pub volume_type: String,
    pub storage_location: String,
    pub volume_id: String,
    pub owner: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub metastore_id: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListVolumesResponse {
    pub volumes: Vec<VolumeInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct GrantsQuery {
    pub principal: Option<String>,
    pub max_results: Option<i64>,
    pub page_token: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PrivilegeAssignment {
    pub principal: String,
    pub privileges: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetPermissionsResponse {
    pub privilege_assignments: Vec<PrivilegeAssignment>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PermissionsChange {
    pub principal: String,
    #[serde(default)]
    pub add: Vec<String>,
    #[serde(default)]
    pub remove: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UpdatePermissions {
    #[serde(default)]
    pub changes: Vec<PermissionsChange>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EffectivePrivilege {
    pub privilege: String,
    /// Upper-case securable type of the ancestor the privilege comes from; absent when direct.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inherited_from_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inherited_from_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EffectivePrivilegeAssignment {
    pub principal: String,
    pub privileges: Vec<EffectivePrivilege>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EffectivePermissionsList {
    pub privilege_assignments: Vec<EffectivePrivilegeAssignment>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetastoreAssignment {
    pub workspace_id: i64,
    pub metastore_id: String,
    pub default_catalog_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetastoreSummary {
    pub metastore_id: String,
    pub global_metastore_id: String,
    pub name: String,
    pub owner: String,
    pub cloud: String,
    pub region: String,
    pub storage_root: String,
    pub privilege_model_version: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

/// A parameter of a SQL function, or a column it returns.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FunctionParameterInfo {
    pub name: String,
    pub type_text: String,
    pub type_name: String,
    pub position: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_json: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_precision: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_scale: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// SQL text of the default, used when a call leaves the argument out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_default: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_type: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FunctionParameterInfos {
    #[serde(default)]
    pub parameters: Vec<FunctionParameterInfo>,
}

/// The `function_info` of `POST /functions`: what a function is, as Databricks takes it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CreateFunction {
    pub name: String,
    pub catalog_name: String,
    pub schema_name: String,
    #[serde(default)]
    pub input_params: FunctionParameterInfos,
    pub data_type: String,
    pub full_data_type: String,
    pub routine_body: String,
    pub routine_definition: String,
    #[serde(default = "default_parameter_style")]
    pub parameter_style: String,
    #[serde(default)]
    pub is_deterministic: bool,
    #[serde(default = "default_sql_data_access")]
    pub sql_data_access: String,
    #[serde(default)]
    pub is_null_call: bool,
    #[serde(default = "default_security_type")]
    pub security_type: String,
    #[serde(default)]
    pub specific_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_params: Option<FunctionParameterInfos>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_path: Option<String>,
}

fn default_parameter_style() -> String {
    "S".to_string()
}

fn default_sql_data_access() -> String {
    "CONTAINS_SQL".to_string()
}

fn default_security_type() -> String {
    "DEFINER".to_string()
}

#[derive(Debug, Clone, Deserialize)]
pub struct CreateFunctionRequest {
    pub function_info: CreateFunction,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FunctionInfo {
    #[serde(flatten)]
    pub definition: CreateFunction,
    pub full_name: String,
    pub function_id: String,
    pub owner: String,
    pub metastore_id: String,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListFunctionsResponse {
    pub functions: Vec<FunctionInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

//! DDL and grants: the Unity Catalog services, plus Delta for managed tables.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use datafusion::sql::sqlparser::ast::{ObjectType, Statement};
use deltalake::DeltaTableBuilder;
use deltalake::kernel::StructType;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::operations::write::WriteBuilder;
use deltalake::protocol::SaveMode;
use kiln_api::uc::{ColumnInfo, CreateCatalog, CreateSchema, CreateVolume, ForeignKeyConstraint, PermissionsChange, PrimaryKeyConstraint, TableConstraint};
use kiln_core::authz::{Privilege, SecurablePath};
use kiln_core::uc::tables::{MANAGED, NewTable, TableSpec};
use kiln_store::SecurableKind;

use super::{Run, StatementOutput};
use crate::catalog::table_url;
use crate::error::SqlError;
use crate::parse::{ColumnSpec, ConstraintSpec, CreateTable, name_parts};
use crate::types;

/// Runs a Unity Catalog call, treating "already exists" as success when `if_not_exists`.
fn tolerate_exists<T>(result: Result<T, kiln_core::Error>, if_not_exists: bool) -> Result<(), SqlError> {
    match result {
        Ok(_) => Ok(()),
        Err(error) if if_not_exists && error.code.status() == 409 => Ok(()),
        Err(error) => Err(SqlError::from_core(error)),
    }
}

/// Treats "does not exist" as success when `if_exists`.
fn tolerate_missing(result: Result<(), kiln_core::Error>, if_exists: bool) -> Result<(), SqlError> {
    match result {
        Err(error) if if_exists && error.code.status() == 404 => Ok(()),
        other => other.map_err(SqlError::from_core),
    }
}

pub(super) async fn create_catalog(run: &Run<'_>, name: String, if_not_exists: bool, comment: Option<String>) -> Result<StatementOutput, SqlError> {
    let request = CreateCatalog { name, comment, properties: Default::default(), storage_root: None };
    tolerate_exists(run.uc().create_catalog(run.caller, request).await, if_not_exists)?;
    Ok(StatementOutput::empty("CREATE"))
}

pub(super) async fn drop_catalog(run: &Run<'_>, name: &str, if_exists: bool, cascade: bool) -> Result<StatementOutput, SqlError> {
    tolerate_missing(run.uc().delete_catalog(run.caller, name, cascade).await, if_exists)?;
    Ok(StatementOutput::empty("DROP"))
}

pub(super) async fn create_schema(run: &Run<'_>, name: &[String], if_not_exists: bool, comment: Option<String>) -> Result<StatementOutput, SqlError> {
    let parts = run.qualify(name, 2)?;
    let request = CreateSchema { name: parts[1].clone(), catalog_name: parts[0].clone(), comment, properties: Default::default(), storage_root: None };
    tolerate_exists(run.uc().create_schema(run.caller, request).await, if_not_exists)?;
    Ok(StatementOutput::empty("CREATE"))
}

pub(super) async fn create_volume(run: &Run<'_>, name: &[String], if_not_exists: bool, comment: Option<String>) -> Result<StatementOutput, SqlError> {
    let parts = run.qualify(name, 3)?;
    let request = CreateVolume {
        name: parts[2].clone(),
        catalog_name: parts[0].clone(),
        schema_name: parts[1].clone(),
        volume_type: "MANAGED".to_string(),
        comment,
        storage_location: None,
    };
    tolerate_exists(run.uc().create_volume(run.caller, request).await, if_not_exists)?;
    Ok(StatementOutput::empty("CREATE"))
}

pub(super) async fn drop_volume(run: &Run<'_>, name: &[String], if_exists: bool) -> Result<StatementOutput, SqlError> {
    let full_name = run.qualify(name, 3)?.join(".");
    tolerate_missing(run.uc().delete_volume(run.caller, &full_name).await, if_exists)?;
    Ok(StatementOutput::empty("DROP"))
}

/// `DROP TABLE | VIEW | SCHEMA [IF EXISTS] name [CASCADE]`.
pub(super) async fn drop(run: &Run<'_>, statement: &Statement) -> Result<StatementOutput, SqlError> {
    let Statement::Drop { object_type, if_exists, names, cascade, .. } = statement else { return Err(SqlError::internal("not a DROP")) };
    for name in names {
        let parts = name_parts(name);
        let result = match object_type {
            ObjectType::Table | ObjectType::View => {
                let full_name = run.qualify(&parts, 3)?.join(".");
                run.uc().delete_table(run.caller, &full_name).await
            }
            ObjectType::Schema | ObjectType::Database => {
                let full_name = run.qualify(&parts, 2)?.join(".");
                run.uc().delete_schema(run.caller, &full_name, *cascade).await
            }
            other => return Err(SqlError::unsupported(format!("DROP {other}"))),
        };
        tolerate_missing(result, *if_exists)?;
    }
    Ok(StatementOutput::empty("DROP"))
}

/// `CREATE [OR REPLACE] TABLE [IF NOT EXISTS] ... [AS query]`: registers the table in Unity
/// Catalog (CREATE TABLE on the schema), then writes its first Delta commit; if that fails
/// the registration is undone.
pub(super) async fn create_table(run: &Run<'_>, table: CreateTable) -> Result<StatementOutput, SqlError> {
    let parts = run.qualify(&table.name, 3)?;
    let full_name = parts.join(".");
    let schema_path = run.uc().resolve(run.caller, SecurableKind::Schema, "name", &parts[..2].join(".")).await.map_err(SqlError::from_core)?;
    if let Some(existing) = run.uc().store().find_securable(Some(&schema_path.leaf().id), SecurableKind::Table, &parts[2]).await.map_err(|e| SqlError::from_core(e.into()))? {
        if table.if_not_exists {
            return Ok(StatementOutput::empty("CREATE"));
        }
        if !table.or_replace {
            return Err(SqlError::from_core(kiln_core::uc::already_exists(SecurableKind::Table, &full_name)));
        }
        let mut existing_path = schema_path.clone();
        existing_path.nodes.push(existing);
        run.uc().authz().require_manage(run.caller, "sql.create_or_replace", &existing_path).await.map_err(SqlError::from_core)?;
        run.uc().delete(&existing_path).await.map_err(SqlError::from_core)?;
    }

    // The columns: declared, or those of the query (which is planned, and so authorized, first).
    let (arrow_schema, query_plan) = match &table.query {
        Some(query) => {
            let mut state = run.session(HashSet::new())?;
            let plan = run.plan(&mut state, Statement::Query(query.clone())).await?;
            (Arc::new(plan.schema().as_arrow().clone()), Some((state, plan)))
        }
        None => (declared_schema(&table.columns)?, None),
    };
    if arrow_schema.fields().is_empty() {
        return Err(SqlError::bad_request(format!("CREATE TABLE {full_name} needs at least one column")));
    }
    for column in &table.partition_by {
        if arrow_schema.field_with_name(column).is_err() {
            return Err(SqlError::bad_request(format!("PARTITIONED BY column '{column}' is not a column of {full_name}")));
        }
    }
    let comments: BTreeMap<&str, &str> = table.columns.iter().filter_map(|c| Some((c.name.as_str(), c.comment.as_deref()?))).collect();
    let spec = TableSpec {
        table_type: MANAGED.to_string(),
        data_source_format: Some("DELTA".to_string()),
        columns: column_infos(&arrow_schema, &comments, &table.partition_by),
        view_definition: None,
        table_constraints: constraints(&table.constraints, &full_name),
    };
    let properties = table.properties.iter().cloned().collect();
    let new_table = NewTable { name: parts[2].clone(), spec, comment: table.comment.clone(), properties };
    let path = run.uc().create_table(run.caller, &schema_path, new_table).await.map_err(SqlError::from_core)?;
    if let Err(error) = write_new_table(run, &path, &arrow_schema, &table, query_plan).await {
        if let Err(cleanup) = run.uc().delete(&path).await {
            tracing::warn!(%cleanup, table = %full_name, "could not undo the registration of a table whose creation failed");
        }
        return Err(error);
    }
    Ok(StatementOutput::empty("CREATE"))
}

pub(super) fn declared_schema(columns: &[ColumnSpec]) -> Result<SchemaRef, SqlError> {
    let mut seen = HashSet::new();
    let mut fields = Vec::with_capacity(columns.len());
    for column in columns {
        if !seen.insert(column.name.clone()) {
            return Err(SqlError::bad_request(format!("column '{}' is declared twice", column.name)));
        }
        let data_type = types::parse_type(&column.type_text).map_err(|e| SqlError::bad_request(format!("column '{}': {e}", column.name)))?;
        fields.push(Field::new(&column.name, data_type, column.nullable));
    }
    Ok(Arc::new(Schema::new(fields)))
}

/// Unity Catalog's description of each column.
pub fn column_infos(schema: &Schema, comments: &BTreeMap<&str, &str>, partition_by: &[String]) -> Vec<ColumnInfo> {
    schema
        .fields()
        .iter()
        .enumerate()
        .map(|(position, field)| {
            let comment = comments.get(field.name().as_str()).map(|c| c.to_string());
            let decimal = types::decimal_parts(field.data_type());
            ColumnInfo {
                name: field.name().clone(),
                type_name: types::uc_type_name(field.data_type()).to_string(),
                type_text: types::type_text(field.data_type()),
                type_json: types::spark_field_json(field.name(), field.data_type(), field.is_nullable(), comment.as_deref()).to_string(),
                type_precision: decimal.map(|(p, _)| p),
                type_scale: decimal.map(|(_, s)| s),
                position: position as i32,
                nullable: field.is_nullable(),
                comment,
                partition_index: partition_by.iter().position(|c| c == field.name()).map(|i| i as i32),
            }
        })
        .collect()
}

fn constraints(specs: &[ConstraintSpec], full_name: &str) -> Vec<TableConstraint> {
    let table = full_name.rsplit('.').next().unwrap_or(full_name);
    specs
        .iter()
        .map(|spec| match spec {
            ConstraintSpec::PrimaryKey { name, columns } => TableConstraint {
                primary_key_constraint: Some(PrimaryKeyConstraint { name: name.clone().unwrap_or_else(|| format!("{table}_pk")), child_columns: columns.clone() }),
                foreign_key_constraint: None,
            },
            ConstraintSpec::ForeignKey { name, columns, parent, parent_columns } => TableConstraint {
                primary_key_constraint: None,
                foreign_key_constraint: Some(ForeignKeyConstraint {
                    name: name.clone().unwrap_or_else(|| format!("{table}_{}_fk", columns.join("_"))),
                    child_columns: columns.clone(),
                    parent_table: parent.join("."),
                    parent_columns: parent_columns.clone(),
                }),
            },
        })
        .collect()
}

/// Who made a commit, as Delta history shows it.
pub(super) fn commit_properties(run: &Run<'_>) -> CommitProperties {
    CommitProperties::default().with_metadata([
        ("userName".to_string(), serde_json::json!(run.caller.name())),
        ("userId".to_string(), serde_json::json!(run.caller.id().to_string())),
    ])
}

async fn write_new_table(
    run: &Run<'_>,
    path: &SecurablePath,
    arrow_schema: &Schema,
    table: &CreateTable,
    query_plan: Option<(datafusion::execution::SessionState, datafusion::logical_expr::LogicalPlan)>,
) -> Result<(), SqlError> {
    let url = table_url(run.uc(), &path.leaf().id)?;
    let kernel_schema: StructType = arrow_schema.try_into_kernel().map_err(|e| SqlError::bad_request(format!("a column type Delta cannot store: {e}")))?;
    // A builder, not `try_from_url`: there is no log to load yet.
    let created = DeltaTableBuilder::from_url(url)
        .map_err(SqlError::delta)?
        .build()
        .map_err(SqlError::delta)?
        .create()
        .with_columns(kernel_schema.fields().cloned())
        .with_partition_columns(table.partition_by.clone())
        .with_table_name(path.leaf().name.clone())
        .with_comment(table.comment.clone().unwrap_or_default())
        .with_configuration(table.properties.iter().map(|(k, v)| (k.clone(), Some(v.clone()))))
        .with_raise_if_key_not_exists(false)
        .with_save_mode(SaveMode::ErrorIfExists)
        .with_commit_properties(commit_properties(run))
        .await
        .map_err(SqlError::delta)?;
    let Some((state, plan)) = query_plan else { return Ok(()) };
    let snapshot = created.snapshot().map_err(SqlError::delta)?.snapshot().clone();
    WriteBuilder::new(created.log_store(), Some(snapshot))
        .with_input_plan(plan)
        .with_session_state(Arc::new(state))
        .with_save_mode(SaveMode::Append)
        .with_commit_properties(commit_properties(run))
        .await
        .map_err(SqlError::delta)?;
    Ok(())
}

/// GRANT / REVOKE through the same function as the grants REST API.
pub(super) async fn grant(run: &Run<'_>, revoke: bool, privileges: &[Privilege], kind: SecurableKind, securable: &[String], principals: &[String]) -> Result<StatementOutput, SqlError> {
    let full_name = run.securable_name(kind, securable)?;
    let path = run.uc().grant_target(run.caller, kind, &full_name).await.map_err(SqlError::from_core)?;
    let names: Vec<String> = privileges.iter().map(|p| p.as_str().to_string()).collect();
    let changes: Vec<PermissionsChange> = principals
        .iter()
        .map(|principal| PermissionsChange {
            principal: principal.clone(),
            add: if revoke { Vec::new() } else { names.clone() },
            remove: if revoke { names.clone() } else { Vec::new() },
        })
        .collect();
    run.uc().update_grants(run.caller, &path, &changes).await.map_err(SqlError::from_core)?;
    Ok(StatementOutput::empty(if revoke { "REVOKE" } else { "GRANT" }))
}

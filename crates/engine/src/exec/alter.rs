//! ALTER CATALOG / SCHEMA / TABLE / VIEW / VOLUME and COMMENT ON: the same Unity Catalog
//! update the REST API makes (ownership or MANAGE required), plus Delta for a table's
//! columns and properties.

use std::collections::HashSet;

use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::kernel::{StructField, StructType};
use kiln_api::uc::{Properties, UpdateSecurable};
use kiln_core::authz::SecurablePath;
use kiln_core::uc::tables::TableSpec;
use kiln_store::SecurableKind;

use super::ddl::{column_infos, commit_properties, declared_schema};
use super::{Run, StatementOutput};
use crate::catalog::table_url;
use crate::error::SqlError;
use crate::parse::{AlterAction, ColumnSpec, CreateView};

pub(super) async fn alter(run: &Run<'_>, kind: SecurableKind, name: &[String], action: AlterAction) -> Result<StatementOutput, SqlError> {
    let depth = match kind {
        SecurableKind::Catalog => 1,
        SecurableKind::Schema => 2,
        _ => 3,
    };
    let parts = run.qualify(name, depth)?;
    let full_name = parts.join(".");
    let uc = run.uc();
    let mut path = uc.resolve(run.caller, kind, "name", &full_name).await?;
    let action_name = format!("sql.alter_{}", kind.as_str().to_lowercase());
    let update = match action {
        AlterAction::Rename(new_name) => {
            // A renamed object stays in its container.
            let stays = !new_name.is_empty() && new_name.len() <= parts.len() && new_name[..new_name.len() - 1] == parts[parts.len() - new_name.len()..parts.len() - 1];
            if !stays {
                return Err(SqlError::bad_request(format!("RENAME TO {}: an object can only be renamed within its own container", new_name.join("."))));
            }
            UpdateSecurable { new_name: new_name.last().cloned(), ..Default::default() }
        }
        AlterAction::Owner(owner) => UpdateSecurable { owner: Some(owner), ..Default::default() },
        AlterAction::Comment(comment) => UpdateSecurable { comment: Some(comment.unwrap_or_default()), ..Default::default() },
        AlterAction::SetProperties(changes) => {
            let mut properties = properties_of(&path);
            properties.extend(changes.iter().cloned());
            // `delta.*` properties configure the Delta table itself; the rest live in Unity Catalog.
            let delta: std::collections::HashMap<String, String> = changes.into_iter().filter(|(key, _)| key.starts_with("delta.")).collect();
            if kind == SecurableKind::Table && !delta.is_empty() && !TableSpec::of(path.leaf()).is_view() {
                uc.authz().require_manage(run.caller, &action_name, &path).await?;
                let table = deltalake::open_table(table_url(uc, &path.leaf().id)?).await.map_err(SqlError::delta)?;
                table.set_tbl_properties().with_properties(delta).with_commit_properties(commit_properties(run)).await.map_err(super::dml::dml_error)?;
            }
            UpdateSecurable { properties: Some(properties), ..Default::default() }
        }
        AlterAction::UnsetProperties(keys) => {
            let mut properties = properties_of(&path);
            properties.retain(|key, _| !keys.contains(key));
            UpdateSecurable { properties: Some(properties), ..Default::default() }
        }
        AlterAction::AddColumns(columns) => return add_columns(run, &mut path, &action_name, &columns).await,
        AlterAction::ColumnComment { column, comment } => {
            uc.authz().require_manage(run.caller, &action_name, &path).await?;
            let mut spec = TableSpec::of(path.leaf());
            let Some(target) = spec.columns.iter_mut().find(|c| c.name == column) else {
                return Err(SqlError::condition("UNRESOLVED_COLUMN.WITH_SUGGESTION", format!("A column `{column}` cannot be resolved in {full_name}."), "42703"));
            };
            target.comment = Some(comment).filter(|c| !c.is_empty());
            uc.set_table_spec(run.caller, &mut path, &spec).await?;
            return Ok(StatementOutput::empty("ALTER"));
        }
        AlterAction::ViewQuery(query) => {
            if !TableSpec::of(path.leaf()).is_view() {
                return Err(SqlError::condition("EXPECT_VIEW_NOT_TABLE.NO_ALTERNATIVE", format!("{full_name} is a table: ALTER VIEW ... AS changes views only."), "42809"));
            }
            let record = path.leaf();
            let view = CreateView {
                name: parts,
                or_replace: true,
                if_not_exists: false,
                columns: Vec::new(),
                query,
                comment: record.comment.clone(),
                properties: properties_of(&path).into_iter().filter(|(key, _)| !key.starts_with("view.")).collect(),
            };
            super::views::create_view(run, view).await?;
            return Ok(StatementOutput::empty("ALTER"));
        }
    };
    uc.apply_update(run.caller, &action_name, &mut path, update).await?;
    Ok(StatementOutput::empty("ALTER"))
}

fn properties_of(path: &SecurablePath) -> Properties {
    serde_json::from_value(path.leaf().properties.clone()).unwrap_or_default()
}

/// ALTER TABLE ADD COLUMNS: a Delta schema change, then the same columns in Unity Catalog.
async fn add_columns(run: &Run<'_>, path: &mut SecurablePath, action: &str, columns: &[ColumnSpec]) -> Result<StatementOutput, SqlError> {
    let uc = run.uc();
    let full_name = path.full_name();
    if TableSpec::of(path.leaf()).is_view() {
        return Err(SqlError::condition("EXPECT_TABLE_NOT_VIEW.NO_ALTERNATIVE", format!("{full_name} is a view: columns are added to tables."), "42809"));
    }
    uc.authz().require_manage(run.caller, action, path).await?;
    let mut spec = TableSpec::of(path.leaf());
    let existing: HashSet<&str> = spec.columns.iter().map(|c| c.name.as_str()).collect();
    if let Some(clash) = columns.iter().find(|c| existing.contains(c.name.as_str())) {
        return Err(SqlError::condition("FIELDS_ALREADY_EXISTS", format!("Cannot add column `{}` to {full_name}: it already exists.", clash.name), "42710"));
    }
    let added = declared_schema(columns)?;
    let kernel: StructType = added.as_ref().try_into_kernel().map_err(|e| SqlError::bad_request(format!("a column type Delta cannot store: {e}")))?;
    let fields: Vec<StructField> = kernel.fields().cloned().collect();
    let table = deltalake::open_table(table_url(uc, &path.leaf().id)?).await.map_err(SqlError::delta)?;
    table.add_columns().with_fields(fields).with_commit_properties(commit_properties(run)).await.map_err(super::dml::dml_error)?;
    let comments = columns.iter().filter_map(|c| Some((c.name.as_str(), c.comment.as_deref()?))).collect();
    let first = spec.columns.len() as i32;
    spec.columns.extend(column_infos(&added, &comments, &[]).into_iter().map(|mut column| {
        column.position += first;
        column
    }));
    uc.set_table_spec(run.caller, path, &spec).await?;
    Ok(StatementOutput::empty("ALTER"))
}

//! USE, SHOW and DESCRIBE, answered from Unity Catalog (filtered to what the caller may
//! see) and from the Delta log.

use datafusion::sql::sqlparser::ast::{ShowStatementFilter, ShowStatementFilterPosition, ShowStatementOptions, Statement, Use};
use futures::TryStreamExt;
use kiln_core::authz::Privilege;
use kiln_core::authz::uc::kind_label;
use kiln_core::uc::tables::{TableSpec, like};
use kiln_store::SecurableKind;

use super::{Run, StatementOutput};
use crate::catalog::table_url;
use crate::error::SqlError;
use crate::parse::name_parts;

/// `USE CATALOG c`, `USE SCHEMA s`, `USE c.s`: checked, then in effect for the rest of the
/// statement only (the Statement Execution API keeps no session between statements).
pub(super) async fn use_statement(run: &Run<'_>, statement: &Statement) -> Result<StatementOutput, SqlError> {
    let Statement::Use(target) = statement else { return Err(SqlError::internal("not a USE")) };
    match target {
        Use::Catalog(name) => {
            let path = run.uc().resolve(run.caller, SecurableKind::Catalog, "name", &name_parts(name).join(".")).await.map_err(SqlError::from_core)?;
            run.uc().authz().require_privilege(run.caller, "sql.use", &path, Privilege::UseCatalog).await.map_err(SqlError::from_core)?;
        }
        Use::Schema(name) | Use::Database(name) | Use::Object(name) => {
            let full_name = run.qualify(&name_parts(name), 2)?.join(".");
            let path = run.uc().resolve(run.caller, SecurableKind::Schema, "name", &full_name).await.map_err(SqlError::from_core)?;
            run.uc().authz().require_privilege(run.caller, "sql.use", &path, Privilege::UseSchema).await.map_err(SqlError::from_core)?;
        }
        other => return Err(SqlError::unsupported(format!("USE {other}"))),
    }
    Ok(StatementOutput::empty("USE"))
}

fn like_filter(options: &ShowStatementOptions) -> Option<String> {
    match &options.filter_position {
        Some(ShowStatementFilterPosition::Infix(filter) | ShowStatementFilterPosition::Suffix(filter)) => match filter {
            ShowStatementFilter::Like(pattern) | ShowStatementFilter::ILike(pattern) | ShowStatementFilter::NoKeyword(pattern) => {
                // Databricks' SHOW patterns use `*` for any characters.
                Some(pattern.replace('*', "%"))
            }
            ShowStatementFilter::Where(_) => None,
        },
        None => None,
    }
}

fn parent(options: &ShowStatementOptions) -> Option<Vec<String>> {
    options.show_in.as_ref().and_then(|show_in| show_in.parent_name.as_ref()).map(name_parts)
}

/// SHOW CATALOGS, SHOW SCHEMAS [IN c], SHOW TABLES [IN s], SHOW COLUMNS IN t.
pub(super) async fn show(run: &Run<'_>, statement: &Statement) -> Result<StatementOutput, SqlError> {
    let uc = run.uc();
    let keep = |pattern: &Option<String>, name: &str| pattern.as_deref().is_none_or(|p| like(p, name));
    match statement {
        Statement::ShowCatalogs { show_options, .. } => {
            let pattern = like_filter(show_options);
            let catalogs = uc.list_catalogs(run.caller).await.map_err(SqlError::from_core)?;
            let rows = catalogs.into_iter().filter(|c| keep(&pattern, &c.name)).map(|c| vec![Some(c.name)]).collect();
            StatementOutput::strings(&["catalog"], rows, "SHOW")
        }
        Statement::ShowSchemas { show_options, .. } | Statement::ShowDatabases { show_options, .. } => {
            let pattern = like_filter(show_options);
            let catalog = parent(show_options).map(|p| p.join(".")).unwrap_or_else(|| run.context.catalog.clone());
            let schemas = uc.list_schemas(run.caller, &catalog).await.map_err(SqlError::from_core)?;
            let rows = schemas.into_iter().filter(|s| keep(&pattern, &s.name)).map(|s| vec![Some(s.name)]).collect();
            StatementOutput::strings(&["databaseName"], rows, "SHOW")
        }
        Statement::ShowTables { show_options, .. } => {
            let pattern = like_filter(show_options);
            // No IN: the statement's schema.
            let schema = run.qualify(&parent(show_options).unwrap_or_default(), 2)?;
            let names: Vec<String> = if schema[1] == crate::information_schema::SCHEMA_NAME {
                crate::information_schema::view_names().map(str::to_string).collect()
            } else {
                uc.list_tables(run.caller, &schema[0], &schema[1]).await.map_err(SqlError::from_core)?.into_iter().map(|t| t.name).collect()
            };
            let rows = names.into_iter().filter(|name| keep(&pattern, name)).map(|name| vec![Some(schema[1].clone()), Some(name), Some("false".to_string())]).collect();
            StatementOutput::strings(&["database", "tableName", "isTemporary"], rows, "SHOW")
        }
        Statement::ShowColumns { show_options, .. } => {
            let table = parent(show_options).ok_or_else(|| SqlError::bad_request("SHOW COLUMNS needs IN <table>"))?;
            let spec = visible_table_spec(run, &table).await?;
            let rows = spec.columns.into_iter().map(|c| vec![Some(c.name)]).collect();
            StatementOutput::strings(&["col_name"], rows, "SHOW")
        }
        other => Err(SqlError::unsupported(other.to_string())),
    }
}

async fn visible_table_spec(run: &Run<'_>, name: &[String]) -> Result<TableSpec, SqlError> {
    Ok(TableSpec::of(run.resolve_table(name).await?.leaf()))
}

/// SHOW GRANTS [principal] ON securable: direct grants and those inherited from containers.
pub(super) async fn show_grants(run: &Run<'_>, principal: Option<&str>, kind: SecurableKind, securable: &[String]) -> Result<StatementOutput, SqlError> {
    let full_name = run.securable_name(kind, securable)?;
    let path = run.uc().grant_target(run.caller, kind, &full_name).await.map_err(SqlError::from_core)?;
    let assignments = run.uc().effective_grants(run.caller, &path, principal).await.map_err(SqlError::from_core)?;
    let mut rows = Vec::new();
    for assignment in assignments {
        for privilege in assignment.privileges {
            let object_type = privilege.inherited_from_type.clone().unwrap_or_else(|| kind_label(kind).to_uppercase());
            let object_key = privilege.inherited_from_name.clone().unwrap_or_else(|| full_name.clone());
            let action = kiln_core::authz::Privilege::parse(&privilege.privilege).map(|p| p.sql_name()).unwrap_or(privilege.privilege);
            rows.push(vec![Some(assignment.principal.clone()), Some(action), Some(object_type), Some(object_key)]);
        }
    }
    // Containers first (CATALOG, SCHEMA, then the object), then by principal and action.
    let depth = |object_type: &Option<String>| match object_type.as_deref() {
        Some("METASTORE") => 0,
        Some("CATALOG") => 1,
        Some("SCHEMA") => 2,
        _ => 3,
    };
    rows.sort_by(|a, b| (depth(&a[2]), &a[0], &a[1]).cmp(&(depth(&b[2]), &b[0], &b[1])));
    StatementOutput::strings(&["Principal", "ActionType", "ObjectType", "ObjectKey"], rows, "SHOW")
}

pub(super) async fn show_volumes(run: &Run<'_>, schema: Option<&[String]>) -> Result<StatementOutput, SqlError> {
    let schema = run.qualify(schema.unwrap_or(&[]), 2)?;
    let volumes = run.uc().list_volumes(run.caller, &schema[0], &schema[1]).await.map_err(SqlError::from_core)?;
    let rows = volumes.into_iter().map(|v| vec![Some(v.schema_name), Some(v.name)]).collect();
    StatementOutput::strings(&["database", "volume_name"], rows, "SHOW")
}

/// SHOW VIEWS [IN schema] [[LIKE] 'pattern']: the schema's views the caller may see.
pub(super) async fn show_views(run: &Run<'_>, schema: Option<&[String]>, pattern: Option<&str>) -> Result<StatementOutput, SqlError> {
    let schema = run.qualify(schema.unwrap_or(&[]), 2)?;
    let tables = run.uc().list_tables(run.caller, &schema[0], &schema[1]).await.map_err(SqlError::from_core)?;
    let pattern = pattern.map(|p| p.replace('*', "%"));
    let rows = tables
        .into_iter()
        .filter(|t| t.table_type == kiln_core::uc::tables::VIEW && pattern.as_deref().is_none_or(|p| like(p, &t.name)))
        .map(|t| vec![Some(t.schema_name), Some(t.name), Some("false".to_string()), Some("false".to_string())])
        .collect();
    StatementOutput::strings(&["namespace", "viewName", "isTemporary", "isMaterialized"], rows, "SHOW")
}

/// DESCRIBE [TABLE] [EXTENDED] t: `col_name`, `data_type`, `comment`.
pub(super) async fn describe(run: &Run<'_>, name: &[String], extended: bool) -> Result<StatementOutput, SqlError> {
    let path = run.resolve_table(name).await?;
    let spec = TableSpec::of(path.leaf());
    let mut rows: Vec<Vec<Option<String>>> = spec.columns.iter().map(|c| vec![Some(c.name.clone()), Some(c.type_text.clone()), c.comment.clone()]).collect();
    let partitions: Vec<_> = spec.columns.iter().filter(|c| c.partition_index.is_some()).collect();
    if !partitions.is_empty() {
        rows.push(vec![Some("# Partition Information".into()), Some(String::new()), Some(String::new())]);
        rows.push(vec![Some("# col_name".into()), Some("data_type".into()), Some("comment".into())]);
        rows.extend(partitions.iter().map(|c| vec![Some(c.name.clone()), Some(c.type_text.clone()), c.comment.clone()]));
    }
    if extended {
        let info = run.uc().table_info(&path, false);
        let created = chrono::DateTime::from_timestamp_millis(info.created_at).map(|t| t.format("%a %b %d %H:%M:%S UTC %Y").to_string()).unwrap_or_default();
        let properties: Vec<String> = info.properties.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let detail = [
            ("Catalog", info.catalog_name.clone()),
            ("Database", info.schema_name.clone()),
            ("Table", info.name.clone()),
            ("Created Time", created),
            ("Last Access", "UNKNOWN".to_string()),
            ("Created By", "Kiln".to_string()),
            ("Type", info.table_type.clone()),
            ("Comment", info.comment.clone().unwrap_or_default()),
            ("Location", info.storage_location.clone().unwrap_or_default()),
            ("Provider", "delta".to_string()),
            ("Owner", info.owner.clone()),
            ("Is_managed_location", "true".to_string()),
            ("Table Properties", format!("[{}]", properties.join(","))),
        ];
        rows.push(vec![Some(String::new()), Some(String::new()), Some(String::new())]);
        rows.push(vec![Some("# Detailed Table Information".into()), Some(String::new()), Some(String::new())]);
        rows.extend(detail.into_iter().map(|(key, value)| vec![Some(key.to_string()), Some(value), Some(String::new())]));
    }
    StatementOutput::strings(&["col_name", "data_type", "comment"], rows, "DESCRIBE")
}

/// DESCRIBE HISTORY t: one row per Delta commit, newest first. Needs SELECT.
pub(super) async fn describe_history(run: &Run<'_>, name: &[String]) -> Result<StatementOutput, SqlError> {
    let path = run.resolve_table(name).await?;
    run.uc().authz().require_privilege(run.caller, "sql.describe_history", &path, Privilege::Select).await.map_err(SqlError::from_core)?;
    let table = deltalake::open_table(table_url(run.uc(), &path.leaf().id)?).await.map_err(SqlError::delta)?;
    let latest = table.version().unwrap_or_default();
    let commits: Vec<_> = table.history(None).try_collect().await.map_err(SqlError::delta)?;
    history_output(latest, &commits)
}

/// DESCRIBE HISTORY's rows, typed as Databricks types them: newest first.
fn history_output(latest: u64, commits: &[deltalake::kernel::CommitInfo]) -> Result<StatementOutput, SqlError> {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array, MapBuilder, StringArray, StringBuilder, TimestampMillisecondArray};
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::arrow::record_batch::RecordBatch;

    let map = |values: &dyn Fn(&deltalake::kernel::CommitInfo) -> Option<Vec<(String, String)>>| -> ArrayRef {
        let mut builder = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
        for commit in commits {
            let entries = values(commit);
            for (key, value) in entries.iter().flatten() {
                builder.keys().append_value(key);
                builder.values().append_value(value);
            }
            let _ = builder.append(entries.is_some());
        }
        Arc::new(builder.finish())
    };
    let as_text = |value: &serde_json::Value| value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
    let strings = |value: &dyn Fn(&deltalake::kernel::CommitInfo) -> Option<String>| -> ArrayRef { Arc::new(commits.iter().map(value).collect::<StringArray>()) };
    let columns: Vec<ArrayRef> = vec![
        Arc::new((0..commits.len()).map(|index| Some(latest.saturating_sub(index as u64) as i64)).collect::<Int64Array>()),
        Arc::new(commits.iter().map(|c| c.timestamp).collect::<TimestampMillisecondArray>().with_timezone("UTC")),
        strings(&|c| c.user_id.clone()),
        strings(&|c| c.user_name.clone()),
        strings(&|c| c.operation.clone()),
        map(&|c| c.operation_parameters.as_ref().map(|p| p.iter().map(|(k, v)| (k.clone(), as_text(v))).collect())),
        Arc::new(commits.iter().map(|c| c.read_version.map(|v| v as i64)).collect::<Int64Array>()),
        Arc::new(commits.iter().map(|c| c.is_blind_append).collect::<BooleanArray>()),
        map(&|c| c.info.get("operationMetrics").and_then(|m| m.as_object()).map(|m| m.iter().map(|(k, v)| (k.clone(), as_text(v))).collect())),
        strings(&|c| c.engine_info.clone()),
    ];
    let fields: Vec<Field> = ["version", "timestamp", "userId", "userName", "operation", "operationParameters", "readVersion", "isBlindAppend", "operationMetrics", "engineInfo"]
        .iter()
        .zip(&columns)
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|e| SqlError::internal(e.to_string()))?;
    Ok(StatementOutput::batches(schema, vec![batch], "DESCRIBE"))
}

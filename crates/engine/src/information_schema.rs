//! `information_schema`: in every catalog (about that catalog) and in `system` (about all of
//! them). Each view is built when a statement reads it, from Unity Catalog as the caller
//! sees it: only objects the caller holds a privilege on (or owns, or administers) appear,
//! the same rule as SHOW and the REST lists.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;
use kiln_core::authz::SecurablePath;
use kiln_core::uc::tables::TableSpec;
use kiln_store::{SecurableKind, SecurableRecord};

use crate::catalog::Access;
use crate::error::SqlError;

pub(crate) const SCHEMA_NAME: &str = kiln_core::uc::INFORMATION_SCHEMA;
/// The catalog whose information_schema covers every catalog.
pub(crate) const SYSTEM_CATALOG: &str = "system";

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Int,
    Time,
}

#[derive(Clone)]
enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
    Time(Option<i64>),
}

fn text(value: impl Into<String>) -> Cell {
    Cell::Text(Some(value.into()))
}

fn yes_no(value: bool) -> Cell {
    text(if value { "YES" } else { "NO" })
}

const NULL: Cell = Cell::Text(None);

/// The views, with their columns as Databricks names them.
const VIEWS: &[(&str, &[(&str, Kind)])] = &[
    ("catalogs", &[
        ("catalog_name", Kind::Text), ("catalog_owner", Kind::Text), ("comment", Kind::Text),
        ("created", Kind::Time), ("created_by", Kind::Text), ("last_altered", Kind::Time), ("last_altered_by", Kind::Text),
    ]),
    ("schemata", &[
        ("catalog_name", Kind::Text), ("schema_name", Kind::Text), ("schema_owner", Kind::Text), ("comment", Kind::Text),
        ("created", Kind::Time), ("created_by", Kind::Text), ("last_altered", Kind::Time), ("last_altered_by", Kind::Text),
    ]),
    ("tables", &[
        ("table_catalog", Kind::Text), ("table_schema", Kind::Text), ("table_name", Kind::Text), ("table_type", Kind::Text),
        ("is_insertable_into", Kind::Text), ("commit_action", Kind::Text), ("table_owner", Kind::Text), ("comment", Kind::Text),
        ("created", Kind::Time), ("created_by", Kind::Text), ("last_altered", Kind::Time), ("last_altered_by", Kind::Text),
        ("data_source_format", Kind::Text), ("storage_sub_directory", Kind::Text),
    ]),
    ("columns", &[
        ("table_catalog", Kind::Text), ("table_schema", Kind::Text), ("table_name", Kind::Text), ("column_name", Kind::Text),
        ("ordinal_position", Kind::Int), ("column_default", Kind::Text), ("is_nullable", Kind::Text), ("full_data_type", Kind::Text),
        ("data_type", Kind::Text), ("numeric_precision", Kind::Int), ("numeric_scale", Kind::Int),
        ("partition_ordinal_position", Kind::Int), ("comment", Kind::Text),
    ]),
    ("views", &[
        ("table_catalog", Kind::Text), ("table_schema", Kind::Text), ("table_name", Kind::Text), ("view_definition", Kind::Text),
        ("check_option", Kind::Text), ("is_updatable", Kind::Text), ("is_insertable_into", Kind::Text), ("sql_path", Kind::Text),
        ("is_materialized", Kind::Text),
    ]),
    ("table_constraints", &[
        ("constraint_catalog", Kind::Text), ("constraint_schema", Kind::Text), ("constraint_name", Kind::Text),
        ("table_catalog", Kind::Text), ("table_schema", Kind::Text), ("table_name", Kind::Text), ("constraint_type", Kind::Text),
        ("is_deferrable", Kind::Text), ("initially_deferred", Kind::Text), ("enforced", Kind::Text), ("comment", Kind::Text),
    ]),
    ("key_column_usage", &[
        ("constraint_catalog", Kind::Text), ("constraint_schema", Kind::Text), ("constraint_name", Kind::Text),
        ("table_catalog", Kind::Text), ("table_schema", Kind::Text), ("table_name", Kind::Text), ("column_name", Kind::Text),
        ("ordinal_position", Kind::Int), ("position_in_unique_constraint", Kind::Int),
    ]),
    ("table_privileges", &[
        ("grantor", Kind::Text), ("grantee", Kind::Text), ("table_catalog", Kind::Text), ("table_schema", Kind::Text),
        ("table_name", Kind::Text), ("privilege_type", Kind::Text), ("is_grantable", Kind::Text), ("inherited_from", Kind::Text),
    ]),
];

/// The names of the views, for SHOW TABLES IN information_schema.
pub(crate) fn view_names() -> impl Iterator<Item = &'static str> {
    VIEWS.iter().map(|(name, _)| *name)
}

/// `<catalog>.information_schema.<view>` for the caller, or `None` when there is no such
/// view. `catalog` is `system` for the view over every catalog.
pub(crate) async fn view(access: &Access, catalog: &str, view: &str) -> Result<Option<Arc<dyn TableProvider>>, SqlError> {
    let Some((_, columns)) = VIEWS.iter().find(|(name, _)| *name == view) else { return Ok(None) };
    let catalogs = visible_catalogs(access, catalog).await?;
    let mut rows = Vec::new();
    if view == "catalogs" {
        rows.extend(catalogs.iter().map(|path| {
            let c = path.leaf();
            vec![text(&c.name), text(&c.owner), Cell::Text(c.comment.clone()), Cell::Time(Some(c.created_at_ms)), text(&c.created_by), Cell::Time(Some(c.updated_at_ms)), text(&c.updated_by)]
        }));
    } else {
        for catalog in &catalogs {
            for schema in access.uc.visible_children(&access.caller, catalog, SecurableKind::Schema).await? {
                if view == "schemata" {
                    let s = schema.leaf();
                    rows.push(vec![
                        text(&catalog.leaf().name), text(&s.name), text(&s.owner), Cell::Text(s.comment.clone()),
                        Cell::Time(Some(s.created_at_ms)), text(&s.created_by), Cell::Time(Some(s.updated_at_ms)), text(&s.updated_by),
                    ]);
                    continue;
                }
                for table in access.uc.visible_children(&access.caller, &schema, SecurableKind::Table).await? {
                    table_rows(access, view, &table, &mut rows).await?;
                }
            }
        }
    }
    let batch = batch(columns, rows)?;
    let table = MemTable::try_new(batch.schema(), vec![vec![batch]]).map_err(SqlError::from_datafusion)?;
    Ok(Some(Arc::new(table)))
}

/// The catalog itself when it is visible to the caller (otherwise the view does not exist
/// for them), or every visible catalog for `system`.
async fn visible_catalogs(access: &Access, catalog: &str) -> Result<Vec<SecurablePath>, SqlError> {
    let metastore = access.uc.metastore_path().await?;
    let visible = access.uc.visible_children(&access.caller, &metastore, SecurableKind::Catalog).await?;
    if catalog == SYSTEM_CATALOG {
        return Ok(visible);
    }
    let named: Vec<SecurablePath> = visible.into_iter().filter(|path| path.leaf().name == catalog).collect();
    if named.is_empty() {
        return Err(SqlError::table_not_found(&[catalog.to_string(), SCHEMA_NAME.to_string()]));
    }
    Ok(named)
}

/// The rows one table contributes to `view`.
async fn table_rows(access: &Access, view: &str, path: &SecurablePath, rows: &mut Vec<Vec<Cell>>) -> Result<(), SqlError> {
    let names = |record: &SecurableRecord| -> [Cell; 3] { [text(&path.nodes[1].name), text(&path.nodes[2].name), text(&record.name)] };
    let table = path.leaf();
    let spec = TableSpec::of(table);
    match view {
        "tables" => {
            let mut row = names(table).to_vec();
            row.extend([
                text(&spec.table_type), yes_no(!spec.is_view()), text("PRESERVE"), text(&table.owner), Cell::Text(table.comment.clone()),
                Cell::Time(Some(table.created_at_ms)), text(&table.created_by), Cell::Time(Some(table.updated_at_ms)), text(&table.updated_by),
                Cell::Text(spec.data_source_format.clone()), NULL,
            ]);
            rows.push(row);
        }
        "columns" => {
            for column in &spec.columns {
                let mut row = names(table).to_vec();
                row.extend([
                    text(&column.name), Cell::Int(Some(i64::from(column.position))), NULL, yes_no(column.nullable), text(&column.type_text),
                    text(&column.type_name), Cell::Int(column.type_precision.map(i64::from)), Cell::Int(column.type_scale.map(i64::from)),
                    Cell::Int(column.partition_index.map(i64::from)), Cell::Text(column.comment.clone()),
                ]);
                rows.push(row);
            }
        }
        "views" if spec.is_view() => {
            let mut row = names(table).to_vec();
            row.extend([Cell::Text(spec.view_definition.clone()), text("NONE"), text("NO"), text("NO"), NULL, text("NO")]);
            rows.push(row);
        }
        "table_constraints" | "key_column_usage" => {
            for constraint in &spec.table_constraints {
                let (name, kind, columns) = match (&constraint.primary_key_constraint, &constraint.foreign_key_constraint) {
                    (Some(pk), _) => (&pk.name, "PRIMARY KEY", &pk.child_columns),
                    (None, Some(fk)) => (&fk.name, "FOREIGN KEY", &fk.child_columns),
                    (None, None) => continue,
                };
                let owner = [text(&path.nodes[1].name), text(&path.nodes[2].name), text(name)];
                if view == "table_constraints" {
                    let mut row = owner.to_vec();
                    row.extend(names(table));
                    // Databricks' key constraints are informational: not enforced.
                    row.extend([text(kind), text("NO"), text("NO"), text("NO"), NULL]);
                    rows.push(row);
                    continue;
                }
                for (index, column) in columns.iter().enumerate() {
                    let mut row = owner.to_vec();
                    row.extend(names(table));
                    let position = Some(index as i64 + 1);
                    row.extend([text(column), Cell::Int(position), Cell::Int(if kind == "FOREIGN KEY" { position } else { None })]);
                    rows.push(row);
                }
            }
        }
        "table_privileges" => {
            let grants = access.uc.store().list_grants(&path.ids()).await.map_err(|e| SqlError::from_core(e.into()))?;
            let principal = &access.caller.principal;
            let sees_all = principal.is_admin || principal.name() == table.owner || principal.group_names.contains(&table.owner);
            for grant in grants {
                let mine = grant.principal == principal.name() || principal.group_names.contains(&grant.principal) || grant.principal.eq_ignore_ascii_case(kiln_core::authz::uc::ACCOUNT_USERS);
                let on_tables = kiln_core::authz::Privilege::parse(&grant.privilege).is_some_and(|p| p.applies_to(SecurableKind::Table));
                if !(sees_all || mine) || !on_tables {
                    continue;
                }
                let Some(depth) = path.nodes.iter().position(|node| node.id == grant.securable_id) else { continue };
                let inherited = match path.nodes[depth].kind {
                    SecurableKind::Table => "NONE",
                    SecurableKind::Schema => "SCHEMA",
                    SecurableKind::Catalog => "CATALOG",
                    _ => "METASTORE",
                };
                let mut row = vec![text(&table.owner), text(&grant.principal)];
                row.extend(names(table));
                row.extend([text(grant.privilege.replace('_', " ")), text("NO"), text(inherited)]);
                rows.push(row);
            }
        }
        _ => {}
    }
    Ok(())
}

fn batch(columns: &[(&str, Kind)], rows: Vec<Vec<Cell>>) -> Result<RecordBatch, SqlError> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, kind)| {
            let data_type = match kind {
                Kind::Text => DataType::Utf8,
                Kind::Int => DataType::Int64,
                Kind::Time => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            };
            Field::new(*name, data_type, true)
        })
        .collect();
    let mut by_column: Vec<Vec<Cell>> = columns.iter().map(|_| Vec::with_capacity(rows.len())).collect();
    for row in rows {
        for (index, cell) in row.into_iter().enumerate() {
            by_column[index].push(cell);
        }
    }
    let arrays: Vec<ArrayRef> = by_column
        .into_iter()
        .zip(columns)
        .map(|(cells, (_, kind))| -> ArrayRef {
            match kind {
                Kind::Text => Arc::new(cells.into_iter().map(|c| if let Cell::Text(v) = c { v } else { None }).collect::<StringArray>()),
                Kind::Int => Arc::new(cells.into_iter().map(|c| if let Cell::Int(v) = c { v } else { None }).collect::<Int64Array>()),
                Kind::Time => Arc::new(
                    cells.into_iter().map(|c| if let Cell::Time(v) = c { v.map(|ms| ms * 1000) } else { None }).collect::<TimestampMicrosecondArray>().with_timezone("UTC"),
                ),
            }
        })
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|e| SqlError::internal(e.to_string()))
}

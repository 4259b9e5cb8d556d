//! INSERT results, and UPDATE / DELETE on Delta tables (DataFusion plans neither for
//! Delta, so they run on delta-rs' operations after the same privilege check).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Int64Array, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::sql::sqlparser::ast::{AssignmentTarget, FromTable, Statement, TableFactor};
use futures::TryStreamExt;
use kiln_core::authz::Privilege;

use super::ddl::commit_properties;
use super::{Run, StatementOutput};
use crate::catalog::{Access, resolve_table, table_url};
use crate::error::SqlError;
use crate::parse::name_parts;

/// Databricks answers DML with row counts.
fn counts(columns: &[&str], values: &[i64], statement_type: &'static str) -> Result<StatementOutput, SqlError> {
    let schema = Arc::new(Schema::new(columns.iter().map(|c| Field::new(*c, DataType::Int64, false)).collect::<Vec<_>>()));
    let arrays: Vec<ArrayRef> = values.iter().map(|v| Arc::new(Int64Array::from(vec![*v])) as ArrayRef).collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| SqlError::internal(e.to_string()))?;
    Ok(StatementOutput::batches(schema, vec![batch], statement_type))
}

/// Runs an INSERT's plan (DataFusion's Delta sink answers one `count` row) and answers
/// `num_affected_rows`, `num_inserted_rows`.
pub(super) async fn insert_result(output: StatementOutput) -> Result<StatementOutput, SqlError> {
    let batches: Vec<RecordBatch> = output.stream.try_collect().await.map_err(SqlError::from_datafusion)?;
    let mut inserted = 0_i64;
    for batch in &batches {
        if let Some(column) = batch.columns().first() {
            if let Some(counts) = column.as_any().downcast_ref::<UInt64Array>() {
                inserted += counts.iter().flatten().map(|c| c as i64).sum::<i64>();
            }
        }
    }
    counts(&["num_affected_rows", "num_inserted_rows"], &[inserted, inserted], "INSERT")
}

/// UPDATE t SET ... [WHERE ...] and DELETE FROM t [WHERE ...]: MODIFY on the table.
pub(super) async fn update_or_delete(run: &Run<'_>, statement: Statement) -> Result<StatementOutput, SqlError> {
    let (target, predicate, assignments, kind) = match &statement {
        Statement::Update(update) => {
            let TableFactor::Table { name, .. } = &update.table.relation else { return Err(SqlError::unsupported("UPDATE of a derived table")) };
            if update.from.is_some() || !update.table.joins.is_empty() {
                return Err(SqlError::unsupported("UPDATE ... FROM: use MERGE INTO"));
            }
            let mut assignments = Vec::new();
            for assignment in &update.assignments {
                let AssignmentTarget::ColumnName(column) = &assignment.target else { return Err(SqlError::unsupported("UPDATE of a column tuple")) };
                let column = name_parts(column).last().cloned().unwrap_or_default();
                assignments.push((column, assignment.value.to_string()));
            }
            (name.clone(), update.selection.as_ref().map(|e| e.to_string()), assignments, "UPDATE")
        }
        Statement::Delete(delete) => {
            let tables = match &delete.from {
                FromTable::WithFromKeyword(tables) | FromTable::WithoutKeyword(tables) => tables,
            };
            let [only] = tables.as_slice() else { return Err(SqlError::unsupported("DELETE from several tables")) };
            let TableFactor::Table { name, .. } = &only.relation else { return Err(SqlError::unsupported("DELETE from a derived table")) };
            if delete.using.is_some() {
                return Err(SqlError::unsupported("DELETE ... USING: use MERGE INTO"));
            }
            (name.clone(), delete.selection.as_ref().map(|e| e.to_string()), Vec::new(), "DELETE")
        }
        _ => return Err(SqlError::internal("not an UPDATE or DELETE")),
    };
    let parts = run.qualify(&name_parts(&target), 3)?;
    let access = Access { uc: run.uc().clone(), caller: run.caller.clone(), write_targets: Default::default() };
    let path = resolve_table(&access, &[parts[0].clone(), parts[1].clone(), parts[2].clone()]).await?;
    let action = if kind == "UPDATE" { "sql.update" } else { "sql.delete" };
    run.uc().authz().require_privilege(run.caller, action, &path, Privilege::Modify).await.map_err(SqlError::from_core)?;
    let table = deltalake::open_table(table_url(run.uc(), &path.leaf().id)?).await.map_err(SqlError::delta)?;
    if kind == "DELETE" {
        let mut builder = table.delete().with_commit_properties(commit_properties(run));
        if let Some(predicate) = predicate {
            builder = builder.with_predicate(predicate);
        }
        let (_, metrics) = builder.await.map_err(dml_error)?;
        let deleted = metrics.num_deleted_rows.unwrap_or_default() as i64;
        return counts(&["num_affected_rows"], &[deleted], "DELETE");
    }
    let mut builder = table.update().with_commit_properties(commit_properties(run));
    if let Some(predicate) = predicate {
        builder = builder.with_predicate(predicate);
    }
    for (column, value) in assignments {
        builder = builder.with_update(column, value);
    }
    let (_, metrics) = builder.await.map_err(dml_error)?;
    counts(&["num_affected_rows"], &[metrics.num_updated_rows as i64], "UPDATE")
}

/// Errors in a predicate or assignment are the user's, not internal ones.
fn dml_error(error: deltalake::DeltaTableError) -> SqlError {
    match error {
        deltalake::DeltaTableError::Generic(detail) => SqlError::bad_request(detail),
        other => SqlError::bad_request(other.to_string()),
    }
}

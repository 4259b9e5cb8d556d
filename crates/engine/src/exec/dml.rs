//! INSERT, UPDATE and DELETE on Delta tables: delta-rs commits them, as the caller, after
//! the same privilege checks as everything else.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::sql::sqlparser::ast::{AssignmentTarget, FromTable, Statement, TableFactor};
use datafusion::execution::SessionState;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{LogicalPlan, WriteOp};
use deltalake::operations::write::WriteBuilder;
use deltalake::protocol::SaveMode;
use futures::TryStreamExt;
use kiln_core::authz::Privilege;

use super::ddl::commit_properties;
use super::{Run, StatementOutput};
use crate::catalog::table_url;
use crate::error::SqlError;
use crate::parse::{KilnStatement, Merge, MergeAction, MergeWhen, name_parts, parse_statement};

/// Databricks answers DML with row counts.
fn counts(columns: &[&str], values: &[i64], statement_type: &'static str) -> Result<StatementOutput, SqlError> {
    let schema = Arc::new(Schema::new(columns.iter().map(|c| Field::new(*c, DataType::Int64, false)).collect::<Vec<_>>()));
    let arrays: Vec<ArrayRef> = values.iter().map(|v| Arc::new(Int64Array::from(vec![*v])) as ArrayRef).collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| SqlError::internal(e.to_string()))?;
    Ok(StatementOutput::batches(schema, vec![batch], statement_type))
}

/// INSERT INTO / INSERT OVERWRITE: DataFusion plans the source rows (cast to the table's
/// columns; planning checked MODIFY on the target), delta-rs commits them as the caller.
/// Answers `num_affected_rows`, `num_inserted_rows`.
pub(super) async fn insert(run: &Run<'_>, state: SessionState, plan: LogicalPlan, target: &[String]) -> Result<StatementOutput, SqlError> {
    let LogicalPlan::Dml(dml) = plan else { return Err(SqlError::internal("INSERT did not plan to a write")) };
    let mode = match dml.op {
        WriteOp::Insert(InsertOp::Append) => SaveMode::Append,
        WriteOp::Insert(InsertOp::Overwrite) => SaveMode::Overwrite,
        _ => return Err(SqlError::unsupported("INSERT OR REPLACE")),
    };
    let path = run.resolve_table(target).await?;
    if mode == SaveMode::Overwrite {
        require_read_write(run, "sql.insert_overwrite", &path).await?;
    }
    let table = deltalake::open_table(table_url(run.uc(), &path.leaf().id)?).await.map_err(SqlError::delta)?;
    let snapshot = table.snapshot().map_err(SqlError::delta)?.snapshot().clone();
    let written = WriteBuilder::new(table.log_store(), Some(snapshot))
        .with_input_plan(dml.input.as_ref().clone())
        .with_session_state(Arc::new(state))
        .with_save_mode(mode)
        .with_commit_properties(commit_properties(run))
        .await
        .map_err(dml_error)?;
    let commits: Vec<_> = written.history(Some(1)).try_collect().await.map_err(SqlError::delta)?;
    let inserted = commits
        .first()
        .and_then(|commit| commit.info.get("operationMetrics"))
        .and_then(|metrics| metrics.get("num_added_rows"))
        .and_then(serde_json::Value::as_i64)
        .unwrap_or_default();
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
    let path = run.resolve_table(&name_parts(&target)).await?;
    let action = if kind == "UPDATE" { "sql.update" } else { "sql.delete" };
    require_read_write(run, action, &path).await?;
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

/// MERGE INTO: MODIFY on the target and SELECT on whatever the source reads; delta-rs joins
/// the two and commits as the caller. Answers Databricks' four counts.
pub(super) async fn merge(run: &Run<'_>, merge: Merge) -> Result<StatementOutput, SqlError> {
    let target = run.qualify(&merge.target, 3)?;
    let path = run.resolve_table(&target).await?;
    require_read_write(run, "sql.merge", &path).await?;
    let table = deltalake::open_table(table_url(run.uc(), &path.leaf().id)?).await.map_err(SqlError::delta)?;
    let columns: Vec<String> = table.snapshot().map_err(SqlError::delta)?.schema().fields().map(|field| field.name().to_string()).collect();

    // The source is planned like any query, so the governed catalog checks what it reads.
    let source_alias = match (&merge.source_alias, &merge.source) {
        (Some(alias), _) => alias.clone(),
        (None, datafusion::sql::sqlparser::ast::TableFactor::Table { name, .. }) => name_parts(name).pop().unwrap_or_default(),
        (None, _) => return Err(SqlError::bad_request("MERGE ... USING (subquery): give the subquery an alias, as in USING (SELECT ...) AS source")),
    };
    let target_alias = merge.target_alias.clone().unwrap_or_else(|| target[2].clone());
    let KilnStatement::Sql(mut source) = parse_statement(&format!("SELECT * FROM {}", merge.source))? else {
        return Err(SqlError::internal("the MERGE source did not read as a query"));
    };
    super::rewrite_time_travel(&mut source)?;
    let mut state = run.session(std::collections::HashSet::new())?;
    let source_plan = run.plan(&mut state, *source).await?;
    let source = datafusion::dataframe::DataFrame::new(state.clone(), source_plan);

    let mut builder = table
        .merge(source, merge.on.to_string())
        .with_source_alias(&source_alias)
        .with_target_alias(&target_alias)
        .with_session_state(Arc::new(state))
        .with_commit_properties(commit_properties(run));
    let from_source = |column: &String| (column.clone(), format!("{source_alias}.{column}"));
    for clause in merge.clauses {
        let condition = clause.condition.map(|c| c.to_string());
        let assignments: Vec<(String, String)> = match &clause.action {
            MergeAction::UpdateAll | MergeAction::InsertAll => columns.iter().map(from_source).collect(),
            MergeAction::Update(assignments) => assignments.iter().map(|(column, value)| (column.clone(), value.to_string())).collect(),
            MergeAction::Insert { columns: named, values } => {
                let named = if named.is_empty() { &columns } else { named };
                if named.len() != values.len() {
                    return Err(SqlError::bad_request(format!("MERGE INSERT names {} columns but gives {} values", named.len(), values.len())));
                }
                named.iter().cloned().zip(values.iter().map(ToString::to_string)).collect()
            }
            MergeAction::Delete => Vec::new(),
        };
        let deletes = matches!(clause.action, MergeAction::Delete);
        builder = match clause.when {
            MergeWhen::Matched if deletes => builder.when_matched_delete(|d| match condition { Some(c) => d.predicate(c), None => d }),
            MergeWhen::Matched => builder.when_matched_update(|u| {
                let u = match condition { Some(c) => u.predicate(c), None => u };
                assignments.into_iter().fold(u, |u, (column, value)| u.update(column.as_str(), value))
            }),
            MergeWhen::NotMatchedBySource if deletes => builder.when_not_matched_by_source_delete(|d| match condition { Some(c) => d.predicate(c), None => d }),
            MergeWhen::NotMatchedBySource => builder.when_not_matched_by_source_update(|u| {
                let u = match condition { Some(c) => u.predicate(c), None => u };
                assignments.into_iter().fold(u, |u, (column, value)| u.update(column.as_str(), value))
            }),
            MergeWhen::NotMatched => builder.when_not_matched_insert(|i| {
                let i = match condition { Some(c) => i.predicate(c), None => i };
                assignments.into_iter().fold(i, |i, (column, value)| i.set(column.as_str(), value))
            }),
        }
        .map_err(dml_error)?;
    }
    let (_, metrics) = builder.await.map_err(dml_error)?;
    let [inserted, updated, deleted] = [metrics.num_target_rows_inserted, metrics.num_target_rows_updated, metrics.num_target_rows_deleted].map(|n| n as i64);
    counts(&["num_affected_rows", "num_updated_rows", "num_deleted_rows", "num_inserted_rows"], &[inserted + updated + deleted, updated, deleted, inserted], "MERGE")
}

/// UPDATE, DELETE, MERGE and INSERT OVERWRITE read the table they change: they need SELECT
/// on it as well as MODIFY, as on Databricks (a plain INSERT needs MODIFY only).
async fn require_read_write(run: &Run<'_>, action: &str, path: &kiln_core::authz::SecurablePath) -> Result<(), SqlError> {
    let authz = run.uc().authz();
    authz.require_privilege(run.caller, action, path, Privilege::Modify).await?;
    authz.require_privilege(run.caller, action, path, Privilege::Select).await?;
    Ok(())
}

/// Errors in a predicate or assignment are the user's, not internal ones.
pub(super) fn dml_error(error: deltalake::DeltaTableError) -> SqlError {
    match error {
        deltalake::DeltaTableError::Generic(detail) => SqlError::bad_request(detail),
        other => SqlError::bad_request(other.to_string()),
    }
}

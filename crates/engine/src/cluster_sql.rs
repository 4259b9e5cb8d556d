//! SQL from a cluster's driver (`spark.sql`): the same governed engine as the Statement
//! Execution API, run as the command's caller, with the session's current catalog and schema
//! carried by the driver between statements (so `USE` lasts for the execution context).

use datafusion::common::ScalarValue;
use datafusion::sql::sqlparser::ast::{Statement, Use};
use kiln_core::principal::Caller;

use crate::parse::{KilnStatement, name_parts, parse_statement};
use kiln_api::sql::ColumnInfo;

use crate::results::{Disposition, ResultBuilder, Row};
use crate::{ExecutionPool, Executor, SqlError, StatementContext};

/// Rows a driver receives at most; more mark the result truncated.
const MAX_ROWS: usize = 1_000_000;

#[derive(Debug)]
pub struct ClusterSqlResult {
    pub columns: Vec<ColumnInfo>,
    pub rows: Vec<Row>,
    pub truncated: bool,
    /// The current catalog and schema after the statement.
    pub catalog: String,
    pub schema: String,
}

/// Runs one statement on the query runtime (whose threads have the stack SQL needs);
/// `parameters` bind `:name` markers as strings.
pub async fn run(executor: &Executor, caller: &Caller, pool: &ExecutionPool, sql: &str, catalog: &str, schema: &str, parameters: Vec<(String, Option<String>)>) -> Result<ClusterSqlResult, SqlError> {
    let parameters = parameters.into_iter().map(|(name, value)| (name, ScalarValue::Utf8(value))).collect();
    let context = StatementContext { catalog: catalog.to_string(), schema: schema.to_string(), parameters };
    let (executor, caller, pool, sql) = (executor.clone(), caller.clone(), pool.clone(), sql.to_string());
    let task = crate::session::query_runtime().spawn(async move {
        let output = executor.run(&caller, &pool, &sql, &context).await?;
        let mut stream = output.stream;
        let set = ResultBuilder::new(output.schema.clone(), Disposition::Inline, Some(MAX_ROWS), Some(usize::MAX))?.collect(&mut stream).await?;
        let (catalog, schema) = session_after(&sql, &context.catalog, &context.schema);
        Ok(ClusterSqlResult { columns: set.columns, rows: set.chunks.into_iter().flat_map(|chunk| chunk.rows).collect(), truncated: set.truncated, catalog, schema })
    });
    task.await.map_err(|error| SqlError::internal(format!("the statement stopped unexpectedly: {error}")))?
}

/// The current catalog and schema once `sql` ran: a `USE` (already checked by the engine)
/// moves them, anything else keeps them.
fn session_after(sql: &str, catalog: &str, schema: &str) -> (String, String) {
    let unchanged = (catalog.to_string(), schema.to_string());
    let Ok(KilnStatement::Sql(statement)) = parse_statement(sql) else { return unchanged };
    let Statement::Use(target) = *statement else { return unchanged };
    match target {
        Use::Catalog(name) => (name_parts(&name).join("."), "default".to_string()),
        Use::Schema(name) | Use::Database(name) | Use::Object(name) => match name_parts(&name).as_slice() {
            [schema] => (catalog.to_string(), schema.clone()),
            [catalog, schema] => (catalog.clone(), schema.clone()),
            _ => unchanged,
        },
        _ => unchanged,
    }
}

#[cfg(test)]
mod tests {
    use super::session_after;

    #[test]
    fn use_moves_the_session() {
        let at = |sql: &str| session_after(sql, "main", "default");
        assert_eq!(at("USE CATALOG dev"), ("dev".to_string(), "default".to_string()));
        assert_eq!(at("USE SCHEMA etl"), ("main".to_string(), "etl".to_string()));
        assert_eq!(at("USE dev.etl"), ("dev".to_string(), "etl".to_string()));
        assert_eq!(at("USE CATALOG `my cat`"), ("my cat".to_string(), "default".to_string()));
        assert_eq!(at("SELECT 1"), ("main".to_string(), "default".to_string()));
    }
}

/// SQL of job tasks (`sql_task`, SQL notebooks on a warehouse): run on the warehouse's pool
/// as the run's principal, who needs CAN_USE on it.
#[derive(Debug, Clone)]
pub struct WarehouseTaskSql {
    pub warehouses: crate::warehouses::Warehouses,
    pub executor: Executor,
}

#[async_trait::async_trait]
impl kiln_core::jobs::TaskSql for WarehouseTaskSql {
    async fn run(&self, caller: &Caller, warehouse_id: &str, statement: &str, parameters: &[(String, String)], catalog: Option<&str>, schema: Option<&str>) -> kiln_core::Result<kiln_core::jobs::SqlRows> {
        let pool = self.warehouses.pool_for_statement(caller, warehouse_id).await?;
        let parameters = parameters.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect();
        let result = run(&self.executor, caller, &pool, statement, catalog.unwrap_or("main"), schema.unwrap_or("default"), parameters)
            .await
            .map_err(|e| kiln_core::Error::new(kiln_core::ErrorCode::Specific(400, e.error_code), e.message))?;
        Ok(kiln_core::jobs::SqlRows { columns: result.columns.into_iter().map(|c| c.name).collect(), rows: result.rows })
    }
}

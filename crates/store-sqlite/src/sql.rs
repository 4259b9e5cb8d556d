//! SQL warehouses, query history and saved queries.

use async_trait::async_trait;
use kiln_store::{QueryFilter, QueryRecord, SavedQueryRecord, SqlStore, StoreError, StoreResult, WarehouseRecord};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row};

use crate::{SqliteStore, backend, from_json, to_json, write_error, write_transaction};

const WAREHOUSE_COLUMNS: &str = "id, name, state, spec, creator_name, created_at_ms, last_activity_ms";
const QUERY_COLUMNS: &str =
    "query_id, warehouse_id, user_id, user_name, query_text, status, statement_type, error_message, start_time_ms, end_time_ms, rows_produced";

fn warehouse_from_row(row: &SqliteRow) -> StoreResult<WarehouseRecord> {
    Ok(WarehouseRecord {
        id: row.try_get("id").map_err(backend)?,
        name: row.try_get("name").map_err(backend)?,
        state: row.try_get("state").map_err(backend)?,
        spec: from_json(row.try_get("spec").map_err(backend)?)?,
        creator_name: row.try_get("creator_name").map_err(backend)?,
        created_at_ms: row.try_get("created_at_ms").map_err(backend)?,
        last_activity_ms: row.try_get("last_activity_ms").map_err(backend)?,
    })
}

fn query_from_row(row: &SqliteRow) -> StoreResult<QueryRecord> {
    Ok(QueryRecord {
        query_id: row.try_get("query_id").map_err(backend)?,
        warehouse_id: row.try_get("warehouse_id").map_err(backend)?,
        user_id: row.try_get("user_id").map_err(backend)?,
        user_name: row.try_get("user_name").map_err(backend)?,
        query_text: row.try_get("query_text").map_err(backend)?,
        status: row.try_get("status").map_err(backend)?,
        statement_type: row.try_get("statement_type").map_err(backend)?,
        error_message: row.try_get("error_message").map_err(backend)?,
        start_time_ms: row.try_get("start_time_ms").map_err(backend)?,
        end_time_ms: row.try_get("end_time_ms").map_err(backend)?,
        rows_produced: row.try_get("rows_produced").map_err(backend)?,
    })
}

/// `column IN (?, ?, ...)` for a non-empty list, or a condition that always holds.
fn any_of(column: &str, count: usize) -> String {
    if count == 0 { "1 = 1".to_string() } else { format!("{column} IN ({})", vec!["?"; count].join(", ")) }
}

#[async_trait]
impl SqlStore for SqliteStore {
    async fn insert_warehouse(&self, warehouse: &WarehouseRecord) -> StoreResult<()> {
        sqlx::query(AssertSqlSafe(format!("INSERT INTO sql_warehouses ({WAREHOUSE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)")))
            .bind(&warehouse.id)
            .bind(&warehouse.name)
            .bind(&warehouse.state)
            .bind(to_json(&warehouse.spec))
            .bind(&warehouse.creator_name)
            .bind(warehouse.created_at_ms)
            .bind(warehouse.last_activity_ms)
            .execute(&self.writer)
            .await
            .map_err(|e| write_error(e, &format!("warehouse {}", warehouse.name)))?;
        Ok(())
    }

    async fn get_warehouse(&self, id: &str) -> StoreResult<Option<WarehouseRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {WAREHOUSE_COLUMNS} FROM sql_warehouses WHERE id = ?")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(warehouse_from_row).transpose()
    }

    async fn list_warehouses(&self) -> StoreResult<Vec<WarehouseRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!("SELECT {WAREHOUSE_COLUMNS} FROM sql_warehouses ORDER BY created_at_ms, id")))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(warehouse_from_row).collect()
    }

    async fn update_warehouse(&self, warehouse: &WarehouseRecord) -> StoreResult<()> {
        let result = sqlx::query("UPDATE sql_warehouses SET name = ?, state = ?, spec = ?, last_activity_ms = ? WHERE id = ?")
            .bind(&warehouse.name)
            .bind(&warehouse.state)
            .bind(to_json(&warehouse.spec))
            .bind(warehouse.last_activity_ms)
            .bind(&warehouse.id)
            .execute(&self.writer)
            .await
            .map_err(|e| write_error(e, &format!("warehouse {}", warehouse.name)))?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("warehouse {}", warehouse.id)));
        }
        Ok(())
    }

    async fn delete_warehouse(&self, id: &str) -> StoreResult<bool> {
        let result = sqlx::query("DELETE FROM sql_warehouses WHERE id = ?").bind(id).execute(&self.writer).await.map_err(backend)?;
        Ok(result.rows_affected() > 0)
    }

    async fn upsert_queries(&self, queries: &[QueryRecord]) -> StoreResult<()> {
        let mut tx = write_transaction(&self.writer).await?;
        for query in queries {
            sqlx::query(AssertSqlSafe(format!("INSERT OR REPLACE INTO sql_queries ({QUERY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")))
                .bind(&query.query_id)
                .bind(&query.warehouse_id)
                .bind(query.user_id)
                .bind(&query.user_name)
                .bind(&query.query_text)
                .bind(&query.status)
                .bind(&query.statement_type)
                .bind(&query.error_message)
                .bind(query.start_time_ms)
                .bind(query.end_time_ms)
                .bind(query.rows_produced)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn list_queries(&self, filter: &QueryFilter, offset: usize, limit: usize) -> StoreResult<Vec<QueryRecord>> {
        let sql = format!(
            "SELECT {QUERY_COLUMNS} FROM sql_queries WHERE {} AND {} AND {} AND {} AND (? IS NULL OR start_time_ms >= ?) AND (? IS NULL OR start_time_ms <= ?)
             ORDER BY start_time_ms DESC, query_id LIMIT ? OFFSET ?",
            any_of("status", filter.statuses.len()),
            any_of("user_id", filter.user_ids.len()),
            any_of("warehouse_id", filter.warehouse_ids.len()),
            any_of("query_id", filter.query_ids.len()),
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for status in &filter.statuses {
            query = query.bind(status);
        }
        for user_id in &filter.user_ids {
            query = query.bind(user_id);
        }
        for warehouse_id in &filter.warehouse_ids {
            query = query.bind(warehouse_id);
        }
        for query_id in &filter.query_ids {
            query = query.bind(query_id);
        }
        let rows = query
            .bind(filter.start_time_from_ms)
            .bind(filter.start_time_from_ms)
            .bind(filter.start_time_to_ms)
            .bind(filter.start_time_to_ms)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(query_from_row).collect()
    }

    async fn insert_saved_query(&self, query: &SavedQueryRecord) -> StoreResult<()> {
        sqlx::query("INSERT INTO saved_queries (id, owner_name, spec, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?)")
            .bind(&query.id)
            .bind(&query.owner_name)
            .bind(to_json(&query.spec))
            .bind(query.created_ms)
            .bind(query.updated_ms)
            .execute(&self.writer)
            .await
            .map_err(|e| write_error(e, &format!("query {}", query.id)))?;
        Ok(())
    }

    async fn get_saved_query(&self, id: &str) -> StoreResult<Option<SavedQueryRecord>> {
        let row = sqlx::query("SELECT * FROM saved_queries WHERE id = ?").bind(id).fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(saved_query_from_row).transpose()
    }

    async fn list_saved_queries(&self) -> StoreResult<Vec<SavedQueryRecord>> {
        let rows = sqlx::query("SELECT * FROM saved_queries ORDER BY created_ms, id").fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(saved_query_from_row).collect()
    }

    async fn update_saved_query(&self, query: &SavedQueryRecord) -> StoreResult<()> {
        let done = sqlx::query("UPDATE saved_queries SET owner_name = ?, spec = ?, updated_ms = ? WHERE id = ?")
            .bind(&query.owner_name)
            .bind(to_json(&query.spec))
            .bind(query.updated_ms)
            .bind(&query.id)
            .execute(&self.writer)
            .await
            .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("query {}", query.id)));
        }
        Ok(())
    }

    async fn delete_saved_query(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM saved_queries WHERE id = ?").bind(id).execute(&self.writer).await.map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }
}

fn saved_query_from_row(row: &SqliteRow) -> StoreResult<SavedQueryRecord> {
    Ok(SavedQueryRecord {
        id: row.try_get("id").map_err(backend)?,
        owner_name: row.try_get("owner_name").map_err(backend)?,
        spec: from_json(row.try_get("spec").map_err(backend)?)?,
        created_ms: row.try_get("created_ms").map_err(backend)?,
        updated_ms: row.try_get("updated_ms").map_err(backend)?,
    })
}

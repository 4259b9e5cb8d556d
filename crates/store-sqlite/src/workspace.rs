//! The workspace tree's metadata; notebook and file bytes are kept by the service.

use async_trait::async_trait;
use kiln_store::{StoreError, StoreResult, WorkspaceObjectKind, WorkspaceObjectRecord, WorkspaceStore};
use sqlx::{AssertSqlSafe, Row};
use sqlx::sqlite::SqliteRow;

use crate::{SqliteStore, backend, write_error, write_transaction};

const COLUMNS: &str = "object_id, path, parent_path, kind, language, size, created_at_ms, modified_at_ms";

fn object_from_row(row: &SqliteRow) -> StoreResult<WorkspaceObjectRecord> {
    let kind: String = row.try_get("kind").map_err(backend)?;
    Ok(WorkspaceObjectRecord {
        object_id: row.try_get("object_id").map_err(backend)?,
        path: row.try_get("path").map_err(backend)?,
        parent_path: row.try_get("parent_path").map_err(backend)?,
        kind: WorkspaceObjectKind::parse(&kind).ok_or_else(|| backend(format!("unknown workspace object kind {kind}")))?,
        language: row.try_get("language").map_err(backend)?,
        size: row.try_get("size").map_err(backend)?,
        created_at_ms: row.try_get("created_at_ms").map_err(backend)?,
        modified_at_ms: row.try_get("modified_at_ms").map_err(backend)?,
    })
}

#[async_trait]
impl WorkspaceStore for SqliteStore {
    async fn insert_workspace_object(&self, object: &WorkspaceObjectRecord) -> StoreResult<()> {
        sqlx::query(AssertSqlSafe(format!("INSERT INTO workspace_objects ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")))
            .bind(object.object_id)
            .bind(&object.path)
            .bind(&object.parent_path)
            .bind(object.kind.as_str())
            .bind(&object.language)
            .bind(object.size)
            .bind(object.created_at_ms)
            .bind(object.modified_at_ms)
            .execute(&self.writer)
            .await
            .map_err(|e| write_error(e, &object.path))?;
        Ok(())
    }

    async fn get_workspace_object(&self, path: &str) -> StoreResult<Option<WorkspaceObjectRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM workspace_objects WHERE path = ?"))).bind(path).fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(object_from_row).transpose()
    }

    async fn list_workspace_children(&self, parent_path: &str) -> StoreResult<Vec<WorkspaceObjectRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM workspace_objects WHERE parent_path = ? ORDER BY path")))
            .bind(parent_path)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(object_from_row).collect()
    }

    async fn update_workspace_object(&self, object: &WorkspaceObjectRecord) -> StoreResult<()> {
        let done = sqlx::query("UPDATE workspace_objects SET kind = ?, language = ?, size = ?, modified_at_ms = ? WHERE object_id = ?")
            .bind(object.kind.as_str())
            .bind(&object.language)
            .bind(object.size)
            .bind(object.modified_at_ms)
            .bind(object.object_id)
            .execute(&self.writer)
            .await
            .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(object.path.clone()));
        }
        Ok(())
    }

    async fn delete_workspace_subtree(&self, path: &str) -> StoreResult<Vec<WorkspaceObjectRecord>> {
        // A prefix compare rather than LIKE, so `%` and `_` in names match only themselves.
        let below = format!("{}/", path.trim_end_matches('/'));
        let mut tx = write_transaction(&self.writer).await?;
        let rows = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM workspace_objects WHERE path = ? OR substr(path, 1, ?) = ? ORDER BY path")))
            .bind(path)
            .bind(below.chars().count() as i64)
            .bind(&below)
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
        let deleted = rows.iter().map(object_from_row).collect::<StoreResult<Vec<_>>>()?;
        for object in &deleted {
            sqlx::query("DELETE FROM workspace_objects WHERE object_id = ?").bind(object.object_id).execute(&mut *tx).await.map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(deleted)
    }
}

//! Unity Catalog securables and grants.

use async_trait::async_trait;
use kiln_store::{CatalogStore, GrantRecord, SecurableKind, SecurableRecord, StoreError, StoreResult};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row};

use crate::{SqliteStore, backend, from_json, to_json, write_error, write_transaction};

const COLUMNS: &str = "id, kind, parent_id, name, owner, comment, properties, spec, created_at_ms, created_by, updated_at_ms, updated_by";

fn securable_from_row(row: &SqliteRow) -> StoreResult<SecurableRecord> {
    let kind_text: String = row.try_get("kind").map_err(backend)?;
    Ok(SecurableRecord {
        id: row.try_get("id").map_err(backend)?,
        kind: SecurableKind::parse(&kind_text).ok_or_else(|| backend(format!("unknown securable kind {kind_text}")))?,
        parent_id: row.try_get("parent_id").map_err(backend)?,
        name: row.try_get("name").map_err(backend)?,
        owner: row.try_get("owner").map_err(backend)?,
        comment: row.try_get("comment").map_err(backend)?,
        properties: from_json(row.try_get("properties").map_err(backend)?)?,
        spec: from_json(row.try_get("spec").map_err(backend)?)?,
        created_at_ms: row.try_get("created_at_ms").map_err(backend)?,
        created_by: row.try_get("created_by").map_err(backend)?,
        updated_at_ms: row.try_get("updated_at_ms").map_err(backend)?,
        updated_by: row.try_get("updated_by").map_err(backend)?,
    })
}

fn describe(securable: &SecurableRecord) -> String {
    format!("{} {}", securable.kind.as_str(), securable.name)
}

#[async_trait]
impl CatalogStore for SqliteStore {
    async fn insert_securable(&self, securable: &SecurableRecord) -> StoreResult<()> {
        sqlx::query(AssertSqlSafe(format!("INSERT INTO uc_securables ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")))
            .bind(&securable.id)
            .bind(securable.kind.as_str())
            .bind(&securable.parent_id)
            .bind(&securable.name)
            .bind(&securable.owner)
            .bind(&securable.comment)
            .bind(to_json(&securable.properties))
            .bind(to_json(&securable.spec))
            .bind(securable.created_at_ms)
            .bind(&securable.created_by)
            .bind(securable.updated_at_ms)
            .bind(&securable.updated_by)
            .execute(&self.writer)
            .await
            .map_err(|e| write_error(e, &describe(securable)))?;
        Ok(())
    }

    async fn get_securable(&self, id: &str) -> StoreResult<Option<SecurableRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM uc_securables WHERE id = ?")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(securable_from_row).transpose()
    }

    async fn find_securable(&self, parent_id: Option<&str>, kind: SecurableKind, name: &str) -> StoreResult<Option<SecurableRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM uc_securables WHERE COALESCE(parent_id, '') = ? AND kind = ? AND name = ? COLLATE NOCASE");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(parent_id.unwrap_or(""))
            .bind(kind.as_str())
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(securable_from_row).transpose()
    }

    async fn list_securables(&self, parent_id: &str, kind: Option<SecurableKind>) -> StoreResult<Vec<SecurableRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM uc_securables WHERE parent_id = ? AND (? IS NULL OR kind = ?) ORDER BY name COLLATE NOCASE, kind");
        let kind = kind.map(SecurableKind::as_str);
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(parent_id).bind(kind).bind(kind).fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(securable_from_row).collect()
    }

    async fn update_securable(&self, securable: &SecurableRecord) -> StoreResult<()> {
        let result = sqlx::query(
            "UPDATE uc_securables SET name = ?, owner = ?, comment = ?, properties = ?, spec = ?, updated_at_ms = ?, updated_by = ? WHERE id = ?",
        )
        .bind(&securable.name)
        .bind(&securable.owner)
        .bind(&securable.comment)
        .bind(to_json(&securable.properties))
        .bind(to_json(&securable.spec))
        .bind(securable.updated_at_ms)
        .bind(&securable.updated_by)
        .bind(&securable.id)
        .execute(&self.writer)
        .await
        .map_err(|e| write_error(e, &describe(securable)))?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound(describe(securable)));
        }
        Ok(())
    }

    async fn delete_securable(&self, id: &str) -> StoreResult<bool> {
        // Descendants and grants go by ON DELETE CASCADE.
        let result = sqlx::query("DELETE FROM uc_securables WHERE id = ?").bind(id).execute(&self.writer).await.map_err(backend)?;
        Ok(result.rows_affected() > 0)
    }

    async fn list_grants(&self, securable_ids: &[String]) -> StoreResult<Vec<GrantRecord>> {
        if securable_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = vec!["?"; securable_ids.len()].join(", ");
        let sql = format!(
            "SELECT securable_id, principal, privilege FROM uc_grants WHERE securable_id IN ({placeholders}) ORDER BY securable_id, principal, privilege"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for id in securable_ids {
            query = query.bind(id);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter()
            .map(|row| {
                Ok(GrantRecord {
                    securable_id: row.try_get("securable_id").map_err(backend)?,
                    principal: row.try_get("principal").map_err(backend)?,
                    privilege: row.try_get("privilege").map_err(backend)?,
                })
            })
            .collect()
    }

    async fn change_grants(&self, add: &[GrantRecord], remove: &[GrantRecord]) -> StoreResult<()> {
        let mut tx = write_transaction(&self.writer).await?;
        for grant in remove {
            sqlx::query("DELETE FROM uc_grants WHERE securable_id = ? AND principal = ? AND privilege = ?")
                .bind(&grant.securable_id)
                .bind(&grant.principal)
                .bind(&grant.privilege)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        for grant in add {
            sqlx::query("INSERT OR IGNORE INTO uc_grants (securable_id, principal, privilege) VALUES (?, ?, ?)")
                .bind(&grant.securable_id)
                .bind(&grant.principal)
                .bind(&grant.privilege)
                .execute(&mut *tx)
                .await
                .map_err(|e| write_error(e, &format!("grant of {} on {}", grant.privilege, grant.securable_id)))?;
        }
        tx.commit().await.map_err(backend)
    }
}

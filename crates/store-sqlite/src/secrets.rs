//! Secret scopes and their (already encrypted) secrets.

use async_trait::async_trait;
use kiln_store::{SecretRecord, SecretScopeRecord, SecretStore, StoreError, StoreResult};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{SqliteStore, backend, write_error};

fn scope_from_row(row: &SqliteRow) -> StoreResult<SecretScopeRecord> {
    Ok(SecretScopeRecord {
        name: row.try_get("name").map_err(backend)?,
        created_at_ms: row.try_get("created_at_ms").map_err(backend)?,
        created_by: row.try_get("created_by").map_err(backend)?,
    })
}

fn secret_from_row(row: &SqliteRow) -> StoreResult<SecretRecord> {
    Ok(SecretRecord {
        scope: row.try_get("scope").map_err(backend)?,
        key: row.try_get("key").map_err(backend)?,
        nonce: row.try_get("nonce").map_err(backend)?,
        ciphertext: row.try_get("ciphertext").map_err(backend)?,
        updated_at_ms: row.try_get("updated_at_ms").map_err(backend)?,
    })
}

#[async_trait]
impl SecretStore for SqliteStore {
    async fn create_secret_scope(&self, scope: &SecretScopeRecord) -> StoreResult<()> {
        sqlx::query("INSERT INTO secret_scopes (name, created_at_ms, created_by) VALUES (?, ?, ?)")
            .bind(&scope.name)
            .bind(scope.created_at_ms)
            .bind(&scope.created_by)
            .execute(&self.writer)
            .await
            .map_err(|e| write_error(e, &format!("secret scope {}", scope.name)))?;
        Ok(())
    }

    async fn list_secret_scopes(&self) -> StoreResult<Vec<SecretScopeRecord>> {
        let rows = sqlx::query("SELECT name, created_at_ms, created_by FROM secret_scopes ORDER BY name").fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(scope_from_row).collect()
    }

    async fn get_secret_scope(&self, name: &str) -> StoreResult<Option<SecretScopeRecord>> {
        let row = sqlx::query("SELECT name, created_at_ms, created_by FROM secret_scopes WHERE name = ?").bind(name).fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(scope_from_row).transpose()
    }

    async fn delete_secret_scope(&self, name: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM secret_scopes WHERE name = ?").bind(name).execute(&self.writer).await.map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn put_secret(&self, secret: &SecretRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO secrets (scope, key, nonce, ciphertext, updated_at_ms) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (scope, key) DO UPDATE SET nonce = excluded.nonce, ciphertext = excluded.ciphertext, updated_at_ms = excluded.updated_at_ms",
        )
        .bind(&secret.scope)
        .bind(&secret.key)
        .bind(&secret.nonce)
        .bind(&secret.ciphertext)
        .bind(secret.updated_at_ms)
        .execute(&self.writer)
        .await
        .map_err(|e| match write_error(e, &format!("secret scope {}", secret.scope)) {
            StoreError::NotFound(_) => StoreError::NotFound(format!("secret scope {}", secret.scope)),
            other => other,
        })?;
        Ok(())
    }

    async fn get_secret(&self, scope: &str, key: &str) -> StoreResult<Option<SecretRecord>> {
        let row = sqlx::query("SELECT scope, key, nonce, ciphertext, updated_at_ms FROM secrets WHERE scope = ? AND key = ?")
            .bind(scope)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(secret_from_row).transpose()
    }

    async fn list_secrets(&self, scope: &str) -> StoreResult<Vec<SecretRecord>> {
        let rows = sqlx::query("SELECT scope, key, nonce, ciphertext, updated_at_ms FROM secrets WHERE scope = ? ORDER BY key")
            .bind(scope)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(secret_from_row).collect()
    }

    async fn delete_secret(&self, scope: &str, key: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM secrets WHERE scope = ? AND key = ?").bind(scope).bind(key).execute(&self.writer).await.map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }
}

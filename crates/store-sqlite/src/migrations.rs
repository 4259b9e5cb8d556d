//! Embedded, ordered schema migrations. Each runs once, in its own transaction, and is
//! recorded in `_kiln_migrations`.

use sqlx::SqlitePool;
use sqlx::AssertSqlSafe;

use crate::backend;
use kiln_store::StoreResult;

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "foundation", include_str!("../migrations/0001_foundation.sql")),
    (2, "unity catalog", include_str!("../migrations/0002_unity_catalog.sql")),
    (3, "sql warehouses and query history", include_str!("../migrations/0003_sql.sql")),
    (4, "secret scopes and secrets", include_str!("../migrations/0004_secrets.sql")),
    (5, "workspace tree and clusters", include_str!("../migrations/0005_workspace_and_clusters.sql")),
    (6, "jobs and runs", include_str!("../migrations/0006_jobs.sql")),
    (7, "saved sql queries", include_str!("../migrations/0007_saved_queries.sql")),
    (8, "agent policies", include_str!("../migrations/0008_agent_policies.sql")),
];

pub(crate) async fn apply(pool: &SqlitePool) -> StoreResult<()> {
    sqlx::query("CREATE TABLE IF NOT EXISTS _kiln_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)")
        .execute(pool)
        .await
        .map_err(backend)?;
    for (version, description, sql) in MIGRATIONS {
        let mut tx = crate::write_transaction(pool).await?;
        let applied: Option<i64> = sqlx::query_scalar("SELECT version FROM _kiln_migrations WHERE version = ?")
            .bind(version)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        if applied.is_some() {
            continue;
        }
        sqlx::raw_sql(AssertSqlSafe(*sql)).execute(&mut *tx).await.map_err(backend)?;
        let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
        sqlx::query("INSERT INTO _kiln_migrations (version, description, applied_at_ms) VALUES (?, ?, ?)")
            .bind(version)
            .bind(description)
            .bind(now_ms)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        tracing::info!(version, description, "applied metadata migration");
    }
    Ok(())
}

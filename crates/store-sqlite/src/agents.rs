//! Agents' access policies: one row per revision; the latest row of a principal is its
//! current policy, or its removal when the policy column is NULL.

use async_trait::async_trait;
use kiln_store::{AgentPolicyRecord, AgentStore, StoreResult};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{SqliteStore, backend, from_json, to_json, write_error, write_transaction};

fn policy_from_row(row: &SqliteRow) -> StoreResult<AgentPolicyRecord> {
    let policy: Option<String> = row.try_get("policy").map_err(backend)?;
    Ok(AgentPolicyRecord {
        principal_id: row.try_get("principal_id").map_err(backend)?,
        revision: row.try_get("revision").map_err(backend)?,
        policy: policy.as_deref().map(from_json).transpose()?,
        changed_at_ms: row.try_get("changed_at_ms").map_err(backend)?,
        changed_by: row.try_get("changed_by").map_err(backend)?,
    })
}

#[async_trait]
impl AgentStore for SqliteStore {
    async fn put_agent_policy(&self, principal_id: i64, policy: Option<&serde_json::Value>, changed_at_ms: i64, changed_by: &str) -> StoreResult<AgentPolicyRecord> {
        let mut tx = write_transaction(&self.writer).await?;
        let revision: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(revision), 0) + 1 FROM agent_policies WHERE principal_id = ?")
            .bind(principal_id)
            .fetch_one(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query("INSERT INTO agent_policies (principal_id, revision, policy, changed_at_ms, changed_by) VALUES (?, ?, ?, ?, ?)")
            .bind(principal_id)
            .bind(revision)
            .bind(policy.map(to_json))
            .bind(changed_at_ms)
            .bind(changed_by)
            .execute(&mut *tx)
            .await
            .map_err(|e| write_error(e, &format!("the policy of principal {principal_id}")))?;
        tx.commit().await.map_err(backend)?;
        Ok(AgentPolicyRecord { principal_id, revision, policy: policy.cloned(), changed_at_ms, changed_by: changed_by.to_string() })
    }

    async fn get_agent_policy(&self, principal_id: i64) -> StoreResult<Option<AgentPolicyRecord>> {
        let row = sqlx::query("SELECT * FROM agent_policies WHERE principal_id = ? ORDER BY revision DESC LIMIT 1")
            .bind(principal_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        Ok(row.as_ref().map(policy_from_row).transpose()?.filter(|record| record.policy.is_some()))
    }

    async fn get_agent_policy_revision(&self, principal_id: i64, revision: i64) -> StoreResult<Option<AgentPolicyRecord>> {
        let row = sqlx::query("SELECT * FROM agent_policies WHERE principal_id = ? AND revision = ?")
            .bind(principal_id)
            .bind(revision)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(policy_from_row).transpose()
    }

    async fn list_agent_policies(&self) -> StoreResult<Vec<AgentPolicyRecord>> {
        let rows = sqlx::query(
            "SELECT p.* FROM agent_policies p
             WHERE p.revision = (SELECT MAX(revision) FROM agent_policies WHERE principal_id = p.principal_id)
               AND p.policy IS NOT NULL
             ORDER BY p.principal_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(policy_from_row).collect()
    }
}

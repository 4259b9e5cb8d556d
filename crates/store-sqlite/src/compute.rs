//! Clusters and their event logs.

use async_trait::async_trait;
use kiln_store::{ClusterEventFilter, ClusterEventRecord, ClusterRecord, ComputeStore, StoreError, StoreResult};
use sqlx::{AssertSqlSafe, Row};
use sqlx::sqlite::SqliteRow;

use crate::{SqliteStore, backend, from_json, to_json, write_error};

const COLUMNS: &str = "cluster_id, state, state_message, spec, creator_name, cluster_source, pinned, created_at_ms, start_time_ms, \
                       terminated_time_ms, last_restarted_time_ms, last_activity_ms, termination_reason";

fn cluster_from_row(row: &SqliteRow) -> StoreResult<ClusterRecord> {
    let reason: Option<String> = row.try_get("termination_reason").map_err(backend)?;
    Ok(ClusterRecord {
        cluster_id: row.try_get("cluster_id").map_err(backend)?,
        state: row.try_get("state").map_err(backend)?,
        state_message: row.try_get("state_message").map_err(backend)?,
        spec: from_json(row.try_get("spec").map_err(backend)?)?,
        creator_name: row.try_get("creator_name").map_err(backend)?,
        cluster_source: row.try_get("cluster_source").map_err(backend)?,
        pinned: row.try_get("pinned").map_err(backend)?,
        created_at_ms: row.try_get("created_at_ms").map_err(backend)?,
        start_time_ms: row.try_get("start_time_ms").map_err(backend)?,
        terminated_time_ms: row.try_get("terminated_time_ms").map_err(backend)?,
        last_restarted_time_ms: row.try_get("last_restarted_time_ms").map_err(backend)?,
        last_activity_ms: row.try_get("last_activity_ms").map_err(backend)?,
        termination_reason: reason.as_deref().map(from_json).transpose()?,
    })
}

fn event_from_row(row: &SqliteRow) -> StoreResult<ClusterEventRecord> {
    Ok(ClusterEventRecord {
        cluster_id: row.try_get("cluster_id").map_err(backend)?,
        timestamp_ms: row.try_get("timestamp_ms").map_err(backend)?,
        event_type: row.try_get("event_type").map_err(backend)?,
        details: from_json(row.try_get("details").map_err(backend)?)?,
    })
}

/// The WHERE clause of an event listing and its bound values after the cluster id.
fn event_conditions(filter: &ClusterEventFilter) -> (String, Vec<i64>) {
    let mut sql = String::from("cluster_id = ?");
    let mut times = Vec::new();
    if let Some(start) = filter.start_time_ms {
        sql.push_str(" AND timestamp_ms >= ?");
        times.push(start);
    }
    if let Some(end) = filter.end_time_ms {
        sql.push_str(" AND timestamp_ms <= ?");
        times.push(end);
    }
    if !filter.event_types.is_empty() {
        sql.push_str(&format!(" AND event_type IN ({})", vec!["?"; filter.event_types.len()].join(", ")));
    }
    (sql, times)
}

#[async_trait]
impl ComputeStore for SqliteStore {
    async fn insert_cluster(&self, cluster: &ClusterRecord) -> StoreResult<()> {
        sqlx::query(AssertSqlSafe(format!("INSERT INTO clusters ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")))
            .bind(&cluster.cluster_id)
            .bind(&cluster.state)
            .bind(&cluster.state_message)
            .bind(to_json(&cluster.spec))
            .bind(&cluster.creator_name)
            .bind(&cluster.cluster_source)
            .bind(cluster.pinned)
            .bind(cluster.created_at_ms)
            .bind(cluster.start_time_ms)
            .bind(cluster.terminated_time_ms)
            .bind(cluster.last_restarted_time_ms)
            .bind(cluster.last_activity_ms)
            .bind(cluster.termination_reason.as_ref().map(to_json))
            .execute(&self.writer)
            .await
            .map_err(|e| write_error(e, &format!("cluster {}", cluster.cluster_id)))?;
        Ok(())
    }

    async fn get_cluster(&self, cluster_id: &str) -> StoreResult<Option<ClusterRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM clusters WHERE cluster_id = ?"))).bind(cluster_id).fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(cluster_from_row).transpose()
    }

    async fn list_clusters(&self) -> StoreResult<Vec<ClusterRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM clusters ORDER BY created_at_ms, cluster_id"))).fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(cluster_from_row).collect()
    }

    async fn update_cluster(&self, cluster: &ClusterRecord) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE clusters SET state = ?, state_message = ?, spec = ?, creator_name = ?, pinned = ?, start_time_ms = ?, \
             terminated_time_ms = ?, last_restarted_time_ms = ?, last_activity_ms = ?, termination_reason = ? WHERE cluster_id = ?",
        )
        .bind(&cluster.state)
        .bind(&cluster.state_message)
        .bind(to_json(&cluster.spec))
        .bind(&cluster.creator_name)
        .bind(cluster.pinned)
        .bind(cluster.start_time_ms)
        .bind(cluster.terminated_time_ms)
        .bind(cluster.last_restarted_time_ms)
        .bind(cluster.last_activity_ms)
        .bind(cluster.termination_reason.as_ref().map(to_json))
        .bind(&cluster.cluster_id)
        .execute(&self.writer)
        .await
        .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("cluster {}", cluster.cluster_id)));
        }
        Ok(())
    }

    async fn delete_cluster(&self, cluster_id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM clusters WHERE cluster_id = ?").bind(cluster_id).execute(&self.writer).await.map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn append_cluster_event(&self, event: &ClusterEventRecord) -> StoreResult<()> {
        sqlx::query("INSERT INTO cluster_events (cluster_id, timestamp_ms, event_type, details) VALUES (?, ?, ?, ?)")
            .bind(&event.cluster_id)
            .bind(event.timestamp_ms)
            .bind(&event.event_type)
            .bind(to_json(&event.details))
            .execute(&self.writer)
            .await
            .map_err(|e| write_error(e, &format!("event of cluster {}", event.cluster_id)))?;
        Ok(())
    }

    async fn list_cluster_events(&self, cluster_id: &str, filter: &ClusterEventFilter, offset: usize, limit: usize) -> StoreResult<(Vec<ClusterEventRecord>, usize)> {
        let (conditions, times) = event_conditions(filter);
        let order = if filter.newest_first { "DESC" } else { "ASC" };
        let listing = format!("SELECT cluster_id, timestamp_ms, event_type, details FROM cluster_events WHERE {conditions} ORDER BY timestamp_ms {order}, seq {order} LIMIT ? OFFSET ?");
        let counting = format!("SELECT count(*) FROM cluster_events WHERE {conditions}");
        let mut list_query = sqlx::query(AssertSqlSafe(listing)).bind(cluster_id);
        let mut count_query = sqlx::query_scalar::<_, i64>(AssertSqlSafe(counting)).bind(cluster_id);
        for time in &times {
            list_query = list_query.bind(*time);
            count_query = count_query.bind(*time);
        }
        for event_type in &filter.event_types {
            list_query = list_query.bind(event_type);
            count_query = count_query.bind(event_type);
        }
        let rows = list_query.bind(limit as i64).bind(offset as i64).fetch_all(&self.pool).await.map_err(backend)?;
        let total = count_query.fetch_one(&self.pool).await.map_err(backend)?;
        Ok((rows.iter().map(event_from_row).collect::<StoreResult<_>>()?, total as usize))
    }
}

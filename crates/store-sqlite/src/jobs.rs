//! Jobs, runs, run outputs and task values.

use async_trait::async_trait;
use kiln_store::{JobRecord, JobStore, RunFilter, RunRecord, StoreError, StoreResult};
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row};

use crate::{SqliteStore, backend, from_json, to_json, write_error};

const RUN_COLUMNS: &str = "run_id, job_id, parent_run_id, task_key, life_cycle_state, start_time_ms, end_time_ms, idempotency_token, doc";

fn job_from_row(row: &SqliteRow) -> StoreResult<JobRecord> {
    Ok(JobRecord {
        job_id: row.try_get("job_id").map_err(backend)?,
        creator_name: row.try_get("creator_name").map_err(backend)?,
        run_as_name: row.try_get("run_as_name").map_err(backend)?,
        settings: from_json(row.try_get("settings").map_err(backend)?)?,
        created_time_ms: row.try_get("created_time_ms").map_err(backend)?,
    })
}

fn run_from_row(row: &SqliteRow) -> StoreResult<RunRecord> {
    Ok(RunRecord {
        run_id: row.try_get("run_id").map_err(backend)?,
        job_id: row.try_get("job_id").map_err(backend)?,
        parent_run_id: row.try_get("parent_run_id").map_err(backend)?,
        task_key: row.try_get("task_key").map_err(backend)?,
        life_cycle_state: row.try_get("life_cycle_state").map_err(backend)?,
        start_time_ms: row.try_get("start_time_ms").map_err(backend)?,
        end_time_ms: row.try_get("end_time_ms").map_err(backend)?,
        idempotency_token: row.try_get("idempotency_token").map_err(backend)?,
        doc: from_json(row.try_get("doc").map_err(backend)?)?,
    })
}

/// Life cycle states of runs that have not ended.
const ACTIVE_STATES: &str = "('QUEUED', 'PENDING', 'RUNNING', 'TERMINATING', 'BLOCKED', 'WAITING_FOR_RETRY')";

#[async_trait]
impl JobStore for SqliteStore {
    async fn insert_job(&self, job: &JobRecord) -> StoreResult<()> {
        sqlx::query("INSERT INTO jobs (job_id, creator_name, run_as_name, settings, created_time_ms) VALUES (?, ?, ?, ?, ?)")
            .bind(job.job_id)
            .bind(&job.creator_name)
            .bind(&job.run_as_name)
            .bind(to_json(&job.settings))
            .bind(job.created_time_ms)
            .execute(&self.writer)
            .await
            .map_err(|e| write_error(e, &format!("job {}", job.job_id)))?;
        Ok(())
    }

    async fn get_job(&self, job_id: i64) -> StoreResult<Option<JobRecord>> {
        let row = sqlx::query("SELECT * FROM jobs WHERE job_id = ?").bind(job_id).fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(job_from_row).transpose()
    }

    async fn list_jobs(&self) -> StoreResult<Vec<JobRecord>> {
        let rows = sqlx::query("SELECT * FROM jobs ORDER BY job_id").fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(job_from_row).collect()
    }

    async fn update_job(&self, job: &JobRecord) -> StoreResult<()> {
        let done = sqlx::query("UPDATE jobs SET creator_name = ?, run_as_name = ?, settings = ? WHERE job_id = ?")
            .bind(&job.creator_name)
            .bind(&job.run_as_name)
            .bind(to_json(&job.settings))
            .bind(job.job_id)
            .execute(&self.writer)
            .await
            .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("job {}", job.job_id)));
        }
        Ok(())
    }

    async fn delete_job(&self, job_id: i64) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM jobs WHERE job_id = ?").bind(job_id).execute(&self.writer).await.map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_run(&self, run: &RunRecord) -> StoreResult<()> {
        sqlx::query(AssertSqlSafe(format!("INSERT INTO job_runs ({RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")))
            .bind(run.run_id)
            .bind(run.job_id)
            .bind(run.parent_run_id)
            .bind(&run.task_key)
            .bind(&run.life_cycle_state)
            .bind(run.start_time_ms)
            .bind(run.end_time_ms)
            .bind(&run.idempotency_token)
            .bind(to_json(&run.doc))
            .execute(&self.writer)
            .await
            .map_err(|e| write_error(e, &format!("run {}", run.run_id)))?;
        Ok(())
    }

    async fn get_run(&self, run_id: i64) -> StoreResult<Option<RunRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {RUN_COLUMNS} FROM job_runs WHERE run_id = ?"))).bind(run_id).fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(run_from_row).transpose()
    }

    async fn update_run(&self, run: &RunRecord) -> StoreResult<()> {
        let done = sqlx::query("UPDATE job_runs SET life_cycle_state = ?, start_time_ms = ?, end_time_ms = ?, doc = ? WHERE run_id = ?")
            .bind(&run.life_cycle_state)
            .bind(run.start_time_ms)
            .bind(run.end_time_ms)
            .bind(to_json(&run.doc))
            .bind(run.run_id)
            .execute(&self.writer)
            .await
            .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("run {}", run.run_id)));
        }
        Ok(())
    }

    async fn list_runs(&self, filter: &RunFilter, offset: usize, limit: usize) -> StoreResult<Vec<RunRecord>> {
        let mut sql = format!("SELECT {RUN_COLUMNS} FROM job_runs WHERE parent_run_id IS NULL");
        if filter.job_id.is_some() {
            sql.push_str(" AND job_id = ?");
        }
        if filter.active_only {
            sql.push_str(&format!(" AND life_cycle_state IN {ACTIVE_STATES}"));
        }
        if filter.completed_only {
            sql.push_str(&format!(" AND life_cycle_state NOT IN {ACTIVE_STATES}"));
        }
        if filter.start_time_from.is_some() {
            sql.push_str(" AND start_time_ms >= ?");
        }
        if filter.start_time_to.is_some() {
            sql.push_str(" AND start_time_ms <= ?");
        }
        sql.push_str(" ORDER BY start_time_ms DESC, run_id DESC LIMIT ? OFFSET ?");
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for value in [filter.job_id, filter.start_time_from, filter.start_time_to].into_iter().flatten() {
            query = query.bind(value);
        }
        let rows = query.bind(limit as i64).bind(offset as i64).fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(run_from_row).collect()
    }

    async fn list_task_runs(&self, parent_run_id: i64) -> StoreResult<Vec<RunRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!("SELECT {RUN_COLUMNS} FROM job_runs WHERE parent_run_id = ? ORDER BY rowid")))
            .bind(parent_run_id)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(run_from_row).collect()
    }

    async fn find_run_by_token(&self, job_id: Option<i64>, token: &str) -> StoreResult<Option<RunRecord>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {RUN_COLUMNS} FROM job_runs WHERE idempotency_token = ? AND job_id IS ? AND parent_run_id IS NULL")))
            .bind(token)
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(run_from_row).transpose()
    }

    async fn delete_run(&self, run_id: i64) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM job_runs WHERE run_id = ?").bind(run_id).execute(&self.writer).await.map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn put_run_output(&self, run_id: i64, output: &serde_json::Value) -> StoreResult<()> {
        sqlx::query("INSERT INTO job_run_outputs (run_id, output) VALUES (?, ?) ON CONFLICT (run_id) DO UPDATE SET output = excluded.output")
            .bind(run_id)
            .bind(to_json(output))
            .execute(&self.writer)
            .await
            .map_err(|e| write_error(e, &format!("output of run {run_id}")))?;
        Ok(())
    }

    async fn get_run_output(&self, run_id: i64) -> StoreResult<Option<serde_json::Value>> {
        let text: Option<String> = sqlx::query_scalar("SELECT output FROM job_run_outputs WHERE run_id = ?").bind(run_id).fetch_optional(&self.pool).await.map_err(backend)?;
        text.as_deref().map(from_json).transpose()
    }

    async fn put_task_value(&self, run_id: i64, task_key: &str, key: &str, value: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO job_task_values (run_id, task_key, key, value) VALUES (?, ?, ?, ?) ON CONFLICT (run_id, task_key, key) DO UPDATE SET value = excluded.value")
            .bind(run_id)
            .bind(task_key)
            .bind(key)
            .bind(value)
            .execute(&self.writer)
            .await
            .map_err(|e| write_error(e, &format!("task value {key} of run {run_id}")))?;
        Ok(())
    }

    async fn get_task_value(&self, run_id: i64, task_key: &str, key: &str) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT value FROM job_task_values WHERE run_id = ? AND task_key = ? AND key = ?")
            .bind(run_id)
            .bind(task_key)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)
    }
}

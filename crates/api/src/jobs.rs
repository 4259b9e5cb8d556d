//! Jobs 2.0/2.1/2.2 (`/api/2.x/jobs`). Job settings, runs and outputs travel as JSON objects
//! shaped by the service; the request envelopes are typed here.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
pub struct JobIdRequest {
    pub job_id: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CreateJobResponse {
    pub job_id: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ListJobsQuery {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    pub page_token: Option<String>,
    #[serde(default)]
    pub expand_tasks: bool,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListJobsResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub jobs: Vec<Value>,
    pub has_more: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UpdateJobRequest {
    pub job_id: i64,
    #[serde(default)]
    pub new_settings: Value,
    #[serde(default)]
    pub fields_to_remove: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ResetJobRequest {
    pub job_id: i64,
    pub new_settings: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunNowResponse {
    pub run_id: i64,
    pub number_in_job: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SubmitRunResponse {
    pub run_id: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RunIdQuery {
    pub run_id: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ListRunsQuery {
    pub job_id: Option<i64>,
    #[serde(default)]
    pub active_only: bool,
    #[serde(default)]
    pub completed_only: bool,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
    pub page_token: Option<String>,
    pub start_time_from: Option<i64>,
    pub start_time_to: Option<i64>,
    #[serde(default)]
    pub expand_tasks: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListRunsResponse {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<Value>,
    pub has_more: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CancelAllRequest {
    pub job_id: Option<i64>,
    #[serde(default)]
    pub all_queued_runs: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RepairRunRequest {
    pub run_id: i64,
    #[serde(default)]
    pub rerun_tasks: Vec<String>,
    #[serde(default)]
    pub rerun_all_failed_tasks: bool,
    #[serde(default)]
    pub rerun_dependent_tasks: bool,
    /// The repair this one follows, when the run was repaired before.
    #[serde(default)]
    pub latest_repair_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RepairRunResponse {
    pub repair_id: i64,
}

/// `dbutils.jobs.taskValues` from a task's code (Kiln's own route).
#[derive(Debug, Clone, Deserialize)]
pub struct TaskValueRequest {
    pub run_id: i64,
    pub task_key: String,
    pub key: String,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskValueResponse {
    pub value: String,
}

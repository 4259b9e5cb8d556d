//! `/api/2.0/jobs`, `/api/2.1/jobs` and `/api/2.2/jobs` over [`kiln_core::jobs`], and Kiln's
//! route for `dbutils.jobs.taskValues`.

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use kiln_api::jobs::*;
use kiln_api::page::{PageCursor};
use kiln_core::Error;
use kiln_core::jobs::MAX_LIST_LIMIT;
use kiln_store::RunFilter;

use super::{CallerExtractor, empty, start_offset};
use crate::error::ApiError;
use crate::extract::{AppJson, Checked};
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for version in ["2.0", "2.1", "2.2"] {
        let base = format!("/api/{version}/jobs");
        router = router
            .route(&format!("{base}/create"), post(create))
            .route(&format!("{base}/get"), get(get_job))
            .route(&format!("{base}/list"), get(list))
            .route(&format!("{base}/update"), post(update))
            .route(&format!("{base}/reset"), post(reset))
            .route(&format!("{base}/delete"), post(delete))
            .route(&format!("{base}/run-now"), post(run_now))
            .route(&format!("{base}/runs/submit"), post(submit))
            .route(&format!("{base}/runs/get"), get(get_run))
            .route(&format!("{base}/runs/list"), get(list_runs))
            .route(&format!("{base}/runs/cancel"), post(cancel))
            .route(&format!("{base}/runs/cancel-all"), post(cancel_all))
            .route(&format!("{base}/runs/get-output"), get(get_output))
            .route(&format!("{base}/runs/repair"), post(repair))
            .route(&format!("{base}/runs/delete"), post(delete_run))
            .route(&format!("{base}/runs/export"), get(export));
    }
    router.route("/api/2.0/kiln/jobs/task-values", get(get_task_value).post(put_task_value))
}

type Reply<T> = Result<Json<T>, ApiError>;

async fn create(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(settings): AppJson<serde_json::Value>) -> Reply<CreateJobResponse> {
    Ok(Json(CreateJobResponse { job_id: state.jobs.create(&caller, settings).await? }))
}

async fn get_job(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Query(query): Query<JobIdRequest>) -> Reply<serde_json::Value> {
    Ok(Json(state.jobs.get(&caller, query.job_id).await?))
}

fn page_limit(limit: Option<i64>, default: usize) -> Result<usize, ApiError> {
    match limit {
        Some(limit) if !(0..=MAX_LIST_LIMIT as i64).contains(&limit) => Err(Error::invalid(format!("limit must be between 0 and {MAX_LIST_LIMIT}, got {limit}")).into()),
        other => super::page_size("limit", other, default, MAX_LIST_LIMIT),
    }
}

async fn list(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Query(query): Query<ListJobsQuery>) -> Reply<ListJobsResponse> {
    let offset = start_offset(query.page_token.as_deref(), query.offset)?;
    let limit = page_limit(query.limit, 20)?;
    let all = state.jobs.list(&caller, query.name.as_deref(), query.expand_tasks).await?;
    let has_more = all.len() > offset + limit;
    let jobs: Vec<_> = all.into_iter().skip(offset).take(limit).collect();
    let next_page_token = has_more.then(|| PageCursor { offset: offset + limit }.encode());
    Ok(Json(ListJobsResponse { jobs, has_more, next_page_token }))
}

async fn update(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<UpdateJobRequest>) -> Reply<serde_json::Value> {
    state.jobs.update(&caller, request.job_id, &request.new_settings, &request.fields_to_remove).await?;
    Ok(empty())
}

async fn reset(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<ResetJobRequest>) -> Reply<serde_json::Value> {
    state.jobs.reset(&caller, request.job_id, request.new_settings).await?;
    Ok(empty())
}

async fn delete(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<JobIdRequest>) -> Reply<serde_json::Value> {
    state.jobs.delete(&caller, request.job_id).await?;
    Ok(empty())
}

/// The service checks the whole body against the SDK's types, fields this route does not
/// read included.
async fn run_now(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<serde_json::Value>) -> Reply<RunNowResponse> {
    let (run_id, number_in_job) = state.jobs.run_now(&caller, &request).await?;
    Ok(Json(RunNowResponse { run_id, number_in_job }))
}

async fn submit(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(body): AppJson<serde_json::Value>) -> Reply<SubmitRunResponse> {
    Ok(Json(SubmitRunResponse { run_id: state.jobs.submit(&caller, body).await? }))
}

async fn get_run(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Query(query): Query<RunIdQuery>) -> Reply<serde_json::Value> {
    Ok(Json(state.jobs.get_run(&caller, query.run_id).await?))
}

async fn list_runs(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Query(query): Query<ListRunsQuery>) -> Reply<ListRunsResponse> {
    if query.active_only && query.completed_only {
        return Err(Error::invalid("active_only and completed_only cannot both be true").into());
    }
    let offset = start_offset(query.page_token.as_deref(), query.offset)?;
    let limit = page_limit(query.limit, 25)?;
    let filter = RunFilter { job_id: query.job_id, active_only: query.active_only, completed_only: query.completed_only, start_time_from: query.start_time_from, start_time_to: query.start_time_to };
    // One more than a page tells whether there is a next one.
    let mut runs = state.jobs.list_runs(&caller, &filter, offset, limit + 1, query.expand_tasks).await?;
    let has_more = runs.len() > limit;
    runs.truncate(limit);
    let next_page_token = has_more.then(|| PageCursor { offset: offset + limit }.encode());
    Ok(Json(ListRunsResponse { runs, has_more, next_page_token }))
}

async fn cancel(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<RunIdQuery>) -> Reply<serde_json::Value> {
    state.jobs.cancel_run(&caller, request.run_id).await?;
    Ok(empty())
}

async fn cancel_all(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<CancelAllRequest>) -> Reply<serde_json::Value> {
    state.jobs.cancel_all(&caller, request.job_id, request.all_queued_runs).await?;
    Ok(empty())
}

async fn get_output(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Query(query): Query<RunIdQuery>) -> Reply<serde_json::Value> {
    Ok(Json(state.jobs.get_output(&caller, query.run_id).await?))
}

async fn repair(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Checked(request): Checked<RepairRunRequest>) -> Reply<RepairRunResponse> {
    let repair_id = state.jobs.repair(&caller, &request).await?;
    Ok(Json(RepairRunResponse { repair_id }))
}

async fn delete_run(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<RunIdQuery>) -> Reply<serde_json::Value> {
    state.jobs.delete_run(&caller, request.run_id).await?;
    Ok(empty())
}

async fn export(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Query(query): Query<RunIdQuery>) -> Reply<serde_json::Value> {
    Ok(Json(state.jobs.export(&caller, query.run_id).await?))
}

async fn put_task_value(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<TaskValueRequest>) -> Reply<serde_json::Value> {
    let value = request.value.ok_or_else(|| Error::invalid("value is required"))?;
    state.jobs.put_task_value(&caller, request.run_id, &request.task_key, &request.key, &value).await?;
    Ok(empty())
}

async fn get_task_value(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, Query(query): Query<TaskValueRequest>) -> Reply<TaskValueResponse> {
    match state.jobs.get_task_value(&caller, query.run_id, &query.task_key, &query.key).await? {
        Some(value) => Ok(Json(TaskValueResponse { value })),
        None => Err(Error::not_found(format!("No task value {} for task {} in run {}", query.key, query.task_key, query.run_id)).into()),
    }
}

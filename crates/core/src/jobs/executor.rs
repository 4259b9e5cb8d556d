//! Executes a run: its tasks in dependency order (`depends_on`, `run_if`), each as real code
//! on a cluster's driver (notebooks, Python files), on a warehouse (SQL), or in Kiln itself
//! (conditions, other jobs, for-each loops); with task timeouts, retries and the run's timeout.
//! Everything runs as the run's principal (`run_as`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use kiln_store::RunRecord;
use serde_json::{Map, Value, json};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::params::{References, plain, task_value_references};
use super::runs::{self, Outcome};
use super::{Jobs, Trigger};
use crate::clock::now_ms;
use crate::clusters::commands::CommandOutcome;
use crate::clusters::driver::{CANCELLED, CommandSpec, ERROR};
use crate::error::{Error, Result};
use crate::principal::Caller;
use crate::workspace_tree::notebook;

/// Output kept per task run, at most (longer output is cut and marked truncated).
const MAX_OUTPUT_BYTES: usize = 5 * 1024 * 1024;
/// Nesting of `%run` inside notebooks.
const MAX_RUN_DEPTH: usize = 10;
/// Retries of a task that retries forever (`max_retries: -1`), at most.
const UNLIMITED_RETRIES: i64 = 1000;

/// What a run executes: its tasks and clusters, snapshotted when it starts.
pub fn run_spec(settings: &Value) -> Value {
    let mut spec = Map::new();
    for key in ["tasks", "job_clusters", "timeout_seconds", "parameters", "name", "webhook_notifications"] {
        if let Some(value) = settings.get(key).filter(|v| !v.is_null()) {
            spec.insert(key.to_string(), value.clone());
        }
    }
    Value::Object(spec)
}

/// `job_parameters` of a run: each definition with the value this run uses.
pub fn resolved_job_parameters(settings: &Value, overrides: &Map<String, Value>) -> Value {
    let definitions = settings.get("parameters").and_then(Value::as_array).cloned().unwrap_or_default();
    Value::Array(
        definitions
            .iter()
            .filter_map(|p| {
                let name = p.get("name")?.as_str()?;
                let default = p.get("default").cloned().unwrap_or(json!(""));
                let value = overrides.get(name).cloned().unwrap_or_else(|| default.clone());
                Some(json!({"name": name, "default": default, "value": value}))
            })
            .collect(),
    )
}

fn spec_tasks(run: &RunRecord) -> Vec<Value> {
    run.doc.pointer("/spec/tasks").and_then(Value::as_array).cloned().unwrap_or_default()
}

fn task_key(task: &Value) -> String {
    task.get("task_key").and_then(Value::as_str).unwrap_or("").to_string()
}

fn dependencies(task: &Value) -> Vec<(String, Option<String>)> {
    task.get("depends_on")
        .and_then(Value::as_array)
        .map(|deps| deps.iter().filter_map(|d| Some((d.get("task_key")?.as_str()?.to_string(), d.get("outcome").and_then(Value::as_str).map(str::to_string)))).collect())
        .unwrap_or_default()
}

fn new_task_run(parent: &RunRecord, task: &Value, attempt_number: i64, state: &str) -> RunRecord {
    RunRecord {
        run_id: crate::ids::numeric_id(),
        job_id: parent.job_id,
        parent_run_id: Some(parent.run_id),
        task_key: Some(task_key(task)),
        life_cycle_state: state.to_string(),
        start_time_ms: now_ms(),
        end_time_ms: 0,
        idempotency_token: None,
        doc: json!({"spec": task, "attempt_number": attempt_number}),
    }
}

/// One PENDING task run per task of the run.
pub fn create_task_runs(run: &RunRecord) -> Vec<RunRecord> {
    spec_tasks(run).iter().map(|task| new_task_run(run, task, 0, runs::PENDING)).collect()
}

/// The latest attempt of each task, by task key.
pub fn latest_attempts(task_runs: &[RunRecord]) -> HashMap<String, RunRecord> {
    let mut latest: HashMap<String, RunRecord> = HashMap::new();
    for task in task_runs {
        let Some(key) = task.task_key.clone() else { continue };
        let attempt = task.doc.get("attempt_number").and_then(Value::as_i64).unwrap_or(0);
        let newer = latest.get(&key).is_none_or(|seen| seen.doc.get("attempt_number").and_then(Value::as_i64).unwrap_or(0) <= attempt);
        if newer {
            latest.insert(key, task.clone());
        }
    }
    latest
}

/// `keys` and every task that depends on them, directly or not.
pub fn with_dependents(run: &RunRecord, keys: Vec<String>) -> Vec<String> {
    let tasks = spec_tasks(run);
    let mut chosen: HashSet<String> = keys.into_iter().collect();
    loop {
        let before = chosen.len();
        for task in &tasks {
            if dependencies(task).iter().any(|(dep, _)| chosen.contains(dep)) {
                chosen.insert(task_key(task));
            }
        }
        if chosen.len() == before {
            break;
        }
    }
    let mut sorted: Vec<String> = chosen.into_iter().collect();
    sorted.sort();
    sorted
}

/// Whether a task runs given its dependencies' outcomes (`run_if`), or how it is skipped.
fn run_if_decision(task: &Value, outcomes: &HashMap<String, Outcome>, condition_outcomes: &HashMap<String, String>) -> Option<Outcome> {
    let deps = dependencies(task);
    if deps.is_empty() {
        return None;
    }
    // A dependency on a condition task's other branch counts as excluded, not failed.
    let mut succeeded = 0;
    let mut failed = 0;
    let mut canceled = 0;
    for (key, wanted_outcome) in &deps {
        let Some(outcome) = outcomes.get(key) else { continue };
        let branch_mismatch = wanted_outcome.as_ref().is_some_and(|wanted| condition_outcomes.get(key) != Some(wanted));
        // Anything else (excluded, a branch not taken) counts as neither.
        match outcome.result_state {
            "SUCCESS" if !branch_mismatch => succeeded += 1,
            "CANCELED" | "UPSTREAM_CANCELED" => canceled += 1,
            _ if outcome.is_failure() => failed += 1,
            _ => {}
        }
    }
    let total = deps.len();
    let run_if = task.get("run_if").and_then(Value::as_str).unwrap_or("ALL_SUCCESS");
    let runs = match run_if {
        "ALL_SUCCESS" => succeeded == total,
        "AT_LEAST_ONE_SUCCESS" => succeeded > 0,
        "NONE_FAILED" => failed == 0 && canceled == 0,
        "ALL_DONE" => true,
        "AT_LEAST_ONE_FAILED" => failed > 0,
        "ALL_FAILED" => failed == total,
        _ => succeeded == total,
    };
    if runs {
        return None;
    }
    Some(if canceled > 0 {
        Outcome::new("UPSTREAM_CANCELED", "Upstream task(s) were cancelled")
    } else if failed > 0 && matches!(run_if, "ALL_SUCCESS" | "AT_LEAST_ONE_SUCCESS" | "NONE_FAILED") {
        Outcome::new("UPSTREAM_FAILED", "Upstream task(s) failed")
    } else {
        Outcome::new("EXCLUDED", format!("Excluded: the run_if condition {run_if} is not met"))
    })
}

/// The clusters a run created for itself, ended with the run.
#[derive(Debug, Default)]
struct RunClusters {
    by_key: HashMap<String, String>,
    created: Vec<String>,
}

/// What every task of one run shares.
#[derive(Debug)]
struct RunContext {
    jobs: Jobs,
    run: RunRecord,
    caller: Caller,
    clusters: tokio::sync::Mutex<RunClusters>,
    cancel: watch::Receiver<bool>,
    notebook_params: Map<String, Value>,
    python_params: Option<Vec<String>>,
}

pub(super) async fn execute_run(jobs: &Jobs, run_id: i64, rerun: Option<Vec<String>>, user_cancel: watch::Receiver<bool>) -> Result<()> {
    let mut run = jobs.store.get_run(run_id).await?.ok_or_else(|| super::run_missing(run_id))?;
    let run_as = run.doc.get("run_as").and_then(Value::as_str).unwrap_or_default().to_string();
    let principal = jobs.store.find_principal_by_name(&run_as).await?.ok_or_else(|| Error::invalid(format!("run_as principal {run_as} no longer exists")))?;
    let principal = jobs.principals.load(principal.id).await?.ok_or_else(|| Error::invalid(format!("run_as principal {run_as} no longer exists")))?;
    let caller = Caller { principal: Arc::new(principal), request_id: format!("run-{run_id}") };

    run.life_cycle_state = runs::RUNNING.to_string();
    runs::doc_mut(&mut run).insert("execution_start_ms".to_string(), json!(now_ms()));
    jobs.store.update_run(&run).await?;
    jobs.notify(&run, "on_start", None);

    let tasks = spec_tasks(&run);
    let mut latest = latest_attempts(&jobs.store.list_task_runs(run_id).await?);
    let mut outcomes: HashMap<String, Outcome> = HashMap::new();
    let mut condition_outcomes: HashMap<String, String> = HashMap::new();
    if let Some(rerun) = &rerun {
        // A repair keeps what the tasks it does not rerun did, and starts new attempts.
        for task in &tasks {
            let key = task_key(task);
            let Some(previous) = latest.get(&key).cloned() else { continue };
            if rerun.contains(&key) {
                let attempt = previous.doc.get("attempt_number").and_then(Value::as_i64).unwrap_or(0) + 1;
                let fresh = new_task_run(&run, task, attempt, runs::PENDING);
                jobs.store.insert_run(&fresh).await?;
                latest.insert(key, fresh);
            } else if let Some(outcome) = runs::outcome_of(&previous) {
                if let Some(branch) = previous.doc.pointer("/condition_task/outcome").and_then(Value::as_str) {
                    condition_outcomes.insert(key.clone(), branch.to_string());
                }
                outcomes.insert(key, outcome);
            }
        }
    }

    let (cancel_all, cancel) = watch::channel(false);
    let trigger = &run.doc;
    let context = Arc::new(RunContext {
        jobs: jobs.clone(),
        notebook_params: trigger.pointer("/overriding_parameters/notebook_params").and_then(Value::as_object).cloned().unwrap_or_default(),
        python_params: trigger.pointer("/overriding_parameters/python_params").and_then(Value::as_array).map(|ps| ps.iter().map(plain).collect()),
        run: run.clone(),
        caller,
        clusters: tokio::sync::Mutex::default(),
        cancel,
    });
    // A timeout too far away to reach (from a row an older version stored) is no timeout.
    let timeout = run.doc.pointer("/spec/timeout_seconds").and_then(Value::as_i64).filter(|t| *t > 0).and_then(|t| tokio::time::Instant::now().checked_add(Duration::from_secs(t as u64)));
    let mut user_cancel = user_cancel;
    let mut running: JoinSet<(String, Outcome, Option<String>)> = JoinSet::new();
    let mut started: HashSet<String> = outcomes.keys().cloned().collect();
    let mut stop_reason: Option<Outcome> = None;
    loop {
        // Start (or skip) every task whose dependencies have all ended.
        for task in &tasks {
            let key = task_key(task);
            if started.contains(&key) || !dependencies(task).iter().all(|(dep, _)| outcomes.contains_key(dep)) {
                continue;
            }
            started.insert(key.clone());
            let Some(record) = latest.get(&key).cloned() else { continue };
            let skip = match &stop_reason {
                Some(_) => Some(Outcome::new("CANCELED", "The run was cancelled before this task started")),
                None => run_if_decision(task, &outcomes, &condition_outcomes),
            };
            if let Some(skip) = skip {
                let mut record = record;
                runs::set_state(&mut record, skip.life_cycle_state(), Some(&skip), now_ms());
                jobs.store.update_run(&record).await?;
                outcomes.insert(key, skip);
                continue;
            }
            let context = context.clone();
            let task = task.clone();
            running.spawn(async move {
                let fallback = record.clone();
                match crate::panics::catch_panic(run_task(&context, &task, record)).await {
                    Ok((outcome, branch)) => (task_key(&task), outcome, branch),
                    Err(panic) => (task_key(&task), task_crashed(&context, fallback, &panic).await, None),
                }
            });
        }
        // Nothing runs, so nothing more can start: every task has ended or been skipped.
        if running.is_empty() {
            break;
        }
        let deadline = async {
            match timeout {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            joined = running.join_next() => {
                if let Some(Ok((key, outcome, branch))) = joined {
                    if let Some(branch) = branch {
                        condition_outcomes.insert(key.clone(), branch);
                    }
                    outcomes.insert(key, outcome);
                }
            }
            changed = user_cancel.changed(), if stop_reason.is_none() => {
                if changed.is_err() || *user_cancel.borrow() {
                    stop_reason = Some(Outcome::new("CANCELED", "Run cancelled by a user"));
                    let _ = cancel_all.send(true);
                }
            }
            _ = deadline, if stop_reason.is_none() => {
                stop_reason = Some(Outcome::new("TIMEDOUT", "The run exceeded its timeout_seconds"));
                let _ = cancel_all.send(true);
            }
        }
    }
    let created = std::mem::take(&mut context.clusters.lock().await.created);
    for cluster_id in created {
        if let Err(error) = jobs.clusters.terminate_for_job(&cluster_id).await {
            tracing::warn!(%cluster_id, %error, "terminating a job cluster failed");
        }
    }
    let outcome = stop_reason.unwrap_or_else(|| overall_outcome(&tasks, &outcomes));
    let mut run = jobs.store.get_run(run_id).await?.ok_or_else(|| super::run_missing(run_id))?;
    let now = now_ms();
    if let Some(history) = runs::doc_mut(&mut run).get_mut("repair_history").and_then(Value::as_array_mut)
        && let Some(last) = history.last_mut()
    {
        last["end_time"] = json!(now);
        last["state"] = json!({"life_cycle_state": runs::TERMINATED, "result_state": outcome.result_state});
    }
    runs::set_state(&mut run, runs::TERMINATED, Some(&outcome), now);
    if rerun.is_some() {
        run.end_time_ms = now;
    }
    jobs.store.update_run(&run).await?;
    let event = if outcome.is_success() { "on_success" } else { "on_failure" };
    jobs.notify(&run, event, Some(outcome.result_state));
    Ok(())
}

/// A task whose execution panicked: its task run ends INTERNAL_ERROR with the reason, and
/// the run goes on as after a failed task.
async fn task_crashed(context: &RunContext, mut record: RunRecord, panic: &str) -> Outcome {
    let outcome = Outcome::new("FAILED", format!("Kiln failed while running this task: {panic}"));
    tracing::error!(run_id = record.run_id, %panic, "a task panicked");
    runs::set_state(&mut record, runs::INTERNAL_ERROR, Some(&outcome), now_ms());
    if let Err(error) = context.jobs.store.update_run(&record).await {
        tracing::error!(run_id = record.run_id, %error, "recording a task's failure failed");
    }
    outcome
}

/// The run's result from its tasks': a failure in a task every path ends at fails the run;
/// failures the leaf tasks recovered from give SUCCESS_WITH_FAILURES.
fn overall_outcome(tasks: &[Value], outcomes: &HashMap<String, Outcome>) -> Outcome {
    let failed: Vec<(&String, &Outcome)> = outcomes.iter().filter(|(_, o)| o.is_failure() || o.result_state == "CANCELED").collect();
    if failed.is_empty() {
        return Outcome::success();
    }
    let depended_on: HashSet<String> = tasks.iter().flat_map(|t| dependencies(t).into_iter().map(|(k, _)| k)).collect();
    let leaves_ok = tasks.iter().map(task_key).filter(|k| !depended_on.contains(k)).all(|k| outcomes.get(&k).is_some_and(|o| o.is_success() || o.result_state == "EXCLUDED"));
    if leaves_ok {
        return Outcome::new("SUCCESS_WITH_FAILURES", "Some tasks failed; the run's final tasks succeeded");
    }
    let mut names: Vec<&str> = failed.iter().map(|(k, _)| k.as_str()).collect();
    names.sort();
    let first = failed.iter().find(|(k, _)| k.as_str() == names[0]).map(|(_, o)| o.message.clone()).unwrap_or_default();
    let result_state = if failed.iter().all(|(_, o)| o.result_state == "CANCELED") { "CANCELED" } else { "FAILED" };
    Outcome::new(result_state, format!("Task {} failed with message: {first}", names.join(", ")))
}

/// Runs one task with its retries; answers its final outcome and, for a condition task,
/// the branch taken.
async fn run_task(context: &RunContext, task: &Value, mut record: RunRecord) -> (Outcome, Option<String>) {
    let max_retries = match task.get("max_retries").and_then(Value::as_i64).unwrap_or(0) {
        -1 => UNLIMITED_RETRIES,
        n => n.max(0),
    };
    let interval = Duration::from_millis(task.get("min_retry_interval_millis").and_then(Value::as_i64).unwrap_or(0).max(0) as u64);
    let retry_on_timeout = task.get("retry_on_timeout").and_then(Value::as_bool).unwrap_or(false);
    let mut attempt = record.doc.get("attempt_number").and_then(Value::as_i64).unwrap_or(0);
    let first_attempt = attempt;
    loop {
        let (outcome, branch) = match run_attempt(context, task, &mut record).await {
            Ok(result) => result,
            Err(error) => (Outcome::new("INTERNAL_ERROR", error.message), None),
        };
        let cancelled = *context.cancel.borrow();
        let retryable = outcome.result_state == "FAILED" || (outcome.result_state == "TIMEDOUT" && retry_on_timeout);
        if !retryable || cancelled || attempt - first_attempt >= max_retries {
            return (outcome, branch);
        }
        attempt += 1;
        let mut next = new_task_run(&context.run, task, attempt, runs::WAITING_FOR_RETRY);
        if context.jobs.store.insert_run(&next).await.is_err() {
            return (outcome, branch);
        }
        let mut cancel = context.cancel.clone();
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = cancel.changed() => {}
        }
        if *context.cancel.borrow() {
            let skipped = Outcome::new("CANCELED", "The run was cancelled before this retry started");
            runs::set_state(&mut next, runs::TERMINATED, Some(&skipped), now_ms());
            let _ = context.jobs.store.update_run(&next).await;
            return (skipped, None);
        }
        runs::doc_mut(&mut next).insert("trigger".to_string(), json!("RETRY"));
        record = next;
    }
}

/// One attempt: RUNNING, the work, then the outcome and output stored.
async fn run_attempt(context: &RunContext, task: &Value, record: &mut RunRecord) -> Result<(Outcome, Option<String>)> {
    let jobs = &context.jobs;
    record.life_cycle_state = runs::RUNNING.to_string();
    record.start_time_ms = now_ms();
    runs::doc_mut(record).insert("execution_start_ms".to_string(), json!(now_ms()));
    jobs.store.update_run(record).await?;
    let references = references_for(context, task, record).await?;
    let task = references.substitute_json(task);
    let timeout = task.get("timeout_seconds").and_then(Value::as_i64).filter(|t| *t > 0).map(|t| Duration::from_secs(t as u64));
    let (outcome, output, branch) = match execute_task(context, &task, record, timeout).await {
        Ok(done) => done,
        Err(error) => (Outcome::new("FAILED", error.message.clone()), json!({"error": error.message}), None),
    };
    if let Some(branch) = &branch {
        let mut condition = task.get("condition_task").cloned().unwrap_or_else(|| json!({}));
        condition["outcome"] = json!(branch);
        runs::doc_mut(record).insert("condition_task".to_string(), condition);
    }
    jobs.store.put_run_output(record.run_id, &output).await?;
    runs::set_state(record, outcome.life_cycle_state(), Some(&outcome), now_ms());
    jobs.store.update_run(record).await?;
    Ok((outcome, branch))
}

/// The values `{{...}}` references in this task resolve to.
async fn references_for(context: &RunContext, task: &Value, record: &RunRecord) -> Result<References> {
    let run = &context.run;
    let mut references = References::default();
    references.set("job.run_id", run.run_id.to_string());
    references.set("run_id", run.run_id.to_string());
    references.set("job.name", run.doc.get("run_name").and_then(Value::as_str).unwrap_or(""));
    if let Some(job_id) = run.job_id {
        references.set("job.id", job_id.to_string());
    }
    references.set("job.trigger.type", run.doc.get("trigger").and_then(Value::as_str).unwrap_or("ONE_TIME"));
    references.set("job.start_time.timestamp", run.start_time_ms.to_string());
    references.set("task.name", task_key(task));
    references.set("task.run_id", record.run_id.to_string());
    for parameter in run.doc.get("job_parameters").and_then(Value::as_array).into_iter().flatten() {
        if let (Some(name), Some(value)) = (parameter.get("name").and_then(Value::as_str), parameter.get("value")) {
            references.set(&format!("job.parameters.{name}"), plain(value));
        }
    }
    if let Some(input) = record.doc.get("input") {
        references.set_input(input);
    }
    for (task_key, key) in task_value_references(&task.to_string()) {
        if let Some(value) = context.jobs.store.get_task_value(run.run_id, &task_key, &key).await? {
            let parsed: Value = serde_json::from_str(&value).unwrap_or(Value::String(value));
            references.set(&format!("tasks.{task_key}.values.{key}"), plain(&parsed));
        }
    }
    Ok(references)
}

type TaskResult = (Outcome, Value, Option<String>);

async fn execute_task(context: &RunContext, task: &Value, record: &mut RunRecord, timeout: Option<Duration>) -> Result<TaskResult> {
    match super::settings::task_type(task.as_object().ok_or_else(|| Error::invalid("a task must be an object"))?) {
        Some("notebook_task") => notebook_task(context, task, record, timeout).await,
        Some("spark_python_task") => python_task(context, task, record, timeout).await,
        Some("sql_task") => sql_task(context, task).await,
        Some("condition_task") => condition_task(task),
        Some("run_job_task") => run_job_task(context, task, record).await,
        Some("for_each_task") => Box::pin(for_each_task(context, task, record)).await,
        _ => Err(Error::invalid(format!("task {} has no task type Kiln runs", task_key(task)))),
    }
}

/// The cluster a task runs on, started if need be: its `existing_cluster_id`, its job
/// cluster, its own `new_cluster`, or else one cluster the run creates for such tasks.
async fn cluster_for(context: &RunContext, task: &Value, record: &mut RunRecord) -> Result<String> {
    let cluster_id = acquire_cluster(context, task).await?;
    runs::doc_mut(record).insert("cluster_instance".to_string(), json!({"cluster_id": cluster_id}));
    context.jobs.store.update_run(record).await?;
    Ok(cluster_id)
}

async fn acquire_cluster(context: &RunContext, task: &Value) -> Result<String> {
    let clusters = &context.jobs.clusters;
    if let Some(id) = task.get("existing_cluster_id").and_then(Value::as_str) {
        clusters.ensure_running(&context.caller, id).await?;
        return Ok(id.to_string());
    }
    let (key, spec) = match (task.get("job_cluster_key").and_then(Value::as_str), task.get("new_cluster")) {
        (Some(key), _) => {
            let spec = context.run.doc.pointer("/spec/job_clusters").and_then(Value::as_array).and_then(|all| all.iter().find(|c| c.get("job_cluster_key").and_then(Value::as_str) == Some(key))).and_then(|c| c.get("new_cluster")).cloned();
            (Some(format!("job:{key}")), spec.ok_or_else(|| Error::invalid(format!("job cluster {key} is not defined")))?)
        }
        (None, Some(spec)) if !spec.is_null() => (None, spec.clone()),
        _ => (Some("default".to_string()), json!({"spark_version": crate::clusters::spec::SPARK_VERSIONS[1].0, "num_workers": 0})),
    };
    let cluster_id = {
        let mut run_clusters = context.clusters.lock().await;
        match key.as_ref().and_then(|k| run_clusters.by_key.get(k)) {
            Some(existing) => existing.clone(),
            None => {
                let mut spec = spec;
                if let Some(map) = spec.as_object_mut() {
                    map.entry("cluster_name").or_insert(json!(format!("job-{}-run-{}", context.run.job_id.unwrap_or(0), context.run.run_id)));
                }
                let created = clusters.create_for_job(&context.caller, &spec).await?;
                run_clusters.created.push(created.clone());
                if let Some(key) = key {
                    run_clusters.by_key.insert(key, created.clone());
                }
                created
            }
        }
    };
    clusters.ensure_running(&context.caller, &cluster_id).await?;
    Ok(cluster_id)
}

fn task_info(context: &RunContext, record: &RunRecord, notebook_path: Option<&str>) -> Value {
    json!({
        "job_id": context.run.job_id,
        "run_id": context.run.run_id,
        "task_run_id": record.run_id,
        "task_key": record.task_key,
        "notebook_path": notebook_path,
    })
}

/// Cuts text to the output limit; answers it and whether it was cut.
fn truncated(text: &str) -> (String, bool) {
    if text.len() <= MAX_OUTPUT_BYTES {
        return (text.to_string(), false);
    }
    let mut end = MAX_OUTPUT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (text[..end].to_string(), true)
}

/// A command's outcome as a task's: the error of an error result, TIMEDOUT, CANCELED.
fn command_result(outcome: &CommandOutcome, timeout: Option<Duration>) -> (Outcome, Map<String, Value>) {
    let mut output = Map::new();
    let results = outcome.results.clone().unwrap_or(Value::Null);
    let result_type = results.get("resultType").and_then(Value::as_str).unwrap_or("");
    if outcome.timed_out {
        let seconds = timeout.map(|t| t.as_secs()).unwrap_or(0);
        let message = format!("Task timed out after {seconds} seconds");
        output.insert("error".to_string(), json!(message));
        return (Outcome::new("TIMEDOUT", message), output);
    }
    if outcome.status == CANCELLED {
        output.insert("error".to_string(), json!("Run cancelled"));
        return (Outcome::new("CANCELED", "Run cancelled"), output);
    }
    if outcome.status == ERROR || result_type == "error" {
        let summary = results.get("summary").and_then(Value::as_str).unwrap_or("the command failed").to_string();
        output.insert("error".to_string(), json!(summary));
        if let Some(cause) = results.get("cause").and_then(Value::as_str).filter(|c| !c.is_empty()) {
            output.insert("error_trace".to_string(), json!(cause));
        }
        return (Outcome::new("FAILED", summary), output);
    }
    (Outcome::success(), output)
}

async fn notebook_task(context: &RunContext, task: &Value, record: &mut RunRecord, timeout: Option<Duration>) -> Result<TaskResult> {
    let spec = &task["notebook_task"];
    let path = spec.get("notebook_path").and_then(Value::as_str).unwrap_or_default();
    let cells = notebook_cells(context, path, 0).await?;
    let mut widgets: Map<String, Value> = spec.get("base_parameters").and_then(Value::as_object).cloned().unwrap_or_default();
    for parameter in context.run.doc.get("job_parameters").and_then(Value::as_array).into_iter().flatten() {
        if let (Some(name), Some(value)) = (parameter.get("name").and_then(Value::as_str), parameter.get("value")) {
            widgets.insert(name.to_string(), json!(plain(value)));
        }
    }
    widgets.extend(context.notebook_params.iter().map(|(k, v)| (k.clone(), json!(plain(v)))));
    if let Some(warehouse_id) = spec.get("warehouse_id").and_then(Value::as_str) {
        return sql_notebook(context, warehouse_id, &cells, &widgets).await;
    }
    let cluster_id = cluster_for(context, task, record).await?;
    let command = CommandSpec {
        language: "python".to_string(),
        cells,
        widgets,
        task: Some(task_info(context, record, Some(path))),
        ..CommandSpec::default()
    };
    let outcome = context.jobs.clusters.run_to_completion(&context.caller, &cluster_id, &command, context.cancel.clone(), timeout).await?;
    let (result, mut output) = command_result(&outcome, timeout);
    if result.is_success() {
        let (text, cut) = truncated(outcome.exit_value.as_deref().unwrap_or(""));
        let mut notebook_output = json!({"truncated": cut});
        if outcome.exit_value.is_some() {
            notebook_output["result"] = json!(text);
        }
        output.insert("notebook_output".to_string(), notebook_output);
    }
    Ok((result, Value::Object(output), None))
}

/// A notebook's cells as `(language, code)`: magics become their language, `%md` cells are
/// left out, `%run` pulls in the other notebook's cells, `%sh` runs as a shell command.
async fn notebook_cells(context: &RunContext, path: &str, depth: usize) -> Result<Vec<(String, String)>> {
    if depth > MAX_RUN_DEPTH {
        return Err(Error::invalid(format!("%run nests deeper than {MAX_RUN_DEPTH} notebooks at {path}")));
    }
    let source = context.jobs.workspace_tree.read_notebook(&context.caller, path).await?;
    let default_language = match source.language {
        notebook::Language::Python => "python",
        notebook::Language::Sql => "sql",
        other => return Err(Error::invalid(format!("{path} is a {} notebook; Kiln runs Python and SQL notebooks", other.as_str()))),
    };
    let mut cells = Vec::new();
    for cell in notebook::cells(source.language, &source.source) {
        match cell.magic.as_deref() {
            None => cells.push((default_language.to_string(), cell.code)),
            Some("python" | "py") => cells.push(("python".to_string(), cell.code)),
            Some("sql") => cells.push(("sql".to_string(), cell.code)),
            Some("md" | "md-sandbox") => {}
            Some("run") => {
                let target = cell.code.split_whitespace().next().unwrap_or("");
                let resolved = resolve_relative(&source.path, target)?;
                cells.extend(Box::pin(notebook_cells(context, &resolved, depth + 1)).await?);
            }
            Some("sh") => {
                let script = serde_json::to_string(&cell.code).unwrap_or_default();
                cells.push((
                    "python".to_string(),
                    format!(
                        "import subprocess as _kiln_sp, sys as _kiln_sys\n_kiln_r = _kiln_sp.run({script}, shell=True, capture_output=True, text=True)\nprint(_kiln_r.stdout, end='')\nprint(_kiln_r.stderr, end='', file=_kiln_sys.stderr)\nif _kiln_r.returncode:\n    raise RuntimeError(f'%sh exited with status {{_kiln_r.returncode}}')"
                    ),
                ));
            }
            Some(other) => return Err(Error::invalid(format!("{path} has a %{other} cell; Kiln runs python, sql, md, sh and run cells"))),
        }
    }
    Ok(cells)
}

/// `./x`, `../x` or `x` against the folder of `from`; absolute paths stay.
fn resolve_relative(from: &str, target: &str) -> Result<String> {
    if target.is_empty() {
        return Err(Error::invalid(format!("%run in {from} names no notebook")));
    }
    if target.starts_with('/') {
        return Ok(target.to_string());
    }
    let mut parts: Vec<&str> = from.split('/').filter(|p| !p.is_empty()).collect();
    parts.pop();
    for segment in target.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

async fn sql_notebook(context: &RunContext, warehouse_id: &str, cells: &[(String, String)], widgets: &Map<String, Value>) -> Result<TaskResult> {
    let parameters: Vec<(String, String)> = widgets.iter().map(|(k, v)| (k.clone(), plain(v))).collect();
    let mut statements = Vec::new();
    for (language, code) in cells {
        if language != "sql" {
            return Err(Error::invalid(format!("a notebook run on SQL warehouse {warehouse_id} can only have SQL cells; it has a {language} cell")));
        }
        statements.extend(split_statements(code));
    }
    run_statements(context, warehouse_id, &statements, &parameters, Place::default(), json!({})).await
}

async fn python_task(context: &RunContext, task: &Value, record: &mut RunRecord, timeout: Option<Duration>) -> Result<TaskResult> {
    let spec = &task["spark_python_task"];
    let file = spec.get("python_file").and_then(Value::as_str).unwrap_or_default();
    let code = read_code_file(context, file).await?;
    let argv = context.python_params.clone().unwrap_or_else(|| spec.get("parameters").and_then(Value::as_array).map(|ps| ps.iter().map(plain).collect()).unwrap_or_default());
    let cluster_id = cluster_for(context, task, record).await?;
    let command = CommandSpec { language: "python".to_string(), cells: vec![("python".to_string(), code)], argv: Some(argv), task: Some(task_info(context, record, None)), ..CommandSpec::default() };
    let outcome = context.jobs.clusters.run_to_completion(&context.caller, &cluster_id, &command, context.cancel.clone(), timeout).await?;
    let (result, mut output) = command_result(&outcome, timeout);
    if let Some(text) = outcome.results.as_ref().filter(|r| r.get("resultType").and_then(Value::as_str) == Some("text")).and_then(|r| r.get("data")).and_then(Value::as_str) {
        let (logs, cut) = truncated(text);
        output.insert("logs".to_string(), json!(logs));
        output.insert("logs_truncated".to_string(), json!(cut));
    }
    Ok((result, Value::Object(output), None))
}

/// The text of a task's code file: `dbfs:/...`, `/Volumes/...`, or a workspace file.
async fn read_code_file(context: &RunContext, path: &str) -> Result<String> {
    let bytes = if let Some(rest) = path.strip_prefix("dbfs:") {
        if rest.starts_with("/Volumes/") {
            read_volume_file(context, rest).await?
        } else {
            let status = context.jobs.dbfs.get_status(path).await?;
            context.jobs.dbfs.read(path, 0, status.file_size as usize).await?
        }
    } else if path.starts_with("/Volumes/") {
        read_volume_file(context, path).await?
    } else {
        context.jobs.workspace_tree.read_file(&context.caller, path).await?
    };
    String::from_utf8(bytes).map_err(|_| Error::invalid(format!("{path} is not UTF-8 text")))
}

async fn read_volume_file(context: &RunContext, path: &str) -> Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let (mut file, meta) = context.jobs.files.open(&context.caller, path).await?;
    let mut bytes = Vec::with_capacity(meta.size as usize);
    file.read_to_end(&mut bytes).await.map_err(|e| Error::internal(format!("cannot read {path}: {e}")))?;
    Ok(bytes)
}

async fn sql_task(context: &RunContext, task: &Value) -> Result<TaskResult> {
    let spec = &task["sql_task"];
    let warehouse_id = spec.get("warehouse_id").and_then(Value::as_str).unwrap_or_default();
    let parameters: Vec<(String, String)> = spec.get("parameters").and_then(Value::as_object).map(|ps| ps.iter().map(|(k, v)| (k.clone(), plain(v))).collect()).unwrap_or_default();
    if let Some(query_id) = spec.pointer("/query/query_id").and_then(Value::as_str) {
        let saved = context.jobs.queries.record(&context.caller, query_id).await?;
        let text = saved.spec.get("query_text").and_then(Value::as_str).unwrap_or_default();
        let place = Place { catalog: saved.spec.get("catalog").and_then(Value::as_str), schema: saved.spec.get("schema").and_then(Value::as_str) };
        return run_statements(context, warehouse_id, &split_statements(text), &parameters, place, json!({"query_text": text})).await;
    }
    let path = spec.pointer("/file/path").and_then(Value::as_str).unwrap_or_default();
    let text = read_code_file(context, path).await?;
    let statements = split_statements(&text);
    run_statements(context, warehouse_id, &statements, &parameters, Place::default(), json!({"file": {"path": path}})).await
}

/// The catalog and schema statements run in; `None` for the defaults.
#[derive(Debug, Clone, Copy, Default)]
struct Place<'a> {
    catalog: Option<&'a str>,
    schema: Option<&'a str>,
}

async fn run_statements(context: &RunContext, warehouse_id: &str, statements: &[String], parameters: &[(String, String)], place: Place<'_>, query: Value) -> Result<TaskResult> {
    let mut last = super::SqlRows::default();
    for (index, statement) in statements.iter().enumerate() {
        match context.jobs.sql.run(&context.caller, warehouse_id, statement, parameters, place.catalog, place.schema).await {
            Ok(rows) => last = rows,
            Err(error) => {
                let message = format!("statement {} failed: {}", index + 1, error.message);
                return Ok((Outcome::new("FAILED", message.clone()), json!({"error": message, "sql_output": {"query_output": {"warehouse_id": warehouse_id}}}), None));
            }
        }
    }
    let mut table = last.columns.join("\t");
    for row in &last.rows {
        table.push('\n');
        table.push_str(&row.iter().map(|v| v.clone().unwrap_or_else(|| "NULL".to_string())).collect::<Vec<_>>().join("\t"));
    }
    let (logs, cut) = truncated(&table);
    let mut query_output = json!({"warehouse_id": warehouse_id, "sql_statements": statements.iter().enumerate().map(|(i, _)| json!({"lookup_key": format!("statement-{i}")})).collect::<Vec<_>>()});
    if let Some(map) = query.as_object() {
        for (key, value) in map {
            query_output[key] = value.clone();
        }
    }
    Ok((Outcome::success(), json!({"sql_output": {"query_output": query_output}, "logs": logs, "logs_truncated": cut}), None))
}

/// Splits SQL text into statements at `;` outside quotes and comments.
fn split_statements(text: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                current.push(c);
                if c == '\\' {
                    if let Some(next) = chars.next() {
                        current.push(next);
                    }
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' | '`' => {
                    quote = Some(c);
                    current.push(c);
                }
                '-' if chars.peek() == Some(&'-') => {
                    for skipped in chars.by_ref() {
                        if skipped == '\n' {
                            current.push('\n');
                            break;
                        }
                    }
                }
                ';' => statements.push(std::mem::take(&mut current)),
                _ => current.push(c),
            },
        }
    }
    statements.push(current);
    statements.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}

fn condition_task(task: &Value) -> Result<TaskResult> {
    let spec = &task["condition_task"];
    let op = spec.get("op").and_then(Value::as_str).unwrap_or("EQUAL_TO");
    let left = spec.get("left").and_then(Value::as_str).unwrap_or("");
    let right = spec.get("right").and_then(Value::as_str).unwrap_or("");
    let result = match op {
        "EQUAL_TO" => left == right,
        "NOT_EQUAL" => left != right,
        _ => {
            let number = |side: &str, text: &str| text.trim().parse::<f64>().map_err(|_| Error::invalid(format!("condition_task.{side} '{text}' is not a number, which {op} compares")));
            let (l, r) = (number("left", left)?, number("right", right)?);
            match op {
                "GREATER_THAN" => l > r,
                "GREATER_THAN_OR_EQUAL" => l >= r,
                "LESS_THAN" => l < r,
                _ => l <= r,
            }
        }
    };
    Ok((Outcome::success(), json!({}), Some(result.to_string())))
}

/// Deepest chain of runs started by `run_job_task`s.
const MAX_RUN_JOB_DEPTH: i64 = 10;

async fn run_job_task(context: &RunContext, task: &Value, record: &mut RunRecord) -> Result<TaskResult> {
    let spec = &task["run_job_task"];
    let job_id = spec.get("job_id").and_then(Value::as_i64).unwrap_or_default();
    let job = context.jobs.authorized_job(&context.caller, "jobs.runNow", job_id, "CAN_MANAGE_RUN").await?;
    let job_parameters = spec.get("job_parameters").and_then(Value::as_object).cloned().unwrap_or_default();
    // A job that runs itself (or a cycle of jobs) would start runs without end.
    let run_job_depth = context.run.doc.get("run_job_depth").and_then(Value::as_i64).unwrap_or(0) + 1;
    if run_job_depth > MAX_RUN_JOB_DEPTH {
        return Err(Error::invalid(format!("run_job_task nests runs more than {MAX_RUN_JOB_DEPTH} deep: does job {job_id} run itself?")));
    }
    let trigger = Trigger { kind: "RUN_JOB_TASK".to_string(), job_parameters, run_job_depth, ..Trigger::default() };
    let (child_id, _) = context.jobs.start_job_run(&job, context.caller.name(), trigger).await?;
    runs::doc_mut(record).insert("run_job_output".to_string(), json!({"run_id": child_id}));
    context.jobs.store.update_run(record).await?;
    let mut cancel = context.cancel.clone();
    let child = loop {
        let child = context.jobs.store.get_run(child_id).await?.ok_or_else(|| super::run_missing(child_id))?;
        if runs::is_done(&child.life_cycle_state) {
            break child;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            _ = cancel.changed() => context.jobs.signal_cancel(child_id),
        }
    };
    let outcome = match runs::outcome_of(&child) {
        Some(outcome) if outcome.is_success() => Outcome::success(),
        Some(outcome) if outcome.result_state == "CANCELED" => Outcome::new("CANCELED", format!("Run {child_id} of job {job_id} was cancelled")),
        Some(outcome) => Outcome::new("FAILED", format!("Run {child_id} of job {job_id} ended {}: {}", outcome.result_state, outcome.message)),
        None => Outcome::new("FAILED", format!("Run {child_id} of job {job_id} ended {}", child.life_cycle_state)),
    };
    Ok((outcome, json!({"run_job_output": {"run_id": child_id}}), None))
}

async fn for_each_task(context: &RunContext, task: &Value, record: &mut RunRecord) -> Result<TaskResult> {
    let spec = &task["for_each_task"];
    let inputs = spec.get("inputs").and_then(Value::as_str).unwrap_or("[]");
    let items: Vec<Value> = match serde_json::from_str::<Value>(inputs) {
        Ok(Value::Array(items)) => items,
        _ => return Err(Error::invalid(format!("for_each_task.inputs must be a JSON array, got {inputs}"))),
    };
    let concurrency = spec.get("concurrency").and_then(Value::as_i64).unwrap_or(1).clamp(1, 100) as usize;
    let inner = spec.get("task").cloned().unwrap_or_else(|| json!({}));
    let semaphore = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut iterations = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let mut iteration = new_task_run(record, &inner, 0, runs::PENDING);
        iteration.parent_run_id = Some(record.run_id);
        let doc = runs::doc_mut(&mut iteration);
        doc.insert("input".to_string(), item.clone());
        doc.insert("iteration_index".to_string(), json!(index));
        context.jobs.store.insert_run(&iteration).await?;
        iterations.push(iteration);
    }
    let mut outcomes = Vec::with_capacity(iterations.len());
    let mut pending = Vec::new();
    for iteration in iterations {
        let semaphore = semaphore.clone();
        let inner = inner.clone();
        pending.push(async move {
            let _permit = semaphore.acquire().await;
            run_task(context, &inner, iteration).await.0
        });
    }
    outcomes.extend(futures::future::join_all(pending).await);
    let failed = outcomes.iter().filter(|o| !o.is_success()).count();
    let stats = json!({"task_run_stats": {"total_iterations": outcomes.len(), "completed_iterations": outcomes.len(), "succeeded_iterations": outcomes.len() - failed, "failed_iterations": failed}});
    let mut for_each = task.get("for_each_task").cloned().unwrap_or_else(|| json!({}));
    for_each["stats"] = stats;
    runs::doc_mut(record).insert("for_each_task".to_string(), for_each);
    if failed > 0 {
        return Ok((Outcome::new("FAILED", format!("{failed} of {} iterations failed", outcomes.len())), json!({}), None));
    }
    Ok((Outcome::success(), json!({}), None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(key: &str, deps: &[(&str, Option<&str>)], run_if: &str) -> Value {
        json!({"task_key": key, "run_if": run_if, "depends_on": deps.iter().map(|(k, o)| match o { Some(o) => json!({"task_key": k, "outcome": o}), None => json!({"task_key": k}) }).collect::<Vec<_>>()})
    }

    fn outcomes(pairs: &[(&str, &'static str)]) -> HashMap<String, Outcome> {
        pairs.iter().map(|(k, s)| (k.to_string(), Outcome::new(s, ""))).collect()
    }

    #[test]
    fn run_if_rules() {
        let none = HashMap::new();
        let ok_fail = outcomes(&[("a", "SUCCESS"), ("b", "FAILED")]);
        let decide = |run_if: &str, done: &HashMap<String, Outcome>| run_if_decision(&task("c", &[("a", None), ("b", None)], run_if), done, &none).map(|o| o.result_state);
        assert_eq!(decide("ALL_SUCCESS", &ok_fail), Some("UPSTREAM_FAILED"));
        assert_eq!(decide("AT_LEAST_ONE_SUCCESS", &ok_fail), None);
        assert_eq!(decide("NONE_FAILED", &ok_fail), Some("UPSTREAM_FAILED"));
        assert_eq!(decide("ALL_DONE", &ok_fail), None);
        assert_eq!(decide("AT_LEAST_ONE_FAILED", &ok_fail), None);
        assert_eq!(decide("ALL_FAILED", &ok_fail), Some("EXCLUDED"));
        assert_eq!(decide("ALL_FAILED", &outcomes(&[("a", "FAILED"), ("b", "TIMEDOUT")])), None);
        assert_eq!(decide("ALL_SUCCESS", &outcomes(&[("a", "SUCCESS"), ("b", "CANCELED")])), Some("UPSTREAM_CANCELED"));
    }

    #[test]
    fn condition_branches_exclude_the_other_side() {
        let done = outcomes(&[("check", "SUCCESS")]);
        let branches: HashMap<String, String> = [("check".to_string(), "false".to_string())].into();
        let when_true = task("t", &[("check", Some("true"))], "ALL_SUCCESS");
        let when_false = task("f", &[("check", Some("false"))], "ALL_SUCCESS");
        assert_eq!(run_if_decision(&when_true, &done, &branches).map(|o| o.result_state), Some("EXCLUDED"));
        assert_eq!(run_if_decision(&when_false, &done, &branches), None);
        let (outcome, _, branch) = condition_task(&json!({"condition_task": {"op": "GREATER_THAN", "left": "10", "right": "9.5"}})).unwrap();
        assert_eq!((outcome.result_state, branch.as_deref()), ("SUCCESS", Some("true")));
        assert!(condition_task(&json!({"condition_task": {"op": "LESS_THAN", "left": "x", "right": "1"}})).unwrap_err().message.contains("not a number"));
    }

    #[test]
    fn the_run_result_follows_its_final_tasks() {
        let tasks = vec![task("a", &[], "ALL_SUCCESS"), task("b", &[("a", None)], "ALL_DONE")];
        assert_eq!(overall_outcome(&tasks, &outcomes(&[("a", "SUCCESS"), ("b", "SUCCESS")])).result_state, "SUCCESS");
        assert_eq!(overall_outcome(&tasks, &outcomes(&[("a", "FAILED"), ("b", "SUCCESS")])).result_state, "SUCCESS_WITH_FAILURES");
        let failed = overall_outcome(&tasks, &outcomes(&[("a", "SUCCESS"), ("b", "FAILED")]));
        assert_eq!(failed.result_state, "FAILED");
        assert!(failed.message.starts_with("Task b failed"));
    }

    #[test]
    fn statements_split_outside_quotes_and_comments() {
        assert_eq!(split_statements("SELECT ';' AS a; -- note; here\nSELECT 2;\n\n"), vec!["SELECT ';' AS a", "SELECT 2"]);
    }

    #[test]
    fn run_paths_resolve_against_the_notebook_folder() {
        assert_eq!(resolve_relative("/Shared/etl/main", "./lib/util").unwrap(), "/Shared/etl/lib/util");
        assert_eq!(resolve_relative("/Shared/etl/main", "../common").unwrap(), "/Shared/common");
        assert_eq!(resolve_relative("/Shared/etl/main", "/Users/a/x").unwrap(), "/Users/a/x");
    }
}

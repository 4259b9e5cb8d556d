//! The run model as the Jobs API shows it: life cycle and result states, the `status` of
//! API 2.2, and the JSON of a run with its task runs.

use kiln_store::RunRecord;
use serde_json::{Map, Value, json};

pub const QUEUED: &str = "QUEUED";
pub const PENDING: &str = "PENDING";
pub const RUNNING: &str = "RUNNING";
pub const TERMINATING: &str = "TERMINATING";
pub const TERMINATED: &str = "TERMINATED";
pub const SKIPPED: &str = "SKIPPED";
pub const INTERNAL_ERROR: &str = "INTERNAL_ERROR";
pub const BLOCKED: &str = "BLOCKED";
pub const WAITING_FOR_RETRY: &str = "WAITING_FOR_RETRY";

/// Whether a run in this life cycle state has ended.
pub fn is_done(life_cycle_state: &str) -> bool {
    matches!(life_cycle_state, TERMINATED | SKIPPED | INTERNAL_ERROR)
}

/// How a task or run ended: the result state and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub result_state: &'static str,
    pub message: String,
}

impl Outcome {
    pub fn new(result_state: &'static str, message: impl Into<String>) -> Outcome {
        Outcome { result_state, message: message.into() }
    }

    pub fn success() -> Outcome {
        Outcome::new("SUCCESS", "")
    }

    pub fn is_success(&self) -> bool {
        self.result_state == "SUCCESS"
    }

    /// Failed for the purpose of `run_if` and retries.
    pub fn is_failure(&self) -> bool {
        matches!(self.result_state, "FAILED" | "TIMEDOUT" | "UPSTREAM_FAILED")
    }

    /// The life cycle state a run or task with this outcome ends in.
    pub fn life_cycle_state(&self) -> &'static str {
        match self.result_state {
            "EXCLUDED" | "UPSTREAM_FAILED" | "UPSTREAM_CANCELED" | "MAXIMUM_CONCURRENT_RUNS_REACHED" | "DISABLED" => SKIPPED,
            _ => TERMINATED,
        }
    }
}

/// `status.termination_details` of API 2.2 for a result.
fn termination_details(result_state: &str, message: &str) -> Value {
    let (code, kind) = match result_state {
        "SUCCESS" => ("SUCCESS", "SUCCESS"),
        "SUCCESS_WITH_FAILURES" => ("SUCCESS_WITH_FAILURES", "SUCCESS"),
        "CANCELED" | "UPSTREAM_CANCELED" => ("USER_CANCELED", "SUCCESS"),
        "EXCLUDED" | "UPSTREAM_FAILED" | "DISABLED" => ("SKIPPED", "SUCCESS"),
        "MAXIMUM_CONCURRENT_RUNS_REACHED" => ("MAX_CONCURRENT_RUNS_EXCEEDED", "CLIENT_ERROR"),
        "INTERNAL_ERROR" => ("INTERNAL_ERROR", "INTERNAL_ERROR"),
        _ => ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    };
    json!({"code": code, "type": kind, "message": message})
}

/// API 2.2's simpler life cycle: `status.state`.
fn status_state(life_cycle_state: &str) -> &'static str {
    match life_cycle_state {
        QUEUED => "QUEUED",
        PENDING => "PENDING",
        RUNNING => "RUNNING",
        TERMINATING => "TERMINATING",
        BLOCKED => "BLOCKED",
        WAITING_FOR_RETRY => "WAITING",
        _ => "TERMINATED",
    }
}

/// Sets the record's state: life cycle, result and message; ended runs get their end time.
pub fn set_state(record: &mut RunRecord, life_cycle_state: &str, outcome: Option<&Outcome>, now_ms: i64) {
    record.life_cycle_state = life_cycle_state.to_string();
    let doc = doc_mut(record);
    match outcome {
        Some(outcome) => {
            doc.insert("result_state".to_string(), json!(outcome.result_state));
            doc.insert("state_message".to_string(), json!(outcome.message));
        }
        None => {
            doc.remove("result_state");
        }
    }
    if is_done(life_cycle_state) && record.end_time_ms == 0 {
        record.end_time_ms = now_ms.max(record.start_time_ms);
    }
}

pub fn doc_mut(record: &mut RunRecord) -> &mut Map<String, Value> {
    if !record.doc.is_object() {
        record.doc = json!({});
    }
    record.doc.as_object_mut().expect("the doc was just made an object")
}

pub fn result_state(record: &RunRecord) -> Option<&str> {
    record.doc.get("result_state").and_then(Value::as_str)
}

/// The outcome of an ended record.
pub fn outcome_of(record: &RunRecord) -> Option<Outcome> {
    let state = result_state(record)?;
    let result_state = RESULT_STATES.iter().copied().find(|known| *known == state)?;
    Some(Outcome::new(result_state, record.doc.get("state_message").and_then(Value::as_str).unwrap_or("")))
}

const RESULT_STATES: &[&str] =
    &["SUCCESS", "FAILED", "TIMEDOUT", "CANCELED", "MAXIMUM_CONCURRENT_RUNS_REACHED", "EXCLUDED", "SUCCESS_WITH_FAILURES", "UPSTREAM_FAILED", "UPSTREAM_CANCELED", "DISABLED", "INTERNAL_ERROR"];

/// `state` and `status` of a run or task run.
fn state_fields(record: &RunRecord) -> (Value, Value) {
    let message = record.doc.get("state_message").and_then(Value::as_str).unwrap_or("");
    let mut state = json!({"life_cycle_state": record.life_cycle_state, "state_message": message, "user_cancelled_or_timedout": false});
    let mut status = json!({"state": status_state(&record.life_cycle_state)});
    if let Some(result) = result_state(record).filter(|r| *r != "INTERNAL_ERROR") {
        state["result_state"] = json!(result);
        state["user_cancelled_or_timedout"] = json!(matches!(result, "CANCELED" | "TIMEDOUT"));
    }
    if is_done(&record.life_cycle_state) {
        let result = result_state(record).unwrap_or("INTERNAL_ERROR");
        status["termination_details"] = termination_details(result, message);
    }
    if record.life_cycle_state == QUEUED {
        status["queue_details"] = json!({"code": "ACTIVE_RUNS_LIMIT_REACHED", "message": message});
    }
    (state, status)
}

/// Timing fields: durations count while the run is still going.
fn timing(record: &RunRecord, now_ms: i64) -> Map<String, Value> {
    let mut fields = Map::new();
    let started = record.start_time_ms;
    let ended = if record.end_time_ms > 0 { record.end_time_ms } else { now_ms };
    let ran = record.doc.get("execution_start_ms").and_then(Value::as_i64);
    let setup = ran.map(|r| (r - started).max(0)).unwrap_or(if record.end_time_ms > 0 { 0 } else { (now_ms - started).max(0) });
    let execution = ran.map(|r| (ended - r).max(0)).unwrap_or(0);
    fields.insert("start_time".to_string(), json!(started));
    fields.insert("end_time".to_string(), json!(record.end_time_ms));
    fields.insert("setup_duration".to_string(), json!(setup));
    fields.insert("execution_duration".to_string(), json!(execution));
    fields.insert("cleanup_duration".to_string(), json!(0));
    fields.insert("run_duration".to_string(), json!((ended - started).max(0)));
    fields
}

/// Internal fields of the doc that are not part of the Run object.
const INTERNAL_FIELDS: &[&str] = &["result_state", "state_message", "execution_start_ms", "spec", "submitter", "run_as", "output_ready", "repair_of", "run_job_depth"];

fn run_page_url(host: &str, record: &RunRecord) -> String {
    match record.job_id {
        Some(job_id) => format!("{host}/#job/{job_id}/run/{}", record.run_id),
        None => format!("{host}/#job/runs/{}", record.run_id),
    }
}

/// A task run as it appears in its run's `tasks`, and as runs/get-output's `metadata`.
pub fn render_task(record: &RunRecord, host: &str, now_ms: i64) -> Value {
    let mut task: Map<String, Value> = record.doc.get("spec").and_then(Value::as_object).cloned().unwrap_or_default();
    for (key, value) in record.doc.as_object().into_iter().flatten() {
        if !INTERNAL_FIELDS.contains(&key.as_str()) {
            task.insert(key.clone(), value.clone());
        }
    }
    let (state, status) = state_fields(record);
    task.insert("run_id".to_string(), json!(record.run_id));
    task.insert("task_key".to_string(), json!(record.task_key));
    task.insert("state".to_string(), state);
    task.insert("status".to_string(), status);
    task.insert("run_page_url".to_string(), json!(run_page_url(host, record)));
    task.extend(timing(record, now_ms));
    Value::Object(task)
}

/// A run with its task runs (`tasks`), as runs/get and runs/list answer it.
pub fn render_run(record: &RunRecord, task_runs: &[RunRecord], host: &str, now_ms: i64, with_tasks: bool) -> Value {
    let mut run: Map<String, Value> = Map::new();
    for (key, value) in record.doc.as_object().into_iter().flatten() {
        if !INTERNAL_FIELDS.contains(&key.as_str()) {
            run.insert(key.clone(), value.clone());
        }
    }
    let (state, status) = state_fields(record);
    if let Some(job_id) = record.job_id {
        run.insert("job_id".to_string(), json!(job_id));
    }
    run.insert("run_id".to_string(), json!(record.run_id));
    run.entry("original_attempt_run_id").or_insert(json!(record.run_id));
    run.insert("state".to_string(), state);
    run.insert("status".to_string(), status);
    run.insert("run_page_url".to_string(), json!(run_page_url(host, record)));
    run.insert("format".to_string(), json!("MULTI_TASK"));
    run.extend(timing(record, now_ms));
    if with_tasks {
        run.insert("tasks".to_string(), Value::Array(task_runs.iter().map(|task| render_task(task, host, now_ms)).collect()));
    }
    Value::Object(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(state: &str) -> RunRecord {
        RunRecord { run_id: 5, job_id: Some(1), parent_run_id: None, task_key: None, life_cycle_state: state.into(), start_time_ms: 1000, end_time_ms: 0, idempotency_token: None, doc: json!({"run_name": "etl"}) }
    }

    #[test]
    fn a_running_run_has_end_time_zero_and_no_result() {
        let run = render_run(&record(RUNNING), &[], "http://h", 1500, true);
        assert_eq!(run["end_time"], 0);
        assert_eq!(run["state"]["life_cycle_state"], "RUNNING");
        assert!(run["state"].get("result_state").is_none());
        assert_eq!(run["status"]["state"], "RUNNING");
        assert_eq!(run["run_page_url"], "http://h/#job/1/run/5");
        assert_eq!(run["tasks"], json!([]));
    }

    #[test]
    fn an_ended_run_reports_result_and_termination_details() {
        let mut ended = record(RUNNING);
        set_state(&mut ended, TERMINATED, Some(&Outcome::new("FAILED", "Task a failed")), 2000);
        let run = render_run(&ended, &[], "http://h", 3000, false);
        assert_eq!(run["end_time"], 2000);
        assert_eq!(run["state"]["result_state"], "FAILED");
        assert_eq!(run["status"]["termination_details"]["code"], "RUN_EXECUTION_ERROR");
        assert!(run.get("tasks").is_none());
        assert_eq!(outcome_of(&ended), Some(Outcome::new("FAILED", "Task a failed")));
        assert_eq!(Outcome::new("UPSTREAM_FAILED", "").life_cycle_state(), SKIPPED);
    }
}

//! The trigger-and-poll flow: `jobs/run-now` or `jobs/runs/submit`, then `jobs/runs/get` until
//! the run ends, then `jobs/runs/get-output` for each task run.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::client::{ApiClient, RetryPolicy};
use crate::error::{CliError, Exit, one_line};

const RUN_NOW: &str = "/api/2.1/jobs/run-now";
const RUNS_SUBMIT: &str = "/api/2.1/jobs/runs/submit";
const RUNS_GET: &str = "/api/2.1/jobs/runs/get";
const RUNS_GET_OUTPUT: &str = "/api/2.1/jobs/runs/get-output";

/// Life-cycle states after which a run changes no more.
const TERMINAL_STATES: [&str; 3] = ["TERMINATED", "SKIPPED", "INTERNAL_ERROR"];

/// The body of `jobs/run-now`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunNowRequest {
    pub job_id: i64,
    pub job_parameters: Vec<(String, String)>,
    pub notebook_params: Vec<(String, String)>,
    pub python_params: Vec<String>,
    pub idempotency_token: Option<String>,
}

impl RunNowRequest {
    /// The JSON body; empty parameter lists are left out.
    pub fn to_json(&self) -> Value {
        let mut body = Map::new();
        body.insert("job_id".to_string(), json!(self.job_id));
        let as_object = |pairs: &[(String, String)]| {
            let mut object = Map::new();
            for (key, value) in pairs {
                object.insert(key.clone(), Value::String(value.clone()));
            }
            Value::Object(object)
        };
        if !self.job_parameters.is_empty() {
            body.insert("job_parameters".to_string(), as_object(&self.job_parameters));
        }
        if !self.notebook_params.is_empty() {
            body.insert("notebook_params".to_string(), as_object(&self.notebook_params));
        }
        if !self.python_params.is_empty() {
            body.insert("python_params".to_string(), json!(self.python_params));
        }
        if let Some(token) = &self.idempotency_token {
            body.insert("idempotency_token".to_string(), json!(token));
        }
        Value::Object(body)
    }
}

/// How to wait for a run.
#[derive(Debug, Clone, Copy)]
pub struct WaitOptions {
    pub poll: RetryPolicy,
    pub timeout: Duration,
    pub quiet: bool,
}

/// Where the command writes: results to `out`, progress and errors to `err`.
pub struct Io<'a> {
    pub out: &'a mut (dyn Write + Send),
    pub err: &'a mut (dyn Write + Send),
}

impl std::fmt::Debug for Io<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Io").finish_non_exhaustive()
    }
}

// Writes to stdout/stderr are best effort: a closed pipe must not turn a finished run into a
// different exit code.
macro_rules! say {
    ($writer:expr, $($arg:tt)*) => {{
        let _ = writeln!($writer, $($arg)*);
    }};
}

/// Triggers a run of an existing job; the run id.
pub async fn run_now(client: &ApiClient, request: &RunNowRequest) -> Result<i64, CliError> {
    let answer = client.post(RUN_NOW, &request.to_json()).await?;
    run_id_of(&answer, RUN_NOW)
}

/// Submits a one-time run; the run id.
pub async fn submit(client: &ApiClient, body: &Value) -> Result<i64, CliError> {
    let answer = client.post(RUNS_SUBMIT, body).await?;
    run_id_of(&answer, RUNS_SUBMIT)
}

fn run_id_of(answer: &Value, path: &str) -> Result<i64, CliError> {
    answer.get("run_id").and_then(Value::as_i64).ok_or_else(|| CliError::Transport(format!("POST {path}: the answer has no run_id: {answer}")))
}

/// What is known about a run, to report only changes.
#[derive(Debug, Default)]
struct Progress {
    run_state: Option<String>,
    task_states: HashMap<String, String>,
    url_shown: bool,
}

impl Progress {
    fn report(&mut self, run_id: i64, run: &Value, err: &mut (dyn Write + Send)) {
        if !self.url_shown
            && let Some(url) = run.get("run_page_url").and_then(Value::as_str).filter(|u| !u.is_empty())
        {
            say!(err, "run {run_id}: {url}");
            self.url_shown = true;
        }
        let state = describe_state(run);
        if self.run_state.as_deref() != Some(state.as_str()) {
            say!(err, "run {run_id}: {state}");
            self.run_state = Some(state);
        }
        for task in tasks_of(run) {
            let key = task_key(task);
            let task_state = describe_state(task);
            if self.task_states.get(&key) != Some(&task_state) {
                say!(err, "  {key}: {task_state}");
                self.task_states.insert(key, task_state);
            }
        }
    }
}

/// Polls `runs/get` until the run ends, reporting changes on `err` (unless quiet); then prints
/// each task's output on `out`. The exit: success only for result state SUCCESS.
pub async fn wait(client: &ApiClient, run_id: i64, options: WaitOptions, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let mut progress = Progress::default();
    let mut sink = std::io::sink();
    let polled = {
        let progress_out: &mut (dyn Write + Send) = if options.quiet { &mut sink } else { &mut *io.err };
        tokio::time::timeout(options.timeout, poll_until_done(client, run_id, options.poll, &mut progress, progress_out)).await
    };
    let run = match polled {
        Ok(result) => result?,
        Err(_elapsed) => {
            let last = progress.run_state.as_deref().unwrap_or("not seen yet");
            say!(
                io.err,
                "kiln: gave up waiting for run {run_id} after {} (last state: {last}); the run was left running",
                humantime::format_duration(options.timeout)
            );
            return Ok(Exit::TimedOut);
        }
    };
    print_outputs(client, &run, io.out).await;

    let result_state = result_state(&run);
    if result_state.as_deref() == Some("SUCCESS") {
        return Ok(Exit::Success);
    }
    let outcome = result_state.or_else(|| life_cycle_state(&run)).unwrap_or_else(|| "UNKNOWN".to_string());
    match state_message(&run) {
        Some(message) => say!(io.err, "run {run_id} {outcome}: {message}"),
        None => say!(io.err, "run {run_id} {outcome}"),
    }
    Ok(Exit::Failure)
}

async fn poll_until_done(client: &ApiClient, run_id: i64, poll: RetryPolicy, progress: &mut Progress, err: &mut (dyn Write + Send)) -> Result<Value, CliError> {
    let mut backoff = poll.backoff();
    loop {
        let run = client.get(RUNS_GET, &[("run_id", run_id.to_string())]).await?;
        progress.report(run_id, &run, err);
        let done = life_cycle_state(&run).is_some_and(|state| TERMINAL_STATES.contains(&state.as_str()));
        if done {
            return Ok(run);
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

/// For each task run: its key, `notebook_output.result`, `logs`, and `error`/`error_trace`.
async fn print_outputs(client: &ApiClient, run: &Value, out: &mut (dyn Write + Send)) {
    let mut targets: Vec<(String, i64, String)> = Vec::new();
    for task in tasks_of(run) {
        if let Some(task_run_id) = task.get("run_id").and_then(Value::as_i64) {
            targets.push((task_key(task), task_run_id, describe_state(task)));
        }
    }
    // A run without a task list (API 2.0 single-task form) has its output on itself.
    if targets.is_empty()
        && let Some(run_id) = run.get("run_id").and_then(Value::as_i64)
    {
        let name = run.get("run_name").and_then(Value::as_str).unwrap_or("run").to_string();
        targets.push((name, run_id, describe_state(run)));
    }
    for (key, task_run_id, state) in targets {
        say!(out, "=== {key} (run {task_run_id}): {state}");
        let output = match client.get(RUNS_GET_OUTPUT, &[("run_id", task_run_id.to_string())]).await {
            Ok(output) => output,
            Err(error) => {
                say!(out, "(no output: {error})");
                continue;
            }
        };
        let result = output.get("notebook_output").and_then(|n| n.get("result")).and_then(Value::as_str);
        if let Some(result) = result {
            let truncated = output.get("notebook_output").and_then(|n| n.get("truncated")).and_then(Value::as_bool) == Some(true);
            say!(out, "result: {result}{}", if truncated { " (truncated)" } else { "" });
        }
        if let Some(logs) = output.get("logs").and_then(Value::as_str).filter(|l| !l.is_empty()) {
            let truncated = output.get("logs_truncated").and_then(Value::as_bool) == Some(true);
            say!(out, "logs{}:", if truncated { " (truncated)" } else { "" });
            say!(out, "{}", logs.trim_end_matches('\n'));
        }
        if let Some(error) = output.get("error").and_then(Value::as_str).filter(|e| !e.is_empty()) {
            say!(out, "error: {error}");
        }
        if let Some(trace) = output.get("error_trace").and_then(Value::as_str).filter(|t| !t.is_empty()) {
            say!(out, "error_trace:");
            say!(out, "{}", trace.trim_end_matches('\n'));
        }
    }
}

fn tasks_of(run: &Value) -> &[Value] {
    run.get("tasks").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

fn task_key(task: &Value) -> String {
    task.get("task_key").and_then(Value::as_str).unwrap_or("task").to_string()
}

fn text_at(value: &Value, path: &[&str]) -> Option<String> {
    let mut current = value;
    for key in path {
        current = current.get(key)?;
    }
    current.as_str().filter(|s| !s.is_empty()).map(str::to_string)
}

/// `state.life_cycle_state`, or the newer `status.state`.
fn life_cycle_state(run: &Value) -> Option<String> {
    text_at(run, &["state", "life_cycle_state"]).or_else(|| text_at(run, &["status", "state"]))
}

/// `state.result_state`, or the newer `status.termination_details.code`.
fn result_state(run: &Value) -> Option<String> {
    text_at(run, &["state", "result_state"]).or_else(|| text_at(run, &["status", "termination_details", "code"]))
}

fn state_message(run: &Value) -> Option<String> {
    let message = text_at(run, &["state", "state_message"]).or_else(|| text_at(run, &["status", "termination_details", "message"]))?;
    let flat = one_line(&message);
    if flat.is_empty() { None } else { Some(flat) }
}

/// "RUNNING", or "TERMINATED SUCCESS" once there is a result.
fn describe_state(run: &Value) -> String {
    let life_cycle = life_cycle_state(run).unwrap_or_else(|| "UNKNOWN".to_string());
    match result_state(run) {
        Some(result) => format!("{life_cycle} {result}"),
        None => life_cycle,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_now_body_leaves_out_empty_fields() {
        let bare = RunNowRequest { job_id: 7, ..Default::default() };
        assert_eq!(bare.to_json(), json!({"job_id": 7}));
        let full = RunNowRequest {
            job_id: 7,
            job_parameters: vec![("date".into(), "2024-01-01".into()), ("mode".into(), "full".into())],
            notebook_params: vec![("n".into(), "1".into())],
            python_params: vec!["--verbose".into(), "x".into()],
            idempotency_token: Some("abc".into()),
        };
        assert_eq!(
            full.to_json(),
            json!({
                "job_id": 7,
                "job_parameters": {"date": "2024-01-01", "mode": "full"},
                "notebook_params": {"n": "1"},
                "python_params": ["--verbose", "x"],
                "idempotency_token": "abc",
            })
        );
    }

    #[test]
    fn states_from_state_or_status() {
        let classic = json!({"state": {"life_cycle_state": "TERMINATED", "result_state": "FAILED", "state_message": "Task a failed\nwith boom"}});
        assert_eq!(describe_state(&classic), "TERMINATED FAILED");
        assert_eq!(state_message(&classic).as_deref(), Some("Task a failed with boom"));
        let newer = json!({"status": {"state": "TERMINATED", "termination_details": {"code": "SUCCESS", "message": ""}}});
        assert_eq!(describe_state(&newer), "TERMINATED SUCCESS");
        assert_eq!(state_message(&newer), None);
        assert_eq!(describe_state(&json!({"state": {"life_cycle_state": "PENDING"}})), "PENDING");
    }
}

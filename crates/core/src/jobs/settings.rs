//! What a job may be created with: the checks its settings (or a one-time run's tasks) must
//! pass before anything is stored. Errors name the field, as `tasks[1].depends_on[0].task_key`.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Task types Kiln runs, by the field that carries each.
pub const TASK_TYPES: &[&str] = &["notebook_task", "spark_python_task", "sql_task", "condition_task", "run_job_task", "for_each_task"];

/// Task types of Databricks that Kiln refuses at creation rather than fail at run time.
const UNSUPPORTED_TASK_TYPES: &[&str] =
    &["python_wheel_task", "spark_jar_task", "spark_submit_task", "pipeline_task", "dbt_task", "clean_rooms_notebook_task", "dashboard_task", "power_bi_task", "gen_ai_compute_task"];

pub const RUN_IF: &[&str] = &["ALL_SUCCESS", "AT_LEAST_ONE_SUCCESS", "NONE_FAILED", "ALL_DONE", "AT_LEAST_ONE_FAILED", "ALL_FAILED"];

const CONDITION_OPS: &[&str] = &["EQUAL_TO", "GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL", "NOT_EQUAL"];

/// Most tasks one job may have, as on Databricks.
const MAX_TASKS: usize = 1000;

fn field_error(field: &str, what: impl std::fmt::Display) -> Error {
    Error::invalid(format!("{field} {what}"))
}

fn object<'a>(value: &'a Value, field: &str) -> Result<&'a Map<String, Value>> {
    value.as_object().ok_or_else(|| field_error(field, "must be an object"))
}

fn text<'a>(map: &'a Map<String, Value>, key: &str, field: &str) -> Result<Option<&'a str>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(field_error(&format!("{field}.{key}"), "must be a string")),
    }
}

fn required_text<'a>(map: &'a Map<String, Value>, key: &str, field: &str) -> Result<&'a str> {
    text(map, key, field)?.filter(|t| !t.is_empty()).ok_or_else(|| field_error(&format!("{field}.{key}"), "is required"))
}

/// The type of a task: the one `*_task` field it sets.
pub fn task_type(task: &Map<String, Value>) -> Option<&'static str> {
    TASK_TYPES.iter().copied().find(|kind| task.get(*kind).is_some_and(|v| !v.is_null()))
}

/// Checks job settings (create, reset, or the merged result of an update).
pub fn validate_job(settings: &Value) -> Result<()> {
    let settings = object(settings, "settings")?;
    if let Some(name) = text(settings, "name", "settings")?
        && name.len() > 4096
    {
        return Err(field_error("name", "must be at most 4096 characters"));
    }
    if let Some(max) = settings.get("max_concurrent_runs").filter(|v| !v.is_null()) {
        let valid = max.as_i64().is_some_and(|n| (0..=1000).contains(&n));
        if !valid {
            return Err(field_error("max_concurrent_runs", "must be a whole number from 0 to 1000"));
        }
    }
    timeout(settings, "timeout_seconds")?;
    let job_clusters = job_cluster_keys(settings)?;
    validate_parameters(settings)?;
    if let Some(schedule) = settings.get("schedule").filter(|v| !v.is_null()) {
        let schedule = object(schedule, "schedule")?;
        let expression = required_text(schedule, "quartz_cron_expression", "schedule")?;
        let timezone = required_text(schedule, "timezone_id", "schedule")?;
        crate::cron::parse(expression, timezone).map_err(|e| field_error("schedule", e))?;
        pause_status(schedule, "schedule")?;
    }
    if let Some(trigger) = settings.get("trigger").filter(|v| !v.is_null()) {
        let trigger = object(trigger, "trigger")?;
        pause_status(trigger, "trigger")?;
        match trigger.get("periodic").filter(|v| !v.is_null()) {
            Some(periodic) => {
                let periodic = object(periodic, "trigger.periodic")?;
                let interval = periodic.get("interval").and_then(Value::as_i64).filter(|n| *n >= 1);
                interval.ok_or_else(|| field_error("trigger.periodic.interval", "must be a whole number of at least 1"))?;
                let unit = required_text(periodic, "unit", "trigger.periodic")?;
                if !["MINUTES", "HOURS", "DAYS", "WEEKS"].contains(&unit) {
                    return Err(field_error("trigger.periodic.unit", format!("'{unit}' must be MINUTES, HOURS, DAYS or WEEKS")));
                }
            }
            None => {
                let kinds: Vec<&String> = trigger.keys().filter(|k| *k != "pause_status").collect();
                return Err(field_error("trigger", format!("{kinds:?} is not supported by Kiln; use trigger.periodic or schedule")));
            }
        }
    }
    let tasks = settings.get("tasks").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    validate_tasks(tasks, &job_clusters)
}

/// Checks the tasks of a one-time run (`runs/submit`).
pub fn validate_submit(body: &Value) -> Result<()> {
    let body = object(body, "request")?;
    timeout(body, "timeout_seconds")?;
    let tasks = body.get("tasks").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
    if tasks.is_empty() {
        return Err(field_error("tasks", "must name at least one task"));
    }
    validate_tasks(tasks, &job_cluster_keys(body)?)
}

fn timeout(map: &Map<String, Value>, key: &str) -> Result<()> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(value) if value.as_i64().is_some_and(|n| n >= 0) => Ok(()),
        Some(_) => Err(field_error(key, "must be a whole number of seconds, 0 or more")),
    }
}

fn pause_status(map: &Map<String, Value>, field: &str) -> Result<()> {
    match text(map, "pause_status", field)? {
        None | Some("PAUSED") | Some("UNPAUSED") => Ok(()),
        Some(other) => Err(field_error(&format!("{field}.pause_status"), format!("'{other}' must be PAUSED or UNPAUSED"))),
    }
}

fn job_cluster_keys(settings: &Map<String, Value>) -> Result<HashSet<String>> {
    let mut keys = HashSet::new();
    for (index, cluster) in settings.get("job_clusters").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]).iter().enumerate() {
        let field = format!("job_clusters[{index}]");
        let cluster = object(cluster, &field)?;
        let key = required_text(cluster, "job_cluster_key", &field)?;
        let spec = cluster.get("new_cluster").ok_or_else(|| field_error(&format!("{field}.new_cluster"), "is required"))?;
        crate::clusters::spec::validate(spec).map_err(|e| field_error(&format!("{field}.new_cluster:"), e.message))?;
        if !keys.insert(key.to_string()) {
            return Err(field_error(&format!("{field}.job_cluster_key"), format!("'{key}' is used twice")));
        }
    }
    Ok(keys)
}

fn validate_parameters(settings: &Map<String, Value>) -> Result<()> {
    let mut names = HashSet::new();
    for (index, parameter) in settings.get("parameters").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]).iter().enumerate() {
        let field = format!("parameters[{index}]");
        let parameter = object(parameter, &field)?;
        let name = required_text(parameter, "name", &field)?;
        if parameter.get("default").is_none_or(|d| !d.is_string()) {
            return Err(field_error(&format!("{field}.default"), "is required and must be a string"));
        }
        if !names.insert(name) {
            return Err(field_error(&format!("{field}.name"), format!("'{name}' is used twice")));
        }
    }
    Ok(())
}

fn validate_tasks(tasks: &[Value], job_clusters: &HashSet<String>) -> Result<()> {
    if tasks.len() > MAX_TASKS {
        return Err(field_error("tasks", format!("may hold at most {MAX_TASKS} tasks")));
    }
    let mut keys: HashMap<&str, usize> = HashMap::new();
    for (index, task) in tasks.iter().enumerate() {
        let field = format!("tasks[{index}]");
        let task = object(task, &field)?;
        let key = required_text(task, "task_key", &field)?;
        if keys.insert(key, index).is_some() {
            return Err(field_error(&format!("{field}.task_key"), format!("'{key}' is used by two tasks")));
        }
    }
    for (index, task) in tasks.iter().enumerate() {
        validate_task(task, &format!("tasks[{index}]"), &keys, job_clusters, true)?;
    }
    check_acyclic(tasks)
}

fn validate_task(task: &Value, field: &str, keys: &HashMap<&str, usize>, job_clusters: &HashSet<String>, top_level: bool) -> Result<()> {
    let task = object(task, field)?;
    if let Some(unsupported) = UNSUPPORTED_TASK_TYPES.iter().find(|kind| task.contains_key(**kind)) {
        return Err(field_error(&format!("{field}.{unsupported}"), format!("is not supported by Kiln; use one of {}", TASK_TYPES.join(", "))));
    }
    let kinds: Vec<&str> = TASK_TYPES.iter().copied().filter(|kind| task.get(*kind).is_some_and(|v| !v.is_null())).collect();
    let kind = match kinds.as_slice() {
        [kind] => *kind,
        [] => return Err(field_error(field, format!("must set one task type: {}", TASK_TYPES.join(", ")))),
        _ => return Err(field_error(field, format!("sets {} task types; set exactly one", kinds.join(" and ")))),
    };
    let spec = object(&task[kind], &format!("{field}.{kind}"))?;
    let spec_field = format!("{field}.{kind}");
    match kind {
        "notebook_task" => {
            required_text(spec, "notebook_path", &spec_field)?;
            string_map(spec, "base_parameters", &spec_field)?;
        }
        "spark_python_task" => {
            required_text(spec, "python_file", &spec_field)?;
            string_list(spec, "parameters", &spec_field)?;
        }
        "sql_task" => {
            required_text(spec, "warehouse_id", &spec_field)?;
            let file = spec.get("file").and_then(Value::as_object);
            let query = spec.get("query").and_then(Value::as_object);
            match (file, query) {
                (Some(file), None) => {
                    required_text(file, "path", &format!("{spec_field}.file"))?;
                }
                (None, Some(query)) => {
                    required_text(query, "query_id", &format!("{spec_field}.query"))?;
                }
                _ => return Err(field_error(&spec_field, "must set exactly one of file and query (dashboards and alerts are not supported by Kiln)")),
            }
            string_map(spec, "parameters", &spec_field)?;
        }
        "condition_task" => {
            let op = required_text(spec, "op", &spec_field)?;
            if !CONDITION_OPS.contains(&op) {
                return Err(field_error(&format!("{spec_field}.op"), format!("'{op}' must be one of {}", CONDITION_OPS.join(", "))));
            }
            for side in ["left", "right"] {
                if !spec.get(side).is_some_and(Value::is_string) {
                    return Err(field_error(&format!("{spec_field}.{side}"), "is required and must be a string"));
                }
            }
        }
        "run_job_task" => {
            spec.get("job_id").and_then(Value::as_i64).ok_or_else(|| field_error(&format!("{spec_field}.job_id"), "is required and must be a number"))?;
        }
        "for_each_task" => {
            required_text(spec, "inputs", &spec_field)?;
            if let Some(concurrency) = spec.get("concurrency").filter(|v| !v.is_null())
                && !concurrency.as_i64().is_some_and(|n| (1..=100).contains(&n))
            {
                return Err(field_error(&format!("{spec_field}.concurrency"), "must be from 1 to 100"));
            }
            let inner = spec.get("task").ok_or_else(|| field_error(&format!("{spec_field}.task"), "is required"))?;
            if inner.get("for_each_task").is_some() {
                return Err(field_error(&format!("{spec_field}.task"), "cannot itself be a for_each_task"));
            }
            validate_task(inner, &format!("{spec_field}.task"), &HashMap::new(), job_clusters, false)?;
        }
        _ => {}
    }
    let compute: Vec<&str> = ["existing_cluster_id", "new_cluster", "job_cluster_key", "environment_key"].into_iter().filter(|k| task.get(*k).is_some_and(|v| !v.is_null())).collect();
    if compute.len() > 1 {
        return Err(field_error(field, format!("sets {}; set at most one", compute.join(" and "))));
    }
    if let Some(key) = text(task, "job_cluster_key", field)?
        && !job_clusters.contains(key)
    {
        return Err(field_error(&format!("{field}.job_cluster_key"), format!("'{key}' is not one of the job's job_clusters")));
    }
    if let Some(spec) = task.get("new_cluster").filter(|v| !v.is_null()) {
        crate::clusters::spec::validate(spec).map_err(|e| field_error(&format!("{field}.new_cluster:"), e.message))?;
    }
    if let Some(run_if) = text(task, "run_if", field)?
        && !RUN_IF.contains(&run_if)
    {
        return Err(field_error(&format!("{field}.run_if"), format!("'{run_if}' must be one of {}", RUN_IF.join(", "))));
    }
    timeout(task, "timeout_seconds").map_err(|e| field_error(field, e.message))?;
    if let Some(retries) = task.get("max_retries").filter(|v| !v.is_null())
        && !retries.as_i64().is_some_and(|n| n >= -1)
    {
        return Err(field_error(&format!("{field}.max_retries"), "must be -1 (always) or a whole number from 0"));
    }
    if let Some(interval) = task.get("min_retry_interval_millis").filter(|v| !v.is_null())
        && !interval.as_i64().is_some_and(|n| n >= 0)
    {
        return Err(field_error(&format!("{field}.min_retry_interval_millis"), "must be a whole number from 0"));
    }
    if top_level {
        for (index, dependency) in task.get("depends_on").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]).iter().enumerate() {
            let dependency_field = format!("{field}.depends_on[{index}]");
            let dependency = object(dependency, &dependency_field)?;
            let key = required_text(dependency, "task_key", &dependency_field)?;
            if !keys.contains_key(key) {
                return Err(field_error(&format!("{dependency_field}.task_key"), format!("'{key}' is not a task of this job")));
            }
            if let Some(outcome) = text(dependency, "outcome", &dependency_field)?
                && !["true", "false"].contains(&outcome)
            {
                return Err(field_error(&format!("{dependency_field}.outcome"), "must be \"true\" or \"false\""));
            }
        }
    }
    Ok(())
}

fn string_map(map: &Map<String, Value>, key: &str, field: &str) -> Result<()> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Object(values)) if values.values().all(Value::is_string) => Ok(()),
        Some(_) => Err(field_error(&format!("{field}.{key}"), "must be an object of string values")),
    }
}

fn string_list(map: &Map<String, Value>, key: &str, field: &str) -> Result<()> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Array(values)) if values.iter().all(Value::is_string) => Ok(()),
        Some(_) => Err(field_error(&format!("{field}.{key}"), "must be a list of strings")),
    }
}

/// Refuses dependency cycles, naming one task on the cycle.
fn check_acyclic(tasks: &[Value]) -> Result<()> {
    let dependencies: HashMap<&str, Vec<&str>> = tasks
        .iter()
        .filter_map(|task| {
            let key = task.get("task_key")?.as_str()?;
            let deps = task.get("depends_on").and_then(Value::as_array).map(|deps| deps.iter().filter_map(|d| d.get("task_key")?.as_str()).collect()).unwrap_or_default();
            Some((key, deps))
        })
        .collect();
    // Kahn's algorithm: whatever is never freed sits on a cycle.
    let mut remaining: HashMap<&str, usize> = dependencies.iter().map(|(key, deps)| (*key, deps.len())).collect();
    let mut ready: Vec<&str> = remaining.iter().filter(|(_, n)| **n == 0).map(|(key, _)| *key).collect();
    while let Some(done) = ready.pop() {
        remaining.remove(done);
        for (key, deps) in &dependencies {
            if deps.contains(&done)
                && let Some(count) = remaining.get_mut(key)
            {
                *count -= deps.iter().filter(|d| **d == done).count();
                if *count == 0 {
                    ready.push(key);
                }
            }
        }
    }
    match remaining.keys().min() {
        Some(key) => Err(field_error("tasks", format!("have a dependency cycle through '{key}'"))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn notebook(key: &str, deps: &[&str]) -> Value {
        json!({"task_key": key, "notebook_task": {"notebook_path": "/Shared/nb"}, "depends_on": deps.iter().map(|d| json!({"task_key": d})).collect::<Vec<_>>()})
    }

    #[test]
    fn a_valid_dag_passes() {
        let settings = json!({"name": "etl", "tasks": [notebook("a", &[]), notebook("b", &["a"]), notebook("c", &["a", "b"])], "max_concurrent_runs": 2});
        validate_job(&settings).expect("valid");
    }

    #[test]
    fn errors_name_the_field() {
        for (settings, fragment) in [
            (json!({"tasks": [notebook("a", &[]), notebook("a", &[])]}), "tasks[1].task_key 'a' is used by two tasks"),
            (json!({"tasks": [notebook("a", &["zz"])]}), "tasks[0].depends_on[0].task_key 'zz' is not a task"),
            (json!({"tasks": [notebook("a", &["b"]), notebook("b", &["a"])]}), "dependency cycle"),
            (json!({"tasks": [{"task_key": "a"}]}), "tasks[0] must set one task type"),
            (json!({"tasks": [{"task_key": "a", "spark_jar_task": {}}]}), "spark_jar_task is not supported"),
            (json!({"tasks": [{"task_key": "a", "notebook_task": {}}]}), "tasks[0].notebook_task.notebook_path is required"),
            (json!({"tasks": [{"task_key": "a", "condition_task": {"op": "LIKE", "left": "1", "right": "2"}}]}), "op 'LIKE'"),
            (json!({"tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/x"}, "run_if": "SOMETIMES"}]}), "run_if 'SOMETIMES'"),
            (json!({"tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/x"}, "job_cluster_key": "big"}]}), "'big' is not one of the job's job_clusters"),
            (json!({"schedule": {"quartz_cron_expression": "0 61 * * * ?", "timezone_id": "UTC"}}), "schedule"),
            (json!({"max_concurrent_runs": -1}), "max_concurrent_runs"),
            (json!({"parameters": [{"name": "x"}]}), "parameters[0].default"),
        ] {
            let error = validate_job(&settings).unwrap_err();
            assert!(error.message.contains(fragment), "{settings}: {}", error.message);
        }
    }
}

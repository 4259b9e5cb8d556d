//! What a job may be created with: the checks its settings (or a one-time run's tasks) must
//! pass before anything is stored. The shape of the settings (types, enums, ranges, sizes) is
//! checked first, by [`crate::shapes::jobs`]; what follows are Kiln's rules on top: one task
//! type per task, task keys and dependencies that form a graph, supported triggers. Errors
//! name the field, as `tasks[1].depends_on[0].task_key`.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::shapes;

/// Task types Kiln runs, by the field that carries each.
pub const TASK_TYPES: &[&str] = &["notebook_task", "spark_python_task", "sql_task", "condition_task", "run_job_task", "for_each_task"];

/// Task types of Databricks that Kiln refuses at creation rather than fail at run time.
const UNSUPPORTED_TASK_TYPES: &[&str] = &[
    "python_wheel_task",
    "spark_jar_task",
    "spark_submit_task",
    "pipeline_task",
    "dbt_task",
    "dbt_cloud_task",
    "dbt_platform_task",
    "clean_rooms_notebook_task",
    "dashboard_task",
    "alert_task",
    "power_bi_task",
    "gen_ai_compute_task",
    "ai_runtime_task",
    "python_operator_task",
];

fn field_error(field: &str, what: impl std::fmt::Display) -> Error {
    Error::invalid(format!("{field} {what}"))
}

/// The object at `key`, if set (after the shape check, a set object field is an object).
fn object<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Map<String, Value>> {
    map.get(key).and_then(Value::as_object)
}

/// A list field the shape check has passed, or nothing.
fn list<'a>(map: &'a Map<String, Value>, key: &str) -> &'a [Value] {
    map.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str)
}

fn is_set(map: &Map<String, Value>, key: &str) -> bool {
    map.get(key).is_some_and(|v| !v.is_null())
}

/// The type of a task: the one `*_task` field it sets.
pub fn task_type(task: &Map<String, Value>) -> Option<&'static str> {
    TASK_TYPES.iter().copied().find(|kind| is_set(task, kind))
}

/// Checks job settings (create, reset, or the merged result of an update).
pub fn validate_job(settings: &Value) -> Result<()> {
    shapes::check(settings, &shapes::jobs::JOB_SETTINGS)?;
    let Some(settings) = settings.as_object() else { return Ok(()) };
    let job_clusters = job_cluster_keys(settings)?;
    unique_parameters(settings)?;
    if let Some(schedule) = object(settings, "schedule") {
        let expression = text(schedule, "quartz_cron_expression").unwrap_or_default();
        let timezone = text(schedule, "timezone_id").unwrap_or_default();
        crate::cron::parse(expression, timezone).map_err(|e| field_error("schedule", e))?;
    }
    if let Some(trigger) = object(settings, "trigger")
        && !is_set(trigger, "periodic")
    {
        let kinds: Vec<&String> = trigger.keys().filter(|k| *k != "pause_status").collect();
        return Err(field_error("trigger", format!("{kinds:?} is not supported by Kiln; use trigger.periodic or schedule")));
    }
    validate_tasks(list(settings, "tasks"), &job_clusters)
}

/// Checks the body of a one-time run (`runs/submit`).
pub fn validate_submit(body: &Value) -> Result<()> {
    shapes::check(body, &shapes::jobs::SUBMIT_RUN)?;
    let Some(body) = body.as_object() else { return Ok(()) };
    let tasks = list(body, "tasks");
    if tasks.is_empty() {
        return Err(field_error("tasks", "must name at least one task"));
    }
    validate_tasks(tasks, &job_cluster_keys(body)?)
}

fn job_cluster_keys(settings: &Map<String, Value>) -> Result<HashSet<String>> {
    let mut keys = HashSet::new();
    for (index, cluster) in list(settings, "job_clusters").iter().enumerate() {
        let field = format!("job_clusters[{index}]");
        let key = cluster["job_cluster_key"].as_str().unwrap_or_default();
        crate::clusters::spec::validate(&cluster["new_cluster"]).map_err(|e| field_error(&format!("{field}.new_cluster:"), e.message))?;
        if !keys.insert(key.to_string()) {
            return Err(field_error(&format!("{field}.job_cluster_key"), format!("'{key}' is used twice")));
        }
    }
    Ok(keys)
}

fn unique_parameters(settings: &Map<String, Value>) -> Result<()> {
    let mut names = HashSet::new();
    for (index, parameter) in list(settings, "parameters").iter().enumerate() {
        let name = parameter["name"].as_str().unwrap_or_default();
        if !names.insert(name) {
            return Err(field_error(&format!("parameters[{index}].name"), format!("'{name}' is used twice")));
        }
    }
    Ok(())
}

fn validate_tasks(tasks: &[Value], job_clusters: &HashSet<String>) -> Result<()> {
    let mut keys: HashMap<&str, usize> = HashMap::new();
    for (index, task) in tasks.iter().enumerate() {
        let key = task["task_key"].as_str().unwrap_or_default();
        if keys.insert(key, index).is_some() {
            return Err(field_error(&format!("tasks[{index}].task_key"), format!("'{key}' is used by two tasks")));
        }
    }
    for (index, task) in tasks.iter().enumerate() {
        if let Some(task) = task.as_object() {
            validate_task(task, &format!("tasks[{index}]"), &keys, job_clusters, true)?;
        }
    }
    check_acyclic(tasks)
}

fn validate_task(task: &Map<String, Value>, field: &str, keys: &HashMap<&str, usize>, job_clusters: &HashSet<String>, top_level: bool) -> Result<()> {
    if let Some(unsupported) = UNSUPPORTED_TASK_TYPES.iter().find(|kind| is_set(task, kind)) {
        return Err(field_error(&format!("{field}.{unsupported}"), format!("is not supported by Kiln; use one of {}", TASK_TYPES.join(", "))));
    }
    let kinds: Vec<&str> = TASK_TYPES.iter().copied().filter(|kind| is_set(task, kind)).collect();
    let kind = match kinds.as_slice() {
        [kind] => *kind,
        [] => return Err(field_error(field, format!("must set one task type: {}", TASK_TYPES.join(", ")))),
        _ => return Err(field_error(field, format!("sets {} task types; set exactly one", kinds.join(" and ")))),
    };
    let spec = object(task, kind).ok_or_else(|| field_error(&format!("{field}.{kind}"), "must be an object"))?;
    let spec_field = format!("{field}.{kind}");
    match kind {
        "sql_task" if is_set(spec, "file") == is_set(spec, "query") => {
            return Err(field_error(&spec_field, "must set exactly one of file and query (dashboards and alerts are not supported by Kiln)"));
        }
        "for_each_task" => {
            let inner = object(spec, "task").ok_or_else(|| field_error(&format!("{spec_field}.task"), "is required"))?;
            if inner.contains_key("for_each_task") {
                return Err(field_error(&format!("{spec_field}.task"), "cannot itself be a for_each_task"));
            }
            validate_task(inner, &format!("{spec_field}.task"), &HashMap::new(), job_clusters, false)?;
        }
        _ => {}
    }
    let compute: Vec<&str> = ["existing_cluster_id", "new_cluster", "job_cluster_key", "environment_key"].into_iter().filter(|k| is_set(task, k)).collect();
    if compute.len() > 1 {
        return Err(field_error(field, format!("sets {}; set at most one", compute.join(" and "))));
    }
    if let Some(key) = text(task, "job_cluster_key")
        && !job_clusters.contains(key)
    {
        return Err(field_error(&format!("{field}.job_cluster_key"), format!("'{key}' is not one of the job's job_clusters")));
    }
    if let Some(spec) = task.get("new_cluster").filter(|v| !v.is_null()) {
        crate::clusters::spec::validate(spec).map_err(|e| field_error(&format!("{field}.new_cluster:"), e.message))?;
    }
    if top_level {
        for (index, dependency) in list(task, "depends_on").iter().enumerate() {
            let key = dependency["task_key"].as_str().unwrap_or_default();
            if !keys.contains_key(key) {
                return Err(field_error(&format!("{field}.depends_on[{index}].task_key"), format!("'{key}' is not a task of this job")));
            }
        }
    }
    Ok(())
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

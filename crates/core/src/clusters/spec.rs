//! What a cluster may be created with: the runtime versions and node types Kiln offers, and
//! the checks a create or edit spec must pass. Every Kiln cluster runs its driver on this
//! machine, so node types are names that existing specs use, not hardware.

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::shapes;

/// `(key, name)` of the runtimes offered; keys follow Databricks' naming so the SDK's
/// `select_spark_version` and existing job specs work.
pub const SPARK_VERSIONS: &[(&str, &str)] = &[
    ("17.3.x-scala2.13", "17.3 LTS (includes Apache Spark 4.0.0, Scala 2.13)"),
    ("16.4.x-scala2.12", "16.4 LTS (includes Apache Spark 3.5.2, Scala 2.12)"),
    ("16.4.x-scala2.13", "16.4 LTS (includes Apache Spark 3.5.2, Scala 2.13)"),
    ("15.4.x-scala2.12", "15.4 LTS (includes Apache Spark 3.5.0, Scala 2.12)"),
    ("15.4.x-cpu-ml-scala2.12", "15.4 LTS ML (includes Apache Spark 3.5.0, Scala 2.12)"),
    ("14.3.x-scala2.12", "14.3 LTS (includes Apache Spark 3.5.0, Scala 2.12)"),
    ("13.3.x-scala2.12", "13.3 LTS (includes Apache Spark 3.4.1, Scala 2.12)"),
    ("12.2.x-scala2.12", "12.2 LTS (includes Apache Spark 3.3.2, Scala 2.12)"),
    ("11.3.x-scala2.12", "11.3 LTS (includes Apache Spark 3.3.0, Scala 2.12)"),
];

/// `(node_type_id, memory_mb, cores, category)`: common node types of the three clouds.
const NODE_TYPES: &[(&str, i64, f64, &str)] = &[
    ("m5d.large", 8192, 2.0, "General Purpose"),
    ("i3.xlarge", 31232, 4.0, "Storage Optimized"),
    ("m5d.xlarge", 16384, 4.0, "General Purpose"),
    ("r5d.xlarge", 32768, 4.0, "Memory Optimized"),
    ("Standard_DS3_v2", 14336, 4.0, "General Purpose"),
    ("Standard_D4ds_v5", 16384, 4.0, "General Purpose"),
    ("n2-standard-4", 16384, 4.0, "General Purpose"),
    ("n1-standard-4", 15360, 4.0, "General Purpose"),
];

/// The smallest node type, used when a spec names none.
pub const DEFAULT_NODE_TYPE: &str = "m5d.large";

pub fn spark_versions() -> Value {
    let versions: Vec<Value> = SPARK_VERSIONS.iter().map(|(key, name)| json!({"key": key, "name": name})).collect();
    json!({"versions": versions})
}

pub fn node_types() -> Value {
    let node_types: Vec<Value> = NODE_TYPES
        .iter()
        .enumerate()
        .map(|(order, (id, memory_mb, cores, category))| {
            json!({
                "node_type_id": id,
                "instance_type_id": id,
                "memory_mb": memory_mb,
                "num_cores": cores,
                "num_gpus": 0,
                "category": category,
                "description": format!("{id} (runs as a local driver process on Kiln)"),
                "display_order": order,
                "is_deprecated": false,
                "is_hidden": false,
                "support_port_forwarding": true,
                "photon_driver_capable": true,
                "photon_worker_capable": true,
                "node_instance_type": {"instance_type_id": id, "local_disks": 1, "local_disk_size_gb": 150},
            })
        })
        .collect();
    json!({"node_types": node_types})
}

fn node_type(id: &str) -> Option<&'static (&'static str, i64, f64, &'static str)> {
    NODE_TYPES.iter().find(|(known, ..)| *known == id)
}

/// Memory and cores of a spec's driver, for `cluster_memory_mb` and `cluster_cores`.
pub fn driver_size(spec: &Map<String, Value>) -> (i64, f64) {
    let id = spec.get("driver_node_type_id").or_else(|| spec.get("node_type_id")).and_then(Value::as_str).unwrap_or(DEFAULT_NODE_TYPE);
    node_type(id).map(|(_, memory, cores, _)| (*memory, *cores)).unwrap_or((8192, 2.0))
}

/// Fields that belong to the cluster rather than its spec; a spec must not set them.
const SERVER_FIELDS: &[&str] = &["cluster_id", "state", "state_message", "creator_user_name", "start_time", "terminated_time", "termination_reason", "spark_context_id"];

/// Checks a create or edit body and returns the spec to keep (unknown fields are kept and
/// echoed back, as Databricks does with fields it does not interpret). The shape of the spec
/// is [`crate::shapes::clusters::CLUSTER_SPEC`]; these are Kiln's rules on top.
pub fn validate(body: &Value) -> Result<Map<String, Value>> {
    shapes::check(body, &shapes::clusters::CLUSTER_SPEC)?;
    let Some(object) = body.as_object() else { return Err(Error::invalid("the request body must be a JSON object")) };
    let mut spec = object.clone();
    for field in SERVER_FIELDS {
        spec.remove(*field);
    }
    let text = |field: &str| object.get(field).and_then(Value::as_str);
    let version = text("spark_version").ok_or_else(|| Error::invalid("Missing required field: spark_version"))?;
    if !SPARK_VERSIONS.iter().any(|(key, _)| *key == version) {
        let known: Vec<&str> = SPARK_VERSIONS.iter().map(|(key, _)| *key).collect();
        return Err(Error::invalid(format!("spark_version '{version}' is not offered; use one of {}", known.join(", "))));
    }
    for field in ["node_type_id", "driver_node_type_id"] {
        if let Some(id) = text(field)
            && node_type(id).is_none()
        {
            let known: Vec<&str> = NODE_TYPES.iter().map(|(id, ..)| *id).collect();
            return Err(Error::invalid(format!("{field} '{id}' is not supported; use one of {}", known.join(", "))));
        }
    }
    if let Some(autoscale) = object.get("autoscale").filter(|v| !v.is_null()) {
        let bound = |key: &str| autoscale.get(key).and_then(Value::as_i64).unwrap_or_default();
        let (min, max) = (bound("min_workers"), bound("max_workers"));
        if max < min {
            return Err(Error::invalid(format!("autoscale.max_workers ({max}) must be at least autoscale.min_workers ({min})")));
        }
    }
    if let Some(name) = object.get("spark_env_vars").and_then(Value::as_object).and_then(|vars| vars.keys().find(|name| name.contains('='))) {
        return Err(Error::invalid(format!("spark_env_vars '{name}' is not a variable name: it must not contain '='")));
    }
    if let Some(minutes @ 1..10) = object.get("autotermination_minutes").and_then(Value::as_i64) {
        return Err(Error::invalid(format!("autotermination_minutes must be 0 (never) or from 10 to 10000, got {minutes}")));
    }
    Ok(spec)
}

/// The environment variables a spec asks the driver to run with (`spark_env_vars`); Kiln's
/// own variables cannot be overridden.
pub fn env_vars(spec: &Value) -> Vec<(String, String)> {
    spec.get("spark_env_vars")
        .and_then(Value::as_object)
        .map(|vars| vars.iter().filter(|(name, _)| !name.starts_with("KILN_") && name.as_str() != "PYTHONPATH").filter_map(|(name, value)| Some((name.clone(), value.as_str()?.to_string()))).collect())
        .unwrap_or_default()
}

/// The principal a single-user (dedicated) cluster is assigned to, if it is one.
pub fn single_user(spec: &Value) -> Option<&str> {
    let mode = spec.get("data_security_mode").and_then(Value::as_str)?;
    if !matches!(mode, "SINGLE_USER" | "DATA_SECURITY_MODE_DEDICATED" | "LEGACY_SINGLE_USER") {
        return None;
    }
    spec.get("single_user_name").and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_are_checked_field_by_field() {
        let ok = validate(&json!({"spark_version": "15.4.x-scala2.12", "num_workers": 0, "autotermination_minutes": 30, "extra": 1})).unwrap();
        assert_eq!(ok["extra"], 1, "unknown fields are kept");
        for (body, fragment) in [
            (json!({}), "spark_version"),
            (json!({"spark_version": "1.0.x"}), "not offered"),
            (json!({"spark_version": "15.4.x-scala2.12", "node_type_id": "huge"}), "node_type_id 'huge'"),
            (json!({"spark_version": "15.4.x-scala2.12", "num_workers": -1}), "num_workers"),
            (json!({"spark_version": "15.4.x-scala2.12", "autotermination_minutes": 5}), "autotermination_minutes"),
            (json!({"spark_version": "15.4.x-scala2.12", "autoscale": {"min_workers": 3, "max_workers": 1}}), "at least"),
            (json!({"spark_version": "15.4.x-scala2.12", "spark_env_vars": {"A": 1}}), "spark_env_vars.A must be a string"),
            (json!({"spark_version": "15.4.x-scala2.12", "spark_env_vars": {"A=B": "1"}}), "spark_env_vars 'A=B' is not a variable name"),
            (json!({"spark_version": "15.4.x-scala2.12", "autotermination_minutes": i64::MAX}), "autotermination_minutes must be a whole number from 0 to 10000"),
        ] {
            let error = validate(&body).unwrap_err();
            assert!(error.message.contains(fragment), "{body}: {}", error.message);
        }
    }

    #[test]
    fn env_vars_cannot_override_kiln_variables() {
        let spec = json!({"spark_env_vars": {"STAGE": "dev", "KILN_HOST": "x", "PYTHONPATH": "/evil"}});
        assert_eq!(env_vars(&spec), vec![("STAGE".to_string(), "dev".to_string())]);
    }
}

/// The cluster event types of the Clusters API (`EventType` in the SDK).
pub const EVENT_TYPES: &[&str] = &[
    "ADD_NODES_FAILED", "AUTOMATIC_CLUSTER_UPDATE", "AUTOSCALING_BACKOFF", "AUTOSCALING_FAILED", "AUTOSCALING_STATS_REPORT", "CLUSTER_MIGRATED",
    "CREATING", "DBFS_DOWN", "DECOMMISSION_ENDED", "DECOMMISSION_STARTED", "DEFERRED_POLICY_ENFORCEMENT_FAILED", "DEFERRED_POLICY_ENFORCEMENT_SCHEDULED",
    "DID_NOT_EXPAND_DISK", "DRIVER_HEALTHY", "DRIVER_NOT_RESPONDING", "DRIVER_UNAVAILABLE", "EDITED", "EXPANDED_DISK", "FAILED_TO_EXPAND_DISK",
    "INIT_SCRIPTS_FINISHED", "INIT_SCRIPTS_STARTED", "METASTORE_DOWN", "NODES_LOST", "NODE_BLACKLISTED", "NODE_EXCLUDED_DECOMMISSIONED", "PINNED",
    "RESIZING", "RESTARTING", "RUNNING", "SPARK_EXCEPTION", "STARTING", "TERMINATING", "UC_VOLUME_MISCONFIGURED", "UNPINNED", "UPSIZE_COMPLETED",
];

/// The distinct event types of an events filter, each one the API knows.
pub fn event_types_filter(requested: &[String]) -> Result<Vec<String>> {
    let mut distinct: Vec<String> = Vec::new();
    for (index, event_type) in requested.iter().enumerate() {
        if !EVENT_TYPES.contains(&event_type.as_str()) {
            let shown: String = event_type.chars().take(64).collect();
            return Err(Error::invalid(format!("event_types[{index}] '{shown}' is not a cluster event type")));
        }
        if !distinct.contains(event_type) {
            distinct.push(event_type.clone());
        }
    }
    Ok(distinct)
}

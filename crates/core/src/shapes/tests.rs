//! The walker on small shapes, and the declarations against bodies the official SDK sends.

use serde_json::{Value, json};

use super::*;

static SAMPLE: Shape = Shape::Object(&[
    required("name", KEY),
    optional("enabled", Shape::Bool),
    optional("count", Shape::Int { min: 0, max: 10 }),
    optional("ratio", Shape::Number),
    optional("mode", Shape::Enum(&["FAST", "SLOW"])),
    optional("description", DESCRIPTION),
    optional("tags", Shape::Map(&NAME, 2)),
    optional("items", Shape::Array(&Shape::Object(&[required("key", KEY)]), 2)),
    optional("free", Shape::Any),
    optional("child", Shape::Ref(&SAMPLE)),
]);

fn error_of(value: Value, shape: &Shape) -> String {
    check(&value, shape).expect_err(&format!("{value} must be refused")).message
}

fn assert_refused(value: Value, shape: &Shape, expected: &str) {
    let error = check(&value, shape).expect_err(&format!("{value} must be refused"));
    assert_eq!(error.code, crate::error::ErrorCode::InvalidParameterValue);
    assert_eq!(error.message, expected, "{value}");
}

#[test]
fn each_wrong_json_type_names_the_field_and_what_it_got() {
    for (value, expected) in [
        (json!({"name": 5}), "name must be a string, got a number"),
        (json!({"name": "a", "enabled": "yes"}), "enabled must be true or false, got a string"),
        (json!({"name": "a", "enabled": 1}), "enabled must be true or false, got a number"),
        (json!({"name": "a", "count": "3"}), "count must be a whole number from 0 to 10, got a string"),
        (json!({"name": "a", "count": true}), "count must be a whole number from 0 to 10, got a boolean"),
        (json!({"name": "a", "ratio": "0.5"}), "ratio must be a number, got a string"),
        (json!({"name": "a", "mode": 7}), "mode must be one of FAST, SLOW, got a number"),
        (json!({"name": "a", "tags": ["x"]}), "tags must be an object, got an array"),
        (json!({"name": "a", "tags": {"k": 5}}), "tags.k must be a string, got a number"),
        (json!({"name": "a", "items": {"key": "x"}}), "items must be an array, got an object"),
        (json!({"name": "a", "items": ["x"]}), "items[0] must be an object, got a string"),
        (json!({"name": "a", "child": 7}), "child must be an object, got a number"),
        (json!({"name": "a", "child": {"name": ["x"]}}), "child.name must be a string, got an array"),
        (json!([{"name": "a"}]), "the request body must be an object, got an array"),
        (Value::Null, "the request body must be an object, got null"),
    ] {
        assert_refused(value, &SAMPLE, expected);
    }
}

#[test]
fn null_is_absent_and_required_fields_must_be_there() {
    check(&json!({"name": "a", "enabled": null, "child": null, "items": null}), &SAMPLE).expect("null optional fields are absent");
    assert_refused(json!({}), &SAMPLE, "name is required");
    assert_refused(json!({"name": null}), &SAMPLE, "name is required");
    assert_refused(json!({"name": ""}), &SAMPLE, "name must not be empty");
    assert_refused(json!({"name": "a", "items": [{}]}), &SAMPLE, "items[0].key is required");
    assert_refused(json!({"name": "a", "items": [null]}), &SAMPLE, "items[0] must be an object, got null");
}

#[test]
fn what_was_sent_is_judged_before_what_is_missing() {
    assert_refused(json!({"items": [{"key": 5}]}), &SAMPLE, "items[0].key must be a string, got a number");
    assert_refused(json!({"enabled": "no"}), &SAMPLE, "enabled must be true or false, got a string");
}

#[test]
fn the_changes_of_an_update_may_leave_out_required_fields() {
    check_changes(&json!({"enabled": true, "items": [{}]}), &SAMPLE, "new_settings").expect("required fields may be missing from changes");
    assert_eq!(check_changes(&json!({"items": "x"}), &SAMPLE, "new_settings").unwrap_err().message, "new_settings.items must be an array, got a string");
    assert_eq!(check_changes(&json!({"name": ""}), &SAMPLE, "new_settings").unwrap_err().message, "new_settings.name must not be empty");
}

#[test]
fn unknown_enum_values_are_refused_and_quoted_when_printable() {
    assert_refused(json!({"name": "a", "mode": "NEVER"}), &SAMPLE, "mode 'NEVER' must be one of FAST, SLOW");
    assert_refused(json!({"name": "a", "mode": "fast"}), &SAMPLE, "mode 'fast' must be one of FAST, SLOW");
    assert_refused(json!({"name": "a", "mode": "X\u{0}"}), &SAMPLE, "mode must be one of FAST, SLOW");
    assert_refused(json!({"name": "a", "mode": "X".repeat(1000)}), &SAMPLE, "mode must be one of FAST, SLOW");
}

#[test]
fn numbers_out_of_range_or_not_whole_are_refused() {
    check(&json!({"name": "a", "count": 10, "ratio": -1.5}), &SAMPLE).expect("in range");
    for (count, got) in [(json!(-1), "-1"), (json!(11), "11"), (json!(i64::MAX), "9223372036854775807"), (json!(i64::MIN), "-9223372036854775808"), (json!(u64::MAX), "18446744073709551615"), (json!(1.5), "1.5"), (json!(1e300), "1e+300")] {
        assert_refused(json!({"name": "a", "count": count}), &SAMPLE, &format!("count must be a whole number from 0 to 10, got {got}"));
    }
}

#[test]
fn names_refuse_control_characters_and_free_text_allows_line_breaks() {
    for name in ["a\u{0}b", "a\u{7}b", "a\nb", "a\rb", "a\tb", "a\u{7f}b", "a\u{85}b"] {
        assert_refused(json!({"name": name}), &SAMPLE, "name must not contain control characters");
    }
    check(&json!({"name": "naïve ☃ 名前", "description": "line one\n\tline two\r\n"}), &SAMPLE).expect("unicode names and multi-line text");
    assert_refused(json!({"name": "a", "description": "a\u{0}b"}), &SAMPLE, "description must not contain control characters other than tabs and line breaks");
    assert_refused(json!({"name": "a", "tags": {"k\u{0}": "v"}}), &SAMPLE, "tags keys must not contain control characters");
    assert_refused(json!({"name": "a", "tags": {"": "v"}}), &SAMPLE, "tags keys must not be empty");
}

#[test]
fn sizes_are_capped() {
    check(&json!({"name": "x".repeat(MAX_NAME_BYTES)}), &SAMPLE).expect("at the cap");
    assert_refused(json!({"name": "x".repeat(MAX_NAME_BYTES + 1)}), &SAMPLE, "name must be at most 4096 bytes, got 4097");
    // The cap counts bytes, not characters.
    assert_refused(json!({"name": "é".repeat(MAX_NAME_BYTES / 2 + 1)}), &SAMPLE, "name must be at most 4096 bytes, got 4098");
    assert_refused(json!({"name": "a", "description": "x".repeat(1 << 20)}), &SAMPLE, &format!("description must be at most {MAX_DESCRIPTION_BYTES} bytes, got {}", 1 << 20));
    assert_refused(json!({"name": "a", "items": [{"key": "a"}, {"key": "b"}, {"key": "c"}]}), &SAMPLE, "items must have at most 2 items, got 3");
    assert_refused(json!({"name": "a", "tags": {"a": "1", "b": "2", "c": "3"}}), &SAMPLE, "tags must have at most 2 entries, got 3");
}

#[test]
fn unknown_fields_are_accepted_unchecked_at_any_depth() {
    let value = json!({
        "name": "a",
        "kiln_unknown": [1, {"x": null}],
        "child": {"name": "b", "also_unknown": {"deep": "\u{0}"}},
        "items": [{"key": "k", "extra": 5}],
        "free": {"anything": [true, 1.5, "\u{7}"]},
    });
    check(&value, &SAMPLE).expect("unknown fields pass");
}

#[test]
fn recursion_is_bounded() {
    let nested = |levels: usize| (0..levels).fold(json!({"name": "leaf"}), |inner, _| json!({"name": "n", "child": inner}));
    check(&nested(10), &SAMPLE).expect("nesting within the bound");
    // Each level is a field and a reference: two steps of the walker.
    let message = error_of(nested(MAX_DEPTH), &SAMPLE);
    assert!(message.starts_with("child.child.child.") && message.ends_with(" is nested too deeply"), "{message}");
    let message = error_of(nested(120), &SAMPLE);
    assert!(message.ends_with(" is nested too deeply") && message.len() < 200, "{message}");
    // Free-form fields are not walked, however deep.
    let deep = (0..120).fold(json!(1), |inner, _| json!([inner]));
    check(&json!({"name": "a", "free": deep}), &SAMPLE).expect("free-form");
}

#[test]
fn errors_carry_the_root_and_the_full_path() {
    let error = check_at(&json!({"name": "a", "child": {"name": "b", "items": [{"key": "x"}, {"key": 3}]}}), &SAMPLE, "query").unwrap_err();
    assert_eq!(error.message, "query.child.items[1].key must be a string, got a number");
    let error = check_at(&json!(5), &SAMPLE, "query").unwrap_err();
    assert_eq!(error.message, "query must be an object, got a number");
}

#[test]
fn prune_drops_what_no_longer_fits_and_keeps_the_rest() {
    let mut stored = json!({
        "name": "",
        "enabled": "yes",
        "count": i64::MAX,
        "items": [{"key": "a"}, 7],
        "tags": {"ok": "v", "bad": 1},
        "child": {"mode": "SOMETIMES"},
        "unknown": {"kept": true},
    });
    let removed = prune(&mut stored, &SAMPLE);
    assert_eq!(stored, json!({"name": "", "items": [{"key": "a"}], "tags": {"ok": "v"}, "child": {}, "unknown": {"kept": true}}));
    assert_eq!(removed.len(), 5, "{removed:?}");
    assert!(removed.iter().any(|r| r == "enabled must be true or false, got a string"), "{removed:?}");
    assert!(removed.iter().any(|r| r == "items[1] must be an object, got a number"), "{removed:?}");

    let mut valid = json!({"name": "a", "child": {"name": "b"}});
    assert!(prune(&mut valid, &SAMPLE).is_empty());
    assert_eq!(valid, json!({"name": "a", "child": {"name": "b"}}));

    let mut not_an_object = json!(7);
    assert_eq!(prune(&mut not_an_object, &SAMPLE), vec!["the stored value must be an object, got a number".to_string()]);
    assert_eq!(not_an_object, json!({}));
}

// --- the declarations -----------------------------------------------------------------------

/// `JobSettings.as_dict()` of a job using most of what Kiln runs, as the SDK sends it.
fn sdk_job() -> Value {
    json!({"description": "Loads\nthe warehouse", "email_notifications": {"on_failure": ["ops@example.com"]}, "health": {"rules": [{"metric": "RUN_DURATION_SECONDS", "op": "GREATER_THAN", "value": 7200}]}, "job_clusters": [{"job_cluster_key": "big", "new_cluster": {"autotermination_minutes": 60, "aws_attributes": {"availability": "SPOT_WITH_FALLBACK", "first_on_demand": 1, "zone_id": "auto"}, "custom_tags": {"team": "data"}, "data_security_mode": "SINGLE_USER", "node_type_id": "i3.xlarge", "num_workers": 2, "runtime_engine": "PHOTON", "single_user_name": "a@example.com", "spark_conf": {"spark.speculation": "true"}, "spark_env_vars": {"STAGE": "dev"}, "spark_version": "15.4.x-scala2.12"}}], "max_concurrent_runs": 1, "name": "nightly etl", "parameters": [{"default": "", "name": "date"}], "queue": {"enabled": true}, "run_as": {"user_name": "a@example.com"}, "schedule": {"pause_status": "UNPAUSED", "quartz_cron_expression": "0 0 2 * * ?", "timezone_id": "Europe/Oslo"}, "tags": {"team": "data"}, "tasks": [{"job_cluster_key": "big", "libraries": [{"pypi": {"package": "requests==2.32.0"}}], "max_retries": -1, "min_retry_interval_millis": 60000, "notebook_task": {"base_parameters": {"date": "{{job.parameters.date}}"}, "notebook_path": "/Shared/extract", "source": "WORKSPACE"}, "retry_on_timeout": true, "task_key": "extract", "timeout_seconds": 600}, {"condition_task": {"left": "{{tasks.extract.values.rows}}", "op": "GREATER_THAN", "right": "0"}, "depends_on": [{"task_key": "extract"}], "task_key": "check"}, {"depends_on": [{"outcome": "true", "task_key": "check"}], "run_if": "ALL_SUCCESS", "sql_task": {"parameters": {"d": "x"}, "query": {"query_id": "q1"}, "warehouse_id": "abc123"}, "task_key": "load"}, {"depends_on": [{"task_key": "load"}], "for_each_task": {"concurrency": 2, "inputs": "[\"a\",\"b\"]", "task": {"existing_cluster_id": "0101-abc", "spark_python_task": {"parameters": ["--city", "{{input}}"], "python_file": "/Workspace/Shared/x.py"}, "task_key": "each_inner"}}, "task_key": "each"}, {"run_job_task": {"job_id": 1234567890123456_i64, "job_parameters": {"date": "2024-01-01"}}, "task_key": "child"}], "timeout_seconds": 3600, "webhook_notifications": {"on_failure": [{"id": "abc"}]}})
}

/// Sets `value` at a dotted path with `[i]` indices, creating nothing.
fn with(mut document: Value, path: &str, value: Value) -> Value {
    let mut node = &mut document;
    let steps: Vec<&str> = path.split('.').collect();
    for (index, step) in steps.iter().enumerate() {
        let (name, item) = match step.split_once('[') {
            Some((name, rest)) => (name, Some(rest.trim_end_matches(']').parse::<usize>().expect("index"))),
            None => (*step, None),
        };
        let last = index + 1 == steps.len();
        if last && item.is_none() {
            node[name] = value;
            return document;
        }
        node = &mut node[name];
        if let Some(item) = item {
            if last {
                node[item] = value;
                return document;
            }
            node = &mut node[item];
        }
    }
    document
}

#[test]
fn the_sdks_job_bodies_pass() {
    check(&sdk_job(), &jobs::JOB_SETTINGS).expect("a job as the SDK sends it");
    crate::jobs::settings::validate_job(&sdk_job()).expect("and Kiln's own rules");
    let submit = json!({"run_name": "one-off", "idempotency_token": "8f0e-4", "timeout_seconds": 0, "access_control_list": [{"user_name": "b@example.com", "permission_level": "CAN_VIEW"}],
        "tasks": [{"task_key": "t", "new_cluster": {"spark_version": "15.4.x-scala2.12", "num_workers": 0}, "notebook_task": {"notebook_path": "/Shared/nb", "base_parameters": {"a": "line 1\nline 2"}}}]});
    check(&submit, &jobs::SUBMIT_RUN).expect("a one-time run");
    check(&json!({"job_id": 7, "job_parameters": {"date": "2024-01-01"}, "notebook_params": {}, "python_params": ["--verbose"], "idempotency_token": null}), &jobs::RUN_NOW).expect("run-now");
    assert_eq!(error_of(json!({"job_id": 7, "python_params": [{"a": 1}]}), &jobs::RUN_NOW), "python_params[0] must be a string, got an object");
    assert_eq!(error_of(json!({"job_id": 7, "idempotency_token": "x".repeat(65)}), &jobs::RUN_NOW), "idempotency_token must be at most 64 bytes, got 65");
}

#[test]
fn job_settings_refuse_bad_values_naming_the_field() {
    for (path, value, expected) in [
        ("run_as", json!(7), "run_as must be an object, got a number"),
        ("parameters", json!(7), "parameters must be an array, got a number"),
        ("timeout_seconds", json!(i64::MAX), "timeout_seconds must be a whole number from 0 to 315360000, got 9223372036854775807"),
        ("timeout_seconds", json!(-1), "timeout_seconds must be a whole number from 0 to 315360000, got -1"),
        ("tasks[0].timeout_seconds", json!(1e300), "tasks[0].timeout_seconds must be a whole number from 0 to 315360000, got 1e+300"),
        ("tasks[0].min_retry_interval_millis", json!(i64::MAX), "tasks[0].min_retry_interval_millis must be a whole number from 0 to 315360000000, got 9223372036854775807"),
        ("tasks[0].max_retries", json!(-2), "tasks[0].max_retries must be a whole number from -1 to 1000, got -2"),
        ("tasks[2].run_if", json!("NEVER"), "tasks[2].run_if 'NEVER' must be one of ALL_SUCCESS, AT_LEAST_ONE_SUCCESS, NONE_FAILED, ALL_DONE, AT_LEAST_ONE_FAILED, ALL_FAILED"),
        ("tasks[2].depends_on[0].task_key", json!(5), "tasks[2].depends_on[0].task_key must be a string, got a number"),
        ("tasks[2].depends_on[0].outcome", json!("maybe"), "tasks[2].depends_on[0].outcome 'maybe' must be one of true, false"),
        ("tasks[0].task_key", json!("a\u{0}b"), "tasks[0].task_key must not contain control characters"),
        ("tasks[0].task_key", Value::Null, "tasks[0].task_key is required"),
        ("tasks[0].notebook_task.base_parameters", json!({"k": 5}), "tasks[0].notebook_task.base_parameters.k must be a string, got a number"),
        ("tasks[3].for_each_task.task.spark_python_task.parameters", json!([1]), "tasks[3].for_each_task.task.spark_python_task.parameters[0] must be a string, got a number"),
        ("tasks[3].for_each_task.concurrency", json!(0), "tasks[3].for_each_task.concurrency must be a whole number from 1 to 100, got 0"),
        ("job_clusters[0].new_cluster.spark_conf", json!({"x": true}), "job_clusters[0].new_cluster.spark_conf.x must be a string, got a boolean"),
        ("job_clusters[0].new_cluster.num_workers", json!(-1), "job_clusters[0].new_cluster.num_workers must be a whole number from 0 to 100000, got -1"),
        ("schedule.pause_status", json!("KILN_NOT_A_VALUE"), "schedule.pause_status 'KILN_NOT_A_VALUE' must be one of PAUSED, UNPAUSED"),
        ("trigger", json!({"periodic": {"interval": i64::MAX, "unit": "WEEKS"}}), "trigger.periodic.interval must be a whole number from 1 to 100000, got 9223372036854775807"),
        ("max_concurrent_runs", json!(1001), "max_concurrent_runs must be a whole number from 0 to 1000, got 1001"),
        ("name", json!("x".repeat(1 << 20)), "name must be at most 4096 bytes, got 1048576"),
        ("name", json!("etl\n"), "name must not contain control characters"),
        ("tags", json!({"a": "1", "b": {"c": "d"}}), "tags.b must be a string, got an object"),
        ("webhook_notifications.on_failure", json!([{"id": "1"}, {"id": "2"}, {"id": "3"}, {"id": "4"}]), "webhook_notifications.on_failure must have at most 3 items, got 4"),
        ("queue.enabled", json!("yes"), "queue.enabled must be true or false, got a string"),
    ] {
        let settings = with(sdk_job(), path, value);
        let error = crate::jobs::settings::validate_job(&settings).expect_err(path);
        assert_eq!(error.message, expected, "{path}");
    }
}

#[test]
fn the_sdks_cluster_warehouse_and_query_bodies_pass() {
    let cluster = json!({"cluster_name": "etl", "spark_version": "15.4.x-scala2.12", "node_type_id": "m5d.large", "num_workers": 0, "autotermination_minutes": 30,
        "spark_conf": {"spark.databricks.cluster.profile": "singleNode", "spark.master": "local[*, 4]"}, "custom_tags": {"ResourceClass": "SingleNode"},
        "data_security_mode": "DATA_SECURITY_MODE_DEDICATED", "single_user_name": "a@example.com", "kind": "CLASSIC_PREVIEW", "is_single_node": true,
        "init_scripts": [{"workspace": {"destination": "/Users/a@example.com/init.sh"}}], "ssh_public_keys": ["ssh-ed25519 AAAAC3Nz a@host"]});
    crate::clusters::spec::validate(&cluster).expect("a cluster as the SDK sends it");
    check(&json!({"cluster_id": "0101-abc", "spark_version": "15.4.x-scala2.12", "autoscale": {"min_workers": 1, "max_workers": 4}}), &clusters::CLUSTER_SPEC).expect("an edit");

    let warehouse = json!({"name": "reporting", "cluster_size": "2X-Small", "auto_stop_mins": 10, "min_num_clusters": 1, "max_num_clusters": 2, "enable_photon": true,
        "enable_serverless_compute": false, "warehouse_type": "PRO", "spot_instance_policy": "COST_OPTIMIZED", "channel": {"name": "CHANNEL_NAME_CURRENT"},
        "tags": {"custom_tags": [{"key": "team", "value": "probe"}]}});
    check(&warehouse, &sql::WAREHOUSE).expect("a warehouse as the SDK sends it");

    let query = json!({"display_name": "daily orders", "query_text": "SELECT *\nFROM orders\tWHERE d = :d", "warehouse_id": "abc", "catalog": "main", "schema": "default",
        "description": "Orders of a day", "tags": ["finance"], "apply_auto_limit": true, "run_as_mode": "OWNER",
        "parameters": [{"name": "d", "title": "Day", "text_value": {"value": "2024-01-01"}}, {"name": "n", "numeric_value": {"value": 2.5}},
            {"name": "e", "enum_value": {"values": ["a"], "enum_options": "a\nb", "multi_values_options": {"prefix": "'", "separator": ",", "suffix": "'"}}},
            {"name": "r", "date_range_value": {"dynamic_date_range_value": "LAST_7_DAYS", "precision": "DAY_PRECISION", "start_day_of_week": 1}}]});
    check_at(&query, &sql::QUERY, "query").expect("a saved query as the SDK sends it");
}

#[test]
fn cluster_warehouse_and_query_bodies_refuse_bad_values() {
    let cluster = json!({"spark_version": "15.4.x-scala2.12", "num_workers": 0});
    for (path, value, expected) in [
        ("autotermination_minutes", json!(i64::MAX), "autotermination_minutes must be a whole number from 0 to 10000, got 9223372036854775807"),
        ("data_security_mode", json!("KILN_NOT_A_VALUE"), "data_security_mode 'KILN_NOT_A_VALUE' must be one of DATA_SECURITY_MODE_AUTO, DATA_SECURITY_MODE_DEDICATED, DATA_SECURITY_MODE_STANDARD, LEGACY_PASSTHROUGH, LEGACY_SINGLE_USER, LEGACY_SINGLE_USER_STANDARD, LEGACY_TABLE_ACL, NONE, SINGLE_USER, USER_ISOLATION"),
        ("spark_env_vars", json!({"A\u{0}": "1"}), "spark_env_vars keys must not contain control characters"),
        ("custom_tags", json!("team=data"), "custom_tags must be an object, got a string"),
        ("autoscale", json!({"min_workers": 1}), "autoscale.max_workers is required"),
        ("cluster_name", json!("x".repeat(101)), "cluster_name must be at most 100 bytes, got 101"),
    ] {
        assert_eq!(crate::clusters::spec::validate(&with(cluster.clone(), path, value)).unwrap_err().message, expected, "{path}");
    }

    let warehouse = json!({"name": "w", "cluster_size": "Small"});
    for (path, value, expected) in [
        ("auto_stop_mins", json!(-1), "auto_stop_mins must be a whole number from 0 to 5256000, got -1"),
        ("min_num_clusters", json!(0), "min_num_clusters must be a whole number from 1 to 30, got 0"),
        ("warehouse_type", json!("HUGE"), "warehouse_type 'HUGE' must be one of CLASSIC, PRO, REALTIME, TYPE_UNSPECIFIED"),
        ("channel", json!({"name": "CHANNEL_NAME_NIGHTLY"}), "channel.name 'CHANNEL_NAME_NIGHTLY' must be one of CHANNEL_NAME_CURRENT, CHANNEL_NAME_CUSTOM, CHANNEL_NAME_PREVIEW, CHANNEL_NAME_PREVIOUS"),
        ("name", json!("w".repeat(100)), "name must be at most 99 bytes, got 100"),
        ("tags", json!({"custom_tags": [{"key": "a", "value": "b\nc"}]}), "tags.custom_tags[0].value must not contain control characters"),
    ] {
        assert_eq!(error_of(with(warehouse.clone(), path, value), &sql::WAREHOUSE), expected, "{path}");
    }

    let query = json!({"display_name": "q", "query_text": "SELECT 1"});
    for (path, value, expected) in [
        ("parameters", json!(7), "query.parameters must be an array, got a number"),
        ("tags", json!(["a", 1]), "query.tags[1] must be a string, got a number"),
        ("run_as_mode", json!("ANYONE"), "query.run_as_mode 'ANYONE' must be one of OWNER, VIEWER"),
        ("display_name", json!("a\u{7}"), "query.display_name must not contain control characters"),
        ("query_text", Value::Null, "query.query_text is required"),
        ("query_text", json!("SELECT\u{0}1"), "query.query_text must not contain control characters other than tabs and line breaks"),
        ("parameters", json!([{"name": "n", "numeric_value": {"value": "2"}}]), "query.parameters[0].numeric_value.value must be a number, got a string"),
    ] {
        assert_eq!(check_at(&with(query.clone(), path, value), &sql::QUERY, "query").unwrap_err().message, expected, "{path}");
    }
}

#[test]
fn the_other_declarations_take_the_sdks_bodies_and_refuse_bad_values() {
    let destination = json!({"display_name": "hook", "config": {"generic_webhook": {"url": "https://example.com/hook", "username": "u", "password": "p@ss w0rd"}}});
    check(&destination, &notifications::DESTINATION).expect("a webhook destination");
    assert_eq!(
        error_of(with(destination.clone(), "config.generic_webhook.password", json!("p\u{0}")), &notifications::DESTINATION),
        "config.generic_webhook.password must not contain control characters"
    );
    assert_eq!(error_of(with(destination, "config.generic_webhook.url", json!(5)), &notifications::DESTINATION), "config.generic_webhook.url must be a string, got a number");

    let user = json!({"userName": "a@example.com", "displayName": "A", "emails": [{"value": "a@example.com", "type": "work", "primary": true}], "name": {"givenName": "A", "familyName": "B"},
        "entitlements": [{"value": "allow-cluster-create"}, {"value": "workspace-access"}], "roles": [{"value": "arn:aws:iam::1:instance-profile/x"}]});
    check(&user, &scim::PRINCIPAL).expect("a user");
    assert_eq!(
        error_of(with(user.clone(), "entitlements[1].value", json!("x")), &scim::PRINCIPAL),
        "entitlements[1].value 'x' must be one of allow-cluster-create, allow-instance-pool-create, databricks-sql-access, workspace-access, workspace-consume"
    );
    assert_eq!(error_of(with(user.clone(), "emails[0].primary", json!("yes")), &scim::PRINCIPAL), "emails[0].primary must be true or false, got a string");
    assert_eq!(error_of(with(user, "displayName", json!("x".repeat(1 << 20))), &scim::PRINCIPAL), "displayName must be at most 256 bytes, got 1048576");

    let function = json!({"name": "add_one", "catalog_name": "main", "schema_name": "default", "input_params": {"parameters": [{"name": "x", "type_text": "int", "type_name": "INT", "position": 0}]},
        "data_type": "INT", "full_data_type": "int", "routine_body": "SQL", "routine_definition": "x + 1", "parameter_style": "S", "is_deterministic": true,
        "sql_data_access": "CONTAINS_SQL", "is_null_call": false, "security_type": "DEFINER", "specific_name": "add_one"});
    check_at(&function, &uc::FUNCTION, "function_info").expect("a function");
    for (path, value, expected) in [
        ("input_params.parameters[0].name", json!("x\u{0}"), "function_info.input_params.parameters[0].name must not contain control characters"),
        ("input_params.parameters[0].type_name", json!("INTEGER"), "function_info.input_params.parameters[0].type_name 'INTEGER' must be one of ARRAY, BINARY, BOOLEAN, BYTE, CHAR, DATE, DECIMAL, DOUBLE, FLOAT, GEOGRAPHY, GEOMETRY, INT, INTERVAL, LONG, MAP, NULL, SHORT, STRING, STRUCT, TABLE_TYPE, TIMESTAMP, TIMESTAMP_NTZ, USER_DEFINED_TYPE, VARIANT"),
        ("input_params.parameters[0].type_text", json!(""), "function_info.input_params.parameters[0].type_text must not be empty"),
        ("sql_data_access", json!("WRITES"), "function_info.sql_data_access 'WRITES' must be one of CONTAINS_SQL, NO_SQL, READS_SQL_DATA"),
    ] {
        assert_eq!(check_at(&with(function.clone(), path, value), &uc::FUNCTION, "function_info").unwrap_err().message, expected, "{path}");
    }
    check(&json!({"name": "sales", "comment": "Sales\ndata", "properties": {"owner.team": "finance"}}), &uc::SECURABLE).expect("a catalog");
    assert_eq!(error_of(json!({"comment": "x", "properties": {"k": 1}}), &uc::UPDATE), "properties.k must be a string, got a number");

    let acl = json!([{"user_name": "a@example.com", "permission_level": "CAN_VIEW"}, {"group_name": "users", "permission_level": "CAN_MANAGE"}]);
    check_at(&acl, &permissions::ACCESS_CONTROL_LIST, "access_control_list").expect("an ACL");
    assert_eq!(
        check_at(&json!([{"user_name": "a\nb", "permission_level": "CAN_VIEW"}]), &permissions::ACCESS_CONTROL_LIST, "access_control_list").unwrap_err().message,
        "access_control_list[0].user_name must not contain control characters"
    );
}

#[test]
fn stored_jobs_that_no_longer_fit_read_without_the_bad_fields() {
    let mut stored = with(with(sdk_job(), "run_as", json!(7)), "tasks[0].timeout_seconds", json!(i64::MAX));
    let removed = prune(&mut stored, &jobs::JOB_SETTINGS);
    assert_eq!(removed, vec!["run_as must be an object, got a number".to_string(), "tasks[0].timeout_seconds must be a whole number from 0 to 315360000, got 9223372036854775807".to_string()]);
    assert!(stored.get("run_as").is_none() && stored["tasks"][0].get("timeout_seconds").is_none());
    assert_eq!(stored["tasks"][0]["task_key"], "extract", "the rest of the task stays");
    check(&stored, &jobs::JOB_SETTINGS).expect("what remains is valid");
}

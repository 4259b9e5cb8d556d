//! Jobs (`jobs.py` of the SDK): job settings, the tasks of a job or a one-time run, and the
//! parameters of `run-now`. Task types Kiln refuses by name (`spark_jar_task`, ...) are not
//! declared; `jobs::settings` refuses them.

use super::clusters::{CLUSTER_SPEC, LIBRARY};
use super::{
    DESCRIPTION, Field, KEY, MAX_ITEMS, MILLIS, NAME, NAMES, PARAMETERS, SECONDS, Shape, Text, VALUE, VALUES,
    optional, required,
};

/// Most tasks of one job or run, as Databricks documents.
pub const MAX_TASKS: usize = 1000;
/// Most destinations per webhook event, as Databricks documents.
const MAX_WEBHOOKS: usize = 3;
/// Most tags of a job, as Databricks documents.
const MAX_TAGS: usize = 25;
/// Longest idempotency token, as Databricks documents.
const MAX_TOKEN_BYTES: usize = 64;
/// Largest periodic trigger interval in any unit; a week's milliseconds times this stays far
/// below `i64::MAX` when added to a start time.
pub const MAX_PERIODIC_INTERVAL: i64 = 100_000;
/// Job ids are positive.
const JOB_ID: Shape = Shape::Int { min: 1, max: i64::MAX };
/// `max_retries`: -1 retries (up to Kiln's cap) until success; more than the cap is refused.
const MAX_RETRIES: i64 = 1000;

const RUN_IF: &[&str] = &["ALL_SUCCESS", "AT_LEAST_ONE_SUCCESS", "NONE_FAILED", "ALL_DONE", "AT_LEAST_ONE_FAILED", "ALL_FAILED"];
const CONDITION_OPS: &[&str] = &["EQUAL_TO", "GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL", "NOT_EQUAL"];
const PAUSE_STATUS: Shape = Shape::Enum(&["PAUSED", "UNPAUSED"]);
const SOURCE: Shape = Shape::Enum(&["GIT", "WORKSPACE"]);
const TASK_RETRY_MODE: Shape = Shape::Enum(&["NEVER", "ON_FAILURE"]);
const PERIODIC_UNIT: Shape = Shape::Enum(&["MINUTES", "HOURS", "DAYS", "WEEKS"]);
const PERMISSION_LEVEL: Shape = Shape::Enum(&["CAN_MANAGE", "CAN_MANAGE_RUN", "CAN_VIEW", "IS_OWNER"]);
const PERFORMANCE_TARGET: Shape = Shape::Enum(&["PERFORMANCE_OPTIMIZED", "STANDARD"]);
const GIT_PROVIDER: Shape =
    Shape::Enum(&["awsCodeCommit", "azureDevOpsServices", "bitbucketCloud", "bitbucketServer", "gitHub", "gitHubEnterprise", "gitLab", "gitLabEnterpriseEdition"]);

/// `for_each_task.inputs`: a JSON array as text, or a reference to one.
const INPUTS: Shape = Shape::Str(Text { max_bytes: 1024 * 1024, multiline: true, non_empty: true });
/// Optional seconds that must not be negative (trigger throttles).
const THROTTLE_SECONDS: Shape = SECONDS;

const EMAIL_NOTIFICATIONS: Shape = Shape::Object(&[
    optional("no_alert_for_skipped_runs", Shape::Bool),
    optional("on_duration_warning_threshold_exceeded", NAMES),
    optional("on_failure", NAMES),
    optional("on_maintenance_complete", NAMES),
    optional("on_maintenance_start", NAMES),
    optional("on_start", NAMES),
    optional("on_streaming_backlog_exceeded", NAMES),
    optional("on_success", NAMES),
]);

const WEBHOOKS: Shape = Shape::Array(&Shape::Object(&[required("id", KEY)]), MAX_WEBHOOKS);

const WEBHOOK_NOTIFICATIONS: Shape = Shape::Object(&[
    optional("on_duration_warning_threshold_exceeded", WEBHOOKS),
    optional("on_failure", WEBHOOKS),
    optional("on_maintenance_complete", WEBHOOKS),
    optional("on_maintenance_start", WEBHOOKS),
    optional("on_start", WEBHOOKS),
    optional("on_streaming_backlog_exceeded", WEBHOOKS),
    optional("on_success", WEBHOOKS),
]);

const HEALTH: Shape = Shape::Object(&[optional(
    "rules",
    Shape::Array(
        &Shape::Object(&[
            required("metric", Shape::Enum(&["RUN_DURATION_SECONDS", "STREAMING_BACKLOG_BYTES", "STREAMING_BACKLOG_FILES", "STREAMING_BACKLOG_RECORDS", "STREAMING_BACKLOG_SECONDS"])),
            required("op", Shape::Enum(&["GREATER_THAN"])),
            required("value", Shape::Int { min: 0, max: i64::MAX }),
        ]),
        MAX_ITEMS,
    ),
)]);

const NOTIFICATION_SETTINGS: Shape = Shape::Object(&[
    optional("alert_on_last_attempt", Shape::Bool),
    optional("no_alert_for_canceled_runs", Shape::Bool),
    optional("no_alert_for_skipped_runs", Shape::Bool),
]);

const RUN_AS: Shape = Shape::Object(&[optional("group_name", NAME), optional("service_principal_name", NAME), optional("user_name", NAME)]);

const QUEUE: Shape = Shape::Object(&[required("enabled", Shape::Bool)]);

const GIT_SOURCE: Shape = Shape::Object(&[
    required("git_url", KEY),
    required("git_provider", GIT_PROVIDER),
    optional("git_branch", NAME),
    optional("git_commit", NAME),
    optional("git_tag", NAME),
    optional("git_snapshot", Shape::Object(&[optional("used_commit", NAME)])),
    optional(
        "job_source",
        Shape::Object(&[required("job_config_path", KEY), required("import_from_git_branch", KEY), optional("dirty_state", Shape::Enum(&["DISCONNECTED", "NOT_SYNCED"]))]),
    ),
    optional("sparse_checkout", Shape::Object(&[optional("patterns", NAMES)])),
]);

const ENVIRONMENTS: Shape = Shape::Array(
    &Shape::Object(&[
        required("environment_key", KEY),
        optional(
            "spec",
            Shape::Object(&[
                optional("base_environment", NAME),
                optional("client", NAME),
                optional("dependencies", NAMES),
                optional("environment_version", NAME),
                optional("java_dependencies", NAMES),
                optional("project_environment", NAME),
            ]),
        ),
    ]),
    MAX_ITEMS,
);

/// Databricks documents at most 20 variables, keys of 1 to 256 characters and values of up to
/// 512 characters.
const ENVIRONMENT_VARIABLES: Shape = Shape::Array(
    &Shape::Object(&[
        required("environment_variables_key", KEY),
        optional("spec", Shape::Object(&[optional("files", NAMES), optional("variables", Shape::Map(&Shape::Str(Text::free(4 * 512)), 20))])),
    ]),
    MAX_ITEMS,
);

const MAINTENANCE_WINDOW: Shape = Shape::Object(&[
    required("start_hour", Shape::Int { min: 0, max: 23 }),
    required("day_of_week", Shape::Enum(&["FRIDAY", "MONDAY", "SATURDAY", "SUNDAY", "THURSDAY", "TUESDAY", "WEDNESDAY"])),
    required("timezone_id", KEY),
]);

const CONTINUOUS: Shape =
    Shape::Object(&[optional("maintenance_window", MAINTENANCE_WINDOW), optional("pause_status", PAUSE_STATUS), optional("task_retry_mode", TASK_RETRY_MODE)]);

const SQL_CONDITION: Shape = Shape::Object(&[
    required("sql_query_id", KEY),
    required("warehouse_id", KEY),
    optional("trigger_mode", Shape::Enum(&["QUERY_RETURNS_ROWS", "RESULT_VALUE_CHANGES"])),
]);

const FILE_ARRIVAL: Shape =
    Shape::Object(&[required("url", KEY), optional("min_time_between_triggers_seconds", THROTTLE_SECONDS), optional("wait_after_last_change_seconds", THROTTLE_SECONDS)]);

const MODEL_TRIGGER: Shape = Shape::Object(&[
    required("condition", Shape::Enum(&["MODEL_ALIAS_SET", "MODEL_CREATED", "MODEL_VERSION_READY"])),
    optional("aliases", NAMES),
    optional("min_time_between_triggers_seconds", THROTTLE_SECONDS),
    optional("securable_name", NAME),
    optional("wait_after_last_change_seconds", THROTTLE_SECONDS),
]);

const TABLE_UPDATE: Shape = Shape::Object(&[
    required("table_names", NAMES),
    optional("condition", Shape::Enum(&["ALL_UPDATED", "ANY_UPDATED"])),
    optional("min_time_between_triggers_seconds", THROTTLE_SECONDS),
    optional("wait_after_last_change_seconds", THROTTLE_SECONDS),
]);

const PERIODIC: Shape = Shape::Object(&[required("interval", Shape::Int { min: 1, max: MAX_PERIODIC_INTERVAL }), required("unit", PERIODIC_UNIT)]);

const CRON_SCHEDULE: Shape = Shape::Object(&[
    required("quartz_cron_expression", KEY),
    required("timezone_id", KEY),
    optional("pause_status", PAUSE_STATUS),
    optional("sql_condition", SQL_CONDITION),
]);

const TRIGGER: Shape = Shape::Object(&[
    optional("file_arrival", FILE_ARRIVAL),
    optional("model", MODEL_TRIGGER),
    optional("pause_status", PAUSE_STATUS),
    optional("periodic", PERIODIC),
    optional("sql_condition", SQL_CONDITION),
    optional("table_update", TABLE_UPDATE),
]);

const TRIGGERS: Shape = Shape::Array(
    &Shape::Object(&[
        optional("continuous", Shape::Object(&[optional("maintenance_window", MAINTENANCE_WINDOW), optional("task_retry_mode", TASK_RETRY_MODE)])),
        optional("file_arrival", FILE_ARRIVAL),
        optional("model", MODEL_TRIGGER),
        optional("pause_status", PAUSE_STATUS),
        optional("periodic", PERIODIC),
        optional("schedule", Shape::Object(&[required("quartz_cron_expression", KEY), required("timezone_id", KEY)])),
        optional("sql_condition", SQL_CONDITION),
        optional("table_update", TABLE_UPDATE),
    ]),
    MAX_ITEMS,
);

/// A job cluster: Kiln has no serverless compute, so `new_cluster` is required.
const JOB_CLUSTER: Shape = Shape::Object(&[required("job_cluster_key", KEY), required("new_cluster", Shape::Ref(&CLUSTER_SPEC)), optional("serverless_compute_id", NAME)]);

const JOB_PARAMETER: Shape = Shape::Object(&[required("name", KEY), required("default", VALUE)]);

const NOTEBOOK_TASK: Shape =
    Shape::Object(&[required("notebook_path", KEY), optional("base_parameters", PARAMETERS), optional("source", SOURCE), optional("warehouse_id", NAME)]);

const SPARK_PYTHON_TASK: Shape = Shape::Object(&[required("python_file", KEY), optional("parameters", VALUES), optional("source", SOURCE)]);

const SQL_TASK: Shape = Shape::Object(&[
    required("warehouse_id", KEY),
    optional("file", Shape::Object(&[required("path", KEY), optional("source", SOURCE)])),
    optional("query", Shape::Object(&[required("query_id", KEY)])),
    optional("parameters", PARAMETERS),
]);

const CONDITION_TASK: Shape = Shape::Object(&[required("op", Shape::Enum(CONDITION_OPS)), required("left", VALUE), required("right", VALUE)]);

const PIPELINE_PARAMS: Shape = Shape::Object(&[
    optional("full_refresh", Shape::Bool),
    optional("full_refresh_selection", NAMES),
    optional("refresh_flow_selection", NAMES),
    optional("refresh_selection", NAMES),
    optional("reset_checkpoint_selection", NAMES),
]);

/// What a run of a job is given: the parameters of run-now, run_job_task and repair.
const RUN_PARAMETERS: &[Field] = &[
    optional("job_parameters", PARAMETERS),
    optional("notebook_params", PARAMETERS),
    optional("python_named_params", PARAMETERS),
    optional("sql_params", PARAMETERS),
    optional("python_params", VALUES),
    optional("jar_params", VALUES),
    optional("spark_submit_params", VALUES),
    optional("dbt_commands", VALUES),
    optional("pipeline_params", PIPELINE_PARAMS),
];

const RUN_JOB_TASK: Shape = Shape::ObjectOf(&[&[required("job_id", JOB_ID)], RUN_PARAMETERS]);

/// A task of a job (`Task`) or of a one-time run (`SubmitTask`).
pub static TASK: Shape = Shape::Object(&[
    required("task_key", KEY),
    optional("depends_on", Shape::Array(&Shape::Object(&[required("task_key", KEY), optional("outcome", Shape::Enum(&["true", "false"]))]), MAX_TASKS)),
    optional("description", DESCRIPTION),
    optional("disable_auto_optimization", Shape::Bool),
    optional("disabled", Shape::Bool),
    optional("email_notifications", EMAIL_NOTIFICATIONS),
    optional("environment_key", KEY),
    optional("environment_variables_key", KEY),
    optional("existing_cluster_id", KEY),
    // Inline: a constant cannot name the static it sits in.
    optional("for_each_task", Shape::Object(&[required("inputs", INPUTS), required("task", Shape::Ref(&TASK)), optional("concurrency", Shape::Int { min: 1, max: 100 })])),
    optional("health", HEALTH),
    optional("job_cluster_key", KEY),
    optional("libraries", Shape::Array(&LIBRARY, MAX_ITEMS)),
    optional("max_retries", Shape::Int { min: -1, max: MAX_RETRIES }),
    optional("min_retry_interval_millis", MILLIS),
    optional("new_cluster", Shape::Ref(&CLUSTER_SPEC)),
    optional("notebook_task", NOTEBOOK_TASK),
    optional("notification_settings", NOTIFICATION_SETTINGS),
    optional("retry_on_timeout", Shape::Bool),
    optional("run_if", Shape::Enum(RUN_IF)),
    optional("run_job_task", RUN_JOB_TASK),
    optional("spark_python_task", SPARK_PYTHON_TASK),
    optional("sql_task", SQL_TASK),
    optional("condition_task", CONDITION_TASK),
    optional("compute", Shape::Object(&[optional("hardware_accelerator", Shape::Enum(&["GPU_1xA10", "GPU_1xH100", "GPU_8xB300", "GPU_8xH100"]))])),
    optional("timeout_seconds", SECONDS),
    optional("webhook_notifications", WEBHOOK_NOTIFICATIONS),
]);

const TASKS: Shape = Shape::Array(&TASK, MAX_TASKS);

/// `access_control_list` of a create or submit body.
pub static ACCESS_CONTROL_LIST: Shape = Shape::Array(
    &Shape::Object(&[optional("group_name", NAME), optional("permission_level", PERMISSION_LEVEL), optional("service_principal_name", NAME), optional("user_name", NAME)]),
    MAX_ITEMS,
);

/// `JobSettings`: the body of `jobs/create` and `new_settings` of reset and update (checked
/// after the update's merge). A create also takes `access_control_list`.
pub static JOB_SETTINGS: Shape = Shape::Object(&[
    optional("access_control_list", Shape::Ref(&ACCESS_CONTROL_LIST)),
    optional("budget_policy_id", NAME),
    optional("continuous", CONTINUOUS),
    optional("deployment", Shape::Object(&[required("kind", Shape::Enum(&["BUNDLE", "SYSTEM_MANAGED"])), optional("deployment_id", NAME), optional("metadata_file_path", NAME), optional("version_id", NAME)])),
    optional("description", DESCRIPTION),
    optional("duration_target", NAME),
    optional("edit_mode", Shape::Enum(&["EDITABLE", "UI_LOCKED"])),
    optional("email_notifications", EMAIL_NOTIFICATIONS),
    optional("environment_variables", ENVIRONMENT_VARIABLES),
    optional("environments", ENVIRONMENTS),
    optional("format", Shape::Enum(&["MULTI_TASK", "SINGLE_TASK"])),
    optional("git_source", GIT_SOURCE),
    optional("health", HEALTH),
    optional("job_clusters", Shape::Array(&JOB_CLUSTER, MAX_ITEMS)),
    optional("max_concurrent_runs", Shape::Int { min: 0, max: 1000 }),
    optional("name", NAME),
    optional("notification_settings", NOTIFICATION_SETTINGS),
    optional("parameters", Shape::Array(&JOB_PARAMETER, MAX_ITEMS)),
    optional("parent_path", NAME),
    optional("performance_target", PERFORMANCE_TARGET),
    optional("queue", QUEUE),
    optional("run_as", RUN_AS),
    optional("schedule", CRON_SCHEDULE),
    optional("tags", Shape::Map(&NAME, MAX_TAGS)),
    optional("tasks", TASKS),
    optional("timeout_seconds", SECONDS),
    optional("trigger", TRIGGER),
    optional("triggers", TRIGGERS),
    optional("usage_policy_id", NAME),
    optional("webhook_notifications", WEBHOOK_NOTIFICATIONS),
]);

/// The body of `runs/submit`. Kiln also takes `job_clusters`, which tasks name by key.
pub static SUBMIT_RUN: Shape = Shape::Object(&[
    optional("access_control_list", Shape::Ref(&ACCESS_CONTROL_LIST)),
    optional("budget_policy_id", NAME),
    optional("duration_target", NAME),
    optional("email_notifications", EMAIL_NOTIFICATIONS),
    optional("environment_variables", ENVIRONMENT_VARIABLES),
    optional("environments", ENVIRONMENTS),
    optional("git_source", GIT_SOURCE),
    optional("health", HEALTH),
    optional("idempotency_token", Shape::Str(Text::name(MAX_TOKEN_BYTES))),
    optional("job_clusters", Shape::Array(&JOB_CLUSTER, MAX_ITEMS)),
    optional("notification_settings", NOTIFICATION_SETTINGS),
    optional("performance_target", PERFORMANCE_TARGET),
    optional("queue", QUEUE),
    optional("run_as", RUN_AS),
    optional("run_name", NAME),
    optional("tasks", TASKS),
    optional("timeout_seconds", SECONDS),
    optional("usage_policy_id", NAME),
    optional("webhook_notifications", WEBHOOK_NOTIFICATIONS),
]);

/// The body of `run-now`: the job and what its run is given.
pub static RUN_NOW: Shape = Shape::ObjectOf(&[
    &[required("job_id", JOB_ID), optional("idempotency_token", Shape::Str(Text::name(MAX_TOKEN_BYTES)))],
    RUN_PARAMETERS,
    &[optional("only", NAMES), optional("performance_target", PERFORMANCE_TARGET), optional("queue", QUEUE), optional("duration_target", NAME)],
]);

/// The body of `runs/repair`.
pub static REPAIR_RUN: Shape = Shape::ObjectOf(&[
    &[
        required("run_id", JOB_ID),
        optional("latest_repair_id", Shape::Int { min: 0, max: i64::MAX }),
        optional("rerun_tasks", NAMES),
        optional("rerun_all_failed_tasks", Shape::Bool),
        optional("rerun_dependent_tasks", Shape::Bool),
    ],
    RUN_PARAMETERS,
    &[optional("performance_target", PERFORMANCE_TARGET), optional("duration_target", NAME)],
]);

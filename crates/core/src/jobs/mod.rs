//! Jobs 2.0/2.1/2.2: jobs (settings, owner, run-as), runs that execute real code (see
//! [`executor`]), schedules (see [`schedule`]). Access is the Permissions API's `jobs` object:
//! CAN_VIEW to read a job and its runs, CAN_MANAGE_RUN to trigger, cancel and repair them,
//! CAN_MANAGE to change or delete the job; the creator IS_OWNER. A one-time run
//! (`runs/submit`) is visible to its submitter and admins.

pub mod executor;
pub mod params;
pub mod runs;
pub mod schedule;
pub mod settings;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use kiln_store::{AclEntry, JobRecord, ObjectRecord, RunFilter, RunRecord, Store};
use serde_json::{Map, Value, json};
use tokio::sync::watch;

use crate::authn::Authenticator;
use crate::authz::{Authz, ObjectRef, ObjectType};
use crate::clock::now_ms;
use crate::clusters::Clusters;
use crate::dbfs::Dbfs;
use crate::error::{Error, ErrorCode, Result};
use crate::files::Files;
use crate::notifications::NotificationDestinations;
use crate::principal::Caller;
use crate::queries::SavedQueries;
use crate::shapes;
use crate::workspace_tree::WorkspaceTree;
use runs::Outcome;

/// The most jobs one list page holds, as on Databricks.
pub const MAX_LIST_LIMIT: usize = 100;

/// Runs SQL for `sql_task` and SQL notebooks on a warehouse; the engine implements it.
#[async_trait]
pub trait TaskSql: Send + Sync + std::fmt::Debug {
    /// Runs one statement as `caller` on the warehouse, in `catalog` and `schema` (else the
    /// defaults); answers column names and rows.
    async fn run(&self, caller: &Caller, warehouse_id: &str, statement: &str, parameters: &[(String, String)], catalog: Option<&str>, schema: Option<&str>) -> Result<SqlRows>;
}

#[derive(Debug, Clone, Default)]
pub struct SqlRows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// What triggered a run, and with which parameters.
#[derive(Debug, Clone, Default)]
pub struct Trigger {
    /// `ONE_TIME`, `PERIODIC`, `RUN_JOB_TASK`, `RETRY`.
    pub kind: String,
    pub job_parameters: Map<String, Value>,
    pub notebook_params: Map<String, Value>,
    pub python_params: Option<Vec<String>>,
    pub idempotency_token: Option<String>,
    /// How many `run_job_task`s deep this run is started (0 for a run started any other way).
    pub run_job_depth: i64,
}

#[derive(Debug, Clone)]
pub struct Jobs {
    store: Arc<dyn Store>,
    authz: Authz,
    principals: Authenticator,
    clusters: Clusters,
    workspace_tree: WorkspaceTree,
    files: Files,
    dbfs: Dbfs,
    sql: Arc<dyn TaskSql>,
    host_url: Arc<String>,
    /// Cancel switches of runs being executed, by run id.
    active: Arc<Mutex<HashMap<i64, watch::Sender<bool>>>>,
    /// Serializes decisions about concurrency limits and queues.
    admission: Arc<tokio::sync::Mutex<()>>,
    notifications: Option<NotificationDestinations>,
    queries: SavedQueries,
}

fn jobs_type() -> &'static ObjectType {
    ObjectType::find("jobs").expect("jobs are a permissions object type")
}

fn job_ref(job_id: i64) -> ObjectRef {
    ObjectRef::new(jobs_type(), job_id.to_string())
}

pub fn job_missing(job_id: i64) -> Error {
    Error::invalid(format!("Job {job_id} does not exist."))
}

pub fn run_missing(run_id: i64) -> Error {
    Error::invalid(format!("Run {run_id} does not exist."))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Who a job runs as: `run_as.user_name` or `run_as.service_principal_name`, else the creator.
fn run_as_name(settings: &Value, creator: &str) -> String {
    let run_as = settings.get("run_as");
    let named = run_as.and_then(|r| r.get("user_name").or_else(|| r.get("service_principal_name"))).and_then(Value::as_str);
    named.unwrap_or(creator).to_string()
}

impl Jobs {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        store: Arc<dyn Store>,
        authz: Authz,
        principals: Authenticator,
        clusters: Clusters,
        workspace_tree: WorkspaceTree,
        files: Files,
        dbfs: Dbfs,
        sql: Arc<dyn TaskSql>,
        host_url: String,
    ) -> Jobs {
        Jobs { store: store.clone(), authz, principals, clusters, workspace_tree, files, dbfs, sql, host_url: Arc::new(host_url), active: Arc::default(), admission: Arc::default(), notifications: None, queries: SavedQueries::new(store) }
    }

    /// Sends `webhook_notifications` of runs to these destinations.
    pub fn with_notifications(mut self, notifications: NotificationDestinations) -> Jobs {
        self.notifications = Some(notifications);
        self
    }

    /// Calls the run's webhooks for `event` (`on_start`, `on_success`, `on_failure`).
    pub(crate) fn notify(&self, run: &RunRecord, event: &str, result_state: Option<&str>) {
        let Some(notifications) = &self.notifications else { return };
        let Some(ids) = run.doc.pointer(&format!("/spec/webhook_notifications/{event}")).and_then(Value::as_array) else { return };
        let payload = json!({
            "event_type": format!("jobs.{event}"),
            "run": {"run_id": run.run_id, "result_state": result_state, "run_page_url": format!("{}/#job/{}/run/{}", self.host_url, run.job_id.unwrap_or(0), run.run_id)},
            "job": {"job_id": run.job_id, "name": run.doc.get("run_name")},
        });
        notifications.notify(ids, payload);
    }

    async fn load_job(&self, job_id: i64) -> Result<JobRecord> {
        self.store.get_job(job_id).await?.ok_or_else(|| job_missing(job_id))
    }

    /// The job, if the caller holds at least `level`; holding nothing, it does not exist.
    async fn authorized_job(&self, caller: &Caller, action: &str, job_id: i64, level: &str) -> Result<JobRecord> {
        let job = self.load_job(job_id).await?;
        self.authz.require_visible_permission(caller, action, &job_ref(job_id), level, job_missing(job_id)).await?;
        Ok(job)
    }

    /// Checks `run_as` names a principal the caller may run as: themselves, or anyone for admins.
    async fn check_run_as(&self, caller: &Caller, settings: &Value) -> Result<String> {
        let name = run_as_name(settings, caller.name());
        let principal = self.store.find_principal_by_name(&name).await?.ok_or_else(|| Error::invalid(format!("run_as: {name} is not a user or service principal")))?;
        if principal.id != caller.id() && !caller.is_admin() {
            return Err(Error::denied(format!("{} may not set run_as to {name}: only workspace admins can run jobs as another principal", caller.name())));
        }
        Ok(principal.name)
    }

    pub async fn create(&self, caller: &Caller, mut settings: Value) -> Result<i64> {
        settings::validate_job(&settings)?;
        let access_control_list = settings.as_object_mut().and_then(|s| s.remove("access_control_list"));
        let run_as = self.check_run_as(caller, &settings).await?;
        let job_id = crate::ids::numeric_id();
        let job = JobRecord { job_id, creator_name: caller.name().to_string(), run_as_name: run_as, settings, created_time_ms: now_ms() };
        self.store.upsert_object(&ObjectRecord { object_type: jobs_type().segment.to_string(), object_id: job_id.to_string(), parent: None }).await?;
        let mut acl = vec![AclEntry { principal_id: caller.id(), level: "IS_OWNER".to_string() }];
        acl.extend(self.acl_entries(access_control_list.as_ref()).await?);
        self.store.set_acl(jobs_type().segment, &job_id.to_string(), &acl).await?;
        self.store.insert_job(&job).await?;
        Ok(job_id)
    }

    /// `access_control_list` entries of a create or submit body.
    async fn acl_entries(&self, list: Option<&Value>) -> Result<Vec<AclEntry>> {
        let mut entries = Vec::new();
        for (index, item) in list.and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]).iter().enumerate() {
            let name = ["user_name", "group_name", "service_principal_name"].iter().find_map(|k| item.get(*k).and_then(Value::as_str));
            let name = name.ok_or_else(|| Error::invalid(format!("access_control_list[{index}] must name a user_name, group_name or service_principal_name")))?;
            let level = item.get("permission_level").and_then(Value::as_str).unwrap_or("");
            if jobs_type().rank(level).is_none() || level == "IS_OWNER" {
                return Err(Error::invalid(format!("access_control_list[{index}].permission_level '{level}' must be CAN_VIEW, CAN_MANAGE_RUN or CAN_MANAGE")));
            }
            let principal = self.store.find_principal_by_name(name).await?.ok_or_else(|| Error::invalid(format!("access_control_list[{index}]: principal {name} does not exist")))?;
            entries.push(AclEntry { principal_id: principal.id, level: level.to_string() });
        }
        Ok(entries)
    }

    fn render_job(job: &JobRecord, with_tasks: bool) -> Value {
        let mut settings = readable_settings(job);
        if !with_tasks && let Some(map) = settings.as_object_mut() {
            map.remove("tasks");
            map.remove("job_clusters");
        }
        if let Some(map) = settings.as_object_mut() {
            map.entry("max_concurrent_runs").or_insert(json!(1));
            map.entry("format").or_insert(json!("MULTI_TASK"));
            map.entry("timeout_seconds").or_insert(json!(0));
            map.entry("email_notifications").or_insert(json!({}));
        }
        json!({"job_id": job.job_id, "creator_user_name": job.creator_name, "run_as_user_name": job.run_as_name, "created_time": job.created_time_ms, "settings": settings})
    }

    pub async fn get(&self, caller: &Caller, job_id: i64) -> Result<Value> {
        let job = self.authorized_job(caller, "jobs.get", job_id, "CAN_VIEW").await?;
        Ok(Jobs::render_job(&job, true))
    }

    /// Jobs the caller may view, by id, optionally only those named `name` (any case).
    pub async fn list(&self, caller: &Caller, name: Option<&str>, expand_tasks: bool) -> Result<Vec<Value>> {
        let mut visible = Vec::new();
        for job in self.store.list_jobs().await? {
            let matches = name.is_none_or(|wanted| job.settings.get("name").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(wanted)));
            if matches && self.authz.level_of(caller, &job_ref(job.job_id)).await?.is_some() {
                visible.push(Jobs::render_job(&job, expand_tasks));
            }
        }
        Ok(visible)
    }

    /// `jobs/update`: top-level fields of `new_settings` replace the job's; tasks, job
    /// clusters and parameters are matched by key; `fields_to_remove` drops fields or, as
    /// `tasks/<key>`, single entries.
    pub async fn update(&self, caller: &Caller, job_id: i64, new_settings: &Value, fields_to_remove: &[String]) -> Result<()> {
        // What the merge would drop unseen (a `tasks` that is not a list) is refused first.
        if !new_settings.is_null() {
            shapes::check_changes(new_settings, &shapes::jobs::JOB_SETTINGS, "new_settings")?;
        }
        let mut job = self.authorized_job(caller, "jobs.update", job_id, "CAN_MANAGE").await?;
        let mut settings = readable_settings(&job).as_object().cloned().unwrap_or_default();
        for (key, value) in new_settings.as_object().into_iter().flatten() {
            match (key.as_str(), settings.get_mut(key)) {
                ("tasks", Some(Value::Array(current))) => merge_by_key(current, value, "task_key"),
                ("job_clusters", Some(Value::Array(current))) => merge_by_key(current, value, "job_cluster_key"),
                ("parameters", Some(Value::Array(current))) => merge_by_key(current, value, "name"),
                _ => {
                    settings.insert(key.clone(), value.clone());
                }
            }
        }
        for field in fields_to_remove {
            match field.split_once('/') {
                Some((list, key)) => {
                    let key_name = match list {
                        "tasks" => "task_key",
                        "job_clusters" => "job_cluster_key",
                        "parameters" => "name",
                        other => return Err(Error::invalid(format!("fields_to_remove: '{other}/...' is not a list of the job's settings"))),
                    };
                    if let Some(Value::Array(items)) = settings.get_mut(list) {
                        items.retain(|item| item.get(key_name).and_then(Value::as_str) != Some(key));
                    }
                }
                None => {
                    settings.remove(field);
                }
            }
        }
        self.replace_settings(caller, &mut job, Value::Object(settings)).await
    }

    /// `jobs/reset`: the whole settings replaced.
    pub async fn reset(&self, caller: &Caller, job_id: i64, new_settings: Value) -> Result<()> {
        shapes::check_at(&new_settings, &shapes::ANY_OBJECT, "new_settings")?;
        let mut job = self.authorized_job(caller, "jobs.reset", job_id, "CAN_MANAGE").await?;
        self.replace_settings(caller, &mut job, new_settings).await
    }

    async fn replace_settings(&self, caller: &Caller, job: &mut JobRecord, settings: Value) -> Result<()> {
        settings::validate_job(&settings)?;
        if settings.get("run_as") != job.settings.get("run_as") {
            job.run_as_name = self.check_run_as(caller, &settings).await?;
        }
        job.settings = settings;
        self.store.update_job(job).await?;
        Ok(())
    }

    pub async fn delete(&self, caller: &Caller, job_id: i64) -> Result<()> {
        self.authorized_job(caller, "jobs.delete", job_id, "CAN_MANAGE").await?;
        for run in self.store.list_runs(&RunFilter { job_id: Some(job_id), active_only: true, ..Default::default() }, 0, usize::MAX >> 1).await? {
            self.signal_cancel(run.run_id);
        }
        self.store.delete_job(job_id).await?;
        self.store.delete_object(jobs_type().segment, &job_id.to_string()).await?;
        Ok(())
    }

    /// `run-now` with its request body: a run of `job_id` with the parameters it passes; an
    /// idempotency token that was used before answers the earlier run.
    pub async fn run_now(&self, caller: &Caller, request: &Value) -> Result<(i64, i64)> {
        shapes::check(request, &shapes::jobs::RUN_NOW)?;
        let job_id = request["job_id"].as_i64().unwrap_or_default();
        let parameters = |key: &str| request.get(key).and_then(Value::as_object).cloned().unwrap_or_default();
        let trigger = Trigger {
            kind: "ONE_TIME".to_string(),
            job_parameters: parameters("job_parameters"),
            notebook_params: parameters("notebook_params"),
            python_params: request.get("python_params").and_then(Value::as_array).map(|items| items.iter().filter_map(Value::as_str).map(str::to_string).collect()),
            idempotency_token: request.get("idempotency_token").and_then(Value::as_str).map(str::to_string),
            ..Trigger::default()
        };
        let job = self.authorized_job(caller, "jobs.runNow", job_id, "CAN_MANAGE_RUN").await?;
        if let Some(token) = &trigger.idempotency_token
            && let Some(earlier) = self.store.find_run_by_token(Some(job_id), token).await?
        {
            return Ok((earlier.run_id, earlier.doc.get("number_in_job").and_then(Value::as_i64).unwrap_or(0)));
        }
        for name in trigger.job_parameters.keys() {
            let defined = job.settings.get("parameters").and_then(Value::as_array).is_some_and(|ps| ps.iter().any(|p| p.get("name").and_then(Value::as_str) == Some(name)));
            if !defined {
                return Err(Error::invalid(format!("job_parameters: '{name}' is not a parameter of job {job_id}")));
            }
        }
        self.start_job_run(&job, caller.name(), trigger).await
    }

    /// Creates a run of `job` and admits it (or queues or skips it, by `max_concurrent_runs`).
    pub(crate) async fn start_job_run(&self, job: &JobRecord, triggered_by: &str, trigger: Trigger) -> Result<(i64, i64)> {
        let _admission = self.admission.lock().await;
        // A run executes what reads as valid, whatever an earlier version stored.
        let job = &JobRecord { settings: readable_settings(job), ..job.clone() };
        let latest = self.store.list_runs(&RunFilter { job_id: Some(job.job_id), ..Default::default() }, 0, 1).await?;
        let number_in_job = latest.first().and_then(|r| r.doc.get("number_in_job")).and_then(Value::as_i64).unwrap_or(0) + 1;
        let run_id = crate::ids::numeric_id();
        let name = job.settings.get("name").and_then(Value::as_str).unwrap_or("Untitled").to_string();
        let mut doc = json!({
            "run_name": name,
            "number_in_job": number_in_job,
            "creator_user_name": triggered_by,
            "run_type": if trigger.kind == "RUN_JOB_TASK" { "WORKFLOW_RUN" } else { "JOB_RUN" },
            "trigger": trigger.kind,
            "attempt_number": 0,
            "run_as": job.run_as_name,
            "spec": executor::run_spec(&job.settings),
            "job_parameters": executor::resolved_job_parameters(&job.settings, &trigger.job_parameters),
            "run_job_depth": trigger.run_job_depth,
        });
        let mut overriding = Map::new();
        if !trigger.job_parameters.is_empty() {
            overriding.insert("job_parameters".to_string(), Value::Object(trigger.job_parameters.clone()));
        }
        if !trigger.notebook_params.is_empty() {
            overriding.insert("notebook_params".to_string(), Value::Object(trigger.notebook_params.clone()));
        }
        if let Some(python_params) = &trigger.python_params {
            overriding.insert("python_params".to_string(), json!(python_params));
        }
        if !overriding.is_empty() {
            doc["overriding_parameters"] = Value::Object(overriding);
        }
        let record = RunRecord {
            run_id,
            job_id: Some(job.job_id),
            parent_run_id: None,
            task_key: None,
            life_cycle_state: runs::PENDING.to_string(),
            start_time_ms: now_ms(),
            end_time_ms: 0,
            idempotency_token: trigger.idempotency_token.clone(),
            doc,
        };
        self.admit(record, &job.settings).await?;
        Ok((run_id, number_in_job))
    }

    /// Stores a new run and starts it, unless its job is at `max_concurrent_runs`: then it
    /// waits QUEUED (with `queue.enabled`) or is SKIPPED.
    async fn admit(&self, mut record: RunRecord, settings: &Value) -> Result<()> {
        let limit = concurrency_limit(settings);
        let queue = settings.pointer("/queue/enabled").and_then(Value::as_bool).unwrap_or(false);
        let running = match record.job_id {
            Some(job_id) => started_runs(&self.active_runs(job_id).await?),
            None => 0,
        };
        let at_limit = record.job_id.is_some() && running >= limit;
        if at_limit && queue {
            record.life_cycle_state = runs::QUEUED.to_string();
            runs::doc_mut(&mut record).insert("state_message".to_string(), json!(format!("Queued: the job is at its limit of {limit} concurrent runs")));
            self.store.insert_run(&record).await?;
            return Ok(());
        }
        if at_limit {
            let message = format!("Skipping this run because the limit of {limit} maximum concurrent runs has been reached.");
            runs::set_state(&mut record, runs::SKIPPED, Some(&Outcome::new("MAXIMUM_CONCURRENT_RUNS_REACHED", message)), now_ms());
            self.store.insert_run(&record).await?;
            return Ok(());
        }
        let tasks = executor::create_task_runs(&record);
        self.store.insert_run(&record).await?;
        for task in &tasks {
            self.store.insert_run(task).await?;
        }
        self.launch(record.run_id, None);
        Ok(())
    }

    /// The job's runs that have not ended, newest first.
    async fn active_runs(&self, job_id: i64) -> Result<Vec<RunRecord>> {
        Ok(self.store.list_runs(&RunFilter { job_id: Some(job_id), active_only: true, ..Default::default() }, 0, 10_000).await?)
    }

    /// Starts executing a stored run in the background.
    fn launch(&self, run_id: i64, rerun: Option<Vec<String>>) {
        let (cancel, cancelled) = watch::channel(false);
        lock(&self.active).insert(run_id, cancel);
        let jobs = self.clone();
        tokio::spawn(async move {
            let failure = match crate::panics::catch_panic(executor::execute_run(&jobs, run_id, rerun, cancelled)).await {
                Ok(Ok(())) => None,
                Ok(Err(error)) => Some(error.message),
                Err(panic) => Some(format!("Kiln failed while executing this run: {panic}")),
            };
            if let Some(message) = failure {
                tracing::warn!(run_id, %message, "a run failed to execute");
                if let Err(error) = jobs.fail_run(run_id, &message).await {
                    tracing::error!(run_id, %error, "recording a run's failure failed");
                }
            }
            lock(&jobs.active).remove(&run_id);
            if let Err(error) = jobs.dequeue(run_id).await {
                tracing::warn!(run_id, %error, "starting a queued run failed");
            }
        });
    }

    /// Ends a run (and its unfinished task runs) as INTERNAL_ERROR.
    async fn fail_run(&self, run_id: i64, message: &str) -> Result<()> {
        let now = now_ms();
        let outcome = Outcome::new("INTERNAL_ERROR", message);
        for mut task in self.store.list_task_runs(run_id).await? {
            if !runs::is_done(&task.life_cycle_state) {
                runs::set_state(&mut task, runs::INTERNAL_ERROR, Some(&outcome), now);
                self.store.update_run(&task).await?;
            }
        }
        if let Some(mut run) = self.store.get_run(run_id).await?
            && !runs::is_done(&run.life_cycle_state)
        {
            runs::set_state(&mut run, runs::INTERNAL_ERROR, Some(&outcome), now);
            self.store.update_run(&run).await?;
        }
        Ok(())
    }

    /// After a run of a job ends: starts the job's oldest queued run if there is room.
    async fn dequeue(&self, finished_run_id: i64) -> Result<()> {
        let Some(finished) = self.store.get_run(finished_run_id).await? else { return Ok(()) };
        let Some(job_id) = finished.job_id else { return Ok(()) };
        let Some(job) = self.store.get_job(job_id).await? else { return Ok(()) };
        let _admission = self.admission.lock().await;
        let active = self.active_runs(job_id).await?;
        let limit = concurrency_limit(&job.settings);
        let running = started_runs(&active);
        // Oldest first: the list is newest first.
        for mut queued in active.into_iter().rev().filter(|r| r.life_cycle_state == runs::QUEUED).take(limit.saturating_sub(running)) {
            queued.life_cycle_state = runs::PENDING.to_string();
            runs::doc_mut(&mut queued).remove("state_message");
            let tasks = executor::create_task_runs(&queued);
            self.store.update_run(&queued).await?;
            for task in &tasks {
                self.store.insert_run(task).await?;
            }
            self.launch(queued.run_id, None);
        }
        Ok(())
    }

    /// `runs/submit`: a one-time run of the given tasks, as the caller.
    pub async fn submit(&self, caller: &Caller, mut body: Value) -> Result<i64> {
        settings::validate_submit(&body)?;
        let access_control_list = body.as_object_mut().and_then(|b| b.remove("access_control_list"));
        self.acl_entries(access_control_list.as_ref()).await?;
        let token = body.get("idempotency_token").and_then(Value::as_str).map(str::to_string);
        if let Some(token) = &token
            && let Some(earlier) = self.store.find_run_by_token(None, token).await?
        {
            return Ok(earlier.run_id);
        }
        let run_as = self.check_run_as(caller, &body).await?;
        let run_id = crate::ids::numeric_id();
        let doc = json!({
            "run_name": body.get("run_name").and_then(Value::as_str).unwrap_or("Untitled"),
            "creator_user_name": caller.name(),
            "run_type": "SUBMIT_RUN",
            "trigger": "ONE_TIME",
            "attempt_number": 0,
            "submitter": caller.id(),
            "run_as": run_as,
            "spec": executor::run_spec(&body),
        });
        let record = RunRecord {
            run_id,
            job_id: None,
            parent_run_id: None,
            task_key: None,
            life_cycle_state: runs::PENDING.to_string(),
            start_time_ms: now_ms(),
            end_time_ms: 0,
            idempotency_token: token,
            doc,
        };
        self.admit(record, &body).await?;
        Ok(run_id)
    }

    /// The run (top-level or task run) if the caller may see it: CAN_VIEW on its job, or its
    /// submitter, or an admin.
    async fn authorized_run(&self, caller: &Caller, action: &str, run_id: i64, level: &str) -> Result<RunRecord> {
        let run = self.store.get_run(run_id).await?.ok_or_else(|| run_missing(run_id))?;
        let top = match run.parent_run_id {
            Some(parent) => self.top_level(parent).await?,
            None => run.clone(),
        };
        // The principal a run executes as reaches its own run (task values, notebook.run).
        if top.doc.get("run_as").and_then(Value::as_str) == Some(caller.name()) && level != "CAN_MANAGE" {
            return Ok(run);
        }
        match top.job_id {
            Some(job_id) if self.store.get_job(job_id).await?.is_some() => {
                self.authz.require_visible_permission(caller, action, &job_ref(job_id), level, run_missing(run_id)).await?;
            }
            _ => {
                let submitter = top.doc.get("submitter").and_then(Value::as_i64);
                if submitter != Some(caller.id()) {
                    self.authz.require_admin(caller, action, &format!("run {run_id}")).await.map_err(|_| run_missing(run_id))?;
                }
            }
        }
        Ok(run)
    }

    /// The top-level run above a task run (or an iteration of a for-each task).
    async fn top_level(&self, mut run_id: i64) -> Result<RunRecord> {
        for _ in 0..4 {
            let run = self.store.get_run(run_id).await?.ok_or_else(|| run_missing(run_id))?;
            match run.parent_run_id {
                Some(parent) => run_id = parent,
                None => return Ok(run),
            }
        }
        Err(Error::internal(format!("run {run_id} is nested too deeply")))
    }

    pub async fn get_run(&self, caller: &Caller, run_id: i64) -> Result<Value> {
        let run = self.authorized_run(caller, "jobs.runs.get", run_id, "CAN_VIEW").await?;
        let task_runs = self.store.list_task_runs(run.run_id).await?;
        let mut rendered = runs::render_run(&run, &task_runs, &self.host_url, now_ms(), run.parent_run_id.is_none());
        if run.parent_run_id.is_some() {
            // A for-each task run: its iterations.
            rendered["iterations"] = Value::Array(task_runs.iter().map(|t| runs::render_task(t, &self.host_url, now_ms())).collect());
        }
        Ok(rendered)
    }

    /// Top-level runs the caller may see, newest first.
    pub async fn list_runs(&self, caller: &Caller, filter: &RunFilter, offset: usize, limit: usize, expand_tasks: bool) -> Result<Vec<Value>> {
        if let Some(job_id) = filter.job_id {
            self.authorized_job(caller, "jobs.runs.list", job_id, "CAN_VIEW").await?;
        }
        let mut visible = Vec::new();
        let mut skip = offset;
        let mut scanned = 0;
        const BATCH: usize = 200;
        loop {
            let batch = self.store.list_runs(filter, scanned, BATCH).await?;
            scanned += batch.len();
            for run in &batch {
                let may_see = match run.job_id {
                    Some(job_id) => self.authz.level_of(caller, &job_ref(job_id)).await?.is_some() || caller.is_admin(),
                    None => caller.is_admin() || run.doc.get("submitter").and_then(Value::as_i64) == Some(caller.id()),
                };
                if !may_see {
                    continue;
                }
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                let task_runs = if expand_tasks { self.store.list_task_runs(run.run_id).await? } else { Vec::new() };
                visible.push(runs::render_run(run, &task_runs, &self.host_url, now_ms(), expand_tasks));
                if visible.len() == limit {
                    return Ok(visible);
                }
            }
            if batch.len() < BATCH {
                return Ok(visible);
            }
        }
    }

    /// `runs/get-output` of a task run: its output, error, and the task run as `metadata`.
    pub async fn get_output(&self, caller: &Caller, run_id: i64) -> Result<Value> {
        let run = self.authorized_run(caller, "jobs.runs.getOutput", run_id, "CAN_VIEW").await?;
        if run.parent_run_id.is_none() {
            let tasks = self.store.list_task_runs(run_id).await?;
            if tasks.len() != 1 {
                return Err(Error::invalid(format!(
                    "Retrieving the output of runs with multiple tasks is not supported. Please retrieve the output of each individual task run instead. Run {run_id} has {} tasks.",
                    tasks.len()
                )));
            }
            return Box::pin(self.get_output(caller, tasks[0].run_id)).await;
        }
        let mut output = self.store.get_run_output(run_id).await?.unwrap_or_else(|| json!({}));
        output["metadata"] = runs::render_task(&run, &self.host_url, now_ms());
        Ok(output)
    }

    pub async fn cancel_run(&self, caller: &Caller, run_id: i64) -> Result<()> {
        let run = self.authorized_run(caller, "jobs.runs.cancel", run_id, "CAN_MANAGE_RUN").await?;
        let top = match run.parent_run_id {
            Some(parent) => self.top_level(parent).await?,
            None => run,
        };
        self.cancel_top_level(top).await
    }

    async fn cancel_top_level(&self, mut top: RunRecord) -> Result<()> {
        if top.life_cycle_state == runs::QUEUED {
            // Never started: it ends here.
            runs::set_state(&mut top, runs::TERMINATED, Some(&Outcome::new("CANCELED", "Run cancelled while queued")), now_ms());
            self.store.update_run(&top).await?;
            return Ok(());
        }
        self.signal_cancel(top.run_id);
        Ok(())
    }

    fn signal_cancel(&self, run_id: i64) {
        if let Some(cancel) = lock(&self.active).get(&run_id) {
            let _ = cancel.send(true);
        }
    }

    /// `runs/cancel-all`: every active run of the job (queued ones too, or only them).
    pub async fn cancel_all(&self, caller: &Caller, job_id: Option<i64>, all_queued_runs: bool) -> Result<()> {
        let filter = match job_id {
            Some(job_id) => {
                self.authorized_job(caller, "jobs.runs.cancelAll", job_id, "CAN_MANAGE_RUN").await?;
                RunFilter { job_id: Some(job_id), active_only: true, ..Default::default() }
            }
            None if all_queued_runs => {
                self.authz.require_admin(caller, "jobs.runs.cancelAll", "all queued runs").await?;
                RunFilter { active_only: true, ..Default::default() }
            }
            None => return Err(Error::invalid("job_id is required unless all_queued_runs is true")),
        };
        for run in self.store.list_runs(&filter, 0, 10_000).await? {
            if job_id.is_some() || run.life_cycle_state == runs::QUEUED {
                self.cancel_top_level(run).await?;
            }
        }
        Ok(())
    }

    /// `runs/delete`: a run that has ended, with its task runs and outputs.
    pub async fn delete_run(&self, caller: &Caller, run_id: i64) -> Result<()> {
        let run = self.authorized_run(caller, "jobs.runs.delete", run_id, "CAN_MANAGE").await?;
        if run.parent_run_id.is_some() {
            return Err(Error::invalid(format!("Run {run_id} is a task run; delete its job run instead")));
        }
        if !runs::is_done(&run.life_cycle_state) {
            return Err(Error::invalid(format!("Run {run_id} is still active ({}); cancel it before deleting it", run.life_cycle_state)));
        }
        self.store.delete_run(run_id).await?;
        Ok(())
    }

    /// `runs/repair`: runs the named tasks again (`rerun_tasks`, or the failed ones), and with
    /// `rerun_dependent_tasks` what depends on them, in the same run.
    pub async fn repair(&self, caller: &Caller, request: &kiln_api::jobs::RepairRunRequest) -> Result<i64> {
        let run_id = request.run_id;
        let (all_failed, dependents) = (request.rerun_all_failed_tasks, request.rerun_dependent_tasks);
        let mut run = self.authorized_run(caller, "jobs.runs.repair", run_id, "CAN_MANAGE_RUN").await?;
        if let Some(given) = request.latest_repair_id {
            let latest = run.doc.get("repair_history").and_then(Value::as_array).and_then(|items| items.iter().rev().find_map(|item| item.get("id")?.as_i64()));
            if latest != Some(given) {
                return Err(Error::invalid(format!("latest_repair_id {given} is not the latest repair of run {run_id}")));
            }
        }
        if run.parent_run_id.is_some() {
            return Err(Error::invalid(format!("Run {run_id} is a task run; repair its job run")));
        }
        if !runs::is_done(&run.life_cycle_state) {
            return Err(Error::new(ErrorCode::Specific(400, "INVALID_STATE"), format!("Run {run_id} is still active ({}); only ended runs can be repaired", run.life_cycle_state)));
        }
        let latest = executor::latest_attempts(&self.store.list_task_runs(run_id).await?);
        let mut keys: Vec<String> = request.rerun_tasks.clone();
        if all_failed {
            keys.extend(latest.iter().filter(|(_, t)| runs::outcome_of(t).is_none_or(|o| !o.is_success() && o.result_state != "EXCLUDED")).map(|(k, _)| k.clone()));
        }
        for key in &keys {
            if !latest.contains_key(key) {
                return Err(Error::invalid(format!("rerun_tasks: '{key}' is not a task of run {run_id}")));
            }
        }
        if keys.is_empty() {
            return Err(Error::invalid("name the tasks to rerun (rerun_tasks) or set rerun_all_failed_tasks"));
        }
        if dependents {
            keys = executor::with_dependents(&run, keys);
        }
        let repair_id = crate::ids::numeric_id();
        let history = runs::doc_mut(&mut run).entry("repair_history").or_insert(json!([]));
        if let Some(items) = history.as_array_mut() {
            items.push(json!({"type": "REPAIR", "id": repair_id, "start_time": now_ms(), "task_run_ids": []}));
        }
        run.life_cycle_state = runs::PENDING.to_string();
        run.end_time_ms = 0;
        runs::doc_mut(&mut run).remove("result_state");
        self.store.update_run(&run).await?;
        self.launch(run_id, Some(keys));
        Ok(repair_id)
    }

    /// `runs/export`: each notebook task's source and result as an HTML view.
    pub async fn export(&self, caller: &Caller, run_id: i64) -> Result<Value> {
        let run = self.authorized_run(caller, "jobs.runs.export", run_id, "CAN_VIEW").await?;
        let tasks = if run.parent_run_id.is_some() { vec![run] } else { self.store.list_task_runs(run_id).await? };
        let mut views = Vec::new();
        for task in tasks {
            let Some(path) = task.doc.pointer("/spec/notebook_task/notebook_path").and_then(Value::as_str) else { continue };
            let source = self.workspace_tree.read_notebook(caller, path).await.map(|n| n.source).unwrap_or_default();
            let output = self.store.get_run_output(task.run_id).await?.unwrap_or_else(|| json!({}));
            let result = output.pointer("/notebook_output/result").and_then(Value::as_str).or_else(|| output.get("error").and_then(Value::as_str)).unwrap_or("");
            let name = path.rsplit('/').next().unwrap_or(path);
            let content = format!(
                "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{}</title></head><body><h1>{}</h1><pre class=\"source\">{}</pre><h2>Result</h2><pre class=\"result\">{}</pre></body></html>",
                html_escape(name),
                html_escape(path),
                html_escape(&source),
                html_escape(result)
            );
            views.push(json!({"name": name, "type": "NOTEBOOK", "content": content}));
        }
        Ok(json!({"views": views}))
    }

    /// A task value set with `dbutils.jobs.taskValues.set`, from code running as the run's
    /// principal (or anyone who may manage the run).
    pub async fn put_task_value(&self, caller: &Caller, run_id: i64, task_key: &str, key: &str, value: &str) -> Result<()> {
        let run = self.authorized_run(caller, "jobs.taskValues.set", run_id, "CAN_VIEW").await?;
        if value.len() > 48 * 1024 {
            return Err(Error::invalid(format!("task value {key} is {} bytes; at most 48 KiB", value.len())));
        }
        if !self.store.list_task_runs(run.run_id).await?.iter().any(|t| t.task_key.as_deref() == Some(task_key)) {
            return Err(Error::invalid(format!("task_key '{task_key}' is not a task of run {run_id}")));
        }
        self.store.put_task_value(run.run_id, task_key, key, value).await?;
        Ok(())
    }

    pub async fn get_task_value(&self, caller: &Caller, run_id: i64, task_key: &str, key: &str) -> Result<Option<String>> {
        let run = self.authorized_run(caller, "jobs.taskValues.get", run_id, "CAN_VIEW").await?;
        Ok(self.store.get_task_value(run.run_id, task_key, key).await?)
    }

    /// Runs that were active when Kiln stopped end as INTERNAL_ERROR (their processes did not
    /// survive); queued runs start when there is room. Then schedules begin.
    pub async fn recover(&self) -> Result<()> {
        let active = self.store.list_runs(&RunFilter { active_only: true, ..Default::default() }, 0, 100_000).await?;
        for run in &active {
            if run.life_cycle_state != runs::QUEUED {
                self.fail_run(run.run_id, "Kiln stopped while this run was active; it did not finish. Run it again or repair it.").await?;
            }
        }
        for run in &active {
            self.dequeue(run.run_id).await?;
        }
        schedule::start(self.clone());
        Ok(())
    }
}

/// A job's settings without what no longer fits their shape: rows stored before a check
/// existed read leniently (and are reported) instead of failing every reader.
fn readable_settings(job: &JobRecord) -> Value {
    let mut settings = job.settings.clone();
    let removed = shapes::prune(&mut settings, &shapes::jobs::JOB_SETTINGS);
    if !removed.is_empty() {
        tracing::warn!(job_id = job.job_id, problems = ?removed, "a stored job has settings that are no longer valid; reading it without them");
    }
    settings
}

/// `max_concurrent_runs`, 1 when unset.
fn concurrency_limit(settings: &Value) -> usize {
    settings.get("max_concurrent_runs").and_then(Value::as_i64).unwrap_or(1).max(0) as usize
}

/// How many of these active runs have started (are not waiting in the queue).
fn started_runs(active: &[RunRecord]) -> usize {
    active.iter().filter(|r| r.life_cycle_state != runs::QUEUED).count()
}

fn merge_by_key(current: &mut Vec<Value>, changes: &Value, key: &str) {
    for change in changes.as_array().into_iter().flatten() {
        let name = change.get(key);
        match current.iter_mut().find(|item| item.get(key) == name) {
            Some(existing) => *existing = change.clone(),
            None => current.push(change.clone()),
        }
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

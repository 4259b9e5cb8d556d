//! Clusters 2.0/2.1 and Command Execution 1.2. A running cluster is a real Python driver
//! process on this machine (see [`driver`]); its states follow Databricks:
//! PENDING → RUNNING → (RESTARTING → RUNNING) → TERMINATING → TERMINATED, each change written
//! to the cluster's event log. Clusters idle longer than `autotermination_minutes` are
//! terminated. Access is the Permissions API's `clusters` object (CAN_ATTACH_TO <
//! CAN_RESTART < CAN_MANAGE); creating needs the `allow-cluster-create` entitlement.

pub mod commands;
pub mod driver;
pub mod runtime;
pub mod spec;

use std::collections::HashMap;
use std::sync::Arc;

use kiln_store::{AclEntry, ClusterEventFilter, ClusterEventRecord, ClusterRecord, ObjectRecord, Store};
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

use crate::authz::{Authz, ObjectRef, ObjectType};
use crate::clock::now_ms;
use crate::error::{Error, ErrorCode, Result};
use crate::oauth::OAuthService;
use crate::principal::Caller;
use driver::{Driver, Launcher};

pub const PENDING: &str = "PENDING";
pub const RUNNING: &str = "RUNNING";
pub const RESTARTING: &str = "RESTARTING";
pub const TERMINATING: &str = "TERMINATING";
pub const TERMINATED: &str = "TERMINATED";

/// How often idle clusters are looked for.
const AUTOTERMINATION_CHECK: std::time::Duration = std::time::Duration::from_secs(30);

/// What the in-memory side knows of a cluster: its driver and execution contexts. The
/// generation changes on every start and stop, so a start that finishes after the cluster
/// was terminated can tell it is stale.
#[derive(Debug, Default)]
struct Slot {
    generation: u64,
    driver: Option<Arc<Driver>>,
    contexts: HashMap<String, commands::Context>,
}

#[derive(Debug, Clone)]
pub struct Clusters {
    store: Arc<dyn Store>,
    authz: Authz,
    oauth: OAuthService,
    launcher: Arc<Launcher>,
    slots: Arc<Mutex<HashMap<String, Slot>>>,
}

/// Which clusters a list wants, and one page of them.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub states: Vec<String>,
    pub sources: Vec<String>,
    pub is_pinned: Option<bool>,
}

fn clusters_type() -> &'static ObjectType {
    ObjectType::find("clusters").expect("clusters are a permissions object type")
}

fn cluster_ref(cluster_id: &str) -> ObjectRef {
    ObjectRef::new(clusters_type(), cluster_id)
}

pub fn missing(cluster_id: &str) -> Error {
    Error::invalid(format!("Cluster {cluster_id} does not exist"))
}

fn invalid_state(cluster_id: &str, state: &str, wanted: &str) -> Error {
    Error::new(ErrorCode::Specific(400, "INVALID_STATE"), format!("Cluster {cluster_id} is in unexpected state {state}; {wanted}"))
}

/// `MMDD-HHMMSS-xxxxxxxx`, the shape of Databricks cluster ids.
fn new_cluster_id() -> String {
    // `2026-11-23T23:10:05Z` → `1123-231005`.
    let stamp: String = crate::clock::rfc3339(now_ms()).chars().filter(char::is_ascii_digit).collect();
    let suffix = crate::ids::random_hex(4);
    format!("{}-{}-{suffix}", &stamp[4..8], &stamp[8..14])
}

fn termination_reason(code: &str, kind: &str, parameters: Value) -> Value {
    json!({"code": code, "type": kind, "parameters": parameters})
}

impl Clusters {
    pub fn new(store: Arc<dyn Store>, authz: Authz, oauth: OAuthService, launcher: Launcher) -> Clusters {
        Clusters { store, authz, oauth, launcher: Arc::new(launcher), slots: Arc::default() }
    }

    /// Brings back clusters that were running when Kiln stopped (their drivers did not
    /// survive it), finishes interrupted terminations, and starts the autotermination loop.
    pub async fn recover(&self) -> Result<()> {
        for record in self.store.list_clusters().await? {
            match record.state.as_str() {
                PENDING | RUNNING | RESTARTING => {
                    let details = json!({"cause": "Kiln restarted; the driver is started again"});
                    self.begin_start(record, PENDING, "STARTING", details).await?;
                }
                TERMINATING => {
                    self.finish_termination(&record.cluster_id, termination_reason("USER_REQUEST", "SUCCESS", json!({}))).await?;
                }
                _ => {}
            }
        }
        let clusters = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(AUTOTERMINATION_CHECK);
            loop {
                tick.tick().await;
                match crate::panics::catch_panic(clusters.terminate_idle(now_ms())).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => tracing::warn!(%error, "autotermination check failed"),
                    Err(panic) => tracing::error!(%panic, "autotermination check panicked"),
                }
            }
        });
        Ok(())
    }

    async fn load(&self, cluster_id: &str) -> Result<ClusterRecord> {
        self.store.get_cluster(cluster_id).await?.ok_or_else(|| missing(cluster_id))
    }

    /// The cluster, if the caller holds at least `level` on it; a caller with no level at all
    /// is told it does not exist.
    async fn authorized(&self, caller: &Caller, action: &str, cluster_id: &str, level: &str) -> Result<ClusterRecord> {
        if cluster_id.is_empty() {
            return Err(Error::invalid("cluster_id is required"));
        }
        let record = self.load(cluster_id).await?;
        self.authz.require_visible_permission(caller, action, &cluster_ref(cluster_id), level, missing(cluster_id)).await?;
        Ok(record)
    }

    async fn event(&self, cluster_id: &str, event_type: &str, details: Value) -> Result<()> {
        let event = ClusterEventRecord { cluster_id: cluster_id.to_string(), timestamp_ms: now_ms(), event_type: event_type.to_string(), details };
        self.store.append_cluster_event(&event).await?;
        Ok(())
    }

    pub async fn create(&self, caller: &Caller, body: &Value) -> Result<String> {
        // validations
        let spec = spec::validate(body)?;
        // authz
        self.authz.require_entitlement(caller, "clusters.create", "allow-cluster-create").await?;
        // business logic
        self.create_with_source(caller, spec, "API").await
    }

    /// A cluster for one job run (`new_cluster`, `job_clusters`), owned by the principal the
    /// run executes as; job clusters need no cluster-creation entitlement, as on Databricks.
    pub async fn create_for_job(&self, run_as: &Caller, body: &Value) -> Result<String> {
        let spec = spec::validate(body)?;
        self.create_with_source(run_as, spec, "JOB").await
    }

    async fn create_with_source(&self, caller: &Caller, spec: Map<String, Value>, source: &str) -> Result<String> {
        let cluster_id = new_cluster_id();
        let now = now_ms();
        let record = ClusterRecord {
            cluster_id: cluster_id.clone(),
            state: PENDING.to_string(),
            state_message: "Starting the driver".to_string(),
            spec: Value::Object(spec),
            creator_name: caller.name().to_string(),
            cluster_source: source.to_string(),
            pinned: false,
            created_at_ms: now,
            start_time_ms: now,
            terminated_time_ms: None,
            last_restarted_time_ms: None,
            last_activity_ms: now,
            termination_reason: None,
        };
        let object = ObjectRecord { object_type: clusters_type().segment.to_string(), object_id: cluster_id.clone(), parent: None };
        self.store.upsert_object(&object).await?;
        self.store.set_acl(clusters_type().segment, &cluster_id, &[AclEntry { principal_id: caller.id(), level: "CAN_MANAGE".to_string() }]).await?;
        self.store.insert_cluster(&record).await?;
        self.event(&cluster_id, "CREATING", json!({"user": caller.name(), "attributes": record.spec})).await?;
        self.begin_start(record, PENDING, "STARTING", json!({"user": caller.name()})).await?;
        Ok(cluster_id)
    }

    /// Moves the cluster to `state` (PENDING or RESTARTING) and starts its driver in the
    /// background; the cluster turns RUNNING when the driver says hello, or TERMINATED with
    /// the reason if it cannot start.
    async fn begin_start(&self, mut record: ClusterRecord, state: &str, event_type: &str, details: Value) -> Result<()> {
        let generation = {
            let mut slots = self.slots.lock().await;
            let slot = slots.entry(record.cluster_id.clone()).or_default();
            slot.generation += 1;
            slot.contexts.clear();
            if let Some(old) = slot.driver.take() {
                tokio::spawn(async move { old.shutdown().await });
            }
            slot.generation
        };
        let now = now_ms();
        record.state = state.to_string();
        record.state_message = if state == RESTARTING { "Restarting the driver".to_string() } else { "Starting the driver".to_string() };
        record.termination_reason = None;
        record.terminated_time_ms = None;
        record.last_activity_ms = now;
        if state == RESTARTING {
            record.last_restarted_time_ms = Some(now);
        } else {
            record.start_time_ms = now;
        }
        self.store.update_cluster(&record).await?;
        self.event(&record.cluster_id, event_type, details).await?;
        let clusters = self.clone();
        let env = spec::env_vars(&record.spec);
        tokio::spawn(async move {
            let cluster_id = record.cluster_id.clone();
            let started = crate::panics::catch_panic(async {
                let launched = clusters.launcher.launch(&cluster_id, &env).await;
                clusters.finish_start(&cluster_id, generation, launched).await
            });
            let failure = match started.await {
                Ok(Ok(())) => return,
                Ok(Err(error)) => error.message,
                Err(panic) => format!("Kiln failed while starting this cluster: {panic}"),
            };
            // A start that cannot finish ends the cluster, never leaves it PENDING.
            tracing::warn!(%cluster_id, %failure, "finishing a cluster start failed");
            let reason = termination_reason("INTERNAL_ERROR", "SERVICE_FAULT", json!({"databricks_error_message": failure}));
            if let Err(error) = clusters.finish_termination(&cluster_id, reason).await {
                tracing::error!(%cluster_id, %error, "recording a failed cluster start failed");
            }
        });
        Ok(())
    }

    async fn finish_start(&self, cluster_id: &str, generation: u64, launched: std::result::Result<Arc<Driver>, String>) -> Result<()> {
        let mut slots = self.slots.lock().await;
        let current = slots.get(cluster_id).map(|slot| slot.generation) == Some(generation);
        let driver = match launched {
            Ok(driver) if current => driver,
            Ok(stale) => {
                // Terminated or restarted while this driver was starting.
                tokio::spawn(async move { stale.shutdown().await });
                return Ok(());
            }
            Err(_) if !current => return Ok(()),
            Err(message) => {
                drop(slots);
                tracing::warn!(%cluster_id, %message, "a cluster's driver did not start");
                return self.finish_termination(cluster_id, termination_reason("SPARK_STARTUP_FAILURE", "SERVICE_FAULT", json!({"databricks_error_message": message}))).await;
            }
        };
        if let Some(slot) = slots.get_mut(cluster_id) {
            slot.driver = Some(driver.clone());
        }
        drop(slots);
        let mut record = self.load(cluster_id).await?;
        record.state = RUNNING.to_string();
        record.state_message = String::new();
        record.last_activity_ms = now_ms();
        self.store.update_cluster(&record).await?;
        self.event(cluster_id, "RUNNING", json!({"current_num_workers": record.spec.get("num_workers").cloned().unwrap_or(json!(0))})).await?;
        self.event(cluster_id, "DRIVER_HEALTHY", json!({})).await?;
        // A driver that dies on its own takes the cluster down with it.
        let clusters = self.clone();
        let cluster_id = cluster_id.to_string();
        tokio::spawn(async move {
            driver.wait_exit().await;
            let still_current = clusters.slots.lock().await.get(&cluster_id).map(|slot| slot.generation) == Some(generation);
            if still_current {
                let message = format!("The driver process exited; see {}", driver.log_path.display());
                let reason = termination_reason("DRIVER_UNREACHABLE", "SERVICE_FAULT", json!({"databricks_error_message": message}));
                if let Err(error) = clusters.terminate_with(&cluster_id, reason).await {
                    tracing::warn!(%cluster_id, %error, "recording a driver's exit failed");
                }
            }
        });
        Ok(())
    }

    /// Waits until the cluster runs (starting it if it is terminated and the caller may
    /// restart it); fails with the termination reason if it cannot start.
    pub async fn ensure_running(&self, caller: &Caller, cluster_id: &str) -> Result<()> {
        let record = self.authorized(caller, "clusters.attach", cluster_id, "CAN_ATTACH_TO").await?;
        if record.state == TERMINATED {
            self.start(caller, cluster_id).await?;
        }
        loop {
            let record = self.load(cluster_id).await?;
            match record.state.as_str() {
                RUNNING => return Ok(()),
                TERMINATED => {
                    let reason = record.termination_reason.as_ref().and_then(|r| r.get("code")).and_then(Value::as_str).unwrap_or("UNKNOWN").to_string();
                    return Err(Error::invalid(format!("Cluster {cluster_id} terminated ({reason}) {}", record.state_message).trim_end().to_string()));
                }
                _ => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
    }

    /// Terminates a job's cluster when its run ends.
    pub async fn terminate_for_job(&self, cluster_id: &str) -> Result<()> {
        self.terminate_with(cluster_id, termination_reason("JOB_FINISHED", "SUCCESS", json!({}))).await
    }

    pub async fn get(&self, caller: &Caller, cluster_id: &str) -> Result<Value> {
        let record = self.authorized(caller, "clusters.get", cluster_id, "CAN_ATTACH_TO").await?;
        Ok(self.details(&record))
    }

    /// The clusters the caller holds any permission on: pinned first, then newest first.
    pub async fn list(&self, caller: &Caller, filter: &ListFilter) -> Result<Vec<Value>> {
        let mut visible = Vec::new();
        for record in self.store.list_clusters().await? {
            let wanted = (filter.states.is_empty() || filter.states.contains(&record.state))
                && (filter.sources.is_empty() || filter.sources.contains(&record.cluster_source))
                && filter.is_pinned.is_none_or(|pinned| pinned == record.pinned);
            if wanted && self.authz.level_of(caller, &cluster_ref(&record.cluster_id)).await?.is_some() {
                visible.push(record);
            }
        }
        visible.sort_by(|a, b| b.pinned.cmp(&a.pinned).then(b.created_at_ms.cmp(&a.created_at_ms)));
        Ok(visible.iter().map(|record| self.details(record)).collect())
    }

    /// ClusterDetails: the spec as given, plus what the cluster is now.
    fn details(&self, record: &ClusterRecord) -> Value {
        let spec = readable_spec(record);
        let mut details: Map<String, Value> = spec.as_object().cloned().unwrap_or_default();
        let (memory_mb, cores) = spec::driver_size(&details);
        let node_type = details.get("node_type_id").cloned().unwrap_or(json!(spec::DEFAULT_NODE_TYPE));
        details.entry("node_type_id").or_insert(node_type.clone());
        details.entry("driver_node_type_id").or_insert(node_type);
        details.entry("cluster_name").or_insert(json!(""));
        details.entry("autotermination_minutes").or_insert(json!(0));
        if !details.contains_key("autoscale") {
            details.entry("num_workers").or_insert(json!(0));
        }
        details.insert("spec".to_string(), spec);
        details.insert("cluster_id".to_string(), json!(record.cluster_id));
        details.insert("state".to_string(), json!(record.state));
        details.insert("state_message".to_string(), json!(record.state_message));
        details.insert("creator_user_name".to_string(), json!(record.creator_name));
        details.insert("cluster_source".to_string(), json!(record.cluster_source));
        details.insert("start_time".to_string(), json!(record.start_time_ms));
        details.insert("cluster_memory_mb".to_string(), json!(memory_mb));
        details.insert("cluster_cores".to_string(), json!(cores));
        details.insert("jdbc_port".to_string(), json!(10000));
        details.insert("is_pinned".to_string(), json!(record.pinned));
        details.insert(
            "default_tags".to_string(),
            json!({"Vendor": "Databricks", "Creator": record.creator_name, "ClusterName": details.get("cluster_name").cloned().unwrap_or(json!("")), "ClusterId": record.cluster_id}),
        );
        if let Some(time) = record.terminated_time_ms {
            details.insert("terminated_time".to_string(), json!(time));
        }
        if let Some(time) = record.last_restarted_time_ms {
            details.insert("last_restarted_time".to_string(), json!(time));
        }
        if let Some(reason) = &record.termination_reason {
            details.insert("termination_reason".to_string(), reason.clone());
        }
        if record.state == RUNNING {
            details.insert("driver".to_string(), json!({"host_private_ip": "127.0.0.1", "private_ip": "127.0.0.1", "node_id": format!("driver-{}", record.cluster_id), "start_timestamp": record.start_time_ms}));
            details.insert("executors".to_string(), json!([]));
            details.insert("spark_context_id".to_string(), json!(record.last_restarted_time_ms.unwrap_or(record.start_time_ms)));
        }
        Value::Object(details)
    }

    pub async fn start(&self, caller: &Caller, cluster_id: &str) -> Result<()> {
        let record = self.authorized(caller, "clusters.start", cluster_id, "CAN_RESTART").await?;
        match record.state.as_str() {
            TERMINATED => self.begin_start(record, PENDING, "STARTING", json!({"user": caller.name()})).await,
            // Already on its way up; the SDK's waiter takes it from here.
            PENDING | RESTARTING => Ok(()),
            other => Err(invalid_state(cluster_id, other, "only a terminated cluster can be started")),
        }
    }

    pub async fn restart(&self, caller: &Caller, cluster_id: &str) -> Result<()> {
        let record = self.authorized(caller, "clusters.restart", cluster_id, "CAN_RESTART").await?;
        if record.state != RUNNING {
            return Err(invalid_state(cluster_id, &record.state, "only a running cluster can be restarted"));
        }
        self.begin_start(record, RESTARTING, "RESTARTING", json!({"user": caller.name()})).await
    }

    /// A new spec; a running cluster restarts to take it.
    pub async fn edit(&self, caller: &Caller, cluster_id: &str, body: &Value) -> Result<()> {
        let spec = spec::validate(body)?;
        let mut record = self.authorized(caller, "clusters.edit", cluster_id, "CAN_MANAGE").await?;
        if matches!(record.state.as_str(), PENDING | RESTARTING | TERMINATING) {
            return Err(invalid_state(cluster_id, &record.state, "a cluster can be edited when it is running or terminated"));
        }
        let previous = std::mem::replace(&mut record.spec, Value::Object(spec));
        self.store.update_cluster(&record).await?;
        self.event(cluster_id, "EDITED", json!({"user": caller.name(), "previous_attributes": previous, "attributes": record.spec})).await?;
        if record.state == RUNNING {
            self.begin_start(record, RESTARTING, "RESTARTING", json!({"user": caller.name()})).await?;
        }
        Ok(())
    }

    /// Changes only the fields `update_mask` names (comma-separated) to their values in
    /// `changes`; a named field missing from `changes` is cleared. Then as [`Clusters::edit`].
    pub async fn update(&self, caller: &Caller, cluster_id: &str, update_mask: &str, changes: &Value) -> Result<()> {
        let record = self.authorized(caller, "clusters.update", cluster_id, "CAN_MANAGE").await?;
        let fields: Vec<&str> = update_mask.split(',').map(str::trim).filter(|f| !f.is_empty()).collect();
        if fields.is_empty() {
            return Err(Error::invalid("update_mask must name at least one field of cluster"));
        }
        let mut merged = readable_spec(&record).as_object().cloned().unwrap_or_default();
        for field in fields {
            match changes.get(field) {
                Some(value) => merged.insert(field.to_string(), value.clone()),
                None => merged.remove(field),
            };
        }
        self.edit(caller, cluster_id, &Value::Object(merged)).await
    }

    /// Changes the number of workers. Kiln runs all work on the driver, so this is recorded
    /// and reported, and the cluster stays RUNNING.
    pub async fn resize(&self, caller: &Caller, cluster_id: &str, num_workers: Option<i64>, autoscale: Option<Value>) -> Result<()> {
        let mut record = self.authorized(caller, "clusters.resize", cluster_id, "CAN_MANAGE").await?;
        if record.state != RUNNING {
            return Err(invalid_state(cluster_id, &record.state, "only a running cluster can be resized"));
        }
        let mut changed = readable_spec(&record).as_object().cloned().unwrap_or_default();
        match (num_workers, autoscale) {
            (Some(workers), None) if workers >= 0 => {
                changed.remove("autoscale");
                changed.insert("num_workers".to_string(), json!(workers));
            }
            (None, Some(autoscale)) => {
                changed.remove("num_workers");
                changed.insert("autoscale".to_string(), autoscale);
            }
            _ => return Err(Error::invalid("set exactly one of num_workers (0 or more) and autoscale")),
        }
        spec::validate(&Value::Object(changed.clone()))?;
        let previous = changed.get("num_workers").cloned();
        record.spec = Value::Object(changed);
        self.store.update_cluster(&record).await?;
        self.event(cluster_id, "RESIZING", json!({"user": caller.name(), "target_num_workers": previous})).await?;
        self.event(cluster_id, "UPSIZE_COMPLETED", json!({"current_num_workers": previous})).await
    }

    /// Terminates the cluster (`clusters/delete`); a terminated cluster stays listed.
    pub async fn terminate(&self, caller: &Caller, cluster_id: &str) -> Result<()> {
        self.authorized(caller, "clusters.delete", cluster_id, "CAN_MANAGE").await?;
        self.terminate_with(cluster_id, termination_reason("USER_REQUEST", "SUCCESS", json!({"username": caller.name()}))).await
    }

    async fn terminate_with(&self, cluster_id: &str, reason: Value) -> Result<()> {
        let record = self.load(cluster_id).await?;
        if matches!(record.state.as_str(), TERMINATING | TERMINATED) {
            return Ok(());
        }
        let driver = {
            let mut slots = self.slots.lock().await;
            let slot = slots.entry(cluster_id.to_string()).or_default();
            slot.generation += 1;
            slot.contexts.clear();
            slot.driver.take()
        };
        let mut terminating = record;
        terminating.state = TERMINATING.to_string();
        terminating.state_message = "Stopping the driver".to_string();
        self.store.update_cluster(&terminating).await?;
        self.event(cluster_id, "TERMINATING", json!({"reason": reason})).await?;
        let clusters = self.clone();
        let cluster_id = cluster_id.to_string();
        tokio::spawn(async move {
            if let Some(driver) = driver {
                if let Err(panic) = crate::panics::catch_panic(driver.shutdown()).await {
                    tracing::error!(%cluster_id, %panic, "stopping a driver panicked");
                }
            }
            if let Err(error) = clusters.finish_termination(&cluster_id, reason).await {
                tracing::warn!(%cluster_id, %error, "finishing a termination failed");
            }
        });
        Ok(())
    }

    async fn finish_termination(&self, cluster_id: &str, reason: Value) -> Result<()> {
        let Some(mut record) = self.store.get_cluster(cluster_id).await? else { return Ok(()) };
        let now = now_ms();
        record.state = TERMINATED.to_string();
        record.state_message = reason.pointer("/parameters/databricks_error_message").and_then(Value::as_str).unwrap_or("").to_string();
        record.terminated_time_ms = Some(now);
        record.last_activity_ms = now;
        record.termination_reason = Some(reason.clone());
        self.store.update_cluster(&record).await?;
        self.event(cluster_id, "TERMINATED", json!({"reason": reason})).await
    }

    /// Terminates (if needed) and removes the cluster, its ACL and its events.
    pub async fn permanent_delete(&self, caller: &Caller, cluster_id: &str) -> Result<()> {
        self.authorized(caller, "clusters.permanentDelete", cluster_id, "CAN_MANAGE").await?;
        let driver = self.slots.lock().await.remove(cluster_id).and_then(|slot| slot.driver);
        if let Some(driver) = driver {
            driver.shutdown().await;
        }
        self.store.delete_cluster(cluster_id).await?;
        self.store.delete_object(clusters_type().segment, cluster_id).await?;
        Ok(())
    }

    /// Pinning keeps a cluster listed; only admins pin, as on Databricks.
    pub async fn set_pinned(&self, caller: &Caller, cluster_id: &str, pinned: bool) -> Result<()> {
        let mut record = self.load(cluster_id).await?;
        self.authz.require_admin(caller, if pinned { "clusters.pin" } else { "clusters.unpin" }, &format!("cluster {cluster_id}")).await?;
        if record.pinned != pinned {
            record.pinned = pinned;
            self.store.update_cluster(&record).await?;
            self.event(cluster_id, if pinned { "PINNED" } else { "UNPINNED" }, json!({"user": caller.name()})).await?;
        }
        Ok(())
    }

    /// Makes `owner_username` the cluster's creator and gives them CAN_MANAGE; admins only.
    pub async fn change_owner(&self, caller: &Caller, cluster_id: &str, owner_username: &str) -> Result<()> {
        let mut record = self.load(cluster_id).await?;
        self.authz.require_admin(caller, "clusters.changeOwner", &format!("cluster {cluster_id}")).await?;
        let owner = self.store.find_principal_by_name(owner_username).await?.ok_or_else(|| Error::invalid(format!("owner_username {owner_username} is not a user or service principal")))?;
        self.store.merge_acl(clusters_type().segment, cluster_id, &[AclEntry { principal_id: owner.id, level: "CAN_MANAGE".to_string() }]).await?;
        record.creator_name = owner.name;
        self.store.update_cluster(&record).await?;
        Ok(())
    }

    pub async fn events(&self, caller: &Caller, cluster_id: &str, filter: &ClusterEventFilter, offset: usize, limit: usize) -> Result<(Vec<ClusterEventRecord>, usize)> {
        self.authorized(caller, "clusters.events", cluster_id, "CAN_ATTACH_TO").await?;
        Ok(self.store.list_cluster_events(cluster_id, filter, offset, limit).await?)
    }

    /// Terminates running clusters idle for longer than their `autotermination_minutes`
    /// at `now_ms`; a cluster with a command still running is not idle.
    pub async fn terminate_idle(&self, now_ms: i64) -> Result<Vec<String>> {
        let mut terminated = Vec::new();
        for record in self.store.list_clusters().await? {
            let minutes = record.spec.get("autotermination_minutes").and_then(Value::as_i64).unwrap_or(0);
            if record.state != RUNNING || minutes <= 0 || now_ms - record.last_activity_ms < minutes * 60_000 {
                continue;
            }
            if self.has_running_command(&record.cluster_id).await {
                continue;
            }
            let reason = termination_reason("INACTIVITY", "SUCCESS", json!({"inactivity_duration_min": minutes.to_string()}));
            self.terminate_with(&record.cluster_id, reason).await?;
            terminated.push(record.cluster_id);
        }
        Ok(terminated)
    }

    async fn has_running_command(&self, cluster_id: &str) -> bool {
        let slots = self.slots.lock().await;
        slots.get(cluster_id).and_then(|slot| slot.driver.as_ref()).is_some_and(|driver| driver.is_busy())
    }

    /// Marks activity, so autotermination counts from now.
    async fn touch(&self, cluster_id: &str) -> Result<()> {
        if let Some(mut record) = self.store.get_cluster(cluster_id).await? {
            record.last_activity_ms = now_ms();
            self.store.update_cluster(&record).await?;
        }
        Ok(())
    }
}

/// A cluster's spec without what no longer fits its shape: rows stored before a check existed
/// read leniently (and are reported) instead of failing every reader.
fn readable_spec(record: &ClusterRecord) -> Value {
    let mut spec = record.spec.clone();
    let removed = crate::shapes::prune(&mut spec, &crate::shapes::clusters::CLUSTER_SPEC);
    if !removed.is_empty() {
        tracing::warn!(cluster_id = %record.cluster_id, problems = ?removed, "a stored cluster has a spec that is no longer valid; reading it without those fields");
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditLog;
    use crate::authz::AclPolicy;

    async fn clusters() -> (Clusters, Arc<dyn Store>) {
        let store: Arc<dyn Store> = Arc::new(kiln_store_sqlite::SqliteStore::open(":memory:").await.expect("store"));
        let authz = Authz::new(Arc::new(AclPolicy::new(store.clone())), store.clone(), AuditLog::start(store.clone()));
        let oauth = OAuthService::new(store.clone(), authz.clone(), b"test signing key");
        let launcher = Launcher { python: "python3".into(), sandbox: crate::sandbox::Sandbox::none(), clusters_dir: std::env::temp_dir(), host_url: "http://127.0.0.1:1".into() };
        (Clusters::new(store.clone(), authz, oauth, launcher), store)
    }

    fn running(cluster_id: &str, autotermination_minutes: i64, last_activity_ms: i64) -> ClusterRecord {
        ClusterRecord {
            cluster_id: cluster_id.into(),
            state: RUNNING.into(),
            state_message: String::new(),
            spec: json!({"spark_version": "15.4.x-scala2.12", "autotermination_minutes": autotermination_minutes}),
            creator_name: "ann".into(),
            cluster_source: "API".into(),
            pinned: false,
            created_at_ms: last_activity_ms,
            start_time_ms: last_activity_ms,
            terminated_time_ms: None,
            last_restarted_time_ms: None,
            last_activity_ms,
            termination_reason: None,
        }
    }

    #[tokio::test]
    async fn idle_clusters_terminate_for_inactivity() {
        let (clusters, store) = clusters().await;
        let start = 1_800_000_000_000;
        store.insert_cluster(&running("idle", 10, start)).await.expect("insert");
        store.insert_cluster(&running("busy-recently", 10, start + 5 * 60_000)).await.expect("insert");
        store.insert_cluster(&running("never", 0, start)).await.expect("insert");
        let terminated = clusters.terminate_idle(start + 11 * 60_000).await.expect("check");
        assert_eq!(terminated, vec!["idle".to_string()]);
        // The driver shutdown and the TERMINATED record happen in the background.
        let mut record = store.get_cluster("idle").await.expect("get").expect("present");
        for _ in 0..100 {
            if record.state == TERMINATED {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            record = store.get_cluster("idle").await.expect("get").expect("present");
        }
        assert_eq!(record.state, TERMINATED);
        assert_eq!(record.termination_reason.as_ref().and_then(|r| r.get("code")), Some(&json!("INACTIVITY")));
        let (events, _) = store.list_cluster_events("idle", &ClusterEventFilter::default(), 0, 10).await.expect("events");
        assert_eq!(events.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>(), vec!["TERMINATING", "TERMINATED"]);
        for untouched in ["busy-recently", "never"] {
            assert_eq!(store.get_cluster(untouched).await.expect("get").expect("present").state, RUNNING);
        }
    }
}

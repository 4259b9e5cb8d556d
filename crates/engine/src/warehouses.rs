//! SQL warehouses: `/api/2.0/sql/warehouses`. A running warehouse is an execution pool
//! whose `cluster_size` fixes how many statements run at once and how much memory they
//! share. Access goes through the `warehouses` object ACL: CAN_VIEW to see, CAN_MONITOR to
//! see its queries, CAN_USE to run statements and start it, CAN_MANAGE to edit, stop and
//! delete it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kiln_api::sql::{Channel, EndpointHealth, EndpointInfo, EndpointTags, OdbcParams, WarehouseSpec};
use kiln_core::authz::{Authz, ObjectRef, ObjectType};
use kiln_core::clock::now_ms;
use kiln_core::principal::{ADMINS_GROUP, Caller, USERS_GROUP};
use kiln_core::shapes;
use kiln_core::{Error, ErrorCode, Result};
use kiln_store::{AclEntry, ObjectRecord, PrincipalKind, Store, WarehouseRecord};

use crate::session::ExecutionPool;

pub const STARTING: &str = "STARTING";
pub const RUNNING: &str = "RUNNING";
pub const STOPPING: &str = "STOPPING";
pub const STOPPED: &str = "STOPPED";

/// The warehouse a fresh workspace has.
pub const DEFAULT_WAREHOUSE_NAME: &str = "Starter Warehouse";

const GIB: usize = 1024 * 1024 * 1024;

/// Concurrent statements and memory per `cluster_size`, smallest first.
const SIZES: &[(&str, usize, usize)] = &[
    ("2X-Small", 2, GIB),
    ("X-Small", 4, 2 * GIB),
    ("Small", 8, 4 * GIB),
    ("Medium", 16, 8 * GIB),
    ("Large", 32, 12 * GIB),
    ("X-Large", 48, 16 * GIB),
    ("2X-Large", 64, 16 * GIB),
    ("3X-Large", 64, 16 * GIB),
    ("4X-Large", 64, 16 * GIB),
    ("5X-Large", 64, 16 * GIB),
];

/// How often idle warehouses are checked against `auto_stop_mins`.
const AUTO_STOP_SWEEP: Duration = Duration::from_secs(30);

fn size_of(cluster_size: &str) -> Option<(usize, usize)> {
    SIZES.iter().find(|(name, _, _)| name.eq_ignore_ascii_case(cluster_size)).map(|(_, concurrency, memory)| (*concurrency, *memory))
}

fn warehouse_object(id: &str) -> ObjectRef {
    ObjectRef::new(ObjectType::find("warehouses").expect("warehouses is a defined object type"), id)
}

fn not_found(id: &str) -> Error {
    Error::not_found(format!("Warehouse {id} does not exist."))
}

#[derive(Debug, Clone)]
pub struct Warehouses {
    store: Arc<dyn Store>,
    authz: Authz,
    /// Pools of running warehouses, by id.
    pools: Arc<Mutex<HashMap<String, ExecutionPool>>>,
    /// When each warehouse last ran a statement; kept in memory so a statement costs no
    /// write (the stored time is updated on state changes).
    activity: Arc<Mutex<HashMap<String, i64>>>,
    spill_dir: PathBuf,
    /// Host and port for the JDBC/ODBC fields.
    listen: String,
}

impl Warehouses {
    pub fn new(store: Arc<dyn Store>, authz: Authz, spill_dir: PathBuf, listen: String) -> Warehouses {
        Warehouses { store, authz, pools: Arc::default(), activity: Arc::default(), spill_dir, listen }
    }

    /// Creates the default warehouse on a workspace's first start; admins own it and every
    /// user may use it.
    pub async fn bootstrap(&self) -> Result<()> {
        let marker = kiln_core::ids::random_hex(8);
        if self.store.init_setting("default_warehouse", &marker).await? != marker {
            return Ok(());
        }
        let spec = WarehouseSpec {
            name: Some(DEFAULT_WAREHOUSE_NAME.to_string()),
            cluster_size: Some("Small".to_string()),
            auto_stop_mins: Some(120),
            ..Default::default()
        };
        let record = self.insert(spec, "system").await?;
        let mut entries = Vec::new();
        for (group, level) in [(ADMINS_GROUP, "CAN_MANAGE"), (USERS_GROUP, "CAN_USE")] {
            if let Some(principal) = self.store.find_principal(PrincipalKind::Group, group).await? {
                entries.push(AclEntry { principal_id: principal.id, level: level.to_string() });
            }
        }
        self.store.set_acl("warehouses", &record.id, &entries).await?;
        Ok(())
    }

    /// Stops warehouses idle for longer than their `auto_stop_mins`, every 30 s.
    pub fn start_auto_stop(&self) {
        let warehouses = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(AUTO_STOP_SWEEP).await;
                if let Err(error) = warehouses.stop_idle().await {
                    tracing::warn!(%error, "auto-stop sweep failed");
                }
            }
        });
    }

    async fn stop_idle(&self) -> Result<()> {
        let now = now_ms();
        for record in self.store.list_warehouses().await? {
            let spec = spec_of(&record);
            let minutes = i64::from(spec.auto_stop_mins.unwrap_or(120));
            let busy = self.pools.lock().unwrap_or_else(|p| p.into_inner()).get(&record.id).is_some_and(ExecutionPool::is_busy);
            let recent = self.activity.lock().unwrap_or_else(|p| p.into_inner()).get(&record.id).copied().unwrap_or_default();
            let last_activity = record.last_activity_ms.max(recent);
            if record.state == RUNNING && minutes > 0 && !busy && now - last_activity >= minutes * 60_000 {
                tracing::info!(warehouse = %record.id, minutes, "stopping idle warehouse");
                self.transition(&record.id, STOPPED).await?;
            }
        }
        Ok(())
    }

    async fn insert(&self, spec: WarehouseSpec, creator: &str) -> Result<WarehouseRecord> {
        let spec = validated(spec)?;
        let now = now_ms();
        let record = WarehouseRecord {
            id: kiln_core::ids::random_hex(8),
            name: spec.name.clone().unwrap_or_default(),
            state: STARTING.to_string(),
            spec: serde_json::to_value(&spec).map_err(|e| Error::internal(e.to_string()))?,
            creator_name: creator.to_string(),
            created_at_ms: now,
            last_activity_ms: now,
        };
        self.store.insert_warehouse(&record).await.map_err(|error| match error {
            kiln_store::StoreError::AlreadyExists(_) => Error::already_exists(format!("A warehouse named '{}' already exists.", record.name)),
            other => other.into(),
        })?;
        self.store.upsert_object(&ObjectRecord { object_type: "warehouses".to_string(), object_id: record.id.clone(), parent: None }).await?;
        self.start_pool(&record)?;
        self.transition(&record.id, RUNNING).await
    }

    pub async fn create(&self, caller: &Caller, spec: WarehouseSpec) -> Result<String> {
        // validations
        if spec.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
            return Err(Error::invalid("name is required"));
        }
        // authz: workspace users with the allow-cluster-create entitlement, or admins.
        let entitled = caller.is_admin() || caller.principal.record.entitlements.iter().any(|e| e == "allow-cluster-create");
        if !entitled {
            self.authz.require_admin(caller, "sql.warehouses.create", "SQL warehouses").await?;
        }
        // business logic
        let record = self.insert(spec, caller.name()).await?;
        let owner = AclEntry { principal_id: caller.id(), level: "IS_OWNER".to_string() };
        self.store.set_acl("warehouses", &record.id, &[owner]).await?;
        Ok(record.id)
    }

    async fn load(&self, id: &str) -> Result<WarehouseRecord> {
        self.store.get_warehouse(id).await?.ok_or_else(|| not_found(id))
    }

    /// The warehouse if the caller holds at least `level` on it; one they cannot view is
    /// "does not exist".
    async fn authorized(&self, caller: &Caller, action: &str, id: &str, level: &str) -> Result<WarehouseRecord> {
        let record = self.load(id).await?;
        self.authz.require_visible_permission(caller, action, &warehouse_object(id), level, not_found(id)).await?;
        Ok(record)
    }

    /// CAN_MONITOR or more: may see the warehouse's query history.
    pub async fn may_monitor(&self, caller: &Caller, id: &str) -> Result<bool> {
        let object = warehouse_object(id);
        let Some(level) = self.authz.level_of(caller, &object).await? else { return Ok(false) };
        Ok(object.object_type.rank(level) >= object.object_type.rank("CAN_MONITOR"))
    }

    pub async fn get(&self, caller: &Caller, id: &str) -> Result<EndpointInfo> {
        let record = self.authorized(caller, "sql.warehouses.get", id, "CAN_VIEW").await?;
        Ok(self.info(&record))
    }

    pub async fn list(&self, caller: &Caller) -> Result<Vec<EndpointInfo>> {
        let mut visible = Vec::new();
        for record in self.store.list_warehouses().await? {
            if self.authz.level_of(caller, &warehouse_object(&record.id)).await?.is_some() {
                visible.push(self.info(&record));
            }
        }
        Ok(visible)
    }

    /// Edit replaces the fields given and restarts a stopped warehouse, so it ends RUNNING
    /// (the SDK's `edit_and_wait` waits for that).
    pub async fn edit(&self, caller: &Caller, id: &str, changes: WarehouseSpec) -> Result<()> {
        let mut record = self.authorized(caller, "sql.warehouses.edit", id, "CAN_MANAGE").await?;
        let spec = validated(merge(spec_of(&record), changes))?;
        record.name = spec.name.clone().unwrap_or(record.name);
        record.spec = serde_json::to_value(&spec).map_err(|e| Error::internal(e.to_string()))?;
        self.store.update_warehouse(&record).await.map_err(|error| match error {
            kiln_store::StoreError::AlreadyExists(_) => Error::already_exists(format!("A warehouse named '{}' already exists.", record.name)),
            other => other.into(),
        })?;
        // A new size takes effect on the next start.
        self.pools.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
        self.start_pool(&record)?;
        self.transition(id, RUNNING).await?;
        Ok(())
    }

    pub async fn start(&self, caller: &Caller, id: &str) -> Result<()> {
        let record = self.authorized(caller, "sql.warehouses.start", id, "CAN_USE").await?;
        self.ensure_started(&record).await
    }

    pub async fn stop(&self, caller: &Caller, id: &str) -> Result<()> {
        self.authorized(caller, "sql.warehouses.stop", id, "CAN_MANAGE").await?;
        self.transition(id, STOPPING).await?;
        self.transition(id, STOPPED).await?;
        Ok(())
    }

    pub async fn delete(&self, caller: &Caller, id: &str) -> Result<()> {
        self.authorized(caller, "sql.warehouses.delete", id, "CAN_MANAGE").await?;
        self.pools.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
        self.store.delete_warehouse(id).await?;
        self.store.delete_object("warehouses", id).await?;
        Ok(())
    }

    /// The pool a statement runs on: CAN_USE, and a stopped warehouse is started first.
    pub async fn pool_for_statement(&self, caller: &Caller, id: &str) -> Result<ExecutionPool> {
        let record = match self.authorized(caller, "sql.statements.execute", id, "CAN_USE").await {
            Err(error) if error.code == ErrorCode::ResourceDoesNotExist => {
                return Err(Error::not_found(format!("Warehouse {id} does not exist or you do not have CAN_USE on it.")));
            }
            other => other?,
        };
        self.ensure_started(&record).await?;
        self.touch(id);
        self.pools.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned().ok_or_else(|| Error::internal(format!("warehouse {id} has no execution pool")))
    }

    /// Marks activity so auto-stop counts from now.
    pub fn touch(&self, id: &str) {
        self.activity.lock().unwrap_or_else(|p| p.into_inner()).insert(id.to_string(), now_ms());
    }

    async fn ensure_started(&self, record: &WarehouseRecord) -> Result<()> {
        if record.state == RUNNING && self.pools.lock().unwrap_or_else(|p| p.into_inner()).contains_key(&record.id) {
            return Ok(());
        }
        self.transition(&record.id, STARTING).await?;
        self.start_pool(record)?;
        self.transition(&record.id, RUNNING).await?;
        Ok(())
    }

    fn start_pool(&self, record: &WarehouseRecord) -> Result<()> {
        let spec = spec_of(record);
        let (concurrency, memory) = size_of(spec.cluster_size.as_deref().unwrap_or("Small")).unwrap_or((8, 4 * GIB));
        // Each cluster of a scaled-out warehouse adds statement slots, not memory.
        let clusters = usize::try_from(spec.max_num_clusters.unwrap_or(1).max(1)).unwrap_or(1);
        let spill_dir = self.spill_dir.join(&record.id);
        std::fs::create_dir_all(&spill_dir).map_err(|e| Error::internal(format!("cannot create spill directory {}: {e}", spill_dir.display())))?;
        let pool = ExecutionPool::new((concurrency * clusters).min(256), memory, &spill_dir).map_err(Error::internal)?;
        self.pools.lock().unwrap_or_else(|p| p.into_inner()).insert(record.id.clone(), pool);
        Ok(())
    }

    async fn transition(&self, id: &str, state: &str) -> Result<WarehouseRecord> {
        let mut record = self.load(id).await?;
        record.state = state.to_string();
        record.last_activity_ms = now_ms();
        if state == STOPPED {
            self.pools.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
        }
        self.store.update_warehouse(&record).await?;
        Ok(record)
    }

    fn info(&self, record: &WarehouseRecord) -> EndpointInfo {
        let spec = spec_of(record);
        let (host, port) = self.listen.rsplit_once(':').unwrap_or((self.listen.as_str(), "80"));
        let path = format!("/sql/1.0/warehouses/{}", record.id);
        let running = record.state == RUNNING;
        EndpointInfo {
            id: record.id.clone(),
            name: record.name.clone(),
            cluster_size: spec.cluster_size.clone().unwrap_or_else(|| "Small".to_string()),
            min_num_clusters: spec.min_num_clusters.unwrap_or(1),
            max_num_clusters: spec.max_num_clusters.unwrap_or(1),
            auto_stop_mins: spec.auto_stop_mins.unwrap_or(120),
            enable_photon: spec.enable_photon.unwrap_or(true),
            enable_serverless_compute: spec.enable_serverless_compute.unwrap_or(false),
            warehouse_type: spec.warehouse_type.clone().unwrap_or_else(|| "PRO".to_string()),
            spot_instance_policy: spec.spot_instance_policy.clone().unwrap_or_else(|| "COST_OPTIMIZED".to_string()),
            channel: spec.channel.clone().unwrap_or(Channel { name: Some("CHANNEL_NAME_CURRENT".to_string()), dbsql_version: None }),
            tags: spec.tags.clone().unwrap_or(EndpointTags::default()),
            creator_name: record.creator_name.clone(),
            state: record.state.clone(),
            num_clusters: if running { spec.min_num_clusters.unwrap_or(1) } else { 0 },
            num_active_sessions: 0,
            health: EndpointHealth { status: "HEALTHY".to_string(), summary: None },
            jdbc_url: format!("jdbc:databricks://{host}:{port}/default;transportMode=http;ssl=0;AuthMech=3;httpPath={path};"),
            odbc_params: OdbcParams { hostname: host.to_string(), path, port: port.parse().unwrap_or(80), protocol: "http".to_string() },
        }
    }
}

/// The stored spec; one an earlier version stored that no longer reads is reported and read
/// as the defaults, so one bad row does not fail every list.
fn spec_of(record: &WarehouseRecord) -> WarehouseSpec {
    serde_json::from_value(record.spec.clone()).unwrap_or_else(|error| {
        tracing::warn!(warehouse = %record.id, %error, "a stored warehouse has a spec that no longer reads; showing its defaults");
        WarehouseSpec::default()
    })
}

/// Edit semantics: fields present in the request replace the stored ones.
fn merge(mut current: WarehouseSpec, changes: WarehouseSpec) -> WarehouseSpec {
    macro_rules! take {
        ($($field:ident),*) => { $( if changes.$field.is_some() { current.$field = changes.$field; } )* };
    }
    take!(name, cluster_size, min_num_clusters, max_num_clusters, auto_stop_mins, enable_photon, enable_serverless_compute, warehouse_type, spot_instance_policy, channel, tags, statement_timeout);
    current
}

/// Checks the fields Databricks checks and fills defaults; errors name the field. The shape
/// (types, enums, ranges, sizes) is [`shapes::sql::WAREHOUSE`]; these are the rules on top.
fn validated(mut spec: WarehouseSpec) -> Result<WarehouseSpec> {
    let given = serde_json::to_value(&spec).map_err(|e| Error::internal(e.to_string()))?;
    shapes::check(&given, &shapes::sql::WAREHOUSE)?;
    if spec.name.as_deref().is_some_and(|name| name.trim().is_empty()) {
        return Err(Error::invalid("name must not be blank"));
    }
    let size = spec.cluster_size.get_or_insert_with(|| "Small".to_string());
    let Some(canonical) = SIZES.iter().find(|(name, _, _)| name.eq_ignore_ascii_case(size)) else {
        let known: Vec<&str> = SIZES.iter().map(|(name, _, _)| *name).collect();
        return Err(Error::invalid(format!("cluster_size '{size}' is not one of {}", known.join(", "))));
    };
    *size = canonical.0.to_string();
    let auto_stop = *spec.auto_stop_mins.get_or_insert(120);
    if auto_stop != 0 && auto_stop < 10 {
        return Err(Error::invalid(format!("auto_stop_mins must be 0 (never) or at least 10, got {auto_stop}")));
    }
    let min = *spec.min_num_clusters.get_or_insert(1);
    let max = *spec.max_num_clusters.get_or_insert(min.max(1));
    if max < min {
        return Err(Error::invalid(format!("max_num_clusters ({max}) must be at least min_num_clusters ({min})")));
    }
    if spec.warehouse_type.as_deref() == Some("REALTIME") {
        return Err(Error::invalid("warehouse_type 'REALTIME' is not supported by Kiln; use CLASSIC or PRO"));
    }
    Ok(spec)
}

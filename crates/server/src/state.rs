use std::path::Path;
use std::sync::Arc;

use kiln_core::audit::AuditLog;
use kiln_core::clusters::Clusters;
use kiln_core::jobs::Jobs;
use kiln_core::notifications::NotificationDestinations;
use kiln_core::queries::SavedQueries;
use kiln_core::clusters::driver::Launcher;
use kiln_core::sandbox::Sandbox;
use kiln_core::authn::Authenticator;
use kiln_core::authz::{AclPolicy, Authz};
use kiln_core::identity::ScimService;
use kiln_core::oauth::OAuthService;
use kiln_core::permissions::PermissionsService;
use kiln_core::Error;
use kiln_core::dbfs::Dbfs;
use kiln_core::workspace_conf::WorkspaceConf;
use kiln_core::workspace_tree::WorkspaceTree;
use kiln_core::files::Files;
use kiln_core::secrets::SecretsService;
use kiln_core::tokens::TokenService;
use kiln_core::uc::UnityCatalog;
use kiln_engine::{ExecutionPool, Executor};
use kiln_engine::statements::Statements;
use kiln_engine::warehouses::Warehouses;
use kiln_core::workspace::WorkspaceInfo;
use kiln_store::Store;

/// Statements from cluster drivers that run at once, and the memory they share (operators
/// beyond it spill to disk).
const CLUSTER_SQL_CONCURRENCY: usize = 8;
const CLUSTER_SQL_MEMORY_BYTES: usize = 4 << 30;

/// Everything handlers need. Axum clones the state for every request and middleware, so it
/// is one shared pointer.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Services>);

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

#[derive(Debug, Clone)]
pub struct Services {
    pub store: Arc<dyn Store>,
    pub workspace: Arc<WorkspaceInfo>,
    pub authenticator: Authenticator,
    pub audit: AuditLog,
    pub authz: Authz,
    pub oauth: OAuthService,
    /// `None` when rate limiting is switched off.
    pub rate_limits: crate::ratelimit::SharedRateLimits,
    pub tokens: TokenService,
    pub scim: ScimService,
    pub permissions: PermissionsService,
    pub uc: UnityCatalog,
    pub warehouses: Warehouses,
    pub statements: Statements,
    pub files: Files,
    pub secrets: Arc<SecretsService>,
    pub dbfs: Dbfs,
    pub workspace_conf: WorkspaceConf,
    pub workspace_tree: WorkspaceTree,
    pub clusters: Clusters,
    pub jobs: Jobs,
    pub notifications: NotificationDestinations,
    pub queries: SavedQueries,
    /// Runs `spark.sql` from cluster drivers, on [`Services::cluster_pool`].
    pub cluster_sql: Executor,
    pub cluster_pool: ExecutionPool,
}

impl AppState {
    /// Wires the services over a bootstrapped workspace whose files live in `data_dir`;
    /// starts the audit writer on the current runtime.
    pub async fn new(store: Arc<dyn Store>, workspace: WorkspaceInfo, signing_key: &[u8], data_dir: &Path, listen: &str) -> Result<AppState, Error> {
        let audit = AuditLog::start(store.clone());
        let authz = Authz::new(Arc::new(AclPolicy::new(store.clone())), store.clone(), audit.clone());
        let authenticator = Authenticator::new(store.clone());
        let uc = UnityCatalog::open(store.clone(), authz.clone(), data_dir.join("storage")).await?;
        let warehouses = Warehouses::new(store.clone(), authz.clone(), data_dir.join("spill"), listen.to_string());
        warehouses.bootstrap().await?;
        warehouses.start_auto_stop();
        let statements = Statements::new(Executor::new(uc.clone(), authenticator.clone()), warehouses.clone(), store.clone(), data_dir.join("results"), signing_key);
        statements.start_expiry();
        let workspace_tree = WorkspaceTree::new(store.clone(), authz.clone(), data_dir.join("workspace"));
        workspace_tree.bootstrap().await?;
        let oauth = OAuthService::new(store.clone(), authz.clone(), signing_key);
        let launcher_host = format!("http://{}", listen.replace("0.0.0.0", "127.0.0.1"));
        // Drivers run in their own working directories, so paths must be absolute.
        let absolute_data_dir = std::path::absolute(data_dir).map_err(|e| Error::internal(format!("cannot resolve {}: {e}", data_dir.display())))?;
        let launcher = Launcher {
            python: std::env::var("KILN_PYTHON").unwrap_or_else(|_| "python3".to_string()),
            sandbox: Sandbox::probe(&absolute_data_dir).await,
            clusters_dir: absolute_data_dir.join("clusters"),
            host_url: launcher_host.clone(),
        };
        let clusters = Clusters::new(store.clone(), authz.clone(), oauth.clone(), launcher);
        clusters.recover().await?;
        let files = Files::new(uc.clone());
        let dbfs = Dbfs::open(data_dir.join("dbfs"))?;
        let task_sql = Arc::new(kiln_engine::cluster_sql::WarehouseTaskSql { warehouses: warehouses.clone(), executor: Executor::new(uc.clone(), authenticator.clone()) });
        let secrets = Arc::new(SecretsService::new(store.clone(), authz.clone(), &load_secrets_key(data_dir)?)?);
        let notifications = NotificationDestinations::new(store.clone(), authz.clone(), secrets.clone());
        let jobs = Jobs::new(store.clone(), authz.clone(), authenticator.clone(), clusters.clone(), workspace_tree.clone(), files.clone(), dbfs.clone(), task_sql, launcher_host.clone())
            .with_notifications(notifications.clone());
        jobs.recover().await?;
        let cluster_pool = ExecutionPool::new(CLUSTER_SQL_CONCURRENCY, CLUSTER_SQL_MEMORY_BYTES, &data_dir.join("spill")).map_err(Error::internal)?;
        Ok(AppState(Arc::new(Services {
            files,
            secrets,
            dbfs,
            workspace_conf: WorkspaceConf::new(store.clone(), authz.clone()),
            workspace_tree,
            clusters,
            jobs,
            notifications,
            queries: SavedQueries::new(store.clone()),
            cluster_sql: Executor::new(uc.clone(), authenticator.clone()),
            cluster_pool,
            uc,
            warehouses,
            statements,
            tokens: TokenService::new(store.clone(), authz.clone(), workspace.workspace_id, authenticator.cache()),
            scim: ScimService::new(store.clone(), authz.clone(), authenticator.cache()),
            authenticator,
            permissions: PermissionsService::new(store.clone(), authz.clone()),
            rate_limits: None,
            oauth,
            authz,
            audit,
            store,
            workspace: Arc::new(workspace),
        })))
    }

    /// Switches rate limiting on with these buckets, or off with `None`.
    pub fn with_rate_limits(mut self, rate_limits: crate::ratelimit::SharedRateLimits) -> AppState {
        Arc::make_mut(&mut self.0).rate_limits = rate_limits;
        self
    }
}

/// The AES-256 key of secrets at rest: `KILN_SECRETS_KEY` (base64 of 32 bytes) when set, so
/// it can live outside the data directory; otherwise `keys/secrets.key`, created on first
/// start (mode 0600).
fn load_secrets_key(data_dir: &Path) -> Result<Vec<u8>, Error> {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    let decode = |text: &str, from: &str| -> Result<Vec<u8>, Error> {
        let key = STANDARD.decode(text.trim()).map_err(|_| Error::invalid(format!("{from} is not base64")))?;
        if key.len() != 32 {
            return Err(Error::invalid(format!("{from} must hold 32 bytes (base64), it holds {}", key.len())));
        }
        Ok(key)
    };
    if let Ok(text) = std::env::var("KILN_SECRETS_KEY") {
        return decode(&text, "KILN_SECRETS_KEY");
    }
    let path = data_dir.join("keys").join("secrets.key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        return decode(&text, &path.display().to_string());
    }
    let key: [u8; 32] = rand::random();
    std::fs::create_dir_all(data_dir.join("keys")).map_err(|e| Error::internal(format!("cannot create the keys directory: {e}")))?;
    crate::write_private_file(&path, &STANDARD.encode(key)).map_err(|e| Error::internal(format!("cannot write {}: {e}", path.display())))?;
    Ok(key.to_vec())
}

//! The `kiln` server: configuration, wiring and the HTTP layer.

pub mod config;
pub mod error;
pub mod extract;
pub mod http;
pub mod limits;
pub mod ratelimit;
mod request_shapes;
pub mod routes;
pub mod state;

use std::sync::Arc;

use kiln_core::workspace::{AdminToken, bootstrap};
use kiln_store::Store;
use kiln_store_sqlite::SqliteStore;

use crate::config::{Config, ServeArgs};
use crate::state::AppState;

/// Builds the state for a store and data directory; used by `serve` and by tests.
/// `signing_key` signs OAuth access tokens.
/// `listen` is the address clients reach it at (for JDBC/ODBC URLs).
pub async fn build_state(
    store: Arc<dyn Store>,
    admin_token: Option<&str>,
    signing_key: &[u8],
    data_dir: &std::path::Path,
    listen: &str,
) -> Result<(AppState, AdminToken), String> {
    let (workspace, admin) = bootstrap(&store, admin_token).await.map_err(|e| format!("bootstrap failed: {e}"))?;
    let state = AppState::new(store, workspace, signing_key, data_dir, listen).await.map_err(|e| format!("starting services failed: {e}"))?;
    Ok((state, admin))
}

/// The workspace's token-signing key, created on first start under `keys/` (mode 0600).
fn load_signing_key(data_dir: &std::path::Path) -> Result<Vec<u8>, String> {
    let keys = data_dir.join("keys");
    std::fs::create_dir_all(&keys).map_err(|e| format!("cannot create {}: {e}", keys.display()))?;
    let path = keys.join("signing.key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(existing.trim().as_bytes().to_vec());
    }
    let key = kiln_core::ids::random_hex(32);
    write_private_file(&path, &key).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(key.into_bytes())
}

pub async fn serve(args: ServeArgs) -> Result<(), String> {
    let config = Config::resolve(args)?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(log_filter(&config.log)).map_err(|e| format!("invalid log filter: {e}"))?)
        .with_writer(std::io::stderr)
        .init();
    std::fs::create_dir_all(&config.data_dir).map_err(|e| format!("cannot create data dir {}: {e}", config.data_dir.display()))?;
    let db_path = config.data_dir.join("kiln.db");
    let store = SqliteStore::open(&db_path.to_string_lossy()).await.map_err(|e| e.to_string())?;
    let signing_key = load_signing_key(&config.data_dir)?;
    let (mut state, admin) = build_state(Arc::new(store), config.admin_token.as_deref(), &signing_key, &config.data_dir, &config.listen.to_string()).await?;
    if config.rate_limits.enabled {
        state = state.with_rate_limits(Some(Arc::new(ratelimit::RateLimits::new(&config.rate_limits.classes)?)));
    }
    if config.samples_scale > 0.0 {
        // In the background: the workspace is usable while the sample tables load.
        let uc = state.uc.clone();
        let scale = config.samples_scale;
        kiln_engine::session::query_runtime().spawn(async move {
            if let Err(error) = kiln_engine::samples::create_tpch(&uc, scale, "tpch").await {
                tracing::warn!(%error, "could not create the TPC-H sample tables");
            }
        });
    }
    let token_file = config.data_dir.join("admin.token");
    if let AdminToken::Minted(token) = &admin {
        write_private_file(&token_file, token).map_err(|e| format!("cannot write {}: {e}", token_file.display()))?;
    }
    let listener = tokio::net::TcpListener::bind(config.listen).await.map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let url = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
    let token_hint = match admin {
        AdminToken::Provided => "the token in KILN_ADMIN_TOKEN".to_string(),
        _ => format!("the token in {}", token_file.display()),
    };
    println!("kiln ready at {url} (workspace {}); point the SDK at it: DATABRICKS_HOST={url} DATABRICKS_TOKEN=<{token_hint}>", state.workspace.workspace_id);
    http::serve(listener, routes::router_with_limits(state, &config.http), &config.http, shutdown_signal()).await;
    Ok(())
}

/// `kiln samples`: TPC-H at `scale` into `samples.tpch_sf<scale>` of an existing workspace.
pub async fn samples(args: config::SamplesArgs) -> Result<(), String> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new(log_filter("info"))).with_writer(std::io::stderr).init();
    let data_dir = args.data_dir.unwrap_or_else(|| std::path::PathBuf::from("kiln-data"));
    let db_path = data_dir.join("kiln.db");
    if !db_path.exists() {
        return Err(format!("{} has no workspace: start `kiln serve --data-dir {}` once first", data_dir.display(), data_dir.display()));
    }
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db_path.to_string_lossy()).await.map_err(|e| e.to_string())?);
    let audit = kiln_core::audit::AuditLog::start(store.clone());
    let authz = kiln_core::authz::Authz::new(Arc::new(kiln_core::authz::AclPolicy::new(store.clone())), store.clone(), audit.clone());
    let uc = kiln_core::uc::UnityCatalog::open(store, authz, data_dir.join("storage")).await.map_err(|e| e.to_string())?;
    let schema = kiln_engine::samples::schema_for_scale(args.scale, false);
    let started = std::time::Instant::now();
    kiln_engine::samples::create_tpch(&uc, args.scale, &schema).await.map_err(|e| e.message)?;
    audit.flush().await;
    println!("samples.{schema} ready in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The Delta kernel logs every snapshot at info; unless the filter names those crates, they
/// log warnings only.
fn log_filter(filter: &str) -> String {
    if filter.contains("buoyant_kernel") || filter.contains("deltalake") {
        return filter.to_string();
    }
    format!("{filter},buoyant_kernel=warn,deltalake_core=warn")
}

/// Writes a secret file readable only by its owner.
pub(crate) fn write_private_file(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")
}

/// Resolves on Ctrl-C or SIGTERM, so service managers and test harnesses stop us cleanly.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}

//! A cluster's driver: one `python3 -m kiln_runtime.driver` process, talking newline-
//! delimited JSON over a Unix socket in a private directory. Kiln sends `execute`, `cancel`,
//! `destroy_context` and `shutdown`; the driver answers `hello` (with the nonce it was
//! started with, so nothing else can pose as it), `started` and `finished`. The process's
//! stdout and stderr are the cluster's driver log.
//!
//! Commands carry a short-lived token of the caller, so code on the cluster calls back into
//! Kiln (`spark.sql`, `dbutils`) with exactly the caller's rights. Kiln's own environment
//! (`KILN_*`, `DATABRICKS_*`) is not passed on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixListener;
use tokio::sync::{Notify, mpsc, oneshot, watch};

/// How long a new driver may take to connect and say hello.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a driver asked to shut down may take before it is killed.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Finished commands kept per driver for status polls; the oldest go first.
const RETAINED_FINISHED: usize = 1000;

/// Statuses of Command Execution 1.2, Title-case on the wire.
pub const QUEUED: &str = "Queued";
pub const RUNNING: &str = "Running";
pub const CANCELLING: &str = "Cancelling";
pub const FINISHED: &str = "Finished";
pub const CANCELLED: &str = "Cancelled";
pub const ERROR: &str = "Error";

/// How drivers are started: the interpreter, where the runtime package is, where sockets
/// and logs go, and the URL code on the cluster reaches Kiln at.
#[derive(Debug, Clone)]
pub struct Launcher {
    pub python: String,
    pub runtime_dir: PathBuf,
    pub clusters_dir: PathBuf,
    pub host_url: String,
}

/// One command as the driver reports it.
#[derive(Debug, Clone)]
pub struct CommandState {
    pub context_id: String,
    pub status: &'static str,
    /// The 1.2 `results` object, once finished.
    pub results: Option<Value>,
    /// The value given to `dbutils.notebook.exit`.
    pub exit_value: Option<String>,
    finished_order: Option<u64>,
}

impl CommandState {
    pub fn is_done(&self) -> bool {
        matches!(self.status, FINISHED | CANCELLED | ERROR)
    }
}

#[derive(Debug, Default)]
struct Commands {
    by_id: HashMap<String, CommandState>,
    finished_count: u64,
}

#[derive(Debug)]
pub struct Driver {
    outgoing: mpsc::UnboundedSender<String>,
    commands: Arc<Mutex<Commands>>,
    changed: Arc<Notify>,
    kill: Mutex<Option<oneshot::Sender<()>>>,
    exited: watch::Receiver<bool>,
    pub log_path: PathBuf,
}

fn lock(commands: &Mutex<Commands>) -> std::sync::MutexGuard<'_, Commands> {
    commands.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Launcher {
    /// Starts a driver for `cluster_id` and waits for its hello. The error is a message for
    /// the cluster's termination reason, with the end of the driver log.
    pub async fn launch(&self, cluster_id: &str, env: &[(String, String)]) -> Result<Arc<Driver>, String> {
        let cluster_dir = self.clusters_dir.join(cluster_id);
        let work_dir = cluster_dir.join("work");
        std::fs::create_dir_all(&work_dir).map_err(|e| format!("cannot create {}: {e}", work_dir.display()))?;
        let log_path = cluster_dir.join("driver.log");
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path).map_err(|e| format!("cannot open the driver log: {e}"))?;
        let log_err = log.try_clone().map_err(|e| format!("cannot open the driver log: {e}"))?;
        let socket_dir = private_socket_dir(&self.clusters_dir)?;
        let socket_path = socket_dir.join("driver.sock");
        let listener = UnixListener::bind(&socket_path).map_err(|e| format!("cannot listen on {}: {e}", socket_path.display()))?;
        let nonce = crate::ids::random_hex(16);

        let mut command = tokio::process::Command::new(&self.python);
        command.args(["-u", "-m", "kiln_runtime.driver"]).current_dir(&work_dir).stdin(Stdio::null()).stdout(Stdio::from(log)).stderr(Stdio::from(log_err)).kill_on_drop(true);
        for (name, _) in std::env::vars_os().filter_map(|(name, value)| Some((name.into_string().ok()?, value))) {
            if name.starts_with("KILN_") || name.starts_with("DATABRICKS_") || name == "PYTHONPATH" {
                command.env_remove(&name);
            }
        }
        command.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        command
            .env("PYTHONPATH", &self.runtime_dir)
            .env("KILN_DRIVER_SOCKET", &socket_path)
            .env("KILN_DRIVER_NONCE", &nonce)
            .env("KILN_HOST", &self.host_url)
            .env("KILN_CLUSTER_ID", cluster_id);
        let mut child = command.spawn().map_err(|e| format!("cannot start {} for the driver: {e}", self.python))?;

        let accepted = tokio::select! {
            accepted = tokio::time::timeout(START_TIMEOUT, listener.accept()) => accepted,
            status = child.wait() => {
                let _ = std::fs::remove_dir_all(&socket_dir);
                let status = status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                return Err(format!("the driver exited before it started ({status}): {}", log_tail(&log_path)));
            }
        };
        // The socket has served its purpose; no one else may connect.
        let _ = std::fs::remove_dir_all(&socket_dir);
        let (stream, _) = match accepted {
            Ok(Ok(connection)) => connection,
            Ok(Err(error)) => return Err(format!("the driver could not connect: {error}")),
            Err(_) => return Err(format!("the driver did not connect within {} s: {}", START_TIMEOUT.as_secs(), log_tail(&log_path))),
        };
        let (read_half, mut write_half) = stream.into_split();
        let mut lines = BufReader::new(read_half).lines();
        let hello = tokio::time::timeout(START_TIMEOUT, lines.next_line()).await;
        let hello: Value = match hello {
            Ok(Ok(Some(line))) => serde_json::from_str(&line).map_err(|e| format!("the driver's hello is not JSON: {e}"))?,
            _ => return Err(format!("the driver did not say hello: {}", log_tail(&log_path))),
        };
        if hello.get("op").and_then(Value::as_str) != Some("hello") || hello.get("nonce").and_then(Value::as_str) != Some(nonce.as_str()) {
            return Err("the process on the driver socket is not the driver Kiln started".to_string());
        }

        let (outgoing, mut to_send) = mpsc::unbounded_channel::<String>();
        tokio::spawn(async move {
            while let Some(line) = to_send.recv().await {
                if write_half.write_all(line.as_bytes()).await.is_err() || write_half.write_all(b"\n").await.is_err() {
                    break;
                }
            }
        });
        let commands = Arc::new(Mutex::new(Commands::default()));
        let changed = Arc::new(Notify::new());
        let (exited_tx, exited) = watch::channel(false);
        let (kill, kill_rx) = oneshot::channel::<()>();
        {
            let commands = commands.clone();
            let changed = changed.clone();
            tokio::spawn(async move {
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Ok(message) = serde_json::from_str::<Value>(&line) {
                        apply(&commands, &message);
                        changed.notify_waiters();
                    }
                }
                // The driver is gone: nothing still queued or running will finish.
                let mut table = lock(&commands);
                for state in table.by_id.values_mut().filter(|s| !s.is_done()) {
                    state.status = ERROR;
                    state.results = Some(json!({"resultType": "error", "summary": "The driver exited", "cause": "The cluster's driver process exited while the command was queued or running."}));
                }
                drop(table);
                changed.notify_waiters();
            });
        }
        tokio::spawn(async move {
            tokio::select! {
                _ = child.wait() => {}
                _ = kill_rx => {
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                }
            }
            let _ = exited_tx.send(true);
        });
        Ok(Arc::new(Driver { outgoing, commands, changed, kill: Mutex::new(Some(kill)), exited, log_path }))
    }
}

/// A fresh directory only this user can enter, for the driver's socket. Unix socket paths are
/// short (about 100 bytes), so a long data directory falls back to the system's temp dir.
fn private_socket_dir(clusters_dir: &Path) -> Result<PathBuf, String> {
    let name = format!("run-{}", crate::ids::random_hex(6));
    let preferred = clusters_dir.join(&name);
    let dir = if preferred.as_os_str().len() + "/driver.sock".len() < 100 { preferred } else { std::env::temp_dir().join(format!("kiln-{name}")) };
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.recursive(true).create(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(8)..].join("\n");
    if tail.is_empty() { "the driver log is empty".to_string() } else { format!("driver log: {tail}") }
}

/// Applies a `started` or `finished` message to the command table.
fn apply(commands: &Mutex<Commands>, message: &Value) {
    let Some(command_id) = message.get("command_id").and_then(Value::as_str) else { return };
    let mut table = lock(commands);
    let order = table.finished_count;
    let Some(state) = table.by_id.get_mut(command_id) else { return };
    match message.get("op").and_then(Value::as_str) {
        Some("started") if state.status == QUEUED => state.status = RUNNING,
        Some("finished") if !state.is_done() => {
            state.status = match message.get("status").and_then(Value::as_str) {
                Some("Finished") => FINISHED,
                Some("Cancelled") => CANCELLED,
                _ => ERROR,
            };
            state.results = message.get("results").filter(|r| !r.is_null()).cloned();
            state.exit_value = message.get("exit_value").and_then(Value::as_str).map(str::to_string);
            state.finished_order = Some(order);
            table.finished_count += 1;
            forget_oldest(&mut table);
        }
        _ => {}
    }
}

fn forget_oldest(table: &mut Commands) {
    let finished = table.by_id.values().filter(|s| s.finished_order.is_some()).count();
    if finished <= RETAINED_FINISHED {
        return;
    }
    let cutoff = table.finished_count.saturating_sub(RETAINED_FINISHED as u64);
    table.by_id.retain(|_, s| s.finished_order.is_none_or(|order| order >= cutoff));
}

impl Driver {
    fn send(&self, message: Value) -> Result<(), String> {
        self.outgoing.send(message.to_string()).map_err(|_| "the cluster's driver is not running".to_string())
    }

    pub fn is_alive(&self) -> bool {
        !*self.exited.borrow()
    }

    /// Resolves when the driver process has exited.
    pub async fn wait_exit(&self) {
        let mut exited = self.exited.clone();
        let _ = exited.wait_for(|gone| *gone).await;
    }

    /// Queues a command; `token` is the caller's delegated credential.
    pub fn execute(&self, command_id: &str, context_id: &str, language: &str, code: &str, token: &str, widgets: &serde_json::Map<String, Value>) -> Result<(), String> {
        lock(&self.commands).by_id.insert(
            command_id.to_string(),
            CommandState { context_id: context_id.to_string(), status: QUEUED, results: None, exit_value: None, finished_order: None },
        );
        let sent = self.send(json!({
            "op": "execute", "command_id": command_id, "context_id": context_id, "language": language,
            "code": code, "token": token, "widgets": widgets,
        }));
        if sent.is_err() {
            lock(&self.commands).by_id.remove(command_id);
        }
        sent
    }

    /// True while any command is queued or running.
    pub fn is_busy(&self) -> bool {
        lock(&self.commands).by_id.values().any(|state| !state.is_done())
    }

    pub fn command(&self, command_id: &str) -> Option<CommandState> {
        lock(&self.commands).by_id.get(command_id).cloned()
    }

    /// Waits until the command is finished, cancelled or failed.
    pub async fn wait(&self, command_id: &str) -> Option<CommandState> {
        loop {
            let notified = self.changed.notified();
            match self.command(command_id) {
                Some(state) if !state.is_done() => notified.await,
                other => return other,
            }
        }
    }

    /// Asks the driver to cancel a queued or running command; it answers Cancelled.
    pub fn cancel(&self, command_id: &str) -> Result<(), String> {
        {
            let mut table = lock(&self.commands);
            let Some(state) = table.by_id.get_mut(command_id) else { return Ok(()) };
            if state.is_done() {
                return Ok(());
            }
            state.status = CANCELLING;
        }
        self.send(json!({"op": "cancel", "command_id": command_id}))
    }

    pub fn destroy_context(&self, context_id: &str) {
        lock(&self.commands).by_id.retain(|_, state| state.context_id != context_id || !state.is_done());
        let _ = self.send(json!({"op": "destroy_context", "context_id": context_id}));
    }

    /// Asks the driver to exit, then kills it if it has not within the grace period.
    pub async fn shutdown(&self) {
        let _ = self.send(json!({"op": "shutdown"}));
        if tokio::time::timeout(SHUTDOWN_GRACE, self.wait_exit()).await.is_err() {
            self.kill().await;
        }
    }

    pub async fn kill(&self) {
        let kill = self.kill.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(kill) = kill {
            let _ = kill.send(());
        }
        self.wait_exit().await;
    }
}

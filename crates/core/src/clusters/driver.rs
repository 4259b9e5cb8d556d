//! A cluster's driver: one `python3 -m kiln_runtime.driver` process, talking newline-
//! delimited JSON over a Unix socket in a private directory. Kiln sends `execute`, `cancel`,
//! `destroy_context` and `shutdown`; the driver answers `hello` (with the nonce it was
//! started with, so nothing else can pose as it), `started` and `finished`. The process's
//! stdout and stderr are the cluster's driver log.
//!
//! Commands carry a short-lived token of the caller, so code on the cluster calls back into
//! Kiln (`spark.sql`, `dbutils`) with exactly the caller's rights. The driver runs in the
//! [`Sandbox`]: it cannot read the data directory and inherits nothing of Kiln's environment.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixListener;
use tokio::sync::{Notify, mpsc, oneshot, watch};

use crate::sandbox::Sandbox;

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

/// How drivers are started: the interpreter, the sandbox, where logs go, and the URL code
/// on the cluster reaches Kiln at.
#[derive(Debug, Clone)]
pub struct Launcher {
    pub python: String,
    pub sandbox: Sandbox,
    /// `<data>/clusters`: each cluster's `driver.log`.
    pub clusters_dir: PathBuf,
    pub host_url: String,
}

/// What a command runs: `code` in `language`, or a notebook's `cells` one after another;
/// `widgets` are parameter values, `argv` the script arguments, `task` the job task it is.
#[derive(Debug, Clone, Default)]
pub struct CommandSpec {
    pub language: String,
    pub code: String,
    /// `(language, code)` of each cell.
    pub cells: Vec<(String, String)>,
    pub widgets: serde_json::Map<String, Value>,
    pub argv: Option<Vec<String>>,
    pub task: Option<Value>,
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
        std::fs::create_dir_all(&cluster_dir).map_err(|e| format!("cannot create {}: {e}", cluster_dir.display()))?;
        let log_path = cluster_dir.join("driver.log");
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path).map_err(|e| format!("cannot open the driver log: {e}"))?;
        let log_err = log.try_clone().map_err(|e| format!("cannot open the driver log: {e}"))?;
        // Outside the data directory, which the sandbox hides: the runtime, the socket and
        // the working directory.
        let scratch = Scratch::create()?;
        let work_dir = scratch.path.join("work");
        std::fs::create_dir_all(&work_dir).map_err(|e| format!("cannot create {}: {e}", work_dir.display()))?;
        let runtime_dir = scratch.path.join("runtime");
        super::runtime::write_package(&runtime_dir).map_err(|e| e.message)?;
        let socket_path = scratch.path.join("driver.sock");
        let listener = UnixListener::bind(&socket_path).map_err(|e| format!("cannot listen on {}: {e}", socket_path.display()))?;
        let nonce = crate::ids::random_hex(16);

        let mut command = self.sandbox.command(&self.python, &["-u", "-m", "kiln_runtime.driver"]);
        command.current_dir(&work_dir).stdin(Stdio::null()).stdout(Stdio::from(log)).stderr(Stdio::from(log_err)).kill_on_drop(true);
        command.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        command
            .env("PYTHONPATH", &runtime_dir)
            .env("KILN_DRIVER_SOCKET", &socket_path)
            .env("KILN_DRIVER_NONCE", &nonce)
            .env("KILN_HOST", &self.host_url)
            .env("KILN_CLUSTER_ID", cluster_id);
        let mut child = command.spawn().map_err(|e| format!("cannot start {} for the driver: {e}", self.python))?;

        let accepted = tokio::select! {
            accepted = tokio::time::timeout(START_TIMEOUT, listener.accept()) => accepted,
            status = child.wait() => {
                let status = status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                return Err(format!("the driver exited before it started ({status}): {}", log_tail(&log_path)));
            }
        };
        // The socket has served its purpose; no one else may connect.
        let _ = std::fs::remove_file(&socket_path);
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
            // The scratch directory goes when the driver does.
            let _scratch = scratch;
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

/// A fresh directory under the system's temp dir that only this user can enter, removed
/// when dropped.
#[derive(Debug)]
struct Scratch {
    path: PathBuf,
}

impl Scratch {
    fn create() -> Result<Scratch, String> {
        let path = std::env::temp_dir().join(format!("kiln-driver-{}", crate::ids::random_hex(8)));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        Ok(Scratch { path })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
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
    pub fn execute(&self, command_id: &str, context_id: &str, spec: &CommandSpec, token: &str) -> Result<(), String> {
        lock(&self.commands).by_id.insert(
            command_id.to_string(),
            CommandState { context_id: context_id.to_string(), status: QUEUED, results: None, exit_value: None, finished_order: None },
        );
        let mut message = json!({
            "op": "execute", "command_id": command_id, "context_id": context_id, "language": spec.language,
            "token": token, "widgets": spec.widgets,
        });
        if spec.cells.is_empty() {
            message["code"] = json!(spec.code);
        } else {
            message["cells"] = spec.cells.iter().map(|(language, code)| json!({"language": language, "code": code})).collect();
        }
        if let Some(argv) = &spec.argv {
            message["argv"] = json!(argv);
        }
        if let Some(task) = &spec.task {
            message["task"] = task.clone();
        }
        let sent = self.send(message);
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

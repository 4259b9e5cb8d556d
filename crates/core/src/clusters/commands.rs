//! Command Execution 1.2: execution contexts on a running cluster and the commands run in
//! them. A context is a namespace in the cluster's driver; it belongs to the principal that
//! created it. Each command runs with a short-lived token of its caller.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::watch;

use super::driver::{self, CommandSpec, CommandState};
use super::{Clusters, RUNNING, spec};
use crate::error::{Error, Result};
use crate::principal::Caller;

/// How long the token a command runs with stays valid.
const COMMAND_TOKEN_SECONDS: i64 = 12 * 60 * 60;

#[derive(Debug, Clone)]
pub(super) struct Context {
    owner_id: i64,
}

/// A context's status: `Running` while its cluster runs.
#[derive(Debug, Clone)]
pub struct ContextStatus {
    pub id: String,
    pub status: &'static str,
}

/// A command's status and, once done, its results.
#[derive(Debug, Clone)]
pub struct CommandStatus {
    pub id: String,
    pub status: &'static str,
    pub results: Option<Value>,
    pub exit_value: Option<String>,
}

fn check_language(language: &str) -> Result<&'static str> {
    match language.to_ascii_lowercase().as_str() {
        "python" => Ok("python"),
        "sql" => Ok("sql"),
        "scala" | "r" => Err(Error::invalid(format!("language {language} is not available on Kiln clusters, which run Python and SQL"))),
        _ => Err(Error::invalid(format!("language '{language}' is not one of python, scala, sql, r"))),
    }
}

fn required<'a>(field: &str, value: &'a str) -> Result<&'a str> {
    if value.is_empty() { Err(Error::invalid(format!("requirement failed: missing {field}"))) } else { Ok(value) }
}

impl Clusters {
    /// The running cluster's driver, for a caller who may attach to it.
    async fn attach(&self, caller: &Caller, action: &str, cluster_id: &str) -> Result<Arc<driver::Driver>> {
        let cluster_id = required("clusterId", cluster_id)?;
        let record = self.authorized(caller, action, cluster_id, "CAN_ATTACH_TO").await?;
        if let Some(assigned) = spec::single_user(&record.spec)
            && !assigned.eq_ignore_ascii_case(caller.name())
        {
            return Err(Error::denied(format!("Single-user cluster {cluster_id} is assigned to {assigned}; {} cannot run commands on it", caller.name())));
        }
        if record.state != RUNNING {
            return Err(Error::invalid(format!("Cluster {cluster_id} is not running (state {})", record.state)));
        }
        let slots = self.slots.lock().await;
        slots.get(cluster_id).and_then(|slot| slot.driver.clone()).filter(|d| d.is_alive()).ok_or_else(|| Error::invalid(format!("Cluster {cluster_id} is not running")))
    }

    /// Checks the context exists on the cluster and is the caller's (admins reach all).
    async fn own_context(&self, caller: &Caller, cluster_id: &str, context_id: &str) -> Result<()> {
        let context_id = required("contextId", context_id)?;
        let slots = self.slots.lock().await;
        let context = slots.get(cluster_id).and_then(|slot| slot.contexts.get(context_id));
        match context {
            Some(context) if context.owner_id == caller.id() || caller.is_admin() => Ok(()),
            _ => Err(Error::invalid(format!("Context {context_id} does not exist on cluster {cluster_id}"))),
        }
    }

    pub async fn create_context(&self, caller: &Caller, cluster_id: &str, language: &str) -> Result<String> {
        check_language(language)?;
        self.attach(caller, "commands.createContext", cluster_id).await?;
        let context_id = crate::ids::numeric_id().to_string();
        let mut slots = self.slots.lock().await;
        let slot = slots.get_mut(cluster_id).ok_or_else(|| Error::invalid(format!("Cluster {cluster_id} is not running")))?;
        slot.contexts.insert(context_id.clone(), Context { owner_id: caller.id() });
        Ok(context_id)
    }

    pub async fn context_status(&self, caller: &Caller, cluster_id: &str, context_id: &str) -> Result<ContextStatus> {
        self.attach(caller, "commands.contextStatus", cluster_id).await?;
        self.own_context(caller, cluster_id, context_id).await?;
        Ok(ContextStatus { id: context_id.to_string(), status: "Running" })
    }

    pub async fn destroy_context(&self, caller: &Caller, cluster_id: &str, context_id: &str) -> Result<()> {
        let driver = self.attach(caller, "commands.destroyContext", cluster_id).await?;
        self.own_context(caller, cluster_id, context_id).await?;
        if let Some(slot) = self.slots.lock().await.get_mut(cluster_id) {
            slot.contexts.remove(context_id);
        }
        driver.destroy_context(context_id);
        Ok(())
    }

    /// Queues `code` in the context.
    pub async fn execute(&self, caller: &Caller, cluster_id: &str, context_id: &str, language: &str, code: &str) -> Result<String> {
        let language = check_language(if language.is_empty() { "python" } else { language })?;
        let spec = CommandSpec { language: language.to_string(), code: code.to_string(), ..CommandSpec::default() };
        self.execute_spec(caller, cluster_id, context_id, &spec).await.map(|(_, command_id)| command_id)
    }

    async fn execute_spec(&self, caller: &Caller, cluster_id: &str, context_id: &str, spec: &CommandSpec) -> Result<(Arc<driver::Driver>, String)> {
        let driver = self.attach(caller, "commands.execute", cluster_id).await?;
        self.own_context(caller, cluster_id, context_id).await?;
        let command_id = crate::ids::random_hex(16);
        let token = self.oauth.delegated_token(caller.id(), caller.name(), COMMAND_TOKEN_SECONDS)?;
        driver.execute(&command_id, context_id, spec, &token).map_err(Error::invalid)?;
        self.touch(cluster_id).await?;
        // Activity lasts until the command is done, so a long command is not "idle".
        let clusters = self.clone();
        let (cluster, command, waiting) = (cluster_id.to_string(), command_id.clone(), driver.clone());
        tokio::spawn(async move {
            waiting.wait(&command).await;
            let _ = clusters.touch(&cluster).await;
        });
        Ok((driver, command_id))
    }

    async fn command_state(&self, caller: &Caller, action: &str, cluster_id: &str, context_id: &str, command_id: &str) -> Result<(Arc<driver::Driver>, CommandState)> {
        let command_id = required("commandId", command_id)?;
        let driver = self.attach(caller, action, cluster_id).await?;
        self.own_context(caller, cluster_id, context_id).await?;
        let state = driver.command(command_id).filter(|s| s.context_id == context_id).ok_or_else(|| Error::invalid(format!("Command {command_id} does not exist in context {context_id}")))?;
        Ok((driver, state))
    }

    pub async fn command_status(&self, caller: &Caller, cluster_id: &str, context_id: &str, command_id: &str) -> Result<CommandStatus> {
        let (_, state) = self.command_state(caller, "commands.status", cluster_id, context_id, command_id).await?;
        Ok(CommandStatus { id: command_id.to_string(), status: state.status, results: state.results, exit_value: state.exit_value })
    }

    pub async fn cancel(&self, caller: &Caller, cluster_id: &str, context_id: &str, command_id: &str) -> Result<()> {
        let (driver, _) = self.command_state(caller, "commands.cancel", cluster_id, context_id, command_id).await?;
        driver.cancel(command_id).map_err(Error::invalid)
    }

    /// Runs a command in a fresh context of its own and waits for it (job tasks). `cancel`
    /// turning true, or `timeout` passing, cancels the command; the context is destroyed
    /// afterwards.
    pub async fn run_to_completion(&self, caller: &Caller, cluster_id: &str, spec: &CommandSpec, mut cancel: watch::Receiver<bool>, timeout: Option<Duration>) -> Result<CommandOutcome> {
        let context_id = self.create_context(caller, cluster_id, &spec.language).await?;
        let started = self.execute_spec(caller, cluster_id, &context_id, spec).await;
        let (driver, command_id) = match started {
            Ok(started) => started,
            Err(error) => {
                let _ = self.destroy_context(caller, cluster_id, &context_id).await;
                return Err(error);
            }
        };
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        let mut timed_out = false;
        let state = loop {
            let sleep_until_deadline = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                state = driver.wait(&command_id) => break state,
                changed = cancel.changed() => {
                    if changed.is_err() || *cancel.borrow() {
                        let _ = driver.cancel(&command_id);
                        break driver.wait(&command_id).await;
                    }
                }
                _ = sleep_until_deadline, if !timed_out => {
                    timed_out = true;
                    let _ = driver.cancel(&command_id);
                    break driver.wait(&command_id).await;
                }
            }
        };
        let _ = self.destroy_context(caller, cluster_id, &context_id).await;
        let state = state.ok_or_else(|| Error::internal(format!("command {command_id} was lost")))?;
        Ok(CommandOutcome { status: state.status, results: state.results, exit_value: state.exit_value, timed_out })
    }
}

/// How a job command ended.
#[derive(Debug, Clone)]
pub struct CommandOutcome {
    pub status: &'static str,
    pub results: Option<Value>,
    pub exit_value: Option<String>,
    pub timed_out: bool,
}

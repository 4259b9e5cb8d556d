//! `kiln jobs`: trigger a job run (`run-now`) or submit a one-time run (`submit`) on Databricks
//! or Kiln, and with `--wait` poll it to the end and print each task's output.

#![forbid(unsafe_code)]

pub mod auth;
pub mod backoff;
pub mod client;
pub mod error;
pub mod jobs;

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, FromArgMatches, Subcommand};
use serde_json::Value;

use crate::auth::{AuthFlags, Secret};
use crate::backoff::{Jitter, RandomJitter};
use crate::client::{ApiClient, Clock, JitterFactory, RetryPolicy, SystemClock};
use crate::error::{CliError, Exit};
use crate::jobs::{Io, RunNowRequest, WaitOptions};

const AFTER_HELP: &str = "\
Host and credentials are taken, attribute by attribute, from --host/--token, then the
environment (DATABRICKS_HOST, DATABRICKS_TOKEN, DATABRICKS_CLIENT_ID + DATABRICKS_CLIENT_SECRET),
then a profile of DATABRICKS_CONFIG_FILE (default ~/.databrickscfg): --profile,
DATABRICKS_CONFIG_PROFILE, or [DEFAULT]. Client id and secret use OAuth M2M.

Exit codes: 0 triggered (or, with --wait, the run succeeded); 1 the run did not succeed or a
request failed; 2 configuration or usage error; 3 --timeout passed (the run keeps running).";

/// Trigger job runs and wait for them (Databricks REST API 2.1).
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct JobsArgs {
    #[command(subcommand)]
    pub command: JobsCommand,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Run an existing job now (POST /api/2.1/jobs/run-now).
    #[command(after_help = AFTER_HELP)]
    RunNow(RunNowArgs),
    /// Submit a one-time run from a runs/submit JSON body (POST /api/2.1/jobs/runs/submit).
    #[command(after_help = AFTER_HELP)]
    Submit(SubmitArgs),
}

#[derive(Debug, Args)]
pub struct RunNowArgs {
    /// The job to run.
    #[arg(long, value_name = "N")]
    pub job_id: i64,
    /// A job parameter; repeat for more.
    #[arg(long = "job-parameters", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub job_parameters: Vec<(String, String)>,
    /// A notebook parameter; repeat for more.
    #[arg(long = "notebook-params", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub notebook_params: Vec<(String, String)>,
    /// A command-line argument for a Python task; repeat for more, in order.
    #[arg(long = "python-params", value_name = "ARG", allow_hyphen_values = true)]
    pub python_params: Vec<String>,
    /// Makes retries of the same request start only one run.
    #[arg(long, value_name = "TOKEN")]
    pub idempotency_token: Option<String>,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The runs/submit body: a JSON file, or - for stdin.
    #[arg(long, value_name = "FILE|-")]
    pub json: String,
}

/// Flags every `jobs` subcommand takes.
#[derive(Debug, Args)]
#[command(next_help_heading = "Workspace and waiting")]
pub struct CommonArgs {
    /// Workspace URL; `https://` is added when there is no scheme.
    #[arg(long, global = true, value_name = "URL")]
    pub host: Option<String>,
    /// Personal access token (prefer DATABRICKS_TOKEN or a profile: flags show in `ps`).
    #[arg(long, global = true, value_name = "TOKEN")]
    pub token: Option<Secret>,
    /// Profile of the config file to use instead of DEFAULT.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Wait for the run to end, print its tasks' output, and exit by its result.
    #[arg(long, global = true)]
    pub wait: bool,
    /// First delay between polls.
    #[arg(long, global = true, value_name = "DURATION", default_value = "200ms", value_parser = humantime::parse_duration)]
    pub poll_start: Duration,
    /// Longest delay between polls (delays grow ×1.5 with ±20% jitter up to this).
    #[arg(long, global = true, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    pub poll_max: Duration,
    /// With --wait, give up after this long (exit 3) and leave the run running.
    #[arg(long, global = true, value_name = "DURATION", default_value = "1h", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Print no progress on stderr.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

fn parse_key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_string(), value.to_string())),
        _ => Err(format!("expected KEY=VALUE, got '{text}'")),
    }
}

/// Parses `jobs` arguments (without the leading `kiln jobs`), for tests and embedding.
pub fn parse_args<I, T>(args: I) -> Result<JobsArgs, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let command = JobsArgs::augment_args(clap::Command::new("kiln jobs").no_binary_name(true));
    let matches = command.try_get_matches_from(args)?;
    JobsArgs::from_arg_matches(&matches)
}

/// What the command reads from its surroundings, passed in so tests need not touch the
/// process environment.
pub struct Environment {
    /// Environment variables (`DATABRICKS_*`, `HOME`).
    pub vars: HashMap<String, String>,
    /// The config file when `DATABRICKS_CONFIG_FILE` is not set (normally `~/.databrickscfg`).
    pub default_config_file: Option<PathBuf>,
    /// Monotonic time for OAuth token expiry.
    pub clock: Arc<dyn Clock>,
    /// The jitter of each backoff.
    pub jitter: JitterFactory,
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.vars.keys().collect();
        names.sort();
        f.debug_struct("Environment").field("var_names", &names).field("default_config_file", &self.default_config_file).finish_non_exhaustive()
    }
}

fn random_jitter() -> Box<dyn Jitter> {
    Box::new(RandomJitter)
}

impl Environment {
    /// The process environment, the real clock and random jitter.
    pub fn from_process() -> Environment {
        let mut vars = HashMap::new();
        for (name, value) in std::env::vars_os() {
            if let (Ok(name), Ok(value)) = (name.into_string(), value.into_string()) {
                vars.insert(name, value);
            }
        }
        let default_config_file = auth::default_config_file(&vars);
        Environment { vars, default_config_file, clock: Arc::new(SystemClock), jitter: random_jitter }
    }
}

/// `kiln jobs …` in the real process: stdout, stderr and the process environment.
pub async fn run(args: JobsArgs) -> std::process::ExitCode {
    let environment = Environment::from_process();
    let mut stdout = std::io::stdout();
    let mut stderr = std::io::stderr();
    let exit = run_with(args, &environment, &mut stdout, &mut stderr).await;
    std::process::ExitCode::from(exit.code())
}

/// `kiln jobs …` with its surroundings passed in; errors are reported on `err`.
pub async fn run_with(args: JobsArgs, environment: &Environment, out: &mut (dyn Write + Send), err: &mut (dyn Write + Send)) -> Exit {
    let mut io = Io { out, err };
    match execute(args, environment, &mut io).await {
        Ok(exit) => exit,
        Err(error) => {
            let _ = writeln!(io.err, "kiln: {error}");
            error.exit()
        }
    }
}

async fn execute(args: JobsArgs, environment: &Environment, io: &mut Io<'_>) -> Result<Exit, CliError> {
    let common = args.common;
    // validations
    if common.poll_start.is_zero() {
        return Err(CliError::Config("--poll-start must be longer than zero".to_string()));
    }
    if common.poll_start > common.poll_max {
        return Err(CliError::Config(format!(
            "--poll-start ({}) must not be longer than --poll-max ({})",
            humantime::format_duration(common.poll_start),
            humantime::format_duration(common.poll_max)
        )));
    }
    if common.timeout.is_zero() {
        return Err(CliError::Config("--timeout must be longer than zero".to_string()));
    }
    // Read the body before resolving credentials, so a bad file fails fast.
    let trigger = match args.command {
        JobsCommand::RunNow(run_now) => Trigger::RunNow(RunNowRequest {
            job_id: run_now.job_id,
            job_parameters: run_now.job_parameters,
            notebook_params: run_now.notebook_params,
            python_params: run_now.python_params,
            idempotency_token: run_now.idempotency_token,
        }),
        JobsCommand::Submit(submit) => Trigger::Submit(read_submit_body(&submit.json).await?),
    };
    let flags = AuthFlags { host: common.host, token: common.token, profile: common.profile };
    let config = auth::resolve(&flags, &environment.vars, environment.default_config_file.as_deref())?;
    let policy = RetryPolicy { start: common.poll_start, max: common.poll_max, jitter: environment.jitter };
    let client = ApiClient::new(config, environment.clock.clone(), policy)?;

    // business logic
    let run_id = match &trigger {
        Trigger::RunNow(request) => jobs::run_now(&client, request).await?,
        Trigger::Submit(body) => jobs::submit(&client, body).await?,
    };
    if !common.wait {
        let _ = writeln!(io.out, "{}", serde_json::json!({ "run_id": run_id }));
        return Ok(Exit::Success);
    }
    let options = WaitOptions { poll: policy, timeout: common.timeout, quiet: common.quiet };
    jobs::wait(&client, run_id, options, io).await
}

enum Trigger {
    RunNow(RunNowRequest),
    Submit(Value),
}

/// Reads a runs/submit body from a file or, for `-`, stdin; it must be a JSON object.
async fn read_submit_body(source: &str) -> Result<Value, CliError> {
    let (text, name) = if source == "-" {
        let text = tokio::task::spawn_blocking(|| std::io::read_to_string(std::io::stdin()))
            .await
            .map_err(|e| CliError::Config(format!("cannot read stdin: {e}")))?
            .map_err(|e| CliError::Config(format!("cannot read stdin: {e}")))?;
        (text, "stdin".to_string())
    } else {
        let text = tokio::fs::read_to_string(source).await.map_err(|e| CliError::Config(format!("cannot read {source}: {e}")))?;
        (text, source.to_string())
    };
    let body: Value = serde_json::from_str(&text).map_err(|e| CliError::Config(format!("{name} is not valid JSON: {e}")))?;
    if !body.is_object() {
        return Err(CliError::Config(format!("{name} must hold a JSON object (a runs/submit body)")));
    }
    Ok(body)
}

//! Configuration, layered: defaults < `--config` TOML file < `KILN_*` environment < flags.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde::Deserialize;

#[derive(Debug, Parser)]
#[command(name = "kiln", version, about = "A self-hosted workspace that speaks the Databricks REST API")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the workspace server.
    Serve(ServeArgs),
    /// Generate TPC-H sample tables at a scale factor into `samples.tpch_sf<scale>` (for
    /// benchmarks; the server may be running).
    Samples(SamplesArgs),
    /// Trigger a job run (`run-now`) or a one-time run (`submit`) on Databricks or Kiln, and
    /// with `--wait` follow it to the end.
    Jobs(kiln_cli::JobsArgs),
}

#[derive(Debug, Args)]
pub struct SamplesArgs {
    /// Data directory of the workspace. Default: ./kiln-data
    #[arg(long, env = "KILN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// TPC-H scale factor, e.g. 1 (about 1 GB of raw data).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Data directory (metadata database, keys, storage). Default: ./kiln-data
    #[arg(long, env = "KILN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on. Default: 127.0.0.1:8080
    #[arg(long, env = "KILN_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// TOML configuration file; flags and KILN_* variables override it.
    #[arg(long, env = "KILN_CONFIG")]
    pub config: Option<PathBuf>,
    /// Admin personal access token to register instead of minting one.
    #[arg(long = "admin-token", env = "KILN_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Rate limiting: `on` (default) or `off`.
    #[arg(long = "rate-limits", env = "KILN_RATE_LIMITS")]
    pub rate_limits: Option<String>,
    /// Log filter, e.g. `info` or `kiln_server=debug`.
    #[arg(long, env = "KILN_LOG")]
    pub log: Option<String>,
    /// Scale factor of the TPC-H tables in `samples.tpch`, created at first start; 0 skips them.
    #[arg(long = "samples-scale", env = "KILN_SAMPLES_SCALE")]
    pub samples_scale: Option<f64>,
}

/// The file form of the configuration; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub log: Option<String>,
    pub samples_scale: Option<f64>,
    #[serde(default)]
    pub rate_limits: RateLimitConfig,
    #[serde(default)]
    pub http: HttpConfig,
}

/// `[http]`: how long and how much a client may take. Every limit answers rather than waits:
/// a slow or oversized client gets an error or a closed connection, never a held thread.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Seconds a client has to send a whole request head, counted from when the connection
    /// waits for one: it also closes keep-alive connections left idle that long.
    pub header_read_timeout_secs: u64,
    /// Longest wait, in seconds, for the next piece of a request body.
    pub body_read_timeout_secs: u64,
    /// Connections served at once; further clients wait in the listen queue.
    pub max_connections: usize,
    /// Largest request head (request line and headers), in bytes.
    pub max_header_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig { header_read_timeout_secs: 30, body_read_timeout_secs: 30, max_connections: 1024, max_header_bytes: 64 * 1024 }
    }
}

impl HttpConfig {
    fn validated(self) -> Result<HttpConfig, String> {
        let checks = [
            ("header_read_timeout_secs", (1..=3600).contains(&self.header_read_timeout_secs), "from 1 to 3600"),
            ("body_read_timeout_secs", (1..=3600).contains(&self.body_read_timeout_secs), "from 1 to 3600"),
            ("max_connections", (1..=100_000).contains(&self.max_connections), "from 1 to 100000"),
            ("max_header_bytes", (8 * 1024..=1024 * 1024).contains(&self.max_header_bytes), "from 8192 to 1048576"),
        ];
        for (key, valid, range) in checks {
            if !valid {
                return Err(format!("[http] {key} must be {range}"));
            }
        }
        Ok(self)
    }
}

/// `[rate_limits]`: `enabled`, and `[rate_limits.classes]` overrides such as `scim_read = "3/min"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    #[serde(default)]
    pub classes: std::collections::HashMap<String, String>,
}

fn enabled_by_default() -> bool {
    true
}

impl Default for RateLimitConfig {
    fn default() -> RateLimitConfig {
        RateLimitConfig { enabled: true, classes: Default::default() }
    }
}

/// TPC-H at 0.01 (lineitem ≈ 60,000 rows): small enough to create in seconds.
pub const DEFAULT_SAMPLES_SCALE: f64 = 0.01;

/// The resolved configuration `serve` runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub admin_token: Option<String>,
    pub log: String,
    pub rate_limits: RateLimitConfig,
    pub http: HttpConfig,
    pub samples_scale: f64,
}

impl Config {
    pub fn resolve(args: ServeArgs) -> Result<Config, String> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read config file {}: {e}", path.display()))?;
                toml::from_str::<FileConfig>(&text).map_err(|e| format!("invalid config file {}: {e}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let admin_token = args.admin_token.filter(|t| !t.is_empty());
        if let Some(token) = &admin_token
            && (token.len() < 20 || !token.chars().all(|c| c.is_ascii_graphic())) {
                return Err("KILN_ADMIN_TOKEN must be at least 20 printable ASCII characters".to_string());
            }
        let mut rate_limits = file.rate_limits;
        match args.rate_limits.as_deref() {
            None => {}
            Some("on") => rate_limits.enabled = true,
            Some("off") => rate_limits.enabled = false,
            Some(other) => return Err(format!("KILN_RATE_LIMITS must be on or off, got '{other}'")),
        }
        let samples_scale = args.samples_scale.or(file.samples_scale).unwrap_or(DEFAULT_SAMPLES_SCALE);
        if !(0.0..=1000.0).contains(&samples_scale) {
            return Err(format!("KILN_SAMPLES_SCALE must be between 0 and 1000, got {samples_scale}"));
        }
        Ok(Config {
            samples_scale,
            rate_limits,
            http: file.http.validated()?,
            data_dir: args.data_dir.or(file.data_dir).unwrap_or_else(|| PathBuf::from("kiln-data")),
            listen: args.listen.or(file.listen).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            admin_token,
            log: args.log.or(file.log).unwrap_or_else(|| "info".to_string()),
        })
    }
}

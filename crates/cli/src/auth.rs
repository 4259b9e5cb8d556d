//! Host and credentials in the Databricks unified-auth order: flags (`--host`, `--token`), then
//! the environment (`DATABRICKS_HOST`, `DATABRICKS_TOKEN`, `DATABRICKS_CLIENT_ID`,
//! `DATABRICKS_CLIENT_SECRET`), then a profile of the config file (`DATABRICKS_CONFIG_FILE`,
//! default `~/.databrickscfg`; profile from `--profile`, `DATABRICKS_CONFIG_PROFILE`, or
//! `DEFAULT`). Each attribute is taken from the first source that sets it, as the SDKs do.
//!
//! The resolver never reads the process environment: callers pass the variables in, so tests
//! do not touch the real environment.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A token or client secret. Its `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for an `Authorization` header or a token request; never print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(value: &str) -> Result<Secret, Self::Err> {
        Ok(Secret::new(value))
    }
}

/// What the command line says about the workspace; every field is optional.
#[derive(Debug, Clone, Default)]
pub struct AuthFlags {
    pub host: Option<String>,
    pub token: Option<Secret>,
    pub profile: Option<String>,
}

/// How requests authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A personal access token (or any bearer token), sent as is.
    Token(Secret),
    /// OAuth machine-to-machine: the client-credentials grant at `{host}/oidc/v1/token`.
    ClientCredentials { client_id: String, client_secret: Secret },
}

/// The workspace to talk to and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedConfig {
    /// `https://…` (or `http://…`), without a trailing slash.
    pub host: String,
    pub credentials: Credentials,
}

/// A configuration error, as a sentence naming the source at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Where an attribute came from; lower ranks win.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Flag(&'static str),
    Env(&'static str),
    Profile { name: String, file: PathBuf },
}

impl Source {
    fn rank(&self) -> u8 {
        match self {
            Source::Flag(_) => 0,
            Source::Env(_) => 1,
            Source::Profile { .. } => 2,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Env(var) => write!(f, "environment variable {var}"),
            Source::Profile { name, file } => write!(f, "profile [{name}] in {}", file.display()),
        }
    }
}

/// The profile chosen for this invocation and its keys (empty when the file or the implicit
/// `DEFAULT` profile does not exist).
#[derive(Debug)]
struct Profile {
    name: String,
    file: Option<PathBuf>,
    keys: HashMap<String, String>,
}

impl Profile {
    fn get(&self, key: &str) -> Option<(String, Source)> {
        let value = self.keys.get(key).filter(|v| !v.is_empty())?;
        let file = self.file.clone()?;
        Some((value.clone(), Source::Profile { name: self.name.clone(), file }))
    }

    /// "profile [NAME] in FILE" or a note that there is no config file, for error messages.
    fn describe(&self) -> String {
        match &self.file {
            Some(file) => format!("profile [{}] in {}", self.name, file.display()),
            None => "a profile in ~/.databrickscfg".to_string(),
        }
    }
}

/// Resolves host and credentials from `flags`, the environment variables `env`, and the config
/// file (`DATABRICKS_CONFIG_FILE` from `env`, else `default_config_file`).
///
/// A token and client credentials from different sources are not a conflict: the
/// higher-precedence source wins (so `--token` overrides a profile with a client secret). Both
/// set by the same source is an error, as is a client id without its secret.
pub fn resolve(flags: &AuthFlags, env: &HashMap<String, String>, default_config_file: Option<&Path>) -> Result<ResolvedConfig, ConfigError> {
    let env_value = |name: &'static str| env.get(name).filter(|v| !v.trim().is_empty()).map(|v| (v.trim().to_string(), Source::Env(name)));

    let flag_profile = flags.profile.clone().filter(|p| !p.is_empty());
    let explicit_profile = flag_profile.or_else(|| env_value("DATABRICKS_CONFIG_PROFILE").map(|(name, _)| name));
    let config_file = match env_value("DATABRICKS_CONFIG_FILE") {
        Some((path, _)) => Some(expand_home(&path, env)),
        None => default_config_file.map(Path::to_path_buf),
    };
    let profile = load_profile(explicit_profile, config_file)?;

    let flag_host = flags.host.clone().filter(|h| !h.trim().is_empty()).map(|h| (h.trim().to_string(), Source::Flag("--host")));
    let host = flag_host.or_else(|| env_value("DATABRICKS_HOST")).or_else(|| profile.get("host"));
    let Some((host, host_source)) = host else {
        return Err(ConfigError(format!(
            "no workspace host configured: pass --host, set DATABRICKS_HOST, or add `host` to {}",
            profile.describe()
        )));
    };
    let host = normalize_host(&host).map_err(|reason| ConfigError(format!("invalid host '{host}' from {host_source}: {reason}")))?;

    let flag_token = flags.token.clone().filter(|t| !t.expose().is_empty()).map(|t| (t.expose().to_string(), Source::Flag("--token")));
    let token = flag_token.or_else(|| env_value("DATABRICKS_TOKEN")).or_else(|| profile.get("token"));
    let client_id = env_value("DATABRICKS_CLIENT_ID").or_else(|| profile.get("client_id"));
    let client_secret = env_value("DATABRICKS_CLIENT_SECRET").or_else(|| profile.get("client_secret"));

    let client = match (client_id, client_secret) {
        (Some(id), Some(secret)) => Some((id, secret)),
        (Some((_, id_source)), None) => {
            return Err(ConfigError(format!(
                "client_id is set by {id_source} but client_secret is missing: set DATABRICKS_CLIENT_SECRET or add `client_secret` to {}",
                profile.describe()
            )));
        }
        (None, Some((_, secret_source))) => {
            return Err(ConfigError(format!(
                "client_secret is set by {secret_source} but client_id is missing: set DATABRICKS_CLIENT_ID or add `client_id` to {}",
                profile.describe()
            )));
        }
        (None, None) => None,
    };

    let credentials = match (token, client) {
        (None, None) => {
            return Err(ConfigError(format!(
                "no credentials for {host}: pass --token, set DATABRICKS_TOKEN (or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET), or add `token` (or `client_id` and `client_secret`) to {}",
                profile.describe()
            )));
        }
        (Some((token, _)), None) => Credentials::Token(Secret::new(token)),
        (None, Some(((id, _), (secret, _)))) => Credentials::ClientCredentials { client_id: id, client_secret: Secret::new(secret) },
        (Some((token, token_source)), Some(((id, id_source), (secret, secret_source)))) => {
            let client_rank = id_source.rank().min(secret_source.rank());
            if token_source.rank() < client_rank {
                Credentials::Token(Secret::new(token))
            } else if client_rank < token_source.rank() {
                Credentials::ClientCredentials { client_id: id, client_secret: Secret::new(secret) }
            } else {
                return Err(ConfigError(format!(
                    "more than one authentication method configured by {token_source}: a token and client_id/client_secret; keep one"
                )));
            }
        }
    };
    Ok(ResolvedConfig { host, credentials })
}

/// The default config file, `~/.databrickscfg`, from `HOME` (or `USERPROFILE`) in `env`.
pub fn default_config_file(env: &HashMap<String, String>) -> Option<PathBuf> {
    let home = env.get("HOME").or_else(|| env.get("USERPROFILE")).filter(|h| !h.is_empty())?;
    Some(Path::new(home).join(".databrickscfg"))
}

fn expand_home(path: &str, env: &HashMap<String, String>) -> PathBuf {
    let home = env.get("HOME").or_else(|| env.get("USERPROFILE"));
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => Path::new(home).join(rest),
        _ => PathBuf::from(path),
    }
}

fn load_profile(explicit: Option<String>, file: Option<PathBuf>) -> Result<Profile, ConfigError> {
    let name = explicit.clone().unwrap_or_else(|| "DEFAULT".to_string());
    let empty = |file: Option<PathBuf>| Profile { name: name.clone(), file, keys: HashMap::new() };
    let Some(file) = file else {
        if let Some(name) = explicit {
            return Err(ConfigError(format!("profile [{name}] was requested but there is no config file (set DATABRICKS_CONFIG_FILE or HOME)")));
        }
        return Ok(empty(None));
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if let Some(name) = explicit {
                return Err(ConfigError(format!("profile [{name}] was requested but config file {} does not exist", file.display())));
            }
            return Ok(empty(Some(file)));
        }
        Err(error) => return Err(ConfigError(format!("cannot read config file {}: {error}", file.display()))),
    };
    let mut sections = parse_ini(&text).map_err(|reason| ConfigError(format!("invalid config file {}: {reason}", file.display())))?;
    match sections.remove(&name) {
        Some(keys) => Ok(Profile { name, file: Some(file), keys }),
        None if explicit.is_none() => Ok(empty(Some(file))),
        None => {
            let mut names: Vec<String> = sections.into_keys().collect();
            names.sort();
            let known = if names.is_empty() { "none".to_string() } else { names.join(", ") };
            Err(ConfigError(format!("profile [{name}] not found in {} (profiles there: {known})", file.display())))
        }
    }
}

/// Parses the `.databrickscfg` INI dialect: `[section]` headers, `key = value` (or `key: value`)
/// lines with whitespace around the delimiter, full-line `#`/`;` comments and inline comments
/// after whitespace. Keys are case-insensitive (lowercased); a repeated key keeps its last value.
pub fn parse_ini(text: &str) -> Result<HashMap<String, HashMap<String, String>>, String> {
    let mut sections: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut current: Option<String> = None;
    for (index, raw) in text.lines().enumerate() {
        let line_number = index + 1;
        let line = strip_inline_comment(raw).trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[') {
            let Some(name) = header.strip_suffix(']') else {
                return Err(format!("line {line_number}: section header without a closing ']'"));
            };
            let name = name.trim().to_string();
            sections.entry(name.clone()).or_default();
            current = Some(name);
            continue;
        }
        let Some(delimiter) = line.find(['=', ':']) else {
            return Err(format!("line {line_number}: expected `key = value`"));
        };
        let key = line[..delimiter].trim().to_ascii_lowercase();
        let value = line[delimiter + 1..].trim().to_string();
        if key.is_empty() {
            return Err(format!("line {line_number}: a value without a key"));
        }
        let Some(section) = &current else {
            return Err(format!("line {line_number}: `{key}` appears before any [section] header"));
        };
        sections.entry(section.clone()).or_default().insert(key, value);
    }
    Ok(sections)
}

/// Cuts a ` # comment` or ` ; comment` off a line (a `#` or `;` preceded by whitespace).
fn strip_inline_comment(line: &str) -> &str {
    let mut previous_is_space = false;
    for (index, c) in line.char_indices() {
        if (c == '#' || c == ';') && previous_is_space {
            return &line[..index];
        }
        previous_is_space = c.is_whitespace();
    }
    line
}

/// Adds `https://` to a host without a scheme and drops trailing slashes.
pub fn normalize_host(host: &str) -> Result<String, String> {
    let trimmed = host.trim();
    let with_scheme = if trimmed.contains("://") { trimmed.to_string() } else { format!("https://{trimmed}") };
    let normalized = with_scheme.trim_end_matches('/').to_string();
    let url = reqwest::Url::parse(&normalized).map_err(|e| e.to_string())?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(format!("the scheme must be https or http, not {}", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("it has no host name".to_string());
    }
    Ok(normalized)
}

#[cfg(test)]
mod tests;

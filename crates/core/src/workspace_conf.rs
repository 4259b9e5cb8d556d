//! `/api/2.0/workspace-conf`: workspace settings admins change and Kiln honours. Only the
//! keys that take effect are accepted: `enableTokensConfig` (personal access tokens may be
//! created at all) and `maxTokenLifetimeDays` (the longest lifetime a new token may have).

use std::collections::BTreeMap;
use std::sync::Arc;

use kiln_store::Store;

use crate::authz::Authz;
use crate::error::{Error, Result};
use crate::principal::Caller;

pub const TOKENS_ENABLED: &str = "enableTokensConfig";
pub const MAX_TOKEN_LIFETIME_DAYS: &str = "maxTokenLifetimeDays";
const KEYS: &[&str] = &[TOKENS_ENABLED, MAX_TOKEN_LIFETIME_DAYS];

fn setting_key(key: &str) -> String {
    format!("workspace-conf:{key}")
}

/// Checks a value for `key`; an empty value clears the setting.
fn validate(key: &str, value: &str) -> Result<()> {
    let valid = match key {
        TOKENS_ENABLED => value == "true" || value == "false",
        MAX_TOKEN_LIFETIME_DAYS => value.parse::<u32>().is_ok_and(|days| days > 0),
        _ => false,
    };
    if !valid {
        let expected = if key == TOKENS_ENABLED { "\"true\" or \"false\"" } else { "a positive number of days" };
        return Err(Error::invalid(format!("{key}: '{value}' is not valid; expected {expected}")));
    }
    Ok(())
}

fn unknown(keys: &[&str]) -> Error {
    Error::invalid(format!("Invalid keys: {keys:?}. Kiln honours {KEYS:?}"))
}

/// What token creation must respect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenPolicy {
    pub enabled: bool,
    pub max_lifetime_seconds: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct WorkspaceConf {
    store: Arc<dyn Store>,
    authz: Authz,
}

impl WorkspaceConf {
    pub fn new(store: Arc<dyn Store>, authz: Authz) -> WorkspaceConf {
        WorkspaceConf { store, authz }
    }

    /// `GET ?keys=a,b`: each key's value, or null when unset. Any user may read.
    pub async fn get(&self, _caller: &Caller, keys: &str) -> Result<BTreeMap<String, Option<String>>> {
        let keys: Vec<&str> = keys.split(',').map(str::trim).filter(|k| !k.is_empty()).collect();
        let bad: Vec<&str> = keys.iter().copied().filter(|k| !KEYS.contains(k)).collect();
        if !bad.is_empty() {
            return Err(unknown(&bad));
        }
        let mut values = BTreeMap::new();
        for key in keys {
            values.insert(key.to_string(), self.store.get_setting(&setting_key(key)).await?);
        }
        Ok(values)
    }

    /// `PATCH`: admins only; every change is checked before any is stored.
    pub async fn set(&self, caller: &Caller, changes: BTreeMap<String, Option<String>>) -> Result<()> {
        // validations
        let bad: Vec<&str> = changes.keys().map(String::as_str).filter(|k| !KEYS.contains(k)).collect();
        if !bad.is_empty() {
            return Err(unknown(&bad));
        }
        for (key, value) in &changes {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                validate(key, value)?;
            }
        }
        // authz
        self.authz.require_admin(caller, "workspace_conf.set", "workspace-conf").await?;
        // business logic
        for (key, value) in changes {
            self.store.put_setting(&setting_key(&key), value.as_deref().filter(|v| !v.is_empty())).await?;
        }
        Ok(())
    }
}

/// The token policy in force now.
pub async fn token_policy(store: &dyn Store) -> Result<TokenPolicy> {
    let enabled = store.get_setting(&setting_key(TOKENS_ENABLED)).await?.is_none_or(|v| v != "false");
    let max_days = store.get_setting(&setting_key(MAX_TOKEN_LIFETIME_DAYS)).await?.and_then(|v| v.parse::<i64>().ok());
    Ok(TokenPolicy { enabled, max_lifetime_seconds: max_days.map(|days| days * 86_400) })
}

//! Token buckets per endpoint class (one workspace per server), with Databricks' documented
//! defaults. Classes cover routes built later too, so their limits hold from day one.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use kiln_core::{Error, ErrorCode};

use crate::error::ApiError;
use crate::state::AppState;

/// (class, default limit) in `N/s` or `N/min` form.
pub const DEFAULT_LIMITS: &[(&str, &str)] = &[
    ("jobs_run_now_create", "20/s"),
    ("jobs_runs_get", "100/s"),
    ("jobs_runs_list", "30/s"),
    ("jobs_update_cancel", "10/s"),
    ("dbfs", "30/s"),
    ("secrets", "1100/min"),
    ("scim_read", "255/min"),
    ("scim_write", "35/min"),
    ("workspace_import", "30/s"),
    ("workspace_export", "60/s"),
    ("workspace_list", "50/s"),
];

/// Parses `20/s` or `255/min`.
pub fn parse_quota(text: &str) -> Result<Quota, String> {
    let (count, unit) = text.split_once('/').ok_or_else(|| format!("rate limit '{text}' must look like 20/s or 255/min"))?;
    let count: NonZeroU32 = count.trim().parse().map_err(|_| format!("rate limit '{text}' needs a positive count"))?;
    match unit.trim() {
        "s" | "sec" | "second" => Ok(Quota::per_second(count)),
        "min" | "minute" => Ok(Quota::per_minute(count)),
        other => Err(format!("rate limit '{text}' has unknown unit '{other}'; use s or min")),
    }
}

#[derive(Debug, Default)]
pub struct RateLimits {
    limiters: HashMap<&'static str, DefaultDirectRateLimiter>,
}

impl RateLimits {
    /// Limits for every class: defaults, with `overrides` (class → `N/s`) applied.
    pub fn new(overrides: &HashMap<String, String>) -> Result<RateLimits, String> {
        for class in overrides.keys() {
            if !DEFAULT_LIMITS.iter().any(|(name, _)| name == class) {
                let known: Vec<&str> = DEFAULT_LIMITS.iter().map(|(name, _)| *name).collect();
                return Err(format!("unknown rate limit class '{class}'; known: {}", known.join(", ")));
            }
        }
        let mut limiters = HashMap::new();
        for (class, default) in DEFAULT_LIMITS {
            let text = overrides.get(*class).map(String::as_str).unwrap_or(default);
            limiters.insert(*class, RateLimiter::direct(parse_quota(text)?));
        }
        Ok(RateLimits { limiters })
    }

    /// `Err(seconds to wait)` when the request's class is over its limit.
    fn check(&self, method: &Method, path: &str) -> Result<(), u64> {
        let Some(class) = classify(method, path) else { return Ok(()) };
        let Some(limiter) = self.limiters.get(class) else { return Ok(()) };
        limiter.check().map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()).as_secs_f64().ceil().max(1.0) as u64)
    }
}

/// The endpoint class of a request, if it has a limit.
fn classify(method: &Method, path: &str) -> Option<&'static str> {
    if path.starts_with("/api/2.0/preview/scim/v2/") {
        return Some(if method == Method::GET { "scim_read" } else { "scim_write" });
    }
    if path.starts_with("/api/2.0/dbfs/") {
        return Some("dbfs");
    }
    if path.starts_with("/api/2.0/secrets/") {
        return Some("secrets");
    }
    if let Some(operation) = path.strip_prefix("/api/2.0/workspace/") {
        return match operation {
            "import" => Some("workspace_import"),
            "export" => Some("workspace_export"),
            "list" => Some("workspace_list"),
            _ => None,
        };
    }
    let jobs_operation = ["/api/2.0/jobs/", "/api/2.1/jobs/", "/api/2.2/jobs/"].iter().find_map(|prefix| path.strip_prefix(prefix))?;
    match jobs_operation {
        "run-now" | "create" | "runs/submit" => Some("jobs_run_now_create"),
        "runs/get" | "runs/get-output" => Some("jobs_runs_get"),
        "runs/list" => Some("jobs_runs_list"),
        "update" | "reset" | "runs/cancel" | "runs/cancel-all" => Some("jobs_update_cancel"),
        _ => None,
    }
}

/// Middleware: 429 `REQUEST_LIMIT_EXCEEDED` with `Retry-After` in whole seconds.
pub async fn enforce(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(limits) = state.rate_limits.as_ref() else { return next.run(request).await };
    if let Err(retry_after) = limits.check(request.method(), request.uri().path()) {
        let message = format!("Too many requests to {}: retry after {retry_after} s", request.uri().path());
        let mut response = ApiError(Error::new(ErrorCode::RequestLimitExceeded, message)).into_response();
        if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
            response.headers_mut().insert("retry-after", value);
        }
        return response;
    }
    next.run(request).await
}

pub type SharedRateLimits = Option<Arc<RateLimits>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_the_documented_endpoints() {
        assert_eq!(classify(&Method::GET, "/api/2.0/preview/scim/v2/Me"), Some("scim_read"));
        assert_eq!(classify(&Method::PATCH, "/api/2.0/preview/scim/v2/Users/1"), Some("scim_write"));
        assert_eq!(classify(&Method::POST, "/api/2.2/jobs/run-now"), Some("jobs_run_now_create"));
        assert_eq!(classify(&Method::GET, "/api/2.1/jobs/runs/get"), Some("jobs_runs_get"));
        assert_eq!(classify(&Method::GET, "/api/2.0/jobs/runs/list"), Some("jobs_runs_list"));
        assert_eq!(classify(&Method::POST, "/api/2.1/jobs/runs/cancel"), Some("jobs_update_cancel"));
        assert_eq!(classify(&Method::GET, "/api/2.0/workspace/export"), Some("workspace_export"));
        assert_eq!(classify(&Method::GET, "/api/2.0/token/list"), None);
    }

    #[test]
    fn a_class_over_its_limit_says_when_to_retry() {
        let overrides = HashMap::from([("scim_write".to_string(), "2/min".to_string())]);
        let limits = RateLimits::new(&overrides).expect("limits");
        let path = "/api/2.0/preview/scim/v2/Users";
        assert!(limits.check(&Method::POST, path).is_ok());
        assert!(limits.check(&Method::POST, path).is_ok());
        let retry_after = limits.check(&Method::POST, path).expect_err("third write is limited");
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        assert!(limits.check(&Method::GET, path).is_ok(), "reads have their own bucket");
    }

    #[test]
    fn bad_settings_are_rejected() {
        assert!(parse_quota("10/hour").is_err());
        assert!(parse_quota("0/s").is_err());
        assert!(RateLimits::new(&HashMap::from([("nope".to_string(), "1/s".to_string())])).is_err());
    }
}

//! A small Databricks REST client: bearer or OAuth M2M authentication, JSON in and out, and
//! retries (429/503 after `Retry-After`, connection errors and 5xx on GETs with backoff).

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::Value;

use crate::auth::{Credentials, ResolvedConfig, Secret};
use crate::backoff::{Backoff, Jitter, parse_retry_after};
use crate::error::{ApiError, CliError, chain};

/// A request gives up after this many failed attempts in a row.
pub const MAX_CONSECUTIVE_FAILURES: u32 = 10;
/// A `Retry-After` longer than this is shortened to it.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);
/// One request (connect, send, read the answer) may take this long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Lifetime assumed when a token answer has no `expires_in`.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// Monotonic time for token expiry, injectable so tests can make tokens expire.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

/// The real monotonic clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock {
    base: Instant,
    offset: Mutex<Duration>,
}

impl ManualClock {
    pub fn new() -> ManualClock {
        ManualClock { base: Instant::now(), offset: Mutex::new(Duration::ZERO) }
    }

    pub fn advance(&self, by: Duration) {
        let mut offset = self.offset.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *offset += by;
    }
}

impl Default for ManualClock {
    fn default() -> ManualClock {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        let offset = *self.offset.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.base + offset
    }
}

/// How early a token is replaced: when less than 60 s or 10% of its lifetime remains,
/// whichever is larger.
pub fn refresh_margin(lifetime: Duration) -> Duration {
    Duration::from_secs(60).max(lifetime / 10)
}

/// An OAuth access token and the moment it should be replaced.
#[derive(Debug, Default)]
pub struct TokenCache {
    token: Option<(Secret, Instant)>,
}

impl TokenCache {
    /// The cached token, unless it is missing or due for refresh at `now`.
    pub fn current(&self, now: Instant) -> Option<&Secret> {
        let (token, refresh_at) = self.token.as_ref()?;
        if now >= *refresh_at {
            return None;
        }
        Some(token)
    }

    /// Keeps `token`, requested at `requested_at` and valid for `lifetime` from then.
    pub fn store(&mut self, token: Secret, lifetime: Duration, requested_at: Instant) {
        let refresh_at = requested_at + lifetime.saturating_sub(refresh_margin(lifetime));
        self.token = Some((token, refresh_at));
    }

    pub fn clear(&mut self) {
        self.token = None;
    }
}

#[derive(Debug)]
enum Auth {
    Token(Secret),
    OAuth { client_id: String, client_secret: Secret, cache: tokio::sync::Mutex<TokenCache> },
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// What one attempt of a request came to.
enum Attempt {
    Done(Vec<u8>),
    Retry { error: CliError, retry_after: Option<Duration> },
    Unauthorized(CliError),
    Fail(CliError),
}

/// Creates the jitter source of each new backoff.
pub type JitterFactory = fn() -> Box<dyn Jitter>;

/// Knobs of the retry loop.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub start: Duration,
    pub max: Duration,
    pub jitter: JitterFactory,
}

impl RetryPolicy {
    pub fn backoff(&self) -> Backoff {
        Backoff::new(self.start, self.max, (self.jitter)())
    }
}

pub struct ApiClient {
    http: reqwest::Client,
    host: String,
    auth: Auth,
    clock: Arc<dyn Clock>,
    retry: RetryPolicy,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient").field("host", &self.host).finish_non_exhaustive()
    }
}

impl ApiClient {
    pub fn new(config: ResolvedConfig, clock: Arc<dyn Clock>, retry: RetryPolicy) -> Result<ApiClient, CliError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("kiln-cli/", env!("CARGO_PKG_VERSION")))
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| CliError::Transport(format!("cannot create the HTTP client: {}", chain(&e))))?;
        let auth = match config.credentials {
            Credentials::Token(token) => Auth::Token(token),
            Credentials::ClientCredentials { client_id, client_secret } => {
                Auth::OAuth { client_id, client_secret, cache: tokio::sync::Mutex::new(TokenCache::default()) }
            }
        };
        Ok(ApiClient { http, host: config.host, auth, clock, retry })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// `GET {host}{path}?{query}`; retried on connection errors, 429 and 5xx.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, CliError> {
        self.call(Method::GET, path, query, None).await
    }

    /// `POST {host}{path}` with a JSON body; retried only on 429 and 503, which say the
    /// request was not acted on (a lost connection could have started a run).
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, CliError> {
        self.call(Method::POST, path, &[], Some(body)).await
    }

    async fn call(&self, method: Method, path: &str, query: &[(&str, String)], body: Option<&Value>) -> Result<Value, CliError> {
        let url = format!("{}{path}", self.host);
        let idempotent = method == Method::GET;
        let label = format!("{method} {path}");
        let (method, url_ref, label_ref) = (&method, url.as_str(), label.as_str());
        let bytes = self
            .with_retries(true, move || async move {
                let bearer = match self.bearer().await {
                    Ok(bearer) => bearer,
                    Err(error) => return Attempt::Fail(error),
                };
                let mut request = self.http.request(method.clone(), url_ref).bearer_auth(bearer.expose()).query(query);
                if let Some(body) = body {
                    request = request.json(body);
                }
                attempt(request, idempotent, label_ref, |status, body| CliError::Api(ApiError::from_body(status, body))).await
            })
            .await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Object(Default::default()));
        }
        serde_json::from_slice(&bytes).map_err(|e| CliError::Transport(format!("{label}: the answer is not JSON: {e}")))
    }

    /// The bearer token for the next request: the configured one, or a cached OAuth token
    /// (fetched again when due for refresh).
    async fn bearer(&self) -> Result<Secret, CliError> {
        let (client_id, client_secret, cache) = match &self.auth {
            Auth::Token(token) => return Ok(token.clone()),
            Auth::OAuth { client_id, client_secret, cache } => (client_id, client_secret, cache),
        };
        let mut cache = cache.lock().await;
        let requested_at = self.clock.now();
        if let Some(token) = cache.current(requested_at) {
            return Ok(token.clone());
        }
        let (token, lifetime) = self.fetch_token(client_id, client_secret).await?;
        cache.store(token.clone(), lifetime, requested_at);
        Ok(token)
    }

    /// The client-credentials grant at `{host}/oidc/v1/token`, with HTTP Basic client auth.
    async fn fetch_token(&self, client_id: &str, client_secret: &Secret) -> Result<(Secret, Duration), CliError> {
        let url = format!("{}/oidc/v1/token", self.host);
        let form = [("grant_type", "client_credentials"), ("scope", "all-apis")];
        let label = "POST /oidc/v1/token";
        let url_ref = url.as_str();
        let bytes = self
            .with_retries(false, move || async move {
                let request = self.http.post(url_ref).basic_auth(client_id, Some(client_secret.expose())).form(&form);
                let token_error = |status, body: &[u8]| CliError::Token { url: url_ref.to_string(), error: ApiError::from_body(status, body) };
                attempt(request, true, label, token_error).await
            })
            .await?;
        let answer: TokenAnswer = serde_json::from_slice(&bytes)
            .map_err(|e| CliError::Transport(format!("{label}: the answer is not a token ({e})")))?;
        let lifetime = answer.expires_in.map(Duration::from_secs).unwrap_or(DEFAULT_TOKEN_LIFETIME);
        Ok((Secret::new(answer.access_token), lifetime))
    }

    async fn forget_token(&self) {
        if let Auth::OAuth { cache, .. } = &self.auth {
            cache.lock().await.clear();
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or fails `MAX_CONSECUTIVE_FAILURES`
    /// times in a row. With `reauthenticate`, a 401 under OAuth drops the cached token and
    /// tries once more.
    async fn with_retries<F, Fut>(&self, reauthenticate: bool, mut attempt: F) -> Result<Vec<u8>, CliError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Attempt>,
    {
        let mut backoff = self.retry.backoff();
        let mut failures = 0;
        let mut token_renewed = false;
        loop {
            match attempt().await {
                Attempt::Done(bytes) => return Ok(bytes),
                Attempt::Fail(error) => return Err(error),
                Attempt::Unauthorized(error) => {
                    let oauth = matches!(self.auth, Auth::OAuth { .. });
                    if !reauthenticate || !oauth || token_renewed {
                        return Err(error);
                    }
                    token_renewed = true;
                    self.forget_token().await;
                }
                Attempt::Retry { error, retry_after } => {
                    failures += 1;
                    if failures >= MAX_CONSECUTIVE_FAILURES {
                        return Err(error);
                    }
                    let delay = match retry_after {
                        Some(delay) => delay.min(MAX_RETRY_AFTER),
                        None => backoff.next_delay(),
                    };
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

/// Sends one request and classifies the outcome. `idempotent` requests are retried after any
/// transport error or 5xx; others only after 429 or 503.
async fn attempt(request: reqwest::RequestBuilder, idempotent: bool, label: &str, api_error: impl Fn(u16, &[u8]) -> CliError) -> Attempt {
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) => {
            let retryable = idempotent;
            let failure = CliError::Transport(format!("{label}: {}", chain(&error)));
            return if retryable { Attempt::Retry { error: failure, retry_after: None } } else { Attempt::Fail(failure) };
        }
    };
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| parse_retry_after(value, chrono::Utc::now()));
    let body = match response.bytes().await {
        Ok(body) => body.to_vec(),
        Err(error) => {
            let failure = CliError::Transport(format!("{label}: cannot read the answer: {}", chain(&error)));
            let retryable = idempotent && !status.is_client_error();
            return if retryable { Attempt::Retry { error: failure, retry_after: None } } else { Attempt::Fail(failure) };
        }
    };
    if status.is_success() {
        return Attempt::Done(body);
    }
    let error = api_error(status.as_u16(), &body);
    if status == StatusCode::UNAUTHORIZED {
        return Attempt::Unauthorized(error);
    }
    if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
        return Attempt::Retry { error, retry_after };
    }
    if idempotent && status.is_server_error() {
        return Attempt::Retry { error, retry_after: None };
    }
    Attempt::Fail(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_is_a_minute_or_a_tenth_of_the_lifetime() {
        assert_eq!(refresh_margin(Duration::from_secs(3600)), Duration::from_secs(360));
        assert_eq!(refresh_margin(Duration::from_secs(300)), Duration::from_secs(60));
        assert_eq!(refresh_margin(Duration::from_secs(30)), Duration::from_secs(60));
    }

    #[test]
    fn an_hour_token_is_replaced_six_minutes_before_it_expires() {
        let clock = ManualClock::new();
        let mut cache = TokenCache::default();
        assert!(cache.current(clock.now()).is_none());
        cache.store(Secret::new("a"), Duration::from_secs(3600), clock.now());
        assert_eq!(cache.current(clock.now()).map(Secret::expose), Some("a"));
        clock.advance(Duration::from_secs(3239));
        assert_eq!(cache.current(clock.now()).map(Secret::expose), Some("a"));
        clock.advance(Duration::from_secs(1));
        assert!(cache.current(clock.now()).is_none(), "due 360 s before expiry");
    }

    #[test]
    fn a_short_token_is_replaced_a_minute_before_it_expires() {
        let clock = ManualClock::new();
        let mut cache = TokenCache::default();
        cache.store(Secret::new("b"), Duration::from_secs(300), clock.now());
        clock.advance(Duration::from_secs(239));
        assert!(cache.current(clock.now()).is_some());
        clock.advance(Duration::from_secs(1));
        assert!(cache.current(clock.now()).is_none());
    }

    #[test]
    fn a_token_shorter_than_the_margin_is_never_reused_and_clear_forgets() {
        let clock = ManualClock::new();
        let mut cache = TokenCache::default();
        cache.store(Secret::new("c"), Duration::from_secs(30), clock.now());
        assert!(cache.current(clock.now()).is_none());
        cache.store(Secret::new("d"), Duration::from_secs(3600), clock.now());
        cache.clear();
        assert!(cache.current(clock.now()).is_none());
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let config = ResolvedConfig {
            host: "https://example.cloud.databricks.com".to_string(),
            credentials: Credentials::ClientCredentials { client_id: "id".to_string(), client_secret: Secret::new("s3cr3t-value") },
        };
        assert!(!format!("{config:?}").contains("s3cr3t-value"));
        let token = Credentials::Token(Secret::new("dapi-secret-token"));
        assert!(!format!("{token:?}").contains("dapi-secret-token"));
    }
}

//! OAuth for service principals: client secrets (stored as Argon2 hashes) and the
//! `client_credentials` grant, which returns a signed one-hour access token (HS256 JWT).

use std::sync::Arc;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use kiln_api::oauth::{CreateSecretRequest, CreateSecretResponse, SecretInfo, TokenResponse};
use kiln_store::{OAuthSecretRecord, PrincipalKind, PrincipalRecord, Store};
use serde::{Deserialize, Serialize};

use crate::authz::Authz;
use crate::clock::{now_ms, rfc3339};
use crate::error::{Error, Result};
use crate::ids::{random_hex, sha256_hex};
use crate::principal::Caller;

/// Access tokens live one hour, as on Databricks.
const ACCESS_TOKEN_SECONDS: i64 = 3600;
/// Secrets default to 730 days.
const DEFAULT_SECRET_SECONDS: i64 = 63_072_000;
/// The longest lifetime a secret may ask for: 730 days, as on Databricks.
const MAX_SECRET_SECONDS: i64 = 63_072_000;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    client_id: String,
    scope: String,
    iat: i64,
    exp: i64,
}

/// Why a token request failed, in OAuth's own vocabulary (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub error: &'static str,
    pub description: String,
}

#[derive(Clone)]
pub struct OAuthService {
    store: Arc<dyn Store>,
    authz: Authz,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for OAuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthService").finish_non_exhaustive()
    }
}

impl OAuthService {
    /// `signing_key` is the workspace's secret HMAC key (kept in `keys/`, mode 0600).
    pub fn new(store: Arc<dyn Store>, authz: Authz, signing_key: &[u8]) -> OAuthService {
        OAuthService { store, authz, encoding: EncodingKey::from_secret(signing_key), decoding: DecodingKey::from_secret(signing_key) }
    }

    async fn service_principal(&self, sp_id: &str) -> Result<PrincipalRecord> {
        let not_found = || Error::not_found(format!("Service principal {sp_id} does not exist"));
        let id: i64 = sp_id.parse().map_err(|_| not_found())?;
        match self.store.get_principal(id).await? {
            Some(record) if record.kind == PrincipalKind::ServicePrincipal => Ok(record),
            _ => Err(not_found()),
        }
    }

    pub async fn create_secret(&self, caller: &Caller, sp_id: &str, request: CreateSecretRequest) -> Result<CreateSecretResponse> {
        // validations
        let lifetime_seconds = match request.lifetime.as_deref() {
            None => DEFAULT_SECRET_SECONDS,
            Some(text) => text
                .strip_suffix('s')
                .and_then(|n| n.parse::<i64>().ok())
                .filter(|n| (1..=MAX_SECRET_SECONDS).contains(n))
                .ok_or_else(|| Error::invalid(format!("lifetime must be a number of seconds from 1 to {MAX_SECRET_SECONDS} (730 days) like \"3600s\", got '{text}'")))?,
        };
        let service_principal = self.service_principal(sp_id).await?;
        // authz
        self.authz.require_admin(caller, "oauth.secrets.create", &format!("ServicePrincipal {sp_id}")).await?;
        // business logic
        let secret = format!("dose{}", random_hex(32));
        let mut salt = [0u8; 16];
        rand::Rng::fill(&mut rand::rng(), &mut salt);
        let phc = Argon2::default()
            .hash_password_with_salt(secret.as_bytes(), &salt)
            .map_err(|e| Error::internal(format!("hashing the secret failed: {e}")))?
            .to_string();
        let now = now_ms();
        let record = OAuthSecretRecord {
            id: random_hex(16),
            principal_id: service_principal.id,
            secret_phc: phc,
            secret_hash: sha256_hex(&secret)[..16].to_string(),
            create_time_ms: now,
            expire_time_ms: now.saturating_add(lifetime_seconds.saturating_mul(1000)),
            scopes: request.scopes,
        };
        self.store.insert_oauth_secret(&record).await?;
        Ok(CreateSecretResponse { secret, info: secret_info(&record) })
    }

    pub async fn list_secrets(&self, caller: &Caller, sp_id: &str) -> Result<Vec<SecretInfo>> {
        let service_principal = self.service_principal(sp_id).await?;
        self.authz.require_admin(caller, "oauth.secrets.list", &format!("ServicePrincipal {sp_id}")).await?;
        Ok(self.store.list_oauth_secrets(service_principal.id).await?.iter().map(secret_info).collect())
    }

    pub async fn delete_secret(&self, caller: &Caller, sp_id: &str, secret_id: &str) -> Result<()> {
        let service_principal = self.service_principal(sp_id).await?;
        self.authz.require_admin(caller, "oauth.secrets.delete", &format!("ServicePrincipal {sp_id}")).await?;
        if !self.store.delete_oauth_secret(service_principal.id, secret_id).await? {
            return Err(Error::not_found(format!("Secret {secret_id} does not exist")));
        }
        Ok(())
    }

    /// The `client_credentials` grant: verifies the client's secret and mints a token.
    pub async fn client_credentials(&self, client_id: &str, client_secret: &str, scope: Option<&str>) -> Result<TokenResponse, OAuthError> {
        let invalid_client = || OAuthError { error: "invalid_client", description: "Client authentication failed".to_string() };
        let store_failure = |e: kiln_store::StoreError| OAuthError { error: "server_error", description: e.to_string() };
        let principal = self.store.find_principal(PrincipalKind::ServicePrincipal, client_id).await.map_err(store_failure)?;
        let principal = principal.filter(|p| p.active).ok_or_else(invalid_client)?;
        let now = now_ms();
        let secrets = self.store.list_oauth_secrets(principal.id).await.map_err(store_failure)?;
        let matching = secrets.into_iter().filter(|s| s.expire_time_ms > now).find(|s| {
            let verifier: &dyn PasswordVerifier<str> = &Argon2::default();
            verifier.verify_password(client_secret.as_bytes(), &s.secret_phc).is_ok()
        });
        let secret = matching.ok_or_else(invalid_client)?;
        let requested = scope.map(str::trim).filter(|s| !s.is_empty()).unwrap_or("all-apis").to_string();
        if let Some(allowed) = &secret.scopes
            && let Some(extra) = requested.split_whitespace().find(|s| !allowed.iter().any(|a| a == s)) {
                return Err(OAuthError { error: "invalid_scope", description: format!("scope {extra} is not allowed for this secret") });
            }
        let access_token = self
            .sign(principal.id, &principal.name, &requested, ACCESS_TOKEN_SECONDS)
            .map_err(|e| OAuthError { error: "server_error", description: e.message })?;
        Ok(TokenResponse { access_token, token_type: "Bearer".to_string(), expires_in: ACCESS_TOKEN_SECONDS, scope: requested })
    }

    /// A short-lived access token for code Kiln runs on a principal's behalf (a cluster
    /// command calling back into the API), so that code has exactly the principal's rights.
    pub fn delegated_token(&self, principal_id: i64, principal_name: &str, lifetime_seconds: i64) -> Result<String> {
        self.sign(principal_id, principal_name, "all-apis", lifetime_seconds)
    }

    fn sign(&self, principal_id: i64, principal_name: &str, scope: &str, lifetime_seconds: i64) -> Result<String> {
        let issued_at = now_ms() / 1000;
        let claims = Claims { sub: principal_id.to_string(), client_id: principal_name.to_string(), scope: scope.to_string(), iat: issued_at, exp: issued_at + lifetime_seconds };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| Error::internal(format!("signing failed: {e}")))
    }

    /// The principal id a valid, unexpired access token was issued to.
    pub fn verify_access_token(&self, token: &str) -> Result<i64> {
        let validation = Validation::new(Algorithm::HS256);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).map_err(|e| Error::unauthenticated(format!("Invalid access token: {e}")))?;
        data.claims.sub.parse().map_err(|_| Error::unauthenticated("Invalid access token: bad subject"))
    }
}

fn secret_info(record: &OAuthSecretRecord) -> SecretInfo {
    let status = if record.expire_time_ms > now_ms() { "ACTIVE" } else { "EXPIRED" };
    SecretInfo {
        id: record.id.clone(),
        secret_hash: record.secret_hash.clone(),
        status: status.to_string(),
        create_time: rfc3339(record.create_time_ms),
        update_time: rfc3339(record.create_time_ms),
        expire_time: rfc3339(record.expire_time_ms),
        scopes: record.scopes.clone(),
    }
}

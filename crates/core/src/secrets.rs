//! Secrets 2.0: `/api/2.0/secrets`. Values are encrypted with AES-256-GCM before they reach
//! the store (the scope and key are authenticated with them, so a ciphertext cannot be moved
//! to another secret), returned only by get-secret, and never logged. A scope's ACL (READ <
//! WRITE < MANAGE) lives with the other object ACLs and is checked by the authz module.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use kiln_store::{AclEntry, ObjectRecord, PrincipalKind, SecretRecord, SecretScopeRecord, Store, StoreError};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use std::sync::Arc;

use crate::authz::{Authz, ObjectRef, SECRET_SCOPES};
use crate::clock::now_ms;
use crate::error::{Error, ErrorCode, Result};
use crate::principal::{Caller, USERS_GROUP};

/// Largest secret value, as on Databricks.
const MAX_VALUE_BYTES: usize = 128 * 1024;
const MAX_SCOPES: usize = 1000;

/// A scope as the list answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeInfo {
    pub name: String,
}

/// A secret's key and when it last changed; never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretMetadata {
    pub key: String,
    pub last_updated_timestamp: i64,
}

/// The value a put carries.
#[derive(Debug, Clone)]
pub enum SecretValue {
    String(String),
    /// Base64 as the request carries it.
    Bytes(String),
}

pub struct SecretsService {
    store: Arc<dyn Store>,
    authz: Authz,
    key: LessSafeKey,
}

impl std::fmt::Debug for SecretsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretsService").finish_non_exhaustive()
    }
}

fn scope_object(scope: &str) -> ObjectRef {
    ObjectRef::new(&SECRET_SCOPES, scope)
}

fn scope_missing(scope: &str) -> Error {
    Error::not_found(format!("Scope {scope} does not exist!"))
}

fn check_name(field: &str, value: &str, extra: &[char]) -> Result<()> {
    let valid = !value.is_empty() && value.len() <= 128 && value.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c) || extra.contains(&c));
    if !valid {
        return Err(Error::invalid(format!("{field} '{value}' must be 1 to 128 letters, digits, '_', '-' or '.'")));
    }
    Ok(())
}

impl SecretsService {
    /// `key` is the 32-byte AES-256 key.
    pub fn new(store: Arc<dyn Store>, authz: Authz, key: &[u8]) -> Result<SecretsService> {
        let key = UnboundKey::new(&AES_256_GCM, key).map_err(|_| Error::internal("the secrets key must be 32 bytes"))?;
        Ok(SecretsService { store, authz, key: LessSafeKey::new(key) })
    }

    async fn require(&self, caller: &Caller, action: &str, scope: &str, level: &str) -> Result<()> {
        if self.store.get_secret_scope(scope).await?.is_none() {
            return Err(scope_missing(scope));
        }
        self.authz.require_permission(caller, action, &scope_object(scope), level).await
    }

    /// Any user may create a scope; its creator manages it (or every user, with
    /// `initial_manage_principal` "users").
    pub async fn create_scope(&self, caller: &Caller, scope: &str, initial_manage_principal: Option<&str>, backend_type: Option<&str>) -> Result<()> {
        // validations
        check_name("scope", scope, &['@'])?;
        if let Some(other) = backend_type.filter(|b| !b.eq_ignore_ascii_case("DATABRICKS")) {
            return Err(Error::invalid(format!("scope_backend_type {other} is not supported: Kiln keeps DATABRICKS-backed scopes")));
        }
        let manager = match initial_manage_principal {
            None => caller.id(),
            Some(USERS_GROUP) => self.store.find_principal(PrincipalKind::Group, USERS_GROUP).await?.map(|g| g.id).ok_or_else(|| Error::internal("the users group is missing"))?,
            Some(other) => return Err(Error::invalid(format!("initial_manage_principal '{other}' must be 'users' or left out"))),
        };
        if self.store.list_secret_scopes().await?.len() >= MAX_SCOPES {
            return Err(Error::new(ErrorCode::Specific(400, "MAX_SECRET_SCOPES_EXCEEDED"), format!("A workspace holds at most {MAX_SCOPES} secret scopes.")));
        }
        // business logic
        let record = SecretScopeRecord { name: scope.to_string(), created_at_ms: now_ms(), created_by: caller.name().to_string() };
        match self.store.create_secret_scope(&record).await {
            Err(StoreError::AlreadyExists(_)) => return Err(Error::already_exists(format!("Scope {scope} already exists!"))),
            other => other?,
        }
        let object = ObjectRecord { object_type: SECRET_SCOPES.segment.to_string(), object_id: scope.to_string(), parent: None };
        self.store.upsert_object(&object).await?;
        self.store.set_acl(SECRET_SCOPES.segment, scope, &[AclEntry { principal_id: manager, level: "MANAGE".to_string() }]).await?;
        Ok(())
    }

    /// Every scope; seeing a scope's name needs no permission, as on Databricks.
    pub async fn list_scopes(&self, _caller: &Caller) -> Result<Vec<ScopeInfo>> {
        Ok(self.store.list_secret_scopes().await?.into_iter().map(|s| ScopeInfo { name: s.name }).collect())
    }

    pub async fn delete_scope(&self, caller: &Caller, scope: &str) -> Result<()> {
        self.require(caller, "secrets.delete_scope", scope, "MANAGE").await?;
        self.store.delete_secret_scope(scope).await?;
        self.store.delete_object(SECRET_SCOPES.segment, scope).await?;
        Ok(())
    }

    pub async fn put_secret(&self, caller: &Caller, scope: &str, key: &str, value: SecretValue) -> Result<()> {
        // validations
        check_name("key", key, &[])?;
        let plain = match value {
            SecretValue::String(text) => text.into_bytes(),
            SecretValue::Bytes(encoded) => BASE64.decode(encoded.as_bytes()).map_err(|_| Error::invalid("bytes_value must be base64"))?,
        };
        if plain.len() > MAX_VALUE_BYTES {
            return Err(Error::invalid(format!("a secret value may hold at most {MAX_VALUE_BYTES} bytes, this one has {}", plain.len())));
        }
        // authz
        self.require(caller, "secrets.put", scope, "WRITE").await?;
        // business logic
        let (nonce, ciphertext) = self.seal(scope, key, plain)?;
        let record = SecretRecord { scope: scope.to_string(), key: key.to_string(), nonce, ciphertext, updated_at_ms: now_ms() };
        match self.store.put_secret(&record).await {
            Err(StoreError::NotFound(_)) => Err(scope_missing(scope)),
            other => Ok(other?),
        }
    }

    pub async fn delete_secret(&self, caller: &Caller, scope: &str, key: &str) -> Result<()> {
        self.require(caller, "secrets.delete", scope, "WRITE").await?;
        if !self.store.delete_secret(scope, key).await? {
            return Err(Error::not_found(format!("Secret {key} does not exist in scope {scope}!")));
        }
        Ok(())
    }

    pub async fn list_secrets(&self, caller: &Caller, scope: &str) -> Result<Vec<SecretMetadata>> {
        self.require(caller, "secrets.list", scope, "READ").await?;
        let secrets = self.store.list_secrets(scope).await?;
        Ok(secrets.into_iter().map(|s| SecretMetadata { key: s.key, last_updated_timestamp: s.updated_at_ms }).collect())
    }

    /// The value, base64-encoded, as get-secret answers it.
    pub async fn get_secret(&self, caller: &Caller, scope: &str, key: &str) -> Result<String> {
        self.require(caller, "secrets.get", scope, "READ").await?;
        let record = self.store.get_secret(scope, key).await?.ok_or_else(|| Error::not_found(format!("Failed to get secret {key} for scope {scope}.")))?;
        Ok(BASE64.encode(self.open(&record)?))
    }

    /// Sets `principal`'s permission (READ, WRITE or MANAGE) on the scope.
    pub async fn put_acl(&self, caller: &Caller, scope: &str, principal: &str, permission: &str) -> Result<()> {
        if SECRET_SCOPES.rank(permission).is_none() {
            return Err(Error::invalid(format!("permission {permission} must be READ, WRITE or MANAGE")));
        }
        let principal_id = self.principal_id(principal).await?;
        self.require(caller, "secrets.acls.put", scope, "MANAGE").await?;
        self.store.merge_acl(SECRET_SCOPES.segment, scope, &[AclEntry { principal_id, level: permission.to_string() }]).await?;
        Ok(())
    }

    pub async fn delete_acl(&self, caller: &Caller, scope: &str, principal: &str) -> Result<()> {
        self.require(caller, "secrets.acls.delete", scope, "MANAGE").await?;
        let principal_id = self.principal_id(principal).await?;
        let entries = self.store.get_acl(SECRET_SCOPES.segment, scope).await?;
        if !entries.iter().any(|e| e.principal_id == principal_id) {
            return Err(Error::not_found(format!("No ACL for {principal} on scope {scope}.")));
        }
        let kept: Vec<AclEntry> = entries.into_iter().filter(|e| e.principal_id != principal_id).collect();
        self.store.set_acl(SECRET_SCOPES.segment, scope, &kept).await?;
        Ok(())
    }

    /// `(principal, permission)` of every ACL entry of the scope.
    pub async fn list_acls(&self, caller: &Caller, scope: &str) -> Result<Vec<(String, String)>> {
        self.require(caller, "secrets.acls.list", scope, "MANAGE").await?;
        let mut acls = Vec::new();
        for entry in self.store.get_acl(SECRET_SCOPES.segment, scope).await? {
            if let Some(principal) = self.store.get_principal(entry.principal_id).await? {
                acls.push((principal.name, entry.level));
            }
        }
        Ok(acls)
    }

    pub async fn get_acl(&self, caller: &Caller, scope: &str, principal: &str) -> Result<String> {
        let acls = self.list_acls(caller, scope).await?;
        acls.into_iter().find(|(name, _)| name == principal).map(|(_, permission)| permission).ok_or_else(|| Error::not_found(format!("No ACL for {principal} on scope {scope}.")))
    }

    /// A user name, service principal application id or group name.
    async fn principal_id(&self, name: &str) -> Result<i64> {
        let principal = self.store.find_principal_by_name(name).await?;
        principal.map(|p| p.id).ok_or_else(|| Error::not_found(format!("Principal {name} does not exist.")))
    }

    fn seal(&self, scope: &str, key: &str, plain: Vec<u8>) -> Result<(Vec<u8>, Vec<u8>)> {
        self.seal_with(&format!("{scope}\0{key}"), plain)
    }

    /// Encrypts `plain` bound to `context` (which must be given again to decrypt); for
    /// other values Kiln keeps secret, such as webhook addresses.
    pub fn seal_with(&self, context: &str, mut plain: Vec<u8>) -> Result<(Vec<u8>, Vec<u8>)> {
        let mut nonce = [0_u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).map_err(|_| Error::internal("no randomness for a nonce"))?;
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context.as_bytes()), &mut plain)
            .map_err(|_| Error::internal("encrypting a secret failed"))?;
        Ok((nonce.to_vec(), plain))
    }

    pub fn open_with(&self, context: &str, nonce: &[u8], sealed: &[u8]) -> Result<Vec<u8>> {
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Error::internal("a stored secret has a bad nonce"))?;
        let mut sealed = sealed.to_vec();
        let plain = self.key.open_in_place(nonce, Aad::from(context.as_bytes()), &mut sealed).map_err(|_| Error::internal(format!("{context} cannot be decrypted with this workspace's key")))?;
        Ok(plain.to_vec())
    }

    fn open(&self, record: &SecretRecord) -> Result<Vec<u8>> {
        self.open_with(&format!("{}\0{}", record.scope, record.key), &record.nonce, &record.ciphertext)
            .map_err(|_| Error::internal(format!("secret {} in scope {} cannot be decrypted with this workspace's key", record.key, record.scope)))
    }
}

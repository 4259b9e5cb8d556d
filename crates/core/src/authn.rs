//! Resolves a bearer credential to a [`Principal`]. Only SHA-256 hashes of tokens are
//! stored, so a lookup hashes the presented value.
//!
//! Resolving a principal takes several store queries (token, principal, memberships, the
//! admins group), so results are cached. Every identity or token write bumps the cache's
//! generation, which drops all entries at once; a short TTL bounds staleness when another
//! node shares the store.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kiln_store::Store;

use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::ids::sha256_hex;
use crate::principal::{ADMINS_GROUP, Principal};

/// How long a cached principal is trusted without a local write invalidating it.
const CACHE_TTL: Duration = Duration::from_secs(10);
/// Bounds memory under a flood of distinct tokens; reaching it clears the cache.
const CACHE_CAPACITY: usize = 10_000;

#[derive(Debug, Clone)]
pub struct Authenticator {
    store: Arc<dyn Store>,
    cache: PrincipalCache,
}

impl Authenticator {
    pub fn new(store: Arc<dyn Store>) -> Authenticator {
        Authenticator { store, cache: PrincipalCache::default() }
    }

    /// The handle services use to invalidate cached principals after a write.
    pub fn cache(&self) -> PrincipalCache {
        self.cache.clone()
    }

    /// The principal behind `Authorization: Bearer <token>`; 401 for anything unknown,
    /// expired or revoked.
    pub async fn authenticate_bearer(&self, token: &str) -> Result<Arc<Principal>> {
        let token_hash = sha256_hex(token);
        let key = CacheKey::TokenHash(token_hash.clone());
        if let Some(hit) = self.cache.get(&key) {
            check_expiry(hit.token_expiry_ms)?;
            return Ok(hit.principal);
        }
        let generation = self.cache.generation();
        let record = self.store.find_token_by_hash(&token_hash).await?;
        let Some(record) = record else {
            return Err(Error::unauthenticated("Invalid access token."));
        };
        check_expiry(record.expiry_time_ms)?;
        let principal = self.load(record.owner_id).await?;
        let principal = principal.ok_or_else(|| Error::unauthenticated("Invalid access token: its owner no longer exists."))?;
        let principal = Arc::new(principal);
        self.cache.insert(key, CachedPrincipal { principal: principal.clone(), token_expiry_ms: record.expiry_time_ms }, generation);
        Ok(principal)
    }

    /// The principal with this id, e.g. the subject of a verified OAuth access token.
    pub async fn resolve(&self, principal_id: i64) -> Result<Option<Arc<Principal>>> {
        let key = CacheKey::PrincipalId(principal_id);
        if let Some(hit) = self.cache.get(&key) {
            return Ok(Some(hit.principal));
        }
        let generation = self.cache.generation();
        let Some(principal) = self.load(principal_id).await? else { return Ok(None) };
        let principal = Arc::new(principal);
        self.cache.insert(key, CachedPrincipal { principal: principal.clone(), token_expiry_ms: None }, generation);
        Ok(Some(principal))
    }

    /// Loads a principal with its direct and transitive groups, bypassing the cache.
    pub async fn load(&self, principal_id: i64) -> Result<Option<Principal>> {
        let Some(record) = self.store.get_principal(principal_id).await? else { return Ok(None) };
        if !record.active {
            return Err(Error::unauthenticated(format!("{} is deactivated", record.name)));
        }
        let memberships = self.store.all_memberships().await?;
        let direct: Vec<i64> = memberships.iter().filter(|m| m.member_id == principal_id).map(|m| m.group_id).collect();
        let mut all: HashSet<i64> = direct.iter().copied().collect();
        let mut frontier = direct.clone();
        while let Some(group_id) = frontier.pop() {
            for parent in memberships.iter().filter(|m| m.member_id == group_id) {
                if all.insert(parent.group_id) {
                    frontier.push(parent.group_id);
                }
            }
        }
        let mut all_group_ids: Vec<i64> = all.into_iter().collect();
        all_group_ids.sort_unstable();
        let mut direct_groups = Vec::with_capacity(direct.len());
        let mut group_names = Vec::with_capacity(all_group_ids.len());
        let mut entitlements = record.entitlements.clone();
        for group_id in &all_group_ids {
            if let Some(group) = self.store.get_principal(*group_id).await? {
                if direct.contains(group_id) {
                    direct_groups.push((group.id, group.display_name.clone()));
                }
                entitlements.extend(group.entitlements);
                group_names.push(group.display_name);
            }
        }
        entitlements.sort();
        entitlements.dedup();
        let is_admin = group_names.iter().any(|name| name == ADMINS_GROUP);
        Ok(Some(Principal { record, direct_groups, all_group_ids, group_names, entitlements, is_admin }))
    }
}

fn check_expiry(expiry_time_ms: Option<i64>) -> Result<()> {
    if expiry_time_ms.is_some_and(|expiry| expiry <= now_ms()) {
        return Err(Error::unauthenticated("Invalid access token: the token has expired."));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum CacheKey {
    TokenHash(String),
    PrincipalId(i64),
}

#[derive(Debug, Clone)]
struct CachedPrincipal {
    principal: Arc<Principal>,
    token_expiry_ms: Option<i64>,
}

#[derive(Debug)]
struct CacheEntry {
    value: CachedPrincipal,
    generation: u64,
    cached_at: Instant,
}

/// Resolved principals by credential, shared by the authenticator and the services whose
/// writes change who a credential resolves to.
#[derive(Debug, Clone, Default)]
pub struct PrincipalCache {
    generation: Arc<AtomicU64>,
    entries: Arc<Mutex<HashMap<CacheKey, CacheEntry>>>,
}

impl PrincipalCache {
    /// Drops every cached principal; call after any write to identities, memberships or tokens.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Invalidates when dropped, so a write that fails half-way still invalidates.
    pub fn invalidate_when_done(&self) -> InvalidateOnDrop {
        InvalidateOnDrop(self.clone())
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn get(&self, key: &CacheKey) -> Option<CachedPrincipal> {
        let generation = self.generation();
        let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = entries.get(key)?;
        (entry.generation == generation && entry.cached_at.elapsed() < CACHE_TTL).then(|| entry.value.clone())
    }

    /// Stores a value loaded while `generation` was current; a write that happened during
    /// the load makes the value stale at once, so it is never served.
    fn insert(&self, key: CacheKey, value: CachedPrincipal, generation: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= CACHE_CAPACITY {
            entries.clear();
        }
        entries.insert(key, CacheEntry { value, generation, cached_at: Instant::now() });
    }
}

/// Bumps the cache generation when dropped; see [`PrincipalCache::invalidate_when_done`].
#[derive(Debug)]
#[must_use = "the cache is invalidated when this guard is dropped"]
pub struct InvalidateOnDrop(PrincipalCache);

impl Drop for InvalidateOnDrop {
    fn drop(&mut self) {
        self.0.invalidate();
    }
}

//! Resolves a bearer credential to a [`Principal`]. Only SHA-256 hashes of tokens are
//! stored, so a lookup hashes the presented value.

use std::collections::HashSet;
use std::sync::Arc;

use kiln_store::{PrincipalKind, Store};

use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::ids::sha256_hex;
use crate::principal::{ADMINS_GROUP, Principal};

#[derive(Debug, Clone)]
pub struct Authenticator {
    store: Arc<dyn Store>,
}

impl Authenticator {
    pub fn new(store: Arc<dyn Store>) -> Authenticator {
        Authenticator { store }
    }

    /// The principal behind `Authorization: Bearer <token>`; 401 for anything unknown,
    /// expired or revoked.
    pub async fn authenticate_bearer(&self, token: &str) -> Result<Principal> {
        let record = self.store.find_token_by_hash(&sha256_hex(token)).await?;
        let Some(record) = record else {
            return Err(Error::unauthenticated("Invalid access token."));
        };
        if record.expiry_time_ms.is_some_and(|expiry| expiry <= now_ms()) {
            return Err(Error::unauthenticated("Invalid access token: the token has expired."));
        }
        let principal = self.resolve(record.owner_id).await?;
        principal.ok_or_else(|| Error::unauthenticated("Invalid access token: its owner no longer exists."))
    }

    /// Loads a principal with its direct and transitive groups.
    pub async fn resolve(&self, principal_id: i64) -> Result<Option<Principal>> {
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
        let mut direct_groups = Vec::with_capacity(direct.len());
        for group_id in &direct {
            if let Some(group) = self.store.get_principal(*group_id).await? {
                direct_groups.push((group.id, group.display_name));
            }
        }
        let admins = self.store.find_principal(PrincipalKind::Group, ADMINS_GROUP).await?;
        let is_admin = admins.is_some_and(|group| all.contains(&group.id));
        let mut all_group_ids: Vec<i64> = all.into_iter().collect();
        all_group_ids.sort_unstable();
        Ok(Some(Principal { record, direct_groups, all_group_ids, is_admin }))
    }
}

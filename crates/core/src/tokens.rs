//! Personal access tokens: `/api/2.0/token/{create,list,delete}`. A token value is shown once,
//! at creation; only its SHA-256 hash is stored.

use std::sync::Arc;

use kiln_api::tokens::{
    CreateOboTokenRequest, CreateOboTokenResponse, CreateTokenRequest, CreateTokenResponse, ListPublicTokensResponse, ListTokensQuery,
    PublicTokenInfo, TokenInfo,
};
use kiln_store::{PrincipalKind, Store, TokenRecord};

use crate::authn::PrincipalCache;
use crate::authz::{Authz, ObjectRef, ObjectType};
use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::ids::{random_hex, sha256_hex};
use crate::principal::Caller;

#[derive(Debug, Clone)]
pub struct TokenService {
    store: Arc<dyn Store>,
    authz: Authz,
    workspace_id: i64,
    principals: PrincipalCache,
}

/// The `authorization/tokens` object whose CAN_USE lets a principal create tokens.
pub fn tokens_object() -> ObjectRef {
    let object_type = ObjectType::find("tokens").expect("tokens is a defined object type");
    ObjectRef::new(object_type, "tokens")
}

impl TokenService {
    pub fn new(store: Arc<dyn Store>, authz: Authz, workspace_id: i64, principals: PrincipalCache) -> TokenService {
        TokenService { store, authz, workspace_id, principals }
    }

    pub async fn create(&self, caller: &Caller, request: CreateTokenRequest) -> Result<CreateTokenResponse> {
        // validations
        let lifetime = lifetime_under_policy(self.store.as_ref(), request.lifetime_seconds).await?;
        let (value, record) = new_token(caller.id(), caller.id(), lifetime, request.comment, request.scopes)?;
        // authz
        self.authz.require_permission(caller, "tokens.create", &tokens_object(), "CAN_USE").await?;
        // business logic
        self.store.insert_token(&record).await?;
        Ok(CreateTokenResponse { token_value: value, token_info: public_info(&record) })
    }

    /// The caller's own tokens.
    pub async fn list(&self, caller: &Caller) -> Result<ListPublicTokensResponse> {
        let tokens = self.store.list_tokens(Some(caller.id())).await?;
        Ok(ListPublicTokensResponse { token_infos: tokens.iter().map(public_info).collect() })
    }

    /// Revokes one of the caller's own tokens.
    pub async fn delete(&self, caller: &Caller, token_id: &str) -> Result<()> {
        let token = self.store.get_token(token_id).await?;
        match token {
            Some(token) if token.owner_id == caller.id() => {
                let _invalidate = self.principals.invalidate_when_done();
                self.store.delete_token(token_id).await?;
                Ok(())
            }
            // Someone else's token answers like a missing one.
            _ => Err(Error::not_found(format!("Token with token_id {token_id} does not exist"))),
        }
    }
}

/// The longest lifetime a token may ask for; longer is "never expires" (-1) in all but name.
const MAX_TOKEN_LIFETIME_SECONDS: i64 = 100 * 365 * 86_400;

/// The lifetime a new token gets under the workspace's token policy (workspace-conf): none
/// at all when tokens are disabled; at most `maxTokenLifetimeDays`, which is also what a
/// request without a lifetime gets.
async fn lifetime_under_policy(store: &dyn kiln_store::Store, requested: Option<i64>) -> Result<Option<i64>> {
    let policy = crate::workspace_conf::token_policy(store).await?;
    if !policy.enabled {
        return Err(Error::denied("Personal access tokens are disabled in this workspace (workspace-conf enableTokensConfig is false)."));
    }
    match (policy.max_lifetime_seconds, requested) {
        (Some(max), None | Some(-1)) => Ok(Some(max)),
        (Some(max), Some(seconds)) if seconds > max => Err(Error::invalid(format!(
            "lifetime_seconds {seconds} is longer than this workspace allows: at most {} days (workspace-conf maxTokenLifetimeDays)",
            max / 86_400
        ))),
        (_, requested) => Ok(requested),
    }
}

/// A fresh token value and the record that stores its hash.
fn new_token(
    owner_id: i64,
    created_by_id: i64,
    lifetime_seconds: Option<i64>,
    comment: Option<String>,
    scopes: Option<Vec<String>>,
) -> Result<(String, TokenRecord)> {
    let now = now_ms();
    let expiry_time_ms = match lifetime_seconds {
        None | Some(-1) => None,
        Some(seconds) if (1..=MAX_TOKEN_LIFETIME_SECONDS).contains(&seconds) => Some(now + seconds * 1000),
        Some(seconds) => {
            return Err(Error::invalid(format!("lifetime_seconds must be from 1 to {MAX_TOKEN_LIFETIME_SECONDS} (100 years), or -1 (never expires), got {seconds}")));
        }
    };
    if comment.as_ref().is_some_and(|c| c.len() > 1024) {
        return Err(Error::invalid("comment must be at most 1024 characters"));
    }
    let value = format!("dapi{}", random_hex(16));
    let record = TokenRecord {
        token_id: random_hex(32),
        secret_hash: sha256_hex(&value),
        owner_id,
        created_by_id,
        comment,
        creation_time_ms: now,
        expiry_time_ms,
        scopes,
    };
    Ok((value, record))
}

/// Token management: admins see and revoke every token, and mint tokens for service
/// principals (on-behalf-of).
impl TokenService {
    pub async fn create_on_behalf_of(&self, caller: &Caller, request: CreateOboTokenRequest) -> Result<CreateOboTokenResponse> {
        // validations
        let service_principal = self.store.find_principal(PrincipalKind::ServicePrincipal, &request.application_id).await?;
        // authz
        self.authz.require_admin(caller, "token_management.create_obo", &format!("ServicePrincipal {}", request.application_id)).await?;
        // business logic
        let Some(service_principal) = service_principal else {
            return Err(Error::not_found(format!("Service principal with application_id {} does not exist", request.application_id)));
        };
        let lifetime = lifetime_under_policy(self.store.as_ref(), request.lifetime_seconds).await?;
        let (value, record) = new_token(service_principal.id, caller.id(), lifetime, request.comment, request.scopes)?;
        self.store.insert_token(&record).await?;
        Ok(CreateOboTokenResponse { token_value: value, token_info: self.admin_info(&record).await? })
    }

    pub async fn list_all(&self, caller: &Caller, query: &ListTokensQuery) -> Result<Vec<TokenInfo>> {
        self.authz.require_admin(caller, "token_management.list", "authorization/tokens").await?;
        let created_by_id = match query.created_by_id.as_deref() {
            Some(text) => Some(text.parse::<i64>().map_err(|_| Error::invalid(format!("created_by_id must be an integer, got '{text}'")))?),
            None => None,
        };
        let mut infos = Vec::new();
        for record in self.store.list_tokens(None).await? {
            let info = self.admin_info(&record).await?;
            let by_id = created_by_id.is_none_or(|id| id == info.created_by_id);
            let by_name = query.created_by_username.as_deref().is_none_or(|name| name.eq_ignore_ascii_case(&info.created_by_username));
            if by_id && by_name {
                infos.push(info);
            }
        }
        Ok(infos)
    }

    pub async fn get_any(&self, caller: &Caller, token_id: &str) -> Result<TokenInfo> {
        self.authz.require_admin(caller, "token_management.get", &format!("token {token_id}")).await?;
        let record = self.store.get_token(token_id).await?;
        let record = record.ok_or_else(|| Error::not_found(format!("Token with token_id {token_id} does not exist")))?;
        self.admin_info(&record).await
    }

    pub async fn delete_any(&self, caller: &Caller, token_id: &str) -> Result<()> {
        self.authz.require_admin(caller, "token_management.delete", &format!("token {token_id}")).await?;
        let _invalidate = self.principals.invalidate_when_done();
        if !self.store.delete_token(token_id).await? {
            return Err(Error::not_found(format!("Token with token_id {token_id} does not exist")));
        }
        Ok(())
    }

    async fn admin_info(&self, record: &TokenRecord) -> Result<TokenInfo> {
        let creator = self.store.get_principal(record.created_by_id).await?;
        Ok(TokenInfo {
            token_id: record.token_id.clone(),
            creation_time: record.creation_time_ms,
            expiry_time: record.expiry_time_ms.unwrap_or(-1),
            comment: record.comment.clone(),
            created_by_id: record.created_by_id,
            created_by_username: creator.map(|p| p.name).unwrap_or_default(),
            owner_id: record.owner_id,
            workspace_id: self.workspace_id,
            scopes: record.scopes.clone(),
        })
    }
}

fn public_info(record: &TokenRecord) -> PublicTokenInfo {
    PublicTokenInfo {
        token_id: record.token_id.clone(),
        creation_time: record.creation_time_ms,
        expiry_time: record.expiry_time_ms.unwrap_or(-1),
        comment: record.comment.clone(),
        scopes: record.scopes.clone(),
    }
}

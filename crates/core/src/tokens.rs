//! Personal access tokens: `/api/2.0/token/{create,list,delete}`. A token value is shown once,
//! at creation; only its SHA-256 hash is stored.

use std::sync::Arc;

use kiln_api::tokens::{CreateTokenRequest, CreateTokenResponse, ListPublicTokensResponse, PublicTokenInfo};
use kiln_store::{Store, TokenRecord};

use crate::authz::{Authz, ObjectRef, ObjectType};
use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::ids::{random_hex, sha256_hex};
use crate::principal::Caller;

#[derive(Debug, Clone)]
pub struct TokenService {
    store: Arc<dyn Store>,
    authz: Authz,
}

/// The `authorization/tokens` object whose CAN_USE lets a principal create tokens.
pub fn tokens_object() -> ObjectRef {
    let object_type = ObjectType::find("tokens").expect("tokens is a defined object type");
    ObjectRef::new(object_type, "tokens")
}

impl TokenService {
    pub fn new(store: Arc<dyn Store>, authz: Authz) -> TokenService {
        TokenService { store, authz }
    }

    pub async fn create(&self, caller: &Caller, request: CreateTokenRequest) -> Result<CreateTokenResponse> {
        // validations
        let now = now_ms();
        let expiry_time_ms = match request.lifetime_seconds {
            None | Some(-1) => None,
            Some(seconds) if seconds > 0 => Some(now.saturating_add(seconds.saturating_mul(1000))),
            Some(seconds) => return Err(Error::invalid(format!("lifetime_seconds must be positive or -1 (never expires), got {seconds}"))),
        };
        if request.comment.as_ref().is_some_and(|c| c.len() > 1024) {
            return Err(Error::invalid("comment must be at most 1024 characters"));
        }
        // authz
        self.authz.require_permission(caller, "tokens.create", &tokens_object(), "CAN_USE").await?;
        // business logic
        let value = format!("dapi{}", random_hex(16));
        let record = TokenRecord {
            token_id: random_hex(32),
            secret_hash: sha256_hex(&value),
            owner_id: caller.id(),
            created_by_id: caller.id(),
            comment: request.comment,
            creation_time_ms: now,
            expiry_time_ms,
            scopes: request.scopes,
        };
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
                self.store.delete_token(token_id).await?;
                Ok(())
            }
            // Someone else's token answers like a missing one.
            _ => Err(Error::not_found(format!("Token with token_id {token_id} does not exist"))),
        }
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

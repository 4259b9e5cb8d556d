//! First start of a data directory: the workspace id, the `admins` and `users` groups, the
//! admin user and the admin's personal access token.

use std::sync::Arc;

use kiln_store::{AclEntry, ObjectRecord, PrincipalKind, PrincipalRecord, Store, TokenRecord};

use crate::clock::now_ms;
use crate::error::Result;
use crate::ids::{numeric_id, random_hex, sha256_hex};
use crate::principal::{ADMINS_GROUP, USERS_GROUP};

pub const ADMIN_USER_NAME: &str = "admin@kiln.local";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceInfo {
    pub workspace_id: i64,
    pub account_id: String,
}

/// What bootstrap did about the admin token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminToken {
    /// A new token was minted; its value must be handed to the operator once.
    Minted(String),
    /// The token given by the operator (`KILN_ADMIN_TOKEN`) is registered.
    Provided,
    /// The workspace already had its admin token.
    Existing,
}

/// Idempotent: on an existing workspace it only registers a newly provided admin token.
pub async fn bootstrap(store: &Arc<dyn Store>, provided_admin_token: Option<&str>) -> Result<(WorkspaceInfo, AdminToken)> {
    let workspace_id = store.init_setting("workspace_id", &numeric_id().to_string()).await?;
    let account_id = store.init_setting("account_id", &uuid::Uuid::new_v4().to_string()).await?;
    let admins = ensure_principal(store, group(ADMINS_GROUP)).await?;
    let users = ensure_principal(store, group(USERS_GROUP)).await?;
    let admin = ensure_principal(store, admin_user()).await?;
    store.add_group_members(admins.id, &[admin.id]).await?;
    store.add_group_members(users.id, &[admin.id]).await?;
    register_token_permissions(store, admins.id, users.id).await?;

    let admin_token = match provided_admin_token {
        Some(token) => {
            if store.find_token_by_hash(&sha256_hex(token)).await?.is_none() {
                store.insert_token(&admin_token_record(admin.id, token)).await?;
            }
            AdminToken::Provided
        }
        None => {
            let minted = format!("dapi{}", random_hex(16));
            let first = store.init_setting("admin_token_minted", &sha256_hex(&minted)).await?;
            if first == sha256_hex(&minted) {
                store.insert_token(&admin_token_record(admin.id, &minted)).await?;
                AdminToken::Minted(minted)
            } else {
                AdminToken::Existing
            }
        }
    };
    let info = WorkspaceInfo { workspace_id: workspace_id.parse().unwrap_or_default(), account_id };
    Ok((info, admin_token))
}

/// `authorization/tokens`: admins manage it, and every user may create tokens, as on a new
/// Databricks workspace. Only set on first start, so later ACL changes stick.
async fn register_token_permissions(store: &Arc<dyn Store>, admins_id: i64, users_id: i64) -> Result<()> {
    if store.get_object("tokens", "tokens").await?.is_some() {
        return Ok(());
    }
    store.upsert_object(&ObjectRecord { object_type: "tokens".to_string(), object_id: "tokens".to_string(), parent: None }).await?;
    let entries = [
        AclEntry { principal_id: admins_id, level: "CAN_MANAGE".to_string() },
        AclEntry { principal_id: users_id, level: "CAN_USE".to_string() },
    ];
    store.set_acl("tokens", "tokens", &entries).await?;
    Ok(())
}

async fn ensure_principal(store: &Arc<dyn Store>, wanted: PrincipalRecord) -> Result<PrincipalRecord> {
    if let Some(existing) = store.find_principal(wanted.kind, &wanted.name).await? {
        return Ok(existing);
    }
    store.create_principal(&wanted).await?;
    Ok(wanted)
}

fn group(name: &str) -> PrincipalRecord {
    PrincipalRecord { created_at_ms: now_ms(), ..PrincipalRecord::new(numeric_id(), PrincipalKind::Group, name) }
}

fn admin_user() -> PrincipalRecord {
    PrincipalRecord {
        kind: PrincipalKind::User,
        display_name: "Kiln Admin".to_string(),
        entitlements: vec!["workspace-access".to_string(), "databricks-sql-access".to_string(), "allow-cluster-create".to_string()],
        attributes: serde_json::json!({"emails": [{"value": ADMIN_USER_NAME, "primary": true, "type": "work"}]}),
        ..group(ADMIN_USER_NAME)
    }
}

fn admin_token_record(admin_id: i64, token: &str) -> TokenRecord {
    TokenRecord {
        token_id: random_hex(32),
        secret_hash: sha256_hex(token),
        owner_id: admin_id,
        created_by_id: admin_id,
        comment: Some("admin token created at bootstrap".to_string()),
        creation_time_ms: now_ms(),
        expiry_time_ms: None,
        scopes: None,
    }
}

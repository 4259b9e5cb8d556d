//! SQLite metadata store (WAL, full sync). `":memory:"` gives a private in-memory database on
//! the same code path, for development and tests.
//!
//! Known gaps against the PostgreSQL backend to come: none of the trait's behaviour differs;
//! SQLite serialises writers, so write throughput is bounded by one writer at a time.

mod agents;
mod catalog;
mod compute;
mod jobs;
mod migrations;
mod secrets;
mod sql;
mod workspace;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use kiln_store::*;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Row};

#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Reads; WAL lets them run beside the writer.
    pool: SqlitePool,
    /// Every write, on one connection: writers queue here in order instead of meeting
    /// SQLite's lock, whose busy handler retries by sleeping (up to 100 ms at a time).
    writer: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `path`, or a private in-memory one for
    /// `":memory:"`, and applies pending migrations.
    pub async fn open(path: &str) -> StoreResult<SqliteStore> {
        let in_memory = path == ":memory:";
        let options = if in_memory {
            SqliteConnectOptions::from_str("sqlite::memory:").map_err(backend)?
        } else {
            SqliteConnectOptions::new().filename(path).create_if_missing(true)
        };
        let options = options.synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // WAL is a lasting property of the database file, and switching to it takes a lock that
        // the busy timeout does not cover: switch once, on one connection, before the pool opens
        // several (each running the pragma could fail with "database is locked").
        let options = if in_memory {
            options.journal_mode(SqliteJournalMode::Memory)
        } else {
            let first = sqlx::ConnectOptions::connect(&options.clone().journal_mode(SqliteJournalMode::Wal)).await.map_err(backend)?;
            sqlx::Connection::close(first).await.map_err(backend)?;
            options
        };
        // Every connection to ":memory:" is its own database, so memory mode keeps exactly one.
        let connect = |max_connections: u32| {
            SqlitePoolOptions::new()
                .max_connections(max_connections)
                .min_connections(1)
                // A local file does not drop connections; a ping before every use would only
                // add a round trip to the connection's thread.
                .test_before_acquire(false)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options.clone())
        };
        let writer = connect(1).await.map_err(backend)?;
        let pool = if in_memory { writer.clone() } else { connect(8).await.map_err(backend)? };
        migrations::apply(&writer).await?;
        Ok(SqliteStore { pool, writer })
    }
}

/// A transaction that takes the write lock when it begins. SQLite's default (deferred)
/// transaction takes it at its first write, and if another connection wrote in between it
/// fails at once with "database is locked" instead of waiting out the busy timeout.
async fn write_transaction(pool: &SqlitePool) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
    pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)
}

fn backend(error: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(error.to_string())
}

/// Maps constraint violations to the store's vocabulary; `what` names the object written.
fn write_error(error: sqlx::Error, what: &str) -> StoreError {
    if let sqlx::Error::Database(db_error) = &error {
        match db_error.kind() {
            sqlx::error::ErrorKind::UniqueViolation => return StoreError::AlreadyExists(what.to_string()),
            sqlx::error::ErrorKind::ForeignKeyViolation => return StoreError::NotFound(format!("a principal or object referenced by {what}")),
            _ => {}
        }
    }
    backend(error)
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(backend)
}

fn principal_from_row(row: &SqliteRow) -> StoreResult<PrincipalRecord> {
    let kind_text: String = row.try_get("kind").map_err(backend)?;
    Ok(PrincipalRecord {
        id: row.try_get("id").map_err(backend)?,
        kind: PrincipalKind::parse(&kind_text).ok_or_else(|| backend(format!("unknown principal kind {kind_text}")))?,
        name: row.try_get("name").map_err(backend)?,
        display_name: row.try_get("display_name").map_err(backend)?,
        external_id: row.try_get("external_id").map_err(backend)?,
        active: row.try_get("active").map_err(backend)?,
        entitlements: from_json(row.try_get("entitlements").map_err(backend)?)?,
        roles: from_json(row.try_get("roles").map_err(backend)?)?,
        attributes: from_json(row.try_get("attributes").map_err(backend)?)?,
        created_at_ms: row.try_get("created_at_ms").map_err(backend)?,
    })
}

fn token_from_row(row: &SqliteRow) -> StoreResult<TokenRecord> {
    let scopes: Option<String> = row.try_get("scopes").map_err(backend)?;
    Ok(TokenRecord {
        token_id: row.try_get("token_id").map_err(backend)?,
        secret_hash: row.try_get("secret_hash").map_err(backend)?,
        owner_id: row.try_get("owner_id").map_err(backend)?,
        created_by_id: row.try_get("created_by_id").map_err(backend)?,
        comment: row.try_get("comment").map_err(backend)?,
        creation_time_ms: row.try_get("creation_time_ms").map_err(backend)?,
        expiry_time_ms: row.try_get("expiry_time_ms").map_err(backend)?,
        scopes: scopes.as_deref().map(from_json).transpose()?,
    })
}

fn secret_from_row(row: &SqliteRow) -> StoreResult<OAuthSecretRecord> {
    let scopes: Option<String> = row.try_get("scopes").map_err(backend)?;
    Ok(OAuthSecretRecord {
        id: row.try_get("id").map_err(backend)?,
        principal_id: row.try_get("principal_id").map_err(backend)?,
        secret_phc: row.try_get("secret_phc").map_err(backend)?,
        secret_hash: row.try_get("secret_hash").map_err(backend)?,
        create_time_ms: row.try_get("create_time_ms").map_err(backend)?,
        expire_time_ms: row.try_get("expire_time_ms").map_err(backend)?,
        scopes: scopes.as_deref().map(from_json).transpose()?,
    })
}

fn audit_from_row(row: &SqliteRow) -> StoreResult<AuditEvent> {
    let decision_text: String = row.try_get("decision").map_err(backend)?;
    let status: Option<i64> = row.try_get("status").map_err(backend)?;
    Ok(AuditEvent {
        seq: row.try_get("seq").map_err(backend)?,
        time_ms: row.try_get("time_ms").map_err(backend)?,
        request_id: row.try_get("request_id").map_err(backend)?,
        principal_id: row.try_get("principal_id").map_err(backend)?,
        principal_name: row.try_get("principal_name").map_err(backend)?,
        action: row.try_get("action").map_err(backend)?,
        object: row.try_get("object").map_err(backend)?,
        decision: AuditDecision::parse(&decision_text).ok_or_else(|| backend(format!("unknown decision {decision_text}")))?,
        reason: row.try_get("reason").map_err(backend)?,
        status: status.and_then(|s| u16::try_from(s).ok()),
    })
}

const PRINCIPAL_COLUMNS: &str = "id, kind, name, display_name, external_id, active, entitlements, roles, attributes, created_at_ms";

#[async_trait]
impl IdentityStore for SqliteStore {
    async fn create_principal(&self, principal: &PrincipalRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO principals (id, kind, name, display_name, external_id, active, entitlements, roles, attributes, created_at_ms)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(principal.id)
        .bind(principal.kind.as_str())
        .bind(&principal.name)
        .bind(&principal.display_name)
        .bind(&principal.external_id)
        .bind(principal.active)
        .bind(to_json(&principal.entitlements))
        .bind(to_json(&principal.roles))
        .bind(to_json(&principal.attributes))
        .bind(principal.created_at_ms)
        .execute(&self.writer)
        .await
        .map_err(|e| write_error(e, &format!("{} {}", principal.kind.as_str(), principal.name)))?;
        Ok(())
    }

    async fn get_principal(&self, id: i64) -> StoreResult<Option<PrincipalRecord>> {
        let sql = format!("SELECT {PRINCIPAL_COLUMNS} FROM principals WHERE id = ?");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(principal_from_row).transpose()
    }

    async fn find_principal(&self, kind: PrincipalKind, name: &str) -> StoreResult<Option<PrincipalRecord>> {
        let sql = format!("SELECT {PRINCIPAL_COLUMNS} FROM principals WHERE kind = ? AND name = ? COLLATE NOCASE");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(kind.as_str()).bind(name).fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(principal_from_row).transpose()
    }

    async fn list_principals(&self, kind: PrincipalKind) -> StoreResult<Vec<PrincipalRecord>> {
        let sql = format!("SELECT {PRINCIPAL_COLUMNS} FROM principals WHERE kind = ? ORDER BY id");
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(kind.as_str()).fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(principal_from_row).collect()
    }

    async fn update_principal(&self, principal: &PrincipalRecord) -> StoreResult<()> {
        let result = sqlx::query(
            "UPDATE principals SET name = ?, display_name = ?, external_id = ?, active = ?, entitlements = ?, roles = ?, attributes = ?
             WHERE id = ?",
        )
        .bind(&principal.name)
        .bind(&principal.display_name)
        .bind(&principal.external_id)
        .bind(principal.active)
        .bind(to_json(&principal.entitlements))
        .bind(to_json(&principal.roles))
        .bind(to_json(&principal.attributes))
        .bind(principal.id)
        .execute(&self.writer)
        .await
        .map_err(|e| write_error(e, &format!("{} {}", principal.kind.as_str(), principal.name)))?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("principal {}", principal.id)));
        }
        Ok(())
    }

    async fn delete_principal(&self, id: i64) -> StoreResult<bool> {
        // Memberships, tokens, secrets and ACL entries go by ON DELETE CASCADE.
        let result = sqlx::query("DELETE FROM principals WHERE id = ?").bind(id).execute(&self.writer).await.map_err(backend)?;
        Ok(result.rows_affected() > 0)
    }

    async fn set_group_members(&self, group_id: i64, member_ids: &[i64]) -> StoreResult<()> {
        let mut tx = write_transaction(&self.writer).await?;
        sqlx::query("DELETE FROM group_members WHERE group_id = ?").bind(group_id).execute(&mut *tx).await.map_err(backend)?;
        insert_members(&mut tx, group_id, member_ids).await?;
        tx.commit().await.map_err(backend)
    }

    async fn add_group_members(&self, group_id: i64, member_ids: &[i64]) -> StoreResult<()> {
        let mut tx = write_transaction(&self.writer).await?;
        insert_members(&mut tx, group_id, member_ids).await?;
        tx.commit().await.map_err(backend)
    }

    async fn remove_group_members(&self, group_id: i64, member_ids: &[i64]) -> StoreResult<()> {
        let mut tx = write_transaction(&self.writer).await?;
        for member_id in member_ids {
            sqlx::query("DELETE FROM group_members WHERE group_id = ? AND member_id = ?")
                .bind(group_id)
                .bind(member_id)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn group_members(&self, group_id: i64) -> StoreResult<Vec<i64>> {
        let rows = sqlx::query("SELECT member_id FROM group_members WHERE group_id = ? ORDER BY member_id")
            .bind(group_id)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(|row| row.try_get("member_id").map_err(backend)).collect()
    }

    async fn all_memberships(&self) -> StoreResult<Vec<Membership>> {
        let rows = sqlx::query("SELECT group_id, member_id FROM group_members ORDER BY group_id, member_id")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|row| Ok(Membership { group_id: row.try_get("group_id").map_err(backend)?, member_id: row.try_get("member_id").map_err(backend)? }))
            .collect()
    }
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn insert_token(&self, token: &TokenRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO tokens (token_id, secret_hash, owner_id, created_by_id, comment, creation_time_ms, expiry_time_ms, scopes)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&token.token_id)
        .bind(&token.secret_hash)
        .bind(token.owner_id)
        .bind(token.created_by_id)
        .bind(&token.comment)
        .bind(token.creation_time_ms)
        .bind(token.expiry_time_ms)
        .bind(token.scopes.as_ref().map(to_json))
        .execute(&self.writer)
        .await
        .map_err(|e| write_error(e, &format!("token {}", token.token_id)))?;
        Ok(())
    }

    async fn find_token_by_hash(&self, secret_hash: &str) -> StoreResult<Option<TokenRecord>> {
        let row = sqlx::query("SELECT * FROM tokens WHERE secret_hash = ?").bind(secret_hash).fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn get_token(&self, token_id: &str) -> StoreResult<Option<TokenRecord>> {
        let row = sqlx::query("SELECT * FROM tokens WHERE token_id = ?").bind(token_id).fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn list_tokens(&self, owner_id: Option<i64>) -> StoreResult<Vec<TokenRecord>> {
        let rows = match owner_id {
            Some(owner_id) => sqlx::query("SELECT * FROM tokens WHERE owner_id = ? ORDER BY creation_time_ms, token_id").bind(owner_id).fetch_all(&self.pool).await,
            None => sqlx::query("SELECT * FROM tokens ORDER BY creation_time_ms, token_id").fetch_all(&self.pool).await,
        }
        .map_err(backend)?;
        rows.iter().map(token_from_row).collect()
    }

    async fn delete_token(&self, token_id: &str) -> StoreResult<bool> {
        let result = sqlx::query("DELETE FROM tokens WHERE token_id = ?").bind(token_id).execute(&self.writer).await.map_err(backend)?;
        Ok(result.rows_affected() > 0)
    }
}

#[async_trait]
impl OAuthSecretStore for SqliteStore {
    async fn insert_oauth_secret(&self, secret: &OAuthSecretRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO oauth_secrets (id, principal_id, secret_phc, secret_hash, create_time_ms, expire_time_ms, scopes)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&secret.id)
        .bind(secret.principal_id)
        .bind(&secret.secret_phc)
        .bind(&secret.secret_hash)
        .bind(secret.create_time_ms)
        .bind(secret.expire_time_ms)
        .bind(secret.scopes.as_ref().map(to_json))
        .execute(&self.writer)
        .await
        .map_err(|e| write_error(e, &format!("secret {}", secret.id)))?;
        Ok(())
    }

    async fn list_oauth_secrets(&self, principal_id: i64) -> StoreResult<Vec<OAuthSecretRecord>> {
        let rows = sqlx::query("SELECT * FROM oauth_secrets WHERE principal_id = ? ORDER BY create_time_ms, id")
            .bind(principal_id)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(secret_from_row).collect()
    }

    async fn delete_oauth_secret(&self, principal_id: i64, secret_id: &str) -> StoreResult<bool> {
        let result = sqlx::query("DELETE FROM oauth_secrets WHERE principal_id = ? AND id = ?")
            .bind(principal_id)
            .bind(secret_id)
            .execute(&self.writer)
            .await
            .map_err(backend)?;
        Ok(result.rows_affected() > 0)
    }
}

#[async_trait]
impl AclStore for SqliteStore {
    async fn upsert_object(&self, object: &ObjectRecord) -> StoreResult<()> {
        let (parent_type, parent_id) = match &object.parent {
            Some((parent_type, parent_id)) => (Some(parent_type.as_str()), Some(parent_id.as_str())),
            None => (None, None),
        };
        sqlx::query(
            "INSERT INTO acl_objects (object_type, object_id, parent_type, parent_id) VALUES (?, ?, ?, ?)
             ON CONFLICT (object_type, object_id) DO UPDATE SET parent_type = excluded.parent_type, parent_id = excluded.parent_id",
        )
        .bind(&object.object_type)
        .bind(&object.object_id)
        .bind(parent_type)
        .bind(parent_id)
        .execute(&self.writer)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn get_object(&self, object_type: &str, object_id: &str) -> StoreResult<Option<ObjectRecord>> {
        let row = sqlx::query("SELECT object_type, object_id, parent_type, parent_id FROM acl_objects WHERE object_type = ? AND object_id = ?")
            .bind(object_type)
            .bind(object_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let parent_type: Option<String> = row.try_get("parent_type").map_err(backend)?;
        let parent_id: Option<String> = row.try_get("parent_id").map_err(backend)?;
        Ok(Some(ObjectRecord {
            object_type: row.try_get("object_type").map_err(backend)?,
            object_id: row.try_get("object_id").map_err(backend)?,
            parent: parent_type.zip(parent_id),
        }))
    }

    async fn delete_object(&self, object_type: &str, object_id: &str) -> StoreResult<bool> {
        let result = sqlx::query("DELETE FROM acl_objects WHERE object_type = ? AND object_id = ?")
            .bind(object_type)
            .bind(object_id)
            .execute(&self.writer)
            .await
            .map_err(backend)?;
        Ok(result.rows_affected() > 0)
    }

    async fn get_acl(&self, object_type: &str, object_id: &str) -> StoreResult<Vec<AclEntry>> {
        let rows = sqlx::query("SELECT principal_id, level FROM acl_entries WHERE object_type = ? AND object_id = ? ORDER BY principal_id")
            .bind(object_type)
            .bind(object_id)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|row| Ok(AclEntry { principal_id: row.try_get("principal_id").map_err(backend)?, level: row.try_get("level").map_err(backend)? }))
            .collect()
    }

    async fn set_acl(&self, object_type: &str, object_id: &str, entries: &[AclEntry]) -> StoreResult<()> {
        let mut tx = write_transaction(&self.writer).await?;
        sqlx::query("DELETE FROM acl_entries WHERE object_type = ? AND object_id = ?")
            .bind(object_type)
            .bind(object_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        upsert_acl_entries(&mut tx, object_type, object_id, entries).await?;
        tx.commit().await.map_err(backend)
    }

    async fn merge_acl(&self, object_type: &str, object_id: &str, entries: &[AclEntry]) -> StoreResult<()> {
        let mut tx = write_transaction(&self.writer).await?;
        upsert_acl_entries(&mut tx, object_type, object_id, entries).await?;
        tx.commit().await.map_err(backend)
    }
}

async fn upsert_acl_entries(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    object_type: &str,
    object_id: &str,
    entries: &[AclEntry],
) -> StoreResult<()> {
    for entry in entries {
        sqlx::query(
            "INSERT INTO acl_entries (object_type, object_id, principal_id, level) VALUES (?, ?, ?, ?)
             ON CONFLICT (object_type, object_id, principal_id) DO UPDATE SET level = excluded.level",
        )
        .bind(object_type)
        .bind(object_id)
        .bind(entry.principal_id)
        .bind(&entry.level)
        .execute(&mut **tx)
        .await
        .map_err(|e| write_error(e, &format!("ACL of {object_type}/{object_id}")))?;
    }
    Ok(())
}

async fn insert_members(tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>, group_id: i64, member_ids: &[i64]) -> StoreResult<()> {
    for member_id in member_ids {
        sqlx::query("INSERT OR IGNORE INTO group_members (group_id, member_id) VALUES (?, ?)")
            .bind(group_id)
            .bind(member_id)
            .execute(&mut **tx)
            .await
            .map_err(|e| write_error(e, &format!("membership of {member_id} in group {group_id}")))?;
    }
    Ok(())
}

/// Appends a batch in one statement with one parameter (the batch as a JSON array of rows),
/// so the statement is prepared once and a commit costs one call however many rows it holds.
/// A single statement commits on its own and leaves no transaction open if it fails.
const APPEND_AUDIT_EVENTS: &str = "INSERT INTO audit_events
       (time_ms, request_id, principal_id, principal_name, action, object, decision, reason, status)
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8
     FROM json_each(?) ORDER BY key";

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit_events(&self, events: &[AuditEvent]) -> StoreResult<()> {
        let rows: Vec<_> = events
            .iter()
            .map(|e| (e.time_ms, &e.request_id, e.principal_id, &e.principal_name, &e.action, &e.object, e.decision.as_str(), &e.reason, e.status))
            .collect();
        sqlx::query(APPEND_AUDIT_EVENTS).bind(to_json(&rows)).execute(&self.writer).await.map_err(backend)?;
        Ok(())
    }

    async fn list_audit_events(&self, filter: &AuditFilter, after_seq: i64, limit: usize) -> StoreResult<Vec<AuditEvent>> {
        let rows = sqlx::query(
            "SELECT * FROM audit_events
             WHERE seq > ?
               AND (? IS NULL OR principal_id = ?)
               AND (? IS NULL OR request_id = ?)
               AND (? IS NULL OR decision = ?)
               AND (? IS NULL OR substr(action, 1, length(?)) = ?)
             ORDER BY seq LIMIT ?",
        )
        .bind(after_seq)
        .bind(filter.principal_id)
        .bind(filter.principal_id)
        .bind(&filter.request_id)
        .bind(&filter.request_id)
        .bind(filter.decision.map(AuditDecision::as_str))
        .bind(filter.decision.map(AuditDecision::as_str))
        .bind(&filter.action_prefix)
        .bind(&filter.action_prefix)
        .bind(&filter.action_prefix)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(audit_from_row).collect()
    }
}

#[async_trait]
impl SettingsStore for SqliteStore {
    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = ?").bind(key).fetch_optional(&self.pool).await.map_err(backend)?;
        row.map(|row| row.try_get("value").map_err(backend)).transpose()
    }

    async fn init_setting(&self, key: &str, value: &str) -> StoreResult<String> {
        sqlx::query("INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)").bind(key).bind(value).execute(&self.writer).await.map_err(backend)?;
        let stored = self.get_setting(key).await?;
        stored.ok_or_else(|| backend(format!("setting {key} vanished after insert")))
    }

    async fn put_setting(&self, key: &str, value: Option<&str>) -> StoreResult<()> {
        let query = match value {
            Some(value) => sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").bind(key).bind(value),
            None => sqlx::query("DELETE FROM settings WHERE key = ?").bind(key),
        };
        query.execute(&self.writer).await.map_err(backend)?;
        Ok(())
    }
}

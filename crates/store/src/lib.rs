//! Metadata store contract. Every backend (SQLite today, PostgreSQL later) implements
//! [`Store`] and must pass the conformance suite in [`testkit`].
//!
//! Contract every implementor keeps:
//! - each method is atomic: it commits all of its effect or none of it;
//! - a method that writes returns only after the write is durable;
//! - names that must be unique are compared case-insensitively (Databricks user names and
//!   group names are), and a clash is [`StoreError::AlreadyExists`];
//! - lists are returned in a stable order (by id unless the method says otherwise).

mod error;
mod records;

#[cfg(feature = "testkit")]
pub mod testkit;

pub use error::StoreError;
pub use records::*;

use async_trait::async_trait;

pub type StoreResult<T> = Result<T, StoreError>;

/// Users, service principals, groups and group membership.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Inserts a principal with the id it carries.
    async fn create_principal(&self, principal: &PrincipalRecord) -> StoreResult<()>;
    async fn get_principal(&self, id: i64) -> StoreResult<Option<PrincipalRecord>>;
    /// Looks a principal up by its unique name within its kind (user name, application id,
    /// group display name), case-insensitively.
    async fn find_principal(&self, kind: PrincipalKind, name: &str) -> StoreResult<Option<PrincipalRecord>>;
    /// A principal by the name grants, owners and ACLs use, whatever its kind: a user name,
    /// then an application id, then a group name.
    async fn find_principal_by_name(&self, name: &str) -> StoreResult<Option<PrincipalRecord>> {
        for kind in [PrincipalKind::User, PrincipalKind::ServicePrincipal, PrincipalKind::Group] {
            if let Some(principal) = self.find_principal(kind, name).await? {
                return Ok(Some(principal));
            }
        }
        Ok(None)
    }
    async fn list_principals(&self, kind: PrincipalKind) -> StoreResult<Vec<PrincipalRecord>>;
    /// Replaces every stored attribute of the principal with the given id.
    async fn update_principal(&self, principal: &PrincipalRecord) -> StoreResult<()>;
    /// Deletes the principal, its memberships (both ways), tokens, OAuth secrets and ACL
    /// entries. Returns false when it did not exist.
    async fn delete_principal(&self, id: i64) -> StoreResult<bool>;
    /// Replaces the direct members of a group.
    async fn set_group_members(&self, group_id: i64, member_ids: &[i64]) -> StoreResult<()>;
    async fn add_group_members(&self, group_id: i64, member_ids: &[i64]) -> StoreResult<()>;
    async fn remove_group_members(&self, group_id: i64, member_ids: &[i64]) -> StoreResult<()>;
    /// Direct members of a group.
    async fn group_members(&self, group_id: i64) -> StoreResult<Vec<i64>>;
    /// Every membership edge in the workspace, for computing transitive groups.
    async fn all_memberships(&self) -> StoreResult<Vec<Membership>>;
}

/// Personal access tokens. Only a hash of the secret part is ever stored.
#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn insert_token(&self, token: &TokenRecord) -> StoreResult<()>;
    async fn find_token_by_hash(&self, secret_hash: &str) -> StoreResult<Option<TokenRecord>>;
    async fn get_token(&self, token_id: &str) -> StoreResult<Option<TokenRecord>>;
    /// All tokens, or those owned by one principal, oldest first.
    async fn list_tokens(&self, owner_id: Option<i64>) -> StoreResult<Vec<TokenRecord>>;
    async fn delete_token(&self, token_id: &str) -> StoreResult<bool>;
}

/// OAuth client secrets of service principals, stored as password hashes.
#[async_trait]
pub trait OAuthSecretStore: Send + Sync {
    async fn insert_oauth_secret(&self, secret: &OAuthSecretRecord) -> StoreResult<()>;
    /// Secrets of one principal, oldest first.
    async fn list_oauth_secrets(&self, principal_id: i64) -> StoreResult<Vec<OAuthSecretRecord>>;
    async fn delete_oauth_secret(&self, principal_id: i64, secret_id: &str) -> StoreResult<bool>;
}

/// Securable workspace objects (jobs, clusters, directories, ...) and their direct ACLs.
#[async_trait]
pub trait AclStore: Send + Sync {
    /// Registers an object or changes its parent.
    async fn upsert_object(&self, object: &ObjectRecord) -> StoreResult<()>;
    async fn get_object(&self, object_type: &str, object_id: &str) -> StoreResult<Option<ObjectRecord>>;
    /// Deletes the object and its ACL. Returns false when it did not exist.
    async fn delete_object(&self, object_type: &str, object_id: &str) -> StoreResult<bool>;
    /// The direct ACL, ordered by principal id.
    async fn get_acl(&self, object_type: &str, object_id: &str) -> StoreResult<Vec<AclEntry>>;
    /// Replaces the direct ACL.
    async fn set_acl(&self, object_type: &str, object_id: &str, entries: &[AclEntry]) -> StoreResult<()>;
    /// Sets the level of each given principal, leaving other entries alone.
    async fn merge_acl(&self, object_type: &str, object_id: &str, entries: &[AclEntry]) -> StoreResult<()>;
}

/// Secret scopes and their encrypted secrets. Scope names are unique case-sensitively, as on
/// Databricks; deleting a scope deletes its secrets.
#[async_trait]
pub trait SecretStore: Send + Sync {
    async fn create_secret_scope(&self, scope: &SecretScopeRecord) -> StoreResult<()>;
    /// All scopes, by name.
    async fn list_secret_scopes(&self) -> StoreResult<Vec<SecretScopeRecord>>;
    async fn get_secret_scope(&self, name: &str) -> StoreResult<Option<SecretScopeRecord>>;
    /// Returns false when the scope did not exist.
    async fn delete_secret_scope(&self, name: &str) -> StoreResult<bool>;
    /// Inserts or replaces the secret; the scope must exist.
    async fn put_secret(&self, secret: &SecretRecord) -> StoreResult<()>;
    async fn get_secret(&self, scope: &str, key: &str) -> StoreResult<Option<SecretRecord>>;
    /// The scope's secrets, by key.
    async fn list_secrets(&self, scope: &str) -> StoreResult<Vec<SecretRecord>>;
    /// Returns false when the secret did not exist.
    async fn delete_secret(&self, scope: &str, key: &str) -> StoreResult<bool>;
}

/// The workspace tree (directories, notebooks, files). Paths are unique case-sensitively,
/// as on Databricks.
#[async_trait]
pub trait WorkspaceStore: Send + Sync {
    /// Fails with `AlreadyExists` when the path is taken.
    async fn insert_workspace_object(&self, object: &WorkspaceObjectRecord) -> StoreResult<()>;
    async fn get_workspace_object(&self, path: &str) -> StoreResult<Option<WorkspaceObjectRecord>>;
    /// The direct children of a directory, by path.
    async fn list_workspace_children(&self, parent_path: &str) -> StoreResult<Vec<WorkspaceObjectRecord>>;
    /// Replaces the kind, language, size and modification time of the object with this id.
    async fn update_workspace_object(&self, object: &WorkspaceObjectRecord) -> StoreResult<()>;
    /// Deletes the object at `path` and everything below it; returns what was deleted.
    async fn delete_workspace_subtree(&self, path: &str) -> StoreResult<Vec<WorkspaceObjectRecord>>;
}

/// Clusters and their event logs; deleting a cluster deletes its events.
#[async_trait]
pub trait ComputeStore: Send + Sync {
    async fn insert_cluster(&self, cluster: &ClusterRecord) -> StoreResult<()>;
    async fn get_cluster(&self, cluster_id: &str) -> StoreResult<Option<ClusterRecord>>;
    /// All clusters, by creation time.
    async fn list_clusters(&self) -> StoreResult<Vec<ClusterRecord>>;
    async fn update_cluster(&self, cluster: &ClusterRecord) -> StoreResult<()>;
    /// Returns false when the cluster did not exist.
    async fn delete_cluster(&self, cluster_id: &str) -> StoreResult<bool>;
    async fn append_cluster_event(&self, event: &ClusterEventRecord) -> StoreResult<()>;
    /// Matching events in time order (or newest first), skipping `offset`, at most `limit`,
    /// with the number of all matching events.
    async fn list_cluster_events(&self, cluster_id: &str, filter: &ClusterEventFilter, offset: usize, limit: usize) -> StoreResult<(Vec<ClusterEventRecord>, usize)>;
}

/// Jobs, their runs (task runs point to their parent run), run outputs and task values.
#[async_trait]
pub trait JobStore: Send + Sync {
    async fn insert_job(&self, job: &JobRecord) -> StoreResult<()>;
    async fn get_job(&self, job_id: i64) -> StoreResult<Option<JobRecord>>;
    /// All jobs, by id.
    async fn list_jobs(&self) -> StoreResult<Vec<JobRecord>>;
    async fn update_job(&self, job: &JobRecord) -> StoreResult<()>;
    /// Returns false when the job did not exist. Its runs stay.
    async fn delete_job(&self, job_id: i64) -> StoreResult<bool>;

    async fn insert_run(&self, run: &RunRecord) -> StoreResult<()>;
    async fn get_run(&self, run_id: i64) -> StoreResult<Option<RunRecord>>;
    async fn update_run(&self, run: &RunRecord) -> StoreResult<()>;
    /// Matching top-level runs, newest start first, skipping `offset`, at most `limit`.
    async fn list_runs(&self, filter: &RunFilter, offset: usize, limit: usize) -> StoreResult<Vec<RunRecord>>;
    /// The task runs of a run, in the order they were created.
    async fn list_task_runs(&self, parent_run_id: i64) -> StoreResult<Vec<RunRecord>>;
    /// The run of `job_id` (or of no job) started with this idempotency token, if any.
    async fn find_run_by_token(&self, job_id: Option<i64>, token: &str) -> StoreResult<Option<RunRecord>>;
    /// Deletes the run with its task runs, outputs and task values.
    async fn delete_run(&self, run_id: i64) -> StoreResult<bool>;

    async fn put_run_output(&self, run_id: i64, output: &serde_json::Value) -> StoreResult<()>;
    async fn get_run_output(&self, run_id: i64) -> StoreResult<Option<serde_json::Value>>;
    /// A task value set by `task_key` in the run `run_id` (the top-level run).
    async fn put_task_value(&self, run_id: i64, task_key: &str, key: &str, value: &str) -> StoreResult<()>;
    async fn get_task_value(&self, run_id: i64, task_key: &str, key: &str) -> StoreResult<Option<String>>;
}

/// Agents' access policies, with every revision.
#[async_trait]
pub trait AgentStore: Send + Sync {
    /// Records `policy` (`None` removes it) as the principal's next revision and returns it.
    async fn put_agent_policy(&self, principal_id: i64, policy: Option<&serde_json::Value>, changed_at_ms: i64, changed_by: &str) -> StoreResult<AgentPolicyRecord>;
    /// The principal's latest revision, unless it removed the policy.
    async fn get_agent_policy(&self, principal_id: i64) -> StoreResult<Option<AgentPolicyRecord>>;
    /// One revision, current or past (a removal included).
    async fn get_agent_policy_revision(&self, principal_id: i64, revision: i64) -> StoreResult<Option<AgentPolicyRecord>>;
    /// Every principal's latest revision that holds a policy, by principal id.
    async fn list_agent_policies(&self) -> StoreResult<Vec<AgentPolicyRecord>>;
}

/// The append-only audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends events in order, all or none.
    async fn append_audit_events(&self, events: &[AuditEvent]) -> StoreResult<()>;
    /// Events with `seq > after_seq` matching the filter, oldest first, at most `limit`.
    async fn list_audit_events(&self, filter: &AuditFilter, after_seq: i64, limit: usize) -> StoreResult<Vec<AuditEvent>>;
}

/// Small workspace-wide settings: the workspace id, bootstrap markers.
#[async_trait]
pub trait SettingsStore: Send + Sync {
    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>>;
    /// Inserts the setting only if it is absent; returns the value now stored.
    async fn init_setting(&self, key: &str, value: &str) -> StoreResult<String>;
    /// Sets the setting, or removes it with `None`.
    async fn put_setting(&self, key: &str, value: Option<&str>) -> StoreResult<()>;
}

/// Unity Catalog securables (metastore, catalogs, schemas, tables, volumes, functions) as
/// one tree, and the privileges granted on them.
#[async_trait]
pub trait CatalogStore: Send + Sync {
    /// Inserts a securable; a sibling of the same kind and name is [`StoreError::AlreadyExists`].
    async fn insert_securable(&self, securable: &SecurableRecord) -> StoreResult<()>;
    async fn get_securable(&self, id: &str) -> StoreResult<Option<SecurableRecord>>;
    /// The child of `parent_id` with this kind and name (case-insensitive); the metastore
    /// is the child of `None`.
    async fn find_securable(&self, parent_id: Option<&str>, kind: SecurableKind, name: &str) -> StoreResult<Option<SecurableRecord>>;
    /// Children of one securable, of one kind or all kinds, ordered by name.
    async fn list_securables(&self, parent_id: &str, kind: Option<SecurableKind>) -> StoreResult<Vec<SecurableRecord>>;
    /// Replaces name, owner, comment, properties, spec and update stamps; a rename onto a
    /// sibling's name is [`StoreError::AlreadyExists`], a missing id [`StoreError::NotFound`].
    async fn update_securable(&self, securable: &SecurableRecord) -> StoreResult<()>;
    /// Deletes the securable with all its descendants and their grants; false when absent.
    async fn delete_securable(&self, id: &str) -> StoreResult<bool>;
    /// Grants on any of these securables, ordered by securable, principal, privilege.
    async fn list_grants(&self, securable_ids: &[String]) -> StoreResult<Vec<GrantRecord>>;
    /// Adds and removes grants in one transaction; adding a held grant or removing a
    /// missing one is not an error.
    async fn change_grants(&self, add: &[GrantRecord], remove: &[GrantRecord]) -> StoreResult<()>;
}

/// SQL warehouses and the query history of their statements.
#[async_trait]
pub trait SqlStore: Send + Sync {
    /// Inserts a warehouse; a clash of names (case-insensitive) is [`StoreError::AlreadyExists`].
    async fn insert_warehouse(&self, warehouse: &WarehouseRecord) -> StoreResult<()>;
    async fn get_warehouse(&self, id: &str) -> StoreResult<Option<WarehouseRecord>>;
    /// Every warehouse, oldest first.
    async fn list_warehouses(&self) -> StoreResult<Vec<WarehouseRecord>>;
    /// Replaces name, state, spec and activity time; [`StoreError::NotFound`] when absent.
    async fn update_warehouse(&self, warehouse: &WarehouseRecord) -> StoreResult<()>;
    async fn delete_warehouse(&self, id: &str) -> StoreResult<bool>;
    /// Inserts or replaces query history entries by `query_id`, all in one transaction.
    async fn upsert_queries(&self, queries: &[QueryRecord]) -> StoreResult<()>;
    /// Matching queries, newest start first, skipping `offset`, at most `limit`.
    async fn list_queries(&self, filter: &QueryFilter, offset: usize, limit: usize) -> StoreResult<Vec<QueryRecord>>;

    async fn insert_saved_query(&self, query: &SavedQueryRecord) -> StoreResult<()>;
    async fn get_saved_query(&self, id: &str) -> StoreResult<Option<SavedQueryRecord>>;
    /// All saved queries, oldest first.
    async fn list_saved_queries(&self) -> StoreResult<Vec<SavedQueryRecord>>;
    async fn update_saved_query(&self, query: &SavedQueryRecord) -> StoreResult<()>;
    /// Returns false when the query did not exist.
    async fn delete_saved_query(&self, id: &str) -> StoreResult<bool>;
}

/// Everything a Kiln node keeps in its metadata database.
pub trait Store: AgentStore + IdentityStore + TokenStore + OAuthSecretStore + AclStore + AuditStore + SettingsStore + CatalogStore + SqlStore + SecretStore + WorkspaceStore + ComputeStore + JobStore + std::fmt::Debug {}

impl<T> Store for T where T: AgentStore + IdentityStore + TokenStore + OAuthSecretStore + AclStore + AuditStore + SettingsStore + CatalogStore + SqlStore + SecretStore + WorkspaceStore + ComputeStore + JobStore + std::fmt::Debug {}

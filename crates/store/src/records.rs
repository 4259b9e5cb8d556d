use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PrincipalKind {
    User,
    ServicePrincipal,
    Group,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::User => "user",
            PrincipalKind::ServicePrincipal => "service_principal",
            PrincipalKind::Group => "group",
        }
    }

    pub fn parse(text: &str) -> Option<PrincipalKind> {
        match text {
            "user" => Some(PrincipalKind::User),
            "service_principal" => Some(PrincipalKind::ServicePrincipal),
            "group" => Some(PrincipalKind::Group),
            _ => None,
        }
    }
}

/// A user, service principal or group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrincipalRecord {
    pub id: i64,
    pub kind: PrincipalKind,
    /// The unique name within the kind: `userName` of a user, `applicationId` of a service
    /// principal, `displayName` of a group.
    pub name: String,
    pub display_name: String,
    pub external_id: Option<String>,
    pub active: bool,
    /// Entitlement values such as `workspace-access` or `allow-cluster-create`.
    pub entitlements: Vec<String>,
    pub roles: Vec<String>,
    /// Wire attributes the store does not interpret (emails, name), kept as given.
    pub attributes: serde_json::Value,
    pub created_at_ms: i64,
}

impl PrincipalRecord {
    /// An active principal with no entitlements, roles or attributes; `name` is also its
    /// display name.
    pub fn new(id: i64, kind: PrincipalKind, name: &str) -> PrincipalRecord {
        PrincipalRecord {
            id,
            kind,
            name: name.to_string(),
            display_name: name.to_string(),
            external_id: None,
            active: true,
            entitlements: Vec::new(),
            roles: Vec::new(),
            attributes: serde_json::json!({}),
            created_at_ms: 0,
        }
    }
}

/// `member_id` is a direct member of `group_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub group_id: i64,
    pub member_id: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub token_id: String,
    /// SHA-256 of the token value, hex.
    pub secret_hash: String,
    pub owner_id: i64,
    pub created_by_id: i64,
    pub comment: Option<String>,
    pub creation_time_ms: i64,
    /// `None` means the token never expires.
    pub expiry_time_ms: Option<i64>,
    pub scopes: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OAuthSecretRecord {
    pub id: String,
    pub principal_id: i64,
    /// PHC-format password hash of the secret.
    pub secret_phc: String,
    /// Short non-reversible fingerprint shown to users in place of the secret.
    pub secret_hash: String,
    pub create_time_ms: i64,
    pub expire_time_ms: i64,
    pub scopes: Option<Vec<String>>,
}

/// A secret scope (Databricks-backed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretScopeRecord {
    pub name: String,
    pub created_at_ms: i64,
    pub created_by: String,
}

/// A secret, encrypted by the service before it reaches the store: the store never holds a
/// plain value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretRecord {
    pub scope: String,
    pub key: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub updated_at_ms: i64,
}

/// A securable workspace object. `parent` gives inheritance, e.g. a notebook's directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRecord {
    pub object_type: String,
    pub object_id: String,
    pub parent: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AclEntry {
    pub principal_id: i64,
    pub level: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditDecision {
    /// A request that passed authentication, before any authorization.
    Request,
    Allow,
    Deny,
}

impl AuditDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditDecision::Request => "request",
            AuditDecision::Allow => "allow",
            AuditDecision::Deny => "deny",
        }
    }

    pub fn parse(text: &str) -> Option<AuditDecision> {
        match text {
            "request" => Some(AuditDecision::Request),
            "allow" => Some(AuditDecision::Allow),
            "deny" => Some(AuditDecision::Deny),
            _ => None,
        }
    }
}

/// One audit line. Never carries a token, secret or request body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Assigned by the store on append; ignored on input.
    pub seq: i64,
    pub time_ms: i64,
    pub request_id: String,
    pub principal_id: Option<i64>,
    pub principal_name: Option<String>,
    pub action: String,
    pub object: String,
    pub decision: AuditDecision,
    pub reason: String,
    pub status: Option<u16>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub principal_id: Option<i64>,
    pub request_id: Option<String>,
    pub decision: Option<AuditDecision>,
    pub action_prefix: Option<String>,
}

/// The kinds of Unity Catalog securables, in one tree rooted at the metastore. Views are
/// tables whose spec says `VIEW`: they share the tables' namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SecurableKind {
    Metastore,
    Catalog,
    Schema,
    Table,
    Volume,
    Function,
}

impl SecurableKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SecurableKind::Metastore => "metastore",
            SecurableKind::Catalog => "catalog",
            SecurableKind::Schema => "schema",
            SecurableKind::Table => "table",
            SecurableKind::Volume => "volume",
            SecurableKind::Function => "function",
        }
    }

    pub fn parse(text: &str) -> Option<SecurableKind> {
        [
            SecurableKind::Metastore,
            SecurableKind::Catalog,
            SecurableKind::Schema,
            SecurableKind::Table,
            SecurableKind::Volume,
            SecurableKind::Function,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

/// One securable. Names are unique per (parent, kind), compared case-insensitively; the
/// full name is the chain of names below the metastore, so renames touch one row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurableRecord {
    pub id: String,
    pub kind: SecurableKind,
    pub parent_id: Option<String>,
    pub name: String,
    /// The owning principal's name (user name, application id or group name).
    pub owner: String,
    pub comment: Option<String>,
    /// String-to-string properties as the API shows them.
    pub properties: serde_json::Value,
    /// Kind-specific attributes (table type, columns, storage location, ...), kept as JSON.
    pub spec: serde_json::Value,
    pub created_at_ms: i64,
    pub created_by: String,
    pub updated_at_ms: i64,
    pub updated_by: String,
}

/// `principal` holds `privilege` on a securable. Principals are named as grants name them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GrantRecord {
    pub securable_id: String,
    pub principal: String,
    pub privilege: String,
}

/// A SQL warehouse. `spec` holds the create/edit fields as the API takes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarehouseRecord {
    pub id: String,
    pub name: String,
    /// `STARTING`, `RUNNING`, `STOPPING`, `STOPPED`, `DELETING` or `DELETED`.
    pub state: String,
    pub spec: serde_json::Value,
    pub creator_name: String,
    pub created_at_ms: i64,
    /// When a statement last ran or the state last changed; auto-stop counts from here.
    pub last_activity_ms: i64,
}

/// One statement in the query history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryRecord {
    pub query_id: String,
    pub warehouse_id: String,
    pub user_id: i64,
    pub user_name: String,
    pub query_text: String,
    /// `QUEUED`, `RUNNING`, `FINISHED`, `FAILED` or `CANCELED`.
    pub status: String,
    pub statement_type: String,
    pub error_message: Option<String>,
    pub start_time_ms: i64,
    pub end_time_ms: Option<i64>,
    pub rows_produced: Option<i64>,
}

/// Which queries to list; empty lists mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryFilter {
    pub statuses: Vec<String>,
    pub user_ids: Vec<i64>,
    pub warehouse_ids: Vec<String>,
    pub query_ids: Vec<String>,
    pub start_time_from_ms: Option<i64>,
    pub start_time_to_ms: Option<i64>,
}

/// What a workspace path holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WorkspaceObjectKind {
    Directory,
    Notebook,
    File,
}

impl WorkspaceObjectKind {
    /// The `object_type` of the Workspace API.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkspaceObjectKind::Directory => "DIRECTORY",
            WorkspaceObjectKind::Notebook => "NOTEBOOK",
            WorkspaceObjectKind::File => "FILE",
        }
    }

    pub fn parse(text: &str) -> Option<WorkspaceObjectKind> {
        match text {
            "DIRECTORY" => Some(WorkspaceObjectKind::Directory),
            "NOTEBOOK" => Some(WorkspaceObjectKind::Notebook),
            "FILE" => Some(WorkspaceObjectKind::File),
            _ => None,
        }
    }
}

/// A directory, notebook or file of the workspace tree. The bytes of notebooks and files
/// live outside the store, keyed by `object_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceObjectRecord {
    pub object_id: i64,
    /// Absolute and normalised: `/Users/ann@example.com/etl`.
    pub path: String,
    /// `None` for the root only.
    pub parent_path: Option<String>,
    pub kind: WorkspaceObjectKind,
    /// `PYTHON`, `SQL`, `SCALA` or `R`, for notebooks.
    pub language: Option<String>,
    pub size: i64,
    pub created_at_ms: i64,
    pub modified_at_ms: i64,
}

/// An all-purpose or job cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterRecord {
    pub cluster_id: String,
    /// `PENDING`, `RUNNING`, `RESTARTING`, `TERMINATING`, `TERMINATED` or `ERROR`.
    pub state: String,
    pub state_message: String,
    /// The spec as last created or edited (`cluster_name`, `spark_version`, ...).
    pub spec: serde_json::Value,
    pub creator_name: String,
    /// `API`, `UI` or `JOB`.
    pub cluster_source: String,
    pub pinned: bool,
    pub created_at_ms: i64,
    pub start_time_ms: i64,
    pub terminated_time_ms: Option<i64>,
    pub last_restarted_time_ms: Option<i64>,
    /// When a command last ran or the state last changed; autotermination counts from here.
    pub last_activity_ms: i64,
    /// `{code, type, parameters}` once terminated.
    pub termination_reason: Option<serde_json::Value>,
}

/// One entry of a cluster's event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterEventRecord {
    pub cluster_id: String,
    pub timestamp_ms: i64,
    /// `CREATING`, `STARTING`, `RUNNING`, `TERMINATING`, `EDITED`, ...
    pub event_type: String,
    pub details: serde_json::Value,
}

/// Which events of one cluster a listing wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterEventFilter {
    pub start_time_ms: Option<i64>,
    pub end_time_ms: Option<i64>,
    /// Empty means every type.
    pub event_types: Vec<String>,
    pub newest_first: bool,
}

/// A job: its settings as the Jobs API carries them, and who owns and runs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub job_id: i64,
    pub creator_name: String,
    /// The principal runs execute as (`run_as`); the creator unless set.
    pub run_as_name: String,
    pub settings: serde_json::Value,
    pub created_time_ms: i64,
}

/// A job run, a one-time (submitted) run, or one task run of either (`parent_run_id` set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub run_id: i64,
    pub job_id: Option<i64>,
    pub parent_run_id: Option<i64>,
    pub task_key: Option<String>,
    /// QUEUED, PENDING, RUNNING, TERMINATING, TERMINATED, SKIPPED, INTERNAL_ERROR, ...
    pub life_cycle_state: String,
    pub start_time_ms: i64,
    /// 0 while the run has not ended, as on Databricks.
    pub end_time_ms: i64,
    pub idempotency_token: Option<String>,
    /// Everything else the Jobs API shows of the run (state, names, parameters, task spec).
    pub doc: serde_json::Value,
}

/// Which top-level runs a listing wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    pub job_id: Option<i64>,
    pub active_only: bool,
    pub completed_only: bool,
    pub start_time_from: Option<i64>,
    pub start_time_to: Option<i64>,
}

/// A saved Databricks SQL query (`/api/2.0/sql/queries`), runnable by `sql_task`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedQueryRecord {
    pub id: String,
    pub owner_name: String,
    /// `display_name`, `query_text`, `warehouse_id`, `catalog`, `schema`, `description`, ...
    pub spec: serde_json::Value,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// One revision of an agent's access policy. The policy document is the core's to read;
/// the store keeps every revision, so a decision's revision can be looked up later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentPolicyRecord {
    /// The agent: a service principal.
    pub principal_id: i64,
    /// 1 for the first policy; every change, removal included, takes the next number.
    pub revision: i64,
    /// `None` in a revision that removed the policy.
    pub policy: Option<serde_json::Value>,
    pub changed_at_ms: i64,
    /// Name of the principal who made the change.
    pub changed_by: String,
}

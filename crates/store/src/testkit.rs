//! The conformance suite every [`Store`] backend runs. A backend invokes
//! [`store_conformance_suite!`] with an async expression that yields a fresh, empty store;
//! each case then becomes its own `#[tokio::test]`.

use crate::*;

/// Expands to one test per conformance case. `$make` is an async expression returning a
/// fresh empty store (anything that derefs to `dyn Store`).
#[macro_export]
macro_rules! store_conformance_suite {
    ($make:expr) => {
        $crate::store_conformance_suite!(@cases $make;
            principals_round_trip, names_are_unique_per_kind_case_insensitively,
            update_and_delete_principal, group_membership, tokens_round_trip,
            oauth_secrets_round_trip, acl_set_merge_and_cascade, audit_append_and_filter,
            settings_init_once, securables_tree_round_trip, securable_names_unique_per_parent_and_kind,
            deleting_a_securable_cascades, grants_change_idempotently, warehouses_round_trip,
            query_history_upserts_and_filters, secrets_round_trip_and_cascade, settings_put_and_clear,
            workspace_tree_round_trip_and_subtree_delete, clusters_round_trip_and_events_page, jobs_runs_outputs_and_task_values,
            saved_queries_round_trip, agent_policies_keep_every_revision);
    };
    (@cases $make:expr; $($case:ident),*) => {
        $(
            #[tokio::test]
            async fn $case() {
                let store = $make;
                $crate::testkit::$case(&*store).await;
            }
        )*
    };
}

fn user(id: i64, name: &str) -> PrincipalRecord {
    PrincipalRecord {
        id,
        kind: PrincipalKind::User,
        name: name.to_string(),
        display_name: format!("{name} display"),
        external_id: None,
        active: true,
        entitlements: vec!["workspace-access".to_string()],
        roles: Vec::new(),
        attributes: serde_json::json!({"emails": [{"value": name, "primary": true}]}),
        created_at_ms: 1_700_000_000_000,
    }
}

fn group(id: i64, name: &str) -> PrincipalRecord {
    PrincipalRecord { kind: PrincipalKind::Group, display_name: name.to_string(), attributes: serde_json::json!({}), ..user(id, name) }
}

pub async fn principals_round_trip(store: &dyn Store) {
    let alice = user(10, "alice@example.com");
    store.create_principal(&alice).await.expect("create");
    let fetched = store.get_principal(10).await.expect("get").expect("present");
    assert_eq!(fetched, alice);
    let by_name = store.find_principal(PrincipalKind::User, "ALICE@example.com").await.expect("find");
    assert_eq!(by_name, Some(alice.clone()));
    assert_eq!(store.find_principal(PrincipalKind::Group, "alice@example.com").await.expect("find"), None);
    assert_eq!(store.get_principal(11).await.expect("get"), None);
    store.create_principal(&user(5, "bob@example.com")).await.expect("create");
    let ids: Vec<i64> = store.list_principals(PrincipalKind::User).await.expect("list").iter().map(|p| p.id).collect();
    assert_eq!(ids, vec![5, 10]);
}

pub async fn names_are_unique_per_kind_case_insensitively(store: &dyn Store) {
    store.create_principal(&user(1, "a@example.com")).await.expect("create");
    let clash = store.create_principal(&user(2, "A@EXAMPLE.COM")).await;
    assert!(matches!(clash, Err(StoreError::AlreadyExists(_))), "{clash:?}");
    let same_id = store.create_principal(&user(1, "other@example.com")).await;
    assert!(matches!(same_id, Err(StoreError::AlreadyExists(_))), "{same_id:?}");
    store.create_principal(&group(3, "a@example.com")).await.expect("a group may share a user's name");
    assert_eq!(store.list_principals(PrincipalKind::User).await.expect("list").len(), 1);
}

pub async fn update_and_delete_principal(store: &dyn Store) {
    store.create_principal(&user(1, "a@example.com")).await.expect("create");
    store.create_principal(&user(2, "b@example.com")).await.expect("create");
    let mut changed = user(1, "renamed@example.com");
    changed.active = false;
    changed.entitlements = vec![];
    store.update_principal(&changed).await.expect("update");
    assert_eq!(store.get_principal(1).await.expect("get"), Some(changed));
    let clash = store.update_principal(&user(1, "b@example.com")).await;
    assert!(matches!(clash, Err(StoreError::AlreadyExists(_))), "{clash:?}");
    let missing = store.update_principal(&user(9, "z@example.com")).await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))), "{missing:?}");
    assert!(store.delete_principal(1).await.expect("delete"));
    assert!(!store.delete_principal(1).await.expect("delete again"));
    assert_eq!(store.get_principal(1).await.expect("get"), None);
}

pub async fn group_membership(store: &dyn Store) {
    store.create_principal(&group(100, "admins")).await.expect("create");
    store.create_principal(&group(101, "data")).await.expect("create");
    store.create_principal(&user(1, "a@example.com")).await.expect("create");
    store.create_principal(&user(2, "b@example.com")).await.expect("create");
    store.set_group_members(100, &[1, 101]).await.expect("set");
    store.add_group_members(101, &[2, 2]).await.expect("add twice is idempotent");
    assert_eq!(store.group_members(100).await.expect("members"), vec![1, 101]);
    assert_eq!(store.group_members(101).await.expect("members"), vec![2]);
    store.remove_group_members(100, &[1]).await.expect("remove");
    assert_eq!(store.group_members(100).await.expect("members"), vec![101]);
    let mut edges = store.all_memberships().await.expect("all");
    edges.sort_by_key(|m| (m.group_id, m.member_id));
    assert_eq!(edges, vec![Membership { group_id: 100, member_id: 101 }, Membership { group_id: 101, member_id: 2 }]);
    store.delete_principal(101).await.expect("delete group");
    assert_eq!(store.group_members(100).await.expect("members"), Vec::<i64>::new());
    assert!(store.all_memberships().await.expect("all").is_empty());
    let unknown = store.add_group_members(100, &[999]).await;
    assert!(matches!(unknown, Err(StoreError::NotFound(_))), "{unknown:?}");
}

fn token(id: &str, owner: i64) -> TokenRecord {
    TokenRecord {
        token_id: id.to_string(),
        secret_hash: format!("hash-{id}"),
        owner_id: owner,
        created_by_id: owner,
        comment: Some("ci".to_string()),
        creation_time_ms: 1,
        expiry_time_ms: Some(2),
        scopes: None,
    }
}

pub async fn tokens_round_trip(store: &dyn Store) {
    store.create_principal(&user(1, "a@example.com")).await.expect("create");
    store.create_principal(&user(2, "b@example.com")).await.expect("create");
    store.insert_token(&token("t1", 1)).await.expect("insert");
    store.insert_token(&TokenRecord { expiry_time_ms: None, ..token("t2", 2) }).await.expect("insert");
    assert_eq!(store.find_token_by_hash("hash-t1").await.expect("find"), Some(token("t1", 1)));
    assert_eq!(store.get_token("t2").await.expect("get").expect("present").expiry_time_ms, None);
    assert_eq!(store.list_tokens(None).await.expect("list").len(), 2);
    assert_eq!(store.list_tokens(Some(2)).await.expect("list")[0].token_id, "t2");
    assert!(store.delete_token("t1").await.expect("delete"));
    assert!(!store.delete_token("t1").await.expect("delete again"));
    assert_eq!(store.find_token_by_hash("hash-t1").await.expect("find"), None);
    store.delete_principal(2).await.expect("delete owner");
    assert!(store.list_tokens(None).await.expect("list").is_empty(), "tokens go with their owner");
}

pub async fn oauth_secrets_round_trip(store: &dyn Store) {
    store.create_principal(&user(1, "sp")).await.expect("create");
    let secret = OAuthSecretRecord {
        id: "s1".to_string(),
        principal_id: 1,
        secret_phc: "$argon2id$...".to_string(),
        secret_hash: "abcd".to_string(),
        create_time_ms: 1,
        expire_time_ms: 2,
        scopes: Some(vec!["all-apis".to_string()]),
    };
    store.insert_oauth_secret(&secret).await.expect("insert");
    assert_eq!(store.list_oauth_secrets(1).await.expect("list"), vec![secret]);
    assert!(!store.delete_oauth_secret(2, "s1").await.expect("other principal"));
    assert!(store.delete_oauth_secret(1, "s1").await.expect("delete"));
    assert!(store.list_oauth_secrets(1).await.expect("list").is_empty());
}

pub async fn acl_set_merge_and_cascade(store: &dyn Store) {
    store.create_principal(&user(1, "a@example.com")).await.expect("create");
    store.create_principal(&user(2, "b@example.com")).await.expect("create");
    let dir = ObjectRecord { object_type: "directories".to_string(), object_id: "7".to_string(), parent: None };
    let nb = ObjectRecord {
        object_type: "notebooks".to_string(),
        object_id: "8".to_string(),
        parent: Some(("directories".to_string(), "7".to_string())),
    };
    store.upsert_object(&dir).await.expect("upsert");
    store.upsert_object(&nb).await.expect("upsert");
    assert_eq!(store.get_object("notebooks", "8").await.expect("get"), Some(nb));
    let entry = |principal_id, level: &str| AclEntry { principal_id, level: level.to_string() };
    store.set_acl("directories", "7", &[entry(2, "CAN_READ"), entry(1, "CAN_MANAGE")]).await.expect("set");
    assert_eq!(store.get_acl("directories", "7").await.expect("get"), vec![entry(1, "CAN_MANAGE"), entry(2, "CAN_READ")]);
    store.merge_acl("directories", "7", &[entry(2, "CAN_EDIT")]).await.expect("merge");
    assert_eq!(store.get_acl("directories", "7").await.expect("get"), vec![entry(1, "CAN_MANAGE"), entry(2, "CAN_EDIT")]);
    store.set_acl("directories", "7", &[entry(2, "CAN_RUN")]).await.expect("replace");
    assert_eq!(store.get_acl("directories", "7").await.expect("get"), vec![entry(2, "CAN_RUN")]);
    store.delete_principal(2).await.expect("delete principal");
    assert!(store.get_acl("directories", "7").await.expect("get").is_empty(), "entries go with their principal");
    assert!(store.delete_object("directories", "7").await.expect("delete"));
    assert_eq!(store.get_object("directories", "7").await.expect("get"), None);
    let missing = store.set_acl("jobs", "404", &[entry(1, "CAN_VIEW")]).await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))), "{missing:?}");
}

pub async fn audit_append_and_filter(store: &dyn Store) {
    let event = |n: i64, decision| AuditEvent {
        seq: 0,
        time_ms: n,
        request_id: format!("req-{n}"),
        principal_id: Some(n % 2),
        principal_name: Some("a@example.com".to_string()),
        action: if n % 3 == 0 { "scim.users.create".to_string() } else { "tokens.create".to_string() },
        object: "workspace".to_string(),
        decision,
        reason: String::new(),
        status: Some(200),
    };
    let events: Vec<AuditEvent> = (1..=6).map(|n| event(n, if n == 4 { AuditDecision::Deny } else { AuditDecision::Allow })).collect();
    store.append_audit_events(&events).await.expect("append");
    let all = store.list_audit_events(&AuditFilter::default(), 0, 100).await.expect("list");
    assert_eq!(all.iter().map(|e| e.time_ms).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5, 6]);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq), "seq increases");
    let after = store.list_audit_events(&AuditFilter::default(), all[1].seq, 2).await.expect("list");
    assert_eq!(after.iter().map(|e| e.time_ms).collect::<Vec<_>>(), vec![3, 4]);
    let denied = AuditFilter { decision: Some(AuditDecision::Deny), ..AuditFilter::default() };
    assert_eq!(store.list_audit_events(&denied, 0, 100).await.expect("list").len(), 1);
    let scim = AuditFilter { action_prefix: Some("scim.".to_string()), principal_id: Some(1), ..AuditFilter::default() };
    assert_eq!(store.list_audit_events(&scim, 0, 100).await.expect("list").iter().map(|e| e.time_ms).collect::<Vec<_>>(), vec![3]);
    let by_request = AuditFilter { request_id: Some("req-5".to_string()), ..AuditFilter::default() };
    assert_eq!(store.list_audit_events(&by_request, 0, 100).await.expect("list").len(), 1);
}

pub async fn settings_init_once(store: &dyn Store) {
    assert_eq!(store.get_setting("workspace_id").await.expect("get"), None);
    assert_eq!(store.init_setting("workspace_id", "1").await.expect("init"), "1");
    assert_eq!(store.init_setting("workspace_id", "2").await.expect("init"), "1");
    assert_eq!(store.get_setting("workspace_id").await.expect("get"), Some("1".to_string()));
}

fn securable(id: &str, kind: SecurableKind, parent_id: Option<&str>, name: &str) -> SecurableRecord {
    SecurableRecord {
        id: id.to_string(),
        kind,
        parent_id: parent_id.map(str::to_string),
        name: name.to_string(),
        owner: "alice@example.com".to_string(),
        comment: Some(format!("{name} comment")),
        properties: serde_json::json!({"k": "v"}),
        spec: serde_json::json!({"table_type": "MANAGED"}),
        created_at_ms: 1,
        created_by: "alice@example.com".to_string(),
        updated_at_ms: 1,
        updated_by: "alice@example.com".to_string(),
    }
}

/// metastore m > catalog c "Main" > schema s "sales" > table t "orders" and volume v "orders".
async fn securable_tree(store: &dyn Store) {
    store.insert_securable(&securable("m", SecurableKind::Metastore, None, "metastore")).await.expect("metastore");
    store.insert_securable(&securable("c", SecurableKind::Catalog, Some("m"), "Main")).await.expect("catalog");
    store.insert_securable(&securable("s", SecurableKind::Schema, Some("c"), "sales")).await.expect("schema");
    store.insert_securable(&securable("t", SecurableKind::Table, Some("s"), "orders")).await.expect("table");
    store.insert_securable(&securable("v", SecurableKind::Volume, Some("s"), "orders")).await.expect("volume of the same name");
}

pub async fn securables_tree_round_trip(store: &dyn Store) {
    securable_tree(store).await;
    let catalog = store.find_securable(Some("m"), SecurableKind::Catalog, "MAIN").await.expect("find").expect("present");
    assert_eq!(catalog, securable("c", SecurableKind::Catalog, Some("m"), "Main"));
    let metastore = store.find_securable(None, SecurableKind::Metastore, "metastore").await.expect("find").expect("root");
    assert_eq!(metastore.id, "m");
    assert_eq!(store.find_securable(Some("c"), SecurableKind::Table, "sales").await.expect("find"), None, "kinds are separate");
    let children: Vec<String> = store.list_securables("s", None).await.expect("list").into_iter().map(|s| s.id).collect();
    assert_eq!(children, vec!["t", "v"]);
    let tables: Vec<String> = store.list_securables("s", Some(SecurableKind::Table)).await.expect("list").into_iter().map(|s| s.id).collect();
    assert_eq!(tables, vec!["t"]);

    let mut renamed = store.get_securable("t").await.expect("get").expect("table");
    renamed.name = "orders_v2".to_string();
    renamed.owner = "bob@example.com".to_string();
    renamed.spec = serde_json::json!({"table_type": "MANAGED", "columns": [{"name": "id"}]});
    renamed.updated_at_ms = 2;
    store.update_securable(&renamed).await.expect("update");
    assert_eq!(store.get_securable("t").await.expect("get"), Some(renamed.clone()));
    let missing = SecurableRecord { id: "nope".to_string(), ..renamed };
    assert!(matches!(store.update_securable(&missing).await, Err(StoreError::NotFound(_))));
}

pub async fn securable_names_unique_per_parent_and_kind(store: &dyn Store) {
    securable_tree(store).await;
    let clash = securable("c2", SecurableKind::Catalog, Some("m"), "main");
    assert!(matches!(store.insert_securable(&clash).await, Err(StoreError::AlreadyExists(_))));
    let second_metastore = securable("m2", SecurableKind::Metastore, None, "METASTORE");
    assert!(matches!(store.insert_securable(&second_metastore).await, Err(StoreError::AlreadyExists(_))));
    store.insert_securable(&securable("s2", SecurableKind::Schema, Some("c"), "other")).await.expect("sibling");
    let mut rename = store.get_securable("s2").await.expect("get").expect("schema");
    rename.name = "SALES".to_string();
    assert!(matches!(store.update_securable(&rename).await, Err(StoreError::AlreadyExists(_))));
}

pub async fn deleting_a_securable_cascades(store: &dyn Store) {
    securable_tree(store).await;
    let grant = GrantRecord { securable_id: "t".to_string(), principal: "bob@example.com".to_string(), privilege: "SELECT".to_string() };
    store.change_grants(std::slice::from_ref(&grant), &[]).await.expect("grant");
    assert!(store.delete_securable("s").await.expect("delete"));
    for id in ["s", "t", "v"] {
        assert_eq!(store.get_securable(id).await.expect("get"), None, "{id} is gone");
    }
    assert!(store.list_grants(&["t".to_string()]).await.expect("grants").is_empty());
    assert!(store.get_securable("c").await.expect("get").is_some());
    assert!(!store.delete_securable("s").await.expect("delete again"));
}

pub async fn grants_change_idempotently(store: &dyn Store) {
    securable_tree(store).await;
    let grant = |on: &str, who: &str, what: &str| GrantRecord { securable_id: on.to_string(), principal: who.to_string(), privilege: what.to_string() };
    let added = [grant("c", "analysts", "USE_CATALOG"), grant("t", "analysts", "SELECT"), grant("t", "bob@example.com", "MODIFY")];
    store.change_grants(&added, &[]).await.expect("add");
    store.change_grants(&added[..1], &[grant("t", "nobody", "SELECT")]).await.expect("repeat add, remove missing");
    let all = store.list_grants(&["c".to_string(), "t".to_string()]).await.expect("list");
    assert_eq!(all, added.to_vec());
    store.change_grants(&[], &[grant("t", "ANALYSTS", "SELECT")]).await.expect("remove, any case");
    let on_table = store.list_grants(&["t".to_string()]).await.expect("list");
    assert_eq!(on_table, vec![grant("t", "bob@example.com", "MODIFY")]);
    let dangling = grant("no-such-securable", "bob@example.com", "SELECT");
    assert!(store.change_grants(&[dangling], &[]).await.is_err(), "a grant needs its securable");
}

fn warehouse(id: &str, name: &str, created_at_ms: i64) -> WarehouseRecord {
    WarehouseRecord {
        id: id.to_string(),
        name: name.to_string(),
        state: "RUNNING".to_string(),
        spec: serde_json::json!({"cluster_size": "Small"}),
        creator_name: "alice@example.com".to_string(),
        created_at_ms,
        last_activity_ms: created_at_ms,
    }
}

pub async fn warehouses_round_trip(store: &dyn Store) {
    store.insert_warehouse(&warehouse("w2", "Second", 2)).await.expect("insert");
    store.insert_warehouse(&warehouse("w1", "First", 1)).await.expect("insert");
    assert!(matches!(store.insert_warehouse(&warehouse("w3", "FIRST", 3)).await, Err(StoreError::AlreadyExists(_))), "names are unique, any case");
    let ids: Vec<String> = store.list_warehouses().await.expect("list").into_iter().map(|w| w.id).collect();
    assert_eq!(ids, vec!["w1", "w2"], "oldest first");
    let mut stopped = warehouse("w1", "First renamed", 1);
    stopped.state = "STOPPED".to_string();
    stopped.last_activity_ms = 9;
    store.update_warehouse(&stopped).await.expect("update");
    assert_eq!(store.get_warehouse("w1").await.expect("get"), Some(stopped));
    assert!(matches!(store.update_warehouse(&warehouse("nope", "x", 0)).await, Err(StoreError::NotFound(_))));
    assert!(store.delete_warehouse("w1").await.expect("delete"));
    assert!(!store.delete_warehouse("w1").await.expect("delete again"));
    assert_eq!(store.get_warehouse("w1").await.expect("get"), None);
}

fn query(id: &str, user_id: i64, status: &str, start_time_ms: i64) -> QueryRecord {
    QueryRecord {
        query_id: id.to_string(),
        warehouse_id: "w1".to_string(),
        user_id,
        user_name: format!("user{user_id}"),
        query_text: "SELECT 1".to_string(),
        status: status.to_string(),
        statement_type: "SELECT".to_string(),
        error_message: None,
        start_time_ms,
        end_time_ms: None,
        rows_produced: None,
    }
}

pub async fn query_history_upserts_and_filters(store: &dyn Store) {
    store.upsert_queries(&[query("q1", 1, "RUNNING", 10), query("q2", 2, "FINISHED", 20), query("q3", 1, "FAILED", 30)]).await.expect("upsert");
    let finished = QueryRecord { end_time_ms: Some(15), rows_produced: Some(1), ..query("q1", 1, "FINISHED", 10) };
    store.upsert_queries(std::slice::from_ref(&finished)).await.expect("replace");
    let all: Vec<String> = store.list_queries(&QueryFilter::default(), 0, 10).await.expect("list").into_iter().map(|q| q.query_id).collect();
    assert_eq!(all, vec!["q3", "q2", "q1"], "newest first");
    let user1 = QueryFilter { user_ids: vec![1], ..Default::default() };
    let mine = store.list_queries(&user1, 0, 10).await.expect("list");
    assert_eq!(mine.iter().map(|q| q.query_id.as_str()).collect::<Vec<_>>(), vec!["q3", "q1"]);
    assert_eq!(mine[1], finished);
    let by_status = QueryFilter { statuses: vec!["FINISHED".to_string()], start_time_from_ms: Some(15), ..Default::default() };
    let ids: Vec<String> = store.list_queries(&by_status, 0, 10).await.expect("list").into_iter().map(|q| q.query_id).collect();
    assert_eq!(ids, vec!["q2"]);
    let paged: Vec<String> = store.list_queries(&QueryFilter::default(), 1, 1).await.expect("list").into_iter().map(|q| q.query_id).collect();
    assert_eq!(paged, vec!["q2"]);
}

pub async fn secrets_round_trip_and_cascade(store: &dyn Store) {
    let scope = SecretScopeRecord { name: "team".into(), created_at_ms: 1, created_by: "ann".into() };
    store.create_secret_scope(&scope).await.expect("create scope");
    assert!(matches!(store.create_secret_scope(&scope).await, Err(StoreError::AlreadyExists(_))));
    assert_eq!(store.get_secret_scope("team").await.expect("get"), Some(scope.clone()));
    assert_eq!(store.get_secret_scope("Team").await.expect("get"), None, "scope names are case-sensitive");
    let secret = SecretRecord { scope: "team".into(), key: "db-password".into(), nonce: vec![1; 12], ciphertext: vec![9, 8, 7], updated_at_ms: 5 };
    store.put_secret(&secret).await.expect("put");
    let replaced = SecretRecord { ciphertext: vec![6], updated_at_ms: 6, ..secret.clone() };
    store.put_secret(&replaced).await.expect("replace");
    assert_eq!(store.get_secret("team", "db-password").await.expect("get"), Some(replaced.clone()));
    assert_eq!(store.list_secrets("team").await.expect("list"), vec![replaced]);
    let orphan = SecretRecord { scope: "missing".into(), ..secret.clone() };
    assert!(store.put_secret(&orphan).await.is_err(), "a secret needs its scope");
    assert!(store.delete_secret("team", "db-password").await.expect("delete"));
    assert!(!store.delete_secret("team", "db-password").await.expect("delete again"));
    store.put_secret(&secret).await.expect("put again");
    assert!(store.delete_secret_scope("team").await.expect("delete scope"));
    assert_eq!(store.get_secret("team", "db-password").await.expect("get"), None, "secrets go with their scope");
    assert!(store.list_secret_scopes().await.expect("list scopes").is_empty());
}

pub async fn settings_put_and_clear(store: &dyn Store) {
    store.put_setting("conf:a", Some("1")).await.expect("put");
    store.put_setting("conf:a", Some("2")).await.expect("replace");
    assert_eq!(store.get_setting("conf:a").await.expect("get").as_deref(), Some("2"));
    store.put_setting("conf:a", None).await.expect("clear");
    assert_eq!(store.get_setting("conf:a").await.expect("get"), None);
    store.put_setting("conf:missing", None).await.expect("clearing what is not there is fine");
}

fn workspace_object(object_id: i64, path: &str, kind: WorkspaceObjectKind) -> WorkspaceObjectRecord {
    let parent_path = path.rsplit_once('/').map(|(parent, _)| if parent.is_empty() { "/".to_string() } else { parent.to_string() });
    WorkspaceObjectRecord { object_id, path: path.into(), parent_path, kind, language: None, size: 0, created_at_ms: 1, modified_at_ms: 1 }
}

pub async fn workspace_tree_round_trip_and_subtree_delete(store: &dyn Store) {
    use WorkspaceObjectKind::*;
    for object in [
        workspace_object(1, "/Shared", Directory),
        workspace_object(2, "/Shared/etl", Directory),
        workspace_object(3, "/Shared/etl/load", Notebook),
        workspace_object(4, "/Shared/etl_100%", File),
        workspace_object(5, "/Shared/etl/a_b", File),
    ] {
        store.insert_workspace_object(&object).await.expect("insert");
    }
    let clash = store.insert_workspace_object(&workspace_object(9, "/Shared/etl", File)).await;
    assert!(matches!(clash, Err(StoreError::AlreadyExists(_))), "{clash:?}");
    assert_eq!(store.get_workspace_object("/shared/etl").await.expect("get"), None, "paths are case-sensitive");
    let children: Vec<String> = store.list_workspace_children("/Shared").await.expect("list").into_iter().map(|o| o.path).collect();
    assert_eq!(children, vec!["/Shared/etl", "/Shared/etl_100%"]);
    let mut notebook = store.get_workspace_object("/Shared/etl/load").await.expect("get").expect("present");
    notebook.language = Some("SQL".into());
    notebook.size = 42;
    notebook.modified_at_ms = 7;
    store.update_workspace_object(&notebook).await.expect("update");
    assert_eq!(store.get_workspace_object("/Shared/etl/load").await.expect("get"), Some(notebook));
    let deleted: Vec<i64> = store.delete_workspace_subtree("/Shared/etl").await.expect("delete").iter().map(|o| o.object_id).collect();
    assert_eq!(deleted, vec![2, 5, 3], "the subtree only, not the sibling whose name shares the prefix");
    assert!(store.get_workspace_object("/Shared/etl_100%").await.expect("get").is_some());
    assert!(store.delete_workspace_subtree("/Shared/etl").await.expect("delete again").is_empty());
}

pub async fn clusters_round_trip_and_events_page(store: &dyn Store) {
    let cluster = ClusterRecord {
        cluster_id: "0101-abc".into(),
        state: "PENDING".into(),
        state_message: "Starting".into(),
        spec: serde_json::json!({"cluster_name": "etl", "num_workers": 0}),
        creator_name: "ann".into(),
        cluster_source: "API".into(),
        pinned: false,
        created_at_ms: 10,
        start_time_ms: 10,
        terminated_time_ms: None,
        last_restarted_time_ms: None,
        last_activity_ms: 10,
        termination_reason: None,
    };
    store.insert_cluster(&cluster).await.expect("insert");
    assert!(matches!(store.insert_cluster(&cluster).await, Err(StoreError::AlreadyExists(_))));
    let mut terminated = cluster.clone();
    terminated.state = "TERMINATED".into();
    terminated.pinned = true;
    terminated.terminated_time_ms = Some(30);
    terminated.termination_reason = Some(serde_json::json!({"code": "USER_REQUEST", "type": "SUCCESS"}));
    store.update_cluster(&terminated).await.expect("update");
    assert_eq!(store.get_cluster("0101-abc").await.expect("get"), Some(terminated.clone()));
    assert_eq!(store.list_clusters().await.expect("list"), vec![terminated]);
    for (timestamp_ms, event_type) in [(10, "CREATING"), (20, "RUNNING"), (30, "TERMINATING"), (30, "TERMINATED")] {
        let event = ClusterEventRecord { cluster_id: "0101-abc".into(), timestamp_ms, event_type: event_type.into(), details: serde_json::json!({}) };
        store.append_cluster_event(&event).await.expect("append");
    }
    let types = |events: Vec<ClusterEventRecord>| events.into_iter().map(|e| e.event_type).collect::<Vec<_>>();
    let (page, total) = store.list_cluster_events("0101-abc", &ClusterEventFilter::default(), 1, 2).await.expect("events");
    assert_eq!((types(page), total), (vec!["RUNNING".to_string(), "TERMINATING".to_string()], 4));
    let newest = ClusterEventFilter { newest_first: true, start_time_ms: Some(20), event_types: vec!["RUNNING".into(), "TERMINATED".into()], ..Default::default() };
    let (page, total) = store.list_cluster_events("0101-abc", &newest, 0, 10).await.expect("events");
    assert_eq!((types(page), total), (vec!["TERMINATED".to_string(), "RUNNING".to_string()], 2));
    assert!(store.delete_cluster("0101-abc").await.expect("delete"));
    assert_eq!(store.list_cluster_events("0101-abc", &ClusterEventFilter::default(), 0, 10).await.expect("events").1, 0, "events go with the cluster");
    assert!(!store.delete_cluster("0101-abc").await.expect("delete again"));
}

fn run(run_id: i64, job_id: Option<i64>, parent_run_id: Option<i64>, state: &str, start_time_ms: i64) -> RunRecord {
    RunRecord {
        run_id,
        job_id,
        parent_run_id,
        task_key: parent_run_id.map(|_| format!("t{run_id}")),
        life_cycle_state: state.into(),
        start_time_ms,
        end_time_ms: 0,
        idempotency_token: None,
        doc: serde_json::json!({"run_name": format!("r{run_id}")}),
    }
}

pub async fn jobs_runs_outputs_and_task_values(store: &dyn Store) {
    let job = JobRecord { job_id: 7, creator_name: "ann".into(), run_as_name: "ann".into(), settings: serde_json::json!({"name": "etl"}), created_time_ms: 1 };
    store.insert_job(&job).await.expect("insert job");
    assert!(matches!(store.insert_job(&job).await, Err(StoreError::AlreadyExists(_))));
    let renamed = JobRecord { settings: serde_json::json!({"name": "etl2"}), ..job.clone() };
    store.update_job(&renamed).await.expect("update");
    assert_eq!(store.list_jobs().await.expect("list"), vec![renamed]);

    store.insert_run(&run(100, Some(7), None, "TERMINATED", 10)).await.expect("run");
    let mut active = run(101, Some(7), None, "RUNNING", 20);
    active.idempotency_token = Some("once".into());
    store.insert_run(&active).await.expect("run");
    store.insert_run(&run(102, None, None, "PENDING", 30)).await.expect("submitted run");
    store.insert_run(&run(103, Some(7), Some(101), "RUNNING", 21)).await.expect("task run");
    store.insert_run(&run(104, Some(7), Some(101), "PENDING", 21)).await.expect("task run");

    let ids = |runs: Vec<RunRecord>| runs.into_iter().map(|r| r.run_id).collect::<Vec<_>>();
    assert_eq!(ids(store.list_runs(&RunFilter::default(), 0, 10).await.expect("list")), vec![102, 101, 100], "top-level runs, newest first");
    assert_eq!(ids(store.list_runs(&RunFilter { job_id: Some(7), active_only: true, ..Default::default() }, 0, 10).await.expect("list")), vec![101]);
    assert_eq!(ids(store.list_runs(&RunFilter { completed_only: true, ..Default::default() }, 0, 10).await.expect("list")), vec![100]);
    assert_eq!(ids(store.list_runs(&RunFilter { start_time_from: Some(15), start_time_to: Some(25), ..Default::default() }, 0, 10).await.expect("list")), vec![101]);
    assert_eq!(ids(store.list_runs(&RunFilter::default(), 1, 1).await.expect("page")), vec![101]);
    assert_eq!(ids(store.list_task_runs(101).await.expect("tasks")), vec![103, 104]);
    assert_eq!(store.find_run_by_token(Some(7), "once").await.expect("token").map(|r| r.run_id), Some(101));
    assert_eq!(store.find_run_by_token(None, "once").await.expect("token"), None, "tokens are per job");

    let mut finished = store.get_run(103).await.expect("get").expect("present");
    finished.life_cycle_state = "TERMINATED".into();
    finished.end_time_ms = 40;
    store.update_run(&finished).await.expect("update run");
    assert_eq!(store.get_run(103).await.expect("get"), Some(finished));

    store.put_run_output(103, &serde_json::json!({"notebook_output": {"result": "a"}})).await.expect("output");
    store.put_run_output(103, &serde_json::json!({"notebook_output": {"result": "b"}})).await.expect("output again");
    assert_eq!(store.get_run_output(103).await.expect("output"), Some(serde_json::json!({"notebook_output": {"result": "b"}})));
    store.put_task_value(101, "t103", "rows", "42").await.expect("value");
    store.put_task_value(101, "t103", "rows", "43").await.expect("value again");
    assert_eq!(store.get_task_value(101, "t103", "rows").await.expect("value"), Some("43".to_string()));
    assert_eq!(store.get_task_value(101, "t104", "rows").await.expect("value"), None);

    assert!(store.delete_run(101).await.expect("delete"));
    assert_eq!(store.get_run(103).await.expect("get"), None, "task runs go with their run");
    assert_eq!(store.get_run_output(103).await.expect("output"), None);
    assert_eq!(store.get_task_value(101, "t103", "rows").await.expect("value"), None);
    assert!(store.delete_job(7).await.expect("delete job"));
    assert!(store.get_run(100).await.expect("get").is_some(), "runs outlive their job");
}

pub async fn saved_queries_round_trip(store: &dyn Store) {
    let query = SavedQueryRecord { id: "q1".into(), owner_name: "ann".into(), spec: serde_json::json!({"display_name": "daily", "query_text": "SELECT 1"}), created_ms: 1, updated_ms: 1 };
    store.insert_saved_query(&query).await.expect("insert");
    assert!(matches!(store.insert_saved_query(&query).await, Err(StoreError::AlreadyExists(_))));
    let changed = SavedQueryRecord { spec: serde_json::json!({"display_name": "daily", "query_text": "SELECT 2"}), updated_ms: 2, ..query.clone() };
    store.update_saved_query(&changed).await.expect("update");
    assert_eq!(store.get_saved_query("q1").await.expect("get"), Some(changed.clone()));
    assert_eq!(store.list_saved_queries().await.expect("list"), vec![changed]);
    assert!(store.delete_saved_query("q1").await.expect("delete"));
    assert!(!store.delete_saved_query("q1").await.expect("delete again"));
    assert!(matches!(store.update_saved_query(&query).await, Err(StoreError::NotFound(_))));
}

pub async fn agent_policies_keep_every_revision(store: &dyn Store) {
    store.create_principal(&PrincipalRecord::new(20, PrincipalKind::ServicePrincipal, "agent-app-id")).await.expect("create agent");
    assert_eq!(store.get_agent_policy(20).await.expect("get"), None);
    let read = serde_json::json!({"areas": {"sql": "READ"}});
    let first = store.put_agent_policy(20, Some(&read), 1_000, "admin@example.com").await.expect("put");
    assert_eq!((first.revision, first.policy.clone(), first.changed_by.as_str()), (1, Some(read.clone()), "admin@example.com"));
    let full = serde_json::json!({"areas": {"sql": "FULL"}});
    let second = store.put_agent_policy(20, Some(&full), 2_000, "admin@example.com").await.expect("put again");
    assert_eq!(second.revision, 2);
    assert_eq!(store.get_agent_policy(20).await.expect("get"), Some(second.clone()));
    assert_eq!(store.get_agent_policy_revision(20, 1).await.expect("revision 1"), Some(first));
    assert_eq!(store.list_agent_policies().await.expect("list"), vec![second]);
    // Removing is a revision too, and numbering goes on after it.
    let removed = store.put_agent_policy(20, None, 3_000, "admin@example.com").await.expect("remove");
    assert_eq!((removed.revision, removed.policy), (3, None));
    assert_eq!(store.get_agent_policy(20).await.expect("get removed"), None);
    assert_eq!(store.list_agent_policies().await.expect("list"), vec![]);
    assert_eq!(store.put_agent_policy(20, Some(&read), 4_000, "admin@example.com").await.expect("put after removal").revision, 4);
    assert!(matches!(store.put_agent_policy(99, Some(&read), 5_000, "admin@example.com").await, Err(StoreError::NotFound(_))));
    // A deleted principal takes its policies with it.
    assert!(store.delete_principal(20).await.expect("delete principal"));
    assert_eq!(store.get_agent_policy_revision(20, 1).await.expect("revision of a deleted agent"), None);
}

//! HTTP tests: the router driven in-process over a fresh in-memory store.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use kiln_store_sqlite::SqliteStore;
use tower::ServiceExt;

const ADMIN_TOKEN: &str = "dapi0123456789abcdef0123456789abcdef";

async fn app() -> axum::Router {
    app_with_store().await.0
}

async fn app_with_store() -> (axum::Router, Arc<dyn kiln_store::Store>) {
    let store: Arc<dyn kiln_store::Store> = Arc::new(SqliteStore::open(":memory:").await.expect("store"));
    let (state, _) = kiln_server::build_state(store.clone(), Some(ADMIN_TOKEN), b"test-signing-key", &scratch_dir(), "127.0.0.1:8080").await.expect("state");
    (kiln_server::routes::router(state), store)
}

/// A fresh data directory under the system temp dir.
fn scratch_dir() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("kiln-test-{}", uuid::Uuid::new_v4()))
}

async fn call(app: &axum::Router, method: &str, path: &str, token: Option<&str>) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
    call_with_body(app, method, path, token, "").await
}

async fn call_with_body(
    app: &axum::Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
    let mut request = Request::builder().method(method).uri(path).header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = app.clone().oneshot(request.body(Body::from(body.to_string())).expect("request")).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let json = if bytes.is_empty() { serde_json::Value::Null } else { serde_json::from_slice(&bytes).expect("json body") };
    (status, headers, json)
}

/// Gives `owner_id` a PAT with this value, straight through the store.
async fn insert_token(store: &Arc<dyn kiln_store::Store>, owner_id: i64, value: &str) {
    let record = kiln_store::TokenRecord {
        token_id: format!("token-{owner_id}"),
        secret_hash: kiln_core::ids::sha256_hex(value),
        owner_id,
        created_by_id: owner_id,
        comment: None,
        creation_time_ms: 0,
        expiry_time_ms: None,
        scopes: None,
    };
    store.insert_token(&record).await.expect("token");
}

#[tokio::test]
async fn host_metadata_is_public_and_names_the_workspace() {
    let app = app().await;
    let (status, headers, body) = call(&app, "GET", "/.well-known/databricks-config", None).await;
    assert_eq!(status, StatusCode::OK);
    let workspace_id = body["workspace_id"].as_str().expect("workspace_id");
    assert!(workspace_id.chars().all(|c| c.is_ascii_digit()), "{workspace_id}");
    assert_eq!(headers["x-databricks-org-id"], workspace_id);
    assert!(body["oidc_endpoint"].as_str().expect("oidc_endpoint").ends_with("/oidc"));
    let (status, _, discovery) = call(&app, "GET", "/oidc/.well-known/oauth-authorization-server", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(discovery["token_endpoint"].as_str().expect("token_endpoint").ends_with("/oidc/v1/token"));
}

#[tokio::test]
async fn me_returns_the_admin_with_groups() {
    let app = app().await;
    let (status, headers, me) = call(&app, "GET", "/api/2.0/preview/scim/v2/Me", Some(ADMIN_TOKEN)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert!(headers.contains_key("x-databricks-org-id"));
    assert_eq!(me["userName"], "admin@kiln.local");
    let groups: Vec<&str> = me["groups"].as_array().expect("groups").iter().filter_map(|g| g["display"].as_str()).collect();
    assert!(groups.contains(&"admins") && groups.contains(&"users"), "{groups:?}");
}

#[tokio::test]
async fn bad_or_missing_token_is_unauthenticated() {
    let app = app().await;
    for token in [None, Some("dapinotavalidtoken000000000000000000")] {
        let (status, _, body) = call(&app, "GET", "/api/2.0/preview/scim/v2/Me", token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error_code"], "UNAUTHENTICATED");
    }
}

#[tokio::test]
async fn unknown_and_planned_routes_are_told_apart() {
    let app = app().await;
    let (status, _, body) = call(&app, "GET", "/api/2.0/definitely-not-a-route", Some(ADMIN_TOKEN)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error_code"], "ENDPOINT_NOT_FOUND");
    assert_eq!(body["message"], "No API found for 'GET /api/2.0/definitely-not-a-route'");
    let (status, _, body) = call(&app, "GET", "/api/2.0/serving-endpoints", Some(ADMIN_TOKEN)).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(body["error_code"], "NOT_IMPLEMENTED");
    assert!(body["message"].as_str().expect("message").contains("/api/2.0/serving-endpoints"));
}

mod tokens {
    use super::*;
    use kiln_store::{AclEntry, PrincipalKind, PrincipalRecord};

    #[tokio::test]
    async fn token_lifecycle_create_use_list_revoke() {
        let app = app().await;
        let (status, _, created) = call_with_body(&app, "POST", "/api/2.0/token/create", Some(ADMIN_TOKEN), r#"{"comment":"ci","lifetime_seconds":3600}"#).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let value = created["token_value"].as_str().expect("token_value");
        assert!(value.starts_with("dapi") && value.len() == 36, "{value}");
        let token_id = created["token_info"]["token_id"].as_str().expect("token_id");
        assert_eq!(created["token_info"]["comment"], "ci");
        assert!(created["token_info"]["expiry_time"].as_i64().expect("expiry") > created["token_info"]["creation_time"].as_i64().expect("creation"));

        let (status, _, me) = call(&app, "GET", "/api/2.0/preview/scim/v2/Me", Some(value)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["userName"], "admin@kiln.local");

        let (_, _, listed) = call(&app, "GET", "/api/2.0/token/list", Some(ADMIN_TOKEN)).await;
        let ids: Vec<&str> = listed["token_infos"].as_array().expect("token_infos").iter().filter_map(|t| t["token_id"].as_str()).collect();
        assert!(ids.contains(&token_id), "{ids:?}");
        assert!(!listed.to_string().contains(value), "token values are never listed");

        let (status, _, _) = call_with_body(&app, "POST", "/api/2.0/token/delete", Some(ADMIN_TOKEN), &format!(r#"{{"token_id":"{token_id}"}}"#)).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _, body) = call(&app, "GET", "/api/2.0/preview/scim/v2/Me", Some(value)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error_code"], "UNAUTHENTICATED");
        let (status, _, body) = call_with_body(&app, "POST", "/api/2.0/token/delete", Some(ADMIN_TOKEN), &format!(r#"{{"token_id":"{token_id}"}}"#)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error_code"], "RESOURCE_DOES_NOT_EXIST");
    }

    #[tokio::test]
    async fn never_expiring_token_reports_minus_one() {
        let app = app().await;
        let (status, _, created) = call_with_body(&app, "POST", "/api/2.0/token/create", Some(ADMIN_TOKEN), "").await;
        assert_eq!(status, StatusCode::OK, "{created}");
        assert_eq!(created["token_info"]["expiry_time"], -1);
    }

    #[tokio::test]
    async fn expired_token_is_unauthenticated() {
        let app = app().await;
        let (_, _, created) = call_with_body(&app, "POST", "/api/2.0/token/create", Some(ADMIN_TOKEN), r#"{"lifetime_seconds":1}"#).await;
        let value = created["token_value"].as_str().expect("token_value").to_string();
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let (status, _, body) = call(&app, "GET", "/api/2.0/preview/scim/v2/Me", Some(&value)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(body["message"].as_str().expect("message").contains("expired"));
    }

    #[tokio::test]
    async fn bad_bodies_name_the_field() {
        let app = app().await;
        let (status, _, body) = call_with_body(&app, "POST", "/api/2.0/token/create", Some(ADMIN_TOKEN), r#"{"lifetime_seconds":"abc"}"#).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error_code"], "INVALID_PARAMETER_VALUE");
        assert!(body["message"].as_str().expect("message").contains("lifetime_seconds"), "{body}");
        let (status, _, body) = call_with_body(&app, "POST", "/api/2.0/token/create", Some(ADMIN_TOKEN), r#"{"lifetime_seconds":0}"#).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["message"].as_str().expect("message").contains("lifetime_seconds"), "{body}");
        let (status, _, body) = call_with_body(&app, "POST", "/api/2.0/token/create", Some(ADMIN_TOKEN), "{not json").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error_code"], "MALFORMED_REQUEST");
        let (status, _, body) = call_with_body(&app, "POST", "/api/2.0/token/delete", Some(ADMIN_TOKEN), "{}").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["message"].as_str().expect("message").contains("token_id"), "{body}");
    }

    /// A non-admin needs CAN_USE on authorization/tokens; the denial names it.
    #[tokio::test]
    async fn creating_tokens_requires_can_use() {
        let (app, store) = app_with_store().await;
        let user = PrincipalRecord { display_name: "Dana".to_string(), ..PrincipalRecord::new(42, PrincipalKind::User, "dana@example.com") };
        store.create_principal(&user).await.expect("user");
        let users = store.find_principal(PrincipalKind::Group, "users").await.expect("find").expect("users group");
        store.add_group_members(users.id, &[42]).await.expect("membership");
        let dana_token = "dapidana0000000000000000000000000000";
        insert_token(&store, 42, dana_token).await;

        let (status, _, _) = call_with_body(&app, "POST", "/api/2.0/token/create", Some(dana_token), "{}").await;
        assert_eq!(status, StatusCode::OK, "users hold CAN_USE by default");

        let admins = store.find_principal(PrincipalKind::Group, "admins").await.expect("find").expect("admins group");
        store.set_acl("tokens", "tokens", &[AclEntry { principal_id: admins.id, level: "CAN_MANAGE".to_string() }]).await.expect("acl");
        let (status, _, body) = call_with_body(&app, "POST", "/api/2.0/token/create", Some(dana_token), "{}").await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["error_code"], "PERMISSION_DENIED");
        assert_eq!(body["message"], "dana@example.com does not have CAN_USE permission on authorization/tokens");

        let (status, _, body) = call_with_body(&app, "POST", "/api/2.0/token/delete", Some(dana_token), r#"{"token_id":"not-hers"}"#).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
}

mod scim {
    use super::*;

    const USERS: &str = "/api/2.0/preview/scim/v2/Users";

    #[tokio::test]
    async fn user_crud_filter_and_patch() {
        let app = app().await;
        let (status, _, created) = call_with_body(&app, "POST", USERS, Some(ADMIN_TOKEN), r#"{"userName":"eve@example.com","displayName":"Eve"}"#).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["id"].as_str().expect("id").to_string();
        assert_eq!(created["emails"][0]["value"], "eve@example.com");
        let groups: Vec<&str> = created["groups"].as_array().expect("groups").iter().filter_map(|g| g["display"].as_str()).collect();
        assert_eq!(groups, vec!["users"]);

        let (status, _, again) = call_with_body(&app, "POST", USERS, Some(ADMIN_TOKEN), r#"{"userName":"EVE@example.com"}"#).await;
        assert_eq!(status, StatusCode::CONFLICT, "{again}");
        assert_eq!(again["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error");

        let (_, _, found) = call(&app, "GET", &format!("{USERS}?filter=userName%20eq%20%22eve@example.com%22"), Some(ADMIN_TOKEN)).await;
        assert_eq!(found["totalResults"], 1);
        assert_eq!(found["Resources"][0]["id"], id.as_str());
        let (_, _, none) = call(&app, "GET", &format!("{USERS}?filter=displayName%20eq%20any-Xyz"), Some(ADMIN_TOKEN)).await;
        assert_eq!(none["totalResults"], 0);
        let (status, _, bad) = call(&app, "GET", &format!("{USERS}?filter=userName%20eq"), Some(ADMIN_TOKEN)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(bad["status"], "400");

        let patch = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false},{"op":"add","path":"entitlements","value":[{"value":"allow-cluster-create"}]}]}"#;
        let (status, _, patched) = call_with_body(&app, "PATCH", &format!("{USERS}/{id}"), Some(ADMIN_TOKEN), patch).await;
        assert_eq!(status, StatusCode::OK, "{patched}");
        assert_eq!(patched["active"], false);
        assert_eq!(patched["entitlements"][0]["value"], "allow-cluster-create");

        let (status, _, _) = call(&app, "DELETE", &format!("{USERS}/{id}"), Some(ADMIN_TOKEN)).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, _, missing) = call(&app, "GET", &format!("{USERS}/{id}"), Some(ADMIN_TOKEN)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(missing["status"], "404");
    }

    /// Resolved principals are cached; identity writes must still show on the next request.
    #[tokio::test]
    async fn membership_and_deactivation_apply_to_the_next_request() {
        let (app, store) = app_with_store().await;
        let (_, _, created) = call_with_body(&app, "POST", USERS, Some(ADMIN_TOKEN), r#"{"userName":"finn@example.com"}"#).await;
        let id = created["id"].as_str().expect("id").to_string();
        let finn_token = "dapifinn0000000000000000000000000000";
        insert_token(&store, id.parse().expect("numeric id"), finn_token).await;
        let group_names = |me: &serde_json::Value| -> Vec<String> {
            me["groups"].as_array().expect("groups").iter().filter_map(|g| g["display"].as_str().map(String::from)).collect()
        };
        let (status, _, me) = call(&app, "GET", "/api/2.0/preview/scim/v2/Me", Some(finn_token)).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(group_names(&me), vec!["users"]);
        let (status, _, _) = call(&app, "GET", "/api/2.0/token-management/tokens", Some(finn_token)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        let (_, _, admins) = call(&app, "GET", "/api/2.0/preview/scim/v2/Groups?filter=displayName%20eq%20admins", Some(ADMIN_TOKEN)).await;
        let admins_id = admins["Resources"][0]["id"].as_str().expect("admins id");
        let add = format!(r#"{{"Operations":[{{"op":"add","path":"members","value":[{{"value":"{id}"}}]}}]}}"#);
        let (status, _, _) = call_with_body(&app, "PATCH", &format!("/api/2.0/preview/scim/v2/Groups/{admins_id}"), Some(ADMIN_TOKEN), &add).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _, listed) = call(&app, "GET", "/api/2.0/token-management/tokens", Some(finn_token)).await;
        assert_eq!(status, StatusCode::OK, "an admin at once: {listed}");

        let deactivate = r#"{"Operations":[{"op":"replace","path":"active","value":false}]}"#;
        let (status, _, _) = call_with_body(&app, "PATCH", &format!("{USERS}/{id}"), Some(ADMIN_TOKEN), deactivate).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _, body) = call(&app, "GET", "/api/2.0/preview/scim/v2/Me", Some(finn_token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }

    #[tokio::test]
    async fn start_index_pages_to_an_empty_end() {
        let app = app().await;
        for n in 0..3 {
            let body = format!(r#"{{"userName":"page{n}@example.com"}}"#);
            call_with_body(&app, "POST", USERS, Some(ADMIN_TOKEN), &body).await;
        }
        let (_, _, first) = call(&app, "GET", &format!("{USERS}?startIndex=1&count=2"), Some(ADMIN_TOKEN)).await;
        let total = first["totalResults"].as_u64().expect("total");
        assert_eq!(total, 4, "three users and the admin");
        assert_eq!(first["Resources"].as_array().expect("resources").len(), 2);
        let (_, _, last) = call(&app, "GET", &format!("{USERS}?startIndex=3&count=2"), Some(ADMIN_TOKEN)).await;
        assert_eq!(last["Resources"].as_array().expect("resources").len(), 2);
        let (_, _, past) = call(&app, "GET", &format!("{USERS}?startIndex=5&count=2"), Some(ADMIN_TOKEN)).await;
        assert!(past["Resources"].as_array().expect("resources").is_empty());
    }
}

mod token_management {
    use super::*;

    #[tokio::test]
    async fn on_behalf_of_token_acts_as_the_service_principal_until_revoked() {
        let app = app().await;
        let (_, _, sp) = call_with_body(&app, "POST", "/api/2.0/preview/scim/v2/ServicePrincipals", Some(ADMIN_TOKEN), r#"{"displayName":"etl"}"#).await;
        let application_id = sp["applicationId"].as_str().expect("applicationId").to_string();
        let body = format!(r#"{{"application_id":"{application_id}","lifetime_seconds":600}}"#);
        let (status, _, created) = call_with_body(&app, "POST", "/api/2.0/token-management/on-behalf-of/tokens", Some(ADMIN_TOKEN), &body).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let value = created["token_value"].as_str().expect("token_value").to_string();
        assert_eq!(created["token_info"]["owner_id"].to_string(), sp["id"].as_str().expect("id"));
        assert_eq!(created["token_info"]["created_by_username"], "admin@kiln.local");

        let (_, _, me) = call(&app, "GET", "/api/2.0/preview/scim/v2/Me", Some(&value)).await;
        assert_eq!(me["userName"], application_id.as_str());
        let (status, _, denied) = call(&app, "GET", "/api/2.0/token-management/tokens", Some(&value)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(denied["message"].as_str().expect("message").contains("workspace admin"), "{denied}");

        let token_id = created["token_info"]["token_id"].as_str().expect("token_id");
        let (status, _, _) = call(&app, "DELETE", &format!("/api/2.0/token-management/tokens/{token_id}"), Some(ADMIN_TOKEN)).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _, _) = call(&app, "GET", "/api/2.0/preview/scim/v2/Me", Some(&value)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

mod permissions {
    use super::*;
    use kiln_store::ObjectRecord;

    #[tokio::test]
    async fn notebook_inherits_from_its_directory_and_owner_is_unique() {
        let (app, store) = app_with_store().await;
        let object = |object_type: &str, id: &str, parent: Option<(&str, &str)>| ObjectRecord {
            object_type: object_type.to_string(),
            object_id: id.to_string(),
            parent: parent.map(|(t, i)| (t.to_string(), i.to_string())),
        };
        store.upsert_object(&object("directories", "7", None)).await.expect("dir");
        store.upsert_object(&object("notebooks", "8", Some(("directories", "7")))).await.expect("notebook");
        call_with_body(&app, "POST", "/api/2.0/preview/scim/v2/Users", Some(ADMIN_TOKEN), r#"{"userName":"fay@example.com"}"#).await;

        let grant = r#"{"access_control_list":[{"user_name":"fay@example.com","permission_level":"CAN_EDIT"}]}"#;
        let (status, _, acl) = call_with_body(&app, "PUT", "/api/2.0/permissions/directories/7", Some(ADMIN_TOKEN), grant).await;
        assert_eq!(status, StatusCode::OK, "{acl}");
        assert_eq!(acl["object_id"], "/directories/7");
        assert_eq!(acl["object_type"], "directory");

        let (_, _, inherited) = call(&app, "GET", "/api/2.0/permissions/notebooks/8", Some(ADMIN_TOKEN)).await;
        let entry = &inherited["access_control_list"][0];
        assert_eq!(entry["user_name"], "fay@example.com");
        assert_eq!(entry["all_permissions"][0]["permission_level"], "CAN_EDIT");
        assert_eq!(entry["all_permissions"][0]["inherited"], true);
        assert_eq!(entry["all_permissions"][0]["inherited_from_object"][0], "/directories/7");

        let bad_level = r#"{"access_control_list":[{"user_name":"fay@example.com","permission_level":"CAN_FLY"}]}"#;
        let (status, _, body) = call_with_body(&app, "PATCH", "/api/2.0/permissions/notebooks/8", Some(ADMIN_TOKEN), bad_level).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["message"].as_str().expect("message").contains("access_control_list[0].permission_level CAN_FLY"), "{body}");

        store.upsert_object(&object("jobs", "5", None)).await.expect("job");
        let two_owners = r#"{"access_control_list":[{"user_name":"fay@example.com","permission_level":"IS_OWNER"},{"user_name":"admin@kiln.local","permission_level":"IS_OWNER"}]}"#;
        let (status, _, _) = call_with_body(&app, "PUT", "/api/2.0/permissions/jobs/5", Some(ADMIN_TOKEN), two_owners).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        let (status, _, missing) = call(&app, "GET", "/api/2.0/permissions/jobs/404", Some(ADMIN_TOKEN)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(missing["error_code"], "RESOURCE_DOES_NOT_EXIST");
        let (_, _, levels) = call(&app, "GET", "/api/2.0/permissions/jobs/5/permissionLevels", Some(ADMIN_TOKEN)).await;
        let names: Vec<&str> = levels["permission_levels"].as_array().expect("levels").iter().filter_map(|l| l["permission_level"].as_str()).collect();
        assert_eq!(names, vec!["CAN_VIEW", "CAN_MANAGE_RUN", "CAN_MANAGE", "IS_OWNER"]);
    }
}

mod audit {
    use super::*;

    #[tokio::test]
    async fn requests_and_decisions_are_audited_without_secrets() {
        let app = app().await;
        let (_, headers, created) = call_with_body(&app, "POST", "/api/2.0/token/create", Some(ADMIN_TOKEN), r#"{"comment":"audited"}"#).await;
        let request_id = headers["x-request-id"].to_str().expect("request id").to_string();
        let value = created["token_value"].as_str().expect("token_value").to_string();

        let (status, _, page) = call(&app, "GET", &format!("/api/2.0/kiln/audit-events?request_id={request_id}"), Some(ADMIN_TOKEN)).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let events = page["events"].as_array().expect("events");
        let decisions: Vec<&str> = events.iter().filter_map(|e| e["decision"].as_str()).collect();
        assert_eq!(decisions, vec!["allow", "request"], "the request is recorded once answered: {page}");
        assert_eq!(events[1]["action"], "POST /api/2.0/token/create");
        assert_eq!(events[1]["status"], 200);
        assert_eq!(events[0]["object"], "authorization/tokens");
        assert_eq!(events[0]["principal_name"], "admin@kiln.local");

        let (_, _, everything) = call(&app, "GET", "/api/2.0/kiln/audit-events?max_results=1000", Some(ADMIN_TOKEN)).await;
        let text = everything.to_string();
        assert!(!text.contains(&value) && !text.contains(ADMIN_TOKEN), "no token value in the audit log");

        let (_, _, first) = call(&app, "GET", "/api/2.0/kiln/audit-events?max_results=1", Some(ADMIN_TOKEN)).await;
        let token = first["next_page_token"].as_str().expect("more pages");
        let (_, _, second) = call(&app, "GET", &format!("/api/2.0/kiln/audit-events?max_results=1&page_token={token}"), Some(ADMIN_TOKEN)).await;
        assert!(second["events"][0]["seq"].as_i64() > first["events"][0]["seq"].as_i64());
    }
}

mod oauth {
    use super::*;

    async fn form_post(app: &axum::Router, body: &str, basic: Option<&str>) -> (StatusCode, serde_json::Value) {
        let mut request = Request::builder().method("POST").uri("/oidc/v1/token").header("content-type", "application/x-www-form-urlencoded");
        if let Some(basic) = basic {
            request = request.header("authorization", format!("Basic {basic}"));
        }
        let response = app.clone().oneshot(request.body(Body::from(body.to_string())).expect("request")).await.expect("response");
        let status = response.status();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        (status, serde_json::from_slice(&bytes).expect("json"))
    }

    #[tokio::test]
    async fn client_credentials_mint_a_token_that_acts_as_the_service_principal() {
        use base64::Engine;
        let app = app().await;
        let (_, _, sp) = call_with_body(&app, "POST", "/api/2.0/preview/scim/v2/ServicePrincipals", Some(ADMIN_TOKEN), r#"{"displayName":"m2m"}"#).await;
        let sp_id = sp["id"].as_str().expect("id");
        let client_id = sp["applicationId"].as_str().expect("applicationId");
        let path = format!("/api/2.0/accounts/servicePrincipals/{sp_id}/credentials/secrets");
        let (status, _, created) = call_with_body(&app, "POST", &path, Some(ADMIN_TOKEN), r#"{"lifetime":"3600s"}"#).await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let secret = created["secret"].as_str().expect("secret");
        assert_eq!(created["status"], "ACTIVE");

        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{secret}"));
        let (status, token) = form_post(&app, "grant_type=client_credentials&scope=all-apis", Some(&basic)).await;
        assert_eq!(status, StatusCode::OK, "{token}");
        assert_eq!(token["token_type"], "Bearer");
        assert_eq!(token["expires_in"], 3600);
        let access_token = token["access_token"].as_str().expect("access_token");
        let (status, _, me) = call(&app, "GET", "/api/2.0/preview/scim/v2/Me", Some(access_token)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["userName"], client_id);

        let (status, wrong) = form_post(&app, &format!("grant_type=client_credentials&client_id={client_id}&client_secret=nope"), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong["error"], "invalid_client");
        let (status, grant) = form_post(&app, "grant_type=password", Some(&basic)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(grant["error"], "unsupported_grant_type");

        let (_, _, listed) = call(&app, "GET", &path, Some(ADMIN_TOKEN)).await;
        assert!(!listed.to_string().contains(secret), "listing never shows the secret");
        let secret_id = created["id"].as_str().expect("id");
        let (status, _, _) = call(&app, "DELETE", &format!("{path}/{secret_id}"), Some(ADMIN_TOKEN)).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = form_post(&app, "grant_type=client_credentials", Some(&basic)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _, _) = call(&app, "GET", "/api/2.0/preview/scim/v2/Me", Some("not.a.jwt")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn oversized_body_is_413() {
    let app = app().await;
    let huge = format!(r#"{{"comment":"{}"}}"#, "x".repeat(17 * 1024 * 1024));
    let (status, _, body) = call_with_body(&app, "POST", "/api/2.0/token/create", Some(ADMIN_TOKEN), &huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["error_code"], "REQUEST_ENTITY_TOO_LARGE");
}

/// A handler panic is answered as a 500 naming a reference id, and still audited.
#[tokio::test]
async fn handler_panic_is_a_500_with_a_reference_id() {
    let store: Arc<dyn kiln_store::Store> = Arc::new(SqliteStore::open(":memory:").await.expect("store"));
    let (state, _) = kiln_server::build_state(store, Some(ADMIN_TOKEN), b"test-signing-key", &scratch_dir(), "127.0.0.1:8080").await.expect("state");
    async fn panics(_caller: kiln_server::routes::CallerExtractor) -> &'static str {
        panic!("deliberate test panic")
    }
    let panicking = axum::Router::new().route("/api/2.0/kiln/test-panic", axum::routing::get(panics));
    let app = kiln_server::routes::with_service_layers(panicking.merge(kiln_server::routes::router_without_layers()), state);
    let (status, headers, body) = call(&app, "GET", "/api/2.0/kiln/test-panic", Some(ADMIN_TOKEN)).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["error_code"], "INTERNAL_ERROR");
    assert!(body["message"].as_str().expect("message").contains("reference id"), "{body}");
    assert!(!body.to_string().contains("deliberate"), "panic details stay in the log: {body}");
    let request_id = headers["x-request-id"].to_str().expect("request id");
    let (_, _, page) = call(&app, "GET", &format!("/api/2.0/kiln/audit-events?request_id={request_id}"), Some(ADMIN_TOKEN)).await;
    assert_eq!(page["events"][0]["status"], 500, "{page}");
}

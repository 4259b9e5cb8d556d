//! HTTP tests: the router driven in-process over a fresh in-memory store.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use kiln_store_sqlite::SqliteStore;
use tower::ServiceExt;

const ADMIN_TOKEN: &str = "dapi0123456789abcdef0123456789abcdef";

async fn app() -> axum::Router {
    let store = SqliteStore::open(":memory:").await.expect("store");
    let (state, _) = kiln_server::build_state(Arc::new(store), Some(ADMIN_TOKEN)).await.expect("state");
    kiln_server::routes::router(state)
}

async fn call(app: &axum::Router, method: &str, path: &str, token: Option<&str>) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = app.clone().oneshot(request.body(Body::empty()).expect("request")).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let json = if bytes.is_empty() { serde_json::Value::Null } else { serde_json::from_slice(&bytes).expect("json body") };
    (status, headers, json)
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
    let (status, _, body) = call(&app, "GET", "/api/2.1/clusters/list", Some(ADMIN_TOKEN)).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(body["error_code"], "NOT_IMPLEMENTED");
    assert!(body["message"].as_str().expect("message").contains("/api/2.1/clusters/list"));
}

use axum::http::Method;

use super::{is_databricks_route, template_matches};

#[test]
fn templates_match_whole_segments_and_path_tails() {
    assert!(template_matches("/api/2.0/mlflow/experiments/{}", "/api/2.0/mlflow/experiments/42"));
    assert!(!template_matches("/api/2.0/mlflow/experiments/{}", "/api/2.0/mlflow/experiments/42/x"));
    assert!(!template_matches("/api/2.0/mlflow/experiments/{}", "/api/2.0/mlflow/experiments/"));
    assert!(template_matches("/api/2.0/fs/files{}", "/api/2.0/fs/files/Volumes/a/b/c/d.txt"));
    assert!(template_matches("/api/2.1/unity-catalog/{+}/user-credentials", "/api/2.1/unity-catalog/a/b/user-credentials"));
    assert!(!template_matches("/api/2.1/unity-catalog/{+}/user-credentials", "/api/2.1/unity-catalog/a/user-credentials"));
    assert!(!template_matches("/api/2.1/unity-catalog/{+}", "/api/2.1/unity-catalog/catalogz"));
}

#[test]
fn only_real_databricks_routes_are_planned() {
    assert!(is_databricks_route(&Method::GET, "/api/2.0/mlflow/experiments/get"));
    assert!(is_databricks_route(&Method::POST, "/serving-endpoints/model/invocations"));
    assert!(!is_databricks_route(&Method::GET, "/api/2.0/preview/scim/v2/Me/typo"));
    assert!(!is_databricks_route(&Method::GET, "/api/2.0/jobs/lisst"));
    assert!(!is_databricks_route(&Method::GET, "/api/2.0/mlflow/no-such-thing"));
}

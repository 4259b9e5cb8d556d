//! `/api/2.0/clusters` and `/api/2.1/clusters` over [`kiln_core::clusters`], and Kiln's route
//! for `spark.sql` on a cluster's driver.

use axum::extract::{RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use kiln_api::clusters::*;
use kiln_api::page::{paginate};
use kiln_core::Error;
use kiln_core::clusters::{ListFilter, spec};
use kiln_store::ClusterEventFilter;

use super::{CallerExtractor, empty, page_cursor, start_offset};
use crate::error::ApiError;
use crate::extract::AppJson;
use crate::state::AppState;

/// Events per page when the request names no limit, and the most it may ask for.
const DEFAULT_EVENTS: usize = 50;
const MAX_EVENTS: usize = 500;

pub(super) fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for version in ["2.0", "2.1"] {
        let base = format!("/api/{version}/clusters");
        router = router
            .route(&format!("{base}/create"), post(create))
            .route(&format!("{base}/edit"), post(edit))
            .route(&format!("{base}/update"), post(update))
            .route(&format!("{base}/get"), get(get_cluster))
            .route(&format!("{base}/list"), get(list))
            .route(&format!("{base}/start"), post(start))
            .route(&format!("{base}/restart"), post(restart))
            .route(&format!("{base}/resize"), post(resize))
            .route(&format!("{base}/delete"), post(terminate))
            .route(&format!("{base}/permanent-delete"), post(permanent_delete))
            .route(&format!("{base}/pin"), post(pin))
            .route(&format!("{base}/unpin"), post(unpin))
            .route(&format!("{base}/change-owner"), post(change_owner))
            .route(&format!("{base}/events"), post(events))
            .route(&format!("{base}/spark-versions"), get(spark_versions))
            .route(&format!("{base}/list-node-types"), get(list_node_types))
            .route(&format!("{base}/list-zones"), get(list_zones));
    }
    router.route("/api/2.0/kiln/clusters/sql", post(driver_sql))
}

type Reply<T> = Result<Json<T>, ApiError>;

async fn create(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(body): AppJson<serde_json::Value>) -> Reply<CreateClusterResponse> {
    Ok(Json(CreateClusterResponse { cluster_id: state.clusters.create(&caller, &body).await? }))
}

async fn edit(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(body): AppJson<serde_json::Value>) -> Reply<serde_json::Value> {
    let cluster_id = body.get("cluster_id").and_then(|v| v.as_str()).ok_or_else(|| Error::invalid("cluster_id is required"))?;
    state.clusters.edit(&caller, cluster_id, &body).await?;
    Ok(empty())
}

async fn update(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<UpdateClusterRequest>) -> Reply<serde_json::Value> {
    state.clusters.update(&caller, &request.cluster_id, &request.update_mask, &request.cluster).await?;
    Ok(empty())
}

/// The query as ordered pairs: list filters repeat keys (`filter_by.cluster_states=A&...=B`).
fn query_pairs(query: &Option<String>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes()).into_owned().collect()
}

async fn get_cluster(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, RawQuery(query): RawQuery) -> Reply<serde_json::Value> {
    let cluster_id = query_pairs(&query).into_iter().find(|(k, _)| k == "cluster_id").map(|(_, v)| v).unwrap_or_default();
    Ok(Json(state.clusters.get(&caller, &cluster_id).await?))
}

/// Cluster states and sources a list may filter by (`State` and `ClusterSource` in the SDK).
const CLUSTER_STATES: &[&str] = &["ERROR", "PENDING", "RESIZING", "RESTARTING", "RUNNING", "TERMINATED", "TERMINATING", "UNKNOWN"];
const CLUSTER_SOURCES: &[&str] = &["API", "JOB", "MODELS", "PIPELINE", "PIPELINE_MAINTENANCE", "SQL", "UI"];

/// `value` if it is one of `allowed`, else an error naming the parameter `key`.
fn one_of(key: &str, value: String, allowed: &[&str]) -> Result<String, Error> {
    if allowed.contains(&value.as_str()) {
        return Ok(value);
    }
    Err(Error::invalid(format!("{key} '{}' must be one of {}", value.escape_debug(), allowed.join(", "))))
}

async fn list(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, RawQuery(query): RawQuery) -> Reply<ListClustersResponse> {
    let mut filter = ListFilter::default();
    let (mut page_size, mut page_token) = (None, None);
    for (key, value) in query_pairs(&query) {
        match key.as_str() {
            "filter_by.cluster_states" => filter.states.push(one_of(&key, value, CLUSTER_STATES)?),
            "filter_by.cluster_sources" => filter.sources.push(one_of(&key, value, CLUSTER_SOURCES)?),
            "filter_by.is_pinned" => filter.is_pinned = Some(value.parse::<bool>().map_err(|_| Error::invalid(format!("{key} must be true or false")))?),
            "page_size" => page_size = Some(value.parse::<i64>().map_err(|_| Error::invalid(format!("page_size '{value}' is not a number")))?),
            "page_token" => page_token = Some(value),
            _ => {}
        }
    }
    let cursor = page_cursor(page_token.as_deref())?;
    let all = state.clusters.list(&caller, &filter).await?;
    let (clusters, next_page_token) = paginate(all, cursor, super::page_size("page_size", page_size, 500, 500)?);
    Ok(Json(ListClustersResponse { clusters, next_page_token }))
}

async fn start(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<ClusterIdRequest>) -> Reply<serde_json::Value> {
    state.clusters.start(&caller, &request.cluster_id).await?;
    Ok(empty())
}

async fn restart(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<ClusterIdRequest>) -> Reply<serde_json::Value> {
    state.clusters.restart(&caller, &request.cluster_id).await?;
    Ok(empty())
}

async fn resize(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<ResizeRequest>) -> Reply<serde_json::Value> {
    state.clusters.resize(&caller, &request.cluster_id, request.num_workers, request.autoscale).await?;
    Ok(empty())
}

async fn terminate(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<ClusterIdRequest>) -> Reply<serde_json::Value> {
    state.clusters.terminate(&caller, &request.cluster_id).await?;
    Ok(empty())
}

async fn permanent_delete(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<ClusterIdRequest>) -> Reply<serde_json::Value> {
    state.clusters.permanent_delete(&caller, &request.cluster_id).await?;
    Ok(empty())
}

async fn pin(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<ClusterIdRequest>) -> Reply<serde_json::Value> {
    state.clusters.set_pinned(&caller, &request.cluster_id, true).await?;
    Ok(empty())
}

async fn unpin(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<ClusterIdRequest>) -> Reply<serde_json::Value> {
    state.clusters.set_pinned(&caller, &request.cluster_id, false).await?;
    Ok(empty())
}

async fn change_owner(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<ChangeOwnerRequest>) -> Reply<serde_json::Value> {
    state.clusters.change_owner(&caller, &request.cluster_id, &request.owner_username).await?;
    Ok(empty())
}

/// Events page by `offset`/`limit`; `next_page` is the body of the next request.
async fn events(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<EventsRequest>) -> Reply<EventsResponse> {
    let newest_first = match request.order.as_deref() {
        None | Some("DESC") => true,
        Some("ASC") => false,
        Some(other) => return Err(Error::invalid(format!("order must be ASC or DESC, not '{other}'")).into()),
    };
    let offset = start_offset(request.page_token.as_deref(), request.offset)?;
    let size_field = if request.page_size.is_some() { "page_size" } else { "limit" };
    let requested = request.page_size.or(request.limit);
    // Databricks refuses a page of events over its maximum rather than clamping it.
    if requested.is_some_and(|n| n > MAX_EVENTS as i64) {
        return Err(Error::invalid(format!("{size_field} must be at most {MAX_EVENTS}")).into());
    }
    let limit = super::page_size(size_field, requested, DEFAULT_EVENTS, MAX_EVENTS)?;
    let filter = ClusterEventFilter { start_time_ms: request.start_time, end_time_ms: request.end_time, event_types: kiln_core::clusters::spec::event_types_filter(&request.event_types)?, newest_first };
    let (records, total) = state.clusters.events(&caller, &request.cluster_id, &filter, offset, limit).await?;
    let next_page = (offset + records.len() < total).then(|| EventsRequest { offset: Some((offset + records.len()) as i64), limit: Some(limit as i64), page_token: None, page_size: None, ..request.clone() });
    let events = records.into_iter().map(|e| ClusterEvent { cluster_id: e.cluster_id, timestamp: e.timestamp_ms, event_type: e.event_type, details: e.details }).collect();
    Ok(Json(EventsResponse { events, next_page, total_count: total as i64 }))
}

async fn spark_versions(CallerExtractor(_caller): CallerExtractor) -> Json<serde_json::Value> {
    Json(spec::spark_versions())
}

async fn list_node_types(CallerExtractor(_caller): CallerExtractor) -> Json<serde_json::Value> {
    Json(spec::node_types())
}

async fn list_zones(CallerExtractor(_caller): CallerExtractor) -> Json<serde_json::Value> {
    Json(serde_json::json!({"zones": ["local"], "default_zone": "local"}))
}

/// `spark.sql` from a driver, authenticated by the command's delegated token: the caller
/// must still be able to attach to the cluster.
async fn driver_sql(State(state): State<AppState>, CallerExtractor(caller): CallerExtractor, AppJson(request): AppJson<DriverSqlRequest>) -> Reply<DriverSqlResponse> {
    state.clusters.get(&caller, &request.cluster_id).await?;
    let catalog = request.catalog.filter(|c| !c.is_empty()).unwrap_or_else(|| "main".to_string());
    let schema = request.schema.filter(|s| !s.is_empty()).unwrap_or_else(|| "default".to_string());
    let parameters = request.parameters.into_iter().map(|p| (p.name, p.value)).collect();
    let result = kiln_engine::cluster_sql::run(&state.cluster_sql, &caller, &state.cluster_pool, &request.statement, &catalog, &schema, parameters)
        .await
        .map_err(|error| kiln_core::Error::new(kiln_core::ErrorCode::Specific(400, error.error_code), error.message))?;
    let columns = result.columns.into_iter().map(|c| DriverSqlColumn { name: c.name, type_name: c.type_name, type_text: c.type_text }).collect();
    Ok(Json(DriverSqlResponse { columns, rows: result.rows, truncated: result.truncated, catalog: result.catalog, schema: result.schema }))
}

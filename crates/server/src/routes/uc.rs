//! Unity Catalog REST 2.1 at `/api/2.1/unity-catalog`: catalogs, schemas, tables, volumes,
//! grants and the metastore. Full names arrive percent-decoded in the path.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use kiln_api::page::uc_page;
use kiln_api::uc::*;
use kiln_core::Error;
use kiln_core::uc::grants::parse_securable_type;

use super::{CallerExtractor, empty};
use crate::error::ApiError;
use crate::extract::{AppJson, Checked};
use crate::state::AppState;

const BASE: &str = "/api/2.1/unity-catalog";
/// Default and largest page of a UC list.
const DEFAULT_PAGE: usize = 1000;
const MAX_PAGE: usize = 1000;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(&format!("{BASE}/catalogs"), get(list_catalogs).post(create_catalog))
        .route(&format!("{BASE}/catalogs/{{name}}"), get(get_catalog).patch(update_catalog).delete(delete_catalog))
        .route(&format!("{BASE}/schemas"), get(list_schemas).post(create_schema))
        .route(&format!("{BASE}/schemas/{{full_name}}"), get(get_schema).patch(update_schema).delete(delete_schema))
        .route(&format!("{BASE}/tables"), get(list_tables).post(create_table))
        .route(&format!("{BASE}/tables/{{full_name}}"), get(get_table).patch(update_table).delete(delete_table))
        .route(&format!("{BASE}/tables/{{full_name}}/exists"), get(table_exists))
        .route(&format!("{BASE}/table-summaries"), get(table_summaries))
        .route(&format!("{BASE}/functions"), get(list_functions).post(create_function))
        .route(&format!("{BASE}/functions/{{name}}"), get(get_function).patch(update_function).delete(delete_function))
        .route(&format!("{BASE}/volumes"), get(list_volumes).post(create_volume))
        .route(&format!("{BASE}/volumes/{{name}}"), get(get_volume).patch(update_volume).delete(delete_volume))
        .route(&format!("{BASE}/permissions/{{securable_type}}/{{full_name}}"), get(get_grants).patch(update_grants))
        .route(&format!("{BASE}/effective-permissions/{{securable_type}}/{{full_name}}"), get(effective_grants))
        .route(&format!("{BASE}/metastore_summary"), get(metastore_summary))
        .route(&format!("{BASE}/current-metastore-assignment"), get(current_metastore))
}

type Caller = CallerExtractor;
type Reply<T> = Result<Json<T>, ApiError>;

fn page<T>(items: Vec<T>, query: &ListQuery) -> Result<(Vec<T>, Option<String>), ApiError> {
    uc_page(items, query.max_results, query.page_token.as_deref(), DEFAULT_PAGE, MAX_PAGE).map_err(|message| ApiError(Error::invalid(message)))
}

fn required<'a>(value: &'a Option<String>, field: &str) -> Result<&'a str, ApiError> {
    value.as_deref().filter(|v| !v.is_empty()).ok_or_else(|| ApiError(Error::invalid(format!("{field} is required"))))
}

async fn create_catalog(State(state): State<AppState>, CallerExtractor(caller): Caller, Checked(request): Checked<CreateCatalog>) -> Reply<CatalogInfo> {
    Ok(Json(state.uc.create_catalog(&caller, request).await?))
}

async fn list_catalogs(State(state): State<AppState>, CallerExtractor(caller): Caller, Query(query): Query<ListQuery>) -> Reply<ListCatalogsResponse> {
    let (catalogs, next_page_token) = page(state.uc.list_catalogs(&caller).await?, &query)?;
    Ok(Json(ListCatalogsResponse { catalogs, next_page_token }))
}

async fn get_catalog(State(state): State<AppState>, CallerExtractor(caller): Caller, Path(name): Path<String>) -> Reply<CatalogInfo> {
    Ok(Json(state.uc.get_catalog(&caller, &name).await?))
}

async fn update_catalog(
    State(state): State<AppState>,
    CallerExtractor(caller): Caller,
    Path(name): Path<String>,
    Checked(update): Checked<UpdateSecurable>,
) -> Reply<CatalogInfo> {
    Ok(Json(state.uc.update_catalog(&caller, &name, update).await?))
}

async fn delete_catalog(
    State(state): State<AppState>,
    CallerExtractor(caller): Caller,
    Path(name): Path<String>,
    Query(query): Query<ForceQuery>,
) -> Reply<serde_json::Value> {
    state.uc.delete_catalog(&caller, &name, query.force.unwrap_or(false)).await?;
    Ok(empty())
}

async fn create_schema(State(state): State<AppState>, CallerExtractor(caller): Caller, Checked(request): Checked<CreateSchema>) -> Reply<SchemaInfo> {
    Ok(Json(state.uc.create_schema(&caller, request).await?))
}

async fn list_schemas(State(state): State<AppState>, CallerExtractor(caller): Caller, Query(query): Query<ListQuery>) -> Reply<ListSchemasResponse> {
    let catalog_name = required(&query.catalog_name, "catalog_name")?;
    let (schemas, next_page_token) = page(state.uc.list_schemas(&caller, catalog_name).await?, &query)?;
    Ok(Json(ListSchemasResponse { schemas, next_page_token }))
}

async fn get_schema(State(state): State<AppState>, CallerExtractor(caller): Caller, Path(full_name): Path<String>) -> Reply<SchemaInfo> {
    Ok(Json(state.uc.get_schema(&caller, &full_name).await?))
}

async fn update_schema(
    State(state): State<AppState>,
    CallerExtractor(caller): Caller,
    Path(full_name): Path<String>,
    Checked(update): Checked<UpdateSecurable>,
) -> Reply<SchemaInfo> {
    Ok(Json(state.uc.update_schema(&caller, &full_name, update).await?))
}

async fn delete_schema(
    State(state): State<AppState>,
    CallerExtractor(caller): Caller,
    Path(full_name): Path<String>,
    Query(query): Query<ForceQuery>,
) -> Reply<serde_json::Value> {
    state.uc.delete_schema(&caller, &full_name, query.force.unwrap_or(false)).await?;
    Ok(empty())
}

async fn create_table(State(state): State<AppState>, CallerExtractor(caller): Caller, AppJson(request): AppJson<CreateTable>) -> Reply<TableInfo> {
    Ok(Json(state.uc.create_table_from_rest(&caller, request).await?))
}

async fn list_tables(State(state): State<AppState>, CallerExtractor(caller): Caller, Query(query): Query<ListQuery>) -> Reply<ListTablesResponse> {
    let catalog_name = required(&query.catalog_name, "catalog_name")?;
    let schema_name = required(&query.schema_name, "schema_name")?;
    let (tables, next_page_token) = page(state.uc.list_tables(&caller, catalog_name, schema_name).await?, &query)?;
    Ok(Json(ListTablesResponse { tables, next_page_token }))
}

async fn get_table(State(state): State<AppState>, CallerExtractor(caller): Caller, Path(full_name): Path<String>) -> Reply<TableInfo> {
    Ok(Json(state.uc.get_table(&caller, &full_name).await?))
}

async fn table_exists(State(state): State<AppState>, CallerExtractor(caller): Caller, Path(full_name): Path<String>) -> Reply<TableExistsResponse> {
    Ok(Json(TableExistsResponse { table_exists: state.uc.table_exists(&caller, &full_name).await? }))
}

async fn update_table(
    State(state): State<AppState>,
    CallerExtractor(caller): Caller,
    Path(full_name): Path<String>,
    Checked(update): Checked<UpdateSecurable>,
) -> Reply<serde_json::Value> {
    state.uc.set_table_owner(&caller, &full_name, update.owner).await?;
    Ok(empty())
}

async fn delete_table(State(state): State<AppState>, CallerExtractor(caller): Caller, Path(full_name): Path<String>) -> Reply<serde_json::Value> {
    state.uc.delete_table(&caller, &full_name).await?;
    Ok(empty())
}

async fn table_summaries(
    State(state): State<AppState>,
    CallerExtractor(caller): Caller,
    Query(query): Query<ListSummariesQuery>,
) -> Reply<ListTableSummariesResponse> {
    let catalog_name = required(&query.catalog_name, "catalog_name")?;
    let summaries = state.uc.table_summaries(&caller, catalog_name, query.schema_name_pattern.as_deref(), query.table_name_pattern.as_deref()).await?;
    let paging = ListQuery { max_results: query.max_results, page_token: query.page_token.clone(), ..Default::default() };
    let (tables, next_page_token) = page(summaries, &paging)?;
    Ok(Json(ListTableSummariesResponse { tables, next_page_token }))
}

async fn create_volume(State(state): State<AppState>, CallerExtractor(caller): Caller, Checked(request): Checked<CreateVolume>) -> Reply<VolumeInfo> {
    Ok(Json(state.uc.create_volume(&caller, request).await?))
}

async fn list_volumes(State(state): State<AppState>, CallerExtractor(caller): Caller, Query(query): Query<ListQuery>) -> Reply<ListVolumesResponse> {
    let catalog_name = required(&query.catalog_name, "catalog_name")?;
    let schema_name = required(&query.schema_name, "schema_name")?;
    let (volumes, next_page_token) = page(state.uc.list_volumes(&caller, catalog_name, schema_name).await?, &query)?;
    Ok(Json(ListVolumesResponse { volumes, next_page_token }))
}

async fn get_volume(State(state): State<AppState>, CallerExtractor(caller): Caller, Path(name): Path<String>) -> Reply<VolumeInfo> {
    Ok(Json(state.uc.get_volume(&caller, &name).await?))
}

async fn update_volume(
    State(state): State<AppState>,
    CallerExtractor(caller): Caller,
    Path(name): Path<String>,
    Checked(update): Checked<UpdateSecurable>,
) -> Reply<VolumeInfo> {
    Ok(Json(state.uc.update_volume(&caller, &name, update).await?))
}

async fn delete_volume(State(state): State<AppState>, CallerExtractor(caller): Caller, Path(name): Path<String>) -> Reply<serde_json::Value> {
    state.uc.delete_volume(&caller, &name).await?;
    Ok(empty())
}

async fn create_function(State(state): State<AppState>, CallerExtractor(caller): Caller, Checked(request): Checked<CreateFunctionRequest>) -> Reply<FunctionInfo> {
    // Unity Catalog keeps the body as text; it must at least read as the SQL it expands to.
    let body = &request.function_info.routine_definition;
    let is_sql = request.function_info.routine_body.eq_ignore_ascii_case("SQL");
    if is_sql && let Err(error) = kiln_engine::parse::parse_expression(&format!("({body})")) {
        return Err(Error::invalid(format!("function_info.routine_definition is not a SQL expression or query: {}", error.message)).into());
    }
    Ok(Json(state.uc.create_function(&caller, request.function_info).await?))
}

async fn list_functions(State(state): State<AppState>, CallerExtractor(caller): Caller, Query(query): Query<ListQuery>) -> Reply<ListFunctionsResponse> {
    let catalog_name = required(&query.catalog_name, "catalog_name")?;
    let schema_name = required(&query.schema_name, "schema_name")?;
    let (functions, next_page_token) = page(state.uc.list_functions(&caller, catalog_name, schema_name).await?, &query)?;
    Ok(Json(ListFunctionsResponse { functions, next_page_token }))
}

async fn get_function(State(state): State<AppState>, CallerExtractor(caller): Caller, Path(name): Path<String>) -> Reply<FunctionInfo> {
    Ok(Json(state.uc.get_function(&caller, &name).await?))
}

async fn update_function(
    State(state): State<AppState>,
    CallerExtractor(caller): Caller,
    Path(name): Path<String>,
    Checked(update): Checked<UpdateSecurable>,
) -> Reply<FunctionInfo> {
    Ok(Json(state.uc.update_function(&caller, &name, update.owner).await?))
}

async fn delete_function(State(state): State<AppState>, CallerExtractor(caller): Caller, Path(name): Path<String>) -> Reply<serde_json::Value> {
    state.uc.delete_function(&caller, &name).await?;
    Ok(empty())
}

async fn get_grants(
    State(state): State<AppState>,
    CallerExtractor(caller): Caller,
    Path((securable_type, full_name)): Path<(String, String)>,
    Query(query): Query<GrantsQuery>,
) -> Reply<GetPermissionsResponse> {
    let path = state.uc.grant_target(&caller, parse_securable_type(&securable_type)?, &full_name).await?;
    let privilege_assignments = state.uc.get_grants(&caller, &path, query.principal.as_deref()).await?;
    Ok(Json(GetPermissionsResponse { privilege_assignments }))
}

async fn update_grants(
    State(state): State<AppState>,
    CallerExtractor(caller): Caller,
    Path((securable_type, full_name)): Path<(String, String)>,
    Checked(request): Checked<UpdatePermissions>,
) -> Reply<GetPermissionsResponse> {
    let path = state.uc.grant_target(&caller, parse_securable_type(&securable_type)?, &full_name).await?;
    let privilege_assignments = state.uc.update_grants(&caller, &path, &request.changes).await?;
    Ok(Json(GetPermissionsResponse { privilege_assignments }))
}

async fn effective_grants(
    State(state): State<AppState>,
    CallerExtractor(caller): Caller,
    Path((securable_type, full_name)): Path<(String, String)>,
    Query(query): Query<GrantsQuery>,
) -> Reply<EffectivePermissionsList> {
    let path = state.uc.grant_target(&caller, parse_securable_type(&securable_type)?, &full_name).await?;
    let privilege_assignments = state.uc.effective_grants(&caller, &path, query.principal.as_deref()).await?;
    Ok(Json(EffectivePermissionsList { privilege_assignments }))
}

async fn metastore_summary(State(state): State<AppState>, CallerExtractor(_caller): Caller) -> Reply<MetastoreSummary> {
    Ok(Json(state.uc.metastore_summary().await?))
}

async fn current_metastore(State(state): State<AppState>, CallerExtractor(_caller): Caller) -> Reply<MetastoreAssignment> {
    Ok(Json(MetastoreAssignment {
        workspace_id: state.workspace.workspace_id,
        metastore_id: state.uc.metastore_id().to_string(),
        default_catalog_name: kiln_core::uc::DEFAULT_CATALOG.to_string(),
    }))
}

//! The governed catalog DataFusion plans against. Every table reference of a statement goes
//! through [`GovernedSchema::table`], which resolves it in Unity Catalog for the caller and
//! checks the privilege the statement needs (SELECT to read, MODIFY for a write target)
//! before DataFusion sees the table; a table the caller may not see is "not found".

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, CatalogProviderList, SchemaProvider, TableProvider};
use datafusion::error::DataFusionError;
use deltalake::DeltaTableBuilder;
use kiln_core::Error;
use kiln_core::authz::{Privilege, SecurablePath};
use kiln_core::principal::Caller;
use kiln_core::uc::UnityCatalog;
use kiln_core::uc::tables::TableSpec;
use datafusion::catalog::view::ViewTable;
use datafusion::sql::parser::Statement as DfStatement;
use kiln_core::authn::Authenticator;
use kiln_store::SecurableKind;

use crate::error::SqlError;
use crate::{audit_table, information_schema};
use crate::exec::views::{VIEW_CATALOG_PROPERTY, VIEW_SCHEMA_PROPERTY};
use crate::parse::{KilnStatement, parse_statement};
use crate::session::{ExecutionPool, session_state};

/// A reference's time travel, carried in the table name as `name@v12` or `name@t<ms>`
/// because DataFusion's planner drops `VERSION AS OF` (see [`crate::exec`]).
pub const TIME_TRAVEL_MARK: char = '@';

/// Deepest nesting of views one reference may read through.
const MAX_VIEW_DEPTH: usize = 16;

/// What one statement may do with each table it names.
#[derive(Debug, Clone)]
pub struct Access {
    pub uc: UnityCatalog,
    /// Whose privileges apply: the statement's caller, or inside a view its owner.
    pub caller: Caller,
    /// Who runs the statement: `current_user()` answers them, even inside a view.
    pub invoker: String,
    /// `catalog.schema.table` of tables the statement writes: they need MODIFY.
    pub write_targets: HashSet<String>,
    /// Views are planned in a session of their own, from the statement's pool.
    pub pool: ExecutionPool,
    /// Resolves a view's owner.
    pub principals: Authenticator,
    /// How many views enclose this reference.
    pub view_depth: usize,
}

impl Access {
    /// What a view's query may read: what its owner may read, never a write.
    async fn for_view(&self, view: &SecurablePath) -> Result<Access, SqlError> {
        let full_name = view.full_name();
        if self.view_depth >= MAX_VIEW_DEPTH {
            return Err(SqlError::condition("RECURSIVE_VIEW", format!("reading {full_name} goes through more than {MAX_VIEW_DEPTH} nested views: does a view read itself?"), "42K0H"));
        }
        let owner_name = &view.leaf().owner;
        let owner = match self.uc.store().find_principal_by_name(owner_name).await.map_err(|e| SqlError::from_core(e.into()))? {
            Some(record) => self.principals.resolve(record.id).await.map_err(SqlError::from_core)?,
            None => None,
        };
        let owner = owner.ok_or_else(|| SqlError::bad_request(format!("The view {full_name} cannot be read: its owner '{owner_name}' no longer exists. Its owner must be changed first.")))?;
        Ok(Access {
            caller: Caller { principal: owner, request_id: self.caller.request_id.clone() },
            write_targets: HashSet::new(),
            view_depth: self.view_depth + 1,
            ..self.clone()
        })
    }
}

#[derive(Debug)]
pub struct GovernedCatalogs {
    access: Arc<Access>,
}

impl GovernedCatalogs {
    pub fn new(access: Arc<Access>) -> GovernedCatalogs {
        GovernedCatalogs { access }
    }
}

impl CatalogProviderList for GovernedCatalogs {
    fn register_catalog(&self, _name: String, _catalog: Arc<dyn CatalogProvider>) -> Option<Arc<dyn CatalogProvider>> {
        None
    }

    /// Names are resolved lazily, per reference; SHOW and information_schema are served by
    /// the statement layer, not by listing here.
    fn catalog_names(&self) -> Vec<String> {
        Vec::new()
    }

    fn catalog(&self, name: &str) -> Option<Arc<dyn CatalogProvider>> {
        Some(Arc::new(GovernedCatalog { name: name.to_lowercase(), access: self.access.clone() }))
    }
}

#[derive(Debug)]
struct GovernedCatalog {
    name: String,
    access: Arc<Access>,
}

impl CatalogProvider for GovernedCatalog {
    fn schema_names(&self) -> Vec<String> {
        Vec::new()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        Some(Arc::new(GovernedSchema { catalog: self.name.clone(), name: name.to_lowercase(), access: self.access.clone() }))
    }
}

#[derive(Debug)]
pub struct GovernedSchema {
    catalog: String,
    name: String,
    access: Arc<Access>,
}

/// How a reference reads a table: the latest version, a version, or as of a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableVersion {
    Latest,
    Version(u64),
    AsOfMillis(i64),
}

/// Splits `orders@v3` / `orders@t1700000000000` into the name and its version.
pub fn split_time_travel(name: &str) -> (String, TableVersion) {
    if let Some((table, suffix)) = name.rsplit_once(TIME_TRAVEL_MARK) {
        if let Some(version) = suffix.strip_prefix('v').and_then(|v| v.parse().ok()) {
            return (table.to_string(), TableVersion::Version(version));
        }
        if let Some(millis) = suffix.strip_prefix('t').and_then(|v| v.parse().ok()) {
            return (table.to_string(), TableVersion::AsOfMillis(millis));
        }
    }
    (name.to_string(), TableVersion::Latest)
}

impl GovernedSchema {
    /// `<catalog>.information_schema.*` and `system.access.audit`, which are built from
    /// Unity Catalog and the audit log rather than stored.
    async fn system_table(&self, table: &str) -> Result<Option<Arc<dyn TableProvider>>, SqlError> {
        if self.name == information_schema::SCHEMA_NAME {
            return information_schema::view(&self.access, &self.catalog, table).await;
        }
        if self.catalog == information_schema::SYSTEM_CATALOG && self.name == audit_table::SCHEMA_NAME && table == audit_table::TABLE_NAME {
            return audit_table::table(&self.access).await.map(Some);
        }
        Ok(None)
    }
}

fn external(error: SqlError) -> DataFusionError {
    DataFusionError::External(Box::new(error))
}

#[async_trait]
impl SchemaProvider for GovernedSchema {
    fn table_names(&self) -> Vec<String> {
        Vec::new()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>, DataFusionError> {
        let (table, version) = split_time_travel(&name.to_lowercase());
        if let Some(provider) = self.system_table(&table).await.map_err(external)? {
            return Ok(Some(provider));
        }
        let parts = [self.catalog.clone(), self.name.clone(), table];
        let full_name = parts.join(".");
        // A name that is not a table may still be a table function (`range(10)`): answer
        // "none" and let DataFusion try those; its "not found" becomes TABLE_OR_VIEW_NOT_FOUND.
        let path = match resolve_table(&self.access, &parts).await {
            Ok(path) => path,
            Err(error) if error.sql_state == Some("42P01") => return Ok(None),
            Err(error) => return Err(external(error)),
        };
        let spec = TableSpec::of(path.leaf());
        let writes = self.access.write_targets.contains(&full_name);
        if spec.is_view() && writes {
            return Err(external(SqlError::condition("EXPECT_TABLE_NOT_VIEW.NO_ALTERNATIVE", format!("{full_name} is a view: only tables can be written."), "42809")));
        }
        if spec.is_view() && version != TableVersion::Latest {
            return Err(external(SqlError::bad_request(format!("{full_name} is a view: time travel (VERSION AS OF, TIMESTAMP AS OF) reads tables only"))));
        }
        let privilege = if writes { Privilege::Modify } else { Privilege::Select };
        let action = if writes { "sql.write" } else { "sql.read" };
        self.access.uc.authz().require_privilege(&self.access.caller, action, &path, privilege).await.map_err(|e| external(SqlError::from_core(e)))?;
        if spec.is_view() {
            return view_provider(&self.access, &path, &spec).await.map(Some).map_err(external);
        }
        open_provider(&self.access.uc, &path, version).await.map(Some).map_err(external)
    }

    fn table_exist(&self, _name: &str) -> bool {
        false
    }
}

/// A view as DataFusion reads it: its query planned now, with the owner's privileges and
/// the catalog and schema it was created in, under the view's column names.
async fn view_provider(access: &Access, path: &SecurablePath, spec: &TableSpec) -> Result<Arc<dyn TableProvider>, SqlError> {
    let full_name = path.full_name();
    let definition = spec.view_definition.clone().ok_or_else(|| SqlError::internal(format!("the view {full_name} has no query")))?;
    let view_access = Arc::new(access.for_view(path).await?);
    let properties = &path.leaf().properties;
    let context = |key: &str, depth: usize| properties.get(key).and_then(|v| v.as_str()).map(str::to_string).unwrap_or_else(|| path.nodes[depth].name.clone());
    let (catalog, schema) = (context(VIEW_CATALOG_PROPERTY, 1), context(VIEW_SCHEMA_PROPERTY, 2));
    let state = session_state(&access.pool, view_access.clone(), &catalog, &schema).map_err(SqlError::from_datafusion)?;
    let KilnStatement::Sql(mut statement) = parse_statement(&definition)? else {
        return Err(SqlError::internal(format!("the view {full_name} does not hold a query")));
    };
    crate::exec::rewrite_time_travel(&mut statement)?;
    crate::exec::functions::inline_calls(&view_access, &state, &catalog, &schema, &mut statement).await?;
    let plan = state.statement_to_plan(DfStatement::Statement(statement)).await.map_err(SqlError::from_datafusion)?;
    let names: Vec<Option<String>> = spec.columns.iter().map(|column| Some(column.name.clone())).collect();
    let plan = crate::exec::rename_outputs(plan, &names)?;
    Ok(Arc::new(ViewTable::new(plan, Some(definition))))
}

/// Resolves `[catalog, schema, table]` for the caller: a missing or invisible table (or
/// schema, or catalog) is TABLE_OR_VIEW_NOT_FOUND, as on Databricks.
pub async fn resolve_table(access: &Access, parts: &[String; 3]) -> Result<SecurablePath, SqlError> {
    let not_found = || SqlError::table_not_found(parts);
    let path = match access.uc.lookup(SecurableKind::Table, parts).await {
        Ok(path) => path,
        Err(error) if error.code.status() == 404 => return Err(not_found()),
        Err(error) => return Err(SqlError::from_core(error)),
    };
    if !access.uc.authz().may_address(&access.caller, &path).await.map_err(SqlError::from_core)? {
        return Err(not_found());
    }
    Ok(path)
}

/// A DataFusion provider for a managed Delta table at a version. Versions and timestamps
/// outside the table's history are errors, as on Databricks (delta-rs would clamp them).
pub async fn open_provider(uc: &UnityCatalog, path: &SecurablePath, version: TableVersion) -> Result<Arc<dyn TableProvider>, SqlError> {
    let url = table_url(uc, &path.leaf().id)?;
    let builder = DeltaTableBuilder::from_url(url.clone()).map_err(SqlError::delta)?;
    let table = match version {
        TableVersion::Latest => builder.build().map_err(SqlError::delta)?,
        TableVersion::Version(version) => {
            let latest = builder.build().map_err(SqlError::delta)?.get_latest_version().await.map_err(SqlError::delta)?;
            if version > latest {
                return Err(SqlError::time_travel(format!("Cannot time travel Delta table to version {version}. Available versions: [0, {latest}].")));
            }
            DeltaTableBuilder::from_url(url).map_err(SqlError::delta)?.with_version(version).load().await.map_err(SqlError::delta)?
        }
        TableVersion::AsOfMillis(millis) => {
            let version = version_as_of(url.clone(), millis).await?;
            builder.with_version(version).load().await.map_err(SqlError::delta)?
        }
    };
    table.table_provider().await.map_err(|e| {
        // A table whose CREATE is still writing its first commit does not exist yet.
        if e.to_string().contains("Not a Delta table") {
            let parts: Vec<String> = path.nodes[1..].iter().map(|node| node.name.clone()).collect();
            return SqlError::table_not_found(&parts);
        }
        SqlError::internal(format!("opening {}: {e}", path.full_name()))
    })
}

/// The last version committed at or before `millis`.
async fn version_as_of(url: url::Url, millis: i64) -> Result<u64, SqlError> {
    use futures::TryStreamExt;
    let table = deltalake::open_table(url).await.map_err(SqlError::delta)?;
    let latest = table.version().unwrap_or_default();
    let commits: Vec<_> = table.history(None).try_collect().await.map_err(SqlError::delta)?;
    // History is newest first, one entry per version.
    let stamped: Vec<(u64, i64)> = commits.iter().enumerate().filter_map(|(i, c)| Some((latest.checked_sub(i as u64)?, c.timestamp?))).collect();
    let show = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string()).unwrap_or_default();
    let earliest = stamped.iter().map(|(_, ts)| *ts).min().unwrap_or(i64::MAX);
    let newest = stamped.iter().map(|(_, ts)| *ts).max().unwrap_or(i64::MIN);
    if millis < earliest {
        return Err(SqlError::time_travel(format!("The provided timestamp ({}) is before the earliest version available to this table ({}).", show(millis), show(earliest))));
    }
    if millis > newest {
        return Err(SqlError::time_travel(format!("The provided timestamp ({}) is after the latest version available to this table ({}).", show(millis), show(newest))));
    }
    Ok(stamped.iter().filter(|(_, ts)| *ts <= millis).map(|(version, _)| *version).max().unwrap_or_default())
}

/// The `file://` URL of a table's Delta log directory.
pub fn table_url(uc: &UnityCatalog, table_id: &str) -> Result<url::Url, SqlError> {
    let dir = uc.storage_dir(table_id);
    deltalake::ensure_table_uri(dir.to_string_lossy()).map_err(SqlError::delta)
}

impl From<Error> for SqlError {
    fn from(error: Error) -> SqlError {
        SqlError::from_core(error)
    }
}

//! Files in SQL: `read_files('/Volumes/c/s/v/path', format => 'csv', header => true)` and the
//! path syntax `` csv.`/Volumes/c/s/v/path` `` (also json, parquet). Only files inside a Unity
//! Catalog volume can be read, with READ VOLUME on it; any other path is refused.
//!
//! Checking a privilege and inferring a schema are async, and DataFusion calls table
//! functions synchronously, so each call is prepared before planning: checked, its table
//! built, and the call rewritten to `read_files('<id>')`, which the registered function
//! answers from what was prepared.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::file_format::json::JsonFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::error::Result as DfResult;
use datafusion::execution::SessionState;
use datafusion::logical_expr::Expr as DfExpr;
use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, Ident, ObjectName, ObjectNamePart, Statement, TableFactor, TableFunctionArgs as SqlTableFunctionArgs, Value, VisitMut, VisitorMut,
};
use kiln_core::authz::Privilege;

use crate::catalog::Access;
use crate::error::SqlError;

const FUNCTION: &str = "read_files";
const FORMATS: &[&str] = &["csv", "json", "parquet"];

/// Prepares every file read of `statement` for the caller and registers `read_files` in
/// `state` to answer them.
pub(crate) async fn prepare(access: &Access, state: &mut SessionState, statement: &mut Statement) -> Result<(), SqlError> {
    let mut calls = Calls::default();
    let _ = statement.visit(&mut calls);
    if let Some(error) = calls.error {
        return Err(error);
    }
    if calls.found.is_empty() {
        return Ok(());
    }
    let mut prepared = HashMap::new();
    for (id, request) in calls.found.into_iter().enumerate() {
        prepared.insert(id.to_string(), volume_table(access, state, &request).await?);
    }
    state.register_udtf(FUNCTION, Arc::new(PreparedFiles { tables: prepared }));
    Ok(())
}

/// One read: a path and its options.
#[derive(Debug, Default)]
struct FileRead {
    path: String,
    format: Option<String>,
    header: bool,
}

/// Finds the reads (rewriting each to `read_files('<id>')`), or the first malformed one.
#[derive(Default)]
struct Calls {
    found: Vec<FileRead>,
    error: Option<SqlError>,
}

impl VisitorMut for Calls {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        let TableFactor::Table { name, args, .. } = factor else { return ControlFlow::Continue(()) };
        let parts: Vec<&Ident> = name.0.iter().filter_map(|part| if let ObjectNamePart::Identifier(ident) = part { Some(ident) } else { None }).collect();
        let read = match (parts.as_slice(), args.as_ref()) {
            // csv.`/Volumes/...`
            ([format, path], None) if FORMATS.contains(&format.value.to_lowercase().as_str()) && path.value.contains('/') => {
                Ok(FileRead { path: path.value.clone(), format: Some(format.value.to_lowercase()), header: false })
            }
            ([function], Some(arguments)) if function.value.eq_ignore_ascii_case(FUNCTION) => read_of(arguments),
            _ => return ControlFlow::Continue(()),
        };
        match read {
            Ok(read) => {
                let id = self.found.len().to_string();
                self.found.push(read);
                *name = ObjectName(vec![ObjectNamePart::Identifier(Ident::new(FUNCTION))]);
                *args = Some(SqlTableFunctionArgs { args: vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::value(Value::SingleQuotedString(id))))], settings: None });
                ControlFlow::Continue(())
            }
            Err(error) => {
                self.error = Some(error);
                ControlFlow::Break(())
            }
        }
    }
}

/// `read_files('path', format => 'csv', header => true)`.
fn read_of(arguments: &SqlTableFunctionArgs) -> Result<FileRead, SqlError> {
    let text = |expr: &Expr| match expr {
        Expr::Value(value) => match &value.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Some(s.clone()),
            Value::Boolean(b) => Some(b.to_string()),
            _ => None,
        },
        _ => None,
    };
    let mut read = FileRead::default();
    for (index, argument) in arguments.args.iter().enumerate() {
        match argument {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(expr)) if index == 0 => {
                read.path = text(expr).ok_or_else(|| SqlError::bad_request("read_files: the first argument is the path, a string literal such as '/Volumes/main/default/files/data.csv'"))?;
            }
            FunctionArg::Named { name, arg: FunctionArgExpr::Expr(expr), .. } => {
                let value = text(expr).ok_or_else(|| SqlError::bad_request(format!("read_files: option {} must be a literal", name.value)))?;
                match name.value.to_lowercase().as_str() {
                    "format" => read.format = Some(value.to_lowercase()),
                    "header" => read.header = value.eq_ignore_ascii_case("true"),
                    other => return Err(SqlError::bad_request(format!("read_files: option '{other}' is not supported; use format and header"))),
                }
            }
            other => return Err(SqlError::bad_request(format!("read_files: argument {other}: pass the path, then name => value options"))),
        }
    }
    if read.path.is_empty() {
        return Err(SqlError::bad_request("read_files needs a path"));
    }
    Ok(read)
}

/// The table over `read.path`, after READ VOLUME on its volume.
async fn volume_table(access: &Access, state: &SessionState, read: &FileRead) -> Result<Arc<dyn TableProvider>, SqlError> {
    // A path that is not inside a volume is refused before anything is looked up.
    let file = match access.uc.volume_path(&access.caller, "sql.read_files", &read.path, Privilege::ReadVolume).await {
        Err(error) if error.code == kiln_core::ErrorCode::InvalidParameterValue => {
            return Err(SqlError::condition("INVALID_PATH", format!("'{}': SQL reads files in Unity Catalog volumes only, as /Volumes/<catalog>/<schema>/<volume>/<path>.", read.path), "42K05"));
        }
        other => other?,
    };
    let local = file.local;
    let format_name = read.format.clone().or_else(|| local.extension().map(|e| e.to_string_lossy().to_lowercase())).unwrap_or_default();
    let format: Arc<dyn FileFormat> = match format_name.as_str() {
        "csv" => Arc::new(CsvFormat::default().with_has_header(read.header)),
        "json" => Arc::new(JsonFormat::default()),
        "parquet" => Arc::new(ParquetFormat::default()),
        other => return Err(SqlError::bad_request(format!("read_files: format '{other}' is not supported; use csv, json or parquet (format => 'csv')"))),
    };
    let mut location = local.to_string_lossy().to_string();
    if local.is_dir() && !location.ends_with('/') {
        location.push('/');
    }
    let url = ListingTableUrl::parse(&location).map_err(SqlError::from_datafusion)?;
    // Every file of a directory is read, whatever its extension.
    let options = ListingOptions::new(format).with_file_extension("");
    let config = ListingTableConfig::new(url).with_listing_options(options).infer_schema(state).await.map_err(|e| SqlError::bad_request(format!("read_files '{}': {e}", read.path)))?;
    Ok(Arc::new(ListingTable::try_new(config).map_err(SqlError::from_datafusion)?))
}


/// `read_files('<id>')` after [`prepare`]: the table prepared for that call.
#[derive(Debug)]
struct PreparedFiles {
    tables: HashMap<String, Arc<dyn TableProvider>>,
}

impl TableFunctionImpl for PreparedFiles {
    fn call_with_args(&self, args: TableFunctionArgs) -> DfResult<Arc<dyn TableProvider>> {
        let id = match args.exprs().first() {
            Some(DfExpr::Literal(ScalarValue::Utf8(Some(id)), _)) => id.clone(),
            _ => String::new(),
        };
        self.tables.get(&id).cloned().ok_or_else(|| datafusion::error::DataFusionError::Plan("read_files was not prepared for this call".to_string()))
    }
}

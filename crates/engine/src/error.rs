//! Why a statement failed, as the Statement Execution API reports it: a `ServiceErrorCode`,
//! a message in Databricks' `[CONDITION] ... SQLSTATE: xxxxx` form, and the SQL state.

use datafusion::error::DataFusionError;
use kiln_core::{Error, ErrorCode};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SqlError {
    /// A `ServiceErrorCode`: BAD_REQUEST, NOT_FOUND, ALREADY_EXISTS, CANCELLED, ...
    pub error_code: &'static str,
    pub message: String,
    pub sql_state: Option<&'static str>,
}

impl SqlError {
    fn new(error_code: &'static str, condition: &str, detail: impl std::fmt::Display, sql_state: &'static str) -> SqlError {
        SqlError { error_code, message: format!("[{condition}] {detail} SQLSTATE: {sql_state}"), sql_state: Some(sql_state) }
    }

    pub fn bad_request(detail: impl std::fmt::Display) -> SqlError {
        SqlError::new("BAD_REQUEST", "INVALID_PARAMETER_VALUE", detail, "22023")
    }

    /// A statement Databricks rejects with its own error condition, e.g. `UNRESOLVED_ROUTINE`.
    pub fn condition(condition: &str, detail: impl std::fmt::Display, sql_state: &'static str) -> SqlError {
        SqlError::new("BAD_REQUEST", condition, detail, sql_state)
    }

    pub fn syntax(message: String) -> SqlError {
        SqlError { error_code: "BAD_REQUEST", message, sql_state: Some("42601") }
    }

    /// A statement over a parsing limit; the message names the limit.
    pub fn too_complex(message: String) -> SqlError {
        SqlError { error_code: "BAD_REQUEST", message, sql_state: Some("54001") }
    }

    pub fn unsupported(detail: impl std::fmt::Display) -> SqlError {
        SqlError::new("BAD_REQUEST", "UNSUPPORTED_FEATURE", detail, "0A000")
    }

    pub fn internal(detail: impl std::fmt::Display) -> SqlError {
        SqlError::new("INTERNAL_ERROR", "INTERNAL_ERROR", detail, "XX000")
    }

    pub fn cancelled() -> SqlError {
        SqlError { error_code: "CANCELLED", message: "The statement was canceled.".to_string(), sql_state: None }
    }

    /// `` The table or view `c`.`s`.`t` cannot be found. ``
    pub fn table_not_found(parts: &[String]) -> SqlError {
        let quoted: Vec<String> = parts.iter().map(|p| format!("`{p}`")).collect();
        SqlError::new(
            "BAD_REQUEST",
            "TABLE_OR_VIEW_NOT_FOUND",
            format!("The table or view {} cannot be found. Verify the spelling and correctness of the schema and catalog.", quoted.join(".")),
            "42P01",
        )
    }

    pub fn delta(error: deltalake::DeltaTableError) -> SqlError {
        SqlError::internal(format!("Delta table error: {error}"))
    }

    /// A version or timestamp that the table's history does not have.
    pub fn time_travel(detail: String) -> SqlError {
        SqlError::new("BAD_REQUEST", "DELTA_TIME_TRAVEL_OUT_OF_RANGE", detail, "22003")
    }

    /// Maps a service error (from Unity Catalog or authz) to its SQL condition.
    pub fn from_core(error: Error) -> SqlError {
        match error.code {
            ErrorCode::PermissionDenied => SqlError::new("BAD_REQUEST", "INSUFFICIENT_PERMISSIONS", format!("Insufficient privileges:\n{}", error.message), "42501"),
            ErrorCode::Specific(_, "CATALOG_DOES_NOT_EXIST") => SqlError::new("BAD_REQUEST", "NO_SUCH_CATALOG_EXCEPTION", error.message, "42704"),
            ErrorCode::Specific(_, "SCHEMA_DOES_NOT_EXIST") => SqlError::new("BAD_REQUEST", "SCHEMA_NOT_FOUND", error.message, "42704"),
            ErrorCode::Specific(_, "TABLE_DOES_NOT_EXIST") => SqlError::new("BAD_REQUEST", "TABLE_OR_VIEW_NOT_FOUND", error.message, "42P01"),
            ErrorCode::ResourceAlreadyExists => {
                // Unity Catalog says which kind in the message: "Schema 'x' already exists."
                let (condition, state) = match error.message.split_whitespace().next() {
                    Some("Catalog") => ("CATALOG_ALREADY_EXISTS", "42P04"),
                    Some("Schema") => ("SCHEMA_ALREADY_EXISTS", "42P06"),
                    Some("Table") => ("TABLE_OR_VIEW_ALREADY_EXISTS", "42P07"),
                    _ => ("RESOURCE_ALREADY_EXISTS", "42710"),
                };
                SqlError::new("ALREADY_EXISTS", condition, error.message, state)
            }
            ErrorCode::Specific(_, code) if code.ends_with("_NOT_EMPTY") => SqlError::new("BAD_REQUEST", code, error.message, "2BP01"),
            ErrorCode::Specific(status, code) if status == 404 => SqlError::new("NOT_FOUND", code, error.message, "42704"),
            ErrorCode::InternalError => SqlError::internal(error.message),
            _ => SqlError::new("BAD_REQUEST", "INVALID_PARAMETER_VALUE", error.message, "22023"),
        }
    }

    /// Maps a DataFusion error; a Kiln error carried inside (from the governed catalog)
    /// comes back out as it was.
    pub fn from_datafusion(error: DataFusionError) -> SqlError {
        if let Some(inner) = find_sql_error(&error) {
            return inner;
        }
        let root_text = error.find_root().to_string();
        if let Some(name) = root_text.split("Placeholder ':").nth(1).and_then(|rest| rest.split('\'').next()) {
            return SqlError::new(
                "BAD_REQUEST",
                "UNBOUND_SQL_PARAMETER",
                format!("Found the unbound parameter: {name}. Please, fix `parameters` and provide a value for the parameter."),
                "42P02",
            );
        }
        if let Some(name) = root_text.split("table '").nth(1).and_then(|rest| rest.split("' not found").next()) {
            let parts: Vec<String> = name.split('.').map(str::to_string).collect();
            return SqlError::table_not_found(&parts);
        }
        match error.find_root() {
            DataFusionError::ResourcesExhausted(detail) => SqlError::new(
                "RESOURCE_EXHAUSTED",
                "WAREHOUSE_MEMORY_EXHAUSTED",
                format!("The statement needs more memory than its warehouse has: {detail}. Use a larger cluster_size."),
                "53200",
            ),
            DataFusionError::SQL(parse, _) => SqlError::syntax(format!("[PARSE_SYNTAX_ERROR] Syntax error: {parse}. SQLSTATE: 42601")),
            DataFusionError::NotImplemented(detail) => SqlError::unsupported(detail),
            DataFusionError::Plan(_) | DataFusionError::SchemaError(_, _) => {
                SqlError::new("BAD_REQUEST", "ANALYSIS_ERROR", strip_prefix(&error.find_root().to_string()), "42000")
            }
            DataFusionError::Execution(_) | DataFusionError::ArrowError(_, _) => SqlError::new("BAD_REQUEST", "EXECUTION_ERROR", strip_prefix(&error.find_root().to_string()), "22000"),
            _ => SqlError::internal(strip_prefix(&error.to_string())),
        }
    }
}

/// DataFusion prefixes messages with its error kind ("Error during planning: ...").
fn strip_prefix(message: &str) -> String {
    for prefix in ["Error during planning: ", "Execution error: ", "Schema error: ", "Arrow error: ", "Internal error: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            return rest.to_string();
        }
    }
    message.to_string()
}

fn find_sql_error(error: &DataFusionError) -> Option<SqlError> {
    match error {
        DataFusionError::External(inner) => inner.downcast_ref::<SqlError>().cloned(),
        DataFusionError::Context(_, inner) => find_sql_error(inner),
        DataFusionError::Shared(inner) => find_sql_error(inner),
        _ => None,
    }
}

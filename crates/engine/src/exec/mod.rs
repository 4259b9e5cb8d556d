//! The statement layer: runs one SQL statement for a caller. Queries and INSERT are planned
//! by DataFusion against the governed catalog; what DataFusion does not do (Unity Catalog
//! DDL, GRANT, SHOW, DESCRIBE, UPDATE and DELETE on Delta tables) is dispatched here to the
//! same services the REST API uses.

mod alter;
mod ddl;
pub use ddl::column_infos;
mod dml;
mod files;
pub(crate) mod functions;
mod show;
pub(crate) mod views;

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::execution::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{Expr, Ident, ObjectNamePart, Statement, TableFactor, TableVersion, Value, VisitMut, VisitorMut};
use kiln_core::authn::Authenticator;
use kiln_core::principal::Caller;
use kiln_core::uc::UnityCatalog;

use crate::catalog::{Access, TIME_TRAVEL_MARK};
use crate::error::SqlError;
use crate::parse::{KilnStatement, name_parts, parse_statement};
use crate::session::{ExecutionPool, session_state};

/// Where unqualified names resolve, and the statement's named parameters.
#[derive(Debug, Clone)]
pub struct StatementContext {
    pub catalog: String,
    pub schema: String,
    pub parameters: Vec<(String, ScalarValue)>,
}

/// A statement's result: its columns and a stream of rows. `statement_type` is the
/// query-history kind (SELECT, INSERT, CREATE, ...).
pub struct StatementOutput {
    pub schema: SchemaRef,
    pub stream: SendableRecordBatchStream,
    pub statement_type: &'static str,
}

impl std::fmt::Debug for StatementOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatementOutput").field("schema", &self.schema).field("statement_type", &self.statement_type).finish_non_exhaustive()
    }
}

impl StatementOutput {
    /// A result already in memory.
    pub fn batches(schema: SchemaRef, batches: Vec<RecordBatch>, statement_type: &'static str) -> StatementOutput {
        let stream = futures::stream::iter(batches.into_iter().map(Ok));
        StatementOutput { schema: schema.clone(), stream: Box::pin(RecordBatchStreamAdapter::new(schema, stream)), statement_type }
    }

    /// No columns, no rows: what DDL answers.
    pub fn empty(statement_type: &'static str) -> StatementOutput {
        StatementOutput::batches(Arc::new(Schema::empty()), Vec::new(), statement_type)
    }

    /// String columns named `columns`, one row per entry of `rows`.
    pub fn strings(columns: &[&str], rows: Vec<Vec<Option<String>>>, statement_type: &'static str) -> Result<StatementOutput, SqlError> {
        let schema = Arc::new(Schema::new(columns.iter().map(|name| Field::new(*name, DataType::Utf8, true)).collect::<Vec<_>>()));
        let arrays: Vec<ArrayRef> = (0..columns.len())
            .map(|index| Arc::new(rows.iter().map(|row| row.get(index).cloned().flatten()).collect::<StringArray>()) as ArrayRef)
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| SqlError::internal(e.to_string()))?;
        Ok(StatementOutput::batches(schema, vec![batch], statement_type))
    }
}

/// Runs statements against Unity Catalog's tables.
#[derive(Debug, Clone)]
pub struct Executor {
    uc: UnityCatalog,
    /// Resolves the owners of views, whose privileges their queries run with.
    principals: Authenticator,
}

impl Executor {
    pub fn new(uc: UnityCatalog, principals: Authenticator) -> Executor {
        Executor { uc, principals }
    }

    pub fn uc(&self) -> &UnityCatalog {
        &self.uc
    }

    /// Parses and runs one statement as `caller` on `pool`.
    pub async fn run(&self, caller: &Caller, pool: &ExecutionPool, sql: &str, context: &StatementContext) -> Result<StatementOutput, SqlError> {
        let statement = parse_statement(sql)?;
        let run = Run { executor: self, caller, pool, context };
        match statement {
            KilnStatement::Sql(statement) => run.sql(*statement).await,
            other => run.layer_statement(other).await,
        }
    }
}

/// One statement being run.
struct Run<'a> {
    executor: &'a Executor,
    caller: &'a Caller,
    pool: &'a ExecutionPool,
    context: &'a StatementContext,
}

impl Run<'_> {
    fn uc(&self) -> &UnityCatalog {
        &self.executor.uc
    }

    /// What the caller may do with the tables the statement names.
    fn access(&self, write_targets: HashSet<String>) -> Access {
        Access {
            uc: self.executor.uc.clone(),
            caller: self.caller.clone(),
            invoker: self.caller.name().to_string(),
            write_targets,
            pool: self.pool.clone(),
            principals: self.executor.principals.clone(),
            view_depth: 0,
        }
    }

    /// A session whose governed catalog checks MODIFY on `write_targets` and SELECT elsewhere.
    fn session(&self, write_targets: HashSet<String>) -> Result<SessionState, SqlError> {
        session_state(self.pool, Arc::new(self.access(write_targets)), &self.context.catalog, &self.context.schema).map_err(SqlError::from_datafusion)
    }

    /// `t` → `[catalog, schema, t]` with the statement's defaults; `wanted` parts. No parts
    /// at all names the default catalog or schema itself.
    fn qualify(&self, parts: &[String], wanted: usize) -> Result<Vec<String>, SqlError> {
        let defaults = [self.context.catalog.clone(), self.context.schema.clone()];
        if parts.is_empty() && wanted <= 2 {
            return Ok(defaults[..wanted].to_vec());
        }
        if parts.is_empty() || parts.len() > wanted {
            return Err(SqlError::bad_request(format!("'{}' is not a valid name here: expected at most {wanted} parts", parts.join("."))));
        }
        let missing = wanted - parts.len();
        Ok(defaults[..missing.min(2)].iter().cloned().chain(parts.iter().cloned()).collect())
    }

    /// The full name of a securable named in GRANT / SHOW GRANTS, qualified by the defaults.
    fn securable_name(&self, kind: kiln_store::SecurableKind, parts: &[String]) -> Result<String, SqlError> {
        use kiln_store::SecurableKind;
        Ok(match kind {
            SecurableKind::Metastore => kiln_core::uc::METASTORE_NAME.to_string(),
            SecurableKind::Catalog => self.qualify(parts, 1)?.join("."),
            SecurableKind::Schema => self.qualify(parts, 2)?.join("."),
            _ => self.qualify(parts, 3)?.join("."),
        })
    }

    /// A table named in a statement, resolved for the caller (missing or invisible is
    /// TABLE_OR_VIEW_NOT_FOUND).
    async fn resolve_table(&self, name: &[String]) -> Result<kiln_core::authz::SecurablePath, SqlError> {
        let parts = self.qualify(name, 3)?;
        crate::catalog::resolve_table(&self.access(HashSet::new()), &[parts[0].clone(), parts[1].clone(), parts[2].clone()]).await
    }

    async fn sql(&self, mut statement: Statement) -> Result<StatementOutput, SqlError> {
        match &statement {
            Statement::Query(_) | Statement::Explain { .. } => {
                rewrite_time_travel(&mut statement)?;
                let names = output_names(&statement);
                let mut state = self.session(HashSet::new())?;
                let plan = rename_outputs(self.plan(&mut state, statement).await?, &names)?;
                self.stream(state, plan, "SELECT").await
            }
            Statement::Insert(insert) => {
                let target = self.qualify(&name_parts(&insert_target(insert)?), 3)?;
                rewrite_time_travel(&mut statement)?;
                let mut state = self.session(HashSet::from([target.join(".")]))?;
                let plan = self.plan(&mut state, statement).await?;
                dml::insert(self, state, plan, &target).await
            }
            Statement::Update(_) | Statement::Delete(_) => dml::update_or_delete(self, statement).await,
            Statement::Use(_) => show::use_statement(self, &statement).await,
            Statement::Drop { .. } => ddl::drop(self, &statement).await,
            Statement::ShowCatalogs { .. } | Statement::ShowSchemas { .. } | Statement::ShowDatabases { .. } | Statement::ShowTables { .. } | Statement::ShowColumns { .. } => {
                show::show(self, &statement).await
            }
            other => Err(SqlError::unsupported(format!("{} is not supported", statement_kind(other)))),
        }
    }

    async fn layer_statement(&self, statement: KilnStatement) -> Result<StatementOutput, SqlError> {
        match statement {
            KilnStatement::Sql(statement) => Box::pin(self.sql(*statement)).await,
            KilnStatement::CreateCatalog { name, if_not_exists, comment } => ddl::create_catalog(self, name, if_not_exists, comment).await,
            KilnStatement::DropCatalog { name, if_exists, cascade } => ddl::drop_catalog(self, &name, if_exists, cascade).await,
            KilnStatement::CreateSchema { name, if_not_exists, comment } => ddl::create_schema(self, &name, if_not_exists, comment).await,
            KilnStatement::CreateTable(table) => ddl::create_table(self, table).await,
            KilnStatement::CreateVolume { name, if_not_exists, comment } => ddl::create_volume(self, &name, if_not_exists, comment).await,
            KilnStatement::DropVolume { name, if_exists } => ddl::drop_volume(self, &name, if_exists).await,
            KilnStatement::Grant { revoke, privileges, kind, securable, principals } => ddl::grant(self, revoke, &privileges, kind, &securable, &principals).await,
            KilnStatement::ShowGrants { principal, kind, securable } => show::show_grants(self, principal.as_deref(), kind, &securable).await,
            KilnStatement::ShowVolumes { schema } => show::show_volumes(self, schema.as_deref()).await,
            KilnStatement::ShowViews { schema, pattern } => show::show_views(self, schema.as_deref(), pattern.as_deref()).await,
            KilnStatement::Describe { name, extended } => show::describe(self, &name, extended).await,
            KilnStatement::DescribeHistory { name } => show::describe_history(self, &name).await,
            KilnStatement::Merge(merge) => dml::merge(self, *merge).await,
            KilnStatement::CreateView(view) => views::create_view(self, view).await,
            KilnStatement::CreateFunction(function) => functions::create_function(self, function).await,
            KilnStatement::DropFunction { name, if_exists } => functions::drop_function(self, &name, if_exists).await,
            KilnStatement::ShowFunctions { user, system, schema, pattern } => functions::show_functions(self, user, system, schema.as_deref(), pattern.as_deref()).await,
            KilnStatement::DescribeFunction { name } => functions::describe_function(self, &name).await,
            KilnStatement::Alter { kind, name, action } => alter::alter(self, kind, &name, action).await,
        }
    }

    /// Plans a statement: file reads are checked and prepared, calls of SQL functions are
    /// inlined, table references are resolved
    /// and authorized by the governed catalog, then the statement's parameters are bound.
    async fn plan(&self, state: &mut SessionState, mut statement: Statement) -> Result<LogicalPlan, SqlError> {
        spark_literal_suffixes(&mut statement);
        let access = self.access(HashSet::new());
        files::prepare(&access, state, &mut statement).await?;
        functions::inline_calls(&access, state, &self.context.catalog, &self.context.schema, &mut statement).await?;
        let plan = state.statement_to_plan(DfStatement::Statement(Box::new(statement))).await.map_err(SqlError::from_datafusion)?;
        let plan = crate::types::spark_integer_literals(plan).map_err(SqlError::from_datafusion)?;
        if self.context.parameters.is_empty() {
            return Ok(plan);
        }
        plan.with_param_values(self.context.parameters.clone()).map_err(SqlError::from_datafusion)
    }

    async fn stream(&self, state: SessionState, plan: LogicalPlan, statement_type: &'static str) -> Result<StatementOutput, SqlError> {
        let frame = DataFrame::new(state, plan);
        let schema: SchemaRef = Arc::new(frame.schema().as_arrow().clone());
        let stream = frame.execute_stream().await.map_err(SqlError::from_datafusion)?;
        Ok(StatementOutput { schema, stream, statement_type })
    }
}

/// The names Databricks gives the outermost SELECT's columns: an alias as written
/// (`AS totalAmount`), or for an unaliased expression its SQL text (`'a'` is named `a`,
/// `upper(name)` stays `upper(name)`); `None` keeps the planner's name (plain columns).
/// Empty when the list has a `*`, whose columns cannot be matched by position.
pub(crate) fn output_names(statement: &Statement) -> Vec<Option<String>> {
    use datafusion::sql::sqlparser::ast::{SelectItem, SetExpr};
    let Statement::Query(query) = statement else { return Vec::new() };
    // A set operation's columns are named by its first SELECT.
    let mut body = query.body.as_ref();
    loop {
        match body {
            SetExpr::SetOperation { left, .. } => body = left.as_ref(),
            SetExpr::Query(inner) => body = inner.body.as_ref(),
            _ => break,
        }
    }
    let SetExpr::Select(select) = body else { return Vec::new() };
    let mut names = Vec::with_capacity(select.projection.len());
    for item in &select.projection {
        names.push(match item {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
            SelectItem::UnnamedExpr(Expr::Identifier(_) | Expr::CompoundIdentifier(_)) => None,
            SelectItem::UnnamedExpr(Expr::Value(value)) => Some(match &value.value {
                Value::SingleQuotedString(text) | Value::DoubleQuotedString(text) => text.clone(),
                other => other.to_string(),
            }),
            SelectItem::UnnamedExpr(other) => Some(other.to_string()),
            _ => return Vec::new(),
        });
    }
    names
}

/// Renames the plan's output columns to [`output_names`] (DataFusion folds identifiers to
/// lower case and names expressions in its own spelling, such as `Int64(1)`).
pub(crate) fn rename_outputs(plan: LogicalPlan, names: &[Option<String>]) -> Result<LogicalPlan, SqlError> {
    use datafusion::common::Column;
    use datafusion::logical_expr::{Expr as DfExpr, LogicalPlanBuilder};
    let fields = plan.schema().fields();
    if names.len() != fields.len() {
        return Ok(plan);
    }
    let mut taken: HashSet<String> = HashSet::new();
    let wanted: Vec<Option<String>> = names
        .iter()
        .zip(fields.iter())
        .map(|(name, field)| {
            let chosen = name.clone().filter(|n| n != field.name() && !taken.contains(n)).unwrap_or_else(|| field.name().clone());
            taken.insert(chosen.clone());
            (chosen != *field.name()).then_some(chosen)
        })
        .collect();
    if wanted.iter().all(Option::is_none) {
        return Ok(plan);
    }
    let columns: Vec<DfExpr> = plan
        .schema()
        .iter()
        .zip(wanted)
        .map(|((qualifier, field), name)| {
            let column = DfExpr::Column(Column::new(qualifier.cloned(), field.name()));
            match name {
                Some(name) => column.alias(name),
                None => column,
            }
        })
        .collect();
    LogicalPlanBuilder::from(plan).project(columns).and_then(|b| b.build()).map_err(SqlError::from_datafusion)
}

fn insert_target(insert: &datafusion::sql::sqlparser::ast::Insert) -> Result<datafusion::sql::sqlparser::ast::ObjectName, SqlError> {
    match &insert.table {
        datafusion::sql::sqlparser::ast::TableObject::TableName(name) => Ok(name.clone()),
        _ => Err(SqlError::unsupported("INSERT INTO a table function")),
    }
}

/// The query-history statement type of a statement sqlparser read.
pub fn statement_kind(statement: &Statement) -> &'static str {
    match statement {
        Statement::Query(_) => "SELECT",
        Statement::Insert(_) => "INSERT",
        Statement::Update(_) => "UPDATE",
        Statement::Delete(_) => "DELETE",
        Statement::Merge(_) => "MERGE",
        Statement::Drop { .. } => "DROP",
        Statement::Use(_) => "USE",
        Statement::Explain { .. } | Statement::ExplainTable { .. } => "EXPLAIN",
        Statement::CreateTable(_) | Statement::CreateView(_) | Statement::CreateSchema { .. } | Statement::CreateDatabase { .. } | Statement::CreateFunction(_) => "CREATE",
        Statement::AlterTable(_) => "ALTER",
        Statement::Truncate(_) => "TRUNCATE",
        Statement::Set(_) => "SET",
        Statement::Grant(_) => "GRANT",
        Statement::Revoke(_) => "REVOKE",
        _ if statement.to_string().to_uppercase().starts_with("SHOW") => "SHOW",
        _ => "OTHER",
    }
}

/// Spark's typed numeric literals: `10L` BIGINT, `10S` SMALLINT, `10Y` TINYINT, `2.5D`
/// DOUBLE, `2.5F` FLOAT, `2.5BD` DECIMAL. sqlparser reads them as identifiers (the
/// dialect allows names that start with digits); they become casts of the number.
fn spark_literal_suffixes(statement: &mut Statement) {
    use datafusion::sql::sqlparser::ast::{CastKind, DataType as SqlType, ExactNumberInfo, visit_expressions_mut};
    fn typed(number: &str, suffix: &str) -> Option<SqlType> {
        let fraction = number.split_once('.').map_or(0, |(_, f)| f.len() as u64);
        Some(match suffix.to_ascii_uppercase().as_str() {
            "L" if fraction == 0 => SqlType::BigInt(None),
            "S" if fraction == 0 => SqlType::SmallInt(None),
            "Y" if fraction == 0 => SqlType::TinyInt(None),
            "D" => SqlType::Double(ExactNumberInfo::None),
            "F" => SqlType::Float(ExactNumberInfo::None),
            "BD" => SqlType::Decimal(ExactNumberInfo::PrecisionAndScale((number.len() as u64 - u64::from(fraction > 0)).max(1), fraction as i64)),
            _ => return None,
        })
    }
    fn split(word: &str) -> Option<(&str, &str)> {
        let end = word.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let number = &word[..end];
        (end > 0 && number.starts_with(|c: char| c.is_ascii_digit()) && number.matches('.').count() <= 1).then(|| word.split_at(end))
    }
    let _ = visit_expressions_mut(statement, |expr| {
        let literal = match expr {
            Expr::Identifier(ident) if ident.quote_style.is_none() => split(&ident.value).and_then(|(n, s)| Some((n.to_string(), typed(n, s)?))),
            _ => None,
        };
        if let Some((number, data_type)) = literal {
            *expr = Expr::Cast { kind: CastKind::Cast, expr: Box::new(Expr::value(Value::Number(number, false))), data_type, array: false, format: None };
        }
        ControlFlow::<()>::Continue(())
    });
}

/// DataFusion drops `VERSION AS OF` / `TIMESTAMP AS OF`; carry them into the table name
/// (`t@v3`, `t@t<ms>`) for the governed catalog to open that version.
pub(crate) fn rewrite_time_travel(statement: &mut Statement) -> Result<(), SqlError> {
    struct TimeTravel {
        error: Option<SqlError>,
    }
    impl VisitorMut for TimeTravel {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
            let TableFactor::Table { name, version, .. } = factor else { return ControlFlow::Continue(()) };
            let Some(travel) = version.take() else { return ControlFlow::Continue(()) };
            let suffix = match time_travel_suffix(&travel) {
                Ok(suffix) => suffix,
                Err(error) => {
                    self.error = Some(error);
                    return ControlFlow::Break(());
                }
            };
            if let Some(ObjectNamePart::Identifier(last)) = name.0.last_mut() {
                *last = Ident::with_quote('`', format!("{}{TIME_TRAVEL_MARK}{suffix}", last.value.to_lowercase()));
            }
            ControlFlow::Continue(())
        }
    }
    let mut visitor = TimeTravel { error: None };
    let _ = statement.visit(&mut visitor);
    visitor.error.map_or(Ok(()), Err)
}

fn time_travel_suffix(travel: &TableVersion) -> Result<String, SqlError> {
    match travel {
        TableVersion::VersionAsOf(Expr::Value(value)) => match &value.value {
            Value::Number(number, _) => {
                let version: u64 = number.parse().map_err(|_| SqlError::bad_request(format!("VERSION AS OF {number}: a version is a non-negative integer")))?;
                Ok(format!("v{version}"))
            }
            other => Err(SqlError::bad_request(format!("VERSION AS OF {other}: a version is a non-negative integer"))),
        },
        TableVersion::TimestampAsOf(Expr::Value(value)) => match &value.value {
            Value::SingleQuotedString(text) | Value::DoubleQuotedString(text) => Ok(format!("t{}", parse_timestamp_millis(text)?)),
            other => Err(SqlError::bad_request(format!("TIMESTAMP AS OF {other}: give a timestamp string such as '2024-01-31 10:00:00'"))),
        },
        other => Err(SqlError::unsupported(format!("time travel by {other}: use VERSION AS OF <n> or TIMESTAMP AS OF '<timestamp>'"))),
    }
}

/// `2024-01-31`, `2024-01-31 10:00:00[.fff]` or RFC 3339, read as UTC.
pub fn parse_timestamp_millis(text: &str) -> Result<i64, SqlError> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime};
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.timestamp_millis());
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(at.and_utc().timestamp_millis());
        }
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day.and_hms_opt(0, 0, 0).map(|at| at.and_utc().timestamp_millis()).unwrap_or_default());
    }
    Err(SqlError::bad_request(format!("'{text}' is not a timestamp: use 'YYYY-MM-DD[ HH:MM:SS]'")))
}

//! The Statement Execution API: `/api/2.0/sql/statements`. A statement runs in its own task
//! on its warehouse's pool; `execute` waits up to `wait_timeout` for it, then answers with
//! the result or the state it is in. Cancel aborts the task, which drops DataFusion's
//! stream and stops the work. Results stay available for an hour, then the statement is
//! CLOSED. Every statement is recorded in the query history.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use datafusion::common::ScalarValue;
use kiln_api::sql::{ExecuteStatementRequest, ExternalLink, ResultData, ServiceError, StatementResponse, StatementStatus};
use kiln_core::clock::now_ms;
use kiln_core::principal::Caller;
use kiln_core::uc::{DEFAULT_CATALOG, DEFAULT_SCHEMA};
use kiln_core::{Error, Result};
use kiln_store::{QueryRecord, Store};
use tokio::sync::watch;

use crate::error::SqlError;
use crate::exec::{Executor, StatementContext};
use crate::history::QueryLog;
use crate::results::{Disposition, Format, ResultBuilder, ResultSet};
use crate::types;
use crate::warehouses::Warehouses;

/// How long results are kept after a statement finishes.
const RESULT_TTL: Duration = Duration::from_secs(3600);
const DEFAULT_WAIT: Duration = Duration::from_secs(10);
/// How long an external link works.
const LINK_TTL: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone)]
enum Phase {
    Pending,
    Running,
    Succeeded(Arc<ResultSet>),
    Failed(SqlError),
    Canceled,
}

impl Phase {
    fn is_final(&self) -> bool {
        matches!(self, Phase::Succeeded(_) | Phase::Failed(_) | Phase::Canceled)
    }
}

#[derive(Debug)]
struct Entry {
    owner_id: i64,
    phase: watch::Sender<Phase>,
    task: Mutex<Option<tokio::task::AbortHandle>>,
    finished_at: Mutex<Option<Instant>>,
    record: Mutex<QueryRecord>,
}

#[derive(Debug, Clone)]
pub struct Statements {
    executor: Executor,
    warehouses: Warehouses,
    store: Arc<dyn Store>,
    entries: Arc<Mutex<HashMap<String, Arc<Entry>>>>,
    /// EXTERNAL_LINKS chunk files live under here, one directory per statement.
    results_dir: PathBuf,
    /// Signs external links.
    link_key: Arc<Vec<u8>>,
    history: QueryLog,
}

/// The request's options, checked.
struct Options {
    wait: Duration,
    cancel_on_timeout: bool,
    format: Format,
    external: bool,
    row_limit: Option<usize>,
    byte_limit: Option<usize>,
}

fn parse_options(request: &ExecuteStatementRequest) -> Result<Options> {
    let wait = match request.wait_timeout.as_deref() {
        None => DEFAULT_WAIT,
        Some(text) => {
            let seconds: u64 = text.strip_suffix('s').and_then(|n| n.parse().ok()).ok_or_else(|| Error::invalid(format!("wait_timeout '{text}' must look like '10s'")))?;
            if seconds != 0 && !(5..=50).contains(&seconds) {
                return Err(Error::invalid(format!("wait_timeout must be 0s or between 5s and 50s, got {text}")));
            }
            Duration::from_secs(seconds)
        }
    };
    let cancel_on_timeout = match request.on_wait_timeout.as_deref() {
        None | Some("CONTINUE") => false,
        Some("CANCEL") => true,
        Some(other) => return Err(Error::invalid(format!("on_wait_timeout '{other}' must be CONTINUE or CANCEL"))),
    };
    let format_text = request.format.as_deref().unwrap_or("JSON_ARRAY");
    let format = Format::parse(format_text).ok_or_else(|| Error::invalid(format!("format '{format_text}' must be JSON_ARRAY, ARROW_STREAM or CSV")))?;
    let external = match request.disposition.as_deref().unwrap_or("INLINE") {
        "INLINE" if format != Format::JsonArray => {
            return Err(Error::invalid(format!("format {format_text} needs disposition EXTERNAL_LINKS; INLINE results are JSON_ARRAY")));
        }
        "INLINE" => false,
        "EXTERNAL_LINKS" => true,
        other => return Err(Error::invalid(format!("disposition '{other}' must be INLINE or EXTERNAL_LINKS"))),
    };
    let limit = |field: &str, value: Option<i64>| -> Result<Option<usize>> {
        match value {
            None => Ok(None),
            Some(n) if n < 0 => Err(Error::invalid(format!("{field} must not be negative, got {n}"))),
            Some(n) => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
        }
    };
    Ok(Options { wait, cancel_on_timeout, format, external, row_limit: limit("row_limit", request.row_limit)?, byte_limit: limit("byte_limit", request.byte_limit)? })
}

/// Named parameters: `value` cast to `type` (STRING when absent); no value is NULL.
fn parameters(request: &ExecuteStatementRequest) -> Result<Vec<(String, ScalarValue)>> {
    request
        .parameters
        .iter()
        .enumerate()
        .map(|(index, parameter)| {
            let type_text = parameter.type_name.as_deref().unwrap_or("STRING");
            let data_type = types::parse_type(type_text).map_err(|e| Error::invalid(format!("parameters[{index}].type: {e}")))?;
            let text = ScalarValue::Utf8(parameter.value.clone());
            let value = text.cast_to(&data_type).map_err(|e| Error::invalid(format!("parameters[{index}].value '{}' is not a {type_text}: {e}", parameter.value.clone().unwrap_or_default())))?;
            Ok((parameter.name.clone(), value))
        })
        .collect()
}

impl Statements {
    pub fn new(executor: Executor, warehouses: Warehouses, store: Arc<dyn Store>, results_dir: PathBuf, link_key: &[u8]) -> Statements {
        let history = QueryLog::start(store.clone());
        Statements { executor, warehouses, store, entries: Arc::default(), results_dir, link_key: Arc::new(link_key.to_vec()), history }
    }

    /// Forgets results older than an hour, every minute.
    pub fn start_expiry(&self) {
        let entries = self.entries.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(60)).await;
                let mut entries = entries.lock().unwrap_or_else(|p| p.into_inner());
                entries.retain(|_, entry| {
                    let keep = entry.finished_at.lock().unwrap_or_else(|p| p.into_inner()).is_none_or(|at| at.elapsed() < RESULT_TTL);
                    if !keep && let Phase::Succeeded(result) = &*entry.phase.borrow() {
                        result.remove_files();
                    }
                    keep
                });
            }
        });
    }

    /// `base_url` is how the client reached Kiln; external links point there.
    pub async fn execute(&self, caller: &Caller, request: ExecuteStatementRequest, base_url: &str) -> Result<StatementResponse> {
        self.execute_waiting(caller, request, base_url, None).await
    }

    /// As [`Statements::execute`], answering after at most `wait` (instead of the request's
    /// `wait_timeout`): for callers with a short timeout of their own, such as MCP clients.
    pub async fn execute_waiting(&self, caller: &Caller, request: ExecuteStatementRequest, base_url: &str, wait: Option<Duration>) -> Result<StatementResponse> {
        // validations
        if request.statement.trim().is_empty() {
            return Err(Error::invalid("statement must not be empty"));
        }
        if request.statement.len() > 16 * 1024 * 1024 {
            return Err(Error::invalid("statement is longer than 16 MiB"));
        }
        let mut options = parse_options(&request)?;
        if let Some(wait) = wait {
            options.wait = wait;
        }
        let context = StatementContext {
            catalog: request.catalog.clone().filter(|c| !c.is_empty()).unwrap_or_else(|| DEFAULT_CATALOG.to_string()).to_lowercase(),
            schema: request.schema.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| DEFAULT_SCHEMA.to_string()).to_lowercase(),
            parameters: parameters(&request)?,
        };
        // authz: CAN_USE on the warehouse (which starts it if stopped)
        let pool = self.warehouses.pool_for_statement(caller, &request.warehouse_id).await?;
        // business logic
        let statement_id = uuid::Uuid::now_v7().to_string();
        let record = QueryRecord {
            query_id: statement_id.clone(),
            warehouse_id: request.warehouse_id.clone(),
            user_id: caller.id(),
            user_name: caller.name().to_string(),
            query_text: request.statement.clone(),
            status: "QUEUED".to_string(),
            statement_type: statement_type_of(&request.statement).to_string(),
            error_message: None,
            start_time_ms: now_ms(),
            end_time_ms: None,
            rows_produced: None,
        };
        self.history.report(record.clone());
        let (phase, mut watcher) = watch::channel(Phase::Pending);
        let entry = Arc::new(Entry { owner_id: caller.id(), phase, task: Mutex::new(None), finished_at: Mutex::new(None), record: Mutex::new(record) });
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).insert(statement_id.clone(), entry.clone());

        let disposition = if options.external {
            Disposition::ExternalLinks { dir: self.results_dir.join(&statement_id), format: options.format }
        } else {
            Disposition::Inline
        };
        let limits = (options.row_limit, options.byte_limit);
        let task = crate::session::query_runtime().spawn(run_statement(self.clone(), entry.clone(), caller.clone(), pool, request.statement.clone(), context, disposition, limits));
        *entry.task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task.abort_handle());

        let finished = tokio::time::timeout(options.wait, watcher.wait_for(Phase::is_final)).await.is_ok();
        if !finished && options.cancel_on_timeout {
            self.cancel_entry(&entry).await;
        }
        Ok(self.response(&statement_id, &entry, base_url))
    }

    fn entry(&self, caller: &Caller, statement_id: &str) -> Result<Arc<Entry>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(statement_id) {
            // Someone else's statement answers like a missing one.
            Some(entry) if entry.owner_id == caller.id() || caller.is_admin() => Ok(entry.clone()),
            _ => Err(Error::not_found(format!("Statement {statement_id} does not exist (results are kept for one hour)."))),
        }
    }

    pub async fn get(&self, caller: &Caller, statement_id: &str, base_url: &str) -> Result<StatementResponse> {
        let entry = self.entry(caller, statement_id)?;
        Ok(self.response(statement_id, &entry, base_url))
    }

    pub async fn chunk(&self, caller: &Caller, statement_id: &str, chunk_index: usize, base_url: &str) -> Result<ResultData> {
        let entry = self.entry(caller, statement_id)?;
        let phase = entry.phase.borrow().clone();
        let Phase::Succeeded(result) = phase else {
            return Err(Error::invalid(format!("Statement {statement_id} has no result: it did not succeed.")));
        };
        self.result_data(statement_id, &result, chunk_index, base_url)
            .ok_or_else(|| Error::invalid(format!("chunk_index {chunk_index} is out of range: the result has {} chunks", result.chunks.len())))
    }

    /// Chunk `index` of a result: its rows (INLINE) or a signed link to its file.
    fn result_data(&self, statement_id: &str, result: &ResultSet, index: usize, base_url: &str) -> Option<ResultData> {
        let chunk = result.chunks.get(index)?;
        let next = (index + 1 < result.chunks.len()).then_some(index + 1);
        let internal_link = |n: usize| format!("/api/2.0/sql/statements/{statement_id}/result/chunks/{n}");
        let external_links = result.external.then(|| {
            let expires_ms = now_ms() + LINK_TTL.as_millis() as i64;
            let signature = self.sign(statement_id, index, expires_ms);
            vec![ExternalLink {
                chunk_index: index as i32,
                row_offset: chunk.row_offset,
                row_count: chunk.row_count,
                byte_count: chunk.byte_count,
                external_link: format!("{base_url}/api/2.0/sql/statements/{statement_id}/result/chunks/{index}/download?expires={expires_ms}&signature={signature}"),
                expiration: chrono::DateTime::from_timestamp_millis(expires_ms).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)).unwrap_or_default(),
                http_headers: Default::default(),
                next_chunk_index: next.map(|n| n as i32),
                next_chunk_internal_link: next.map(internal_link),
            }]
        });
        Some(ResultData {
            chunk_index: index as i32,
            row_offset: chunk.row_offset,
            row_count: chunk.row_count,
            byte_count: result.external.then_some(chunk.byte_count),
            data_array: (!result.external).then(|| chunk.rows.clone()),
            external_links,
            next_chunk_index: next.map(|n| n as i32),
            next_chunk_internal_link: next.map(internal_link),
        })
    }

    fn sign(&self, statement_id: &str, index: usize, expires_ms: i64) -> String {
        crate::signing::hmac_sha256_hex(&self.link_key, format!("{statement_id}/{index}/{expires_ms}").as_bytes())
    }

    /// The bytes behind an external link: no bearer token, but the link's signature and
    /// expiry must hold. Answers the content type and the chunk file.
    pub fn download(&self, statement_id: &str, index: usize, expires_ms: i64, signature: &str) -> Result<(&'static str, PathBuf)> {
        let expected = self.sign(statement_id, index, expires_ms);
        if !crate::signing::constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
            return Err(Error::denied("The link's signature is not valid."));
        }
        if expires_ms < now_ms() {
            return Err(Error::denied("The link has expired: fetch the chunk again for a fresh link."));
        }
        let entry = self.entries.lock().unwrap_or_else(|p| p.into_inner()).get(statement_id).cloned();
        let phase = entry.map(|entry| entry.phase.borrow().clone());
        let Some(Phase::Succeeded(result)) = phase else {
            return Err(Error::not_found(format!("Statement {statement_id} has no result (results are kept for one hour).")));
        };
        let file = result.chunks.get(index).and_then(|chunk| chunk.file.clone()).ok_or_else(|| Error::not_found(format!("chunk {index} does not exist")))?;
        Ok((result.format.content_type(), file))
    }

    pub async fn cancel(&self, caller: &Caller, statement_id: &str) -> Result<()> {
        let entry = self.entry(caller, statement_id)?;
        self.cancel_entry(&entry).await;
        Ok(())
    }

    async fn cancel_entry(&self, entry: &Entry) {
        if entry.phase.borrow().is_final() {
            return;
        }
        if let Some(task) = entry.task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
        self.finish(entry, Phase::Canceled, None).await;
    }

    async fn finish(&self, entry: &Entry, phase: Phase, statement_type: Option<&'static str>) {
        let record = {
            let mut record = entry.record.lock().unwrap_or_else(|p| p.into_inner());
            record.end_time_ms = Some(now_ms());
            if let Some(kind) = statement_type {
                record.statement_type = kind.to_string();
            }
            match &phase {
                Phase::Succeeded(result) => {
                    record.status = "FINISHED".to_string();
                    record.rows_produced = Some(result.total_rows);
                }
                Phase::Failed(error) => {
                    record.status = "FAILED".to_string();
                    record.error_message = Some(error.message.clone());
                }
                _ => record.status = "CANCELED".to_string(),
            }
            record.clone()
        };
        // The first final state wins: a cancel racing a finish does not overwrite it. The
        // history hears of it first, so a listing after the client sees the state shows it.
        let is_first = !entry.phase.borrow().is_final();
        if is_first {
            self.history.report(record);
        }
        let changed = entry.phase.send_if_modified(|current| {
            if current.is_final() {
                return false;
            }
            *current = phase;
            true
        });
        if changed {
            *entry.finished_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        }
    }

    fn response(&self, statement_id: &str, entry: &Entry, base_url: &str) -> StatementResponse {
        let status = |state: &str| StatementStatus { state: state.to_string(), error: None, sql_state: None };
        let expired = entry.finished_at.lock().unwrap_or_else(|p| p.into_inner()).is_some_and(|at| at.elapsed() >= RESULT_TTL);
        let phase = entry.phase.borrow().clone();
        match phase {
            Phase::Pending => StatementResponse { statement_id: statement_id.to_string(), status: status("PENDING"), manifest: None, result: None },
            Phase::Running => StatementResponse { statement_id: statement_id.to_string(), status: status("RUNNING"), manifest: None, result: None },
            Phase::Canceled => StatementResponse { statement_id: statement_id.to_string(), status: status("CANCELED"), manifest: None, result: None },
            Phase::Succeeded(_) if expired => StatementResponse { statement_id: statement_id.to_string(), status: status("CLOSED"), manifest: None, result: None },
            Phase::Succeeded(result) => StatementResponse {
                statement_id: statement_id.to_string(),
                status: status("SUCCEEDED"),
                manifest: Some(result.manifest()),
                result: self.result_data(statement_id, &result, 0, base_url),
            },
            Phase::Failed(error) => StatementResponse {
                statement_id: statement_id.to_string(),
                status: StatementStatus {
                    state: "FAILED".to_string(),
                    error: Some(ServiceError { error_code: error.error_code.to_string(), message: error.message.clone() }),
                    sql_state: error.sql_state.map(str::to_string),
                },
                manifest: None,
                result: None,
            },
        }
    }
}

/// The statement's task: waits for a slot on the warehouse, runs, collects the result.
#[allow(clippy::too_many_arguments)]
async fn run_statement(
    statements: Statements,
    entry: Arc<Entry>,
    caller: Caller,
    pool: crate::session::ExecutionPool,
    sql: String,
    context: StatementContext,
    disposition: Disposition,
    (row_limit, byte_limit): (Option<usize>, Option<usize>),
) {
    let Ok(_slot) = pool.slots.clone().acquire_owned().await else {
        statements.finish(&entry, Phase::Failed(SqlError::internal("the warehouse stopped")), None).await;
        return;
    };
    entry.phase.send_if_modified(|phase| {
        if matches!(phase, Phase::Pending) {
            *phase = Phase::Running;
            return true;
        }
        false
    });
    let running = {
        let mut record = entry.record.lock().unwrap_or_else(|p| p.into_inner());
        record.status = "RUNNING".to_string();
        record.clone()
    };
    statements.history.report(running);
    let outcome = async {
        let output = statements.executor.run(&caller, &pool, &sql, &context).await?;
        let statement_type = output.statement_type;
        let mut stream = output.stream;
        let result = ResultBuilder::new(output.schema.clone(), disposition, row_limit, byte_limit)?.collect(&mut stream).await?;
        Ok::<_, SqlError>((result, statement_type))
    }
    .await;
    match outcome {
        Ok((result, statement_type)) => statements.finish(&entry, Phase::Succeeded(Arc::new(result)), Some(statement_type)).await,
        Err(error) => statements.finish(&entry, Phase::Failed(error), None).await,
    }
}

/// Most queries one history page holds.
const MAX_HISTORY_PAGE: usize = 1000;

impl Statements {
    /// `GET /api/2.0/sql/history/queries`: the caller's own queries, and every query on
    /// warehouses where it holds CAN_MONITOR (admins see all), newest first.
    pub async fn history(&self, caller: &Caller, query: &kiln_api::sql::ListQueriesQuery) -> Result<kiln_api::sql::ListQueriesResponse> {
        use kiln_api::page::PageCursor;
        let limit = match query.max_results {
            None => 100,
            Some(n) if n <= 0 || n as usize >= MAX_HISTORY_PAGE => return Err(Error::invalid(format!("max_results must be between 1 and {}, got {n}", MAX_HISTORY_PAGE - 1))),
            Some(n) => n as usize,
        };
        self.history.flush().await;
        let offset = PageCursor::from_token(query.page_token.as_deref()).map_err(Error::invalid)?.offset;
        let filter = kiln_store::QueryFilter {
            statuses: query.statuses.clone(),
            user_ids: query.user_ids.clone(),
            warehouse_ids: query.warehouse_ids.clone(),
            query_ids: query.statement_ids.clone(),
            start_time_from_ms: query.start_time_ms,
            start_time_to_ms: query.end_time_ms,
        };
        let mut monitored: HashMap<String, bool> = HashMap::new();
        let mut visible = Vec::new();
        let mut scanned = offset;
        // Reads past entries the caller may not see until the page is full.
        loop {
            let batch = self.store.list_queries(&filter, scanned, MAX_HISTORY_PAGE).await?;
            let exhausted = batch.len() < MAX_HISTORY_PAGE;
            for record in batch {
                scanned += 1;
                let allowed = if caller.is_admin() || record.user_id == caller.id() {
                    true
                } else if let Some(allowed) = monitored.get(&record.warehouse_id) {
                    *allowed
                } else {
                    let allowed = self.warehouses.may_monitor(caller, &record.warehouse_id).await?;
                    monitored.insert(record.warehouse_id.clone(), allowed);
                    allowed
                };
                if allowed {
                    visible.push(query_info(record));
                    if visible.len() == limit {
                        break;
                    }
                }
            }
            if exhausted || visible.len() == limit {
                break;
            }
        }
        let more = visible.len() == limit && !self.store.list_queries(&filter, scanned, 1).await?.is_empty();
        let next_page_token = more.then(|| PageCursor { offset: scanned }.encode());
        Ok(kiln_api::sql::ListQueriesResponse { res: visible, has_next_page: more, next_page_token })
    }
}

fn query_info(record: QueryRecord) -> kiln_api::sql::QueryInfo {
    let is_final = matches!(record.status.as_str(), "FINISHED" | "FAILED" | "CANCELED");
    kiln_api::sql::QueryInfo {
        duration: record.end_time_ms.map(|end| end - record.start_time_ms),
        query_id: record.query_id,
        status: record.status,
        query_text: record.query_text,
        statement_type: record.statement_type,
        user_id: record.user_id,
        executed_as_user_id: record.user_id,
        executed_as_user_name: record.user_name.clone(),
        user_name: record.user_name,
        endpoint_id: record.warehouse_id.clone(),
        warehouse_id: record.warehouse_id,
        query_start_time_ms: record.start_time_ms,
        query_end_time_ms: record.end_time_ms,
        execution_end_time_ms: record.end_time_ms,
        rows_produced: record.rows_produced,
        error_message: record.error_message,
        is_final,
    }
}

/// The query-history statement type, from the statement's first word.
pub fn statement_type_of(sql: &str) -> &'static str {
    let first = sql.trim_start().split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or_default().to_ascii_uppercase();
    match first.as_str() {
        "SELECT" | "WITH" | "VALUES" | "FROM" | "TABLE" => "SELECT",
        "INSERT" => "INSERT",
        "UPDATE" => "UPDATE",
        "DELETE" => "DELETE",
        "MERGE" => "MERGE",
        "CREATE" => "CREATE",
        "DROP" => "DROP",
        "ALTER" => "ALTER",
        "GRANT" => "GRANT",
        "REVOKE" => "REVOKE",
        "SHOW" => "SHOW",
        "DESCRIBE" | "DESC" => "DESCRIBE",
        "USE" => "USE",
        "EXPLAIN" => "EXPLAIN",
        "SET" => "SET",
        "TRUNCATE" => "TRUNCATE",
        "OPTIMIZE" => "OPTIMIZE",
        _ => "OTHER",
    }
}

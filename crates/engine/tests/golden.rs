//! SQL golden files: `tests/golden/*.sql` hold statements and the results they must give,
//! run against a fresh workspace per file (in-memory metadata, a temp data directory).
//!
//! Format, one case after another:
//! ```text
//! -- as bob@example.com        (optional: who runs what follows; default admin)
//! SELECT 1 AS one;             (the statement ends with `;` at the end of a line)
//! ----
//! one                          (column names, then one line per row, ` | ` between values)
//! 1
//!                              (a blank line ends the case)
//! ```
//! An expectation of `ok` means no columns; `error: [CONDITION] text...` matches a failure
//! whose message starts with that text. Set `KILN_BLESS=1` to rewrite the expectations from
//! what the engine answers, then review the diff.

use std::sync::Arc;

use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use futures::TryStreamExt;
use kiln_core::audit::AuditLog;
use kiln_core::authn::Authenticator;
use kiln_core::authz::{AclPolicy, Authz};
use kiln_core::principal::{Caller, USERS_GROUP};
use kiln_core::uc::UnityCatalog;
use kiln_engine::{ExecutionPool, Executor, StatementContext};
use kiln_store::{PrincipalKind, PrincipalRecord, Store};
use kiln_store_sqlite::SqliteStore;

struct Workspace {
    dir: std::path::PathBuf,
    store: Arc<dyn Store>,
    authenticator: Authenticator,
    executor: Executor,
    pool: ExecutionPool,
    admin_id: i64,
}

impl Workspace {
    async fn new() -> Workspace {
        let dir = std::env::temp_dir().join(format!("kiln-golden-{}", uuid::Uuid::new_v4()));
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(":memory:").await.expect("store"));
        kiln_core::workspace::bootstrap(&store, Some("dapi0123456789abcdef0123456789abcdef")).await.expect("bootstrap");
        let audit = AuditLog::start(store.clone());
        let authz = Authz::new(Arc::new(AclPolicy::new(store.clone())), store.clone(), audit);
        let uc = UnityCatalog::open(store.clone(), authz, dir.join("storage")).await.expect("unity catalog");
        let pool = ExecutionPool::new(4, 1 << 30, &dir.join("spill")).expect("pool");
        let admin_id = store.find_principal(PrincipalKind::User, kiln_core::workspace::ADMIN_USER_NAME).await.expect("find").expect("admin").id;
        let authenticator = Authenticator::new(store.clone());
        Workspace { dir, executor: Executor::new(uc, authenticator.clone()), authenticator, store, pool, admin_id }
    }

    /// The caller named by `-- as`: `admin`, or a user created on first mention.
    async fn caller(&self, name: &str) -> Caller {
        let id = if name == "admin" {
            self.admin_id
        } else if let Some(user) = self.store.find_principal(PrincipalKind::User, name).await.expect("find") {
            user.id
        } else {
            let id = kiln_core::ids::numeric_id();
            let record = PrincipalRecord::new(id, PrincipalKind::User, name);
            self.store.create_principal(&record).await.expect("user");
            let users = self.store.find_principal(PrincipalKind::Group, USERS_GROUP).await.expect("find").expect("users");
            self.store.add_group_members(users.id, &[id]).await.expect("membership");
            id
        };
        let principal = self.authenticator.load(id).await.expect("load").expect("principal");
        Caller { principal: Arc::new(principal), request_id: "golden".to_string() }
    }

    /// The result of one statement as golden text.
    async fn run(&self, caller: &Caller, sql: &str) -> String {
        let context = StatementContext { catalog: "main".to_string(), schema: "default".to_string(), parameters: Vec::new() };
        let output = match self.executor.run(caller, &self.pool, sql, &context).await {
            Ok(output) => output,
            Err(error) => return format!("error: {}", error.message.replace('\n', " ")),
        };
        if output.schema.fields().is_empty() {
            return "ok".to_string();
        }
        let batches: Vec<_> = match output.stream.try_collect().await {
            Ok(batches) => batches,
            Err(error) => return format!("error: {}", kiln_engine::SqlError::from_datafusion(error).message.replace('\n', " ")),
        };
        let mut lines = vec![output.schema.fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>().join(" | ")];
        let options = FormatOptions::new().with_null("NULL");
        for batch in &batches {
            let formatters: Vec<_> = batch.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &options).expect("formatter")).collect();
            for row in 0..batch.num_rows() {
                lines.push(formatters.iter().map(|f| f.value(row).to_string()).collect::<Vec<_>>().join(" | "));
            }
        }
        lines.join("\n")
    }
}

struct Case {
    caller: String,
    sql: String,
    expected: String,
}

fn parse_cases(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut caller = "admin".to_string();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(name) = line.strip_prefix("-- as ") {
            caller = name.trim().to_string();
            continue;
        }
        if line.trim().is_empty() || line.starts_with("--") {
            continue;
        }
        let mut sql = line.to_string();
        while !sql.trim_end().ends_with(';') {
            let Some(next) = lines.next() else { break };
            sql.push('\n');
            sql.push_str(next);
        }
        assert_eq!(lines.next(), Some("----"), "statement `{sql}` must be followed by ----");
        let mut expected = Vec::new();
        while let Some(next) = lines.peek() {
            if next.trim().is_empty() {
                break;
            }
            expected.push(lines.next().unwrap_or_default());
        }
        cases.push(Case { caller: caller.clone(), sql, expected: expected.join("\n") });
    }
    cases
}

fn render(cases: &[Case], actual: &[String]) -> String {
    let mut out = String::new();
    let mut caller = "admin".to_string();
    for (case, result) in cases.iter().zip(actual) {
        if case.caller != caller {
            out.push_str(&format!("-- as {}\n", case.caller));
            caller = case.caller.clone();
        }
        out.push_str(&format!("{}\n----\n{}\n\n", case.sql, result));
    }
    out
}

#[tokio::test]
async fn golden_files() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let bless = std::env::var("KILN_BLESS").is_ok();
    let mut paths: Vec<_> = std::fs::read_dir(&dir).expect("golden dir").filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "sql")).collect();
    paths.sort();
    assert!(!paths.is_empty(), "no golden files in {}", dir.display());
    let mut failures = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("read");
        let cases = parse_cases(&text);
        let workspace = Workspace::new().await;
        let mut actual = Vec::new();
        for case in &cases {
            let caller = workspace.caller(&case.caller).await;
            let result = workspace.run(&caller, &case.sql).await;
            let matches = if case.expected.starts_with("error:") { result.starts_with(&case.expected) } else { result == case.expected };
            if !bless && !matches {
                failures.push(format!("{} as {}:\n{}\n-- expected:\n{}\n-- got:\n{}", path.display(), case.caller, case.sql, case.expected, result));
            }
            actual.push(result);
        }
        if bless {
            std::fs::write(&path, render(&cases, &actual)).expect("bless");
        }
        let _ = std::fs::remove_dir_all(&workspace.dir);
    }
    assert!(failures.is_empty(), "{} golden case(s) differ:\n\n{}", failures.len(), failures.join("\n\n"));
}

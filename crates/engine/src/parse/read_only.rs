//! Which statements only read: the test behind read-only SQL tools (MCP's
//! `execute_sql_read_only`), decided on the parsed statement, never on its first word, so a
//! `WITH ... INSERT` or an `EXPLAIN ANALYZE` of a write is refused.

use datafusion::sql::sqlparser::ast::{Query, SetExpr, Statement};

use super::{KilnStatement, parse_statement};
use crate::error::SqlError;

/// `Ok(None)` when `sql` only reads; `Ok(Some(kind))` names what it would change.
pub fn write_kind(sql: &str) -> Result<Option<&'static str>, SqlError> {
    Ok(match parse_statement(sql)? {
        KilnStatement::Sql(statement) => statement_write_kind(&statement),
        KilnStatement::ShowGrants { .. }
        | KilnStatement::ShowVolumes { .. }
        | KilnStatement::ShowViews { .. }
        | KilnStatement::Describe { .. }
        | KilnStatement::DescribeHistory { .. }
        | KilnStatement::ShowFunctions { .. }
        | KilnStatement::DescribeFunction { .. } => None,
        KilnStatement::CreateCatalog { .. } | KilnStatement::CreateSchema { .. } | KilnStatement::CreateTable(_) => Some("CREATE"),
        KilnStatement::CreateVolume { .. } | KilnStatement::CreateView(_) | KilnStatement::CreateFunction(_) => Some("CREATE"),
        KilnStatement::DropCatalog { .. } | KilnStatement::DropVolume { .. } | KilnStatement::DropFunction { .. } => Some("DROP"),
        KilnStatement::Grant { revoke: false, .. } => Some("GRANT"),
        KilnStatement::Grant { revoke: true, .. } => Some("REVOKE"),
        KilnStatement::Merge(_) => Some("MERGE"),
        KilnStatement::Alter { .. } => Some("ALTER"),
    })
}

fn statement_write_kind(statement: &Statement) -> Option<&'static str> {
    match statement {
        Statement::Query(query) => query_write_kind(query),
        Statement::Explain { analyze: false, .. } | Statement::ExplainTable { .. } => None,
        Statement::Explain { analyze: true, statement, .. } => statement_write_kind(statement),
        Statement::ShowFunctions { .. }
        | Statement::ShowVariable { .. }
        | Statement::ShowStatus { .. }
        | Statement::ShowVariables { .. }
        | Statement::ShowCreate { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowCatalogs { .. }
        | Statement::ShowDatabases { .. }
        | Statement::ShowSchemas { .. }
        | Statement::ShowObjects(_)
        | Statement::ShowTables { .. }
        | Statement::ShowViews { .. }
        // USE only sets the statement's own default catalog or schema.
        | Statement::Use(_) => None,
        Statement::Insert(_) => Some("INSERT"),
        Statement::Update { .. } => Some("UPDATE"),
        Statement::Delete(_) => Some("DELETE"),
        Statement::Merge { .. } => Some("MERGE"),
        _ => Some(first_keyword(statement)),
    }
}

fn query_write_kind(query: &Query) -> Option<&'static str> {
    let in_ctes = query.with.iter().flat_map(|with| &with.cte_tables).find_map(|cte| query_write_kind(&cte.query));
    in_ctes.or_else(|| set_expr_write_kind(&query.body))
}

fn set_expr_write_kind(body: &SetExpr) -> Option<&'static str> {
    match body {
        SetExpr::Select(select) if select.into.is_some() => Some("SELECT INTO"),
        SetExpr::Select(_) | SetExpr::Values(_) | SetExpr::Table(_) => None,
        SetExpr::Query(query) => query_write_kind(query),
        SetExpr::SetOperation { left, right, .. } => set_expr_write_kind(left).or_else(|| set_expr_write_kind(right)),
        SetExpr::Insert(_) => Some("INSERT"),
        SetExpr::Update(_) => Some("UPDATE"),
        SetExpr::Delete(_) => Some("DELETE"),
        SetExpr::Merge(_) => Some("MERGE"),
    }
}

/// The statement's leading keyword (`TRUNCATE`, `CREATE`, ...), for the refusal's message.
fn first_keyword(statement: &Statement) -> &'static str {
    let text = statement.to_string();
    let word = text.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
    ["CREATE", "DROP", "ALTER", "TRUNCATE", "INSERT", "UPDATE", "DELETE", "MERGE", "GRANT", "REVOKE", "SET", "OPTIMIZE", "VACUUM", "COPY", "CACHE"]
        .into_iter()
        .find(|known| *known == word)
        .unwrap_or("a change")
}

#[cfg(test)]
mod tests {
    use super::write_kind;

    #[test]
    fn reads_pass_and_writes_are_named() {
        for sql in ["SELECT 1", "with a as (select 1) select * from a", "SHOW TABLES IN main.default", "DESCRIBE TABLE main.default.t", "EXPLAIN SELECT 1", "VALUES (1)", "SELECT 1 UNION ALL SELECT 2", "SHOW GRANTS ON TABLE main.default.t", "USE CATALOG main"] {
            assert_eq!(write_kind(sql).unwrap(), None, "{sql}");
        }
        let writes = [
            ("INSERT INTO t VALUES (1)", "INSERT"),
            ("WITH a AS (SELECT 1) INSERT INTO t SELECT * FROM a", "INSERT"),
            ("UPDATE t SET a = 1", "UPDATE"),
            ("DELETE FROM t", "DELETE"),
            ("CREATE TABLE t (a INT)", "CREATE"),
            ("DROP TABLE t", "DROP"),
            ("GRANT SELECT ON TABLE t TO `a@b.c`", "GRANT"),
            ("EXPLAIN ANALYZE INSERT INTO t VALUES (1)", "INSERT"),
            ("TRUNCATE TABLE t", "TRUNCATE"),
        ];
        for (sql, kind) in writes {
            assert_eq!(write_kind(sql).unwrap(), Some(kind), "{sql}");
        }
    }
}

//! `MERGE INTO`, as Databricks writes it: sqlparser has no `UPDATE SET *` / `INSERT *` and
//! no `WHEN NOT MATCHED BY SOURCE` outside BigQuery, so the statement is read here.

use datafusion::sql::sqlparser::ast::{Expr, TableFactor};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::Token;

use super::{eat_word, name_parts, peek_word};

#[derive(Debug, Clone)]
pub struct Merge {
    pub target: Vec<String>,
    pub target_alias: Option<String>,
    /// A table or a parenthesised query, as sqlparser read it.
    pub source: TableFactor,
    pub source_alias: Option<String>,
    pub on: Expr,
    pub clauses: Vec<MergeClause>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeWhen {
    Matched,
    NotMatched,
    NotMatchedBySource,
}

#[derive(Debug, Clone)]
pub enum MergeAction {
    /// `UPDATE SET *`: every target column from the source column of the same name.
    UpdateAll,
    Update(Vec<(String, Expr)>),
    Delete,
    /// `INSERT *`.
    InsertAll,
    Insert { columns: Vec<String>, values: Vec<Expr> },
}

#[derive(Debug, Clone)]
pub struct MergeClause {
    pub when: MergeWhen,
    pub condition: Option<Expr>,
    pub action: MergeAction,
}

/// `MERGE INTO target [[AS] t] USING source [[AS] s] ON cond WHEN ... THEN ...`.
pub(super) fn merge(parser: &mut Parser) -> Result<Merge, ParserError> {
    parser.expect_keyword_is(Keyword::MERGE)?;
    let _ = parser.parse_keyword(Keyword::INTO);
    let (target, target_alias) = match parser.parse_table_factor()? {
        TableFactor::Table { name, alias, .. } => (name_parts(&name), alias.map(|a| a.name.value.to_lowercase())),
        other => return Err(ParserError::ParserError(format!("MERGE INTO {other}: the target must be a table"))),
    };
    parser.expect_keyword_is(Keyword::USING)?;
    let source = parser.parse_table_factor()?;
    let source_alias = match &source {
        TableFactor::Table { alias, .. } | TableFactor::Derived { alias, .. } => alias.as_ref().map(|a| a.name.value.to_lowercase()),
        other => return Err(ParserError::ParserError(format!("MERGE ... USING {other}: the source must be a table or a subquery"))),
    };
    parser.expect_keyword_is(Keyword::ON)?;
    let on = parser.parse_expr()?;
    let mut clauses = Vec::new();
    while parser.parse_keyword(Keyword::WHEN) {
        clauses.push(clause(parser)?);
    }
    if clauses.is_empty() {
        return parser.expected("WHEN MATCHED or WHEN NOT MATCHED", parser.peek_token());
    }
    Ok(Merge { target, target_alias, source, source_alias, on, clauses })
}

fn clause(parser: &mut Parser) -> Result<MergeClause, ParserError> {
    let when = if parser.parse_keyword(Keyword::MATCHED) {
        MergeWhen::Matched
    } else {
        parser.expect_keyword_is(Keyword::NOT)?;
        parser.expect_keyword_is(Keyword::MATCHED)?;
        if parser.parse_keyword(Keyword::BY) {
            if eat_word(parser, "SOURCE") {
                MergeWhen::NotMatchedBySource
            } else {
                parser.expect_keyword_is(Keyword::TARGET)?;
                MergeWhen::NotMatched
            }
        } else {
            MergeWhen::NotMatched
        }
    };
    let condition = if parser.parse_keyword(Keyword::AND) { Some(parser.parse_expr()?) } else { None };
    parser.expect_keyword_is(Keyword::THEN)?;
    let action = if parser.parse_keyword(Keyword::DELETE) {
        MergeAction::Delete
    } else if parser.parse_keyword(Keyword::UPDATE) {
        parser.expect_keyword_is(Keyword::SET)?;
        if parser.consume_token(&Token::Mul) {
            MergeAction::UpdateAll
        } else {
            let assignments = parser.parse_comma_separated(|p| {
                let column = name_parts(&p.parse_object_name(false)?).pop().unwrap_or_default();
                p.expect_token(&Token::Eq)?;
                Ok((column, p.parse_expr()?))
            })?;
            MergeAction::Update(assignments)
        }
    } else if parser.parse_keyword(Keyword::INSERT) {
        if parser.consume_token(&Token::Mul) {
            MergeAction::InsertAll
        } else {
            let columns = if parser.peek_token().token == Token::LParen && !peek_word(parser, 1, "VALUES") {
                parser.expect_token(&Token::LParen)?;
                let columns = parser.parse_comma_separated(|p| Ok(name_parts(&p.parse_object_name(false)?).pop().unwrap_or_default()))?;
                parser.expect_token(&Token::RParen)?;
                columns
            } else {
                Vec::new()
            };
            parser.expect_keyword_is(Keyword::VALUES)?;
            parser.expect_token(&Token::LParen)?;
            let values = parser.parse_comma_separated(Parser::parse_expr)?;
            parser.expect_token(&Token::RParen)?;
            MergeAction::Insert { columns, values }
        }
    } else {
        return parser.expected("UPDATE, DELETE or INSERT", parser.peek_token());
    };
    let allowed = match (&action, when) {
        (MergeAction::Insert { .. } | MergeAction::InsertAll, MergeWhen::NotMatched) => true,
        (MergeAction::Insert { .. } | MergeAction::InsertAll, _) | (_, MergeWhen::NotMatched) => false,
        (MergeAction::UpdateAll, MergeWhen::NotMatchedBySource) => false,
        _ => true,
    };
    if !allowed {
        return Err(ParserError::ParserError(format!("{} is not allowed in a {} clause", action_name(&action), when_name(when))));
    }
    Ok(MergeClause { when, condition, action })
}

fn action_name(action: &MergeAction) -> &'static str {
    match action {
        MergeAction::UpdateAll => "UPDATE SET *",
        MergeAction::Update(_) => "UPDATE",
        MergeAction::Delete => "DELETE",
        MergeAction::InsertAll => "INSERT *",
        MergeAction::Insert { .. } => "INSERT",
    }
}

fn when_name(when: MergeWhen) -> &'static str {
    match when {
        MergeWhen::Matched => "WHEN MATCHED",
        MergeWhen::NotMatched => "WHEN NOT MATCHED",
        MergeWhen::NotMatchedBySource => "WHEN NOT MATCHED BY SOURCE",
    }
}

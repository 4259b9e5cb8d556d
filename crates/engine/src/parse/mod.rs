//! The statement layer's parser. Databricks SQL that sqlparser reads as it is goes to
//! sqlparser with [`KilnDialect`]; the statements it cannot read (CREATE CATALOG, GRANT on
//! catalogs, SHOW GRANTS, DESCRIBE HISTORY, CREATE TABLE ... USING DELTA with clauses in any
//! order, ...) are read here on sqlparser's token API.

use std::any::TypeId;

use datafusion::sql::sqlparser::ast::{ColumnOption, Ident, ObjectName, ObjectNamePart, Query, Statement, TableConstraint};
use datafusion::sql::sqlparser::dialect::{DatabricksDialect, Dialect};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};
use kiln_core::authz::Privilege;
use kiln_store::SecurableKind;

use crate::error::SqlError;

mod limits;
mod merge;
mod read_only;

pub use read_only::write_kind;
pub use merge::{Merge, MergeAction, MergeClause, MergeWhen};

/// Databricks' dialect plus what Databricks SQL has and sqlparser's Databricks dialect
/// lacks: `USING DELTA`, `MAP<..>`, `LONG`, backslash escapes in strings.
#[derive(Debug, Default, Clone, Copy)]
pub struct KilnDialect;

impl Dialect for KilnDialect {
    // Reporting as the Databricks dialect keeps sqlparser's Databricks-only branches
    // (USE CATALOG, VERSION AS OF, ...).
    fn dialect(&self) -> TypeId {
        TypeId::of::<DatabricksDialect>()
    }
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        ch == '`'
    }
    fn is_identifier_start(&self, ch: char) -> bool {
        ch.is_ascii_alphabetic() || ch == '_'
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        ch.is_ascii_alphanumeric() || ch == '_'
    }
    fn supports_numeric_prefix(&self) -> bool {
        true
    }
    fn supports_filter_during_aggregation(&self) -> bool {
        true
    }
    fn supports_group_by_expr(&self) -> bool {
        true
    }
    fn supports_table_versioning(&self) -> bool {
        true
    }
    fn supports_lambda_functions(&self) -> bool {
        true
    }
    fn supports_select_wildcard_except(&self) -> bool {
        true
    }
    fn supports_struct_literal(&self) -> bool {
        true
    }
    fn supports_nested_comments(&self) -> bool {
        true
    }
    fn supports_values_as_table_factor(&self) -> bool {
        true
    }
    fn supports_cte_without_as(&self) -> bool {
        true
    }
    fn supports_create_table_using(&self) -> bool {
        true
    }
    fn supports_map_literal_with_angle_brackets(&self) -> bool {
        true
    }
    fn supports_long_type_as_bigint(&self) -> bool {
        true
    }
    fn supports_string_literal_backslash_escape(&self) -> bool {
        true
    }
}

/// A column of CREATE TABLE.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnSpec {
    pub name: String,
    /// Type text as written, e.g. `DECIMAL(10,2)`; parsed by [`crate::types::parse_type`].
    pub type_text: String,
    pub nullable: bool,
    pub comment: Option<String>,
}

/// PRIMARY KEY and FOREIGN KEY constraints (informational, as on Databricks).
#[derive(Debug, Clone, PartialEq)]
pub enum ConstraintSpec {
    PrimaryKey { name: Option<String>, columns: Vec<String> },
    ForeignKey { name: Option<String>, columns: Vec<String>, parent: Vec<String>, parent_columns: Vec<String> },
}

#[derive(Debug, Clone)]
pub struct CreateTable {
    pub name: Vec<String>,
    pub or_replace: bool,
    pub if_not_exists: bool,
    pub columns: Vec<ColumnSpec>,
    pub constraints: Vec<ConstraintSpec>,
    /// CTAS.
    pub query: Option<Box<Query>>,
    pub comment: Option<String>,
    pub properties: Vec<(String, String)>,
    pub partition_by: Vec<String>,
}

/// `CREATE VIEW`: the query is kept as text and planned whenever the view is read.
#[derive(Debug, Clone)]
pub struct CreateView {
    pub name: Vec<String>,
    pub or_replace: bool,
    pub if_not_exists: bool,
    /// Optional column names (with comments) for the query's columns, in order.
    pub columns: Vec<(String, Option<String>)>,
    pub query: Box<Query>,
    pub comment: Option<String>,
    pub properties: Vec<(String, String)>,
}

/// A parameter of CREATE FUNCTION.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterSpec {
    pub name: String,
    pub type_text: String,
    /// SQL text of the default value.
    pub default: Option<String>,
    pub comment: Option<String>,
}

/// `CREATE FUNCTION ... RETURNS type RETURN expression`: a SQL scalar function.
#[derive(Debug, Clone)]
pub struct CreateFunction {
    pub name: Vec<String>,
    pub or_replace: bool,
    pub if_not_exists: bool,
    pub parameters: Vec<ParameterSpec>,
    pub returns: String,
    /// The SQL after RETURN: an expression, or a query answering one value.
    pub body: String,
    pub comment: Option<String>,
    pub deterministic: bool,
    pub sql_data_access: &'static str,
}

/// What an ALTER (or COMMENT ON) statement changes.
#[derive(Debug, Clone)]
pub enum AlterAction {
    /// RENAME TO: the new name (its last part is the new name of the object).
    Rename(Vec<String>),
    Owner(String),
    /// COMMENT ON ... IS '...' (NULL clears it).
    Comment(Option<String>),
    SetProperties(Vec<(String, String)>),
    UnsetProperties(Vec<String>),
    AddColumns(Vec<ColumnSpec>),
    ColumnComment { column: String, comment: String },
    /// ALTER VIEW ... AS query.
    ViewQuery(Box<Query>),
}

/// One statement, classified for the executor.
#[derive(Debug, Clone)]
pub enum KilnStatement {
    /// Anything sqlparser reads: queries, INSERT, UPDATE, DELETE, MERGE, USE, SHOW, DROP ...
    Sql(Box<Statement>),
    CreateCatalog { name: String, if_not_exists: bool, comment: Option<String> },
    DropCatalog { name: String, if_exists: bool, cascade: bool },
    CreateSchema { name: Vec<String>, if_not_exists: bool, comment: Option<String> },
    CreateTable(CreateTable),
    CreateVolume { name: Vec<String>, if_not_exists: bool, comment: Option<String> },
    DropVolume { name: Vec<String>, if_exists: bool },
    /// GRANT (`revoke` false) or REVOKE.
    Grant { revoke: bool, privileges: Vec<Privilege>, kind: SecurableKind, securable: Vec<String>, principals: Vec<String> },
    ShowGrants { principal: Option<String>, kind: SecurableKind, securable: Vec<String> },
    ShowVolumes { schema: Option<Vec<String>> },
    ShowViews { schema: Option<Vec<String>>, pattern: Option<String> },
    Describe { name: Vec<String>, extended: bool },
    DescribeHistory { name: Vec<String> },
    Merge(Box<Merge>),
    CreateView(CreateView),
    CreateFunction(CreateFunction),
    DropFunction { name: Vec<String>, if_exists: bool },
    /// SHOW [USER | SYSTEM | ALL] FUNCTIONS [IN schema] [[LIKE] 'pattern'].
    ShowFunctions { user: bool, system: bool, schema: Option<Vec<String>>, pattern: Option<String> },
    DescribeFunction { name: Vec<String> },
    Alter { kind: SecurableKind, name: Vec<String>, action: AlterAction },
}

/// Parses exactly one statement (a trailing `;` is fine), refusing one too long or too
/// complex to parse safely (see [`limits`]).
pub fn parse_statement(sql: &str) -> Result<KilnStatement, SqlError> {
    let mut parser = bounded_parser(sql).map_err(|e| e.unwrap_or_else(|e| SqlError::syntax(syntax_error(e))))?;
    let statement = parse_one(&mut parser).map_err(|e| SqlError::syntax(syntax_error(e)))?;
    while parser.consume_token(&Token::SemiColon) {}
    if parser.peek_token().token != Token::EOF {
        return Err(SqlError::syntax(format!(
            "[PARSE_SYNTAX_ERROR] Syntax error at or near '{}': only one statement may be run at a time. SQLSTATE: 42601",
            parser.peek_token().token
        )));
    }
    Ok(statement)
}

/// A parser over `sql` once its text passed the limits: `Err(Ok(_))` is a statement over a
/// limit, `Err(Err(_))` one that does not tokenize.
fn bounded_parser(sql: &str) -> Result<Parser<'static>, Result<SqlError, ParserError>> {
    limits::check_length(sql).map_err(|e| Ok(SqlError::too_complex(e)))?;
    let tokens = Tokenizer::new(&KilnDialect, sql).tokenize_with_location().map_err(|e| Err(e.into()))?;
    limits::check_complexity(&tokens).map_err(|e| Ok(SqlError::too_complex(e)))?;
    Ok(Parser::new(&KilnDialect).with_tokens_with_locations(tokens))
}

/// Parses one expression (SQL a function expands to), within the same limits as statements.
pub fn parse_expression(text: &str) -> Result<datafusion::sql::sqlparser::ast::Expr, SqlError> {
    let in_function = |e: ParserError| SqlError::condition("PARSE_SYNTAX_ERROR", format!("in function SQL '{text}': {e}."), "42601");
    let mut parser = bounded_parser(text).map_err(|e| e.unwrap_or_else(in_function))?;
    parser.parse_expr().map_err(in_function)
}

fn syntax_error(error: ParserError) -> String {
    let detail = match error {
        ParserError::ParserError(message) | ParserError::TokenizerError(message) => message,
        ParserError::RecursionLimitExceeded => "the statement is nested too deeply".to_string(),
    };
    format!("[PARSE_SYNTAX_ERROR] Syntax error: {detail}. SQLSTATE: 42601")
}

/// True when the next token is the word `word` (keyword or not), without consuming it.
fn peek_word(parser: &Parser, offset: usize, word: &str) -> bool {
    matches!(parser.peek_nth_token(offset).token, Token::Word(ref w) if w.value.eq_ignore_ascii_case(word))
}

/// Consumes the word `word` if it is next.
fn eat_word(parser: &mut Parser, word: &str) -> bool {
    if peek_word(parser, 0, word) {
        parser.next_token();
        return true;
    }
    false
}

fn parse_one(parser: &mut Parser) -> Result<KilnStatement, ParserError> {
    if peek_word(parser, 0, "CREATE") {
        let offset = if peek_word(parser, 1, "OR") && peek_word(parser, 2, "REPLACE") { 3 } else { 1 };
        if peek_word(parser, offset, "CATALOG") {
            parser.next_token();
            parser.next_token();
            let if_not_exists = parser.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
            let name = single_name(parser)?;
            let comment = optional_comment(parser)?;
            return Ok(KilnStatement::CreateCatalog { name, if_not_exists, comment });
        }
        if peek_word(parser, offset, "SCHEMA") || peek_word(parser, offset, "DATABASE") {
            parser.next_token();
            parser.next_token();
            let if_not_exists = parser.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
            let name = name_parts(&parser.parse_object_name(false)?);
            let comment = optional_comment(parser)?;
            return Ok(KilnStatement::CreateSchema { name, if_not_exists, comment });
        }
        if peek_word(parser, offset, "VOLUME") || (peek_word(parser, offset, "MANAGED") && peek_word(parser, offset + 1, "VOLUME")) {
            parser.next_token();
            eat_word(parser, "MANAGED");
            parser.next_token();
            let if_not_exists = parser.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
            let name = name_parts(&parser.parse_object_name(false)?);
            let comment = optional_comment(parser)?;
            return Ok(KilnStatement::CreateVolume { name, if_not_exists, comment });
        }
        if peek_word(parser, offset, "TABLE") {
            return create_table(parser).map(KilnStatement::CreateTable);
        }
        let temporary = usize::from(peek_word(parser, offset, "TEMP") || peek_word(parser, offset, "TEMPORARY"));
        if peek_word(parser, offset + temporary, "FUNCTION") {
            return create_function(parser).map(KilnStatement::CreateFunction);
        }
        if peek_word(parser, offset + temporary, "VIEW") {
            return create_view(parser).map(KilnStatement::CreateView);
        }
    }
    if peek_word(parser, 0, "DROP") && peek_word(parser, 1, "CATALOG") {
        parser.next_token();
        parser.next_token();
        let if_exists = parser.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
        let name = single_name(parser)?;
        let cascade = parser.parse_keyword(Keyword::CASCADE);
        let _ = parser.parse_keyword(Keyword::RESTRICT);
        return Ok(KilnStatement::DropCatalog { name, if_exists, cascade });
    }
    if peek_word(parser, 0, "DROP") && peek_word(parser, 1, "VOLUME") {
        parser.next_token();
        parser.next_token();
        let if_exists = parser.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
        let name = name_parts(&parser.parse_object_name(false)?);
        return Ok(KilnStatement::DropVolume { name, if_exists });
    }
    if peek_word(parser, 0, "DROP") && (peek_word(parser, 1, "FUNCTION") || (peek_word(parser, 2, "FUNCTION") && (peek_word(parser, 1, "TEMP") || peek_word(parser, 1, "TEMPORARY")))) {
        parser.next_token();
        if eat_word(parser, "TEMP") || eat_word(parser, "TEMPORARY") {
            return Err(ParserError::ParserError("DROP TEMPORARY FUNCTION: there are no temporary functions; DROP FUNCTION catalog.schema.name".to_string()));
        }
        parser.next_token();
        let if_exists = parser.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
        let name = name_parts(&parser.parse_object_name(false)?);
        return Ok(KilnStatement::DropFunction { name, if_exists });
    }
    if peek_word(parser, 0, "SHOW") && (0..3).any(|offset| peek_word(parser, offset + 1, "FUNCTIONS")) {
        parser.next_token();
        let (user, system) = if eat_word(parser, "USER") {
            (true, false)
        } else if eat_word(parser, "SYSTEM") {
            (false, true)
        } else {
            eat_word(parser, "ALL");
            (true, true)
        };
        if !eat_word(parser, "FUNCTIONS") {
            return parser.expected("FUNCTIONS", parser.peek_token());
        }
        let schema = if parser.parse_one_of_keywords(&[Keyword::IN, Keyword::FROM]).is_some() { Some(name_parts(&parser.parse_object_name(false)?)) } else { None };
        let _ = parser.parse_keyword(Keyword::LIKE);
        let pattern = match parser.peek_token().token {
            Token::SingleQuotedString(_) | Token::DoubleQuotedString(_) => Some(parser.parse_literal_string()?),
            _ => None,
        };
        return Ok(KilnStatement::ShowFunctions { user, system, schema, pattern });
    }
    if (peek_word(parser, 0, "DESCRIBE") || peek_word(parser, 0, "DESC")) && peek_word(parser, 1, "FUNCTION") {
        parser.next_token();
        parser.next_token();
        eat_word(parser, "EXTENDED");
        return Ok(KilnStatement::DescribeFunction { name: name_parts(&parser.parse_object_name(false)?) });
    }
    if peek_word(parser, 0, "ALTER") && ["CATALOG", "SCHEMA", "DATABASE", "TABLE", "VIEW", "VOLUME"].iter().any(|kind| peek_word(parser, 1, kind)) {
        return alter(parser);
    }
    if peek_word(parser, 0, "COMMENT") && peek_word(parser, 1, "ON") {
        parser.next_token();
        parser.next_token();
        let (kind, name) = securable(parser)?;
        parser.expect_keyword_is(Keyword::IS)?;
        let comment = if parser.parse_keyword(Keyword::NULL) { None } else { Some(parser.parse_literal_string()?) };
        return Ok(KilnStatement::Alter { kind, name, action: AlterAction::Comment(comment) });
    }
    if peek_word(parser, 0, "GRANT") || peek_word(parser, 0, "REVOKE") {
        return grant(parser);
    }
    if peek_word(parser, 0, "SHOW") && peek_word(parser, 1, "GRANTS") {
        parser.next_token();
        parser.next_token();
        let principal = if parser.parse_keyword(Keyword::ON) { None } else { let p = Some(principal_name(parser)?); parser.expect_keyword_is(Keyword::ON)?; p };
        let (kind, securable) = securable(parser)?;
        return Ok(KilnStatement::ShowGrants { principal, kind, securable });
    }
    if peek_word(parser, 0, "SHOW") && peek_word(parser, 1, "VIEWS") {
        parser.next_token();
        parser.next_token();
        let schema = if parser.parse_one_of_keywords(&[Keyword::IN, Keyword::FROM]).is_some() { Some(name_parts(&parser.parse_object_name(false)?)) } else { None };
        let _ = parser.parse_keyword(Keyword::LIKE);
        let pattern = match parser.peek_token().token {
            Token::SingleQuotedString(_) | Token::DoubleQuotedString(_) => Some(parser.parse_literal_string()?),
            _ => None,
        };
        return Ok(KilnStatement::ShowViews { schema, pattern });
    }
    if peek_word(parser, 0, "SHOW") && peek_word(parser, 1, "VOLUMES") {
        parser.next_token();
        parser.next_token();
        let schema = if parser.parse_one_of_keywords(&[Keyword::IN, Keyword::FROM]).is_some() { Some(name_parts(&parser.parse_object_name(false)?)) } else { None };
        return Ok(KilnStatement::ShowVolumes { schema });
    }
    if peek_word(parser, 0, "DESCRIBE") || peek_word(parser, 0, "DESC") {
        parser.next_token();
        if eat_word(parser, "HISTORY") {
            return Ok(KilnStatement::DescribeHistory { name: name_parts(&parser.parse_object_name(false)?) });
        }
        eat_word(parser, "TABLE");
        let extended = eat_word(parser, "EXTENDED") || eat_word(parser, "FORMATTED");
        let name = name_parts(&parser.parse_object_name(false)?);
        return Ok(KilnStatement::Describe { name, extended });
    }
    if peek_word(parser, 0, "MERGE") {
        return merge::merge(parser).map(|merge| KilnStatement::Merge(Box::new(merge)));
    }
    Ok(KilnStatement::Sql(Box::new(parser.parse_statement()?)))
}

/// Name parts, lower-cased: Databricks identifiers are case-insensitive.
pub fn name_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(ident) => ident.value.to_lowercase(),
            other => other.to_string().to_lowercase(),
        })
        .collect()
}

fn single_name(parser: &mut Parser) -> Result<String, ParserError> {
    Ok(parser.parse_identifier()?.value.to_lowercase())
}

fn optional_comment(parser: &mut Parser) -> Result<Option<String>, ParserError> {
    if parser.parse_keyword(Keyword::COMMENT) {
        let _ = parser.consume_token(&Token::Eq);
        return Ok(Some(parser.parse_literal_string()?));
    }
    Ok(None)
}

/// `CREATE [OR REPLACE] TABLE [IF NOT EXISTS] name [(columns)] [USING DELTA] [PARTITIONED BY
/// (cols)] [COMMENT '...'] [TBLPROPERTIES (...)] [AS query]`, clauses in any order.
fn create_table(parser: &mut Parser) -> Result<CreateTable, ParserError> {
    parser.expect_keyword_is(Keyword::CREATE)?;
    let or_replace = parser.parse_keywords(&[Keyword::OR, Keyword::REPLACE]);
    parser.expect_keyword_is(Keyword::TABLE)?;
    let if_not_exists = parser.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let name = name_parts(&parser.parse_object_name(false)?);
    let mut table = CreateTable {
        name,
        or_replace,
        if_not_exists,
        columns: Vec::new(),
        constraints: Vec::new(),
        query: None,
        comment: None,
        properties: Vec::new(),
        partition_by: Vec::new(),
    };
    if parser.peek_token().token == Token::LParen {
        let (columns, constraints) = parser.parse_columns()?;
        for column in columns {
            let mut spec = ColumnSpec { name: column.name.value.to_lowercase(), type_text: column.data_type.to_string(), nullable: true, comment: None };
            for option in column.options {
                match option.option {
                    ColumnOption::NotNull => spec.nullable = false,
                    ColumnOption::Comment(comment) => spec.comment = Some(comment),
                    ColumnOption::PrimaryKey(_) => {
                        spec.nullable = false;
                        table.constraints.push(ConstraintSpec::PrimaryKey { name: None, columns: vec![spec.name.clone()] });
                    }
                    _ => {}
                }
            }
            table.columns.push(spec);
        }
        for constraint in constraints {
            match constraint {
                TableConstraint::PrimaryKey(pk) => table.constraints.push(ConstraintSpec::PrimaryKey {
                    name: pk.name.map(|n| n.value),
                    columns: pk.columns.iter().map(|c| c.column.expr.to_string().to_lowercase()).collect(),
                }),
                TableConstraint::ForeignKey(fk) => table.constraints.push(ConstraintSpec::ForeignKey {
                    name: fk.name.map(|n| n.value),
                    columns: fk.columns.iter().map(|c| c.value.to_lowercase()).collect(),
                    parent: name_parts(&fk.foreign_table),
                    parent_columns: fk.referred_columns.iter().map(|c| c.value.to_lowercase()).collect(),
                }),
                other => return parser.expected("PRIMARY KEY or FOREIGN KEY constraint", datafusion::sql::sqlparser::tokenizer::TokenWithSpan::wrap(Token::make_word(&other.to_string(), None))),
            }
        }
    }
    loop {
        if parser.parse_keyword(Keyword::USING) {
            let format = parser.parse_identifier()?;
            if !format.value.eq_ignore_ascii_case("delta") {
                return Err(ParserError::ParserError(format!("USING {}: Kiln tables are Delta tables; use USING DELTA or leave it out", format.value)));
            }
        } else if parser.parse_keywords(&[Keyword::PARTITIONED, Keyword::BY]) || parser.parse_keywords(&[Keyword::CLUSTER, Keyword::BY]) {
            parser.expect_token(&Token::LParen)?;
            table.partition_by = parser.parse_comma_separated(|p| p.parse_identifier())?.into_iter().map(|i: Ident| i.value.to_lowercase()).collect();
            parser.expect_token(&Token::RParen)?;
        } else if parser.parse_keyword(Keyword::COMMENT) {
            table.comment = Some(parser.parse_literal_string()?);
        } else if parser.parse_keyword(Keyword::TBLPROPERTIES) {
            table.properties = properties(parser)?;
        } else if parser.parse_keyword(Keyword::LOCATION) {
            return Err(ParserError::ParserError("LOCATION: Kiln has no external locations; leave LOCATION out to create a managed table".to_string()));
        } else if parser.parse_keyword(Keyword::AS) {
            table.query = Some(parser.parse_query()?);
            break;
        } else {
            break;
        }
    }
    Ok(table)
}

/// `(key = value, ...)` of TBLPROPERTIES: keys are strings or dotted words.
fn properties(parser: &mut Parser) -> Result<Vec<(String, String)>, ParserError> {
    parser.expect_token(&Token::LParen)?;
    let properties = parser.parse_comma_separated(|p| {
        let key = match p.next_token().token {
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => s,
            Token::Word(w) => {
                let mut key = w.value;
                while p.consume_token(&Token::Period) {
                    key.push('.');
                    key.push_str(&p.parse_identifier()?.value);
                }
                key
            }
            other => return p.expected("a property key", datafusion::sql::sqlparser::tokenizer::TokenWithSpan::wrap(other)),
        };
        let _ = p.consume_token(&Token::Eq);
        let value = match p.next_token().token {
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) | Token::Number(s, _) => s,
            Token::Word(w) => w.value,
            other => return p.expected("a property value", datafusion::sql::sqlparser::tokenizer::TokenWithSpan::wrap(other)),
        };
        Ok((key, value))
    })?;
    parser.expect_token(&Token::RParen)?;
    Ok(properties)
}

/// `CREATE [OR REPLACE] VIEW [IF NOT EXISTS] name [(column [COMMENT '...'], ...)]
/// [COMMENT '...'] [TBLPROPERTIES (...)] AS query`.
fn create_view(parser: &mut Parser) -> Result<CreateView, ParserError> {
    parser.expect_keyword_is(Keyword::CREATE)?;
    let or_replace = parser.parse_keywords(&[Keyword::OR, Keyword::REPLACE]);
    if eat_word(parser, "TEMP") || eat_word(parser, "TEMPORARY") {
        return Err(ParserError::ParserError("TEMPORARY VIEW: statements run in no session a temporary view could live in; create a view in a schema (CREATE VIEW catalog.schema.name AS ...)".to_string()));
    }
    parser.expect_keyword_is(Keyword::VIEW)?;
    let if_not_exists = parser.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let name = name_parts(&parser.parse_object_name(false)?);
    let mut columns = Vec::new();
    if parser.consume_token(&Token::LParen) {
        columns = parser.parse_comma_separated(|p| {
            let column = p.parse_identifier()?.value.to_lowercase();
            let comment = if p.parse_keyword(Keyword::COMMENT) { Some(p.parse_literal_string()?) } else { None };
            Ok((column, comment))
        })?;
        parser.expect_token(&Token::RParen)?;
    }
    let (mut comment, mut properties_list) = (None, Vec::new());
    loop {
        if parser.parse_keyword(Keyword::COMMENT) {
            comment = Some(parser.parse_literal_string()?);
        } else if parser.parse_keyword(Keyword::TBLPROPERTIES) {
            properties_list = properties(parser)?;
        } else {
            break;
        }
    }
    parser.expect_keyword_is(Keyword::AS)?;
    let query = parser.parse_query()?;
    Ok(CreateView { name, or_replace, if_not_exists, columns, query, comment, properties: properties_list })
}

/// `CREATE [OR REPLACE] FUNCTION [IF NOT EXISTS] name ([param type [DEFAULT expr] [COMMENT
/// '...'], ...]) RETURNS type [LANGUAGE SQL] [[NOT] DETERMINISTIC] [COMMENT '...'] [CONTAINS
/// SQL | READS SQL DATA] [SQL SECURITY DEFINER] RETURN expression`.
fn create_function(parser: &mut Parser) -> Result<CreateFunction, ParserError> {
    parser.expect_keyword_is(Keyword::CREATE)?;
    let or_replace = parser.parse_keywords(&[Keyword::OR, Keyword::REPLACE]);
    if eat_word(parser, "TEMP") || eat_word(parser, "TEMPORARY") {
        return Err(ParserError::ParserError("TEMPORARY FUNCTION: statements run in no session a temporary function could live in; create it in a schema (CREATE FUNCTION catalog.schema.name ...)".to_string()));
    }
    parser.expect_keyword_is(Keyword::FUNCTION)?;
    let if_not_exists = parser.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let name = name_parts(&parser.parse_object_name(false)?);
    parser.expect_token(&Token::LParen)?;
    let mut parameters = Vec::new();
    if !parser.consume_token(&Token::RParen) {
        parameters = parser.parse_comma_separated(|p| {
            let name = p.parse_identifier()?.value.to_lowercase();
            let type_text = p.parse_data_type()?.to_string();
            let default = if p.parse_keyword(Keyword::DEFAULT) { Some(p.parse_expr()?.to_string()) } else { None };
            let comment = if p.parse_keyword(Keyword::COMMENT) { Some(p.parse_literal_string()?) } else { None };
            Ok(ParameterSpec { name, type_text, default, comment })
        })?;
        parser.expect_token(&Token::RParen)?;
    }
    parser.expect_keyword_is(Keyword::RETURNS)?;
    if peek_word(parser, 0, "TABLE") {
        return Err(ParserError::ParserError("RETURNS TABLE: table functions are not supported; a function returns one value".to_string()));
    }
    let returns = parser.parse_data_type()?.to_string();
    let (mut comment, mut deterministic, mut sql_data_access) = (None, false, "CONTAINS_SQL");
    loop {
        if parser.parse_keyword(Keyword::LANGUAGE) {
            let language = parser.parse_identifier()?.value;
            if !language.eq_ignore_ascii_case("SQL") {
                return Err(ParserError::ParserError(format!("LANGUAGE {language}: Kiln runs SQL functions only")));
            }
        } else if parser.parse_keyword(Keyword::DETERMINISTIC) {
            deterministic = true;
        } else if parser.parse_keywords(&[Keyword::NOT, Keyword::DETERMINISTIC]) {
            deterministic = false;
        } else if parser.parse_keyword(Keyword::COMMENT) {
            comment = Some(parser.parse_literal_string()?);
        } else if eat_word(parser, "CONTAINS") {
            parser.expect_keyword_is(Keyword::SQL)?;
            sql_data_access = "CONTAINS_SQL";
        } else if eat_word(parser, "READS") {
            parser.expect_keyword_is(Keyword::SQL)?;
            eat_word(parser, "DATA");
            sql_data_access = "READS_SQL_DATA";
        } else if parser.parse_keywords(&[Keyword::NO, Keyword::SQL]) {
            sql_data_access = "NO_SQL";
        } else if parser.parse_keywords(&[Keyword::SQL, Keyword::SECURITY]) {
            parser.expect_keyword_is(Keyword::DEFINER)?;
        } else {
            break;
        }
    }
    if parser.parse_keyword(Keyword::AS) {
        return Err(ParserError::ParserError("AS $$ ... $$: Kiln runs SQL functions only; write RETURN <expression>".to_string()));
    }
    parser.expect_keyword_is(Keyword::RETURN)?;
    let body = if peek_word(parser, 0, "SELECT") || peek_word(parser, 0, "WITH") { format!("({})", parser.parse_query()?) } else { parser.parse_expr()?.to_string() };
    Ok(CreateFunction { name, or_replace, if_not_exists, parameters, returns, body, comment, deterministic, sql_data_access })
}

/// `ALTER CATALOG | SCHEMA | TABLE | VIEW | VOLUME name action`: RENAME TO, [SET] OWNER TO,
/// SET/UNSET TBLPROPERTIES (DBPROPERTIES), ADD COLUMN(S), ALTER COLUMN c COMMENT, and for a
/// view AS query.
fn alter(parser: &mut Parser) -> Result<KilnStatement, ParserError> {
    parser.next_token();
    let view = peek_word(parser, 0, "VIEW");
    let (kind, name) = securable(parser)?;
    let action = if parser.parse_keywords(&[Keyword::RENAME, Keyword::TO]) {
        AlterAction::Rename(name_parts(&parser.parse_object_name(false)?))
    } else if parser.parse_keywords(&[Keyword::OWNER, Keyword::TO]) || parser.parse_keywords(&[Keyword::SET, Keyword::OWNER, Keyword::TO]) {
        AlterAction::Owner(principal_name(parser)?)
    } else if parser.parse_keyword(Keyword::SET) && (parser.parse_keyword(Keyword::TBLPROPERTIES) || eat_word(parser, "DBPROPERTIES") || eat_word(parser, "PROPERTIES")) {
        AlterAction::SetProperties(properties(parser)?)
    } else if parser.parse_keyword(Keyword::UNSET) && parser.parse_keyword(Keyword::TBLPROPERTIES) {
        let _ = parser.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
        let keys = properties_keys(parser)?;
        AlterAction::UnsetProperties(keys)
    } else if parser.parse_keyword(Keyword::ADD) {
        let parenthesised = if eat_word(parser, "COLUMNS") { true } else { eat_word(parser, "COLUMN"); parser.peek_token().token == Token::LParen };
        if parenthesised {
            parser.expect_token(&Token::LParen)?;
        }
        let columns = parser.parse_comma_separated(|p| {
            let column = p.parse_column_def()?;
            let comment = column.options.iter().find_map(|o| if let ColumnOption::Comment(c) = &o.option { Some(c.clone()) } else { None });
            Ok(ColumnSpec { name: column.name.value.to_lowercase(), type_text: column.data_type.to_string(), nullable: true, comment })
        })?;
        if parenthesised {
            parser.expect_token(&Token::RParen)?;
        }
        AlterAction::AddColumns(columns)
    } else if parser.parse_keyword(Keyword::ALTER) || parser.parse_keyword(Keyword::CHANGE) {
        eat_word(parser, "COLUMN");
        let column = parser.parse_identifier()?.value.to_lowercase();
        parser.expect_keyword_is(Keyword::COMMENT)?;
        AlterAction::ColumnComment { column, comment: parser.parse_literal_string()? }
    } else if view && parser.parse_keyword(Keyword::AS) {
        AlterAction::ViewQuery(parser.parse_query()?)
    } else {
        return parser.expected("RENAME TO, OWNER TO, SET TBLPROPERTIES, UNSET TBLPROPERTIES, ADD COLUMNS, ALTER COLUMN or AS", parser.peek_token());
    };
    Ok(KilnStatement::Alter { kind, name, action })
}

/// `(key, ...)` of UNSET TBLPROPERTIES.
fn properties_keys(parser: &mut Parser) -> Result<Vec<String>, ParserError> {
    parser.expect_token(&Token::LParen)?;
    let keys = parser.parse_comma_separated(|p| match p.next_token().token {
        Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => Ok(s),
        Token::Word(w) => {
            let mut key = w.value;
            while p.consume_token(&Token::Period) {
                key.push('.');
                key.push_str(&p.parse_identifier()?.value);
            }
            Ok(key)
        }
        other => p.expected("a property key", datafusion::sql::sqlparser::tokenizer::TokenWithSpan::wrap(other)),
    })?;
    parser.expect_token(&Token::RParen)?;
    Ok(keys)
}

/// `GRANT privilege[, ...] ON securable TO principal[, ...]` and `REVOKE ... FROM ...`.
fn grant(parser: &mut Parser) -> Result<KilnStatement, ParserError> {
    let revoke = eat_word(parser, "REVOKE");
    if !revoke {
        parser.next_token();
    }
    let mut privileges = Vec::new();
    loop {
        let mut words = Vec::new();
        while let Token::Word(w) = parser.peek_token().token {
            if w.value.eq_ignore_ascii_case("ON") {
                break;
            }
            words.push(w.value.to_uppercase());
            parser.next_token();
        }
        let text = words.join(" ");
        let privilege = Privilege::parse(&text).or_else(|| (text == "ALL").then_some(Privilege::AllPrivileges));
        let privilege = privilege.ok_or_else(|| ParserError::ParserError(format!("'{text}' is not a privilege")))?;
        privileges.push(privilege);
        if !parser.consume_token(&Token::Comma) {
            break;
        }
    }
    parser.expect_keyword_is(Keyword::ON)?;
    let (kind, securable) = securable(parser)?;
    if revoke {
        parser.expect_keyword_is(Keyword::FROM)?;
    } else {
        parser.expect_keyword_is(Keyword::TO)?;
    }
    let principals = parser.parse_comma_separated(principal_name)?;
    Ok(KilnStatement::Grant { revoke, privileges, kind, securable, principals })
}

/// `CATALOG c`, `SCHEMA c.s`, `TABLE c.s.t` (TABLE is optional), `VOLUME`, `FUNCTION`, `METASTORE`.
fn securable(parser: &mut Parser) -> Result<(SecurableKind, Vec<String>), ParserError> {
    let kind = if eat_word(parser, "CATALOG") {
        SecurableKind::Catalog
    } else if eat_word(parser, "SCHEMA") || eat_word(parser, "DATABASE") {
        SecurableKind::Schema
    } else if eat_word(parser, "VOLUME") {
        SecurableKind::Volume
    } else if eat_word(parser, "FUNCTION") {
        SecurableKind::Function
    } else if eat_word(parser, "METASTORE") {
        return Ok((SecurableKind::Metastore, Vec::new()));
    } else {
        eat_word(parser, "TABLE");
        eat_word(parser, "VIEW");
        SecurableKind::Table
    };
    Ok((kind, name_parts(&parser.parse_object_name(false)?)))
}

/// A principal: a back-quoted name (`` `alice@example.com` ``), a string or a plain word.
fn principal_name(parser: &mut Parser) -> Result<String, ParserError> {
    let token = parser.next_token();
    match token.token {
        Token::Word(w) => Ok(w.value),
        Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => Ok(s),
        _ => parser.expected("a principal name", token),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn databricks_only_statements_parse() {
        assert!(matches!(parse_statement("CREATE CATALOG IF NOT EXISTS Sales COMMENT 'x'").unwrap(),
            KilnStatement::CreateCatalog { ref name, if_not_exists: true, .. } if name == "sales"));
        let KilnStatement::Grant { privileges, kind, securable, principals, revoke } =
            parse_statement("GRANT USE CATALOG, SELECT ON CATALOG main TO `alice@example.com`, analysts").unwrap()
        else { panic!("not a grant") };
        assert!(!revoke);
        assert_eq!(privileges, vec![Privilege::UseCatalog, Privilege::Select]);
        assert_eq!((kind, securable), (SecurableKind::Catalog, vec!["main".to_string()]));
        assert_eq!(principals, vec!["alice@example.com", "analysts"]);
        assert!(matches!(parse_statement("REVOKE ALL PRIVILEGES ON TABLE a.b.c FROM bob").unwrap(), KilnStatement::Grant { revoke: true, .. }));
        assert!(matches!(parse_statement("SHOW GRANTS ON SCHEMA main.default").unwrap(), KilnStatement::ShowGrants { principal: None, .. }));
        assert!(matches!(parse_statement("DESCRIBE HISTORY main.default.t").unwrap(), KilnStatement::DescribeHistory { .. }));
        assert!(matches!(parse_statement("DESCRIBE TABLE EXTENDED t").unwrap(), KilnStatement::Describe { extended: true, .. }));
    }

    #[test]
    fn create_table_clauses_come_in_any_order() {
        let sql = "CREATE TABLE IF NOT EXISTS main.default.t (id BIGINT NOT NULL COMMENT 'key', tags MAP<STRING, INT>, PRIMARY KEY (id)) \
                   USING DELTA PARTITIONED BY (id) COMMENT 'orders' TBLPROPERTIES ('a' = '1', delta.appendOnly = true)";
        let KilnStatement::CreateTable(table) = parse_statement(sql).unwrap() else { panic!("not a create table") };
        assert_eq!(table.name, vec!["main", "default", "t"]);
        assert_eq!(table.columns[0], ColumnSpec { name: "id".into(), type_text: "BIGINT".into(), nullable: false, comment: Some("key".into()) });
        assert_eq!(table.partition_by, vec!["id"]);
        assert_eq!(table.comment.as_deref(), Some("orders"));
        assert_eq!(table.properties, vec![("a".to_string(), "1".to_string()), ("delta.appendOnly".to_string(), "true".to_string())]);
        assert_eq!(table.constraints, vec![ConstraintSpec::PrimaryKey { name: None, columns: vec!["id".into()] }]);
        let KilnStatement::CreateTable(ctas) = parse_statement("CREATE OR REPLACE TABLE t AS SELECT 1 AS x").unwrap() else { panic!() };
        assert!(ctas.or_replace && ctas.query.is_some());
    }

    #[test]
    fn one_statement_at_a_time() {
        assert!(parse_statement("SELECT 1;").is_ok());
        assert!(parse_statement("SELECT 1; SELECT 2").unwrap_err().message.contains("only one statement"));
        assert!(parse_statement("SELEC 1").unwrap_err().message.starts_with("[PARSE_SYNTAX_ERROR]"));
    }
}

//! How complex a statement may be. Parsing, planning, optimizing and running an expression
//! all recurse over its tree, and a chain of operators (`1+1+...`, `a OR b OR ...`) is parsed
//! into a tree as deep as the chain is long: without a bound, one statement could overflow a
//! thread's stack and abort the whole server. The bound is checked on the tokens, before
//! any tree exists, so the check itself cannot recurse.

use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, TokenWithSpan};

/// Longest statement text, as on Databricks.
pub(super) const MAX_STATEMENT_BYTES: usize = 16 * 1024 * 1024;
/// Deepest expression: operators chained at every open level, plus the levels themselves.
/// Planning costs grow with the square of the depth, so the bound also bounds planning time.
pub(super) const MAX_EXPRESSION_DEPTH: usize = 500;
/// Most query blocks (SELECTs: set operations, subqueries, CTEs) in one statement; each nests
/// the plan.
pub(super) const MAX_QUERY_BLOCKS: usize = 256;
/// Most tables one statement joins (JOIN, or a comma in FROM).
pub(super) const MAX_JOINS: usize = 128;
/// Most items in one list: columns of a SELECT, values of IN, rows of VALUES, arguments.
pub(super) const MAX_LIST_ITEMS: usize = 10_000;

/// Why a statement is refused: `[FAILED_TO_PARSE_TOO_COMPLEX]`, naming the limit.
fn too_complex(what: String) -> String {
    format!("[FAILED_TO_PARSE_TOO_COMPLEX] The statement is too complex to parse: {what}. Split it into smaller statements. SQLSTATE: 54001")
}

/// Refuses statement text over [`MAX_STATEMENT_BYTES`].
pub(super) fn check_length(sql: &str) -> Result<(), String> {
    if sql.len() > MAX_STATEMENT_BYTES {
        return Err(too_complex(format!("it is {} bytes long, over the limit of {MAX_STATEMENT_BYTES} bytes", sql.len())));
    }
    Ok(())
}

/// One open level (the whole statement, a parenthesis, a bracket or a CASE) and the
/// expression being read in it.
#[derive(Default)]
struct Level {
    /// For a CASE: closed by END, and WHEN / THEN / ELSE separate its branches.
    closes_with_end: bool,
    /// AND / OR / XOR in the current expression: they bind loosest, so they chain above
    /// everything else.
    logical: usize,
    /// Other operators since the last logical one, and the longest such run.
    run: usize,
    longest_run: usize,
    /// Deepest operand of the current expression that was itself a level (`(...)`, `f(...)`).
    deepest_operand: usize,
    /// Deepest expression already ended in this level (before a comma, say).
    deepest_ended: usize,
    /// Whether this level is in a FROM clause, where a comma joins another table.
    in_from: bool,
    /// Items of the current list (commas since the last clause keyword).
    items: usize,
}

impl Level {
    fn new(closes_with_end: bool) -> Level {
        Level { closes_with_end, ..Level::default() }
    }

    /// An upper bound of the depth of the current expression's tree: a chain of n operators
    /// is at most n deep, and each operand hangs its own depth below that.
    fn current_depth(&self) -> usize {
        self.logical + self.longest_run.max(self.run) + self.deepest_operand
    }

    fn end_expression(&mut self) {
        self.deepest_ended = self.deepest_ended.max(self.current_depth());
        let Level { closes_with_end, deepest_ended, in_from, items, .. } = *self;
        *self = Level { closes_with_end, deepest_ended, in_from, items, ..Level::default() };
    }

    /// A clause keyword: the expression and the list end; FROM starts a table list.
    fn start_clause(&mut self, keyword: Keyword) {
        self.end_expression();
        self.items = 0;
        self.in_from = matches!(keyword, Keyword::FROM | Keyword::JOIN);
    }

    /// The depth of this level as an operand of the enclosing expression.
    fn depth(&self) -> usize {
        self.deepest_ended.max(self.current_depth()) + 1
    }
}

/// Refuses a statement whose expressions could nest deeper than [`MAX_EXPRESSION_DEPTH`], or
/// that has more query blocks, joins or list items than the limits above. The estimate is an upper bound of
/// the depth of the tree sqlparser builds: every operator chains one level onto its left
/// operand until a comma or a clause keyword ends the expression, and a parenthesized
/// operand adds its own depth wherever it stands in the chain.
pub(super) fn check_complexity(tokens: &[TokenWithSpan]) -> Result<(), String> {
    let mut levels = vec![Level::new(false)];
    let mut query_blocks = 0usize;
    let mut joins = 0usize;
    let too_deep = || too_complex(format!("its expressions nest or chain operators deeper than the limit of {MAX_EXPRESSION_DEPTH} levels"));
    for token in tokens {
        let role = classify(&token.token);
        let open_levels = levels.len();
        let Some(level) = levels.last_mut() else { break };
        match role {
            Role::Open { closes_with_end, applies_to_left } => {
                if applies_to_left {
                    level.run += 1;
                }
                levels.push(Level::new(closes_with_end));
            }
            Role::Close { by_end } => {
                // An unbalanced closer is the parser's to report; the estimate keeps going.
                if open_levels > 1 && level.closes_with_end == by_end {
                    let closed = levels.pop().map_or(0, |level| level.depth());
                    if let Some(parent) = levels.last_mut() {
                        parent.deepest_operand = parent.deepest_operand.max(closed);
                    }
                }
            }
            Role::Comma => {
                level.end_expression();
                level.items += 1;
                if level.in_from {
                    joins += 1;
                }
                if level.items >= MAX_LIST_ITEMS {
                    return Err(too_complex(format!("one of its lists has more items than the limit of {MAX_LIST_ITEMS}")));
                }
            }
            Role::Separator => level.end_expression(),
            Role::Clause(keyword) => {
                level.start_clause(keyword);
                match keyword {
                    Keyword::SELECT => query_blocks += 1,
                    Keyword::JOIN => joins += 1,
                    _ => {}
                }
                if query_blocks > MAX_QUERY_BLOCKS {
                    return Err(too_complex(format!("it has more query blocks (SELECTs, in set operations, subqueries and common table expressions) than the limit of {MAX_QUERY_BLOCKS}")));
                }
                if joins > MAX_JOINS {
                    return Err(too_complex(format!("it joins more tables than the limit of {MAX_JOINS}")));
                }
            }
            Role::Logical => {
                level.logical += 1;
                level.longest_run = level.longest_run.max(level.run);
                level.run = 0;
            }
            Role::Operator => level.run += 1,
            Role::Operand => {}
        }
        // Levels still open hold their depth below everything around them.
        let open_depth: usize = levels.iter().map(Level::current_depth).sum::<usize>() + levels.len();
        if open_depth > MAX_EXPRESSION_DEPTH || levels.last().is_some_and(|level| level.deepest_ended > MAX_EXPRESSION_DEPTH) {
            return Err(too_deep());
        }
    }
    // Whatever stayed open (an unbalanced statement) folds into its parent.
    while levels.len() > 1 {
        let closed = levels.pop().map_or(0, |level| level.depth());
        if let Some(parent) = levels.last_mut() {
            parent.deepest_operand = parent.deepest_operand.max(closed);
        }
    }
    if levels.first().is_some_and(|level| level.depth() > MAX_EXPRESSION_DEPTH) {
        return Err(too_deep());
    }
    Ok(())
}

enum Role {
    /// `(`, `[` or CASE; a `[` subscripts the expression before it, as an operator would.
    Open { closes_with_end: bool, applies_to_left: bool },
    /// `)`, `]` (by_end false) or END.
    Close { by_end: bool },
    /// Ends the current expression and adds an item to the level's list.
    Comma,
    /// Ends the current expression: a CASE branch, AS, a statement's end.
    Separator,
    /// Starts a clause (SELECT, FROM, WHERE, JOIN, a set operation, ...): ends the
    /// expression and the list.
    Clause(Keyword),
    /// AND, OR, XOR.
    Logical,
    /// Makes a node whose child is the expression so far.
    Operator,
    Operand,
}

fn classify(token: &Token) -> Role {
    match token {
        Token::LParen | Token::LBrace => Role::Open { closes_with_end: false, applies_to_left: false },
        Token::LBracket => Role::Open { closes_with_end: false, applies_to_left: true },
        Token::RParen | Token::RBracket | Token::RBrace => Role::Close { by_end: false },
        Token::Comma => Role::Comma,
        Token::SemiColon => Role::Separator,
        Token::Word(word) => match word.keyword {
            Keyword::CASE => Role::Open { closes_with_end: true, applies_to_left: false },
            Keyword::END => Role::Close { by_end: true },
            Keyword::UNION | Keyword::INTERSECT | Keyword::EXCEPT | Keyword::MINUS => Role::Clause(word.keyword),
            Keyword::AND | Keyword::OR | Keyword::XOR => Role::Logical,
            Keyword::NOT | Keyword::IS | Keyword::LIKE | Keyword::ILIKE | Keyword::RLIKE | Keyword::REGEXP
            | Keyword::SIMILAR | Keyword::IN | Keyword::BETWEEN | Keyword::DIV | Keyword::COLLATE | Keyword::AT | Keyword::OVERLAPS => Role::Operator,
            Keyword::SELECT | Keyword::FROM | Keyword::WHERE | Keyword::GROUP | Keyword::HAVING | Keyword::ORDER | Keyword::LIMIT | Keyword::OFFSET
            | Keyword::QUALIFY | Keyword::WINDOW | Keyword::JOIN | Keyword::VALUES | Keyword::SET | Keyword::WITH => Role::Clause(word.keyword),
            Keyword::BY | Keyword::ON | Keyword::USING | Keyword::AS | Keyword::WHEN | Keyword::THEN | Keyword::ELSE => Role::Separator,
            _ => Role::Operand,
        },
        Token::EOF
        | Token::Number(..)
        | Token::Char(_)
        | Token::SingleQuotedString(_)
        | Token::DoubleQuotedString(_)
        | Token::TripleSingleQuotedString(_)
        | Token::TripleDoubleQuotedString(_)
        | Token::DollarQuotedString(_)
        | Token::SingleQuotedByteStringLiteral(_)
        | Token::DoubleQuotedByteStringLiteral(_)
        | Token::TripleSingleQuotedByteStringLiteral(_)
        | Token::TripleDoubleQuotedByteStringLiteral(_)
        | Token::SingleQuotedRawStringLiteral(_)
        | Token::DoubleQuotedRawStringLiteral(_)
        | Token::TripleSingleQuotedRawStringLiteral(_)
        | Token::TripleDoubleQuotedRawStringLiteral(_)
        | Token::NationalStringLiteral(_)
        | Token::QuoteDelimitedStringLiteral(_)
        | Token::NationalQuoteDelimitedStringLiteral(_)
        | Token::EscapedStringLiteral(_)
        | Token::UnicodeStringLiteral(_)
        | Token::HexStringLiteral(_)
        | Token::Whitespace(_)
        | Token::Period
        | Token::Placeholder(_) => Role::Operand,
        // Every other symbol is an operator: arithmetic, comparison, concatenation, casts
        // (`::`), JSON paths (`:`), ...
        _ => Role::Operator,
    }
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::tokenizer::Tokenizer;

    use super::*;
    use crate::parse::KilnDialect;

    fn check(sql: &str) -> Result<(), String> {
        let tokens = Tokenizer::new(&KilnDialect, sql).tokenize_with_location().unwrap();
        check_complexity(&tokens)
    }

    fn chain(operator: &str, terms: usize) -> String {
        vec!["x"; terms].join(operator)
    }

    #[test]
    fn long_operator_chains_are_refused() {
        assert!(check(&format!("SELECT {}", chain("+", 400))).is_ok());
        let error = check(&format!("SELECT {}", chain("+", 10_000))).unwrap_err();
        assert!(error.starts_with("[FAILED_TO_PARSE_TOO_COMPLEX]"), "{error}");
        assert!(error.contains("500 levels"), "{error}");
        assert!(check(&format!("SELECT * FROM t WHERE {}", chain(" OR ", 5_000))).is_err());
    }

    #[test]
    fn siblings_do_not_add_up() {
        // 2,000 short expressions side by side are shallow.
        let columns: Vec<String> = (0..2000).map(|i| format!("a + {i}")).collect();
        assert!(check(&format!("SELECT {} FROM t", columns.join(", "))).is_ok());
        let items: Vec<String> = (0..9_000).map(|i| i.to_string()).collect();
        assert!(check(&format!("SELECT * FROM t WHERE x IN ({})", items.join(", "))).is_ok());
        let branches: Vec<String> = (0..2000).map(|i| format!("WHEN x = {i} THEN {i} + 1")).collect();
        assert!(check(&format!("SELECT CASE {} END FROM t", branches.join(" "))).is_ok());
    }

    #[test]
    fn chains_around_parentheses_and_case_still_count() {
        let interleaved = vec!["(x + 1)"; 2000].join(" + ");
        assert!(check(&format!("SELECT {interleaved}")).is_err());
        let with_case = vec!["CASE WHEN a THEN 1 END"; 2000].join(" + ");
        assert!(check(&format!("SELECT {with_case}")).is_err());
        let nested = format!("SELECT {}1{}", "(".repeat(2000), ")".repeat(2000));
        assert!(check(&nested).is_err());
    }

    #[test]
    fn or_chains_of_comparisons_count_once_per_term() {
        let terms: Vec<String> = (0..450).map(|i| format!("x = {i}")).collect();
        assert!(check(&format!("SELECT * FROM t WHERE {}", terms.join(" OR "))).is_ok());
    }

    #[test]
    fn deep_operands_early_in_a_chain_add_to_it() {
        // A parenthesized chain at the bottom of another chain ends up below all of it.
        let inner = format!("({})", chain("+", 300));
        assert!(check(&format!("SELECT {inner} + {}", chain("+", 300))).is_err());
        let nested = (0..5).fold("x".to_string(), |acc, _| format!("({acc} + {})", chain("+", 150)));
        assert!(check(&format!("SELECT {nested}")).is_err());
        let subscripts = format!("SELECT a{}", "[1]".repeat(2000));
        assert!(check(&subscripts).is_err());
    }

    #[test]
    fn query_blocks_joins_and_lists_are_bounded() {
        assert!(check(&vec!["SELECT 1"; 100].join(" UNION ALL ")).is_ok());
        let error = check(&vec!["SELECT 1"; 300].join(" UNION ALL ")).unwrap_err();
        assert!(error.contains("query blocks"), "{error}");
        let ctes: Vec<String> = (0..300).map(|i| format!("c{i} AS (SELECT 1)")).collect();
        assert!(check(&format!("WITH {} SELECT 1", ctes.join(", "))).is_err());
        let joins: String = (0..200).map(|i| format!(" JOIN t{i} ON a = b")).collect();
        assert!(check(&format!("SELECT * FROM t{joins}")).unwrap_err().contains("joins"));
        let tables: Vec<String> = (0..200).map(|i| format!("t{i}")).collect();
        assert!(check(&format!("SELECT * FROM {} WHERE a = b", tables.join(", "))).unwrap_err().contains("joins"));
        let columns: Vec<String> = (0..20).map(|i| format!("c{i}")).collect();
        assert!(check(&format!("SELECT {} FROM a, b", columns.join(", "))).is_ok());
        let items: Vec<String> = (0..20_000).map(|i| i.to_string()).collect();
        assert!(check(&format!("SELECT * FROM t WHERE x IN ({})", items.join(", "))).unwrap_err().contains("lists"));
    }
}

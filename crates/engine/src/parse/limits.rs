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
pub(super) const MAX_EXPRESSION_DEPTH: usize = 1000;
/// Most set operations (UNION, INTERSECT, EXCEPT) in one statement; each nests the plan.
pub(super) const MAX_SET_OPERATIONS: usize = 500;

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
        let closes_with_end = self.closes_with_end;
        let deepest_ended = self.deepest_ended;
        *self = Level { closes_with_end, deepest_ended, ..Level::default() };
    }

    /// The depth of this level as an operand of the enclosing expression.
    fn depth(&self) -> usize {
        self.deepest_ended.max(self.current_depth()) + 1
    }
}

/// Refuses a statement whose expressions could nest deeper than [`MAX_EXPRESSION_DEPTH`], or
/// that has more than [`MAX_SET_OPERATIONS`] set operations. The estimate is an upper bound of
/// the depth of the tree sqlparser builds: every operator chains one level onto its left
/// operand until a comma or a clause keyword ends the expression, and a parenthesized
/// operand adds its own depth wherever it stands in the chain.
pub(super) fn check_complexity(tokens: &[TokenWithSpan]) -> Result<(), String> {
    let mut levels = vec![Level::new(false)];
    let mut set_operations = 0usize;
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
            Role::Separator => level.end_expression(),
            Role::SetOperation => {
                set_operations += 1;
                if set_operations > MAX_SET_OPERATIONS {
                    return Err(too_complex(format!("it has more set operations (UNION, INTERSECT, EXCEPT) than the limit of {MAX_SET_OPERATIONS}")));
                }
                level.end_expression();
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
    /// Ends the current expression of a level: a comma, a clause keyword, a CASE branch.
    Separator,
    SetOperation,
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
        Token::Comma | Token::SemiColon => Role::Separator,
        Token::Word(word) => match word.keyword {
            Keyword::CASE => Role::Open { closes_with_end: true, applies_to_left: false },
            Keyword::END => Role::Close { by_end: true },
            Keyword::UNION | Keyword::INTERSECT | Keyword::EXCEPT | Keyword::MINUS => Role::SetOperation,
            Keyword::AND | Keyword::OR | Keyword::XOR => Role::Logical,
            Keyword::NOT | Keyword::IS | Keyword::LIKE | Keyword::ILIKE | Keyword::RLIKE | Keyword::REGEXP
            | Keyword::SIMILAR | Keyword::IN | Keyword::BETWEEN | Keyword::DIV | Keyword::COLLATE | Keyword::AT | Keyword::OVERLAPS => Role::Operator,
            Keyword::SELECT | Keyword::FROM | Keyword::WHERE | Keyword::GROUP | Keyword::HAVING | Keyword::ORDER | Keyword::BY | Keyword::LIMIT | Keyword::OFFSET
            | Keyword::QUALIFY | Keyword::WINDOW | Keyword::ON | Keyword::USING | Keyword::JOIN | Keyword::VALUES | Keyword::SET | Keyword::AS | Keyword::WITH
            | Keyword::WHEN | Keyword::THEN | Keyword::ELSE => Role::Separator,
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
        assert!(check(&format!("SELECT {}", chain("+", 500))).is_ok());
        let error = check(&format!("SELECT {}", chain("+", 10_000))).unwrap_err();
        assert!(error.starts_with("[FAILED_TO_PARSE_TOO_COMPLEX]"), "{error}");
        assert!(error.contains("1000"), "{error}");
        assert!(check(&format!("SELECT * FROM t WHERE {}", chain(" OR ", 5_000))).is_err());
    }

    #[test]
    fn siblings_do_not_add_up() {
        // 2,000 short expressions side by side are shallow.
        let columns: Vec<String> = (0..2000).map(|i| format!("a + {i}")).collect();
        assert!(check(&format!("SELECT {} FROM t", columns.join(", "))).is_ok());
        let items: Vec<String> = (0..50_000).map(|i| i.to_string()).collect();
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
        let terms: Vec<String> = (0..900).map(|i| format!("x = {i}")).collect();
        assert!(check(&format!("SELECT * FROM t WHERE {}", terms.join(" OR "))).is_ok());
    }

    #[test]
    fn deep_operands_early_in_a_chain_add_to_it() {
        // A parenthesized chain at the bottom of another chain ends up below all of it.
        let inner = format!("({})", chain("+", 600));
        assert!(check(&format!("SELECT {inner} + {}", chain("+", 600))).is_err());
        let nested = (0..5).fold("x".to_string(), |acc, _| format!("({acc} + {})", chain("+", 300)));
        assert!(check(&format!("SELECT {nested}")).is_err());
        let subscripts = format!("SELECT a{}", "[1]".repeat(2000));
        assert!(check(&subscripts).is_err());
    }

    #[test]
    fn set_operations_are_bounded() {
        assert!(check(&vec!["SELECT 1"; 100].join(" UNION ALL ")).is_ok());
        let error = check(&vec!["SELECT 1"; 2000].join(" UNION ALL ")).unwrap_err();
        assert!(error.contains("set operations"), "{error}");
    }
}

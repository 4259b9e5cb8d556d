//! SCIM 2.0 filter parsing and evaluation (RFC 7644 §3.4.2.2).
//!
//! Error positions are 0-based character offsets into the filter string.

use serde_json::Value;
use std::cmp::Ordering;
use std::fmt;

/// Deepest allowed nesting of parentheses, `not` and `[...]` value filters.
const MAX_DEPTH: usize = 64;

/// A parsed SCIM filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `path op value`, e.g. `userName eq "a@b.com"`.
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: Literal,
    },
    /// `path pr`.
    Present(AttrPath),
    /// Every sub-filter matches.
    And(Vec<Filter>),
    /// Some sub-filter matches.
    Or(Vec<Filter>),
    /// The sub-filter does not match.
    Not(Box<Filter>),
    /// `path[filter]`: some element of the attribute matches `filter`.
    ValuePath { path: AttrPath, filter: Box<Filter> },
}

/// An attribute path such as `name.givenName`, with the schema URN prefix if one was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    pub schema: Option<String>,
    pub segments: Vec<String>,
}

/// A binary comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A comparison value; bare (unquoted) words are strings.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    String(String),
    Number(f64),
    Bool(bool),
    Null,
}

/// Why a filter could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FilterError {}

fn error<T>(message: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError {
        message: message.into(),
    })
}

#[derive(Debug, Clone, PartialEq)]
enum TokenKind {
    /// One of `( ) [ ]`.
    Punct(char),
    Str(String),
    Word(String),
}

#[derive(Debug, Clone)]
struct Token {
    kind: TokenKind,
    pos: usize,
}

impl Token {
    fn describe(&self) -> String {
        match &self.kind {
            TokenKind::Punct(c) => format!("'{c}'"),
            TokenKind::Str(s) => format!("string \"{s}\""),
            TokenKind::Word(w) => format!("'{w}'"),
        }
    }
}

fn tokenize(input: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let (kind, next) = match c {
            '(' | ')' | '[' | ']' => (TokenKind::Punct(c), i + 1),
            '"' => read_string(&chars, i)?,
            _ => read_word(&chars, i),
        };
        tokens.push(Token { kind, pos: i });
        i = next;
    }
    Ok(tokens)
}

/// Reads the double-quoted string at `start`; returns it and the index after it.
fn read_string(chars: &[char], start: usize) -> Result<(TokenKind, usize), FilterError> {
    let unterminated = || error(format!("unterminated string starting at position {start}"));
    let mut text = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return unterminated(),
            Some('"') => return Ok((TokenKind::Str(text), i + 1)),
            Some('\\') => {
                let escaped = match chars.get(i + 1) {
                    Some(&c @ ('"' | '\\' | '/')) => c,
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some(c) => return error(format!("invalid escape '\\{c}' at position {i}")),
                    None => return unterminated(),
                };
                text.push(escaped);
                i += 2;
            }
            Some(&c) => {
                text.push(c);
                i += 1;
            }
        }
    }
}

/// Reads a bare word: everything up to whitespace, a paren, a bracket or a quote.
fn read_word(chars: &[char], start: usize) -> (TokenKind, usize) {
    let mut i = start;
    while chars
        .get(i)
        .is_some_and(|&c| !c.is_whitespace() && !"()[]\"".contains(c))
    {
        i += 1;
    }
    (TokenKind::Word(chars[start..i].iter().collect()), i)
}

/// Parses a SCIM filter expression.
pub fn parse(input: &str) -> Result<Filter, FilterError> {
    let tokens = tokenize(input)?;
    if tokens.is_empty() {
        return error("empty filter");
    }
    let end = input.chars().count();
    let mut parser = Parser {
        tokens,
        index: 0,
        depth: 0,
        end,
    };
    let filter = parser.parse_or()?;
    match parser.peek() {
        Some(t) => error(format!("unexpected {} at position {}", t.describe(), t.pos)),
        None => Ok(filter),
    }
}

type Parsed = Result<Filter, FilterError>;

struct Parser {
    tokens: Vec<Token>,
    index: usize,
    depth: usize,
    /// Input length in characters, the position reported for "end of input".
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.index)
    }

    fn peek_kind(&self) -> Option<TokenKind> {
        self.peek().map(|t| t.kind.clone())
    }

    fn at_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek_kind(), Some(TokenKind::Word(w)) if w.eq_ignore_ascii_case(keyword))
    }

    fn at_punct(&self, c: char) -> bool {
        self.peek_kind() == Some(TokenKind::Punct(c))
    }

    /// Position of the next token, or of the end of input.
    fn pos(&self) -> usize {
        self.peek().map_or(self.end, |t| t.pos)
    }

    /// Error saying what was expected at the next token, and what was found instead.
    fn unexpected<T>(&self, expected: &str) -> Result<T, FilterError> {
        let found = self
            .peek()
            .map_or("end of input".to_string(), Token::describe);
        error(format!(
            "expected {expected} at position {}, found {found}",
            self.pos()
        ))
    }

    /// Runs `f` one nesting level deeper, refusing to go past `MAX_DEPTH`.
    fn nested(&mut self, pos: usize, f: fn(&mut Self) -> Parsed) -> Parsed {
        if self.depth >= MAX_DEPTH {
            return error(format!(
                "nesting deeper than {MAX_DEPTH} levels at position {pos}"
            ));
        }
        self.depth += 1;
        let result = f(self);
        self.depth -= 1;
        result
    }

    fn expect_close(&mut self, close: char, open_pos: usize) -> Result<(), FilterError> {
        if !self.at_punct(close) {
            return self.unexpected(&format!("'{close}' to match position {open_pos}"));
        }
        self.index += 1;
        Ok(())
    }

    /// Parses `item (keyword item)*`, combining two or more items with `combine`.
    fn parse_chain(
        &mut self,
        keyword: &str,
        item: fn(&mut Self) -> Parsed,
        combine: fn(Vec<Filter>) -> Filter,
    ) -> Parsed {
        let mut items = vec![item(self)?];
        while self.at_keyword(keyword) {
            self.index += 1;
            items.push(item(self)?);
        }
        match items.len() {
            1 => Ok(items.remove(0)),
            _ => Ok(combine(items)),
        }
    }

    fn parse_or(&mut self) -> Parsed {
        self.parse_chain("or", Self::parse_and, Filter::Or)
    }

    fn parse_and(&mut self) -> Parsed {
        self.parse_chain("and", Self::parse_unary, Filter::And)
    }

    /// Parses `( filter )`, `not unary`, or an attribute expression.
    fn parse_unary(&mut self) -> Parsed {
        let pos = self.pos();
        match self.peek_kind() {
            Some(TokenKind::Punct('(')) => {
                self.index += 1;
                let inner = self.nested(pos, Self::parse_or)?;
                self.expect_close(')', pos)?;
                Ok(inner)
            }
            Some(TokenKind::Word(w)) if w.eq_ignore_ascii_case("not") => {
                self.index += 1;
                Ok(Filter::Not(Box::new(self.nested(pos, Self::parse_unary)?)))
            }
            Some(TokenKind::Word(w)) => {
                self.index += 1;
                self.parse_attr_expr(&w, pos)
            }
            _ => self.unexpected("an attribute expression"),
        }
    }

    /// Parses what follows an attribute path: `[filter]`, `pr`, or `op value`.
    fn parse_attr_expr(&mut self, text: &str, pos: usize) -> Parsed {
        let path = parse_path(text, pos)?;
        if self.at_punct('[') {
            let open = self.pos();
            self.index += 1;
            let filter = Box::new(self.nested(open, Self::parse_or)?);
            self.expect_close(']', open)?;
            return Ok(Filter::ValuePath { path, filter });
        }
        let Some(TokenKind::Word(word)) = self.peek_kind() else {
            return self.unexpected(&format!("an operator after '{text}'"));
        };
        let op_pos = self.pos();
        self.index += 1;
        if word.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present(path));
        }
        let Some(op) = parse_op(&word) else {
            return error(format!(
                "unknown operator '{word}' after '{text}' at position {op_pos}"
            ));
        };
        let value = match self.peek_kind() {
            Some(TokenKind::Str(s)) => Literal::String(s),
            Some(TokenKind::Word(w)) => literal_from_word(w),
            _ => return self.unexpected(&format!("a value after '{word}'")),
        };
        self.index += 1;
        Ok(Filter::Compare { path, op, value })
    }
}

fn parse_op(word: &str) -> Option<CompareOp> {
    let op = match word.to_ascii_lowercase().as_str() {
        "eq" => CompareOp::Eq,
        "ne" => CompareOp::Ne,
        "co" => CompareOp::Co,
        "sw" => CompareOp::Sw,
        "ew" => CompareOp::Ew,
        "gt" => CompareOp::Gt,
        "ge" => CompareOp::Ge,
        "lt" => CompareOp::Lt,
        "le" => CompareOp::Le,
        _ => return None,
    };
    Some(op)
}

/// Splits off a schema URN (everything up to the last ':') and the dotted sub-attributes.
fn parse_path(text: &str, pos: usize) -> Result<AttrPath, FilterError> {
    let (schema, rest) = match text.rsplit_once(':') {
        Some((schema, rest)) => (Some(schema.to_string()), rest),
        None => (None, text),
    };
    let segments: Vec<String> = rest.split('.').map(str::to_string).collect();
    let name_char = |c: char| c.is_ascii_alphanumeric() || "-_$".contains(c);
    let valid = |s: &String| !s.is_empty() && s.chars().all(name_char);
    if schema.as_deref() == Some("") || !segments.iter().all(valid) {
        return error(format!("invalid attribute path '{text}' at position {pos}"));
    }
    Ok(AttrPath { schema, segments })
}

fn literal_from_word(word: String) -> Literal {
    match word.to_ascii_lowercase().as_str() {
        "true" => Literal::Bool(true),
        "false" => Literal::Bool(false),
        "null" => Literal::Null,
        _ => parse_number(&word).map_or(Literal::String(word), Literal::Number),
    }
}

/// A JSON-style number: optional '-', then a digit first (so "inf" and "NaN" stay words).
fn parse_number(word: &str) -> Option<f64> {
    let unsigned = word.strip_prefix('-').unwrap_or(word);
    if !unsigned.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    word.parse::<f64>().ok().filter(|n| n.is_finite())
}

impl Filter {
    /// True when the SCIM resource (wire JSON, camelCase keys) matches.
    pub fn matches(&self, resource: &Value) -> bool {
        match self {
            Filter::And(items) => items.iter().all(|f| f.matches(resource)),
            Filter::Or(items) => items.iter().any(|f| f.matches(resource)),
            Filter::Not(inner) => !inner.matches(resource),
            Filter::Present(path) => resolve(resource, path).into_iter().any(is_present),
            Filter::Compare { path, op, value } => compare_path(resource, path, *op, value),
            Filter::ValuePath { path, filter } => {
                let values = resolve(resource, path);
                elements(&values).into_iter().any(|e| filter.matches(e))
            }
        }
    }
}

/// Looks a key up case-insensitively, preferring an exact match.
fn get_ci<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    let object = value.as_object()?;
    if let Some(found) = object.get(key) {
        return Some(found);
    }
    let mut entries = object.iter();
    entries
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// All values the path reaches, fanning out over arrays crossed on the way.
fn resolve<'a>(resource: &'a Value, path: &AttrPath) -> Vec<&'a Value> {
    // Extension attributes live under their schema URN; core ones at the top level.
    let schema_root = path.schema.as_deref().and_then(|s| get_ci(resource, s));
    let root = schema_root.filter(|v| v.is_object()).unwrap_or(resource);
    let mut out = Vec::new();
    descend(root, &path.segments, &mut out);
    out
}

fn descend<'a>(value: &'a Value, segments: &[String], out: &mut Vec<&'a Value>) {
    let Some((first, rest)) = segments.split_first() else {
        out.push(value);
        return;
    };
    let items = match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    for child in items.into_iter().filter_map(|item| get_ci(item, first)) {
        descend(child, rest, out);
    }
}

/// Flattens one level of arrays.
fn elements<'a>(values: &[&'a Value]) -> Vec<&'a Value> {
    let mut out = Vec::new();
    for value in values {
        match value {
            Value::Array(items) => out.extend(items.iter()),
            other => out.push(*other),
        }
    }
    out
}

fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        _ => true,
    }
}

/// Evaluates `path op wanted`; `ne` is the negation of `eq`.
fn compare_path(resource: &Value, path: &AttrPath, op: CompareOp, wanted: &Literal) -> bool {
    if op == CompareOp::Ne {
        return !compare_path(resource, path, CompareOp::Eq, wanted);
    }
    let values = resolve(resource, path);
    // Complex values (e.g. emails) compare through their "value" sub-attribute.
    let mut actual = elements(&values).into_iter().filter_map(|v| match v {
        Value::Object(_) => get_ci(v, "value").and_then(Literal::from_json),
        other => Literal::from_json(other),
    });
    if *wanted == Literal::Null {
        return op == CompareOp::Eq && actual.next().is_none();
    }
    actual.any(|a| compare_literals(op, &a, wanted))
}

impl Literal {
    /// A JSON scalar as a literal; `None` for null, arrays and objects.
    fn from_json(value: &Value) -> Option<Literal> {
        match value {
            Value::String(s) => Some(Literal::String(s.clone())),
            Value::Number(n) => n.as_f64().map(Literal::Number),
            Value::Bool(b) => Some(Literal::Bool(*b)),
            _ => None,
        }
    }

    fn as_bool(&self) -> Option<bool> {
        match self {
            Literal::Bool(b) => Some(*b),
            Literal::String(s) => s.to_ascii_lowercase().parse().ok(),
            _ => None,
        }
    }

    fn as_f64(&self) -> Option<f64> {
        match self {
            Literal::Number(n) => Some(*n),
            Literal::String(s) => s.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
            _ => None,
        }
    }

    /// Lowercased text for string comparisons.
    fn text(&self) -> String {
        match self {
            Literal::String(s) => s.to_lowercase(),
            Literal::Number(n) => n.to_string(),
            Literal::Bool(b) => b.to_string(),
            Literal::Null => String::new(),
        }
    }
}

/// Compares a resource value with the filter value (never called with `ne`).
fn compare_literals(op: CompareOp, actual: &Literal, wanted: &Literal) -> bool {
    let either = |test: fn(&Literal) -> bool| test(actual) || test(wanted);
    if either(|l| matches!(l, Literal::Bool(_))) {
        let value = actual.as_bool();
        return op == CompareOp::Eq && value.is_some() && value == wanted.as_bool();
    }
    let substring = matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew);
    if !substring
        && either(|l| matches!(l, Literal::Number(_)))
        && let (Some(a), Some(b)) = (actual.as_f64(), wanted.as_f64())
    {
        return a.partial_cmp(&b).is_some_and(|o| ordering_matches(op, o));
    }
    let (a, b) = (actual.text(), wanted.text());
    match op {
        CompareOp::Co => a.contains(&b),
        CompareOp::Sw => a.starts_with(&b),
        CompareOp::Ew => a.ends_with(&b),
        _ => ordering_matches(op, a.cmp(&b)),
    }
}

fn ordering_matches(op: CompareOp, ordering: Ordering) -> bool {
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Ne | CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "id": "1234", "userName": "Alice@Example.com", "displayName": "Alice Smith",
            "active": true, "age": 42, "nickName": "", "title": null, "entitlements": [],
            "name": {"givenName": "Alice", "familyName": "Smith"},
            "emails": [
                {"value": "alice@example.com", "type": "work", "primary": true},
                {"value": "alice@home.org", "type": "home"}
            ],
            "groups": [{"value": "123", "display": "admins"}, {"value": "456", "display": "users"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D"}
        })
    }

    /// Asserts each `(filter, expected)` pair against `resource`.
    fn assert_cases(resource: &Value, cases: &[(&str, bool)]) {
        for (filter, expected) in cases {
            let parsed = parse(filter).unwrap_or_else(|e| panic!("{filter:?}: {e}"));
            assert_eq!(parsed.matches(resource), *expected, "{filter:?}");
        }
    }

    fn path(segments: &[&str]) -> AttrPath {
        let segments = segments.iter().map(|s| s.to_string()).collect();
        AttrPath {
            schema: None,
            segments,
        }
    }

    fn cmp(attr: &str, op: CompareOp, value: Literal) -> Filter {
        let path = path(&[attr]);
        Filter::Compare { path, op, value }
    }

    fn string(s: &str) -> Literal {
        Literal::String(s.to_string())
    }

    #[test]
    fn parses_values_paths_and_presence() {
        let a_eq = |value| Ok(cmp("a", CompareOp::Eq, value));
        assert_eq!(parse(r#"a eq "bob""#), a_eq(string("bob")));
        assert_eq!(parse(r#"a eq "\"y\" \\""#), a_eq(string(r#""y" \"#)));
        assert_eq!(parse("a eq -7"), a_eq(Literal::Number(-7.0)));
        assert_eq!(parse("a eq TRUE"), a_eq(Literal::Bool(true)));
        assert_eq!(parse("a eq null"), a_eq(Literal::Null));
        assert_eq!(parse("a eq any-Xyz123"), a_eq(string("any-Xyz123")));
        assert_eq!(parse("a eq 1e3x"), a_eq(string("1e3x")));
        assert_eq!(parse("a eq and"), a_eq(string("and")));
        let present = Filter::Present(path(&["name", "givenName"]));
        assert_eq!(parse("name.givenName PR"), Ok(present));
        let filter = Box::new(cmp("type", CompareOp::Ne, string("work")));
        let value_path = Filter::ValuePath {
            path: path(&["emails"]),
            filter,
        };
        assert_eq!(parse("emails[type NE work]"), Ok(value_path));
        let urn = parse("urn:ietf:params:scim:schemas:core:2.0:User:userName eq 1.5");
        let schema = Some("urn:ietf:params:scim:schemas:core:2.0:User".to_string());
        let path = AttrPath {
            schema,
            ..path(&["userName"])
        };
        let value = Literal::Number(1.5);
        assert_eq!(
            urn,
            Ok(Filter::Compare {
                path,
                op: CompareOp::Eq,
                value
            })
        );
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        let [a, b, c] = ["a", "b", "c"].map(|x| cmp(x, CompareOp::Eq, Literal::Number(1.0)));
        let not_a = Filter::Not(Box::new(a.clone()));
        let b_and_c = Filter::And(vec![b.clone(), c.clone()]);
        let a_or_b = Filter::Or(vec![a.clone(), b.clone()]);
        let cases = [
            ("a eq 1 or b eq 1 and c eq 1", Filter::Or(vec![a, b_and_c])),
            (
                "(a eq 1 or b eq 1) and c eq 1",
                Filter::And(vec![a_or_b, c]),
            ),
            (
                "not (a eq 1) and b eq 1",
                Filter::And(vec![not_a.clone(), b.clone()]),
            ),
            ("NOT a eq 1 Or b eq 1", Filter::Or(vec![not_a, b])),
        ];
        for (input, expected) in cases {
            assert_eq!(parse(input), Ok(expected), "{input:?}");
        }
    }

    /// `(filter, whether it matches user())`.
    #[rustfmt::skip]
    const USER_CASES: &[(&str, bool)] = &[
        // String operators ignore case, keywords and attribute names too.
        (r#"userName eq "alice@example.com""#, true),
        (r#"userName eq "alice""#, false),
        (r#"userName ne "bob@example.com""#, true),
        (r#"userName ne "ALICE@example.com""#, false),
        (r#"displayName co "ICE sm""#, true),
        (r#"displayName co "bob""#, false),
        (r#"displayName sw "alice""#, true),
        (r#"displayName sw "smith""#, false),
        (r#"displayName ew "SMITH""#, true),
        (r#"displayName ew "alice""#, false),
        (r#"displayName gt "aa""#, true),
        (r#"displayName ge "alice smith""#, true),
        (r#"displayName lt "B""#, true),
        (r#"displayName le "ALICE SMITH""#, true),
        (r#"displayName lt "aa""#, false),
        (r#"USERNAME Eq "alice@example.com" AND Active EQ true"#, true),
        (r#"name.GIVENNAME SW "al""#, true),
        // Bare words are strings.
        ("displayName eq any-Xyz123", false),
        ("userName eq alice@example.com", true),
        // Numbers, including ids held as strings.
        ("age eq 42.0", true),
        ("age gt 9", true),
        ("age ge 42", true),
        ("age lt 100", true),
        ("age le 42", true),
        ("age gt 42", false),
        (r#"age eq "42""#, true),
        ("id eq 1234", true),
        (r#"id eq "1234""#, true),
        ("id gt 999", true),
        ("id eq 123", false),
        ("id co 23", true),
        // Booleans, loosely.
        ("active eq true", true),
        ("active eq false", false),
        ("active ne false", true),
        (r#"active eq "TRUE""#, true),
        ("active gt false", false),
        // Null and missing attributes.
        ("title eq null", true),
        ("missing eq null", true),
        ("userName eq null", false),
        ("userName ne null", true),
        (r#"missing ne "x""#, true),
        (r#"missing eq "x""#, false),
        (r#"missing co "x""#, false),
        // Presence.
        ("userName pr", true),
        ("name pr", true),
        ("emails pr", true),
        ("emails.value pr", true),
        ("active pr", true),
        ("title pr", false),
        ("nickName pr", false),
        ("entitlements pr", false),
        ("missing pr", false),
        ("name.middleName pr", false),
        ("not (missing pr)", true),
        // Paths through arrays match any element; complex values compare by "value".
        (r#"emails.value eq "alice@home.org""#, true),
        (r#"emails eq "alice@example.com""#, true),
        (r#"emails eq "bob@example.com""#, false),
        (r#"groups.display eq "admins""#, true),
        ("groups.value eq 456", true),
        (r#"groups.display ne "admins""#, false),
        (r#"name.givenName eq "alice""#, true),
        (r#"name eq "alice""#, false),
        // Value filters.
        (r#"emails[type eq "work" and value co "@example.com"]"#, true),
        (r#"emails[type eq "home" and value co "@example.com"]"#, false),
        (r#"EMAILS[primary eq true] and userName sw "alice""#, true),
        (r#"emails[type eq "x"] or groups[display eq "users"]"#, true),
        (r#"not (emails[type eq "x"])"#, true),
        (r#"name[givenName eq "alice"]"#, true),
        ("emails[type eq work]", true),
        (r#"missing[type eq "work"]"#, false),
        // Schema URN prefixes; extension attributes live under their URN.
        (r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "alice""#, true),
        (r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "alice""#, true),
        (r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "r&d""#, true),
    ];

    #[test]
    fn matches_user_resource() {
        assert_cases(&user(), USER_CASES);
    }

    #[test]
    fn matches_group_members_and_loose_booleans() {
        let group = json!({"displayName": "g", "members": [{"value": "u1"}, {"value": "u2"}]});
        let cases = [
            ("members.value eq u2", true),
            ("members eq u1", true),
            ("members eq u3", false),
        ];
        assert_cases(&group, &cases);
        assert_cases(&json!({"active": "true"}), &[("active eq true", true)]);
    }

    #[test]
    fn garbage_is_rejected() {
        #[rustfmt::skip]
        let cases = [
            "", "   ", "(", ")", "()", "(userName eq x", "userName eq x)", "userName eq x]",
            r#"userName eq "x"#, r#"userName eq "x\"#, r#"userName eq "\q""#,
            r#"emails[type eq "work""#, "emails[]", "userName", "userName eq", "userName eq (",
            "userName foo x", "userName eq x y", "userName eq x and", "and userName eq x",
            "userName eq x or", "a eq 1 and or b eq 2", "not", "not ()", "userName pr pr",
            r#""userName" eq x"#, "user..name eq x", ":userName eq x", "user*name eq x",
        ];
        for case in cases {
            assert!(parse(case).is_err(), "{case:?} should be rejected");
        }
    }

    #[test]
    fn errors_say_what_and_where() {
        #[rustfmt::skip]
        let cases = [
            ("", "empty filter"),
            ("userName", "expected an operator after 'userName' at position 8, found end of input"),
            ("userName foo x", "unknown operator 'foo' after 'userName' at position 9"),
            ("userName eq )", "expected a value after 'eq' at position 12, found ')'"),
            ("userName eq x y", "unexpected 'y' at position 14"),
            (r#"a eq "x"#, "unterminated string starting at position 5"),
            ("(a eq 1", "expected ')' to match position 0 at position 7, found end of input"),
            ("a eq 1 and", "expected an attribute expression at position 10, found end of input"),
            ("a.b. pr", "invalid attribute path 'a.b.' at position 0"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                parse(input).map_err(|e| e.to_string()),
                Err(expected.to_string())
            );
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let nest = |n: usize| format!("{}a eq 1{}", "(".repeat(n), ")".repeat(n));
        assert!(parse(&nest(MAX_DEPTH)).is_ok());
        assert!(parse(&nest(MAX_DEPTH + 1)).is_err());
        assert!(parse(&nest(100_000)).is_err());
        assert!(parse(&"not ".repeat(100_000)).is_err());
        assert!(parse(&"a[".repeat(100_000)).is_err());
    }

    #[test]
    fn long_flat_chains_and_odd_resources_are_safe() {
        let chain = vec!["age gt 1"; 50_000].join(" and ");
        assert!(parse(&chain).is_ok_and(|f| f.matches(&user())));
        let chain = vec!["age lt 1"; 50_000].join(" or ");
        assert!(parse(&chain).is_ok_and(|f| !f.matches(&user())));
        let filter = parse(r#"userName eq "x" or emails[type eq "y"] or name.givenName pr"#);
        let odd = [
            json!(null),
            json!(1),
            json!([1, [2]]),
            json!({"userName": {"a": 1}}),
        ];
        for resource in odd {
            assert!(filter.as_ref().is_ok_and(|f| !f.matches(&resource)));
        }
    }
}

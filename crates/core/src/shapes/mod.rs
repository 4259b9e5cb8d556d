//! The Databricks types of the settings objects Kiln stores, declared as data, and one walker
//! that checks a JSON value against them before anything is stored. A wrong JSON type, an
//! unknown enum value, a number out of range, a control character or an oversized value is a
//! 400 naming the field (`tasks[0].timeout_seconds must be ...`); fields a shape does not
//! declare are accepted unchecked, as Databricks does.
//!
//! The declarations follow the official SDK's dataclasses and enums (databricks-sdk 0.156,
//! `databricks/sdk/service/*.py`), one file per API group. Services keep their own rules
//! (task graphs, offered runtimes) and run them after the shape check. Rows stored by earlier
//! versions are read through [`prune`], which drops what no longer fits instead of failing
//! every reader.

pub mod clusters;
pub mod jobs;
pub mod notifications;
pub mod permissions;
pub mod scim;
pub mod sql;
pub mod tokens;
pub mod uc;

#[cfg(test)]
mod tests;

use std::fmt;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// What a string may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Text {
    /// Longest value, in UTF-8 bytes.
    pub max_bytes: usize,
    /// Free text (descriptions, SQL, parameter values) may hold tabs and line breaks; names,
    /// ids, keys and paths hold no control character at all.
    pub multiline: bool,
    /// An empty string is refused (keys, paths and required names).
    pub non_empty: bool,
}

impl Text {
    /// A name, id or path: one line.
    pub const fn name(max_bytes: usize) -> Text {
        Text { max_bytes, multiline: false, non_empty: false }
    }

    /// A name that must not be empty (task keys, notebook paths).
    pub const fn key(max_bytes: usize) -> Text {
        Text { max_bytes, multiline: false, non_empty: true }
    }

    /// Free text: tabs and line breaks allowed.
    pub const fn free(max_bytes: usize) -> Text {
        Text { max_bytes, multiline: true, non_empty: false }
    }
}

/// The type of a JSON value.
#[derive(Debug)]
pub enum Shape {
    /// Any JSON (free-form fields).
    Any,
    Bool,
    /// A whole number in `min..=max`.
    Int { min: i64, max: i64 },
    /// Any JSON number.
    Number,
    Str(Text),
    /// A string, one of these.
    Enum(&'static [&'static str]),
    /// An object: the declared fields are checked, others accepted unchecked.
    Object(&'static [Field]),
    /// An object whose fields are these lists, in order: how bodies share a group of fields
    /// (the parameters of run-now, run_job_task and repair).
    ObjectOf(&'static [&'static [Field]]),
    /// An array of at most this many items.
    Array(&'static Shape, usize),
    /// An object with arbitrary keys (tags, `spark_conf`, `base_parameters`) of at most this
    /// many entries; the keys are checked as names.
    Map(&'static Shape, usize),
    /// Another shape, by reference: how a type contains itself (a for-each task's task).
    Ref(&'static Shape),
}

/// One declared field of an object. `null` counts as absent.
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub shape: Shape,
    pub required: bool,
}

pub const fn optional(name: &'static str, shape: Shape) -> Field {
    Field { name, shape, required: false }
}

pub const fn required(name: &'static str, shape: Shape) -> Field {
    Field { name, shape, required: true }
}

/// Longest name, id, key or path, unless Databricks documents another limit: the bound
/// Databricks documents for job and run names.
pub const MAX_NAME_BYTES: usize = 4096;
/// Longest description or comment. Databricks allows 27,700 characters for a job's
/// description; this leaves room for them at four bytes each.
pub const MAX_DESCRIPTION_BYTES: usize = 128 * 1024;
/// Longest parameter value or other free text that is not a description.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Longest duration in seconds: ten years. Deadlines are computed as `now + duration` in
/// seconds, milliseconds and `Instant`s; this keeps each far from overflowing.
pub const MAX_SECONDS: i64 = 10 * 365 * 24 * 3600;
/// [`MAX_SECONDS`] in minutes and milliseconds.
pub const MAX_MINUTES: i64 = MAX_SECONDS / 60;
pub const MAX_MILLIS: i64 = MAX_SECONDS * 1000;
/// Most entries of a list or map that has no documented limit.
pub const MAX_ITEMS: usize = 1000;

/// Any object: what a request field must at least be before its content is judged elsewhere.
pub const ANY_OBJECT: Shape = Shape::Object(&[]);
/// A name, id or path.
pub const NAME: Shape = Shape::Str(Text::name(MAX_NAME_BYTES));
/// A name that must not be empty.
pub const KEY: Shape = Shape::Str(Text::key(MAX_NAME_BYTES));
pub const DESCRIPTION: Shape = Shape::Str(Text::free(MAX_DESCRIPTION_BYTES));
/// A parameter value or other short free text.
pub const VALUE: Shape = Shape::Str(Text::free(MAX_VALUE_BYTES));
/// `{name: value}` parameters.
pub const PARAMETERS: Shape = Shape::Map(&VALUE, MAX_ITEMS);
/// A list of parameter values.
pub const VALUES: Shape = Shape::Array(&VALUE, MAX_ITEMS);
/// A list of names.
pub const NAMES: Shape = Shape::Array(&NAME, MAX_ITEMS);
pub const SECONDS: Shape = Shape::Int { min: 0, max: MAX_SECONDS };
pub const MINUTES: Shape = Shape::Int { min: 0, max: MAX_MINUTES };
pub const MILLIS: Shape = Shape::Int { min: 0, max: MAX_MILLIS };
/// A count of workers, disks, clusters and the like.
pub const COUNT: Shape = Shape::Int { min: 0, max: 100_000 };

/// How map keys are checked.
const MAP_KEY: Text = Text::key(MAX_NAME_BYTES);
/// Deepest nesting of shapes the walker follows; the deepest declared type (a task inside a
/// for-each task inside a job) is far shallower.
const MAX_DEPTH: usize = 32;
/// Most parts [`prune`] removes from one stored value before it gives up on it.
const MAX_PRUNED: usize = 100;
/// Longest enum value quoted back in an error.
const MAX_QUOTED_BYTES: usize = 64;

/// Checks `value` against `shape`; the error names the first field that does not fit.
pub fn check(value: &Value, shape: &Shape) -> Result<()> {
    check_at(value, shape, "")
}

/// As [`check`], for a value that sits at `root` of the request (`query`, `function_info`):
/// errors name `root.field`.
pub fn check_at(value: &Value, shape: &Shape, root: &str) -> Result<()> {
    walk(value, shape, &At::Root, 0, Mode::Write).map_err(|problem| Error::invalid(problem.message(root, "the request body")))
}

/// As [`check_at`], for the changes of an update: what is there must fit, but required fields
/// may be left out (the merged result is checked in full).
pub fn check_changes(value: &Value, shape: &Shape, root: &str) -> Result<()> {
    walk(value, shape, &At::Root, 0, Mode::Changes).map_err(|problem| Error::invalid(problem.message(root, "the request body")))
}

/// Removes from a stored value every part that no longer fits `shape` (rows written before a
/// rule existed), so readers get what is still valid; answers what was removed, for a
/// warning. Required fields are not asked for.
pub fn prune(value: &mut Value, shape: &Shape) -> Vec<String> {
    let mut removed = Vec::new();
    loop {
        let problem = match walk(value, shape, &At::Root, 0, Mode::Read) {
            Ok(()) => return removed,
            Err(problem) => problem,
        };
        removed.push(problem.message("", "the stored value"));
        if removed.len() > MAX_PRUNED || !remove_at(value, &problem.path) {
            *value = empty_of(shape);
            return removed;
        }
    }
}

/// Writes refuse what reads tolerate: missing required fields and empty keys. The changes of
/// an update may leave out required fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Write,
    Changes,
    Read,
}

/// Where the walker is, as a chain up to the root; rendered only when something is wrong.
enum At<'a> {
    Root,
    Field(&'a At<'a>, &'a str),
    Index(&'a At<'a>, usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Field(String),
    Index(usize),
}

/// The first thing wrong with a value: where, and what (`must be ...`).
#[derive(Debug)]
struct Problem {
    path: Vec<Step>,
    what: String,
}

impl At<'_> {
    fn steps(&self) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut at = self;
        loop {
            match at {
                At::Root => break,
                At::Field(parent, name) => {
                    steps.push(Step::Field(name.to_string()));
                    at = parent;
                }
                At::Index(parent, index) => {
                    steps.push(Step::Index(*index));
                    at = parent;
                }
            }
        }
        steps.reverse();
        steps
    }

    fn problem(&self, what: impl fmt::Display) -> Problem {
        Problem { path: self.steps(), what: what.to_string() }
    }
}

impl Problem {
    /// `root.tasks[0].run_if 'NEVER' must be one of ...`; `whole` names a problem of the value
    /// itself when there is no root.
    fn message(&self, root: &str, whole: &str) -> String {
        let mut path = root.to_string();
        for step in &self.path {
            match step {
                Step::Field(name) if path.is_empty() => path.push_str(name),
                Step::Field(name) => {
                    path.push('.');
                    path.push_str(name);
                }
                Step::Index(index) => path.push_str(&format!("[{index}]")),
            }
        }
        if path.is_empty() {
            path.push_str(whole);
        }
        format!("{path} {}", self.what)
    }
}

/// `a string`, `an object`: what a value is, for errors.
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn walk(value: &Value, shape: &Shape, at: &At<'_>, depth: usize, mode: Mode) -> std::result::Result<(), Problem> {
    if depth > MAX_DEPTH {
        return Err(at.problem("is nested too deeply"));
    }
    match shape {
        Shape::Any => Ok(()),
        Shape::Ref(inner) => walk(value, inner, at, depth + 1, mode),
        Shape::Bool if value.is_boolean() => Ok(()),
        Shape::Bool => Err(at.problem(format!("must be true or false, got {}", kind_of(value)))),
        Shape::Number if value.is_number() => Ok(()),
        Shape::Number => Err(at.problem(format!("must be a number, got {}", kind_of(value)))),
        Shape::Int { min, max } => match value.as_i64() {
            Some(number) if (*min..=*max).contains(&number) => Ok(()),
            _ => {
                let got = if value.is_number() { value.to_string() } else { kind_of(value).to_string() };
                Err(at.problem(format!("must be a whole number from {min} to {max}, got {got}")))
            }
        },
        Shape::Str(text) => match value.as_str() {
            Some(string) => check_text(string, text, mode).map_err(|what| at.problem(what)),
            None => Err(at.problem(format!("must be a string, got {}", kind_of(value)))),
        },
        Shape::Enum(values) => match value.as_str() {
            Some(string) if values.contains(&string) => Ok(()),
            Some(string) if string.len() <= MAX_QUOTED_BYTES && !string.chars().any(char::is_control) => {
                Err(at.problem(format!("'{string}' must be one of {}", values.join(", "))))
            }
            Some(_) => Err(at.problem(format!("must be one of {}", values.join(", ")))),
            None => Err(at.problem(format!("must be one of {}, got {}", values.join(", "), kind_of(value)))),
        },
        Shape::Object(fields) => walk_object(value, &[fields], at, depth, mode),
        Shape::ObjectOf(groups) => walk_object(value, groups, at, depth, mode),
        Shape::Array(item, max) => {
            let Some(items) = value.as_array() else { return Err(at.problem(format!("must be an array, got {}", kind_of(value)))) };
            if items.len() > *max {
                return Err(at.problem(format!("must have at most {max} items, got {}", items.len())));
            }
            for (index, inner) in items.iter().enumerate() {
                walk(inner, item, &At::Index(at, index), depth + 1, mode)?;
            }
            Ok(())
        }
        Shape::Map(item, max) => {
            let Some(entries) = value.as_object() else { return Err(at.problem(format!("must be an object, got {}", kind_of(value)))) };
            if entries.len() > *max {
                return Err(at.problem(format!("must have at most {max} entries, got {}", entries.len())));
            }
            for (key, inner) in entries {
                check_text(key, &MAP_KEY, mode).map_err(|what| at.problem(format!("keys {what}")))?;
                walk(inner, item, &At::Field(at, key), depth + 1, mode)?;
            }
            Ok(())
        }
    }
}

fn walk_object(value: &Value, groups: &[&[Field]], at: &At<'_>, depth: usize, mode: Mode) -> std::result::Result<(), Problem> {
    let Some(object) = value.as_object() else { return Err(at.problem(format!("must be an object, got {}", kind_of(value)))) };
    let fields = || groups.iter().flat_map(|group| group.iter());
    // What was sent is judged before what is missing.
    for field in fields() {
        if let Some(inner) = object.get(field.name).filter(|v| !v.is_null()) {
            walk(inner, &field.shape, &At::Field(at, field.name), depth + 1, mode)?;
        }
    }
    let missing = fields().find(|field| field.required && object.get(field.name).is_none_or(Value::is_null));
    match missing {
        Some(field) if mode == Mode::Write => Err(At::Field(at, field.name).problem("is required")),
        _ => Ok(()),
    }
}

/// What is wrong with a string, as `must ...`.
fn check_text(text: &str, rules: &Text, mode: Mode) -> std::result::Result<(), String> {
    if rules.non_empty && text.is_empty() && mode != Mode::Read {
        return Err("must not be empty".to_string());
    }
    if text.len() > rules.max_bytes {
        return Err(format!("must be at most {} bytes, got {}", rules.max_bytes, text.len()));
    }
    let allowed = |c: char| rules.multiline && matches!(c, '\t' | '\n' | '\r');
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(if rules.multiline { "must not contain control characters other than tabs and line breaks" } else { "must not contain control characters" }.to_string());
    }
    Ok(())
}

/// Removes the part of `value` at `path`; false when there is nothing to remove there (the
/// root itself).
fn remove_at(value: &mut Value, path: &[Step]) -> bool {
    let Some((last, parents)) = path.split_last() else { return false };
    let mut node = value;
    for step in parents {
        let next = match (step, node) {
            (Step::Field(name), Value::Object(map)) => map.get_mut(name),
            (Step::Index(index), Value::Array(items)) => items.get_mut(*index),
            _ => None,
        };
        match next {
            Some(next) => node = next,
            None => return false,
        }
    }
    match (last, node) {
        (Step::Field(name), Value::Object(map)) => map.remove(name).is_some(),
        (Step::Index(index), Value::Array(items)) if *index < items.len() => {
            items.remove(*index);
            true
        }
        _ => false,
    }
}

/// What a stored value that cannot be repaired reads as.
fn empty_of(shape: &Shape) -> Value {
    match shape {
        Shape::Object(_) | Shape::ObjectOf(_) | Shape::Map(..) => Value::Object(Map::new()),
        Shape::Array(..) => Value::Array(Vec::new()),
        Shape::Ref(inner) => empty_of(inner),
        _ => Value::Null,
    }
}

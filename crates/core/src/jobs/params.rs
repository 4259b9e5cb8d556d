//! Dynamic value references in task parameters: `{{job.id}}`, `{{job.run_id}}`,
//! `{{job.name}}`, `{{job.parameters.<name>}}`, `{{task.name}}`, `{{task.run_id}}`,
//! `{{tasks.<task_key>.values.<key>}}`, `{{tasks.<task_key>.result_state}}` and, inside a
//! for-each iteration, `{{input}}` (and `{{input.<field>}}` of an object input).

use std::collections::HashMap;

use serde_json::Value;

/// What references resolve to for one task.
#[derive(Debug, Clone, Default)]
pub struct References {
    pub values: HashMap<String, String>,
}

impl References {
    pub fn set(&mut self, reference: &str, value: impl Into<String>) {
        self.values.insert(reference.to_string(), value.into());
    }

    /// The for-each input: `{{input}}` is the element (JSON text unless a string), and an
    /// object's fields are `{{input.<field>}}`.
    pub fn set_input(&mut self, input: &Value) {
        self.set("input", plain(input));
        if let Some(fields) = input.as_object() {
            for (name, value) in fields {
                self.set(&format!("input.{name}"), plain(value));
            }
        }
    }

    /// `text` with every known `{{reference}}` replaced; unknown ones stay as written.
    pub fn substitute(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            let Some(length) = rest[start + 2..].find("}}") else { break };
            let name = rest[start + 2..start + 2 + length].trim();
            out.push_str(&rest[..start]);
            match self.values.get(name) {
                Some(value) => out.push_str(value),
                None => out.push_str(&rest[start..start + 2 + length + 2]),
            }
            rest = &rest[start + 2 + length + 2..];
        }
        out.push_str(rest);
        out
    }

    /// Every string inside `value` substituted.
    pub fn substitute_json(&self, value: &Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.substitute(text)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.substitute_json(v)).collect()),
            Value::Object(fields) => Value::Object(fields.iter().map(|(k, v)| (k.clone(), self.substitute_json(v))).collect()),
            other => other.clone(),
        }
    }
}

/// A JSON value as a parameter string: strings bare, anything else as JSON text.
pub fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The `(task_key, key)` of every `{{tasks.<task_key>.values.<key>}}` in `text`.
pub fn task_value_references(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(length) = rest[start + 2..].find("}}") else { break };
        let name = rest[start + 2..start + 2 + length].trim();
        if let Some(inner) = name.strip_prefix("tasks.")
            && let Some((task_key, key)) = inner.split_once(".values.")
        {
            found.push((task_key.to_string(), key.to_string()));
        }
        rest = &rest[start + 2 + length + 2..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_are_replaced_and_unknown_ones_kept() {
        let mut refs = References::default();
        refs.set("job.run_id", "42");
        refs.set("tasks.extract.values.rows", "1000");
        assert_eq!(refs.substitute("run {{job.run_id}} saw {{ tasks.extract.values.rows }} rows"), "run 42 saw 1000 rows");
        assert_eq!(refs.substitute("{{job.unknown}} and {{ unclosed"), "{{job.unknown}} and {{ unclosed");
        assert_eq!(refs.substitute_json(&json!({"a": ["{{job.run_id}}", 1]})), json!({"a": ["42", 1]}));
    }

    #[test]
    fn for_each_inputs_and_task_value_references() {
        let mut refs = References::default();
        refs.set_input(&json!({"city": "Oslo", "n": 3}));
        assert_eq!(refs.substitute("{{input.city}}/{{input.n}}"), "Oslo/3");
        assert_eq!(refs.substitute("{{input}}"), r#"{"city":"Oslo","n":3}"#);
        assert_eq!(task_value_references("x {{tasks.a.values.k}} {{job.id}} {{tasks.b.values.z}}"), vec![("a".into(), "k".into()), ("b".into(), "z".into())]);
    }
}

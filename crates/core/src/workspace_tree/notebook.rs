//! Notebook formats. A notebook is kept in Databricks' SOURCE form: a header line
//! (`# Databricks notebook source`), then cells separated by `# COMMAND ----------` lines,
//! where a cell in another language than the notebook's is written as `# MAGIC %sql ...`
//! lines. The comment marker is the notebook language's (`#`, `--` or `//`). Jupyter
//! (`.ipynb`) documents convert to and from that form.

use serde_json::{Value, json};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Python,
    Sql,
    Scala,
    R,
}

impl Language {
    pub const ALL: [Language; 4] = [Language::Python, Language::Sql, Language::Scala, Language::R];

    /// The Workspace API's name: `PYTHON`, `SQL`, `SCALA`, `R`.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Python => "PYTHON",
            Language::Sql => "SQL",
            Language::Scala => "SCALA",
            Language::R => "R",
        }
    }

    pub fn parse(text: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|language| language.as_str().eq_ignore_ascii_case(text))
    }

    fn comment(self) -> &'static str {
        match self {
            Language::Python | Language::R => "#",
            Language::Sql => "--",
            Language::Scala => "//",
        }
    }

    /// The extension of an exported SOURCE file, which is also export's `file_type`.
    pub fn extension(self) -> &'static str {
        match self {
            Language::Python => "py",
            Language::Sql => "sql",
            Language::Scala => "scala",
            Language::R => "r",
        }
    }

    pub fn from_extension(path: &str) -> Option<Language> {
        let (_, extension) = path.rsplit_once('.')?;
        Language::ALL.into_iter().find(|language| language.extension().eq_ignore_ascii_case(extension))
    }

    fn header(self) -> String {
        format!("{} Databricks notebook source", self.comment())
    }

    fn separator(self) -> String {
        format!("{} COMMAND ----------", self.comment())
    }

    fn magic(self) -> String {
        format!("{} MAGIC", self.comment())
    }
}

/// The language whose header opens `source`, if it is a notebook in SOURCE form.
pub fn header_language(source: &str) -> Option<Language> {
    let first_line = source.lines().next()?.trim_end();
    // `#` is both Python's and R's marker; a headed file without other hints is Python.
    [Language::Python, Language::Sql, Language::Scala].into_iter().find(|language| first_line == language.header())
}

/// One cell: its code, and for a magic cell the magic's name (`sql`, `md`, `sh`, `run`...)
/// with the code after the magic line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub magic: Option<String>,
    pub code: String,
}

/// The canonical SOURCE text of a notebook in `language`: `text` with the header added (or
/// rewritten to the language's marker) when it has none.
pub fn to_source(language: Language, text: &str) -> String {
    let body = match header_language(text) {
        Some(_) => text.split_once('\n').map(|(_, rest)| rest).unwrap_or(""),
        None => text,
    };
    format!("{}\n{body}", language.header())
}

/// The cells of a SOURCE notebook.
pub fn cells(language: Language, source: &str) -> Vec<Cell> {
    let body = match header_language(source) {
        Some(_) => source.split_once('\n').map(|(_, rest)| rest).unwrap_or(""),
        None => source,
    };
    let separator = language.separator();
    let magic = language.magic();
    let mut cells = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut flush = |lines: &mut Vec<&str>| {
        let text = lines.join("\n");
        lines.clear();
        let text = text.trim_matches('\n');
        if text.trim().is_empty() {
            return;
        }
        let is_magic = text.lines().filter(|line| !line.trim().is_empty()).all(|line| line.starts_with(&magic));
        if !is_magic {
            cells.push(Cell { magic: None, code: text.to_string() });
            return;
        }
        let unwrapped: Vec<&str> = text.lines().map(|line| line.strip_prefix(&magic).map(|rest| rest.strip_prefix(' ').unwrap_or(rest)).unwrap_or(line)).collect();
        let first = unwrapped.first().copied().unwrap_or("").trim();
        let (name, first_rest) = first.trim_start_matches('%').split_once(char::is_whitespace).unwrap_or((first.trim_start_matches('%'), ""));
        let mut code = first_rest.trim().to_string();
        for line in &unwrapped[1..] {
            if !code.is_empty() {
                code.push('\n');
            }
            code.push_str(line);
        }
        cells.push(Cell { magic: Some(name.to_string()), code: code.trim_matches('\n').to_string() });
    };
    for line in body.lines() {
        if line.trim_end() == separator {
            flush(&mut current);
        } else {
            current.push(line);
        }
    }
    flush(&mut current);
    cells
}

/// SOURCE text from cells.
pub fn from_cells(language: Language, cells: &[Cell]) -> String {
    let magic = language.magic();
    let rendered: Vec<String> = cells
        .iter()
        .map(|cell| match &cell.magic {
            None => cell.code.clone(),
            Some(name) => {
                let text = format!("%{name}\n{}", cell.code);
                text.trim_end_matches('\n').lines().map(|line| if line.is_empty() { magic.clone() } else { format!("{magic} {line}") }).collect::<Vec<_>>().join("\n")
            }
        })
        .collect();
    format!("{}\n{}", language.header(), rendered.join(&format!("\n\n{}\n\n", language.separator())))
}

/// A Jupyter (nbformat 4) document of a SOURCE notebook. `%md` cells become markdown cells;
/// other magic cells keep their `%magic` line.
pub fn to_ipynb(language: Language, name: &str, source: &str) -> String {
    let cells: Vec<Value> = cells(language, source)
        .into_iter()
        .map(|cell| {
            let (cell_type, text) = match cell.magic.as_deref() {
                Some("md") => ("markdown", cell.code),
                Some(other) => ("code", format!("%{other}\n{}", cell.code)),
                None => ("code", cell.code),
            };
            let lines = jupyter_lines(&text);
            match cell_type {
                "markdown" => json!({"cell_type": "markdown", "metadata": {}, "source": lines}),
                _ => json!({"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": lines}),
            }
        })
        .collect();
    let language_name = language.as_str().to_ascii_lowercase();
    let document = json!({
        "cells": cells,
        "metadata": {
            "application/vnd.databricks.v1+notebook": {"language": language_name, "notebookName": name},
            "language_info": {"name": language_name},
        },
        "nbformat": 4,
        "nbformat_minor": 0,
    });
    serde_json::to_string_pretty(&document).unwrap_or_default()
}

/// Jupyter keeps a cell's text as lines that each end with `\n` but the last.
fn jupyter_lines(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let last = lines.len() - 1;
    lines.iter().enumerate().map(|(index, line)| if index == last { line.to_string() } else { format!("{line}\n") }).collect()
}

/// A SOURCE notebook from a Jupyter document, and its language (Python unless the document's
/// metadata names another).
pub fn from_ipynb(bytes: &[u8]) -> Result<(Language, String)> {
    let not_jupyter = |why: &str| Error::invalid(format!("content is not a Jupyter notebook: {why}"));
    let document: Value = serde_json::from_slice(bytes).map_err(|e| not_jupyter(&e.to_string()))?;
    let cells = document.get("cells").and_then(Value::as_array).ok_or_else(|| not_jupyter("it has no cells array"))?;
    let metadata = document.get("metadata");
    let named = [
        metadata.and_then(|m| m.pointer("/application~1vnd.databricks.v1+notebook/language")),
        metadata.and_then(|m| m.pointer("/language_info/name")),
        metadata.and_then(|m| m.pointer("/kernelspec/language")),
    ];
    let language = named.into_iter().flatten().filter_map(Value::as_str).find_map(Language::parse).unwrap_or(Language::Python);
    let mut converted = Vec::with_capacity(cells.len());
    for (index, cell) in cells.iter().enumerate() {
        let text = match cell.get("source") {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Array(lines)) => lines.iter().filter_map(Value::as_str).collect(),
            _ => return Err(not_jupyter(&format!("cells[{index}].source must be a string or a list of strings"))),
        };
        let cell = match cell.get("cell_type").and_then(Value::as_str) {
            Some("markdown") => Cell { magic: Some("md".to_string()), code: text },
            Some("code") | Some("raw") => match text.strip_prefix('%') {
                Some(rest) => {
                    let (first, code) = rest.split_once('\n').unwrap_or((rest, ""));
                    let (name, inline) = first.split_once(char::is_whitespace).unwrap_or((first, ""));
                    let code = if inline.trim().is_empty() { code.to_string() } else { format!("{}\n{code}", inline.trim()) };
                    Cell { magic: Some(name.to_string()), code: code.trim_end_matches('\n').to_string() }
                }
                None => Cell { magic: None, code: text },
            },
            other => return Err(not_jupyter(&format!("cells[{index}].cell_type {other:?} is not code, markdown or raw"))),
        };
        converted.push(cell);
    }
    Ok((language, from_cells(language, &converted)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_gains_the_language_header() {
        assert_eq!(to_source(Language::Python, "print(1)"), "# Databricks notebook source\nprint(1)");
        assert_eq!(to_source(Language::Sql, "SELECT 1"), "-- Databricks notebook source\nSELECT 1");
        let already = "# Databricks notebook source\nprint(2)";
        assert_eq!(to_source(Language::Python, already), already);
    }

    #[test]
    fn cells_split_on_separators_and_unwrap_magics() {
        let source = "# Databricks notebook source\nx = 1\n\n# COMMAND ----------\n\n# MAGIC %sql\n# MAGIC SELECT 1\n\n# COMMAND ----------\n\n# MAGIC %md # Title\n# MAGIC\n# MAGIC text";
        let cells = cells(Language::Python, source);
        assert_eq!(
            cells,
            vec![
                Cell { magic: None, code: "x = 1".into() },
                Cell { magic: Some("sql".into()), code: "SELECT 1".into() },
                Cell { magic: Some("md".into()), code: "# Title\n\ntext".into() },
            ]
        );
        assert_eq!(super::cells(Language::Python, &from_cells(Language::Python, &cells)), cells, "cells survive a round trip");
    }

    #[test]
    fn ipynb_round_trips_code_markdown_and_magics() {
        let source = "# Databricks notebook source\nimport os\nprint(os.sep)\n\n# COMMAND ----------\n\n# MAGIC %md\n# MAGIC ## Notes\n\n# COMMAND ----------\n\n# MAGIC %sql\n# MAGIC SELECT 1";
        let document = to_ipynb(Language::Python, "nb", source);
        let parsed: Value = serde_json::from_str(&document).expect("json");
        assert_eq!(parsed["cells"][0]["source"], json!(["import os\n", "print(os.sep)"]));
        assert_eq!(parsed["cells"][1]["cell_type"], "markdown");
        let (language, back) = from_ipynb(document.as_bytes()).expect("import");
        assert_eq!(language, Language::Python);
        assert_eq!(cells(Language::Python, &back), cells(Language::Python, source));
    }

    #[test]
    fn ipynb_errors_name_what_is_wrong() {
        let error = from_ipynb(b"{\"cells\": [{\"cell_type\": \"widget\", \"source\": \"\"}]}").unwrap_err();
        assert!(error.message.contains("cells[0].cell_type"), "{}", error.message);
        assert!(from_ipynb(b"not json").unwrap_err().message.contains("not a Jupyter notebook"));
    }

    #[test]
    fn header_and_extension_detection() {
        assert_eq!(header_language("-- Databricks notebook source\nSELECT 1"), Some(Language::Sql));
        assert_eq!(header_language("print(1)"), None);
        assert_eq!(Language::from_extension("/a/b.R"), Some(Language::R));
        assert_eq!(Language::from_extension("/a/b.txt"), None);
    }
}

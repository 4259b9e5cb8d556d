//! Unity Catalog names: validation, case folding and dotted full names.

use kiln_store::SecurableKind;

use crate::error::{Error, Result};

/// Longest name Unity Catalog accepts for any securable.
const MAX_NAME_LEN: usize = 255;

/// Validates one name part and folds it to lower case, as Unity Catalog stores names.
pub fn normalize(field: &str, name: &str) -> Result<String> {
    if name.is_empty() {
        return Err(Error::invalid(format!("{field} must not be empty")));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(Error::invalid(format!("{field} is longer than {MAX_NAME_LEN} characters")));
    }
    if let Some(bad) = name.chars().find(|c| matches!(c, '.' | '/' | ' ') || c.is_control()) {
        return Err(Error::invalid(format!("{field} '{name}' contains an invalid character {bad:?}: names may not contain '.', ' ', '/' or control characters")));
    }
    Ok(name.to_lowercase())
}

/// How many dotted parts the full name of a securable of `kind` has.
pub fn depth_of(kind: SecurableKind) -> usize {
    match kind {
        SecurableKind::Metastore => 0,
        SecurableKind::Catalog => 1,
        SecurableKind::Schema => 2,
        SecurableKind::Table | SecurableKind::Volume | SecurableKind::Function => 3,
    }
}

/// Splits `main.sales.orders` into its parts, checking there are as many as `kind` needs.
/// Backquoted parts (`` `my-cat`.x ``) keep their dots.
pub fn split_full_name(field: &str, kind: SecurableKind, full_name: &str) -> Result<Vec<String>> {
    let parts = split_dotted(full_name).ok_or_else(|| Error::invalid(format!("{field} '{full_name}' has an unclosed backquote")))?;
    let expected = depth_of(kind);
    if parts.len() != expected || parts.iter().any(String::is_empty) {
        let shape = ["catalog", "schema", "name"][..expected.max(1)].join(".");
        return Err(Error::invalid(format!("{field} '{full_name}' is not a valid {} name: expected {shape}", kind.as_str())));
    }
    Ok(parts.into_iter().map(|part| part.to_lowercase()).collect())
}

fn split_dotted(text: &str) -> Option<Vec<String>> {
    let mut parts = vec![String::new()];
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' if quoted && chars.peek() == Some(&'`') => {
                chars.next();
                parts.last_mut()?.push('`');
            }
            '`' => quoted = !quoted,
            '.' if !quoted => parts.push(String::new()),
            _ => parts.last_mut()?.push(c),
        }
    }
    (!quoted).then_some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_names_split_fold_and_validate() {
        assert_eq!(split_full_name("name", SecurableKind::Table, "Main.Sales.Orders").unwrap(), vec!["main", "sales", "orders"]);
        assert_eq!(split_full_name("name", SecurableKind::Schema, "`my.cat`.s").unwrap(), vec!["my.cat", "s"]);
        let error = split_full_name("full_name", SecurableKind::Table, "main.sales").unwrap_err();
        assert!(error.message.contains("expected catalog.schema.name"), "{}", error.message);
        assert!(split_full_name("name", SecurableKind::Catalog, "`open").is_err());
        assert!(normalize("name", "a b").is_err());
        assert_eq!(normalize("name", "Sales_2024").unwrap(), "sales_2024");
    }
}

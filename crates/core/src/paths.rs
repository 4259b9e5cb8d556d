//! What every stored path must be: short enough to address again through a URL and a file
//! system, and free of control characters (which no file browser, log or URL shows as sent).

use crate::error::{Error, Result};

/// Longest name of one file or folder, as file systems allow.
pub const MAX_NAME_BYTES: usize = 255;
/// Longest whole path, as file systems allow.
pub const MAX_PATH_BYTES: usize = 4096;

/// Refuses a path too long, with a name too long, or with control characters; `field` names
/// it in the error.
pub fn check_addressable(field: &str, path: &str) -> Result<()> {
    if path.len() > MAX_PATH_BYTES {
        return Err(Error::invalid(format!("{field} is {} bytes long; a path may be at most {MAX_PATH_BYTES} bytes", path.len())));
    }
    if path.chars().any(char::is_control) {
        return Err(Error::invalid(format!("{field} must not contain control characters")));
    }
    if let Some(name) = path.split('/').find(|name| name.len() > MAX_NAME_BYTES) {
        return Err(Error::invalid(format!("{field} has a name of {} bytes; a file or folder name may be at most {MAX_NAME_BYTES} bytes", name.len())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_paths_and_control_characters_are_refused() {
        assert!(check_addressable("path", "/a/b.txt").is_ok());
        assert!(check_addressable("path", &format!("/a/{}", "n".repeat(255))).is_ok());
        assert!(check_addressable("path", &format!("/a/{}", "n".repeat(256))).unwrap_err().message.contains("255"));
        assert!(check_addressable("path", &"/abc".repeat(2000)).unwrap_err().message.contains("4096"));
        assert!(check_addressable("path", "/a\nb").unwrap_err().message.contains("control"));
        assert!(check_addressable("path", "/a\u{7}b").is_err());
    }
}

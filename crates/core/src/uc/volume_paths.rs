//! `/Volumes/<catalog>/<schema>/<volume>/<path>`: the one place that turns such a path into
//! bytes on disk, after the privilege it needs (READ VOLUME or WRITE VOLUME). The Files API
//! and SQL's `read_files` both come through here.

use std::path::PathBuf;

use kiln_store::SecurableKind;

use super::{UnityCatalog, does_not_exist};
use crate::authz::{Privilege, SecurablePath};
use crate::error::{Error, Result};
use crate::principal::Caller;

/// A path inside a volume, resolved for a caller.
#[derive(Debug, Clone)]
pub struct VolumePath {
    pub volume: SecurablePath,
    /// `/Volumes/c/s/v/a/b`, normalised (lower-case securable names, no empty segments).
    pub path: String,
    /// The path's segments below the volume; empty for the volume's root.
    pub below: Vec<String>,
    /// Where the bytes are.
    pub local: PathBuf,
}

impl VolumePath {
    pub fn is_root(&self) -> bool {
        self.below.is_empty()
    }
}

/// The segments of a volume path, or why it is not one. `.`, `..`, NUL and backslashes are
/// refused outright, so no path leaves its volume.
pub fn parse_volume_path(path: &str) -> Result<(Vec<String>, Vec<String>)> {
    crate::paths::check_addressable("path", path)?;
    let malformed = || Error::invalid(format!("'{path}' is not a volume path: use /Volumes/<catalog>/<schema>/<volume>/<path>"));
    let segments: Vec<&str> = path.split('/').filter(|segment| !segment.is_empty()).collect();
    if segments.len() < 4 || segments[0] != "Volumes" {
        return Err(malformed());
    }
    if segments.iter().any(|s| *s == "." || *s == ".." || s.contains(['\0', '\\'])) {
        return Err(Error::invalid(format!("'{path}': a volume path may not contain '.', '..', NUL or backslash segments")));
    }
    let volume = segments[1..4].iter().map(|s| s.to_lowercase()).collect();
    let below = segments[4..].iter().map(|s| s.to_string()).collect();
    Ok((volume, below))
}

impl UnityCatalog {
    /// Resolves `path` for `caller`, requiring `privilege` (READ VOLUME or WRITE VOLUME) on
    /// its volume. A volume the caller may not address does not exist for them.
    pub async fn volume_path(&self, caller: &Caller, action: &str, path: &str, privilege: Privilege) -> Result<VolumePath> {
        let (parts, below) = parse_volume_path(path)?;
        let full_name = parts.join(".");
        let volume = match self.lookup(SecurableKind::Volume, &parts).await {
            Ok(volume) if self.authz().may_address(caller, &volume).await? => volume,
            Ok(_) => return Err(does_not_exist(SecurableKind::Volume, &full_name)),
            Err(error) => return Err(error),
        };
        self.authz().require_privilege(caller, action, &volume, privilege).await?;
        let mut local = self.storage_dir(&volume.leaf().id);
        local.extend(&below);
        let normalised = format!("/Volumes/{}{}", parts.join("/"), below.iter().map(|s| format!("/{s}")).collect::<String>());
        Ok(VolumePath { volume, path: normalised, below, local })
    }
}

#[cfg(test)]
mod tests {
    use super::parse_volume_path;

    #[test]
    fn only_paths_inside_a_volume_parse() {
        let (volume, below) = parse_volume_path("/Volumes/Main/default/files/a/b.csv").unwrap();
        assert_eq!(volume, ["main", "default", "files"]);
        assert_eq!(below, ["a", "b.csv"]);
        assert!(parse_volume_path("/Volumes/main/default/files").unwrap().1.is_empty());
        for bad in ["/etc/passwd", "/Volumes/main/default", "/Volumes/main/default/files/../../x", "/Volumes/main/default/files/./x", "/Volumes/m/s/v/a\\b", "dbfs:/x"] {
            assert!(parse_volume_path(bad).is_err(), "{bad}");
        }
    }
}

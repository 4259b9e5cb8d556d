//! The Python runtime of clusters (`python/kiln_runtime` in the repository), built into the
//! binary and written out under the data directory at start, so `kiln serve` needs nothing
//! installed besides a Python 3 interpreter.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

const FILES: &[(&str, &str)] = &[
    ("__init__.py", include_str!("../../../../python/kiln_runtime/__init__.py")),
    ("client.py", include_str!("../../../../python/kiln_runtime/client.py")),
    ("dbutils.py", include_str!("../../../../python/kiln_runtime/dbutils.py")),
    ("driver.py", include_str!("../../../../python/kiln_runtime/driver.py")),
    ("executor.py", include_str!("../../../../python/kiln_runtime/executor.py")),
    ("spark.py", include_str!("../../../../python/kiln_runtime/spark.py")),
];

/// Writes the package to `<root>/<digest>/kiln_runtime/` and returns `<root>/<digest>`, the
/// directory to put on `PYTHONPATH`. The digest names the package's content, so a newer
/// binary never runs an older runtime.
pub fn install(root: &Path) -> Result<PathBuf> {
    use sha2::{Digest, Sha256};
    let mut digest = Sha256::new();
    for (name, text) in FILES {
        digest.update(name.as_bytes());
        digest.update(text.as_bytes());
    }
    let version = hex::encode(&digest.finalize()[..8]);
    let base = root.join(&version);
    let package = base.join("kiln_runtime");
    let failed = |e: std::io::Error| Error::internal(format!("cannot install the Python runtime under {}: {e}", package.display()));
    std::fs::create_dir_all(&package).map_err(failed)?;
    for (name, text) in FILES {
        let path = package.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(*text) {
            let temporary = package.join(format!(".{name}.tmp"));
            std::fs::write(&temporary, text).map_err(failed)?;
            std::fs::rename(&temporary, &path).map_err(failed)?;
        }
    }
    Ok(base)
}

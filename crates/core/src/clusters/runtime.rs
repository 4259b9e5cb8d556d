//! The Python runtime of clusters (`python/kiln_runtime` in the repository), built into the
//! binary and written into each driver's scratch directory, so `kiln serve` needs nothing
//! installed besides a Python 3 interpreter.

use std::path::Path;

use crate::error::{Error, Result};

const FILES: &[(&str, &str)] = &[
    ("__init__.py", include_str!("../../../../python/kiln_runtime/__init__.py")),
    ("client.py", include_str!("../../../../python/kiln_runtime/client.py")),
    ("dbutils.py", include_str!("../../../../python/kiln_runtime/dbutils.py")),
    ("driver.py", include_str!("../../../../python/kiln_runtime/driver.py")),
    ("executor.py", include_str!("../../../../python/kiln_runtime/executor.py")),
    ("spark.py", include_str!("../../../../python/kiln_runtime/spark.py")),
];

/// Writes the package to `<dir>/kiln_runtime/`; `dir` is what goes on `PYTHONPATH`.
pub fn write_package(dir: &Path) -> Result<()> {
    let package = dir.join("kiln_runtime");
    let failed = |e: std::io::Error| Error::internal(format!("cannot write the Python runtime under {}: {e}", package.display()));
    std::fs::create_dir_all(&package).map_err(failed)?;
    for (name, text) in FILES {
        std::fs::write(package.join(name), text).map_err(failed)?;
    }
    Ok(())
}

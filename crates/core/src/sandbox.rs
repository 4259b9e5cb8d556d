//! Processes that run users' code (cluster drivers, job tasks) run as the same OS user as
//! Kiln, so on their own they could read the data directory: the metadata database, the
//! signing and secrets keys. Where the kernel allows unprivileged user namespaces, such a
//! process starts in its own user, mount and PID namespaces (`unshare`) with an empty,
//! unreadable file system mounted over the data directory, then moves into a nested user
//! namespace so it can never unmount it; it sees no other processes. It also starts with a
//! clean environment: nothing of Kiln's (`KILN_*`, `DATABRICKS_*`) is passed on.

use std::path::{Path, PathBuf};
use std::process::Stdio;

/// Variables a child keeps from Kiln's environment: what interpreters and TLS need.
const KEPT_VARIABLES: &[&str] =
    &["PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "PYENV_ROOT", "PYENV_VERSION", "VIRTUAL_ENV", "SSL_CERT_FILE", "SSL_CERT_DIR"];

/// Mounts an empty tmpfs over `$1`, then runs the rest of the arguments in a nested user
/// namespace, where that mount is locked in place.
const ENTER: &str = r#"mount -t tmpfs -o size=16k,mode=000 kiln-hidden "$1" || exit 97; shift; exec unshare --user --mount --map-current-user -- "$@""#;

#[derive(Debug, Clone)]
pub struct Sandbox {
    hidden: Option<PathBuf>,
}

impl Sandbox {
    /// A sandbox hiding `hidden`, if this machine can make one; otherwise children run
    /// unconfined and a warning says so.
    pub async fn probe(hidden: &Path) -> Sandbox {
        // A marker the sandboxed probe must not see.
        let marker = hidden.join(".kiln-sandbox-probe");
        let _ = std::fs::write(&marker, b"visible outside the sandbox only");
        let mut probe = Sandbox::hiding(hidden).command("/bin/sh", &["-c", "test ! -e \"$0\"", &marker.to_string_lossy()]);
        probe.stdout(Stdio::null()).stderr(Stdio::null());
        let outcome = probe.status().await;
        let _ = std::fs::remove_file(&marker);
        match outcome {
            Ok(status) if status.success() => Sandbox::hiding(hidden),
            outcome => {
                tracing::warn!(?outcome, "user namespaces are not available (unshare failed): code on clusters runs without a sandbox and can read the data directory");
                Sandbox { hidden: None }
            }
        }
    }

    fn hiding(hidden: &Path) -> Sandbox {
        Sandbox { hidden: Some(hidden.to_path_buf()) }
    }

    /// No confinement; for tests that do not exercise it.
    pub fn none() -> Sandbox {
        Sandbox { hidden: None }
    }

    pub fn is_confined(&self) -> bool {
        self.hidden.is_some()
    }

    /// A command running `program args` in the sandbox, with a clean environment.
    pub fn command(&self, program: &str, args: &[&str]) -> tokio::process::Command {
        let mut command = match &self.hidden {
            Some(hidden) => {
                let mut command = tokio::process::Command::new("unshare");
                command
                    .args(["--user", "--map-root-user", "--mount", "--propagation", "private", "--pid", "--fork", "--kill-child", "--mount-proc", "--", "/bin/sh", "-c", ENTER, "kiln-sandbox"])
                    .arg(hidden)
                    .arg(program)
                    .args(args);
                command
            }
            None => {
                let mut command = tokio::process::Command::new(program);
                command.args(args);
                command
            }
        };
        command.env_clear();
        for name in KEPT_VARIABLES {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
        command
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn confined_code_cannot_read_the_hidden_directory_or_see_other_processes() {
        let hidden = std::env::temp_dir().join(format!("kiln-sandbox-test-{}", crate::ids::random_hex(4)));
        std::fs::create_dir_all(&hidden).expect("create");
        std::fs::write(hidden.join("signing.key"), "secret").expect("write");
        let sandbox = Sandbox::probe(&hidden).await;
        if !sandbox.is_confined() {
            // The machine has no user namespaces; the warning at start says so.
            return;
        }
        let script = "cat \"$0/signing.key\" 2>&1; umount \"$0\" 2>&1; cat \"$0/signing.key\" 2>&1; ls /proc | grep -c '^[0-9]'";
        let output = sandbox.command("/bin/sh", &["-c", script, &hidden.to_string_lossy()]).output().await.expect("run");
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(!text.contains("secret"), "{text}");
        let processes: Vec<&str> = text.lines().filter(|line| line.chars().all(|c| c.is_ascii_digit())).collect();
        assert!(processes.iter().all(|count| count.parse::<u32>().unwrap_or(99) <= 4), "only the sandbox's own processes are visible: {text}");
        std::fs::remove_dir_all(&hidden).expect("clean up");
    }
}

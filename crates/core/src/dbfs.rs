//! DBFS 2.0: `/api/2.0/dbfs`. The DBFS root is a directory on disk (`<data-dir>/dbfs`) with
//! the usual top-level folders. Paths are normalised (`dbfs:/a//b/` is `/a/b`) and any `.`,
//! `..` or percent-encoded dot segment is refused, so nothing leaves the root; symlinks are
//! never created and never followed out of it. As on Databricks, DBFS has no ACLs: every
//! workspace user may use it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::UNIX_EPOCH;

use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::clock::now_ms;
use crate::error::{Error, ErrorCode, Result};

/// Largest inline put, add-block and read, as on Databricks.
pub const MAX_BLOCK_BYTES: usize = 1024 * 1024;
/// Folders a fresh DBFS root has.
const ROOT_FOLDERS: &[&str] = &["FileStore", "tmp", "databricks-datasets", "user"];
/// An open streaming handle not written to for this long is dropped with its partial file.
const HANDLE_IDLE_MS: i64 = 10 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub path: String,
    pub is_dir: bool,
    pub file_size: u64,
    pub modification_time: i64,
}

#[derive(Debug)]
struct OpenHandle {
    path: String,
    temporary: PathBuf,
    file: tokio::fs::File,
    last_used_ms: i64,
}

#[derive(Debug, Clone)]
pub struct Dbfs {
    root: PathBuf,
    handles: Arc<Mutex<HashMap<i64, Arc<tokio::sync::Mutex<OpenHandle>>>>>,
}

fn not_found(path: &str) -> Error {
    Error::not_found(format!("No file or directory exists on path {path}."))
}

fn exists(path: &str) -> Error {
    Error::already_exists(format!("A file or directory already exists at the input path {path}."))
}

fn io_error(path: &str, error: std::io::Error) -> Error {
    match error.kind() {
        std::io::ErrorKind::NotFound => not_found(path),
        _ => Error::new(ErrorCode::Specific(400, "IO_ERROR"), format!("{path}: {error}")),
    }
}

/// `dbfs:/a//b/` → `/a/b`; refuses relative paths and dot segments, encoded or not.
pub fn normalise(path: &str) -> Result<String> {
    let bare = path.strip_prefix("dbfs:").unwrap_or(path);
    crate::paths::check_addressable("path", bare)?;
    if !bare.starts_with('/') {
        return Err(Error::invalid(format!("path '{path}' must be absolute, like /FileStore/data.csv or dbfs:/FileStore/data.csv")));
    }
    let mut segments = Vec::new();
    for segment in bare.split('/').filter(|s| !s.is_empty()) {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        if decoded == "." || decoded == ".." || segment.contains(['\0', '\\']) {
            return Err(Error::invalid(format!("path '{path}' may not contain '.', '..' (even percent-encoded), NUL or backslashes")));
        }
        segments.push(segment);
    }
    Ok(format!("/{}", segments.join("/")))
}

async fn info_of(path: &str, local: &Path) -> Result<FileInfo> {
    let metadata = tokio::fs::symlink_metadata(local).await.map_err(|e| io_error(path, e))?;
    if metadata.file_type().is_symlink() {
        return Err(not_found(path));
    }
    let modification_time = metadata.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_millis() as i64);
    Ok(FileInfo { path: path.to_string(), is_dir: metadata.is_dir(), file_size: if metadata.is_dir() { 0 } else { metadata.len() }, modification_time })
}

impl Dbfs {
    /// The DBFS rooted at `root`, created with its usual folders if missing.
    pub fn open(root: PathBuf) -> Result<Dbfs> {
        for folder in ROOT_FOLDERS {
            std::fs::create_dir_all(root.join(folder)).map_err(|e| Error::internal(format!("cannot create the DBFS root {}: {e}", root.display())))?;
        }
        Ok(Dbfs { root, handles: Arc::default() })
    }

    /// The normalised path and where it is on disk.
    fn locate(&self, path: &str) -> Result<(String, PathBuf)> {
        let normalised = normalise(path)?;
        let local = self.root.join(normalised.trim_start_matches('/'));
        Ok((normalised, local))
    }

    pub async fn get_status(&self, path: &str) -> Result<FileInfo> {
        let (path, local) = self.locate(path)?;
        info_of(&path, &local).await
    }

    /// A directory's entries by name, or the file itself when `path` is a file.
    pub async fn list(&self, path: &str) -> Result<Vec<FileInfo>> {
        let (path, local) = self.locate(path)?;
        let info = info_of(&path, &local).await?;
        if !info.is_dir {
            return Ok(vec![info]);
        }
        let mut reader = tokio::fs::read_dir(&local).await.map_err(|e| io_error(&path, e))?;
        let mut entries = Vec::new();
        while let Some(entry) = reader.next_entry().await.map_err(|e| io_error(&path, e))? {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with(".kiln-") {
                continue;
            }
            let child = if path == "/" { format!("/{name}") } else { format!("{path}/{name}") };
            if let Ok(info) = info_of(&child, &entry.path()).await {
                entries.push(info);
            }
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(entries)
    }

    pub async fn mkdirs(&self, path: &str) -> Result<()> {
        let (path, local) = self.locate(path)?;
        if info_of(&path, &local).await.is_ok_and(|info| !info.is_dir) {
            return Err(exists(&path));
        }
        tokio::fs::create_dir_all(&local).await.map_err(|e| io_error(&path, e))
    }

    /// Writes `contents` in one go (at most 1 MiB; larger files use a handle).
    pub async fn put(&self, path: &str, contents: &[u8], overwrite: bool) -> Result<()> {
        if contents.len() > MAX_BLOCK_BYTES {
            return Err(Error::new(ErrorCode::Specific(400, "MAX_BLOCK_SIZE_EXCEEDED"), format!("put carries at most {MAX_BLOCK_BYTES} bytes; use create, add-block and close for larger files")));
        }
        let handle = self.create(path, overwrite).await?;
        self.add_block(handle, contents).await?;
        self.close(handle).await
    }

    /// Opens a streaming handle; the file appears at `path` on close.
    pub async fn create(&self, path: &str, overwrite: bool) -> Result<i64> {
        let (path, local) = self.locate(path)?;
        match info_of(&path, &local).await {
            Ok(info) if info.is_dir || !overwrite => return Err(exists(&path)),
            _ => {}
        }
        let parent = local.parent().ok_or_else(|| Error::invalid("the DBFS root is not a file"))?;
        tokio::fs::create_dir_all(parent).await.map_err(|e| io_error(&path, e))?;
        let temporary = parent.join(format!(".kiln-upload-{}", uuid::Uuid::new_v4()));
        let file = tokio::fs::File::create(&temporary).await.map_err(|e| io_error(&path, e))?;
        self.drop_idle_handles().await;
        let open = Arc::new(tokio::sync::Mutex::new(OpenHandle { path, temporary, file, last_used_ms: now_ms() }));
        let mut handles = self.handles.lock().unwrap_or_else(|p| p.into_inner());
        let handle = loop {
            let candidate = i64::from(rand::random::<u32>());
            if !handles.contains_key(&candidate) {
                break candidate;
            }
        };
        handles.insert(handle, open);
        Ok(handle)
    }

    fn handle(&self, handle: i64) -> Result<Arc<tokio::sync::Mutex<OpenHandle>>> {
        self.handles.lock().unwrap_or_else(|p| p.into_inner()).get(&handle).cloned().ok_or_else(|| Error::not_found(format!("Handle {handle} does not exist (it was closed or expired).")))
    }

    pub async fn add_block(&self, handle: i64, data: &[u8]) -> Result<()> {
        if data.len() > MAX_BLOCK_BYTES {
            return Err(Error::new(ErrorCode::Specific(400, "MAX_BLOCK_SIZE_EXCEEDED"), format!("a block carries at most {MAX_BLOCK_BYTES} bytes")));
        }
        let open = self.handle(handle)?;
        let mut open = open.lock().await;
        let path = open.path.clone();
        open.file.write_all(data).await.map_err(|e| io_error(&path, e))?;
        open.last_used_ms = now_ms();
        Ok(())
    }

    /// Finishes the file: it replaces whatever was at the path, all at once.
    pub async fn close(&self, handle: i64) -> Result<()> {
        let open = self.handle(handle)?;
        self.handles.lock().unwrap_or_else(|p| p.into_inner()).remove(&handle);
        let mut open = open.lock().await;
        let path = open.path.clone();
        open.file.flush().await.map_err(|e| io_error(&path, e))?;
        open.file.sync_all().await.map_err(|e| io_error(&path, e))?;
        let (_, local) = self.locate(&path)?;
        tokio::fs::rename(&open.temporary, &local).await.map_err(|e| io_error(&path, e))
    }

    async fn drop_idle_handles(&self) {
        let now = now_ms();
        let handles: Vec<(i64, Arc<tokio::sync::Mutex<OpenHandle>>)> = self.handles.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|(k, v)| (*k, v.clone())).collect();
        for (id, open) in handles {
            let Ok(open) = open.try_lock() else { continue };
            if now - open.last_used_ms > HANDLE_IDLE_MS {
                self.handles.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
                let _ = tokio::fs::remove_file(&open.temporary).await;
            }
        }
    }

    /// Up to `length` bytes (at most 1 MiB) from `offset`.
    pub async fn read(&self, path: &str, offset: u64, length: usize) -> Result<Vec<u8>> {
        if length > MAX_BLOCK_BYTES {
            return Err(Error::new(ErrorCode::Specific(400, "MAX_READ_SIZE_EXCEEDED"), format!("read returns at most {MAX_BLOCK_BYTES} bytes at a time")));
        }
        let (path, local) = self.locate(path)?;
        if info_of(&path, &local).await?.is_dir {
            return Err(Error::invalid(format!("{path} is a directory")));
        }
        let mut file = tokio::fs::File::open(&local).await.map_err(|e| io_error(&path, e))?;
        file.seek(std::io::SeekFrom::Start(offset)).await.map_err(|e| io_error(&path, e))?;
        let mut data = Vec::with_capacity(length);
        file.take(length as u64).read_to_end(&mut data).await.map_err(|e| io_error(&path, e))?;
        Ok(data)
    }

    pub async fn delete(&self, path: &str, recursive: bool) -> Result<()> {
        let (path, local) = self.locate(path)?;
        if path == "/" {
            return Err(Error::invalid("the DBFS root cannot be deleted"));
        }
        let info = match info_of(&path, &local).await {
            Ok(info) => info,
            // Deleting what is not there succeeds, as on Databricks.
            Err(error) if error.code.status() == 404 => return Ok(()),
            Err(error) => return Err(error),
        };
        if !info.is_dir {
            return tokio::fs::remove_file(&local).await.map_err(|e| io_error(&path, e));
        }
        if recursive {
            return tokio::fs::remove_dir_all(&local).await.map_err(|e| io_error(&path, e));
        }
        tokio::fs::remove_dir(&local).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::DirectoryNotEmpty => Error::new(ErrorCode::Specific(400, "IO_ERROR"), format!("{path} is a non-empty directory: pass recursive=true to delete it")),
            _ => io_error(&path, e),
        })
    }

    pub async fn move_path(&self, source: &str, destination: &str) -> Result<()> {
        let named = |field: &str, error: Error| Error { message: format!("{field}: {}", error.message), ..error };
        let (source, from) = self.locate(source).map_err(|e| named("source_path", e))?;
        let (destination, to) = self.locate(destination).map_err(|e| named("destination_path", e))?;
        info_of(&source, &from).await?;
        if info_of(&destination, &to).await.is_ok() {
            return Err(exists(&destination));
        }
        if to.starts_with(&from) {
            return Err(Error::invalid(format!("cannot move {source} into itself")));
        }
        let parent = to.parent().ok_or_else(|| Error::invalid("cannot move to the DBFS root"))?;
        tokio::fs::create_dir_all(parent).await.map_err(|e| io_error(&destination, e))?;
        tokio::fs::rename(&from, &to).await.map_err(|e| io_error(&source, e))
    }
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn paths_are_normalised_and_never_leave_the_root() {
        assert_eq!(normalise("dbfs:/FileStore//a/b/").unwrap(), "/FileStore/a/b");
        assert_eq!(normalise("/").unwrap(), "/");
        for bad in ["FileStore/a", "/a/../../etc", "/a/./b", "/a/%2e%2e/b", "/a/%2E%2e", "dbfs:a"] {
            assert!(normalise(bad).is_err(), "{bad}");
        }
    }
}

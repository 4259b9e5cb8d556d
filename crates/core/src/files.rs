//! The Files API over volumes: `/api/2.0/fs/files` and `/api/2.0/fs/directories`. Reading
//! needs READ VOLUME, writing WRITE VOLUME (with USE CATALOG / USE SCHEMA on the way).
//! Uploads stream into a temporary file beside the target and are renamed into place, so
//! memory stays flat whatever the size and no reader ever sees half a file.

use std::path::Path;
use std::time::UNIX_EPOCH;

use futures::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use crate::authz::Privilege;
use crate::error::{Error, ErrorCode, Result};
use crate::principal::Caller;
use crate::uc::UnityCatalog;
use crate::uc::volume_paths::VolumePath;

/// Size and modification time of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMeta {
    pub size: u64,
    pub modified_ms: i64,
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    /// The full `/Volumes/...` path.
    pub path: String,
    pub name: String,
    pub is_directory: bool,
    pub file_size: Option<u64>,
    pub last_modified_ms: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Files {
    uc: UnityCatalog,
}

fn not_found(path: &str) -> Error {
    Error::new(ErrorCode::Specific(404, "NOT_FOUND"), format!("The file or directory '{path}' does not exist."))
}

fn io_error(path: &str, error: std::io::Error) -> Error {
    match error.kind() {
        std::io::ErrorKind::NotFound => not_found(path),
        std::io::ErrorKind::NotADirectory | std::io::ErrorKind::AlreadyExists => Error::invalid(format!("'{path}': a file stands where a directory is expected")),
        _ => Error::internal(format!("'{path}': {error}")),
    }
}

fn meta_of(metadata: &std::fs::Metadata) -> FileMeta {
    let modified_ms = metadata.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_millis() as i64);
    FileMeta { size: metadata.len(), modified_ms }
}

impl Files {
    pub fn new(uc: UnityCatalog) -> Files {
        Files { uc }
    }

    async fn resolve(&self, caller: &Caller, action: &str, path: &str, privilege: Privilege) -> Result<VolumePath> {
        self.uc.volume_path(caller, action, path, privilege).await
    }

    /// `HEAD /fs/files{path}`: a file's size and modification time.
    pub async fn file_metadata(&self, caller: &Caller, path: &str) -> Result<FileMeta> {
        let file = self.resolve(caller, "files.get_metadata", path, Privilege::ReadVolume).await?;
        file_meta(&file).await
    }

    /// `GET /fs/files{path}`: the open file and its metadata, for the caller to stream.
    pub async fn open(&self, caller: &Caller, path: &str) -> Result<(tokio::fs::File, FileMeta)> {
        let file = self.resolve(caller, "files.download", path, Privilege::ReadVolume).await?;
        let meta = file_meta(&file).await?;
        let handle = tokio::fs::File::open(&file.local).await.map_err(|e| io_error(&file.path, e))?;
        Ok((handle, meta))
    }

    /// Whether `upload` of `path` would be allowed: WRITE VOLUME, a file path, and no
    /// existing file unless `overwrite`.
    pub async fn check_upload(&self, caller: &Caller, path: &str, overwrite: bool) -> Result<()> {
        let file = self.resolve(caller, "files.upload", path, Privilege::WriteVolume).await?;
        upload_target_ok(&file, overwrite).await
    }

    /// `PUT /fs/files{path}`: writes `body` to the file, creating missing parent directories.
    /// With `overwrite` false an existing file is ALREADY_EXISTS.
    pub async fn upload<S, B, E>(&self, caller: &Caller, path: &str, overwrite: bool, body: S) -> Result<()>
    where
        S: Stream<Item = std::result::Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        let file = self.resolve(caller, "files.upload", path, Privilege::WriteVolume).await?;
        upload_target_ok(&file, overwrite).await?;
        let parent = file.local.parent().ok_or_else(|| Error::internal("a volume file has no parent directory"))?;
        tokio::fs::create_dir_all(parent).await.map_err(|e| io_error(&file.path, e))?;
        let temporary = parent.join(format!(".kiln-upload-{}", uuid::Uuid::new_v4()));
        let written = write_stream(&temporary, body).await;
        let renamed = match written {
            Ok(()) => tokio::fs::rename(&temporary, &file.local).await.map_err(|e| io_error(&file.path, e)),
            Err(error) => Err(error),
        };
        if renamed.is_err() {
            let _ = tokio::fs::remove_file(&temporary).await;
        }
        renamed
    }

    pub async fn delete_file(&self, caller: &Caller, path: &str) -> Result<()> {
        let file = self.resolve(caller, "files.delete", path, Privilege::WriteVolume).await?;
        file_meta(&file).await?;
        tokio::fs::remove_file(&file.local).await.map_err(|e| io_error(&file.path, e))
    }

    /// `PUT /fs/directories{path}`: creates the directory and any missing parents.
    pub async fn create_directory(&self, caller: &Caller, path: &str) -> Result<()> {
        let directory = self.resolve(caller, "files.create_directory", path, Privilege::WriteVolume).await?;
        if tokio::fs::metadata(&directory.local).await.is_ok_and(|m| m.is_file()) {
            return Err(Error::new(ErrorCode::Specific(409, "ALREADY_EXISTS"), format!("'{}' is a file", directory.path)));
        }
        tokio::fs::create_dir_all(&directory.local).await.map_err(|e| io_error(&directory.path, e))
    }

    /// `HEAD /fs/directories{path}`: whether the directory exists (NOT_FOUND otherwise).
    pub async fn directory_metadata(&self, caller: &Caller, path: &str) -> Result<()> {
        let directory = self.resolve(caller, "files.get_directory_metadata", path, Privilege::ReadVolume).await?;
        directory_exists(&directory).await
    }

    /// `GET /fs/directories{path}`: the entries, directories and files, sorted by name.
    pub async fn list_directory(&self, caller: &Caller, path: &str) -> Result<Vec<DirectoryEntry>> {
        let directory = self.resolve(caller, "files.list_directory_contents", path, Privilege::ReadVolume).await?;
        directory_exists(&directory).await?;
        let mut reader = tokio::fs::read_dir(&directory.local).await.map_err(|e| io_error(&directory.path, e))?;
        let mut entries = Vec::new();
        while let Some(entry) = reader.next_entry().await.map_err(|e| io_error(&directory.path, e))? {
            let name = entry.file_name().to_string_lossy().to_string();
            // Uploads in flight are not files yet.
            if name.starts_with(".kiln-upload-") {
                continue;
            }
            let Ok(metadata) = entry.metadata().await else { continue };
            let meta = meta_of(&metadata);
            let is_directory = metadata.is_dir();
            entries.push(DirectoryEntry {
                path: format!("{}/{name}", directory.path),
                name,
                is_directory,
                file_size: (!is_directory).then_some(meta.size),
                last_modified_ms: (!is_directory).then_some(meta.modified_ms),
            });
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(entries)
    }

    /// `DELETE /fs/directories{path}`: only an empty directory, and never the volume itself.
    pub async fn delete_directory(&self, caller: &Caller, path: &str) -> Result<()> {
        let directory = self.resolve(caller, "files.delete_directory", path, Privilege::WriteVolume).await?;
        if directory.is_root() {
            return Err(Error::invalid(format!("'{}' is the volume's root: drop the volume to remove it", directory.path)));
        }
        directory_exists(&directory).await?;
        tokio::fs::remove_dir(&directory.local).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::DirectoryNotEmpty => Error::new(ErrorCode::Specific(400, "DIRECTORY_NOT_EMPTY"), format!("The directory '{}' is not empty.", directory.path)),
            _ => io_error(&directory.path, e),
        })
    }
}

async fn upload_target_ok(file: &VolumePath, overwrite: bool) -> Result<()> {
    if file.is_root() {
        return Err(Error::invalid(format!("'{}' is a volume, not a file path inside it", file.path)));
    }
    match tokio::fs::metadata(&file.local).await {
        Ok(metadata) if metadata.is_dir() => Err(Error::invalid(format!("'{}' is a directory", file.path))),
        Ok(_) if !overwrite => Err(Error::new(ErrorCode::Specific(409, "ALREADY_EXISTS"), format!("The file '{}' already exists; pass overwrite=true to replace it.", file.path))),
        _ => Ok(()),
    }
}

async fn file_meta(file: &VolumePath) -> Result<FileMeta> {
    let metadata = tokio::fs::metadata(&file.local).await.map_err(|e| io_error(&file.path, e))?;
    if !metadata.is_file() {
        return Err(not_found(&file.path));
    }
    Ok(meta_of(&metadata))
}

async fn directory_exists(directory: &VolumePath) -> Result<()> {
    match tokio::fs::metadata(&directory.local).await {
        Ok(metadata) if metadata.is_dir() => Ok(()),
        _ => Err(not_found(&directory.path)),
    }
}

async fn write_stream<S, B, E>(target: &Path, mut body: S) -> Result<()>
where
    S: Stream<Item = std::result::Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    let mut file = tokio::fs::File::create(target).await.map_err(|e| Error::internal(format!("cannot create an upload file: {e}")))?;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| Error::invalid(format!("the upload was interrupted: {e}")))?;
        file.write_all(chunk.as_ref()).await.map_err(|e| Error::internal(format!("writing the upload: {e}")))?;
    }
    file.flush().await.map_err(|e| Error::internal(format!("writing the upload: {e}")))?;
    file.sync_all().await.map_err(|e| Error::internal(format!("writing the upload: {e}")))?;
    Ok(())
}

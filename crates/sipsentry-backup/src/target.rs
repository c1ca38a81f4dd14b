//! Where backups are stored: a local directory or S3-compatible object storage with Object Lock.

use crate::manifest::LockInfo;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("object {name} not found on {target}")]
    NotFound { target: String, name: String },
    #[error("I/O on {target} ({name}): {source}")]
    Io {
        target: String,
        name: String,
        source: std::io::Error,
    },
    #[error("object {name} is locked until {until}: the target refused to delete or overwrite it")]
    Locked { name: String, until: String },
    #[error("S3 {op} {name}: HTTP {status} {code}: {message}")]
    S3 {
        op: &'static str,
        name: String,
        status: u16,
        code: String,
        message: String,
    },
    #[error("S3 {op} {name}: {reason}")]
    Transport {
        op: &'static str,
        name: String,
        reason: String,
    },
    #[error("invalid object name {0:?}")]
    BadName(String),
    #[error("{0}")]
    Config(String),
}

/// An object as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub name: String,
    pub size: u64,
}

/// Lock state of a stored object, as the target reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockState {
    pub mode: String,
    pub retain_until_unix: i64,
}

/// Storage for backup objects.
///
/// Object names are flat (`ID.tar.age`, `ID.manifest.json`, `ID.manifest.sig`); a target may put
/// them under its own prefix.
pub trait Target {
    /// Human-readable location (no credentials).
    fn describe(&self) -> String;
    /// A directory for staging the archive before [`Target::put_file`]; for a local directory
    /// target it is on the same filesystem, so the final step is a rename.
    fn staging_dir(&self) -> Option<PathBuf> {
        None
    }
    /// Stores `staged` (a complete file of `len` bytes with SHA-256 `sha256`) as `name`, under
    /// `lock` if given. Returns the object version if the target versions objects. The staged
    /// file is consumed (renamed or deleted).
    fn put_file(
        &self,
        name: &str,
        staged: &Path,
        len: u64,
        sha256: &[u8; 32],
        lock: Option<&LockInfo>,
    ) -> Result<Option<String>, TargetError>;
    /// Stores a small object from memory.
    fn put_bytes(
        &self,
        name: &str,
        data: &[u8],
        lock: Option<&LockInfo>,
    ) -> Result<Option<String>, TargetError>;
    /// Streams an object (a specific version when given and supported).
    fn get(&self, name: &str, version: Option<&str>) -> Result<Box<dyn Read + Send>, TargetError>;
    fn list(&self) -> Result<Vec<ObjectInfo>, TargetError>;
    /// Lock state reported by the storage itself (None when the object is not locked or the
    /// target has no locks).
    fn lock_state(&self, name: &str) -> Result<Option<LockState>, TargetError>;
    /// Deletes an object (every version on a versioned bucket). Locked objects are refused by
    /// the storage; that refusal comes back as an error.
    fn delete(&self, name: &str) -> Result<(), TargetError>;
}

/// Reads a whole small object with a cap.
pub fn get_capped(
    t: &dyn Target,
    name: &str,
    version: Option<&str>,
    cap: u64,
) -> Result<Vec<u8>, TargetError> {
    let r = t.get(name, version)?;
    let mut buf = Vec::new();
    r.take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(|source| TargetError::Io {
            target: t.describe(),
            name: name.into(),
            source,
        })?;
    if buf.len() as u64 > cap {
        return Err(TargetError::Io {
            target: t.describe(),
            name: name.into(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("object larger than the {cap}-byte cap"),
            ),
        });
    }
    Ok(buf)
}

fn check_name(name: &str) -> Result<(), TargetError> {
    if name.is_empty()
        || name.starts_with('.')
        || name.contains('/')
        || name.contains('\\')
        || name.len() > 200
    {
        return Err(TargetError::BadName(name.into()));
    }
    Ok(())
}

/// A local directory (e.g. a mounted offsite disk). It has no object lock; a lock requested at
/// create time is recorded in the manifest and honoured by `prune`, and the files are made
/// read-only, but root can still delete them — use S3 Object Lock for immutability.
pub struct LocalDir {
    dir: PathBuf,
}

impl LocalDir {
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, TargetError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|source| TargetError::Io {
            target: dir.display().to_string(),
            name: String::new(),
            source,
        })?;
        Ok(Self { dir })
    }
    fn io(&self, name: &str, source: std::io::Error) -> TargetError {
        if source.kind() == std::io::ErrorKind::NotFound {
            TargetError::NotFound {
                target: self.describe(),
                name: name.into(),
            }
        } else {
            TargetError::Io {
                target: self.describe(),
                name: name.into(),
                source,
            }
        }
    }
    fn make_readonly(&self, path: &Path) {
        if let Ok(meta) = std::fs::metadata(path) {
            let mut p = meta.permissions();
            p.set_readonly(true);
            let _ = std::fs::set_permissions(path, p);
        }
    }
}

impl Target for LocalDir {
    fn describe(&self) -> String {
        format!("dir:{}", self.dir.display())
    }
    fn staging_dir(&self) -> Option<PathBuf> {
        Some(self.dir.clone())
    }
    fn put_file(
        &self,
        name: &str,
        staged: &Path,
        _len: u64,
        _sha256: &[u8; 32],
        _lock: Option<&LockInfo>,
    ) -> Result<Option<String>, TargetError> {
        check_name(name)?;
        let dst = self.dir.join(name);
        if dst.exists() {
            return Err(self.io(
                name,
                std::io::Error::new(std::io::ErrorKind::AlreadyExists, "refusing to overwrite"),
            ));
        }
        std::fs::rename(staged, &dst)
            .or_else(|_| {
                std::fs::copy(staged, &dst)
                    .map(|_| ())
                    .and_then(|_| std::fs::remove_file(staged))
            })
            .map_err(|e| self.io(name, e))?;
        self.make_readonly(&dst);
        Ok(None)
    }
    fn put_bytes(
        &self,
        name: &str,
        data: &[u8],
        _lock: Option<&LockInfo>,
    ) -> Result<Option<String>, TargetError> {
        check_name(name)?;
        let dst = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.partial"));
        std::fs::write(&tmp, data).map_err(|e| self.io(name, e))?;
        if dst.exists() {
            let _ = std::fs::remove_file(&tmp);
            return Err(self.io(
                name,
                std::io::Error::new(std::io::ErrorKind::AlreadyExists, "refusing to overwrite"),
            ));
        }
        std::fs::rename(&tmp, &dst).map_err(|e| self.io(name, e))?;
        self.make_readonly(&dst);
        Ok(None)
    }
    fn get(&self, name: &str, _version: Option<&str>) -> Result<Box<dyn Read + Send>, TargetError> {
        check_name(name)?;
        let f = std::fs::File::open(self.dir.join(name)).map_err(|e| self.io(name, e))?;
        Ok(Box::new(f))
    }
    fn list(&self) -> Result<Vec<ObjectInfo>, TargetError> {
        let rd = std::fs::read_dir(&self.dir).map_err(|e| self.io("", e))?;
        let mut out = Vec::new();
        for e in rd {
            let e = e.map_err(|e| self.io("", e))?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let meta = e.metadata().map_err(|er| self.io(&name, er))?;
            if meta.is_file() {
                out.push(ObjectInfo {
                    name,
                    size: meta.len(),
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
    fn lock_state(&self, _name: &str) -> Result<Option<LockState>, TargetError> {
        Ok(None)
    }
    fn delete(&self, name: &str) -> Result<(), TargetError> {
        check_name(name)?;
        std::fs::remove_file(self.dir.join(name)).map_err(|e| self.io(name, e))
    }
}

//! SFTP target through the system OpenSSH `sftp` client in batch mode.
//!
//! Why the client and not a Rust SSH stack: host-key checking, `~/.ssh/config`, agents, jump
//! hosts and hardware keys then work exactly as the administrator configured them, and no SSH
//! implementation is added to the binary. Authentication is key-based only (`BatchMode=yes`:
//! never a password prompt); the key is a file (`--sftp-identity`) or the agent.
//!
//! SFTP has no object lock: like a directory target, a requested retention is recorded in the
//! manifest and honoured by `prune`. Objects are uploaded under a temporary name and renamed.

use crate::manifest::LockInfo;
use crate::target::{LockState, ObjectInfo, Target, TargetError};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `sftp://[user@]host[:port]/path` plus client options.
pub struct SftpTarget {
    destination: String,
    port: Option<u16>,
    dir: String,
    identity: Option<PathBuf>,
    options: Vec<String>,
}

fn bad(s: &str) -> bool {
    s.contains(['"', '\n', '\r', '\\'])
}

impl SftpTarget {
    pub fn new(
        url: &str,
        identity: Option<PathBuf>,
        options: Vec<String>,
    ) -> Result<Self, TargetError> {
        let rest = url
            .strip_prefix("sftp://")
            .ok_or_else(|| TargetError::Config(format!("not an sftp:// URL: {url}")))?;
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userhost, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (
                h.to_string(),
                Some(
                    p.parse::<u16>()
                        .map_err(|_| TargetError::Config(format!("bad port in {url}")))?,
                ),
            ),
            _ => (authority.to_string(), None),
        };
        if userhost.is_empty() || userhost.starts_with('-') || bad(&userhost) || bad(path) {
            return Err(TargetError::Config(format!("invalid sftp target {url}")));
        }
        let dir = if path.is_empty() {
            ".".to_string()
        } else {
            format!("/{}", path.trim_end_matches('/'))
        };
        Ok(Self {
            destination: userhost,
            port,
            dir,
            identity,
            options,
        })
    }

    fn remote(&self, name: &str) -> String {
        format!("{}/{name}", self.dir)
    }

    /// Runs one batch; a line starting with `-` may fail without aborting the batch.
    fn run(&self, op: &'static str, name: &str, batch: &str) -> Result<String, TargetError> {
        let tmp = tempfile::NamedTempFile::new().map_err(|e| self.io(name, e))?;
        std::fs::write(tmp.path(), batch).map_err(|e| self.io(name, e))?;
        let mut c = Command::new("sftp");
        c.arg("-q").arg("-b").arg(tmp.path());
        c.args(["-o", "BatchMode=yes", "-o", "LogLevel=ERROR"]);
        if let Some(p) = self.port {
            c.arg("-P").arg(p.to_string());
        }
        if let Some(i) = &self.identity {
            c.arg("-i").arg(i).args(["-o", "IdentitiesOnly=yes"]);
        }
        for o in &self.options {
            c.arg("-o").arg(o);
        }
        c.arg("--").arg(&self.destination);
        let out = c.output().map_err(|e| TargetError::Transport {
            op,
            name: name.into(),
            reason: format!("cannot run sftp ({e}); install the Debian package openssh-client"),
        })?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let err = err.trim();
            if err.contains("not found") || err.contains("No such file") {
                return Err(TargetError::NotFound {
                    target: self.describe(),
                    name: name.into(),
                });
            }
            return Err(TargetError::Transport {
                op,
                name: name.into(),
                reason: err.chars().take(400).collect(),
            });
        }
        Ok(stdout)
    }

    fn io(&self, name: &str, source: std::io::Error) -> TargetError {
        TargetError::Io {
            target: self.describe(),
            name: name.into(),
            source,
        }
    }

    fn check(name: &str) -> Result<(), TargetError> {
        if name.is_empty() || name.starts_with('.') || name.contains('/') || bad(name) {
            return Err(TargetError::BadName(name.into()));
        }
        Ok(())
    }

    fn upload(&self, name: &str, local: &Path) -> Result<(), TargetError> {
        Self::check(name)?;
        let local_s = local.to_string_lossy();
        if bad(&local_s) {
            return Err(TargetError::Config(format!(
                "unusable staging path {local_s}"
            )));
        }
        let partial = self.remote(&format!(".{name}.partial"));
        let batch = format!(
            "-mkdir \"{}\"\nput \"{local_s}\" \"{partial}\"\nrename \"{partial}\" \"{}\"\n",
            self.dir,
            self.remote(name)
        );
        self.run("put", name, &batch).map(|_| ())
    }
}

impl Target for SftpTarget {
    fn describe(&self) -> String {
        match self.port {
            Some(p) => format!("sftp://{}:{p}{}", self.destination, self.dir),
            None => format!("sftp://{}{}", self.destination, self.dir),
        }
    }

    fn put_file(
        &self,
        name: &str,
        staged: &Path,
        _len: u64,
        _sha256: &[u8; 32],
        _lock: Option<&LockInfo>,
    ) -> Result<Option<String>, TargetError> {
        self.upload(name, staged)?;
        let _ = std::fs::remove_file(staged);
        Ok(None)
    }

    fn put_bytes(
        &self,
        name: &str,
        data: &[u8],
        _lock: Option<&LockInfo>,
    ) -> Result<Option<String>, TargetError> {
        let tmp = tempfile::NamedTempFile::new().map_err(|e| self.io(name, e))?;
        std::fs::write(tmp.path(), data).map_err(|e| self.io(name, e))?;
        self.upload(name, tmp.path())?;
        Ok(None)
    }

    /// Downloads into an unlinked temporary file (disk, not memory) and streams from it.
    fn get(&self, name: &str, _version: Option<&str>) -> Result<Box<dyn Read + Send>, TargetError> {
        Self::check(name)?;
        let tmp = tempfile::NamedTempFile::new().map_err(|e| self.io(name, e))?;
        let local = tmp.path().to_string_lossy().into_owned();
        if bad(&local) {
            return Err(TargetError::Config(format!("unusable temp path {local}")));
        }
        self.run(
            "get",
            name,
            &format!("get \"{}\" \"{local}\"\n", self.remote(name)),
        )?;
        let f = tmp.reopen().map_err(|e| self.io(name, e))?;
        drop(tmp);
        Ok(Box::new(f))
    }

    fn list(&self) -> Result<Vec<ObjectInfo>, TargetError> {
        let out = match self.run("ls", "", &format!("ls -1 \"{}\"\n", self.dir)) {
            Ok(o) => o,
            Err(TargetError::NotFound { .. }) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut v: Vec<ObjectInfo> = out
            .lines()
            .filter(|l| !l.starts_with("sftp>"))
            .filter_map(|l| {
                let name = l.trim().rsplit('/').next()?.to_string();
                (!name.is_empty() && !name.starts_with('.')).then_some(ObjectInfo { name, size: 0 })
            })
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(v)
    }

    fn lock_state(&self, _name: &str) -> Result<Option<LockState>, TargetError> {
        Ok(None)
    }

    fn delete(&self, name: &str) -> Result<(), TargetError> {
        Self::check(name)?;
        self.run("rm", name, &format!("rm \"{}\"\n", self.remote(name)))
            .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = SftpTarget::new("sftp://backup@10.0.0.5:2222/srv/pbx", None, vec![]).unwrap();
        assert_eq!(t.describe(), "sftp://backup@10.0.0.5:2222/srv/pbx");
        let t = SftpTarget::new("sftp://host", None, vec![]).unwrap();
        assert_eq!(t.remote("x"), "./x");
        assert!(SftpTarget::new("sftp://-oProxyCommand=x/y", None, vec![]).is_err());
        assert!(SftpTarget::new("sftp://h/a\"b", None, vec![]).is_err());
        assert!(SftpTarget::new("sftp://h:notaport/a", None, vec![]).is_err());
        assert!(SftpTarget::new("s3://h/a", None, vec![]).is_err());
    }
}

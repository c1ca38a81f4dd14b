//! Creating and verifying backups: tar → age → target, streamed end to end.

use crate::keys::{Decryption, Encryption, SigningKey, VerifyKey};
use crate::manifest::{
    self, ArchiveInfo, ContentKind, Entry, EntryType, LockInfo, Manifest, SignatureFile, SourceInfo,
};
use crate::target::{get_capped, Target, TargetError};
use crate::util::{HashReader, HashWriter, SharedHashReader, ThreadedReader, ThreadedWriter};
use std::collections::{HashMap, HashSet};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};

/// Hard cap on entries in one backup (manifest size stays bounded).
pub const MAX_ENTRIES: usize = 1_000_000;
/// I/O buffer for the archive stream: big enough for throughput, small enough to stay flat.
const BUF: usize = 256 << 10;

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("invalid backup name {0:?}: use 1-64 of A-Z a-z 0-9 . _ -")]
    BadName(String),
    #[error("no source given")]
    NoSources,
    #[error("source {path}: {source}")]
    Source { path: PathBuf, source: io::Error },
    #[error("source {path} changed size while it was being read (expected {expected} bytes, read {read}); rerun the backup")]
    SourceChanged {
        path: PathBuf,
        expected: u64,
        read: u64,
    },
    #[error("SQLite online backup of {path} failed: {reason}")]
    Sqlite { path: PathBuf, reason: String },
    #[error("more than {MAX_ENTRIES} entries: split the backup")]
    TooManyEntries,
    #[error("age encryption setup failed: {0}")]
    Encrypt(String),
    #[error("writing the staged archive {path}: {source}")]
    Staging { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Target(#[from] TargetError),
}

/// What went wrong in verification; each variant names the failed check.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("manifest {object} not found on the target")]
    ManifestMissing { object: String },
    #[error("signature object {object} not found: the manifest is unsigned")]
    SignatureMissing { object: String },
    #[error("signature object {object} is malformed")]
    SignatureMalformed { object: String },
    #[error("manifest signature invalid: {object} was modified after signing (or signed by another key)")]
    SignatureInvalid { object: String },
    #[error("manifest signed by {signer}, which is not the trusted key {trusted}")]
    UntrustedSigner { signer: String, trusted: String },
    #[error("manifest is signed but malformed: {reason}")]
    ManifestMalformed { reason: String },
    #[error("manifest belongs to backup {found}, not {expected}: manifests were swapped")]
    ManifestIdMismatch { expected: String, found: String },
    #[error(
        "manifest names archive {named}, expected {expected}: archives or manifests were swapped"
    )]
    ArchiveNameMismatch { expected: String, named: String },
    #[error("archive {object} not found on the target")]
    ArchiveMissing { object: String },
    #[error("archive {object} ciphertext SHA-256 mismatch (expected {expected}, got {actual}, {size} bytes): the archive was modified, truncated or swapped")]
    CiphertextHashMismatch {
        object: String,
        expected: String,
        actual: String,
        size: u64,
    },
    #[error("archive decryption failed: {reason}")]
    Decrypt { reason: String },
    #[error("archive plaintext SHA-256 mismatch (expected {expected}, got {actual})")]
    PlaintextHashMismatch { expected: String, actual: String },
    #[error("archive entry {path}: {what}")]
    EntryMismatch { path: String, what: String },
    #[error("archive entry {path} is listed in the manifest but missing from the archive")]
    EntryMissing { path: String },
    #[error("archive holds {path}, which the manifest does not list")]
    UnexpectedEntry { path: String },
    #[error("archive tar stream is corrupt: {reason}")]
    Tar { reason: String },
    #[error("restoring {path}: {source}")]
    Extract { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Target(#[from] TargetError),
}

impl VerifyError {
    /// Stable short name of the failed check (used in alerts and JSON output).
    pub fn check(&self) -> &'static str {
        match self {
            VerifyError::ManifestMissing { .. } => "manifest-missing",
            VerifyError::SignatureMissing { .. } => "signature-missing",
            VerifyError::SignatureMalformed { .. } => "signature-malformed",
            VerifyError::SignatureInvalid { .. } => "manifest-signature",
            VerifyError::UntrustedSigner { .. } => "untrusted-signer",
            VerifyError::ManifestMalformed { .. } => "manifest-malformed",
            VerifyError::ManifestIdMismatch { .. } => "manifest-swapped",
            VerifyError::ArchiveNameMismatch { .. } => "archive-name",
            VerifyError::ArchiveMissing { .. } => "archive-missing",
            VerifyError::CiphertextHashMismatch { .. } => "ciphertext-sha256",
            VerifyError::Decrypt { .. } => "decrypt",
            VerifyError::PlaintextHashMismatch { .. } => "plaintext-sha256",
            VerifyError::EntryMismatch { .. } => "entry",
            VerifyError::EntryMissing { .. } => "entry-missing",
            VerifyError::UnexpectedEntry { .. } => "entry-unexpected",
            VerifyError::Tar { .. } => "tar",
            VerifyError::Extract { .. } => "extract",
            VerifyError::Target(_) => "target",
        }
    }
}

/// Inputs of [`create`].
pub struct CreateOptions<'a> {
    pub name: &'a str,
    pub sources: &'a [PathBuf],
    pub encryption: &'a Encryption,
    pub signer: &'a SigningKey,
    pub lock: Option<LockInfo>,
    /// Where to stage the archive when the target has no staging directory of its own (S3).
    pub staging_dir: Option<PathBuf>,
    /// Creation time override (tests); `None` = now.
    pub now: Option<i64>,
}

/// Removes a staged file unless it was handed to the target.
struct StagedFile(Option<PathBuf>);
impl Drop for StagedFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

struct Collector {
    entries: Vec<Entry>,
    scratch: tempfile::TempDir,
    /// (device, inode) of our own staging file and scratch dir: a source tree that contains the
    /// target directory must not archive the archive being written.
    own: Vec<(u64, u64)>,
}

#[cfg(unix)]
fn file_id(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}
#[cfg(not(unix))]
fn file_id(_m: &std::fs::Metadata) -> (u64, u64) {
    (u64::MAX, u64::MAX)
}

fn src_err(path: &Path) -> impl FnOnce(io::Error) -> CreateError + '_ {
    move |source| CreateError::Source {
        path: path.into(),
        source,
    }
}

fn is_sqlite(path: &Path) -> bool {
    let mut head = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && ContentKind::sniff(&head) == ContentKind::Sqlite
}

/// SQLite side files that the online backup already folds in.
fn is_sqlite_side_file(path: &Path) -> bool {
    let s = path.to_string_lossy();
    ["-wal", "-shm", "-journal"].iter().any(|suf| {
        s.strip_suffix(suf)
            .is_some_and(|main| is_sqlite(Path::new(main)))
    })
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}
#[cfg(not(unix))]
fn mode_of(_meta: &std::fs::Metadata) -> u32 {
    0o644
}

fn mtime_of(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Collector {
    fn push(&mut self, e: Entry) -> Result<(), CreateError> {
        if self.entries.len() >= MAX_ENTRIES {
            return Err(CreateError::TooManyEntries);
        }
        self.entries.push(e);
        Ok(())
    }

    /// Appends one regular file (or an SQLite snapshot of it) to the tar stream.
    fn add_file<W: Write>(
        &mut self,
        tar: &mut tar::Builder<W>,
        path: &Path,
        arc: &str,
        meta: &std::fs::Metadata,
    ) -> Result<(), CreateError> {
        let snapshot;
        let (read_path, meta) = if is_sqlite(path) {
            snapshot = self.sqlite_snapshot(path)?;
            let m = std::fs::metadata(&snapshot).map_err(src_err(path))?;
            (snapshot.as_path(), m)
        } else {
            (path, meta.clone())
        };
        let size = meta.len();
        let mut f = std::fs::File::open(read_path).map_err(src_err(path))?;
        let mut head = [0u8; 16];
        let n = read_up_to(&mut f, &mut head).map_err(src_err(path))?;
        let content = ContentKind::sniff(&head[..n]);
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(size);
        h.set_mode(mode_of(&meta));
        h.set_mtime(mtime_of(&meta).max(0) as u64);
        let mut rd = HashReader::new((&head[..n]).chain(f).take(size));
        tar.append_data(&mut h, arc, &mut rd)
            .map_err(src_err(path))?;
        let (sha, read) = rd.finish();
        if read != size {
            return Err(CreateError::SourceChanged {
                path: path.into(),
                expected: size,
                read,
            });
        }
        if read_path != path {
            let _ = std::fs::remove_file(read_path);
        }
        self.push(Entry {
            path: arc.into(),
            kind: EntryType::File,
            size,
            sha256: Some(hex::encode(sha)),
            mode: mode_of(&meta),
            mtime: mtime_of(&meta),
            content: Some(content),
            link_target: None,
        })
    }

    /// A consistent copy through SQLite's online backup API: safe while the database is being
    /// written, unlike copying the file (which can tear pages and miss the WAL).
    fn sqlite_snapshot(&self, path: &Path) -> Result<PathBuf, CreateError> {
        let err = |e: rusqlite::Error| CreateError::Sqlite {
            path: path.into(),
            reason: e.to_string(),
        };
        let src = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        let dst = self
            .scratch
            .path()
            .join(format!("snap-{}.sqlite", self.entries.len()));
        src.backup(rusqlite::DatabaseName::Main, &dst, None)
            .map_err(err)?;
        Ok(dst)
    }

    fn add_tree<W: Write>(
        &mut self,
        tar: &mut tar::Builder<W>,
        root: &Path,
        arc_root: &str,
    ) -> Result<(), CreateError> {
        let mut stack = vec![(root.to_path_buf(), arc_root.to_string())];
        while let Some((dir, arc)) = stack.pop() {
            let meta = std::fs::metadata(&dir).map_err(src_err(&dir))?;
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Directory);
            h.set_size(0);
            h.set_mode(mode_of(&meta));
            h.set_mtime(mtime_of(&meta).max(0) as u64);
            tar.append_data(&mut h, format!("{arc}/"), io::empty())
                .map_err(src_err(&dir))?;
            self.push(Entry {
                path: arc.clone(),
                kind: EntryType::Dir,
                size: 0,
                sha256: None,
                mode: mode_of(&meta),
                mtime: mtime_of(&meta),
                content: None,
                link_target: None,
            })?;
            let mut children: Vec<_> = std::fs::read_dir(&dir)
                .map_err(src_err(&dir))?
                .collect::<Result<_, _>>()
                .map_err(src_err(&dir))?;
            children.sort_by_key(|e| e.file_name());
            let mut subdirs = Vec::new();
            for c in children {
                let p = c.path();
                let name = c.file_name().to_string_lossy().into_owned();
                let child_arc = format!("{arc}/{name}");
                let m = std::fs::symlink_metadata(&p).map_err(src_err(&p))?;
                if self.own.contains(&file_id(&m)) {
                    continue;
                }
                if m.file_type().is_symlink() {
                    let t = std::fs::read_link(&p).map_err(src_err(&p))?;
                    let mut h = tar::Header::new_gnu();
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_size(0);
                    h.set_mode(0o777);
                    h.set_mtime(mtime_of(&m).max(0) as u64);
                    tar.append_link(&mut h, &child_arc, &t)
                        .map_err(src_err(&p))?;
                    self.push(Entry {
                        path: child_arc,
                        kind: EntryType::Symlink,
                        size: 0,
                        sha256: None,
                        mode: 0o777,
                        mtime: mtime_of(&m),
                        content: None,
                        link_target: Some(t.to_string_lossy().into_owned()),
                    })?;
                } else if m.is_dir() {
                    subdirs.push((p, child_arc));
                } else if m.is_file() {
                    if is_sqlite_side_file(&p) {
                        continue;
                    }
                    self.add_file(tar, &p, &child_arc, &m)?;
                }
                // Sockets, FIFOs and devices are not backup material: skipped.
            }
            // Depth-first in name order: reverse so the smallest name is popped first.
            stack.extend(subdirs.into_iter().rev());
        }
        Ok(())
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Top-level archive names: the source's file name, made unique.
fn archive_names(sources: &[PathBuf]) -> Vec<String> {
    let mut seen = HashSet::new();
    sources
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let base = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .filter(|n| !n.is_empty() && n != "." && n != "..")
                .unwrap_or_else(|| format!("source{i}"));
            let mut name = base.clone();
            let mut k = 1;
            while !seen.insert(name.clone()) {
                k += 1;
                name = format!("{base}.{k}");
            }
            name
        })
        .collect()
}

/// Creates a backup of `opts.sources` on `target` and returns its signed manifest.
pub fn create(target: &dyn Target, opts: &CreateOptions<'_>) -> Result<Manifest, CreateError> {
    if !manifest::valid_name(opts.name) {
        return Err(CreateError::BadName(opts.name.into()));
    }
    if opts.sources.is_empty() {
        return Err(CreateError::NoSources);
    }
    let now = opts.now.unwrap_or_else(crate::util::now_unix);
    let base_id = format!("{}-{}", opts.name, crate::util::compact(now));
    let mut id = base_id.clone();
    let existing: HashSet<String> = target.list()?.into_iter().map(|o| o.name).collect();
    let mut k = 1;
    while existing.contains(&manifest::manifest_object(&id))
        || existing.contains(&manifest::archive_object(&id))
    {
        k += 1;
        id = format!("{base_id}-{k}");
    }
    let archive_obj = manifest::archive_object(&id);

    let staging_dir = target
        .staging_dir()
        .or_else(|| opts.staging_dir.clone())
        .unwrap_or_else(std::env::temp_dir);
    let staged_path = staging_dir.join(format!(".{archive_obj}.partial"));
    let staging_err = |source| CreateError::Staging {
        path: staged_path.clone(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&staged_path)
        .map_err(staging_err)?;
    let mut staged = StagedFile(Some(staged_path.clone()));

    let cipher_w = HashWriter::new(BufWriter::with_capacity(BUF, file));
    let age_w = opts
        .encryption
        .encryptor()
        .map_err(CreateError::Encrypt)?
        .wrap_output(cipher_w)
        .map_err(staging_err)?;
    let plain_w = HashWriter::new(ThreadedWriter::new(age_w).map_err(staging_err)?);
    let mut tar = tar::Builder::new(plain_w);
    tar.follow_symlinks(false);

    let mut col = Collector {
        entries: Vec::new(),
        scratch: tempfile::Builder::new()
            .prefix("sipsentry-backup-")
            .tempdir_in(&staging_dir)
            .map_err(staging_err)?,
        own: Vec::new(),
    };
    for p in [staged_path.as_path(), col.scratch.path()] {
        if let Ok(m) = std::fs::symlink_metadata(p) {
            col.own.push(file_id(&m));
        }
    }
    let names = archive_names(opts.sources);
    let mut sources = Vec::new();
    for (src, arc) in opts.sources.iter().zip(&names) {
        let meta = std::fs::metadata(src).map_err(src_err(src))?;
        let kind = if meta.is_dir() {
            col.add_tree(&mut tar, src, arc)?;
            "dir"
        } else {
            let sqlite = is_sqlite(src);
            col.add_file(&mut tar, src, arc, &meta)?;
            if sqlite {
                "sqlite"
            } else {
                "file"
            }
        };
        sources.push(SourceInfo {
            path: src.display().to_string(),
            archive_path: arc.clone(),
            kind: kind.into(),
        });
    }
    tar.finish().map_err(staging_err)?;
    let plain_w = tar.into_inner().map_err(staging_err)?;
    let (threaded, plain_sha, plain_len) = plain_w.finish();
    let age_w = threaded.finish().map_err(staging_err)?;
    let cipher_w = age_w.finish().map_err(staging_err)?;
    let (buf_w, cipher_sha, cipher_len) = cipher_w.finish();
    let file = buf_w
        .into_inner()
        .map_err(|e| staging_err(e.into_error()))?;
    file.sync_all().map_err(staging_err)?;
    drop(file);

    let version = target.put_file(
        &archive_obj,
        &staged_path,
        cipher_len,
        &cipher_sha,
        opts.lock.as_ref(),
    )?;
    staged.0 = None;
    let _ = std::fs::remove_file(&staged_path);

    let m = Manifest {
        format: manifest::FORMAT.into(),
        id: id.clone(),
        name: opts.name.into(),
        created: crate::util::rfc3339(now),
        created_unix: now,
        tool: crate::TOOL_VERSION.into(),
        archive: ArchiveInfo {
            object: archive_obj,
            version_id: version,
            encryption: opts.encryption.scheme().into(),
            recipients: opts.encryption.public_recipients(),
            plaintext_size: plain_len,
            plaintext_sha256: hex::encode(plain_sha),
            ciphertext_size: cipher_len,
            ciphertext_sha256: hex::encode(cipher_sha),
        },
        sources,
        entries: col.entries,
        lock: opts.lock.clone(),
    };
    let mut bytes =
        serde_json::to_vec_pretty(&m).map_err(|e| CreateError::Encrypt(e.to_string()))?;
    bytes.push(b'\n');
    let sig = SignatureFile::new(opts.signer, &bytes);
    let mut sig_bytes =
        serde_json::to_vec(&sig).map_err(|e| CreateError::Encrypt(e.to_string()))?;
    sig_bytes.push(b'\n');
    // Signature first, manifest last: a listing only shows backups whose every object exists.
    target.put_bytes(
        &manifest::signature_object(&id),
        &sig_bytes,
        opts.lock.as_ref(),
    )?;
    target.put_bytes(&manifest::manifest_object(&id), &bytes, opts.lock.as_ref())?;
    Ok(m)
}

fn not_found_as(e: TargetError, f: impl FnOnce() -> VerifyError) -> VerifyError {
    match e {
        TargetError::NotFound { .. } => f(),
        e => VerifyError::Target(e),
    }
}

/// Fetches a manifest, checks its signature against `trusted` and that it belongs to `id`.
pub fn load_manifest(
    target: &dyn Target,
    id: &str,
    trusted: &VerifyKey,
) -> Result<Manifest, VerifyError> {
    let mobj = manifest::manifest_object(id);
    let sobj = manifest::signature_object(id);
    let bytes = get_capped(target, &mobj, None, manifest::MAX_MANIFEST_BYTES).map_err(|e| {
        not_found_as(e, || VerifyError::ManifestMissing {
            object: mobj.clone(),
        })
    })?;
    let sig_bytes = get_capped(target, &sobj, None, manifest::MAX_SIG_BYTES).map_err(|e| {
        not_found_as(e, || VerifyError::SignatureMissing {
            object: sobj.clone(),
        })
    })?;
    let sig: SignatureFile =
        serde_json::from_slice(&sig_bytes).map_err(|_| VerifyError::SignatureMalformed {
            object: sobj.clone(),
        })?;
    let raw = sig
        .signature_bytes()
        .filter(|_| sig.alg == "ed25519")
        .ok_or_else(|| VerifyError::SignatureMalformed {
            object: sobj.clone(),
        })?;
    // The signer field must name the trusted key exactly, so every byte of the signature object
    // is covered too (a valid signature with a damaged signer field is still damage).
    if VerifyKey::parse(&sig.signer).as_ref() != Some(trusted) {
        return Err(VerifyError::UntrustedSigner {
            signer: sig.signer.chars().take(80).collect(),
            trusted: trusted.to_string(),
        });
    }
    if !trusted.verify(&bytes, &raw) {
        return Err(VerifyError::SignatureInvalid { object: mobj });
    }
    let m: Manifest =
        serde_json::from_slice(&bytes).map_err(|e| VerifyError::ManifestMalformed {
            reason: e.to_string(),
        })?;
    if m.format != manifest::FORMAT {
        return Err(VerifyError::ManifestMalformed {
            reason: format!("unknown format {:?}", m.format),
        });
    }
    if m.id != id {
        return Err(VerifyError::ManifestIdMismatch {
            expected: id.into(),
            found: m.id,
        });
    }
    let expected = manifest::archive_object(id);
    if m.archive.object != expected {
        return Err(VerifyError::ArchiveNameMismatch {
            expected,
            named: m.archive.object,
        });
    }
    Ok(m)
}

/// What [`verify`] established.
#[derive(Debug, Clone)]
pub struct Verified {
    pub manifest: Manifest,
    /// The archive was decrypted and every entry and the plaintext hash checked (false when no
    /// decryption key was supplied: then only signature and ciphertext were checked).
    pub decrypted: bool,
    pub entries_checked: usize,
    /// Files written when extracting (restore-test).
    pub restored_files: Vec<(PathBuf, Entry)>,
}

/// Verifies backup `id`: signature, manifest identity, ciphertext hash; with `decryption`, also
/// decrypts and checks every entry and the plaintext hash; with `extract_to`, writes the files
/// there (restore).
pub fn verify(
    target: &dyn Target,
    id: &str,
    trusted: &VerifyKey,
    decryption: Option<&Decryption>,
    extract_to: Option<&Path>,
) -> Result<Verified, VerifyError> {
    let m = load_manifest(target, id, trusted)?;
    let obj = m.archive.object.clone();
    let raw = target
        .get(&obj, m.archive.version_id.as_deref())
        .map_err(|e| {
            not_found_as(e, || VerifyError::ArchiveMissing {
                object: obj.clone(),
            })
        })?;
    let shared = SharedHashReader::new(raw);
    let dec = decryption.filter(|d| !d.is_empty());
    let inner = dec.map(|d| read_archive(d, shared.clone(), &m, extract_to));
    let (csha, clen) = shared.drain_and_finish().map_err(|e| {
        VerifyError::Target(TargetError::Io {
            target: target.describe(),
            name: obj.clone(),
            source: e,
        })
    })?;
    // The ciphertext check decides first: a modified or swapped archive is named as such even
    // when decryption already failed on the damage.
    if hex::encode(csha) != m.archive.ciphertext_sha256 || clen != m.archive.ciphertext_size {
        return Err(VerifyError::CiphertextHashMismatch {
            object: obj,
            expected: m.archive.ciphertext_sha256.clone(),
            actual: hex::encode(csha),
            size: clen,
        });
    }
    let (entries_checked, restored_files) = match inner {
        Some(r) => r?,
        None => (0, Vec::new()),
    };
    Ok(Verified {
        manifest: m,
        decrypted: dec.is_some(),
        entries_checked,
        restored_files,
    })
}

fn safe_rel(path: &str) -> Option<PathBuf> {
    let p = Path::new(path);
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

type ArchiveResult = Result<(usize, Vec<(PathBuf, Entry)>), VerifyError>;

fn read_archive(
    dec: &Decryption,
    input: SharedHashReader,
    m: &Manifest,
    extract_to: Option<&Path>,
) -> ArchiveResult {
    let stream = dec
        .decrypt(BufReader::with_capacity(BUF, input))
        .map_err(|e| VerifyError::Decrypt {
            reason: e.to_string(),
        })?;
    // Decryption (and ciphertext hashing) runs on a second thread, tar parsing and the
    // plaintext hashes on this one.
    let threaded = ThreadedReader::new(stream).map_err(|e| VerifyError::Decrypt {
        reason: e.to_string(),
    })?;
    let mut plain = HashReader::new(threaded);
    let io_decrypt = |e: io::Error| VerifyError::Decrypt {
        reason: e.to_string(),
    };
    let by_path: HashMap<&str, &Entry> = m.entries.iter().map(|e| (e.path.as_str(), e)).collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut restored = Vec::new();
    {
        let mut ar = tar::Archive::new(&mut plain);
        let entries = ar.entries().map_err(|e| VerifyError::Tar {
            reason: e.to_string(),
        })?;
        for ent in entries {
            let mut ent = ent.map_err(classify_tar)?;
            let path = ent
                .path()
                .map_err(|e| VerifyError::Tar {
                    reason: e.to_string(),
                })?
                .to_string_lossy()
                .trim_end_matches('/')
                .to_string();
            let Some(want) = by_path.get(path.as_str()) else {
                return Err(VerifyError::UnexpectedEntry { path });
            };
            if !seen.insert(path.clone()) {
                return Err(VerifyError::EntryMismatch {
                    path,
                    what: "appears twice".into(),
                });
            }
            let etype = ent.header().entry_type();
            let got_kind = if etype.is_dir() {
                EntryType::Dir
            } else if etype.is_symlink() {
                EntryType::Symlink
            } else if etype.is_file() {
                EntryType::File
            } else {
                return Err(VerifyError::EntryMismatch {
                    path,
                    what: format!("unexpected tar entry type {etype:?}"),
                });
            };
            if got_kind != want.kind {
                return Err(VerifyError::EntryMismatch {
                    path,
                    what: format!("type {:?}, manifest says {:?}", got_kind, want.kind),
                });
            }
            let dest =
                match extract_to {
                    Some(root) => Some(root.join(safe_rel(&path).ok_or_else(|| {
                        VerifyError::EntryMismatch {
                            path: path.clone(),
                            what: "unsafe path (absolute or ..)".into(),
                        }
                    })?)),
                    None => None,
                };
            match got_kind {
                EntryType::Dir => {
                    if let Some(d) = &dest {
                        std::fs::create_dir_all(d).map_err(|source| VerifyError::Extract {
                            path: d.clone(),
                            source,
                        })?;
                    }
                }
                EntryType::Symlink => {
                    let t = ent
                        .link_name()
                        .ok()
                        .flatten()
                        .map(|t| t.to_string_lossy().into_owned());
                    if t != want.link_target {
                        return Err(VerifyError::EntryMismatch {
                            path,
                            what: "symlink target differs from the manifest".into(),
                        });
                    }
                }
                EntryType::File => {
                    let mut out: Box<dyn Write> = match &dest {
                        Some(d) => {
                            if let Some(parent) = d.parent() {
                                std::fs::create_dir_all(parent).map_err(|source| {
                                    VerifyError::Extract {
                                        path: parent.into(),
                                        source,
                                    }
                                })?;
                            }
                            Box::new(BufWriter::new(std::fs::File::create(d).map_err(
                                |source| VerifyError::Extract {
                                    path: d.clone(),
                                    source,
                                },
                            )?))
                        }
                        None => Box::new(io::sink()),
                    };
                    // Anyone with the public recipient can write a valid age file, so the
                    // tar headers are untrusted until the hashes match at the end: never copy
                    // more than the signed manifest's size (+1 to detect "larger").
                    let mut hr = HashReader::new((&mut ent).take(want.size.saturating_add(1)));
                    io::copy(&mut hr, &mut out).map_err(classify_io)?;
                    out.flush().map_err(|source| VerifyError::Extract {
                        path: dest.clone().unwrap_or_default(),
                        source,
                    })?;
                    let (sha, n) = hr.finish();
                    if n != want.size {
                        return Err(VerifyError::EntryMismatch {
                            path,
                            what: format!("{n} bytes, manifest says {}", want.size),
                        });
                    }
                    if want.sha256.as_deref() != Some(hex::encode(sha).as_str()) {
                        return Err(VerifyError::EntryMismatch {
                            path,
                            what: "SHA-256 differs from the manifest".into(),
                        });
                    }
                    if let Some(d) = dest {
                        restored.push((d, (*want).clone()));
                    }
                }
            }
        }
    }
    io::copy(&mut plain, &mut io::sink()).map_err(io_decrypt)?;
    let (psha, plen) = plain.finish();
    if let Some(missing) = m.entries.iter().find(|e| !seen.contains(&e.path)) {
        return Err(VerifyError::EntryMissing {
            path: missing.path.clone(),
        });
    }
    if hex::encode(psha) != m.archive.plaintext_sha256 || plen != m.archive.plaintext_size {
        return Err(VerifyError::PlaintextHashMismatch {
            expected: m.archive.plaintext_sha256.clone(),
            actual: hex::encode(psha),
        });
    }
    Ok((seen.len(), restored))
}

/// Errors surfacing through the tar reader come from age (authentication) or from tar itself.
fn classify_io(e: io::Error) -> VerifyError {
    VerifyError::Decrypt {
        reason: e.to_string(),
    }
}
fn classify_tar(e: io::Error) -> VerifyError {
    if e.kind() == io::ErrorKind::InvalidData && e.to_string().contains("tar") {
        VerifyError::Tar {
            reason: e.to_string(),
        }
    } else {
        classify_io(e)
    }
}

/// Backups on a target: IDs of every manifest object, oldest first.
pub fn list_ids(target: &dyn Target) -> Result<Vec<String>, TargetError> {
    let mut ids: Vec<(i64, String)> = target
        .list()?
        .into_iter()
        .filter_map(|o| {
            let id = manifest::id_from_manifest_object(&o.name)?.to_string();
            Some((manifest::id_time(&id)?, id))
        })
        .collect();
    ids.sort();
    Ok(ids.into_iter().map(|(_, id)| id).collect())
}

/// One entry of an age-encrypted tar made by another tool (`tar c | age -r …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// Reads an age-encrypted tar stream that has no manifest (made by `tar | age`), returning
/// its entries with their SHA-256; with `extract_to`, also writes the regular files there.
/// Authenticity cannot be checked without a manifest; age's AEAD still detects damage.
pub fn read_foreign(
    input: impl Read,
    dec: &Decryption,
    extract_to: Option<&Path>,
) -> Result<Vec<ForeignEntry>, VerifyError> {
    let stream = dec
        .decrypt(BufReader::with_capacity(BUF, input))
        .map_err(|e| VerifyError::Decrypt {
            reason: e.to_string(),
        })?;
    let mut ar = tar::Archive::new(stream);
    let mut out = Vec::new();
    for ent in ar.entries().map_err(classify_tar)? {
        let mut ent = ent.map_err(classify_tar)?;
        if !ent.header().entry_type().is_file() {
            continue;
        }
        if out.len() >= MAX_ENTRIES {
            return Err(VerifyError::Tar {
                reason: format!("more than {MAX_ENTRIES} entries"),
            });
        }
        let path = ent
            .path()
            .map_err(classify_tar)?
            .to_string_lossy()
            .into_owned();
        let mut sink: Box<dyn Write> = match extract_to {
            Some(root) => {
                let rel = safe_rel(&path).ok_or_else(|| VerifyError::EntryMismatch {
                    path: path.clone(),
                    what: "unsafe path (absolute or ..)".into(),
                })?;
                let d = root.join(rel);
                if let Some(p) = d.parent() {
                    std::fs::create_dir_all(p).map_err(|source| VerifyError::Extract {
                        path: p.into(),
                        source,
                    })?;
                }
                Box::new(
                    std::fs::File::create(&d).map_err(|source| VerifyError::Extract {
                        path: d.clone(),
                        source,
                    })?,
                )
            }
            None => Box::new(io::sink()),
        };
        let mut hr = HashReader::new(&mut ent);
        io::copy(&mut hr, &mut sink).map_err(classify_io)?;
        let (sha, size) = hr.finish();
        out.push(ForeignEntry {
            path,
            size,
            sha256: hex::encode(sha),
        });
    }
    Ok(out)
}

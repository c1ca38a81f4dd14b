//! The per-backup manifest and its detached Ed25519 signature.
//!
//! The signature covers the manifest object's exact bytes (not a re-serialisation), so flipping
//! any byte of `ID.manifest.json` — even whitespace — fails verification.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// Format tag in every manifest; bumped on incompatible change.
pub const FORMAT: &str = "sipsentry-backup/1";
/// Manifests larger than this are refused before parsing (a 1M-entry tree is ~200 MiB of JSON;
/// beyond that, split the backup).
pub const MAX_MANIFEST_BYTES: u64 = 256 << 20;
/// Signature objects are one small JSON line.
pub const MAX_SIG_BYTES: u64 = 64 << 10;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: String,
    /// Backup ID: `NAME-YYYYMMDDTHHMMSSZ`; object names derive from it.
    pub id: String,
    pub name: String,
    pub created: String,
    pub created_unix: i64,
    pub tool: String,
    pub archive: ArchiveInfo,
    pub sources: Vec<SourceInfo>,
    pub entries: Vec<Entry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock: Option<LockInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArchiveInfo {
    /// Object name of the encrypted archive on the target.
    pub object: String,
    /// Object version that holds it (versioned S3 buckets), so verification reads the version
    /// that was written even if someone later put a new version on top.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// `age-x25519` or `age-scrypt`.
    pub encryption: String,
    /// Public recipients (`age1…`); empty for a passphrase.
    pub recipients: Vec<String>,
    pub plaintext_size: u64,
    pub plaintext_sha256: String,
    pub ciphertext_size: u64,
    pub ciphertext_sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SourceInfo {
    /// The path as given on the command line.
    pub path: String,
    /// Top-level name inside the archive.
    pub archive_path: String,
    /// `file`, `dir` or `sqlite` (copied through SQLite's online backup API).
    pub kind: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum EntryType {
    File,
    Dir,
    Symlink,
}

/// What a file's content is, detected by magic bytes at create time so the restore drill
/// still knows how to validate a file even if it comes back damaged.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ContentKind {
    Zip,
    Sqlite,
    PgDump,
    Other,
}

impl ContentKind {
    pub fn sniff(head: &[u8]) -> Self {
        if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            ContentKind::Zip
        } else if head.starts_with(b"SQLite format 3\0") {
            ContentKind::Sqlite
        } else if head.starts_with(b"PGDMP") {
            ContentKind::PgDump
        } else {
            ContentKind::Other
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the archive (`/`-separated, relative).
    pub path: String,
    #[serde(rename = "type")]
    pub kind: EntryType,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub mode: u32,
    pub mtime: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<ContentKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_target: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LockInfo {
    /// `COMPLIANCE` or `GOVERNANCE` (S3 Object Lock modes); `RECORDED` on targets without locks.
    pub mode: String,
    pub retain_until: String,
    pub retain_until_unix: i64,
}

/// The `ID.manifest.sig` object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SignatureFile {
    pub alg: String,
    /// Signer's public key (informational: trust comes from the key the verifier supplies).
    pub signer: String,
    pub signature: String,
}

impl SignatureFile {
    pub fn new(signer: &crate::keys::SigningKey, manifest_bytes: &[u8]) -> Self {
        SignatureFile {
            alg: "ed25519".into(),
            signer: signer.verify_key().to_string(),
            signature: base64::engine::general_purpose::STANDARD
                .encode(signer.sign(manifest_bytes)),
        }
    }
    pub fn signature_bytes(&self) -> Option<[u8; 64]> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&self.signature)
            .ok()?;
        raw.as_slice().try_into().ok()
    }
}

/// Object names for a backup ID.
pub fn archive_object(id: &str) -> String {
    format!("{id}.tar.age")
}
pub fn manifest_object(id: &str) -> String {
    format!("{id}.manifest.json")
}
pub fn signature_object(id: &str) -> String {
    format!("{id}.manifest.sig")
}

/// Backup names are used in object keys and file names: keep them boring.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Backup ID from a manifest object name, if it is one.
pub fn id_from_manifest_object(object: &str) -> Option<&str> {
    let id = object.strip_suffix(".manifest.json")?;
    valid_id(id).then_some(id)
}

/// `NAME-YYYYMMDDTHHMMSSZ` (optionally with a `-N` disambiguator).
pub fn valid_id(id: &str) -> bool {
    valid_name(id) && id_time(id).is_some()
}

/// Creation time encoded in a backup ID.
pub fn id_time(id: &str) -> Option<i64> {
    id.split('-').rev().find_map(|part| {
        (part.len() == 16)
            .then(|| crate::util::parse_utc(part))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(valid_id("pbx1-20260101T020304Z"));
        assert_eq!(
            id_time("pbx1-20260101T020304Z"),
            crate::util::parse_utc("2026-01-01T02:03:04Z")
        );
        assert!(!valid_id("pbx1"));
        assert!(!valid_id("../x-20260101T020304Z"));
        assert_eq!(
            id_from_manifest_object("a-20260101T020304Z.manifest.json"),
            Some("a-20260101T020304Z")
        );
    }

    #[test]
    fn sniff() {
        assert_eq!(ContentKind::sniff(b"PK\x03\x04rest"), ContentKind::Zip);
        assert_eq!(
            ContentKind::sniff(b"SQLite format 3\0"),
            ContentKind::Sqlite
        );
        assert_eq!(ContentKind::sniff(b"PGDMP\x01"), ContentKind::PgDump);
        assert_eq!(ContentKind::sniff(b""), ContentKind::Other);
    }
}

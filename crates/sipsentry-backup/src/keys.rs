//! Keys and passphrases: loaded from files or the environment only, never from argv, and never
//! printed (every holder type redacts itself in `Debug`).

use age::secrecy::{ExposeSecret, SecretString};
use base64::Engine as _;
use ed25519_dalek::{Signer, Verifier};
use std::fmt;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Environment variable holding the archive passphrase (scrypt recipient).
pub const PASSPHRASE_ENV: &str = "SIPSENTRY_BACKUP_PASSPHRASE";

const SIGNING_PREFIX: &str = "SIPSENTRY-BACKUP-SIGNING-KEY-1:";
const VERIFY_PREFIX: &str = "sipsentry-backup-ed25519:";
/// Highest scrypt work factor (log2 N) accepted when decrypting a passphrase archive.
pub const MAX_SCRYPT_LOG_N: u8 = 22;
/// Key files are tiny; anything larger is not a key file.
const MAX_KEY_FILE: u64 = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("key file {path} is larger than 1 MiB: not a key file")]
    TooLarge { path: PathBuf },
    #[error("{path}: no age identity found (expected lines starting with AGE-SECRET-KEY-1)")]
    NoIdentity { path: PathBuf },
    #[error("{path}: not an age identity file: {reason}")]
    BadIdentity { path: PathBuf, reason: String },
    #[error("not an age X25519 recipient (expected age1...): {shown}")]
    BadRecipient { shown: String },
    #[error("{path}: not a sipsentry signing key (expected one line {SIGNING_PREFIX}<base64>)")]
    BadSigningKey { path: PathBuf },
    #[error("{path}: not a sipsentry verify key (expected one line {VERIFY_PREFIX}<base64>)")]
    BadVerifyKey { path: PathBuf },
    #[error("passphrase file {path} is empty")]
    EmptyPassphrase { path: PathBuf },
    #[error("age cannot mix a passphrase with recipients in one file (the age spec forbids it): choose one")]
    MixedPassphraseAndRecipients,
    #[error("no recipient and no passphrase: give --recipient/--recipients-file, or a passphrase via ${PASSPHRASE_ENV} or --passphrase-file")]
    NoEncryptionKey,
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn read_small(path: &Path) -> Result<String, KeyError> {
    let f = std::fs::File::open(path).map_err(|source| KeyError::Read {
        path: path.into(),
        source,
    })?;
    let mut s = String::new();
    f.take(MAX_KEY_FILE + 1)
        .read_to_string(&mut s)
        .map_err(|source| KeyError::Read {
            path: path.into(),
            source,
        })?;
    if s.len() as u64 > MAX_KEY_FILE {
        return Err(KeyError::TooLarge { path: path.into() });
    }
    Ok(s)
}

/// How a new archive is encrypted.
pub enum Encryption {
    /// age X25519 recipients (public keys; the matching identities decrypt).
    Recipients(Vec<age::x25519::Recipient>),
    /// age scrypt passphrase recipient (must be the only recipient, per the age spec).
    Passphrase(SecretString),
}

impl fmt::Debug for Encryption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Encryption::Recipients(r) => f
                .debug_tuple("Recipients")
                .field(&r.iter().map(|r| r.to_string()).collect::<Vec<_>>())
                .finish(),
            Encryption::Passphrase(_) => f.write_str("Passphrase(<redacted>)"),
        }
    }
}

impl Encryption {
    /// Builds the encryption from what the user gave; a passphrase and recipients together are
    /// refused because age files carry either scrypt alone or other stanzas.
    pub fn from_parts(
        recipients: Vec<age::x25519::Recipient>,
        passphrase: Option<SecretString>,
    ) -> Result<Self, KeyError> {
        match (recipients.is_empty(), passphrase) {
            (false, Some(_)) => Err(KeyError::MixedPassphraseAndRecipients),
            (false, None) => Ok(Encryption::Recipients(recipients)),
            (true, Some(p)) => Ok(Encryption::Passphrase(p)),
            (true, None) => Err(KeyError::NoEncryptionKey),
        }
    }

    /// Label for the manifest (no secret).
    pub fn scheme(&self) -> &'static str {
        match self {
            Encryption::Recipients(_) => "age-x25519",
            Encryption::Passphrase(_) => "age-scrypt",
        }
    }

    /// Public recipients for the manifest (empty for a passphrase).
    pub fn public_recipients(&self) -> Vec<String> {
        match self {
            Encryption::Recipients(r) => r.iter().map(|r| r.to_string()).collect(),
            Encryption::Passphrase(_) => Vec::new(),
        }
    }

    pub(crate) fn encryptor(&self) -> Result<age::Encryptor, String> {
        match self {
            Encryption::Recipients(r) => {
                age::Encryptor::with_recipients(r.iter().map(|r| r as &dyn age::Recipient))
                    .map_err(|e| e.to_string())
            }
            Encryption::Passphrase(p) => Ok(age::Encryptor::with_user_passphrase(p.clone())),
        }
    }
}

/// What can decrypt an archive: identities from files and/or a passphrase.
#[derive(Default)]
pub struct Decryption {
    identities: Vec<Box<dyn age::Identity>>,
    passphrase: Option<SecretString>,
}

impl fmt::Debug for Decryption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Decryption {{ identities: {} <redacted>, passphrase: {} }}",
            self.identities.len(),
            if self.passphrase.is_some() {
                "<redacted>"
            } else {
                "none"
            }
        )
    }
}

impl Decryption {
    pub fn is_empty(&self) -> bool {
        self.identities.is_empty() && self.passphrase.is_none()
    }
    pub fn add_identity_file(&mut self, path: &Path) -> Result<(), KeyError> {
        let text = read_small(path)?;
        let file =
            age::IdentityFile::from_buffer(BufReader::new(text.as_bytes())).map_err(|e| {
                KeyError::BadIdentity {
                    path: path.into(),
                    reason: e.kind().to_string(),
                }
            })?;
        let ids = file.into_identities().map_err(|_| KeyError::BadIdentity {
            path: path.into(),
            reason: "unsupported identity type".into(),
        })?;
        if ids.is_empty() {
            return Err(KeyError::NoIdentity { path: path.into() });
        }
        self.identities.extend(ids);
        Ok(())
    }
    pub fn set_passphrase(&mut self, p: SecretString) {
        self.passphrase = Some(p);
    }

    pub(crate) fn decrypt<R: std::io::BufRead>(
        &self,
        input: R,
    ) -> Result<age::stream::StreamReader<R>, age::DecryptError> {
        let d = age::Decryptor::new_buffered(input)?;
        if d.is_scrypt() {
            match &self.passphrase {
                Some(p) => {
                    let mut id = age::scrypt::Identity::new(p.clone());
                    // age's default cap comes from timing this machine now, so a loaded host (or
                    // a debug build) refuses files that `age -p` wrote with its normal work
                    // factor 18. A fixed cap (2^22, 16x the default) keeps decryption
                    // deterministic while still bounding the cost of a hostile header.
                    id.set_max_work_factor(MAX_SCRYPT_LOG_N);
                    d.decrypt(std::iter::once(&id as &dyn age::Identity))
                }
                None => Err(age::DecryptError::NoMatchingKeys),
            }
        } else {
            d.decrypt(self.identities.iter().map(|i| i.as_ref()))
        }
    }
}

/// Parses one `age1…` recipient; the error shows only a short prefix of the input.
pub fn parse_recipient(s: &str) -> Result<age::x25519::Recipient, KeyError> {
    age::x25519::Recipient::from_str(s.trim()).map_err(|_| KeyError::BadRecipient {
        shown: if s.trim().to_ascii_uppercase().starts_with("AGE-SECRET-KEY") {
            "a secret key (identity) was given where its public age1... recipient belongs".into()
        } else {
            format!("{}...", s.trim().chars().take(6).collect::<String>())
        },
    })
}

/// Reads a recipients file: one `age1…` per line, `#` comments and blank lines ignored.
pub fn read_recipients_file(path: &Path) -> Result<Vec<age::x25519::Recipient>, KeyError> {
    let text = read_small(path)?;
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(parse_recipient)
        .collect()
}

/// The passphrase from `--passphrase-file` (first line) or else `$SIPSENTRY_BACKUP_PASSPHRASE`.
pub fn passphrase(file: Option<&Path>) -> Result<Option<SecretString>, KeyError> {
    if let Some(path) = file {
        let text = read_small(path)?;
        let line = text.lines().next().unwrap_or("");
        if line.is_empty() {
            return Err(KeyError::EmptyPassphrase { path: path.into() });
        }
        return Ok(Some(SecretString::from(line.to_owned())));
    }
    Ok(std::env::var(PASSPHRASE_ENV)
        .ok()
        .filter(|s| !s.is_empty())
        .map(SecretString::from))
}

/// Ed25519 key that signs manifests.
pub struct SigningKey(ed25519_dalek::SigningKey);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey(<redacted>, public {})", self.verify_key())
    }
}

impl SigningKey {
    pub fn generate() -> Self {
        Self(ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng))
    }
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let text = read_small(path)?;
        let bad = || KeyError::BadSigningKey { path: path.into() };
        let b64 = text.trim().strip_prefix(SIGNING_PREFIX).ok_or_else(bad)?;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| bad())?;
        let seed: [u8; 32] = raw.as_slice().try_into().map_err(|_| bad())?;
        Ok(Self(ed25519_dalek::SigningKey::from_bytes(&seed)))
    }
    /// The secret in file form; callers write it with mode 0600.
    pub fn to_file_text(&self) -> SecretString {
        SecretString::from(format!(
            "{SIGNING_PREFIX}{}\n",
            base64::engine::general_purpose::STANDARD.encode(self.0.to_bytes())
        ))
    }
    pub fn verify_key(&self) -> VerifyKey {
        VerifyKey(self.0.verifying_key())
    }
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.0.sign(msg).to_bytes()
    }
}

/// Ed25519 public key that verifies manifests.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifyKey(ed25519_dalek::VerifyingKey);

impl fmt::Display for VerifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{VERIFY_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(self.0.as_bytes())
        )
    }
}

impl fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl VerifyKey {
    pub fn parse(s: &str) -> Option<Self> {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(s.trim().strip_prefix(VERIFY_PREFIX)?)
            .ok()?;
        let b: [u8; 32] = raw.as_slice().try_into().ok()?;
        ed25519_dalek::VerifyingKey::from_bytes(&b).ok().map(Self)
    }
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        Self::parse(&read_small(path)?).ok_or_else(|| KeyError::BadVerifyKey { path: path.into() })
    }
    pub fn verify(&self, msg: &[u8], sig: &[u8; 64]) -> bool {
        self.0
            .verify(msg, &ed25519_dalek::Signature::from_bytes(sig))
            .is_ok()
    }
}

/// A new age X25519 identity: (identity file text, `age1…` recipient).
pub fn generate_identity() -> (SecretString, String) {
    let id = age::x25519::Identity::generate();
    let recipient = id.to_public().to_string();
    (id.to_string(), recipient)
}

/// Re-export so callers can reveal a secret deliberately (writing a key file), nowhere else.
pub use age::secrecy::{ExposeSecret as Expose, SecretString as Secret};

/// Writes a secret file readable by its owner only (created with 0600, never widened).
pub fn write_secret_file(path: &Path, text: &SecretString) -> Result<(), KeyError> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path).map_err(|source| KeyError::Write {
        path: path.into(),
        source,
    })?;
    f.write_all(text.expose_secret().as_bytes())
        .map_err(|source| KeyError::Write {
            path: path.into(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let k = SigningKey::generate();
        let secret = k.to_file_text();
        let dbg = format!("{k:?}");
        let b64 = secret
            .expose_secret()
            .trim()
            .strip_prefix(SIGNING_PREFIX)
            .unwrap();
        assert!(!dbg.contains(b64), "{dbg}");
        let e = Encryption::Passphrase(SecretString::from("hunter2-very-secret".to_owned()));
        assert!(!format!("{e:?}").contains("hunter2"));
        let mut d = Decryption::default();
        d.set_passphrase(SecretString::from("hunter2-very-secret".to_owned()));
        assert!(!format!("{d:?}").contains("hunter2"));
    }

    #[test]
    fn sign_verify_roundtrip() {
        let k = SigningKey::generate();
        let vk = VerifyKey::parse(&k.verify_key().to_string()).unwrap();
        let sig = k.sign(b"abc");
        assert!(vk.verify(b"abc", &sig));
        assert!(!vk.verify(b"abd", &sig));
    }

    #[test]
    fn bad_recipient_error_does_not_echo_whole_input() {
        let e = parse_recipient(
            "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ",
        )
        .unwrap_err()
        .to_string();
        assert!(!e.contains("QQQQQQQQQQQQ"), "{e}");
    }

    #[test]
    fn passphrase_and_recipients_refused_together() {
        let id = age::x25519::Identity::generate();
        let r = Encryption::from_parts(
            vec![id.to_public()],
            Some(SecretString::from("x".to_owned())),
        );
        assert!(matches!(r, Err(KeyError::MixedPassphraseAndRecipients)));
    }
}

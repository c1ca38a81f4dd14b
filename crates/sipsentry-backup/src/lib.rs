//! Encrypted, signed, immutable-offsite backups that are proven to restore.
//!
//! A backup is three objects on a [`target::Target`]:
//!
//! * `ID.tar.age` — a tar stream of the sources, encrypted in the standard
//!   [age](https://age-encryption.org/v1) format, so `age -d` (or `rage`) decrypts it without
//!   sipsentry. The whole pipeline streams: tar → SHA-256 of the plaintext → age → SHA-256 of
//!   the ciphertext → target, so memory stays flat whatever the source size.
//! * `ID.manifest.json` — what was backed up ([`manifest::Manifest`]): every entry with its size and
//!   SHA-256, both archive hashes and sizes, creation time, tool version, the object lock.
//! * `ID.manifest.sig` — an Ed25519 signature over the manifest's exact bytes.
//!
//! Verification ([`archive::verify`]) checks the signature against a trusted key, that the
//! manifest belongs to this backup ID, the ciphertext hash (a flipped byte or a swapped archive),
//! then decrypts and checks every entry and the plaintext hash. Each failure is a precise
//! [`archive::VerifyError`] variant.
//!
//! Secrets (age identities, passphrases, the signing key, S3 secret keys) are read from files or
//! the environment, are wrapped in types whose `Debug` redacts them, and never appear in errors.

pub mod alert;
pub mod archive;
pub mod drill;
pub mod keys;
pub mod manifest;
pub mod retention;
pub mod s3;
pub mod sftp;
pub mod target;
pub mod util;

/// Version string recorded in every manifest.
pub const TOOL_VERSION: &str = concat!("sipsentry-backup ", env!("CARGO_PKG_VERSION"));

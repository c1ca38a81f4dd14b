//! Proof: a backup verifies; flipping one byte anywhere in the archive or manifest, swapping two
//! archives or two manifests, truncating, or trusting another key is detected, with an error
//! naming what failed.

mod common;

use sipsentry_backup::archive::{self, CreateOptions, VerifyError};
use sipsentry_backup::keys::SigningKey;
use sipsentry_backup::manifest::{self, Manifest};
use sipsentry_backup::target::{LocalDir, Target};

fn make(
    keys: &common::Keys,
    store: &LocalDir,
    name: &str,
    src: &[std::path::PathBuf],
    now: i64,
) -> Manifest {
    archive::create(
        store,
        &CreateOptions {
            name,
            sources: src,
            encryption: &keys.encryption(),
            signer: &keys.signing,
            lock: None,
            staging_dir: None,
            now: Some(now),
        },
    )
    .unwrap()
}

#[test]
fn roundtrip_verifies_every_entry() {
    let keys = common::keys();
    let src = tempfile::tempdir().unwrap();
    let sources = common::make_sources(src.path());
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(store_dir.path()).unwrap();
    let m = make(&keys, &store, "pbx1", &sources, 1_780_000_000);
    assert_eq!(m.id, "pbx1-20260528T202640Z");
    assert_eq!(
        m.sources
            .iter()
            .map(|s| s.kind.as_str())
            .collect::<Vec<_>>(),
        ["dir", "file", "sqlite"]
    );
    // The WAL side files of the SQLite store are folded in by the online backup, not archived.
    assert!(!m
        .entries
        .iter()
        .any(|e| e.path.ends_with("-wal") || e.path.ends_with("-shm")));
    let v = archive::verify(&store, &m.id, &keys.verify, Some(&keys.decryption()), None).unwrap();
    assert!(v.decrypted);
    assert_eq!(v.entries_checked, m.entries.len());
    // Without a key: signature and ciphertext only, and it says so.
    let v = archive::verify(&store, &m.id, &keys.verify, None, None).unwrap();
    assert!(!v.decrypted);
    // Restore writes identical files.
    let out = tempfile::tempdir().unwrap();
    let v = archive::verify(
        &store,
        &m.id,
        &keys.verify,
        Some(&keys.decryption()),
        Some(out.path()),
    )
    .unwrap();
    assert_eq!(
        std::fs::read(out.path().join("asterisk/pjsip.d/trunk.conf")).unwrap(),
        std::fs::read(sources[0].join("pjsip.d/trunk.conf")).unwrap()
    );
    assert_eq!(
        std::fs::read(out.path().join("3CXScheduledBackup.zip")).unwrap(),
        std::fs::read(&sources[1]).unwrap()
    );
    assert_eq!(
        v.restored_files.len(),
        m.entries
            .iter()
            .filter(|e| e.kind == manifest::EntryType::File)
            .count()
    );
}

#[test]
fn flipped_byte_anywhere_in_archive_is_named() {
    let keys = common::keys();
    let src = tempfile::tempdir().unwrap();
    let sources = common::make_sources(src.path());
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(store_dir.path()).unwrap();
    let m = make(&keys, &store, "pbx1", &sources, 1_780_000_000);
    let path = store_dir.path().join(&m.archive.object);
    let len = m.archive.ciphertext_size;
    let original = std::fs::read(&path).unwrap();
    // Header (recipient stanza, MAC), first payload chunk, middle, last byte (the final tag).
    for off in [0, 30, 120, 200, len / 2, len - 17, len - 1] {
        common::flip_byte(&path, off);
        for dec in [Some(keys.decryption()), None] {
            let e = archive::verify(&store, &m.id, &keys.verify, dec.as_ref(), None).unwrap_err();
            assert!(
                matches!(e, VerifyError::CiphertextHashMismatch { .. }),
                "offset {off}: {e}"
            );
            assert_eq!(e.check(), "ciphertext-sha256");
            assert!(e.to_string().contains(&m.archive.object), "{e}");
        }
        common::overwrite(&path, &original);
    }
    archive::verify(&store, &m.id, &keys.verify, Some(&keys.decryption()), None).unwrap();
}

#[test]
fn flipped_byte_anywhere_in_manifest_is_named() {
    let keys = common::keys();
    let src = tempfile::tempdir().unwrap();
    let sources = common::make_sources(src.path());
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(store_dir.path()).unwrap();
    let m = make(&keys, &store, "pbx1", &sources, 1_780_000_000);
    let path = store_dir.path().join(manifest::manifest_object(&m.id));
    let original = std::fs::read(&path).unwrap();
    // Bytes all over the file, including whitespace and the final newline: the signature covers
    // raw bytes. (A stride, because Ed25519 in an unoptimised test build costs ~20 ms a check.)
    let n = original.len() as u64;
    for off in (0..n).step_by(5).chain(n - 8..n) {
        common::flip_byte(&path, off);
        let e = archive::verify(&store, &m.id, &keys.verify, None, None).unwrap_err();
        assert!(
            matches!(e, VerifyError::SignatureInvalid { .. }),
            "offset {off}: {e}"
        );
        assert_eq!(e.check(), "manifest-signature");
        common::overwrite(&path, &original);
    }
    let sig = store_dir.path().join(manifest::signature_object(&m.id));
    let sig_orig = std::fs::read(&sig).unwrap();
    for off in (0..sig_orig.len() as u64).step_by(2) {
        common::flip_byte(&sig, off);
        let e = archive::verify(&store, &m.id, &keys.verify, None, None).unwrap_err();
        assert!(
            matches!(
                e,
                VerifyError::SignatureMalformed { .. }
                    | VerifyError::SignatureInvalid { .. }
                    | VerifyError::UntrustedSigner { .. }
            ),
            "sig offset {off}: {e}"
        );
        common::overwrite(&sig, &sig_orig);
    }
}

#[test]
fn swapped_archives_and_manifests_are_named() {
    let keys = common::keys();
    let src = tempfile::tempdir().unwrap();
    let sources = common::make_sources(src.path());
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(store_dir.path()).unwrap();
    let a = make(&keys, &store, "pbx1", &sources, 1_780_000_000);
    let b = make(&keys, &store, "pbx1", &sources[..1], 1_780_086_400);
    let d = store_dir.path();
    let (pa, pb) = (d.join(&a.archive.object), d.join(&b.archive.object));
    let (da, db) = (std::fs::read(&pa).unwrap(), std::fs::read(&pb).unwrap());
    common::overwrite(&pa, &db);
    common::overwrite(&pb, &da);
    for m in [&a, &b] {
        let e = archive::verify(&store, &m.id, &keys.verify, Some(&keys.decryption()), None)
            .unwrap_err();
        assert!(
            matches!(e, VerifyError::CiphertextHashMismatch { .. }),
            "{e}"
        );
    }
    common::overwrite(&pa, &da);
    common::overwrite(&pb, &db);
    // A validly signed manifest of another backup put in place of this one's.
    for (obj, f) in [
        (
            manifest::manifest_object(&a.id),
            manifest::manifest_object(&b.id),
        ),
        (
            manifest::signature_object(&a.id),
            manifest::signature_object(&b.id),
        ),
    ] {
        let data = std::fs::read(d.join(f)).unwrap();
        common::overwrite(&d.join(obj), &data);
    }
    let e = archive::verify(&store, &a.id, &keys.verify, None, None).unwrap_err();
    assert!(matches!(e, VerifyError::ManifestIdMismatch { .. }), "{e}");
    assert_eq!(e.check(), "manifest-swapped");
}

#[test]
fn truncated_or_missing_archive_is_named() {
    let keys = common::keys();
    let src = tempfile::tempdir().unwrap();
    let sources = common::make_sources(src.path());
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(store_dir.path()).unwrap();
    let m = make(&keys, &store, "pbx1", &sources, 1_780_000_000);
    let path = store_dir.path().join(&m.archive.object);
    let data = std::fs::read(&path).unwrap();
    for keep in [0, 100, data.len() / 2, data.len() - 1] {
        common::overwrite(&path, &data[..keep]);
        let e = archive::verify(&store, &m.id, &keys.verify, Some(&keys.decryption()), None)
            .unwrap_err();
        assert!(
            matches!(e, VerifyError::CiphertextHashMismatch { .. }),
            "{keep}: {e}"
        );
    }
    store.delete(&m.archive.object).unwrap();
    let e = archive::verify(&store, &m.id, &keys.verify, None, None).unwrap_err();
    assert!(matches!(e, VerifyError::ArchiveMissing { .. }), "{e}");
    let e = archive::verify(&store, "pbx1-20200101T000000Z", &keys.verify, None, None).unwrap_err();
    assert!(matches!(e, VerifyError::ManifestMissing { .. }), "{e}");
}

#[test]
fn manifest_signed_by_another_key_is_untrusted() {
    let keys = common::keys();
    let src = tempfile::tempdir().unwrap();
    let sources = common::make_sources(src.path());
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(store_dir.path()).unwrap();
    let m = make(&keys, &store, "pbx1", &sources, 1_780_000_000);
    let other = SigningKey::generate().verify_key();
    let e = archive::verify(&store, &m.id, &other, None, None).unwrap_err();
    assert!(matches!(e, VerifyError::UntrustedSigner { .. }), "{e}");
    // An attacker re-signing a modified manifest with their own key is also untrusted.
    let attacker = SigningKey::generate();
    let mpath = store_dir.path().join(manifest::manifest_object(&m.id));
    let mut text = std::fs::read(&mpath).unwrap();
    text.extend_from_slice(b" ");
    common::overwrite(&mpath, &text);
    let sig = manifest::SignatureFile::new(&attacker, &text);
    common::overwrite(
        &store_dir.path().join(manifest::signature_object(&m.id)),
        &serde_json::to_vec(&sig).unwrap(),
    );
    let e = archive::verify(&store, &m.id, &keys.verify, None, None).unwrap_err();
    assert!(matches!(e, VerifyError::UntrustedSigner { .. }), "{e}");
}

#[test]
fn wrong_identity_fails_decryption_not_hash() {
    let keys = common::keys();
    let other = common::keys();
    let src = tempfile::tempdir().unwrap();
    let sources = common::make_sources(src.path());
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(store_dir.path()).unwrap();
    let m = make(&keys, &store, "pbx1", &sources, 1_780_000_000);
    let e =
        archive::verify(&store, &m.id, &keys.verify, Some(&other.decryption()), None).unwrap_err();
    assert!(matches!(e, VerifyError::Decrypt { .. }), "{e}");
}

#[test]
fn passphrase_archive_roundtrip() {
    use sipsentry_backup::keys::{Decryption, Encryption, Secret};
    let keys = common::keys();
    let src = tempfile::tempdir().unwrap();
    let sources = common::make_sources(src.path());
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(store_dir.path()).unwrap();
    let enc = Encryption::Passphrase(Secret::from("correct horse battery staple".to_owned()));
    let m = archive::create(
        &store,
        &CreateOptions {
            name: "pp",
            sources: &sources,
            encryption: &enc,
            signer: &keys.signing,
            lock: None,
            staging_dir: None,
            now: Some(1_780_000_000),
        },
    )
    .unwrap();
    assert_eq!(m.archive.encryption, "age-scrypt");
    let mut d = Decryption::default();
    d.set_passphrase(Secret::from("correct horse battery staple".to_owned()));
    archive::verify(&store, &m.id, &keys.verify, Some(&d), None).unwrap();
    let mut wrong = Decryption::default();
    wrong.set_passphrase(Secret::from("wrong".to_owned()));
    let e = archive::verify(&store, &m.id, &keys.verify, Some(&wrong), None).unwrap_err();
    assert!(matches!(e, VerifyError::Decrypt { .. }), "{e}");
    assert!(!e.to_string().contains("wrong"));
}

#[test]
fn sqlite_online_backup_includes_uncheckpointed_wal() {
    let keys = common::keys();
    let src = tempfile::tempdir().unwrap();
    let db = src.path().join("live.db");
    // Connection kept open: rows sit in the WAL, not yet in the main file.
    let conn = common::make_sqlite(&db, 50);
    conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
    conn.execute("INSERT INTO findings (kind, src) VALUES ('LATE', 'x')", [])
        .unwrap();
    assert!(src.path().join("live.db-wal").exists());
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(store_dir.path()).unwrap();
    let m = make(
        &keys,
        &store,
        "db",
        std::slice::from_ref(&db),
        1_780_000_000,
    );
    let out = tempfile::tempdir().unwrap();
    archive::verify(
        &store,
        &m.id,
        &keys.verify,
        Some(&keys.decryption()),
        Some(out.path()),
    )
    .unwrap();
    let r = rusqlite::Connection::open(out.path().join("live.db")).unwrap();
    let n: i64 = r
        .query_row("SELECT count(*) FROM findings", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 51);
    drop(conn);
}

#[test]
fn bad_names_and_empty_sources_are_refused() {
    let keys = common::keys();
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(store_dir.path()).unwrap();
    let src = vec![store_dir.path().to_path_buf()];
    for name in ["", "../x", "a/b", ".hidden"] {
        let e = archive::create(
            &store,
            &CreateOptions {
                name,
                sources: &src,
                encryption: &keys.encryption(),
                signer: &keys.signing,
                lock: None,
                staging_dir: None,
                now: None,
            },
        )
        .unwrap_err();
        assert!(matches!(e, archive::CreateError::BadName(_)), "{name}: {e}");
    }
    let e = archive::create(
        &store,
        &CreateOptions {
            name: "x",
            sources: &[],
            encryption: &keys.encryption(),
            signer: &keys.signing,
            lock: None,
            staging_dir: None,
            now: None,
        },
    )
    .unwrap_err();
    assert!(matches!(e, archive::CreateError::NoSources));
    let missing = vec![store_dir.path().join("nope")];
    let e = archive::create(
        &store,
        &CreateOptions {
            name: "x",
            sources: &missing,
            encryption: &keys.encryption(),
            signer: &keys.signing,
            lock: None,
            staging_dir: None,
            now: None,
        },
    )
    .unwrap_err();
    assert!(matches!(e, archive::CreateError::Source { .. }), "{e}");
    // The failed create left no partial object behind.
    assert!(store.list().unwrap().is_empty());
}

/// Regression: a source tree that contains the target directory used to archive a torn copy of
/// its own growing staging file (and scratch dir); the backup's own files are now skipped.
#[test]
fn source_containing_the_target_skips_its_own_staging_file() {
    let keys = common::keys();
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("pjsip.conf"), "[t]\n").unwrap();
    let store = LocalDir::new(root.path().join("offsite")).unwrap();
    let m = make(
        &keys,
        &store,
        "self",
        &[root.path().to_path_buf()],
        1_780_000_000,
    );
    assert!(
        !m.entries
            .iter()
            .any(|e| e.path.contains(".partial") || e.path.contains("sipsentry-backup-")),
        "{:?}",
        m.entries
    );
    archive::verify(&store, &m.id, &keys.verify, Some(&keys.decryption()), None).unwrap();
}

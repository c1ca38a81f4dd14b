//! Proof: the restore drill passes a good backup (3CX-style zip, SQLite store, PostgreSQL dump
//! restored into a throw-away PostgreSQL) and fails a truncated or corrupted one, naming the
//! failed check.

mod common;

use sipsentry_backup::archive::{self, CreateOptions};
use sipsentry_backup::drill::{self, DrillOptions};
use sipsentry_backup::manifest::Manifest;
use sipsentry_backup::target::LocalDir;
use std::path::PathBuf;

fn backup(keys: &common::Keys, store: &LocalDir, sources: &[PathBuf]) -> Manifest {
    archive::create(
        store,
        &CreateOptions {
            name: "drill",
            sources,
            encryption: &keys.encryption(),
            signer: &keys.signing,
            lock: None,
            staging_dir: None,
            now: None,
        },
    )
    .unwrap()
}

fn opts(expect: &[&str]) -> DrillOptions {
    DrillOptions {
        expect_zip_entries: expect.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

#[test]
fn good_backup_passes_every_content_check() {
    common::require_tool("pg_restore", "postgresql");
    assert!(
        drill::pg_bindir().is_some(),
        "PostgreSQL server binaries missing: install the Debian package postgresql"
    );
    let keys = common::keys();
    let src = tempfile::tempdir().unwrap();
    let mut sources = common::make_sources(src.path());
    sources.push(common::pg_dump_vector());
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(store_dir.path()).unwrap();
    let m = backup(&keys, &store, &sources);
    let r = drill::restore_test(
        &store,
        &m.id,
        &keys.verify,
        &keys.decryption(),
        &opts(&["BackupInfo.xml", "Data/DbBackup/*.sql"]),
    );
    assert!(r.ok, "{r:#?}");
    let kinds: Vec<&str> = r.checks.iter().map(|c| c.check.as_str()).collect();
    assert_eq!(kinds, ["verify", "zip", "sqlite", "postgres"], "{r:#?}");
    let pg = &r.checks[3];
    // 3 extensions + 250 call records from tests/vectors/pbx-cdr.sql.
    assert!(pg.detail.contains("2 tables, 253 rows"), "{}", pg.detail);
    assert!(
        r.checks[1].detail.contains("8 entries"),
        "{}",
        r.checks[1].detail
    );
    assert!(r.checks[2].detail.contains("integrity_check ok"));
}

#[test]
fn truncated_archive_fails_the_drill() {
    let keys = common::keys();
    let src = tempfile::tempdir().unwrap();
    let sources = common::make_sources(src.path());
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(store_dir.path()).unwrap();
    let m = backup(&keys, &store, &sources);
    let p = store_dir.path().join(&m.archive.object);
    let data = std::fs::read(&p).unwrap();
    common::overwrite(&p, &data[..data.len() * 2 / 3]);
    let r = drill::restore_test(&store, &m.id, &keys.verify, &keys.decryption(), &opts(&[]));
    assert!(!r.ok);
    let f = r.failure().unwrap();
    assert_eq!(f.check, "verify");
    assert!(f.detail.contains("ciphertext-sha256"), "{}", f.detail);
}

#[test]
fn corrupted_archive_fails_the_drill() {
    let keys = common::keys();
    let src = tempfile::tempdir().unwrap();
    let sources = common::make_sources(src.path());
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(store_dir.path()).unwrap();
    let m = backup(&keys, &store, &sources);
    common::flip_byte(
        &store_dir.path().join(&m.archive.object),
        m.archive.ciphertext_size / 3,
    );
    let r = drill::restore_test(&store, &m.id, &keys.verify, &keys.decryption(), &opts(&[]));
    assert!(!r.ok);
    assert_eq!(r.failure().unwrap().check, "verify");
}

/// A backup that is intact as an archive but whose content was already broken when it was
/// taken (a damaged 3CX zip, a corrupt SQLite file, a missing expected entry) fails too.
#[test]
fn damaged_content_fails_the_drill() {
    let keys = common::keys();
    let src = tempfile::tempdir().unwrap();
    let zip = src.path().join("3CXScheduledBackup.zip");
    common::make_3cx_zip(&zip);
    let mut z = std::fs::read(&zip).unwrap();
    // Inside the deflated recording entry's data: a CRC mismatch (or inflate error) on read.
    let at = z.windows(12).position(|w| w == b"2026-01-01_c").unwrap() + 200;
    z[at] ^= 0xff;
    std::fs::write(&zip, &z).unwrap();
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(store_dir.path()).unwrap();
    let m = backup(&keys, &store, std::slice::from_ref(&zip));
    let r = drill::restore_test(&store, &m.id, &keys.verify, &keys.decryption(), &opts(&[]));
    assert!(!r.ok, "{r:#?}");
    assert_eq!(r.failure().unwrap().check, "zip", "{r:#?}");

    // Missing expected entry in an intact zip.
    let src2 = tempfile::tempdir().unwrap();
    let good = src2.path().join("3CXScheduledBackup.zip");
    common::make_3cx_zip(&good);
    let m = backup(&keys, &store, &[good]);
    let r = drill::restore_test(
        &store,
        &m.id,
        &keys.verify,
        &keys.decryption(),
        &opts(&["Data/DbBackup/*.sql", "Data/Missing/*"]),
    );
    assert!(!r.ok);
    let f = r.failure().unwrap();
    assert_eq!(f.check, "zip");
    assert!(
        f.detail.contains("Data/Missing/*") && !f.detail.contains("DbBackup"),
        "{}",
        f.detail
    );

    // Corrupt SQLite: a b-tree page overwritten.
    let src3 = tempfile::tempdir().unwrap();
    let db = src3.path().join("store.db");
    let c = common::make_sqlite(&db, 2000);
    c.pragma_update(None, "journal_mode", "delete").unwrap();
    drop(c);
    let mut d = std::fs::read(&db).unwrap();
    assert!(d.len() > 5 * 4096);
    for b in &mut d[3 * 4096 + 100..3 * 4096 + 400] {
        *b = 0xA5;
    }
    std::fs::write(&db, &d).unwrap();
    let m = backup(&keys, &store, &[db]);
    let r = drill::restore_test(&store, &m.id, &keys.verify, &keys.decryption(), &opts(&[]));
    assert!(!r.ok, "{r:#?}");
    assert_eq!(r.failure().unwrap().check, "sqlite", "{r:#?}");
}

#[test]
fn damaged_pg_dump_fails_the_drill() {
    common::require_tool("pg_restore", "postgresql");
    let keys = common::keys();
    let src = tempfile::tempdir().unwrap();
    let dump = src.path().join("pbx.dump");
    let mut d = std::fs::read(common::pg_dump_vector()).unwrap();
    d.truncate(d.len() * 2 / 3);
    std::fs::write(&dump, &d).unwrap();
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(store_dir.path()).unwrap();
    let m = backup(&keys, &store, &[dump]);
    let r = drill::restore_test(&store, &m.id, &keys.verify, &keys.decryption(), &opts(&[]));
    assert!(!r.ok, "{r:#?}");
    let f = r.failure().unwrap();
    assert_eq!(f.check, "postgres", "{r:#?}");
}

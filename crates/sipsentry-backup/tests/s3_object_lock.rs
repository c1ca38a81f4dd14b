//! Proof against a real S3 implementation with Object Lock (moto_server, from PyPI
//! `moto[server]`, started by .ci/deps.d/40-backup.sh on 127.0.0.80:5080): a locked backup
//! cannot be deleted or overwritten before its retention ends, verification reads the version
//! that was written, and prune leaves locked backups alone.

mod common;

use sipsentry_backup::archive::{self, CreateOptions};
use sipsentry_backup::manifest::{self, LockInfo};
use sipsentry_backup::retention::{self, Action, Policy};
use sipsentry_backup::s3::{Credentials, S3Target};
use sipsentry_backup::target::{Target, TargetError};
use sipsentry_backup::util;

const ENDPOINT: &str = "http://127.0.0.80:5080";

fn moto() -> (String, Credentials) {
    let endpoint = std::env::var("SIPSENTRY_TEST_S3_ENDPOINT").unwrap_or_else(|_| ENDPOINT.into());
    let hostport = endpoint.trim_start_matches("http://");
    if std::net::TcpStream::connect_timeout(
        &hostport
            .parse()
            .expect("SIPSENTRY_TEST_S3_ENDPOINT must be http://IP:PORT"),
        std::time::Duration::from_secs(2),
    )
    .is_err()
    {
        panic!(
            "no S3 server at {endpoint}: install moto (pip install 'moto[server]') and run \
             `moto_server -H 127.0.0.80 -p 5080` (.ci/deps.d/40-backup.sh starts it in CI)"
        );
    }
    (
        endpoint,
        Credentials::new("testing".into(), "testing-secret".into(), None),
    )
}

fn bucket(tag: &str) -> S3Target {
    let (endpoint, creds) = moto();
    let unique = format!(
        "sipsentry-{tag}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
            % 1_000_000_000
    );
    let t = S3Target::new(
        &format!("s3://{unique}/pbx1"),
        &endpoint,
        "us-east-1",
        creds,
    )
    .unwrap();
    t.create_bucket_with_lock().unwrap();
    t
}

fn lock(days: i64) -> LockInfo {
    let until = util::now_unix() + days * 86_400;
    LockInfo {
        mode: "COMPLIANCE".into(),
        retain_until: util::rfc3339(until),
        retain_until_unix: until,
    }
}

#[test]
fn locked_backup_cannot_be_deleted_or_overwritten() {
    let t = bucket("lock");
    let keys = common::keys();
    let src = tempfile::tempdir().unwrap();
    let sources = common::make_sources(src.path());
    let m = archive::create(
        &t,
        &CreateOptions {
            name: "pbx1",
            sources: &sources,
            encryption: &keys.encryption(),
            signer: &keys.signing,
            lock: Some(lock(1)),
            staging_dir: None,
            now: None,
        },
    )
    .unwrap();
    let version = m
        .archive
        .version_id
        .clone()
        .expect("versioned bucket returns a version id");
    let drill = sipsentry_backup::drill::restore_test(
        &t,
        &m.id,
        &keys.verify,
        &keys.decryption(),
        &Default::default(),
    );
    assert!(drill.ok, "restore drill from S3: {drill:#?}");
    archive::verify(&t, &m.id, &keys.verify, Some(&keys.decryption()), None).unwrap();

    // The storage itself reports the lock.
    let ls = t
        .lock_state(&m.archive.object)
        .unwrap()
        .expect("object is locked");
    assert_eq!(ls.mode, "COMPLIANCE");
    assert!(ls.retain_until_unix > util::now_unix());

    // Deleting the locked version is refused by the server.
    let e = t.delete_version(&m.archive.object, &version).unwrap_err();
    match &e {
        TargetError::S3 { status, code, .. } => {
            assert_eq!(*status, 403, "{e}");
            assert_eq!(code, "AccessDenied", "{e}");
        }
        other => panic!("expected an S3 refusal, got {other}"),
    }
    // So is deleting "everything" (every version).
    assert!(t.delete(&m.archive.object).is_err());
    assert!(t
        .delete_version(
            &manifest::manifest_object(&m.id),
            &t.versions(&manifest::manifest_object(&m.id)).unwrap()[0].version_id
        )
        .is_err());

    // Overwriting only stacks a new version: the locked one is intact and still verifies.
    let garbage = vec![0x42u8; 1000];
    let v2 = t
        .put_unlocked(&m.archive.object, &garbage)
        .unwrap()
        .unwrap();
    assert_ne!(v2, version);
    let mut latest = Vec::new();
    std::io::Read::read_to_end(&mut t.get(&m.archive.object, None).unwrap(), &mut latest).unwrap();
    assert_eq!(latest, garbage, "the attacker's version is the latest");
    archive::verify(&t, &m.id, &keys.verify, Some(&keys.decryption()), None)
        .expect("verification reads the version pinned in the manifest");
    let versions = t.versions(&m.archive.object).unwrap();
    assert!(versions.iter().any(|v| v.version_id == version));
    // Removing the attacker's unlocked version is allowed and changes nothing for the locked one.
    let _ = t.delete_version(&m.archive.object, &v2);
    archive::verify(&t, &m.id, &keys.verify, Some(&keys.decryption()), None).unwrap();
}

#[test]
fn prune_leaves_locked_backups_alone() {
    let t = bucket("prune");
    let keys = common::keys();
    let src = tempfile::tempdir().unwrap();
    let sources = common::make_sources(src.path());
    let now = util::now_unix();
    let day = 86_400;
    let mk = |at: i64, l: Option<LockInfo>| {
        archive::create(
            &t,
            &CreateOptions {
                name: "pbx1",
                sources: &sources[..1],
                encryption: &keys.encryption(),
                signer: &keys.signing,
                lock: l,
                staging_dir: None,
                now: Some(at),
            },
        )
        .unwrap()
    };
    let old_locked = mk(now - 10 * day, Some(lock(1)));
    let old_unlocked = mk(now - 9 * day, None);
    let newest = mk(now - day, None);
    let policy = Policy {
        keep_last: 1,
        ..Policy::default()
    };
    let d = retention::prune(&t, &policy, now, false).unwrap();
    let by_id = |id: &str| d.iter().find(|x| x.id == id).unwrap().action.clone();
    assert!(
        matches!(by_id(&old_locked.id), Action::SkipLocked { .. }),
        "{d:?}"
    );
    assert_eq!(by_id(&old_unlocked.id), Action::Delete { dry_run: false });
    assert!(matches!(by_id(&newest.id), Action::Keep { .. }));
    let ids = archive::list_ids(&t).unwrap();
    assert_eq!(ids, vec![old_locked.id.clone(), newest.id.clone()]);
    archive::verify(
        &t,
        &old_locked.id,
        &keys.verify,
        Some(&keys.decryption()),
        None,
    )
    .unwrap();
}

/// Archives above the part size go up as a multipart upload (each part checksummed, lock
/// headers on the upload), and come back identical and locked.
#[test]
fn multipart_upload_is_locked_and_verifies() {
    let t = bucket("multi").with_part_size(5 << 20);
    let keys = common::keys();
    let src = tempfile::tempdir().unwrap();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let data: Vec<u8> = (0..(12 << 20))
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    std::fs::write(src.path().join("recordings.bin"), &data).unwrap();
    let m = archive::create(
        &t,
        &CreateOptions {
            name: "big",
            sources: &[src.path().join("recordings.bin")],
            encryption: &keys.encryption(),
            signer: &keys.signing,
            lock: Some(lock(1)),
            staging_dir: None,
            now: None,
        },
    )
    .unwrap();
    assert!(m.archive.ciphertext_size > 10 << 20);
    let version = m
        .archive
        .version_id
        .clone()
        .expect("version id from CompleteMultipartUpload");
    archive::verify(&t, &m.id, &keys.verify, Some(&keys.decryption()), None).unwrap();
    let ls = t
        .lock_state(&m.archive.object)
        .unwrap()
        .expect("multipart object is locked");
    assert_eq!(ls.mode, "COMPLIANCE");
    assert!(t.delete_version(&m.archive.object, &version).is_err());
}

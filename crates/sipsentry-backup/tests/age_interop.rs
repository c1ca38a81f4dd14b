//! Proof: archives made by sipsentry decrypt with Debian's `age` CLI (X25519 and passphrase),
//! and archives made by `tar | age` are read by sipsentry.

mod common;

use sipsentry_backup::archive::{self, CreateOptions};
use sipsentry_backup::keys::{Decryption, Encryption, Secret};
use sipsentry_backup::target::LocalDir;
use std::path::Path;
use std::process::Command;

fn sha(p: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(p).unwrap()))
}

fn untar(tar_file: &Path, into: &Path) {
    let tar = common::require_tool("tar", "tar");
    let st = Command::new(tar)
        .arg("-xf")
        .arg(tar_file)
        .arg("-C")
        .arg(into)
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn sipsentry_x25519_archive_decrypts_with_age_cli() {
    let age = common::require_tool("age", "age");
    let keys = common::keys();
    let src = tempfile::tempdir().unwrap();
    let sources = common::make_sources(src.path());
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(store_dir.path()).unwrap();
    let m = archive::create(
        &store,
        &CreateOptions {
            name: "pbx1",
            sources: &sources,
            encryption: &keys.encryption(),
            signer: &keys.signing,
            lock: None,
            staging_dir: None,
            now: None,
        },
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let plain = work.path().join("out.tar");
    let out = Command::new(age)
        .arg("-d")
        .arg("-i")
        .arg(&keys.identity_file)
        .arg("-o")
        .arg(&plain)
        .arg(store_dir.path().join(&m.archive.object))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "age -d failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The plaintext age produced is exactly what the manifest hashed.
    assert_eq!(sha(&plain), m.archive.plaintext_sha256);
    let x = work.path().join("x");
    std::fs::create_dir(&x).unwrap();
    untar(&plain, &x);
    assert_eq!(sha(&x.join("3CXScheduledBackup.zip")), sha(&sources[1]));
    assert_eq!(
        sha(&x.join("asterisk/pjsip.d/trunk.conf")),
        sha(&sources[0].join("pjsip.d/trunk.conf"))
    );
    for e in m.entries.iter().filter(|e| e.sha256.is_some()) {
        assert_eq!(Some(sha(&x.join(&e.path))), e.sha256, "{}", e.path);
    }
}

#[test]
fn sipsentry_passphrase_archive_decrypts_with_age_cli() {
    common::require_tool("age", "age");
    let keys = common::keys();
    let src = tempfile::tempdir().unwrap();
    let sources = common::make_sources(src.path());
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(store_dir.path()).unwrap();
    let pass = "interop passphrase 7f3a";
    let m = archive::create(
        &store,
        &CreateOptions {
            name: "pp",
            sources: &sources[..1],
            encryption: &Encryption::Passphrase(Secret::from(pass.to_owned())),
            signer: &keys.signing,
            lock: None,
            staging_dir: None,
            now: None,
        },
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let plain = work.path().join("out.tar");
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/age_pty.py"))
        .args(["AGE_TEST_PASS", "-d", "-o"])
        .arg(&plain)
        .arg(store_dir.path().join(&m.archive.object))
        .env("AGE_TEST_PASS", pass)
        .output()
        .expect("python3 is needed to drive age's passphrase prompt");
    assert!(
        out.status.success(),
        "age -d (passphrase) failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(sha(&plain), m.archive.plaintext_sha256);
}

#[test]
fn age_cli_archives_are_read_by_sipsentry() {
    let age = common::require_tool("age", "age");
    let tar = common::require_tool("tar", "tar");
    let keys = common::keys();
    let src = tempfile::tempdir().unwrap();
    let sources = common::make_sources(src.path());
    let work = tempfile::tempdir().unwrap();
    let enc = work.path().join("foreign.tar.age");
    // tar c | age -r RECIPIENT > foreign.tar.age
    let tar_out = Command::new(tar)
        .arg("-cf")
        .arg("-")
        .arg("-C")
        .arg(src.path())
        .args(["asterisk", "3CXScheduledBackup.zip"])
        .output()
        .unwrap();
    assert!(tar_out.status.success());
    let mut child = Command::new(&age)
        .args(["-r", &keys.recipient, "-o"])
        .arg(&enc)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&tar_out.stdout)
        .unwrap();
    assert!(child.wait().unwrap().success());
    let x = work.path().join("x");
    let entries = archive::read_foreign(
        std::fs::File::open(&enc).unwrap(),
        &keys.decryption(),
        Some(&x),
    )
    .unwrap();
    let zip = entries
        .iter()
        .find(|e| e.path == "3CXScheduledBackup.zip")
        .unwrap();
    assert_eq!(zip.sha256, sha(&sources[1]));
    assert!(entries
        .iter()
        .any(|e| e.path == "asterisk/pjsip.d/trunk.conf"));
    assert_eq!(
        sha(&x.join("asterisk/pjsip.conf")),
        sha(&sources[0].join("pjsip.conf"))
    );

    // Passphrase direction: `age -p` (driven through a pty) read with the same passphrase.
    let pass = "age made this 91c2";
    let tar_file = work.path().join("plain.tar");
    std::fs::write(&tar_file, &tar_out.stdout).unwrap();
    let enc_p = work.path().join("foreign-p.tar.age");
    let out = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/age_pty.py"))
        .args(["AGE_TEST_PASS", "-p", "-o"])
        .arg(&enc_p)
        .arg(&tar_file)
        .env("AGE_TEST_PASS", pass)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "age -p failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut d = Decryption::default();
    d.set_passphrase(Secret::from(pass.to_owned()));
    let entries = archive::read_foreign(std::fs::File::open(&enc_p).unwrap(), &d, None).unwrap();
    assert_eq!(
        entries
            .iter()
            .find(|e| e.path == "3CXScheduledBackup.zip")
            .unwrap()
            .sha256,
        sha(&sources[1])
    );
    // Damage in an age-made file is caught by age's authentication.
    common::flip_byte(&enc, std::fs::metadata(&enc).unwrap().len() / 2);
    assert!(
        archive::read_foreign(std::fs::File::open(&enc).unwrap(), &keys.decryption(), None)
            .is_err()
    );
}

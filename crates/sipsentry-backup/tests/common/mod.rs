//! Shared fixtures for the backup integration tests.
#![allow(dead_code)]

use sipsentry_backup::keys::{Decryption, Encryption, SigningKey, VerifyKey};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct Keys {
    pub dir: tempfile::TempDir,
    pub identity_file: PathBuf,
    pub recipient: String,
    pub signing: SigningKey,
    pub verify: VerifyKey,
}

impl Keys {
    pub fn encryption(&self) -> Encryption {
        Encryption::Recipients(vec![sipsentry_backup::keys::parse_recipient(
            &self.recipient,
        )
        .unwrap()])
    }
    pub fn decryption(&self) -> Decryption {
        let mut d = Decryption::default();
        d.add_identity_file(&self.identity_file).unwrap();
        d
    }
}

pub fn keys() -> Keys {
    let dir = tempfile::tempdir().unwrap();
    let (identity, recipient) = sipsentry_backup::keys::generate_identity();
    let identity_file = dir.path().join("identity.txt");
    sipsentry_backup::keys::write_secret_file(&identity_file, &identity).unwrap();
    let signing = SigningKey::generate();
    let verify = signing.verify_key();
    Keys {
        dir,
        identity_file,
        recipient,
        signing,
        verify,
    }
}

/// Fails (never skips) when a peer tool is missing, naming the Debian package.
pub fn require_tool(bin: &str, package: &str) -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = Path::new(dir).join(bin);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "`{bin}` not found: install the Debian package `{package}` (.ci/deps.d/40-backup.sh does)"
    );
}

/// A synthetic 3CX-style backup zip.
///
/// 3CX does not publish the layout of its backup zip; its documentation describes what a
/// backup holds: extension and group settings, trunks, inbound/outbound rules (always), and
/// optionally call history, recordings, voicemail, prompts, licence key, FQDN and SSL
/// certificates. The entry names below are placeholders for those categories, NOT copied from
/// a real 3CX backup.
pub fn make_3cx_zip(path: &Path) {
    let f = std::fs::File::create(path).unwrap();
    let mut z = zip::ZipWriter::new(f);
    let opt = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let entries: &[(&str, Vec<u8>)] = &[
        (
            "BackupInfo.xml",
            b"<Backup version=\"20.0\" synthetic=\"true\"><Options CallHistory=\"1\" Recordings=\"1\" Voicemail=\"1\" Prompts=\"1\" License=\"1\" Fqdn=\"1\"/></Backup>".to_vec(),
        ),
        (
            "Data/DbBackup/phonesystem.sql",
            b"-- synthetic: extensions, groups, trunks, inbound and outbound rules\nINSERT INTO extension VALUES ('100','Reception');\n".repeat(200),
        ),
        ("Data/DbBackup/callhistory.sql", b"INSERT INTO cdr VALUES (1,'100','+4930123');\n".repeat(500)),
        ("Data/Ivr/Prompts/welcome.wav", vec![0x52; 40_000]),
        ("Data/Recordings/100/2026-01-01_call.wav", (0..60_000u32).map(|i| (i * 7 % 251) as u8).collect()),
        ("Data/Voicemail/100/msg0001.wav", vec![0x11; 20_000]),
        ("Data/Http/certs/pbx.example.invalid.crt", b"-----BEGIN CERTIFICATE-----\nsynthetic\n-----END CERTIFICATE-----\n".to_vec()),
        ("Data/License/license.xml", b"<License key=\"SYNTHETIC-0000\"/>".to_vec()),
    ];
    for (name, data) in entries {
        z.start_file(*name, opt).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap();
}

/// SQLite database with `rows` rows in WAL mode (like a live store).
pub fn make_sqlite(path: &Path, rows: u32) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(path).unwrap();
    c.pragma_update(None, "journal_mode", "wal").unwrap();
    c.execute_batch("CREATE TABLE findings (id INTEGER PRIMARY KEY, kind TEXT, src TEXT);")
        .unwrap();
    for i in 0..rows {
        c.execute(
            "INSERT INTO findings (kind, src) VALUES (?1, ?2)",
            ("SIP-SCANNER", format!("203.0.113.{}", i % 250)),
        )
        .unwrap();
    }
    c
}

pub fn pg_dump_vector() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/pbx-cdr.dump")
}

/// Flips one bit of one byte (files on targets are read-only, as stored).
pub fn flip_byte(path: &Path, offset: u64) {
    let mut data = std::fs::read(path).unwrap();
    let i = (offset as usize).min(data.len() - 1);
    data[i] ^= 0x01;
    overwrite(path, &data);
}

pub fn overwrite(path: &Path, data: &[u8]) {
    let mut p = std::fs::metadata(path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    p.set_readonly(false);
    std::fs::set_permissions(path, p).unwrap();
    std::fs::write(path, data).unwrap();
}

/// A PBX-like source tree: config dir, a 3CX zip, a SQLite store.
pub fn make_sources(root: &Path) -> Vec<PathBuf> {
    let etc = root.join("asterisk");
    std::fs::create_dir_all(etc.join("pjsip.d")).unwrap();
    std::fs::write(
        etc.join("pjsip.conf"),
        "[transport-udp]\ntype=transport\nprotocol=udp\n",
    )
    .unwrap();
    std::fs::write(etc.join("pjsip.d/trunk.conf"), "[trunk]\ntype=endpoint\n").unwrap();
    std::fs::write(
        etc.join("extensions.conf"),
        "[from-internal]\nexten => _1XX,1,Dial(PJSIP/${EXTEN})\n",
    )
    .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("pjsip.conf", etc.join("pjsip-link.conf")).unwrap();
    let zip = root.join("3CXScheduledBackup.zip");
    make_3cx_zip(&zip);
    let db = root.join("sipsentry.db");
    drop(make_sqlite(&db, 300));
    vec![etc, zip, db]
}

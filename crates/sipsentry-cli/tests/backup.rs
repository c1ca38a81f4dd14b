//! `sipsentry backup` end to end through the binary: exit codes, the restore alert (stdout JSON
//! line and webhook), and secrets never appearing in any output.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sipsentry"));
    c.env_remove("SIPSENTRY_BACKUP_PASSPHRASE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    c
}

fn run(mut c: Command) -> Output {
    c.output().expect("run sipsentry")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let o = run({
            let mut c = bin();
            c.args(["backup", "keygen", "--out-dir"])
                .arg(dir.path().join("keys"));
            c
        });
        assert!(o.status.success(), "{}", text(&o));
        let src = dir.path().join("src");
        std::fs::create_dir_all(src.join("asterisk")).unwrap();
        std::fs::write(src.join("asterisk/pjsip.conf"), "[t]\ntype=transport\n").unwrap();
        std::fs::write(src.join("3CXScheduledBackup.zip"), minimal_zip()).unwrap();
        Setup { dir }
    }
    fn p(&self, rel: &str) -> std::path::PathBuf {
        self.dir.path().join(rel)
    }
    fn secret_strings(&self) -> Vec<String> {
        let id = std::fs::read_to_string(self.p("keys/backup-identity.txt")).unwrap();
        let id_line = id
            .lines()
            .find(|l| l.starts_with("AGE-SECRET-KEY-"))
            .unwrap()
            .to_string();
        let sk = std::fs::read_to_string(self.p("keys/backup-signing.key")).unwrap();
        let sk_b64 = sk.trim().split(':').nth(1).unwrap().to_string();
        vec![id_line.clone(), id_line.to_lowercase(), sk_b64]
    }
    fn create(&self, store: &Path) -> Output {
        let mut c = bin();
        c.args(["backup", "create", "--name", "pbx1", "--source"])
            .arg(self.p("src"))
            .arg("--to")
            .arg(store)
            .arg("--recipients-file")
            .arg(self.p("keys/backup-recipient.txt"))
            .arg("--signing-key")
            .arg(self.p("keys/backup-signing.key"));
        run(c)
    }
    fn with_keys(&self, c: &mut Command) {
        c.arg("--verify-key")
            .arg(self.p("keys/backup-verify.pub"))
            .arg("--identity")
            .arg(self.p("keys/backup-identity.txt"));
    }
}

/// Smallest valid zip with one stored entry (built by hand: the CLI has no zip writer).
fn minimal_zip() -> Vec<u8> {
    let name = b"BackupInfo.xml";
    let data = b"<Backup synthetic=\"true\"/>";
    let crc = crc32(data);
    let mut z = Vec::new();
    let lh = z.len() as u32;
    z.extend_from_slice(b"PK\x03\x04");
    z.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend_from_slice(&crc.to_le_bytes());
    z.extend_from_slice(&(data.len() as u32).to_le_bytes());
    z.extend_from_slice(&(data.len() as u32).to_le_bytes());
    z.extend_from_slice(&(name.len() as u16).to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z.extend_from_slice(name);
    z.extend_from_slice(data);
    let cd = z.len() as u32;
    z.extend_from_slice(b"PK\x01\x02");
    z.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    z.extend_from_slice(&crc.to_le_bytes());
    z.extend_from_slice(&(data.len() as u32).to_le_bytes());
    z.extend_from_slice(&(data.len() as u32).to_le_bytes());
    z.extend_from_slice(&(name.len() as u16).to_le_bytes());
    z.extend_from_slice(&[0; 12]);
    z.extend_from_slice(&lh.to_le_bytes());
    z.extend_from_slice(name);
    let cd_len = z.len() as u32 - cd;
    z.extend_from_slice(b"PK\x05\x06");
    z.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
    z.extend_from_slice(&cd_len.to_le_bytes());
    z.extend_from_slice(&cd.to_le_bytes());
    z.extend_from_slice(&0u16.to_le_bytes());
    z
}

fn crc32(d: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in d {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

fn archive_path(store: &Path) -> std::path::PathBuf {
    std::fs::read_dir(store)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".tar.age"))
        .unwrap()
}

fn corrupt(p: &Path) {
    let mut d = std::fs::read(p).unwrap();
    let i = d.len() / 2;
    d[i] ^= 1;
    let mut perm = std::fs::metadata(p).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perm.set_readonly(false);
    std::fs::set_permissions(p, perm).unwrap();
    std::fs::write(p, d).unwrap();
}

#[test]
fn backup_verify_exit_codes() {
    let s = Setup::new();
    let store = s.p("store");
    let o = s.create(&store);
    assert!(o.status.success(), "{}", text(&o));
    let verify = |extra: &[&str]| {
        let mut c = bin();
        c.args(["backup", "verify", "--target"]).arg(&store);
        s.with_keys(&mut c);
        c.args(extra);
        run(c)
    };
    let o = verify(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("OK   pbx1-"), "{}", text(&o));
    corrupt(&archive_path(&store));
    let o = verify(&["--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["check"], "ciphertext-sha256");
    assert_eq!(lines[1]["id"], "BACKUP-VERIFY-FAILED");
    // Usage errors: 2.
    let o = run({
        let mut c = bin();
        c.args(["backup", "verify", "--target"]).arg(&store);
        c
    });
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = run({
        let mut c = bin();
        c.args(["backup", "create", "--source", "/nonexistent/x", "--to"])
            .arg(&store)
            .arg("--signing-key")
            .arg(s.p("keys/backup-signing.key"))
            .args(["--recipient", "age1notarecipient"]);
        c
    });
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("not an age X25519 recipient"),
        "{}",
        text(&o)
    );
}

/// A failed drill exits 1, prints the alert JSON line on stdout and POSTs it to the webhook.
#[test]
fn failed_restore_drill_alerts_on_stdout_and_webhook() {
    let s = Setup::new();
    let store = s.p("store");
    assert!(s.create(&store).status.success());
    let mut c = bin();
    c.args(["backup", "restore-test", "--target"]).arg(&store);
    s.with_keys(&mut c);
    c.args(["--expect-entry", "BackupInfo.xml"]);
    let o = run(c);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("PASSED"));

    corrupt(&archive_path(&store));
    let listener = std::net::TcpListener::bind("127.0.0.82:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        sock.set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        let mut r = BufReader::new(sock.try_clone().unwrap());
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; len.min(1 << 20)];
        r.read_exact(&mut body).unwrap();
        sock.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            .unwrap();
        body
    });
    let mut c = bin();
    c.args(["backup", "restore-test", "--target"]).arg(&store);
    s.with_keys(&mut c);
    c.args(["--webhook", &format!("http://{addr}/hook")]);
    let o = run(c);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("FAILED"));
    let alert: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(alert["id"], "BACKUP-RESTORE-FAILED");
    assert_eq!(alert["check"], "verify");
    assert_eq!(alert["severity"], "critical");
    let posted: serde_json::Value = serde_json::from_slice(&server.join().unwrap()).unwrap();
    assert_eq!(posted, alert);
}

/// Keys and passphrases never appear in stdout/stderr, in success or in error paths.
#[test]
fn secrets_never_in_output() {
    let s = Setup::new();
    let store = s.p("store");
    let pass = "Tr0ub4dor&3-passphrase-marker";
    let mut outputs = Vec::new();
    outputs.push(s.create(&store));
    // Passphrase backup, from the environment.
    let pstore = s.p("pstore");
    let mut c = bin();
    c.env("SIPSENTRY_BACKUP_PASSPHRASE", pass)
        .args(["backup", "create", "--name", "pp", "--source"])
        .arg(s.p("src/asterisk"))
        .arg("--to")
        .arg(&pstore)
        .arg("--signing-key")
        .arg(s.p("keys/backup-signing.key"));
    let o = run(c);
    assert!(o.status.success(), "{}", text(&o));
    outputs.push(o);
    // Verify with the right and with a wrong passphrase (from a file).
    for (p, ok) in [(pass, true), ("wrong-passphrase-marker", false)] {
        let pf = s.p("pass.txt");
        std::fs::write(&pf, format!("{p}\n")).unwrap();
        let mut c = bin();
        c.args(["backup", "verify", "--target"])
            .arg(&pstore)
            .arg("--verify-key")
            .arg(s.p("keys/backup-verify.pub"))
            .arg("--passphrase-file")
            .arg(&pf);
        let o = run(c);
        assert_eq!(o.status.success(), ok, "{}", text(&o));
        outputs.push(o);
        assert!(!text(outputs.last().unwrap()).contains(p));
    }
    // Secret files given where another kind of key is expected: errors must not echo them.
    let mut c = bin();
    c.args(["backup", "verify", "--target"])
        .arg(&store)
        .arg("--verify-key")
        .arg(s.p("keys/backup-signing.key"));
    outputs.push(run(c));
    let mut c = bin();
    c.args(["backup", "verify", "--target"])
        .arg(&store)
        .arg("--verify-key")
        .arg(s.p("keys/backup-verify.pub"))
        .arg("--identity")
        .arg(s.p("keys/backup-signing.key"));
    outputs.push(run(c));
    let mut c = bin();
    c.args(["backup", "create", "--source"])
        .arg(s.p("src"))
        .arg("--to")
        .arg(&store)
        .arg("--recipients-file")
        .arg(s.p("keys/backup-identity.txt"))
        .arg("--signing-key")
        .arg(s.p("keys/backup-identity.txt"));
    outputs.push(run(c));
    let mut c = bin();
    c.args(["backup", "restore-test", "--target"]).arg(&store);
    s.with_keys(&mut c);
    c.args(["--format", "json"]);
    outputs.push(run(c));
    // S3 secret key: a failing S3 call (nothing listens on this port) must not leak it.
    let mut c = bin();
    c.env("AWS_ACCESS_KEY_ID", "AKIDMARKER")
        .env("AWS_SECRET_ACCESS_KEY", "s3-secret-key-marker")
        .args([
            "backup",
            "list",
            "--target",
            "s3://nobucket/x",
            "--s3-endpoint",
            "http://127.0.0.82:9",
        ]);
    let o = run(c);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!text(&o).contains("s3-secret-key-marker"), "{}", text(&o));
    let secrets = s.secret_strings();
    for o in &outputs {
        let t = text(o);
        for sec in &secrets {
            assert!(!t.contains(sec.as_str()), "secret leaked in: {t}");
        }
        assert!(!t.contains(pass), "passphrase leaked in: {t}");
    }
}

/// A failed drill reaches the live guard's own alert channels (`--alert-config watch.toml`):
/// here its RFC 5424 syslog target, a UDP receiver on loopback.
#[test]
fn failed_restore_drill_alerts_through_the_guards_channels() {
    let s = Setup::new();
    let store = s.p("store");
    assert!(s.create(&store).status.success());
    corrupt(&archive_path(&store));
    let syslog = std::net::UdpSocket::bind("127.0.0.82:0").unwrap();
    syslog
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let watch = s.p("watch.toml");
    std::fs::write(
        &watch,
        format!(
            "[alerts]\nsyslog = \"udp:{}\"\n",
            syslog.local_addr().unwrap()
        ),
    )
    .unwrap();
    let mut c = bin();
    c.args(["backup", "restore-test", "--alert-config"])
        .arg(&watch)
        .arg("--target")
        .arg(&store);
    s.with_keys(&mut c);
    let o = run(c);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let mut buf = [0u8; 8192];
    let n = syslog.recv(&mut buf).expect("no syslog message");
    let line = String::from_utf8_lossy(&buf[..n]);
    assert!(line.starts_with("<82>1 "), "{line}"); // authpriv.crit
    assert!(line.contains(" BACKUP-RESTORE-FAILED [sipsentry@32473 event=\"alert\" id=\"BACKUP-RESTORE-FAILED\" severity=\"critical\""), "{line}");
}

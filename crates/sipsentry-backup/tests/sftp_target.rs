//! SFTP target against a real OpenSSH server (Debian `openssh-server`) started by the test on
//! 127.0.0.83 with its own host key and an authorized client key; the OpenSSH `sftp` client
//! (Debian `openssh-client`) talks to it.

mod common;

use sipsentry_backup::archive::{self, CreateOptions};
use sipsentry_backup::sftp::SftpTarget;
use sipsentry_backup::target::Target;
use std::path::Path;
use std::process::{Child, Command};

struct Sshd {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn keygen(path: &Path) {
    let st = Command::new(common::require_tool("ssh-keygen", "openssh-client"))
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .unwrap();
    assert!(st.success());
}

fn sshd() -> Sshd {
    common::require_tool("sftp", "openssh-client");
    let sshd = Path::new("/usr/sbin/sshd");
    assert!(
        sshd.exists(),
        "/usr/sbin/sshd not found: install the Debian package openssh-server"
    );
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    keygen(&d.join("host"));
    keygen(&d.join("client"));
    std::fs::copy(d.join("client.pub"), d.join("authorized_keys")).unwrap();
    // Privilege separation directory the server insists on.
    std::fs::create_dir_all("/run/sshd").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.83:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    std::fs::write(
        d.join("sshd_config"),
        format!(
            "ListenAddress 127.0.0.83\nPort {port}\nHostKey {h}\nAuthorizedKeysFile {a}\n\
             PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             UsePAM no\nStrictModes no\nSubsystem sftp internal-sftp\nPidFile {p}\nAllowUsers {user}\n",
            h = d.join("host").display(),
            a = d.join("authorized_keys").display(),
            p = d.join("sshd.pid").display(),
        ),
    )
    .unwrap();
    let child = Command::new(sshd)
        .arg("-D")
        .arg("-e")
        .arg("-f")
        .arg(d.join("sshd_config"))
        .stderr(std::fs::File::create(d.join("sshd.log")).unwrap())
        .spawn()
        .unwrap();
    // In the guard before anything can fail, so the server is always killed.
    let server = Sshd { child, port, dir };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.83", port)).is_ok() {
            return server;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!(
        "sshd did not start: {}",
        std::fs::read_to_string(server.dir.path().join("sshd.log")).unwrap_or_default()
    );
}

#[test]
fn backup_verify_prune_over_sftp() {
    let server = sshd();
    let user = std::env::var("USER").unwrap_or_else(|_| "root".into());
    let remote_dir = server.dir.path().join("remote-store");
    let t = SftpTarget::new(
        &format!(
            "sftp://{user}@127.0.0.83:{}{}",
            server.port,
            remote_dir.display()
        ),
        Some(server.dir.path().join("client")),
        vec![
            "StrictHostKeyChecking=no".into(),
            "UserKnownHostsFile=/dev/null".into(),
        ],
    )
    .unwrap();
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
            lock: None,
            staging_dir: None,
            now: None,
        },
    )
    .unwrap_or_else(|e| {
        panic!(
            "{e}; sshd log: {}",
            std::fs::read_to_string(server.dir.path().join("sshd.log")).unwrap_or_default()
        )
    });
    // The objects really are on the server's disk.
    assert!(remote_dir.join(&m.archive.object).exists());
    assert_eq!(archive::list_ids(&t).unwrap(), vec![m.id.clone()]);
    archive::verify(&t, &m.id, &keys.verify, Some(&keys.decryption()), None).unwrap();
    let r = sipsentry_backup::drill::restore_test(
        &t,
        &m.id,
        &keys.verify,
        &keys.decryption(),
        &Default::default(),
    );
    assert!(r.ok, "{r:#?}");
    // Tampering on the server is detected through SFTP too.
    common::flip_byte(&remote_dir.join(&m.archive.object), 500);
    let e = archive::verify(&t, &m.id, &keys.verify, None, None).unwrap_err();
    assert_eq!(e.check(), "ciphertext-sha256");
    // Missing objects are NotFound, and delete works.
    assert!(matches!(
        t.get("nope-20200101T000000Z.manifest.json", None),
        Err(sipsentry_backup::target::TargetError::NotFound { .. })
    ));
    t.delete(&m.archive.object).unwrap();
    assert!(!remote_dir.join(&m.archive.object).exists());
}

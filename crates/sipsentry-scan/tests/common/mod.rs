//! Shared helpers for the integration tests: real Kamailio (and openssl s_server) on loopback,
//! each instance on its own 127.0.0.5x address with its own runtime directory, stopped by a
//! Drop guard (SIGTERM to the PID we started, then SIGKILL).
#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn need(tool: &str, package: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"] {
        let p = Path::new(dir).join(tool);
        if p.exists() {
            return p;
        }
    }
    if let Ok(out) = Command::new("which").arg(tool).output() {
        let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.status.success() && !s.is_empty() {
            return PathBuf::from(s);
        }
    }
    panic!("{tool} not found: install the package `{package}` (see .ci/deps.d/30-scan.sh)");
}

pub fn kamailio_mpath() -> String {
    for p in [
        "/usr/lib/x86_64-linux-gnu/kamailio/modules/",
        "/usr/lib/aarch64-linux-gnu/kamailio/modules/",
        "/usr/lib/kamailio/modules/",
    ] {
        if Path::new(p).join("tm.so").exists() {
            return p.to_string();
        }
    }
    panic!("Kamailio modules not found: install the Debian package `kamailio`");
}

pub fn need_tls_module() {
    let m = kamailio_mpath();
    if !Path::new(&m).join("tls.so").exists() {
        panic!("Kamailio tls.so not found: install the Debian package `kamailio-tls-modules`");
    }
}

pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "sipsentry-scan-{name}-{}-{}",
            std::process::id(),
            Instant::now().elapsed().as_nanos() ^ (rand_u32() as u128)
        ));
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }
}

fn rand_u32() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process stopped on drop: SIGTERM (Kamailio's main process then stops its workers),
/// a grace period, then SIGKILL.
pub struct Guard {
    pub child: Child,
    pub name: String,
    pub log: PathBuf,
    _dir: TempDir,
}

impl Guard {
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn wait_tcp(addr: SocketAddr, guard: &mut Guard) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            // UDP listeners come up with the TCP ones; give the workers a moment.
            std::thread::sleep(Duration::from_millis(300));
            return;
        }
        if let Ok(Some(st)) = guard.child.try_wait() {
            panic!(
                "{} exited ({st}) before listening:\n{}",
                guard.name,
                guard.log_text()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "{} did not listen on {addr}:\n{}",
        guard.name,
        guard.log_text()
    );
}

/// Start Kamailio from a template in tests/kamailio/ with `@KEY@` substitutions.
pub fn kamailio(name: &str, template: &str, ip: &str, port: u16, subs: &[(&str, String)]) -> Guard {
    let bin = need("kamailio", "kamailio");
    let dir = TempDir::new(name);
    let tpl = std::fs::read_to_string(
        // Works from this crate and from the CLI crate, which includes this module by path.
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../sipsentry-scan/tests/kamailio")
            .join(template),
    )
    .expect("read kamailio template");
    // Name the Debian package of any module the template needs but the machine lacks.
    let mpath = kamailio_mpath();
    for line in tpl.lines().filter(|l| l.starts_with("loadmodule")) {
        let module = line.split('"').nth(1).unwrap_or("");
        if !Path::new(&mpath).join(module).exists() {
            let pkg = match module {
                "tls.so" => "kamailio-tls-modules",
                "websocket.so" => "kamailio-websocket-modules",
                _ => "kamailio",
            };
            panic!("Kamailio module {module} not found: install the Debian package `{pkg}`");
        }
    }
    let mut cfg = tpl
        .replace("@IP@", ip)
        .replace("@PORT@", &port.to_string())
        .replace("@MPATH@", &kamailio_mpath());
    for (k, v) in subs {
        cfg = cfg.replace(&format!("@{k}@"), v);
    }
    let cfg_path = dir.0.join("kamailio.cfg");
    std::fs::write(&cfg_path, cfg).expect("write cfg");
    let log = dir.0.join("kamailio.log");
    let logf = std::fs::File::create(&log).expect("log file");
    let child = Command::new(bin)
        .arg("-f")
        .arg(&cfg_path)
        .args(["-DD", "-E", "-Y"])
        .arg(&dir.0)
        .arg("-P")
        .arg(dir.0.join("kamailio.pid"))
        .stdout(Stdio::null())
        .stderr(logf)
        .spawn()
        .expect("spawn kamailio");
    let mut g = Guard {
        child,
        name: format!("kamailio {name}"),
        log,
        _dir: dir,
    };
    wait_tcp(SocketAddr::new(ip.parse().expect("ip"), port), &mut g);
    g
}

/// A spawned process (e.g. openssl s_server) in its own temp dir.
pub fn spawn(name: &str, mut cmd: Command, dir: TempDir, wait: SocketAddr) -> Guard {
    let log = dir.0.join("out.log");
    let logf = std::fs::File::create(&log).expect("log file");
    let child = cmd
        .stdin(Stdio::piped())
        .stdout(logf.try_clone().expect("dup"))
        .stderr(logf)
        .spawn()
        .expect("spawn");
    let mut g = Guard {
        child,
        name: name.to_string(),
        log,
        _dir: dir,
    };
    wait_tcp(wait, &mut g);
    g
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

/// A test CA and a server certificate signed by it.
pub struct Pki {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

pub fn pki(
    names: &[&str],
    sip_uri: Option<&str>,
    not_before: (i32, u8, u8),
    not_after: (i32, u8, u8),
    self_signed: bool,
) -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
    let ca_key = KeyPair::generate().expect("ca key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "sipsentry test CA");
    let ca = ca_params.self_signed(&ca_key).expect("ca");
    let key = KeyPair::generate().expect("key");
    let mut p = CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .expect("params");
    p.distinguished_name.push(
        DnType::CommonName,
        names.first().copied().unwrap_or("server"),
    );
    if let Some(u) = sip_uri {
        p.subject_alt_names
            .push(SanType::URI(u.try_into().expect("uri")));
    }
    p.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
    p.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
    let cert = if self_signed {
        p.self_signed(&key).expect("self-signed")
    } else {
        p.signed_by(&key, &ca, &ca_key).expect("signed")
    };
    Pki {
        ca_pem: ca.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// Write `pki` and a Kamailio tls.cfg into `dir`; returns the tls.cfg path.
pub fn kamailio_tls_cfg(dir: &Path, pki: &Pki) -> String {
    std::fs::write(dir.join("cert.pem"), &pki.cert_pem).expect("cert");
    std::fs::write(dir.join("key.pem"), &pki.key_pem).expect("key");
    let cfg = format!(
        "[server:default]\nmethod = TLSv1.2+\nverify_certificate = no\nrequire_certificate = no\n\
         private_key = {}\ncertificate = {}\n",
        dir.join("key.pem").display(),
        dir.join("cert.pem").display()
    );
    let p = dir.join("tls.cfg");
    std::fs::write(&p, cfg).expect("tls.cfg");
    p.display().to_string()
}

pub fn ids(findings: &[sipsentry_report::Finding]) -> Vec<String> {
    findings.iter().map(|f| f.id.clone()).collect()
}

//! TLS checks against real servers on loopback: Kamailio's tls module with a self-signed, an
//! expired and a wrong-name certificate (generated here with rcgen), and `openssl s_server`
//! still accepting TLS 1.0 at security level 0 (and a weak-cipher one).

mod common;

use common::*;
use sipsentry_scan::{scan_host, Config, Port, Transport};
use std::net::SocketAddr;
use std::process::Command;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Scan only the TLS port of a Kamailio instance serving `pki`.
fn scan_kamailio_tls(
    name: &str,
    ip_s: &str,
    src: &str,
    domain: &str,
    pki: &Pki,
    trust: bool,
) -> sipsentry_scan::HostReport {
    need_tls_module();
    let certs = TempDir::new(name);
    let tls_cfg = kamailio_tls_cfg(&certs.0, pki);
    let _k = kamailio(
        name,
        "hardened.cfg",
        ip_s,
        5060,
        &[
            ("TLSPORT", "5061".into()),
            ("TLSCFG", tls_cfg),
            ("PIKE", "1000".into()),
        ],
    );
    let cfg = Config {
        bind: Some(ip(src)),
        domain: Some(domain.into()),
        ports: vec![Port::Sip(Transport::Tls, 5061)],
        ca_pem: trust.then(|| pki.ca_pem.clone().into_bytes()),
        ..Config::default()
    };
    rt().block_on(scan_host(ip_s, &cfg, None)).expect("scan")
}

#[test]
fn self_signed_certificate_is_reported() {
    let pki = pki(
        &["tls.sipsentry.test"],
        None,
        (2025, 1, 1),
        (2035, 1, 1),
        true,
    );
    let rep = scan_kamailio_tls(
        "selfsigned",
        "127.0.0.52",
        "127.0.0.62",
        "tls.sipsentry.test",
        &pki,
        false,
    );
    let got = ids(&rep.findings);
    assert!(
        got.contains(&"TLS-CERT-SELF-SIGNED".to_string()),
        "{got:?} {:?}",
        rep.services
    );
    assert!(
        !got.contains(&"TLS-CERT-NAME-MISMATCH".to_string()),
        "{got:?}"
    );
    assert!(!got.contains(&"TLS-CERT-EXPIRED".to_string()), "{got:?}");
    // TLS 1.2+ only in tls.cfg: no legacy protocol.
    assert!(!got.contains(&"TLS-LEGACY-PROTOCOL".to_string()), "{got:?}");
}

#[test]
fn expired_certificate_is_reported() {
    let pki = pki(
        &["tls.sipsentry.test"],
        None,
        (2020, 1, 1),
        (2021, 1, 1),
        false,
    );
    let rep = scan_kamailio_tls(
        "expired",
        "127.0.0.53",
        "127.0.0.63",
        "tls.sipsentry.test",
        &pki,
        true,
    );
    let f = rep
        .findings
        .iter()
        .find(|f| f.id == "TLS-CERT-EXPIRED")
        .unwrap_or_else(|| panic!("{:?}", rep.findings));
    assert_eq!(f.severity, sipsentry_report::Severity::High);
    assert!(f.evidence[0].contains("expired"), "{:?}", f.evidence);
    // Chained to the CA we trust: not "self-signed".
    assert!(!ids(&rep.findings).contains(&"TLS-CERT-SELF-SIGNED".to_string()));
}

#[test]
fn wrong_name_and_wildcard_are_mismatches_per_rfc5922() {
    let pki = pki(
        &["other.example.org", "*.sipsentry.test"],
        None,
        (2025, 1, 1),
        (2035, 1, 1),
        false,
    );
    let rep = scan_kamailio_tls(
        "wrongname",
        "127.0.0.54",
        "127.0.0.64",
        "tls.sipsentry.test",
        &pki,
        true,
    );
    let f = rep
        .findings
        .iter()
        .find(|f| f.id == "TLS-CERT-NAME-MISMATCH")
        .unwrap_or_else(|| panic!("{:?}", rep.findings));
    assert!(
        f.evidence
            .iter()
            .any(|e| e.contains("DNS:*.sipsentry.test")),
        "{:?}",
        f.evidence
    );
    assert!(!ids(&rep.findings).contains(&"TLS-CERT-SELF-SIGNED".to_string()));
}

#[test]
fn openssl_server_accepting_tls1_0_is_reported() {
    let openssl = need("openssl", "openssl");
    let dir = TempDir::new("s_server");
    let pki = pki(
        &["legacy.sipsentry.test"],
        None,
        (2025, 1, 1),
        (2035, 1, 1),
        false,
    );
    std::fs::write(dir.0.join("cert.pem"), &pki.cert_pem).unwrap();
    std::fs::write(dir.0.join("key.pem"), &pki.key_pem).unwrap();
    let addr: SocketAddr = "127.0.0.55:5061".parse().unwrap();
    let mut cmd = Command::new(openssl);
    cmd.args([
        "s_server",
        "-quiet",
        "-accept",
        "127.0.0.55:5061",
        "-cipher",
        "DEFAULT:@SECLEVEL=0",
    ])
    .arg("-cert")
    .arg(dir.0.join("cert.pem"))
    .arg("-key")
    .arg(dir.0.join("key.pem"));
    let _s = spawn("openssl s_server", cmd, dir, addr);
    let cfg = Config {
        bind: Some(ip("127.0.0.65")),
        domain: Some("legacy.sipsentry.test".into()),
        ports: vec![Port::Sip(Transport::Tls, 5061)],
        ca_pem: Some(pki.ca_pem.clone().into_bytes()),
        ..Config::default()
    };
    let rep = rt()
        .block_on(scan_host("127.0.0.55", &cfg, None))
        .expect("scan");
    let f = rep
        .findings
        .iter()
        .find(|f| f.id == "TLS-LEGACY-PROTOCOL")
        .unwrap_or_else(|| panic!("no legacy finding: {:?} {:?}", rep.findings, rep.notes));
    assert!(
        f.evidence.iter().any(|e| e.starts_with("TLS 1.0 offered")),
        "{:?}",
        f.evidence
    );
    assert!(!ids(&rep.findings).contains(&"TLS-CERT-NAME-MISMATCH".to_string()));
}

#[test]
fn openssl_server_with_null_cipher_is_reported() {
    // OpenSSL 3 in Debian has no RC4/3DES any more; NULL suites are still there at level 0.
    let openssl = need("openssl", "openssl");
    let dir = TempDir::new("s_server_null");
    let pki = pki(
        &["null.sipsentry.test"],
        None,
        (2025, 1, 1),
        (2035, 1, 1),
        false,
    );
    std::fs::write(dir.0.join("cert.pem"), &pki.cert_pem).unwrap();
    std::fs::write(dir.0.join("key.pem"), &pki.key_pem).unwrap();
    let addr: SocketAddr = "127.0.0.56:5061".parse().unwrap();
    let mut cmd = Command::new(openssl);
    cmd.args([
        "s_server",
        "-quiet",
        "-accept",
        "127.0.0.56:5061",
        "-cipher",
        "eNULL:@SECLEVEL=0",
    ])
    .arg("-cert")
    .arg(dir.0.join("cert.pem"))
    .arg("-key")
    .arg(dir.0.join("key.pem"));
    let _s = spawn("openssl s_server (NULL)", cmd, dir, addr);
    let cfg = Config {
        bind: Some(ip("127.0.0.64")),
        domain: Some("null.sipsentry.test".into()),
        ports: vec![Port::Sip(Transport::Tls, 5061)],
        ca_pem: Some(pki.ca_pem.clone().into_bytes()),
        ..Config::default()
    };
    let rep = rt()
        .block_on(scan_host("127.0.0.56", &cfg, None))
        .expect("scan");
    let f = rep
        .findings
        .iter()
        .find(|f| f.id == "TLS-WEAK-CIPHER")
        .unwrap_or_else(|| panic!("no weak-cipher finding: {:?} {:?}", rep.findings, rep.notes));
    assert!(f.evidence[0].contains("NULL"), "{:?}", f.evidence);
}

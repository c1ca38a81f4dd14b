//! Real Kamailio on loopback, two profiles (tests/kamailio/weak.cfg and hardened.cfg): every
//! planted weakness of the weak one is found, and nothing above "info" is reported on the
//! hardened one.

mod common;

use common::*;
use sipsentry_report::Severity;
use sipsentry_scan::{scan_host, Config, Port, Secret, Transport};
use std::time::Duration;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn weak_profile_every_planted_weakness_is_found() {
    let _k = kamailio("weak", "weak.cfg", "127.0.0.50", 5060, &[]);
    let mut cfg = Config {
        bind: Some(ip("127.0.0.60")),
        domain: Some("weak.sipsentry.test".into()),
        ports: vec![
            Port::Sip(Transport::Udp, 5060),
            Port::Sip(Transport::Tcp, 5060),
            Port::Sip(Transport::Tls, 5061),
            Port::Sip(Transport::Ws, 8080),
        ],
        auth_test: true,
        auth_extensions: vec!["2001".into(), "1001".into()],
        auth_pause: Duration::from_millis(20),
        ..Config::default()
    };
    cfg.extensions = sipsentry_scan::parse_range("1000-1010,2000-2010", 100).unwrap();
    let rep = rt()
        .block_on(scan_host("127.0.0.50", &cfg, None))
        .expect("scan");
    let got = ids(&rep.findings);
    for id in [
        "SIP-EXPOSED",
        "INFO-VERSION-DISCLOSED",
        "VULN-KNOWN-CVE",
        "SIP-ENUM-LEAK",
        "SIP-UNAUTH-INVITE",
        "SIP-WEAK-CREDENTIAL",
        "SIP-DIGEST-WEAK",
        "SIP-UNAUTH-REGISTER",
        "SIP-NO-RATE-LIMIT",
        "TLS-MISSING",
        "SRTP-NOT-ENFORCED",
        "NET-PRIVATE-ADDRESS-LEAK",
    ] {
        assert!(
            got.iter().any(|g| g == id),
            "{id} not found; got {got:?}\nnotes: {:?}",
            rep.notes
        );
    }
    // Exactly the planted users, nothing else.
    assert_eq!(rep.extensions, vec!["1001", "1002", "1003", "2001", "2010"]);
    let ur = rep
        .findings
        .iter()
        .find(|f| f.id == "SIP-UNAUTH-REGISTER")
        .unwrap();
    assert_eq!(
        ur.evidence.len(),
        1,
        "only 2010 is insecure: {:?}",
        ur.evidence
    );
    assert!(ur.evidence[0].contains("2010"), "{:?}", ur.evidence);
    // The weak password, and only for 2001; it never appears in a finding.
    assert_eq!(
        rep.weak_credentials,
        vec![("2001".to_string(), Secret("1234".into()))]
    );
    let text = serde_json::to_string(&rep.findings).unwrap();
    assert!(
        !text.contains("1234"),
        "password leaked into findings: {text}"
    );
    // Fingerprint from the planted banner; the version maps to CVEs of the table.
    let fp = rep.fingerprint.as_ref().unwrap();
    assert_eq!(fp.product.as_deref(), Some("asterisk"));
    assert_eq!(fp.version.as_deref(), Some("16.2.0"));
    // Error-response shape and To-tag shape give the real stack away behind the fake banner.
    assert!(
        fp.clues
            .iter()
            .any(|c| c.starts_with("unknown method -> 405")),
        "{:?}",
        fp.clues
    );
    assert!(
        fp.clues.iter().any(|c| c.contains("kamailio/opensips")),
        "{:?}",
        fp.clues
    );
    assert!(rep
        .findings
        .iter()
        .any(|f| f.id == "VULN-KNOWN-CVE" && f.title.contains("CVE-2020-28242")));
    // Unauthenticated INVITE: 183 seen, CANCELled, critical.
    let inv = rep
        .findings
        .iter()
        .find(|f| f.id == "SIP-UNAUTH-INVITE")
        .unwrap();
    assert_eq!(inv.severity, Severity::Critical);
    assert!(inv.evidence.iter().any(|e| e.contains("183")));
    assert!(inv.evidence.iter().any(|e| e.contains("CANCEL")));
    // Replay of a used nonce is accepted (no nonce_count) and challenges are MD5-only.
    let dw = rep
        .findings
        .iter()
        .find(|f| f.id == "SIP-DIGEST-WEAK")
        .unwrap();
    assert!(dw.evidence.iter().any(|e| e.contains("MD5")));
    assert!(dw.evidence.iter().any(|e| e.contains("replaying")));
    assert!(
        dw.evidence.iter().any(|e| e.contains("without qop")),
        "{:?}",
        dw.evidence
    );
    // The SRTP probe answered that qop-less INVITE challenge (RFC 2069 digest) successfully.
    assert!(!rep.blocked);
    // SIP over WebSocket answered (RFC 7118 handshake + OPTIONS in a frame).
    assert!(
        rep.findings
            .iter()
            .any(|f| f.id == "SIP-EXPOSED" && f.target == "ws:127.0.0.50:8080"),
        "{:?}",
        rep.services
    );
    let leak = rep
        .findings
        .iter()
        .find(|f| f.id == "NET-PRIVATE-ADDRESS-LEAK")
        .unwrap();
    assert!(
        leak.evidence.iter().any(|e| e.contains("192.168.10.5")),
        "{leak:?}"
    );
}

#[test]
fn hardened_profile_reports_nothing_above_info() {
    need_tls_module();
    let certs = TempDir::new("hardened-pki");
    let pki = pki(
        &["hardened.sipsentry.test"],
        Some("sip:hardened.sipsentry.test"),
        (2025, 1, 1),
        (2035, 1, 1),
        false,
    );
    let tls_cfg = kamailio_tls_cfg(&certs.0, &pki);
    let _k = kamailio(
        "hardened",
        "hardened.cfg",
        "127.0.0.51",
        5060,
        &[
            ("TLSPORT", "5061".into()),
            ("TLSCFG", tls_cfg),
            ("PIKE", "60".into()),
        ],
    );
    let mut cfg = Config {
        bind: Some(ip("127.0.0.61")),
        domain: Some("hardened.sipsentry.test".into()),
        ports: vec![
            Port::Sip(Transport::Udp, 5060),
            Port::Sip(Transport::Tcp, 5060),
            Port::Sip(Transport::Tls, 5061),
            Port::Sip(Transport::Wss, 8443),
        ],
        auth_test: true,
        auth_extensions: vec!["2001".into(), "1001".into()],
        auth_pause: Duration::from_millis(100),
        auth: Some(("1001".into(), Secret("jiRqyfC5t2k0upo5".into()))),
        ca_pem: Some(pki.ca_pem.clone().into_bytes()),
        ..Config::default()
    };
    cfg.extensions = sipsentry_scan::parse_range("1000-1010,2000-2010", 100).unwrap();
    // A gentle pace that stays under pike's 60 requests / 2 s, so every check runs; the burst
    // at the end is what pike must cut.
    cfg.pace.rate = 20.0;
    cfg.burst = 200;
    let rep = rt()
        .block_on(scan_host("127.0.0.51", &cfg, None))
        .expect("scan");
    let above: Vec<_> = rep
        .findings
        .iter()
        .filter(|f| f.severity > Severity::Info)
        .collect();
    assert!(
        above.is_empty(),
        "hardened profile produced {above:#?}\nnotes: {:?}",
        rep.notes
    );
    assert!(
        rep.extensions.is_empty(),
        "uniform answers must not leak: {:?}",
        rep.extensions
    );
    assert!(rep.weak_credentials.is_empty());
    // The TLS listener was reached, verified against our CA, and answered OPTIONS inside TLS.
    let tls = rep.services.iter().find(|s| s.transport == "tls").unwrap();
    assert_eq!(tls.state, "open", "{tls:?}");
    assert!(
        tls.detail.as_deref().unwrap_or("").contains("OPTIONS: 200"),
        "{tls:?}"
    );
    // SIP over secure WebSocket answered (TLS, RFC 6455 handshake, OPTIONS in a frame).
    assert!(
        rep.services
            .iter()
            .any(|s| s.transport == "wss" && s.state == "open"),
        "{:?}",
        rep.services
    );
    // Authenticated RTP/AVP-only call refused.
    assert!(
        rep.notes
            .iter()
            .any(|n| n.contains("RTP/AVP-only INVITE refused with 488")),
        "{:?}",
        rep.notes
    );
    // The burst was throttled (pike), which is reported as a pass (note or SIP-SCAN-BLOCKED).
    assert!(
        rep.notes.iter().any(|n| n.contains("throttles")) || rep.blocked,
        "burst not throttled: {:?}",
        rep.notes
    );
}

#[test]
fn stop_on_silence_is_reported_as_a_good_sign() {
    // Hardened profile with a very low pike threshold: the enumeration gets us blocked. The
    // scan must stop probing, finish without error and report SIP-SCAN-BLOCKED (info) — not
    // a pile of timeouts, and not "no rate limit".
    need_tls_module();
    let certs = TempDir::new("silence-pki");
    let pki = pki(
        &["hardened.sipsentry.test"],
        None,
        (2025, 1, 1),
        (2035, 1, 1),
        false,
    );
    let tls_cfg = kamailio_tls_cfg(&certs.0, &pki);
    let _k = kamailio(
        "silence",
        "hardened.cfg",
        "127.0.0.55",
        5060,
        &[
            ("TLSPORT", "5062".into()),
            ("TLSCFG", tls_cfg),
            ("PIKE", "10".into()),
        ],
    );
    let mut cfg = Config {
        bind: Some(ip("127.0.0.62")),
        domain: Some("hardened.sipsentry.test".into()),
        ports: vec![Port::Sip(Transport::Udp, 5060)],
        ..Config::default()
    };
    cfg.checks.tls = false;
    cfg.checks.mgmt = false;
    cfg.timers.max_lifetime = Duration::from_millis(1500);
    let t = std::time::Instant::now();
    let rep = rt()
        .block_on(scan_host("127.0.0.55", &cfg, None))
        .expect("scan");
    assert!(
        rep.blocked,
        "not blocked: {:?} {:?}",
        rep.findings, rep.notes
    );
    let blocked = rep
        .findings
        .iter()
        .find(|f| f.id == "SIP-SCAN-BLOCKED")
        .expect("SIP-SCAN-BLOCKED");
    assert_eq!(blocked.severity, Severity::Info);
    assert!(
        rep.findings.iter().all(|f| f.severity == Severity::Info),
        "{:?}",
        rep.findings
    );
    // Stopped early: far fewer requests than the full enumeration (4 methods × 42).
    assert!(rep.packets_sent < 120, "sent {} packets", rep.packets_sent);
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
}

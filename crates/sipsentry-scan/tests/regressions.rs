//! Regression tests from the adversarial review, each named after the bug it pins.
//!
//! Peers here are plain loopback sockets (ephemeral ports on 127.0.0.6x): the bugs are in
//! how the scanner and the reflector handle what arrives, not in any product's behaviour.

mod common;

use sipsentry_scan::driver::{self, Job, Pace};
use sipsentry_scan::{Timers, Transport};
use std::time::Duration;
use tokio::net::UdpSocket;

/// Regression: a very low `--rate` (any positive number passes the CLI check) panicked the
/// driver: `Duration::from_secs_f64(1/rate)` overflows for rate 1e-30, and `now - interval`
/// underflows `Instant` for an interval longer than the machine's uptime (rate 1e-9).
#[tokio::test(flavor = "current_thread")]
async fn tiny_rate_does_not_panic_the_driver() {
    let silent = UdpSocket::bind("127.0.0.61:0").await.unwrap();
    let target = silent.local_addr().unwrap();
    let timers = Timers {
        max_lifetime: Duration::from_millis(150),
        ..Timers::with_t1(Duration::from_millis(50))
    };
    for rate in [1e-30, 1e-9] {
        let mut s = driver::connect(
            Transport::Udp,
            target,
            Some("127.0.0.60".parse().unwrap()),
            timers,
            Duration::from_secs(1),
        )
        .await
        .unwrap();
        let req = s.request("OPTIONS", "sip:127.0.0.61", "t");
        let pace = Pace {
            rate,
            concurrency: 1,
            silence_after: 0,
        };
        let b = tokio::time::timeout(
            Duration::from_secs(5),
            s.run(vec![Job::plain(req)], pace, |_, _| {}),
        )
        .await
        .expect("one job finishes")
        .expect("no error");
        assert_eq!(b.started, 1);
        assert!(b.outcomes[0].timed_out);
    }
}

/// Regression: the reflector (run on the internet) answered every UDP request with the whole
/// request echoed plus ~400 bytes of headers, so a spoofed 100-byte OPTIONS drew a 500-byte
/// answer at the victim: a DDoS amplifier. Now a UDP answer is never larger than its request,
/// and alg-check pads its INVITE so it still gets one.
#[tokio::test(flavor = "current_thread")]
async fn reflector_is_not_a_udp_amplifier() {
    use sipsentry_scan::{alg, Config};
    let server = UdpSocket::bind("127.0.0.62:0").await.unwrap();
    let refl = server.local_addr().unwrap();
    drop(server);
    let task = tokio::spawn(alg::reflector(refl, None));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let attacker = UdpSocket::bind("127.0.0.63:0").await.unwrap();
    attacker.connect(refl).await.unwrap();
    let small = b"OPTIONS sip:x@127.0.0.62 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.63:5060;branch=z9hG4bK-1\r\n\
From: <sip:a@b>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    let mut many_vias = b"OPTIONS sip:x@127.0.0.62 SIP/2.0\r\n".to_vec();
    for i in 0..100 {
        many_vias.extend_from_slice(
            format!("Via: SIP/2.0/UDP 127.0.0.63:5060;branch=z9hG4bK-{i}\r\n").as_bytes(),
        );
    }
    many_vias.extend_from_slice(
        b"From: <sip:a@b>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
    );
    let mut buf = vec![0u8; 65_536];
    for req in [&small[..], &many_vias[..]] {
        attacker.send(req).await.unwrap();
        if let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(300), attacker.recv(&mut buf)).await
        {
            assert!(
                n <= req.len(),
                "a {}-byte request drew a {n}-byte answer",
                req.len()
            );
        }
    }
    // The legitimate client still gets its answer over UDP, and it is no larger either.
    let cfg = Config {
        bind: Some("127.0.0.63".parse().unwrap()),
        ..Config::default()
    };
    let rep = alg::alg_check(refl, &[Transport::Udp], &cfg).await.unwrap();
    assert!(rep.unanswered.is_empty(), "{rep:?}");
    assert!(rep.findings.is_empty(), "{rep:?}");
    task.abort();
}

/// Regression: SIP-WEAK-CREDENTIAL evidence said "registered with guess #2 (4 chars, from the
/// built-in list)"; the built-in list and its order are public (extension, 1234, 0000, …), so
/// the report gave the password away. Real Kamailio (tests/kamailio/weak.cfg: 2001 / 1234).
#[test]
fn weak_credential_evidence_does_not_reveal_the_password() {
    use sipsentry_scan::{scan_host, Checks, Config, Port};
    let _k = common::kamailio("weak-evidence", "weak.cfg", "127.0.0.64", 5060, &[]);
    let cfg = Config {
        bind: Some("127.0.0.65".parse().unwrap()),
        domain: Some("weak.sipsentry.test".into()),
        ports: vec![Port::Sip(Transport::Udp, 5060)],
        checks: Checks {
            enumerate: false,
            unauth_invite: false,
            unauth_register: false,
            rate_limit: false,
            tls: false,
            mgmt: false,
        },
        auth_test: true,
        auth_extensions: vec!["2001".into()],
        auth_pause: Duration::from_millis(20),
        ..Config::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let rep = rt.block_on(scan_host("127.0.0.64", &cfg, None)).unwrap();
    let f = rep
        .findings
        .iter()
        .find(|f| f.id == "SIP-WEAK-CREDENTIAL")
        .unwrap_or_else(|| panic!("not found: {:?}", rep.findings));
    let list = sipsentry_scan::checks::builtin_passwords("2001");
    let index = list.iter().position(|p| p == "1234").unwrap() + 1;
    for e in &f.evidence {
        assert!(!e.contains("1234"), "{e}");
        assert!(!e.contains(&format!("#{index}")), "guess index given: {e}");
        assert!(!e.contains("4 chars"), "password length given: {e}");
    }
}

/// Regression: a uniform PBX (same challenge for every user) whose rate limiter answers
/// `503 Service Unavailable` had every extension probed after the limiter kicked in reported
/// as found (SIP-ENUM-LEAK), because 503 differs from the random users' baseline. Real
/// Kamailio: tests/kamailio/hardened-503.cfg (hardened.cfg with a loud pike).
#[test]
fn uniform_pbx_throttling_with_503_is_not_an_enum_leak() {
    use sipsentry_scan::{scan_host, Checks, Config, Port};
    common::need_tls_module();
    let certs = common::TempDir::new("hardened-503-pki");
    let pki = common::pki(
        &["hardened.sipsentry.test"],
        Some("sip:hardened.sipsentry.test"),
        (2025, 1, 1),
        (2035, 1, 1),
        false,
    );
    let tls_cfg = common::kamailio_tls_cfg(&certs.0, &pki);
    let _k = common::kamailio(
        "hardened-503",
        "hardened-503.cfg",
        "127.0.0.64",
        5062,
        &[
            ("TLSPORT", "5063".into()),
            ("TLSCFG", tls_cfg),
            ("PIKE", "8".into()),
        ],
    );
    let mut cfg = Config {
        bind: Some("127.0.0.65".parse().unwrap()),
        domain: Some("hardened.sipsentry.test".into()),
        ports: vec![Port::Sip(Transport::Udp, 5062)],
        checks: Checks {
            enumerate: true,
            unauth_invite: false,
            unauth_register: false,
            rate_limit: false,
            tls: false,
            mgmt: false,
        },
        enum_methods: vec!["REGISTER".into()],
        ..Config::default()
    };
    cfg.extensions = sipsentry_scan::parse_range("1000-1010,2000-2010", 100).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let rep = rt.block_on(scan_host("127.0.0.64", &cfg, None)).unwrap();
    assert!(
        !rep.findings.iter().any(|f| f.id == "SIP-ENUM-LEAK"),
        "false positive: {:?}\nnotes: {:?}",
        rep.findings,
        rep.notes
    );
    assert!(rep.extensions.is_empty(), "{:?}", rep.extensions);
}

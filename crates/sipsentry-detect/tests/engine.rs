//! Detector behaviour on packet-time sequences: thresholds, windows, expiry, the benign first
//! challenge, NAT'd offices, stale nonces, toll fraud, and bounded state under a spoofed flood.

use sipsentry_detect::{AlertId, Engine, Thresholds};
use sipsentry_ingest::{Origin, SipEvent, Transport};
use sipsentry_sip::Message;
use std::net::SocketAddr;

const PBX: &str = "192.0.2.1:5060";
const S: i64 = 1_000_000_000;

struct Lab {
    e: Engine,
    t: i64,
}

fn req(method: &str, user: &str, call: &str, cseq: u32, creds: bool, ua: &str) -> String {
    let auth = if creds {
        format!("Authorization: Digest username=\"{user}\", realm=\"pbx\", nonce=\"n{call}{cseq}\", uri=\"sip:pbx\", response=\"00112233445566778899aabbccddeeff\"\r\n")
    } else {
        String::new()
    };
    let ruri_user = user;
    format!(
        "{method} sip:{ruri_user}@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 198.51.100.9;branch=z9hG4bK{call}{cseq}\r\nFrom: <sip:{user}@pbx>;tag=1\r\nTo: <sip:{user}@pbx>\r\nCall-ID: {call}\r\nCSeq: {cseq} {method}\r\nMax-Forwards: 70\r\nUser-Agent: {ua}\r\n{auth}Content-Length: 0\r\n\r\n"
    )
}

fn resp(code: u16, method: &str, user: &str, call: &str, cseq: u32, extra: &str) -> String {
    format!(
        "SIP/2.0 {code} X\r\nVia: SIP/2.0/UDP 198.51.100.9;branch=z9hG4bK{call}{cseq}\r\nFrom: <sip:{user}@pbx>;tag=1\r\nTo: <sip:{user}@pbx>;tag=2\r\nCall-ID: {call}\r\nCSeq: {cseq} {method}\r\n{extra}Content-Length: 0\r\n\r\n"
    )
}

impl Lab {
    fn new(t: Thresholds) -> Self {
        Lab {
            e: Engine::new(t),
            t: 1_700_000_000 * S,
        }
    }
    fn feed(&mut self, src: &str, dst: &str, msg: &str, dt: i64) {
        self.t += dt;
        let ev = SipEvent {
            ts_nanos: self.t,
            src: src.parse::<SocketAddr>().unwrap(),
            dst: dst.parse::<SocketAddr>().unwrap(),
            transport: Transport::Udp,
            data: msg.as_bytes(),
            origin: Origin::Wire,
        };
        let m = Message::parse(msg.as_bytes());
        self.e.on_message(&ev, &m);
    }
    /// A client REGISTER: first without credentials (challenged), then with them.
    fn register(&mut self, client: &str, user: &str, call: &str, ok: bool, dt: i64) {
        self.feed(
            client,
            PBX,
            &req("REGISTER", user, call, 1, false, "Yealink"),
            dt,
        );
        self.feed(
            PBX,
            client,
            &resp(401, "REGISTER", user, call, 1, ""),
            S / 100,
        );
        self.feed(
            client,
            PBX,
            &req("REGISTER", user, call, 2, true, "Yealink"),
            S / 100,
        );
        self.feed(
            PBX,
            client,
            &resp(if ok { 200 } else { 403 }, "REGISTER", user, call, 2, ""),
            S / 100,
        );
    }
    fn ids(mut self) -> Vec<(String, AlertId)> {
        self.e.finish();
        self.e
            .alerts()
            .iter()
            .map(|a| (a.source.ip().to_string(), a.id))
            .collect()
    }
}

#[test]
fn benign_first_challenge_is_not_a_failure() {
    let mut lab = Lab::new(Thresholds::default());
    for i in 0..50 {
        lab.register("198.51.100.9:5060", "101", &format!("c{i}"), true, 60 * S);
    }
    assert!(lab.ids().is_empty());
}

#[test]
fn nat_office_of_forty_phones_is_clean() {
    let mut lab = Lab::new(Thresholds::default());
    for round in 0..3 {
        for p in 0..40 {
            let user = format!("{}", 200 + p);
            lab.register(
                &format!("203.0.113.5:{}", 5060 + p),
                &user,
                &format!("r{round}p{p}"),
                true,
                S / 10,
            );
        }
    }
    assert!(
        lab.ids().is_empty(),
        "40 distinct extensions behind one address are not an enumeration when they register"
    );
}

#[test]
fn bruteforce_threshold_and_window() {
    // Four failures: below the default threshold of five.
    let mut lab = Lab::new(Thresholds::default());
    for i in 0..4 {
        lab.register("198.51.100.66:5060", "101", &format!("b{i}"), false, S);
    }
    assert!(lab.ids().is_empty());
    // Five failures within the window: AUTH-BRUTEFORCE.
    let mut lab = Lab::new(Thresholds::default());
    for i in 0..5 {
        lab.register("198.51.100.66:5060", "101", &format!("b{i}"), false, S);
    }
    assert_eq!(
        lab.ids(),
        vec![("198.51.100.66".into(), AlertId::AuthBruteforce)]
    );
    // Five failures spread over more than the window (600 s): no alert.
    let mut lab = Lab::new(Thresholds::default());
    for i in 0..5 {
        lab.register(
            "198.51.100.66:5060",
            "101",
            &format!("b{i}"),
            false,
            200 * S,
        );
    }
    assert!(lab.ids().is_empty());
}

#[test]
fn success_after_failures_is_critical() {
    let mut lab = Lab::new(Thresholds::default());
    for i in 0..6 {
        lab.register(
            "198.51.100.68:5060",
            "2000",
            &format!("k{i}"),
            false,
            S / 10,
        );
    }
    lab.register("198.51.100.68:5060", "2000", "k-ok", true, S / 10);
    let ids = lab.ids();
    assert!(ids.contains(&("198.51.100.68".into(), AlertId::AuthSuccessAfterFailures)));
    assert!(ids.contains(&("198.51.100.68".into(), AlertId::AuthBruteforce)));
}

#[test]
fn stale_nonce_is_not_a_failure() {
    let mut lab = Lab::new(Thresholds::default());
    for i in 0..10 {
        lab.feed(
            "198.51.100.9:5060",
            PBX,
            &req("REGISTER", "101", &format!("s{i}"), 1, true, "Yealink"),
            S,
        );
        lab.feed(
            PBX,
            "198.51.100.9:5060",
            &resp(
                401,
                "REGISTER",
                "101",
                &format!("s{i}"),
                1,
                "WWW-Authenticate: Digest realm=\"pbx\", nonce=\"x\", stale=true\r\n",
            ),
            S / 100,
        );
    }
    assert!(lab.ids().is_empty());
}

#[test]
fn enumeration_by_not_found_and_by_uniform_challenges() {
    // A leaky PBX: 404 for unknown users.
    let mut lab = Lab::new(Thresholds::default());
    for u in 0..12 {
        let user = format!("{}", 100 + u);
        lab.feed(
            "198.51.100.67:5060",
            PBX,
            &req("REGISTER", &user, &format!("e{u}"), 1, false, "x"),
            S / 10,
        );
        lab.feed(
            PBX,
            "198.51.100.67:5060",
            &resp(404, "REGISTER", &user, &format!("e{u}"), 1, ""),
            S / 100,
        );
    }
    assert_eq!(
        lab.ids(),
        vec![("198.51.100.67".into(), AlertId::SipEnumeration)]
    );
    // A uniform PBX (401 for everyone): users challenged and never registered, counted once the
    // transaction timeout has passed.
    let mut lab = Lab::new(Thresholds::default());
    for u in 0..12 {
        let user = format!("{}", 100 + u);
        lab.feed(
            "198.51.100.67:5060",
            PBX,
            &req("REGISTER", &user, &format!("e{u}"), 1, false, "x"),
            S / 10,
        );
        lab.feed(
            PBX,
            "198.51.100.67:5060",
            &resp(401, "REGISTER", &user, &format!("e{u}"), 1, ""),
            S / 100,
        );
    }
    assert_eq!(
        lab.ids(),
        vec![("198.51.100.67".into(), AlertId::SipEnumeration)]
    );
}

#[test]
fn scanner_signature_alone_only_for_attack_tools() {
    let mut lab = Lab::new(Thresholds::default());
    lab.feed(
        "198.51.100.70:5060",
        PBX,
        &req("OPTIONS", "100", "o1", 1, false, "friendly-scanner"),
        S,
    );
    lab.feed(
        "198.51.100.71:5060",
        PBX,
        &req("OPTIONS", "100", "o2", 1, false, "sipsak 0.9.8.1"),
        S,
    );
    assert_eq!(
        lab.ids(),
        vec![("198.51.100.70".into(), AlertId::SipScanner)]
    );
}

#[test]
fn flood_threshold() {
    let mut lab = Lab::new(Thresholds::default());
    for i in 0..59 {
        lab.feed(
            "198.51.100.69:5060",
            PBX,
            &req("OPTIONS", "100", &format!("f{i}"), 1, false, "x"),
            S / 100,
        );
    }
    assert!(
        lab.ids().is_empty(),
        "59 requests in 0.6 s stay under 60 per 2 s"
    );
    let mut lab = Lab::new(Thresholds::default());
    for i in 0..60 {
        lab.feed(
            "198.51.100.69:5060",
            PBX,
            &req("OPTIONS", "100", &format!("f{i}"), 1, false, "x"),
            S / 100,
        );
    }
    assert_eq!(lab.ids(), vec![("198.51.100.69".into(), AlertId::SipFlood)]);
}

#[test]
fn unauthenticated_call_to_external_number_answered() {
    let mut lab = Lab::new(Thresholds::default());
    lab.feed(
        "198.51.100.80:5060",
        PBX,
        &req("INVITE", "00972599123456", "t1", 1, false, "x"),
        S,
    );
    lab.feed(
        PBX,
        "198.51.100.80:5060",
        &resp(183, "INVITE", "00972599123456", "t1", 1, ""),
        S / 10,
    );
    // The same to an internal extension, and an external call that is challenged: no alert.
    lab.feed(
        "198.51.100.81:5060",
        PBX,
        &req("INVITE", "1001", "t2", 1, false, "x"),
        S,
    );
    lab.feed(
        PBX,
        "198.51.100.81:5060",
        &resp(180, "INVITE", "1001", "t2", 1, ""),
        S / 10,
    );
    lab.feed(
        "198.51.100.82:5060",
        PBX,
        &req("INVITE", "00972599123456", "t3", 1, false, "x"),
        S,
    );
    lab.feed(
        PBX,
        "198.51.100.82:5060",
        &resp(407, "INVITE", "00972599123456", "t3", 1, ""),
        S / 10,
    );
    assert_eq!(
        lab.ids(),
        vec![("198.51.100.80".into(), AlertId::TollFraudUnauthCall)]
    );
}

#[test]
fn source_is_the_transport_address_never_a_header() {
    let mut lab = Lab::new(Thresholds::default());
    // From/Contact/Via claim 10.9.9.9; the packets come from 198.51.100.66.
    for i in 0..5 {
        let r = req("REGISTER", "101", &format!("x{i}"), 1, true, "x")
            .replace("198.51.100.9", "10.9.9.9");
        lab.feed("198.51.100.66:5070", PBX, &r, S);
        lab.feed(
            PBX,
            "198.51.100.66:5070",
            &resp(403, "REGISTER", "101", &format!("x{i}"), 1, ""),
            S / 100,
        );
    }
    lab.e.finish();
    let a = &lab.e.alerts()[0];
    assert_eq!(a.source, "198.51.100.66:5070".parse().unwrap());
}

#[test]
fn state_is_bounded_under_spoofed_flood() {
    let t = Thresholds {
        max_sources: 10_000,
        ..Thresholds::default()
    };
    let mut lab = Lab::new(t);
    for i in 0..200_000u32 {
        let src = format!(
            "{}.{}.{}.{}:5060",
            10 + (i >> 24),
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255
        );
        lab.feed(&src, PBX, &req("OPTIONS", "100", "z", 1, false, "x"), 1000);
        assert!(lab.e.tracked_sources() <= 10_000);
    }
}

#[test]
fn distributed_failures_against_one_extension() {
    let mut lab = Lab::new(Thresholds::default());
    for i in 0..6 {
        let src = format!("198.51.100.{}:5060", 100 + i);
        lab.feed(
            &src,
            PBX,
            &req("REGISTER", "101", &format!("d{i}"), 2, true, "x"),
            S,
        );
        lab.feed(
            PBX,
            &src,
            &resp(403, "REGISTER", "101", &format!("d{i}"), 2, ""),
            S / 100,
        );
    }
    let ids = lab.ids();
    assert!(
        ids.iter().any(|(_, id)| *id == AlertId::AuthDistributed),
        "{ids:?}"
    );
    assert!(
        !ids.iter().any(|(_, id)| *id == AlertId::AuthBruteforce),
        "one failure per source is not brute force"
    );
}

#[test]
fn registration_hijack_from_another_network() {
    let mut lab = Lab::new(Thresholds::default());
    lab.register("198.51.100.9:5060", "101", "h1", true, S);
    lab.register("198.51.100.9:5060", "101", "h2", true, 60 * S); // same network: refresh
    lab.register("203.0.113.50:5060", "101", "h3", true, 60 * S); // another network, binding live
    assert_eq!(lab.ids(), vec![("203.0.113.50".into(), AlertId::RegHijack)]);
}

#[test]
fn auth_replay_from_another_source() {
    let mut lab = Lab::new(Thresholds::default());
    let m = req("REGISTER", "101", "r1", 2, true, "x");
    lab.feed("198.51.100.9:5060", PBX, &m, S);
    lab.feed("198.51.100.9:5060", PBX, &m, S / 2); // retransmission: not a replay
    let replayed = m
        .replace("Call-ID: r1", "Call-ID: other")
        .replace("CSeq: 2", "CSeq: 9");
    lab.feed("203.0.113.77:5060", PBX, &replayed, S);
    assert_eq!(
        lab.ids(),
        vec![("203.0.113.77".into(), AlertId::AuthReplay)]
    );
}

#[test]
fn sdes_keys_over_udp_are_critical() {
    let body = "v=0\r\no=- 1 1 IN IP4 198.51.100.9\r\ns=-\r\nc=IN IP4 198.51.100.9\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n";
    let m = req("INVITE", "1001", "s1", 1, true, "x").replace(
        "Content-Length: 0\r\n\r\n",
        &format!(
            "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    let mut lab = Lab::new(Thresholds::default());
    lab.feed("198.51.100.9:5060", PBX, &m, S);
    lab.e.finish();
    let a = &lab.e.alerts()[0];
    assert_eq!(a.id, AlertId::CryptoSdesExposed);
    let all = format!("{:?}", lab.e.alerts());
    assert!(!all.contains("WVNfX19z"), "keys never in evidence");
}

#[test]
fn sql_injection_in_caller_name() {
    let m = req("INVITE", "1001", "q1", 1, false, "x").replace(
        "From: <sip:1001@pbx>",
        "From: \"x' or '1'='1\" <sip:1001@pbx>",
    );
    let mut lab = Lab::new(Thresholds::default());
    lab.feed("198.51.100.9:5060", PBX, &m, S);
    assert_eq!(
        lab.ids(),
        vec![("198.51.100.9".into(), AlertId::SipExploit)]
    );
    assert!(!sipsentry_detect::engine::looks_like_sqli(b"O'Brien"));
}

#[test]
fn repeated_malformed_messages() {
    let mut lab = Lab::new(Thresholds::default());
    for i in 0..10 {
        lab.feed(
            "198.51.100.9:5060",
            PBX,
            &format!("INVITE <sip:x@y> SIP/2.0\r\nCall-ID: m{i}\r\n\r\n"),
            S,
        );
    }
    assert_eq!(
        lab.ids(),
        vec![("198.51.100.9".into(), AlertId::SipMalformed)]
    );
}

#[test]
fn trusted_networks_are_never_banned_and_policy_crypto_checks() {
    use sipsentry_detect::{Action, Net, Policy};
    let policy = Policy {
        trusted: vec![Net::parse("198.51.100.0/24").unwrap()],
        require_tls: true,
        require_srtp: true,
        ..Policy::default()
    };
    let mut lab = Lab {
        e: Engine::with_policy(policy),
        t: 1_700_000_000 * S,
    };
    // A trusted trunk failing authentication 1000 times.
    for i in 0..1000 {
        lab.register(
            "198.51.100.9:5060",
            "trunk",
            &format!("t{i}"),
            false,
            S / 10,
        );
    }
    // An untrusted phone over UDP offering plain RTP.
    let body = "v=0\r\no=- 1 1 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    let m = req("INVITE", "1001", "p1", 1, true, "x").replace(
        "Content-Length: 0\r\n\r\n",
        &format!(
            "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    lab.feed("203.0.113.5:5060", PBX, &m, S);
    lab.e.finish();
    for a in lab.e.alerts() {
        if a.source.ip().to_string().starts_with("198.51.100.") {
            assert!(
                !matches!(a.action, Action::Ban { .. }),
                "trusted source banned: {a:?}"
            );
        }
    }
    let ids: Vec<AlertId> = lab
        .e
        .alerts()
        .iter()
        .filter(|a| a.source.ip().to_string() == "203.0.113.5")
        .map(|a| a.id)
        .collect();
    assert!(
        ids.contains(&AlertId::CryptoPlaintextSignaling) && ids.contains(&AlertId::CryptoNoSrtp),
        "{ids:?}"
    );
}

#[test]
fn toll_fraud_destination_and_rate() {
    use sipsentry_detect::Policy;
    let policy = Policy {
        allowed_countries: vec!["GB".into()],
        ..Policy::default()
    };
    let mut lab = Lab {
        e: Engine::with_policy(policy),
        t: 1_700_000_000 * S,
    };
    // A compromised extension dials a UK premium-rate number, then 12 calls to one foreign
    // prefix within a minute.
    lab.feed(
        "198.51.100.9:5060",
        PBX,
        &req("INVITE", "00449098790000", "p0", 1, true, "x"),
        S,
    );
    for i in 0..12 {
        let n = format!("0097259912345{i}");
        let m = req("INVITE", &n, &format!("q{i}"), 1, true, "x")
            .replace(&format!("From: <sip:{n}@pbx>"), "From: <sip:1001@pbx>");
        lab.feed("198.51.100.9:5060", PBX, &m, S);
    }
    lab.e.finish();
    let ids: Vec<AlertId> = lab.e.alerts().iter().map(|a| a.id).collect();
    assert!(ids.contains(&AlertId::TollFraudDestination), "{ids:?}");
    assert!(ids.contains(&AlertId::TollFraudRate), "{ids:?}");
    let premium = lab
        .e
        .alerts()
        .iter()
        .find(|a| a.id == AlertId::TollFraudDestination)
        .unwrap();
    assert!(
        premium.evidence[0].contains("PremiumRate"),
        "{:?}",
        premium.evidence
    );
    // Domestic (allowed) calls at a normal pace raise nothing.
    let policy = Policy {
        allowed_countries: vec!["GB".into()],
        ..Policy::default()
    };
    let mut lab = Lab {
        e: Engine::with_policy(policy),
        t: 1_700_000_000 * S,
    };
    for i in 0..5 {
        lab.feed(
            "198.51.100.9:5060",
            PBX,
            &req(
                "INVITE",
                &format!("+4420794600{i:02}"),
                &format!("d{i}"),
                1,
                true,
                "x",
            ),
            60 * S,
        );
    }
    assert!(lab.ids().is_empty());
}

#[test]
fn alerts_are_capped_and_counted() {
    let t = Thresholds {
        max_alerts: 100,
        ..Thresholds::default()
    };
    let mut lab = Lab::new(t);
    for i in 0..1000u32 {
        let src = format!("198.18.{}.{}:5060", i >> 8, i & 255);
        lab.feed(
            &src,
            PBX,
            &req(
                "OPTIONS",
                "100",
                &format!("o{i}"),
                1,
                false,
                "friendly-scanner",
            ),
            1000,
        );
    }
    lab.e.finish();
    assert_eq!(lab.e.alerts().len(), 100);
    assert_eq!(lab.e.suppressed().get(&AlertId::SipScanner), Some(&900));
}

#[test]
fn log_signals_feed_the_same_detectors() {
    use sipsentry_detect::LogSignal;
    let mut e = Engine::new(Thresholds::default());
    let src: SocketAddr = "198.51.100.66:5060".parse().unwrap();
    let t0 = 1_700_000_000 * S;
    for i in 0..5 {
        e.on_log_event(t0 + i * S, src, LogSignal::AuthFailure, "6001", "asterisk");
    }
    let other: SocketAddr = "198.51.100.67:5060".parse().unwrap();
    for i in 0..12 {
        e.on_log_event(
            t0 + i * S,
            other,
            LogSignal::UnknownUser,
            &format!("{}", 100 + i),
            "freeswitch",
        );
    }
    e.finish();
    let ids: Vec<(String, AlertId)> = e
        .alerts()
        .iter()
        .map(|a| (a.source.ip().to_string(), a.id))
        .collect();
    assert!(
        ids.contains(&("198.51.100.66".into(), AlertId::AuthBruteforce)),
        "{ids:?}"
    );
    assert!(
        ids.contains(&("198.51.100.67".into(), AlertId::SipEnumeration)),
        "{ids:?}"
    );
}

#[test]
fn global_surge_from_many_sources() {
    let mut lab = Lab::new(Thresholds::default());
    // Seven quiet 10 s windows: ~20 REGISTERs each, then a distributed INVITE burst of 1 000.
    for w in 0..7 {
        for i in 0..20 {
            lab.feed(
                &format!("198.51.100.{}:5060", i + 1),
                PBX,
                &req("REGISTER", "101", &format!("w{w}r{i}"), 1, false, "x"),
                S / 2,
            );
        }
    }
    for i in 0..1000u32 {
        let src = format!("203.0.{}.{}:5060", i / 250, i % 250 + 1);
        lab.feed(
            &src,
            PBX,
            &req("INVITE", "1001", &format!("g{i}"), 1, false, "x"),
            S / 200,
        );
    }
    // Close the window.
    lab.feed(
        "198.51.100.1:5060",
        PBX,
        &req("OPTIONS", "101", "end", 1, false, "x"),
        20 * S,
    );
    let ids = lab.ids();
    assert!(
        ids.iter().any(|(_, id)| *id == AlertId::SipFlood),
        "{ids:?}"
    );
}

#[test]
fn scanner_shapes_without_user_agent() {
    let mut lab = Lab::new(Thresholds::default());
    let m = req("OPTIONS", "100", "v1", 1, false, "x")
        .replace("User-Agent: x\r\n", "")
        .replace(
            "From: <sip:100@pbx>",
            "From: \"sipvicious\"<sip:100@1.1.1.1>",
        );
    lab.feed("198.51.100.70:5060", PBX, &m, S);
    assert_eq!(
        lab.ids(),
        vec![("198.51.100.70".into(), AlertId::SipScanner)]
    );
}

#[test]
fn first_international_call_from_an_extension_that_never_calls_abroad() {
    use sipsentry_detect::Policy;
    let policy = Policy {
        home_country: Some("GB".into()),
        ..Policy::default()
    };
    let mut lab = Lab {
        e: Engine::with_policy(policy),
        t: 1_700_000_000 * S,
    };
    let call = |lab: &mut Lab, n: &str, c: &str| {
        let m = req("INVITE", n, c, 1, true, "x")
            .replace(&format!("From: <sip:{n}@pbx>"), "From: <sip:1001@pbx>");
        lab.feed("198.51.100.9:5060", PBX, &m, 600 * S);
    };
    for i in 0..25 {
        call(&mut lab, &format!("+44{}7946000", 20 + i), &format!("h{i}"));
    }
    call(&mut lab, "+2348031234567", "abroad");
    let ids = lab.ids();
    assert_eq!(
        ids,
        vec![("198.51.100.9".into(), AlertId::TollFraudDestination)]
    );
}

/// Live mode (`watch`): an alert is handed over the moment it is raised, updates are handed over
/// once per drain, and an attacker who returns after its alert was retired is reported anew.
#[test]
fn live_mode_reports_new_then_updates_then_anew_after_retirement() {
    let mut lab = Lab::new(Thresholds::default());
    lab.e.set_live(true);
    for i in 0..4 {
        lab.register("198.51.100.66:5060", "101", &format!("b{i}"), false, S);
    }
    assert!(lab.e.drain_changes().is_empty(), "below threshold");
    lab.register("198.51.100.66:5060", "101", "b4", false, S);
    let c = lab.e.drain_changes();
    assert_eq!(c.len(), 1);
    assert!(c[0].new);
    assert_eq!(c[0].alert.id, AlertId::AuthBruteforce);
    assert!(lab.e.drain_changes().is_empty(), "drained");
    for i in 5..8 {
        lab.register("198.51.100.66:5060", "101", &format!("b{i}"), false, S);
    }
    let c = lab.e.drain_changes();
    assert_eq!(c.len(), 1, "three updates of one alert are one change");
    assert!(!c[0].new);
    assert!(c[0].alert.count >= 8);
    // An hour of quiet, then the alert is retired; the return is a new alert.
    lab.register("198.51.100.9:5060", "101", "ok", true, 3600 * S);
    assert_eq!(lab.e.retire_alerts(1800 * S), 1);
    assert!(lab.e.alerts().is_empty());
    lab.e.drain_changes();
    for i in 0..5 {
        lab.register("198.51.100.66:5060", "101", &format!("r{i}"), false, S);
    }
    let c = lab.e.drain_changes();
    assert!(c
        .iter()
        .any(|c| c.new && c.alert.id == AlertId::AuthBruteforce));
}

/// Batch mode (`analyze`) never accumulates change records nobody reads.
#[test]
fn batch_mode_keeps_no_change_log() {
    let mut lab = Lab::new(Thresholds::default());
    for i in 0..6 {
        lab.register("198.51.100.66:5060", "101", &format!("b{i}"), false, S);
    }
    assert!(lab.e.drain_changes().is_empty());
    assert_eq!(lab.e.alerts().len(), 1);
}

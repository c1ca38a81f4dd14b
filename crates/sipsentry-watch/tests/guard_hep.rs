//! The guard end to end on loopback, fed by HEP: the real lab capture (Kamailio, sipvicious,
//! sipsak) replayed as HEP3 over UDP and TCP, as Kamailio's siptrace would mirror it. Every
//! attacker is found, no legitimate client is, alerts reach the store and the API, and packets
//! with a wrong key or capture id are refused and counted. (Bans are exercised with real
//! nftables in the CLI's namespace tests; here the guard runs with `mode = "off"`.)

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;

fn config(dir: &std::path::Path, udp: bool) -> sipsentry_watch::config::Config {
    write(dir, "token", "s3cret-token\n");
    write(dir, "hepkey", "hep-k3y\n");
    let text = format!(
        r#"
[inputs.hep]
udp = "{}"
tcp = "{}"
auth_key_file = "hepkey"
capture_ids = [7]
[response]
mode = "off"
[alerts]
stdout = false
[store]
path = "guard.db"
[api]
listen = "127.0.0.1:0"
token_file = "token"
"#,
        if udp { "127.0.0.1:0" } else { "" },
        if udp { "" } else { "127.0.0.1:0" },
    );
    let p = write(dir, "watch.toml", &text);
    sipsentry_watch::config::Config::load(&p).unwrap()
}

fn alert_sources(api: std::net::SocketAddr) -> BTreeSet<(String, String)> {
    let (code, body) = http(
        api,
        "GET",
        "/api/alerts?limit=1000",
        Some("s3cret-token"),
        "",
    );
    assert_eq!(code, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["source_ip"].as_str().unwrap().to_string(),
                a["alert_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn run(udp: bool) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), udp);
    let guard = sipsentry_watch::Guard::start(
        &cfg,
        Default::default(),
        Box::new(sipsentry_watch::NoEnforcer),
    )
    .unwrap();
    let api = guard.api.unwrap();
    let msgs = messages(LAB);
    assert!(msgs.len() > 700);
    let key = Some(&b"hep-k3y"[..]);
    if udp {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = guard.hep_udp.unwrap();
        for (i, m) in msgs.iter().enumerate() {
            s.send_to(&hep(m, key, 7), to).unwrap();
            if i % 200 == 0 {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
        // Refused: wrong key, no key, other capture id.
        s.send_to(&hep(&msgs[0], Some(b"wrong"), 7), to).unwrap();
        s.send_to(&hep(&msgs[0], None, 7), to).unwrap();
        s.send_to(&hep(&msgs[0], key, 8), to).unwrap();
    } else {
        let mut s = std::net::TcpStream::connect(guard.hep_tcp.unwrap()).unwrap();
        let mut stream = Vec::new();
        for m in &msgs {
            stream.extend(hep(m, key, 7));
        }
        stream.extend(hep(&msgs[0], Some(b"wrong"), 7));
        // Arbitrary split points: the framer must reassemble HEP across TCP segments.
        for chunk in stream.chunks(1000) {
            s.write_all(chunk).unwrap();
        }
        s.flush().unwrap();
    }
    let expected: BTreeSet<(String, String)> = [
        ("127.0.0.66", "SIP-SCANNER"),
        ("127.0.0.67", "SIP-ENUMERATION"),
        ("127.0.0.68", "AUTH-BRUTEFORCE"),
        ("127.0.0.69", "SIP-FLOOD"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    let mut got = BTreeSet::new();
    let found = wait_for(20, || {
        got = alert_sources(api);
        expected.is_subset(&got)
    });
    assert!(found, "expected {expected:?}, got {got:?}");
    for legit in ["127.0.0.31", "127.0.0.32", "127.0.0.40"] {
        assert!(
            !got.iter().any(|(s, _)| s == legit),
            "legitimate {legit} alerted: {got:?}"
        );
    }
    let mut metrics = String::new();
    let method_line = format!(
        "sipsentry_messages_total{{input=\"{}\",method=\"REGISTER\"}}",
        if udp { "hep_udp" } else { "hep_tcp" }
    );
    // Per-method counters are merged when the detector thread goes idle.
    wait_for(5, || {
        metrics = http(api, "GET", "/metrics", None, "").1;
        metrics.contains(&method_line)
    });
    let input = if udp { "hep_udp" } else { "hep_tcp" };
    let received: u64 = metrics
        .lines()
        .find(|l| {
            l.starts_with(&format!(
                "sipsentry_input_received_total{{input=\"{input}\"}}"
            ))
        })
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap();
    assert_eq!(
        received as usize,
        msgs.len(),
        "every accepted HEP packet reached the detectors"
    );
    let rejected: u64 = metrics
        .lines()
        .find(|l| l.starts_with("sipsentry_hep_rejected_total "))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap();
    assert_eq!(rejected, if udp { 3 } else { 1 });
    assert!(metrics.contains(&method_line), "{metrics}");
    assert!(
        metrics.contains("sipsentry_alerts_total{id=\"SIP-ENUMERATION\"} 1"),
        "{metrics}"
    );
    // Per-source statistics reach the store (flushed when the detectors go idle).
    let mut top = serde_json::Value::Null;
    let seen = wait_for(5, || {
        top = serde_json::from_str(
            &http(api, "GET", "/api/sources?hours=1", Some("s3cret-token"), "").1,
        )
        .unwrap();
        top["sources"].as_array().is_some_and(|a| {
            a.iter().any(|s| {
                s["source"] == "127.0.0.69"
                    && s["messages"].as_u64() >= Some(300)
                    && s["alerts"].as_u64() >= Some(1)
            })
        })
    });
    assert!(seen, "{top}");
    guard.stop();
    // Persisted: a fresh read-only connection sees them after the guard stopped.
    let store = sipsentry_store::Store::open_read_only(&dir.path().join("guard.db")).unwrap();
    let stored = store.alerts(&Default::default()).unwrap();
    assert!(stored.iter().any(|a| a.alert.alert_id == "SIP-ENUMERATION"
        && a.alert.source_ip.as_deref() == Some("127.0.0.67")));
}

#[test]
fn lab_attackers_found_over_hep_udp() {
    run(true);
}

#[test]
fn lab_attackers_found_over_hep_tcp_with_arbitrary_segmentation() {
    run(false);
}

#[test]
fn api_refuses_without_token_and_validates_input() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), true);
    let guard = sipsentry_watch::Guard::start(
        &cfg,
        Default::default(),
        Box::new(sipsentry_watch::NoEnforcer),
    )
    .unwrap();
    let api = guard.api.unwrap();
    assert_eq!(http(api, "GET", "/api/bans", None, "").0, 401);
    assert_eq!(http(api, "GET", "/api/bans", Some("nope"), "").0, 401);
    assert_eq!(http(api, "GET", "/healthz", None, "").0, 200);
    let (code, body) = http(
        api,
        "POST",
        "/api/bans",
        Some("s3cret-token"),
        "{\"net\":\"not-an-ip\"}",
    );
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("not an IP address"), "{body}");
    let (code, _) = http(api, "POST", "/api/bans", Some("s3cret-token"), "{oops");
    assert_eq!(code, 400);
    guard.stop();
}

#[test]
fn regression_failed_start_leaves_listeners_running() {
    // A free UDP port for HEP, and an API address that is already taken.
    let port = std::net::UdpSocket::bind("127.0.0.94:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let taken = std::net::TcpListener::bind("127.0.0.94:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "w.toml",
        &format!(
            "[inputs.hep]\nudp = \"127.0.0.94:{port}\"\ntcp = \"\"\n[response]\nmode = \"off\"\n[alerts]\nstdout = false\n[store]\npath = \"g.db\"\n[api]\nlisten = \"{}\"\n",
            taken.local_addr().unwrap()
        ),
    );
    let cfg = sipsentry_watch::config::Config::load(&p).unwrap();
    let r = sipsentry_watch::Guard::start(
        &cfg,
        sipsentry_detect::Policy::default(),
        Box::new(sipsentry_watch::NoEnforcer),
    );
    let e = r
        .err()
        .expect("API address in use must fail the start")
        .to_string();
    assert!(e.contains("api.listen"), "{e}");
    // The HEP listener of the failed start must be gone: a restart can bind it again.
    assert!(
        wait_for(2, || std::net::UdpSocket::bind(("127.0.0.94", port))
            .is_ok()),
        "HEP/UDP 127.0.0.94:{port} still held by the failed start's thread"
    );
}

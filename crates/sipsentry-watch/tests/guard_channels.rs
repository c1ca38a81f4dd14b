//! Alert channels end to end: RFC 5424 syslog over UDP and webhooks (retry with back-off after
//! failures; a webhook that never answers does not stall detection). Real sockets on loopback:
//! a UDP receiver standing in for the syslog daemon and a small HTTP server that fails on
//! purpose.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An HTTP server that answers 503 to the first `fail_first` requests, then 200, recording
/// bodies; or, with `hang`, accepts and never answers.
fn webhook_server(
    fail_first: u32,
    hang: bool,
) -> (String, Arc<Mutex<Vec<String>>>, Arc<AtomicU32>) {
    let l = TcpListener::bind("127.0.0.44:0").unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let hits = Arc::new(AtomicU32::new(0));
    let (b, h) = (bodies.clone(), hits.clone());
    std::thread::spawn(move || {
        for conn in l.incoming().take(200) {
            let Ok(mut c) = conn else { continue };
            let n = h.fetch_add(1, SeqCst);
            if hang {
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_secs(30));
                    drop(c);
                });
                continue;
            }
            c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut buf = vec![0u8; 65536];
            let mut got = Vec::new();
            loop {
                let k = c.read(&mut buf).unwrap_or(0);
                if k == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..k]);
                let text = String::from_utf8_lossy(&got).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        if n >= fail_first {
                            b.lock().unwrap().push(format!("{head}\r\n\r\n{body}"));
                            let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                        } else {
                            let _ = c.write_all(b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n");
                        }
                        break;
                    }
                }
            }
        }
    });
    (url, bodies, hits)
}

fn start(dir: &std::path::Path, extra: &str) -> sipsentry_watch::Guard {
    write(dir, "hook.token", "hook-s3cret\n");
    let p = write(
        dir,
        "w.toml",
        &format!("[inputs.hep]\nudp = \"127.0.0.44:0\"\ntcp = \"\"\n[response]\nmode = \"off\"\n[alerts]\nstdout = false\nwebhook_queue = 4\n{extra}\n[store]\npath = \"g.db\"\n[api]\nlisten = \"127.0.0.44:0\"\n"),
    );
    let cfg = sipsentry_watch::config::Config::load(&p).unwrap();
    sipsentry_watch::Guard::start(
        &cfg,
        Default::default(),
        Box::new(sipsentry_watch::NoEnforcer),
    )
    .unwrap()
}

fn replay_lab(guard: &sipsentry_watch::Guard) {
    let s = UdpSocket::bind("127.0.0.44:0").unwrap();
    for (i, m) in messages(LAB).iter().enumerate() {
        s.send_to(&hep(m, None, 0), guard.hep_udp.unwrap()).unwrap();
        if i % 200 == 0 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

#[test]
fn syslog_and_webhook_with_retry() {
    let dir = tempfile::tempdir().unwrap();
    let syslog = UdpSocket::bind("127.0.0.44:0").unwrap();
    syslog
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let (url, bodies, hits) = webhook_server(2, false);
    let guard = start(
        dir.path(),
        &format!("syslog = \"udp:{}\"\n[[alerts.webhook]]\nurl = \"{url}\"\ntoken_file = \"hook.token\"\nretries = 5\n", syslog.local_addr().unwrap()),
    );
    replay_lab(&guard);
    // Syslog: RFC 5424 lines with the alert ID as MSGID.
    let mut lines = Vec::new();
    let mut buf = [0u8; 8192];
    while lines.len() < 4 {
        let Ok(n) = syslog.recv(&mut buf) else { break };
        lines.push(String::from_utf8_lossy(&buf[..n]).to_string());
    }
    assert!(
        lines.iter().any(|l| l
            .contains(" SIP-ENUMERATION [sipsentry@32473 event=\"alert\" id=\"SIP-ENUMERATION\"")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with('<') && l.contains(">1 ")),
        "{lines:?}"
    );
    // Webhook: the first two attempts fail (503), the retries deliver, with the bearer token.
    assert!(
        wait_for(20, || !bodies.lock().unwrap().is_empty()),
        "nothing delivered; {} attempts",
        hits.load(SeqCst)
    );
    let first = bodies.lock().unwrap()[0].clone();
    assert!(
        first.contains("Authorization: Bearer hook-s3cret"),
        "{first}"
    );
    assert!(first.contains("\"event\":\"alert\""), "{first}");
    assert!(hits.load(SeqCst) >= 3);
    let (_, m) = http(guard.api.unwrap(), "GET", "/metrics", None, "");
    assert!(!m.contains("sipsentry_webhook_sent_total 0\n"), "{m}");
    guard.stop();
}

#[test]
fn a_hanging_webhook_never_stalls_detection() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _, _) = webhook_server(0, true);
    let guard = start(
        dir.path(),
        &format!("[[alerts.webhook]]\nurl = \"{url}\"\ntimeout_s = 30\nretries = 0\n"),
    );
    replay_lab(&guard);
    // Every attacker is still found and stored promptly, although the webhook never answers.
    let api = guard.api.unwrap();
    let found = wait_for(10, || {
        let (_, m) = http(api, "GET", "/metrics", None, "");
        [
            "SIP-SCANNER",
            "SIP-ENUMERATION",
            "AUTH-BRUTEFORCE",
            "SIP-FLOOD",
        ]
        .iter()
        .all(|id| m.contains(&format!("sipsentry_alerts_total{{id=\"{id}\"}} ")))
    });
    assert!(found, "detection stalled behind the webhook");
    // The bounded queue (4) overflowed: the oldest waiting notifications were dropped, counted.
    let (_, m) = http(api, "GET", "/metrics", None, "");
    let dropped: u64 = m
        .lines()
        .find(|l| l.starts_with("sipsentry_webhook_dropped_total "))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap();
    assert!(dropped > 0, "{m}");
    guard.stop();
}

//! NET-SIP-ALG: `reflector` + `alg_check` over UDP and TCP, direct (no ALG: nothing reported)
//! and through an ALG fixture.
//!
//! The fixture is a UDP relay that does what Linux's nf_nat_sip helper does to a request leaving
//! a NATed network: it rewrites the inside address in Via, Contact and the SDP c=/o= lines to
//! its own, and rewrites the top Via of the response back. A real ALG cannot run here: the test
//! machine's kernel has no nf_conntrack_sip module and no module directory to load it from.

use sipsentry_scan::{alg, Config, Transport};
use std::net::SocketAddr;
use tokio::net::UdpSocket;

fn rewrite_request(msg: &[u8], inside: &str, outside: &str) -> Vec<u8> {
    // Header lines that carry addresses, and the SDP, like an ALG (not the whole message).
    let text = String::from_utf8_lossy(msg).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let head: Vec<String> = head
        .split("\r\n")
        .map(|l| {
            if l.starts_with("Via:") || l.starts_with("Contact:") {
                l.replace(inside, outside)
            } else {
                l.to_string()
            }
        })
        .collect();
    let body: Vec<String> = body
        .split("\r\n")
        .map(|l| {
            if l.starts_with("c=") || l.starts_with("o=") {
                l.replace(inside, outside)
            } else {
                l.to_string()
            }
        })
        .collect();
    format!("{}\r\n\r\n{}", head.join("\r\n"), body.join("\r\n")).into_bytes()
}

fn rewrite_response(msg: &[u8], inside: &str, outside: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(msg).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let head: Vec<String> = head
        .split("\r\n")
        .map(|l| {
            if l.starts_with("Via:") {
                l.replace(outside, inside)
            } else {
                l.to_string()
            }
        })
        .collect();
    format!("{}\r\n\r\n{body}", head.join("\r\n")).into_bytes()
}

async fn alg_fixture(
    listen: &str,
    upstream: SocketAddr,
    inside: &'static str,
    outside: &'static str,
) -> SocketAddr {
    let front = UdpSocket::bind(listen).await.unwrap();
    let back = UdpSocket::bind(format!("{outside}:0")).await.unwrap();
    let addr = front.local_addr().unwrap();
    tokio::spawn(async move {
        let mut client: Option<SocketAddr> = None;
        let mut a = vec![0u8; 65536];
        let mut b = vec![0u8; 65536];
        for _ in 0..200 {
            tokio::select! {
                Ok((n, src)) = front.recv_from(&mut a) => {
                    client = Some(src);
                    let _ = back.send_to(&rewrite_request(&a[..n], inside, outside), upstream).await;
                }
                Ok((n, _)) = back.recv_from(&mut b) => {
                    if let Some(c) = client {
                        let _ = front.send_to(&rewrite_response(&b[..n], inside, outside), c).await;
                    }
                }
            }
        }
    });
    addr
}

#[tokio::test(flavor = "current_thread")]
async fn direct_path_is_clean_and_an_alg_is_detected() {
    let refl: SocketAddr = "127.0.0.58:5070".parse().unwrap();
    let server = tokio::spawn(alg::reflector(refl, None));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let cfg = Config {
        bind: Some("127.0.0.61".parse().unwrap()),
        ..Config::default()
    };

    let t = std::time::Instant::now();
    let rep = alg::alg_check(refl, &[Transport::Udp, Transport::Tcp], &cfg)
        .await
        .unwrap();
    // Regression (bye_and_cancel_sent_without_waiting_for_a_timer): transactions created while
    // handling a response used to wait for the next timer before being sent.
    assert!(
        t.elapsed() < std::time::Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );
    assert!(rep.unanswered.is_empty(), "{rep:?}");
    assert!(rep.findings.is_empty(), "no ALG on a direct path: {rep:?}");
    assert_eq!(rep.seen_as.len(), 2);
    assert!(
        rep.seen_as
            .iter()
            .all(|(_, s)| s.starts_with("127.0.0.61:")),
        "{rep:?}"
    );

    let alg_addr = alg_fixture("127.0.0.59:5070", refl, "127.0.0.61", "127.0.0.59").await;
    let rep = alg::alg_check(alg_addr, &[Transport::Udp], &cfg)
        .await
        .unwrap();
    let f = rep
        .findings
        .first()
        .unwrap_or_else(|| panic!("ALG not detected: {rep:?}"));
    assert_eq!(f.id, "NET-SIP-ALG");
    for field in ["Via:", "Contact:", "SDP:"] {
        assert!(
            f.evidence.iter().any(|e| e.contains(field)),
            "{field} rewrite not reported: {:?}",
            f.evidence
        );
    }
    assert!(
        rep.seen_as
            .iter()
            .all(|(_, s)| s.starts_with("127.0.0.59:")),
        "NAT seen: {rep:?}"
    );
    server.abort();
}

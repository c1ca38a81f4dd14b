//! MGMT-EXPOSED / MGMT-DEFAULT-CREDENTIAL against small loopback servers.
//!
//! Fixtures, not the real software: FreeSWITCH, Asterisk and 3CX cannot be installed from
//! Debian 12 on this machine. Each fixture speaks what the product publishes:
//! * FreeSWITCH event socket (mod_event_socket docs): greeting `Content-Type: auth/request`,
//!   `auth <password>` answered `Content-Type: command/reply` / `Reply-Text: +OK accepted` or
//!   `-ERR invalid`; default password `ClueCon`.
//! * Asterisk Manager Interface: greeting line `Asterisk Call Manager/<version>\r\n`.
//! * 3CX web console / setup wizard: an HTML page whose title names 3CX (the real console's
//!   markup is not reproduced; classification is by title/body text only).

use sipsentry_scan::{mgmt, Config, Port};
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

async fn esl_fixture(addr: &str, password: &'static str) -> SocketAddr {
    let l = TcpListener::bind(addr).await.unwrap();
    let a = l.local_addr().unwrap();
    tokio::spawn(async move {
        for _ in 0..4 {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let _ = s.write_all(b"Content-Type: auth/request\n\n").await;
            let mut buf = [0u8; 256];
            let n = s.read(&mut buf).await.unwrap_or(0);
            let line = String::from_utf8_lossy(&buf[..n]).to_string();
            let reply: &[u8] = if line.trim_end() == format!("auth {password}") {
                b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n"
            } else {
                b"Content-Type: command/reply\nReply-Text: -ERR invalid\n\n"
            };
            let _ = s.write_all(reply).await;
        }
    });
    a
}

async fn line_fixture(addr: &str, greeting: &'static [u8]) -> SocketAddr {
    let l = TcpListener::bind(addr).await.unwrap();
    let a = l.local_addr().unwrap();
    tokio::spawn(async move {
        for _ in 0..4 {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let _ = s.write_all(greeting).await;
        }
    });
    a
}

async fn http_fixture(addr: &str, title: &'static str) -> SocketAddr {
    let l = TcpListener::bind(addr).await.unwrap();
    let a = l.local_addr().unwrap();
    tokio::spawn(async move {
        for _ in 0..8 {
            let Ok((mut s, _)) = l.accept().await else {
                return;
            };
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf).await.unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let (ct, body): (&str, Vec<u8>) = if req.starts_with("GET /favicon.ico") {
                ("image/x-icon", vec![0, 0, 1, 0, 1, 0, 16, 16])
            } else {
                ("text/html", format!("<html><head><title>{title}</title></head><body>3CX Phone System</body></html>").into_bytes())
            };
            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(&body).await;
        }
    });
    a
}

#[tokio::test(flavor = "current_thread")]
async fn management_planes_and_the_esl_default_password_are_found() {
    let esl = esl_fixture("127.0.0.58:0", "ClueCon").await;
    let ami = line_fixture("127.0.0.58:0", b"Asterisk Call Manager/5.0.1\r\n").await;
    let console = http_fixture("127.0.0.58:0", "3CX Webclient").await;
    let wizard = http_fixture("127.0.0.58:0", "3CX Phone System Setup Wizard").await;
    let esl_strong = esl_fixture("127.0.0.59:0", "a-long-random-secret").await;
    let cfg = Config {
        bind: Some("127.0.0.60".parse().unwrap()),
        ..Config::default()
    };
    let ports = vec![
        Port::Esl(esl.port()),
        Port::Ami(ami.port()),
        Port::Http {
            port: console.port(),
            tls: false,
        },
        Port::Http {
            port: wizard.port(),
            tls: false,
        },
    ];
    let rep = mgmt::check_ports("127.0.0.58".parse().unwrap(), &ports, &cfg).await;
    let titles: Vec<String> = rep
        .findings
        .iter()
        .map(|f| format!("{} {}", f.id, f.title))
        .collect();
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("MGMT-DEFAULT-CREDENTIAL")),
        "{titles:#?}"
    );
    assert!(
        titles.iter().any(|t| t.contains("event socket")),
        "{titles:#?}"
    );
    assert!(
        titles
            .iter()
            .any(|t| t.contains("Asterisk Manager Interface")),
        "{titles:#?}"
    );
    assert!(
        titles.iter().any(|t| t.contains("3CX management console")),
        "{titles:#?}"
    );
    assert!(
        titles.iter().any(|t| t.contains("3CX setup wizard")),
        "{titles:#?}"
    );
    assert!(rep
        .findings
        .iter()
        .any(|f| f.evidence.iter().any(|e| e.contains("favicon mmh3 hash"))));
    // The password itself never appears in evidence (the remediation names the published
    // vendor default, which is documentation, not a secret of this system).
    let evidence: Vec<&String> = rep.findings.iter().flat_map(|f| &f.evidence).collect();
    assert!(!format!("{evidence:?}").contains("ClueCon"), "{evidence:?}");

    let rep = mgmt::check_ports(
        "127.0.0.59".parse().unwrap(),
        &[Port::Esl(esl_strong.port())],
        &cfg,
    )
    .await;
    let ids: Vec<&str> = rep.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids,
        vec!["MGMT-EXPOSED"],
        "a non-default password is not reported as default"
    );
}

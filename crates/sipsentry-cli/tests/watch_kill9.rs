//! `kill -9` of `sipsentry watch` in the middle of a flood: the store opens cleanly and holds
//! every alert the guard had announced (stdout JSON lines are written only after the commit).

use std::io::BufRead;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::time::Duration;

const HEP: &str = "127.0.0.45:19162";

fn scanner_options(src: SocketAddr) -> Vec<u8> {
    let msg = format!(
        "OPTIONS sip:100@127.0.0.45 SIP/2.0\r\nVia: SIP/2.0/UDP {src};branch=z9hG4bK{}\r\nFrom: <sip:100@x>;tag=1\r\nTo: <sip:100@x>\r\nCall-ID: {}\r\nCSeq: 1 OPTIONS\r\nUser-Agent: friendly-scanner\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        src.port(),
        src.ip()
    );
    let dst: SocketAddr = "127.0.0.45:5060".parse().unwrap();
    let mut h = sipsentry_hep::HepPacket::new(src, dst, msg.into_bytes());
    h.ts_secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32;
    h.to_v3_bytes().unwrap()
}

#[test]
fn kill_9_under_flood_loses_no_announced_alert() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("w.toml");
    std::fs::write(
        &cfg,
        format!("[inputs.hep]\nudp = \"{HEP}\"\ntcp = \"\"\n[response]\nmode = \"off\"\n[store]\npath = \"g.db\"\n[api]\nlisten = \"\"\n"),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sipsentry"))
        .args(["watch", "--config"])
        .arg(&cfg)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut err_lines = std::io::BufReader::new(stderr).lines();
    let started = err_lines.next().and_then(|l| l.ok()).unwrap_or_default();
    assert!(started.contains("watching"), "{started}");
    let stdout = child.stdout.take().unwrap();
    // Reader: every announced alert's source.
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            if v["event"] == "alert" {
                seen.push(v["source"].as_str().unwrap().to_string());
            }
        }
        seen
    });
    // Flood: bounded, 60,000 scanners from distinct spoofed sources, each a new alert.
    let s = UdpSocket::bind("127.0.0.45:0").unwrap();
    let killer = std::thread::spawn({
        let pid = child.id();
        move || {
            std::thread::sleep(Duration::from_millis(1500));
            Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status()
                .unwrap();
        }
    });
    for i in 0..60_000u32 {
        let src = SocketAddr::new(Ipv4Addr::from(0x0a00_0000 | i).into(), 5060);
        let _ = s.send_to(&scanner_options(src), HEP);
        if i % 500 == 0 {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    killer.join().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        None,
        "the guard was not killed mid-flood (it exited by itself)"
    );
    let announced = reader.join().unwrap();
    assert!(
        announced.len() > 100,
        "too few alerts before the kill ({}) to prove anything",
        announced.len()
    );
    let store = sipsentry_store::Store::open(&dir.path().join("g.db")).unwrap();
    store.integrity_check().unwrap();
    let mut q = sipsentry_store::AlertQuery {
        limit: usize::MAX,
        ..Default::default()
    };
    let mut stored = std::collections::HashSet::new();
    let mut after = 0;
    loop {
        q.after_id = Some(after);
        let page = store.alerts(&q).unwrap();
        if page.is_empty() {
            break;
        }
        for a in &page {
            stored.insert(format!(
                "{}:{}",
                a.alert.source_ip.clone().unwrap(),
                a.alert.source_port.unwrap()
            ));
            after = after.max(a.id);
        }
    }
    let missing: Vec<&String> = announced.iter().filter(|s| !stored.contains(*s)).collect();
    assert!(
        missing.is_empty(),
        "{} announced alerts missing after kill -9, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(3)]
    );
}

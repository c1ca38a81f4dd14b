//! Shared helpers for the guard's integration tests.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;

/// The committed lab capture: real Kamailio + sipvicious + sipsak traffic (lab/record.sh).
pub const LAB: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/vectors/lab/attack-lab.pcap"
);

pub struct Msg {
    pub ts: i64,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub tcp: bool,
    pub data: Vec<u8>,
}

/// Every SIP message of a capture, in order.
pub fn messages(path: &str) -> Vec<Msg> {
    let f = std::fs::File::open(path).expect("lab capture");
    let mut r = sipsentry_capture::PcapReader::new(std::io::BufReader::new(f)).unwrap();
    let mut dec = sipsentry_capture::Decoder::new(sipsentry_capture::Config::default());
    let mut ing = sipsentry_ingest::Ingest::new(sipsentry_ingest::IngestConfig::default());
    let mut out = Vec::new();
    while let Some(p) = r.next_packet().unwrap() {
        dec.push(&p, |e| {
            ing.on_event(&e, &mut |ev| {
                out.push(Msg {
                    ts: ev.ts_nanos,
                    src: ev.src,
                    dst: ev.dst,
                    tcp: ev.transport != sipsentry_ingest::Transport::Udp,
                    data: ev.data.to_vec(),
                })
            })
        });
    }
    dec.flush(|e| ing.on_event(&e, &mut |_| {}));
    out
}

pub fn hep(m: &Msg, key: Option<&[u8]>, capture_id: u32) -> Vec<u8> {
    let mut h = sipsentry_hep::HepPacket::new(m.src, m.dst, m.data.as_slice());
    h.ts_secs = (m.ts / 1_000_000_000) as u32;
    h.ts_micros = (m.ts % 1_000_000_000 / 1000) as u32;
    h.ip_proto = if m.tcp { 6 } else { 17 };
    h.capture_id = capture_id;
    h.auth_key = key.map(|k| sipsentry_hep::AuthKey::new(k.to_vec()));
    h.to_v3_bytes().unwrap()
}

/// A minimal HTTP/1.1 request; returns (status, body).
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap();
    (
        head.split(' ').nth(1).unwrap().parse().unwrap(),
        body.to_string(),
    )
}

pub fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Polls `f` every 50 ms for up to `secs` seconds (bounded).
pub fn wait_for(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..secs * 20 {
        if f() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

/// A network namespace the test creates (loopback up) and deletes when dropped, also on failure.
pub struct Ns(pub String);
impl Drop for Ns {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.0])
            .status();
    }
}

/// Creates namespace `{tag}-{pid}`; fails naming the package when `ip` or `nft` is missing.
pub fn netns(tag: &str) -> Ns {
    use std::process::Command;
    for (c, p) in [("ip", "iproute2"), ("nft", "nftables")] {
        let ok = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {c}"))
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "{c} not found: install {p}");
    }
    let name = format!("{tag}-{}", std::process::id());
    let _ = Command::new("ip").args(["netns", "del", &name]).status();
    assert!(Command::new("ip")
        .args(["netns", "add", &name])
        .status()
        .unwrap()
        .success());
    let ns = Ns(name);
    Command::new("ip")
        .args(["-n", &ns.0, "link", "set", "lo", "up"])
        .status()
        .unwrap();
    ns
}

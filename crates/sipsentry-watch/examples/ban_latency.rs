//! Ban latency benchmark (bench/watch-ban-latency.sh): for N fresh attacker addresses, sends
//! the HEP mirror of five failed digest authentications (REGISTER with credentials → 403) and
//! measures the time from sending the packet that crosses the AUTH-BRUTEFORCE threshold to the
//! element appearing in the kernel set, as reported by `nft monitor` (run in the same netns).
//!
//!   ban_latency HEP_ADDR N
use std::io::BufRead;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn hep(src: SocketAddr, dst: SocketAddr, msg: String) -> Vec<u8> {
    let mut h = sipsentry_hep::HepPacket::new(src, dst, msg.into_bytes());
    h.ts_secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32;
    h.to_v3_bytes().unwrap()
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let to: SocketAddr = a[1].parse().expect("HEP_ADDR");
    let n: u32 = a[2].parse().expect("N");
    let mut mon = Command::new("nft")
        .args(["monitor", "new", "elements"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("nft monitor");
    let (tx, rx) = mpsc::channel::<(Instant, String)>();
    let out = mon.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send((Instant::now(), l));
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let pbx: SocketAddr = "192.0.2.1:5060".parse().unwrap();
    let mut lat = Vec::new();
    let mut missed = 0;
    for i in 0..n {
        let ip = Ipv4Addr::new(10, 9, (i >> 8) as u8, i as u8);
        let src = SocketAddr::new(ip.into(), 5060);
        let mut last = Instant::now();
        for k in 0..5 {
            let call = format!("lat{i}x{k}");
            let req = format!("REGISTER sip:192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP {src};branch=z9hG4bK{call}\r\nFrom: <sip:101@pbx>;tag=1\r\nTo: <sip:101@pbx>\r\nCall-ID: {call}\r\nCSeq: 2 REGISTER\r\nMax-Forwards: 70\r\nAuthorization: Digest username=\"101\", realm=\"pbx\", nonce=\"n{call}\", uri=\"sip:pbx\", response=\"00112233445566778899aabbccddeeff\"\r\nContent-Length: 0\r\n\r\n");
            let resp = format!("SIP/2.0 403 Forbidden\r\nVia: SIP/2.0/UDP {src};branch=z9hG4bK{call}\r\nFrom: <sip:101@pbx>;tag=1\r\nTo: <sip:101@pbx>;tag=2\r\nCall-ID: {call}\r\nCSeq: 2 REGISTER\r\nContent-Length: 0\r\n\r\n");
            s.send_to(&hep(src, pbx, req), to).unwrap();
            let r = hep(pbx, src, resp);
            last = Instant::now();
            s.send_to(&r, to).unwrap();
        }
        let needle = format!("{ip} ");
        let deadline = last + Duration::from_secs(2);
        let mut got = None;
        while let Ok((t, line)) =
            rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            if line.contains(&needle)
                || line.ends_with(&ip.to_string())
                || line.contains(&format!("{ip} timeout"))
            {
                got = Some(t);
                break;
            }
        }
        match got {
            Some(t) => lat.push(t.duration_since(last)),
            None => missed += 1,
        }
    }
    let _ = mon.kill();
    let _ = mon.wait();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    println!(
        "bans {} missed {} | threshold packet -> element in kernel set: p50 {:.2} ms  p90 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        lat.len(),
        missed,
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.9).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
}

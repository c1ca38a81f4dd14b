//! Memory benchmark load (bench/watch-flood-memory.sh): N OPTIONS requests mirrored as HEP3,
//! each from a different spoofed source address (10.0.0.0/8 and up), at a bounded rate.
//!
//!   hep_flood HEP_ADDR N RATE_PER_S
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let to: SocketAddr = a[1].parse().expect("HEP_ADDR");
    let n: u32 = a[2].parse().expect("N");
    let rate: u32 = a[3].parse().expect("RATE");
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    let dst: SocketAddr = "192.0.2.1:5060".parse().unwrap();
    let start = Instant::now();
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32;
    for i in 0..n {
        let src = SocketAddr::new(Ipv4Addr::from(0x0a00_0000u32.wrapping_add(i)).into(), 5060);
        let msg = format!("OPTIONS sip:{i}@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP {src};branch=z9hG4bK{i}\r\nFrom: <sip:{i}@x>;tag={i}\r\nTo: <sip:{i}@192.0.2.1>\r\nCall-ID: f{i}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
        let mut h = sipsentry_hep::HepPacket::new(src, dst, msg.into_bytes());
        h.ts_secs = ts + i / rate.max(1);
        let _ = s.send_to(&h.to_v3_bytes().unwrap(), to);
        if i % 1000 == 999 {
            let due = start + Duration::from_secs_f64(f64::from(i + 1) / f64::from(rate));
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
    }
    println!(
        "sent {n} from {n} distinct sources in {:.1} s",
        start.elapsed().as_secs_f64()
    );
}

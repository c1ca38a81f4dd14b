//! Load generator for the HEP ingest benchmark (bench/watch-hep.sh): sends the SIP messages of
//! a capture as HEP3 over UDP to a guard, at a fixed rate, a bounded number of times.
//!
//!   hep_blast CAPTURE ADDR TOTAL RATE_PER_S
//!
//! Each pass over the capture shifts the source addresses into a fresh 10.x range so the
//! detectors see new sources rather than one replay repeated.
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() != 5 {
        eprintln!("usage: hep_blast CAPTURE ADDR TOTAL RATE_PER_S");
        std::process::exit(2);
    }
    let to: SocketAddr = a[2].parse().expect("ADDR");
    let total: u64 = a[3].parse().expect("TOTAL");
    let rate: u64 = a[4].parse().expect("RATE");
    let f = std::fs::File::open(&a[1]).expect("capture");
    let mut r = sipsentry_capture::PcapReader::new(std::io::BufReader::new(f)).expect("pcap");
    let mut dec = sipsentry_capture::Decoder::new(sipsentry_capture::Config::default());
    let mut ing = sipsentry_ingest::Ingest::new(sipsentry_ingest::IngestConfig::default());
    let mut msgs = Vec::new();
    while let Some(p) = r.next_packet().expect("read") {
        dec.push(&p, |e| {
            ing.on_event(&e, &mut |ev| msgs.push((ev.src, ev.dst, ev.data.to_vec())))
        });
    }
    // Pre-encode a few passes with distinct source ranges.
    let mut packets = Vec::new();
    for pass in 0..16u8 {
        for (src, dst, data) in &msgs {
            let src = match src.ip() {
                IpAddr::V4(v) if v.octets()[0] == 127 && *src != *dst && v.octets()[3] != 20 => {
                    let o = v.octets();
                    SocketAddr::new(Ipv4Addr::new(10, pass, o[2], o[3]).into(), src.port())
                }
                _ => *src,
            };
            let mut h = sipsentry_hep::HepPacket::new(src, *dst, data.as_slice());
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            h.ts_secs = now.as_secs() as u32;
            packets.push(h.to_v3_bytes().expect("encode"));
        }
    }
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    s.connect(to).expect("connect");
    let start = Instant::now();
    let per_batch = 64u64;
    let batch_interval = Duration::from_secs_f64(per_batch as f64 / rate as f64);
    let mut sent = 0u64;
    let mut next = start;
    while sent < total {
        let n = per_batch.min(total - sent) as usize;
        sent += send_batch(&s, &packets, sent as usize, n) as u64;
        next += batch_interval;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "sent {sent} in {secs:.3} s = {:.0} msgs/s",
        sent as f64 / secs
    );
}

/// One sendmmsg(2) for `n` packets: the sender must not be the bottleneck of the benchmark.
fn send_batch(s: &UdpSocket, packets: &[Vec<u8>], first: usize, n: usize) -> usize {
    use std::os::fd::AsRawFd;
    let mut iovs: Vec<libc::iovec> = (0..n)
        .map(|i| {
            let p = &packets[(first + i) % packets.len()];
            libc::iovec {
                iov_base: p.as_ptr() as *mut libc::c_void,
                iov_len: p.len(),
            }
        })
        .collect();
    let mut hdrs: Vec<libc::mmsghdr> = iovs
        .iter_mut()
        .map(|iov| {
            // SAFETY: an all-zero msghdr is valid (no name, no control data).
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_iov = iov as *mut libc::iovec;
            h.msg_hdr.msg_iovlen = 1;
            h
        })
        .collect();
    let mut done = 0;
    while done < n {
        // SAFETY: hdrs[done..] point at live iovecs over live packet buffers.
        let r = unsafe {
            libc::sendmmsg(
                s.as_raw_fd(),
                hdrs[done..].as_mut_ptr(),
                (n - done) as u32,
                0,
            )
        };
        if r <= 0 {
            break;
        }
        done += r as usize;
    }
    done
}

//! Invariant checkers shared by the fuzz targets and the corpus-replay / property tests.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::decoder::{Config, Decoder};
use crate::event::Event;
use crate::frag::FragConfig;
use crate::linktype;
use crate::pcap::{PcapReader, MAX_PACKET_LEN};
use crate::tcp::TcpConfig;

/// Small caps so short inputs reach eviction, expiry and forced-flush paths.
fn small_config() -> Config {
    Config {
        limits: Default::default(),
        frag: FragConfig {
            max_trains: 6,
            max_datagram_len: 65_535,
            max_fragments_per_train: 16,
            max_total_bytes: 8 * 1024,
            timeout_nanos: 1_000,
        },
        tcp: TcpConfig {
            max_flows: 6,
            max_flow_bytes: 2 * 1024,
            max_flow_segments: 16,
            max_total_bytes: 12 * 1024,
            idle_timeout_nanos: 5_000,
        },
    }
}

#[derive(Default)]
struct StreamCheck {
    src: Option<SocketAddr>,
    dst: Option<SocketAddr>,
    next: u64,
    closed: bool,
    /// `byte - offset (mod 256)` of the first byte seen, for content-consistent streams.
    phase: Option<u8>,
}

/// Checks the event-stream contract.
struct Checker {
    cfg: Config,
    streams: HashMap<u64, StreamCheck>,
}

impl Checker {
    fn new(cfg: Config) -> Self {
        Checker {
            cfg: cfg.normalized(),
            streams: HashMap::new(),
        }
    }

    /// `content` says whether TCP bytes follow the `byte == seq as u8` pattern.
    fn event(&mut self, ev: &Event<'_>, content: impl Fn(SocketAddr, SocketAddr) -> bool) {
        match ev {
            Event::Datagram(d) => {
                assert!(d.payload.len() <= d.len, "payload longer than UDP length");
                assert!(d.payload.len() <= 65_535 + MAX_PACKET_LEN as usize);
                assert!(d.frag_overlap <= d.reassembled);
            }
            Event::StreamData(s) => {
                let st = self.stream(s.stream, s.src, s.dst);
                assert_eq!(s.offset, st.next, "stream {} data not contiguous", s.stream);
                assert!(!s.bytes.is_empty(), "empty data event");
                if content(s.src, s.dst) {
                    for (i, &b) in s.bytes.iter().enumerate() {
                        let ph = b.wrapping_sub((s.offset + i as u64) as u8);
                        assert_eq!(
                            *st.phase.get_or_insert(ph),
                            ph,
                            "stream {} byte {} out of place",
                            s.stream,
                            s.offset + i as u64
                        );
                    }
                }
                st.next += s.bytes.len() as u64;
            }
            Event::StreamGap(g) => {
                let st = self.stream(g.stream, g.src, g.dst);
                assert_eq!(g.offset, st.next, "stream {} gap not contiguous", g.stream);
                assert!(g.len > 0, "empty gap");
                st.next += g.len;
            }
            Event::StreamClosed(c) => {
                let st = self.stream(c.stream, c.src, c.dst);
                st.closed = true;
            }
        }
    }

    fn stream(&mut self, id: u64, src: SocketAddr, dst: SocketAddr) -> &mut StreamCheck {
        let st = self.streams.entry(id).or_default();
        assert!(!st.closed, "event for stream {id} after it closed");
        assert_eq!(*st.src.get_or_insert(src), src);
        assert_eq!(*st.dst.get_or_insert(dst), dst);
        st
    }

    fn usage(&self, dec: &Decoder) {
        let b = dec.buffered();
        let c = &self.cfg;
        assert!(b.tcp_flows <= c.tcp.max_flows, "{b:?}");
        assert!(b.tcp_bytes <= c.tcp.max_total_bytes, "{b:?}");
        assert!(b.frag_trains <= c.frag.max_trains, "{b:?}");
        assert!(b.frag_bytes <= c.frag.max_total_bytes, "{b:?}");
    }

    fn finish(&self, dec: &Decoder) {
        for (id, st) in &self.streams {
            assert!(st.closed, "stream {id} never closed");
        }
        assert_eq!(dec.buffered(), Default::default());
        let s = dec.stats();
        assert_eq!(
            s.packets + s.frag.reassembled,
            s.decoded + s.non_ip + s.icmp + s.other_ip_proto + s.malformed.total(),
            "{s:?}"
        );
    }
}

/// Reads `data` as a capture file and decodes every packet with small caps, asserting: no
/// panic; packets within [`MAX_PACKET_LEN`]; the reader finishes after an error; TCP events
/// per stream are contiguous, consistently addressed and end with exactly one close; buffers
/// stay within their caps after every packet and are empty after `flush`; the stats
/// classification invariant holds.
#[doc(hidden)]
pub fn fuzz_pcap(data: &[u8]) {
    let cfg = small_config();
    let Ok(mut rd) = PcapReader::new(data) else {
        return;
    };
    let mut dec = Decoder::new(cfg);
    let mut chk = Checker::new(cfg);
    loop {
        match rd.next_packet() {
            Ok(Some(p)) => {
                assert!(p.data.len() <= MAX_PACKET_LEN as usize);
                dec.push(&p, |ev| chk.event(&ev, |_, _| false));
                chk.usage(&dec);
            }
            Ok(None) => break,
            Err(_) => {
                assert!(matches!(rd.next_packet(), Ok(None)));
                break;
            }
        }
    }
    dec.flush(|ev| chk.event(&ev, |_, _| false));
    chk.finish(&dec);
}

/// Total length of synthetic fragmented datagram `k` (UDP header included).
fn train_len(k: u8) -> usize {
    200 + 173 * usize::from(k)
}

fn train_datagram(k: u8, v6: bool) -> Vec<u8> {
    let len = train_len(k);
    let sport = if v6 { 4000 } else { 3000 } + u16::from(k);
    let mut d = Vec::with_capacity(len);
    d.extend_from_slice(&sport.to_be_bytes());
    d.extend_from_slice(&5060u16.to_be_bytes());
    d.extend_from_slice(&(len as u16).to_be_bytes());
    d.extend_from_slice(&[0, 0]);
    d.extend((8..len).map(|i| (i * 7 + usize::from(k)) as u8));
    d
}

fn ipv4_header(
    out: &mut Vec<u8>,
    total: usize,
    id: u16,
    frag: u16,
    proto: u8,
    src: [u8; 4],
    dst: [u8; 4],
) {
    out.extend_from_slice(&[0x45, 0]);
    out.extend_from_slice(&(total as u16).to_be_bytes());
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&frag.to_be_bytes());
    out.extend_from_slice(&[64, proto, 0, 0]);
    out.extend_from_slice(&src);
    out.extend_from_slice(&dst);
}

const TCP_A: [u8; 4] = [10, 0, 0, 1];
const TCP_B: [u8; 4] = [10, 0, 0, 2];
const FRAG4_A: [u8; 4] = [10, 1, 0, 1];
const FRAG4_B: [u8; 4] = [10, 1, 0, 2];

fn v6_addr(last: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0xfd;
    a[15] = last;
    a
}

/// Interprets `data` as a script of synthetic TCP segments (8 directed flows, sequence numbers
/// near the 2^32 wrap, arbitrary order/overlap/loss, SYN/FIN/RST, snaplen truncation,
/// conflicting retransmissions), IPv4 and IPv6 fragments of 4 known datagrams each (arbitrary
/// order, overlap, lies about the last fragment, conflicting bytes, truncation) and clock
/// jumps, pushes them through a [`Decoder`] with small caps, and asserts everything
/// [`fuzz_pcap`] does plus: delivered TCP bytes sit at their true stream offsets (each payload
/// byte is its sequence number's low byte) unless conflicting bytes were sent on that flow,
/// and reassembled datagrams equal the original unless conflicting fragments were sent for it.
#[doc(hidden)]
pub fn fuzz_reassembly(data: &[u8]) {
    let cfg = small_config();
    let mut dec = Decoder::new(cfg);
    let mut chk = Checker::new(cfg);
    let mut tainted_flows = [false; 8];
    let mut tainted_trains = [[false; 4]; 2];
    let mut t: i64 = 0;
    let mut pkt: Vec<u8> = Vec::with_capacity(2048);
    let mut it = data.iter().copied();
    let flow_of = |src: SocketAddr, dst: SocketAddr| -> Option<usize> {
        let (client, fwd) = if dst.port() == 5060 {
            (src.port(), true)
        } else {
            (dst.port(), false)
        };
        let i = usize::from(client.checked_sub(1000)?);
        (i < 4).then_some(i * 2 + usize::from(!fwd))
    };
    while let Some(op) = it.next() {
        pkt.clear();
        match op % 5 {
            0 | 1 => {
                let (Some(a), Some(b), Some(c), Some(d), Some(e)) =
                    (it.next(), it.next(), it.next(), it.next(), it.next())
                else {
                    break;
                };
                let flow = usize::from(a & 7);
                let client_port = 1000 + (flow as u16 >> 1);
                let fwd = flow & 1 == 0;
                let (src, dst, sport, dport) = if fwd {
                    (TCP_A, TCP_B, client_port, 5060u16)
                } else {
                    (TCP_B, TCP_A, 5060u16, client_port)
                };
                let base = 0xFFFF_FF00u32.wrapping_sub(flow as u32 * 0x1000_0000);
                // Bad news is kept rare so that random scripts still build long streams.
                let seq = base.wrapping_add(u32::from(u16::from_be_bytes([b, c]) % 4096));
                let syn = a >> 3 == 1;
                let fin = a >> 3 == 2;
                let rst = a >> 3 == 3;
                let len = usize::from(d);
                let conflict = e % 16 == 1;
                let cut = e / 16 == 1;
                if conflict && len > 0 {
                    tainted_flows[flow] = true;
                }
                let data_seq = if syn { seq.wrapping_add(1) } else { seq };
                let mut flags = 0x10u8;
                if syn {
                    flags |= 0x02;
                }
                if fin {
                    flags |= 0x01;
                }
                if rst {
                    flags |= 0x04;
                }
                ipv4_header(&mut pkt, 40 + len, 0, 0x4000, 6, src, dst);
                pkt.extend_from_slice(&sport.to_be_bytes());
                pkt.extend_from_slice(&dport.to_be_bytes());
                pkt.extend_from_slice(&seq.to_be_bytes());
                pkt.extend_from_slice(&[0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
                pkt.extend((0..len).map(|i| {
                    let v = data_seq.wrapping_add(i as u32) as u8;
                    if conflict {
                        !v
                    } else {
                        v
                    }
                }));
                if cut {
                    pkt.truncate(40 + len / 2);
                }
            }
            2 | 3 => {
                let v6 = op % 5 == 3;
                let (Some(a), Some(b), Some(c), Some(d)) =
                    (it.next(), it.next(), it.next(), it.next())
                else {
                    break;
                };
                let k = a & 3;
                let full = train_datagram(k, v6);
                let total = full.len();
                // Eight possible starts per datagram, so random scripts complete some.
                let start = (usize::from(b % 8) * total / 8) & !7;
                let want = (usize::from(c % 32) + 1) * 8;
                let end = (start + want).min(total);
                let mut more = end < total;
                if d % 16 == 1 {
                    more = !more; // a lie about the end
                    tainted_trains[usize::from(v6)][usize::from(k)] = true;
                }
                let conflict = d / 16 == 1;
                if conflict {
                    tainted_trains[usize::from(v6)][usize::from(k)] = true;
                }
                let mut body: Vec<u8> = full.get(start..end).unwrap_or(&[]).to_vec();
                if conflict {
                    body.iter_mut().for_each(|x| *x ^= 0x5a);
                }
                if v6 {
                    let plen = 8 + body.len();
                    pkt.extend_from_slice(&[0x60, 0, 0, 0]);
                    pkt.extend_from_slice(&(plen as u16).to_be_bytes());
                    pkt.extend_from_slice(&[44, 64]);
                    pkt.extend_from_slice(&v6_addr(1));
                    pkt.extend_from_slice(&v6_addr(2));
                    let offm = (start as u16) | u16::from(more);
                    pkt.extend_from_slice(&[17, 0]);
                    pkt.extend_from_slice(&offm.to_be_bytes());
                    pkt.extend_from_slice(&u32::from(k).to_be_bytes());
                } else {
                    let frag = ((start / 8) as u16) | if more { 0x2000 } else { 0 };
                    ipv4_header(
                        &mut pkt,
                        20 + body.len(),
                        u16::from(k),
                        frag,
                        17,
                        FRAG4_A,
                        FRAG4_B,
                    );
                }
                pkt.extend_from_slice(&body);
                if d % 16 == 2 {
                    pkt.truncate(pkt.len() - body.len() / 2);
                }
            }
            _ => {
                match it.next() {
                    Some(255) => {
                        dec.flush(|ev| chk.event(&ev, |_, _| false));
                        chk.usage(&dec);
                        assert_eq!(dec.buffered(), Default::default());
                    }
                    Some(x) if x >= 240 => t += 10_000,
                    Some(x) => t += i64::from(x),
                    None => break,
                }
                continue;
            }
        }
        let lt = if pkt.first().is_some_and(|b| b >> 4 == 6) {
            linktype::IPV6
        } else {
            linktype::IPV4
        };
        let tf = tainted_flows;
        let tt = tainted_trains;
        dec.push_frame(t, lt, &pkt, |ev| {
            chk.event(&ev, |s, d| flow_of(s, d).is_some_and(|f| !tf[f]));
            if let Event::Datagram(dg) = &ev {
                // A "fragment" covering the whole datagram is not fragmented at all.
                let (v6, k) = match (dg.src.ip(), dg.src.port()) {
                    (IpAddr::V4(a), p) if a == Ipv4Addr::from(FRAG4_A) => (false, p - 3000),
                    (IpAddr::V6(a), p) if a == Ipv6Addr::from(v6_addr(1)) => (true, p - 4000),
                    other => panic!("unexpected datagram source {other:?}"),
                };
                let k = k as u8;
                if !tt[usize::from(v6)][usize::from(k)] {
                    let full = train_datagram(k, v6);
                    let want = full.get(8..).unwrap_or(&[]);
                    assert_eq!(dg.len, want.len(), "datagram {k} (v6 {v6}) length");
                    // A whole datagram sent unfragmented may have been cut by the "snaplen".
                    let want = want.get(..dg.payload.len()).unwrap_or(want);
                    let got = &dg.payload[..];
                    let first_diff = got.iter().zip(want).position(|(a, b)| a != b);
                    assert!(
                        got == want,
                        "datagram {k} (v6 {v6}) corrupted: {} bytes, want {}, first difference at {first_diff:?}",
                        got.len(),
                        want.len()
                    );
                }
            }
        });
        chk.usage(&dec);
    }
    dec.flush(|ev| chk.event(&ev, |_, _| false));
    chk.finish(&dec);
}

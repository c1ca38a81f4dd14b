//! The stateful, sans-IO top level: packets in, [`Event`]s out.

use std::borrow::Cow;
use std::net::SocketAddr;

use crate::decode::{
    decode, decode_reassembled, DecodeError, Decoded, IpPacket, Limits, Transport,
};
use crate::event::{Datagram, Event};
use crate::frag::{FragConfig, FragStats, FragTable};
use crate::pcap::Packet;
use crate::tcp::{At, FlowKey, TcpConfig, TcpStats, TcpTable};

/// Entry-count caps are clamped to this so slab indices fit in `u32` with room to spare.
const MAX_ENTRIES: usize = 1 << 24;

/// Everything the [`Decoder`] can be tuned with. `Config::default()` is meant for production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Config {
    /// Stateless decoding limits.
    pub limits: Limits,
    /// IP fragment reassembly limits.
    pub frag: FragConfig,
    /// TCP stream reassembly limits.
    pub tcp: TcpConfig,
}

impl Config {
    /// The configuration with entry caps clamped to `1..=2^24` and timeouts to `>= 0`.
    pub fn normalized(mut self) -> Config {
        self.frag.max_trains = self.frag.max_trains.clamp(1, MAX_ENTRIES);
        self.frag.max_fragments_per_train = self.frag.max_fragments_per_train.max(1);
        self.frag.timeout_nanos = self.frag.timeout_nanos.max(0);
        self.tcp.max_flows = self.tcp.max_flows.clamp(1, MAX_ENTRIES);
        self.tcp.idle_timeout_nanos = self.tcp.idle_timeout_nanos.max(0);
        self
    }
}

/// Undecodable units (packets or reassembled datagrams), counted by reason.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Malformed {
    counts: [u64; DecodeError::COUNT],
}

impl Default for Malformed {
    fn default() -> Self {
        Malformed {
            counts: [0; DecodeError::COUNT],
        }
    }
}

impl Malformed {
    #[inline]
    fn bump(&mut self, e: DecodeError) {
        if let Some(c) = self.counts.get_mut(e.index()) {
            *c += 1;
        }
    }

    /// Count for one reason.
    pub fn get(&self, e: DecodeError) -> u64 {
        self.counts.get(e.index()).copied().unwrap_or(0)
    }

    /// Sum over all reasons.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Non-zero counts, in [`DecodeError::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (DecodeError, u64)> + '_ {
        DecodeError::ALL
            .iter()
            .zip(self.counts.iter())
            .filter(|(_, &c)| c > 0)
            .map(|(&e, &c)| (e, c))
    }
}

impl std::fmt::Debug for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Decoder counters.
///
/// Every packet, and every datagram completed by reassembly, is classified exactly once, so
/// `packets + frag.reassembled == decoded + non_ip + icmp + other_ip_proto +
/// malformed.total()`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packets pushed.
    pub packets: u64,
    /// Units that reached a UDP or TCP header, or an IP fragment.
    pub decoded: u64,
    /// Well-formed frames carrying no IP (ARP, LLDP, ...).
    pub non_ip: u64,
    /// ICMP / ICMPv6.
    pub icmp: u64,
    /// Other IP protocols (ESP, SCTP, VRRP, ...).
    pub other_ip_proto: u64,
    /// Units that could not be decoded, by reason.
    pub malformed: Malformed,
    /// Decoded units the capture's snaplen cut short.
    pub truncated: u64,
    /// UDP datagrams reported.
    pub udp_datagrams: u64,
    /// Fragment reassembly.
    pub frag: FragStats,
    /// TCP reassembly.
    pub tcp: TcpStats,
}

/// Current buffered state, against the configured caps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BufferUsage {
    /// TCP streams tracked (≤ `tcp.max_flows`).
    pub tcp_flows: usize,
    /// Out-of-order TCP bytes buffered, charged with overhead (≤ `tcp.max_total_bytes`).
    pub tcp_bytes: usize,
    /// Fragment trains pending (≤ `frag.max_trains`).
    pub frag_trains: usize,
    /// Fragment bytes buffered, charged with overhead (≤ `frag.max_total_bytes`).
    pub frag_bytes: usize,
}

/// Turns captured packets into UDP datagrams and reassembled TCP streams.
///
/// Sans-IO: it never reads a file or a clock. Feed it packets in capture order with
/// [`push`](Self::push) and call [`flush`](Self::flush) at the end of input; events go to the
/// callback synchronously. Time is the packets' own: the decoder's clock is the highest
/// timestamp pushed so far (so captures whose timestamps step backwards cannot resurrect
/// expired state), and it drives fragment and idle-stream expiry. The same packets always
/// produce the same events in the same order.
///
/// A UDP datagram that needs no reassembly costs no allocation and no table lookup.
pub struct Decoder {
    cfg: Config,
    frags: FragTable,
    tcp: TcpTable,
    stats: Stats,
    now: i64,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(Config::default())
    }
}

impl Decoder {
    /// A decoder with the given (normalised) configuration.
    pub fn new(cfg: Config) -> Self {
        let cfg = cfg.normalized();
        Decoder {
            cfg,
            frags: FragTable::new(cfg.frag),
            tcp: TcpTable::new(cfg.tcp),
            stats: Stats::default(),
            now: i64::MIN,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Counters so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// What is buffered right now; each figure stays within its cap after every call.
    pub fn buffered(&self) -> BufferUsage {
        BufferUsage {
            tcp_flows: self.tcp.flows(),
            tcp_bytes: self.tcp.buffered(),
            frag_trains: self.frags.trains(),
            frag_bytes: self.frags.buffered(),
        }
    }

    /// Processes one packet from a [`PcapReader`](crate::PcapReader).
    #[inline]
    pub fn push<F: FnMut(Event<'_>)>(&mut self, packet: &Packet<'_>, emit: F) {
        self.push_frame(packet.ts_nanos, packet.linktype, packet.data, emit);
    }

    /// Processes one frame given its time and link type.
    pub fn push_frame<F: FnMut(Event<'_>)>(
        &mut self,
        ts_nanos: i64,
        linktype: u32,
        data: &[u8],
        mut emit: F,
    ) {
        self.stats.packets += 1;
        self.now = self.now.max(ts_nanos);
        self.frags.expire(self.now, &mut self.stats.frag);
        let at = At {
            now: self.now,
            ts: ts_nanos,
        };
        self.tcp.expire(at, &mut self.stats.tcp, &mut emit);
        match decode(linktype, data, &self.cfg.limits) {
            Ok(Decoded::Ip(ip)) => self.ip(ts_nanos, ip, None, &mut emit),
            Ok(Decoded::NonIp) => self.stats.non_ip += 1,
            Err(e) => self.stats.malformed.bump(e),
        }
    }

    /// End of input: delivers what TCP buffers hold (skipping holes), closes every stream
    /// (oldest first, [`CloseReason::EndOfInput`](crate::CloseReason)), and drops incomplete
    /// fragment trains (counted as expired). The decoder is empty afterwards and can be reused.
    pub fn flush<F: FnMut(Event<'_>)>(&mut self, mut emit: F) {
        let ts = self.now;
        self.tcp.clear(ts, &mut self.stats.tcp, &mut emit);
        self.frags.clear(&mut self.stats.frag);
    }

    /// Handles a decoded IP unit; `reassembled` carries the overlap flag of a reassembled one.
    fn ip<F: FnMut(Event<'_>)>(
        &mut self,
        ts: i64,
        ip: IpPacket<'_>,
        reassembled: Option<bool>,
        emit: &mut F,
    ) {
        match ip.transport {
            Transport::Udp(u) => {
                self.stats.decoded += 1;
                self.stats.udp_datagrams += 1;
                if ip.truncated || u.is_truncated() {
                    self.stats.truncated += 1;
                }
                emit(Event::Datagram(Datagram {
                    ts_nanos: ts,
                    src: SocketAddr::new(ip.src, u.src_port),
                    dst: SocketAddr::new(ip.dst, u.dst_port),
                    payload: Cow::Borrowed(u.payload),
                    len: u.len,
                    reassembled: reassembled.is_some(),
                    frag_overlap: reassembled.unwrap_or(false),
                    tunnel_depth: ip.tunnel_depth,
                }));
            }
            Transport::Tcp(t) => {
                self.stats.decoded += 1;
                if ip.truncated {
                    self.stats.truncated += 1;
                }
                let key = FlowKey {
                    src: SocketAddr::new(ip.src, t.src_port),
                    dst: SocketAddr::new(ip.dst, t.dst_port),
                };
                let at = At { now: self.now, ts };
                self.tcp.segment(at, key, &t, &mut self.stats.tcp, emit);
            }
            Transport::Fragment(f) => {
                self.stats.decoded += 1;
                if ip.truncated {
                    self.stats.truncated += 1;
                }
                let Some(r) = self.frags.insert(
                    self.now,
                    ip.src,
                    ip.dst,
                    ip.tunnel_depth,
                    &f,
                    &mut self.stats.frag,
                ) else {
                    return;
                };
                let limits = self.cfg.limits;
                match decode_reassembled(
                    f.v6,
                    ip.src,
                    ip.dst,
                    r.proto,
                    &r.data,
                    ip.tunnel_depth,
                    &limits,
                ) {
                    Ok(Decoded::Ip(inner)) => self.ip(ts, inner, Some(r.overlap), emit),
                    Ok(Decoded::NonIp) => self.stats.non_ip += 1,
                    Err(e) => self.stats.malformed.bump(e),
                }
            }
            Transport::Icmp => self.stats.icmp += 1,
            Transport::Other(_) => self.stats.other_ip_proto += 1,
        }
    }
}

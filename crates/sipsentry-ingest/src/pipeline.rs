//! Capture events in, SIP events out.
//!
//! Datagrams are recognised as SIP or HEP by content, on any port. TCP streams are classified by
//! their first bytes (SIP start line, `HEP3`, WebSocket upgrade, TLS record) and then framed by the
//! matching sans-IO framer. Flows are bounded in number and in buffered bytes; what cannot be
//! classified is dropped early, so a capture full of other traffic costs little.

use crate::event::{Origin, SipEvent, Transport};
use sipsentry_capture::Event;
use sipsentry_hep::ws::{WsDecoder, WsEvent};
use sipsentry_hep::{HepPacket, HepStreamFramer, ProtoType};
use sipsentry_sip::framer::{is_sip_start, FrameEvent, StreamFramer};
use sipsentry_sip::Limits;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

/// Caps for [`Ingest`].
#[derive(Clone, Copy, Debug)]
pub struct IngestConfig {
    /// SIP parser caps (also used by the stream framer).
    pub sip_limits: Limits,
    /// Most TCP stream directions tracked at once (the capture decoder has its own, larger cap).
    pub max_flows: usize,
    /// Bytes looked at before a stream that matches nothing is given up on.
    pub classify_bytes: usize,
    /// Total bytes all stream framers may hold at once. A flood of half-sent messages over many
    /// connections cannot exceed it: the flow that crosses it loses its partial message.
    pub stream_budget: usize,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            // Streams carry messages larger than a datagram (e.g. a 64 KiB body, as in
            // suricata's sip-body-large capture); 256 KiB leaves room without inviting abuse.
            sip_limits: Limits {
                max_message: 256 * 1024,
                ..Limits::default()
            },
            max_flows: 65_536,
            classify_bytes: 64,
            stream_budget: 64 * 1024 * 1024,
        }
    }
}

/// Counters, for the report and for `/metrics` later.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IngestStats {
    /// UDP datagrams seen.
    pub datagrams: u64,
    /// SIP messages emitted.
    pub sip_messages: u64,
    /// HEP packets decoded.
    pub hep_packets: u64,
    /// HEP packets carrying something other than SIP (RTCP, logs…), skipped.
    pub hep_non_sip: u64,
    /// HEP decode failures by reason.
    pub hep_errors: BTreeMap<String, u64>,
    /// Datagrams that are neither SIP nor HEP (RTP, DNS…).
    pub non_sip_datagrams: u64,
    /// CRLF keep-alives (RFC 5626) seen on UDP or TCP.
    pub keepalives: u64,
    /// TCP streams classified as SIP, HEP, WebSocket, TLS, or other.
    pub streams_by_kind: BTreeMap<&'static str, u64>,
    /// Bytes skipped by framers to resynchronise, and why.
    pub framing_skips: BTreeMap<String, u64>,
    /// Gaps (lost segments) in TCP streams.
    pub stream_gaps: u64,
    /// Streams not tracked because of the flow cap.
    pub untracked_streams: u64,
}

enum Flow {
    Undecided(Vec<u8>),
    Sip(StreamFramer),
    Hep(HepStreamFramer),
    Ws(Box<WsDecoder>),
    Ignored,
}

/// The sans-IO ingest stage.
pub struct Ingest {
    cfg: IngestConfig,
    flows: HashMap<u64, Flow>,
    stats: IngestStats,
    /// Bytes held by SIP stream framers (kept exact by delta accounting).
    buffered: usize,
}

/// Why a SIP-over-HEP packet has no usable time: agents that leave it at zero get packet time.
fn hep_time(h: &HepPacket<'_>, packet_ts: i64) -> i64 {
    if h.ts_secs == 0 {
        packet_ts
    } else {
        h.ts_nanos()
    }
}

fn hep_transport(ip_proto: u8) -> Transport {
    match ip_proto {
        6 => Transport::Tcp,
        132 => Transport::Sctp,
        _ => Transport::Udp,
    }
}

/// HEP v3 starts with `HEP3`; v1/v2 with version 1 or 2 and a header length of 16/28/40/52.
fn looks_like_hep(p: &[u8]) -> bool {
    p.starts_with(b"HEP3")
        || (p.len() >= 16 && matches!(p[0], 1 | 2) && matches!(p[1], 16 | 28 | 40 | 52))
}

impl Ingest {
    /// A new ingest stage.
    pub fn new(cfg: IngestConfig) -> Self {
        Ingest {
            cfg,
            flows: HashMap::new(),
            stats: IngestStats::default(),
            buffered: 0,
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &IngestStats {
        &self.stats
    }

    /// Bytes currently held by stream framers.
    pub fn buffered_bytes(&self) -> usize {
        self.buffered
    }

    /// Streams currently tracked.
    pub fn tracked_flows(&self) -> usize {
        self.flows.len()
    }

    /// Feeds one capture event; SIP events go to `emit` in order.
    pub fn on_event(&mut self, ev: &Event<'_>, emit: &mut dyn FnMut(&SipEvent<'_>)) {
        match ev {
            Event::Datagram(d) => self.datagram(d.ts_nanos, d.src, d.dst, &d.payload, emit),
            Event::StreamData(s) => self.stream(s.ts_nanos, s.stream, s.src, s.dst, &s.bytes, emit),
            Event::StreamGap(g) => {
                self.stats.stream_gaps += 1;
                // Bytes after a gap cannot continue a partial message: drop it and let the
                // framer resynchronise on the next start line.
                match self.flows.get_mut(&g.stream) {
                    Some(Flow::Sip(f)) => {
                        let n = f.reset();
                        self.buffered = self.buffered.saturating_sub(n);
                        if n > 0 {
                            *self.stats.framing_skips.entry("gap".into()).or_default() += n as u64;
                        }
                    }
                    Some(Flow::Hep(_)) => {
                        self.flows
                            .insert(g.stream, Flow::Hep(HepStreamFramer::new()));
                    }
                    _ => {}
                }
            }
            Event::StreamClosed(c) => {
                if let Some(Flow::Sip(f)) = self.flows.remove(&c.stream) {
                    self.buffered = self.buffered.saturating_sub(f.buffered());
                }
            }
        }
    }

    /// Feeds one datagram (UDP payload, or a HEP packet received by a listener).
    pub fn datagram(
        &mut self,
        ts: i64,
        src: SocketAddr,
        dst: SocketAddr,
        p: &[u8],
        emit: &mut dyn FnMut(&SipEvent<'_>),
    ) {
        self.stats.datagrams += 1;
        if looks_like_hep(p) {
            self.hep(ts, p, emit);
        } else if is_sip_start(p) {
            self.stats.sip_messages += 1;
            emit(&SipEvent {
                ts_nanos: ts,
                src,
                dst,
                transport: Transport::Udp,
                data: p,
                origin: Origin::Wire,
            });
        } else if !p.is_empty() && p.iter().all(|&b| b == b'\r' || b == b'\n' || b == 0) {
            self.stats.keepalives += 1;
        } else {
            self.stats.non_sip_datagrams += 1;
        }
    }

    fn hep(&mut self, ts: i64, p: &[u8], emit: &mut dyn FnMut(&SipEvent<'_>)) {
        hep_packet(&mut self.stats, ts, p, emit)
    }
}

fn hep_packet(stats: &mut IngestStats, ts: i64, p: &[u8], emit: &mut dyn FnMut(&SipEvent<'_>)) {
    {
        match sipsentry_hep::decode(p) {
            Ok(h) => {
                stats.hep_packets += 1;
                if h.proto_type != ProtoType::SIP || !is_sip_start(&h.payload) {
                    stats.hep_non_sip += 1;
                    return;
                }
                stats.sip_messages += 1;
                emit(&SipEvent {
                    ts_nanos: hep_time(&h, ts),
                    src: h.src,
                    dst: h.dst,
                    transport: hep_transport(h.ip_proto),
                    data: &h.payload,
                    origin: Origin::Hep {
                        version: match h.version {
                            sipsentry_hep::HepVersion::V1 => 1,
                            sipsentry_hep::HepVersion::V2 => 2,
                            sipsentry_hep::HepVersion::V3 => 3,
                        },
                        capture_id: h.capture_id,
                    },
                });
            }
            Err(e) => {
                let key = format!("{e}");
                let key: String = key
                    .split(':')
                    .next()
                    .unwrap_or("error")
                    .chars()
                    .take(60)
                    .collect();
                if stats.hep_errors.len() < 64 || stats.hep_errors.contains_key(&key) {
                    *stats.hep_errors.entry(key).or_default() += 1;
                }
            }
        }
    }
}

impl Ingest {
    fn stream(
        &mut self,
        ts: i64,
        id: u64,
        src: SocketAddr,
        dst: SocketAddr,
        bytes: &[u8],
        emit: &mut dyn FnMut(&SipEvent<'_>),
    ) {
        let Ingest {
            cfg,
            flows,
            stats,
            buffered,
        } = self;
        if !flows.contains_key(&id) {
            if flows.len() >= cfg.max_flows {
                stats.untracked_streams += 1;
                return;
            }
            flows.insert(id, Flow::Undecided(Vec::new()));
        }
        let Some(flow) = flows.get_mut(&id) else {
            return;
        };
        // Classify on the first bytes.
        let mut fed_now: Option<Vec<u8>> = None;
        if let Flow::Undecided(buf) = flow {
            buf.extend_from_slice(&bytes[..bytes.len().min(cfg.classify_bytes * 4)]);
            let kind = classify(buf, cfg.classify_bytes);
            let Some(kind) = kind else { return };
            *stats.streams_by_kind.entry(kind).or_default() += 1;
            let first = std::mem::take(buf);
            *flow = match kind {
                "sip" => Flow::Sip(StreamFramer::new(cfg.sip_limits)),
                "hep" => Flow::Hep(HepStreamFramer::new()),
                "websocket" => Flow::Ws(Box::new(WsDecoder::new())),
                _ => Flow::Ignored,
            };
            // The buffered prefix already contains this segment (or its head): feed the
            // prefix, then whatever of this segment did not fit in it.
            let in_prefix = bytes.len().min(cfg.classify_bytes * 4);
            let mut all = first;
            all.extend_from_slice(&bytes[in_prefix..]);
            fed_now = Some(all);
        }
        let data: &[u8] = fed_now.as_deref().unwrap_or(bytes);
        match flow {
            Flow::Sip(f) => {
                let before = f.buffered();
                f.push(data);
                while let Some(ev) = f.next_event() {
                    match ev {
                        FrameEvent::Message(m) => {
                            stats.sip_messages += 1;
                            emit(&SipEvent {
                                ts_nanos: ts,
                                src,
                                dst,
                                transport: Transport::Tcp,
                                data: &m,
                                origin: Origin::Wire,
                            });
                        }
                        FrameEvent::KeepAlive(_) => stats.keepalives += 1,
                        FrameEvent::Garbage { len, reason } => {
                            *stats.framing_skips.entry(reason.to_string()).or_default() +=
                                len as u64;
                        }
                    }
                }
                let after = f.buffered();
                *buffered = (*buffered + after).saturating_sub(before);
                if *buffered > cfg.stream_budget {
                    let n = f.reset();
                    *buffered = buffered.saturating_sub(n);
                    *stats
                        .framing_skips
                        .entry("stream budget exceeded".into())
                        .or_default() += n as u64;
                }
            }
            Flow::Hep(f) => {
                let mut rest = data;
                loop {
                    let took = f.push(rest);
                    rest = &rest[took..];
                    let mut frames = Vec::new();
                    while let Some(fr) = f.next_frame() {
                        frames.push(fr.to_vec());
                    }
                    for fr in frames {
                        hep_packet(stats, ts, &fr, emit);
                    }
                    if rest.is_empty() || took == 0 {
                        break;
                    }
                }
            }
            Flow::Ws(w) => {
                let mut rest = data;
                loop {
                    let took = w.push(rest);
                    rest = &rest[took..];
                    let mut failed = false;
                    while let Some(ev) = w.next_event() {
                        match ev {
                            Ok(WsEvent::Message(m)) => {
                                if is_sip_start(&m.payload) {
                                    stats.sip_messages += 1;
                                    emit(&SipEvent {
                                        ts_nanos: ts,
                                        src,
                                        dst,
                                        transport: Transport::Ws,
                                        data: &m.payload,
                                        origin: Origin::Wire,
                                    });
                                }
                            }
                            Ok(_) => {}
                            Err(e) => {
                                *stats
                                    .framing_skips
                                    .entry(format!("websocket: {e}"))
                                    .or_default() += 1;
                                failed = true;
                            }
                        }
                    }
                    if failed || rest.is_empty() || took == 0 {
                        break;
                    }
                }
            }
            Flow::Undecided(_) | Flow::Ignored => {}
        }
    }

    /// End of input: nothing is buffered across calls that could still form a message, so this
    /// only releases flow state.
    pub fn finish(&mut self) {
        self.flows.clear();
        self.buffered = 0;
    }
}

/// `None` while undecided. TLS records start 0x16 0x03; WebSocket streams start with the HTTP
/// upgrade (either direction).
fn classify(buf: &[u8], enough: usize) -> Option<&'static str> {
    let n = buf.len();
    if n >= 4 && buf.starts_with(b"HEP3") {
        return Some("hep");
    }
    if n >= 2 && buf[0] == 0x16 && buf[1] == 0x03 {
        return Some("tls");
    }
    if buf.starts_with(b"GET ")
        || buf.starts_with(b"HTTP/1.1 101")
        || buf.starts_with(b"HTTP/1.0 101")
    {
        return Some("websocket");
    }
    let trimmed = {
        let k = buf
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        &buf[k..]
    };
    if memchr::memchr(b'\n', trimmed).is_some() {
        return Some(if is_sip_start(trimmed) {
            "sip"
        } else {
            "other"
        });
    }
    if n >= enough * 4 {
        return Some("other");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(classify(b"INVITE sip:a@b SIP/2.0\r\n", 64), Some("sip"));
        assert_eq!(classify(b"\r\n\r\nSIP/2.0 200 OK\r\n", 64), Some("sip"));
        assert_eq!(classify(b"INVITE sip:a@b", 64), None);
        assert_eq!(classify(b"HEP3\x00\x10", 64), Some("hep"));
        assert_eq!(classify(b"\x16\x03\x01\x02", 64), Some("tls"));
        assert_eq!(classify(b"GET /ws HTTP/1.1\r\n", 64), Some("websocket"));
        assert_eq!(classify(b"SSH-2.0-OpenSSH\r\n", 64), Some("other"));
    }
}

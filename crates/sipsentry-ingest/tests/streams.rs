//! Ingest on TCP streams carrying HEP and WebSocket, split at awkward places, with gaps; and
//! determinism. Built from capture events directly (the capture decoder is tested on its own).

use sipsentry_capture::{Event, StreamData, StreamGap};
use sipsentry_hep::HepPacket;
use sipsentry_ingest::{Ingest, IngestConfig, Origin, Transport};
use std::borrow::Cow;
use std::net::SocketAddr;

const OPT: &[u8] = b"OPTIONS sip:100@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/TCP 192.0.2.9;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:100@192.0.2.1>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn data(stream: u64, offset: u64, bytes: &[u8]) -> Event<'_> {
    Event::StreamData(StreamData {
        ts_nanos: 1_000_000_000,
        stream,
        src: addr("192.0.2.9:40000"),
        dst: addr("192.0.2.1:9060"),
        offset,
        bytes: Cow::Borrowed(bytes),
    })
}

/// Feeds `wire` split into chunks of every size from 1 to 17 bytes, returning what came out.
fn run_split(wire: &[u8], chunk: usize) -> Vec<(Vec<u8>, Transport, Origin, SocketAddr)> {
    let mut ing = Ingest::new(IngestConfig::default());
    let mut out = vec![];
    let mut off = 0;
    for c in wire.chunks(chunk) {
        ing.on_event(&data(7, off, c), &mut |e| {
            out.push((e.data.to_vec(), e.transport, e.origin, e.src))
        });
        off += c.len() as u64;
    }
    out
}

#[test]
fn hep_over_tcp_split_anywhere() {
    let mut wire = Vec::new();
    for i in 0..3u32 {
        let mut p = HepPacket::new(addr("198.51.100.7:5060"), addr("203.0.113.1:5060"), OPT);
        p.capture_id = 2001 + i;
        p.ts_secs = 1_700_000_000 + i;
        wire.extend(p.to_v3_bytes().unwrap());
    }
    for chunk in 1..=17 {
        let got = run_split(&wire, chunk);
        assert_eq!(got.len(), 3, "chunk {chunk}");
        for (i, (d, t, o, src)) in got.iter().enumerate() {
            assert_eq!(d.as_slice(), OPT);
            assert_eq!(
                *t,
                Transport::Udp,
                "transport comes from the HEP ip-proto chunk"
            );
            assert_eq!(
                *o,
                Origin::Hep {
                    version: 3,
                    capture_id: 2001 + i as u32
                }
            );
            assert_eq!(
                *src,
                addr("198.51.100.7:5060"),
                "source is the HEP-reported one"
            );
        }
    }
}

#[test]
fn websocket_stream_with_handshake() {
    // Client side of RFC 7118: upgrade request, then one masked text frame with a SIP message.
    let mut wire = b"GET / HTTP/1.1\r\nHost: pbx\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n".to_vec();
    let key = [0x11u8, 0x22, 0x33, 0x44];
    wire.push(0x81);
    assert!(OPT.len() < 65536 && OPT.len() > 125);
    wire.push(0x80 | 126);
    wire.extend((OPT.len() as u16).to_be_bytes());
    wire.extend(key);
    wire.extend(OPT.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    for chunk in [1, 3, 7, 64, 1000] {
        let got = run_split(&wire, chunk);
        assert_eq!(got.len(), 1, "chunk {chunk}");
        assert_eq!(got[0].0.as_slice(), OPT);
        assert_eq!(got[0].1, Transport::Ws);
    }
}

#[test]
fn sip_over_tcp_resyncs_after_a_gap() {
    let mut ing = Ingest::new(IngestConfig::default());
    let mut out = vec![];
    let half = OPT.len() / 2;
    ing.on_event(&data(1, 0, OPT), &mut |e| out.push(e.data.to_vec()));
    ing.on_event(&data(1, OPT.len() as u64, &OPT[..half]), &mut |e| {
        out.push(e.data.to_vec())
    });
    ing.on_event(
        &Event::StreamGap(StreamGap {
            ts_nanos: 2,
            stream: 1,
            src: addr("192.0.2.9:40000"),
            dst: addr("192.0.2.1:5060"),
            offset: (OPT.len() + half) as u64,
            len: 100,
        }),
        &mut |e| out.push(e.data.to_vec()),
    );
    // After the gap: the tail of some message, then a whole one.
    let mut after = OPT[half..].to_vec();
    after.extend_from_slice(OPT);
    ing.on_event(&data(1, 10_000, &after), &mut |e| out.push(e.data.to_vec()));
    assert_eq!(
        out,
        vec![OPT.to_vec(), OPT.to_vec()],
        "the half message is dropped, not glued"
    );
    assert_eq!(ing.stats().stream_gaps, 1);
}

#[test]
fn tls_and_other_streams_are_classified_and_ignored() {
    let mut ing = Ingest::new(IngestConfig::default());
    let mut n = 0;
    ing.on_event(
        &data(1, 0, b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"),
        &mut |_| n += 1,
    );
    ing.on_event(&data(2, 0, b"SSH-2.0-OpenSSH_9.2\r\n"), &mut |_| n += 1);
    ing.on_event(&data(2, 21, OPT), &mut |_| n += 1);
    assert_eq!(n, 0);
    assert_eq!(ing.stats().streams_by_kind.get("tls"), Some(&1));
    assert_eq!(ing.stats().streams_by_kind.get("other"), Some(&1));
}

#[test]
fn stream_budget_bounds_half_sent_messages() {
    let cfg = IngestConfig {
        stream_budget: 64 * 1024,
        ..IngestConfig::default()
    };
    let mut ing = Ingest::new(cfg);
    // 10 000 connections each sending a header block that never ends.
    let head = b"INVITE sip:a@b SIP/2.0\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    for s in 0..10_000u64 {
        ing.on_event(&data(s, 0, head), &mut |_| {});
        assert!(
            ing.buffered_bytes() <= 64 * 1024 + head.len(),
            "{}",
            ing.buffered_bytes()
        );
    }
}

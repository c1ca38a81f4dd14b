//! TCP stream reassembly through the `Decoder`.

mod common;

use std::borrow::Cow;
use std::collections::BTreeMap;

use common::*;
use sipsentry_capture::{linktype as lt, CloseReason, Config, Decoder, Event, TcpConfig};

const SEC: i64 = 1_000_000_000;

fn c2s(ts: i64, seq: u32, flags: u8, payload: &[u8]) -> (i64, u32, Vec<u8>) {
    (
        ts,
        lt::RAW,
        ipv4(A4, B4, 6, &tcp(40000, 5060, seq, flags, payload)),
    )
}
fn s2c(ts: i64, seq: u32, flags: u8, payload: &[u8]) -> (i64, u32, Vec<u8>) {
    (
        ts,
        lt::RAW,
        ipv4(B4, A4, 6, &tcp(5060, 40000, seq, flags, payload)),
    )
}
/// Client port `port` to the server.
fn flow(ts: i64, port: u16, seq: u32, flags: u8, payload: &[u8]) -> (i64, u32, Vec<u8>) {
    (
        ts,
        lt::RAW,
        ipv4(A4, B4, 6, &tcp(port, 5060, seq, flags, payload)),
    )
}

#[derive(Debug)]
struct S {
    src: String,
    dst: String,
    /// Data as text, gaps as `<gap N>`.
    text: String,
    closed: Option<CloseReason>,
}

fn entry(m: &mut BTreeMap<u64, (S, u64)>, id: u64, src: String, dst: String) -> &mut (S, u64) {
    let e = m.entry(id).or_insert_with(|| {
        (
            S {
                src: src.clone(),
                dst: dst.clone(),
                text: String::new(),
                closed: None,
            },
            0,
        )
    });
    assert!(e.0.closed.is_none(), "event after close on {id}");
    assert_eq!((&e.0.src, &e.0.dst), (&src, &dst));
    e
}

/// Streams by id, checking offsets are contiguous and nothing follows a close.
fn streams(evs: &[Event<'static>]) -> BTreeMap<u64, S> {
    let mut m: BTreeMap<u64, (S, u64)> = BTreeMap::new();
    for e in evs {
        match e {
            Event::StreamData(d) => {
                let s = entry(&mut m, d.stream, d.src.to_string(), d.dst.to_string());
                assert_eq!(d.offset, s.1);
                s.0.text.push_str(&String::from_utf8_lossy(&d.bytes));
                s.1 += d.bytes.len() as u64;
            }
            Event::StreamGap(g) => {
                let s = entry(&mut m, g.stream, g.src.to_string(), g.dst.to_string());
                assert_eq!(g.offset, s.1);
                s.0.text.push_str(&format!("<gap {}>", g.len));
                s.1 += g.len;
            }
            Event::StreamClosed(c) => {
                let s = entry(&mut m, c.stream, c.src.to_string(), c.dst.to_string());
                s.0.closed = Some(c.reason);
            }
            Event::Datagram(_) => panic!("unexpected datagram"),
        }
    }
    m.into_iter().map(|(k, (s, _))| (k, s)).collect()
}

fn only(evs: &[Event<'static>]) -> S {
    let mut s = streams(evs);
    assert_eq!(s.len(), 1, "{s:?}");
    s.pop_first().unwrap().1
}

#[test]
fn handshake_data_fin_both_directions() {
    let frames = vec![
        c2s(1, 1000, SYN, b""),
        s2c(2, 5000, SYN | ACK, b""),
        c2s(3, 1001, ACK, b""),
        c2s(4, 1001, PSH | ACK, b"INVITE sip:a SIP/2.0\r\n\r\n"),
        s2c(5, 5001, PSH | ACK, b"SIP/2.0 100 Trying\r\n\r\n"),
        c2s(6, 1025, FIN | ACK, b""),
        s2c(7, 5023, FIN | ACK, b""),
        c2s(8, 1026, ACK, b""),
    ];
    let (evs, d) = run(Config::default(), &frames);
    let s = streams(&evs);
    assert_eq!(s.len(), 2);
    assert_eq!(s[&0].src, "192.0.2.1:40000");
    assert_eq!(s[&0].text, "INVITE sip:a SIP/2.0\r\n\r\n");
    assert_eq!(s[&0].closed, Some(CloseReason::Fin));
    assert_eq!(s[&1].text, "SIP/2.0 100 Trying\r\n\r\n");
    assert_eq!(s[&1].closed, Some(CloseReason::Fin));
    assert_eq!(d.stats().tcp.closed_fin, 2);
    assert_eq!(d.stats().tcp.gaps, 0);
    // The trailing ACK after FIN carries nothing: not counted as after-close data.
    assert_eq!(d.stats().tcp.after_close, 0);
    // Events carry the time of the packet that released them.
    let ts: Vec<i64> = evs.iter().map(|e| e.ts_nanos()).collect();
    assert_eq!(ts, [4, 5, 6, 7]);
}

#[test]
fn reordered_segments() {
    let frames = vec![
        c2s(1, 100, SYN, b""),
        c2s(2, 111, ACK, b"world"),
        c2s(3, 116, ACK, b"!"),
        c2s(4, 101, ACK, b"hello, "),
        c2s(5, 108, ACK, b"the"),
    ];
    let mut d = Decoder::default();
    let mut evs = Vec::new();
    let mut owned = Vec::new();
    for (ts, l, f) in &frames {
        d.push_frame(*ts, *l, f, |e| {
            if let Event::StreamData(s) = &e {
                owned.push(matches!(s.bytes, Cow::Owned(_)));
            }
            evs.push(e.into_owned());
        });
    }
    assert!(d.buffered().tcp_bytes == 0);
    d.flush(|e| evs.push(e.into_owned()));
    let s = only(&evs);
    assert_eq!(s.text, "hello, theworld!");
    assert_eq!(s.closed, Some(CloseReason::EndOfInput));
    assert_eq!(d.stats().tcp.out_of_order, 2);
    // Data released from the out-of-order buffer is handed over owned (moved, not copied);
    // here every segment went through the buffer because one was already waiting.
    assert_eq!(owned, [true, true, true, true]);
    // An in-order segment with nothing buffered is borrowed straight from the packet.
    let mut d = Decoder::default();
    d.push_frame(1, lt::RAW, &c2s(1, 1, ACK, b"zero-copy").2, |e| {
        let Event::StreamData(s) = e else { panic!() };
        assert!(matches!(s.bytes, Cow::Borrowed(_)));
    });
}

#[test]
fn retransmissions_and_duplicates_deliver_each_byte_once() {
    let frames = vec![
        c2s(1, 0, SYN, b""),
        c2s(2, 1, ACK, b"AAAA"),
        c2s(3, 5, ACK, b"BBBB"),
        c2s(4, 1, ACK, b"AAAA"),     // full retransmission
        c2s(5, 3, ACK, b"AABBBBCC"), // overlaps delivered bytes and extends
        c2s(6, 9, ACK, b"CC"),       // duplicate of the extension
        c2s(7, 0, SYN, b""),         // SYN retransmission: same ISN, ignored
    ];
    let (evs, d) = run(Config::default(), &frames);
    let s = only(&evs);
    assert_eq!(s.text, "AAAABBBBCC");
    assert_eq!(d.stats().tcp.retransmitted_bytes, 4 + 6 + 2);
    assert_eq!(d.stats().tcp.streams, 1);
    assert_eq!(d.stats().tcp.reopened, 0);
}

#[test]
fn overlapping_out_of_order_segments_first_wins() {
    let frames = vec![
        c2s(1, 0, SYN, b""),
        c2s(2, 11, ACK, b"KLMNO"),  // [10, 15)
        c2s(3, 14, ACK, b"xyRST"),  // [13, 18): 13..15 conflicts, first copy kept
        c2s(4, 6, ACK, b"FGHIJKL"), // [5, 12): 10..12 overlaps consistently
        c2s(5, 1, ACK, b"ABCDE"),   // [0, 5): releases everything
    ];
    let (evs, d) = run(Config::default(), &frames);
    let s = only(&evs);
    assert_eq!(s.text, "ABCDEFGHIJKLMNORST");
    assert_eq!(d.stats().tcp.overlap_mismatches, 1);
}

#[test]
fn lost_segment_reported_at_fin() {
    let frames = vec![
        c2s(1, 0, SYN, b""),
        c2s(2, 1, ACK, b"first "),
        // "second " (7 bytes at seq 7) lost
        c2s(3, 14, ACK, b"third "),
        c2s(4, 20, FIN | ACK, b""),
        c2s(5, 7, ACK, b"second "), // the retransmission arrives after the FIN: too late
    ];
    let (evs, d) = run(Config::default(), &frames);
    let s = only(&evs);
    assert_eq!(s.text, "first <gap 7>third ");
    assert_eq!(s.closed, Some(CloseReason::Fin));
    assert_eq!((d.stats().tcp.gaps, d.stats().tcp.gap_bytes), (1, 7));
    assert_eq!(d.stats().tcp.after_close, 1);
}

#[test]
fn lost_tail_before_fin_is_a_gap_too() {
    let frames = vec![
        c2s(1, 0, SYN, b""),
        c2s(2, 1, ACK, b"abc"),
        c2s(3, 10, FIN | ACK, b""),
    ];
    let (evs, _) = run(Config::default(), &frames);
    assert_eq!(only(&evs).text, "abc<gap 6>");
}

#[test]
fn lost_segment_skipped_when_buffer_cap_hit() {
    let cfg = Config {
        tcp: TcpConfig {
            max_flow_bytes: 1000,
            ..TcpConfig::default()
        },
        ..Config::default()
    };
    let chunk = [b'x'; 300];
    let mut frames = vec![c2s(1, 0, SYN, b""), c2s(2, 1, ACK, b"head")];
    // Bytes 4..104 lost; then 300-byte segments pile up out of order.
    for i in 0..4u32 {
        frames.push(c2s(3 + i as i64, 105 + i * 300, ACK, &chunk));
    }
    let mut d = Decoder::new(cfg);
    let mut evs = Vec::new();
    for (ts, l, f) in &frames {
        d.push_frame(*ts, *l, f, |e| evs.push(e.into_owned()));
        assert!(d.buffered().tcp_bytes <= 1000);
    }
    // 3 × (300 + 64) > 1000 → the hole is skipped on the third out-of-order segment.
    let s = only(&evs);
    assert!(s.text.starts_with("head<gap 100>xxx"), "{}", &s.text[..20]);
    assert_eq!(s.text.len(), 4 + "<gap 100>".len() + 1200);
    assert_eq!(d.stats().tcp.forced_flushes, 1);
    assert_eq!(s.closed, None);

    // The per-stream segment-count cap works the same way.
    let cfg = Config {
        tcp: TcpConfig {
            max_flow_segments: 3,
            ..TcpConfig::default()
        },
        ..Config::default()
    };
    let mut frames = vec![c2s(1, 0, SYN, b""), c2s(2, 1, ACK, b"a")];
    for i in 0..4u32 {
        frames.push(c2s(3, 3 + i, ACK, b"b")); // seq 2 lost
    }
    let (evs, d) = run(cfg, &frames);
    assert_eq!(only(&evs).text, "a<gap 1>bbbb");
    assert_eq!(d.stats().tcp.forced_flushes, 1);
}

#[test]
fn lost_segment_skipped_on_idle_expiry() {
    let frames = vec![
        c2s(0, 0, SYN, b""),
        c2s(SEC, 1, ACK, b"one"),
        c2s(2 * SEC, 9, ACK, b"three"),
        // Unrelated traffic 301 s later expires the stream.
        (303 * SEC, lt::RAW, ipv4(B4, A4, 17, &udp(1, 2, b"tick"))),
    ];
    let mut d = Decoder::default();
    let mut evs = Vec::new();
    for (ts, l, f) in &frames {
        d.push_frame(*ts, *l, f, |e| {
            if !matches!(e, Event::Datagram(_)) {
                evs.push(e.into_owned());
            }
        });
    }
    let s = only(&evs);
    assert_eq!(s.text, "one<gap 5>three");
    assert_eq!(s.closed, Some(CloseReason::IdleTimeout));
    assert_eq!(d.stats().tcp.expired, 1);
    assert_eq!(d.buffered().tcp_flows, 0);
    // Expiry events carry the time of the packet that triggered them.
    assert!(evs.iter().skip(1).all(|e| e.ts_nanos() == 303 * SEC));
}

#[test]
fn mid_stream_start() {
    // No SYN: the stream starts at the first data segment seen; an older retransmission is
    // ignored; pure ACKs for unknown flows create no state.
    let frames = [
        s2c(1, 777, ACK, b""),
        c2s(2, 50_000, ACK, b"BYE sip:x SIP/2.0\r\n"),
        c2s(3, 49_990, ACK, b"0123456789"),
        c2s(4, 50_019, ACK, b"\r\n"),
    ];
    let mut d = Decoder::default();
    let mut evs = Vec::new();
    for (i, (ts, l, f)) in frames.iter().enumerate() {
        d.push_frame(*ts, *l, f, |e| evs.push(e.into_owned()));
        if i == 0 {
            assert_eq!(d.buffered().tcp_flows, 0, "bare ACK creates no state");
        }
    }
    d.flush(|e| evs.push(e.into_owned()));
    let s = only(&evs);
    assert_eq!(s.text, "BYE sip:x SIP/2.0\r\n\r\n");
    assert_eq!(d.stats().tcp.retransmitted_bytes, 10);
}

#[test]
fn sequence_wraparound() {
    let isn = 0xFFFF_FFF0u32;
    let frames = vec![
        c2s(1, isn, SYN, b""),
        c2s(2, isn.wrapping_add(1), ACK, b"0123456789"), // up to 0xFFFF_FFFA
        c2s(3, 0x0000_0009, ACK, b"EFGH"),               // after the wrap, out of order
        c2s(4, isn.wrapping_add(11), ACK, b"abcdefghijABCD"), // spans the wrap
        c2s(5, 0xFFFF_FFF5, ACK, b"56789"),              // old retransmission
        c2s(6, 0x0000_000D, FIN | ACK, b"IJ"),
    ];
    let (evs, d) = run(Config::default(), &frames);
    let s = only(&evs);
    assert_eq!(s.text, "0123456789abcdefghijABCDEFGHIJ");
    assert_eq!(s.closed, Some(CloseReason::Fin));
    assert_eq!(d.stats().tcp.gaps, 0);
    assert_eq!(d.stats().tcp.retransmitted_bytes, 5);
}

#[test]
fn out_of_window_segments_are_ignored() {
    let frames = vec![
        c2s(1, 1000, ACK, b"start"),
        c2s(2, 1000u32.wrapping_add(0x8000_0000), ACK, b"far away"),
        c2s(3, 1005, ACK, b"-end"),
    ];
    let (evs, d) = run(Config::default(), &frames);
    assert_eq!(only(&evs).text, "start-end");
    assert_eq!(d.stats().tcp.out_of_window, 1);
}

#[test]
fn flow_cap_evicts_least_recently_seen() {
    let cfg = Config {
        tcp: TcpConfig {
            max_flows: 3,
            ..TcpConfig::default()
        },
        ..Config::default()
    };
    let frames = vec![
        flow(1, 1001, 10, ACK, b"a1"),
        flow(2, 1002, 10, ACK, b"b1"),
        flow(3, 1003, 10, ACK, b"c1"),
        flow(4, 1001, 12, ACK, b"a2"), // a is now the most recent
        flow(5, 1002, 20, ACK, b"b3"), // b buffers out of order (b2 lost)
        flow(6, 1004, 10, ACK, b"d1"), // evicts c (least recently seen)
        flow(7, 1005, 10, ACK, b"e1"), // evicts a
        flow(8, 1006, 10, ACK, b"f1"), // evicts b: its buffer is flushed with a gap
    ];
    let mut d = Decoder::new(cfg);
    let mut evs = Vec::new();
    for (ts, l, f) in &frames {
        d.push_frame(*ts, *l, f, |e| evs.push(e.into_owned()));
        assert!(d.buffered().tcp_flows <= 3);
    }
    let closes: Vec<(String, CloseReason, i64)> = evs
        .iter()
        .filter_map(|e| match e {
            Event::StreamClosed(c) => Some((c.src.to_string(), c.reason, c.ts_nanos)),
            _ => None,
        })
        .collect();
    assert_eq!(
        closes,
        [
            ("192.0.2.1:1003".to_string(), CloseReason::Evicted, 6),
            ("192.0.2.1:1001".to_string(), CloseReason::Evicted, 7),
            ("192.0.2.1:1002".to_string(), CloseReason::Evicted, 8),
        ]
    );
    let s = streams(&evs);
    let b = s.values().find(|s| s.src.ends_with(":1002")).unwrap();
    assert_eq!(b.text, "b1<gap 8>b3");
    assert_eq!(d.stats().tcp.evicted, 3);
}

#[test]
fn global_buffer_cap_flushes_the_stream_that_exceeds_it() {
    let cfg = Config {
        tcp: TcpConfig {
            max_total_bytes: 2000,
            ..TcpConfig::default()
        },
        ..Config::default()
    };
    let big = [b'z'; 500];
    let mut frames = Vec::new();
    for port in 1001..1005u16 {
        frames.push(flow(1, port, 0, ACK, b"h"));
        frames.push(flow(2, port, 11, ACK, &big)); // 10 bytes lost in each
    }
    let mut d = Decoder::new(cfg);
    let mut evs = Vec::new();
    for (ts, l, f) in &frames {
        d.push_frame(*ts, *l, f, |e| evs.push(e.into_owned()));
        assert!(d.buffered().tcp_bytes <= 2000, "{:?}", d.buffered());
    }
    // Three streams × 564 fit; the fourth pushes the total over and is flushed itself.
    let s = streams(&evs);
    let texts: Vec<_> = s.values().map(|s| s.text.len()).collect();
    assert_eq!(texts, [1, 1, 1, 1 + "<gap 10>".len() + 500]);
    assert_eq!(d.buffered().tcp_bytes, 3 * 564);
}

#[test]
fn reset_closes_both_directions() {
    let frames = vec![
        c2s(1, 0, SYN, b""),
        s2c(2, 0, SYN | ACK, b""),
        c2s(3, 1, ACK, b"hello"),
        s2c(4, 1, ACK, b"hi"),
        c2s(5, 10, ACK, b"later"), // out of order, buffered
        s2c(6, 3, RST, b""),
        c2s(7, 6, ACK, b"more"), // after the reset
    ];
    let (evs, d) = run(Config::default(), &frames);
    let s = streams(&evs);
    assert_eq!(s.len(), 2);
    assert_eq!(s[&0].text, "hello<gap 4>later");
    assert_eq!(s[&0].closed, Some(CloseReason::Reset));
    assert_eq!(s[&1].text, "hi");
    assert_eq!(s[&1].closed, Some(CloseReason::Reset));
    assert_eq!(d.stats().tcp.closed_rst, 2);
    assert_eq!(d.stats().tcp.after_close, 1);
}

#[test]
fn syn_with_new_isn_reopens() {
    let frames = vec![
        c2s(1, 100, SYN, b""),
        c2s(2, 101, ACK, b"first connection"),
        c2s(3, 9000, SYN, b""), // port reuse without a FIN seen
        c2s(4, 9001, ACK, b"second"),
    ];
    let (evs, d) = run(Config::default(), &frames);
    let s = streams(&evs);
    assert_eq!(s.len(), 2);
    assert_eq!(s[&0].text, "first connection");
    assert_eq!(s[&0].closed, Some(CloseReason::Reopened));
    assert_eq!(s[&1].text, "second");
    assert_eq!(s[&1].closed, Some(CloseReason::EndOfInput));
    assert_eq!(d.stats().tcp.reopened, 1);
    // A SYN on a stream first seen mid-stream also starts afresh.
    let frames = vec![
        c2s(1, 500, ACK, b"mid"),
        c2s(2, 7, SYN, b""),
        c2s(3, 8, ACK, b"new"),
    ];
    let (evs, _) = run(Config::default(), &frames);
    let s = streams(&evs);
    assert_eq!(s[&0].text, "mid");
    assert_eq!(s[&1].text, "new");
}

#[test]
fn syn_with_data_and_snaplen_truncated_segments() {
    // TCP Fast Open: data on the SYN starts at ISN + 1.
    let frames = vec![c2s(1, 41, SYN, b"tfo"), c2s(2, 45, ACK, b"!")];
    let (evs, _) = run(Config::default(), &frames);
    assert_eq!(only(&evs).text, "tfo!");

    // A segment cut by the snaplen: the captured part, then a gap for the rest.
    let mut cut = c2s(2, 1, ACK, b"0123456789");
    cut.2.truncate(45);
    let frames = vec![c2s(1, 0, SYN, b""), cut, c2s(3, 11, ACK, b"after")];
    let (evs, d) = run(Config::default(), &frames);
    assert_eq!(only(&evs).text, "01234<gap 5>after");
    assert_eq!(d.stats().truncated, 1);
    // Out of order, the missing part is held as a known gap.
    let mut cut = c2s(2, 6, ACK, b"0123456789");
    cut.2.truncate(45);
    let frames = vec![
        c2s(1, 0, SYN, b""),
        cut,
        c2s(3, 16, ACK, b"Z"),
        c2s(4, 1, ACK, b"abcde"),
    ];
    let (evs, _) = run(Config::default(), &frames);
    assert_eq!(only(&evs).text, "abcde01234<gap 5>Z");
}

#[test]
fn ipv6_streams() {
    let seg = |seq: u32, p: &[u8]| {
        (
            0i64,
            lt::IPV6,
            ipv6(a6(), b6(), 6, &tcp(5061, 5061, seq, ACK, p)),
        )
    };
    let (evs, _) = run(Config::default(), &[seg(7, b"world"), seg(2, b"hello")]);
    // Mid-stream start at seq 7: "hello" is before it.
    let s = only(&evs);
    assert_eq!(s.text, "world");
    assert_eq!(s.src, "[2001:db8::1]:5061");
}

#[test]
fn deterministic_output() {
    let mut frames = Vec::new();
    for i in 0..200u32 {
        let port = 1000 + (i % 17) as u16;
        let seq = (i / 17) * 10 + if i % 3 == 0 { 5 } else { 0 };
        frames.push(flow(i as i64, port, seq, ACK, &[b'a' + (i % 26) as u8; 10]));
    }
    let cfg = Config {
        tcp: TcpConfig {
            max_flows: 8,
            max_flow_bytes: 300,
            ..TcpConfig::default()
        },
        ..Config::default()
    };
    let (a, _) = run(cfg, &frames);
    let (b, _) = run(cfg, &frames);
    assert!(!a.is_empty());
    assert_eq!(a, b);
}

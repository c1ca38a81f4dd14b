//! Property tests: HEP3 encode/decode round trips for arbitrary packets, no panics on
//! arbitrary bytes, and split-independence of the stream framer and the WebSocket decoder.

mod common;

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use sipsentry_hep::ws::{MessageKind, WsDecoder, WsEvent};
use sipsentry_hep::{
    chunk, decode, fuzz_hep, fuzz_ws, AuthKey, HepPacket, HepStreamFramer, HepVersion, ProtoType,
    RawChunk,
};

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

fn opt_bytes() -> impl Strategy<Value = Option<Cow<'static, [u8]>>> {
    option::of(bytes(40).prop_map(Cow::Owned))
}

fn addrs() -> impl Strategy<Value = (SocketAddr, SocketAddr)> {
    prop_oneof![
        (
            any::<[u8; 4]>(),
            any::<u16>(),
            any::<[u8; 4]>(),
            any::<u16>()
        )
            .prop_map(|(s, sp, d, dp)| (
                SocketAddr::new(IpAddr::V4(Ipv4Addr::from(s)), sp),
                SocketAddr::new(IpAddr::V4(Ipv4Addr::from(d)), dp)
            )),
        (
            any::<[u8; 16]>(),
            any::<u16>(),
            any::<[u8; 16]>(),
            any::<u16>()
        )
            .prop_map(|(s, sp, d, dp)| (
                SocketAddr::new(IpAddr::V6(Ipv6Addr::from(s)), sp),
                SocketAddr::new(IpAddr::V6(Ipv6Addr::from(d)), dp)
            )),
    ]
}

fn unknown_chunk() -> impl Strategy<Value = RawChunk<'static>> {
    (any::<u16>(), bytes(20))
        .prop_filter("untyped", |(t, _)| !chunk::is_typed(*t))
        .prop_map(|(type_id, v)| RawChunk {
            type_id,
            value: Cow::Owned(v),
        })
}

prop_compose! {
    fn hep_packet()(
        (src, dst) in addrs(),
        head in (any::<u8>(), any::<u32>(), any::<u32>(), any::<u8>(), any::<u32>()),
        small in (option::of(any::<u16>()), option::of(any::<u16>()), option::of(any::<u64>()),
                  option::of(any::<u64>()), option::of(any::<u16>()), option::of(any::<u8>()),
                  option::of(any::<u8>()), option::of(any::<u16>()), option::of(any::<u16>()),
                  option::of(any::<u32>()), option::of(any::<u16>())),
        strings in (option::of(bytes(40)), opt_bytes(), opt_bytes(), opt_bytes(), opt_bytes(),
                    opt_bytes(), opt_bytes()),
        payload in bytes(3000),
        compressed in any::<bool>(),
        unknown in vec(unknown_chunk(), 0..4),
    ) -> HepPacket<'static> {
        let mut p = HepPacket::new(src, dst, payload);
        (p.ip_proto, p.ts_secs, p.ts_micros) = (head.0, head.1, head.2);
        p.proto_type = ProtoType(head.3);
        p.capture_id = head.4;
        (p.keep_alive, p.vlan, p.src_mac, p.dst_mac, p.eth_type, p.tcp_flags, p.ip_tos, p.mos,
         p.r_factor, p.jitter, p.tag_type) = small;
        p.auth_key = strings.0.map(AuthKey::new);
        (p.correlation_id, p.group_id, p.geo_location, p.transaction_type, p.payload_json_keys,
         p.tags_values) = (strings.1, strings.2, strings.3, strings.4, strings.5, strings.6);
        p.payload_compressed = compressed;
        p.unknown_chunks = unknown;
        p
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn encode_decode_round_trip(p in hep_packet()) {
        let bytes = p.to_v3_bytes().expect("small packets always encode");
        prop_assert_eq!(usize::from(u16::from_be_bytes([bytes[4], bytes[5]])), bytes.len());
        let q = decode(&bytes).expect("encoded packets decode");
        prop_assert_eq!(q.version, HepVersion::V3);
        prop_assert_eq!(&q, &p);
        prop_assert_eq!(&q.to_v3_bytes().unwrap(), &bytes);
        fuzz_hep(&bytes);
    }

    #[test]
    fn decode_never_panics(data in bytes(300)) {
        let _ = decode(&data);
        fuzz_hep(&data);
    }

    #[test]
    fn decode_never_panics_on_hep_like_input(tail in bytes(300), first in 0u8..4) {
        let mut data = match first {
            0 => b"HEP3".to_vec(),
            1 => vec![1],
            2 => vec![2],
            _ => vec![2, 28, 10],
        };
        data.extend_from_slice(&tail);
        if first == 0 && data.len() >= 6 {
            // Make the total length right half of the time, so the chunk walk is reached.
            if tail.first().is_some_and(|b| b % 2 == 0) {
                let n = data.len() as u16;
                data[4..6].copy_from_slice(&n.to_be_bytes());
            }
        }
        let _ = decode(&data);
        fuzz_hep(&data);
    }

    #[test]
    fn mutated_packets_never_panic(p in hep_packet(), flips in vec((any::<usize>(), any::<u8>()), 1..6)) {
        let mut bytes = p.to_v3_bytes().unwrap();
        for (at, x) in flips {
            let i = at % bytes.len();
            bytes[i] ^= x;
        }
        let _ = decode(&bytes);
        fuzz_hep(&bytes);
    }

    #[test]
    fn framer_recovers_packets_between_garbage(
        pkts in vec(hep_packet(), 1..5),
        garbage in vec(vec(any::<u8>().prop_filter("no H", |b| *b != b'H'), 0..40), 5),
        step in 1usize..200,
    ) {
        let encoded: Vec<Vec<u8>> = pkts.iter().map(|p| p.to_v3_bytes().unwrap()).collect();
        let mut stream = Vec::new();
        let mut junk = 0;
        for (i, e) in encoded.iter().enumerate() {
            stream.extend_from_slice(&garbage[i % garbage.len()]);
            junk += garbage[i % garbage.len()].len();
            stream.extend_from_slice(e);
        }
        let mut f = HepStreamFramer::new();
        let mut frames = Vec::new();
        for piece in stream.chunks(step) {
            prop_assert_eq!(f.push(piece), piece.len());
            while let Some(fr) = f.next_frame() {
                frames.push(fr.to_vec());
            }
        }
        prop_assert_eq!(&frames, &encoded);
        prop_assert_eq!(f.skipped_bytes(), junk as u64);
        for (fr, p) in frames.iter().zip(&pkts) {
            prop_assert_eq!(&decode(fr).unwrap(), p);
        }
    }

    #[test]
    fn ws_never_panics(data in bytes(400)) {
        fuzz_ws(&data);
    }

    #[test]
    fn ws_never_panics_after_a_handshake(data in bytes(300), server in any::<bool>()) {
        let mut s: Vec<u8> = if server {
            b"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: sip\r\n\r\n".to_vec()
        } else {
            b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nSec-WebSocket-Protocol: sip\r\n\r\n".to_vec()
        };
        s.extend_from_slice(&data);
        fuzz_ws(&s);
    }

    /// Arbitrary messages, each split into arbitrary fragments, masked or not, with pings
    /// interleaved: the decoder returns exactly the messages and pings.
    #[test]
    fn ws_reassembles_fragmented_messages(
        msgs in vec((bytes(500), 1usize..5, option::of(any::<[u8; 4]>()), any::<bool>()), 1..6),
        step in 1usize..300,
    ) {
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        for (payload, parts, key, ping) in &msgs {
            let size = payload.len().div_ceil(*parts).max(1);
            let pieces: Vec<&[u8]> = if payload.is_empty() { vec![&[][..]] } else { payload.chunks(size).collect() };
            if *ping {
                expected.push(WsEvent::Ping(b"p".to_vec()));
            }
            for (i, piece) in pieces.iter().enumerate() {
                let fin = if i + 1 == pieces.len() { 0x80 } else { 0 };
                let op = if i == 0 { 0x2 } else { 0x0 };
                // The ping goes between the first two fragments, or before a lone frame.
                if *ping && pieces.len() == 1 {
                    stream.extend(frame(0x89, *key, b"p"));
                }
                stream.extend(frame(fin | op, *key, piece));
                if *ping && i == 0 && pieces.len() > 1 {
                    stream.extend(frame(0x89, *key, b"p"));
                }
            }
            expected.push(WsEvent::Message(sipsentry_hep::ws::WsMessage {
                kind: MessageKind::Binary,
                payload: payload.clone(),
                fragments: pieces.len() as u32,
                masked: key.is_some(),
                compressed: false,
            }));
        }
        let mut dec = WsDecoder::new();
        let mut got = Vec::new();
        for piece in stream.chunks(step) {
            prop_assert_eq!(dec.push(piece), piece.len());
            while let Some(e) = dec.next_event() {
                got.push(e.unwrap());
            }
        }
        prop_assert_eq!(got, expected);
        fuzz_ws(&stream);
    }
}

fn frame(b0: u8, key: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![b0];
    let m = if key.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => f.push(m | n as u8),
        n => {
            f.push(m | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
    }
    match key {
        Some(k) => {
            f.extend_from_slice(&k);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => f.extend_from_slice(payload),
    }
    f
}

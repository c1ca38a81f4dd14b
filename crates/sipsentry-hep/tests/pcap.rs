//! Real captures from `tests/vectors/pcaps/` (copied from `/work/shared/vectors/pcaps/`); the
//! expectations are the ones `/work/shared/vectors/pcaps/INDEX.md` records for each file.

mod common;

use std::borrow::Cow;
use std::collections::BTreeMap;

use common::*;
use sipsentry_hep::ws::{HandshakeKind, MessageKind, WsDecoder, WsEvent};
use sipsentry_hep::{decode, HepStreamFramer, HepVersion, ProtoType};

fn hep_datagrams() -> Vec<Vec<u8>> {
    let data = std::fs::read(pcap_path("hepws_hep.pcap")).expect("hepws_hep.pcap");
    read_pcap_ipv4(&data)
        .into_iter()
        .filter(|p| p.proto == 17 && p.dst_port == 9060)
        .map(|p| p.payload)
        .collect()
}

/// INDEX.md, `hepws_hep.pcap`: 8 HEP3 packets on UDP 9060 (HEPGEN), payload types 1 = SIP,
/// 5 = RTCP JSON, 100 = log, none compressed, in this order with these first bytes.
#[test]
fn hepws_hep_pcap_matches_the_index() {
    let expected: [(u8, &str); 8] = [
        (1, "INVITE"),
        (1, "SIP/2.0 100"),
        (1, "SIP/2.0 407"),
        (1, "OPTIONS"),
        (100, "SYSLOG:"),
        (1, "SIP/2.0 200"),
        (1, "PUBLISH"),
        (
            5,
            "{\"sender_information\":{\"ntp_timestamp_sec\":3650797214,\"packe",
        ),
    ];
    let grams = hep_datagrams();
    assert_eq!(grams.len(), 8, "{{'HEP3': 8}}");
    for (i, (g, (ptype, first))) in grams.iter().zip(expected).enumerate() {
        assert!(g.starts_with(b"HEP3"), "packet {i}");
        let p = decode(g).unwrap_or_else(|e| panic!("packet {i}: {e}"));
        assert_eq!(p.version, HepVersion::V3);
        assert_eq!(p.proto_type, ProtoType(ptype), "packet {i}");
        assert!(!p.payload_compressed, "packet {i}");
        assert!(matches!(p.payload, Cow::Borrowed(_)));
        assert!(
            p.payload.starts_with(first.as_bytes()),
            "packet {i}: {:?}",
            String::from_utf8_lossy(&p.payload[..40.min(p.payload.len())])
        );
        // What the generator put in every packet.
        assert_eq!(p.family(), 2);
        assert_eq!(p.ip_proto, 17);
        assert_eq!(p.capture_id, 2001);
        assert_eq!(p.auth_key.as_ref().map(|k| k.expose()), Some(&b"myHep"[..]));
        assert_eq!(
            p.correlation_id.as_deref(),
            Some(&b"qgf3dm9rudi@127.0.0.1"[..])
        );
        assert!(
            !format!("{p:?}").contains("myHep"),
            "auth key leaked into Debug"
        );
        let ip = p.src.ip().to_string();
        assert!(ip == "192.168.1.1" || ip == "192.168.1.2", "{ip}");
        assert_eq!(p.ts_secs >> 8, 0x584d36, "2016-12-11, as the capture");
        // The generator writes the canonical chunk order, so re-encoding is byte-exact.
        assert_eq!(
            &p.to_v3_bytes().unwrap(),
            g,
            "packet {i} re-encodes byte for byte"
        );
    }
}

#[test]
fn hepws_hep_pcap_as_a_tcp_stream() {
    let grams = hep_datagrams();
    let stream = grams.concat();
    for step in [1, 100, 1460, stream.len()] {
        let mut f = HepStreamFramer::new();
        let mut frames = Vec::new();
        for piece in stream.chunks(step) {
            assert_eq!(f.push(piece), piece.len());
            while let Some(fr) = f.next_frame() {
                frames.push(fr.to_vec());
            }
        }
        assert_eq!(frames, grams, "step {step}");
    }
}

/// Reassemble each TCP direction of a capture (ordered by sequence number, retransmissions
/// dropped), keyed by (source port, destination port).
fn tcp_streams(name: &str) -> BTreeMap<(u16, u16), Vec<u8>> {
    let data = std::fs::read(pcap_path(name)).expect(name);
    let mut segs: BTreeMap<(u16, u16), BTreeMap<u32, Vec<u8>>> = BTreeMap::new();
    for p in read_pcap_ipv4(&data) {
        if p.proto == 6 && !p.payload.is_empty() {
            segs.entry((p.src_port, p.dst_port))
                .or_default()
                .entry(p.seq)
                .or_insert(p.payload);
        }
    }
    segs.into_iter()
        .map(|(k, s)| {
            let mut out = Vec::new();
            let mut next = None;
            for (seq, payload) in s {
                if let Some(n) = next {
                    assert_eq!(seq, n, "gap in TCP stream {k:?}");
                }
                next = Some(seq.wrapping_add(payload.len() as u32));
                out.extend_from_slice(&payload);
            }
            (k, out)
        })
        .collect()
}

fn first_line(m: &[u8]) -> String {
    let end = m.windows(2).position(|w| w == b"\r\n").unwrap_or(m.len());
    String::from_utf8_lossy(&m[..end]).into_owned()
}

/// INDEX.md, `heplify_sip_tcp_websocket.pcap`: SIP over WebSocket (HTTP Upgrade, then 11
/// WebSocket frames carrying SIP, some spanning TCP segments): INVITE/407/ACK/INVITE/100/180/
/// 183/200/ACK/BYE/200.
#[test]
fn heplify_websocket_pcap_both_directions() {
    let streams = tcp_streams("heplify_sip_tcp_websocket.pcap");
    let client = &streams[&(43380, 8080)];
    let server = &streams[&(8080, 43380)];

    let run = |stream: &[u8], step: usize| {
        let mut dec = WsDecoder::new();
        let mut ev = Vec::new();
        for piece in stream.chunks(step) {
            assert_eq!(dec.push(piece), piece.len());
            while let Some(e) = dec.next_event() {
                ev.push(e.expect("no fatal error in a real capture"));
            }
        }
        (dec, ev)
    };

    let (dec, ev) = run(client, 1448);
    assert_eq!(dec.subprotocol_is_sip(), Some(true), "client offers sip");
    let WsEvent::Handshake(h) = &ev[0] else {
        panic!("{:?}", ev[0])
    };
    assert_eq!(
        h.kind,
        HandshakeKind::Request {
            method: "GET".into(),
            target: "/".into()
        }
    );
    assert!(
        h.permessage_deflate(),
        "the browser offered permessage-deflate"
    );
    let msgs: Vec<String> = ev[1..]
        .iter()
        .map(|e| match e {
            WsEvent::Message(m) => {
                assert_eq!(m.kind, MessageKind::Text);
                assert!(m.masked && !m.compressed && m.fragments == 1);
                first_line(&m.payload)
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        msgs,
        [
            "INVITE sip:+12263382742@dev-mike.tncp.textnow.com SIP/2.0",
            "ACK sip:+12263382742@dev-mike.tncp.textnow.com SIP/2.0",
            "INVITE sip:+12263382742@dev-mike.tncp.textnow.com SIP/2.0",
            "ACK sip:+12263382742@10.243.0.143:5060;transport=udp SIP/2.0",
            "BYE sip:+12263382742@10.243.0.143:5060;transport=udp SIP/2.0",
        ]
    );

    let (dec, ev) = run(server, 1448);
    assert_eq!(dec.subprotocol_is_sip(), Some(true), "server selected sip");
    let WsEvent::Handshake(h) = &ev[0] else {
        panic!("{:?}", ev[0])
    };
    assert!(matches!(
        h.kind,
        HandshakeKind::Response { status: 101, .. }
    ));
    assert!(
        !h.permessage_deflate(),
        "the server declined permessage-deflate"
    );
    let msgs: Vec<String> = ev[1..]
        .iter()
        .map(|e| match e {
            WsEvent::Message(m) => {
                assert!(!m.masked);
                first_line(&m.payload)
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        msgs,
        [
            "SIP/2.0 407 Proxy Authentication Required",
            "SIP/2.0 100 Giving a try",
            "SIP/2.0 180 Ringing",
            "SIP/2.0 183 Session Progress",
            "SIP/2.0 200 OK",
            "SIP/2.0 200 OK",
        ]
    );

    // Same events whatever the segmentation.
    for step in [1, 7, 512] {
        assert_eq!(
            run(client, step).1,
            run(client, 1448).1,
            "client step {step}"
        );
        assert_eq!(
            run(server, step).1,
            run(server, 1448).1,
            "server step {step}"
        );
    }
}

//! WebSocket framing: the RFC 6455 §5.7 examples, handshake skipping, SIP over WebSocket
//! (RFC 7118), anomalies and fatal errors.

use sipsentry_hep::ws::{
    CloseFrame, HandshakeKind, MessageKind, Role, WsAnomaly, WsDecoder, WsError, WsEvent, WsLimits,
    WsMessage,
};

/// Feed `stream` `step` bytes at a time and collect every event.
fn events_with(dec: &mut WsDecoder, stream: &[u8], step: usize) -> Vec<Result<WsEvent, WsError>> {
    let mut out = Vec::new();
    for piece in stream.chunks(step.max(1)) {
        let mut rest = piece;
        loop {
            let n = dec.push(rest);
            rest = &rest[n..];
            while let Some(e) = dec.next_event() {
                out.push(e);
            }
            if rest.is_empty() {
                break;
            }
            assert!(n > 0, "no progress");
        }
    }
    out
}

fn events(stream: &[u8]) -> Vec<Result<WsEvent, WsError>> {
    let whole = events_with(&mut WsDecoder::new(), stream, stream.len());
    // The result must not depend on how the stream was split.
    for step in [1, 2, 3, 7] {
        assert_eq!(
            events_with(&mut WsDecoder::new(), stream, step),
            whole,
            "step {step}"
        );
    }
    whole
}

fn ok(v: Vec<Result<WsEvent, WsError>>) -> Vec<WsEvent> {
    v.into_iter().map(|e| e.expect("no fatal error")).collect()
}

fn text(payload: &[u8], fragments: u32, masked: bool) -> WsEvent {
    WsEvent::Message(WsMessage {
        kind: MessageKind::Text,
        payload: payload.to_vec(),
        fragments,
        masked,
        compressed: false,
    })
}

/// Build a frame with the minimal length encoding; `key` masks the payload.
fn frame(b0: u8, key: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![b0];
    let m = if key.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => f.push(m | n as u8),
        n if n <= 0xffff => {
            f.push(m | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(m | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
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

// ---------------------------------------------------------------------------------------
// RFC 6455 §5.7 examples, byte for byte from the RFC.

#[test]
fn rfc6455_single_frame_unmasked_text() {
    let e = ok(events(&[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]));
    assert_eq!(e, vec![text(b"Hello", 1, false)]);
}

#[test]
fn rfc6455_single_frame_masked_text() {
    let e = ok(events(&[
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ]));
    assert_eq!(e, vec![text(b"Hello", 1, true)]);
}

#[test]
fn rfc6455_fragmented_unmasked_text() {
    let e = ok(events(&[
        0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f,
    ]));
    assert_eq!(e, vec![text(b"Hello", 2, false)]);
}

#[test]
fn rfc6455_ping_and_masked_pong() {
    let e = ok(events(&[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]));
    assert_eq!(e, vec![WsEvent::Ping(b"Hello".to_vec())]);
    let e = ok(events(&[
        0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ]));
    assert_eq!(e, vec![WsEvent::Pong(b"Hello".to_vec())]);
}

#[test]
fn rfc6455_256_bytes_binary_16_bit_length() {
    let body: Vec<u8> = (0..=255u8).collect();
    let mut f = vec![0x82, 0x7e, 0x01, 0x00];
    f.extend_from_slice(&body);
    let e = ok(events(&f));
    assert_eq!(
        e,
        vec![WsEvent::Message(WsMessage {
            kind: MessageKind::Binary,
            payload: body,
            fragments: 1,
            masked: false,
            compressed: false
        })]
    );
}

#[test]
fn rfc6455_64kib_binary_64_bit_length() {
    let body: Vec<u8> = (0..65536u32).map(|i| (i % 251) as u8).collect();
    let mut f = vec![0x82, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00];
    f.extend_from_slice(&body);
    let e = ok(events_with(&mut WsDecoder::new(), &f, 4096));
    match e.as_slice() {
        [WsEvent::Message(m)] => {
            assert_eq!(m.kind, MessageKind::Binary);
            assert_eq!(m.payload, body);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn control_frames_between_fragments() {
    let mut s = frame(0x01, Some([1, 2, 3, 4]), b"Hel");
    s.extend(frame(0x89, Some([5, 6, 7, 8]), b"ping"));
    s.extend(frame(0x00, Some([9, 9, 9, 9]), b"l"));
    s.extend(frame(0x8a, Some([0, 0, 0, 1]), b""));
    s.extend(frame(0x80, Some([4, 3, 2, 1]), b"o"));
    let e = ok(events(&s));
    assert_eq!(
        e,
        vec![
            WsEvent::Ping(b"ping".to_vec()),
            WsEvent::Pong(Vec::new()),
            text(b"Hello", 3, true),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Handshake and SIP over WebSocket.

const REQUEST: &[u8] = b"GET /ws HTTP/1.1\r\n\
Host: proxy.example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: https://www.example.com\r\n\
Sec-WebSocket-Protocol: sip\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

const RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
Sec-WebSocket-Protocol: sip\r\n\r\n";

/// RFC 7118 §A.1: a REGISTER sent by a JavaScript UA over WebSocket.
const REGISTER: &[u8] = b"REGISTER sip:proxy.example.com SIP/2.0\r\n\
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf\r\n\
From: sip:alice@example.com;tag=65bnmj.34asd\r\n\
To: sip:alice@example.com\r\n\
Call-ID: aiuy7k9njasd\r\n\
CSeq: 1 REGISTER\r\n\
Max-Forwards: 70\r\n\
Supported: path, outbound, gruu\r\n\
Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws>\r\n\
  ;reg-id=1\r\n\
  ;+sip.instance=\"<urn:uuid:f81-7dec-14a06cf1>\"\r\n\
Content-Length: 0\r\n\r\n";

const OK_200: &[u8] = b"SIP/2.0 200 OK\r\n\
Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKasudf\r\n\
From: sip:alice@example.com;tag=65bnmj.34asd\r\n\
To: sip:alice@example.com;tag=12isjljn8\r\n\
Call-ID: aiuy7k9njasd\r\n\
CSeq: 1 REGISTER\r\n\
Content-Length: 0\r\n\r\n";

#[test]
fn sip_register_over_websocket_client_side() {
    let mut stream = REQUEST.to_vec();
    stream.extend(frame(0x81, Some([0xa1, 0xb2, 0xc3, 0xd4]), REGISTER));
    let e = ok(events(&stream));
    match &e[..] {
        [WsEvent::Handshake(h), WsEvent::Message(m)] => {
            assert!(h.is_request() && h.is_sip() && h.upgrade_websocket && h.connection_upgrade);
            assert_eq!(
                h.kind,
                HandshakeKind::Request {
                    method: "GET".into(),
                    target: "/ws".into()
                }
            );
            assert_eq!(h.version.as_deref(), Some("13"));
            assert_eq!(h.head_len, REQUEST.len());
            assert_eq!(m.payload, REGISTER);
            assert!(m.masked);
        }
        other => panic!("{other:?}"),
    }
    let mut dec = WsDecoder::new();
    let _ = events_with(&mut dec, &stream, 100);
    assert_eq!(dec.subprotocol_is_sip(), Some(true));
    assert_eq!(dec.role(), Some(Role::Client));
}

#[test]
fn sip_200_over_websocket_server_side() {
    let mut stream = RESPONSE.to_vec();
    stream.extend(frame(0x81, None, OK_200));
    let mut dec = WsDecoder::new();
    let e = ok(events_with(&mut dec, &stream, 5));
    assert!(matches!(&e[0], WsEvent::Handshake(h) if !h.is_request() && h.is_sip()));
    assert_eq!(e[1], text(OK_200, 1, false));
    assert_eq!(dec.subprotocol_is_sip(), Some(true));
    assert_eq!(dec.role(), Some(Role::Server));
}

#[test]
fn negotiated_subprotocol_other_than_sip() {
    let resp = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Protocol: xmpp\r\n\r\n";
    let mut dec = WsDecoder::new();
    let _ = events_with(&mut dec, resp, resp.len());
    assert_eq!(dec.subprotocol_is_sip(), Some(false));
    let mut dec = WsDecoder::new();
    let _ = events_with(&mut dec, &[0x81, 0x00], 2);
    assert_eq!(dec.subprotocol_is_sip(), None, "no handshake seen");
}

#[test]
fn mid_stream_capture_starts_with_frames() {
    let e = ok(events(&frame(0x81, None, OK_200)));
    assert_eq!(e, vec![text(OK_200, 1, false)]);
}

#[test]
fn masking_is_checked_against_the_role() {
    let mut client = REQUEST.to_vec();
    client.extend(frame(0x81, None, b"unmasked"));
    let e = ok(events(&client));
    assert_eq!(e[1], WsEvent::Anomaly(WsAnomaly::UnmaskedClientFrame));
    assert_eq!(e[2], text(b"unmasked", 1, false));

    let mut server = RESPONSE.to_vec();
    server.extend(frame(0x81, Some([1, 1, 1, 1]), b"masked"));
    let e = ok(events(&server));
    assert_eq!(e[1], WsEvent::Anomaly(WsAnomaly::MaskedServerFrame));

    let mut dec = WsDecoder::new();
    dec.set_role(Role::Client);
    let e = ok(events_with(&mut dec, &frame(0x82, None, b"x"), 10));
    assert_eq!(e[0], WsEvent::Anomaly(WsAnomaly::UnmaskedClientFrame));
}

#[test]
fn permessage_deflate_rsv1_is_a_flag_not_an_anomaly() {
    let resp = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n";
    let mut s = resp.to_vec();
    s.extend(frame(
        0xc1,
        None,
        &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
    ));
    let e = ok(events(&s));
    match &e[1] {
        WsEvent::Message(m) => assert!(m.compressed),
        other => panic!("{other:?}"),
    }
    assert_eq!(e.len(), 2);
    // Without the extension RSV1 is an anomaly.
    let e = ok(events(&frame(0xc1, None, b"x")));
    assert_eq!(
        e[0],
        WsEvent::Anomaly(WsAnomaly::RsvBitsSet { bits: 0b100 })
    );
}

// ---------------------------------------------------------------------------------------
// Anomalies (decoding continues).

#[test]
fn non_minimal_lengths_are_flagged() {
    let mut f = vec![0x81, 0x7e, 0x00, 0x05];
    f.extend_from_slice(b"Hello");
    let e = ok(events(&f));
    assert_eq!(
        e,
        vec![
            WsEvent::Anomaly(WsAnomaly::NonMinimalLength {
                len: 5,
                encoding_bits: 16
            }),
            text(b"Hello", 1, false),
        ]
    );
    let mut f = vec![0x81, 0x7f, 0, 0, 0, 0, 0, 0, 0x01, 0x00];
    f.extend_from_slice(&[b'a'; 256]);
    let e = ok(events(&f));
    assert_eq!(
        e[0],
        WsEvent::Anomaly(WsAnomaly::NonMinimalLength {
            len: 256,
            encoding_bits: 64
        })
    );
    assert_eq!(e[1], text(&[b'a'; 256], 1, false));
}

#[test]
fn control_frame_violations() {
    let e = ok(events(&frame(0x09, None, b"frag-ping")));
    assert_eq!(
        e,
        vec![
            WsEvent::Anomaly(WsAnomaly::FragmentedControlFrame { opcode: 9 }),
            WsEvent::Ping(b"frag-ping".to_vec())
        ]
    );
    let e = ok(events(&frame(0x89, None, &[0; 126])));
    assert_eq!(
        e[0],
        WsEvent::Anomaly(WsAnomaly::ControlFrameTooLong {
            opcode: 9,
            len: 126
        })
    );
}

#[test]
fn reserved_opcodes_are_skipped() {
    let mut s = frame(0x83, None, b"op3");
    s.extend(frame(0x8b, None, b"op11"));
    s.extend(frame(0x81, None, b"after"));
    let e = ok(events(&s));
    assert_eq!(
        e,
        vec![
            WsEvent::Anomaly(WsAnomaly::ReservedOpcode { opcode: 3 }),
            WsEvent::Anomaly(WsAnomaly::ReservedOpcode { opcode: 0xb }),
            text(b"after", 1, false),
        ]
    );
}

#[test]
fn fragmentation_violations() {
    // Continuation without a start.
    let e = ok(events(&frame(0x80, None, b"orphan")));
    assert_eq!(e, vec![WsEvent::Anomaly(WsAnomaly::UnexpectedContinuation)]);
    // A new message interrupts an unfinished one.
    let mut s = frame(0x01, None, b"first-");
    s.extend(frame(0x81, None, b"second"));
    let e = ok(events(&s));
    assert_eq!(
        e,
        vec![
            WsEvent::Anomaly(WsAnomaly::InterruptedMessage),
            text(b"second", 1, false)
        ]
    );
}

#[test]
fn message_cap_drops_the_message_and_continues() {
    let limits = WsLimits {
        max_frame_payload: 100,
        max_message: 150,
        max_handshake: 1024,
    };
    let mut s = frame(0x01, None, &[b'a'; 100]);
    s.extend(frame(0x00, None, &[b'b'; 100])); // 200 > 150: dropped
    s.extend(frame(0x80, None, &[b'c'; 10])); // rest of the dropped message: ignored
    s.extend(frame(0x81, None, b"next"));
    let mut dec = WsDecoder::with_limits(limits);
    let e = ok(events_with(&mut dec, &s, 33));
    assert_eq!(
        e,
        vec![
            WsEvent::Anomaly(WsAnomaly::MessageTooLarge { len: 200, cap: 150 }),
            text(b"next", 1, false)
        ]
    );
}

#[test]
fn invalid_utf8_text_is_flagged_but_delivered() {
    let e = ok(events(&frame(0x81, None, b"\xff\xfe")));
    assert_eq!(e[0], WsEvent::Anomaly(WsAnomaly::InvalidUtf8));
    assert_eq!(e[1], text(b"\xff\xfe", 1, false));
}

#[test]
fn close_frames() {
    let mut s = frame(0x88, None, &[0x03, 0xe8, b'b', b'y', b'e']);
    s.extend(frame(0x81, None, b"late"));
    let e = ok(events(&s));
    assert_eq!(
        e,
        vec![
            WsEvent::Close(CloseFrame {
                code: Some(1000),
                reason: b"bye".to_vec()
            }),
            WsEvent::Anomaly(WsAnomaly::DataAfterClose),
            text(b"late", 1, false),
        ]
    );
    let e = ok(events(&frame(0x88, None, &[])));
    assert_eq!(
        e,
        vec![WsEvent::Close(CloseFrame {
            code: None,
            reason: vec![]
        })]
    );
    let e = ok(events(&frame(0x88, None, &[0x03])));
    assert_eq!(e[0], WsEvent::Anomaly(WsAnomaly::InvalidClosePayload));
    let e = ok(events(&frame(0x88, None, &1005u16.to_be_bytes())));
    assert_eq!(
        e[0],
        WsEvent::Anomaly(WsAnomaly::InvalidCloseCode { code: 1005 })
    );
}

// ---------------------------------------------------------------------------------------
// Fatal errors.

#[test]
fn oversized_frame_is_fatal() {
    let mut f = vec![0x82, 0x7f];
    f.extend_from_slice(&((1u64 << 20) + 1).to_be_bytes());
    let mut dec = WsDecoder::new();
    let e = events_with(&mut dec, &f, f.len());
    assert_eq!(
        e,
        vec![Err(WsError::FrameTooLarge {
            len: (1 << 20) + 1,
            cap: 1 << 20
        })]
    );
    assert!(dec.is_failed());
    // Everything after is ignored, and taken so the caller does not spin.
    assert_eq!(dec.push(b"\x81\x05Hello"), 7);
    assert!(dec.next_event().is_none());
    assert_eq!(dec.buffered(), 0);
}

#[test]
fn length_with_msb_set_is_fatal() {
    let f = [0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 1];
    assert_eq!(
        events(&f),
        vec![Err(WsError::Length64MsbSet {
            len: 0x8000_0000_0000_0001
        })]
    );
}

#[test]
fn handshake_failures_are_fatal() {
    let refused = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n\x81\x00";
    let mut dec = WsDecoder::new();
    assert_eq!(
        events_with(&mut dec, refused, 4),
        vec![Err(WsError::HandshakeRejected { status: 403 })]
    );
    assert!(
        dec.handshake().is_some(),
        "the refused head is still inspectable"
    );

    let plain_get = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_eq!(events(plain_get), vec![Err(WsError::NotAnUpgrade)]);

    let malformed = b"GET /only-two-parts\r\n\r\n";
    assert!(matches!(
        &events(malformed)[..],
        [Err(WsError::MalformedHandshake { .. })]
    ));

    let endless = [
        b"GET / HTTP/1.1\r\n".as_slice(),
        &b"X-Pad: aaaaaaaaaaaaaaaa\r\n".repeat(2000),
    ]
    .concat();
    let mut dec = WsDecoder::new();
    assert_eq!(
        events_with(&mut dec, &endless, 1000),
        vec![Err(WsError::HandshakeTooLarge { cap: 16 * 1024 })]
    );
}

#[test]
fn buffer_is_bounded_by_the_frame_cap() {
    let limits = WsLimits {
        max_frame_payload: 1000,
        max_message: 5000,
        max_handshake: 500,
    };
    let mut dec = WsDecoder::with_limits(limits);
    assert_eq!(dec.buffer_cap(), 1014);
    let stream: Vec<u8> = frame(0x82, None, &[7; 1000]).repeat(20);
    let first = dec.push(&stream);
    assert_eq!(first, 1014);
    let e = ok(events_with(
        &mut WsDecoder::with_limits(limits),
        &stream,
        stream.len(),
    ));
    assert_eq!(e.len(), 20);
}

#[test]
fn header_lines_without_colon_are_an_anomaly_not_an_error() {
    let mut s = b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nthis line has no colon\r\n\
Sec-WebSocket-Protocol: sip\r\n\r\n"
        .to_vec();
    s.extend(frame(
        0x81,
        Some([1, 2, 3, 4]),
        b"OPTIONS sip:x SIP/2.0\r\n\r\n",
    ));
    let e = ok(events(&s));
    assert!(matches!(&e[0], WsEvent::Handshake(h) if h.malformed_lines == 1 && h.is_sip()));
    assert_eq!(
        e[1],
        WsEvent::Anomaly(WsAnomaly::MalformedHeaderLines { count: 1 })
    );
    assert_eq!(e[2], text(b"OPTIONS sip:x SIP/2.0\r\n\r\n", 1, true));
}

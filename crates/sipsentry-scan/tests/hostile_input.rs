//! No panics on any input: everything that parses bytes from the network (responses into a
//! transaction, ServerHellos, WebSocket frames and handshakes, HTTP answers, banners,
//! certificates, reflected requests) is fed arbitrary bytes.

use proptest::prelude::*;
use sipsentry_scan::msg::{Request, Response, Transport};
use sipsentry_scan::txn::{ClientTransaction, Timers};
use sipsentry_scan::{alg, fingerprint, mgmt, tls, ws};
use std::time::{Duration, Instant};

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn network_parsers_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = tls::parse_answer(&data);
        let _ = ws::decode_frame(&data);
        let _ = ws::check_handshake(&data, "dGhlIHNhbXBsZSBub25jZQ==");
        if let Some(r) = mgmt::parse_http(&data) { let _ = r.title(); }
        let _ = tls::analyse_cert(&data, "pbx.example.com", 0);
        let text = String::from_utf8_lossy(&data);
        let _ = fingerprint::parse_banner(&text);
        let _ = fingerprint::tag_shape(&text);
        let _ = sipsentry_scan::checks::private_ips(&text);
        let _ = alg::reflect_response(&data, "127.0.0.1:1".parse().unwrap(), "127.0.0.1:2".parse().unwrap(), Transport::Udp);
        let _ = alg::diff(&data, &data[data.len() / 2..]);
    }

    #[test]
    fn transactions_absorb_anything(data in proptest::collection::vec(any::<u8>(), 0..2048), invite in any::<bool>()) {
        let t0 = Instant::now();
        let req = Request::new(if invite { "INVITE" } else { "OPTIONS" }, "sip:1@127.0.0.1", "127.0.0.1:5060".parse().unwrap(), Transport::Udp, "t");
        let mut t = ClientTransaction::new(req.clone(), t0, Timers::default(), false);
        t.handle_input(t0, &data);
        // A response with our branch but a hostile remainder.
        let mut framed = format!("SIP/2.0 183 x\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch={}\r\nCSeq: 1 {}\r\nTo: ", req.branch, req.method).into_bytes();
        framed.extend_from_slice(&data);
        t.handle_input(t0, &framed);
        while t.poll_transmit().is_some() {}
        while t.poll_event().is_some() {}
        t.handle_timeout(t0 + Duration::from_secs(100));
        prop_assert!(t.poll_timeout().is_none() || !t.is_terminated());
        if let Some(r) = Response::from_message(&sipsentry_sip::Message::parse(&framed)) {
            let _ = fingerprint::fingerprint(&[&r]);
            let _ = r.to_tag();
            let _ = r.contact_uri();
        }
    }
}

/// Regression: a chunk size near `usize::MAX` in a hostile HTTP banner overflowed
/// `start + size` in the de-chunker (panic in debug, out-of-order slice panic in release).
#[test]
fn http_chunk_size_overflow_does_not_panic() {
    let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n<title>x</title>\r\n0\r\n\r\n";
    let r = mgmt::parse_http(raw).expect("parsed");
    assert_eq!(r.status, 200);
    assert_eq!(r.title().as_deref(), Some("x"));
}

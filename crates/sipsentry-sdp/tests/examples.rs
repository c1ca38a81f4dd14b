//! RFC examples and the detector-facing scenarios.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use sipsentry_sdp::{
    AddressSource, AnomalyKind, CryptoSuite, Direction, Lifetime, ParseError, Proto, Session,
    SessionParam, Text,
};

fn ids(s: &Session<'_>) -> Vec<&'static str> {
    s.anomalies().iter().map(|a| a.id()).collect()
}

const RFC8866_EXAMPLE: &[u8] = b"v=0\r\n\
o=jdoe 3724394400 3724394405 IN IP4 198.51.100.1\r\n\
s=Call to John Smith\r\n\
i=SDP Offer #1\r\n\
u=http://www.jdoe.example.com/home.html\r\n\
e=Jane Doe <jane@jdoe.example.com>\r\n\
p=+1 617 555-6011\r\n\
c=IN IP4 198.51.100.1\r\n\
t=0 0\r\n\
m=audio 49170 RTP/AVP 0\r\n\
m=audio 49180 RTP/AVP 0\r\n\
m=video 51372 RTP/AVP 99\r\n\
c=IN IP6 2001:db8::2\r\n\
a=rtpmap:99 h263-1998/90000\r\n";

#[test]
fn rfc8866_section5_example() {
    let s = Session::parse(RFC8866_EXAMPLE).unwrap();
    assert!(s.anomalies().is_empty(), "{:?}", s.anomalies());
    assert_eq!(s.version().unwrap(), "0");
    let o = s.origin().unwrap();
    assert_eq!(o.username, "jdoe");
    assert_eq!(o.sess_id, "3724394400");
    assert_eq!(o.sess_version_num(), Some(3724394405));
    assert_eq!((o.net_type, o.addr_type), ("IN".into(), "IP4".into()));
    assert_eq!(o.ip, Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1))));
    assert_eq!(s.name().unwrap(), "Call to John Smith");
    assert_eq!(s.information().unwrap(), "SDP Offer #1");
    assert_eq!(s.uri().unwrap(), "http://www.jdoe.example.com/home.html");
    assert_eq!(s.emails()[0], "Jane Doe <jane@jdoe.example.com>");
    assert_eq!(s.phones()[0], "+1 617 555-6011");
    assert_eq!(s.timings()[0].start, Some(0));
    assert_eq!(s.timings()[0].stop, Some(0));

    let media: Vec<_> = s.media().collect();
    assert_eq!(media.len(), 3);
    assert_eq!(media[0].media_type(), "audio");
    assert_eq!(media[0].port(), Some(49170));
    assert_eq!(media[0].proto(), Proto::RtpAvp);
    assert_eq!(media[0].formats()[0], "0");
    assert_eq!(
        media[0].effective_connection().unwrap().ip,
        Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)))
    );
    // IPv6 media-level c= overrides the session one.
    let v6: Ipv6Addr = "2001:db8::2".parse().unwrap();
    assert_eq!(
        media[2].effective_connection().unwrap().ip,
        Some(IpAddr::V6(v6))
    );
    assert_eq!(media[2].effective_connection().unwrap().addr_type, "IP6");
    let rtpmap = media[2].attribute("rtpmap").unwrap();
    assert_eq!(rtpmap.value.unwrap(), "99 h263-1998/90000");
    assert_eq!(media[2].effective_direction(), Direction::SendRecv);

    assert!(s.offers_only_plain_rtp());
    assert!(!s.has_sdes_keys());
    assert_eq!(
        s.connection_addresses(),
        vec![IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)), IpAddr::V6(v6)]
    );
    assert_eq!(s.ip_addresses()[0].0, AddressSource::Origin);
    assert_eq!(
        s.ip_addresses()[2],
        (AddressSource::Media(2), IpAddr::V6(v6))
    );
    // Zero-copy: fields point into the body.
    let name = s.name().unwrap().as_bytes();
    let base = RFC8866_EXAMPLE.as_ptr() as usize;
    assert!(name.as_ptr() as usize > base);
}

#[test]
fn rfc4568_section4_example() {
    let body = b"v=0\r\no=sam 2890844526 2890842807 IN IP4 10.47.16.5\r\ns=SRTP Discussion\r\n\
i=A discussion of Secure RTP\r\nu=http://www.example.com/seminars/srtp.pdf\r\n\
e=marge@example.com (Marge Simpson)\r\nc=IN IP4 168.2.17.12\r\nt=2873397496 2873404696\r\n\
m=audio 49170 RTP/SAVP 0\r\n\
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32\r\n";
    let s = Session::parse(body).unwrap();
    assert!(s.anomalies().is_empty(), "{:?}", s.anomalies());
    let m = s.media().next().unwrap();
    assert!(m.is_srtp() && m.has_sdes_keys());
    let c = &m.media().crypto()[0];
    assert_eq!(c.tag, Some(1));
    assert_eq!(c.suite, CryptoSuite::AesCm128HmacSha1_80);
    assert_eq!(c.suite.key_salt_len(), Some(30));
    let k = &c.key_params[0];
    assert_eq!(k.decoded_len, Some(30));
    assert!(c.key_lengths_ok());
    assert_eq!(k.lifetime, Some(Lifetime::PowerOfTwo(20)));
    let mki = k.mki.unwrap();
    assert_eq!((mki.value, mki.length), (Some(1), 32));
    assert_eq!(
        &body[k.key_salt.span()],
        b"PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"
    );
    assert!(s.has_sdes_keys());
    assert!(!s.offers_only_plain_rtp());
}

#[test]
fn wrong_length_key_is_flagged_with_span() {
    // 32 bytes of key: right for AES_256 without salt, wrong for AES_CM_128 (30).
    let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let body = format!(
        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
m=audio 5004 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{key}\r\n"
    );
    let s = Session::parse(body.as_bytes()).unwrap();
    assert_eq!(ids(&s), ["sdp-crypto-key-length"]);
    let a = &s.anomalies()[0];
    assert_eq!(&body[a.span.clone()], key);
    assert!(a.kind.is_security_relevant());
    let c = &s.media_sections()[0].crypto()[0];
    assert_eq!(c.key_params[0].decoded_len, Some(32));
    assert!(!c.key_lengths_ok());
}

#[test]
fn sdes_in_savp_with_weakening_params() {
    let body = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
m=audio 5004 RTP/SAVP 0 8\r\n\
a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLQ|2^31 UNENCRYPTED_SRTP UNAUTHENTICATED_SRTP\r\n\
a=crypto:2 AEAD_AES_128_GCM inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGw== KDR=2\r\n\
a=sendrecv\r\n";
    let s = Session::parse(body).unwrap();
    assert_eq!(
        ids(&s),
        [
            "sdp-crypto-unencrypted-srtp",
            "sdp-crypto-unauthenticated-srtp"
        ]
    );
    let m = s.media_sections()[0].clone();
    assert_eq!(m.crypto().len(), 2);
    assert_eq!(m.crypto()[0].key_params[0].decoded_len, Some(46));
    assert!(m.crypto()[0].weakens_protection());
    assert_eq!(m.crypto()[1].suite, CryptoSuite::AeadAes128Gcm);
    assert_eq!(m.crypto()[1].key_params[0].decoded_len, Some(28));
    assert_eq!(
        m.crypto()[1].session_params,
        vec![SessionParam::Kdr(Some(2))]
    );
    assert_eq!(m.direction(), Some(Direction::SendRecv));
}

#[test]
fn dtls_srtp_with_fingerprint() {
    let body = b"v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
a=group:BUNDLE 0\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n\
a=fingerprint:sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2\r\n\
a=setup:actpass\r\na=rtpmap:111 opus/48000/2\r\n";
    let s = Session::parse(body).unwrap();
    assert!(s.anomalies().is_empty(), "{:?}", s.anomalies());
    let m = s.media().next().unwrap();
    assert_eq!(m.proto(), Proto::UdpTlsRtpSavpf);
    assert!(m.proto().is_encrypted() && m.proto().is_dtls() && m.is_srtp());
    assert!(m.has_fingerprint());
    assert_eq!(m.attribute("setup").unwrap().value.unwrap(), "actpass");
    assert!(m
        .attribute("fingerprint")
        .unwrap()
        .value
        .unwrap()
        .as_str()
        .unwrap()
        .starts_with("sha-256 "));
    assert!(m.effective_connection().unwrap().is_unspecified());
    assert!(!s.has_sdes_keys() && !s.offers_only_plain_rtp());

    // Without the fingerprint the DTLS peer is unauthenticated.
    let stripped: Vec<u8> = String::from_utf8_lossy(body)
        .lines()
        .filter(|l| !l.starts_with("a=fingerprint"))
        .flat_map(|l| format!("{l}\r\n").into_bytes())
        .collect();
    let s = Session::parse(&stripped).unwrap();
    assert_eq!(ids(&s), ["sdp-dtls-missing-fingerprint"]);
}

#[test]
fn rfc4475_wsinv_body() {
    let body = b"v=0\r\no=mhandley 29739 7272939 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\nm=audio 49217 RTP/AVP 0 12\r\nm=video 3227 RTP/AVP 31\r\na=rtpmap:31 LPC\r\n";
    let s = Session::parse(body).unwrap();
    assert!(s.anomalies().is_empty(), "{:?}", s.anomalies());
    assert_eq!(s.origin().unwrap().username, "mhandley");
    assert_eq!(s.media_count(), 2);
    let m: Vec<_> = s.media().collect();
    assert_eq!(m[0].formats(), [Text::from("0"), Text::from("12")]);
    assert_eq!(m[1].media_type(), "video");
    assert_eq!(m[1].port(), Some(3227));
    assert_eq!(m[1].attributes()[0].name, "rtpmap");
    assert_eq!(m[1].attributes()[0].value.unwrap(), "31 LPC");
    assert!(s.offers_only_plain_rtp());
    assert_eq!(
        s.connection_addresses(),
        vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2))]
    );
}

#[test]
fn ipv6_connection() {
    let body = b"v=0\r\no=- 1 1 IN IP6 fe80::1\r\ns=-\r\nc=IN IP6 2001:db8::1\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\nc=IN IP6 ff1e::1/2\r\n";
    let s = Session::parse(body).unwrap();
    assert!(s.anomalies().is_empty(), "{:?}", s.anomalies());
    let c = s.connection().unwrap();
    assert_eq!(c.ip, Some("2001:db8::1".parse().unwrap()));
    let mc = &s.media_sections()[0].connections()[0];
    assert!(mc.is_multicast());
    assert_eq!((mc.ttl, mc.num_addresses), (None, Some(2)));
    assert_eq!(s.origin().unwrap().ip, Some("fe80::1".parse().unwrap()));
    // IP6 with an IPv4 literal, and a scoped address, are flagged.
    let s = Session::parse(
        b"v=0\r\nc=IN IP6 192.0.2.1\r\nm=audio 1 RTP/AVP 0\r\nc=IN IP6 fe80::1%eth0\r\n",
    )
    .unwrap();
    assert!(s.has_anomaly(AnomalyKind::AddrTypeMismatch));
    assert!(s.has_anomaly(AnomalyKind::BadAddress));
}

#[test]
fn garbage_input() {
    assert_eq!(Session::parse(b""), Err(ParseError::Empty));
    assert_eq!(Session::parse(b"\r\n\r\n"), Err(ParseError::Empty));
    assert_eq!(
        Session::parse(b"\xde\xad\xbe\xef\x00\x01"),
        Err(ParseError::NotSdp)
    );
    assert_eq!(
        Session::parse(b"<html><body>hi</body></html>"),
        Err(ParseError::NotSdp)
    );
    assert_eq!(ParseError::NotSdp.to_string(), "not an SDP body");
    // SDP-looking garbage parses with anomalies, never panics.
    let s = Session::parse(
        b"v=1\r\nm=\r\na=\r\nc=\r\nb=\r\nt=\r\nr=\r\nz=\r\nk=\r\no=\r\n=\r\nX=y\r\n",
    )
    .unwrap();
    for k in [
        "sdp-bad-version",
        "sdp-bad-media",
        "sdp-bad-attribute",
        "sdp-bad-connection",
        "sdp-bad-bandwidth",
        "sdp-bad-timing",
        "sdp-key-field",
        "sdp-bad-origin",
        "sdp-bad-line",
        "sdp-unknown-line",
    ] {
        assert!(ids(&s).contains(&k), "{k} missing from {:?}", ids(&s));
    }
}

#[test]
fn plain_rtp_and_srtp_detection() {
    let plain = b"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 1 RTP/AVP 0\r\nm=image 2 udptl t38\r\nm=video 0 RTP/SAVP 31\r\n";
    let s = Session::parse(plain).unwrap();
    assert!(s.offers_only_plain_rtp());
    let none = b"v=0\r\nm=image 2 udptl t38\r\n";
    assert!(!Session::parse(none).unwrap().offers_only_plain_rtp());
    // SAVP without any keying.
    let s = Session::parse(b"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 1 RTP/SAVP 0\r\n").unwrap();
    assert!(s.has_anomaly(AnomalyKind::SrtpWithoutKeying));
    // Crypto on plain RTP: keys exposed for nothing.
    let s = Session::parse(b"v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 1 RTP/AVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\na=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n").unwrap();
    assert!(s.has_anomaly(AnomalyKind::CryptoNonSrtpProfile));
    assert!(s.has_anomaly(AnomalyKind::CryptoDuplicateTag));
    assert!(!s.offers_only_plain_rtp());
}

#[test]
fn session_level_crypto_is_flagged() {
    let s = Session::parse(b"v=0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n").unwrap();
    assert!(s.has_anomaly(AnomalyKind::CryptoSessionLevel));
    assert_eq!(s.crypto().len(), 1);
    assert!(s.has_sdes_keys());
}

#[test]
fn bare_lf_is_tolerated() {
    let body =
        b"v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 1 RTP/AVP 0\n";
    let s = Session::parse(body).unwrap();
    assert!(s.anomalies().iter().all(|a| a.kind == AnomalyKind::BareLf));
    assert_eq!(s.anomalies().len(), 6);
    assert_eq!(s.media_count(), 1);
}

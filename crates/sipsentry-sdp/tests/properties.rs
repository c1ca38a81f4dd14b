//! Property tests: the parser never panics and keeps its invariants on arbitrary input, and
//! typed fields survive a generate → text → parse round trip.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine as _;
use proptest::prelude::*;
use sipsentry_sdp::{
    fuzz_parse, AnomalyKind, CryptoSuite, Direction, Lifetime, Proto, Session, Severity,
};

proptest! {
    // PROPTEST_CASES raises the count for a longer local soak.
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        fuzz_parse(&data);
    }

    #[test]
    fn never_panics_on_sdp_shaped_noise(lines in proptest::collection::vec(sdp_ish_line(), 0..60), lf in any::<bool>()) {
        let eol = if lf { "\n" } else { "\r\n" };
        let body = lines.join(eol);
        fuzz_parse(body.as_bytes());
    }

    #[test]
    fn never_panics_on_mutated_valid_sdp(model in model(), edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8)) {
        let mut body = model.render().into_bytes();
        for (idx, byte, op) in edits {
            if body.is_empty() { break; }
            let i = idx.index(body.len());
            match op {
                0 => body[i] = byte,
                1 => body.insert(i, byte),
                _ => { body.remove(i); }
            }
        }
        fuzz_parse(&body);
    }

    #[test]
    fn generated_sdp_round_trips(model in model()) {
        let text = model.render();
        fuzz_parse(text.as_bytes());
        let s = Session::parse(text.as_bytes()).unwrap();
        for a in s.anomalies() {
            prop_assert!(a.kind.severity() != Severity::Malformed, "{} in\n{}", a, text);
            prop_assert!(
                matches!(a.kind, AnomalyKind::SrtpWithoutKeying | AnomalyKind::CryptoNonSrtpProfile
                    | AnomalyKind::CryptoWithDtls | AnomalyKind::DtlsMissingFingerprint
                    | AnomalyKind::CryptoDuplicateTag | AnomalyKind::KeyField),
                "{} in\n{}", a, text
            );
        }
        let o = s.origin().unwrap();
        prop_assert_eq!(o.username.as_str(), Some(model.username.as_str()));
        prop_assert_eq!(o.sess_id.as_str().unwrap().parse::<u64>().ok(), Some(model.sess_id));
        prop_assert_eq!(o.sess_version_num(), Some(model.sess_version));
        prop_assert_eq!(o.ip, Some(model.origin_ip));
        prop_assert_eq!(s.name().unwrap().as_str(), Some(model.name.as_str()));
        prop_assert_eq!(s.connection().map(|c| c.ip), model.conn.map(Some));
        prop_assert_eq!(s.timings()[0].start, Some(model.timing.0));
        prop_assert_eq!(s.timings()[0].stop, Some(model.timing.1));
        prop_assert_eq!(s.direction(), model.direction);
        prop_assert_eq!(s.attributes().len(), model.attrs.len() + usize::from(model.direction.is_some()));
        for (a, (n, v)) in s.attributes().iter().zip(&model.attrs) {
            prop_assert_eq!(a.name.as_str(), Some(n.as_str()));
            prop_assert_eq!(a.value.map(|v| v.as_str().unwrap().to_string()), v.clone());
        }
        prop_assert_eq!(s.media_count(), model.media.len());
        let mut any_key = false;
        for (m, mm) in s.media().zip(&model.media) {
            prop_assert_eq!(m.media_type().as_str(), Some(mm.mtype));
            prop_assert_eq!(m.port(), Some(mm.port));
            prop_assert_eq!(m.proto(), Proto::parse(mm.proto.as_bytes()));
            prop_assert_eq!(m.proto().as_str(), mm.proto);
            let fmts: Vec<String> = m.formats().iter().map(|f| f.to_string()).collect();
            let want: Vec<String> = mm.fmts.iter().map(|f| f.to_string()).collect();
            prop_assert_eq!(fmts, want);
            prop_assert_eq!(m.connections().first().map(|c| c.ip), mm.conn.map(Some));
            prop_assert_eq!(m.effective_connection().and_then(|c| c.ip), mm.conn.or(model.conn));
            prop_assert_eq!(m.direction(), mm.direction);
            prop_assert_eq!(m.effective_direction(), mm.direction.or(model.direction).unwrap_or(Direction::SendRecv));
            prop_assert_eq!(m.crypto().len(), mm.crypto.len());
            for (c, cm) in m.media().crypto().iter().zip(&mm.crypto) {
                prop_assert_eq!(c.tag, Some(cm.tag));
                prop_assert_eq!(c.suite, CryptoSuite::from_name(cm.suite.as_bytes()));
                prop_assert!(c.key_lengths_ok());
                prop_assert_eq!(c.key_params.len(), cm.keys.len());
                for (k, km) in c.key_params.iter().zip(&cm.keys) {
                    any_key = true;
                    let b64 = km.b64();
                    prop_assert_eq!(k.key_salt.expose(), b64.as_bytes());
                    let decoded = k.decode_key_salt().unwrap();
                    prop_assert_eq!(decoded.expose(), km.key.as_slice());
                    prop_assert_eq!(k.decoded_len, Some(km.key.len()));
                    prop_assert_eq!(k.lifetime, km.lifetime);
                    prop_assert_eq!(k.mki.map(|m| (m.value, m.length)), km.mki.map(|(v, l)| (Some(u128::from(v)), l)));
                }
            }
        }
        prop_assert_eq!(s.has_sdes_keys(), any_key);
        prop_assert_eq!(sipsentry_sdp::contains_sdes_keys(text.as_bytes()), any_key);
        let plain = model.media.iter().any(|m| m.port != 0 && m.proto.contains("RTP"))
            && model.media.iter().filter(|m| m.port != 0 && m.proto.contains("RTP"))
                .all(|m| !m.proto.contains("SAVP") && m.crypto.is_empty());
        prop_assert_eq!(s.offers_only_plain_rtp(), plain);
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

fn sdp_ish_line() -> impl Strategy<Value = String> {
    let prefix = prop::sample::select(vec![
        "v=",
        "o=",
        "s=",
        "i=",
        "u=",
        "e=",
        "p=",
        "c=",
        "b=",
        "t=",
        "r=",
        "z=",
        "k=",
        "a=",
        "m=",
        "a=crypto:",
        "a=acap:1 crypto:",
        "a=sendonly",
        "a=fingerprint:",
        "a=tcap:1 ",
        "x=",
        "",
    ]);
    let token = prop::sample::select(vec![
        "0",
        "1",
        "IN",
        "IP4",
        "IP6",
        "192.0.2.1",
        "::1",
        "224.1.1.1/127/3",
        "ff0e::1/2",
        "audio",
        "RTP/AVP",
        "RTP/SAVP",
        "UDP/TLS/RTP/SAVPF",
        "udptl",
        "AES_CM_128_HMAC_SHA1_80",
        "AEAD_AES_256_GCM",
        "NULL_HMAC_SHA1_80",
        "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32",
        "inline:AAAA;inline:BB|1:4",
        "inline:",
        "|",
        ";",
        ":",
        "/",
        "2^99",
        "KDR=3",
        "UNENCRYPTED_SRTP",
        "FEC_KEY=inline:Zm9v",
        "WSH=64",
        "clear:secret",
        "7d",
        "-1h",
        "CT:64",
        "  ",
        "\t",
        "\r",
        "\0",
        "<redacted>",
        "99999999999999999999999",
        "é",
    ]);
    (prefix, proptest::collection::vec(token, 0..6))
        .prop_map(|(p, t)| format!("{p}{}", t.join(" ")))
}

#[derive(Clone, Debug)]
struct KeyModel {
    key: Vec<u8>,
    lifetime: Option<Lifetime>,
    mki: Option<(u32, u8)>,
    pad: bool,
}

impl KeyModel {
    fn b64(&self) -> String {
        let s = base64::engine::general_purpose::STANDARD.encode(&self.key);
        if self.pad {
            s
        } else {
            s.trim_end_matches('=').to_string()
        }
    }
}

#[derive(Clone, Debug)]
struct CryptoModel {
    tag: u32,
    suite: &'static str,
    keys: Vec<KeyModel>,
    kdr: Option<u8>,
}

#[derive(Clone, Debug)]
struct MediaModel {
    mtype: &'static str,
    port: u16,
    proto: &'static str,
    fmts: Vec<u8>,
    conn: Option<IpAddr>,
    direction: Option<Direction>,
    crypto: Vec<CryptoModel>,
}

#[derive(Clone, Debug)]
struct Model {
    username: String,
    sess_id: u64,
    sess_version: u64,
    origin_ip: IpAddr,
    name: String,
    conn: Option<IpAddr>,
    timing: (u64, u64),
    direction: Option<Direction>,
    attrs: Vec<(String, Option<String>)>,
    media: Vec<MediaModel>,
}

const SUITES: &[(&str, usize)] = &[
    ("AES_CM_128_HMAC_SHA1_80", 30),
    ("AES_CM_128_HMAC_SHA1_32", 30),
    ("F8_128_HMAC_SHA1_80", 30),
    ("AES_192_CM_HMAC_SHA1_80", 38),
    ("AES_192_CM_HMAC_SHA1_32", 38),
    ("AES_256_CM_HMAC_SHA1_80", 46),
    ("AES_256_CM_HMAC_SHA1_32", 46),
    ("AEAD_AES_128_GCM", 28),
    ("AEAD_AES_256_GCM", 44),
];

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>()
            .prop_map(|o| IpAddr::V4(Ipv4Addr::from(o)))
            .prop_filter("unicast", |ip| !ip.is_multicast()),
        any::<[u8; 16]>()
            .prop_map(|o| IpAddr::V6(Ipv6Addr::from(o)))
            .prop_filter("unicast", |ip| !ip.is_multicast()),
    ]
}

fn direction() -> impl Strategy<Value = Option<Direction>> {
    prop::option::of(prop::sample::select(vec![
        Direction::SendRecv,
        Direction::SendOnly,
        Direction::RecvOnly,
        Direction::Inactive,
    ]))
}

fn crypto() -> impl Strategy<Value = CryptoModel> {
    (
        1u32..=999_999_999,
        0..SUITES.len(),
        1usize..=3,
        1u8..=4,
        prop::option::of(0u8..=24),
    )
        .prop_flat_map(|(tag, si, nkeys, mki_len, kdr)| {
            let (suite, len) = SUITES[si];
            let key = (
                proptest::collection::vec(any::<u8>(), len),
                prop::option::of(prop_oneof![
                    (1u8..=48).prop_map(Lifetime::PowerOfTwo),
                    (1u64..=1 << 31).prop_map(Lifetime::Packets),
                ]),
                0u32..(1 << (8 * u32::from(mki_len.min(3)))),
                any::<bool>(),
                any::<bool>(),
            )
                .prop_map(move |(key, lifetime, mki_val, with_mki, pad)| KeyModel {
                    key,
                    lifetime,
                    mki: (with_mki || nkeys > 1).then_some((mki_val, mki_len)),
                    pad,
                });
            proptest::collection::vec(key, nkeys).prop_map(move |keys| CryptoModel {
                tag,
                suite,
                keys,
                kdr,
            })
        })
}

fn media() -> impl Strategy<Value = MediaModel> {
    (
        prop::sample::select(vec!["audio", "video", "text", "application", "image"]),
        any::<u16>(),
        prop::sample::select(vec![
            "RTP/AVP",
            "RTP/AVPF",
            "RTP/SAVP",
            "RTP/SAVPF",
            "UDP/TLS/RTP/SAVP",
            "UDP/TLS/RTP/SAVPF",
            "udptl",
            "TCP/MRCPv2",
        ]),
        proptest::collection::vec(0u8..=127, 1..5),
        prop::option::of(ip()),
        direction(),
        proptest::collection::vec(crypto(), 0..3),
    )
        .prop_map(
            |(mtype, port, proto, fmts, conn, direction, crypto)| MediaModel {
                mtype,
                port,
                proto,
                fmts,
                conn,
                direction,
                crypto,
            },
        )
}

fn model() -> impl Strategy<Value = Model> {
    (
        prop_oneof![Just("-".to_string()), "[a-z][a-z0-9]{0,10}"],
        any::<u64>(),
        any::<u64>(),
        ip(),
        "[A-Za-z0-9][ -~]{0,30}"
            .prop_filter("no inline", |s| !s.to_ascii_lowercase().contains("inline:")),
        prop::option::of(ip()),
        (0u64..=u64::from(u32::MAX))
            .prop_flat_map(|a| (Just(a), prop_oneof![Just(0u64), a..=u64::from(u32::MAX)])),
        direction(),
        proptest::collection::vec(
            (
                "x-[a-z]{1,8}",
                prop::option::of(
                    "[ -~]{0,20}"
                        .prop_filter("no inline", |s| !s.to_ascii_lowercase().contains("inline:")),
                ),
            ),
            0..4,
        ),
        proptest::collection::vec(media(), 0..5),
    )
        .prop_map(
            |(
                username,
                sess_id,
                sess_version,
                origin_ip,
                name,
                conn,
                timing,
                direction,
                attrs,
                mut media,
            )| {
                if conn.is_none() {
                    // Every media section needs a connection somewhere.
                    for m in &mut media {
                        m.conn
                            .get_or_insert(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9)));
                    }
                }
                Model {
                    username,
                    sess_id,
                    sess_version,
                    origin_ip,
                    name,
                    conn,
                    timing,
                    direction,
                    attrs,
                    media,
                }
            },
        )
}

fn c_line(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("c=IN IP4 {v4}\r\n"),
        IpAddr::V6(v6) => format!("c=IN IP6 {v6}\r\n"),
    }
}

impl Model {
    fn render(&self) -> String {
        let fam = |ip: &IpAddr| if ip.is_ipv4() { "IP4" } else { "IP6" };
        let mut s = format!(
            "v=0\r\no={} {} {} IN {} {}\r\ns={}\r\n",
            self.username,
            self.sess_id,
            self.sess_version,
            fam(&self.origin_ip),
            self.origin_ip,
            self.name
        );
        if let Some(c) = self.conn {
            s += &c_line(c);
        }
        s += &format!("t={} {}\r\n", self.timing.0, self.timing.1);
        for (n, v) in &self.attrs {
            match v {
                Some(v) => s += &format!("a={n}:{v}\r\n"),
                None => s += &format!("a={n}\r\n"),
            }
        }
        if let Some(d) = self.direction {
            s += &format!("a={}\r\n", d.as_str());
        }
        for m in &self.media {
            let fmts: Vec<String> = m.fmts.iter().map(|f| f.to_string()).collect();
            s += &format!(
                "m={} {} {} {}\r\n",
                m.mtype,
                m.port,
                m.proto,
                fmts.join(" ")
            );
            if let Some(c) = m.conn {
                s += &c_line(c);
            }
            for c in &m.crypto {
                let keys: Vec<String> = c
                    .keys
                    .iter()
                    .map(|k| {
                        let mut t = format!("inline:{}", k.b64());
                        match k.lifetime {
                            Some(Lifetime::PowerOfTwo(n)) => t += &format!("|2^{n}"),
                            Some(Lifetime::Packets(n)) => t += &format!("|{n}"),
                            None => {}
                        }
                        if let Some((v, l)) = k.mki {
                            t += &format!("|{v}:{l}");
                        }
                        t
                    })
                    .collect();
                s += &format!("a=crypto:{} {} {}", c.tag, c.suite, keys.join(";"));
                if let Some(k) = c.kdr {
                    s += &format!(" KDR={k}");
                }
                s += "\r\n";
            }
            if let Some(d) = m.direction {
                s += &format!("a={}\r\n", d.as_str());
            }
        }
        s
    }
}

//! Property tests: parse → print → parse preserves every field, for generated messages with
//! the hard parts RFC 3261 allows (folding, compact names, odd white space, quoted strings with
//! escapes, IPv6 references, extension methods, unknown headers); and the parser never panics or
//! reports spans outside the input, whatever the bytes.

use proptest::prelude::*;
use sipsentry_sip::{fuzzing, HeaderName, Message, Severity};

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9.!%*_+`'~-]{0,12}"
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9-]{0,8}){0,2}",
        (1u8..=254, 0u8..=255, 0u8..=255, 1u8..=254)
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        (0u16..0xffff, 1u16..0xffff).prop_map(|(a, b)| format!("[2001:db8:{a:x}::{b:x}]")),
    ]
}

fn uri() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("sip"), Just("sips")],
        proptest::option::of("[a-z0-9+][a-z0-9.%-]{0,10}"),
        host(),
        proptest::option::of(1u16..65535),
        proptest::collection::vec(("[a-z]{1,6}", proptest::option::of("[a-z0-9]{1,6}")), 0..3),
    )
        .prop_map(|(s, user, h, port, params)| {
            let mut u = format!("{s}:");
            if let Some(user) = user {
                u.push_str(&user);
                u.push('@');
            }
            u.push_str(&h);
            if let Some(p) = port {
                u.push_str(&format!(":{p}"));
            }
            for (n, v) in params {
                u.push(';');
                u.push_str(&n);
                if let Some(v) = v {
                    u.push('=');
                    u.push_str(&v);
                }
            }
            u
        })
}

/// Linear white space as RFC 3261 allows it inside values: spaces, tabs, or a fold.
fn lws() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just(" "),
        Just("  "),
        Just("\t"),
        Just("\r\n "),
        Just(" \r\n\t")
    ]
}

fn display_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        token(),
        "[ -!#-\\[\\]-~]{0,10}".prop_map(|s| format!("\"{s}\"")),
        "[a-z ]{0,5}".prop_map(|s| format!("\"{s} \\\" \\\\ \"")),
    ]
}

fn name_addr() -> impl Strategy<Value = String> {
    (display_name(), uri(), lws(), proptest::option::of(token())).prop_map(|(d, u, w, tag)| {
        let mut s = if d.is_empty() {
            format!("<{u}>")
        } else {
            format!("{d}{w}<{u}>")
        };
        if let Some(t) = tag {
            s.push_str(&format!("{w};{w}tag{w}={w}{t}"));
        }
        s
    })
}

fn message() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![
            Just("INVITE".to_string()),
            Just("REGISTER".to_string()),
            Just("OPTIONS".to_string()),
            token()
        ],
        uri(),
        name_addr(),
        name_addr(),
        host(),
        lws(),
        proptest::bool::ANY,
        proptest::collection::vec(("X-[A-Za-z]{1,8}", "[ -~]{0,20}"), 0..4),
        "[ -~\r\n]{0,60}",
        any::<u32>(),
    )
        .prop_map(
            |(method, ruri, from, to, via_host, w, compact, extra, body, seq)| {
                let n =
                    |long: &'static str, short: &'static str| if compact { short } else { long };
                let mut m = format!("{method} {ruri} SIP/2.0\r\n");
                m.push_str(&format!(
                    "{}:{w}SIP{w}/{w}2.0{w}/{w}UDP {via_host};branch=z9hG4bK{seq:x}\r\n",
                    n("Via", "v")
                ));
                m.push_str(&format!("{}: {from}\r\n", n("From", "f")));
                m.push_str(&format!("{}: {to}\r\n", n("To", "t")));
                m.push_str(&format!("{}: {seq:x}@{via_host}\r\n", n("Call-ID", "i")));
                m.push_str(&format!("CSeq: {}{w}{method}\r\n", seq % 100_000));
                m.push_str("Max-Forwards: 70\r\n");
                for (k, v) in extra {
                    m.push_str(&format!("{k}: {}\r\n", v.trim()));
                }
                m.push_str(&format!(
                    "{}: {}\r\n\r\n{body}",
                    n("Content-Length", "l"),
                    body.len()
                ));
                m.into_bytes()
            },
        )
}

type Params = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// The meaning of a name-addr, independent of how its white space was folded.
fn na(n: &sipsentry_sip::NameAddr<'_>) -> (Option<Vec<u8>>, Vec<u8>, bool, Params) {
    (
        n.display_name().map(|d| d.into_owned()),
        n.uri.raw.to_vec(),
        n.bracketed,
        n.params()
            .map(|p| (p.name.to_vec(), p.value.map(|v| v.to_vec())))
            .collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn generated_messages_are_accepted_and_round_trip(m in message()) {
        let parsed = Message::parse_strict(&m);
        let rejections: Vec<_> = parsed.anomalies().iter().filter(|a| a.severity() == Severity::Reject).collect();
        prop_assert!(rejections.is_empty(), "{:?}\n{}", rejections, String::from_utf8_lossy(&m));
        fuzzing::roundtrip(&m);
        // Typed fields survive printing.
        let printed = parsed.to_canonical();
        let again = Message::parse_strict(&printed);
        prop_assert_eq!(na(&parsed.from().unwrap().unwrap()), na(&again.from().unwrap().unwrap()));
        prop_assert_eq!(na(&parsed.to().unwrap().unwrap()), na(&again.to().unwrap().unwrap()));
        let (v1, v2) = (parsed.top_via().unwrap().unwrap(), again.top_via().unwrap().unwrap());
        prop_assert_eq!((v1.protocol, v1.version, v1.transport, v1.host, v1.port), (v2.protocol, v2.version, v2.transport, v2.host, v2.port));
        prop_assert_eq!(v1.params().collect::<Vec<_>>(), v2.params().collect::<Vec<_>>());
        prop_assert_eq!(parsed.cseq().unwrap().unwrap(), again.cseq().unwrap().unwrap());
        prop_assert_eq!(parsed.call_id(), again.call_id());
        prop_assert_eq!(parsed.request_uri().unwrap().unwrap(), again.request_uri().unwrap().unwrap());
        prop_assert_eq!(parsed.body(), again.body());
        prop_assert!(again.header(HeaderName::ContentLength).is_some());
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        fuzzing::parse_message(&data);
        fuzzing::framer(&data);
    }

    #[test]
    fn mutated_messages_never_panic(m in message(), idx in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let mut m = m;
        let i = idx.index(m.len());
        m[i] = byte;
        let c = cut.index(m.len() + 1);
        fuzzing::parse_message(&m[..c]);
        fuzzing::framer(&m);
    }
}

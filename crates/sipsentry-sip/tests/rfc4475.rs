//! RFC 4475 torture tests: all 49 messages, each classified as the RFC says, with the anomaly
//! that decides it and the tricky fields checked. Vectors: tests/vectors/rfc4475 (see INDEX.md
//! there for provenance: the RFC's own tarball as extracted by resiprocate, cross-checked).

use sipsentry_sip::{
    AnomalyKind as K, Contact, HeaderName, Message, Method, Scheme, Severity, StartLine,
};
use std::collections::BTreeSet;
use std::path::PathBuf;

fn vector(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors/rfc4475")
        .join(format!("{name}.dat"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// (file, must be accepted, kinds of Warning/Reject severity that must be reported — exactly)
const TABLE: &[(&str, bool, &[K])] = &[
    // 3.1.1 valid
    ("wsinv", true, &[]),
    ("intmeth", true, &[]),
    ("esc01", true, &[]),
    ("escnull", true, &[]),
    ("esc02", true, &[]),
    ("lwsdisp", true, &[]),
    ("longreq", true, &[]),
    ("dblreq", true, &[]),
    ("semiuri", true, &[]),
    ("transports", true, &[]),
    ("mpart01", true, &[]),
    ("unreason", true, &[]),
    ("noreason", true, &[]),
    // 3.1.2 invalid
    (
        "badinv01",
        false,
        &[K::EmptyListElement, K::EmptyParam, K::BadVia],
    ),
    ("clerr", false, &[K::ContentLengthExceedsBody]),
    ("ncl", false, &[K::InvalidContentLength]),
    ("scalar02", false, &[K::ScalarOverflow]),
    ("scalarlg", false, &[K::ScalarOverflow]),
    ("quotbal", false, &[K::UnbalancedQuotes]),
    ("ltgtruri", false, &[K::RequestUriInBrackets]),
    ("lwsruri", false, &[K::RequestUriLws]),
    ("lwsstart", false, &[K::RequestLineWhitespace]),
    ("trws", false, &[K::RequestLineWhitespace]),
    ("escruri", false, &[K::UriHeadersInRequestUri]),
    // RFC: "robust elements may ignore the Date": accepted, flagged.
    ("baddate", true, &[K::BadDate]),
    ("regbadct", false, &[K::AddrSpecNeedsBrackets]),
    ("badaspec", false, &[K::LwsInAddrSpec]),
    // The file also lacks the empty line ending the headers (see INDEX.md).
    (
        "baddn",
        false,
        &[K::BadDisplayName, K::MissingHeaderTerminator],
    ),
    ("badvers", false, &[K::UnsupportedVersion]),
    ("mismatch01", false, &[K::CseqMethodMismatch]),
    ("mismatch02", false, &[K::CseqMethodMismatch]),
    ("bigcode", false, &[K::BadStatusCode]),
    // 3.2 transaction layer
    ("badbranch", true, &[K::ViaBadBranch]),
    // 3.3 application layer: parse, carry the anomaly the RFC describes
    ("insuf", false, &[K::MissingMandatoryHeader]),
    ("unkscm", true, &[K::UnsupportedUriScheme]),
    ("novelsc", true, &[K::UnsupportedUriScheme]),
    ("unksm2", true, &[K::NonSipAddressScheme]),
    ("bext01", true, &[K::UnsupportedExtension]),
    ("invut", true, &[K::UnknownContentType]),
    ("regaut01", true, &[K::UnknownAuthScheme]),
    ("multi01", false, &[K::DuplicateSingleHeader]),
    ("mcl01", false, &[K::ConflictingContentLength]),
    ("bcast", true, &[K::ViaBroadcast]),
    ("zeromf", true, &[]),
    ("cparam01", true, &[]),
    ("cparam02", true, &[]),
    ("regescrt", true, &[]),
    ("sdp01", true, &[K::UnacceptableAccept]),
    // 3.4 backward compatibility
    ("inv2543", true, &[]),
];

#[test]
fn all_49_classified_as_the_rfc_says() {
    assert_eq!(TABLE.len(), 49);
    let on_disk = std::fs::read_dir(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/rfc4475"),
    )
    .unwrap()
    .filter_map(|e| e.ok())
    .filter(|e| e.path().extension().is_some_and(|x| x == "dat"))
    .count();
    assert_eq!(on_disk, 49);
    let mut failures = vec![];
    for (name, accept, kinds) in TABLE {
        let data = vector(name);
        let m = Message::parse_strict(&data);
        let got: BTreeSet<K> = m
            .anomalies()
            .iter()
            .filter(|a| a.severity() >= Severity::Warning)
            .map(|a| a.kind)
            .collect();
        let want: BTreeSet<K> = kinds.iter().copied().collect();
        if m.is_acceptable() != *accept || got != want {
            failures.push(format!(
                "{name}: accept={} (want {accept}), kinds {:?} (want {:?})",
                m.is_acceptable(),
                got,
                want
            ));
        }
        if !accept {
            let r = m.rejection().expect("rejected message names its anomaly");
            assert!(
                want.contains(&r.kind) || r.kind == K::MissingHeaderTerminator,
                "{name}: deciding {r}"
            );
        }
        for a in m.anomalies() {
            assert!(a.span.end <= data.len(), "{name}: {a}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn parse(name: &str) -> (Vec<u8>,) {
    (vector(name),)
}

#[test]
fn wsinv_fields() {
    let (d,) = parse("wsinv");
    let m = Message::parse_strict(&d);
    assert_eq!(m.method(), Some(Method::Invite));
    let to = m.to().unwrap().unwrap();
    assert_eq!(to.uri.user, Some(&b"vivekg"[..]));
    assert_eq!(to.tag(), Some(&b"1918181833n"[..]));
    let from = m.from().unwrap().unwrap();
    assert_eq!(from.display_name().unwrap().as_ref(), b"J Rosenberg \\\"");
    assert_eq!(from.tag(), Some(&b"98asjd8"[..]));
    assert_eq!(m.max_forwards(), Some(68));
    let cseq = m.cseq().unwrap().unwrap();
    assert_eq!((cseq.seq, cseq.method), (9, &b"INVITE"[..]));
    let vias: Vec<_> = m.vias().map(|v| v.unwrap()).collect();
    assert_eq!(vias.len(), 3);
    assert_eq!(vias[0].transport, b"UDP");
    assert_eq!(vias[1].host, b"spindle.example.com");
    assert_eq!(vias[1].branch(), Some(&b"z9hG4bK9ikj8"[..]));
    assert_eq!(vias[2].branch(), Some(&b"z9hG4bK30239"[..]));
    let c: Vec<_> = m.contacts().map(|c| c.unwrap()).collect();
    let Contact::Addr(c) = c[0] else { panic!() };
    assert_eq!(c.display_name().unwrap().as_ref(), b"Quoted string \"\"");
    assert_eq!(c.q_millis(), Some(330));
    assert_eq!(
        c.params().get(b"newparam").unwrap().value,
        Some(&b"newvalue"[..])
    );
    assert_eq!(
        m.header_raw(b"NewFangledHeader")
            .map(|h| sipsentry_sip::print::unfold(h.value).into_owned()),
        Some(b"newfangled value continued newfangled value".to_vec())
    );
    assert_eq!(
        m.header_raw(b"UnknownHeaderWithUnusualValue")
            .unwrap()
            .value,
        b";;,,;;,;"
    );
    assert_eq!(m.header(HeaderName::Subject).unwrap().value, b"");
    assert_eq!(m.body().len(), 150);
    let r = m.routes().next().unwrap().unwrap();
    assert_eq!(r.uri.param(b"unknownwith"), Some(Some(&b"value"[..])));
    assert_eq!(r.uri.param(b"unknown-no-value"), Some(None));
}

#[test]
fn intmeth_fields() {
    let (d,) = parse("intmeth");
    let m = Message::parse_strict(&d);
    assert_eq!(
        m.method(),
        Some(Method::Other(
            b"!interesting-Method0123456789_*+`.%indeed'~"
        ))
    );
    let to = m.to().unwrap().unwrap();
    let dn = to.display_name().unwrap();
    assert_eq!(dn.as_ref(), b"BEL:\x07 NUL:\x00 DEL:\x7f");
    let ruri = m.request_uri().unwrap().unwrap();
    assert_eq!(
        ruri.password,
        Some(&b"&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"[..])
    );
    let from = m.from().unwrap().unwrap();
    assert_eq!(
        from.display_raw,
        Some(&b"token1~` token2'+_ token3*%!.-"[..])
    );
    assert_eq!(from.tag(), Some(&b"_token~1'+`*%!-."[..]));
    assert_eq!(
        m.call_id(),
        Some(&b"intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"[..])
    );
}

#[test]
fn escapes() {
    let (d,) = parse("esc01");
    let m = Message::parse_strict(&d);
    let ruri = m.request_uri().unwrap().unwrap();
    assert_eq!(
        ruri.user_decoded().unwrap().as_ref(),
        b"sips:user@example.com"
    );
    assert_eq!(
        m.to()
            .unwrap()
            .unwrap()
            .uri
            .user_decoded()
            .unwrap()
            .as_ref(),
        b"user"
    );
    assert_eq!(
        m.from()
            .unwrap()
            .unwrap()
            .uri
            .user_decoded()
            .unwrap()
            .as_ref(),
        b"I have spaces"
    );

    let (d,) = parse("esc02");
    let m = Message::parse_strict(&d);
    assert_eq!(m.method(), Some(Method::Other(b"RE%47IST%45R")));
    assert_eq!(m.cseq().unwrap().unwrap().method, b"RE%47IST%45R");
    assert_eq!(m.contacts().count(), 2, "C%6Fntact is not Contact");
    assert!(m.header_raw(b"C%6Fntact").is_some());

    let (d,) = parse("escnull");
    let m = Message::parse_strict(&d);
    let users: Vec<_> = m
        .contacts()
        .map(|c| match c.unwrap() {
            Contact::Addr(n) => n.uri.user_decoded().unwrap().into_owned(),
            Contact::Star => panic!(),
        })
        .collect();
    assert_eq!(users, vec![b"\0".to_vec(), b"\0\0".to_vec()]);
    assert!(m.anomalies().iter().any(|a| a.kind == K::EscapedNulInUri));
}

#[test]
fn dblreq_ignores_trailing_octets() {
    let (d,) = parse("dblreq");
    let m = Message::parse_strict(&d);
    assert_eq!(m.method(), Some(Method::Register));
    assert_eq!(m.body(), b"");
    let t = m
        .anomalies()
        .iter()
        .find(|a| a.kind == K::TrailingBytes)
        .unwrap();
    assert_eq!(t.span.len(), 450);
    assert_eq!(m.len() + 450, d.len());
}

#[test]
fn semiuri_and_params() {
    let m_d = vector("semiuri");
    let m = Message::parse_strict(&m_d);
    let u = m.request_uri().unwrap().unwrap();
    assert_eq!(u.user, Some(&b"user;par=u%40example.net"[..]));
    assert_eq!(u.host, b"example.com");

    let d = vector("cparam01");
    let m = Message::parse_strict(&d);
    let Contact::Addr(c) = m.contacts().next().unwrap().unwrap() else {
        panic!()
    };
    assert!(!c.bracketed);
    assert!(c.uri.params.is_empty(), "unknownparam is a contact-param");
    assert_eq!(c.params().get(b"unknownparam").map(|p| p.value), Some(None));

    let d = vector("cparam02");
    let m = Message::parse_strict(&d);
    let Contact::Addr(c) = m.contacts().next().unwrap().unwrap() else {
        panic!()
    };
    assert_eq!(
        c.uri.param(b"unknownparam"),
        Some(None),
        "unknownparam is a url-param"
    );
    assert!(c.params.is_empty());

    let d = vector("regescrt");
    let m = Message::parse_strict(&d);
    let Contact::Addr(c) = m.contacts().next().unwrap().unwrap() else {
        panic!()
    };
    assert_eq!(c.uri.headers, b"Route=%3Csip:sip.example.com%3E");
    assert!(
        m.header(HeaderName::Route).is_none(),
        "escaped Route must not become a header"
    );
}

#[test]
fn transports_and_responses() {
    let d = vector("transports");
    let m = Message::parse_strict(&d);
    let t: Vec<_> = m.vias().map(|v| v.unwrap().transport.to_vec()).collect();
    assert_eq!(
        t,
        vec![
            b"UDP".to_vec(),
            b"SCTP".to_vec(),
            b"TLS".to_vec(),
            b"UNKNOWN".to_vec(),
            b"TCP".to_vec()
        ]
    );

    let d = vector("unreason");
    let m = Message::parse_strict(&d);
    assert_eq!(m.status(), Some(200));
    assert!(std::str::from_utf8(m.reason_phrase().unwrap())
        .unwrap()
        .contains("простое"));

    let d = vector("noreason");
    let m = Message::parse_strict(&d);
    assert_eq!(m.status(), Some(100));
    assert_eq!(m.reason_phrase(), Some(&b""[..]));

    let d = vector("mpart01");
    let m = Message::parse_strict(&d);
    assert_eq!(m.body().len() as u64, m.content_length().unwrap());
    assert!(m
        .content_type()
        .unwrap()
        .unwrap()
        .is(b"multipart", b"mixed"));

    let d = vector("bigcode");
    let m = Message::parse_strict(&d);
    assert!(matches!(
        m.start_line(),
        StartLine::Response { code: 0, .. }
    ));
}

#[test]
fn longreq_and_lwsdisp() {
    let d = vector("longreq");
    let m = Message::parse_strict(&d);
    assert_eq!(m.vias().count(), 34);
    assert!(m.vias().all(|v| v.is_ok()));
    let d = vector("lwsdisp");
    let m = Message::parse_strict(&d);
    assert_eq!(m.from().unwrap().unwrap().display_raw, Some(&b"caller"[..]));
}

#[test]
fn semantically_bad_ones_parse() {
    let d = vector("unksm2");
    let m = Message::parse_strict(&d);
    assert_eq!(m.to().unwrap().unwrap().uri.scheme, Scheme::Other(b"isbn"));
    let d = vector("insuf");
    let m = Message::parse_strict(&d);
    let missing: BTreeSet<_> = m
        .anomalies()
        .iter()
        .filter(|a| a.kind == K::MissingMandatoryHeader)
        .map(|a| a.detail)
        .collect();
    assert_eq!(missing, ["Call-ID", "From", "To"].into_iter().collect());
    let d = vector("inv2543");
    let m = Message::parse_strict(&d);
    let info: BTreeSet<_> = m.anomalies().iter().map(|a| a.kind).collect();
    for k in [
        K::MissingMaxForwards,
        K::ViaRfc2543Branch,
        K::MissingFromTag,
        K::MissingContentLength,
    ] {
        assert!(info.contains(&k), "{k:?}");
    }
    let d = vector("zeromf");
    let m = Message::parse_strict(&d);
    assert!(m.anomalies().iter().any(|a| a.kind == K::MaxForwardsZero));
}

#[test]
fn test_dat_outside_the_rfc_is_rejected() {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors/rfc4475/not-in-rfc-text/test.dat");
    let d = std::fs::read(p).unwrap();
    let m = Message::parse_strict(&d);
    assert!(!m.is_acceptable());
}

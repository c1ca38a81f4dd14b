//! Entry points shared by the fuzz targets (`fuzz/`) and the corpus-replay tests, so that what
//! CI replays is exactly what the fuzzer ran. Each function panics only when an invariant breaks.

use crate::{FrameEvent, Limits, Message, Mode, Severity, StreamFramer};

/// Parses `data` as a datagram, runs every view and checks span and round-trip invariants.
pub fn parse_message(data: &[u8]) {
    let m = Message::parse_strict(data);
    for a in m.anomalies() {
        assert!(
            a.span.start <= a.span.end && a.span.end <= data.len(),
            "span out of bounds: {a:?}"
        );
    }
    assert!(m.len() <= data.len());
    for h in m.headers() {
        assert!(h.span().end <= data.len());
    }
    let _ = m.request_uri();
    let _ = m.cseq();
    let _ = m
        .from()
        .map(|r| r.map(|n| (n.tag(), n.display_name(), n.uri.user_decoded())));
    let _ = m.to();
    for v in m.vias().flatten() {
        let _ = (v.branch(), v.rport(), v.received(), v.host_ip());
    }
    for c in m.contacts().flatten() {
        if let crate::Contact::Addr(n) = c {
            let _ = (n.expires(), n.q_millis());
        }
    }
    let _ = m.routes().count();
    for r in m.reasons().flatten() {
        let _ = (r.cause(), r.text());
    }
    let _ = m.authorization().map(|a| a.map(|a| a.param(b"username")));
    roundtrip(data);
}

/// The round-trip oracle: a message RFC 3261 accepts must print to a canonical form that parses
/// to the same fields and prints identically again.
pub fn roundtrip(data: &[u8]) {
    let m = Message::parse(data);
    if m.anomalies()
        .iter()
        .any(|a| a.severity() == Severity::Reject)
    {
        return;
    }
    let p1 = m.to_canonical();
    let m2 = Message::parse(&p1);
    assert_eq!(m.start_line(), m2.start_line(), "start line changed");
    assert_eq!(
        m.headers().len(),
        m2.headers().len(),
        "header count changed"
    );
    for (a, b) in m.headers().iter().zip(m2.headers()) {
        assert_eq!(a.name, b.name);
        assert_eq!(a.raw_name, b.raw_name);
        assert_eq!(crate::print::unfold(a.value), crate::print::unfold(b.value));
    }
    assert_eq!(m.body(), m2.body(), "body changed");
    assert_eq!(m2.to_canonical(), p1, "canonical form not stable");
}

/// Feeds `data` to the stream framer in chunks whose sizes come from the data itself, and checks
/// that buffering stays bounded and every delivered message starts like a SIP message.
pub fn framer(data: &[u8]) {
    let limits = Limits {
        max_message: 4096,
        max_headers: 64,
        max_line: 1024,
    };
    let mut f = StreamFramer::new(limits);
    let mut i = 0;
    let mut chunk = 1usize;
    while i < data.len() {
        let end = (i + chunk).min(data.len());
        f.push(&data[i..end]);
        i = end;
        chunk = (chunk * 7 + usize::from(data[i - 1])) % 97 + 1;
        while let Some(ev) = f.next_event() {
            match ev {
                FrameEvent::Message(m) => {
                    assert!(m.len() <= limits.max_message);
                    let parsed = Message::parse_with(&m, &limits, Mode::Stream);
                    assert!(parsed.len() <= m.len());
                }
                FrameEvent::KeepAlive(n) => assert!(n > 0),
                FrameEvent::Garbage { len, .. } => assert!(len > 0),
            }
        }
        assert!(
            f.buffered() <= limits.max_message + 97 + limits.max_line,
            "framer buffer grew to {}",
            f.buffered()
        );
    }
}

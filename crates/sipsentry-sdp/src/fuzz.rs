//! The invariant checker shared by the fuzz target and the corpus-replay tests.

use std::borrow::Cow;
use std::ops::Range;

use crate::redact::{redaction_spans, splice};
use crate::{
    contains_key_material, contains_sdes_keys, redact, Crypto, KeyParam, Session, SessionParam,
    Text,
};

/// Parses `data`, walks every typed view, redacts, and panics if an invariant breaks.
///
/// Invariants: no panic; every span lies within `data`; every borrowed field points into
/// `data`; [`redact`] replaces exactly its key spans and is idempotent; every key the parser
/// finds (SDES `inline:` and `k=`) lies inside a redacted span; neither the redacted body nor
/// the session's `Debug` output contains the text or the decoded bytes of such a key.
#[doc(hidden)]
pub fn fuzz_parse(data: &[u8]) {
    let len = data.len();

    // Redaction, independent of parsing.
    let spans = redaction_spans(data);
    let mut prev = 0;
    for r in &spans {
        assert!(
            prev <= r.start && r.start < r.end && r.end <= len,
            "bad redaction span {r:?}"
        );
        prev = r.end;
    }
    let red = redact(data);
    assert_eq!(matches!(red, Cow::Borrowed(_)), spans.is_empty());
    assert_eq!(&*red, &splice(data, &spans)[..]);
    assert!(
        matches!(redact(&red), Cow::Borrowed(_)),
        "redact is not idempotent"
    );
    assert!(!contains_sdes_keys(&red) && !contains_key_material(&red));
    assert_eq!(contains_key_material(data), !spans.is_empty());
    // Segments of the body that survive redaction, for the "no key text survives" checks.
    let mut kept: Vec<&[u8]> = Vec::with_capacity(spans.len() + 1);
    let mut pos = 0;
    for r in &spans {
        kept.push(&data[pos..r.start]);
        pos = r.end;
    }
    kept.push(&data[pos..]);

    let Ok(session) = Session::parse(data) else {
        return;
    };
    let mut w = Walker {
        data,
        spans: Vec::new(),
        keys: Vec::new(),
    };
    w.session(&session);
    for s in &w.spans {
        assert!(
            s.start <= s.end && s.end <= len,
            "span {s:?} outside 0..{len}"
        );
    }
    for a in session.anomalies() {
        assert!(a.span.start <= a.span.end && a.span.end <= len, "{a}");
        assert!(a.kind.id().starts_with("sdp-"));
    }

    let debug = format!("{session:?}");
    let covered = |r: &Range<usize>| spans.iter().any(|s| s.start <= r.start && r.end <= s.end);
    for (key, inline) in &w.keys {
        let r = key.span();
        assert!(covered(&r), "key at {r:?} not redacted");
        let text = key.expose();
        check_absent(text, &red, &kept, "redacted body");
        if *inline {
            if let Some(decoded) = key.decode_base64() {
                check_absent(decoded.expose(), &red, &kept, "redacted body (decoded)");
            }
        }
        // Debug output is built from Text fields redacted one by one; a base64 run with `+`
        // or `/` cannot come from a type or field name, so finding it means a leak.
        let b64 = text.len() >= 9
            && text
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(b))
            && text.iter().any(|b| b"+/".contains(b));
        if b64 && !contains(&red, text) {
            assert!(
                !contains(debug.as_bytes(), text),
                "key text in Debug output"
            );
        }
    }
    assert_eq!(
        session.has_sdes_keys(),
        w.keys
            .iter()
            .any(|(k, inline)| *inline && !k.is_empty() && !k.is_redacted())
    );
    assert!(!session.has_sdes_keys() || contains_sdes_keys(data));
    if let Ok(again) = Session::parse(&red) {
        assert!(!again.has_sdes_keys(), "keys survive redaction");
    }
}

/// Asserts `needle` is not in `out` unless it also occurs in a part of the body that is kept
/// verbatim (then it is ordinary text that happens to equal the key). Needles that could
/// overlap the placeholder (`<`, `>`, or 8 bytes or fewer, like `redacted`) are skipped.
fn check_absent(needle: &[u8], out: &[u8], kept: &[&[u8]], what: &str) {
    if needle.len() <= 8 || needle.iter().any(|b| *b == b'<' || *b == b'>') {
        return;
    }
    if contains(out, needle) {
        assert!(
            kept.iter().any(|k| contains(k, needle)),
            "key material in {what}"
        );
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

struct Walker<'d, 'a> {
    data: &'d [u8],
    spans: Vec<Range<usize>>,
    /// Keys found by the parser, and whether each is an `inline:` key.
    keys: Vec<(crate::Secret<'a>, bool)>,
}

impl<'a> Walker<'_, 'a> {
    fn text(&mut self, t: Text<'a>) {
        let _ = (t.as_str(), t.to_str_lossy(), t.len());
        let b = t.as_bytes();
        if !b.is_empty() {
            let base = self.data.as_ptr() as usize;
            let p = b.as_ptr() as usize;
            assert!(
                p >= base && p + b.len() <= base + self.data.len(),
                "field not borrowed from body"
            );
            self.spans.push(p - base..p - base + b.len());
        }
    }

    fn session(&mut self, s: &Session<'a>) {
        assert!(s.parsed_len() <= s.body().len());
        let _ = (
            s.is_truncated(),
            s.media_count(),
            s.offers_only_plain_rtp(),
            s.direction(),
        );
        let _ = (
            s.connection_addresses().len(),
            s.ip_addresses(),
            s.attribute("fingerprint"),
        );
        for t in [s.version(), s.name(), s.information(), s.uri()]
            .into_iter()
            .flatten()
        {
            self.text(t);
        }
        for t in s.emails().iter().chain(s.phones()) {
            self.text(*t);
        }
        if let Some(o) = s.origin() {
            self.spans.push(o.span.clone());
            let _ = o.sess_version_num();
            for t in [
                o.username,
                o.sess_id,
                o.sess_version,
                o.net_type,
                o.addr_type,
                o.unicast_address,
            ] {
                self.text(t);
            }
        }
        self.connections(s.connection().into_iter());
        self.bandwidths(s.bandwidths());
        for t in s.timings() {
            self.spans.push(t.span.clone());
            for r in &t.repeats {
                self.spans.push(r.span.clone());
                self.text(r.raw);
            }
        }
        if let Some(z) = s.zone() {
            self.spans.push(z.span.clone());
        }
        self.key(s.key());
        self.attributes(s.attributes());
        self.crypto(s.crypto());
        for l in s.unknown_lines() {
            self.spans.push(l.span.clone());
            self.text(l.text);
        }
        for m in s.media() {
            let _ = (
                m.index(),
                m.effective_connection(),
                m.effective_direction(),
                m.has_fingerprint(),
            );
            let _ = (
                m.is_srtp(),
                m.has_sdes_keys(),
                m.offers_srtp_via_capneg(),
                m.is_disabled(),
            );
            let _ = (
                m.port(),
                m.port_count(),
                m.direction(),
                m.attribute("rtpmap"),
            );
            let p = m.proto();
            let _ = (
                p.as_str(),
                p.is_encrypted(),
                p.is_srtp(),
                p.is_dtls(),
                p.is_rtp(),
                p.to_string(),
            );
            self.spans.push(m.line_span());
            self.spans.push(m.span());
            assert!(m.line_span().start == m.span().start && m.line_span().end <= m.span().end);
            self.text(m.media_type());
            self.text(m.proto_text());
            for f in m.formats() {
                self.text(*f);
            }
            if let Some(i) = m.information() {
                self.text(i);
            }
            self.connections(m.connections().iter());
            self.connections(m.effective_connections().iter());
            self.bandwidths(m.bandwidths());
            self.key(m.key());
            self.attributes(m.attributes());
            self.crypto(m.crypto());
            for l in m.unknown_lines() {
                self.spans.push(l.span.clone());
                self.text(l.text);
            }
        }
    }

    fn connections<'c>(&mut self, it: impl Iterator<Item = &'c crate::Connection<'a>>)
    where
        'a: 'c,
    {
        for c in it {
            self.spans.push(c.span.clone());
            let _ = (c.is_multicast(), c.is_unspecified(), c.ttl, c.num_addresses);
            for t in [c.net_type, c.addr_type, c.address, c.host] {
                self.text(t);
            }
        }
    }

    fn bandwidths(&mut self, b: &[crate::Bandwidth<'a>]) {
        for b in b {
            self.spans.push(b.span.clone());
            self.text(b.bwtype);
            self.text(b.raw);
        }
    }

    fn key(&mut self, k: Option<&crate::EncryptionKey<'a>>) {
        if let Some(k) = k {
            self.spans.push(k.span.clone());
            self.text(k.method);
            if let Some(s) = k.key {
                self.spans.push(s.span());
                if !s.is_empty() && !s.is_redacted() && !k.method.eq_ignore_ascii_case("uri") {
                    self.keys.push((s, false));
                }
            }
        }
    }

    fn attributes(&mut self, attrs: &[crate::Attribute<'a>]) {
        for a in attrs {
            self.spans.push(a.span.clone());
            self.text(a.name);
            self.text(a.raw);
            if let Some(v) = a.value {
                self.text(v);
            }
        }
    }

    fn crypto(&mut self, cs: &[Crypto<'a>]) {
        for c in cs {
            self.spans.push(c.span.clone());
            let _ = (
                c.has_key(),
                c.key_lengths_ok(),
                c.weakens_protection(),
                c.tag,
                c.capability,
            );
            let _ = (c.suite.name(), c.suite.key_salt_len(), c.suite.is_known());
            if let crate::CryptoSuite::Other(t) = c.suite {
                self.text(t);
            }
            self.key_params(&c.key_params);
            for p in &c.session_params {
                match p {
                    SessionParam::FecKey(k) => self.key_params(k),
                    SessionParam::FecOrder(t) | SessionParam::Other(t) => self.text(*t),
                    _ => {}
                }
            }
            assert!(c.all_key_params().count() >= c.key_params.len());
        }
    }

    fn key_params(&mut self, kps: &[KeyParam<'a>]) {
        for k in kps {
            self.spans.push(k.span.clone());
            self.spans.push(k.key_salt.span());
            self.text(k.method);
            let _ = (k.lifetime.map(|l| l.packets()), k.decoded_len);
            if let Some(m) = k.mki {
                self.text(m.value_text);
            }
            if k.has_key() {
                let d = k.decode_key_salt().map(|d| d.len());
                assert_eq!(d, k.decoded_len);
                self.keys.push((k.key_salt, true));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoke() {
        fuzz_parse(b"");
        fuzz_parse(b"v=0\r\nk=clear:abcdefghijkl\r\nm=audio 1 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32\r\n");
        fuzz_parse(
            b"v=0\na=inline:abc+defghijk\nb=inline:abc+defghijk\nm=a 1 inline:abc/defghijk x",
        );
        fuzz_parse(b"a=crypto:1 X inline:inline:ab+cdefghij|inline:1:4;INLINE:<redacted>x FEC_KEY=inline:q+rstuvwxyz\r");
        fuzz_parse(b"k=inline:abc+defghijk\nk=URI:inline:abc+defghijk\nk=clear:<redacted>\n");
    }

    #[test]
    fn keys_crossing_the_body_cap() {
        let mut one_line = b"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:".to_vec();
        one_line.resize(crate::MAX_BODY + 5000, b'A');
        fuzz_parse(&one_line);
        let s = Session::parse(&one_line).unwrap();
        assert!(s.is_truncated() && s.has_sdes_keys());
        let mut two = b"v=0\r\n".to_vec();
        two.extend_from_slice(&one_line);
        fuzz_parse(&two);
        assert!(!Session::parse(&two).unwrap().has_sdes_keys());
    }
}

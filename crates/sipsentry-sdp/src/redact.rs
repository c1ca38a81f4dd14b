//! Redaction of key material in raw SDP text.
//!
//! SDES (RFC 4568) puts the SRTP master key in the signalling: anyone who can read a log,
//! a pcap export or a bug report that contains the SDP can decrypt the call. Everything this
//! tool writes out therefore goes through [`redact`] first.

use std::borrow::Cow;
use std::ops::Range;

use crate::lines::lines;

/// The placeholder that replaces key material.
pub const REDACTED: &str = "<redacted>";

const INLINE: &[u8] = b"inline:";

/// Whether `b` ends an `inline:` key||salt value: the lifetime/MKI separator, the key-param
/// separator, or white space. Must match how [`crate::crypto`] tokenizes key parameters.
fn ends_key(b: u8) -> bool {
    matches!(b, b'|' | b';' | b' ' | b'\t' | b'\r' | b'\n')
}

/// Returns the SDP text with every `inline:` key||salt and every `k=` key replaced by
/// `<redacted>`; everything else (lifetimes, MKIs, line ends, other lines) is byte-identical.
///
/// Works on raw bytes with no size cap and without parsing, so it also cleans bodies the
/// parser rejects or truncates. `inline:` is matched case-insensitively anywhere in a line (the
/// grammar's literals are case-insensitive, and a key hidden in an odd place is still a key).
/// Returns `Cow::Borrowed` when there is nothing to redact, so the common case does not copy.
/// Redacting twice gives the same result as redacting once.
pub fn redact(body: &[u8]) -> Cow<'_, [u8]> {
    let spans = redaction_spans(body);
    if spans.is_empty() {
        return Cow::Borrowed(body);
    }
    Cow::Owned(splice(body, &spans))
}

/// Whether the body holds at least one SDES `inline:` key that is not already redacted.
pub fn contains_sdes_keys(body: &[u8]) -> bool {
    lines(body).any(|l| {
        let mut found = false;
        scan_inline(body, l.start, l.end, |_| found = true);
        found
    })
}

/// Whether [`redact`] would change anything: an SDES key or a `k=` key.
pub fn contains_key_material(body: &[u8]) -> bool {
    !redaction_spans(body).is_empty()
}

/// Replaces each span (sorted, disjoint) by [`REDACTED`].
pub(crate) fn splice(body: &[u8], spans: &[Range<usize>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + spans.len() * REDACTED.len());
    let mut pos = 0;
    for r in spans {
        out.extend_from_slice(&body[pos..r.start]);
        out.extend_from_slice(REDACTED.as_bytes());
        pos = r.end;
    }
    out.extend_from_slice(&body[pos..]);
    out
}

/// The sorted, disjoint, non-empty spans [`redact`] replaces.
pub(crate) fn redaction_spans(body: &[u8]) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    for l in lines(body) {
        let content = &body[l.start..l.end];
        if let Some(rest) = content.strip_prefix(b"k=") {
            if let Some(colon) = rest.iter().position(|&b| b == b':') {
                if !rest[..colon].eq_ignore_ascii_case(b"uri") {
                    let s = l.start + 2 + colon + 1;
                    if s < l.end && &body[s..l.end] != REDACTED.as_bytes() {
                        spans.push(s..l.end);
                    }
                    continue;
                }
            }
        }
        scan_inline(body, l.start, l.end, |r| spans.push(r));
    }
    spans
}

/// Calls `f` with the span of every non-empty, not-yet-redacted `inline:` value in
/// `body[start..end]`.
fn scan_inline(body: &[u8], start: usize, end: usize, mut f: impl FnMut(Range<usize>)) {
    let mut i = start;
    while i + INLINE.len() <= end {
        if body[i..i + INLINE.len()].eq_ignore_ascii_case(INLINE) {
            let vs = i + INLINE.len();
            let ve = body[vs..end]
                .iter()
                .position(|&b| ends_key(b))
                .map_or(end, |p| vs + p);
            if ve > vs && &body[vs..ve] != REDACTED.as_bytes() {
                f(vs..ve);
            }
            i = ve.max(i + 1);
        } else {
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_inline_keeps_lifetime_and_mki() {
        let body = b"v=0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32\r\n";
        let r = redact(body);
        assert_eq!(
            &*r,
            &b"v=0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:<redacted>|2^20|1:32\r\n"[..]
        );
        assert!(contains_sdes_keys(body));
        assert!(!contains_sdes_keys(&r));
        assert!(matches!(redact(&r), Cow::Borrowed(_)));
    }

    #[test]
    fn nothing_to_redact_is_borrowed() {
        let body = b"v=0\r\ns=inline\r\na=x:inline:\r\n";
        assert!(matches!(redact(body), Cow::Borrowed(_)));
        assert!(!contains_key_material(body));
    }

    #[test]
    fn multiple_keys_case_insensitive_and_fec_key() {
        let body = b"a=crypto:1 X INLINE:AAAA;inline:BBBB|1:4 FEC_KEY=inline:CCCC\nk=clear:DDDD\r\nk=uri:http://x\nk=prompt";
        let r = redact(body);
        let s = String::from_utf8(r.into_owned()).unwrap();
        for k in ["AAAA", "BBBB", "CCCC", "DDDD"] {
            assert!(!s.contains(k), "{s}");
        }
        assert!(s.contains("k=uri:http://x\n"));
        assert!(s.contains("|1:4 FEC_KEY"));
        assert!(s.ends_with("k=prompt"));
        assert!(contains_key_material(b"k=base64:AAAA"));
        assert!(!contains_sdes_keys(b"k=base64:AAAA"));
    }

    #[test]
    fn key_to_end_of_body_and_bare_cr() {
        assert_eq!(&*redact(b"inline:KEY"), b"inline:<redacted>");
        assert_eq!(&*redact(b"inline:KEY\r"), b"inline:<redacted>\r");
        assert_eq!(&*redact(b"inline:K\rEY\n"), b"inline:<redacted>\rEY\n");
        assert_eq!(&*redact(b"inline:inline:KEY"), b"inline:<redacted>");
    }
}

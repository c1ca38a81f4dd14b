//! Redaction of secrets before anything is printed or logged: digest `response` values (they
//! allow offline password cracking) and SDES keys in SDP bodies (they decrypt the media).

use sipsentry_sip::lex;
use std::borrow::Cow;

/// The marker that replaces a secret.
pub const REDACTED: &str = "<redacted>";

/// Redacts the `response` (and `cnonce`-independent secrets) of an Authorization or
/// Proxy-Authorization value. Other parameters stay: they are what an analyst needs.
pub fn auth_value(v: &[u8]) -> Cow<'_, [u8]> {
    let mut out: Option<Vec<u8>> = None;
    let mut last = 0;
    // Scan for `response` parameters outside quoted strings.
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'"' {
            i = lex::end_of_quoted(v, i).unwrap_or(v.len());
            continue;
        }
        let at_word = i == 0 || matches!(v[i - 1], b',' | b' ' | b'\t' | b'\r' | b'\n');
        if at_word && v.len() - i >= 8 && v[i..i + 8].eq_ignore_ascii_case(b"response") {
            let mut j = lex::skip_lws(v, i + 8);
            if v.get(j) == Some(&b'=') {
                j = lex::skip_lws(v, j + 1);
                let vs = j;
                let ve = if v.get(j) == Some(&b'"') {
                    lex::end_of_quoted(v, j).unwrap_or(v.len())
                } else {
                    v[j..]
                        .iter()
                        .position(|&b| b == b',' || lex::is_lws(b))
                        .map_or(v.len(), |p| p + j)
                };
                let o = out.get_or_insert_with(Vec::new);
                o.extend_from_slice(&v[last..vs]);
                o.extend_from_slice(b"\"");
                o.extend_from_slice(REDACTED.as_bytes());
                o.extend_from_slice(b"\"");
                last = ve;
                i = ve;
                continue;
            }
        }
        i += 1;
    }
    match out {
        None => Cow::Borrowed(v),
        Some(mut o) => {
            o.extend_from_slice(&v[last..]);
            Cow::Owned(o)
        }
    }
}

/// Redacts SDES keys in a body.
pub fn body(b: &[u8]) -> Cow<'_, [u8]> {
    sipsentry_sdp::redact(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_is_redacted_everywhere() {
        let v = br#"Digest username="100", realm="3CXPhoneSystem", nonce="abc", uri="sip:pbx", response="0123456789abcdef0123456789abcdef", algorithm=MD5"#;
        let r = auth_value(v);
        let s = std::str::from_utf8(&r).unwrap();
        assert!(!s.contains("0123456789abcdef"));
        assert!(s.contains(r#"response="<redacted>""#));
        assert!(s.contains(r#"username="100""#));
        let v = b"Digest username=\"a\",response=deadbeef,nonce=\"response=x\"";
        let s = String::from_utf8(auth_value(v).into_owned()).unwrap();
        assert!(!s.contains("deadbeef"), "{s}");
        assert!(s.contains("nonce=\"response=x\""));
    }
}

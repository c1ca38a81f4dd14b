//! Log-safe rendering of authentication header values.

use std::fmt::Write as _;
use std::ops::Range;

use crate::error::ParseError;
use crate::param::{contains_ignore_case, is_sensitive_name, REDACTED};
use crate::tokenize::{sub, tokenize};

/// Render a header value for logs, with secrets replaced by `<redacted>`.
///
/// Replaced: the values of `response`, `rspauth` and password-, secret- or
/// token-like parameters (quotes kept, so the shape stays visible); for
/// schemes other than Digest whose rest is not a clean parameter list (the
/// token68 of `Basic`, `Bearer`), the whole rest; and stretches the parser
/// had to skip that mention such a parameter (`response "x"` with the `=`
/// missing is still a response). When the value cannot be tokenised at all
/// nothing of it is shown, since nothing in it can be told apart.
///
/// Control characters are shown escaped (`\r`, `\n`, `\t`, `\xNN`,
/// `\u{NNNN}`) so that a hostile value cannot forge log lines; bytes that
/// are not UTF-8 become U+FFFD.
pub fn redacted(value: &[u8]) -> String {
    let header = match tokenize(value, usize::MAX) {
        Ok(h) => h,
        Err(ParseError::Empty) => return escape(value),
        Err(ParseError::TooLong { len, .. }) => {
            return format!("{REDACTED} ({len}-byte value over the size limit)")
        }
        Err(_) => return format!("{REDACTED} (unparseable value)"),
    };
    let mut cut: Vec<Range<usize>> = Vec::new();
    if !header.is_digest && !header.params_clean {
        let start = header.rest_start;
        cut.push(start..start + header.rest.len());
    } else {
        for p in &header.params {
            if is_sensitive_name(p.name()) {
                cut.push(p.value().span());
            }
        }
        for j in &header.junk {
            let text = sub(value, j.clone());
            const HINTS: [&[u8]; 7] = [
                b"response",
                b"rspauth",
                b"ha1",
                b"pass",
                b"pwd",
                b"secret",
                b"token",
            ];
            if HINTS.iter().any(|h| contains_ignore_case(text, h)) {
                cut.push(j.clone());
            }
        }
    }
    cut.sort_by_key(|r| r.start);

    let mut out = String::with_capacity(value.len() + 16);
    let mut pos = 0;
    for r in cut {
        if r.start < pos {
            // Overlap cannot happen (params and junk are disjoint), but stay
            // safe rather than print a secret if it ever does.
            pos = pos.max(r.end);
            continue;
        }
        out.push_str(&escape(sub(value, pos..r.start)));
        out.push_str(REDACTED);
        pos = r.end;
    }
    out.push_str(&escape(sub(value, pos..value.len())));
    out
}

fn escape(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() && c.is_ascii() => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:04x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_is_redacted() {
        let v = br#"Digest username="Mufasa", response="6629fae49393a05397450978507c4ef1", nc=00000001"#;
        assert_eq!(
            redacted(v),
            r#"Digest username="Mufasa", response="<redacted>", nc=00000001"#
        );
        assert_eq!(
            redacted(b"Digest response=abc, x-Password = hunter2"),
            "Digest response=<redacted>, x-Password = <redacted>"
        );
    }

    #[test]
    fn foreign_schemes() {
        assert_eq!(
            redacted(b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
            "Basic <redacted>"
        );
        assert_eq!(redacted(b"Bearer abc.def"), "Bearer <redacted>");
        assert_eq!(
            redacted(b"NoOneKnowsThisScheme opaque-data=here"),
            "NoOneKnowsThisScheme opaque-data=here"
        );
        assert_eq!(
            redacted(br#"Bearer realm="x", access_token="t0k""#),
            r#"Bearer realm="x", access_token="<redacted>""#
        );
    }

    #[test]
    fn malformed() {
        assert_eq!(
            redacted(br#"Digest response "6629fae4", realm="r""#),
            r#"Digest <redacted>, realm="r""#
        );
        assert_eq!(
            redacted(br#"Digest response="6629fae4"#),
            r#"Digest response="<redacted>"#
        );
        assert!(!redacted(b"@@ response=\"x\"").contains('x'));
        assert!(redacted(&vec![b'a'; 9000]).starts_with(REDACTED));
        assert_eq!(redacted(b" \r\n"), " \\r\\n");
    }

    #[test]
    fn control_chars_escaped() {
        let r = redacted(b"Digest realm=\"a\r\nX-Evil: 1\x00\xc2\x85\", nonce=\xff");
        assert_eq!(
            r,
            "Digest realm=\"a\\r\\nX-Evil: 1\\x00\\u{0085}\", nonce=\u{fffd}"
        );
    }

    #[test]
    fn many_params_still_redacted() {
        let mut v = b"Digest ".to_vec();
        for i in 0..100 {
            v.extend_from_slice(format!("p{i}=x, ").as_bytes());
        }
        v.extend_from_slice(b"response=\"secret-value\"");
        let r = redacted(&v);
        assert!(!r.contains("secret-value"));
    }
}

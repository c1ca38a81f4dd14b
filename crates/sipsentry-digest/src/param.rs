//! Borrowed parameters and values.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::str::Utf8Error;

/// Placeholder printed instead of a secret.
pub(crate) const REDACTED: &str = "<redacted>";

/// Debug helper that prints [`REDACTED`] without quotes.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Whether a parameter with this name carries a secret (or something an
/// attacker could brute-force offline, like `response` and `rspauth`), and so
/// must not be printed.
///
/// The substring rules are deliberately broad: over-redacting an unknown
/// parameter in a log costs little, leaking a password costs a lot.
pub(crate) fn is_sensitive_name(name: &[u8]) -> bool {
    const EXACT: [&[u8]; 4] = [b"response", b"rspauth", b"ha1", b"ha1b"];
    const SUBSTR: [&[u8]; 4] = [b"pass", b"pwd", b"secret", b"token"];
    EXACT.iter().any(|e| name.eq_ignore_ascii_case(e))
        || SUBSTR.iter().any(|s| contains_ignore_case(name, s))
}

pub(crate) fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// A parameter value, borrowed from the parsed header.
///
/// The raw slice is what was on the wire between the quotes (or the bare
/// token); [`unescaped`](Self::unescaped) resolves quoted-pairs. Digest
/// hashes are computed over the unescaped form (`unq(...)` in the RFCs).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ParamValue<'a> {
    raw: &'a [u8],
    start: usize,
    quoted: bool,
    sensitive: bool,
}

impl<'a> ParamValue<'a> {
    pub(crate) fn new(raw: &'a [u8], start: usize, quoted: bool, sensitive: bool) -> Self {
        Self {
            raw,
            start,
            quoted,
            sensitive,
        }
    }

    /// The value as on the wire, without surrounding quotes, quoted-pairs
    /// not resolved.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// Byte range of [`raw`](Self::raw) in the parsed header value.
    pub fn span(&self) -> Range<usize> {
        self.start..self.start.saturating_add(self.raw.len())
    }

    /// Whether the value was a quoted-string.
    pub fn is_quoted(&self) -> bool {
        self.quoted
    }

    /// Whether the parameter name marks this value as secret (`response`,
    /// anything password-like). Such values are never shown by `Debug`.
    pub fn is_sensitive(&self) -> bool {
        self.sensitive
    }

    /// The value with quoted-pairs (`\x` → `x`) resolved. Borrows when
    /// there is nothing to resolve, which is the common case.
    pub fn unescaped(&self) -> Cow<'a, [u8]> {
        if !self.quoted || !self.raw.contains(&b'\\') {
            return Cow::Borrowed(self.raw);
        }
        let mut out = Vec::with_capacity(self.raw.len());
        let mut bytes = self.raw.iter();
        while let Some(&b) = bytes.next() {
            if b == b'\\' {
                // A lone trailing backslash can only come from an
                // unterminated quoted-string; keep it rather than drop data.
                out.push(bytes.next().copied().unwrap_or(b));
            } else {
                out.push(b);
            }
        }
        Cow::Owned(out)
    }

    /// [`unescaped`](Self::unescaped) as UTF-8 text.
    pub fn to_str(&self) -> Result<Cow<'a, str>, Utf8Error> {
        match self.unescaped() {
            Cow::Borrowed(b) => std::str::from_utf8(b).map(Cow::Borrowed),
            Cow::Owned(v) => String::from_utf8(v)
                .map(Cow::Owned)
                .map_err(|e| e.utf8_error()),
        }
    }
}

impl fmt::Debug for ParamValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ParamValue");
        if self.sensitive {
            d.field("raw", &Redacted);
        } else {
            d.field("raw", &String::from_utf8_lossy(self.raw));
        }
        d.field("quoted", &self.quoted).finish()
    }
}

/// One `name=value` auth-param, borrowed from the parsed header.
#[derive(Clone, PartialEq, Eq)]
pub struct Param<'a> {
    name: &'a [u8],
    value: ParamValue<'a>,
    span: Range<usize>,
}

impl<'a> Param<'a> {
    pub(crate) fn new(name: &'a [u8], value: ParamValue<'a>, span: Range<usize>) -> Self {
        Self { name, value, span }
    }

    /// The parameter name as sent (compare with [`name_is`](Self::name_is),
    /// names are case-insensitive).
    pub fn name(&self) -> &'a [u8] {
        self.name
    }

    /// Case-insensitive name comparison.
    pub fn name_is(&self, name: &[u8]) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// The value.
    pub fn value(&self) -> ParamValue<'a> {
        self.value
    }

    /// Byte range of the whole `name=value` in the parsed header value.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }
}

impl fmt::Debug for Param<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Param")
            .field("name", &String::from_utf8_lossy(self.name))
            .field("value", &self.value)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_resolves_pairs() {
        let v = ParamValue::new(br#"a\"b\\c"#, 0, true, false);
        assert_eq!(&*v.unescaped(), br#"a"b\c"#);
        assert!(matches!(v.unescaped(), Cow::Owned(_)));
        let plain = ParamValue::new(b"abc", 0, true, false);
        assert!(matches!(plain.unescaped(), Cow::Borrowed(_)));
        let token = ParamValue::new(br"a\b", 0, false, false);
        assert_eq!(&*token.unescaped(), br"a\b");
        let trailing = ParamValue::new(br"ab\", 0, true, false);
        assert_eq!(&*trailing.unescaped(), br"ab\");
    }

    #[test]
    fn to_str_rejects_bad_utf8() {
        assert!(ParamValue::new(b"\xff", 0, true, false).to_str().is_err());
        assert!(ParamValue::new(b"\\\xff", 0, true, false).to_str().is_err());
        assert_eq!(
            ParamValue::new("é".as_bytes(), 0, true, false)
                .to_str()
                .unwrap(),
            "é"
        );
    }

    #[test]
    fn sensitive_names() {
        for n in [
            "response",
            "RESPONSE",
            "rspauth",
            "password",
            "X-Passwd",
            "pwd",
            "ha1",
            "client_secret",
            "access_token",
        ] {
            assert!(is_sensitive_name(n.as_bytes()), "{n}");
        }
        for n in [
            "realm", "nonce", "username", "uri", "cnonce", "opaque", "nc", "qop",
        ] {
            assert!(!is_sensitive_name(n.as_bytes()), "{n}");
        }
    }

    #[test]
    fn debug_hides_sensitive_value() {
        let v = ParamValue::new(b"6629fae49393a05397450978507c4ef1", 0, true, true);
        let s = format!("{v:?}");
        assert!(!s.contains("6629"));
        assert!(s.contains(REDACTED));
        let p = Param::new(b"response", v, 0..10);
        assert!(!format!("{p:?}").contains("6629"));
    }
}

//! Zero-copy views of body text, and the wrappers that keep key material out of logs.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

/// A field of the body, borrowed as bytes.
///
/// SDP fields are byte strings (RFC 8866 allows any charset in `s=`, `i=`, attribute values),
/// and hostile bodies are not UTF-8; keeping bytes means nothing is lost or rewritten, while
/// [`Text::as_str`] gives a `&str` without copying whenever the bytes allow it.
///
/// `Debug` and `Display` pass the text through [`crate::redact`] first, so logging any parsed
/// field never prints an SDES key even when a hostile body puts one in an unexpected place.
/// Use [`Text::as_bytes`] or [`Text::as_str`] for the exact bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Text<'a>(&'a [u8]);

impl<'a> Text<'a> {
    /// Wraps a byte slice.
    pub const fn new(bytes: &'a [u8]) -> Self {
        Text(bytes)
    }

    /// The exact bytes, borrowed from the body.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The text as `&str` when it is valid UTF-8 (always the case for well-formed tokens).
    pub fn as_str(&self) -> Option<&'a str> {
        std::str::from_utf8(self.0).ok()
    }

    /// The text with invalid UTF-8 replaced by U+FFFD (not redacted).
    pub fn to_str_lossy(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.0)
    }

    /// Length in bytes.
    pub const fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the field is empty.
    pub const fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// ASCII case-insensitive comparison, as the SDP grammar's literals are case-insensitive.
    pub fn eq_ignore_ascii_case(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other.as_bytes())
    }
}

impl PartialEq<str> for Text<'_> {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<[u8]> for Text<'_> {
    fn eq(&self, other: &[u8]) -> bool {
        self.0 == other
    }
}

impl<'a> From<&'a str> for Text<'a> {
    fn from(s: &'a str) -> Self {
        Text(s.as_bytes())
    }
}

impl<'a> From<&'a [u8]> for Text<'a> {
    fn from(s: &'a [u8]) -> Self {
        Text(s)
    }
}

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let red = crate::redact::redact(self.0);
        fmt::Debug::fmt(&String::from_utf8_lossy(&red), f)
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let red = crate::redact::redact(self.0);
        f.write_str(&String::from_utf8_lossy(&red))
    }
}

/// Key material as it appears in the body (an SDES `inline:` key||salt, a `k=` key).
///
/// Exists so that `{:?}` of any parsed structure prints `<redacted>` instead of a key that
/// would decrypt the call. Reading the key requires the explicit [`Secret::expose`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Secret<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Secret<'a> {
    pub(crate) const fn new(bytes: &'a [u8], offset: usize) -> Self {
        Secret { bytes, offset }
    }

    /// The secret's exact text. Named so that every use is visible in review.
    pub const fn expose(&self) -> &'a [u8] {
        self.bytes
    }

    /// Byte span of the secret in the body.
    pub fn span(&self) -> Range<usize> {
        self.offset..self.offset + self.bytes.len()
    }

    /// Length of the encoded text.
    pub const fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the text is empty.
    pub const fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Whether the text is the [`crate::REDACTED`] placeholder (the body was redacted already).
    pub fn is_redacted(&self) -> bool {
        self.bytes == crate::REDACTED.as_bytes()
    }

    /// Decodes the text as base64 (standard alphabet, padding optional).
    pub fn decode_base64(&self) -> Option<KeyMaterial> {
        crate::crypto::decode_b64(self.bytes).map(KeyMaterial)
    }
}

impl fmt::Debug for Secret<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(crate::REDACTED)
    }
}

/// Decoded key bytes. `Debug` prints `<redacted>`; the bytes are overwritten on drop
/// (best effort: without `unsafe`, the compiler may still have copied them elsewhere).
#[derive(Clone, PartialEq, Eq)]
pub struct KeyMaterial(Vec<u8>);

impl KeyMaterial {
    /// The decoded bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Number of decoded bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether nothing was decoded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Drop for KeyMaterial {
    fn drop(&mut self) {
        for b in self.0.iter_mut() {
            *b = 0;
        }
        std::hint::black_box(&self.0);
    }
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyMaterial({} bytes {})", self.0.len(), crate::REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_helpers() {
        let t = Text::new(b"IN");
        assert_eq!(t, "IN");
        assert!(t.eq_ignore_ascii_case("in"));
        assert_eq!(t.as_str(), Some("IN"));
        assert_eq!(Text::new(b"\xff").as_str(), None);
        assert_eq!(Text::new(b"\xff").to_str_lossy(), "\u{fffd}");
    }

    #[test]
    fn text_debug_redacts_inline_keys() {
        let t = Text::new(b"1 AES_CM_128_HMAC_SHA1_80 inline:SECRETSECRET|2^20");
        let d = format!("{t:?} {t}");
        assert!(!d.contains("SECRETSECRET"), "{d}");
        assert!(d.contains("inline:<redacted>|2^20"));
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret::new(b"c2VjcmV0a2V5", 7);
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(s.span(), 7..19);
        let k = s.decode_base64().unwrap();
        assert_eq!(k.expose(), b"secretkey");
        assert!(!format!("{k:?}").contains("secret"));
    }
}

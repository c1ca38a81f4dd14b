//! Safe rendering of untrusted bytes.
//!
//! Attack traffic may carry terminal escape sequences, NULs and invalid UTF-8 on purpose; none of
//! that may reach an admin's terminal raw. Everything printed from a message goes through here.

/// Renders bytes for a terminal: valid UTF-8 printable text as is, everything else escaped
/// (`\r`, `\n`, `\t`, `\xHH`). Borrows when nothing needs escaping (the common case, and the
/// hot path of `analyze`'s table).
pub fn escape(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    if bytes
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b) && b != b'\\')
    {
        // Printable ASCII is valid UTF-8.
        return std::borrow::Cow::Borrowed(std::str::from_utf8(bytes).unwrap_or_default());
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\r' => out.push_str("\\r"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        out.push_str(&format!("\\x{b:02x}"));
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Renders bytes for JSON: lossless for UTF-8; invalid bytes become U+FFFD (serde_json escapes
/// control characters itself).
pub fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(escape(b"a\x1b[31mb"), "a\\x1b[31mb");
        assert_eq!(escape(b"\x00\xff"), "\\x00\\xff");
        assert_eq!(escape("простое".as_bytes()), "простое");
    }
}

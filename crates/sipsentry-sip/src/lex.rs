//! Byte-level lexing shared by every typed view.
//!
//! SIP header values may contain folded lines (`CRLF 1*WSP`). Rather than copy a value to unfold
//! it, every routine here treats CR and LF as linear white space: by the time a value reaches a
//! view, the message parser has already proven that any CR/LF inside it is part of a fold, so the
//! two readings are equivalent and the views stay zero-copy.

/// RFC 3261 `token` characters: `alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~"`.
#[inline]
pub fn is_token(b: u8) -> bool {
    TOKEN_TABLE[b as usize]
}

const TOKEN_TABLE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
            );
        i += 1;
    }
    t
};

/// Linear white space inside an already-delimited header value (SP, HT and the CR/LF of folds).
#[inline]
pub fn is_lws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Whether every byte is a token character (and there is at least one).
#[inline]
pub fn is_token_str(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_token(b))
}

/// Trims linear white space on both ends.
#[inline]
pub fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| !is_lws(b)).unwrap_or(s.len());
    let end = s.iter().rposition(|&b| !is_lws(b)).map_or(start, |p| p + 1);
    &s[start..end.max(start)]
}

/// Offset of `sub` inside `whole`, when `sub` was sliced out of it.
#[inline]
pub fn offset_in(whole: &[u8], sub: &[u8]) -> usize {
    (sub.as_ptr() as usize)
        .saturating_sub(whole.as_ptr() as usize)
        .min(whole.len())
}

/// Whether `s` contains linear white space.
#[inline]
pub fn has_lws(s: &[u8]) -> bool {
    s.iter().any(|&b| is_lws(b))
}

/// Given `s[i] == b'"'`, returns the index just past the closing quote, honouring quoted-pairs.
/// `None` when the string is unterminated.
pub fn end_of_quoted(s: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < s.len() {
        match s[j] {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

/// Splits a comma-separated header value into its elements, ignoring commas inside quoted
/// strings and inside `<...>` (URIs may hold commas in their user part).
///
/// Elements are trimmed. An element may be empty (`a,,b`): the caller decides whether that is an
/// anomaly. An unterminated quote swallows the rest of the value into one element, so the caller
/// sees the imbalance instead of a silently split value.
pub struct ListIter<'a> {
    s: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> ListIter<'a> {
    /// Starts splitting `s`.
    pub fn new(s: &'a [u8]) -> Self {
        ListIter {
            s,
            pos: 0,
            done: false,
        }
    }
}

impl<'a> Iterator for ListIter<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.done {
            return None;
        }
        let s = self.s;
        let start = self.pos;
        let mut i = start;
        let mut angle = false;
        while i < s.len() {
            match s[i] {
                b'"' if !angle => match end_of_quoted(s, i) {
                    Some(e) => {
                        i = e;
                        continue;
                    }
                    None => break,
                },
                b'<' => angle = true,
                b'>' => angle = false,
                b',' if !angle => {
                    self.pos = i + 1;
                    return Some(trim(&s[start..i]));
                }
                _ => {}
            }
            i += 1;
        }
        self.done = true;
        Some(trim(&s[start..]))
    }
}

/// A `;name[=value]` parameter. `value` is raw: a quoted string keeps its quotes (see
/// [`unquote`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param<'a> {
    /// Parameter name, as written (compare case-insensitively).
    pub name: &'a [u8],
    /// Raw value, `None` for a flag parameter such as `;lr` or `;rport`.
    pub value: Option<&'a [u8]>,
}

/// Iterates `;`-separated parameters in a raw parameter string (the part after the first `;`,
/// or a string that starts with `;`). Tolerates LWS around `;` and `=` as RFC 3261's SEMI and
/// EQUAL allow. Empty parameters (`;;`) are yielded with an empty name so that validators can flag
/// them.
#[derive(Clone)]
pub struct ParamIter<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> ParamIter<'a> {
    /// Starts iterating parameters in `s`.
    pub fn new(s: &'a [u8]) -> Self {
        let mut it = ParamIter { s, pos: 0 };
        // Accept an optional leading ';'.
        let p = skip_lws(s, 0);
        if s.get(p) == Some(&b';') {
            it.pos = p + 1;
        } else {
            it.pos = p;
        }
        it
    }

    /// First parameter with this name (case-insensitive).
    pub fn get(self, name: &[u8]) -> Option<Param<'a>> {
        self.into_iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }
}

impl<'a> Iterator for ParamIter<'a> {
    type Item = Param<'a>;
    fn next(&mut self) -> Option<Param<'a>> {
        let s = self.s;
        let mut i = skip_lws(s, self.pos);
        if i >= s.len() {
            return None;
        }
        let name_start = i;
        while i < s.len() && !matches!(s[i], b'=' | b';') && !is_lws(s[i]) {
            i += 1;
        }
        let name = &s[name_start..i];
        i = skip_lws(s, i);
        let mut value = None;
        if i < s.len() && s[i] == b'=' {
            i = skip_lws(s, i + 1);
            let vs = i;
            if i < s.len() && s[i] == b'"' {
                i = end_of_quoted(s, i).unwrap_or(s.len());
            } else if i < s.len() && s[i] == b'[' {
                while i < s.len() && s[i] != b']' {
                    i += 1;
                }
                i = (i + 1).min(s.len());
            } else {
                while i < s.len() && s[i] != b';' && !is_lws(s[i]) {
                    i += 1;
                }
            }
            value = Some(&s[vs..i]);
            i = skip_lws(s, i);
        }
        // Skip anything up to the next ';' (garbage after a value shows up as part of nothing;
        // validators compare spans if they care).
        while i < s.len() && s[i] != b';' {
            i += 1;
        }
        self.pos = if i < s.len() { i + 1 } else { s.len() };
        if name.is_empty() && value.is_none() && i >= s.len() {
            // Only white space after the last ';': the caller sees the trailing ';' itself.
            return None;
        }
        Some(Param { name, value })
    }
}

/// Skips LWS from `i`.
#[inline]
pub fn skip_lws(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && is_lws(s[i]) {
        i += 1;
    }
    i
}

/// Strips surrounding quotes from a quoted-string, leaving quoted-pairs escaped. Unquoted input
/// is returned unchanged.
pub fn unquote(s: &[u8]) -> &[u8] {
    if s.len() >= 2 && s[0] == b'"' && s[s.len() - 1] == b'"' {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// Resolves quoted-pairs (`\x` → `x`) in the inside of a quoted string.
pub fn unescape_quoted(s: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !s.contains(&b'\\') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' && i + 1 < s.len() {
            out.push(s[i + 1]);
            i += 2;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Decodes RFC 3986 %-escapes. A `%` not followed by two hex digits is kept literally: RFC 4475
/// esc02 shows such bytes are legal where `%` is not an escape.
pub fn percent_decode(s: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !s.contains(&b'%') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' && i + 2 < s.len() {
            if let (Some(h), Some(l)) = (hex(s[i + 1]), hex(s[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    std::borrow::Cow::Owned(out)
}

#[inline]
fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Parses an unsigned decimal with no sign and no white space. Distinguishes "not a number" from
/// "too large" because RFC 3261 treats overlarge scalars as their own class of error.
pub fn parse_decimal(s: &[u8], max: u64) -> Result<u64, NumError> {
    if s.is_empty() {
        return Err(NumError::Invalid);
    }
    let mut v: u64 = 0;
    let mut overflow = false;
    for &b in s {
        if !b.is_ascii_digit() {
            return Err(NumError::Invalid);
        }
        if !overflow {
            match v
                .checked_mul(10)
                .and_then(|x| x.checked_add(u64::from(b - b'0')))
            {
                Some(x) if x <= max => v = x,
                _ => overflow = true,
            }
        }
    }
    if overflow {
        Err(NumError::TooLarge)
    } else {
        Ok(v)
    }
}

/// Why a decimal scalar was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumError {
    /// Not a run of ASCII digits.
    Invalid,
    /// Digits, but above the field's maximum.
    TooLarge,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_split_respects_quotes_and_angles() {
        let v: Vec<_> = ListIter::new(b"\"a,b\" <sip:x,y@h>;p=1 , <sip:z@h>").collect();
        assert_eq!(v, vec![&b"\"a,b\" <sip:x,y@h>;p=1"[..], &b"<sip:z@h>"[..]]);
        let v: Vec<_> = ListIter::new(b"a,,b,").collect();
        assert_eq!(v, vec![&b"a"[..], b"", b"b", b""]);
    }

    #[test]
    fn params_with_lws_and_flags() {
        let p: Vec<_> = ParamIter::new(b" ;   tag    = 1918181833n ; lr").collect();
        assert_eq!(p[0].name, b"tag");
        assert_eq!(p[0].value, Some(&b"1918181833n"[..]));
        assert_eq!(p[1].name, b"lr");
        assert_eq!(p[1].value, None);
        let p: Vec<_> = ParamIter::new(b";;;").collect();
        assert_eq!(p.len(), 2);
        assert!(p.iter().all(|p| p.name.is_empty()));
        let p: Vec<_> = ParamIter::new(b"").collect();
        assert!(p.is_empty());
        let p: Vec<_> = ParamIter::new(b";received=[2001:db8::1];rport").collect();
        assert_eq!(p[0].value, Some(&b"[2001:db8::1]"[..]));
    }

    #[test]
    fn decimal_overflow_vs_invalid() {
        assert_eq!(parse_decimal(b"0009", u32::MAX as u64), Ok(9));
        assert_eq!(
            parse_decimal(b"36893488147419103232", u32::MAX as u64),
            Err(NumError::TooLarge)
        );
        assert_eq!(parse_decimal(b"-999", u64::MAX), Err(NumError::Invalid));
    }

    #[test]
    fn percent_decoding_keeps_non_escapes() {
        assert_eq!(&*percent_decode(b"RE%47IST%45R"), b"REGISTER");
        assert_eq!(&*percent_decode(b"%Z%45"), b"%ZE");
        assert_eq!(&*percent_decode(b"a%4"), b"a%4");
        assert_eq!(&*percent_decode(b"%00"), b"\0");
    }
}

//! Line and field splitting shared by the parser and the redactor.
//!
//! Both must agree byte for byte on where a line and a key end: a key the parser finds must
//! lie inside a span the redactor replaces. Sharing one splitter is how that is guaranteed.

/// How a line ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Eol {
    CrLf,
    Lf,
    None,
}

/// One line: `start..end` is its content without the terminator, `next` where the next begins.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LineRef {
    pub start: usize,
    pub end: usize,
    pub next: usize,
    pub eol: Eol,
}

/// Splits at LF; one CR right before the LF (or at the very end) belongs to the terminator.
pub(crate) struct Lines<'a> {
    body: &'a [u8],
    pos: usize,
}

pub(crate) fn lines(body: &[u8]) -> Lines<'_> {
    Lines { body, pos: 0 }
}

impl Iterator for Lines<'_> {
    type Item = LineRef;

    fn next(&mut self) -> Option<LineRef> {
        let start = self.pos;
        let rest = self.body.get(start..).filter(|r| !r.is_empty())?;
        match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                let nl = start + i;
                let (end, eol) = if i > 0 && rest[i - 1] == b'\r' {
                    (nl - 1, Eol::CrLf)
                } else {
                    (nl, Eol::Lf)
                };
                self.pos = nl + 1;
                Some(LineRef {
                    start,
                    end,
                    next: nl + 1,
                    eol,
                })
            }
            None => {
                let len = self.body.len();
                let end = if rest.last() == Some(&b'\r') {
                    len - 1
                } else {
                    len
                };
                self.pos = len;
                Some(LineRef {
                    start,
                    end,
                    next: len,
                    eol: Eol::None,
                })
            }
        }
    }
}

/// Field separators: SP, HTAB, and a stray CR (already flagged as `sdp-bare-cr`).
pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r')
}

/// Whether fields are separated by anything other than exactly one SP.
pub(crate) fn irregular_ws(s: &[u8]) -> bool {
    s.first().is_some_and(|&b| is_ws(b))
        || s.last().is_some_and(|&b| is_ws(b))
        || s.windows(2).any(|w| is_ws(w[0]) && is_ws(w[1]))
        || s.contains(&b'\t')
}

/// Whitespace-separated fields with their absolute offsets.
pub(crate) struct Fields<'a> {
    s: &'a [u8],
    base: usize,
    pos: usize,
}

pub(crate) fn fields(s: &[u8], base: usize) -> Fields<'_> {
    Fields { s, base, pos: 0 }
}

impl<'a> Fields<'a> {
    /// Everything from the next field to the end, or `None` when nothing is left.
    pub fn rest(&mut self) -> Option<(usize, &'a [u8])> {
        while self.pos < self.s.len() && is_ws(self.s[self.pos]) {
            self.pos += 1;
        }
        if self.pos >= self.s.len() {
            return None;
        }
        let start = self.pos;
        self.pos = self.s.len();
        Some((self.base + start, &self.s[start..]))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        while self.pos < self.s.len() && is_ws(self.s[self.pos]) {
            self.pos += 1;
        }
        if self.pos >= self.s.len() {
            return None;
        }
        let start = self.pos;
        while self.pos < self.s.len() && !is_ws(self.s[self.pos]) {
            self.pos += 1;
        }
        Some((self.base + start, &self.s[start..self.pos]))
    }
}

/// Splits `s` at every `sep`, yielding pieces with absolute offsets.
pub(crate) fn split_at_byte(
    s: &[u8],
    base: usize,
    sep: u8,
) -> impl Iterator<Item = (usize, &[u8])> {
    let mut off = base;
    s.split(move |&b| b == sep).map(move |piece| {
        let o = off;
        off += piece.len() + 1;
        (o, piece)
    })
}

/// Parses 1 or more ASCII digits into a `u64`, rejecting overflow.
pub(crate) fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(body: &[u8]) -> Vec<(&[u8], Eol)> {
        lines(body)
            .map(|l| (&body[l.start..l.end], l.eol))
            .collect()
    }

    #[test]
    fn splits_crlf_lf_and_unterminated() {
        assert_eq!(
            collect(b"a\r\nb\nc\r\r\nd\r"),
            vec![
                (&b"a"[..], Eol::CrLf),
                (&b"b"[..], Eol::Lf),
                (&b"c\r"[..], Eol::CrLf),
                (&b"d"[..], Eol::None)
            ]
        );
        assert_eq!(collect(b""), vec![]);
        assert_eq!(
            collect(b"\n\n"),
            vec![(&b""[..], Eol::Lf), (&b""[..], Eol::Lf)]
        );
    }

    #[test]
    fn fields_and_whitespace() {
        let f: Vec<_> = fields(b" a  b\tc ", 10).collect();
        assert_eq!(f, vec![(11, &b"a"[..]), (14, &b"b"[..]), (16, &b"c"[..])]);
        assert!(irregular_ws(b" a"));
        assert!(irregular_ws(b"a  b"));
        assert!(!irregular_ws(b"a b c"));
        let mut f = fields(b"1 2 3 4", 0);
        f.next();
        assert_eq!(f.rest(), Some((2, &b"2 3 4"[..])));
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"1a"), None);
        let p: Vec<_> = split_at_byte(b"a;bc;", 5, b';').collect();
        assert_eq!(p, vec![(5, &b"a"[..]), (7, &b"bc"[..]), (10, &b""[..])]);
    }
}

//! Small byte-slice helpers. Nothing here indexes without a bounds check.

use std::ops::Range;

// Needles here are short literals and haystacks are single log lines, so scanning for the
// needle's first byte with `memchr` and comparing in place beats building a `memmem::Finder`
// per call. The needles have no self-overlap that could make this quadratic in practice; the
// worst case is bounded by `MAX_LINE_LEN` x needle length.

#[inline]
pub(crate) fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    let (&first, rest) = n.split_first()?;
    memchr::memchr_iter(first, h).find(|&p| h[p + 1..].starts_with(rest))
}

#[inline]
pub(crate) fn rfind(h: &[u8], n: &[u8]) -> Option<usize> {
    let (&first, rest) = n.split_first()?;
    memchr::memrchr_iter(first, h).find(|&p| h[p + 1..].starts_with(rest))
}

/// All start positions of `n` in `h`, left to right (overlapping matches included).
#[inline]
pub(crate) fn find_all<'h, 'n>(
    h: &'h [u8],
    n: &'n [u8],
) -> impl Iterator<Item = usize> + use<'h, 'n> {
    let (first, rest) = match n.split_first() {
        Some((&f, r)) => (Some(f), r),
        None => (None, &[][..]),
    };
    first
        .into_iter()
        .flat_map(move |f| memchr::memchr_iter(f, h))
        .filter(move |&p| h[p + 1..].starts_with(rest))
}

#[inline]
pub(crate) fn skip_spaces(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
    &s[n..]
}

/// Split at the first byte that fails `pred`.
#[inline]
pub(crate) fn split_while(s: &[u8], pred: impl Fn(u8) -> bool) -> (&[u8], &[u8]) {
    let n = s.iter().take_while(|&&b| pred(b)).count();
    s.split_at(n)
}

/// Byte range of `sub` inside `line`. `sub` must be a sub-slice of `line`; anything else is
/// clamped to an empty range at the end rather than panicking.
pub(crate) fn span_of(line: &[u8], sub: &[u8]) -> Range<usize> {
    let base = line.as_ptr() as usize;
    let p = sub.as_ptr() as usize;
    match p.checked_sub(base) {
        Some(start) if start <= line.len() && sub.len() <= line.len() - start => {
            start..start + sub.len()
        }
        _ => line.len()..line.len(),
    }
}

/// Strip one trailing `\n` and any trailing `\r`.
pub(crate) fn trim_eol(mut s: &[u8]) -> &[u8] {
    if let Some(rest) = s.strip_suffix(b"\n") {
        s = rest;
    }
    while let Some(rest) = s.strip_suffix(b"\r") {
        s = rest;
    }
    s
}

#[inline]
pub(crate) fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `sip:user@` / `sips:user@` user part from attacker-supplied URI text (first URI only).
pub(crate) fn sip_user(s: &[u8]) -> Option<&[u8]> {
    let start = find(s, b"sip:")
        .map(|p| p + 4)
        .or_else(|| find(s, b"sips:").map(|p| p + 5))?;
    let rest = s.get(start..)?;
    let end = rest
        .iter()
        .position(|&b| matches!(b, b'@' | b'>' | b';' | b'\'' | b'"' | b' '))?;
    if rest.get(end) == Some(&b'@') && end > 0 {
        Some(&rest[..end])
    } else {
        None
    }
}

/// `None` for an empty slice.
#[inline]
pub(crate) fn non_empty(s: &[u8]) -> Option<&[u8]> {
    (!s.is_empty()).then_some(s)
}

//! The shared tokenizer behind challenges, credentials and redaction.
//!
//! Grammar (RFC 7235 §2.1, RFC 3261 §25.1), made lenient:
//! `auth-scheme 1*SP auth-param *(COMMA auth-param)`, where an auth-param is
//! `token BWS "=" BWS (token / quoted-string)`. CR, LF, SP and HT all count as
//! whitespace so that folded SIP headers parse as they are. Anything else that
//! does not fit is recorded as a [`Problem`](crate::Problem), skipped up to the
//! next comma outside quotes, and parsing goes on.
//!
//! Every slice access goes through `get`, so no input can make this panic.

use std::ops::Range;

use crate::error::ParseError;
use crate::param::{is_sensitive_name, Param, ParamValue};
use crate::problem::{ProblemKind, Problems};
use crate::{MAX_PARAMS, MAX_VALUE_LEN};

pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// RFC 7230 `tchar` (a superset of the RFC 3261 token alphabet).
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// Control characters other than the whitespace we accept.
pub(crate) fn is_ctl(b: u8) -> bool {
    (b < 0x20 && !is_ws(b)) || b == 0x7f
}

fn at(input: &[u8], i: usize) -> Option<u8> {
    input.get(i).copied()
}

pub(crate) fn sub(input: &[u8], r: Range<usize>) -> &[u8] {
    input.get(r).unwrap_or(&[])
}

fn scan(input: &[u8], mut i: usize, pred: impl Fn(u8) -> bool) -> usize {
    while at(input, i).is_some_and(&pred) {
        i += 1;
    }
    i
}

fn skip_ws(input: &[u8], i: usize) -> usize {
    scan(input, i, is_ws)
}

/// Index of the next comma outside a quoted-string, or the end. A quote
/// opened in the skipped stretch and never closed is reported, since
/// unbalanced quotes are a classic parser-confusion probe.
fn skip_to_comma(input: &[u8], mut i: usize, problems: &mut Problems) -> usize {
    let mut open_quote = None;
    while let Some(b) = at(input, i) {
        if open_quote.is_some() {
            match b {
                b'\\' => {
                    i += 2;
                    continue;
                }
                b'"' => open_quote = None,
                _ => {}
            }
        } else {
            match b {
                b',' => break,
                b'"' => open_quote = Some(i),
                _ => {}
            }
        }
        i += 1;
    }
    if let Some(q) = open_quote {
        problems.push(ProblemKind::UnterminatedQuotedString, q..input.len());
    }
    i.min(input.len())
}

/// A tokenised header value.
#[derive(Debug, Clone)]
pub(crate) struct Header<'a> {
    pub(crate) input: &'a [u8],
    pub(crate) scheme: &'a [u8],
    pub(crate) rest: &'a [u8],
    pub(crate) rest_start: usize,
    pub(crate) is_digest: bool,
    /// For non-Digest schemes: whether `rest` parsed cleanly as auth-params
    /// (otherwise it is treated as an opaque token68 and `params` is empty).
    pub(crate) params_clean: bool,
    pub(crate) params: Vec<Param<'a>>,
    pub(crate) problems: Problems,
    /// Skipped byte ranges, kept for redaction (uncapped, unlike problems).
    pub(crate) junk: Vec<Range<usize>>,
}

struct ParamList<'a> {
    params: Vec<Param<'a>>,
    problems: Problems,
    junk: Vec<Range<usize>>,
}

/// Tokenise a header value. `max_params` is [`MAX_PARAMS`] for parsing and
/// unbounded for redaction, which must see every parameter.
pub(crate) fn tokenize(input: &[u8], max_params: usize) -> Result<Header<'_>, ParseError> {
    if input.len() > MAX_VALUE_LEN {
        return Err(ParseError::TooLong {
            len: input.len(),
            max: MAX_VALUE_LEN,
        });
    }
    let start = skip_ws(input, 0);
    if start >= input.len() {
        return Err(ParseError::Empty);
    }
    let scheme_end = scan(input, start, is_tchar);
    if scheme_end == start {
        return Err(ParseError::InvalidScheme { offset: start });
    }
    let scheme = sub(input, start..scheme_end);
    let is_digest = scheme.eq_ignore_ascii_case(b"Digest");

    let mut trimmed_end = input.len();
    while trimmed_end > scheme_end && at(input, trimmed_end - 1).is_some_and(is_ws) {
        trimmed_end -= 1;
    }
    let rest_start = skip_ws(input, scheme_end).min(trimmed_end);
    let rest = sub(input, rest_start..trimmed_end);

    let mut problems = Problems::default();
    if scheme_end < input.len() && !is_ws(at(input, scheme_end).unwrap_or(b' ')) {
        problems.push(
            ProblemKind::MissingSpaceAfterScheme,
            scheme_end..scheme_end + 1,
        );
    }

    let list = parse_params(input, rest_start, max_params);
    let mut header = Header {
        input,
        scheme,
        rest,
        rest_start,
        is_digest,
        params_clean: true,
        params: Vec::new(),
        problems,
        junk: Vec::new(),
    };
    match list {
        Ok(list) if is_digest => {
            for p in list.problems.into_vec() {
                header.problems.push(p.kind, p.span);
            }
            header.params = list.params;
            header.junk = list.junk;
        }
        Err(e) if is_digest => return Err(e),
        Ok(list) if header.problems.is_empty() && list.problems.is_empty() => {
            header.params = list.params;
        }
        // Other schemes may carry a token68 (`Basic dXNlcjpwYXNz`) or
        // anything else: not an error, just opaque.
        _ => {
            header.params_clean = false;
            header.problems = Problems::default();
        }
    }
    Ok(header)
}

/// Report every parameter whose name occurred before. Quadratic, which is
/// fine under the [`MAX_PARAMS`] cap; redaction, which lifts the cap, does
/// not call it.
pub(crate) fn flag_duplicates(params: &[Param<'_>], problems: &mut Problems) {
    for (i, p) in params.iter().enumerate() {
        let earlier = params.get(..i).unwrap_or(&[]);
        if earlier.iter().any(|q| q.name_is(p.name())) {
            problems.push(ProblemKind::DuplicateParam, p.span());
        }
    }
}

fn parse_params(
    input: &[u8],
    mut pos: usize,
    max_params: usize,
) -> Result<ParamList<'_>, ParseError> {
    let mut out = ParamList {
        params: Vec::new(),
        problems: Problems::default(),
        junk: Vec::new(),
    };
    loop {
        // Empty list elements (`,,`) are legal (RFC 7230 §7).
        pos = scan(input, pos, |b| is_ws(b) || b == b',');
        if pos >= input.len() {
            break;
        }
        let name_start = pos;
        let name_end = scan(input, pos, is_tchar);
        if name_end == name_start {
            let stop = skip_to_comma(input, pos, &mut out.problems);
            out.problems.push(ProblemKind::InvalidParamName, pos..stop);
            out.junk.push(pos..stop);
            pos = stop;
            continue;
        }
        let eq = skip_ws(input, name_end);
        if at(input, eq) != Some(b'=') {
            let stop = skip_to_comma(input, name_end, &mut out.problems);
            out.problems
                .push(ProblemKind::MissingEquals, name_start..stop);
            out.junk.push(name_start..stop);
            pos = stop;
            continue;
        }
        let name = sub(input, name_start..name_end);
        let sensitive = is_sensitive_name(name);
        let vstart = skip_ws(input, eq + 1);
        let (value, value_end) = match at(input, vstart) {
            Some(b'"') => parse_quoted(input, vstart, sensitive, &mut out.problems),
            None | Some(b',') => {
                out.problems
                    .push(ProblemKind::EmptyValue, name_start..vstart);
                (ParamValue::new(&[], vstart, false, sensitive), vstart)
            }
            Some(_) => {
                let end = scan(input, vstart, |b| !(is_ws(b) || b == b',' || b == b'"'));
                let raw = sub(input, vstart..end);
                if !raw.iter().all(|&b| is_tchar(b)) {
                    out.problems
                        .push(ProblemKind::InvalidTokenChar, vstart..end);
                }
                (ParamValue::new(raw, vstart, false, sensitive), end)
            }
        };
        if out.params.len() >= max_params {
            return Err(ParseError::TooManyParams { max: MAX_PARAMS });
        }
        out.params
            .push(Param::new(name, value, name_start..value_end));

        pos = skip_ws(input, value_end);
        match at(input, pos) {
            None => break,
            Some(b',') => pos += 1,
            Some(_) => {
                let stop = skip_to_comma(input, pos, &mut out.problems);
                out.problems.push(ProblemKind::ExpectedComma, pos..stop);
                out.junk.push(pos..stop);
                pos = stop;
            }
        }
    }
    Ok(out)
}

/// Parse a quoted-string whose opening quote is at `open`. Returns the value
/// and the index just past the closing quote (or the end of input).
fn parse_quoted<'a>(
    input: &'a [u8],
    open: usize,
    sensitive: bool,
    problems: &mut Problems,
) -> (ParamValue<'a>, usize) {
    let content = open + 1;
    let mut i = content;
    let mut ctl = false;
    let close = loop {
        match at(input, i) {
            None => break None,
            Some(b'"') => break Some(i),
            Some(b'\\') => {
                if i + 1 >= input.len() {
                    break None;
                }
                i += 2;
            }
            Some(b) => {
                ctl |= is_ctl(b);
                i += 1;
            }
        }
    };
    let (raw_end, value_end) = match close {
        Some(c) => (c, c + 1),
        None => {
            problems.push(ProblemKind::UnterminatedQuotedString, open..input.len());
            (input.len(), input.len())
        }
    };
    if ctl {
        problems.push(ProblemKind::ControlCharacter, content..raw_end);
    }
    let raw = sub(input, content..raw_end);
    (ParamValue::new(raw, content, true, sensitive), value_end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Problem;

    fn kinds(h: &Header<'_>) -> Vec<ProblemKind> {
        h.problems
            .clone()
            .into_vec()
            .into_iter()
            .map(|p: Problem| p.kind)
            .collect()
    }

    #[test]
    fn basic_params() {
        let h = tokenize(br#"Digest realm="a b", nonce=xyz ,qop="auth""#, MAX_PARAMS).unwrap();
        assert_eq!(h.scheme, b"Digest");
        assert!(h.is_digest);
        assert_eq!(h.params.len(), 3);
        assert_eq!(h.params[0].value().raw(), b"a b");
        assert!(h.params[0].value().is_quoted());
        assert_eq!(h.params[1].value().raw(), b"xyz");
        assert!(!h.params[1].value().is_quoted());
        assert_eq!(h.params[2].value().raw(), b"auth");
        assert!(kinds(&h).is_empty());
    }

    #[test]
    fn errors() {
        assert_eq!(tokenize(b"", MAX_PARAMS).unwrap_err(), ParseError::Empty);
        assert_eq!(
            tokenize(b" \r\n\t ", MAX_PARAMS).unwrap_err(),
            ParseError::Empty
        );
        assert_eq!(
            tokenize(b"  =x", MAX_PARAMS).unwrap_err(),
            ParseError::InvalidScheme { offset: 2 }
        );
        let long = vec![b'a'; MAX_VALUE_LEN + 1];
        assert!(matches!(
            tokenize(&long, MAX_PARAMS).unwrap_err(),
            ParseError::TooLong { .. }
        ));
    }

    #[test]
    fn param_cap() {
        let mut v = b"Digest ".to_vec();
        for i in 0..MAX_PARAMS {
            v.extend_from_slice(format!("p{i}=x,").as_bytes());
        }
        assert_eq!(tokenize(&v, MAX_PARAMS).unwrap().params.len(), MAX_PARAMS);
        v.extend_from_slice(b"one=more");
        assert_eq!(
            tokenize(&v, MAX_PARAMS).unwrap_err(),
            ParseError::TooManyParams { max: MAX_PARAMS }
        );
        assert_eq!(
            tokenize(&v, usize::MAX).unwrap().params.len(),
            MAX_PARAMS + 1
        );
    }

    #[test]
    fn recovery() {
        let h = tokenize(br#"Digest @@@, realm"x", a=, b="open"#, MAX_PARAMS).unwrap();
        assert_eq!(
            kinds(&h),
            vec![
                ProblemKind::InvalidParamName,
                ProblemKind::MissingEquals,
                ProblemKind::EmptyValue,
                ProblemKind::UnterminatedQuotedString
            ]
        );
        assert_eq!(h.params.len(), 2);
        assert_eq!(h.params[1].value().raw(), b"open");
        assert_eq!(h.junk.len(), 2);
    }

    #[test]
    fn junk_after_value_and_quoted_commas() {
        let h = tokenize(br#"Digest a="x"y"z,w", b=c"#, MAX_PARAMS).unwrap();
        assert_eq!(kinds(&h), vec![ProblemKind::ExpectedComma]);
        assert_eq!(h.params.len(), 2);
        assert_eq!(h.params[1].name(), b"b");
    }

    #[test]
    fn non_digest_token68_is_opaque() {
        let h = tokenize(b"Basic dXNlcjpwYXNzd29yZA==", MAX_PARAMS).unwrap();
        assert!(!h.is_digest);
        assert!(!h.params_clean);
        assert!(h.params.is_empty());
        assert!(h.problems.is_empty());
        assert_eq!(h.rest, b"dXNlcjpwYXNzd29yZA==");
        let h = tokenize(b"NoOneKnowsThisScheme opaque-data=here", MAX_PARAMS).unwrap();
        assert!(h.params_clean);
        assert_eq!(h.params.len(), 1);
    }

    #[test]
    fn missing_space_after_scheme() {
        let h = tokenize(br#"Digest"x""#, MAX_PARAMS).unwrap();
        assert_eq!(kinds(&h)[0], ProblemKind::MissingSpaceAfterScheme);
    }

    #[test]
    fn escape_at_end_is_unterminated() {
        let h = tokenize(b"Digest a=\"\\", MAX_PARAMS).unwrap();
        assert_eq!(kinds(&h), vec![ProblemKind::UnterminatedQuotedString]);
        assert_eq!(h.params[0].value().raw(), b"\\");
    }
}

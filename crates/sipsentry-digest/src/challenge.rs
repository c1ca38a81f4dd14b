//! `WWW-Authenticate` / `Proxy-Authenticate` values.

use std::fmt;

use crate::algorithm::{Algorithm, QopOptions};
use crate::error::ParseError;
use crate::param::{Param, ParamValue};
use crate::problem::{Problem, ProblemKind, Problems};
use crate::tokenize::{flag_duplicates, tokenize, Header};
use crate::MAX_PARAMS;

pub(crate) fn first<'a>(params: &[Param<'a>], name: &[u8]) -> Option<ParamValue<'a>> {
    params.iter().find(|p| p.name_is(name)).map(|p| p.value())
}

/// `true`/`false` check shared by `stale` and `userhash`.
pub(crate) fn check_bool(v: Option<ParamValue<'_>>, problems: &mut Problems) {
    if let Some(v) = v {
        let r = v.raw();
        if !(r.eq_ignore_ascii_case(b"true") || r.eq_ignore_ascii_case(b"false")) {
            problems.push(ProblemKind::InvalidBoolean, v.span());
        }
    }
}

pub(crate) fn is_true(v: Option<ParamValue<'_>>) -> bool {
    v.is_some_and(|v| v.raw().eq_ignore_ascii_case(b"true"))
}

pub(crate) fn require(
    name: &'static str,
    v: Option<ParamValue<'_>>,
    len: usize,
    problems: &mut Problems,
) {
    if v.is_none() {
        problems.push(ProblemKind::MissingParam(name), 0..len);
    }
}

pub(crate) fn expect_quoted(v: Option<ParamValue<'_>>, problems: &mut Problems) {
    if let Some(v) = v {
        if !v.is_quoted() {
            problems.push(ProblemKind::ExpectedQuotedString, v.span());
        }
    }
}

/// A parsed challenge: the value of a `WWW-Authenticate` or
/// `Proxy-Authenticate` header (RFC 2617 §3.2.1, RFC 7616 §3.3, RFC 3261
/// §22.4).
///
/// Parsing is zero-copy and lenient: anything odd but recoverable is listed
/// in [`problems`](Self::problems). Values of other schemes than Digest are
/// accepted too, with the rest of the value kept raw in
/// [`rest`](Self::rest).
///
/// One value holds one challenge, as in the SIP grammar (`WWW-Authenticate =
/// "WWW-Authenticate" HCOLON challenge`); an HTTP value listing several
/// challenges separated by commas shows up as problems after the first.
#[derive(Clone)]
pub struct Challenge<'a> {
    header: Header<'a>,
    problems: Vec<Problem>,
    realm: Option<ParamValue<'a>>,
    domain: Option<ParamValue<'a>>,
    nonce: Option<ParamValue<'a>>,
    opaque: Option<ParamValue<'a>>,
    stale: Option<ParamValue<'a>>,
    algorithm: Option<ParamValue<'a>>,
    qop: Option<ParamValue<'a>>,
    charset: Option<ParamValue<'a>>,
    userhash: Option<ParamValue<'a>>,
}

impl<'a> Challenge<'a> {
    /// Parse a header value (what follows `WWW-Authenticate:`).
    ///
    /// Fails only when the value cannot be tokenised; see [`ParseError`].
    pub fn parse(value: &'a [u8]) -> Result<Self, ParseError> {
        let mut header = tokenize(value, MAX_PARAMS)?;
        let mut problems = std::mem::take(&mut header.problems);
        header.junk = Vec::new();
        if header.is_digest {
            flag_duplicates(&header.params, &mut problems);
        }
        let p = &header.params;
        let realm = first(p, b"realm");
        let domain = first(p, b"domain");
        let nonce = first(p, b"nonce");
        let opaque = first(p, b"opaque");
        let stale = first(p, b"stale");
        let qop = first(p, b"qop");
        let userhash = first(p, b"userhash");
        if header.is_digest {
            let pr = &mut problems;
            require("realm", realm, value.len(), pr);
            require("nonce", nonce, value.len(), pr);
            for v in [realm, domain, nonce, opaque, qop] {
                expect_quoted(v, pr);
            }
            check_bool(stale, pr);
            check_bool(userhash, pr);
        }
        Ok(Challenge {
            algorithm: first(p, b"algorithm"),
            charset: first(p, b"charset"),
            realm,
            domain,
            nonce,
            opaque,
            stale,
            qop,
            userhash,
            problems: problems.into_vec(),
            header,
        })
    }

    /// The auth-scheme as sent (`Digest`, `Basic`, ...).
    pub fn scheme(&self) -> &'a [u8] {
        self.header.scheme
    }

    /// Whether the scheme is `Digest` (case-insensitive).
    pub fn is_digest(&self) -> bool {
        self.header.is_digest
    }

    /// Everything after the scheme and its whitespace, trailing whitespace
    /// trimmed. For schemes other than Digest this is the only view if the
    /// rest is not a clean auth-param list (e.g. a token68).
    pub fn rest(&self) -> &'a [u8] {
        self.header.rest
    }

    /// The parsed header value.
    pub fn input(&self) -> &'a [u8] {
        self.header.input
    }

    /// `realm`.
    pub fn realm(&self) -> Option<ParamValue<'a>> {
        self.realm
    }

    /// `domain` (space-separated URIs, raw).
    pub fn domain(&self) -> Option<ParamValue<'a>> {
        self.domain
    }

    /// `nonce`.
    pub fn nonce(&self) -> Option<ParamValue<'a>> {
        self.nonce
    }

    /// `opaque`, to be echoed unchanged.
    pub fn opaque(&self) -> Option<ParamValue<'a>> {
        self.opaque
    }

    /// `stale=true` (case-insensitive); anything else is `false`, as RFC 2617
    /// prescribes.
    pub fn stale(&self) -> bool {
        is_true(self.stale)
    }

    /// The `algorithm`, [`Algorithm::Md5`] when absent.
    pub fn algorithm(&self) -> Algorithm<'a> {
        self.algorithm
            .map_or(Algorithm::Md5, |v| Algorithm::from_bytes(v.raw()))
    }

    /// The raw `algorithm` parameter, to tell "absent" from "MD5".
    pub fn algorithm_param(&self) -> Option<ParamValue<'a>> {
        self.algorithm
    }

    /// The raw `qop` parameter (`None` means an RFC 2069 style challenge).
    pub fn qop(&self) -> Option<ParamValue<'a>> {
        self.qop
    }

    /// The entries of `qop`, empty when absent.
    pub fn qop_options(&self) -> QopOptions<'a> {
        QopOptions::new(self.qop.map_or(&[][..], |v| v.raw()))
    }

    /// `charset` (RFC 7616: only `UTF-8` is defined).
    pub fn charset(&self) -> Option<ParamValue<'a>> {
        self.charset
    }

    /// `userhash=true` (RFC 7616 §3.4.4).
    pub fn userhash(&self) -> bool {
        is_true(self.userhash)
    }

    /// All parameters in order, including unknown ones and duplicates.
    pub fn params(&self) -> &[Param<'a>] {
        &self.header.params
    }

    /// First parameter with this name (case-insensitive).
    pub fn param(&self, name: &[u8]) -> Option<ParamValue<'a>> {
        first(&self.header.params, name)
    }

    /// Anomalies found while parsing.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl fmt::Debug for Challenge<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Challenge")
            .field("scheme", &String::from_utf8_lossy(self.scheme()))
            .field("params", &self.header.params)
            .field("problems", &self.problems)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Qop;

    fn kinds(c: &Challenge<'_>) -> Vec<ProblemKind> {
        c.problems().iter().map(|p| p.kind).collect()
    }

    #[test]
    fn fields() {
        let c = Challenge::parse(
            br#"Digest realm="r", domain="/a /b", nonce="n", opaque="o", stale=TRUE, algorithm=sha-256-SESS, qop="auth-int, auth", charset=UTF-8, userhash=true, x-extra=1"#,
        )
        .unwrap();
        assert!(c.is_digest());
        assert_eq!(c.realm().unwrap().raw(), b"r");
        assert_eq!(c.domain().unwrap().raw(), b"/a /b");
        assert_eq!(c.nonce().unwrap().raw(), b"n");
        assert_eq!(c.opaque().unwrap().raw(), b"o");
        assert!(c.stale());
        assert_eq!(c.algorithm(), Algorithm::Sha256Sess);
        assert_eq!(
            c.qop_options().collect::<Vec<_>>(),
            vec![Qop::AuthInt, Qop::Auth]
        );
        assert_eq!(c.charset().unwrap().raw(), b"UTF-8");
        assert!(c.userhash());
        assert_eq!(c.param(b"X-EXTRA").unwrap().raw(), b"1");
        assert_eq!(c.params().len(), 10);
        assert!(kinds(&c).is_empty(), "{:?}", c.problems());
    }

    #[test]
    fn defaults_and_missing() {
        let c = Challenge::parse(b"Digest").unwrap();
        assert_eq!(c.algorithm(), Algorithm::Md5);
        assert!(c.algorithm_param().is_none());
        assert!(!c.stale());
        assert!(!c.userhash());
        assert_eq!(c.qop_options().count(), 0);
        assert_eq!(
            kinds(&c),
            vec![
                ProblemKind::MissingParam("realm"),
                ProblemKind::MissingParam("nonce")
            ]
        );
        assert_eq!(c.problems()[0].span, 0..6);
    }

    #[test]
    fn anomalies() {
        let c = Challenge::parse(br#"digest realm=r, nonce="n", nonce="m", stale=maybe"#).unwrap();
        assert_eq!(c.nonce().unwrap().raw(), b"n");
        assert_eq!(
            kinds(&c),
            vec![
                ProblemKind::DuplicateParam,
                ProblemKind::ExpectedQuotedString,
                ProblemKind::InvalidBoolean
            ]
        );
    }

    #[test]
    fn debug_is_readable() {
        let c = Challenge::parse(br#"Digest realm="r", nonce="n""#).unwrap();
        let s = format!("{c:?}");
        assert!(s.contains("Digest") && s.contains("realm"));
    }
}

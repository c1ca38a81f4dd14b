//! `Authorization` / `Proxy-Authorization` values.

use std::borrow::Cow;
use std::fmt;

use crate::algorithm::{Algorithm, Qop};
use crate::challenge::{check_bool, expect_quoted, first, is_true, require};
use crate::error::ParseError;
use crate::param::{Param, ParamValue, Redacted};
use crate::problem::{Problem, ProblemKind};
use crate::tokenize::{flag_duplicates, tokenize, Header};
use crate::MAX_PARAMS;

/// Parse an `nc` value: exactly 8 hex digits (RFC 2617 `nc-value = 8LHEX`;
/// upper case is tolerated since it is unambiguous).
pub(crate) fn parse_nc(raw: &[u8]) -> Option<u32> {
    if raw.len() != 8 {
        return None;
    }
    raw.iter().try_fold(0u32, |acc, &b| {
        let d = char::from(b).to_digit(16)?;
        Some((acc << 4) | d)
    })
}

/// Decode an RFC 8187 ext-value (`UTF-8''J%C3%A4s%C3%B8n%20Doe`) to bytes.
/// The charset is not checked: RFC 7616 only allows UTF-8, and hashing works
/// on whatever bytes the client meant.
pub(crate) fn decode_ext_value(raw: &[u8]) -> Option<Vec<u8>> {
    let mut parts = raw.splitn(3, |&b| b == b'\'');
    let _charset = parts.next()?;
    let _language = parts.next()?;
    let value = parts.next()?;
    let mut out = Vec::with_capacity(value.len());
    let mut bytes = value.iter();
    while let Some(&b) = bytes.next() {
        if b == b'%' {
            let hi = char::from(*bytes.next()?).to_digit(16)?;
            let lo = char::from(*bytes.next()?).to_digit(16)?;
            out.push(u8::try_from((hi << 4) | lo).ok()?);
        } else {
            out.push(b);
        }
    }
    Some(out)
}

/// Parsed credentials: the value of an `Authorization` or
/// `Proxy-Authorization` header (RFC 2617 §3.2.2, RFC 7616 §3.4, RFC 3261
/// §22.4).
///
/// `Debug` never shows the `response` (nor any password-like parameter):
/// a Digest response is enough to brute-force the password offline, so it
/// is as sensitive as a password hash.
#[derive(Clone)]
pub struct Credentials<'a> {
    header: Header<'a>,
    problems: Vec<Problem>,
    username: Option<ParamValue<'a>>,
    username_star: Option<ParamValue<'a>>,
    realm: Option<ParamValue<'a>>,
    nonce: Option<ParamValue<'a>>,
    uri: Option<ParamValue<'a>>,
    response: Option<ParamValue<'a>>,
    algorithm: Option<ParamValue<'a>>,
    cnonce: Option<ParamValue<'a>>,
    opaque: Option<ParamValue<'a>>,
    qop: Option<ParamValue<'a>>,
    nc: Option<ParamValue<'a>>,
    userhash: Option<ParamValue<'a>>,
}

impl<'a> Credentials<'a> {
    /// Parse a header value (what follows `Authorization:`).
    ///
    /// Fails only when the value cannot be tokenised; see [`ParseError`].
    /// Missing required parameters, a malformed `nc` and similar are
    /// reported in [`problems`](Self::problems).
    pub fn parse(value: &'a [u8]) -> Result<Self, ParseError> {
        let mut header = tokenize(value, MAX_PARAMS)?;
        let mut problems = std::mem::take(&mut header.problems);
        header.junk = Vec::new();
        if header.is_digest {
            flag_duplicates(&header.params, &mut problems);
        }
        let p = &header.params;
        let mut c = Credentials {
            username: first(p, b"username"),
            username_star: first(p, b"username*"),
            realm: first(p, b"realm"),
            nonce: first(p, b"nonce"),
            uri: first(p, b"uri"),
            response: first(p, b"response"),
            algorithm: first(p, b"algorithm"),
            cnonce: first(p, b"cnonce"),
            opaque: first(p, b"opaque"),
            qop: first(p, b"qop"),
            nc: first(p, b"nc"),
            userhash: first(p, b"userhash"),
            problems: Vec::new(),
            header,
        };
        if c.header.is_digest {
            let pr = &mut problems;
            let len = value.len();
            match (c.username, c.username_star) {
                (None, None) => require("username", None, len, pr),
                (Some(_), Some(star)) => pr.push(ProblemKind::UsernameAndUsernameStar, star.span()),
                (None, Some(star)) => {
                    if decode_ext_value(star.raw()).is_none() {
                        pr.push(ProblemKind::InvalidExtValue, star.span());
                    }
                }
                (Some(_), None) => {}
            }
            require("realm", c.realm, len, pr);
            require("nonce", c.nonce, len, pr);
            require("uri", c.uri, len, pr);
            require("response", c.response, len, pr);
            if c.qop.is_some() {
                require("cnonce", c.cnonce, len, pr);
                require("nc", c.nc, len, pr);
            }
            if let Some(nc) = c.nc {
                if parse_nc(nc.raw()).is_none() {
                    pr.push(ProblemKind::BadNonceCount, nc.span());
                }
            }
            for v in [
                c.username, c.realm, c.nonce, c.uri, c.response, c.cnonce, c.opaque,
            ] {
                expect_quoted(v, pr);
            }
            check_bool(c.userhash, pr);
        }
        c.problems = problems.into_vec();
        Ok(c)
    }

    /// The auth-scheme as sent.
    pub fn scheme(&self) -> &'a [u8] {
        self.header.scheme
    }

    /// Whether the scheme is `Digest` (case-insensitive).
    pub fn is_digest(&self) -> bool {
        self.header.is_digest
    }

    /// Everything after the scheme, raw (the token68 of `Basic`, ...).
    /// May contain secrets: log [`redacted`](crate::redacted) instead.
    pub fn rest(&self) -> &'a [u8] {
        self.header.rest
    }

    /// `username` as sent (with `userhash=true`, the hex user hash).
    pub fn username(&self) -> Option<ParamValue<'a>> {
        self.username
    }

    /// `username*` (RFC 7616 §3.4, RFC 8187 ext-value), raw.
    pub fn username_star(&self) -> Option<ParamValue<'a>> {
        self.username_star
    }

    /// The username bytes to hash: unescaped `username`, or the decoded
    /// `username*` when only that is present. `None` when neither is usable.
    pub fn username_bytes(&self) -> Option<Cow<'a, [u8]>> {
        match (self.username, self.username_star) {
            (Some(u), _) => Some(u.unescaped()),
            (None, Some(star)) => decode_ext_value(star.raw()).map(Cow::Owned),
            (None, None) => None,
        }
    }

    /// `realm`.
    pub fn realm(&self) -> Option<ParamValue<'a>> {
        self.realm
    }

    /// `nonce`.
    pub fn nonce(&self) -> Option<ParamValue<'a>> {
        self.nonce
    }

    /// `uri` (the digest-uri; SIP servers should compare it with the
    /// Request-URI).
    pub fn uri(&self) -> Option<ParamValue<'a>> {
        self.uri
    }

    /// `response`. Sensitive: its `Debug` is redacted, but `raw()` is not.
    pub fn response(&self) -> Option<ParamValue<'a>> {
        self.response
    }

    /// The `algorithm`, [`Algorithm::Md5`] when absent.
    pub fn algorithm(&self) -> Algorithm<'a> {
        self.algorithm
            .map_or(Algorithm::Md5, |v| Algorithm::from_bytes(v.raw()))
    }

    /// The raw `algorithm` parameter.
    pub fn algorithm_param(&self) -> Option<ParamValue<'a>> {
        self.algorithm
    }

    /// `cnonce`.
    pub fn cnonce(&self) -> Option<ParamValue<'a>> {
        self.cnonce
    }

    /// `opaque`.
    pub fn opaque(&self) -> Option<ParamValue<'a>> {
        self.opaque
    }

    /// `qop` (a single value in credentials); `None` for RFC 2069 style.
    pub fn qop(&self) -> Option<Qop<'a>> {
        self.qop.map(|v| Qop::from_bytes(v.raw()))
    }

    /// The nonce count, `None` when absent or malformed (see
    /// [`nc_raw`](Self::nc_raw) and [`ProblemKind::BadNonceCount`]).
    pub fn nc(&self) -> Option<u32> {
        self.nc.and_then(|v| parse_nc(v.raw()))
    }

    /// The raw `nc` parameter.
    pub fn nc_raw(&self) -> Option<ParamValue<'a>> {
        self.nc
    }

    /// `userhash=true`.
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

    /// The parsed header value. Contains the response: do not log it, log
    /// [`redacted`](crate::redacted) instead.
    pub fn input(&self) -> &'a [u8] {
        self.header.input
    }
}

struct Lossy<'a>(Option<ParamValue<'a>>);

impl fmt::Debug for Lossy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(v) => write!(f, "{:?}", String::from_utf8_lossy(v.raw())),
            None => f.write_str("None"),
        }
    }
}

impl fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Credentials");
        d.field("scheme", &String::from_utf8_lossy(self.scheme()));
        if !self.is_digest() {
            // The rest of a foreign scheme is likely a secret (Basic).
            return d.field("rest", &Redacted).finish();
        }
        d.field("username", &Lossy(self.username))
            .field("username*", &Lossy(self.username_star))
            .field("realm", &Lossy(self.realm))
            .field("nonce", &Lossy(self.nonce))
            .field("uri", &Lossy(self.uri))
            .field("response", &self.response.map(|_| Redacted))
            .field("algorithm", &self.algorithm())
            .field("cnonce", &Lossy(self.cnonce))
            .field("qop", &self.qop())
            .field("nc", &Lossy(self.nc))
            .field("opaque", &Lossy(self.opaque))
            .field("userhash", &self.userhash())
            .field("params", &self.header.params)
            .field("problems", &self.problems)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(c: &Credentials<'_>) -> Vec<ProblemKind> {
        c.problems().iter().map(|p| p.kind).collect()
    }

    #[test]
    fn nc_parsing() {
        assert_eq!(parse_nc(b"00000001"), Some(1));
        assert_eq!(parse_nc(b"0000000A"), Some(10));
        assert_eq!(parse_nc(b"ffffffff"), Some(u32::MAX));
        assert_eq!(parse_nc(b"0000001"), None);
        assert_eq!(parse_nc(b"000000001"), None);
        assert_eq!(parse_nc(b"0000000g"), None);
        assert_eq!(parse_nc(b"+0000001"), None);
    }

    #[test]
    fn ext_value() {
        assert_eq!(
            decode_ext_value(b"UTF-8''J%C3%A4s%C3%B8n%20Doe").unwrap(),
            "J\u{e4}s\u{f8}n Doe".as_bytes()
        );
        assert_eq!(decode_ext_value(b"UTF-8'en'abc").unwrap(), b"abc");
        assert!(decode_ext_value(b"abc").is_none());
        assert!(decode_ext_value(b"UTF-8''%4").is_none());
        assert!(decode_ext_value(b"UTF-8''%zz").is_none());
    }

    #[test]
    fn missing_and_bad() {
        let c = Credentials::parse(br#"Digest username="u", qop=auth, nc=1"#).unwrap();
        assert_eq!(
            kinds(&c),
            vec![
                ProblemKind::MissingParam("realm"),
                ProblemKind::MissingParam("nonce"),
                ProblemKind::MissingParam("uri"),
                ProblemKind::MissingParam("response"),
                ProblemKind::MissingParam("cnonce"),
                ProblemKind::BadNonceCount,
            ]
        );
        assert_eq!(c.nc(), None);
        assert_eq!(c.nc_raw().unwrap().raw(), b"1");
    }

    #[test]
    fn username_star_and_both() {
        let c = Credentials::parse(
            br#"Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm="r", nonce="n", uri="/", response="x""#,
        )
        .unwrap();
        assert!(c.problems().is_empty(), "{:?}", c.problems());
        assert_eq!(
            &*c.username_bytes().unwrap(),
            "J\u{e4}s\u{f8}n Doe".as_bytes()
        );
        let c = Credentials::parse(
            br#"Digest username="a", username*=UTF-8''b, realm="r", nonce="n", uri="/", response="x""#,
        )
        .unwrap();
        assert_eq!(kinds(&c), vec![ProblemKind::UsernameAndUsernameStar]);
        assert_eq!(&*c.username_bytes().unwrap(), b"a");
    }

    #[test]
    fn debug_redacts_response() {
        let c = Credentials::parse(
            br#"Digest username="Mufasa", realm="r", nonce="n", uri="/", response="6629fae49393a05397450978507c4ef1", x-password="hunter2""#,
        )
        .unwrap();
        let s = format!("{c:?}");
        assert!(!s.contains("6629fae4"), "{s}");
        assert!(!s.contains("hunter2"), "{s}");
        assert!(s.contains("Mufasa"));
        let b = Credentials::parse(b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==").unwrap();
        assert!(!format!("{b:?}").contains("QWxh"));
        let b = Credentials::parse(b"Bearer tok=en").unwrap();
        assert!(!format!("{b:?}").contains("tok"));
    }
}

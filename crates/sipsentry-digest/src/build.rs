//! Client side: answer a challenge.

use std::fmt;
use std::fmt::Write as _;

use crate::algorithm::Qop;
use crate::challenge::Challenge;
use crate::compute::{format_nc, response, userhash, ResponseInput, Secret};
use crate::error::{BuildError, ComputeError};
use crate::param::{ParamValue, Redacted};
use crate::tokenize::{is_ctl, is_tchar};

/// What the client brings to answer a challenge.
///
/// The crate has no randomness source: the caller picks `cnonce` (random,
/// at least 64 bits) and `nc` (1 for a fresh nonce, then counting up).
#[derive(Clone, Copy)]
pub struct AuthorizationRequest<'s> {
    /// Plain username.
    pub username: &'s str,
    /// Password (any bytes; it is only hashed).
    pub password: &'s [u8],
    /// Request method (`REGISTER`, `INVITE`, `GET`, ...).
    pub method: &'s str,
    /// The digest-uri: in SIP the Request-URI, in HTTP the request-target.
    pub uri: &'s str,
    /// Message body for `auth-int`; `None` hashes the empty body.
    pub body: Option<&'s [u8]>,
    /// Client nonce.
    pub cnonce: &'s str,
    /// Nonce count.
    pub nc: u32,
}

impl fmt::Debug for AuthorizationRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .field("username", &self.username)
            .field("password", &Redacted)
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field("body_len", &self.body.map(<[u8]>::len))
            .field("cnonce", &self.cnonce)
            .field("nc", &self.nc)
            .finish()
    }
}

/// The qop a client should answer with: `auth` when offered (it works
/// through proxies that rewrite bodies), `auth-int` only when it is the only
/// supported option, `None` when the challenge has no `qop` (RFC 2069
/// compatibility; an empty `qop` counts as absent).
pub fn choose_qop(challenge: &Challenge<'_>) -> Result<Option<Qop<'static>>, BuildError> {
    let mut any = false;
    let mut auth_int = false;
    for q in challenge.qop_options() {
        any = true;
        match q {
            Qop::Auth => return Ok(Some(Qop::Auth)),
            Qop::AuthInt => auth_int = true,
            Qop::Other(_) => {}
        }
    }
    match (any, auth_int) {
        (false, _) => Ok(None),
        (true, true) => Ok(Some(Qop::AuthInt)),
        (true, false) => Err(BuildError::UnsupportedQop),
    }
}

/// Echoed challenge value: unescaped, UTF-8, no control characters (a
/// hostile server must not be able to inject header lines into our request).
fn echo(field: &'static str, v: Option<ParamValue<'_>>) -> Result<Option<String>, BuildError> {
    let Some(v) = v else { return Ok(None) };
    let s = v.to_str().map_err(|_| BuildError::NonUtf8(field))?;
    check_text(field, &s)?;
    Ok(Some(s.into_owned()))
}

fn check_text(field: &'static str, s: &str) -> Result<(), BuildError> {
    if s.bytes()
        .any(|b| is_ctl(b) || matches!(b, b'\r' | b'\n' | b'\t'))
    {
        return Err(BuildError::InvalidCharacter(field));
    }
    Ok(())
}

/// Append `"s"` with `"` and `\` escaped as quoted-pairs.
fn push_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// RFC 8187 ext-value for `username*`.
fn push_ext_value(out: &mut String, s: &str) {
    out.push_str("UTF-8''");
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

fn map_compute(e: ComputeError) -> BuildError {
    match e {
        ComputeError::UnsupportedQop => BuildError::UnsupportedQop,
        _ => BuildError::UnsupportedAlgorithm,
    }
}

/// Build the `Authorization` (or `Proxy-Authorization`) header value that
/// answers `challenge`.
///
/// Parameters come out in the conventional order (`username`, `realm`,
/// `nonce`, `uri`, `response`, `algorithm`, `cnonce`, `qop`, `nc`,
/// `opaque`, `userhash`), every quoted-string escaped. `algorithm` is always
/// sent, even when the challenge omitted it, so a server cannot misread
/// which hash was used. `cnonce` is sent with a qop and with `-sess`
/// algorithms (RFC 2617 forbids it without qop, but `-sess` cannot be
/// computed without it). With `userhash=true` the username is replaced by
/// its hash; otherwise, when the challenge declares `charset=UTF-8` and the
/// name is not ASCII, `username*` is used (RFC 7616 §3.4).
pub fn build_authorization(
    challenge: &Challenge<'_>,
    request: &AuthorizationRequest<'_>,
) -> Result<String, BuildError> {
    if !challenge.is_digest() {
        return Err(BuildError::NotDigest);
    }
    let algorithm = challenge.algorithm();
    let alg_name = algorithm.name().ok_or(BuildError::UnsupportedAlgorithm)?;
    let realm = echo("realm", challenge.realm())?.ok_or(BuildError::MissingField("realm"))?;
    let nonce = echo("nonce", challenge.nonce())?.ok_or(BuildError::MissingField("nonce"))?;
    let opaque = echo("opaque", challenge.opaque())?;
    let qop = choose_qop(challenge)?;
    check_text("username", request.username)?;
    check_text("uri", request.uri)?;
    check_text("cnonce", request.cnonce)?;
    if request.method.is_empty() || !request.method.bytes().all(is_tchar) {
        return Err(BuildError::InvalidCharacter("method"));
    }

    let resp = response(&ResponseInput {
        algorithm,
        username: request.username.as_bytes(),
        realm: realm.as_bytes(),
        secret: Secret::Password(request.password),
        method: request.method.as_bytes(),
        digest_uri: request.uri.as_bytes(),
        nonce: nonce.as_bytes(),
        cnonce: request.cnonce.as_bytes(),
        nc: request.nc,
        qop,
        body: request.body.unwrap_or_default(),
    })
    .map_err(map_compute)?;

    let mut out = String::with_capacity(256);
    out.push_str("Digest ");
    let hashed_user = challenge.userhash();
    if hashed_user {
        let h = userhash(algorithm, request.username.as_bytes(), realm.as_bytes())
            .map_err(map_compute)?;
        out.push_str("username=");
        push_quoted(&mut out, &h);
    } else if !request.username.is_ascii()
        && challenge
            .charset()
            .is_some_and(|c| c.raw().eq_ignore_ascii_case(b"UTF-8"))
    {
        out.push_str("username*=");
        push_ext_value(&mut out, request.username);
    } else {
        out.push_str("username=");
        push_quoted(&mut out, request.username);
    }
    out.push_str(", realm=");
    push_quoted(&mut out, &realm);
    out.push_str(", nonce=");
    push_quoted(&mut out, &nonce);
    out.push_str(", uri=");
    push_quoted(&mut out, request.uri);
    out.push_str(", response=");
    push_quoted(&mut out, &resp);
    out.push_str(", algorithm=");
    out.push_str(alg_name);
    if qop.is_some() || algorithm.is_sess() {
        out.push_str(", cnonce=");
        push_quoted(&mut out, request.cnonce);
    }
    if let Some(q) = qop {
        out.push_str(", qop=");
        out.push_str(q.name().unwrap_or("auth"));
        out.push_str(", nc=");
        out.push_str(&format_nc(request.nc));
    }
    if let Some(o) = opaque {
        out.push_str(", opaque=");
        push_quoted(&mut out, &o);
    }
    if hashed_user {
        out.push_str(", userhash=true");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{verify, Credentials};

    fn req<'s>() -> AuthorizationRequest<'s> {
        AuthorizationRequest {
            username: "Mufasa",
            password: b"Circle Of Life",
            method: "GET",
            uri: "/dir/index.html",
            body: None,
            cnonce: "0a4f113b",
            nc: 1,
        }
    }

    fn qop_of(v: &str) -> Result<Option<Qop<'static>>, BuildError> {
        choose_qop(&Challenge::parse(v.as_bytes()).unwrap())
    }

    #[test]
    fn qop_choice() {
        assert_eq!(qop_of(r#"Digest realm="r", nonce="n""#), Ok(None));
        assert_eq!(qop_of(r#"Digest realm="r", nonce="n", qop="""#), Ok(None));
        assert_eq!(
            qop_of(r#"Digest realm="r", nonce="n", qop="auth-int,auth""#),
            Ok(Some(Qop::Auth))
        );
        assert_eq!(
            qop_of(r#"Digest realm="r", nonce="n", qop="auth-int""#),
            Ok(Some(Qop::AuthInt))
        );
        assert_eq!(
            qop_of(r#"Digest realm="r", nonce="n", qop="x, auth-int""#),
            Ok(Some(Qop::AuthInt))
        );
        assert_eq!(
            qop_of(r#"Digest realm="r", nonce="n", qop="auth-conf""#),
            Err(BuildError::UnsupportedQop)
        );
    }

    #[test]
    fn rfc2617_header() {
        let c = Challenge::parse(
            br#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        )
        .unwrap();
        let h = build_authorization(&c, &req()).unwrap();
        assert_eq!(
            h,
            r#"Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", response="6629fae49393a05397450978507c4ef1", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001, opaque="5ccc069c403ebaf9f0171e9517f40e41""#
        );
    }

    #[test]
    fn quoting_roundtrip() {
        let c = Challenge::parse(br#"Digest realm="a \"quoted\" \\ realm", nonce="n""#).unwrap();
        let mut r = req();
        r.username = r#"we"ird\user"#;
        let h = build_authorization(&c, &r).unwrap();
        assert!(h.contains(r#"username="we\"ird\\user""#), "{h}");
        assert!(!h.contains("cnonce"), "{h}");
        assert!(!h.contains("qop"), "{h}");
        let creds = Credentials::parse(h.as_bytes()).unwrap();
        assert!(creds.problems().is_empty(), "{:?}", creds.problems());
        assert_eq!(&*creds.username_bytes().unwrap(), r.username.as_bytes());
        assert_eq!(
            verify(&creds, b"GET", Secret::Password(b"Circle Of Life"), b""),
            Ok(())
        );
    }

    #[test]
    fn rejects_injection() {
        let c = Challenge::parse(b"Digest realm=\"r\r\nVia: evil\", nonce=\"n\"").unwrap();
        assert_eq!(
            build_authorization(&c, &req()),
            Err(BuildError::InvalidCharacter("realm"))
        );
        let c = Challenge::parse(br#"Digest realm="r", nonce="n""#).unwrap();
        let mut r = req();
        r.uri = "sip:a\r\nX: y";
        assert_eq!(
            build_authorization(&c, &r),
            Err(BuildError::InvalidCharacter("uri"))
        );
        let mut r = req();
        r.method = "GET X";
        assert_eq!(
            build_authorization(&c, &r),
            Err(BuildError::InvalidCharacter("method"))
        );
        let c = Challenge::parse(b"Digest realm=\"\xff\", nonce=\"n\"").unwrap();
        assert_eq!(
            build_authorization(&c, &req()),
            Err(BuildError::NonUtf8("realm"))
        );
    }

    #[test]
    fn challenge_errors() {
        let b = |v: &[u8]| build_authorization(&Challenge::parse(v).unwrap(), &req());
        assert_eq!(b(br#"Basic realm="r""#), Err(BuildError::NotDigest));
        assert_eq!(
            b(br#"Digest nonce="n""#),
            Err(BuildError::MissingField("realm"))
        );
        assert_eq!(
            b(br#"Digest realm="r""#),
            Err(BuildError::MissingField("nonce"))
        );
        assert_eq!(
            b(br#"Digest realm="r", nonce="n", algorithm=SHA-1"#),
            Err(BuildError::UnsupportedAlgorithm)
        );
    }

    #[test]
    fn sess_without_qop_sends_cnonce() {
        let c = Challenge::parse(br#"Digest realm="r", nonce="n", algorithm=MD5-sess"#).unwrap();
        let h = build_authorization(&c, &req()).unwrap();
        assert!(
            h.contains(r#"cnonce="0a4f113b""#) && !h.contains("qop="),
            "{h}"
        );
        let creds = Credentials::parse(h.as_bytes()).unwrap();
        assert_eq!(
            verify(&creds, b"GET", Secret::Password(b"Circle Of Life"), b""),
            Ok(())
        );
    }

    #[test]
    fn debug_hides_password() {
        assert!(!format!("{:?}", req()).contains("Circle"));
    }
}

//! Server-side verification.

use crate::compute::{base_ha1, core_response, hash_hex, qop_kind, Core, Secret};
use crate::credentials::{parse_nc, Credentials};
use crate::error::{ComputeError, VerifyError};

/// Constant-time equality for equal-length inputs.
///
/// The comparison of the expected and received response must not stop at the
/// first differing byte, or response timing would let an attacker learn the
/// expected digest byte by byte (and replay it). Lengths are public (they
/// follow from the algorithm), so an early return on length is fine.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Verify Digest credentials against a password or a stored HA1.
///
/// Checks the response math only. The caller remains responsible for what
/// needs server state: that the nonce is one it issued and is fresh, that
/// `nc` increases (replay), that `realm` is its own and `uri` matches the
/// Request-URI, and that the algorithm is one it offered (a downgrade to MD5
/// is otherwise accepted).
///
/// With `userhash=true` and a password secret the plain username is needed;
/// use [`verify_with_username`].
pub fn verify(
    credentials: &Credentials<'_>,
    method: &[u8],
    secret: Secret<'_>,
    body: &[u8],
) -> Result<(), VerifyError> {
    verify_inner(credentials, None, method, secret, body)
}

/// Like [`verify`], for a caller that has resolved which user this is (by
/// username, or by user hash): also checks that the credentials name that
/// user, and hashes the password with the plain username as RFC 7616
/// requires for `userhash=true`.
pub fn verify_with_username(
    credentials: &Credentials<'_>,
    username: &[u8],
    method: &[u8],
    secret: Secret<'_>,
    body: &[u8],
) -> Result<(), VerifyError> {
    verify_inner(credentials, Some(username), method, secret, body)
}

fn map_compute(e: ComputeError) -> VerifyError {
    match e {
        ComputeError::UnsupportedAlgorithm => VerifyError::UnsupportedAlgorithm,
        ComputeError::UnsupportedQop => VerifyError::UnsupportedQop,
        ComputeError::Ha1Length { expected, actual } => {
            VerifyError::AlgorithmMismatch { expected, actual }
        }
        ComputeError::Ha1NotHex => VerifyError::InvalidHa1,
    }
}

fn verify_inner(
    c: &Credentials<'_>,
    plain_username: Option<&[u8]>,
    method: &[u8],
    secret: Secret<'_>,
    body: &[u8],
) -> Result<(), VerifyError> {
    if !c.is_digest() {
        return Err(VerifyError::NotDigest);
    }
    let algorithm = c.algorithm();
    let kind = algorithm.hash().ok_or(VerifyError::UnsupportedAlgorithm)?;
    let realm = c
        .realm()
        .ok_or(VerifyError::MissingField("realm"))?
        .unescaped();
    let nonce = c
        .nonce()
        .ok_or(VerifyError::MissingField("nonce"))?
        .unescaped();
    let uri = c.uri().ok_or(VerifyError::MissingField("uri"))?.unescaped();
    let response = c.response().ok_or(VerifyError::MissingField("response"))?;

    let claimed = c
        .username_bytes()
        .ok_or(VerifyError::MissingField("username"))?;
    let username = if c.userhash() {
        match plain_username {
            Some(u) => {
                let expected = hash_hex(kind, &[u, &realm]);
                if !claimed.eq_ignore_ascii_case(expected.as_bytes()) {
                    return Err(VerifyError::UsernameMismatch);
                }
                u
            }
            None if matches!(secret, Secret::Password(_)) => {
                return Err(VerifyError::UserhashNeedsUsername)
            }
            // HA1 already binds the real username; the hash is not hashed.
            None => &claimed[..],
        }
    } else {
        if plain_username.is_some_and(|u| u != &claimed[..]) {
            return Err(VerifyError::UsernameMismatch);
        }
        &claimed[..]
    };

    let qop = qop_kind(c.qop()).map_err(map_compute)?;
    let cnonce = c.cnonce().map(|v| v.unescaped());
    let nc_raw = c.nc_raw().map(|v| v.raw()).unwrap_or_default();
    if qop.is_some() {
        if cnonce.is_none() {
            return Err(VerifyError::MissingField("cnonce"));
        }
        if c.nc_raw().is_none() {
            return Err(VerifyError::MissingField("nc"));
        }
        if parse_nc(nc_raw).is_none() {
            return Err(VerifyError::InvalidNonceCount);
        }
    } else if algorithm.is_sess() && cnonce.is_none() {
        return Err(VerifyError::MissingField("cnonce"));
    }
    let base = base_ha1(kind, username, &realm, secret).map_err(map_compute)?;
    let expected = core_response(&Core {
        kind,
        sess: algorithm.is_sess(),
        base_ha1: &base,
        nonce: &nonce,
        cnonce: cnonce.as_deref().unwrap_or_default(),
        nc: nc_raw,
        qop,
        method,
        uri: &uri,
        body,
    });
    // Clients must send lower-case hex; tolerating upper case costs nothing
    // and lowering the received value reveals nothing about the secret.
    let received = response.unescaped().to_ascii_lowercase();
    if ct_eq(expected.as_bytes(), &received) {
        Ok(())
    } else {
        Err(VerifyError::WrongResponse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC2617: &[u8] = br#"Digest username="Mufasa",
                 realm="testrealm@host.com",
                 nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                 uri="/dir/index.html",
                 qop=auth,
                 nc=00000001,
                 cnonce="0a4f113b",
                 response="6629fae49393a05397450978507c4ef1",
                 opaque="5ccc069c403ebaf9f0171e9517f40e41""#;

    #[test]
    fn ct_eq_works() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
        assert!(ct_eq(b"", b""));
    }

    #[test]
    fn rfc2617_verifies() {
        let c = Credentials::parse(RFC2617).unwrap();
        assert_eq!(
            verify(&c, b"GET", Secret::Password(b"Circle Of Life"), b""),
            Ok(())
        );
        assert_eq!(
            verify(&c, b"GET", Secret::Password(b"circle of life"), b""),
            Err(VerifyError::WrongResponse)
        );
        assert_eq!(
            verify(&c, b"POST", Secret::Password(b"Circle Of Life"), b""),
            Err(VerifyError::WrongResponse)
        );
        let ha1 = crate::ha1(
            crate::Algorithm::Md5,
            b"Mufasa",
            b"testrealm@host.com",
            b"Circle Of Life",
        )
        .unwrap();
        assert_eq!(verify(&c, b"GET", Secret::Ha1(ha1.as_bytes()), b""), Ok(()));
        assert_eq!(
            verify(&c, b"GET", Secret::Ha1(&[b'0'; 64]), b""),
            Err(VerifyError::AlgorithmMismatch {
                expected: 32,
                actual: 64
            })
        );
        assert_eq!(
            verify(&c, b"GET", Secret::Ha1(&[b'x'; 32]), b""),
            Err(VerifyError::InvalidHa1)
        );
        assert_eq!(
            verify_with_username(
                &c,
                b"Mufasa",
                b"GET",
                Secret::Password(b"Circle Of Life"),
                b""
            ),
            Ok(())
        );
        assert_eq!(
            verify_with_username(
                &c,
                b"Simba",
                b"GET",
                Secret::Password(b"Circle Of Life"),
                b""
            ),
            Err(VerifyError::UsernameMismatch)
        );
    }

    #[test]
    fn structural_errors() {
        let check = |v: &[u8], e: VerifyError| {
            let c = Credentials::parse(v).unwrap();
            assert_eq!(
                verify(&c, b"GET", Secret::Password(b"p"), b""),
                Err(e),
                "{}",
                String::from_utf8_lossy(v)
            );
        };
        check(
            b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
            VerifyError::NotDigest,
        );
        check(
            br#"Digest realm="r", nonce="n", uri="/", response="x""#,
            VerifyError::MissingField("username"),
        );
        check(
            br#"Digest username="u", nonce="n", uri="/", response="x""#,
            VerifyError::MissingField("realm"),
        );
        check(
            br#"Digest username="u", realm="r", uri="/", response="x""#,
            VerifyError::MissingField("nonce"),
        );
        check(
            br#"Digest username="u", realm="r", nonce="n", response="x""#,
            VerifyError::MissingField("uri"),
        );
        check(
            br#"Digest username="u", realm="r", nonce="n", uri="/""#,
            VerifyError::MissingField("response"),
        );
        let base = r#"Digest username="u", realm="r", nonce="n", uri="/", response="x""#;
        check(
            format!("{base}, algorithm=SHA-1").as_bytes(),
            VerifyError::UnsupportedAlgorithm,
        );
        check(
            format!("{base}, qop=auth-conf, nc=00000001, cnonce=\"c\"").as_bytes(),
            VerifyError::UnsupportedQop,
        );
        check(
            format!("{base}, qop=auth, nc=00000001").as_bytes(),
            VerifyError::MissingField("cnonce"),
        );
        check(
            format!("{base}, qop=auth, cnonce=\"c\"").as_bytes(),
            VerifyError::MissingField("nc"),
        );
        check(
            format!("{base}, qop=auth, cnonce=\"c\", nc=1").as_bytes(),
            VerifyError::InvalidNonceCount,
        );
        check(
            format!("{base}, algorithm=MD5-sess").as_bytes(),
            VerifyError::MissingField("cnonce"),
        );
        check(
            format!("{base}, userhash=true").as_bytes(),
            VerifyError::UserhashNeedsUsername,
        );
        check(base.as_bytes(), VerifyError::WrongResponse);
    }

    #[test]
    fn uppercase_response_and_nc_accepted() {
        let upper = String::from_utf8_lossy(RFC2617).replace(
            "6629fae49393a05397450978507c4ef1",
            "6629FAE49393A05397450978507C4EF1",
        );
        let c = Credentials::parse(upper.as_bytes()).unwrap();
        assert_eq!(
            verify(&c, b"GET", Secret::Password(b"Circle Of Life"), b""),
            Ok(())
        );
    }
}

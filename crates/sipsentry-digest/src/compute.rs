//! Digest computation (RFC 2617 §3.2.2, RFC 7616 §3.4).
//!
//! ```text
//! HA1 = H(username ":" realm ":" password)
//! HA1 = H(H(username ":" realm ":" password) ":" nonce ":" cnonce)   (-sess)
//! HA2 = H(method ":" digest-uri)
//! HA2 = H(method ":" digest-uri ":" H(entity-body))                   (auth-int)
//! response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2)       (qop)
//! response = H(HA1 ":" nonce ":" HA2)                                 (no qop, RFC 2069)
//! ```
//!
//! All hex is lower case, as the RFCs require (`LHEX`): the hex strings are
//! themselves hashed, so case matters.

use std::fmt;

use md5::Md5;
use sha2::{Digest, Sha256, Sha512_256};

use crate::algorithm::{Algorithm, HashKind, Qop};
use crate::error::ComputeError;
use crate::param::Redacted;

fn to_hex(bytes: &[u8]) -> String {
    let nibble = |n: u8| char::from_digit(u32::from(n), 16).unwrap_or('0');
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(nibble(b >> 4));
        s.push(nibble(b & 0x0f));
    }
    s
}

fn hex_of<D: Digest>(parts: &[&[u8]]) -> String {
    let mut d = D::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            d.update(b":");
        }
        d.update(p);
    }
    to_hex(&d.finalize())
}

/// `H(parts joined by ":")` in lower-case hex.
pub(crate) fn hash_hex(kind: HashKind, parts: &[&[u8]]) -> String {
    match kind {
        HashKind::Md5 => hex_of::<Md5>(parts),
        HashKind::Sha256 => hex_of::<Sha256>(parts),
        HashKind::Sha512_256 => hex_of::<Sha512_256>(parts),
    }
}

/// What the caller knows of the user's secret.
///
/// Servers rarely store passwords: SIP registrars such as Kamailio and
/// Asterisk store HA1 = H(username:realm:password) instead, which is enough
/// to verify (and, note, to impersonate the user in that realm).
#[derive(Clone, Copy)]
pub enum Secret<'s> {
    /// The clear-text password.
    Password(&'s [u8]),
    /// A precomputed HA1 in hex (case-insensitive), H(username:realm:password)
    /// with the algorithm's hash; for `-sess` the session HA1 is derived from
    /// it.
    Ha1(&'s [u8]),
}

impl fmt::Debug for Secret<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Password(_) => f.debug_tuple("Password").field(&Redacted).finish(),
            Self::Ha1(_) => f.debug_tuple("Ha1").field(&Redacted).finish(),
        }
    }
}

/// Everything needed to compute a `response`.
///
/// `username` and `realm` are the plain (unescaped) values even when the
/// client sends a user hash: RFC 7616 hashes the real username into HA1.
#[derive(Debug, Clone, Copy)]
pub struct ResponseInput<'s> {
    /// Algorithm.
    pub algorithm: Algorithm<'s>,
    /// Plain username.
    pub username: &'s [u8],
    /// Realm.
    pub realm: &'s [u8],
    /// Password or stored HA1.
    pub secret: Secret<'s>,
    /// Request method (`REGISTER`, `INVITE`, `GET`, ...).
    pub method: &'s [u8],
    /// The digest-uri (`uri` parameter).
    pub digest_uri: &'s [u8],
    /// Server nonce.
    pub nonce: &'s [u8],
    /// Client nonce; used with a qop and by `-sess` algorithms.
    pub cnonce: &'s [u8],
    /// Nonce count, hashed as 8 lower-case hex digits.
    pub nc: u32,
    /// Quality of protection; `None` is RFC 2069 compatibility mode.
    pub qop: Option<Qop<'s>>,
    /// Message body, hashed only for `auth-int`.
    pub body: &'s [u8],
}

/// Supported qop values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QopKind {
    Auth,
    AuthInt,
}

pub(crate) fn qop_kind(qop: Option<Qop<'_>>) -> Result<Option<QopKind>, ComputeError> {
    match qop {
        None => Ok(None),
        Some(Qop::Auth) => Ok(Some(QopKind::Auth)),
        Some(Qop::AuthInt) => Ok(Some(QopKind::AuthInt)),
        Some(Qop::Other(_)) => Err(ComputeError::UnsupportedQop),
    }
}

/// The base (non-session) HA1 in lower-case hex.
pub(crate) fn base_ha1(
    kind: HashKind,
    username: &[u8],
    realm: &[u8],
    secret: Secret<'_>,
) -> Result<String, ComputeError> {
    match secret {
        Secret::Password(p) => Ok(hash_hex(kind, &[username, realm, p])),
        Secret::Ha1(h) => {
            if h.len() != kind.hex_len() {
                return Err(ComputeError::Ha1Length {
                    expected: kind.hex_len(),
                    actual: h.len(),
                });
            }
            if !h.iter().all(u8::is_ascii_hexdigit) {
                return Err(ComputeError::Ha1NotHex);
            }
            Ok(String::from_utf8_lossy(h).to_ascii_lowercase())
        }
    }
}

/// Inputs of the response formula once HA1 is known; `nc` is the textual
/// form so that verification hashes exactly what the client sent.
pub(crate) struct Core<'x> {
    pub(crate) kind: HashKind,
    pub(crate) sess: bool,
    pub(crate) base_ha1: &'x str,
    pub(crate) nonce: &'x [u8],
    pub(crate) cnonce: &'x [u8],
    pub(crate) nc: &'x [u8],
    pub(crate) qop: Option<QopKind>,
    pub(crate) method: &'x [u8],
    pub(crate) uri: &'x [u8],
    pub(crate) body: &'x [u8],
}

pub(crate) fn core_response(c: &Core<'_>) -> String {
    let sess_ha1;
    let ha1 = if c.sess {
        sess_ha1 = hash_hex(c.kind, &[c.base_ha1.as_bytes(), c.nonce, c.cnonce]);
        sess_ha1.as_bytes()
    } else {
        c.base_ha1.as_bytes()
    };
    let ha2 = match c.qop {
        Some(QopKind::AuthInt) => {
            let hbody = hash_hex(c.kind, &[c.body]);
            hash_hex(c.kind, &[c.method, c.uri, hbody.as_bytes()])
        }
        _ => hash_hex(c.kind, &[c.method, c.uri]),
    };
    let ha2 = ha2.as_bytes();
    match c.qop {
        None => hash_hex(c.kind, &[ha1, c.nonce, ha2]),
        Some(q) => {
            let qop: &[u8] = match q {
                QopKind::Auth => b"auth",
                QopKind::AuthInt => b"auth-int",
            };
            hash_hex(c.kind, &[ha1, c.nonce, c.nc, c.cnonce, qop, ha2])
        }
    }
}

/// Format a nonce count the way it goes on the wire: 8 lower-case hex digits.
pub fn format_nc(nc: u32) -> String {
    format!("{nc:08x}")
}

/// Compute the `response` value (lower-case hex).
pub fn response(input: &ResponseInput<'_>) -> Result<String, ComputeError> {
    let kind = input
        .algorithm
        .hash()
        .ok_or(ComputeError::UnsupportedAlgorithm)?;
    let qop = qop_kind(input.qop)?;
    let base = base_ha1(kind, input.username, input.realm, input.secret)?;
    let nc = format_nc(input.nc);
    Ok(core_response(&Core {
        kind,
        sess: input.algorithm.is_sess(),
        base_ha1: &base,
        nonce: input.nonce,
        cnonce: input.cnonce,
        nc: nc.as_bytes(),
        qop,
        method: input.method,
        uri: input.digest_uri,
        body: input.body,
    }))
}

/// HA1 = H(username:realm:password) as a server would store it (for `-sess`
/// algorithms this is the base HA1, the session HA1 is derived per nonce).
pub fn ha1(
    algorithm: Algorithm<'_>,
    username: &[u8],
    realm: &[u8],
    password: &[u8],
) -> Result<String, ComputeError> {
    let kind = algorithm.hash().ok_or(ComputeError::UnsupportedAlgorithm)?;
    base_ha1(kind, username, realm, Secret::Password(password))
}

/// RFC 7616 §3.4.4 user hash, H(username:realm), sent as `username` when the
/// challenge asks for `userhash=true` so that the name stays off the wire.
pub fn userhash(
    algorithm: Algorithm<'_>,
    username: &[u8],
    realm: &[u8],
) -> Result<String, ComputeError> {
    let kind = algorithm.hash().ok_or(ComputeError::UnsupportedAlgorithm)?;
    Ok(hash_hex(kind, &[username, realm]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc2617(alg: Algorithm<'static>, qop: Option<Qop<'static>>) -> ResponseInput<'static> {
        ResponseInput {
            algorithm: alg,
            username: b"Mufasa",
            realm: b"testrealm@host.com",
            secret: Secret::Password(b"Circle Of Life"),
            method: b"GET",
            digest_uri: b"/dir/index.html",
            nonce: b"dcd98b7102dd2f0e8b11d0f600bfb0c093",
            cnonce: b"0a4f113b",
            nc: 1,
            qop,
            body: b"",
        }
    }

    #[test]
    fn rfc2617_section_3_5() {
        let r = response(&rfc2617(Algorithm::Md5, Some(Qop::Auth))).unwrap();
        assert_eq!(r, "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn ha1_secret_equals_password() {
        let h = ha1(
            Algorithm::Md5,
            b"Mufasa",
            b"testrealm@host.com",
            b"Circle Of Life",
        )
        .unwrap();
        for alg in [Algorithm::Md5, Algorithm::Md5Sess] {
            for qop in [None, Some(Qop::Auth), Some(Qop::AuthInt)] {
                let by_pw = response(&rfc2617(alg, qop)).unwrap();
                let upper = h.to_ascii_uppercase();
                let mut i = rfc2617(alg, qop);
                i.secret = Secret::Ha1(upper.as_bytes());
                assert_eq!(response(&i).unwrap(), by_pw);
            }
        }
    }

    #[test]
    fn errors() {
        let mut i = rfc2617(Algorithm::Other(b"SHA-1"), None);
        assert_eq!(response(&i), Err(ComputeError::UnsupportedAlgorithm));
        i.algorithm = Algorithm::Md5;
        i.qop = Some(Qop::Other(b"auth-conf"));
        assert_eq!(response(&i), Err(ComputeError::UnsupportedQop));
        i.qop = None;
        i.secret = Secret::Ha1(b"abc");
        assert_eq!(
            response(&i),
            Err(ComputeError::Ha1Length {
                expected: 32,
                actual: 3
            })
        );
        i.secret = Secret::Ha1(b"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
        assert_eq!(response(&i), Err(ComputeError::Ha1NotHex));
        assert!(userhash(Algorithm::Other(b"x"), b"u", b"r").is_err());
        assert!(ha1(Algorithm::Other(b"x"), b"u", b"r", b"p").is_err());
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = format!("{:?}", rfc2617(Algorithm::Md5, None));
        assert!(!s.contains("Circle"), "{s}");
        assert!(format!("{:?}", Secret::Ha1(b"deadbeef")).contains("<redacted>"));
    }

    #[test]
    fn nc_format() {
        assert_eq!(format_nc(1), "00000001");
        assert_eq!(format_nc(0xabcdef12), "abcdef12");
    }
}

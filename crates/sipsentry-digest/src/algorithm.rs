//! Algorithm and qop names.

use std::fmt;

/// Digest algorithm (RFC 7616 §6.1, RFC 8760 for SIP).
///
/// Names are matched case-insensitively. An absent `algorithm` parameter
/// means [`Md5`](Self::Md5) (RFC 2617 §3.2.1). Unknown names are kept as
/// [`Other`](Self::Other) so that callers can see what a peer offered
/// without this crate having to reject the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm<'a> {
    /// `MD5`.
    Md5,
    /// `MD5-sess`.
    Md5Sess,
    /// `SHA-256`.
    Sha256,
    /// `SHA-256-sess`.
    Sha256Sess,
    /// `SHA-512-256` (FIPS 180-4 SHA-512/256, with its own initial values).
    Sha512_256,
    /// `SHA-512-256-sess`.
    Sha512_256Sess,
    /// Any other name, raw.
    Other(&'a [u8]),
}

/// The hash function behind an [`Algorithm`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HashKind {
    Md5,
    Sha256,
    Sha512_256,
}

impl HashKind {
    /// Length of the lower-case hex output.
    pub(crate) fn hex_len(self) -> usize {
        match self {
            Self::Md5 => 32,
            Self::Sha256 | Self::Sha512_256 => 64,
        }
    }
}

impl<'a> Algorithm<'a> {
    /// Parse an algorithm name (case-insensitive).
    pub fn from_bytes(name: &'a [u8]) -> Self {
        const KNOWN: [(&[u8], Algorithm<'static>); 6] = [
            (b"MD5", Algorithm::Md5),
            (b"MD5-sess", Algorithm::Md5Sess),
            (b"SHA-256", Algorithm::Sha256),
            (b"SHA-256-sess", Algorithm::Sha256Sess),
            (b"SHA-512-256", Algorithm::Sha512_256),
            (b"SHA-512-256-sess", Algorithm::Sha512_256Sess),
        ];
        KNOWN
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map_or(Algorithm::Other(name), |&(_, a)| a)
    }

    /// The canonical name as sent on the wire, `None` for
    /// [`Other`](Self::Other).
    pub fn name(&self) -> Option<&'static str> {
        Some(match self {
            Self::Md5 => "MD5",
            Self::Md5Sess => "MD5-sess",
            Self::Sha256 => "SHA-256",
            Self::Sha256Sess => "SHA-256-sess",
            Self::Sha512_256 => "SHA-512-256",
            Self::Sha512_256Sess => "SHA-512-256-sess",
            Self::Other(_) => return None,
        })
    }

    /// Whether this is a `-sess` variant (HA1 bound to nonce and cnonce).
    pub fn is_sess(&self) -> bool {
        matches!(
            self,
            Self::Md5Sess | Self::Sha256Sess | Self::Sha512_256Sess
        )
    }

    /// Whether this crate can compute it.
    pub fn is_supported(&self) -> bool {
        !matches!(self, Self::Other(_))
    }

    /// Hex length of this algorithm's output, `None` for
    /// [`Other`](Self::Other). Useful to tell an MD5 HA1 from a SHA-256 one.
    pub fn hex_len(&self) -> Option<usize> {
        self.hash().map(HashKind::hex_len)
    }

    pub(crate) fn hash(&self) -> Option<HashKind> {
        match self {
            Self::Md5 | Self::Md5Sess => Some(HashKind::Md5),
            Self::Sha256 | Self::Sha256Sess => Some(HashKind::Sha256),
            Self::Sha512_256 | Self::Sha512_256Sess => Some(HashKind::Sha512_256),
            Self::Other(_) => None,
        }
    }
}

impl fmt::Display for Algorithm<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.name(), self) {
            (Some(n), _) => f.write_str(n),
            (None, Self::Other(raw)) => f.write_str(&String::from_utf8_lossy(raw)),
            (None, _) => Ok(()),
        }
    }
}

/// Quality of protection (RFC 2617 §3.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Qop<'a> {
    /// `auth`: authentication only.
    Auth,
    /// `auth-int`: authentication and integrity of the message body.
    AuthInt,
    /// Any other value, raw.
    Other(&'a [u8]),
}

impl<'a> Qop<'a> {
    /// Parse a qop value (case-insensitive).
    pub fn from_bytes(value: &'a [u8]) -> Self {
        if value.eq_ignore_ascii_case(b"auth") {
            Self::Auth
        } else if value.eq_ignore_ascii_case(b"auth-int") {
            Self::AuthInt
        } else {
            Self::Other(value)
        }
    }

    /// The wire name, `None` for [`Other`](Self::Other).
    pub fn name(&self) -> Option<&'static str> {
        match self {
            Self::Auth => Some("auth"),
            Self::AuthInt => Some("auth-int"),
            Self::Other(_) => None,
        }
    }
}

impl fmt::Display for Qop<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Other(raw) => f.write_str(&String::from_utf8_lossy(raw)),
            known => f.write_str(known.name().unwrap_or_default()),
        }
    }
}

/// Iterator over the comma-separated entries of a challenge's `qop`
/// (`qop="auth, auth-int"`), see
/// [`Challenge::qop_options`](crate::Challenge::qop_options).
#[derive(Debug, Clone)]
pub struct QopOptions<'a> {
    rest: &'a [u8],
}

impl<'a> QopOptions<'a> {
    pub(crate) fn new(raw: &'a [u8]) -> Self {
        Self { rest: raw }
    }
}

impl<'a> Iterator for QopOptions<'a> {
    type Item = Qop<'a>;

    fn next(&mut self) -> Option<Qop<'a>> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let (item, rest) = match self.rest.iter().position(|&b| b == b',') {
                Some(i) => (
                    self.rest.get(..i).unwrap_or(&[]),
                    self.rest.get(i + 1..).unwrap_or(&[]),
                ),
                None => (self.rest, &[][..]),
            };
            self.rest = rest;
            let item = trim_ws(item);
            if !item.is_empty() {
                return Some(Qop::from_bytes(item));
            }
        }
    }
}

pub(crate) fn trim_ws(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if crate::tokenize::is_ws(*first) {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if crate::tokenize::is_ws(*last) {
            s = rest;
        } else {
            break;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names_roundtrip_case_insensitively() {
        for a in [
            Algorithm::Md5,
            Algorithm::Md5Sess,
            Algorithm::Sha256,
            Algorithm::Sha256Sess,
            Algorithm::Sha512_256,
            Algorithm::Sha512_256Sess,
        ] {
            let n = a.name().unwrap();
            assert_eq!(Algorithm::from_bytes(n.as_bytes()), a);
            assert_eq!(Algorithm::from_bytes(n.to_ascii_lowercase().as_bytes()), a);
            assert_eq!(Algorithm::from_bytes(n.to_ascii_uppercase().as_bytes()), a);
            assert_eq!(a.to_string(), n);
        }
        assert_eq!(Algorithm::from_bytes(b"SHA-1"), Algorithm::Other(b"SHA-1"));
        assert!(!Algorithm::Other(b"x").is_supported());
        assert!(Algorithm::Sha256Sess.is_sess());
        assert_eq!(Algorithm::Sha512_256.hex_len(), Some(64));
        assert_eq!(Algorithm::Md5Sess.hex_len(), Some(32));
    }

    #[test]
    fn qop_list() {
        let q: Vec<_> = QopOptions::new(b" auth ,, auth-int,\r\n AKA ").collect();
        assert_eq!(q, vec![Qop::Auth, Qop::AuthInt, Qop::Other(b"AKA")]);
        assert_eq!(QopOptions::new(b"").count(), 0);
        assert_eq!(QopOptions::new(b" , ").count(), 0);
        assert_eq!(Qop::from_bytes(b"AUTH-INT"), Qop::AuthInt);
        assert_eq!(Qop::AuthInt.to_string(), "auth-int");
    }
}

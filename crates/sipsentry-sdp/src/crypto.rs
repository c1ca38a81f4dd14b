//! Typed SDES `a=crypto` attributes (RFC 4568 §9.1, suites from RFC 6188 and RFC 7714).
//!
//! SDES is how most SIP trunks and phones key SRTP, and its failure modes are all visible in
//! the SDP: a key of the wrong length (a broken or fuzzing peer), a session parameter that
//! turns encryption or authentication off, a key lifetime beyond what SRTP allows. Each is
//! reported as an [`Anomaly`] while the attribute is still returned as data.

use std::fmt;
use std::ops::Range;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

use crate::anomaly::{Anomaly, AnomalyKind};
use crate::lines::{fields, irregular_ws, parse_u64, split_at_byte};
use crate::text::{KeyMaterial, Secret, Text};

const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes standard base64, padding optional.
pub(crate) fn decode_b64(s: &[u8]) -> Option<Vec<u8>> {
    if s.is_empty() {
        return None;
    }
    B64.decode(s).ok()
}

/// The largest SRTP key lifetime (packets) any suite allows: 2^48 (RFC 3711 §9.2).
pub const MAX_LIFETIME_LOG2: u8 = 48;

/// An SRTP crypto suite named in `a=crypto`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CryptoSuite<'a> {
    /// `AES_CM_128_HMAC_SHA1_80` (RFC 4568).
    AesCm128HmacSha1_80,
    /// `AES_CM_128_HMAC_SHA1_32` (RFC 4568).
    AesCm128HmacSha1_32,
    /// `F8_128_HMAC_SHA1_80` (RFC 4568).
    F8_128HmacSha1_80,
    /// `AES_192_CM_HMAC_SHA1_80` (RFC 6188).
    Aes192CmHmacSha1_80,
    /// `AES_192_CM_HMAC_SHA1_32` (RFC 6188).
    Aes192CmHmacSha1_32,
    /// `AES_256_CM_HMAC_SHA1_80` (RFC 6188).
    Aes256CmHmacSha1_80,
    /// `AES_256_CM_HMAC_SHA1_32` (RFC 6188).
    Aes256CmHmacSha1_32,
    /// `AEAD_AES_128_GCM` (RFC 7714).
    AeadAes128Gcm,
    /// `AEAD_AES_256_GCM` (RFC 7714).
    AeadAes256Gcm,
    /// Any other name, kept verbatim.
    Other(Text<'a>),
}

const SUITES: &[(&str, CryptoSuite<'static>)] = &[
    ("AES_CM_128_HMAC_SHA1_80", CryptoSuite::AesCm128HmacSha1_80),
    ("AES_CM_128_HMAC_SHA1_32", CryptoSuite::AesCm128HmacSha1_32),
    ("F8_128_HMAC_SHA1_80", CryptoSuite::F8_128HmacSha1_80),
    ("AES_192_CM_HMAC_SHA1_80", CryptoSuite::Aes192CmHmacSha1_80),
    ("AES_192_CM_HMAC_SHA1_32", CryptoSuite::Aes192CmHmacSha1_32),
    ("AES_256_CM_HMAC_SHA1_80", CryptoSuite::Aes256CmHmacSha1_80),
    ("AES_256_CM_HMAC_SHA1_32", CryptoSuite::Aes256CmHmacSha1_32),
    ("AEAD_AES_128_GCM", CryptoSuite::AeadAes128Gcm),
    ("AEAD_AES_256_GCM", CryptoSuite::AeadAes256Gcm),
];

impl<'a> CryptoSuite<'a> {
    /// Looks a suite up by name (ASCII case-insensitive, as ABNF literals are).
    pub fn from_name(name: &'a [u8]) -> Self {
        SUITES
            .iter()
            .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
            .map_or(CryptoSuite::Other(Text::new(name)), |(_, s)| *s)
    }

    /// The registered name, or the text of an unknown one.
    pub fn name(&self) -> Text<'a> {
        match self {
            CryptoSuite::Other(t) => *t,
            known => SUITES
                .iter()
                .find(|(_, s)| s == known)
                .map_or(Text::new(b""), |(n, _)| Text::new(n.as_bytes())),
        }
    }

    /// Master key length in bytes, `None` for unknown suites.
    pub fn master_key_len(&self) -> Option<usize> {
        use CryptoSuite::*;
        match self {
            AesCm128HmacSha1_80 | AesCm128HmacSha1_32 | F8_128HmacSha1_80 | AeadAes128Gcm => {
                Some(16)
            }
            Aes192CmHmacSha1_80 | Aes192CmHmacSha1_32 => Some(24),
            Aes256CmHmacSha1_80 | Aes256CmHmacSha1_32 | AeadAes256Gcm => Some(32),
            Other(_) => None,
        }
    }

    /// Master salt length in bytes, `None` for unknown suites.
    pub fn master_salt_len(&self) -> Option<usize> {
        match self {
            CryptoSuite::AeadAes128Gcm | CryptoSuite::AeadAes256Gcm => Some(12),
            CryptoSuite::Other(_) => None,
            _ => Some(14),
        }
    }

    /// Length the decoded `inline:` key||salt must have.
    pub fn key_salt_len(&self) -> Option<usize> {
        Some(self.master_key_len()? + self.master_salt_len()?)
    }

    /// Whether the suite is a known one.
    pub fn is_known(&self) -> bool {
        !matches!(self, CryptoSuite::Other(_))
    }
}

impl fmt::Debug for CryptoSuite<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CryptoSuite::Other(t) => f.debug_tuple("Other").field(t).finish(),
            known => f.write_str(known.name().as_str().unwrap_or("")),
        }
    }
}

/// SRTP master key lifetime (`|2^20` or `|1048576`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lifetime {
    /// A decimal number of packets.
    Packets(u64),
    /// `2^N` packets.
    PowerOfTwo(u8),
}

impl Lifetime {
    /// Number of packets, `None` if it does not fit a `u64`.
    pub fn packets(&self) -> Option<u64> {
        match *self {
            Lifetime::Packets(n) => Some(n),
            Lifetime::PowerOfTwo(n) => 1u64.checked_shl(u32::from(n)),
        }
    }
}

/// Master Key Identifier: `value:length` (length in bytes, 1..=128).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mki<'a> {
    /// The decimal value as written.
    pub value_text: Text<'a>,
    /// The value, `None` when it does not fit a `u128` (lengths above 16 bytes allow that).
    pub value: Option<u128>,
    /// MKI length in bytes.
    pub length: u8,
}

/// One key parameter: `inline:<key||salt>[|lifetime][|MKI:length]`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyParam<'a> {
    /// The key method (`inline` is the only one RFC 4568 defines). Empty when there is no `:`.
    pub method: Text<'a>,
    /// The base64 key||salt for `inline`; for other methods, all text after the method.
    pub key_salt: Secret<'a>,
    /// Decoded length of the key||salt, when it is valid base64.
    pub decoded_len: Option<usize>,
    /// Key lifetime, when present and valid.
    pub lifetime: Option<Lifetime>,
    /// MKI, when present and valid.
    pub mki: Option<Mki<'a>>,
    /// Byte span of the whole key parameter.
    pub span: Range<usize>,
}

impl KeyParam<'_> {
    /// Whether this is an `inline:` key (the only kind that carries the key in the SDP).
    pub fn is_inline(&self) -> bool {
        self.method.eq_ignore_ascii_case("inline")
    }

    /// Whether this is an inline key that actually holds a key (not empty, not redacted).
    pub fn has_key(&self) -> bool {
        self.is_inline() && !self.key_salt.is_empty() && !self.key_salt.is_redacted()
    }

    /// The decoded key||salt. Split it with the suite's [`CryptoSuite::master_key_len`].
    pub fn decode_key_salt(&self) -> Option<KeyMaterial> {
        self.key_salt.decode_base64()
    }
}

/// A session parameter (RFC 4568 §6.3). Unknown ones are kept as [`SessionParam::Other`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionParam<'a> {
    /// `KDR=n`: key derivation rate 2^n, n in 0..=24 (`None` if malformed).
    Kdr(Option<u8>),
    /// `UNENCRYPTED_SRTP`.
    UnencryptedSrtp,
    /// `UNENCRYPTED_SRTCP`.
    UnencryptedSrtcp,
    /// `UNAUTHENTICATED_SRTP`.
    UnauthenticatedSrtp,
    /// `FEC_ORDER=FEC_SRTP|SRTP_FEC`.
    FecOrder(Text<'a>),
    /// `FEC_KEY=<key-params>`: separate keys for the FEC stream.
    FecKey(Vec<KeyParam<'a>>),
    /// `WSH=n`: SRTP replay window size, at least 64 (`None` if malformed).
    Wsh(Option<u32>),
    /// Anything else, verbatim.
    Other(Text<'a>),
}

/// A typed `a=crypto` attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Crypto<'a> {
    /// The tag (1–9 digits), `None` when missing or malformed.
    pub tag: Option<u32>,
    /// The crypto suite.
    pub suite: CryptoSuite<'a>,
    /// The key parameters (one or more; empty only when malformed).
    pub key_params: Vec<KeyParam<'a>>,
    /// The session parameters.
    pub session_params: Vec<SessionParam<'a>>,
    /// For a crypto offered through SDP capability negotiation (`a=acap:N crypto:…`,
    /// RFC 5939), the capability number.
    pub capability: Option<u32>,
    /// Byte span of the attribute value (after `crypto:`).
    pub span: Range<usize>,
}

impl<'a> Crypto<'a> {
    /// Every key parameter including the FEC keys.
    pub fn all_key_params(&self) -> impl Iterator<Item = &KeyParam<'a>> + '_ {
        self.key_params
            .iter()
            .chain(self.session_params.iter().flat_map(|p| match p {
                SessionParam::FecKey(k) => k.as_slice(),
                _ => &[],
            }))
    }

    /// Whether any key parameter holds an inline key.
    pub fn has_key(&self) -> bool {
        self.all_key_params().any(KeyParam::has_key)
    }

    /// Whether every inline key decodes to exactly the suite's key||salt length.
    pub fn key_lengths_ok(&self) -> bool {
        let want = self.suite.key_salt_len();
        self.key_params
            .iter()
            .filter(|k| k.is_inline())
            .all(|k| want.is_some() && k.decoded_len == want)
    }

    /// Whether a session parameter disables encryption or authentication.
    pub fn weakens_protection(&self) -> bool {
        self.session_params.iter().any(|p| {
            matches!(
                p,
                SessionParam::UnencryptedSrtp
                    | SessionParam::UnencryptedSrtcp
                    | SessionParam::UnauthenticatedSrtp
            )
        })
    }
}

fn push(an: &mut Vec<Anomaly>, kind: AnomalyKind, span: Range<usize>) {
    an.push(Anomaly::new(kind, span));
}

/// Parses an `a=crypto` value starting at body offset `off`.
pub(crate) fn parse_crypto<'a>(
    value: &'a [u8],
    off: usize,
    capability: Option<u32>,
    an: &mut Vec<Anomaly>,
) -> Crypto<'a> {
    let span = off..off + value.len();
    if irregular_ws(value) {
        push(an, AnomalyKind::ExtraWhitespace, span.clone());
    }
    let mut f = fields(value, off);
    let tag = match f.next() {
        Some((o, t)) => {
            let tag = if t.len() <= 9 {
                parse_u64(t).and_then(|n| u32::try_from(n).ok())
            } else {
                None
            };
            if tag.is_none() {
                push(an, AnomalyKind::CryptoBadTag, o..o + t.len());
            }
            tag
        }
        None => {
            push(an, AnomalyKind::CryptoMalformed, span.clone());
            None
        }
    };
    let suite = match f.next() {
        Some((o, s)) => {
            let suite = CryptoSuite::from_name(s);
            if !suite.is_known() {
                push(an, AnomalyKind::CryptoUnknownSuite, o..o + s.len());
                if s.len() >= 5 && s[..5].eq_ignore_ascii_case(b"NULL_") {
                    push(an, AnomalyKind::CryptoNullCipher, o..o + s.len());
                }
            }
            suite
        }
        None => CryptoSuite::Other(Text::new(b"")),
    };
    let key_params = match f.next() {
        Some((o, k)) => parse_key_params(k, o, &suite, an),
        None => {
            if tag.is_some() {
                push(an, AnomalyKind::CryptoMalformed, span.clone());
            }
            Vec::new()
        }
    };
    let session_params = f
        .map(|(o, p)| parse_session_param(p, o, &suite, an))
        .collect();
    Crypto {
        tag,
        suite,
        key_params,
        session_params,
        capability,
        span,
    }
}

fn parse_key_params<'a>(
    s: &'a [u8],
    off: usize,
    suite: &CryptoSuite<'_>,
    an: &mut Vec<Anomaly>,
) -> Vec<KeyParam<'a>> {
    let mut out = Vec::new();
    for (o, p) in split_at_byte(s, off, b';') {
        if p.is_empty() {
            push(an, AnomalyKind::CryptoMalformed, o..o);
            continue;
        }
        out.push(parse_key_param(p, o, suite, an));
    }
    let inline: Vec<&KeyParam<'_>> = out.iter().filter(|k| k.is_inline()).collect();
    if inline.len() > 1 {
        // RFC 4568 §6.1: with several keys, each needs an MKI, all of the same length.
        let first = inline[0].mki.map(|m| m.length);
        if first.is_none() || inline.iter().any(|k| k.mki.map(|m| m.length) != first) {
            push(an, AnomalyKind::CryptoBadMki, off..off + s.len());
        }
    }
    out
}

fn parse_key_param<'a>(
    p: &'a [u8],
    off: usize,
    suite: &CryptoSuite<'_>,
    an: &mut Vec<Anomaly>,
) -> KeyParam<'a> {
    let span = off..off + p.len();
    let mut kp = KeyParam {
        method: Text::new(b""),
        key_salt: Secret::new(p, off),
        decoded_len: None,
        lifetime: None,
        mki: None,
        span: span.clone(),
    };
    let Some(colon) = p.iter().position(|&b| b == b':') else {
        push(an, AnomalyKind::CryptoMalformed, span);
        return kp;
    };
    kp.method = Text::new(&p[..colon]);
    let info = &p[colon + 1..];
    let info_off = off + colon + 1;
    kp.key_salt = Secret::new(info, info_off);
    if !kp.is_inline() {
        push(an, AnomalyKind::CryptoUnknownKeyMethod, off..off + colon);
        return kp;
    }
    let mut pieces = split_at_byte(info, info_off, b'|');
    let (ko, key) = pieces.next().unwrap_or((info_off, &[]));
    kp.key_salt = Secret::new(key, ko);
    let kspan = ko..ko + key.len();
    if kp.key_salt.is_redacted() {
        push(an, AnomalyKind::CryptoRedactedKey, kspan);
    } else {
        match decode_b64(key) {
            None => push(an, AnomalyKind::CryptoBadBase64, kspan),
            Some(mut bytes) => {
                kp.decoded_len = Some(bytes.len());
                if suite.key_salt_len().is_some_and(|n| n != bytes.len()) {
                    push(an, AnomalyKind::CryptoKeyLength, kspan);
                }
                bytes.iter_mut().for_each(|b| *b = 0);
                std::hint::black_box(&bytes);
            }
        }
    }
    let mut seen_lifetime = false;
    let mut seen_mki = false;
    for (i, (o, piece)) in pieces.enumerate() {
        let pspan = o..o + piece.len();
        if i >= 2 {
            push(an, AnomalyKind::CryptoMalformed, pspan);
            continue;
        }
        if piece.contains(&b':') {
            if seen_mki {
                push(an, AnomalyKind::CryptoBadMki, pspan);
                continue;
            }
            seen_mki = true;
            kp.mki = parse_mki(piece);
            if kp.mki.is_none() {
                push(an, AnomalyKind::CryptoBadMki, pspan);
            }
        } else {
            if seen_lifetime || seen_mki {
                // The grammar puts the lifetime before the MKI, and only one of each.
                push(an, AnomalyKind::CryptoBadLifetime, pspan);
                continue;
            }
            seen_lifetime = true;
            kp.lifetime = parse_lifetime(piece);
            if kp.lifetime.is_none() {
                push(an, AnomalyKind::CryptoBadLifetime, pspan);
            }
        }
    }
    kp
}

/// `["2^"] 1*DIGIT`, 1 ≤ packets ≤ 2^48.
fn parse_lifetime(s: &[u8]) -> Option<Lifetime> {
    let l = match s.strip_prefix(b"2^") {
        Some(e) => {
            let n = parse_u64(e)?;
            if n > u64::from(MAX_LIFETIME_LOG2) {
                return None;
            }
            Lifetime::PowerOfTwo(n as u8)
        }
        None => Lifetime::Packets(parse_u64(s)?),
    };
    let packets = l.packets()?;
    (1..=1u64 << MAX_LIFETIME_LOG2)
        .contains(&packets)
        .then_some(l)
}

/// `1*DIGIT ":" 1*3DIGIT`, length 1..=128, value fitting in `length` bytes.
fn parse_mki(s: &[u8]) -> Option<Mki<'_>> {
    let colon = s.iter().position(|&b| b == b':')?;
    let (v, l) = (&s[..colon], &s[colon + 1..]);
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) || l.len() > 3 {
        return None;
    }
    let length = u8::try_from(parse_u64(l)?)
        .ok()
        .filter(|n| (1..=128).contains(n))?;
    let value = v.iter().try_fold(0u128, |acc, &d| {
        acc.checked_mul(10)?.checked_add(u128::from(d - b'0'))
    });
    let fits = match value {
        Some(n) => length >= 16 || n < 1u128 << (8 * u32::from(length)),
        // More than 38 digits: fits only if the MKI is long enough (log2(10) < 10/3 bits).
        None => v.len() * 10 <= usize::from(length) * 8 * 3,
    };
    fits.then_some(Mki {
        value_text: Text::new(v),
        value,
        length,
    })
}

fn parse_session_param<'a>(
    p: &'a [u8],
    off: usize,
    suite: &CryptoSuite<'_>,
    an: &mut Vec<Anomaly>,
) -> SessionParam<'a> {
    let span = off..off + p.len();
    let (name, value) = match p.iter().position(|&b| b == b'=') {
        Some(eq) => (&p[..eq], Some((off + eq + 1, &p[eq + 1..]))),
        None => (p, None),
    };
    let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
    let flag = |an: &mut Vec<Anomaly>, kind, param| {
        push(an, kind, span.clone());
        if value.is_some() {
            push(an, AnomalyKind::CryptoBadSessionParam, span.clone());
        }
        param
    };
    if is("UNENCRYPTED_SRTP") {
        flag(
            an,
            AnomalyKind::CryptoUnencryptedSrtp,
            SessionParam::UnencryptedSrtp,
        )
    } else if is("UNENCRYPTED_SRTCP") {
        flag(
            an,
            AnomalyKind::CryptoUnencryptedSrtcp,
            SessionParam::UnencryptedSrtcp,
        )
    } else if is("UNAUTHENTICATED_SRTP") {
        flag(
            an,
            AnomalyKind::CryptoUnauthenticatedSrtp,
            SessionParam::UnauthenticatedSrtp,
        )
    } else if is("KDR") {
        let n = value
            .filter(|(_, v)| v.len() <= 2)
            .and_then(|(_, v)| parse_u64(v))
            .filter(|n| *n <= 24)
            .map(|n| n as u8);
        if n.is_none() {
            push(an, AnomalyKind::CryptoBadSessionParam, span);
        }
        SessionParam::Kdr(n)
    } else if is("WSH") {
        let n = value
            .and_then(|(_, v)| parse_u64(v))
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n >= 64);
        if n.is_none() {
            push(an, AnomalyKind::CryptoBadSessionParam, span);
        }
        SessionParam::Wsh(n)
    } else if is("FEC_ORDER") {
        let v = value.map_or(&b""[..], |(_, v)| v);
        if !(v.eq_ignore_ascii_case(b"FEC_SRTP") || v.eq_ignore_ascii_case(b"SRTP_FEC")) {
            push(an, AnomalyKind::CryptoBadSessionParam, span);
        }
        SessionParam::FecOrder(Text::new(v))
    } else if is("FEC_KEY") {
        match value {
            Some((o, v)) if !v.is_empty() => {
                SessionParam::FecKey(parse_key_params(v, o, suite, an))
            }
            _ => {
                push(an, AnomalyKind::CryptoBadSessionParam, span);
                SessionParam::FecKey(Vec::new())
            }
        }
    } else {
        push(an, AnomalyKind::CryptoUnknownSessionParam, span);
        SessionParam::Other(Text::new(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &str) -> (Crypto<'_>, Vec<&'static str>) {
        let mut an = Vec::new();
        let c = parse_crypto(v.as_bytes(), 0, None, &mut an);
        for a in &an {
            assert!(a.span.end <= v.len());
        }
        (c, an.iter().map(|a| a.id()).collect())
    }

    #[test]
    fn rfc4568_example() {
        let (c, an) = parse(
            "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32",
        );
        assert!(an.is_empty(), "{an:?}");
        assert_eq!(c.tag, Some(1));
        assert_eq!(c.suite, CryptoSuite::AesCm128HmacSha1_80);
        let k = &c.key_params[0];
        assert!(k.is_inline() && k.has_key());
        assert_eq!(k.decoded_len, Some(30));
        assert_eq!(k.lifetime, Some(Lifetime::PowerOfTwo(20)));
        assert_eq!(k.lifetime.unwrap().packets(), Some(1 << 20));
        let m = k.mki.unwrap();
        assert_eq!((m.value, m.length), (Some(1), 32));
        assert_eq!(k.key_salt.span(), 33..73);
        assert!(c.key_lengths_ok());
    }

    #[test]
    fn suite_lengths() {
        let cases: &[(&str, usize)] = &[
            ("AES_CM_128_HMAC_SHA1_80", 30),
            ("AES_CM_128_HMAC_SHA1_32", 30),
            ("F8_128_HMAC_SHA1_80", 30),
            ("AES_192_CM_HMAC_SHA1_80", 38),
            ("AES_192_CM_HMAC_SHA1_32", 38),
            ("AES_256_CM_HMAC_SHA1_80", 46),
            ("AES_256_CM_HMAC_SHA1_32", 46),
            ("AEAD_AES_128_GCM", 28),
            ("AEAD_AES_256_GCM", 44),
        ];
        for (name, len) in cases {
            let s = CryptoSuite::from_name(name.as_bytes());
            assert!(s.is_known());
            assert_eq!(s.key_salt_len(), Some(*len), "{name}");
            assert_eq!(s.name(), *name);
            assert_eq!(format!("{s:?}"), *name);
        }
        assert_eq!(
            CryptoSuite::from_name(b"aes_cm_128_hmac_sha1_80"),
            CryptoSuite::AesCm128HmacSha1_80
        );
        assert_eq!(CryptoSuite::from_name(b"FOO").key_salt_len(), None);
    }

    #[test]
    fn wrong_length_and_bad_base64() {
        // 16 bytes instead of 30.
        let (c, an) = parse("1 AES_CM_128_HMAC_SHA1_80 inline:AAAAAAAAAAAAAAAAAAAAAA==");
        assert_eq!(an, ["sdp-crypto-key-length"]);
        assert_eq!(c.key_params[0].decoded_len, Some(16));
        assert!(!c.key_lengths_ok());
        let (_, an) = parse("1 AES_CM_128_HMAC_SHA1_80 inline:%%%%");
        assert_eq!(an, ["sdp-crypto-bad-base64"]);
        let (_, an) = parse("1 AES_CM_128_HMAC_SHA1_80 inline:|2^20");
        assert_eq!(an, ["sdp-crypto-bad-base64"]);
    }

    #[test]
    fn lifetime_and_mki_edge_cases() {
        assert_eq!(parse_lifetime(b"2^48"), Some(Lifetime::PowerOfTwo(48)));
        assert_eq!(parse_lifetime(b"2^49"), None);
        assert_eq!(parse_lifetime(b"2^999999999999999999999"), None);
        assert_eq!(parse_lifetime(b"0"), None);
        assert_eq!(parse_lifetime(b"1048576"), Some(Lifetime::Packets(1048576)));
        assert_eq!(parse_lifetime(b"x"), None);
        assert_eq!(parse_mki(b"1:0"), None);
        assert_eq!(parse_mki(b"1:129"), None);
        assert_eq!(parse_mki(b"256:1"), None);
        assert!(parse_mki(b"255:1").is_some());
        assert!(parse_mki(b"99999999999999999999999999999999999999999:128").is_some());
        assert_eq!(parse_mki(b":4"), None);
        assert_eq!(parse_mki(b"1:0004"), None);
        let (_, an) = parse(
            "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|1:4|2^20",
        );
        assert_eq!(an, ["sdp-crypto-bad-lifetime"]);
        let (_, an) = parse(
            "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^60|1:999",
        );
        assert_eq!(an, ["sdp-crypto-bad-lifetime", "sdp-crypto-bad-mki"]);
    }

    #[test]
    fn multiple_keys_need_mkis() {
        let k = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
        let v = format!("1 AES_CM_128_HMAC_SHA1_80 inline:{k}|1:4;inline:{k}|2:4");
        let (c, an) = parse(&v);
        assert!(an.is_empty(), "{an:?}");
        assert_eq!(c.key_params.len(), 2);
        let v = format!("1 AES_CM_128_HMAC_SHA1_80 inline:{k};inline:{k}|2:4");
        assert_eq!(parse(&v).1, ["sdp-crypto-bad-mki"]);
    }

    #[test]
    fn session_params() {
        let k = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
        let v = format!(
            "7 AES_CM_128_HMAC_SHA1_32 inline:{k} KDR=3 UNENCRYPTED_SRTP UNENCRYPTED_SRTCP UNAUTHENTICATED_SRTP FEC_ORDER=FEC_SRTP FEC_KEY=inline:{k}|2^20 WSH=128 -FOO"
        );
        let (c, an) = parse(&v);
        assert_eq!(
            an,
            [
                "sdp-crypto-unencrypted-srtp",
                "sdp-crypto-unencrypted-srtcp",
                "sdp-crypto-unauthenticated-srtp",
                "sdp-crypto-unknown-session-param"
            ]
        );
        assert!(c.weakens_protection());
        assert_eq!(c.session_params[0], SessionParam::Kdr(Some(3)));
        assert_eq!(c.session_params[6], SessionParam::Wsh(Some(128)));
        assert_eq!(c.all_key_params().count(), 2);
        let (_, an) = parse("1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR KDR=25 WSH=1 FEC_ORDER=X FEC_KEY=");
        assert_eq!(an, ["sdp-crypto-bad-session-param"; 4]);
    }

    #[test]
    fn malformed_shapes() {
        assert_eq!(parse("").1, ["sdp-crypto-malformed"]);
        assert_eq!(
            parse("1 AES_CM_128_HMAC_SHA1_80").1,
            ["sdp-crypto-malformed"]
        );
        assert_eq!(parse("1234567890 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR").1, ["sdp-crypto-bad-tag"]);
        assert_eq!(
            parse("1 NULL_HMAC_SHA1_80 inline:AAAA").1,
            ["sdp-crypto-unknown-suite", "sdp-crypto-null-cipher"]
        );
        let (c, an) = parse("1 AES_CM_128_HMAC_SHA1_80 secretkey");
        assert_eq!(an, ["sdp-crypto-malformed"]);
        assert_eq!(c.key_params[0].key_salt.expose(), b"secretkey");
        assert!(!format!("{c:?}").contains("secretkey"));
        assert_eq!(
            parse("1 AES_CM_128_HMAC_SHA1_80 uri:x").1,
            ["sdp-crypto-unknown-key-method"]
        );
        assert_eq!(
            parse("1 AES_CM_128_HMAC_SHA1_80 inline:<redacted>|2^20").1,
            ["sdp-crypto-redacted-key"]
        );
    }
}

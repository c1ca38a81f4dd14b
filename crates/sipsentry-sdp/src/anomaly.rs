//! Anomalies: what is wrong with an SDP body, as data.
//!
//! Offers seen in attack traffic are malformed on purpose, and the malformation is often the
//! signal (a wrong-length SRTP key, a `k=` line, an `UNENCRYPTED_SRTP` flag). The parser
//! therefore never stops at the first problem: each one is recorded with a stable kind and the
//! byte span it covers, and parsing goes on wherever the line structure still allows it.

use std::fmt;
use std::ops::Range;

/// How bad an anomaly is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Tolerated deviation (bare LF, an unknown session parameter); a lenient peer accepts it.
    Info,
    /// Legal or recoverable syntax whose meaning is doubtful or whose use is discouraged.
    Warning,
    /// The text violates the RFC 8866 / RFC 4568 grammar; a strict peer rejects it.
    Malformed,
}

impl Severity {
    /// Stable lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Malformed => "malformed",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! kinds {
    ($( $(#[$doc:meta])* $name:ident = $id:literal, $sev:ident, $sec:literal; )*) => {
        /// The stable kinds of anomaly. Their [`AnomalyKind::id`]s never change meaning: users
        /// grep, suppress and file tickets by them.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum AnomalyKind {
            $( $(#[$doc])* $name, )*
        }

        impl AnomalyKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [AnomalyKind] = &[$(AnomalyKind::$name,)*];

            /// Stable kebab-case identifier, always prefixed `sdp-`.
            pub fn id(self) -> &'static str {
                match self { $( AnomalyKind::$name => $id, )* }
            }

            /// Severity of this kind.
            pub fn severity(self) -> Severity {
                match self { $( AnomalyKind::$name => Severity::$sev, )* }
            }

            /// Whether the kind says something about the confidentiality or integrity of the
            /// media (plaintext keys, disabled encryption, missing keying), as opposed to mere
            /// syntax. Detectors raise these even when they ignore syntax noise.
            pub fn is_security_relevant(self) -> bool {
                match self { $( AnomalyKind::$name => $sec, )* }
            }

            /// Looks a kind up by its stable identifier.
            pub fn from_id(id: &str) -> Option<AnomalyKind> {
                match id { $( $id => Some(AnomalyKind::$name), )* _ => None }
            }
        }
    };
}

kinds! {
    /// The body exceeds [`crate::MAX_BODY`]; only the lines before the cap were parsed.
    BodyTooLarge = "sdp-body-too-large", Malformed, false;
    /// More lines than [`crate::MAX_LINES`]; parsing stopped.
    TooManyLines = "sdp-too-many-lines", Malformed, false;
    /// More media sections than [`crate::MAX_MEDIA`]; parsing stopped.
    TooManyMedia = "sdp-too-many-media", Malformed, false;
    /// More attributes in one section than [`crate::MAX_ATTRIBUTES`]; parsing stopped.
    TooManyAttributes = "sdp-too-many-attributes", Malformed, false;
    /// A line ends in a bare LF instead of CRLF (RFC 8866 §5 tolerates it on input).
    BareLf = "sdp-bare-lf", Info, false;
    /// A CR that does not end a line: line-splitting differs between implementations.
    BareCr = "sdp-bare-cr", Warning, false;
    /// The last line has no line terminator.
    MissingFinalEol = "sdp-missing-final-eol", Info, false;
    /// An empty line (forbidden by the grammar; a classic body/header confusion).
    EmptyLine = "sdp-empty-line", Warning, false;
    /// A NUL byte: C implementations see a truncated line.
    NulByte = "sdp-nul-byte", Warning, true;
    /// A line that is not `<letter>=<value>`.
    BadLine = "sdp-bad-line", Malformed, false;
    /// A line type RFC 8866 does not define; kept as an unknown line.
    UnknownLine = "sdp-unknown-line", Info, false;
    /// A line outside the order RFC 8866 §5 mandates.
    OutOfOrder = "sdp-out-of-order", Warning, false;
    /// A line that may appear once per section appears again; the first one is used.
    DuplicateLine = "sdp-duplicate-line", Warning, false;
    /// Tabs, doubled, leading or trailing spaces between fields.
    ExtraWhitespace = "sdp-extra-whitespace", Info, false;
    /// No `v=` line.
    MissingVersion = "sdp-missing-version", Malformed, false;
    /// `v=` is not `0`.
    BadVersion = "sdp-bad-version", Malformed, false;
    /// No `o=` line.
    MissingOrigin = "sdp-missing-origin", Malformed, false;
    /// `o=` does not have six well-formed fields.
    BadOrigin = "sdp-bad-origin", Malformed, false;
    /// No `s=` line.
    MissingSessionName = "sdp-missing-session-name", Malformed, false;
    /// `s=` is empty (RFC 8866 asks for `s=-`).
    EmptySessionName = "sdp-empty-session-name", Info, false;
    /// No `t=` line.
    MissingTiming = "sdp-missing-timing", Malformed, false;
    /// A malformed `t=`, `r=` or `z=` line.
    BadTiming = "sdp-bad-timing", Malformed, false;
    /// A malformed `c=` line (field count, TTL or address count).
    BadConnection = "sdp-bad-connection", Malformed, false;
    /// A media section with no `c=` and no session-level `c=`.
    MissingConnection = "sdp-missing-connection", Malformed, false;
    /// A network type other than `IN`.
    UnknownNetType = "sdp-unknown-nettype", Info, false;
    /// An address type other than `IP4`/`IP6`.
    UnknownAddrType = "sdp-unknown-addrtype", Info, false;
    /// An address literal of the other family than the address type says.
    AddrTypeMismatch = "sdp-addrtype-mismatch", Warning, false;
    /// An address that is neither an IP literal nor a plausible host name (e.g. `999.1.1.1`).
    BadAddress = "sdp-bad-address", Warning, false;
    /// A malformed `b=` line.
    BadBandwidth = "sdp-bad-bandwidth", Malformed, false;
    /// A malformed `m=` line (field count, port, port count).
    BadMedia = "sdp-bad-media", Malformed, false;
    /// An RTP payload type that is not a number in 0..=127.
    BadFormat = "sdp-bad-format", Warning, false;
    /// An `a=` line with an empty or non-token name.
    BadAttribute = "sdp-bad-attribute", Malformed, false;
    /// Several different direction attributes in one section.
    ConflictingDirection = "sdp-conflicting-direction", Warning, false;
    /// A `k=` line: obsolete (RFC 8866 §5.12) and it carries keys in the clear.
    KeyField = "sdp-key-field", Warning, true;
    /// `a=crypto` that does not have tag, suite and key parameters.
    CryptoMalformed = "sdp-crypto-malformed", Malformed, false;
    /// A crypto tag that is not 1 to 9 digits.
    CryptoBadTag = "sdp-crypto-bad-tag", Malformed, false;
    /// Two `a=crypto` lines with the same tag in one media section.
    CryptoDuplicateTag = "sdp-crypto-duplicate-tag", Warning, false;
    /// A crypto suite this crate does not know.
    CryptoUnknownSuite = "sdp-crypto-unknown-suite", Warning, false;
    /// A `NULL_*` crypto suite: authentication without encryption.
    CryptoNullCipher = "sdp-crypto-null-cipher", Warning, true;
    /// A key method other than `inline`.
    CryptoUnknownKeyMethod = "sdp-crypto-unknown-key-method", Warning, false;
    /// The key||salt is not base64 (or is empty).
    CryptoBadBase64 = "sdp-crypto-bad-base64", Malformed, false;
    /// The decoded key||salt length differs from the suite's master key + salt length.
    CryptoKeyLength = "sdp-crypto-key-length", Malformed, true;
    /// The key lifetime is not a decimal or `2^N` within the SRTP maximum of 2^48.
    CryptoBadLifetime = "sdp-crypto-bad-lifetime", Malformed, false;
    /// The MKI is not `value:length` with length 1..=128, the value does not fit, or several
    /// keys disagree on MKI use.
    CryptoBadMki = "sdp-crypto-bad-mki", Malformed, false;
    /// A known session parameter with a malformed value.
    CryptoBadSessionParam = "sdp-crypto-bad-session-param", Malformed, false;
    /// A session parameter this crate does not know.
    CryptoUnknownSessionParam = "sdp-crypto-unknown-session-param", Info, false;
    /// `UNENCRYPTED_SRTP`: RTP payloads travel in the clear.
    CryptoUnencryptedSrtp = "sdp-crypto-unencrypted-srtp", Warning, true;
    /// `UNENCRYPTED_SRTCP`: RTCP travels in the clear.
    CryptoUnencryptedSrtcp = "sdp-crypto-unencrypted-srtcp", Warning, true;
    /// `UNAUTHENTICATED_SRTP`: RTP packets can be forged or altered.
    CryptoUnauthenticatedSrtp = "sdp-crypto-unauthenticated-srtp", Warning, true;
    /// `a=crypto` at session level, where RFC 4568 does not define it.
    CryptoSessionLevel = "sdp-crypto-session-level", Warning, false;
    /// `a=crypto` on a profile that is not SRTP (keys offered for media that stays plain).
    CryptoNonSrtpProfile = "sdp-crypto-non-srtp-profile", Info, true;
    /// `a=crypto` on a DTLS-SRTP profile: two keying methods at once.
    CryptoWithDtls = "sdp-crypto-with-dtls", Info, false;
    /// The key is the `<redacted>` placeholder: the body went through [`crate::redact`].
    CryptoRedactedKey = "sdp-crypto-redacted-key", Info, false;
    /// An SRTP profile with no `a=crypto`, `a=key-mgmt` or `a=fingerprint`: no keys at all.
    SrtpWithoutKeying = "sdp-srtp-without-keying", Warning, true;
    /// A DTLS-SRTP profile without `a=fingerprint`: the DTLS peer cannot be authenticated.
    DtlsMissingFingerprint = "sdp-dtls-missing-fingerprint", Warning, true;
}

/// One anomaly: its kind and the byte span of the offending text in the parsed body.
///
/// The span never holds the text itself, so anomalies can be logged and stored without
/// leaking key material.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Anomaly {
    /// What is wrong.
    pub kind: AnomalyKind,
    /// Byte offsets into the body the session was parsed from (may be empty for "missing").
    pub span: Range<usize>,
}

impl Anomaly {
    /// Builds an anomaly.
    pub fn new(kind: AnomalyKind, span: Range<usize>) -> Self {
        Anomaly { kind, span }
    }

    /// Shorthand for `self.kind.id()`.
    pub fn id(&self) -> &'static str {
        self.kind.id()
    }

    /// Shorthand for `self.kind.severity()`.
    pub fn severity(&self) -> Severity {
        self.kind.severity()
    }
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} [{}] at {}..{}",
            self.kind.id(),
            self.severity(),
            self.span.start,
            self.span.end
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for k in AnomalyKind::ALL {
            let id = k.id();
            assert!(seen.insert(id), "duplicate id {id}");
            assert!(id.starts_with("sdp-"), "{id}");
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{id}"
            );
            assert_eq!(AnomalyKind::from_id(id), Some(*k));
        }
        assert_eq!(AnomalyKind::from_id("nope"), None);
    }

    #[test]
    fn display_names_kind_and_span() {
        let a = Anomaly::new(AnomalyKind::CryptoKeyLength, 3..9);
        assert_eq!(a.to_string(), "sdp-crypto-key-length [malformed] at 3..9");
        assert!(a.kind.is_security_relevant());
    }
}

//! Anomalies: what is wrong with a message, as data.
//!
//! Attack traffic is malformed on purpose, so a parser that stops at the first error hides exactly
//! what a security tool must see. Every problem found is recorded with a stable kind and the byte
//! span it covers, and parsing goes on wherever the framing still allows it.

use std::fmt;
use std::ops::Range;

/// How bad an anomaly is, in RFC 3261 terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth knowing (RFC 2543 compatibility, trailing octets); a conforming element accepts it.
    Info,
    /// Legal syntax, but an element must answer with an error (416, 420, 483…) or the content is
    /// suspicious; the message itself is not malformed.
    Warning,
    /// RFC 3261 requires the message to be rejected (400/505/…) or, for a response, discarded.
    Reject,
}

impl Severity {
    /// Stable lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Reject => "reject",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! kinds {
    ($( #[doc = $doc:literal] $name:ident = $id:literal, $sev:ident; )*) => {
        /// The stable kinds of anomaly. Their [`AnomalyKind::id`]s never change meaning: users
        /// grep, suppress and file tickets by them.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum AnomalyKind {
            $( #[doc = $doc] $name, )*
        }

        impl AnomalyKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [AnomalyKind] = &[$(AnomalyKind::$name,)*];

            /// Stable kebab-case identifier.
            pub fn id(self) -> &'static str {
                match self { $( AnomalyKind::$name => $id, )* }
            }

            /// Severity of this kind.
            pub fn severity(self) -> Severity {
                match self { $( AnomalyKind::$name => Severity::$sev, )* }
            }

            /// One-line description (the rustdoc of the variant), for catalogues and `--explain`.
            pub fn description(self) -> &'static str {
                match self { $( AnomalyKind::$name => $doc.trim_start(), )* }
            }

            /// Looks a kind up by its stable identifier.
            pub fn from_id(id: &str) -> Option<AnomalyKind> {
                match id { $( $id => Some(AnomalyKind::$name), )* _ => None }
            }
        }
    };
}

kinds! {
    /// The input is empty or holds only CRLFs.
    EmptyMessage = "empty-message", Reject;
    /// The message exceeds [`crate::Limits::max_message`].
    MessageTooLarge = "message-too-large", Reject;
    /// More header fields than [`crate::Limits::max_headers`].
    TooManyHeaders = "too-many-headers", Reject;
    /// A line longer than [`crate::Limits::max_line`].
    LineTooLong = "line-too-long", Reject;
    /// The first line is neither a Request-Line nor a Status-Line.
    BadStartLine = "bad-start-line", Reject;
    /// The method is not an RFC 3261 token.
    BadMethod = "bad-method", Reject;
    /// The Request-URI is enclosed in `<>` (RFC 4475 ltgtruri).
    RequestUriInBrackets = "request-uri-in-brackets", Reject;
    /// Extra or trailing white space between Request-Line elements (RFC 4475 lwsstart, trws).
    RequestLineWhitespace = "request-line-whitespace", Reject;
    /// White space inside the Request-URI (RFC 4475 lwsruri).
    RequestUriLws = "request-uri-lws", Reject;
    /// The Request-URI does not parse as a URI of its scheme.
    BadRequestUri = "bad-request-uri", Reject;
    /// A SIP or SIPS Request-URI carries `?headers` (RFC 3261 §19.1.1; RFC 4475 escruri).
    UriHeadersInRequestUri = "uri-headers-in-request-uri", Reject;
    /// SIP-Version other than 2.0: answer 505.
    UnsupportedVersion = "unsupported-version", Reject;
    /// Status code not three digits in 100..=699 (RFC 4475 bigcode).
    BadStatusCode = "bad-status-code", Reject;
    /// A header line without a colon.
    HeaderWithoutColon = "header-without-colon", Reject;
    /// A header name that is not a token.
    BadHeaderName = "bad-header-name", Reject;
    /// A continuation line before any header field.
    BadFolding = "bad-folding", Reject;
    /// Content-Length is not a non-negative decimal (RFC 4475 ncl).
    InvalidContentLength = "invalid-content-length", Reject;
    /// Several Content-Length values that disagree (RFC 4475 mcl01).
    ConflictingContentLength = "conflicting-content-length", Reject;
    /// Content-Length announces more octets than the datagram holds (RFC 4475 clerr).
    ContentLengthExceedsBody = "content-length-exceeds-body", Reject;
    /// A header every request/response must carry is absent (RFC 4475 insuf).
    MissingMandatoryHeader = "missing-mandatory-header", Reject;
    /// Call-ID, From, To, CSeq or Max-Forwards appear more than once (RFC 4475 multi01).
    DuplicateSingleHeader = "duplicate-single-header", Reject;
    /// The CSeq method differs from the request method (RFC 4475 mismatch01/02).
    CseqMethodMismatch = "cseq-method-mismatch", Reject;
    /// CSeq is not `number SP method`.
    BadCseq = "bad-cseq", Reject;
    /// A numeric field above its legal maximum (RFC 4475 scalar02, scalarlg).
    ScalarOverflow = "scalar-overflow", Reject;
    /// Max-Forwards is not a number.
    BadMaxForwards = "bad-max-forwards", Reject;
    /// Call-ID is empty or holds white space.
    BadCallId = "bad-call-id", Reject;
    /// A quoted string is never closed (RFC 4475 quotbal).
    UnbalancedQuotes = "unbalanced-quotes", Reject;
    /// An unquoted display name with non-token characters (RFC 4475 baddn).
    BadDisplayName = "bad-display-name", Reject;
    /// White space inside `<addr-spec>` (RFC 4475 badaspec).
    LwsInAddrSpec = "lws-in-addr-spec", Reject;
    /// An addr-spec holding `,`, `?` or `;` outside `<>` (RFC 4475 regbadct).
    AddrSpecNeedsBrackets = "addr-spec-needs-brackets", Reject;
    /// From/To/Contact/Route value that does not parse.
    BadNameAddr = "bad-name-addr", Reject;
    /// A URI inside a header that does not parse.
    BadUri = "bad-uri", Reject;
    /// An empty element in a comma-separated list (RFC 4475 badinv01).
    EmptyListElement = "empty-list-element", Reject;
    /// An empty `;` parameter (RFC 4475 badinv01).
    EmptyParam = "empty-param", Reject;
    /// A Via value that does not parse.
    BadVia = "bad-via", Reject;
    /// A port above 65535 or not numeric.
    BadPort = "bad-port", Reject;
    /// A malformed value in a header that is not needed to route the message.
    BadHeaderValue = "bad-header-value", Warning;
    /// A Via branch that is exactly the magic cookie `z9hG4bK` (RFC 4475 badbranch).
    ViaBadBranch = "via-bad-branch", Warning;
    /// A Via sent-by that is a broadcast or multicast address (RFC 4475 bcast).
    ViaBroadcast = "via-broadcast", Warning;
    /// Request-URI scheme the element does not support: answer 416 (RFC 4475 unkscm, novelsc).
    UnsupportedUriScheme = "unsupported-uri-scheme", Warning;
    /// From/To with a scheme other than sip/sips/tel (RFC 4475 unksm2).
    NonSipAddressScheme = "non-sip-address-scheme", Warning;
    /// Require/Proxy-Require with option tags outside the IANA registry: answer 420 (bext01).
    UnsupportedExtension = "unsupported-extension", Warning;
    /// Content-Type not known to SIP elements: a UAS answers 415 (RFC 4475 invut).
    UnknownContentType = "unknown-content-type", Warning;
    /// Authorization with a scheme other than Digest (RFC 4475 regaut01).
    UnknownAuthScheme = "unknown-auth-scheme", Warning;
    /// Accept excludes every body type the request needs: answer 406 (RFC 4475 sdp01).
    UnacceptableAccept = "unacceptable-accept", Warning;
    /// Date not in RFC 1123 form with GMT (RFC 4475 baddate).
    BadDate = "bad-date", Warning;
    /// A single-value header other than the routing ones appears more than once.
    DuplicateHeader = "duplicate-header", Warning;
    /// Lines end in bare LF instead of CRLF.
    BareLf = "bare-lf", Warning;
    /// The header section is not closed by an empty line (RFC 4475 baddn file).
    MissingHeaderTerminator = "missing-header-terminator", Warning;
    /// A NUL or other control byte outside quoted strings in a header value.
    ControlCharInHeader = "control-char-in-header", Warning;
    /// Several identical Content-Length headers.
    DuplicateContentLength = "duplicate-content-length", Info;
    /// Max-Forwards is 0: a proxy must answer 483 (RFC 4475 zeromf).
    MaxForwardsZero = "max-forwards-zero", Info;
    /// Max-Forwards absent (RFC 2543 style, RFC 4475 inv2543).
    MissingMaxForwards = "missing-max-forwards", Info;
    /// Top Via without an RFC 3261 branch (RFC 2543 style).
    ViaRfc2543Branch = "via-rfc2543-branch", Info;
    /// A request whose From has no tag (RFC 2543 style).
    MissingFromTag = "missing-from-tag", Info;
    /// No Content-Length on a datagram (allowed over UDP only).
    MissingContentLength = "missing-content-length", Info;
    /// Octets after the body announced by Content-Length are ignored (RFC 4475 dblreq).
    TrailingBytes = "trailing-bytes", Info;
    /// CRLFs before the start line (RFC 3261 §7.5 says to ignore them).
    LeadingCrlf = "leading-crlf", Info;
    /// `%00` inside a URI (RFC 4475 escnull): legal, but a classic truncation trick.
    EscapedNulInUri = "escaped-nul-in-uri", Info;
}

/// One anomaly: its kind, the byte span of the offending text in the parsed buffer, and an
/// optional short detail (a header name, a value) for humans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anomaly {
    /// What is wrong.
    pub kind: AnomalyKind,
    /// Byte offsets into the buffer the message was parsed from.
    pub span: Range<usize>,
    /// A short, static explanation or the name of what is affected.
    pub detail: &'static str,
}

impl Anomaly {
    /// Builds an anomaly.
    pub fn new(kind: AnomalyKind, span: Range<usize>, detail: &'static str) -> Self {
        Anomaly { kind, span, detail }
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
        )?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/anomalies.md is generated from this table; regenerate with
    /// `SIPSENTRY_BLESS=1 cargo test -p sipsentry-sip catalogue`.
    #[test]
    fn catalogue_is_up_to_date() {
        let mut md = String::from(
            "# SIP message anomalies\n\nGenerated from `crates/sipsentry-sip/src/anomaly.rs` (test `catalogue_is_up_to_date`).\nSeverity `reject`: RFC 3261 requires rejecting (or, for a response, discarding) the message; `warning`: legal syntax but an element must answer with an error, or suspicious; `info`: worth knowing.\n\n| id | severity | meaning |\n|---|---|---|\n",
        );
        for k in AnomalyKind::ALL {
            md.push_str(&format!(
                "| `{}` | {} | {} |\n",
                k.id(),
                k.severity(),
                k.description().replace("[`crate::", "`").replace("`]", "`")
            ));
        }
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/anomalies.md");
        if std::env::var_os("SIPSENTRY_BLESS").is_some() {
            std::fs::write(&path, &md).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(
            on_disk, md,
            "docs/anomalies.md is stale: rerun with SIPSENTRY_BLESS=1"
        );
    }

    #[test]
    fn ids_are_unique_and_round_trip() {
        let mut seen = std::collections::HashSet::new();
        for k in AnomalyKind::ALL {
            assert!(seen.insert(k.id()), "duplicate id {}", k.id());
            assert_eq!(AnomalyKind::from_id(k.id()), Some(*k));
        }
    }
}

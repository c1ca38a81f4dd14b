//! Header names, compact forms, and the raw header record.

macro_rules! names {
    ($( $name:ident = $canon:literal, $($pat:literal)|+ ; )*) => { names!(@emit $( $name = $canon ; )*); };
    (@emit $( $name:ident = $canon:literal ; )*) => {
        /// Header fields the parser knows by name. Anything else is [`HeaderName::Other`] and kept
        /// verbatim.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum HeaderName {
            $( #[doc = $canon] $name, )*
            /// A header this parser has no view for.
            Other,
        }

        impl HeaderName {
            /// Every known name (not `Other`).
            pub const ALL: &'static [HeaderName] = &[$(HeaderName::$name,)*];

            /// Canonical spelling (long form), or `None` for [`HeaderName::Other`].
            pub fn canonical(self) -> Option<&'static str> {
                match self { $( HeaderName::$name => Some($canon), )* HeaderName::Other => None }
            }

            /// Classifies a header name, case-insensitively, accepting RFC 3261 compact forms.
            pub fn from_bytes(name: &[u8]) -> HeaderName {
                // Dispatch on length, then compare case-insensitively: no copy, few compares.
                let eq = |c: &[u8]| name.eq_ignore_ascii_case(c);
                match name.len() {
                    1 => match name[0].to_ascii_lowercase() {
                        b'v' => HeaderName::Via,
                        b'f' => HeaderName::From,
                        b't' => HeaderName::To,
                        b'i' => HeaderName::CallId,
                        b'm' => HeaderName::Contact,
                        b'l' => HeaderName::ContentLength,
                        b'c' => HeaderName::ContentType,
                        b'e' => HeaderName::ContentEncoding,
                        b'u' => HeaderName::AllowEvents,
                        b'k' => HeaderName::Supported,
                        b's' => HeaderName::Subject,
                        b'o' => HeaderName::Event,
                        b'r' => HeaderName::ReferTo,
                        b'b' => HeaderName::ReferredBy,
                        b'x' => HeaderName::SessionExpires,
                        _ => HeaderName::Other,
                    },
                    2 => {
                        if eq(b"to") { return HeaderName::To; }
                        HeaderName::Other
                    }
                    3 => {
                        if eq(b"via") { return HeaderName::Via; }
                        HeaderName::Other
                    }
                    4 => {
                        if eq(b"from") { return HeaderName::From; }
                        if eq(b"cseq") { return HeaderName::CSeq; }
                        if eq(b"date") { return HeaderName::Date; }
                        HeaderName::Other
                    }
                    5 => {
                        if eq(b"allow") { return HeaderName::Allow; }
                        if eq(b"route") { return HeaderName::Route; }
                        if eq(b"event") { return HeaderName::Event; }
                        HeaderName::Other
                    }
                    6 => {
                        if eq(b"server") { return HeaderName::Server; }
                        if eq(b"reason") { return HeaderName::Reason; }
                        if eq(b"accept") { return HeaderName::Accept; }
                        HeaderName::Other
                    }
                    7 => {
                        if eq(b"call-id") { return HeaderName::CallId; }
                        if eq(b"contact") { return HeaderName::Contact; }
                        if eq(b"expires") { return HeaderName::Expires; }
                        if eq(b"require") { return HeaderName::Require; }
                        if eq(b"subject") { return HeaderName::Subject; }
                        if eq(b"warning") { return HeaderName::Warning; }
                        HeaderName::Other
                    }
                    8 => {
                        if eq(b"priority") { return HeaderName::Priority; }
                        if eq(b"refer-to") { return HeaderName::ReferTo; }
                        HeaderName::Other
                    }
                    9 => {
                        if eq(b"supported") { return HeaderName::Supported; }
                        if eq(b"timestamp") { return HeaderName::Timestamp; }
                        if eq(b"diversion") { return HeaderName::Diversion; }
                        HeaderName::Other
                    }
                    10 => {
                        if eq(b"user-agent") { return HeaderName::UserAgent; }
                        HeaderName::Other
                    }
                    11 => {
                        if eq(b"min-expires") { return HeaderName::MinExpires; }
                        if eq(b"unsupported") { return HeaderName::Unsupported; }
                        if eq(b"retry-after") { return HeaderName::RetryAfter; }
                        if eq(b"referred-by") { return HeaderName::ReferredBy; }
                        HeaderName::Other
                    }
                    12 => {
                        if eq(b"max-forwards") { return HeaderName::MaxForwards; }
                        if eq(b"content-type") { return HeaderName::ContentType; }
                        if eq(b"allow-events") { return HeaderName::AllowEvents; }
                        if eq(b"record-route") { return HeaderName::RecordRoute; }
                        if eq(b"organization") { return HeaderName::Organization; }
                        HeaderName::Other
                    }
                    13 => {
                        if eq(b"proxy-require") { return HeaderName::ProxyRequire; }
                        if eq(b"authorization") { return HeaderName::Authorization; }
                        HeaderName::Other
                    }
                    14 => {
                        if eq(b"content-length") { return HeaderName::ContentLength; }
                        HeaderName::Other
                    }
                    15 => {
                        if eq(b"session-expires") { return HeaderName::SessionExpires; }
                        if eq(b"remote-party-id") { return HeaderName::RemotePartyId; }
                        HeaderName::Other
                    }
                    16 => {
                        if eq(b"content-encoding") { return HeaderName::ContentEncoding; }
                        if eq(b"www-authenticate") { return HeaderName::WwwAuthenticate; }
                        HeaderName::Other
                    }
                    18 => {
                        if eq(b"proxy-authenticate") { return HeaderName::ProxyAuthenticate; }
                        HeaderName::Other
                    }
                    19 => {
                        if eq(b"content-disposition") { return HeaderName::ContentDisposition; }
                        if eq(b"proxy-authorization") { return HeaderName::ProxyAuthorization; }
                        if eq(b"p-asserted-identity") { return HeaderName::PAssertedIdentity; }
                        HeaderName::Other
                    }
                    _ => HeaderName::Other,
                }
            }
        }
    };
}

names! {
    Via = "Via", b"via" | b"v";
    From = "From", b"from" | b"f";
    To = "To", b"to" | b"t";
    CallId = "Call-ID", b"call-id" | b"i";
    CSeq = "CSeq", b"cseq";
    Contact = "Contact", b"contact" | b"m";
    MaxForwards = "Max-Forwards", b"max-forwards";
    ContentLength = "Content-Length", b"content-length" | b"l";
    ContentType = "Content-Type", b"content-type" | b"c";
    ContentEncoding = "Content-Encoding", b"content-encoding" | b"e";
    ContentDisposition = "Content-Disposition", b"content-disposition";
    Expires = "Expires", b"expires";
    MinExpires = "Min-Expires", b"min-expires";
    UserAgent = "User-Agent", b"user-agent";
    Server = "Server", b"server";
    Allow = "Allow", b"allow";
    AllowEvents = "Allow-Events", b"allow-events" | b"u";
    Supported = "Supported", b"supported" | b"k";
    Require = "Require", b"require";
    ProxyRequire = "Proxy-Require", b"proxy-require";
    Unsupported = "Unsupported", b"unsupported";
    Route = "Route", b"route";
    RecordRoute = "Record-Route", b"record-route";
    Reason = "Reason", b"reason";
    WwwAuthenticate = "WWW-Authenticate", b"www-authenticate";
    ProxyAuthenticate = "Proxy-Authenticate", b"proxy-authenticate";
    Authorization = "Authorization", b"authorization";
    ProxyAuthorization = "Proxy-Authorization", b"proxy-authorization";
    Subject = "Subject", b"subject" | b"s";
    Event = "Event", b"event" | b"o";
    Accept = "Accept", b"accept";
    Date = "Date", b"date";
    RetryAfter = "Retry-After", b"retry-after";
    Warning = "Warning", b"warning";
    Organization = "Organization", b"organization";
    Priority = "Priority", b"priority";
    Timestamp = "Timestamp", b"timestamp";
    ReferTo = "Refer-To", b"refer-to" | b"r";
    ReferredBy = "Referred-By", b"referred-by" | b"b";
    SessionExpires = "Session-Expires", b"session-expires" | b"x";
    PAssertedIdentity = "P-Asserted-Identity", b"p-asserted-identity";
    RemotePartyId = "Remote-Party-ID", b"remote-party-id";
    Diversion = "Diversion", b"diversion";
}

impl HeaderName {
    /// Headers whose grammar allows only one value; a second instance is an anomaly.
    pub fn is_single_value(self) -> bool {
        matches!(
            self,
            HeaderName::From
                | HeaderName::To
                | HeaderName::CallId
                | HeaderName::CSeq
                | HeaderName::MaxForwards
                | HeaderName::ContentLength
                | HeaderName::ContentType
                | HeaderName::Expires
                | HeaderName::MinExpires
                | HeaderName::Date
                | HeaderName::RetryAfter
                | HeaderName::Timestamp
                | HeaderName::Organization
                | HeaderName::Priority
                | HeaderName::Subject
                | HeaderName::ContentDisposition
                | HeaderName::UserAgent
                | HeaderName::Server
        )
    }

    /// The single-value headers that identify a transaction or dialog: RFC 3261 elements must
    /// reject a request that carries several of them (RFC 4475 multi01).
    pub fn is_dialog_critical(self) -> bool {
        matches!(
            self,
            HeaderName::From
                | HeaderName::To
                | HeaderName::CallId
                | HeaderName::CSeq
                | HeaderName::MaxForwards
        )
    }

    /// Headers whose value is a comma-separated list (RFC 3261 §7.3.1).
    pub fn is_list(self) -> bool {
        matches!(
            self,
            HeaderName::Via
                | HeaderName::Contact
                | HeaderName::Route
                | HeaderName::RecordRoute
                | HeaderName::Allow
                | HeaderName::AllowEvents
                | HeaderName::Supported
                | HeaderName::Require
                | HeaderName::ProxyRequire
                | HeaderName::Unsupported
                | HeaderName::Accept
                | HeaderName::ContentEncoding
                | HeaderName::Reason
                | HeaderName::Warning
                | HeaderName::PAssertedIdentity
                | HeaderName::Diversion
        )
    }

    /// Index for per-name bookkeeping (`Other` last).
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Number of distinct [`HeaderName`] values (for bit sets).
pub(crate) const NAME_COUNT: usize = HeaderName::Other as usize + 1;

/// One header field as it appears in the message. Zero-copy: slices of the parsed buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// Classified name.
    pub name: HeaderName,
    /// Name as written (for `Other` and for faithful printing).
    pub raw_name: &'a [u8],
    /// Value with surrounding white space removed; folded continuation lines remain inside it.
    pub value: &'a [u8],
    /// Byte range of the whole field, name through the end of its last continuation line
    /// (excluding the final line break).
    pub start: u32,
    /// See `start`.
    pub end: u32,
}

impl Header<'_> {
    /// Byte range of the whole header field in the parsed buffer.
    pub fn span(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// Whether the value spans several lines.
    pub fn is_folded(&self) -> bool {
        self.value.contains(&b'\n')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_case() {
        assert_eq!(HeaderName::from_bytes(b"v"), HeaderName::Via);
        assert_eq!(
            HeaderName::from_bytes(b"MaX-fOrWaRdS"),
            HeaderName::MaxForwards
        );
        assert_eq!(HeaderName::from_bytes(b"L"), HeaderName::ContentLength);
        assert_eq!(HeaderName::from_bytes(b"C%6Fntact"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b"i"), HeaderName::CallId);
        assert_eq!(HeaderName::from_bytes(b""), HeaderName::Other);
    }

    #[test]
    fn table_is_lower_case() {
        // Every canonical name must be reachable from its canonical spelling.
        for &n in HeaderName::ALL {
            let c = n.canonical().unwrap();
            assert_eq!(HeaderName::from_bytes(c.as_bytes()), n);
            assert_eq!(HeaderName::from_bytes(c.to_ascii_uppercase().as_bytes()), n);
        }
    }
}

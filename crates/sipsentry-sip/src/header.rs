//! Header names, compact forms, and the raw header record.

macro_rules! names {
    ($( $name:ident = $canon:literal, $($pat:literal)|+ ; )*) => {
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
            /// Canonical spelling (long form), or `None` for [`HeaderName::Other`].
            pub fn canonical(self) -> Option<&'static str> {
                match self { $( HeaderName::$name => Some($canon), )* HeaderName::Other => None }
            }

            /// Classifies a header name, case-insensitively, accepting RFC 3261 compact forms.
            pub fn from_bytes(name: &[u8]) -> HeaderName {
                const MAX: usize = 24;
                if name.is_empty() || name.len() > MAX {
                    return HeaderName::Other;
                }
                let mut buf = [0u8; MAX];
                for (d, s) in buf.iter_mut().zip(name) {
                    *d = s.to_ascii_lowercase();
                }
                // A literal match lets the compiler dispatch on length first.
                match &buf[..name.len()] {
                    $( $($pat)|+ => HeaderName::$name, )*
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
        assert_eq!(HeaderName::from_bytes(b"MaX-fOrWaRdS"), HeaderName::MaxForwards);
        assert_eq!(HeaderName::from_bytes(b"L"), HeaderName::ContentLength);
        assert_eq!(HeaderName::from_bytes(b"C%6Fntact"), HeaderName::Other);
        assert_eq!(HeaderName::from_bytes(b"i"), HeaderName::CallId);
        assert_eq!(HeaderName::from_bytes(b""), HeaderName::Other);
    }

    #[test]
    fn table_is_lower_case() {
        // Every canonical name must be reachable from its canonical spelling.
        for n in [
            HeaderName::Via,
            HeaderName::WwwAuthenticate,
            HeaderName::PAssertedIdentity,
            HeaderName::SessionExpires,
        ] {
            let c = n.canonical().unwrap();
            assert_eq!(HeaderName::from_bytes(c.as_bytes()), n);
            assert_eq!(HeaderName::from_bytes(c.to_ascii_uppercase().as_bytes()), n);
        }
    }
}

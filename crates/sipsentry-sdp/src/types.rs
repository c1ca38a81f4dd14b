//! Typed views of the SDP line types shared by session and media sections.

use std::fmt;
use std::net::IpAddr;
use std::ops::Range;

use crate::text::{Secret, Text};

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`.
///
/// Kept because the origin address often leaks the host's private address even when `c=` was
/// rewritten by a NAT-aware proxy, and the session id/version pair identifies a session across
/// re-offers. Missing fields are empty (and flagged `sdp-bad-origin`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Origin<'a> {
    /// User name, `-` when the host has none.
    pub username: Text<'a>,
    /// Session id (digits).
    pub sess_id: Text<'a>,
    /// Session version (digits), incremented on each modification.
    pub sess_version: Text<'a>,
    /// Network type, normally `IN`.
    pub net_type: Text<'a>,
    /// Address type, `IP4` or `IP6`.
    pub addr_type: Text<'a>,
    /// Unicast address or FQDN as written.
    pub unicast_address: Text<'a>,
    /// The address, when it is an IP literal.
    pub ip: Option<IpAddr>,
    /// Byte span of the line.
    pub span: Range<usize>,
}

impl Origin<'_> {
    /// Session version as a number (it is `u64`-sized in practice, RFC 8866 says "numeric").
    pub fn sess_version_num(&self) -> Option<u64> {
        crate::lines::parse_u64(self.sess_version.as_bytes())
    }
}

/// `c=<nettype> <addrtype> <connection-address>`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Connection<'a> {
    /// Network type, normally `IN`.
    pub net_type: Text<'a>,
    /// Address type, `IP4` or `IP6`.
    pub addr_type: Text<'a>,
    /// The whole connection address, including `/ttl/count` suffixes.
    pub address: Text<'a>,
    /// The host part (before the first `/`): an IP literal or an FQDN.
    pub host: Text<'a>,
    /// The host, when it is an IP literal.
    pub ip: Option<IpAddr>,
    /// Multicast TTL (IPv4 multicast only).
    pub ttl: Option<u8>,
    /// Number of consecutive multicast addresses.
    pub num_addresses: Option<u32>,
    /// Byte span of the line.
    pub span: Range<usize>,
}

impl Connection<'_> {
    /// Whether the address is a multicast literal.
    pub fn is_multicast(&self) -> bool {
        self.ip.is_some_and(|ip| ip.is_multicast())
    }

    /// Whether the address is the unspecified address (`0.0.0.0` is RFC 2543-style hold).
    pub fn is_unspecified(&self) -> bool {
        self.ip.is_some_and(|ip| ip.is_unspecified())
    }
}

/// `b=<bwtype>:<bandwidth>`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Bandwidth<'a> {
    /// Bandwidth type (`CT`, `AS`, `TIAS`, `RR`, `RS`, or an extension).
    pub bwtype: Text<'a>,
    /// The value in kbit/s (bit/s for `TIAS`), when numeric.
    pub value: Option<u64>,
    /// The whole line value, as written.
    pub raw: Text<'a>,
    /// Byte span of the line.
    pub span: Range<usize>,
}

/// `r=<repeat interval> <active duration> <offsets>`, times in seconds.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Repeat<'a> {
    /// Repeat interval in seconds.
    pub interval: Option<u64>,
    /// Active duration in seconds.
    pub duration: Option<u64>,
    /// Offsets from the start time, in seconds (`None` for a malformed one).
    pub offsets: Vec<Option<u64>>,
    /// The line value as written.
    pub raw: Text<'a>,
    /// Byte span of the line.
    pub span: Range<usize>,
}

/// `t=<start-time> <stop-time>` (NTP seconds, 0 = unbounded) with its `r=` lines.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timing<'a> {
    /// Start time, `None` when malformed.
    pub start: Option<u64>,
    /// Stop time, `None` when malformed.
    pub stop: Option<u64>,
    /// The `r=` lines that follow.
    pub repeats: Vec<Repeat<'a>>,
    /// Byte span of the `t=` line.
    pub span: Range<usize>,
}

/// One `z=` pair: from `time` (NTP seconds), add `offset` seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ZoneAdjustment {
    /// When the adjustment takes effect.
    pub time: u64,
    /// The offset in seconds.
    pub offset: i64,
}

/// The `z=` line.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Zone {
    /// The well-formed adjustments.
    pub adjustments: Vec<ZoneAdjustment>,
    /// Byte span of the line.
    pub span: Range<usize>,
}

/// `k=<method>[:<encryption key>]` — obsolete, and its key is in the clear.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EncryptionKey<'a> {
    /// `clear`, `base64`, `uri` or `prompt`.
    pub method: Text<'a>,
    /// The text after the `:`, treated as secret whatever the method.
    pub key: Option<Secret<'a>>,
    /// Byte span of the line.
    pub span: Range<usize>,
}

/// `a=<name>[:<value>]`, kept generic (rtpmap, fingerprint, setup, candidate, …).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attribute<'a> {
    /// Attribute name.
    pub name: Text<'a>,
    /// Value after the first `:`; `None` for a property attribute.
    pub value: Option<Text<'a>>,
    /// Everything after `a=`.
    pub raw: Text<'a>,
    /// Byte span of the line.
    pub span: Range<usize>,
}

impl Attribute<'_> {
    /// Whether the name is `name` (ASCII case-insensitive).
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

impl fmt::Debug for Attribute<'_> {
    /// Redacts the line as a whole: a key directly after the name (`a=inline:KEY`) would
    /// otherwise escape the per-field redaction of [`Text`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let red = crate::redact::redact(self.raw.as_bytes());
        let value = self.value.map(|_| {
            let v = red.get(self.name.len() + 1..).unwrap_or_default();
            String::from_utf8_lossy(v).into_owned()
        });
        f.debug_struct("Attribute")
            .field("name", &self.name)
            .field("value", &value)
            .field("span", &self.span)
            .finish()
    }
}

/// A line kept verbatim: unknown type, or not `<letter>=` at all.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RawLine<'a> {
    /// The type letter, `None` when the line is not `<letter>=…`.
    pub line_type: Option<u8>,
    /// The whole line without its terminator.
    pub text: Text<'a>,
    /// Byte span of the line.
    pub span: Range<usize>,
}

/// Media direction attribute (RFC 3264 §5.1, RFC 8866 §6.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `a=sendrecv` (the default).
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    /// Maps an attribute name to a direction.
    pub fn from_name(name: &[u8]) -> Option<Self> {
        [
            Direction::SendRecv,
            Direction::SendOnly,
            Direction::RecvOnly,
            Direction::Inactive,
        ]
        .into_iter()
        .find(|d| d.as_str().as_bytes().eq_ignore_ascii_case(name))
    }

    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }
}

/// Where an address in [`crate::Session::ip_addresses`] was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddressSource {
    /// The `o=` line.
    Origin,
    /// The session-level `c=` line.
    Session,
    /// A `c=` line of the media section with this index.
    Media(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_debug_redacts_key_after_name() {
        let raw: &[u8] = b"inline:SECRETKEY|2^20";
        let a = Attribute {
            name: Text::new(&raw[..6]),
            value: Some(Text::new(&raw[7..])),
            raw: Text::new(raw),
            span: 0..23,
        };
        let d = format!("{a:?}");
        assert!(!d.contains("SECRETKEY"), "{d}");
        assert!(d.contains("<redacted>|2^20"), "{d}");
    }

    #[test]
    fn direction_names() {
        assert_eq!(Direction::from_name(b"SENDONLY"), Some(Direction::SendOnly));
        assert_eq!(Direction::from_name(b"x"), None);
    }
}

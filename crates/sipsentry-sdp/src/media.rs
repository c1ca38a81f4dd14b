//! Media sections (`m=` and the lines under it) and transport profiles.

use std::fmt;
use std::ops::{Deref, Range};

use crate::crypto::Crypto;
use crate::session::Session;
use crate::text::Text;
use crate::types::{Attribute, Bandwidth, Connection, Direction, EncryptionKey, RawLine};

/// Media transport protocol of an `m=` line.
///
/// Whether media is encrypted is decided here, not by the presence of `a=crypto`: keys in an
/// `RTP/AVP` section are never used, and `UDP/TLS/RTP/SAVPF` is keyed by DTLS.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Proto<'a> {
    /// `RTP/AVP`: plain RTP.
    RtpAvp,
    /// `RTP/AVPF`: plain RTP with RTCP feedback.
    RtpAvpf,
    /// `RTP/SAVP`: SRTP, usually keyed by SDES or MIKEY.
    RtpSavp,
    /// `RTP/SAVPF`: SRTP with RTCP feedback.
    RtpSavpf,
    /// `UDP/TLS/RTP/SAVP`: DTLS-SRTP (RFC 5764).
    UdpTlsRtpSavp,
    /// `UDP/TLS/RTP/SAVPF`: DTLS-SRTP with feedback (WebRTC).
    UdpTlsRtpSavpf,
    /// `udptl`: T.38 fax, unencrypted.
    Udptl,
    /// Anything else (`TCP/MRCPv2`, `TCP/TLS/RTP/SAVP`, `UDP/DTLS/SCTP`, …), verbatim. Holds
    /// the empty string when the protocol is not UTF-8 (see [`Media::proto_text`]).
    Other(&'a str),
}

const PROTOS: &[(&str, Proto<'static>)] = &[
    ("RTP/AVP", Proto::RtpAvp),
    ("RTP/AVPF", Proto::RtpAvpf),
    ("RTP/SAVP", Proto::RtpSavp),
    ("RTP/SAVPF", Proto::RtpSavpf),
    ("UDP/TLS/RTP/SAVP", Proto::UdpTlsRtpSavp),
    ("UDP/TLS/RTP/SAVPF", Proto::UdpTlsRtpSavpf),
    ("udptl", Proto::Udptl),
];

impl<'a> Proto<'a> {
    /// Parses a protocol name (ASCII case-insensitive).
    pub fn parse(s: &'a [u8]) -> Self {
        PROTOS
            .iter()
            .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(s))
            .map_or_else(
                || Proto::Other(std::str::from_utf8(s).unwrap_or("")),
                |(_, p)| *p,
            )
    }

    /// The canonical name, or the text of an unknown protocol.
    pub fn as_str(&self) -> &'a str {
        match self {
            Proto::Other(s) => s,
            known => PROTOS
                .iter()
                .find(|(_, p)| p == known)
                .map_or("", |(n, _)| n),
        }
    }

    fn has_token(&self, tok: &str) -> bool {
        self.as_str()
            .split('/')
            .any(|t| t.eq_ignore_ascii_case(tok))
    }

    /// Whether the profile is SRTP (`SAVP`/`SAVPF`, with or without DTLS).
    pub fn is_srtp(&self) -> bool {
        self.has_token("SAVP") || self.has_token("SAVPF")
    }

    /// Whether the profile protects the media: SRTP, or a DTLS/TLS transport.
    pub fn is_encrypted(&self) -> bool {
        self.is_srtp() || self.has_token("DTLS") || self.has_token("TLS")
    }

    /// Whether keys come from a DTLS handshake (`UDP/TLS/…`, `…/DTLS/…`).
    pub fn is_dtls(&self) -> bool {
        self.has_token("DTLS") || (self.has_token("TLS") && self.has_token("UDP"))
    }

    /// Whether the media is RTP (plain or secure).
    pub fn is_rtp(&self) -> bool {
        self.has_token("RTP")
    }
}

impl fmt::Debug for Proto<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Proto::Other(s) => f
                .debug_tuple("Other")
                .field(&Text::new(s.as_bytes()))
                .finish(),
            known => f.write_str(known.as_str()),
        }
    }
}

impl fmt::Display for Proto<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Text::new(self.as_str().as_bytes()), f)
    }
}

/// One media section: the `m=` line and the `i=`, `c=`, `b=`, `k=`, `a=` lines after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Media<'a> {
    pub(crate) media_type: Text<'a>,
    pub(crate) port: Option<u16>,
    pub(crate) port_count: Option<u32>,
    pub(crate) proto: Proto<'a>,
    pub(crate) proto_text: Text<'a>,
    pub(crate) formats: Vec<Text<'a>>,
    pub(crate) information: Option<Text<'a>>,
    pub(crate) connections: Vec<Connection<'a>>,
    pub(crate) bandwidths: Vec<Bandwidth<'a>>,
    pub(crate) key: Option<EncryptionKey<'a>>,
    pub(crate) attributes: Vec<Attribute<'a>>,
    pub(crate) crypto: Vec<Crypto<'a>>,
    pub(crate) direction: Option<Direction>,
    pub(crate) unknown_lines: Vec<RawLine<'a>>,
    pub(crate) line_span: Range<usize>,
    pub(crate) span: Range<usize>,
}

impl<'a> Media<'a> {
    pub(crate) fn new(line_span: Range<usize>) -> Self {
        Media {
            media_type: Text::default(),
            port: None,
            port_count: None,
            proto: Proto::Other(""),
            proto_text: Text::default(),
            formats: Vec::new(),
            information: None,
            connections: Vec::new(),
            bandwidths: Vec::new(),
            key: None,
            attributes: Vec::new(),
            crypto: Vec::new(),
            direction: None,
            unknown_lines: Vec::new(),
            span: line_span.clone(),
            line_span,
        }
    }

    /// `audio`, `video`, `text`, `application`, `message`, `image`, or an extension.
    pub fn media_type(&self) -> Text<'a> {
        self.media_type
    }

    /// The port, `None` when malformed. Port 0 means the stream is rejected or disabled.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The `/<number of ports>` suffix.
    pub fn port_count(&self) -> Option<u32> {
        self.port_count
    }

    /// Whether the port is 0 (stream rejected/disabled, RFC 3264 §6).
    pub fn is_disabled(&self) -> bool {
        self.port == Some(0)
    }

    /// The transport profile.
    pub fn proto(&self) -> Proto<'a> {
        self.proto
    }

    /// The transport profile as written.
    pub fn proto_text(&self) -> Text<'a> {
        self.proto_text
    }

    /// Media formats (RTP payload types for RTP profiles).
    pub fn formats(&self) -> &[Text<'a>] {
        &self.formats
    }

    /// `i=` of this section.
    pub fn information(&self) -> Option<Text<'a>> {
        self.information
    }

    /// This section's own `c=` lines (see [`MediaRef::effective_connections`]).
    pub fn connections(&self) -> &[Connection<'a>] {
        &self.connections
    }

    /// `b=` lines.
    pub fn bandwidths(&self) -> &[Bandwidth<'a>] {
        &self.bandwidths
    }

    /// `k=` line.
    pub fn key(&self) -> Option<&EncryptionKey<'a>> {
        self.key.as_ref()
    }

    /// All `a=` lines, in order, including `crypto` and direction ones.
    pub fn attributes(&self) -> &[Attribute<'a>] {
        &self.attributes
    }

    /// The first attribute with this name (ASCII case-insensitive).
    pub fn attribute(&self, name: &str) -> Option<&Attribute<'a>> {
        self.attributes.iter().find(|a| a.is(name))
    }

    /// All attributes with this name.
    pub fn attributes_named<'s>(
        &'s self,
        name: &'s str,
    ) -> impl Iterator<Item = &'s Attribute<'a>> + 's {
        self.attributes.iter().filter(move |a| a.is(name))
    }

    /// Typed `a=crypto` lines, plus those offered through `a=acap` capability negotiation.
    pub fn crypto(&self) -> &[Crypto<'a>] {
        &self.crypto
    }

    /// This section's own direction attribute, if any.
    pub fn direction(&self) -> Option<Direction> {
        self.direction
    }

    /// Lines of unknown type inside this section.
    pub fn unknown_lines(&self) -> &[RawLine<'a>] {
        &self.unknown_lines
    }

    /// Byte span of the `m=` line.
    pub fn line_span(&self) -> Range<usize> {
        self.line_span.clone()
    }

    /// Byte span of the whole section.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// Whether the profile is SRTP (`RTP/SAVP`, `RTP/SAVPF`, DTLS-SRTP).
    pub fn is_srtp(&self) -> bool {
        self.proto.is_srtp()
    }

    /// Whether the section carries an SDES key (an `inline:` key in `a=crypto`).
    pub fn has_sdes_keys(&self) -> bool {
        self.crypto.iter().any(Crypto::has_key)
    }

    /// Whether SRTP is offered through capability negotiation (RFC 5939 `a=tcap` with an SRTP
    /// profile, or `a=acap` holding a crypto attribute).
    pub fn offers_srtp_via_capneg(&self) -> bool {
        capneg_offers_srtp(&self.attributes) || self.crypto.iter().any(|c| c.capability.is_some())
    }
}

pub(crate) fn capneg_offers_srtp(attrs: &[Attribute<'_>]) -> bool {
    attrs.iter().any(|a| {
        a.is("tcap")
            && a.value.is_some_and(|v| {
                crate::lines::fields(v.as_bytes(), 0)
                    .skip(1)
                    .any(|(_, p)| Proto::parse(p).is_encrypted())
            })
    })
}

/// A media section seen together with its session, for the values that fall back to
/// session level (connection, direction). Dereferences to [`Media`].
#[derive(Clone, Copy, Debug)]
pub struct MediaRef<'s, 'a> {
    pub(crate) session: &'s Session<'a>,
    pub(crate) media: &'s Media<'a>,
    pub(crate) index: usize,
}

impl<'s, 'a> MediaRef<'s, 'a> {
    /// Position of the section (0-based).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The section itself.
    pub fn media(&self) -> &'s Media<'a> {
        self.media
    }

    /// The media's `c=` lines, or the session's when the media has none (RFC 8866 §5.7).
    pub fn effective_connections(&self) -> &'s [Connection<'a>] {
        if self.media.connections.is_empty() {
            self.session.connection.as_slice()
        } else {
            &self.media.connections
        }
    }

    /// The first effective connection.
    pub fn effective_connection(&self) -> Option<&'s Connection<'a>> {
        self.effective_connections().first()
    }

    /// Media direction, else session direction, else `sendrecv`.
    pub fn effective_direction(&self) -> Direction {
        self.media
            .direction
            .or(self.session.direction)
            .unwrap_or(Direction::SendRecv)
    }

    /// Whether an `a=fingerprint` applies (media or session level).
    pub fn has_fingerprint(&self) -> bool {
        self.media.attribute("fingerprint").is_some()
            || self.session.attribute("fingerprint").is_some()
    }
}

impl<'a> Deref for MediaRef<'_, 'a> {
    type Target = Media<'a>;

    fn deref(&self) -> &Media<'a> {
        self.media
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles() {
        assert_eq!(Proto::parse(b"RTP/AVP"), Proto::RtpAvp);
        assert_eq!(Proto::parse(b"rtp/savpf"), Proto::RtpSavpf);
        assert_eq!(Proto::parse(b"UDP/TLS/RTP/SAVPF"), Proto::UdpTlsRtpSavpf);
        assert_eq!(Proto::parse(b"udptl"), Proto::Udptl);
        assert_eq!(Proto::parse(b"TCP/MRCPv2"), Proto::Other("TCP/MRCPv2"));
        assert_eq!(Proto::parse(b"\xff"), Proto::Other(""));
        assert!(!Proto::RtpAvp.is_encrypted() && !Proto::RtpAvpf.is_srtp());
        assert!(
            Proto::RtpSavp.is_encrypted() && Proto::RtpSavp.is_srtp() && !Proto::RtpSavp.is_dtls()
        );
        assert!(Proto::UdpTlsRtpSavp.is_dtls() && Proto::UdpTlsRtpSavpf.is_srtp());
        assert!(!Proto::Udptl.is_encrypted() && !Proto::Udptl.is_rtp());
        assert!(Proto::Other("UDP/DTLS/SCTP").is_encrypted());
        assert!(!Proto::Other("UDP/DTLS/SCTP").is_srtp());
        assert!(Proto::Other("TCP/TLS/RTP/SAVP").is_srtp());
        assert!(!Proto::Other("TCP/MRCPv2").is_encrypted());
        assert_eq!(Proto::UdpTlsRtpSavpf.as_str(), "UDP/TLS/RTP/SAVPF");
        assert_eq!(
            format!("{:?}", Proto::Other("inline:SECRETKEY")),
            "Other(\"inline:<redacted>\")"
        );
    }
}

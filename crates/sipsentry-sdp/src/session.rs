//! The session description and its parser.

use std::fmt;
use std::net::IpAddr;
use std::ops::Range;

use crate::anomaly::{Anomaly, AnomalyKind};
use crate::crypto::{parse_crypto, Crypto};
use crate::lines::{fields, irregular_ws, lines, parse_u64, Eol, LineRef};
use crate::media::{capneg_offers_srtp, Media, MediaRef, Proto};
use crate::text::{Secret, Text};
use crate::types::{
    AddressSource, Attribute, Bandwidth, Connection, Direction, EncryptionKey, Origin, RawLine,
    Repeat, Timing, Zone, ZoneAdjustment,
};
use crate::{ParseError, MAX_ATTRIBUTES, MAX_BODY, MAX_LINES, MAX_MEDIA};

/// A parsed session description, borrowing from the body.
///
/// Everything the body says is here as data, including what is wrong with it
/// ([`Session::anomalies`]). Single-occurrence lines that appear twice keep the first value;
/// the second is reported as `sdp-duplicate-line`.
#[derive(Clone, PartialEq, Eq)]
pub struct Session<'a> {
    pub(crate) body: &'a [u8],
    pub(crate) parsed_len: usize,
    pub(crate) version: Option<Text<'a>>,
    pub(crate) origin: Option<Origin<'a>>,
    pub(crate) name: Option<Text<'a>>,
    pub(crate) information: Option<Text<'a>>,
    pub(crate) uri: Option<Text<'a>>,
    pub(crate) emails: Vec<Text<'a>>,
    pub(crate) phones: Vec<Text<'a>>,
    pub(crate) connection: Option<Connection<'a>>,
    pub(crate) bandwidths: Vec<Bandwidth<'a>>,
    pub(crate) timings: Vec<Timing<'a>>,
    pub(crate) zone: Option<Zone>,
    pub(crate) key: Option<EncryptionKey<'a>>,
    pub(crate) attributes: Vec<Attribute<'a>>,
    pub(crate) crypto: Vec<Crypto<'a>>,
    pub(crate) direction: Option<Direction>,
    pub(crate) unknown_lines: Vec<RawLine<'a>>,
    pub(crate) media: Vec<Media<'a>>,
    pub(crate) anomalies: Vec<Anomaly>,
    pub(crate) truncated: bool,
}

impl<'a> Session<'a> {
    /// Parses an SDP body.
    ///
    /// Fails only when the input is empty (or blank) or does not look like SDP at all: no
    /// `v=` line and a first line that is not `<letter>=…`. Every other problem, including
    /// exceeding the hard caps ([`MAX_BODY`], [`MAX_LINES`], [`MAX_MEDIA`],
    /// [`MAX_ATTRIBUTES`]), is an [`Anomaly`] and the lines parsed so far are kept.
    pub fn parse(body: &'a [u8]) -> Result<Session<'a>, ParseError> {
        if body
            .iter()
            .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            return Err(ParseError::Empty);
        }
        let mut anomalies = Vec::new();
        let mut region = body.len();
        if body.len() > MAX_BODY {
            anomalies.push(Anomaly::new(
                AnomalyKind::BodyTooLarge,
                MAX_BODY..body.len(),
            ));
            // Stop at the last complete line inside the cap.
            region = body[..MAX_BODY]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(MAX_BODY, |i| i + 1);
        }
        let text = &body[..region];
        let looks_like_sdp = {
            let first = lines(text).find(|l| l.end > l.start);
            let first_ok = first.is_some_and(|l| {
                l.end - l.start >= 2
                    && text[l.start].is_ascii_alphabetic()
                    && text[l.start + 1] == b'='
            });
            first_ok
                || lines(text)
                    .take(MAX_LINES)
                    .any(|l| text[l.start..l.end].starts_with(b"v="))
        };
        if !looks_like_sdp {
            return Err(ParseError::NotSdp);
        }
        let mut p = Parser {
            s: Session {
                body,
                parsed_len: region,
                version: None,
                origin: None,
                name: None,
                information: None,
                uri: None,
                emails: Vec::new(),
                phones: Vec::new(),
                connection: None,
                bandwidths: Vec::new(),
                timings: Vec::new(),
                zone: None,
                key: None,
                attributes: Vec::new(),
                crypto: Vec::new(),
                direction: None,
                unknown_lines: Vec::new(),
                media: Vec::new(),
                anomalies,
                truncated: region < body.len(),
            },
            rank: 0,
            media_rank: 0,
            content_lines: 0,
        };
        for (n, l) in lines(text).enumerate() {
            if n >= MAX_LINES {
                p.flag(AnomalyKind::TooManyLines, l.start..region);
                p.s.truncated = true;
                break;
            }
            if p.line(l, region).is_break() {
                p.s.truncated = true;
                break;
            }
        }
        p.finish();
        Ok(p.s)
    }

    /// The body this session was parsed from.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// Whether a hard cap stopped parsing before the end of the body.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// Number of body bytes the parser looked at (less than the body when over [`MAX_BODY`]).
    pub fn parsed_len(&self) -> usize {
        self.parsed_len
    }

    /// Everything found wrong, in body order (checks made after parsing come last).
    pub fn anomalies(&self) -> &[Anomaly] {
        &self.anomalies
    }

    /// Whether an anomaly of this kind was found.
    pub fn has_anomaly(&self, kind: AnomalyKind) -> bool {
        self.anomalies.iter().any(|a| a.kind == kind)
    }

    /// `v=` value (should be `0`).
    pub fn version(&self) -> Option<Text<'a>> {
        self.version
    }

    /// `o=` line.
    pub fn origin(&self) -> Option<&Origin<'a>> {
        self.origin.as_ref()
    }

    /// `s=` session name.
    pub fn name(&self) -> Option<Text<'a>> {
        self.name
    }

    /// Session-level `i=`.
    pub fn information(&self) -> Option<Text<'a>> {
        self.information
    }

    /// `u=` URI.
    pub fn uri(&self) -> Option<Text<'a>> {
        self.uri
    }

    /// `e=` lines.
    pub fn emails(&self) -> &[Text<'a>] {
        &self.emails
    }

    /// `p=` lines.
    pub fn phones(&self) -> &[Text<'a>] {
        &self.phones
    }

    /// Session-level `c=`.
    pub fn connection(&self) -> Option<&Connection<'a>> {
        self.connection.as_ref()
    }

    /// Session-level `b=` lines.
    pub fn bandwidths(&self) -> &[Bandwidth<'a>] {
        &self.bandwidths
    }

    /// `t=` lines with their `r=` lines.
    pub fn timings(&self) -> &[Timing<'a>] {
        &self.timings
    }

    /// `z=` line.
    pub fn zone(&self) -> Option<&Zone> {
        self.zone.as_ref()
    }

    /// Session-level `k=`.
    pub fn key(&self) -> Option<&EncryptionKey<'a>> {
        self.key.as_ref()
    }

    /// Session-level `a=` lines.
    pub fn attributes(&self) -> &[Attribute<'a>] {
        &self.attributes
    }

    /// The first session attribute with this name (ASCII case-insensitive).
    pub fn attribute(&self, name: &str) -> Option<&Attribute<'a>> {
        self.attributes.iter().find(|a| a.is(name))
    }

    /// Session-level `a=crypto` (not defined by RFC 4568, flagged, but parsed).
    pub fn crypto(&self) -> &[Crypto<'a>] {
        &self.crypto
    }

    /// Session-level direction attribute.
    pub fn direction(&self) -> Option<Direction> {
        self.direction
    }

    /// Session-level lines of unknown type and lines that are not `<letter>=`.
    pub fn unknown_lines(&self) -> &[RawLine<'a>] {
        &self.unknown_lines
    }

    /// The media sections, with session-level fallbacks available through [`MediaRef`].
    pub fn media(&self) -> impl ExactSizeIterator<Item = MediaRef<'_, 'a>> + '_ {
        self.media
            .iter()
            .enumerate()
            .map(move |(index, media)| MediaRef {
                session: self,
                media,
                index,
            })
    }

    /// The media sections as plain data (no session fallbacks), for slicing and indexing.
    pub fn media_sections(&self) -> &[Media<'a>] {
        &self.media
    }

    /// Number of media sections.
    pub fn media_count(&self) -> usize {
        self.media.len()
    }

    /// Every `a=crypto`, session level first, then media sections in order.
    pub fn all_crypto(&self) -> impl Iterator<Item = &Crypto<'a>> + '_ {
        self.crypto
            .iter()
            .chain(self.media.iter().flat_map(|m| m.crypto.iter()))
    }

    /// Whether the body carries at least one SDES `inline:` key (a secret to redact and a sign
    /// that SRTP keys travel with the signalling).
    pub fn has_sdes_keys(&self) -> bool {
        self.all_crypto().any(Crypto::has_key)
    }

    /// Whether the offer has RTP media and none of it can be protected: no active RTP section
    /// uses an SRTP/DTLS profile, carries `a=crypto`, or offers SRTP via capability
    /// negotiation. Rejected sections (port 0) and non-RTP media are ignored; `false` when
    /// there is no active RTP media at all.
    pub fn offers_only_plain_rtp(&self) -> bool {
        let session_capneg = capneg_offers_srtp(&self.attributes);
        let mut any = false;
        for m in &self.media {
            if m.is_disabled() || !m.proto.is_rtp() {
                continue;
            }
            any = true;
            if m.proto.is_encrypted()
                || !m.crypto.is_empty()
                || m.offers_srtp_via_capneg()
                || session_capneg
            {
                return false;
            }
        }
        any
    }

    /// IP literals of every `c=` line (session level, then media, in body order), for
    /// private or unexpected address checks. FQDNs are not resolved.
    pub fn connection_addresses(&self) -> Vec<IpAddr> {
        self.connection
            .iter()
            .chain(self.media.iter().flat_map(|m| m.connections.iter()))
            .filter_map(|c| c.ip)
            .collect()
    }

    /// Every IP literal with where it was found, including the `o=` address (which often
    /// leaks the host's real address behind a NAT).
    pub fn ip_addresses(&self) -> Vec<(AddressSource, IpAddr)> {
        let mut out = Vec::new();
        if let Some(ip) = self.origin.as_ref().and_then(|o| o.ip) {
            out.push((AddressSource::Origin, ip));
        }
        if let Some(ip) = self.connection.as_ref().and_then(|c| c.ip) {
            out.push((AddressSource::Session, ip));
        }
        for (i, m) in self.media.iter().enumerate() {
            out.extend(
                m.connections
                    .iter()
                    .filter_map(|c| c.ip)
                    .map(|ip| (AddressSource::Media(i), ip)),
            );
        }
        out
    }
}

impl fmt::Debug for Session<'_> {
    /// Omits the raw body (it may hold keys); every field prints redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("body_len", &self.body.len())
            .field("version", &self.version)
            .field("origin", &self.origin)
            .field("name", &self.name)
            .field("information", &self.information)
            .field("uri", &self.uri)
            .field("emails", &self.emails)
            .field("phones", &self.phones)
            .field("connection", &self.connection)
            .field("bandwidths", &self.bandwidths)
            .field("timings", &self.timings)
            .field("zone", &self.zone)
            .field("key", &self.key)
            .field("attributes", &self.attributes)
            .field("crypto", &self.crypto)
            .field("direction", &self.direction)
            .field("unknown_lines", &self.unknown_lines)
            .field("media", &self.media)
            .field("anomalies", &self.anomalies)
            .field("truncated", &self.truncated)
            .finish()
    }
}

/// Whether the line loop goes on.
enum Flow {
    Go,
    Stop,
}

impl Flow {
    fn is_break(&self) -> bool {
        matches!(self, Flow::Stop)
    }
}

struct Parser<'a> {
    s: Session<'a>,
    /// Highest session-level order rank seen (RFC 8866 §5 order).
    rank: u8,
    /// Highest order rank seen inside the current media section.
    media_rank: u8,
    /// Non-empty lines seen so far.
    content_lines: usize,
}

/// RFC 8866 §5 session-level order: v o s i u e p c b (t r)* z k a.
fn session_rank(t: u8) -> Option<u8> {
    Some(match t {
        b'v' => 0,
        b'o' => 1,
        b's' => 2,
        b'i' => 3,
        b'u' => 4,
        b'e' => 5,
        b'p' => 6,
        b'c' => 7,
        b'b' => 8,
        b't' | b'r' => 9,
        b'z' => 10,
        b'k' => 11,
        b'a' => 12,
        _ => return None,
    })
}

/// Media-level order: m i c b k a.
fn media_rank(t: u8) -> Option<u8> {
    Some(match t {
        b'i' => 1,
        b'c' => 2,
        b'b' => 3,
        b'k' => 4,
        b'a' => 5,
        _ => return None,
    })
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`{|}~".contains(&b)
}

impl<'a> Parser<'a> {
    fn flag(&mut self, kind: AnomalyKind, span: Range<usize>) {
        self.s.anomalies.push(Anomaly::new(kind, span));
    }

    fn line(&mut self, l: LineRef, region: usize) -> Flow {
        let body = self.s.body;
        let content = &body[l.start..l.end];
        let span = l.start..l.end;
        match l.eol {
            Eol::Lf => self.flag(AnomalyKind::BareLf, l.end..l.next),
            Eol::None => self.flag(AnomalyKind::MissingFinalEol, l.end..l.next),
            Eol::CrLf => {}
        }
        if let Some(i) = content.iter().position(|&b| b == b'\r') {
            self.flag(AnomalyKind::BareCr, l.start + i..l.start + i + 1);
        }
        if let Some(i) = content.iter().position(|&b| b == 0) {
            self.flag(AnomalyKind::NulByte, l.start + i..l.start + i + 1);
        }
        if content.is_empty() {
            self.flag(AnomalyKind::EmptyLine, l.start..l.next);
            return Flow::Go;
        }
        self.content_lines += 1;
        if content.len() < 2 || content[1] != b'=' || !content[0].is_ascii_alphabetic() {
            self.flag(AnomalyKind::BadLine, span.clone());
            self.raw(None, content, span);
            return Flow::Go;
        }
        let t = content[0];
        let value = &content[2..];
        let voff = l.start + 2;
        if t == b'm' {
            return self.media_line(value, voff, span, region);
        }
        if !self.s.media.is_empty() {
            if let Some(rank) = media_rank(t) {
                if rank < self.media_rank {
                    self.flag(AnomalyKind::OutOfOrder, span.clone());
                } else {
                    self.media_rank = rank;
                }
                return self.media_field(t, value, voff, span, region);
            }
            if session_rank(t).is_some() {
                // A session-level line inside a media section: keep it, at session level.
                self.flag(AnomalyKind::OutOfOrder, span.clone());
                return self.session_field(t, value, voff, span, region);
            }
        } else if let Some(rank) = session_rank(t) {
            if rank < self.rank {
                self.flag(AnomalyKind::OutOfOrder, span.clone());
            } else {
                self.rank = rank;
            }
            return self.session_field(t, value, voff, span, region);
        }
        self.flag(AnomalyKind::UnknownLine, span.clone());
        self.raw(Some(t), content, span);
        Flow::Go
    }

    fn raw(&mut self, line_type: Option<u8>, content: &'a [u8], span: Range<usize>) {
        let line = RawLine {
            line_type,
            text: Text::new(content),
            span,
        };
        match self.s.media.last_mut() {
            Some(m) => m.unknown_lines.push(line),
            None => self.s.unknown_lines.push(line),
        }
    }

    /// Stores a single-occurrence session value; a repeat is flagged and dropped.
    fn store<T>(
        &mut self,
        slot: for<'s> fn(&'s mut Session<'a>) -> &'s mut Option<T>,
        v: T,
        span: Range<usize>,
    ) {
        if slot(&mut self.s).is_some() {
            self.flag(AnomalyKind::DuplicateLine, span);
        } else {
            *slot(&mut self.s) = Some(v);
        }
    }

    /// Stores a single-occurrence value of the current media section.
    fn store_media<T>(
        &mut self,
        slot: for<'m> fn(&'m mut Media<'a>) -> &'m mut Option<T>,
        v: T,
        span: Range<usize>,
    ) {
        let Some(m) = self.s.media.last_mut() else {
            return;
        };
        let dst = slot(m);
        if dst.is_some() {
            self.flag(AnomalyKind::DuplicateLine, span);
        } else {
            *dst = Some(v);
        }
    }

    fn session_field(
        &mut self,
        t: u8,
        value: &'a [u8],
        voff: usize,
        span: Range<usize>,
        region: usize,
    ) -> Flow {
        let text = Text::new(value);
        match t {
            b'v' => {
                if self.content_lines != 1 {
                    self.flag(AnomalyKind::OutOfOrder, span.clone());
                }
                if value != b"0" {
                    self.flag(AnomalyKind::BadVersion, span.clone());
                }
                self.store(|s| &mut s.version, text, span);
            }
            b'o' => {
                let o = self.origin(value, voff, span.clone());
                self.store(|s| &mut s.origin, o, span);
            }
            b's' => {
                if value.is_empty() || value == b" " {
                    self.flag(AnomalyKind::EmptySessionName, span.clone());
                }
                self.store(|s| &mut s.name, text, span);
            }
            b'i' => self.store(|s| &mut s.information, text, span),
            b'u' => self.store(|s| &mut s.uri, text, span),
            b'e' => self.s.emails.push(text),
            b'p' => self.s.phones.push(text),
            b'c' => {
                let c = self.connection(value, voff, span.clone());
                self.store(|s| &mut s.connection, c, span);
            }
            b'b' => {
                let b = self.bandwidth(value, span);
                self.s.bandwidths.push(b);
            }
            b't' => {
                let t = self.timing(value, voff, span);
                self.s.timings.push(t);
            }
            b'r' => {
                let r = self.repeat(value, voff, span.clone());
                match self.s.timings.last_mut() {
                    Some(t) => t.repeats.push(r),
                    None => self.flag(AnomalyKind::OutOfOrder, span),
                }
            }
            b'z' => {
                let z = self.zone(value, voff, span.clone());
                self.store(|s| &mut s.zone, z, span);
            }
            b'k' => {
                let k = self.key(value, voff, span.clone());
                self.store(|s| &mut s.key, k, span);
            }
            b'a' => return self.attribute(value, voff, span, region),
            _ => {}
        }
        Flow::Go
    }

    fn media_field(
        &mut self,
        t: u8,
        value: &'a [u8],
        voff: usize,
        span: Range<usize>,
        region: usize,
    ) -> Flow {
        match t {
            b'i' => self.store_media(|m| &mut m.information, Text::new(value), span),
            b'c' => {
                let c = self.connection(value, voff, span);
                if let Some(m) = self.s.media.last_mut() {
                    m.connections.push(c);
                }
            }
            b'b' => {
                let b = self.bandwidth(value, span);
                if let Some(m) = self.s.media.last_mut() {
                    m.bandwidths.push(b);
                }
            }
            b'k' => {
                let k = self.key(value, voff, span.clone());
                self.store_media(|m| &mut m.key, k, span);
            }
            b'a' => return self.attribute(value, voff, span, region),
            _ => {}
        }
        Flow::Go
    }

    fn ws(&mut self, value: &[u8], span: &Range<usize>) {
        if irregular_ws(value) {
            self.flag(AnomalyKind::ExtraWhitespace, span.clone());
        }
    }

    fn origin(&mut self, value: &'a [u8], voff: usize, span: Range<usize>) -> Origin<'a> {
        self.ws(value, &span);
        let f: Vec<(usize, &'a [u8])> = fields(value, voff).collect();
        let get = |i: usize| f.get(i).map_or(Text::default(), |(_, v)| Text::new(v));
        let mut o = Origin {
            username: get(0),
            sess_id: get(1),
            sess_version: get(2),
            net_type: get(3),
            addr_type: get(4),
            unicast_address: get(5),
            ip: None,
            span: span.clone(),
        };
        let digits = |t: Text<'_>| !t.is_empty() && t.as_bytes().iter().all(u8::is_ascii_digit);
        if f.len() != 6 || !digits(o.sess_id) || !digits(o.sess_version) {
            self.flag(AnomalyKind::BadOrigin, span.clone());
        }
        if f.len() >= 6 {
            self.net_type(o.net_type, f[3].0);
            let (aoff, addr) = f[5];
            o.ip = self.address(o.addr_type, f[4].0, addr, aoff);
        }
        o
    }

    fn net_type(&mut self, nt: Text<'_>, off: usize) {
        if nt != "IN" {
            self.flag(AnomalyKind::UnknownNetType, off..off + nt.len());
        }
    }

    /// Checks an address against its address type; returns the IP literal if any.
    fn address(
        &mut self,
        addr_type: Text<'_>,
        at_off: usize,
        host: &[u8],
        off: usize,
    ) -> Option<IpAddr> {
        let hspan = off..off + host.len();
        let ip = std::str::from_utf8(host)
            .ok()
            .and_then(|s| s.parse::<IpAddr>().ok());
        let (v4, v6) = (addr_type == "IP4", addr_type == "IP6");
        if !v4 && !v6 {
            self.flag(
                AnomalyKind::UnknownAddrType,
                at_off..at_off + addr_type.len(),
            );
        }
        match ip {
            Some(IpAddr::V4(_)) if v6 => self.flag(AnomalyKind::AddrTypeMismatch, hspan),
            Some(IpAddr::V6(_)) if v4 => self.flag(AnomalyKind::AddrTypeMismatch, hspan),
            Some(_) => {}
            None => {
                let numeric = host.iter().all(|b| b.is_ascii_digit() || *b == b'.');
                let plausible = !host.is_empty()
                    && !numeric
                    && !host.contains(&b':')
                    && host
                        .iter()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(b));
                if !plausible {
                    self.flag(AnomalyKind::BadAddress, hspan);
                }
            }
        }
        ip
    }

    fn connection(&mut self, value: &'a [u8], voff: usize, span: Range<usize>) -> Connection<'a> {
        self.ws(value, &span);
        let f: Vec<(usize, &'a [u8])> = fields(value, voff).collect();
        let get = |i: usize| f.get(i).map_or(Text::default(), |(_, v)| Text::new(v));
        let mut c = Connection {
            net_type: get(0),
            addr_type: get(1),
            address: get(2),
            host: get(2),
            ip: None,
            ttl: None,
            num_addresses: None,
            span: span.clone(),
        };
        if f.len() != 3 {
            self.flag(AnomalyKind::BadConnection, span.clone());
        }
        if f.len() < 3 {
            return c;
        }
        self.net_type(c.net_type, f[0].0);
        let (aoff, addr) = f[2];
        let mut parts = addr.split(|&b| b == b'/');
        let host = parts.next().unwrap_or_default();
        let suffixes: Vec<&[u8]> = parts.collect();
        c.host = Text::new(host);
        c.ip = self.address(c.addr_type, f[1].0, host, aoff);
        let nums: Vec<Option<u64>> = suffixes.iter().map(|s| parse_u64(s)).collect();
        let aspan = aoff..aoff + addr.len();
        let ok = match c.ip {
            // Only IPv4 multicast carries a TTL (RFC 8866 §5.7), and it must.
            Some(IpAddr::V4(ip)) if ip.is_multicast() => {
                c.ttl = nums
                    .first()
                    .copied()
                    .flatten()
                    .and_then(|n| u8::try_from(n).ok());
                c.num_addresses = nums
                    .get(1)
                    .copied()
                    .flatten()
                    .and_then(|n| u32::try_from(n).ok());
                c.ttl.is_some()
                    && nums.len() <= 2
                    && (nums.len() < 2 || c.num_addresses.is_some_and(|n| n > 0))
            }
            Some(IpAddr::V6(ip)) if ip.is_multicast() => {
                c.num_addresses = nums
                    .first()
                    .copied()
                    .flatten()
                    .and_then(|n| u32::try_from(n).ok());
                nums.len() <= 1 && (nums.is_empty() || c.num_addresses.is_some_and(|n| n > 0))
            }
            Some(_) => nums.is_empty(),
            None => nums.len() <= 2 && nums.iter().all(Option::is_some),
        };
        if !ok {
            self.flag(AnomalyKind::BadConnection, aspan);
        }
        c
    }

    fn bandwidth(&mut self, value: &'a [u8], span: Range<usize>) -> Bandwidth<'a> {
        let colon = value.iter().position(|&b| b == b':');
        let (bwtype, num) = match colon {
            Some(i) => (&value[..i], &value[i + 1..]),
            None => (value, &b""[..]),
        };
        let v = parse_u64(num);
        if colon.is_none()
            || bwtype.is_empty()
            || !bwtype.iter().all(|&b| is_token_char(b))
            || v.is_none()
        {
            self.flag(AnomalyKind::BadBandwidth, span.clone());
        }
        Bandwidth {
            bwtype: Text::new(bwtype),
            value: v,
            raw: Text::new(value),
            span,
        }
    }

    fn timing(&mut self, value: &'a [u8], voff: usize, span: Range<usize>) -> Timing<'a> {
        self.ws(value, &span);
        let f: Vec<(usize, &[u8])> = fields(value, voff).collect();
        let start = f.first().and_then(|(_, v)| parse_u64(v));
        let stop = f.get(1).and_then(|(_, v)| parse_u64(v));
        let inverted = matches!((start, stop), (Some(a), Some(b)) if b != 0 && b < a);
        if f.len() != 2 || start.is_none() || stop.is_none() || inverted {
            self.flag(AnomalyKind::BadTiming, span.clone());
        }
        Timing {
            start,
            stop,
            repeats: Vec::new(),
            span,
        }
    }

    fn repeat(&mut self, value: &'a [u8], voff: usize, span: Range<usize>) -> Repeat<'a> {
        self.ws(value, &span);
        let f: Vec<Option<u64>> = fields(value, voff).map(|(_, v)| typed_time(v)).collect();
        if f.len() < 3 || f.iter().any(Option::is_none) || f[0] == Some(0) {
            self.flag(AnomalyKind::BadTiming, span.clone());
        }
        Repeat {
            interval: f.first().copied().flatten(),
            duration: f.get(1).copied().flatten(),
            offsets: f.iter().skip(2).copied().collect(),
            raw: Text::new(value),
            span,
        }
    }

    fn zone(&mut self, value: &'a [u8], voff: usize, span: Range<usize>) -> Zone {
        self.ws(value, &span);
        let f: Vec<&[u8]> = fields(value, voff).map(|(_, v)| v).collect();
        let mut adjustments = Vec::new();
        let mut bad = f.is_empty() || f.len() % 2 != 0;
        for pair in f.chunks(2) {
            let time = parse_u64(pair[0]);
            let offset = pair.get(1).and_then(|o| {
                let (neg, mag) = match o.strip_prefix(b"-") {
                    Some(m) => (true, m),
                    None => (false, *o),
                };
                let mag = i64::try_from(typed_time(mag)?).ok()?;
                Some(if neg { -mag } else { mag })
            });
            match (time, offset) {
                (Some(time), Some(offset)) => adjustments.push(ZoneAdjustment { time, offset }),
                _ => bad = true,
            }
        }
        if bad {
            self.flag(AnomalyKind::BadTiming, span.clone());
        }
        Zone { adjustments, span }
    }

    fn key(&mut self, value: &'a [u8], voff: usize, span: Range<usize>) -> EncryptionKey<'a> {
        self.flag(AnomalyKind::KeyField, span.clone());
        match value.iter().position(|&b| b == b':') {
            Some(i) => EncryptionKey {
                method: Text::new(&value[..i]),
                key: Some(Secret::new(&value[i + 1..], voff + i + 1)),
                span,
            },
            None => EncryptionKey {
                method: Text::new(value),
                key: None,
                span,
            },
        }
    }

    fn attribute(
        &mut self,
        value: &'a [u8],
        voff: usize,
        span: Range<usize>,
        region: usize,
    ) -> Flow {
        let count = match self.s.media.last() {
            Some(m) => m.attributes.len(),
            None => self.s.attributes.len(),
        };
        if count >= MAX_ATTRIBUTES {
            self.flag(AnomalyKind::TooManyAttributes, span.start..region);
            return Flow::Stop;
        }
        let (name, val) = match value.iter().position(|&b| b == b':') {
            Some(i) => (&value[..i], Some((voff + i + 1, &value[i + 1..]))),
            None => (value, None),
        };
        if name.is_empty() || !name.iter().all(|&b| is_token_char(b)) {
            self.flag(AnomalyKind::BadAttribute, span.clone());
        }
        let attr = Attribute {
            name: Text::new(name),
            value: val.map(|(_, v)| Text::new(v)),
            raw: Text::new(value),
            span: span.clone(),
        };
        let in_media = !self.s.media.is_empty();
        let mut crypto = None;
        if let Some(dir) = Direction::from_name(name) {
            let current = match self.s.media.last() {
                Some(m) => m.direction,
                None => self.s.direction,
            };
            match current {
                Some(d) if d == dir => self.flag(AnomalyKind::DuplicateLine, span.clone()),
                Some(_) => self.flag(AnomalyKind::ConflictingDirection, span.clone()),
                None => {}
            }
            if val.is_some() {
                self.flag(AnomalyKind::BadAttribute, span.clone());
            }
            match self.s.media.last_mut() {
                Some(m) => m.direction = Some(dir),
                None => self.s.direction = Some(dir),
            }
        } else if name.eq_ignore_ascii_case(b"crypto") {
            let (o, v) = val.unwrap_or((voff + value.len(), &[]));
            crypto = Some(parse_crypto(v, o, None, &mut self.s.anomalies));
            if !in_media {
                self.flag(AnomalyKind::CryptoSessionLevel, span.clone());
            }
        } else if name.eq_ignore_ascii_case(b"acap") {
            // RFC 5939: `a=acap:<n> <att-field>:<value>`.
            if let Some((o, v)) = val {
                let mut f = fields(v, o);
                let num = f
                    .next()
                    .and_then(|(_, n)| parse_u64(n))
                    .and_then(|n| u32::try_from(n).ok());
                if let Some((ao, a)) = f.rest() {
                    if a.len() > 7 && a[..7].eq_ignore_ascii_case(b"crypto:") {
                        crypto = Some(parse_crypto(
                            &a[7..],
                            ao + 7,
                            num.or(Some(0)),
                            &mut self.s.anomalies,
                        ));
                    }
                }
            }
        }
        match self.s.media.last_mut() {
            Some(m) => {
                m.attributes.push(attr);
                m.crypto.extend(crypto);
            }
            None => {
                self.s.attributes.push(attr);
                self.s.crypto.extend(crypto);
            }
        }
        Flow::Go
    }

    fn media_line(
        &mut self,
        value: &'a [u8],
        voff: usize,
        span: Range<usize>,
        region: usize,
    ) -> Flow {
        if self.s.media.len() >= MAX_MEDIA {
            self.flag(AnomalyKind::TooManyMedia, span.start..region);
            return Flow::Stop;
        }
        if let Some(prev) = self.s.media.last_mut() {
            prev.span.end = span.start;
        }
        self.media_rank = 0;
        self.ws(value, &span);
        let mut m = Media::new(span.clone());
        let f: Vec<(usize, &'a [u8])> = fields(value, voff).collect();
        let mut bad = f.len() < 4;
        if let Some((_, t)) = f.first() {
            m.media_type = Text::new(t);
            bad |= !t.iter().all(|&b| is_token_char(b));
        }
        if let Some((_, p)) = f.get(1) {
            let mut parts = p.splitn(2, |&b| b == b'/');
            let port = parts.next().and_then(parse_u64);
            m.port = port.and_then(|n| u16::try_from(n).ok());
            bad |= m.port.is_none();
            if let Some(n) = parts.next() {
                m.port_count = parse_u64(n)
                    .and_then(|n| u32::try_from(n).ok())
                    .filter(|n| *n > 0);
                bad |= m.port_count.is_none();
            }
        }
        if let Some((_, p)) = f.get(2) {
            m.proto = Proto::parse(p);
            m.proto_text = Text::new(p);
            bad |= p.is_empty() || m.proto == Proto::Other("");
        }
        for &(o, fmt) in f.iter().skip(3) {
            m.formats.push(Text::new(fmt));
            if m.proto.is_rtp() && parse_u64(fmt).is_none_or(|n| n > 127) {
                self.flag(AnomalyKind::BadFormat, o..o + fmt.len());
            }
        }
        if bad {
            self.flag(AnomalyKind::BadMedia, span);
        }
        self.s.media.push(m);
        Flow::Go
    }

    fn finish(&mut self) {
        let end = self.s.parsed_len;
        if let Some(m) = self.s.media.last_mut() {
            m.span.end = end.max(m.span.end);
        }
        if self.s.version.is_none() {
            self.flag(AnomalyKind::MissingVersion, 0..0);
        }
        if self.s.origin.is_none() {
            self.flag(AnomalyKind::MissingOrigin, 0..0);
        }
        if self.s.name.is_none() {
            self.flag(AnomalyKind::MissingSessionName, 0..0);
        }
        if self.s.timings.is_empty() {
            self.flag(AnomalyKind::MissingTiming, 0..0);
        }
        let session_has_c = self.s.connection.is_some();
        let session_fp = self.s.attributes.iter().any(|a| a.is("fingerprint"));
        let session_keying = session_fp || self.s.attributes.iter().any(|a| a.is("key-mgmt"));
        let mut extra = Vec::new();
        for m in &self.s.media {
            let ls = m.line_span.clone();
            if !session_has_c && m.connections.is_empty() && !m.is_disabled() {
                extra.push(Anomaly::new(AnomalyKind::MissingConnection, ls.clone()));
            }
            let real_crypto: Vec<&Crypto<'_>> =
                m.crypto.iter().filter(|c| c.capability.is_none()).collect();
            let mut tags = Vec::new();
            for c in &real_crypto {
                if let Some(t) = c.tag {
                    if tags.contains(&t) {
                        extra.push(Anomaly::new(
                            AnomalyKind::CryptoDuplicateTag,
                            c.span.clone(),
                        ));
                    }
                    tags.push(t);
                }
            }
            if !real_crypto.is_empty() {
                if m.proto.is_dtls() {
                    extra.push(Anomaly::new(AnomalyKind::CryptoWithDtls, ls.clone()));
                } else if !m.proto.is_srtp() {
                    extra.push(Anomaly::new(AnomalyKind::CryptoNonSrtpProfile, ls.clone()));
                }
            }
            let fp = session_fp || m.attributes.iter().any(|a| a.is("fingerprint"));
            if m.is_disabled() {
                continue;
            }
            if m.proto.is_dtls() {
                if !fp {
                    extra.push(Anomaly::new(AnomalyKind::DtlsMissingFingerprint, ls));
                }
            } else if m.proto.is_srtp() {
                let keyed = session_keying
                    || !m.crypto.is_empty()
                    || m.attributes
                        .iter()
                        .any(|a| a.is("key-mgmt") || a.is("fingerprint"));
                if !keyed {
                    extra.push(Anomaly::new(AnomalyKind::SrtpWithoutKeying, ls));
                }
            }
        }
        self.s.anomalies.extend(extra);
    }
}

/// `1*DIGIT [d|h|m|s]` → seconds.
fn typed_time(v: &[u8]) -> Option<u64> {
    let (num, mult) = match v.last() {
        Some(b'd') => (&v[..v.len() - 1], 86_400),
        Some(b'h') => (&v[..v.len() - 1], 3_600),
        Some(b'm') => (&v[..v.len() - 1], 60),
        Some(b's') => (&v[..v.len() - 1], 1),
        _ => (v, 1),
    };
    parse_u64(num)?.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(s: &Session<'_>) -> Vec<&'static str> {
        s.anomalies().iter().map(|a| a.id()).collect()
    }

    #[test]
    fn minimal_clean() {
        let s = Session::parse(b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n").unwrap();
        assert!(s.anomalies().is_empty(), "{:?}", s.anomalies());
        assert!(s.offers_only_plain_rtp());
        assert_eq!(s.media().next().unwrap().span(), 61..85);
    }

    #[test]
    fn empty_and_not_sdp() {
        assert_eq!(Session::parse(b""), Err(ParseError::Empty));
        assert_eq!(Session::parse(b"\r\n \t\n"), Err(ParseError::Empty));
        assert_eq!(
            Session::parse(b"INVITE sip:a@b SIP/2.0\r\n"),
            Err(ParseError::NotSdp)
        );
        assert_eq!(
            Session::parse(b"\x00\x01\x02garbage"),
            Err(ParseError::NotSdp)
        );
        // Garbage first, then SDP: parsed, garbage flagged.
        let s = Session::parse(b"junk\r\nv=0\r\n").unwrap();
        assert!(ids(&s).contains(&"sdp-bad-line"));
        assert!(ids(&s).contains(&"sdp-out-of-order"));
    }

    #[test]
    fn order_and_duplicates() {
        let s = Session::parse(b"v=0\r\ns=x\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=y\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\na=sendonly\r\nc=IN IP4 1.2.3.4\r\nt=1 2\r\n").unwrap();
        assert_eq!(
            ids(&s),
            [
                "sdp-out-of-order",
                "sdp-duplicate-line",
                "sdp-out-of-order",
                "sdp-out-of-order"
            ]
        );
        assert_eq!(s.name().unwrap(), "x");
        assert_eq!(s.timings().len(), 2);
    }

    #[test]
    fn connection_variants() {
        let s = Session::parse(
            b"v=0\r\nc=IN IP4 224.2.1.1/127/3\r\nm=a 1 RTP/AVP 0\r\nc=IN IP6 ff15::101/3\r\nc=IN IP4 host.example.com\r\nc=IN IP4 999.1.1.1\r\nc=IN IP4 10.0.0.1/5\r\nc=IN IP6 10.0.0.1\r\nc=IN IP4 224.0.0.1\r\n",
        )
        .unwrap();
        let c = s.connection().unwrap();
        assert_eq!((c.ttl, c.num_addresses), (Some(127), Some(3)));
        assert_eq!(c.address, "224.2.1.1/127/3");
        let m = s.media().next().unwrap();
        assert_eq!(m.connections()[0].num_addresses, Some(3));
        assert_eq!(m.connections()[1].ip, None);
        assert_eq!(m.connections()[1].host, "host.example.com");
        let kinds = ids(&s);
        assert_eq!(kinds.iter().filter(|k| **k == "sdp-bad-address").count(), 1);
        assert_eq!(
            kinds.iter().filter(|k| **k == "sdp-bad-connection").count(),
            2
        );
        assert_eq!(
            kinds
                .iter()
                .filter(|k| **k == "sdp-addrtype-mismatch")
                .count(),
            1
        );
        assert_eq!(s.connection_addresses().len(), 5);
    }

    #[test]
    fn timing_repeat_zone() {
        let s = Session::parse(
            b"v=0\r\nt=3034423619 3042462419\r\nr=7d 1h 0 25h\r\nz=2882844526 -1h 2898848070 0\r\n",
        )
        .unwrap();
        let t = &s.timings()[0];
        assert_eq!(t.repeats[0].interval, Some(604_800));
        assert_eq!(t.repeats[0].offsets, vec![Some(0), Some(90_000)]);
        assert_eq!(s.zone().unwrap().adjustments[0].offset, -3600);
        assert!(!ids(&s).contains(&"sdp-bad-timing"));
        let s = Session::parse(b"v=0\r\nr=1 2 3\r\nt=5 1\r\nz=1\r\n").unwrap();
        assert_eq!(
            ids(&s).iter().filter(|k| **k == "sdp-bad-timing").count(),
            2
        );
    }

    #[test]
    fn caps_stop_parsing() {
        let mut body = b"v=0\r\n".to_vec();
        for _ in 0..(MAX_MEDIA + 3) {
            body.extend_from_slice(b"m=audio 1 RTP/AVP 0\r\n");
        }
        let s = Session::parse(&body).unwrap();
        assert_eq!(s.media_count(), MAX_MEDIA);
        assert!(s.has_anomaly(AnomalyKind::TooManyMedia) && s.is_truncated());

        let mut body = b"v=0\r\nm=audio 1 RTP/AVP 0\r\n".to_vec();
        for _ in 0..(MAX_ATTRIBUTES + 1) {
            body.extend_from_slice(b"a=x\r\n");
        }
        let s = Session::parse(&body).unwrap();
        assert_eq!(s.media().next().unwrap().attributes().len(), MAX_ATTRIBUTES);
        assert!(s.has_anomaly(AnomalyKind::TooManyAttributes));

        let body = b"v=0\r\n".repeat(MAX_LINES + 5);
        let s = Session::parse(&body).unwrap();
        assert!(s.has_anomaly(AnomalyKind::TooManyLines));

        let mut body = b"v=0\r\n".to_vec();
        while body.len() <= MAX_BODY {
            body.extend_from_slice(b"x=0123456789012345678901234567890123456789\r\n");
        }
        let s = Session::parse(&body).unwrap();
        assert!(s.has_anomaly(AnomalyKind::BodyTooLarge));
        assert!(s.parsed_len() <= MAX_BODY && s.body()[..s.parsed_len()].ends_with(b"\n"));
    }

    #[test]
    fn line_ending_anomalies() {
        let s = Session::parse(b"v=0\ns=a\rb\r\n\r\nt=0 0").unwrap();
        let k = ids(&s);
        for want in [
            "sdp-bare-lf",
            "sdp-bare-cr",
            "sdp-empty-line",
            "sdp-missing-final-eol",
        ] {
            assert!(k.contains(&want), "{want} in {k:?}");
        }
        let s =
            Session::parse(b"v=0\r\ns=a\x00b\r\nq=1\r\nm=audio 1 RTP/AVP 0\r\nz=9\r\n").unwrap();
        assert!(s.has_anomaly(AnomalyKind::NulByte));
        assert_eq!(s.unknown_lines()[0].line_type, Some(b'q'));
    }

    #[test]
    fn media_fields() {
        let s = Session::parse(b"v=0\r\nm=video 49170/2 RTP/AVP 31 200 x\r\nm=image 0 udptl t38\r\nm=audio 70000 RTP/AVP\r\n").unwrap();
        let m: Vec<_> = s.media().collect();
        assert_eq!(m[0].port_count(), Some(2));
        assert_eq!(m[0].formats().len(), 3);
        assert!(m[1].is_disabled() && m[1].proto() == Proto::Udptl);
        assert_eq!(m[2].port(), None);
        assert_eq!(
            ids(&s).iter().filter(|k| **k == "sdp-bad-format").count(),
            2
        );
        assert_eq!(ids(&s).iter().filter(|k| **k == "sdp-bad-media").count(), 1);
    }

    #[test]
    fn direction_and_capneg() {
        let s = Session::parse(b"v=0\r\na=recvonly\r\nm=audio 1 RTP/AVP 0\r\nm=audio 2 RTP/AVP 0\r\na=sendonly\r\na=inactive\r\na=tcap:1 RTP/SAVP\r\n").unwrap();
        let m: Vec<_> = s.media().collect();
        assert_eq!(m[0].effective_direction(), Direction::RecvOnly);
        assert_eq!(m[1].effective_direction(), Direction::Inactive);
        assert!(s.has_anomaly(AnomalyKind::ConflictingDirection));
        assert!(!s.offers_only_plain_rtp());
        assert!(m[1].offers_srtp_via_capneg());
    }

    #[test]
    fn acap_crypto_is_parsed() {
        let s = Session::parse(b"v=0\r\nm=audio 1 RTP/AVP 0\r\na=acap:3 crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n").unwrap();
        let c = &s.media_sections()[0].crypto()[0];
        assert_eq!(c.capability, Some(3));
        assert!(s.has_sdes_keys());
        assert!(!s.offers_only_plain_rtp());
        assert!(!s.has_anomaly(AnomalyKind::CryptoNonSrtpProfile));
    }

    #[test]
    fn k_line() {
        let s = Session::parse(b"v=0\r\nk=clear:topsecret\r\n").unwrap();
        assert!(s.has_anomaly(AnomalyKind::KeyField));
        let k = s.key().unwrap();
        assert_eq!(k.key.unwrap().expose(), b"topsecret");
        assert!(!format!("{s:?}").contains("topsecret"));
    }

    #[test]
    fn typed_times() {
        assert_eq!(typed_time(b"2d"), Some(172_800));
        assert_eq!(typed_time(b"d"), None);
        assert_eq!(typed_time(b"99999999999999999d"), None);
    }
}

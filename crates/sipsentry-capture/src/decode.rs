//! Stateless, zero-copy decoding of one frame from the link layer down to the transport
//! header (or to an IP fragment that needs reassembly).
//!
//! [`decode`] walks link → (VLAN/QinQ, PPPoE, MPLS, LLC/SNAP) → IPv4/IPv6 (options, extension
//! headers, AH) → tunnels (IP-in-IP 4/41, GRE with transparent Ethernet bridging and ERSPAN
//! I/II/III) → UDP/TCP, and returns a [`Decoded`] whose payload slices borrow the frame. It
//! keeps no state: IP fragments come back as [`Transport::Fragment`] for the stateful
//! [`Decoder`](crate::Decoder) to reassemble, after which
//! [`decode_reassembled`] continues from the reassembled payload.
//!
//! Hostile input: every read is bounds-checked, every loop is capped (VLAN tags, MPLS labels,
//! extension headers via [`Limits::max_ext_headers`], tunnel nesting via
//! [`Limits::max_tunnel_depth`]), and recursion only happens through a tunnel, which
//! increments the depth first, so stack use is bounded. Checksums are not verified (captures
//! taken on the sending host carry offloaded, i.e. wrong, checksums), and lengths are
//! tolerated where the intent is clear: a frame shorter than the IP length (snaplen) is
//! decoded as far as it goes and flagged `truncated`; trailing link padding is trimmed by the
//! IP length; an IPv4 total length or IPv6 payload length of 0 (segmentation-offload captures)
//! means "the rest of the frame".

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::bytes::Reader;
use crate::linktype;

/// Most 802.1Q/802.1ad tags accepted in one Ethernet header.
pub const MAX_VLAN_TAGS: usize = 8;
/// Most MPLS labels accepted in one stack.
pub const MAX_MPLS_LABELS: usize = 8;

/// Decoding limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most nested tunnels (IP-in-IP, GRE, MPLS pseudowire) followed; deeper is
    /// [`DecodeError::TunnelTooDeep`]. Default 4.
    pub max_tunnel_depth: u8,
    /// Most IPv6 extension headers (and AH) per IP header; more is
    /// [`DecodeError::ExtHeaderChainTooLong`]. Default 8.
    pub max_ext_headers: u8,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_tunnel_depth: 4,
            max_ext_headers: 8,
        }
    }
}

/// Why a frame could not be decoded to a transport header. Counted per kind in
/// [`Stats::malformed`](crate::Stats::malformed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The link type is not one this crate decodes.
    #[error("unsupported link type")]
    UnsupportedLinktype,
    /// The frame is shorter than its link-layer header.
    #[error("link-layer header truncated")]
    TruncatedLinkHeader,
    /// An 802.1Q/802.1ad tag is cut short.
    #[error("VLAN tag truncated")]
    TruncatedVlan,
    /// More than [`MAX_VLAN_TAGS`] stacked VLAN tags.
    #[error("too many stacked VLAN tags")]
    TooManyVlanTags,
    /// PPPoE session header truncated or not version 1 / type 1.
    #[error("bad PPPoE session header")]
    BadPppoe,
    /// MPLS label stack truncated or deeper than [`MAX_MPLS_LABELS`].
    #[error("bad MPLS label stack")]
    BadMpls,
    /// The IP version nibble is not what the enclosing layer announced (or neither 4 nor 6).
    #[error("unexpected IP version")]
    BadIpVersion,
    /// Fewer bytes than the IPv4 header needs.
    #[error("IPv4 header truncated")]
    TruncatedIpv4Header,
    /// IPv4 IHL below 5.
    #[error("IPv4 header length below 20 bytes")]
    BadIpv4HeaderLength,
    /// IPv4 total length smaller than the header.
    #[error("IPv4 total length smaller than its header")]
    BadIpv4TotalLength,
    /// Fewer than 40 bytes for an IPv6 header.
    #[error("IPv6 header truncated")]
    TruncatedIpv6Header,
    /// An IPv6 extension header (or AH) runs past the captured data.
    #[error("IPv6 extension header truncated")]
    TruncatedExtHeader,
    /// More than [`Limits::max_ext_headers`] extension headers.
    #[error("IPv6 extension header chain too long")]
    ExtHeaderChainTooLong,
    /// A second fragment header in one chain, or one in a reassembled datagram.
    #[error("nested IPv6 fragment header")]
    NestedFragment,
    /// GRE header truncated.
    #[error("GRE header truncated")]
    TruncatedGre,
    /// GRE version 1 (PPTP) or the deprecated routing field.
    #[error("unsupported GRE version or routing")]
    UnsupportedGre,
    /// ERSPAN header truncated or of an unsupported frame type.
    #[error("bad ERSPAN header")]
    BadErspan,
    /// Tunnels nested deeper than [`Limits::max_tunnel_depth`].
    #[error("tunnels nested too deep")]
    TunnelTooDeep,
    /// Fewer than 8 bytes for a UDP header.
    #[error("UDP header truncated")]
    TruncatedUdpHeader,
    /// UDP length below 8 or beyond the IP payload length.
    #[error("UDP length inconsistent with IP length")]
    BadUdpLength,
    /// Fewer bytes than the TCP header (with options) needs.
    #[error("TCP header truncated")]
    TruncatedTcpHeader,
    /// TCP data offset below 5 or beyond the IP payload length.
    #[error("TCP data offset inconsistent")]
    BadTcpHeaderLength,
}

impl DecodeError {
    /// Number of variants.
    pub const COUNT: usize = 22;
    /// Every variant, in declaration order (index = `self as usize`).
    pub const ALL: [DecodeError; Self::COUNT] = [
        DecodeError::UnsupportedLinktype,
        DecodeError::TruncatedLinkHeader,
        DecodeError::TruncatedVlan,
        DecodeError::TooManyVlanTags,
        DecodeError::BadPppoe,
        DecodeError::BadMpls,
        DecodeError::BadIpVersion,
        DecodeError::TruncatedIpv4Header,
        DecodeError::BadIpv4HeaderLength,
        DecodeError::BadIpv4TotalLength,
        DecodeError::TruncatedIpv6Header,
        DecodeError::TruncatedExtHeader,
        DecodeError::ExtHeaderChainTooLong,
        DecodeError::NestedFragment,
        DecodeError::TruncatedGre,
        DecodeError::UnsupportedGre,
        DecodeError::BadErspan,
        DecodeError::TunnelTooDeep,
        DecodeError::TruncatedUdpHeader,
        DecodeError::BadUdpLength,
        DecodeError::TruncatedTcpHeader,
        DecodeError::BadTcpHeaderLength,
    ];

    /// Dense index in `0..COUNT`.
    #[inline]
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The result of decoding one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A well-formed frame that carries no IP (ARP, LLDP, STP, PPP control, ...).
    NonIp,
    /// An IP packet; addresses are those of the innermost IP header reached.
    Ip(IpPacket<'a>),
}

/// The innermost IP layer of a frame and what it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpPacket<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Tunnels crossed to get here (0 = not tunnelled).
    pub tunnel_depth: u8,
    /// The capture holds fewer bytes than the IP header announces (snaplen).
    pub truncated: bool,
    /// The transport layer.
    pub transport: Transport<'a>,
}

/// What an IP packet carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport<'a> {
    /// A UDP datagram.
    Udp(UdpDatagram<'a>),
    /// A TCP segment.
    Tcp(TcpSegment<'a>),
    /// A fragment of a larger IP datagram, to be reassembled.
    Fragment(Fragment<'a>),
    /// ICMP or ICMPv6 (not decoded further).
    Icmp,
    /// Any other protocol (ESP, SCTP, VRRP, OSPF, "no next header", ...), by number.
    Other(u8),
}

/// A UDP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpDatagram<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Payload bytes present in the capture.
    pub payload: &'a [u8],
    /// Payload length according to the UDP header.
    pub len: usize,
}

impl UdpDatagram<'_> {
    /// Whether the capture cut the payload short of the UDP length.
    #[inline]
    pub fn is_truncated(&self) -> bool {
        self.payload.len() < self.len
    }
}

/// TCP header flags (the low 9 bits of the offset/flags word).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    /// No more data from sender.
    pub const FIN: u16 = 0x01;
    /// Synchronise sequence numbers.
    pub const SYN: u16 = 0x02;
    /// Reset the connection.
    pub const RST: u16 = 0x04;
    /// Push.
    pub const PSH: u16 = 0x08;
    /// Acknowledgment field is significant.
    pub const ACK: u16 = 0x10;
    /// Urgent pointer is significant.
    pub const URG: u16 = 0x20;

    /// Whether every bit in `mask` is set.
    #[inline]
    pub fn has(self, mask: u16) -> bool {
        self.0 & mask == mask
    }
}

/// A TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Receive window (unscaled).
    pub window: u16,
    /// Payload bytes present in the capture.
    pub payload: &'a [u8],
    /// Payload bytes the IP length announces beyond the capture (snaplen); the stream
    /// reassembler reports them as a gap.
    pub missing: u32,
}

/// One IP fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment<'a> {
    /// IPv6 (fragment header) rather than IPv4.
    pub v6: bool,
    /// Identification (16 bits for IPv4, 32 for IPv6).
    pub id: u32,
    /// IPv4 protocol, or the IPv6 fragment header's next header.
    pub proto: u8,
    /// Offset of `data` in the reassembled payload, in bytes.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
    /// The fragment's bytes present in the capture.
    pub data: &'a [u8],
    /// Bytes the IP length announces beyond the capture; a fragment with `missing > 0`
    /// cannot be reassembled.
    pub missing: u32,
}

#[derive(Clone, Copy)]
struct Ctx {
    limits: Limits,
    depth: u8,
}

impl Ctx {
    #[inline]
    fn deeper(self) -> Result<Ctx, DecodeError> {
        if self.depth >= self.limits.max_tunnel_depth {
            return Err(DecodeError::TunnelTooDeep);
        }
        Ok(Ctx {
            depth: self.depth + 1,
            ..self
        })
    }
}

#[derive(Clone, Copy)]
struct Ip {
    src: IpAddr,
    dst: IpAddr,
    v6: bool,
    truncated: bool,
}

/// Decodes one frame of the given link type.
///
/// Supported link types: `NULL` (0) and `LOOP` (108) with the address family in either byte
/// order (AF_INET 2, AF_INET6 24/28/30); `EN10MB` (1); `RAW` (101, and 12/14 as raw IP);
/// `LINUX_SLL` (113); `IPV4` (228); `IPV6` (229); `LINUX_SLL2` (276).
pub fn decode<'a>(
    linktype: u32,
    data: &'a [u8],
    limits: &Limits,
) -> Result<Decoded<'a>, DecodeError> {
    let ctx = Ctx {
        limits: *limits,
        depth: 0,
    };
    match linktype {
        linktype::EN10MB => ethernet(data, ctx),
        linktype::NULL | linktype::LOOP => null(data, ctx),
        linktype::RAW | linktype::RAW_12 | linktype::RAW_14 => ip_any(data, ctx),
        linktype::IPV4 => ipv4(data, ctx),
        linktype::IPV6 => ipv6(data, ctx),
        linktype::LINUX_SLL => sll(data, ctx),
        linktype::LINUX_SLL2 => sll2(data, ctx),
        _ => Err(DecodeError::UnsupportedLinktype),
    }
}

/// Continues decoding a reassembled IP payload.
///
/// `proto` is the IPv4 protocol or the IPv6 fragment header's next header (which may be a
/// further extension header); `tunnel_depth` is that of the fragments. A fragment header in
/// the reassembled chain is [`DecodeError::NestedFragment`].
pub fn decode_reassembled<'a>(
    v6: bool,
    src: IpAddr,
    dst: IpAddr,
    proto: u8,
    payload: &'a [u8],
    tunnel_depth: u8,
    limits: &Limits,
) -> Result<Decoded<'a>, DecodeError> {
    let ctx = Ctx {
        limits: *limits,
        depth: tunnel_depth,
    };
    let ip = Ip {
        src,
        dst,
        v6,
        truncated: false,
    };
    upper(ip, proto, payload, payload.len(), ctx, false)
}

fn ethernet(buf: &[u8], ctx: Ctx) -> Result<Decoded<'_>, DecodeError> {
    let mut r = Reader::new(buf);
    r.skip(12).ok_or(DecodeError::TruncatedLinkHeader)?;
    let et = r.be16().ok_or(DecodeError::TruncatedLinkHeader)?;
    ethertype(et, r.rest(), ctx)
}

fn ethertype(mut et: u16, mut buf: &[u8], ctx: Ctx) -> Result<Decoded<'_>, DecodeError> {
    let mut tags = 0;
    loop {
        return match et {
            0x0800 => ipv4(buf, ctx),
            0x86DD => ipv6(buf, ctx),
            0x8100 | 0x88A8 | 0x9100 | 0x9200 | 0x9300 => {
                tags += 1;
                if tags > MAX_VLAN_TAGS {
                    return Err(DecodeError::TooManyVlanTags);
                }
                let mut r = Reader::new(buf);
                r.skip(2).ok_or(DecodeError::TruncatedVlan)?;
                et = r.be16().ok_or(DecodeError::TruncatedVlan)?;
                buf = r.rest();
                continue;
            }
            0x8864 => pppoe(buf, ctx),
            0x8847 | 0x8848 => mpls(buf, ctx),
            0x6558 => ethernet(buf, ctx.deeper()?),
            // An 802.3 length field: LLC, possibly SNAP.
            0..=0x05DC => llc(buf, ctx),
            _ => Ok(Decoded::NonIp),
        };
    }
}

/// 802.2 LLC; only SNAP with a zero OUI (encapsulated Ethernet type) can carry IP.
fn llc(buf: &[u8], ctx: Ctx) -> Result<Decoded<'_>, DecodeError> {
    let mut r = Reader::new(buf);
    match r.array::<3>() {
        Some([0xAA, 0xAA, 0x03]) => {}
        _ => return Ok(Decoded::NonIp),
    }
    match (r.array::<3>(), r.be16()) {
        (Some([0, 0, 0]), Some(et)) if et > 0x05DC => ethertype(et, r.rest(), ctx),
        _ => Ok(Decoded::NonIp),
    }
}

fn pppoe(buf: &[u8], ctx: Ctx) -> Result<Decoded<'_>, DecodeError> {
    let mut r = Reader::new(buf);
    let vt = r.u8().ok_or(DecodeError::BadPppoe)?;
    let code = r.u8().ok_or(DecodeError::BadPppoe)?;
    r.skip(2).ok_or(DecodeError::BadPppoe)?;
    let len = r.be16().ok_or(DecodeError::BadPppoe)? as usize;
    if vt != 0x11 {
        return Err(DecodeError::BadPppoe);
    }
    if code != 0 {
        return Ok(Decoded::NonIp);
    }
    let rest = r.rest();
    let mut r = Reader::new(rest.get(..len).unwrap_or(rest));
    // PPP protocol field; with protocol-field compression it is one (odd) byte.
    let first = r.u8().ok_or(DecodeError::BadPppoe)?;
    let proto = if first & 1 == 1 {
        u16::from(first)
    } else {
        (u16::from(first) << 8) | u16::from(r.u8().ok_or(DecodeError::BadPppoe)?)
    };
    match proto {
        0x0021 => ipv4(r.rest(), ctx),
        0x0057 => ipv6(r.rest(), ctx),
        _ => Ok(Decoded::NonIp),
    }
}

fn mpls(buf: &[u8], ctx: Ctx) -> Result<Decoded<'_>, DecodeError> {
    let mut r = Reader::new(buf);
    for _ in 0..MAX_MPLS_LABELS {
        let entry = r.be32().ok_or(DecodeError::BadMpls)?;
        if entry & 0x100 != 0 {
            // Bottom of stack: MPLS does not say what follows; the first nibble does.
            let rest = r.rest();
            return match rest.first().map(|b| b >> 4) {
                Some(4) => ipv4(rest, ctx),
                Some(6) => ipv6(rest, ctx),
                // Pseudowire control word (RFC 4385, first nibble 0) then Ethernet.
                Some(0) => ethernet(rest.get(4..).unwrap_or(&[]), ctx.deeper()?),
                _ => Ok(Decoded::NonIp),
            };
        }
    }
    Err(DecodeError::BadMpls)
}

/// BSD loopback: a 4-byte address family in the capturing host's byte order (`NULL`) or
/// network order (`LOOP`); both are accepted for both, since no family value is valid in both
/// orders.
fn null(buf: &[u8], ctx: Ctx) -> Result<Decoded<'_>, DecodeError> {
    let mut r = Reader::new(buf);
    let fam = r.array::<4>().ok_or(DecodeError::TruncatedLinkHeader)?;
    let le = u32::from_le_bytes(fam);
    let fam = if le > 0xFFFF {
        u32::from_be_bytes(fam)
    } else {
        le
    };
    match fam {
        2 => ipv4(r.rest(), ctx),
        24 | 28 | 30 => ipv6(r.rest(), ctx),
        _ => Ok(Decoded::NonIp),
    }
}

/// Linux cooked capture v1: the protocol is an Ethernet type except for a few small values.
fn sll(buf: &[u8], ctx: Ctx) -> Result<Decoded<'_>, DecodeError> {
    let mut r = Reader::new(buf);
    r.skip(2).ok_or(DecodeError::TruncatedLinkHeader)?;
    let hatype = r.be16().ok_or(DecodeError::TruncatedLinkHeader)?;
    r.skip(10).ok_or(DecodeError::TruncatedLinkHeader)?;
    let proto = r.be16().ok_or(DecodeError::TruncatedLinkHeader)?;
    sll_proto(hatype, proto, r.rest(), ctx)
}

/// Linux cooked capture v2.
fn sll2(buf: &[u8], ctx: Ctx) -> Result<Decoded<'_>, DecodeError> {
    let mut r = Reader::new(buf);
    let proto = r.be16().ok_or(DecodeError::TruncatedLinkHeader)?;
    r.skip(6).ok_or(DecodeError::TruncatedLinkHeader)?;
    let hatype = r.be16().ok_or(DecodeError::TruncatedLinkHeader)?;
    r.skip(10).ok_or(DecodeError::TruncatedLinkHeader)?;
    sll_proto(hatype, proto, r.rest(), ctx)
}

fn sll_proto(hatype: u16, proto: u16, rest: &[u8], ctx: Ctx) -> Result<Decoded<'_>, DecodeError> {
    const ARPHRD_NETLINK: u16 = 824;
    if hatype == ARPHRD_NETLINK {
        return Ok(Decoded::NonIp);
    }
    match proto {
        0x0004 => llc(rest, ctx),
        0..=0x05DC => Ok(Decoded::NonIp),
        et => ethertype(et, rest, ctx),
    }
}

fn ip_any(buf: &[u8], ctx: Ctx) -> Result<Decoded<'_>, DecodeError> {
    match buf.first().map(|b| b >> 4) {
        Some(4) => ipv4(buf, ctx),
        Some(6) => ipv6(buf, ctx),
        Some(_) => Err(DecodeError::BadIpVersion),
        None => Err(DecodeError::TruncatedIpv4Header),
    }
}

fn ipv4(buf: &[u8], ctx: Ctx) -> Result<Decoded<'_>, DecodeError> {
    let mut r = Reader::new(buf);
    let vihl = r.u8().ok_or(DecodeError::TruncatedIpv4Header)?;
    if vihl >> 4 != 4 {
        return Err(DecodeError::BadIpVersion);
    }
    let ihl = usize::from(vihl & 0x0F) * 4;
    if ihl < 20 {
        return Err(DecodeError::BadIpv4HeaderLength);
    }
    if buf.len() < ihl {
        return Err(DecodeError::TruncatedIpv4Header);
    }
    r.skip(1).ok_or(DecodeError::TruncatedIpv4Header)?;
    let total = usize::from(r.be16().ok_or(DecodeError::TruncatedIpv4Header)?);
    let id = r.be16().ok_or(DecodeError::TruncatedIpv4Header)?;
    let frag = r.be16().ok_or(DecodeError::TruncatedIpv4Header)?;
    r.skip(1).ok_or(DecodeError::TruncatedIpv4Header)?;
    let proto = r.u8().ok_or(DecodeError::TruncatedIpv4Header)?;
    r.skip(2).ok_or(DecodeError::TruncatedIpv4Header)?;
    let src = r.array::<4>().ok_or(DecodeError::TruncatedIpv4Header)?;
    let dst = r.array::<4>().ok_or(DecodeError::TruncatedIpv4Header)?;
    let (end, truncated) = if total == 0 {
        // Segmentation offload: the stack had not filled the length in yet.
        (buf.len(), false)
    } else if total < ihl {
        return Err(DecodeError::BadIpv4TotalLength);
    } else if total > buf.len() {
        (buf.len(), true)
    } else {
        (total, false)
    };
    let payload = buf.get(ihl..end).ok_or(DecodeError::TruncatedIpv4Header)?;
    let declared = if total == 0 {
        payload.len()
    } else {
        total - ihl
    };
    let ip = Ip {
        src: IpAddr::V4(Ipv4Addr::from(src)),
        dst: IpAddr::V4(Ipv4Addr::from(dst)),
        v6: false,
        truncated,
    };
    let more = frag & 0x2000 != 0;
    let offset = u32::from(frag & 0x1FFF) * 8;
    if more || offset != 0 {
        return Ok(packet(
            ip,
            ctx,
            Transport::Fragment(Fragment {
                v6: false,
                id: u32::from(id),
                proto,
                offset,
                more,
                data: payload,
                missing: missing(declared, payload.len()),
            }),
        ));
    }
    upper(ip, proto, payload, declared, ctx, true)
}

fn ipv6(buf: &[u8], ctx: Ctx) -> Result<Decoded<'_>, DecodeError> {
    let mut r = Reader::new(buf);
    let vtf = r.be32().ok_or(DecodeError::TruncatedIpv6Header)?;
    if vtf >> 28 != 6 {
        return Err(DecodeError::BadIpVersion);
    }
    let plen = usize::from(r.be16().ok_or(DecodeError::TruncatedIpv6Header)?);
    let nh = r.u8().ok_or(DecodeError::TruncatedIpv6Header)?;
    r.skip(1).ok_or(DecodeError::TruncatedIpv6Header)?;
    let src = r.array::<16>().ok_or(DecodeError::TruncatedIpv6Header)?;
    let dst = r.array::<16>().ok_or(DecodeError::TruncatedIpv6Header)?;
    let rest = r.rest();
    let (payload, declared, truncated) = if plen == 0 {
        // Jumbogram (RFC 2675) or segmentation offload: the rest of the frame.
        (rest, rest.len(), false)
    } else if plen > rest.len() {
        (rest, plen, true)
    } else {
        (rest.get(..plen).unwrap_or(rest), plen, false)
    };
    let ip = Ip {
        src: IpAddr::V6(Ipv6Addr::from(src)),
        dst: IpAddr::V6(Ipv6Addr::from(dst)),
        v6: true,
        truncated,
    };
    upper(ip, nh, payload, declared, ctx, true)
}

#[inline]
fn missing(declared: usize, present: usize) -> u32 {
    u32::try_from(declared.saturating_sub(present)).unwrap_or(u32::MAX)
}

#[inline]
fn packet(ip: Ip, ctx: Ctx, transport: Transport<'_>) -> Decoded<'_> {
    Decoded::Ip(IpPacket {
        src: ip.src,
        dst: ip.dst,
        tunnel_depth: ctx.depth,
        truncated: ip.truncated,
        transport,
    })
}

/// Everything above an IP header: extension headers, tunnels, transports.
fn upper(
    ip: Ip,
    mut nh: u8,
    mut buf: &[u8],
    mut declared: usize,
    ctx: Ctx,
    mut allow_frag: bool,
) -> Result<Decoded<'_>, DecodeError> {
    let mut ext = 0u8;
    loop {
        let hlen = match nh {
            17 => return Ok(packet(ip, ctx, Transport::Udp(udp(buf, declared)?))),
            6 => return Ok(packet(ip, ctx, Transport::Tcp(tcp(buf, declared)?))),
            4 => return ipv4(buf, ctx.deeper()?),
            41 => return ipv6(buf, ctx.deeper()?),
            47 => return gre(buf, ctx.deeper()?),
            1 | 58 => return Ok(packet(ip, ctx, Transport::Icmp)),
            // Hop-by-hop, routing, destination options, mobility, HIP, shim6: RFC 6564 format.
            0 | 43 | 60 | 135 | 139 | 140 if ip.v6 => {
                let len = buf.get(1).ok_or(DecodeError::TruncatedExtHeader)?;
                (usize::from(*len) + 1) * 8
            }
            // AH, in IPv4 or IPv6: length in 32-bit words minus 2.
            51 => {
                let len = buf.get(1).ok_or(DecodeError::TruncatedExtHeader)?;
                (usize::from(*len) + 2) * 4
            }
            44 if ip.v6 => {
                if !allow_frag {
                    return Err(DecodeError::NestedFragment);
                }
                allow_frag = false;
                let mut r = Reader::new(buf);
                let next = r.u8().ok_or(DecodeError::TruncatedExtHeader)?;
                r.skip(1).ok_or(DecodeError::TruncatedExtHeader)?;
                let offm = r.be16().ok_or(DecodeError::TruncatedExtHeader)?;
                let id = r.be32().ok_or(DecodeError::TruncatedExtHeader)?;
                let offset = u32::from(offm & 0xFFF8);
                let more = offm & 1 != 0;
                if offset != 0 || more {
                    let data = r.rest();
                    return Ok(packet(
                        ip,
                        ctx,
                        Transport::Fragment(Fragment {
                            v6: true,
                            id,
                            proto: next,
                            offset,
                            more,
                            data,
                            missing: missing(declared.saturating_sub(8), data.len()),
                        }),
                    ));
                }
                // An atomic fragment (RFC 6946): nothing to reassemble.
                8
            }
            other => return Ok(packet(ip, ctx, Transport::Other(other))),
        };
        ext += 1;
        if ext > ctx.limits.max_ext_headers {
            return Err(DecodeError::ExtHeaderChainTooLong);
        }
        nh = *buf.first().ok_or(DecodeError::TruncatedExtHeader)?;
        buf = buf.get(hlen..).ok_or(DecodeError::TruncatedExtHeader)?;
        declared = declared.saturating_sub(hlen);
    }
}

/// GRE (RFC 2784/2890) version 0. The depth was already incremented by the caller.
fn gre(buf: &[u8], ctx: Ctx) -> Result<Decoded<'_>, DecodeError> {
    let mut r = Reader::new(buf);
    let flags = r.be16().ok_or(DecodeError::TruncatedGre)?;
    let proto = r.be16().ok_or(DecodeError::TruncatedGre)?;
    if flags & 0x0007 != 0 || flags & 0x4000 != 0 {
        return Err(DecodeError::UnsupportedGre);
    }
    let seq = flags & 0x1000 != 0;
    for bit in [0x8000, 0x2000, 0x1000] {
        if flags & bit != 0 {
            r.skip(4).ok_or(DecodeError::TruncatedGre)?;
        }
    }
    let rest = r.rest();
    match proto {
        // ERSPAN type II (8-byte header) or, without a sequence number, type I (none).
        0x88BE => {
            let inner = if seq {
                rest.get(8..).ok_or(DecodeError::BadErspan)?
            } else {
                rest
            };
            ethernet(inner, ctx)
        }
        // ERSPAN type III: 12-byte header, optional 8-byte platform sub-header (O bit).
        0x22EB => {
            let mut r = Reader::new(rest);
            r.skip(8).ok_or(DecodeError::BadErspan)?;
            let w = r.be32().ok_or(DecodeError::BadErspan)?;
            if w & 1 != 0 {
                r.skip(8).ok_or(DecodeError::BadErspan)?;
            }
            match (w >> 10) & 0x1F {
                0 => ethernet(r.rest(), ctx),
                2 => ip_any(r.rest(), ctx),
                _ => Err(DecodeError::BadErspan),
            }
        }
        // 0x6558 (transparent Ethernet bridging), IPv4, IPv6, MPLS, ...: Ethernet types.
        // The bridged frame does not count as a second tunnel level.
        0x6558 => ethernet(rest, ctx),
        et if et > 0x05DC => ethertype(et, rest, ctx),
        _ => Ok(Decoded::NonIp),
    }
}

fn udp(buf: &[u8], declared: usize) -> Result<UdpDatagram<'_>, DecodeError> {
    let mut r = Reader::new(buf);
    let src_port = r.be16().ok_or(DecodeError::TruncatedUdpHeader)?;
    let dst_port = r.be16().ok_or(DecodeError::TruncatedUdpHeader)?;
    let ulen = usize::from(r.be16().ok_or(DecodeError::TruncatedUdpHeader)?);
    r.skip(2).ok_or(DecodeError::TruncatedUdpHeader)?;
    // A zero length is legal in IPv6 jumbograms (RFC 2675); take the IP length.
    let ulen = if ulen == 0 { declared } else { ulen };
    if ulen < 8 || ulen > declared {
        return Err(DecodeError::BadUdpLength);
    }
    let len = ulen - 8;
    let rest = r.rest();
    Ok(UdpDatagram {
        src_port,
        dst_port,
        payload: rest.get(..len).unwrap_or(rest),
        len,
    })
}

fn tcp(buf: &[u8], declared: usize) -> Result<TcpSegment<'_>, DecodeError> {
    let mut r = Reader::new(buf);
    let src_port = r.be16().ok_or(DecodeError::TruncatedTcpHeader)?;
    let dst_port = r.be16().ok_or(DecodeError::TruncatedTcpHeader)?;
    let seq = r.be32().ok_or(DecodeError::TruncatedTcpHeader)?;
    let ack = r.be32().ok_or(DecodeError::TruncatedTcpHeader)?;
    let off_flags = r.be16().ok_or(DecodeError::TruncatedTcpHeader)?;
    let window = r.be16().ok_or(DecodeError::TruncatedTcpHeader)?;
    r.skip(4).ok_or(DecodeError::TruncatedTcpHeader)?;
    let doff = usize::from(off_flags >> 12) * 4;
    if doff < 20 || doff > declared {
        return Err(DecodeError::BadTcpHeaderLength);
    }
    let payload = buf.get(doff..).ok_or(DecodeError::TruncatedTcpHeader)?;
    let real = declared - doff;
    let payload = payload.get(..real).unwrap_or(payload);
    Ok(TcpSegment {
        src_port,
        dst_port,
        seq,
        ack,
        flags: TcpFlags(off_flags & 0x01FF),
        window,
        payload,
        missing: missing(real, payload.len()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_index_is_dense() {
        for (i, e) in DecodeError::ALL.iter().enumerate() {
            assert_eq!(e.index(), i);
        }
    }

    #[test]
    fn null_family_both_orders() {
        let mut f = vec![2, 0, 0, 0];
        f.extend_from_slice(&[
            0x45, 0, 0, 20, 0, 0, 0, 0, 64, 253, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8,
        ]);
        let l = Limits::default();
        assert!(matches!(
            decode(linktype::NULL, &f, &l),
            Ok(Decoded::Ip(IpPacket {
                transport: Transport::Other(253),
                ..
            }))
        ));
        f[..4].copy_from_slice(&[0, 0, 0, 2]);
        assert!(matches!(decode(linktype::LOOP, &f, &l), Ok(Decoded::Ip(_))));
        f[..4].copy_from_slice(&[0, 0, 0, 7]);
        assert_eq!(decode(linktype::NULL, &f, &l), Ok(Decoded::NonIp));
    }

    #[test]
    fn empty_and_tiny_frames() {
        let l = Limits::default();
        for lt in [0, 1, 12, 14, 101, 108, 113, 228, 229, 276] {
            for n in 0..4 {
                let f = vec![0x45u8; n];
                assert!(decode(lt, &f, &l).is_err(), "{lt} {n}");
            }
        }
        assert_eq!(decode(9999, &[], &l), Err(DecodeError::UnsupportedLinktype));
    }
}

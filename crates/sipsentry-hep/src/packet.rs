//! The unified packet model shared by HEP v1, v2 and v3.

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Which HEP version a packet was decoded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HepVersion {
    /// HEP v1: fixed header, no timestamp.
    V1,
    /// HEP v2: fixed header plus timestamp and a 16-bit capture id.
    V2,
    /// HEP v3 / EEP: `HEP3` + chunks.
    V3,
}

/// The payload protocol type (chunk `0x000b`).
///
/// A newtype rather than an enum: agents send values this crate has never heard of, and they
/// must survive a decode/encode round trip unchanged.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ProtoType(pub u8);

impl ProtoType {
    /// 0x00: reserved / not set.
    pub const RESERVED: ProtoType = ProtoType(0x00);
    /// 0x01: SIP.
    pub const SIP: ProtoType = ProtoType(0x01);
    /// 0x02: XMPP.
    pub const XMPP: ProtoType = ProtoType(0x02);
    /// 0x03: SDP.
    pub const SDP: ProtoType = ProtoType(0x03);
    /// 0x04: RTP.
    pub const RTP: ProtoType = ProtoType(0x04);
    /// 0x05: RTCP as JSON.
    pub const RTCP: ProtoType = ProtoType(0x05);
    /// 0x06: MGCP.
    pub const MGCP: ProtoType = ProtoType(0x06);
    /// 0x07: MEGACO (H.248).
    pub const MEGACO: ProtoType = ProtoType(0x07);
    /// 0x08: M2UA (SS7/SIGTRAN).
    pub const M2UA: ProtoType = ProtoType(0x08);
    /// 0x09: M3UA (SS7/SIGTRAN).
    pub const M3UA: ProtoType = ProtoType(0x09);
    /// 0x0a: IAX.
    pub const IAX: ProtoType = ProtoType(0x0a);
    /// 0x0b: "H3222" (so spelled in the specification).
    pub const H3222: ProtoType = ProtoType(0x0b);
    /// 0x0c: H.321.
    pub const H321: ProtoType = ProtoType(0x0c);
    /// 0x0d: M2PA.
    pub const M2PA: ProtoType = ProtoType(0x0d);
    /// 0x22 (34): MOS full report, JSON.
    pub const MOS_FULL: ProtoType = ProtoType(0x22);
    /// 0x23 (35): MOS short report, JSON.
    pub const MOS_SHORT: ProtoType = ProtoType(0x23);
    /// 0x32 (50): SIP as JSON.
    pub const SIP_JSON: ProtoType = ProtoType(0x32);
    /// 0x35 (53): DNS as JSON.
    pub const DNS_JSON: ProtoType = ProtoType(0x35);
    /// 0x36 (54): M3UA (ISUP) as JSON.
    pub const M3UA_JSON: ProtoType = ProtoType(0x36);
    /// 0x37 (55): RTSP as JSON.
    pub const RTSP: ProtoType = ProtoType(0x37);
    /// 0x38 (56): Diameter as JSON.
    pub const DIAMETER_JSON: ProtoType = ProtoType(0x38);
    /// 0x39 (57): GSM MAP as JSON.
    pub const GSM_MAP_JSON: ProtoType = ProtoType(0x39);
    /// 0x3a (58): RTCP (Pion).
    pub const RTCP_PION: ProtoType = ProtoType(0x3a);
    /// 0x3c (60): CDR.
    pub const CDR: ProtoType = ProtoType(0x3c);
    /// 0x3d (61): Verto (JSON).
    pub const VERTO: ProtoType = ProtoType(0x3d);
    /// 0x64 (100): log (text or JSON).
    pub const LOG: ProtoType = ProtoType(0x64);

    /// A short lower-case name from the specification's table, or `None` for other values.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x00 => "reserved",
            0x01 => "sip",
            0x02 => "xmpp",
            0x03 => "sdp",
            0x04 => "rtp",
            0x05 => "rtcp",
            0x06 => "mgcp",
            0x07 => "megaco",
            0x08 => "m2ua",
            0x09 => "m3ua",
            0x0a => "iax",
            0x0b => "h3222",
            0x0c => "h321",
            0x0d => "m2pa",
            0x22 => "mos-full",
            0x23 => "mos-short",
            0x32 => "sip-json",
            0x35 => "dns-json",
            0x36 => "m3ua-json",
            0x37 => "rtsp",
            0x38 => "diameter-json",
            0x39 => "gsm-map-json",
            0x3a => "rtcp-pion",
            0x3c => "cdr",
            0x3d => "verto",
            0x64 => "log",
            _ => return None,
        })
    }
}

impl fmt::Debug for ProtoType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "ProtoType({}={n})", self.0),
            None => write!(f, "ProtoType({})", self.0),
        }
    }
}

impl fmt::Display for ProtoType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}", self.0),
        }
    }
}

/// The HEP3 authentication key (chunk `0x000e`): a shared secret between agent and collector.
///
/// Its `Debug` never prints the key, so a packet can be logged with `{:?}` safely. Use
/// [`AuthKey::expose`] where the key is really needed (e.g. to check it).
#[derive(Clone, PartialEq, Eq)]
pub struct AuthKey<'a>(Cow<'a, [u8]>);

impl<'a> AuthKey<'a> {
    /// Wrap key bytes.
    pub fn new(key: impl Into<Cow<'a, [u8]>>) -> Self {
        AuthKey(key.into())
    }

    /// The secret bytes. Named so that every use is easy to find in review.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Key length in bytes (not secret: it is visible on the wire as the chunk length).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for an empty key.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Detach from the input buffer.
    pub fn into_owned(self) -> AuthKey<'static> {
        AuthKey(Cow::Owned(self.0.into_owned()))
    }
}

impl fmt::Debug for AuthKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthKey(<redacted>)")
    }
}

/// A generic (vendor `0x0000`) chunk of a type this crate does not model, kept verbatim so that
/// re-encoding does not lose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawChunk<'a> {
    /// Chunk type id.
    pub type_id: u16,
    /// Chunk value (without the 6-byte header).
    pub value: Cow<'a, [u8]>,
}

impl RawChunk<'_> {
    /// Detach from the input buffer.
    pub fn into_owned(self) -> RawChunk<'static> {
        RawChunk {
            type_id: self.type_id,
            value: Cow::Owned(self.value.into_owned()),
        }
    }
}

/// Summary of a vendor-specific chunk (vendor id ≠ 0). Its value is skipped, not decoded and
/// not re-encoded; this record exists so that a display can say what was there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VendorChunk {
    /// Vendor id.
    pub vendor: u16,
    /// Vendor-defined type id.
    pub type_id: u16,
    /// Chunk length as declared, including the 6-byte header.
    pub len: u16,
}

/// Caps applied while decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest payload a compressed chunk (`0x0010`) may inflate to. A 65 KB chunk of zeros
    /// inflates to about 65 MB, so without this cap one datagram could exhaust memory.
    pub max_decompressed: usize,
    /// Most chunks accepted in one packet. Each chunk is at least 6 bytes, so the 64 KiB total
    /// length alone would allow 10922; real agents send about 15.
    pub max_chunks: usize,
}

/// Default [`DecodeLimits::max_decompressed`]: 64 KiB, the largest an uncompressed HEP3
/// payload can be.
pub const DEFAULT_MAX_DECOMPRESSED: usize = 64 * 1024;
/// Default [`DecodeLimits::max_chunks`].
pub const DEFAULT_MAX_CHUNKS: usize = 512;

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_decompressed: DEFAULT_MAX_DECOMPRESSED,
            max_chunks: DEFAULT_MAX_CHUNKS,
        }
    }
}

/// One captured packet, whichever HEP version carried it.
///
/// Decoding borrows from the input: for an ordinary packet `payload` and every octet-string
/// field are `Cow::Borrowed` and decoding allocates nothing. Only a compressed payload
/// (`0x0010`), unknown generic chunks and vendor chunks cause allocations.
///
/// `Debug` redacts the authentication key and shows only the start of the payload.
#[derive(Clone, PartialEq, Eq)]
pub struct HepPacket<'a> {
    /// The HEP version the packet was decoded from. [`HepPacket::encode_v3`] always writes v3.
    pub version: HepVersion,
    /// IP protocol id (`0x0002`; 6 = TCP, 17 = UDP).
    pub ip_proto: u8,
    /// Source address and port (`0x0003`/`0x0005` + `0x0007`).
    pub src: SocketAddr,
    /// Destination address and port (`0x0004`/`0x0006` + `0x0008`).
    pub dst: SocketAddr,
    /// Timestamp seconds since the Unix epoch (`0x0009`; 0 when absent, always 0 in v1).
    pub ts_secs: u32,
    /// Timestamp microsecond offset (`0x000a`; 0 when absent). Not range-checked: agents send
    /// what they send, [`HepPacket::ts_nanos`] copes with any value.
    pub ts_micros: u32,
    /// Payload protocol type (`0x000b`; v1/v2 carried only SIP, so they report SIP).
    pub proto_type: ProtoType,
    /// Capture agent id (`0x000c`; 16 bits in v2, 0 when absent).
    pub capture_id: u32,
    /// Keep-alive timer in seconds (`0x000d`).
    pub keep_alive: Option<u16>,
    /// Authentication key (`0x000e`), redacted in `Debug`.
    pub auth_key: Option<AuthKey<'a>>,
    /// Internal correlation id (`0x0011`), raw bytes (usually a SIP Call-ID, not guaranteed
    /// UTF-8).
    pub correlation_id: Option<Cow<'a, [u8]>>,
    /// VLAN id (`0x0012`).
    pub vlan: Option<u16>,
    /// Group id (`0x0013`).
    pub group_id: Option<Cow<'a, [u8]>>,
    /// Source MAC (`0x0014`, a u64 on the wire).
    pub src_mac: Option<u64>,
    /// Destination MAC (`0x0015`).
    pub dst_mac: Option<u64>,
    /// Ethernet type (`0x0016`).
    pub eth_type: Option<u16>,
    /// TCP flags (`0x0017`).
    pub tcp_flags: Option<u8>,
    /// IP TOS (`0x0018`).
    pub ip_tos: Option<u8>,
    /// MOS value (`0x0020`).
    pub mos: Option<u16>,
    /// R-factor (`0x0021`).
    pub r_factor: Option<u16>,
    /// GEO location (`0x0022`).
    pub geo_location: Option<Cow<'a, [u8]>>,
    /// Jitter (`0x0023`).
    pub jitter: Option<u32>,
    /// Transaction type (`0x0024`).
    pub transaction_type: Option<Cow<'a, [u8]>>,
    /// Payload JSON keys (`0x0025`).
    pub payload_json_keys: Option<Cow<'a, [u8]>>,
    /// Tags values (`0x0026`).
    pub tags_values: Option<Cow<'a, [u8]>>,
    /// Tag type (`0x0027`).
    pub tag_type: Option<u16>,
    /// The captured payload (for SIP, one SIP message). Borrowed from the input unless it was
    /// inflated from a compressed chunk.
    pub payload: Cow<'a, [u8]>,
    /// True when the payload arrived compressed (`0x0010`); [`HepPacket::encode_v3`] then
    /// compresses it again (zlib).
    pub payload_compressed: bool,
    /// Generic chunks of types without a typed field, in packet order.
    pub unknown_chunks: Vec<RawChunk<'a>>,
    /// Vendor chunks seen (and skipped), in packet order.
    pub vendor_chunks: Vec<VendorChunk>,
}

impl<'a> HepPacket<'a> {
    /// A v3 packet with the given addresses and payload and every optional field unset
    /// (UDP, SIP, time 0, capture id 0).
    pub fn new(src: SocketAddr, dst: SocketAddr, payload: impl Into<Cow<'a, [u8]>>) -> Self {
        HepPacket {
            version: HepVersion::V3,
            ip_proto: 17,
            src,
            dst,
            ts_secs: 0,
            ts_micros: 0,
            proto_type: ProtoType::SIP,
            capture_id: 0,
            keep_alive: None,
            auth_key: None,
            correlation_id: None,
            vlan: None,
            group_id: None,
            src_mac: None,
            dst_mac: None,
            eth_type: None,
            tcp_flags: None,
            ip_tos: None,
            mos: None,
            r_factor: None,
            geo_location: None,
            jitter: None,
            transaction_type: None,
            payload_json_keys: None,
            tags_values: None,
            tag_type: None,
            payload: payload.into(),
            payload_compressed: false,
            unknown_chunks: Vec::new(),
            vendor_chunks: Vec::new(),
        }
    }

    /// The IP family number as HEP writes it: 2 for IPv4, 10 for IPv6 (from `src`).
    pub fn family(&self) -> u8 {
        match self.src.ip() {
            IpAddr::V4(_) => 2,
            IpAddr::V6(_) => 10,
        }
    }

    /// Capture time in nanoseconds since the Unix epoch: `ts_secs * 10^9 + ts_micros * 10^3`.
    ///
    /// Both inputs are u32, so the result (at most about 4.3e18) always fits an i64, even for
    /// out-of-range microsecond values.
    pub fn ts_nanos(&self) -> i64 {
        i64::from(self.ts_secs) * 1_000_000_000 + i64::from(self.ts_micros) * 1_000
    }

    /// Detach every borrowed field from the input buffer.
    pub fn into_owned(self) -> HepPacket<'static> {
        fn own(c: Option<Cow<'_, [u8]>>) -> Option<Cow<'static, [u8]>> {
            c.map(|c| Cow::Owned(c.into_owned()))
        }
        HepPacket {
            version: self.version,
            ip_proto: self.ip_proto,
            src: self.src,
            dst: self.dst,
            ts_secs: self.ts_secs,
            ts_micros: self.ts_micros,
            proto_type: self.proto_type,
            capture_id: self.capture_id,
            keep_alive: self.keep_alive,
            auth_key: self.auth_key.map(AuthKey::into_owned),
            correlation_id: own(self.correlation_id),
            vlan: self.vlan,
            group_id: own(self.group_id),
            src_mac: self.src_mac,
            dst_mac: self.dst_mac,
            eth_type: self.eth_type,
            tcp_flags: self.tcp_flags,
            ip_tos: self.ip_tos,
            mos: self.mos,
            r_factor: self.r_factor,
            geo_location: own(self.geo_location),
            jitter: self.jitter,
            transaction_type: own(self.transaction_type),
            payload_json_keys: own(self.payload_json_keys),
            tags_values: own(self.tags_values),
            tag_type: self.tag_type,
            payload: Cow::Owned(self.payload.into_owned()),
            payload_compressed: self.payload_compressed,
            unknown_chunks: self
                .unknown_chunks
                .into_iter()
                .map(RawChunk::into_owned)
                .collect(),
            vendor_chunks: self.vendor_chunks,
        }
    }
}

impl Default for HepPacket<'_> {
    fn default() -> Self {
        let any = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);
        HepPacket::new(any, any, Cow::Borrowed(&[][..]))
    }
}

/// Prints at most this many payload bytes in `Debug`.
const DEBUG_PAYLOAD_PREFIX: usize = 48;

struct BytesPreview<'b>(&'b [u8], usize);

impl fmt::Debug for BytesPreview<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = self.0.get(..self.1).unwrap_or(self.0);
        write!(f, "\"{}\"", shown.escape_ascii())?;
        if shown.len() < self.0.len() {
            write!(f, "..({} bytes)", self.0.len())?;
        }
        Ok(())
    }
}

impl fmt::Debug for HepPacket<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn preview<'b>(c: &'b Option<Cow<'_, [u8]>>) -> Option<BytesPreview<'b>> {
            c.as_deref().map(|b| BytesPreview(b, 64))
        }
        let mut d = f.debug_struct("HepPacket");
        d.field("version", &self.version)
            .field("ip_proto", &self.ip_proto)
            .field("src", &self.src)
            .field("dst", &self.dst)
            .field("ts_secs", &self.ts_secs)
            .field("ts_micros", &self.ts_micros)
            .field("proto_type", &self.proto_type)
            .field("capture_id", &self.capture_id);
        macro_rules! opt {
            ($name:ident) => {
                if let Some(v) = &self.$name {
                    d.field(stringify!($name), v);
                }
            };
            ($name:ident, bytes) => {
                if let Some(v) = preview(&self.$name) {
                    d.field(stringify!($name), &v);
                }
            };
        }
        opt!(keep_alive);
        opt!(auth_key);
        opt!(correlation_id, bytes);
        opt!(vlan);
        opt!(group_id, bytes);
        opt!(src_mac);
        opt!(dst_mac);
        opt!(eth_type);
        opt!(tcp_flags);
        opt!(ip_tos);
        opt!(mos);
        opt!(r_factor);
        opt!(geo_location, bytes);
        opt!(jitter);
        opt!(transaction_type, bytes);
        opt!(payload_json_keys, bytes);
        opt!(tags_values, bytes);
        opt!(tag_type);
        d.field(
            "payload",
            &BytesPreview(&self.payload, DEBUG_PAYLOAD_PREFIX),
        )
        .field("payload_compressed", &self.payload_compressed);
        if !self.unknown_chunks.is_empty() {
            d.field("unknown_chunks", &self.unknown_chunks);
        }
        if !self.vendor_chunks.is_empty() {
            d.field("vendor_chunks", &self.vendor_chunks);
        }
        d.finish()
    }
}

//! HEP v3 (EEP): `HEP3`, a u16 total length, then type-length-value chunks.
//!
//! ```text
//!  0       4       6       8      10      12
//!  +-------+-------+-------+-------+-------+---------------+--
//!  | "HEP3"| total |vendor | type  |  len  | value (len-6) | next chunk ...
//!  +-------+-------+-------+-------+-------+---------------+--
//! ```
//!
//! All integers are big-endian. `total` counts the whole packet including the 6-byte header;
//! each chunk `len` counts the chunk including its own 6-byte header.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

use crate::chunk::*;
use crate::compress;
use crate::error::{EncodeError, HepError, RequiredChunk};
use crate::packet::{
    AuthKey, DecodeLimits, HepPacket, HepVersion, ProtoType, RawChunk, VendorChunk,
};
use crate::reader::Reader;

/// The four magic bytes that start every HEP3 packet.
pub const HEP3_MAGIC: &[u8; 4] = b"HEP3";
/// Size of the HEP3 header: magic and total length.
pub const HEP3_HEADER_LEN: usize = 6;
/// Largest HEP3 packet: the total length is a u16.
pub const MAX_HEP3_LEN: usize = u16::MAX as usize;
/// Largest value one chunk can carry (65535 minus the 6-byte chunk header).
pub const MAX_CHUNK_VALUE: usize = MAX_HEP3_LEN - CHUNK_HEADER_LEN;

pub(crate) fn decode_v3<'a>(
    buf: &'a [u8],
    limits: &DecodeLimits,
) -> Result<HepPacket<'a>, HepError> {
    let mut r = Reader::new(buf);
    let total = match (r.take(4), r.u16_be()) {
        (Some(_magic), Some(total)) => total,
        _ => return Err(HepError::V3HeaderTruncated { have: buf.len() }),
    };
    let total_len = usize::from(total);
    if total_len < HEP3_HEADER_LEN {
        return Err(HepError::V3TotalLengthTooSmall { total });
    }
    if total_len > buf.len() {
        return Err(HepError::V3TotalLengthOverrun {
            total,
            available: buf.len(),
        });
    }
    if total_len < buf.len() {
        return Err(HepError::V3TrailingBytes {
            total,
            available: buf.len(),
        });
    }
    let body = buf.get(HEP3_HEADER_LEN..total_len).unwrap_or_default();
    let mut r = Reader::new(body);

    let mut pkt = HepPacket {
        version: HepVersion::V3,
        ..HepPacket::default()
    };
    // One bit per typed generic chunk type (all ids are < 0x28), to refuse duplicates.
    let mut seen: u64 = 0;
    let mut count = 0usize;
    let mut family = None;
    let mut ip_proto = None;
    let (mut v4_src, mut v4_dst, mut v6_src, mut v6_dst) = (None, None, None, None);
    let (mut src_port, mut dst_port) = (None, None);
    let (mut payload, mut compressed) = (None, None);

    while !r.is_empty() {
        let offset = HEP3_HEADER_LEN + r.position();
        let remaining = r.remaining();
        let (vendor, type_id, len) = match (r.u16_be(), r.u16_be(), r.u16_be()) {
            (Some(v), Some(t), Some(l)) => (v, t, l),
            _ => return Err(HepError::ChunkHeaderTruncated { offset, remaining }),
        };
        if usize::from(len) < CHUNK_HEADER_LEN {
            return Err(HepError::ChunkLengthTooSmall {
                offset,
                vendor,
                type_id,
                len,
            });
        }
        let value = r
            .take(usize::from(len) - CHUNK_HEADER_LEN)
            .ok_or(HepError::ChunkOverrun {
                offset,
                vendor,
                type_id,
                len,
                remaining,
            })?;
        count += 1;
        if count > limits.max_chunks {
            return Err(HepError::TooManyChunks {
                limit: limits.max_chunks,
            });
        }
        if vendor != 0 {
            pkt.vendor_chunks.push(VendorChunk {
                vendor,
                type_id,
                len,
            });
            continue;
        }
        if !is_typed(type_id) {
            pkt.unknown_chunks.push(RawChunk {
                type_id,
                value: Cow::Borrowed(value),
            });
            continue;
        }
        let wrong_size = |expected: usize| HepError::ChunkWrongSize {
            offset,
            type_id,
            // Fixed sizes are at most 16 + 6, so this never saturates.
            expected: u16::try_from(expected + CHUNK_HEADER_LEN).unwrap_or(u16::MAX),
            got: len,
        };
        if let Some(n) = fixed_value_len(type_id) {
            if value.len() != n {
                return Err(wrong_size(n));
            }
        }
        let bit = 1u64 << (type_id & 63);
        if seen & bit != 0 {
            return Err(HepError::DuplicateChunk { offset, type_id });
        }
        seen |= bit;

        // Sizes were checked above, so every read below succeeds; `ok_or` keeps that a
        // checked fact instead of an `unwrap`.
        let mut v = Reader::new(value);
        let n = value.len();
        macro_rules! read {
            ($m:ident) => {
                v.$m().ok_or_else(|| wrong_size(n))?
            };
        }
        let borrowed = Some(Cow::Borrowed(value));
        match type_id {
            IP_FAMILY => family = Some(read!(u8)),
            IP_PROTO => ip_proto = Some(read!(u8)),
            IPV4_SRC => v4_src = Some(read!(ipv4)),
            IPV4_DST => v4_dst = Some(read!(ipv4)),
            IPV6_SRC => v6_src = Some(read!(ipv6)),
            IPV6_DST => v6_dst = Some(read!(ipv6)),
            SRC_PORT => src_port = Some(read!(u16_be)),
            DST_PORT => dst_port = Some(read!(u16_be)),
            TS_SECS => pkt.ts_secs = read!(u32_be),
            TS_MICROS => pkt.ts_micros = read!(u32_be),
            PROTO_TYPE => pkt.proto_type = ProtoType(read!(u8)),
            CAPTURE_ID => pkt.capture_id = read!(u32_be),
            KEEP_ALIVE => pkt.keep_alive = Some(read!(u16_be)),
            AUTH_KEY => pkt.auth_key = Some(AuthKey::new(value)),
            PAYLOAD => payload = Some(value),
            COMPRESSED_PAYLOAD => compressed = Some(value),
            CORRELATION_ID => pkt.correlation_id = borrowed,
            VLAN => pkt.vlan = Some(read!(u16_be)),
            GROUP_ID => pkt.group_id = borrowed,
            SRC_MAC => pkt.src_mac = Some(read!(u64_be)),
            DST_MAC => pkt.dst_mac = Some(read!(u64_be)),
            ETH_TYPE => pkt.eth_type = Some(read!(u16_be)),
            TCP_FLAGS => pkt.tcp_flags = Some(read!(u8)),
            IP_TOS => pkt.ip_tos = Some(read!(u8)),
            MOS => pkt.mos = Some(read!(u16_be)),
            R_FACTOR => pkt.r_factor = Some(read!(u16_be)),
            GEO_LOCATION => pkt.geo_location = borrowed,
            JITTER => pkt.jitter = Some(read!(u32_be)),
            TRANSACTION_TYPE => pkt.transaction_type = borrowed,
            PAYLOAD_JSON_KEYS => pkt.payload_json_keys = borrowed,
            TAGS_VALUES => pkt.tags_values = borrowed,
            TAG_TYPE => pkt.tag_type = Some(read!(u16_be)),
            // `is_typed` covers exactly the arms above.
            _ => pkt.unknown_chunks.push(RawChunk {
                type_id,
                value: Cow::Borrowed(value),
            }),
        }
    }

    let family = family.ok_or(HepError::MissingChunk(RequiredChunk::IpFamily))?;
    pkt.ip_proto = ip_proto.ok_or(HepError::MissingChunk(RequiredChunk::IpProto))?;
    let has = |t: u16| seen & (1u64 << t) != 0;
    let (src_ip, dst_ip): (IpAddr, IpAddr) = match family {
        2 => {
            for t in [IPV6_SRC, IPV6_DST] {
                if has(t) {
                    return Err(HepError::FamilyMismatch { family, type_id: t });
                }
            }
            (
                v4_src
                    .ok_or(HepError::MissingChunk(RequiredChunk::SrcAddr))?
                    .into(),
                v4_dst
                    .ok_or(HepError::MissingChunk(RequiredChunk::DstAddr))?
                    .into(),
            )
        }
        10 => {
            for t in [IPV4_SRC, IPV4_DST] {
                if has(t) {
                    return Err(HepError::FamilyMismatch { family, type_id: t });
                }
            }
            (
                v6_src
                    .ok_or(HepError::MissingChunk(RequiredChunk::SrcAddr))?
                    .into(),
                v6_dst
                    .ok_or(HepError::MissingChunk(RequiredChunk::DstAddr))?
                    .into(),
            )
        }
        _ => return Err(HepError::UnsupportedFamily { family }),
    };
    let src_port = src_port.ok_or(HepError::MissingChunk(RequiredChunk::SrcPort))?;
    let dst_port = dst_port.ok_or(HepError::MissingChunk(RequiredChunk::DstPort))?;
    pkt.src = SocketAddr::new(src_ip, src_port);
    pkt.dst = SocketAddr::new(dst_ip, dst_port);
    (pkt.payload, pkt.payload_compressed) = match (payload, compressed) {
        (Some(p), None) => (Cow::Borrowed(p), false),
        (None, Some(c)) => (
            Cow::Owned(compress::inflate(c, limits.max_decompressed)?),
            true,
        ),
        (Some(_), Some(_)) => return Err(HepError::ConflictingPayloads),
        (None, None) => return Err(HepError::MissingChunk(RequiredChunk::Payload)),
    };
    Ok(pkt)
}

/// Appends chunks to an output buffer; every value length is checked before it is written.
struct ChunkWriter<'o> {
    out: &'o mut Vec<u8>,
}

impl ChunkWriter<'_> {
    fn put(&mut self, type_id: u16, value: &[u8]) -> Result<(), EncodeError> {
        let len = u16::try_from(value.len() + CHUNK_HEADER_LEN).map_err(|_| {
            EncodeError::ChunkTooLarge {
                type_id,
                len: value.len(),
            }
        })?;
        self.out.extend_from_slice(&0u16.to_be_bytes());
        self.out.extend_from_slice(&type_id.to_be_bytes());
        self.out.extend_from_slice(&len.to_be_bytes());
        self.out.extend_from_slice(value);
        Ok(())
    }

    fn opt<V: AsRef<[u8]>>(&mut self, type_id: u16, value: Option<V>) -> Result<(), EncodeError> {
        match value {
            Some(v) => self.put(type_id, v.as_ref()),
            None => Ok(()),
        }
    }
}

impl HepPacket<'_> {
    /// Append this packet to `out` as HEP3 and return the number of bytes written.
    ///
    /// Chunk order: the typed generic chunks in ascending type-id order, then the chunks of
    /// [`HepPacket::unknown_chunks`] in list order, then the payload last. That is the order of
    /// the specification's chunk table and of its worked example (whose payload is last), and
    /// it is what the reference agents (HEPjs/hepgen, heplify) emit, so their packets
    /// re-encode byte for byte. Optional fields are written only when `Some`; timestamp,
    /// protocol type and capture id are always written. Vendor chunks are not re-emitted
    /// (only their summary was kept). A compressed payload is recompressed with zlib, so its
    /// bytes may differ from the original compressor's.
    ///
    /// On error nothing is appended.
    pub fn encode_v3(&self, out: &mut Vec<u8>) -> Result<usize, EncodeError> {
        let start = out.len();
        let r = self.encode_v3_inner(out, start);
        if r.is_err() {
            out.truncate(start);
        }
        r
    }

    /// Convenience: encode into a new `Vec`.
    pub fn to_v3_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(self.payload.len() + 128);
        self.encode_v3(&mut out)?;
        Ok(out)
    }

    fn encode_v3_inner(&self, out: &mut Vec<u8>, start: usize) -> Result<usize, EncodeError> {
        if let Some(c) = self.unknown_chunks.iter().find(|c| is_typed(c.type_id)) {
            return Err(EncodeError::UnknownChunkIsTyped { type_id: c.type_id });
        }
        let family: u8 = match (self.src.ip(), self.dst.ip()) {
            (IpAddr::V4(_), IpAddr::V4(_)) => 2,
            (IpAddr::V6(_), IpAddr::V6(_)) => 10,
            _ => return Err(EncodeError::MixedAddressFamilies),
        };
        let compressed;
        let (payload_t, payload): (u16, &[u8]) = if self.payload_compressed {
            compressed = compress::deflate_zlib(&self.payload);
            (COMPRESSED_PAYLOAD, &compressed)
        } else {
            (PAYLOAD, &self.payload)
        };
        if payload.len() > MAX_CHUNK_VALUE {
            return Err(EncodeError::ChunkTooLarge {
                type_id: payload_t,
                len: payload.len(),
            });
        }

        out.extend_from_slice(HEP3_MAGIC);
        out.extend_from_slice(&[0, 0]); // total length, patched below
        let mut w = ChunkWriter { out };
        w.put(IP_FAMILY, &[family])?;
        w.put(IP_PROTO, &[self.ip_proto])?;
        match (self.src.ip(), self.dst.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                w.put(IPV4_SRC, &s.octets())?;
                w.put(IPV4_DST, &d.octets())?;
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                w.put(IPV6_SRC, &s.octets())?;
                w.put(IPV6_DST, &d.octets())?;
            }
            _ => return Err(EncodeError::MixedAddressFamilies),
        }
        w.put(SRC_PORT, &self.src.port().to_be_bytes())?;
        w.put(DST_PORT, &self.dst.port().to_be_bytes())?;
        w.put(TS_SECS, &self.ts_secs.to_be_bytes())?;
        w.put(TS_MICROS, &self.ts_micros.to_be_bytes())?;
        w.put(PROTO_TYPE, &[self.proto_type.0])?;
        w.put(CAPTURE_ID, &self.capture_id.to_be_bytes())?;
        w.opt(KEEP_ALIVE, self.keep_alive.map(u16::to_be_bytes))?;
        w.opt(AUTH_KEY, self.auth_key.as_ref().map(AuthKey::expose))?;
        w.opt(CORRELATION_ID, self.correlation_id.as_deref())?;
        w.opt(VLAN, self.vlan.map(u16::to_be_bytes))?;
        w.opt(GROUP_ID, self.group_id.as_deref())?;
        w.opt(SRC_MAC, self.src_mac.map(u64::to_be_bytes))?;
        w.opt(DST_MAC, self.dst_mac.map(u64::to_be_bytes))?;
        w.opt(ETH_TYPE, self.eth_type.map(u16::to_be_bytes))?;
        w.opt(TCP_FLAGS, self.tcp_flags.map(|b| [b]))?;
        w.opt(IP_TOS, self.ip_tos.map(|b| [b]))?;
        w.opt(MOS, self.mos.map(u16::to_be_bytes))?;
        w.opt(R_FACTOR, self.r_factor.map(u16::to_be_bytes))?;
        w.opt(GEO_LOCATION, self.geo_location.as_deref())?;
        w.opt(JITTER, self.jitter.map(u32::to_be_bytes))?;
        w.opt(TRANSACTION_TYPE, self.transaction_type.as_deref())?;
        w.opt(PAYLOAD_JSON_KEYS, self.payload_json_keys.as_deref())?;
        w.opt(TAGS_VALUES, self.tags_values.as_deref())?;
        w.opt(TAG_TYPE, self.tag_type.map(u16::to_be_bytes))?;
        for c in &self.unknown_chunks {
            w.put(c.type_id, &c.value)?;
        }
        w.put(payload_t, payload)?;

        let len = out.len() - start;
        let total = u16::try_from(len).map_err(|_| EncodeError::PacketTooLarge { len })?;
        if let Some(slot) = out.get_mut(start + 4..start + 6) {
            slot.copy_from_slice(&total.to_be_bytes());
        }
        Ok(len)
    }
}

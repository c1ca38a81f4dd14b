//! HEP v1 and v2: the original fixed binary header, no chunks.
//!
//! ```text
//!  0    1    2    3    4       6       8
//!  +----+----+----+----+-------+-------+----------+----------+
//!  | v  |hp_l|fam |prot| sport | dport | src addr | dst addr |   v1: payload follows
//!  +----+----+----+----+-------+-------+----------+----------+
//!  v2 only:  | tv_sec u32 | tv_usec u32 | captid u16 | pad u16 |   then payload
//! ```
//!
//! The format was never written down beyond the C structs of captagent and the Kamailio,
//! OpenSIPS and sofia-sip senders, so this decoder follows what those programs put on the wire:
//!
//! * ports are big-endian (`htons`); addresses are 4 (family 2) or 16 (family 10) bytes;
//! * `hp_l` is `sizeof(hep_hdr) + sizeof(ip header)`: 16 for IPv4, 40 for IPv6, in both
//!   versions (the senders add the time header to the packet but not to `hp_l`). hep-erlang
//!   writes 28/52 for v2 (counting the time header), so v2 accepts those too;
//! * the v2 time header is `struct { u32 tv_sec; u32 tv_usec; u16 captid; }` copied from memory
//!   with `memcpy`, i.e. in the sender's byte order, padded to 12 bytes. Every known sender ran
//!   on little-endian hosts, so the three fields are read little-endian. (Some receivers read
//!   them big-endian; with real captagent traffic they then see nonsense timestamps.)
//!
//! v1 has no timestamp (0) and no capture id (0). Neither version has a protocol type, since
//! they carried only SIP, so [`ProtoType::SIP`] is reported.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

use crate::error::HepError;
use crate::packet::{HepPacket, HepVersion, ProtoType};
use crate::reader::Reader;

/// Size of the v2 time header: two u32, a u16 and 2 bytes of struct padding.
pub const V2_TIME_HEADER_LEN: usize = 12;

pub(crate) fn decode_v12(buf: &[u8]) -> Result<HepPacket<'_>, HepError> {
    let mut r = Reader::new(buf);
    let version = r.u8().ok_or(HepError::Empty)?;
    let (hep_version, time_len) = match version {
        1 => (HepVersion::V1, 0),
        2 => (HepVersion::V2, V2_TIME_HEADER_LEN),
        first_byte => return Err(HepError::UnknownVersion { first_byte }),
    };
    let (hp_l, family) = match (r.u8(), r.u8()) {
        (Some(l), Some(f)) => (l, f),
        // Not even the family byte: report the smallest header this version can have.
        _ => {
            return Err(HepError::V12Truncated {
                version,
                have: buf.len(),
                need: 16 + time_len,
            })
        }
    };
    let addr_len = match family {
        2 => 4,
        10 => 16,
        _ => return Err(HepError::V12UnsupportedFamily { version, family }),
    };
    // hep_hdr (8) + two addresses: 16 or 40, always < 256.
    let base = 8 + 2 * addr_len;
    let base_u8 = base as u8;
    let accepted =
        usize::from(hp_l) == base || (time_len > 0 && usize::from(hp_l) == base + time_len);
    if !accepted {
        return Err(HepError::V12HeaderLength {
            version,
            family,
            hp_l,
            expected: base_u8,
        });
    }
    let need = base + time_len;
    if buf.len() < need {
        return Err(HepError::V12Truncated {
            version,
            have: buf.len(),
            need,
        });
    }
    let truncated = || HepError::V12Truncated {
        version,
        have: buf.len(),
        need,
    };
    let ip_proto = r.u8().ok_or_else(truncated)?;
    let src_port = r.u16_be().ok_or_else(truncated)?;
    let dst_port = r.u16_be().ok_or_else(truncated)?;
    let (src, dst): (IpAddr, IpAddr) = if addr_len == 4 {
        let s = r.ipv4().ok_or_else(truncated)?;
        (s.into(), r.ipv4().ok_or_else(truncated)?.into())
    } else {
        let s = r.ipv6().ok_or_else(truncated)?;
        (s.into(), r.ipv6().ok_or_else(truncated)?.into())
    };
    let mut pkt = HepPacket {
        version: hep_version,
        ip_proto,
        src: SocketAddr::new(src, src_port),
        dst: SocketAddr::new(dst, dst_port),
        proto_type: ProtoType::SIP,
        ..HepPacket::default()
    };
    if time_len > 0 {
        pkt.ts_secs = r.u32_le().ok_or_else(truncated)?;
        pkt.ts_micros = r.u32_le().ok_or_else(truncated)?;
        pkt.capture_id = u32::from(r.u16_le().ok_or_else(truncated)?);
        r.take(2).ok_or_else(truncated)?; // struct padding
    }
    pkt.payload = Cow::Borrowed(r.rest());
    Ok(pkt)
}

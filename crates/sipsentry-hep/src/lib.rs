//! Sans-IO codecs for how SIP reaches a monitor besides plain UDP/TCP: HEP (the Homer
//! Encapsulation Protocol, v1, v2 and v3/EEP) from capture agents, and WebSocket framing
//! (RFC 6455) for SIP over WebSocket (RFC 7118).
//!
//! Everything here works on byte slices handed in by the caller: no sockets, no clock, no
//! threads. Input is treated as hostile. Decoding goes through a checked [`Reader`]-style
//! cursor and never indexes with a length taken from the wire, so no input can make it panic
//! (property- and fuzz-tested); every length failure is a distinct [`HepError`] variant that
//! carries the numbers involved; and every buffer has a hard cap (64 KiB per HEP3 packet by
//! format, 64 KiB for an inflated compressed payload, [`DecodeLimits::max_chunks`] chunks,
//! [`framer::DEFAULT_FRAMER_BUFFER`] for a HEP stream, [`ws::WsLimits`] for WebSocket).
//!
//! * [`decode`] detects the version from the first bytes (`HEP3` → v3, `0x01`/`0x02` → v1/v2)
//!   and returns a [`HepPacket`] that borrows the payload from the input: decoding a normal
//!   SIP-carrying packet allocates nothing.
//! * [`HepPacket::encode_v3`] writes HEP3.
//! * [`HepStreamFramer`] cuts HEP3 packets out of a TCP stream and resynchronises after
//!   garbage.
//! * [`ws::WsDecoder`] turns one direction of a WebSocket connection (starting with its HTTP
//!   Upgrade handshake, or mid-stream) into messages, control frames and anomalies.
//!
//! The HEP3 authentication key is a secret: [`AuthKey`]'s `Debug` prints `<redacted>`.
//!
//! ```
//! use sipsentry_hep::{decode, HepVersion, ProtoType};
//!
//! // The worked example of the HEP3 specification (113 bytes).
//! let pkt: &[u8] = &[
//!     0x48, 0x45, 0x50, 0x33, 0x00, 0x71, 0x00, 0x00, 0x00, 0x01, 0x00, 0x07, 0x02,
//!     0x00, 0x00, 0x00, 0x02, 0x00, 0x07, 0x11,
//!     0x00, 0x00, 0x00, 0x03, 0x00, 0x0a, 0xd4, 0xca, 0x00, 0x01,
//!     0x00, 0x00, 0x00, 0x04, 0x00, 0x0a, 0x52, 0x74, 0x00, 0xd3,
//!     0x00, 0x00, 0x00, 0x07, 0x00, 0x08, 0x2e, 0xea,
//!     0x00, 0x00, 0x00, 0x08, 0x00, 0x08, 0x13, 0xc4,
//!     0x00, 0x00, 0x00, 0x09, 0x00, 0x0a, 0x4e, 0x49, 0x82, 0xcb,
//!     0x00, 0x00, 0x00, 0x0a, 0x00, 0x0a, 0x00, 0x01, 0xd4, 0xc0,
//!     0x00, 0x00, 0x00, 0x0b, 0x00, 0x07, 0x01,
//!     0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x00, 0x00, 0xe4,
//!     0x00, 0x00, 0x00, 0x0f, 0x00, 0x14, 0x49, 0x4e, 0x56, 0x49, 0x54, 0x45, 0x20, 0x73,
//!     0x69, 0x70, 0x3a, 0x62, 0x6f, 0x62,
//! ];
//! let hep = decode(pkt).unwrap();
//! assert_eq!(hep.version, HepVersion::V3);
//! assert_eq!(hep.src.to_string(), "212.202.0.1:12010");
//! assert_eq!(hep.proto_type, ProtoType::SIP);
//! assert_eq!(&*hep.payload, b"INVITE sip:bob");
//! assert_eq!(hep.to_v3_bytes().unwrap(), pkt);
//! ```
//!
//! [`Reader`]: https://docs.rs/rustls/latest/rustls/internal/msgs/codec/struct.Reader.html
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod chunk;
mod compress;
mod error;
pub mod framer;
mod fuzz;
mod packet;
mod reader;
mod v12;
mod v3;
pub mod ws;

pub use error::{DecompressError, EncodeError, HepError, RequiredChunk};
pub use framer::HepStreamFramer;
#[doc(hidden)]
pub use fuzz::{fuzz_hep, fuzz_ws};
pub use packet::{
    AuthKey, DecodeLimits, HepPacket, HepVersion, ProtoType, RawChunk, VendorChunk,
    DEFAULT_MAX_CHUNKS, DEFAULT_MAX_DECOMPRESSED,
};
pub use v12::V2_TIME_HEADER_LEN;
pub use v3::{HEP3_HEADER_LEN, HEP3_MAGIC, MAX_CHUNK_VALUE, MAX_HEP3_LEN};

/// Decode one HEP packet (v1, v2 or v3, detected from the first bytes) with default
/// [`DecodeLimits`].
///
/// The input must be exactly one packet (one UDP datagram, or one frame from
/// [`HepStreamFramer`]); for v3, bytes after the total length are an error.
pub fn decode(buf: &[u8]) -> Result<HepPacket<'_>, HepError> {
    decode_with(buf, &DecodeLimits::default())
}

/// [`decode`] with explicit caps.
pub fn decode_with<'a>(buf: &'a [u8], limits: &DecodeLimits) -> Result<HepPacket<'a>, HepError> {
    match buf.first() {
        None => Err(HepError::Empty),
        Some(1 | 2) => v12::decode_v12(buf),
        Some(&first_byte) => {
            let n = buf.len().min(HEP3_MAGIC.len());
            if buf.get(..n) != HEP3_MAGIC.get(..n) {
                Err(HepError::UnknownVersion { first_byte })
            } else if n < HEP3_MAGIC.len() {
                Err(HepError::V3HeaderTruncated { have: buf.len() })
            } else {
                v3::decode_v3(buf, limits)
            }
        }
    }
}

impl<'a> HepPacket<'a> {
    /// Same as [`decode`].
    pub fn decode(buf: &'a [u8]) -> Result<Self, HepError> {
        decode(buf)
    }
}

//! Error types. Every length failure carries the numbers that made it fail, so a log line says
//! *why* a packet was refused, not just that it was.

use crate::chunk::chunk_name;

/// A field a HEP3 packet must carry to be usable (to become a [`crate::HepPacket`]).
///
/// A HEP3 packet without addresses, ports or a payload is structurally valid but says nothing a
/// SIP monitor can act on; reporting *which* one is missing separates a broken agent from a
/// keep-alive or a vendor-only packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequiredChunk {
    /// `0x0001` IP protocol family.
    IpFamily,
    /// `0x0002` IP protocol id.
    IpProto,
    /// `0x0003` (IPv4) or `0x0005` (IPv6) source address.
    SrcAddr,
    /// `0x0004` (IPv4) or `0x0006` (IPv6) destination address.
    DstAddr,
    /// `0x0007` source port.
    SrcPort,
    /// `0x0008` destination port.
    DstPort,
    /// `0x000f` captured payload or `0x0010` compressed payload.
    Payload,
}

impl core::fmt::Display for RequiredChunk {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            RequiredChunk::IpFamily => "IP family (0x0001)",
            RequiredChunk::IpProto => "IP protocol id (0x0002)",
            RequiredChunk::SrcAddr => "source address (0x0003/0x0005)",
            RequiredChunk::DstAddr => "destination address (0x0004/0x0006)",
            RequiredChunk::SrcPort => "source port (0x0007)",
            RequiredChunk::DstPort => "destination port (0x0008)",
            RequiredChunk::Payload => "payload (0x000f/0x0010)",
        })
    }
}

/// Why a compressed payload chunk (`0x0010`) could not be inflated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecompressError {
    /// The payload inflates to more than the configured cap: a zip bomb, or a cap set too low.
    #[error("inflates to more than the {cap}-byte cap")]
    TooLarge {
        /// The cap that was exceeded ([`crate::DecodeLimits::max_decompressed`]).
        cap: usize,
    },
    /// The deflate data is invalid.
    #[error("corrupt deflate stream")]
    Corrupt,
    /// The deflate stream ends before its final block.
    #[error("deflate stream is truncated (no final block)")]
    Truncated,
    /// A gzip member header is malformed or cut short.
    #[error("malformed gzip header: {reason}")]
    GzipHeader {
        /// Which part of the header is wrong.
        reason: &'static str,
    },
    /// The gzip trailer (CRC-32 and size) is missing or does not match the inflated data.
    #[error("gzip trailer missing or CRC-32/size mismatch")]
    GzipTrailer,
}

/// Why bytes could not be decoded as a HEP packet.
///
/// Offsets are from the first byte of the packet (the `H` of `HEP3`). Chunk type ids are shown
/// in hex with their specification name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HepError {
    /// No bytes at all.
    #[error("empty input")]
    Empty,
    /// The input starts with neither `0x01`/`0x02` (HEP v1/v2) nor `HEP3`.
    #[error(
        "not HEP: input starts with neither 0x01, 0x02 nor \"HEP3\" (first byte {first_byte:#04x})"
    )]
    UnknownVersion {
        /// The byte found.
        first_byte: u8,
    },

    /// Fewer than the 6 bytes of `HEP3` + total length.
    #[error("HEP3 header truncated: {have} bytes, need 6 (\"HEP3\" + u16 total length)")]
    V3HeaderTruncated {
        /// Bytes available.
        have: usize,
    },
    /// The total length field is smaller than the header that contains it.
    #[error("HEP3 total length {total} is less than the 6-byte header it includes")]
    V3TotalLengthTooSmall {
        /// The declared total length.
        total: u16,
    },
    /// The total length field promises more bytes than the input has.
    #[error("HEP3 total length {total} overruns the {available} bytes available")]
    V3TotalLengthOverrun {
        /// The declared total length.
        total: u16,
        /// Bytes available.
        available: usize,
    },
    /// Bytes follow the end of the packet. HEP3 over UDP is one packet per datagram and the
    /// stream framer hands out exact packets, so extra bytes are smuggled or corrupt data.
    #[error("{} trailing bytes after the HEP3 total length {total} (input is {available} bytes)", available.saturating_sub(usize::from(*total)))]
    V3TrailingBytes {
        /// The declared total length.
        total: u16,
        /// Bytes available.
        available: usize,
    },

    /// Fewer than 6 bytes remain where a chunk header (vendor, type, length) must start.
    #[error("chunk header at offset {offset} truncated: {remaining} bytes left, need 6")]
    ChunkHeaderTruncated {
        /// Offset of the would-be chunk.
        offset: usize,
        /// Bytes left in the packet.
        remaining: usize,
    },
    /// A chunk length below 6 cannot cover its own header (0 would loop forever in a naive
    /// parser, which is why some collectors treat it as an attack).
    #[error("chunk {vendor:#06x}/{type_id:#06x} at offset {offset}: length {len} is less than its own 6-byte header")]
    ChunkLengthTooSmall {
        /// Offset of the chunk.
        offset: usize,
        /// Vendor id.
        vendor: u16,
        /// Type id.
        type_id: u16,
        /// The declared chunk length.
        len: u16,
    },
    /// A chunk length runs past the end of the packet (as set by the total length).
    #[error("chunk {vendor:#06x}/{type_id:#06x} at offset {offset}: length {len} overruns the packet, only {remaining} bytes left")]
    ChunkOverrun {
        /// Offset of the chunk.
        offset: usize,
        /// Vendor id.
        vendor: u16,
        /// Type id.
        type_id: u16,
        /// The declared chunk length.
        len: u16,
        /// Bytes left in the packet from the chunk's start.
        remaining: usize,
    },
    /// A fixed-size generic chunk has the wrong length (e.g. an IPv4 address chunk that is
    /// not 10 bytes).
    #[error("chunk {type_id:#06x} ({}) at offset {offset}: length {got}, must be {expected} (6-byte header + {} value bytes)", chunk_name(*type_id), expected.saturating_sub(6))]
    ChunkWrongSize {
        /// Offset of the chunk.
        offset: usize,
        /// Type id.
        type_id: u16,
        /// The length the specification fixes for this type.
        expected: u16,
        /// The declared chunk length.
        got: u16,
    },
    /// A typed generic chunk appears twice. Two payloads or two source addresses in one
    /// packet let different collectors see different things, so this is refused.
    #[error("chunk {type_id:#06x} ({}) repeated at offset {offset}", chunk_name(*type_id))]
    DuplicateChunk {
        /// Offset of the second occurrence.
        offset: usize,
        /// Type id.
        type_id: u16,
    },
    /// More chunks than [`crate::DecodeLimits::max_chunks`].
    #[error("more than {limit} chunks in one packet")]
    TooManyChunks {
        /// The limit.
        limit: usize,
    },
    /// A chunk needed for a usable packet is absent.
    #[error("missing mandatory chunk: {0}")]
    MissingChunk(RequiredChunk),
    /// The IP family chunk holds a value other than 2 (`AF_INET`) or 10 (`AF_INET6`).
    #[error("unsupported IP family {family} (expected 2 = IPv4 or 10 = IPv6)")]
    UnsupportedFamily {
        /// The family value.
        family: u8,
    },
    /// An address chunk of the other family is present (e.g. an IPv6 source in an IPv4
    /// packet).
    #[error("IP family {family} contradicts chunk {type_id:#06x} ({})", chunk_name(*type_id))]
    FamilyMismatch {
        /// The family value.
        family: u8,
        /// The contradicting address chunk.
        type_id: u16,
    },
    /// Both a plain (`0x000f`) and a compressed (`0x0010`) payload are present.
    #[error("both a captured payload (0x000f) and a compressed payload (0x0010) are present")]
    ConflictingPayloads,
    /// The compressed payload could not be inflated.
    #[error("compressed payload (0x0010): {0}")]
    Decompress(#[from] DecompressError),

    /// A HEP v1/v2 packet is shorter than its fixed header.
    #[error("HEP v{version} packet truncated: {have} bytes, fixed header needs {need}")]
    V12Truncated {
        /// 1 or 2.
        version: u8,
        /// Bytes available.
        have: usize,
        /// Bytes the fixed header needs.
        need: usize,
    },
    /// A HEP v1/v2 family byte other than 2 or 10.
    #[error("HEP v{version}: unsupported IP family {family} (expected 2 = IPv4 or 10 = IPv6)")]
    V12UnsupportedFamily {
        /// 1 or 2.
        version: u8,
        /// The family value.
        family: u8,
    },
    /// The HEP v1/v2 header-length byte does not match the family.
    #[error("HEP v{version}: header length byte {hp_l} does not match family {family} (expected {expected})")]
    V12HeaderLength {
        /// 1 or 2.
        version: u8,
        /// The family value.
        family: u8,
        /// The header length byte found.
        hp_l: u8,
        /// The value the family implies (for v2, the alternative including the 12-byte time
        /// header is accepted as well).
        expected: u8,
    },
}

/// Why a [`crate::HepPacket`] could not be encoded as HEP3.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The packet would exceed the 65535 bytes the u16 total length can describe.
    #[error("encoded HEP3 packet would be {len} bytes, the u16 total length allows 65535")]
    PacketTooLarge {
        /// The length it would have had.
        len: usize,
    },
    /// One chunk's value would exceed 65529 bytes (65535 minus the chunk header).
    #[error("chunk {type_id:#06x} ({}) value is {len} bytes, at most 65529 fit", chunk_name(*type_id))]
    ChunkTooLarge {
        /// Type id.
        type_id: u16,
        /// The value length.
        len: usize,
    },
    /// Source and destination are of different address families; HEP3 has one family chunk.
    #[error("source and destination addresses are of different IP families")]
    MixedAddressFamilies,
    /// An entry of [`crate::HepPacket::unknown_chunks`] uses a type id this crate decodes
    /// into a typed field, so it would be emitted twice.
    #[error("unknown-chunk list holds type {type_id:#06x} ({}), which is a typed field", chunk_name(*type_id))]
    UnknownChunkIsTyped {
        /// Type id.
        type_id: u16,
    },
}

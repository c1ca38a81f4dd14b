//! HEP3 generic chunk type ids (vendor `0x0000`), their names and fixed sizes, as listed in the
//! HEP3 Network Protocol Specification (sipcapture/hep, rev. 36/37).

/// `0x0001` IP protocol family, u8 (2 = IPv4, 10 = IPv6).
pub const IP_FAMILY: u16 = 0x0001;
/// `0x0002` IP protocol id, u8 (6 = TCP, 17 = UDP, ...).
pub const IP_PROTO: u16 = 0x0002;
/// `0x0003` IPv4 source address.
pub const IPV4_SRC: u16 = 0x0003;
/// `0x0004` IPv4 destination address.
pub const IPV4_DST: u16 = 0x0004;
/// `0x0005` IPv6 source address.
pub const IPV6_SRC: u16 = 0x0005;
/// `0x0006` IPv6 destination address.
pub const IPV6_DST: u16 = 0x0006;
/// `0x0007` source port, u16.
pub const SRC_PORT: u16 = 0x0007;
/// `0x0008` destination port, u16.
pub const DST_PORT: u16 = 0x0008;
/// `0x0009` timestamp, seconds since the Unix epoch, u32.
pub const TS_SECS: u16 = 0x0009;
/// `0x000a` timestamp microsecond offset, u32.
pub const TS_MICROS: u16 = 0x000a;
/// `0x000b` protocol type of the payload, u8 (1 = SIP, 5 = RTCP, 100 = log, ...).
pub const PROTO_TYPE: u16 = 0x000b;
/// `0x000c` capture agent id, u32.
pub const CAPTURE_ID: u16 = 0x000c;
/// `0x000d` keep-alive timer in seconds, u16.
pub const KEEP_ALIVE: u16 = 0x000d;
/// `0x000e` authentication key, octet string (a secret).
pub const AUTH_KEY: u16 = 0x000e;
/// `0x000f` captured payload, octet string.
pub const PAYLOAD: u16 = 0x000f;
/// `0x0010` compressed captured payload (zlib/gzip/deflate), octet string.
pub const COMPRESSED_PAYLOAD: u16 = 0x0010;
/// `0x0011` internal correlation id, octet string.
pub const CORRELATION_ID: u16 = 0x0011;
/// `0x0012` VLAN id, u16.
pub const VLAN: u16 = 0x0012;
/// `0x0013` group id, octet string.
pub const GROUP_ID: u16 = 0x0013;
/// `0x0014` source MAC, u64.
pub const SRC_MAC: u16 = 0x0014;
/// `0x0015` destination MAC, u64.
pub const DST_MAC: u16 = 0x0015;
/// `0x0016` Ethernet type, u16.
pub const ETH_TYPE: u16 = 0x0016;
/// `0x0017` TCP flags, u8.
pub const TCP_FLAGS: u16 = 0x0017;
/// `0x0018` IP TOS, u8.
pub const IP_TOS: u16 = 0x0018;
/// `0x0020` MOS value, u16.
pub const MOS: u16 = 0x0020;
/// `0x0021` R-factor, u16.
pub const R_FACTOR: u16 = 0x0021;
/// `0x0022` GEO location, octet string.
pub const GEO_LOCATION: u16 = 0x0022;
/// `0x0023` jitter, u32.
pub const JITTER: u16 = 0x0023;
/// `0x0024` transaction type, octet string.
pub const TRANSACTION_TYPE: u16 = 0x0024;
/// `0x0025` payload JSON keys, octet string.
pub const PAYLOAD_JSON_KEYS: u16 = 0x0025;
/// `0x0026` tags values, octet string.
pub const TAGS_VALUES: u16 = 0x0026;
/// `0x0027` tag type, u16.
pub const TAG_TYPE: u16 = 0x0027;

/// Size of a chunk header: vendor id, type id and length, u16 each.
pub const CHUNK_HEADER_LEN: usize = 6;

/// Specification name of a generic chunk type, or `"unknown"`.
pub fn chunk_name(type_id: u16) -> &'static str {
    match type_id {
        IP_FAMILY => "IP protocol family",
        IP_PROTO => "IP protocol id",
        IPV4_SRC => "IPv4 source address",
        IPV4_DST => "IPv4 destination address",
        IPV6_SRC => "IPv6 source address",
        IPV6_DST => "IPv6 destination address",
        SRC_PORT => "source port",
        DST_PORT => "destination port",
        TS_SECS => "timestamp seconds",
        TS_MICROS => "timestamp microsecond offset",
        PROTO_TYPE => "protocol type",
        CAPTURE_ID => "capture agent id",
        KEEP_ALIVE => "keep-alive timer",
        AUTH_KEY => "authentication key",
        PAYLOAD => "captured payload",
        COMPRESSED_PAYLOAD => "compressed payload",
        CORRELATION_ID => "internal correlation id",
        VLAN => "VLAN id",
        GROUP_ID => "group id",
        SRC_MAC => "source MAC",
        DST_MAC => "destination MAC",
        ETH_TYPE => "Ethernet type",
        TCP_FLAGS => "TCP flags",
        IP_TOS => "IP TOS",
        MOS => "MOS value",
        R_FACTOR => "R-factor",
        GEO_LOCATION => "GEO location",
        JITTER => "jitter",
        TRANSACTION_TYPE => "transaction type",
        PAYLOAD_JSON_KEYS => "payload JSON keys",
        TAGS_VALUES => "tags values",
        TAG_TYPE => "tag type",
        _ => "unknown",
    }
}

/// The value size (without the 6-byte header) the specification fixes for a generic type, or
/// `None` for octet strings and unknown types.
pub fn fixed_value_len(type_id: u16) -> Option<usize> {
    Some(match type_id {
        IP_FAMILY | IP_PROTO | PROTO_TYPE | TCP_FLAGS | IP_TOS => 1,
        SRC_PORT | DST_PORT | KEEP_ALIVE | VLAN | ETH_TYPE | MOS | R_FACTOR | TAG_TYPE => 2,
        IPV4_SRC | IPV4_DST | TS_SECS | TS_MICROS | CAPTURE_ID | JITTER => 4,
        SRC_MAC | DST_MAC => 8,
        IPV6_SRC | IPV6_DST => 16,
        _ => return None,
    })
}

/// True for the generic types this crate decodes into a typed [`crate::HepPacket`] field
/// (`0x0001..=0x0018` and `0x0020..=0x0027`); every other vendor-0 type is kept raw.
pub fn is_typed(type_id: u16) -> bool {
    matches!(type_id, 0x0001..=0x0018 | 0x0020..=0x0027)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_typed_chunk_has_a_name() {
        for t in 0u16..=0x30 {
            assert_eq!(is_typed(t), chunk_name(t) != "unknown", "type {t:#06x}");
        }
    }
}

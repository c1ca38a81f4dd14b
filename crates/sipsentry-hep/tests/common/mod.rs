//! Helpers shared by the integration tests: hand-built HEP3 chunks and a tiny pcap reader.
#![allow(dead_code)]

use std::path::PathBuf;

/// The worked example of the HEP3 specification: 113 bytes, IPv4/UDP
/// 212.202.0.1:12010 -> 82.116.0.211:5060, 1313440459.120000, SIP, capture id 228,
/// payload "INVITE sip:bob" (shortened in the document).
///
/// Copied, byte for byte, from sipcapture/hep-go `hep_test.go` (commit
/// 4b82a43d2564fd81b51099515e7f0a02a67afd65, "Parsing sample HEP3 message from spec..."),
/// whose per-line comments are the specification's annotations; the identical bytes are in
/// fenollp/hep (Erlang) `test/hep_v3_tests.erl` (commit 2423f6a3..., annotated "total length
/// = 113 octets", "SIP payload “INVITE sip:bob” (shortened)"). Not reconstructed here.
pub const SPEC_EXAMPLE: [u8; 113] = [
    0x48, 0x45, 0x50, 0x33, // "HEP3"
    0x00, 0x71, // total length = 113 octets
    0x00, 0x00, 0x00, 0x01, 0x00, 0x07, 0x02, // protocol family = 2 (IPv4)
    0x00, 0x00, 0x00, 0x02, 0x00, 0x07, 0x11, // protocol ID = 17 (UDP)
    0x00, 0x00, 0x00, 0x03, 0x00, 0x0a, 0xd4, 0xca, 0x00, 0x01, // IPv4 src = 212.202.0.1
    0x00, 0x00, 0x00, 0x04, 0x00, 0x0a, 0x52, 0x74, 0x00, 0xd3, // IPv4 dst = 82.116.0.211
    0x00, 0x00, 0x00, 0x07, 0x00, 0x08, 0x2e, 0xea, // source port = 12010
    0x00, 0x00, 0x00, 0x08, 0x00, 0x08, 0x13, 0xc4, // destination port = 5060
    0x00, 0x00, 0x00, 0x09, 0x00, 0x0a, 0x4e, 0x49, 0x82, 0xcb, // seconds = 1313440459
    0x00, 0x00, 0x00, 0x0a, 0x00, 0x0a, 0x00, 0x01, 0xd4, 0xc0, // micro-seconds = 120000
    0x00, 0x00, 0x00, 0x0b, 0x00, 0x07, 0x01, // 01 - SIP
    0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x00, 0x00, 0xe4, // capture ID (228)
    0x00, 0x00, 0x00, 0x0f, 0x00, 0x14, 0x49, 0x4e, 0x56, 0x49, 0x54, 0x45, 0x20, 0x73, 0x69, 0x70,
    0x3a, 0x62, 0x6f, 0x62, // SIP payload "INVITE sip:bob" (shortened)
];

/// One chunk: vendor, type, length (value + 6), value.
pub fn chunk_v(vendor: u16, type_id: u16, value: &[u8]) -> Vec<u8> {
    let mut c = Vec::new();
    c.extend_from_slice(&vendor.to_be_bytes());
    c.extend_from_slice(&type_id.to_be_bytes());
    c.extend_from_slice(&((value.len() + 6) as u16).to_be_bytes());
    c.extend_from_slice(value);
    c
}

/// A generic (vendor 0) chunk.
pub fn chunk(type_id: u16, value: &[u8]) -> Vec<u8> {
    chunk_v(0, type_id, value)
}

/// `HEP3` + correct total length + the chunks.
pub fn hep3(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = chunks.concat();
    let mut p = b"HEP3".to_vec();
    p.extend_from_slice(&((body.len() + 6) as u16).to_be_bytes());
    p.extend_from_slice(&body);
    p
}

/// The mandatory chunks of a usable IPv4/UDP packet, without the payload.
pub fn base_chunks() -> Vec<Vec<u8>> {
    vec![
        chunk(0x0001, &[2]),
        chunk(0x0002, &[17]),
        chunk(0x0003, &[192, 0, 2, 1]),
        chunk(0x0004, &[192, 0, 2, 2]),
        chunk(0x0007, &5060u16.to_be_bytes()),
        chunk(0x0008, &5080u16.to_be_bytes()),
    ]
}

/// `base_chunks` + the given extra chunks + a payload chunk.
pub fn packet_with(extra: &[Vec<u8>], payload: &[u8]) -> Vec<u8> {
    let mut c = base_chunks();
    c.extend_from_slice(extra);
    c.push(chunk(0x000f, payload));
    hep3(&c)
}

/// Path of a file under the workspace's `tests/vectors/pcaps/`.
pub fn pcap_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors/pcaps")
        .join(name)
}

/// One IPv4 packet of an Ethernet pcap.
#[derive(Debug, Clone)]
pub struct Ipv4Packet {
    pub proto: u8,
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub src_port: u16,
    pub dst_port: u16,
    /// TCP sequence number (0 for UDP).
    pub seq: u32,
    /// UDP or TCP payload.
    pub payload: Vec<u8>,
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Minimal classic-pcap reader for the test vectors: little-endian microsecond pcap, link type
/// Ethernet, IPv4 only (24-byte global header, 16-byte record headers, 14-byte Ethernet
/// header, IHL-sized IPv4 header, then UDP (8 bytes) or TCP (data offset)).
pub fn read_pcap_ipv4(data: &[u8]) -> Vec<Ipv4Packet> {
    assert!(data.len() >= 24, "pcap global header");
    assert_eq!(
        &data[..4],
        &[0xd4, 0xc3, 0xb2, 0xa1],
        "little-endian µs pcap"
    );
    assert_eq!(
        u32::from_le_bytes(data[20..24].try_into().unwrap()),
        1,
        "link type Ethernet"
    );
    let mut out = Vec::new();
    let mut off = 24;
    while off + 16 <= data.len() {
        let incl = u32::from_le_bytes(data[off + 8..off + 12].try_into().unwrap()) as usize;
        let frame = &data[off + 16..off + 16 + incl];
        off += 16 + incl;
        if frame.len() < 14 || be16(frame, 12) != 0x0800 {
            continue;
        }
        let ip = &frame[14..];
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let total = usize::from(be16(ip, 2)).min(ip.len());
        let proto = ip[9];
        let l4 = &ip[ihl..total];
        let (seq, payload) = match proto {
            17 => (0, l4[8..usize::from(be16(l4, 4))].to_vec()),
            6 => {
                let doff = usize::from(l4[12] >> 4) * 4;
                (
                    u32::from_be_bytes(l4[4..8].try_into().unwrap()),
                    l4[doff..].to_vec(),
                )
            }
            _ => continue,
        };
        out.push(Ipv4Packet {
            proto,
            src: ip[12..16].try_into().unwrap(),
            dst: ip[16..20].try_into().unwrap(),
            src_port: be16(l4, 0),
            dst_port: be16(l4, 2),
            seq,
            payload,
        });
    }
    out
}

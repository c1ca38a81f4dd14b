//! HEP3: the specification's worked example, every chunk type, and every way a length can be
//! wrong.

mod common;

use std::borrow::Cow;
use std::io::Write;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use common::*;
use flate2::write::{GzEncoder, ZlibEncoder};
use flate2::Compression;
use sipsentry_hep::{
    chunk, decode, decode_with, AuthKey, DecodeLimits, DecompressError, EncodeError, HepError,
    HepPacket, HepVersion, ProtoType, RawChunk, RequiredChunk, VendorChunk,
};

// ---------------------------------------------------------------------------------------
// The specification example (bytes from sipcapture/hep-go, see `common::SPEC_EXAMPLE`).

#[test]
fn spec_example_decodes_to_the_documented_fields() {
    let p = decode(&SPEC_EXAMPLE).expect("the spec example must decode");
    assert_eq!(p.version, HepVersion::V3);
    assert_eq!(p.family(), 2);
    assert_eq!(p.ip_proto, 17);
    assert_eq!(p.src, "212.202.0.1:12010".parse::<SocketAddr>().unwrap());
    assert_eq!(p.dst, "82.116.0.211:5060".parse::<SocketAddr>().unwrap());
    assert_eq!(p.ts_secs, 1_313_440_459); // Mon Aug 15 2011 20:34:19 UTC
    assert_eq!(p.ts_micros, 120_000);
    assert_eq!(p.ts_nanos(), 1_313_440_459_120_000_000);
    assert_eq!(p.proto_type, ProtoType::SIP);
    assert_eq!(p.capture_id, 228);
    assert_eq!(&*p.payload, b"INVITE sip:bob");
    assert!(matches!(p.payload, Cow::Borrowed(_)), "payload must borrow");
    assert!(!p.payload_compressed);
    assert!(p.auth_key.is_none() && p.correlation_id.is_none());
    assert!(p.unknown_chunks.is_empty() && p.vendor_chunks.is_empty());
}

#[test]
fn spec_example_reencodes_byte_for_byte() {
    let p = decode(&SPEC_EXAMPLE).unwrap();
    let mut out = b"prefix".to_vec();
    let n = p.encode_v3(&mut out).unwrap();
    assert_eq!(n, 113);
    assert_eq!(&out[..6], b"prefix", "encode_v3 appends");
    assert_eq!(&out[6..], &SPEC_EXAMPLE[..]);
}

#[test]
fn spec_example_built_from_fields_encodes_to_the_spec_bytes() {
    let mut p = HepPacket::new(
        "212.202.0.1:12010".parse().unwrap(),
        "82.116.0.211:5060".parse().unwrap(),
        &b"INVITE sip:bob"[..],
    );
    p.ts_secs = 1_313_440_459;
    p.ts_micros = 120_000;
    p.capture_id = 228;
    assert_eq!(p.to_v3_bytes().unwrap(), SPEC_EXAMPLE);
}

// ---------------------------------------------------------------------------------------
// Every chunk type.

/// A packet with every typed field set, IPv4 or IPv6.
fn full_packet(v6: bool) -> HepPacket<'static> {
    let (src, dst): (SocketAddr, SocketAddr) = if v6 {
        (
            SocketAddr::new(
                IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
                5060,
            ),
            SocketAddr::new(
                IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)),
                5062,
            ),
        )
    } else {
        (
            "10.0.0.1:5060".parse().unwrap(),
            "10.0.0.2:5062".parse().unwrap(),
        )
    };
    let mut p = HepPacket::new(src, dst, b"OPTIONS sip:x SIP/2.0\r\n\r\n".to_vec());
    p.ip_proto = 6;
    p.ts_secs = 1_700_000_000;
    p.ts_micros = 999_999;
    p.proto_type = ProtoType::LOG;
    p.capture_id = 0xdead_beef;
    p.keep_alive = Some(30);
    p.auth_key = Some(AuthKey::new(b"s3cret-key".to_vec()));
    p.correlation_id = Some(Cow::Owned(b"abc@host".to_vec()));
    p.vlan = Some(100);
    p.group_id = Some(Cow::Owned(b"edge-1".to_vec()));
    p.src_mac = Some(0x0000_0011_2233_4455);
    p.dst_mac = Some(0x0000_6677_8899_aabb);
    p.eth_type = Some(0x0800);
    p.tcp_flags = Some(0x18);
    p.ip_tos = Some(0xb8);
    p.mos = Some(432);
    p.r_factor = Some(93);
    p.geo_location = Some(Cow::Owned(b"52.52,13.40".to_vec()));
    p.jitter = Some(12_345);
    p.transaction_type = Some(Cow::Owned(b"call".to_vec()));
    p.payload_json_keys = Some(Cow::Owned(b"[\"a\"]".to_vec()));
    p.tags_values = Some(Cow::Owned(b"k=v".to_vec()));
    p.tag_type = Some(7);
    p.unknown_chunks = vec![
        RawChunk {
            type_id: 0x001c,
            value: Cow::Owned(vec![1, 2, 3]),
        },
        RawChunk {
            type_id: 0x0100,
            value: Cow::Owned(vec![]),
        },
        RawChunk {
            type_id: 0x0000,
            value: Cow::Owned(b"zero".to_vec()),
        },
    ];
    p
}

#[test]
fn every_chunk_type_round_trips_ipv4_and_ipv6() {
    for v6 in [false, true] {
        let p = full_packet(v6);
        let bytes = p.to_v3_bytes().unwrap();
        let q = decode(&bytes).unwrap();
        assert_eq!(q, p, "v6={v6}");
        assert_eq!(q.to_v3_bytes().unwrap(), bytes, "fixed point, v6={v6}");
        // Every typed chunk appears exactly once, in ascending order, payload last.
        let mut types = Vec::new();
        let mut off = 6;
        while off < bytes.len() {
            types.push(u16::from_be_bytes([bytes[off + 2], bytes[off + 3]]));
            off += usize::from(u16::from_be_bytes([bytes[off + 4], bytes[off + 5]]));
        }
        assert_eq!(off, bytes.len());
        let typed: Vec<u16> = types
            .iter()
            .copied()
            .filter(|t| chunk::is_typed(*t))
            .collect();
        let (body, last) = typed.split_at(typed.len() - 1);
        assert_eq!(last, [chunk::PAYLOAD]);
        assert!(body.windows(2).all(|w| w[0] < w[1]), "{body:x?}");
        let addr = if v6 { [5, 6] } else { [3, 4] };
        let expected: Vec<u16> = (1u16..=0x18)
            .chain(0x20..=0x27)
            .filter(|t| ![3, 4, 5, 6].contains(t) || addr.contains(t))
            .filter(|&t| t != chunk::PAYLOAD && t != chunk::COMPRESSED_PAYLOAD)
            .collect();
        assert_eq!(body, expected.as_slice());
        // Unknown chunks keep their list order, after the typed ones, before the payload.
        assert_eq!(
            &types[types.len() - 4..types.len() - 1],
            &[0x001c, 0x0100, 0x0000]
        );
    }
}

#[test]
fn each_fixed_size_chunk_decodes_individually() {
    // (type, value, check)
    type Check = fn(&HepPacket<'_>) -> bool;
    let cases: Vec<(u16, Vec<u8>, Check)> = vec![
        (0x0009, 7u32.to_be_bytes().to_vec(), |p| p.ts_secs == 7),
        (0x000a, 8u32.to_be_bytes().to_vec(), |p| p.ts_micros == 8),
        (0x000b, vec![5], |p| p.proto_type == ProtoType::RTCP),
        (0x000c, 9u32.to_be_bytes().to_vec(), |p| p.capture_id == 9),
        (0x000d, 10u16.to_be_bytes().to_vec(), |p| {
            p.keep_alive == Some(10)
        }),
        (0x000e, b"pw".to_vec(), |p| {
            p.auth_key.as_ref().unwrap().expose() == b"pw"
        }),
        (0x0011, b"cid".to_vec(), |p| {
            p.correlation_id.as_deref() == Some(&b"cid"[..])
        }),
        (0x0012, 11u16.to_be_bytes().to_vec(), |p| p.vlan == Some(11)),
        (0x0013, b"g".to_vec(), |p| {
            p.group_id.as_deref() == Some(&b"g"[..])
        }),
        (0x0014, 12u64.to_be_bytes().to_vec(), |p| {
            p.src_mac == Some(12)
        }),
        (0x0015, 13u64.to_be_bytes().to_vec(), |p| {
            p.dst_mac == Some(13)
        }),
        (0x0016, 0x86ddu16.to_be_bytes().to_vec(), |p| {
            p.eth_type == Some(0x86dd)
        }),
        (0x0017, vec![2], |p| p.tcp_flags == Some(2)),
        (0x0018, vec![3], |p| p.ip_tos == Some(3)),
        (0x0020, 400u16.to_be_bytes().to_vec(), |p| {
            p.mos == Some(400)
        }),
        (0x0021, 90u16.to_be_bytes().to_vec(), |p| {
            p.r_factor == Some(90)
        }),
        (0x0022, b"geo".to_vec(), |p| {
            p.geo_location.as_deref() == Some(&b"geo"[..])
        }),
        (0x0023, 14u32.to_be_bytes().to_vec(), |p| {
            p.jitter == Some(14)
        }),
        (0x0024, b"tt".to_vec(), |p| {
            p.transaction_type.as_deref() == Some(&b"tt"[..])
        }),
        (0x0025, b"{}".to_vec(), |p| {
            p.payload_json_keys.as_deref() == Some(&b"{}"[..])
        }),
        (0x0026, b"tv".to_vec(), |p| {
            p.tags_values.as_deref() == Some(&b"tv"[..])
        }),
        (0x0027, 15u16.to_be_bytes().to_vec(), |p| {
            p.tag_type == Some(15)
        }),
    ];
    for (t, value, check) in cases {
        let bytes = packet_with(&[chunk(t, &value)], b"x");
        let p = decode(&bytes).unwrap_or_else(|e| panic!("type {t:#06x}: {e}"));
        assert!(check(&p), "type {t:#06x}: {p:?}");
        let re = p.to_v3_bytes().unwrap();
        let again = decode(&re).unwrap();
        assert_eq!(again, p, "type {t:#06x}");
    }
}

#[test]
fn unknown_generic_chunks_are_kept_raw() {
    let bytes = packet_with(&[chunk(0x0019, b"a"), chunk(0x4242, b"bcd")], b"x");
    let p = decode(&bytes).unwrap();
    assert_eq!(
        p.unknown_chunks,
        vec![
            RawChunk {
                type_id: 0x0019,
                value: Cow::Borrowed(&b"a"[..])
            },
            RawChunk {
                type_id: 0x4242,
                value: Cow::Borrowed(&b"bcd"[..])
            },
        ]
    );
    // Unknown types may repeat.
    let bytes = packet_with(&[chunk(0x0030, b"1"), chunk(0x0030, b"2")], b"x");
    assert_eq!(decode(&bytes).unwrap().unknown_chunks.len(), 2);
}

#[test]
fn vendor_chunks_are_skipped_and_listed() {
    let bytes = packet_with(
        &[
            chunk_v(0x0008, 0x0080, b"conversation-1"),
            chunk_v(0x0003, 0x000f, b"not a payload"), // vendor type ids do not collide
            chunk_v(0xffff, 0x0001, b""),
        ],
        b"REGISTER sip:x SIP/2.0\r\n\r\n",
    );
    let p = decode(&bytes).unwrap();
    assert_eq!(&*p.payload, b"REGISTER sip:x SIP/2.0\r\n\r\n");
    assert_eq!(p.family(), 2);
    assert_eq!(
        p.vendor_chunks,
        vec![
            VendorChunk {
                vendor: 8,
                type_id: 0x80,
                len: 20
            },
            VendorChunk {
                vendor: 3,
                type_id: 0x0f,
                len: 19
            },
            VendorChunk {
                vendor: 0xffff,
                type_id: 1,
                len: 6
            },
        ]
    );
    // Re-encoding drops them (only a summary was kept).
    let re = p.to_v3_bytes().unwrap();
    let q = decode(&re).unwrap();
    assert!(q.vendor_chunks.is_empty());
    assert_eq!(q.payload, p.payload);
}

#[test]
fn auth_key_is_redacted_in_debug() {
    let p = full_packet(false);
    let dbg = format!("{p:?}");
    assert!(!dbg.contains("s3cret"), "{dbg}");
    assert!(dbg.contains("AuthKey(<redacted>)"), "{dbg}");
    assert!(dbg.contains("OPTIONS sip:x"), "{dbg}");
    let bytes = p.to_v3_bytes().unwrap();
    let q = decode(&bytes).unwrap();
    assert!(!format!("{q:?}").contains("s3cret"));
    assert!(!format!("{:?}", q.auth_key).contains("s3cret"));
    assert_eq!(q.auth_key.unwrap().expose(), b"s3cret-key");
}

// ---------------------------------------------------------------------------------------
// Compressed payloads.

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn compressed_payload_zlib_and_gzip() {
    let sip = b"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n".repeat(20);
    let mut g = GzEncoder::new(Vec::new(), Compression::best());
    g.write_all(&sip).unwrap();
    for z in [zlib(&sip), g.finish().unwrap()] {
        let mut c = base_chunks();
        c.push(chunk(0x0010, &z));
        let bytes = hep3(&c);
        let p = decode(&bytes).unwrap();
        assert!(p.payload_compressed);
        assert!(matches!(p.payload, Cow::Owned(_)));
        assert_eq!(&*p.payload, &sip[..]);
        // Re-encoding compresses again and round-trips.
        let re = p.to_v3_bytes().unwrap();
        let q = decode(&re).unwrap();
        assert_eq!(q, p);
    }
}

#[test]
fn compressed_payload_bomb_is_refused() {
    // 10 MiB of zeros deflate to about 10 KB: far past the 64 KiB cap.
    let bomb = zlib(&vec![0u8; 10 << 20]);
    assert!(bomb.len() < 60_000, "{}", bomb.len());
    let mut c = base_chunks();
    c.push(chunk(0x0010, &bomb));
    let bytes = hep3(&c);
    assert_eq!(
        decode(&bytes),
        Err(HepError::Decompress(DecompressError::TooLarge {
            cap: 64 * 1024
        }))
    );
    // Exactly at the cap is fine, one byte over is not.
    let mut c = base_chunks();
    c.push(chunk(0x0010, &zlib(&vec![b'a'; 64 * 1024])));
    assert_eq!(decode(&hep3(&c)).unwrap().payload.len(), 64 * 1024);
    let mut c = base_chunks();
    c.push(chunk(0x0010, &zlib(&vec![b'a'; 64 * 1024 + 1])));
    assert!(matches!(
        decode(&hep3(&c)),
        Err(HepError::Decompress(DecompressError::TooLarge { .. }))
    ));
    // A caller can lower the cap.
    let limits = DecodeLimits {
        max_decompressed: 100,
        ..DecodeLimits::default()
    };
    let mut c = base_chunks();
    c.push(chunk(0x0010, &zlib(&[b'b'; 101])));
    assert_eq!(
        decode_with(&hep3(&c), &limits),
        Err(HepError::Decompress(DecompressError::TooLarge { cap: 100 }))
    );
}

#[test]
fn corrupt_and_truncated_compressed_payloads() {
    let z = zlib(b"hello hello hello hello");
    let mut c = base_chunks();
    c.push(chunk(0x0010, &z[..z.len() - 6]));
    assert_eq!(
        decode(&hep3(&c)),
        Err(HepError::Decompress(DecompressError::Truncated))
    );
    let mut c = base_chunks();
    c.push(chunk(0x0010, &[0xff; 16]));
    assert!(matches!(decode(&hep3(&c)), Err(HepError::Decompress(_))));
}

// ---------------------------------------------------------------------------------------
// Malformed packets: one test per failure mode, each asserting the exact error.

#[test]
fn header_failures() {
    assert_eq!(decode(b""), Err(HepError::Empty));
    assert_eq!(decode(b"HEP"), Err(HepError::V3HeaderTruncated { have: 3 }));
    assert_eq!(
        decode(b"HEP3\x00"),
        Err(HepError::V3HeaderTruncated { have: 5 })
    );
    assert_eq!(
        decode(b"HEX3\x00\x06"),
        Err(HepError::UnknownVersion { first_byte: b'H' })
    );
    assert_eq!(
        decode(b"\x03abc"),
        Err(HepError::UnknownVersion { first_byte: 3 })
    );
    assert_eq!(
        decode(b"HEP3\x00\x06"),
        Err(HepError::MissingChunk(RequiredChunk::IpFamily))
    );
}

#[test]
fn total_length_below_header() {
    for total in 0u16..6 {
        let mut p = SPEC_EXAMPLE.to_vec();
        p[4..6].copy_from_slice(&total.to_be_bytes());
        assert_eq!(decode(&p), Err(HepError::V3TotalLengthTooSmall { total }));
    }
}

#[test]
fn overlong_total_length() {
    let mut p = SPEC_EXAMPLE.to_vec();
    p[4..6].copy_from_slice(&114u16.to_be_bytes());
    assert_eq!(
        decode(&p),
        Err(HepError::V3TotalLengthOverrun {
            total: 114,
            available: 113
        })
    );
    p[4..6].copy_from_slice(&u16::MAX.to_be_bytes());
    assert_eq!(
        decode(&p),
        Err(HepError::V3TotalLengthOverrun {
            total: 65535,
            available: 113
        })
    );
    // A packet cut short in transit looks the same.
    assert_eq!(
        decode(&SPEC_EXAMPLE[..100]),
        Err(HepError::V3TotalLengthOverrun {
            total: 113,
            available: 100
        })
    );
}

#[test]
fn trailing_bytes_after_total_length() {
    let mut p = SPEC_EXAMPLE.to_vec();
    p.extend_from_slice(b"smuggled");
    let e = decode(&p).unwrap_err();
    assert_eq!(
        e,
        HepError::V3TrailingBytes {
            total: 113,
            available: 121
        }
    );
    assert!(e.to_string().starts_with("8 trailing bytes"), "{e}");
}

#[test]
fn total_length_that_cuts_a_chunk_header() {
    // Total length ends 3 bytes into the payload chunk's header.
    let mut p = SPEC_EXAMPLE[..96].to_vec();
    p[4..6].copy_from_slice(&96u16.to_be_bytes());
    assert_eq!(
        decode(&p),
        Err(HepError::ChunkHeaderTruncated {
            offset: 93,
            remaining: 3
        })
    );
}

#[test]
fn truncated_chunk() {
    // Total length ends inside the payload chunk's value.
    let mut p = SPEC_EXAMPLE[..105].to_vec();
    p[4..6].copy_from_slice(&105u16.to_be_bytes());
    assert_eq!(
        decode(&p),
        Err(HepError::ChunkOverrun {
            offset: 93,
            vendor: 0,
            type_id: 0x000f,
            len: 20,
            remaining: 12
        })
    );
}

#[test]
fn chunk_length_overrunning_the_packet() {
    let mut p = SPEC_EXAMPLE.to_vec();
    p[10..12].copy_from_slice(&8u16.to_be_bytes()); // family chunk claims one byte more
    let e = decode(&p).unwrap_err();
    assert!(
        matches!(
            e,
            HepError::ChunkWrongSize {
                offset: 6,
                type_id: 1,
                expected: 7,
                got: 8
            }
        ),
        "{e:?}"
    );
    // On the last chunk the same mistake overruns the packet.
    let mut p = SPEC_EXAMPLE.to_vec();
    p[97..99].copy_from_slice(&21u16.to_be_bytes());
    assert_eq!(
        decode(&p),
        Err(HepError::ChunkOverrun {
            offset: 93,
            vendor: 0,
            type_id: 0x000f,
            len: 21,
            remaining: 20
        })
    );
}

#[test]
fn zero_and_short_chunk_lengths() {
    for len in 0u16..6 {
        let mut p = SPEC_EXAMPLE.to_vec();
        p[10..12].copy_from_slice(&len.to_be_bytes());
        assert_eq!(
            decode(&p),
            Err(HepError::ChunkLengthTooSmall {
                offset: 6,
                vendor: 0,
                type_id: 1,
                len
            }),
            "len {len}"
        );
    }
}

#[test]
fn wrong_fixed_sizes() {
    let cases: &[(u16, usize, u16)] = &[
        (0x0001, 2, 7),
        (0x0002, 0, 7),
        (0x0003, 16, 10), // an IPv6-sized value in the IPv4 chunk
        (0x0004, 3, 10),
        (0x0005, 4, 22),
        (0x0007, 4, 8),
        (0x0009, 8, 10),
        (0x000c, 2, 10), // a 16-bit capture id (old agents) is refused, not guessed at
        (0x0014, 6, 14), // a 6-byte MAC: the spec says u64
        (0x0023, 2, 10),
    ];
    for &(t, n, expected) in cases {
        let mut c = vec![chunk(t, &vec![0; n])];
        c.extend(
            base_chunks()
                .into_iter()
                .filter(|b| u16::from_be_bytes([b[2], b[3]]) != t),
        );
        c.push(chunk(0x000f, b"x"));
        let got = u16::try_from(n + 6).unwrap();
        let e = decode(&hep3(&c)).unwrap_err();
        assert_eq!(
            e,
            HepError::ChunkWrongSize {
                offset: 6,
                type_id: t,
                expected,
                got
            },
            "type {t:#06x}"
        );
        assert!(e.to_string().contains(chunk::chunk_name(t)), "{e}");
    }
}

#[test]
fn duplicate_typed_chunks_are_refused() {
    let bytes = packet_with(&[], b"a");
    let mut twice = bytes.clone();
    twice.extend_from_slice(&chunk(0x000f, b"b"));
    let n = twice.len() as u16;
    twice[4..6].copy_from_slice(&n.to_be_bytes());
    assert_eq!(
        decode(&twice),
        Err(HepError::DuplicateChunk {
            offset: bytes.len(),
            type_id: 0x000f
        })
    );
    let bytes = packet_with(&[chunk(0x0003, &[1, 1, 1, 1])], b"a");
    assert!(matches!(
        decode(&bytes),
        Err(HepError::DuplicateChunk { type_id: 3, .. })
    ));
}

#[test]
fn missing_mandatory_chunks_are_reported_distinctly() {
    let all = {
        let mut c = base_chunks();
        c.push(chunk(0x000f, b"x"));
        c
    };
    let cases = [
        (0x0001, RequiredChunk::IpFamily),
        (0x0002, RequiredChunk::IpProto),
        (0x0003, RequiredChunk::SrcAddr),
        (0x0004, RequiredChunk::DstAddr),
        (0x0007, RequiredChunk::SrcPort),
        (0x0008, RequiredChunk::DstPort),
        (0x000f, RequiredChunk::Payload),
    ];
    for (t, which) in cases {
        let c: Vec<Vec<u8>> = all
            .iter()
            .filter(|b| u16::from_be_bytes([b[2], b[3]]) != t)
            .cloned()
            .collect();
        let e = decode(&hep3(&c)).unwrap_err();
        assert_eq!(e, HepError::MissingChunk(which));
        assert!(e.to_string().contains(&format!("{t:#06x}")), "{e}");
    }
}

#[test]
fn family_problems() {
    let mut c = base_chunks();
    c[0] = chunk(0x0001, &[7]);
    c.push(chunk(0x000f, b"x"));
    assert_eq!(
        decode(&hep3(&c)),
        Err(HepError::UnsupportedFamily { family: 7 })
    );

    let mut c = base_chunks();
    c.push(chunk(0x0005, &[0; 16]));
    c.push(chunk(0x000f, b"x"));
    assert_eq!(
        decode(&hep3(&c)),
        Err(HepError::FamilyMismatch {
            family: 2,
            type_id: 5
        })
    );

    // Family 10 with only IPv4 addresses.
    let mut c = base_chunks();
    c[0] = chunk(0x0001, &[10]);
    c.push(chunk(0x000f, b"x"));
    assert_eq!(
        decode(&hep3(&c)),
        Err(HepError::FamilyMismatch {
            family: 10,
            type_id: 3
        })
    );
}

#[test]
fn both_payload_kinds_are_refused() {
    let bytes = packet_with(&[chunk(0x0010, &zlib(b"other"))], b"x");
    assert_eq!(decode(&bytes), Err(HepError::ConflictingPayloads));
}

#[test]
fn empty_payload_is_allowed() {
    let bytes = packet_with(&[], b"");
    let p = decode(&bytes).unwrap();
    assert!(p.payload.is_empty());
}

#[test]
fn too_many_chunks() {
    let extra: Vec<Vec<u8>> = (0..600).map(|_| chunk_v(9, 9, b"")).collect();
    let bytes = packet_with(&extra, b"x");
    assert_eq!(decode(&bytes), Err(HepError::TooManyChunks { limit: 512 }));
    let limits = DecodeLimits {
        max_chunks: 1000,
        ..DecodeLimits::default()
    };
    assert_eq!(
        decode_with(&bytes, &limits).unwrap().vendor_chunks.len(),
        600
    );
}

#[test]
fn errors_explain_themselves() {
    let e = HepError::ChunkWrongSize {
        offset: 20,
        type_id: 3,
        expected: 10,
        got: 22,
    };
    assert_eq!(
        e.to_string(),
        "chunk 0x0003 (IPv4 source address) at offset 20: length 22, must be 10 \
         (6-byte header + 4 value bytes)"
    );
    let e = HepError::V3TotalLengthOverrun {
        total: 500,
        available: 100,
    };
    assert_eq!(
        e.to_string(),
        "HEP3 total length 500 overruns the 100 bytes available"
    );
}

// ---------------------------------------------------------------------------------------
// Encoder limits.

#[test]
fn encoder_refuses_what_cannot_be_represented() {
    let mut p = HepPacket::new(
        "10.0.0.1:1".parse().unwrap(),
        "[::1]:2".parse().unwrap(),
        &b""[..],
    );
    let mut out = vec![1, 2, 3];
    assert_eq!(
        p.encode_v3(&mut out),
        Err(EncodeError::MixedAddressFamilies)
    );
    assert_eq!(out, [1, 2, 3], "nothing appended on error");

    p.dst = "10.0.0.2:2".parse().unwrap();
    p.payload = Cow::Owned(vec![0; 65_530]);
    assert_eq!(
        p.encode_v3(&mut out),
        Err(EncodeError::ChunkTooLarge {
            type_id: 0x000f,
            len: 65_530
        })
    );
    p.payload = Cow::Owned(vec![0; 65_500]);
    assert!(matches!(
        p.encode_v3(&mut out),
        Err(EncodeError::PacketTooLarge { .. })
    ));
    assert_eq!(out, [1, 2, 3]);

    // The largest payload that fits with the always-written chunks.
    let mut empty = p.clone();
    empty.payload = Cow::Borrowed(b"");
    let overhead = empty.to_v3_bytes().unwrap().len();
    let max = 65_535 - overhead;
    p.payload = Cow::Owned(vec![b'z'; max]);
    let bytes = p.to_v3_bytes().unwrap();
    assert_eq!(bytes.len(), 65_535);
    assert_eq!(decode(&bytes).unwrap().payload.len(), max);

    p.payload = Cow::Borrowed(b"x");
    p.unknown_chunks.push(RawChunk {
        type_id: 0x000f,
        value: Cow::Borrowed(b"y"),
    });
    assert_eq!(
        p.to_v3_bytes(),
        Err(EncodeError::UnknownChunkIsTyped { type_id: 0x000f })
    );
}

// ---------------------------------------------------------------------------------------
// Zero-copy.

#[test]
fn typical_sip_packet_decodes_without_allocating() {
    // A ~600-byte SIP INVITE with the chunks agents usually send (auth key, correlation id).
    let invite = [
        &b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"[..],
        b"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n",
        b"Max-Forwards: 70\r\nTo: Bob <sip:bob@biloxi.example.com>\r\n",
        b"From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n",
        b"Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\nCSeq: 314159 INVITE\r\n",
        b"Contact: <sip:alice@pc33.atlanta.example.com>\r\nContent-Type: application/sdp\r\n",
        b"Content-Length: 142\r\n\r\nv=0\r\no=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com\r\n",
        b"s=-\r\nc=IN IP4 192.0.2.101\r\nt=0 0\r\nm=audio 49172 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
    ]
    .concat();
    let bytes = packet_with(
        &[
            chunk(0x000e, b"myHep"),
            chunk(0x0011, b"a84b4c76e66710@pc33.atlanta.example.com"),
        ],
        &invite,
    );
    assert!(bytes.len() > 550, "{}", bytes.len());
    let p = decode(&bytes).unwrap();
    // Every variable-size field borrows from `bytes` and both lists are unallocated
    // (`Vec::new` does not allocate): decoding performed no heap allocation.
    assert!(matches!(p.payload, Cow::Borrowed(_)));
    assert!(matches!(p.correlation_id, Some(Cow::Borrowed(_))));
    assert_eq!(p.unknown_chunks.capacity(), 0);
    assert_eq!(p.vendor_chunks.capacity(), 0);
    assert_eq!(
        p.payload.as_ptr(),
        bytes[bytes.len() - invite.len()..].as_ptr()
    );
}

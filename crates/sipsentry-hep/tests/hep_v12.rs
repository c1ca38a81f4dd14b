//! HEP v1 and v2: hand-built vectors laid out as captagent / Kamailio `siptrace` send them.

use std::net::SocketAddr;

use sipsentry_hep::{decode, HepError, HepVersion, ProtoType};

const SIP: &[u8] = b"OPTIONS sip:100@192.0.2.2 SIP/2.0\r\nContent-Length: 0\r\n\r\n";

/// `struct hep_hdr` + `struct hep_iphdr` for IPv4 (hp_l = 16).
fn v_ipv4(version: u8, hp_l: u8) -> Vec<u8> {
    let mut p = vec![version, hp_l, 2, 17];
    p.extend_from_slice(&5060u16.to_be_bytes());
    p.extend_from_slice(&5080u16.to_be_bytes());
    p.extend_from_slice(&[192, 0, 2, 1]);
    p.extend_from_slice(&[192, 0, 2, 2]);
    p
}

/// `struct hep_timehdr` as memcpy'd by a little-endian sender: 12 bytes with padding.
fn time_header(secs: u32, usecs: u32, captid: u16) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&secs.to_le_bytes());
    t.extend_from_slice(&usecs.to_le_bytes());
    t.extend_from_slice(&captid.to_le_bytes());
    t.extend_from_slice(&[0, 0]);
    t
}

#[test]
fn v1_ipv4() {
    let mut p = v_ipv4(1, 16);
    p.extend_from_slice(SIP);
    let h = decode(&p).unwrap();
    assert_eq!(h.version, HepVersion::V1);
    assert_eq!(h.ip_proto, 17);
    assert_eq!(h.src, "192.0.2.1:5060".parse::<SocketAddr>().unwrap());
    assert_eq!(h.dst, "192.0.2.2:5080".parse::<SocketAddr>().unwrap());
    assert_eq!((h.ts_secs, h.ts_micros, h.capture_id), (0, 0, 0));
    assert_eq!(h.proto_type, ProtoType::SIP);
    assert_eq!(&*h.payload, SIP);
}

#[test]
fn v1_ipv6() {
    let mut p = vec![1, 40, 10, 6];
    p.extend_from_slice(&5061u16.to_be_bytes());
    p.extend_from_slice(&443u16.to_be_bytes());
    let src: std::net::Ipv6Addr = "2001:db8::a".parse().unwrap();
    let dst: std::net::Ipv6Addr = "2001:db8::b".parse().unwrap();
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    p.extend_from_slice(SIP);
    let h = decode(&p).unwrap();
    assert_eq!(h.family(), 10);
    assert_eq!(h.ip_proto, 6);
    assert_eq!(h.src, "[2001:db8::a]:5061".parse::<SocketAddr>().unwrap());
    assert_eq!(h.dst, "[2001:db8::b]:443".parse::<SocketAddr>().unwrap());
    assert_eq!(&*h.payload, SIP);
}

#[test]
fn v2_ipv4_captagent_layout() {
    // hp_l counts only hep_hdr + addresses (16); the time header follows.
    let mut p = v_ipv4(2, 16);
    p.extend_from_slice(&time_header(1_700_000_000, 123_456, 2001));
    p.extend_from_slice(SIP);
    let h = decode(&p).unwrap();
    assert_eq!(h.version, HepVersion::V2);
    assert_eq!(h.ts_secs, 1_700_000_000);
    assert_eq!(h.ts_micros, 123_456);
    assert_eq!(h.ts_nanos(), 1_700_000_000_123_456_000);
    assert_eq!(h.capture_id, 2001);
    assert_eq!(&*h.payload, SIP);
}

#[test]
fn v2_header_length_including_time_header_is_accepted() {
    // hep-erlang writes 28 (16 + 12) for IPv4 v2.
    let mut p = v_ipv4(2, 28);
    p.extend_from_slice(&time_header(1, 2, 3));
    p.extend_from_slice(SIP);
    let h = decode(&p).unwrap();
    assert_eq!((h.ts_secs, h.ts_micros, h.capture_id), (1, 2, 3));
    // ...but a v1 header never has a time header.
    let mut p = v_ipv4(1, 28);
    p.extend_from_slice(SIP);
    assert_eq!(
        decode(&p),
        Err(HepError::V12HeaderLength {
            version: 1,
            family: 2,
            hp_l: 28,
            expected: 16
        })
    );
}

#[test]
fn v2_ipv6() {
    let mut p = vec![2, 40, 10, 17, 0x13, 0xc4, 0x13, 0xc4];
    p.extend_from_slice(
        &[0x20, 0x01, 0x0d, 0xb8]
            .iter()
            .chain(&[0; 11])
            .chain(&[1])
            .copied()
            .collect::<Vec<u8>>(),
    );
    p.extend_from_slice(
        &[0x20, 0x01, 0x0d, 0xb8]
            .iter()
            .chain(&[0; 11])
            .chain(&[2])
            .copied()
            .collect::<Vec<u8>>(),
    );
    p.extend_from_slice(&time_header(10, 20, 30));
    p.extend_from_slice(SIP);
    let h = decode(&p).unwrap();
    assert_eq!(h.src, "[2001:db8::1]:5060".parse::<SocketAddr>().unwrap());
    assert_eq!(h.dst, "[2001:db8::2]:5060".parse::<SocketAddr>().unwrap());
    assert_eq!((h.ts_secs, h.ts_micros, h.capture_id), (10, 20, 30));
    assert_eq!(&*h.payload, SIP);
}

#[test]
fn v12_length_failures() {
    assert_eq!(
        decode(&[1]),
        Err(HepError::V12Truncated {
            version: 1,
            have: 1,
            need: 16
        })
    );
    assert_eq!(
        decode(&[2, 16]),
        Err(HepError::V12Truncated {
            version: 2,
            have: 2,
            need: 28
        })
    );
    // Header present but the addresses cut off.
    let p = v_ipv4(1, 16);
    assert_eq!(
        decode(&p[..12]),
        Err(HepError::V12Truncated {
            version: 1,
            have: 12,
            need: 16
        })
    );
    // v2 without (all of) its time header.
    let mut p = v_ipv4(2, 16);
    p.extend_from_slice(&time_header(1, 2, 3)[..10]);
    assert_eq!(
        decode(&p),
        Err(HepError::V12Truncated {
            version: 2,
            have: 26,
            need: 28
        })
    );
    // IPv6 family with IPv4-sized header length.
    let mut p = v_ipv4(1, 16);
    p[2] = 10;
    assert_eq!(
        decode(&p),
        Err(HepError::V12HeaderLength {
            version: 1,
            family: 10,
            hp_l: 16,
            expected: 40
        })
    );
    let mut p = v_ipv4(2, 16);
    p[2] = 28; // AF_INET6 on macOS: not a HEP family
    assert_eq!(
        decode(&p),
        Err(HepError::V12UnsupportedFamily {
            version: 2,
            family: 28
        })
    );
}

#[test]
fn v12_header_only_has_empty_payload() {
    let p = v_ipv4(1, 16);
    assert!(decode(&p).unwrap().payload.is_empty());
}

#[test]
fn v2_reencodes_as_v3_with_the_same_fields() {
    let mut p = v_ipv4(2, 16);
    p.extend_from_slice(&time_header(1_313_440_459, 120_000, 228));
    p.extend_from_slice(SIP);
    let h = decode(&p).unwrap();
    let v3 = h.to_v3_bytes().unwrap();
    assert!(v3.starts_with(b"HEP3"));
    let mut back = decode(&v3).unwrap();
    assert_eq!(back.version, HepVersion::V3);
    back.version = HepVersion::V2;
    assert_eq!(back, h);
}

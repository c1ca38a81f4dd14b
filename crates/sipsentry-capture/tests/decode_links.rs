//! Stateless decoding of every supported link type and encapsulation, from hand-built frames.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use common::*;
use sipsentry_capture::decode::{decode, Decoded, IpPacket, TcpFlags, Transport};
use sipsentry_capture::{linktype as lt, Config, DecodeError, Decoder, Event, Limits};

const SIP: &[u8] = b"OPTIONS sip:probe@example.invalid SIP/2.0\r\nContent-Length: 0\r\n\r\n";

fn udp4() -> Vec<u8> {
    ipv4(A4, B4, 17, &udp(5060, 5061, SIP))
}
fn udp6() -> Vec<u8> {
    ipv6(a6(), b6(), 17, &udp(5060, 5061, SIP))
}

fn dec(linktype: u32, frame: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    decode(linktype, frame, &Limits::default())
}

/// Asserts the frame decodes to the SIP UDP datagram at the given tunnel depth; returns the IP
/// layer.
#[track_caller]
fn expect_sip(linktype: u32, frame: &[u8], depth: u8) -> IpPacket<'_> {
    match dec(linktype, frame) {
        Ok(Decoded::Ip(ip)) => {
            match ip.transport {
                Transport::Udp(u) => {
                    assert_eq!(u.payload, SIP);
                    assert_eq!((u.src_port, u.dst_port), (5060, 5061));
                    assert!(!u.is_truncated());
                }
                other => panic!("not UDP: {other:?}"),
            }
            assert_eq!(ip.tunnel_depth, depth);
            ip
        }
        other => panic!("not IP: {other:?}"),
    }
}

#[track_caller]
fn expect_v4(ip: &IpPacket<'_>) {
    assert_eq!(ip.src, IpAddr::V4(Ipv4Addr::from(A4)));
    assert_eq!(ip.dst, IpAddr::V4(Ipv4Addr::from(B4)));
}

#[track_caller]
fn expect_v6(ip: &IpPacket<'_>) {
    assert_eq!(ip.src, IpAddr::V6(Ipv6Addr::from(a6())));
    assert_eq!(ip.dst, IpAddr::V6(Ipv6Addr::from(b6())));
}

#[test]
fn ethernet_plain_and_padded() {
    expect_v4(&expect_sip(lt::EN10MB, &eth(0x0800, &udp4()), 0));
    expect_v6(&expect_sip(lt::EN10MB, &eth(0x86DD, &udp6()), 0));
    // Short frames are padded to 60 bytes (and may carry an FCS): the IP length trims them.
    let small = ipv4(A4, B4, 17, &udp(5060, 5061, b"x"));
    let mut f = eth(0x0800, &small);
    f.resize(64, 0xEE);
    match dec(lt::EN10MB, &f).unwrap() {
        Decoded::Ip(IpPacket {
            transport: Transport::Udp(u),
            ..
        }) => assert_eq!(u.payload, b"x"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn vlan_and_qinq_stacks() {
    expect_sip(
        lt::EN10MB,
        &eth_tagged(&[(0x8100, 100)], 0x0800, &udp4()),
        0,
    );
    expect_sip(
        lt::EN10MB,
        &eth_tagged(&[(0x88A8, 10), (0x8100, 20)], 0x86DD, &udp6()),
        0,
    );
    expect_sip(
        lt::EN10MB,
        &eth_tagged(&[(0x9100, 1), (0x9100, 2), (0x8100, 3)], 0x0800, &udp4()),
        0,
    );
    let eight: Vec<_> = (0..8).map(|i| (0x8100, i)).collect();
    expect_sip(lt::EN10MB, &eth_tagged(&eight, 0x0800, &udp4()), 0);
    let nine: Vec<_> = (0..9).map(|i| (0x8100, i)).collect();
    assert_eq!(
        dec(lt::EN10MB, &eth_tagged(&nine, 0x0800, &udp4())),
        Err(DecodeError::TooManyVlanTags)
    );
    let mut cut = eth_tagged(&[(0x8100, 5)], 0x0800, &[]);
    cut.truncate(16);
    assert_eq!(dec(lt::EN10MB, &cut), Err(DecodeError::TruncatedVlan));
    assert_eq!(
        dec(lt::EN10MB, &[0; 13]),
        Err(DecodeError::TruncatedLinkHeader)
    );
}

#[test]
fn pppoe_sessions() {
    expect_v4(&expect_sip(lt::EN10MB, &pppoe(0x0021, &udp4()), 0));
    expect_v6(&expect_sip(lt::EN10MB, &pppoe(0x0057, &udp6()), 0));
    // Protocol-field compression: a one-byte PPP protocol.
    let mut s = vec![0x11, 0x00, 0x00, 0x01];
    let p = udp4();
    s.extend_from_slice(&((p.len() + 1) as u16).to_be_bytes());
    s.push(0x21);
    s.extend_from_slice(&p);
    expect_sip(lt::EN10MB, &eth(0x8864, &s), 0);
    // LCP, discovery stage, bad version.
    assert_eq!(
        dec(lt::EN10MB, &pppoe(0xC021, &[1, 2, 3, 4])),
        Ok(Decoded::NonIp)
    );
    let mut disc = pppoe(0x0021, &udp4());
    disc[15] = 0x09; // PADI
    assert_eq!(dec(lt::EN10MB, &disc), Ok(Decoded::NonIp));
    let mut bad = pppoe(0x0021, &udp4());
    bad[14] = 0x21;
    assert_eq!(dec(lt::EN10MB, &bad), Err(DecodeError::BadPppoe));
    assert_eq!(
        dec(lt::EN10MB, &eth(0x8864, &[0x11, 0])),
        Err(DecodeError::BadPppoe)
    );
}

#[test]
fn non_ip_ethernet() {
    assert_eq!(dec(lt::EN10MB, &eth(0x0806, &[0; 28])), Ok(Decoded::NonIp)); // ARP
    assert_eq!(dec(lt::EN10MB, &eth(0x88CC, &[0; 28])), Ok(Decoded::NonIp)); // LLDP
                                                                             // 802.3 + LLC (STP): not IP; 802.3 + LLC/SNAP carrying IPv4: IP.
    assert_eq!(
        dec(lt::EN10MB, &eth(38, &[0x42, 0x42, 0x03, 0, 0])),
        Ok(Decoded::NonIp)
    );
    let snap = cat(&[&[0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00], &udp4()]);
    expect_sip(lt::EN10MB, &eth(snap.len() as u16, &snap), 0);
}

#[test]
fn mpls() {
    let one = cat(&[&[0x00, 0x01, 0x01, 0x40], &udp4()]); // label 16, BoS
    expect_sip(lt::EN10MB, &eth(0x8847, &one), 0);
    let two = cat(&[&[0x00, 0x01, 0x00, 0x40, 0x00, 0x02, 0x01, 0x40], &udp6()]);
    expect_sip(lt::EN10MB, &eth(0x8847, &two), 0);
    // Ethernet pseudowire with a control word.
    let pw = cat(&[&[0x00, 0x01, 0x01, 0x40, 0, 0, 0, 0], &eth(0x0800, &udp4())]);
    expect_sip(lt::EN10MB, &eth(0x8847, &pw), 1);
    let deep: Vec<u8> = (0..9).flat_map(|_| [0u8, 1, 0, 0x40]).collect();
    assert_eq!(
        dec(lt::EN10MB, &eth(0x8847, &deep)),
        Err(DecodeError::BadMpls)
    );
}

#[test]
fn null_and_loop_families_in_both_orders() {
    for le in [true, false] {
        for linktype in [lt::NULL, lt::LOOP] {
            expect_v4(&expect_sip(linktype, &null(2, le, &udp4()), 0));
            for fam in [24, 28, 30] {
                expect_v6(&expect_sip(linktype, &null(fam, le, &udp6()), 0));
            }
            assert_eq!(dec(linktype, &null(7, le, &udp4())), Ok(Decoded::NonIp));
        }
    }
    assert_eq!(
        dec(lt::NULL, &[2, 0, 0]),
        Err(DecodeError::TruncatedLinkHeader)
    );
}

#[test]
fn raw_ip_link_types() {
    for linktype in [lt::RAW, lt::RAW_12, lt::RAW_14] {
        expect_sip(linktype, &udp4(), 0);
        expect_sip(linktype, &udp6(), 0);
        assert_eq!(
            dec(linktype, &[0x50, 0, 0, 0]),
            Err(DecodeError::BadIpVersion)
        );
    }
    expect_sip(lt::IPV4, &udp4(), 0);
    expect_sip(lt::IPV6, &udp6(), 0);
    assert_eq!(dec(lt::IPV4, &udp6()), Err(DecodeError::BadIpVersion));
    assert_eq!(dec(lt::IPV6, &udp4()), Err(DecodeError::BadIpVersion));
    assert_eq!(dec(147, &udp4()), Err(DecodeError::UnsupportedLinktype));
}

#[test]
fn linux_cooked_v1_and_v2() {
    expect_v4(&expect_sip(lt::LINUX_SLL, &sll(0x0800, &udp4()), 0));
    expect_v6(&expect_sip(lt::LINUX_SLL, &sll(0x86DD, &udp6()), 0));
    // A VLAN tag left in place by the capture.
    expect_sip(
        lt::LINUX_SLL,
        &sll(0x8100, &cat(&[&[0, 7, 0x08, 0x00], &udp4()])),
        0,
    );
    assert_eq!(
        dec(lt::LINUX_SLL, &sll(0x0806, &[0; 28])),
        Ok(Decoded::NonIp)
    );
    assert_eq!(
        dec(lt::LINUX_SLL, &sll(0x0003, &[0; 28])),
        Ok(Decoded::NonIp)
    );
    let mut netlink = sll(0x0800, &udp4());
    netlink[2..4].copy_from_slice(&824u16.to_be_bytes());
    assert_eq!(dec(lt::LINUX_SLL, &netlink), Ok(Decoded::NonIp));
    assert_eq!(
        dec(lt::LINUX_SLL, &[0; 15]),
        Err(DecodeError::TruncatedLinkHeader)
    );

    expect_v4(&expect_sip(lt::LINUX_SLL2, &sll2(0x0800, &udp4()), 0));
    expect_v6(&expect_sip(lt::LINUX_SLL2, &sll2(0x86DD, &udp6()), 0));
    assert_eq!(
        dec(lt::LINUX_SLL2, &[0x08, 0, 0, 0]),
        Err(DecodeError::TruncatedLinkHeader)
    );
}

#[test]
fn ipv4_options_lengths_and_truncation() {
    // Options (router alert + padding to 8 bytes... any bytes), bad checksum: fine.
    for words in 1..=10 {
        let opts = vec![0x01u8; words * 4];
        let p = ipv4_full(A4, B4, 17, 1, 0, &opts, &udp(5060, 5061, SIP));
        expect_sip(lt::RAW, &p, 0);
    }
    // IHL < 5.
    let mut p = udp4();
    p[0] = 0x44;
    assert_eq!(dec(lt::RAW, &p), Err(DecodeError::BadIpv4HeaderLength));
    // IHL beyond the frame.
    let mut p = udp4();
    p[0] = 0x4F;
    assert_eq!(
        dec(lt::RAW, &p[..40]),
        Err(DecodeError::TruncatedIpv4Header)
    );
    // Total length below the header.
    let mut p = udp4();
    p[2..4].copy_from_slice(&10u16.to_be_bytes());
    assert_eq!(dec(lt::RAW, &p), Err(DecodeError::BadIpv4TotalLength));
    // Total length 0 (segmentation offload): the rest of the frame.
    let mut p = udp4();
    p[2..4].copy_from_slice(&0u16.to_be_bytes());
    expect_sip(lt::RAW, &p, 0);
    // Snaplen cut: decoded as far as it goes, flagged.
    let p = udp4();
    match dec(lt::RAW, &p[..40]).unwrap() {
        Decoded::Ip(ip) => {
            assert!(ip.truncated);
            let Transport::Udp(u) = ip.transport else {
                panic!()
            };
            assert!(u.is_truncated());
            assert_eq!(u.len, SIP.len());
            assert_eq!(u.payload, &SIP[..12]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        dec(lt::RAW, &p[..10]),
        Err(DecodeError::TruncatedIpv4Header)
    );
}

#[test]
fn ipv6_extension_headers() {
    let u = udp(5060, 5061, SIP);
    // hop-by-hop → routing → destination options → AH → UDP.
    let chain = cat(&[
        &ext(43, 0, &[]),
        &ext(60, 1, &[]),
        &ext(51, 0, &[]),
        &ah(17, 1),
        &u,
    ]);
    expect_v6(&expect_sip(lt::RAW, &ipv6(a6(), b6(), 0, &chain), 0));
    // Mobility / HIP / shim6 use the same format.
    let chain = cat(&[&ext(139, 0, &[]), &ext(140, 0, &[]), &ext(17, 0, &[])]);
    expect_sip(lt::RAW, &ipv6(a6(), b6(), 135, &cat(&[&chain, &u])), 0);
    // Atomic fragment (offset 0, M=0): nothing to reassemble.
    expect_sip(
        lt::RAW,
        &ipv6(a6(), b6(), 44, &cat(&[&frag6(17, 0, false, 9), &u])),
        0,
    );
    // Chain length cap (8 by default).
    let mut body = u.clone();
    for _ in 0..8 {
        body = cat(&[
            &ext(if body.len() == u.len() { 17 } else { 60 }, 0, &[]),
            &body,
        ]);
    }
    expect_sip(lt::RAW, &ipv6(a6(), b6(), 60, &body), 0);
    let body9 = cat(&[&ext(60, 0, &[]), &body]);
    assert_eq!(
        dec(lt::RAW, &ipv6(a6(), b6(), 60, &body9)),
        Err(DecodeError::ExtHeaderChainTooLong)
    );
    // Truncated extension header.
    let p = ipv6(a6(), b6(), 60, &ext(17, 4, &[]));
    assert_eq!(dec(lt::RAW, &p[..50]), Err(DecodeError::TruncatedExtHeader));
    // Two fragment headers in one chain.
    let two = cat(&[&frag6(44, 0, false, 1), &frag6(17, 8, true, 2), &u]);
    assert_eq!(
        dec(lt::RAW, &ipv6(a6(), b6(), 44, &two)),
        Err(DecodeError::NestedFragment)
    );
    // A real fragment.
    let f = ipv6(
        a6(),
        b6(),
        44,
        &cat(&[&frag6(17, 1232, true, 0xABCD), &[0u8; 16]]),
    );
    match dec(lt::RAW, &f).unwrap() {
        Decoded::Ip(IpPacket {
            transport: Transport::Fragment(fr),
            ..
        }) => {
            assert!(fr.v6 && fr.more);
            assert_eq!(
                (fr.id, fr.proto, fr.offset, fr.data.len(), fr.missing),
                (0xABCD, 17, 1232, 16, 0)
            );
        }
        other => panic!("{other:?}"),
    }
    // No next header, ESP: other protocols.
    assert_eq!(
        dec(lt::RAW, &ipv6(a6(), b6(), 59, &[])),
        Ok(Decoded::Ip(IpPacket {
            src: IpAddr::V6(a6().into()),
            dst: IpAddr::V6(b6().into()),
            tunnel_depth: 0,
            truncated: false,
            transport: Transport::Other(59)
        }))
    );
    // Short header.
    assert_eq!(
        dec(lt::IPV6, &udp6()[..39]),
        Err(DecodeError::TruncatedIpv6Header)
    );
    // Payload length 0 (offload or jumbogram) with a zero UDP length: the rest of the frame.
    let mut j = udp6();
    j[4..6].copy_from_slice(&[0, 0]);
    j[44..46].copy_from_slice(&[0, 0]);
    expect_sip(lt::IPV6, &j, 0);
}

#[test]
fn ipv4_ah_and_fragments() {
    let p = ipv4(A4, B4, 51, &cat(&[&ah(17, 4), &udp(5060, 5061, SIP)]));
    expect_sip(lt::RAW, &p, 0);
    let f = ipv4_full(A4, B4, 17, 77, 0x2000 | 3, &[], &[1; 24]);
    match dec(lt::RAW, &f).unwrap() {
        Decoded::Ip(IpPacket {
            transport: Transport::Fragment(fr),
            ..
        }) => {
            assert!(!fr.v6 && fr.more);
            assert_eq!(
                (fr.id, fr.proto, fr.offset, fr.data.len()),
                (77, 17, 24, 24)
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn ip_in_ip_tunnels_and_depth_cap() {
    expect_v4(&expect_sip(
        lt::RAW,
        &ipv4([10, 0, 0, 1], [10, 0, 0, 2], 4, &udp4()),
        1,
    ));
    expect_v6(&expect_sip(
        lt::RAW,
        &ipv4([10, 0, 0, 1], [10, 0, 0, 2], 41, &udp6()),
        1,
    ));
    expect_v4(&expect_sip(lt::RAW, &ipv6(v6(9), v6(8), 4, &udp4()), 1));
    expect_v6(&expect_sip(lt::RAW, &ipv6(v6(9), v6(8), 41, &udp6()), 1));
    let mut p = udp4();
    for _ in 0..4 {
        p = ipv4([10, 9, 9, 9], [10, 8, 8, 8], 4, &p);
    }
    expect_v4(&expect_sip(lt::RAW, &p, 4));
    let p5 = ipv4([10, 9, 9, 9], [10, 8, 8, 8], 4, &p);
    assert_eq!(dec(lt::RAW, &p5), Err(DecodeError::TunnelTooDeep));
    // A lower cap is honoured.
    let l = Limits {
        max_tunnel_depth: 1,
        ..Limits::default()
    };
    assert_eq!(decode(lt::RAW, &p, &l), Err(DecodeError::TunnelTooDeep));
}

#[test]
fn gre_variants() {
    let outer = |payload: &[u8]| eth(0x0800, &ipv4([10, 1, 1, 1], [10, 2, 2, 2], 47, payload));
    for flags in [0u16, 0x8000, 0x2000, 0x1000, 0xB000] {
        expect_v4(&expect_sip(
            lt::EN10MB,
            &outer(&gre(0x0800, flags, &udp4())),
            1,
        ));
        expect_v6(&expect_sip(
            lt::EN10MB,
            &outer(&gre(0x86DD, flags, &udp6())),
            1,
        ));
    }
    // Transparent Ethernet bridging (with a VLAN inside).
    let inner = eth_tagged(&[(0x8100, 42)], 0x0800, &udp4());
    expect_sip(lt::EN10MB, &outer(&gre(0x6558, 0x2000, &inner)), 1);
    // ERSPAN type II, type I (no sequence number, no header), type III with and without the
    // platform sub-header.
    expect_sip(lt::EN10MB, &outer(&erspan2(&eth(0x0800, &udp4()))), 1);
    expect_sip(
        lt::EN10MB,
        &outer(&gre(0x88BE, 0, &eth(0x86DD, &udp6()))),
        1,
    );
    expect_sip(
        lt::EN10MB,
        &outer(&erspan3(&eth(0x0800, &udp4()), false)),
        1,
    );
    expect_sip(lt::EN10MB, &outer(&erspan3(&eth(0x0800, &udp4()), true)), 1);
    // GRE over IPv6.
    expect_sip(
        lt::RAW,
        &ipv6(v6(7), v6(8), 47, &gre(0x0800, 0, &udp4())),
        1,
    );
    // Unsupported: version 1 (PPTP), routing present; truncated headers.
    assert_eq!(
        dec(lt::EN10MB, &outer(&gre(0x880B, 0x3001, &udp4()))),
        Err(DecodeError::UnsupportedGre)
    );
    assert_eq!(
        dec(lt::EN10MB, &outer(&gre(0x0800, 0x4000, &udp4()))),
        Err(DecodeError::UnsupportedGre)
    );
    assert_eq!(
        dec(lt::EN10MB, &outer(&[0x20, 0, 0x08, 0, 1])),
        Err(DecodeError::TruncatedGre)
    );
    assert_eq!(
        dec(lt::EN10MB, &outer(&gre(0x22EB, 0, &[0; 6]))),
        Err(DecodeError::BadErspan)
    );
    assert_eq!(
        dec(lt::EN10MB, &outer(&gre(0x88BE, 0x1000, &[0; 6]))),
        Err(DecodeError::BadErspan)
    );
    // GRE carrying something that is not IP.
    assert_eq!(
        dec(lt::EN10MB, &outer(&gre(0x0806, 0, &[0; 28]))),
        Ok(Decoded::NonIp)
    );
    // GRE in GRE in GRE ... is capped like any tunnel.
    let mut p = udp4();
    for _ in 0..5 {
        p = ipv4([10, 1, 1, 1], [10, 2, 2, 2], 47, &gre(0x0800, 0, &p));
    }
    assert_eq!(dec(lt::RAW, &p), Err(DecodeError::TunnelTooDeep));
}

#[test]
fn transports() {
    // TCP with options.
    let seg = tcp_opts(
        5060,
        40000,
        0xFFFF_FFF0,
        PSH | ACK,
        &[2, 4, 5, 0xb4, 1, 1, 1, 0],
        SIP,
    );
    match dec(lt::RAW, &ipv4(A4, B4, 6, &seg)).unwrap() {
        Decoded::Ip(IpPacket {
            transport: Transport::Tcp(t),
            ..
        }) => {
            assert_eq!((t.src_port, t.dst_port, t.seq), (5060, 40000, 0xFFFF_FFF0));
            assert!(t.flags.has(TcpFlags::PSH | TcpFlags::ACK) && !t.flags.has(TcpFlags::SYN));
            assert_eq!(t.payload, SIP);
            assert_eq!(t.missing, 0);
        }
        other => panic!("{other:?}"),
    }
    // Snaplen cut: the missing payload is known from the IP length.
    let p = ipv4(A4, B4, 6, &tcp(1, 2, 3, ACK, SIP));
    match dec(lt::RAW, &p[..45]).unwrap() {
        Decoded::Ip(IpPacket {
            transport: Transport::Tcp(t),
            truncated: true,
            ..
        }) => {
            assert_eq!(t.payload.len(), 5);
            assert_eq!(t.missing as usize, SIP.len() - 5);
        }
        other => panic!("{other:?}"),
    }
    // Bad data offsets.
    let mut bad = tcp(1, 2, 3, ACK, SIP);
    bad[12] = 0x40;
    assert_eq!(
        dec(lt::RAW, &ipv4(A4, B4, 6, &bad)),
        Err(DecodeError::BadTcpHeaderLength)
    );
    bad[12] = 0xF0;
    assert_eq!(
        dec(lt::RAW, &ipv4(A4, B4, 6, &bad[..40])),
        Err(DecodeError::BadTcpHeaderLength)
    );
    assert_eq!(
        dec(lt::RAW, &ipv4(A4, B4, 6, &[0; 19])),
        Err(DecodeError::TruncatedTcpHeader)
    );
    // UDP length inconsistencies.
    let mut u = udp(1, 2, SIP);
    u[4..6].copy_from_slice(&7u16.to_be_bytes());
    assert_eq!(
        dec(lt::RAW, &ipv4(A4, B4, 17, &u)),
        Err(DecodeError::BadUdpLength)
    );
    u[4..6].copy_from_slice(&((SIP.len() + 9) as u16).to_be_bytes());
    assert_eq!(
        dec(lt::RAW, &ipv4(A4, B4, 17, &u)),
        Err(DecodeError::BadUdpLength)
    );
    assert_eq!(
        dec(lt::RAW, &ipv4(A4, B4, 17, &[0; 7])),
        Err(DecodeError::TruncatedUdpHeader)
    );
    // UDP shorter than the IP payload: trimmed to the UDP length.
    let mut u = udp(1, 2, SIP);
    u.extend_from_slice(b"trailer");
    match dec(lt::RAW, &ipv4(A4, B4, 17, &u)).unwrap() {
        Decoded::Ip(IpPacket {
            transport: Transport::Udp(d),
            ..
        }) => assert_eq!(d.payload, SIP),
        other => panic!("{other:?}"),
    }
    // ICMP, ICMPv6 and others.
    assert!(matches!(
        dec(lt::RAW, &ipv4(A4, B4, 1, &[8, 0, 0, 0])),
        Ok(Decoded::Ip(IpPacket {
            transport: Transport::Icmp,
            ..
        }))
    ));
    assert!(matches!(
        dec(lt::RAW, &ipv6(a6(), b6(), 58, &[128, 0, 0, 0])),
        Ok(Decoded::Ip(IpPacket {
            transport: Transport::Icmp,
            ..
        }))
    ));
    assert!(matches!(
        dec(lt::RAW, &ipv4(A4, B4, 112, &[0; 20])),
        Ok(Decoded::Ip(IpPacket {
            transport: Transport::Other(112),
            ..
        }))
    ));
}

#[test]
fn decoder_classifies_and_reports_datagrams() {
    let frames: Vec<(i64, u32, Vec<u8>)> = vec![
        (1, lt::EN10MB, eth(0x0800, &udp4())),
        (2, lt::EN10MB, eth(0x0806, &[0; 28])),
        (3, lt::RAW, ipv4(A4, B4, 1, &[8, 0, 0, 0])),
        (4, lt::RAW, ipv4(A4, B4, 112, &[0; 20])),
        (5, lt::RAW, vec![0x45]),
        (6, 9999, vec![]),
        (7, lt::RAW, ipv4([10, 0, 0, 1], [10, 0, 0, 2], 41, &udp6())),
        (8, lt::RAW, udp4()[..40].to_vec()),
    ];
    let (evs, d) = run(Config::default(), &frames);
    let s = d.stats();
    assert_eq!(s.packets, 8);
    assert_eq!(s.decoded, 3);
    assert_eq!((s.non_ip, s.icmp, s.other_ip_proto), (1, 1, 1));
    assert_eq!(s.malformed.get(DecodeError::TruncatedIpv4Header), 1);
    assert_eq!(s.malformed.get(DecodeError::UnsupportedLinktype), 1);
    assert_eq!(s.malformed.total(), 2);
    assert_eq!(s.truncated, 1);
    assert_eq!(s.udp_datagrams, 3);
    assert_stats_invariant(&d);
    let dgs: Vec<_> = evs
        .iter()
        .map(|e| match e {
            Event::Datagram(d) => d,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(dgs.len(), 3);
    assert_eq!(dgs[0].ts_nanos, 1);
    assert_eq!(dgs[0].src.to_string(), "192.0.2.1:5060");
    assert_eq!(dgs[0].dst.to_string(), "192.0.2.2:5061");
    assert_eq!(&dgs[0].payload[..], SIP);
    assert!(!dgs[0].reassembled && !dgs[0].is_truncated() && dgs[0].tunnel_depth == 0);
    assert_eq!(dgs[1].src.to_string(), "[2001:db8::1]:5060");
    assert_eq!(dgs[1].tunnel_depth, 1);
    assert!(dgs[2].is_truncated());
    // Malformed counts print compactly.
    let dbg = format!("{:?}", s.malformed);
    assert!(dbg.contains("UnsupportedLinktype: 1"), "{dbg}");
}

#[test]
fn fast_path_payload_is_borrowed() {
    let frame = eth(0x0800, &udp4());
    let mut d = Decoder::default();
    let mut borrowed = false;
    d.push_frame(0, lt::EN10MB, &frame, |e| {
        if let Event::Datagram(g) = e {
            borrowed = matches!(g.payload, std::borrow::Cow::Borrowed(_));
        }
    });
    assert!(borrowed);
}

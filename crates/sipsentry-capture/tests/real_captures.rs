//! The real captures in `tests/vectors/pcaps/`: packet counts must equal the tshark-derived
//! numbers in its INDEX.md, and the decoded UDP payloads and TCP streams must contain the SIP
//! messages tshark found there.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::fs;

use sipsentry_capture::decode::{decode, Decoded};
use sipsentry_capture::pcap::Format;
use sipsentry_capture::{linktype, CloseReason, Decoder, Event, Limits, PcapReader, Stats};

/// SIP start lines found, as `"METHOD"` or `"CODE"` → count.
type Census = BTreeMap<String, usize>;

struct Run {
    packets: usize,
    linktypes: Vec<u32>,
    format: Format,
    stats: Stats,
    /// UDP payloads in order.
    datagrams: Vec<(bool, Vec<u8>)>,
    /// Per stream id: src, dst, bytes, close reason.
    streams: BTreeMap<u64, (String, String, Vec<u8>, Option<CloseReason>)>,
    gaps: u64,
}

fn run_bytes(file: &[u8]) -> Run {
    let mut rd = PcapReader::new(file).unwrap();
    let mut d = Decoder::default();
    let mut run = Run {
        packets: 0,
        linktypes: Vec::new(),
        format: rd.format(),
        stats: Stats::default(),
        datagrams: Vec::new(),
        streams: BTreeMap::new(),
        gaps: 0,
    };
    let mut evs = Vec::new();
    while let Some(p) = rd.next_packet().unwrap() {
        run.packets += 1;
        if !run.linktypes.contains(&p.linktype) {
            run.linktypes.push(p.linktype);
        }
        d.push(&p, |e| evs.push(e.into_owned()));
    }
    d.flush(|e| evs.push(e.into_owned()));
    for e in evs {
        match e {
            Event::Datagram(g) => run.datagrams.push((g.reassembled, g.payload.into_owned())),
            Event::StreamData(s) => {
                let st = run
                    .streams
                    .entry(s.stream)
                    .or_insert_with(|| (s.src.to_string(), s.dst.to_string(), Vec::new(), None));
                assert_eq!(st.2.len() as u64, s.offset);
                st.2.extend_from_slice(&s.bytes);
            }
            Event::StreamGap(g) => run.gaps += g.len,
            Event::StreamClosed(c) => {
                let st = run
                    .streams
                    .entry(c.stream)
                    .or_insert_with(|| (c.src.to_string(), c.dst.to_string(), Vec::new(), None));
                assert!(st.3.is_none(), "closed twice");
                st.3 = Some(c.reason);
            }
        }
    }
    run.stats = *d.stats();
    common::assert_stats_invariant(&d);
    assert_eq!(d.buffered(), Default::default());
    run
}

fn run_file(name: &str) -> Run {
    let data = fs::read(common::pcaps_dir().join(name)).unwrap();
    let plain = run_bytes(&data);
    // The gzip-compressed file must decode identically.
    let gz = run_bytes(&common::gzip(&data));
    assert_eq!(gz.packets, plain.packets);
    assert_eq!(gz.datagrams, plain.datagrams);
    assert_eq!(gz.streams, plain.streams);
    assert_eq!(gz.stats, plain.stats);
    plain
}

/// The SIP start line of `msg`, as a census key.
fn start_key(msg: &[u8]) -> Option<String> {
    let line_end = msg.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&msg[..line_end]).ok()?;
    if let Some(rest) = line.strip_prefix("SIP/2.0 ") {
        return Some(rest.split(' ').next()?.to_string());
    }
    let mut parts = line.split(' ');
    let method = parts.next()?;
    let _uri = parts.next()?;
    (parts.next()? == "SIP/2.0").then(|| method.to_string())
}

/// Frames a byte stream into SIP messages by Content-Length (no compact forms needed here).
fn frame_stream(mut bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let Some(hdr_end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
            break;
        };
        let head = String::from_utf8_lossy(&bytes[..hdr_end]).to_ascii_lowercase();
        let cl: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap());
        let end = (hdr_end + 4 + cl).min(bytes.len());
        out.push(bytes[..end].to_vec());
        bytes = &bytes[end..];
    }
    out
}

fn census(run: &Run) -> Census {
    let mut c = Census::new();
    for (_, p) in &run.datagrams {
        if let Some(k) = start_key(p) {
            *c.entry(k).or_default() += 1;
        }
    }
    for (_, _, bytes, _) in run.streams.values() {
        for m in frame_stream(bytes) {
            if let Some(k) = start_key(&m) {
                *c.entry(k).or_default() += 1;
            }
        }
    }
    c
}

fn expect(pairs: &[(&str, usize)]) -> Census {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// Packet counts in the INDEX table, by file name.
fn index_counts() -> HashMap<String, usize> {
    let idx = fs::read_to_string(common::pcaps_dir().join("INDEX.md")).unwrap();
    let mut m = HashMap::new();
    for line in idx.lines().filter(|l| l.starts_with("| ")) {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        if let (Some(name), Some(n)) = (cols.get(2), cols.get(3)) {
            if let (Some(start), Ok(n)) = (name.find("[`"), n.parse::<usize>()) {
                let name = &name[start + 2..];
                let name = &name[..name.find('`').unwrap()];
                m.insert(name.to_string(), n);
            }
        }
    }
    m
}

fn check_count(name: &str, run: &Run, literal: usize) {
    let idx = index_counts();
    assert_eq!(idx.get(name), Some(&literal), "INDEX.md entry for {name}");
    assert_eq!(run.packets, literal, "{name}");
    assert_eq!(run.stats.packets as usize, literal);
}

#[test]
fn ipv6_fragments_over_sll() {
    let name = "sngrep_ipv6frag.pcap";
    let r = run_file(name);
    check_count(name, &r, 34);
    assert_eq!(r.linktypes, [linktype::LINUX_SLL]);
    // 4 fragment frames reassemble into 2 datagrams; 30 others are whole: 32 SIP messages.
    assert_eq!(r.stats.frag.fragments, 4);
    assert_eq!(r.stats.frag.reassembled, 2);
    assert_eq!(r.datagrams.len(), 32);
    let re: Vec<_> = r.datagrams.iter().filter(|(re, _)| *re).collect();
    assert_eq!(re.len(), 2);
    for (_, p) in re {
        assert!(p.starts_with(b"INVITE sip:08019200028@[fd17:625c:f037:2"));
        // The reassembled body is complete: Content-Length matches.
        let m = frame_stream(p);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].len(), p.len());
    }
    assert_eq!(
        census(&r),
        expect(&[
            ("100", 1),
            ("183", 4),
            ("200", 13),
            ("ACK", 2),
            ("BYE", 2),
            ("INVITE", 2),
            ("PRACK", 4),
            ("UPDATE", 4)
        ])
    );
}

#[test]
fn ip_in_ip_tcp() {
    let name = "sngrep_ipip.pcap";
    let r = run_file(name);
    check_count(name, &r, 4);
    assert_eq!(r.linktypes, [linktype::EN10MB]);
    assert_eq!(
        census(&r),
        expect(&[("183", 1), ("200", 1), ("BYE", 1), ("INVITE", 1)])
    );
    assert_eq!(r.streams.len(), 2);
    assert_eq!(r.gaps, 0);
    // tshark: 2 frames plain IP/TCP, 2 inside an IP-in-IP tunnel.
    let data = fs::read(common::pcaps_dir().join(name)).unwrap();
    let mut rd = PcapReader::new(&data[..]).unwrap();
    let mut depths = Vec::new();
    while let Some(p) = rd.next_packet().unwrap() {
        match decode(p.linktype, p.data, &Limits::default()).unwrap() {
            Decoded::Ip(ip) => depths.push(ip.tunnel_depth),
            Decoded::NonIp => panic!("non-IP frame"),
        }
    }
    depths.sort();
    assert_eq!(depths, [0, 0, 1, 1]);
}

#[test]
fn large_body_over_null_loopback() {
    let name = "suricata_sip-body-large.pcap";
    let r = run_file(name);
    check_count(name, &r, 16);
    assert_eq!(r.linktypes, [linktype::NULL]);
    assert_eq!(census(&r), expect(&[("100", 1), ("INVITE", 1)]));
    let (_, _, invite, reason) = r
        .streams
        .values()
        .find(|s| s.2.starts_with(b"INVITE "))
        .unwrap();
    let m = frame_stream(invite);
    assert_eq!(m.len(), 1);
    assert!(String::from_utf8_lossy(&m[0]).contains("Content-Length: 65536"));
    let hdr_end = invite.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    assert_eq!(invite.len() - hdr_end - 4, 65536, "whole body delivered");
    assert_eq!(*reason, Some(CloseReason::Fin));
    assert_eq!(r.gaps, 0);
    assert_eq!(r.stats.tcp.closed_fin, 2);
}

#[test]
fn tcp_retransmissions_over_sll() {
    let name = "heplify_sip_ipv4_tcp_retrans.pcap";
    let r = run_file(name);
    check_count(name, &r, 196);
    assert_eq!(r.linktypes, [linktype::LINUX_SLL]);
    // tshark: ip 194 (tcp 181, vrrp 9, udp 4), arp 2.
    assert_eq!(r.stats.non_ip, 2);
    assert_eq!(r.stats.other_ip_proto, 9);
    assert_eq!(r.stats.tcp.segments, 181);
    assert_eq!(r.stats.udp_datagrams, 4);
    assert!(r.stats.tcp.retransmitted_bytes > 0);
    assert_eq!(r.gaps, 0);
    // Each SIP message exactly once despite the retransmissions: 2 REGISTER over UDP and 2
    // over TCP, each answered by 401 then 200.
    assert_eq!(
        census(&r),
        expect(&[("200", 2), ("401", 2), ("REGISTER", 4)])
    );
    let tcp_sip: Vec<_> = r
        .streams
        .values()
        .filter(|s| s.0.ends_with(":5060") || s.1.ends_with(":5060"))
        .collect();
    assert_eq!(tcp_sip.len(), 2);
    for (_, _, bytes, _) in tcp_sip {
        let msgs = frame_stream(bytes);
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs.concat(), *bytes, "no duplicated or missing bytes");
    }
}

#[test]
fn pcapng_register_and_keepalives() {
    let name = "ndpi_sip_hello.pcapng";
    let r = run_file(name);
    check_count(name, &r, 30);
    assert_eq!(r.format, Format::PcapNg);
    assert_eq!(r.linktypes, [linktype::EN10MB]);
    assert_eq!(
        census(&r),
        expect(&[("200", 2), ("401", 2), ("REGISTER", 4)])
    );
    assert_eq!(
        r.datagrams.iter().filter(|(_, p)| p == b"hello").count(),
        22
    );
}

#[test]
fn pcapng_codec_reject() {
    let name = "sipnab_sip-488-codec-reject.pcapng";
    let r = run_file(name);
    check_count(name, &r, 13);
    assert_eq!(r.format, Format::PcapNg);
    assert_eq!(r.datagrams.len(), 13);
    assert_eq!(
        census(&r),
        expect(&[
            ("100", 1),
            ("200", 3),
            ("401", 1),
            ("488", 1),
            ("ACK", 2),
            ("INVITE", 2),
            ("OPTIONS", 3)
        ])
    );
}

#[test]
fn timestamps_match_index() {
    // INDEX: first 2022-03-22 05:20:26.047902 (UTC) for sngrep_ipv6frag.pcap.
    let data = fs::read(common::pcaps_dir().join("sngrep_ipv6frag.pcap")).unwrap();
    let mut rd = PcapReader::new(&data[..]).unwrap();
    let p = rd.next_packet().unwrap().unwrap();
    assert_eq!(p.ts_nanos, 1_647_926_426_047_902_000);
    // And for a pcapng file: first 2022-02-22 07:43:54.707950.
    let data = fs::read(common::pcaps_dir().join("ndpi_sip_hello.pcapng")).unwrap();
    let mut rd = PcapReader::new(&data[..]).unwrap();
    let p = rd.next_packet().unwrap().unwrap();
    assert_eq!(p.ts_nanos, 1_645_515_834_707_950_000);
}

#[test]
fn truncated_real_file_keeps_complete_packets() {
    let data = fs::read(common::pcaps_dir().join("sngrep_ipip.pcap")).unwrap();
    // Cut in the middle of the last packet.
    let cut = &data[..data.len() - 10];
    let mut rd = PcapReader::new(cut).unwrap();
    let mut n = 0;
    let err = loop {
        match rd.next_packet() {
            Ok(Some(_)) => n += 1,
            Ok(None) => panic!("expected truncation"),
            Err(e) => break e,
        }
    };
    assert_eq!(n, 3);
    assert!(matches!(
        err,
        sipsentry_capture::pcap::Error::Truncated {
            what: "packet data",
            ..
        }
    ));
    assert!(rd.next_packet().unwrap().is_none());
}

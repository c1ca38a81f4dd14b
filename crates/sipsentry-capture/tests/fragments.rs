//! IPv4/IPv6 fragment reassembly through the `Decoder`: orders, overlaps, expiry, caps,
//! tunnels.

mod common;

use common::*;
use sipsentry_capture::{linktype as lt, Config, Datagram, DecodeError, Event, FragConfig};

const SEC: i64 = 1_000_000_000;

fn big_sip(len: usize) -> Vec<u8> {
    let mut m = b"INVITE sip:bob@example.invalid SIP/2.0\r\nContent-Length: ".to_vec();
    m.extend_from_slice(format!("{}\r\n\r\n", len).as_bytes());
    m.extend((0..len).map(|i| b'a' + (i % 26) as u8));
    m
}

fn datagrams(evs: &[Event<'static>]) -> Vec<Datagram<'static>> {
    evs.iter()
        .filter_map(|e| match e {
            Event::Datagram(d) => Some(d.clone()),
            _ => None,
        })
        .collect()
}

fn v4_frags(msg: &[u8], id: u16, size: usize) -> Vec<Vec<u8>> {
    ipv4_fragments(A4, B4, 17, id, &udp(5060, 5060, msg), size)
}

fn timed(frames: &[Vec<u8>], linktype: u32) -> Vec<(i64, u32, Vec<u8>)> {
    frames
        .iter()
        .enumerate()
        .map(|(i, f)| (i as i64 * 1000, linktype, f.clone()))
        .collect()
}

#[test]
fn ipv4_in_order() {
    let msg = big_sip(3000);
    let frags = v4_frags(&msg, 1, 1480);
    assert_eq!(frags.len(), 3);
    let (evs, d) = run(Config::default(), &timed(&frags, lt::RAW));
    let dg = datagrams(&evs);
    assert_eq!(dg.len(), 1);
    assert_eq!(&dg[0].payload[..], &msg[..]);
    assert!(dg[0].reassembled && !dg[0].frag_overlap && !dg[0].is_truncated());
    assert_eq!(dg[0].ts_nanos, 2000, "time of the completing fragment");
    assert_eq!(dg[0].src.to_string(), "192.0.2.1:5060");
    let s = d.stats();
    assert_eq!((s.frag.fragments, s.frag.reassembled), (3, 1));
    assert_eq!(s.decoded, 4, "3 fragments + 1 reassembled datagram");
    assert_stats_invariant(&d);
}

#[test]
fn ipv4_every_order() {
    let msg = big_sip(2000);
    let frags = v4_frags(&msg, 2, 600);
    assert_eq!(frags.len(), 4);
    // All 24 permutations of 4 fragments.
    let mut perms: Vec<Vec<usize>> = vec![vec![]];
    for _ in 0..4 {
        let mut next = Vec::new();
        for p in &perms {
            for i in (0..4).filter(|i| !p.contains(i)) {
                next.push([p.clone(), vec![i]].concat());
            }
        }
        perms = next;
    }
    assert_eq!(perms.len(), 24);
    for p in perms {
        let order: Vec<_> = p.iter().map(|&i| frags[i].clone()).collect();
        let (evs, d) = run(Config::default(), &timed(&order, lt::RAW));
        let dg = datagrams(&evs);
        assert_eq!(dg.len(), 1, "{p:?}");
        assert_eq!(&dg[0].payload[..], &msg[..], "{p:?}");
        assert_eq!(d.buffered(), Default::default());
    }
}

#[test]
fn ipv4_overlaps_first_wins() {
    let msg = big_sip(1000);
    let dgram = udp(5060, 5060, &msg);
    let total = dgram.len();
    // [0, 512) then a conflicting [256, 768) then the rest [512, end).
    let f1 = ipv4_full(A4, B4, 17, 3, 0x2000, &[], &dgram[..512]);
    let mut evil = dgram[256..768].to_vec();
    evil.iter_mut().for_each(|b| *b = b'X');
    let f2 = ipv4_full(A4, B4, 17, 3, 0x2000 | (256 / 8), &[], &evil);
    let f3 = ipv4_full(A4, B4, 17, 3, 512 / 8, &[], &dgram[512..total]);
    let (evs, d) = run(
        Config::default(),
        &timed(&[f1.clone(), f2, f3.clone()], lt::RAW),
    );
    let dg = datagrams(&evs);
    assert_eq!(dg.len(), 1);
    // Bytes 256..512 keep the first copy; 512..768 were first supplied by the evil fragment.
    let mut want = dgram.clone();
    want[512..768].fill(b'X');
    assert_eq!(&dg[0].payload[..], &want[8..]);
    assert!(dg[0].frag_overlap);
    assert_eq!(d.stats().frag.overlaps, 2);
    assert_eq!(d.stats().frag.overlap_mismatches, 2);

    // Exact duplicates: flagged as overlap, no mismatch, same datagram.
    let (evs, d) = run(Config::default(), &timed(&[f1.clone(), f1, f3], lt::RAW));
    let dg = datagrams(&evs);
    assert_eq!(&dg[0].payload[..], &msg[..]);
    assert!(dg[0].frag_overlap);
    assert_eq!(
        (d.stats().frag.overlaps, d.stats().frag.overlap_mismatches),
        (1, 0)
    );
}

#[test]
fn never_completed_trains_expire_by_packet_time() {
    let frags = v4_frags(&big_sip(2000), 4, 1000);
    let other = ipv4(A4, B4, 17, &udp(1, 2, b"tick"));
    // The first fragment, then unrelated traffic 29 s and 31 s later.
    let frames = [
        (0, lt::RAW, frags[0].clone()),
        (29 * SEC, lt::RAW, other.clone()),
        (31 * SEC, lt::RAW, other.clone()),
        // The rest arrives too late to complete anything.
        (32 * SEC, lt::RAW, frags[1].clone()),
        (32 * SEC, lt::RAW, frags[2].clone()),
    ];
    let mut d = sipsentry_capture::Decoder::default();
    let mut n = 0;
    for (i, (ts, l, f)) in frames.iter().enumerate() {
        d.push_frame(*ts, *l, f, |e| {
            if let Event::Datagram(g) = e {
                assert!(!g.reassembled);
                n += 1;
            }
        });
        if i == 1 {
            assert_eq!(d.buffered().frag_trains, 1, "not yet expired at 29 s");
        }
        if i == 2 {
            assert_eq!(d.buffered().frag_trains, 0);
            assert_eq!(d.buffered().frag_bytes, 0);
            assert_eq!(d.stats().frag.expired, 1);
        }
    }
    assert_eq!(n, 2);
    assert_eq!(d.stats().frag.reassembled, 0);
    d.flush(|_| {});
    assert_eq!(
        d.stats().frag.expired,
        2,
        "the late pair is dropped at flush"
    );
    assert_eq!(d.buffered(), Default::default());
}

#[test]
fn timestamps_going_backwards_do_not_revive_the_clock() {
    let frags = v4_frags(&big_sip(2000), 5, 1000);
    let frames = vec![
        (100 * SEC, lt::RAW, frags[0].clone()),
        (200 * SEC, lt::RAW, ipv4(A4, B4, 1, &[0; 8])), // clock moves to 200 s: train expires
        (101 * SEC, lt::RAW, frags[1].clone()),         // an out-of-order timestamp
        (101 * SEC, lt::RAW, frags[2].clone()),
    ];
    let (evs, d) = run(Config::default(), &frames);
    assert!(datagrams(&evs).is_empty());
    assert_eq!(d.stats().frag.expired, 2);
}

#[test]
fn ipv6_fragments_with_extension_headers() {
    let msg = big_sip(2500);
    // Destination options inside the fragmentable part, hop-by-hop before the fragment header.
    let fragmentable = cat(&[&ext(17, 0, &[]), &udp(5060, 5062, &msg)]);
    let mut frames = Vec::new();
    let mut off = 0;
    while off < fragmentable.len() {
        let end = (off + 1232).min(fragmentable.len());
        let body = cat(&[
            &ext(44, 0, &[]),
            &frag6(60, off, end < fragmentable.len(), 0xDEAD_BEEF),
            &fragmentable[off..end],
        ]);
        frames.push(ipv6(a6(), b6(), 0, &body));
        off = end;
    }
    assert_eq!(frames.len(), 3);
    frames.reverse();
    let (evs, d) = run(Config::default(), &timed(&frames, lt::IPV6));
    let dg = datagrams(&evs);
    assert_eq!(dg.len(), 1);
    assert_eq!(&dg[0].payload[..], &msg[..]);
    assert_eq!(dg[0].src.to_string(), "[2001:db8::1]:5060");
    assert_eq!(d.stats().frag.reassembled, 1);
    assert_stats_invariant(&d);
}

#[test]
fn ipv6_fragments_plain_and_overlapping() {
    let msg = big_sip(3000);
    let frames = ipv6_fragments(a6(), b6(), 17, 7, &udp(5060, 5060, &msg), 1448);
    let mut all = frames.clone();
    all.insert(1, frames[0].clone()); // duplicate
    let (evs, d) = run(Config::default(), &timed(&all, lt::RAW));
    let dg = datagrams(&evs);
    assert_eq!(dg.len(), 1);
    assert_eq!(&dg[0].payload[..], &msg[..]);
    assert!(dg[0].frag_overlap);
    assert_eq!(d.stats().frag.overlaps, 1);
}

#[test]
fn fragment_ids_and_addresses_do_not_mix() {
    let m1 = big_sip(1500);
    let m2 = big_sip(1600);
    let a = ipv4_fragments(A4, B4, 17, 9, &udp(1, 2, &m1), 1000);
    let b = ipv4_fragments([192, 0, 2, 9], B4, 17, 9, &udp(1, 2, &m2), 1000);
    let c = ipv4_fragments(A4, B4, 17, 10, &udp(1, 2, &m2), 1000);
    assert_eq!((a.len(), b.len(), c.len()), (2, 2, 2));
    let frames = vec![
        a[0].clone(),
        b[0].clone(),
        c[0].clone(),
        c[1].clone(),
        b[1].clone(),
        a[1].clone(),
    ];
    let (evs, _) = run(Config::default(), &timed(&frames, lt::RAW));
    let dg: Vec<_> = datagrams(&evs)
        .into_iter()
        .map(|d| d.payload.into_owned())
        .collect();
    assert_eq!(dg, [m2.clone(), m2, m1]);
}

#[test]
fn train_and_byte_caps_evict_oldest() {
    let cfg = Config {
        frag: FragConfig {
            max_trains: 4,
            ..FragConfig::default()
        },
        ..Config::default()
    };
    let msgs: Vec<_> = (0..5).map(|i| big_sip(1000 + i)).collect();
    let fr: Vec<_> = msgs
        .iter()
        .enumerate()
        .map(|(i, m)| v4_frags(m, i as u16, 512))
        .collect();
    // First fragments of 5 trains: the 5th evicts train 0. Train 0's tail comes last (it
    // starts a new train, which would otherwise evict another).
    let mut frames: Vec<_> = fr.iter().map(|f| f[0].clone()).collect();
    for f in fr[1..].iter().chain(&fr[..1]) {
        frames.extend_from_slice(&f[1..]);
    }
    let (evs, d) = run(cfg, &timed(&frames, lt::RAW));
    let dg = datagrams(&evs);
    assert_eq!(dg.len(), 4);
    assert!(dg.iter().all(|g| g.payload[..] != msgs[0][..]));
    assert_eq!(d.stats().frag.evicted, 1);
    assert_eq!(d.stats().frag.expired, 1, "train 0's tail never completes");

    let cfg = Config {
        frag: FragConfig {
            max_total_bytes: 1500,
            ..FragConfig::default()
        },
        ..Config::default()
    };
    let mut d = sipsentry_capture::Decoder::new(cfg);
    for (i, f) in fr.iter().enumerate() {
        d.push_frame(i as i64, lt::RAW, &f[0], |_| {});
        assert!(d.buffered().frag_bytes <= 1500, "{:?}", d.buffered());
    }
    // Each first fragment is charged 512 + 64 bytes: two fit.
    assert_eq!(d.buffered().frag_trains, 2);
    assert_eq!(d.stats().frag.evicted, 3);
}

#[test]
fn oversize_inconsistent_and_too_many_pieces() {
    // Offset 65528 + 16 bytes: beyond 65535 ("ping of death").
    let pod = ipv4_full(A4, B4, 17, 1, 8191, &[], &[0; 16]);
    // Two different ends.
    let e1 = ipv4_full(A4, B4, 17, 2, 1, &[], &[0; 8]);
    let e2 = ipv4_full(A4, B4, 17, 2, 2, &[], &[0; 8]);
    // A more-fragments piece beyond a known end.
    let e3 = ipv4_full(A4, B4, 17, 3, 1, &[], &[0; 8]);
    let e4 = ipv4_full(A4, B4, 17, 3, 0x2000 | 4, &[], &[0; 8]);
    let (_, d) = run(Config::default(), &timed(&[pod, e1, e2, e3, e4], lt::RAW));
    assert_eq!(d.stats().frag.oversize, 1);
    assert_eq!(d.stats().frag.inconsistent, 2);

    let cfg = Config {
        frag: FragConfig {
            max_fragments_per_train: 4,
            ..FragConfig::default()
        },
        ..Config::default()
    };
    let frags = v4_frags(&big_sip(100), 5, 16);
    assert!(frags.len() > 5);
    let (evs, d) = run(cfg, &timed(&frags, lt::RAW));
    assert!(datagrams(&evs).is_empty());
    // The 5th piece drops the train; the 6th..9th start a new one, which the 10th drops.
    assert_eq!(frags.len(), 11);
    assert_eq!(d.stats().frag.too_many_fragments, 2);
}

#[test]
fn truncated_fragments_are_not_reassembled() {
    let frags = v4_frags(&big_sip(2000), 6, 1000);
    let mut frames: Vec<_> = frags.clone();
    frames[1].truncate(100);
    let (evs, d) = run(Config::default(), &timed(&frames, lt::RAW));
    assert!(datagrams(&evs).is_empty());
    assert_eq!(d.stats().frag.truncated, 1);
    assert_eq!(d.stats().truncated, 1);
}

#[test]
fn fragmented_tunnels() {
    let msg = big_sip(1800);
    // Outer IPv4 fragmented, carrying IPv4-in-IPv4 with UDP inside.
    let inner = ipv4(A4, B4, 17, &udp(5060, 5060, &msg));
    let outer = ipv4_fragments([10, 0, 0, 1], [10, 0, 0, 2], 4, 77, &inner, 1000);
    let (evs, d) = run(Config::default(), &timed(&outer, lt::RAW));
    let dg = datagrams(&evs);
    assert_eq!(dg.len(), 1);
    assert_eq!(&dg[0].payload[..], &msg[..]);
    assert_eq!(dg[0].tunnel_depth, 1);
    assert_eq!(dg[0].src.to_string(), "192.0.2.1:5060");
    assert_stats_invariant(&d);

    // Inner IPv6 fragments inside unfragmented GRE.
    let inner = ipv6_fragments(a6(), b6(), 17, 5, &udp(5060, 5060, &msg), 1000);
    let frames: Vec<_> = inner
        .iter()
        .map(|f| ipv4([10, 0, 0, 1], [10, 0, 0, 2], 47, &gre(0x86DD, 0, f)))
        .collect();
    let (evs, _) = run(Config::default(), &timed(&frames, lt::RAW));
    let dg = datagrams(&evs);
    assert_eq!(dg.len(), 1);
    assert_eq!(&dg[0].payload[..], &msg[..]);
    assert_eq!(dg[0].tunnel_depth, 1);
}

#[test]
fn malformed_reassembled_datagram_is_counted() {
    // The reassembled payload holds a UDP header whose length exceeds it.
    let mut dgram = udp(1, 2, &[0u8; 100]);
    dgram[4..6].copy_from_slice(&500u16.to_be_bytes());
    let frags = ipv4_fragments(A4, B4, 17, 8, &dgram, 64);
    let (evs, d) = run(Config::default(), &timed(&frags, lt::RAW));
    assert!(evs.is_empty());
    assert_eq!(d.stats().malformed.get(DecodeError::BadUdpLength), 1);
    assert_stats_invariant(&d);
}

#[test]
fn fragmented_tcp_segment_feeds_the_stream() {
    let msg = big_sip(3000);
    let seg = tcp(40000, 5060, 100, PSH | ACK, &msg);
    let frags = ipv4_fragments(A4, B4, 6, 11, &seg, 1480);
    let (evs, _) = run(Config::default(), &timed(&frags, lt::RAW));
    let data: Vec<u8> = evs
        .iter()
        .filter_map(|e| match e {
            Event::StreamData(s) => Some(s.bytes.to_vec()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(data, msg);
}

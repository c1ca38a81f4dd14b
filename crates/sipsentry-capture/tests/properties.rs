//! Property and fuzz-style tests: no panics on arbitrary input, bounded memory under floods,
//! and reassembly that is insensitive to order and duplication.

mod common;

use common::*;
use proptest::prelude::*;
use sipsentry_capture::{
    fuzz_pcap, fuzz_reassembly, linktype as lt, Config, Decoder, Event, FragConfig, PcapReader,
    TcpConfig,
};

const LINKTYPES: [u32; 11] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 4242];

/// Valid frames of every kind, to mutate.
fn seeds() -> Vec<(u32, Vec<u8>)> {
    let u4 = ipv4(
        A4,
        B4,
        17,
        &udp(5060, 5060, b"REGISTER sip:x SIP/2.0\r\n\r\n"),
    );
    let u6 = ipv6(a6(), b6(), 17, &udp(5060, 5060, b"SIP/2.0 200 OK\r\n\r\n"));
    let t4 = ipv4(A4, B4, 6, &tcp(1, 5060, 7, ACK, b"INVITE"));
    let ext6 = ipv6(
        a6(),
        b6(),
        0,
        &cat(&[
            &ext(60, 0, &[]),
            &ext(51, 0, &[]),
            &ah(44, 1),
            &frag6(17, 8, true, 3),
            &[0; 16],
        ]),
    );
    vec![
        (lt::EN10MB, eth(0x0800, &u4)),
        (
            lt::EN10MB,
            eth_tagged(&[(0x88A8, 1), (0x8100, 2)], 0x86DD, &u6),
        ),
        (lt::EN10MB, pppoe(0x0021, &t4)),
        (lt::EN10MB, eth(0x8847, &cat(&[&[0, 1, 1, 0x40], &u4]))),
        (
            lt::EN10MB,
            eth(
                0x0800,
                &ipv4(
                    [10, 0, 0, 1],
                    [10, 0, 0, 2],
                    47,
                    &erspan3(&eth(0x0800, &u4), true),
                ),
            ),
        ),
        (
            lt::EN10MB,
            eth(
                0x0800,
                &ipv4(
                    [10, 0, 0, 1],
                    [10, 0, 0, 2],
                    47,
                    &erspan2(&eth(0x86DD, &u6)),
                ),
            ),
        ),
        (lt::NULL, null(30, true, &u6)),
        (
            lt::LOOP,
            null(2, false, &ipv4([1, 1, 1, 1], [2, 2, 2, 2], 4, &u4)),
        ),
        (lt::RAW, ext6),
        (
            lt::LINUX_SLL,
            sll(0x0800, &ipv4_full(A4, B4, 17, 5, 0x2000, &[1; 8], &[0; 64])),
        ),
        (lt::LINUX_SLL2, sll2(0x86DD, &ipv6(a6(), b6(), 41, &u6))),
        (
            lt::IPV4,
            ipv4(A4, B4, 47, &gre(0x6558, 0xB000, &eth(0x0800, &u4))),
        ),
    ]
}

fn check_decoder_invariants(d: &Decoder, cfg: &Config) {
    let b = d.buffered();
    assert!(b.tcp_flows <= cfg.tcp.max_flows);
    assert!(b.tcp_bytes <= cfg.tcp.max_total_bytes);
    assert!(b.frag_trains <= cfg.frag.max_trains);
    assert!(b.frag_bytes <= cfg.frag.max_total_bytes);
    assert_stats_invariant(d);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_as_a_capture(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        fuzz_pcap(&data);
    }

    #[test]
    fn arbitrary_records_after_valid_headers(
        body in proptest::collection::vec(any::<u8>(), 0..2048),
        kind in 0u8..6,
    ) {
        let header = match kind {
            0 => pcap_file(false, false, 1, &[]),
            1 => pcap_file(true, true, 101, &[]),
            2 => pcap_file(false, true, 113, &[]),
            3 => Ng::new(false).idb(1, None, None).out.clone(),
            4 => Ng::new(true).idb(229, Some(0x85), Some(-5)).out.clone(),
            _ => pcap_file(true, false, 276, &[]),
        };
        let file = cat(&[&header, &body]);
        fuzz_pcap(&file);
        fuzz_pcap(&gzip(&file));
    }

    #[test]
    fn arbitrary_frames_never_panic(
        frames in proptest::collection::vec((0usize..LINKTYPES.len(), proptest::collection::vec(any::<u8>(), 0..200)), 1..40)
    ) {
        let cfg = Config::default();
        let mut d = Decoder::new(cfg);
        for (i, (lti, f)) in frames.iter().enumerate() {
            d.push_frame(i as i64, LINKTYPES[*lti], f, |_| {});
        }
        d.flush(|_| {});
        check_decoder_invariants(&d, &cfg);
    }

    #[test]
    fn mutated_valid_frames_never_panic(
        which in 0usize..12,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in any::<prop::sample::Index>(),
        do_cut in any::<bool>(),
    ) {
        let (linktype, mut f) = seeds()[which].clone();
        for (at, v) in &flips {
            let i = at.index(f.len());
            f[i] = *v;
        }
        if do_cut {
            f.truncate(cut.index(f.len() + 1));
        }
        let cfg = Config::default();
        let mut d = Decoder::new(cfg);
        d.push_frame(0, linktype, &f, |e| {
            if let Event::Datagram(g) = e {
                assert!(g.payload.len() <= g.len);
            }
        });
        d.flush(|_| {});
        check_decoder_invariants(&d, &cfg);
    }

    #[test]
    fn reassembly_script(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        fuzz_reassembly(&data);
    }

    /// Any order and any duplication of a stream's segments yields the original bytes.
    #[test]
    fn tcp_order_and_duplicates_do_not_matter(
        cuts in proptest::collection::btree_set(1usize..999, 0..30),
        order in any::<prop::sample::Index>(),
        dups in proptest::collection::vec(any::<prop::sample::Index>(), 0..10),
        isn in any::<u32>(),
    ) {
        let msg: Vec<u8> = (0..1000u32).map(|i| (i * 31 % 251) as u8).collect();
        let mut bounds: Vec<usize> = std::iter::once(0).chain(cuts).chain(std::iter::once(1000)).collect();
        bounds.dedup();
        let mut segs: Vec<(u32, Vec<u8>)> = bounds
            .windows(2)
            .map(|w| (isn.wrapping_add(1).wrapping_add(w[0] as u32), msg[w[0]..w[1]].to_vec()))
            .collect();
        for d in &dups {
            let s = segs[d.index(segs.len())].clone();
            segs.push(s);
        }
        // A deterministic shuffle driven by `order`.
        let n = segs.len();
        let mut k = order.index(usize::MAX / 2) | 1;
        for i in (1..n).rev() {
            k = k.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            segs.swap(i, (k >> 33) % (i + 1));
        }
        let mut frames = vec![(0, lt::RAW, ipv4(A4, B4, 6, &tcp(1, 2, isn, SYN, b"")))];
        for (seq, p) in &segs {
            frames.push((1, lt::RAW, ipv4(A4, B4, 6, &tcp(1, 2, *seq, ACK, p))));
        }
        let (evs, d) = run(Config::default(), &frames);
        let mut got = Vec::new();
        for e in &evs {
            match e {
                Event::StreamData(s) => {
                    prop_assert_eq!(s.offset as usize, got.len());
                    got.extend_from_slice(&s.bytes);
                }
                Event::StreamGap(_) => prop_assert!(false, "unexpected gap"),
                _ => {}
            }
        }
        prop_assert_eq!(got, msg);
        prop_assert_eq!(d.stats().tcp.overlap_mismatches, 0);
    }

    /// Any order and duplication of fragments yields the original datagram.
    #[test]
    fn fragment_order_and_duplicates_do_not_matter(
        size8 in 1usize..40,
        order in any::<prop::sample::Index>(),
        dup in proptest::option::of(any::<prop::sample::Index>()),
        v6 in any::<bool>(),
    ) {
        let msg: Vec<u8> = (0..1500u32).map(|i| (i * 7 % 253) as u8).collect();
        let dgram = udp(5060, 5060, &msg);
        let mut frags = if v6 {
            ipv6_fragments(a6(), b6(), 17, 99, &dgram, size8 * 8)
        } else {
            ipv4_fragments(A4, B4, 17, 99, &dgram, size8 * 8)
        };
        if let Some(d) = dup {
            let f = frags[d.index(frags.len())].clone();
            frags.push(f);
        }
        let n = frags.len();
        let mut k = order.index(usize::MAX / 2) | 1;
        for i in (1..n).rev() {
            k = k.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            frags.swap(i, (k >> 33) % (i + 1));
        }
        let frames: Vec<_> = frags.into_iter().map(|f| (0, lt::RAW, f)).collect();
        let (evs, d) = run(Config::default(), &frames);
        let dg: Vec<_> = evs.iter().filter_map(|e| match e { Event::Datagram(g) => Some(g), _ => None }).collect();
        // A duplicate of a fragment arriving after completion starts a new (never completed)
        // train; either way exactly one datagram, equal to the original.
        prop_assert_eq!(dg.len(), 1);
        prop_assert_eq!(&dg[0].payload[..], &msg[..]);
        prop_assert_eq!(d.stats().frag.overlap_mismatches, 0);
    }
}

#[test]
fn flood_of_fragment_trains_stays_bounded() {
    let cfg = Config::default();
    let mut d = Decoder::new(cfg);
    let payload = [0x42u8; 256];
    let mut max = sipsentry_capture::BufferUsage::default();
    for i in 0..200_000u32 {
        let src = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
        // Alternate first and non-first fragments; none completes.
        let frag = if i % 2 == 0 { 0x2000 } else { 0x2000 | 100 };
        let f = ipv4_full(src, B4, 17, i as u16, frag, &[], &payload);
        d.push_frame(i as i64, lt::RAW, &f, |_| panic!("nothing completes"));
        let b = d.buffered();
        assert!(b.frag_trains <= cfg.frag.max_trains);
        assert!(b.frag_bytes <= cfg.frag.max_total_bytes);
        max.frag_trains = max.frag_trains.max(b.frag_trains);
        max.frag_bytes = max.frag_bytes.max(b.frag_bytes);
    }
    assert_eq!(max.frag_trains, 1024);
    assert_eq!(
        max.frag_bytes,
        1024 * (256 + sipsentry_capture::PIECE_OVERHEAD)
    );
    assert_eq!(d.stats().frag.evicted, 200_000 - 1024);
    // A tighter byte cap binds before the train cap.
    let cfg = Config {
        frag: FragConfig {
            max_total_bytes: 64 * 1024,
            ..FragConfig::default()
        },
        ..Config::default()
    };
    let mut d = Decoder::new(cfg);
    for i in 0..20_000u32 {
        let src = [10, 0, (i >> 8) as u8, i as u8];
        let f = ipv4_full(src, B4, 17, 1, 0x2000 | 50, &[], &[0; 1024]);
        d.push_frame(0, lt::RAW, &f, |_| {});
        assert!(d.buffered().frag_bytes <= 64 * 1024);
    }
    assert_eq!(d.buffered().frag_trains, 64 * 1024 / (1024 + 64));
}

#[test]
fn flood_of_tcp_flows_stays_bounded() {
    let cfg = Config::default();
    let mut d = Decoder::new(cfg);
    let mut closed = 0u64;
    for i in 0..200_000u32 {
        let src = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
        // Each flow: one in-order byte then an out-of-order segment that stays buffered.
        let a = ipv4(src, B4, 6, &tcp(1024, 5060, 1000, ACK, b"x"));
        let b = ipv4(src, B4, 6, &tcp(1024, 5060, 1100, ACK, &[b'y'; 100]));
        for f in [a, b] {
            d.push_frame(i as i64, lt::RAW, &f, |e| {
                if matches!(e, Event::StreamClosed(_)) {
                    closed += 1;
                }
            });
        }
        let u = d.buffered();
        assert!(u.tcp_flows <= cfg.tcp.max_flows);
        assert!(u.tcp_bytes <= cfg.tcp.max_total_bytes);
    }
    assert_eq!(d.buffered().tcp_flows, 65_536);
    assert_eq!(d.stats().tcp.evicted, 200_000 - 65_536);
    assert_eq!(closed, 200_000 - 65_536);
    // 65 536 × (100 + 64) bytes buffered: under the 64 MiB total.
    assert_eq!(d.buffered().tcp_bytes, 65_536 * 164);
    d.flush(|_| {});
    assert_eq!(d.buffered(), Default::default());
    assert_eq!(d.stats().tcp.gaps, 200_000);

    // With a total cap that binds, the flow that crosses it is flushed.
    let cfg = Config {
        tcp: TcpConfig {
            max_total_bytes: 1 << 20,
            ..TcpConfig::default()
        },
        ..Config::default()
    };
    let mut d = Decoder::new(cfg);
    for i in 0..50_000u32 {
        let src = [10, 1, (i >> 8) as u8, i as u8];
        for f in [
            ipv4(src, B4, 6, &tcp(1024, 5060, 1000, ACK, b"x")),
            ipv4(src, B4, 6, &tcp(1024, 5060, 1100, ACK, &[b'y'; 400])),
        ] {
            d.push_frame(0, lt::RAW, &f, |_| {});
        }
        assert!(d.buffered().tcp_bytes <= 1 << 20);
    }
    assert!(d.stats().tcp.forced_flushes > 0);
}

#[test]
fn real_captures_through_the_fuzz_entry_point() {
    let dir = pcaps_dir();
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let Some(ext) = p.extension().and_then(|e| e.to_str()) else {
            continue;
        };
        if !["pcap", "pcapng", "cap"].contains(&ext) {
            continue;
        }
        let data = std::fs::read(&p).unwrap();
        fuzz_pcap(&data);
        // Truncated and bit-flipped variants.
        fuzz_pcap(&data[..data.len() * 2 / 3]);
        let mut flipped = data.clone();
        for i in (100..flipped.len()).step_by(97) {
            flipped[i] ^= 0x5A;
        }
        fuzz_pcap(&flipped);
        assert!(PcapReader::new(&data[..]).is_ok());
        n += 1;
    }
    assert!(n >= 6, "expected the copied captures in {}", dir.display());
}

//! Capture-file reading: classic pcap and pcapng in both byte orders, timestamp resolutions,
//! block kinds, gzip, truncation and malformed framing.

mod common;

use common::*;
use sipsentry_capture::pcap::{Error, Format, PcapReader, ReaderStats, MAX_PACKET_LEN};
use sipsentry_capture::ByteOrder;

#[derive(Debug, PartialEq)]
struct P {
    ts: i64,
    lt: u32,
    orig: u32,
    iface: u32,
    data: Vec<u8>,
}

/// Reads everything; returns the packets and the terminating error, if any.
fn read_all(file: &[u8]) -> (Vec<P>, Option<Error>, ReaderStats) {
    let mut rd = PcapReader::new(file).expect("header");
    let mut out = Vec::new();
    let err = loop {
        match rd.next_packet() {
            Ok(Some(p)) => out.push(P {
                ts: p.ts_nanos,
                lt: p.linktype,
                orig: p.orig_len,
                iface: p.interface,
                data: p.data.to_vec(),
            }),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    // Finished readers stay finished.
    assert!(matches!(rd.next_packet(), Ok(None)));
    (out, err, *rd.stats())
}

fn frames() -> Vec<(i64, Vec<u8>)> {
    vec![
        (1_700_000_000_123_456_789, vec![1, 2, 3]),
        (1_700_000_001_000_000_001, vec![]),
        (1_700_000_002_999_999_999, (0..=255).collect()),
    ]
}

#[test]
fn classic_pcap_all_magics() {
    for big in [false, true] {
        for nanos in [false, true] {
            let file = pcap_file(big, nanos, 1, &frames());
            let rd = PcapReader::new(&file[..]).unwrap();
            let order = if big {
                ByteOrder::Big
            } else {
                ByteOrder::Little
            };
            assert_eq!(
                rd.format(),
                Format::Pcap {
                    byte_order: order,
                    nanos,
                    modified: false
                }
            );
            assert!(!rd.is_compressed());
            let (pkts, err, _) = read_all(&file);
            assert!(err.is_none());
            assert_eq!(pkts.len(), 3);
            for (p, (ts, data)) in pkts.iter().zip(frames()) {
                let want = if nanos { ts } else { ts / 1000 * 1000 };
                assert_eq!(p.ts, want, "big {big} nanos {nanos}");
                assert_eq!(p.data, data);
                assert_eq!(p.lt, 1);
                assert_eq!(p.orig, data.len() as u32);
            }
        }
    }
}

#[test]
fn classic_pcap_fcs_bits_masked_and_modified_format() {
    let mut file = pcap_file(false, false, 1, &frames());
    // LinkType field with FCS-present bits set.
    file[20..24].copy_from_slice(&(0x1400_0000u32 | 101).to_le_bytes());
    let (pkts, _, _) = read_all(&file);
    assert_eq!(pkts[0].lt, 101);

    // Kuznetzov modified pcap: 24-byte record headers.
    let mut m = pcap_file(true, false, 1, &[]);
    m[..4].copy_from_slice(&[0xa1, 0xb2, 0xcd, 0x34]);
    m.extend_from_slice(&5u32.to_be_bytes());
    m.extend_from_slice(&7u32.to_be_bytes());
    m.extend_from_slice(&2u32.to_be_bytes());
    m.extend_from_slice(&9u32.to_be_bytes());
    m.extend_from_slice(&[0; 8]); // ifindex, protocol, pkt_type, pad
    m.extend_from_slice(&[0xAB, 0xCD]);
    let rd = PcapReader::new(&m[..]).unwrap();
    assert!(matches!(rd.format(), Format::Pcap { modified: true, .. }));
    let (pkts, err, _) = read_all(&m);
    assert!(err.is_none());
    assert_eq!(
        pkts,
        [P {
            ts: 5_000_007_000,
            lt: 1,
            orig: 9,
            iface: 0,
            data: vec![0xAB, 0xCD]
        }]
    );
}

#[test]
fn classic_pcap_errors() {
    // Version 3.
    let mut f = pcap_file(false, false, 1, &[]);
    f[4] = 3;
    assert!(matches!(
        PcapReader::new(&f[..]),
        Err(Error::UnsupportedVersion { major: 3, minor: 4 })
    ));
    // Header cut short.
    let f = pcap_file(false, false, 1, &[]);
    for cut in [4, 10, 23] {
        assert!(matches!(
            PcapReader::new(&f[..cut]),
            Err(Error::Truncated {
                what: "file header",
                ..
            })
        ));
    }
    // Oversized record: fatal, after the packets before it.
    let mut f = pcap_file(false, false, 1, &frames()[..1]);
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&(MAX_PACKET_LEN + 1).to_le_bytes());
    f.extend_from_slice(&(MAX_PACKET_LEN + 1).to_le_bytes());
    let (pkts, err, _) = read_all(&f);
    assert_eq!(pkts.len(), 1);
    assert!(
        matches!(err, Some(Error::PacketTooLarge { offset: 43, len }) if len == MAX_PACKET_LEN + 1)
    );
    // Exactly the cap is fine.
    let big = vec![(0, vec![0x55; MAX_PACKET_LEN as usize])];
    let (pkts, err, _) = read_all(&pcap_file(true, true, 1, &big));
    assert!(err.is_none());
    assert_eq!(pkts[0].data.len(), MAX_PACKET_LEN as usize);
}

#[test]
fn truncation_at_every_offset_keeps_prior_packets() {
    let full = pcap_file(false, true, 1, &frames());
    let boundaries = [24usize, 24 + 16 + 3, 24 + 16 + 3 + 16];
    for cut in 24..full.len() {
        let (pkts, err, _) = read_all(&full[..cut]);
        let complete = boundaries.iter().filter(|&&b| b <= cut).count() - 1;
        assert_eq!(pkts.len(), complete, "cut {cut}");
        if boundaries.contains(&cut) {
            assert!(err.is_none(), "cut {cut}: clean end at a record boundary");
        } else {
            assert!(
                matches!(err, Some(Error::Truncated { .. })),
                "cut {cut}: {err:?}"
            );
        }
    }
}

fn ng_sample(big: bool) -> Vec<u8> {
    let mut ng = Ng::new(big);
    ng.idb(1, None, None) // µs
        .idb(101, Some(9), None) // ns
        .idb(113, Some(0x80 | 20), Some(100)) // 2^-20 s, +100 s
        .epb(0, 1_700_000_000_000_001, &[1, 2, 3])
        .block(4, &[0xEE; 17]) // NRB: skipped
        .epb(1, 1_700_000_000_000_000_002, &[4; 5])
        .epb(2, 3 << 20, &[9])
        .block(0x0BAD, &[]) // unknown: skipped
        .spb(&[7, 7, 7, 7, 7])
        .pb(1, 42, &[8, 8]);
    ng.out
}

#[test]
fn pcapng_both_byte_orders() {
    for big in [false, true] {
        let file = ng_sample(big);
        assert_eq!(PcapReader::new(&file[..]).unwrap().format(), Format::PcapNg);
        let (pkts, err, st) = read_all(&file);
        assert!(err.is_none(), "{err:?}");
        let want = [
            P {
                ts: 1_700_000_000_000_001_000,
                lt: 1,
                orig: 13,
                iface: 0,
                data: vec![1, 2, 3],
            },
            P {
                ts: 1_700_000_000_000_000_002,
                lt: 101,
                orig: 15,
                iface: 1,
                data: vec![4; 5],
            },
            P {
                ts: 103_000_000_000,
                lt: 113,
                orig: 11,
                iface: 2,
                data: vec![9],
            },
            // SPB: interface 0, no timestamp (inherits the previous packet's).
            P {
                ts: 103_000_000_000,
                lt: 1,
                orig: 5,
                iface: 0,
                data: vec![7; 5],
            },
            P {
                ts: 42,
                lt: 101,
                orig: 2,
                iface: 1,
                data: vec![8, 8],
            },
        ];
        assert_eq!(pkts, want, "big-endian {big}");
        assert_eq!(st.sections, 1);
        assert_eq!(st.interfaces, 3);
        assert_eq!(st.skipped_blocks, 2);
        assert_eq!(st.packets, 5);
    }
}

#[test]
fn pcapng_multiple_sections_switch_byte_order_and_reset_interfaces() {
    let mut ng = Ng::new(false);
    ng.idb(1, None, None).epb(0, 1, &[1]);
    ng.new_section(true);
    ng.idb(101, None, None).epb(0, 2, &[2]);
    // Interface 1 does not exist in this section: skipped and counted.
    ng.epb(1, 3, &[3]);
    ng.new_section(false);
    ng.epb(0, 4, &[4]); // no interfaces yet in this section
    ng.idb(228, Some(9), None).epb(0, 5, &[5]);
    let (pkts, err, st) = read_all(&ng.out);
    assert!(err.is_none(), "{err:?}");
    let got: Vec<_> = pkts.iter().map(|p| (p.lt, p.ts, p.data[0])).collect();
    assert_eq!(got, [(1, 1000, 1), (101, 2000, 2), (228, 5, 5)]);
    assert_eq!(st.sections, 3);
    assert_eq!(st.unknown_interface, 2);
}

#[test]
fn pcapng_oversized_and_malformed_packet_blocks_are_skipped() {
    let mut ng = Ng::new(false);
    ng.idb(1, None, None);
    ng.epb(0, 1, &vec![0; MAX_PACKET_LEN as usize + 8]); // block > MAX_BLOCK_LEN? no: caplen > cap
                                                         // EPB whose captured length exceeds the block.
    let mut b = ng.w32(0).to_vec();
    b.extend_from_slice(&ng.w32(0));
    b.extend_from_slice(&ng.w32(0));
    b.extend_from_slice(&ng.w32(100));
    b.extend_from_slice(&ng.w32(100));
    b.extend_from_slice(&[0; 8]);
    ng.block(6, &b);
    // EPB too short for its fixed fields.
    ng.block(6, &[0; 8]);
    // A block larger than MAX_BLOCK_LEN: streamed past without buffering.
    ng.epb(0, 2, &vec![0; 400 * 1024]);
    ng.epb(0, 3, &[0xCC]);
    let (pkts, err, st) = read_all(&ng.out);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(pkts.len(), 1);
    assert_eq!(pkts[0].data, [0xCC]);
    assert_eq!(st.oversized, 2);
    assert_eq!(st.malformed_blocks, 2);
}

#[test]
fn pcapng_framing_errors_are_fatal() {
    // Block length not a multiple of 4.
    let mut ng = Ng::new(false);
    ng.idb(1, None, None).epb(0, 1, &[1]);
    let good = ng.out.len();
    ng.epb(0, 2, &[2]);
    let mut f = ng.out.clone();
    f[good + 4..good + 8].copy_from_slice(&13u32.to_le_bytes());
    let (pkts, err, _) = read_all(&f);
    assert_eq!(pkts.len(), 1);
    assert!(matches!(
        err,
        Some(Error::BadBlockLength {
            len: 13,
            block_type: 6,
            ..
        })
    ));
    // Trailing length differs from the leading one.
    let mut f = ng.out.clone();
    let n = f.len();
    f[n - 4..].copy_from_slice(&999u32.to_le_bytes());
    let (pkts, err, _) = read_all(&f);
    assert_eq!(pkts.len(), 1);
    assert!(matches!(err, Some(Error::BadBlockLength { len: 999, .. })));
    // Bad byte-order magic in a later section header.
    let mut ng2 = Ng::new(false);
    ng2.idb(1, None, None).epb(0, 1, &[1]);
    let at = ng2.out.len();
    ng2.new_section(false);
    let mut f = ng2.out.clone();
    f[at + 8..at + 12].copy_from_slice(b"XXXX");
    let (pkts, err, _) = read_all(&f);
    assert_eq!(pkts.len(), 1);
    assert!(matches!(err, Some(Error::BadByteOrderMagic { magic, .. }) if &magic == b"XXXX"));
    // Unsupported major version.
    let mut f = Ng::new(true).out;
    f[12..14].copy_from_slice(&2u16.to_be_bytes());
    assert!(matches!(
        PcapReader::new(&f[..]),
        Err(Error::UnsupportedVersion { major: 2, .. })
    ));
    // An interface block larger than the cap.
    let mut ng3 = Ng::new(false);
    let mut body = ng3.w16(1).to_vec();
    body.extend_from_slice(&[0; 6]);
    body.extend_from_slice(&vec![0; 400 * 1024]);
    ng3.block(1, &body);
    let (_, err, _) = read_all(&ng3.out);
    assert!(matches!(err, Some(Error::BlockTooLarge { .. })));
}

#[test]
fn pcapng_truncated_anywhere() {
    let full = ng_sample(false);
    let (all, _, _) = read_all(&full);
    for cut in 4..full.len() {
        let Ok(mut rd) = PcapReader::new(&full[..cut]) else {
            continue; // cut inside the first section header
        };
        let mut n = 0;
        let res = loop {
            match rd.next_packet() {
                Ok(Some(p)) => {
                    assert_eq!(p.data, &all[n].data[..]);
                    n += 1;
                }
                other => break other.map(|_| ()),
            }
        };
        assert!(n <= all.len());
        if let Err(e) = res {
            assert!(matches!(e, Error::Truncated { .. }), "cut {cut}: {e:?}");
        }
    }
}

#[test]
fn gzip_both_formats_and_multi_member() {
    for file in [pcap_file(true, true, 1, &frames()), ng_sample(true)] {
        let (plain, _, _) = read_all(&file);
        let gz = gzip(&file);
        let rd = PcapReader::new(&gz[..]).unwrap();
        assert!(rd.is_compressed());
        let (unz, err, _) = read_all(&gz);
        assert!(err.is_none());
        assert_eq!(plain, unz);
        // Two gzip members (as `cat a.gz b.gz` makes) decode as one stream.
        let half = file.len() / 2;
        let two = [gzip(&file[..half]), gzip(&file[half..])].concat();
        let (unz2, err, _) = read_all(&two);
        assert!(err.is_none());
        assert_eq!(plain, unz2);
    }
}

#[test]
fn gzip_truncated_and_corrupt() {
    let file = pcap_file(false, false, 1, &frames());
    let gz = gzip(&file);
    // Cutting the compressed stream anywhere (even inside the 8-byte trailer, after all the
    // data) is reported as truncation, after the complete packets before the cut.
    let (all, _, _) = read_all(&file);
    for cut in 0..gz.len() {
        let mut rd = match PcapReader::new(&gz[..cut]) {
            Ok(rd) => rd,
            Err(e) => {
                assert!(matches!(e, Error::Truncated { .. }), "cut {cut}: {e:?}");
                continue;
            }
        };
        let mut n = 0;
        loop {
            match rd.next_packet() {
                Ok(Some(p)) => {
                    assert_eq!(p.data, &all[n].data[..]);
                    n += 1;
                }
                Ok(None) => panic!("cut {cut}: truncated gzip read as a clean end"),
                Err(e) => {
                    assert!(matches!(e, Error::Truncated { .. }), "cut {cut}: {e:?}");
                    break;
                }
            }
        }
        if cut >= gz.len() - 8 {
            assert_eq!(
                n,
                all.len(),
                "cut {cut} inside the trailer keeps every packet"
            );
        }
    }
    // Corrupt deflate data.
    let mut bad = gz.clone();
    for b in bad.iter_mut().skip(12).take(8) {
        *b ^= 0xFF;
    }
    match PcapReader::new(&bad[..]) {
        Ok(mut rd) => while let Ok(Some(_)) = rd.next_packet() {},
        Err(e) => assert!(
            matches!(
                e,
                Error::Gzip(_) | Error::UnknownFormat { .. } | Error::Truncated { .. }
            ),
            "{e:?}"
        ),
    }
    // Gzip inside gzip is not unwrapped twice.
    assert!(matches!(
        PcapReader::new(&gzip(&gz)[..]),
        Err(Error::UnknownFormat {
            magic: [0x1f, 0x8b, ..]
        })
    ));
}

#[test]
fn format_is_detected_by_content_not_name() {
    let dir = std::env::temp_dir().join(format!("sipsentry-capture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("looks-like.pcapng.gz");
    std::fs::write(&path, pcap_file(false, false, 1, &frames())).unwrap();
    let mut rd = PcapReader::open(&path).unwrap();
    assert!(matches!(rd.format(), Format::Pcap { .. }));
    assert!(!rd.is_compressed());
    assert!(rd.next_packet().unwrap().is_some());
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(
        PcapReader::open(dir.join("missing")),
        Err(Error::Io(_))
    ));
}

#[test]
fn reader_reuses_one_buffer() {
    // Many packets of varying size: all data must come back intact (the buffer is reused and
    // only grows).
    let pkts: Vec<(i64, Vec<u8>)> = (0..500)
        .map(|i| (i as i64, vec![i as u8; (i * 37) % 1500]))
        .collect();
    let (got, err, _) = read_all(&pcap_file(false, true, 1, &pkts));
    assert!(err.is_none());
    for (g, (ts, d)) in got.iter().zip(&pkts) {
        assert_eq!(g.ts, *ts);
        assert_eq!(&g.data, d);
    }
}

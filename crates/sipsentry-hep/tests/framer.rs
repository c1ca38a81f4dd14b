//! HEP3 over TCP: split, merged and garbage-laden streams.

mod common;

use common::*;
use sipsentry_hep::{decode, HepStreamFramer};

fn packets() -> Vec<Vec<u8>> {
    vec![
        SPEC_EXAMPLE.to_vec(),
        packet_with(&[], b"REGISTER sip:example.com SIP/2.0\r\n\r\n"),
        // A payload that itself contains "HEP3" and a plausible header: framing goes by the
        // total length, so it must not split the packet.
        packet_with(
            &[],
            b"HEP3\x00\x0d\x00\x00\x00\x0b\x00\x07\x01 inside a payload",
        ),
        packet_with(&[chunk_v(7, 7, &[0; 300])], &vec![b'x'; 1200]),
    ]
}

/// Push `stream` `step` bytes at a time; return the frames and skipped count.
fn run(stream: &[u8], step: usize, framer: &mut HepStreamFramer) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for piece in stream.chunks(step) {
        let mut rest = piece;
        loop {
            let n = framer.push(rest);
            rest = &rest[n..];
            while let Some(f) = framer.next_frame() {
                out.push(f.to_vec());
            }
            if rest.is_empty() {
                break;
            }
            assert!(n > 0, "no progress");
        }
    }
    out
}

#[test]
fn merged_packets_in_one_push() {
    let stream = packets().concat();
    let mut f = HepStreamFramer::new();
    assert_eq!(run(&stream, stream.len(), &mut f), packets());
    assert_eq!(f.skipped_bytes(), 0);
    assert_eq!(f.frames(), 4);
    assert_eq!(f.buffered(), 0);
}

#[test]
fn split_at_every_size() {
    let stream = packets().concat();
    for step in [1, 2, 3, 5, 6, 7, 64, 113, 114, 1000] {
        let mut f = HepStreamFramer::new();
        assert_eq!(run(&stream, step, &mut f), packets(), "step {step}");
        assert_eq!(f.skipped_bytes(), 0, "step {step}");
    }
}

#[test]
fn every_frame_decodes() {
    let stream = packets().concat();
    let mut f = HepStreamFramer::new();
    for frame in run(&stream, 17, &mut f) {
        decode(&frame).unwrap();
    }
}

#[test]
fn garbage_before_between_and_after() {
    let p = packets();
    let mut stream = b"\r\n\r\nGARBAGE".to_vec(); // 11 bytes
    stream.extend_from_slice(&p[0]);
    stream.extend_from_slice(b"HEP"); // 3 bytes: a magic that never completes
    stream.extend_from_slice(&p[1]);
    stream.extend_from_slice(b"HEP3\x00\x03"); // impossible total length: 6 bytes
    stream.extend_from_slice(&p[2]);
    stream.extend_from_slice(b"HEP3\x00\x40\x00\x00\x00\x01\x00\x99"); // first chunk too long: 12
    stream.extend_from_slice(&p[3]);
    stream.extend_from_slice(b"trailing junk HE"); // 16 bytes; "HE" kept as a possible start
    for step in [1, 4, 9, stream.len()] {
        let mut f = HepStreamFramer::new();
        assert_eq!(run(&stream, step, &mut f), p, "step {step}");
        assert_eq!(f.skipped_bytes(), 11 + 3 + 6 + 12 + 14, "step {step}");
        assert_eq!(f.buffered(), 2, "step {step}");
    }
}

#[test]
fn magic_split_across_pushes() {
    let p = SPEC_EXAMPLE.to_vec();
    let mut f = HepStreamFramer::new();
    assert_eq!(f.push(b"xxHE"), 4);
    assert!(f.next_frame().is_none());
    assert_eq!(f.skipped_bytes(), 2);
    assert_eq!(f.push(&p[2..]), p.len() - 2);
    assert_eq!(f.next_frame(), Some(&p[..]));
}

#[test]
fn waits_for_a_complete_packet() {
    let p = SPEC_EXAMPLE.to_vec();
    let mut f = HepStreamFramer::new();
    assert_eq!(f.push(&p[..112]), 112);
    assert!(f.next_frame().is_none());
    assert_eq!(f.buffered(), 112);
    assert_eq!(f.push(&p[112..]), 1);
    assert_eq!(f.next_frame(), Some(&p[..]));
    assert!(f.next_frame().is_none());
}

#[test]
fn buffer_cap_applies_back_pressure() {
    let big = packet_with(&[], &vec![b'y'; 60_000]);
    let stream: Vec<u8> = big.repeat(10);
    let mut f = HepStreamFramer::with_max_buffer(1); // raised to the minimum, one max packet
    assert_eq!(f.max_buffer(), 65_535);
    let first = f.push(&stream);
    assert_eq!(first, 65_535, "push takes only what fits");
    let mut f = HepStreamFramer::with_max_buffer(1);
    let frames = run(&stream, stream.len(), &mut f);
    assert_eq!(frames.len(), 10);
    assert!(frames.iter().all(|fr| *fr == big));
}

#[test]
fn garbage_only_keeps_memory_bounded() {
    let junk = vec![0xabu8; 1 << 20];
    let mut f = HepStreamFramer::new();
    let frames = run(&junk, 4096, &mut f);
    assert!(frames.is_empty());
    assert_eq!(f.skipped_bytes(), 1 << 20);
    assert_eq!(f.buffered(), 0);
}

#[test]
fn empty_hep3_header_is_a_frame_that_decode_rejects() {
    let mut f = HepStreamFramer::new();
    assert_eq!(f.push(b"HEP3\x00\x06"), 6);
    let frame = f.next_frame().unwrap().to_vec();
    assert_eq!(frame, b"HEP3\x00\x06");
    assert!(decode(&frame).is_err());
}

//! Entry points for fuzz targets and corpus-replay tests. Each one panics when an invariant
//! breaks; a panic is a bug.

use crate::ws::{WsDecoder, WsError, WsEvent, WsLimits};
use crate::{decode, EncodeError, HepPacket, HepStreamFramer, HepVersion, HEP3_MAGIC};

/// HEP invariants on arbitrary bytes:
///
/// * decoding never panics;
/// * a decoded packet re-encodes as HEP3 (unless the result would outgrow 64 KiB, possible
///   when the original omitted chunks the encoder always writes), the encoding decodes to the
///   same packet (version aside, vendor chunks aside: they are not re-emitted), and encoding
///   that again gives the same bytes;
/// * the stream framer returns the same frames and skips the same bytes however the input is
///   split, every frame starts with `HEP3` and is exactly its total length long, and the
///   buffer never exceeds its cap.
#[doc(hidden)]
pub fn fuzz_hep(data: &[u8]) {
    if let Ok(p) = decode(data) {
        check_round_trip(&p);
    }
    let whole = frame_all(data, usize::MAX);
    let step = data.first().map_or(1, |b| usize::from(b % 29) + 1);
    let split = frame_all(data, step);
    assert_eq!(
        whole, split,
        "framer output depends on how the stream is split"
    );
    for f in &whole.0 {
        assert!(f.starts_with(HEP3_MAGIC));
        let total = f
            .get(4..6)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])));
        assert_eq!(total, Some(f.len()));
        if let Ok(p) = decode(f) {
            check_round_trip(&p);
        }
    }
}

fn check_round_trip(p: &HepPacket<'_>) {
    let bytes = match p.to_v3_bytes() {
        Ok(b) => b,
        Err(EncodeError::PacketTooLarge { .. } | EncodeError::ChunkTooLarge { .. }) => return,
        Err(e) => panic!("a decoded packet must be encodable: {e}"),
    };
    let q = match decode(&bytes) {
        Ok(q) => q,
        Err(e) => panic!("re-encoded packet does not decode: {e}"),
    };
    let mut expected = p.clone();
    expected.version = HepVersion::V3;
    expected.vendor_chunks.clear();
    assert_eq!(q, expected, "decode(encode(p)) != p");
    assert_eq!(
        q.to_v3_bytes().ok(),
        Some(bytes),
        "encoding is not a fixed point"
    );
}

/// Frames and skipped-byte count for `data` pushed `step` bytes at a time.
fn frame_all(data: &[u8], step: usize) -> (Vec<Vec<u8>>, u64) {
    let mut f = HepStreamFramer::with_max_buffer(0); // smallest cap: exercises the back-pressure
    let mut frames = Vec::new();
    for chunk in data.chunks(step.max(1)) {
        let mut rest = chunk;
        loop {
            let n = f.push(rest);
            rest = rest.get(n..).unwrap_or_default();
            assert!(f.buffered() <= f.max_buffer());
            while let Some(fr) = f.next_frame() {
                frames.push(fr.to_vec());
            }
            if rest.is_empty() {
                break;
            }
            assert!(n > 0, "framer made no progress with a full buffer");
        }
    }
    (frames, f.skipped_bytes())
}

/// WebSocket invariants on arbitrary bytes, under default and under small limits:
///
/// * decoding never panics and never stalls (a full buffer always yields an event);
/// * the events do not depend on how the stream is split into pushes;
/// * the buffer never exceeds its cap, and no message exceeds the message cap.
#[doc(hidden)]
pub fn fuzz_ws(data: &[u8]) {
    let small = WsLimits {
        max_frame_payload: 300,
        max_message: 700,
        max_handshake: 400,
    };
    for limits in [WsLimits::default(), small] {
        let whole = ws_events(data, usize::MAX, limits);
        let step = data.first().map_or(1, |b| usize::from(b % 13) + 1);
        let split = ws_events(data, step, limits);
        assert_eq!(whole, split, "ws events depend on how the stream is split");
        for e in &whole {
            if let Ok(WsEvent::Message(m)) = e {
                assert!(m.payload.len() <= limits.max_message);
            }
        }
    }
}

fn ws_events(data: &[u8], step: usize, limits: WsLimits) -> Vec<Result<WsEvent, WsError>> {
    let mut d = WsDecoder::with_limits(limits);
    let mut out = Vec::new();
    for chunk in data.chunks(step.max(1)) {
        let mut rest = chunk;
        loop {
            let n = d.push(rest);
            rest = rest.get(n..).unwrap_or_default();
            assert!(d.buffered() <= d.buffer_cap());
            while let Some(e) = d.next_event() {
                out.push(e);
            }
            if rest.is_empty() {
                break;
            }
            assert!(n > 0, "ws decoder made no progress with a full buffer");
        }
    }
    out
}

//! HEP3 over a byte stream (TCP/TLS): cut packets out of the stream by their total length.
//!
//! HEP over TCP has no framing of its own: packets follow each other and only the `HEP3` magic
//! and the total length mark the boundaries. When a stream is picked up mid-way, or an agent
//! writes garbage, the framer resynchronises by scanning for the next `HEP3` and counts the
//! bytes it skipped. A candidate header is also rejected (and scanning resumes one byte later)
//! when its total length is impossible or its first chunk does not fit inside it, so a stray
//! `HEP3` inside a payload rarely stalls the stream.
//!
//! The framer does not decode packets; pass each frame to [`crate::decode`].

use memchr::memmem;

use crate::chunk::CHUNK_HEADER_LEN;
use crate::v3::{HEP3_HEADER_LEN, HEP3_MAGIC, MAX_HEP3_LEN};

/// Default buffer cap: four maximum-size packets.
pub const DEFAULT_FRAMER_BUFFER: usize = 4 * (MAX_HEP3_LEN + 1);
/// Smallest allowed buffer cap: one maximum-size packet, so a full buffer always holds either
/// a complete packet or garbage to skip, and [`HepStreamFramer::next_frame`] can always make
/// room.
pub const MIN_FRAMER_BUFFER: usize = MAX_HEP3_LEN;

/// Sans-IO HEP3 stream framer.
///
/// ```
/// use sipsentry_hep::HepStreamFramer;
///
/// let mut framer = HepStreamFramer::new();
/// let mut stream: &[u8] = b"junkHEP3\x00\x0d\x00\x00\x00\x0b\x00\x07\x01";
/// let mut frames = Vec::new();
/// while !stream.is_empty() {
///     let n = framer.push(stream);
///     stream = &stream[n..];
///     while let Some(frame) = framer.next_frame() {
///         frames.push(frame.to_vec());
///     }
/// }
/// assert_eq!(frames.len(), 1);
/// assert_eq!(framer.skipped_bytes(), 4);
/// ```
#[derive(Debug, Clone)]
pub struct HepStreamFramer {
    buf: Vec<u8>,
    start: usize,
    max_buffer: usize,
    skipped: u64,
    frames: u64,
}

impl Default for HepStreamFramer {
    fn default() -> Self {
        Self::new()
    }
}

impl HepStreamFramer {
    /// A framer with [`DEFAULT_FRAMER_BUFFER`].
    pub fn new() -> Self {
        Self::with_max_buffer(DEFAULT_FRAMER_BUFFER)
    }

    /// A framer buffering at most `max_buffer` bytes (raised to [`MIN_FRAMER_BUFFER`]).
    pub fn with_max_buffer(max_buffer: usize) -> Self {
        HepStreamFramer {
            buf: Vec::new(),
            start: 0,
            max_buffer: max_buffer.max(MIN_FRAMER_BUFFER),
            skipped: 0,
            frames: 0,
        }
    }

    /// Offer stream bytes; returns how many were taken (fewer than offered only when the
    /// buffer is full). Call [`HepStreamFramer::next_frame`] until it returns `None`, then
    /// offer the rest.
    #[must_use = "bytes not taken must be offered again"]
    pub fn push(&mut self, data: &[u8]) -> usize {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let n = data
            .len()
            .min(self.max_buffer.saturating_sub(self.buf.len()));
        self.buf
            .extend_from_slice(data.get(..n).unwrap_or_default());
        n
    }

    /// The next complete HEP3 packet (exactly `total length` bytes, starting with `HEP3`), or
    /// `None` when more bytes are needed.
    pub fn next_frame(&mut self) -> Option<&[u8]> {
        loop {
            let pending = self.buf.get(self.start..).unwrap_or_default();
            if !pending.starts_with(HEP3_MAGIC) {
                match memmem::find(pending, HEP3_MAGIC) {
                    Some(i) => self.skip(i),
                    None => {
                        // Keep a tail that could be the start of a split magic.
                        let keep = (1..HEP3_MAGIC.len())
                            .rev()
                            .find(|&k| pending.len() >= k && pending.ends_with(&HEP3_MAGIC[..k]))
                            .unwrap_or(0);
                        self.skip(pending.len() - keep);
                        return None;
                    }
                }
                continue;
            }
            let Some(&[hi, lo]) = pending.get(4..HEP3_HEADER_LEN) else {
                return None;
            };
            let total = usize::from(u16::from_be_bytes([hi, lo]));
            if !Self::plausible(pending, total) {
                self.skip(1);
                continue;
            }
            if pending.len() < total {
                return None;
            }
            let begin = self.start;
            self.start += total;
            self.frames += 1;
            return self.buf.get(begin..begin + total);
        }
    }

    /// Structural sanity of a candidate header, judged on the bytes available so far.
    fn plausible(pending: &[u8], total: usize) -> bool {
        if total == HEP3_HEADER_LEN {
            return true; // an empty packet: well-formed framing, rejected later by `decode`
        }
        if total < HEP3_HEADER_LEN + CHUNK_HEADER_LEN {
            return false;
        }
        match pending.get(HEP3_HEADER_LEN + 4..HEP3_HEADER_LEN + CHUNK_HEADER_LEN) {
            Some(&[hi, lo]) => {
                let first = usize::from(u16::from_be_bytes([hi, lo]));
                first >= CHUNK_HEADER_LEN && first <= total - HEP3_HEADER_LEN
            }
            _ => true, // not enough bytes to tell yet
        }
    }

    fn skip(&mut self, n: usize) {
        self.start += n;
        self.skipped += n as u64;
    }

    /// Bytes discarded while resynchronising, since creation.
    pub fn skipped_bytes(&self) -> u64 {
        self.skipped
    }

    /// Frames returned since creation.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Bytes buffered and not yet returned or skipped.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The buffer cap in effect.
    pub fn max_buffer(&self) -> usize {
        self.max_buffer
    }
}

//! Bounded TCP stream reassembly, one direction at a time.
//!
//! # Model
//!
//! A *stream* is one direction of a connection, keyed by [`FlowKey`] (source and destination
//! socket addresses). It starts at a SYN (the ISN is remembered and data starts at ISN + 1)
//! or, for connections already running when the capture began, at the first segment that
//! carries data. Bare ACKs for unknown streams create no state, so the reverse direction of a
//! one-way transfer costs nothing.
//!
//! Positions are kept as a 64-bit stream offset; a segment's place is found from the signed
//! 32-bit distance between its sequence number and the next expected one, so sequence-number
//! wraparound needs no special case. Segments more than 2^30 bytes (the largest scaled TCP
//! window) away from the expected position are out of window and ignored.
//!
//! Every byte is delivered at most once, in order:
//! * bytes before the expected position (retransmissions, overlaps) are dropped and counted;
//! * an in-order segment with nothing buffered is delivered straight from the packet
//!   (zero-copy, the fast path);
//! * anything else goes into a sorted out-of-order buffer holding only bytes not already held
//!   (*first wins*; a differing overlap is counted as an evasion signal) and is released as
//!   soon as it becomes contiguous.
//!
//! # Gaps
//!
//! Lost bytes are never waited for indefinitely. The hole before the first buffered segment is
//! skipped, and reported as [`StreamGap`] so that a framer can resync, when:
//! the stream's buffer exceeds [`TcpConfig::max_flow_bytes`] or
//! [`TcpConfig::max_flow_segments`]; the total over all streams exceeds
//! [`TcpConfig::max_total_bytes`] (the stream that pushed it over is flushed, which restores
//! the bound in O(1)); a FIN or RST arrives (a FIN also reports the hole up to its own
//! position); the stream idles past [`TcpConfig::idle_timeout_nanos`]; it is evicted; or the
//! input ends. Bytes the capture announced but did not hold (snaplen) are reported as gaps
//! where they fall.
//!
//! # Bounds
//!
//! At most [`TcpConfig::max_flows`] streams (open or recently closed; a new one evicts the
//! least recently seen), each buffering at most `max_flow_bytes` (charged with
//! [`PIECE_OVERHEAD`] per buffered segment), and `max_total_bytes` over all.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::net::SocketAddr;

use crate::decode::{TcpFlags, TcpSegment};
use crate::event::{CloseReason, Event, StreamClosed, StreamData, StreamGap};
use crate::lru::Lru;
use crate::PIECE_OVERHEAD;

/// Largest distance, in bytes, between a segment and the expected sequence number that is
/// still considered part of the stream (the largest window TCP window scaling allows).
pub const MAX_WINDOW: i64 = 1 << 30;

/// One direction of a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
}

impl FlowKey {
    /// The opposite direction.
    #[inline]
    pub fn reversed(self) -> FlowKey {
        FlowKey {
            src: self.dst,
            dst: self.src,
        }
    }
}

/// TCP reassembly limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpConfig {
    /// Most streams tracked (open or closed-and-lingering). Default 65 536.
    pub max_flows: usize,
    /// Most out-of-order bytes buffered per stream (charged with overhead). Default 256 KiB.
    pub max_flow_bytes: usize,
    /// Most out-of-order segments buffered per stream. Default 1024.
    pub max_flow_segments: usize,
    /// Most out-of-order bytes buffered over all streams. Default 64 MiB.
    pub max_total_bytes: usize,
    /// Idle time, in packet-time nanoseconds, after which a stream is closed. Default 300 s.
    pub idle_timeout_nanos: i64,
}

impl Default for TcpConfig {
    fn default() -> Self {
        TcpConfig {
            max_flows: 65_536,
            max_flow_bytes: 256 * 1024,
            max_flow_segments: 1024,
            max_total_bytes: 64 * 1024 * 1024,
            idle_timeout_nanos: 300_000_000_000,
        }
    }
}

/// TCP reassembly counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpStats {
    /// Segments processed.
    pub segments: u64,
    /// Streams created.
    pub streams: u64,
    /// Streams closed by FIN.
    pub closed_fin: u64,
    /// Streams closed by RST.
    pub closed_rst: u64,
    /// Streams closed because a SYN reused their 4-tuple.
    pub reopened: u64,
    /// Streams closed by idle timeout.
    pub expired: u64,
    /// Streams evicted by the flow cap.
    pub evicted: u64,
    /// Gaps reported.
    pub gaps: u64,
    /// Bytes skipped in gaps.
    pub gap_bytes: u64,
    /// Bytes received again after having been delivered (retransmissions, overlaps).
    pub retransmitted_bytes: u64,
    /// Segments that arrived ahead of the expected position.
    pub out_of_order: u64,
    /// Overlapping buffered bytes that differed (first copy kept).
    pub overlap_mismatches: u64,
    /// Segments ignored as out of window.
    pub out_of_window: u64,
    /// Segments with data or FIN for a stream already closed.
    pub after_close: u64,
    /// Holes skipped because a buffer cap was hit.
    pub forced_flushes: u64,
}

enum Body {
    Bytes(Vec<u8>),
    /// Bytes announced but not captured.
    Missing(u32),
}

struct Piece {
    start: u64,
    body: Body,
}

impl Piece {
    #[inline]
    fn len(&self) -> u64 {
        match &self.body {
            Body::Bytes(b) => b.len() as u64,
            Body::Missing(m) => u64::from(*m),
        }
    }

    #[inline]
    fn end(&self) -> u64 {
        self.start + self.len()
    }

    #[inline]
    fn charge(&self) -> usize {
        match &self.body {
            Body::Bytes(b) => b.len() + PIECE_OVERHEAD,
            Body::Missing(_) => PIECE_OVERHEAD,
        }
    }
}

struct Stream {
    id: u64,
    open: bool,
    isn: Option<u32>,
    /// Sequence number of the byte at `pos`.
    next_seq: u32,
    /// Stream offset of the next byte to deliver.
    pos: u64,
    pieces: VecDeque<Piece>,
    charged: usize,
}

/// Where events go, with the fields every event of a call shares.
struct Out<'e, F> {
    emit: &'e mut F,
    ts: i64,
    key: FlowKey,
}

impl<F: FnMut(Event<'_>)> Out<'_, F> {
    fn data(&mut self, id: u64, offset: u64, bytes: Cow<'_, [u8]>) {
        (self.emit)(Event::StreamData(StreamData {
            ts_nanos: self.ts,
            stream: id,
            src: self.key.src,
            dst: self.key.dst,
            offset,
            bytes,
        }));
    }

    fn gap(&mut self, id: u64, offset: u64, len: u64) {
        (self.emit)(Event::StreamGap(StreamGap {
            ts_nanos: self.ts,
            stream: id,
            src: self.key.src,
            dst: self.key.dst,
            offset,
            len,
        }));
    }

    fn closed(&mut self, id: u64, reason: CloseReason) {
        (self.emit)(Event::StreamClosed(StreamClosed {
            ts_nanos: self.ts,
            stream: id,
            src: self.key.src,
            dst: self.key.dst,
            reason,
        }));
    }
}

impl Stream {
    #[inline]
    fn advance(&mut self, n: u64) {
        self.pos += n;
        // Truncation is the point: sequence numbers are modulo 2^32.
        self.next_seq = self.next_seq.wrapping_add(n as u32);
    }

    fn gap<F: FnMut(Event<'_>)>(&mut self, len: u64, stats: &mut TcpStats, out: &mut Out<'_, F>) {
        if len == 0 {
            return;
        }
        stats.gaps += 1;
        stats.gap_bytes += len;
        out.gap(self.id, self.pos, len);
        self.advance(len);
    }

    /// Releases buffered pieces that are contiguous with `pos`.
    fn drain<F: FnMut(Event<'_>)>(
        &mut self,
        total: &mut usize,
        stats: &mut TcpStats,
        out: &mut Out<'_, F>,
    ) {
        while self.pieces.front().is_some_and(|p| p.start <= self.pos) {
            let Some(p) = self.pieces.pop_front() else {
                break;
            };
            let c = p.charge();
            self.charged -= c;
            *total -= c;
            // Pieces never start before `pos` (they are trimmed on insertion and `pos` only
            // moves by draining); stay correct even if one did.
            let skip = self.pos.saturating_sub(p.start);
            match p.body {
                Body::Bytes(mut v) => {
                    let skip = usize::try_from(skip).unwrap_or(usize::MAX);
                    if skip >= v.len() {
                        continue;
                    }
                    if skip > 0 {
                        v.drain(..skip);
                    }
                    let n = v.len() as u64;
                    out.data(self.id, self.pos, Cow::Owned(v));
                    self.advance(n);
                }
                Body::Missing(m) => {
                    let m = u64::from(m).saturating_sub(skip);
                    self.gap(m, stats, out);
                }
            }
        }
    }

    /// Skips the hole before the first buffered piece and drains; false if nothing is
    /// buffered.
    fn skip_hole<F: FnMut(Event<'_>)>(
        &mut self,
        total: &mut usize,
        stats: &mut TcpStats,
        out: &mut Out<'_, F>,
    ) -> bool {
        let Some(first) = self.pieces.front() else {
            return false;
        };
        let hole = first.start.saturating_sub(self.pos);
        self.gap(hole, stats, out);
        self.drain(total, stats, out);
        true
    }

    /// Delivers everything buffered (skipping holes), reports the hole up to `fin_at`, and
    /// closes.
    fn finish<F: FnMut(Event<'_>)>(
        &mut self,
        reason: CloseReason,
        fin_at: Option<u64>,
        total: &mut usize,
        stats: &mut TcpStats,
        out: &mut Out<'_, F>,
    ) {
        while self.skip_hole(total, stats, out) {}
        if let Some(f) = fin_at {
            self.gap(f.saturating_sub(self.pos), stats, out);
        }
        self.open = false;
        out.closed(self.id, reason);
    }

    /// Buffers the parts of `[start, end)` not already held. `data` is `None` for bytes the
    /// capture did not hold.
    fn insert(
        &mut self,
        start: u64,
        end: u64,
        data: Option<&[u8]>,
        total: &mut usize,
        stats: &mut TcpStats,
    ) {
        if start >= end {
            return;
        }
        let mut parts: Vec<(u64, u64)> = Vec::new();
        let mut pos = start;
        let mut mismatch = false;
        let first = self.pieces.partition_point(|p| p.end() <= start);
        for p in self.pieces.range(first..) {
            if p.start >= end {
                break;
            }
            if p.start > pos {
                parts.push((pos, p.start));
            }
            if let (Some(new), Body::Bytes(old)) = (data, &p.body) {
                let (a, b) = (start.max(p.start), end.min(p.end()));
                let n = new.get(idx(a - start)..idx(b - start));
                let o = old.get(idx(a - p.start)..idx(b - p.start));
                mismatch |= n != o;
            }
            pos = pos.max(p.end());
        }
        if pos < end {
            parts.push((pos, end));
        }
        if mismatch {
            stats.overlap_mismatches += 1;
        }
        for (a, b) in parts {
            let body = match data {
                Some(d) => match d.get(idx(a - start)..idx(b - start)) {
                    Some(bytes) => Body::Bytes(bytes.to_vec()),
                    None => continue,
                },
                None => Body::Missing(u32::try_from(b - a).unwrap_or(u32::MAX)),
            };
            let piece = Piece { start: a, body };
            let c = piece.charge();
            let at = self.pieces.partition_point(|p| p.start < a);
            self.pieces.insert(at, piece);
            self.charged += c;
            *total += c;
        }
    }

    /// Takes a segment's data. Returns the stream offset just past it (for a FIN), or `None`
    /// if it was out of window.
    fn accept<F: FnMut(Event<'_>)>(
        &mut self,
        seq: u32,
        payload: &[u8],
        missing: u32,
        total: &mut usize,
        stats: &mut TcpStats,
        out: &mut Out<'_, F>,
    ) -> Option<u64> {
        let len = payload.len() as u64 + u64::from(missing);
        let delta = i64::from(seq.wrapping_sub(self.next_seq) as i32);
        if !(-MAX_WINDOW..=MAX_WINDOW).contains(&delta) {
            stats.out_of_window += 1;
            return None;
        }
        let pos = self.pos as i64;
        let start = pos + delta;
        let end = start + len as i64;
        if len == 0 {
            return Some(end.max(0) as u64);
        }
        if end <= pos {
            stats.retransmitted_bytes += len;
            return Some(end.max(0) as u64);
        }
        let trim = (pos - start).max(0) as u64;
        stats.retransmitted_bytes += trim;
        let (payload, missing) = match payload.get(idx(trim)..) {
            Some(p) => (p, missing),
            None => (
                &[][..],
                missing
                    .saturating_sub(u32::try_from(trim - payload.len() as u64).unwrap_or(u32::MAX)),
            ),
        };
        let start = start.max(pos) as u64;
        if start == self.pos && self.pieces.is_empty() {
            if !payload.is_empty() {
                out.data(self.id, self.pos, Cow::Borrowed(payload));
                self.advance(payload.len() as u64);
            }
            self.gap(u64::from(missing), stats, out);
        } else {
            if start > self.pos {
                stats.out_of_order += 1;
            }
            let mid = start + payload.len() as u64;
            self.insert(start, mid, Some(payload), total, stats);
            self.insert(mid, mid + u64::from(missing), None, total, stats);
            self.drain(total, stats, out);
        }
        Some(end as u64)
    }
}

/// The two clocks of a call: `now`, the high-water mark of packet time (drives expiry and
/// least-recently-seen order), and `ts`, the time of the packet being processed (stamped on
/// the events it causes).
#[derive(Debug, Clone, Copy)]
pub(crate) struct At {
    pub(crate) now: i64,
    pub(crate) ts: i64,
}

#[inline]
fn idx(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

pub(crate) struct TcpTable {
    cfg: TcpConfig,
    flows: Lru<FlowKey, Stream>,
    charged: usize,
    next_id: u64,
}

impl TcpTable {
    pub(crate) fn new(cfg: TcpConfig) -> Self {
        TcpTable {
            cfg,
            flows: Lru::new(),
            charged: 0,
            next_id: 0,
        }
    }

    pub(crate) fn flows(&self) -> usize {
        self.flows.len()
    }

    pub(crate) fn buffered(&self) -> usize {
        self.charged
    }

    /// Closes (if open) and forgets the stream in slot `i`.
    fn retire<F: FnMut(Event<'_>)>(
        &mut self,
        i: u32,
        reason: CloseReason,
        ts: i64,
        stats: &mut TcpStats,
        emit: &mut F,
    ) {
        let Some((key, mut st)) = self.flows.remove(i) else {
            return;
        };
        if st.open {
            match reason {
                CloseReason::IdleTimeout => stats.expired += 1,
                CloseReason::Evicted => stats.evicted += 1,
                _ => {}
            }
            let mut out = Out { emit, ts, key };
            st.finish(reason, None, &mut self.charged, stats, &mut out);
        }
        self.charged -= st.charged;
    }

    /// Closes streams idle since before `now - timeout`.
    pub(crate) fn expire<F: FnMut(Event<'_>)>(
        &mut self,
        at: At,
        stats: &mut TcpStats,
        emit: &mut F,
    ) {
        while let Some(i) = self.flows.oldest() {
            let seen = self.flows.seen(i).unwrap_or(i64::MIN);
            if seen.saturating_add(self.cfg.idle_timeout_nanos) >= at.now {
                break;
            }
            self.retire(i, CloseReason::IdleTimeout, at.ts, stats, emit);
        }
    }

    /// Closes every stream, oldest first (end of input).
    pub(crate) fn clear<F: FnMut(Event<'_>)>(
        &mut self,
        ts: i64,
        stats: &mut TcpStats,
        emit: &mut F,
    ) {
        while let Some(i) = self.flows.oldest() {
            self.retire(i, CloseReason::EndOfInput, ts, stats, emit);
        }
    }

    fn create<F: FnMut(Event<'_>)>(
        &mut self,
        at: At,
        key: FlowKey,
        next_seq: u32,
        isn: Option<u32>,
        stats: &mut TcpStats,
        emit: &mut F,
    ) -> u32 {
        while self.flows.len() >= self.cfg.max_flows.max(1) {
            match self.flows.oldest() {
                Some(o) => self.retire(o, CloseReason::Evicted, at.ts, stats, emit),
                None => break,
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        stats.streams += 1;
        let st = Stream {
            id,
            open: true,
            isn,
            next_seq,
            pos: 0,
            pieces: VecDeque::new(),
            charged: 0,
        };
        self.flows.insert(key, st, at.now)
    }

    fn reset<F: FnMut(Event<'_>)>(
        &mut self,
        at: At,
        key: FlowKey,
        stats: &mut TcpStats,
        emit: &mut F,
    ) {
        let Some(i) = self.flows.find(&key) else {
            return;
        };
        self.flows.touch(i, at.now);
        let Some(st) = self.flows.get_mut(i) else {
            return;
        };
        if st.open {
            stats.closed_rst += 1;
            let mut out = Out {
                emit,
                ts: at.ts,
                key,
            };
            st.finish(CloseReason::Reset, None, &mut self.charged, stats, &mut out);
        }
    }

    /// Processes one segment sent from `key.src` to `key.dst`.
    pub(crate) fn segment<F: FnMut(Event<'_>)>(
        &mut self,
        at: At,
        key: FlowKey,
        seg: &TcpSegment<'_>,
        stats: &mut TcpStats,
        emit: &mut F,
    ) {
        stats.segments += 1;
        let flags = seg.flags;
        if flags.has(TcpFlags::RST) {
            // A reset ends the connection in both directions.
            self.reset(at, key, stats, emit);
            self.reset(at, key.reversed(), stats, emit);
            return;
        }
        let mut idx = self.flows.find(&key);
        let mut seq = seg.seq;
        if flags.has(TcpFlags::SYN) {
            seq = seg.seq.wrapping_add(1);
            if let Some(i) = idx {
                let same = self
                    .flows
                    .get(i)
                    .is_some_and(|st| st.open && st.isn == Some(seg.seq));
                if !same {
                    // A new connection on this 4-tuple (or the SYN of one first seen
                    // mid-stream).
                    if self.flows.get(i).is_some_and(|st| st.open) {
                        stats.reopened += 1;
                    }
                    self.retire(i, CloseReason::Reopened, at.ts, stats, emit);
                    idx = None;
                }
            }
            if idx.is_none() {
                idx = Some(self.create(at, key, seq, Some(seg.seq), stats, emit));
            }
        } else if idx.is_none() {
            if seg.payload.is_empty() && seg.missing == 0 {
                // Bare ACK or FIN for an unknown stream: no state.
                return;
            }
            idx = Some(self.create(at, key, seq, None, stats, emit));
        }
        let Some(i) = idx else {
            return;
        };
        self.flows.touch(i, at.now);
        let cfg = self.cfg;
        let total = &mut self.charged;
        let Some(st) = self.flows.get_mut(i) else {
            return;
        };
        let fin = flags.has(TcpFlags::FIN);
        if !st.open {
            if fin || !seg.payload.is_empty() || seg.missing > 0 {
                stats.after_close += 1;
            }
            return;
        }
        let mut out = Out {
            emit,
            ts: at.ts,
            key,
        };
        let end = st.accept(seq, seg.payload, seg.missing, total, stats, &mut out);
        if fin {
            stats.closed_fin += 1;
            st.finish(CloseReason::Fin, end, total, stats, &mut out);
            return;
        }
        while st.charged > cfg.max_flow_bytes || st.pieces.len() > cfg.max_flow_segments {
            if !st.skip_hole(total, stats, &mut out) {
                break;
            }
            stats.forced_flushes += 1;
        }
        if *total > cfg.max_total_bytes {
            while st.skip_hole(total, stats, &mut out) {
                stats.forced_flushes += 1;
            }
        }
    }
}

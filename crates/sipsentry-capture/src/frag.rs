//! Bounded IPv4/IPv6 fragment reassembly.
//!
//! A *train* is the set of fragments sharing (source, destination, identification, IPv4
//! protocol, IP version, tunnel depth). Each train keeps its fragments as sorted,
//! non-overlapping pieces, so memory tracks the bytes actually received (a lone fragment at
//! offset 65 000 costs its own size, not 65 KiB), and the datagram is concatenated once, when
//! complete.
//!
//! Hostile input is bounded on every axis, with every drop counted in [`FragStats`]:
//! * at most [`FragConfig::max_trains`] trains; a new train evicts the least recently seen;
//! * at most [`FragConfig::max_datagram_len`] bytes per datagram (end offset), which also
//!   rejects the classic "ping of death" overflow;
//! * at most [`FragConfig::max_fragments_per_train`] pieces per train;
//! * at most [`FragConfig::max_total_bytes`] buffered in all (each piece is charged its length
//!   plus [`PIECE_OVERHEAD`]); the least recently seen trains are evicted to get back under;
//! * trains idle longer than [`FragConfig::timeout_nanos`] of packet time expire.
//!
//! Overlaps are resolved deterministically, *first wins*: bytes already held are never
//! replaced, the overlap is counted, a differing overlap (the signature of
//! fragmentation-overlap evasion) is counted separately, and the reassembled datagram is
//! flagged. Inconsistent trains (two different "last fragment" ends, or data beyond the end)
//! are dropped.

use std::net::IpAddr;

use crate::decode::Fragment;
use crate::lru::Lru;
use crate::PIECE_OVERHEAD;

/// Fragment reassembly limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragConfig {
    /// Most concurrent trains. Default 1024.
    pub max_trains: usize,
    /// Largest reassembled payload (end offset) accepted. Default 65 535.
    pub max_datagram_len: u32,
    /// Most pieces per train. Default 256.
    pub max_fragments_per_train: usize,
    /// Most bytes buffered over all trains (pieces charged with overhead). Default 16 MiB.
    pub max_total_bytes: usize,
    /// Idle time, in packet-time nanoseconds, after which an incomplete train expires.
    /// Default 30 s.
    pub timeout_nanos: i64,
}

impl Default for FragConfig {
    fn default() -> Self {
        FragConfig {
            max_trains: 1024,
            max_datagram_len: 65_535,
            max_fragments_per_train: 256,
            max_total_bytes: 16 * 1024 * 1024,
            timeout_nanos: 30_000_000_000,
        }
    }
}

/// Fragment reassembly counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FragStats {
    /// Fragments seen.
    pub fragments: u64,
    /// Datagrams reassembled.
    pub reassembled: u64,
    /// Trains dropped after idling past the timeout (or left incomplete at `flush`).
    pub expired: u64,
    /// Trains evicted to respect the train or byte caps.
    pub evicted: u64,
    /// Fragments that overlapped bytes already held.
    pub overlaps: u64,
    /// Overlaps whose bytes differed from those held.
    pub overlap_mismatches: u64,
    /// Fragments reaching beyond `max_datagram_len` (their train is dropped).
    pub oversize: u64,
    /// Trains dropped for inconsistent ends.
    pub inconsistent: u64,
    /// Trains dropped for exceeding `max_fragments_per_train`.
    pub too_many_fragments: u64,
    /// Fragments not usable because the capture cut them short.
    pub truncated: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    /// IPv4 protocol; 0 for IPv6, whose key does not include it (RFC 8200).
    proto: u8,
    v6: bool,
    depth: u8,
}

struct Piece {
    start: u32,
    data: Vec<u8>,
}

impl Piece {
    #[inline]
    fn end(&self) -> u32 {
        self.start + self.data.len() as u32
    }
}

#[derive(Default)]
struct Train {
    pieces: Vec<Piece>,
    total: Option<u32>,
    received: u32,
    charged: usize,
    proto: Option<u8>,
    overlap: bool,
}

/// A completed datagram.
pub(crate) struct Reassembled {
    pub(crate) data: Vec<u8>,
    pub(crate) proto: u8,
    pub(crate) overlap: bool,
}

pub(crate) struct FragTable {
    cfg: FragConfig,
    trains: Lru<Key, Train>,
    charged: usize,
}

impl FragTable {
    pub(crate) fn new(cfg: FragConfig) -> Self {
        FragTable {
            cfg,
            trains: Lru::new(),
            charged: 0,
        }
    }

    pub(crate) fn trains(&self) -> usize {
        self.trains.len()
    }

    pub(crate) fn buffered(&self) -> usize {
        self.charged
    }

    fn drop_train(&mut self, i: u32) {
        if let Some((_, t)) = self.trains.remove(i) {
            self.charged -= t.charged;
        }
    }

    /// Drops trains idle since before `now - timeout`.
    pub(crate) fn expire(&mut self, now: i64, stats: &mut FragStats) {
        while let Some(i) = self.trains.oldest() {
            let seen = self.trains.seen(i).unwrap_or(i64::MIN);
            if seen.saturating_add(self.cfg.timeout_nanos) >= now {
                break;
            }
            self.drop_train(i);
            stats.expired += 1;
        }
    }

    /// Drops every train (end of input); they count as expired.
    pub(crate) fn clear(&mut self, stats: &mut FragStats) {
        while let Some(i) = self.trains.oldest() {
            self.drop_train(i);
            stats.expired += 1;
        }
    }

    /// Adds one fragment; returns the datagram if it completed one.
    pub(crate) fn insert(
        &mut self,
        now: i64,
        src: IpAddr,
        dst: IpAddr,
        depth: u8,
        frag: &Fragment<'_>,
        stats: &mut FragStats,
    ) -> Option<Reassembled> {
        stats.fragments += 1;
        let key = Key {
            src,
            dst,
            id: frag.id,
            proto: if frag.v6 { 0 } else { frag.proto },
            v6: frag.v6,
            depth,
        };
        if frag.missing > 0 {
            stats.truncated += 1;
            return None;
        }
        let start = frag.offset;
        let end = u32::try_from(frag.data.len())
            .ok()
            .and_then(|l| start.checked_add(l))
            .filter(|&e| e <= self.cfg.max_datagram_len);
        let Some(end) = end else {
            stats.oversize += 1;
            if let Some(i) = self.trains.find(&key) {
                self.drop_train(i);
            }
            return None;
        };
        if frag.more && end == start {
            // An empty non-final fragment adds nothing.
            return None;
        }

        let i = match self.trains.find(&key) {
            Some(i) => {
                self.trains.touch(i, now);
                i
            }
            None => {
                while self.trains.len() >= self.cfg.max_trains.max(1) {
                    match self.trains.oldest() {
                        Some(o) => {
                            self.drop_train(o);
                            stats.evicted += 1;
                        }
                        None => break,
                    }
                }
                self.trains.insert(key, Train::default(), now)
            }
        };
        let train = self.trains.get_mut(i)?;

        // Consistency of the datagram end.
        let consistent = if frag.more {
            train.total.is_none_or(|t| end <= t)
        } else {
            train.total.is_none_or(|t| t == end)
                && train.pieces.last().is_none_or(|p| p.end() <= end)
        };
        if !consistent {
            stats.inconsistent += 1;
            self.drop_train(i);
            return None;
        }
        if !frag.more {
            train.total = Some(end);
        }
        if start == 0 && train.proto.is_none() {
            train.proto = Some(frag.proto);
        }

        // Insert only the parts not already held (first wins).
        let mut parts: Vec<(u32, u32)> = Vec::new();
        let mut pos = start;
        let mut overlap = false;
        let mut mismatch = false;
        let first = train.pieces.partition_point(|p| p.end() <= start);
        for p in train.pieces.get(first..).unwrap_or(&[]) {
            if p.start >= end {
                break;
            }
            if p.start > pos {
                parts.push((pos, p.start));
            }
            let (a, b) = (start.max(p.start), end.min(p.end()));
            if a < b {
                overlap = true;
                let new = frag.data.get((a - start) as usize..(b - start) as usize);
                let old = p.data.get((a - p.start) as usize..(b - p.start) as usize);
                mismatch |= new != old;
            }
            pos = pos.max(p.end());
        }
        if pos < end {
            parts.push((pos, end));
        }
        if overlap {
            train.overlap = true;
            stats.overlaps += 1;
            if mismatch {
                stats.overlap_mismatches += 1;
            }
        }
        if train.pieces.len() + parts.len() > self.cfg.max_fragments_per_train.max(1) {
            stats.too_many_fragments += 1;
            self.drop_train(i);
            return None;
        }
        let mut added = 0usize;
        for (a, b) in parts {
            let Some(bytes) = frag.data.get((a - start) as usize..(b - start) as usize) else {
                continue;
            };
            let at = train.pieces.partition_point(|p| p.start < a);
            train.pieces.insert(
                at,
                Piece {
                    start: a,
                    data: bytes.to_vec(),
                },
            );
            train.received += b - a;
            added += (b - a) as usize + PIECE_OVERHEAD;
        }
        train.charged += added;
        self.charged += added;

        if train.total.is_some_and(|t| t == train.received) {
            let (_, t) = self.trains.remove(i)?;
            self.charged -= t.charged;
            let mut data = Vec::with_capacity(t.received as usize);
            for p in &t.pieces {
                data.extend_from_slice(&p.data);
            }
            stats.reassembled += 1;
            return Some(Reassembled {
                data,
                proto: t.proto.unwrap_or(frag.proto),
                overlap: t.overlap,
            });
        }

        while self.charged > self.cfg.max_total_bytes {
            match self.trains.oldest() {
                Some(o) => {
                    self.drop_train(o);
                    stats.evicted += 1;
                }
                None => break,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn frag(offset: u32, more: bool, data: &[u8]) -> Fragment<'_> {
        Fragment {
            v6: false,
            id: 7,
            proto: 17,
            offset,
            more,
            data,
            missing: 0,
        }
    }

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn reverse_order_and_overlap() {
        let mut t = FragTable::new(FragConfig::default());
        let mut s = FragStats::default();
        let data: Vec<u8> = (0..40u8).collect();
        assert!(t
            .insert(0, A, B, 0, &frag(32, false, &data[32..]), &mut s)
            .is_none());
        assert!(t
            .insert(0, A, B, 0, &frag(8, true, &data[8..24]), &mut s)
            .is_none());
        // Overlapping, differing bytes: 16..24 keep the first copy; 24..32 were missing and
        // come from this fragment.
        let bogus = [0xFFu8; 16];
        assert!(t
            .insert(0, A, B, 0, &frag(16, true, &bogus), &mut s)
            .is_none());
        let r = t
            .insert(0, A, B, 0, &frag(0, true, &data[..8]), &mut s)
            .unwrap();
        let mut want = data.clone();
        want[24..32].fill(0xFF);
        assert_eq!(r.data, want);
        assert!(r.overlap);
        assert_eq!(s.overlap_mismatches, 1);
        assert_eq!(t.buffered(), 0);
        assert_eq!(t.trains(), 0);
    }

    #[test]
    fn inconsistent_end_drops() {
        let mut t = FragTable::new(FragConfig::default());
        let mut s = FragStats::default();
        let data = [0u8; 64];
        t.insert(0, A, B, 0, &frag(0, true, &data[..32]), &mut s);
        t.insert(0, A, B, 0, &frag(8, false, &data[..8]), &mut s);
        assert_eq!(s.inconsistent, 1);
        assert_eq!(t.trains(), 0);
        assert_eq!(t.buffered(), 0);
    }
}

//! Streaming reader for capture files: classic pcap, pcapng, and gzip-compressed versions of
//! either.
//!
//! # Why it looks like this
//!
//! * **Streaming, flat memory.** [`PcapReader::next_packet`] returns a [`Packet`] that borrows
//!   one reused buffer, so memory is bounded by the largest record (≤ [`MAX_BLOCK_LEN`]) no
//!   matter how big the file is. The input is wrapped in a 64 KiB `BufReader`, so a plain
//!   `File` costs one `read` syscall per 64 KiB rather than two per packet.
//! * **Format by magic, never by name.** The first four bytes decide: classic pcap
//!   (microsecond `a1b2c3d4`, nanosecond `a1b23c4d`, Kuznetzov "modified" `a1b2cd34`, each in
//!   either byte order), pcapng (`0a0d0d0a`), or gzip (`1f 8b`), which is decompressed with
//!   [`flate2::read::MultiGzDecoder`] (so concatenated gzip members work, as `cat a.gz b.gz`
//!   produces) and then sniffed again. Gzip inside gzip is rejected.
//! * **Every length is untrusted.** A per-packet cap ([`MAX_PACKET_LEN`], 256 KiB, which is
//!   libpcap's own limit and tcpdump's default snaplen) and a block cap ([`MAX_BLOCK_LEN`])
//!   bound allocation. What happens beyond a cap depends on whether framing survives:
//!   - classic pcap has no independent framing, so a record claiming more than
//!     [`MAX_PACKET_LEN`] almost always means the file is corrupt: it is a fatal
//!     [`Error::PacketTooLarge`] (libpcap does the same);
//!   - pcapng blocks carry their own length, so an oversized packet block, a packet block
//!     for an unknown interface, or a packet block whose inner lengths disagree with the block
//!     length is skipped and counted in [`ReaderStats`], and reading continues. Blocks the
//!     reader does not need (name resolution, statistics, decryption secrets, custom, unknown)
//!     are skipped by streaming them to a sink, whatever their size, without buffering them.
//! * **Truncation loses nothing before it.** A file cut mid-record (a capture still being
//!   written, or a partial download) yields every complete packet and then
//!   [`Error::Truncated`]; after any error the reader is finished and returns `Ok(None)`.
//!
//! Timestamps are converted to nanoseconds since the Unix epoch (`i64`, saturating), honouring
//! pcapng `if_tsresol` (decimal or binary) and `if_tsoffset`. Simple Packet Blocks carry no
//! timestamp and get the previous packet's.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::bytes::{u32_from, ByteOrder, Reader};

/// Largest captured length of one packet, in bytes (256 KiB, libpcap's `MAXIMUM_SNAPLEN`).
pub const MAX_PACKET_LEN: u32 = 256 * 1024;
/// Largest pcapng packet or interface block that is buffered (a full-size packet plus 64 KiB
/// of block header and options). Larger packet blocks are skipped; a larger interface block is
/// fatal, since skipping it would shift every later interface id.
pub const MAX_BLOCK_LEN: u32 = MAX_PACKET_LEN + 64 * 1024;
/// Most interfaces per pcapng section.
pub const MAX_INTERFACES: usize = 1024;

const READ_BUF: usize = 64 * 1024;
const NANOS_PER_SEC: i64 = 1_000_000_000;

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 1;
const PB: u32 = 2;
const SPB: u32 = 3;
const EPB: u32 = 6;

/// One captured packet, borrowed from the reader's buffer until the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// Capture time, nanoseconds since the Unix epoch (saturating at the `i64` range).
    pub ts_nanos: i64,
    /// Link-layer header type (`LINKTYPE_*`, see [`crate::linktype`]); the FCS bits of the
    /// classic pcap header are masked off.
    pub linktype: u32,
    /// Length of the packet on the wire; may exceed `data.len()` when the snaplen cut it.
    pub orig_len: u32,
    /// pcapng interface id (0 for classic pcap).
    pub interface: u32,
    /// The captured bytes, starting with the link-layer header.
    pub data: &'a [u8],
}

/// The detected container format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Classic libpcap format.
    Pcap {
        /// Byte order of the file's header fields.
        byte_order: ByteOrder,
        /// Timestamps are nanoseconds (magic `a1b23c4d`) rather than microseconds.
        nanos: bool,
        /// Kuznetzov's "modified" format (magic `a1b2cd34`, 24-byte record headers).
        modified: bool,
    },
    /// pcapng; the byte order may change per section.
    PcapNg,
}

/// Non-fatal oddities met while reading (pcapng only; classic pcap has none that are
/// recoverable).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReaderStats {
    /// Packets returned.
    pub packets: u64,
    /// pcapng Section Header Blocks read.
    pub sections: u64,
    /// Interface Description Blocks read (over all sections).
    pub interfaces: u64,
    /// Blocks skipped because the reader has no use for them (NRB, ISB, DSB, custom, unknown).
    pub skipped_blocks: u64,
    /// Packet blocks skipped because they exceed [`MAX_PACKET_LEN`] / [`MAX_BLOCK_LEN`].
    pub oversized: u64,
    /// Packet blocks skipped because they name an interface the section has not described.
    pub unknown_interface: u64,
    /// Packet blocks skipped because their inner lengths do not fit the block.
    pub malformed_blocks: u64,
}

/// Why reading a capture stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The underlying reader failed.
    #[error("I/O error reading capture: {0}")]
    Io(#[source] io::Error),
    /// The gzip layer failed: corrupt compressed data, or an I/O error underneath it.
    #[error("gzip decompression failed: {0}")]
    Gzip(#[source] io::Error),
    /// The first four bytes are not a known capture (or gzip) magic number.
    #[error("not a pcap, pcapng or gzip capture (magic {magic:02x?})")]
    UnknownFormat {
        /// The bytes found.
        magic: [u8; 4],
    },
    /// The file ended inside a header, record or block. Every complete packet before it was
    /// returned.
    #[error("capture truncated in {what} starting at byte {offset}")]
    Truncated {
        /// Offset (in the decompressed stream) where the incomplete structure starts.
        offset: u64,
        /// Which structure was cut.
        what: &'static str,
    },
    /// Classic pcap major version other than 2, or pcapng major version other than 1.
    #[error("unsupported capture format version {major}.{minor}")]
    UnsupportedVersion {
        /// Major version.
        major: u16,
        /// Minor version.
        minor: u16,
    },
    /// A classic pcap record claims more than [`MAX_PACKET_LEN`] captured bytes.
    #[error("packet record at byte {offset} claims {len} captured bytes (cap {MAX_PACKET_LEN})")]
    PacketTooLarge {
        /// Offset of the record header.
        offset: u64,
        /// Claimed captured length.
        len: u32,
    },
    /// A pcapng block length is below the minimum, not a multiple of 4, or differs from the
    /// trailing copy: block framing is lost.
    #[error("bad pcapng block length {len} for block type {block_type:#x} at byte {offset}")]
    BadBlockLength {
        /// Offset of the block.
        offset: u64,
        /// Block type.
        block_type: u32,
        /// Offending length.
        len: u32,
    },
    /// An Interface Description Block is larger than [`MAX_BLOCK_LEN`].
    #[error("pcapng interface block at byte {offset} is {len} bytes (cap {MAX_BLOCK_LEN})")]
    BlockTooLarge {
        /// Offset of the block.
        offset: u64,
        /// Its length.
        len: u32,
    },
    /// A Section Header Block has a byte-order magic that is neither `1a2b3c4d` nor its swap.
    #[error("bad pcapng byte-order magic {magic:02x?} at byte {offset}")]
    BadByteOrderMagic {
        /// Offset of the block.
        offset: u64,
        /// The bytes found.
        magic: [u8; 4],
    },
    /// A section describes more than [`MAX_INTERFACES`] interfaces.
    #[error("pcapng section describes more than {MAX_INTERFACES} interfaces")]
    TooManyInterfaces,
}

/// Replays bytes already peeked from `inner` before reading on.
struct Prefixed<R> {
    prefix: [u8; 4],
    pos: usize,
    inner: R,
}

impl<R: Read> Read for Prefixed<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if let Some(rest) = self.prefix.get(self.pos..).filter(|r| !r.is_empty()) {
            let n = rest.len().min(out.len());
            if let (Some(dst), Some(src)) = (out.get_mut(..n), rest.get(..n)) {
                dst.copy_from_slice(src);
            }
            self.pos += n;
            return Ok(n);
        }
        self.inner.read(out)
    }
}

enum Source<R> {
    Plain(Prefixed<R>),
    Gzip(MultiGzDecoder<Prefixed<R>>),
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Plain(r) => r.read(out),
            Source::Gzip(r) => r.read(out),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum TsRes {
    /// 10^-n seconds.
    Dec(u8),
    /// 2^-n seconds.
    Bin(u8),
}

#[derive(Debug, Clone, Copy)]
struct Iface {
    linktype: u32,
    snaplen: u32,
    res: TsRes,
    offset_secs: i64,
}

enum Kind {
    Classic {
        order: ByteOrder,
        nanos: bool,
        modified: bool,
        linktype: u32,
    },
    Ng {
        order: ByteOrder,
        ifaces: Vec<Iface>,
    },
}

/// Where the packet lies in `buf`, plus its metadata (kept apart from the borrow so the
/// reader can update its own state before lending the buffer out).
struct Meta {
    ts_nanos: i64,
    linktype: u32,
    orig_len: u32,
    interface: u32,
    start: usize,
    len: usize,
}

enum Fill {
    Full,
    Eof,
    Partial,
}

/// Streaming capture reader over any [`Read`].
///
/// ```
/// use sipsentry_capture::pcap::PcapReader;
/// // A classic pcap header (µs, little-endian, Ethernet) followed by nothing.
/// let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
/// file.extend_from_slice(&[0; 8]);
/// file.extend_from_slice(&65535u32.to_le_bytes());
/// file.extend_from_slice(&1u32.to_le_bytes());
/// let mut rd = PcapReader::new(&file[..]).unwrap();
/// while let Some(pkt) = rd.next_packet().unwrap() {
///     println!("{} bytes at {}", pkt.data.len(), pkt.ts_nanos);
/// }
/// ```
pub struct PcapReader<R> {
    src: BufReader<Source<R>>,
    compressed: bool,
    kind: Kind,
    buf: Vec<u8>,
    offset: u64,
    finished: bool,
    last_ts: i64,
    stats: ReaderStats,
}

impl PcapReader<File> {
    /// Opens a capture file (format detected from content, not from the name).
    pub fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let f = File::open(path).map_err(Error::Io)?;
        PcapReader::new(f)
    }
}

impl<R: Read> PcapReader<R> {
    /// Sniffs the format and reads the file header (and, for pcapng, the first section
    /// header).
    pub fn new(mut inner: R) -> Result<Self, Error> {
        let mut magic = [0u8; 4];
        let n = read_full(&mut inner, &mut magic).map_err(Error::Io)?;
        if n < magic.len() {
            return Err(Error::Truncated {
                offset: 0,
                what: "file header",
            });
        }
        let pre = Prefixed {
            prefix: magic,
            pos: 0,
            inner,
        };
        let compressed = magic[0] == 0x1f && magic[1] == 0x8b;
        let source = if compressed {
            Source::Gzip(MultiGzDecoder::new(pre))
        } else {
            Source::Plain(pre)
        };
        let mut rd = PcapReader {
            src: BufReader::with_capacity(READ_BUF, source),
            compressed,
            kind: Kind::Classic {
                order: ByteOrder::Little,
                nanos: false,
                modified: false,
                linktype: 0,
            },
            buf: Vec::new(),
            offset: 0,
            finished: false,
            last_ts: 0,
            stats: ReaderStats::default(),
        };
        rd.read_file_header()?;
        Ok(rd)
    }

    /// The detected container format.
    pub fn format(&self) -> Format {
        match self.kind {
            Kind::Classic {
                order,
                nanos,
                modified,
                ..
            } => Format::Pcap {
                byte_order: order,
                nanos,
                modified,
            },
            Kind::Ng { .. } => Format::PcapNg,
        }
    }

    /// Whether the capture was gzip-compressed.
    pub fn is_compressed(&self) -> bool {
        self.compressed
    }

    /// Counters of what was read and skipped so far.
    pub fn stats(&self) -> &ReaderStats {
        &self.stats
    }

    /// Bytes consumed so far (of the decompressed stream, for gzip input).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next packet; `Ok(None)` at the end of the capture and after any error.
    pub fn next_packet(&mut self) -> Result<Option<Packet<'_>>, Error> {
        if self.finished {
            return Ok(None);
        }
        let res = match self.kind {
            Kind::Classic { .. } => self.next_classic(),
            Kind::Ng { .. } => self.next_ng(),
        };
        let meta = match res {
            Ok(Some(m)) => m,
            Ok(None) => {
                self.finished = true;
                return Ok(None);
            }
            Err(e) => {
                self.finished = true;
                return Err(e);
            }
        };
        let Some(data) = self
            .buf
            .get(meta.start..meta.start.saturating_add(meta.len))
        else {
            // Unreachable by construction (ranges are checked when parsed); fail closed.
            self.finished = true;
            return Err(Error::Truncated {
                offset: self.offset,
                what: "packet data",
            });
        };
        self.last_ts = meta.ts_nanos;
        self.stats.packets += 1;
        Ok(Some(Packet {
            ts_nanos: meta.ts_nanos,
            linktype: meta.linktype,
            orig_len: meta.orig_len,
            interface: meta.interface,
            data,
        }))
    }

    fn io_err(&self, e: io::Error) -> Error {
        if self.compressed {
            Error::Gzip(e)
        } else {
            Error::Io(e)
        }
    }

    /// Fills `out` completely, or reports a clean end (nothing read) or a partial read.
    fn fill(&mut self, out: &mut [u8]) -> Result<Fill, Error> {
        let n = match read_full(&mut self.src, out) {
            Ok(n) => n,
            // A truncated gzip member surfaces as UnexpectedEof from flate2.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(Fill::Partial),
            Err(e) => return Err(self.io_err(e)),
        };
        self.offset += n as u64;
        Ok(if n == out.len() {
            Fill::Full
        } else if n == 0 {
            Fill::Eof
        } else {
            Fill::Partial
        })
    }

    /// Like [`fill`](Self::fill) but any shortfall is a truncation of `what` at `start`.
    fn fill_exact(&mut self, out: &mut [u8], start: u64, what: &'static str) -> Result<(), Error> {
        match self.fill(out)? {
            Fill::Full => Ok(()),
            Fill::Eof | Fill::Partial => Err(Error::Truncated {
                offset: start,
                what,
            }),
        }
    }

    /// Reads `len` bytes into the reused buffer (growing it only when needed).
    fn fill_buf(&mut self, len: usize, start: u64, what: &'static str) -> Result<(), Error> {
        if self.buf.len() < len {
            self.buf.resize(len, 0);
        }
        let mut buf = std::mem::take(&mut self.buf);
        let res = match buf.get_mut(..len) {
            Some(dst) => self.fill_exact(dst, start, what),
            None => Err(Error::Truncated {
                offset: start,
                what,
            }),
        };
        self.buf = buf;
        res
    }

    /// Discards `n` bytes without buffering them.
    fn skip(&mut self, n: u64, start: u64, what: &'static str) -> Result<(), Error> {
        let copied = match io::copy(&mut (&mut self.src).take(n), &mut io::sink()) {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => 0,
            Err(e) => return Err(self.io_err(e)),
        };
        self.offset += copied;
        if copied < n {
            return Err(Error::Truncated {
                offset: start,
                what,
            });
        }
        Ok(())
    }

    fn read_file_header(&mut self) -> Result<(), Error> {
        let mut magic = [0u8; 4];
        self.fill_exact(&mut magic, 0, "file header")?;
        let classic = |be: bool, nanos: bool, modified: bool| {
            let order = if be {
                ByteOrder::Big
            } else {
                ByteOrder::Little
            };
            (order, nanos, modified)
        };
        let kind = match magic {
            [0xa1, 0xb2, 0xc3, 0xd4] => Some(classic(true, false, false)),
            [0xd4, 0xc3, 0xb2, 0xa1] => Some(classic(false, false, false)),
            [0xa1, 0xb2, 0x3c, 0x4d] => Some(classic(true, true, false)),
            [0x4d, 0x3c, 0xb2, 0xa1] => Some(classic(false, true, false)),
            [0xa1, 0xb2, 0xcd, 0x34] => Some(classic(true, false, true)),
            [0x34, 0xcd, 0xb2, 0xa1] => Some(classic(false, false, true)),
            [0x0a, 0x0d, 0x0d, 0x0a] => None,
            _ => return Err(Error::UnknownFormat { magic }),
        };
        match kind {
            Some((order, nanos, modified)) => {
                let mut h = [0u8; 20];
                self.fill_exact(&mut h, 0, "file header")?;
                let mut r = Reader::new(&h);
                let major = r.u16(order).unwrap_or(0);
                let minor = r.u16(order).unwrap_or(0);
                if major != 2 {
                    return Err(Error::UnsupportedVersion { major, minor });
                }
                // thiszone, sigfigs, snaplen: informational only.
                r.skip(12);
                let link = r.u32(order).unwrap_or(0);
                self.kind = Kind::Classic {
                    order,
                    nanos,
                    modified,
                    // Bits 16..32 carry FCS information, not the link type.
                    linktype: link & 0xFFFF,
                };
                Ok(())
            }
            None => {
                self.kind = Kind::Ng {
                    order: ByteOrder::Little,
                    ifaces: Vec::new(),
                };
                self.read_shb(0, None)
            }
        }
    }

    fn next_classic(&mut self) -> Result<Option<Meta>, Error> {
        let Kind::Classic {
            order,
            nanos,
            modified,
            linktype,
        } = self.kind
        else {
            return Ok(None);
        };
        let start = self.offset;
        let mut h = [0u8; 24];
        let hlen = if modified { 24 } else { 16 };
        match self.fill(h.get_mut(..hlen).unwrap_or(&mut []))? {
            Fill::Full => {}
            Fill::Eof => return Ok(None),
            Fill::Partial => {
                return Err(Error::Truncated {
                    offset: start,
                    what: "packet record header",
                })
            }
        }
        let mut r = Reader::new(&h);
        let secs = r.u32(order).unwrap_or(0);
        let frac = r.u32(order).unwrap_or(0);
        let incl = r.u32(order).unwrap_or(0);
        let orig = r.u32(order).unwrap_or(0);
        if incl > MAX_PACKET_LEN {
            return Err(Error::PacketTooLarge {
                offset: start,
                len: incl,
            });
        }
        let len = incl as usize;
        self.fill_buf(len, start, "packet data")?;
        let frac_ns = if nanos {
            i64::from(frac)
        } else {
            i64::from(frac) * 1000
        };
        Ok(Some(Meta {
            ts_nanos: i64::from(secs) * NANOS_PER_SEC + frac_ns,
            linktype,
            orig_len: orig,
            interface: 0,
            start: 0,
            len,
        }))
    }

    /// Reads a Section Header Block starting at `start` whose type (and, if `len_raw` is
    /// given, length) was already consumed.
    fn read_shb(&mut self, start: u64, len_raw: Option<[u8; 4]>) -> Result<(), Error> {
        let len_raw = match len_raw {
            Some(l) => l,
            None => {
                let mut l = [0u8; 4];
                self.fill_exact(&mut l, start, "section header block")?;
                l
            }
        };
        let mut bom = [0u8; 4];
        self.fill_exact(&mut bom, start, "section header block")?;
        let order = match bom {
            [0x1a, 0x2b, 0x3c, 0x4d] => ByteOrder::Big,
            [0x4d, 0x3c, 0x2b, 0x1a] => ByteOrder::Little,
            _ => {
                return Err(Error::BadByteOrderMagic {
                    offset: start,
                    magic: bom,
                })
            }
        };
        let len = u32_from(order, len_raw);
        // type + len + bom + version(4) + section length(8) + trailing len = 28.
        if len < 28 || len % 4 != 0 {
            return Err(Error::BadBlockLength {
                offset: start,
                block_type: SHB,
                len,
            });
        }
        let mut ver = [0u8; 12];
        self.fill_exact(&mut ver, start, "section header block")?;
        let mut r = Reader::new(&ver);
        let major = r.u16(order).unwrap_or(0);
        let minor = r.u16(order).unwrap_or(0);
        if major != 1 {
            return Err(Error::UnsupportedVersion { major, minor });
        }
        // Options are not needed: stream past them.
        self.skip(u64::from(len - 28), start, "section header block")?;
        self.check_trailer(start, SHB, len, order)?;
        self.stats.sections += 1;
        self.kind = Kind::Ng {
            order,
            ifaces: Vec::new(),
        };
        Ok(())
    }

    fn check_trailer(
        &mut self,
        start: u64,
        block_type: u32,
        len: u32,
        order: ByteOrder,
    ) -> Result<(), Error> {
        let mut t = [0u8; 4];
        self.fill_exact(&mut t, start, "block trailer")?;
        if u32_from(order, t) != len {
            return Err(Error::BadBlockLength {
                offset: start,
                block_type,
                len: u32_from(order, t),
            });
        }
        Ok(())
    }

    fn next_ng(&mut self) -> Result<Option<Meta>, Error> {
        loop {
            let Kind::Ng { order, .. } = self.kind else {
                return Ok(None);
            };
            let start = self.offset;
            let mut h = [0u8; 8];
            match self.fill(&mut h)? {
                Fill::Full => {}
                Fill::Eof => return Ok(None),
                Fill::Partial => {
                    return Err(Error::Truncated {
                        offset: start,
                        what: "block header",
                    })
                }
            }
            let [t0, t1, t2, t3, l0, l1, l2, l3] = h;
            // The SHB type is a palindrome, so it is recognisable before its byte order is.
            if [t0, t1, t2, t3] == [0x0a, 0x0d, 0x0d, 0x0a] {
                self.read_shb(start, Some([l0, l1, l2, l3]))?;
                continue;
            }
            let block_type = u32_from(order, [t0, t1, t2, t3]);
            let len = u32_from(order, [l0, l1, l2, l3]);
            if len < 12 || len % 4 != 0 {
                return Err(Error::BadBlockLength {
                    offset: start,
                    block_type,
                    len,
                });
            }
            let body = len - 12;
            match block_type {
                IDB | EPB | SPB | PB => {
                    if len > MAX_BLOCK_LEN {
                        if block_type == IDB {
                            return Err(Error::BlockTooLarge { offset: start, len });
                        }
                        self.skip(u64::from(body), start, "packet block")?;
                        self.check_trailer(start, block_type, len, order)?;
                        self.stats.oversized += 1;
                        continue;
                    }
                    // Body plus trailing length, in one read.
                    let what = if block_type == IDB {
                        "interface description block"
                    } else {
                        "packet block"
                    };
                    self.fill_buf(body as usize + 4, start, what)?;
                    let trailer = self
                        .buf
                        .get(body as usize..body as usize + 4)
                        .and_then(|t| <[u8; 4]>::try_from(t).ok())
                        .map(|t| u32_from(order, t));
                    if trailer != Some(len) {
                        return Err(Error::BadBlockLength {
                            offset: start,
                            block_type,
                            len: trailer.unwrap_or(0),
                        });
                    }
                    if block_type == IDB {
                        self.parse_idb(body as usize, order)?;
                        continue;
                    }
                    if let Some(meta) = self.parse_packet_block(block_type, body as usize, order) {
                        return Ok(Some(meta));
                    }
                }
                _ => {
                    self.skip(u64::from(body), start, "block")?;
                    self.check_trailer(start, block_type, len, order)?;
                    self.stats.skipped_blocks += 1;
                }
            }
        }
    }

    fn parse_idb(&mut self, body: usize, order: ByteOrder) -> Result<(), Error> {
        let b = self.buf.get(..body).unwrap_or(&[]);
        let mut r = Reader::new(b);
        let linktype = r.u16(order).map(u32::from);
        r.skip(2);
        let snaplen = r.u32(order);
        let (Some(linktype), Some(snaplen)) = (linktype, snaplen) else {
            // An IDB too short for its fixed fields still occupies an interface id; record it
            // with an impossible link type so its packets decode as unsupported.
            return self.push_iface(Iface {
                linktype: u32::MAX,
                snaplen: 0,
                res: TsRes::Dec(6),
                offset_secs: 0,
            });
        };
        let mut iface = Iface {
            linktype,
            snaplen,
            res: TsRes::Dec(6),
            offset_secs: 0,
        };
        // Options: code, length, value padded to 32 bits. Malformed options end the walk.
        while let (Some(code), Some(olen)) = (r.u16(order), r.u16(order)) {
            if code == 0 {
                break;
            }
            let Some(val) = r.take(olen as usize) else {
                break;
            };
            let _ = r.skip((4 - olen as usize % 4) % 4);
            match (code, val) {
                (9, [v, ..]) => {
                    iface.res = if v & 0x80 == 0 {
                        TsRes::Dec(*v)
                    } else {
                        TsRes::Bin(v & 0x7f)
                    };
                }
                (14, v) if v.len() >= 8 => {
                    let mut vr = Reader::new(v);
                    iface.offset_secs = vr.u64(order).unwrap_or(0) as i64;
                }
                _ => {}
            }
        }
        self.push_iface(iface)
    }

    fn push_iface(&mut self, iface: Iface) -> Result<(), Error> {
        if let Kind::Ng { ifaces, .. } = &mut self.kind {
            if ifaces.len() >= MAX_INTERFACES {
                return Err(Error::TooManyInterfaces);
            }
            ifaces.push(iface);
            self.stats.interfaces += 1;
        }
        Ok(())
    }

    /// Parses an EPB/SPB/PB in `buf[..body]`; `None` means "skipped, counted".
    fn parse_packet_block(
        &mut self,
        block_type: u32,
        body: usize,
        order: ByteOrder,
    ) -> Option<Meta> {
        let Kind::Ng { ifaces, .. } = &self.kind else {
            return None;
        };
        let b = self.buf.get(..body).unwrap_or(&[]);
        let mut r = Reader::new(b);
        let (if_id, ts, caplen, orig) = match block_type {
            EPB | PB => {
                let if_id = if block_type == EPB {
                    r.u32(order)
                } else {
                    let id = r.u16(order).map(u32::from);
                    r.skip(2); // drops count
                    id
                };
                let hi = r.u32(order);
                let lo = r.u32(order);
                let cap = r.u32(order);
                let orig = r.u32(order);
                match (if_id, hi, lo, cap, orig) {
                    (Some(i), Some(hi), Some(lo), Some(c), Some(o)) => {
                        (i, Some((u64::from(hi) << 32) | u64::from(lo)), c, o)
                    }
                    _ => {
                        self.stats.malformed_blocks += 1;
                        return None;
                    }
                }
            }
            _ => {
                // SPB: no interface id (always 0), no timestamp, captured length implied.
                let Some(orig) = r.u32(order) else {
                    self.stats.malformed_blocks += 1;
                    return None;
                };
                let mut cap = orig.min(u32::try_from(r.remaining()).unwrap_or(u32::MAX));
                if let Some(i) = ifaces.first() {
                    if i.snaplen != 0 {
                        cap = cap.min(i.snaplen);
                    }
                }
                (0, None, cap, orig)
            }
        };
        let data_start = body - r.remaining();
        let Some(iface) = ifaces.get(if_id as usize).copied() else {
            self.stats.unknown_interface += 1;
            return None;
        };
        if caplen > MAX_PACKET_LEN {
            self.stats.oversized += 1;
            return None;
        }
        if caplen as usize > r.remaining() {
            self.stats.malformed_blocks += 1;
            return None;
        }
        let ts_nanos = match ts {
            Some(t) => to_nanos(t, iface.res, iface.offset_secs),
            None => self.last_ts,
        };
        Some(Meta {
            ts_nanos,
            linktype: iface.linktype,
            orig_len: orig,
            interface: if_id,
            start: data_start,
            len: caplen as usize,
        })
    }
}

/// Converts a pcapng timestamp in interface units to Unix nanoseconds, saturating.
fn to_nanos(ts: u64, res: TsRes, offset_secs: i64) -> i64 {
    let ts = i128::from(ts);
    let ns: i128 = match res {
        TsRes::Dec(n) if n <= 9 => ts * 10i128.pow(9 - u32::from(n)),
        TsRes::Dec(n) => match 10i128.checked_pow(u32::from(n) - 9) {
            Some(div) => ts / div,
            None => 0,
        },
        TsRes::Bin(n) if n < 127 => (ts * 1_000_000_000) >> n,
        TsRes::Bin(_) => 0,
    };
    let total = ns.saturating_add(i128::from(offset_secs) * i128::from(NANOS_PER_SEC));
    i64::try_from(total).unwrap_or(if total < 0 { i64::MIN } else { i64::MAX })
}

/// Reads until `out` is full or the reader reports end of file; returns the count read.
fn read_full<R: Read>(r: &mut R, out: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while let Some(rest) = out.get_mut(n..).filter(|r| !r.is_empty()) {
        match r.read(rest) {
            Ok(0) => break,
            Ok(k) => n = n.saturating_add(k).min(out.len()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_resolutions() {
        assert_eq!(to_nanos(1_500_000, TsRes::Dec(6), 0), 1_500_000_000);
        assert_eq!(to_nanos(15, TsRes::Dec(9), 0), 15);
        assert_eq!(to_nanos(15_000, TsRes::Dec(12), 0), 15);
        assert_eq!(to_nanos(1 << 30, TsRes::Bin(30), 0), 1_000_000_000);
        assert_eq!(to_nanos(3, TsRes::Dec(0), 2), 5_000_000_000);
        assert_eq!(to_nanos(u64::MAX, TsRes::Dec(0), 0), i64::MAX);
        assert_eq!(to_nanos(u64::MAX, TsRes::Dec(200), 0), 0);
        assert_eq!(to_nanos(1, TsRes::Bin(127), 0), 0);
        assert_eq!(to_nanos(0, TsRes::Dec(6), i64::MIN), i64::MIN);
    }

    #[test]
    fn short_files() {
        for len in 0..4 {
            let data = vec![0xd4u8; len];
            assert!(matches!(
                PcapReader::new(&data[..]),
                Err(Error::Truncated { offset: 0, .. })
            ));
        }
        assert!(matches!(
            PcapReader::new(&b"GIF89a"[..]),
            Err(Error::UnknownFormat {
                magic: [b'G', b'I', b'F', b'8']
            })
        ));
    }
}

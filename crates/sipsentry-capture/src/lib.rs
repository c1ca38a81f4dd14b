//! Packet-capture reading and decoding down to transport payloads, sans-IO, for hostile input.
//!
//! Two halves:
//!
//! * [`pcap`]: a streaming reader for classic pcap, pcapng and gzip-compressed captures
//!   ([`PcapReader`]), detecting the format by magic number and returning one borrowed
//!   [`Packet`] at a time with flat memory.
//! * [`Decoder`]: a sans-IO state machine that takes packets (from the reader or anywhere
//!   else) and reports UDP datagrams and reassembled TCP streams as [`Event`]s, doing link /
//!   network decoding ([`decode`]), IPv4/IPv6 fragment reassembly and TCP stream reassembly
//!   ([`tcp`]) on the way.
//!
//! ```
//! use sipsentry_capture::{Config, Decoder, Event, PcapReader};
//!
//! # fn run(file: &[u8]) -> Result<(), sipsentry_capture::pcap::Error> {
//! let mut reader = PcapReader::new(file)?;
//! let mut decoder = Decoder::new(Config::default());
//! let mut on_event = |ev: Event<'_>| match ev {
//!     Event::Datagram(d) => println!("UDP {} -> {}: {} bytes", d.src, d.dst, d.payload.len()),
//!     Event::StreamData(s) => println!("TCP #{} +{} bytes", s.stream, s.bytes.len()),
//!     Event::StreamGap(g) => println!("TCP #{} lost {} bytes", g.stream, g.len),
//!     Event::StreamClosed(c) => println!("TCP #{} closed: {:?}", c.stream, c.reason),
//! };
//! while let Some(packet) = reader.next_packet()? {
//!     decoder.push(&packet, &mut on_event);
//! }
//! decoder.flush(&mut on_event);
//! println!("{:?}", decoder.stats());
//! # Ok(()) }
//! ```
//!
//! # Design rules
//!
//! * **No panics on any input.** Packet bytes are read only through a checked cursor or
//!   `slice::get`; lengths from the wire are validated before use; arithmetic on wire values
//!   is checked or saturating. `#![forbid(unsafe_code)]`. Fuzz entry points:
//!   [`fuzz_pcap`], [`fuzz_reassembly`].
//! * **Bounded memory.** Every buffer has a hard cap ([`MAX_PACKET_LEN`](pcap::MAX_PACKET_LEN),
//!   [`FragConfig`], [`TcpConfig`]); [`Decoder::buffered`] exposes current usage, and what is
//!   evicted or skipped to respect a cap is counted in [`Stats`].
//! * **No clock.** Time is packet time; expiry compares packet timestamps.
//! * **Deterministic.** The same packets produce the same events in the same order: tables are
//!   probed by hash but only ever walked in least-recently-seen order.
//! * **Cheap common case.** A UDP datagram that needs no reassembly is decoded without
//!   allocation or table lookup, and its payload is borrowed from the packet.
//!
//! # Limits (defaults)
//!
//! | what | default | beyond it |
//! |---|---|---|
//! | captured bytes per packet | 256 KiB | classic pcap: fatal [`pcap::Error::PacketTooLarge`]; pcapng: block skipped, counted |
//! | pcapng packet/interface block | 320 KiB | packet block skipped, counted; interface block fatal |
//! | interfaces per pcapng section | 1024 | fatal |
//! | VLAN tags / MPLS labels | 8 / 8 | malformed |
//! | tunnel nesting / IPv6 extension headers | 4 / 8 | malformed ([`Limits`]) |
//! | fragment trains / bytes per datagram / pieces per train | 1024 / 65 535 / 256 | evict oldest / drop train |
//! | fragment bytes buffered in all / train idle timeout | 16 MiB / 30 s | evict oldest / expire |
//! | TCP streams / idle timeout | 65 536 / 300 s | evict least recently seen / close |
//! | TCP out-of-order bytes per stream / segments per stream / in all | 256 KiB / 1024 / 64 MiB | skip the hole ([`StreamGap`]) |
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bytes;
pub mod decode;
mod decoder;
mod event;
pub mod frag;
mod fuzz;
mod lru;
pub mod pcap;
pub mod tcp;

pub use bytes::ByteOrder;
pub use decode::{DecodeError, Decoded, Limits};
pub use decoder::{BufferUsage, Config, Decoder, Malformed, Stats};
pub use event::{CloseReason, Datagram, Event, StreamClosed, StreamData, StreamGap};
pub use frag::{FragConfig, FragStats};
pub use fuzz::{fuzz_pcap, fuzz_reassembly};
pub use pcap::{Packet, PcapReader};
pub use tcp::{FlowKey, TcpConfig, TcpStats};

/// Bytes charged per buffered fragment or TCP segment on top of its length, so that floods of
/// tiny pieces cannot hide their bookkeeping cost from the byte caps.
pub const PIECE_OVERHEAD: usize = 64;

/// `LINKTYPE_*` values this crate decodes (see <https://www.tcpdump.org/linktypes.html>).
pub mod linktype {
    /// BSD loopback, address family in host byte order.
    pub const NULL: u32 = 0;
    /// Ethernet.
    pub const EN10MB: u32 = 1;
    /// Raw IP as written by some BSDs (`DLT_RAW` = 12).
    pub const RAW_12: u32 = 12;
    /// Raw IP as written by OpenBSD (`DLT_RAW` = 14).
    pub const RAW_14: u32 = 14;
    /// Raw IP, version from the first nibble.
    pub const RAW: u32 = 101;
    /// OpenBSD loopback, address family in network byte order.
    pub const LOOP: u32 = 108;
    /// Linux cooked capture v1.
    pub const LINUX_SLL: u32 = 113;
    /// Raw IPv4.
    pub const IPV4: u32 = 228;
    /// Raw IPv6.
    pub const IPV6: u32 = 229;
    /// Linux cooked capture v2.
    pub const LINUX_SLL2: u32 = 276;
}

//! What the [`Decoder`](crate::Decoder) reports.
//!
//! Events are handed to a callback and live only for that call. Payloads are `Cow`:
//! **borrowed** straight from the packet on the fast paths (a UDP datagram that needed no
//! reassembly; a TCP segment that arrived in order with nothing buffered) or from the
//! decoder's scratch copy of a reassembled IP datagram, and **owned** when the decoder hands
//! over a buffer it built (TCP data released from the out-of-order buffer: the buffer is moved
//! into the event, not copied). [`Event::into_owned`] detaches an event when a consumer needs
//! to keep it.
//!
//! Time: `ts_nanos` is always packet time (Unix nanoseconds from the capture). Events caused
//! by a packet carry its time; events caused by the passage of time (idle expiry) or by
//! another flow (eviction) carry the time of the packet being processed when the decoder
//! noticed; [`Decoder::flush`](crate::Decoder::flush) uses the latest packet time seen.

use std::borrow::Cow;
use std::net::SocketAddr;

/// One decoder output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    /// A UDP datagram (possibly reassembled from IP fragments).
    Datagram(Datagram<'a>),
    /// In-order bytes of one direction of a TCP connection.
    StreamData(StreamData<'a>),
    /// Bytes of a TCP stream that will never be delivered (lost, or not captured); the
    /// consumer should resynchronise after them.
    StreamGap(StreamGap),
    /// A TCP stream direction ended; its id is not used again.
    StreamClosed(StreamClosed),
}

impl Event<'_> {
    /// Copies any borrowed payload so the event outlives the packet buffer.
    pub fn into_owned(self) -> Event<'static> {
        match self {
            Event::Datagram(d) => Event::Datagram(Datagram {
                payload: Cow::Owned(d.payload.into_owned()),
                ..d
            }),
            Event::StreamData(s) => Event::StreamData(StreamData {
                bytes: Cow::Owned(s.bytes.into_owned()),
                ..s
            }),
            Event::StreamGap(g) => Event::StreamGap(g),
            Event::StreamClosed(c) => Event::StreamClosed(c),
        }
    }

    /// Packet time of the event.
    pub fn ts_nanos(&self) -> i64 {
        match self {
            Event::Datagram(d) => d.ts_nanos,
            Event::StreamData(s) => s.ts_nanos,
            Event::StreamGap(g) => g.ts_nanos,
            Event::StreamClosed(c) => c.ts_nanos,
        }
    }
}

/// A UDP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// Packet time (of the completing fragment, if reassembled).
    pub ts_nanos: i64,
    /// Source address and port (innermost IP header).
    pub src: SocketAddr,
    /// Destination address and port.
    pub dst: SocketAddr,
    /// Payload bytes present in the capture.
    pub payload: Cow<'a, [u8]>,
    /// Payload length according to the UDP header; larger than `payload.len()` when the
    /// capture's snaplen cut the datagram.
    pub len: usize,
    /// Reassembled from IP fragments.
    pub reassembled: bool,
    /// Reassembly met overlapping fragments (first copy of each byte kept).
    pub frag_overlap: bool,
    /// Tunnels crossed to reach it.
    pub tunnel_depth: u8,
}

impl Datagram<'_> {
    /// Whether the capture cut the payload short.
    pub fn is_truncated(&self) -> bool {
        self.payload.len() < self.len
    }
}

/// Bytes of one TCP stream direction, in sequence order, each delivered once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamData<'a> {
    /// Time of the packet that made these bytes deliverable.
    pub ts_nanos: i64,
    /// Stream id: unique per direction and connection instance, assigned in order of first
    /// sight, never reused.
    pub stream: u64,
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// Stream offset of the first byte (bytes delivered plus gaps so far).
    pub offset: u64,
    /// The bytes.
    pub bytes: Cow<'a, [u8]>,
}

/// Bytes skipped in a TCP stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamGap {
    /// Packet time.
    pub ts_nanos: i64,
    /// Stream id.
    pub stream: u64,
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// Stream offset where the gap starts.
    pub offset: u64,
    /// Number of bytes skipped.
    pub len: u64,
}

/// Why a TCP stream direction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// A FIN from the sender.
    Fin,
    /// A RST in either direction.
    Reset,
    /// A SYN with a new initial sequence number reused the 4-tuple.
    Reopened,
    /// Idle longer than [`TcpConfig::idle_timeout_nanos`](crate::TcpConfig).
    IdleTimeout,
    /// Evicted to respect [`TcpConfig::max_flows`](crate::TcpConfig).
    Evicted,
    /// [`Decoder::flush`](crate::Decoder::flush) at end of input.
    EndOfInput,
}

/// The end of a TCP stream direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamClosed {
    /// Packet time.
    pub ts_nanos: i64,
    /// Stream id.
    pub stream: u64,
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// Why.
    pub reason: CloseReason,
}

//! The event every input produces and every detector consumes.

use sipsentry_sip::{Limits, Message, Mode};
use std::fmt;
use std::net::SocketAddr;

/// How a SIP message travelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    /// UDP datagram.
    Udp,
    /// TCP stream (framed by Content-Length).
    Tcp,
    /// TLS (only seen decrypted, e.g. through HEP from the PBX itself).
    Tls,
    /// SIP over WebSocket (RFC 7118), plain.
    Ws,
    /// SIP over secure WebSocket (seen through HEP).
    Wss,
    /// SCTP (seen through HEP).
    Sctp,
}

impl Transport {
    /// Lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Ws => "ws",
            Transport::Wss => "wss",
            Transport::Sctp => "sctp",
        }
    }

    /// Whether signalling on this transport is encrypted on the wire.
    pub fn is_encrypted(self) -> bool {
        matches!(self, Transport::Tls | Transport::Wss)
    }

    /// Message framing the transport implies.
    pub fn mode(self) -> Mode {
        match self {
            Transport::Udp => Mode::Datagram,
            _ => Mode::Stream,
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the event came from, beyond its addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Seen directly in a capture (or live capture).
    Wire,
    /// Carried in a HEP packet; the addresses are the ones the agent reported, the capture id
    /// identifies the agent.
    Hep {
        /// HEP version (1, 2 or 3).
        version: u8,
        /// Capture agent id (0 when absent).
        capture_id: u32,
    },
}

/// One SIP message with its packet-level context. `data` borrows from the packet or from a
/// reassembly buffer and is only valid during the callback that receives the event; a consumer
/// that keeps it copies it.
///
/// The source address is the transport source (IP header, or the HEP agent's report): the only
/// field detectors may use as the origin of traffic — never From/Contact, which an attacker
/// writes.
#[derive(Clone, Copy, Debug)]
pub struct SipEvent<'a> {
    /// Packet time, nanoseconds since the Unix epoch.
    pub ts_nanos: i64,
    /// Transport source.
    pub src: SocketAddr,
    /// Transport destination.
    pub dst: SocketAddr,
    /// Transport.
    pub transport: Transport,
    /// Raw message bytes.
    pub data: &'a [u8],
    /// Wire or HEP.
    pub origin: Origin,
}

impl<'a> SipEvent<'a> {
    /// Parses the message with the framing its transport implies.
    pub fn message(&self, limits: &Limits) -> Message<'a> {
        Message::parse_with(self.data, limits, self.transport.mode())
    }
}

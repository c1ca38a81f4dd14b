//! # sipsentry-sip
//!
//! A sans-IO, zero-copy SIP (RFC 3261) message parser built for hostile traffic.
//!
//! * **No I/O, no clock.** Bytes in, views out. The same code runs under live capture, pcap
//!   replay, HEP mirrors and fuzzers, and behaves identically in all of them.
//! * **Anomalies are data.** Scanners and exploits send malformed messages on purpose. Parsing
//!   never fails as a whole: [`Message::parse`] always returns a [`Message`] whose
//!   [`Message::anomalies`] list every problem with a stable [`AnomalyKind`] and a byte span, and
//!   each kind's [`Severity`] says whether RFC 3261 requires the message to be rejected.
//! * **Zero-copy and lazy.** Header values are slices of the input; folded lines are read in
//!   place (the lexer treats the CR/LF of a fold as white space) rather than copied. Typed views
//!   ([`Via`], [`NameAddr`], [`CSeq`], [`Uri`], …) parse a value only when asked.
//! * **Bounded.** [`Limits`] caps message size, header count and line length; the
//!   [`StreamFramer`] never buffers beyond them.
//!
//! ```
//! use sipsentry_sip::{Message, HeaderName};
//! let raw = b"OPTIONS sip:100@pbx.example.com SIP/2.0\r\n\
//!     Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK-1;rport\r\n\
//!     From: \"scan\" <sip:100@pbx.example.com>;tag=a1\r\n\
//!     To: <sip:100@pbx.example.com>\r\n\
//!     Call-ID: 1@192.0.2.7\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n\
//!     User-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n";
//! let msg = Message::parse(raw);
//! assert!(msg.is_acceptable());
//! assert_eq!(msg.header_value(HeaderName::UserAgent), Some(&b"friendly-scanner"[..]));
//! let via = msg.top_via().unwrap().unwrap();
//! assert_eq!(via.rport(), Some(None));
//! assert_eq!(msg.from().unwrap().unwrap().tag(), Some(&b"a1"[..]));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod anomaly;
pub mod framer;
pub mod header;
pub mod lex;
pub mod message;
pub mod print;
pub mod uri;
pub mod validate;
pub mod views;

mod access;
#[doc(hidden)]
pub mod fuzzing;

pub use anomaly::{Anomaly, AnomalyKind, Severity};
pub use framer::{FrameEvent, FramingError, StreamFramer};
pub use header::{Header, HeaderName};
pub use message::{Message, Method, Mode, StartLine};
pub use uri::{Scheme, Uri, UriError};
pub use views::{AuthHeader, CSeq, Contact, MediaType, NameAddr, Reason, Via, ViewError};

/// Hard caps applied to every message. The defaults fit real PBX traffic (the largest messages
/// seen in practice are INVITEs with multipart bodies of a few KiB) with an order of magnitude to
/// spare, while keeping a flood of hostile messages cheap to reject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest message, headers plus body (default 64 KiB, the UDP datagram ceiling).
    pub max_message: usize,
    /// Most header fields (default 256).
    pub max_headers: usize,
    /// Longest line, including folded continuations counted separately (default 16 KiB).
    pub max_line: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message: 65_535,
            max_headers: 256,
            max_line: 16_384,
        }
    }
}

//! Sans-IO, zero-copy SDP parser (RFC 8866 / RFC 4566) with typed SDES crypto (RFC 4568),
//! built for hostile input.
//!
//! A security tool sees SDP that is malformed on purpose, so this crate treats problems as
//! data rather than errors: [`Session::parse`] fails only on input that is empty or not SDP at
//! all, and everything else it finds wrong is an [`Anomaly`] with a stable
//! [`AnomalyKind::id`] and the byte span it covers. Hard caps ([`MAX_BODY`], [`MAX_LINES`],
//! [`MAX_MEDIA`], [`MAX_ATTRIBUTES`]) bound the work an attacker can cause; exceeding one is an
//! anomaly and parsing stops there. All parsed fields borrow from the body.
//!
//! SDES puts SRTP master keys in the signalling, so key material is handled as a secret: every
//! `Debug` and `Display` impl prints `<redacted>` for it, and [`redact`] produces a copy of the
//! body safe to log or store.
//!
//! ```
//! use sipsentry_sdp::{redact, Session};
//!
//! let body = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
//! m=audio 49170 RTP/SAVP 0\r\n\
//! a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32\r\n";
//! let session = Session::parse(body).unwrap();
//! assert!(session.anomalies().is_empty());
//! let media = session.media().next().unwrap();
//! assert!(media.is_srtp() && session.has_sdes_keys());
//! assert_eq!(media.crypto()[0].key_params[0].decoded_len, Some(30));
//! assert!(!format!("{session:?}").contains("PS1uQ"));
//! assert!(!String::from_utf8_lossy(&redact(body)).contains("PS1uQ"));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod anomaly;
mod crypto;
mod fuzz;
mod lines;
mod media;
mod redact;
mod session;
mod text;
mod types;

pub use anomaly::{Anomaly, AnomalyKind, Severity};
pub use crypto::{Crypto, CryptoSuite, KeyParam, Lifetime, Mki, SessionParam, MAX_LIFETIME_LOG2};
pub use fuzz::fuzz_parse;
pub use media::{Media, MediaRef, Proto};
pub use redact::{contains_key_material, contains_sdes_keys, redact, REDACTED};
pub use session::Session;
pub use text::{KeyMaterial, Secret, Text};
pub use types::{
    AddressSource, Attribute, Bandwidth, Connection, Direction, EncryptionKey, Origin, RawLine,
    Repeat, Timing, Zone, ZoneAdjustment,
};

/// Largest body parsed, in bytes; the rest is reported as `sdp-body-too-large`.
pub const MAX_BODY: usize = 64 * 1024;
/// Most lines parsed.
pub const MAX_LINES: usize = 1024;
/// Most media sections parsed.
pub const MAX_MEDIA: usize = 64;
/// Most `a=` lines parsed per section (session level or one media section).
pub const MAX_ATTRIBUTES: usize = 256;

/// Why a body could not be parsed at all. Anything short of this is an [`Anomaly`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The body is empty or holds only white space and line ends.
    #[error("empty SDP body")]
    Empty,
    /// No `v=` line, and the first line is not `<letter>=<value>`.
    #[error("not an SDP body")]
    NotSdp,
}

//! Sans-IO WebSocket (RFC 6455) frame decoder for observing SIP over WebSocket (RFC 7118).
//!
//! A monitor sees both directions of a TCP connection and feeds each to its own
//! [`WsDecoder`], from the first byte of the stream. If the stream starts with an HTTP/1.1
//! Upgrade request (`GET ...`) or response (`HTTP/1.1 101 ...`), the decoder parses and skips
//! it, reports it as [`WsEvent::Handshake`] and learns the sender's role: client frames must be
//! masked and server frames must not be. A stream that starts with anything else is taken to
//! be frames already (a capture that began mid-connection).
//!
//! Output is events: complete messages (fragments reassembled; per RFC 7118 each message is
//! exactly one SIP message), control frames, and [`WsAnomaly`] records for protocol
//! violations that still leave the framing intact, since for a security monitor a violation is
//! information, not a reason to stop looking. Only conditions after which frame boundaries can
//! no longer be trusted, or that would need unbounded memory, are fatal [`WsError`]s; the
//! decoder then ignores the rest of the stream.
//!
//! Caps ([`WsLimits`]): frame payload and reassembled message size (1 MiB by default; SIP
//! messages are a few KiB) and handshake head size (16 KiB). `permessage-deflate` (RFC 7692)
//! payloads are passed on still compressed, flagged by [`WsMessage::compressed`].
//!
//! ```
//! use sipsentry_hep::ws::{WsDecoder, WsEvent};
//!
//! let mut dec = WsDecoder::new();
//! // RFC 6455 §5.7: a single-frame masked text message containing "Hello".
//! let n = dec.push(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
//! assert_eq!(n, 11);
//! match dec.next_event() {
//!     Some(Ok(WsEvent::Message(m))) => assert_eq!(m.payload, b"Hello"),
//!     other => panic!("{other:?}"),
//! }
//! ```

mod handshake;

use std::collections::VecDeque;

pub use handshake::{Handshake, HandshakeKind};

use crate::reader::Reader;
use handshake::Start;

/// Default [`WsLimits::max_frame_payload`]: 1 MiB.
pub const DEFAULT_MAX_FRAME: usize = 1 << 20;
/// Default [`WsLimits::max_message`]: 1 MiB.
pub const DEFAULT_MAX_MESSAGE: usize = 1 << 20;
/// Default [`WsLimits::max_handshake`]: 16 KiB.
pub const DEFAULT_MAX_HANDSHAKE: usize = 16 * 1024;
/// Largest frame header: 2 bytes + 8-byte length + 4-byte mask key.
pub const MAX_FRAME_HEADER: usize = 14;

/// Caps for one [`WsDecoder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WsLimits {
    /// Largest payload of a single frame. A larger declared length is fatal
    /// ([`WsError::FrameTooLarge`]): skipping it would mean trusting a length an attacker
    /// chose, and buffering it would mean unbounded memory.
    pub max_frame_payload: usize,
    /// Largest reassembled message. Exceeding it drops that message
    /// ([`WsAnomaly::MessageTooLarge`]) and decoding continues.
    pub max_message: usize,
    /// Largest HTTP handshake head.
    pub max_handshake: usize,
}

impl Default for WsLimits {
    fn default() -> Self {
        WsLimits {
            max_frame_payload: DEFAULT_MAX_FRAME,
            max_message: DEFAULT_MAX_MESSAGE,
            max_handshake: DEFAULT_MAX_HANDSHAKE,
        }
    }
}

/// Which endpoint sends the stream a decoder sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The client: sent the `GET` request; its frames must be masked.
    Client,
    /// The server: sent the `101` response; its frames must not be masked.
    Server,
}

/// Frame opcodes (RFC 6455 §5.2).
pub mod opcode {
    /// Continuation of a fragmented message.
    pub const CONTINUATION: u8 = 0x0;
    /// Text (UTF-8) data.
    pub const TEXT: u8 = 0x1;
    /// Binary data.
    pub const BINARY: u8 = 0x2;
    /// Connection close.
    pub const CLOSE: u8 = 0x8;
    /// Ping.
    pub const PING: u8 = 0x9;
    /// Pong.
    pub const PONG: u8 = 0xa;
}

/// Data message type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// Opcode 0x1: UTF-8 text (SIP over WebSocket normally uses text).
    Text,
    /// Opcode 0x2: binary.
    Binary,
}

/// A complete (reassembled) data message. Under RFC 7118 each is exactly one SIP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsMessage {
    /// Text or binary.
    pub kind: MessageKind,
    /// The unmasked payload of all fragments, concatenated.
    pub payload: Vec<u8>,
    /// Number of frames the message arrived in (1 when unfragmented).
    pub fragments: u32,
    /// The first frame was masked.
    pub masked: bool,
    /// RSV1 was set on the first frame and the handshake listed `permessage-deflate`: the
    /// payload is still deflate-compressed (not inflated by this decoder). A client-side
    /// decoder only sees the *offer*; the server's response says whether it was accepted.
    pub compressed: bool,
}

/// A close frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// Status code, if the frame had a body.
    pub code: Option<u16>,
    /// Reason bytes after the code (UTF-8 when well-formed).
    pub reason: Vec<u8>,
}

/// Something the decoder produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsEvent {
    /// An HTTP Upgrade request or response was parsed and skipped.
    Handshake(Handshake),
    /// A complete data message.
    Message(WsMessage),
    /// A ping with its application data.
    Ping(Vec<u8>),
    /// A pong with its application data.
    Pong(Vec<u8>),
    /// A close frame.
    Close(CloseFrame),
    /// A protocol violation that left the framing intact; reported before the event of the
    /// frame it concerns.
    Anomaly(WsAnomaly),
}

/// A protocol violation the decoder survived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum WsAnomaly {
    /// A length was sent in a longer encoding than needed (RFC 6455 §5.2: "the minimal number
    /// of bytes MUST be used"). Benign senders never do this; length-confusion probes do.
    #[error("payload length {len} sent in the {encoding_bits}-bit form, which is not minimal")]
    NonMinimalLength {
        /// The payload length.
        len: u64,
        /// 16 or 64.
        encoding_bits: u8,
    },
    /// A client-to-server frame is not masked (RFC 6455 §5.1).
    #[error("client frame is not masked")]
    UnmaskedClientFrame,
    /// A server-to-client frame is masked (RFC 6455 §5.1).
    #[error("server frame is masked")]
    MaskedServerFrame,
    /// RSV bits set without a negotiated extension that defines them.
    #[error("RSV bits {bits:#05b} set without a negotiated extension")]
    RsvBitsSet {
        /// RSV1..RSV3 as a 3-bit value.
        bits: u8,
    },
    /// A reserved opcode (0x3-0x7, 0xb-0xf); the frame was skipped.
    #[error("reserved opcode {opcode:#x}; frame skipped")]
    ReservedOpcode {
        /// The opcode.
        opcode: u8,
    },
    /// A control frame without FIN (control frames must not be fragmented).
    #[error("control frame (opcode {opcode:#x}) is fragmented")]
    FragmentedControlFrame {
        /// The opcode.
        opcode: u8,
    },
    /// A control frame payload over 125 bytes.
    #[error("control frame (opcode {opcode:#x}) payload is {len} bytes, at most 125 allowed")]
    ControlFrameTooLong {
        /// The opcode.
        opcode: u8,
        /// The payload length.
        len: usize,
    },
    /// A continuation frame with no message in progress; it was dropped.
    #[error("continuation frame without a message in progress; dropped")]
    UnexpectedContinuation,
    /// A new text/binary frame arrived while a fragmented message was unfinished; the
    /// unfinished message was dropped.
    #[error("new data frame interrupts an unfinished fragmented message; partial message dropped")]
    InterruptedMessage,
    /// A message grew past [`WsLimits::max_message`]; it was dropped.
    #[error("message of at least {len} bytes exceeds the {cap}-byte cap; dropped")]
    MessageTooLarge {
        /// Size reached when the cap was hit.
        len: usize,
        /// The cap.
        cap: usize,
    },
    /// A text message or close reason is not valid UTF-8.
    #[error("text payload is not valid UTF-8")]
    InvalidUtf8,
    /// A close frame with a 1-byte body (a code needs 2).
    #[error("close frame body is 1 byte; a status code needs 2")]
    InvalidClosePayload,
    /// A close code that may not be sent (RFC 6455 §7.4).
    #[error("close code {code} may not be sent on the wire")]
    InvalidCloseCode {
        /// The code.
        code: u16,
    },
    /// A frame after a close frame.
    #[error("frame after a close frame")]
    DataAfterClose,
    /// The handshake head had header lines without a colon; they were ignored.
    #[error("{count} handshake header lines without a colon were ignored")]
    MalformedHeaderLines {
        /// How many.
        count: usize,
    },
}

/// A condition after which the stream cannot be decoded further.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WsError {
    /// A frame declares a payload larger than [`WsLimits::max_frame_payload`].
    #[error("frame payload length {len} exceeds the {cap}-byte cap")]
    FrameTooLarge {
        /// The declared length.
        len: u64,
        /// The cap.
        cap: usize,
    },
    /// The most significant bit of a 64-bit length is set (RFC 6455 §5.2 forbids it).
    #[error("64-bit payload length {len:#x} has its most significant bit set")]
    Length64MsbSet {
        /// The declared length.
        len: u64,
    },
    /// No end of the HTTP head within [`WsLimits::max_handshake`] bytes.
    #[error("HTTP handshake head exceeds {cap} bytes")]
    HandshakeTooLarge {
        /// The cap.
        cap: usize,
    },
    /// The HTTP head cannot be parsed.
    #[error("malformed HTTP handshake: {reason}")]
    MalformedHandshake {
        /// What is wrong.
        reason: &'static str,
    },
    /// The HTTP message is not a WebSocket upgrade (method not GET, or no
    /// `Upgrade: websocket`).
    #[error("HTTP message is not a WebSocket upgrade")]
    NotAnUpgrade,
    /// The server answered the upgrade with a status other than 101.
    #[error("WebSocket upgrade refused with HTTP status {status}")]
    HandshakeRejected {
        /// The status code.
        status: u16,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start,
    Frames,
    Failed,
}

#[derive(Debug, Clone)]
struct Fragmented {
    kind: MessageKind,
    data: Vec<u8>,
    frames: u32,
    masked: bool,
    compressed: bool,
}

/// One direction of a WebSocket connection, decoded incrementally.
///
/// Feed bytes with [`WsDecoder::push`] and drain [`WsDecoder::next_event`] until it returns
/// `None`. The output does not depend on how the stream was split into pushes.
#[derive(Debug, Clone)]
pub struct WsDecoder {
    limits: WsLimits,
    buf: Vec<u8>,
    start: usize,
    phase: Phase,
    handshake: Option<Handshake>,
    role: Option<Role>,
    deflate: bool,
    frag: Option<Fragmented>,
    /// Dropping the continuation frames of a message that was refused.
    discarding: bool,
    closed: bool,
    pending: VecDeque<WsEvent>,
}

impl Default for WsDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl WsDecoder {
    /// A decoder with default [`WsLimits`].
    pub fn new() -> Self {
        Self::with_limits(WsLimits::default())
    }

    /// A decoder with the given caps.
    pub fn with_limits(limits: WsLimits) -> Self {
        WsDecoder {
            limits,
            buf: Vec::new(),
            start: 0,
            phase: Phase::Start,
            handshake: None,
            role: None,
            deflate: false,
            frag: None,
            discarding: false,
            closed: false,
            pending: VecDeque::new(),
        }
    }

    /// Declare the sender's role for a stream captured without its handshake, so masking is
    /// checked. A parsed handshake overrides it.
    pub fn set_role(&mut self, role: Role) {
        self.role = Some(role);
    }

    /// Most bytes held at once: a whole handshake head or a whole largest frame.
    pub fn buffer_cap(&self) -> usize {
        self.limits.max_handshake.max(
            self.limits
                .max_frame_payload
                .saturating_add(MAX_FRAME_HEADER),
        )
    }

    /// Offer stream bytes; returns how many were taken. Fewer than offered means the buffer
    /// is full: drain [`WsDecoder::next_event`], then offer the rest. After a fatal error all
    /// bytes are taken and ignored.
    #[must_use = "bytes not taken must be offered again"]
    pub fn push(&mut self, data: &[u8]) -> usize {
        if self.phase == Phase::Failed {
            return data.len();
        }
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let room = self.buffer_cap().saturating_sub(self.buf.len());
        let n = data.len().min(room);
        self.buf
            .extend_from_slice(data.get(..n).unwrap_or_default());
        n
    }

    /// The next event, `Some(Err(_))` once for a fatal error, or `None` when more bytes are
    /// needed (or after a fatal error).
    pub fn next_event(&mut self) -> Option<Result<WsEvent, WsError>> {
        loop {
            if let Some(e) = self.pending.pop_front() {
                return Some(Ok(e));
            }
            let step = match self.phase {
                Phase::Failed => return None,
                Phase::Start => self.step_start(),
                Phase::Frames => self.step_frame(),
            };
            match step {
                Ok(true) => continue,
                Ok(false) => return None,
                Err(e) => {
                    self.phase = Phase::Failed;
                    self.buf = Vec::new();
                    self.start = 0;
                    self.frag = None;
                    return Some(Err(e));
                }
            }
        }
    }

    /// The handshake seen on this stream, if any.
    pub fn handshake(&self) -> Option<&Handshake> {
        self.handshake.as_ref()
    }

    /// `Some(true)` when the handshake offered (request) or selected (response) the `sip`
    /// subprotocol, `Some(false)` when it did not, `None` when no handshake was seen. The
    /// response side is authoritative for what was negotiated.
    pub fn subprotocol_is_sip(&self) -> Option<bool> {
        self.handshake.as_ref().map(Handshake::is_sip)
    }

    /// The sender's role, from the handshake or [`WsDecoder::set_role`].
    pub fn role(&self) -> Option<Role> {
        self.role
    }

    /// A fatal error occurred; the rest of the stream is ignored.
    pub fn is_failed(&self) -> bool {
        self.phase == Phase::Failed
    }

    /// Bytes buffered and not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    fn pending_bytes(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }

    /// Decide whether the stream opens with an HTTP head and, if so, consume it.
    fn step_start(&mut self) -> Result<bool, WsError> {
        let data = self.pending_bytes();
        match handshake::classify(data) {
            Start::Undecided => return Ok(false),
            Start::Frames => {
                self.phase = Phase::Frames;
                return Ok(true);
            }
            Start::Http => {}
        }
        let window = data.get(..self.limits.max_handshake).unwrap_or(data);
        let Some(end) = memchr::memmem::find(window, b"\r\n\r\n") else {
            if data.len() >= self.limits.max_handshake {
                return Err(WsError::HandshakeTooLarge {
                    cap: self.limits.max_handshake,
                });
            }
            return Ok(false);
        };
        let head_len = end + 4;
        let hs = handshake::parse(data.get(..head_len).unwrap_or_default())?;
        self.start += head_len;
        self.phase = Phase::Frames;
        let verdict = match &hs.kind {
            HandshakeKind::Request { method, .. } => {
                self.role = Some(Role::Client);
                if method != "GET" || !hs.upgrade_websocket {
                    Err(WsError::NotAnUpgrade)
                } else {
                    Ok(())
                }
            }
            HandshakeKind::Response { status, .. } => {
                self.role = Some(Role::Server);
                if *status != 101 {
                    Err(WsError::HandshakeRejected { status: *status })
                } else if !hs.upgrade_websocket {
                    Err(WsError::NotAnUpgrade)
                } else {
                    Ok(())
                }
            }
        };
        self.deflate = hs.permessage_deflate();
        self.handshake = Some(hs.clone());
        verdict?;
        let malformed = hs.malformed_lines;
        self.pending.push_back(WsEvent::Handshake(hs));
        if malformed > 0 {
            self.pending
                .push_back(WsEvent::Anomaly(WsAnomaly::MalformedHeaderLines {
                    count: malformed,
                }));
        }
        Ok(true)
    }

    /// Decode one frame if it is complete. `Ok(false)`: need more bytes.
    fn step_frame(&mut self) -> Result<bool, WsError> {
        let data = self.pending_bytes();
        let mut r = Reader::new(data);
        let (Some(b0), Some(b1)) = (r.u8(), r.u8()) else {
            return Ok(false);
        };
        let fin = b0 & 0x80 != 0;
        let rsv = (b0 >> 4) & 0x07;
        let op = b0 & 0x0f;
        let masked = b1 & 0x80 != 0;
        let mut anomalies: Vec<WsAnomaly> = Vec::new();
        let len: u64 = match b1 & 0x7f {
            126 => {
                let Some(l) = r.u16_be() else {
                    return Ok(false);
                };
                if l < 126 {
                    anomalies.push(WsAnomaly::NonMinimalLength {
                        len: l.into(),
                        encoding_bits: 16,
                    });
                }
                l.into()
            }
            127 => {
                let Some(l) = r.u64_be() else {
                    return Ok(false);
                };
                if l >> 63 != 0 {
                    return Err(WsError::Length64MsbSet { len: l });
                }
                if l <= 0xffff {
                    anomalies.push(WsAnomaly::NonMinimalLength {
                        len: l,
                        encoding_bits: 64,
                    });
                }
                l
            }
            l => l.into(),
        };
        let cap = self.limits.max_frame_payload;
        let len = match usize::try_from(len) {
            Ok(l) if l <= cap => l,
            _ => return Err(WsError::FrameTooLarge { len, cap }),
        };
        let key = if masked {
            let Some(k) = r.array::<4>() else {
                return Ok(false);
            };
            Some(k)
        } else {
            None
        };
        let Some(body) = r.take(len) else {
            return Ok(false);
        };
        let mut payload = body.to_vec();
        if let Some(k) = key {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= k[i % 4];
            }
        }
        self.start += r.position();
        self.frame(fin, rsv, op, masked, payload, anomalies);
        Ok(true)
    }

    /// Interpret one complete, unmasked frame; queue its anomalies and event.
    fn frame(
        &mut self,
        fin: bool,
        rsv: u8,
        op: u8,
        masked: bool,
        payload: Vec<u8>,
        mut anomalies: Vec<WsAnomaly>,
    ) {
        if self.closed {
            anomalies.push(WsAnomaly::DataAfterClose);
        }
        match (self.role, masked) {
            (Some(Role::Client), false) => anomalies.push(WsAnomaly::UnmaskedClientFrame),
            (Some(Role::Server), true) => anomalies.push(WsAnomaly::MaskedServerFrame),
            _ => {}
        }
        let starts_message = matches!(op, opcode::TEXT | opcode::BINARY);
        let compressed = self.deflate && starts_message && rsv & 0b100 != 0;
        let unexpected_rsv = if compressed { rsv & 0b011 } else { rsv };
        if unexpected_rsv != 0 {
            anomalies.push(WsAnomaly::RsvBitsSet { bits: rsv });
        }
        let mut event = None;
        match op {
            opcode::CLOSE | opcode::PING | opcode::PONG => {
                if !fin {
                    anomalies.push(WsAnomaly::FragmentedControlFrame { opcode: op });
                }
                if payload.len() > 125 {
                    anomalies.push(WsAnomaly::ControlFrameTooLong {
                        opcode: op,
                        len: payload.len(),
                    });
                }
                event = Some(match op {
                    opcode::PING => WsEvent::Ping(payload),
                    opcode::PONG => WsEvent::Pong(payload),
                    _ => {
                        self.closed = true;
                        WsEvent::Close(close_frame(payload, &mut anomalies))
                    }
                });
            }
            opcode::TEXT | opcode::BINARY => {
                if self.frag.take().is_some() || self.discarding {
                    anomalies.push(WsAnomaly::InterruptedMessage);
                }
                self.discarding = false;
                let kind = if op == opcode::TEXT {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                if payload.len() > self.limits.max_message {
                    anomalies.push(WsAnomaly::MessageTooLarge {
                        len: payload.len(),
                        cap: self.limits.max_message,
                    });
                    self.discarding = !fin;
                } else {
                    let f = Fragmented {
                        kind,
                        data: payload,
                        frames: 1,
                        masked,
                        compressed,
                    };
                    if fin {
                        event = Some(self.finish(f, &mut anomalies));
                    } else {
                        self.frag = Some(f);
                    }
                }
            }
            opcode::CONTINUATION => {
                if self.discarding {
                    self.discarding = !fin;
                } else if let Some(mut f) = self.frag.take() {
                    let total = f.data.len().saturating_add(payload.len());
                    if total > self.limits.max_message {
                        anomalies.push(WsAnomaly::MessageTooLarge {
                            len: total,
                            cap: self.limits.max_message,
                        });
                        self.discarding = !fin;
                    } else {
                        f.data.extend_from_slice(&payload);
                        f.frames = f.frames.saturating_add(1);
                        if fin {
                            event = Some(self.finish(f, &mut anomalies));
                        } else {
                            self.frag = Some(f);
                        }
                    }
                } else {
                    anomalies.push(WsAnomaly::UnexpectedContinuation);
                }
            }
            _ => anomalies.push(WsAnomaly::ReservedOpcode { opcode: op }),
        }
        self.pending
            .extend(anomalies.into_iter().map(WsEvent::Anomaly));
        self.pending.extend(event);
    }

    fn finish(&self, f: Fragmented, anomalies: &mut Vec<WsAnomaly>) -> WsEvent {
        // A compressed text message is only UTF-8 after inflation, which is not done here.
        if f.kind == MessageKind::Text && !f.compressed && std::str::from_utf8(&f.data).is_err() {
            anomalies.push(WsAnomaly::InvalidUtf8);
        }
        WsEvent::Message(WsMessage {
            kind: f.kind,
            payload: f.data,
            fragments: f.frames,
            masked: f.masked,
            compressed: f.compressed,
        })
    }
}

fn close_frame(payload: Vec<u8>, anomalies: &mut Vec<WsAnomaly>) -> CloseFrame {
    let mut r = Reader::new(&payload);
    match payload.len() {
        0 => CloseFrame {
            code: None,
            reason: Vec::new(),
        },
        1 => {
            anomalies.push(WsAnomaly::InvalidClosePayload);
            CloseFrame {
                code: None,
                reason: payload,
            }
        }
        _ => {
            let code = r.u16_be().unwrap_or(0);
            // RFC 6455 §7.4.1 plus the IANA registry (1012-1014); 3000-4999 are for
            // libraries and applications.
            let sendable = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            if !sendable {
                anomalies.push(WsAnomaly::InvalidCloseCode { code });
            }
            let reason = r.rest().to_vec();
            if std::str::from_utf8(&reason).is_err() {
                anomalies.push(WsAnomaly::InvalidUtf8);
            }
            CloseFrame {
                code: Some(code),
                reason,
            }
        }
    }
}

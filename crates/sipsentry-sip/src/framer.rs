//! Stream framing for SIP over TCP/TLS (RFC 3261 §18.3), sans-IO.
//!
//! Bytes go in with [`StreamFramer::push`]; complete messages, keep-alives and skipped garbage
//! come out of [`StreamFramer::next_event`]. The framer owns a bounded buffer: a peer that never
//! ends its header block, or announces a body larger than the cap, cannot make it grow without
//! limit. After garbage or a framing error it resynchronises on the next line that looks like a
//! SIP start line, so one bad message in a capture does not blind us to the rest of the flow.

use crate::lex;
use crate::Limits;
use memchr::memmem;

/// What the framer produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameEvent {
    /// One complete message (start line through Content-Length octets of body).
    Message(Vec<u8>),
    /// A keep-alive: `CRLFCRLF` ping or `CRLF` pong (RFC 5626 §3.5.1), or stray CRLFs between
    /// messages.
    KeepAlive(usize),
    /// Bytes that could not be part of a SIP message and were skipped to resynchronise.
    Garbage {
        /// Number of bytes skipped.
        len: usize,
        /// Why.
        reason: FramingError,
    },
}

/// Why bytes were discarded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    /// Data that does not start with a SIP start line.
    #[error("data before a SIP start line")]
    NotSip,
    /// No Content-Length on a stream (mandatory there); the message is delivered with an empty
    /// body and this is reported alongside.
    #[error("missing Content-Length on a stream transport")]
    MissingContentLength,
    /// Content-Length present but not a valid number, or several that disagree: the stream
    /// cannot be framed (RFC 4475 ncl/mcl01), so we skip to the next start line.
    #[error("invalid or conflicting Content-Length")]
    BadContentLength,
    /// The header block or announced body exceeds [`Limits::max_message`].
    #[error("message exceeds the size cap")]
    TooLarge,
}

/// Sans-IO TCP/TLS framer.
#[derive(Debug)]
pub struct StreamFramer {
    buf: Vec<u8>,
    limits: Limits,
    /// Set when a message was delivered without Content-Length: reported once per message.
    pending_note: Option<FramingError>,
    /// Bytes of an oversize body still to discard.
    discard: usize,
}

impl StreamFramer {
    /// A framer with the given limits.
    pub fn new(limits: Limits) -> Self {
        StreamFramer {
            buf: Vec::new(),
            limits,
            pending_note: None,
            discard: 0,
        }
    }

    /// Appends received bytes. Bytes beyond what the caps allow are still accepted here: the
    /// next call to [`StreamFramer::next_event`] reports and drops them.
    pub fn push(&mut self, data: &[u8]) {
        let mut data = data;
        if self.discard > 0 {
            let d = self.discard.min(data.len());
            self.discard -= d;
            data = &data[d..];
        }
        self.buf.extend_from_slice(data);
    }

    /// Bytes buffered and not yet framed.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// A note about the last delivered message (e.g. it had no Content-Length).
    pub fn take_note(&mut self) -> Option<FramingError> {
        self.pending_note.take()
    }

    /// Drops buffered bytes, e.g. when the connection closes. Returns how many were dropped.
    pub fn reset(&mut self) -> usize {
        let n = self.buf.len();
        self.buf.clear();
        self.discard = 0;
        n
    }

    /// The next framing event, or `None` when more bytes are needed.
    pub fn next_event(&mut self) -> Option<FrameEvent> {
        let buf = &self.buf;
        if buf.is_empty() {
            return None;
        }
        // Keep-alives and stray line ends between messages.
        let crlf = buf
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        if crlf > 0 {
            if crlf == buf.len() && crlf < 4 && buf.ends_with(b"\r") {
                return None; // maybe the start of CRLFCRLF; wait for more.
            }
            self.buf.drain(..crlf);
            return Some(FrameEvent::KeepAlive(crlf));
        }
        // Resynchronise: the buffer must start with something that looks like a start line.
        match start_line_state(buf) {
            LineState::Incomplete => {
                if buf.len() > self.limits.max_line {
                    return Some(self.skip_to_next_start(FramingError::NotSip));
                }
                return None;
            }
            LineState::NotSip => return Some(self.skip_to_next_start(FramingError::NotSip)),
            LineState::Sip => {}
        }
        let Some(hdr_end) = find_header_end(buf) else {
            if buf.len() > self.limits.max_message {
                return Some(self.skip_to_next_start(FramingError::TooLarge));
            }
            return None;
        };
        let cl = match content_length(&buf[..hdr_end]) {
            ClState::Missing => {
                self.pending_note = Some(FramingError::MissingContentLength);
                0
            }
            ClState::Bad => return Some(self.skip_to_next_start(FramingError::BadContentLength)),
            ClState::Value(v) => v,
        };
        let total = hdr_end.saturating_add(cl);
        if total > self.limits.max_message {
            // Skip header block and as much of the body as is here; drop the rest as it arrives.
            let have = self.buf.len();
            let drop_now = total.min(have);
            self.buf.drain(..drop_now);
            self.discard = total - drop_now;
            return Some(FrameEvent::Garbage {
                len: total,
                reason: FramingError::TooLarge,
            });
        }
        if buf.len() < total {
            return None;
        }
        let msg: Vec<u8> = self.buf.drain(..total).collect();
        Some(FrameEvent::Message(msg))
    }

    fn skip_to_next_start(&mut self, reason: FramingError) -> FrameEvent {
        // Look for the next line (after the first byte) that starts a SIP message.
        let buf = &self.buf;
        let mut skip = buf.len();
        let mut i = 1;
        while let Some(off) = memchr::memchr(b'\n', &buf[i.min(buf.len())..]) {
            let ls = i + off + 1;
            if ls >= buf.len() {
                break;
            }
            if matches!(
                start_line_state(&buf[ls..]),
                LineState::Sip | LineState::Incomplete
            ) && !matches!(buf[ls], b'\r' | b'\n')
            {
                skip = ls;
                break;
            }
            i = ls;
        }
        // Keep a possibly partial start line at the tail rather than discarding it.
        self.buf.drain(..skip);
        FrameEvent::Garbage { len: skip, reason }
    }
}

/// Whether `buf` begins with a complete line that looks like a SIP start line (a Request-Line
/// ending in `SIP/x.y` or a Status-Line starting with it). This is how SIP is recognised on any
/// port by content: cheap enough to run on every datagram of a capture.
pub fn is_sip_start(buf: &[u8]) -> bool {
    matches!(start_line_state(buf), LineState::Sip)
}

enum LineState {
    Sip,
    NotSip,
    Incomplete,
}

/// Whether `buf` starts with a plausible SIP start line: `SIP/x.y SP` or
/// `token SP non-space... SP SIP/x.y CRLF`.
fn start_line_state(buf: &[u8]) -> LineState {
    let Some(nl) = memchr::memchr(b'\n', buf) else {
        // Early rejection when the first bytes cannot begin a token or SIP/.
        if let Some(&b) = buf.first() {
            if !lex::is_token(b) {
                return LineState::NotSip;
            }
        }
        return LineState::Incomplete;
    };
    let mut line = &buf[..nl];
    if line.last() == Some(&b'\r') {
        line = &line[..line.len() - 1];
    }
    if line.len() >= 8 && line[..4].eq_ignore_ascii_case(b"SIP/") {
        return LineState::Sip;
    }
    let Some(sp) = line.iter().position(|&b| b == b' ') else {
        return LineState::NotSip;
    };
    if !lex::is_token_str(&line[..sp]) {
        return LineState::NotSip;
    }
    let tail = lex::trim(line);
    if tail.len() >= 7 && tail[tail.len() - 7..tail.len() - 3].eq_ignore_ascii_case(b"SIP/") {
        LineState::Sip
    } else {
        LineState::NotSip
    }
}

/// Index just past the empty line ending the header block (CRLFCRLF, or LFLF for lax peers).
fn find_header_end(buf: &[u8]) -> Option<usize> {
    let a = memmem::find(buf, b"\r\n\r\n").map(|p| p + 4);
    let b = memmem::find(buf, b"\n\n").map(|p| p + 2);
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

enum ClState {
    Missing,
    Bad,
    Value(usize),
}

fn content_length(head: &[u8]) -> ClState {
    let mut found: Option<u64> = None;
    for line in head.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = lex::trim(&line[..colon]);
        if name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l") {
            match lex::parse_decimal(lex::trim(&line[colon + 1..]), u32::MAX as u64) {
                Ok(v) => {
                    if found.is_some_and(|f| f != v) {
                        return ClState::Bad;
                    }
                    found = Some(v);
                }
                Err(_) => return ClState::Bad,
            }
        }
    }
    match found {
        None => ClState::Missing,
        Some(v) => ClState::Value(v as usize),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPT: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nContent-Length: 4\r\n\r\nbody";

    fn all(f: &mut StreamFramer) -> Vec<FrameEvent> {
        std::iter::from_fn(|| f.next_event()).collect()
    }

    #[test]
    fn byte_at_a_time() {
        let mut f = StreamFramer::new(Limits::default());
        let mut out = vec![];
        let mut data = b"\r\n\r\n".to_vec();
        data.extend_from_slice(OPT);
        data.extend_from_slice(OPT);
        for b in &data {
            f.push(&[*b]);
            out.extend(all(&mut f));
        }
        let msgs: Vec<_> = out
            .iter()
            .filter(|e| matches!(e, FrameEvent::Message(_)))
            .collect();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0], &FrameEvent::Message(OPT.to_vec()));
        assert!(out.iter().any(|e| matches!(e, FrameEvent::KeepAlive(_))));
    }

    #[test]
    fn resync_after_garbage() {
        let mut f = StreamFramer::new(Limits::default());
        let mut data = b"\x16\x03\x01garbage\r\nmore junk\r\n".to_vec();
        data.extend_from_slice(OPT);
        f.push(&data);
        let ev = all(&mut f);
        assert!(matches!(
            ev[0],
            FrameEvent::Garbage {
                reason: FramingError::NotSip,
                ..
            }
        ));
        assert_eq!(ev.last(), Some(&FrameEvent::Message(OPT.to_vec())));
    }

    #[test]
    fn bad_content_length_skips_message() {
        let mut f = StreamFramer::new(Limits::default());
        let mut data = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -999\r\n\r\nxx\r\n".to_vec();
        data.extend_from_slice(OPT);
        f.push(&data);
        let ev = all(&mut f);
        assert!(matches!(
            ev[0],
            FrameEvent::Garbage {
                reason: FramingError::BadContentLength,
                ..
            }
        ));
        assert_eq!(ev.last(), Some(&FrameEvent::Message(OPT.to_vec())));
    }

    #[test]
    fn oversize_body_is_discarded_without_buffering() {
        let limits = Limits {
            max_message: 1024,
            ..Limits::default()
        };
        let mut f = StreamFramer::new(limits);
        f.push(b"INVITE sip:a@b SIP/2.0\r\nContent-Length: 100000\r\n\r\n");
        assert!(matches!(
            f.next_event(),
            Some(FrameEvent::Garbage {
                reason: FramingError::TooLarge,
                ..
            })
        ));
        for _ in 0..100 {
            f.push(&[b'x'; 1000]);
        }
        assert_eq!(f.buffered(), 0);
        f.push(OPT);
        assert_eq!(all(&mut f).last(), Some(&FrameEvent::Message(OPT.to_vec())));
    }

    #[test]
    fn endless_headers_are_bounded() {
        let limits = Limits {
            max_message: 4096,
            ..Limits::default()
        };
        let mut f = StreamFramer::new(limits);
        f.push(b"OPTIONS sip:a@b SIP/2.0\r\n");
        let mut saw = false;
        for _ in 0..1000 {
            f.push(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
            if let Some(FrameEvent::Garbage {
                reason: FramingError::TooLarge,
                ..
            }) = f.next_event()
            {
                saw = true;
            }
            assert!(f.buffered() <= 4096 + 64);
        }
        assert!(saw);
    }

    #[test]
    fn missing_content_length_is_noted() {
        let mut f = StreamFramer::new(Limits::default());
        f.push(b"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n");
        assert!(matches!(f.next_event(), Some(FrameEvent::Message(_))));
        assert_eq!(f.take_note(), Some(FramingError::MissingContentLength));
    }
}

//! SIP over WebSocket (RFC 7118) client pieces: the opening handshake (RFC 6455 §4) with the
//! `sip` subprotocol, and a sans-IO frame codec. One SIP message per frame (RFC 7118 §5.1);
//! client frames are masked, server frames must not be.

use base64::Engine;
use sha1::{Digest, Sha1};

/// Largest frame payload accepted (a SIP message).
pub const MAX_FRAME: usize = 65_535;

const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// A random `Sec-WebSocket-Key`.
pub fn new_key() -> String {
    let mut k = [0u8; 16];
    rand::Rng::fill(&mut rand::thread_rng(), &mut k[..]);
    base64::engine::general_purpose::STANDARD.encode(k)
}

/// The opening request for `host` (as written in Host) and `path`.
pub fn handshake_request(host: &str, path: &str, key: &str, user_agent: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\
         User-Agent: {user_agent}\r\n\r\n"
    )
    .into_bytes()
}

/// The `Sec-WebSocket-Accept` a server must answer `key` with.
pub fn accept_for(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.as_bytes());
    h.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// Why an opening handshake failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// Not an HTTP response, or incomplete.
    #[error("not an HTTP response")]
    NotHttp,
    /// A status other than 101.
    #[error("server answered {0} instead of 101 Switching Protocols")]
    Status(u16),
    /// Missing or wrong Sec-WebSocket-Accept.
    #[error("bad Sec-WebSocket-Accept")]
    BadAccept,
    /// The server did not agree to the `sip` subprotocol.
    #[error("server did not select the sip subprotocol")]
    NoSipProtocol,
}

/// Check the server's answer (`head` = bytes up to and including the blank line).
pub fn check_handshake(head: &[u8], key: &str) -> Result<(), HandshakeError> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.strip_prefix("HTTP/1.1 "))
        .and_then(|l| l.get(..3))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or(HandshakeError::NotHttp)?;
    if status != 101 {
        return Err(HandshakeError::Status(status));
    }
    let mut accept_ok = false;
    let mut sip = false;
    for l in lines {
        if let Some((n, v)) = l.split_once(':') {
            let (n, v) = (n.trim(), v.trim());
            if n.eq_ignore_ascii_case("Sec-WebSocket-Accept") && v == accept_for(key) {
                accept_ok = true;
            }
            if n.eq_ignore_ascii_case("Sec-WebSocket-Protocol") && v.eq_ignore_ascii_case("sip") {
                sip = true;
            }
        }
    }
    if !accept_ok {
        return Err(HandshakeError::BadAccept);
    }
    if !sip {
        return Err(HandshakeError::NoSipProtocol);
    }
    Ok(())
}

/// A masked client text frame carrying `payload`.
pub fn encode_frame(payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push(0x81); // FIN + text
    match payload.len() {
        n if n < 126 => out.push(0x80 | n as u8),
        n if n <= 0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

/// A decoded server frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Text/binary/continuation data (`fin`, payload).
    Data(bool, Vec<u8>),
    /// Ping with payload (answer with a pong).
    Ping(Vec<u8>),
    /// Pong.
    Pong,
    /// Close.
    Close,
}

/// Frame errors (the connection must be dropped).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Payload larger than [`MAX_FRAME`].
    #[error("frame too large")]
    TooLarge,
    /// Unknown opcode.
    #[error("unknown opcode {0}")]
    Opcode(u8),
}

/// Decode one frame from the start of `buf`: `Ok(None)` when more bytes are needed, else the
/// frame and how many bytes it used. Masked server frames are unmasked (tolerated).
pub fn decode_frame(buf: &[u8]) -> Result<Option<(Frame, usize)>, FrameError> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let fin = buf[0] & 0x80 != 0;
    let opcode = buf[0] & 0x0f;
    let masked = buf[1] & 0x80 != 0;
    let (len, mut at) = match buf[1] & 0x7f {
        126 => {
            if buf.len() < 4 {
                return Ok(None);
            }
            (usize::from(u16::from_be_bytes([buf[2], buf[3]])), 4)
        }
        127 => {
            if buf.len() < 10 {
                return Ok(None);
            }
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[2..10]);
            let n = u64::from_be_bytes(b);
            if n > MAX_FRAME as u64 {
                return Err(FrameError::TooLarge);
            }
            (n as usize, 10)
        }
        n => (usize::from(n), 2),
    };
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge);
    }
    let mask = if masked {
        if buf.len() < at + 4 {
            return Ok(None);
        }
        let m = [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]];
        at += 4;
        Some(m)
    } else {
        None
    };
    if buf.len() < at + len {
        return Ok(None);
    }
    let mut payload = buf[at..at + len].to_vec();
    if let Some(m) = mask {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= m[i % 4];
        }
    }
    let frame = match opcode {
        0x0..=0x2 => Frame::Data(fin, payload),
        0x8 => Frame::Close,
        0x9 => Frame::Ping(payload),
        0xA => Frame::Pong,
        o => return Err(FrameError::Opcode(o)),
    };
    Ok(Some((frame, at + len)))
}

/// A masked pong answering `payload`.
pub fn pong(payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut f = encode_frame(payload, mask);
    f[0] = 0x8A;
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_accept_example() {
        // RFC 6455 §1.3.
        assert_eq!(
            accept_for("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn frames_round_trip_and_need_more() {
        let f = encode_frame(b"OPTIONS sip:x SIP/2.0\r\n\r\n", [1, 2, 3, 4]);
        let (frame, used) = decode_frame(&f).unwrap().unwrap();
        assert_eq!(used, f.len());
        assert_eq!(
            frame,
            Frame::Data(true, b"OPTIONS sip:x SIP/2.0\r\n\r\n".to_vec())
        );
        assert_eq!(decode_frame(&f[..f.len() - 1]).unwrap(), None);
        let big = vec![b'a'; 300];
        let f = encode_frame(&big, [9, 9, 9, 9]);
        assert_eq!(decode_frame(&f).unwrap().unwrap().0, Frame::Data(true, big));
        assert_eq!(
            decode_frame(&[0x81, 127, 0xff, 0, 0, 0, 0, 0, 0, 0]),
            Err(FrameError::TooLarge)
        );
        assert_eq!(decode_frame(&[0x83, 0]), Err(FrameError::Opcode(3)));
    }

    #[test]
    fn handshake_checks() {
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        let ok = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n";
        assert_eq!(check_handshake(ok, key), Ok(()));
        assert_eq!(
            check_handshake(b"HTTP/1.1 404 Not Found\r\n\r\n", key),
            Err(HandshakeError::Status(404))
        );
        assert_eq!(
            check_handshake(b"SIP/2.0 200 OK\r\n\r\n", key),
            Err(HandshakeError::NotHttp)
        );
    }
}

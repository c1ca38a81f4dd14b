//! The HTTP/1.1 Upgrade handshake that opens a WebSocket (RFC 6455 §4).
//!
//! Only what a passive observer needs is parsed: the request or status line, the upgrade
//! headers and the `Sec-WebSocket-Protocol` / `Sec-WebSocket-Extensions` lists. SIP over
//! WebSocket (RFC 7118 §4.1) requires the subprotocol token `sip` to be offered by the client
//! and selected by the server.

use super::WsError;

/// Request or response line of a handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeKind {
    /// Client side: `GET /path HTTP/1.1`.
    Request {
        /// Method (must be `GET` for a WebSocket upgrade).
        method: String,
        /// Request target.
        target: String,
    },
    /// Server side: `HTTP/1.1 101 Switching Protocols`.
    Response {
        /// Status code (101 for an accepted upgrade).
        status: u16,
        /// Reason phrase.
        reason: String,
    },
}

/// A parsed handshake head (request or response, up to and including the blank line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// Request or response line.
    pub kind: HandshakeKind,
    /// An `Upgrade` header lists the token `websocket` (case-insensitive).
    pub upgrade_websocket: bool,
    /// A `Connection` header lists the token `upgrade` (case-insensitive).
    pub connection_upgrade: bool,
    /// Every `Sec-WebSocket-Protocol` token, in order (a request offers several, a response
    /// selects one).
    pub protocols: Vec<String>,
    /// Every `Sec-WebSocket-Extensions` extension name (parameters dropped), in order.
    pub extensions: Vec<String>,
    /// `Sec-WebSocket-Version`, if present.
    pub version: Option<String>,
    /// Header lines without a colon (ignored; reported as
    /// [`super::WsAnomaly::MalformedHeaderLines`]). Servers differ in whether they accept
    /// them, which makes them an evasion tool.
    pub malformed_lines: usize,
    /// Length of the head in bytes, including the final `\r\n\r\n`.
    pub head_len: usize,
}

impl Handshake {
    /// True for the client's request.
    pub fn is_request(&self) -> bool {
        matches!(self.kind, HandshakeKind::Request { .. })
    }

    /// For a request: the client offers the `sip` subprotocol. For a response: the server
    /// selected it, i.e. the negotiated subprotocol is `sip`. The token is compared exactly,
    /// as RFC 7118 registers it (lower case).
    pub fn is_sip(&self) -> bool {
        match self.kind {
            HandshakeKind::Request { .. } => self.protocols.iter().any(|p| p == "sip"),
            HandshakeKind::Response { .. } => {
                self.protocols.len() == 1 && self.protocols.first().is_some_and(|p| p == "sip")
            }
        }
    }

    /// The `permessage-deflate` extension (RFC 7692) is listed, so RSV1 marks compressed
    /// messages.
    pub fn permessage_deflate(&self) -> bool {
        self.extensions
            .iter()
            .any(|e| e.eq_ignore_ascii_case("permessage-deflate"))
    }
}

/// What the start of a stream looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// An HTTP request or response line begins here.
    Http,
    /// Not HTTP: WebSocket frames from the first byte (a capture that began mid-connection).
    Frames,
    /// Too few bytes to tell.
    Undecided,
}

pub(crate) fn classify(data: &[u8]) -> Start {
    let mut undecided = false;
    for prefix in [&b"GET "[..], &b"HTTP/"[..]] {
        if data.len() >= prefix.len() {
            if data.starts_with(prefix) {
                return Start::Http;
            }
        } else if prefix.starts_with(data) {
            undecided = true;
        }
    }
    if undecided {
        Start::Undecided
    } else {
        Start::Frames
    }
}

fn tokens(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|t| !t.is_empty())
}

/// Parse a complete head (`head` ends with `\r\n\r\n`).
pub(crate) fn parse(head: &[u8]) -> Result<Handshake, WsError> {
    let bad = |reason| WsError::MalformedHandshake { reason };
    // Header values may carry obs-text (bytes >= 0x80, RFC 9110 §5.5), so decode lossily;
    // only ASCII names and tokens are matched.
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let first = lines.next().ok_or(bad("no start line"))?;
    let kind = if let Some(rest) = first.strip_prefix("HTTP/") {
        let mut parts = rest.splitn(3, ' ');
        let _version = parts.next();
        let code = parts.next().ok_or(bad("status line has no status code"))?;
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("status code is not three digits"));
        }
        let status = code
            .parse()
            .map_err(|_| bad("status code is not three digits"))?;
        HandshakeKind::Response {
            status,
            reason: parts.next().unwrap_or("").to_owned(),
        }
    } else {
        let mut parts = first.split(' ');
        let (Some(method), Some(target), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("request line is not METHOD SP target SP version"));
        };
        if !version.starts_with("HTTP/") {
            return Err(bad("request line does not end in an HTTP version"));
        }
        HandshakeKind::Request {
            method: method.to_owned(),
            target: target.to_owned(),
        }
    };
    let mut hs = Handshake {
        kind,
        upgrade_websocket: false,
        connection_upgrade: false,
        protocols: Vec::new(),
        extensions: Vec::new(),
        version: None,
        malformed_lines: 0,
        head_len: head.len(),
    };
    for line in lines.filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            hs.malformed_lines += 1;
            continue;
        };
        let name = name.trim();
        let value = value.trim();
        if name.eq_ignore_ascii_case("upgrade") {
            hs.upgrade_websocket |= tokens(value).any(|t| t.eq_ignore_ascii_case("websocket"));
        } else if name.eq_ignore_ascii_case("connection") {
            hs.connection_upgrade |= tokens(value).any(|t| t.eq_ignore_ascii_case("upgrade"));
        } else if name.eq_ignore_ascii_case("sec-websocket-protocol") {
            hs.protocols.extend(tokens(value).map(str::to_owned));
        } else if name.eq_ignore_ascii_case("sec-websocket-extensions") {
            hs.extensions
                .extend(tokens(value).map(|e| e.split(';').next().unwrap_or("").trim().to_owned()));
        } else if name.eq_ignore_ascii_case("sec-websocket-version") {
            hs.version = Some(value.to_owned());
        }
    }
    Ok(hs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_prefixes() {
        assert_eq!(classify(b""), Start::Undecided);
        assert_eq!(classify(b"GE"), Start::Undecided);
        assert_eq!(classify(b"HTTP"), Start::Undecided);
        assert_eq!(classify(b"GET /"), Start::Http);
        assert_eq!(classify(b"HTTP/1.1 101"), Start::Http);
        assert_eq!(classify(b"\x81\x05"), Start::Frames);
        assert_eq!(classify(b"GEX"), Start::Frames);
    }

    #[test]
    fn response_selects_sip() {
        let h = parse(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Protocol: sip\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            h.kind,
            HandshakeKind::Response {
                status: 101,
                reason: "Switching Protocols".into()
            }
        );
        assert!(h.upgrade_websocket && h.connection_upgrade && h.is_sip());
    }

    #[test]
    fn request_offers_list() {
        let h = parse(
            b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\
              Sec-WebSocket-Protocol: xmpp, sip\r\n\
              Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n",
        )
        .unwrap();
        assert!(h.is_request() && h.is_sip() && h.permessage_deflate());
        assert_eq!(h.protocols, ["xmpp", "sip"]);
    }

    #[test]
    fn malformed_heads() {
        assert!(parse(b"HTTP/1.1 1x1 Nope\r\n\r\n").is_err());
        assert!(parse(b"GET /\r\n\r\n").is_err());
        assert!(parse(b"").is_err());
    }

    #[test]
    fn lenient_header_lines() {
        let h = parse(b"GET / HTTP/1.1\r\nNoColon\r\nUpgrade: websocket\r\n\r\n").unwrap();
        assert_eq!(h.malformed_lines, 1);
        assert!(h.upgrade_websocket);
        let h = parse(b"GET / HTTP/1.1\r\nX-Obs: caf\xe9\r\n\r\n").unwrap();
        assert_eq!(h.malformed_lines, 0);
    }
}

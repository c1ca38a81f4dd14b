//! Requests the scanner sends and the owned view of the responses it keeps.
//!
//! Requests are built from owned fields rather than templates so that ACK and CANCEL can be
//! derived exactly as RFC 3261 §17.1.1.3 and §9.1 require (same Request-URI, Call-ID, From,
//! CSeq number and top Via as the request they refer to).

use std::fmt::Write as _;
use std::net::SocketAddr;

use rand::Rng;
use sipsentry_sip::{HeaderName, Message};

/// Transport of a probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// UDP (unreliable: retransmissions).
    Udp,
    /// TCP.
    Tcp,
    /// TLS over TCP.
    Tls,
    /// SIP over WebSocket (RFC 7118).
    Ws,
    /// SIP over secure WebSocket.
    Wss,
}

impl Transport {
    /// Via transport token.
    pub fn via(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
            Transport::Ws => "WS",
            Transport::Wss => "WSS",
        }
    }

    /// Lower-case name (`udp`, `tcp`, `tls`).
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Ws => "ws",
            Transport::Wss => "wss",
        }
    }

    /// Whether the transport is reliable (no retransmissions).
    pub fn reliable(self) -> bool {
        self != Transport::Udp
    }
}

/// A random token of `n` lower-case hex digits.
pub fn token(n: usize) -> String {
    let mut rng = rand::thread_rng();
    let mut s = String::with_capacity(n);
    for _ in 0..n {
        let d: u8 = rng.gen_range(0..16);
        s.push(char::from_digit(u32::from(d), 16).unwrap_or('0'));
    }
    s
}

/// A request the scanner sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Method.
    pub method: String,
    /// Request-URI.
    pub uri: String,
    /// To URI (defaults to the Request-URI).
    pub to: String,
    /// To tag (in-dialog requests only).
    pub to_tag: Option<String>,
    /// From URI.
    pub from: String,
    /// From tag.
    pub from_tag: String,
    /// Our local address, for Via and Contact.
    pub local: SocketAddr,
    /// Transport named in Via.
    pub transport: Transport,
    /// Via branch (magic cookie included).
    pub branch: String,
    /// Call-ID.
    pub call_id: String,
    /// CSeq number.
    pub cseq: u32,
    /// User-Agent value (honest: the scanner says what it is).
    pub user_agent: String,
    /// Extra header lines (`name`, `value`).
    pub headers: Vec<(String, String)>,
    /// Content-Type and body.
    pub body: Option<(String, Vec<u8>)>,
}

impl Request {
    /// A fresh out-of-dialog request with random Call-ID, tag and branch. The From user is
    /// taken from the Request-URI's user (the way registration and enumeration tools address
    /// an extension); callers override `from`/`to` when they need something else.
    pub fn new(
        method: &str,
        uri: &str,
        local: SocketAddr,
        transport: Transport,
        user_agent: &str,
    ) -> Request {
        Request {
            method: method.to_string(),
            uri: uri.to_string(),
            to: uri.to_string(),
            to_tag: None,
            from: uri.to_string(),
            from_tag: token(10),
            local,
            transport,
            branch: format!("z9hG4bK-ss{}", token(16)),
            call_id: format!("{}@sipsentry", token(24)),
            cseq: 1,
            user_agent: user_agent.to_string(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// A header line to add.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Same dialog identifiers, next CSeq, new branch: for answering a challenge.
    pub fn next(&self) -> Request {
        let mut r = self.clone();
        r.cseq = self.cseq.saturating_add(1);
        r.branch = format!("z9hG4bK-ss{}", token(16));
        r.headers.retain(|(n, _)| {
            !n.eq_ignore_ascii_case("Authorization")
                && !n.eq_ignore_ascii_case("Proxy-Authorization")
        });
        r
    }

    /// Wire form.
    pub fn encode(&self) -> Vec<u8> {
        let mut s = String::with_capacity(512);
        let host = match self.local {
            SocketAddr::V4(a) => a.to_string(),
            SocketAddr::V6(a) => format!("[{}]:{}", a.ip(), a.port()),
        };
        let _ = write!(s, "{} {} SIP/2.0\r\n", self.method, self.uri);
        let _ = write!(
            s,
            "Via: SIP/2.0/{} {};branch={};rport\r\n",
            self.transport.via(),
            host,
            self.branch
        );
        s.push_str("Max-Forwards: 70\r\n");
        let _ = write!(s, "From: <{}>;tag={}\r\n", self.from, self.from_tag);
        match &self.to_tag {
            Some(t) => {
                let _ = write!(s, "To: <{}>;tag={}\r\n", self.to, t);
            }
            None => {
                let _ = write!(s, "To: <{}>\r\n", self.to);
            }
        }
        let _ = write!(s, "Call-ID: {}\r\n", self.call_id);
        let _ = write!(s, "CSeq: {} {}\r\n", self.cseq, self.method);
        if matches!(self.method.as_str(), "INVITE" | "REGISTER" | "SUBSCRIBE") {
            let user = user_part(&self.from).unwrap_or("sipsentry");
            let _ = write!(
                s,
                "Contact: <sip:{}@{};transport={}>\r\n",
                user,
                host,
                self.transport.as_str()
            );
        }
        let _ = write!(s, "User-Agent: {}\r\n", self.user_agent);
        for (n, v) in &self.headers {
            let _ = write!(s, "{n}: {v}\r\n");
        }
        let mut out;
        match &self.body {
            Some((ct, body)) => {
                let _ = write!(
                    s,
                    "Content-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                out = s.into_bytes();
                out.extend_from_slice(body);
            }
            None => {
                s.push_str("Content-Length: 0\r\n\r\n");
                out = s.into_bytes();
            }
        }
        out
    }

    /// The ACK for a non-2xx final response (§17.1.1.3): same branch, To from the response.
    pub fn ack_for(&self, response_to: Option<&str>) -> RawRequest {
        let mut s = String::new();
        let _ = write!(s, "ACK {} SIP/2.0\r\n", self.uri);
        let _ = write!(
            s,
            "Via: SIP/2.0/{} {};branch={};rport\r\n",
            self.transport.via(),
            self.local,
            self.branch
        );
        s.push_str("Max-Forwards: 70\r\n");
        let _ = write!(s, "From: <{}>;tag={}\r\n", self.from, self.from_tag);
        match response_to {
            Some(to) if !to.contains(['\r', '\n']) => {
                let _ = write!(s, "To: {to}\r\n");
            }
            _ => {
                let _ = write!(s, "To: <{}>\r\n", self.to);
            }
        }
        let _ = write!(s, "Call-ID: {}\r\n", self.call_id);
        let _ = write!(s, "CSeq: {} ACK\r\n", self.cseq);
        let _ = write!(s, "User-Agent: {}\r\n", self.user_agent);
        s.push_str("Content-Length: 0\r\n\r\n");
        RawRequest(s.into_bytes())
    }

    /// The CANCEL for this INVITE (§9.1): same branch, Call-ID, From, To, CSeq number.
    pub fn cancel(&self) -> Request {
        let mut r = self.clone();
        r.method = "CANCEL".into();
        r.headers.clear();
        r.body = None;
        r
    }

    /// An in-dialog request (ACK for a 2xx, BYE) using the response's To tag.
    pub fn in_dialog(
        &self,
        method: &str,
        to_tag: Option<&str>,
        remote_target: Option<&str>,
    ) -> Request {
        let mut r = self.clone();
        r.method = method.into();
        r.to_tag = to_tag.map(str::to_string);
        if let Some(t) = remote_target {
            r.uri = t.to_string();
        }
        r.headers.clear();
        r.body = None;
        if method == "BYE" {
            r.cseq = self.cseq.saturating_add(1);
        }
        r.branch = format!("z9hG4bK-ss{}", token(16));
        r
    }
}

/// A request already on the wire form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRequest(pub Vec<u8>);

impl RawRequest {
    /// Wire form.
    pub fn encode(self) -> Vec<u8> {
        self.0
    }
}

fn user_part(uri: &str) -> Option<&str> {
    let rest = uri.split_once(':')?.1;
    let (user, _) = rest.split_once('@')?;
    Some(user)
}

/// Largest response kept (a hostile server may send anything).
pub const MAX_RESPONSE: usize = 65_535;

/// An owned response, with the fields the checks compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Reason phrase (lossy UTF-8).
    pub reason: String,
    /// The To header value (for the ACK).
    pub to: Option<String>,
    /// The raw message, capped at [`MAX_RESPONSE`].
    pub raw: Vec<u8>,
}

impl Response {
    /// Build from a parsed response.
    pub fn from_message(msg: &Message<'_>) -> Option<Response> {
        let status = msg.status()?;
        let reason = String::from_utf8_lossy(msg.reason_phrase().unwrap_or(b"")).into_owned();
        let to = msg
            .header_value(HeaderName::To)
            .map(|v| String::from_utf8_lossy(v).into_owned());
        let buf = msg.buf();
        Some(Response {
            status,
            reason,
            to,
            raw: buf[..buf.len().min(MAX_RESPONSE)].to_vec(),
        })
    }

    /// Re-parse the raw message.
    pub fn message(&self) -> Message<'_> {
        Message::parse(&self.raw)
    }

    /// A header value as text (first occurrence).
    pub fn header(&self, name: HeaderName) -> Option<String> {
        self.message()
            .header_value(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// The To tag.
    pub fn to_tag(&self) -> Option<String> {
        let m = self.message();
        let to = m.to()?.ok()?;
        to.tag().map(|t| String::from_utf8_lossy(t).into_owned())
    }

    /// The first Contact URI (remote target).
    pub fn contact_uri(&self) -> Option<String> {
        let m = self.message();
        let c = m.contacts().next()?.ok()?;
        match c {
            sipsentry_sip::Contact::Star => None,
            sipsentry_sip::Contact::Addr(na) => {
                Some(String::from_utf8_lossy(na.uri.raw).into_owned())
            }
        }
    }
}

//! The message parser: start line, header fields, body, and the structural anomalies.

use crate::anomaly::{Anomaly, AnomalyKind, Severity};
use crate::header::{Header, HeaderName, NAME_COUNT};
use crate::lex::{self, NumError};
use crate::Limits;
use memchr::memchr;

/// A SIP method. Methods are case-sensitive (RFC 3261 §7.1), so `invite` is an extension method,
/// not INVITE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method<'a> {
    /// INVITE
    Invite,
    /// ACK
    Ack,
    /// BYE
    Bye,
    /// CANCEL
    Cancel,
    /// REGISTER
    Register,
    /// OPTIONS
    Options,
    /// SUBSCRIBE
    Subscribe,
    /// NOTIFY
    Notify,
    /// REFER
    Refer,
    /// MESSAGE
    Message,
    /// INFO
    Info,
    /// PRACK
    Prack,
    /// UPDATE
    Update,
    /// PUBLISH
    Publish,
    /// Any other token (RFC 4475 intmeth, esc02's `RE%47IST%45R`).
    Other(&'a [u8]),
}

impl<'a> Method<'a> {
    /// Classifies a method token.
    pub fn from_bytes(m: &'a [u8]) -> Method<'a> {
        match m {
            b"INVITE" => Method::Invite,
            b"ACK" => Method::Ack,
            b"BYE" => Method::Bye,
            b"CANCEL" => Method::Cancel,
            b"REGISTER" => Method::Register,
            b"OPTIONS" => Method::Options,
            b"SUBSCRIBE" => Method::Subscribe,
            b"NOTIFY" => Method::Notify,
            b"REFER" => Method::Refer,
            b"MESSAGE" => Method::Message,
            b"INFO" => Method::Info,
            b"PRACK" => Method::Prack,
            b"UPDATE" => Method::Update,
            b"PUBLISH" => Method::Publish,
            other => Method::Other(other),
        }
    }

    /// The method as written.
    pub fn as_bytes(&self) -> &'a [u8] {
        match self {
            Method::Invite => b"INVITE",
            Method::Ack => b"ACK",
            Method::Bye => b"BYE",
            Method::Cancel => b"CANCEL",
            Method::Register => b"REGISTER",
            Method::Options => b"OPTIONS",
            Method::Subscribe => b"SUBSCRIBE",
            Method::Notify => b"NOTIFY",
            Method::Refer => b"REFER",
            Method::Message => b"MESSAGE",
            Method::Info => b"INFO",
            Method::Prack => b"PRACK",
            Method::Update => b"UPDATE",
            Method::Publish => b"PUBLISH",
            Method::Other(m) => m,
        }
    }
}

/// The first line of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// `Method SP Request-URI SP SIP-Version`
    Request {
        /// Method token.
        method: Method<'a>,
        /// Request-URI as written (with `<>` if the sender put them there).
        uri: &'a [u8],
        /// Version as written, e.g. `SIP/2.0`.
        version: &'a [u8],
    },
    /// `SIP-Version SP Status-Code SP Reason-Phrase`
    Response {
        /// Version as written.
        version: &'a [u8],
        /// Status code; 0 when it did not parse (see the anomalies).
        code: u16,
        /// Reason phrase, possibly empty (RFC 4475 noreason) or UTF-8 (unreason).
        reason: &'a [u8],
    },
    /// Not a SIP start line; the raw line is kept for display.
    Invalid(&'a [u8]),
}

/// How the message reached us. Datagrams may omit Content-Length; stream transports may not, and
/// there an incomplete header block is not a message at all but a framing state (see
/// [`crate::framer`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    /// UDP, or a single message read from a file.
    #[default]
    Datagram,
    /// TCP/TLS/WebSocket payload already framed by the stream framer.
    Stream,
}

/// A parsed SIP message: zero-copy views over the bytes it was parsed from, plus every anomaly
/// found on the way.
#[derive(Clone, Debug)]
pub struct Message<'a> {
    buf: &'a [u8],
    start: StartLine<'a>,
    start_span: (u32, u32),
    headers: Vec<Header<'a>>,
    /// Index of the first header of each name, `u16::MAX` if absent: O(1) typed lookups.
    first: [u16; NAME_COUNT],
    body_start: usize,
    body: &'a [u8],
    len: usize,
    content_length: Option<u64>,
    /// CSeq parsed by the cheap checks, kept so [`Message::cseq`] does not parse it twice.
    cseq: Option<crate::views::CSeq<'a>>,
    anomalies: Vec<Anomaly>,
}

/// Mandatory in every request and response (RFC 3261 §8.1.1; Max-Forwards handled apart for
/// RFC 2543 compatibility).
const MANDATORY: [HeaderName; 5] = [
    HeaderName::Via,
    HeaderName::From,
    HeaderName::To,
    HeaderName::CallId,
    HeaderName::CSeq,
];

impl<'a> Message<'a> {
    /// Parses one datagram-style message with default limits. Never fails and never panics:
    /// whatever is wrong is in [`Message::anomalies`].
    pub fn parse(buf: &'a [u8]) -> Message<'a> {
        Self::parse_with(buf, &Limits::default(), Mode::Datagram)
    }

    /// Parses with explicit limits and transport mode.
    pub fn parse_with(buf: &'a [u8], limits: &Limits, mode: Mode) -> Message<'a> {
        let mut m = Message {
            buf,
            start: StartLine::Invalid(b""),
            start_span: (0, 0),
            headers: Vec::with_capacity(20),
            first: [u16::MAX; NAME_COUNT],
            body_start: buf.len(),
            body: b"",
            len: buf.len(),
            content_length: None,
            cseq: None,
            anomalies: Vec::new(),
        };
        m.parse_inner(limits, mode);
        m
    }

    /// Parses and then runs every typed view as a validator ([`crate::validate`]): what
    /// `sipsentry inspect` reports.
    pub fn parse_strict(buf: &'a [u8]) -> Message<'a> {
        let mut m = Self::parse(buf);
        let extra = crate::validate::deep(&m);
        m.anomalies.extend(extra);
        m
    }

    fn push(&mut self, kind: AnomalyKind, start: usize, end: usize, detail: &'static str) {
        self.anomalies
            .push(Anomaly::new(kind, start..end.max(start), detail));
    }

    fn parse_inner(&mut self, limits: &Limits, mode: Mode) {
        let full = self.buf;
        let buf = if full.len() > limits.max_message {
            self.push(
                AnomalyKind::MessageTooLarge,
                limits.max_message,
                full.len(),
                "message exceeds the size cap; the rest is ignored",
            );
            &full[..limits.max_message]
        } else {
            full
        };
        let n = buf.len();

        let mut pos = 0;
        while pos < n && (buf[pos] == b'\r' || buf[pos] == b'\n') {
            pos += 1;
        }
        if pos > 0 && pos < n {
            self.push(AnomalyKind::LeadingCrlf, 0, pos, "");
        }
        if pos >= n {
            self.push(AnomalyKind::EmptyMessage, 0, n, "");
            self.len = n;
            self.body_start = n;
            return;
        }

        let mut bare_lf_at: Option<usize> = None;
        // One SIMD line-break iterator for the whole header block: a fresh search per line pays
        // its set-up cost fifteen times per message.
        let mut lfs = memchr::memchr_iter(b'\n', buf);
        // Start line.
        let (line_end, next) = line_bounds(buf, pos, &mut lfs, &mut bare_lf_at);
        self.start_span = (pos as u32, line_end as u32);
        if line_end - pos > limits.max_line {
            self.push(AnomalyKind::LineTooLong, pos, line_end, "start line");
        }
        self.parse_start_line(pos, line_end);
        pos = next;

        // Header fields.
        let mut counts = [0u8; NAME_COUNT];
        let mut cl_values: [(usize, usize); 2] = [(0, 0); 2];
        let mut terminated = false;
        let mut vstart = 0usize;
        let mut vend = 0usize;
        while pos < n {
            let (le, nx) = line_bounds(buf, pos, &mut lfs, &mut bare_lf_at);
            if le == pos {
                pos = nx;
                terminated = true;
                break;
            }
            if le - pos > limits.max_line {
                self.push(AnomalyKind::LineTooLong, pos, le, "header line");
            }
            let line = &buf[pos..le];
            if line[0] == b' ' || line[0] == b'\t' {
                // Folded continuation of the previous field.
                match self.headers.last_mut() {
                    Some(h) => {
                        let content = lex::trim(line);
                        if !content.is_empty() {
                            let cs = lex::offset_in(buf, content);
                            if vend == vstart {
                                vstart = cs;
                            }
                            vend = cs + content.len();
                            h.value = &buf[vstart..vend];
                        }
                        h.end = le as u32;
                    }
                    None => {
                        self.push(
                            AnomalyKind::BadFolding,
                            pos,
                            le,
                            "continuation before any header",
                        );
                    }
                }
                pos = nx;
                continue;
            }
            // Names are short: a plain loop beats a SIMD search's set-up cost here.
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                self.push(AnomalyKind::HeaderWithoutColon, pos, le, "");
                pos = nx;
                continue;
            };
            // HCOLON = *( SP / HTAB ) ":" SWS
            let mut name_end = colon;
            while name_end > 0 && (line[name_end - 1] == b' ' || line[name_end - 1] == b'\t') {
                name_end -= 1;
            }
            let raw_name = &line[..name_end];
            // Known names are tokens by construction; only unknown ones need the check.
            let mut name = HeaderName::from_bytes(raw_name);
            if name == HeaderName::Other && !lex::is_token_str(raw_name) {
                self.push(AnomalyKind::BadHeaderName, pos, pos + colon, "");
                name = HeaderName::Other;
            }
            let value = lex::trim(&line[colon + 1..]);
            vstart = if value.is_empty() {
                le
            } else {
                lex::offset_in(buf, value)
            };
            vend = vstart + value.len();
            if self.headers.len() >= limits.max_headers {
                self.push(
                    AnomalyKind::TooManyHeaders,
                    pos,
                    n,
                    "header count cap reached; the rest is ignored",
                );
                pos = n;
                break;
            }
            let c = &mut counts[name.index()];
            if name == HeaderName::ContentLength && (*c as usize) < cl_values.len() {
                cl_values[*c as usize] = (vstart, vend);
            }
            if *c == 0 {
                self.first[name.index()] = self.headers.len() as u16;
            }
            *c = c.saturating_add(1);
            self.headers.push(Header {
                name,
                raw_name,
                value: &buf[vstart..vend],
                start: pos as u32,
                end: le as u32,
            });
            pos = nx;
        }
        if let Some(at) = bare_lf_at {
            self.push(
                AnomalyKind::BareLf,
                at,
                at + 1,
                "lines end in LF without CR",
            );
        }
        let headers_end = pos.min(n);
        if !terminated {
            self.push(
                AnomalyKind::MissingHeaderTerminator,
                headers_end,
                headers_end,
                "",
            );
        }
        self.body_start = headers_end;

        // Duplicates of single-value fields.
        for (i, &c) in counts.iter().enumerate() {
            if c > 1 {
                let Some(name) = self.headers.iter().map(|h| h.name).find(|h| h.index() == i)
                else {
                    continue;
                };
                if name == HeaderName::ContentLength || !name.is_single_value() {
                    continue;
                }
                let second = self
                    .headers
                    .iter()
                    .filter(|h| h.name == name)
                    .nth(1)
                    .map(|h| h.span());
                let span = second.unwrap_or(0..0);
                let kind = if name.is_dialog_critical() {
                    AnomalyKind::DuplicateSingleHeader
                } else {
                    AnomalyKind::DuplicateHeader
                };
                self.push(kind, span.start, span.end, name.canonical().unwrap_or(""));
            }
        }

        // Body and Content-Length.
        let available = n - headers_end;
        let cl_count = counts[HeaderName::ContentLength.index()] as usize;
        let mut cl: Option<u64> = None;
        let mut cl_bad = false;
        for &(s, e) in cl_values.iter().take(cl_count) {
            match lex::parse_decimal(&buf[s..e], u32::MAX as u64) {
                Ok(v) => match cl {
                    None => cl = Some(v),
                    Some(prev) if prev != v => {
                        self.push(AnomalyKind::ConflictingContentLength, s, e, "");
                        cl_bad = true;
                    }
                    Some(_) => self.push(AnomalyKind::DuplicateContentLength, s, e, ""),
                },
                Err(_) => {
                    self.push(AnomalyKind::InvalidContentLength, s, e, "");
                    cl_bad = true;
                }
            }
        }
        if cl_count > cl_values.len() {
            let extra = self
                .headers
                .iter()
                .filter(|h| h.name == HeaderName::ContentLength)
                .skip(cl_values.len());
            let mut spans = Vec::new();
            for h in extra {
                match lex::parse_decimal(h.value, u32::MAX as u64) {
                    Ok(v) if Some(v) == cl => {
                        spans.push((AnomalyKind::DuplicateContentLength, h.span()))
                    }
                    _ => spans.push((AnomalyKind::ConflictingContentLength, h.span())),
                }
            }
            for (k, s) in spans {
                cl_bad |= k == AnomalyKind::ConflictingContentLength;
                self.push(k, s.start, s.end, "");
            }
        }
        self.content_length = if cl_bad { None } else { cl };
        match (cl, cl_bad) {
            (Some(v), false) => {
                let v = v as usize;
                if v > available {
                    self.push(
                        AnomalyKind::ContentLengthExceedsBody,
                        headers_end,
                        n,
                        "Content-Length larger than the octets received",
                    );
                    self.body = &buf[headers_end..];
                    self.len = n;
                } else {
                    self.body = &buf[headers_end..headers_end + v];
                    self.len = headers_end + v;
                    if available > v && mode == Mode::Datagram {
                        self.push(AnomalyKind::TrailingBytes, headers_end + v, n, "ignored");
                    }
                }
            }
            _ => {
                if cl_count == 0 && self.start_is_valid() {
                    self.push(
                        AnomalyKind::MissingContentLength,
                        headers_end,
                        headers_end,
                        "",
                    );
                }
                self.body = &buf[headers_end..];
                self.len = n;
            }
        }
        if full.len() > n {
            self.len = full.len().min(self.len.max(n));
        }

        if matches!(self.start, StartLine::Invalid(_)) {
            return;
        }
        // Mandatory fields.
        for name in MANDATORY {
            if counts[name.index()] == 0 {
                self.push(
                    AnomalyKind::MissingMandatoryHeader,
                    self.start_span.0 as usize,
                    headers_end,
                    name.canonical().unwrap_or(""),
                );
            }
        }
        self.cheap_checks(counts[HeaderName::MaxForwards.index()] == 0);
    }

    fn start_is_valid(&self) -> bool {
        !matches!(self.start, StartLine::Invalid(_))
    }

    fn parse_start_line(&mut self, s: usize, e: usize) {
        let buf = self.buf;
        let line = &buf[s..e];
        if line.len() >= 4 && line[..4].eq_ignore_ascii_case(b"SIP/") {
            // Status-Line
            let sp1 = memchr(b' ', line).unwrap_or(line.len());
            let version = &line[..sp1];
            let rest = line.get(sp1 + 1..).unwrap_or(b"");
            let sp2 = memchr(b' ', rest).unwrap_or(rest.len());
            let code_s = &rest[..sp2];
            let reason = rest.get(sp2 + 1..).unwrap_or(b"");
            if !valid_version(version) {
                self.push(
                    AnomalyKind::BadStartLine,
                    s,
                    s + sp1,
                    "malformed SIP-Version",
                );
            } else if !version.eq_ignore_ascii_case(b"SIP/2.0") {
                self.push(AnomalyKind::UnsupportedVersion, s, s + sp1, "");
            }
            let code = match lex::parse_decimal(code_s, u64::MAX) {
                Ok(c) if code_s.len() == 3 && (100..=699).contains(&c) => c as u16,
                _ => {
                    let cs = s + sp1 + 1;
                    self.push(
                        AnomalyKind::BadStatusCode,
                        cs.min(e),
                        (cs + code_s.len()).min(e),
                        "",
                    );
                    0
                }
            };
            self.start = StartLine::Response {
                version,
                code,
                reason,
            };
            return;
        }
        // Request-Line. Split on SP runs to diagnose, then insist on exactly "M SP U SP V".
        let parts: Vec<(usize, usize)> = {
            let mut v = Vec::with_capacity(3);
            let mut i = 0;
            while i < line.len() {
                while i < line.len() && (line[i] == b' ' || line[i] == b'\t') {
                    i += 1;
                }
                if i >= line.len() {
                    break;
                }
                let st = i;
                while i < line.len() && line[i] != b' ' && line[i] != b'\t' {
                    i += 1;
                }
                v.push((st, i));
            }
            v
        };
        if parts.len() < 3 {
            self.push(
                AnomalyKind::BadStartLine,
                s,
                e,
                "not a Request-Line or Status-Line",
            );
            self.start = StartLine::Invalid(line);
            return;
        }
        let (ms, me) = parts[0];
        let (vs, ve) = parts[parts.len() - 1];
        let version = &line[vs..ve];
        if !valid_version(version) {
            self.push(
                AnomalyKind::BadStartLine,
                s + vs,
                s + ve,
                "malformed SIP-Version",
            );
            self.start = StartLine::Invalid(line);
            return;
        }
        let method = &line[ms..me];
        if !lex::is_token_str(method) {
            self.push(AnomalyKind::BadMethod, s + ms, s + me, "");
        }
        let us = parts[1].0;
        let ue = parts[parts.len() - 2].1;
        let uri = &line[us..ue];
        if parts.len() > 3 {
            self.push(
                AnomalyKind::RequestUriLws,
                s + us,
                s + ue,
                "white space inside the Request-URI",
            );
        } else if me + 1 != us || ue + 1 != vs || ms != 0 || ve != line.len() {
            self.push(
                AnomalyKind::RequestLineWhitespace,
                s,
                e,
                "elements must be separated by exactly one SP",
            );
        }
        if uri.first() == Some(&b'<') || uri.last() == Some(&b'>') {
            self.push(AnomalyKind::RequestUriInBrackets, s + us, s + ue, "");
        }
        if !version.eq_ignore_ascii_case(b"SIP/2.0") {
            self.push(AnomalyKind::UnsupportedVersion, s + vs, s + ve, "");
        }
        self.start = StartLine::Request {
            method: Method::from_bytes(method),
            uri,
            version,
        };
    }

    fn cheap_checks(&mut self, no_max_forwards: bool) {
        let request_method = self.method();
        if let Some(h) = self.header(HeaderName::CSeq).copied() {
            match crate::views::CSeq::parse(h.value) {
                Ok(c) => {
                    self.cseq = Some(c);
                    if let Some(m) = request_method {
                        if c.method != m.as_bytes() {
                            let sp = self.span_of(c.method);
                            self.push(AnomalyKind::CseqMethodMismatch, sp.0, sp.1, "");
                        }
                    }
                }
                Err(e) => {
                    let sp = self.span_of(e.at);
                    self.push(e.kind, sp.0, sp.1, "CSeq");
                }
            }
        }
        if request_method.is_some() {
            if no_max_forwards {
                let s = self.start_span;
                self.push(
                    AnomalyKind::MissingMaxForwards,
                    s.0 as usize,
                    s.1 as usize,
                    "",
                );
            } else if let Some(h) = self.header(HeaderName::MaxForwards).copied() {
                match lex::parse_decimal(h.value, 255) {
                    Ok(0) => self.push(
                        AnomalyKind::MaxForwardsZero,
                        h.start as usize,
                        h.end as usize,
                        "",
                    ),
                    Ok(_) => {}
                    Err(NumError::TooLarge) => self.push(
                        AnomalyKind::ScalarOverflow,
                        h.start as usize,
                        h.end as usize,
                        "Max-Forwards",
                    ),
                    Err(NumError::Invalid) => self.push(
                        AnomalyKind::BadMaxForwards,
                        h.start as usize,
                        h.end as usize,
                        "",
                    ),
                }
            }
        }
        if let Some(h) = self.header(HeaderName::CallId).copied() {
            if h.value.is_empty() || lex::has_lws(h.value) {
                self.push(AnomalyKind::BadCallId, h.start as usize, h.end as usize, "");
            }
        }
        if let Some(h) = self.header(HeaderName::Expires).copied() {
            match lex::parse_decimal(h.value, u32::MAX as u64) {
                Ok(_) => {}
                Err(NumError::TooLarge) => self.push(
                    AnomalyKind::ScalarOverflow,
                    h.start as usize,
                    h.end as usize,
                    "Expires",
                ),
                Err(NumError::Invalid) => self.push(
                    AnomalyKind::BadHeaderValue,
                    h.start as usize,
                    h.end as usize,
                    "Expires",
                ),
            }
        }
    }

    /// Byte span of a sub-slice of this message's buffer.
    pub fn span_of(&self, sub: &[u8]) -> (usize, usize) {
        let s = lex::offset_in(self.buf, sub);
        (s, (s + sub.len()).min(self.buf.len()))
    }

    /// The CSeq the cheap checks parsed, if it was valid.
    pub(crate) fn cached_cseq(&self) -> Option<crate::views::CSeq<'a>> {
        self.cseq
    }

    /// Adds an anomaly found by an outside validator (keeps the list the single source of truth).
    pub fn add_anomaly(&mut self, a: Anomaly) {
        self.anomalies.push(a);
    }

    // ----- accessors -----

    /// The bytes this message was parsed from.
    pub fn buf(&self) -> &'a [u8] {
        self.buf
    }

    /// Start line.
    pub fn start_line(&self) -> &StartLine<'a> {
        &self.start
    }

    /// Byte span of the start line.
    pub fn start_line_span(&self) -> std::ops::Range<usize> {
        self.start_span.0 as usize..self.start_span.1 as usize
    }

    /// Whether this is a request (with a parseable Request-Line).
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// Whether this is a response.
    pub fn is_response(&self) -> bool {
        matches!(self.start, StartLine::Response { .. })
    }

    /// Request method.
    pub fn method(&self) -> Option<Method<'a>> {
        match self.start {
            StartLine::Request { method, .. } => Some(method),
            _ => None,
        }
    }

    /// Raw Request-URI.
    pub fn request_uri_raw(&self) -> Option<&'a [u8]> {
        match self.start {
            StartLine::Request { uri, .. } => Some(uri),
            _ => None,
        }
    }

    /// Parsed Request-URI.
    pub fn request_uri(&self) -> Option<Result<crate::Uri<'a>, crate::UriError>> {
        self.request_uri_raw().map(crate::Uri::parse)
    }

    /// Response status code (0 if it did not parse).
    pub fn status(&self) -> Option<u16> {
        match self.start {
            StartLine::Response { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Reason phrase of a response.
    pub fn reason_phrase(&self) -> Option<&'a [u8]> {
        match self.start {
            StartLine::Response { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// All header fields in order.
    pub fn headers(&self) -> &[Header<'a>] {
        &self.headers
    }

    /// First header field with this name.
    pub fn header(&self, name: HeaderName) -> Option<&Header<'a>> {
        if name == HeaderName::Other {
            return self.headers.iter().find(|h| h.name == name);
        }
        self.headers.get(usize::from(self.first[name.index()]))
    }

    /// First header field value with this name.
    pub fn header_value(&self, name: HeaderName) -> Option<&'a [u8]> {
        self.header(name).map(|h| h.value)
    }

    /// Every header field with this name.
    pub fn headers_named(&self, name: HeaderName) -> impl Iterator<Item = &Header<'a>> + '_ {
        let from = if name == HeaderName::Other {
            0
        } else {
            usize::from(self.first[name.index()]).min(self.headers.len())
        };
        self.headers[from..].iter().filter(move |h| h.name == name)
    }

    /// First header field whose raw name matches (case-insensitive); for headers without a
    /// typed view, e.g. `X-Custom`.
    pub fn header_raw(&self, name: &[u8]) -> Option<&Header<'a>> {
        self.headers
            .iter()
            .find(|h| h.raw_name.eq_ignore_ascii_case(name))
    }

    /// Every element of a comma-separated header, across all its instances.
    pub fn list(&self, name: HeaderName) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.headers_named(name)
            .flat_map(|h| lex::ListIter::new(h.value))
    }

    /// Message body (exactly Content-Length octets when it is valid).
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// Offset of the body in the buffer.
    pub fn body_offset(&self) -> usize {
        self.body_start
    }

    /// Number of bytes of the buffer this message occupies (start line through the body
    /// announced by Content-Length).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the message occupies no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Valid Content-Length value, if any.
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// Every anomaly found so far.
    pub fn anomalies(&self) -> &[Anomaly] {
        &self.anomalies
    }

    /// The first anomaly that RFC 3261 says must make an element reject or discard the message.
    pub fn rejection(&self) -> Option<&Anomaly> {
        self.anomalies
            .iter()
            .find(|a| a.severity() == Severity::Reject)
    }

    /// Whether RFC 3261 accepts the message (no `Reject` anomaly).
    pub fn is_acceptable(&self) -> bool {
        self.rejection().is_none()
    }
}

fn valid_version(v: &[u8]) -> bool {
    // "SIP" "/" 1*DIGIT "." 1*DIGIT
    if v.len() < 7 || !v[..4].eq_ignore_ascii_case(b"SIP/") {
        return false;
    }
    let rest = &v[4..];
    let Some(dot) = memchr(b'.', rest) else {
        return false;
    };
    let (a, b) = (&rest[..dot], &rest[dot + 1..]);
    !a.is_empty()
        && !b.is_empty()
        && a.iter().all(u8::is_ascii_digit)
        && b.iter().all(u8::is_ascii_digit)
}

/// Finds the end of the line starting at `pos`: returns (end of content, start of next line).
/// `lfs` yields line-feed positions in increasing order; positions before `pos` (skipped leading
/// CRLFs) are passed over. Records the first bare LF seen.
#[inline]
fn line_bounds(
    buf: &[u8],
    pos: usize,
    lfs: &mut memchr::Memchr<'_>,
    bare_lf_at: &mut Option<usize>,
) -> (usize, usize) {
    let next_lf = loop {
        match lfs.next() {
            Some(p) if p < pos => continue,
            other => break other,
        }
    };
    match next_lf {
        Some(lf) => {
            if lf > pos && buf[lf - 1] == b'\r' {
                (lf - 1, lf + 1)
            } else {
                if bare_lf_at.is_none() {
                    *bare_lf_at = Some(lf);
                }
                (lf, lf + 1)
            }
        }
        None => {
            let mut end = buf.len();
            if end > pos && buf[end - 1] == b'\r' {
                end -= 1;
            }
            (end, buf.len())
        }
    }
}

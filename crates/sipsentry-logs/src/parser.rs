//! Stateful line-by-line parser: multi-line 3CX entries and SIP trace dumps.

use crate::event::{LineContext, LogEvent, Rejection, Transport};
use crate::line::parse_line_detailed;
use crate::scan::{find, split_while, trim_eol};
use crate::threecx;

/// Upper bounds on state kept between lines.
const MAX_TRACE_LINES: u32 = 1000;
const MAX_TRACE_BYTES: i64 = 65_536;
const MAX_3CX_LINES: u32 = 200;
const MAX_USER_LEN: usize = 256;

/// Counters kept by [`LogParser`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseStats {
    /// Lines pushed.
    pub lines: u64,
    /// Events emitted.
    pub events: u64,
    /// Lines swallowed as SIP trace dumps or 3CX continuation lines.
    pub continuation: u64,
    /// Lines refused because the source was ambiguous (possible injection).
    pub ambiguous: u64,
    /// Lines refused as too long or possibly truncated.
    pub too_long: u64,
    /// Security lines with no transport-level address.
    pub no_trustworthy_source: u64,
    /// Recognised security lines whose address/fields did not parse.
    pub malformed: u64,
}

#[derive(Debug)]
enum Block {
    None,
    /// chan_sip `sip set debug`: `<--- SIP read from ... --->` … `<------------->`.
    ChanSip {
        lines: u32,
    },
    /// res_pjsip_logger: `<--- Received SIP request (N bytes) from ... --->`, then N bytes.
    Pjsip {
        remaining: i64,
        lines: u32,
    },
}

#[derive(Debug)]
struct Pending3cx {
    header: Vec<u8>,
    user: Vec<u8>,
    user_from_auth: bool,
    transport: Option<Transport>,
    lines: u32,
    in_body: bool,
}

/// Line-by-line parser with the little state that log formats need:
///
/// * **3CX** entries span several lines (header, the rejected SIP request, `; Reason: ...`); the
///   event is emitted when the entry ends, with the user taken from the dumped request.
/// * **SIP trace dumps** that Asterisk writes into its log (chan_sip `sip set debug on`,
///   `pjsip set logger on`) contain raw attacker-supplied message text, line by line. A body
///   line crafted to look like a security log line would otherwise be parsed as one; lines
///   inside a dump are skipped. (FreeSWITCH indents dumped messages, so they never match.)
///
/// Events are handed to a callback and borrow either the pushed line or the parser's own
/// buffer, so nothing is copied for ordinary lines.
#[derive(Debug)]
pub struct LogParser {
    ctx: LineContext,
    block: Block,
    pending: Option<Pending3cx>,
    stats: ParseStats,
}

impl LogParser {
    /// New parser using `ctx` for every line.
    pub fn new(ctx: LineContext) -> Self {
        Self {
            ctx,
            block: Block::None,
            pending: None,
            stats: ParseStats::default(),
        }
    }

    /// The context in use.
    pub fn context(&self) -> &LineContext {
        &self.ctx
    }

    /// Counters so far.
    pub fn stats(&self) -> &ParseStats {
        &self.stats
    }

    /// Push one line (with or without its `\n`/`\r\n`); `emit` receives zero or more events.
    pub fn push_line<F: FnMut(LogEvent<'_>)>(&mut self, raw: &[u8], mut emit: F) {
        self.stats.lines += 1;
        let line = trim_eol(raw);

        let had_cr = raw.strip_suffix(b"\n").unwrap_or(raw).ends_with(b"\r");
        if self.in_trace_block(line, had_cr) {
            self.stats.continuation += 1;
            return;
        }

        if self.pending.is_some() && self.continue_3cx(line, &mut emit) {
            self.stats.continuation += 1;
            return;
        }

        if self.starts_trace_block(line) {
            return;
        }

        match parse_line_detailed(line, &self.ctx) {
            Ok(ev) if ev.service == crate::event::SERVICE_3CX => {
                self.pending = Some(Pending3cx {
                    header: line.to_vec(),
                    user: Vec::new(),
                    user_from_auth: false,
                    transport: None,
                    lines: 0,
                    in_body: false,
                });
            }
            Ok(ev) => {
                self.stats.events += 1;
                emit(ev);
            }
            Err(r) => self.count(r),
        }
    }

    /// Flush a pending multi-line entry (call at end of input).
    pub fn finish<F: FnMut(LogEvent<'_>)>(&mut self, mut emit: F) {
        self.flush_3cx(&mut emit);
        self.block = Block::None;
    }

    /// Parse a whole buffer (lines split on `\n`; a last line without newline is included).
    pub fn push_buffer<F: FnMut(LogEvent<'_>)>(&mut self, buf: &[u8], mut emit: F) {
        for l in lines(buf) {
            self.push_line(l, &mut emit);
        }
    }

    fn count(&mut self, r: Rejection) {
        match r {
            Rejection::AmbiguousSource => self.stats.ambiguous += 1,
            Rejection::TooLong | Rejection::PossiblyTruncated => self.stats.too_long += 1,
            Rejection::NoTrustworthySource => self.stats.no_trustworthy_source += 1,
            Rejection::Malformed => self.stats.malformed += 1,
            _ => {}
        }
    }

    fn in_trace_block(&mut self, line: &[u8], had_cr: bool) -> bool {
        match &mut self.block {
            Block::None => false,
            Block::ChanSip { lines } => {
                *lines += 1;
                if is_chan_sip_end(line) || *lines > MAX_TRACE_LINES {
                    self.block = Block::None;
                }
                true
            }
            Block::Pjsip { remaining, lines } => {
                *lines += 1;
                // The dumped SIP message has CRLF line ends; count what the PBX wrote.
                let len = line.len() as i64 + 1 + i64::from(had_cr);
                *remaining -= len;
                if *remaining <= 0 || *lines > MAX_TRACE_LINES {
                    self.block = Block::None;
                }
                true
            }
        }
    }

    fn starts_trace_block(&mut self, line: &[u8]) -> bool {
        let Some(p) = find(line, b"<--- ") else {
            return false;
        };
        if !line.ends_with(b" --->") {
            return false;
        }
        let head = &line[..p];
        let marker = &line[p..];
        // chan_sip prints the marker at the start of its own line.
        if head.is_empty()
            && (marker.starts_with(b"<--- SIP read from ")
                || marker.starts_with(b"<--- Transmitting")
                || marker.starts_with(b"<--- Reliably Transmitting"))
        {
            self.block = Block::ChanSip { lines: 0 };
            return true;
        }
        // res_pjsip_logger prints it as a VERBOSE message.
        if (head.is_empty() || is_verbose_prefix(head))
            && (marker.starts_with(b"<--- Received SIP ")
                || marker.starts_with(b"<--- Transmitting SIP "))
        {
            if let Some(n) = pjsip_byte_count(marker) {
                self.block = Block::Pjsip {
                    remaining: n.min(MAX_TRACE_BYTES),
                    lines: 0,
                };
                return true;
            }
        }
        false
    }

    /// Returns `true` if the line was consumed as part of the pending 3CX entry.
    fn continue_3cx<F: FnMut(LogEvent<'_>)>(&mut self, line: &[u8], emit: &mut F) -> bool {
        let Some(p) = self.pending.as_mut() else {
            return false;
        };
        if !p.in_body && threecx::is_entry_start(line) {
            self.flush_3cx(emit);
            return false;
        }
        if line.starts_with(b"; Reason:") {
            self.flush_3cx(emit);
            return true;
        }
        p.lines += 1;
        if !p.in_body {
            if line.is_empty() {
                p.in_body = true;
            } else {
                if let Some((u, from_auth)) = threecx::continuation_user(line) {
                    if (p.user.is_empty() || (from_auth && !p.user_from_auth))
                        && u.len() <= MAX_USER_LEN
                    {
                        p.user.clear();
                        p.user.extend_from_slice(u);
                        p.user_from_auth = from_auth;
                    }
                }
                if p.transport.is_none() {
                    p.transport = threecx::continuation_via_transport(line);
                }
            }
        }
        if p.lines > MAX_3CX_LINES {
            self.flush_3cx(emit);
        }
        true
    }

    fn flush_3cx<F: FnMut(LogEvent<'_>)>(&mut self, emit: &mut F) {
        let Some(p) = self.pending.take() else {
            return;
        };
        match parse_line_detailed(&p.header, &self.ctx) {
            Ok(mut ev) => {
                if !p.user.is_empty() {
                    ev.user = Some(&p.user);
                }
                if ev.transport.is_none() {
                    ev.transport = p.transport;
                }
                self.stats.events += 1;
                emit(ev);
            }
            Err(r) => self.count(r),
        }
    }
}

fn is_chan_sip_end(line: &[u8]) -> bool {
    let t = line.trim_ascii();
    t.len() >= 5
        && t.starts_with(b"<-")
        && t.ends_with(b">")
        && t[1..t.len() - 1].iter().all(|&b| b == b'-')
}

/// `[date] VERBOSE[tid][C-...] file: ` (nothing but the envelope before the marker).
fn is_verbose_prefix(head: &[u8]) -> bool {
    find(head, b"VERBOSE[").is_some() && head.ends_with(b": ")
}

/// `(842 bytes)` inside the marker.
fn pjsip_byte_count(marker: &[u8]) -> Option<i64> {
    let p = find(marker, b" (")? + 2;
    let (n, r) = split_while(marker.get(p..)?, |b| b.is_ascii_digit());
    if n.is_empty() || n.len() > 7 || !r.starts_with(b" bytes)") {
        return None;
    }
    std::str::from_utf8(n).ok()?.parse().ok()
}

/// Split a buffer into lines on `\n` (the `\n` is removed; `\r` is removed by the parser). A last
/// line without a newline is returned too; a trailing newline does not produce an empty line.
pub fn lines(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match memchr::memchr(b'\n', rest) {
            Some(p) => {
                let (l, r) = rest.split_at(p);
                rest = &r[1..];
                Some(l)
            }
            None => {
                let l = rest;
                rest = &[];
                Some(l)
            }
        }
    })
}

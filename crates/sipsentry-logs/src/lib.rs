//! # sipsentry-logs
//!
//! Turns PBX security log lines into [`LogEvent`]s, sans-IO: the caller reads the files (or the
//! journal) and hands over bytes; this crate never touches the file system or network.
//!
//! Supported: Asterisk (`full`/`messages`, the `res_security_log` security log, syslog and
//! journald bodies, the plain/syslog formatters' `file:line func:` prefixes), FreeSWITCH
//! (`freeswitch.log`, CPU-idle column, `MM-DD` dates, systemd dual timestamps), 3CX
//! (`[CM102001]` multi-line entries) and Kamailio (pike blocking).
//!
//! ```
//! use sipsentry_logs::{parse_line, LineContext, LogEventKind};
//! let ctx = LineContext::new(2024);
//! let line = b"[2012-02-13 17:21:54] NOTICE[1638] chan_sip.c: Registration from \
//!              '<sip:301@example.com>' failed for '1.2.3.4' - Wrong password";
//! let ev = parse_line(line, &ctx).unwrap();
//! assert_eq!(ev.source.to_string(), "1.2.3.4");
//! assert_eq!(ev.kind, LogEventKind::AuthFailure);
//! assert_eq!(ev.user, Some(&b"301"[..]));
//! ```
//!
//! ## Where the source address comes from
//!
//! Security logs mix addresses the PBX observed on the socket with text the attacker wrote (From,
//! Contact, Call-ID, extension, user name). An address taken from the wrong place lets an attacker
//! get somebody else banned, so the rules are strict:
//!
//! * The source is read **only** from the field the PBX fills from the transport:
//!   `RemoteAddress="IPV4/UDP/<ip>/<port>"`, `failed for '<ip>:<port>'`, `(UDP:<ip>:<port>)`,
//!   `Host <ip>`, FreeSWITCH `from ip <ip>`, 3CX `Recv Req ... from <ip>:<port>`, Kamailio
//!   `(IP:$si:$sp)`. Never from From/Contact/user text, and never the PBX's own `LocalAddress`.
//! * Each message is anchored on text the PBX writes itself: either the address comes before all
//!   attacker text, or only fixed text follows it to the end of the line (then the **last**
//!   occurrence is the real one, as with a SessionID that embeds a fake `RemoteAddress`).
//! * Where attacker text surrounds the address on both sides (PJSIP `Request ... (callid: ...)`,
//!   `Call from '...' (...) to extension '...'`) every candidate must name the same IP; if they
//!   disagree the line is refused ([`Rejection::AmbiguousSource`]) instead of guessed.
//! * Lines of [`MAX_LINE_LEN`] or more are refused, and Asterisk lines near its 8 KiB log buffer
//!   ([`TRUNCATION_GUARD_LEN`]) are refused too: a cut line can end right after a fake address.
//! * [`LogParser`] skips SIP trace dumps (chan_sip / `pjsip set logger`), whose lines are raw
//!   attacker text and could imitate a log line.
//!
//! ## Why `#![forbid(unsafe_code)]`
//!
//! The input is hostile by definition (attackers choose much of the text), the work is plain
//! byte scanning that safe Rust does at full speed with `memchr`, and a memory-safety bug in a
//! security tool's log reader would be worse than the attacks it reports. So no `unsafe` at all,
//! and every index is bounds-checked or proven by a preceding match; no input can panic.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod addr;
mod asterisk;
pub mod crowdsec;
mod detect;
mod event;
mod freeswitch;
mod hit;
mod kamailio;
mod line;
mod parser;
mod scan;
mod syslog;
mod threecx;
mod time;

pub use crowdsec::crowdsec_like_decision;
pub use detect::{detect_format, DETECT_MAX_LINES};
pub use event::{
    Format, LineContext, LogEvent, LogEventKind, OwnedLogEvent, Rejection, Transport, MAX_LINE_LEN,
    SERVICE_3CX, SERVICE_ASTERISK, SERVICE_FREESWITCH, SERVICE_KAMAILIO, TRUNCATION_GUARD_LEN,
};
pub use line::{parse_line, parse_line_detailed};
pub use parser::{lines, LogParser, ParseStats};

/// Fuzzing entry point: runs every public parser on `data` and checks invariants.
#[doc(hidden)]
pub fn fuzz_line(data: &[u8]) {
    let ctx = LineContext::new(2024);
    if let Ok(ev) = parse_line_detailed(data, &ctx) {
        assert!(ev.raw_span.end <= data.len() && ev.raw_span.start <= ev.raw_span.end);
        assert!(ev.source_span.end <= data.len() && ev.source_span.start <= ev.source_span.end);
        let _ = ev.to_owned_event();
    }
    let mut p = LogParser::new(ctx);
    let mut n = 0usize;
    p.push_buffer(data, |_| n += 1);
    p.finish(|_| n += 1);
    assert_eq!(p.stats().events as usize, n);
    let _ = detect_format(lines(data));
}

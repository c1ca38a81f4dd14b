//! Syslog / journald envelopes: `Mon DD HH:MM:SS host prog[pid]: body`, RFC 3339 timestamps,
//! and the journal's date-less `host prog[pid]: body`.

use crate::scan::{skip_spaces, split_while};
use crate::time::{parse_bsd, parse_iso_tz, Stamp};

pub(crate) struct SyslogHeader<'a> {
    pub ts: Option<Stamp>,
    pub prog: &'a [u8],
    pub body: &'a [u8],
}

/// Which PBX a syslog program name belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Hint {
    Any,
    Asterisk,
    FreeSwitch,
    Kamailio,
}

impl Hint {
    pub(crate) fn from_prog(prog: &[u8]) -> Hint {
        let base = match prog.iter().rposition(|&b| b == b'/') {
            Some(p) => &prog[p + 1..],
            None => prog,
        };
        let starts = |p: &[u8]| base.len() >= p.len() && base[..p.len()].eq_ignore_ascii_case(p);
        if starts(b"asterisk") {
            Hint::Asterisk
        } else if starts(b"freeswitch") {
            Hint::FreeSwitch
        } else if starts(b"kamailio") {
            Hint::Kamailio
        } else {
            Hint::Any
        }
    }
}

/// `<PRI>` at the very start of a raw syslog line.
pub(crate) fn strip_pri(s: &[u8]) -> &[u8] {
    if let Some(r) = s.strip_prefix(b"<") {
        let (d, r2) = split_while(r, |b| b.is_ascii_digit());
        if (1..=3).contains(&d.len()) {
            if let Some(rest) = r2.strip_prefix(b">") {
                return rest;
            }
        }
    }
    s
}

fn is_prog_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-' | b'@')
}

/// `prog[pid]:` or (when `pid_required` is false) `prog:`; returns (prog, rest after ": ").
fn prog_token(s: &[u8], pid_required: bool) -> Option<(&[u8], &[u8])> {
    let (name, r) = split_while(s, is_prog_byte);
    if name.is_empty() || name.len() > 64 {
        return None;
    }
    let r = match r.strip_prefix(b"[") {
        Some(x) => {
            let (pid, y) = split_while(x, |b| b.is_ascii_digit());
            if pid.is_empty() || pid.len() > 10 {
                return None;
            }
            y.strip_prefix(b"]")?
        }
        None if pid_required => return None,
        None => r,
    };
    let r = r.strip_prefix(b":")?;
    if r.is_empty() {
        return Some((name, r));
    }
    Some((name, r.strip_prefix(b" ")?))
}

/// `host prog[pid]: ` or `prog[pid]: ` (host optional).
fn host_prog(s: &[u8], pid_required: bool) -> Option<(&[u8], &[u8])> {
    if let Some(x) = prog_token(s, pid_required) {
        return Some(x);
    }
    let (host, r) = split_while(s, |b| b != b' ');
    if host.is_empty() || host.len() > 255 {
        return None;
    }
    prog_token(r.strip_prefix(b" ")?, pid_required)
}

/// Dated syslog header (BSD or RFC 3339 timestamp).
pub(crate) fn parse_dated(s: &[u8]) -> Option<SyslogHeader<'_>> {
    let (st, n) = parse_bsd(s).or_else(|| parse_iso_tz(s))?;
    let r = s.get(n..)?;
    if !r.starts_with(b" ") {
        return None;
    }
    let (prog, body) = host_prog(skip_spaces(r), false)?;
    Some(SyslogHeader {
        ts: Some(st),
        prog,
        body,
    })
}

/// Journal-style header without date: `host prog[pid]: ` (the `[pid]` is required so that an
/// arbitrary `word: text` line is not taken for a header).
pub(crate) fn parse_dateless(s: &[u8]) -> Option<SyslogHeader<'_>> {
    let (prog, body) = host_prog(s, true)?;
    Some(SyslogHeader {
        ts: None,
        prog,
        body,
    })
}

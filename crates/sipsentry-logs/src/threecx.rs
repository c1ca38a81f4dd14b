//! 3CX server log entries: `MM/DD/YYYY h:mm:ss AM - [CMnnnnnn]: message`, possibly followed by
//! continuation lines (the rejected SIP request and a final `; Reason: ...` line).
//!
//! Only the v16-era text `Authentication failed for AuthFail Recv Req <METHOD> from <ip:port>`
//! names the address the request was received from; it is taken left-anchored. The documented
//! `Authentication failed for SipReq: ... from(wire)` form names only Contact/URI text, which the
//! attacker writes, so it is refused ([`Rejection::NoTrustworthySource`]).

use crate::addr::parse_host_port;
use crate::event::{LogEventKind as K, Rejection};
use crate::hit::{Hit, MsgResult};
use crate::scan::{find, skip_spaces, split_while};
use crate::time::{parse_us_12h, Stamp};

pub(crate) struct TcxEnvelope<'a> {
    pub ts: Stamp,
    pub msg: &'a [u8],
}

pub(crate) fn envelope(s: &[u8]) -> Option<TcxEnvelope<'_>> {
    let (ts, n) = parse_us_12h(s)?;
    let r = s.get(n..)?.strip_prefix(b" - [")?;
    let (code, r) = split_while(r, |b| b.is_ascii_alphanumeric());
    if code.is_empty() || code.len() > 16 {
        return None;
    }
    let r = r.strip_prefix(b"]")?;
    let r = r.strip_prefix(b":").unwrap_or(r);
    Some(TcxEnvelope {
        ts,
        msg: skip_spaces(r),
    })
}

/// Does the line start a new 3CX entry?
pub(crate) fn is_entry_start(s: &[u8]) -> bool {
    envelope(s).is_some()
}

pub(crate) fn message(msg: &[u8]) -> MsgResult<'_> {
    let Some(r) = msg.strip_prefix(b"Authentication failed for ") else {
        return Err(Rejection::NotSecurityEvent);
    };
    let Some(r) = r.strip_prefix(b"AuthFail Recv Req ") else {
        return Err(Rejection::NoTrustworthySource);
    };
    let (method, r) = split_while(r, |b| b.is_ascii_uppercase());
    if method.is_empty() {
        return Err(Rejection::Malformed);
    }
    let r = r.strip_prefix(b" from ").ok_or(Rejection::Malformed)?;
    let (addr, _) = split_while(r, |b| b != b' ');
    let (ip, port) = parse_host_port(addr).ok_or(Rejection::Malformed)?;
    Ok(Hit {
        kind: K::AuthFailure,
        reason: "3cx.authentication_failed",
        ip,
        port,
        addr,
        user: None,
        transport: None,
    })
}

/// From a continuation line of the dumped SIP request: the digest `username` (preferred) or the
/// From URI user. Attacker text, used only as the event's `user`.
pub(crate) fn continuation_user(line: &[u8]) -> Option<(&[u8], bool)> {
    let lower_starts = |p: &[u8]| line.len() >= p.len() && line[..p.len()].eq_ignore_ascii_case(p);
    if lower_starts(b"Proxy-Authorization:") || lower_starts(b"Authorization:") {
        let p = find(line, b"username=\"")? + 10;
        let rest = line.get(p..)?;
        let q = rest.iter().position(|&b| b == b'"')?;
        return Some((&rest[..q], true));
    }
    if lower_starts(b"From:") || lower_starts(b"f:") {
        return crate::scan::sip_user(line).map(|u| (u, false));
    }
    None
}

/// Transport of the top Via in the dump (as claimed by the sender; a hint only).
pub(crate) fn continuation_via_transport(line: &[u8]) -> Option<crate::event::Transport> {
    let lower_starts = |p: &[u8]| line.len() >= p.len() && line[..p.len()].eq_ignore_ascii_case(p);
    if !(lower_starts(b"Via:") || lower_starts(b"v:")) {
        return None;
    }
    let p = find(line, b"SIP/2.0/")? + 8;
    let (t, _) = split_while(line.get(p..)?, |b| b.is_ascii_alphabetic());
    crate::addr::parse_transport(t)
}

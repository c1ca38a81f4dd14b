//! Kamailio: pike flood detection and the default-config `xlog` alert.
//!
//! * `WARNING: pike [pike_funcs.c:151]: pike_check_req(): PIKE - BLOCKing ip 10.10.10.10, node=...`
//!   (module text, address first: left-anchored)
//! * `ALERT: pike blocking REGISTER from sip:u@h (IP:10.10.10.10:5060)` from
//!   `xlog("L_ALERT", "ALERT: pike blocking $rm from $fu (IP:$si:$sp)\n")`: `$fu` is attacker text
//!   before the address, which ends the line: right-anchored.
//! * `PIKE - UNBLOCKing node 0x...` names no address: no event.

use crate::addr::{parse_host_port, parse_host_port_last_colon};
use crate::event::{LogEventKind as K, Rejection};
use crate::hit::{Hit, MsgResult};
use crate::scan::{is_ident, rfind, skip_spaces, split_while};

const LEVELS: [&[u8]; 9] = [
    b"DEBUG",
    b"INFO",
    b"NOTICE",
    b"WARNING",
    b"ERROR",
    b"CRITICAL",
    b"ALERT",
    b"BUG",
    b"EMERGENCY",
];

/// Message after Kamailio's `[ N(pid) ]LEVEL: ` prefix; `None` if the line does not look like
/// Kamailio output at all.
pub(crate) fn envelope(body: &[u8]) -> Option<&[u8]> {
    let mut r = skip_spaces(body);
    // stderr format: ` 0(3037) WARNING: ...`
    let (n, x) = split_while(r, |b| b.is_ascii_digit());
    if !n.is_empty() {
        let x = x.strip_prefix(b"(")?;
        let (pid, x) = split_while(x, |b| b.is_ascii_digit());
        if pid.is_empty() {
            return None;
        }
        r = x.strip_prefix(b") ")?;
    }
    let (lvl, x) = split_while(r, |b| b.is_ascii_uppercase());
    if let Some(m) = x.strip_prefix(b": ") {
        if LEVELS.contains(&lvl) {
            return Some(m);
        }
    }
    if r.starts_with(b"pike [") || r.starts_with(b"pike[") {
        return Some(r);
    }
    None
}

pub(crate) fn message(msg: &[u8]) -> MsgResult<'_> {
    let mut m = msg;
    if let Some(x) = m.strip_prefix(b"<script>: ") {
        m = x;
    }
    if let Some(x) = m.strip_prefix(b"ALERT: ") {
        m = x;
    }
    if let Some(x) = m.strip_prefix(b"pike") {
        let x = skip_spaces(x);
        if let Some(x) = x.strip_prefix(b"[") {
            let close = x
                .iter()
                .take(64)
                .position(|&b| b == b']')
                .ok_or(Rejection::NotSecurityEvent)?;
            let r = x[close + 1..]
                .strip_prefix(b": ")
                .ok_or(Rejection::NotSecurityEvent)?;
            let (func, r2) = split_while(r, is_ident);
            let r = match r2.strip_prefix(b"(): ") {
                Some(y) if !func.is_empty() => y,
                _ => r,
            };
            if let Some(y) = r.strip_prefix(b"PIKE - BLOCKing ip ") {
                let (addr, _) = split_while(y, |b| b != b',' && b != b' ');
                let (ip, port) = parse_host_port(addr).ok_or(Rejection::Malformed)?;
                return Ok(Hit {
                    kind: K::FloodOrBlocked,
                    reason: "kamailio.pike_block",
                    ip,
                    port,
                    addr,
                    user: None,
                    transport: None,
                });
            }
            return Err(Rejection::NotSecurityEvent);
        }
    }
    if m.starts_with(b"pike blocking ") {
        let body = m.strip_suffix(b")").ok_or(Rejection::NotSecurityEvent)?;
        let p = rfind(body, b"(IP:").ok_or(Rejection::NotSecurityEvent)?;
        let addr = &body[p + 4..];
        let (ip, port) = parse_host_port_last_colon(addr)
            .or_else(|| parse_host_port(addr))
            .ok_or(Rejection::Malformed)?;
        let user = body
            .get(..p)
            .and_then(|h| crate::scan::find(h, b" from "))
            .and_then(|f| crate::scan::sip_user(&body[f..p]));
        return Ok(Hit {
            kind: K::FloodOrBlocked,
            reason: "kamailio.pike_blocking_alert",
            ip,
            port,
            addr,
            user,
            transport: None,
        });
    }
    Err(Rejection::NotSecurityEvent)
}

//! FreeSWITCH `freeswitch.log` (mod_logfile) lines:
//! `[UUID ]YYYY-MM-DD HH:MM:SS.ffffff [NN.NN% ][LEVEL] [[SOFIA] ]file.c:line message`,
//! also `MM-DD HH:MM:SS.ffffff [WARN] [SOFIA] [sofia_reg.c:4130] message`.
//!
//! Sofia's messages end with the address (`... from ip 1.2.3.4`, `... ] from 1.2.3.4`), while the
//! attacker's user/domain sits before it, so addresses are taken right-anchored at end of line.
//! The ACL line starts with the address and is taken left-anchored.

use crate::addr::parse_host_port;
use crate::event::{LogEventKind as K, Rejection};
use crate::hit::{Hit, MsgResult};
use crate::scan::{non_empty, rfind, split_while};
use crate::time::{parse_md_hms, parse_ymd_hms, Stamp};

pub(crate) struct FsEnvelope<'a> {
    pub ts: Stamp,
    pub msg: &'a [u8],
}

fn is_uuid(s: &[u8]) -> bool {
    s.len() == 36
        && s.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// `NN.NN% ` CPU-idle column (gh-3143).
fn cpu_column(s: &[u8]) -> Option<&[u8]> {
    let (a, r) = split_while(s, |b| b.is_ascii_digit());
    let r = r.strip_prefix(b".")?;
    let (b, r) = split_while(r, |b| b.is_ascii_digit());
    if a.is_empty() || b.is_empty() || a.len() > 3 {
        return None;
    }
    r.strip_prefix(b"% ")
}

/// `[UPPER]` tag followed by a space.
fn upper_tag(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let r = s.strip_prefix(b"[")?;
    let (tag, r) = split_while(r, |b| b.is_ascii_uppercase());
    if tag.is_empty() || tag.len() > 16 {
        return None;
    }
    Some((tag, r.strip_prefix(b"] ")?))
}

/// `file.c:1234`.
fn is_location(s: &[u8]) -> bool {
    match s.iter().rposition(|&b| b == b':') {
        Some(c) => {
            c > 0
                && c + 1 < s.len()
                && s[c + 1..].iter().all(u8::is_ascii_digit)
                && s[..c]
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/' | b'-'))
        }
        None => false,
    }
}

pub(crate) fn envelope(s: &[u8]) -> Option<FsEnvelope<'_>> {
    let mut r = s;
    if r.len() > 37 && r[36] == b' ' && is_uuid(&r[..36]) {
        r = &r[37..];
    }
    let (ts, n) = parse_ymd_hms(r, false).or_else(|| parse_md_hms(r))?;
    r = r.get(n..)?.strip_prefix(b" ")?;
    if let Some(x) = cpu_column(r) {
        r = x;
    }
    let (_level, x) = upper_tag(r)?;
    r = x;
    if let Some((_tag, x)) = upper_tag(r) {
        r = x;
    }
    if let Some(x) = r.strip_prefix(b"[") {
        let close = x.iter().take(80).position(|&b| b == b']')?;
        if !is_location(&x[..close]) {
            return None;
        }
        r = x.get(close + 1..)?.strip_prefix(b" ")?;
    } else {
        let (loc, x) = split_while(r, |b| b != b' ');
        if loc.len() > 80 || !is_location(loc) {
            return None;
        }
        r = x.strip_prefix(b" ")?;
    }
    Some(FsEnvelope { ts, msg: r })
}

/// Part of `[user@domain]` before the first `@` (attacker text).
fn user_part(s: &[u8]) -> &[u8] {
    match s.iter().position(|&b| b == b'@') {
        Some(p) => &s[..p],
        None => s,
    }
}

pub(crate) fn message(msg: &[u8]) -> MsgResult<'_> {
    if msg.starts_with(b"SIP auth failure (") {
        return sip_auth(msg, K::AuthFailure, "freeswitch.auth_failure");
    }
    if msg.starts_with(b"SIP auth challenge (") {
        return sip_auth(msg, K::AuthChallenge, "freeswitch.auth_challenge");
    }
    if msg.starts_with(b"Can't find user [") {
        return cant_find_user(msg);
    }
    if let Some(r) = msg.strip_prefix(b"IP ") {
        return acl(r);
    }
    Err(Rejection::NotSecurityEvent)
}

/// `SIP auth failure (INVITE) on sofia profile '<p>' for [<user@domain>] from ip <ip>`.
fn sip_auth<'a>(msg: &'a [u8], kind: K, reason: &'static str) -> MsgResult<'a> {
    const FROM_IP: &[u8] = b" from ip ";
    let p = rfind(msg, FROM_IP).ok_or(Rejection::NotSecurityEvent)?;
    let addr = &msg[p + FROM_IP.len()..];
    let (ip, port) = parse_host_port(addr).ok_or(Rejection::Malformed)?;
    let head = &msg[..p];
    let user = head.strip_suffix(b"]").and_then(|h| {
        let s = crate::scan::find(h, b"' for [")?;
        Some(user_part(&h[s + 7..]))
    });
    Ok(Hit {
        kind,
        reason,
        ip,
        port,
        addr,
        user: user.and_then(non_empty),
        transport: None,
    })
}

/// `Can't find user [<user@domain>] from <ip>`.
fn cant_find_user(msg: &[u8]) -> MsgResult<'_> {
    const FROM: &[u8] = b"] from ";
    let p = rfind(msg, FROM).ok_or(Rejection::NotSecurityEvent)?;
    let addr = &msg[p + FROM.len()..];
    let (ip, port) = parse_host_port(addr).ok_or(Rejection::Malformed)?;
    let user = msg.get(17..p).map(user_part);
    Ok(Hit {
        kind: K::UnknownUser,
        reason: "freeswitch.cant_find_user",
        ip,
        port,
        addr,
        user: user.and_then(non_empty),
        transport: None,
    })
}

/// `IP <ip> Rejected by register acl "<name>"` / `IP <ip> Rejected by acl "<name>"`. The DEBUG
/// variant `... Falling back to Digest auth.` is not a rejection (fail2ban labels it no-match).
fn acl(r: &[u8]) -> MsgResult<'_> {
    let (tok, rest) = split_while(r, |b| b != b' ');
    let (ip, port) = parse_host_port(tok).ok_or(Rejection::NotSecurityEvent)?;
    if !rest.starts_with(b" Rejected by ") {
        return Err(Rejection::NotSecurityEvent);
    }
    if crate::scan::find(rest, b"Falling back to Digest auth").is_some() {
        return Err(Rejection::NotSecurityEvent);
    }
    Ok(Hit {
        kind: K::AclReject,
        reason: "freeswitch.acl_reject",
        ip,
        port,
        addr: tok,
        user: None,
        transport: None,
    })
}

//! Asterisk: `full`/`messages` files, the security log, syslog/journal bodies.
//!
//! Envelope grammar (from `main/logger.c` formatters):
//! * file, default: `[date] LEVEL[lwp][C-xxxxxxxx] file: message`
//! * file, plain:   `[date] LEVEL[lwp][C-xxxxxxxx]: file:line func: message`
//! * syslog:        `LEVEL[lwp][C-xxxxxxxx]: file:line in func: message`
//!
//! Every message parser below is anchored on text the PBX writes itself, so attacker-supplied
//! fields (From header, Call-ID, extension, AccountID, SessionID) can shift but not forge the
//! address: either the address precedes all attacker text (left-anchored), or only fixed text
//! follows it to the end of the line (right-anchored), or the line has attacker text on both
//! sides and every candidate address must agree ([`Candidates`]).

use crate::addr::{parse_host_port, parse_ip, parse_transport, parse_transport_host_port};
use crate::event::{LogEventKind as K, Rejection, Transport, TRUNCATION_GUARD_LEN};
use crate::hit::{Candidates, Hit, MsgResult};
use crate::scan::{find, find_all, is_ident, non_empty, rfind, sip_user, skip_spaces, split_while};
use crate::time::{parse_bsd, parse_ymd_hms, Stamp};

pub(crate) struct AstEnvelope<'a> {
    pub ts: Option<Stamp>,
    pub level: &'a [u8],
    pub rest: &'a [u8],
}

/// `[date] LEVEL[...]...`; `s` starts with `[`.
pub(crate) fn bracketed(s: &[u8]) -> Option<AstEnvelope<'_>> {
    let inner = s.strip_prefix(b"[")?;
    let close = inner.iter().take(48).position(|&b| b == b']')?;
    let inside = &inner[..close];
    let ts = parse_ymd_hms(inside, false)
        .filter(|(_, n)| *n == inside.len())
        .or_else(|| parse_bsd(inside).filter(|(_, n)| *n == inside.len()))
        .map(|(st, _)| st);
    let after = inner.get(close + 1..)?;
    if !after.starts_with(b" ") {
        return None;
    }
    let mut env = header(skip_spaces(after))?;
    env.ts = ts;
    Some(env)
}

/// `LEVEL[lwp][C-...]: rest` (also `LEVEL [lwp] rest` as some releases print it).
pub(crate) fn header(s: &[u8]) -> Option<AstEnvelope<'_>> {
    let (level, r) = split_while(s, |b| b.is_ascii_uppercase());
    if level.len() < 4 || level.len() > 16 {
        return None;
    }
    let r = r.strip_prefix(b" ").unwrap_or(r);
    let r = r.strip_prefix(b"[")?;
    let (lwp, r) = split_while(r, |b| b.is_ascii_digit());
    if lwp.is_empty() || lwp.len() > 10 {
        return None;
    }
    let mut r = r.strip_prefix(b"]")?;
    for _ in 0..3 {
        match r.strip_prefix(b"[") {
            Some(x) => {
                let close = x.iter().take(40).position(|&b| b == b']')?;
                if x[..close].contains(&b' ') {
                    return None;
                }
                r = &x[close + 1..];
            }
            None => break,
        }
    }
    let r = r.strip_prefix(b":").unwrap_or(r);
    if !r.starts_with(b" ") {
        return None;
    }
    Some(AstEnvelope {
        ts: None,
        level,
        rest: skip_spaces(r),
    })
}

/// Parse the message of a recognised envelope. Returns the hit and the message slice.
pub(crate) fn message<'a>(line: &'a [u8], env: &AstEnvelope<'a>) -> (MsgResult<'a>, &'a [u8]) {
    let level = env.level;
    if !matches!(level, b"NOTICE" | b"WARNING" | b"SECURITY" | b"ERROR") {
        return (Err(Rejection::NotSecurityEvent), env.rest);
    }
    if line.len() >= TRUNCATION_GUARD_LEN {
        return (Err(Rejection::PossiblyTruncated), env.rest);
    }
    let rest = env.rest;
    if let Some(r) = rest.strip_prefix(b"Ext. ") {
        return (dialplan(r), rest);
    }
    let (file, r) = split_while(rest, |b| b != b':' && b != b' ');
    let Some(r) = r.strip_prefix(b":") else {
        return (Err(Rejection::NotSecurityEvent), rest);
    };
    if file.is_empty() {
        return (Err(Rejection::NotSecurityEvent), rest);
    }
    let (lineno, r2) = split_while(r, |b| b.is_ascii_digit());
    let msg = if lineno.is_empty() {
        skip_spaces(r)
    } else {
        let r3 = skip_spaces(r2);
        let r4 = r3.strip_prefix(b"in ").unwrap_or(r3);
        let (func, r5) = split_while(r4, is_ident);
        match r5.strip_prefix(b":") {
            Some(m) if !func.is_empty() => skip_spaces(m),
            _ => r3,
        }
    };
    (dispatch(msg, level), msg)
}

fn dispatch<'a>(msg: &'a [u8], level: &[u8]) -> MsgResult<'a> {
    if msg.starts_with(b"SecurityEvent=\"") {
        return if level == b"SECURITY" {
            security_event(msg)
        } else {
            Err(Rejection::NotSecurityEvent)
        };
    }
    if msg.starts_with(b"Registration from '") {
        return registration(msg);
    }
    if msg.starts_with(b"Request ") {
        return pjsip_request(msg);
    }
    if msg.starts_with(b"Call from '") {
        return call_from(msg);
    }
    if msg.starts_with(b"Call (") {
        return call_paren(msg);
    }
    if msg.starts_with(b"Host ") {
        return iax_host(msg);
    }
    if msg.starts_with(b"No registration for peer '") {
        return iax_no_registration(msg);
    }
    if msg.starts_with(b"hacking attempt detected '") {
        return hacking(msg);
    }
    if msg.starts_with(b"Manager '") {
        return manager_logon(msg);
    }
    if msg.starts_with(b"Failed to authenticate device ")
        || msg.starts_with(b"Sending fake auth rejection for device ")
    {
        // chan_sip names only the From URI here: attacker text, never a source.
        return Err(Rejection::NoTrustworthySource);
    }
    if msg.starts_with(b"\"Rejecting unknown SIP connection from ")
        || msg.starts_with(b"Rejecting unknown SIP connection from ")
    {
        return rejecting_unknown(msg);
    }
    // res_pjsip_session: `<endpoint>: Call (UDP:1.2.3.4:5060) to extension ...`
    let (id, r) = split_while(msg, |b| b != b':' && b != b' ');
    if !id.is_empty() {
        if let Some(x) = r.strip_prefix(b": ") {
            if x.starts_with(b"Call (") {
                return call_paren(x);
            }
        }
    }
    // manager.c: `<ip> failed to authenticate as '...'` / `<ip> tried to authenticate with ...`
    let (tok, r) = split_while(msg, |b| b != b' ');
    if let Some(ip) = parse_ip(tok) {
        return manager_failure(tok, ip, r);
    }
    Err(Rejection::NotSecurityEvent)
}

fn hit<'a>(
    kind: K,
    reason: &'static str,
    (ip, port): (std::net::IpAddr, Option<u16>),
    addr: &'a [u8],
    user: Option<&'a [u8]>,
    transport: Option<Transport>,
) -> MsgResult<'a> {
    Ok(Hit {
        kind,
        reason,
        ip,
        port,
        addr,
        user: user.and_then(non_empty),
        transport,
    })
}

/// chan_sip: `Registration from '<From>' failed for '<addr>' - <reason>`. Right-anchored: only the
/// fixed reason follows the real address, so the last `' failed for '` is the real one.
fn registration(msg: &[u8]) -> MsgResult<'_> {
    let dash = rfind(msg, b"' - ").ok_or(Rejection::NotSecurityEvent)?;
    let (kind, reason) = match &msg[dash + 4..] {
        b"Wrong password" => (K::AuthFailure, "chan_sip.wrong_password"),
        b"Username/auth name mismatch" => (K::AuthFailure, "chan_sip.auth_name_mismatch"),
        b"No matching peer found" => (K::UnknownUser, "chan_sip.no_matching_peer"),
        b"Not a local domain" => (K::UnknownUser, "chan_sip.not_local_domain"),
        b"Device does not match ACL" => (K::AclReject, "chan_sip.device_acl"),
        b"Peer is not supposed to register" => (K::AclReject, "chan_sip.peer_may_not_register"),
        b"ACL error (permit/deny)" => (K::AclReject, "chan_sip.acl_error"),
        _ => return Err(Rejection::NotSecurityEvent),
    };
    let head = &msg[..dash];
    let ff = rfind(head, b"' failed for '").ok_or(Rejection::Malformed)?;
    let addr = &head[ff + 14..];
    let hp = parse_host_port(addr).ok_or(Rejection::Malformed)?;
    let from = head.get(19..ff).unwrap_or_default();
    hit(kind, reason, hp, addr, sip_user(from), None)
}

/// res_pjsip distributor: `Request ['M' ]from '<From>' failed for '<addr>' (callid: <Call-ID>) -
/// <reason>`. The From header precedes and the Call-ID follows the address, both attacker text,
/// so every well-formed candidate must agree.
fn pjsip_request(msg: &[u8]) -> MsgResult<'_> {
    let sep = rfind(msg, b") - ").ok_or(Rejection::NotSecurityEvent)?;
    let tail = &msg[sep + 4..];
    let trimmed = tail.strip_suffix(b" ").unwrap_or(tail);
    let (kind, reason) = if let Some(r) = tail.strip_prefix(b"No matching endpoint found") {
        if !(r.iter().all(|&b| b == b' ') || r.starts_with(b" after ")) {
            return Err(Rejection::NotSecurityEvent);
        }
        (K::UnknownUser, "pjsip.no_matching_endpoint")
    } else {
        match trimmed {
            b"Not match Endpoint ACL" => (K::AclReject, "pjsip.endpoint_acl"),
            b"Not match Endpoint Contact ACL" => (K::AclReject, "pjsip.endpoint_contact_acl"),
            b"Failed to authenticate" => (K::AuthFailure, "pjsip.failed_to_authenticate"),
            b"Error to authenticate" => (K::AuthFailure, "pjsip.error_to_authenticate"),
            _ => return Err(Rejection::NotSecurityEvent),
        }
    };
    let head = &msg[..sep];
    let mut cands = Candidates::new();
    let mut first_pos = None;
    for p in find_all(head, b"' failed for '") {
        let after = &head[p + 14..];
        let Some(q) = after.iter().position(|&b| b == b'\'') else {
            continue;
        };
        if !after[q..].starts_with(b"' (callid: ") {
            continue;
        }
        let addr = &after[..q];
        if let Some((ip, port)) = parse_host_port(addr) {
            first_pos.get_or_insert(p);
            cands.push(ip, port, addr, None, p);
        }
    }
    let (ip, port, addr, _) = cands.resolve(Rejection::Malformed)?;
    let from_start = find(head, b"from '").map(|x| x + 6);
    let user = match (from_start, first_pos) {
        (Some(a), Some(b)) if a <= b => sip_user(&head[a..b]),
        _ => None,
    };
    hit(kind, reason, (ip, port), addr, user, None)
}

const EXT_NOT_FOUND: &[u8] = b"' rejected because extension not found in context '";

/// `Call from '<caller>' (<[T:]addr>) to extension '<exten>' rejected because extension not
/// found in context '<ctx>'.` Caller and extension are attacker text on both sides: candidates
/// must agree.
fn call_from(msg: &[u8]) -> MsgResult<'_> {
    let rj = rfind(msg, EXT_NOT_FOUND).ok_or(Rejection::NotSecurityEvent)?;
    let head = &msg[..rj];
    let mut cands = Candidates::new();
    for p in find_all(head, b"' (") {
        let after = &head[p + 3..];
        let Some(c) = find(after, b") to extension '") else {
            continue;
        };
        let addr = &after[..c];
        if addr.len() > 64 {
            continue;
        }
        if let Some((t, ip, port)) = parse_transport_host_port(addr) {
            cands.push(ip, port, addr, t, p + 3 + c + 16);
        }
    }
    let last = cands.last_index;
    let (ip, port, addr, t) = cands.resolve(Rejection::Malformed)?;
    let exten = head.get(last..).unwrap_or_default();
    hit(
        K::UnknownUser,
        "call.extension_not_found",
        (ip, port),
        addr,
        Some(exten),
        t,
    )
}

/// `Call (<T:addr>) to extension '<exten>' rejected ...` (after the endpoint id). Left-anchored.
fn call_paren(msg: &[u8]) -> MsgResult<'_> {
    let r = &msg[6..];
    let c = r
        .iter()
        .position(|&b| b == b')')
        .ok_or(Rejection::NotSecurityEvent)?;
    let addr = &r[..c];
    let after = &r[c..];
    let Some(ext) = after.strip_prefix(b") to extension '") else {
        return Err(Rejection::NotSecurityEvent);
    };
    let rj = rfind(ext, EXT_NOT_FOUND).ok_or(Rejection::NotSecurityEvent)?;
    let (t, ip, port) = parse_transport_host_port(addr).ok_or(Rejection::Malformed)?;
    hit(
        K::UnknownUser,
        "call.extension_not_found",
        (ip, port),
        addr,
        Some(&ext[..rj]),
        t,
    )
}

fn strip_quotes(s: &[u8]) -> &[u8] {
    s.strip_suffix(b"'").unwrap_or(s)
}

/// chan_iax2: `Host <ip> failed to authenticate as '<user>'`,
/// `Host <ip> failed MD5 authentication for '<user>' (<hash> != <hash>)`. Left-anchored.
fn iax_host(msg: &[u8]) -> MsgResult<'_> {
    let (tok, r) = split_while(&msg[5..], |b| b != b' ');
    let ip = parse_ip(tok).ok_or(Rejection::NotSecurityEvent)?;
    if let Some(u) = r.strip_prefix(b" failed to authenticate as '") {
        return hit(
            K::AuthFailure,
            "iax2.failed_to_authenticate",
            (ip, None),
            tok,
            Some(strip_quotes(u)),
            Some(Transport::Udp),
        );
    }
    if let Some(u) = r.strip_prefix(b" failed MD5 authentication for '") {
        let user = match rfind(u, b"' (") {
            Some(p) => &u[..p],
            None => strip_quotes(u),
        };
        return hit(
            K::AuthFailure,
            "iax2.md5_failed",
            (ip, None),
            tok,
            Some(user),
            Some(Transport::Udp),
        );
    }
    Err(Rejection::NotSecurityEvent)
}

/// chan_iax2: `No registration for peer '<user>' (from <ip>)`. Right-anchored.
fn iax_no_registration(msg: &[u8]) -> MsgResult<'_> {
    let body = msg.strip_suffix(b")").ok_or(Rejection::NotSecurityEvent)?;
    let p = rfind(body, b" (from ").ok_or(Rejection::NotSecurityEvent)?;
    let addr = &body[p + 7..];
    let ip = parse_ip(addr).ok_or(Rejection::Malformed)?;
    let user = body.get(26..p).map(strip_quotes);
    hit(
        K::UnknownUser,
        "iax2.no_registration",
        (ip, None),
        addr,
        user,
        Some(Transport::Udp),
    )
}

/// chan_sip: `hacking attempt detected '<ip>'` (whole message).
fn hacking(msg: &[u8]) -> MsgResult<'_> {
    let inner = msg[26..]
        .strip_suffix(b"'")
        .ok_or(Rejection::NotSecurityEvent)?;
    let hp = parse_host_port(inner).ok_or(Rejection::Malformed)?;
    hit(
        K::FloodOrBlocked,
        "chan_sip.hacking_attempt",
        hp,
        inner,
        None,
        None,
    )
}

/// manager.c: `<ip> failed to authenticate as '<user>'`,
/// `<ip> tried to authenticate with nonexistent user '<user>'`. Left-anchored (the address is the
/// first token of the message).
fn manager_failure<'a>(tok: &'a [u8], ip: std::net::IpAddr, r: &'a [u8]) -> MsgResult<'a> {
    let tcp = Some(Transport::Tcp);
    if let Some(u) = r.strip_prefix(b" failed to authenticate as '") {
        return hit(
            K::ManagerAuthFailure,
            "manager.failed_to_authenticate",
            (ip, None),
            tok,
            Some(strip_quotes(u)),
            tcp,
        );
    }
    if let Some(u) = r.strip_prefix(b" tried to authenticate with nonexistent user '") {
        return hit(
            K::ManagerAuthFailure,
            "manager.nonexistent_user",
            (ip, None),
            tok,
            Some(strip_quotes(u)),
            tcp,
        );
    }
    Err(Rejection::NotSecurityEvent)
}

/// manager.c: `Manager '<user>' logged on from <ip>`. Right-anchored.
fn manager_logon(msg: &[u8]) -> MsgResult<'_> {
    let p = rfind(msg, b"' logged on from ").ok_or(Rejection::NotSecurityEvent)?;
    let addr = &msg[p + 17..];
    let hp = parse_host_port(addr).ok_or(Rejection::Malformed)?;
    let user = msg.get(9..p);
    hit(
        K::AuthSuccess,
        "manager.logged_on",
        hp,
        addr,
        user,
        Some(Transport::Tcp),
    )
}

const REJECTING: &[u8] = b"Rejecting unknown SIP connection from ";

/// FreePBX dialplan `Log()`: `"Rejecting unknown SIP connection from <addr>"` at the end of the
/// message. Right-anchored; the extension shown before it may be attacker text.
fn rejecting_unknown(text: &[u8]) -> MsgResult<'_> {
    let quoted = text.ends_with(b"\"");
    let t = if quoted {
        &text[..text.len() - 1]
    } else {
        text
    };
    let p = rfind(t, REJECTING).ok_or(Rejection::NotSecurityEvent)?;
    let boundary_ok = if quoted {
        p > 0 && t[p - 1] == b'"'
    } else {
        p == 0 || t[..p].ends_with(b": ")
    };
    if !boundary_ok {
        return Err(Rejection::NotSecurityEvent);
    }
    let addr = &t[p + REJECTING.len()..];
    let hp = parse_host_port(addr).ok_or(Rejection::Malformed)?;
    hit(
        K::AclReject,
        "freepbx.rejecting_unknown",
        hp,
        addr,
        None,
        None,
    )
}

/// Dialplan `Log()` lines: `Ext. <exten>:<prio> in @ <context>: <text>`.
fn dialplan(r: &[u8]) -> MsgResult<'_> {
    if rfind(r, REJECTING).is_some() {
        return rejecting_unknown(r);
    }
    const SCANNER: &[u8] = b": Friendly Scanner from ";
    if let Some(p) = rfind(r, SCANNER) {
        let addr = &r[p + SCANNER.len()..];
        let hp = parse_host_port(addr).ok_or(Rejection::Malformed)?;
        return hit(
            K::FloodOrBlocked,
            "freepbx.friendly_scanner",
            hp,
            addr,
            None,
            None,
        );
    }
    Err(Rejection::NotSecurityEvent)
}

/// Value of the first `,Key="` field (fields before AccountID are written by Asterisk only).
fn first_field<'a>(msg: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let p = find(msg, key)?;
    let v = &msg[p + key.len()..];
    let q = v.iter().position(|&b| b == b'"')?;
    Some(&v[..q])
}

/// After the real `RemoteAddress="..."` Asterisk writes only `,Key="value"` pairs. A tail that is
/// not exactly that (or that names another RemoteAddress) means attacker text we cannot place.
fn well_formed_tail(mut t: &[u8]) -> bool {
    while !t.is_empty() {
        let Some(r) = t.strip_prefix(b",") else {
            return false;
        };
        let (key, r) = split_while(r, is_ident);
        if key.is_empty() || key == b"RemoteAddress" {
            return false;
        }
        let Some(r) = r.strip_prefix(b"=\"") else {
            return false;
        };
        let Some(q) = r.iter().position(|&b| b == b'"') else {
            return false;
        };
        t = &r[q + 1..];
    }
    true
}

/// `IPV4/UDP/1.2.3.4/5060`, `IPV6/TCP/2001:db8::1/5060`, `IPV6/UDP/[2001:db8::1]/5060`.
fn security_address(v: &[u8]) -> Option<(Option<Transport>, std::net::IpAddr, Option<u16>)> {
    let r = v
        .strip_prefix(b"IPV4/")
        .or_else(|| v.strip_prefix(b"IPV6/"))?;
    let slash = r.iter().position(|&b| b == b'/')?;
    let transport = parse_transport(&r[..slash]);
    let rest = &r[slash + 1..];
    let last = rest.iter().rposition(|&b| b == b'/')?;
    let host = &rest[..last];
    let host = host
        .strip_prefix(b"[")
        .and_then(|h| h.strip_suffix(b"]"))
        .unwrap_or(host);
    let ip = parse_ip(host)?;
    let port = crate::addr::parse_port(&rest[last + 1..])?;
    Some((transport, ip, Some(port)))
}

/// res_security_log: `SecurityEvent="<name>",...,SessionID="<attacker>",LocalAddress="...",
/// RemoteAddress="IPV4/UDP/<ip>/<port>"[,Key="value"]*`. The source is the **last**
/// RemoteAddress (a SessionID can contain a fake one) and must be followed only by well-formed
/// fields. LocalAddress (the PBX) is never read.
fn security_event(msg: &[u8]) -> MsgResult<'_> {
    let r = &msg[15..];
    let q = r
        .iter()
        .position(|&b| b == b'"')
        .ok_or(Rejection::Malformed)?;
    let name = &r[..q];
    let ami = first_field(msg, b",Service=\"") == Some(b"AMI");
    let auth = if ami {
        K::ManagerAuthFailure
    } else {
        K::AuthFailure
    };
    let (kind, reason) = match name {
        b"FailedACL" => (K::AclReject, "security.failed_acl"),
        b"InvalidAccountID" => (
            if ami {
                K::ManagerAuthFailure
            } else {
                K::UnknownUser
            },
            "security.invalid_account_id",
        ),
        b"InvalidPassword" => (auth, "security.invalid_password"),
        b"ChallengeResponseFailed" => (auth, "security.challenge_response_failed"),
        b"SuccessfulAuth" => (K::AuthSuccess, "security.successful_auth"),
        b"ChallengeSent" => (K::AuthChallenge, "security.challenge_sent"),
        b"RequestNotAllowed" => (K::PolicyViolation, "security.request_not_allowed"),
        b"RequestNotSupported" => (K::PolicyViolation, "security.request_not_supported"),
        b"RequestBadFormat" => (K::PolicyViolation, "security.request_bad_format"),
        b"AuthMethodNotAllowed" => (K::PolicyViolation, "security.auth_method_not_allowed"),
        b"InvalidTransport" => (K::PolicyViolation, "security.invalid_transport"),
        b"UnexpectedAddress" => (K::PolicyViolation, "security.unexpected_address"),
        b"SessionLimit" => (K::FloodOrBlocked, "security.session_limit"),
        b"MemLimit" => (K::FloodOrBlocked, "security.mem_limit"),
        b"LoadAvg" => (K::FloodOrBlocked, "security.load_avg"),
        _ => return Err(Rejection::NotSecurityEvent),
    };
    const REMOTE: &[u8] = b",RemoteAddress=\"";
    let pos = rfind(msg, REMOTE).ok_or(Rejection::Malformed)?;
    let v = &msg[pos + REMOTE.len()..];
    let q = v
        .iter()
        .position(|&b| b == b'"')
        .ok_or(Rejection::Malformed)?;
    let value = &v[..q];
    if !well_formed_tail(&v[q + 1..]) {
        return Err(Rejection::AmbiguousSource);
    }
    let (transport, ip, port) = security_address(value).ok_or(Rejection::Malformed)?;
    let user = find(msg, b",AccountID=\"").and_then(|p| {
        let a = &msg[p + 12..];
        let end = find(a, b"\",SessionID=\"").or_else(|| a.iter().position(|&b| b == b'"'))?;
        Some(&a[..end])
    });
    hit(kind, reason, (ip, port), value, user, transport)
}

//! Strict address parsing. Only complete tokens are accepted: `1.2.3.4`, `1.2.3.4:5060`,
//! `[2001:db8::1]:5060`, `[1.2.3.4]:61470` (PJSIP brackets IPv4 too), bare `2001:db8::1`.

use crate::event::Transport;
use std::net::IpAddr;

/// Longest textual IP address (IPv6 with embedded IPv4).
const MAX_IP_TEXT: usize = 45;

/// Parse a complete IP address. IPv4-mapped IPv6 is folded to IPv4 so that one attacker on a
/// dual-stack socket is one source.
pub(crate) fn parse_ip(s: &[u8]) -> Option<IpAddr> {
    if s.is_empty() || s.len() > MAX_IP_TEXT {
        return None;
    }
    if s.len() <= 15 && !s.contains(&b':') {
        return parse_ipv4(s).map(IpAddr::V4);
    }
    if !s
        .iter()
        .all(|&b| b.is_ascii_hexdigit() || b == b'.' || b == b':')
    {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    text.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// Dotted quad, no leading zeros (as `std` also requires).
fn parse_ipv4(s: &[u8]) -> Option<std::net::Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split(|&b| b == b'.');
    for o in &mut octets {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || (p.len() > 1 && p[0] == b'0') {
            return None;
        }
        let mut v = 0u16;
        for &b in p {
            if !b.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u16::from(b - b'0');
        }
        *o = u8::try_from(v).ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(std::net::Ipv4Addr::from(octets))
}

/// 1 to 5 decimal digits that fit a `u16`.
pub(crate) fn parse_port(s: &[u8]) -> Option<u16> {
    if s.is_empty() || s.len() > 5 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = s.iter().fold(0u32, |a, &b| a * 10 + u32::from(b - b'0'));
    u16::try_from(v).ok()
}

/// `ip`, `ip:port`, `[ip]`, `[ip]:port`, or a bare IPv6 address (two or more colons, no port).
pub(crate) fn parse_host_port(s: &[u8]) -> Option<(IpAddr, Option<u16>)> {
    if let Some(inner) = s.strip_prefix(b"[") {
        let close = inner.iter().position(|&b| b == b']')?;
        let ip = parse_ip(&inner[..close])?;
        let after = &inner[close + 1..];
        if after.is_empty() {
            return Some((ip, None));
        }
        let port = parse_port(after.strip_prefix(b":")?)?;
        return Some((ip, Some(port)));
    }
    let colons = s.iter().filter(|&&b| b == b':').count();
    match colons {
        0 => Some((parse_ip(s)?, None)),
        1 => {
            let c = s.iter().position(|&b| b == b':')?;
            let ip = parse_ip(&s[..c])?;
            if !ip.is_ipv4() {
                return None;
            }
            Some((ip, Some(parse_port(&s[c + 1..])?)))
        }
        _ => Some((parse_ip(s)?, None)),
    }
}

/// Kamailio `$si:$sp`: always split at the last colon (the address may be a bare IPv6).
pub(crate) fn parse_host_port_last_colon(s: &[u8]) -> Option<(IpAddr, Option<u16>)> {
    let c = s.iter().rposition(|&b| b == b':')?;
    let port = parse_port(&s[c + 1..])?;
    let host = &s[..c];
    let host = host
        .strip_prefix(b"[")
        .and_then(|h| h.strip_suffix(b"]"))
        .unwrap_or(host);
    Some((parse_ip(host)?, Some(port)))
}

pub(crate) fn parse_transport(s: &[u8]) -> Option<Transport> {
    let t = match s.len() {
        2 if s.eq_ignore_ascii_case(b"WS") => Transport::Ws,
        3 if s.eq_ignore_ascii_case(b"UDP") => Transport::Udp,
        3 if s.eq_ignore_ascii_case(b"TCP") => Transport::Tcp,
        3 if s.eq_ignore_ascii_case(b"TLS") => Transport::Tls,
        3 if s.eq_ignore_ascii_case(b"WSS") => Transport::Wss,
        4 if s.eq_ignore_ascii_case(b"SCTP") => Transport::Sctp,
        _ => return None,
    };
    Some(t)
}

/// PJSIP `UDP:1.2.3.4:5060` / `TCP:[1.2.3.4]:61470`, or chan_sip `1.2.3.4:10836`.
pub(crate) fn parse_transport_host_port(
    s: &[u8],
) -> Option<(Option<Transport>, IpAddr, Option<u16>)> {
    if let Some(c) = s.iter().position(|&b| b == b':') {
        if let Some(t) = parse_transport(&s[..c]) {
            let (ip, port) = parse_host_port(&s[c + 1..])?;
            return Some((Some(t), ip, port));
        }
    }
    let (ip, port) = parse_host_port(s)?;
    Some((None, ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hp(s: &str) -> Option<(String, Option<u16>)> {
        parse_host_port(s.as_bytes()).map(|(ip, p)| (ip.to_string(), p))
    }

    #[test]
    fn host_port_forms() {
        assert_eq!(hp("1.2.3.4"), Some(("1.2.3.4".into(), None)));
        assert_eq!(hp("1.2.3.4:5060"), Some(("1.2.3.4".into(), Some(5060))));
        assert_eq!(hp("[1.2.3.4]:61470"), Some(("1.2.3.4".into(), Some(61470))));
        assert_eq!(
            hp("[2001:db8::1]:5060"),
            Some(("2001:db8::1".into(), Some(5060)))
        );
        assert_eq!(hp("2001:db8::1"), Some(("2001:db8::1".into(), None)));
        assert_eq!(hp("::ffff:1.2.3.4"), Some(("1.2.3.4".into(), None)));
        assert_eq!(hp("1.2.3.4:99999"), None);
        assert_eq!(hp("1.2.3.4:"), None);
        assert_eq!(hp("01.2.3.4"), None);
        assert_eq!(hp("1.2.3"), None);
        assert_eq!(hp("[2001:db8::1"), None);
        assert_eq!(hp("example.com"), None);
        assert_eq!(hp(""), None);
    }

    #[test]
    fn last_colon() {
        let (ip, port) = parse_host_port_last_colon(b"2001:db8::1:5060").unwrap();
        assert_eq!(ip.to_string(), "2001:db8::1");
        assert_eq!(port, Some(5060));
        assert!(parse_host_port_last_colon(b"10.10.10.10").is_none());
    }
}

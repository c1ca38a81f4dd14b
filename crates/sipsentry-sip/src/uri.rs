//! SIP, SIPS and TEL URIs (RFC 3261 §19.1, RFC 3966), zero-copy.

use crate::lex::{self, ParamIter};
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// URI scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme<'a> {
    /// `sip:`
    Sip,
    /// `sips:`
    Sips,
    /// `tel:`
    Tel,
    /// Any other syntactically valid scheme, kept opaque (RFC 4475 unkscm, novelsc).
    Other(&'a [u8]),
}

impl Scheme<'_> {
    /// Scheme name in lower case (as written for `Other`).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Scheme::Sip => b"sip",
            Scheme::Sips => b"sips",
            Scheme::Tel => b"tel",
            Scheme::Other(s) => s,
        }
    }
}

/// Why a URI did not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    /// No `scheme:` prefix.
    #[error("missing or invalid scheme")]
    BadScheme,
    /// White space inside the URI.
    #[error("white space inside URI")]
    Whitespace,
    /// Empty or malformed host.
    #[error("missing or invalid host")]
    BadHost,
    /// Port not a number in 0..=65535.
    #[error("invalid port")]
    BadPort,
    /// `[` without `]` in an IPv6 reference.
    #[error("unterminated IPv6 reference")]
    BadIpv6,
    /// A `tel:` URI with an empty number.
    #[error("empty telephone number")]
    EmptyNumber,
    /// Control characters or bytes outside the URI alphabet.
    #[error("invalid character in URI")]
    BadChar,
}

/// A parsed URI. Every field borrows from the input; %-escapes are not decoded until asked
/// ([`Uri::user_decoded`]) because comparison rules and forensic display need the raw form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Uri<'a> {
    /// The whole URI as written.
    pub raw: &'a [u8],
    /// Scheme.
    pub scheme: Scheme<'a>,
    /// User part (SIP/SIPS), or the telephone number (TEL). May contain `;` (RFC 4475 semiuri).
    pub user: Option<&'a [u8]>,
    /// Password in the userinfo (deprecated but seen in attacks).
    pub password: Option<&'a [u8]>,
    /// Host as written; IPv6 references keep their brackets. Empty for TEL/other schemes.
    pub host: &'a [u8],
    /// Port, if given.
    pub port: Option<u16>,
    /// Raw `;params` (without the leading `;`), empty if none.
    pub params: &'a [u8],
    /// Raw `?headers` (without the `?`), empty if none.
    pub headers: &'a [u8],
    /// Opaque remainder for `Other` schemes.
    pub opaque: &'a [u8],
}

impl<'a> Uri<'a> {
    /// Parses a URI that is already delimited (no `<>` and no surrounding white space).
    pub fn parse(raw: &'a [u8]) -> Result<Uri<'a>, UriError> {
        // One pass for both checks: white space first, as it is the more useful diagnosis.
        if let Some(&b) = raw.iter().find(|&&b| b < 0x21 || b == 0x7f) {
            return Err(if lex::is_lws(b) {
                UriError::Whitespace
            } else {
                UriError::BadChar
            });
        }
        let colon = raw
            .iter()
            .position(|&b| b == b':')
            .ok_or(UriError::BadScheme)?;
        let scheme_raw = &raw[..colon];
        if scheme_raw.is_empty()
            || !scheme_raw[0].is_ascii_alphabetic()
            || !scheme_raw
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        {
            return Err(UriError::BadScheme);
        }
        let rest = &raw[colon + 1..];
        let scheme = if scheme_raw.eq_ignore_ascii_case(b"sip") {
            Scheme::Sip
        } else if scheme_raw.eq_ignore_ascii_case(b"sips") {
            Scheme::Sips
        } else if scheme_raw.eq_ignore_ascii_case(b"tel") {
            Scheme::Tel
        } else {
            Scheme::Other(scheme_raw)
        };
        let mut uri = Uri {
            raw,
            scheme,
            user: None,
            password: None,
            host: b"",
            port: None,
            params: b"",
            headers: b"",
            opaque: b"",
        };
        match scheme {
            Scheme::Sip | Scheme::Sips => parse_sip(rest, &mut uri)?,
            Scheme::Tel => {
                let end = rest.iter().position(|&b| b == b';').unwrap_or(rest.len());
                if end == 0 {
                    return Err(UriError::EmptyNumber);
                }
                uri.user = Some(&rest[..end]);
                uri.params = rest.get(end + 1..).unwrap_or(b"");
            }
            Scheme::Other(_) => uri.opaque = rest,
        }
        Ok(uri)
    }

    /// URI parameters (`;transport=tcp;lr`).
    pub fn params(&self) -> ParamIter<'a> {
        ParamIter::new(self.params)
    }

    /// A URI parameter's raw value; `Some(None)` for a flag such as `lr`.
    pub fn param(&self, name: &[u8]) -> Option<Option<&'a [u8]>> {
        self.params().get(name).map(|p| p.value)
    }

    /// User part with %-escapes decoded (RFC 4475 esc01: `%75se%72` is `user`).
    pub fn user_decoded(&self) -> Option<Cow<'a, [u8]>> {
        self.user.map(lex::percent_decode)
    }

    /// The host as an IP address when it is a literal.
    pub fn host_ip(&self) -> Option<IpAddr> {
        host_ip(self.host)
    }

    /// Whether the user part or parameters hold an escaped NUL (`%00`).
    pub fn has_escaped_nul(&self) -> bool {
        memchr::memmem::find(self.raw, b"%00").is_some()
    }
}

fn parse_sip<'a>(rest: &'a [u8], uri: &mut Uri<'a>) -> Result<(), UriError> {
    // '@' cannot appear unescaped after the userinfo (not in hostport, uri-parameters or
    // headers), so the first '@' ends the userinfo even when the user part holds ';', '?', ','
    // or '/' (RFC 4475 intmeth, semiuri).
    let hostport_start = match rest.iter().position(|&b| b == b'@') {
        Some(at) => {
            let userinfo = &rest[..at];
            match userinfo.iter().position(|&b| b == b':') {
                Some(c) => {
                    uri.user = Some(&userinfo[..c]);
                    uri.password = Some(&userinfo[c + 1..]);
                }
                None => uri.user = Some(userinfo),
            }
            at + 1
        }
        None => 0,
    };
    let hp = &rest[hostport_start..];
    let hp_end = hp
        .iter()
        .position(|&b| b == b';' || b == b'?')
        .unwrap_or(hp.len());
    let hostport = &hp[..hp_end];
    let (host, port) = split_hostport(hostport)?;
    uri.host = host;
    uri.port = port;
    let tail = &hp[hp_end..];
    if let Some(stripped) = tail.strip_prefix(b";") {
        let q = stripped
            .iter()
            .position(|&b| b == b'?')
            .unwrap_or(stripped.len());
        uri.params = &stripped[..q];
        uri.headers = stripped.get(q + 1..).unwrap_or(b"");
    } else if let Some(stripped) = tail.strip_prefix(b"?") {
        uri.headers = stripped;
    }
    Ok(())
}

/// Splits `host[:port]`, handling `[IPv6]:port`.
pub fn split_hostport(hp: &[u8]) -> Result<(&[u8], Option<u16>), UriError> {
    if hp.is_empty() {
        return Err(UriError::BadHost);
    }
    let (host, port_s) = if hp[0] == b'[' {
        let close = hp
            .iter()
            .position(|&b| b == b']')
            .ok_or(UriError::BadIpv6)?;
        let host = &hp[..=close];
        let after = &hp[close + 1..];
        if after.is_empty() {
            (host, None)
        } else if after[0] == b':' {
            (host, Some(&after[1..]))
        } else {
            return Err(UriError::BadHost);
        }
    } else {
        match hp.iter().position(|&b| b == b':') {
            Some(c) => (&hp[..c], Some(&hp[c + 1..])),
            None => (hp, None),
        }
    };
    if !valid_host(host) {
        return Err(UriError::BadHost);
    }
    let port = match port_s {
        None => None,
        Some(p) => Some(
            lex::parse_decimal(p, 65535)
                .map_err(|_| UriError::BadPort)
                .map(|v| v as u16)?,
        ),
    };
    Ok((host, port))
}

/// Whether `h` is a syntactically valid host: hostname, IPv4 literal or `[IPv6]` reference.
pub fn valid_host(h: &[u8]) -> bool {
    if h.is_empty() {
        return false;
    }
    if h[0] == b'[' {
        return h.len() > 2
            && h[h.len() - 1] == b']'
            && std::str::from_utf8(&h[1..h.len() - 1])
                .ok()
                .and_then(|s| s.parse::<Ipv6Addr>().ok())
                .is_some();
    }
    h.iter().all(|&b| HOST_CHAR[b as usize])
}

const HOST_CHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
        i += 1;
    }
    t
};

/// Parses a host (as in a URI or Via sent-by) into an address when it is an IP literal.
pub fn host_ip(h: &[u8]) -> Option<IpAddr> {
    let inner = if h.first() == Some(&b'[') && h.last() == Some(&b']') && h.len() >= 2 {
        &h[1..h.len() - 1]
    } else {
        h
    };
    let s = std::str::from_utf8(inner).ok()?;
    if let Ok(v4) = s.parse::<Ipv4Addr>() {
        return Some(IpAddr::V4(v4));
    }
    s.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semiuri_user_part() {
        let u = Uri::parse(b"sip:user;par=u%40example.net@example.com").unwrap();
        assert_eq!(u.user, Some(&b"user;par=u%40example.net"[..]));
        assert_eq!(u.host, b"example.com");
        assert!(u.params.is_empty());
    }

    #[test]
    fn intmeth_userinfo_with_password() {
        let raw: &[u8] = b"sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com";
        let u = Uri::parse(raw).unwrap();
        assert_eq!(
            u.user,
            Some(&b"1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"[..])
        );
        assert_eq!(
            u.password,
            Some(&b"&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"[..])
        );
        assert_eq!(u.host, b"example.com");
    }

    #[test]
    fn ipv6_reference_with_port_and_params() {
        let u = Uri::parse(b"sips:[2001:db8::10]:5061;transport=tls?Subject=x").unwrap();
        assert_eq!(u.scheme, Scheme::Sips);
        assert_eq!(u.host, b"[2001:db8::10]");
        assert_eq!(u.port, Some(5061));
        assert_eq!(u.param(b"transport"), Some(Some(&b"tls"[..])));
        assert_eq!(u.headers, b"Subject=x");
        assert_eq!(u.host_ip(), Some("2001:db8::10".parse().unwrap()));
    }

    #[test]
    fn tel_and_other() {
        let u = Uri::parse(b"tel:+1-201-555-0123;phone-context=example.com").unwrap();
        assert_eq!(u.scheme, Scheme::Tel);
        assert_eq!(u.user, Some(&b"+1-201-555-0123"[..]));
        let u = Uri::parse(b"soap.beep://192.0.2.103:3002").unwrap();
        assert_eq!(u.scheme, Scheme::Other(b"soap.beep"));
        assert_eq!(u.opaque, b"//192.0.2.103:3002");
    }

    #[test]
    fn bad_uris() {
        assert_eq!(
            Uri::parse(b"sip:user@example.com; lr"),
            Err(UriError::Whitespace)
        );
        assert_eq!(Uri::parse(b"sip:host:99999"), Err(UriError::BadPort));
        assert_eq!(Uri::parse(b"sip:[::1"), Err(UriError::BadIpv6));
        assert_eq!(Uri::parse(b"nocolon"), Err(UriError::BadScheme));
        assert_eq!(Uri::parse(b"sip:"), Err(UriError::BadHost));
    }

    #[test]
    fn escapes_decode() {
        let u = Uri::parse(b"sip:%75se%72@example.com").unwrap();
        assert_eq!(&*u.user_decoded().unwrap(), b"user");
        let u = Uri::parse(b"sip:null-%00-null@example.com").unwrap();
        assert!(u.has_escaped_nul());
    }
}

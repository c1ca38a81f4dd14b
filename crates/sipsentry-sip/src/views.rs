//! Typed, lazy, zero-copy views of header values.
//!
//! A view parses one header value (or one element of a list) when asked. Errors carry the
//! offending sub-slice so that [`crate::Message`] can turn them into anomalies with exact spans.

use crate::anomaly::AnomalyKind;
use crate::lex::{self, ParamIter};
use crate::uri::{self, Uri};
use std::borrow::Cow;
use std::net::IpAddr;

/// Why a view could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ViewError<'a> {
    /// The anomaly kind this failure maps to.
    pub kind: AnomalyKind,
    /// The offending bytes (a sub-slice of the value).
    pub at: &'a [u8],
    /// Short explanation.
    pub detail: &'static str,
}

impl<'a> ViewError<'a> {
    fn new(kind: AnomalyKind, at: &'a [u8], detail: &'static str) -> Self {
        ViewError { kind, at, detail }
    }
}

// ---------------------------------------------------------------- CSeq

/// `CSeq: 1*DIGIT LWS Method`
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CSeq<'a> {
    /// Sequence number (≤ 2^31-1 per RFC 3261, but up to 2^32-1 is tolerated).
    pub seq: u32,
    /// Method token.
    pub method: &'a [u8],
}

impl<'a> CSeq<'a> {
    /// Parses a CSeq value.
    pub fn parse(v: &'a [u8]) -> Result<CSeq<'a>, ViewError<'a>> {
        let v = lex::trim(v);
        let num_end = v.iter().position(|&b| lex::is_lws(b)).unwrap_or(v.len());
        let num = &v[..num_end];
        let seq = match lex::parse_decimal(num, u32::MAX as u64) {
            Ok(n) => n as u32,
            Err(lex::NumError::TooLarge) => {
                return Err(ViewError::new(
                    AnomalyKind::ScalarOverflow,
                    num,
                    "CSeq number",
                ))
            }
            Err(lex::NumError::Invalid) => {
                return Err(ViewError::new(AnomalyKind::BadCseq, v, "CSeq number"))
            }
        };
        let method = lex::trim(&v[num_end..]);
        if !lex::is_token_str(method) {
            return Err(ViewError::new(AnomalyKind::BadCseq, v, "CSeq method"));
        }
        Ok(CSeq { seq, method })
    }
}

// ---------------------------------------------------------------- Via

/// One Via value: `sent-protocol LWS sent-by *( SEMI via-params )`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Via<'a> {
    /// Protocol name, normally `SIP`.
    pub protocol: &'a [u8],
    /// Protocol version, normally `2.0`.
    pub version: &'a [u8],
    /// Transport (`UDP`, `TCP`, `TLS`, `SCTP`, `WS`, `WSS`, or any token).
    pub transport: &'a [u8],
    /// sent-by host (IPv6 references keep their brackets).
    pub host: &'a [u8],
    /// sent-by port.
    pub port: Option<u16>,
    /// Raw parameters after the first `;` (empty if none).
    pub params: &'a [u8],
}

/// The RFC 3261 branch magic cookie.
pub const MAGIC_COOKIE: &[u8] = b"z9hG4bK";

impl<'a> Via<'a> {
    /// Parses one Via element (split a header value with [`lex::ListIter`] first).
    pub fn parse(v: &'a [u8]) -> Result<Via<'a>, ViewError<'a>> {
        let bad = |d| ViewError::new(AnomalyKind::BadVia, v, d);
        let mut i = lex::skip_lws(v, 0);
        let tok = |i: &mut usize| -> &'a [u8] {
            let s = *i;
            while *i < v.len() && lex::is_token(v[*i]) {
                *i += 1;
            }
            &v[s..*i]
        };
        let protocol = tok(&mut i);
        i = lex::skip_lws(v, i);
        if v.get(i) != Some(&b'/') {
            return Err(bad("sent-protocol"));
        }
        i = lex::skip_lws(v, i + 1);
        let version = tok(&mut i);
        i = lex::skip_lws(v, i);
        if v.get(i) != Some(&b'/') {
            return Err(bad("sent-protocol"));
        }
        i = lex::skip_lws(v, i + 1);
        let transport = tok(&mut i);
        if protocol.is_empty() || version.is_empty() || transport.is_empty() {
            return Err(bad("sent-protocol"));
        }
        let before = i;
        i = lex::skip_lws(v, i);
        if i == before {
            return Err(bad("missing white space before sent-by"));
        }
        let hs = i;
        if v.get(i) == Some(&b'[') {
            while i < v.len() && v[i] != b']' {
                i += 1;
            }
            if i >= v.len() {
                return Err(ViewError::new(
                    AnomalyKind::BadVia,
                    &v[hs..],
                    "unterminated IPv6 reference",
                ));
            }
            i += 1;
        } else {
            while i < v.len() && !matches!(v[i], b';' | b':' | b',') && !lex::is_lws(v[i]) {
                i += 1;
            }
        }
        let host = &v[hs..i];
        i = lex::skip_lws(v, i);
        let mut port = None;
        if v.get(i) == Some(&b':') {
            i = lex::skip_lws(v, i + 1);
            let ps = i;
            while i < v.len() && v[i].is_ascii_digit() {
                i += 1;
            }
            let p = &v[ps..i];
            port = Some(
                lex::parse_decimal(p, 65535)
                    .map_err(|_| ViewError::new(AnomalyKind::BadPort, p, "Via port"))?
                    as u16,
            );
            i = lex::skip_lws(v, i);
        }
        if !uri::valid_host(host) {
            return Err(ViewError::new(AnomalyKind::BadVia, host, "sent-by host"));
        }
        let rest = &v[i..];
        let params = match rest.first() {
            None => b"" as &[u8],
            Some(b';') => &rest[1..],
            Some(_) => {
                return Err(ViewError::new(
                    AnomalyKind::BadVia,
                    rest,
                    "junk after sent-by",
                ))
            }
        };
        Ok(Via {
            protocol,
            version,
            transport,
            host,
            port,
            params,
        })
    }

    /// Parameters.
    pub fn params(&self) -> ParamIter<'a> {
        ParamIter::new(self.params)
    }

    fn param(&self, name: &[u8]) -> Option<Option<&'a [u8]>> {
        self.params().get(name).map(|p| p.value)
    }

    /// `branch` value.
    pub fn branch(&self) -> Option<&'a [u8]> {
        self.param(b"branch").flatten()
    }

    /// Whether the branch starts with the RFC 3261 magic cookie.
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with(MAGIC_COOKIE))
    }

    /// `received` value.
    pub fn received(&self) -> Option<&'a [u8]> {
        self.param(b"received").flatten()
    }

    /// `rport`: `None` when absent, `Some(None)` when present without a value (a request for
    /// symmetric response routing), `Some(Some(port))` when filled in by a server.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.param(b"rport").map(|v| {
            v.and_then(|p| lex::parse_decimal(p, 65535).ok())
                .map(|p| p as u16)
        })
    }

    /// `maddr` value.
    pub fn maddr(&self) -> Option<&'a [u8]> {
        self.param(b"maddr").flatten()
    }

    /// The sent-by host as an IP address, when it is a literal.
    pub fn host_ip(&self) -> Option<IpAddr> {
        uri::host_ip(self.host)
    }
}

// ---------------------------------------------------------------- name-addr / addr-spec

/// From, To, Contact, Route, Record-Route, Refer-To, P-Asserted-Identity values:
/// `( name-addr / addr-spec ) *( SEMI param )`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// Display name as written: quoted (with quotes) or a run of tokens. See
    /// [`NameAddr::display_name`].
    pub display_raw: Option<&'a [u8]>,
    /// The URI.
    pub uri: Uri<'a>,
    /// Whether the URI was enclosed in `<>`.
    pub bracketed: bool,
    /// Raw header parameters after the URI (without the leading `;`).
    pub params: &'a [u8],
}

impl<'a> NameAddr<'a> {
    /// Parses one value.
    pub fn parse(v: &'a [u8]) -> Result<NameAddr<'a>, ViewError<'a>> {
        let v = lex::trim(v);
        if v.is_empty() {
            return Err(ViewError::new(AnomalyKind::BadNameAddr, v, "empty value"));
        }
        let (display_raw, lt) = if v[0] == b'"' {
            let end = lex::end_of_quoted(v, 0).ok_or(ViewError::new(
                AnomalyKind::UnbalancedQuotes,
                v,
                "display name",
            ))?;
            let after = lex::skip_lws(v, end);
            if v.get(after) != Some(&b'<') {
                return Err(ViewError::new(
                    AnomalyKind::BadNameAddr,
                    v,
                    "quoted display name without <URI>",
                ));
            }
            (Some(&v[..end]), Some(after))
        } else {
            match v.iter().position(|&b| b == b'<') {
                Some(lt) => {
                    let d = lex::trim(&v[..lt]);
                    if d.contains(&b'"') {
                        return Err(ViewError::new(
                            AnomalyKind::UnbalancedQuotes,
                            d,
                            "display name",
                        ));
                    }
                    if !d.iter().all(|&b| lex::is_token(b) || lex::is_lws(b)) {
                        return Err(ViewError::new(
                            AnomalyKind::BadDisplayName,
                            d,
                            "unquoted display name with non-token characters",
                        ));
                    }
                    (if d.is_empty() { None } else { Some(d) }, Some(lt))
                }
                None => (None, None),
            }
        };
        match lt {
            Some(lt) => {
                let close = v[lt..]
                    .iter()
                    .position(|&b| b == b'>')
                    .map(|p| p + lt)
                    .ok_or(ViewError::new(
                        AnomalyKind::BadNameAddr,
                        &v[lt..],
                        "missing '>'",
                    ))?;
                let inner = &v[lt + 1..close];
                let uri = Uri::parse(inner).map_err(|e| match e {
                    uri::UriError::Whitespace => {
                        ViewError::new(AnomalyKind::LwsInAddrSpec, inner, "white space inside <>")
                    }
                    _ => ViewError::new(AnomalyKind::BadUri, inner, "URI"),
                })?;
                let rest = lex::trim(&v[close + 1..]);
                let params = match rest.first() {
                    None => b"" as &[u8],
                    Some(b';') => &rest[1..],
                    Some(_) => {
                        return Err(ViewError::new(
                            AnomalyKind::BadNameAddr,
                            rest,
                            "junk after '>'",
                        ))
                    }
                };
                Ok(NameAddr {
                    display_raw,
                    uri,
                    bracketed: true,
                    params,
                })
            }
            None => {
                // addr-spec: header parameters begin at the first ';' (RFC 3261 §20.10), so a
                // URI holding ';', '?' or ',' must be bracketed.
                let end = v
                    .iter()
                    .position(|&b| b == b';' || lex::is_lws(b))
                    .unwrap_or(v.len());
                let spec = &v[..end];
                if spec.contains(&b'?') || spec.contains(&b',') {
                    return Err(ViewError::new(
                        AnomalyKind::AddrSpecNeedsBrackets,
                        spec,
                        "addr-spec with '?' or ',' must be enclosed in <>",
                    ));
                }
                let uri = Uri::parse(spec)
                    .map_err(|_| ViewError::new(AnomalyKind::BadUri, spec, "URI"))?;
                let rest = lex::trim(&v[end..]);
                let params = match rest.first() {
                    None => b"" as &[u8],
                    Some(b';') => &rest[1..],
                    Some(_) => {
                        return Err(ViewError::new(
                            AnomalyKind::LwsInAddrSpec,
                            rest,
                            "junk after addr-spec",
                        ))
                    }
                };
                Ok(NameAddr {
                    display_raw: None,
                    uri,
                    bracketed: false,
                    params,
                })
            }
        }
    }

    /// Display name with quotes removed and quoted-pairs resolved.
    pub fn display_name(&self) -> Option<Cow<'a, [u8]>> {
        self.display_raw
            .map(|d| lex::unescape_quoted(lex::unquote(d)))
    }

    /// Header parameters.
    pub fn params(&self) -> ParamIter<'a> {
        ParamIter::new(self.params)
    }

    /// `tag` parameter.
    pub fn tag(&self) -> Option<&'a [u8]> {
        self.params().get(b"tag").and_then(|p| p.value)
    }

    /// `expires` contact parameter (None when absent or not a u32).
    pub fn expires(&self) -> Option<u32> {
        self.params()
            .get(b"expires")
            .and_then(|p| p.value)
            .and_then(|v| lex::parse_decimal(v, u32::MAX as u64).ok())
            .map(|v| v as u32)
    }

    /// `q` contact parameter, in thousandths (`q=0.33` → 330).
    pub fn q_millis(&self) -> Option<u16> {
        self.params()
            .get(b"q")
            .and_then(|p| p.value)
            .and_then(parse_qvalue)
    }
}

/// Parses an RFC 3261 qvalue (`0[.0-3 digits]` / `1[.0-3 zeros]`) into thousandths.
pub fn parse_qvalue(v: &[u8]) -> Option<u16> {
    let (int, frac) = match v.iter().position(|&b| b == b'.') {
        Some(d) => (&v[..d], &v[d + 1..]),
        None => (v, &b""[..]),
    };
    if frac.len() > 3 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut millis: u16 = 0;
    for (i, &d) in frac.iter().enumerate() {
        millis += u16::from(d - b'0') * [100, 10, 1][i];
    }
    match int {
        b"0" => Some(millis),
        b"1" if millis == 0 => Some(1000),
        _ => None,
    }
}

/// A Contact value: `*` or an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contact<'a> {
    /// `Contact: *` (REGISTER removing all bindings).
    Star,
    /// An address with parameters.
    Addr(NameAddr<'a>),
}

impl<'a> Contact<'a> {
    /// Parses one Contact element.
    pub fn parse(v: &'a [u8]) -> Result<Contact<'a>, ViewError<'a>> {
        if lex::trim(v) == b"*" {
            Ok(Contact::Star)
        } else {
            NameAddr::parse(v).map(Contact::Addr)
        }
    }
}

// ---------------------------------------------------------------- media types, tokens, misc

/// `type "/" subtype *( SEMI m-parameter )`, for Content-Type and Accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaType<'a> {
    /// Top-level type.
    pub type_: &'a [u8],
    /// Subtype.
    pub subtype: &'a [u8],
    /// Raw parameters.
    pub params: &'a [u8],
}

impl<'a> MediaType<'a> {
    /// Parses a media type.
    pub fn parse(v: &'a [u8]) -> Result<MediaType<'a>, ViewError<'a>> {
        let v = lex::trim(v);
        let semi = v.iter().position(|&b| b == b';').unwrap_or(v.len());
        let main = lex::trim(&v[..semi]);
        let slash = main.iter().position(|&b| b == b'/').ok_or(ViewError::new(
            AnomalyKind::BadHeaderValue,
            v,
            "media type without '/'",
        ))?;
        let type_ = lex::trim(&main[..slash]);
        let subtype = lex::trim(&main[slash + 1..]);
        if !lex::is_token_str(type_) || !lex::is_token_str(subtype) {
            return Err(ViewError::new(AnomalyKind::BadHeaderValue, v, "media type"));
        }
        Ok(MediaType {
            type_,
            subtype,
            params: v.get(semi + 1..).unwrap_or(b""),
        })
    }

    /// Whether this is `type/subtype`, case-insensitively.
    pub fn is(&self, type_: &[u8], subtype: &[u8]) -> bool {
        self.type_.eq_ignore_ascii_case(type_) && self.subtype.eq_ignore_ascii_case(subtype)
    }

    /// Whether this media range (as in Accept) matches `type/subtype`, honouring `*`.
    pub fn matches(&self, type_: &[u8], subtype: &[u8]) -> bool {
        (self.type_ == b"*" || self.type_.eq_ignore_ascii_case(type_))
            && (self.subtype == b"*" || self.subtype.eq_ignore_ascii_case(subtype))
    }

    /// Parameters.
    pub fn params(&self) -> ParamIter<'a> {
        ParamIter::new(self.params)
    }
}

/// `Reason: protocol *( SEMI reason-params )` (RFC 3326).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reason<'a> {
    /// `SIP`, `Q.850`, or another token.
    pub protocol: &'a [u8],
    /// Raw parameters.
    pub params: &'a [u8],
}

impl<'a> Reason<'a> {
    /// Parses one Reason element.
    pub fn parse(v: &'a [u8]) -> Result<Reason<'a>, ViewError<'a>> {
        let v = lex::trim(v);
        let semi = v.iter().position(|&b| b == b';').unwrap_or(v.len());
        let protocol = lex::trim(&v[..semi]);
        if !lex::is_token_str(protocol) {
            return Err(ViewError::new(
                AnomalyKind::BadHeaderValue,
                v,
                "Reason protocol",
            ));
        }
        Ok(Reason {
            protocol,
            params: v.get(semi + 1..).unwrap_or(b""),
        })
    }

    /// `cause` parameter.
    pub fn cause(&self) -> Option<u16> {
        ParamIter::new(self.params)
            .get(b"cause")
            .and_then(|p| p.value)
            .and_then(|v| lex::parse_decimal(v, u16::MAX as u64).ok())
            .map(|v| v as u16)
    }

    /// `text` parameter, unquoted and unescaped.
    pub fn text(&self) -> Option<Cow<'a, [u8]>> {
        ParamIter::new(self.params)
            .get(b"text")
            .and_then(|p| p.value)
            .map(|v| lex::unescape_quoted(lex::unquote(v)))
    }
}

/// An authentication header split into scheme and raw parameters. The Digest-specific reading
/// (and the cryptography) lives in `sipsentry-digest`; this view only tells which scheme is used
/// without understanding it, as a proxy must (RFC 4475 regaut01).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthHeader<'a> {
    /// Auth scheme (`Digest`, or anything).
    pub scheme: &'a [u8],
    /// The rest of the value.
    pub rest: &'a [u8],
}

impl<'a> AuthHeader<'a> {
    /// Splits scheme from parameters.
    pub fn parse(v: &'a [u8]) -> Result<AuthHeader<'a>, ViewError<'a>> {
        let v = lex::trim(v);
        let end = v.iter().position(|&b| lex::is_lws(b)).unwrap_or(v.len());
        let scheme = &v[..end];
        if !lex::is_token_str(scheme) {
            return Err(ViewError::new(
                AnomalyKind::BadHeaderValue,
                v,
                "auth scheme",
            ));
        }
        Ok(AuthHeader {
            scheme,
            rest: lex::trim(&v[end..]),
        })
    }

    /// Whether the scheme is Digest.
    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case(b"Digest")
    }

    /// Auth parameters as `name=value` pairs (values raw, quotes kept), split on commas outside
    /// quoted strings.
    pub fn params(&self) -> AuthParamIter<'a> {
        AuthParamIter {
            s: self.rest,
            pos: 0,
        }
    }

    /// One parameter's value with quotes removed (escapes left as written).
    pub fn param(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.params()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .and_then(|p| p.value)
            .map(lex::unquote)
    }
}

/// Iterator over `name = value` auth-params separated by commas. Single pass, no allocation:
/// detectors read `username` and `realm` from every REGISTER.
#[derive(Clone)]
pub struct AuthParamIter<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for AuthParamIter<'a> {
    type Item = lex::Param<'a>;
    fn next(&mut self) -> Option<lex::Param<'a>> {
        let s = self.s;
        loop {
            let mut i = lex::skip_lws(s, self.pos);
            while i < s.len() && s[i] == b',' {
                i = lex::skip_lws(s, i + 1);
            }
            if i >= s.len() {
                self.pos = s.len();
                return None;
            }
            let ns = i;
            while i < s.len() && !matches!(s[i], b'=' | b',') && !lex::is_lws(s[i]) {
                i += 1;
            }
            let name = &s[ns..i];
            i = lex::skip_lws(s, i);
            let mut value = None;
            if i < s.len() && s[i] == b'=' {
                i = lex::skip_lws(s, i + 1);
                let vs = i;
                if i < s.len() && s[i] == b'"' {
                    i = lex::end_of_quoted(s, i).unwrap_or(s.len());
                } else {
                    while i < s.len() && s[i] != b',' && !lex::is_lws(s[i]) {
                        i += 1;
                    }
                }
                value = Some(&s[vs..i]);
            }
            // Skip to the next comma (tolerating junk, which a validator reports).
            while i < s.len() && s[i] != b',' {
                if s[i] == b'"' {
                    i = lex::end_of_quoted(s, i).unwrap_or(s.len());
                } else {
                    i += 1;
                }
            }
            self.pos = i;
            if name.is_empty() && value.is_none() {
                continue;
            }
            return Some(lex::Param { name, value });
        }
    }
}

/// `Warning: 3DIGIT SP warn-agent SP warn-text`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WarningValue<'a> {
    /// warn-code.
    pub code: u16,
    /// warn-agent.
    pub agent: &'a [u8],
    /// warn-text with quotes.
    pub text: &'a [u8],
}

impl<'a> WarningValue<'a> {
    /// Parses one Warning element.
    pub fn parse(v: &'a [u8]) -> Result<WarningValue<'a>, ViewError<'a>> {
        let v = lex::trim(v);
        let sp = v.iter().position(|&b| lex::is_lws(b)).unwrap_or(v.len());
        let code_s = &v[..sp];
        let code = match lex::parse_decimal(code_s, 999) {
            Ok(c) if code_s.len() == 3 => c as u16,
            Ok(_) | Err(lex::NumError::TooLarge) if code_s.iter().all(u8::is_ascii_digit) => {
                return Err(ViewError::new(
                    AnomalyKind::ScalarOverflow,
                    code_s,
                    "warn-code must be 3 digits",
                ))
            }
            _ => return Err(ViewError::new(AnomalyKind::BadHeaderValue, v, "warn-code")),
        };
        let rest = lex::trim(&v[sp..]);
        let sp2 = rest
            .iter()
            .position(|&b| lex::is_lws(b))
            .unwrap_or(rest.len());
        Ok(WarningValue {
            code,
            agent: &rest[..sp2],
            text: lex::trim(&rest[sp2..]),
        })
    }
}

/// Checks an RFC 1123 date as SIP requires it: `wkday "," SP 2DIGIT SP month SP 4DIGIT SP
/// 2DIGIT ":" 2DIGIT ":" 2DIGIT SP "GMT"`.
pub fn is_sip_date(v: &[u8]) -> bool {
    let v = lex::trim(v);
    if v.len() != 29 {
        return false;
    }
    const DAYS: [&[u8]; 7] = [b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"];
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let d = |r: std::ops::Range<usize>| v[r].iter().all(u8::is_ascii_digit);
    DAYS.contains(&&v[0..3])
        && &v[3..5] == b", "
        && d(5..7)
        && v[7] == b' '
        && MONTHS.contains(&&v[8..11])
        && v[11] == b' '
        && d(12..16)
        && v[16] == b' '
        && d(17..19)
        && v[19] == b':'
        && d(20..22)
        && v[22] == b':'
        && d(23..25)
        && &v[25..29] == b" GMT"
}

/// Option tags registered with IANA ("SIP Option Tags"), for Require/Proxy-Require checks.
pub const KNOWN_OPTION_TAGS: &[&str] = &[
    "100rel",
    "199",
    "answermode",
    "early-session",
    "eventlist",
    "explicitsub",
    "from-change",
    "geolocation-http",
    "geolocation-sip",
    "gin",
    "gruu",
    "histinfo",
    "ice",
    "join",
    "multiple-refer",
    "norefersub",
    "nosub",
    "outbound",
    "path",
    "policy",
    "precondition",
    "pref",
    "privacy",
    "recipient-list-invite",
    "recipient-list-message",
    "recipient-list-subscribe",
    "record-aware",
    "replaces",
    "resource-priority",
    "sdp-anat",
    "sec-agree",
    "siprec",
    "tdialog",
    "timer",
    "trickle-ice",
    "uui",
];

/// Content types SIP elements commonly process; anything else is flagged for a UAS to answer
/// 415 (RFC 4475 invut).
pub fn is_known_content_type(t: &MediaType<'_>) -> bool {
    const KNOWN: &[(&[u8], &[u8])] = &[
        (b"application", b"sdp"),
        (b"application", b"isup"),
        (b"application", b"qsig"),
        (b"application", b"dtmf-relay"),
        (b"application", b"dtmf"),
        (b"application", b"pidf+xml"),
        (b"application", b"xpidf+xml"),
        (b"application", b"simple-message-summary"),
        (b"application", b"dialog-info+xml"),
        (b"application", b"reginfo+xml"),
        (b"application", b"rlmi+xml"),
        (b"application", b"watcherinfo+xml"),
        (b"application", b"media_control+xml"),
        (b"application", b"vnd.etsi.pstn+xml"),
        (b"application", b"broadsoft"),
        (b"application", b"pkcs7-mime"),
        (b"application", b"pkcs7-signature"),
        (b"application", b"csta+xml"),
        (b"application", b"x-cisco-remotecc-request+xml"),
        (b"message", b"sipfrag"),
        (b"message", b"cpim"),
        (b"text", b"plain"),
        (b"text", b"html"),
        (b"multipart", b"mixed"),
        (b"multipart", b"alternative"),
        (b"multipart", b"related"),
        (b"multipart", b"signed"),
    ];
    KNOWN.iter().any(|(a, b)| t.is(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_with_lws_everywhere() {
        let v = Via::parse(b"SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw").unwrap();
        assert_eq!(
            (v.protocol, v.version, v.transport),
            (&b"SIP"[..], &b"2.0"[..], &b"UDP"[..])
        );
        assert_eq!(v.host, b"192.0.2.2");
        assert_eq!(v.branch(), Some(&b"390skdjuw"[..]));
        assert!(!v.has_rfc3261_branch());
        let v = Via::parse(b"SIP/2.0/UDP [2001:db8::1]:5070;rport;received=192.0.2.1").unwrap();
        assert_eq!(v.host, b"[2001:db8::1]");
        assert_eq!(v.port, Some(5070));
        assert_eq!(v.rport(), Some(None));
        assert_eq!(v.received(), Some(&b"192.0.2.1"[..]));
        let v = Via::parse(b"SIP/2.0/UDP h;rport=5060").unwrap();
        assert_eq!(v.rport(), Some(Some(5060)));
    }

    #[test]
    fn name_addr_forms() {
        let n = NameAddr::parse(
            b"\"J Rosenberg \\\\\\\"\"       <sip:jdrosen@example.com>\r\n  ;\r\n  tag = 98asjd8",
        )
        .unwrap();
        assert_eq!(n.display_name().unwrap().as_ref(), b"J Rosenberg \\\"");
        assert_eq!(n.tag(), Some(&b"98asjd8"[..]));
        let n = NameAddr::parse(b"caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(n.display_raw, Some(&b"caller"[..]));
        let n = NameAddr::parse(b"sip:watson@example.com;tag=x").unwrap();
        assert!(!n.bracketed);
        assert_eq!(n.tag(), Some(&b"x"[..]));
        assert_eq!(
            NameAddr::parse(b"\"Mr. J. User <sip:j.user@example.com>")
                .unwrap_err()
                .kind,
            AnomalyKind::UnbalancedQuotes
        );
        assert_eq!(
            NameAddr::parse(b"Bell, Alexander <sip:a.g.bell@bell-tel.com>;tag=43")
                .unwrap_err()
                .kind,
            AnomalyKind::BadDisplayName
        );
        assert_eq!(
            NameAddr::parse(b"\"Watson, Thomas\" < sip:t.watson@example.org >")
                .unwrap_err()
                .kind,
            AnomalyKind::LwsInAddrSpec
        );
        assert_eq!(
            NameAddr::parse(b"sip:user@example.com?Route=%3Csip:sip.example.com%3E")
                .unwrap_err()
                .kind,
            AnomalyKind::AddrSpecNeedsBrackets
        );
    }

    #[test]
    fn qvalues() {
        assert_eq!(parse_qvalue(b"0.33"), Some(330));
        assert_eq!(parse_qvalue(b"1"), Some(1000));
        assert_eq!(parse_qvalue(b"1.5"), None);
        assert_eq!(parse_qvalue(b"0.1234"), None);
    }

    #[test]
    fn dates() {
        assert!(is_sip_date(b"Sat, 13 Nov 2010 23:29:00 GMT"));
        assert!(!is_sip_date(b"Fri, 01 Jan 2010 16:00:00 EST"));
    }

    #[test]
    fn cseq() {
        assert_eq!(
            CSeq::parse(b"0009\r\n  INVITE").unwrap(),
            CSeq {
                seq: 9,
                method: b"INVITE"
            }
        );
        assert_eq!(
            CSeq::parse(b"36893488147419103232 REGISTER")
                .unwrap_err()
                .kind,
            AnomalyKind::ScalarOverflow
        );
    }
}

//! Deep validation: every typed view run over every header it applies to.
//!
//! [`crate::Message::parse`] stays cheap (framing plus the fields that identify a transaction);
//! this pass is what a strict element or `sipsentry inspect` runs. It only reports: the message is
//! never altered.

use crate::anomaly::{Anomaly, AnomalyKind};
use crate::header::HeaderName;
use crate::lex::{self, ListIter};
use crate::message::{Message, Method};
use crate::uri::Scheme;
use crate::views::{self, Contact, MediaType, NameAddr, Via, ViewError};

struct Sink<'m, 'a> {
    msg: &'m Message<'a>,
    out: Vec<Anomaly>,
}

impl Sink<'_, '_> {
    fn at(&mut self, kind: AnomalyKind, sub: &[u8], detail: &'static str) {
        let (s, e) = self.msg.span_of(sub);
        self.out.push(Anomaly::new(kind, s..e, detail));
    }
    fn view(&mut self, e: ViewError<'_>) {
        self.at(e.kind, e.at, e.detail);
    }
}

/// Runs all deep checks and returns the anomalies they find.
pub fn deep(msg: &Message<'_>) -> Vec<Anomaly> {
    let mut s = Sink {
        msg,
        out: Vec::new(),
    };
    request_uri(&mut s);
    vias(&mut s);
    addresses(&mut s);
    contacts(&mut s);
    routes(&mut s);
    misc(&mut s);
    control_chars(&mut s);
    s.out
}

fn request_uri(s: &mut Sink<'_, '_>) {
    let Some(raw) = s.msg.request_uri_raw() else {
        return;
    };
    if s.msg.anomalies().iter().any(|a| {
        matches!(
            a.kind,
            AnomalyKind::RequestUriInBrackets | AnomalyKind::RequestUriLws
        )
    }) {
        return; // already explained; the URI cannot be read as one.
    }
    match crate::Uri::parse(raw) {
        Err(_) => s.at(AnomalyKind::BadRequestUri, raw, "Request-URI"),
        Ok(u) => {
            match u.scheme {
                Scheme::Sip | Scheme::Sips => {
                    if !u.headers.is_empty() {
                        s.at(AnomalyKind::UriHeadersInRequestUri, u.headers, "");
                    }
                }
                Scheme::Tel => {}
                Scheme::Other(sc) => s.at(AnomalyKind::UnsupportedUriScheme, sc, "answer 416"),
            }
            if u.has_escaped_nul() {
                s.at(AnomalyKind::EscapedNulInUri, raw, "Request-URI");
            }
        }
    }
}

fn empty_params(s: &mut Sink<'_, '_>, params: &[u8], whole: &[u8]) {
    if lex::ParamIter::new(params).any(|p| p.name.is_empty()) || lex::trim(params).ends_with(b";") {
        s.at(AnomalyKind::EmptyParam, whole, "");
    }
}

fn vias(s: &mut Sink<'_, '_>) {
    let mut first = true;
    for h in s.msg.headers_named(HeaderName::Via) {
        for el in ListIter::new(h.value) {
            if el.is_empty() {
                s.at(AnomalyKind::EmptyListElement, el, "Via");
                continue;
            }
            match Via::parse(el) {
                Err(e) => s.view(e),
                Ok(v) => {
                    if !v.params.is_empty() || el.ends_with(b";") {
                        empty_params(s, v.params, el);
                    }
                    if first && s.msg.is_request() {
                        match v.branch() {
                            Some(b) if b == views::MAGIC_COOKIE => s.at(
                                AnomalyKind::ViaBadBranch,
                                b,
                                "branch is only the magic cookie",
                            ),
                            Some(b) if !b.starts_with(views::MAGIC_COOKIE) => {
                                s.at(AnomalyKind::ViaRfc2543Branch, b, "")
                            }
                            Some(_) => {}
                            None => s.at(AnomalyKind::ViaRfc2543Branch, el, "no branch"),
                        }
                    }
                    if let Some(ip) = v.host_ip() {
                        let bcast = match ip {
                            std::net::IpAddr::V4(a) => a.is_broadcast() || a.is_multicast(),
                            std::net::IpAddr::V6(a) => a.is_multicast(),
                        };
                        if bcast {
                            s.at(AnomalyKind::ViaBroadcast, v.host, "");
                        }
                    }
                    if let Some(r) = v.received() {
                        if crate::uri::host_ip(r).is_none() {
                            s.at(
                                AnomalyKind::BadHeaderValue,
                                r,
                                "Via received is not an IP address",
                            );
                        }
                    }
                }
            }
            first = false;
        }
    }
}

fn addresses(s: &mut Sink<'_, '_>) {
    for (name, label) in [(HeaderName::From, "From"), (HeaderName::To, "To")] {
        let Some(h) = s.msg.header(name) else {
            continue;
        };
        match NameAddr::parse(h.value) {
            Err(e) => s.view(e),
            Ok(n) => {
                empty_params(s, n.params, h.value);
                if let Scheme::Other(sc) = n.uri.scheme {
                    s.at(AnomalyKind::NonSipAddressScheme, sc, label);
                }
                if name == HeaderName::From && s.msg.is_request() && n.tag().is_none() {
                    s.at(AnomalyKind::MissingFromTag, h.value, "");
                }
                if n.uri.has_escaped_nul() {
                    s.at(AnomalyKind::EscapedNulInUri, n.uri.raw, label);
                }
            }
        }
    }
}

fn contacts(s: &mut Sink<'_, '_>) {
    for h in s.msg.headers_named(HeaderName::Contact) {
        for el in ListIter::new(h.value) {
            if el.is_empty() {
                s.at(AnomalyKind::EmptyListElement, el, "Contact");
                continue;
            }
            match Contact::parse(el) {
                Err(e) => s.view(e),
                Ok(Contact::Star) => {}
                Ok(Contact::Addr(n)) => {
                    empty_params(s, n.params, el);
                    if let Some(p) = n.params().get(b"expires") {
                        if let Some(v) = p.value {
                            match lex::parse_decimal(v, u32::MAX as u64) {
                                Ok(_) => {}
                                Err(lex::NumError::TooLarge) => {
                                    s.at(AnomalyKind::ScalarOverflow, v, "Contact expires")
                                }
                                Err(_) => s.at(AnomalyKind::BadHeaderValue, v, "Contact expires"),
                            }
                        }
                    }
                    if let Some(q) = n.params().get(b"q").and_then(|p| p.value) {
                        if views::parse_qvalue(q).is_none() {
                            s.at(AnomalyKind::BadHeaderValue, q, "Contact q");
                        }
                    }
                    if n.uri.has_escaped_nul() {
                        s.at(AnomalyKind::EscapedNulInUri, n.uri.raw, "Contact");
                    }
                }
            }
        }
    }
}

fn routes(s: &mut Sink<'_, '_>) {
    for name in [HeaderName::Route, HeaderName::RecordRoute] {
        for h in s.msg.headers_named(name) {
            for el in ListIter::new(h.value) {
                if el.is_empty() {
                    s.at(AnomalyKind::EmptyListElement, el, "Route");
                    continue;
                }
                match NameAddr::parse(el) {
                    Err(e) => s.view(e),
                    Ok(n) if !n.bracketed => s.at(
                        AnomalyKind::BadNameAddr,
                        el,
                        "Route/Record-Route need <URI>",
                    ),
                    Ok(_) => {}
                }
            }
        }
    }
}

fn misc(s: &mut Sink<'_, '_>) {
    let msg = s.msg;
    for h in msg.headers() {
        match h.name {
            HeaderName::Date if !views::is_sip_date(h.value) => {
                s.at(AnomalyKind::BadDate, h.value, "")
            }
            HeaderName::RetryAfter => {
                let end = h
                    .value
                    .iter()
                    .position(|&b| b == b'(' || b == b';' || lex::is_lws(b))
                    .unwrap_or(h.value.len());
                match lex::parse_decimal(&h.value[..end], u32::MAX as u64) {
                    Ok(_) => {}
                    Err(lex::NumError::TooLarge) => {
                        s.at(AnomalyKind::ScalarOverflow, &h.value[..end], "Retry-After")
                    }
                    Err(_) => s.at(AnomalyKind::BadHeaderValue, h.value, "Retry-After"),
                }
            }
            HeaderName::Warning => {
                for el in ListIter::new(h.value) {
                    if let Err(e) = views::WarningValue::parse(el) {
                        s.view(e);
                    }
                }
            }
            HeaderName::Require | HeaderName::ProxyRequire => {
                for tag in ListIter::new(h.value) {
                    let known = std::str::from_utf8(tag)
                        .map(|t| {
                            views::KNOWN_OPTION_TAGS
                                .iter()
                                .any(|k| k.eq_ignore_ascii_case(t))
                        })
                        .unwrap_or(false);
                    if !known && !tag.is_empty() {
                        s.at(
                            AnomalyKind::UnsupportedExtension,
                            tag,
                            "answer 420 with Unsupported",
                        );
                    }
                }
            }
            HeaderName::ContentType => match MediaType::parse(h.value) {
                Ok(t) if !views::is_known_content_type(&t) => s.at(
                    AnomalyKind::UnknownContentType,
                    h.value,
                    "a UAS answers 415",
                ),
                Ok(_) => {}
                Err(e) => s.view(e),
            },
            HeaderName::Authorization | HeaderName::ProxyAuthorization => {
                match views::AuthHeader::parse(h.value) {
                    Ok(a) if !a.is_digest() => s.at(AnomalyKind::UnknownAuthScheme, a.scheme, ""),
                    Ok(_) => {}
                    Err(e) => s.view(e),
                }
            }
            _ => {}
        }
    }
    // Accept that rules out every type the request needs back (RFC 4475 sdp01).
    if matches!(msg.method(), Some(Method::Invite) | Some(Method::Options)) {
        let accepts: Vec<_> = msg.headers_named(HeaderName::Accept).collect();
        if !accepts.is_empty() && accepts.iter().all(|h| !h.value.is_empty()) {
            let ok = accepts.iter().any(|h| {
                ListIter::new(h.value)
                    .filter_map(|el| MediaType::parse(el).ok())
                    .any(|t| t.matches(b"application", b"sdp"))
            });
            if !ok {
                let h = accepts[0];
                s.at(AnomalyKind::UnacceptableAccept, h.value, "answer 406");
            }
        }
    }
}

fn control_chars(s: &mut Sink<'_, '_>) {
    for h in s.msg.headers() {
        let v = h.value;
        let mut i = 0;
        while i < v.len() {
            match v[i] {
                b'"' => match lex::end_of_quoted(v, i) {
                    Some(e) => {
                        i = e;
                        continue;
                    }
                    None => break,
                },
                b'\t' | b'\r' | b'\n' => {}
                c if c < 0x20 || c == 0x7f => {
                    s.at(AnomalyKind::ControlCharInHeader, &v[i..i + 1], "");
                    break;
                }
                _ => {}
            }
            i += 1;
        }
    }
}

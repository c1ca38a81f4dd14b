//! Typed accessors on [`Message`]: the views a detector reads, parsed on demand.

use crate::header::HeaderName;
use crate::lex::{self, ListIter};
use crate::message::Message;
use crate::views::{AuthHeader, CSeq, Contact, MediaType, NameAddr, Reason, Via, ViewError};

impl<'a> Message<'a> {
    /// Call-ID value.
    pub fn call_id(&self) -> Option<&'a [u8]> {
        self.header_value(HeaderName::CallId)
    }

    /// CSeq.
    pub fn cseq(&self) -> Option<Result<CSeq<'a>, ViewError<'a>>> {
        if let Some(c) = self.cached_cseq() {
            return Some(Ok(c));
        }
        self.header_value(HeaderName::CSeq).map(CSeq::parse)
    }

    /// From.
    pub fn from(&self) -> Option<Result<NameAddr<'a>, ViewError<'a>>> {
        self.header_value(HeaderName::From).map(NameAddr::parse)
    }

    /// To.
    pub fn to(&self) -> Option<Result<NameAddr<'a>, ViewError<'a>>> {
        self.header_value(HeaderName::To).map(NameAddr::parse)
    }

    /// Every Via element, top first, across all Via header fields.
    pub fn vias(&self) -> impl Iterator<Item = Result<Via<'a>, ViewError<'a>>> + '_ {
        self.list(HeaderName::Via).map(Via::parse)
    }

    /// The top Via (the one a response is routed by, and the hop that sent a request).
    pub fn top_via(&self) -> Option<Result<Via<'a>, ViewError<'a>>> {
        let v = self.header_value(HeaderName::Via)?;
        // Most Via fields hold one value: skip the quote-aware split when there is no comma.
        let first = if memchr::memchr(b',', v).is_none() {
            v
        } else {
            ListIter::new(v).next()?
        };
        Some(Via::parse(first))
    }

    /// Every Contact element.
    pub fn contacts(&self) -> impl Iterator<Item = Result<Contact<'a>, ViewError<'a>>> + '_ {
        self.list(HeaderName::Contact).map(Contact::parse)
    }

    /// Route elements in order.
    pub fn routes(&self) -> impl Iterator<Item = Result<NameAddr<'a>, ViewError<'a>>> + '_ {
        self.list(HeaderName::Route).map(NameAddr::parse)
    }

    /// Record-Route elements in order.
    pub fn record_routes(&self) -> impl Iterator<Item = Result<NameAddr<'a>, ViewError<'a>>> + '_ {
        self.list(HeaderName::RecordRoute).map(NameAddr::parse)
    }

    /// Max-Forwards, when present and valid.
    pub fn max_forwards(&self) -> Option<u8> {
        self.header_value(HeaderName::MaxForwards)
            .and_then(|v| lex::parse_decimal(v, 255).ok())
            .map(|v| v as u8)
    }

    /// Expires header, when present and valid.
    pub fn expires(&self) -> Option<u32> {
        self.header_value(HeaderName::Expires)
            .and_then(|v| lex::parse_decimal(v, u32::MAX as u64).ok())
            .map(|v| v as u32)
    }

    /// Content-Type.
    pub fn content_type(&self) -> Option<Result<MediaType<'a>, ViewError<'a>>> {
        self.header_value(HeaderName::ContentType)
            .map(MediaType::parse)
    }

    /// User-Agent value (product tokens and comments as written).
    pub fn user_agent(&self) -> Option<&'a [u8]> {
        self.header_value(HeaderName::UserAgent)
    }

    /// Server value.
    pub fn server(&self) -> Option<&'a [u8]> {
        self.header_value(HeaderName::Server)
    }

    /// Allow tokens (methods).
    pub fn allow(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.list(HeaderName::Allow).filter(|t| !t.is_empty())
    }

    /// Supported option tags.
    pub fn supported(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.list(HeaderName::Supported).filter(|t| !t.is_empty())
    }

    /// Require option tags.
    pub fn require(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.list(HeaderName::Require).filter(|t| !t.is_empty())
    }

    /// Proxy-Require option tags.
    pub fn proxy_require(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.list(HeaderName::ProxyRequire)
            .filter(|t| !t.is_empty())
    }

    /// Reason elements.
    pub fn reasons(&self) -> impl Iterator<Item = Result<Reason<'a>, ViewError<'a>>> + '_ {
        self.list(HeaderName::Reason).map(Reason::parse)
    }

    /// WWW-Authenticate challenges (one per header field).
    pub fn www_authenticate(
        &self,
    ) -> impl Iterator<Item = Result<AuthHeader<'a>, ViewError<'a>>> + '_ {
        self.headers_named(HeaderName::WwwAuthenticate)
            .map(|h| AuthHeader::parse(h.value))
    }

    /// Proxy-Authenticate challenges.
    pub fn proxy_authenticate(
        &self,
    ) -> impl Iterator<Item = Result<AuthHeader<'a>, ViewError<'a>>> + '_ {
        self.headers_named(HeaderName::ProxyAuthenticate)
            .map(|h| AuthHeader::parse(h.value))
    }

    /// Authorization credentials (first field).
    pub fn authorization(&self) -> Option<Result<AuthHeader<'a>, ViewError<'a>>> {
        self.header_value(HeaderName::Authorization)
            .map(AuthHeader::parse)
    }

    /// Proxy-Authorization credentials (first field).
    pub fn proxy_authorization(&self) -> Option<Result<AuthHeader<'a>, ViewError<'a>>> {
        self.header_value(HeaderName::ProxyAuthorization)
            .map(AuthHeader::parse)
    }
}

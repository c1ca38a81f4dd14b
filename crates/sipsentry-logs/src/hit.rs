//! What a message parser found, before the envelope's timestamp and service are attached.

use crate::event::{LogEventKind, Rejection, Transport};
use std::net::IpAddr;

pub(crate) struct Hit<'a> {
    pub kind: LogEventKind,
    pub reason: &'static str,
    pub ip: IpAddr,
    pub port: Option<u16>,
    /// Address text inside the line (for `source_span`).
    pub addr: &'a [u8],
    pub user: Option<&'a [u8]>,
    pub transport: Option<Transport>,
}

pub(crate) type MsgResult<'a> = Result<Hit<'a>, Rejection>;

/// Address candidates found at several places in a line whose attacker-controlled fields sit on
/// both sides of the real address. The source is accepted only when every candidate names the
/// same IP; the port is kept only when they agree on it too.
/// (ip, port, address text, transport)
pub(crate) type Candidate<'a> = (IpAddr, Option<u16>, &'a [u8], Option<Transport>);

pub(crate) struct Candidates<'a> {
    first: Option<Candidate<'a>>,
    port_agrees: bool,
    ip_agrees: bool,
    pub last_index: usize,
}

impl<'a> Candidates<'a> {
    pub(crate) fn new() -> Self {
        Self {
            first: None,
            port_agrees: true,
            ip_agrees: true,
            last_index: 0,
        }
    }

    pub(crate) fn push(
        &mut self,
        ip: IpAddr,
        port: Option<u16>,
        addr: &'a [u8],
        t: Option<Transport>,
        index: usize,
    ) {
        self.last_index = index;
        match &self.first {
            None => self.first = Some((ip, port, addr, t)),
            Some((fip, fport, _, _)) => {
                if *fip != ip {
                    self.ip_agrees = false;
                }
                if *fport != port {
                    self.port_agrees = false;
                }
            }
        }
    }

    /// The agreed address, [`Rejection::AmbiguousSource`] on disagreement, `none` when empty.
    pub(crate) fn resolve(self, none: Rejection) -> Result<Candidate<'a>, Rejection> {
        let (ip, port, addr, t) = self.first.ok_or(none)?;
        if !self.ip_agrees {
            return Err(Rejection::AmbiguousSource);
        }
        Ok((ip, if self.port_agrees { port } else { None }, addr, t))
    }
}

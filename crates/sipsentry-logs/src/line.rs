//! Stateless single-line parsing: envelope detection, then the service's message parser.

use crate::event::{
    Format, LineContext, LogEvent, Rejection, MAX_LINE_LEN, SERVICE_3CX, SERVICE_ASTERISK,
    SERVICE_FREESWITCH, SERVICE_KAMAILIO,
};
use crate::hit::MsgResult;
use crate::scan::{span_of, trim_eol};
use crate::syslog::{self, Hint};
use crate::time::Stamp;
use crate::{asterisk, freeswitch, kamailio, threecx};

/// Which services a context allows.
#[derive(Clone, Copy)]
pub(crate) struct Allow {
    pub asterisk: bool,
    pub freeswitch: bool,
    pub threecx: bool,
    pub kamailio: bool,
}

impl Allow {
    pub(crate) fn from_ctx(ctx: &LineContext) -> Allow {
        let s = ctx.format.and_then(Format::service);
        let on = |name: &str| s.is_none_or(|x| x == name);
        Allow {
            asterisk: on(SERVICE_ASTERISK),
            freeswitch: on(SERVICE_FREESWITCH),
            threecx: on(SERVICE_3CX),
            kamailio: on(SERVICE_KAMAILIO),
        }
    }

    fn with_hint(mut self, hint: Hint) -> Allow {
        match hint {
            Hint::Any => {}
            Hint::Asterisk => {
                self.freeswitch = false;
                self.kamailio = false;
                self.threecx = false;
            }
            Hint::FreeSwitch => {
                self.asterisk = false;
                self.kamailio = false;
                self.threecx = false;
            }
            Hint::Kamailio => {
                self.asterisk = false;
                self.freeswitch = false;
                self.threecx = false;
            }
        }
        self
    }
}

fn build<'a>(
    line: &'a [u8],
    msg: &'a [u8],
    res: MsgResult<'a>,
    ts: Option<i64>,
    service: &'static str,
) -> Result<LogEvent<'a>, Rejection> {
    let h = res?;
    Ok(LogEvent {
        ts,
        source: h.ip,
        source_port: h.port,
        kind: h.kind,
        reason: h.reason,
        user: h.user,
        service,
        transport: h.transport,
        raw_span: span_of(line, msg),
        source_span: span_of(line, h.addr),
    })
}

fn resolve(outer: Option<i64>, inner: Option<Stamp>, ctx: &LineContext) -> Option<i64> {
    outer.or_else(|| inner.and_then(|s| s.resolve(ctx)))
}

/// Try the formats whose lines start with their own timestamp or level. `None`: no envelope.
fn try_body<'a>(
    line: &'a [u8],
    s: &'a [u8],
    outer_ts: Option<i64>,
    ctx: &LineContext,
    allow: Allow,
) -> Option<Result<LogEvent<'a>, Rejection>> {
    if allow.asterisk {
        let env = if s.starts_with(b"[") {
            asterisk::bracketed(s)
        } else {
            asterisk::header(s)
        };
        if let Some(env) = env {
            let ts = resolve(outer_ts, env.ts, ctx);
            let (res, msg) = asterisk::message(line, &env);
            return Some(build(line, msg, res, ts, SERVICE_ASTERISK));
        }
    }
    if allow.freeswitch {
        if let Some(env) = freeswitch::envelope(s) {
            let ts = resolve(outer_ts, Some(env.ts), ctx);
            let res = freeswitch::message(env.msg);
            return Some(build(line, env.msg, res, ts, SERVICE_FREESWITCH));
        }
    }
    if allow.threecx {
        if let Some(env) = threecx::envelope(s) {
            let ts = resolve(outer_ts, Some(env.ts), ctx);
            let res = threecx::message(env.msg);
            return Some(build(line, env.msg, res, ts, SERVICE_3CX));
        }
    }
    if allow.kamailio {
        if let Some(msg) = kamailio::envelope(s) {
            let res = kamailio::message(msg);
            return Some(build(line, msg, res, outer_ts, SERVICE_KAMAILIO));
        }
    }
    None
}

/// Parse one log line into a security event, or say why not. See the crate docs for the rules.
pub fn parse_line_detailed<'a>(
    line: &'a [u8],
    ctx: &LineContext,
) -> Result<LogEvent<'a>, Rejection> {
    let line = trim_eol(line);
    if line.len() > MAX_LINE_LEN {
        return Err(Rejection::TooLong);
    }
    if line.iter().all(u8::is_ascii_whitespace) {
        return Err(Rejection::Empty);
    }
    let allow = Allow::from_ctx(ctx);
    let s = syslog::strip_pri(line);
    // 1. Native formats and bare bodies (Asterisk journal body, Kamailio stderr).
    if let Some(r) = try_body(line, s, None, ctx, allow) {
        return r;
    }
    // 2. Dated syslog header, then the program's own format.
    if let Some(h) = syslog::parse_dated(s) {
        let ts = h.ts.and_then(|st| st.resolve(ctx));
        let allow = allow.with_hint(Hint::from_prog(h.prog));
        return try_body(line, h.body, ts, ctx, allow).unwrap_or(Err(Rejection::NotRecognised));
    }
    // 3. Journal prefix without date: `host prog[pid]: body`.
    if let Some(h) = syslog::parse_dateless(s) {
        let allow = allow.with_hint(Hint::from_prog(h.prog));
        return try_body(line, h.body, None, ctx, allow).unwrap_or(Err(Rejection::NotRecognised));
    }
    Err(Rejection::NotRecognised)
}

/// [`parse_line_detailed`] without the reason.
pub fn parse_line<'a>(line: &'a [u8], ctx: &LineContext) -> Option<LogEvent<'a>> {
    parse_line_detailed(line, ctx).ok()
}

/// Which format a single line is written in (envelope only, message not inspected).
pub(crate) fn classify(line: &[u8]) -> Option<Format> {
    let s = syslog::strip_pri(trim_eol(line));
    if s.len() > MAX_LINE_LEN {
        return None;
    }
    let native = |s: &[u8], syslog: bool| -> Option<Format> {
        let ast = if s.starts_with(b"[") {
            asterisk::bracketed(s)
        } else {
            asterisk::header(s)
        };
        if let Some(env) = ast {
            return Some(if syslog {
                Format::AsteriskSyslog
            } else if env.level == b"SECURITY" {
                Format::AsteriskSecurity
            } else {
                Format::AsteriskFull
            });
        }
        if freeswitch::envelope(s).is_some() {
            return Some(if syslog {
                Format::FreeSwitchSyslog
            } else {
                Format::FreeSwitch
            });
        }
        if threecx::envelope(s).is_some() {
            return Some(Format::ThreeCx);
        }
        if kamailio::envelope(s).is_some() {
            return Some(Format::Kamailio);
        }
        None
    };
    if let Some(f) = native(s, false) {
        return Some(f);
    }
    let h = syslog::parse_dated(s).or_else(|| syslog::parse_dateless(s))?;
    match Hint::from_prog(h.prog) {
        Hint::Asterisk => Some(Format::AsteriskSyslog),
        Hint::FreeSwitch => Some(Format::FreeSwitchSyslog),
        Hint::Kamailio => Some(Format::Kamailio),
        Hint::Any => native(h.body, true),
    }
}

//! What happened in a capture, aggregated with bounded memory: counts by method and status,
//! registrations per extension with outcome, calls with outcome and duration, top talkers,
//! anomalies by kind.
//!
//! Every map has a cap. Past it, new keys are counted as "untracked" rather than stored, so a
//! capture ten times larger (or a flood from a million spoofed sources) costs the same memory.

use crate::event::SipEvent;
use rustc_hash::FxHashMap as HashMap;
use sipsentry_sip::{HeaderName, Message, Method};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Caps for [`Summary`].
#[derive(Clone, Copy, Debug)]
pub struct SummaryLimits {
    /// Distinct source/destination addresses counted individually.
    pub max_hosts: usize,
    /// Distinct extensions with registration statistics.
    pub max_extensions: usize,
    /// Calls tracked concurrently (unfinished dialogs).
    pub max_open_calls: usize,
    /// Calls listed individually in the report (the rest only in aggregates).
    pub max_listed_calls: usize,
}

impl Default for SummaryLimits {
    fn default() -> Self {
        SummaryLimits {
            max_hosts: 100_000,
            max_extensions: 100_000,
            max_open_calls: 100_000,
            max_listed_calls: 1_000,
        }
    }
}

/// Registration statistics for one extension (the To user of REGISTER).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Registration {
    /// REGISTER requests seen.
    pub requests: u64,
    /// 2xx answers.
    pub ok: u64,
    /// 401/407 answers (a challenge; normal once per registration).
    pub challenged: u64,
    /// 403 answers (credentials refused).
    pub forbidden: u64,
    /// 404 answers (no such user — the leak enumeration tools look for).
    pub not_found: u64,
    /// Other final failures (≥ 300).
    pub other_failures: u64,
    /// Last final status.
    pub last_status: Option<u16>,
    /// Distinct source addresses of the REGISTERs (up to 8 kept).
    pub sources: Vec<IpAddr>,
}

impl Registration {
    /// Outcome in one word: `registered` once any REGISTER succeeded (later failures, e.g. an
    /// attacker probing the same extension, are in the counters), else the last final answer.
    pub fn outcome(&self) -> &'static str {
        if self.ok > 0 {
            return "registered";
        }
        match self.last_status {
            Some(200..=299) => "registered",
            Some(401) | Some(407) => "challenged",
            Some(403) => "forbidden",
            Some(404) => "not-found",
            Some(_) => "failed",
            None => "no-answer",
        }
    }
}

/// How a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CallOutcome {
    /// Answered (2xx); ended by BYE or still up at the end of the capture.
    Answered,
    /// Cancelled by the caller before an answer.
    Cancelled,
    /// Final failure response (the code).
    Failed(u16),
    /// Challenged for credentials (401/407) and never retried with them within the INVITE
    /// transaction timeout: an unauthenticated call attempt.
    Challenged,
    /// No final answer seen.
    NoAnswer,
}

impl CallOutcome {
    /// Short label.
    pub fn label(&self) -> String {
        match self {
            CallOutcome::Answered => "answered".into(),
            CallOutcome::Cancelled => "cancelled".into(),
            CallOutcome::Failed(c) => format!("failed-{c}"),
            CallOutcome::Challenged => "challenged".into(),
            CallOutcome::NoAnswer => "no-answer".into(),
        }
    }
}

/// One call (INVITE dialog), keyed by Call-ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// Call-ID (lossy UTF-8).
    pub call_id: String,
    /// Caller: From user.
    pub from_user: String,
    /// Callee: To user (or Request-URI user).
    pub to_user: String,
    /// Transport source of the first INVITE.
    pub src: IpAddr,
    /// Time of the first INVITE (ns).
    pub start_ns: i64,
    /// Time of the first 2xx (ns).
    pub answered_ns: Option<i64>,
    /// Time of the BYE (ns).
    pub ended_ns: Option<i64>,
    /// Final INVITE status seen.
    pub final_status: Option<u16>,
    /// CANCEL seen.
    pub cancelled: bool,
    /// A 401/407 answered an INVITE of this call.
    pub challenged: bool,
    /// Last packet time anything happened in this call (ns).
    pub last_ns: i64,
}

impl Call {
    /// Outcome.
    pub fn outcome(&self) -> CallOutcome {
        match self.final_status {
            Some(200..=299) => CallOutcome::Answered,
            Some(487) if self.cancelled => CallOutcome::Cancelled,
            Some(c) if c >= 300 => CallOutcome::Failed(c),
            _ if self.cancelled => CallOutcome::Cancelled,
            _ if self.challenged => CallOutcome::Challenged,
            _ => CallOutcome::NoAnswer,
        }
    }

    /// Talk time: answer to BYE.
    pub fn duration_ns(&self) -> Option<i64> {
        match (self.answered_ns, self.ended_ns) {
            (Some(a), Some(e)) if e >= a => Some(e - a),
            _ => None,
        }
    }

    fn finished(&self) -> bool {
        self.ended_ns.is_some() || self.final_status.is_some_and(|s| s >= 300)
    }
}

/// Bounded aggregate of a stream of SIP events.
#[derive(Debug, Default)]
pub struct Summary {
    limits: SummaryLimits,
    /// Messages seen.
    pub messages: u64,
    methods: HashMap<Vec<u8>, u64>,
    statuses: HashMap<u16, u64>,
    /// Messages by transport.
    pub by_transport: BTreeMap<&'static str, u64>,
    /// Anomalies by kind id.
    pub anomalies_by_kind: BTreeMap<&'static str, u64>,
    /// First and last packet time.
    pub first_ns: Option<i64>,
    /// See `first_ns`.
    pub last_ns: Option<i64>,
    sources: HashMap<IpAddr, u64>,
    destinations: HashMap<IpAddr, u64>,
    /// Messages whose source/destination did not fit in the host maps.
    pub untracked_host_messages: u64,
    registrations: HashMap<Vec<u8>, Registration>,
    /// REGISTERs for extensions beyond the cap.
    pub untracked_registrations: u64,
    open_calls: HashMap<Vec<u8>, Call>,
    /// Calls listed individually (the first `max_listed_calls` to finish or to be open at the end).
    pub calls: Vec<Call>,
    /// Calls by outcome label, over every call.
    pub call_outcomes: BTreeMap<String, u64>,
    /// Sum of talk time over calls with a known duration (ns), and how many.
    pub talk_time_ns: (i64, u64),
    /// INVITEs that could not be tracked (open-call cap).
    pub untracked_calls: u64,
}

fn user_of<'a>(m: &Message<'a>, to: bool) -> Option<Cow<'a, [u8]>> {
    let na = if to { m.to() } else { m.from() };
    na.and_then(|r| r.ok())
        .and_then(|n| n.uri.user)
        .map(sipsentry_sip::lex::percent_decode)
}

fn lossy(b: Option<Cow<'_, [u8]>>) -> String {
    b.map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

impl Summary {
    /// An empty summary with the given caps.
    pub fn new(limits: SummaryLimits) -> Self {
        Summary {
            limits,
            ..Default::default()
        }
    }

    /// Adds one event and its parsed message.
    pub fn add(&mut self, ev: &SipEvent<'_>, m: &Message<'_>) {
        self.messages += 1;
        if self.messages % 4096 == 0 {
            self.expire(ev.ts_nanos);
        }
        self.first_ns = Some(self.first_ns.map_or(ev.ts_nanos, |f| f.min(ev.ts_nanos)));
        self.last_ns = Some(self.last_ns.map_or(ev.ts_nanos, |l| l.max(ev.ts_nanos)));
        *self.by_transport.entry(ev.transport.as_str()).or_default() += 1;
        for a in m.anomalies() {
            *self.anomalies_by_kind.entry(a.kind.id()).or_default() += 1;
        }
        let cap = self.limits.max_hosts;
        let mut tracked = bump(&mut self.sources, ev.src.ip(), cap);
        tracked &= bump(&mut self.destinations, ev.dst.ip(), cap);
        if !tracked {
            self.untracked_host_messages += 1;
        }
        let cseq_method = m.cseq().and_then(|r| r.ok()).map(|c| c.method);
        if let Some(method) = m.method() {
            let name = method.as_bytes();
            let distinct = self.methods.len();
            match self.methods.get_mut(name) {
                Some(c) => *c += 1,
                // Bounded: methods are attacker-chosen tokens.
                None if distinct < 256 => {
                    self.methods.insert(name.to_vec(), 1);
                }
                None => *self.methods.entry(b"(other)".to_vec()).or_default() += 1,
            }
            match method {
                Method::Register => {
                    let ext = user_of(m, true).unwrap_or_default();
                    if let Some(r) = self.registration(&ext) {
                        r.requests += 1;
                        let ip = ev.src.ip();
                        if r.sources.len() < 8 && !r.sources.contains(&ip) {
                            r.sources.push(ip);
                        }
                    }
                }
                Method::Invite => self.on_invite(ev, m),
                Method::Bye | Method::Cancel => {
                    if let Some(c) = m.call_id().and_then(|id| self.open_calls.get_mut(id)) {
                        c.last_ns = ev.ts_nanos;
                        if method == Method::Bye {
                            c.ended_ns.get_or_insert(ev.ts_nanos);
                        } else {
                            c.cancelled = true;
                        }
                    }
                    if method == Method::Bye {
                        self.maybe_finish(m.call_id());
                    }
                }
                _ => {}
            }
        } else if let Some(code) = m.status() {
            *self.statuses.entry(code).or_default() += 1;
            match cseq_method {
                Some(b"REGISTER") if code >= 200 => {
                    let ext = user_of(m, true).unwrap_or_default();
                    if let Some(r) = self.registration(&ext) {
                        r.last_status = Some(code);
                        match code {
                            200..=299 => r.ok += 1,
                            401 | 407 => r.challenged += 1,
                            403 => r.forbidden += 1,
                            404 => r.not_found += 1,
                            300.. => r.other_failures += 1,
                            _ => {}
                        }
                    }
                }
                Some(b"INVITE") if code >= 200 => {
                    if let Some(c) = m.call_id().and_then(|id| self.open_calls.get_mut(id)) {
                        c.last_ns = ev.ts_nanos;
                        if matches!(code, 401 | 407) {
                            c.challenged = true;
                        }
                        if (200..300).contains(&code) {
                            c.answered_ns.get_or_insert(ev.ts_nanos);
                            c.final_status = Some(code);
                        } else if c.final_status.is_none_or(|s| s >= 300)
                            && !matches!(code, 401 | 407)
                        {
                            c.final_status = Some(code);
                        }
                    }
                    self.maybe_finish(m.call_id());
                }
                _ => {}
            }
        }
    }

    fn registration(&mut self, ext: &[u8]) -> Option<&mut Registration> {
        if !self.registrations.contains_key(ext) {
            if self.registrations.len() >= self.limits.max_extensions {
                self.untracked_registrations += 1;
                return None;
            }
            self.registrations
                .insert(ext.to_vec(), Registration::default());
        }
        self.registrations.get_mut(ext)
    }

    /// Requests by method, sorted by method.
    pub fn requests_by_method(&self) -> BTreeMap<String, u64> {
        self.methods
            .iter()
            .map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), *v))
            .collect()
    }

    /// Responses by status code.
    pub fn responses_by_status(&self) -> BTreeMap<u16, u64> {
        self.statuses.iter().map(|(k, v)| (*k, *v)).collect()
    }

    /// Registrations per extension, sorted by extension.
    pub fn registrations(&self) -> Vec<(String, &Registration)> {
        let mut v: Vec<(String, &Registration)> = self
            .registrations
            .iter()
            .map(|(k, r)| (String::from_utf8_lossy(k).into_owned(), r))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    fn on_invite(&mut self, ev: &SipEvent<'_>, m: &Message<'_>) {
        let Some(id) = m.call_id() else { return };
        // Re-INVITEs and authenticated retries share the Call-ID: one call.
        if let Some(c) = self.open_calls.get_mut(id) {
            c.last_ns = ev.ts_nanos;
            return;
        }
        if self.open_calls.len() >= self.limits.max_open_calls {
            self.untracked_calls += 1;
            return;
        }
        let mut to_user = lossy(user_of(m, true));
        if to_user.is_empty() {
            if let Some(Ok(u)) = m.request_uri() {
                to_user = u
                    .user
                    .map(|u| String::from_utf8_lossy(u).into_owned())
                    .unwrap_or_default();
            }
        }
        self.open_calls.insert(
            id.to_vec(),
            Call {
                call_id: String::from_utf8_lossy(id).into_owned(),
                from_user: lossy(user_of(m, false)),
                to_user,
                src: ev.src.ip(),
                start_ns: ev.ts_nanos,
                answered_ns: None,
                ended_ns: None,
                final_status: None,
                cancelled: false,
                challenged: false,
                last_ns: ev.ts_nanos,
            },
        );
    }

    /// Finishes calls that can no longer change: unanswered ones idle for longer than the INVITE
    /// transaction timeout (64·T1 = 32 s), answered ones idle for [`ANSWERED_IDLE_NS`]. This is
    /// what keeps memory flat on long captures full of challenged attempts.
    fn expire(&mut self, now: i64) {
        let mut done: Vec<Vec<u8>> = Vec::new();
        for (id, c) in &self.open_calls {
            let idle = if c.answered_ns.is_some() {
                ANSWERED_IDLE_NS
            } else {
                UNANSWERED_IDLE_NS
            };
            if now.saturating_sub(c.last_ns) > idle {
                done.push(id.clone());
            }
        }
        done.sort();
        for id in done {
            if let Some(c) = self.open_calls.remove(&id) {
                self.record_call(c);
            }
        }
    }

    fn maybe_finish(&mut self, id: Option<&[u8]>) {
        let Some(id) = id else { return };
        if self.open_calls.get(id).is_some_and(Call::finished) {
            if let Some(c) = self.open_calls.remove(id) {
                self.record_call(c);
            }
        }
    }

    fn record_call(&mut self, c: Call) {
        *self.call_outcomes.entry(c.outcome().label()).or_default() += 1;
        if let Some(d) = c.duration_ns() {
            self.talk_time_ns.0 += d;
            self.talk_time_ns.1 += 1;
        }
        if self.calls.len() < self.limits.max_listed_calls {
            self.calls.push(c);
        }
    }

    /// Closes the summary at the end of input: open calls are recorded with what is known.
    pub fn finish(&mut self) {
        let mut open: Vec<Call> = self.open_calls.drain().map(|(_, c)| c).collect();
        open.sort_by(|a, b| (a.start_ns, &a.call_id).cmp(&(b.start_ns, &b.call_id)));
        for c in open {
            self.record_call(c);
        }
        self.calls
            .sort_by(|a, b| (a.start_ns, &a.call_id).cmp(&(b.start_ns, &b.call_id)));
    }

    /// The `n` busiest sources, busiest first (ties by address, for determinism).
    pub fn top_sources(&self, n: usize) -> Vec<(IpAddr, u64)> {
        top(&self.sources, n)
    }

    /// The `n` busiest destinations.
    pub fn top_destinations(&self, n: usize) -> Vec<(IpAddr, u64)> {
        top(&self.destinations, n)
    }

    /// Approximate number of heap entries held (for memory tests).
    pub fn tracked_entries(&self) -> usize {
        self.sources.len()
            + self.destinations.len()
            + self.registrations.len()
            + self.open_calls.len()
            + self.calls.len()
    }
}

/// An unanswered INVITE is over once its transaction times out (RFC 3261 Timer B, 64·T1).
pub const UNANSWERED_IDLE_NS: i64 = 32_000_000_000;
/// An answered call with no BYE and no re-INVITE for this long is closed (4 h).
pub const ANSWERED_IDLE_NS: i64 = 4 * 3600 * 1_000_000_000;

fn bump(map: &mut HashMap<IpAddr, u64>, ip: IpAddr, cap: usize) -> bool {
    if let Some(c) = map.get_mut(&ip) {
        *c += 1;
        true
    } else if map.len() < cap {
        map.insert(ip, 1);
        true
    } else {
        false
    }
}

fn top(map: &HashMap<IpAddr, u64>, n: usize) -> Vec<(IpAddr, u64)> {
    let mut v: Vec<(IpAddr, u64)> = map.iter().map(|(k, v)| (*k, *v)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

/// Whether a header is present (helper for consumers deciding whether a request is initial).
pub fn has_to_tag(m: &Message<'_>) -> bool {
    m.header(HeaderName::To).is_some()
        && m.to()
            .and_then(|r| r.ok())
            .is_some_and(|t| t.tag().is_some())
}

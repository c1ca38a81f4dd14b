//! The detection engine: SIP events in (with packet time), alerts out.
//!
//! Pure and deterministic: no clock (time is the packet's), no I/O, and every map has a cap, so a
//! flood from a million spoofed sources costs bounded memory. Requests and their responses are
//! paired by (Call-ID, CSeq) because what makes a 401 a *failure* is the request it answers: the
//! first challenge of a legitimate client (no credentials sent) is not one.

use crate::alert::{Action, Alert, AlertId, Severity};
use crate::short::Short;
use rustc_hash::{FxHashMap, FxHashSet, FxHasher};
use sipsentry_ingest::SipEvent;
use sipsentry_sip::{HeaderName, Message, Method};
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};

/// Thresholds. Defaults and their equivalents in fail2ban / CrowdSec / Kamailio are in
/// `docs/detectors.md`.
#[derive(Clone, Copy, Debug)]
pub struct Thresholds {
    /// AUTH-BRUTEFORCE: failures from one source within `auth_fail_window_s`.
    pub auth_fail_max: u32,
    /// AUTH-BRUTEFORCE window.
    pub auth_fail_window_s: u32,
    /// AUTH-SUCCESS-AFTER-FAILURES: failures before a success that make it suspicious.
    pub success_after_failures: u32,
    /// SIP-ENUMERATION: distinct users probed from one source within the window.
    pub enum_distinct_users: u32,
    /// SIP-ENUMERATION window.
    pub enum_window_s: u32,
    /// SIP-FLOOD: requests from one source within `flood_window_s`.
    pub flood_requests: u32,
    /// SIP-FLOOD window.
    pub flood_window_s: u32,
    /// AUTH-DISTRIBUTED: distinct sources failing against one extension within `auth_fail_window_s`.
    pub distributed_sources: u32,
    /// SIP-MALFORMED: messages RFC 3261 must reject from one source.
    pub malformed_max: u32,
    /// Suggested ban for blocking alerts.
    pub ban_secs: u32,
    /// Most sources with state at once.
    pub max_sources: usize,
    /// Most open request/response pairs tracked.
    pub max_transactions: usize,
    /// SIP-FLOOD (global): requests of one method in 10 s that count as a surge when they are also
    /// `surge_factor` times the usual rate (learnt over the previous windows).
    pub surge_floor: u32,
    /// See `surge_floor`.
    pub surge_factor: u32,
    /// Most distinct alerts kept; past it new ones are only counted (see
    /// [`Engine::suppressed`]), so a flood from a million spoofed sources cannot exhaust memory.
    pub max_alerts: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            auth_fail_max: 5,
            auth_fail_window_s: 600,
            success_after_failures: 5,
            enum_distinct_users: 10,
            enum_window_s: 600,
            flood_requests: 60,
            flood_window_s: 2,
            distributed_sources: 5,
            malformed_max: 10,
            ban_secs: 3600,
            max_sources: 100_000,
            max_transactions: 200_000,
            max_alerts: 20_000,
            surge_floor: 500,
            surge_factor: 10,
        }
    }
}

const NS: i64 = 1_000_000_000;
/// RFC 3261 Timer B/F: a transaction is over after 64·T1.
const TX_TIMEOUT_NS: i64 = 32 * NS;

/// User-Agent fragments of attack tools: an alert on their own.
const ATTACK_TOOLS: &[&str] = &[
    "friendly-scanner",
    "sipvicious",
    "sipcli",
    "pplsip",
    "vaxsipuseragent",
    "sundayddr",
    "smap",
    "nmap",
    "sippts",
    "iwar",
    "sipscan",
    "sip-scan",
    "sivus",
    "voiper",
    "cpxxx",
    "fpbx-scan",
];
/// Test tools legitimately used by admins: they raise other alerts' severity, never alone.
const TEST_TOOLS: &[&str] = &["sipsak", "sipp", "baresip-test"];

fn tool_signature(ua: &[u8]) -> Option<(&'static str, bool)> {
    let lower: Vec<u8> = ua.iter().take(256).map(u8::to_ascii_lowercase).collect();
    let has = |s: &str| memfind(&lower, s.as_bytes());
    ATTACK_TOOLS
        .iter()
        .find(|t| has(t))
        .map(|t| (*t, true))
        .or_else(|| TEST_TOOLS.iter().find(|t| has(t)).map(|t| (*t, false)))
}

/// Header shapes of scanners that hide their User-Agent: SIPVicious puts its name in From, and
/// svmap/svwar address From/To at the placeholder host 1.1.1.1 (a score raiser only: a few real
/// devices use odd placeholders too).
fn shape_signature(m: &Message<'_>) -> Option<(&'static str, bool)> {
    let from = m.from().and_then(|r| r.ok())?;
    let name = from.display_raw.unwrap_or(b"");
    let user = from.uri.user.unwrap_or(b"");
    for v in [name, user] {
        if let Some(hit) = tool_signature(v) {
            return Some(hit);
        }
    }
    if from.uri.host == b"1.1.1.1"
        && m.to()
            .and_then(|r| r.ok())
            .is_some_and(|t| t.uri.host == b"1.1.1.1")
    {
        return Some(("from/to at 1.1.1.1 (svmap/svwar shape)", false));
    }
    if from.tag().is_some_and(sipvicious_tag) {
        return Some(("sipvicious From-tag shape", false));
    }
    let branch = m.top_via().and_then(|r| r.ok()).and_then(|v| v.branch());
    if m.call_id().is_some_and(sipvicious_call_id) && branch.is_some_and(sipvicious_branch) {
        return Some(("sipvicious Call-ID/branch shape", false));
    }
    None
}

/// SIPVicious builds its From tag as the hex encoding of `<extension> 0x01 <random digits>`:
/// decoded, it is digits, one 0x01, digits. No UA we know hex-encodes a control byte in a tag,
/// and the shape survives `--useragent` changes.
fn sipvicious_tag(tag: &[u8]) -> bool {
    if tag.len() < 6 || tag.len() > 128 || tag.len() % 2 != 0 {
        return false;
    }
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut separators = 0;
    for pair in tag.chunks_exact(2) {
        let (Some(hi), Some(lo)) = (hex(pair[0]), hex(pair[1])) else {
            return false;
        };
        match hi << 4 | lo {
            0x01 => separators += 1,
            // svmap puts a hex-looking random token before the separator, svwar the extension.
            b if b.is_ascii_alphanumeric() => {}
            _ => return false,
        }
    }
    separators == 1
}

/// SIPVicious Call-IDs are bare decimal numbers (32- or 80-bit randoms), with no `@host`, which
/// RFC 3261 §8.1.1.4 recommends and real phones send. Only a score raiser, and only together
/// with [`sipvicious_branch`]: a bare number alone is too common among cheap devices.
fn sipvicious_call_id(id: &[u8]) -> bool {
    (8..=25).contains(&id.len()) && id.iter().all(u8::is_ascii_digit)
}

/// `z9hG4bK-` followed only by decimal digits: SIPVicious' branch; stacks use hex or base64-ish
/// random tokens.
fn sipvicious_branch(b: &[u8]) -> bool {
    b.strip_prefix(b"z9hG4bK-")
        .is_some_and(|r| !r.is_empty() && r.len() <= 20 && r.iter().all(u8::is_ascii_digit))
}

fn memfind(h: &[u8], n: &[u8]) -> bool {
    n.len() <= h.len() && h.windows(n.len()).any(|w| w == n)
}

#[derive(Default)]
struct Source {
    last_ns: i64,
    port: u16,
    fail_times: VecDeque<i64>,
    fail_total: u32,
    fail_targets: Vec<String>,
    flood_start: i64,
    flood_count: u32,
    enum_start: i64,
    not_found: FxHashSet<u64>,
    challenged: FxHashMap<u64, (i64, String)>,
    resolved: FxHashSet<u64>,
    enum_examples: Vec<String>,
    tool: Option<(&'static str, bool)>,
    /// Hash of the last User-Agent checked against the tool list, and requests seen, so a
    /// legitimate source's requests are not all re-scanned for signatures.
    ua_checked: u64,
    requests: u32,
    malformed: u32,
    /// Failures per target user (a guessed password shows as many failures for *one* account,
    /// then success; a human trying several accounts does not).
    /// Per account: (start of the current window, failures in it).
    fail_by_user: FxHashMap<u64, (i64, u32)>,
}

const SURGE_WINDOW_NS: i64 = 10 * NS;
const SURGE_METHODS: [&str; 5] = ["INVITE", "REGISTER", "OPTIONS", "SUBSCRIBE", "other"];

/// Global per-method request rate, in 10 s windows, against an EWMA baseline.
#[derive(Default)]
struct Surge {
    start: i64,
    counts: [u32; 5],
    top: [FxHashMap<IpAddr, u32>; 5],
    baseline: [f64; 5],
    windows: u32,
    alerted: [bool; 5],
}

impl Surge {
    fn index(m: Method<'_>) -> usize {
        match m {
            Method::Invite => 0,
            Method::Register => 1,
            Method::Options => 2,
            Method::Subscribe => 3,
            _ => 4,
        }
    }

    /// Counts a request; returns a surge to report when a window closes.
    fn add(
        &mut self,
        m: Method<'_>,
        src: IpAddr,
        now: i64,
        t: &Thresholds,
    ) -> Vec<(usize, u32, f64, IpAddr)> {
        let mut out = vec![];
        if self.start == 0 || now - self.start >= SURGE_WINDOW_NS {
            if self.start != 0 {
                for i in 0..5 {
                    let c = self.counts[i];
                    let base = self.baseline[i];
                    let surge = self.windows >= 6
                        && c >= t.surge_floor
                        && f64::from(c) >= f64::from(t.surge_factor) * base.max(1.0);
                    if surge && !self.alerted[i] {
                        let top = self.top[i]
                            .iter()
                            .max_by_key(|(a, n)| (**n, std::cmp::Reverse(**a)))
                            .map(|(a, _)| *a)
                            .unwrap_or(src);
                        out.push((i, c, base, top));
                        self.alerted[i] = true;
                    }
                    if !surge {
                        // Learn only from normal windows, so a long attack does not become normal.
                        self.baseline[i] = if self.windows == 0 {
                            f64::from(c)
                        } else {
                            0.8 * base + 0.2 * f64::from(c)
                        };
                        self.alerted[i] = false;
                    }
                    self.counts[i] = 0;
                    self.top[i].clear();
                }
                self.windows += 1;
            }
            self.start = now;
        }
        let i = Self::index(m);
        self.counts[i] += 1;
        if self.top[i].len() < 4096 || self.top[i].contains_key(&src) {
            *self.top[i].entry(src).or_default() += 1;
        }
        out
    }
}

impl Source {
    /// Records one failed authentication for `account` (both wire and log paths).
    fn note_failure(&mut self, now: i64, acct_h: u64, account: &str, t: &Thresholds) {
        self.fail_times.push_back(now);
        while self.fail_times.len() > t.auth_fail_max as usize {
            self.fail_times.pop_front();
        }
        self.fail_total += 1;
        if self.fail_by_user.len() < 64 || self.fail_by_user.contains_key(&acct_h) {
            bump_window(
                self.fail_by_user.entry(acct_h).or_insert((now, 0)),
                now,
                t.auth_fail_window_s,
            );
        }
        if self.fail_targets.len() < 5
            && !account.is_empty()
            && !self.fail_targets.iter().any(|x| x == account)
        {
            self.fail_targets.push(account.to_string());
        }
    }
}

struct Target {
    user: String,
    sources: Vec<(IpAddr, i64)>,
}

struct Binding {
    /// (network key, binding expiry ns, address)
    active: Vec<(u64, i64, IpAddr)>,
}

/// /24 for IPv4, /64 for IPv6: "the same network" for registration history.
fn net_key(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(a) => u64::from(u32::from(a) >> 8),
        IpAddr::V6(a) => (u128::from(a) >> 64) as u64 ^ (1 << 63),
    }
}

const SQLI: &[&str] = &[
    "'or",
    "' or",
    "'and",
    "' and",
    "union select",
    "union all select",
    "sleep(",
    "benchmark(",
    "waitfor delay",
    "'--",
    "' --",
    "';",
    "or 1=1",
    "'='",
    "/*",
    "xp_cmdshell",
];

/// Whether a caller-controlled field looks like SQL injection (the 3CX CRM CVE-2023-49954 class:
/// caller name/number reaching a CRM query).
pub fn looks_like_sqli(v: &[u8]) -> bool {
    if v.len() > 4096 {
        return false;
    }
    // Fast path (every message pays this): ordinary names and numbers have none of these.
    let special = v
        .iter()
        .any(|b| matches!(b, b'\'' | b'(' | b';' | b'/' | b'%' | b'='));
    if !special && !v.windows(6).any(|w| w.eq_ignore_ascii_case(b"select")) {
        return false;
    }
    let lower: Vec<u8> = v.iter().map(u8::to_ascii_lowercase).collect();
    let unescaped = sipsentry_sip::lex::percent_decode(&lower);
    SQLI.iter().any(|p| memfind(&unescaped, p.as_bytes()))
}

struct Tx {
    src: SocketAddr,
    from_user: Short,
    /// The account the credentials were for (digest username), when sent.
    auth_user: Option<Short>,
    method: Method<'static>,
    user: Short,
    credentials: bool,
    external: bool,
    ts: i64,
}

/// The engine.
pub struct Engine {
    t: Thresholds,
    policy: crate::policy::Policy,
    targets: FxHashMap<u64, Target>,
    creds: FxHashMap<u64, (IpAddr, u64, i64)>,
    bindings: FxHashMap<u64, Binding>,
    plaintext_seen: FxHashSet<IpAddr>,
    rates: crate::fraud::CallRates,
    sources: FxHashMap<IpAddr, Source>,
    txs: FxHashMap<u64, Tx>,
    alerts: Vec<Alert>,
    index: FxHashMap<(IpAddr, AlertId), usize>,
    now: i64,
    events: u64,
    /// Sources dropped because of `max_sources` (visible in stats).
    pub evicted_sources: u64,
    suppressed: std::collections::BTreeMap<AlertId, u64>,
    /// Alerts raised or updated so far (cheap per-message bookkeeping for callers).
    raised: u64,
    last_sweep: i64,
    surge: Surge,
    /// Live mode: indices of alerts raised or updated since the last [`Engine::drain_changes`].
    /// `None` in batch mode (`analyze`), where nobody drains and the list would only grow.
    changes: Option<Vec<(usize, bool)>>,
}

/// An alert that was raised or updated, as reported to a live guard by
/// [`Engine::drain_changes`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertChange {
    /// The alert's current state.
    pub alert: Alert,
    /// `true` the first time this (source, kind) is reported, `false` for later updates.
    pub new: bool,
}

fn h64<T: Hash + ?Sized>(v: &T) -> u64 {
    let mut h = FxHasher::default();
    v.hash(&mut h);
    h.finish()
}

fn static_method(m: Method<'_>) -> Method<'static> {
    match m {
        Method::Invite => Method::Invite,
        Method::Register => Method::Register,
        Method::Options => Method::Options,
        Method::Subscribe => Method::Subscribe,
        Method::Ack => Method::Ack,
        Method::Bye => Method::Bye,
        Method::Cancel => Method::Cancel,
        _ => Method::Other(b""),
    }
}

/// An external-looking number in international format: `+…`, `00…` or `011…` (optionally after
/// a one-digit outside-line prefix such as `9`). National-format numbers are not counted: without
/// a dial plan they cannot be told from the site's own DIDs on inbound trunk calls.
pub fn is_external_number(user: &str) -> bool {
    let digits: String = user
        .chars()
        .filter(|c| !matches!(c, '-' | '.' | '(' | ')' | ' '))
        .collect();
    if let Some(d) = digits.strip_prefix('+') {
        return d.len() >= 7 && d.chars().all(|c| c.is_ascii_digit());
    }
    if digits.len() < 8 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let d = if digits.starts_with("900") || digits.starts_with("9011") {
        &digits[1..]
    } else {
        &digits[..]
    };
    d.starts_with("00") || d.starts_with("011")
}

/// Addresses inside the site when no trusted networks are configured: RFC 1918, ULA, link-local.
/// (Loopback is not: the test lab runs attackers there.)
fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_private() || a.is_link_local(),
        IpAddr::V6(a) => {
            (a.segments()[0] & 0xfe00) == 0xfc00 || (a.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).chars().take(64).collect()
}

impl Engine {
    /// A new engine.
    pub fn new(t: Thresholds) -> Self {
        Self::with_policy(crate::policy::Policy {
            thresholds: t,
            ..Default::default()
        })
    }

    /// A new engine under a site policy.
    pub fn with_policy(policy: crate::policy::Policy) -> Self {
        Engine {
            t: policy.thresholds,
            policy,
            targets: FxHashMap::default(),
            creds: FxHashMap::default(),
            bindings: FxHashMap::default(),
            plaintext_seen: FxHashSet::default(),
            rates: crate::fraud::CallRates::default(),
            sources: FxHashMap::default(),
            txs: FxHashMap::default(),
            alerts: Vec::new(),
            index: FxHashMap::default(),
            now: i64::MIN,
            events: 0,
            evicted_sources: 0,
            suppressed: std::collections::BTreeMap::new(),
            raised: 0,
            last_sweep: i64::MIN,
            surge: Surge::default(),
            changes: None,
        }
    }

    /// Live mode (`watch`): remember which alerts change so [`Engine::drain_changes`] can hand
    /// them to the response path as they happen, not at the end of input.
    pub fn set_live(&mut self, on: bool) {
        self.changes = on.then(Vec::new);
    }

    /// Alerts raised or updated since the last call, each once, in the order they first changed.
    /// An update matters to a guard: an attacker who returns after its ban expired updates its
    /// old alert rather than raising a new one, and must be banned again.
    pub fn drain_changes(&mut self) -> Vec<AlertChange> {
        let Some(changes) = self.changes.as_mut() else {
            return Vec::new();
        };
        let list = std::mem::take(changes);
        let mut order: Vec<usize> = Vec::new();
        let mut new_of: FxHashMap<usize, bool> = FxHashMap::default();
        for (i, new) in list {
            match new_of.get_mut(&i) {
                Some(n) => *n |= new,
                None => {
                    new_of.insert(i, new);
                    order.push(i);
                }
            }
        }
        order
            .into_iter()
            .filter_map(|i| {
                Some(AlertChange {
                    alert: self.alerts.get(i)?.clone(),
                    new: new_of[&i],
                })
            })
            .collect()
    }

    /// Forgets alerts with no activity for `idle_ns` of packet time, so a guard that runs for
    /// months keeps bounded state and a source that comes back much later is reported anew.
    pub fn retire_alerts(&mut self, idle_ns: i64) -> usize {
        let cutoff = self.now.saturating_sub(idle_ns);
        let before = self.alerts.len();
        self.alerts.retain(|a| a.last_seen_ns >= cutoff);
        if self.alerts.len() != before {
            self.index.clear();
            for (i, a) in self.alerts.iter().enumerate() {
                self.index.insert((a.source.ip(), a.id), i);
            }
            // Pending indices point into the old vector.
            if let Some(c) = self.changes.as_mut() {
                c.clear();
            }
        }
        before - self.alerts.len()
    }

    /// Alerts so far, in the order they were first raised.
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }

    /// Alerts not kept because of [`Thresholds::max_alerts`], by kind.
    pub fn suppressed(&self) -> &std::collections::BTreeMap<AlertId, u64> {
        &self.suppressed
    }

    /// Sources with state (for memory tests).
    pub fn tracked_sources(&self) -> usize {
        self.sources.len()
    }

    /// Feeds one SIP event and its parsed message. Returns how many alerts were raised or
    /// updated by it.
    pub fn on_message(&mut self, ev: &SipEvent<'_>, m: &Message<'_>) -> usize {
        let before = self.raised;
        self.now = self.now.max(ev.ts_nanos);
        self.events += 1;
        self.maybe_sweep();
        self.content_checks(ev, m);
        if m.is_request() {
            self.request(ev, m);
        } else if m.is_response() {
            self.response(ev, m);
        }
        (self.raised - before) as usize
    }

    /// End of input: evaluates what needs the transaction timeout to have passed.
    pub fn finish(&mut self) {
        self.now = self.now.saturating_add(TX_TIMEOUT_NS + 1);
        self.sweep();
        self.alerts.sort_by(|a, b| {
            (a.first_seen_ns, a.source, a.id).cmp(&(b.first_seen_ns, b.source, b.id))
        });
        self.index.clear();
    }

    fn source(&mut self, ip: IpAddr) -> Option<&mut Source> {
        // One hash lookup on the common path (a known source); eviction only when full.
        if self.sources.len() >= self.t.max_sources && !self.sources.contains_key(&ip) {
            // Full: drop the stalest eighth so new attackers stay visible.
            let mut v: Vec<(i64, IpAddr)> =
                self.sources.iter().map(|(k, s)| (s.last_ns, *k)).collect();
            v.sort();
            for (_, k) in v.iter().take((self.t.max_sources / 8).max(1)) {
                self.sources.remove(k);
                self.evicted_sources += 1;
            }
        }
        Some(self.sources.entry(ip).or_default())
    }

    fn raise(&mut self, src: SocketAddr, r: Raised) {
        let (id, sev, target, first, count, mut evidence, mut action) = r;
        if matches!(action, Action::Ban { .. }) && self.policy.is_trusted(src.ip()) {
            // Allow-listed networks are never banned; the alert still tells the admin.
            action = Action::Watch;
            if !evidence
                .iter()
                .any(|e| e.starts_with("source is in a trusted network"))
            {
                evidence.push("source is in a trusted network: not banned".into());
            }
        }
        let now = self.now;
        self.raised += 1;
        match self.index.get(&(src.ip(), id)) {
            Some(&i) => {
                if let Some(c) = self.changes.as_mut() {
                    // A flood updates the same alert per packet: one entry per run is enough.
                    if c.last() != Some(&(i, false)) {
                        c.push((i, false));
                    }
                }
                let a = &mut self.alerts[i];
                a.last_seen_ns = now;
                a.count = a.count.max(count);
                a.severity = a.severity.max(sev);
                a.source = src;
            }
            None if self.alerts.len() >= self.t.max_alerts => {
                *self.suppressed.entry(id).or_default() += 1;
            }
            None => {
                if let Some(c) = self.changes.as_mut() {
                    c.push((self.alerts.len(), true));
                }
                self.index.insert((src.ip(), id), self.alerts.len());
                self.alerts.push(Alert {
                    id,
                    severity: sev,
                    source: src,
                    target,
                    first_seen_ns: first,
                    last_seen_ns: now,
                    count,
                    evidence,
                    action,
                });
            }
        }
    }

    fn request(&mut self, ev: &SipEvent<'_>, m: &Message<'_>) {
        let Some(method) = m.method() else { return };
        let ua = m.user_agent();
        let ip = ev.src.ip();
        let t = self.t;
        let now = ev.ts_nanos;
        let ban = Action::Ban { secs: t.ban_secs };
        let mut raise_scanner = None;
        let mut raise_flood = None;
        {
            let Some(s) = self.source(ip) else { return };
            s.last_ns = now;
            s.port = ev.src.port();
            if s.tool.is_none() {
                s.requests = s.requests.saturating_add(1);
                // The User-Agent list is checked whenever the UA changes; header shapes on the
                // first 16 requests of a source and then every 32nd (a scanner shows its shape
                // on every request, so it is still caught early; a phone is not re-parsed forever).
                let ua_h = ua.map(h64).unwrap_or(0);
                if ua_h != s.ua_checked {
                    s.ua_checked = ua_h;
                    s.tool = ua.and_then(tool_signature);
                }
                if s.tool.is_none() && (s.requests <= 16 || s.requests % 32 == 0) {
                    s.tool = shape_signature(m);
                }
                if let Some((tool, true)) = s.tool {
                    raise_scanner = Some(tool);
                }
            }
            // SIP-FLOOD: fixed windows (Kamailio pike samples the same way).
            if now - s.flood_start > i64::from(t.flood_window_s) * NS {
                s.flood_start = now;
                s.flood_count = 0;
            }
            s.flood_count += 1;
            if s.flood_count >= t.flood_requests {
                raise_flood = Some((s.flood_start, s.flood_count, s.tool));
            }
        }
        if let Some(tool) = raise_scanner {
            let evidence = vec![format!(
                "User-Agent matches attack tool '{tool}': {} {}",
                lossy(method.as_bytes()),
                lossy(ua.unwrap_or(b""))
            )];
            let target = ev.dst.ip().to_string();
            self.raise(
                ev.src,
                (
                    AlertId::SipScanner,
                    Severity::Medium,
                    target,
                    now,
                    1,
                    evidence,
                    Action::Watch,
                ),
            );
        }
        if let Some((start, count, tool)) = raise_flood {
            let mut ev_txt = vec![format!("{count} requests in {} s", t.flood_window_s)];
            if let Some((name, _)) = tool {
                ev_txt.push(format!("tool signature: {name}"));
            }
            self.raise(
                ev.src,
                (
                    AlertId::SipFlood,
                    Severity::High,
                    ev.dst.ip().to_string(),
                    start,
                    u64::from(count),
                    ev_txt,
                    ban,
                ),
            );
        }
        let t = self.t;
        for (i, count, base, top) in self.surge.add(method, ip, now, &t) {
            let target = format!("{} (all sources)", ev.dst.ip());
            let evd = vec![format!(
                "global surge: {count} {} requests in 10 s, usual {base:.0}; busiest source {top}",
                SURGE_METHODS[i]
            )];
            self.raise(
                SocketAddr::new(top, 0),
                (
                    AlertId::SipFlood,
                    Severity::Medium,
                    target,
                    now,
                    u64::from(count),
                    evd,
                    Action::Watch,
                ),
            );
        }
        self.replay_check(ev, m);
        self.call_checks(ev, m, method);
        // Remember the transaction for its response.
        if matches!(method, Method::Ack | Method::Cancel) {
            return;
        }
        let (Some(cid), Some(Ok(cseq))) = (m.call_id(), m.cseq()) else {
            return;
        };
        let credentials = m.header(HeaderName::Authorization).is_some()
            || m.header(HeaderName::ProxyAuthorization).is_some();
        let user = match method {
            Method::Register => m
                .to()
                .and_then(|r| r.ok())
                .and_then(|n| n.uri.user)
                .map(Short::lossy),
            _ => m
                .request_uri()
                .and_then(|r| r.ok())
                .and_then(|u| u.user)
                .map(Short::lossy),
        }
        .unwrap_or_default();
        let external = method == Method::Invite && is_external_number(user.as_str());
        if self.txs.len() >= t.max_transactions {
            self.expire_txs();
            // Still full of live transactions (a flood of unanswered requests): start over rather
            // than scan the table again on every insert.
            if self.txs.len() >= t.max_transactions * 9 / 10 {
                self.txs.clear();
            }
        }
        self.txs.insert(
            h64(&(cid, cseq.seq, cseq.method)),
            Tx {
                src: ev.src,
                from_user: m
                    .from()
                    .and_then(|r| r.ok())
                    .and_then(|n| n.uri.user)
                    .map(Short::lossy)
                    .unwrap_or_default(),
                auth_user: m
                    .authorization()
                    .or_else(|| m.proxy_authorization())
                    .and_then(|r| r.ok())
                    .and_then(|a| a.param(b"username"))
                    .map(Short::lossy),
                method: static_method(method),
                user,
                credentials,
                external,
                ts: now,
            },
        );
    }

    fn response(&mut self, ev: &SipEvent<'_>, m: &Message<'_>) {
        let (Some(code), Some(cid), Some(Ok(cseq))) = (m.status(), m.call_id(), m.cseq()) else {
            return;
        };
        if code < 180 {
            return;
        }
        let key = h64(&(cid, cseq.seq, cseq.method));
        let Some(tx) = self.txs.get(&key) else { return };
        // The response must go back to the requester (a mirrored capture sees both legs).
        if ev.dst.ip() != tx.src.ip() {
            return;
        }
        let tx = match self.txs.remove(&key) {
            Some(t) => t,
            None => return,
        };
        let t = self.t;
        let now = ev.ts_nanos;
        let ip = tx.src.ip();
        let stale = m
            .www_authenticate()
            .chain(m.proxy_authenticate())
            .flatten()
            .any(|a| {
                a.param(b"stale")
                    .is_some_and(|v| v.eq_ignore_ascii_case(b"true"))
            });
        let user_h = h64(tx.user.as_str());
        // Authentication is about an account (the digest username), not the callee of an INVITE.
        let account = tx.auth_user.clone().unwrap_or_else(|| tx.user.clone());
        let acct_h = h64(account.as_str());
        let method_name = lossy(tx.method.as_bytes());
        let mut to_raise: Vec<Raised> = vec![];
        {
            let Some(s) = self.source(ip) else { return };
            s.last_ns = now;
            // AUTH-BRUTEFORCE / AUTH-SUCCESS-AFTER-FAILURES
            if tx.credentials && matches!(code, 401 | 403 | 407) && !stale {
                s.note_failure(now, acct_h, &account, &t);
                if s.fail_times.len() >= t.auth_fail_max as usize {
                    let first = *s.fail_times.front().unwrap_or(&now);
                    if now - first <= i64::from(t.auth_fail_window_s) * NS {
                        let mut evd = vec![format!("{} failed authentications ({method_name} answered {code} after credentials were sent)", s.fail_total)];
                        evd.push(format!("targets: {}", s.fail_targets.join(", ")));
                        if let Some((tool, _)) = s.tool {
                            evd.push(format!("tool signature: {tool}"));
                        }
                        to_raise.push((
                            AlertId::AuthBruteforce,
                            Severity::High,
                            s.fail_targets.join(","),
                            first,
                            u64::from(s.fail_total),
                            evd,
                            Action::Ban { secs: t.ban_secs },
                        ));
                    }
                }
            }
            let user_fails = recent(s.fail_by_user.get(&acct_h), now, t.auth_fail_window_s);
            if tx.credentials
                && (200..300).contains(&code)
                && user_fails >= t.success_after_failures
            {
                to_raise.push((
                    AlertId::AuthSuccessAfterFailures,
                    Severity::Critical,
                    account.to_string(),
                    now,
                    u64::from(user_fails),
                    vec![format!("{method_name} for '{}' succeeded after {} failed authentications for this account from this source: the password was likely guessed — change it", account, user_fails)],
                    Action::Investigate,
                ));
            }
            // SIP-ENUMERATION
            if matches!(
                tx.method,
                Method::Register | Method::Invite | Method::Options | Method::Subscribe
            ) && !tx.user.is_empty()
            {
                if now - s.enum_start > i64::from(t.enum_window_s) * NS {
                    s.enum_start = now;
                    s.not_found.clear();
                    s.challenged.clear();
                    s.resolved.clear();
                }
                let cap = (t.enum_distinct_users as usize) * 4;
                match code {
                    404 | 484 | 604 => {
                        if s.not_found.len() < cap {
                            s.not_found.insert(user_h);
                        }
                        if s.enum_examples.len() < 5 {
                            s.enum_examples
                                .push(format!("{method_name} {} → {code}", tx.user));
                        }
                    }
                    401 | 403 | 407
                        if !tx.credentials
                            && s.challenged.len() < cap
                            && !s.resolved.contains(&user_h) =>
                    {
                        s.challenged
                            .entry(user_h)
                            .or_insert((now, tx.user.to_string()));
                    }
                    200..=299 => {
                        s.challenged.remove(&user_h);
                        if s.resolved.len() < cap {
                            s.resolved.insert(user_h);
                        }
                    }
                    _ => {}
                }
                if let Some(a) = enum_check(s, &t, now) {
                    to_raise.push(a);
                }
            }
        }
        let failed = tx.credentials && matches!(code, 401 | 403 | 407) && !stale;
        if failed {
            if let Some(r) = self.distributed(ip, &account, now) {
                to_raise.push(r);
            }
        }
        if tx.credentials && (200..300).contains(&code) && tx.method == Method::Register {
            let expires = m
                .contacts()
                .flatten()
                .find_map(|c| match c {
                    sipsentry_sip::Contact::Addr(n) => n.expires(),
                    sipsentry_sip::Contact::Star => None,
                })
                .or_else(|| m.expires())
                .unwrap_or(3600);
            if let Some(r) = self.hijack(ip, &tx.user, now, expires) {
                to_raise.push(r);
            }
        }
        // TOLL-FRAUD-UNAUTH-CALL
        if tx.method == Method::Invite && (200..300).contains(&code) && !tx.from_user.is_empty() {
            let hits = self.rates.answered(
                &tx.from_user,
                h64(cid),
                now,
                &self.policy,
                self.t.max_sources,
            );
            for (sev, why) in hits {
                to_raise.push((
                    AlertId::TollFraudRate,
                    sev,
                    tx.from_user.to_string(),
                    now,
                    1,
                    vec![why],
                    crate::fraud::ACTION,
                ));
            }
        }
        let inside = if self.policy.trusted.is_empty() {
            is_internal(ip)
        } else {
            self.policy.is_trusted(ip)
        };
        if tx.method == Method::Invite
            && tx.external
            && !tx.credentials
            && !inside
            && (180..300).contains(&code)
        {
            to_raise.push((
                AlertId::TollFraudUnauthCall,
                Severity::Critical,
                tx.user.to_string(),
                now,
                1,
                vec![format!(
                    "unauthenticated INVITE to external number {} answered {code} by {}",
                    tx.user, ev.src
                )],
                Action::Ban { secs: t.ban_secs },
            ));
        }
        for r in to_raise {
            self.raise(tx.src, r);
        }
    }

    fn distributed(&mut self, ip: IpAddr, user: &str, now: i64) -> Option<Raised> {
        if user.is_empty() {
            return None;
        }
        let t = self.t;
        let key = h64(user);
        if !self.targets.contains_key(&key) && self.targets.len() >= t.max_sources {
            return None;
        }
        let tg = self.targets.entry(key).or_insert_with(|| Target {
            user: user.to_string(),
            sources: Vec::new(),
        });
        let window = i64::from(t.auth_fail_window_s) * NS;
        tg.sources.retain(|(_, ts)| now - ts <= window);
        let n = tg.sources.len();
        match tg.sources.iter_mut().find(|(a, _)| *a == ip) {
            Some(e) => e.1 = now,
            None if n < 64 => tg.sources.push((ip, now)),
            None => {}
        }
        if tg.sources.len() < t.distributed_sources as usize {
            return None;
        }
        let list: Vec<String> = tg
            .sources
            .iter()
            .take(10)
            .map(|(a, _)| a.to_string())
            .collect();
        let first = tg.sources.iter().map(|(_, ts)| *ts).min().unwrap_or(now);
        Some((
            AlertId::AuthDistributed,
            Severity::High,
            tg.user.clone(),
            first,
            tg.sources.len() as u64,
            vec![format!(
                "{} sources failed authentication as '{}' within {} s: {}",
                tg.sources.len(),
                tg.user,
                t.auth_fail_window_s,
                list.join(", ")
            )],
            Action::Ban { secs: t.ban_secs },
        ))
    }

    fn hijack(&mut self, ip: IpAddr, user: &str, now: i64, expires: u32) -> Option<Raised> {
        if user.is_empty() {
            return None;
        }
        let key = h64(user);
        if !self.bindings.contains_key(&key) && self.bindings.len() >= self.t.max_sources {
            return None;
        }
        let b = self
            .bindings
            .entry(key)
            .or_insert_with(|| Binding { active: Vec::new() });
        b.active.retain(|(_, until, _)| *until > now);
        let net = net_key(ip);
        let others: Vec<IpAddr> = b
            .active
            .iter()
            .filter(|(n, _, _)| *n != net)
            .map(|(_, _, a)| *a)
            .collect();
        b.active.retain(|(n, _, _)| *n != net);
        if expires > 0 && b.active.len() < 16 {
            b.active.push((net, now + i64::from(expires) * NS, ip));
        }
        if others.is_empty() {
            return None;
        }
        let nets = others.len() + 1;
        let sev = if nets >= 3 {
            Severity::Critical
        } else {
            Severity::High
        };
        let list: Vec<String> = others.iter().take(5).map(|a| a.to_string()).collect();
        Some((
            AlertId::RegHijack,
            sev,
            user.to_string(),
            now,
            nets as u64,
            vec![format!(
                "'{user}' registered from {ip} while bound from another network ({}): {nets} networks at once",
                list.join(", ")
            )],
            Action::Investigate,
        ))
    }

    /// Checks on what a message carries, whoever sent it: SDES keys in clear, plain RTP where SRTP
    /// is required, plaintext signalling where TLS is required, malformed and exploit-shaped
    /// content.
    fn content_checks(&mut self, ev: &SipEvent<'_>, m: &Message<'_>) {
        let now = ev.ts_nanos;
        let t = self.t;
        let trusted = self.policy.is_trusted(ev.src.ip());
        // Malformed / exploit.
        let rejects = m
            .anomalies()
            .iter()
            .filter(|a| a.severity() == sipsentry_sip::Severity::Reject)
            .count();
        let oversized = m.anomalies().iter().find(|a| {
            matches!(
                a.kind,
                sipsentry_sip::AnomalyKind::MessageTooLarge
                    | sipsentry_sip::AnomalyKind::LineTooLong
                    | sipsentry_sip::AnomalyKind::TooManyHeaders
                    | sipsentry_sip::AnomalyKind::ScalarOverflow
            )
        });
        let mut sqli_field: Option<(&'static str, String)> = None;
        if m.is_request() {
            let from = m.from().and_then(|r| r.ok());
            let fields: [(&'static str, Option<&[u8]>); 4] = [
                ("From display name", from.and_then(|n| n.display_raw)),
                ("From user", from.and_then(|n| n.uri.user)),
                (
                    "To user",
                    m.to().and_then(|r| r.ok()).and_then(|n| n.uri.user),
                ),
                ("User-Agent", m.user_agent()),
            ];
            for (name, v) in fields {
                if let Some(v) = v.filter(|v| looks_like_sqli(v)) {
                    sqli_field = Some((name, lossy(v)));
                    break;
                }
            }
        }
        if let Some((field, value)) = sqli_field {
            self.raise(
                ev.src,
                (
                    AlertId::SipExploit,
                    Severity::High,
                    ev.dst.ip().to_string(),
                    now,
                    1,
                    vec![format!(
                        "SQL-injection-like {field}: {value:?} (3CX CRM CVE-2023-49954 class)"
                    )],
                    Action::Ban { secs: t.ban_secs },
                ),
            );
        } else if let Some(a) = oversized {
            self.raise(
                ev.src,
                (
                    AlertId::SipExploit,
                    Severity::Medium,
                    ev.dst.ip().to_string(),
                    now,
                    1,
                    vec![format!(
                        "oversized field: {} at bytes {}..{}",
                        a.kind.id(),
                        a.span.start,
                        a.span.end
                    )],
                    Action::Ban { secs: t.ban_secs },
                ),
            );
        }
        if rejects > 0 && m.is_request() {
            let count = {
                let Some(s) = self.source(ev.src.ip()) else {
                    return;
                };
                s.malformed += 1;
                s.malformed
            };
            if count >= t.malformed_max {
                let first = m.rejection().map(|a| a.kind.id()).unwrap_or("");
                self.raise(
                    ev.src,
                    (
                        AlertId::SipMalformed,
                        Severity::Medium,
                        ev.dst.ip().to_string(),
                        now,
                        u64::from(count),
                        vec![format!(
                            "{count} messages RFC 3261 must reject, e.g. {first}"
                        )],
                        Action::Ban { secs: t.ban_secs },
                    ),
                );
            }
        }
        // Plaintext signalling where TLS is required.
        if self.policy.require_tls
            && !ev.transport.is_encrypted()
            && !trusted
            && m.is_request()
            && self.plaintext_seen.len() < t.max_sources
            && self.plaintext_seen.insert(ev.src.ip())
        {
            self.raise(
                ev.src,
                (
                    AlertId::CryptoPlaintextSignaling,
                    Severity::Medium,
                    ev.dst.ip().to_string(),
                    now,
                    1,
                    vec![format!(
                        "{} over {} from outside the trusted networks; policy requires TLS",
                        lossy(m.method().map(|x| x.as_bytes()).unwrap_or(b"")),
                        ev.transport
                    )],
                    Action::Watch,
                ),
            );
        }
        // SDP checks.
        let body = m.body();
        if body.is_empty()
            || !m
                .content_type()
                .and_then(|r| r.ok())
                .is_some_and(|c| c.is(b"application", b"sdp"))
        {
            return;
        }
        let Ok(sdp) = sipsentry_sdp::Session::parse(body) else {
            return;
        };
        let callee = m
            .to()
            .and_then(|r| r.ok())
            .and_then(|n| n.uri.user)
            .map(lossy)
            .unwrap_or_default();
        if sdp.has_sdes_keys() && !ev.transport.is_encrypted() {
            self.raise(
                ev.src,
                (AlertId::CryptoSdesExposed, Severity::Critical, callee.clone(), now, 1, vec![format!("a=crypto inline keys sent over {} (unencrypted): the media of this call can be decrypted by anyone on the path; keys not shown", ev.transport)], Action::Investigate),
            );
        }
        if self.policy.require_srtp && sdp.offers_only_plain_rtp() {
            self.raise(
                ev.src,
                (
                    AlertId::CryptoNoSrtp,
                    Severity::Medium,
                    callee,
                    now,
                    1,
                    vec!["SDP offers or accepts only RTP/AVP; policy requires SRTP".to_string()],
                    Action::Watch,
                ),
            );
        }
    }

    /// Destination and rate checks on calls (initial INVITEs and BYEs).
    fn call_checks(&mut self, ev: &SipEvent<'_>, m: &Message<'_>, method: Method<'_>) {
        let now = ev.ts_nanos;
        match method {
            Method::Bye => {
                if let Some(cid) = m.call_id() {
                    let (ext, hits) = self.rates.ended(h64(cid), now, &self.policy);
                    for (sev, why) in hits {
                        let ext = ext.clone();
                        self.raise(
                            ev.src,
                            (
                                AlertId::TollFraudRate,
                                sev,
                                ext,
                                now,
                                1,
                                vec![why],
                                crate::fraud::ACTION,
                            ),
                        );
                    }
                }
            }
            Method::Invite => {
                // Only initial INVITEs (no To tag) start a call.
                if m.to()
                    .and_then(|r| r.ok())
                    .is_some_and(|t| t.tag().is_some())
                {
                    return;
                }
                let dialled = m
                    .request_uri()
                    .and_then(|r| r.ok())
                    .and_then(|u| u.user)
                    .map(lossy)
                    .unwrap_or_default();
                let ext = m
                    .from()
                    .and_then(|r| r.ok())
                    .and_then(|n| n.uri.user)
                    .map(lossy)
                    .unwrap_or_default();
                if dialled.is_empty() {
                    return;
                }
                // Authenticated retries repeat the INVITE with the same Call-ID: count once.
                let call = h64(m.call_id().unwrap_or_default());
                if !self.rates.first_invite(call, now) {
                    return;
                }
                if let (Some(home), false) = (self.policy.home_country.clone(), ext.is_empty()) {
                    let d = crate::fraud::destination(&dialled);
                    let international = d.as_ref().is_some_and(|d| {
                        d.region
                            .as_deref()
                            .is_some_and(|r| !r.eq_ignore_ascii_case(&home))
                    });
                    if let Some(n) =
                        self.rates
                            .first_international(&ext, international, 20, self.t.max_sources)
                    {
                        let evd = vec![format!("first international call from {ext} (to {dialled}) after {n} calls within {home}")];
                        self.raise(
                            ev.src,
                            (
                                AlertId::TollFraudDestination,
                                Severity::High,
                                dialled.clone(),
                                now,
                                1,
                                evd,
                                crate::fraud::ACTION,
                            ),
                        );
                    }
                }
                if let Some(d) = crate::fraud::destination(&dialled) {
                    if let Some((sev, why)) = crate::fraud::destination_risk(&d, &self.policy) {
                        let evd = vec![format!("INVITE from {ext} to {dialled}: {why}")];
                        self.raise(
                            ev.src,
                            (
                                AlertId::TollFraudDestination,
                                sev,
                                dialled.clone(),
                                now,
                                1,
                                evd,
                                crate::fraud::ACTION,
                            ),
                        );
                    }
                }
                if !ext.is_empty() {
                    let hits = self.rates.call_started(
                        &ext,
                        &dialled,
                        now,
                        &self.policy,
                        self.t.max_sources,
                    );
                    for (sev, why) in hits {
                        self.raise(
                            ev.src,
                            (
                                AlertId::TollFraudRate,
                                sev,
                                ext.clone(),
                                now,
                                1,
                                vec![why],
                                crate::fraud::ACTION,
                            ),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    fn replay_check(&mut self, ev: &SipEvent<'_>, m: &Message<'_>) {
        let Some(Ok(a)) = m.authorization().or_else(|| m.proxy_authorization()) else {
            return;
        };
        if !a.is_digest() {
            return;
        }
        // One pass over the parameters (this runs for every authenticated request).
        let (mut resp, mut nonce, mut nc, mut user, mut cnonce, mut uri) =
            (None, None, None, None, None, None);
        for p in a.params() {
            let v = p.value.map(sipsentry_sip::lex::unquote);
            match p.name.len() {
                8 if p.name.eq_ignore_ascii_case(b"response") => resp = v,
                8 if p.name.eq_ignore_ascii_case(b"username") => user = v,
                5 if p.name.eq_ignore_ascii_case(b"nonce") => nonce = v,
                2 if p.name.eq_ignore_ascii_case(b"nc") => nc = v,
                6 if p.name.eq_ignore_ascii_case(b"cnonce") => cnonce = v,
                3 if p.name.eq_ignore_ascii_case(b"uri") => uri = v,
                _ => {}
            }
        }
        let (Some(resp), Some(nonce)) = (resp, nonce) else {
            return;
        };
        let key = h64(&(user, nonce, nc, cnonce, resp, uri));
        let tx = h64(&(m.call_id(), m.header_value(HeaderName::CSeq)));
        let now = ev.ts_nanos;
        let ip = ev.src.ip();
        match self.creds.get(&key).copied() {
            // A retransmission of the same request is not a replay.
            Some((_, t, _)) if t == tx => {}
            Some((first_ip, _, first_ts)) => {
                let other_source = first_ip != ip;
                // Without qop (RFC 2069) clients legitimately reuse a nonce for the same request
                // line; only another source reusing it is suspect. With qop, nc must grow.
                if other_source || nc.is_some() {
                    let user = user.map(lossy).unwrap_or_default();
                    let why = if other_source {
                        format!("credentials first sent by {first_ip} replayed from {ip}")
                    } else {
                        "same nonce, nc and response in a new request (nc must increase)"
                            .to_string()
                    };
                    let sev = if other_source {
                        Severity::High
                    } else {
                        Severity::Medium
                    };
                    self.raise(
                        ev.src,
                        (
                            AlertId::AuthReplay,
                            sev,
                            user,
                            first_ts,
                            2,
                            vec![why],
                            Action::Ban {
                                secs: self.t.ban_secs,
                            },
                        ),
                    );
                }
            }
            None => {
                if self.creds.len() >= self.t.max_transactions {
                    let now2 = now;
                    self.creds.retain(|_, (_, _, ts)| now2 - *ts <= 300 * NS);
                    if self.creds.len() >= self.t.max_transactions * 9 / 10 {
                        self.creds.clear();
                    }
                }
                self.creds.insert(key, (ip, tx, now));
            }
        }
    }

    fn expire_txs(&mut self) {
        let now = self.now;
        self.txs.retain(|_, t| now - t.ts <= TX_TIMEOUT_NS);
    }

    /// Sweeps every 30 s of packet time (or 1 M events): expiry windows are 32 s and more, so
    /// a finer sweep only costs time.
    fn maybe_sweep(&mut self) {
        if self.now.saturating_sub(self.last_sweep) > 30 * NS || self.events % (1 << 20) == 0 {
            self.last_sweep = self.now;
            self.sweep();
        }
    }

    fn sweep(&mut self) {
        self.expire_txs();
        self.rates.expire(self.now);
        let now0 = self.now;
        self.creds.retain(|_, (_, _, ts)| now0 - *ts <= 300 * NS);
        self.bindings
            .retain(|_, b| b.active.iter().any(|(_, until, _)| *until > now0));
        let win = i64::from(self.t.auth_fail_window_s) * NS;
        self.targets
            .retain(|_, tg| tg.sources.iter().any(|(_, ts)| now0 - ts <= win));
        let now = self.now;
        let t = self.t;
        // Enumeration by challenged-but-never-resolved users needs Timer B to have passed.
        let mut found = vec![];
        for (ip, s) in self.sources.iter_mut() {
            if let Some(a) = enum_check(s, &t, now) {
                found.push((*ip, s.port, a));
            }
        }
        found.sort_by_key(|(ip, _, _)| *ip);
        for (ip, port, r) in found {
            self.raise(SocketAddr::new(ip, port), r);
        }
        let keep = i64::from(t.auth_fail_window_s.max(t.enum_window_s)) * NS;
        self.sources
            .retain(|_, s| now.saturating_sub(s.last_ns) <= keep);
    }
}

type Raised = (AlertId, Severity, String, i64, u64, Vec<String>, Action);

/// Counts a failure in a fixed window that restarts when it is older than `window_s`.
fn bump_window(w: &mut (i64, u32), now: i64, window_s: u32) {
    if now - w.0 > i64::from(window_s) * NS {
        *w = (now, 0);
    }
    w.1 += 1;
}

/// Failures in the current window, if it is still open at `now`. Failures spread over a long
/// time (a client whose server rotates nonces without `stale=true`, as in a real 2005 capture)
/// do not add up to a guessed password.
fn recent(w: Option<&(i64, u32)>, now: i64, window_s: u32) -> u32 {
    match w {
        Some(&(start, n)) if now - start <= i64::from(window_s) * NS => n,
        _ => 0,
    }
}

/// What a PBX security log line tells the detectors (mapped by the binary from the log parser's
/// event kinds; the detectors do not depend on log formats).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogSignal {
    /// Wrong password / challenge-response failed / AMI login failed.
    AuthFailure,
    /// No such user, peer, endpoint or extension: enumeration evidence, and a failure (fail2ban
    /// counts these lines too).
    UnknownUser,
    /// Rejected by an ACL.
    AclReject,
    /// A successful authentication.
    AuthSuccess,
}

impl Engine {
    /// Feeds one event from a PBX security log. `service` names the log (asterisk, freeswitch,
    /// 3cx, kamailio) for the evidence.
    pub fn on_log_event(
        &mut self,
        ts: i64,
        src: SocketAddr,
        signal: LogSignal,
        user: &str,
        service: &str,
    ) {
        self.now = self.now.max(ts);
        self.events += 1;
        self.maybe_sweep();
        let t = self.t;
        let user_h = h64(user);
        let mut out: Vec<Raised> = vec![];
        {
            let Some(s) = self.source(src.ip()) else {
                return;
            };
            s.last_ns = ts;
            s.port = src.port();
            match signal {
                LogSignal::AuthFailure | LogSignal::AclReject | LogSignal::UnknownUser => {
                    s.note_failure(ts, user_h, user, &t);
                    if s.fail_times.len() >= t.auth_fail_max as usize {
                        let first = *s.fail_times.front().unwrap_or(&ts);
                        if ts - first <= i64::from(t.auth_fail_window_s) * NS {
                            let what = match signal {
                                LogSignal::AclReject => "ACL rejections",
                                LogSignal::UnknownUser => "attempts for unknown users",
                                _ => "failed authentications",
                            };
                            out.push((
                                AlertId::AuthBruteforce,
                                Severity::High,
                                s.fail_targets.join(","),
                                first,
                                u64::from(s.fail_total),
                                vec![
                                    format!("{} {what} in the {service} log", s.fail_total),
                                    format!("targets: {}", s.fail_targets.join(", ")),
                                ],
                                Action::Ban { secs: t.ban_secs },
                            ));
                        }
                    }
                    if signal == LogSignal::UnknownUser && !user.is_empty() {
                        if ts - s.enum_start > i64::from(t.enum_window_s) * NS {
                            s.enum_start = ts;
                            s.not_found.clear();
                        }
                        if s.not_found.len() < (t.enum_distinct_users as usize) * 4 {
                            s.not_found.insert(user_h);
                        }
                        if s.enum_examples.len() < 5 {
                            s.enum_examples
                                .push(format!("{service}: unknown user {user}"));
                        }
                        if let Some(r) = enum_check(s, &t, ts) {
                            out.push(r);
                        }
                    }
                }
                LogSignal::AuthSuccess => {
                    let n = recent(s.fail_by_user.get(&user_h), ts, t.auth_fail_window_s);
                    if n >= t.success_after_failures {
                        out.push((
                            AlertId::AuthSuccessAfterFailures,
                            Severity::Critical,
                            user.to_string(),
                            ts,
                            u64::from(n),
                            vec![format!("{service}: '{user}' authenticated after {n} failures from this source: the password was likely guessed — change it")],
                            Action::Investigate,
                        ));
                    }
                }
            }
        }
        if matches!(signal, LogSignal::AuthFailure) {
            if let Some(r) = self.distributed(src.ip(), user, ts) {
                out.push(r);
            }
        }
        for r in out {
            self.raise(src, r);
        }
    }
}

fn enum_check(s: &Source, t: &Thresholds, now: i64) -> Option<Raised> {
    // Cheap exit first: the sweep runs this for every tracked source.
    if s.not_found.len() + s.challenged.len() < t.enum_distinct_users as usize {
        return None;
    }
    let unresolved: Vec<&String> = s
        .challenged
        .values()
        .filter(|(ts, _)| now - ts > TX_TIMEOUT_NS)
        .map(|(_, u)| u)
        .collect();
    let distinct = s.not_found.len() + unresolved.len();
    if distinct < t.enum_distinct_users as usize {
        return None;
    }
    let mut evd = vec![format!(
        "{distinct} distinct users probed: {} answered 'not found', {} challenged and never registered",
        s.not_found.len(),
        unresolved.len()
    )];
    evd.extend(s.enum_examples.iter().cloned());
    if let Some((tool, _)) = s.tool {
        evd.push(format!("tool signature: {tool}"));
    }
    let sev = if s.tool.is_some_and(|(_, attack)| attack) {
        Severity::High
    } else {
        Severity::Medium
    };
    Some((
        AlertId::SipEnumeration,
        sev,
        "extensions".into(),
        s.enum_start,
        distinct as u64,
        evd,
        Action::Ban { secs: t.ban_secs },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_numbers() {
        assert!(is_external_number("0044203000111"));
        assert!(is_external_number("+442030001111"));
        assert!(is_external_number("011442030001"));
        assert!(
            !is_external_number("2125551234"),
            "national format: could be a DID"
        );
        assert!(is_external_number("9011442030001"));
        assert!(!is_external_number("1001"));
        assert!(!is_external_number("alice"));
        assert!(!is_external_number(""));
    }

    #[test]
    fn tool_signatures() {
        assert_eq!(
            tool_signature(b"friendly-scanner"),
            Some(("friendly-scanner", true))
        );
        assert_eq!(tool_signature(b"sipsak 0.9.8.1"), Some(("sipsak", false)));
        assert_eq!(tool_signature(b"Yealink SIP-T46S 66.86.0.15"), None);
    }

    /// Shapes seen in the lab capture (sipvicious 0.3.8 svmap/svwar/svcrack), and real phones'
    /// shapes from the shared captures that must not match.
    #[test]
    fn sipvicious_header_shapes() {
        // svwar: "1011" 0x01 "38637651"; svmap: "7f000014...c4" 0x01 digits.
        assert!(sipvicious_tag(b"313031310133383633373635313831"));
        assert!(sipvicious_tag(
            b"3766303030303134313363340131363532363033353331"
        ));
        assert!(!sipvicious_tag(b"as6f4e3a1b"), "Asterisk-style hex tag");
        assert!(!sipvicious_tag(b"1928301774"), "decimal tag, no separator");
        assert!(!sipvicious_tag(b"3130313101013338"), "two separators");
        assert!(sipvicious_call_id(b"153199613726537019563995"));
        assert!(sipvicious_call_id(b"1262748240"));
        assert!(!sipvicious_call_id(b"1520922649@127.0.0.31"));
        assert!(!sipvicious_call_id(b"a84b4c76e66710"));
        assert!(sipvicious_branch(b"z9hG4bK-2513581611"));
        assert!(!sipvicious_branch(b"z9hG4bK776asdhds"));
        assert!(!sipvicious_branch(b"z9hG4bK-"));
    }

    /// A scanner that changed its User-Agent is still recognised by its header shapes, but only
    /// as a score raiser: the shape alone never raises SIP-SCANNER.
    #[test]
    fn disguised_sipvicious_is_a_score_raiser_only() {
        let msg = b"OPTIONS sip:100@127.0.0.20 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.66:5060;branch=z9hG4bK-2513581611;rport\r\n\
Max-Forwards: 70\r\n\
To: <sip:100@127.0.0.20>\r\n\
From: <sip:100@127.0.0.20>;tag=313031310133383633373635313831\r\n\
User-Agent: Yealink SIP-T46S\r\n\
Call-ID: 1262748240\r\n\
CSeq: 1 OPTIONS\r\n\
Content-Length: 0\r\n\r\n";
        let m = Message::parse(msg);
        assert_eq!(
            shape_signature(&m),
            Some(("sipvicious From-tag shape", false))
        );
    }
}

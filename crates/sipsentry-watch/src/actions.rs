//! The response path: alerts become stored records, notifications and — for alerts whose
//! action is a ban — nftables elements. One thread owns the store and the firewall, so bans are
//! batched (one `nft` call per batch) and the store never sees two writers.
//!
//! Order on a ban: kernel first, then the store. A packet that crosses a threshold should be
//! followed by a drop rule in milliseconds; if the process dies between the two, the kernel
//! element still expires on its own timeout.

use crate::metrics::Metrics;
use crate::outputs::{alert_json, Channels, Event};
use sipsentry_detect::{Action, AlertChange};
use sipsentry_store::{AlertQuery, AlertRecord, BanRecord, Store, StoredAlert, StoredBan};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What enforces bans: nftables in production, a recorder in dry-run.
pub trait Enforcer: Send {
    /// Creates the guard's own table, sets and rules (idempotent).
    fn install(&mut self) -> Result<(), String>;
    /// Adds `(canonical CIDR, seconds)` elements in one batch.
    fn ban(&mut self, bans: &[(String, u64)]) -> Result<(), String>;
    fn unban(&mut self, net: &str) -> Result<(), String>;
    /// At start: make the kernel hold exactly the store's active bans, with their remaining
    /// time, without duplicating elements already present.
    fn reconcile(&mut self, bans: &[(String, i64)], now_unix: i64) -> Result<(), String>;
    /// `Some(why)` when `net` must never be banned (allow-listed, loopback, this host).
    fn refuse(&self, net: &str) -> Option<String>;
    fn dry_run(&self) -> bool {
        false
    }
}

/// Longest ban the guard sets (manual or escalated): the nft crate installs anything longer
/// without a kernel timeout, and nothing would take it out of the kernel when the store's
/// record expires.
pub const MAX_BAN_S: u64 = sipsentry_nft::MAX_KERNEL_TIMEOUT.as_secs();

/// Prefix of a stored ban's `source` when it was only logged (dry-run): such rows are never
/// restored into the kernel by a later enforcing start.
pub const DRY_RUN: &str = "dry-run:";

/// Requests from the API and the CLI.
pub enum Cmd {
    Alerts(Vec<AlertChange>),
    Ban {
        net: String,
        seconds: u64,
        reason: String,
        by: String,
        reply: SyncSender<Result<StoredBan, String>>,
    },
    Unban {
        net: String,
        reply: SyncSender<Result<bool, String>>,
    },
    ListBans(SyncSender<Result<Vec<StoredBan>, String>>),
    ListAlerts(AlertQuery, SyncSender<Result<Vec<StoredAlert>, String>>),
    /// Per-source counters from the detector thread (flushed every 10 s).
    Stats(Vec<sipsentry_store::SourceStat>),
    /// The busiest sources since a time: (since_unix, limit, reply).
    TopSources(
        i64,
        usize,
        SyncSender<Result<Vec<sipsentry_store::SourceTotals>, String>>,
    ),
    Stop,
}

pub struct ResponseCfg {
    pub enforce: bool,
    pub recidive_factor: u32,
    pub recidive_window_s: u64,
    pub max_ban_s: u64,
    pub update_interval: Duration,
    pub retention_s: i64,
}

/// Ban length for a source with `prior` earlier bans in the recidive window: `base · factor^prior`,
/// capped (fail2ban's recidive jail, without a second jail to configure).
pub fn escalate(prior: u32, base_s: u64, factor: u32, max_s: u64) -> u64 {
    let mut d = base_s.max(1);
    for _ in 0..prior.min(32) {
        d = d.saturating_mul(u64::from(factor.max(1)));
        if d >= max_s {
            return max_s;
        }
    }
    d.min(max_s)
}

/// Canonical CIDR text for an address or network (`198.51.100.7` → `198.51.100.7/32`,
/// `2001:db8::1/48` → `2001:db8::/48`): one text per network, so the store's "one active ban
/// per net" and the kernel set agree.
pub fn canonical_net(s: &str) -> Result<String, String> {
    let s = s.trim();
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let ip: IpAddr = addr
        .parse()
        .map_err(|_| format!("{s:?} is not an IP address or CIDR network"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let mut len: u32 = match len {
        Some(l) => l
            .parse()
            .ok()
            .filter(|&l| l <= max)
            .ok_or_else(|| format!("{s:?}: prefix length must be 0..={max}"))?,
        None => max,
    };
    // An IPv4 client seen through a dual-stack socket (`::ffff:a.b.c.d`) sends IPv4 packets:
    // only an element in the IPv4 set drops them.
    let mut ip = ip;
    if let IpAddr::V6(v6) = ip {
        if let (Some(v4), true) = (v6.to_ipv4_mapped(), len >= 96) {
            ip = IpAddr::V4(v4);
            len -= 96;
        }
    }
    Ok(match ip {
        IpAddr::V4(a) => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            format!("{}/{len}", std::net::Ipv4Addr::from(u32::from(a) & mask))
        }
        IpAddr::V6(a) => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            format!("{}/{len}", std::net::Ipv6Addr::from(u128::from(a) & mask))
        }
    })
}

fn now_unix() -> i64 {
    crate::inputs::now_ns() / 1_000_000_000
}

fn record(a: &sipsentry_detect::Alert) -> AlertRecord {
    AlertRecord {
        alert_id: a.id.as_str().into(),
        severity: a.severity.as_str().into(),
        source_ip: Some(a.source.ip().to_string()),
        source_port: Some(a.source.port()),
        transport: None,
        target: a.target.clone(),
        first_seen_unix_ns: a.first_seen_ns,
        last_seen_unix_ns: a.last_seen_ns,
        count: a.count,
        evidence: a.evidence.clone(),
        control: a.control().into(),
        action: a.action.to_string(),
    }
}

/// Work for the store writer. Events ride with the rows they describe and are announced only
/// after the commit, so whatever a consumer saw survives a crash.
enum Job {
    Alerts(Vec<AlertRecord>, Vec<Event>),
    Ban(
        BanRecord,
        Event,
        Option<SyncSender<Result<StoredBan, String>>>,
    ),
    /// (net, now, why, reply)
    Unban(String, i64, String, SyncSender<Result<bool, String>>),
    Emit(Event),
    Tick(i64),
    Prune(i64),
    Stats(Vec<sipsentry_store::SourceStat>),
}

/// The store writer: owns the read-write connection and the alert channels. Separate from the
/// responder so a slow disk (WAL checkpoint, a busy shared volume) never sits between a
/// threshold and the kernel ban.
fn writer(mut store: Store, channels: Channels, metrics: Arc<Metrics>, rx: Receiver<Job>) {
    let fail = |m: &Metrics| {
        m.store_errors.fetch_add(1, Relaxed);
    };
    while let Ok(job) = rx.recv() {
        match job {
            Job::Alerts(rows, events) => {
                if store.insert_alerts(&rows).is_err() {
                    fail(&metrics);
                }
                for ev in events {
                    channels.emit(&ev, &metrics);
                }
            }
            Job::Ban(rec, ev, reply) => {
                let r = store
                    .insert_ban(&rec)
                    .and_then(|_| store.active_ban(&rec.net, rec.created_unix))
                    .map_err(|e| e.to_string())
                    .and_then(|b| b.ok_or_else(|| "ban not found after insert".to_string()));
                if r.is_err() {
                    fail(&metrics);
                }
                channels.emit(&ev, &metrics);
                if let Some(reply) = reply {
                    let _ = reply.try_send(r);
                }
            }
            Job::Unban(net, now, why, reply) => {
                let r = store.remove_ban(&net, now, &why).map_err(|e| e.to_string());
                if r == Ok(true) {
                    channels.emit(&Event::Unban { net, why }, &metrics);
                }
                let _ = reply.try_send(r);
            }
            Job::Emit(ev) => channels.emit(&ev, &metrics),
            Job::Tick(now) => match store.expire_bans(now) {
                Ok(expired) => {
                    for b in expired {
                        // The kernel element carries its own timeout; nothing to delete there.
                        channels.emit(
                            &Event::Unban {
                                net: b.net,
                                why: "expired".into(),
                            },
                            &metrics,
                        );
                    }
                }
                Err(_) => fail(&metrics),
            },
            Job::Stats(rows) => {
                if store.add_source_stats(&rows).is_err() {
                    fail(&metrics);
                }
            }
            Job::Prune(cutoff) => {
                if store.prune(cutoff).is_err() {
                    fail(&metrics);
                }
            }
        }
    }
}

pub struct Responder {
    /// Read-only connection (WAL readers never wait for the writer).
    reader: Store,
    jobs: SyncSender<Job>,
    writer: Option<std::thread::JoinHandle<()>>,
    pub enforcer: Box<dyn Enforcer>,
    pub metrics: Arc<Metrics>,
    pub cfg: ResponseCfg,
    active: HashMap<String, i64>,
    last_report: HashMap<(IpAddr, &'static str), Instant>,
    refused_reported: HashMap<String, Instant>,
}

impl Responder {
    /// `store` is the read-write connection (it moves to the writer thread); `path` is reopened
    /// read-only for the responder's own queries.
    pub fn new(
        mut store: Store,
        path: &std::path::Path,
        enforcer: Box<dyn Enforcer>,
        channels: Channels,
        metrics: Arc<Metrics>,
        cfg: ResponseCfg,
    ) -> Result<Self, String> {
        // Expire what ended while we were down before anything reads the active set.
        let _ = store.expire_bans(now_unix());
        let reader = Store::open_read_only(path).map_err(|e| e.to_string())?;
        let (jobs, rx) = std::sync::mpsc::sync_channel(65_536);
        let m = metrics.clone();
        let writer = std::thread::Builder::new()
            .name("store".into())
            .spawn(move || writer(store, channels, m, rx))
            .map_err(|e| e.to_string())?;
        Ok(Responder {
            reader,
            jobs,
            writer: Some(writer),
            enforcer,
            metrics,
            cfg,
            active: HashMap::new(),
            last_report: HashMap::new(),
            refused_reported: HashMap::new(),
        })
    }

    /// Installs the table and restores the store's active bans into it.
    pub fn start(&mut self) -> Result<(), String> {
        let now = now_unix();
        let mut bans = self.reader.active_bans(now).map_err(|e| e.to_string())?;
        if self.cfg.enforce {
            self.enforcer.install()?;
            // A network allow-listed since it was banned (a trunk added to the config) is
            // lifted: its kernel element outlived the restart, and restoring around it would
            // leave the trusted source cut off until the ban ran out.
            // A ban recorded in dry-run was only ever logged: enforcing it now would apply the
            // very decisions the admin was still evaluating.
            let dry = self.enforcer.dry_run();
            let mut keep = Vec::with_capacity(bans.len());
            for b in bans {
                let why = if !dry && b.source.starts_with(DRY_RUN) {
                    "recorded in dry-run, never enforced".to_string()
                } else if let Some(why) = self.enforcer.refuse(&b.net) {
                    self.enforcer.unban(&b.net)?;
                    format!("allow-listed: {why}")
                } else {
                    keep.push(b);
                    continue;
                };
                let (tx, _rx) = std::sync::mpsc::sync_channel(1);
                self.job(Job::Unban(b.net, now, why, tx));
            }
            bans = keep;
            let list: Vec<(String, i64)> = bans
                .iter()
                .map(|b| (b.net.clone(), b.expires_unix))
                .collect();
            self.enforcer.reconcile(&list, now)?;
        }
        for b in bans {
            self.active.insert(b.net, b.expires_unix);
        }
        self.metrics
            .active_bans
            .store(self.active.len() as i64, Relaxed);
        Ok(())
    }

    fn job(&self, j: Job) {
        // Blocking: the writer is the only consumer and never waits on us.
        let _ = self.jobs.send(j);
    }

    pub fn run(mut self, rx: Receiver<Cmd>) {
        let mut last_tick = Instant::now();
        let mut last_prune = Instant::now();
        loop {
            match rx.recv_timeout(Duration::from_millis(500)) {
                Ok(Cmd::Stop) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(cmd) => {
                    // Batch whatever else is already waiting: one nft call, one transaction.
                    let mut batch = vec![cmd];
                    let mut stop = false;
                    while batch.len() < 1024 {
                        match rx.try_recv() {
                            Ok(Cmd::Stop) => {
                                stop = true;
                                break;
                            }
                            Ok(c) => batch.push(c),
                            Err(_) => break,
                        }
                    }
                    self.handle(batch);
                    if stop {
                        break;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            if last_tick.elapsed() >= Duration::from_secs(1) {
                last_tick = Instant::now();
                self.tick();
            }
            if last_prune.elapsed() >= Duration::from_secs(3600) {
                last_prune = Instant::now();
                self.job(Job::Prune(now_unix() - self.cfg.retention_s));
            }
        }
        // Let the writer drain and close the store cleanly.
        let (tx, _) = std::sync::mpsc::sync_channel(1);
        self.jobs = tx;
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }

    fn tick(&mut self) {
        let now = now_unix();
        self.job(Job::Tick(now));
        self.active.retain(|_, exp| *exp > now);
        self.metrics
            .active_bans
            .store(self.active.len() as i64, Relaxed);
        let ttl = self.cfg.update_interval;
        self.last_report.retain(|_, t| t.elapsed() < ttl);
        self.refused_reported
            .retain(|_, t| t.elapsed() < Duration::from_secs(3600));
    }

    fn handle(&mut self, batch: Vec<Cmd>) {
        let now = now_unix();
        let mut rows = Vec::new();
        let mut events = Vec::new();
        let mut bans: Vec<(String, u64, String)> = Vec::new();
        let mut replies = Vec::new();
        for cmd in batch {
            match cmd {
                Cmd::Alerts(changes) => {
                    for c in changes {
                        self.alert(c, now, &mut rows, &mut events, &mut bans);
                    }
                }
                other => replies.push(other),
            }
        }
        // Kernel first: the drop rule should follow the offending packet within milliseconds.
        let mut banned = false;
        if !bans.is_empty() {
            let list: Vec<(String, u64)> = bans.iter().map(|(n, s, _)| (n.clone(), *s)).collect();
            match self.enforcer.ban(&list) {
                Ok(()) => banned = true,
                Err(e) => {
                    self.metrics.nft_errors.fetch_add(1, Relaxed);
                    eprintln!("sipsentry: nft: {e}");
                }
            }
        }
        // New alerts count towards their source's statistics.
        let mut per_source: HashMap<String, u64> = HashMap::new();
        for ev in &events {
            if let Event::Alert { alert, new: true } = ev {
                if let Some(ip) = alert["source"]
                    .as_str()
                    .and_then(|s| s.parse::<std::net::SocketAddr>().ok())
                {
                    *per_source.entry(ip.ip().to_string()).or_default() += 1;
                }
            }
        }
        if !rows.is_empty() || !events.is_empty() {
            self.job(Job::Alerts(rows, events));
        }
        if !per_source.is_empty() {
            let bucket = now - now.rem_euclid(3600);
            self.job(Job::Stats(
                per_source
                    .into_iter()
                    .map(|(source, alerts)| sipsentry_store::SourceStat {
                        source,
                        bucket_unix: bucket,
                        messages: 0,
                        failures: 0,
                        alerts,
                        last_seen_unix: now,
                    })
                    .collect(),
            ));
        }
        if banned {
            for (net, secs, reason) in bans {
                self.record_ban(&net, secs, &reason, "detector", now, None);
            }
        }
        for r in replies {
            self.command(r, now);
        }
        self.metrics
            .active_bans
            .store(self.active.len() as i64, Relaxed);
    }

    fn alert(
        &mut self,
        c: AlertChange,
        now: i64,
        rows: &mut Vec<AlertRecord>,
        events: &mut Vec<Event>,
        bans: &mut Vec<(String, u64, String)>,
    ) {
        let a = &c.alert;
        let key = (a.source.ip(), a.id.as_str());
        if c.new {
            if let Ok(mut m) = self.metrics.alerts.lock() {
                *m.entry(a.id.as_str()).or_default() += 1;
            }
        }
        let due = c.new
            || self
                .last_report
                .get(&key)
                .is_none_or(|t| t.elapsed() >= self.cfg.update_interval);
        if due {
            self.last_report.insert(key, Instant::now());
            events.push(Event::Alert {
                alert: alert_json(a),
                new: c.new,
            });
            rows.push(record(a));
        }
        let Action::Ban { secs } = a.action else {
            return;
        };
        if !self.cfg.enforce {
            return;
        }
        let Ok(net) = canonical_net(&a.source.ip().to_string()) else {
            return;
        };
        if self.active.get(&net).is_some_and(|&exp| exp > now) || bans.iter().any(|b| b.0 == net) {
            return;
        }
        if let Some(why) = self.enforcer.refuse(&net) {
            self.refused(&net, a.id.as_str(), &why);
            return;
        }
        let prior = self
            .reader
            .prior_ban_count(&net, now - self.cfg.recidive_window_s as i64)
            .unwrap_or(0);
        let secs = escalate(
            prior,
            u64::from(secs),
            self.cfg.recidive_factor,
            self.cfg.max_ban_s,
        );
        bans.push((net, secs, a.id.as_str().to_string()));
    }

    fn refused(&mut self, net: &str, reason: &str, why: &str) {
        self.metrics.bans_refused.fetch_add(1, Relaxed);
        // A trunk failing 1000 times is one refusal notice per hour, not 1000.
        if self.refused_reported.contains_key(net) {
            return;
        }
        self.refused_reported
            .insert(net.to_string(), Instant::now());
        self.job(Job::Emit(Event::BanRefused {
            net: net.into(),
            reason: reason.into(),
            why: why.into(),
        }));
    }

    fn record_ban(
        &mut self,
        net: &str,
        secs: u64,
        reason: &str,
        by: &str,
        now: i64,
        reply: Option<SyncSender<Result<StoredBan, String>>>,
    ) {
        let expires = now.saturating_add(secs as i64);
        self.active.insert(net.to_string(), expires);
        self.metrics.bans_total.fetch_add(1, Relaxed);
        let rec = BanRecord {
            net: net.into(),
            created_unix: now,
            expires_unix: expires,
            reason: reason.into(),
            source: if self.enforcer.dry_run() {
                format!("{DRY_RUN}{by}")
            } else {
                by.into()
            },
        };
        let ev = Event::Ban {
            net: net.into(),
            seconds: secs,
            reason: reason.into(),
            source: by.into(),
            dry_run: self.enforcer.dry_run(),
        };
        self.job(Job::Ban(rec, ev, reply));
    }

    fn command(&mut self, cmd: Cmd, now: i64) {
        match cmd {
            Cmd::Ban {
                net,
                seconds,
                reason,
                by,
                reply,
            } => {
                let checked = (|| {
                    let net = canonical_net(&net)?;
                    if let Some(why) = self.enforcer.refuse(&net) {
                        self.refused(&net, &reason, &why);
                        return Err(format!("refused: {net} {why}"));
                    }
                    if seconds == 0 {
                        return Err("duration must be at least 1 second".into());
                    }
                    if seconds > MAX_BAN_S {
                        return Err(format!(
                            "duration must be at most {MAX_BAN_S} seconds (365 days): a longer \
                             ban would have no kernel timeout and outlive its record"
                        ));
                    }
                    // The store keeps the later of two expiries for a re-ban; the kernel
                    // replaces the timeout, so never hand it a shorter one than is in force.
                    let seconds = match self.active.get(&net) {
                        Some(&exp) if exp > now => seconds.max((exp - now).unsigned_abs()),
                        _ => seconds,
                    };
                    if self.cfg.enforce {
                        self.enforcer
                            .ban(&[(net.clone(), seconds)])
                            .inspect_err(|_| {
                                self.metrics.nft_errors.fetch_add(1, Relaxed);
                            })?;
                    }
                    Ok((net, seconds))
                })();
                match checked {
                    // The writer replies once the ban is committed.
                    Ok((net, seconds)) => {
                        self.record_ban(&net, seconds, &reason, &by, now, Some(reply))
                    }
                    Err(e) => {
                        let _ = reply.try_send(Err(e));
                    }
                }
            }
            Cmd::Unban { net, reply } => match canonical_net(&net) {
                Ok(net) => {
                    if self.cfg.enforce {
                        if let Err(e) = self.enforcer.unban(&net) {
                            let _ = reply.try_send(Err(e));
                            return;
                        }
                    }
                    self.active.remove(&net);
                    self.job(Job::Unban(net, now, "removed by hand".into(), reply));
                }
                Err(e) => {
                    let _ = reply.try_send(Err(e));
                }
            },
            Cmd::ListBans(reply) => {
                let _ = reply.try_send(self.reader.active_bans(now).map_err(|e| e.to_string()));
            }
            Cmd::ListAlerts(q, reply) => {
                let _ = reply.try_send(self.reader.alerts(&q).map_err(|e| e.to_string()));
            }
            Cmd::Stats(rows) => self.job(Job::Stats(rows)),
            Cmd::TopSources(since, limit, reply) => {
                let _ = reply.try_send(
                    self.reader
                        .top_sources(since, limit.clamp(1, 1000))
                        .map_err(|e| e.to_string()),
                );
            }
            Cmd::Alerts(_) | Cmd::Stop => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escalation_multiplies_and_caps() {
        assert_eq!(escalate(0, 3600, 4, 86_400 * 30), 3600);
        assert_eq!(escalate(1, 3600, 4, 86_400 * 30), 14_400);
        assert_eq!(escalate(2, 3600, 4, 86_400 * 30), 57_600);
        assert_eq!(escalate(40, 3600, 4, 86_400 * 30), 86_400 * 30);
        assert_eq!(escalate(3, 3600, 1, 86_400), 3600);
    }

    #[test]
    fn canonical_nets() {
        assert_eq!(canonical_net("198.51.100.7").unwrap(), "198.51.100.7/32");
        assert_eq!(canonical_net("198.51.100.7/24").unwrap(), "198.51.100.0/24");
        assert_eq!(canonical_net("2001:db8::1/48").unwrap(), "2001:db8::/48");
        assert_eq!(canonical_net("::1").unwrap(), "::1/128");
        assert!(canonical_net("10.0.0.0/33").is_err());
        assert!(canonical_net("example.com").is_err());
    }

    #[test]
    fn regression_ipv4_mapped_source_banned_in_the_ipv6_set() {
        // A ban on ::ffff:198.51.100.7 lands in ban6 and drops none of that client's packets.
        assert_eq!(
            canonical_net("::ffff:198.51.100.7").unwrap(),
            "198.51.100.7/32"
        );
        assert_eq!(
            canonical_net("::ffff:198.51.100.0/120").unwrap(),
            "198.51.100.0/24"
        );
        assert_eq!(canonical_net("::ffff:0:0/95").unwrap(), "::fffe:0:0/95");
        let dir = tempfile::tempdir().unwrap();
        let (mut r, kernel) = responder(&dir);
        let b = manual_ban(&mut r, "::ffff:198.51.100.7", 60).unwrap();
        assert_eq!(b.net, "198.51.100.7/32");
        assert_eq!(kernel.lock().unwrap()[0].0, "198.51.100.7/32");
    }

    type Kernel = Arc<std::sync::Mutex<Vec<(String, u64)>>>;

    /// Records what reaches the kernel (bans, and restores with their remaining seconds).
    struct Rec(Kernel, bool);

    impl Enforcer for Rec {
        fn install(&mut self) -> Result<(), String> {
            Ok(())
        }
        fn ban(&mut self, bans: &[(String, u64)]) -> Result<(), String> {
            self.0.lock().unwrap().extend_from_slice(bans);
            Ok(())
        }
        fn unban(&mut self, _: &str) -> Result<(), String> {
            Ok(())
        }
        fn reconcile(&mut self, bans: &[(String, i64)], now: i64) -> Result<(), String> {
            let mut k = self.0.lock().unwrap();
            k.extend(bans.iter().map(|(n, e)| (n.clone(), (e - now) as u64)));
            Ok(())
        }
        fn refuse(&self, _: &str) -> Option<String> {
            None
        }
        fn dry_run(&self) -> bool {
            self.1
        }
    }

    fn responder(dir: &tempfile::TempDir) -> (Responder, Kernel) {
        responder_with(dir, false)
    }

    fn responder_with(dir: &tempfile::TempDir, dry: bool) -> (Responder, Kernel) {
        let path = dir.path().join("s.db");
        let store = Store::open(&path).unwrap();
        let kernel = Arc::new(std::sync::Mutex::new(Vec::new()));
        let cfg = ResponseCfg {
            enforce: true,
            recidive_factor: 4,
            recidive_window_s: 86_400,
            max_ban_s: 30 * 86_400,
            update_interval: Duration::from_secs(60),
            retention_s: 86_400,
        };
        let mut r = Responder::new(
            store,
            &path,
            Box::new(Rec(kernel.clone(), dry)),
            Channels::new(false, None, None),
            Arc::new(Metrics::default()),
            cfg,
        )
        .unwrap();
        r.start().unwrap();
        (r, kernel)
    }

    fn manual_ban(r: &mut Responder, net: &str, seconds: u64) -> Result<StoredBan, String> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        r.handle(vec![Cmd::Ban {
            net: net.into(),
            seconds,
            reason: "test".into(),
            by: "api".into(),
            reply: tx,
        }]);
        rx.recv_timeout(Duration::from_secs(10)).unwrap()
    }

    #[test]
    fn regression_api_ban_seconds_beyond_kernel_timeout_is_permanent_in_kernel() {
        let dir = tempfile::tempdir().unwrap();
        let (mut r, kernel) = responder(&dir);
        // u64::MAX wrapped to a negative expiry: a kernel element without timeout, no store row.
        // 400 days: a kernel element without timeout that the store's expiry never removes.
        for secs in [u64::MAX, 1 << 63, 400 * 86_400] {
            let e = manual_ban(&mut r, "198.51.100.7", secs).unwrap_err();
            assert!(e.contains("at most"), "{secs}: {e}");
        }
        assert!(
            kernel.lock().unwrap().is_empty(),
            "{:?}",
            kernel.lock().unwrap()
        );
        let ok = manual_ban(&mut r, "198.51.100.7", 365 * 86_400).unwrap();
        assert_eq!(ok.expires_unix - ok.created_unix, 365 * 86_400);
    }

    #[test]
    fn regression_manual_reban_shorter_cuts_kernel_ban_below_stored_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let (mut r, kernel) = responder(&dir);
        let first = manual_ban(&mut r, "198.51.100.8", 3600).unwrap();
        let second = manual_ban(&mut r, "198.51.100.8", 60).unwrap();
        // The store keeps the later expiry; the kernel must not be told a shorter timeout.
        assert_eq!(second.expires_unix, first.expires_unix);
        let k = kernel.lock().unwrap();
        assert_eq!(k.len(), 2, "{k:?}");
        assert!(k[1].1 >= 3590, "kernel timeout cut to {}s: {k:?}", k[1].1);
    }

    #[test]
    fn regression_dry_run_bans_restored_into_the_kernel_when_enforcing() {
        let dir = tempfile::tempdir().unwrap();
        let (mut r, _) = responder_with(&dir, true);
        manual_ban(&mut r, "198.51.100.9", 600).unwrap();
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        tx.send(Cmd::Stop).unwrap();
        r.run(rx);
        // The admin switches dry-run off: what dry-run only logged must not be enforced now.
        let (r, kernel) = responder_with(&dir, false);
        assert!(
            kernel.lock().unwrap().is_empty(),
            "{:?}",
            kernel.lock().unwrap()
        );
        assert!(r.active.is_empty(), "{:?}", r.active);
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        tx.send(Cmd::Stop).unwrap();
        let path = dir.path().join("s.db");
        r.run(rx);
        let store = Store::open_read_only(&path).unwrap();
        assert!(store.active_bans(now_unix()).unwrap().is_empty());
    }
}

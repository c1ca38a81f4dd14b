//! `sipsentry watch`: the live guard that runs beside the PBX.
//!
//! ```text
//! HEP/UDP ─┐
//! HEP/TCP ─┤  bounded    ┌──────────────┐  changes  ┌───────────────────────────┐
//! capture ─┼──queue────▶ │ detector     │ ────────▶ │ responder: nft bans,       │
//! logs    ─┘ (drop+count)│ thread       │           │ store, stdout/syslog/webhook│
//!                        └──────────────┘           └───────────────────────────┘
//!                                                        ▲ commands
//!                                      HTTP /healthz /metrics /api ┘
//! ```
//!
//! Plain threads, no async runtime: a handful of long-lived loops, each with one job. The
//! detectors are the same pure state machines `sipsentry analyze` runs on captures, in live
//! mode ([`sipsentry_detect::Engine::set_live`]), so a capture replays exactly what the guard saw.

pub mod actions;
pub mod config;
mod enforce;
pub use enforce::enforcer;
pub mod http;
pub mod inputs;
pub mod metrics;
pub mod outputs;

use actions::{Cmd, Enforcer, Responder, ResponseCfg};
use config::{Config, Mode};
use metrics::Metrics;
use sipsentry_detect::{Engine, LogSignal, Policy};
use sipsentry_ingest::{Origin, SipEvent, Transport};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One unit of work for the detector thread (owned: it crossed a thread boundary).
#[derive(Debug)]
pub enum Input {
    Sip {
        input: usize,
        ts_ns: i64,
        src: SocketAddr,
        dst: SocketAddr,
        transport: Transport,
        data: Vec<u8>,
    },
    Log {
        ts_ns: i64,
        src: SocketAddr,
        signal: LogSignal,
        user: String,
        service: &'static str,
    },
}

/// What a log event means to the detectors; `None` for lines that are not security signals.
pub fn log_signal(kind: sipsentry_logs::LogEventKind) -> Option<LogSignal> {
    use sipsentry_logs::LogEventKind as K;
    match kind {
        K::AuthFailure | K::ManagerAuthFailure => Some(LogSignal::AuthFailure),
        K::UnknownUser => Some(LogSignal::UnknownUser),
        K::AclReject | K::FloodOrBlocked | K::PolicyViolation => Some(LogSignal::AclReject),
        K::AuthSuccess => Some(LogSignal::AuthSuccess),
        _ => None,
    }
}

pub(crate) fn log_input(ev: &sipsentry_logs::LogEvent<'_>) -> Option<Input> {
    let signal = log_signal(ev.kind)?;
    Some(Input::Log {
        // Live: the line was just written; its own timestamp (often second-resolution and
        // year-less) only stands in when it is close to now.
        ts_ns: inputs::now_ns(),
        src: SocketAddr::new(ev.source, ev.source_port.unwrap_or(0)),
        signal,
        user: ev
            .user_lossy()
            .map(|u| u.chars().take(128).collect())
            .unwrap_or_default(),
        service: ev.service,
    })
}

/// Errors that stop the guard from starting; each names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Input(String),
    #[error("store: {0}")]
    Store(#[from] sipsentry_store::StoreError),
    #[error("firewall: {0}")]
    Firewall(String),
    #[error("store reader: {0}")]
    Reader(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("no input configured: add [inputs.hep], [inputs.capture] or [[inputs.log]]")]
    NoInput,
}

/// A running guard. Dropping it without [`Guard::stop`] leaves threads running until exit.
pub struct Guard {
    stop: Arc<AtomicBool>,
    cmds: SyncSender<Cmd>,
    threads: Vec<JoinHandle<()>>,
    pub metrics: Arc<Metrics>,
    /// Addresses actually bound (useful with port 0).
    pub hep_udp: Option<SocketAddr>,
    pub hep_tcp: Option<SocketAddr>,
    pub api: Option<SocketAddr>,
    webhooks: Option<Arc<outputs::WebhookQueue>>,
}

fn read_secret(path: &std::path::Path, what: &str) -> Result<String, StartError> {
    let s = std::fs::read_to_string(path).map_err(|e| StartError::Io {
        what: format!("{what} {}", path.display()),
        source: e,
    })?;
    let s = s.trim().to_string();
    if s.is_empty() {
        return Err(StartError::Input(format!(
            "{what} {} is empty",
            path.display()
        )));
    }
    Ok(s)
}

impl Guard {
    /// Starts every configured input, the detector and the responder. `enforcer` is `None` in
    /// `mode = "off"`.
    pub fn start(
        cfg: &Config,
        policy: Policy,
        enforcer: Box<dyn Enforcer>,
    ) -> Result<Guard, StartError> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        let mut cmds = None;
        let mut webhooks = None;
        let started = Self::start_threads(
            cfg,
            policy,
            enforcer,
            &stop,
            &mut threads,
            &mut cmds,
            &mut webhooks,
        );
        if started.is_err() {
            // A later step failed (an address in use, a missing interface): stop what already
            // runs, so no listener keeps its socket and no thread outlives the failed start.
            stop.store(true, Relaxed);
            if let Some(q) = &webhooks {
                q.close();
            }
            if let Some(c) = cmds {
                let _ = c.send(Cmd::Stop);
            }
            for t in threads {
                let _ = t.join();
            }
        }
        started
    }

    fn start_threads(
        cfg: &Config,
        policy: Policy,
        enforcer: Box<dyn Enforcer>,
        stop: &Arc<AtomicBool>,
        threads: &mut Vec<JoinHandle<()>>,
        cmds_out: &mut Option<SyncSender<Cmd>>,
        webhooks_out: &mut Option<Arc<outputs::WebhookQueue>>,
    ) -> Result<Guard, StartError> {
        let metrics = Arc::new(Metrics::default());
        if cfg.inputs.hep.is_none() && cfg.inputs.capture.is_none() && cfg.inputs.log.is_empty() {
            return Err(StartError::NoInput);
        }
        // A FIFO or device would block the follower in open()/read() where it cannot see the
        // stop flag (and a pipe has no offset to follow): only regular files are followed.
        for (i, l) in cfg.inputs.log.iter().enumerate() {
            if let Ok(meta) = std::fs::metadata(&l.path) {
                if !meta.is_file() {
                    return Err(StartError::Input(format!(
                        "inputs.log[{i}].path {}: not a regular file (point it at the file the logger writes, not a pipe or device)",
                        l.path.display()
                    )));
                }
            }
        }
        // Secrets first: a missing token file fails before anything binds.
        let api_token = match &cfg.api.token_file {
            Some(p) => Some(read_secret(p, "api.token_file")?),
            None => None,
        };
        let hep_key = match cfg
            .inputs
            .hep
            .as_ref()
            .and_then(|h| h.auth_key_file.as_ref())
        {
            Some(p) => Some(read_secret(p, "inputs.hep.auth_key_file")?.into_bytes()),
            None => None,
        };
        let mut hooks = Vec::new();
        for w in &cfg.alerts.webhook {
            let token = match &w.token_file {
                Some(p) => Some(read_secret(p, "alerts.webhook.token_file")?),
                None => None,
            };
            hooks.push((w.clone(), token));
        }

        if let Some(parent) = cfg.store.path.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| StartError::Io {
                    what: format!("store directory {}", parent.display()),
                    source: e,
                })?;
            }
        }
        let store = sipsentry_store::Store::open(&cfg.store.path)?;

        let syslog = match &cfg.alerts.syslog {
            Some(s) => {
                let t = config::parse_syslog(s).map_err(StartError::Input)?;
                Some(outputs::Syslog::open(&t).map_err(|e| StartError::Io {
                    what: "syslog".into(),
                    source: e,
                })?)
            }
            None => None,
        };
        let webhooks = if hooks.is_empty() {
            None
        } else {
            let q = outputs::WebhookQueue::new(cfg.alerts.webhook_queue);
            let (q2, m2) = (q.clone(), metrics.clone());
            // Detached: stopping the guard never waits for a slow endpoint.
            drop(
                std::thread::Builder::new()
                    .name("webhook".into())
                    .spawn(move || outputs::webhook_worker(q2, hooks, m2))
                    .map_err(|e| StartError::Io {
                        what: "thread".into(),
                        source: e,
                    })?,
            );
            Some(q)
        };
        *webhooks_out = webhooks.clone();
        let channels = outputs::Channels::new(cfg.alerts.stdout, syslog, webhooks.clone());
        let rcfg = ResponseCfg {
            enforce: cfg.response.mode != Mode::Off,
            recidive_factor: cfg.response.recidive_factor,
            recidive_window_s: cfg.response.recidive_window_s,
            max_ban_s: cfg.response.max_ban_s,
            update_interval: Duration::from_secs(cfg.alerts.update_interval_s),
            retention_s: i64::from(cfg.store.retention_days) * 86_400,
        };
        let mut responder = Responder::new(
            store,
            &cfg.store.path,
            enforcer,
            channels,
            metrics.clone(),
            rcfg,
        )
        .map_err(StartError::Reader)?;
        responder.start().map_err(StartError::Firewall)?;
        let (cmd_tx, cmd_rx) = sync_channel::<Cmd>(4096);
        *cmds_out = Some(cmd_tx.clone());
        threads.push(spawn("respond", move || responder.run(cmd_rx))?);

        let (in_tx, in_rx) = sync_channel::<Input>(cfg.inputs.queue);
        let mut hep_udp = None;
        let mut hep_tcp = None;
        if let Some(h) = &cfg.inputs.hep {
            let filter = inputs::HepFilter {
                key: hep_key,
                capture_ids: h.capture_ids.clone(),
            };
            if !h.udp.is_empty() {
                let s = inputs::bind_udp(&h.udp).map_err(StartError::Input)?;
                hep_udp = s.local_addr().ok();
                let (f, tx, m, st) = (filter.clone(), in_tx.clone(), metrics.clone(), stop.clone());
                threads.push(spawn("hep-udp", move || inputs::hep_udp(s, f, tx, m, st))?);
            }
            if !h.tcp.is_empty() {
                let l = inputs::bind_tcp(&h.tcp).map_err(StartError::Input)?;
                hep_tcp = l.local_addr().ok();
                let (f, tx, m, st) = (filter, in_tx.clone(), metrics.clone(), stop.clone());
                threads.push(spawn("hep-tcp", move || inputs::hep_tcp(l, f, tx, m, st))?);
            }
        }
        for l in &cfg.inputs.log {
            let (p, fs, tx, m, st) = (
                l.path.clone(),
                l.from_start,
                in_tx.clone(),
                metrics.clone(),
                stop.clone(),
            );
            threads.push(spawn("log", move || inputs::follow_log(p, fs, tx, m, st))?);
        }
        if let Some(c) = &cfg.inputs.capture {
            #[cfg(feature = "live-capture")]
            inputs::capture(c.clone(), in_tx.clone(), metrics.clone(), stop.clone())
                .map_err(StartError::Input)?;
            #[cfg(not(feature = "live-capture"))]
            return Err(StartError::Input(format!(
                "inputs.capture ({}): this build has no live capture; rebuild with the `live-capture` feature (needs libpcap)",
                c.interface
            )));
        }
        drop(in_tx);

        let mut engine = Engine::with_policy(policy);
        engine.set_live(true);
        let (m, st, tx) = (metrics.clone(), stop.clone(), cmd_tx.clone());
        threads.push(spawn("detect", move || {
            detect_loop(engine, in_rx, tx, m, st)
        })?);

        let mut api = None;
        if !cfg.api.listen.is_empty() {
            let l = std::net::TcpListener::bind(&cfg.api.listen).map_err(|e| StartError::Io {
                what: format!("api.listen {}", cfg.api.listen),
                source: e,
            })?;
            api = l.local_addr().ok();
            let state = http::ApiState {
                metrics: metrics.clone(),
                cmds: cmd_tx.clone(),
                token: api_token,
            };
            let st = stop.clone();
            threads.push(spawn("http", move || http::serve(l, state, st))?);
        }
        Ok(Guard {
            stop: stop.clone(),
            cmds: cmd_tx,
            threads: std::mem::take(threads),
            metrics,
            hep_udp,
            hep_tcp,
            api,
            webhooks,
        })
    }

    /// Stops every thread and waits for them; the store is closed cleanly.
    pub fn stop(self) {
        self.stop.store(true, Relaxed);
        if let Some(q) = &self.webhooks {
            q.close();
        }
        let _ = self.cmds.send(Cmd::Stop);
        drop(self.cmds);
        for t in self.threads {
            let _ = t.join();
        }
    }

    /// A handle for commands (the API uses the same path).
    pub fn commands(&self) -> SyncSender<Cmd> {
        self.cmds.clone()
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>, StartError> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map_err(|e| StartError::Io {
            what: format!("starting thread {name}"),
            source: e,
        })
}

/// The detector thread: feeds events to the engine in batches and hands alert changes to the
/// responder after each batch — at most one batch (≤ 4096 events, or 20 ms) after the packet.
fn detect_loop(
    mut engine: Engine,
    rx: Receiver<Input>,
    tx: SyncSender<Cmd>,
    m: Arc<Metrics>,
    stop: Arc<AtomicBool>,
) {
    let limits = sipsentry_sip::Limits::default();
    let mut methods: std::collections::BTreeMap<(&'static str, String), u64> = Default::default();
    let mut statuses: std::collections::BTreeMap<(&'static str, u16), u64> = Default::default();
    let mut last_merge = Instant::now();
    let mut last_retire = Instant::now();
    let mut last_stats = Instant::now();
    let mut sources = SourceCounts::default();
    loop {
        let first = match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(i) => Some(i),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if stop.load(Relaxed) {
            break;
        }
        let idle = first.is_none();
        let started = Instant::now();
        let mut next = first;
        let mut n = 0;
        while let Some(input) = next.take() {
            n += 1;
            m.queued_bytes
                .fetch_sub(inputs::input_bytes(&input), Relaxed);
            match input {
                Input::Sip {
                    input,
                    ts_ns,
                    src,
                    dst,
                    transport,
                    data,
                } => {
                    let ev = SipEvent {
                        ts_nanos: ts_ns,
                        src,
                        dst,
                        transport,
                        data: &data,
                        origin: Origin::Wire,
                    };
                    let msg = ev.message(&limits);
                    let name = metrics::INPUTS[input.min(3)];
                    if let Some(meth) = msg.method() {
                        let key = (
                            name,
                            String::from_utf8_lossy(meth.as_bytes())
                                .chars()
                                .take(32)
                                .collect(),
                        );
                        *methods.entry(key).or_default() += 1;
                        sources.message(src.ip(), false);
                    } else if let Some(code) = msg.status() {
                        *statuses.entry((name, code)).or_default() += 1;
                        // A 403 to a client is a refusal of that client; challenges are not.
                        if code == 403 {
                            sources.message(dst.ip(), true);
                        }
                    }
                    engine.on_message(&ev, &msg);
                }
                Input::Log {
                    ts_ns,
                    src,
                    signal,
                    user,
                    service,
                } => {
                    sources.message(
                        src.ip(),
                        matches!(signal, LogSignal::AuthFailure | LogSignal::UnknownUser),
                    );
                    engine.on_log_event(ts_ns, src, signal, &user, service);
                }
            }
            if n >= 4096 || started.elapsed() > Duration::from_millis(20) {
                break;
            }
            next = rx.try_recv().ok();
        }
        let changes = engine.drain_changes();
        if !changes.is_empty() {
            // Blocking send: alerts are never dropped; backpressure lands on the input queue.
            if tx.send(Cmd::Alerts(changes)).is_err() {
                break;
            }
        }
        if idle || last_merge.elapsed() > Duration::from_millis(500) {
            last_merge = Instant::now();
            // Bounded label sets: methods from the wire are capped per input.
            if let Ok(mut g) = m.by_method.lock() {
                for (k, v) in std::mem::take(&mut methods) {
                    if g.len() < 64 || g.contains_key(&k) {
                        *g.entry(k).or_default() += v;
                    } else {
                        *g.entry((k.0, "other".into())).or_default() += v;
                    }
                }
            }
            if let Ok(mut g) = m.by_status.lock() {
                for (k, v) in std::mem::take(&mut statuses) {
                    *g.entry(k).or_default() += v;
                }
            }
        }
        let since = last_stats.elapsed();
        if since > Duration::from_secs(10) || (idle && since > Duration::from_secs(1)) {
            last_stats = Instant::now();
            let rows = sources.take();
            if !rows.is_empty() && tx.send(Cmd::Stats(rows)).is_err() {
                break;
            }
        }
        if last_retire.elapsed() > Duration::from_secs(60) {
            last_retire = Instant::now();
            engine.retire_alerts(6 * 3600 * 1_000_000_000);
        }
    }
}

/// Per-source message and failure counts between two flushes to the store's `source_stats`.
/// Bounded: beyond [`SourceCounts::MAX`] distinct sources in one interval (a spoofed flood),
/// the rest are not tracked individually — the detectors' own state already reports them.
#[derive(Default)]
struct SourceCounts {
    map: std::collections::HashMap<std::net::IpAddr, (u64, u64)>,
}

impl SourceCounts {
    const MAX: usize = 10_000;

    fn message(&mut self, ip: std::net::IpAddr, failure: bool) {
        let full = self.map.len() >= Self::MAX;
        if let Some(e) = self.map.get_mut(&ip) {
            e.0 += 1;
            e.1 += u64::from(failure);
        } else if !full {
            self.map.insert(ip, (1, u64::from(failure)));
        }
    }

    /// Rows for the current hour bucket.
    fn take(&mut self) -> Vec<sipsentry_store::SourceStat> {
        let now = inputs::now_ns() / 1_000_000_000;
        let bucket = now - now.rem_euclid(3600);
        std::mem::take(&mut self.map)
            .into_iter()
            .map(|(ip, (messages, failures))| sipsentry_store::SourceStat {
                source: ip.to_string(),
                bucket_unix: bucket,
                messages,
                failures,
                alerts: 0,
                last_seen_unix: now,
            })
            .collect()
    }
}

/// An enforcer that bans nothing and refuses nothing: `mode = "off"`.
pub struct NoEnforcer;

impl Enforcer for NoEnforcer {
    fn install(&mut self) -> Result<(), String> {
        Ok(())
    }
    fn ban(&mut self, _: &[(String, u64)]) -> Result<(), String> {
        Ok(())
    }
    fn unban(&mut self, _: &str) -> Result<(), String> {
        Ok(())
    }
    fn reconcile(&mut self, _: &[(String, i64)], _: i64) -> Result<(), String> {
        Ok(())
    }
    fn refuse(&self, _: &str) -> Option<String> {
        None
    }
}

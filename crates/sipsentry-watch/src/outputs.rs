//! Alert channels: JSON lines on stdout, RFC 5424 syslog, webhooks. Webhooks run on their own
//! thread behind a bounded queue: a slow or dead endpoint costs dropped notifications (counted),
//! never detection or bans.

use crate::config::{SyslogTarget, WebhookCfg};
use crate::metrics::Metrics;
use serde_json::{json, Value};
use sipsentry_detect::{Alert, Severity};
use std::collections::VecDeque;
use std::io::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// RFC 3339 UTC with microseconds.
pub fn rfc3339(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let micros = ns.rem_euclid(1_000_000_000) / 1000;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// The alert document: the same fields as `sipsentry analyze --format json` alerts.
pub fn alert_json(a: &Alert) -> Value {
    json!({
        "id": a.id.as_str(),
        "severity": a.severity.as_str(),
        "source": a.source.to_string(),
        "target": a.target,
        "first_seen": rfc3339(a.first_seen_ns),
        "last_seen": rfc3339(a.last_seen_ns),
        "count": a.count,
        "evidence": a.evidence,
        "control": a.control(),
        "action": a.action.to_string(),
    })
}

/// Everything the guard reports, one JSON object per line.
#[derive(Debug, Clone)]
pub enum Event {
    Alert {
        alert: Value,
        new: bool,
    },
    Ban {
        net: String,
        seconds: u64,
        reason: String,
        source: String,
        dry_run: bool,
    },
    BanRefused {
        net: String,
        reason: String,
        why: String,
    },
    Unban {
        net: String,
        why: String,
    },
}

impl Event {
    pub fn json(&self) -> Value {
        match self {
            Event::Alert { alert, new } => {
                let mut v = alert.clone();
                v["event"] = json!(if *new { "alert" } else { "alert-update" });
                v
            }
            Event::Ban {
                net,
                seconds,
                reason,
                source,
                dry_run,
            } => json!({
                "event": if *dry_run { "ban-dry-run" } else { "ban" },
                "net": net, "seconds": seconds, "reason": reason, "by": source,
            }),
            Event::BanRefused { net, reason, why } => json!({
                "event": "ban-refused", "net": net, "reason": reason, "why": why,
            }),
            Event::Unban { net, why } => json!({ "event": "unban", "net": net, "why": why }),
        }
    }

    fn syslog_severity(&self) -> u8 {
        match self {
            Event::Alert { alert, .. } => match alert["severity"].as_str() {
                Some("critical") => 2,
                Some("high") => 3,
                Some("medium") => 4,
                Some("low") => 5,
                _ => 6,
            },
            Event::Ban { .. } | Event::BanRefused { .. } => 4,
            Event::Unban { .. } => 6,
        }
    }

    fn msgid(&self) -> String {
        match self {
            Event::Alert { alert, .. } => alert["id"].as_str().unwrap_or("ALERT").to_string(),
            Event::Ban { .. } => "BAN".into(),
            Event::BanRefused { .. } => "BAN-REFUSED".into(),
            Event::Unban { .. } => "UNBAN".into(),
        }
    }
}

/// Severity of an alert as a value comparable with `sipsentry_detect::Severity`.
pub fn severity_rank(s: Severity) -> u8 {
    s as u8
}

/// RFC 5424 line: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`, facility authpriv (10):
/// these are security events. Structured data values escape `"`, `\` and `]` (§6.3.3).
pub fn rfc5424(ev: &Event, now_ns: i64, host: &str) -> String {
    let pri = 10 * 8 + u32::from(ev.syslog_severity());
    let sd_escape = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace(']', "\\]")
    };
    let v = ev.json();
    let mut sd = String::from("[sipsentry@32473");
    for k in [
        "event", "id", "severity", "source", "target", "net", "reason",
    ] {
        if let Some(x) = v.get(k).and_then(|x| x.as_str()) {
            sd.push_str(&format!(" {k}=\"{}\"", sd_escape(x)));
        }
    }
    sd.push(']');
    let msg = v.to_string();
    format!(
        "<{pri}>1 {} {} sipsentry {} {} {sd} {msg}",
        rfc3339(now_ns),
        if host.is_empty() { "-" } else { host },
        std::process::id(),
        ev.msgid()
    )
}

pub enum Syslog {
    Unix(std::os::unix::net::UnixDatagram, std::path::PathBuf),
    Udp(std::net::UdpSocket, std::net::SocketAddr),
}

impl Syslog {
    pub fn open(t: &SyslogTarget) -> std::io::Result<Syslog> {
        // Non-blocking: a local datagram send waits while the daemon's queue is full, and a
        // hung syslog daemon would stall the store writer and then detection. A full queue
        // drops the line instead (best effort, RFC 5426).
        Ok(match t {
            SyslogTarget::Unix(p) => {
                let s = std::os::unix::net::UnixDatagram::unbound()?;
                s.set_nonblocking(true)?;
                Syslog::Unix(s, p.clone())
            }
            SyslogTarget::Udp(a) => {
                let bind: std::net::SocketAddr = if a.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }
                    .parse()
                    .expect("literal");
                let s = std::net::UdpSocket::bind(bind)?;
                s.set_nonblocking(true)?;
                Syslog::Udp(s, *a)
            }
        })
    }

    pub fn send(&self, line: &str) {
        // Syslog is best effort by design (RFC 5426): a missing daemon must not stop the guard.
        let _ = match self {
            Syslog::Unix(s, p) => s.send_to(line.as_bytes(), p),
            Syslog::Udp(s, a) => s.send_to(line.as_bytes(), a),
        };
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| {
            s.trim()
                .chars()
                .filter(|c| c.is_ascii_graphic())
                .take(255)
                .collect()
        })
        .unwrap_or_default()
}

/// Bounded queue feeding the webhook thread.
pub struct WebhookQueue {
    q: Mutex<(VecDeque<Value>, bool)>,
    cv: Condvar,
    cap: usize,
}

impl WebhookQueue {
    pub fn new(cap: usize) -> Arc<Self> {
        Arc::new(WebhookQueue {
            q: Mutex::new((VecDeque::new(), false)),
            cv: Condvar::new(),
            cap,
        })
    }

    /// Enqueue; when full, the oldest waiting alert is dropped (newest news matters most).
    pub fn push(&self, v: Value, m: &Metrics) {
        if let Ok(mut g) = self.q.lock() {
            if g.0.len() >= self.cap {
                g.0.pop_front();
                m.webhook_dropped.fetch_add(1, Relaxed);
            }
            g.0.push_back(v);
            self.cv.notify_one();
        }
    }

    pub fn close(&self) {
        if let Ok(mut g) = self.q.lock() {
            g.1 = true;
            self.cv.notify_all();
        }
    }

    fn pop(&self) -> Option<Value> {
        let mut g = self.q.lock().ok()?;
        loop {
            // Closed: what is still queued is abandoned (the store has every alert).
            if g.1 {
                return None;
            }
            if let Some(v) = g.0.pop_front() {
                return Some(v);
            }
            g = self.cv.wait_timeout(g, Duration::from_millis(500)).ok()?.0;
        }
    }
}

/// The webhook worker: POSTs each queued event to every endpoint, retrying with exponential
/// back-off (0.5 s doubling, capped at 30 s).
pub fn webhook_worker(
    q: Arc<WebhookQueue>,
    hooks: Vec<(WebhookCfg, Option<String>)>,
    m: Arc<Metrics>,
) {
    let agents: Vec<ureq::Agent> = hooks
        .iter()
        .map(|(h, _)| {
            ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(h.timeout_s))
                .build()
        })
        .collect();
    while let Some(v) = q.pop() {
        let body = v.to_string();
        for ((h, token), agent) in hooks.iter().zip(&agents) {
            if post_with_retry(agent, h, token.as_deref(), &body) {
                m.webhook_sent.fetch_add(1, Relaxed);
            } else {
                m.webhook_failed.fetch_add(1, Relaxed);
            }
        }
    }
}

/// One delivery: POST, retried with exponential back-off (0.5 s doubling, capped at 30 s) on
/// network errors, 5xx and 429; other 4xx mean the endpoint refuses this payload for good.
fn post_with_retry(agent: &ureq::Agent, h: &WebhookCfg, token: Option<&str>, body: &str) -> bool {
    let mut delay = Duration::from_millis(500);
    for attempt in 0..=h.retries {
        let mut req = agent.post(&h.url).set("Content-Type", "application/json");
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        match req.send_string(body) {
            Ok(_) => return true,
            Err(ureq::Error::Status(code, _)) if (400..500).contains(&code) && code != 429 => {
                return false
            }
            Err(_) if attempt < h.retries => {
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(30));
            }
            Err(_) => {}
        }
    }
    false
}

/// A webhook URL as it may appear in a message: scheme and host only. Incoming-webhook URLs
/// (Slack, Teams, Discord, …) carry their credential in the path or query, and a URL may hold
/// `user:password@`.
pub fn url_for_log(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let elided = if rest.len() > authority.len() {
        "/…"
    } else {
        ""
    };
    format!("{scheme}://{host}{elided}")
}

/// Delivers one event now, synchronously, to the syslog and webhooks a guard configuration
/// names (for one-shot commands such as `backup restore-test` that share the guard's alert
/// channels). Returns what failed, each named; secrets are read from their files and never
/// appear in the messages.
pub fn deliver_once(alerts: &crate::config::Alerts, ev: &Event) -> Vec<String> {
    let mut failed = Vec::new();
    if let Some(t) = &alerts.syslog {
        match crate::config::parse_syslog(t)
            .and_then(|t| Syslog::open(&t).map_err(|e| e.to_string()))
        {
            Ok(s) => s.send(&rfc5424(ev, crate::inputs::now_ns(), &hostname())),
            Err(e) => failed.push(format!("syslog {t}: {e}")),
        }
    }
    let body = ev.json().to_string();
    for h in &alerts.webhook {
        let token = match &h.token_file {
            Some(p) => match std::fs::read_to_string(p) {
                Ok(t) => Some(t.trim().to_string()),
                Err(e) => {
                    failed.push(format!(
                        "webhook {}: token file {}: {e}",
                        url_for_log(&h.url),
                        p.display()
                    ));
                    continue;
                }
            },
            None => None,
        };
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(h.timeout_s))
            .build();
        if !post_with_retry(&agent, h, token.as_deref(), &body) {
            failed.push(format!(
                "webhook {}: not delivered after {} retries",
                url_for_log(&h.url),
                h.retries
            ));
        }
    }
    failed
}

/// Fan-out to the configured channels.
pub struct Channels {
    pub stdout: bool,
    pub syslog: Option<Syslog>,
    pub webhooks: Option<Arc<WebhookQueue>>,
    host: String,
}

impl Channels {
    pub fn new(stdout: bool, syslog: Option<Syslog>, webhooks: Option<Arc<WebhookQueue>>) -> Self {
        Channels {
            stdout,
            syslog,
            webhooks,
            host: hostname(),
        }
    }

    pub fn emit(&self, ev: &Event, m: &Metrics) {
        let v = ev.json();
        if self.stdout {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{v}");
            let _ = out.flush();
        }
        if let Some(s) = &self.syslog {
            s.send(&rfc5424(ev, crate::inputs::now_ns(), &self.host));
        }
        if let Some(q) = &self.webhooks {
            q.push(v, m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            rfc3339(1_795_832_599_824_708_000),
            "2026-11-28T02:23:19.824708Z"
        );
        assert_eq!(
            rfc3339(951_782_400_000_000_000),
            "2000-02-29T00:00:00.000000Z"
        );
    }

    #[test]
    fn syslog_line_is_rfc5424_and_escapes_structured_data() {
        let ev = Event::BanRefused {
            net: "10.0.0.1/32".into(),
            reason: "AUTH-BRUTEFORCE".into(),
            why: "trusted \"office\" ]".into(),
        };
        let line = rfc5424(&ev, 0, "pbx1");
        assert!(
            line.starts_with("<84>1 1970-01-01T00:00:00.000000Z pbx1 sipsentry "),
            "{line}"
        );
        assert!(line.contains(" BAN-REFUSED [sipsentry@32473 event=\"ban-refused\" net=\"10.0.0.1/32\" reason=\"AUTH-BRUTEFORCE\"]"), "{line}");
    }

    #[test]
    fn webhook_queue_drops_oldest_when_full() {
        let m = Metrics::default();
        let q = WebhookQueue::new(2);
        for i in 0..5 {
            q.push(json!(i), &m);
        }
        assert_eq!(m.webhook_dropped.load(Relaxed), 3);
        assert_eq!(q.pop(), Some(json!(3)));
        assert_eq!(q.pop(), Some(json!(4)));
        q.close();
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn regression_syslog_unix_socket_with_stalled_reader_blocks_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.sock");
        // A syslog daemon that accepts datagrams but never reads them (hung journald).
        let _stalled = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        let s = Syslog::open(&SyslogTarget::Unix(path)).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let line = "x".repeat(512);
            // Far beyond the receive queue (net.unix.max_dgram_qlen, 512 by default).
            for _ in 0..5000 {
                s.send(&line);
            }
            let _ = tx.send(());
        });
        assert!(
            rx.recv_timeout(Duration::from_secs(10)).is_ok(),
            "syslog send blocked on a stalled reader"
        );
    }

    #[test]
    fn regression_webhook_url_secret_in_delivery_error() {
        let alerts: crate::config::Alerts = toml::from_str(
            "[[webhook]]\nurl = \"http://user:pw0rd@127.0.0.92:9/services/T0/B0/SECRETXYZ?token=abc123\"\nretries = 0\ntimeout_s = 2\n",
        )
        .unwrap();
        let ev = Event::Unban {
            net: "192.0.2.1/32".into(),
            why: "test".into(),
        };
        let failed = deliver_once(&alerts, &ev);
        assert_eq!(failed.len(), 1, "{failed:?}");
        for secret in ["pw0rd", "SECRETXYZ", "abc123", "user"] {
            assert!(!failed[0].contains(secret), "{secret} in {:?}", failed[0]);
        }
        assert!(failed[0].contains("http://127.0.0.92:9"), "{:?}", failed[0]);
        assert_eq!(
            url_for_log("https://h.example:8443"),
            "https://h.example:8443"
        );
    }
}

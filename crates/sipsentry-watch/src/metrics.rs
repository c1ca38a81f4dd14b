//! Counters for Prometheus `/metrics`. Inputs and the detector thread update atomics (no lock
//! on the packet path); labelled families that need a map are merged once per detector batch.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;

/// Input names, used as the `input` label.
pub const INPUTS: [&str; 4] = ["hep_udp", "hep_tcp", "capture", "log"];

#[derive(Default)]
pub struct Metrics {
    /// Messages (or log events) received per input, index as [`INPUTS`].
    pub received: [AtomicU64; 4],
    /// Dropped because the detector queue was full, per input.
    pub dropped: [AtomicU64; 4],
    /// Bytes waiting in the detector queue (bounded by `inputs::MAX_QUEUE_BYTES`).
    pub queued_bytes: AtomicUsize,
    /// HEP packets refused: bad auth key, filtered capture id, undecodable.
    pub hep_rejected: AtomicU64,
    /// Packet time lag behind the wall clock of the last message, in milliseconds.
    pub lag_ms: AtomicI64,
    pub active_bans: AtomicI64,
    pub bans_total: AtomicU64,
    pub bans_refused: AtomicU64,
    pub webhook_dropped: AtomicU64,
    pub webhook_failed: AtomicU64,
    pub webhook_sent: AtomicU64,
    pub store_errors: AtomicU64,
    pub nft_errors: AtomicU64,
    /// (input, method) and (input, status) counts, merged by the detector thread.
    pub by_method: Mutex<BTreeMap<(&'static str, String), u64>>,
    pub by_status: Mutex<BTreeMap<(&'static str, u16), u64>>,
    pub alerts: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    pub fn input_index(name: &str) -> usize {
        INPUTS.iter().position(|i| *i == name).unwrap_or(0)
    }

    /// Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let counter = |o: &mut String, name: &str, help: &str| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} counter");
        };
        counter(
            &mut o,
            "sipsentry_input_received_total",
            "SIP messages and log events received, by input.",
        );
        for (i, n) in INPUTS.iter().enumerate() {
            let _ = writeln!(
                o,
                "sipsentry_input_received_total{{input=\"{n}\"}} {}",
                self.received[i].load(Relaxed)
            );
        }
        counter(
            &mut o,
            "sipsentry_input_dropped_total",
            "Messages dropped because the detector queue was full, by input.",
        );
        for (i, n) in INPUTS.iter().enumerate() {
            let _ = writeln!(
                o,
                "sipsentry_input_dropped_total{{input=\"{n}\"}} {}",
                self.dropped[i].load(Relaxed)
            );
        }
        counter(
            &mut o,
            "sipsentry_hep_rejected_total",
            "HEP packets refused (auth key, capture id, undecodable).",
        );
        let _ = writeln!(
            o,
            "sipsentry_hep_rejected_total {}",
            self.hep_rejected.load(Relaxed)
        );
        let _ = writeln!(o, "# HELP sipsentry_input_lag_seconds Wall clock minus packet time of the last message.\n# TYPE sipsentry_input_lag_seconds gauge");
        let _ = writeln!(
            o,
            "sipsentry_input_lag_seconds {:.3}",
            self.lag_ms.load(Relaxed) as f64 / 1000.0
        );
        counter(
            &mut o,
            "sipsentry_messages_total",
            "SIP requests by input and method.",
        );
        if let Ok(m) = self.by_method.lock() {
            // Methods that differ only in characters the label alphabet replaces ("A.B" and
            // "A_B", both valid tokens) share one series: a duplicate series makes Prometheus
            // reject the whole scrape.
            let mut merged: BTreeMap<(&str, String), u64> = BTreeMap::new();
            for ((i, meth), v) in m.iter() {
                let e = merged.entry((*i, label(meth))).or_default();
                *e = e.saturating_add(*v);
            }
            for ((i, meth), v) in merged {
                let _ = writeln!(
                    o,
                    "sipsentry_messages_total{{input=\"{i}\",method=\"{meth}\"}} {v}"
                );
            }
        }
        counter(
            &mut o,
            "sipsentry_responses_total",
            "SIP responses by input and status code.",
        );
        if let Ok(m) = self.by_status.lock() {
            for ((i, st), v) in m.iter() {
                let _ = writeln!(
                    o,
                    "sipsentry_responses_total{{input=\"{i}\",status=\"{st}\"}} {v}"
                );
            }
        }
        counter(
            &mut o,
            "sipsentry_alerts_total",
            "Alerts raised, by alert ID.",
        );
        if let Ok(m) = self.alerts.lock() {
            for (id, v) in m.iter() {
                let _ = writeln!(o, "sipsentry_alerts_total{{id=\"{id}\"}} {v}");
            }
        }
        let _ = writeln!(o, "# HELP sipsentry_bans_active Bans currently in force.\n# TYPE sipsentry_bans_active gauge");
        let _ = writeln!(
            o,
            "sipsentry_bans_active {}",
            self.active_bans.load(Relaxed)
        );
        for (name, help, v) in [
            ("sipsentry_bans_total", "Bans added.", &self.bans_total),
            (
                "sipsentry_bans_refused_total",
                "Bans refused because the source is allow-listed or local.",
                &self.bans_refused,
            ),
            (
                "sipsentry_webhook_sent_total",
                "Alerts delivered to webhooks.",
                &self.webhook_sent,
            ),
            (
                "sipsentry_webhook_failed_total",
                "Webhook deliveries given up after retries.",
                &self.webhook_failed,
            ),
            (
                "sipsentry_webhook_dropped_total",
                "Alerts dropped because the webhook queue was full.",
                &self.webhook_dropped,
            ),
            (
                "sipsentry_store_errors_total",
                "Store writes that failed.",
                &self.store_errors,
            ),
            (
                "sipsentry_nft_errors_total",
                "nft invocations that failed.",
                &self.nft_errors,
            ),
        ] {
            counter(&mut o, name, help);
            let _ = writeln!(o, "{name} {}", v.load(Relaxed));
        }
        o
    }
}

/// Method names come from the wire: keep label values to a safe alphabet.
fn label(s: &str) -> String {
    s.chars()
        .take(32)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_types_and_escaped_labels() {
        let m = Metrics::default();
        m.received[0].fetch_add(3, Relaxed);
        m.by_method
            .lock()
            .unwrap()
            .insert(("hep_udp", "INV\"ITE\n".into()), 2);
        let t = m.render();
        assert!(t.contains("sipsentry_input_received_total{input=\"hep_udp\"} 3"));
        assert!(t.contains("method=\"INV_ITE_\"} 2"), "{t}");
        assert!(t.contains("# TYPE sipsentry_bans_active gauge"));
    }

    #[test]
    fn regression_metrics_duplicate_series_for_methods_that_sanitize_alike() {
        let m = Metrics::default();
        {
            let mut g = m.by_method.lock().unwrap();
            g.insert(("hep_udp", "FOO.BAR".into()), 2);
            g.insert(("hep_udp", "FOO_BAR".into()), 3);
            g.insert(("hep_udp", "FOO!BAR".into()), 4);
        }
        let t = m.render();
        let lines: Vec<&str> = t
            .lines()
            .filter(|l| l.starts_with("sipsentry_messages_total{"))
            .collect();
        assert_eq!(
            lines,
            ["sipsentry_messages_total{input=\"hep_udp\",method=\"FOO_BAR\"} 9"],
            "{t}"
        );
    }
}

//! Toll-fraud detectors on calls: where they go (libphonenumber metadata) and how fast, how many
//! at once, how long and when (the OpenSIPS fraud_detection model).

use crate::alert::{Action, AlertId, Severity};
use crate::policy::{CallLimits, Policy};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

const NS: i64 = 1_000_000_000;

/// A destination analysed with libphonenumber.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    /// E.164 digits without `+`.
    pub e164: String,
    /// Country calling code.
    pub country_code: u16,
    /// ISO region, when the number belongs to one.
    pub region: Option<String>,
    /// libphonenumber's type, e.g. `PremiumRate`.
    pub kind: String,
}

/// Parses a dialled number in international format (`+…`, `00…`, `011…`, optional outside-line
/// `9`) into a destination. `None` for national or unparseable numbers.
pub fn destination(dialled: &str) -> Option<Destination> {
    let digits: String = dialled
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    let rest = if let Some(d) = digits.strip_prefix('+') {
        d.to_string()
    } else {
        let d = if digits.starts_with("900") || digits.starts_with("9011") {
            &digits[1..]
        } else {
            &digits[..]
        };
        if let Some(x) = d.strip_prefix("011") {
            x.to_string()
        } else if let Some(x) = d.strip_prefix("00") {
            x.to_string()
        } else {
            return None;
        }
    };
    if rest.len() < 6 || rest.len() > 15 || !rest.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n = phonenumber::parse(None, format!("+{rest}")).ok()?;
    let kind = format!("{:?}", n.number_type(&phonenumber::metadata::DATABASE));
    Some(Destination {
        e164: rest,
        country_code: n.country().code(),
        region: n.country().id().map(|id| format!("{id:?}")),
        kind,
    })
}

/// International networks (satellite, global services): +881, +882, +883 — classic high-cost
/// fraud targets with no country of their own.
fn is_international_network(cc: u16) -> bool {
    matches!(cc, 870 | 878 | 881 | 882 | 883 | 888 | 979)
}

/// Why a destination is suspicious, if it is.
pub fn destination_risk(d: &Destination, policy: &Policy) -> Option<(Severity, String)> {
    if matches!(d.kind.as_str(), "PremiumRate" | "SharedCost") {
        return Some((
            Severity::Critical,
            format!(
                "+{} is a {} number ({})",
                d.e164,
                d.kind,
                d.region.as_deref().unwrap_or("?")
            ),
        ));
    }
    if is_international_network(d.country_code) {
        return Some((
            Severity::Critical,
            format!(
                "+{} is on an international network (+{}), a high-cost range",
                d.e164, d.country_code
            ),
        ));
    }
    if !policy.allowed_countries.is_empty() {
        let ok = d.region.as_ref().is_some_and(|r| {
            policy
                .allowed_countries
                .iter()
                .any(|a| a.eq_ignore_ascii_case(r))
        });
        if !ok {
            return Some((
                Severity::High,
                format!(
                    "+{} is in {}, outside the allowed countries ({})",
                    d.e164,
                    d.region.as_deref().unwrap_or("no country"),
                    policy.allowed_countries.join(", ")
                ),
            ));
        }
    }
    None
}

#[derive(Default)]
struct Ext {
    /// Calls whose destination country was known, and how many of them were international.
    classified: u32,
    international: u32,
    starts: VecDeque<i64>,
    up: Vec<(u64, i64)>,
    last_prefix: String,
    same_prefix_run: u32,
    level: [u8; 5],
}

/// Per-extension call accounting, bounded.
#[derive(Default)]
pub struct CallRates {
    exts: FxHashMap<String, Ext>,
    call_ext: FxHashMap<u64, String>,
    seen: FxHashMap<u64, i64>,
}

/// Raised: (severity, evidence, metric index) — the engine turns it into an alert.
pub type RateHit = (Severity, String);

/// Raises a hit when `v` climbs to a higher level (warning, then critical) than already reported
/// for this metric; each level is reported once per extension.
fn escalate(
    slot: &mut u8,
    v: u32,
    limits: (u32, u32),
    hits: &mut Vec<RateHit>,
    why: impl FnOnce() -> String,
) {
    let l = level(v, limits);
    if l > *slot {
        *slot = l;
        hits.push((
            if l == 2 {
                Severity::Critical
            } else {
                Severity::High
            },
            why(),
        ));
    }
}

fn level(v: u32, (warn, crit): (u32, u32)) -> u8 {
    if v >= crit {
        2
    } else if v >= warn {
        1
    } else {
        0
    }
}

impl CallRates {
    /// Extensions tracked.
    pub fn len(&self) -> usize {
        self.exts.len()
    }

    /// Whether nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.exts.is_empty()
    }

    fn ext(&mut self, ext: &str, cap: usize) -> Option<&mut Ext> {
        if !self.exts.contains_key(ext) {
            if self.exts.len() >= cap {
                return None;
            }
            self.exts.insert(ext.to_string(), Ext::default());
        }
        self.exts.get_mut(ext)
    }

    /// Records a call's destination (international or not, relative to the home country) and
    /// returns the number of earlier domestic calls when this is the extension's first
    /// international call after at least `min_history` domestic ones.
    pub fn first_international(
        &mut self,
        ext: &str,
        international: bool,
        min_history: u32,
        cap: usize,
    ) -> Option<u32> {
        let e = self.ext(ext, cap)?;
        let hit = international && e.international == 0 && e.classified >= min_history;
        let before = e.classified;
        e.classified = e.classified.saturating_add(1);
        if international {
            e.international = e.international.saturating_add(1);
        }
        hit.then_some(before)
    }

    /// Whether this Call-ID starts a new call (its first INVITE); bounded, expired after an hour.
    pub fn first_invite(&mut self, call: u64, now: i64) -> bool {
        if self.seen.contains_key(&call) {
            return false;
        }
        if self.seen.len() >= 200_000 {
            self.seen.retain(|_, t| now - *t <= 3600 * NS);
        }
        if self.seen.len() < 200_000 {
            self.seen.insert(call, now);
        }
        true
    }

    /// An initial INVITE from `ext` to `dialled` at `now`.
    pub fn call_started(
        &mut self,
        ext: &str,
        dialled: &str,
        now: i64,
        policy: &Policy,
        cap: usize,
    ) -> Vec<RateHit> {
        let lim: CallLimits = policy.call_limits;
        let mut hits = vec![];
        let Some(e) = self.ext(ext, cap) else {
            return hits;
        };
        e.starts.push_back(now);
        while e.starts.front().is_some_and(|t| now - t > 60 * NS) {
            e.starts.pop_front();
        }
        if e.starts.len() > 1024 {
            e.starts.pop_front();
        }
        let cpm = e.starts.len() as u32;
        escalate(
            &mut e.level[0],
            cpm,
            lim.calls_per_minute,
            &mut hits,
            || {
                format!(
                    "{cpm} calls in one minute from {ext} (limits {}/{})",
                    lim.calls_per_minute.0, lim.calls_per_minute.1
                )
            },
        );
        let prefix: String = dialled
            .chars()
            .filter(|c| c.is_ascii_digit())
            .take(6)
            .collect();
        if prefix.len() == 6 && prefix == e.last_prefix {
            e.same_prefix_run += 1;
        } else {
            e.same_prefix_run = 1;
            e.last_prefix = prefix.clone();
        }
        escalate(
            &mut e.level[2],
            e.same_prefix_run,
            lim.sequential_same_prefix,
            &mut hits,
            || {
                format!(
                    "{} consecutive calls from {ext} to prefix {prefix}",
                    e.same_prefix_run
                )
            },
        );
        if let Some(bh) = policy.business_hours {
            if !bh.contains(now) && e.level[4] == 0 {
                e.level[4] = 1;
                hits.push((
                    Severity::Medium,
                    format!("call from {ext} to {dialled} outside business hours"),
                ));
            }
        }
        hits
    }

    /// A call answered (2xx).
    pub fn answered(
        &mut self,
        ext: &str,
        call: u64,
        now: i64,
        policy: &Policy,
        cap: usize,
    ) -> Vec<RateHit> {
        let lim = policy.call_limits;
        let mut hits = vec![];
        let Some(e) = self.ext(ext, cap) else {
            return hits;
        };
        if !e.up.iter().any(|(c, _)| *c == call) && e.up.len() < 4096 {
            e.up.push((call, now));
            if self.call_ext.len() < cap {
                self.call_ext.insert(call, ext.to_string());
            }
        }
        let Some(e) = self.exts.get_mut(ext) else {
            return hits;
        };
        let n = e.up.len() as u32;
        escalate(&mut e.level[1], n, lim.concurrent, &mut hits, || {
            format!(
                "{n} concurrent calls from {ext} (limits {}/{})",
                lim.concurrent.0, lim.concurrent.1
            )
        });
        hits
    }

    /// A call ended (BYE): duration checks.
    pub fn ended(&mut self, call: u64, now: i64, policy: &Policy) -> (String, Vec<RateHit>) {
        let lim = policy.call_limits;
        let mut hits = vec![];
        let Some(ext) = self.call_ext.remove(&call) else {
            return (String::new(), hits);
        };
        let Some(e) = self.exts.get_mut(&ext) else {
            return (ext, hits);
        };
        let Some(i) = e.up.iter().position(|(c, _)| *c == call) else {
            return (ext, hits);
        };
        let (_, start) = e.up.swap_remove(i);
        let secs = ((now - start) / NS).max(0) as u32;
        escalate(&mut e.level[3], secs, lim.duration_s, &mut hits, || {
            format!(
                "a call from {ext} lasted {secs} s (limits {}/{} s)",
                lim.duration_s.0, lim.duration_s.1
            )
        });
        (ext, hits)
    }

    /// Drops extensions with nothing recent (keeps memory bounded on long captures).
    pub fn expire(&mut self, now: i64) {
        self.exts.retain(|_, e| {
            !e.up.is_empty() || e.starts.back().is_some_and(|t| now - t <= 3600 * NS)
        });
        let exts = &self.exts;
        self.call_ext.retain(|_, x| exts.contains_key(x.as_str()));
        self.seen.retain(|_, t| now - *t <= 3600 * NS);
    }
}

/// The alert ids this module raises.
pub const IDS: [AlertId; 2] = [AlertId::TollFraudDestination, AlertId::TollFraudRate];

/// Suggested action for fraud alerts: a human must look; the source may be the PBX itself.
pub const ACTION: Action = Action::Investigate;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations() {
        let d = destination("00442079460000").unwrap();
        assert_eq!((d.country_code, d.region.as_deref()), (44, Some("GB")));
        let d = destination("+881631234567").unwrap();
        assert_eq!(d.country_code, 881);
        assert!(destination_risk(&d, &Policy::default()).is_some());
        // UK premium rate (09xx).
        let d = destination("+449098790000").unwrap();
        assert_eq!(d.kind, "PremiumRate");
        assert!(destination_risk(&d, &Policy::default()).is_some());
        assert!(
            destination("2125551234").is_none(),
            "national format is not analysed"
        );
        let p = Policy {
            allowed_countries: vec!["GB".into()],
            ..Policy::default()
        };
        let d = destination("+12125551234").unwrap();
        assert_eq!(destination_risk(&d, &p).unwrap().0, Severity::High);
        let d = destination("+442079460000").unwrap();
        assert!(destination_risk(&d, &p).is_none());
    }

    #[test]
    fn business_hours() {
        use crate::policy::BusinessHours;
        let bh = BusinessHours {
            start_min: 8 * 60,
            end_min: 18 * 60,
            utc_offset_min: 60,
            weekdays_only: true,
        };
        // 2023-11-14 (a Tuesday) 09:00 UTC = 10:00 local.
        let tue_0900 = 1_699_952_400 * NS;
        assert!(bh.contains(tue_0900));
        assert!(!bh.contains(tue_0900 + 10 * 3600 * NS)); // 20:00 local
                                                          // 2023-11-18 is a Saturday.
        assert!(!bh.contains(tue_0900 + 4 * 86_400 * NS));
    }
}

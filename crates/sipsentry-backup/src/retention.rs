//! GFS (grandfather-father-son) retention and pruning that never fights an object lock.

use crate::manifest::{self, Manifest};
use crate::target::{get_capped, Target, TargetError};
use serde::Serialize;
use std::collections::BTreeMap;

/// Keep the newest backup of each of the last N days / ISO weeks / months, plus the last N.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub keep_last: usize,
    pub daily: usize,
    pub weekly: usize,
    pub monthly: usize,
}

impl Policy {
    pub fn is_empty(&self) -> bool {
        self.keep_last + self.daily + self.weekly + self.monthly == 0
    }
}

/// (label, how many buckets, bucket key of a time).
type Rule<'a> = (&'static str, usize, &'a dyn Fn(i64) -> i64);

/// Why each backup is kept (IDs absent from the map are not covered by the policy).
pub fn select(backups: &[(String, i64)], p: &Policy) -> BTreeMap<String, Vec<&'static str>> {
    // The policy applies per backup series (`--name`): two PBXs sharing a target must not
    // compete for the same daily/weekly/monthly slots, or one series' newest backup is pruned.
    let mut groups: BTreeMap<&str, Vec<(String, i64)>> = BTreeMap::new();
    for (id, t) in backups {
        groups.entry(series(id)).or_default().push((id.clone(), *t));
    }
    let mut keep = BTreeMap::new();
    for group in groups.values() {
        keep.extend(select_series(group, p));
    }
    keep
}

/// The series (`--name`) of a backup ID `NAME-YYYYMMDDTHHMMSSZ[-N]`; an ID of another shape is
/// its own series.
pub fn series(id: &str) -> &str {
    let base = match id.rsplit_once('-') {
        Some((b, n)) if !n.is_empty() && n.len() <= 6 && n.bytes().all(|c| c.is_ascii_digit()) => b,
        _ => id,
    };
    match base.rsplit_once('-') {
        Some((name, ts))
            if ts.len() == 16
                && ts.as_bytes()[8] == b'T'
                && ts.ends_with('Z')
                && ts[..8].bytes().all(|c| c.is_ascii_digit())
                && ts[9..15].bytes().all(|c| c.is_ascii_digit()) =>
        {
            name
        }
        _ => id,
    }
}

fn select_series(backups: &[(String, i64)], p: &Policy) -> BTreeMap<String, Vec<&'static str>> {
    let mut sorted: Vec<&(String, i64)> = backups.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
    let mut keep: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
    for (id, _) in sorted.iter().take(p.keep_last) {
        keep.entry(id.clone()).or_default().push("last");
    }
    let day = |t: i64| t.div_euclid(86_400);
    // 1970-01-01 was a Thursday: +3 makes buckets start on Monday (ISO weeks).
    let week = |t: i64| (t.div_euclid(86_400) + 3).div_euclid(7);
    let month = |t: i64| {
        let (y, m, _) = crate::util::civil_from_days(t.div_euclid(86_400));
        y * 12 + m as i64
    };
    let rules: [Rule<'_>; 3] = [
        ("daily", p.daily, &day),
        ("weekly", p.weekly, &week),
        ("monthly", p.monthly, &month),
    ];
    for (label, n, bucket) in rules {
        let mut last = None;
        let mut kept = 0;
        for (id, t) in &sorted {
            if kept >= n {
                break;
            }
            let b = bucket(*t);
            if last != Some(b) {
                last = Some(b);
                kept += 1;
                keep.entry(id.clone()).or_default().push(label);
            }
        }
    }
    keep
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum Action {
    Keep {
        reasons: Vec<String>,
    },
    /// Deleted (or would be, in a dry run).
    Delete {
        dry_run: bool,
    },
    /// Past the policy but still under an object lock: left alone.
    SkipLocked {
        until: String,
        source: String,
    },
    /// The storage refused the delete (e.g. a lock the listing did not show).
    DeleteFailed {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub id: String,
    pub created: String,
    #[serde(flatten)]
    pub action: Action,
}

/// Applies `policy` to every backup on `target` at time `now`.
///
/// A backup past the policy is deleted only when neither the storage (S3 Object Lock, read
/// with HEAD) nor its manifest (the lock requested at create time, which also covers targets
/// without locks) says it is retained beyond `now`.
pub fn prune(
    target: &dyn Target,
    policy: &Policy,
    now: i64,
    dry_run: bool,
) -> Result<Vec<Decision>, TargetError> {
    let ids = crate::archive::list_ids(target)?;
    let timed: Vec<(String, i64)> = ids
        .iter()
        .filter_map(|id| Some((id.clone(), manifest::id_time(id)?)))
        .collect();
    let keep = select(&timed, policy);
    let mut out = Vec::new();
    for (id, t) in &timed {
        let created = crate::util::rfc3339(*t);
        if let Some(r) = keep.get(id) {
            out.push(Decision {
                id: id.clone(),
                created,
                action: Action::Keep {
                    reasons: r.iter().map(|s| s.to_string()).collect(),
                },
            });
            continue;
        }
        let objects = [
            manifest::archive_object(id),
            manifest::signature_object(id),
            manifest::manifest_object(id),
        ];
        let mut locked: Option<(i64, String)> = None;
        for o in &objects {
            match target.lock_state(o) {
                Ok(Some(l)) if l.retain_until_unix > now => {
                    if locked
                        .as_ref()
                        .is_none_or(|(u, _)| l.retain_until_unix > *u)
                    {
                        locked = Some((
                            l.retain_until_unix,
                            format!("storage {} lock on {o}", l.mode),
                        ));
                    }
                }
                Ok(_) | Err(TargetError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        // The manifest's recorded lock is read unsigned: it can only make prune keep more.
        if let Ok(bytes) = get_capped(target, &objects[2], None, manifest::MAX_MANIFEST_BYTES) {
            if let Ok(m) = serde_json::from_slice::<Manifest>(&bytes) {
                if let Some(l) = m.lock.filter(|l| l.retain_until_unix > now) {
                    if locked
                        .as_ref()
                        .is_none_or(|(u, _)| l.retain_until_unix > *u)
                    {
                        locked = Some((
                            l.retain_until_unix,
                            "retention recorded in the manifest".into(),
                        ));
                    }
                }
            }
        }
        let action = if let Some((until, source)) = locked {
            Action::SkipLocked {
                until: crate::util::rfc3339(until),
                source,
            }
        } else if dry_run {
            Action::Delete { dry_run: true }
        } else {
            let mut failure = None;
            for o in &objects {
                match target.delete(o) {
                    Ok(()) | Err(TargetError::NotFound { .. }) => {}
                    Err(e) => {
                        failure = Some(e.to_string());
                        break;
                    }
                }
            }
            match failure {
                Some(reason) => Action::DeleteFailed { reason },
                None => Action::Delete { dry_run: false },
            }
        };
        out.push(Decision {
            id: id.clone(),
            created,
            action,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        crate::util::parse_utc(s).unwrap()
    }

    #[test]
    fn gfs_keeps_newest_per_bucket() {
        // Two backups a day for 60 days, ending Sunday 2026-03-01.
        let mut b = Vec::new();
        let end = at("2026-03-01T12:00:00Z");
        for d in 0..60 {
            for h in [0, 6] {
                let t = end - d * 86_400 - h * 3600;
                b.push((format!("x-{}", crate::util::compact(t)), t));
            }
        }
        let p = Policy {
            keep_last: 1,
            daily: 7,
            weekly: 4,
            monthly: 3,
        };
        let k = select(&b, &p);
        // Daily: the 12:00 backup of each of the last 7 days.
        for d in 0..7 {
            let t = end - d * 86_400;
            assert!(
                k.contains_key(&format!("x-{}", crate::util::compact(t))),
                "day {d}"
            );
        }
        // The 06:00 backups are never kept (older than the day's newest).
        assert!(!k.contains_key(&format!("x-{}", crate::util::compact(end - 6 * 3600))));
        // Monthly: newest of March, February, January.
        assert!(k.contains_key(&format!(
            "x-{}",
            crate::util::compact(at("2026-02-28T12:00:00Z"))
        )));
        assert!(k.contains_key(&format!(
            "x-{}",
            crate::util::compact(at("2026-01-31T12:00:00Z"))
        )));
        // Weekly: Sundays (week ends) 03-01, 02-22, 02-15, 02-08 and nothing else weekly.
        let weekly: Vec<_> = k.iter().filter(|(_, r)| r.contains(&"weekly")).collect();
        assert_eq!(weekly.len(), 4);
        assert!(k.contains_key(&format!(
            "x-{}",
            crate::util::compact(at("2026-02-08T12:00:00Z"))
        )));
        assert!(k.len() < b.len());
    }

    #[test]
    fn empty_policy_keeps_nothing() {
        let b = vec![("x-20260101T000000Z".to_string(), 0)];
        assert!(select(&b, &Policy::default()).is_empty());
    }
}

#[cfg(test)]
mod series_tests {
    use super::*;

    /// Regression (review): prune mixed backup names. Two PBXs on one target, fs1 always later
    /// in the day than pbx1: `keep_daily 7` kept only fs1's backups and pruned every pbx1
    /// backup, its newest included.
    #[test]
    fn regression_prune_keeps_newest_backup_of_each_name() {
        let mut backups = Vec::new();
        for d in 0..10i64 {
            let t = 1_790_000_000 + d * 86_400;
            backups.push((format!("pbx1-202611{:02}T010000Z", d + 1), t));
            backups.push((format!("fs1-202611{:02}T230000Z", d + 1), t + 22 * 3600));
        }
        let p = Policy {
            daily: 7,
            ..Default::default()
        };
        let keep = select(&backups, &p);
        assert!(keep.contains_key("pbx1-20261110T010000Z"), "{keep:?}");
        assert!(keep.contains_key("fs1-20261110T230000Z"));
        assert_eq!(keep.keys().filter(|k| k.starts_with("pbx1-")).count(), 7);
        assert_eq!(keep.keys().filter(|k| k.starts_with("fs1-")).count(), 7);
    }

    #[test]
    fn series_of_ids() {
        assert_eq!(series("pbx1-20261128T010203Z"), "pbx1");
        assert_eq!(series("pbx-east-1-20261128T010203Z-2"), "pbx-east-1");
        assert_eq!(series("odd"), "odd");
        assert_eq!(series("x-2026"), "x-2026");
    }
}

//! Baselines and drift: `--save-baseline FILE` stores the normalized facts; `--diff FILE`
//! reports what changed since, with before/after values. Secrets are only ever SHA-256 hashes
//! in facts, so a baseline file and a drift report never hold one.
//!
//! Facts of one object (`3cx.user[102].*`, `ast.pjsip.endpoint[6001].*`) that appear or
//! disappear together are one change ("a new admin"), not one per attribute.

use crate::catalogue::rule;
use crate::facts::{Facts, SECRET_PREFIX};
use serde::{Deserialize, Serialize};
use sipsentry_report::Finding;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Format tag written into every baseline file.
pub const FORMAT: &str = "sipsentry-audit-baseline/1";

/// A saved snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub format: String,
    /// What was audited (`asterisk:/etc/asterisk`, `3cx:https://pbx...`).
    pub source: String,
    pub facts: Facts,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("baseline {path}: {message}")]
    Io { path: String, message: String },
    #[error("baseline {path} is not a sipsentry audit baseline: {message}")]
    Format { path: String, message: String },
}

impl Baseline {
    pub fn new(source: &str, facts: &Facts) -> Baseline {
        Baseline {
            format: FORMAT.into(),
            source: source.into(),
            facts: facts.clone(),
        }
    }

    pub fn save(&self, path: &Path) -> Result<(), BaselineError> {
        let text = serde_json::to_string_pretty(self).map_err(|e| BaselineError::Format {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        std::fs::write(path, text + "\n").map_err(|e| BaselineError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = crate::ini::read_bounded(path).map_err(|e| BaselineError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let b: Baseline = serde_json::from_str(&text).map_err(|e| BaselineError::Format {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        if b.format != FORMAT {
            return Err(BaselineError::Format {
                path: path.display().to_string(),
                message: format!("format {:?}, expected {FORMAT:?}", b.format),
            });
        }
        Ok(b)
    }
}

/// One change between a baseline and now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// A fact key, or an object (`3cx.user[102]`) whose facts all appeared or disappeared.
    pub key: String,
    /// `key = value` lines before (empty when added).
    pub before: Vec<String>,
    /// `key = value` lines now (empty when removed).
    pub after: Vec<String>,
}

impl Change {
    pub fn kind(&self) -> &'static str {
        match (self.before.is_empty(), self.after.is_empty()) {
            (true, _) => "added",
            (_, true) => "removed",
            _ => "changed",
        }
    }
}

/// The object part of a key (`3cx.user[102].enabled` → `3cx.user[102]`), if any.
fn object_of(key: &str) -> Option<&str> {
    key.find(']').map(|i| &key[..=i])
}

fn show(v: &str) -> String {
    if v.starts_with(SECRET_PREFIX) {
        // Enough of the hash to see that it changed; never the secret.
        format!(
            "{}… (secret, hashed)",
            &v[..(SECRET_PREFIX.len() + 16).min(v.len())]
        )
    } else {
        v.to_string()
    }
}

/// What changed from `before` to `after`.
pub fn diff(before: &Facts, after: &Facts) -> Vec<Change> {
    let b: BTreeMap<&str, &str> = before.iter().collect();
    let a: BTreeMap<&str, &str> = after.iter().collect();
    let objs = |m: &BTreeMap<&str, &str>| -> BTreeSet<String> {
        m.keys()
            .filter_map(|k| object_of(k).map(str::to_string))
            .collect()
    };
    let (ob, oa) = (objs(&b), objs(&a));
    let mut out = Vec::new();
    // Whole objects that appeared or disappeared.
    for (set_in, set_out, added) in [(&oa, &ob, true), (&ob, &oa, false)] {
        for o in set_in.difference(set_out) {
            let src = if added { &a } else { &b };
            let lines: Vec<String> = src
                .iter()
                .filter(|(k, _)| object_of(k) == Some(o.as_str()))
                .map(|(k, v)| format!("{}{} = {}", o, &k[o.len()..], show(v)))
                .collect();
            let (before, after) = if added {
                (Vec::new(), lines)
            } else {
                (lines, Vec::new())
            };
            out.push(Change {
                key: o.clone(),
                before,
                after,
            });
        }
    }
    let in_whole = |k: &str| object_of(k).is_some_and(|o| ob.contains(o) != oa.contains(o));
    let keys: BTreeSet<&str> = b.keys().chain(a.keys()).copied().collect();
    for k in keys {
        if in_whole(k) {
            continue;
        }
        let (x, y) = (b.get(k), a.get(k));
        if x == y {
            continue;
        }
        out.push(Change {
            key: k.to_string(),
            before: x.map(|v| vec![show(v)]).unwrap_or_default(),
            after: y.map(|v| vec![show(v)]).unwrap_or_default(),
        });
    }
    out.sort_by(|x, y| x.key.cmp(&y.key));
    out
}

/// Drift findings (`DRIFT-ADDED`, `DRIFT-REMOVED`, `DRIFT-CHANGED`), one per change.
pub fn findings(changes: &[Change]) -> Vec<Finding> {
    changes
        .iter()
        .map(|c| {
            let id = match c.kind() {
                "added" => "DRIFT-ADDED",
                "removed" => "DRIFT-REMOVED",
                _ => "DRIFT-CHANGED",
            };
            let mut ev = Vec::new();
            ev.extend(c.before.iter().map(|l| format!("before: {l}")));
            ev.extend(c.after.iter().map(|l| format!("after: {l}")));
            if c.before.is_empty() {
                ev.insert(0, "before: (absent)".into());
            }
            if c.after.is_empty() {
                ev.push("after: (absent)".into());
            }
            match id {
                "DRIFT-ADDED" => rule("DRIFT-ADDED").finding(c.key.clone(), ev),
                "DRIFT-REMOVED" => rule("DRIFT-REMOVED").finding(c.key.clone(), ev),
                _ => rule("DRIFT-CHANGED").finding(c.key.clone(), ev),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_group_and_secrets_stay_hashed() {
        let mut a = Facts::new();
        a.set("x.user[1].role", "user");
        a.set_secret("x.secret", "hunter2");
        let mut b = a.clone();
        b.set("x.user[2].role", "admin");
        b.set("x.user[2].mfa", "false");
        b.set_secret("x.secret", "hunter3");
        let d = diff(&a, &b);
        assert_eq!(d.len(), 2);
        assert_eq!(d[1].key, "x.user[2]");
        assert_eq!(
            d[1].after,
            vec!["x.user[2].mfa = false", "x.user[2].role = admin"]
        );
        let text = format!("{:?}", findings(&d));
        assert!(!text.contains("hunter"));
        assert!(text.contains("(secret, hashed)"));
    }

    #[test]
    fn regression_show_panicked_on_multibyte_value_after_hash_prefix() {
        assert!(show("sha256:ééééééééééééééééé").ends_with("(secret, hashed)"));
    }
}

//! Normalized facts: the flat `key = value` picture of a configuration that rules read and
//! baselines store.
//!
//! Every source (Asterisk files, FreeSWITCH XML, 3CX XAPI documents, a firewall ruleset, the
//! host) is reduced to the same shape so that one diff works for all of them and a rule never
//! depends on how its input was spelled. Keys are dotted paths; objects that repeat (endpoints,
//! users, trunks) use `kind[name]` so a name may contain dots. Secrets are stored only as
//! `sha256:<hex>`: a baseline file is as safe to share as a report.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Prefix of a hashed secret value.
pub const SECRET_PREFIX: &str = "sha256:";

/// The normalized facts of one audit run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Facts {
    map: BTreeMap<String, String>,
}

/// Hash a secret for storage: the hex SHA-256 with a prefix, never the value.
pub fn hash_secret(secret: &str) -> String {
    let d = Sha256::digest(secret.as_bytes());
    let mut s = String::with_capacity(SECRET_PREFIX.len() + 64);
    s.push_str(SECRET_PREFIX);
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Bracketed object name safe to embed in a key.
pub fn obj(kind: &str, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c == ']' || c == '[' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .take(128)
        .collect();
    format!("{kind}[{clean}]")
}

impl Facts {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.map.insert(key.into(), value.into());
    }

    /// Store a secret as its hash only.
    pub fn set_secret(&mut self, key: impl Into<String>, secret: &str) {
        self.map.insert(key.into(), hash_secret(secret));
    }

    pub fn set_bool(&mut self, key: impl Into<String>, v: bool) {
        self.set(key, if v { "true" } else { "false" });
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    /// `Some(true/false)` for the spellings configs use (`yes`, `true`, `on`, `1`...).
    pub fn get_bool(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(parse_bool)
    }

    pub fn get_u64(&self, key: &str) -> Option<u64> {
        self.get(key).and_then(|v| v.trim().parse().ok())
    }

    pub fn contains(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Facts whose key starts with `prefix`.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.map
            .range(prefix.to_string()..)
            .take_while(move |(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Distinct object names under `prefix` (which ends with `kind[`), in key order.
    pub fn objects(&self, prefix: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (k, _) in self.with_prefix(prefix) {
            if let Some(end) = k[prefix.len()..].find(']') {
                let name = &k[prefix.len()..prefix.len() + end];
                if out.last().map(String::as_str) != Some(name) {
                    out.push(name.to_string());
                }
            }
        }
        out.dedup();
        out
    }

    /// Merge another source's facts (their key prefixes never overlap).
    pub fn extend(&mut self, other: Facts) {
        self.map.extend(other.map);
    }

    /// `true` when the value was stored with [`Facts::set_secret`].
    pub fn is_secret_value(v: &str) -> bool {
        v.starts_with(SECRET_PREFIX)
    }
}

/// The boolean spellings of Asterisk (`yes`/`no`, `true`, `on`, `1`) and FreeSWITCH.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" | "y" | "enabled" => Some(true),
        "no" | "false" | "off" | "0" | "n" | "disabled" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_hashed_and_objects_listed() {
        let mut f = Facts::new();
        f.set_secret("a.secret", "hunter2");
        assert!(Facts::is_secret_value(f.get("a.secret").unwrap()));
        assert!(!f.get("a.secret").unwrap().contains("hunter2"));
        f.set(format!("{}.x", obj("e", "a.b")), "1");
        f.set(format!("{}.y", obj("e", "a.b")), "2");
        f.set(format!("{}.x", obj("e", "c")), "3");
        assert_eq!(f.objects("e["), vec!["a.b".to_string(), "c".to_string()]);
        assert_eq!(parse_bool(" Yes "), Some(true));
    }
}

//! The `--policy` TOML file: trusted networks, TLS/SRTP requirements, thresholds.
//!
//! Unknown keys are errors (a typo must not silently leave a default in place), and every error
//! names the key and line.

use anyhow::{Context, Result};
use serde::Deserialize;
use sipsentry_detect::{BusinessHours, CallLimits, Net, Policy, Thresholds};
use std::path::Path;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    trusted_networks: Vec<String>,
    #[serde(default)]
    require_tls: bool,
    #[serde(default)]
    require_srtp: bool,
    #[serde(default)]
    allowed_countries: Vec<String>,
    home_country: Option<String>,
    business_hours: Option<HoursFile>,
    #[serde(default)]
    call_limits: LimitsFile,
    #[serde(default)]
    thresholds: ThresholdsFile,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HoursFile {
    start: String,
    end: String,
    #[serde(default = "utc")]
    utc_offset: String,
    #[serde(default = "yes")]
    weekdays_only: bool,
}

fn utc() -> String {
    "+00:00".into()
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
    calls_per_minute: Option<[u32; 2]>,
    concurrent: Option<[u32; 2]>,
    sequential_same_prefix: Option<[u32; 2]>,
    duration_s: Option<[u32; 2]>,
}

fn hhmm(s: &str, key: &str) -> Result<u16> {
    let (h, m) = s
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("{key}: {s:?} is not HH:MM"))?;
    let (h, m): (u16, u16) = (h.parse()?, m.parse()?);
    anyhow::ensure!(
        h <= 24 && m < 60 && h * 60 + m <= 1440,
        "{key}: {s:?} is not a time of day"
    );
    Ok(h * 60 + m)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ThresholdsFile {
    auth_fail_max: Option<u32>,
    auth_fail_window_s: Option<u32>,
    success_after_failures: Option<u32>,
    enum_distinct_users: Option<u32>,
    enum_window_s: Option<u32>,
    flood_requests: Option<u32>,
    flood_window_s: Option<u32>,
    distributed_sources: Option<u32>,
    malformed_max: Option<u32>,
    ban_secs: Option<u32>,
}

/// Parses a policy document.
pub fn parse(text: &str) -> Result<Policy> {
    let f: File = toml::from_str(text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut trusted = Vec::new();
    for (i, n) in f.trusted_networks.iter().enumerate() {
        trusted.push(Net::parse(n).ok_or_else(|| {
            anyhow::anyhow!("trusted_networks[{i}]: {n:?} is not an address or CIDR network")
        })?);
    }
    let mut t = Thresholds::default();
    let th = &f.thresholds;
    let set = |dst: &mut u32, v: Option<u32>, key: &str| -> Result<()> {
        if let Some(v) = v {
            anyhow::ensure!(v > 0, "thresholds.{key} must be at least 1");
            *dst = v;
        }
        Ok(())
    };
    set(&mut t.auth_fail_max, th.auth_fail_max, "auth_fail_max")?;
    set(
        &mut t.auth_fail_window_s,
        th.auth_fail_window_s,
        "auth_fail_window_s",
    )?;
    set(
        &mut t.success_after_failures,
        th.success_after_failures,
        "success_after_failures",
    )?;
    set(
        &mut t.enum_distinct_users,
        th.enum_distinct_users,
        "enum_distinct_users",
    )?;
    set(&mut t.enum_window_s, th.enum_window_s, "enum_window_s")?;
    set(&mut t.flood_requests, th.flood_requests, "flood_requests")?;
    set(&mut t.flood_window_s, th.flood_window_s, "flood_window_s")?;
    set(
        &mut t.distributed_sources,
        th.distributed_sources,
        "distributed_sources",
    )?;
    set(&mut t.malformed_max, th.malformed_max, "malformed_max")?;
    set(&mut t.ban_secs, th.ban_secs, "ban_secs")?;
    for (i, c) in f.allowed_countries.iter().enumerate() {
        anyhow::ensure!(
            c.len() == 2 && c.chars().all(|x| x.is_ascii_alphabetic()),
            "allowed_countries[{i}]: {c:?} is not an ISO 3166 two-letter code"
        );
    }
    let business_hours = match &f.business_hours {
        None => None,
        Some(h) => {
            let start_min = hhmm(&h.start, "business_hours.start")?;
            let end_min = hhmm(&h.end, "business_hours.end")?;
            anyhow::ensure!(
                start_min < end_min,
                "business_hours: start must be before end"
            );
            let off = h.utc_offset.trim();
            let (sign, rest) = match off.as_bytes().first() {
                Some(b'-') => (-1i16, &off[1..]),
                Some(b'+') => (1, &off[1..]),
                _ => anyhow::bail!(
                    "business_hours.utc_offset: {off:?} must look like +01:00 or -05:00"
                ),
            };
            let m = hhmm(rest, "business_hours.utc_offset")?;
            Some(BusinessHours {
                start_min,
                end_min,
                utc_offset_min: sign * m as i16,
                weekdays_only: h.weekdays_only,
            })
        }
    };
    let mut call_limits = CallLimits::default();
    let lim = &f.call_limits;
    for (dst, v, key) in [
        (
            &mut call_limits.calls_per_minute,
            lim.calls_per_minute,
            "calls_per_minute",
        ),
        (&mut call_limits.concurrent, lim.concurrent, "concurrent"),
        (
            &mut call_limits.sequential_same_prefix,
            lim.sequential_same_prefix,
            "sequential_same_prefix",
        ),
        (&mut call_limits.duration_s, lim.duration_s, "duration_s"),
    ] {
        if let Some([w, c]) = v {
            anyhow::ensure!(
                w > 0 && w <= c,
                "call_limits.{key}: [warning, critical] must satisfy 0 < warning <= critical"
            );
            *dst = (w, c);
        }
    }
    Ok(Policy {
        thresholds: t,
        trusted,
        require_tls: f.require_tls,
        require_srtp: f.require_srtp,
        allowed_countries: f
            .allowed_countries
            .iter()
            .map(|c| c.to_ascii_uppercase())
            .collect(),
        home_country: match &f.home_country {
            Some(c) if c.len() == 2 && c.chars().all(|x| x.is_ascii_alphabetic()) => {
                Some(c.to_ascii_uppercase())
            }
            Some(c) => anyhow::bail!("home_country: {c:?} is not an ISO 3166 two-letter code"),
            None => None,
        },
        business_hours,
        call_limits,
    })
}

/// Loads a policy file.
pub fn load(path: &Path) -> Result<Policy> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read policy {}", path.display()))?;
    parse(&text).with_context(|| format!("invalid policy {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_policy_parses() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/policy.example.toml"
        ))
        .unwrap();
        let p = parse(&text).unwrap();
        assert_eq!(p.trusted.len(), 3);
        assert_eq!(p.thresholds.auth_fail_max, 5);
    }

    #[test]
    fn errors_name_the_key() {
        let e = format!("{:#}", parse("trusted_network = []").unwrap_err());
        assert!(e.contains("trusted_network"), "{e}");
        let e = format!(
            "{:#}",
            parse("trusted_networks = [\"10.0.0.0/40\"]").unwrap_err()
        );
        assert!(e.contains("trusted_networks[0]"), "{e}");
        let e = format!(
            "{:#}",
            parse("[thresholds]\nauth_fail_max = 0").unwrap_err()
        );
        assert!(e.contains("thresholds.auth_fail_max"), "{e}");
        let e = format!(
            "{:#}",
            parse("[thresholds]\nauth_fail_max = \"five\"").unwrap_err()
        );
        assert!(e.contains("auth_fail_max") && e.contains("line 2"), "{e}");
    }
}

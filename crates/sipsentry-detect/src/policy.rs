//! What the site requires: trusted networks, TLS/SRTP requirements, thresholds. Loaded from the
//! `--policy` TOML file by the binary; the library only holds the values.

use crate::engine::Thresholds;
use std::net::IpAddr;

/// A network in CIDR form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Net {
    /// Base address.
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
}

impl Net {
    /// Parses `a.b.c.d/n`, `x::/n` or a bare address.
    pub fn parse(s: &str) -> Option<Net> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.trim().parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Net { addr, prefix })
    }

    /// Whether `ip` is inside.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(self.prefix))
                };
                u32::from(n) & mask == u32::from(i) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(i)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - u32::from(self.prefix))
                };
                u128::from(n) & mask == u128::from(i) & mask
            }
            _ => false,
        }
    }
}

/// Site policy.
#[derive(Clone, Debug, Default)]
pub struct Policy {
    /// Detector thresholds.
    pub thresholds: Thresholds,
    /// Trusted networks (trunks, offices, VPN): alerts for them never suggest a ban.
    pub trusted: Vec<Net>,
    /// Signalling from outside `trusted` must use TLS (or WSS).
    pub require_tls: bool,
    /// Media must be SRTP (RTP/SAVP, RTP/SAVPF or DTLS-SRTP).
    pub require_srtp: bool,
    /// ISO 3166 codes calls may go to (empty: no restriction by country).
    pub allowed_countries: Vec<String>,
    /// The site's own country (ISO 3166): enables "first international call from an extension
    /// that never calls abroad".
    pub home_country: Option<String>,
    /// Business hours, local time: (first minute of the day, last minute) and the offset of local
    /// time from UTC in minutes; weekdays only when `weekdays_only`. `None`: not checked.
    pub business_hours: Option<BusinessHours>,
    /// Call-rate limits (warning, critical).
    pub call_limits: CallLimits,
}

/// When calls are expected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BusinessHours {
    /// First minute of the working day (e.g. 8*60).
    pub start_min: u16,
    /// Minute the working day ends (e.g. 18*60).
    pub end_min: u16,
    /// Local time minus UTC, minutes.
    pub utc_offset_min: i16,
    /// Saturday and Sunday are outside business hours.
    pub weekdays_only: bool,
}

impl BusinessHours {
    /// Whether packet time `ns` falls inside.
    pub fn contains(&self, ns: i64) -> bool {
        let local = ns.div_euclid(60_000_000_000) + i64::from(self.utc_offset_min);
        let minute = local.rem_euclid(1440) as u16;
        // 1970-01-01 was a Thursday: day 0 → Thursday.
        let weekday = (local.div_euclid(1440) + 3).rem_euclid(7); // 0 = Monday
        if self.weekdays_only && weekday >= 5 {
            return false;
        }
        minute >= self.start_min && minute < self.end_min
    }
}

/// Per-extension call limits, as (warning, critical) pairs; the OpenSIPS fraud_detection model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallLimits {
    /// Calls started per minute.
    pub calls_per_minute: (u32, u32),
    /// Calls up at once.
    pub concurrent: (u32, u32),
    /// Consecutive calls to the same 6-digit prefix.
    pub sequential_same_prefix: (u32, u32),
    /// Call duration, seconds.
    pub duration_s: (u32, u32),
}

impl Default for CallLimits {
    fn default() -> Self {
        CallLimits {
            calls_per_minute: (10, 30),
            concurrent: (5, 10),
            sequential_same_prefix: (10, 30),
            duration_s: (3600, 4 * 3600),
        }
    }
}

impl Policy {
    /// Whether `ip` is trusted.
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|n| n.contains(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr() {
        let n = Net::parse("192.0.2.0/24").unwrap();
        assert!(n.contains("192.0.2.77".parse().unwrap()));
        assert!(!n.contains("192.0.3.1".parse().unwrap()));
        let n = Net::parse("2001:db8::/32").unwrap();
        assert!(n.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!n.contains("192.0.2.1".parse().unwrap()));
        assert!(Net::parse("10.0.0.0/33").is_none());
        assert_eq!(Net::parse("198.51.100.7").unwrap().prefix, 32);
        assert!(Net::parse("0.0.0.0/0")
            .unwrap()
            .contains("203.0.113.9".parse().unwrap()));
    }
}

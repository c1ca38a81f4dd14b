//! The audit policy (`--policy FILE`, TOML): what the site needs, so every gap is measured
//! against it. Without a file, [`Policy::default`] holds the hardening guide's safe defaults.
//!
//! Unknown keys are errors: a typo (`max_failed_aut`) must not silently leave a default in place.
//! `toml`'s messages name the key and line; ours name the key for values that parse but make no
//! sense (a bad CIDR, an inverted port range).

use serde::Deserialize;
use std::net::IpAddr;
use std::path::Path;

/// An IPv4/IPv6 network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub len: u8,
}

impl Cidr {
    /// `10.0.0.0/8`, `2001:db8::/32`, a bare address, or `a.b.c.d/255.255.0.0` (Asterisk ACLs).
    pub fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim()
            .trim_matches(|c| c == '[' || c == ']')
            .parse()
            .ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match l {
            None => max,
            Some(l) => match l.trim().parse::<u8>() {
                Ok(n) if n <= max => n,
                Ok(_) => return None,
                Err(_) => {
                    let mask: std::net::Ipv4Addr = l.trim().parse().ok()?;
                    let m = u32::from(mask);
                    if m.leading_ones() + m.trailing_zeros() != 32 {
                        return None;
                    }
                    m.leading_ones() as u8
                }
            },
        };
        Some(Cidr { addr, len })
    }

    /// Does this network contain `ip`?
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if self.len == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.len)
                };
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if self.len == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.len)
                };
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }

    /// Is `other` entirely inside this network?
    pub fn covers(&self, other: &Cidr) -> bool {
        self.len <= other.len && self.contains(other.addr)
    }

    /// Matches (almost) the whole address space: `0.0.0.0/0`, `::/0`, or wider than `/8`.
    pub fn is_any(&self) -> bool {
        self.len == 0
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// Lockout thresholds (3CX anti-hacking, and the bar for the firewall's rate limit).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Lockout {
    /// Failed authentications before a source is blocked (3CX `HackAuthRequests`).
    pub max_failed_auth: u64,
    /// Unanswered challenges before a source is blocked (3CX `HackChallengeRequests`).
    pub max_challenge_requests: u64,
    /// Minimum block time, in the unit 3CX reports `HackBlacklistDuration` in (seconds).
    pub min_block_seconds: u64,
}

impl Default for Lockout {
    fn default() -> Self {
        Lockout {
            max_failed_auth: 10,
            max_challenge_requests: 20,
            min_block_seconds: 3600,
        }
    }
}

/// Which services and ports the site needs.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Services {
    /// Listening sockets expected on non-loopback addresses, `proto/port` or `proto/lo-hi`
    /// (`udp/5060`, `udp/10000-20000`). Empty: no HOST-UNEXPECTED-LISTENER check.
    pub listen: Vec<String>,
    /// 3CX service names that are needed. Empty: no 3CX-SERVICE-UNNEEDED check.
    pub pbx: Vec<String>,
    /// SIP signalling ports.
    pub sip_ports: Vec<u16>,
    /// Management ports (AMI 5038, ESL 8021, Asterisk HTTP 8088/8089, 3CX console 5001, SSH 22).
    pub management_ports: Vec<u16>,
    /// RTP port range (inclusive).
    pub rtp_range: [u16; 2],
}

impl Default for Services {
    fn default() -> Self {
        Services {
            listen: Vec::new(),
            pbx: Vec::new(),
            sip_ports: vec![5060, 5061, 5080, 5081],
            management_ports: vec![22, 5038, 8021, 8088, 8089, 5001, 5015],
            rtp_range: [10000, 20000],
        }
    }
}

/// The audit policy.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Offices, VPN, admin networks (addresses or CIDR).
    pub trusted_networks: Vec<String>,
    /// SIP trunk provider addresses.
    pub trunk_ips: Vec<String>,
    /// 3CX outbound country codes allowed, as XAPI spells them. Empty: at most
    /// `max_countries_without_policy` may be enabled.
    pub allowed_countries: Vec<String>,
    /// Used when `allowed_countries` is empty.
    pub max_countries_without_policy: usize,
    /// Transports SIP must use from outside (`tls`, `udp`, `tcp`, `wss`).
    pub required_transports: Vec<String>,
    /// Media must be SRTP for remote extensions and trunks.
    pub require_srtp: bool,
    /// Narrowest allow-list entry tolerated, IPv4 prefix length (`/24` by default).
    pub min_allow_prefix_v4: u8,
    /// Same for IPv6 (`/48` by default).
    pub min_allow_prefix_v6: u8,
    pub lockout: Lockout,
    pub services: Services,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            trusted_networks: Vec::new(),
            trunk_ips: Vec::new(),
            allowed_countries: Vec::new(),
            max_countries_without_policy: 3,
            required_transports: vec!["tls".into()],
            require_srtp: true,
            min_allow_prefix_v4: 24,
            min_allow_prefix_v6: 48,
            lockout: Lockout::default(),
            services: Services::default(),
        }
    }
}

/// A policy file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy: {message}")]
    Io { message: String },
    #[error("policy {path}: {message}")]
    Syntax { path: String, message: String },
    #[error("policy key `{key}`: {message}")]
    Value { key: String, message: String },
}

impl Policy {
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let text = crate::ini::read_bounded(path).map_err(|e| PolicyError::Io {
            message: e.to_string(),
        })?;
        Policy::parse(&text).map_err(|e| match e {
            PolicyError::Syntax { message, .. } => PolicyError::Syntax {
                path: path.display().to_string(),
                message,
            },
            other => other,
        })
    }

    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let p: Policy = toml::from_str(text).map_err(|e| PolicyError::Syntax {
            path: String::new(),
            message: e.to_string().trim_end().to_string(),
        })?;
        p.validate()?;
        Ok(p)
    }

    fn validate(&self) -> Result<(), PolicyError> {
        for (key, list) in [
            ("trusted_networks", &self.trusted_networks),
            ("trunk_ips", &self.trunk_ips),
        ] {
            for (i, n) in list.iter().enumerate() {
                if Cidr::parse(n).is_none() {
                    return Err(PolicyError::Value {
                        key: format!("{key}[{i}]"),
                        message: format!("{n:?} is not an IP address or CIDR network"),
                    });
                }
            }
        }
        for (i, t) in self.required_transports.iter().enumerate() {
            if !matches!(
                t.to_ascii_lowercase().as_str(),
                "tls" | "udp" | "tcp" | "wss" | "ws"
            ) {
                return Err(PolicyError::Value {
                    key: format!("required_transports[{i}]"),
                    message: format!("{t:?} is not one of tls, udp, tcp, wss, ws"),
                });
            }
        }
        for (i, l) in self.services.listen.iter().enumerate() {
            if parse_listen(l).is_none() {
                return Err(PolicyError::Value {
                    key: format!("services.listen[{i}]"),
                    message: format!("{l:?} is not proto/port or proto/lo-hi (e.g. udp/5060)"),
                });
            }
        }
        let [lo, hi] = self.services.rtp_range;
        if lo > hi {
            return Err(PolicyError::Value {
                key: "services.rtp_range".into(),
                message: format!("{lo} > {hi}"),
            });
        }
        if self.min_allow_prefix_v4 > 32 {
            return Err(PolicyError::Value {
                key: "min_allow_prefix_v4".into(),
                message: "must be 0..=32".into(),
            });
        }
        if self.min_allow_prefix_v6 > 128 {
            return Err(PolicyError::Value {
                key: "min_allow_prefix_v6".into(),
                message: "must be 0..=128".into(),
            });
        }
        Ok(())
    }

    /// Trusted networks and trunk IPs, parsed.
    pub fn trusted(&self) -> Vec<Cidr> {
        self.trusted_networks
            .iter()
            .chain(&self.trunk_ips)
            .filter_map(|s| Cidr::parse(s))
            .collect()
    }

    /// Is an allow-list entry acceptable: no wider than the policy's minimum prefix and, when
    /// the policy lists trusted networks or trunk IPs, inside one of them? `Err` says why not.
    pub fn allow_entry_ok(&self, entry: &str) -> Result<(), String> {
        let Some(c) = Cidr::parse(entry) else {
            return Err(format!("{entry} is not an address or network"));
        };
        let min = if c.addr.is_ipv4() {
            self.min_allow_prefix_v4
        } else {
            self.min_allow_prefix_v6
        };
        if c.len < min {
            return Err(format!("{entry} is wider than /{min}"));
        }
        let trusted = self.trusted();
        if !trusted.is_empty() && !trusted.iter().any(|t| t.covers(&c)) {
            return Err(format!(
                "{entry} is outside the policy's trusted networks and trunk IPs"
            ));
        }
        Ok(())
    }

    /// Is `(proto, port)` among `services.listen`?
    pub fn listen_expected(&self, proto: &str, port: u16) -> bool {
        self.services
            .listen
            .iter()
            .filter_map(|l| parse_listen(l))
            .any(|(p, lo, hi)| p.eq_ignore_ascii_case(proto) && (lo..=hi).contains(&port))
    }
}

/// `udp/5060` or `udp/10000-20000` → (proto, lo, hi).
fn parse_listen(s: &str) -> Option<(String, u16, u16)> {
    let (proto, ports) = s.trim().split_once('/')?;
    let proto = proto.to_ascii_lowercase();
    if proto != "udp" && proto != "tcp" {
        return None;
    }
    let (lo, hi) = match ports.split_once('-') {
        Some((a, b)) => (a.trim().parse().ok()?, b.trim().parse().ok()?),
        None => {
            let p = ports.trim().parse().ok()?;
            (p, p)
        }
    };
    (lo <= hi).then_some((proto, lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_named() {
        let e = Policy::parse("[lockout]\nmax_failed_aut = 3\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("max_failed_aut"), "{e}");
        let e = Policy::parse("trusted_networks = [\"10.0.0.0/33\"]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("trusted_networks[0]"), "{e}");
        let e = Policy::parse("[services]\nlisten=[\"sctp/1\"]")
            .unwrap_err()
            .to_string();
        assert!(e.contains("services.listen[0]"), "{e}");
    }

    #[test]
    fn example_policy_parses() {
        let p = Policy::parse(include_str!("../../../docs/audit-policy.example.toml")).unwrap();
        assert!(!p.trusted_networks.is_empty());
        assert!(p.listen_expected("udp", 10010));
    }

    #[test]
    fn allow_entries_are_judged_by_width_and_trusted_networks() {
        let p = Policy::default();
        assert!(p.allow_entry_ok("198.51.100.10").is_ok());
        assert!(p
            .allow_entry_ok("10.0.0.0/8")
            .unwrap_err()
            .contains("wider than /24"));
        let p =
            Policy::parse("trusted_networks = [\"192.0.2.0/24\"]\ntrunk_ips = [\"198.51.100.10\"]")
                .unwrap();
        assert!(p.allow_entry_ok("192.0.2.128/25").is_ok());
        assert!(p.allow_entry_ok("198.51.100.10/32").is_ok());
        assert!(p
            .allow_entry_ok("203.0.113.0/24")
            .unwrap_err()
            .contains("outside the policy"));
        assert!(p.allow_entry_ok("garbage").is_err());
    }

    #[test]
    fn cidr_forms() {
        let c = Cidr::parse("10.0.0.0/255.255.0.0").unwrap();
        assert_eq!(c.len, 16);
        assert!(c.contains("10.0.3.4".parse().unwrap()));
        assert!(Cidr::parse("::/0").unwrap().is_any());
        assert!(Cidr::parse("1.2.3.4/255.0.255.0").is_none());
    }
}

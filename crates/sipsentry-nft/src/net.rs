//! A network prefix (CIDR), kept small and dependency-free.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An IPv4 or IPv6 network: address with its host bits cleared, and a prefix length.
///
/// Always normalised (`203.0.113.5/24` parses as `203.0.113.0/24`) so that two texts of the same
/// network compare equal, which the store's "one active ban per network" relies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

/// Why a text is not a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid network {text:?}: {reason}")]
pub struct NetParseError {
    /// The offending text, cut to 64 bytes.
    pub text: String,
    pub reason: &'static str,
}

impl IpNet {
    /// `addr/prefix` with host bits cleared; `None` if `prefix` exceeds the family's width.
    pub fn new(addr: IpAddr, prefix: u8) -> Option<IpNet> {
        if prefix > max_prefix(&addr) {
            return None;
        }
        Some(IpNet {
            addr: mask(addr, prefix),
            prefix,
        })
    }

    /// The single-address network (`/32` or `/128`).
    pub fn host(addr: IpAddr) -> IpNet {
        IpNet {
            addr,
            prefix: max_prefix(&addr),
        }
    }

    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }

    /// True for a single address (`/32`, `/128`).
    pub fn is_host(&self) -> bool {
        self.prefix == max_prefix(&self.addr)
    }

    /// Whether `ip` lies inside this network (never across families).
    pub fn contains_addr(&self, ip: &IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                mask(*ip, self.prefix) == self.addr
            }
            _ => false,
        }
    }

    /// Whether `other` lies entirely inside this network.
    pub fn contains(&self, other: &IpNet) -> bool {
        other.prefix >= self.prefix && self.contains_addr(&other.addr)
    }

    /// Whether the two networks share at least one address. Prefixes nest, so two networks
    /// overlap exactly when one contains the other.
    pub fn overlaps(&self, other: &IpNet) -> bool {
        self.contains(other) || other.contains(self)
    }

    /// An IPv4-mapped IPv6 network (`::ffff:a.b.c.d/p`, p >= 96) as the IPv4 network it denotes.
    pub fn unmapped(&self) -> IpNet {
        if let IpAddr::V6(v6) = self.addr {
            if self.prefix >= 96 {
                if let Some(v4) = v6.to_ipv4_mapped() {
                    return IpNet {
                        addr: IpAddr::V4(v4),
                        prefix: self.prefix - 96,
                    };
                }
            }
        }
        *self
    }
}

fn max_prefix(a: &IpAddr) -> u8 {
    if a.is_ipv4() {
        32
    } else {
        128
    }
}

fn mask(a: IpAddr, prefix: u8) -> IpAddr {
    match a {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let m = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            IpAddr::V4(Ipv4Addr::from(bits & m))
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let m = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            IpAddr::V6(Ipv6Addr::from(bits & m))
        }
    }
}

impl fmt::Display for IpNet {
    /// Always `addr/prefix`, also for hosts: one canonical text per network.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl FromStr for IpNet {
    type Err = NetParseError;

    /// `a.b.c.d`, `a.b.c.d/n`, `x::y`, `x::y/n`. A bare address is a host network.
    fn from_str(s: &str) -> Result<IpNet, NetParseError> {
        let err = |reason| NetParseError {
            text: s.chars().take(64).collect(),
            reason,
        };
        if s.len() > 64 {
            return Err(err("too long"));
        }
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| err("not an IP address"))?;
        let prefix = match p {
            None => max_prefix(&addr),
            Some(p) => {
                if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err("prefix length is not a number"));
                }
                p.parse::<u8>()
                    .map_err(|_| err("prefix length too large"))?
            }
        };
        IpNet::new(addr, prefix)
            .ok_or_else(|| err("prefix length too large for the address family"))
    }
}

impl From<IpAddr> for IpNet {
    fn from(a: IpAddr) -> IpNet {
        IpNet::host(a)
    }
}

impl TryFrom<String> for IpNet {
    type Error = NetParseError;
    fn try_from(s: String) -> Result<IpNet, NetParseError> {
        s.parse()
    }
}

impl From<IpNet> for String {
    fn from(n: IpNet) -> String {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn parse_normalises_and_prints_canonically() {
        assert_eq!(n("203.0.113.5/24").to_string(), "203.0.113.0/24");
        assert_eq!(n("203.0.113.5").to_string(), "203.0.113.5/32");
        assert_eq!(n("2001:DB8::1/64").to_string(), "2001:db8::/64");
        assert_eq!(n("2001:db8::1").to_string(), "2001:db8::1/128");
        assert_eq!(n("0.0.0.0/0").to_string(), "0.0.0.0/0");
        assert!(n("10.0.0.1").is_host());
        assert!(!n("10.0.0.0/8").is_host());
    }

    #[test]
    fn parse_rejects_garbage() {
        for s in [
            "",
            "/",
            "1.2.3.4/",
            "1.2.3.4/33",
            "::/129",
            "1.2.3.4/+1",
            "1.2.3.4/-1",
            "1.2.3.4/0032",
            "a.b.c.d",
            "1.2.3.4/8/8",
            "1.2.3.4 /8",
            "example.com",
        ] {
            assert!(s.parse::<IpNet>().is_err(), "{s:?} accepted");
        }
        let long = "1".repeat(1000);
        let e = long.parse::<IpNet>().unwrap_err();
        assert!(e.text.len() <= 64);
    }

    #[test]
    fn containment_and_overlap() {
        assert!(n("203.0.113.0/24").contains(&n("203.0.113.77")));
        assert!(!n("203.0.113.77").contains(&n("203.0.113.0/24")));
        assert!(n("203.0.113.77").overlaps(&n("203.0.113.0/24")));
        assert!(n("203.0.113.0/24").overlaps(&n("203.0.113.77")));
        assert!(!n("203.0.113.0/25").overlaps(&n("203.0.113.128/25")));
        assert!(n("0.0.0.0/0").contains(&n("127.0.0.1")));
        assert!(!n("::/0").contains(&n("127.0.0.1")), "families never mix");
        assert!(n("2001:db8::/32").contains(&n("2001:db8:1::/48")));
    }

    #[test]
    fn mapped_v6_unmaps() {
        assert_eq!(n("::ffff:127.0.0.1").unmapped(), n("127.0.0.1"));
        assert_eq!(n("::ffff:0:0/96").unmapped(), n("0.0.0.0/0"));
        assert_eq!(n("2001:db8::1").unmapped(), n("2001:db8::1"));
    }

    #[test]
    fn serde_uses_text() {
        let j = serde_json::to_string(&n("192.0.2.0/24")).unwrap();
        assert_eq!(j, "\"192.0.2.0/24\"");
        assert_eq!(
            serde_json::from_str::<IpNet>(&j).unwrap(),
            n("192.0.2.0/24")
        );
        assert!(serde_json::from_str::<IpNet>("\"nope\"").is_err());
    }
}

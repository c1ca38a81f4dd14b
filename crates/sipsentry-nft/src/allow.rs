//! The allow-list: networks that must never be banned.

use std::fmt;
use std::net::IpAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::exec;
use crate::net::IpNet;
use crate::NftError;

/// Why a network is on the allow-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AllowKind {
    /// 127.0.0.0/8, ::1 (and their IPv4-mapped form): banning them breaks the host itself.
    Loopback,
    /// 169.254.0.0/16, fe80::/10: neighbour discovery, DHCP, cloud metadata.
    LinkLocal,
    /// An address configured on one of the host's interfaces.
    HostAddress,
    /// Configured trusted network (SIP trunk, office, VPN).
    Trusted,
}

impl fmt::Display for AllowKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AllowKind::Loopback => "loopback",
            AllowKind::LinkLocal => "link-local",
            AllowKind::HostAddress => "this host's own address",
            AllowKind::Trusted => "trusted network",
        })
    }
}

/// A ban the allow-list refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("refused to ban {net}: {reason}")]
pub struct Refused {
    pub net: IpNet,
    /// The allow-listed network it overlaps (absent for refusals not caused by the allow-list).
    pub allowed: Option<IpNet>,
    pub kind: Option<AllowKind>,
    /// Human-readable, for the log line the caller writes.
    pub reason: String,
}

/// Networks that can never be banned. A ban is refused when it overlaps any entry: when the
/// banned network lies inside an allowed one, and also when it CONTAINS an allowed address
/// (banning `203.0.113.0/24` would cut off a trusted trunk at `203.0.113.10`).
#[derive(Debug, Clone)]
pub struct AllowList {
    entries: Vec<(IpNet, AllowKind, String)>,
}

impl Default for AllowList {
    fn default() -> Self {
        Self::new(std::iter::empty())
    }
}

impl AllowList {
    /// Loopback and link-local networks plus `trusted`.
    pub fn new(trusted: impl IntoIterator<Item = IpNet>) -> AllowList {
        let fixed = [
            ("127.0.0.0/8", AllowKind::Loopback),
            ("::1/128", AllowKind::Loopback),
            ("169.254.0.0/16", AllowKind::LinkLocal),
            ("fe80::/10", AllowKind::LinkLocal),
        ];
        let mut entries: Vec<(IpNet, AllowKind, String)> = fixed
            .into_iter()
            .map(|(n, k)| (n.parse().expect("constant network"), k, String::new()))
            .collect();
        entries.extend(
            trusted
                .into_iter()
                .map(|n| (n, AllowKind::Trusted, String::new())),
        );
        AllowList { entries }
    }

    /// Adds a trusted network with a label for the refusal message (e.g. `"trunk: ITSP A"`).
    pub fn add_trusted(&mut self, net: IpNet, label: &str) {
        self.entries
            .push((net, AllowKind::Trusted, label.chars().take(128).collect()));
    }

    /// Replaces the host-address entries with `addrs` (call again when interfaces change).
    pub fn set_host_addresses(&mut self, addrs: impl IntoIterator<Item = IpAddr>) {
        self.entries
            .retain(|(_, k, _)| *k != AllowKind::HostAddress);
        self.entries.extend(
            addrs
                .into_iter()
                .map(|a| (IpNet::host(a), AllowKind::HostAddress, String::new())),
        );
    }

    /// Reads the host's addresses (in `netns` if given) and adds them, see [`host_addresses`].
    pub fn with_host_addresses(mut self, netns: Option<&str>) -> Result<AllowList, NftError> {
        self.set_host_addresses(host_addresses(netns)?);
        Ok(self)
    }

    /// The allow-list's entries (network, kind).
    pub fn entries(&self) -> impl Iterator<Item = (IpNet, AllowKind)> + '_ {
        self.entries.iter().map(|(n, k, _)| (*n, *k))
    }

    /// `Ok` if `net` may be banned; the refusal names the allow-listed network it overlaps.
    /// IPv4-mapped IPv6 networks are checked as the IPv4 networks they denote.
    ///
    /// ```
    /// use sipsentry_nft::{AllowList, IpNet};
    /// let n = |s: &str| s.parse::<IpNet>().unwrap();
    /// let mut allow = AllowList::new([n("203.0.113.10")]); // the SIP trunk
    /// allow.add_trusted(n("198.51.100.0/26"), "office");
    /// assert!(allow.check(&n("192.0.2.66")).is_ok());
    /// assert!(allow.check(&n("127.0.0.1")).is_err());
    /// // a CIDR ban that would also cut off the trunk is refused
    /// let r = allow.check(&n("203.0.113.0/24")).unwrap_err();
    /// assert!(r.reason.contains("contains 203.0.113.10/32"));
    /// ```
    pub fn check(&self, net: &IpNet) -> Result<(), Refused> {
        let candidates = [*net, net.unmapped()];
        for (allowed, kind, label) in &self.entries {
            if candidates.iter().any(|c| c.overlaps(allowed)) {
                let how = if net.contains(allowed) && net != allowed {
                    format!("it contains {allowed}")
                } else {
                    format!("it is inside {allowed}")
                };
                let what = if label.is_empty() {
                    kind.to_string()
                } else {
                    format!("{kind} {label:?}")
                };
                return Err(Refused {
                    net: *net,
                    allowed: Some(*allowed),
                    kind: Some(*kind),
                    reason: format!("{how}, which is allow-listed ({what})"),
                });
            }
        }
        Ok(())
    }
}

/// Largest `ip -j addr` output accepted.
const MAX_IP_JSON: usize = 8 * 1024 * 1024;

/// The addresses configured on the host's interfaces (in `netns` if given), from `ip -j addr`.
/// Using iproute2's JSON avoids a libc/netlink dependency and works inside `ip netns exec`.
pub fn host_addresses(netns: Option<&str>) -> Result<Vec<IpAddr>, NftError> {
    let cmd = exec::command(netns, Path::new("ip"), &["-j", "addr", "show"]);
    let out = exec::run(cmd, None)?;
    if out.stdout.len() > MAX_IP_JSON {
        return Err(NftError::HostAddrs(format!(
            "`ip -j addr` printed more than {MAX_IP_JSON} bytes"
        )));
    }
    parse_ip_addr_json(&out.stdout)
}

#[derive(Deserialize)]
struct IfJson {
    #[serde(default)]
    addr_info: Vec<AddrJson>,
}

#[derive(Deserialize)]
struct AddrJson {
    #[serde(default)]
    local: Option<String>,
}

pub(crate) fn parse_ip_addr_json(bytes: &[u8]) -> Result<Vec<IpAddr>, NftError> {
    let ifs: Vec<IfJson> = serde_json::from_slice(bytes)
        .map_err(|e| NftError::HostAddrs(format!("unexpected `ip -j addr` output: {e}")))?;
    let mut out = Vec::new();
    for i in ifs {
        for a in i.addr_info {
            // Zone suffixes ("fe80::1%eth0") do not occur in `local`, but be lenient.
            if let Some(ip) = a
                .local
                .as_deref()
                .and_then(|l| l.split('%').next()?.parse::<IpAddr>().ok())
            {
                if !out.contains(&ip) {
                    out.push(ip);
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn list() -> AllowList {
        let mut a = AllowList::new([n("203.0.113.10/32")]);
        a.add_trusted(n("198.51.100.64/26"), "office VPN");
        a.set_host_addresses(["192.0.2.1".parse().unwrap(), "2001:db8::1".parse().unwrap()]);
        a
    }

    #[test]
    fn refuses_loopback_link_local_host_and_trusted() {
        let a = list();
        for (net, kind) in [
            ("127.0.0.1", AllowKind::Loopback),
            ("127.5.0.0/16", AllowKind::Loopback),
            ("::1", AllowKind::Loopback),
            ("::ffff:127.0.0.1", AllowKind::Loopback),
            ("169.254.169.254", AllowKind::LinkLocal),
            ("fe80::1234", AllowKind::LinkLocal),
            ("192.0.2.1", AllowKind::HostAddress),
            ("2001:db8::1", AllowKind::HostAddress),
            ("203.0.113.10", AllowKind::Trusted),
            ("198.51.100.70", AllowKind::Trusted),
        ] {
            let r = a.check(&n(net)).expect_err(net);
            assert_eq!(r.kind, Some(kind), "{net}");
            assert!(r.reason.contains("allow-listed"), "{}", r.reason);
        }
    }

    #[test]
    fn refuses_cidr_that_contains_an_allowed_address() {
        let a = list();
        let r = a.check(&n("203.0.113.0/24")).unwrap_err();
        assert_eq!(r.allowed, Some(n("203.0.113.10/32")));
        assert!(
            r.reason.contains("contains 203.0.113.10/32"),
            "{}",
            r.reason
        );
        assert!(
            a.check(&n("192.0.2.0/24")).is_err(),
            "contains the host address"
        );
        assert!(a.check(&n("0.0.0.0/0")).is_err());
        assert!(a.check(&n("::/0")).is_err());
        assert!(a.check(&n("2001:db8::/32")).is_err());
        let r = a.check(&n("198.51.100.0/24")).unwrap_err();
        assert!(r.reason.contains("office VPN"), "{}", r.reason);
    }

    #[test]
    fn allows_everything_else() {
        let a = list();
        for net in [
            "203.0.113.11",
            "203.0.113.0/29",
            "198.51.100.0/26",
            "192.0.2.2",
            "2001:db8::2",
            "10.0.0.0/8",
        ] {
            assert!(a.check(&n(net)).is_ok(), "{net} refused");
        }
    }

    #[test]
    fn host_addresses_are_replaced_not_accumulated() {
        let mut a = list();
        a.set_host_addresses(["192.0.2.50".parse().unwrap()]);
        assert!(a.check(&n("192.0.2.1")).is_ok());
        assert!(a.check(&n("192.0.2.50")).is_err());
    }

    #[test]
    fn parses_iproute2_json() {
        // Shape of `ip -j addr show` (iproute2 6.1, Debian 12), trimmed.
        let j = br#"[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo"},{"family":"inet6","local":"::1","prefixlen":128,"scope":"host"}]},{"ifindex":2,"ifname":"eth0","addr_info":[{"family":"inet","local":"192.0.2.1","prefixlen":24,"broadcast":"192.0.2.255"},{"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link"}]},{"ifindex":3,"ifname":"down0","addr_info":[]},{"ifindex":4,"ifname":"x"}]"#;
        let got = parse_ip_addr_json(j).unwrap();
        let want: Vec<IpAddr> = ["127.0.0.1", "::1", "192.0.2.1", "fe80::1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(got, want);
        assert!(parse_ip_addr_json(b"not json").is_err());
    }
}

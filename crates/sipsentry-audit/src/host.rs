//! The host: loaded SIP ALG modules (/proc/modules, /sys/module) and listening sockets
//! (/proc/net/{tcp,tcp6,udp,udp6}) against the services the policy expects.

use crate::catalogue::rule;
use crate::facts::{obj, Facts};
use crate::policy::Policy;
use sipsentry_report::Finding;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

const SIP_ALG_MODULES: [&str; 2] = ["nf_conntrack_sip", "nf_nat_sip"];
const MAX_PROC_BYTES: u64 = 32 * 1024 * 1024;

/// One listening socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listener {
    pub proto: &'static str,
    pub addr: IpAddr,
    pub port: u16,
}

/// SIP ALG modules named in a /proc/modules text.
pub fn sip_alg_modules(proc_modules: &str) -> Vec<String> {
    proc_modules
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|m| SIP_ALG_MODULES.contains(m))
        .map(str::to_string)
        .collect()
}

fn hex_addr(s: &str) -> Option<IpAddr> {
    match s.len() {
        8 => {
            let v = u32::from_str_radix(s, 16).ok()?;
            // /proc prints the address in host (little-endian) byte order.
            Some(IpAddr::V4(Ipv4Addr::from(v.swap_bytes())))
        }
        32 => {
            let mut b = [0u8; 16];
            for (i, chunk) in s.as_bytes().chunks(8).enumerate() {
                let w = u32::from_str_radix(std::str::from_utf8(chunk).ok()?, 16).ok()?;
                b[i * 4..i * 4 + 4].copy_from_slice(&w.swap_bytes().to_be_bytes());
            }
            Some(IpAddr::V6(Ipv6Addr::from(b)))
        }
        _ => None,
    }
}

/// Parse a /proc/net/{tcp,udp}[6] table: TCP sockets in LISTEN (state 0A), UDP sockets that are
/// unconnected (state 07 with remote port 0).
pub fn parse_proc_net(text: &str, proto: &'static str) -> Vec<Listener> {
    let mut out = Vec::new();
    for line in text.lines().skip(1).take(1_000_000) {
        let w: Vec<&str> = line.split_whitespace().collect();
        let (Some(local), Some(remote), Some(state)) = (w.get(1), w.get(2), w.get(3)) else {
            continue;
        };
        let listening = match proto {
            "tcp" => *state == "0A",
            _ => *state == "07" && remote.ends_with(":0000"),
        };
        if !listening {
            continue;
        }
        let Some((a, p)) = local.split_once(':') else {
            continue;
        };
        let (Some(addr), Ok(port)) = (hex_addr(a), u16::from_str_radix(p, 16)) else {
            continue;
        };
        let l = Listener { proto, addr, port };
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

fn read_small(p: &Path) -> Option<String> {
    use std::io::Read;
    let f = std::fs::File::open(p).ok()?;
    let mut s = String::new();
    f.take(MAX_PROC_BYTES).read_to_string(&mut s).ok()?;
    Some(s)
}

/// Read the live host under `root` (`/` normally; a directory with the same layout in tests).
pub fn collect(root: &Path) -> Facts {
    let mut f = Facts::new();
    f.set("host.root", root.display().to_string());
    match read_small(&root.join("proc/modules")) {
        Some(m) => {
            f.set_bool("host.modules.readable", true);
            f.set("host.sip_alg_modules", sip_alg_modules(&m).join(","));
        }
        None => {
            // No /proc/modules (a kernel without module support): built-in modules show in /sys.
            f.set_bool("host.modules.readable", false);
            let builtin: Vec<&str> = SIP_ALG_MODULES
                .iter()
                .copied()
                .filter(|m| root.join("sys/module").join(m).exists())
                .collect();
            f.set("host.sip_alg_modules", builtin.join(","));
        }
    }
    let mut listeners = Vec::new();
    for (file, proto) in [
        ("tcp", "tcp"),
        ("tcp6", "tcp"),
        ("udp", "udp"),
        ("udp6", "udp"),
    ] {
        if let Some(t) = read_small(&root.join("proc/net").join(file)) {
            listeners.extend(parse_proc_net(&t, proto));
        }
    }
    listeners_facts(&listeners, &mut f);
    f
}

/// Add listening-socket facts (`host.listen[proto/addr/port]`).
pub fn listeners_facts(ls: &[Listener], f: &mut Facts) {
    for l in ls {
        let scope = if l.addr.is_loopback() {
            "loopback"
        } else if l.addr.is_unspecified() {
            "any"
        } else {
            "address"
        };
        f.set(
            format!(
                "host.{}",
                obj("listen", &format!("{}/{}/{}", l.proto, l.port, l.addr))
            ),
            scope,
        );
    }
}

/// Host rules over `host.*` facts.
pub fn rules(f: &Facts, p: &Policy) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(root) = f.get("host.root") else {
        return out;
    };
    let target = if root == "/" {
        "host".to_string()
    } else {
        format!("host ({root})")
    };
    if let Some(m) = f.get("host.sip_alg_modules").filter(|m| !m.is_empty()) {
        let how = if f.get_bool("host.modules.readable") == Some(true) {
            "/proc/modules"
        } else {
            "/sys/module"
        };
        out.push(rule("HOST-SIP-ALG-LOADED").finding(target.clone(), vec![format!("{how}: {m}")]));
    }
    let mut mgmt = Vec::new();
    let mut unexpected = Vec::new();
    for key in f.objects("host.listen[") {
        let scope = f
            .get(&format!("host.{}", obj("listen", &key)))
            .unwrap_or("");
        if scope == "loopback" {
            continue;
        }
        let mut parts = key.splitn(3, '/');
        let (Some(proto), Some(port), Some(addr)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let Ok(port) = port.parse::<u16>() else {
            continue;
        };
        // SSH is the one management port that is normally bound to all interfaces on purpose.
        if proto == "tcp"
            && scope == "any"
            && port != 22
            && p.services.management_ports.contains(&port)
        {
            mgmt.push(format!("{proto} {addr} port {port}"));
        }
        if !p.services.listen.is_empty() && !p.listen_expected(proto, port) {
            unexpected.push(format!("{proto} {addr} port {port}"));
        }
    }
    if !mgmt.is_empty() {
        out.push(rule("HOST-MGMT-LISTENING").finding(target.clone(), mgmt));
    }
    if !unexpected.is_empty() {
        out.push(rule("HOST-UNEXPECTED-LISTENER").finding(target, unexpected));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_decoding() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 00000000:13BA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0\n\
   1: 0100007F:1F95 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0\n\
   2: 0100007F:1F95 0100007F:A000 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 100 0 0 10 0\n";
        let l = parse_proc_net(tcp, "tcp");
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].port, 5050);
        assert!(l[0].addr.is_unspecified());
        assert_eq!(l[1].addr, "127.0.0.1".parse::<IpAddr>().unwrap());
        let tcp6 = "h\n 0: 00000000000000000000000001000000:1F5D 00000000000000000000000000000000:0000 0A x\n";
        assert_eq!(
            parse_proc_net(tcp6, "tcp")[0].addr,
            "::1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            sip_alg_modules("nf_nat_sip 16384 0 - Live 0x0\nnf_conntrack 1 2 nf_nat_sip, Live\n"),
            vec!["nf_nat_sip"]
        );
    }
}

//! Restore on restart against the real kernel, in a network namespace this test creates and
//! deletes (`ssr-<tag>-<pid>`). Needs root, `nft` (nftables) and `ip` (iproute2).

mod common;

use std::time::Duration;

use common::*;
use sipsentry_nft::{Ban, Firewall, FirewallConfig, IpNet, PersistedBan};

struct Ns(String);
impl Drop for Ns {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.0])
            .output();
    }
}

fn n(s: &str) -> IpNet {
    s.parse().unwrap()
}

#[test]
fn regression_reconcile_skips_host_covered_by_a_shorter_cidr_ban() {
    require_tools();
    let name = format!("ssr-cov-{}", std::process::id());
    let _ = std::process::Command::new("ip")
        .args(["netns", "del", &name])
        .output();
    sh(&["ip", "netns", "add", &name]);
    let ns = Ns(name);
    let fw = Firewall::new(FirewallConfig {
        netns: Some(ns.0.clone()),
        ..FirewallConfig::default()
    })
    .unwrap();
    fw.install().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    // In the kernel: the /24 with a minute left. In the store: the /24 for that minute, and a
    // repeat offender inside it banned for a day.
    fw.ban_batch(&[Ban {
        net: n("198.51.100.0/24"),
        timeout: Duration::from_secs(60),
    }])
    .unwrap();
    let stored = [
        PersistedBan {
            net: n("198.51.100.0/24"),
            expires_unix: now + 60,
        },
        PersistedBan {
            net: n("198.51.100.7"),
            expires_unix: now + 86_400,
        },
    ];
    let r = fw.reconcile(&stored, now).unwrap();
    // Counting the host as present would free it when the /24 runs out, 23 h 59 min early.
    assert!(
        r.added.contains(&n("198.51.100.7")),
        "host left to the shorter CIDR: {r:?}"
    );
    let host = fw
        .list()
        .unwrap()
        .into_iter()
        .find(|k| k.net == n("198.51.100.7"))
        .expect("host in the kernel");
    assert!(
        host.expires_in.unwrap() > Duration::from_secs(86_000),
        "{host:?}"
    );
    // Idempotent: a second restore adds nothing.
    let r2 = fw.reconcile(&stored, now).unwrap();
    assert!(r2.added.is_empty(), "{r2:?}");
}

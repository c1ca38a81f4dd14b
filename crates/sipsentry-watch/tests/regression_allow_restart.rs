//! Restart after a banned network was added to the allow-list, with real nftables in a network
//! namespace this test creates and deletes (needs `ip` from iproute2 and `nft` from nftables).

mod common;
use common::*;
use sipsentry_watch::actions::Cmd;
use std::process::Command;
use std::time::Duration;

fn guard(dir: &std::path::Path, ns: &str, allow: &str) -> sipsentry_watch::Guard {
    let p = write(
        dir,
        "w.toml",
        &format!("[inputs.hep]\nudp = \"127.0.0.91:0\"\ntcp = \"\"\n[response]\nmode = \"enforce\"\nnetns = \"{ns}\"\nallow = [{allow}]\n[alerts]\nstdout = false\n[store]\npath = \"g.db\"\n[api]\nlisten = \"\"\n"),
    );
    let cfg = sipsentry_watch::config::Config::load(&p).unwrap();
    let policy = sipsentry_detect::Policy::default();
    let enforcer = sipsentry_watch::enforcer(&cfg, &policy).unwrap();
    sipsentry_watch::Guard::start(&cfg, policy, enforcer).unwrap()
}

fn in_kernel(ns: &str, ip: &str) -> bool {
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            ns,
            "nft",
            "-j",
            "list",
            "set",
            "inet",
            "sipsentry",
            "ban4",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).contains(&format!("\"{ip}\""))
}

fn active_bans(g: &sipsentry_watch::Guard) -> Vec<String> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    g.commands().send(Cmd::ListBans(tx)).unwrap();
    rx.recv_timeout(Duration::from_secs(10))
        .unwrap()
        .unwrap()
        .into_iter()
        .map(|b| b.net)
        .collect()
}

#[test]
fn regression_restart_leaves_newly_allow_listed_net_banned_in_kernel() {
    let ns = netns("ssr-allow");
    let dir = tempfile::tempdir().unwrap();
    let g = guard(dir.path(), &ns.0, "");
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    g.commands()
        .send(Cmd::Ban {
            net: "10.9.9.9".into(),
            seconds: 600,
            reason: "test".into(),
            by: "api".into(),
            reply: tx,
        })
        .unwrap();
    rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap();
    assert!(in_kernel(&ns.0, "10.9.9.9"), "ban not applied");
    g.stop();

    // The admin learns 10.9.9.9 is the SIP trunk, allow-lists it and restarts the guard.
    let g = guard(dir.path(), &ns.0, "\"10.9.9.0/24\"");
    assert!(
        !in_kernel(&ns.0, "10.9.9.9"),
        "allow-listed trunk still dropped by the kernel after restart"
    );
    assert!(
        wait_for(5, || active_bans(&g).is_empty()),
        "store still lists the ban: {:?}",
        active_bans(&g)
    );
    g.stop();
}

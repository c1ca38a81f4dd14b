//! The guard's response path with real nftables, in a network namespace this test creates and
//! deletes: repeat offenders get longer bans (recidive), and dry-run changes nothing.

mod common;
use common::*;
use std::net::{SocketAddr, UdpSocket};
use std::process::Command;
use std::time::Duration;

fn guard(dir: &std::path::Path, ns: &str, mode: &str) -> sipsentry_watch::Guard {
    let p = write(
        dir,
        "w.toml",
        &format!("[inputs.hep]\nudp = \"127.0.0.46:0\"\ntcp = \"\"\n[response]\nmode = \"{mode}\"\nnetns = \"{ns}\"\nrecidive_factor = 4\n[alerts]\nstdout = false\nupdate_interval_s = 0\n[store]\npath = \"g.db\"\n[api]\nlisten = \"127.0.0.46:0\"\n"),
    );
    let cfg = sipsentry_watch::config::Config::load(&p).unwrap();
    let mut policy = sipsentry_detect::Policy::default();
    policy.thresholds.ban_secs = 2;
    let enforcer = sipsentry_watch::enforcer(&cfg, &policy).unwrap();
    sipsentry_watch::Guard::start(&cfg, policy, enforcer).unwrap()
}

/// Five failed digest authentications from `src`, mirrored as HEP.
fn brute(g: &sipsentry_watch::Guard, src: &str, round: u32) {
    let s = UdpSocket::bind("127.0.0.46:0").unwrap();
    let src: SocketAddr = src.parse().unwrap();
    let pbx: SocketAddr = "192.0.2.1:5060".parse().unwrap();
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    for k in 0..5 {
        let call = format!("r{round}k{k}");
        let req = format!("REGISTER sip:192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP {src};branch=z9hG4bK{call}\r\nFrom: <sip:101@pbx>;tag=1\r\nTo: <sip:101@pbx>\r\nCall-ID: {call}\r\nCSeq: 2 REGISTER\r\nMax-Forwards: 70\r\nAuthorization: Digest username=\"101\", realm=\"pbx\", nonce=\"n{call}\", uri=\"sip:pbx\", response=\"00112233445566778899aabbccddeeff\"\r\nContent-Length: 0\r\n\r\n");
        let resp = format!("SIP/2.0 403 Forbidden\r\nVia: SIP/2.0/UDP {src};branch=z9hG4bK{call}\r\nFrom: <sip:101@pbx>;tag=1\r\nTo: <sip:101@pbx>;tag=2\r\nCall-ID: {call}\r\nCSeq: 2 REGISTER\r\nContent-Length: 0\r\n\r\n");
        for (a, b, m) in [(src, pbx, req), (pbx, src, resp)] {
            let msg = Msg {
                ts,
                src: a,
                dst: b,
                tcp: false,
                data: m.into_bytes(),
            };
            s.send_to(&hep(&msg, None, 0), g.hep_udp.unwrap()).unwrap();
        }
    }
}

/// The element's timeout in the kernel set, in seconds, if present.
fn kernel_timeout(ns: &str, ip: &str) -> Option<u64> {
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
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    for item in v["nftables"].as_array()? {
        for e in item["set"]["elem"].as_array().into_iter().flatten() {
            if e["elem"]["val"] == ip {
                return e["elem"]["timeout"].as_u64();
            }
        }
    }
    None
}

#[test]
fn repeat_offender_gets_a_longer_ban() {
    let ns = netns("ssw-rec");
    let dir = tempfile::tempdir().unwrap();
    let g = guard(dir.path(), &ns.0, "enforce");
    brute(&g, "10.1.1.1:5060", 0);
    assert!(
        wait_for(5, || kernel_timeout(&ns.0, "10.1.1.1") == Some(2)),
        "first ban: {:?}",
        kernel_timeout(&ns.0, "10.1.1.1")
    );
    // Expires from the kernel by itself.
    assert!(
        wait_for(6, || kernel_timeout(&ns.0, "10.1.1.1").is_none()),
        "ban did not expire"
    );
    std::thread::sleep(Duration::from_millis(1200)); // the store's expiry tick
                                                     // Comes back: ×4.
    brute(&g, "10.1.1.1:5060", 1);
    assert!(
        wait_for(5, || kernel_timeout(&ns.0, "10.1.1.1") == Some(8)),
        "second ban: {:?}",
        kernel_timeout(&ns.0, "10.1.1.1")
    );
    g.stop();
}

#[test]
fn dry_run_changes_nothing_in_the_kernel() {
    let ns = netns("ssw-dry");
    let dir = tempfile::tempdir().unwrap();
    let g = guard(dir.path(), &ns.0, "dry-run");
    brute(&g, "10.1.1.2:5060", 0);
    let api = g.api.unwrap();
    assert!(wait_for(5, || http(api, "GET", "/metrics", None, "")
        .1
        .contains("sipsentry_bans_total 1")));
    let tables = Command::new("ip")
        .args(["netns", "exec", &ns.0, "nft", "list", "tables"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&tables.stdout).trim().is_empty(),
        "dry-run created {}",
        String::from_utf8_lossy(&tables.stdout)
    );
    g.stop();
}

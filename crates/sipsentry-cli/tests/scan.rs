//! `sipsentry scan` end to end against a real Kamailio (the scan crate's WEAK profile) on
//! loopback: output formats, the JSON shape of the issue, --fail-on exit codes, usage errors.

#[path = "../../sipsentry-scan/tests/common/mod.rs"]
mod common;

use std::process::Command;

fn scan(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sipsentry"))
        .arg("scan")
        .args(args)
        .output()
        .unwrap()
}

const BASE: &[&str] = &[
    "--ports",
    "udp:5060,tcp:5060,tls:5061",
    "--bind",
    "127.0.0.65",
    "--domain",
    "weak.sipsentry.test",
    "--range",
    "1000-1005,2000-2002",
    "--no-progress",
];

#[test]
fn scan_weak_kamailio_all_formats_and_fail_on() {
    let _k = common::kamailio("cli", "weak.cfg", "127.0.0.59", 5060, &[]);
    let mut args = BASE.to_vec();
    args.extend(["--format", "json", "--fail-on", "high", "127.0.0.59"]);
    let out = scan(&args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v["targets"].is_array() && v["services"].is_array());
    let findings = v["findings"].as_array().unwrap();
    for f in findings {
        for key in [
            "id",
            "severity",
            "title",
            "target",
            "evidence",
            "control",
            "remediation",
        ] {
            assert!(f.get(key).is_some(), "finding without {key}: {f}");
        }
    }
    let ids: Vec<&str> = findings.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert!(
        ids.contains(&"SIP-UNAUTH-INVITE") && ids.contains(&"SIP-ENUM-LEAK"),
        "{ids:?}"
    );
    assert_eq!(
        v["targets"][0]["extensions"],
        serde_json::json!(["1001", "1002", "1003", "2001"])
    );
    assert!(v["services"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["transport"] == "udp" && s["state"] == "open"));

    // Same scan, lighter, in the other formats; --fail-on above every finding exits 0.
    let quick = ["--skip", "enum,burst,register", "127.0.0.59"];
    let mut a = BASE.to_vec();
    a.extend(["--format", "sarif"]);
    a.extend(quick);
    let out = scan(&a);
    assert_eq!(out.status.code(), Some(0));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sarif");
    assert_eq!(s["version"], "2.1.0");
    assert!(s["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["ruleId"] == "SIP-UNAUTH-INVITE"));
    for (fmt, needle) in [
        ("markdown", "SIP-UNAUTH-INVITE"),
        ("html", "<html"),
        ("text", "== CRITICAL"),
    ] {
        let mut a = BASE.to_vec();
        a.extend(["--format", fmt]);
        a.extend(quick);
        let out = scan(&a);
        assert_eq!(out.status.code(), Some(0), "{fmt}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(needle), "{fmt}: {text}");
    }
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    for (args, msg) in [
        (vec!["--auth-test", "127.0.0.1"], "--auth-extensions"),
        (vec!["10.0.0.0/8"], "at most 256"),
        (vec!["--ports", "smtp:25", "127.0.0.1"], "unknown kind"),
        (vec!["--range", "9-1", "127.0.0.1"], "empty range"),
        (vec!["--fail-on", "hgh", "127.0.0.1"], "unknown severity"),
    ] {
        let out = scan(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(msg), "{args:?}: {err}");
    }
}

/// Regression: `sipsentry reflector` (it runs on the internet) spawned a task per TCP
/// connection without bound and returned from its loop on the first `accept` error, so a
/// stranger holding open more connections than the process has file descriptors (EMFILE)
/// stopped the reflector for everyone. Run with a small descriptor limit (util-linux prlimit).
#[test]
fn reflector_survives_a_tcp_connection_flood() {
    use std::net::{TcpStream, UdpSocket};
    use std::time::Duration;
    let prlimit = common::need("prlimit", "util-linux");
    let listen = "127.0.0.62:5072";
    let mut child = Command::new(prlimit)
        .args(["--nofile=48", "--"])
        .arg(env!("CARGO_BIN_EXE_sipsentry"))
        .args(["reflector", "--listen", listen])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn reflector");
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let guard = Kill(&mut child);
    std::thread::sleep(Duration::from_millis(400));
    let mut conns = Vec::new();
    for _ in 0..80 {
        if let Ok(c) =
            TcpStream::connect_timeout(&listen.parse().unwrap(), Duration::from_millis(300))
        {
            conns.push(c);
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        guard.0.try_wait().expect("wait").is_none(),
        "the reflector exited under a connection flood"
    );
    drop(conns);
    std::thread::sleep(Duration::from_millis(300));
    // Still answering: a padded-enough UDP request gets its 200.
    let u = UdpSocket::bind("127.0.0.63:0").unwrap();
    u.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let req = format!(
        "OPTIONS sip:r@127.0.0.62 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.63:5060;branch=z9hG4bK-f\r\n\
         From: <sip:a@b>;tag=1\r\nTo: <sip:r@b>\r\nCall-ID: flood\r\nCSeq: 1 OPTIONS\r\n\
         X-Reflector-Pad: {}\r\nContent-Length: 0\r\n\r\n",
        "x".repeat(640)
    );
    u.send_to(req.as_bytes(), listen).unwrap();
    let mut buf = [0u8; 4096];
    let n = u.recv(&mut buf).expect("reflector answers after the flood");
    assert!(buf[..n].starts_with(b"SIP/2.0 200"));
}

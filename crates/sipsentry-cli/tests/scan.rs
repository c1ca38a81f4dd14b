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

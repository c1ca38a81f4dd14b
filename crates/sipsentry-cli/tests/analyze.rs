//! `sipsentry analyze` end to end on the committed lab capture (real Kamailio, sipvicious and
//! sipsak traffic; see tests/vectors/lab/README.md) and on damaged input.

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn analyze(args: &[&str], file: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sipsentry"))
        .arg("analyze")
        .args(args)
        .arg(file)
        .output()
        .unwrap()
}

#[test]
fn lab_capture_summary() {
    let lab = root().join("tests/vectors/lab/attack-lab.pcap");
    let out = analyze(&["--format", "json"], &lab);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &v["summary"];
    let regs = s["registrations"].as_array().unwrap();
    let reg = |ext: &str| regs.iter().find(|r| r["extension"] == ext).unwrap_or_else(|| panic!("{ext}"));
    // svcrack cracked 2000's password: ~27 challenges then one success.
    assert_eq!(reg("2000")["outcome"], "registered");
    assert!(reg("2000")["challenged"].as_u64().unwrap() >= 20);
    // svwar's probes of missing extensions got 404.
    assert_eq!(reg("1015")["outcome"], "not-found");
    // The NAT'd office phones registered.
    for e in ["1003", "1004", "1005"] {
        assert_eq!(reg(e)["outcome"], "registered", "{e}");
    }
    let calls = s["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    for c in calls {
        assert_eq!(c["outcome"], "answered");
        assert_eq!((c["from_user"].as_str(), c["to_user"].as_str()), (Some("1002"), Some("1001")));
        let d = c["duration_s"].as_f64().unwrap();
        assert!(d > 0.5 && d < 10.0, "{d}");
    }
    let top = s["top_sources"].as_array().unwrap();
    assert_eq!(top[1]["address"], "127.0.0.69", "the sipsak flood is the busiest client");
    assert_eq!(s["by_transport"]["tcp"], 4);
}

#[test]
fn output_is_deterministic() {
    let lab = root().join("tests/vectors/lab/attack-lab.pcap");
    for fmt in ["json", "jsonl", "table"] {
        let a = analyze(&["--format", fmt], &lab);
        let b = analyze(&["--format", fmt], &lab);
        assert_eq!(a.stdout, b.stdout, "{fmt}");
    }
}

#[test]
fn truncated_capture_reports_what_came_before() {
    let src = std::fs::read(root().join("tests/vectors/pcaps/sngrep_aaa.pcap")).unwrap();
    let dir = std::env::temp_dir().join(format!("sipsentry-trunc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("cut.pcap");
    std::fs::write(&p, &src[..src.len() / 2 + 7]).unwrap();
    let out = analyze(&["--format", "json"], &p);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning"));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["summary"]["messages"].as_u64().unwrap() > 10);
    assert!(v["summary"]["inputs"][0]["error"].is_string());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn not_a_capture_is_a_clear_error() {
    let out = analyze(&[], &root().join("README.md"));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a pcap or pcapng capture"), "{err}");
    let out = analyze(&[], &root().join("does-not-exist.pcap"));
    assert_eq!(out.status.code(), Some(2));
}

//! Every capture in tests/vectors/pcaps (copied from ../shared/vectors/pcaps; INDEX.md there
//! gives each file's source) and the lab's attack capture decode to the same per-method and
//! per-status counts as tshark's SIP dissector. HEP captures, which tshark 4.0 cannot dissect,
//! are checked against the decode recorded in INDEX.md instead.
//!
//! Needs tshark (Debian package `tshark`; `.ci/run` installs it). Without it the test fails and
//! says so rather than pass vacuously.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

type Counts = BTreeMap<String, u64>;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tshark_counts(path: &Path) -> Counts {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(path)
        .args([
            "-Y",
            "sip && !icmp && !icmpv6",
            "-T",
            "fields",
            "-E",
            "occurrence=a",
            "-E",
            "aggregator=|",
        ])
        .args(["-e", "sip.Method", "-e", "sip.Status-Code"])
        .output()
        .expect("tshark is required for this test: apt-get install tshark (see .ci/run)");
    assert!(
        out.status.success(),
        "tshark failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut c = Counts::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let (m, s) = line.split_once('\t').unwrap_or((line, ""));
        for x in m.split('|').filter(|x| !x.is_empty()) {
            *c.entry(format!("method:{x}")).or_default() += 1;
        }
        for x in s.split('|').filter(|x| !x.is_empty()) {
            *c.entry(format!("status:{x}")).or_default() += 1;
        }
    }
    c
}

fn our_counts(path: &Path) -> Counts {
    let out = Command::new(env!("CARGO_BIN_EXE_sipsentry"))
        .args(["analyze", "--format", "jsonl", "--no-progress"])
        .arg(path)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut c = Counts::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for key in [
            "ts",
            "src",
            "dst",
            "transport",
            "call_id",
            "cseq",
            "from_user",
            "to_user",
            "user_agent",
            "anomalies",
        ] {
            assert!(v.get(key).is_some(), "jsonl line lacks {key}: {line}");
        }
        if let Some(m) = v["method"].as_str() {
            *c.entry(format!("method:{m}")).or_default() += 1;
        } else if let Some(s) = v["status"].as_u64() {
            *c.entry(format!("status:{s}")).or_default() += 1;
        } else {
            panic!("neither method nor status: {line}");
        }
    }
    c
}

#[test]
fn every_shared_capture_matches_tshark() {
    let dir = root().join("tests/vectors/pcaps");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x != "md"))
        .collect();
    files.sort();
    files.push(root().join("tests/vectors/lab/attack-lab.pcap"));
    assert!(
        files.len() >= 45,
        "expected the 44 shared captures and the lab capture"
    );
    let mut failures = vec![];
    let mut compared = 0;
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let ours = our_counts(f);
        let want = if name == "hepws_hep.pcap" {
            // INDEX.md, "HEP3 decode": six SIP payloads (the log and RTCP chunks are not SIP).
            [
                "method:INVITE",
                "status:100",
                "status:407",
                "method:OPTIONS",
                "status:200",
                "method:PUBLISH",
            ]
            .iter()
            .map(|k| (k.to_string(), 1))
            .collect()
        } else {
            tshark_counts(f)
        };
        compared += 1;
        if ours != want {
            failures.push(format!("{name}: ours {ours:?}\n   tshark {want:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn gzip_compressed_capture_is_read_by_content() {
    use std::io::Write;
    let src = std::fs::read(root().join("tests/vectors/pcaps/sngrep_aaa.pcap")).unwrap();
    let dir = std::env::temp_dir().join(format!("sipsentry-gz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A misleading extension: detection must be by magic.
    let path = dir.join("capture.txt");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::fast(),
    );
    gz.write_all(&src).unwrap();
    gz.finish().unwrap();
    assert_eq!(
        our_counts(&path),
        our_counts(&root().join("tests/vectors/pcaps/sngrep_aaa.pcap"))
    );
    std::fs::remove_dir_all(&dir).ok();
}

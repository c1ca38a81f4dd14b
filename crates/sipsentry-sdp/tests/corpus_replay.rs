//! Replays stored inputs through `fuzz_parse`: this crate's seed corpus, the SDP bodies of the
//! RFC 4475 torture messages, and any fuzz corpus or crash artifacts for SDP under `fuzz/`.

use std::fs;
use std::path::{Path, PathBuf};

use sipsentry_sdp::{fuzz_parse, Session};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn seed_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let files = files_in(&dir);
    assert!(files.len() >= 5, "seed corpus missing in {}", dir.display());
    for f in files {
        let data = fs::read(&f).unwrap();
        fuzz_parse(&data);
        let s = Session::parse(&data).unwrap();
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("rfc") || name.starts_with("dtls") {
            assert!(s.anomalies().is_empty(), "{name}: {:?}", s.anomalies());
        } else {
            assert!(!s.anomalies().is_empty(), "{name}");
        }
    }
}

#[test]
fn rfc4475_message_bodies() {
    let dir = workspace().join("tests/vectors/rfc4475");
    let files: Vec<_> = files_in(&dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "dat"))
        .collect();
    if files.is_empty() {
        eprintln!("no RFC 4475 vectors at {}; skipped", dir.display());
        return;
    }
    let mut sdp = 0;
    for f in files {
        let msg = fs::read(&f).unwrap();
        let body = msg
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(&msg[..], |i| &msg[i + 4..]);
        fuzz_parse(body);
        fuzz_parse(&msg);
        if body.starts_with(b"v=0\r\n") {
            sdp += 1;
            let s = Session::parse(body).unwrap();
            if f.file_name().is_some_and(|n| n == "wsinv.dat") {
                assert!(s.anomalies().is_empty(), "{:?}", s.anomalies());
                assert_eq!(s.media_count(), 2);
            }
        }
    }
    assert!(sdp >= 10, "only {sdp} SDP bodies found");
}

#[test]
fn fuzz_corpora_and_artifacts() {
    let fuzz = workspace().join("fuzz");
    let mut n = 0;
    for sub in ["corpus", "artifacts"] {
        for dir in fs::read_dir(fuzz.join(sub)).into_iter().flatten().flatten() {
            let path = dir.path();
            if path.is_dir()
                && path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().contains("sdp"))
            {
                for f in files_in(&path) {
                    fuzz_parse(&fs::read(&f).unwrap());
                    n += 1;
                }
            }
        }
    }
    eprintln!("replayed {n} fuzz inputs");
}

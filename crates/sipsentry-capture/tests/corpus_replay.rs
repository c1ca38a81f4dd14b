//! Replays stored inputs through the fuzz entry points: this crate's seed corpus
//! (`tests/corpus/{pcap,reassembly}/`) and any fuzz corpus or crash artifacts under the
//! workspace's `fuzz/` whose directory name mentions `capture`, `pcap` or `reassembly`.
//!
//! Suggested fuzz targets: `capture_pcap` calling [`fuzz_pcap`] and `capture_reassembly`
//! calling [`fuzz_reassembly`], seeded from `tests/corpus/`.

use std::fs;
use std::path::{Path, PathBuf};

use sipsentry_capture::{fuzz_pcap, fuzz_reassembly, Decoder, Event, PcapReader};

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

fn seeds(kind: &str) -> Vec<PathBuf> {
    files_in(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/corpus")
            .join(kind),
    )
}

#[test]
fn pcap_seed_corpus() {
    let files = seeds("pcap");
    assert!(files.len() >= 8, "seed corpus missing");
    for f in files {
        let data = fs::read(&f).unwrap();
        fuzz_pcap(&data);
        // Seeds are well formed (except the deliberately truncated one) and carry payloads.
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let mut rd = PcapReader::new(&data[..]).unwrap();
        let mut d = Decoder::default();
        let mut payloads = 0;
        let end = loop {
            match rd.next_packet() {
                Ok(Some(p)) => d.push(&p, |e| {
                    if matches!(e, Event::Datagram(_) | Event::StreamData(_)) {
                        payloads += 1;
                    }
                }),
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        d.flush(|_| {});
        assert_eq!(
            end.is_err(),
            name.starts_with("truncated"),
            "{name}: {end:?}"
        );
        assert!(payloads > 0, "{name}");
        assert_eq!(
            d.stats().malformed.total(),
            0,
            "{name}: {:?}",
            d.stats().malformed
        );
    }
}

#[test]
fn reassembly_seed_corpus() {
    let files = seeds("reassembly");
    assert!(files.len() >= 5, "seed corpus missing");
    for f in files {
        fuzz_reassembly(&fs::read(&f).unwrap());
    }
}

#[test]
fn fuzz_corpora_and_artifacts() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut n = 0;
    for sub in ["corpus", "artifacts"] {
        for dir in fs::read_dir(fuzz.join(sub)).into_iter().flatten().flatten() {
            let path = dir.path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !path.is_dir() {
                continue;
            }
            let run: fn(&[u8]) = if name.contains("reassembly") {
                fuzz_reassembly
            } else if name.contains("capture") || name.contains("pcap") {
                fuzz_pcap
            } else {
                continue;
            };
            for f in files_in(&path) {
                run(&fs::read(&f).unwrap());
                n += 1;
            }
        }
    }
    eprintln!("replayed {n} fuzz inputs");
}

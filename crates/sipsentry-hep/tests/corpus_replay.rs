//! Replays stored inputs through `fuzz_hep` / `fuzz_ws`: this crate's seed corpus
//! (`tests/corpus/{hep,ws}/`), and any fuzz corpus or crash artifacts under the workspace's
//! `fuzz/` for the targets `hep_decode` and `ws_decode` (if present), so a crash found by the
//! fuzzer becomes a regression test by adding its input there.

use std::fs;
use std::path::{Path, PathBuf};

use sipsentry_hep::ws::{WsDecoder, WsEvent};
use sipsentry_hep::{decode, fuzz_hep, fuzz_ws, DecompressError, HepError};

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

fn seed(kind: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(kind);
    let files = files_in(&dir);
    assert!(files.len() >= 5, "seed corpus missing in {}", dir.display());
    files
        .into_iter()
        .map(|f| {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            (name, fs::read(&f).unwrap())
        })
        .collect()
}

#[test]
fn hep_seed_corpus() {
    for (name, data) in seed("hep") {
        fuzz_hep(&data);
        let r = decode(&data);
        match name.as_str() {
            "spec-example.bin"
            | "ipv6-compressed.bin"
            | "vendor-and-unknown.bin"
            | "v1.bin"
            | "v2.bin" => assert!(r.is_ok(), "{name}: {r:?}"),
            "bomb.bin" => assert_eq!(
                r,
                Err(HepError::Decompress(DecompressError::TooLarge {
                    cap: 65536
                }))
            ),
            "zero-length-chunk.bin" => {
                assert!(
                    matches!(r, Err(HepError::ChunkLengthTooSmall { len: 0, .. })),
                    "{r:?}"
                )
            }
            "overlong-total.bin" => {
                assert!(
                    matches!(r, Err(HepError::V3TotalLengthOverrun { .. })),
                    "{r:?}"
                )
            }
            _ => {}
        }
    }
}

#[test]
fn ws_seed_corpus() {
    for (name, data) in seed("ws") {
        fuzz_ws(&data);
        let mut d = WsDecoder::new();
        let n = d.push(&data);
        assert_eq!(n, data.len());
        let events: Vec<_> = std::iter::from_fn(|| d.next_event()).collect();
        let messages = events
            .iter()
            .filter(|e| matches!(e, Ok(WsEvent::Message(_))))
            .count();
        match name.as_str() {
            "client-register.bin" | "server-200.bin" => {
                assert_eq!(messages, 1, "{name}: {events:?}");
                assert_eq!(d.subprotocol_is_sip(), Some(true));
            }
            "too-large.bin" => assert!(matches!(events[..], [Err(_)]), "{events:?}"),
            "anomalies.bin" => assert!(
                events
                    .iter()
                    .filter(|e| matches!(e, Ok(WsEvent::Anomaly(_))))
                    .count()
                    >= 5,
                "{events:?}"
            ),
            _ => assert!(messages >= 1, "{name}: {events:?}"),
        }
    }
}

#[test]
fn fuzz_corpora_and_artifacts() {
    let fuzz = workspace().join("fuzz");
    for target in ["hep_decode", "hep_framer"] {
        for dir in [
            fuzz.join("corpus").join(target),
            fuzz.join("artifacts").join(target),
        ] {
            for f in files_in(&dir) {
                fuzz_hep(&fs::read(&f).unwrap());
            }
        }
    }
    for target in ["ws_decode"] {
        for dir in [
            fuzz.join("corpus").join(target),
            fuzz.join("artifacts").join(target),
        ] {
            for f in files_in(&dir) {
                fuzz_ws(&fs::read(&f).unwrap());
            }
        }
    }
}

#[test]
fn pcap_vectors_through_the_fuzz_entry_points() {
    for name in ["hepws_hep.pcap", "heplify_sip_tcp_websocket.pcap"] {
        let path = workspace().join("tests/vectors/pcaps").join(name);
        let data = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // Whole files are garbage to both decoders except where they embed the real thing.
        fuzz_hep(&data);
        fuzz_ws(&data[..data.len().min(8192)]);
    }
}

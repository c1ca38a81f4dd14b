//! Replays the committed fuzz corpora (`fuzz/corpus/sip_*`) through the same entry points the
//! fuzz targets call, so every input the fuzzer ever kept is a regression test on stable Rust.

use std::path::PathBuf;

fn replay(target: &str, f: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        let data = std::fs::read(&p).unwrap();
        let r = std::panic::catch_unwind(|| f(&data));
        assert!(r.is_ok(), "{target}: input {} fails", p.display());
        n += 1;
    }
    assert!(n > 0, "{target}: empty corpus");
}

#[test]
fn sip_parse_corpus() {
    replay("sip_parse", sipsentry_sip::fuzzing::parse_message);
}

#[test]
fn sip_framer_corpus() {
    replay("sip_framer", sipsentry_sip::fuzzing::framer);
}

#[test]
fn sip_roundtrip_corpus() {
    replay("sip_roundtrip", sipsentry_sip::fuzzing::roundtrip);
}

//! Replays the committed libFuzzer corpus of the `digest_parse` target (fuzz/corpus/digest_parse)
//! through the same entry point, so every input the fuzzer kept is a regression test on stable.

#[test]
fn digest_parse_corpus() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/digest_parse");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        let data = std::fs::read(&p).unwrap();
        let r = std::panic::catch_unwind(|| sipsentry_digest::fuzz_parse(&data));
        assert!(r.is_ok(), "input {} fails", p.display());
        n += 1;
    }
    assert!(n > 0);
}

//! Deterministic mini-fuzzing: replay the seed corpus in `tests/data/seeds/`
//! through `fuzz_parse` (which asserts the crate's invariants), together with
//! every prefix and a set of single-byte mutations of each seed. The same
//! directory can seed the cargo-fuzz target.

use std::fs;
use std::path::PathBuf;

use sipsentry_digest::fuzz_parse;

fn seeds() -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/seeds");
    let mut out: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert!(out.len() >= 10, "seed corpus missing in {}", dir.display());
    out
}

#[test]
fn seeds_replay() {
    for (_, data) in seeds() {
        fuzz_parse(&data);
    }
}

#[test]
fn prefixes_and_deletions() {
    for (_, data) in seeds() {
        for i in 0..=data.len() {
            fuzz_parse(&data[..i]);
            fuzz_parse(&data[i..]);
            if i < data.len() {
                let mut d = data.clone();
                d.remove(i);
                fuzz_parse(&d);
            }
        }
    }
}

#[test]
fn byte_substitutions() {
    const SPECIAL: &[u8] = b"\"\\,= \r\n\t\x00\x7f\xff*";
    for (_, data) in seeds() {
        for i in 0..data.len() {
            for &b in SPECIAL {
                let mut d = data.clone();
                d[i] = b;
                fuzz_parse(&d);
            }
        }
    }
}

#[test]
fn edge_inputs() {
    let long = vec![b'a'; sipsentry_digest::MAX_VALUE_LEN + 1];
    let mut many = b"Digest ".to_vec();
    for i in 0..200 {
        many.extend_from_slice(format!("p{i}=\"{i}\",").as_bytes());
    }
    let mut commas = b"Digest ".to_vec();
    commas.extend(std::iter::repeat_n(b'@', 4000).flat_map(|b| [b, b',']));
    for d in [
        &b""[..],
        b" ",
        b"\r\n",
        b"Digest",
        b"Digest ",
        b"Digest =",
        b"Digest a",
        b"Digest a=",
        b"Digest a=\"",
        b"Digest a=\"\\",
        b"\"",
        b"\xff\xfe",
        &long,
        &many,
        &commas,
    ] {
        fuzz_parse(d);
    }
}

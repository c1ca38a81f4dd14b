//! Key material never survives `Debug` or `redact`.

use std::borrow::Cow;

use base64::Engine as _;
use sipsentry_sdp::{contains_key_material, contains_sdes_keys, redact, Session, REDACTED};

const KEY1: &str = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
const KEY2: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLQ";
const KEY3: &str = "w+Kf/Z1q2bq8uKx0kLNwVHhOaBSSSa0m5rLhGx1v";
const KLINE: &str = "Zm9yYmlkZGVuLWstbGluZS1rZXk=";

fn body() -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nk=base64:{KLINE}\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
m=audio 5004 RTP/SAVP 0\r\n\
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY1}|2^20|1:32;inline:{KEY3}|2^20|2:32 FEC_KEY=inline:{KEY3}\r\n\
a=crypto:2 AES_256_CM_HMAC_SHA1_80 INLINE:{KEY2}\r\n\
a=acap:1 crypto:3 AES_CM_128_HMAC_SHA1_32 inline:{KEY1}\r\n\
a=inline:{KEY3}\r\nb=inline:{KEY3}\r\nx=inline:{KEY3}\r\n"
    )
}

/// Every byte string that would give the key away: the base64 text, and the decoded bytes
/// as text, hex and Rust byte-array `Debug` notation.
fn forbidden() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for k in [KEY1, KEY2, KEY3, KLINE] {
        out.push(k.as_bytes().to_vec());
        // Any 12-character window of the base64 text.
        for w in k.as_bytes().windows(12) {
            out.push(w.to_vec());
        }
        let raw = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(k.trim_end_matches('='))
            .unwrap();
        out.push(raw.clone());
        out.push(
            raw.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
                .into_bytes(),
        );
        out.push(
            format!("{:?}", &raw[..6])
                .trim_end_matches(']')
                .as_bytes()
                .to_vec(),
        );
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn debug_output_has_no_key_material() {
    let body = body();
    let s = Session::parse(body.as_bytes()).unwrap();
    assert!(s.has_sdes_keys());
    let dbg = format!("{s:?} {s:#?}");
    for m in s.media() {
        let _ = format!("{m:?}");
    }
    let all = format!(
        "{dbg} {:?} {:?} {:?} {:?} {:?}",
        s.media_sections(),
        s.media_sections()[0].crypto(),
        s.media_sections()[0].crypto()[0].key_params[0].decode_key_salt(),
        s.key(),
        s.media_sections()[0].attributes(),
    );
    for f in forbidden() {
        assert!(
            !contains(all.as_bytes(), &f),
            "leak of {:?}",
            String::from_utf8_lossy(&f)
        );
    }
    assert!(all.contains(REDACTED));
    // The non-secret parts are still there.
    assert!(all.contains("AES_CM_128_HMAC_SHA1_80"));
    assert!(all.contains("PowerOfTwo(20)"));
}

#[test]
fn redact_output_has_no_key_material_and_keeps_the_rest() {
    let body = body();
    let red = redact(body.as_bytes());
    assert!(matches!(red, Cow::Owned(_)));
    for f in forbidden() {
        assert!(
            !contains(&red, &f),
            "leak of {:?}",
            String::from_utf8_lossy(&f)
        );
    }
    let expected = body
        .replace(KEY1, REDACTED)
        .replace(KEY2, REDACTED)
        .replace(KEY3, REDACTED)
        .replace(KLINE, REDACTED);
    assert_eq!(String::from_utf8(red.to_vec()).unwrap(), expected);
    assert!(contains_sdes_keys(body.as_bytes()) && contains_key_material(body.as_bytes()));
    assert!(!contains_sdes_keys(&red) && !contains_key_material(&red));
    // Idempotent, and the redacted body still parses with the same structure.
    assert!(matches!(redact(&red), Cow::Borrowed(_)));
    let s = Session::parse(&red).unwrap();
    assert!(!s.has_sdes_keys());
    let c = &s.media_sections()[0].crypto()[0];
    assert!(c.key_params[0].key_salt.is_redacted());
    assert_eq!(c.key_params[0].mki.unwrap().length, 32);
}

#[test]
fn redact_borrows_when_clean() {
    let body = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=fingerprint:sha-256 AB:CD\r\n";
    match redact(body) {
        Cow::Borrowed(b) => assert_eq!(b.as_ptr(), body.as_ptr()),
        Cow::Owned(_) => panic!("copied a body with nothing to redact"),
    }
    assert!(!contains_sdes_keys(body));
}

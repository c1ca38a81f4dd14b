//! Property tests: builder → parser → verifier round trips, and the parser
//! and redaction never panicking (through `fuzz_parse`, which also checks
//! spans and secrecy invariants).

use proptest::prelude::*;
use sipsentry_digest::{
    build_authorization, fuzz_parse, redacted, verify, verify_with_username, AuthorizationRequest,
    Challenge, Credentials, VerifyError,
};

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

const ALGORITHMS: [&str; 6] = [
    "MD5",
    "MD5-sess",
    "SHA-256",
    "SHA-256-sess",
    "SHA-512-256",
    "SHA-512-256-sess",
];
const QOPS: [Option<&str>; 5] = [
    None,
    Some("auth"),
    Some("auth-int"),
    Some("auth-int, auth"),
    Some("auth-int,x-unknown"),
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn build_parse_verify_roundtrip(
        alg in 0usize..6,
        qop in 0usize..5,
        username in "\\PC{1,16}",
        realm in "\\PC{0,24}",
        nonce in "[A-Za-z0-9+/=\"\\\\]{1,48}",
        opaque in proptest::option::of("[ -~]{0,16}"),
        password in proptest::collection::vec(any::<u8>(), 0..32),
        method in "[A-Z]{1,10}",
        uri in "sip:[a-z0-9@.;=\"\\\\]{1,30}",
        cnonce in "[0-9a-f]{8,16}",
        nc in any::<u32>(),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        userhash in any::<bool>(),
        utf8 in any::<bool>(),
    ) {
        let mut challenge = format!(
            "Digest realm={}, nonce={}, algorithm={}",
            quote(&realm), quote(&nonce), ALGORITHMS[alg]
        );
        if let Some(q) = QOPS[qop] {
            challenge += &format!(", qop=\"{q}\"");
        }
        if let Some(o) = &opaque {
            challenge += &format!(", opaque={}", quote(o));
        }
        if utf8 {
            challenge += ", charset=UTF-8";
        }
        if userhash {
            challenge += ",\r\n userhash=true";
        }
        let ch = Challenge::parse(challenge.as_bytes()).unwrap();
        prop_assert!(ch.problems().is_empty(), "{:?}", ch.problems());
        prop_assert_eq!(&*ch.realm().unwrap().unescaped(), realm.as_bytes());

        let request = AuthorizationRequest {
            username: &username,
            password: &password,
            method: &method,
            uri: &uri,
            body: Some(&body),
            cnonce: &cnonce,
            nc,
        };
        let value = build_authorization(&ch, &request).unwrap();
        let creds = Credentials::parse(value.as_bytes()).unwrap();
        prop_assert!(creds.problems().is_empty(), "{:?} in {}", creds.problems(), value);
        prop_assert_eq!(creds.userhash(), userhash);
        if creds.qop().is_some() {
            prop_assert_eq!(creds.nc(), Some(nc));
        }

        let m = method.as_bytes();
        let right = sipsentry_digest::Secret::Password(&password);
        prop_assert_eq!(verify_with_username(&creds, username.as_bytes(), m, right, &body), Ok(()));
        if !userhash {
            prop_assert_eq!(verify(&creds, m, right, &body), Ok(()));
        }
        let mut wrong_pw = password.clone();
        wrong_pw.push(b'!');
        let wrong = sipsentry_digest::Secret::Password(&wrong_pw);
        prop_assert_eq!(
            verify_with_username(&creds, username.as_bytes(), m, wrong, &body),
            Err(VerifyError::WrongResponse)
        );

        // The response never survives redaction.
        let resp = String::from_utf8(creds.response().unwrap().raw().to_vec()).unwrap();
        let red = redacted(value.as_bytes());
        prop_assert!(!red.contains(&resp));
        let dbg = format!("{:?}", creds);
        prop_assert!(!dbg.contains(&resp));
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        fuzz_parse(&data);
    }

    #[test]
    fn header_like_input_never_panics(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("Digest ".to_string()),
                Just("Basic ".to_string()),
                Just("realm=".to_string()),
                Just("nonce=".to_string()),
                Just("response=".to_string()),
                Just("qop=".to_string()),
                Just("nc=".to_string()),
                Just("username*=".to_string()),
                Just("algorithm=SHA-256-sess".to_string()),
                Just("userhash=true".to_string()),
                Just("\"".to_string()),
                Just("\\".to_string()),
                Just(",".to_string()),
                Just(" ".to_string()),
                Just("\r\n\t".to_string()),
                Just("=".to_string()),
                Just("auth,auth-int".to_string()),
                Just("00000001".to_string()),
                "[ -~]{0,8}",
                "\\PC{0,4}",
            ],
            0..40,
        )
    ) {
        fuzz_parse(parts.concat().as_bytes());
    }
}

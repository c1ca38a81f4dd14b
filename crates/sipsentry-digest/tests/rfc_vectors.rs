//! Published test vectors: RFC 2617 §3.5 and RFC 7616 §3.9, parsed from the
//! RFCs' own header texts (with their line folding) and recomputed.

use sha2::{Digest, Sha512};
use sipsentry_digest::{
    build_authorization, response, userhash, verify, verify_with_username, Algorithm,
    AuthorizationRequest, Challenge, Credentials, Qop, ResponseInput, Secret, VerifyError,
};

// RFC 2617 §3.5, header values exactly as printed (continuation lines
// indented, as a folded header arrives).
const RFC2617_CHALLENGE: &str = "Digest
                 realm=\"testrealm@host.com\",
                 qop=\"auth,auth-int\",
                 nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",
                 opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";

const RFC2617_AUTHORIZATION: &str = "Digest username=\"Mufasa\",
                 realm=\"testrealm@host.com\",
                 nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",
                 uri=\"/dir/index.html\",
                 qop=auth,
                 nc=00000001,
                 cnonce=\"0a4f113b\",
                 response=\"6629fae49393a05397450978507c4ef1\",
                 opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";

fn crlf(s: &str) -> String {
    s.replace('\n', "\r\n")
}

#[test]
fn rfc2617_parse_challenge() {
    for text in [RFC2617_CHALLENGE.to_string(), crlf(RFC2617_CHALLENGE)] {
        let c = Challenge::parse(text.as_bytes()).unwrap();
        assert!(c.problems().is_empty(), "{:?}", c.problems());
        assert!(c.is_digest());
        assert_eq!(c.realm().unwrap().raw(), b"testrealm@host.com");
        assert_eq!(
            c.nonce().unwrap().raw(),
            b"dcd98b7102dd2f0e8b11d0f600bfb0c093"
        );
        assert_eq!(
            c.opaque().unwrap().raw(),
            b"5ccc069c403ebaf9f0171e9517f40e41"
        );
        assert_eq!(
            c.qop_options().collect::<Vec<_>>(),
            [Qop::Auth, Qop::AuthInt]
        );
        assert_eq!(c.algorithm(), Algorithm::Md5);
        assert!(c.algorithm_param().is_none());
        assert!(!c.stale());
    }
}

#[test]
fn rfc2617_parse_and_verify_authorization() {
    for text in [
        RFC2617_AUTHORIZATION.to_string(),
        crlf(RFC2617_AUTHORIZATION),
    ] {
        let c = Credentials::parse(text.as_bytes()).unwrap();
        assert!(c.problems().is_empty(), "{:?}", c.problems());
        assert_eq!(c.username().unwrap().raw(), b"Mufasa");
        assert_eq!(c.realm().unwrap().raw(), b"testrealm@host.com");
        assert_eq!(c.uri().unwrap().raw(), b"/dir/index.html");
        assert_eq!(c.qop(), Some(Qop::Auth));
        assert_eq!(c.nc(), Some(1));
        assert_eq!(c.cnonce().unwrap().raw(), b"0a4f113b");
        assert_eq!(
            c.response().unwrap().raw(),
            b"6629fae49393a05397450978507c4ef1"
        );
        assert_eq!(c.algorithm(), Algorithm::Md5);
        assert_eq!(
            verify(&c, b"GET", Secret::Password(b"Circle Of Life"), b""),
            Ok(())
        );
        assert_eq!(
            verify(&c, b"GET", Secret::Password(b"Circle of Life"), b""),
            Err(VerifyError::WrongResponse)
        );
    }
}

#[test]
fn rfc2617_compute_and_build() {
    let r = response(&ResponseInput {
        algorithm: Algorithm::Md5,
        username: b"Mufasa",
        realm: b"testrealm@host.com",
        secret: Secret::Password(b"Circle Of Life"),
        method: b"GET",
        digest_uri: b"/dir/index.html",
        nonce: b"dcd98b7102dd2f0e8b11d0f600bfb0c093",
        cnonce: b"0a4f113b",
        nc: 1,
        qop: Some(Qop::Auth),
        body: b"",
    })
    .unwrap();
    assert_eq!(r, "6629fae49393a05397450978507c4ef1");

    let ch = Challenge::parse(RFC2617_CHALLENGE.as_bytes()).unwrap();
    let value = build_authorization(
        &ch,
        &AuthorizationRequest {
            username: "Mufasa",
            password: b"Circle Of Life",
            method: "GET",
            uri: "/dir/index.html",
            body: None,
            cnonce: "0a4f113b",
            nc: 1,
        },
    )
    .unwrap();
    assert_eq!(
        value,
        "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", \
         nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", \
         response=\"6629fae49393a05397450978507c4ef1\", algorithm=MD5, cnonce=\"0a4f113b\", \
         qop=auth, nc=00000001, opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""
    );
}

// RFC 7616 §3.9.1 (note: "Circle of Life" here, "Circle Of Life" in 2617).
const RFC7616_CHALLENGE_SHA256: &str = "Digest
    realm=\"http-auth@example.org\",
    qop=\"auth, auth-int\",
    algorithm=SHA-256,
    nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",
    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";

const RFC7616_CHALLENGE_MD5: &str = "Digest
    realm=\"http-auth@example.org\",
    qop=\"auth, auth-int\",
    algorithm=MD5,
    nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",
    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";

const RFC7616_AUTH_MD5: &str = "Digest username=\"Mufasa\",
    realm=\"http-auth@example.org\",
    uri=\"/dir/index.html\",
    algorithm=MD5,
    nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",
    nc=00000001,
    cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\",
    qop=auth,
    response=\"8ca523f5e9506fed4657c9700eebdbec\",
    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";

const RFC7616_AUTH_SHA256: &str = "Digest username=\"Mufasa\",
    realm=\"http-auth@example.org\",
    uri=\"/dir/index.html\",
    algorithm=SHA-256,
    nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",
    nc=00000001,
    cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\",
    qop=auth,
    response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\",
    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";

fn rfc7616_request() -> AuthorizationRequest<'static> {
    AuthorizationRequest {
        username: "Mufasa",
        password: b"Circle of Life",
        method: "GET",
        uri: "/dir/index.html",
        body: None,
        cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        nc: 1,
    }
}

#[test]
fn rfc7616_3_9_1() {
    for (challenge, auth, alg, expected) in [
        (
            RFC7616_CHALLENGE_MD5,
            RFC7616_AUTH_MD5,
            Algorithm::Md5,
            "8ca523f5e9506fed4657c9700eebdbec",
        ),
        (
            RFC7616_CHALLENGE_SHA256,
            RFC7616_AUTH_SHA256,
            Algorithm::Sha256,
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
        ),
    ] {
        let ch = Challenge::parse(challenge.as_bytes()).unwrap();
        assert!(ch.problems().is_empty(), "{:?}", ch.problems());
        assert_eq!(ch.algorithm(), alg);
        assert_eq!(
            ch.qop_options().collect::<Vec<_>>(),
            [Qop::Auth, Qop::AuthInt]
        );

        let c = Credentials::parse(auth.as_bytes()).unwrap();
        assert!(c.problems().is_empty(), "{:?}", c.problems());
        assert_eq!(c.algorithm(), alg);
        assert_eq!(
            verify(&c, b"GET", Secret::Password(b"Circle of Life"), b""),
            Ok(())
        );
        assert_eq!(
            verify(&c, b"GET", Secret::Password(b"Circle Of Life"), b""),
            Err(VerifyError::WrongResponse)
        );

        let value = build_authorization(&ch, &rfc7616_request()).unwrap();
        let built = Credentials::parse(value.as_bytes()).unwrap();
        assert_eq!(built.response().unwrap().raw(), expected.as_bytes());
        assert_eq!(
            built.opaque().unwrap().raw(),
            b"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
        );
    }
}

// RFC 7616 §3.9.2: SHA-512-256, userhash, non-ASCII username.
const RFC7616_CHALLENGE_SHA512: &str = "Digest
    realm=\"api@example.org\",
    qop=\"auth\",
    algorithm=SHA-512-256,
    nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\",
    opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\",
    charset=UTF-8,
    userhash=true";

const RFC7616_AUTH_USERHASH: &str = "Digest
    username=\"488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec\",
    realm=\"api@example.org\",
    uri=\"/doe.json\",
    algorithm=SHA-512-256,
    nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\",
    nc=00000001,
    cnonce=\"NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v\",
    qop=auth,
    response=\"ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd\",
    opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\",
    userhash=true";

const RFC7616_AUTH_USERNAME_STAR: &str = "Digest
    username*=UTF-8''J%C3%A4s%C3%B8n%20Doe,
    realm=\"api@example.org\",
    uri=\"/doe.json\",
    algorithm=SHA-512-256,
    nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\",
    nc=00000001,
    cnonce=\"NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v\",
    qop=auth,
    response=\"ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd\",
    opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\",
    userhash=false";

const JASON: &str = "J\u{e4}s\u{f8}n Doe";
const RFC_USERHASH: &str = "488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec";
const RFC_RESPONSE: &str = "ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd";
// The same inputs with FIPS 180-4 SHA-512/256, computed independently with
// Python's hashlib.new("sha512_256"): userhash = H("Jäsøn Doe:api@example.org"),
// response with HA1 = H("Jäsøn Doe:api@example.org:Secret, or not?").
const FIPS_USERHASH: &str = "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b";
const FIPS_RESPONSE: &str = "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5";

/// SHA-512 cut to 256 bits: *not* SHA-512/256 (which has its own initial
/// values), but what the RFC's example values were evidently computed with.
fn truncated_sha512(parts: &[&[u8]]) -> String {
    let mut d = Sha512::new();
    d.update(parts.join(&b':'));
    d.finalize()[..32]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn rfc7616_3_9_2_parse() {
    let ch = Challenge::parse(RFC7616_CHALLENGE_SHA512.as_bytes()).unwrap();
    assert!(ch.problems().is_empty(), "{:?}", ch.problems());
    assert_eq!(ch.algorithm(), Algorithm::Sha512_256);
    assert!(ch.userhash());
    assert_eq!(ch.charset().unwrap().raw(), b"UTF-8");
    assert_eq!(ch.qop_options().collect::<Vec<_>>(), [Qop::Auth]);

    let c = Credentials::parse(RFC7616_AUTH_USERHASH.as_bytes()).unwrap();
    assert!(c.problems().is_empty(), "{:?}", c.problems());
    assert!(c.userhash());
    assert_eq!(c.username().unwrap().raw(), RFC_USERHASH.as_bytes());

    let c = Credentials::parse(RFC7616_AUTH_USERNAME_STAR.as_bytes()).unwrap();
    assert!(c.problems().is_empty(), "{:?}", c.problems());
    assert!(!c.userhash());
    assert!(c.username().is_none());
    assert_eq!(&*c.username_bytes().unwrap(), JASON.as_bytes());
}

/// The RFC's userhash and response are reproduced exactly by SHA-512
/// truncated to 256 bits, and not by SHA-512/256 as the RFC specifies. This
/// crate implements the specified algorithm (`sha2::Sha512_256`), so it
/// must *not* produce the printed values; the FIPS values are pinned instead.
#[test]
fn rfc7616_3_9_2_values_are_truncated_sha512() {
    let realm = b"api@example.org";
    let nonce = b"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK";
    let cnonce = b"NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v";
    let user = JASON.as_bytes();
    assert_eq!(truncated_sha512(&[user, realm]), RFC_USERHASH);
    let ha1 = truncated_sha512(&[user, realm, b"Secret, or not?"]);
    let ha2 = truncated_sha512(&[b"GET", b"/doe.json"]);
    let resp = truncated_sha512(&[
        ha1.as_bytes(),
        nonce,
        b"00000001",
        cnonce,
        b"auth",
        ha2.as_bytes(),
    ]);
    assert_eq!(resp, RFC_RESPONSE);

    assert_eq!(
        userhash(Algorithm::Sha512_256, user, realm).unwrap(),
        FIPS_USERHASH
    );
    let input = ResponseInput {
        algorithm: Algorithm::Sha512_256,
        username: user,
        realm,
        secret: Secret::Password(b"Secret, or not?"),
        method: b"GET",
        digest_uri: b"/doe.json",
        nonce,
        cnonce,
        nc: 1,
        qop: Some(Qop::Auth),
        body: b"",
    };
    assert_eq!(response(&input).unwrap(), FIPS_RESPONSE);
}

#[test]
fn rfc7616_3_9_2_with_sha512_256() {
    let ch = Challenge::parse(RFC7616_CHALLENGE_SHA512.as_bytes()).unwrap();
    let value = build_authorization(
        &ch,
        &AuthorizationRequest {
            username: JASON,
            password: b"Secret, or not?",
            method: "GET",
            uri: "/doe.json",
            body: None,
            cnonce: "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
            nc: 1,
        },
    )
    .unwrap();
    assert_eq!(
        value,
        format!(
            "Digest username=\"{FIPS_USERHASH}\", realm=\"api@example.org\", \
             nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", uri=\"/doe.json\", \
             response=\"{FIPS_RESPONSE}\", algorithm=SHA-512-256, \
             cnonce=\"NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v\", qop=auth, nc=00000001, \
             opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", userhash=true"
        )
    );
    let c = Credentials::parse(value.as_bytes()).unwrap();
    let pw = Secret::Password(b"Secret, or not?");
    assert_eq!(
        verify_with_username(&c, JASON.as_bytes(), b"GET", pw, b""),
        Ok(())
    );

    // Without userhash the builder uses username* because of charset=UTF-8.
    let no_hash = RFC7616_CHALLENGE_SHA512.replace("userhash=true", "userhash=false");
    let ch = Challenge::parse(no_hash.as_bytes()).unwrap();
    let value = build_authorization(
        &ch,
        &AuthorizationRequest {
            username: JASON,
            password: b"Secret, or not?",
            method: "GET",
            uri: "/doe.json",
            body: None,
            cnonce: "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
            nc: 1,
        },
    )
    .unwrap();
    assert!(
        value.starts_with("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, "),
        "{value}"
    );
    assert!(value.contains(&format!("response=\"{FIPS_RESPONSE}\"")));
    let c = Credentials::parse(value.as_bytes()).unwrap();
    assert_eq!(verify(&c, b"GET", pw, b""), Ok(()));

    // The RFC's printed Authorization (truncated-SHA-512 response) is
    // rejected by a correct SHA-512/256 verifier.
    let c = Credentials::parse(RFC7616_AUTH_USERNAME_STAR.as_bytes()).unwrap();
    assert_eq!(verify(&c, b"GET", pw, b""), Err(VerifyError::WrongResponse));
}

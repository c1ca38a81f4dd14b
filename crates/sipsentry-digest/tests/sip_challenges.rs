//! SIP-shaped values as PBXs, registrars and scanners send them.

use sipsentry_digest::{
    build_authorization, redacted, verify, Algorithm, AuthorizationRequest, Challenge, Credentials,
    ProblemKind, Qop, Secret, VerifyError,
};

fn request(uri: &str) -> AuthorizationRequest<'_> {
    AuthorizationRequest {
        username: "1001",
        password: b"1001",
        method: "REGISTER",
        uri,
        body: None,
        cnonce: "6b8b4567",
        nc: 1,
    }
}

#[test]
fn threecx_md5_without_qop() {
    let v = br#"Digest realm="3CXPhoneSystem", nonce="414d535c1b1f8a8d1c8ddbd8e8b0b39b4e1c6e21", algorithm=MD5"#;
    let c = Challenge::parse(v).unwrap();
    assert!(c.problems().is_empty(), "{:?}", c.problems());
    assert_eq!(c.realm().unwrap().raw(), b"3CXPhoneSystem");
    assert_eq!(c.algorithm(), Algorithm::Md5);
    assert!(c.qop().is_none());
    assert_eq!(c.qop_options().count(), 0);

    // RFC 2069 style answer: no qop, no nc, no cnonce.
    let value = build_authorization(&c, &request("sip:10.0.0.5")).unwrap();
    assert!(
        !value.contains("qop=") && !value.contains("nc=") && !value.contains("cnonce="),
        "{value}"
    );
    let creds = Credentials::parse(value.as_bytes()).unwrap();
    assert!(creds.problems().is_empty());
    assert_eq!(
        verify(&creds, b"REGISTER", Secret::Password(b"1001"), b""),
        Ok(())
    );
    assert_eq!(
        verify(&creds, b"REGISTER", Secret::Password(b"1002"), b""),
        Err(VerifyError::WrongResponse)
    );
}

/// A client that answers a qop-less challenge as if `qop=auth` had been
/// offered (svcrack's mistake) computes another response; a verifier
/// reading the header it actually sent still checks the math it claims.
#[test]
fn qop_less_challenge_answered_with_qop_differs() {
    let c = Challenge::parse(br#"Digest realm="3CXPhoneSystem", nonce="414d535c", algorithm=MD5"#)
        .unwrap();
    let right = build_authorization(&c, &request("sip:10.0.0.5")).unwrap();
    let c2 = Challenge::parse(
        br#"Digest realm="3CXPhoneSystem", nonce="414d535c", algorithm=MD5, qop="auth""#,
    )
    .unwrap();
    let wrong = build_authorization(&c2, &request("sip:10.0.0.5")).unwrap();
    let resp = |v: &str| {
        Credentials::parse(v.as_bytes())
            .unwrap()
            .response()
            .unwrap()
            .raw()
            .to_vec()
    };
    assert_ne!(resp(&right), resp(&wrong));
}

#[test]
fn kamailio_qop_list() {
    let v = br#"Digest realm="127.0.0.1", nonce="Y2VjZDMxYjItZDQ1Mi00ZGQ5LWJmMGYtM2Q4Mjk2ZGM1YzY3", qop="auth""#;
    let c = Challenge::parse(v).unwrap();
    assert!(c.problems().is_empty(), "{:?}", c.problems());
    assert_eq!(c.qop_options().collect::<Vec<_>>(), [Qop::Auth]);
    let value = build_authorization(&c, &request("sip:127.0.0.1")).unwrap();
    assert!(value.contains(", qop=auth, nc=00000001"), "{value}");

    let v = br#"Digest realm="127.0.0.1", nonce="Y2Vj", qop="auth,auth-int", algorithm=SHA-256"#;
    let c = Challenge::parse(v).unwrap();
    assert_eq!(
        c.qop_options().collect::<Vec<_>>(),
        [Qop::Auth, Qop::AuthInt]
    );
    assert_eq!(c.algorithm(), Algorithm::Sha256);

    // Kamailio stores HA1 (`ha1` column); verification from it.
    let value = build_authorization(&c, &request("sip:127.0.0.1")).unwrap();
    let creds = Credentials::parse(value.as_bytes()).unwrap();
    let ha1 = sipsentry_digest::ha1(Algorithm::Sha256, b"1001", b"127.0.0.1", b"1001").unwrap();
    assert_eq!(
        verify(&creds, b"REGISTER", Secret::Ha1(ha1.as_bytes()), b""),
        Ok(())
    );
    let md5_ha1 = sipsentry_digest::ha1(Algorithm::Md5, b"1001", b"127.0.0.1", b"1001").unwrap();
    assert_eq!(
        verify(&creds, b"REGISTER", Secret::Ha1(md5_ha1.as_bytes()), b""),
        Err(VerifyError::AlgorithmMismatch {
            expected: 64,
            actual: 32
        })
    );
}

#[test]
fn auth_int_only_when_it_is_the_only_option() {
    let c = Challenge::parse(br#"Digest realm="r", nonce="n", qop="auth-int""#).unwrap();
    let body = b"v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\n";
    let mut req = request("sip:bob@r");
    req.method = "INVITE";
    req.body = Some(body);
    let value = build_authorization(&c, &req).unwrap();
    assert!(value.contains("qop=auth-int"), "{value}");
    let creds = Credentials::parse(value.as_bytes()).unwrap();
    assert_eq!(
        verify(&creds, b"INVITE", Secret::Password(b"1001"), body),
        Ok(())
    );
    assert_eq!(
        verify(&creds, b"INVITE", Secret::Password(b"1001"), b"v=1"),
        Err(VerifyError::WrongResponse)
    );
}

#[test]
fn folded_whitespace() {
    let v = b"Digest realm=\"biloxi.com\",\r\n nonce=\"ea9c8e88df84f1cec4341ae6cbe5a359\",\r\n\topaque=\"\",\r\n  stale=FALSE,\r\n algorithm=MD5,\r\n qop=\"auth, auth-int\"\r\n";
    let c = Challenge::parse(v).unwrap();
    assert!(c.problems().is_empty(), "{:?}", c.problems());
    assert_eq!(c.realm().unwrap().raw(), b"biloxi.com");
    assert_eq!(
        c.nonce().unwrap().raw(),
        b"ea9c8e88df84f1cec4341ae6cbe5a359"
    );
    assert_eq!(c.opaque().unwrap().raw(), b"");
    assert!(!c.stale());
    assert_eq!(
        c.qop_options().collect::<Vec<_>>(),
        [Qop::Auth, Qop::AuthInt]
    );
    assert_eq!(c.params().len(), 6);
    // Folding may also sit between scheme and first parameter, and around '='.
    let v = b"Digest\r\n\trealm\r\n =\r\n \"x\" ,nonce=\"y\"";
    let c = Challenge::parse(v).unwrap();
    assert!(c.problems().is_empty(), "{:?}", c.problems());
    assert_eq!(c.realm().unwrap().raw(), b"x");
}

/// RFC 4475 §3.1.2.15 (regaut01): an unknown scheme must not be an error.
#[test]
fn rfc4475_regaut01_unknown_scheme() {
    let c = Credentials::parse(b"NoOneKnowsThisScheme opaque-data=here").unwrap();
    assert!(!c.is_digest());
    assert_eq!(c.scheme(), b"NoOneKnowsThisScheme");
    assert_eq!(c.rest(), b"opaque-data=here");
    assert!(c.problems().is_empty());
    assert_eq!(c.param(b"opaque-data").unwrap().raw(), b"here");
    assert_eq!(
        verify(&c, b"REGISTER", Secret::Password(b"x"), b""),
        Err(VerifyError::NotDigest)
    );
    let ch = Challenge::parse(b"NoOneKnowsThisScheme opaque-data=here").unwrap();
    assert!(!ch.is_digest());
}

#[test]
fn basic_token68() {
    let c = Credentials::parse(b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==").unwrap();
    assert_eq!(c.scheme(), b"Basic");
    assert_eq!(c.rest(), b"QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    assert!(c.params().is_empty());
    assert!(c.problems().is_empty());
    assert_eq!(
        redacted(b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        "Basic <redacted>"
    );
}

#[test]
fn scanner_style_anomalies_are_data() {
    // Unquoted values, duplicate nonce, bad nc, missing cnonce, junk.
    let v = b"Digest username=100, realm=asterisk, nonce=\"a\", nonce=\"b\", uri=sip:x, response=abc, qop=auth, nc=1, @@@";
    let c = Credentials::parse(v).unwrap();
    let kinds: Vec<_> = c.problems().iter().map(|p| p.kind).collect();
    for k in [
        ProblemKind::InvalidParamName,
        ProblemKind::DuplicateParam,
        ProblemKind::MissingParam("cnonce"),
        ProblemKind::BadNonceCount,
        ProblemKind::ExpectedQuotedString,
        ProblemKind::InvalidTokenChar,
    ] {
        assert!(kinds.contains(&k), "{k:?} not in {kinds:?}");
    }
    for p in c.problems() {
        assert!(p.span.end <= v.len());
    }
    assert_eq!(c.nonce().unwrap().raw(), b"a");
    assert_eq!(c.nc(), None);
    assert_eq!(c.nc_raw().unwrap().raw(), b"1");
}

#[test]
fn unbalanced_quote_is_a_problem_not_an_error() {
    let kinds = |c: &Challenge<'_>| c.problems().iter().map(|p| p.kind).collect::<Vec<_>>();

    let c = Challenge::parse(b"Digest realm=\"asterisk, nonce=x").unwrap();
    assert_eq!(
        kinds(&c),
        [
            ProblemKind::UnterminatedQuotedString,
            ProblemKind::MissingParam("nonce")
        ]
    );
    assert_eq!(c.realm().unwrap().raw(), b"asterisk, nonce=x");

    // The quote closes at `nonce="`; the stray `x"` is junk with an
    // unbalanced quote of its own.
    let c = Challenge::parse(b"Digest realm=\"asterisk, nonce=\"x\"").unwrap();
    assert_eq!(
        kinds(&c),
        [
            ProblemKind::UnterminatedQuotedString,
            ProblemKind::ExpectedComma,
            ProblemKind::MissingParam("nonce")
        ]
    );
    assert_eq!(c.realm().unwrap().raw(), b"asterisk, nonce=");

    let c = Challenge::parse(b"Digest nonce=\"x\", realm=\"asterisk").unwrap();
    assert_eq!(kinds(&c), [ProblemKind::UnterminatedQuotedString]);
    assert_eq!(c.realm().unwrap().raw(), b"asterisk");
    assert_eq!(c.problems()[0].span, 24..33);
}

#[test]
fn stale_and_case_insensitive_names() {
    let c = Challenge::parse(
        br#"DIGEST REALM="r", NONCE="n", STALE=true, ALGORITHM=md5-SESS, QOP="AUTH""#,
    )
    .unwrap();
    assert!(c.is_digest());
    assert!(c.stale());
    assert_eq!(c.algorithm(), Algorithm::Md5Sess);
    assert_eq!(c.qop_options().collect::<Vec<_>>(), [Qop::Auth]);
    assert_eq!(c.realm().unwrap().raw(), b"r");
}

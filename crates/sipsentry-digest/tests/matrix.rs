//! Every algorithm × sess × qop (none, auth, auth-int) against values
//! computed independently by `tests/data/gen_digest_matrix.py` (Python
//! hashlib), through every path: `response`, `ha1`/`userhash`, HA1 secrets,
//! parse + `verify`, and `build_authorization`.

use sipsentry_digest::{
    build_authorization, ha1, response, userhash, verify, verify_with_username, Algorithm,
    AuthorizationRequest, Challenge, Credentials, Qop, ResponseInput, Secret, VerifyError,
};

const MATRIX: &str = include_str!("data/digest_matrix.tsv");

struct Row {
    case: String,
    algorithm: String,
    qop: String,
    username: String,
    realm: String,
    password: String,
    method: String,
    uri: String,
    nonce: String,
    cnonce: String,
    nc: String,
    body: Vec<u8>,
    ha1: String,
    userhash: String,
    response: String,
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn rows() -> Vec<Row> {
    MATRIX
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 15, "bad row: {l}");
            Row {
                case: f[0].into(),
                algorithm: f[1].into(),
                qop: f[2].into(),
                username: f[3].into(),
                realm: f[4].into(),
                password: f[5].into(),
                method: f[6].into(),
                uri: f[7].into(),
                nonce: f[8].into(),
                cnonce: f[9].into(),
                nc: f[10].into(),
                body: unhex(f[11]),
                ha1: f[12].into(),
                userhash: f[13].into(),
                response: f[14].into(),
            }
        })
        .collect()
}

impl Row {
    fn alg(&self) -> Algorithm<'_> {
        let a = Algorithm::from_bytes(self.algorithm.as_bytes());
        assert!(a.is_supported());
        a
    }
    fn qop(&self) -> Option<Qop<'_>> {
        match self.qop.as_str() {
            "none" => None,
            q => Some(Qop::from_bytes(q.as_bytes())),
        }
    }
    fn nc(&self) -> u32 {
        u32::from_str_radix(&self.nc, 16).unwrap()
    }
    fn input<'s>(&'s self, secret: Secret<'s>) -> ResponseInput<'s> {
        ResponseInput {
            algorithm: self.alg(),
            username: self.username.as_bytes(),
            realm: self.realm.as_bytes(),
            secret,
            method: self.method.as_bytes(),
            digest_uri: self.uri.as_bytes(),
            nonce: self.nonce.as_bytes(),
            cnonce: self.cnonce.as_bytes(),
            nc: self.nc(),
            qop: self.qop(),
            body: &self.body,
        }
    }
    fn label(&self) -> String {
        format!("{} {} {}", self.case, self.algorithm, self.qop)
    }
    /// An Authorization value as a client would send it.
    fn credentials_header(&self, response: &str) -> String {
        let mut s = format!(
            r#"Digest username="{}", realm="{}", nonce="{}", uri="{}", response="{}", algorithm={}"#,
            self.username, self.realm, self.nonce, self.uri, response, self.algorithm
        );
        if self.qop != "none" {
            s += &format!(
                r#", qop={}, nc={}, cnonce="{}""#,
                self.qop, self.nc, self.cnonce
            );
        } else if self.algorithm.ends_with("-sess") {
            s += &format!(r#", cnonce="{}""#, self.cnonce);
        }
        s
    }
}

#[test]
fn matrix_is_complete() {
    let rows = rows();
    assert_eq!(rows.len(), 3 * 6 * 3);
    for alg in [
        "MD5",
        "MD5-sess",
        "SHA-256",
        "SHA-256-sess",
        "SHA-512-256",
        "SHA-512-256-sess",
    ] {
        for qop in ["none", "auth", "auth-int"] {
            assert_eq!(
                rows.iter()
                    .filter(|r| r.algorithm == alg && r.qop == qop)
                    .count(),
                3,
                "{alg} {qop}"
            );
        }
    }
}

#[test]
fn response_from_password() {
    for r in rows() {
        let got = response(&r.input(Secret::Password(r.password.as_bytes()))).unwrap();
        assert_eq!(got, r.response, "{}", r.label());
    }
}

#[test]
fn response_from_stored_ha1() {
    for r in rows() {
        let stored = ha1(
            r.alg(),
            r.username.as_bytes(),
            r.realm.as_bytes(),
            r.password.as_bytes(),
        )
        .unwrap();
        assert_eq!(stored, r.ha1, "{}", r.label());
        let got = response(&r.input(Secret::Ha1(r.ha1.as_bytes()))).unwrap();
        assert_eq!(got, r.response, "{}", r.label());
        let upper = r.ha1.to_ascii_uppercase();
        let got = response(&r.input(Secret::Ha1(upper.as_bytes()))).unwrap();
        assert_eq!(got, r.response, "{} (upper-case HA1)", r.label());
    }
}

#[test]
fn userhash_values() {
    for r in rows() {
        let got = userhash(r.alg(), r.username.as_bytes(), r.realm.as_bytes()).unwrap();
        assert_eq!(got, r.userhash, "{}", r.label());
    }
}

#[test]
fn parse_and_verify() {
    for r in rows() {
        let header = r.credentials_header(&r.response);
        let c = Credentials::parse(header.as_bytes()).unwrap();
        assert!(c.problems().is_empty(), "{}: {:?}", r.label(), c.problems());
        let method = r.method.as_bytes();
        let ok = |s: Secret<'_>| verify(&c, method, s, &r.body);
        assert_eq!(
            ok(Secret::Password(r.password.as_bytes())),
            Ok(()),
            "{}",
            r.label()
        );
        assert_eq!(ok(Secret::Ha1(r.ha1.as_bytes())), Ok(()), "{}", r.label());
        assert_eq!(
            ok(Secret::Password(b"not the password")),
            Err(VerifyError::WrongResponse),
            "{}",
            r.label()
        );
        // The body is covered by auth-int only.
        let other_body = verify(
            &c,
            method,
            Secret::Password(r.password.as_bytes()),
            b"tampered",
        );
        if r.qop == "auth-int" {
            assert_eq!(other_body, Err(VerifyError::WrongResponse), "{}", r.label());
        } else {
            assert_eq!(other_body, Ok(()), "{}", r.label());
        }
        // A stored HA1 of the wrong hash family is an algorithm mismatch.
        let wrong_len = if r.ha1.len() == 32 {
            [b'0'; 64].to_vec()
        } else {
            [b'0'; 32].to_vec()
        };
        assert!(matches!(
            verify(&c, method, Secret::Ha1(&wrong_len), &r.body),
            Err(VerifyError::AlgorithmMismatch { .. })
        ));
    }
}

#[test]
fn userhash_credentials_verify() {
    for r in rows() {
        let header = r.credentials_header(&r.response).replacen(
            &format!(r#"username="{}""#, r.username),
            &format!(r#"username="{}""#, r.userhash),
            1,
        ) + ", userhash=true";
        let c = Credentials::parse(header.as_bytes()).unwrap();
        assert!(c.userhash());
        let pw = Secret::Password(r.password.as_bytes());
        let m = r.method.as_bytes();
        assert_eq!(
            verify(&c, m, pw, &r.body),
            Err(VerifyError::UserhashNeedsUsername)
        );
        assert_eq!(
            verify(&c, m, Secret::Ha1(r.ha1.as_bytes()), &r.body),
            Ok(()),
            "{}",
            r.label()
        );
        assert_eq!(
            verify_with_username(&c, r.username.as_bytes(), m, pw, &r.body),
            Ok(()),
            "{}",
            r.label()
        );
        assert_eq!(
            verify_with_username(&c, b"mallory", m, pw, &r.body),
            Err(VerifyError::UsernameMismatch)
        );
    }
}

#[test]
fn builder_matches_reference() {
    for r in rows() {
        let qop = match r.qop.as_str() {
            "none" => String::new(),
            q => format!(r#", qop="{q}""#),
        };
        let challenge = format!(
            r#"Digest realm="{}", nonce="{}", algorithm={}{qop}, opaque="xyz""#,
            r.realm, r.nonce, r.algorithm
        );
        let ch = Challenge::parse(challenge.as_bytes()).unwrap();
        let value = build_authorization(
            &ch,
            &AuthorizationRequest {
                username: &r.username,
                password: r.password.as_bytes(),
                method: &r.method,
                uri: &r.uri,
                body: Some(&r.body),
                cnonce: &r.cnonce,
                nc: r.nc(),
            },
        )
        .unwrap();
        let c = Credentials::parse(value.as_bytes()).unwrap();
        assert!(c.problems().is_empty(), "{}: {:?}", r.label(), c.problems());
        assert_eq!(
            c.response().unwrap().raw(),
            r.response.as_bytes(),
            "{}",
            r.label()
        );
        assert_eq!(c.algorithm(), r.alg());
        assert_eq!(c.qop(), r.qop());
        assert_eq!(c.opaque().unwrap().raw(), b"xyz");
        assert_eq!(
            c.cnonce().is_some(),
            r.qop != "none" || r.algorithm.ends_with("-sess")
        );
    }
}

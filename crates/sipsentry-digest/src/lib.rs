//! HTTP/SIP Digest authentication: parsing, computation, verification and
//! answering challenges (RFC 2617, RFC 7616, RFC 3261 §22, RFC 8760).
//!
//! The crate is sans-IO: no sockets, no clock and no randomness source. A
//! client passes its own `cnonce`; a server keeps its own nonce state. That
//! keeps every function deterministic and testable, and lets the same code
//! serve a scanner, a honeypot and a registrar.
//!
//! Parsing is zero-copy over the raw header *value* (what follows
//! `WWW-Authenticate:` and friends) and deliberately lenient: traffic that a
//! security tool sees is often malformed on purpose, and how it is malformed
//! is information. Recoverable anomalies are therefore returned as
//! [`Problem`]s next to the parsed data; only a value that cannot be
//! tokenised at all yields a [`ParseError`]. Hard caps
//! ([`MAX_VALUE_LEN`], [`MAX_PARAMS`], [`MAX_PROBLEMS`]) bound the work a
//! hostile peer can cause, and no input can make the parser panic.
//!
//! Secrets (passwords, HA1, `response`) never appear in `Debug` output; use
//! [`redacted`] to log a header value.
//!
//! ```
//! use sipsentry_digest::{build_authorization, verify, AuthorizationRequest, Challenge, Credentials, Secret};
//!
//! let challenge = Challenge::parse(br#"Digest realm="asterisk", nonce="5f3b2c1a", qop="auth""#)?;
//! let value = build_authorization(&challenge, &AuthorizationRequest {
//!     username: "1001",
//!     password: b"1234",
//!     method: "REGISTER",
//!     uri: "sip:pbx.example.com",
//!     body: None,
//!     cnonce: "a1b2c3d4",
//!     nc: 1,
//! })?;
//! let credentials = Credentials::parse(value.as_bytes())?;
//! assert!(verify(&credentials, b"REGISTER", Secret::Password(b"1234"), b"").is_ok());
//! assert!(verify(&credentials, b"REGISTER", Secret::Password(b"0000"), b"").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    warn(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod algorithm;
mod build;
mod challenge;
mod compute;
mod credentials;
mod error;
mod param;
mod problem;
mod redact;
mod tokenize;
mod verify;

pub use algorithm::{Algorithm, Qop, QopOptions};
pub use build::{build_authorization, choose_qop, AuthorizationRequest};
pub use challenge::Challenge;
pub use compute::{format_nc, ha1, response, userhash, ResponseInput, Secret};
pub use credentials::Credentials;
pub use error::{BuildError, ComputeError, ParseError, VerifyError};
pub use param::{Param, ParamValue};
pub use problem::{Problem, ProblemKind};
pub use redact::redacted;
pub use verify::{verify, verify_with_username};

/// Longest header value accepted (8 KiB). Real Digest values are a few
/// hundred bytes; anything near this is an attack or a bug.
pub const MAX_VALUE_LEN: usize = 8 * 1024;

/// Most parameters accepted in a Digest value. A legitimate value has about
/// a dozen.
pub const MAX_PARAMS: usize = 64;

/// Most problems recorded per value; the last slot is then
/// [`ProblemKind::TooManyProblems`].
pub const MAX_PROBLEMS: usize = 64;

/// Fuzzing entry point: parse `data` both ways, exercise every accessor,
/// redaction, verification and the builder, and assert the invariants
/// (spans inside the input, values being the bytes their spans point at,
/// secrets absent from `Debug`, built answers verifying).
///
/// Not part of the stable API.
#[doc(hidden)]
pub fn fuzz_parse(data: &[u8]) {
    fn check_value(data: &[u8], v: Option<ParamValue<'_>>) {
        if let Some(v) = v {
            assert_eq!(data.get(v.span()), Some(v.raw()), "value span mismatch");
            let u = v.unescaped();
            assert!(u.len() <= v.raw().len());
            let _ = v.to_str();
            let _ = format!("{v:?}");
        }
    }
    fn check_common(data: &[u8], params: &[Param<'_>], problems: &[Problem], rest: &[u8]) {
        assert!(params.len() <= MAX_PARAMS);
        assert!(problems.len() <= MAX_PROBLEMS);
        for p in params {
            let s = p.span();
            assert!(
                s.start <= s.end && s.end <= data.len(),
                "param span out of input"
            );
            check_value(data, Some(p.value()));
            assert!(p.value().span().end <= s.end);
        }
        for p in problems {
            assert!(
                p.span.start <= p.span.end && p.span.end <= data.len(),
                "problem span out of input"
            );
            let _ = p.to_string();
        }
        assert!(rest.len() <= data.len());
    }

    let red = redacted(data);
    assert!(
        !red.contains('\r') && !red.contains('\n'),
        "redaction left a line break"
    );

    if let Ok(c) = Challenge::parse(data) {
        check_common(data, c.params(), c.problems(), c.rest());
        for v in [
            c.realm(),
            c.domain(),
            c.nonce(),
            c.opaque(),
            c.qop(),
            c.charset(),
        ] {
            check_value(data, v);
        }
        let _ = (
            c.algorithm(),
            c.stale(),
            c.userhash(),
            c.qop_options().count(),
        );
        let _ = format!("{c:?}");
        let request = AuthorizationRequest {
            username: "fuzz",
            password: b"fuzz-password",
            method: "REGISTER",
            uri: "sip:fuzz@example.invalid",
            body: Some(b"v=0"),
            cnonce: "0123abcd",
            nc: 1,
        };
        if let Ok(answer) = build_authorization(&c, &request) {
            let creds = Credentials::parse(answer.as_bytes());
            assert!(creds.is_ok(), "built answer does not parse: {answer}");
            if let Ok(creds) = creds {
                assert!(
                    creds.problems().is_empty(),
                    "built answer has problems: {answer}"
                );
                let user: &[u8] = b"fuzz";
                let body: &[u8] = b"v=0";
                let ok = verify_with_username(
                    &creds,
                    user,
                    b"REGISTER",
                    Secret::Password(b"fuzz-password"),
                    body,
                );
                assert_eq!(ok, Ok(()), "built answer does not verify: {answer}");
                let bad = verify_with_username(
                    &creds,
                    user,
                    b"REGISTER",
                    Secret::Password(b"wrong"),
                    body,
                );
                assert_eq!(bad, Err(VerifyError::WrongResponse));
            }
        }
    }

    if let Ok(c) = Credentials::parse(data) {
        check_common(data, c.params(), c.problems(), c.rest());
        for v in [
            c.username(),
            c.username_star(),
            c.realm(),
            c.nonce(),
            c.uri(),
            c.response(),
            c.algorithm_param(),
            c.cnonce(),
            c.opaque(),
            c.nc_raw(),
        ] {
            check_value(data, v);
        }
        let _ = (
            c.algorithm(),
            c.qop(),
            c.nc(),
            c.userhash(),
            c.username_bytes(),
        );
        let dbg = format!("{c:?}");
        if let Some(r) = c.response() {
            assert!(red.contains("<redacted>"), "response not redacted");
            if r.raw().len() >= 8
                && !r
                    .raw()
                    .iter()
                    .any(|b| b.is_ascii_control() || !b.is_ascii())
            {
                let shown = String::from_utf8_lossy(r.raw());
                // Other fields may legitimately contain the same text, so
                // only check when it is unique in the input.
                if data
                    .windows(r.raw().len())
                    .filter(|w| *w == r.raw())
                    .count()
                    == 1
                {
                    assert!(!dbg.contains(&*shown), "response leaked into Debug");
                }
            }
        }
        for secret in [
            Secret::Password(b"dummy"),
            Secret::Ha1(b"00000000000000000000000000000000"),
        ] {
            let _ = verify(&c, b"REGISTER", secret, data);
            let _ = verify_with_username(&c, b"dummy", b"INVITE", secret, b"");
        }
    }
}

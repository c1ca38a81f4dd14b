//! Error types.

use thiserror::Error;

/// Why a header value could not be tokenised at all.
///
/// Only structural failures end up here; everything the parser can recover
/// from is reported as a [`Problem`](crate::Problem) on the parsed value
/// instead, because malformed traffic is exactly what a security tool wants
/// to look at.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The value is longer than [`MAX_VALUE_LEN`](crate::MAX_VALUE_LEN).
    #[error("header value is {len} bytes, over the {max}-byte limit")]
    TooLong {
        /// Length of the rejected value.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The value is empty or whitespace only.
    #[error("header value is empty")]
    Empty,
    /// The value does not start with an auth-scheme token.
    #[error("expected an auth-scheme token at byte {offset}")]
    InvalidScheme {
        /// Offset of the first byte that is not a token character.
        offset: usize,
    },
    /// A Digest value has more than [`MAX_PARAMS`](crate::MAX_PARAMS)
    /// parameters.
    #[error("more than {max} parameters")]
    TooManyParams {
        /// The limit.
        max: usize,
    },
}

/// Why a digest could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ComputeError {
    /// The algorithm is [`Algorithm::Other`](crate::Algorithm::Other).
    #[error("unsupported digest algorithm")]
    UnsupportedAlgorithm,
    /// The qop is [`Qop::Other`](crate::Qop::Other).
    #[error("unsupported qop")]
    UnsupportedQop,
    /// A precomputed HA1 does not have the length of the algorithm's output,
    /// typically an MD5 HA1 used with a SHA-256 challenge.
    #[error("HA1 has {actual} hex digits, the algorithm needs {expected}")]
    Ha1Length {
        /// Hex digits the algorithm produces.
        expected: usize,
        /// Hex digits supplied.
        actual: usize,
    },
    /// A precomputed HA1 contains non-hexadecimal characters.
    #[error("HA1 is not hexadecimal")]
    Ha1NotHex,
}

/// Why [`verify`](crate::verify) rejected credentials.
///
/// Every variant except [`WrongResponse`](VerifyError::WrongResponse) is
/// decided from public data only (what the client sent, the algorithm), so
/// distinguishing them leaks nothing about the secret.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The credentials use another auth-scheme than Digest.
    #[error("credentials are not Digest")]
    NotDigest,
    /// A parameter needed for the computation is absent.
    #[error("missing parameter `{0}`")]
    MissingField(&'static str),
    /// The client named an algorithm this crate does not implement.
    #[error("unsupported digest algorithm")]
    UnsupportedAlgorithm,
    /// The client named a qop this crate does not implement.
    #[error("unsupported qop")]
    UnsupportedQop,
    /// The stored HA1 belongs to another hash than the one the client used
    /// (e.g. an MD5 `ha1` column checked against SHA-256 credentials).
    #[error("stored HA1 has {actual} hex digits, credentials' algorithm needs {expected}")]
    AlgorithmMismatch {
        /// Hex digits the credentials' algorithm produces.
        expected: usize,
        /// Hex digits of the stored HA1.
        actual: usize,
    },
    /// The stored HA1 is not hexadecimal.
    #[error("stored HA1 is not hexadecimal")]
    InvalidHa1,
    /// `nc` is not 8 hexadecimal digits.
    #[error("nc is not 8 hexadecimal digits")]
    InvalidNonceCount,
    /// `userhash=true` with a password secret: the plain username is needed
    /// to compute HA1, use [`verify_with_username`](crate::verify_with_username).
    #[error("userhash credentials need the plain username to verify a password")]
    UserhashNeedsUsername,
    /// The username in the credentials is not the one supplied by the caller.
    #[error("username does not match")]
    UsernameMismatch,
    /// The response does not match: wrong password (or tampered parameters).
    #[error("wrong response")]
    WrongResponse,
}

/// Why [`build_authorization`](crate::build_authorization) could not produce
/// a header value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The challenge uses another auth-scheme than Digest.
    #[error("challenge is not Digest")]
    NotDigest,
    /// The challenge lacks a parameter needed to answer it.
    #[error("challenge has no `{0}`")]
    MissingField(&'static str),
    /// The challenge names an algorithm this crate does not implement.
    #[error("unsupported digest algorithm")]
    UnsupportedAlgorithm,
    /// The challenge offers qop values, none of which is `auth` or `auth-int`.
    #[error("no supported qop offered")]
    UnsupportedQop,
    /// A value that has to be echoed is not UTF-8.
    #[error("`{0}` is not UTF-8")]
    NonUtf8(&'static str),
    /// A value contains a byte that cannot be put in a header (a control
    /// character, which could smuggle a new header line), or the method is
    /// not a token.
    #[error("`{0}` contains a character that cannot be sent")]
    InvalidCharacter(&'static str),
}

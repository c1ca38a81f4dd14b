//! Anomalies found while parsing, reported as data rather than errors.

use std::fmt;
use std::ops::Range;

use crate::MAX_PROBLEMS;

/// One anomaly in a parsed header value.
///
/// Attack traffic (scanners, fuzzers, broken PBXs) is malformed on purpose,
/// and the way it is malformed is often the most useful fingerprint. So the
/// parser recovers where it can and records what it had to forgive instead of
/// rejecting the whole value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What is wrong.
    pub kind: ProblemKind,
    /// Byte range in the parsed header value that the problem refers to. For
    /// a missing parameter it is the whole value.
    pub span: Range<usize>,
}

/// The kind of a [`Problem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The auth-scheme is not followed by whitespace (`Digest"x"`).
    MissingSpaceAfterScheme,
    /// Something that is not a token stands where a parameter name belongs.
    InvalidParamName,
    /// A parameter name is not followed by `=`.
    MissingEquals,
    /// `name=` with nothing after it.
    EmptyValue,
    /// A quoted-string has no closing quote; its value runs to the end.
    UnterminatedQuotedString,
    /// An unquoted value contains bytes outside the token alphabet.
    InvalidTokenChar,
    /// A quoted-string contains a control character.
    ControlCharacter,
    /// Bytes after a parameter value that are neither whitespace nor a comma;
    /// they were skipped up to the next comma.
    ExpectedComma,
    /// The same parameter occurs more than once; accessors return the first.
    DuplicateParam,
    /// A parameter that the Digest grammar requires is absent.
    MissingParam(&'static str),
    /// A parameter that the grammar defines as a quoted-string was sent
    /// unquoted.
    ExpectedQuotedString,
    /// `nc` is not exactly 8 hexadecimal digits.
    BadNonceCount,
    /// `stale` or `userhash` is neither `true` nor `false`.
    InvalidBoolean,
    /// Both `username` and `username*` are present (RFC 7616 §3.4 forbids it).
    UsernameAndUsernameStar,
    /// `username*` is not a valid RFC 8187 ext-value.
    InvalidExtValue,
    /// The problem list reached its cap; later problems were dropped.
    TooManyProblems,
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingSpaceAfterScheme => f.write_str("no whitespace after the auth-scheme"),
            Self::InvalidParamName => f.write_str("invalid parameter name"),
            Self::MissingEquals => f.write_str("parameter name without `=`"),
            Self::EmptyValue => f.write_str("empty parameter value"),
            Self::UnterminatedQuotedString => f.write_str("unterminated quoted-string"),
            Self::InvalidTokenChar => f.write_str("invalid character in token"),
            Self::ControlCharacter => f.write_str("control character in quoted-string"),
            Self::ExpectedComma => f.write_str("expected a comma between parameters"),
            Self::DuplicateParam => f.write_str("duplicate parameter"),
            Self::MissingParam(name) => write!(f, "missing required parameter `{name}`"),
            Self::ExpectedQuotedString => f.write_str("value should be a quoted-string"),
            Self::BadNonceCount => f.write_str("nc is not 8 hexadecimal digits"),
            Self::InvalidBoolean => f.write_str("value is neither `true` nor `false`"),
            Self::UsernameAndUsernameStar => f.write_str("both `username` and `username*`"),
            Self::InvalidExtValue => f.write_str("malformed `username*` ext-value"),
            Self::TooManyProblems => f.write_str("too many problems, the rest were dropped"),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at bytes {}..{}",
            self.kind, self.span.start, self.span.end
        )
    }
}

/// Capped problem list: a hostile value must not make us allocate without
/// bound, and past a few dozen anomalies more detail tells nothing new.
#[derive(Debug, Default, Clone)]
pub(crate) struct Problems {
    list: Vec<Problem>,
    overflowed: bool,
}

impl Problems {
    pub(crate) fn push(&mut self, kind: ProblemKind, span: Range<usize>) {
        if self.list.len() + 1 < MAX_PROBLEMS {
            self.list.push(Problem { kind, span });
        } else if !self.overflowed {
            self.overflowed = true;
            self.list.push(Problem {
                kind: ProblemKind::TooManyProblems,
                span,
            });
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(crate) fn into_vec(self) -> Vec<Problem> {
        self.list
    }
}

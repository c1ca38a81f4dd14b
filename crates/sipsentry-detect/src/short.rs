//! Short strings kept inline: every remembered transaction holds the request's user, From user
//! and digest username, and allocating three `String`s per request was a visible share of the
//! detectors' cost. Extensions, numbers and user names are almost always short; longer ones
//! (attack traffic) fall back to the heap with the same content.

use std::fmt;

const CAP: usize = 46;

#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) enum Short {
    Inline { len: u8, buf: [u8; CAP] },
    Heap(Box<str>),
}

impl Default for Short {
    fn default() -> Self {
        Short::Inline {
            len: 0,
            buf: [0; CAP],
        }
    }
}

impl Short {
    /// The same text as `String::from_utf8_lossy(b)` cut to its first 64 characters.
    pub(crate) fn lossy(b: &[u8]) -> Short {
        if b.len() <= CAP {
            if let Ok(s) = std::str::from_utf8(b) {
                // At most 46 bytes, so at most 46 characters: nothing to cut.
                let mut buf = [0u8; CAP];
                buf[..s.len()].copy_from_slice(s.as_bytes());
                return Short::Inline {
                    len: s.len() as u8,
                    buf,
                };
            }
        }
        let s: String = String::from_utf8_lossy(b).chars().take(64).collect();
        if s.len() <= CAP {
            let mut buf = [0u8; CAP];
            buf[..s.len()].copy_from_slice(s.as_bytes());
            Short::Inline {
                len: s.len() as u8,
                buf,
            }
        } else {
            Short::Heap(s.into_boxed_str())
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            // Only ever filled from a &str, so always valid UTF-8.
            Short::Inline { len, buf } => {
                std::str::from_utf8(&buf[..usize::from(*len)]).unwrap_or("")
            }
            Short::Heap(s) => s,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.as_str().is_empty()
    }
}

impl std::ops::Deref for Short {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Same text as the String-based helper it replaces, for short, long, invalid UTF-8 and
    /// multi-byte input.
    #[test]
    fn same_text_as_lossy_first_64_chars() {
        let long = "x".repeat(200);
        let cases: [&[u8]; 6] = [
            b"",
            b"1001",
            "ünïcode-üser".as_bytes(),
            b"\xff\xfe1001",
            long.as_bytes(),
            &[0xe2; 100],
        ];
        for b in cases {
            let want: String = String::from_utf8_lossy(b).chars().take(64).collect();
            assert_eq!(Short::lossy(b).as_str(), want, "{b:?}");
        }
        assert!(matches!(Short::lossy(b"1001"), Short::Inline { .. }));
        assert!(matches!(Short::lossy(long.as_bytes()), Short::Heap(_)));
    }
}

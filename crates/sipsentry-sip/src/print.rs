//! Canonical printing: the message re-serialised with folds unfolded and one SP around each
//! start-line element. Parsing the printed form yields the same typed fields; the property tests
//! and the fuzz round-trip oracle hold the parser to that.

use crate::lex;
use crate::message::{Message, StartLine};

/// Appends `v` with every run of linear white space that contains a line break (a fold)
/// replaced by one SP.
pub fn unfold_into(v: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < v.len() {
        if lex::is_lws(v[i]) {
            let s = i;
            while i < v.len() && lex::is_lws(v[i]) {
                i += 1;
            }
            let run = &v[s..i];
            if run.contains(&b'\n') || run.contains(&b'\r') {
                out.push(b' ');
            } else {
                out.extend_from_slice(run);
            }
        } else {
            out.push(v[i]);
            i += 1;
        }
    }
}

/// A header value with folds unfolded.
pub fn unfold(v: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !v.contains(&b'\n') && !v.contains(&b'\r') {
        return std::borrow::Cow::Borrowed(v);
    }
    let mut out = Vec::with_capacity(v.len());
    unfold_into(v, &mut out);
    std::borrow::Cow::Owned(out)
}

impl Message<'_> {
    /// Writes the canonical form. Messages whose start line did not parse are written as the raw
    /// line, so printing never loses data.
    pub fn write_canonical(&self, out: &mut Vec<u8>) {
        match self.start_line() {
            StartLine::Request {
                method,
                uri,
                version,
            } => {
                out.extend_from_slice(method.as_bytes());
                out.push(b' ');
                out.extend_from_slice(uri);
                out.push(b' ');
                out.extend_from_slice(version);
            }
            StartLine::Response {
                version,
                code,
                reason,
            } => {
                out.extend_from_slice(version);
                out.push(b' ');
                out.extend_from_slice(format!("{code:03}").as_bytes());
                out.push(b' ');
                out.extend_from_slice(reason);
            }
            StartLine::Invalid(line) => out.extend_from_slice(line),
        }
        out.extend_from_slice(b"\r\n");
        for h in self.headers() {
            out.extend_from_slice(h.raw_name);
            out.extend_from_slice(b": ");
            unfold_into(h.value, out);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(self.body());
    }

    /// The canonical form as a new buffer.
    pub fn to_canonical(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len() + 16);
        self.write_canonical(&mut v);
        v
    }
}

//! Format detection from the first lines of a log.

use crate::event::Format;
use crate::line::classify;

/// How many lines [`detect_format`] looks at.
pub const DETECT_MAX_LINES: usize = 200;

/// Guess the format of a log from its first lines (at most [`DETECT_MAX_LINES`] are read).
///
/// Each line is classified by its envelope only (timestamp, level, program), never by message
/// content; the most frequent format wins, ties going to the one seen first. An Asterisk file in
/// which every recognised line is at level `SECURITY` is [`Format::AsteriskSecurity`]. Lines
/// starting with `#` and blank lines are skipped. Returns [`Format::Unknown`] if nothing matched.
pub fn detect_format<'a, I>(first_lines: I) -> Format
where
    I: IntoIterator<Item = &'a [u8]>,
{
    // (format, count, first index)
    let mut tally: Vec<(Format, usize, usize)> = Vec::new();
    for (i, line) in first_lines.into_iter().take(DETECT_MAX_LINES).enumerate() {
        let t = line.trim_ascii_start();
        if t.is_empty() || t.starts_with(b"#") {
            continue;
        }
        let Some(f) = classify(line) else {
            continue;
        };
        match tally.iter_mut().find(|(g, _, _)| *g == f) {
            Some(e) => e.1 += 1,
            None => tally.push((f, 1, i)),
        }
    }
    // Security lines inside a full log do not make it a security log.
    let full = tally
        .iter()
        .position(|(f, _, _)| *f == Format::AsteriskFull);
    let sec = tally
        .iter()
        .position(|(f, _, _)| *f == Format::AsteriskSecurity);
    if let (Some(a), Some(b)) = (full, sec) {
        let add = tally[b].1;
        tally[a].1 += add;
        tally[a].2 = tally[a].2.min(tally[b].2);
        tally.remove(b);
    }
    tally
        .iter()
        .max_by(|x, y| x.1.cmp(&y.1).then(y.2.cmp(&x.2)))
        .map(|(f, _, _)| *f)
        .unwrap_or(Format::Unknown)
}

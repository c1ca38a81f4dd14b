//! Timestamp parsing for the formats PBXs write, without a date library.

use crate::event::LineContext;

/// A broken-down timestamp as written in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub year: Option<i32>,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanos: u32,
    /// Offset east of UTC written in the timestamp itself.
    pub offset_secs: Option<i32>,
}

const NS: i64 = 1_000_000_000;

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Stamp {
    fn unix_ns_for_year(&self, year: i64, ctx: &LineContext) -> Option<i64> {
        if self.month == 0 || self.month > 12 || self.day == 0 {
            return None;
        }
        if self.day > days_in_month(year, self.month)
            || self.hour > 23
            || self.minute > 59
            || self.second > 60
            || self.nanos >= 1_000_000_000
        {
            return None;
        }
        let days = days_from_civil(year, self.month, self.day);
        let secs = days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        let offset = i64::from(self.offset_secs.unwrap_or(ctx.utc_offset_seconds));
        (secs - offset)
            .checked_mul(NS)?
            .checked_add(i64::from(self.nanos))
    }

    /// Unix nanoseconds, taking the year from the context when the log has none.
    pub(crate) fn resolve(&self, ctx: &LineContext) -> Option<i64> {
        match self.year {
            Some(y) => self.unix_ns_for_year(i64::from(y), ctx),
            None => {
                let year = i64::from(ctx.default_year);
                let ns = self.unix_ns_for_year(year, ctx);
                match (ns, ctx.year_rollover_reference) {
                    (Some(ns), Some(reference)) => {
                        let limit = reference.saturating_add(86_400).saturating_mul(NS);
                        if ns > limit {
                            self.unix_ns_for_year(year - 1, ctx).or(Some(ns))
                        } else {
                            Some(ns)
                        }
                    }
                    // Feb 29 in a non-leap default year: try the previous year before giving up.
                    (None, Some(_)) => self.unix_ns_for_year(year - 1, ctx),
                    (ns, None) => ns,
                }
            }
        }
    }
}

/// Exactly `n` ASCII digits.
fn fixed(s: &[u8], n: usize) -> Option<u32> {
    let d = s.get(..n)?;
    let mut v = 0u32;
    for &b in d {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(b - b'0');
    }
    Some(v)
}

/// 1 or 2 ASCII digits; returns value and length.
fn one_or_two(s: &[u8]) -> Option<(u32, usize)> {
    let a = *s.first()?;
    if !a.is_ascii_digit() {
        return None;
    }
    match s.get(1) {
        Some(&b) if b.is_ascii_digit() => Some((u32::from(a - b'0') * 10 + u32::from(b - b'0'), 2)),
        _ => Some((u32::from(a - b'0'), 1)),
    }
}

/// `HH:MM:SS` followed by optional `.fraction` (1-9 digits). Returns (h, m, s, nanos, len).
fn hms(s: &[u8]) -> Option<(u32, u32, u32, u32, usize)> {
    let h = fixed(s, 2)?;
    if s.get(2) != Some(&b':') {
        return None;
    }
    let m = fixed(s.get(3..)?, 2)?;
    if s.get(5) != Some(&b':') {
        return None;
    }
    let sec = fixed(s.get(6..)?, 2)?;
    let (nanos, flen) = fraction(s.get(8..).unwrap_or_default());
    Some((h, m, sec, nanos, 8 + flen))
}

/// Optional `.digits` (also `,digits`); extra digits beyond 9 are consumed and ignored.
fn fraction(s: &[u8]) -> (u32, usize) {
    if !matches!(s.first(), Some(b'.') | Some(b',')) {
        return (0, 0);
    }
    let digits = s[1..].iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return (0, 0);
    }
    let mut v = 0u32;
    for (i, &b) in s[1..=digits].iter().enumerate() {
        if i < 9 {
            v = v * 10 + u32::from(b - b'0');
        }
    }
    for _ in digits..9 {
        v *= 10;
    }
    (v, 1 + digits)
}

/// `YYYY-MM-DD HH:MM:SS[.f]`; `allow_t` also accepts `T` as the separator.
pub(crate) fn parse_ymd_hms(s: &[u8], allow_t: bool) -> Option<(Stamp, usize)> {
    let y = fixed(s, 4)?;
    if s.get(4) != Some(&b'-') || s.get(7) != Some(&b'-') {
        return None;
    }
    let mo = fixed(s.get(5..)?, 2)?;
    let d = fixed(s.get(8..)?, 2)?;
    match s.get(10) {
        Some(b' ') => {}
        Some(b'T') if allow_t => {}
        _ => return None,
    }
    let (h, mi, sec, nanos, n) = hms(s.get(11..)?)?;
    Some((
        Stamp {
            year: Some(y as i32),
            month: mo,
            day: d,
            hour: h,
            minute: mi,
            second: sec,
            nanos,
            offset_secs: None,
        },
        11 + n,
    ))
}

/// RFC 3339 as written by rsyslog/journald: `YYYY-MM-DDTHH:MM:SS[.f][Z|+HH:MM|+HHMM]`.
pub(crate) fn parse_iso_tz(s: &[u8]) -> Option<(Stamp, usize)> {
    let (mut st, mut n) = parse_ymd_hms(s, true)?;
    match s.get(n) {
        Some(b'Z') => {
            st.offset_secs = Some(0);
            n += 1;
        }
        Some(&sign @ (b'+' | b'-')) => {
            let hh = fixed(s.get(n + 1..)?, 2)?;
            let (mm, len) = if s.get(n + 3) == Some(&b':') {
                (fixed(s.get(n + 4..)?, 2)?, 6)
            } else {
                (fixed(s.get(n + 3..)?, 2)?, 5)
            };
            if hh > 23 || mm > 59 {
                return None;
            }
            let off = (hh * 3600 + mm * 60) as i32;
            st.offset_secs = Some(if sign == b'-' { -off } else { off });
            n += len;
        }
        _ => {}
    }
    Some((st, n))
}

pub(crate) fn month_abbr(s: &[u8]) -> Option<u32> {
    let m = s.get(..3)?;
    const NAMES: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    NAMES
        .iter()
        .position(|n| n.eq_ignore_ascii_case(m))
        .map(|i| i as u32 + 1)
}

/// BSD syslog / Asterisk default: `Mon dd HH:MM:SS`, `Mon  d HH:MM:SS`, `Mon d HH:MM:SS`, with an
/// optional fraction. No year.
pub(crate) fn parse_bsd(s: &[u8]) -> Option<(Stamp, usize)> {
    let month = month_abbr(s)?;
    if s.get(3) != Some(&b' ') {
        return None;
    }
    let mut i = 4;
    if s.get(i) == Some(&b' ') {
        i += 1;
    }
    let (day, dl) = one_or_two(s.get(i..)?)?;
    i += dl;
    if s.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    let (h, mi, sec, nanos, n) = hms(s.get(i..)?)?;
    Some((
        Stamp {
            year: None,
            month,
            day,
            hour: h,
            minute: mi,
            second: sec,
            nanos,
            offset_secs: None,
        },
        i + n,
    ))
}

/// FreeSWITCH without year: `MM-DD HH:MM:SS[.f]`.
pub(crate) fn parse_md_hms(s: &[u8]) -> Option<(Stamp, usize)> {
    let mo = fixed(s, 2)?;
    if s.get(2) != Some(&b'-') {
        return None;
    }
    let d = fixed(s.get(3..)?, 2)?;
    if s.get(5) != Some(&b' ') {
        return None;
    }
    let (h, mi, sec, nanos, n) = hms(s.get(6..)?)?;
    Some((
        Stamp {
            year: None,
            month: mo,
            day: d,
            hour: h,
            minute: mi,
            second: sec,
            nanos,
            offset_secs: None,
        },
        6 + n,
    ))
}

/// 3CX (US locale): `MM/DD/YYYY h:mm:ss AM`.
pub(crate) fn parse_us_12h(s: &[u8]) -> Option<(Stamp, usize)> {
    let (mo, a) = one_or_two(s)?;
    if s.get(a) != Some(&b'/') {
        return None;
    }
    let (d, b) = one_or_two(s.get(a + 1..)?)?;
    let mut i = a + 1 + b;
    if s.get(i) != Some(&b'/') {
        return None;
    }
    let y = fixed(s.get(i + 1..)?, 4)?;
    i += 5;
    if s.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    let (h12, hl) = one_or_two(s.get(i..)?)?;
    i += hl;
    if s.get(i) != Some(&b':') {
        return None;
    }
    let mi = fixed(s.get(i + 1..)?, 2)?;
    if s.get(i + 3) != Some(&b':') {
        return None;
    }
    let sec = fixed(s.get(i + 4..)?, 2)?;
    i += 6;
    let (nanos, fl) = fraction(s.get(i..).unwrap_or_default());
    i += fl;
    if s.get(i) != Some(&b' ') {
        return None;
    }
    let ampm = s.get(i + 1..i + 3)?;
    let pm = if ampm.eq_ignore_ascii_case(b"PM") {
        true
    } else if ampm.eq_ignore_ascii_case(b"AM") {
        false
    } else {
        return None;
    };
    if h12 == 0 || h12 > 12 {
        return None;
    }
    let hour = (h12 % 12) + if pm { 12 } else { 0 };
    Some((
        Stamp {
            year: Some(y as i32),
            month: mo,
            day: d,
            hour,
            minute: mi,
            second: sec,
            nanos,
            offset_secs: None,
        },
        i + 3,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> LineContext {
        LineContext::new(2005)
    }

    #[test]
    fn civil() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }

    #[test]
    fn formats() {
        let (s, n) = parse_ymd_hms(b"2012-02-13 17:21:54] x", false).unwrap();
        assert_eq!(n, 19);
        assert_eq!(s.resolve(&ctx()), Some(1_329_153_714 * NS));
        let (s, n) = parse_bsd(b"Nov 4 18:30:40 localhost").unwrap();
        assert_eq!(n, 14);
        assert_eq!(s.day, 4);
        let (_, n) = parse_bsd(b"Mar  6 08:44:27]").unwrap();
        assert_eq!(n, 15);
        let (s, _) = parse_iso_tz(b"2024-07-08T22:25:10.826-06:00 h").unwrap();
        assert_eq!(s.offset_secs, Some(-21_600));
        assert_eq!(s.nanos, 826_000_000);
        let (s, n) = parse_us_12h(b"02/05/2021 2:18:24 PM - [").unwrap();
        assert_eq!((s.month, s.day, s.hour), (2, 5, 14));
        assert_eq!(n, 21);
        let (s, _) = parse_us_12h(b"02/05/2021 12:00:00 AM").unwrap();
        assert_eq!(s.hour, 0);
        assert!(parse_ymd_hms(b"2012-13-13 17:21:54", false)
            .unwrap()
            .0
            .resolve(&ctx())
            .is_none());
    }

    #[test]
    fn rollover() {
        let mut c = ctx();
        c.year_rollover_reference = Some(1_124_013_600); // 2005-08-14
        let (s, _) = parse_bsd(b"Nov  4 18:30:40").unwrap();
        let ns = s.resolve(&c).unwrap();
        assert_eq!(
            ns / NS,
            days_from_civil(2004, 11, 4) * 86_400 + 18 * 3600 + 30 * 60 + 40
        );
        let (s, _) = parse_bsd(b"Jan 18 17:39:50").unwrap();
        assert_eq!(
            s.resolve(&c).unwrap() / NS,
            days_from_civil(2005, 1, 18) * 86_400 + 17 * 3600 + 39 * 60 + 50
        );
    }
}

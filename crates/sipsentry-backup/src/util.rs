//! Hashing I/O adapters and calendar arithmetic without a time-zone database (all UTC).

use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::rc::Rc;

/// Passes writes through while hashing and counting them.
pub struct HashWriter<W> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> HashWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }
    /// The inner writer, the SHA-256 and the byte count of everything written.
    pub fn finish(self) -> (W, [u8; 32], u64) {
        (self.inner, self.hasher.finalize().into(), self.count)
    }
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

struct SharedState {
    inner: Box<dyn Read>,
    hasher: Sha256,
    count: u64,
}

/// A hashing reader whose state outlives the consumer it is moved into.
///
/// Why shared: the age decryptor takes its input by value and gives nothing back when it fails
/// mid-stream. Verification then still needs the rest of the ciphertext hashed, to tell "this
/// object was modified or swapped" (hash mismatch) from other failures; a clone kept outside the
/// decryptor can drain and finish the hash.
#[derive(Clone)]
pub struct SharedHashReader(Rc<RefCell<SharedState>>);

impl SharedHashReader {
    pub fn new(inner: Box<dyn Read>) -> Self {
        Self(Rc::new(RefCell::new(SharedState {
            inner,
            hasher: Sha256::new(),
            count: 0,
        })))
    }
    /// Reads (and hashes) whatever is left, then returns SHA-256 and total length.
    pub fn drain_and_finish(&self) -> io::Result<([u8; 32], u64)> {
        io::copy(&mut self.clone(), &mut io::sink())?;
        let st = self.0.borrow();
        Ok((st.hasher.clone().finalize().into(), st.count))
    }
}

impl Read for SharedHashReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut st = self.0.borrow_mut();
        let n = st.inner.read(buf)?;
        st.hasher.update(&buf[..n]);
        st.count += n as u64;
        Ok(n)
    }
}

/// Passes reads through while hashing and counting them.
pub struct HashReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> HashReader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }
    pub fn count(&self) -> u64 {
        self.count
    }
    pub fn finish(self) -> ([u8; 32], u64) {
        (self.hasher.finalize().into(), self.count)
    }
}

impl<R: Read> Read for HashReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// Seconds since the Unix epoch, now.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// (year, month, day) for days since 1970-01-01 (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 for a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// `YYYYMMDDTHHMMSSZ` (the compact form used in backup IDs and SigV4).
pub fn compact(secs: i64) -> String {
    rfc3339(secs).replace(['-', ':'], "")
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff]Z` (also with `+00:00`) or the compact form.
pub fn parse_utc(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d, h, mi, se) =
        if b.len() >= 16 && b.get(8) == Some(&b'T') && b.get(4) != Some(&b'-') {
            (
                num(0..4)?,
                num(4..6)?,
                num(6..8)?,
                num(9..11)?,
                num(11..13)?,
                num(13..15)?,
            )
        } else if b.len() >= 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' {
            (
                num(0..4)?,
                num(5..7)?,
                num(8..10)?,
                num(11..13)?,
                num(14..16)?,
                num(17..19)?,
            )
        } else {
            return None;
        };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    Some(days_from_civil(y, mo as u32, d as u32) * 86_400 + h * 3600 + mi * 60 + se)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_roundtrip() {
        for days in [-800_000i64, -1, 0, 59, 60, 11_016, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(compact(1_700_000_000), "20231114T221320Z");
    }

    #[test]
    fn parse_both_forms() {
        assert_eq!(parse_utc("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(parse_utc("2023-11-14T22:13:20.000Z"), Some(1_700_000_000));
        assert_eq!(parse_utc("20231114T221320Z"), Some(1_700_000_000));
        assert_eq!(parse_utc("2023-13-14T22:13:20Z"), None);
        assert_eq!(parse_utc("garbage"), None);
        assert_eq!(parse_utc(""), None);
    }
}

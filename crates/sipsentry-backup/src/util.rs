//! Hashing I/O adapters and calendar arithmetic without a time-zone database (all UTC).

use sha2::{Digest, Sha256};
use std::io::{self, Read, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

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
    inner: Box<dyn Read + Send>,
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
pub struct SharedHashReader(Arc<Mutex<SharedState>>);

impl SharedHashReader {
    pub fn new(inner: Box<dyn Read + Send>) -> Self {
        Self(Arc::new(Mutex::new(SharedState {
            inner,
            hasher: Sha256::new(),
            count: 0,
        })))
    }
    /// Reads (and hashes) whatever is left, then returns SHA-256 and total length.
    pub fn drain_and_finish(&self) -> io::Result<([u8; 32], u64)> {
        io::copy(&mut self.clone(), &mut io::sink())?;
        let st = self.lock();
        Ok((st.hasher.clone().finalize().into(), st.count))
    }
}

impl SharedHashReader {
    fn lock(&self) -> MutexGuard<'_, SharedState> {
        // A panic while holding the lock cannot leave the hash state half-updated in a way
        // that matters: the result is only compared, never trusted.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Read for SharedHashReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut st = self.lock();
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

/// Block size handed between pipeline threads.
const BLOCK: usize = 1 << 20;
/// Blocks in flight per direction: memory stays at a few MiB whatever the stream size.
const QUEUE: usize = 4;

fn worker_gone() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "pipeline worker stopped")
}

/// A writer whose bytes are written to `inner` on a worker thread.
///
/// Why: creating a backup hashes the plaintext twice (per file and whole stream), encrypts, and
/// hashes the ciphertext; on one core that is the bottleneck. Splitting the pipeline at the
/// age boundary puts encryption + ciphertext hashing + writing on a second core, the way
/// `tar | age` uses two processes. Blocks travel through a bounded queue and are recycled, so
/// memory stays flat.
pub struct ThreadedWriter<W: Write + Send + 'static> {
    buf: Vec<u8>,
    tx: Option<SyncSender<Vec<u8>>>,
    recycle: Receiver<Vec<u8>>,
    handle: Option<JoinHandle<io::Result<W>>>,
}

impl<W: Write + Send + 'static> ThreadedWriter<W> {
    pub fn new(mut inner: W) -> io::Result<Self> {
        let (tx, rx) = sync_channel::<Vec<u8>>(QUEUE);
        let (back_tx, recycle) = sync_channel::<Vec<u8>>(QUEUE + 2);
        let handle = std::thread::Builder::new()
            .name("backup-write".into())
            .spawn(move || {
                for mut block in rx {
                    inner.write_all(&block)?;
                    block.clear();
                    let _ = back_tx.try_send(block);
                }
                inner.flush()?;
                Ok(inner)
            })?;
        Ok(Self {
            buf: Vec::with_capacity(BLOCK),
            tx: Some(tx),
            recycle,
            handle: Some(handle),
        })
    }

    fn join_error(&mut self) -> io::Error {
        self.tx = None;
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(Err(e))) => e,
            _ => worker_gone(),
        }
    }

    fn send(&mut self) -> io::Result<()> {
        let next = self
            .recycle
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BLOCK));
        let full = std::mem::replace(&mut self.buf, next);
        match self.tx.as_ref().map(|tx| tx.send(full)) {
            Some(Ok(())) => Ok(()),
            _ => Err(self.join_error()),
        }
    }

    /// Sends what is buffered, waits for the worker and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.buf.is_empty() {
            self.send()?;
        }
        self.tx = None;
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(r)) => r,
            _ => Err(worker_gone()),
        }
    }
}

impl<W: Write + Send + 'static> Write for ThreadedWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(BLOCK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() >= BLOCK {
            self.send()?;
        }
        Ok(n)
    }
    /// The data is flushed by [`ThreadedWriter::finish`]; flushing earlier would only cost.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A reader fed by a worker thread that reads `inner` ahead in blocks (see [`ThreadedWriter`]
/// for why). An error from `inner` is delivered in order, after the data before it.
pub struct ThreadedReader {
    cur: Vec<u8>,
    pos: usize,
    rx: Option<Receiver<io::Result<Vec<u8>>>>,
    recycle: SyncSender<Vec<u8>>,
    handle: Option<JoinHandle<()>>,
}

impl ThreadedReader {
    pub fn new<R: Read + Send + 'static>(mut inner: R) -> io::Result<Self> {
        let (tx, rx) = sync_channel::<io::Result<Vec<u8>>>(QUEUE);
        let (recycle, back_rx) = sync_channel::<Vec<u8>>(QUEUE + 2);
        let handle = std::thread::Builder::new()
            .name("backup-read".into())
            .spawn(move || loop {
                let mut b = back_rx.try_recv().unwrap_or_default();
                b.resize(BLOCK, 0);
                let mut n = 0;
                let res = loop {
                    if n == BLOCK {
                        break Ok(());
                    }
                    match inner.read(&mut b[n..]) {
                        Ok(0) => break Ok(()),
                        Ok(k) => n += k,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                b.truncate(n);
                let eof = n < BLOCK;
                if n > 0 && tx.send(Ok(b)).is_err() {
                    return;
                }
                if let Err(e) = res {
                    let _ = tx.send(Err(e));
                    return;
                }
                if eof {
                    return;
                }
            })?;
        Ok(Self {
            cur: Vec::new(),
            pos: 0,
            rx: Some(rx),
            recycle,
            handle: Some(handle),
        })
    }
}

impl Read for ThreadedReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.cur.len() {
            let Some(rx) = &self.rx else { return Ok(0) };
            match rx.recv() {
                Ok(Ok(b)) => {
                    let old = std::mem::replace(&mut self.cur, b);
                    let _ = self.recycle.try_send(old);
                    self.pos = 0;
                }
                Ok(Err(e)) => {
                    self.rx = None;
                    return Err(e);
                }
                Err(_) => {
                    self.rx = None;
                    return Ok(0);
                }
            }
        }
        let n = out.len().min(self.cur.len() - self.pos);
        out[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Drop for ThreadedReader {
    fn drop(&mut self) {
        // Closing the channel stops the worker at its next send; join so the shared input is
        // no longer read when the caller goes on to drain it.
        self.rx = None;
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
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
    fn threaded_pipes_roundtrip_and_errors() {
        let data: Vec<u8> = (0..5_000_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let mut w = ThreadedWriter::new(Vec::new()).unwrap();
        for chunk in data.chunks(777) {
            w.write_all(chunk).unwrap();
        }
        assert_eq!(w.finish().unwrap(), data);
        let mut r = ThreadedReader::new(io::Cursor::new(data.clone())).unwrap();
        let mut back = Vec::new();
        r.read_to_end(&mut back).unwrap();
        assert_eq!(back, data);
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("boom"));
                }
                let n = b.len().min(self.0);
                self.0 -= n;
                Ok(n)
            }
        }
        let mut r = ThreadedReader::new(Failing(3 << 20)).unwrap();
        let mut back = Vec::new();
        let e = r.read_to_end(&mut back).unwrap_err();
        assert_eq!(e.to_string(), "boom");
        assert_eq!(back.len(), 3 << 20);
        struct FullDisk;
        impl Write for FullDisk {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut w = ThreadedWriter::new(FullDisk).unwrap();
        let mut err = None;
        for _ in 0..100 {
            if let Err(e) = w.write_all(&[0u8; 65536]) {
                err = Some(e);
                break;
            }
        }
        let e = match err {
            Some(e) => e,
            None => w.finish().map(|_| ()).unwrap_err(),
        };
        assert_eq!(e.to_string(), "disk full");
    }

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

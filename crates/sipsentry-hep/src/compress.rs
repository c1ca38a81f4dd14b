//! Bounded inflation of compressed payload chunks (`0x0010`).
//!
//! The specification says only "compressed payload (gzip/inflate)", and agents differ, so the
//! container is detected from the first bytes: gzip (`1f 8b`), zlib (a valid RFC 1950 header),
//! or else raw deflate (RFC 1951). Output is grown in steps and checked against the cap after
//! every step, so a bomb costs at most `cap` bytes of memory before it is refused. A stream
//! without its final block is an error, not a silently short payload.

use flate2::{Compress, Compression, Crc, Decompress, FlushCompress, FlushDecompress, Status};

use crate::error::DecompressError;
use crate::reader::Reader;

/// First allocation for inflated output; doubled as needed up to the cap.
const INITIAL_OUT: usize = 4 * 1024;

fn is_zlib_header(data: &[u8]) -> bool {
    match data {
        [cmf, flg, ..] => {
            // CM = 8 (deflate), CINFO <= 7 (window <= 32K), FCHECK makes it a multiple of 31,
            // and no preset dictionary (FDICT), which HEP agents never use.
            cmf & 0x0f == 8
                && cmf >> 4 <= 7
                && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
                && flg & 0x20 == 0
        }
        _ => false,
    }
}

/// Inflate `data` (gzip, zlib or raw deflate) into at most `cap` bytes.
pub(crate) fn inflate(data: &[u8], cap: usize) -> Result<Vec<u8>, DecompressError> {
    if data.starts_with(&[0x1f, 0x8b]) {
        inflate_gzip(data, cap)
    } else if is_zlib_header(data) {
        inflate_stream(data, true, cap).map(|(out, _)| out)
    } else {
        inflate_stream(data, false, cap).map(|(out, _)| out)
    }
}

/// Inflate one zlib (`zlib_header`) or raw deflate stream; returns the output and the number
/// of input bytes the stream occupied.
fn inflate_stream(
    data: &[u8],
    zlib_header: bool,
    cap: usize,
) -> Result<(Vec<u8>, usize), DecompressError> {
    let mut d = Decompress::new(zlib_header);
    let mut out: Vec<u8> = Vec::with_capacity(INITIAL_OUT.min(cap.saturating_add(1)));
    loop {
        if out.len() == out.capacity() {
            if out.len() > cap {
                return Err(DecompressError::TooLarge { cap });
            }
            // Grow geometrically, but never past cap + 1: one byte beyond the cap is enough
            // to know the cap was exceeded.
            let want = out
                .len()
                .max(INITIAL_OUT)
                .min(cap.saturating_add(1) - out.len())
                .max(1);
            out.reserve_exact(want);
        }
        let consumed = usize::try_from(d.total_in()).unwrap_or(usize::MAX);
        let input = data.get(consumed..).unwrap_or_default();
        let before_out = out.len();
        let status = d
            .decompress_vec(input, &mut out, FlushDecompress::None)
            .map_err(|_| DecompressError::Corrupt)?;
        if out.len() > cap {
            return Err(DecompressError::TooLarge { cap });
        }
        let consumed_now = usize::try_from(d.total_in()).unwrap_or(usize::MAX);
        match status {
            Status::StreamEnd => return Ok((out, consumed_now)),
            Status::Ok | Status::BufError => {
                let progressed = consumed_now != consumed || out.len() != before_out;
                let out_full = out.len() == out.capacity();
                if !progressed && !out_full {
                    // No progress with room to write: the input ran out before the final
                    // block.
                    return Err(DecompressError::Truncated);
                }
            }
        }
    }
}

/// RFC 1952 member: header, raw deflate, CRC-32 + ISIZE trailer.
fn inflate_gzip(data: &[u8], cap: usize) -> Result<Vec<u8>, DecompressError> {
    const FHCRC: u8 = 0x02;
    const FEXTRA: u8 = 0x04;
    const FNAME: u8 = 0x08;
    const FCOMMENT: u8 = 0x10;
    let bad = |reason| DecompressError::GzipHeader { reason };

    let mut r = Reader::new(data);
    let fixed = r
        .take(10)
        .ok_or(bad("shorter than the 10-byte fixed header"))?;
    if fixed[2] != 8 {
        return Err(bad("compression method is not deflate (8)"));
    }
    let flags = fixed[3];
    if flags & 0xe0 != 0 {
        return Err(bad("reserved flag bits set"));
    }
    if flags & FEXTRA != 0 {
        let xlen = r.u16_le().ok_or(bad("FEXTRA length cut short"))?;
        r.take(usize::from(xlen))
            .ok_or(bad("FEXTRA field overruns the data"))?;
    }
    for (flag, what) in [
        (FNAME, "FNAME not NUL-terminated"),
        (FCOMMENT, "FCOMMENT not NUL-terminated"),
    ] {
        if flags & flag != 0 {
            loop {
                match r.u8() {
                    Some(0) => break,
                    Some(_) => {}
                    None => return Err(bad(what)),
                }
            }
        }
    }
    if flags & FHCRC != 0 {
        r.take(2).ok_or(bad("FHCRC cut short"))?;
    }
    let header_len = r.position();
    let body = data.get(header_len..).unwrap_or_default();
    let (out, used) = inflate_stream(body, false, cap)?;
    let mut t = Reader::new(body.get(used..).unwrap_or_default());
    let crc = t.u32_le().ok_or(DecompressError::GzipTrailer)?;
    let isize = t.u32_le().ok_or(DecompressError::GzipTrailer)?;
    let mut c = Crc::new();
    c.update(&out);
    // ISIZE is the length modulo 2^32.
    if c.sum() != crc || isize != (out.len() as u64 & 0xffff_ffff) as u32 {
        return Err(DecompressError::GzipTrailer);
    }
    Ok(out)
}

/// zlib-compress `data` (default level) for a `0x0010` chunk. Deterministic for equal input.
pub(crate) fn deflate_zlib(data: &[u8]) -> Vec<u8> {
    let mut c = Compress::new(Compression::default(), true);
    // Deflate never expands by more than ~0.1% + a few bytes per 16 KiB stored block.
    let mut out: Vec<u8> = Vec::with_capacity(data.len() + data.len() / 100 + 64);
    loop {
        let consumed = usize::try_from(c.total_in()).unwrap_or(usize::MAX);
        let input = data.get(consumed..).unwrap_or_default();
        // `compress_vec` cannot fail for a valid in-memory stream with room to write; an error
        // here would mean a flate2 bug, and stopping with what we have is the safe response.
        match c.compress_vec(input, &mut out, FlushCompress::Finish) {
            Ok(Status::StreamEnd) | Err(_) => return out,
            Ok(Status::Ok | Status::BufError) => out.reserve(out.capacity().max(64)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::{DeflateEncoder, GzEncoder};
    use std::io::Write;

    fn sample() -> Vec<u8> {
        b"INVITE sip:bob@example.com SIP/2.0\r\n".repeat(50)
    }

    #[test]
    fn zlib_round_trip() {
        let z = deflate_zlib(&sample());
        assert!(is_zlib_header(&z));
        assert_eq!(inflate(&z, 1 << 16).unwrap(), sample());
    }

    #[test]
    fn raw_deflate_and_gzip() {
        let mut e = DeflateEncoder::new(Vec::new(), Compression::best());
        e.write_all(&sample()).unwrap();
        let raw = e.finish().unwrap();
        assert_eq!(inflate(&raw, 1 << 16).unwrap(), sample());

        let mut g = GzEncoder::new(Vec::new(), Compression::fast());
        g.write_all(&sample()).unwrap();
        let gz = g.finish().unwrap();
        assert_eq!(inflate(&gz, 1 << 16).unwrap(), sample());

        let mut bad = gz.clone();
        let n = bad.len();
        bad[n - 5] ^= 1; // CRC byte
        assert_eq!(inflate(&bad, 1 << 16), Err(DecompressError::GzipTrailer));
        assert_eq!(
            inflate(&gz[..gz.len() - 3], 1 << 16),
            Err(DecompressError::GzipTrailer)
        );
    }

    #[test]
    fn cap_is_exact() {
        let data = vec![7u8; 1000];
        let z = deflate_zlib(&data);
        assert_eq!(inflate(&z, 1000).unwrap(), data);
        assert_eq!(
            inflate(&z, 999),
            Err(DecompressError::TooLarge { cap: 999 })
        );
        assert_eq!(inflate(&z, 0), Err(DecompressError::TooLarge { cap: 0 }));
    }

    #[test]
    fn truncated_stream_is_an_error() {
        let z = deflate_zlib(&sample());
        for cut in [2, 5, z.len() / 2, z.len() - 5] {
            let r = inflate(&z[..cut], 1 << 16);
            assert!(r.is_err(), "cut at {cut}: {r:?}");
        }
        assert!(inflate(&[], 10).is_err());
    }
}

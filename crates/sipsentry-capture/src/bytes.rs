//! A checked cursor over untrusted bytes.
//!
//! Every read returns `Option`, so a short buffer becomes a typed error at the call site
//! (`.ok_or(DecodeError::...)?`) instead of a panic. Nothing in the crate indexes packet data
//! directly; it all goes through this type or `slice::get`.

/// Byte order of multi-byte fields in a capture file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// Most significant byte first (network order).
    Big,
    /// Least significant byte first.
    Little,
}

/// A consuming cursor: `buf` is always the not-yet-read remainder.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    #[inline]
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// Bytes not yet read.
    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// The unread remainder (does not consume it).
    #[inline]
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf
    }

    /// Consumes and returns the next `n` bytes, or `None` (consuming nothing) if fewer remain.
    #[inline]
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.buf.split_at_checked(n)?;
        self.buf = tail;
        Some(head)
    }

    #[inline]
    pub(crate) fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(|_| ())
    }

    #[inline]
    pub(crate) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    #[inline]
    pub(crate) fn u8(&mut self) -> Option<u8> {
        let (&b, tail) = self.buf.split_first()?;
        self.buf = tail;
        Some(b)
    }

    #[inline]
    pub(crate) fn be16(&mut self) -> Option<u16> {
        self.array().map(u16::from_be_bytes)
    }

    #[inline]
    pub(crate) fn be32(&mut self) -> Option<u32> {
        self.array().map(u32::from_be_bytes)
    }

    #[inline]
    pub(crate) fn u16(&mut self, order: ByteOrder) -> Option<u16> {
        let a = self.array()?;
        Some(match order {
            ByteOrder::Big => u16::from_be_bytes(a),
            ByteOrder::Little => u16::from_le_bytes(a),
        })
    }

    #[inline]
    pub(crate) fn u32(&mut self, order: ByteOrder) -> Option<u32> {
        let a = self.array()?;
        Some(match order {
            ByteOrder::Big => u32::from_be_bytes(a),
            ByteOrder::Little => u32::from_le_bytes(a),
        })
    }

    #[inline]
    pub(crate) fn u64(&mut self, order: ByteOrder) -> Option<u64> {
        let a = self.array()?;
        Some(match order {
            ByteOrder::Big => u64::from_be_bytes(a),
            ByteOrder::Little => u64::from_le_bytes(a),
        })
    }
}

/// Reads a `u32` from a fixed 4-byte array in the given order.
#[inline]
pub(crate) fn u32_from(order: ByteOrder, b: [u8; 4]) -> u32 {
    match order {
        ByteOrder::Big => u32::from_be_bytes(b),
        ByteOrder::Little => u32::from_le_bytes(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_reads_consume_nothing() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.be32(), None);
        assert_eq!(r.remaining(), 3);
        assert_eq!(r.be16(), Some(0x0102));
        assert_eq!(r.take(2), None);
        assert_eq!(r.u8(), Some(3));
        assert_eq!(r.u8(), None);
        assert_eq!(r.skip(1), None);
    }

    #[test]
    fn byte_orders() {
        let b = [1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(Reader::new(&b).u16(ByteOrder::Little), Some(0x0201));
        assert_eq!(Reader::new(&b).u32(ByteOrder::Big), Some(0x0102_0304));
        assert_eq!(
            Reader::new(&b).u64(ByteOrder::Little),
            Some(0x0807_0605_0403_0201)
        );
        assert_eq!(u32_from(ByteOrder::Little, [1, 0, 0, 0]), 1);
    }
}

//! Packet and capture-file builders shared by the integration tests.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;

use sipsentry_capture::{Config, Decoder, Event};

pub const A4: [u8; 4] = [192, 0, 2, 1];
pub const B4: [u8; 4] = [192, 0, 2, 2];

pub fn a6() -> [u8; 16] {
    v6(1)
}
pub fn b6() -> [u8; 16] {
    v6(2)
}
pub fn v6(last: u8) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[..4].copy_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    a[15] = last;
    a
}

pub fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

// ---------------------------------------------------------------- transport

pub fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(payload);
    v
}

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

pub fn tcp(sport: u16, dport: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    tcp_opts(sport, dport, seq, flags, &[], payload)
}

pub fn tcp_opts(
    sport: u16,
    dport: u16,
    seq: u32,
    flags: u8,
    opts: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    assert_eq!(opts.len() % 4, 0);
    let mut v = Vec::new();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&seq.to_be_bytes());
    v.extend_from_slice(&0u32.to_be_bytes());
    v.push((((20 + opts.len()) / 4) as u8) << 4);
    v.push(flags);
    v.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]);
    v.extend_from_slice(opts);
    v.extend_from_slice(payload);
    v
}

// ---------------------------------------------------------------- network

pub fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, payload: &[u8]) -> Vec<u8> {
    ipv4_full(src, dst, proto, 0, 0x4000, &[], payload)
}

/// `frag` is the raw flags/offset word (offset in 8-byte units, 0x2000 = MF).
pub fn ipv4_full(
    src: [u8; 4],
    dst: [u8; 4],
    proto: u8,
    id: u16,
    frag: u16,
    options: &[u8],
    payload: &[u8],
) -> Vec<u8> {
    assert_eq!(options.len() % 4, 0);
    let ihl = 20 + options.len();
    let mut v = vec![0x40 | (ihl / 4) as u8, 0];
    v.extend_from_slice(&((ihl + payload.len()) as u16).to_be_bytes());
    v.extend_from_slice(&id.to_be_bytes());
    v.extend_from_slice(&frag.to_be_bytes());
    v.extend_from_slice(&[64, proto, 0xde, 0xad]); // checksum deliberately wrong
    v.extend_from_slice(&src);
    v.extend_from_slice(&dst);
    v.extend_from_slice(options);
    v.extend_from_slice(payload);
    v
}

/// IPv4 fragments of `datagram` (the IP payload), `size` bytes each (multiple of 8).
pub fn ipv4_fragments(
    src: [u8; 4],
    dst: [u8; 4],
    proto: u8,
    id: u16,
    datagram: &[u8],
    size: usize,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut off = 0;
    while off < datagram.len() {
        let end = (off + size).min(datagram.len());
        let mf = if end < datagram.len() { 0x2000 } else { 0 };
        out.push(ipv4_full(
            src,
            dst,
            proto,
            id,
            mf | (off / 8) as u16,
            &[],
            &datagram[off..end],
        ));
        off = end;
    }
    out
}

pub fn ipv6(src: [u8; 16], dst: [u8; 16], nh: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x60, 0, 0, 0];
    v.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    v.push(nh);
    v.push(64);
    v.extend_from_slice(&src);
    v.extend_from_slice(&dst);
    v.extend_from_slice(payload);
    v
}

/// A generic RFC 6564 extension header of `8 * (units + 1)` bytes.
pub fn ext(nh: u8, units: u8, rest: &[u8]) -> Vec<u8> {
    let mut v = vec![nh, units];
    let len = 8 * (usize::from(units) + 1);
    v.extend_from_slice(rest);
    v.resize(len, 0);
    v
}

/// An AH header of `4 * (units + 2)` bytes.
pub fn ah(nh: u8, units: u8) -> Vec<u8> {
    let mut v = vec![nh, units];
    v.resize(4 * (usize::from(units) + 2), 0xAA);
    v
}

pub fn frag6(nh: u8, offset: usize, more: bool, id: u32) -> Vec<u8> {
    let mut v = vec![nh, 0];
    v.extend_from_slice(&((offset as u16) | u16::from(more)).to_be_bytes());
    v.extend_from_slice(&id.to_be_bytes());
    v
}

/// IPv6 fragments of `fragmentable` (everything after the fragment header).
pub fn ipv6_fragments(
    src: [u8; 16],
    dst: [u8; 16],
    nh: u8,
    id: u32,
    fragmentable: &[u8],
    size: usize,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut off = 0;
    while off < fragmentable.len() {
        let end = (off + size).min(fragmentable.len());
        let body = cat(&[
            &frag6(nh, off, end < fragmentable.len(), id),
            &fragmentable[off..end],
        ]);
        out.push(ipv6(src, dst, 44, &body));
        off = end;
    }
    out
}

pub fn gre(proto: u16, flags: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&flags.to_be_bytes());
    v.extend_from_slice(&proto.to_be_bytes());
    for bit in [0x8000u16, 0x2000, 0x1000] {
        if flags & bit != 0 {
            v.extend_from_slice(&[0x11, 0x22, 0x33, 0x44]);
        }
    }
    v.extend_from_slice(payload);
    v
}

pub fn erspan2(frame: &[u8]) -> Vec<u8> {
    let mut h = vec![0x10, 0x00, 0x00, 0x05, 0, 0, 0, 0];
    h.extend_from_slice(frame);
    gre(0x88BE, 0x1000, &h)
}

pub fn erspan3(frame: &[u8], subheader: bool) -> Vec<u8> {
    let mut h = vec![
        0x20,
        0x00,
        0x00,
        0x07,
        1,
        2,
        3,
        4,
        0,
        0,
        0,
        u8::from(subheader),
    ];
    if subheader {
        h.extend_from_slice(&[9; 8]);
    }
    h.extend_from_slice(frame);
    gre(0x22EB, 0x1000, &h)
}

// ---------------------------------------------------------------- link

pub fn eth(ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    v.extend_from_slice(&ethertype.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// Ethernet with stacked tags `(tpid, vid)`, outermost first.
pub fn eth_tagged(tags: &[(u16, u16)], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
    for (tpid, vid) in tags {
        v.extend_from_slice(&tpid.to_be_bytes());
        v.extend_from_slice(&vid.to_be_bytes());
    }
    v.extend_from_slice(&ethertype.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

pub fn pppoe(ppp_proto: u16, payload: &[u8]) -> Vec<u8> {
    let mut s = vec![0x11, 0x00, 0x12, 0x34];
    s.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(&ppp_proto.to_be_bytes());
    s.extend_from_slice(payload);
    eth(0x8864, &s)
}

pub fn null(family: u32, little_endian: bool, payload: &[u8]) -> Vec<u8> {
    let mut v = if little_endian {
        family.to_le_bytes().to_vec()
    } else {
        family.to_be_bytes().to_vec()
    };
    v.extend_from_slice(payload);
    v
}

pub fn sll(proto: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
    v.extend_from_slice(&proto.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

pub fn sll2(proto: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = proto.to_be_bytes().to_vec();
    v.extend_from_slice(&[0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
    v.extend_from_slice(payload);
    v
}

// ---------------------------------------------------------------- files

pub fn pcap_file(
    big_endian: bool,
    nanos: bool,
    linktype: u32,
    packets: &[(i64, Vec<u8>)],
) -> Vec<u8> {
    let w32 = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let w16 = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut f = Vec::new();
    f.extend_from_slice(&w32(if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 }));
    f.extend_from_slice(&w16(2));
    f.extend_from_slice(&w16(4));
    f.extend_from_slice(&w32(0));
    f.extend_from_slice(&w32(0));
    f.extend_from_slice(&w32(262_144));
    f.extend_from_slice(&w32(linktype));
    for (ts, data) in packets {
        let secs = ts.div_euclid(1_000_000_000) as u32;
        let ns = ts.rem_euclid(1_000_000_000) as u32;
        f.extend_from_slice(&w32(secs));
        f.extend_from_slice(&w32(if nanos { ns } else { ns / 1000 }));
        f.extend_from_slice(&w32(data.len() as u32));
        f.extend_from_slice(&w32(data.len() as u32));
        f.extend_from_slice(data);
    }
    f
}

/// A pcapng writer with explicit byte order.
pub struct Ng {
    pub big_endian: bool,
    pub out: Vec<u8>,
}

impl Ng {
    pub fn new(big_endian: bool) -> Self {
        let mut ng = Ng {
            big_endian,
            out: Vec::new(),
        };
        ng.shb();
        ng
    }
    pub fn w32(&self, v: u32) -> [u8; 4] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    pub fn w16(&self, v: u16) -> [u8; 2] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    pub fn block(&mut self, typ: u32, body: &[u8]) -> &mut Self {
        let mut body = body.to_vec();
        while body.len() % 4 != 0 {
            body.push(0);
        }
        let len = (body.len() + 12) as u32;
        let (t, l) = (self.w32(typ), self.w32(len));
        self.out.extend_from_slice(&t);
        self.out.extend_from_slice(&l);
        self.out.extend_from_slice(&body);
        self.out.extend_from_slice(&l);
        self
    }
    pub fn shb(&mut self) -> &mut Self {
        let mut b = self.w32(0x1a2b_3c4d).to_vec();
        b.extend_from_slice(&self.w16(1));
        b.extend_from_slice(&self.w16(0));
        b.extend_from_slice(&[0xff; 8]);
        // An option (shb_userappl) to be skipped.
        b.extend_from_slice(&self.w16(4));
        b.extend_from_slice(&self.w16(5));
        b.extend_from_slice(b"test\0\0\0\0");
        b.extend_from_slice(&[0, 0, 0, 0]);
        self.block(0x0A0D_0D0A, &b)
    }
    /// `tsresol`: option value byte, if any; `tsoffset`: seconds, if any.
    pub fn idb(&mut self, linktype: u16, tsresol: Option<u8>, tsoffset: Option<i64>) -> &mut Self {
        let mut b = self.w16(linktype).to_vec();
        b.extend_from_slice(&[0, 0]);
        b.extend_from_slice(&self.w32(0));
        if let Some(r) = tsresol {
            b.extend_from_slice(&self.w16(9));
            b.extend_from_slice(&self.w16(1));
            b.extend_from_slice(&[r, 0, 0, 0]);
        }
        if let Some(o) = tsoffset {
            b.extend_from_slice(&self.w16(14));
            b.extend_from_slice(&self.w16(8));
            let v = if self.big_endian {
                o.to_be_bytes()
            } else {
                o.to_le_bytes()
            };
            b.extend_from_slice(&v);
        }
        b.extend_from_slice(&[0, 0, 0, 0]);
        self.block(1, &b)
    }
    pub fn epb(&mut self, iface: u32, ts: u64, data: &[u8]) -> &mut Self {
        let mut b = self.w32(iface).to_vec();
        b.extend_from_slice(&self.w32((ts >> 32) as u32));
        b.extend_from_slice(&self.w32(ts as u32));
        b.extend_from_slice(&self.w32(data.len() as u32));
        b.extend_from_slice(&self.w32(data.len() as u32 + 10));
        b.extend_from_slice(data);
        while b.len() % 4 != 0 {
            b.push(0);
        }
        // epb_flags option, then end of options.
        b.extend_from_slice(&self.w16(2));
        b.extend_from_slice(&self.w16(4));
        b.extend_from_slice(&self.w32(1));
        b.extend_from_slice(&[0, 0, 0, 0]);
        self.block(6, &b)
    }
    pub fn spb(&mut self, data: &[u8]) -> &mut Self {
        let mut b = self.w32(data.len() as u32).to_vec();
        b.extend_from_slice(data);
        self.block(3, &b)
    }
    pub fn pb(&mut self, iface: u16, ts: u64, data: &[u8]) -> &mut Self {
        let mut b = self.w16(iface).to_vec();
        b.extend_from_slice(&self.w16(0));
        b.extend_from_slice(&self.w32((ts >> 32) as u32));
        b.extend_from_slice(&self.w32(ts as u32));
        b.extend_from_slice(&self.w32(data.len() as u32));
        b.extend_from_slice(&self.w32(data.len() as u32));
        b.extend_from_slice(data);
        self.block(2, &b)
    }
    pub fn new_section(&mut self, big_endian: bool) -> &mut Self {
        self.big_endian = big_endian;
        self.shb()
    }
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

// ---------------------------------------------------------------- running

/// Pushes `(ts, linktype, frame)` triples, flushes, and returns owned events.
pub fn run(cfg: Config, frames: &[(i64, u32, Vec<u8>)]) -> (Vec<Event<'static>>, Decoder) {
    let mut d = Decoder::new(cfg);
    let mut evs = Vec::new();
    for (ts, lt, f) in frames {
        d.push_frame(*ts, *lt, f, |e| evs.push(e.into_owned()));
    }
    d.flush(|e| evs.push(e.into_owned()));
    (evs, d)
}

pub fn assert_stats_invariant(d: &Decoder) {
    let s = d.stats();
    assert_eq!(
        s.packets + s.frag.reassembled,
        s.decoded + s.non_ip + s.icmp + s.other_ip_proto + s.malformed.total(),
        "{s:?}"
    );
}

pub fn pcaps_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/pcaps")
}

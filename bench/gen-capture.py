#!/usr/bin/env python3
"""Writes a classic pcap (Ethernet/IPv4/UDP) holding N SIP messages for benchmarks.

The traffic is the realistic mix of tests/vectors/mix (REGISTER with Authorization, 401,
INVITE with SDP, 200 OK) with Call-IDs, tags, branches, extensions and source addresses varied
per dialog, from a pool of phones and a few scanners. Deterministic for a given N and seed.

usage: gen-capture.py N OUT.pcap [--seed S] [--sources K]
Addresses are documentation/benchmark ranges (198.18.0.0/15); nothing is ever sent anywhere.
"""
import argparse, os, random, struct

MIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "vectors", "mix")

def load(name):
    with open(os.path.join(MIX, name), "rb") as f:
        return f.read()

def ip_checksum(h):
    s = sum(struct.unpack("!10H", h))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return (~s) & 0xFFFF

def frame(src, sport, dst, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0, src, dst)
    iph = iph[:10] + struct.pack("!H", ip_checksum(iph)) + iph[12:]
    eth = b"\x02\x00\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x02" + b"\x08\x00"
    return eth + iph + udp

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sources", type=int, default=20000)
    ap.add_argument("--distinct", action="store_true", help="every dialog from a new source (spoofed flood)")
    ap.add_argument("--only-options", action="store_true", help="only OPTIONS requests, one per source (flood)")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    reg, r401, inv, ok = load("register_auth.sip"), load("401.sip"), load("invite_sdp.sip"), load("200_register.sip")
    pbx = bytes([198, 18, 0, 1])
    ts = 1_700_000_000.0
    with open(a.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        written = 0
        dialog = 0
        while written < a.n:
            dialog += 1
            k = rnd.randrange(a.sources) if not a.distinct else dialog - 1
            if a.sources <= 65536:
                src = bytes([198, 19, (k >> 8) & 0xFF, k & 0xFF])
            else:
                # Large source pools (spoofed-flood benchmarks) use 100.64.0.0/10: 4 M addresses.
                # They only ever exist inside the file.
                v = (100 << 24) | (64 << 16) | (k & 0x3FFFFF)
                src = v.to_bytes(4, "big")
            sport = 5060 + (k % 7)
            ext = str(1000 + k).encode()
            nonce = b"%032x" % rnd.getrandbits(128)
            resp = b"%032x" % rnd.getrandbits(128)
            cid = b"%016x" % rnd.getrandbits(64)
            tag = b"%08x" % rnd.getrandbits(32)
            branch = b"z9hG4bK-%012x" % rnd.getrandbits(48)
            def sub(m):
                return (m.replace(b"NzQ5ZDJmMzc1ZDE0ZmQ0YjY0MmI0YjE0YzA0ZTc5ZmE", cid)
                         .replace(b"MmQ4YjE3ZDc0ZWU1NDFlMjk3YjI5NTdjNzE4ZTY0OGU", cid)
                         .replace(b"3f9a2b71", tag).replace(b"9c1d2e3f", tag)
                         .replace(b"z9hG4bK-524287-1---7f2a1c", branch)
                         .replace(b"z9hG4bK-524287-1---a91b2c3d", branch)
                         .replace(b'"101"', b'"' + ext + b'"').replace(b"sip:101@", b"sip:" + ext + b"@")
                         .replace(b'username="101"', b'username="' + ext + b'"')
                         .replace(b"414d535c1b2c3d4e5f60718293a4b5c6", nonce).replace(b"414d535c1b2c3d4e5f60718293a4b5c7", nonce)
                         .replace(b"5f2c8d9e0a1b3c4d5e6f708192a3b4c5", resp).replace(b"0a1b2c3d4e5f60718293a4b5c6d7e8f9", resp))
            def benign_invite(m):
                # First INVITE of a call: no credentials yet, plain RTP (no SDES keys over UDP).
                lines = [l for l in m.split(b"\r\n") if not l.startswith(b"Authorization:")]
                m = b"\r\n".join(lines)
                head, _, body = m.partition(b"\r\n\r\n")
                body = b"".join(l + b"\r\n" for l in body.split(b"\r\n") if l and not l.startswith(b"a=crypto"))
                body = body.replace(b"RTP/SAVP", b"RTP/AVP")
                head = b"\r\n".join(l if not l.startswith(b"Content-Length:") else b"Content-Length: %d" % len(body) for l in head.split(b"\r\n"))
                return head + b"\r\n\r\n" + body
            if a.only_options:
                opt = (b"OPTIONS sip:100@pbx.example.com SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.9;branch=" + branch +
                       b"\r\nFrom: <sip:100@pbx.example.com>;tag=" + tag + b"\r\nTo: <sip:100@pbx.example.com>\r\nCall-ID: " + cid +
                       b"\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nUser-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n")
                seq = [(True, opt)]
            elif dialog % 4 == 0:
                challenge = (sub(r401).replace(b"CSeq: 1 REGISTER", b"CSeq: 2 INVITE")
                             .replace(b"401 Unauthorized", b"407 Proxy Authentication Required")
                             .replace(b"WWW-Authenticate", b"Proxy-Authenticate"))
                seq = [(True, benign_invite(sub(inv))), (False, challenge)]
            else:
                # A real client: first REGISTER without credentials, challenged, then with them.
                first = b"\r\n".join(l for l in sub(reg).split(b"\r\n") if not l.startswith(b"Authorization:"))
                seq = [(True, first), (False, sub(r401)), (True, sub(reg).replace(b"CSeq: 2", b"CSeq: 3")), (False, sub(ok).replace(b"CSeq: 2", b"CSeq: 3"))]
            for to_pbx, msg in seq:
                if written >= a.n:
                    break
                ts += 0.0005 + rnd.random() * 0.001
                pkt = frame(src, sport, pbx, 5060, msg) if to_pbx else frame(pbx, 5060, src, sport, msg)
                sec = int(ts)
                f.write(struct.pack("<IIII", sec, int((ts - sec) * 1e6), len(pkt), len(pkt)))
                f.write(pkt)
                written += 1

if __name__ == "__main__":
    main()

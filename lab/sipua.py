#!/usr/bin/env python3
"""Minimal SIP user agent (UDP, stdlib only) for the sipsentry attack lab.

Why this exists: the lab wants real call traffic (INVITE / 407 / ACK / 100 /
180 / 200 / ACK / BYE / 200) from legitimate users, but sipsak 0.9.8.1's
invite mode (`sipsak -U -I`) segfaults before sending the INVITE (NULL reply
buffer in its request builder; same bug family as upstream
nils-ohlmeier/sipsak#97).  Registrations are still done with sipsak; this
script only places and answers calls.

Two roles:

  uas   answer calls: 180 Ringing, then 200 OK with SDP; 200 to BYE.
        sipua.py uas --bind 127.0.0.31:5061 --user 1001 --duration 40

  call  place calls through the proxy, answering the 407 proxy challenge
        with digest auth (qop=auth if offered), then ACK, hold, BYE.
        sipua.py call --bind 127.0.0.32:5062 --user 1002 --password PW \
            --proxy 127.0.0.20:5060 --to 1001 --calls 2 --hold 2

Everything is bounded: socket timeouts, a hard deadline per role, and a
loopback-only check on every address (lab network rule).  No RTP is sent.
"""
import argparse
import hashlib
import ipaddress
import random
import re
import socket
import sys
import time

UA = "sipsentry-lab-ua/1.0"


# Documentation ranges (RFC 5737) are never routed: the watch tests give them to network
# namespaces they create themselves, so they are as contained as loopback.
TEST_NETS = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]


def contained(ip) -> bool:
    return ip.is_loopback or any(ip in n for n in TEST_NETS)


def hostport(s: str, default_port: int = 5060):
    host, _, port = s.partition(":")
    if not contained(ipaddress.ip_address(host)):
        sys.exit(f"refusing non-loopback address {host}")
    return host, int(port) if port else default_port


def rnd(n: int = 8) -> str:
    return "%0*x" % (n, random.getrandbits(4 * n))


class Msg:
    """A parsed SIP message: first line, ordered headers, body."""

    def __init__(self, raw: bytes):
        text = raw.decode("utf-8", "replace")
        head, _, self.body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.first = lines[0]
        self.headers = []  # (name, value) in order
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                self.headers.append((name.strip(), value.strip()))
        parts = self.first.split(" ", 2)
        self.is_response = parts[0] == "SIP/2.0"
        self.code = int(parts[1]) if self.is_response else 0
        self.method = None if self.is_response else parts[0]
        self.ruri = None if self.is_response else parts[1]

    COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id", "m": "contact", "l": "content-length"}

    def all(self, name: str):
        name = name.lower()
        out = []
        for n, v in self.headers:
            n = self.COMPACT.get(n.lower(), n.lower())
            if n == name:
                out.append(v)
        return out

    def get(self, name: str, default: str = "") -> str:
        vals = self.all(name)
        return vals[0] if vals else default

    def cseq(self):
        num, _, method = self.get("cseq").partition(" ")
        return int(num), method.strip()


def uri_of(header_value: str) -> str:
    m = re.search(r"<([^>]+)>", header_value)
    return m.group(1) if m else header_value.split(";")[0].strip()


def uri_hostport(uri: str):
    m = re.match(r"sips?:(?:[^@]+@)?([^;:>]+)(?::(\d+))?", uri)
    if not m:
        raise ValueError(f"bad uri {uri}")
    return hostport(m.group(1) + (":" + m.group(2) if m.group(2) else ""))


def sdp(ip: str, port: int) -> str:
    sess = str(random.randint(1000, 9999))
    return (
        "v=0\r\n"
        f"o=- {sess} {sess} IN IP4 {ip}\r\n"
        "s=sipsentry-lab\r\n"
        f"c=IN IP4 {ip}\r\n"
        "t=0 0\r\n"
        f"m=audio {port} RTP/AVP 0 8 101\r\n"
        "a=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:8 PCMA/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n"
        "a=sendrecv\r\n"
    )


def build(first: str, headers, body: str = "") -> bytes:
    out = first + "\r\n"
    for n, v in headers:
        out += f"{n}: {v}\r\n"
    out += f"Content-Length: {len(body.encode())}\r\n\r\n{body}"
    return out.encode()


# ---------------------------------------------------------------- UAS role


def run_uas(a) -> int:
    ip, port = hostport(a.bind)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((ip, port))
    sock.settimeout(0.5)
    deadline = time.monotonic() + a.duration
    totags = {}  # call-id -> our to-tag
    answered = 0
    print(f"uas {a.user} listening on {ip}:{port} for {a.duration}s", flush=True)
    while time.monotonic() < deadline:
        try:
            raw, src = sock.recvfrom(65535)
        except socket.timeout:
            continue
        m = Msg(raw)
        if m.is_response:
            continue

        def reply(code: int, reason: str, extra=(), body: str = ""):
            hdrs = [("Via", v) for v in m.all("via")]
            to = m.get("to")
            if code > 100 and ";tag=" not in to:
                to += ";tag=" + totags.setdefault(m.get("call-id"), rnd())
            hdrs += [("From", m.get("from")), ("To", to), ("Call-ID", m.get("call-id")),
                     ("CSeq", m.get("cseq"))]
            hdrs += list(extra)
            hdrs.append(("Server", UA))
            sock.sendto(build(f"SIP/2.0 {code} {reason}", hdrs, body), src)

        if m.method == "INVITE":
            rr = [("Record-Route", v) for v in m.all("record-route")]
            contact = [("Contact", f"<sip:{a.user}@{ip}:{port}>")]
            reply(180, "Ringing", rr + contact)
            time.sleep(a.ring)
            reply(200, "OK", rr + contact + [("Content-Type", "application/sdp")],
                  sdp(ip, 41000 + 2 * answered))
            answered += 1
            print(f"uas answered call {m.get('call-id')} from {src[0]}", flush=True)
        elif m.method == "ACK":
            pass
        elif m.method in ("BYE", "CANCEL", "OPTIONS"):
            reply(200, "OK")
        else:
            reply(405, "Method Not Allowed", [("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS")])
    print(f"uas done, answered {answered} call(s)", flush=True)
    return 0


# ---------------------------------------------------------------- UAC role


def digest(user, password, method, uri, chal: str, nc: int):
    """RFC 2617 digest answer for a WWW-/Proxy-Authenticate challenge."""
    params = dict(re.findall(r'(\w+)="?([^",]*)"?', chal))
    realm, nonce = params["realm"], params["nonce"]
    md5 = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
    ha1 = md5(f"{user}:{realm}:{password}")
    ha2 = md5(f"{method}:{uri}")
    out = f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", algorithm=MD5'
    if "auth" in params.get("qop", "").split(","):
        cnonce, ncs = rnd(16), f"{nc:08x}"
        resp = md5(f"{ha1}:{nonce}:{ncs}:{cnonce}:auth:{ha2}")
        out += f', qop=auth, nc={ncs}, cnonce="{cnonce}"'
    else:
        resp = md5(f"{ha1}:{nonce}:{ha2}")
    out += f', response="{resp}"'
    if "opaque" in params:
        out += f', opaque="{params["opaque"]}"'
    return out


class Uac:
    def __init__(self, a):
        self.a = a
        self.ip, self.port = hostport(a.bind)
        self.proxy = hostport(a.proxy)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((self.ip, self.port))
        self.sock.settimeout(0.5)
        self.nc = 0

    def via(self, branch):
        return ("Via", f"SIP/2.0/UDP {self.ip}:{self.port};branch={branch};rport")

    def wait_final(self, callid, cseq, timeout=8.0):
        """Wait for the final response to (callid, cseq); bounded."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                raw, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            m = Msg(raw)
            if m.is_response and m.get("call-id") == callid and m.cseq()[0] == cseq and m.code >= 200:
                return m
        raise TimeoutError(f"no final response for {callid} cseq {cseq}")

    def call(self, n: int) -> bool:
        a, dom = self.a, self.proxy[0]
        ruri = f"sip:{a.to}@{dom}"
        callid = f"{rnd(16)}@{self.ip}"
        fromh = f'"{a.user}" <sip:{a.user}@{dom}>;tag={rnd()}'
        toh = f"<sip:{a.to}@{dom}>"
        body = sdp(self.ip, 40000 + 2 * n)
        cseq, auth = 1, None
        for _attempt in range(2):  # plain INVITE, then at most one authenticated retry
            branch = "z9hG4bK" + rnd(12)
            hdrs = [self.via(branch), ("Max-Forwards", "70"), ("From", fromh), ("To", toh),
                    ("Call-ID", callid), ("CSeq", f"{cseq} INVITE"),
                    ("Contact", f"<sip:{a.user}@{self.ip}:{self.port}>"), ("User-Agent", UA),
                    ("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS")]
            if auth:
                hdrs.append(auth)
            hdrs.append(("Content-Type", "application/sdp"))
            self.sock.sendto(build(f"INVITE {ruri} SIP/2.0", hdrs, body), self.proxy)
            r = self.wait_final(callid, cseq)
            if r.code in (401, 407):
                # ACK the negative final response (same branch, hop-by-hop)
                self.sock.sendto(build(f"ACK {ruri} SIP/2.0", [
                    self.via(branch), ("Max-Forwards", "70"), ("From", fromh), ("To", r.get("to")),
                    ("Call-ID", callid), ("CSeq", f"{cseq} ACK"), ("User-Agent", UA)]), self.proxy)
                if auth:
                    print(f"call {n}: rejected again ({r.first})", flush=True)
                    return False
                hname = "Proxy-Authenticate" if r.code == 407 else "WWW-Authenticate"
                self.nc += 1
                auth = ("Proxy-Authorization" if r.code == 407 else "Authorization",
                        digest(a.user, a.password, "INVITE", ruri, r.get(hname), self.nc))
                cseq += 1
                continue
            if r.code != 200:
                # ACK the failure and give up on this call
                self.sock.sendto(build(f"ACK {ruri} SIP/2.0", [
                    self.via(branch), ("Max-Forwards", "70"), ("From", fromh), ("To", r.get("to")),
                    ("Call-ID", callid), ("CSeq", f"{cseq} ACK"), ("User-Agent", UA)]), self.proxy)
                print(f"call {n}: failed ({r.first})", flush=True)
                return False
            break
        else:
            return False

        # 200 OK: dialog established.  Route set = reversed Record-Route.
        routes = []
        for v in r.all("record-route"):
            routes += [x.strip() for x in v.split(",")]
        routes.reverse()
        target = uri_of(r.get("contact"))
        nexthop = uri_hostport(uri_of(routes[0])) if routes else uri_hostport(target)
        dlg = [("Max-Forwards", "70"), ("From", fromh), ("To", r.get("to")), ("Call-ID", callid)]
        dlg += [("Route", x) for x in routes]
        self.sock.sendto(build(f"ACK {target} SIP/2.0",
                               [self.via("z9hG4bK" + rnd(12))] + dlg +
                               [("CSeq", f"{cseq} ACK"), ("User-Agent", UA)]), nexthop)
        print(f"call {n}: answered, holding {a.hold}s", flush=True)
        time.sleep(a.hold)
        cseq += 1
        self.sock.sendto(build(f"BYE {target} SIP/2.0",
                               [self.via("z9hG4bK" + rnd(12))] + dlg +
                               [("CSeq", f"{cseq} BYE"), ("User-Agent", UA)]), nexthop)
        r = self.wait_final(callid, cseq)
        print(f"call {n}: BYE -> {r.code}", flush=True)
        return r.code == 200


def run_call(a) -> int:
    uac = Uac(a)
    ok = 0
    for n in range(a.calls):
        try:
            ok += uac.call(n)
        except TimeoutError as e:
            print(f"call {n}: {e}", flush=True)
        time.sleep(a.gap)
    print(f"calls completed: {ok}/{a.calls}", flush=True)
    return 0 if ok == a.calls else 1


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="role", required=True)
    u = sub.add_parser("uas")
    u.add_argument("--bind", required=True)
    u.add_argument("--user", required=True)
    u.add_argument("--duration", type=float, default=30, help="seconds to stay up (max 120)")
    u.add_argument("--ring", type=float, default=0.5, help="seconds between 180 and 200")
    c = sub.add_parser("call")
    c.add_argument("--bind", required=True)
    c.add_argument("--user", required=True)
    c.add_argument("--password", required=True)
    c.add_argument("--proxy", required=True)
    c.add_argument("--to", required=True)
    c.add_argument("--calls", type=int, default=2)
    c.add_argument("--hold", type=float, default=2)
    c.add_argument("--gap", type=float, default=1)
    a = p.parse_args()
    if a.role == "uas":
        a.duration = min(a.duration, 120)
        return run_uas(a)
    a.calls = max(0, min(a.calls, 10))
    return run_call(a)


if __name__ == "__main__":
    sys.exit(main())

//! SIP ALG detection: `sipsentry reflector` (outside) echoes what it received; `sipsentry
//! alg-check` (inside) sends an INVITE with its own addresses in Via, Contact and SDP, and diffs
//! what left with what arrived.
//!
//! A router's SIP ALG rewrites those fields (badly, often), breaking registrations and one-way
//! audio; the only reliable way to see it is to compare both ends. The reflector answers every
//! request with `200 OK` carrying the exact received bytes as a `message/sip` body plus the
//! source address it saw (`X-Reflector-Source`), so the client also learns whether NAT is in
//! the path. Both sides are built from sans-IO pieces ([`reflect_response`], [`diff`]) with a
//! thin tokio loop around them.

use std::net::SocketAddr;
use std::time::Duration;

use sipsentry_report::Finding;
use sipsentry_sip::{HeaderName, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

use crate::checks::finding;
use crate::driver::{self, InvitePolicy, Job};
use crate::msg::{token, Transport};
use crate::{Config, ScanError};

/// Largest request the reflector echoes.
pub const MAX_REFLECT: usize = 16 * 1024;

/// Header the client pads its request with, and the reflector leaves out of the echo, so that
/// a UDP answer is never larger than the request that caused it (the source of a datagram can
/// be spoofed: a reflector that answers bigger than it was asked is a DDoS amplifier).
pub const PAD_HEADER: &str = "X-Reflector-Pad";

/// Padding the client adds: covers the answer's own headers (status line, copied
/// Via/From/To/Call-ID/CSeq, Contact, X-Reflector-Source, Server, Content-*) while keeping the
/// INVITE inside one 1500-byte Ethernet frame.
const PAD_LEN: usize = 640;

/// `received` without [`PAD_HEADER`] lines (head only; the body is echoed untouched).
fn strip_pad(received: &[u8]) -> Vec<u8> {
    let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") else {
        return received.to_vec();
    };
    let mut out = Vec::with_capacity(received.len());
    for line in received[..end + 2].split_inclusive(|&b| b == b'\n') {
        let is_pad = line.len() > PAD_HEADER.len()
            && line[..PAD_HEADER.len()].eq_ignore_ascii_case(PAD_HEADER.as_bytes())
            && line[PAD_HEADER.len()..]
                .trim_ascii_start()
                .starts_with(b":");
        if !is_pad {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(&received[end + 2..]);
    out
}

/// The reflector's answer to `received` from `source`: `200 OK` (or nothing for ACK and for
/// anything that is not a SIP request). Over UDP there is no answer at all when it would be
/// larger than `received` (see [`PAD_HEADER`]): no amplification for a spoofed source.
pub fn reflect_response(
    received: &[u8],
    source: SocketAddr,
    local: SocketAddr,
    transport: Transport,
) -> Option<Vec<u8>> {
    if received.len() > MAX_REFLECT {
        return None;
    }
    let m = Message::parse(received);
    if !m.is_request() {
        return None;
    }
    let method = m.method()?;
    if method.as_bytes() == b"ACK" {
        return None;
    }
    let echo = strip_pad(received);
    let mut out = Vec::with_capacity(received.len() + 512);
    out.extend_from_slice(b"SIP/2.0 200 OK\r\n");
    for h in m.headers_named(HeaderName::Via) {
        out.extend_from_slice(b"Via: ");
        out.extend_from_slice(h.value);
        out.extend_from_slice(b"\r\n");
    }
    for (name, hn) in [
        ("From", HeaderName::From),
        ("Call-ID", HeaderName::CallId),
        ("CSeq", HeaderName::CSeq),
    ] {
        let v = m.header_value(hn)?;
        out.extend_from_slice(format!("{name}: ").as_bytes());
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    let to = m.header_value(HeaderName::To)?;
    out.extend_from_slice(b"To: ");
    out.extend_from_slice(to);
    if !to.windows(4).any(|w| w.eq_ignore_ascii_case(b"tag=")) {
        out.extend_from_slice(format!(";tag=refl{}", token(8)).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    let bare_end = out.len();
    out.extend_from_slice(
        format!(
            "Contact: <sip:reflector@{local};transport={}>\r\nX-Reflector-Source: {source}\r\n\
             Server: sipsentry-reflector\r\nContent-Type: message/sip\r\nContent-Length: {}\r\n\r\n",
            transport.as_str(),
            echo.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&echo);
    if transport == Transport::Udp && out.len() > received.len() {
        // An unpadded request (the BYE that hangs up, a stranger's probe): a bare 200 OK
        // still ends the client's transaction, when it is no larger than the request.
        out.truncate(bare_end);
        out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
        if out.len() > received.len() {
            return None;
        }
    }
    Some(out)
}

/// TCP connections the reflector serves at once; more are closed at once. Unbounded, a
/// stranger could hold open every file descriptor the process has.
pub const MAX_TCP_CONNECTIONS: usize = 32;

/// Longest life of one TCP connection to the reflector.
const TCP_LIFETIME: Duration = Duration::from_secs(30);

/// Serve UDP and TCP on `bind` until `max` requests were answered (`None`: forever). It runs
/// on the internet: socket errors (a descriptor limit reached, a reset) never end it.
pub async fn reflector(bind: SocketAddr, max: Option<usize>) -> Result<(), ScanError> {
    let udp = UdpSocket::bind(bind).await.map_err(ScanError::Io)?;
    let tcp = TcpListener::bind(bind).await.map_err(ScanError::Io)?;
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_TCP_CONNECTIONS));
    let mut served = 0usize;
    let mut buf = vec![0u8; 65_536];
    loop {
        if max.is_some_and(|m| served >= m) {
            return Ok(());
        }
        tokio::select! {
            r = udp.recv_from(&mut buf) => {
                let Ok((n, src)) = r else { continue };
                if let Some(resp) = reflect_response(&buf[..n], src, bind, Transport::Udp) {
                    let _ = udp.send_to(&resp, src).await;
                    served += 1;
                }
            }
            r = tcp.accept() => {
                let Ok((mut s, src)) = r else {
                    // EMFILE/ENFILE and friends: back off instead of spinning or exiting.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                let Ok(permit) = slots.clone().try_acquire_owned() else {
                    drop(s);
                    continue;
                };
                served += 1;
                tokio::spawn(async move {
                    let _permit = permit;
                    let _ = tokio::time::timeout(TCP_LIFETIME, async move {
                        let mut framer = sipsentry_sip::StreamFramer::new(sipsentry_sip::Limits::default());
                        let mut b = [0u8; 8192];
                        for _ in 0..64 {
                            let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(10), s.read(&mut b)).await else { return };
                            if n == 0 { return; }
                            framer.push(&b[..n]);
                            while let Some(ev) = framer.next_event() {
                                if let sipsentry_sip::FrameEvent::Message(m) = ev {
                                    if let Some(resp) = reflect_response(&m, src, bind, Transport::Tcp) {
                                        if s.write_all(&resp).await.is_err() { return; }
                                    }
                                }
                            }
                        }
                    })
                    .await;
                });
            }
        }
    }
}

fn header_lines<'a>(m: &Message<'a>, hn: HeaderName) -> Vec<String> {
    m.headers_named(hn)
        .map(|h| String::from_utf8_lossy(h.value).into_owned())
        .collect()
}

fn sdp_lines(body: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(body)
        .lines()
        .filter(|l| l.starts_with("c=") || l.starts_with("o=") || l.starts_with("m="))
        .map(str::to_string)
        .collect()
}

/// Field-by-field differences between the request we sent and what the reflector received.
pub fn diff(sent: &[u8], received: &[u8]) -> Vec<String> {
    let a = Message::parse(sent);
    let b = Message::parse(received);
    let mut out = Vec::new();
    let ra = a
        .request_uri_raw()
        .map(|u| String::from_utf8_lossy(u).into_owned());
    let rb = b
        .request_uri_raw()
        .map(|u| String::from_utf8_lossy(u).into_owned());
    if ra != rb {
        out.push(format!("Request-URI: sent {ra:?}, received {rb:?}"));
    }
    for (name, hn) in [
        ("Via", HeaderName::Via),
        ("Contact", HeaderName::Contact),
        ("From", HeaderName::From),
        ("To", HeaderName::To),
        ("Max-Forwards", HeaderName::MaxForwards),
        ("Content-Length", HeaderName::ContentLength),
    ] {
        let (x, y) = (header_lines(&a, hn), header_lines(&b, hn));
        if x != y {
            out.push(format!("{name}: sent {x:?}, received {y:?}"));
        }
    }
    let (x, y) = (sdp_lines(a.body()), sdp_lines(b.body()));
    if x != y {
        for (l, r) in x.iter().zip(y.iter()).filter(|(l, r)| l != r) {
            out.push(format!("SDP: sent {l:?}, received {r:?}"));
        }
        if x.len() != y.len() {
            out.push(format!(
                "SDP: {} c=/o=/m= lines sent, {} received",
                x.len(),
                y.len()
            ));
        }
    }
    if a.body().len() != b.body().len() {
        out.push(format!(
            "body length: sent {}, received {}",
            a.body().len(),
            b.body().len()
        ));
    }
    out
}

/// Outcome of one alg-check run over one transport.
#[derive(Debug, Default)]
pub struct AlgReport {
    /// Differences per transport.
    pub differences: Vec<(Transport, Vec<String>)>,
    /// Source address the reflector saw, per transport (NAT detection).
    pub seen_as: Vec<(Transport, String)>,
    /// Transports that got no answer.
    pub unanswered: Vec<Transport>,
    /// Findings (NET-SIP-ALG).
    pub findings: Vec<Finding>,
}

/// Send an INVITE through whatever sits between us and `reflector` over `transports`.
pub async fn alg_check(
    reflector: SocketAddr,
    transports: &[Transport],
    config: &Config,
) -> Result<AlgReport, ScanError> {
    let mut rep = AlgReport::default();
    for &t in transports {
        let mut s = match driver::connect(
            t,
            reflector,
            config.bind,
            config.timers,
            config.connect_timeout,
        )
        .await
        {
            Ok(s) => s,
            Err(_) => {
                rep.unanswered.push(t);
                continue;
            }
        };
        let local = s.local();
        let mut r = s.request(
            "INVITE",
            &format!("sip:reflector@{reflector}"),
            &config.user_agent,
        );
        r.from = format!("sip:alg-check@{}", local.ip());
        let ipv = if local.is_ipv4() { "IP4" } else { "IP6" };
        let sdp = format!(
            "v=0\r\no=alg 1 1 IN {ipv} {ip}\r\ns=alg-check\r\nc=IN {ipv} {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
            ip = local.ip(),
            port = 40_000
        );
        r.body = Some(("application/sdp".into(), sdp.into_bytes()));
        r.headers.push((PAD_HEADER.into(), "x".repeat(PAD_LEN)));
        let sent = r.encode();
        let o = s
            .one(Job {
                request: r,
                policy: InvitePolicy::Cancel {
                    min_status: 180,
                    after: Duration::from_secs(1),
                },
            })
            .await?;
        let Some(resp) = o.final_response.filter(|f| f.status == 200) else {
            rep.unanswered.push(t);
            continue;
        };
        let m = resp.message();
        if let Some(src) = m.header_raw(b"X-Reflector-Source") {
            rep.seen_as
                .push((t, String::from_utf8_lossy(src.value).into_owned()));
        }
        let d = diff(&sent, m.body());
        if !d.is_empty() {
            rep.differences.push((t, d));
        }
    }
    if !rep.differences.is_empty() {
        let mut ev = Vec::new();
        for (t, d) in &rep.differences {
            for line in d.iter().take(12) {
                ev.push(format!("{}: {line}", t.as_str()));
            }
        }
        rep.findings
            .push(finding("NET-SIP-ALG", &format!("path to {reflector}"), ev));
    }
    Ok(rep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflector_echoes_and_diff_spots_rewrites() {
        let req = b"INVITE sip:r@198.51.100.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK-1\r\n\
From: <sip:a@192.168.1.20>;tag=1\r\nTo: <sip:r@198.51.100.2>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\
Contact: <sip:a@192.168.1.20:5060>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\nContent-Length: 24\r\n\r\n\
c=IN IP4 192.168.1.20\r\n";
        let src: SocketAddr = "203.0.113.9:40000".parse().unwrap();
        let resp = reflect_response(
            req,
            src,
            "198.51.100.2:5060".parse().unwrap(),
            Transport::Tcp,
        )
        .unwrap();
        let m = Message::parse(&resp);
        assert_eq!(m.status(), Some(200));
        assert_eq!(m.body(), &req[..]);
        assert!(m.header_raw(b"X-Reflector-Source").is_some());
        assert!(diff(req, m.body()).is_empty());
        let rewritten = String::from_utf8_lossy(req)
            .replace("192.168.1.20", "203.0.113.9")
            .replace("Content-Length: 24", "Content-Length: 23");
        let d = diff(req, rewritten.as_bytes());
        assert!(d.iter().any(|l| l.starts_with("Via:")));
        assert!(d.iter().any(|l| l.starts_with("Contact:")));
        assert!(d.iter().any(|l| l.starts_with("SDP:")));
        assert!(reflect_response(b"SIP/2.0 200 OK\r\n\r\n", src, src, Transport::Udp).is_none());
    }
}

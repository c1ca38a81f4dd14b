//! Management planes next to the PBX: 3CX web console and setup wizard, Asterisk AMI and HTTP,
//! FreeSWITCH event socket (ESL).
//!
//! Each probe reads what the service volunteers (HTTP title, Server header and favicon; the AMI
//! and ESL greeting banners) and classifies it. The only credential tried is FreeSWITCH's
//! published default ESL password, `ClueCon`, once. Favicons are hashed the way Shodan does
//! (MurmurHash3 x86/32 of the base64 text with a newline every 76 characters) and the hash is
//! given as evidence so it can be looked up; no table of vendor favicon hashes is shipped
//! because none could be sourced.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use sipsentry_report::{Finding, Severity};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::checks::{finding, ServiceInfo};
use crate::driver;
use crate::{Config, Port};

/// Result of the management checks.
#[derive(Debug, Default)]
pub struct MgmtReport {
    /// Ports.
    pub services: Vec<ServiceInfo>,
    /// Findings.
    pub findings: Vec<Finding>,
}

/// Largest HTTP response read.
const MAX_HTTP: usize = 256 * 1024;

/// MurmurHash3 x86 32-bit (the `mmh3.hash` Shodan uses), as a signed integer.
pub fn murmur3_32(data: &[u8], seed: u32) -> i32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mut h = seed;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = chunks.remainder();
    let mut k: u32 = 0;
    for (i, b) in tail.iter().enumerate() {
        k ^= u32::from(*b) << (8 * i);
    }
    if !tail.is_empty() {
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
    }
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h as i32
}

/// Shodan's `http.favicon.hash`: mmh3 of Python's `base64.encodebytes` (76-column lines).
pub fn favicon_hash(icon: &[u8]) -> i32 {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(icon);
    let mut text = Vec::with_capacity(b64.len() + b64.len() / 76 + 1);
    for line in b64.as_bytes().chunks(76) {
        text.extend_from_slice(line);
        text.push(b'\n');
    }
    murmur3_32(&text, 0)
}

/// A parsed HTTP response (headers lower-cased names).
#[derive(Debug, Default, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body (de-chunked).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// First header value by (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `<title>` text, trimmed and capped.
    pub fn title(&self) -> Option<String> {
        let body = String::from_utf8_lossy(&self.body[..self.body.len().min(MAX_HTTP)]);
        let lower = body.to_ascii_lowercase();
        let start = lower.find("<title")?;
        let open_end = lower[start..].find('>')? + start + 1;
        let end = lower[open_end..].find("</title")? + open_end;
        let t: String = body[open_end..end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        Some(t.chars().take(120).collect())
    }
}

/// Parse raw HTTP/1.x response bytes.
pub fn parse_http(raw: &[u8]) -> Option<HttpResponse> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut parts = status_line.splitn(3, ' ');
    if !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    let status: u16 = parts.next()?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .take(100)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| {
            (
                n.trim().to_ascii_lowercase(),
                v.trim().chars().take(300).collect(),
            )
        })
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Some(HttpResponse {
        status,
        headers,
        body,
    })
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..10_000 {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            break;
        };
        let size_txt = String::from_utf8_lossy(&b[..eol]);
        let Ok(size) = usize::from_str_radix(size_txt.split(';').next().unwrap_or("").trim(), 16)
        else {
            break;
        };
        if size == 0 {
            break;
        }
        let start = eol + 2;
        // The size is the server's word: saturate, a hostile one may say usize::MAX.
        let end = start.saturating_add(size).min(b.len());
        out.extend_from_slice(b.get(start..end).unwrap_or(&[]));
        b = b.get(end.saturating_add(2).min(b.len())..).unwrap_or(&[]);
    }
    out
}

async fn read_all<S: AsyncRead + Unpin>(s: &mut S, max: usize, deadline: Duration) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let until = tokio::time::Instant::now() + deadline;
    while buf.len() < max {
        match tokio::time::timeout_at(until, s.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => break,
        }
    }
    buf.truncate(max);
    buf
}

async fn http_exchange<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    host: &str,
    path: &str,
    ua: &str,
    wait: Duration,
) -> Option<HttpResponse> {
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {ua}\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.ok()?;
    let raw = read_all(s, MAX_HTTP, wait).await;
    parse_http(&raw)
}

/// One HTTP(S) GET (certificates are not verified: we are looking at the service, not trusting
/// it).
pub async fn http_get(
    addr: SocketAddr,
    tls: bool,
    path: &str,
    config: &Config,
) -> Option<HttpResponse> {
    let tcp = driver::tcp_connect(addr, config.bind, config.connect_timeout)
        .await
        .ok()?;
    let host = match addr.ip() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    };
    let wait = config.connect_timeout * 2;
    if tls {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = Arc::new(crate::tls::Recorder::new(provider.clone()));
        let cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .ok()?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
        let mut s = tokio::time::timeout(
            wait,
            tokio_rustls::TlsConnector::from(Arc::new(cfg)).connect(name, tcp),
        )
        .await
        .ok()?
        .ok()?;
        http_exchange(&mut s, &host, path, &config.user_agent, wait).await
    } else {
        let mut s = tcp;
        http_exchange(&mut s, &host, path, &config.user_agent, wait).await
    }
}

/// Read the greeting a line-oriented management service sends on connect.
async fn banner(
    addr: SocketAddr,
    config: &Config,
) -> Result<(tokio::net::TcpStream, String), &'static str> {
    let mut s = match driver::tcp_connect(addr, config.bind, config.connect_timeout).await {
        Ok(s) => s,
        Err(crate::ScanError::Connect(_, std::io::ErrorKind::ConnectionRefused)) => {
            return Err("closed")
        }
        Err(_) => return Err("filtered"),
    };
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    let until = tokio::time::Instant::now() + config.connect_timeout;
    while buf.len() < 4096 && !buf.windows(2).any(|w| w == b"\n\n") && !buf.ends_with(b"\r\n") {
        match tokio::time::timeout_at(until, s.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            _ => break,
        }
    }
    Ok((s, String::from_utf8_lossy(&buf).into_owned()))
}

fn svc(kind: &str, addr: SocketAddr, state: &str, detail: Option<String>) -> ServiceInfo {
    ServiceInfo {
        transport: kind.into(),
        addr: addr.to_string(),
        state: state.into(),
        detail,
    }
}

/// Check the management ports of the profile.
pub async fn check_ports(ip: IpAddr, ports: &[Port], config: &Config) -> MgmtReport {
    let mut rep = MgmtReport::default();
    for p in ports {
        match *p {
            Port::Http { port, tls } => {
                let addr = SocketAddr::new(ip, port);
                let kind = if tls { "https" } else { "http" };
                let Some(resp) = http_get(addr, tls, "/", config).await else {
                    let state = match driver::tcp_connect(addr, config.bind, config.connect_timeout)
                        .await
                    {
                        Ok(_) => "open",
                        Err(crate::ScanError::Connect(
                            _,
                            std::io::ErrorKind::ConnectionRefused,
                        )) => "closed",
                        Err(_) => "filtered",
                    };
                    rep.services.push(svc(kind, addr, state, None));
                    continue;
                };
                let title = resp.title().unwrap_or_default();
                let server = resp.header("server").unwrap_or("").to_string();
                let icon = http_get(addr, tls, "/favicon.ico", config)
                    .await
                    .filter(|r| r.status == 200 && !r.body.is_empty())
                    .map(|r| favicon_hash(&r.body));
                let mut ev = vec![format!(
                    "GET / -> {} title {:?} server {:?}",
                    resp.status, title, server
                )];
                if let Some(h) = icon {
                    ev.push(format!("favicon mmh3 hash {h} (Shodan http.favicon.hash)"));
                }
                let body = String::from_utf8_lossy(&resp.body[..resp.body.len().min(64 * 1024)])
                    .to_ascii_lowercase();
                let t = title.to_ascii_lowercase();
                let what = if t.contains("3cx")
                    || body.contains("3cx phone system")
                    || body.contains("3cxphonesystem")
                {
                    if port == 5015 || t.contains("wizard") || body.contains("setup wizard") {
                        Some("3CX setup wizard (must be closed after installation)")
                    } else {
                        Some("3CX management console / web client")
                    }
                } else if server.to_ascii_lowercase().contains("asterisk") {
                    Some("Asterisk HTTP server (ARI/AJAM)")
                } else if server.to_ascii_lowercase().contains("freeswitch") {
                    Some("FreeSWITCH HTTP (mod_xml_rpc/verto)")
                } else {
                    None
                };
                rep.services.push(svc(
                    kind,
                    addr,
                    "open",
                    Some(format!("{} {}", resp.status, title)),
                ));
                if let Some(what) = what {
                    let mut f = finding("MGMT-EXPOSED", &format!("{kind}:{addr}"), ev);
                    f.title = format!("{what} reachable from this vantage point");
                    rep.findings.push(f);
                }
            }
            Port::Ami(port) => {
                let addr = SocketAddr::new(ip, port);
                match banner(addr, config).await {
                    Ok((_s, b)) if b.starts_with("Asterisk Call Manager/") => {
                        let line = b
                            .lines()
                            .next()
                            .unwrap_or("")
                            .chars()
                            .take(80)
                            .collect::<String>();
                        rep.services
                            .push(svc("ami", addr, "open", Some(line.clone())));
                        let mut f = finding(
                            "MGMT-EXPOSED",
                            &format!("ami:{addr}"),
                            vec![format!("banner: {line}")],
                        );
                        f.title =
                            "Asterisk Manager Interface (AMI) reachable from this vantage point"
                                .into();
                        rep.findings.push(f);
                    }
                    Ok((_s, b)) => rep.services.push(svc(
                        "ami",
                        addr,
                        "open",
                        Some(b.chars().take(60).collect()),
                    )),
                    Err(state) => rep.services.push(svc("ami", addr, state, None)),
                }
            }
            Port::Esl(port) => {
                let addr = SocketAddr::new(ip, port);
                match banner(addr, config).await {
                    Ok((mut s, b)) if b.contains("auth/request") => {
                        rep.services.push(svc(
                            "esl",
                            addr,
                            "open",
                            Some("Content-Type: auth/request".into()),
                        ));
                        let mut f = finding(
                            "MGMT-EXPOSED",
                            &format!("esl:{addr}"),
                            vec!["greeting: Content-Type: auth/request".into()],
                        );
                        f.title = "FreeSWITCH event socket (ESL) reachable from this vantage point"
                            .into();
                        rep.findings.push(f);
                        // The published default password, tried once.
                        if s.write_all(b"auth ClueCon\n\n").await.is_ok() {
                            let reply = read_all(&mut s, 4096, config.connect_timeout).await;
                            let reply = String::from_utf8_lossy(&reply);
                            if reply.contains("+OK accepted") {
                                let _ = s.write_all(b"exit\n\n").await;
                                let mut f = finding(
                                    "MGMT-DEFAULT-CREDENTIAL",
                                    &format!("esl:{addr}"),
                                    vec!["`auth <default password>` answered `Reply-Text: +OK accepted` (password redacted: it is the FreeSWITCH default)".into()],
                                );
                                f.severity = Severity::Critical;
                                rep.findings.push(f);
                            }
                        }
                    }
                    Ok((_s, b)) => rep.services.push(svc(
                        "esl",
                        addr,
                        "open",
                        Some(b.chars().take(60).collect()),
                    )),
                    Err(state) => rep.services.push(svc("esl", addr, state, None)),
                }
            }
            Port::Sip(..) => {}
        }
    }
    rep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur3_matches_the_mmh3_reference() {
        // mmh3.hash("foo") == -156908512 (the example in the mmh3 documentation).
        assert_eq!(murmur3_32(b"foo", 0), -156_908_512);
        assert_eq!(murmur3_32(b"", 0), 0);
    }

    #[test]
    fn http_parsing() {
        let r = parse_http(b"HTTP/1.1 200 OK\r\nServer: Asterisk/16.2.0\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n<titl\r\n1b\r\ne>3CX Phone System</title>\r\n0\r\n\r\n").unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("server"), Some("Asterisk/16.2.0"));
        assert_eq!(r.title().as_deref(), Some("3CX Phone System"));
        assert!(parse_http(b"garbage").is_none());
    }
}

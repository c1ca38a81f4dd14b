//! TLS checks for SIP over TLS (RFC 3261 §26.2, RFC 5922).
//!
//! * Legacy protocols and weak ciphers are probed with hand-built ClientHellos ([`client_hello`]):
//!   rustls refuses to offer SSLv3/TLS 1.0/1.1 or RC4/3DES/NULL/EXPORT, and that refusal is
//!   exactly what we need to test on the server side. Only the ServerHello is read; the
//!   handshake is then abandoned.
//! * The certificate is fetched with a real rustls handshake whose verifier *records* the chain
//!   instead of rejecting it ([`Recorder`]); it still checks the handshake signatures, so what we
//!   record is what the server proved it holds the key for. The chain is then judged separately:
//!   self-signed or not chaining to `--ca-file`, validity dates, and the RFC 5922 name rules.
//! * An OPTIONS is sent inside the TLS session to fingerprint what sits behind it.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sipsentry_report::{Finding, Severity};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::checks::{finding, ServiceInfo};
use crate::driver::{self, Job, Session};
use crate::msg::Transport;
use crate::Config;

/// Result of the TLS checks.
#[derive(Debug, Default)]
pub struct TlsReport {
    /// Ports.
    pub services: Vec<ServiceInfo>,
    /// Findings.
    pub findings: Vec<Finding>,
    /// Notes.
    pub notes: Vec<String>,
}

/// TLS protocol versions we probe with raw ClientHellos.
pub const LEGACY: [(u16, &str); 3] = [(0x0300, "SSLv3"), (0x0301, "TLS 1.0"), (0x0302, "TLS 1.1")];

/// Cipher suites offered with a legacy protocol: what old servers commonly accept (CBC with
/// RSA, ECDHE-RSA, ECDHE-ECDSA and DHE key exchange, plus 3DES).
const LEGACY_SUITES: &[u16] = &[
    0xc013, 0xc014, 0xc009, 0xc00a, 0x0033, 0x0039, 0x002f, 0x0035, 0x000a,
];

/// Weak suites (offered alone, at TLS 1.2, to see whether the server picks one).
pub const WEAK_SUITES: &[(u16, &str)] = &[
    (0x0001, "TLS_RSA_WITH_NULL_MD5"),
    (0x0002, "TLS_RSA_WITH_NULL_SHA"),
    (0x003b, "TLS_RSA_WITH_NULL_SHA256"),
    (0xc006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA"),
    (0xc010, "TLS_ECDHE_RSA_WITH_NULL_SHA"),
    (0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5"),
    (0x0006, "TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5"),
    (0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA"),
    (0x0004, "TLS_RSA_WITH_RC4_128_MD5"),
    (0x0005, "TLS_RSA_WITH_RC4_128_SHA"),
    (0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA"),
    (0xc007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"),
    (0x0009, "TLS_RSA_WITH_DES_CBC_SHA"),
    (0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0xc008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA"),
    (0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA"),
];

/// A ClientHello record offering `version` and `suites`, with SNI when `sni` is a DNS name,
/// and the EC extensions ECDHE suites need.
pub fn client_hello(version: u16, suites: &[u16], sni: Option<&str>, random: [u8; 32]) -> Vec<u8> {
    let mut body = Vec::with_capacity(256);
    body.extend_from_slice(&version.to_be_bytes());
    body.extend_from_slice(&random);
    body.push(0); // no session id
    let suites_len = (suites.len() * 2 + 2) as u16; // + SCSV-free renegotiation marker
    body.extend_from_slice(&suites_len.to_be_bytes());
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&0x00ffu16.to_be_bytes()); // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
    body.extend_from_slice(&[1, 0]); // compression: null
    let mut ext = Vec::new();
    if let Some(name) = sni.filter(|n| n.parse::<IpAddr>().is_err() && n.len() < 256) {
        let n = name.as_bytes();
        ext.extend_from_slice(&0u16.to_be_bytes());
        ext.extend_from_slice(&((n.len() + 5) as u16).to_be_bytes());
        ext.extend_from_slice(&((n.len() + 3) as u16).to_be_bytes());
        ext.push(0);
        ext.extend_from_slice(&(n.len() as u16).to_be_bytes());
        ext.extend_from_slice(n);
    }
    // supported_groups: x25519, secp256r1, secp384r1
    ext.extend_from_slice(&[
        0x00, 0x0a, 0x00, 0x08, 0x00, 0x06, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18,
    ]);
    // ec_point_formats: uncompressed
    ext.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    if version >= 0x0303 {
        // signature_algorithms (TLS 1.2): ecdsa/rsa with sha256/384/1, rsa-pss.
        let algs: [u16; 8] = [
            0x0403, 0x0503, 0x0401, 0x0501, 0x0804, 0x0805, 0x0201, 0x0203,
        ];
        ext.extend_from_slice(&0x000du16.to_be_bytes());
        ext.extend_from_slice(&((algs.len() * 2 + 2) as u16).to_be_bytes());
        ext.extend_from_slice(&((algs.len() * 2) as u16).to_be_bytes());
        for a in algs {
            ext.extend_from_slice(&a.to_be_bytes());
        }
    }
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);

    let mut hs = vec![1u8]; // client_hello
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    // Record layer version: 0x0301 for TLS, 0x0300 for SSLv3 (what real clients send).
    let rec_version: u16 = if version == 0x0300 { 0x0300 } else { 0x0301 };
    let mut rec = vec![22u8];
    rec.extend_from_slice(&rec_version.to_be_bytes());
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

/// What the server answered to a raw ClientHello.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelloAnswer {
    /// ServerHello with this version and cipher suite.
    ServerHello {
        /// Negotiated protocol version.
        version: u16,
        /// Chosen cipher suite.
        suite: u16,
    },
    /// A TLS alert (level, description).
    Alert(u8, u8),
    /// Closed, timed out or garbage.
    Nothing,
}

/// Parse the start of a server's answer (first record only).
pub fn parse_answer(buf: &[u8]) -> HelloAnswer {
    if buf.len() < 7 {
        return HelloAnswer::Nothing;
    }
    match buf[0] {
        21 => HelloAnswer::Alert(buf[5], buf[6]),
        22 if buf.len() > 5 + 4 + 2 + 32 && buf[5] == 2 => {
            let version = u16::from_be_bytes([buf[9], buf[10]]);
            let sid_len = usize::from(buf[5 + 4 + 2 + 32]);
            let at = 5 + 4 + 2 + 32 + 1 + sid_len;
            match buf.get(at..at + 2) {
                Some(s) => HelloAnswer::ServerHello {
                    version,
                    suite: u16::from_be_bytes([s[0], s[1]]),
                },
                None => HelloAnswer::Nothing,
            }
        }
        _ => HelloAnswer::Nothing,
    }
}

/// Send one raw ClientHello and read the first record of the answer.
pub async fn probe_hello(
    addr: SocketAddr,
    config: &Config,
    version: u16,
    suites: &[u16],
    sni: Option<&str>,
) -> HelloAnswer {
    let Ok(mut s) = driver::tcp_connect(addr, config.bind, config.connect_timeout).await else {
        return HelloAnswer::Nothing;
    };
    let mut random = [0u8; 32];
    rand::Rng::fill(&mut rand::thread_rng(), &mut random[..]);
    if s.write_all(&client_hello(version, suites, sni, random))
        .await
        .is_err()
    {
        return HelloAnswer::Nothing;
    }
    let mut buf = vec![0u8; 4096];
    let mut have = 0usize;
    let deadline =
        tokio::time::Instant::now() + config.connect_timeout.max(Duration::from_millis(500));
    while have < 64 {
        match tokio::time::timeout_at(deadline, s.read(&mut buf[have..])).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => {
                have += n;
                if buf[0] == 21 && have >= 7 {
                    break;
                }
            }
        }
    }
    parse_answer(&buf[..have])
}

/// Records the server's chain instead of judging it (handshake signatures are still checked).
#[derive(Debug)]
pub struct Recorder {
    provider: Arc<rustls::crypto::CryptoProvider>,
    chain: Mutex<Vec<CertificateDer<'static>>>,
}

impl Recorder {
    /// A recorder using `provider` for handshake signatures.
    pub fn new(provider: Arc<rustls::crypto::CryptoProvider>) -> Self {
        Recorder {
            provider,
            chain: Mutex::new(Vec::new()),
        }
    }

    fn chain(&self) -> Vec<CertificateDer<'static>> {
        self.chain.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut c) = self.chain.lock() {
            c.clear();
            c.push(end_entity.clone().into_owned());
            c.extend(intermediates.iter().take(8).map(|i| i.clone().into_owned()));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// What the certificate checks concluded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertVerdict {
    /// Subject as text.
    pub subject: String,
    /// Issuer as text.
    pub issuer: String,
    /// Subject == issuer.
    pub self_signed: bool,
    /// `Some(false)` when a CA file was given and the chain does not lead to it.
    pub trusted: Option<bool>,
    /// Seconds until expiry (negative: expired).
    pub expires_in: i64,
    /// Seconds until valid (positive: not yet valid).
    pub valid_in: i64,
    /// Names the certificate presents (SAN URI/DNS/IP, or CN without SANs).
    pub names: Vec<String>,
    /// Whether the SIP domain matches per RFC 5922.
    pub name_ok: bool,
}

/// RFC 5922 §7.2: the SIP domain must equal (case-insensitively) the host of a SAN URI with
/// scheme sip/sips, or a SAN dNSName, or — only when there are no SANs of those kinds — the CN.
/// Wildcards never match a SIP domain (§7.2: "MUST NOT" accept them). IP literals match
/// iPAddress SANs.
pub fn analyse_cert(der: &[u8], domain: &str, now_unix: i64) -> Option<CertVerdict> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let mut v = CertVerdict {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
        expires_in: cert.validity().not_after.timestamp() - now_unix,
        valid_in: cert.validity().not_before.timestamp() - now_unix,
        ..CertVerdict::default()
    };
    let domain_l = domain.trim_matches(['[', ']']).to_ascii_lowercase();
    let domain_ip: Option<IpAddr> = domain_l.parse().ok();
    let mut have_san = false;
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for g in san.value.general_names.iter().take(64) {
            match g {
                x509_parser::extensions::GeneralName::DNSName(d) => {
                    have_san = true;
                    v.names.push(format!("DNS:{d}"));
                    if domain_ip.is_none() && !d.contains('*') && d.eq_ignore_ascii_case(&domain_l)
                    {
                        v.name_ok = true;
                    }
                }
                x509_parser::extensions::GeneralName::URI(u) => {
                    have_san = true;
                    v.names.push(format!("URI:{u}"));
                    let lower = u.to_ascii_lowercase();
                    let host = lower
                        .strip_prefix("sip:")
                        .or_else(|| lower.strip_prefix("sips:"))
                        .map(|h| h.split([';', '?', ':']).next().unwrap_or(""));
                    if host.is_some_and(|h| !h.contains('@') && h == domain_l) {
                        v.name_ok = true;
                    }
                }
                x509_parser::extensions::GeneralName::IPAddress(b) => {
                    let ip = match b.len() {
                        4 => Some(IpAddr::from(<[u8; 4]>::try_from(*b).unwrap_or_default())),
                        16 => Some(IpAddr::from(<[u8; 16]>::try_from(*b).unwrap_or_default())),
                        _ => None,
                    };
                    if let Some(ip) = ip {
                        v.names.push(format!("IP:{ip}"));
                        if domain_ip == Some(ip) {
                            v.name_ok = true;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    if !have_san {
        for cn in cert.subject().iter_common_name() {
            if let Ok(cn) = cn.as_str() {
                v.names.push(format!("CN:{cn}"));
                if !cn.contains('*') && cn.eq_ignore_ascii_case(&domain_l) {
                    v.name_ok = true;
                }
            }
        }
    }
    Some(v)
}

/// A TLS session that records instead of verifying the certificate (for WSS and HTTPS probes:
/// we look at the service, we do not trust it; the certificate checks are made separately).
pub async fn connect_unverified(
    tcp: tokio::net::TcpStream,
    remote: SocketAddr,
    sni: Option<&str>,
    timeout: Duration,
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, crate::ScanError> {
    let verifier = Arc::new(Recorder::new(provider()));
    let cfg = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| crate::ScanError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let name = sni
        .and_then(|n| ServerName::try_from(n.to_string()).ok())
        .unwrap_or_else(|| ServerName::IpAddress(remote.ip().into()));
    match tokio::time::timeout(
        timeout * 2,
        tokio_rustls::TlsConnector::from(Arc::new(cfg)).connect(name, tcp),
    )
    .await
    {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(crate::ScanError::Tls(e.to_string())),
        Err(_) => Err(crate::ScanError::Tls("handshake timed out".into())),
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Does the chain lead to one of the PEM roots? (Name and dates are judged separately.)
fn chain_trusted(chain: &[CertificateDer<'static>], ca_pem: &[u8], domain: &str) -> bool {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem).flatten() {
        let _ = roots.add(c);
    }
    let Ok(verifier) =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
    else {
        return false;
    };
    let Some((ee, rest)) = chain.split_first() else {
        return false;
    };
    let name =
        ServerName::try_from(domain.trim_matches(['[', ']']).to_string()).unwrap_or_else(|_| {
            ServerName::try_from("invalid.invalid".to_string()).expect("static name")
        });
    match verifier.verify_server_cert(ee, rest, &name, &[], UnixTime::now()) {
        Ok(_) => true,
        Err(rustls::Error::InvalidCertificate(e)) => matches!(
            e,
            rustls::CertificateError::NotValidForName
                | rustls::CertificateError::NotValidForNameContext { .. }
                | rustls::CertificateError::Expired
                | rustls::CertificateError::ExpiredContext { .. }
                | rustls::CertificateError::NotValidYet
                | rustls::CertificateError::NotValidYetContext { .. }
        ),
        Err(_) => false,
    }
}

fn suite_name(s: u16) -> String {
    WEAK_SUITES
        .iter()
        .find(|(id, _)| *id == s)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| format!("0x{s:04x}"))
}

/// Run the TLS checks on `ports`. `sip_open`: plain SIP answered (for TLS-MISSING).
pub async fn check_ports(
    ports: &[SocketAddr],
    domain: &str,
    config: &Config,
    sip_open: bool,
) -> TlsReport {
    let mut rep = TlsReport::default();
    let mut any_tls = false;
    for &addr in ports {
        let label = format!("tls:{addr}");
        let tcp = match driver::tcp_connect(addr, config.bind, config.connect_timeout).await {
            Ok(s) => s,
            Err(e) => {
                let state = if matches!(
                    e,
                    crate::ScanError::Connect(_, std::io::ErrorKind::ConnectionRefused)
                ) {
                    "closed"
                } else {
                    "filtered"
                };
                rep.services.push(ServiceInfo {
                    transport: "tls".into(),
                    addr: addr.to_string(),
                    state: state.into(),
                    detail: None,
                });
                continue;
            }
        };
        let local = tcp.local_addr().ok();
        let recorder = Arc::new(Recorder::new(provider()));
        let cfg = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map(|b| {
                b.dangerous()
                    .with_custom_certificate_verifier(recorder.clone())
                    .with_no_client_auth()
            });
        let Ok(cfg) = cfg else {
            rep.notes
                .push("TLS: cannot build a client configuration".into());
            continue;
        };
        let sni = ServerName::try_from(domain.trim_matches(['[', ']']).to_string())
            .unwrap_or_else(|_| ServerName::IpAddress(addr.ip().into()));
        let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
        let stream =
            tokio::time::timeout(config.connect_timeout * 2, connector.connect(sni, tcp)).await;
        let stream = match stream {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                rep.services.push(ServiceInfo {
                    transport: "tls".into(),
                    addr: addr.to_string(),
                    state: "open".into(),
                    detail: Some(format!("TLS 1.2+ handshake failed: {e}")),
                });
                rep.notes.push(format!(
                    "{label}: no TLS 1.2/1.3 handshake ({e}); legacy probes still run"
                ));
                legacy_checks(&mut rep, addr, domain, config, &label).await;
                any_tls = true;
                continue;
            }
            Err(_) => {
                rep.services.push(ServiceInfo {
                    transport: "tls".into(),
                    addr: addr.to_string(),
                    state: "filtered".into(),
                    detail: Some("TLS handshake timed out".into()),
                });
                continue;
            }
        };
        any_tls = true;
        let (proto, suite) = {
            let (_, conn) = stream.get_ref();
            (
                conn.protocol_version()
                    .map(|v| format!("{v:?}"))
                    .unwrap_or_default(),
                conn.negotiated_cipher_suite()
                    .map(|s| format!("{:?}", s.suite()))
                    .unwrap_or_default(),
            )
        };
        let chain = recorder.chain();
        // OPTIONS inside the TLS session: what answers behind the TLS terminator?
        let mut detail = format!("{proto} {suite}");
        if let Some(local) = local {
            let mut session =
                Session::from_stream(Box::new(stream), local, addr, Transport::Tls, config.timers);
            let mut r = session.request("OPTIONS", &format!("sip:{domain}"), &config.user_agent);
            r.from = format!("sip:sipsentry@{domain}");
            if let Ok(o) = session.one(Job::plain(r)).await {
                if let Some(resp) = &o.final_response {
                    let fp = crate::fingerprint::fingerprint(&[resp]);
                    detail.push_str(&format!("; OPTIONS: {} {}", resp.status, resp.reason));
                    if let Some(b) = fp.banner {
                        detail.push_str(&format!("; banner: {b}"));
                    }
                    let mut f = finding(
                        "SIP-EXPOSED",
                        &label,
                        vec![format!(
                            "OPTIONS inside TLS answered: {} {}",
                            resp.status, resp.reason
                        )],
                    );
                    if config.must_be_closed {
                        f.severity = Severity::High;
                    }
                    rep.findings.push(f);
                }
            }
        }
        rep.services.push(ServiceInfo {
            transport: "tls".into(),
            addr: addr.to_string(),
            state: "open".into(),
            detail: Some(detail),
        });
        if let Some(ee) = chain.first() {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            if let Some(v) = analyse_cert(ee, domain, now) {
                cert_findings(&mut rep, &v, &chain, domain, config, &label);
            }
        } else {
            rep.notes
                .push(format!("{label}: the server sent no certificate"));
        }
        legacy_checks(&mut rep, addr, domain, config, &label).await;
    }
    if !any_tls && sip_open {
        let tried: Vec<String> = ports.iter().map(|p| p.to_string()).collect();
        rep.findings.push(finding(
            "TLS-MISSING",
            domain,
            vec![format!(
                "SIP answers in clear text, but no TLS listener answered on {}",
                if tried.is_empty() {
                    "any port (none configured)".to_string()
                } else {
                    tried.join(", ")
                }
            )],
        ));
    }
    rep
}

fn cert_findings(
    rep: &mut TlsReport,
    v: &CertVerdict,
    chain: &[CertificateDer<'static>],
    domain: &str,
    config: &Config,
    label: &str,
) {
    let trusted = config
        .ca_pem
        .as_deref()
        .map(|pem| chain_trusted(chain, pem, domain));
    let untrusted = trusted == Some(false) || (trusted.is_none() && v.self_signed);
    if untrusted {
        let mut ev = vec![
            format!("subject: {}", v.subject),
            format!("issuer: {}", v.issuer),
        ];
        if v.self_signed {
            ev.push("the certificate is self-signed (subject = issuer)".into());
        }
        if trusted == Some(false) {
            ev.push("the chain does not lead to the CA given with --ca-file".into());
        }
        rep.findings
            .push(finding("TLS-CERT-SELF-SIGNED", label, ev));
    }
    let days = |s: i64| s / 86_400;
    if v.expires_in < 0 {
        rep.findings.push(finding(
            "TLS-CERT-EXPIRED",
            label,
            vec![
                format!(
                    "certificate expired {} days ago",
                    days(-v.expires_in).max(0)
                ),
                format!("subject: {}", v.subject),
            ],
        ));
    } else if v.valid_in > 0 {
        rep.findings.push(finding(
            "TLS-CERT-EXPIRED",
            label,
            vec![
                format!(
                    "certificate not valid for another {} days",
                    days(v.valid_in)
                ),
                format!("subject: {}", v.subject),
            ],
        ));
    } else if v.expires_in < config.expiry_warn_days * 86_400 {
        let mut f = finding(
            "TLS-CERT-EXPIRED",
            label,
            vec![
                format!("certificate expires in {} days", days(v.expires_in)),
                format!("subject: {}", v.subject),
            ],
        );
        f.severity = Severity::Low;
        f.title = "TLS certificate expires soon".into();
        rep.findings.push(f);
    }
    if !v.name_ok {
        rep.findings.push(finding(
            "TLS-CERT-NAME-MISMATCH",
            label,
            vec![
                format!("SIP domain: {domain}"),
                format!("certificate names: {}", if v.names.is_empty() { "none".into() } else { v.names.join(", ") }),
                "RFC 5922 §7.2: match SAN URI sip:<domain> or dNSName exactly; wildcards never match".into(),
            ],
        ));
    }
}

async fn legacy_checks(
    rep: &mut TlsReport,
    addr: SocketAddr,
    domain: &str,
    config: &Config,
    label: &str,
) {
    let sni = Some(domain.trim_matches(['[', ']']));
    let mut accepted = Vec::new();
    for (ver, name) in LEGACY {
        if let HelloAnswer::ServerHello { version, suite } =
            probe_hello(addr, config, ver, LEGACY_SUITES, sni).await
        {
            if version <= 0x0302 {
                accepted.push(format!(
                    "{name} offered -> ServerHello version 0x{version:04x}, suite 0x{suite:04x}"
                ));
            }
        }
    }
    if !accepted.is_empty() {
        rep.findings
            .push(finding("TLS-LEGACY-PROTOCOL", label, accepted));
    }
    let weak: Vec<u16> = WEAK_SUITES.iter().map(|(s, _)| *s).collect();
    let mut picked = Vec::new();
    for ver in [0x0303u16, 0x0301] {
        if let HelloAnswer::ServerHello { version, suite } =
            probe_hello(addr, config, ver, &weak, sni).await
        {
            if weak.contains(&suite) {
                picked.push(format!(
                    "offered only weak suites at version 0x{ver:04x}: server chose {} (version 0x{version:04x})",
                    suite_name(suite)
                ));
                break;
            }
        }
    }
    if !picked.is_empty() {
        rep.findings.push(finding("TLS-WEAK-CIPHER", label, picked));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_hello_is_well_formed() {
        let h = client_hello(0x0301, &[0x002f], Some("pbx.example.com"), [7; 32]);
        assert_eq!(h[0], 22);
        let rec_len = usize::from(u16::from_be_bytes([h[3], h[4]]));
        assert_eq!(rec_len, h.len() - 5);
        assert_eq!(h[5], 1);
        let hs_len = (usize::from(h[6]) << 16) | (usize::from(h[7]) << 8) | usize::from(h[8]);
        assert_eq!(hs_len, rec_len - 4);
        assert_eq!(&h[9..11], &[0x03, 0x01]);
        assert!(h.windows(15).any(|w| w == b"pbx.example.com"));
    }

    #[test]
    fn answers_parse() {
        assert_eq!(
            parse_answer(&[21, 3, 1, 0, 2, 2, 70]),
            HelloAnswer::Alert(2, 70)
        );
        let mut sh = vec![22, 3, 1, 0, 50, 2, 0, 0, 46, 3, 1];
        sh.extend_from_slice(&[0; 32]);
        sh.push(0);
        sh.extend_from_slice(&[0xc0, 0x13, 0]);
        assert_eq!(
            parse_answer(&sh),
            HelloAnswer::ServerHello {
                version: 0x0301,
                suite: 0xc013
            }
        );
        assert_eq!(parse_answer(&[22, 3]), HelloAnswer::Nothing);
        assert_eq!(
            parse_answer(b"SIP/2.0 400 Bad Request\r\n"),
            HelloAnswer::Nothing
        );
    }
}

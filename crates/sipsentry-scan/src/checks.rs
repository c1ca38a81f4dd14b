//! The checks of `sipsentry scan`, each turning observations into findings.
//!
//! Order matters: the cheap, quiet checks run first, the burst that may get us blocked runs
//! last, and once the target stops answering (it blacklisted us: a good sign) the remaining SIP
//! checks are skipped rather than reported as failures.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use sipsentry_digest::{build_authorization, AuthorizationRequest, Challenge};
use sipsentry_report::{Finding, Severity};
use sipsentry_sip::HeaderName;

use crate::driver::{self, Batch, InvitePolicy, Job, Outcome, Pace, Session};
use crate::fingerprint::{fingerprint, Fingerprint};
use crate::msg::{token, Request, Response, Transport};
use crate::{Config, Port, ScanError, Secret};

/// Catalogue entry of a finding ID: title, hardening control, remediation.
pub struct Meta {
    /// Stable ID.
    pub id: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// Title.
    pub title: &'static str,
    /// Hardening control.
    pub control: &'static str,
    /// What to do.
    pub remediation: &'static str,
}

/// Every finding ID `scan` can emit (documented in docs/scan.md).
pub const CATALOGUE: &[Meta] = &[
    Meta { id: "SIP-EXPOSED", severity: Severity::Info, title: "SIP service answers from this vantage point",
        control: "Expose SIP only to the networks that need it (SBC/firewall allow-list, VPN for remote phones)",
        remediation: "Restrict the SIP port with a firewall allow-list of trunk providers and remote sites, or put it behind an SBC." },
    Meta { id: "INFO-VERSION-DISCLOSED", severity: Severity::Low, title: "SIP server announces its product and version",
        control: "Minimise banner information (Server/User-Agent headers)",
        remediation: "Hide or genericise the banner: Asterisk `useragent`/`sdpowner` (pjsip.conf `user_agent`), FreeSWITCH `user-agent-string`, Kamailio `server_signature=no` / `server_header`, OpenSIPS `server_signature=no`." },
    Meta { id: "VULN-KNOWN-CVE", severity: Severity::High, title: "Announced version is affected by a known CVE",
        control: "Patch management: run a supported, patched release",
        remediation: "Upgrade to a fixed release (listed in the evidence); if your distribution backports fixes, confirm the patch level and hide the version banner." },
    Meta { id: "SIP-ENUM-LEAK", severity: Severity::Medium, title: "PBX answers existing and non-existing extensions differently",
        control: "Uniform responses for unknown users (anti-enumeration)",
        remediation: "Answer every unauthenticated request with the same challenge: Asterisk `alwaysauthreject=yes` (chan_sip) / PJSIP ≥ 13 default, FreeSWITCH `log-auth-failures` + uniform 401/403, Kamailio: challenge before looking the user up; 3CX: enable the anti-hacking blacklist." },
    Meta { id: "SIP-UNAUTH-INVITE", severity: Severity::Critical, title: "Unauthenticated INVITE to an external number is accepted (toll fraud)",
        control: "Authenticate every call; no anonymous/guest calls to external destinations",
        remediation: "Require digest authentication for INVITE from untrusted sources; put anonymous inbound calls in a context that can only reach internal extensions (Asterisk `allowguest=no` / anonymous endpoint limited to DIDs, FreeSWITCH public context without outbound routes)." },
    Meta { id: "SIP-UNAUTH-REGISTER", severity: Severity::High, title: "REGISTER without credentials is accepted",
        control: "Authenticate every registration",
        remediation: "Require digest authentication for REGISTER (Asterisk PJSIP `auth=` on every endpoint; Kamailio `www_authorize`/`auth_check` before `save`)." },
    Meta { id: "SIP-WEAK-CREDENTIAL", severity: Severity::Critical, title: "Extension password is in a short list of guessable passwords",
        control: "Strong, unique SIP passwords; brute-force lockout",
        remediation: "Replace the password with a random one of at least 16 characters (3CX/FreePBX generate them), and block sources after a few failures (fail2ban, 3CX anti-hacking, Kamailio pike/htable)." },
    Meta { id: "SIP-DIGEST-WEAK", severity: Severity::Low, title: "Digest authentication is weaker than it could be",
        control: "Modern digest: qop=auth, one-time nonces, SHA-256 (RFC 8760)",
        remediation: "Offer qop=auth and SHA-256 challenges, and reject replayed nonces/nonce-counts (Kamailio `nonce_count`/`one_time_nonce`, Asterisk PJSIP default nonce lifetime)." },
    Meta { id: "SIP-NO-RATE-LIMIT", severity: Severity::Medium, title: "A burst of requests is answered in full (no throttling)",
        control: "Rate limiting and automatic blocking of scanners",
        remediation: "Rate-limit per source (Kamailio pike, Asterisk/FreeSWITCH + fail2ban, 3CX anti-hacking) so scanners and brute force are cut off." },
    Meta { id: "SIP-SCAN-BLOCKED", severity: Severity::Info, title: "The PBX stopped answering mid-scan (it blocked the scanner: good)",
        control: "Rate limiting and automatic blocking of scanners",
        remediation: "Nothing to fix: the remaining SIP checks were skipped. Re-run from an allow-listed address to complete them." },
    Meta { id: "TLS-MISSING", severity: Severity::Medium, title: "SIP is offered without TLS",
        control: "Encrypt signalling (SIP over TLS, RFC 3261 §26.2)",
        remediation: "Enable SIP over TLS (port 5061) with a CA-signed certificate for the SIP domain and move phones and trunks to it." },
    Meta { id: "TLS-LEGACY-PROTOCOL", severity: Severity::High, title: "TLS endpoint accepts an obsolete protocol version (SSLv3/TLS 1.0/1.1)",
        control: "TLS 1.2 or later only (RFC 8996)",
        remediation: "Set the minimum TLS version to 1.2 (Kamailio tls.cfg `method = TLSv1.2+`, Asterisk `method=tlsv1_2`, FreeSWITCH `tls-version=tlsv1.2`)." },
    Meta { id: "TLS-WEAK-CIPHER", severity: Severity::High, title: "TLS endpoint negotiates a weak cipher suite",
        control: "Strong cipher suites only (no NULL, EXPORT, RC4, DES/3DES)",
        remediation: "Restrict the cipher list to AEAD suites (e.g. `ECDHE+AESGCM:ECDHE+CHACHA20`)." },
    Meta { id: "TLS-CERT-SELF-SIGNED", severity: Severity::Medium, title: "TLS certificate is self-signed / not from a trusted CA",
        control: "Certificates from a trusted CA so phones can verify the server",
        remediation: "Install a certificate issued by a public or company CA for the SIP domain, and make phones verify it." },
    Meta { id: "TLS-CERT-EXPIRED", severity: Severity::High, title: "TLS certificate is expired, not yet valid, or about to expire",
        control: "Certificate lifecycle management",
        remediation: "Renew the certificate and automate renewal (ACME) with monitoring of the expiry date." },
    Meta { id: "TLS-CERT-NAME-MISMATCH", severity: Severity::Medium, title: "TLS certificate does not name the SIP domain (RFC 5922)",
        control: "Server identity per RFC 5922 (SAN URI sip:domain or dNSName, no wildcards)",
        remediation: "Issue the certificate with a subjectAltName for the SIP domain (dNSName and/or URI sip:<domain>)." },
    Meta { id: "SRTP-NOT-ENFORCED", severity: Severity::Medium, title: "Calls are accepted without SRTP (RTP/AVP-only offer accepted)",
        control: "Encrypt media (SRTP, RFC 3711) and refuse clear-text RTP offers",
        remediation: "Require SRTP on every endpoint (Asterisk PJSIP `media_encryption=sdes` or `dtls` with `media_encryption_optimistic=no`, FreeSWITCH `rtp_secure_media=mandatory`, 3CX: enforce SRTP on extensions) and answer RTP/AVP-only offers with 488." },
    Meta { id: "NET-PRIVATE-ADDRESS-LEAK", severity: Severity::Low, title: "Responses reveal private (internal) addresses",
        control: "Topology hiding at the network edge",
        remediation: "Configure the PBX's external address / NAT settings (Asterisk `external_media_address`/`external_signaling_address`, FreeSWITCH `ext-sip-ip`/`ext-rtp-ip`, 3CX public IP) or put an SBC with topology hiding in front; disable the router's SIP ALG." },
    Meta { id: "NET-SIP-ALG", severity: Severity::Medium, title: "A SIP ALG rewrites SIP on the path to the internet",
        control: "No SIP ALG on the edge router (let the PBX/SBC handle NAT)",
        remediation: "Disable the router's SIP ALG / SIP helper (e.g. `sip alg disable`, `no ip nat service sip`, remove nf_conntrack_sip) and configure NAT on the PBX or SBC instead." },
    Meta { id: "MGMT-EXPOSED", severity: Severity::High, title: "Management interface reachable from this vantage point",
        control: "Management planes only on an admin network/VPN",
        remediation: "Firewall the management port (3CX console / setup wizard, Asterisk AMI/ARI, FreeSWITCH ESL) to the admin network or bind it to localhost." },
    Meta { id: "MGMT-DEFAULT-CREDENTIAL", severity: Severity::Critical, title: "Management interface accepts the vendor's default password",
        control: "No default credentials",
        remediation: "Change the default password (FreeSWITCH event_socket.conf.xml `password`, default `ClueCon`), bind ESL to 127.0.0.1 and set an ACL." },
];

/// Look up a catalogue entry.
pub fn meta(id: &str) -> Option<&'static Meta> {
    CATALOGUE.iter().find(|m| m.id == id)
}

/// A finding from the catalogue with its default severity.
pub fn finding(id: &str, target: &str, evidence: Vec<String>) -> Finding {
    let m = meta(id).unwrap_or(&CATALOGUE[0]);
    Finding {
        id: m.id.to_string(),
        severity: m.severity,
        title: m.title.to_string(),
        target: target.to_string(),
        evidence,
        control: m.control.to_string(),
        remediation: m.remediation.to_string(),
    }
}

/// One port's state.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ServiceInfo {
    /// `udp`, `tcp`, `tls`, `http`, `https`, `ami`, `esl`.
    pub transport: String,
    /// Address.
    pub addr: String,
    /// `open` (answered), `closed` (refused), `filtered` (no answer).
    pub state: String,
    /// Banner or status seen.
    pub detail: Option<String>,
}

/// Everything found on one host.
#[derive(Debug, Default, serde::Serialize)]
pub struct HostReport {
    /// The host as given.
    pub target: String,
    /// Ports probed.
    pub services: Vec<ServiceInfo>,
    /// Findings.
    pub findings: Vec<Finding>,
    /// Product guess.
    pub fingerprint: Option<Fingerprint>,
    /// Extensions the enumeration found.
    pub extensions: Vec<String>,
    /// Weak credentials found (passwords never serialised).
    #[serde(skip)]
    pub weak_credentials: Vec<(String, Secret)>,
    /// Notes on what was skipped or inconclusive.
    pub notes: Vec<String>,
    /// The target blocked us mid-scan.
    pub blocked: bool,
    /// SIP requests sent (including retransmissions).
    pub packets_sent: u64,
}

/// Progress callback: (phase, done, total).
pub type Progress<'a> = &'a (dyn Fn(&str, usize, usize) + Sync);

fn no_progress(_: &str, _: usize, _: usize) {}

/// Discovery timers: a port that does not answer an OPTIONS in ~4 s is filtered (timer F's
/// 32 s is for transactions, not for port sweeps).
fn discovery_timers(c: &Config) -> crate::Timers {
    let mut t = c.timers;
    t.max_lifetime = (c.timers.t1 * 8).max(Duration::from_millis(200));
    t
}

/// Scan one host. `host` is an IP literal or a name (resolved once).
pub async fn scan_host(
    host: &str,
    config: &Config,
    progress: Option<Progress<'_>>,
) -> Result<HostReport, ScanError> {
    let progress: Progress<'_> = progress.unwrap_or(&no_progress);
    let ip: IpAddr = match host.trim_matches(['[', ']']).parse() {
        Ok(ip) => ip,
        Err(_) => tokio::net::lookup_host((host, 0))
            .await
            .map_err(|e| ScanError::Invalid(format!("cannot resolve {host:?}: {e}")))?
            .next()
            .ok_or_else(|| ScanError::Invalid(format!("{host:?} has no address")))?
            .ip(),
    };
    let domain = config.domain.clone().unwrap_or_else(|| match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    });
    let mut rep = HostReport {
        target: host.to_string(),
        ..HostReport::default()
    };
    let mut primary: Option<(Session, Response)> = None;
    let mut sip_open = false;
    let mut tls_ports = Vec::new();
    let mut seen: Vec<Response> = Vec::new();
    let total_ports = config.ports.len();
    for (i, port) in config.ports.iter().enumerate() {
        progress("ports", i, total_ports);
        match *port {
            Port::Sip(Transport::Tls, p) => tls_ports.push(SocketAddr::new(ip, p)),
            Port::Sip(t, p) => {
                let addr = SocketAddr::new(ip, p);
                let label = format!("{}:{addr}", t.as_str());
                let (state, resp, session) = discover(t, addr, &domain, config).await;
                rep.services.push(ServiceInfo {
                    transport: t.as_str().into(),
                    addr: addr.to_string(),
                    state: state.into(),
                    detail: resp.as_ref().map(|r| format!("{} {}", r.status, r.reason)),
                });
                if let (Some(r), Some(s)) = (resp, session) {
                    sip_open = true;
                    let mut f = finding(
                        "SIP-EXPOSED",
                        &label,
                        vec![format!("OPTIONS answered: {} {}", r.status, r.reason)],
                    );
                    if config.must_be_closed {
                        f.severity = Severity::High;
                    }
                    rep.findings.push(f);
                    seen.push(r.clone());
                    if primary.is_none() {
                        primary = Some((s, r));
                    } else if let Some(s) = Some(s) {
                        rep.packets_sent += s.packets_sent;
                    }
                }
            }
            _ => {}
        }
    }
    progress("ports", total_ports, total_ports);

    let mut primary_ctx = None;
    if let Some((mut session, options)) = primary {
        let label = format!("{}:{}", session.transport().as_str(), session.remote());
        let mut ctx = Ctx {
            config,
            domain: domain.clone(),
            label,
            rep: &mut rep,
            seen,
            progress,
        };
        // A transport failure mid-scan (connection reset, send refused) ends the SIP checks
        // but keeps what was found so far.
        if let Err(e) = ctx.sip_checks(&mut session, options).await {
            ctx.rep.notes.push(format!("SIP checks stopped early: {e}"));
        }
        primary_ctx = Some((session, ctx.label.clone()));
    }

    if config.checks.tls {
        progress("tls", 0, 1);
        let tls_rep = crate::tls::check_ports(&tls_ports, &domain, config, sip_open).await;
        rep.services.extend(tls_rep.services);
        rep.findings.extend(tls_rep.findings);
        rep.notes.extend(tls_rep.notes);
    }
    if config.checks.mgmt {
        progress("management", 0, 1);
        let m = crate::mgmt::check_ports(ip, &config.ports, config).await;
        rep.services.extend(m.services);
        rep.findings.extend(m.findings);
    }
    // The burst runs last: a PBX that throttles may block us for a while afterwards.
    if let Some((mut session, label)) = primary_ctx {
        if config.checks.rate_limit && !rep.blocked {
            let mut ctx = Ctx {
                config,
                domain: domain.clone(),
                label,
                rep: &mut rep,
                seen: Vec::new(),
                progress,
            };
            if let Err(e) = ctx.rate_limit(&mut session).await {
                ctx.rep
                    .notes
                    .push(format!("rate-limit burst stopped early: {e}"));
            }
        }
        rep.packets_sent += session.packets_sent;
    }
    sipsentry_report::sort(&mut rep.findings);
    Ok(rep)
}

/// OPTIONS on one port: ("open"|"closed"|"filtered", response, session).
async fn discover(
    t: Transport,
    addr: SocketAddr,
    domain: &str,
    config: &Config,
) -> (&'static str, Option<Response>, Option<Session>) {
    let session = driver::connect(
        t,
        addr,
        config.bind,
        discovery_timers(config),
        config.connect_timeout,
    )
    .await;
    let mut session = match session {
        Ok(s) => s,
        Err(ScanError::Connect(_, std::io::ErrorKind::ConnectionRefused)) => {
            return ("closed", None, None)
        }
        Err(_) => return ("filtered", None, None),
    };
    let req = options_request(&session, domain, config);
    match session.one(Job::plain(req)).await {
        Ok(o) => match o.final_response {
            Some(r) => {
                let mut s = session;
                s.set_timers(config.timers);
                ("open", Some(r), Some(s))
            }
            None if o.refused => ("closed", None, None),
            None => ("filtered", None, None),
        },
        Err(_) => ("filtered", None, None),
    }
}

fn options_request(s: &Session, domain: &str, config: &Config) -> Request {
    let mut r = s.request("OPTIONS", &format!("sip:{domain}"), &config.user_agent);
    r.from = format!("sip:sipsentry@{domain}");
    r.headers.push(("Accept".into(), "application/sdp".into()));
    r
}

struct Ctx<'a, 'r> {
    config: &'a Config,
    domain: String,
    label: String,
    rep: &'r mut HostReport,
    seen: Vec<Response>,
    progress: Progress<'a>,
}

/// What an enumeration compares: status, reason and the shape of the challenge.
pub fn signature(o: &Outcome) -> String {
    let Some(r) = o.final_response.as_ref() else {
        return if o.answered() {
            format!("{} (no final)", o.status().unwrap_or(0))
        } else {
            "no answer".into()
        };
    };
    let m = r.message();
    let auth = if m.header_value(HeaderName::WwwAuthenticate).is_some() {
        "www-auth"
    } else if m.header_value(HeaderName::ProxyAuthenticate).is_some() {
        "proxy-auth"
    } else {
        "no-auth"
    };
    let realm = crate::fingerprint::realm_of(r).unwrap_or_default();
    format!(
        "{} {} [{auth}{}{}]",
        r.status,
        r.reason.trim().to_ascii_lowercase(),
        if realm.is_empty() { "" } else { " realm=" },
        realm
    )
}

/// Built-in guesses for an extension: short, common, derived from the extension.
pub fn builtin_passwords(ext: &str) -> Vec<String> {
    let rev: String = ext.chars().rev().collect();
    let mut v = vec![
        ext.to_string(),
        "1234".into(),
        "0000".into(),
        rev,
        format!("{ext}{ext}"),
        "12345".into(),
        "123456".into(),
        "1111".into(),
        "password".into(),
        "admin".into(),
        format!("{ext}1234"),
        "secret".into(),
    ];
    let mut seen = std::collections::HashSet::new();
    v.retain(|p| seen.insert(p.clone()));
    v
}

fn sdp_offer(local: SocketAddr) -> Vec<u8> {
    let ip = local.ip();
    let fam = if ip.is_ipv4() { "IP4" } else { "IP6" };
    format!(
        "v=0\r\no=sipsentry 1 1 IN {fam} {ip}\r\ns=sipsentry probe\r\nc=IN {fam} {ip}\r\nt=0 0\r\n\
         m=audio 9 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=sendrecv\r\n"
    )
    .into_bytes()
}

impl Ctx<'_, '_> {
    fn uri(&self, user: &str) -> String {
        format!("sip:{user}@{}", self.domain)
    }

    /// A request for `user`, with From = To = the user (as a phone registering would).
    fn req(&self, s: &Session, method: &str, user: &str) -> Request {
        let mut r = s.request(method, &self.uri(user), &self.config.user_agent);
        if method == "REGISTER" {
            r.uri = format!("sip:{}", self.domain);
            r.headers.push(("Expires".into(), "0".into()));
        }
        if method == "SUBSCRIBE" {
            r.headers.push(("Event".into(), "presence".into()));
            r.headers
                .push(("Accept".into(), "application/pidf+xml".into()));
            r.headers.push(("Expires".into(), "0".into()));
        }
        if method == "INVITE" {
            r.body = Some(("application/sdp".into(), sdp_offer(s.local())));
        }
        r
    }

    fn job(&self, s: &Session, method: &str, user: &str) -> Job {
        let r = self.req(s, method, user);
        if method == "INVITE" {
            Job {
                request: r,
                policy: InvitePolicy::Cancel {
                    min_status: 100,
                    after: Duration::ZERO,
                },
            }
        } else {
            Job::plain(r)
        }
    }

    async fn batch(
        &mut self,
        s: &mut Session,
        phase: &str,
        jobs: Vec<Job>,
        pace: Pace,
    ) -> Result<Batch, ScanError> {
        let progress = self.progress;
        let b = s.run(jobs, pace, |d, t| progress(phase, d, t)).await?;
        for o in &b.outcomes {
            if let Some(r) = &o.final_response {
                if self.seen.len() < 64 {
                    self.seen.push(r.clone());
                }
            }
        }
        if b.silenced && !self.rep.blocked {
            self.rep.blocked = true;
            self.rep.findings.push(finding(
                "SIP-SCAN-BLOCKED",
                &self.label,
                vec![format!(
                    "after {} answered requests in phase {phase}, {} consecutive requests went unanswered",
                    b.outcomes.iter().filter(|o| o.answered()).count(),
                    self.config.pace.silence_after
                )],
            ));
            self.rep.notes.push(format!(
                "target stopped answering during {phase}; later SIP checks skipped"
            ));
        }
        Ok(b)
    }

    async fn sip_checks(&mut self, s: &mut Session, options: Response) -> Result<(), ScanError> {
        let checks = self.config.checks.clone();
        if checks.enumerate && !self.rep.blocked {
            self.enumerate(s).await?;
        }
        if checks.unauth_register && !self.rep.blocked {
            self.unauth_register(s).await?;
        }
        if checks.unauth_invite && !self.rep.blocked {
            self.unauth_invite(s).await?;
        }
        let mut creds: Vec<(String, Secret)> = self.config.auth.iter().cloned().collect();
        if self.config.auth_test && !self.rep.blocked {
            let found = self.weak_credentials(s).await?;
            creds.extend(found);
        }
        if !self.rep.blocked {
            self.digest_weak(s, creds.first()).await?;
        }
        if let Some(c) = creds.first() {
            if !self.rep.blocked {
                self.srtp(s, c).await?;
            }
        }
        self.private_leaks(&options);
        // Error-response shape: how the stack answers a method it does not know (Kamailio
        // configs typically 405, Asterisk 501 Not Implemented, FreeSWITCH 501 / 405 with its
        // own reason phrase). One harmless request.
        let mut error_shape = None;
        if !self.rep.blocked {
            let mut r = s.request(
                "SIPSENTRYPROBE",
                &format!("sip:{}", self.domain),
                &self.config.user_agent,
            );
            r.from = format!("sip:sipsentry@{}", self.domain);
            if let Some(resp) = s.one(Job::plain(r)).await?.final_response {
                error_shape = Some(format!(
                    "unknown method -> {} {}{}",
                    resp.status,
                    resp.reason.chars().take(60).collect::<String>(),
                    if resp.message().header_value(HeaderName::Allow).is_some() {
                        " (with Allow)"
                    } else {
                        ""
                    }
                ));
                self.seen.push(resp);
            }
        }
        // Fingerprint last: by now we have seen challenges and error responses too.
        let mut all: Vec<&Response> = vec![&options];
        all.extend(self.seen.iter());
        let mut fp = fingerprint(&all);
        if let Some(e) = error_shape {
            fp.clues.push(e);
        }
        self.version_findings(&fp);
        self.rep.fingerprint = Some(fp);
        Ok(())
    }

    fn version_findings(&mut self, fp: &Fingerprint) {
        if let (Some(banner), Some(v)) = (&fp.banner, &fp.version) {
            self.rep.findings.push(finding(
                "INFO-VERSION-DISCLOSED",
                &self.label,
                vec![
                    format!("banner: {banner}"),
                    format!(
                        "product {} version {v}",
                        fp.product.as_deref().unwrap_or("unknown")
                    ),
                ],
            ));
        }
        let (Some(c), Some(v)) = (fp.component(), fp.version.as_deref()) else {
            return;
        };
        for cve in sipsentry_cve::lookup(c, v) {
            let mut f = finding(
                "VULN-KNOWN-CVE",
                &self.label,
                vec![
                    format!("{} {} announced; {} affects it: {}", c.as_str(), v, cve.id, cve.summary),
                    format!("fixed in {}", cve.fixed.join(", ")),
                    format!("source: {} ({})", cve.source, cve.nvd_url()),
                    format!("table snapshot {}; distributions may backport fixes without changing the version", sipsentry_cve::SNAPSHOT),
                ],
            );
            f.title = format!("{} {v} is affected by {}", c.as_str(), cve.id);
            f.severity = match cve.severity {
                sipsentry_cve::Severity::Low => Severity::Low,
                sipsentry_cve::Severity::Medium => Severity::Medium,
                sipsentry_cve::Severity::High => Severity::High,
                sipsentry_cve::Severity::Critical => Severity::Critical,
            };
            self.rep.findings.push(f);
        }
    }

    async fn enumerate(&mut self, s: &mut Session) -> Result<(), ScanError> {
        let cfg = self.config;
        let k = cfg.baseline_samples.clamp(2, 10);
        let mut found_by: Vec<(String, String, Vec<String>)> = Vec::new(); // method, baseline, exts
        let mut found: std::collections::BTreeSet<String> = Default::default();
        for method in &cfg.enum_methods {
            if self.rep.blocked {
                break;
            }
            // Random users that cannot exist: 11 digits starting with 9, plus one alphabetic.
            let mut randoms: Vec<String> = (0..k - 1)
                .map(|_| {
                    format!(
                        "9{}",
                        &token(20)
                            .bytes()
                            .map(|b| char::from(b'0' + b % 10))
                            .collect::<String>()[..10]
                    )
                })
                .collect();
            randoms.push(format!("zz{}", token(8)));
            let jobs = randoms.iter().map(|u| self.job(s, method, u)).collect();
            let b = self
                .batch(s, &format!("baseline {method}"), jobs, cfg.pace)
                .await?;
            let sigs: Vec<String> = b.outcomes.iter().map(signature).collect();
            if sigs.iter().all(|x| x == "no answer") {
                self.rep.notes.push(format!(
                    "enumeration via {method}: no answer to random users; method skipped"
                ));
                continue;
            }
            if sigs.windows(2).any(|w| w[0] != w[1]) {
                self.rep.notes.push(format!(
                    "enumeration via {method}: random users answered inconsistently ({}), no reliable baseline",
                    sigs.join(" / ")
                ));
                continue;
            }
            let base = sigs[0].clone();
            let jobs: Vec<Job> = cfg
                .extensions
                .iter()
                .map(|e| self.job(s, method, e))
                .collect();
            let b = self
                .batch(s, &format!("enumerate {method}"), jobs, cfg.pace)
                .await?;
            let mut candidates: Vec<(&String, String)> = Vec::new();
            for (e, o) in cfg.extensions.iter().zip(&b.outcomes) {
                if b.silenced && !o.answered() {
                    continue;
                }
                let sig = signature(o);
                if sig != "no answer" && sig != base {
                    candidates.push((e, sig));
                }
            }
            // A PBX that starts throttling mid-sweep (503, 429, 403 from a blocker) answers
            // random users that way too: ask fresh random users again, and an answer they
            // also get says nothing about the extension.
            if !candidates.is_empty() && !self.rep.blocked {
                let again: Vec<String> = (0..k).map(|_| format!("zz{}", token(8))).collect();
                let jobs = again.iter().map(|u| self.job(s, method, u)).collect();
                let b = self
                    .batch(s, &format!("re-baseline {method}"), jobs, cfg.pace)
                    .await?;
                let post: std::collections::BTreeSet<String> =
                    b.outcomes.iter().map(signature).collect();
                let before = candidates.len();
                candidates.retain(|(_, sig)| !post.contains(sig));
                if candidates.len() < before {
                    self.rep.notes.push(format!(
                        "enumeration via {method}: {} answers were also given to random users afterwards ({}): throttling, not a leak",
                        before - candidates.len(),
                        post.iter().cloned().collect::<Vec<_>>().join(" / ")
                    ));
                }
            }
            let mut exts = Vec::new();
            for (e, sig) in candidates {
                exts.push(format!("{e} ({sig})"));
                found.insert(e.clone());
            }
            if !exts.is_empty() {
                found_by.push((method.clone(), base, exts));
            }
        }
        if !found.is_empty() {
            let mut ev = vec![format!(
                "{} of {} candidate extensions answered differently from {} random users",
                found.len(),
                cfg.extensions.len(),
                k
            )];
            for (m, base, exts) in &found_by {
                let shown: Vec<&str> = exts.iter().take(50).map(String::as_str).collect();
                ev.push(format!(
                    "{m}: random users -> {base}; different: {}{}",
                    shown.join(", "),
                    if exts.len() > 50 {
                        format!(" … (+{})", exts.len() - 50)
                    } else {
                        String::new()
                    }
                ));
            }
            ev.push(format!(
                "extensions found: {}",
                found
                    .iter()
                    .take(200)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(",")
            ));
            self.rep
                .findings
                .push(finding("SIP-ENUM-LEAK", &self.label, ev));
        }
        self.rep.extensions = found.into_iter().collect();
        Ok(())
    }

    async fn unauth_register(&mut self, s: &mut Session) -> Result<(), ScanError> {
        let mut users: Vec<String> = self.rep.extensions.iter().take(20).cloned().collect();
        users.extend(self.config.auth_extensions.iter().take(2).cloned());
        if users.is_empty() {
            users.push(
                self.config
                    .extensions
                    .first()
                    .cloned()
                    .unwrap_or_else(|| "100".into()),
            );
        }
        users.sort();
        users.dedup();
        let jobs: Vec<Job> = users
            .iter()
            .map(|u| Job::plain(self.req(s, "REGISTER", u)))
            .collect();
        let b = self
            .batch(s, "unauth REGISTER", jobs, self.config.pace)
            .await?;
        let accepted: Vec<String> = users
            .iter()
            .zip(&b.outcomes)
            .filter(|(_, o)| {
                o.final_response
                    .as_ref()
                    .is_some_and(|r| (200..300).contains(&r.status))
            })
            .map(|(u, o)| {
                let r = o
                    .final_response
                    .as_ref()
                    .map(|r| format!("{} {}", r.status, r.reason))
                    .unwrap_or_default();
                format!("REGISTER for {u} without credentials -> {r}")
            })
            .collect();
        if !accepted.is_empty() {
            self.rep
                .findings
                .push(finding("SIP-UNAUTH-REGISTER", &self.label, accepted));
        }
        Ok(())
    }

    async fn unauth_invite(&mut self, s: &mut Session) -> Result<(), ScanError> {
        let number = self.config.invite_number.clone();
        let mut r = self.req(s, "INVITE", &number);
        r.from = format!("sip:anonymous@{}", self.domain);
        let job = Job {
            request: r,
            policy: InvitePolicy::Cancel {
                min_status: 180,
                after: self.config.timers.t1 * 4,
            },
        };
        let b = self
            .batch(s, "unauth INVITE", vec![job], self.config.pace)
            .await?;
        let Some(o) = b.outcomes.first() else {
            return Ok(());
        };
        let mut ev = Vec::new();
        for p in &o.provisional {
            if p.status > 100 {
                ev.push(format!(
                    "INVITE sip:{number}@{} without credentials -> {} {}",
                    self.domain, p.status, p.reason
                ));
            }
        }
        if let Some(f) = &o.final_response {
            if (200..300).contains(&f.status) {
                ev.push(format!("INVITE sip:{number}@{} without credentials -> {} {} (call answered; ACKed and hung up at once, no media sent)", self.domain, f.status, f.reason));
            }
        }
        if !ev.is_empty() {
            if o.cancelled {
                ev.push(
                    "the probe sent CANCEL after the provisional response; no media was sent"
                        .into(),
                );
            }
            self.rep
                .findings
                .push(finding("SIP-UNAUTH-INVITE", &self.label, ev));
        }
        Ok(())
    }

    /// One REGISTER answered with credentials: (final status, challenge-response pair).
    async fn register_with(
        &mut self,
        s: &mut Session,
        user: &str,
        password: &str,
    ) -> Result<AuthAttempt, ScanError> {
        let first = self.req(s, "REGISTER", user);
        let o = s.one(Job::plain(first.clone())).await?;
        let Some(r) = o.final_response else {
            return Ok(AuthAttempt::NoAnswer);
        };
        if (200..300).contains(&r.status) {
            return Ok(AuthAttempt::NoChallenge(r.status));
        }
        let (hname, aname) = match r.status {
            401 => (HeaderName::WwwAuthenticate, "Authorization"),
            407 => (HeaderName::ProxyAuthenticate, "Proxy-Authorization"),
            other => return Ok(AuthAttempt::Refused(other)),
        };
        let msg = r.message();
        // Pick the strongest challenge we can answer (several may be offered, RFC 8760 §2.4).
        let mut best: Option<(u8, Challenge<'_>)> = None;
        for h in msg.headers_named(hname) {
            if let Ok(c) = Challenge::parse(h.value) {
                let rank = match c.algorithm().name() {
                    Some(n) if n.starts_with("SHA-512") => 3,
                    Some(n) if n.starts_with("SHA-256") => 2,
                    Some(_) => 1,
                    None => 0,
                };
                if rank > 0 && best.as_ref().is_none_or(|(b, _)| rank > *b) {
                    best = Some((rank, c));
                }
            }
        }
        let Some((_, ch)) = best else {
            return Ok(AuthAttempt::Refused(r.status));
        };
        let second = first.next();
        let cnonce = token(16);
        let value = build_authorization(
            &ch,
            &AuthorizationRequest {
                username: user,
                password: password.as_bytes(),
                method: "REGISTER",
                uri: &second.uri,
                body: None,
                cnonce: &cnonce,
                nc: 1,
            },
        )
        .map_err(|e| ScanError::Invalid(format!("cannot answer challenge: {e}")))?;
        let second = second.header(aname, &value);
        let o2 = s.one(Job::plain(second.clone())).await?;
        match o2.final_response {
            Some(r2) if (200..300).contains(&r2.status) => Ok(AuthAttempt::Accepted {
                replay: Box::new(second),
            }),
            Some(r2) => Ok(AuthAttempt::Refused(r2.status)),
            None => Ok(AuthAttempt::NoAnswer),
        }
    }

    async fn weak_credentials(
        &mut self,
        s: &mut Session,
    ) -> Result<Vec<(String, Secret)>, ScanError> {
        let mut found = Vec::new();
        let exts = self.config.auth_extensions.clone();
        let total: usize = exts.len();
        for (i, ext) in exts.iter().enumerate() {
            (self.progress)("auth-test", i, total);
            let mut list = builtin_passwords(ext);
            list.extend(self.config.wordlist.iter().map(|w| w.0.clone()));
            let mut tried = 0usize;
            let mut silent = 0usize;
            for (n, pw) in list.iter().enumerate() {
                if n > 0 {
                    tokio::time::sleep(self.config.auth_pause).await;
                }
                tried += 1;
                match self.register_with(s, ext, pw).await? {
                    AuthAttempt::Accepted { .. } => {
                        let builtin = n < builtin_passwords(ext).len();
                        // Neither the guess number nor the length: the built-in list and its
                        // order are public, so either would give the password away.
                        self.rep.findings.push(finding(
                            "SIP-WEAK-CREDENTIAL",
                            &self.label,
                            vec![format!(
                                "extension {ext} registered with a password from the {}; password redacted",
                                if builtin { "built-in list" } else { "wordlist" }
                            )],
                        ));
                        found.push((ext.clone(), Secret(pw.clone())));
                        break;
                    }
                    AuthAttempt::NoChallenge(st) => {
                        self.rep.notes.push(format!(
                            "extension {ext}: REGISTER accepted without a challenge ({st})"
                        ));
                        break;
                    }
                    AuthAttempt::NoAnswer => {
                        silent += 1;
                        if silent >= 3 {
                            self.rep.notes.push(format!("extension {ext}: target stopped answering after {tried} guesses (lockout: good)"));
                            break;
                        }
                    }
                    AuthAttempt::Refused(_) => {}
                }
            }
        }
        (self.progress)("auth-test", total, total);
        self.rep.weak_credentials = found.clone();
        Ok(found)
    }

    /// SRTP-NOT-ENFORCED: an authenticated INVITE offering only RTP/AVP is accepted.
    async fn srtp(&mut self, s: &mut Session, creds: &(String, Secret)) -> Result<(), ScanError> {
        let (user, pw) = creds;
        let callee = self
            .config
            .srtp_callee
            .clone()
            .or_else(|| self.rep.extensions.iter().find(|e| *e != user).cloned())
            .unwrap_or_else(|| user.clone());
        let mut first = self.req(s, "INVITE", &callee);
        first.from = self.uri(user);
        let o = s.one(Job::plain(first.clone())).await?;
        let Some(r) = o.final_response else {
            return Ok(());
        };
        let (hname, aname) = match r.status {
            401 => (HeaderName::WwwAuthenticate, "Authorization"),
            407 => (HeaderName::ProxyAuthenticate, "Proxy-Authorization"),
            _ => {
                self.rep.notes.push(format!(
                    "SRTP check: INVITE to {callee} as {user} answered {} {} before any challenge",
                    r.status, r.reason
                ));
                return Ok(());
            }
        };
        let msg = r.message();
        let Some(ch) = msg
            .headers_named(hname)
            .filter_map(|h| Challenge::parse(h.value).ok())
            .find(|c| c.algorithm().is_supported())
        else {
            return Ok(());
        };
        let second = first.next();
        let body = second
            .body
            .as_ref()
            .map(|(_, b)| b.clone())
            .unwrap_or_default();
        let cnonce = token(16);
        let Ok(value) = build_authorization(
            &ch,
            &AuthorizationRequest {
                username: user,
                password: pw.0.as_bytes(),
                method: "INVITE",
                uri: &second.uri,
                body: Some(&body),
                cnonce: &cnonce,
                nc: 1,
            },
        ) else {
            return Ok(());
        };
        let job = Job {
            request: second.header(aname, &value),
            policy: InvitePolicy::Cancel {
                min_status: 180,
                after: self.config.timers.t1 * 4,
            },
        };
        let o = s.one(job).await?;
        let accepted: Vec<String> = o
            .provisional
            .iter()
            .filter(|p| p.status > 100)
            .chain(
                o.final_response
                    .iter()
                    .filter(|f| (200..300).contains(&f.status)),
            )
            .map(|p| format!("{} {}", p.status, p.reason))
            .collect();
        if !accepted.is_empty() {
            self.rep.findings.push(finding(
                "SRTP-NOT-ENFORCED",
                &self.label,
                vec![
                    format!(
                        "authenticated INVITE from {user} to {callee} offering only RTP/AVP (no SRTP, no crypto) -> {}",
                        accepted.join(", ")
                    ),
                    "the probe CANCELled / hung up at once; no media was sent".into(),
                ],
            ));
        } else if let Some(f) = &o.final_response {
            self.rep.notes.push(format!(
                "SRTP check: RTP/AVP-only INVITE refused with {} {}",
                f.status, f.reason
            ));
        }
        Ok(())
    }

    /// Private addresses in what a public-facing server tells us (Contact, Record-Route,
    /// SDP c=/o=): topology leaks, often a SIP ALG or a NAT misconfiguration.
    fn private_leaks(&mut self, options: &Response) {
        // The label is `transport:addr`, and an IPv6 addr is `[ip]:port`.
        let target_private = self
            .label
            .split_once(':')
            .and_then(|(_, addr)| addr.parse::<SocketAddr>().ok())
            .is_some_and(|a| is_internal(a.ip()));
        if target_private && !self.config.report_private_on_private {
            return;
        }
        let mut ev = std::collections::BTreeSet::new();
        for r in std::iter::once(options).chain(self.seen.iter()).take(80) {
            let m = r.message();
            // Via is left out: in a response it is our own, echoed.
            for (name, hn) in [
                ("Contact", HeaderName::Contact),
                ("Record-Route", HeaderName::RecordRoute),
            ] {
                for h in m.headers_named(hn) {
                    for ip in private_ips(&String::from_utf8_lossy(h.value)) {
                        ev.insert(format!(
                            "{name} of a {} response names private address {ip}",
                            r.status
                        ));
                    }
                }
            }
            let body = String::from_utf8_lossy(m.body());
            for line in body
                .lines()
                .filter(|l| l.starts_with("c=") || l.starts_with("o="))
            {
                for ip in private_ips(line) {
                    ev.insert(format!(
                        "SDP `{}` of a {} response names private address {ip}",
                        &line[..2],
                        r.status
                    ));
                }
            }
        }
        if !ev.is_empty() {
            self.rep.findings.push(finding(
                "NET-PRIVATE-ADDRESS-LEAK",
                &self.label,
                ev.into_iter().take(20).collect(),
            ));
        }
    }

    async fn digest_weak(
        &mut self,
        s: &mut Session,
        creds: Option<&(String, Secret)>,
    ) -> Result<(), ScanError> {
        // Challenge shape: from every challenge seen so far plus one fresh REGISTER.
        let probe_user = self
            .rep
            .extensions
            .first()
            .cloned()
            .or_else(|| self.config.auth_extensions.first().cloned())
            .unwrap_or_else(|| "100".into());
        let o = s
            .one(Job::plain(self.req(s, "REGISTER", &probe_user)))
            .await?;
        if let Some(r) = o.final_response {
            self.seen.push(r);
        }
        let mut algs = std::collections::BTreeSet::new();
        let mut qop_missing = false;
        let mut any = false;
        for r in &self.seen {
            let m = r.message();
            for h in m
                .headers_named(HeaderName::WwwAuthenticate)
                .chain(m.headers_named(HeaderName::ProxyAuthenticate))
            {
                if let Ok(c) = Challenge::parse(h.value) {
                    if !c.is_digest() {
                        continue;
                    }
                    any = true;
                    algs.insert(c.algorithm().name().unwrap_or("other").to_string());
                    if c.qop_options().next().is_none() {
                        qop_missing = true;
                    }
                }
            }
        }
        let mut ev = Vec::new();
        if any && algs.iter().all(|a| a.starts_with("MD5")) {
            ev.push(format!(
                "only {} challenges offered (no SHA-256, RFC 8760)",
                algs.iter().cloned().collect::<Vec<_>>().join("/")
            ));
        }
        if qop_missing {
            ev.push("a challenge without qop (RFC 2069 compatibility: no cnonce/nc, easier offline cracking and replay)".into());
        }
        let mut replay = false;
        if let Some((user, pw)) = creds {
            if let AuthAttempt::Accepted { replay: req } =
                self.register_with(s, user, &pw.0).await?
            {
                // Same Authorization (nonce, nc, cnonce) on a new transaction.
                let mut again = req.next();
                again.headers = req.headers.clone();
                let o = s.one(Job::plain(again)).await?;
                if o.final_response
                    .as_ref()
                    .is_some_and(|r| (200..300).contains(&r.status))
                {
                    replay = true;
                    ev.push(format!("a REGISTER for {user} replaying an already used nonce and nonce-count was accepted"));
                }
            }
        }
        if !ev.is_empty() {
            let mut f = finding("SIP-DIGEST-WEAK", &self.label, ev);
            if replay || qop_missing {
                f.severity = Severity::Medium;
            }
            self.rep.findings.push(f);
        }
        Ok(())
    }

    async fn rate_limit(&mut self, s: &mut Session) -> Result<(), ScanError> {
        let n = self.config.burst.min(500);
        if n == 0 {
            return Ok(());
        }
        let jobs: Vec<Job> = (0..n)
            .map(|_| Job::plain(options_request(s, &self.domain, self.config)))
            .collect();
        let pace = Pace {
            rate: 1000.0,
            concurrency: n,
            silence_after: 0,
        };
        let started = Instant::now();
        let mut t = *s.timers();
        t.max_lifetime = t.t1 * 4;
        let old = s.set_timers(t);
        let b = self.batch(s, "burst", jobs, pace).await?;
        s.set_timers(old);
        let answered = b
            .outcomes
            .iter()
            .filter(|o| o.final_response.is_some())
            .count();
        let rejected = b
            .outcomes
            .iter()
            .filter(|o| {
                o.final_response
                    .as_ref()
                    .is_some_and(|r| r.status == 503 || r.status == 429)
            })
            .count();
        if answered == n && rejected == 0 {
            self.rep.findings.push(finding(
                "SIP-NO-RATE-LIMIT",
                &self.label,
                vec![format!(
                    "{n} OPTIONS sent in {:.2} s from one source: all {n} answered, none refused",
                    started.elapsed().as_secs_f64()
                )],
            ));
        } else {
            self.rep.notes.push(format!(
                "burst of {n} OPTIONS: {answered} answered ({rejected} refused with 503/429): the target throttles"
            ));
        }
        Ok(())
    }
}

/// RFC 1918, RFC 6598 (CGNAT), unique-local and link-local addresses: what must not leak
/// from a PBX reachable from outside. Loopback is not "private" here (it is where the tests run).
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private() || v4.is_link_local() || (o[0] == 100 && (64..128).contains(&o[1]))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments()[0];
            (s & 0xfe00) == 0xfc00 || (s & 0xffc0) == 0xfe80
        }
    }
}

/// Internal addresses written in `text` (dotted quads and bracketed IPv6).
pub fn private_ips(text: &str) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for tok in text.split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':')) {
        let tok = tok.trim_matches(|c| c == ':' || c == '.');
        let cand = tok
            .rsplit_once(':')
            .filter(|(h, _)| h.contains('.'))
            .map(|(h, _)| h)
            .unwrap_or(tok);
        if let Ok(ip) = cand.parse::<IpAddr>() {
            if is_internal(ip) && !out.contains(&ip) {
                out.push(ip);
            }
        }
        if out.len() >= 8 {
            break;
        }
    }
    out
}

enum AuthAttempt {
    NoAnswer,
    NoChallenge(u16),
    Refused(#[allow(dead_code)] u16),
    Accepted { replay: Box<Request> },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_ids_are_upper_kebab_and_unique() {
        let mut ids = std::collections::HashSet::new();
        for m in CATALOGUE {
            assert!(m
                .id
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-'));
            assert!(ids.insert(m.id));
            assert!(!m.control.is_empty() && !m.remediation.is_empty());
        }
    }

    /// Regression: the target's own address was parsed out of the label `udp:[fd00::1]:5060`
    /// as `[fd00` and failed, so a PBX on a private IPv6 network (scanned from inside) had its
    /// internal addresses reported as a leak, unlike the same PBX on private IPv4.
    #[test]
    fn private_ipv6_target_is_not_reported_as_leaking_private_addresses() {
        let raw = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP [fd00::9]:5060;branch=z9hG4bK-1\r\n\
To: <sip:x@pbx>;tag=a\r\nCSeq: 1 OPTIONS\r\nContact: <sip:pbx@[fd00::1]:5060>\r\n\r\n";
        let options = Response::from_message(&sipsentry_sip::Message::parse(raw)).unwrap();
        for (label, expect_leak) in [
            ("udp:[fd00::1]:5060", false),
            ("udp:10.1.2.3:5060", false),
            ("udp:[2001:db8::1]:5060", true),
        ] {
            let config = Config::default();
            let mut rep = HostReport::default();
            let mut ctx = Ctx {
                config: &config,
                domain: "pbx".into(),
                label: label.into(),
                rep: &mut rep,
                seen: Vec::new(),
                progress: &no_progress,
            };
            ctx.private_leaks(&options);
            let leak = rep
                .findings
                .iter()
                .any(|f| f.id == "NET-PRIVATE-ADDRESS-LEAK");
            assert_eq!(leak, expect_leak, "{label}: {:?}", rep.findings);
        }
    }

    #[test]
    fn builtin_list_is_short_and_derived() {
        let l = builtin_passwords("2001");
        assert!(l.contains(&"2001".to_string()) && l.contains(&"1002".to_string()));
        assert!(l.contains(&"1234".to_string()));
        assert!(l.len() <= 12);
    }
}

#[cfg(test)]
mod doc_tests {
    #[test]
    fn every_finding_id_is_documented_in_docs_scan_md() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/scan.md"))
                .expect("docs/scan.md");
        for m in super::CATALOGUE {
            assert!(
                doc.contains(&format!("### `{}`", m.id)),
                "{} missing from docs/scan.md",
                m.id
            );
        }
    }
}

//! `sipsentry scan`: test a PBX from outside as an attacker would.

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use serde_json::json;
use sipsentry_report::{Finding, Severity};
use sipsentry_scan::{checks, Config, Port, Secret, Transport};
use std::io::{IsTerminal, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum ScanFormat {
    /// Table grouped by severity.
    #[default]
    Text,
    /// `{ "targets", "services", "findings" }`.
    Json,
    /// SARIF 2.1.0 for CI code-scanning.
    Sarif,
    /// Markdown report.
    Markdown,
    /// One self-contained HTML page.
    Html,
}

/// Largest number of addresses a CIDR target may expand to.
const MAX_CIDR_HOSTS: u32 = 256;
/// Largest number of extensions enumerated or passwords tried.
const MAX_EXTENSIONS: usize = 100_000;
const MAX_WORDLIST: usize = 10_000;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// What to scan: host, host:port, IPv4/IPv6 literal ([::1]:5060), hostname, or a CIDR of at
    /// most 256 addresses. A port given here replaces the profile's SIP ports (UDP and TCP).
    #[arg(value_name = "TARGET", required = true)]
    targets: Vec<String>,
    /// Port profile: 3cx (5060 UDP/TCP, 5061 TLS, 5090, 443/5001 HTTPS, 5000 HTTP, 5015 wizard),
    /// asterisk (+5038 AMI, 8088/8089 HTTP), freeswitch (+5080, 8021 ESL), sip (5060/5061 only).
    #[arg(long, default_value = "3cx")]
    profile: String,
    /// Explicit ports instead of the profile: udp:5060,tcp:5060,tls:5061,ws:8080,wss:8443,http:5000,https:5001,ami:5038,esl:8021.
    #[arg(long, value_name = "LIST")]
    ports: Option<String>,
    /// New SIP requests per second (gentle by default).
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// SIP transactions in flight at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// RFC 3261 T1 in milliseconds (T2 = 8*T1, T4 = 10*T1).
    #[arg(long, default_value_t = 500)]
    t1_ms: u64,
    /// Longest wait for an answer to one probe, in milliseconds.
    #[arg(long, default_value_t = 4000)]
    probe_timeout_ms: u64,
    /// Stop after this many consecutive unanswered requests (the PBX blocked us: reported as a
    /// good sign). 0 never stops.
    #[arg(long, default_value_t = 8)]
    stop_after_silence: usize,
    /// Source address to send from.
    #[arg(long)]
    bind: Option<IpAddr>,
    /// SIP domain for request URIs and the TLS name check (default: the target).
    #[arg(long)]
    domain: Option<String>,
    /// User-Agent sent (default names sipsentry honestly).
    #[arg(long)]
    user_agent: Option<String>,
    /// Extensions to enumerate: 100-199,2001,3000-3099.
    #[arg(long, value_name = "RANGES")]
    range: Option<String>,
    /// File of extensions to enumerate, one per line (added to --range).
    #[arg(long, value_name = "FILE")]
    extensions_file: Option<PathBuf>,
    /// Methods for enumeration (comma-separated).
    #[arg(long, default_value = "REGISTER,INVITE,OPTIONS,SUBSCRIBE")]
    enum_methods: String,
    /// Try a short list of guessable passwords on the extensions given with --auth-extensions.
    #[arg(long)]
    auth_test: bool,
    /// Extensions whose passwords --auth-test may guess (explicit: never the enumerated ones).
    #[arg(long, value_name = "RANGES")]
    auth_extensions: Option<String>,
    /// More passwords to try after the built-in list, one per line.
    #[arg(long, value_name = "FILE")]
    wordlist: Option<PathBuf>,
    /// Pause between password guesses, in milliseconds (stay under lockout thresholds).
    #[arg(long, default_value_t = 500)]
    auth_pace_ms: u64,
    /// Known credentials user:password for the checks that need them (digest replay). Prefer
    /// the SIPSENTRY_SCAN_AUTH environment variable: command lines are visible to other users.
    #[arg(long, value_name = "USER:PASS")]
    auth: Option<String>,
    /// Number dialled by the unauthenticated INVITE check.
    #[arg(long)]
    invite_number: Option<String>,
    /// Requests in the rate-limit burst (0 skips it).
    #[arg(long, default_value_t = 40)]
    burst: usize,
    /// Skip checks: enum, invite, register, burst, tls, mgmt (comma-separated).
    #[arg(long, value_name = "LIST")]
    skip: Option<String>,
    /// SIP must not be reachable from here (SIP-EXPOSED becomes high).
    #[arg(long)]
    must_be_closed: bool,
    /// PEM CA certificates the TLS certificate must chain to (private CA).
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ScanFormat::Text)]
    format: ScanFormat,
    /// Write the report here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this severity (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<Severity>,
    /// Never show a progress bar (shown only when stderr is a terminal).
    #[arg(long)]
    no_progress: bool,
}

fn parse_ports(spec: &str) -> Result<Vec<Port>> {
    let mut v = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (kind, port) = item
            .split_once(':')
            .with_context(|| format!("port {item:?}: expected KIND:PORT, e.g. udp:5060"))?;
        let port: u16 = port
            .parse()
            .with_context(|| format!("port {item:?}: bad port number"))?;
        v.push(match kind.to_ascii_lowercase().as_str() {
            "udp" => Port::Sip(Transport::Udp, port),
            "tcp" => Port::Sip(Transport::Tcp, port),
            "tls" => Port::Sip(Transport::Tls, port),
            "ws" => Port::Sip(Transport::Ws, port),
            "wss" => Port::Sip(Transport::Wss, port),
            "http" => Port::Http { port, tls: false },
            "https" => Port::Http { port, tls: true },
            "ami" => Port::Ami(port),
            "esl" => Port::Esl(port),
            k => bail!(
                "port {item:?}: unknown kind {k:?} (udp, tcp, tls, ws, wss, http, https, ami, esl)"
            ),
        });
    }
    Ok(v)
}

/// `host`, `host:port`, `[v6]:port`, `v6`, `a.b.c.d/nn` → (host, optional port), expanded.
fn expand_target(t: &str) -> Result<Vec<(String, Option<u16>)>> {
    if let Some((net, bits)) = t.split_once('/') {
        let ip: std::net::Ipv4Addr = net
            .parse()
            .with_context(|| format!("target {t:?}: CIDR needs an IPv4 network"))?;
        let bits: u32 = bits
            .parse()
            .ok()
            .filter(|b| *b <= 32)
            .with_context(|| format!("target {t:?}: bad prefix length"))?;
        let size = 1u64 << (32 - bits);
        if size > u64::from(MAX_CIDR_HOSTS) {
            bail!("target {t:?}: {size} addresses; at most {MAX_CIDR_HOSTS} per CIDR (use several targets)");
        }
        let base = u32::from(ip) & (u32::MAX.checked_shl(32 - bits).unwrap_or(0));
        return Ok((0..size as u32)
            .map(|i| (std::net::Ipv4Addr::from(base + i).to_string(), None))
            .collect());
    }
    if let Some(rest) = t.strip_prefix('[') {
        let (host, tail) = rest
            .split_once(']')
            .with_context(|| format!("target {t:?}: missing ']'"))?;
        let port = match tail.strip_prefix(':') {
            Some(p) => Some(
                p.parse()
                    .with_context(|| format!("target {t:?}: bad port"))?,
            ),
            None if tail.is_empty() => None,
            None => bail!("target {t:?}: unexpected {tail:?}"),
        };
        return Ok(vec![(host.to_string(), port)]);
    }
    if t.parse::<std::net::Ipv6Addr>().is_ok() {
        return Ok(vec![(t.to_string(), None)]);
    }
    match t.rsplit_once(':') {
        Some((h, p)) => Ok(vec![(
            h.to_string(),
            Some(
                p.parse()
                    .with_context(|| format!("target {t:?}: bad port"))?,
            ),
        )]),
        None => {
            if t.is_empty() || t.contains(char::is_whitespace) {
                bail!("target {t:?}: not a host");
            }
            Ok(vec![(t.to_string(), None)])
        }
    }
}

fn read_lines(path: &PathBuf, max: usize, what: &str) -> Result<Vec<String>> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.len() > 16 * 1024 * 1024 {
        bail!("{what} {} is larger than 16 MiB", path.display());
    }
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let lines: Vec<String> = String::from_utf8_lossy(&text)
        .lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    if lines.len() > max {
        bail!("{what} {} has more than {max} entries", path.display());
    }
    Ok(lines)
}

fn build_config(a: &Args) -> Result<Config> {
    let mut c = Config::default();
    if let Some(ua) = &a.user_agent {
        if ua.contains(['\r', '\n']) || ua.len() > 200 {
            bail!("--user-agent must be one line of at most 200 characters");
        }
        c.user_agent = ua.clone();
    }
    if !(a.rate > 0.0 && a.rate <= 10_000.0) {
        bail!("--rate must be between 0 and 10000 requests per second");
    }
    if a.concurrency == 0 || a.concurrency > 1024 {
        bail!("--concurrency must be between 1 and 1024");
    }
    if !(10..=10_000).contains(&a.t1_ms) {
        bail!("--t1-ms must be between 10 and 10000");
    }
    c.timers = sipsentry_scan::Timers::with_t1(Duration::from_millis(a.t1_ms));
    c.timers.max_lifetime = Duration::from_millis(a.probe_timeout_ms.clamp(100, 64 * a.t1_ms));
    c.pace.rate = a.rate;
    c.pace.concurrency = a.concurrency;
    c.pace.silence_after = a.stop_after_silence;
    c.bind = a.bind;
    c.domain = a.domain.clone();
    if let Some(d) = &c.domain {
        if d.is_empty() || d.contains(|ch: char| ch.is_whitespace() || ch == '@' || ch == '>') {
            bail!("--domain {d:?} is not a host name");
        }
    }
    c.ports = match &a.ports {
        Some(p) => parse_ports(p)?,
        None => sipsentry_scan::profile(&a.profile).with_context(|| {
            format!(
                "unknown --profile {:?} (3cx, asterisk, freeswitch, sip)",
                a.profile
            )
        })?,
    };
    let mut exts = Vec::new();
    if let Some(r) = &a.range {
        exts = sipsentry_scan::parse_range(r, MAX_EXTENSIONS)?;
    }
    if let Some(f) = &a.extensions_file {
        exts.extend(read_lines(f, MAX_EXTENSIONS, "extensions file")?);
    }
    if !exts.is_empty() {
        c.extensions = exts;
    }
    c.enum_methods = a
        .enum_methods
        .split(',')
        .map(|m| m.trim().to_ascii_uppercase())
        .filter(|m| !m.is_empty())
        .collect();
    for m in &c.enum_methods {
        if !["REGISTER", "INVITE", "OPTIONS", "SUBSCRIBE"].contains(&m.as_str()) {
            bail!("--enum-methods: {m:?} is not one of REGISTER, INVITE, OPTIONS, SUBSCRIBE");
        }
    }
    c.auth_test = a.auth_test;
    if let Some(e) = &a.auth_extensions {
        c.auth_extensions = sipsentry_scan::parse_range(e, 1000)?;
    }
    if a.auth_test && c.auth_extensions.is_empty() {
        bail!("--auth-test needs --auth-extensions: passwords are only guessed on extensions you name");
    }
    if let Some(w) = &a.wordlist {
        c.wordlist = read_lines(w, MAX_WORDLIST, "wordlist")?
            .into_iter()
            .map(Secret)
            .collect();
    }
    c.auth_pause = Duration::from_millis(a.auth_pace_ms);
    let auth = a
        .auth
        .clone()
        .or_else(|| std::env::var("SIPSENTRY_SCAN_AUTH").ok());
    if let Some(s) = auth {
        let (u, p) = s.split_once(':').context("--auth expects USER:PASSWORD")?;
        c.auth = Some((u.to_string(), Secret(p.to_string())));
    }
    if let Some(n) = &a.invite_number {
        if n.is_empty()
            || !n
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "+*#-.".contains(ch))
        {
            bail!("--invite-number must be digits (and + * # - .)");
        }
        c.invite_number = n.clone();
    }
    c.burst = a.burst.min(500);
    if let Some(skip) = &a.skip {
        for s in skip.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match s {
                "enum" => c.checks.enumerate = false,
                "invite" => c.checks.unauth_invite = false,
                "register" => c.checks.unauth_register = false,
                "burst" => c.checks.rate_limit = false,
                "tls" => c.checks.tls = false,
                "mgmt" => c.checks.mgmt = false,
                other => bail!(
                    "--skip: unknown check {other:?} (enum, invite, register, burst, tls, mgmt)"
                ),
            }
        }
    }
    c.must_be_closed = a.must_be_closed;
    if let Some(f) = &a.ca_file {
        c.ca_pem = Some(std::fs::read(f).with_context(|| format!("reading {}", f.display()))?);
    }
    Ok(c)
}

fn rules() -> Vec<sipsentry_report::RuleMeta> {
    checks::CATALOGUE
        .iter()
        .map(|m| sipsentry_report::RuleMeta {
            id: m.id,
            title: m.title,
            help: m.remediation,
        })
        .collect()
}

pub fn run(a: &Args) -> Result<u8> {
    let config = build_config(a)?;
    let mut targets = Vec::new();
    for t in &a.targets {
        targets.extend(expand_target(t)?);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let show_bar = !a.no_progress && std::io::stderr().is_terminal();
    let bar = if show_bar {
        let pb = indicatif::ProgressBar::new(0);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {prefix} {msg} [{bar:30}] {pos}/{len}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(pb)
    } else {
        None
    };
    let mut reports = Vec::new();
    for (host, port) in &targets {
        let mut cfg = config.clone();
        if let Some(p) = port {
            cfg.ports
                .retain(|x| !matches!(x, Port::Sip(Transport::Udp | Transport::Tcp, _)));
            cfg.ports.insert(0, Port::Sip(Transport::Tcp, *p));
            cfg.ports.insert(0, Port::Sip(Transport::Udp, *p));
        }
        if let Some(pb) = &bar {
            pb.set_prefix(host.clone());
        }
        let cb = |phase: &str, done: usize, total: usize| {
            if let Some(pb) = &bar {
                pb.set_message(phase.to_string());
                pb.set_length(total as u64);
                pb.set_position(done as u64);
            }
        };
        let rep = rt
            .block_on(sipsentry_scan::scan_host(host, &cfg, Some(&cb)))
            .with_context(|| format!("scanning {host}"))?;
        reports.push(rep);
    }
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }

    let findings: Vec<Finding> = reports.iter().flat_map(|r| r.findings.clone()).collect();
    let preamble: Vec<String> = reports
        .iter()
        .map(|r| {
            let fp = r
                .fingerprint
                .as_ref()
                .and_then(|f| {
                    f.product
                        .clone()
                        .map(|p| format!("{p} {}", f.version.clone().unwrap_or_default()))
                })
                .unwrap_or_else(|| "unknown product".into());
            let open: Vec<String> = r
                .services
                .iter()
                .filter(|s| s.state == "open")
                .map(|s| format!("{}:{}", s.transport, s.addr))
                .collect();
            format!(
                "{}: {} — open: {}",
                r.target,
                fp.trim(),
                if open.is_empty() {
                    "none".into()
                } else {
                    open.join(", ")
                }
            )
        })
        .collect();
    let out = match a.format {
        ScanFormat::Text => {
            let mut s = String::new();
            for (line, r) in preamble.iter().zip(&reports) {
                s.push_str(&format!("{}\n", sipsentry_report::terminal_safe(line)));
                if !r.extensions.is_empty() {
                    s.push_str(&format!("  extensions found: {}\n", r.extensions.join(",")));
                }
                for n in &r.notes {
                    s.push_str(&format!("  note: {}\n", sipsentry_report::terminal_safe(n)));
                }
            }
            s.push('\n');
            s.push_str(&sipsentry_report::table(&findings));
            s
        }
        ScanFormat::Json => {
            let services: Vec<serde_json::Value> = reports
                .iter()
                .flat_map(|r| {
                    r.services.iter().map(move |s| {
                        json!({"target": r.target, "transport": s.transport, "addr": s.addr, "state": s.state, "detail": s.detail})
                    })
                })
                .collect();
            let targets: Vec<serde_json::Value> = reports
                .iter()
                .map(|r| {
                    json!({
                        "target": r.target,
                        "fingerprint": r.fingerprint,
                        "extensions": r.extensions,
                        "blocked": r.blocked,
                        "notes": r.notes,
                        "packets_sent": r.packets_sent,
                    })
                })
                .collect();
            let mut sorted = findings.clone();
            sipsentry_report::sort(&mut sorted);
            serde_json::to_string_pretty(&json!({
                "targets": targets,
                "services": services,
                "findings": sorted,
            }))? + "\n"
        }
        ScanFormat::Sarif => {
            serde_json::to_string_pretty(&sipsentry_report::sarif(
                "sipsentry scan",
                env!("CARGO_PKG_VERSION"),
                &rules(),
                &findings,
            ))? + "\n"
        }
        ScanFormat::Markdown => sipsentry_report::markdown("sipsentry scan", &preamble, &findings),
        ScanFormat::Html => sipsentry_report::html("sipsentry scan", &preamble, &findings),
    };
    match &a.output {
        Some(p) => std::fs::write(p, out).with_context(|| format!("writing {}", p.display()))?,
        None => {
            let mut so = std::io::stdout().lock();
            so.write_all(out.as_bytes())?;
            so.flush()?;
        }
    }
    Ok(match a.fail_on {
        Some(t) if sipsentry_report::fails(&findings, t) => 1,
        _ => 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_expand() {
        assert_eq!(
            expand_target("127.0.0.50").unwrap(),
            vec![("127.0.0.50".into(), None)]
        );
        assert_eq!(
            expand_target("127.0.0.50:5070").unwrap(),
            vec![("127.0.0.50".into(), Some(5070))]
        );
        assert_eq!(
            expand_target("[::1]:5060").unwrap(),
            vec![("::1".into(), Some(5060))]
        );
        assert_eq!(expand_target("::1").unwrap(), vec![("::1".into(), None)]);
        assert_eq!(expand_target("127.0.0.48/30").unwrap().len(), 4);
        assert!(expand_target("10.0.0.0/8").is_err());
        assert!(expand_target("a:b").is_err());
    }

    #[test]
    fn ports_parse() {
        assert_eq!(
            parse_ports("udp:5060,esl:8021").unwrap(),
            vec![Port::Sip(Transport::Udp, 5060), Port::Esl(8021)]
        );
        assert!(parse_ports("smtp:25").is_err());
    }
}

//! `sipsentry audit`: configuration posture of the PBX, its firewall and its host, with drift.

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use serde_json::json;
use sipsentry_audit::baseline::{self, Baseline};
use sipsentry_audit::{
    asterisk, catalogue, firewall, freeswitch, host, score, threecx, Facts, Policy,
};
use sipsentry_report::{Finding, Severity};
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum AuditFormat {
    /// Findings grouped by severity, then the score per control area.
    #[default]
    Table,
    /// `{ "source", "product", "findings": [...], "score": {...}, "drift": [...] }`.
    Json,
    /// SARIF 2.1.0 for code-scanning dashboards.
    Sarif,
    /// A Markdown report.
    Markdown,
    /// A self-contained HTML report.
    Html,
}

#[derive(clap::Args, Debug)]
#[command(after_long_help = "Examples:
  sipsentry audit --asterisk /etc/asterisk
  sipsentry audit --freeswitch /etc/freeswitch --nft --host --policy site.toml
  SIPSENTRY_3CX_SECRET=... sipsentry audit --3cx-url https://pbx.example.com --3cx-client-id audit
  sipsentry audit --3cx-export ./pbx-export --format json | jq '.findings[].id'
  sipsentry audit --asterisk /etc/asterisk --save-baseline before.json
  sipsentry audit --asterisk /etc/asterisk --diff before.json --fail-on medium
  iptables-save | sipsentry audit --iptables-save - --format sarif > audit.sarif

Every rule ID, its control and remediation: docs/audit.md. Policy keys: docs/audit-policy.example.toml.
Exit codes: 0 no finding at or above --fail-on, 1 findings at or above it, 2 usage or I/O error.")]
pub struct Args {
    /// Asterisk configuration directory (pjsip.conf, sip.conf, manager.conf, http.conf,
    /// logger.conf, extensions.conf; `*.conf.sample` also read).
    #[arg(long, value_name = "DIR")]
    asterisk: Option<PathBuf>,
    /// FreeSWITCH conf directory (vars.xml, sip_profiles/, autoload_configs/, directory/).
    #[arg(long, value_name = "DIR")]
    freeswitch: Option<PathBuf>,
    /// 3CX V20 base URL (e.g. https://pbx.example.com); the API client's secret is read from
    /// the SIPSENTRY_3CX_SECRET environment variable or --3cx-secret-file, never the command line.
    #[arg(long = "3cx-url", value_name = "URL", requires = "threecx_client_id")]
    threecx_url: Option<String>,
    /// 3CX API client ID (Admin > Integrations > API).
    #[arg(long = "3cx-client-id", value_name = "ID")]
    threecx_client_id: Option<String>,
    /// File holding the 3CX API client secret (first line).
    #[arg(long = "3cx-secret-file", value_name = "FILE")]
    threecx_secret_file: Option<PathBuf>,
    /// Audit a saved 3CX export instead: a directory with one JSON document per endpoint
    /// (SystemStatus.json, Users.json, Trunks.json, ... see docs/audit.md).
    #[arg(
        long = "3cx-export",
        value_name = "DIR",
        conflicts_with = "threecx_url"
    )]
    threecx_export: Option<PathBuf>,
    /// Version of the audited PBX when the source does not carry it (Asterisk and FreeSWITCH
    /// config directories do not), e.g. from `asterisk -rx "core show version"` or
    /// `fs_cli -x version`: checked against the offline CVE table (PBX-KNOWN-CVE).
    #[arg(long, value_name = "VERSION")]
    pbx_version: Option<String>,
    /// With --3cx-url: also save the fetched documents as an export directory.
    #[arg(long = "3cx-save-export", value_name = "DIR", requires = "threecx_url")]
    threecx_save_export: Option<PathBuf>,
    /// Read the live nftables ruleset (`nft -j list ruleset`; needs root).
    #[arg(long)]
    nft: bool,
    /// With --nft: read the ruleset of this network namespace (`ip netns exec NS`).
    #[arg(long, value_name = "NS", requires = "nft")]
    netns: Option<String>,
    /// A saved `nft -j list ruleset` output (`-` for standard input).
    #[arg(long, value_name = "FILE", conflicts_with = "nft")]
    nft_json: Option<PathBuf>,
    /// A saved `iptables-save` output (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    iptables_save: Option<PathBuf>,
    /// Audit this host: SIP ALG modules (/proc/modules) and listening sockets (/proc/net).
    #[arg(long)]
    host: bool,
    /// Site policy (TOML): trusted networks, trunk IPs, allowed countries, transports, lockout
    /// thresholds, expected services. Without it, the hardening guide's defaults apply.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Store the normalized facts (secrets as SHA-256 only) for a later --diff.
    #[arg(long, value_name = "FILE")]
    save_baseline: Option<PathBuf>,
    /// Report what changed since this baseline (DRIFT-ADDED/REMOVED/CHANGED, before and after).
    #[arg(long, value_name = "FILE")]
    diff: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Table)]
    format: AuditFormat,
    /// Exit with 1 when a finding is at or above this severity (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<Severity>,
}

const MAX_INPUT: u64 = 64 * 1024 * 1024;

fn read_input(p: &Path) -> Result<String> {
    let mut buf = Vec::new();
    if p.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_INPUT + 1)
            .read_to_end(&mut buf)
            .context("reading standard input")?;
    } else {
        std::fs::File::open(p)
            .with_context(|| format!("cannot open {}", p.display()))?
            .take(MAX_INPUT + 1)
            .read_to_end(&mut buf)
            .with_context(|| format!("reading {}", p.display()))?;
    }
    if buf.len() as u64 > MAX_INPUT {
        bail!("{} is larger than {MAX_INPUT} bytes", p.display());
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn threecx_secret(a: &Args) -> Result<threecx::Secret> {
    if let Some(f) = &a.threecx_secret_file {
        let t = read_input(f)?;
        let line = t.lines().next().unwrap_or("").trim().to_string();
        if line.is_empty() {
            bail!(
                "{} is empty: expected the 3CX API client secret",
                f.display()
            );
        }
        return Ok(threecx::Secret::new(line));
    }
    match std::env::var("SIPSENTRY_3CX_SECRET") {
        Ok(s) if !s.is_empty() => Ok(threecx::Secret::new(s)),
        _ => bail!(
            "--3cx-url needs the API client secret in SIPSENTRY_3CX_SECRET or --3cx-secret-file"
        ),
    }
}

pub fn run(a: &Args) -> Result<u8> {
    let policy = match &a.policy {
        Some(p) => Policy::load(p)?,
        None => Policy::default(),
    };
    let mut facts = Facts::new();
    let mut sources: Vec<String> = Vec::new();
    if let Some(d) = &a.asterisk {
        facts.extend(asterisk::collect(d)?);
        sources.push(format!("asterisk:{}", d.display()));
    }
    if let Some(d) = &a.freeswitch {
        facts.extend(freeswitch::collect(d)?);
        sources.push(format!("freeswitch:{}", d.display()));
    }
    if let Some(url) = &a.threecx_url {
        let id = a.threecx_client_id.as_deref().unwrap_or("");
        let client = threecx::Client::new(url, id, threecx_secret(a)?);
        let docs = client.fetch_all()?;
        if let Some(dir) = &a.threecx_save_export {
            threecx::save_export(dir, &docs)
                .with_context(|| format!("saving export to {}", dir.display()))?;
        }
        facts.extend(threecx::facts_from(&docs));
        sources.push(format!("3cx:{url}"));
    }
    if let Some(d) = &a.threecx_export {
        facts.extend(threecx::facts_from(&threecx::load_export(d)?));
        sources.push(format!("3cx-export:{}", d.display()));
    }
    let mut rulesets = Vec::new();
    if a.nft {
        let mut rs = firewall::parse_nft_json(&firewall::live_nft(a.netns.as_deref())?)?;
        rs.origin = match &a.netns {
            Some(ns) => format!("nft live, netns {ns}"),
            None => "nft live".into(),
        };
        rulesets.push(rs);
    }
    if let Some(f) = &a.nft_json {
        let mut rs = firewall::parse_nft_json(&read_input(f)?)
            .with_context(|| format!("{}", f.display()))?;
        rs.origin = format!("nft {}", f.display());
        rulesets.push(rs);
    }
    if let Some(f) = &a.iptables_save {
        let mut rs = firewall::parse_iptables_save(&read_input(f)?)?;
        rs.origin = format!("iptables-save {}", f.display());
        rulesets.push(rs);
    }
    if rulesets.len() > 1 {
        bail!("give one firewall source (--nft, --nft-json or --iptables-save), not several");
    }
    for rs in &rulesets {
        facts.extend(firewall::facts_from(rs, &policy));
        sources.push(format!("firewall:{}", rs.origin));
    }
    if a.host {
        facts.extend(host::collect(Path::new("/")));
        sources.push("host".into());
    }
    if let Some(v) = &a.pbx_version {
        if !v.chars().all(|c| c.is_ascii_digit() || c == '.') || v.is_empty() || v.len() > 32 {
            bail!("--pbx-version {v:?}: expected a dotted version such as 18.20.1");
        }
        if facts.get("pbx.product").is_none() {
            bail!("--pbx-version needs a PBX source (--asterisk, --freeswitch or 3CX) to say which product it is");
        }
        facts.set("pbx.version", v.as_str());
    }
    if sources.is_empty() {
        bail!("nothing to audit: give at least one of --asterisk, --freeswitch, --3cx-url, --3cx-export, --nft, --nft-json, --iptables-save, --host (see --help)");
    }
    let source = sources.join(", ");
    let mut findings = sipsentry_audit::evaluate(&facts, &policy);
    let mut prefixes = score::prefixes_for(&facts);
    let mut drift = Vec::new();
    if let Some(b) = &a.diff {
        let before = Baseline::load(b)?;
        drift = baseline::diff(&before.facts, &facts);
        findings.extend(baseline::findings(&drift));
        prefixes.push("DRIFT-");
    }
    if let Some(b) = &a.save_baseline {
        Baseline::new(&source, &facts).save(b)?;
    }
    sipsentry_report::sort(&mut findings);
    let sc = score::score(&findings, &prefixes);
    print!(
        "{}",
        render(a.format, &source, &facts, &findings, &sc, &drift)
    );
    Ok(match a.fail_on {
        Some(t) if sipsentry_report::fails(&findings, t) => 1,
        _ => 0,
    })
}

/// JSON report; a struct so keys come out in this documented order.
#[derive(serde::Serialize)]
struct JsonReport<'a> {
    source: &'a str,
    product: Option<serde_json::Value>,
    findings: &'a [Finding],
    score: &'a score::Score,
    drift: &'a [baseline::Change],
}

fn render(
    format: AuditFormat,
    source: &str,
    facts: &Facts,
    findings: &[Finding],
    sc: &score::Score,
    drift: &[baseline::Change],
) -> String {
    let product = sipsentry_audit::product(facts);
    let mut preamble = vec![format!("Source: {source}")];
    if let Some((p, v)) = &product {
        preamble.push(format!(
            "Product: {p} {}",
            v.as_deref().unwrap_or("(version unknown)")
        ));
    }
    preamble.push(format!("Score: {}/100", sc.overall));
    for (k, s) in &sc.areas {
        preamble.push(format!("- {k} ({}): {}/100", s.control, s.score));
    }
    match format {
        AuditFormat::Table => {
            let mut out = sipsentry_report::table(findings);
            out.push_str(&format!("== score {}/100 ({source})\n", sc.overall));
            for (k, s) in &sc.areas {
                out.push_str(&format!("   {:<18} {:>3}  {}\n", k, s.score, s.control));
            }
            out
        }
        AuditFormat::Json => {
            let v = JsonReport {
                source,
                product: product.map(|(p, v)| json!({ "name": p, "version": v })),
                findings,
                score: sc,
                drift,
            };
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        AuditFormat::Sarif => {
            let v = sipsentry_report::sarif(
                "sipsentry",
                env!("CARGO_PKG_VERSION"),
                &catalogue::sarif_rules(),
                findings,
            );
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        AuditFormat::Markdown => sipsentry_report::markdown("sipsentry audit", &preamble, findings),
        AuditFormat::Html => sipsentry_report::html("sipsentry audit", &preamble, findings),
    }
}

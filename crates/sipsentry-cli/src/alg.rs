//! `sipsentry reflector` and `sipsentry alg-check`: find a SIP ALG between a network and the
//! internet. Wiring (main.rs): `mod alg;`, variants `Reflector(alg::ReflectorArgs)` and
//! `AlgCheck(alg::AlgCheckArgs)`, arms `alg::run_reflector(&a)` / `alg::run_alg_check(&a)`.

use anyhow::{Context, Result};
use sipsentry_report::Severity;
use sipsentry_scan::{alg, Config, Transport};
use std::net::{IpAddr, SocketAddr};

/// Run the reflector outside the network under test (a VPS, a cloud VM).
///
/// It answers every SIP request on UDP and TCP with `200 OK` carrying the exact bytes it
/// received (`message/sip`) and the source address it saw. It sends nothing else, to no one
/// else.
///
/// Examples:
///   sipsentry reflector --listen 0.0.0.0:5070
///   sipsentry reflector --listen [::]:5070 --max 100
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct ReflectorArgs {
    /// Address to listen on (UDP and TCP).
    #[arg(long, default_value = "0.0.0.0:5070")]
    listen: SocketAddr,
    /// Stop after answering this many requests.
    #[arg(long)]
    max: Option<usize>,
}

/// From inside the network, check whether a SIP ALG rewrites SIP on the way out.
///
/// Sends an INVITE with this host's addresses in Via, Contact and SDP to a `sipsentry
/// reflector` outside, over UDP and TCP, and compares what left with what arrived. The 200 is
/// ACKed and hung up at once; no media.
///
/// Exit code: 0 no ALG seen, 1 rewriting found (NET-SIP-ALG), 2 usage/I-O error or no answer.
///
/// Examples:
///   sipsentry alg-check --reflector 198.51.100.7:5070
///   sipsentry alg-check --reflector 198.51.100.7:5070 --transport udp --format json
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct AlgCheckArgs {
    /// The reflector (HOST:PORT; an IP literal).
    #[arg(long)]
    reflector: SocketAddr,
    /// Transports to test: udp, tcp or both.
    #[arg(long, default_value = "both")]
    transport: String,
    /// Source address.
    #[arg(long)]
    bind: Option<IpAddr>,
    /// Output: text or json.
    #[arg(long, default_value = "text")]
    format: String,
}

pub fn run_reflector(a: &ReflectorArgs) -> Result<u8> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    eprintln!(
        "sipsentry reflector listening on {} (UDP and TCP)",
        a.listen
    );
    rt.block_on(alg::reflector(a.listen, a.max))
        .with_context(|| format!("reflector on {}", a.listen))?;
    Ok(0)
}

pub fn run_alg_check(a: &AlgCheckArgs) -> Result<u8> {
    let transports = match a.transport.as_str() {
        "udp" => vec![Transport::Udp],
        "tcp" => vec![Transport::Tcp],
        "both" => vec![Transport::Udp, Transport::Tcp],
        t => anyhow::bail!("--transport {t:?}: expected udp, tcp or both"),
    };
    if !matches!(a.format.as_str(), "text" | "json") {
        anyhow::bail!("--format {:?}: expected text or json", a.format);
    }
    let cfg = Config {
        bind: a.bind,
        ..Config::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let rep = rt
        .block_on(alg::alg_check(a.reflector, &transports, &cfg))
        .with_context(|| format!("alg-check via {}", a.reflector))?;
    if a.format == "json" {
        let v = serde_json::json!({
            "reflector": a.reflector.to_string(),
            "seen_as": rep.seen_as.iter().map(|(t, s)| serde_json::json!({"transport": t.as_str(), "source": s})).collect::<Vec<_>>(),
            "unanswered": rep.unanswered.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
            "findings": rep.findings,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        for (t, s) in &rep.seen_as {
            println!("{}: the reflector saw us as {s}", t.as_str());
        }
        for t in &rep.unanswered {
            println!("{}: no answer from the reflector", t.as_str());
        }
        print!("{}", sipsentry_report::table(&rep.findings));
    }
    if rep.seen_as.is_empty() {
        return Ok(2);
    }
    Ok(if sipsentry_report::fails(&rep.findings, Severity::Low) {
        1
    } else {
        0
    })
}

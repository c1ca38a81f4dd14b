//! `sipsentry watch` (the live guard) and `sipsentry ban` (manage its bans by hand).

use anyhow::{bail, Context, Result};
use sipsentry_watch::config::{Config, Mode};
use std::io::{Read, Write};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Configuration file (TOML). See docs/watch.example.toml.
    #[arg(
        long,
        short,
        value_name = "FILE",
        default_value = "/etc/sipsentry/watch.toml"
    )]
    config: PathBuf,
    /// Validate the configuration (and the policy it names), print what would run, and exit.
    #[arg(long)]
    check_config: bool,
    /// Log the nftables changes that would be made, make none (overrides response.mode).
    #[arg(long)]
    dry_run: bool,
}

fn load(path: &std::path::Path) -> Result<(Config, sipsentry_detect::Policy)> {
    let cfg = Config::load(path)?;
    let policy = match &cfg.policy {
        Some(p) => crate::policy::load(p)
            .with_context(|| format!("policy {} (named in {})", p.display(), path.display()))?,
        None => sipsentry_detect::Policy::default(),
    };
    Ok((cfg, policy))
}

pub fn run(a: &Args) -> Result<u8> {
    let (mut cfg, policy) = load(&a.config)?;
    if a.dry_run && cfg.response.mode == Mode::Enforce {
        cfg.response.mode = Mode::DryRun;
    }
    if a.check_config {
        let mut inputs = Vec::new();
        if let Some(h) = &cfg.inputs.hep {
            if !h.udp.is_empty() {
                inputs.push(format!("HEP/UDP {}", h.udp));
            }
            if !h.tcp.is_empty() {
                inputs.push(format!("HEP/TCP {}", h.tcp));
            }
        }
        if let Some(c) = &cfg.inputs.capture {
            inputs.push(format!(
                "capture on {} ({})",
                c.interface,
                sipsentry_watch::inputs::bpf_filter(&c.sip_ports)
            ));
        }
        for l in &cfg.inputs.log {
            inputs.push(format!("log {}", l.path.display()));
        }
        println!("{}: configuration OK", a.config.display());
        println!(
            "  inputs:   {}",
            if inputs.is_empty() {
                "NONE (the guard would refuse to start)".into()
            } else {
                inputs.join(", ")
            }
        );
        println!(
            "  response: {:?}, table inet {}, protecting {}",
            cfg.response.mode,
            cfg.response.table,
            cfg.response.protect.join(" ")
        );
        println!(
            "  store:    {} (retention {} days)",
            cfg.store.path.display(),
            cfg.store.retention_days
        );
        println!(
            "  api:      {}",
            if cfg.api.listen.is_empty() {
                "off".to_string()
            } else {
                format!(
                    "http://{} (API {})",
                    cfg.api.listen,
                    if cfg.api.token_file.is_some() {
                        "token-protected"
                    } else {
                        "closed: no token_file"
                    }
                )
            }
        );
        println!(
            "  policy:   {}",
            cfg.policy
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "defaults".into())
        );
        return Ok(if inputs.is_empty() { 2 } else { 0 });
    }
    let enforcer = sipsentry_watch::enforcer(&cfg, &policy).map_err(anyhow::Error::msg)?;
    // Block the termination signals in every thread the guard starts; this thread waits for them.
    let set = block_signals();
    let guard = sipsentry_watch::Guard::start(&cfg, policy, enforcer)?;
    eprintln!(
        "sipsentry: watching ({:?}){}{}{}",
        cfg.response.mode,
        guard
            .hep_udp
            .map(|a| format!(", HEP/UDP {a}"))
            .unwrap_or_default(),
        guard
            .hep_tcp
            .map(|a| format!(", HEP/TCP {a}"))
            .unwrap_or_default(),
        guard
            .api
            .map(|a| format!(", API http://{a}"))
            .unwrap_or_default(),
    );
    let sig = wait_signal(&set);
    eprintln!("sipsentry: signal {sig}, stopping");
    guard.stop();
    Ok(0)
}

fn block_signals() -> libc::sigset_t {
    // SAFETY: plain libc signal-mask calls on a zero-initialised, then sigemptyset'd set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGHUP);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

fn wait_signal(set: &libc::sigset_t) -> i32 {
    let mut sig = 0;
    // SAFETY: sigwait with a valid set and out-pointer.
    unsafe {
        libc::sigwait(set, &mut sig);
    }
    sig
}

#[derive(clap::Args, Debug)]
pub struct BanArgs {
    #[command(subcommand)]
    cmd: BanCmd,
    /// The guard's configuration: where its API listens and its token file.
    #[arg(
        long,
        short,
        value_name = "FILE",
        default_value = "/etc/sipsentry/watch.toml",
        global = true
    )]
    config: PathBuf,
}

#[derive(clap::Subcommand, Debug)]
enum BanCmd {
    /// Active bans (network, reason, who, expiry).
    List {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Ban an address or CIDR network now. Allow-listed and local addresses are refused.
    Add {
        net: String,
        /// Duration in seconds.
        #[arg(long, default_value_t = 3600)]
        seconds: u64,
        #[arg(long, default_value = "manual")]
        reason: String,
    },
    /// Lift a ban.
    Remove { net: String },
}

/// One request to the running guard's API.
fn call(
    cfg: &Config,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, serde_json::Value)> {
    if cfg.api.listen.is_empty() {
        bail!("the guard's API is off (api.listen is empty): bans are managed through it");
    }
    let token = match &cfg.api.token_file {
        Some(p) => std::fs::read_to_string(p)
            .with_context(|| format!("api.token_file {}", p.display()))?
            .trim()
            .to_string(),
        None => bail!("api.token_file is not set: the API is closed"),
    };
    let mut s = std::net::TcpStream::connect(&cfg.api.listen).with_context(|| {
        format!(
            "cannot reach the guard at {} (is `sipsentry watch` running?)",
            cfg.api.listen
        )
    })?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(15)))?;
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        cfg.api.listen,
        body.len()
    )?;
    let mut resp = Vec::new();
    s.take(16 << 20).read_to_end(&mut resp)?;
    let text = String::from_utf8_lossy(&resp);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let code: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .context("malformed response from the guard")?;
    let v = serde_json::from_str(body).unwrap_or(serde_json::Value::Null);
    Ok((code, v))
}

fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b':' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

pub fn ban(a: &BanArgs) -> Result<u8> {
    let cfg = Config::load(&a.config)?;
    match &a.cmd {
        BanCmd::List { json } => {
            let (code, v) = call(&cfg, "GET", "/api/bans", None)?;
            if code != 200 {
                bail!(
                    "guard answered {code}: {}",
                    v["error"].as_str().unwrap_or("?")
                );
            }
            if *json {
                println!("{}", serde_json::to_string_pretty(&v["bans"])?);
                return Ok(0);
            }
            let bans = v["bans"].as_array().cloned().unwrap_or_default();
            println!(
                "{:<43} {:<26} {:<9} {:<20}",
                "net", "reason", "by", "expires"
            );
            for b in &bans {
                let exp = b["expires_unix"].as_i64().unwrap_or(0);
                println!(
                    "{:<43} {:<26} {:<9} {:<20}",
                    b["net"].as_str().unwrap_or(""),
                    crate::text::escape(b["reason"].as_str().unwrap_or("").as_bytes()),
                    b["source"].as_str().unwrap_or(""),
                    sipsentry_watch::outputs::rfc3339(exp.saturating_mul(1_000_000_000))[..19]
                        .to_string()
                );
            }
            println!("{} active", bans.len());
            Ok(0)
        }
        BanCmd::Add {
            net,
            seconds,
            reason,
        } => {
            let body =
                serde_json::json!({ "net": net, "seconds": seconds, "reason": reason }).to_string();
            let (code, v) = call(&cfg, "POST", "/api/bans", Some(&body))?;
            match code {
                201 => {
                    println!(
                        "banned {} until {}",
                        v["ban"]["net"].as_str().unwrap_or(net),
                        sipsentry_watch::outputs::rfc3339(
                            v["ban"]["expires_unix"]
                                .as_i64()
                                .unwrap_or(0)
                                .saturating_mul(1_000_000_000)
                        )
                    );
                    Ok(0)
                }
                _ => bail!("{}", v["error"].as_str().unwrap_or("the guard refused")),
            }
        }
        BanCmd::Remove { net } => {
            let (code, v) = call(&cfg, "DELETE", &format!("/api/bans/{}", pct(net)), None)?;
            match code {
                200 => {
                    println!("removed {}", v["removed"].as_str().unwrap_or(net));
                    Ok(0)
                }
                404 => {
                    eprintln!("sipsentry: no active ban for {net}");
                    Ok(1)
                }
                _ => bail!("{}", v["error"].as_str().unwrap_or("the guard refused")),
            }
        }
    }
}

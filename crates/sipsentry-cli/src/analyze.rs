//! `sipsentry analyze`: what SIP happened in packet captures.

use crate::analyze_out;
use anyhow::{Context, Result};
use clap::ValueEnum;
use serde_json::json;
use sipsentry_capture::{Config as CaptureConfig, Decoder, PcapReader};
use sipsentry_ingest::summary::{Summary, SummaryLimits};
use sipsentry_ingest::{Ingest, IngestConfig, SipEvent};
use sipsentry_sip::{Limits, Message};
use std::io::{BufRead, BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum AnalyzeFormat {
    /// A line per message (like sngrep/tshark), then the summary.
    #[default]
    Table,
    /// One JSON document with the summary.
    Json,
    /// One JSON object per SIP message.
    Jsonl,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Packet captures: pcap or pcapng, optionally gzip-compressed (detected by content, not by
    /// extension). `-` reads standard input.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AnalyzeFormat::Table)]
    format: AnalyzeFormat,
    /// In table format, print only the summary, not a line per message.
    #[arg(long)]
    summary_only: bool,
    /// Decode and summarise only: no attack detection (like a faster tshark; the output has no
    /// alerts).
    #[arg(long)]
    no_alerts: bool,
    /// Check every header of every message strictly (slower; finds more anomalies).
    #[arg(long)]
    strict: bool,
    /// Site policy (TOML): trusted networks, TLS/SRTP requirements, detector thresholds. See
    /// docs/policy.example.toml.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Never show a progress bar (it is shown only when stderr is a terminal).
    #[arg(long)]
    no_progress: bool,
}

/// Captures are recognised by their magic (pcap in either byte order and resolution, pcapng,
/// gzip); anything else is read as a PBX log.
fn looks_like_capture(r: &mut impl std::io::BufRead) -> Result<bool> {
    let head = r.fill_buf().context("reading input")?;
    let magic: [&[u8]; 6] = [
        &[0xd4, 0xc3, 0xb2, 0xa1],
        &[0xa1, 0xb2, 0xc3, 0xd4],
        &[0x4d, 0x3c, 0xb2, 0xa1],
        &[0xa1, 0xb2, 0x3c, 0x4d],
        &[0x0a, 0x0d, 0x0d, 0x0a],
        &[0x1f, 0x8b],
    ];
    Ok(magic.iter().any(|m| head.starts_with(m)))
}

/// Longest log line read (longer ones are cut: the parser caps at 8 KiB anyway).
const MAX_LOG_LINE: usize = 64 * 1024;

fn analyze_log(
    path: &std::path::Path,
    mut r: impl std::io::BufRead,
    engine: &mut sipsentry_detect::Engine,
) -> Result<serde_json::Value> {
    use sipsentry_logs::{LineContext, LogParser};
    // Year-less syslog dates take the year the file was last written; dates that would fall
    // after that moment belong to the year before (December lines read in January).
    let mtime = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64);
    let year = mtime
        .map(|s| 1970 + (s / 31_556_952) as i32)
        .unwrap_or(1970);
    let mut ctx = LineContext::new(year);
    ctx.year_rollover_reference = mtime;
    let mut parser = LogParser::new(ctx);
    let mut by_kind: std::collections::BTreeMap<&'static str, u64> = Default::default();
    let mut first_lines: Vec<Vec<u8>> = Vec::new();
    let mut last_ts = 0i64;
    let mut lines = 0u64;
    let mut buf = Vec::with_capacity(1024);
    let mut handle = |ev: sipsentry_logs::LogEvent<'_>, last_ts: &mut i64| {
        *by_kind.entry(ev.kind.as_str()).or_default() += 1;
        let ts = ev.ts.unwrap_or(*last_ts);
        *last_ts = ts;
        let signal = sipsentry_watch::log_signal(ev.kind);
        if let Some(sig) = signal {
            let user = ev.user_lossy().map(|u| u.into_owned()).unwrap_or_default();
            let src = std::net::SocketAddr::new(ev.source, ev.source_port.unwrap_or(0));
            engine.on_log_event(ts, src, sig, &user, ev.service);
        }
    };
    loop {
        buf.clear();
        let n = (&mut r)
            .take(MAX_LOG_LINE as u64)
            .read_until(b'\n', &mut buf)
            .context("reading log")?;
        if n == 0 {
            break;
        }
        if !buf.ends_with(b"\n") && buf.len() >= MAX_LOG_LINE {
            // Skip the rest of an overlong line.
            let mut sink = Vec::new();
            loop {
                sink.clear();
                let m = (&mut r)
                    .take(MAX_LOG_LINE as u64)
                    .read_until(b'\n', &mut sink)?;
                if m == 0 || sink.ends_with(b"\n") {
                    break;
                }
            }
        }
        lines += 1;
        if first_lines.len() < sipsentry_logs::DETECT_MAX_LINES {
            first_lines.push(buf.clone());
        }
        parser.push_line(&buf, |ev| handle(ev, &mut last_ts));
    }
    parser.finish(|ev| handle(ev, &mut last_ts));
    let format = sipsentry_logs::detect_format(first_lines.iter().map(|l| l.as_slice()));
    if format == sipsentry_logs::Format::Unknown && by_kind.is_empty() {
        anyhow::bail!(
            "{}: not a pcap or pcapng capture, and no line in a known PBX log format (Asterisk, FreeSWITCH, 3CX, Kamailio)",
            path.display()
        );
    }
    Ok(json!({
        "file": path.display().to_string(),
        "format": format!("{format:?}"),
        "lines": lines,
        "log_events_by_kind": by_kind,
    }))
}

struct Counting<R> {
    inner: R,
    read: std::rc::Rc<std::cell::Cell<u64>>,
}

impl<R: std::io::Read> std::io::Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

pub fn run(a: &Args) -> Result<u8> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let ingest_cfg = IngestConfig::default();
    let limits: Limits = ingest_cfg.sip_limits;
    let mut summary = Summary::new(SummaryLimits::default());
    let policy = match &a.policy {
        Some(p) => crate::policy::load(p)?,
        None => sipsentry_detect::Policy::default(),
    };
    let mut engine = sipsentry_detect::Engine::with_policy(policy);
    let mut inputs = Vec::new();
    let mut had_error = false;
    if a.format == AnalyzeFormat::Table && !a.summary_only {
        analyze_out::table_header(&mut out)?;
    }
    for path in &a.files {
        let (reader, size): (Box<dyn std::io::Read>, Option<u64>) = if path.as_os_str() == "-" {
            (Box::new(std::io::stdin().lock()), None)
        } else {
            let f = std::fs::File::open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            let size = f.metadata().ok().map(|m| m.len());
            (Box::new(f), size)
        };
        let mut reader = std::io::BufReader::with_capacity(1 << 16, reader);
        if !looks_like_capture(&mut reader)? {
            let stats = analyze_log(path, reader, &mut engine)?;
            inputs.push(stats);
            continue;
        }
        let read = std::rc::Rc::new(std::cell::Cell::new(0u64));
        let counting = Counting {
            inner: reader,
            read: read.clone(),
        };
        let mut pcap = PcapReader::new(counting)
            .with_context(|| format!("{}: not a pcap or pcapng capture", path.display()))?;
        let bar = if !a.no_progress && std::io::stderr().is_terminal() {
            size.map(|s| {
                let b = indicatif::ProgressBar::new(s);
                b.set_style(
                    indicatif::ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                b.set_message(path.display().to_string());
                b
            })
        } else {
            None
        };
        let mut decoder = Decoder::new(CaptureConfig::default());
        let mut ingest = Ingest::new(ingest_cfg);
        let mut packets = 0u64;
        let mut io_err: Option<std::io::Error> = None;
        let mut file_messages = 0u64;
        let mut handle = |ev: &SipEvent<'_>| {
            let m = if a.strict {
                let mut m = Message::parse_with(ev.data, &limits, ev.transport.mode());
                for x in sipsentry_sip::validate::deep(&m) {
                    m.add_anomaly(x);
                }
                m
            } else {
                ev.message(&limits)
            };
            summary.add(ev, &m);
            if !a.no_alerts {
                engine.on_message(ev, &m);
            }
            file_messages += 1;
            if io_err.is_some() {
                return;
            }
            let r = match a.format {
                AnalyzeFormat::Jsonl => {
                    serde_json::to_writer(&mut out, &analyze_out::json_line(ev, &m))
                        .map_err(std::io::Error::from)
                        .and_then(|_| out.write_all(b"\n"))
                }
                AnalyzeFormat::Table if !a.summary_only => {
                    analyze_out::table_line(&mut out, ev, &m)
                }
                _ => Ok(()),
            };
            if let Err(e) = r {
                io_err = Some(e);
            }
        };
        let result = loop {
            match pcap.next_packet() {
                Ok(Some(pkt)) => {
                    packets += 1;
                    decoder.push(&pkt, |e| ingest.on_event(&e, &mut handle));
                    if packets % 4096 == 0 {
                        if let Some(b) = &bar {
                            b.set_position(read.get());
                        }
                    }
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        decoder.flush(|e| ingest.on_event(&e, &mut handle));
        ingest.finish();
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        if let Some(e) = io_err {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(0);
            }
            return Err(e).context("writing output");
        }
        let st = ingest.stats();
        let mut input = json!({
            "file": path.display().to_string(),
            "format": format!("{:?}", pcap.format()),
            "compressed": pcap.is_compressed(),
            "packets": packets,
            "sip_messages": file_messages,
            "hep_packets": st.hep_packets,
            "non_sip_datagrams": st.non_sip_datagrams,
            "keepalives": st.keepalives,
            "streams_by_kind": st.streams_by_kind,
            "framing_skips": st.framing_skips,
            "hep_errors": st.hep_errors,
            "stream_gaps": st.stream_gaps,
        });
        if let Err(e) = result {
            had_error = true;
            eprintln!(
                "sipsentry: warning: {}: {e} (analysis covers the {packets} packets before it)",
                path.display()
            );
            input["error"] = json!(e.to_string());
        }
        inputs.push(input);
    }
    summary.finish();
    engine.finish();
    let doc = analyze_out::summary_json(&summary, json!(inputs));
    let alerts = analyze_out::alerts_json(engine.alerts());
    if !engine.suppressed().is_empty() {
        let s: Vec<String> = engine
            .suppressed()
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        eprintln!(
            "sipsentry: warning: alert cap reached; not listed: {}",
            s.join(", ")
        );
    }
    let w = match a.format {
        AnalyzeFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &json!({ "summary": doc, "alerts": alerts }))
                .map_err(std::io::Error::from)
                .and_then(|_| out.write_all(b"\n"))
        }
        AnalyzeFormat::Table => analyze_out::summary_text(&mut out, &doc)
            .and_then(|_| analyze_out::alerts_text(&mut out, &alerts)),
        AnalyzeFormat::Jsonl => Ok(()),
    };
    match w.and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(0),
        r => r.context("writing output")?,
    }
    Ok(if had_error { 2 } else { 0 })
}

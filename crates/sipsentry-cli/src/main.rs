//! `sipsentry`: one tool to scan, audit, watch and back up SIP phone systems.

mod inspect;
mod redact;
mod text;

use clap::{Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

/// Secure 3CX, Asterisk, FreeSWITCH and Kamailio-fronted PBXs: inspect SIP traffic, find attacks,
/// and harden the system.
#[derive(Parser, Debug)]
#[command(name = "sipsentry", version, about, long_about = None, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 success, 1 a finding (e.g. a message RFC 3261 must reject), 2 usage or I/O error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Parse one raw SIP message and show its typed fields and every anomaly.
    ///
    /// The message is read as a UDP datagram would be: Content-Length may be absent, and octets
    /// after the announced body are reported and ignored. Secrets (digest responses, SDES keys)
    /// are redacted in the output.
    ///
    /// Exit code: 0 if RFC 3261 accepts the message, 1 if it must be rejected (the deciding
    /// anomaly is named), 2 on usage or I/O errors.
    ///
    /// Examples:
    ///   sipsentry inspect tests/vectors/rfc4475/wsinv.dat
    ///   sipsentry inspect --format json message.sip | jq '.anomalies[].kind'
    ///   printf 'OPTIONS sip:a@b SIP/2.0\r\n\r\n' | sipsentry inspect -
    #[command(verbatim_doc_comment)]
    Inspect(inspect::Args),
}

/// Output format shared by the commands.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Human-readable text.
    #[default]
    Text,
    /// One JSON document.
    Json,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Inspect(a) => inspect::run(&a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("sipsentry: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

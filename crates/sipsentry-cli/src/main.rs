//! `sipsentry`: one tool to scan, audit, watch and back up SIP phone systems.

mod analyze;
mod analyze_out;
mod backup;
mod inspect;
mod policy;
mod redact;
mod text;
mod timefmt;

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
    /// Show what SIP happened in packet captures: every message, then a summary.
    ///
    /// Reads pcap and pcapng (gzip-compressed too; the format is detected by content). SIP is
    /// recognised on any port by content: UDP, TCP (reassembled), WebSocket, and SIP carried in
    /// HEP v1/v2/v3 mirrors (Kamailio siptrace, Asterisk res_hep, FreeSWITCH, heplify). Memory
    /// stays flat however large the capture.
    ///
    /// The summary has messages by method and status, registrations per extension with their
    /// outcome, calls with outcome and duration, top sources and destinations, and anomalies by
    /// kind (see docs/anomalies.md).
    ///
    /// Exit code: 0 when every file was read to the end, 2 on usage/I/O errors or a truncated
    /// capture (what came before the damage is still analysed and reported).
    ///
    /// Examples:
    ///   sipsentry analyze tests/vectors/lab/attack-lab.pcap
    ///   sipsentry analyze --format jsonl trace.pcapng.gz | jq 'select(.status == 401)'
    ///   sipsentry analyze --format json --summary-only a.pcap b.pcap
    #[command(verbatim_doc_comment)]
    Analyze(analyze::Args),
    /// Encrypted (age), signed, immutable-offsite backups, proven by restore drills.
    ///
    /// Subcommands: keygen, create, verify, restore-test, list, prune, init-bucket.
    /// See docs/backup.md.
    ///
    /// Examples:
    ///   sipsentry backup keygen --out-dir keys
    ///   sipsentry backup create --source 3CXScheduledBackup.zip --to /mnt/offsite \
    ///       --recipients-file keys/backup-recipient.txt --signing-key keys/backup-signing.key
    ///   sipsentry backup restore-test --target /mnt/offsite --verify-key keys/backup-verify.pub \
    ///       --identity keys/backup-identity.txt
    #[command(verbatim_doc_comment)]
    Backup(backup::Args),
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
        Command::Analyze(a) => analyze::run(&a),
        Command::Backup(a) => backup::run(&a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("sipsentry: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

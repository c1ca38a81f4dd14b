//! `sipsentry`: one tool to scan, audit, watch and back up SIP phone systems.

mod alg;
mod analyze;
mod analyze_out;
mod audit;
mod backup;
mod inspect;
mod policy;
mod redact;
mod scan;
mod text;
mod timefmt;
mod watch;

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
    /// The live guard: watch SIP traffic and PBX logs, ban attackers in nftables, alert.
    ///
    /// Inputs: HEP v3 over UDP/TCP from Kamailio siptrace, Asterisk res_hep, FreeSWITCH or
    /// heplify; live capture from an interface; PBX security logs followed across rotation.
    /// They feed the same detectors as `analyze` (docs/detectors.md). Attackers are banned in
    /// sipsentry's own nftables table (`table inet sipsentry`; no other table is touched), with
    /// longer bans for repeat offenders. Trusted networks, loopback and this host's addresses
    /// are never banned. Alerts go to stdout (JSON lines), syslog and webhooks; alerts and bans
    /// are kept in an SQLite store and served on a localhost API with Prometheus metrics.
    ///
    /// Examples:
    ///   sipsentry watch --config /etc/sipsentry/watch.toml --check-config
    ///   sipsentry watch --config docs/watch.example.toml --dry-run
    ///   curl -s localhost:9961/metrics | grep sipsentry_alerts_total
    #[command(verbatim_doc_comment)]
    Watch(watch::Args),
    /// List, add or remove the live guard's bans (through its API).
    ///
    /// Examples:
    ///   sipsentry ban list
    ///   sipsentry ban add 203.0.113.0/24 --seconds 86400 --reason "toll fraud ring"
    ///   sipsentry ban remove 203.0.113.0/24
    #[command(verbatim_doc_comment)]
    Ban(watch::BanArgs),
    /// Audit the configuration of a PBX, its firewall and its host against the hardening guide.
    ///
    /// Reads an Asterisk or FreeSWITCH config directory, 3CX V20 through its Configuration API
    /// (or a saved export), an nftables/iptables ruleset and the host's SIP ALG modules and
    /// listening sockets. Every gap is a finding with a stable rule ID, evidence (secrets never
    /// shown), the hardening control and the fix; each control area gets a score. Baselines
    /// (--save-baseline) and --diff show what changed, e.g. after an upgrade.
    ///
    /// Exit code: 0 done, 1 a finding at or above --fail-on, 2 usage or I/O error.
    ///
    /// Examples:
    ///   sipsentry audit --asterisk /etc/asterisk --nft --host
    ///   sipsentry audit --3cx-export ./export --policy site.toml --format json
    ///   sipsentry audit --freeswitch /etc/freeswitch --diff before.json --fail-on high
    #[command(verbatim_doc_comment)]
    Audit(Box<audit::Args>),
    /// Test a SIP PBX from outside as an attacker would, and say what to fix.
    ///
    /// Probes SIP over UDP, TCP and TLS plus the management ports of the chosen profile:
    /// exposure, product/version and known CVEs, extension enumeration (against a baseline of
    /// random users, so a PBX that answers everyone alike passes), unauthenticated INVITE (always
    /// CANCELled, never media) and REGISTER, digest strength, rate limiting, TLS protocol,
    /// ciphers and certificate, and management consoles. Passwords are guessed only with
    /// --auth-test on extensions you name. Every finding has an ID (docs/scan.md), evidence,
    /// the hardening control and the fix. Scan only systems you are authorised to test.
    ///
    /// Exit code: 0 done, 1 a finding at or above --fail-on, 2 usage or I/O error.
    ///
    /// Examples:
    ///   sipsentry scan pbx.example.com
    ///   sipsentry scan --profile asterisk --range 100-199 --format html -o report.html 192.0.2.10
    ///   sipsentry scan --auth-test --auth-extensions 2001-2005 --wordlist top100.txt 192.0.2.10:5060
    ///   sipsentry scan --format sarif --fail-on high --domain sip.example.com 192.0.2.0/28
    #[command(verbatim_doc_comment)]
    Scan(Box<scan::Args>),
    /// Run OUTSIDE the network under test: echo every SIP request back, as received, for
    /// `alg-check` (finds SIP ALGs that rewrite traffic on the way out).
    Reflector(alg::ReflectorArgs),
    /// Run INSIDE the network: send SIP to a `reflector` outside over UDP and TCP and diff what
    /// arrived (Via, Contact, SDP c=/o=/m=, Max-Forwards, Content-Length) — NET-SIP-ALG.
    AlgCheck(alg::AlgCheckArgs),
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
        Command::Watch(a) => watch::run(&a),
        Command::Ban(a) => watch::ban(&a),
        Command::Audit(a) => audit::run(&a),
        Command::Scan(a) => scan::run(&a),
        Command::Reflector(a) => alg::run_reflector(&a),
        Command::AlgCheck(a) => alg::run_alg_check(&a),
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

//! `sipsentry backup`: encrypted (age), signed (Ed25519), immutable-offsite backups that are
//! proven to restore. The work is in the `sipsentry-backup` crate; this module is argument
//! handling, key loading and output.

use crate::Format;
use anyhow::{bail, Context, Result};
use sipsentry_backup::alert::{self, Alert};
use sipsentry_backup::archive::{self, CreateOptions};
use sipsentry_backup::drill::{self, DrillOptions};
use sipsentry_backup::keys::{self, Decryption, Encryption, SigningKey, VerifyKey};
use sipsentry_backup::manifest::{self, LockInfo};
use sipsentry_backup::retention::{self, Action, Policy};
use sipsentry_backup::s3::{Credentials, S3Target};
use sipsentry_backup::sftp::SftpTarget;
use sipsentry_backup::target::{LocalDir, Target};
use sipsentry_backup::util;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    // Boxed: the subcommands' arguments are large, and `Command` in main.rs holds this by value.
    #[command(subcommand)]
    cmd: Box<Cmd>,
    /// Also send alerts (BACKUP-RESTORE-FAILED, BACKUP-VERIFY-FAILED, BACKUP-STALE) through the
    /// live guard's alert channels: the syslog and webhooks configured in its watch.toml.
    #[arg(long, value_name = "WATCH_TOML", global = true)]
    alert_config: Option<PathBuf>,
}

#[derive(clap::Subcommand, Debug)]
enum Cmd {
    /// Generate an age identity (decrypts) and an Ed25519 signing key (signs manifests).
    ///
    /// Writes into DIR: backup-identity.txt (age secret, mode 0600), backup-recipient.txt
    /// (age1… public key), backup-signing.key (secret, 0600), backup-verify.pub (public).
    /// Keep the two secrets OFF the PBX you back up (a safe, a password manager, an HSM-backed
    /// host): whoever holds the identity can read every backup.
    ///
    /// Example:
    ///   sipsentry backup keygen --out-dir /root/backup-keys
    #[command(verbatim_doc_comment)]
    Keygen(KeygenArgs),
    /// Back up files and directories into an encrypted, signed archive on a target.
    ///
    /// Sources are files or directories: a 3CX backup zip (3CXScheduledBackup.zip), an
    /// Asterisk/FreeSWITCH config tree, sipsentry's SQLite store (any SQLite file is copied
    /// through SQLite's online backup API, consistent while in use). The archive is a tar
    /// stream encrypted in the standard age format: `age -d -i key.txt X.tar.age | tar t` works
    /// without sipsentry. Memory stays flat for any source size.
    ///
    /// Encryption: --recipient/--recipients-file (age X25519 public keys), OR a passphrase from
    /// --passphrase-file or $SIPSENTRY_BACKUP_PASSPHRASE (age forbids mixing both).
    /// Secrets are never accepted on the command line.
    ///
    /// Examples:
    ///   sipsentry backup create --source /var/lib/3cxpbx/Instance1/Data/Backups/3CXScheduledBackup.zip \
    ///       --name pbx1 --to /mnt/offsite --recipients-file keys/backup-recipient.txt \
    ///       --signing-key keys/backup-signing.key
    ///   AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… sipsentry backup create --source /etc/asterisk \
    ///       --to s3://pbx-backups/pbx1 --s3-endpoint https://s3.eu-central-1.amazonaws.com \
    ///       --s3-region eu-central-1 --lock-mode compliance --retain-days 30 \
    ///       --recipient age1… --signing-key keys/backup-signing.key
    #[command(verbatim_doc_comment)]
    Create(CreateArgs),
    /// Check stored backups: signature, hashes, and (with a key) every entry after decryption.
    ///
    /// Without --identity or a passphrase only the signature and the ciphertext are checked
    /// (useful on a host that must not hold the decryption key). Exit 1 on any failure, naming
    /// the failed check; with --webhook an alert BACKUP-VERIFY-FAILED is POSTed.
    ///
    /// Examples:
    ///   sipsentry backup verify --target /mnt/offsite --verify-key keys/backup-verify.pub
    ///   sipsentry backup verify --target /mnt/offsite --id pbx1-20260101T020000Z \
    ///       --verify-key keys/backup-verify.pub --identity keys/backup-identity.txt
    #[command(verbatim_doc_comment)]
    Verify(VerifyArgs),
    /// Restore drill: restore into a scratch directory and prove the content is usable.
    ///
    /// After full verification, zips get every CRC checked (and --expect-entry patterns
    /// matched, e.g. for a 3CX backup), SQLite files `PRAGMA integrity_check`, PostgreSQL
    /// custom dumps are restored into a throw-away PostgreSQL and every table counted.
    /// A failed drill exits 1 and prints an alert JSON line (id BACKUP-RESTORE-FAILED) on
    /// stdout, also POSTed to --webhook. Treat it as an incident.
    ///
    /// Example:
    ///   sipsentry backup restore-test --target /mnt/offsite --verify-key keys/backup-verify.pub \
    ///       --identity keys/backup-identity.txt --expect-entry '*.xml' --webhook http://127.0.0.1:9000/hook
    #[command(verbatim_doc_comment)]
    RestoreTest(RestoreArgs),
    /// List the backups on a target, oldest first, with size and lock.
    ///
    /// Example:
    ///   sipsentry backup list --target s3://pbx-backups/pbx1 --s3-endpoint http://127.0.0.80:5080
    #[command(verbatim_doc_comment)]
    List(ListArgs),
    /// Delete backups outside a GFS retention policy; never touches a locked backup.
    ///
    /// Keeps the newest backup of each of the last N days (--keep-daily), ISO weeks
    /// (--keep-weekly) and months (--keep-monthly), plus the last N (--keep-last). Backups past
    /// the policy whose Object Lock (or retention recorded in the manifest) has not expired are
    /// skipped and reported.
    ///
    /// Example:
    ///   sipsentry backup prune --target /mnt/offsite --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --dry-run
    #[command(verbatim_doc_comment)]
    Prune(PruneArgs),
    /// Create an S3 bucket with Object Lock enabled (required for immutable backups).
    ///
    /// Example:
    ///   sipsentry backup init-bucket --target s3://pbx-backups --s3-endpoint http://127.0.0.80:5080
    #[command(verbatim_doc_comment)]
    InitBucket(TargetArgs),
}

#[derive(clap::Args, Debug)]
struct TargetArgs {
    /// Where backups live: a directory, s3://BUCKET[/PREFIX], or sftp://[USER@]HOST[:PORT]/PATH.
    #[arg(long = "target", visible_aliases = ["to", "from"], value_name = "DIR|s3://…|sftp://…")]
    target: String,
    /// S3 endpoint URL (default $SIPSENTRY_S3_ENDPOINT). Credentials come from
    /// $AWS_ACCESS_KEY_ID/$AWS_SECRET_ACCESS_KEY or --s3-credentials-file.
    #[arg(long)]
    s3_endpoint: Option<String>,
    /// S3 region (default $AWS_REGION, else us-east-1).
    #[arg(long)]
    s3_region: Option<String>,
    /// File with AWS_ACCESS_KEY_ID=… and AWS_SECRET_ACCESS_KEY=… lines.
    #[arg(long, value_name = "FILE")]
    s3_credentials_file: Option<PathBuf>,
    /// SSH private key for an sftp:// target (default: ssh-agent / ~/.ssh config).
    #[arg(long, value_name = "FILE")]
    sftp_identity: Option<PathBuf>,
    /// Extra `ssh -o` option for an sftp:// target; repeatable (e.g. UserKnownHostsFile=…).
    #[arg(long, value_name = "KEY=VALUE")]
    sftp_option: Vec<String>,
}

#[derive(clap::Args, Debug)]
struct KeygenArgs {
    /// Directory for the four key files (created; existing files are never overwritten).
    #[arg(long, value_name = "DIR")]
    out_dir: PathBuf,
}

#[derive(clap::Args, Debug)]
struct EncArgs {
    /// age X25519 recipient (public key age1…); repeatable.
    #[arg(long, value_name = "AGE1…")]
    recipient: Vec<String>,
    /// File of age recipients, one per line.
    #[arg(long, value_name = "FILE")]
    recipients_file: Vec<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct DecArgs {
    /// age identity file (AGE-SECRET-KEY-1…); repeatable.
    #[arg(long, value_name = "FILE")]
    identity: Vec<PathBuf>,
    /// Trusted Ed25519 public key (backup-verify.pub) that must have signed the manifest.
    #[arg(long, value_name = "FILE", required_unless_present = "signing_key")]
    verify_key: Option<PathBuf>,
    /// Alternatively the signing key itself (its public half is trusted).
    #[arg(long, value_name = "FILE")]
    signing_key: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct CreateArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// File or directory to back up; repeatable.
    #[arg(long, required = true, value_name = "PATH")]
    source: Vec<PathBuf>,
    /// Backup name (the ID is NAME-YYYYMMDDTHHMMSSZ).
    #[arg(long, default_value = "sipsentry")]
    name: String,
    #[command(flatten)]
    enc: EncArgs,
    /// Passphrase file (first line) instead of recipients; default $SIPSENTRY_BACKUP_PASSPHRASE.
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Ed25519 signing key (from `backup keygen`).
    #[arg(long, value_name = "FILE")]
    signing_key: PathBuf,
    /// S3 Object Lock mode for every object of this backup.
    #[arg(long, value_enum, requires = "retain_days")]
    lock_mode: Option<LockMode>,
    /// Retention period in days (S3 Object Lock; recorded and honoured by prune on any target).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=36500))]
    retain_days: Option<u32>,
    /// Where to stage the encrypted archive before upload (S3 targets; default the temp dir).
    #[arg(long, value_name = "DIR")]
    staging_dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Copy, Clone, Debug, clap::ValueEnum)]
enum LockMode {
    /// Nobody, not even the account root, can delete or shorten the retention.
    Compliance,
    /// Users with s3:BypassGovernanceRetention can; everyone else cannot.
    Governance,
}

#[derive(clap::Args, Debug)]
struct VerifyArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Backup ID (default: every backup on the target).
    #[arg(long)]
    id: Option<String>,
    #[command(flatten)]
    dec: DecArgs,
    /// Passphrase file; default $SIPSENTRY_BACKUP_PASSPHRASE.
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// POST an alert JSON to this URL when verification fails.
    #[arg(long, value_name = "URL")]
    webhook: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(clap::Args, Debug)]
struct RestoreArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Backup ID (default: the newest).
    #[arg(long)]
    id: Option<String>,
    #[command(flatten)]
    dec: DecArgs,
    /// Passphrase file; default $SIPSENTRY_BACKUP_PASSPHRASE.
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Glob (`*`, `?`) that some entry of every restored zip must match; repeatable.
    #[arg(long, value_name = "PATTERN")]
    expect_entry: Vec<String>,
    /// Parent directory for the scratch restore (default the temp dir).
    #[arg(long, value_name = "DIR")]
    scratch: Option<PathBuf>,
    /// Keep the restored files (path printed) instead of deleting them.
    #[arg(long)]
    keep: bool,
    /// POST the alert JSON to this URL when the drill fails.
    #[arg(long, value_name = "URL")]
    webhook: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(clap::Args, Debug)]
struct ListArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Alert BACKUP-STALE (and exit 1) when the newest backup is older than this many hours.
    #[arg(long, value_name = "HOURS")]
    max_age_hours: Option<u64>,
    /// POST the BACKUP-STALE alert to this URL.
    #[arg(long, value_name = "URL")]
    webhook: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(clap::Args, Debug)]
struct PruneArgs {
    #[command(flatten)]
    target: TargetArgs,
    #[arg(long, default_value_t = 0)]
    keep_last: usize,
    #[arg(long, default_value_t = 0)]
    keep_daily: usize,
    #[arg(long, default_value_t = 0)]
    keep_weekly: usize,
    #[arg(long, default_value_t = 0)]
    keep_monthly: usize,
    /// Show what would be deleted without deleting.
    #[arg(long)]
    dry_run: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

fn s3_target(a: &TargetArgs) -> Result<S3Target> {
    let endpoint = a
        .s3_endpoint
        .clone()
        .or_else(|| std::env::var("SIPSENTRY_S3_ENDPOINT").ok())
        .context("an s3:// target needs --s3-endpoint or $SIPSENTRY_S3_ENDPOINT")?;
    let region = a
        .s3_region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .unwrap_or_else(|| "us-east-1".into());
    let creds = match &a.s3_credentials_file {
        Some(f) => Credentials::from_file(f)?,
        None => Credentials::from_env().context(
            "S3 credentials missing: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or use --s3-credentials-file",
        )?,
    };
    Ok(S3Target::new(&a.target, &endpoint, &region, creds)?)
}

fn open_target(a: &TargetArgs) -> Result<Box<dyn Target>> {
    if a.target.starts_with("s3://") {
        Ok(Box::new(s3_target(a)?))
    } else if a.target.starts_with("sftp://") {
        Ok(Box::new(SftpTarget::new(
            &a.target,
            a.sftp_identity.clone(),
            a.sftp_option.clone(),
        )?))
    } else {
        let dir = a.target.strip_prefix("dir:").unwrap_or(&a.target);
        Ok(Box::new(LocalDir::new(dir)?))
    }
}

fn trusted_key(d: &DecArgs) -> Result<VerifyKey> {
    match (&d.verify_key, &d.signing_key) {
        (Some(p), _) => Ok(VerifyKey::from_file(p)?),
        (None, Some(p)) => Ok(SigningKey::from_file(p)?.verify_key()),
        (None, None) => bail!("give --verify-key (or --signing-key): the manifest signature must be checked against a key you trust"),
    }
}

fn decryption(d: &DecArgs, passphrase_file: Option<&Path>) -> Result<Decryption> {
    let mut dec = Decryption::default();
    for p in &d.identity {
        dec.add_identity_file(p)?;
    }
    if let Some(p) = keys::passphrase(passphrase_file)? {
        dec.set_passphrase(p);
    }
    Ok(dec)
}

fn print_json_line<T: serde::Serialize>(v: &T) -> Result<()> {
    println!("{}", serde_json::to_string(v)?);
    Ok(())
}

/// The guard's alert channels named by `--alert-config`, loaded once per run.
static CHANNELS: std::sync::OnceLock<Option<sipsentry_watch::config::Alerts>> =
    std::sync::OnceLock::new();

fn emit_alert(a: &Alert, webhook: Option<&str>) {
    if let Ok(s) = serde_json::to_string(a) {
        println!("{s}");
    }
    if let Some(Some(alerts)) = CHANNELS.get() {
        if let Ok(v) = serde_json::to_value(a) {
            let ev = sipsentry_watch::outputs::Event::Alert {
                alert: v,
                new: true,
            };
            for e in sipsentry_watch::outputs::deliver_once(alerts, &ev) {
                eprintln!("sipsentry: alert channel failed: {e}");
            }
        }
    }
    if let Some(url) = webhook {
        if let Err(e) = a.post(url) {
            eprintln!("sipsentry: alert webhook failed: {e}");
        }
    }
}

pub fn run(a: &Args) -> Result<u8> {
    let channels = match &a.alert_config {
        Some(p) => Some(sipsentry_watch::config::Config::load(p)?.alerts),
        None => None,
    };
    let _ = CHANNELS.set(channels);
    match a.cmd.as_ref() {
        Cmd::Keygen(k) => keygen(k),
        Cmd::Create(c) => create(c),
        Cmd::Verify(v) => verify(v),
        Cmd::RestoreTest(r) => restore_test(r),
        Cmd::List(l) => list(l),
        Cmd::Prune(p) => prune(p),
        Cmd::InitBucket(t) => {
            if !t.target.starts_with("s3://") {
                bail!("init-bucket needs an s3:// target");
            }
            s3_target(t)?.create_bucket_with_lock()?;
            println!("bucket ready with Object Lock: {}", t.target);
            Ok(0)
        }
    }
}

fn keygen(k: &KeygenArgs) -> Result<u8> {
    std::fs::create_dir_all(&k.out_dir)
        .with_context(|| format!("cannot create {}", k.out_dir.display()))?;
    let (identity, recipient) = keys::generate_identity();
    let sk = SigningKey::generate();
    let vk = sk.verify_key().to_string();
    let p = |n: &str| k.out_dir.join(n);
    for n in [
        "backup-identity.txt",
        "backup-signing.key",
        "backup-recipient.txt",
        "backup-verify.pub",
    ] {
        if p(n).exists() {
            bail!("{} exists: refusing to overwrite a key", p(n).display());
        }
    }
    let id_text = keys::Secret::from(format!(
        "# created by sipsentry backup keygen {}\n# public key: {recipient}\n{}\n",
        util::rfc3339(util::now_unix()),
        keys::Expose::expose_secret(&identity)
    ));
    keys::write_secret_file(&p("backup-identity.txt"), &id_text)?;
    keys::write_secret_file(&p("backup-signing.key"), &sk.to_file_text())?;
    std::fs::write(p("backup-recipient.txt"), format!("{recipient}\n"))?;
    std::fs::write(p("backup-verify.pub"), format!("{vk}\n"))?;
    println!("age recipient (public):   {recipient}");
    println!("verify key (public):      {vk}");
    println!(
        "secrets written (0600):   {} {}",
        p("backup-identity.txt").display(),
        p("backup-signing.key").display()
    );
    Ok(0)
}

fn create(c: &CreateArgs) -> Result<u8> {
    let target = open_target(&c.target)?;
    let mut recipients = Vec::new();
    for r in &c.enc.recipient {
        recipients.push(keys::parse_recipient(r)?);
    }
    for f in &c.enc.recipients_file {
        recipients.extend(keys::read_recipients_file(f)?);
    }
    // The environment passphrase is used only when no recipient is given, so a stray variable
    // cannot turn a recipients backup into an error.
    let pass = if recipients.is_empty() || c.passphrase_file.is_some() {
        keys::passphrase(c.passphrase_file.as_deref())?
    } else {
        None
    };
    let encryption = Encryption::from_parts(recipients, pass)?;
    let signer = SigningKey::from_file(&c.signing_key)?;
    let now = util::now_unix();
    let lock = c.retain_days.map(|d| {
        let until = now + d as i64 * 86_400;
        LockInfo {
            mode: match c.lock_mode {
                Some(LockMode::Compliance) => "COMPLIANCE".into(),
                Some(LockMode::Governance) => "GOVERNANCE".into(),
                None => "RECORDED".into(),
            },
            retain_until: util::rfc3339(until),
            retain_until_unix: until,
        }
    });
    let started = std::time::Instant::now();
    let m = archive::create(
        target.as_ref(),
        &CreateOptions {
            name: &c.name,
            sources: &c.source,
            encryption: &encryption,
            signer: &signer,
            lock,
            staging_dir: c.staging_dir.clone(),
            now: Some(now),
        },
    )?;
    let secs = started.elapsed().as_secs_f64();
    match c.format {
        Format::Json => print_json_line(&serde_json::json!({
            "id": m.id,
            "target": target.describe(),
            "archive": m.archive,
            "entries": m.entries.len(),
            "lock": m.lock,
            "seconds": secs,
        }))?,
        Format::Text => {
            println!("backup {} on {}", m.id, target.describe());
            println!(
                "  {} entries, {} bytes plaintext -> {} bytes {} ({:.1} MB/s)",
                m.entries.len(),
                m.archive.plaintext_size,
                m.archive.ciphertext_size,
                m.archive.encryption,
                m.archive.plaintext_size as f64 / 1e6 / secs.max(1e-9)
            );
            println!("  ciphertext sha256 {}", m.archive.ciphertext_sha256);
            if let Some(l) = &m.lock {
                println!("  retained until {} ({})", l.retain_until, l.mode);
            }
        }
    }
    Ok(0)
}

fn verify(v: &VerifyArgs) -> Result<u8> {
    let target = open_target(&v.target)?;
    let trusted = trusted_key(&v.dec)?;
    let dec = decryption(&v.dec, v.passphrase_file.as_deref())?;
    let ids = match &v.id {
        Some(id) => vec![id.clone()],
        None => archive::list_ids(target.as_ref())?,
    };
    if ids.is_empty() {
        bail!("no backup found on {}", target.describe());
    }
    let mut failed = false;
    for id in &ids {
        let started = std::time::Instant::now();
        match archive::verify(target.as_ref(), id, &trusted, Some(&dec), None) {
            Ok(ok) => {
                let secs = started.elapsed().as_secs_f64();
                let scope = if ok.decrypted {
                    "signature, ciphertext, plaintext and every entry"
                } else {
                    "signature and ciphertext only (no decryption key given)"
                };
                match v.format {
                    Format::Json => print_json_line(&serde_json::json!({
                        "id": id, "ok": true, "decrypted": ok.decrypted,
                        "entries_checked": ok.entries_checked, "seconds": secs,
                    }))?,
                    Format::Text => println!(
                        "OK   {id}: {scope} verified ({} entries, {:.1} s)",
                        ok.entries_checked, secs
                    ),
                }
            }
            Err(e) => {
                failed = true;
                match v.format {
                    Format::Json => print_json_line(&serde_json::json!({
                        "id": id, "ok": false, "check": e.check(), "error": e.to_string(),
                    }))?,
                    Format::Text => println!("FAIL {id}: {e}"),
                }
                let a = Alert::new(
                    alert::VERIFY_FAILED,
                    id,
                    &target.describe(),
                    e.check(),
                    format!("backup {id} failed verification: {e}"),
                );
                emit_alert(&a, v.webhook.as_deref());
            }
        }
    }
    Ok(u8::from(failed))
}

fn restore_test(r: &RestoreArgs) -> Result<u8> {
    let target = open_target(&r.target)?;
    let trusted = trusted_key(&r.dec)?;
    let dec = decryption(&r.dec, r.passphrase_file.as_deref())?;
    if dec.is_empty() {
        bail!("a restore drill decrypts: give --identity FILE or a passphrase (--passphrase-file or $SIPSENTRY_BACKUP_PASSPHRASE)");
    }
    let id = match &r.id {
        Some(id) => id.clone(),
        None => match archive::list_ids(target.as_ref())?.pop() {
            Some(id) => id,
            None => {
                let a = Alert::new(
                    alert::RESTORE_FAILED,
                    "",
                    &target.describe(),
                    "no-backup",
                    format!("no backup found on {}", target.describe()),
                );
                emit_alert(&a, r.webhook.as_deref());
                return Ok(1);
            }
        },
    };
    let report = drill::restore_test(
        target.as_ref(),
        &id,
        &trusted,
        &dec,
        &DrillOptions {
            expect_zip_entries: r.expect_entry.clone(),
            scratch_parent: r.scratch.clone(),
            keep_scratch: r.keep,
        },
    );
    match r.format {
        Format::Json => print_json_line(&report)?,
        Format::Text => {
            println!(
                "restore drill {} {}",
                id,
                if report.ok { "PASSED" } else { "FAILED" }
            );
            for c in &report.checks {
                println!(
                    "  [{}] {:<8} {}: {}",
                    if c.ok { "ok" } else { "FAIL" },
                    c.check,
                    c.subject,
                    c.detail
                );
            }
            if let Some(s) = &report.scratch {
                println!("  restored files kept in {}", s.display());
            }
        }
    }
    if let Some(f) = report.failure() {
        let mut a = Alert::new(
            alert::RESTORE_FAILED,
            &id,
            &target.describe(),
            &f.check,
            format!(
                "restore drill of {id} failed: {} {}: {}",
                f.check, f.subject, f.detail
            ),
        );
        a.details = report
            .checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| format!("{} {}: {}", c.check, c.subject, c.detail))
            .collect();
        emit_alert(&a, r.webhook.as_deref());
        return Ok(1);
    }
    Ok(0)
}

fn list(l: &ListArgs) -> Result<u8> {
    let target = open_target(&l.target)?;
    let ids = archive::list_ids(target.as_ref())?;
    let mut rows = Vec::new();
    for id in &ids {
        // Unsigned read: listing is informational; verify checks signatures.
        let m: Option<manifest::Manifest> = sipsentry_backup::target::get_capped(
            target.as_ref(),
            &manifest::manifest_object(id),
            None,
            manifest::MAX_MANIFEST_BYTES,
        )
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
        let storage_lock = target
            .lock_state(&manifest::archive_object(id))
            .ok()
            .flatten();
        rows.push(serde_json::json!({
            "id": id,
            "created": manifest::id_time(id).map(util::rfc3339),
            "ciphertext_size": m.as_ref().map(|m| m.archive.ciphertext_size),
            "entries": m.as_ref().map(|m| m.entries.len()),
            "encryption": m.as_ref().map(|m| m.archive.encryption.clone()),
            "storage_lock_until": storage_lock.as_ref().map(|l| util::rfc3339(l.retain_until_unix)),
            "storage_lock_mode": storage_lock.map(|l| l.mode),
            "recorded_retention_until": m.as_ref().and_then(|m| m.lock.as_ref().map(|l| l.retain_until.clone())),
        }));
    }
    match l.format {
        Format::Json => print_json_line(&rows)?,
        Format::Text => {
            println!("{} backups on {}", rows.len(), target.describe());
            for r in &rows {
                println!(
                    "  {}  {:>14} bytes  {:>6} entries  lock: {}",
                    r["id"].as_str().unwrap_or(""),
                    r["ciphertext_size"]
                        .as_u64()
                        .map(|n| n.to_string())
                        .unwrap_or("?".into()),
                    r["entries"]
                        .as_u64()
                        .map(|n| n.to_string())
                        .unwrap_or("?".into()),
                    r["storage_lock_until"]
                        .as_str()
                        .map(|u| format!(
                            "{} until {u}",
                            r["storage_lock_mode"].as_str().unwrap_or("")
                        ))
                        .or_else(|| r["recorded_retention_until"]
                            .as_str()
                            .map(|u| format!("recorded until {u}")))
                        .unwrap_or_else(|| "none".into())
                );
            }
        }
    }
    if let Some(h) = l.max_age_hours {
        let newest = ids.iter().filter_map(|id| manifest::id_time(id)).max();
        let limit = util::now_unix() - (h.min(1_000_000) as i64) * 3600;
        if newest.is_none_or(|t| t < limit) {
            let a = Alert::new(
                alert::STALE,
                ids.last().map(String::as_str).unwrap_or(""),
                &target.describe(),
                "max-age",
                match newest {
                    Some(t) => format!(
                        "newest backup is from {}, older than {h} h",
                        util::rfc3339(t)
                    ),
                    None => "no backup on the target".into(),
                },
            );
            emit_alert(&a, l.webhook.as_deref());
            return Ok(1);
        }
    }
    Ok(0)
}

fn prune(p: &PruneArgs) -> Result<u8> {
    let policy = Policy {
        keep_last: p.keep_last,
        daily: p.keep_daily,
        weekly: p.keep_weekly,
        monthly: p.keep_monthly,
    };
    if policy.is_empty() {
        bail!("an empty policy would delete every backup: give at least one of --keep-last/--keep-daily/--keep-weekly/--keep-monthly");
    }
    let target = open_target(&p.target)?;
    let decisions = retention::prune(target.as_ref(), &policy, util::now_unix(), p.dry_run)?;
    let failed = decisions
        .iter()
        .any(|d| matches!(d.action, Action::DeleteFailed { .. }));
    match p.format {
        Format::Json => print_json_line(&decisions)?,
        Format::Text => {
            for d in &decisions {
                let what = match &d.action {
                    Action::Keep { reasons } => format!("keep ({})", reasons.join(", ")),
                    Action::Delete { dry_run: true } => "would delete".into(),
                    Action::Delete { dry_run: false } => "deleted".into(),
                    Action::SkipLocked { until, source } => {
                        format!("past policy but locked until {until} ({source}): left alone")
                    }
                    Action::DeleteFailed { reason } => format!("delete FAILED: {reason}"),
                };
                println!("{}  {}", d.id, what);
            }
        }
    }
    Ok(u8::from(failed))
}

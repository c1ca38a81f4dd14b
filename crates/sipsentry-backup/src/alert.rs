//! Alerts raised by a failed drill or verification: one JSON line on stdout, optionally POSTed
//! to a webhook. The struct is deliberately flat so `watch`'s alert channels can route it.

use serde::{Deserialize, Serialize};
use sipsentry_report::{Finding, Severity};

/// A restore drill failed: the backup cannot be trusted to restore.
pub const RESTORE_FAILED: &str = "BACKUP-RESTORE-FAILED";
/// Signature, hash or decryption check of a stored backup failed.
pub const VERIFY_FAILED: &str = "BACKUP-VERIFY-FAILED";
/// No backup on the target is newer than the allowed age.
pub const STALE: &str = "BACKUP-STALE";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable alert ID (`BACKUP-RESTORE-FAILED`, `BACKUP-VERIFY-FAILED`, `BACKUP-STALE`).
    pub id: String,
    /// `critical`, `high`, ...
    pub severity: String,
    pub time: String,
    /// Backup ID concerned (empty when none exists).
    pub backup: String,
    /// Target description (never with credentials).
    pub target: String,
    /// Short name of the failed check (see `VerifyError::check` and the drill checks).
    pub check: String,
    pub summary: String,
    pub details: Vec<String>,
}

impl Alert {
    pub fn new(id: &str, backup: &str, target: &str, check: &str, summary: String) -> Self {
        Alert {
            id: id.into(),
            severity: "critical".into(),
            time: crate::util::rfc3339(crate::util::now_unix()),
            backup: backup.into(),
            target: target.into(),
            check: check.into(),
            summary,
            details: Vec::new(),
        }
    }

    /// The same event as a report finding (for the shared renderers and `--fail-on`).
    pub fn to_finding(&self) -> Finding {
        Finding {
            id: self.id.clone(),
            severity: Severity::Critical,
            title: self.summary.clone(),
            target: format!("{} {}", self.target, self.backup),
            evidence: std::iter::once(format!("failed check: {}", self.check))
                .chain(self.details.iter().cloned())
                .collect(),
            control: "Encrypted, offsite, immutable backups that are restore-tested".into(),
            remediation: "Treat as an incident: find out why the backup is damaged or unreadable, take a new backup now, and re-run `sipsentry backup restore-test`".into(),
        }
    }

    /// POSTs the alert as JSON (10 s timeout); the error text never includes the URL's query.
    pub fn post(&self, url: &str) -> Result<(), String> {
        let agent = ureq::AgentBuilder::new()
            .timeout(std::time::Duration::from_secs(10))
            .build();
        let body = serde_json::to_string(self).map_err(|e| e.to_string())?;
        agent
            .post(url)
            .set("Content-Type", "application/json")
            .send_string(&body)
            .map(|_| ())
            .map_err(|e| match e {
                ureq::Error::Status(code, _) => format!("webhook answered HTTP {code}"),
                ureq::Error::Transport(t) => format!("webhook unreachable: {}", t.kind()),
            })
    }
}

//! Findings and their renderings, shared by `sipsentry scan` and `sipsentry audit`.
//!
//! A [`Finding`] is what a user greps, suppresses and files tickets by: its `id` is stable
//! across releases (`SIP-ENUM-LEAK`, `AST-AMI-EXPOSED`, …), it carries the evidence that
//! proves it (already redacted by the producer: this crate never sees secrets), the hardening
//! control it maps to and what to do about it.
//!
//! Renderers are pure functions from findings to text, so every output format is tested on
//! fixed input and stays deterministic (findings are sorted by severity, then id, then target).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

mod html;
mod sarif;

pub use html::html;
pub use sarif::{sarif, RuleMeta};

/// How bad a finding is. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// SARIF 2.1.0 `level` (§3.27.10): SARIF has no "critical", so critical and high are errors.
    pub fn sarif_level(self) -> &'static str {
        match self {
            Severity::Critical | Severity::High => "error",
            Severity::Medium => "warning",
            Severity::Low | Severity::Info => "note",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A severity name the user typed (`--fail-on hgh`) that is not one of ours.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown severity {0:?}: expected one of info, low, medium, high, critical")]
pub struct UnknownSeverity(pub String);

impl FromStr for Severity {
    type Err = UnknownSeverity;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(UnknownSeverity(s.to_string())),
        }
    }
}

/// One problem found, with its proof and its fix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable identifier, `UPPER-KEBAB` (e.g. `SIP-UNAUTH-INVITE`).
    pub id: String,
    pub severity: Severity,
    /// One line a manager understands.
    pub title: String,
    /// What was examined: `udp:203.0.113.5:5060`, `pjsip.conf`, `3CX /xapi/v1/Users`.
    pub target: String,
    /// Observations that prove the finding, secrets already redacted.
    pub evidence: Vec<String>,
    /// The hardening control it maps to.
    pub control: String,
    pub remediation: String,
}

/// Deterministic order: most severe first, then by id, then by target.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.target.cmp(&b.target))
    });
}

/// `--fail-on SEVERITY`: true when any finding is at or above `threshold`.
pub fn fails(findings: &[Finding], threshold: Severity) -> bool {
    findings.iter().any(|f| f.severity >= threshold)
}

/// Count per severity, most severe first (zeros included so the shape is stable).
pub fn counts(findings: &[Finding]) -> Vec<(Severity, usize)> {
    Severity::ALL
        .iter()
        .map(|&s| (s, findings.iter().filter(|f| f.severity == s).count()))
        .collect()
}

/// Plain-text table grouped by severity, for a terminal. Hostile bytes (terminal escapes in a
/// Server header, say) are escaped: evidence comes from the network.
pub fn table(findings: &[Finding]) -> String {
    let mut sorted = findings.to_vec();
    sort(&mut sorted);
    let mut out = String::new();
    if sorted.is_empty() {
        out.push_str("no findings\n");
        return out;
    }
    for sev in Severity::ALL {
        let group: Vec<&Finding> = sorted.iter().filter(|f| f.severity == sev).collect();
        if group.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "== {} ({})\n",
            sev.as_str().to_ascii_uppercase(),
            group.len()
        ));
        for f in group {
            out.push_str(&format!(
                "{:<26} {}  [{}]\n",
                f.id,
                terminal_safe(&f.title),
                terminal_safe(&f.target)
            ));
            for e in &f.evidence {
                out.push_str(&format!("    evidence: {}\n", terminal_safe(e)));
            }
            out.push_str(&format!("    control:  {}\n", terminal_safe(&f.control)));
            out.push_str(&format!(
                "    fix:      {}\n",
                terminal_safe(&f.remediation)
            ));
        }
    }
    let summary: Vec<String> = counts(&sorted)
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    out.push_str(&format!(
        "== {} findings: {}\n",
        sorted.len(),
        summary.join(", ")
    ));
    out
}

/// Escape control characters so network-supplied text cannot drive the terminal.
pub fn terminal_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            match c {
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Markdown report: a heading, optional preamble lines, a summary table and one section per
/// finding. Table cells escape `|` so evidence cannot break the layout.
pub fn markdown(title: &str, preamble: &[String], findings: &[Finding]) -> String {
    let mut sorted = findings.to_vec();
    sort(&mut sorted);
    let mut out = format!("# {}\n\n", md_inline(title));
    for line in preamble {
        out.push_str(&format!("{}\n", md_inline(line)));
    }
    if !preamble.is_empty() {
        out.push('\n');
    }
    out.push_str("| severity | count |\n|---|---|\n");
    for (s, n) in counts(&sorted) {
        out.push_str(&format!("| {s} | {n} |\n"));
    }
    out.push('\n');
    if sorted.is_empty() {
        out.push_str("No findings.\n");
        return out;
    }
    out.push_str("| id | severity | title | target |\n|---|---|---|---|\n");
    for f in &sorted {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            f.id,
            f.severity,
            md_cell(&f.title),
            md_cell(&f.target)
        ));
    }
    for f in &sorted {
        out.push_str(&format!(
            "\n## {} — {}\n\n**Severity:** {}  \n**Target:** {}  \n**Control:** {}\n\n",
            f.id,
            md_inline(&f.title),
            f.severity,
            md_inline(&f.target),
            md_inline(&f.control)
        ));
        if !f.evidence.is_empty() {
            out.push_str("Evidence:\n\n```text\n");
            for e in &f.evidence {
                // A fence inside evidence would end the block early.
                out.push_str(&terminal_safe(e).replace("```", "`\u{200b}``"));
                out.push('\n');
            }
            out.push_str("```\n\n");
        }
        out.push_str(&format!("**Remediation:** {}\n", md_inline(&f.remediation)));
    }
    out
}

fn md_inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in terminal_safe(s).chars() {
        if matches!(c, '<' | '>' | '*' | '_' | '`' | '[' | ']' | '#' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn md_cell(s: &str) -> String {
    md_inline(s)
}

#[cfg(test)]
mod tests;

//! SARIF 2.1.0 (OASIS), the format CI systems (GitHub code scanning, GitLab) ingest.
use crate::{sort, Finding};
use serde_json::{json, Value};

/// Static description of a rule (finding kind) for SARIF's `tool.driver.rules`.
#[derive(Clone, Debug)]
pub struct RuleMeta {
    pub id: &'static str,
    pub title: &'static str,
    pub help: &'static str,
}

/// A SARIF log with one run. `rules` describes every ID the tool can emit; IDs that appear in
/// findings but not in `rules` still get a minimal rule entry so the log stays valid.
pub fn sarif(tool: &str, version: &str, rules: &[RuleMeta], findings: &[Finding]) -> Value {
    let mut sorted = findings.to_vec();
    sort(&mut sorted);
    let mut rule_ids: Vec<String> = rules.iter().map(|r| r.id.to_string()).collect();
    let mut rule_values: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "shortDescription": { "text": r.title },
                "help": { "text": r.help },
            })
        })
        .collect();
    for f in &sorted {
        if !rule_ids.iter().any(|r| r == &f.id) {
            rule_ids.push(f.id.clone());
            rule_values.push(json!({
                "id": f.id,
                "shortDescription": { "text": f.title },
                "help": { "text": f.remediation },
            }));
        }
    }
    let results: Vec<Value> = sorted
        .iter()
        .map(|f| {
            let index = rule_ids.iter().position(|r| r == &f.id).unwrap_or(0);
            json!({
                "ruleId": f.id,
                "ruleIndex": index,
                "level": f.severity.sarif_level(),
                "message": { "text": format!("{} ({})", f.title, f.target) },
                "locations": [ {
                    "physicalLocation": { "artifactLocation": { "uri": sarif_uri(&f.target) } }
                } ],
                "properties": {
                    "severity": f.severity.as_str(),
                    "target": f.target,
                    "evidence": f.evidence,
                    "control": f.control,
                    "remediation": f.remediation,
                },
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [ {
            "tool": { "driver": {
                "name": tool,
                "version": version,
                "informationUri": "https://example.invalid/sipsentry",
                "rules": rule_values,
            } },
            "results": results,
        } ],
    })
}

/// SARIF locations are URIs; a network target is not a file, so it becomes an opaque,
/// percent-encoded relative reference that viewers show as text.
fn sarif_uri(target: &str) -> String {
    let mut out = String::new();
    for b in target.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

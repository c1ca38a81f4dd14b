//! A score per control area: 100 with no findings, minus a weight per finding by severity.
//! Only areas that the audited sources can say something about are scored, so auditing a
//! firewall alone does not give full marks for MFA.

use crate::catalogue::{Area, RULES};
use serde::Serialize;
use sipsentry_report::{Finding, Severity};
use std::collections::BTreeMap;

/// Score of one area.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AreaScore {
    pub control: &'static str,
    pub score: u8,
    pub findings: usize,
    pub worst: Option<Severity>,
}

/// All scored areas and their mean.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Score {
    pub overall: u8,
    pub areas: BTreeMap<&'static str, AreaScore>,
}

fn weight(s: Severity) -> u32 {
    match s {
        Severity::Critical => 60,
        Severity::High => 35,
        Severity::Medium => 15,
        Severity::Low => 5,
        Severity::Info => 0,
    }
}

/// Score `findings` over the areas covered by rules whose ID starts with one of `prefixes`
/// (`"AST-"`, `"FW-"`, …: the sources that were audited).
pub fn score(findings: &[Finding], prefixes: &[&str]) -> Score {
    let mut areas = BTreeMap::new();
    for area in Area::ALL {
        let covered = RULES
            .iter()
            .any(|r| r.area == area && prefixes.iter().any(|p| r.id.starts_with(p)));
        if !covered {
            continue;
        }
        let mine: Vec<&Finding> = findings
            .iter()
            .filter(|f| RULES.iter().any(|r| r.id == f.id && r.area == area))
            .collect();
        let penalty: u32 = mine.iter().map(|f| weight(f.severity)).sum();
        areas.insert(
            area.key(),
            AreaScore {
                control: area.control(),
                score: 100u32.saturating_sub(penalty) as u8,
                findings: mine.len(),
                worst: mine.iter().map(|f| f.severity).max(),
            },
        );
    }
    let overall = if areas.is_empty() {
        100
    } else {
        (areas.values().map(|a| a.score as u32).sum::<u32>() / areas.len() as u32) as u8
    };
    Score { overall, areas }
}

/// Rule-ID prefixes of the sources that contributed facts.
pub fn prefixes_for(facts: &crate::Facts) -> Vec<&'static str> {
    let mut p = Vec::new();
    for (fact, rule) in [
        ("ast.", "AST-"),
        ("fs.", "FS-"),
        ("3cx.", "3CX-"),
        ("fw.", "FW-"),
        ("host.", "HOST-"),
    ] {
        if facts.with_prefix(fact).next().is_some() {
            p.push(rule);
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::rule;

    #[test]
    fn only_covered_areas_are_scored() {
        let f = vec![rule("FW-SIP-OPEN-ANY").finding("nft", vec![])];
        let s = score(&f, &["FW-"]);
        assert!(!s.areas.contains_key("mfa"));
        assert_eq!(s.areas["ip-allow-lists"].score, 65);
        assert_eq!(s.areas["sip-alg-off"].score, 100);
    }
}

//! Conformance with the CrowdSec hub tests in `tests/vectors/logs/crowdsec/`.
//!
//! A tiny evaluator reads the assert shapes present in those files:
//! * parser: `results["s01-parse"]["crowdsecurity/<p>"][i].Success == bool`,
//!   `.Evt.Parsed["source_ip"|"remote_ip"|"source_port"|"username"] == "..."`,
//!   `.Evt.Meta["source_ip"|"target_user"|"sub_type"|"log_type"] == "..."`, `len(...) == n`,
//!   and `results["s00-raw"]["crowdsecurity/syslog-logs"][i].Success` (is the line syslog-framed?);
//! * scenario: `len(results) == n`, `"<ip>" in results[0].Overflow.GetSources()`,
//!   `GetScenario()`, `GetEventsCount()`, `Events[i].GetMeta("source_ip"|"target_user"|
//!   "sub_type"|"log_type"|"timestamp")`.
//!
//! Other shapes (datasource metadata, enrichment, message echo) are about CrowdSec's pipeline,
//! not about what a line means; they are counted as skipped.

mod common;

use sipsentry_logs::crowdsec::{
    crowdsec_like_decision_with, BucketSpec, ASTERISK_BF, ASTERISK_USER_ENUM,
    FREESWITCH_ACL_REJECT, FREESWITCH_BF, FREESWITCH_USER_ENUMERATION,
};
use sipsentry_logs::{detect_format, parse_line, Format, LineContext, LogEventKind, OwnedLogEvent};

const TESTS: [&str; 8] = [
    "asterisk-bf",
    "asterisk-logs",
    "asterisk-syslogs",
    "asterisk-user-enum",
    "freeswitch",
    "freeswitch-acl-reject",
    "freeswitch-bf",
    "freeswitch-user-enumeration",
];

/// CrowdSec's test harness assumes the current year for year-less dates; any year works for
/// what is compared here.
fn ctx() -> LineContext {
    LineContext::new(2021)
}

fn yaml_value<'a>(yaml: &'a str, key: &str) -> Option<&'a str> {
    yaml.lines().find_map(|l| {
        l.strip_prefix(key)
            .and_then(|r| r.strip_prefix(':'))
            .map(|v| v.trim().trim_matches('"'))
    })
}

/// Split `lhs == rhs`; the right side is a JSON literal (string/bool/number).
fn split_eq(line: &str) -> Option<(&str, serde_json::Value)> {
    let (lhs, rhs) = line.split_once(" == ")?;
    let v = serde_json::from_str(rhs.trim()).ok()?;
    Some((lhs.trim(), v))
}

/// `...[12]...` → 12 and the rest after `]`.
fn index(s: &str) -> Option<(usize, &str)> {
    let r = s.strip_prefix('[')?;
    let (n, rest) = r.split_once(']')?;
    Some((n.parse().ok()?, rest))
}

fn quoted_key<'a>(s: &'a str, prefix: &str) -> Option<(&'a str, &'a str)> {
    let r = s.strip_prefix(prefix)?;
    let (k, rest) = r.split_once('"')?;
    Some((k, rest))
}

fn sub_type(kind: LogEventKind) -> &'static str {
    match kind {
        LogEventKind::UnknownUser => "user_enumeration",
        LogEventKind::AclReject => "acl_reject",
        LogEventKind::AuthFailure => "auth_failure",
        _ => "other",
    }
}

fn spec_for(scenario: &str) -> &'static BucketSpec {
    match scenario {
        "crowdsecurity/asterisk_bf" => &ASTERISK_BF,
        "crowdsecurity/asterisk_user_enum" => &ASTERISK_USER_ENUM,
        "crowdsecurity/freeswitch-bf" => &FREESWITCH_BF,
        "crowdsecurity/freeswitch-user-enumeration" => &FREESWITCH_USER_ENUMERATION,
        "crowdsecurity/freeswitch-acl-reject" => &FREESWITCH_ACL_REJECT,
        other => panic!("unknown scenario {other}"),
    }
}

#[derive(Default)]
struct Tally {
    agree: usize,
    skipped: usize,
    failures: Vec<String>,
}

impl Tally {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if ok {
            self.agree += 1;
        } else {
            self.failures.push(what());
        }
    }
}

fn as_str(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Per-line result: our event (any kind) and whether it counts as a CrowdSec failure line.
fn parse_all(lines: &[&[u8]]) -> Vec<Option<OwnedLogEvent>> {
    let c = ctx();
    lines
        .iter()
        .map(|l| parse_line(l, &c).map(|e| e.to_owned_event()))
        .collect()
}

fn eval_parser(test: &str, lines: &[&[u8]], asserts: &str, t: &mut Tally) {
    let events = parse_all(lines);
    for (n, a) in asserts.lines().enumerate() {
        let at = || format!("{test}/parser.assert:{}: {a}", n + 1);
        let Some((lhs, want)) = split_eq(a) else {
            if !a.trim().is_empty() {
                t.skipped += 1;
            }
            continue;
        };
        // len(results["s01-parse"]["crowdsecurity/x"]) == n
        if let Some(inner) = lhs.strip_prefix("len(results[\"s01-parse\"]") {
            let _ = inner;
            t.check(want.as_u64() == Some(lines.len() as u64), at);
            continue;
        }
        if let Some(rest) = lhs.strip_prefix("results[\"s00-raw\"][\"crowdsecurity/syslog-logs\"]")
        {
            if let Some((i, field)) = index(rest) {
                if field == ".Success" {
                    let f = lines.get(i).map(|l| detect_format(std::iter::once(*l)));
                    let is_syslog =
                        matches!(f, Some(Format::AsteriskSyslog | Format::FreeSwitchSyslog));
                    t.check(want.as_bool() == Some(is_syslog), at);
                    continue;
                }
            }
            t.skipped += 1;
            continue;
        }
        let Some(rest) = lhs.strip_prefix("results[\"s01-parse\"][\"crowdsecurity/") else {
            t.skipped += 1;
            continue;
        };
        let Some((_, rest)) = rest.split_once("\"]") else {
            t.skipped += 1;
            continue;
        };
        let Some((i, field)) = index(rest) else {
            t.skipped += 1;
            continue;
        };
        let ev = events.get(i).and_then(|e| e.as_ref());
        let failure = ev.filter(|e| e.kind.is_failure());
        if field == ".Success" {
            t.check(want.as_bool() == Some(failure.is_some()), || {
                format!("{} (we: {:?})", at(), ev.map(|e| e.kind))
            });
            continue;
        }
        let want_s = as_str(&want);
        let Some(e) = failure else {
            t.check(false, || format!("{} (we produced no failure event)", at()));
            continue;
        };
        let got: Option<String> = if let Some((k, _)) = quoted_key(field, ".Evt.Parsed[\"") {
            match k {
                "source_ip" | "remote_ip" => Some(e.source.to_string()),
                "source_port" => e.source_port.map(|p| p.to_string()),
                "username" => e.user.as_ref().map(|u| String::from_utf8_lossy(u).into()),
                _ => None,
            }
        } else if let Some((k, _)) = quoted_key(field, ".Evt.Meta[\"") {
            match k {
                "source_ip" => Some(e.source.to_string()),
                "target_user" => e.user.as_ref().map(|u| String::from_utf8_lossy(u).into()),
                "sub_type" => Some(sub_type(e.kind).to_string()),
                "log_type" => Some("asterisk_failed_auth".to_string()),
                "service" => Some(e.service.to_string()),
                _ => None,
            }
        } else {
            None
        };
        match got {
            Some(g) => t.check(g == want_s, || format!("{} (we: {g:?})", at())),
            None => t.skipped += 1,
        }
    }
}

fn eval_scenario(test: &str, lines: &[&[u8]], asserts: &str, t: &mut Tally) {
    if asserts.trim().is_empty() {
        return;
    }
    let scenario = asserts
        .lines()
        .find_map(|l| {
            let (lhs, v) = split_eq(l)?;
            (lhs == "results[0].Overflow.Alert.GetScenario()").then(|| as_str(&v))
        })
        .expect("scenario name");
    let spec = spec_for(&scenario);
    let events: Vec<OwnedLogEvent> = parse_all(lines)
        .into_iter()
        .flatten()
        .filter(|e| spec.kinds.contains(&e.kind))
        .collect();
    let overflows = crowdsec_like_decision_with(&events, spec);
    for (n, a) in asserts.lines().enumerate() {
        let at = || format!("{test}/scenario.assert:{}: {a}", n + 1);
        if let Some(ip) = a
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix("\" in results[0].Overflow.GetSources()"))
        {
            t.check(
                overflows.first().map(|o| o.source.to_string()).as_deref() == Some(ip),
                || format!("{} (we: {overflows:?})", at()),
            );
            continue;
        }
        let Some((lhs, want)) = split_eq(a) else {
            if !a.trim().is_empty() {
                t.skipped += 1;
            }
            continue;
        };
        let want_s = as_str(&want);
        if lhs == "len(results)" {
            t.check(want.as_u64() == Some(overflows.len() as u64), || {
                format!("{} (we: {} overflows)", at(), overflows.len())
            });
            continue;
        }
        if lhs == "results[0].Overflow.Alert.GetScenario()" {
            t.check(want_s == spec.name, at);
            continue;
        }
        if lhs == "results[0].Overflow.Alert.GetEventsCount()" {
            let n_ours = overflows.first().map(|o| o.events);
            // Also: our events for the banned IP, in total, are exactly the alert's events.
            let for_ip = overflows
                .first()
                .map(|o| events.iter().filter(|e| e.source == o.source).count());
            t.check(
                want.as_u64().map(|w| w as usize) == n_ours && n_ours == for_ip,
                || format!("{} (we: bucket {n_ours:?}, events for ip {for_ip:?})", at()),
            );
            continue;
        }
        if let Some(rest) = lhs.strip_prefix("results[0].Overflow.Alert.Events") {
            let Some((i, field)) = index(rest) else {
                t.skipped += 1;
                continue;
            };
            let Some((key, _)) = quoted_key(field, ".GetMeta(\"") else {
                t.skipped += 1;
                continue;
            };
            let e = events.get(i);
            let got: Option<String> = match (key, e) {
                (_, None) => Some("<no event>".into()),
                ("source_ip", Some(e)) => Some(e.source.to_string()),
                ("target_user", Some(e)) => {
                    e.user.as_ref().map(|u| String::from_utf8_lossy(u).into())
                }
                ("sub_type", Some(e)) => Some(sub_type(e.kind).into()),
                ("log_type", Some(e)) => e.kind.is_failure().then(|| "asterisk_failed_auth".into()),
                ("service", Some(e)) => Some(e.service.into()),
                ("timestamp", Some(e)) => e.ts.map(common::go_rfc3339),
                _ => None,
            };
            match got {
                Some(g) => t.check(g == want_s, || format!("{} (we: {g:?})", at())),
                None if matches!(key, "target_user" | "log_type" | "timestamp") => {
                    t.check(false, || format!("{} (we: none)", at()))
                }
                None => t.skipped += 1,
            }
            continue;
        }
        t.skipped += 1;
    }
}

#[test]
fn crowdsec_hub_asserts() {
    let mut total = Tally::default();
    for test in TESTS {
        let dir = format!("crowdsec/{test}");
        let config = String::from_utf8(common::read(&format!("{dir}/config.yaml"))).unwrap();
        let log_file = yaml_value(&config, "log_file").expect("log_file");
        let buf = common::read(&format!("{dir}/{log_file}"));
        let lines = common::file_lines(&buf);
        let parser = String::from_utf8(common::read(&format!("{dir}/parser.assert"))).unwrap();
        let scenario = String::from_utf8(common::read(&format!("{dir}/scenario.assert"))).unwrap();
        let mut t = Tally::default();
        eval_parser(test, &lines, &parser, &mut t);
        eval_scenario(test, &lines, &scenario, &mut t);
        eprintln!(
            "{test}: {} asserts agree, {} disagree, {} skipped (pipeline metadata)",
            t.agree,
            t.failures.len(),
            t.skipped
        );
        total.agree += t.agree;
        total.skipped += t.skipped;
        total.failures.extend(t.failures);
    }
    eprintln!(
        "CrowdSec total: {} agree, {} disagree, {} skipped",
        total.agree,
        total.failures.len(),
        total.skipped
    );
    assert!(
        total.failures.is_empty(),
        "{} disagreements:\n{}",
        total.failures.len(),
        total.failures.join("\n")
    );
}

/// The log_type in each config.yaml is what `detect_format` finds.
#[test]
fn crowdsec_log_types_detected() {
    for test in TESTS {
        let dir = format!("crowdsec/{test}");
        let config = String::from_utf8(common::read(&format!("{dir}/config.yaml"))).unwrap();
        let log_file = yaml_value(&config, "log_file").unwrap();
        let log_type = yaml_value(&config, "log_type").unwrap();
        let buf = common::read(&format!("{dir}/{log_file}"));
        let f = detect_format(common::file_lines(&buf));
        let ok = match log_type {
            "asterisk" => matches!(f, Format::AsteriskSecurity | Format::AsteriskFull),
            "syslog" => f == Format::AsteriskSyslog,
            "freeswitch" => f == Format::FreeSwitch,
            other => panic!("{test}: unexpected log_type {other}"),
        };
        assert!(ok, "{test}: log_type {log_type} but detected {f:?}");
    }
}

/// The evaluator must notice a wrong expectation (guards against a vacuous evaluator).
#[test]
fn evaluator_detects_disagreement() {
    let lines: [&[u8]; 1] = [
        b"2023-03-06 15:11:14.385000 96.03% [WARNING] sofia_reg.c:3223 Can't find user [2501@1.2.3.4] from 1.2.3.4",
    ];
    let mut t = Tally::default();
    eval_parser(
        "self-test",
        &lines,
        "results[\"s01-parse\"][\"crowdsecurity/freeswitch\"][0].Evt.Parsed[\"remote_ip\"] == \"9.9.9.9\"\n\
         results[\"s01-parse\"][\"crowdsecurity/freeswitch\"][0].Success == false\n\
         results[\"s01-parse\"][\"crowdsecurity/freeswitch\"][0].Evt.Meta[\"sub_type\"] == \"user_enumeration\"",
        &mut t,
    );
    assert_eq!(t.failures.len(), 2, "{:?}", t.failures);
    assert_eq!(t.agree, 1);
}

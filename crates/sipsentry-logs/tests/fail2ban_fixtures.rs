//! Conformance with fail2ban's own test fixtures (`# failJSON:` labels) and, in
//! `fail2ban_regex_agrees`, with Debian's `fail2ban-regex` run on the same files.

mod common;

use serde_json::Value;
use sipsentry_logs::{parse_line_detailed, LineContext, LogEvent, LogEventKind};
use std::net::IpAddr;
use std::process::Command;

/// fail2ban's test suite pins "now" to 2005-08-14 12:00 (`MyTime.setTime(1124013600)`): year-less
/// dates get 2005, or 2004 when they would lie in the future (the `Nov 4` line).
fn f2b_ctx() -> LineContext {
    let mut c = LineContext::new(2005);
    c.year_rollover_reference = Some(1_124_013_600);
    c
}

/// Which event kinds a fail2ban filter mode counts as a failure.
fn mode_accepts(filter: &str, mode: &str, kind: LogEventKind) -> bool {
    match filter {
        // freeswitch.conf: normal = cmnfailre + auth failure; ddos = auth failure|challenge;
        // extra (default) = both.
        "freeswitch" => match mode {
            "normal" => matches!(kind, LogEventKind::AuthFailure | LogEventKind::UnknownUser),
            "ddos" => matches!(
                kind,
                LogEventKind::AuthFailure | LogEventKind::AuthChallenge
            ),
            _ => matches!(
                kind,
                LogEventKind::AuthFailure | LogEventKind::AuthChallenge | LogEventKind::UnknownUser
            ),
        },
        _ => kind.is_failure(),
    }
}

struct OptionSet {
    mode: String,
    prefix: String,
}

fn option_sets(v: &Value) -> Vec<OptionSet> {
    let arr = match v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    arr.iter()
        .map(|o| OptionSet {
            mode: o
                .get("mode")
                .and_then(Value::as_str)
                .unwrap_or("extra")
                .to_string(),
            prefix: o
                .get("test.prefix-line")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    labelled: usize,
    checks: usize,
    matched: usize,
    negatives_ok: usize,
    failures: Vec<String>,
}

fn ev_desc(ev: &LogEvent<'_>) -> String {
    format!("{} {} {:?}", ev.kind.as_str(), ev.source, ev.ts)
}

fn run_fixture(file: &str, filter: &str) -> Tally {
    let buf = common::read(file);
    let lines = common::file_lines(&buf);
    let ctx = f2b_ctx();
    let mut opts = vec![OptionSet {
        mode: "extra".into(),
        prefix: String::new(),
    }];
    let mut label: Option<(usize, Value)> = None;
    let mut t = Tally::default();
    for (i, raw) in lines.iter().enumerate() {
        let lineno = i + 1;
        let text = String::from_utf8_lossy(raw);
        if let Some(rest) = text.strip_prefix("# filterOptions:") {
            let v: Value = serde_json::from_str(rest.trim())
                .unwrap_or_else(|e| panic!("{file}:{lineno}: bad filterOptions: {e}"));
            opts = option_sets(&v);
            continue;
        }
        if let Some(rest) = text.strip_prefix("# failJSON:") {
            let v: Value = serde_json::from_str(rest.trim())
                .unwrap_or_else(|e| panic!("{file}:{lineno}: bad failJSON: {e}"));
            label = Some((lineno, v));
            continue;
        }
        if text.starts_with('#') || text.trim().is_empty() {
            continue;
        }
        let Some((label_line, v)) = label.take() else {
            continue;
        };
        t.labelled += 1;
        let must_match = v.get("match").and_then(Value::as_bool).unwrap_or(false);
        let host: Option<IpAddr> = v
            .get("host")
            .and_then(Value::as_str)
            .map(|h| h.parse().expect("host in failJSON"));
        let time = v
            .get("time")
            .and_then(Value::as_str)
            .map(|s| common::naive_iso_secs(s).expect("time in failJSON"));
        for o in &opts {
            t.checks += 1;
            let mut input = o.prefix.as_bytes().to_vec();
            input.extend_from_slice(raw);
            let res = parse_line_detailed(&input, &ctx);
            let counted = res
                .as_ref()
                .ok()
                .filter(|ev| mode_accepts(filter, &o.mode, ev.kind));
            let where_ = format!("{file}:{lineno} (label line {label_line}, mode {})", o.mode);
            if must_match {
                match counted {
                    None => t.failures.push(format!(
                        "{where_}: expected a match for {host:?}, got {:?}",
                        res.as_ref().map(ev_desc)
                    )),
                    Some(ev) => {
                        let mut ok = true;
                        if let Some(h) = host {
                            if ev.source != h {
                                ok = false;
                                t.failures
                                    .push(format!("{where_}: host {} != expected {h}", ev.source));
                            }
                        }
                        if let Some(secs) = time {
                            let got = ev.ts.map(|ns| ns.div_euclid(1_000_000_000));
                            if got != Some(secs) {
                                ok = false;
                                t.failures.push(format!(
                                    "{where_}: time {got:?} != expected {secs} ({})",
                                    v["time"]
                                ));
                            }
                        }
                        if ok {
                            t.matched += 1;
                        }
                    }
                }
            } else if let Some(ev) = counted {
                t.failures.push(format!(
                    "{where_}: expected no failure event, got {}",
                    ev_desc(ev)
                ));
            } else {
                t.negatives_ok += 1;
            }
        }
    }
    eprintln!(
        "{file}: {} labelled lines, {} checks (line x option set): {} positive matches with host+time, {} negatives without event, {} mismatches",
        t.labelled,
        t.checks,
        t.matched,
        t.negatives_ok,
        t.failures.len()
    );
    t
}

fn assert_clean(t: Tally) {
    assert!(
        t.failures.is_empty(),
        "{} mismatches:\n{}",
        t.failures.len(),
        t.failures.join("\n")
    );
}

#[test]
fn asterisk_fail2ban_labels() {
    let t = run_fixture("asterisk.fail2ban.log", "asterisk");
    assert_eq!(t.labelled, 48, "all 48 labelled asterisk lines are seen");
    assert_eq!(t.matched, 48);
    assert_clean(t);
}

#[test]
fn freeswitch_fail2ban_labels() {
    let t = run_fixture("freeswitch.fail2ban.log", "freeswitch");
    assert_eq!(t.labelled, 11);
    // 1 challenge line x {extra, ddos} + 9 failure lines x {extra, normal}; 1 negative x 2.
    assert_eq!(t.matched, 20);
    assert_eq!(t.negatives_ok, 2);
    assert_clean(t);
}

/// The AuthChallenge line must not count in fail2ban's `normal` mode.
#[test]
fn freeswitch_challenge_is_not_a_failure() {
    let line = b"2013-12-31 17:39:54.767815 [WARNING] sofia_reg.c:1533 SIP auth challenge (INVITE) on sofia profile 'internal' for [011448708752617@192.168.2.51] from ip 81.94.202.251";
    let ev = parse_line_detailed(line, &f2b_ctx()).unwrap();
    assert_eq!(ev.kind, LogEventKind::AuthChallenge);
    assert!(!ev.kind.is_failure());
    assert!(!mode_accepts("freeswitch", "normal", ev.kind));
}

/// Runs `fail2ban-regex FILE FILTER` and returns (matched line, host) pairs in file order.
fn fail2ban_regex(file: &std::path::Path, filter: &str) -> Vec<(String, String)> {
    let run = |out: &str| -> Vec<String> {
        let o = Command::new("fail2ban-regex")
            .arg("-o")
            .arg(out)
            .arg(file)
            .arg(filter)
            .env("LC_ALL", "C.UTF-8")
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "fail2ban-regex could not be run ({e}). This test needs Debian's fail2ban \
                     package: `apt-get install -y fail2ban`."
                )
            });
        assert!(
            o.status.success(),
            "fail2ban-regex {out} {} {filter} failed: {}",
            file.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    };
    let msgs = run("msg");
    let ips = run("ip");
    assert_eq!(
        msgs.len(),
        ips.len(),
        "fail2ban-regex msg/ip outputs differ in length"
    );
    msgs.into_iter().zip(ips).collect()
}

/// Every line Debian's fail2ban matches must give the same host with us.
#[test]
fn fail2ban_regex_agrees() {
    let filter_dir = std::path::Path::new("/etc/fail2ban/filter.d");
    assert!(
        filter_dir.join("asterisk.conf").exists() && filter_dir.join("freeswitch.conf").exists(),
        "fail2ban filters missing in /etc/fail2ban/filter.d. This test needs Debian's fail2ban \
         package: `apt-get install -y fail2ban`."
    );
    let ctx = f2b_ctx();
    let cases = [
        (
            "asterisk.fail2ban.log",
            "/etc/fail2ban/filter.d/asterisk.conf",
        ),
        (
            "freeswitch.fail2ban.log",
            "/etc/fail2ban/filter.d/freeswitch.conf",
        ),
        (
            "freeswitch.fail2ban.log",
            "/etc/fail2ban/filter.d/freeswitch.conf[mode=normal]",
        ),
        (
            "crowdsec/asterisk-bf/asterisk-bf.log",
            "/etc/fail2ban/filter.d/asterisk.conf",
        ),
        (
            "crowdsec/asterisk-user-enum/asterisk-user-enum.log",
            "/etc/fail2ban/filter.d/asterisk.conf",
        ),
        (
            "crowdsec/asterisk-logs/asterisk-logs.log",
            "/etc/fail2ban/filter.d/asterisk.conf",
        ),
        (
            "crowdsec/asterisk-syslogs/asterisk-logs.log",
            "/etc/fail2ban/filter.d/asterisk.conf",
        ),
        (
            "crowdsec/freeswitch/freeswitch.log",
            "/etc/fail2ban/filter.d/freeswitch.conf",
        ),
        (
            "crowdsec/freeswitch-bf/freeswitch.log",
            "/etc/fail2ban/filter.d/freeswitch.conf",
        ),
    ];
    let mut failures = Vec::new();
    let mut total = 0;
    for (file, filter) in cases {
        let path = common::vectors().join(file);
        let buf = std::fs::read(&path).unwrap();
        let file_lines: Vec<String> = common::file_lines(&buf)
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        let pairs = fail2ban_regex(&path, filter);
        let mut n = 0;
        for (msg, ip) in &pairs {
            total += 1;
            n += 1;
            let lineno = file_lines
                .iter()
                .position(|l| l == msg)
                .map(|i| i + 1)
                .unwrap_or(0);
            let want: IpAddr = match ip.parse() {
                Ok(ip) => ip,
                Err(_) => {
                    failures.push(format!(
                        "{file}:{lineno}: fail2ban host {ip:?} is not an IP"
                    ));
                    continue;
                }
            };
            match parse_line_detailed(msg.as_bytes(), &ctx) {
                Ok(ev) if !(ev.kind.is_failure() || ev.kind == LogEventKind::AuthChallenge) => {
                    failures.push(format!(
                        "{file}:{lineno}: we say {} {}, fail2ban says failure from {want}",
                        ev.kind.as_str(),
                        ev.source
                    ))
                }
                Ok(ev) if ev.source != want => failures.push(format!(
                    "{file}:{lineno}: host {} != fail2ban {want}",
                    ev.source
                )),
                Ok(_) => {}
                Err(r) => failures.push(format!(
                    "{file}:{lineno}: fail2ban matched {want}, we refused: {r}"
                )),
            }
        }
        eprintln!("fail2ban-regex {file} with {filter}: {n} matched lines compared");
    }
    eprintln!(
        "fail2ban-regex agreement: {total} lines, {} disagreements",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

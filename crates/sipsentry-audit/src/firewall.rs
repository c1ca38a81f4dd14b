//! Firewall rulesets (nftables JSON, `iptables-save` text) → facts → findings.
//!
//! Both syntaxes are reduced to one small model (base input chains, rules of matches and a
//! verdict), then a *probe* is walked through it: a new connection from an arbitrary untrusted
//! address to one port. Where the probe is accepted, that port is open to any source. A match
//! the model does not understand makes its rule not match the probe and is counted, so an
//! exotic ruleset is reported as such rather than guessed at.

use crate::catalogue::rule;
use crate::facts::{obj, Facts};
use crate::policy::{Cidr, Policy};
use serde_json::Value;
use sipsentry_report::Finding;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Largest ruleset read (text or JSON).
pub const MAX_RULESET_BYTES: usize = 64 * 1024 * 1024;
const MAX_JUMP_DEPTH: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum FirewallError {
    #[error("`{cmd}` could not be run ({source}): install the `{package}` package")]
    Missing {
        cmd: String,
        package: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("`{cmd}` failed: {stderr}")]
    Failed { cmd: String, stderr: String },
    #[error("not an nftables JSON ruleset (`nft -j list ruleset`): {0}")]
    NotNftJson(String),
    #[error("ruleset larger than {MAX_RULESET_BYTES} bytes")]
    TooLarge,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Verdict {
    Accept,
    Drop,
    Jump(String),
    Goto(String),
    Return,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Match {
    /// Layer-4 protocol in the list (negated when `neg`).
    Proto {
        protos: Vec<String>,
        neg: bool,
    },
    /// Destination port in ranges; `proto` None for `th dport`.
    DPort {
        proto: Option<String>,
        ranges: Vec<(u16, u16)>,
        neg: bool,
    },
    /// IPv4 source in nets (an IPv6 match never matches our IPv4 probe).
    SAddr {
        nets: Vec<Cidr>,
        neg: bool,
        v6: bool,
    },
    /// Input interface; `lo` means loopback.
    Iif {
        names: Vec<String>,
        neg: bool,
    },
    /// Conntrack state.
    CtState {
        states: Vec<String>,
        neg: bool,
    },
    /// Address family (nft `meta nfproto`).
    Family {
        ipv4: bool,
    },
    Unknown(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Rule {
    matches: Vec<Match>,
    verdict: Option<Verdict>,
    /// limit / meter / hashlimit / recent / ct count
    limit: bool,
    text: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Chain {
    /// `family table` for nft, `filter` for iptables.
    table: String,
    name: String,
    hook: Option<String>,
    /// Base chain policy: true = accept.
    policy_accept: bool,
    rules: Vec<Rule>,
}

/// The normalized ruleset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ruleset {
    chains: Vec<Chain>,
    /// Evidence of SIP conntrack helpers (SIP ALG) configured in the ruleset.
    sip_helpers: Vec<String>,
    unknown: usize,
    /// What was read (`nft -j list ruleset (live)`, a file name).
    pub origin: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Accept(String),
    Drop(String),
}

fn ports_of(v: &Value) -> Option<Vec<(u16, u16)>> {
    let one = |v: &Value| -> Option<(u16, u16)> {
        if let Some(n) = v.as_u64() {
            let n = u16::try_from(n).ok()?;
            return Some((n, n));
        }
        if let Some(r) = v.get("range").and_then(Value::as_array) {
            let a = u16::try_from(r.first()?.as_u64()?).ok()?;
            let b = u16::try_from(r.get(1)?.as_u64()?).ok()?;
            return Some((a.min(b), a.max(b)));
        }
        if let Some(s) = v.as_str() {
            // Service names nft printed as names (`sip`) appear only without `-nn`.
            return match s {
                "sip" => Some((5060, 5060)),
                "sips" | "sip-tls" => Some((5061, 5061)),
                "ssh" => Some((22, 22)),
                "https" => Some((443, 443)),
                "http" => Some((80, 80)),
                _ => s.parse::<u16>().ok().map(|n| (n, n)),
            };
        }
        None
    };
    if let Some(set) = v.get("set").and_then(Value::as_array) {
        set.iter().map(one).collect()
    } else if let Some(arr) = v.as_array() {
        arr.iter().map(one).collect()
    } else {
        one(v).map(|r| vec![r])
    }
}

fn nets_of(v: &Value) -> Option<Vec<Cidr>> {
    let one = |v: &Value| -> Option<Cidr> {
        if let Some(s) = v.as_str() {
            return Cidr::parse(s);
        }
        if let Some(p) = v.get("prefix") {
            let addr = p.get("addr")?.as_str()?;
            let len = p.get("len")?.as_u64()?;
            return Cidr::parse(&format!("{addr}/{len}"));
        }
        if let Some(r) = v.get("range").and_then(Value::as_array) {
            // A range is at least as wide as its start; keep the start as a host.
            return Cidr::parse(r.first()?.as_str()?);
        }
        None
    };
    if let Some(set) = v.get("set").and_then(Value::as_array) {
        set.iter().map(one).collect()
    } else if let Some(arr) = v.as_array() {
        arr.iter().map(one).collect()
    } else {
        one(v).map(|c| vec![c])
    }
}

fn strings_of(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().flat_map(strings_of).collect(),
        Value::Object(o) => o.get("set").map(strings_of).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Parse `nft -j list ruleset` output.
pub fn parse_nft_json(text: &str) -> Result<Ruleset, FirewallError> {
    if text.len() > MAX_RULESET_BYTES {
        return Err(FirewallError::TooLarge);
    }
    let v: Value =
        serde_json::from_str(text).map_err(|e| FirewallError::NotNftJson(e.to_string()))?;
    let items = v
        .get("nftables")
        .and_then(Value::as_array)
        .ok_or_else(|| FirewallError::NotNftJson("no top-level \"nftables\" array".into()))?;
    let mut rs = Ruleset::default();
    // Named sets, per table, for `@name` references.
    let mut sets: BTreeMap<(String, String), Value> = BTreeMap::new();
    let mut helpers: BTreeMap<(String, String), String> = BTreeMap::new();
    let tkey = |o: &Value| {
        format!(
            "{} {}",
            o.get("family").and_then(Value::as_str).unwrap_or("?"),
            o.get("table").and_then(Value::as_str).unwrap_or("?")
        )
    };
    for it in items {
        if let Some(s) = it.get("set").or_else(|| it.get("map")) {
            let name = s
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let elems = s.get("elem").cloned().unwrap_or(Value::Array(Vec::new()));
            sets.insert((tkey(s), name), elems);
        }
        if let Some(h) = it.get("ct helper") {
            let name = h
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let ty = h
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if ty.eq_ignore_ascii_case("sip") {
                rs.sip_helpers.push(format!(
                    "table {}: ct helper {name} {{ type \"sip\" protocol {} }}",
                    tkey(h),
                    h.get("protocol").and_then(Value::as_str).unwrap_or("?")
                ));
            }
            helpers.insert((tkey(h), name), ty);
        }
        if let Some(c) = it.get("chain") {
            rs.chains.push(Chain {
                table: tkey(c),
                name: c
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                hook: c.get("hook").and_then(Value::as_str).map(str::to_string),
                policy_accept: c.get("policy").and_then(Value::as_str) != Some("drop"),
                rules: Vec::new(),
            });
        }
    }
    for it in items {
        let Some(r) = it.get("rule") else { continue };
        let table = tkey(r);
        let chain = r.get("chain").and_then(Value::as_str).unwrap_or("");
        let mut rule = Rule::default();
        let mut text = Vec::new();
        for e in r
            .get("expr")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            nft_expr(e, &table, &sets, &helpers, &mut rule, &mut text, &mut rs);
        }
        rule.text = format!("{table} chain {chain}: {}", text.join(" "));
        rs.unknown += rule
            .matches
            .iter()
            .filter(|m| matches!(m, Match::Unknown(_)))
            .count();
        if let Some(c) = rs
            .chains
            .iter_mut()
            .find(|c| c.table == table && c.name == chain)
        {
            if c.rules.len() < 100_000 {
                c.rules.push(rule);
            }
        }
    }
    Ok(rs)
}

fn resolve_set<'a>(
    right: &'a Value,
    table: &str,
    sets: &'a BTreeMap<(String, String), Value>,
) -> &'a Value {
    if let Some(name) = right.as_str().and_then(|s| s.strip_prefix('@')) {
        if let Some(v) = sets.get(&(table.to_string(), name.to_string())) {
            return v;
        }
    }
    right
}

fn compact(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 80 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(80).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}

#[allow(clippy::too_many_arguments)]
fn nft_expr(
    e: &Value,
    table: &str,
    sets: &BTreeMap<(String, String), Value>,
    helpers: &BTreeMap<(String, String), String>,
    rule: &mut Rule,
    text: &mut Vec<String>,
    rs: &mut Ruleset,
) {
    let Some(obj) = e.as_object() else { return };
    let Some((k, v)) = obj.iter().next() else {
        return;
    };
    match k.as_str() {
        "match" => {
            let op = v.get("op").and_then(Value::as_str).unwrap_or("==");
            let neg = op == "!=";
            let left = v.get("left").cloned().unwrap_or(Value::Null);
            let right_raw = v.get("right").cloned().unwrap_or(Value::Null);
            let right = resolve_set(&right_raw, table, sets).clone();
            let desc_left = if let Some(p) = left.get("payload") {
                format!(
                    "{} {}",
                    p.get("protocol").and_then(Value::as_str).unwrap_or("?"),
                    p.get("field").and_then(Value::as_str).unwrap_or("?")
                )
            } else if let Some(m) = left.get("meta") {
                format!(
                    "meta {}",
                    m.get("key").and_then(Value::as_str).unwrap_or("?")
                )
            } else if let Some(c) = left.get("ct") {
                format!("ct {}", c.get("key").and_then(Value::as_str).unwrap_or("?"))
            } else {
                compact(&left)
            };
            text.push(format!(
                "{desc_left} {}{}",
                if neg { "!= " } else { "" },
                compact(&right_raw)
            ));
            let m = if let Some(p) = left.get("payload") {
                let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("");
                let field = p.get("field").and_then(Value::as_str).unwrap_or("");
                match (proto, field) {
                    ("udp" | "tcp" | "th" | "sctp", "dport") => match ports_of(&right) {
                        Some(ranges) => Match::DPort {
                            proto: (proto != "th").then(|| proto.to_string()),
                            ranges,
                            neg,
                        },
                        None => Match::Unknown(desc_left),
                    },
                    ("ip" | "ip6", "saddr") => match nets_of(&right) {
                        Some(nets) => Match::SAddr {
                            nets,
                            neg,
                            v6: proto == "ip6",
                        },
                        None => Match::Unknown(desc_left),
                    },
                    ("ip", "protocol") | ("ip6", "nexthdr") => Match::Proto {
                        protos: strings_of(&right),
                        neg,
                    },
                    _ => Match::Unknown(desc_left),
                }
            } else if let Some(m) = left.get("meta") {
                match m.get("key").and_then(Value::as_str).unwrap_or("") {
                    "l4proto" => Match::Proto {
                        protos: strings_of(&right),
                        neg,
                    },
                    "iifname" | "iif" => Match::Iif {
                        names: strings_of(&right),
                        neg,
                    },
                    "nfproto" => {
                        let has4 = strings_of(&right).iter().any(|s| s == "ipv4");
                        Match::Family { ipv4: has4 != neg }
                    }
                    _ => Match::Unknown(desc_left),
                }
            } else if let Some(c) = left.get("ct") {
                match c.get("key").and_then(Value::as_str).unwrap_or("") {
                    "state" => Match::CtState {
                        states: strings_of(&right),
                        neg,
                    },
                    _ => Match::Unknown(desc_left),
                }
            } else {
                Match::Unknown(desc_left)
            };
            rule.matches.push(m);
        }
        "limit" | "meter" | "ct count" | "quota" => {
            rule.limit = true;
            text.push(format!("{k} {}", compact(v)));
        }
        "set" => {
            // `add @flood { ip saddr limit rate over ... }`: a dynamic-set rate limit.
            if v.to_string().contains("limit") {
                rule.limit = true;
            }
            text.push(format!("set {}", compact(v)));
        }
        "accept" => {
            rule.verdict = Some(Verdict::Accept);
            text.push("accept".into());
        }
        "drop" | "reject" => {
            rule.verdict = Some(Verdict::Drop);
            text.push(k.clone());
        }
        "return" => {
            rule.verdict = Some(Verdict::Return);
            text.push("return".into());
        }
        "jump" | "goto" => {
            let t = v
                .get("target")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            text.push(format!("{k} {t}"));
            rule.verdict = Some(if k == "jump" {
                Verdict::Jump(t)
            } else {
                Verdict::Goto(t)
            });
        }
        "ct helper" => {
            let name = v.as_str().unwrap_or("").to_string();
            text.push(format!("ct helper set \"{name}\""));
            let ty = helpers
                .get(&(table.to_string(), name.clone()))
                .map(String::as_str)
                .unwrap_or("");
            if ty.eq_ignore_ascii_case("sip") || name.to_ascii_lowercase().contains("sip") {
                rs.sip_helpers
                    .push(format!("table {table}: rule assigns ct helper \"{name}\""));
            }
        }
        "counter" | "log" | "comment" | "mangle" | "notrack" | "xt" => {}
        other => text.push(other.to_string()),
    }
}

/// Split an iptables-save line into words, honouring double quotes.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

fn ipt_ports(s: &str) -> Option<Vec<(u16, u16)>> {
    s.split(',')
        .map(|p| match p.split_once(':') {
            Some((a, b)) => {
                let a: u16 = if a.is_empty() { 0 } else { a.parse().ok()? };
                let b: u16 = if b.is_empty() { 65535 } else { b.parse().ok()? };
                Some((a.min(b), a.max(b)))
            }
            None => p.parse::<u16>().ok().map(|n| (n, n)),
        })
        .collect()
}

/// Parse `iptables-save` (or `ip6tables-save`, whose v6 matches never match the v4 probe).
pub fn parse_iptables_save(text: &str) -> Result<Ruleset, FirewallError> {
    if text.len() > MAX_RULESET_BYTES {
        return Err(FirewallError::TooLarge);
    }
    let mut rs = Ruleset::default();
    let mut table = String::new();
    for line in text.lines().take(1_000_000) {
        let line = line.trim();
        if let Some(t) = line.strip_prefix('*') {
            table = t.trim().to_string();
            continue;
        }
        if let Some(c) = line.strip_prefix(':') {
            let w: Vec<&str> = c.split_whitespace().collect();
            let name = w.first().copied().unwrap_or("").to_string();
            let policy = w.get(1).copied().unwrap_or("-");
            let hook = (table == "filter" && name == "INPUT").then(|| "input".to_string());
            rs.chains.push(Chain {
                table: table.clone(),
                name,
                hook,
                policy_accept: policy != "DROP",
                rules: Vec::new(),
            });
            continue;
        }
        let Some(rest) = line.strip_prefix("-A ") else {
            continue;
        };
        let w = words(rest);
        let Some(chain) = w.first().cloned() else {
            continue;
        };
        let mut rule = Rule {
            text: format!("{table}: -A {rest}"),
            ..Rule::default()
        };
        let mut proto: Option<String> = None;
        let mut neg = false;
        let mut i = 1;
        let mut is_ct_target = false;
        while i < w.len() {
            let a = w[i].as_str();
            let next = w.get(i + 1).map(String::as_str).unwrap_or("");
            let mut took = 2;
            match a {
                "!" => {
                    neg = true;
                    i += 1;
                    continue;
                }
                "-p" | "--protocol" => {
                    proto = Some(next.to_ascii_lowercase());
                    rule.matches.push(Match::Proto {
                        protos: vec![next.to_ascii_lowercase()],
                        neg,
                    });
                }
                "--dport" | "--destination-port" | "--dports" | "--destination-ports" => {
                    match ipt_ports(next) {
                        Some(ranges) => rule.matches.push(Match::DPort {
                            proto: proto.clone(),
                            ranges,
                            neg,
                        }),
                        None => rule.matches.push(Match::Unknown(a.to_string())),
                    }
                }
                "-s" | "--source" => {
                    match next.split(',').map(Cidr::parse).collect::<Option<Vec<_>>>() {
                        Some(nets) => {
                            let v6 = nets.iter().any(|n| n.addr.is_ipv6());
                            rule.matches.push(Match::SAddr { nets, neg, v6 })
                        }
                        None => rule.matches.push(Match::Unknown("-s".into())),
                    }
                }
                "-i" | "--in-interface" => rule.matches.push(Match::Iif {
                    names: vec![next.to_string()],
                    neg,
                }),
                "--ctstate" | "--state" => rule.matches.push(Match::CtState {
                    states: next.split(',').map(|s| s.to_ascii_lowercase()).collect(),
                    neg,
                }),
                "-m" | "--match" => {
                    match next {
                        "limit" | "hashlimit" | "recent" | "connlimit" => rule.limit = true,
                        "helper" => {
                            // `-m helper --helper sip` only matches; assignment is `-j CT`.
                        }
                        _ => {}
                    }
                }
                "--helper" => {
                    if next.to_ascii_lowercase().starts_with("sip") {
                        let what = if is_ct_target { "assigns" } else { "matches" };
                        rs.sip_helpers.push(format!(
                            "{table}: rule {what} conntrack helper {next} (-A {rest})"
                        ));
                    }
                }
                "-j" | "--jump" | "-g" | "--goto" => {
                    is_ct_target = next == "CT";
                    rule.verdict = match next {
                        "ACCEPT" => Some(Verdict::Accept),
                        "DROP" | "REJECT" => Some(Verdict::Drop),
                        "RETURN" => Some(Verdict::Return),
                        "LOG" | "CT" | "MARK" | "CONNMARK" | "NOTRACK" => None,
                        t if a == "-g" || a == "--goto" => Some(Verdict::Goto(t.to_string())),
                        t => Some(Verdict::Jump(t.to_string())),
                    };
                }
                "--comment"
                | "--log-prefix"
                | "--log-level"
                | "--reject-with"
                | "--set-mark"
                | "--name"
                | "--limit"
                | "--limit-burst"
                | "--hashlimit-upto"
                | "--hashlimit-above"
                | "--hashlimit-burst"
                | "--hashlimit-mode"
                | "--hashlimit-name"
                | "--hashlimit-htable-expire"
                | "--seconds"
                | "--hitcount"
                | "--connlimit-above"
                | "--connlimit-mask"
                | "--mask" => {}
                "--set" | "--update" | "--rcheck" | "--remove" | "--rsource" | "--rttl" => took = 1,
                "-d" | "--destination" | "-o" | "--out-interface" | "--sport" | "--source-port"
                | "--sports" | "--tcp-flags" | "--icmp-type" | "--uid-owner" | "--src-range"
                | "--dst-range" | "--match-set" => {
                    rule.matches.push(Match::Unknown(a.to_string()));
                    if a == "--tcp-flags" || a == "--match-set" {
                        took = 3;
                    }
                }
                "--syn" => took = 1,
                _ => took = 1,
            }
            neg = false;
            i += took;
        }
        rs.unknown += rule
            .matches
            .iter()
            .filter(|m| matches!(m, Match::Unknown(_)))
            .count();
        if let Some(c) = rs
            .chains
            .iter_mut()
            .rev()
            .find(|c| c.table == table && c.name == chain)
        {
            c.rules.push(rule);
        }
    }
    Ok(rs)
}

/// Run `nft -j list ruleset`, in network namespace `netns` when given (`ip netns exec`).
pub fn live_nft(netns: Option<&str>) -> Result<String, FirewallError> {
    let mut cmd = match netns {
        Some(ns) => {
            let mut c = std::process::Command::new("ip");
            c.args(["netns", "exec", ns, "nft", "-j", "list", "ruleset"]);
            c
        }
        None => {
            let mut c = std::process::Command::new("nft");
            c.args(["-j", "list", "ruleset"]);
            c
        }
    };
    let shown = match netns {
        Some(ns) => format!("ip netns exec {ns} nft -j list ruleset"),
        None => "nft -j list ruleset".to_string(),
    };
    let out = cmd.output().map_err(|source| FirewallError::Missing {
        cmd: shown.clone(),
        package: if netns.is_some() {
            "iproute2"
        } else {
            "nftables"
        },
        source,
    })?;
    if !out.status.success() {
        return Err(FirewallError::Failed {
            cmd: shown,
            stderr: String::from_utf8_lossy(&out.stderr)
                .trim()
                .chars()
                .take(500)
                .collect(),
        });
    }
    if out.stdout.len() > MAX_RULESET_BYTES {
        return Err(FirewallError::TooLarge);
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[derive(Clone, Copy)]
struct Probe<'a> {
    proto: &'a str,
    port: u16,
}

impl Match {
    fn matches(&self, p: Probe) -> bool {
        match self {
            Match::Proto { protos, neg } => protos.iter().any(|x| x == p.proto) != *neg,
            Match::DPort { proto, ranges, neg } => {
                if proto.as_deref().is_some_and(|x| x != p.proto) {
                    return false;
                }
                ranges.iter().any(|(a, b)| (*a..=*b).contains(&p.port)) != *neg
            }
            // The probe comes from an arbitrary untrusted IPv4 address: a network wider than
            // /8 covers it (`0.0.0.0/0`, or the `0.0.0.0/1` + `128.0.0.0/1` trick), and so does
            // a negated specific list.
            Match::SAddr { nets, neg, v6 } => {
                if *v6 {
                    return *neg;
                }
                nets.iter().any(|n| n.is_any() || n.len < 8) != *neg
            }
            Match::Iif { names, neg } => {
                let lo = names.iter().any(|n| n == "lo");
                if lo {
                    *neg
                } else {
                    // A named external interface: the probe may arrive on it.
                    true
                }
            }
            Match::CtState { states, neg } => states.iter().any(|s| s == "new") != *neg,
            Match::Family { ipv4 } => *ipv4,
            Match::Unknown(_) => false,
        }
    }
}

impl Ruleset {
    fn eval_chain(&self, table: &str, name: &str, p: Probe, depth: usize) -> Option<Outcome> {
        if depth > MAX_JUMP_DEPTH {
            return None;
        }
        let chain = self
            .chains
            .iter()
            .find(|c| c.table == table && c.name == name)?;
        for r in &chain.rules {
            if !r.matches.iter().all(|m| m.matches(p)) {
                continue;
            }
            match &r.verdict {
                None => continue,
                Some(Verdict::Accept) => return Some(Outcome::Accept(r.text.clone())),
                Some(Verdict::Drop) => return Some(Outcome::Drop(r.text.clone())),
                Some(Verdict::Return) => return None,
                Some(Verdict::Jump(t)) => {
                    if let Some(o) = self.eval_chain(table, t, p, depth + 1) {
                        return Some(o);
                    }
                }
                Some(Verdict::Goto(t)) => return self.eval_chain(table, t, p, depth + 1),
            }
        }
        None
    }

    fn input_chains(&self) -> impl Iterator<Item = &Chain> {
        self.chains.iter().filter(|c| {
            c.hook.as_deref() == Some("input")
                && !c.table.starts_with("ip6 ")
                && !c.table.starts_with("bridge ")
                && !c.table.starts_with("arp ")
                && !c.table.starts_with("netdev ")
        })
    }

    /// Does a new connection from any source reach `proto/port`? `Some(rule)` when accepted.
    fn open_to_any(&self, p: Probe) -> Option<String> {
        let mut accepted_by = None;
        let mut any_chain = false;
        for c in self.input_chains() {
            any_chain = true;
            match self.eval_chain(&c.table, &c.name, p, 0) {
                Some(Outcome::Drop(_)) => return None,
                Some(Outcome::Accept(r)) => accepted_by = accepted_by.or(Some(r)),
                None => {
                    if !c.policy_accept {
                        return None;
                    }
                    accepted_by = accepted_by
                        .or(Some(format!("{} chain {}: policy accept", c.table, c.name)));
                }
            }
        }
        if any_chain {
            accepted_by
        } else {
            Some("no input chain".into())
        }
    }

    /// Is there a rate limit on traffic that reaches SIP ports?
    fn sip_rate_limited(&self, sip_ports: &[u16]) -> Option<String> {
        for c in &self.chains {
            for r in c.rules.iter().filter(|r| r.limit) {
                let port_ok = r.matches.iter().all(|m| match m {
                    Match::DPort {
                        ranges, neg: false, ..
                    } => sip_ports
                        .iter()
                        .any(|s| ranges.iter().any(|(a, b)| (*a..=*b).contains(s))),
                    _ => true,
                });
                if port_ok {
                    return Some(r.text.clone());
                }
            }
        }
        None
    }
}

/// Normalize a ruleset into facts (`fw.*`) for the policy's ports.
pub fn facts_from(rs: &Ruleset, p: &Policy) -> Facts {
    let mut f = Facts::new();
    f.set("fw.origin", rs.origin.as_str());
    let inputs: Vec<String> = rs
        .input_chains()
        .map(|c| {
            format!(
                "{} {} policy {}",
                c.table,
                c.name,
                if c.policy_accept { "accept" } else { "drop" }
            )
        })
        .collect();
    f.set("fw.input_chains", inputs.join("; "));
    f.set("fw.unknown_matches", rs.unknown.to_string());
    let mut probe = |proto: &str, port: u16, class: &str| {
        let key = format!("fw.{}", obj("port", &format!("{proto}/{port}")));
        match rs.open_to_any(Probe { proto, port }) {
            Some(by) => {
                f.set(format!("{key}.class"), class);
                f.set(&key, "open-any");
                f.set(format!("{key}.by"), by);
            }
            None => {
                f.set(&key, "restricted");
            }
        }
    };
    for &port in &p.services.sip_ports {
        probe("udp", port, "sip");
        probe("tcp", port, "sip");
    }
    for &port in &p.services.management_ports {
        probe("tcp", port, "mgmt");
    }
    let [lo, hi] = p.services.rtp_range;
    for port in [lo, lo + (hi - lo) / 2, hi] {
        probe("udp", port, "rtp");
    }
    match rs.sip_rate_limited(&p.services.sip_ports) {
        Some(r) => f.set("fw.sip_rate_limit", r),
        None => f.set("fw.sip_rate_limit", ""),
    }
    f.set("fw.sip_helpers", rs.sip_helpers.join(" | "));
    f
}

/// Firewall rules over `fw.*` facts.
pub fn rules(f: &Facts, _p: &Policy) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(origin) = f.get("fw.origin") else {
        return out;
    };
    let target = format!("firewall ({origin})");
    if f.get("fw.input_chains") == Some("") {
        out.push(rule("FW-NO-INPUT-FILTER").finding(
            target.clone(),
            vec!["no base chain hooked to input: every port is reachable".into()],
        ));
    } else {
        let mut by_class: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for port in f.objects("fw.port[") {
            let key = format!("fw.{}", obj("port", &port));
            if f.get(&key) != Some("open-any") {
                continue;
            }
            let class = f.get(&format!("{key}.class")).unwrap_or("");
            let by = f.get(&format!("{key}.by")).unwrap_or("");
            by_class
                .entry(class)
                .or_default()
                .push(format!("{port} accepted from any source by: {by}"));
        }
        for (class, id) in [
            ("sip", "FW-SIP-OPEN-ANY"),
            ("mgmt", "FW-MGMT-OPEN-ANY"),
            ("rtp", "FW-RTP-OPEN-ANY"),
        ] {
            if let Some(ev) = by_class.remove(class) {
                out.push(rule(id).finding(target.clone(), ev));
            }
        }
        let unknown = f.get_u64("fw.unknown_matches").unwrap_or(0);
        if unknown > 0 {
            if let Some(first) = out.first_mut() {
                let mut s = String::new();
                let _ = write!(
                    s,
                    "{unknown} match expressions were not understood and treated as not matching"
                );
                first.evidence.push(s);
            }
        }
    }
    let sip_reachable = f
        .objects("fw.port[")
        .iter()
        .any(|p| f.get(&format!("fw.{}.class", obj("port", p))) == Some("sip"));
    if sip_reachable && f.get("fw.sip_rate_limit") == Some("") {
        out.push(rule("FW-NO-RATE-LIMIT").finding(
            target.clone(),
            vec!["no limit/meter/hashlimit/recent rule covers the SIP ports".into()],
        ));
    }
    if let Some(h) = f.get("fw.sip_helpers").filter(|h| !h.is_empty()) {
        out.push(
            rule("FW-SIP-HELPER").finding(target, h.split(" | ").map(str::to_string).collect()),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iptables_save_open_and_restricted() {
        let open = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -i lo -j ACCEPT\n-A INPUT -p udp -m udp --dport 5060 -j ACCEPT\nCOMMIT\n";
        let rs = parse_iptables_save(open).unwrap();
        let f = facts_from(&rs, &Policy::default());
        assert_eq!(f.get("fw.port[udp/5060]"), Some("open-any"));
        assert_eq!(f.get("fw.port[tcp/5038]"), Some("open-any"));
        let closed = "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p udp --dport 5060 -j CT --helper sip\nCOMMIT\n\
            *filter\n:INPUT DROP [0:0]\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
            -A INPUT -s 198.51.100.10/32 -p udp -m udp --dport 5060 -m hashlimit --hashlimit-upto 20/sec --hashlimit-name sip -j ACCEPT\n\
            -A INPUT ! -s 10.0.0.0/8 -p tcp -m multiport --dports 22,5038 -j DROP\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n";
        let rs = parse_iptables_save(closed).unwrap();
        let f = facts_from(&rs, &Policy::default());
        assert_eq!(f.get("fw.port[udp/5060]"), Some("restricted"));
        assert_eq!(f.get("fw.port[tcp/22]"), Some("restricted"));
        assert!(f.get("fw.sip_rate_limit").unwrap().contains("hashlimit"));
        let ids: Vec<String> = rules(&f, &Policy::default())
            .into_iter()
            .map(|x| x.id)
            .collect();
        assert_eq!(ids, vec!["FW-SIP-HELPER"]);
    }

    #[test]
    fn half_internet_source_pairs_count_as_any_source() {
        let t = "*filter\n:INPUT DROP [0:0]\n-A INPUT -s 0.0.0.0/1 -p udp --dport 5060 -j ACCEPT\n\
                 -A INPUT -s 128.0.0.0/1 -p udp --dport 5060 -j ACCEPT\n-A INPUT -s 10.0.0.0/8 -p tcp --dport 5038 -j ACCEPT\nCOMMIT\n";
        let f = facts_from(&parse_iptables_save(t).unwrap(), &Policy::default());
        assert_eq!(f.get("fw.port[udp/5060]"), Some("open-any"));
        assert_eq!(f.get("fw.port[tcp/5038]"), Some("restricted"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse_nft_json("{}").is_err());
        assert!(parse_nft_json("not json").is_err());
        let _ = parse_iptables_save("-A\n:\n*\n-A INPUT -p\n-A INPUT --dport x:y:z -j\n");
    }
}

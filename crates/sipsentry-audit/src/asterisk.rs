//! Asterisk configuration directory → facts → findings.
//!
//! Reads pjsip.conf, sip.conf (chan_sip, for old systems), manager.conf, http.conf, logger.conf
//! and extensions.conf. Absent options take Asterisk's documented defaults, because that is
//! what the running PBX does: `allowguest` is `yes` when sip.conf does not say otherwise,
//! `media_encryption` is `no`, AMI binds `0.0.0.0`.

use crate::catalogue::rule;
use crate::facts::{obj, parse_bool, Facts};
use crate::ini::{self, Config};
use crate::policy::Policy;
use crate::weak::weak_secret;
use sipsentry_report::Finding;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Files read, in the order they are reported.
pub const FILES: [&str; 6] = [
    "pjsip.conf",
    "sip.conf",
    "manager.conf",
    "http.conf",
    "logger.conf",
    "extensions.conf",
];

/// Reading an Asterisk directory failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum AsteriskError {
    #[error("{0} is not a directory")]
    NotADir(String),
    #[error("{dir} holds none of {files}: is it an Asterisk config directory (/etc/asterisk)?")]
    NoConfig { dir: String, files: String },
    #[error(transparent)]
    Ini(#[from] ini::IniError),
}

/// Parse the config files present in `dir` (also accepts `<name>.sample`, as shipped).
pub fn load(dir: &Path) -> Result<BTreeMap<&'static str, Config>, AsteriskError> {
    if !dir.is_dir() {
        return Err(AsteriskError::NotADir(dir.display().to_string()));
    }
    let mut out = BTreeMap::new();
    for f in FILES {
        let plain = dir.join(f);
        let sample = dir.join(format!("{f}.sample"));
        let path = if plain.is_file() {
            plain
        } else if sample.is_file() {
            sample
        } else {
            continue;
        };
        out.insert(f, ini::parse_file(&path, dir)?);
    }
    if out.is_empty() {
        return Err(AsteriskError::NoConfig {
            dir: dir.display().to_string(),
            files: FILES.join(", "),
        });
    }
    Ok(out)
}

/// Read `dir` into facts (`ast.*`).
pub fn collect(dir: &Path) -> Result<Facts, AsteriskError> {
    Ok(facts_from(&load(dir)?))
}

/// Normalize parsed configs into facts.
pub fn facts_from(cfgs: &BTreeMap<&'static str, Config>) -> Facts {
    let mut f = Facts::new();
    f.set("pbx.product", "asterisk");
    f.set(
        "ast.files",
        cfgs.keys().copied().collect::<Vec<_>>().join(","),
    );
    if let Some(c) = cfgs.get("logger.conf") {
        logger(c, &mut f);
    }
    if let Some(c) = cfgs.get("manager.conf") {
        manager(c, &mut f);
    }
    if let Some(c) = cfgs.get("http.conf") {
        http(c, &mut f);
    }
    if let Some(c) = cfgs.get("pjsip.conf") {
        pjsip(c, &mut f);
    }
    if let Some(c) = cfgs.get("sip.conf") {
        chan_sip(c, &mut f);
    }
    if let Some(c) = cfgs.get("extensions.conf") {
        dialplan(c, &mut f);
    }
    f
}

fn yn(v: Option<&str>, default: bool) -> bool {
    v.and_then(parse_bool).unwrap_or(default)
}

fn logger(c: &Config, f: &mut Facts) {
    let mut security = false;
    let mut syslog = false;
    if let Some(s) = c.section("logfiles") {
        for (k, v) in &s.entries {
            let levels: Vec<String> = v
                .split(',')
                .map(|l| {
                    l.trim()
                        .trim_start_matches("[json]")
                        .trim_start_matches("[plain]")
                        .to_ascii_lowercase()
                })
                .collect();
            if levels.iter().any(|l| l == "security" || l == "*") {
                security = true;
            }
            if k.starts_with("syslog.") {
                syslog = true;
            }
        }
    }
    f.set_bool("ast.logger.security_channel", security);
    f.set_bool("ast.logger.syslog", syslog);
}

fn manager(c: &Config, f: &mut Facts) {
    let g = c.section("general");
    let get = |k: &str| g.and_then(|g| g.get(k));
    f.set_bool("ast.manager.enabled", yn(get("enabled"), false));
    f.set("ast.manager.bindaddr", get("bindaddr").unwrap_or("0.0.0.0"));
    f.set("ast.manager.port", get("port").unwrap_or("5038"));
    f.set_bool("ast.manager.webenabled", yn(get("webenabled"), false));
    for s in c
        .objects()
        .filter(|s| !s.name.eq_ignore_ascii_case("general") && !s.name.is_empty())
    {
        let base = format!("ast.manager.{}", obj("user", &s.name));
        let permits: Vec<&str> = s.all("permit").collect();
        let denies: Vec<&str> = s.all("deny").collect();
        let acls: Vec<&str> = s.all("acl").collect();
        f.set(format!("{base}.permit"), permits.join(","));
        f.set(format!("{base}.deny"), denies.join(","));
        f.set(format!("{base}.acl"), acls.join(","));
        if let Some(sec) = s.get("secret") {
            f.set_secret(format!("{base}.secret"), sec);
            if let Some(why) = weak_secret(sec, &s.name) {
                f.set(format!("{base}.secret_weak"), why);
            }
        }
        f.set(
            format!("{base}.write"),
            s.all("write").collect::<Vec<_>>().join(","),
        );
    }
}

fn http(c: &Config, f: &mut Facts) {
    let g = c.section("general");
    let get = |k: &str| g.and_then(|g| g.get(k));
    f.set_bool("ast.http.enabled", yn(get("enabled"), false));
    f.set("ast.http.bindaddr", get("bindaddr").unwrap_or(""));
    f.set("ast.http.bindport", get("bindport").unwrap_or("8088"));
    f.set_bool("ast.http.tlsenable", yn(get("tlsenable"), false));
    if let Some(b) = get("tlsbindaddr") {
        f.set("ast.http.tlsbindaddr", b);
    }
}

fn pjsip(c: &Config, f: &mut Facts) {
    for s in c.objects() {
        let ty = s.get("type").unwrap_or("").to_ascii_lowercase();
        match ty.as_str() {
            "endpoint" => {
                let base = format!("ast.pjsip.{}", obj("endpoint", &s.name));
                f.set(
                    format!("{base}.media_encryption"),
                    s.get("media_encryption")
                        .unwrap_or("no")
                        .to_ascii_lowercase(),
                );
                f.set(
                    format!("{base}.transport"),
                    s.get("transport").unwrap_or(""),
                );
                f.set(
                    format!("{base}.context"),
                    s.get("context").unwrap_or("default"),
                );
                f.set_bool(
                    format!("{base}.allow_unauthenticated_options"),
                    yn(s.get("allow_unauthenticated_options"), false),
                );
                let acl = s
                    .all("acl")
                    .chain(s.all("permit"))
                    .chain(s.all("contact_acl"))
                    .count()
                    > 0;
                f.set_bool(format!("{base}.acl"), acl);
            }
            "auth" => {
                let base = format!("ast.pjsip.{}", obj("auth", &s.name));
                let user = s.get("username").unwrap_or(&s.name);
                f.set(format!("{base}.username"), user);
                if let Some(p) = s.get("password") {
                    f.set_secret(format!("{base}.password"), p);
                    if let Some(why) = weak_secret(p, user) {
                        f.set(format!("{base}.password_weak"), why);
                    }
                }
            }
            "acl" => {
                f.set(
                    format!("ast.pjsip.{}.permit", obj("acl", &s.name)),
                    s.all("permit").collect::<Vec<_>>().join(","),
                );
            }
            "transport" => {
                let base = format!("ast.pjsip.{}", obj("transport", &s.name));
                f.set(
                    format!("{base}.protocol"),
                    s.get("protocol").unwrap_or("udp").to_ascii_lowercase(),
                );
                f.set(format!("{base}.bind"), s.get("bind").unwrap_or(""));
            }
            _ => {}
        }
    }
}

fn chan_sip(c: &Config, f: &mut Facts) {
    let Some(g) = c.section("general") else {
        return;
    };
    f.set_bool("ast.sip.present", true);
    f.set_bool("ast.sip.general.allowguest", yn(g.get("allowguest"), true));
    f.set_bool(
        "ast.sip.general.alwaysauthreject",
        yn(g.get("alwaysauthreject"), true),
    );
    f.set(
        "ast.sip.general.encryption",
        g.get("encryption").unwrap_or("no").to_ascii_lowercase(),
    );
    f.set(
        "ast.sip.general.context",
        g.get("context").unwrap_or("default"),
    );
    f.set_bool("ast.sip.general.tlsenable", yn(g.get("tlsenable"), false));
    f.set(
        "ast.sip.general.udpbindaddr",
        g.get("udpbindaddr").unwrap_or("0.0.0.0"),
    );
    for s in c.objects().filter(|s| s.get("type").is_some()) {
        let base = format!("ast.sip.{}", obj("peer", &s.name));
        f.set(
            format!("{base}.encryption"),
            s.get("encryption")
                .or(g.get("encryption"))
                .unwrap_or("no")
                .to_ascii_lowercase(),
        );
        if let Some(sec) = s.get("secret") {
            f.set_secret(format!("{base}.secret"), sec);
            if let Some(why) = weak_secret(sec, s.get("defaultuser").unwrap_or(&s.name)) {
                f.set(format!("{base}.secret_weak"), why);
            }
        }
    }
}

/// A Dial() that leaves the PBX: a trunk technology, a global trunk variable or a remote host.
fn dials_out(app: &str) -> bool {
    let Some(i) = app.find("Dial(") else {
        return false;
    };
    let arg = &app[i..];
    ["DAHDI/", "IAX2/", "GLOBAL(TRUNK", "${TRUNK", "@"]
        .iter()
        .any(|m| arg.contains(m))
}

fn dialplan(c: &Config, f: &mut Facts) {
    for s in c.objects() {
        if s.name.eq_ignore_ascii_case("general") || s.name.eq_ignore_ascii_case("globals") {
            continue;
        }
        let base = format!("ast.dialplan.{}", obj("context", &s.name));
        // `|` separates includes: an include may carry a time spec after a comma.
        f.set(
            format!("{base}.includes"),
            s.all("include")
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("|"),
        );
        let mut pattern = String::new();
        let mut out_patterns: BTreeSet<String> = BTreeSet::new();
        for (k, v) in &s.entries {
            if k == "exten" {
                pattern = v.split(',').next().unwrap_or("").trim().to_string();
            } else if k != "same" {
                continue;
            }
            if pattern.starts_with('_') && dials_out(v) {
                out_patterns.insert(pattern.clone());
            }
        }
        f.set(
            format!("{base}.dials_out"),
            out_patterns.into_iter().collect::<Vec<_>>().join(","),
        );
    }
}

fn is_loopback(addr: &str) -> bool {
    let a = addr.trim().trim_matches(|c| c == '[' || c == ']');
    let host = a
        .rsplit_once(':')
        .filter(|_| a.matches(':').count() == 1)
        .map_or(a, |(h, _)| h);
    host.starts_with("127.") || host == "::1" || host == "localhost"
}

/// Contexts reachable from `start` through `include =>` (bounded), with the patterns that dial out.
fn reachable_dial_outs(f: &Facts, start: &str) -> Vec<String> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut stack = vec![start.to_string()];
    let mut hits = Vec::new();
    while let Some(ctx) = stack.pop() {
        if seen.len() > 1000 || !seen.insert(ctx.clone()) {
            continue;
        }
        let base = format!("ast.dialplan.{}", obj("context", &ctx));
        if let Some(p) = f
            .get(&format!("{base}.dials_out"))
            .filter(|p| !p.is_empty())
        {
            hits.push(format!("context {ctx} dials out for {p}"));
        }
        if let Some(inc) = f.get(&format!("{base}.includes")) {
            stack.extend(inc.split('|').filter(|s| !s.is_empty()).map(|s| {
                // `include => ctx,timing` — the context name is the first field.
                s.split(',').next().unwrap_or(s).trim().to_string()
            }));
        }
    }
    hits
}

/// Asterisk rules over `ast.*` facts.
pub fn rules(f: &Facts, p: &Policy) -> Vec<Finding> {
    let mut out = Vec::new();
    if f.with_prefix("ast.").next().is_none() {
        return out;
    }
    let files = f.get("ast.files").unwrap_or("");
    if files.split(',').any(|x| x == "logger.conf")
        && f.get_bool("ast.logger.security_channel") == Some(false)
    {
        out.push(rule("AST-SECURITY-LOG-OFF").finding(
            "logger.conf",
            vec!["[logfiles] has no channel with the `security` level (`security.log => security` is absent or commented out)".into()],
        ));
    }
    if f.get_bool("ast.manager.enabled") == Some(true) {
        let bind = f.get("ast.manager.bindaddr").unwrap_or("0.0.0.0");
        if !is_loopback(bind) {
            out.push(rule("AST-AMI-EXPOSED").finding(
                "manager.conf",
                vec![format!(
                    "enabled = yes, bindaddr = {bind}, port = {}",
                    f.get("ast.manager.port").unwrap_or("5038")
                )],
            ));
        }
        for u in f.objects("ast.manager.user[") {
            let base = format!("ast.manager.{}", obj("user", &u));
            let permit = f.get(&format!("{base}.permit")).unwrap_or("");
            let acl = f.get(&format!("{base}.acl")).unwrap_or("");
            if permit.is_empty() && acl.is_empty() {
                out.push(rule("AST-AMI-NO-ACL").finding(
                    "manager.conf",
                    vec![format!("user [{u}] has no permit= or acl=")],
                ));
            }
            if let Some(why) = f.get(&format!("{base}.secret_weak")) {
                out.push(
                    rule("AST-AMI-WEAK-SECRET")
                        .finding("manager.conf", vec![format!("user [{u}]: secret {why}")]),
                );
            }
            let write = f
                .get(&format!("{base}.write"))
                .unwrap_or("")
                .to_ascii_lowercase();
            let broad: Vec<&str> = write
                .split(',')
                .map(str::trim)
                .filter(|w| matches!(*w, "system" | "command" | "all"))
                .collect();
            if !broad.is_empty() {
                out.push(rule("AST-AMI-BROAD-PERMISSIONS").finding(
                    "manager.conf",
                    vec![format!("user [{u}] write = {}", broad.join(","))],
                ));
            }
        }
    }
    if f.get_bool("ast.http.enabled") == Some(true) {
        let bind = f.get("ast.http.bindaddr").unwrap_or("");
        if !bind.is_empty() && !is_loopback(bind) && f.get_bool("ast.http.tlsenable") != Some(true)
        {
            out.push(rule("AST-HTTP-EXPOSED").finding(
                "http.conf",
                vec![format!(
                    "enabled = yes, bindaddr = {bind}, bindport = {}, tlsenable = no",
                    f.get("ast.http.bindport").unwrap_or("8088")
                )],
            ));
        }
    }
    let endpoints = f.objects("ast.pjsip.endpoint[");
    if p.require_srtp {
        let plain: Vec<String> = endpoints
            .iter()
            .filter(|e| {
                f.get(&format!(
                    "ast.pjsip.{}.media_encryption",
                    obj("endpoint", e)
                )) == Some("no")
            })
            .map(|e| format!("endpoint [{e}]: media_encryption = no"))
            .collect();
        if !plain.is_empty() {
            out.push(rule("AST-PJSIP-NO-SRTP").finding("pjsip.conf", plain));
        }
    }
    if !endpoints.is_empty()
        && p.required_transports
            .iter()
            .any(|t| t.eq_ignore_ascii_case("tls"))
    {
        let transports = f.objects("ast.pjsip.transport[");
        let has_tls = transports.iter().any(|t| {
            matches!(
                f.get(&format!("ast.pjsip.{}.protocol", obj("transport", t))),
                Some("tls") | Some("wss")
            )
        });
        if !has_tls {
            let list: Vec<String> = transports
                .iter()
                .map(|t| {
                    format!(
                        "transport [{t}]: protocol = {}",
                        f.get(&format!("ast.pjsip.{}.protocol", obj("transport", t)))
                            .unwrap_or("udp")
                    )
                })
                .collect();
            let ev = if list.is_empty() {
                vec!["no type=transport section".to_string()]
            } else {
                list
            };
            out.push(rule("AST-PJSIP-NO-TLS").finding("pjsip.conf", ev));
        }
    }
    if !endpoints.is_empty()
        && f.objects("ast.pjsip.acl[").is_empty()
        && !endpoints
            .iter()
            .any(|e| f.get_bool(&format!("ast.pjsip.{}.acl", obj("endpoint", e))) == Some(true))
    {
        out.push(rule("AST-PJSIP-NO-ACL").finding(
            "pjsip.conf",
            vec![format!(
                "no type=acl section and none of {} endpoint(s) has acl=/permit=",
                endpoints.len()
            )],
        ));
    }
    let unauth: Vec<String> = endpoints
        .iter()
        .filter(|e| {
            f.get_bool(&format!(
                "ast.pjsip.{}.allow_unauthenticated_options",
                obj("endpoint", e)
            )) == Some(true)
        })
        .map(|e| format!("endpoint [{e}]: allow_unauthenticated_options = yes"))
        .collect();
    if !unauth.is_empty() {
        out.push(rule("AST-PJSIP-UNAUTH-OPTIONS").finding("pjsip.conf", unauth));
    }
    let weak: Vec<String> = f
        .objects("ast.pjsip.auth[")
        .iter()
        .filter_map(|a| {
            f.get(&format!("ast.pjsip.{}.password_weak", obj("auth", a)))
                .map(|why| format!("auth [{a}]: password {why}"))
        })
        .collect();
    if !weak.is_empty() {
        out.push(rule("AST-PJSIP-WEAK-PASSWORD").finding("pjsip.conf", weak));
    }
    if f.get_bool("ast.sip.present") == Some(true) {
        out.push(rule("AST-SIP-DEPRECATED").finding(
            "sip.conf",
            vec!["sip.conf has a [general] section: chan_sip configuration is loaded".into()],
        ));
        let guest = f.get_bool("ast.sip.general.allowguest") == Some(true);
        let ctx = f
            .get("ast.sip.general.context")
            .unwrap_or("default")
            .to_string();
        if guest {
            out.push(rule("AST-SIP-ALLOWGUEST").finding(
                "sip.conf",
                vec![format!(
                    "allowguest = yes (the default when not set); guests land in context {ctx}"
                )],
            ));
            let hits = reachable_dial_outs(f, &ctx);
            if !hits.is_empty() {
                out.push(rule("AST-DIALPLAN-GUEST-DIALS-OUT").finding("extensions.conf", hits));
            }
        }
        if f.get_bool("ast.sip.general.alwaysauthreject") == Some(false) {
            out.push(rule("AST-SIP-AUTHREJECT-OFF").finding(
                "sip.conf",
                vec!["alwaysauthreject = no: wrong user and wrong password get different answers".into()],
            ));
        }
        if p.require_srtp {
            let mut ev = Vec::new();
            if f.get("ast.sip.general.encryption")
                .is_some_and(|e| parse_bool(e) != Some(true))
            {
                ev.push("[general] encryption = no (the default)".to_string());
            }
            for peer in f.objects("ast.sip.peer[") {
                let e = f
                    .get(&format!("ast.sip.{}.encryption", obj("peer", &peer)))
                    .unwrap_or("no");
                if parse_bool(e) != Some(true) {
                    ev.push(format!("peer [{peer}]: encryption = {e}"));
                }
            }
            if !ev.is_empty() {
                out.push(rule("AST-SIP-NO-SRTP").finding("sip.conf", ev));
            }
        }
    }
    for e in &endpoints {
        // An anonymous PJSIP endpoint takes unauthenticated calls, like chan_sip guests.
        if e.eq_ignore_ascii_case("anonymous") {
            let ctx = f
                .get(&format!("ast.pjsip.{}.context", obj("endpoint", e)))
                .unwrap_or("default");
            let hits = reachable_dial_outs(f, ctx);
            if !hits.is_empty() {
                out.push(rule("AST-DIALPLAN-GUEST-DIALS-OUT").finding("extensions.conf", hits));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_forms() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("127.0.0.1:8088"));
        assert!(is_loopback("[::1]"));
        assert!(!is_loopback("0.0.0.0"));
        assert!(!is_loopback("::"));
    }

    #[test]
    fn dial_out_heuristic() {
        assert!(dials_out("1,Dial(${GLOBAL(TRUNK)}/${EXTEN})"));
        assert!(dials_out("n,Dial(PJSIP/${EXTEN}@provider)"));
        assert!(!dials_out("n,Dial(${ARG1})"));
    }
}

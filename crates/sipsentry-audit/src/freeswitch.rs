//! FreeSWITCH configuration directory → facts → findings.
//!
//! FreeSWITCH runs a pre-processor before parsing XML: `<X-PRE-PROCESS cmd="set"
//! data="name=value"/>` defines `$${name}`, substituted everywhere afterwards. We do the same
//! (vars.xml first, then `set`s found in the other files), so a profile's
//! `auth-calls=$${external_auth_calls}` is judged by its effective value.

use crate::catalogue::rule;
use crate::facts::{obj, parse_bool, Facts};
use crate::ini::read_bounded;
use crate::policy::Policy;
use crate::weak::weak_secret;
use sipsentry_report::Finding;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Reading a FreeSWITCH directory failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum FreeswitchError {
    #[error("{0} is not a directory")]
    NotADir(String),
    #[error("{0} has neither vars.xml nor sip_profiles/: is it a FreeSWITCH conf directory (/etc/freeswitch)?")]
    NoConfig(String),
    #[error("{path}: not well-formed XML: {message}")]
    Xml { path: String, message: String },
    #[error(transparent)]
    Read(#[from] crate::ini::IniError),
}

/// Pre-processor variables: name → value.
pub type Vars = BTreeMap<String, String>;

/// `$${name}` → value (unknown names stay as written; bounded).
pub fn expand(s: &str, vars: &Vars) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut n = 0;
    while let Some(i) = rest.find("$${") {
        n += 1;
        let Some(end) = rest[i + 3..].find('}') else {
            break;
        };
        let name = &rest[i + 3..i + 3 + end];
        out.push_str(&rest[..i]);
        match vars.get(name) {
            Some(v) if n < 1000 => out.push_str(v),
            _ => out.push_str(&rest[i..i + 3 + end + 1]),
        }
        rest = &rest[i + 3 + end + 1..];
    }
    out.push_str(rest);
    out
}

fn parse_xml<'a>(path: &Path, text: &'a str) -> Result<roxmltree::Document<'a>, FreeswitchError> {
    let opt = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: 1_000_000,
    };
    roxmltree::Document::parse_with_options(text, opt).map_err(|e| FreeswitchError::Xml {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// Apply the `X-PRE-PROCESS cmd="set"` directives of a document (in order).
fn preprocess(doc: &roxmltree::Document, vars: &mut Vars) {
    for n in doc
        .descendants()
        .filter(|n| n.has_tag_name("X-PRE-PROCESS"))
    {
        if n.attribute("cmd").map(|c| c.eq_ignore_ascii_case("set")) != Some(true) {
            continue;
        }
        if let Some((k, v)) = n.attribute("data").and_then(|d| d.split_once('=')) {
            let v = expand(v, vars);
            vars.insert(k.trim().to_string(), v);
        }
    }
}

fn xml_files(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>, depth: usize) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .take(10_000)
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() && recursive && depth < 6 {
            xml_files(&p, recursive, out, depth + 1);
        } else if p.extension().is_some_and(|e| e == "xml") && out.len() < 10_000 {
            out.push(p);
        }
    }
}

fn is_secret_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("password") || n.contains("passphrase") || n.contains("secret")
}

/// Read a FreeSWITCH conf directory into facts (`fs.*`).
pub fn collect(dir: &Path) -> Result<Facts, FreeswitchError> {
    if !dir.is_dir() {
        return Err(FreeswitchError::NotADir(dir.display().to_string()));
    }
    let vars_path = dir.join("vars.xml");
    let profiles_dir = dir.join("sip_profiles");
    if !vars_path.is_file() && !profiles_dir.is_dir() {
        return Err(FreeswitchError::NoConfig(dir.display().to_string()));
    }
    let mut f = Facts::new();
    f.set("pbx.product", "freeswitch");
    let mut vars = Vars::new();
    if vars_path.is_file() {
        let text = read_bounded(&vars_path)?;
        let doc = parse_xml(&vars_path, &text)?;
        preprocess(&doc, &mut vars);
    }
    for (k, v) in &vars {
        let key = format!("fs.{}", obj("var", k));
        if is_secret_param(k) {
            f.set_secret(&key, v);
            if let Some(why) = weak_secret(v, "") {
                f.set(format!("{key}.weak"), why);
            }
        } else {
            f.set(key, v.as_str());
        }
    }
    let mut profiles = Vec::new();
    xml_files(&profiles_dir, false, &mut profiles, 0);
    for path in &profiles {
        let text = read_bounded(path)?;
        let doc = parse_xml(path, &text)?;
        preprocess(&doc, &mut vars);
        for prof in doc.descendants().filter(|n| n.has_tag_name("profile")) {
            let name = prof.attribute("name").unwrap_or("?");
            let base = format!("fs.{}", obj("profile", name));
            f.set(
                format!("{base}.file"),
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
            for s in prof.children().filter(|n| n.has_tag_name("settings")) {
                params(&s, &format!("{base}.param"), &vars, &mut f);
            }
        }
    }
    let esl = dir.join("autoload_configs/event_socket.conf.xml");
    if esl.is_file() {
        let text = read_bounded(&esl)?;
        let doc = parse_xml(&esl, &text)?;
        f.set_bool("fs.esl.present", true);
        for s in doc.descendants().filter(|n| n.has_tag_name("settings")) {
            params(&s, "fs.esl.param", &vars, &mut f);
        }
    }
    let acl = dir.join("autoload_configs/acl.conf.xml");
    if acl.is_file() {
        let text = read_bounded(&acl)?;
        let doc = parse_xml(&acl, &text)?;
        for l in doc.descendants().filter(|n| n.has_tag_name("list")) {
            let base = format!("fs.{}", obj("acl", l.attribute("name").unwrap_or("?")));
            f.set(
                format!("{base}.default"),
                l.attribute("default")
                    .unwrap_or("deny")
                    .to_ascii_lowercase(),
            );
            let nodes: Vec<String> = l
                .children()
                .filter(|n| n.has_tag_name("node"))
                .map(|n| {
                    format!(
                        "{} {}",
                        n.attribute("type").unwrap_or("?"),
                        expand(
                            n.attribute("cidr").or(n.attribute("domain")).unwrap_or("?"),
                            &vars
                        )
                    )
                })
                .collect();
            f.set(format!("{base}.nodes"), nodes.join(","));
        }
    }
    let mut users = Vec::new();
    xml_files(&dir.join("directory"), true, &mut users, 0);
    for path in &users {
        let text = read_bounded(path)?;
        let Ok(doc) = parse_xml(path, &text) else {
            continue;
        };
        for u in doc.descendants().filter(|n| n.has_tag_name("user")) {
            let Some(id) = u.attribute("id") else {
                continue;
            };
            let base = format!("fs.{}", obj("user", id));
            for p in u.descendants().filter(|n| n.has_tag_name("param")) {
                let (Some(name), Some(value)) = (p.attribute("name"), p.attribute("value")) else {
                    continue;
                };
                let value = expand(value, &vars);
                if is_secret_param(name) {
                    f.set_secret(format!("{base}.{name}"), &value);
                    let weak = if name.eq_ignore_ascii_case("vm-password") {
                        crate::weak::weak_pin(&value, id)
                    } else {
                        weak_secret(&value, id)
                    };
                    if let Some(why) = weak {
                        f.set(format!("{base}.{name}.weak"), why);
                    }
                }
            }
        }
    }
    Ok(f)
}

fn params(settings: &roxmltree::Node, base: &str, vars: &Vars, f: &mut Facts) {
    for p in settings.children().filter(|n| n.has_tag_name("param")) {
        let (Some(name), Some(value)) = (p.attribute("name"), p.attribute("value")) else {
            continue;
        };
        let value = expand(value, vars);
        let key = format!("{base}.{name}");
        if is_secret_param(name) {
            f.set_secret(&key, &value);
            if let Some(why) = weak_secret(&value, "") {
                f.set(format!("{key}.weak"), why);
            }
        } else {
            f.set(key, value);
        }
    }
}

fn loopback(ip: &str) -> bool {
    ip.starts_with("127.") || ip == "::1" || ip == "localhost"
}

/// FreeSWITCH rules over `fs.*` facts.
pub fn rules(f: &Facts, p: &Policy) -> Vec<Finding> {
    let mut out = Vec::new();
    if f.with_prefix("fs.").next().is_none() {
        return out;
    }
    if let Some(why) = f.get(&format!("fs.{}.weak", obj("var", "default_password"))) {
        out.push(rule("FS-DEFAULT-PASSWORD").finding(
            "vars.xml",
            vec![format!(
                "default_password {why}; every directory user with $${{default_password}} uses it"
            )],
        ));
    }
    let mut weak_users = Vec::new();
    for u in f.objects("fs.user[") {
        let base = format!("fs.{}", obj("user", &u));
        for (k, why) in f.with_prefix(&format!("{base}.")) {
            if let Some(param) = k.strip_suffix(".weak") {
                let param = param.rsplit('.').next().unwrap_or(param);
                weak_users.push(format!("user {u}: {param} {why}"));
            }
        }
    }
    if !weak_users.is_empty() {
        out.push(rule("FS-USER-WEAK-PASSWORD").finding("directory", weak_users));
    }
    if f.get_bool("fs.esl.present") == Some(true) {
        let ip = f.get("fs.esl.param.listen-ip").unwrap_or("127.0.0.1");
        let port = f.get("fs.esl.param.listen-port").unwrap_or("8021");
        if !loopback(ip) {
            out.push(rule("FS-ESL-EXPOSED").finding(
                "autoload_configs/event_socket.conf.xml",
                vec![format!("listen-ip = {ip}, listen-port = {port}")],
            ));
            if f.get("fs.esl.param.apply-inbound-acl").is_none() {
                out.push(rule("FS-ESL-NO-ACL").finding(
                    "autoload_configs/event_socket.conf.xml",
                    vec!["no apply-inbound-acl param (commented out in the stock file)".into()],
                ));
            }
        }
        if let Some(why) = f.get("fs.esl.param.password.weak") {
            out.push(rule("FS-ESL-DEFAULT-PASSWORD").finding(
                "autoload_configs/event_socket.conf.xml",
                vec![format!("password {why}")],
            ));
        }
    }
    let profiles = f.objects("fs.profile[");
    let mut any_tls = false;
    for prof in &profiles {
        let base = format!("fs.{}.param", obj("profile", prof));
        let file = f
            .get(&format!("fs.{}.file", obj("profile", prof)))
            .unwrap_or("?");
        let target = format!("sip_profiles/{file} (profile {prof})");
        let get = |k: &str| f.get(&format!("{base}.{k}"));
        let auth_calls = get("auth-calls").and_then(parse_bool).unwrap_or(true);
        if !auth_calls && get("apply-inbound-acl").is_none() {
            out.push(rule("FS-PROFILE-AUTH-CALLS-OFF").finding(
                target.clone(),
                vec!["auth-calls = false and no apply-inbound-acl".into()],
            ));
        }
        // Sofia's default for log-auth-failures is false.
        if get("log-auth-failures").and_then(parse_bool) != Some(true) {
            out.push(rule("FS-LOG-AUTH-FAILURES-OFF").finding(
                target.clone(),
                vec![format!(
                    "log-auth-failures = {}",
                    get("log-auth-failures").unwrap_or("(unset, default false)")
                )],
            ));
        }
        let tls = get("tls").and_then(parse_bool).unwrap_or(false);
        any_tls |= tls;
        if let Some(v) = get("tls-version") {
            let old: Vec<&str> = v
                .split(',')
                .map(str::trim)
                .filter(|t| *t == "tlsv1" || *t == "tlsv1.1")
                .collect();
            if !old.is_empty() {
                out.push(
                    rule("FS-TLS-OLD-VERSIONS")
                        .finding(target.clone(), vec![format!("tls-version = {v}")]),
                );
            }
        }
    }
    if !profiles.is_empty()
        && !any_tls
        && p.required_transports
            .iter()
            .any(|t| t.eq_ignore_ascii_case("tls"))
    {
        let ev = profiles
            .iter()
            .map(|pr| {
                format!(
                    "profile {pr}: tls = {}",
                    f.get(&format!("fs.{}.param.tls", obj("profile", pr)))
                        .unwrap_or("(unset)")
                )
            })
            .collect();
        out.push(rule("FS-PROFILE-NO-TLS").finding("sip_profiles", ev));
    }
    if p.require_srtp && !profiles.is_empty() {
        let vars: Vec<(String, String)> = [
            "rtp_secure_media",
            "rtp_secure_media_inbound",
            "rtp_secure_media_outbound",
        ]
        .iter()
        .filter_map(|v| {
            f.get(&format!("fs.{}", obj("var", v)))
                .map(|x| (v.to_string(), x.to_string()))
        })
        .collect();
        let mandatory = vars.iter().any(|(_, x)| {
            let mode = x.split(':').next().unwrap_or("").to_ascii_lowercase();
            mode == "mandatory" || mode == "true"
        });
        if !mandatory {
            let ev = if vars.is_empty() {
                "vars.xml does not set rtp_secure_media: SRTP only where the dialplan asks for it (the dialplan is not read)".to_string()
            } else {
                vars.iter()
                    .map(|(k, v)| format!("{k} = {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            out.push(rule("FS-NO-SRTP").finding("vars.xml", vec![ev]));
        }
    }
    for l in f.objects("fs.acl[") {
        let base = format!("fs.{}", obj("acl", &l));
        if f.get(&format!("{base}.default")) == Some("allow") {
            out.push(rule("FS-ACL-DEFAULT-ALLOW").finding(
                "autoload_configs/acl.conf.xml",
                vec![format!(
                    "list {l}: default=\"allow\" ({})",
                    f.get(&format!("{base}.nodes")).unwrap_or("")
                )],
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion() {
        let mut v = Vars::new();
        v.insert("a".into(), "1".into());
        assert_eq!(expand("x$${a}y$${b}z", &v), "x1y$${b}z");
        assert_eq!(expand("$${", &v), "$${");
    }
}

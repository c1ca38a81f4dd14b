//! `sipsentry audit`: the configuration posture of a PBX, its firewall and its host.
//!
//! Pipeline: **sources → normalized facts → rules → findings**.
//!
//! - Sources: an Asterisk config directory ([`asterisk`]), a FreeSWITCH conf directory
//!   ([`freeswitch`]), 3CX V20 through its Configuration API or a saved export ([`threecx`]), an
//!   nftables or iptables ruleset ([`firewall`]) and the host's modules and sockets ([`host`]).
//! - Each source is reduced to [`Facts`]: flat `key = value` pairs with secrets hashed. Rules read
//!   only facts, so a saved baseline can be diffed against a later run ([`baseline`]) whatever
//!   the source.
//! - Rules emit [`sipsentry_report::Finding`]s with stable IDs from the [`catalogue`], each
//!   mapped to a hardening control area; [`score`] grades every area.
//!
//! The "version with known CVEs" rule is not here: the detected product and version are facts
//! (`pbx.product`, `pbx.version`, see [`product`]) for the CVE table to consume.

pub mod asterisk;
pub mod baseline;
pub mod catalogue;
pub mod facts;
pub mod firewall;
pub mod freeswitch;
pub mod host;
pub mod ini;
pub mod policy;
pub mod score;
pub mod threecx;
mod weak;

pub use facts::Facts;
pub use policy::Policy;
use sipsentry_report::Finding;

/// Run every rule over `facts` (rules of sources that contributed no facts stay silent).
pub fn evaluate(facts: &Facts, policy: &Policy) -> Vec<Finding> {
    let mut out = Vec::new();
    out.extend(asterisk::rules(facts, policy));
    out.extend(freeswitch::rules(facts, policy));
    out.extend(threecx::rules(facts, policy));
    out.extend(firewall::rules(facts, policy));
    out.extend(host::rules(facts, policy));
    out.extend(known_cves(facts));
    sipsentry_report::sort(&mut out);
    out
}

/// `PBX-KNOWN-CVE`: the product and version against the offline CVE table shared with
/// `sipsentry scan` (one finding per CVE, at the CVE's published severity).
fn known_cves(facts: &Facts) -> Vec<Finding> {
    let Some((product, Some(version))) = product(facts) else {
        return Vec::new();
    };
    let Some(component) = sipsentry_cve::Component::parse(&product) else {
        return Vec::new();
    };
    let rule = catalogue::rule("PBX-KNOWN-CVE");
    sipsentry_cve::lookup(component, &version)
        .into_iter()
        .map(|c| {
            let mut f = rule.finding(
                format!("{product} {version}"),
                vec![
                    format!("{}: {}", c.id, c.summary),
                    format!("fixed in: {}", c.fixed.join(", ")),
                    format!("source: {}", c.source),
                    format!("CVE table snapshot {}", sipsentry_cve::SNAPSHOT),
                ],
            );
            f.severity = match c.severity {
                sipsentry_cve::Severity::Low => sipsentry_report::Severity::Low,
                sipsentry_cve::Severity::Medium => sipsentry_report::Severity::Medium,
                sipsentry_cve::Severity::High => sipsentry_report::Severity::High,
                sipsentry_cve::Severity::Critical => sipsentry_report::Severity::Critical,
            };
            f.title = format!("{} — {}", f.title, c.id);
            f
        })
        .collect()
}

/// The PBX product and version the facts identify (`("3cx", Some("20.0.10.1234"))`), for the
/// CVE lookup.
pub fn product(facts: &Facts) -> Option<(String, Option<String>)> {
    facts
        .get("pbx.product")
        .map(|p| (p.to_string(), facts.get("pbx.version").map(str::to_string)))
}

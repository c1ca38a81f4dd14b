//! Output of `sipsentry analyze`: the per-message view (table or JSON lines) and the summary.

use crate::text::{escape, lossy};
use crate::timefmt;
use serde::Serialize;
use serde_json::{json, Value};
use sipsentry_ingest::summary::Summary;
use sipsentry_ingest::SipEvent;
use sipsentry_sip::Message;
use std::io::Write;

/// One line of `--format jsonl`.
#[derive(Serialize)]
pub struct JsonLine<'a> {
    pub ts: String,
    pub ts_ns: i64,
    pub src: String,
    pub dst: String,
    pub transport: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hep_capture_id: Option<u32>,
    pub method: Option<String>,
    pub status: Option<u16>,
    pub reason: Option<String>,
    pub request_uri: Option<String>,
    pub call_id: Option<String>,
    pub cseq: Option<String>,
    pub from_user: Option<String>,
    pub to_user: Option<String>,
    pub user_agent: Option<String>,
    pub anomalies: Vec<&'a str>,
}

fn user(
    r: Option<Result<sipsentry_sip::NameAddr<'_>, sipsentry_sip::ViewError<'_>>>,
) -> Option<String> {
    r.and_then(|r| r.ok()).and_then(|n| n.uri.user).map(lossy)
}

pub fn json_line<'m>(ev: &SipEvent<'_>, m: &'m Message<'_>) -> JsonLine<'m> {
    JsonLine {
        ts: timefmt::rfc3339_micros(ev.ts_nanos),
        ts_ns: ev.ts_nanos,
        src: ev.src.to_string(),
        dst: ev.dst.to_string(),
        transport: ev.transport.as_str(),
        hep_capture_id: match ev.origin {
            sipsentry_ingest::Origin::Hep { capture_id, .. } => Some(capture_id),
            _ => None,
        },
        method: m.method().map(|x| lossy(x.as_bytes())),
        status: m.status(),
        reason: m.reason_phrase().map(lossy),
        request_uri: m.request_uri_raw().map(lossy),
        call_id: m.call_id().map(lossy),
        cseq: m
            .header_value(sipsentry_sip::HeaderName::CSeq)
            .map(|v| lossy(&sipsentry_sip::print::unfold(v))),
        from_user: user(m.from()),
        to_user: user(m.to()),
        user_agent: m.user_agent().or_else(|| m.server()).map(lossy),
        anomalies: m.anomalies().iter().map(|a| a.kind.id()).collect(),
    }
}

/// Column widths keep the table readable; long untrusted values are cut, never wrapped.
fn cut(s: &str, n: usize) -> std::borrow::Cow<'_, str> {
    if s.len() <= n || s.chars().count() <= n {
        std::borrow::Cow::Borrowed(s)
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        std::borrow::Cow::Owned(t)
    }
}

pub fn table_header(w: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        w,
        "{:<15} {:<21} {:<21} {:<4} {:<10} {:<24} {:<12} {:<12} user-agent",
        "time", "src", "dst", "tp", "message", "call-id", "from", "to"
    )
}

pub fn table_line(w: &mut impl Write, ev: &SipEvent<'_>, m: &Message<'_>) -> std::io::Result<()> {
    let status;
    let what: std::borrow::Cow<'_, str> = match (m.method(), m.status()) {
        (Some(me), _) => escape(me.as_bytes()),
        (_, Some(s)) => {
            status = s.to_string();
            std::borrow::Cow::Borrowed(status.as_str())
        }
        _ => std::borrow::Cow::Borrowed("(invalid)"),
    };
    let na_user =
        |r: Option<Result<sipsentry_sip::NameAddr<'_>, sipsentry_sip::ViewError<'_>>>| -> Vec<u8> {
            r.and_then(|r| r.ok())
                .and_then(|n| n.uri.user)
                .unwrap_or(b"")
                .to_vec()
        };
    let f = na_user(m.from());
    let t = na_user(m.to());
    let ua = m.user_agent().or_else(|| m.server()).unwrap_or(b"");
    let cid = m.call_id().unwrap_or(b"");
    let flag = if m.is_acceptable() { "" } else { " !" };
    writeln!(
        w,
        "{} {:<21} {:<21} {:<4} {:<10} {:<24} {:<12} {:<12} {}{}",
        timefmt::clock_micros(ev.ts_nanos),
        ev.src,
        ev.dst,
        ev.transport.as_str(),
        cut(&what, 10),
        cut(&escape(cid), 24),
        cut(&escape(&f), 12),
        cut(&escape(&t), 12),
        cut(&escape(ua), 40),
        flag
    )
}

pub fn summary_json(s: &Summary, inputs: Value) -> Value {
    let secs = |ns: i64| ns as f64 / 1e9;
    json!({
        "inputs": inputs,
        "messages": s.messages,
        "first_seen": s.first_ns.map(timefmt::rfc3339_micros),
        "last_seen": s.last_ns.map(timefmt::rfc3339_micros),
        "requests_by_method": s.requests_by_method(),
        "responses_by_status": s.responses_by_status().iter().map(|(k, v)| (k.to_string(), *v)).collect::<std::collections::BTreeMap<_, _>>(),
        "by_transport": s.by_transport,
        "registrations": s.registrations().iter().map(|(ext, r)| json!({
            "extension": ext,
            "outcome": r.outcome(),
            "requests": r.requests, "ok": r.ok, "challenged": r.challenged,
            "forbidden": r.forbidden, "not_found": r.not_found, "other_failures": r.other_failures,
            "last_status": r.last_status,
            "sources": r.sources.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "untracked_registrations": s.untracked_registrations,
        "calls": s.calls.iter().map(|c| json!({
            "call_id": c.call_id, "from_user": c.from_user, "to_user": c.to_user,
            "src": c.src.to_string(),
            "start": timefmt::rfc3339_micros(c.start_ns),
            "outcome": c.outcome().label(),
            "final_status": c.final_status,
            "duration_s": c.duration_ns().map(secs),
        })).collect::<Vec<_>>(),
        "call_outcomes": s.call_outcomes,
        "talk_time_s": secs(s.talk_time_ns.0),
        "untracked_calls": s.untracked_calls,
        "top_sources": s.top_sources(10).iter().map(|(a, n)| json!({"address": a.to_string(), "messages": n})).collect::<Vec<_>>(),
        "top_destinations": s.top_destinations(10).iter().map(|(a, n)| json!({"address": a.to_string(), "messages": n})).collect::<Vec<_>>(),
        "anomalies_by_kind": s.anomalies_by_kind,
    })
}

pub fn summary_text(w: &mut impl Write, v: &Value) -> std::io::Result<()> {
    let s = |v: &Value| match v {
        Value::String(s) => escape(s.as_bytes()).into_owned(),
        Value::Null => "-".into(),
        o => o.to_string(),
    };
    writeln!(w, "\n== summary")?;
    writeln!(
        w,
        "messages: {}   first: {}   last: {}",
        v["messages"],
        s(&v["first_seen"]),
        s(&v["last_seen"])
    )?;
    let kv = |w: &mut dyn Write, title: &str, obj: &Value| -> std::io::Result<()> {
        if let Some(o) = obj.as_object().filter(|o| !o.is_empty()) {
            let items: Vec<String> = o
                .iter()
                .map(|(k, n)| format!("{} {}", escape(k.as_bytes()), n))
                .collect();
            writeln!(w, "{title}: {}", items.join(", "))?;
        }
        Ok(())
    };
    kv(w, "requests", &v["requests_by_method"])?;
    kv(w, "responses", &v["responses_by_status"])?;
    kv(w, "transports", &v["by_transport"])?;
    if let Some(r) = v["registrations"].as_array().filter(|r| !r.is_empty()) {
        writeln!(w, "\nregistrations ({} extensions):", r.len())?;
        writeln!(
            w,
            "  {:<16} {:<11} {:>5} {:>4} {:>5} {:>4} {:>4}  sources",
            "extension", "outcome", "reqs", "ok", "chal", "403", "404"
        )?;
        for x in r.iter().take(50) {
            let src: Vec<String> = x["sources"]
                .as_array()
                .into_iter()
                .flatten()
                .map(&s)
                .collect();
            writeln!(
                w,
                "  {:<16} {:<11} {:>5} {:>4} {:>5} {:>4} {:>4}  {}",
                cut(&s(&x["extension"]), 16),
                s(&x["outcome"]),
                x["requests"].to_string(),
                x["ok"].to_string(),
                x["challenged"].to_string(),
                x["forbidden"].to_string(),
                x["not_found"].to_string(),
                src.join(" ")
            )?;
        }
        if r.len() > 50 {
            writeln!(w, "  … {} more (see --format json)", r.len() - 50)?;
        }
    }
    if let Some(c) = v["calls"].as_array().filter(|c| !c.is_empty()) {
        writeln!(w, "\ncalls ({} listed):", c.len())?;
        for x in c.iter().take(30) {
            writeln!(
                w,
                "  {} {} → {} from {}  {}  {}",
                s(&x["start"]),
                cut(&s(&x["from_user"]), 16),
                cut(&s(&x["to_user"]), 20),
                s(&x["src"]),
                s(&x["outcome"]),
                x["duration_s"]
                    .as_f64()
                    .map(|d| format!("{d:.1} s"))
                    .unwrap_or_default()
            )?;
        }
        kv(w, "call outcomes", &v["call_outcomes"])?;
    }
    for (k, title) in [
        ("top_sources", "top sources"),
        ("top_destinations", "top destinations"),
    ] {
        if let Some(a) = v[k].as_array().filter(|a| !a.is_empty()) {
            let items: Vec<String> = a
                .iter()
                .map(|x| format!("{} ({})", s(&x["address"]), x["messages"]))
                .collect();
            writeln!(w, "{title}: {}", items.join(", "))?;
        }
    }
    kv(w, "anomalies", &v["anomalies_by_kind"])?;
    Ok(())
}

pub fn alerts_json(alerts: &[sipsentry_detect::Alert]) -> Value {
    Value::Array(
        alerts
            .iter()
            .map(|a| {
                json!({
                    "id": a.id.as_str(),
                    "severity": a.severity.as_str(),
                    "source": a.source.to_string(),
                    "target": a.target,
                    "first_seen": timefmt::rfc3339_micros(a.first_seen_ns),
                    "last_seen": timefmt::rfc3339_micros(a.last_seen_ns),
                    "count": a.count,
                    "evidence": a.evidence,
                    "control": a.control(),
                    "action": a.action.to_string(),
                })
            })
            .collect(),
    )
}

pub fn alerts_text(w: &mut impl Write, alerts: &Value) -> std::io::Result<()> {
    let list = alerts.as_array().cloned().unwrap_or_default();
    writeln!(w, "\n== alerts ({})", list.len())?;
    let s = |v: &Value| {
        v.as_str()
            .map(|x| escape(x.as_bytes()).into_owned())
            .unwrap_or_else(|| v.to_string())
    };
    for a in &list {
        writeln!(
            w,
            "{:<8} {:<28} {:<22} target {:<16} x{:<5} {}  → {}",
            s(&a["severity"]).to_uppercase(),
            s(&a["id"]),
            s(&a["source"]),
            cut(&s(&a["target"]), 16),
            a["count"].to_string(),
            s(&a["first_seen"]),
            s(&a["action"])
        )?;
        for e in a["evidence"].as_array().into_iter().flatten() {
            writeln!(w, "         | {}", s(e))?;
        }
    }
    Ok(())
}

//! `sipsentry inspect`: one message, every field, every anomaly.

use crate::redact;
use crate::text::{escape, lossy};
use crate::Format;
use anyhow::{Context, Result};
use serde_json::{json, Value};
use sipsentry_sip::{Contact, HeaderName, Message, Severity, StartLine, Uri};
use std::io::Read;
use std::path::PathBuf;

/// Largest input read; bigger files are refused rather than truncated silently. The parser's own
/// cap (64 KiB) then reports `message-too-large` for anything above it.
const MAX_INPUT: u64 = 16 * 1024 * 1024;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// File holding one raw SIP message, or `-` for standard input.
    #[arg(value_name = "FILE|-")]
    input: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

fn read_input(p: &PathBuf) -> Result<Vec<u8>> {
    let mut data = Vec::new();
    if p.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_INPUT + 1)
            .read_to_end(&mut data)
            .context("reading standard input")?;
    } else {
        let f = std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?;
        f.take(MAX_INPUT + 1)
            .read_to_end(&mut data)
            .with_context(|| format!("reading {}", p.display()))?;
    }
    if data.len() as u64 > MAX_INPUT {
        anyhow::bail!(
            "input larger than {} MiB: not a single SIP message",
            MAX_INPUT >> 20
        );
    }
    Ok(data)
}

pub fn run(a: &Args) -> Result<u8> {
    let data = read_input(&a.input)?;
    let msg = Message::parse_strict(&data);
    let report = build(&msg);
    match a.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Format::Text => print!("{}", render_text(&msg, &report)),
    }
    Ok(if msg.is_acceptable() { 0 } else { 1 })
}

fn uri_json(u: &Uri<'_>) -> Value {
    json!({
        "scheme": lossy(u.scheme.as_bytes()),
        "user": u.user.map(lossy),
        "user_decoded": u.user_decoded().map(|d| lossy(&d)),
        "password_present": u.password.is_some(),
        "host": lossy(u.host),
        "port": u.port,
        "params": u.params().map(|p| json!({"name": lossy(p.name), "value": p.value.map(lossy)})).collect::<Vec<_>>(),
        "headers": if u.headers.is_empty() { Value::Null } else { Value::String(lossy(u.headers)) },
        "raw": lossy(u.raw),
    })
}

fn name_addr_json(n: &sipsentry_sip::NameAddr<'_>) -> Value {
    json!({
        "display_name": n.display_name().map(|d| lossy(&d)),
        "uri": uri_json(&n.uri),
        "bracketed": n.bracketed,
        "params": n.params().map(|p| json!({"name": lossy(p.name), "value": p.value.map(lossy)})).collect::<Vec<_>>(),
        "tag": n.tag().map(lossy),
    })
}

fn err_json(e: &sipsentry_sip::ViewError<'_>) -> Value {
    json!({"error": e.kind.id(), "detail": e.detail})
}

fn build(msg: &Message<'_>) -> Value {
    let verdict = match msg.rejection() {
        None => json!({"accept": true}),
        Some(a) => json!({"accept": false, "deciding_anomaly": a.kind.id(), "detail": a.detail}),
    };
    let start = match msg.start_line() {
        StartLine::Request {
            method,
            uri,
            version,
        } => json!({
            "type": "request",
            "method": lossy(method.as_bytes()),
            "request_uri": lossy(uri),
            "request_uri_parsed": msg.request_uri().map(|r| match r { Ok(u) => uri_json(&u), Err(e) => json!({"error": e.to_string()}) }),
            "version": lossy(version),
        }),
        StartLine::Response {
            version,
            code,
            reason,
        } => json!({
            "type": "response", "version": lossy(version), "status": code, "reason": lossy(reason),
        }),
        StartLine::Invalid(line) => json!({"type": "invalid", "line": lossy(line)}),
    };
    let headers: Vec<Value> = msg
        .headers()
        .iter()
        .map(|h| {
            let v = header_value_redacted(h.name, h.value);
            json!({
                "name": lossy(h.raw_name),
                "known": h.name.canonical(),
                "value": lossy(&sipsentry_sip::print::unfold(&v)),
                "span": [h.start, h.end],
            })
        })
        .collect();
    let vias: Vec<Value> = msg
        .vias()
        .map(|v| match v {
            Ok(v) => json!({
                "protocol": format!("{}/{}/{}", lossy(v.protocol), lossy(v.version), lossy(v.transport)),
                "transport": lossy(v.transport),
                "host": lossy(v.host), "port": v.port,
                "branch": v.branch().map(lossy),
                "received": v.received().map(lossy),
                "rport": match v.rport() { None => Value::Null, Some(None) => json!(true), Some(Some(p)) => json!(p) },
                "params": v.params().map(|p| json!({"name": lossy(p.name), "value": p.value.map(lossy)})).collect::<Vec<_>>(),
            }),
            Err(e) => err_json(&e),
        })
        .collect();
    let na = |o: Option<Result<sipsentry_sip::NameAddr<'_>, sipsentry_sip::ViewError<'_>>>| match o
    {
        None => Value::Null,
        Some(Ok(n)) => name_addr_json(&n),
        Some(Err(e)) => err_json(&e),
    };
    let contacts: Vec<Value> = msg
        .contacts()
        .map(|c| match c {
            Ok(Contact::Star) => json!("*"),
            Ok(Contact::Addr(n)) => {
                let mut v = name_addr_json(&n);
                v["expires"] = json!(n.expires());
                v["q"] = json!(n.q_millis().map(|q| f64::from(q) / 1000.0));
                v
            }
            Err(e) => err_json(&e),
        })
        .collect();
    let list = |name: HeaderName| {
        msg.list(name)
            .filter(|t| !t.is_empty())
            .map(lossy)
            .collect::<Vec<_>>()
    };
    let auth = |name: HeaderName| {
        msg.headers_named(name)
            .map(|h| match sipsentry_sip::AuthHeader::parse(h.value) {
                Ok(a) => json!({
                    "scheme": lossy(a.scheme),
                    "params": a.params().map(|p| {
                        let secret = p.name.eq_ignore_ascii_case(b"response");
                        json!({"name": lossy(p.name), "value": if secret { Some(redact::REDACTED.to_string()) } else { p.value.map(lossy) }})
                    }).collect::<Vec<_>>(),
                }),
                Err(e) => err_json(&e),
            })
            .collect::<Vec<_>>()
    };
    let body = msg.body();
    let is_sdp = msg
        .content_type()
        .and_then(|r| r.ok())
        .is_some_and(|t| t.is(b"application", b"sdp"));
    let sdp = if is_sdp && !body.is_empty() {
        crate::inspect::sdp_json(body)
    } else {
        Value::Null
    };
    let typed = json!({
        "via": vias,
        "from": na(msg.from()),
        "to": na(msg.to()),
        "call_id": msg.call_id().map(lossy),
        "cseq": msg.cseq().map(|c| match c { Ok(c) => json!({"seq": c.seq, "method": lossy(c.method)}), Err(e) => err_json(&e) }),
        "contact": contacts,
        "max_forwards": msg.max_forwards(),
        "content_length": msg.content_length(),
        "content_type": msg.header_value(HeaderName::ContentType).map(lossy),
        "expires": msg.expires(),
        "user_agent": msg.user_agent().map(lossy),
        "server": msg.server().map(lossy),
        "allow": list(HeaderName::Allow),
        "supported": list(HeaderName::Supported),
        "require": list(HeaderName::Require),
        "proxy_require": list(HeaderName::ProxyRequire),
        "route": msg.routes().map(|r| r.map(|n| name_addr_json(&n)).unwrap_or_else(|e| err_json(&e))).collect::<Vec<_>>(),
        "record_route": msg.record_routes().map(|r| r.map(|n| name_addr_json(&n)).unwrap_or_else(|e| err_json(&e))).collect::<Vec<_>>(),
        "reason": msg.reasons().map(|r| r.map(|r| json!({"protocol": lossy(r.protocol), "cause": r.cause(), "text": r.text().map(|t| lossy(&t))})).unwrap_or_else(|e| err_json(&e))).collect::<Vec<_>>(),
        "www_authenticate": auth(HeaderName::WwwAuthenticate),
        "proxy_authenticate": auth(HeaderName::ProxyAuthenticate),
        "authorization": auth(HeaderName::Authorization),
        "proxy_authorization": auth(HeaderName::ProxyAuthorization),
    });
    let anomalies: Vec<Value> = msg
        .anomalies()
        .iter()
        .map(|a| {
            json!({
                "kind": a.kind.id(),
                "severity": a.severity().as_str(),
                "span": [a.span.start, a.span.end],
                "detail": a.detail,
                "excerpt": lossy(&excerpt(msg.buf(), &a.span)),
            })
        })
        .collect();
    json!({
        "verdict": verdict,
        "start_line": start,
        "headers": headers,
        "typed": typed,
        "body": {
            "length": body.len(),
            "offset": msg.body_offset(),
            "sdes_keys_redacted": sipsentry_sdp::contains_sdes_keys(body),
        },
        "sdp": sdp,
        "anomalies": anomalies,
    })
}

/// The anomaly's bytes, capped, with secrets redacted.
fn excerpt(buf: &[u8], span: &std::ops::Range<usize>) -> Vec<u8> {
    let s = span.start.min(buf.len());
    let e = span.end.min(buf.len()).min(s + 120);
    let raw = &buf[s..e];
    // An excerpt may cut through an SDES key or a digest response: redact conservatively.
    let r = redact::auth_value(raw);
    redact::body(&r).into_owned()
}

fn header_value_redacted(name: HeaderName, v: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    match name {
        HeaderName::Authorization | HeaderName::ProxyAuthorization => redact::auth_value(v),
        _ => std::borrow::Cow::Borrowed(v),
    }
}

pub fn sdp_json(body: &[u8]) -> Value {
    match sipsentry_sdp::Session::parse(body) {
        Err(e) => json!({"error": e.to_string()}),
        Ok(s) => {
            let media: Vec<Value> = s
                .media()
                .map(|m| {
                    json!({
                        "media": lossy(m.media_type().as_bytes()),
                        "port": m.port(),
                        "proto": m.proto().as_str(),
                        "srtp": m.is_srtp(),
                        "crypto": m.crypto().iter().map(|c| json!({
                            "tag": c.tag,
                            "suite": lossy(c.suite.name().as_bytes()),
                            "key_lengths_ok": c.key_lengths_ok(),
                            "key": redact::REDACTED,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            json!({
                "media": media,
                "connection_addresses": s.connection_addresses().iter().map(|a| a.to_string()).collect::<Vec<_>>(),
                "anomalies": s.anomalies().iter().map(|a| json!({"kind": a.kind.id(), "span": [a.span.start, a.span.end]})).collect::<Vec<_>>(),
            })
        }
    }
}

fn render_text(msg: &Message<'_>, r: &Value) -> String {
    use std::fmt::Write;
    let mut o = String::new();
    let s = |v: &Value| -> String {
        match v {
            Value::String(s) => escape(s.as_bytes()).into_owned(),
            Value::Null => "-".into(),
            other => other.to_string(),
        }
    };
    match msg.rejection() {
        None => {
            let _ = writeln!(o, "verdict: ACCEPT (RFC 3261 allows this message)");
        }
        Some(a) => {
            let _ = writeln!(
                o,
                "verdict: REJECT — {} at bytes {}..{}{}",
                a.kind.id(),
                a.span.start,
                a.span.end,
                if a.detail.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", a.detail)
                }
            );
        }
    }
    let st = &r["start_line"];
    match st["type"].as_str() {
        Some("request") => {
            let _ = writeln!(
                o,
                "request:  {} {} {}",
                s(&st["method"]),
                s(&st["request_uri"]),
                s(&st["version"])
            );
        }
        Some("response") => {
            let _ = writeln!(
                o,
                "response: {} {} {}",
                s(&st["version"]),
                s(&st["status"]),
                s(&st["reason"])
            );
        }
        _ => {
            let _ = writeln!(o, "start line: not SIP: {}", s(&st["line"]));
        }
    }
    let t = &r["typed"];
    let _ = writeln!(o, "\ntyped fields:");
    for (k, label) in [
        ("call_id", "Call-ID"),
        ("user_agent", "User-Agent"),
        ("server", "Server"),
        ("max_forwards", "Max-Forwards"),
        ("content_length", "Content-Length"),
        ("content_type", "Content-Type"),
        ("expires", "Expires"),
    ] {
        if !t[k].is_null() {
            let _ = writeln!(o, "  {label:<15} {}", s(&t[k]));
        }
    }
    let c = &t["cseq"];
    if let Some(e) = c.get("error") {
        let _ = writeln!(o, "  {:<15} <unparseable: {}>", "CSeq", s(e));
    } else if c.is_object() {
        let _ = writeln!(o, "  {:<15} {} {}", "CSeq", s(&c["seq"]), s(&c["method"]));
    }
    for (k, label) in [("from", "From"), ("to", "To")] {
        let v = &t[k];
        if v.is_null() {
            continue;
        }
        if let Some(e) = v.get("error") {
            let _ = writeln!(o, "  {label:<15} <unparseable: {}>", s(e));
        } else {
            let _ = writeln!(
                o,
                "  {label:<15} display={} uri={} user={} tag={}",
                s(&v["display_name"]),
                s(&v["uri"]["raw"]),
                s(&v["uri"]["user_decoded"]),
                s(&v["tag"])
            );
        }
    }
    for (i, v) in t["via"].as_array().into_iter().flatten().enumerate() {
        if let Some(e) = v.get("error") {
            let _ = writeln!(o, "  Via[{i}]          <unparseable: {}>", s(e));
        } else {
            let port = if v["port"].is_null() {
                String::new()
            } else {
                format!(":{}", v["port"])
            };
            let _ = writeln!(
                o,
                "  Via[{i}]          {} {}{} branch={} received={} rport={}",
                s(&v["protocol"]),
                s(&v["host"]),
                port,
                s(&v["branch"]),
                s(&v["received"]),
                s(&v["rport"])
            );
        }
    }
    for (i, v) in t["contact"].as_array().into_iter().flatten().enumerate() {
        if let Some(e) = v.get("error") {
            let _ = writeln!(o, "  Contact[{i}]      <unparseable: {}>", s(e));
        } else if v.is_string() {
            let _ = writeln!(o, "  Contact[{i}]      *");
        } else {
            let _ = writeln!(
                o,
                "  Contact[{i}]      {} expires={} q={}",
                s(&v["uri"]["raw"]),
                s(&v["expires"]),
                s(&v["q"])
            );
        }
    }
    for (k, label) in [
        ("allow", "Allow"),
        ("supported", "Supported"),
        ("require", "Require"),
        ("proxy_require", "Proxy-Require"),
    ] {
        if let Some(a) = t[k].as_array().filter(|a| !a.is_empty()) {
            let items: Vec<String> = a.iter().map(&s).collect();
            let _ = writeln!(o, "  {label:<15} {}", items.join(", "));
        }
    }
    for (k, label) in [
        ("www_authenticate", "WWW-Auth"),
        ("proxy_authenticate", "Proxy-Auth"),
        ("authorization", "Authorization"),
        ("proxy_authorization", "Proxy-Authz"),
    ] {
        for a in t[k].as_array().into_iter().flatten() {
            let params: Vec<String> = a["params"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| format!("{}={}", s(&p["name"]), s(&p["value"])))
                .collect();
            let _ = writeln!(o, "  {label:<15} {} {}", s(&a["scheme"]), params.join(" "));
        }
    }
    let _ = writeln!(
        o,
        "\nheaders ({}):",
        r["headers"].as_array().map_or(0, |a| a.len())
    );
    for h in r["headers"].as_array().into_iter().flatten() {
        let _ = writeln!(o, "  {}: {}", s(&h["name"]), s(&h["value"]));
    }
    let _ = writeln!(o, "\nbody: {} bytes", r["body"]["length"]);
    if let Some(m) = r["sdp"]["media"].as_array() {
        for m in m {
            let _ = writeln!(
                o,
                "  sdp m={} port {} {} srtp={} crypto={}",
                s(&m["media"]),
                m["port"],
                s(&m["proto"]),
                m["srtp"],
                m["crypto"].as_array().map_or(0, |c| c.len())
            );
        }
    }
    let an = r["anomalies"].as_array().cloned().unwrap_or_default();
    let _ = writeln!(o, "\nanomalies ({}):", an.len());
    for a in &an {
        let _ = writeln!(
            o,
            "  {:<8} {:<30} {:>5}..{:<5} {}",
            s(&a["severity"]),
            s(&a["kind"]),
            a["span"][0],
            a["span"][1],
            s(&a["detail"])
        );
        let ex = s(&a["excerpt"]);
        if !ex.is_empty() && ex != "-" {
            let _ = writeln!(o, "           | {ex}");
        }
    }
    if an
        .iter()
        .all(|a| a["severity"] != Severity::Reject.as_str())
        && !an.is_empty()
    {
        let _ = writeln!(o, "  (none of these requires rejection)");
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The report builder and text renderer see every kind of broken field: mutate each RFC 4475
    /// message byte by byte (deterministically) and render both formats.
    #[test]
    fn rendering_never_panics_on_mutated_torture_messages() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/rfc4475");
        let specials = [
            0u8, b'"', b'<', b'>', b';', b',', b':', b'\r', b'\n', b' ', b'@', b'%', 0xff,
        ];
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_none_or(|x| x != "dat") {
                continue;
            }
            let orig = std::fs::read(&p).unwrap();
            for (i, step) in (0..orig.len()).step_by(7).enumerate() {
                let mut m = orig.clone();
                m[step] = specials[i % specials.len()];
                let msg = Message::parse_strict(&m);
                let r = build(&msg);
                let _ = render_text(&msg, &r);
                let _ = serde_json::to_string(&r).unwrap();
            }
        }
    }
}

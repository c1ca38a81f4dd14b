//! A small HTTP/1.1 server for `/healthz`, `/metrics` and the JSON API. Hand-rolled on purpose:
//! four routes on localhost do not justify an async stack, and every size is capped here
//! (request head 16 KiB, body 64 KiB, 16 concurrent connections, 5 s per request).
//!
//! `/api/*` requires `Authorization: Bearer <token>` (compared in constant time); without a
//! configured token the API is closed (403), never open.

use crate::actions::Cmd;
use crate::metrics::Metrics;
use serde_json::{json, Value};
use sipsentry_store::AlertQuery;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 64 * 1024;
const MAX_CONNECTIONS: usize = 16;
/// Whole-request budget: head and body must arrive within it, however the bytes trickle in.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct ApiState {
    pub metrics: Arc<Metrics>,
    pub cmds: SyncSender<Cmd>,
    pub token: Option<String>,
}

pub fn serve(listener: TcpListener, st: ApiState, stop: Arc<AtomicBool>) {
    let _ = listener.set_nonblocking(true);
    let active = Arc::new(AtomicUsize::new(0));
    while !stop.load(Relaxed) {
        let (mut conn, _) = match listener.accept() {
            Ok(c) => c,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let _ = conn.set_nonblocking(false);
        if active.load(Relaxed) >= MAX_CONNECTIONS {
            let _ = respond(
                &mut conn,
                503,
                "application/json",
                &json!({"error": "busy"}).to_string(),
            );
            continue;
        }
        active.fetch_add(1, Relaxed);
        let (st, active) = (st.clone(), active.clone());
        std::thread::spawn(move || {
            let _ = conn.set_write_timeout(Some(REQUEST_TIMEOUT));
            let (code, ctype, body) = match read_request(&mut conn) {
                Ok(req) => route(&st, &req),
                Err(code) => (
                    code,
                    "application/json",
                    json!({"error": "bad request"}).to_string(),
                ),
            };
            let _ = respond(&mut conn, code, ctype, &body);
            active.fetch_sub(1, Relaxed);
        });
    }
}

#[derive(PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub auth: Option<String>,
    pub body: Vec<u8>,
}

/// One `read` bounded by what is left of the request's budget. A per-read timeout alone lets a
/// client that sends one byte every few seconds hold a connection slot for hours (slowloris).
/// The bearer token is a secret: Debug shows only whether one was sent.
impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("auth", &self.auth.as_ref().map(|_| "<redacted>"))
            .field("body_len", &self.body.len())
            .finish()
    }
}

fn read_some(conn: &mut TcpStream, chunk: &mut [u8], deadline: Instant) -> Result<usize, u16> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(408);
    }
    conn.set_read_timeout(Some(left)).map_err(|_| 408u16)?;
    conn.read(chunk).map_err(|_| 408u16)
}

fn read_request(conn: &mut TcpStream) -> Result<Request, u16> {
    let deadline = Instant::now() + REQUEST_TIMEOUT;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Err(431);
        }
        let n = read_some(conn, &mut chunk, deadline)?;
        if n == 0 {
            return Err(400);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let mut req = parse_head(&buf[..head_end])?;
    let len = content_length(&buf[..head_end])?;
    if len > MAX_BODY {
        return Err(413);
    }
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = read_some(conn, &mut chunk, deadline)?;
        if n == 0 {
            return Err(400);
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(len);
    req.body = body;
    Ok(req)
}

fn content_length(head: &[u8]) -> Result<usize, u16> {
    let text = std::str::from_utf8(head).map_err(|_| 400u16)?;
    for line in text.split("\r\n").skip(1) {
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                return v.trim().parse().map_err(|_| 400);
            }
            if k.eq_ignore_ascii_case("transfer-encoding") {
                // Chunked bodies are not needed by any client of this API.
                return Err(411);
            }
        }
    }
    Ok(0)
}

pub fn parse_head(head: &[u8]) -> Result<Request, u16> {
    let text = std::str::from_utf8(head).map_err(|_| 400u16)?;
    let mut lines = text.split("\r\n");
    let first = lines.next().ok_or(400u16)?;
    let mut parts = first.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(400);
    };
    if !version.starts_with("HTTP/1.") {
        return Err(505);
    }
    let (path, qs) = target.split_once('?').unwrap_or((target, ""));
    let query = qs
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (pct_decode(k), pct_decode(v))
        })
        .collect();
    let mut auth = None;
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("authorization") {
                // The scheme name is case-insensitive (RFC 9110 §11.1).
                let v = v.trim();
                auth = v
                    .get(..7)
                    .filter(|s| s.eq_ignore_ascii_case("bearer "))
                    .map(|_| v[7..].trim().to_string());
            }
        }
    }
    Ok(Request {
        method: method.to_string(),
        path: pct_decode(path),
        query,
        auth,
        body: Vec::new(),
    })
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) =
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn ask<T>(
    st: &ApiState,
    make: impl FnOnce(SyncSender<Result<T, String>>) -> Cmd,
) -> Result<T, String> {
    let (tx, rx) = sync_channel(1);
    st.cmds
        .send(make(tx))
        .map_err(|_| "guard is stopping".to_string())?;
    rx.recv_timeout(Duration::from_secs(10))
        .map_err(|_| "guard did not answer in time".to_string())?
}

fn err(code: u16, msg: &str) -> (u16, &'static str, String) {
    (
        code,
        "application/json",
        json!({ "error": msg }).to_string(),
    )
}

pub fn route(st: &ApiState, req: &Request) -> (u16, &'static str, String) {
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/healthz") => (200, "text/plain", "ok\n".into()),
        ("GET", "/metrics") => (200, "text/plain; version=0.0.4", st.metrics.render()),
        (_, p) if p.starts_with("/api/") => {
            let Some(token) = &st.token else {
                return err(
                    403,
                    "the API is disabled: set api.token_file in the configuration",
                );
            };
            if !req
                .auth
                .as_deref()
                .is_some_and(|a| ct_eq(a.as_bytes(), token.as_bytes()))
            {
                return err(401, "missing or wrong bearer token");
            }
            api(st, req)
        }
        _ => err(404, "not found"),
    }
}

fn q<'a>(req: &'a Request, k: &str) -> Option<&'a str> {
    req.query
        .iter()
        .find(|(a, _)| a == k)
        .map(|(_, v)| v.as_str())
}

fn api(st: &ApiState, req: &Request) -> (u16, &'static str, String) {
    let ok = |v: Value| (200, "application/json", v.to_string());
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/api/alerts") => {
            let mut query = AlertQuery::default();
            if let Some(l) = q(req, "limit") {
                match l.parse() {
                    Ok(l) => query.limit = l,
                    Err(_) => return err(400, "limit: not a number"),
                }
            }
            query.alert_id = q(req, "id").map(str::to_string);
            query.source_ip = q(req, "source").map(str::to_string);
            if let Some(a) = q(req, "after_id") {
                match a.parse() {
                    Ok(a) => query.after_id = Some(a),
                    Err(_) => return err(400, "after_id: not a number"),
                }
            }
            match ask(st, |tx| Cmd::ListAlerts(query, tx)) {
                Ok(v) => ok(json!({ "alerts": v })),
                Err(e) => err(503, &e),
            }
        }
        ("GET", "/api/sources") => {
            let hours: i64 = match q(req, "hours").map(str::parse).unwrap_or(Ok(24)) {
                Ok(h) => h,
                Err(_) => return err(400, "hours: not a number"),
            };
            let limit: usize = match q(req, "limit").map(str::parse).unwrap_or(Ok(50)) {
                Ok(l) => l,
                Err(_) => return err(400, "limit: not a number"),
            };
            let since = crate::inputs::now_ns() / 1_000_000_000 - hours.clamp(1, 24 * 366) * 3600;
            match ask(st, |tx| Cmd::TopSources(since, limit, tx)) {
                Ok(v) => ok(json!({ "sources": v })),
                Err(e) => err(503, &e),
            }
        }
        ("GET", "/api/bans") => match ask(st, Cmd::ListBans) {
            Ok(v) => ok(json!({ "bans": v })),
            Err(e) => err(503, &e),
        },
        ("POST", "/api/bans") => {
            let v: Value = match serde_json::from_slice(&req.body) {
                Ok(v) => v,
                Err(e) => return err(400, &format!("body: {e}")),
            };
            let Some(net) = v["net"].as_str() else {
                return err(400, "body: \"net\" (address or CIDR) is required");
            };
            // Absent means an hour; anything else that is not a whole number of seconds is an
            // error, never silently an hour.
            let seconds = match v.get("seconds") {
                None | Some(Value::Null) => 3600,
                Some(s) => match s.as_u64() {
                    Some(s) => s,
                    None => return err(400, "body: \"seconds\" must be a whole number"),
                },
            };
            let reason = v["reason"]
                .as_str()
                .unwrap_or("manual")
                .chars()
                .take(200)
                .collect::<String>();
            match ask(st, |tx| Cmd::Ban {
                net: net.into(),
                seconds,
                reason,
                by: "api".into(),
                reply: tx,
            }) {
                Ok(b) => (201, "application/json", json!({ "ban": b }).to_string()),
                Err(e) if e.starts_with("refused") => err(409, &e),
                Err(e) => err(400, &e),
            }
        }
        ("DELETE", p) if p.starts_with("/api/bans/") => {
            let net = &p["/api/bans/".len()..];
            match ask(st, |tx| Cmd::Unban {
                net: net.into(),
                reply: tx,
            }) {
                Ok(true) => ok(json!({ "removed": net })),
                Ok(false) => err(404, "no active ban for that network"),
                Err(e) => err(400, &e),
            }
        }
        _ => err(404, "not found"),
    }
}

fn respond(conn: &mut TcpStream, code: u16, ctype: &str, body: &str) -> std::io::Result<()> {
    let reason = match code {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Error",
    };
    let auth = if code == 401 {
        "WWW-Authenticate: Bearer\r\n"
    } else {
        ""
    };
    write!(
        conn,
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{auth}Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    conn.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_parsing_and_percent_decoding() {
        let r = parse_head(b"DELETE /api/bans/203.0.113.5%2F32?x=a+b HTTP/1.1\r\nAuthorization: Bearer  s3cret \r\nHost: x").unwrap();
        assert_eq!(r.method, "DELETE");
        assert_eq!(r.path, "/api/bans/203.0.113.5/32");
        assert_eq!(r.query, vec![("x".to_string(), "a b".to_string())]);
        assert_eq!(r.auth.as_deref(), Some("s3cret"));
        assert_eq!(parse_head(b"GET / HTTP/2"), Err(505));
        assert_eq!(parse_head(b"GARBAGE"), Err(400));
        // A truncated escape is kept literally, never a panic.
        assert_eq!(parse_head(b"GET /a%2 HTTP/1.1").unwrap().path, "/a%2");
    }

    #[test]
    fn api_needs_the_token_and_is_closed_without_one() {
        let (tx, _rx) = sync_channel(1);
        let mut st = ApiState {
            metrics: Arc::new(Metrics::default()),
            cmds: tx,
            token: None,
        };
        let mut req = parse_head(b"GET /api/bans HTTP/1.1").unwrap();
        assert_eq!(route(&st, &req).0, 403);
        st.token = Some("t0ken".into());
        assert_eq!(route(&st, &req).0, 401);
        req.auth = Some("t0kem".into());
        assert_eq!(route(&st, &req).0, 401);
        let health = parse_head(b"GET /healthz HTTP/1.1").unwrap();
        assert_eq!(route(&st, &health).0, 200);
    }

    #[test]
    fn regression_http_request_debug_leaks_bearer_token() {
        let r =
            parse_head(b"GET /api/bans HTTP/1.1\r\nAuthorization: Bearer hunter2-secret").unwrap();
        let d = format!("{r:?}");
        assert!(!d.contains("hunter2-secret"), "{d}");
        assert!(d.contains("redacted"), "{d}");
    }

    #[test]
    fn regression_http_slowloris_trickle_holds_connection_past_request_timeout() {
        let l = TcpListener::bind("127.0.0.90:0").unwrap();
        let addr = l.local_addr().unwrap();
        let (tx, _rx) = sync_channel(1);
        let st = ApiState {
            metrics: Arc::new(Metrics::default()),
            cmds: tx,
            token: None,
        };
        let stop = Arc::new(AtomicBool::new(false));
        let s2 = stop.clone();
        let server = std::thread::spawn(move || serve(l, st, s2));
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let started = std::time::Instant::now();
        let head = b"GET /healthz HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let mut answer = Vec::new();
        // One byte every 500 ms (each read finishes well inside any per-read timeout); bounded.
        for &b in head.iter().take(24) {
            if c.write_all(&[b]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
            let mut buf = [0u8; 512];
            match c.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
            if !answer.is_empty() {
                break;
            }
        }
        let took = started.elapsed();
        stop.store(true, Relaxed);
        server.join().unwrap();
        let text = String::from_utf8_lossy(&answer);
        assert!(
            text.starts_with("HTTP/1.1 408"),
            "no 408 after {took:?}: {text:?}"
        );
        assert!(took < Duration::from_secs(8), "held for {took:?}");
    }

    #[test]
    fn regression_api_ban_with_malformed_seconds_bans_for_an_hour() {
        let (tx, rx) = sync_channel(4);
        let st = ApiState {
            metrics: Arc::new(Metrics::default()),
            cmds: tx,
            token: Some("t".into()),
        };
        for body in [
            r#"{"net":"192.0.2.7","seconds":"60"}"#,
            r#"{"net":"192.0.2.7","seconds":-5}"#,
            r#"{"net":"192.0.2.7","seconds":1.5}"#,
        ] {
            let mut req = parse_head(b"POST /api/bans HTTP/1.1").unwrap();
            req.auth = Some("t".into());
            req.body = body.as_bytes().to_vec();
            // Nothing answers the command: a request that reaches the responder times out.
            let (code, _, text) = route(&st, &req);
            assert_eq!(code, 400, "{body}: {text}");
            assert!(text.contains("seconds"), "{body}: {text}");
        }
        assert!(
            rx.try_recv().is_err(),
            "a malformed ban reached the responder"
        );
    }

    #[test]
    fn regression_http_bearer_scheme_is_case_insensitive() {
        for h in ["bearer tok", "BEARER tok", "Bearer tok"] {
            let head = format!("GET /api/bans HTTP/1.1\r\nAuthorization: {h}");
            let r = parse_head(head.as_bytes()).unwrap();
            assert_eq!(r.auth.as_deref(), Some("tok"), "{h}");
        }
        // A multi-byte character across the scheme's end is no panic, and no token.
        let r =
            parse_head("GET / HTTP/1.1\r\nAuthorization: Bear\u{e9}\u{e9}x".as_bytes()).unwrap();
        assert_eq!(r.auth, None);
        let r = parse_head(b"GET / HTTP/1.1\r\nAuthorization: Basic dTpw").unwrap();
        assert_eq!(r.auth, None);
    }
}

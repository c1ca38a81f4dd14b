//! Issue 7 proof for 3CX. 3CX cannot run here: fixtures for a weak and a hardened PBX are
//! validated against the official OpenAPI spec (tests/vectors/3cx-xapi/swagger.yaml), then
//! served by a local HTTP server (127.0.0.7x) to the real XAPI client. This is spec-conformance
//! testing, not a test against a live 3CX.

use serde_json::Value;
use sipsentry_audit::threecx::{self, Client, Documents, Secret, ENDPOINTS};
use sipsentry_audit::{evaluate, Policy};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/3cx-xapi")
}

// ---------------------------------------------------------------- spec validation

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text = std::fs::read_to_string(vectors().join("swagger.yaml")).unwrap();
        serde_yaml::from_str::<Value>(&text).expect("swagger.yaml parses")
    })
}

fn resolve<'a>(spec: &'a Value, r: &str) -> &'a Value {
    let ptr = r.strip_prefix('#').expect("local $ref");
    spec.pointer(&ptr.replace("~1", "/"))
        .unwrap_or_else(|| panic!("unresolved $ref {r}"))
}

/// The 200 response schema of GET `path` (query stripped).
fn response_schema(path: &str) -> &'static Value {
    let s = spec();
    let p = path.split('?').next().unwrap();
    let op = s["paths"][p]["get"]
        .as_object()
        .unwrap_or_else(|| panic!("no GET {p} in spec"));
    let mut resp = &op["responses"]["200"];
    if let Some(r) = resp.get("$ref").and_then(Value::as_str) {
        resp = resolve(s, r);
    }
    &resp["content"]["application/json"]["schema"]
}

/// Every property name an object schema allows (following $ref and allOf).
fn allowed_props(spec: &Value, schema: &Value, out: &mut BTreeSet<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return allowed_props(spec, resolve(spec, r), out);
    }
    if let Some(p) = schema.get("properties").and_then(Value::as_object) {
        out.extend(p.keys().cloned());
    }
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        allowed_props(spec, part, out);
    }
}

fn prop_schema<'a>(spec: &'a Value, schema: &'a Value, key: &str) -> Option<&'a Value> {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return prop_schema(spec, resolve(spec, r), key);
    }
    if let Some(p) = schema.get("properties").and_then(|p| p.get(key)) {
        return Some(p);
    }
    schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find_map(|part| prop_schema(spec, part, key))
}

fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && (s.ends_with('Z') || s[19..].contains('+') || s[19..].contains('-'))
}

/// Validate `v` against `schema` (the subset of OpenAPI 3.0 the XAPI spec uses).
fn validate(spec: &Value, schema: &Value, v: &Value, at: &str, errs: &mut Vec<String>) {
    if v.is_null() && schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        return;
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return validate(spec, resolve(spec, r), v, at, errs);
    }
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        // Object parts are checked as one object below (their properties are a union).
        let is_obj_part = part.get("properties").is_some()
            || part.get("$ref").is_some_and(|r| {
                let t = resolve(spec, r.as_str().unwrap());
                t.get("properties").is_some() || t.get("allOf").is_some()
            });
        if !is_obj_part {
            validate(spec, part, v, at, errs);
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = schema.get(key).and_then(Value::as_array) {
            let ok = alts.iter().any(|a| {
                let mut e = Vec::new();
                validate(spec, a, v, at, &mut e);
                e.is_empty()
            });
            if !ok {
                errs.push(format!("{at}: matches none of {key}"));
            }
        }
    }
    if let Some(en) = schema.get("enum").and_then(Value::as_array) {
        if !en.contains(v) {
            errs.push(format!("{at}: {v} not in enum {en:?}"));
        }
    }
    let ty = schema.get("type").and_then(Value::as_str);
    let has_obj = schema.get("properties").is_some() || schema.get("allOf").is_some();
    match ty {
        Some("string") => match v.as_str() {
            None => errs.push(format!("{at}: expected string, got {v}")),
            Some(s) => {
                if let Some(m) = schema.get("maxLength").and_then(Value::as_u64) {
                    if s.chars().count() as u64 > m {
                        errs.push(format!("{at}: longer than {m}"));
                    }
                }
                if schema.get("format").and_then(Value::as_str) == Some("date-time")
                    && !is_date_time(s)
                {
                    errs.push(format!("{at}: {s:?} is not date-time"));
                }
            }
        },
        Some("integer") => match v.as_i64() {
            None => errs.push(format!("{at}: expected integer, got {v}")),
            Some(n) => {
                let lo = schema
                    .get("minimum")
                    .and_then(Value::as_i64)
                    .unwrap_or(i64::MIN);
                let hi = schema
                    .get("maximum")
                    .and_then(Value::as_i64)
                    .unwrap_or(i64::MAX);
                if n < lo || n > hi {
                    errs.push(format!("{at}: {n} outside [{lo}, {hi}]"));
                }
            }
        },
        Some("number") if !v.is_number() => errs.push(format!("{at}: expected number")),
        Some("boolean") if !v.is_boolean() => errs.push(format!("{at}: expected boolean, got {v}")),
        Some("array") => match v.as_array() {
            None => errs.push(format!("{at}: expected array")),
            Some(a) => {
                for (i, x) in a.iter().enumerate() {
                    validate(spec, &schema["items"], x, &format!("{at}[{i}]"), errs);
                }
            }
        },
        _ => {}
    }
    if has_obj && ty != Some("array") {
        let Some(o) = v.as_object() else {
            if ty == Some("object") || schema.get("properties").is_some() {
                errs.push(format!("{at}: expected object, got {v}"));
            }
            return;
        };
        let mut allowed = BTreeSet::new();
        allowed_props(spec, schema, &mut allowed);
        if allowed.is_empty() {
            return;
        }
        for (k, x) in o {
            if k.starts_with("@odata.") && k != "@odata.count" {
                continue; // OData control information (context, nextLink) is not in schemas.
            }
            match prop_schema(spec, schema, k) {
                Some(ps) => validate(spec, ps, x, &format!("{at}.{k}"), errs),
                None => errs.push(format!("{at}: property {k:?} is not in the schema")),
            }
        }
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(r) = r.as_str() {
                if !o.contains_key(r) {
                    errs.push(format!("{at}: required property {r:?} missing"));
                }
            }
        }
    }
}

fn validate_doc(path: &str, v: &Value) -> Vec<String> {
    let mut errs = Vec::new();
    validate(spec(), response_schema(path), v, path, &mut errs);
    errs
}

#[test]
fn every_fixture_validates_against_the_xapi_spec() {
    for set in ["weak", "hardened"] {
        let docs = threecx::load_export(&vectors().join(set)).unwrap();
        for (name, path) in ENDPOINTS {
            let v = docs
                .get(name)
                .unwrap_or_else(|| panic!("{set}/{name}.json missing"));
            let errs = validate_doc(path, v);
            assert!(errs.is_empty(), "{set}/{name}.json: {errs:#?}");
        }
    }
}

#[test]
fn the_validator_rejects_what_the_spec_forbids() {
    let users = &threecx::load_export(&vectors().join("weak")).unwrap()["Users"];
    let mut bad = users.clone();
    bad["value"][0]["SRTPMode"] = "Sometimes".into();
    bad["value"][1]["Enable2FA"] = "yes".into();
    bad["value"][2]["Invented"] = true.into();
    bad["value"][0]["Groups"][0]["Rights"]["RoleName"] = Value::Null;
    let errs = validate_doc("/Users", &bad);
    assert_eq!(errs.len(), 4, "{errs:#?}");
    let mut st = threecx::load_export(&vectors().join("weak")).unwrap()["SystemStatus"].clone();
    st["Id"] = (1i64 << 40).into();
    st["LastBackupDateTime"] = "yesterday".into();
    assert_eq!(validate_doc("/SystemStatus", &st).len(), 2);
    assert_eq!(
        validate_doc("/SystemStatus/Pbx.GetRemoteAccessStatus()", &"Maybe".into()).len(),
        1
    );
}

// ---------------------------------------------------------------- a local XAPI server

#[derive(Default)]
struct State {
    docs: Documents,
    client_id: String,
    secret: String,
    expires_in: u64,
    live: Option<(String, Instant)>,
    issued: u32,
    token_requests: u32,
    in_flight: u32,
    max_in_flight: u32,
    unauthorized: u32,
    always_401: bool,
    forced: BTreeMap<String, (u16, String)>,
    /// When set, collections are served in pages of this size with `@odata.nextLink`.
    page_size: usize,
    /// Base of the nextLinks served (this server, or a foreign one to test refusal).
    link_base: String,
}

struct Server {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(ip: &str, set: &str, expires_in: u64) -> Server {
        let l = TcpListener::bind((ip, 0)).unwrap();
        let addr = l.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            docs: threecx::load_export(&vectors().join(set)).unwrap(),
            client_id: "sipsentry-audit".into(),
            secret: "correct-horse-battery".into(),
            expires_in,
            link_base: format!("http://{addr}"),
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in l.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                std::thread::spawn(move || handle(conn, &st));
            }
        });
        Server {
            addr,
            state,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn client(&self) -> Client {
        Client::new(
            &self.url(),
            "sipsentry-audit",
            Secret::new("correct-horse-battery"),
        )
    }

    fn s(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn respond(mut c: &TcpStream, status: u16, body: &str) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Error",
    };
    let _ = write!(
        c,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

fn pct_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(n) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(n);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn handle(conn: TcpStream, st: &Mutex<State>) {
    conn.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut r = BufReader::new(&conn);
    let mut first = String::new();
    if r.read_line(&mut first).is_err() {
        return;
    }
    let mut len = 0usize;
    let mut auth = String::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        let (k, v) = h.split_once(':').unwrap_or(("", ""));
        match k.to_ascii_lowercase().as_str() {
            "content-length" => len = v.trim().parse().unwrap_or(0).min(1 << 20),
            "authorization" => auth = v.trim().to_string(),
            _ => {}
        }
    }
    let mut body = vec![0u8; len];
    let _ = r.read_exact(&mut body);
    let mut parts = first.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let target = pct_decode(target);
    if method == "POST" && target == "/connect/token" {
        let form: BTreeMap<String, String> = String::from_utf8_lossy(&body)
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (pct_decode(k), pct_decode(v)))
            .collect();
        {
            let mut s = st.lock().unwrap();
            s.token_requests += 1;
            s.in_flight += 1;
            s.max_in_flight = s.max_in_flight.max(s.in_flight);
        }
        // Slow token issuance widens the window in which racing clients would overlap.
        std::thread::sleep(Duration::from_millis(150));
        let mut s = st.lock().unwrap();
        s.in_flight -= 1;
        if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
            return respond(&conn, 400, r#"{"error":"unsupported_grant_type"}"#);
        }
        if form.get("client_id") != Some(&s.client_id)
            || form.get("client_secret") != Some(&s.secret)
        {
            return respond(&conn, 400, r#"{"error":"invalid_client"}"#);
        }
        s.issued += 1;
        let tok = format!("tok-{}", s.issued);
        // One live token per client: issuing a new one revokes the previous one.
        s.live = Some((
            tok.clone(),
            Instant::now() + Duration::from_secs(s.expires_in),
        ));
        let body = format!(
            r#"{{"token_type":"Bearer","expires_in":{},"access_token":"{tok}","refresh_token":null}}"#,
            s.expires_in
        );
        return respond(&conn, 200, &body);
    }
    let Some(path) = target.strip_prefix("/xapi/v1") else {
        return respond(&conn, 404, "");
    };
    let mut s = st.lock().unwrap();
    let ok =
        matches!(&s.live, Some((t, exp)) if auth == format!("Bearer {t}") && Instant::now() < *exp);
    if !ok || s.always_401 {
        s.unauthorized += 1;
        return respond(&conn, 401, "");
    }
    let p = path.split('?').next().unwrap_or("");
    if let Some((status, body)) = s.forced.get(p).cloned() {
        return respond(&conn, status, &body);
    }
    let name = ENDPOINTS
        .iter()
        .find(|(_, ep)| ep.split('?').next() == Some(p))
        .map(|(n, _)| *n);
    match name.and_then(|n| s.docs.get(n)) {
        Some(v) if s.page_size > 0 && v.get("value").is_some_and(Value::is_array) => {
            let skip: usize = path
                .split_once("$skip=")
                .and_then(|(_, r)| r.split('&').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let all = v["value"].as_array().unwrap();
            let page: Vec<Value> = all.iter().skip(skip).take(s.page_size).cloned().collect();
            let mut out =
                serde_json::json!({ "@odata.context": v["@odata.context"], "value": page });
            if skip + s.page_size < all.len() {
                out["@odata.nextLink"] =
                    format!("{}/xapi/v1{p}?$skip={}", s.link_base, skip + s.page_size).into();
            }
            respond(&conn, 200, &out.to_string())
        }
        Some(v) => respond(&conn, 200, &v.to_string()),
        None => respond(
            &conn,
            404,
            r#"{"error":{"code":"NotFound","message":"No route for the request"}}"#,
        ),
    }
}

fn policy() -> Policy {
    Policy::parse(
        "allowed_countries = [\"1\", \"44\"]\n[services]\npbx = [\"3CXPhoneSystem01\", \"3CXCfgServ01\"]\n",
    )
    .unwrap()
}

fn ids_of(docs: &Documents) -> BTreeSet<String> {
    let facts = threecx::facts_from(docs);
    evaluate(&facts, &policy())
        .into_iter()
        .map(|f| f.id)
        .collect()
}

const WEAK_IDS: [&str; 22] = [
    "3CX-2FA-NOT-REQUIRED",
    "3CX-ADMIN-NO-2FA",
    "3CX-ANTIHACK-LAX",
    "3CX-AUDIT-LOG-OFF",
    "3CX-AUTO-UPDATE-OFF",
    "3CX-BACKUP-LOCAL-ONLY",
    "3CX-BACKUP-NOT-ENCRYPTED",
    "3CX-BACKUP-NOT-SCHEDULED",
    "3CX-BLOCKLIST-BROAD-ALLOW",
    "3CX-CONSOLE-UNRESTRICTED",
    "3CX-COUNTRIES-BROAD",
    "3CX-DIRECT-SIP-EXTERNAL",
    "3CX-EXT-NO-SRTP",
    "3CX-EXT-OUTSIDE-LAN",
    "3CX-NO-TLS-CERT",
    "3CX-PROVISIONING-SECRET-OFF",
    "3CX-REMOTE-SUPPORT",
    "3CX-SERVICE-UNNEEDED",
    "3CX-SYSLOG-OFF",
    "3CX-TRUNK-ANY-SOURCE",
    "3CX-TRUNK-ANY-TRANSPORT",
    "3CX-TRUNK-NO-SRTP",
];

#[test]
fn weak_and_hardened_3cx_over_http() {
    let srv = Server::start("127.0.0.71", "weak", 3600);
    let docs = srv.client().fetch_all().unwrap();
    let got = ids_of(&docs);
    let want: BTreeSet<String> = WEAK_IDS.iter().map(|s| s.to_string()).collect();
    assert_eq!(got, want);
    // One token served the whole audit.
    assert_eq!(srv.s().token_requests, 1);
    let facts = threecx::facts_from(&docs);
    assert_eq!(
        sipsentry_audit::product(&facts),
        Some(("3cx".to_string(), Some("20.0.4.941".to_string())))
    );
    // The offline export gives the same answer.
    assert_eq!(
        ids_of(&threecx::load_export(&vectors().join("weak")).unwrap()),
        want
    );
    let f = evaluate(&facts, &policy());
    let admin = f.iter().find(|x| x.id == "3CX-ADMIN-NO-2FA").unwrap();
    assert_eq!(
        admin.evidence,
        vec!["user 100 (role system_owners): Enable2FA = false"]
    );

    let srv = Server::start("127.0.0.72", "hardened", 3600);
    let docs = srv.client().fetch_all().unwrap();
    assert_eq!(
        ids_of(&docs),
        BTreeSet::new(),
        "hardened 3CX must yield no finding"
    );
}

#[test]
fn token_is_cached_then_renewed_shortly_before_expiry() {
    let srv = Server::start("127.0.0.73", "hardened", 2);
    let c = srv.client();
    for _ in 0..5 {
        c.get("/SystemStatus").unwrap();
    }
    assert_eq!(srv.s().token_requests, 1, "a live token is reused");
    // Past lifetime minus margin (2 s - 0.2 s) the client renews before the server refuses.
    std::thread::sleep(Duration::from_millis(1900));
    c.get("/SystemStatus").unwrap();
    let s = srv.s();
    assert_eq!(s.token_requests, 2);
    assert_eq!(
        s.unauthorized, 0,
        "renewed before expiry, never sent an expired token"
    );
}

#[test]
fn concurrent_callers_share_one_token_request() {
    let srv = Server::start("127.0.0.74", "hardened", 3600);
    let c = Arc::new(srv.client());
    let hs: Vec<_> = (0..8)
        .map(|i| {
            let c = c.clone();
            std::thread::spawn(move || c.get(ENDPOINTS[i % ENDPOINTS.len()].1).map(|_| ()))
        })
        .collect();
    for h in hs {
        h.join().unwrap().unwrap();
    }
    let s = srv.s();
    assert_eq!(s.token_requests, 1, "one token for all threads");
    assert_eq!(s.max_in_flight, 1, "never two concurrent token requests");
    assert_eq!(
        s.unauthorized, 0,
        "no thread's token was revoked by another's"
    );
}

#[test]
fn a_revoked_token_is_refreshed_once_then_the_error_is_clear() {
    let srv = Server::start("127.0.0.75", "hardened", 3600);
    let c = srv.client();
    c.get("/SystemStatus").unwrap();
    srv.s().live = None; // e.g. someone else used the same client ID
    c.get("/SystemStatus").unwrap();
    {
        let s = srv.s();
        assert_eq!((s.token_requests, s.unauthorized), (2, 1));
    }
    srv.s().always_401 = true;
    let e = c.get("/Users").unwrap_err().to_string();
    assert!(
        e.contains("even after one refresh") && e.contains("/Users"),
        "{e}"
    );
    let s = srv.s();
    assert_eq!(s.token_requests, 3, "exactly one refresh per 401");
    assert_eq!(s.unauthorized, 3);
}

#[test]
fn http_errors_and_wrong_secret_give_clear_messages() {
    let srv = Server::start("127.0.0.76", "hardened", 3600);
    srv.s().forced.insert(
        "/SyslogSettings".into(),
        (
            500,
            r#"{"error":{"code":"Internal","message":"Database is locked"}}"#.into(),
        ),
    );
    let e = srv.client().fetch_all().unwrap_err().to_string();
    assert_eq!(e, "3CX /SyslogSettings: HTTP 500: Database is locked");
    let e = srv.client().get("/NoSuchThing").unwrap_err().to_string();
    assert_eq!(e, "3CX /NoSuchThing: HTTP 404: No route for the request");

    let wrong = Client::new(
        &srv.url(),
        "sipsentry-audit",
        Secret::new("Tr0ub4dor&3-wrong"),
    );
    let e = wrong.get("/SystemStatus").unwrap_err().to_string();
    assert!(
        e.contains("rejected the client credentials (invalid_client)"),
        "{e}"
    );
    assert!(
        !e.contains("Tr0ub4dor"),
        "the secret must not appear in errors: {e}"
    );
    assert!(!format!("{wrong:?}").contains("Tr0ub4dor"));

    let dead = TcpListener::bind("127.0.0.77:0").unwrap();
    let url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let e = Client::new(&url, "x", Secret::new("y"))
        .get("/SystemStatus")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("cannot connect to"), "{e}");
}

#[test]
fn odata_pages_are_followed_on_the_pbx_only() {
    let srv = Server::start("127.0.0.78", "weak", 3600);
    let whole = threecx::load_export(&vectors().join("weak")).unwrap();
    srv.s().page_size = 2;
    let users = srv.client().get_all(ENDPOINTS[5].1).unwrap();
    assert_eq!(
        users["value"], whole["Users"]["value"],
        "three users over two pages"
    );
    assert!(users.get("@odata.nextLink").is_none());
    srv.s().link_base = "http://127.0.0.79:9".into();
    let e = srv
        .client()
        .get_all(ENDPOINTS[5].1)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("refusing to follow @odata.nextLink to http://127.0.0.79:9"),
        "{e}"
    );
}

#[test]
fn export_errors_are_clear() {
    let e = threecx::load_export(Path::new("/nonexistent-3cx"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a directory"), "{e}");
    let e = threecx::load_export(&vectors()).unwrap_err().to_string();
    assert!(e.contains("holds none of SystemStatus.json"), "{e}");
}

//! 3CX V20 through its Configuration API (XAPI) or a saved export → facts → findings.
//!
//! Authentication is OAuth 2 client credentials at `/connect/token`; the API lives under
//! `/xapi/v1`. The PBX keeps **one live token per client**: asking for a new one revokes the
//! old, so two requests racing for a token would log each other out. [`Client`] therefore holds
//! its token behind a mutex that stays locked while a token is fetched (one request at a time,
//! whatever the number of threads), refreshes it only shortly before it expires, and on a 401
//! refreshes once and retries once.
//!
//! 3CX cannot run in CI: the client is tested against a local server serving fixtures that are
//! validated against the published OpenAPI spec (`tests/vectors/3cx-xapi/`). That is spec
//! conformance, not a test against a live PBX.

use crate::catalogue::rule;
use crate::facts::{hash_secret, obj, Facts};
use crate::policy::Policy;
use serde_json::Value;
use sipsentry_report::Finding;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Largest response body accepted (a big PBX's user list is a few MB).
pub const MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;
/// Most OData pages followed for one collection.
pub const MAX_PAGES: usize = 1000;

/// The XAPI documents read, by file name (`<name>.json` in an export) and request path.
pub const ENDPOINTS: [(&str, &str); 16] = [
    ("SystemStatus", "/SystemStatus"),
    (
        "RemoteAccessStatus",
        "/SystemStatus/Pbx.GetRemoteAccessStatus()",
    ),
    ("AntiHackingSettings", "/AntiHackingSettings"),
    ("Blocklist", "/Blocklist"),
    ("ConsoleRestrictions", "/ConsoleRestrictions"),
    ("Users", "/Users?$expand=Groups($expand=Rights)"),
    ("Trunks", "/Trunks?$expand=Gateway"),
    ("CountryCodes", "/CountryCodes"),
    ("SecureSipSettings", "/SecureSipSettings"),
    ("PhonesSettings", "/PhonesSettings"),
    ("NetworkSettings", "/NetworkSettings"),
    ("Sbcs", "/Sbcs"),
    ("BackupSettings", "/Backups/Pbx.GetBackupSettings()"),
    (
        "BackupRepositorySettings",
        "/Backups/Pbx.GetBackupRepositorySettings()",
    ),
    ("SyslogSettings", "/SyslogSettings"),
    ("Services", "/Services"),
];

/// The documents of one PBX: name → JSON.
pub type Documents = BTreeMap<String, Value>;

#[derive(Debug, thiserror::Error)]
pub enum ThreeCxError {
    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },
    #[error("3CX rejected the client credentials ({code}): check the client ID and secret under Admin > Integrations > API")]
    BadCredentials { code: String },
    #[error("3CX token endpoint {url} answered HTTP {status}: {message}")]
    Token {
        url: String,
        status: u16,
        message: String,
    },
    #[error("3CX token response is not usable: {0}")]
    BadToken(String),
    #[error("3CX refused the access token for {path} even after one refresh (HTTP 401): does the API client have the System Owner/Admin role?")]
    Unauthorized { path: String },
    #[error("3CX {path}: HTTP {status}: {message}")]
    Http {
        path: String,
        status: u16,
        message: String,
    },
    #[error("3CX {path}: response is not JSON: {message}")]
    NotJson { path: String, message: String },
    #[error("3CX {path}: response larger than {MAX_BODY_BYTES} bytes")]
    TooLarge { path: String },
    #[error("3CX {path}: refusing to follow @odata.nextLink to {link}: it is not on {base} (the token would leave the PBX)")]
    ForeignLink {
        path: String,
        link: String,
        base: String,
    },
    #[error("3CX {path}: more than {MAX_PAGES} pages")]
    TooManyPages { path: String },
    #[error("export {path}: {message}")]
    Export { path: String, message: String },
}

/// A client secret: never printed, not even by `Debug`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

struct Token {
    access: String,
    expires_at: Instant,
    /// Distinguishes tokens so a thread that saw a 401 only discards the token it used.
    serial: u64,
}

/// An XAPI client with one cached token.
pub struct Client {
    base: String,
    client_id: String,
    secret: Secret,
    agent: ureq::Agent,
    token: Mutex<Option<Token>>,
    serial: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// How long before expiry a token is renewed: 30 s, or a tenth of a short lifetime.
fn refresh_margin(lifetime: Duration) -> Duration {
    (lifetime / 10).min(Duration::from_secs(30))
}

fn read_body(resp: ureq::Response, path: &str) -> Result<String, ThreeCxError> {
    let mut buf = Vec::new();
    resp.into_reader()
        .take(MAX_BODY_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| ThreeCxError::Connect {
            url: path.to_string(),
            message: e.to_string(),
        })?;
    if buf.len() as u64 > MAX_BODY_BYTES {
        return Err(ThreeCxError::TooLarge { path: path.into() });
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// The human part of an OData error body (`{"error":{"code","message"}}`), or the start of it.
fn error_message(body: &str) -> String {
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        if let Some(m) = v.pointer("/error/message").and_then(Value::as_str) {
            return m.chars().take(300).collect();
        }
        if let Some(m) = v.get("error_description").and_then(Value::as_str) {
            return m.chars().take(300).collect();
        }
        if let Some(m) = v.get("error").and_then(Value::as_str) {
            return m.chars().take(300).collect();
        }
    }
    let t: String = body.trim().chars().take(200).collect();
    if t.is_empty() {
        "(empty body)".into()
    } else {
        t
    }
}

impl Client {
    /// `base`: the PBX root, e.g. `https://pbx.example.com` (no `/xapi/v1`).
    pub fn new(base: &str, client_id: &str, secret: Secret) -> Client {
        Client {
            base: base.trim_end_matches('/').to_string(),
            client_id: client_id.to_string(),
            secret,
            agent: ureq::AgentBuilder::new()
                .timeout_connect(Duration::from_secs(10))
                .timeout(Duration::from_secs(60))
                .build(),
            token: Mutex::new(None),
            serial: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// A valid access token and its serial, fetching one only if none is live. The lock is held
    /// across the request: concurrent callers wait for the one fetch instead of racing.
    fn token(&self) -> Result<(String, u64), ThreeCxError> {
        let mut guard = self.token.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = guard.as_ref() {
            if Instant::now() < t.expires_at {
                return Ok((t.access.clone(), t.serial));
            }
        }
        let t = self.fetch_token()?;
        let out = (t.access.clone(), t.serial);
        *guard = Some(t);
        Ok(out)
    }

    /// Forget the token `serial` (after a 401), unless another thread already replaced it.
    fn invalidate(&self, serial: u64) {
        let mut guard = self.token.lock().unwrap_or_else(|p| p.into_inner());
        if guard.as_ref().is_some_and(|t| t.serial == serial) {
            *guard = None;
        }
    }

    fn fetch_token(&self) -> Result<Token, ThreeCxError> {
        let url = format!("{}/connect/token", self.base);
        let sent = Instant::now();
        let resp = self.agent.post(&url).send_form(&[
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.secret.0.as_str()),
            ("grant_type", "client_credentials"),
        ]);
        let resp = match resp {
            Ok(r) => r,
            Err(ureq::Error::Status(status, r)) => {
                let body = read_body(r, &url).unwrap_or_default();
                let code = serde_json::from_str::<Value>(&body)
                    .ok()
                    .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string));
                if matches!(
                    code.as_deref(),
                    Some("invalid_client" | "unauthorized_client")
                ) || (status == 401 && code.is_none())
                {
                    return Err(ThreeCxError::BadCredentials {
                        code: code.unwrap_or_else(|| format!("HTTP {status}")),
                    });
                }
                return Err(ThreeCxError::Token {
                    url,
                    status,
                    message: error_message(&body),
                });
            }
            Err(e) => {
                return Err(ThreeCxError::Connect {
                    url,
                    message: e.to_string(),
                })
            }
        };
        let body = read_body(resp, &url)?;
        let v: Value =
            serde_json::from_str(&body).map_err(|e| ThreeCxError::BadToken(e.to_string()))?;
        let access = v
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ThreeCxError::BadToken("no access_token".into()))?;
        if let Some(tt) = v.get("token_type").and_then(Value::as_str) {
            if !tt.eq_ignore_ascii_case("bearer") {
                return Err(ThreeCxError::BadToken(format!(
                    "token_type {tt:?}, expected Bearer"
                )));
            }
        }
        // Since 20.0.9 expires_in is seconds; older builds sent minutes-as-seconds too.
        let secs = v
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(60)
            .clamp(1, 86_400);
        let lifetime = Duration::from_secs(secs);
        Ok(Token {
            access: access.to_string(),
            expires_at: sent + lifetime - refresh_margin(lifetime),
            serial: self
                .serial
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                + 1,
        })
    }

    /// GET `/xapi/v1{path}` as JSON.
    pub fn get(&self, path: &str) -> Result<Value, ThreeCxError> {
        let url = format!("{}/xapi/v1{}", self.base, path);
        for attempt in 0..2 {
            let (tok, serial) = self.token()?;
            let resp = self
                .agent
                .get(&url)
                .set("Authorization", &format!("Bearer {tok}"))
                .set("Accept", "application/json")
                .call();
            match resp {
                Ok(r) => {
                    let body = read_body(r, path)?;
                    return serde_json::from_str(&body).map_err(|e| ThreeCxError::NotJson {
                        path: path.to_string(),
                        message: e.to_string(),
                    });
                }
                Err(ureq::Error::Status(401, _)) => {
                    self.invalidate(serial);
                    if attempt == 1 {
                        break;
                    }
                }
                Err(ureq::Error::Status(status, r)) => {
                    let body = read_body(r, path).unwrap_or_default();
                    return Err(ThreeCxError::Http {
                        path: path.to_string(),
                        status,
                        message: error_message(&body),
                    });
                }
                Err(e) => {
                    return Err(ThreeCxError::Connect {
                        url,
                        message: e.to_string(),
                    })
                }
            }
        }
        Err(ThreeCxError::Unauthorized {
            path: path.to_string(),
        })
    }

    /// GET a document, following OData `@odata.nextLink` pages of a collection (only links on
    /// this PBX's `/xapi/v1`: the bearer token is never sent elsewhere) and merging their
    /// `value` arrays into the first page.
    pub fn get_all(&self, path: &str) -> Result<Value, ThreeCxError> {
        let mut doc = self.get(path)?;
        let prefix = format!("{}/xapi/v1", self.base);
        for _ in 0..MAX_PAGES {
            let Some(link) = doc
                .get("@odata.nextLink")
                .and_then(Value::as_str)
                .map(str::to_string)
            else {
                return Ok(doc);
            };
            let rel = match link.strip_prefix(&prefix) {
                Some(r) if r.starts_with('/') => r.to_string(),
                _ => {
                    return Err(ThreeCxError::ForeignLink {
                        path: path.to_string(),
                        link: link.chars().take(200).collect(),
                        base: prefix,
                    })
                }
            };
            let next = self.get(&rel)?;
            let more = next
                .get("value")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if let Some(arr) = doc.get_mut("value").and_then(Value::as_array_mut) {
                arr.extend(more);
            }
            match (doc.as_object_mut(), next.get("@odata.nextLink")) {
                (Some(o), Some(l)) => {
                    o.insert("@odata.nextLink".into(), l.clone());
                }
                (Some(o), None) => {
                    o.remove("@odata.nextLink");
                }
                _ => return Ok(doc),
            }
        }
        Err(ThreeCxError::TooManyPages {
            path: path.to_string(),
        })
    }

    /// Fetch every document of [`ENDPOINTS`].
    pub fn fetch_all(&self) -> Result<Documents, ThreeCxError> {
        let mut docs = Documents::new();
        for (name, path) in ENDPOINTS {
            docs.insert(name.to_string(), self.get_all(path)?);
        }
        Ok(docs)
    }
}

/// Read an export directory: `<name>.json` per [`ENDPOINTS`] entry; missing ones are skipped
/// (their rules stay silent), unreadable or non-JSON ones are errors.
pub fn load_export(dir: &Path) -> Result<Documents, ThreeCxError> {
    if !dir.is_dir() {
        return Err(ThreeCxError::Export {
            path: dir.display().to_string(),
            message: "not a directory".into(),
        });
    }
    let mut docs = Documents::new();
    for (name, _) in ENDPOINTS {
        let p = dir.join(format!("{name}.json"));
        if !p.is_file() {
            continue;
        }
        let text = crate::ini::read_bounded(&p).map_err(|e| ThreeCxError::Export {
            path: p.display().to_string(),
            message: e.to_string(),
        })?;
        let v = serde_json::from_str(&text).map_err(|e| ThreeCxError::Export {
            path: p.display().to_string(),
            message: format!("not JSON: {e}"),
        })?;
        docs.insert(name.to_string(), v);
    }
    if docs.is_empty() {
        let names: Vec<String> = ENDPOINTS.iter().map(|(n, _)| format!("{n}.json")).collect();
        return Err(ThreeCxError::Export {
            path: dir.display().to_string(),
            message: format!("holds none of {}", names.join(", ")),
        });
    }
    Ok(docs)
}

/// Write documents as an export directory (what `load_export` reads).
pub fn save_export(dir: &Path, docs: &Documents) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, v) in docs {
        let text = serde_json::to_string_pretty(v).map_err(std::io::Error::other)?;
        std::fs::write(dir.join(format!("{name}.json")), text)?;
    }
    Ok(())
}

fn list(v: Option<&Value>) -> Vec<Value> {
    match v {
        Some(Value::Array(a)) => a.clone(),
        Some(o) => o
            .get("value")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        None => Vec::new(),
    }
}

fn s(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(o) => o.to_string(),
    }
}

fn b(v: &Value, k: &str) -> Option<bool> {
    v.get(k).and_then(Value::as_bool)
}

fn setb(f: &mut Facts, key: String, v: Option<bool>) {
    if let Some(v) = v {
        f.set_bool(key, v);
    }
}

/// Normalize the documents into facts (`3cx.*`, `pbx.*`). Passwords are hashed.
pub fn facts_from(docs: &Documents) -> Facts {
    let mut f = Facts::new();
    f.set("pbx.product", "3cx");
    f.set(
        "3cx.documents",
        docs.keys().cloned().collect::<Vec<_>>().join(","),
    );
    if let Some(st) = docs.get("SystemStatus") {
        let v = s(st, "Version");
        if !v.is_empty() {
            f.set("pbx.version", v);
        }
        setb(
            &mut f,
            "3cx.status.auto_update".into(),
            b(st, "AutoUpdateEnabled"),
        );
        setb(
            &mut f,
            "3cx.status.audit_log".into(),
            b(st, "IsAuditLogEnabled"),
        );
        setb(
            &mut f,
            "3cx.status.backup_scheduled".into(),
            b(st, "BackupScheduled"),
        );
    }
    if let Some(ra) = docs.get("RemoteAccessStatus") {
        let v = ra
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| s(ra, "value"));
        f.set("3cx.remote_access", v);
    }
    if let Some(a) = docs.get("AntiHackingSettings") {
        for k in [
            "HackAuthRequests",
            "HackChallengeRequests",
            "HackBlacklistDuration",
            "MaxRequestPerPeriod",
            "ThrottlePeriodLength",
            "SecurityDefenseProgram",
        ] {
            let v = s(a, k);
            if !v.is_empty() {
                f.set(format!("3cx.antihack.{k}"), v);
            }
        }
    }
    for e in list(docs.get("Blocklist")) {
        let base = format!("3cx.{}", obj("blocklist", &s(&e, "IPAddrMask")));
        f.set(format!("{base}.type"), s(&e, "BlockType"));
        f.set(format!("{base}.added_by"), s(&e, "AddedBy"));
    }
    if let Some(c) = docs.get("ConsoleRestrictions") {
        setb(
            &mut f,
            "3cx.console.restricted".into(),
            b(c, "AccessRestricted"),
        );
        let mut wl: Vec<String> = list(c.get("IpWhitelist"))
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect();
        wl.sort();
        wl.dedup();
        f.set("3cx.console.whitelist", wl.join(","));
    }
    for u in list(docs.get("Users")) {
        let num = s(&u, "Number");
        let base = format!("3cx.{}", obj("user", &num));
        setb(&mut f, format!("{base}.enabled"), b(&u, "Enabled"));
        setb(&mut f, format!("{base}.enable2fa"), b(&u, "Enable2FA"));
        setb(&mut f, format!("{base}.require2fa"), b(&u, "Require2FA"));
        setb(
            &mut f,
            format!("{base}.allow_lan_only"),
            b(&u, "AllowLanOnly"),
        );
        setb(&mut f, format!("{base}.block_tunnel"), b(&u, "BlockTunnel"));
        f.set(format!("{base}.srtp"), s(&u, "SRTPMode"));
        let mut roles: Vec<String> = list(u.get("Groups"))
            .iter()
            .filter_map(|g| {
                g.pointer("/Rights/RoleName")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect();
        roles.sort();
        roles.dedup();
        f.set(format!("{base}.roles"), roles.join(","));
        for k in ["AuthPassword", "AccessPassword"] {
            if let Some(p) = u.get(k).and_then(Value::as_str).filter(|p| !p.is_empty()) {
                f.set(format!("{base}.{k}"), hash_secret(p));
            }
        }
    }
    for t in list(docs.get("Trunks")) {
        let id = match s(&t, "Number") {
            n if !n.is_empty() => n,
            _ => s(&t, "Id"),
        };
        let base = format!("3cx.{}", obj("trunk", &id));
        let gw = t.get("Gateway").cloned().unwrap_or(Value::Null);
        f.set(format!("{base}.name"), s(&gw, "Name"));
        f.set(format!("{base}.host"), s(&gw, "Host"));
        f.set(format!("{base}.transport"), s(&t, "TransportRestriction"));
        f.set(format!("{base}.ip_family"), s(&t, "IPRestriction"));
        f.set(format!("{base}.srtp"), s(&gw, "SRTPMode"));
        f.set(
            format!("{base}.source_identification"),
            gw.get("SourceIdentification")
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
                .to_string(),
        );
        if let Some(p) = t
            .pointer("/AuthPassword/Value")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
        {
            f.set(format!("{base}.auth_password"), hash_secret(p));
        }
    }
    if let Some(c) = docs.get("CountryCodes") {
        let mut cc: Vec<String> = c
            .get("CountryCodes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect();
        cc.sort();
        cc.dedup();
        f.set("3cx.countries", cc.join(","));
    }
    if let Some(sec) = docs.get("SecureSipSettings") {
        let present = |k: &str| {
            sec.get(k).is_some_and(|c| {
                c.get("Concealed").and_then(Value::as_bool) == Some(true)
                    || !s(c, "Contents").is_empty()
                    || !s(c, "Name").is_empty()
            })
        };
        f.set_bool("3cx.securesip.certificate", present("Certificate"));
        f.set_bool("3cx.securesip.private_key", present("PrivateKey"));
    }
    if let Some(ph) = docs.get("PhonesSettings") {
        setb(
            &mut f,
            "3cx.phones.provisioning_secret".into(),
            b(ph, "UseProvisioningSecret"),
        );
    }
    if let Some(n) = docs.get("NetworkSettings") {
        setb(
            &mut f,
            "3cx.network.direct_sip_external".into(),
            b(n, "DirectSIPAllowExternal"),
        );
    }
    if docs.contains_key("Sbcs") {
        f.set("3cx.sbc.count", list(docs.get("Sbcs")).len().to_string());
    }
    if let Some(bk) = docs.get("BackupSettings") {
        setb(
            &mut f,
            "3cx.backup.schedule_enabled".into(),
            b(bk, "ScheduleEnabled"),
        );
        setb(
            &mut f,
            "3cx.backup.encrypt".into(),
            bk.get("Contents").and_then(|c| b(c, "EncryptBackup")),
        );
        if let Some(p) = bk
            .pointer("/Contents/EncryptBackupPassword/Value")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
        {
            f.set("3cx.backup.encrypt_password", hash_secret(p));
        }
    }
    if let Some(r) = docs.get("BackupRepositorySettings") {
        let loc = r
            .pointer("/Location/FileSystemType")
            .and_then(Value::as_str)
            .unwrap_or("Local");
        f.set("3cx.backup.location", loc);
    }
    if let Some(sl) = docs.get("SyslogSettings") {
        f.set(
            "3cx.syslog.type",
            match s(sl, "IntegrationType") {
                t if t.is_empty() => "None".into(),
                t => t,
            },
        );
    }
    for svc in list(docs.get("Services")) {
        f.set(
            format!("3cx.{}.status", obj("service", &s(&svc, "Name"))),
            s(&svc, "Status"),
        );
    }
    f
}

fn is_admin(roles: &str) -> bool {
    let r = roles.to_ascii_lowercase();
    r.contains("admin") || r.contains("owner")
}

/// 3CX rules over `3cx.*` facts.
pub fn rules(f: &Facts, p: &Policy) -> Vec<Finding> {
    let mut out = Vec::new();
    if f.get("3cx.documents").is_none() {
        return out;
    }
    let t = |doc: &str| format!("3CX /xapi/v1{doc}");
    let mut no2fa = Vec::new();
    let mut notreq = Vec::new();
    let mut outside = Vec::new();
    let mut ext_nosrtp = Vec::new();
    let sbcs = f.get_u64("3cx.sbc.count").unwrap_or(0);
    for u in f.objects("3cx.user[") {
        let base = format!("3cx.{}", obj("user", &u));
        if f.get_bool(&format!("{base}.enabled")) == Some(false) {
            continue;
        }
        let roles = f.get(&format!("{base}.roles")).unwrap_or("");
        if is_admin(roles) {
            if f.get_bool(&format!("{base}.enable2fa")) != Some(true) {
                no2fa.push(format!("user {u} (role {roles}): Enable2FA = false"));
            } else if f.get_bool(&format!("{base}.require2fa")) != Some(true) {
                notreq.push(format!("user {u} (role {roles}): Require2FA = false"));
            }
        }
        let remote = f.get_bool(&format!("{base}.allow_lan_only")) == Some(false);
        if remote && f.get_bool(&format!("{base}.block_tunnel")) == Some(true) && sbcs == 0 {
            outside.push(format!(
                "user {u}: AllowLanOnly = false, BlockTunnel = true, no SBC configured"
            ));
        }
        if remote && p.require_srtp && f.get(&format!("{base}.srtp")) == Some("SRTPDisabled") {
            ext_nosrtp.push(format!(
                "user {u}: AllowLanOnly = false, SRTPMode = SRTPDisabled"
            ));
        }
    }
    for (id, ev) in [
        ("3CX-ADMIN-NO-2FA", no2fa),
        ("3CX-2FA-NOT-REQUIRED", notreq),
        ("3CX-EXT-OUTSIDE-LAN", outside),
        ("3CX-EXT-NO-SRTP", ext_nosrtp),
    ] {
        if !ev.is_empty() {
            out.push(rule(id).finding(t("/Users"), ev));
        }
    }
    match f.get_bool("3cx.console.restricted") {
        Some(false) => out.push(rule("3CX-CONSOLE-UNRESTRICTED").finding(
            t("/ConsoleRestrictions"),
            vec!["AccessRestricted = false".into()],
        )),
        Some(true) => {
            let wl = f.get("3cx.console.whitelist").unwrap_or("");
            let ev: Vec<String> = if wl.is_empty() {
                vec!["AccessRestricted = true but IpWhitelist is empty".into()]
            } else {
                wl.split(',')
                    .filter_map(|e| p.allow_entry_ok(e).err())
                    .map(|why| format!("IpWhitelist: {why}"))
                    .collect()
            };
            if !ev.is_empty() {
                out.push(rule("3CX-CONSOLE-UNRESTRICTED").finding(t("/ConsoleRestrictions"), ev));
            }
        }
        None => {}
    }
    let mut lax = Vec::new();
    let l = &p.lockout;
    if let Some(v) = f
        .get_u64("3cx.antihack.HackAuthRequests")
        .filter(|v| *v > l.max_failed_auth)
    {
        lax.push(format!(
            "HackAuthRequests = {v} (policy: at most {})",
            l.max_failed_auth
        ));
    }
    if let Some(v) = f
        .get_u64("3cx.antihack.HackChallengeRequests")
        .filter(|v| *v > l.max_challenge_requests)
    {
        lax.push(format!(
            "HackChallengeRequests = {v} (policy: at most {})",
            l.max_challenge_requests
        ));
    }
    if let Some(v) = f
        .get_u64("3cx.antihack.HackBlacklistDuration")
        .filter(|v| *v < l.min_block_seconds)
    {
        lax.push(format!(
            "HackBlacklistDuration = {v} (policy: at least {})",
            l.min_block_seconds
        ));
    }
    if !lax.is_empty() {
        out.push(rule("3CX-ANTIHACK-LAX").finding(t("/AntiHackingSettings"), lax));
    }
    let mut broad = Vec::new();
    for e in f.objects("3cx.blocklist[") {
        let base = format!("3cx.{}", obj("blocklist", &e));
        if f.get(&format!("{base}.type")) != Some("Allow") {
            continue;
        }
        if let Err(why) = p.allow_entry_ok(&e) {
            broad.push(format!("Allow {why}"));
        }
    }
    if !broad.is_empty() {
        out.push(rule("3CX-BLOCKLIST-BROAD-ALLOW").finding(t("/Blocklist"), broad));
    }
    if let Some(cc) = f.get("3cx.countries") {
        let cc: Vec<&str> = cc.split(',').filter(|c| !c.is_empty()).collect();
        if p.allowed_countries.is_empty() {
            if cc.len() > p.max_countries_without_policy {
                out.push(rule("3CX-COUNTRIES-BROAD").finding(
                    t("/CountryCodes"),
                    vec![format!(
                        "{} country codes allowed (no allowed_countries in the policy; limit {}): {}",
                        cc.len(),
                        p.max_countries_without_policy,
                        cc.iter().take(20).copied().collect::<Vec<_>>().join(",")
                    )],
                ));
            }
        } else {
            let extra: Vec<&str> = cc
                .iter()
                .copied()
                .filter(|c| {
                    !p.allowed_countries
                        .iter()
                        .any(|a| a.eq_ignore_ascii_case(c))
                })
                .collect();
            if !extra.is_empty() {
                out.push(rule("3CX-COUNTRIES-BROAD").finding(
                    t("/CountryCodes"),
                    vec![format!(
                        "allowed but not in the policy: {}",
                        extra.join(",")
                    )],
                ));
            }
        }
    }
    let (mut tr_srtp, mut tr_any, mut tr_src) = (Vec::new(), Vec::new(), Vec::new());
    for tr in f.objects("3cx.trunk[") {
        let base = format!("3cx.{}", obj("trunk", &tr));
        let name = f.get(&format!("{base}.name")).unwrap_or("");
        if p.require_srtp && f.get(&format!("{base}.srtp")) == Some("SRTPDisabled") {
            tr_srtp.push(format!(
                "trunk {tr} ({name}): Gateway.SRTPMode = SRTPDisabled"
            ));
        }
        if f.get(&format!("{base}.transport")) == Some("Any") {
            tr_any.push(format!("trunk {tr} ({name}): TransportRestriction = Any"));
        }
        if f.get(&format!("{base}.source_identification")) == Some("0") {
            tr_src.push(format!(
                "trunk {tr} ({name}): Gateway.SourceIdentification is empty"
            ));
        }
    }
    for (id, ev) in [
        ("3CX-TRUNK-NO-SRTP", tr_srtp),
        ("3CX-TRUNK-ANY-TRANSPORT", tr_any),
        ("3CX-TRUNK-ANY-SOURCE", tr_src),
    ] {
        if !ev.is_empty() {
            out.push(rule(id).finding(t("/Trunks"), ev));
        }
    }
    if f.get_bool("3cx.securesip.certificate") == Some(false) {
        out.push(
            rule("3CX-NO-TLS-CERT")
                .finding(t("/SecureSipSettings"), vec!["Certificate is empty".into()]),
        );
    }
    if f.get_bool("3cx.phones.provisioning_secret") == Some(false) {
        out.push(rule("3CX-PROVISIONING-SECRET-OFF").finding(
            t("/PhonesSettings"),
            vec!["UseProvisioningSecret = false".into()],
        ));
    }
    if f.get_bool("3cx.status.auto_update") == Some(false) {
        out.push(rule("3CX-AUTO-UPDATE-OFF").finding(
            t("/SystemStatus"),
            vec![format!(
                "AutoUpdateEnabled = false (version {})",
                f.get("pbx.version").unwrap_or("?")
            )],
        ));
    }
    if f.get_bool("3cx.status.audit_log") == Some(false) {
        out.push(
            rule("3CX-AUDIT-LOG-OFF")
                .finding(t("/SystemStatus"), vec!["IsAuditLogEnabled = false".into()]),
        );
    }
    if f.get("3cx.syslog.type") == Some("None") {
        out.push(
            rule("3CX-SYSLOG-OFF")
                .finding(t("/SyslogSettings"), vec!["IntegrationType = None".into()]),
        );
    }
    let scheduled = f
        .get_bool("3cx.backup.schedule_enabled")
        .or(f.get_bool("3cx.status.backup_scheduled"));
    if scheduled == Some(false) {
        out.push(rule("3CX-BACKUP-NOT-SCHEDULED").finding(
            t("/Backups/Pbx.GetBackupSettings()"),
            vec!["ScheduleEnabled = false".into()],
        ));
    }
    if f.get_bool("3cx.backup.encrypt") == Some(false) {
        out.push(rule("3CX-BACKUP-NOT-ENCRYPTED").finding(
            t("/Backups/Pbx.GetBackupSettings()"),
            vec!["Contents.EncryptBackup = false".into()],
        ));
    }
    if matches!(f.get("3cx.backup.location"), Some("Local") | Some("Logs")) {
        out.push(rule("3CX-BACKUP-LOCAL-ONLY").finding(
            t("/Backups/Pbx.GetBackupRepositorySettings()"),
            vec![format!(
                "Location.FileSystemType = {}",
                f.get("3cx.backup.location").unwrap_or("")
            )],
        ));
    }
    if let Some(ra @ ("Active" | "Requested")) = f.get("3cx.remote_access") {
        out.push(rule("3CX-REMOTE-SUPPORT").finding(
            t("/SystemStatus/Pbx.GetRemoteAccessStatus()"),
            vec![format!("remote access status = {ra}")],
        ));
    }
    if f.get_bool("3cx.network.direct_sip_external") == Some(true) {
        out.push(rule("3CX-DIRECT-SIP-EXTERNAL").finding(
            t("/NetworkSettings"),
            vec!["DirectSIPAllowExternal = true".into()],
        ));
    }
    if !p.services.pbx.is_empty() {
        let extra: Vec<String> = f
            .objects("3cx.service[")
            .into_iter()
            .filter(|svc| f.get(&format!("3cx.{}.status", obj("service", svc))) == Some("Running"))
            .filter(|svc| !p.services.pbx.iter().any(|n| n.eq_ignore_ascii_case(svc)))
            .map(|svc| format!("{svc}: Running"))
            .collect();
        if !extra.is_empty() {
            out.push(rule("3CX-SERVICE-UNNEEDED").finding(t("/Services"), extra));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_is_redacted() {
        let c = Client::new("http://127.0.0.70:1", "id", Secret::new("topsecret"));
        assert!(!format!("{c:?}").contains("topsecret"));
        assert!(!format!("{:?}", Secret::new("topsecret")).contains("topsecret"));
    }

    #[test]
    fn margin_scales_with_short_lifetimes() {
        assert_eq!(
            refresh_margin(Duration::from_secs(3600)),
            Duration::from_secs(30)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(2)),
            Duration::from_millis(200)
        );
    }
}

//! `watch.toml`: one file configures inputs, response, alert channels, store and API.
//!
//! Unknown keys are errors that name the key and line: a typo (`dry_rn = true`) must never leave
//! a guard silently enforcing. Values are checked at start (`sipsentry watch --check-config`), so
//! a bad address or an unreadable token file fails before the daemon touches the firewall.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A configuration that failed to load or validate. The message names the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: String, message: String },
    #[error("{path}: {key}: {message}")]
    Invalid {
        path: String,
        key: String,
        message: String,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Site policy file (trusted networks, thresholds, TLS/SRTP, countries): the same file
    /// `sipsentry analyze --policy` reads. Relative paths are relative to this file.
    pub policy: Option<PathBuf>,
    #[serde(default)]
    pub inputs: Inputs,
    #[serde(default)]
    pub response: Response,
    #[serde(default)]
    pub alerts: Alerts,
    #[serde(default)]
    pub store: StoreCfg,
    #[serde(default)]
    pub api: Api,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    pub hep: Option<HepCfg>,
    pub capture: Option<CaptureCfg>,
    #[serde(default)]
    pub log: Vec<LogCfg>,
    /// Bound of the queue between inputs and the detectors; beyond it packets are dropped and
    /// counted (`sipsentry_input_dropped_total`), never buffered without limit.
    #[serde(default = "default_queue")]
    pub queue: usize,
}

impl Default for Inputs {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
    }
}

fn default_queue() -> usize {
    65_536
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HepCfg {
    /// UDP listen address ("" disables).
    #[serde(default = "default_hep")]
    pub udp: String,
    /// TCP listen address ("" disables).
    #[serde(default = "default_hep")]
    pub tcp: String,
    /// File holding the HEP3 authentication key; packets without it are dropped and counted.
    pub auth_key_file: Option<PathBuf>,
    /// Accept only these capture IDs (empty: all).
    #[serde(default)]
    pub capture_ids: Vec<u32>,
}

fn default_hep() -> String {
    "127.0.0.1:9060".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureCfg {
    pub interface: String,
    /// SIP ports the BPF filter selects (UDP and TCP), plus IP fragments.
    #[serde(default = "default_sip_ports")]
    pub sip_ports: Vec<u16>,
}

fn default_sip_ports() -> Vec<u16> {
    vec![5060, 5061, 5080]
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogCfg {
    pub path: PathBuf,
    /// Read the file from its beginning at start (default: only new lines, like `tail -F`).
    #[serde(default)]
    pub from_start: bool,
}

/// What the guard does about an attacker.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Ban in nftables.
    #[default]
    Enforce,
    /// Log the nft commands it would run; change nothing.
    DryRun,
    /// Detect and alert only.
    Off,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Response {
    #[serde(default)]
    pub mode: Mode,
    /// nftables table (family inet) the guard owns; no other table is ever touched.
    #[serde(default = "default_table")]
    pub table: String,
    /// Ports whose traffic from banned sources is dropped: "udp:5060", "tcp:5060-5061".
    #[serde(default = "default_protect")]
    pub protect: Vec<String>,
    /// Networks never banned, in addition to the policy's trusted networks, loopback and the
    /// host's own addresses.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Repeat offenders: each earlier ban within `recidive_window_s` multiplies the ban time.
    #[serde(default = "default_factor")]
    pub recidive_factor: u32,
    #[serde(default = "default_recidive_window")]
    pub recidive_window_s: u64,
    #[serde(default = "default_max_ban")]
    pub max_ban_s: u64,
    /// Run nft inside this network namespace (tests, containers).
    pub netns: Option<String>,
    #[serde(default = "default_nft")]
    pub nft: PathBuf,
}

impl Default for Response {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
    }
}

fn default_table() -> String {
    "sipsentry".into()
}
fn default_protect() -> Vec<String> {
    vec![
        "udp:5060-5061".into(),
        "tcp:5060-5061".into(),
        "udp:5090".into(),
        "tcp:5090".into(),
    ]
}
fn default_factor() -> u32 {
    4
}
fn default_recidive_window() -> u64 {
    7 * 86_400
}
fn default_max_ban() -> u64 {
    30 * 86_400
}
fn default_nft() -> PathBuf {
    "nft".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alerts {
    /// JSON lines on standard output.
    #[serde(default = "yes")]
    pub stdout: bool,
    /// RFC 5424 syslog: "unix:/dev/log", "udp:127.0.0.1:514", or absent.
    pub syslog: Option<String>,
    #[serde(default)]
    pub webhook: Vec<WebhookCfg>,
    /// Alerts waiting for webhooks; when full, the oldest are dropped and counted — a slow
    /// webhook never stalls detection.
    #[serde(default = "default_webhook_queue")]
    pub webhook_queue: usize,
    /// Re-report an updated alert at most this often (a flood updates its alert per packet).
    #[serde(default = "default_update_interval")]
    pub update_interval_s: u64,
}

impl Default for Alerts {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
    }
}

fn yes() -> bool {
    true
}
fn default_webhook_queue() -> usize {
    1000
}
fn default_update_interval() -> u64 {
    60
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookCfg {
    pub url: String,
    /// File with a bearer token sent as `Authorization: Bearer …`.
    pub token_file: Option<PathBuf>,
    #[serde(default = "default_retries")]
    pub retries: u32,
    #[serde(default = "default_timeout")]
    pub timeout_s: u64,
}

/// The URL may carry the endpoint's credential (see [`crate::outputs::url_for_log`]).
impl std::fmt::Debug for WebhookCfg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookCfg")
            .field("url", &crate::outputs::url_for_log(&self.url))
            .field("token_file", &self.token_file)
            .field("retries", &self.retries)
            .field("timeout_s", &self.timeout_s)
            .finish()
    }
}

fn default_retries() -> u32 {
    5
}
fn default_timeout() -> u64 {
    5
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreCfg {
    #[serde(default = "default_store")]
    pub path: PathBuf,
    #[serde(default = "default_retention")]
    pub retention_days: u32,
}

impl Default for StoreCfg {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
    }
}

fn default_store() -> PathBuf {
    "/var/lib/sipsentry/sipsentry.db".into()
}
fn default_retention() -> u32 {
    90
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Api {
    /// HTTP listen address for /healthz, /metrics and /api ("" disables). Localhost by default:
    /// put a TLS reverse proxy in front to expose it.
    #[serde(default = "default_api")]
    pub listen: String,
    /// File with the bearer token /api requires. Without it /api answers 403 (healthz and
    /// metrics stay open).
    pub token_file: Option<PathBuf>,
}

impl Default for Api {
    fn default() -> Self {
        toml::from_str("").expect("defaults")
    }
}

fn default_api() -> String {
    "127.0.0.1:9961".into()
}

/// A protected port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortSpec {
    pub tcp: bool,
    pub lo: u16,
    pub hi: u16,
}

impl Config {
    /// Reads and validates `path`. Paths inside are resolved relative to the file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            source: e,
        })?;
        let mut c = Self::parse(&text, &path.display().to_string())?;
        let base = path.parent().unwrap_or(Path::new("."));
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(p) = c.policy.as_mut() {
            fix(p);
        }
        if let Some(h) = c.inputs.hep.as_mut() {
            if let Some(p) = h.auth_key_file.as_mut() {
                fix(p);
            }
        }
        for l in &mut c.inputs.log {
            fix(&mut l.path);
        }
        for w in &mut c.alerts.webhook {
            if let Some(p) = w.token_file.as_mut() {
                fix(p);
            }
        }
        if let Some(p) = c.api.token_file.as_mut() {
            fix(p);
        }
        if c.store.path.is_relative() {
            c.store.path = base.join(&c.store.path);
        }
        Ok(c)
    }

    /// Parses and validates TOML text; `name` is used in messages.
    pub fn parse(text: &str, name: &str) -> Result<Config, ConfigError> {
        let c: Config = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: name.to_string(),
            message: e.to_string().trim_end().replace('\n', "\n  "),
        })?;
        c.validate(name)?;
        Ok(c)
    }

    fn validate(&self, name: &str) -> Result<(), ConfigError> {
        let bad = |key: &str, message: String| ConfigError::Invalid {
            path: name.to_string(),
            key: key.to_string(),
            message,
        };
        if let Some(h) = &self.inputs.hep {
            for (k, v) in [("inputs.hep.udp", &h.udp), ("inputs.hep.tcp", &h.tcp)] {
                if !v.is_empty() {
                    v.parse::<SocketAddr>()
                        .map_err(|_| bad(k, format!("{v:?} is not an address:port")))?;
                }
            }
        }
        if let Some(c) = &self.inputs.capture {
            if c.interface.is_empty() {
                return Err(bad("inputs.capture.interface", "empty".into()));
            }
            if c.sip_ports.is_empty() {
                return Err(bad("inputs.capture.sip_ports", "no ports".into()));
            }
        }
        if !(16..=16_777_216).contains(&self.inputs.queue) {
            return Err(bad(
                "inputs.queue",
                "must be between 16 and 16777216".into(),
            ));
        }
        for (i, p) in self.response.protect.iter().enumerate() {
            parse_port_spec(p).map_err(|m| bad(&format!("response.protect[{i}]"), m))?;
        }
        for (i, a) in self.response.allow.iter().enumerate() {
            sipsentry_detect::Net::parse(a).ok_or_else(|| {
                bad(
                    &format!("response.allow[{i}]"),
                    format!("{a:?} is not an address or CIDR network"),
                )
            })?;
        }
        // The same rule sipsentry-nft applies when the guard starts: --check-config must not
        // pass a name the firewall then refuses.
        let t = &self.response.table;
        if t.is_empty()
            || t.len() > 32
            || !t.as_bytes()[0].is_ascii_alphabetic()
            || !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return Err(bad(
                "response.table",
                format!("{t:?}: use 1-32 letters, digits or '_', starting with a letter"),
            ));
        }
        if self.response.recidive_factor == 0 {
            return Err(bad("response.recidive_factor", "must be at least 1".into()));
        }
        if !(1..=crate::actions::MAX_BAN_S).contains(&self.response.max_ban_s) {
            return Err(bad(
                "response.max_ban_s",
                format!(
                    "must be between 1 and {} (365 days: longer bans get no kernel timeout)",
                    crate::actions::MAX_BAN_S
                ),
            ));
        }
        if let Some(s) = &self.alerts.syslog {
            parse_syslog(s).map_err(|m| bad("alerts.syslog", m))?;
        }
        for (i, w) in self.alerts.webhook.iter().enumerate() {
            if !(w.url.starts_with("http://") || w.url.starts_with("https://")) {
                return Err(bad(
                    &format!("alerts.webhook[{i}].url"),
                    "must start with http:// or https://".into(),
                ));
            }
            if w.timeout_s == 0 {
                // ureq's deadline would be "now": every delivery fails at once.
                return Err(bad(
                    &format!("alerts.webhook[{i}].timeout_s"),
                    "must be at least 1".into(),
                ));
            }
        }
        if self.alerts.webhook_queue == 0 {
            return Err(bad("alerts.webhook_queue", "must be at least 1".into()));
        }
        if !self.api.listen.is_empty() {
            self.api.listen.parse::<SocketAddr>().map_err(|_| {
                bad(
                    "api.listen",
                    format!("{:?} is not an address:port", self.api.listen),
                )
            })?;
        }
        if self.store.retention_days == 0 {
            return Err(bad("store.retention_days", "must be at least 1".into()));
        }
        Ok(())
    }

    /// Parsed protected ports (validated at load).
    pub fn protect_ports(&self) -> Vec<PortSpec> {
        self.response
            .protect
            .iter()
            .filter_map(|p| parse_port_spec(p).ok())
            .collect()
    }
}

/// `udp:5060`, `tcp:5060-5061`.
pub fn parse_port_spec(s: &str) -> Result<PortSpec, String> {
    let (proto, ports) = s
        .split_once(':')
        .ok_or_else(|| format!("{s:?}: expected udp:PORT or tcp:LOW-HIGH"))?;
    let tcp = match proto {
        "udp" => false,
        "tcp" => true,
        _ => return Err(format!("{s:?}: protocol must be udp or tcp")),
    };
    let (lo, hi) = match ports.split_once('-') {
        Some((a, b)) => (a, b),
        None => (ports, ports),
    };
    let p = |x: &str| {
        x.parse::<u16>()
            .ok()
            .filter(|&v| v > 0)
            .ok_or_else(|| format!("{s:?}: {x:?} is not a port"))
    };
    let (lo, hi) = (p(lo)?, p(hi)?);
    if lo > hi {
        return Err(format!("{s:?}: range is backwards"));
    }
    Ok(PortSpec { tcp, lo, hi })
}

/// Where syslog goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyslogTarget {
    Unix(PathBuf),
    Udp(SocketAddr),
}

pub fn parse_syslog(s: &str) -> Result<SyslogTarget, String> {
    if let Some(p) = s.strip_prefix("unix:") {
        return Ok(SyslogTarget::Unix(p.into()));
    }
    if let Some(a) = s.strip_prefix("udp:") {
        return a
            .parse()
            .map(SyslogTarget::Udp)
            .map_err(|_| format!("{s:?}: udp:ADDRESS:PORT expected"));
    }
    Err(format!("{s:?}: expected unix:/dev/log or udp:HOST:PORT"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_safe_defaults() {
        let c = Config::parse("", "t").unwrap();
        assert_eq!(c.response.mode, Mode::Enforce);
        assert_eq!(c.api.listen, "127.0.0.1:9961");
        assert!(c.alerts.stdout);
        assert!(c.inputs.hep.is_none());
        assert_eq!(c.protect_ports().len(), 4);
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let e = Config::parse("[response]\nmode = \"dry-run\"\ndry_rn = true\n", "w.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("dry_rn"), "{e}");
        assert!(e.contains("line 3"), "{e}");
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, key) in [
            (
                "[response]\nprotect = [\"sctp:5060\"]",
                "response.protect[0]",
            ),
            ("[response]\nallow = [\"10.0.0.0/33\"]", "response.allow[0]"),
            ("[inputs.hep]\nudp = \"localhost\"", "inputs.hep.udp"),
            ("[api]\nlisten = \"9961\"", "api.listen"),
            ("[alerts]\nsyslog = \"/dev/log\"", "alerts.syslog"),
            ("[response]\ntable = \"a b\"", "response.table"),
            (
                "[[alerts.webhook]]\nurl = \"ftp://x\"",
                "alerts.webhook[0].url",
            ),
        ] {
            let e = Config::parse(text, "w.toml").unwrap_err().to_string();
            assert!(e.contains(key), "{text:?}: {e}");
        }
    }

    #[test]
    fn port_specs() {
        assert_eq!(
            parse_port_spec("tcp:5060-5061"),
            Ok(PortSpec {
                tcp: true,
                lo: 5060,
                hi: 5061
            })
        );
        assert!(parse_port_spec("udp:0").is_err());
        assert!(parse_port_spec("udp:6000-5000").is_err());
    }

    #[test]
    fn regression_check_config_passes_values_the_guard_cannot_use() {
        for (text, key) in [
            // nft refuses '-' and a leading digit at start, after --check-config said OK
            ("[response]\ntable = \"my-table\"", "response.table"),
            ("[response]\ntable = \"1st\"", "response.table"),
            // 0 s: every ban refused by nft as zero-length, so nothing is ever banned
            ("[response]\nmax_ban_s = 0", "response.max_ban_s"),
            // beyond the kernel timeout cap: escalated bans never leave the kernel
            ("[response]\nmax_ban_s = 34560000", "response.max_ban_s"),
        ] {
            let e = Config::parse(text, "w.toml")
                .err()
                .unwrap_or_else(|| panic!("{text:?} accepted"))
                .to_string();
            assert!(e.contains(key), "{text:?}: {e}");
        }
        assert!(Config::parse("[response]\ntable = \"pbx_guard2\"", "w").is_ok());
        assert!(Config::parse("[response]\nmax_ban_s = 31536000", "w").is_ok());
    }

    #[test]
    fn regression_webhook_timeout_zero_accepted_and_every_delivery_fails() {
        let e = Config::parse(
            "[[alerts.webhook]]\nurl = \"http://127.0.0.1:1/\"\ntimeout_s = 0\n",
            "w.toml",
        )
        .expect_err("timeout_s = 0 accepted")
        .to_string();
        assert!(e.contains("alerts.webhook[0].timeout_s"), "{e}");
    }

    #[test]
    fn regression_config_debug_shows_webhook_url_secret() {
        let c = Config::parse(
            "[[alerts.webhook]]\nurl = \"https://hooks.example/services/T0/B0/SECRETXYZ\"\n",
            "w",
        )
        .unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains("SECRETXYZ"), "{d}");
        assert!(d.contains("https://hooks.example/…"), "{d}");
    }
}

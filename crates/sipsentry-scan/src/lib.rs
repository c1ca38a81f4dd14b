//! `sipsentry scan`: test a SIP PBX from outside, the way an attacker would, and say what to fix.
//!
//! # Architecture
//!
//! * [`txn`] — RFC 3261 §17.1 client transactions as sans-IO state machines (timers A/B/D/E/F/K,
//!   T1/T2/T4 configurable), tested on a virtual clock.
//! * [`driver`] — a thin tokio driver per connection (UDP, TCP, TLS) that paces new
//!   transactions, dispatches responses by branch and applies the INVITE policy (CANCEL after a
//!   provisional, ACK + BYE a 2xx: a probe never carries media).
//! * [`fingerprint`] — product and version from banners, realm, To-tag shape, Allow/Supported.
//! * [`checks`] — the checks, each producing [`sipsentry_report::Finding`]s with stable IDs
//!   (catalogue: `docs/scan.md`).
//! * [`tls`] — TLS checks: raw ClientHellos for legacy protocols and weak ciphers (rustls
//!   cannot offer them), and a rustls handshake with a verifier that records instead of
//!   rejecting, for the certificate checks.
//!
//! # Manners
//!
//! Gentle defaults (100 new requests/s, 16 in flight), an honest User-Agent, every loop
//! bounded, and nothing is sent anywhere but the target given: responses are matched to our
//! transactions and never followed (no redirects, no Record-Route, no Contact except the BYE that
//! hangs up a call the target itself answered).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod alg;
pub mod checks;
pub mod driver;
pub mod fingerprint;
pub mod mgmt;
pub mod msg;
pub mod tls;
pub mod txn;
pub mod ws;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

pub use checks::{scan_host, HostReport, ServiceInfo};
pub use driver::{Pace, Session};
pub use msg::Transport;
pub use txn::Timers;

/// Default User-Agent: says what we are, so a PBX admin reading logs knows.
pub const DEFAULT_USER_AGENT: &str = concat!(
    "sipsentry-scan/",
    env!("CARGO_PKG_VERSION"),
    " (authorised security test)"
);

/// Errors of the scanner library.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A socket operation failed.
    #[error("I/O error: {0}")]
    Io(#[source] std::io::Error),
    /// TCP connect failed or timed out.
    #[error("cannot connect to {0}: {1}")]
    Connect(SocketAddr, std::io::ErrorKind),
    /// TLS setup failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// A bad target or option.
    #[error("invalid input: {0}")]
    Invalid(String),
}

/// A password kept out of Debug output and reports.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(<{} chars redacted>)", self.0.chars().count())
    }
}

/// Which checks run. Default: everything that needs no credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checks {
    /// SIP-ENUM-LEAK.
    pub enumerate: bool,
    /// SIP-UNAUTH-INVITE.
    pub unauth_invite: bool,
    /// SIP-UNAUTH-REGISTER.
    pub unauth_register: bool,
    /// SIP-NO-RATE-LIMIT.
    pub rate_limit: bool,
    /// TLS-*.
    pub tls: bool,
    /// MGMT-*.
    pub mgmt: bool,
}

impl Default for Checks {
    fn default() -> Self {
        Checks {
            enumerate: true,
            unauth_invite: true,
            unauth_register: true,
            rate_limit: true,
            tls: true,
            mgmt: true,
        }
    }
}

/// One port to probe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Port {
    /// SIP over a transport.
    Sip(Transport, u16),
    /// HTTP(S) management/web console.
    Http {
        /// Port.
        port: u16,
        /// Whether TLS.
        tls: bool,
    },
    /// Asterisk Manager Interface.
    Ami(u16),
    /// FreeSWITCH Event Socket.
    Esl(u16),
}

/// Port profile (`--profile`).
pub fn profile(name: &str) -> Option<Vec<Port>> {
    use Port::*;
    use Transport::*;
    let sip = vec![Sip(Udp, 5060), Sip(Tcp, 5060), Sip(Tls, 5061)];
    Some(match name {
        "3cx" => {
            let mut v = sip;
            v.extend([
                Sip(Tcp, 5090),
                Http {
                    port: 5001,
                    tls: true,
                },
                Http {
                    port: 443,
                    tls: true,
                },
                Http {
                    port: 5000,
                    tls: false,
                },
                Http {
                    port: 5015,
                    tls: false,
                },
            ]);
            v
        }
        "asterisk" => {
            let mut v = sip;
            v.extend([
                Ami(5038),
                Http {
                    port: 8088,
                    tls: false,
                },
                Http {
                    port: 8089,
                    tls: true,
                },
            ]);
            v
        }
        "freeswitch" => {
            let mut v = sip;
            v.extend([Sip(Udp, 5080), Sip(Tcp, 5080), Esl(8021)]);
            v
        }
        "sip" => sip,
        _ => return None,
    })
}

/// Everything a scan needs besides the target.
#[derive(Clone, Debug)]
pub struct Config {
    /// User-Agent sent.
    pub user_agent: String,
    /// Transaction timers.
    pub timers: Timers,
    /// Pacing.
    pub pace: Pace,
    /// Source address (port is ephemeral).
    pub bind: Option<IpAddr>,
    /// SIP domain used in URIs and for TLS name checks (default: the target host).
    pub domain: Option<String>,
    /// Ports to probe.
    pub ports: Vec<Port>,
    /// Checks to run.
    pub checks: Checks,
    /// Candidate extensions for enumeration.
    pub extensions: Vec<String>,
    /// Methods used for enumeration.
    pub enum_methods: Vec<String>,
    /// Random users per method for the baseline.
    pub baseline_samples: usize,
    /// Run SIP-WEAK-CREDENTIAL (needs `auth_extensions`).
    pub auth_test: bool,
    /// Extensions whose passwords may be guessed.
    pub auth_extensions: Vec<String>,
    /// Extra passwords to try (after the built-in list).
    pub wordlist: Vec<Secret>,
    /// Pause between password guesses for one extension.
    pub auth_pause: Duration,
    /// Known credentials (`--auth user:pass`).
    pub auth: Option<(String, Secret)>,
    /// Number to dial for SIP-UNAUTH-INVITE.
    pub invite_number: String,
    /// Requests in the SIP-NO-RATE-LIMIT burst.
    pub burst: usize,
    /// SIP must not be reachable from where the scan runs (SIP-EXPOSED becomes high).
    pub must_be_closed: bool,
    /// PEM trust anchors for the TLS chain check (private CA).
    pub ca_pem: Option<Vec<u8>>,
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// Days before expiry that count as "expiring soon".
    pub expiry_warn_days: i64,
    /// Extension called by the SRTP check (default: an enumerated one).
    pub srtp_callee: Option<String>,
    /// Report private addresses even when the target itself is on a private network.
    pub report_private_on_private: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            user_agent: DEFAULT_USER_AGENT.to_string(),
            // A probe waits at most 4 s (8*T1) for a final answer: a PBX answers in
            // milliseconds or not at all, and timer F's 32 s would make sweeps crawl.
            timers: Timers {
                max_lifetime: Duration::from_secs(4),
                ..Timers::with_t1(Duration::from_millis(500))
            },
            pace: Pace::default(),
            bind: None,
            domain: None,
            ports: profile("3cx").unwrap_or_default(),
            checks: Checks::default(),
            extensions: default_extensions(),
            enum_methods: ["REGISTER", "INVITE", "OPTIONS", "SUBSCRIBE"]
                .map(String::from)
                .to_vec(),
            baseline_samples: 3,
            auth_test: false,
            auth_extensions: Vec::new(),
            wordlist: Vec::new(),
            auth_pause: Duration::from_millis(500),
            auth: None,
            // UK Ofcom drama range (020 7946 0xxx, reserved for fiction), dialled internationally:
            // it looks external to a dial plan but can never reach a real subscriber.
            invite_number: "00442079460999".to_string(),
            burst: 40,
            must_be_closed: false,
            ca_pem: None,
            connect_timeout: Duration::from_secs(2),
            expiry_warn_days: 30,
            srtp_callee: None,
            report_private_on_private: false,
        }
    }
}

/// Default enumeration candidates: the usual 3- and 4-digit blocks of 3CX, FreePBX and lab
/// set-ups (small on purpose: a wider range is an explicit `--range`).
pub fn default_extensions() -> Vec<String> {
    let mut v = Vec::new();
    for r in [100..=110, 200..=205, 1000..=1010, 2000..=2010] {
        v.extend(r.map(|n| n.to_string()));
    }
    v
}

/// Parse `100-199,2001,3000-3005` into extensions (bounded to `max`).
pub fn parse_range(spec: &str, max: usize) -> Result<Vec<String>, ScanError> {
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if let Some((a, b)) = part.split_once('-') {
            let (a, b) = (a.trim(), b.trim());
            let lo: u64 = a
                .parse()
                .map_err(|_| ScanError::Invalid(format!("bad range start {a:?}")))?;
            let hi: u64 = b
                .parse()
                .map_err(|_| ScanError::Invalid(format!("bad range end {b:?}")))?;
            if hi < lo {
                return Err(ScanError::Invalid(format!("empty range {part:?}")));
            }
            if (hi - lo) as usize >= max.saturating_sub(out.len()) {
                return Err(ScanError::Invalid(format!(
                    "range {part:?} exceeds the limit of {max} extensions"
                )));
            }
            // Keep leading zeros ("0100-0199").
            let width = a.len();
            for n in lo..=hi {
                out.push(format!("{n:0width$}"));
            }
        } else {
            if part.len() > 64 || part.contains(|c: char| c.is_whitespace() || c == '@' || c == '>')
            {
                return Err(ScanError::Invalid(format!("bad extension {part:?}")));
            }
            out.push(part.to_string());
        }
        if out.len() > max {
            return Err(ScanError::Invalid(format!("more than {max} extensions")));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(
            parse_range("100-102,2001", 100).unwrap(),
            vec!["100", "101", "102", "2001"]
        );
        assert_eq!(
            parse_range("0098-0100", 100).unwrap(),
            vec!["0098", "0099", "0100"]
        );
        assert!(parse_range("5-1", 100).is_err());
        assert!(parse_range("1-100000", 100).is_err());
        assert!(parse_range("a b", 100).is_err());
    }

    #[test]
    fn secret_debug_is_redacted() {
        assert_eq!(
            format!("{:?}", Secret("1234".into())),
            "Secret(<4 chars redacted>)"
        );
    }
}

//! Alerts: stable IDs users grep, suppress and file tickets by.

use std::fmt;
use std::net::SocketAddr;

/// Alert severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth a look.
    Low,
    /// Likely hostile.
    Medium,
    /// Hostile: block.
    High,
    /// An attack that succeeded or costs money now.
    Critical,
}

impl Severity {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

macro_rules! alert_ids {
    ($( #[doc = $doc:literal] $name:ident = $id:literal, $control:literal; )*) => {
        /// The alert kinds implemented so far (issue 4 lists more to come).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum AlertId { $( #[doc = $doc] $name, )* }

        impl AlertId {
            /// Every kind.
            pub const ALL: &'static [AlertId] = &[$(AlertId::$name,)*];
            /// Stable identifier.
            pub fn as_str(self) -> &'static str { match self { $(AlertId::$name => $id,)* } }
            /// The hardening control it maps to.
            pub fn control(self) -> &'static str { match self { $(AlertId::$name => $control,)* } }
            /// One-line description.
            pub fn description(self) -> &'static str { match self { $(AlertId::$name => $doc.trim_start(),)* } }
        }
    };
}

alert_ids! {
    /// Failed digest authentications from one source (credentials sent, then 401/403/407).
    AuthBruteforce = "AUTH-BRUTEFORCE", "monitoring: detect brute force; lockout thresholds";
    /// A source that failed repeatedly, then authenticated: the password was likely guessed.
    AuthSuccessAfterFailures = "AUTH-SUCCESS-AFTER-FAILURES", "strong passwords; lockout thresholds; credential rotation";
    /// One source probing many distinct users.
    SipEnumeration = "SIP-ENUMERATION", "uniform answers for unknown users (alwaysauthreject); IP allow-lists";
    /// Known attack-tool signature (User-Agent, From/To/Call-ID shapes).
    SipScanner = "SIP-SCANNER", "monitoring: detect scanning; IP allow-lists on SIP";
    /// Request rate from one source above the allowed density.
    SipFlood = "SIP-FLOOD", "rate limiting on SIP ports";
    /// The PBX answered an unauthenticated INVITE to an external number with 18x/2xx.
    TollFraudUnauthCall = "TOLL-FRAUD-UNAUTH-CALL", "authenticate all calls; no anonymous/guest calls; allowed countries";
    /// A call to a premium-rate, shared-cost or international-network number, or to a country the policy does not allow (libphonenumber metadata).
    TollFraudDestination = "TOLL-FRAUD-DESTINATION", "allowed countries; block premium-rate and high-cost ranges";
    /// Per extension: calls per minute, concurrent calls, sequential calls to one prefix, call duration or calls outside business hours above the limits (OpenSIPS fraud_detection model).
    TollFraudRate = "TOLL-FRAUD-RATE", "per-extension call limits; business hours; allowed countries";
    /// Many sources failing authentication against one extension.
    AuthDistributed = "AUTH-DISTRIBUTED", "strong passwords; lockout per account; IP allow-lists";
    /// The same digest credentials replayed (new request, same nonce/nc/response), or sent from another source.
    AuthReplay = "AUTH-REPLAY", "nonce lifetime and nc checking (qop=auth); TLS for signalling";
    /// An extension's binding replaced from a different network than its usual one, or bound from many networks at once.
    RegHijack = "REG-HIJACK", "IP allow-lists per extension; strong passwords; registration monitoring";
    /// SDES media keys (a=crypto) sent over unencrypted signalling: anyone on the path can decrypt the call.
    CryptoSdesExposed = "CRYPTO-SDES-EXPOSED", "TLS for signalling whenever SRTP uses SDES";
    /// Plain RTP offered or accepted where the policy requires SRTP.
    CryptoNoSrtp = "CRYPTO-NO-SRTP", "SRTP required for remote extensions and trunks";
    /// SIP over UDP/TCP from a network where the policy requires TLS.
    CryptoPlaintextSignaling = "CRYPTO-PLAINTEXT-SIGNALING", "TLS required for remote extensions and trunks";
    /// Messages RFC 3261 must reject, sent repeatedly by one source (fuzzers, exploit attempts).
    SipMalformed = "SIP-MALFORMED", "keep the PBX patched; drop malformed SIP at the edge (SBC)";
    /// Exploit-shaped content: SQL injection in caller fields (3CX CRM CVE-2023-49954 pattern), oversized fields.
    SipExploit = "SIP-EXPLOIT", "keep the PBX and its integrations patched; restrict SIP to known networks";
}

impl fmt::Display for AlertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to do about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Block the source for this many seconds.
    Ban {
        /// Ban duration.
        secs: u32,
    },
    /// Keep watching; do not block on this alone.
    Watch,
    /// A human must act (e.g. rotate a compromised password).
    Investigate,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Ban { secs } if secs % 3600 == 0 => write!(f, "ban {}h", secs / 3600),
            Action::Ban { secs } => write!(f, "ban {secs}s"),
            Action::Watch => f.write_str("watch"),
            Action::Investigate => f.write_str("investigate"),
        }
    }
}

/// One alert. `source` is always the transport source of the offending packets — never a
/// From/Contact value, which the attacker writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    /// Kind.
    pub id: AlertId,
    /// Severity.
    pub severity: Severity,
    /// Offending source (IP and the port of the last packet).
    pub source: SocketAddr,
    /// What was targeted: an extension, a number, or the PBX address.
    pub target: String,
    /// First packet time that counted (ns since the epoch).
    pub first_seen_ns: i64,
    /// Last packet time that counted.
    pub last_seen_ns: i64,
    /// Events that counted.
    pub count: u64,
    /// Short excerpts, secrets never included (built from parsed fields, not raw headers).
    pub evidence: Vec<String>,
    /// Suggested action.
    pub action: Action,
}

impl Alert {
    /// The hardening control this alert maps to.
    pub fn control(&self) -> &'static str {
        self.id.control()
    }
}

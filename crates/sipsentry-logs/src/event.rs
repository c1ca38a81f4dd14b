//! Public data types: events, kinds, formats, the per-line context and rejection reasons.

use std::borrow::Cow;
use std::net::IpAddr;
use std::ops::Range;

/// Service label for Asterisk events.
pub const SERVICE_ASTERISK: &str = "asterisk";
/// Service label for FreeSWITCH events.
pub const SERVICE_FREESWITCH: &str = "freeswitch";
/// Service label for 3CX events.
pub const SERVICE_3CX: &str = "3cx";
/// Service label for Kamailio events.
pub const SERVICE_KAMAILIO: &str = "kamailio";

/// Longest line (without its line ending) that is parsed at all. Longer lines are rejected with
/// [`Rejection::TooLong`]. Asterisk itself cuts a log message at its 8 KiB log buffer, and so do
/// common syslog daemons, so a longer line is not something a PBX wrote in one piece.
pub const MAX_LINE_LEN: usize = 8192;

/// Asterisk lines this long or longer may have been cut by Asterisk's 8 KiB log buffer
/// (`LOGMSG_SIZE` in `main/logger.c`). A cut line can end right after an address that an attacker
/// placed in a Call-ID, so formats that take "the last address on the line" refuse them with
/// [`Rejection::PossiblyTruncated`].
pub const TRUNCATION_GUARD_LEN: usize = 8000;

/// What a security log line says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum LogEventKind {
    /// A credential check failed for an existing account: wrong password, `InvalidPassword`,
    /// `ChallengeResponseFailed`, FreeSWITCH `SIP auth failure`, 3CX `CM102001`.
    AuthFailure,
    /// The account, peer, endpoint or extension does not exist: `No matching peer found`,
    /// `No matching endpoint found`, `InvalidAccountID`, FreeSWITCH `Can't find user`,
    /// `extension not found`. Evidence of user enumeration.
    UnknownUser,
    /// The source was refused by an address/ACL policy: `FailedACL`, `Device does not match ACL`,
    /// `Not match Endpoint ACL`, FreeSWITCH `Rejected by register acl`, FreePBX
    /// `Rejecting unknown SIP connection`.
    AclReject,
    /// The PBX sent a digest challenge (FreeSWITCH `SIP auth challenge`, Asterisk `ChallengeSent`).
    /// Normal for every legitimate login, so **not** a failure; fail2ban counts it only in its
    /// FreeSWITCH `ddos`/`extra` modes.
    AuthChallenge,
    /// Asterisk Manager Interface (AMI) login failure, including unknown AMI users.
    ManagerAuthFailure,
    /// The PBX itself flagged or blocked the source: Kamailio pike blocking, chan_sip
    /// `hacking attempt detected`, FreePBX `Friendly Scanner`, Asterisk `SessionLimit`/`LoadAvg`.
    FloodOrBlocked,
    /// A request was refused as not allowed or malformed (Asterisk `RequestNotAllowed`,
    /// `RequestBadFormat`, `AuthMethodNotAllowed`, `InvalidTransport`, `UnexpectedAddress`).
    PolicyViolation,
    /// The log states a successful authentication (Asterisk `SuccessfulAuth`, AMI
    /// `Manager '...' logged on from ...`).
    AuthSuccess,
}

impl LogEventKind {
    /// `true` for kinds that count against the source (everything except [`Self::AuthChallenge`]
    /// and [`Self::AuthSuccess`]).
    pub fn is_failure(self) -> bool {
        !matches!(self, Self::AuthChallenge | Self::AuthSuccess)
    }

    /// Stable lower-case name, e.g. `"auth_failure"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthFailure => "auth_failure",
            Self::UnknownUser => "unknown_user",
            Self::AclReject => "acl_reject",
            Self::AuthChallenge => "auth_challenge",
            Self::ManagerAuthFailure => "manager_auth_failure",
            Self::FloodOrBlocked => "flood_or_blocked",
            Self::PolicyViolation => "policy_violation",
            Self::AuthSuccess => "auth_success",
        }
    }
}

/// Transport named by the log line (or implied by the protocol, e.g. AMI is TCP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
    /// TLS over TCP.
    Tls,
    /// WebSocket.
    Ws,
    /// Secure WebSocket.
    Wss,
    /// SCTP.
    Sctp,
}

impl Transport {
    /// Upper-case name as Asterisk prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Udp => "UDP",
            Self::Tcp => "TCP",
            Self::Tls => "TLS",
            Self::Ws => "WS",
            Self::Wss => "WSS",
            Self::Sctp => "SCTP",
        }
    }
}

/// Log formats recognised by [`crate::detect_format`]. Setting [`LineContext::format`] restricts
/// parsing to that format's service, so a line shaped like another PBX's log is never accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// Asterisk `full`/`messages` file: `[date] LEVEL[tid][C-...] file: message`.
    AsteriskFull,
    /// Asterisk security log (`res_security_log`): `[date] SECURITY[tid] res_security_log.c: SecurityEvent="..."`.
    AsteriskSecurity,
    /// Asterisk through syslog or journald: `Mon DD HH:MM:SS host asterisk[pid]: LEVEL[tid]: file:line in func: message`
    /// (also RFC 3339 timestamps and the journal's date-less `host asterisk[pid]:`).
    AsteriskSyslog,
    /// FreeSWITCH `freeswitch.log`: `YYYY-MM-DD HH:MM:SS.ffffff [CPU%] [LEVEL] file.c:line message`.
    FreeSwitch,
    /// FreeSWITCH through syslog/systemd (dual timestamp).
    FreeSwitchSyslog,
    /// 3CX server log: `MM/DD/YYYY h:mm:ss AM - [CMnnnnnn]: message`, multi-line entries.
    ThreeCx,
    /// Kamailio (syslog or stderr) with pike / script `xlog` lines.
    Kamailio,
    /// Nothing recognised.
    Unknown,
}

impl Format {
    /// The service whose lines this format carries (`None` for [`Format::Unknown`]).
    pub fn service(self) -> Option<&'static str> {
        match self {
            Self::AsteriskFull | Self::AsteriskSecurity | Self::AsteriskSyslog => {
                Some(SERVICE_ASTERISK)
            }
            Self::FreeSwitch | Self::FreeSwitchSyslog => Some(SERVICE_FREESWITCH),
            Self::ThreeCx => Some(SERVICE_3CX),
            Self::Kamailio => Some(SERVICE_KAMAILIO),
            Self::Unknown => None,
        }
    }
}

/// Everything a line needs from outside itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineContext {
    /// Year for dates that carry none (`[Jan 18 17:39:50]`, syslog, FreeSWITCH `MM-DD`).
    pub default_year: i32,
    /// Optional "now" (unix seconds). When set, a year-less date that would lie more than one day
    /// after it is placed in the previous year (a December line read in January). fail2ban's test
    /// suite does the same with "now" = 2005-08-14, which is why its label for `Nov 4` is 2004.
    pub year_rollover_reference: Option<i64>,
    /// Offset of the log's local time from UTC, in seconds (east positive). Timestamps that carry
    /// their own offset (RFC 3339 syslog) use theirs.
    pub utc_offset_seconds: i32,
    /// Restrict parsing to one format's service (see [`Format::service`]); `None` accepts all.
    pub format: Option<Format>,
}

impl LineContext {
    /// A context with `default_year`, UTC, no rollover and no format restriction.
    pub fn new(default_year: i32) -> Self {
        Self {
            default_year,
            year_rollover_reference: None,
            utc_offset_seconds: 0,
            format: None,
        }
    }
}

impl Default for LineContext {
    fn default() -> Self {
        Self::new(1970)
    }
}

/// One security event taken from one log entry. Borrows from the input line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent<'a> {
    /// The log's own timestamp as unix nanoseconds (outermost timestamp when a line carries two,
    /// e.g. syslog + FreeSWITCH). `None` when the line has no date (journal without prefix).
    pub ts: Option<i64>,
    /// Attacker address, taken only from the transport fields the PBX filled in (never from
    /// From/Contact/user text). IPv4-mapped IPv6 addresses are folded to IPv4.
    pub source: IpAddr,
    /// Source port when the line gives one.
    pub source_port: Option<u16>,
    /// What happened.
    pub kind: LogEventKind,
    /// Stable short code of the specific message, e.g. `"chan_sip.wrong_password"`.
    pub reason: &'static str,
    /// Target account/extension/user as the line states it (attacker-supplied text; raw bytes,
    /// e.g. Asterisk's literal `<unknown>` is kept). `None` when absent or empty.
    pub user: Option<&'a [u8]>,
    /// `"asterisk"`, `"freeswitch"`, `"3cx"` or `"kamailio"`.
    pub service: &'static str,
    /// Transport when the line names it.
    pub transport: Option<Transport>,
    /// Byte range of the message (after timestamps and syslog/level prefixes) in the input line.
    pub raw_span: Range<usize>,
    /// Byte range of the address text the source was taken from, in the input line.
    pub source_span: Range<usize>,
}

impl LogEvent<'_> {
    /// The user as UTF-8 (lossy).
    pub fn user_lossy(&self) -> Option<Cow<'_, str>> {
        self.user.map(String::from_utf8_lossy)
    }

    /// Copy into an event that owns its user bytes.
    pub fn to_owned_event(&self) -> OwnedLogEvent {
        OwnedLogEvent {
            ts: self.ts,
            source: self.source,
            source_port: self.source_port,
            kind: self.kind,
            reason: self.reason,
            user: self.user.map(<[u8]>::to_vec),
            service: self.service,
            transport: self.transport,
            raw_span: self.raw_span.clone(),
            source_span: self.source_span.clone(),
        }
    }
}

/// [`LogEvent`] that owns its data, for keeping events beyond the input buffer's lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct OwnedLogEvent {
    pub ts: Option<i64>,
    pub source: IpAddr,
    pub source_port: Option<u16>,
    pub kind: LogEventKind,
    pub reason: &'static str,
    pub user: Option<Vec<u8>>,
    pub service: &'static str,
    pub transport: Option<Transport>,
    pub raw_span: Range<usize>,
    pub source_span: Range<usize>,
}

/// Why a line produced no event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// Empty or all-whitespace line.
    #[error("empty line")]
    Empty,
    /// Longer than [`MAX_LINE_LEN`].
    #[error("line longer than {MAX_LINE_LEN} bytes")]
    TooLong,
    /// No known log envelope (timestamp/level/program prefix).
    #[error("no known log format")]
    NotRecognised,
    /// A known envelope, but the message is not a security event we extract.
    #[error("not a security event")]
    NotSecurityEvent,
    /// The message is a security event, but attacker-controlled text makes the source address
    /// ambiguous (several candidates that disagree, or a malformed tail). Refused rather than
    /// risk blaming an address the attacker chose.
    #[error("source address is ambiguous (possible injection)")]
    AmbiguousSource,
    /// Asterisk line long enough to have been cut by the PBX's log buffer; see
    /// [`TRUNCATION_GUARD_LEN`].
    #[error("line may have been truncated by the PBX")]
    PossiblyTruncated,
    /// The event's only address is attacker-supplied (From/Contact), e.g. chan_sip
    /// `Failed to authenticate device <sip:...>` or 3CX `SipReq: ... from(wire)`.
    #[error("no transport-level source address in the line")]
    NoTrustworthySource,
    /// The message was recognised but the address or timestamp text did not parse.
    #[error("malformed security line")]
    Malformed,
    /// The line's service is excluded by [`LineContext::format`].
    #[error("service excluded by the configured format")]
    OtherFormat,
}

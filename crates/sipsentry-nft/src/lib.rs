//! nftables owner of the live guard (`sipsentry watch`).
//!
//! sipsentry owns exactly one table, `table inet sipsentry` by default, and never reads or writes
//! any other. The table holds:
//!
//! - `ban4` / `ban6`: hash sets of banned IPv4 / IPv6 hosts, `flags timeout`: the kernel drops an
//!   element by itself when its ban runs out, even if sipsentry is not running;
//! - `ban4net` / `ban6net`: the same for CIDR bans (`flags interval, timeout`);
//! - `udp_ports` / `tcp_ports`: the protected SIP/RTP ports (interval sets);
//! - chain `input` (hook input, priority filter - 10, policy accept) with one rule per
//!   (ban set, protocol): `ip saddr @ban4 udp dport @udp_ports counter name "dropped_ban4" drop`;
//! - named counters `dropped_ban4`, `dropped_ban6`, `dropped_ban4net`, `dropped_ban6net`.
//!
//! Everything goes through the `nft` binary: `nft -f -` with a script on stdin (one atomic
//! transaction per call: a batch is applied whole or not at all) and `nft -j list …` to read.
//! Driving the binary rather than netlink directly keeps the crate free of unsafe code and makes
//! every change reviewable: in dry-run mode the exact script is returned instead of run.
//!
//! Bans are added with "add, delete, add" per element in one transaction: the first `add` makes
//! the element exist (so the `delete` cannot fail), the final `add` sets the new timeout. An
//! element already in the set is therefore neither an error nor a duplicate, and a repeat
//! offender's escalated ban time replaces the old one.
//!
//! See `docs/nftables.md` for the table as `nft list table` prints it, and how to inspect it.

mod allow;
mod exec;
mod net;

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use allow::{host_addresses, AllowKind, AllowList, Refused};
pub use net::{IpNet, NetParseError};

/// Longest ban the kernel is asked to time out; a longer one is installed without a timeout
/// (permanent in the kernel; the store's expiry and `unban` still end it).
pub const MAX_KERNEL_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);
/// Most distinct networks in one nft transaction. Larger batches (a restore of a million bans
/// after a flood) are split into transactions of this size, applied in order.
pub const MAX_BATCH: usize = 65_536;

const SET_BAN4: &str = "ban4";
const SET_BAN6: &str = "ban6";
const SET_BAN4NET: &str = "ban4net";
const SET_BAN6NET: &str = "ban6net";
const BAN_SETS: [&str; 4] = [SET_BAN4, SET_BAN6, SET_BAN4NET, SET_BAN6NET];
const CHAIN: &str = "input";

/// Errors driving nftables.
#[derive(Debug, thiserror::Error)]
pub enum NftError {
    #[error("invalid firewall configuration: {0}")]
    Config(String),
    #[error("cannot run `{program}`: {source} (needs the nftables package for `nft` and iproute2 for `ip`)")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{program}` failed ({status}): {stderr}")]
    Failed {
        program: String,
        status: String,
        stderr: String,
    },
    #[error("`{program}` printed more than {limit} bytes")]
    OutputTooLarge { program: String, limit: usize },
    #[error("unexpected `nft -j` output: {0}")]
    Json(String),
    #[error("cannot read the host's addresses: {0}")]
    HostAddrs(String),
    #[error("I/O with a child process: {0}")]
    Io(#[source] std::io::Error),
}

impl NftError {
    /// nft's answer when deleting or listing something that does not exist.
    fn is_enoent(&self) -> bool {
        matches!(self, NftError::Failed { stderr, .. } if stderr.contains("No such file or directory"))
    }
}

/// Transport protocol of a protected port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Udp,
    Tcp,
}

/// Destination ports whose traffic from banned sources is dropped (inclusive range).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortRange {
    pub proto: Proto,
    pub lo: u16,
    pub hi: u16,
}

impl PortRange {
    pub fn one(proto: Proto, port: u16) -> PortRange {
        PortRange {
            proto,
            lo: port,
            hi: port,
        }
    }
}

/// Configuration of the owned table.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FirewallConfig {
    /// Name of the table in family `inet` (letters, digits, `_`; starts with a letter).
    pub table: String,
    pub ports: Vec<PortRange>,
    /// Run every command as `ip netns exec NETNS …` (tests, or a PBX in its own namespace).
    pub netns: Option<String>,
    /// Build and return the scripts, run nothing (reads return empty results).
    pub dry_run: bool,
    /// The `nft` binary (looked up in `PATH` when relative).
    pub nft_path: PathBuf,
}

impl Default for FirewallConfig {
    /// `table inet sipsentry`; SIP on udp/tcp 5060 and TLS 5061, RTP on udp 10000-20000
    /// (Asterisk's and FreeSWITCH's default RTP range is inside it).
    fn default() -> Self {
        FirewallConfig {
            table: "sipsentry".into(),
            ports: vec![
                PortRange::one(Proto::Udp, 5060),
                PortRange {
                    proto: Proto::Tcp,
                    lo: 5060,
                    hi: 5061,
                },
                PortRange {
                    proto: Proto::Udp,
                    lo: 10000,
                    hi: 20000,
                },
            ],
            netns: None,
            dry_run: false,
            nft_path: PathBuf::from("nft"),
        }
    }
}

/// One ban to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ban {
    pub net: IpNet,
    /// Kernel timeout. Zero is refused; above [`MAX_KERNEL_TIMEOUT`] means no kernel timeout.
    pub timeout: Duration,
}

/// What [`Firewall::ban_batch`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BatchOutcome {
    /// Networks now in a set with the requested timeout (new, or already there and refreshed).
    pub applied: Vec<IpNet>,
    /// CIDR bans not added because a banned network already covers them (a broader one, or
    /// the same one in [`Firewall::add_bans`]).
    pub covered: Vec<IpNet>,
    /// CIDR bans already in the kernel that a broader new ban in this batch replaced.
    pub subsumed: Vec<IpNet>,
    /// Refused by the allow-list (or invalid, e.g. zero timeout): log them.
    pub refused: Vec<Refused>,
    /// The nft script run (or, in dry-run, that would have run). Empty if nothing to do.
    pub script: String,
    pub dry_run: bool,
}

/// What [`Firewall::unban`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnbanOutcome {
    /// False if the network was not in its set (already expired, never banned).
    pub removed: bool,
    pub script: String,
    pub dry_run: bool,
}

/// A ban as the kernel holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KernelBan {
    pub net: IpNet,
    /// The timeout it was added with (`None`: no timeout). Whole seconds (nft's JSON granularity).
    pub timeout: Option<Duration>,
    /// Time left (`None`: never expires). Whole seconds, rounded down by nft.
    pub expires_in: Option<Duration>,
}

/// Packets and bytes of one named counter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counter {
    pub packets: u64,
    pub bytes: u64,
}

/// Drops per ban set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DropCounters {
    pub ban4: Counter,
    pub ban6: Counter,
    pub ban4net: Counter,
    pub ban6net: Counter,
}

impl DropCounters {
    pub fn total_packets(&self) -> u64 {
        [self.ban4, self.ban6, self.ban4net, self.ban6net]
            .iter()
            .fold(0u64, |a, c| a.saturating_add(c.packets))
    }
}

/// A ban as the store remembers it, for [`Firewall::reconcile`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersistedBan {
    pub net: IpNet,
    /// Unix seconds; `i64::MAX` for a permanent ban.
    pub expires_unix: i64,
}

impl PersistedBan {
    /// From the store's text form (`StoredBan { net, expires_unix, .. }`).
    pub fn parse(net: &str, expires_unix: i64) -> Result<PersistedBan, NetParseError> {
        Ok(PersistedBan {
            net: net.parse()?,
            expires_unix,
        })
    }
}

/// What [`Firewall::reconcile`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReconcileOutcome {
    /// Were missing from the kernel and were added with their remaining time.
    pub added: Vec<IpNet>,
    /// Already in the kernel (exactly, or covered by a broader banned network): untouched.
    pub present: Vec<IpNet>,
    /// Past their expiry: skipped (the caller marks them expired in the store).
    pub expired: Vec<IpNet>,
    /// Now allow-listed (e.g. a trunk added to the config since): not restored.
    pub refused: Vec<Refused>,
    /// In the kernel but not in the list given (e.g. removed from the store while sipsentry was
    /// down): left alone; the caller may `unban` them.
    pub unknown: Vec<KernelBan>,
    pub script: String,
    pub dry_run: bool,
}

/// fail2ban-recidive-like ban time: `base * factor^prior_bans`, capped at `max` (and never
/// below `base` unless `base > max`). `factor` 0 or 1 means no escalation.
///
/// ```
/// use std::time::Duration;
/// use sipsentry_nft::escalate;
/// let min = |m: u64| Duration::from_secs(60 * m);
/// // 10 min for a first offence, x4 per ban in the recidive window, at most 7 days
/// assert_eq!(escalate(0, min(10), 4, min(7 * 24 * 60)), min(10));
/// assert_eq!(escalate(2, min(10), 4, min(7 * 24 * 60)), min(160));
/// assert_eq!(escalate(9, min(10), 4, min(7 * 24 * 60)), min(7 * 24 * 60));
/// ```
pub fn escalate(prior_bans: u32, base: Duration, factor: u32, max: Duration) -> Duration {
    let mut t = base;
    if factor > 1 {
        // at most ~64 rounds before saturating: bounded whatever prior_bans is
        for _ in 0..prior_bans {
            if t >= max {
                break;
            }
            t = t.saturating_mul(factor);
        }
    }
    t.min(max)
}

/// The owner of the table. Holds no kernel state: every method reads or writes the kernel, so
/// several `Firewall` values (daemon, CLI) can drive the same table.
#[derive(Debug, Clone)]
pub struct Firewall {
    cfg: FirewallConfig,
    udp: Vec<(u16, u16)>,
    tcp: Vec<(u16, u16)>,
    allow: Option<AllowList>,
    /// Whether this kernel updates an element's timeout on a plain `add` (Linux 6.10+ does):
    /// 0 not probed yet, 1 yes, 2 no. Shared by clones: it is a property of the kernel.
    add_refreshes: Arc<AtomicU8>,
}

impl Firewall {
    /// Validates the configuration; touches nothing yet.
    pub fn new(cfg: FirewallConfig) -> Result<Firewall, NftError> {
        validate_name("table", &cfg.table, 32)?;
        if let Some(ns) = &cfg.netns {
            if ns.is_empty()
                || ns.len() > 64
                || ns.starts_with('-')
                || !ns
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            {
                return Err(NftError::Config(format!(
                    "netns {ns:?}: use letters, digits, '_', '-', '.'"
                )));
            }
        }
        if cfg.ports.is_empty() {
            return Err(NftError::Config("no ports to protect".into()));
        }
        for p in &cfg.ports {
            if p.lo == 0 || p.lo > p.hi {
                return Err(NftError::Config(format!(
                    "port range {}-{} ({:?}): need 1 <= lo <= hi",
                    p.lo, p.hi, p.proto
                )));
            }
        }
        let udp = merge_ranges(&cfg.ports, Proto::Udp);
        let tcp = merge_ranges(&cfg.ports, Proto::Tcp);
        Ok(Firewall {
            cfg,
            udp,
            tcp,
            allow: None,
            add_refreshes: Arc::new(AtomicU8::new(0)),
        })
    }

    /// Every ban is checked against `allow` first; refused ones are reported, never applied.
    pub fn with_allow_list(mut self, allow: AllowList) -> Firewall {
        self.allow = Some(allow);
        self
    }

    pub fn set_allow_list(&mut self, allow: Option<AllowList>) {
        self.allow = allow;
    }

    pub fn allow_list(&self) -> Option<&AllowList> {
        self.allow.as_ref()
    }

    pub fn config(&self) -> &FirewallConfig {
        &self.cfg
    }

    /// The script [`Firewall::install`] runs. Idempotent: `add` creates what is missing and
    /// keeps what exists (so banned elements survive a re-install), the chain is flushed and its
    /// rules re-added, the port sets are flushed and refilled from the configuration.
    pub fn install_script(&self) -> String {
        let t = &self.cfg.table;
        let mut s = String::new();
        let _ = writeln!(s, "add table inet {t} {{ comment \"managed by sipsentry: do not edit, see docs/nftables.md\"; }}");
        for set in BAN_SETS {
            let _ = writeln!(s, "add counter inet {t} dropped_{set}");
        }
        let _ = writeln!(
            s,
            "add set inet {t} {SET_BAN4} {{ type ipv4_addr; flags timeout; }}"
        );
        let _ = writeln!(
            s,
            "add set inet {t} {SET_BAN6} {{ type ipv6_addr; flags timeout; }}"
        );
        let _ = writeln!(
            s,
            "add set inet {t} {SET_BAN4NET} {{ type ipv4_addr; flags interval, timeout; }}"
        );
        let _ = writeln!(
            s,
            "add set inet {t} {SET_BAN6NET} {{ type ipv6_addr; flags interval, timeout; }}"
        );
        for (name, ranges) in [("udp_ports", &self.udp), ("tcp_ports", &self.tcp)] {
            let _ = writeln!(
                s,
                "add set inet {t} {name} {{ type inet_service; flags interval; }}"
            );
            let _ = writeln!(s, "flush set inet {t} {name}");
            if !ranges.is_empty() {
                let elems: Vec<String> = ranges
                    .iter()
                    .map(|&(lo, hi)| {
                        if lo == hi {
                            lo.to_string()
                        } else {
                            format!("{lo}-{hi}")
                        }
                    })
                    .collect();
                let _ = writeln!(s, "add element inet {t} {name} {{ {} }}", elems.join(", "));
            }
        }
        let _ = writeln!(
            s,
            "add chain inet {t} {CHAIN} {{ type filter hook input priority filter - 10; policy accept; }}"
        );
        let _ = writeln!(s, "flush chain inet {t} {CHAIN}");
        for (set, fam) in [
            (SET_BAN4, "ip"),
            (SET_BAN4NET, "ip"),
            (SET_BAN6, "ip6"),
            (SET_BAN6NET, "ip6"),
        ] {
            for (proto, ports) in [("udp", "udp_ports"), ("tcp", "tcp_ports")] {
                let _ = writeln!(
                    s,
                    "add rule inet {t} {CHAIN} {fam} saddr @{set} {proto} dport @{ports} counter name \"dropped_{set}\" drop"
                );
            }
        }
        s
    }

    /// Creates or refreshes the table (see [`Firewall::install_script`]); returns the script.
    pub fn install(&self) -> Result<String, NftError> {
        let script = self.install_script();
        self.apply(&script)?;
        if !self.cfg.dry_run {
            self.add_refreshes_timeout();
        }
        Ok(script)
    }

    /// Overrides the kernel probe of [`Firewall::add_refreshes_timeout`], so tests on a new
    /// kernel can exercise the "add, delete, add" path that older kernels need.
    #[doc(hidden)]
    pub fn assume_add_refreshes_timeout(&self, yes: bool) {
        self.add_refreshes
            .store(if yes { 1 } else { 2 }, Ordering::Relaxed);
    }

    /// Whether a plain `add element` of a present element sets its new timeout on this kernel
    /// (Linux 6.10+). If so, [`Firewall::ban_batch`] needs no "add, delete, add" dance, which
    /// halves the transaction. Probed once with a scratch set inside our table; false when the
    /// probe cannot run (dry-run, table missing), which selects the always-correct dance.
    pub fn add_refreshes_timeout(&self) -> bool {
        match self.add_refreshes.load(Ordering::Relaxed) {
            1 => return true,
            2 => return false,
            _ => {}
        }
        if self.cfg.dry_run {
            return false;
        }
        let t = &self.cfg.table;
        let probe = format!(
            "add set inet {t} timeout_probe {{ type ipv4_addr; flags timeout; }}\n\
             flush set inet {t} timeout_probe\n\
             add element inet {t} timeout_probe {{ 192.0.2.0 timeout 1h }}\n\
             add element inet {t} timeout_probe {{ 192.0.2.0 timeout 2h }}\n"
        );
        let result = self.apply(&probe).and_then(|()| {
            let v = self.nft_json(&["list", "set", "inet", t, "timeout_probe"])?;
            parse_set_elems(&v, "timeout_probe")
        });
        let _ = self.apply(&format!("delete set inet {t} timeout_probe\n"));
        match result {
            Ok(elems) => {
                let yes = elems.first().and_then(|k| k.timeout) == Some(Duration::from_secs(7200));
                self.add_refreshes
                    .store(if yes { 1 } else { 2 }, Ordering::Relaxed);
                yes
            }
            Err(_) => false,
        }
    }

    /// Whether our table exists (false in dry-run).
    pub fn is_installed(&self) -> Result<bool, NftError> {
        if self.cfg.dry_run {
            return Ok(false);
        }
        match self.nft_json(&["list", "table", "inet", &self.cfg.table]) {
            Ok(_) => Ok(true),
            Err(e) if e.is_enoent() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes our table (and with it every ban and counter). Idempotent.
    pub fn remove(&self) -> Result<String, NftError> {
        let t = &self.cfg.table;
        // `add` first so that `delete` never fails on a missing table.
        let script = format!("add table inet {t}\ndelete table inet {t}\n");
        self.apply(&script)?;
        Ok(script)
    }

    /// Applies `bans` in one nft transaction (up to [`MAX_BATCH`] networks). Refused bans (allow-list, zero timeout) are
    /// reported in the outcome and skipped; the rest is applied whole or not at all.
    ///
    /// Host bans (`/32`, `/128`) go to `ban4`/`ban6`; wider ones to the interval sets, where the
    /// kernel forbids overlapping elements: a CIDR inside an already banned broader one is
    /// reported as `covered`, a CIDR that contains already banned narrower ones replaces them
    /// (`subsumed`) and keeps the longest of their remaining times. That needs one
    /// `nft -j list set` per family before the transaction, only for batches with CIDR bans.
    pub fn ban_batch(&self, bans: &[Ban]) -> Result<BatchOutcome, NftError> {
        let mode = Mode::Refresh {
            dance: !self.add_refreshes_timeout(),
        };
        self.ban_batch_mode(bans, mode)
    }

    /// Like [`Firewall::ban_batch`] but always with plain `add element`s: no error and no
    /// duplicate for present elements, but on kernels before 6.10 a present host keeps its old
    /// timeout (newer kernels update it). For the hot path when the store says the sources are
    /// not banned yet; re-bans with an escalated time should use `ban_batch`.
    pub fn add_bans(&self, bans: &[Ban]) -> Result<BatchOutcome, NftError> {
        self.ban_batch_mode(bans, Mode::AddOnly)
    }

    fn ban_batch_mode(&self, bans: &[Ban], mode: Mode) -> Result<BatchOutcome, NftError> {
        let mut out = BatchOutcome {
            dry_run: self.cfg.dry_run,
            ..Default::default()
        };
        let mut want: BTreeMap<IpNet, Option<Duration>> = BTreeMap::new();
        for b in bans {
            if let Some(r) = self.refuse(&b.net, b.timeout) {
                out.refused.push(r);
                continue;
            }
            let t = kernel_timeout(b.timeout);
            want.entry(b.net)
                .and_modify(|old| *old = longer(*old, t))
                .or_insert(t);
        }
        let plan = self.apply_chunked(want, mode)?;
        out.applied = plan.applied;
        out.covered = plan.covered;
        out.subsumed = plan.subsumed;
        out.script = plan.script;
        Ok(out)
    }

    /// Removes `net` from its set (exact match). `removed: false` if it was not there.
    pub fn unban(&self, net: &IpNet) -> Result<UnbanOutcome, NftError> {
        let script = format!(
            "delete element inet {} {} {{ {} }}\n",
            self.cfg.table,
            set_for(net),
            elem_text(net)
        );
        let removed = match self.apply(&script) {
            Ok(()) => !self.cfg.dry_run,
            Err(e) if e.is_enoent() => false,
            Err(e) => return Err(e),
        };
        Ok(UnbanOutcome {
            removed,
            script,
            dry_run: self.cfg.dry_run,
        })
    }

    /// Every element of the four ban sets (one `nft -j list table` call). Empty in dry-run.
    /// Costs time and memory in proportion to the number of bans (about 0.5 KB of parsed JSON
    /// per element): for a gauge of active bans, count them in the store instead.
    pub fn list(&self) -> Result<Vec<KernelBan>, NftError> {
        if self.cfg.dry_run {
            return Ok(Vec::new());
        }
        let v = self.nft_json(&["list", "table", "inet", &self.cfg.table])?;
        let mut out = Vec::new();
        for set in BAN_SETS {
            out.extend(parse_set_elems(&v, set)?);
        }
        Ok(out)
    }

    /// The drop counters (zero in dry-run).
    pub fn drop_counters(&self) -> Result<DropCounters, NftError> {
        if self.cfg.dry_run {
            return Ok(DropCounters::default());
        }
        let v = self.nft_json(&["list", "counters", "table", "inet", &self.cfg.table])?;
        let get = |set: &str| parse_counter(&v, &format!("dropped_{set}"));
        Ok(DropCounters {
            ban4: get(SET_BAN4)?,
            ban6: get(SET_BAN6)?,
            ban4net: get(SET_BAN4NET)?,
            ban6net: get(SET_BAN6NET)?,
        })
    }

    /// Restore on restart: adds the stored bans missing from the kernel with their REMAINING
    /// time, skips expired and allow-listed ones, and leaves present ones alone, so running it
    /// twice adds nothing the second time and never duplicates an element.
    pub fn reconcile(
        &self,
        bans: &[PersistedBan],
        now_unix: i64,
    ) -> Result<ReconcileOutcome, NftError> {
        let mut out = ReconcileOutcome {
            dry_run: self.cfg.dry_run,
            ..Default::default()
        };
        let kernel = self.list()?;
        // hash lookups: a restore after a flood compares ~10^5..10^6 bans with as many elements
        let in_kernel: HashSet<IpNet> = kernel.iter().map(|k| k.net).collect();
        // (network, time left; None = no timeout) of the kernel's CIDR bans
        let kernel_nets: Vec<(IpNet, Option<Duration>)> = kernel
            .iter()
            .filter(|k| !k.net.is_host())
            .map(|k| (k.net, k.expires_in))
            .collect();
        let mut stored: BTreeMap<IpNet, i64> = BTreeMap::new();
        for b in bans {
            stored
                .entry(b.net)
                .and_modify(|e| *e = (*e).max(b.expires_unix))
                .or_insert(b.expires_unix);
        }
        let mut want = BTreeMap::new();
        for (&net, &expires) in &stored {
            if expires <= now_unix {
                out.expired.push(net);
                continue;
            }
            let remaining = if expires == i64::MAX {
                MAX_KERNEL_TIMEOUT + Duration::from_secs(1)
            } else {
                Duration::from_secs(expires.saturating_sub(now_unix).unsigned_abs())
            };
            if let Some(r) = self.refuse(&net, remaining) {
                out.refused.push(r);
                continue;
            }
            // A covering CIDR counts only if it lasts as long (nft rounds down to seconds):
            // otherwise a host banned for a day inside a /24 with a minute left would go free
            // with the /24. Hosts live in their own set, so adding one never overlaps.
            let covered = |(k, left): &(IpNet, Option<Duration>)| {
                k.contains(&net)
                    && (!net.is_host()
                        || left.is_none_or(|l| l + Duration::from_secs(2) >= remaining))
            };
            let present = in_kernel.contains(&net) || kernel_nets.iter().any(covered);
            if present {
                out.present.push(net);
            } else {
                want.insert(net, kernel_timeout(remaining));
            }
        }
        out.unknown = kernel
            .into_iter()
            .filter(|k| !stored.contains_key(&k.net))
            .collect();
        // known to be absent: a plain add is enough (and cheaper)
        let plan = self.apply_chunked(want, Mode::AddOnly)?;
        out.added = plan.applied;
        // a stored CIDR inside another stored (and just added) CIDR
        out.present.extend(plan.covered);
        out.script = plan.script;
        Ok(out)
    }

    fn refuse(&self, net: &IpNet, timeout: Duration) -> Option<Refused> {
        if let Some(a) = &self.allow {
            if let Err(r) = a.check(net) {
                return Some(r);
            }
        }
        if timeout.as_millis() == 0 {
            return Some(Refused {
                net: *net,
                allowed: None,
                kind: None,
                reason: "ban time is zero".into(),
            });
        }
        None
    }

    /// Applies `want` in transactions of at most [`MAX_BATCH`] networks; the outcome and
    /// script are those of all of them.
    fn apply_chunked(
        &self,
        want: BTreeMap<IpNet, Option<Duration>>,
        mode: Mode,
    ) -> Result<Plan, NftError> {
        if want.len() <= MAX_BATCH {
            return self.apply_plan(want, mode);
        }
        let mut total = Plan::default();
        let mut rest = want.into_iter().peekable();
        while rest.peek().is_some() {
            let chunk: BTreeMap<_, _> = rest.by_ref().take(MAX_BATCH).collect();
            let p = self.apply_plan(chunk, mode)?;
            total.script.push_str(&p.script);
            total.applied.extend(p.applied);
            total.covered.extend(p.covered);
            total.subsumed.extend(p.subsumed);
            total.has_deletes |= p.has_deletes;
        }
        Ok(total)
    }

    /// Plans and applies `want`. A plan that deletes subsumed intervals read from the kernel
    /// can fail if one of them timed out in between; it is re-planned once from a fresh listing.
    fn apply_plan(
        &self,
        want: BTreeMap<IpNet, Option<Duration>>,
        mode: Mode,
    ) -> Result<Plan, NftError> {
        let plan = self.plan(want.clone(), mode)?;
        if plan.script.is_empty() {
            return Ok(plan);
        }
        match self.apply(&plan.script) {
            Ok(()) => Ok(plan),
            Err(e) if plan.has_deletes && e.is_enoent() => {
                let plan = self.plan(want, mode)?;
                self.apply(&plan.script)?;
                Ok(plan)
            }
            Err(e) => Err(e),
        }
    }

    /// Builds the transaction for `want` (already allow-list checked and deduplicated).
    fn plan(&self, want: BTreeMap<IpNet, Option<Duration>>, mode: Mode) -> Result<Plan, NftError> {
        let host_dance = matches!(mode, Mode::Refresh { dance: true });
        let t = &self.cfg.table;
        let mut plan = Plan::default();
        // Elements to put, per set, with their timeout; deletions of subsumed intervals.
        // The bool: may already be in the kernel, so refresh with "add, delete, add". Intervals
        // known to be absent get a plain add: nft 1.0.6's userspace interval code rejects an
        // "add, delete" pair of a new interval in a transaction that also deletes another.
        let mut put: BTreeMap<&'static str, Vec<PutElem>> = BTreeMap::new();
        let mut drop: BTreeMap<&'static str, Vec<IpNet>> = BTreeMap::new();

        let (hosts, nets): (Vec<_>, Vec<_>) = want.into_iter().partition(|(n, _)| n.is_host());
        for (n, to) in hosts {
            put.entry(set_for(&n))
                .or_default()
                .push((n, to, host_dance));
        }
        if !nets.is_empty() {
            for set in [SET_BAN4NET, SET_BAN6NET] {
                let mine: Vec<(IpNet, Option<Duration>)> = nets
                    .iter()
                    .filter(|(n, _)| set_for(n) == set)
                    .copied()
                    .collect();
                if mine.is_empty() {
                    continue;
                }
                // (network, remaining, already in the kernel)
                let mut present: Vec<(IpNet, Option<Duration>, bool)> = if self.cfg.dry_run {
                    Vec::new()
                } else {
                    self.list_set(set)?
                        .into_iter()
                        .map(|k| (k.net, k.expires_in, true))
                        .collect()
                };
                let mut mine = mine;
                // broadest first, so a narrower ban in the same batch is seen as covered
                mine.sort_by_key(|(n, _)| n.prefix());
                for (n, to) in mine {
                    if let Some(p) = present.iter_mut().find(|p| p.0 == n) {
                        if mode == Mode::AddOnly {
                            // already banned exactly: add_bans leaves it as it is
                            plan.covered.push(n);
                            continue;
                        }
                        p.1 = to;
                        // the timeout probe covers hash sets only: intervals always dance
                        put.entry(set).or_default().push((n, to, true));
                        plan.applied.push(n);
                        continue;
                    }
                    if present.iter().any(|p| p.0.contains(&n)) {
                        plan.covered.push(n);
                        continue;
                    }
                    let mut to = to;
                    let mut keep = Vec::with_capacity(present.len());
                    for p in present.drain(..) {
                        if n.contains(&p.0) {
                            to = longer(to, p.1);
                            if p.2 {
                                drop.entry(set).or_default().push(p.0);
                                plan.subsumed.push(p.0);
                            }
                        } else {
                            keep.push(p);
                        }
                    }
                    present = keep;
                    present.push((n, to, false));
                    put.entry(set).or_default().push((n, to, false));
                    plan.applied.push(n);
                }
            }
        }
        for (set, ns) in &drop {
            // A plain delete: nft's userspace overlap check would reject the broader add after an
            // "add, delete" pair of the narrower interval. If the interval expired since the
            // listing, the delete fails and the caller re-plans (see `apply_plan`).
            let e = join(ns.iter().map(elem_text));
            let _ = writeln!(plan.script, "delete element inet {t} {set} {{ {e} }}");
            plan.has_deletes = true;
        }
        let timed = |(n, to): (&IpNet, &Option<Duration>)| match to {
            Some(d) => format!("{} timeout {}ms", elem_text(n), d.as_millis()),
            None => elem_text(n),
        };
        for (set, elems) in &put {
            let refresh: Vec<_> = elems.iter().filter(|e| e.2).collect();
            if !refresh.is_empty() {
                let bare = join(refresh.iter().map(|(n, _, _)| elem_text(n)));
                let _ = writeln!(plan.script, "add element inet {t} {set} {{ {bare} }}");
                let _ = writeln!(plan.script, "delete element inet {t} {set} {{ {bare} }}");
            }
            if !elems.is_empty() {
                let all = join(elems.iter().map(|(n, to, _)| timed((n, to))));
                let _ = writeln!(plan.script, "add element inet {t} {set} {{ {all} }}");
            }
            if *set == SET_BAN4 || *set == SET_BAN6 {
                plan.applied.extend(elems.iter().map(|(n, _, _)| *n));
            }
        }
        Ok(plan)
    }

    fn list_set(&self, set: &str) -> Result<Vec<KernelBan>, NftError> {
        let v = self.nft_json(&["list", "set", "inet", &self.cfg.table, set])?;
        parse_set_elems(&v, set)
    }

    /// Runs `script` as one `nft -f -` transaction (nothing in dry-run).
    fn apply(&self, script: &str) -> Result<(), NftError> {
        if self.cfg.dry_run {
            return Ok(());
        }
        let cmd = exec::command(self.cfg.netns.as_deref(), &self.cfg.nft_path, &["-f", "-"]);
        exec::run(cmd, Some(script.as_bytes()))?;
        Ok(())
    }

    fn nft_json(&self, args: &[&str]) -> Result<Value, NftError> {
        let mut a = vec!["-j"];
        a.extend_from_slice(args);
        let cmd = exec::command(self.cfg.netns.as_deref(), &self.cfg.nft_path, &a);
        let out = exec::run(cmd, None)?;
        serde_json::from_slice(&out.stdout).map_err(|e| NftError::Json(e.to_string()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Set the given timeout also on present elements; `dance`: with "add, delete, add"
    /// (kernels whose plain add keeps the old timeout).
    Refresh { dance: bool },
    /// Plain adds; present elements are left as they are (on pre-6.10 kernels).
    AddOnly,
}

/// Network, kernel timeout (`None`: none), and whether to "add, delete, add" it.
type PutElem = (IpNet, Option<Duration>, bool);

#[derive(Default)]
struct Plan {
    script: String,
    applied: Vec<IpNet>,
    covered: Vec<IpNet>,
    subsumed: Vec<IpNet>,
    has_deletes: bool,
}

fn validate_name(what: &str, s: &str, max: usize) -> Result<(), NftError> {
    let ok = !s.is_empty()
        && s.len() <= max
        && s.as_bytes()[0].is_ascii_alphabetic()
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(NftError::Config(format!(
            "{what} name {s:?}: 1-{max} letters, digits or '_', starting with a letter"
        )))
    }
}

/// Sorted, overlapping/adjacent ranges merged: nft rejects overlapping interval elements.
fn merge_ranges(ports: &[PortRange], proto: Proto) -> Vec<(u16, u16)> {
    let mut r: Vec<(u16, u16)> = ports
        .iter()
        .filter(|p| p.proto == proto)
        .map(|p| (p.lo, p.hi))
        .collect();
    r.sort_unstable();
    let mut out: Vec<(u16, u16)> = Vec::with_capacity(r.len());
    for (lo, hi) in r {
        match out.last_mut() {
            Some(last) if u32::from(lo) <= u32::from(last.1) + 1 => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

fn set_for(n: &IpNet) -> &'static str {
    match (n.is_ipv4(), n.is_host()) {
        (true, true) => SET_BAN4,
        (false, true) => SET_BAN6,
        (true, false) => SET_BAN4NET,
        (false, false) => SET_BAN6NET,
    }
}

fn elem_text(n: &IpNet) -> String {
    if n.is_host() {
        n.addr().to_string()
    } else {
        n.to_string()
    }
}

fn join(it: impl Iterator<Item = String>) -> String {
    it.collect::<Vec<_>>().join(", ")
}

/// `None` = no kernel timeout. Rounded up to whole milliseconds (nft's unit).
fn kernel_timeout(d: Duration) -> Option<Duration> {
    if d > MAX_KERNEL_TIMEOUT {
        None
    } else {
        let ms = d.as_nanos().div_ceil(1_000_000);
        Some(Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX)))
    }
}

fn longer(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        _ => None,
    }
}

// ---- nft -j parsing ---------------------------------------------------------------------

fn objects(v: &Value) -> Result<&Vec<Value>, NftError> {
    v.get("nftables")
        .and_then(Value::as_array)
        .ok_or_else(|| NftError::Json("no top-level \"nftables\" array".into()))
}

fn parse_set_elems(v: &Value, set: &str) -> Result<Vec<KernelBan>, NftError> {
    let mut out = Vec::new();
    for o in objects(v)? {
        let Some(s) = o.get("set") else { continue };
        if s.get("name").and_then(Value::as_str) != Some(set) {
            continue;
        }
        let Some(elems) = s.get("elem").and_then(Value::as_array) else {
            continue;
        };
        for e in elems {
            let (val, timeout, expires) = match e.get("elem") {
                Some(inner) => (
                    inner.get("val").unwrap_or(&Value::Null),
                    inner.get("timeout").and_then(Value::as_u64),
                    inner.get("expires").and_then(Value::as_u64),
                ),
                None => (e, None, None),
            };
            let net = parse_val(val)
                .ok_or_else(|| NftError::Json(format!("set {set}: unexpected element {val}")))?;
            out.push(KernelBan {
                net,
                timeout: timeout.map(Duration::from_secs),
                expires_in: expires.map(Duration::from_secs),
            });
        }
    }
    Ok(out)
}

fn parse_val(v: &Value) -> Option<IpNet> {
    if let Some(s) = v.as_str() {
        return s.parse::<std::net::IpAddr>().ok().map(IpNet::host);
    }
    if let Some(p) = v.get("prefix") {
        let addr = p.get("addr")?.as_str()?.parse().ok()?;
        let len = u8::try_from(p.get("len")?.as_u64()?).ok()?;
        return IpNet::new(addr, len);
    }
    if let Some(r) = v.get("range").and_then(Value::as_array) {
        let a: std::net::IpAddr = r.first()?.as_str()?.parse().ok()?;
        let b: std::net::IpAddr = r.get(1)?.as_str()?.parse().ok()?;
        return range_to_net(a, b);
    }
    None
}

/// A range that is exactly one prefix, as that prefix (nft prints some intervals as ranges).
fn range_to_net(a: std::net::IpAddr, b: std::net::IpAddr) -> Option<IpNet> {
    use std::net::IpAddr::{V4, V6};
    let (lo, hi, width) = match (a, b) {
        (V4(x), V4(y)) => (u128::from(u32::from(x)), u128::from(u32::from(y)), 32u32),
        (V6(x), V6(y)) => (u128::from(x), u128::from(y), 128u32),
        _ => return None,
    };
    let span = hi.checked_sub(lo)?.checked_add(1)?;
    if !span.is_power_of_two() || lo % span != 0 {
        return None;
    }
    let prefix = width - span.trailing_zeros();
    IpNet::new(a, u8::try_from(prefix).ok()?)
}

fn parse_counter(v: &Value, name: &str) -> Result<Counter, NftError> {
    for o in objects(v)? {
        let Some(c) = o.get("counter") else { continue };
        if c.get("name").and_then(Value::as_str) == Some(name) {
            return Ok(Counter {
                packets: c.get("packets").and_then(Value::as_u64).unwrap_or(0),
                bytes: c.get("bytes").and_then(Value::as_u64).unwrap_or(0),
            });
        }
    }
    Err(NftError::Json(format!(
        "counter {name} missing: is the table installed?"
    )))
}

#[cfg(test)]
mod tests;

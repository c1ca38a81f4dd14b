//! Embedded store of the live guard (`sipsentry watch`): alerts, bans, per-source counters.
//!
//! One SQLite file in WAL mode, owned by one writer thread ([`Store`] is `Send` but not `Sync`).
//! Readers (the HTTP API, `sipsentry ban list`) may open their own connection with
//! [`Store::open_read_only`]: in WAL mode they never block the writer and the writer never blocks them.
//!
//! # Durability contract
//!
//! A method that writes returns `Ok` only after its transaction has committed. "Acknowledged" in the
//! guard means exactly that: an alert or ban whose `insert_*` call returned `Ok` survives a
//! `kill -9` of the process at any later instant, and the file is never left corrupt
//! (`tests/kill9.rs` proves both by SIGKILLing a writer mid-flood).
//!
//! The connection runs with `synchronous = NORMAL` by default. In WAL mode that means a commit
//! `write()`s its frames to the `-wal` file but does not `fsync` it; fsyncs happen at checkpoints.
//! A process crash (panic, OOM kill, `kill -9`) cannot lose such a commit: the data is already in
//! the kernel's page cache, which outlives the process, and the next open replays the WAL. Only an
//! operating-system crash or power loss can lose the last commits before the next checkpoint, and
//! even then the database rolls back to a consistent earlier state (WAL frames are checksummed).
//! That trade is the right one for a 24/7 guard writing alert bursts: `FULL` costs an fsync per
//! transaction. Hosts that must not lose even that window can open with
//! [`Durability::Full`] via [`Store::open_with`].
//!
//! # Time
//!
//! No method reads a clock: every "now" is passed in, so tests are deterministic and the caller
//! decides between wall-clock and monotonic sources. Alert timestamps are Unix nanoseconds (as
//! the detectors produce them); ban and counter times are Unix seconds.
//!
//! # Schema
//!
//! Versioned with `PRAGMA user_version`; [`Store::open`] applies the missing migrations, each in
//! its own `BEGIN IMMEDIATE` transaction, and refuses a file written by a newer schema
//! ([`StoreError::SchemaTooNew`]) rather than guessing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{
    params, params_from_iter, Connection, OpenFlags, OptionalExtension, TransactionBehavior,
};
use serde::{Deserialize, Serialize};

/// Schema migrations, index `i` brings the file from `user_version = i` to `i + 1`.
/// Never edit a released entry: append a new one.
const MIGRATIONS: &[&str] = &[
    // v1: alerts, bans (state machine active -> expired | removed), per-source counters.
    r#"
    CREATE TABLE alerts (
        id            INTEGER PRIMARY KEY,
        alert_id      TEXT NOT NULL,
        severity      TEXT NOT NULL,
        source_ip     TEXT,
        source_port   INTEGER,
        transport     TEXT,
        target        TEXT NOT NULL,
        first_seen_ns INTEGER NOT NULL,
        last_seen_ns  INTEGER NOT NULL,
        count         INTEGER NOT NULL,
        evidence      TEXT NOT NULL,
        control       TEXT NOT NULL,
        action        TEXT NOT NULL
    );
    CREATE INDEX alerts_last_seen ON alerts(last_seen_ns);
    CREATE INDEX alerts_alert_id ON alerts(alert_id, id);
    CREATE INDEX alerts_source_ip ON alerts(source_ip, id);

    CREATE TABLE bans (
        id           INTEGER PRIMARY KEY,
        net          TEXT NOT NULL,
        created_unix INTEGER NOT NULL,
        expires_unix INTEGER NOT NULL,
        reason       TEXT NOT NULL,
        source       TEXT NOT NULL,
        state        TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'expired', 'removed')),
        ended_unix   INTEGER,
        end_reason   TEXT
    );
    -- At most one active ban per network: restore-on-restart must never see duplicates.
    CREATE UNIQUE INDEX bans_one_active ON bans(net) WHERE state = 'active';
    CREATE INDEX bans_active_expiry ON bans(expires_unix) WHERE state = 'active';
    CREATE INDEX bans_history ON bans(net, created_unix);
    CREATE INDEX bans_ended ON bans(ended_unix) WHERE state <> 'active';

    CREATE TABLE source_stats (
        source         TEXT NOT NULL,
        bucket_unix    INTEGER NOT NULL,
        messages       INTEGER NOT NULL,
        failures       INTEGER NOT NULL,
        alerts         INTEGER NOT NULL,
        last_seen_unix INTEGER NOT NULL,
        PRIMARY KEY (source, bucket_unix)
    ) WITHOUT ROWID;
    CREATE INDEX source_stats_bucket ON source_stats(bucket_unix);
    "#,
];

/// Schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;
/// Largest number of rows one query returns, whatever the caller asks for.
pub const MAX_QUERY_LIMIT: usize = 10_000;
/// Rows returned when a query leaves `limit` at 0.
pub const DEFAULT_QUERY_LIMIT: usize = 100;
/// Longest text field stored; longer values (attacker-controlled targets, evidence) are cut at a
/// character boundary, so a hostile alert cannot bloat the file.
pub const MAX_TEXT: usize = 4096;
/// Most evidence lines kept per alert.
pub const MAX_EVIDENCE_ITEMS: usize = 64;
/// Longest network text accepted in a ban (an IPv6 CIDR needs at most 43).
pub const MAX_NET_LEN: usize = 64;
/// How long a connection waits for a lock held by another connection before failing.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Cap on the WAL file size kept after a checkpoint (bytes).
const JOURNAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

/// Errors of the store. Messages never include alert evidence (it may carry attacker input).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open store {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("store {path}: WAL journal mode could not be enabled (got {mode:?}); is the file on a network filesystem?")]
    NotWal { path: PathBuf, mode: String },
    #[error("store schema version {found} is newer than this build supports ({supported}); upgrade sipsentry or use another file")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("store schema version {found} is older than {required} and the store was opened read-only; open it once read-write to migrate")]
    SchemaTooOld { found: i64, required: i64 },
    #[error("store migration to schema version {version} failed: {source}")]
    Migration {
        version: i64,
        #[source]
        source: rusqlite::Error,
    },
    #[error("store integrity check failed: {0}")]
    Corrupt(String),
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("malformed {field} in {table} row {id}")]
    Malformed {
        table: &'static str,
        id: i64,
        field: &'static str,
    },
    #[error("store query failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// How hard a commit waits for the disk. See the crate docs for what each survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous = NORMAL`: survives process crashes; an OS crash may lose the last commits
    /// since the previous checkpoint (never corrupts).
    #[default]
    Normal,
    /// `synchronous = FULL`: fsync on every commit; survives power loss too.
    Full,
}

/// Options for [`Store::open_with`].
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    pub durability: Durability,
}

/// One alert as the detectors raise it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// Stable UPPER-KEBAB finding ID (e.g. `SIP-SCANNER`).
    pub alert_id: String,
    pub severity: String,
    pub source_ip: Option<String>,
    pub source_port: Option<u16>,
    pub transport: Option<String>,
    pub target: String,
    pub first_seen_unix_ns: i64,
    pub last_seen_unix_ns: i64,
    pub count: u64,
    /// Already redacted evidence lines.
    pub evidence: Vec<String>,
    pub control: String,
    pub action: String,
}

/// An alert read back, with its row id (monotonic: usable as a cursor, see [`AlertQuery::after_id`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAlert {
    pub id: i64,
    #[serde(flatten)]
    pub alert: AlertRecord,
}

/// Filter for [`Store::alerts`]. All filters are ANDed; `Default` returns the newest
/// [`DEFAULT_QUERY_LIMIT`] alerts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertQuery {
    /// Only alerts whose `last_seen_unix_ns` is at or after this.
    pub since_unix_ns: Option<i64>,
    /// Only this finding ID.
    pub alert_id: Option<String>,
    /// Only this source address (exact text match).
    pub source_ip: Option<String>,
    /// Only rows with a larger id, returned OLDEST first: a tailing cursor. Without it the newest
    /// rows come first.
    pub after_id: Option<i64>,
    /// 0 means [`DEFAULT_QUERY_LIMIT`]; anything above [`MAX_QUERY_LIMIT`] is capped.
    pub limit: usize,
}

/// A ban to record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BanRecord {
    /// CIDR text, e.g. `203.0.113.5/32`, `2001:db8::/64`. The caller normalises it (one text per
    /// network) so that "one active ban per net" holds.
    pub net: String,
    pub created_unix: i64,
    /// `i64::MAX` for a ban that never expires.
    pub expires_unix: i64,
    /// Alert ID (or free text for manual bans) that caused the ban.
    pub reason: String,
    /// `"detector"`, `"manual"` or `"api"`.
    pub source: String,
}

/// Lifecycle of a ban row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BanState {
    Active,
    Expired,
    Removed,
}

impl BanState {
    /// The text stored in the `state` column (and shown by `ban list`).
    pub fn as_str(self) -> &'static str {
        match self {
            BanState::Active => "active",
            BanState::Expired => "expired",
            BanState::Removed => "removed",
        }
    }
    fn from_sql(s: &str) -> Option<Self> {
        match s {
            "active" => Some(BanState::Active),
            "expired" => Some(BanState::Expired),
            "removed" => Some(BanState::Removed),
            _ => None,
        }
    }
}

/// A ban read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredBan {
    pub id: i64,
    pub net: String,
    pub created_unix: i64,
    pub expires_unix: i64,
    pub reason: String,
    pub source: String,
    pub state: BanState,
    /// When it stopped being active (expiry time or removal time).
    pub ended_unix: Option<i64>,
    /// `"expired"` or the removal reason.
    pub end_reason: Option<String>,
}

/// Per-source counters for one time bucket (the caller picks the bucket, e.g. the start of the
/// hour). [`Store::add_source_stats`] adds them to what the bucket already holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceStat {
    pub source: String,
    pub bucket_unix: i64,
    pub messages: u64,
    pub failures: u64,
    pub alerts: u64,
    pub last_seen_unix: i64,
}

/// Counters of one source summed over buckets, see [`Store::top_sources`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceTotals {
    pub source: String,
    pub messages: u64,
    pub failures: u64,
    pub alerts: u64,
    pub last_seen_unix: i64,
}

/// Rows deleted by [`Store::prune`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PruneCounts {
    pub alerts: u64,
    pub bans: u64,
    pub source_stats: u64,
}

/// The store. Not `Sync`: one writer thread owns it (SQLite serialises writers anyway; a single
/// owner batches them instead of making them queue on the file lock).
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating if needed) the store at `path` with [`Durability::Normal`].
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Self::open_with(path, &OpenOptions::default())
    }

    /// Opens with explicit options.
    pub fn open_with(path: &Path, opts: &OpenOptions) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // Only takes effect on a file without tables, and must precede the switch to WAL (which
        // writes the header): lets prune() hand freed pages back without a full VACUUM.
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL;")
            .map_err(open_err)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::NotWal {
                path: path.to_path_buf(),
                mode,
            });
        }
        let mut store = Store { conn };
        store.configure(opts.durability).map_err(open_err)?;
        store.migrate()?;
        Ok(store)
    }

    /// A private in-memory store (tests, `--dry-run` without a file). Same schema, no WAL.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory().map_err(|source| StoreError::Open {
            path: PathBuf::from(":memory:"),
            source,
        })?;
        let mut store = Store { conn };
        store.configure(Durability::Normal)?;
        store.migrate()?;
        Ok(store)
    }

    /// A read-only connection for another thread or process (API, CLI). The file must exist and
    /// be at the current schema version. Writing methods fail with a SQLite "readonly" error.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        let store = Store { conn };
        let found = store.schema_version()?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::SchemaTooNew {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found < SCHEMA_VERSION {
            return Err(StoreError::SchemaTooOld {
                found,
                required: SCHEMA_VERSION,
            });
        }
        Ok(store)
    }

    fn configure(&mut self, durability: Durability) -> Result<(), rusqlite::Error> {
        let sync = match durability {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        self.conn.execute_batch(&format!(
            "PRAGMA synchronous = {sync};
             PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT};
             PRAGMA foreign_keys = ON;"
        ))?;
        Ok(())
    }

    /// The file's `PRAGMA user_version`.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        loop {
            // Re-read inside an IMMEDIATE transaction: two processes opening the same new file
            // at once must not both apply the same migration.
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if found > SCHEMA_VERSION {
                return Err(StoreError::SchemaTooNew {
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            if found == SCHEMA_VERSION {
                return Ok(());
            }
            let next = found + 1;
            let mig_err = |source| StoreError::Migration {
                version: next,
                source,
            };
            // `found` is in 0..SCHEMA_VERSION here, so the index is in bounds.
            let sql = MIGRATIONS[found as usize];
            tx.execute_batch(sql).map_err(mig_err)?;
            // user_version lives in the file header, which is part of the transaction.
            tx.execute_batch(&format!("PRAGMA user_version = {next}"))
                .map_err(mig_err)?;
            tx.commit().map_err(mig_err)?;
        }
    }

    /// `PRAGMA integrity_check`; `Ok` only if SQLite answers exactly `ok`.
    pub fn integrity_check(&self) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check(20)")?;
        let lines: Vec<String> = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<_, _>>()?;
        if lines.len() == 1 && lines[0] == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt(lines.join("; ")))
        }
    }

    /// Moves WAL content into the main file and truncates the WAL (e.g. after a prune, or at
    /// clean shutdown). Not needed for correctness.
    pub fn checkpoint(&mut self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    // ---- alerts -------------------------------------------------------------------------

    /// Inserts `alerts` in one transaction and returns their ids in order. `Ok` means committed
    /// (see the durability contract in the crate docs); on `Err` none of them was stored.
    /// Over-long text is cut to [`MAX_TEXT`], evidence to [`MAX_EVIDENCE_ITEMS`] lines.
    pub fn insert_alerts(&mut self, alerts: &[AlertRecord]) -> Result<Vec<i64>, StoreError> {
        let mut ids = Vec::with_capacity(alerts.len());
        if alerts.is_empty() {
            return Ok(ids);
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO alerts (alert_id, severity, source_ip, source_port, transport, target,
                    first_seen_ns, last_seen_ns, count, evidence, control, action)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            for a in alerts {
                let evidence: Vec<&str> = a
                    .evidence
                    .iter()
                    .take(MAX_EVIDENCE_ITEMS)
                    .map(|e| cap_text(e))
                    .collect();
                let evidence =
                    serde_json::to_string(&evidence).map_err(|e| StoreError::Invalid {
                        field: "evidence",
                        reason: e.to_string(),
                    })?;
                stmt.execute(params![
                    cap_text(&a.alert_id),
                    cap_text(&a.severity),
                    a.source_ip.as_deref().map(cap_text),
                    a.source_port,
                    a.transport.as_deref().map(cap_text),
                    cap_text(&a.target),
                    a.first_seen_unix_ns,
                    a.last_seen_unix_ns,
                    i64::try_from(a.count).unwrap_or(i64::MAX),
                    evidence,
                    cap_text(&a.control),
                    cap_text(&a.action),
                ])?;
                ids.push(tx.last_insert_rowid());
            }
        }
        tx.commit()?;
        Ok(ids)
    }

    /// Alerts matching `q`, newest first (oldest first when `after_id` is set).
    pub fn alerts(&self, q: &AlertQuery) -> Result<Vec<StoredAlert>, StoreError> {
        let mut sql = String::from(
            "SELECT id, alert_id, severity, source_ip, source_port, transport, target,
                    first_seen_ns, last_seen_ns, count, evidence, control, action
             FROM alerts WHERE 1",
        );
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(since) = q.since_unix_ns {
            sql.push_str(" AND last_seen_ns >= ?");
            args.push(since.into());
        }
        if let Some(id) = &q.alert_id {
            sql.push_str(" AND alert_id = ?");
            args.push(id.clone().into());
        }
        if let Some(ip) = &q.source_ip {
            sql.push_str(" AND source_ip = ?");
            args.push(ip.clone().into());
        }
        if let Some(after) = q.after_id {
            sql.push_str(" AND id > ? ORDER BY id ASC");
            args.push(after.into());
        } else {
            sql.push_str(" ORDER BY id DESC");
        }
        sql.push_str(" LIMIT ?");
        args.push((effective_limit(q.limit) as i64).into());

        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, i64>(8)?,
                r.get::<_, i64>(9)?,
                r.get::<_, String>(10)?,
                r.get::<_, String>(11)?,
                r.get::<_, String>(12)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (
                id,
                alert_id,
                severity,
                source_ip,
                port,
                transport,
                target,
                first,
                last,
                count,
                ev,
                control,
                action,
            ) = row?;
            let evidence: Vec<String> =
                serde_json::from_str(&ev).map_err(|_| StoreError::Malformed {
                    table: "alerts",
                    id,
                    field: "evidence",
                })?;
            let source_port = match port {
                None => None,
                Some(p) => Some(u16::try_from(p).map_err(|_| StoreError::Malformed {
                    table: "alerts",
                    id,
                    field: "source_port",
                })?),
            };
            out.push(StoredAlert {
                id,
                alert: AlertRecord {
                    alert_id,
                    severity,
                    source_ip,
                    source_port,
                    transport,
                    target,
                    first_seen_unix_ns: first,
                    last_seen_unix_ns: last,
                    count: u64::try_from(count).unwrap_or(0),
                    evidence,
                    control,
                    action,
                },
            });
        }
        Ok(out)
    }

    /// Number of stored alerts (for metrics and tests).
    pub fn alert_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM alerts", [], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    // ---- bans ---------------------------------------------------------------------------

    /// Records a ban and returns the id of the row that now covers `b.net`.
    ///
    /// There is at most one active ban per network. If one is already active (and not yet past
    /// its expiry at `b.created_unix`), it is extended to the later expiry and keeps its id: a
    /// re-ban of a banned source is not a new offence for [`Store::prior_ban_count`]. An active
    /// row that is already past its expiry is first closed as expired, then a new row is added.
    pub fn insert_ban(&mut self, b: &BanRecord) -> Result<i64, StoreError> {
        validate_net(&b.net)?;
        if b.expires_unix < b.created_unix {
            return Err(StoreError::Invalid {
                field: "expires_unix",
                reason: format!(
                    "{} is before created_unix {}",
                    b.expires_unix, b.created_unix
                ),
            });
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing: Option<(i64, i64)> = tx
            .query_row(
                "SELECT id, expires_unix FROM bans WHERE net = ?1 AND state = 'active'",
                [&b.net],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let id = match existing {
            Some((id, expires)) if expires > b.created_unix => {
                tx.execute(
                    "UPDATE bans SET expires_unix = max(expires_unix, ?2), reason = ?3 WHERE id = ?1",
                    params![id, b.expires_unix, cap_text(&b.reason)],
                )?;
                id
            }
            other => {
                if let Some((old, _)) = other {
                    tx.execute(
                        "UPDATE bans SET state = 'expired', ended_unix = expires_unix, end_reason = 'expired'
                         WHERE id = ?1",
                        [old],
                    )?;
                }
                tx.execute(
                    "INSERT INTO bans (net, created_unix, expires_unix, reason, source, state)
                     VALUES (?1, ?2, ?3, ?4, ?5, 'active')",
                    params![
                        b.net,
                        b.created_unix,
                        b.expires_unix,
                        cap_text(&b.reason),
                        cap_text(&b.source)
                    ],
                )?;
                tx.last_insert_rowid()
            }
        };
        tx.commit()?;
        Ok(id)
    }

    /// Ends the active ban of `net` by hand. `Ok(false)` if `net` had no active ban.
    pub fn remove_ban(
        &mut self,
        net: &str,
        now_unix: i64,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let n = self.conn.execute(
            "UPDATE bans SET state = 'removed', ended_unix = ?2, end_reason = ?3
             WHERE net = ?1 AND state = 'active'",
            params![net, now_unix, cap_text(reason)],
        )?;
        Ok(n > 0)
    }

    /// Bans in force at `now_unix` (active and not past expiry), soonest expiry first.
    pub fn active_bans(&self, now_unix: i64) -> Result<Vec<StoredBan>, StoreError> {
        self.query_bans(
            "SELECT id, net, created_unix, expires_unix, reason, source, state, ended_unix, end_reason
             FROM bans WHERE state = 'active' AND expires_unix > ?1 ORDER BY expires_unix, id",
            params![now_unix],
        )
    }

    /// The ban in force for `net` at `now_unix`, if any.
    pub fn active_ban(&self, net: &str, now_unix: i64) -> Result<Option<StoredBan>, StoreError> {
        Ok(self
            .query_bans(
                "SELECT id, net, created_unix, expires_unix, reason, source, state, ended_unix, end_reason
                 FROM bans WHERE net = ?1 AND state = 'active' AND expires_unix > ?2",
                params![net, now_unix],
            )?
            .into_iter()
            .next())
    }

    /// Ban history (all states), newest first; `net` narrows it to one network.
    pub fn ban_history(
        &self,
        net: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredBan>, StoreError> {
        let limit = effective_limit(limit) as i64;
        match net {
            Some(n) => self.query_bans(
                "SELECT id, net, created_unix, expires_unix, reason, source, state, ended_unix, end_reason
                 FROM bans WHERE net = ?1 ORDER BY id DESC LIMIT ?2",
                params![n, limit],
            ),
            None => self.query_bans(
                "SELECT id, net, created_unix, expires_unix, reason, source, state, ended_unix, end_reason
                 FROM bans ORDER BY id DESC LIMIT ?1",
                params![limit],
            ),
        }
    }

    /// Marks every active ban whose expiry is at or before `now_unix` as expired and returns
    /// them (the caller removes them from the kernel if its sets do not time out by themselves).
    pub fn expire_bans(&mut self, now_unix: i64) -> Result<Vec<StoredBan>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut expired = {
            let mut stmt = tx.prepare_cached(
                "SELECT id, net, created_unix, expires_unix, reason, source, state, ended_unix, end_reason
                 FROM bans WHERE state = 'active' AND expires_unix <= ?1 ORDER BY expires_unix, id",
            )?;
            let rows = stmt.query_map([now_unix], ban_row)?;
            rows.collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .collect::<Result<Vec<_>, _>>()?
        };
        tx.execute(
            "UPDATE bans SET state = 'expired', ended_unix = expires_unix, end_reason = 'expired'
             WHERE state = 'active' AND expires_unix <= ?1",
            [now_unix],
        )?;
        tx.commit()?;
        for b in &mut expired {
            b.state = BanState::Expired;
            b.ended_unix = Some(b.expires_unix);
            b.end_reason = Some("expired".into());
        }
        Ok(expired)
    }

    /// How many bans `net` received at or after `since_unix` (all states, including one active
    /// now). Feed it to the recidive escalation: the next ban time grows with this count.
    pub fn prior_ban_count(&self, net: &str, since_unix: i64) -> Result<u32, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM bans WHERE net = ?1 AND created_unix >= ?2",
            params![net, since_unix],
            |r| r.get(0),
        )?;
        Ok(u32::try_from(n.max(0)).unwrap_or(u32::MAX))
    }

    fn query_bans(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
    ) -> Result<Vec<StoredBan>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(p, ban_row)?;
        let mut out = Vec::new();
        for r in rows {
            out.push(r??);
        }
        Ok(out)
    }

    // ---- per-source counters ------------------------------------------------------------

    /// Adds each row's counters to its `(source, bucket)` row (creating it), in one transaction.
    /// Counters saturate at `i64::MAX` instead of overflowing.
    pub fn add_source_stats(&mut self, rows: &[SourceStat]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO source_stats (source, bucket_unix, messages, failures, alerts, last_seen_unix)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (source, bucket_unix) DO UPDATE SET
                   messages = CASE WHEN messages > 9223372036854775807 - excluded.messages
                                   THEN 9223372036854775807 ELSE messages + excluded.messages END,
                   failures = CASE WHEN failures > 9223372036854775807 - excluded.failures
                                   THEN 9223372036854775807 ELSE failures + excluded.failures END,
                   alerts   = CASE WHEN alerts > 9223372036854775807 - excluded.alerts
                                   THEN 9223372036854775807 ELSE alerts + excluded.alerts END,
                   last_seen_unix = max(last_seen_unix, excluded.last_seen_unix)",
            )?;
            for s in rows {
                stmt.execute(params![
                    cap_text(&s.source),
                    s.bucket_unix,
                    sat_i64(s.messages),
                    sat_i64(s.failures),
                    sat_i64(s.alerts),
                    s.last_seen_unix,
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Buckets of one source from `since_unix` on, oldest first.
    pub fn source_stats(
        &self,
        source: &str,
        since_unix: i64,
    ) -> Result<Vec<SourceStat>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT source, bucket_unix, messages, failures, alerts, last_seen_unix FROM source_stats
             WHERE source = ?1 AND bucket_unix >= ?2 ORDER BY bucket_unix LIMIT ?3",
        )?;
        let rows = stmt.query_map(params![source, since_unix, MAX_QUERY_LIMIT as i64], |r| {
            Ok(SourceStat {
                source: r.get(0)?,
                bucket_unix: r.get(1)?,
                messages: r.get::<_, i64>(2)?.max(0) as u64,
                failures: r.get::<_, i64>(3)?.max(0) as u64,
                alerts: r.get::<_, i64>(4)?.max(0) as u64,
                last_seen_unix: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Sources summed over buckets from `since_unix` on, most failures (then alerts, messages)
    /// first.
    pub fn top_sources(
        &self,
        since_unix: i64,
        limit: usize,
    ) -> Result<Vec<SourceTotals>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT source, total(messages), total(failures), total(alerts), max(last_seen_unix)
             FROM source_stats WHERE bucket_unix >= ?1 GROUP BY source
             ORDER BY 3 DESC, 4 DESC, 2 DESC, source LIMIT ?2",
        )?;
        // total() is a float sum: it cannot overflow, and is converted back saturating.
        let rows = stmt.query_map(params![since_unix, effective_limit(limit) as i64], |r| {
            Ok(SourceTotals {
                source: r.get(0)?,
                messages: f64_to_u64(r.get(1)?),
                failures: f64_to_u64(r.get(2)?),
                alerts: f64_to_u64(r.get(3)?),
                last_seen_unix: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    // ---- retention ----------------------------------------------------------------------

    /// Deletes alerts last seen before `older_than_unix`, ended (expired or removed) bans that
    /// ended before it, and counter buckets that start before it; active bans are never pruned.
    /// Keep the retention longer than the recidive window, or old offences stop counting.
    pub fn prune(&mut self, older_than_unix: i64) -> Result<PruneCounts, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let alerts = tx.execute(
            "DELETE FROM alerts WHERE last_seen_ns < ?1",
            [older_than_unix.saturating_mul(1_000_000_000)],
        )?;
        let bans = tx.execute(
            "DELETE FROM bans WHERE state <> 'active' AND ended_unix < ?1",
            [older_than_unix],
        )?;
        let source_stats = tx.execute(
            "DELETE FROM source_stats WHERE bucket_unix < ?1",
            [older_than_unix],
        )?;
        tx.commit()?;
        // Hand freed pages back to the filesystem (no-op on files created without auto_vacuum).
        self.conn.execute_batch("PRAGMA incremental_vacuum;")?;
        Ok(PruneCounts {
            alerts: alerts as u64,
            bans: bans as u64,
            source_stats: source_stats as u64,
        })
    }
}

type BanRow = Result<StoredBan, StoreError>;

fn ban_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<BanRow> {
    let id: i64 = r.get(0)?;
    let state: String = r.get(6)?;
    let Some(state) = BanState::from_sql(&state) else {
        return Ok(Err(StoreError::Malformed {
            table: "bans",
            id,
            field: "state",
        }));
    };
    Ok(Ok(StoredBan {
        id,
        net: r.get(1)?,
        created_unix: r.get(2)?,
        expires_unix: r.get(3)?,
        reason: r.get(4)?,
        source: r.get(5)?,
        state,
        ended_unix: r.get(7)?,
        end_reason: r.get(8)?,
    }))
}

/// Cheap shape check; the nft crate parses networks properly. This only keeps garbage and
/// oversized keys out of the unique index.
fn validate_net(net: &str) -> Result<(), StoreError> {
    let bad = |reason: &str| StoreError::Invalid {
        field: "net",
        reason: reason.to_string(),
    };
    if net.is_empty() {
        return Err(bad("empty"));
    }
    if net.len() > MAX_NET_LEN {
        return Err(bad("longer than 64 bytes"));
    }
    if !net
        .bytes()
        .all(|c| c.is_ascii_hexdigit() || matches!(c, b'.' | b':' | b'/'))
    {
        return Err(bad(
            "only hex digits, '.', ':' and '/' are allowed in a network",
        ));
    }
    Ok(())
}

fn effective_limit(limit: usize) -> usize {
    match limit {
        0 => DEFAULT_QUERY_LIMIT,
        n => n.min(MAX_QUERY_LIMIT),
    }
}

fn sat_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn f64_to_u64(v: f64) -> u64 {
    // `as` saturates for floats (NaN -> 0), which is what a counter wants.
    v as u64
}

/// Cuts `s` to at most [`MAX_TEXT`] bytes at a character boundary.
fn cap_text(s: &str) -> &str {
    if s.len() <= MAX_TEXT {
        return s;
    }
    let mut end = MAX_TEXT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests;

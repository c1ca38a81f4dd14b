//! `kill -9` during a flood: the store opens cleanly and holds every alert and ban whose insert
//! returned `Ok` before the kill (issue 5, "Store, API, metrics").
//!
//! The writer is this same test binary re-executed (`std::env::current_exe()`) with
//! `FLOOD_DB_ENV` set, running only the `flood_writer` test: it inserts alerts and bans in a
//! bounded loop and prints `A <id>` / `B <id>` after each commit returns. The parent reads those
//! lines, SIGKILLs the child mid-flood, then reopens the file and checks it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sipsentry_store::{AlertQuery, AlertRecord, BanRecord, Store, MAX_QUERY_LIMIT};

const FLOOD_DB_ENV: &str = "SIPSENTRY_STORE_FLOOD_DB";
/// Upper bound of the child's loop: far more than the parent lets it do before the kill.
const FLOOD_ITERATIONS: u64 = 200_000;

fn alert(i: u64, k: u64) -> AlertRecord {
    AlertRecord {
        alert_id: if k % 2 == 0 {
            "SIP-BRUTE-FORCE"
        } else {
            "SIP-SCANNER"
        }
        .into(),
        severity: "high".into(),
        source_ip: Some(format!("198.51.100.{}", i % 250)),
        source_port: Some(5060),
        transport: Some("udp".into()),
        target: format!("sip:{i}@pbx.example"),
        first_seen_unix_ns: i as i64 * 1_000,
        last_seen_unix_ns: i as i64 * 1_000 + 1,
        count: k + 1,
        evidence: vec![format!("iteration {i} item {k}"), "x".repeat(200)],
        control: "rate-limit".into(),
        action: "ban".into(),
    }
}

/// The child's work: floods `db` and prints each committed id. Bounded by `iterations`.
fn flood(db: &Path, iterations: u64, mut emit: impl FnMut(char, i64)) {
    let mut store = Store::open(db).expect("child: open store");
    // Bans need distinct networks across runs on the same file: derive them from the pid.
    let salt = u64::from(std::process::id()) % 200;
    for i in 0..iterations {
        let batch: Vec<AlertRecord> = (0..(1 + i % 8)).map(|k| alert(i, k)).collect();
        for id in store.insert_alerts(&batch).expect("child: insert alerts") {
            emit('A', id);
        }
        if i % 25 == 0 {
            let n = i / 25;
            let net = format!("10.{}.{}.{}/32", salt, (n / 250) % 250, n % 250);
            let id = store
                .insert_ban(&BanRecord {
                    net,
                    created_unix: i as i64,
                    expires_unix: i64::MAX,
                    reason: "SIP-BRUTE-FORCE".into(),
                    source: "detector".into(),
                })
                .expect("child: insert ban");
            emit('B', id);
        }
    }
}

/// In the re-executed child: floods the file named by the environment. Run as an ordinary test
/// (no environment): a short in-process flood whose printed ids must all be readable back, which
/// checks the same bookkeeping the kill test relies on.
#[test]
fn flood_writer() {
    if let Ok(db) = std::env::var(FLOOD_DB_ENV) {
        flood(Path::new(&db), FLOOD_ITERATIONS, |kind, id| {
            println!("{kind} {id}")
        });
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("inproc.db");
    let (mut a, mut b) = (Vec::new(), Vec::new());
    flood(
        &db,
        100,
        |kind, id| if kind == 'A' { a.push(id) } else { b.push(id) },
    );
    assert_eq!(
        a.len(),
        (0..100u64).map(|i| 1 + i % 8).sum::<u64>() as usize
    );
    assert_eq!(b.len(), 4);
    let s = Store::open(&db).unwrap();
    assert_eq!(all_alert_ids(&s), a);
}

fn all_alert_ids(s: &Store) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut cursor = 0;
    loop {
        let page = s
            .alerts(&AlertQuery {
                after_id: Some(cursor),
                limit: MAX_QUERY_LIMIT,
                ..Default::default()
            })
            .unwrap();
        let Some(last) = page.last() else { break };
        cursor = last.id;
        ids.extend(page.iter().map(|a| a.id));
    }
    ids
}

/// Runs one child, kills it with SIGKILL after `kill_after` acknowledged ids, returns the
/// acknowledged alert and ban ids (including lines that reached the pipe before the kill).
fn run_and_kill(db: &Path, kill_after: usize) -> (Vec<i64>, Vec<i64>) {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["--exact", "flood_writer", "--nocapture", "--test-threads=1"])
        .env(FLOOD_DB_ENV, db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn flood child");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let (mut alerts, mut bans) = (Vec::new(), Vec::new());
    let mut record = |line: &str| {
        // A line cut by the kill has no id or a partial one; BufRead::lines only yields a last
        // unterminated fragment at EOF, which we must not trust: the child prints the id only
        // after the commit, so a partial line is at worst an id we fail to claim (never a false
        // claim), but parse strictly anyway.
        let mut it = line.split(' ');
        match (
            it.next(),
            it.next().and_then(|n| n.parse::<i64>().ok()),
            it.next(),
        ) {
            (Some("A"), Some(id), None) => alerts.push(id),
            (Some("B"), Some(id), None) => bans.push(id),
            // libtest's own lines ("running 1 test")
            _ => return false,
        }
        true
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = 0usize;
    while seen < kill_after {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|e| {
                let _ = child.kill();
                panic!("flood child stalled or exited early after {seen} ids: {e}")
            });
        if record(&line) {
            seen += 1;
        }
    }
    // SIGKILL mid-flood (Child::kill sends SIGKILL on Unix).
    child.kill().expect("SIGKILL the flood child");
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        status.signal(),
        Some(9),
        "child must die by SIGKILL, not finish: {status:?}"
    );
    reader.join().unwrap();
    while let Ok(line) = rx.try_recv() {
        record(&line);
    }
    (alerts, bans)
}

#[test]
fn kill9_mid_flood_loses_no_acknowledged_alert_or_ban_and_never_corrupts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("guard.db");
    let mut all_alerts = Vec::new();
    let mut all_bans = Vec::new();
    // Three kills at different points, each child appending to the file the previous one left.
    for (round, kill_after) in [1_500usize, 4_321, 777].into_iter().enumerate() {
        let (alerts, bans) = run_and_kill(&db, kill_after);
        assert!(alerts.len() + bans.len() >= kill_after);
        let wal = dir.path().join("guard.db-wal");
        let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        assert!(
            wal_len > 0,
            "round {round}: the kill should leave a WAL to recover"
        );
        all_alerts.extend(alerts);
        all_bans.extend(bans);

        let s = Store::open(&db).expect("reopen after kill -9");
        s.integrity_check().expect("integrity_check after kill -9");
        let stored = all_alert_ids(&s);
        let stored_set: std::collections::HashSet<i64> = stored.iter().copied().collect();
        let missing: Vec<i64> = all_alerts
            .iter()
            .filter(|id| !stored_set.contains(id))
            .copied()
            .collect();
        assert!(
            missing.is_empty(),
            "round {round}: {} acknowledged alerts lost, first {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        );
        // The file may hold at most the one batch in flight beyond what was acknowledged, and
        // rolled-back work must not leave holes before the last acknowledged id.
        assert!(stored.len() >= all_alerts.len());
        let ban_ids: std::collections::HashSet<i64> = s
            .ban_history(None, MAX_QUERY_LIMIT)
            .unwrap()
            .into_iter()
            .map(|b| b.id)
            .collect();
        assert!(
            all_bans.len() < MAX_QUERY_LIMIT,
            "test bound: ban history fits one page"
        );
        for id in &all_bans {
            assert!(
                ban_ids.contains(id),
                "round {round}: acknowledged ban {id} lost"
            );
        }
        eprintln!(
            "round {round}: killed after {kill_after} acks; {} alerts / {} bans acknowledged so far, {} alerts stored, wal {} bytes",
            all_alerts.len(),
            all_bans.len(),
            stored.len(),
            wal_len
        );
    }
}

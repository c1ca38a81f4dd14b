//! Insert and query rates of the store, for bench/guard-results.md. Run:
//! `cargo run --release -p sipsentry-store --example store_bench [DIR]` (DIR: where the file
//! goes, default the system temp dir; use the disk the daemon will use).

use std::time::Instant;

use sipsentry_store::{AlertQuery, AlertRecord, BanRecord, Durability, OpenOptions, Store};

fn alert(i: u64) -> AlertRecord {
    AlertRecord {
        alert_id: "SIP-BRUTE-FORCE".into(),
        severity: "high".into(),
        source_ip: Some(format!("198.51.{}.{}", (i / 250) % 250, i % 250)),
        source_port: Some(5060),
        transport: Some("udp".into()),
        target: format!("sip:{}@pbx.example", i % 1000),
        first_seen_unix_ns: i as i64 * 1_000_000,
        last_seen_unix_ns: i as i64 * 1_000_000 + 5,
        count: 20,
        evidence: vec![
            "REGISTER 401 x20 in 10 s".into(),
            "User-Agent: friendly-scanner".into(),
        ],
        control: "rate-limit REGISTER per source".into(),
        action: "ban 10m".into(),
    }
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    println!("| durability | batch | alerts | seconds | alerts/s |\n|---|---|---|---|---|");
    for durability in [Durability::Normal, Durability::Full] {
        for batch in [1usize, 10, 100, 1000] {
            let path = dir.join(format!("ssg-store-bench-{}.db", std::process::id()));
            for ext in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
            }
            let mut s = Store::open_with(&path, &OpenOptions { durability }).unwrap();
            // bounded: at most 100k alerts, fewer for the slow single-row commits
            let total = if batch == 1 { 5_000u64 } else { 100_000 };
            let t0 = Instant::now();
            let mut i = 0u64;
            while i < total {
                let b: Vec<AlertRecord> = (i..(i + batch as u64).min(total)).map(alert).collect();
                s.insert_alerts(&b).unwrap();
                i += b.len() as u64;
            }
            let el = t0.elapsed().as_secs_f64();
            println!(
                "| {durability:?} | {batch} | {total} | {el:.2} | {:.0} |",
                total as f64 / el
            );
            if durability == Durability::Normal && batch == 1000 {
                let t0 = Instant::now();
                for _ in 0..100 {
                    let r = s
                        .alerts(&AlertQuery {
                            limit: 100,
                            ..Default::default()
                        })
                        .unwrap();
                    assert_eq!(r.len(), 100);
                }
                println!(
                    "\nnewest 100 alerts of {total}: {:.2} ms per query",
                    t0.elapsed().as_secs_f64() * 10.0
                );
                let t0 = Instant::now();
                for k in 0..1000i64 {
                    s.insert_ban(&BanRecord {
                        net: format!("10.0.{}.{}/32", k / 250, k % 250),
                        created_unix: k,
                        expires_unix: k + 600,
                        reason: "SIP-BRUTE-FORCE".into(),
                        source: "detector".into(),
                    })
                    .unwrap();
                }
                println!(
                    "1000 insert_ban: {:.0} bans/s",
                    1000.0 / t0.elapsed().as_secs_f64()
                );
                println!(
                    "\n| durability | batch | alerts | seconds | alerts/s |\n|---|---|---|---|---|"
                );
            }
            drop(s);
            for ext in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
            }
        }
    }
}

use super::*;

fn alert(id: &str, ip: &str, last_ns: i64) -> AlertRecord {
    AlertRecord {
        alert_id: id.into(),
        severity: "high".into(),
        source_ip: Some(ip.into()),
        source_port: Some(5060),
        transport: Some("udp".into()),
        target: "sip:100@pbx.example".into(),
        first_seen_unix_ns: last_ns - 1_000,
        last_seen_unix_ns: last_ns,
        count: 42,
        evidence: vec![
            "REGISTER 401 x42".into(),
            "User-Agent: friendly-scanner".into(),
        ],
        control: "rate-limit REGISTER".into(),
        action: "ban".into(),
    }
}

fn ban(net: &str, created: i64, expires: i64) -> BanRecord {
    BanRecord {
        net: net.into(),
        created_unix: created,
        expires_unix: expires,
        reason: "SIP-BRUTE-FORCE".into(),
        source: "detector".into(),
    }
}

const S: i64 = 1_000_000_000;

#[test]
fn alerts_round_trip_all_fields() {
    let mut s = Store::open_in_memory().unwrap();
    let mut a = alert("SIP-SCANNER", "203.0.113.5", 1_700_000_000 * S);
    a.source_port = None;
    a.transport = None;
    let b = alert("SIP-BRUTE-FORCE", "2001:db8::7", 1_700_000_001 * S);
    let ids = s.insert_alerts(&[a.clone(), b.clone()]).unwrap();
    assert_eq!(ids.len(), 2);
    assert!(ids[1] > ids[0]);
    let got = s.alerts(&AlertQuery::default()).unwrap();
    assert_eq!(got.len(), 2);
    // newest first
    assert_eq!(
        got[0],
        StoredAlert {
            id: ids[1],
            alert: b
        }
    );
    assert_eq!(
        got[1],
        StoredAlert {
            id: ids[0],
            alert: a
        }
    );
    assert_eq!(s.alert_count().unwrap(), 2);
}

#[test]
fn empty_insert_is_ok_and_returns_no_ids() {
    let mut s = Store::open_in_memory().unwrap();
    assert!(s.insert_alerts(&[]).unwrap().is_empty());
    assert_eq!(s.alert_count().unwrap(), 0);
}

#[test]
fn alert_filters_since_id_source_and_cursor() {
    let mut s = Store::open_in_memory().unwrap();
    let mut recs = Vec::new();
    for i in 0..30i64 {
        let id = if i % 3 == 0 {
            "SIP-SCANNER"
        } else {
            "SIP-BRUTE-FORCE"
        };
        let ip = format!("198.51.100.{}", i % 5);
        recs.push(alert(id, &ip, (1_000 + i) * S));
    }
    let ids = s.insert_alerts(&recs).unwrap();

    let since = s
        .alerts(&AlertQuery {
            since_unix_ns: Some(1_020 * S),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(since.len(), 10);
    assert!(since.iter().all(|a| a.alert.last_seen_unix_ns >= 1_020 * S));

    let scanners = s
        .alerts(&AlertQuery {
            alert_id: Some("SIP-SCANNER".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(scanners.len(), 10);
    assert!(scanners.iter().all(|a| a.alert.alert_id == "SIP-SCANNER"));

    let one_src = s
        .alerts(&AlertQuery {
            source_ip: Some("198.51.100.2".into()),
            alert_id: Some("SIP-BRUTE-FORCE".into()),
            ..Default::default()
        })
        .unwrap();
    // i in 0..30 with i%5==2 and i%3!=0: 2,7,17,22 (12 and 27 are scanners)
    assert_eq!(one_src.len(), 4);

    let limited = s
        .alerts(&AlertQuery {
            limit: 3,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        limited.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![ids[29], ids[28], ids[27]]
    );

    // Cursor: oldest first after the given id.
    let tail = s
        .alerts(&AlertQuery {
            after_id: Some(ids[25]),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        tail.iter().map(|a| a.id).collect::<Vec<_>>(),
        ids[26..].to_vec()
    );
}

#[test]
fn query_limit_is_capped() {
    assert_eq!(effective_limit(0), DEFAULT_QUERY_LIMIT);
    assert_eq!(effective_limit(usize::MAX), MAX_QUERY_LIMIT);
    assert_eq!(effective_limit(7), 7);
}

#[test]
fn hostile_alert_text_is_capped() {
    let mut s = Store::open_in_memory().unwrap();
    let mut a = alert("SIP-SCANNER", "203.0.113.9", S);
    // multi-byte chars so the cut has to find a boundary
    a.target = "é".repeat(MAX_TEXT);
    a.evidence = (0..1000).map(|i| format!("line {i}")).collect();
    a.count = u64::MAX;
    s.insert_alerts(&[a]).unwrap();
    let got = &s.alerts(&AlertQuery::default()).unwrap()[0].alert;
    assert!(got.target.len() <= MAX_TEXT);
    assert!(got.target.chars().all(|c| c == 'é'));
    assert_eq!(got.evidence.len(), MAX_EVIDENCE_ITEMS);
    assert_eq!(got.count, i64::MAX as u64);
}

#[test]
fn ban_round_trip_and_active_window() {
    let mut s = Store::open_in_memory().unwrap();
    let id = s.insert_ban(&ban("203.0.113.5/32", 100, 200)).unwrap();
    let v6 = s.insert_ban(&ban("2001:db8::/64", 100, 1_000)).unwrap();
    let active = s.active_bans(150).unwrap();
    assert_eq!(active.len(), 2);
    assert_eq!(active[0].id, id);
    assert_eq!(active[0].net, "203.0.113.5/32");
    assert_eq!(active[0].state, BanState::Active);
    assert_eq!(active[0].reason, "SIP-BRUTE-FORCE");
    assert_eq!(active[0].source, "detector");
    assert_eq!(active[1].id, v6);
    // at its expiry instant the ban is no longer in force
    assert_eq!(s.active_bans(200).unwrap().len(), 1);
    assert!(s.active_ban("203.0.113.5/32", 199).unwrap().is_some());
    assert!(s.active_ban("203.0.113.5/32", 200).unwrap().is_none());
}

#[test]
fn expire_marks_and_returns_only_due_bans() {
    let mut s = Store::open_in_memory().unwrap();
    s.insert_ban(&ban("192.0.2.1/32", 0, 10)).unwrap();
    s.insert_ban(&ban("192.0.2.2/32", 0, 20)).unwrap();
    s.insert_ban(&ban("192.0.2.3/32", 0, i64::MAX)).unwrap();
    let e = s.expire_bans(15).unwrap();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].net, "192.0.2.1/32");
    assert_eq!(e[0].state, BanState::Expired);
    assert_eq!(e[0].ended_unix, Some(10));
    // idempotent
    assert!(s.expire_bans(15).unwrap().is_empty());
    let e = s.expire_bans(1_000_000).unwrap();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].net, "192.0.2.2/32");
    let active = s.active_bans(1_000_000).unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].net, "192.0.2.3/32");
    let hist = s.ban_history(Some("192.0.2.1/32"), 0).unwrap();
    assert_eq!(hist.len(), 1);
    assert_eq!(hist[0].state, BanState::Expired);
    assert_eq!(hist[0].end_reason.as_deref(), Some("expired"));
}

#[test]
fn remove_ban_ends_it_once() {
    let mut s = Store::open_in_memory().unwrap();
    s.insert_ban(&ban("192.0.2.9/32", 0, 100)).unwrap();
    assert!(s
        .remove_ban("192.0.2.9/32", 50, "operator: false positive")
        .unwrap());
    assert!(!s.remove_ban("192.0.2.9/32", 51, "again").unwrap());
    assert!(!s.remove_ban("192.0.2.10/32", 51, "never banned").unwrap());
    assert!(s.active_bans(60).unwrap().is_empty());
    let h = &s.ban_history(Some("192.0.2.9/32"), 10).unwrap()[0];
    assert_eq!(h.state, BanState::Removed);
    assert_eq!(h.ended_unix, Some(50));
    assert_eq!(h.end_reason.as_deref(), Some("operator: false positive"));
    // a removed ban is not "expired" later
    assert!(s.expire_bans(1_000).unwrap().is_empty());
}

#[test]
fn reban_of_active_net_extends_instead_of_duplicating() {
    let mut s = Store::open_in_memory().unwrap();
    let a = s.insert_ban(&ban("198.51.100.7/32", 100, 200)).unwrap();
    let b = s.insert_ban(&ban("198.51.100.7/32", 150, 400)).unwrap();
    assert_eq!(a, b);
    // a shorter re-ban never shortens
    let c = s.insert_ban(&ban("198.51.100.7/32", 160, 170)).unwrap();
    assert_eq!(a, c);
    let act = s.active_bans(160).unwrap();
    assert_eq!(act.len(), 1);
    assert_eq!(act[0].expires_unix, 400);
    assert_eq!(s.prior_ban_count("198.51.100.7/32", 0).unwrap(), 1);
}

#[test]
fn reban_after_unswept_expiry_is_a_new_offence() {
    let mut s = Store::open_in_memory().unwrap();
    let a = s.insert_ban(&ban("198.51.100.8/32", 100, 200)).unwrap();
    // expire_bans() has not run yet, but the old ban is over at 250
    let b = s.insert_ban(&ban("198.51.100.8/32", 250, 500)).unwrap();
    assert_ne!(a, b);
    let hist = s.ban_history(Some("198.51.100.8/32"), 10).unwrap();
    assert_eq!(hist.len(), 2);
    assert_eq!(hist[1].state, BanState::Expired);
    assert_eq!(hist[0].state, BanState::Active);
    assert_eq!(s.prior_ban_count("198.51.100.8/32", 0).unwrap(), 2);
}

#[test]
fn recidive_count_respects_window_and_net() {
    let mut s = Store::open_in_memory().unwrap();
    for k in 0..4i64 {
        let t = k * 1_000;
        s.insert_ban(&ban("203.0.113.77/32", t, t + 100)).unwrap();
        s.expire_bans(t + 100).unwrap();
    }
    s.insert_ban(&ban("203.0.113.78/32", 0, 100)).unwrap();
    assert_eq!(s.prior_ban_count("203.0.113.77/32", 0).unwrap(), 4);
    assert_eq!(s.prior_ban_count("203.0.113.77/32", 1_000).unwrap(), 3);
    assert_eq!(s.prior_ban_count("203.0.113.77/32", 3_001).unwrap(), 0);
    assert_eq!(s.prior_ban_count("203.0.113.78/32", 0).unwrap(), 1);
    assert_eq!(s.prior_ban_count("192.0.2.1/32", 0).unwrap(), 0);
    // removed bans still count as offences
    s.insert_ban(&ban("203.0.113.79/32", 10, 100)).unwrap();
    s.remove_ban("203.0.113.79/32", 20, "manual").unwrap();
    assert_eq!(s.prior_ban_count("203.0.113.79/32", 0).unwrap(), 1);
}

#[test]
fn invalid_bans_are_rejected() {
    let mut s = Store::open_in_memory().unwrap();
    for net in [
        "",
        "203.0.113.5/32; DROP TABLE bans",
        "x".repeat(100).as_str(),
        "evil.example/32",
    ] {
        assert!(
            matches!(
                s.insert_ban(&ban(net, 0, 10)),
                Err(StoreError::Invalid { field: "net", .. })
            ),
            "{net:?} accepted"
        );
    }
    assert!(matches!(
        s.insert_ban(&ban("192.0.2.1/32", 10, 5)),
        Err(StoreError::Invalid {
            field: "expires_unix",
            ..
        })
    ));
    assert!(s.ban_history(None, 0).unwrap().is_empty());
}

#[test]
fn source_stats_upsert_adds_and_saturates() {
    let mut s = Store::open_in_memory().unwrap();
    let row = |src: &str, bucket, m, f, a, last| SourceStat {
        source: src.into(),
        bucket_unix: bucket,
        messages: m,
        failures: f,
        alerts: a,
        last_seen_unix: last,
    };
    s.add_source_stats(&[
        row("203.0.113.5", 3600, 10, 5, 1, 3700),
        row("198.51.100.1", 3600, 100, 0, 0, 3650),
    ])
    .unwrap();
    s.add_source_stats(&[
        row("203.0.113.5", 3600, 7, 3, 0, 3690),
        row("203.0.113.5", 7200, 1, 1, 1, 7201),
    ])
    .unwrap();
    let st = s.source_stats("203.0.113.5", 0).unwrap();
    assert_eq!(
        st,
        vec![
            row("203.0.113.5", 3600, 17, 8, 1, 3700),
            row("203.0.113.5", 7200, 1, 1, 1, 7201)
        ]
    );
    let top = s.top_sources(0, 10).unwrap();
    assert_eq!(top[0].source, "203.0.113.5");
    assert_eq!(
        (
            top[0].messages,
            top[0].failures,
            top[0].alerts,
            top[0].last_seen_unix
        ),
        (18, 9, 2, 7201)
    );
    assert_eq!(top[1].source, "198.51.100.1");
    assert_eq!(s.top_sources(7200, 10).unwrap().len(), 1);

    s.add_source_stats(&[row("x", 0, u64::MAX, 0, 0, 0)])
        .unwrap();
    s.add_source_stats(&[row("x", 0, u64::MAX, 0, 0, 0)])
        .unwrap();
    assert_eq!(s.source_stats("x", 0).unwrap()[0].messages, i64::MAX as u64);
}

#[test]
fn prune_applies_retention_but_keeps_active_bans() {
    let mut s = Store::open_in_memory().unwrap();
    s.insert_alerts(&[
        alert("A", "192.0.2.1", 50 * S),
        alert("B", "192.0.2.2", 150 * S),
    ])
    .unwrap();
    s.insert_ban(&ban("192.0.2.1/32", 10, 60)).unwrap(); // expires at 60 -> prunable
    s.insert_ban(&ban("192.0.2.2/32", 10, 5_000)).unwrap(); // active -> kept
    s.insert_ban(&ban("192.0.2.3/32", 10, 5_000)).unwrap();
    s.remove_ban("192.0.2.3/32", 120, "manual").unwrap(); // ended at 120 -> kept (>= 100)
    s.expire_bans(70).unwrap();
    s.add_source_stats(&[
        SourceStat {
            source: "192.0.2.1".into(),
            bucket_unix: 0,
            messages: 1,
            failures: 1,
            alerts: 0,
            last_seen_unix: 50,
        },
        SourceStat {
            source: "192.0.2.1".into(),
            bucket_unix: 100,
            messages: 1,
            failures: 1,
            alerts: 0,
            last_seen_unix: 150,
        },
    ])
    .unwrap();
    let c = s.prune(100).unwrap();
    assert_eq!(
        c,
        PruneCounts {
            alerts: 1,
            bans: 1,
            source_stats: 1
        }
    );
    let left = s.alerts(&AlertQuery::default()).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].alert.alert_id, "B");
    let hist: Vec<String> = s
        .ban_history(None, 0)
        .unwrap()
        .into_iter()
        .map(|b| b.net)
        .collect();
    assert_eq!(
        hist,
        vec!["192.0.2.3/32".to_string(), "192.0.2.2/32".to_string()]
    );
    // even a far-future prune never deletes an active ban
    s.prune(i64::MAX).unwrap();
    assert_eq!(s.active_bans(200).unwrap().len(), 1);
    assert_eq!(s.prune(100).unwrap(), PruneCounts::default());
}

#[test]
fn file_store_is_wal_and_persists_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("guard.db");
    {
        let mut s = Store::open(&p).unwrap();
        let mode: String = s
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = s
            .conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 1, "NORMAL");
        let av: i64 = s
            .conn
            .query_row("PRAGMA auto_vacuum", [], |r| r.get(0))
            .unwrap();
        assert_eq!(av, 2, "INCREMENTAL");
        s.insert_alerts(&[alert("SIP-SCANNER", "192.0.2.1", S)])
            .unwrap();
        s.insert_ban(&ban("192.0.2.1/32", 0, 100)).unwrap();
    }
    let s = Store::open(&p).unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(s.alert_count().unwrap(), 1);
    assert_eq!(s.active_bans(1).unwrap().len(), 1);
    s.integrity_check().unwrap();
}

#[test]
fn full_durability_option_sets_synchronous_full() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open_with(
        &dir.path().join("f.db"),
        &OpenOptions {
            durability: Durability::Full,
        },
    )
    .unwrap();
    let sync: i64 = s
        .conn
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sync, 2);
}

#[test]
fn read_only_connection_sees_writer_commits_and_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("guard.db");
    let mut w = Store::open(&p).unwrap();
    let mut r = Store::open_read_only(&p).unwrap();
    w.insert_alerts(&[alert("SIP-SCANNER", "192.0.2.1", S)])
        .unwrap();
    assert_eq!(r.alerts(&AlertQuery::default()).unwrap().len(), 1);
    assert!(matches!(
        r.insert_ban(&ban("192.0.2.1/32", 0, 9)),
        Err(StoreError::Sqlite(_))
    ));
}

#[test]
fn read_only_open_of_missing_file_fails() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        Store::open_read_only(&dir.path().join("none.db")),
        Err(StoreError::Open { .. })
    ));
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("future.db");
    {
        let s = Store::open(&p).unwrap();
        s.conn.execute_batch("PRAGMA user_version = 99").unwrap();
    }
    assert!(matches!(
        Store::open(&p),
        Err(StoreError::SchemaTooNew {
            found: 99,
            supported: SCHEMA_VERSION
        })
    ));
    assert!(matches!(
        Store::open_read_only(&p),
        Err(StoreError::SchemaTooNew { .. })
    ));
}

#[test]
fn read_only_open_of_unmigrated_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("old.db");
    Connection::open(&p)
        .unwrap()
        .execute_batch("CREATE TABLE t(x)")
        .unwrap();
    assert!(matches!(
        Store::open_read_only(&p),
        Err(StoreError::SchemaTooOld { found: 0, .. })
    ));
}

#[test]
fn garbage_file_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("garbage.db");
    std::fs::write(&p, vec![0xA5u8; 8192]).unwrap();
    let e = Store::open(&p).unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::Open { .. } | StoreError::Migration { .. } | StoreError::Sqlite(_)
        ),
        "{e}"
    );
}

#[test]
fn migrations_are_applied_once_and_concurrent_opens_agree() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("race.db");
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let p = p.clone();
            std::thread::spawn(move || Store::open(&p).map(|s| s.schema_version().unwrap()))
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap().unwrap(), SCHEMA_VERSION);
    }
}

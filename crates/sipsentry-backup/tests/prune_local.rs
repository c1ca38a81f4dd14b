//! Prune on a directory target: GFS policy applied, and a retention recorded in the manifest
//! (targets without object locks) is honoured.

mod common;

use sipsentry_backup::archive::{self, CreateOptions};
use sipsentry_backup::manifest::LockInfo;
use sipsentry_backup::retention::{self, Action, Policy};
use sipsentry_backup::target::LocalDir;
use sipsentry_backup::util;

#[test]
fn prune_honours_recorded_retention_and_policy() {
    let keys = common::keys();
    let src = tempfile::tempdir().unwrap();
    std::fs::write(src.path().join("a.conf"), "x=1\n").unwrap();
    let sources = vec![src.path().join("a.conf")];
    let store_dir = tempfile::tempdir().unwrap();
    let store = LocalDir::new(store_dir.path()).unwrap();
    let now = util::now_unix();
    let day = 86_400;
    let until = now + day;
    let mk = |at: i64, lock: Option<LockInfo>| {
        archive::create(
            &store,
            &CreateOptions {
                name: "pbx1",
                sources: &sources,
                encryption: &keys.encryption(),
                signer: &keys.signing,
                lock,
                staging_dir: None,
                now: Some(at),
            },
        )
        .unwrap()
        .id
    };
    let recorded = LockInfo {
        mode: "RECORDED".into(),
        retain_until: util::rfc3339(until),
        retain_until_unix: until,
    };
    // One backup a day for 10 days; the oldest one retained until tomorrow.
    let ids: Vec<String> = (0..10)
        .rev()
        .map(|d| mk(now - d * day, (d == 9).then(|| recorded.clone())))
        .collect();
    let policy = Policy {
        daily: 3,
        ..Policy::default()
    };
    let dry = retention::prune(&store, &policy, now, true).unwrap();
    assert!(dry
        .iter()
        .any(|d| d.action == Action::Delete { dry_run: true }));
    assert_eq!(
        archive::list_ids(&store).unwrap().len(),
        10,
        "dry run deletes nothing"
    );
    let d = retention::prune(&store, &policy, now, false).unwrap();
    let action = |id: &str| d.iter().find(|x| x.id == id).unwrap().action.clone();
    assert!(
        matches!(action(&ids[0]), Action::SkipLocked { .. }),
        "{d:?}"
    );
    for id in &ids[1..7] {
        assert_eq!(action(id), Action::Delete { dry_run: false });
    }
    for id in &ids[7..] {
        assert!(matches!(action(id), Action::Keep { .. }));
    }
    let left = archive::list_ids(&store).unwrap();
    assert_eq!(
        left,
        [&ids[0], &ids[7], &ids[8], &ids[9]].map(|s| s.clone())
    );
    // Only complete backups' objects remain (three per backup).
    assert_eq!(std::fs::read_dir(store_dir.path()).unwrap().count(), 12);
    // After the retention date the same policy deletes it.
    let d = retention::prune(&store, &policy, until + 1, false).unwrap();
    assert_eq!(
        d.iter().find(|x| x.id == ids[0]).unwrap().action,
        Action::Delete { dry_run: false }
    );
}

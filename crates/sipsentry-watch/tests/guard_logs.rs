//! The guard fed only by an Asterisk security log (res_security_log format, lines from
//! fail2ban's own test log with the addresses changed), followed like `tail -F` across both
//! rotation styles: rename (logrotate's default) and copytruncate.

mod common;
use common::*;
use std::io::Write;

const LINE: &str = "[2015-05-24 08:42:16] SECURITY[4583] res_security_log.c: SecurityEvent=\"ChallengeResponseFailed\",EventTV=\"2015-05-24T08:42:16.296+0300\",Severity=\"Error\",Service=\"PJSIP\",EventVersion=\"1\",AccountID=\"<unknown>\",SessionID=\"17a483d-eb8cc0-556164ab@1.2.3.4\",LocalAddress=\"IPV4/UDP/1.2.3.4/5060\",RemoteAddress=\"IPV4/UDP/ADDR/5060\",Challenge=\"1432446136/6d16ccf29ff59d423c6d548af00bf9b4\",Response=\"849dfcf133d8156f77ef11a9194119df\",ExpectedResponse=\"\"\n";

fn append(path: &std::path::Path, addr: &str, n: usize) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for _ in 0..n {
        f.write_all(LINE.replace("ADDR", addr).as_bytes()).unwrap();
    }
}

fn sources(api: std::net::SocketAddr) -> Vec<String> {
    let (_, body) = http(
        api,
        "GET",
        "/api/alerts?id=AUTH-BRUTEFORCE",
        Some("tok"),
        "",
    );
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut s: Vec<String> = v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["source_ip"].as_str().unwrap().to_string())
        .collect();
    s.sort();
    s
}

#[test]
fn asterisk_security_log_followed_across_rename_and_copytruncate() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tok", "tok");
    let log = dir.path().join("security.log");
    // Old lines: already there when the guard starts; like tail -F they are not replayed.
    append(&log, "198.51.100.6", 10);
    let cfg = write(
        dir.path(),
        "watch.toml",
        "[[inputs.log]]\npath = \"security.log\"\n[response]\nmode = \"off\"\n[alerts]\nstdout = false\n[store]\npath = \"g.db\"\n[api]\nlisten = \"127.0.0.1:0\"\ntoken_file = \"tok\"\n",
    );
    let cfg = sipsentry_watch::config::Config::load(&cfg).unwrap();
    let guard = sipsentry_watch::Guard::start(
        &cfg,
        Default::default(),
        Box::new(sipsentry_watch::NoEnforcer),
    )
    .unwrap();
    let api = guard.api.unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));

    append(&log, "198.51.100.7", 6);
    assert!(
        wait_for(10, || sources(api) == ["198.51.100.7"]),
        "{:?}",
        sources(api)
    );

    // logrotate (rename): the last lines of the old file and the new file are both read.
    append(&log, "198.51.100.8", 3);
    std::fs::rename(&log, dir.path().join("security.log.1")).unwrap();
    append(&log, "198.51.100.8", 3);
    assert!(
        wait_for(10, || sources(api).contains(&"198.51.100.8".to_string())),
        "{:?}",
        sources(api)
    );

    // copytruncate: the file shrinks under the reader.
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&log)
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    append(&log, "198.51.100.9", 6);
    assert!(
        wait_for(10, || sources(api).contains(&"198.51.100.9".to_string())),
        "{:?}",
        sources(api)
    );

    // journald/syslog-style lines (chan_sip NOTICE with a syslog prefix) in the same file.
    {
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        for _ in 0..6 {
            f.write_all(b"Nov  4 18:30:40 pbx asterisk[32229]: NOTICE[32257]: chan_sip.c:23417 in handle_request_register: Registration from '<sip:301@example.com>' failed for '198.51.100.10:36998' - Wrong password\n").unwrap();
        }
    }
    assert!(
        wait_for(10, || sources(api).contains(&"198.51.100.10".to_string())),
        "{:?}",
        sources(api)
    );

    assert!(
        !sources(api).contains(&"198.51.100.6".to_string()),
        "pre-existing lines replayed"
    );
    let (_, m) = http(api, "GET", "/metrics", None, "");
    assert!(
        m.contains("sipsentry_input_received_total{input=\"log\"} 24"),
        "{m}"
    );
    guard.stop();
}

#[test]
fn regression_log_input_on_a_fifo_hangs_shutdown() {
    // rsyslog's ompipe feeds a named pipe: opening it blocks until a writer appears and reads
    // block with no data, so the follower never sees the stop flag and `stop()` never returns.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pbx.pipe");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let p = write(
        dir.path(),
        "w.toml",
        &format!(
            "[[inputs.log]]\npath = \"{}\"\n[response]\nmode = \"off\"\n[alerts]\nstdout = false\n[store]\npath = \"g.db\"\n[api]\nlisten = \"\"\n",
            fifo.display()
        ),
    );
    let cfg = sipsentry_watch::config::Config::load(&p).unwrap();
    let started = sipsentry_watch::Guard::start(
        &cfg,
        sipsentry_detect::Policy::default(),
        Box::new(sipsentry_watch::NoEnforcer),
    );
    let Err(e) = started else {
        let (tx, rx) = std::sync::mpsc::channel();
        let g = started.ok().unwrap();
        std::thread::spawn(move || {
            g.stop();
            let _ = tx.send(());
        });
        let stopped = rx.recv_timeout(std::time::Duration::from_secs(5)).is_ok();
        panic!("a FIFO was accepted as a log input (stop returned: {stopped})");
    };
    let e = e.to_string();
    assert!(
        e.contains("inputs.log") && e.contains("regular file"),
        "{e}"
    );
}

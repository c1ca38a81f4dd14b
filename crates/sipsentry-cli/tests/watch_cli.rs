//! `sipsentry watch` configuration handling and the shipped service unit.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sipsentry"))
}

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

#[test]
fn example_configuration_checks_clean() {
    let out = bin()
        .args(["watch", "--check-config", "--config"])
        .arg(format!("{ROOT}/docs/watch.example.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("configuration OK"));
    assert!(stdout.contains("HEP/UDP 127.0.0.1:9060"));
    assert!(stdout.contains("policy.example.toml"));
}

#[test]
fn bad_key_is_named_with_its_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("w.toml");
    std::fs::write(
        &p,
        "[inputs.hep]\nudp = \"127.0.0.1:9060\"\n[response]\nmode = \"dry-run\"\ndry_rn = true\n",
    )
    .unwrap();
    let out = bin()
        .args(["watch", "--check-config", "--config"])
        .arg(&p)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("dry_rn") && err.contains("line 5"), "{err}");
    // A bad value names its key.
    std::fs::write(&p, "[response]\nprotect = [\"udp:70000\"]\n").unwrap();
    let out = bin()
        .args(["watch", "--check-config", "--config"])
        .arg(&p)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("response.protect[0]"), "{err}");
    // A policy with a bad key is caught at check time too.
    std::fs::write(dir.path().join("policy.toml"), "trusted_netwrks = []\n").unwrap();
    std::fs::write(&p, "policy = \"policy.toml\"\n[inputs.hep]\n").unwrap();
    let out = bin()
        .args(["watch", "--check-config", "--config"])
        .arg(&p)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("trusted_netwrks"), "{err}");
    // No input: refuses.
    std::fs::write(&p, "[response]\nmode = \"off\"\n").unwrap();
    let out = bin()
        .args(["watch", "--check-config", "--config"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn missing_config_file_is_a_clear_error() {
    let out = bin()
        .args(["watch", "--config", "/nonexistent/watch.toml"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("/nonexistent/watch.toml"), "{err}");
}

/// The unit runs the guard with only CAP_NET_ADMIN and CAP_NET_RAW, a read-only system and no
/// privilege escalation (issue 5: least privilege for the daemon).
#[test]
fn systemd_unit_is_least_privilege() {
    let unit =
        std::fs::read_to_string(format!("{ROOT}/dist/systemd/sipsentry-watch.service")).unwrap();
    for line in [
        "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW",
        "AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "DynamicUser=yes",
        "ExecStartPre=/usr/local/bin/sipsentry watch --config /etc/sipsentry/watch.toml --check-config",
    ] {
        assert!(unit.lines().any(|l| l == line), "missing {line:?}");
    }
    // Nothing grants more.
    assert!(!unit.contains("CAP_SYS_ADMIN"));
    assert!(!unit.lines().any(|l| l.starts_with("User=root")));
}

#[test]
fn ban_without_a_running_guard_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tok"), "t\n").unwrap();
    let p = dir.path().join("w.toml");
    // Nothing listens on this loopback address/port.
    std::fs::write(
        &p,
        "[api]\nlisten = \"127.0.0.47:9\"\ntoken_file = \"tok\"\n",
    )
    .unwrap();
    let out = bin()
        .args(["ban", "list", "--config"])
        .arg(&p)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("is `sipsentry watch` running?"), "{err}");
    // Without a token file the API is closed: say so instead of trying.
    std::fs::write(&p, "[api]\nlisten = \"127.0.0.47:9\"\n").unwrap();
    let out = bin()
        .args(["ban", "add", "198.51.100.1", "--config"])
        .arg(&p)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("api.token_file is not set"));
}

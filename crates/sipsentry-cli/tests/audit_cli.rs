//! `sipsentry audit` end to end: output formats, --fail-on exit codes, baseline and diff,
//! clear usage errors.

use std::path::{Path, PathBuf};
use std::process::Command;

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sipsentry-audit/tests/vectors")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sipsentry"))
        .arg("audit")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn p(rel: &str) -> String {
    vectors().join(rel).display().to_string()
}

#[test]
fn json_has_source_findings_and_score_and_fail_on_sets_the_exit_code() {
    let fs = p("pbx-samples/freeswitch/conf/vanilla");
    let (code, out, err) = run(&[
        "--freeswitch",
        &fs,
        "--format",
        "json",
        "--fail-on",
        "critical",
    ]);
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["source"], format!("freeswitch:{fs}"));
    assert_eq!(v["product"]["name"], "freeswitch");
    let f0 = &v["findings"][0];
    for k in [
        "id",
        "severity",
        "title",
        "evidence",
        "control",
        "remediation",
    ] {
        assert!(f0.get(k).is_some(), "finding lacks {k}");
    }
    assert_eq!(f0["severity"], "critical");
    assert!(
        v["score"]["areas"]["strong-passwords"]["score"]
            .as_u64()
            .unwrap()
            < 100
    );
    // Without --fail-on, findings do not fail the run.
    let (code, _, _) = run(&["--freeswitch", &fs]);
    assert_eq!(code, 0);
    // The hardened 3CX has nothing at or above info.
    let (code, out, err) = run(&["--3cx-export", &p("3cx-xapi/hardened"), "--fail-on", "info"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("no findings"), "{out}");
}

#[test]
fn sarif_markdown_and_html_render() {
    let weak = p("3cx-xapi/weak");
    let (code, out, _) = run(&["--3cx-export", &weak, "--format", "sarif"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert!(v["runs"][0]["results"].as_array().unwrap().len() >= 20);
    let (_, md, _) = run(&["--3cx-export", &weak, "--format", "markdown"]);
    assert!(
        md.starts_with("# sipsentry audit")
            && md.contains("3CX-ADMIN-NO-2FA")
            && md.contains("Score:")
    );
    let (_, html, _) = run(&["--3cx-export", &weak, "--format", "html"]);
    assert!(html.contains("<html") && html.contains("3CX-REMOTE-SUPPORT"));
}

#[test]
fn baseline_then_diff_reports_drift() {
    let dir = std::env::temp_dir().join(format!("sipsentry-cli-drift-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("ast");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(
        conf.join("manager.conf"),
        "[general]\nenabled=yes\nbindaddr=127.0.0.1\n",
    )
    .unwrap();
    std::fs::write(
        conf.join("logger.conf"),
        "[logfiles]\nsecurity.log => security\n",
    )
    .unwrap();
    let base = dir.join("base.json");
    let (code, _, err) = run(&[
        "--asterisk",
        conf.to_str().unwrap(),
        "--save-baseline",
        base.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    std::fs::write(
        conf.join("manager.conf"),
        "[general]\nenabled=yes\nbindaddr=0.0.0.0\n",
    )
    .unwrap();
    let (code, out, err) = run(&[
        "--asterisk",
        conf.to_str().unwrap(),
        "--diff",
        base.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "medium",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let drift = v["drift"].as_array().unwrap();
    assert_eq!(drift.len(), 1);
    assert_eq!(drift[0]["key"], "ast.manager.bindaddr");
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"DRIFT-CHANGED") && ids.contains(&"AST-AMI-EXPOSED"),
        "{ids:?}"
    );
    assert!(
        v["score"]["areas"]["change-review"]["score"]
            .as_u64()
            .unwrap()
            < 100
    );
}

#[test]
fn usage_errors_exit_2_with_clear_messages() {
    let (code, _, err) = run(&[]);
    assert_eq!(code, 2);
    assert!(err.contains("nothing to audit"), "{err}");
    let pol =
        std::env::temp_dir().join(format!("sipsentry-bad-policy-{}.toml", std::process::id()));
    std::fs::write(&pol, "[lockout]\nmax_failed_aut = 3\n").unwrap();
    let (code, _, err) = run(&[
        "--3cx-export",
        &p("3cx-xapi/weak"),
        "--policy",
        pol.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_file(&pol);
    assert_eq!(code, 2);
    assert!(err.contains("max_failed_aut"), "{err}");
    let (code, _, err) = run(&["--asterisk", "/nonexistent/dir"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a directory"), "{err}");
    let (code, _, err) = run(&["--3cx-url", "http://127.0.0.78:1", "--3cx-client-id", "x"]);
    assert_eq!(code, 2);
    assert!(err.contains("SIPSENTRY_3CX_SECRET"), "{err}");
    let (code, _, err) = run(&["--iptables-save", "/nonexistent/rules"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot open /nonexistent/rules"), "{err}");
    let (code, _, _) = run(&["--fail-on", "hgh", "--host"]);
    assert_eq!(code, 2);
}

/// A minimal XAPI stand-in serving the weak fixtures (spec-validated in sipsentry-audit's
/// tests) so the CLI's live path (`--3cx-url`, secret from the environment, `--3cx-save-export`)
/// runs end to end. Not a live 3CX.
fn serve_weak_3cx() -> (String, std::thread::JoinHandle<()>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.79:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let h = std::thread::spawn(move || {
        // Bounded: one token request plus one request per endpoint.
        for conn in l
            .incoming()
            .take(1 + sipsentry_audit::threecx::ENDPOINTS.len())
        {
            let Ok(mut conn) = conn else { continue };
            let mut r = BufReader::new(conn.try_clone().unwrap());
            let mut first = String::new();
            r.read_line(&mut first).unwrap();
            let mut len = 0;
            let mut auth = String::new();
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).unwrap() == 0 || h == "\r\n" {
                    break;
                }
                let lower = h.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
                if lower.starts_with("authorization:") {
                    auth = h.trim().to_string();
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            let target = first.split_whitespace().nth(1).unwrap_or("").to_string();
            let (status, out) = if target == "/connect/token" {
                if String::from_utf8_lossy(&body).contains("client_secret=s3cret-from-env") {
                    (
                        200,
                        r#"{"token_type":"Bearer","expires_in":3600,"access_token":"t1"}"#
                            .to_string(),
                    )
                } else {
                    (400, r#"{"error":"invalid_client"}"#.to_string())
                }
            } else if auth != "Authorization: Bearer t1" {
                (401, String::new())
            } else {
                let p = target.trim_start_matches("/xapi/v1");
                let p = p.split('?').next().unwrap_or("");
                let name = sipsentry_audit::threecx::ENDPOINTS
                    .iter()
                    .find(|(_, ep)| ep.split('?').next() == Some(p))
                    .map(|(n, _)| *n)
                    .unwrap_or("none");
                match std::fs::read_to_string(vectors().join(format!("3cx-xapi/weak/{name}.json")))
                {
                    Ok(t) => (200, t),
                    Err(_) => (404, String::new()),
                }
            };
            let _ = write!(
                conn,
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{out}",
                out.len()
            );
        }
    });
    (url, h)
}

#[test]
fn live_3cx_path_with_secret_from_the_environment() {
    let (url, h) = serve_weak_3cx();
    let save =
        std::env::temp_dir().join(format!("sipsentry-cli-3cx-export-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_sipsentry"))
        .args([
            "audit",
            "--3cx-url",
            &url,
            "--3cx-client-id",
            "audit",
            "--format",
            "json",
        ])
        .arg("--3cx-save-export")
        .arg(&save)
        .env("SIPSENTRY_3CX_SECRET", "s3cret-from-env")
        .output()
        .unwrap();
    h.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("s3cret-from-env"));
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["source"], format!("3cx:{url}"));
    assert_eq!(v["product"]["version"], "20.0.4.941");
    assert!(v["findings"].as_array().unwrap().len() >= 20);
    // The saved export audits the same offline.
    let (code, out2, _) = run(&["--3cx-export", save.to_str().unwrap(), "--format", "json"]);
    let _ = std::fs::remove_dir_all(&save);
    assert_eq!(code, 0);
    let v2: serde_json::Value = serde_json::from_str(&out2).unwrap();
    assert_eq!(v2["findings"], v["findings"]);
}

/// The CVE table shared with `scan` (crates/sipsentry-cve) judges the audited PBX's version:
/// config directories carry none, so it is given with --pbx-version.
#[test]
fn known_cves_for_the_given_version() {
    let dir = p("pbx-samples/asterisk/configs/samples");
    let (code, out, err) = run(&[
        "--asterisk",
        &dir,
        "--pbx-version",
        "16.2.0",
        "--format",
        "json",
    ]);
    assert!(code == 0 || code == 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let cves: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["id"] == "PBX-KNOWN-CVE")
        .map(|f| f["title"].as_str().unwrap())
        .collect();
    assert!(
        cves.iter().any(|t| t.contains("CVE-2023-49786")),
        "{cves:?}"
    );
    // A fixed version has none of them.
    let (_, out, _) = run(&[
        "--asterisk",
        &dir,
        "--pbx-version",
        "99.0.0",
        "--format",
        "json",
    ]);
    assert!(!out.contains("PBX-KNOWN-CVE"));
    // Bad input is a usage error, not a silent pass.
    let (code, _, err) = run(&["--asterisk", &dir, "--pbx-version", "16.x"]);
    assert_eq!(code, 2);
    assert!(err.contains("--pbx-version"), "{err}");
}

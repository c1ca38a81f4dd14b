//! The SigV4 signer agrees with botocore's (the AWS SDK's reference implementation, installed
//! with moto) on the request shapes sipsentry sends: object keys with spaces, `+`, `=` and
//! non-ASCII, value-less query parameters (`?versions`, `?uploads`, `?retention`), pagination
//! tokens, and Object Lock / checksum headers.
//!
//! Why: moto does not check signatures, so the S3 tests alone would not catch a signer bug that
//! real S3 rejects.

use sipsentry_backup::s3::{sigv4_authorization, uri_encode, Credentials, SignRequest};
use std::io::Write;
use std::process::{Command, Stdio};

struct Case {
    method: &'static str,
    path: &'static str,
    query: Vec<(&'static str, &'static str)>,
    extra: Vec<(&'static str, &'static str)>,
    payload: &'static str,
}

#[test]
fn signatures_match_botocore() {
    let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let cases = vec![
        Case {
            method: "GET",
            path: "/pbx-backups/pbx1/a b+c=d.tar.age",
            query: vec![("versionId", "3/L4kqtJl40Nr8X8gdRQBpUMLUo+=")],
            extra: vec![],
            payload: empty,
        },
        Case {
            method: "PUT",
            path: "/pbx-backups/pbx1/pbx1-20260101T023000Z.tar.age",
            query: vec![],
            extra: vec![
                ("x-amz-object-lock-mode", "COMPLIANCE"),
                (
                    "x-amz-object-lock-retain-until-date",
                    "2026-02-05T02:30:00Z",
                ),
                ("x-amz-sdk-checksum-algorithm", "SHA256"),
                (
                    "x-amz-checksum-sha256",
                    "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
                ),
            ],
            payload: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        },
        Case {
            method: "GET",
            path: "/pbx-backups",
            query: vec![
                ("list-type", "2"),
                ("prefix", "pbx1/"),
                (
                    "continuation-token",
                    "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=",
                ),
            ],
            extra: vec![],
            payload: empty,
        },
        Case {
            method: "GET",
            path: "/pbx-backups",
            query: vec![("prefix", "pbx1/x.manifest.json"), ("versions", "")],
            extra: vec![],
            payload: empty,
        },
        Case {
            method: "POST",
            path: "/pbx-backups/pbx1/big.tar.age",
            query: vec![("uploads", "")],
            extra: vec![("x-amz-checksum-algorithm", "SHA256")],
            payload: empty,
        },
        Case {
            method: "PUT",
            path: "/pbx-backups/pbx1/big.tar.age",
            query: vec![("retention", ""), ("versionId", "abc")],
            extra: vec![],
            payload: empty,
        },
        Case {
            method: "DELETE",
            path: "/pbx-backups/Zentrale Büro/é.tar.age",
            query: vec![("versionId", "v1")],
            extra: vec![],
            payload: empty,
        },
    ];
    let creds = Credentials::new(
        "AKIDEXAMPLE".into(),
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        None,
    );
    let amz_date = "20260101T023000Z";
    let host = "s3.eu-central-1.amazonaws.com";
    let mut ours = Vec::new();
    let mut lines = String::new();
    for c in &cases {
        let canonical_uri = uri_encode(c.path, true);
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), host.into()),
            ("x-amz-date".into(), amz_date.into()),
            ("x-amz-content-sha256".into(), c.payload.into()),
        ];
        headers.extend(c.extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let query: Vec<(String, String)> = c
            .query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let auth = sigv4_authorization(
            &creds,
            "eu-central-1",
            &SignRequest {
                method: c.method,
                canonical_uri: &canonical_uri,
                query: &query,
                headers: &headers,
                payload_sha256_hex: c.payload,
                amz_date,
            },
        );
        ours.push(auth.rsplit("Signature=").next().unwrap().to_string());
        let qs = query
            .iter()
            .map(|(k, v)| {
                if v.is_empty() {
                    uri_encode(k, false)
                } else {
                    format!("{}={}", uri_encode(k, false), uri_encode(v, false))
                }
            })
            .collect::<Vec<_>>()
            .join("&");
        let url = format!(
            "https://{host}{canonical_uri}{}{qs}",
            if qs.is_empty() { "" } else { "?" }
        );
        let hmap: serde_json::Map<String, serde_json::Value> = headers
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        lines.push_str(
            &serde_json::json!({
                "method": c.method, "url": url, "headers": hmap, "amz_date": amz_date,
                "region": "eu-central-1", "access": "AKIDEXAMPLE", "secret": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            })
            .to_string(),
        );
        lines.push('\n');
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sigv4_botocore.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 needed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(lines.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "botocore reference failed (pip install 'moto[server]' brings botocore): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(
            a, b,
            "case {i} ({} {}) differs from botocore",
            cases[i].method, cases[i].path
        );
    }
    assert_eq!(theirs.len(), cases.len());
}

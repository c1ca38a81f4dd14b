//! S3-compatible object storage with Object Lock, over plain HTTP(S) with a small SigV4 signer.
//!
//! Why not an SDK: the operations needed are eight requests (put, get, head, list, list
//! versions, delete, create bucket, get retention); the signer is ~60 lines, and an SDK would
//! triple the dependency tree.
//!
//! Immutability comes from the bucket: it must be created with Object Lock enabled (which also
//! enables versioning). Each archive, manifest and signature is PUT with
//! `x-amz-object-lock-mode` and `x-amz-object-lock-retain-until-date`, so until that date the
//! storage refuses to delete the object version, and a PUT to the same key only adds a new
//! version on top. The manifest records the archive's version ID, so verification reads the
//! version that was written.

use crate::manifest::LockInfo;
use crate::target::{LockState, ObjectInfo, Target, TargetError};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

/// Error bodies and listing pages are small; cap what is read of them.
const MAX_XML: u64 = 8 << 20;
/// Bounded pagination: at most this many list pages (1000 keys each).
const MAX_PAGES: usize = 1000;

/// Access key pair; the secret never appears in `Debug` or errors.
#[derive(Clone)]
pub struct Credentials {
    pub access_key: String,
    secret_key: String,
    pub session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Credentials {{ access_key: {}, secret_key: <redacted> }}",
            self.access_key
        )
    }
}

impl Credentials {
    pub fn new(access_key: String, secret_key: String, session_token: Option<String>) -> Self {
        Self {
            access_key,
            secret_key,
            session_token,
        }
    }
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, optional `AWS_SESSION_TOKEN`.
    pub fn from_env() -> Option<Self> {
        let a = std::env::var("AWS_ACCESS_KEY_ID")
            .ok()
            .filter(|s| !s.is_empty())?;
        let s = std::env::var("AWS_SECRET_ACCESS_KEY")
            .ok()
            .filter(|s| !s.is_empty())?;
        Some(Self::new(
            a,
            s,
            std::env::var("AWS_SESSION_TOKEN")
                .ok()
                .filter(|s| !s.is_empty()),
        ))
    }
    /// A file of `KEY=value` lines with the same three names (shell-env style).
    pub fn from_file(path: &Path) -> Result<Self, TargetError> {
        let bad = |why: &str| TargetError::Config(format!("{}: {why}", path.display()));
        let meta = std::fs::metadata(path).map_err(|e| bad(&e.to_string()))?;
        if meta.len() > 64 << 10 {
            return Err(bad("larger than 64 KiB"));
        }
        let text = std::fs::read_to_string(path).map_err(|e| bad(&e.to_string()))?;
        let mut a = None;
        let mut s = None;
        let mut t = None;
        for line in text.lines() {
            let line = line.trim().trim_start_matches("export ").trim();
            if let Some((k, v)) = line.split_once('=') {
                let v = v.trim().trim_matches('"').trim_matches('\'').to_string();
                match k.trim() {
                    "AWS_ACCESS_KEY_ID" => a = Some(v),
                    "AWS_SECRET_ACCESS_KEY" => s = Some(v),
                    "AWS_SESSION_TOKEN" => t = Some(v),
                    _ => {}
                }
            }
        }
        match (a, s) {
            (Some(a), Some(s)) => Ok(Self::new(a, s, t)),
            _ => Err(bad(
                "needs AWS_ACCESS_KEY_ID= and AWS_SECRET_ACCESS_KEY= lines",
            )),
        }
    }
}

/// A bucket (and key prefix) on an S3-compatible endpoint, path-style addressing.
pub struct S3Target {
    endpoint: String,
    region: String,
    bucket: String,
    prefix: String,
    creds: Credentials,
    agent: ureq::Agent,
    part_size: u64,
}

/// Archives up to this size go in one PUT; larger ones in parts of this size (S3 caps a single
/// PUT at 5 GiB and a multipart upload at 10 000 parts, so 512 MiB parts reach ~5 TB).
pub const DEFAULT_PART_SIZE: u64 = 512 << 20;
/// S3's smallest allowed part (except the last).
pub const MIN_PART_SIZE: u64 = 5 << 20;
const MAX_PARTS: u64 = 10_000;

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    m.update(msg);
    m.finalize().into_bytes().into()
}

/// RFC 3986 percent-encoding as SigV4 wants it (`/` kept in paths only).
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// SigV4 `Authorization` header value for one request.
///
/// One request to sign.
pub struct SignRequest<'a> {
    pub method: &'a str,
    /// Already URI-encoded path.
    pub canonical_uri: &'a str,
    pub query: &'a [(String, String)],
    /// (lower-case name, value) pairs, all signed; `host` must be among them.
    pub headers: &'a [(String, String)],
    pub payload_sha256_hex: &'a str,
    /// `YYYYMMDDTHHMMSSZ`.
    pub amz_date: &'a str,
}

pub fn sigv4_authorization(creds: &Credentials, region: &str, r: &SignRequest<'_>) -> String {
    let SignRequest {
        method,
        canonical_uri,
        query,
        headers,
        payload_sha256_hex,
        amz_date,
    } = *r;
    let mut q: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
        .collect();
    q.sort();
    let canonical_query = q
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut h: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    h.sort();
    let canonical_headers: String = h.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed_headers = h
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "{method}\n{canonical_uri}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload_sha256_hex}"
    );
    let date = &amz_date[..8];
    let scope = format!("{date}/{region}/s3/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let k_date = hmac(
        format!("AWS4{}", creds.secret_key).as_bytes(),
        date.as_bytes(),
    );
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, b"s3");
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = hex::encode(hmac(&k_signing, string_to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.access_key
    )
}

/// Text of the first `<tag>…</tag>` in `xml`, entity-decoded.
fn xml_tag(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&close)? + start;
    Some(xml_unescape(&xml[start..end]))
}

/// Every `<tag>…</tag>` block.
fn xml_blocks<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(s) = rest.find(&open) {
        let body = &rest[s + open.len()..];
        let Some(e) = body.find(&close) else { break };
        out.push(&body[..e]);
        rest = &body[e + close.len()..];
    }
    out
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// One object version from a versions listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectVersion {
    pub key: String,
    pub version_id: String,
    pub is_latest: bool,
    pub delete_marker: bool,
}

impl S3Target {
    /// `url` is `s3://bucket[/prefix]`; `endpoint` like `http://127.0.0.80:5080` or
    /// `https://s3.eu-central-1.amazonaws.com`.
    pub fn new(
        url: &str,
        endpoint: &str,
        region: &str,
        creds: Credentials,
    ) -> Result<Self, TargetError> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| TargetError::Config(format!("not an s3:// URL: {url}")))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty()
            || !bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        {
            return Err(TargetError::Config(format!(
                "invalid bucket name {bucket:?}"
            )));
        }
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(TargetError::Config(format!(
                "S3 endpoint must start with http:// or https://: {endpoint}"
            )));
        }
        let prefix = prefix.trim_matches('/');
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout_read(Duration::from_secs(300))
            .timeout_write(Duration::from_secs(300))
            .build();
        Ok(Self {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            region: region.to_string(),
            bucket: bucket.to_string(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
            creds,
            agent,
            part_size: DEFAULT_PART_SIZE,
        })
    }

    /// Sets the multipart threshold and part size (at least 5 MiB).
    pub fn with_part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes.max(MIN_PART_SIZE);
        self
    }

    fn read_body(r: ureq::Response, op: &'static str, name: &str) -> Result<String, TargetError> {
        let mut text = String::new();
        r.into_reader()
            .take(MAX_XML)
            .read_to_string(&mut text)
            .map_err(|e| TargetError::Transport {
                op,
                name: name.into(),
                reason: e.to_string(),
            })?;
        Ok(text)
    }

    /// Multipart upload of a staged file: each part is hashed (for its mandatory checksum on
    /// Object Lock buckets), then streamed from the file; on failure the upload is aborted.
    fn put_multipart(
        &self,
        name: &str,
        f: &mut std::fs::File,
        len: u64,
        lock: Option<&LockInfo>,
    ) -> Result<Option<String>, TargetError> {
        use std::io::{Seek, SeekFrom};
        let key = self.key(name);
        let part_size = self.part_size.max(len.div_ceil(MAX_PARTS));
        let mut headers = Self::lock_headers(lock);
        headers.push(("x-amz-checksum-algorithm".into(), "SHA256".into()));
        let q = vec![("uploads".to_string(), String::new())];
        let r = self.request(
            "CreateMultipartUpload",
            "POST",
            Some(&key),
            &q,
            &headers,
            None,
        )?;
        let text = Self::read_body(r, "CreateMultipartUpload", name)?;
        let upload_id = xml_tag(&text, "UploadId").ok_or_else(|| TargetError::Transport {
            op: "CreateMultipartUpload",
            name: name.into(),
            reason: "no UploadId in the answer".into(),
        })?;
        let io_err = |source| TargetError::Io {
            target: self.describe(),
            name: name.into(),
            source,
        };
        let result = (|| {
            let mut parts = Vec::new();
            let mut offset = 0u64;
            let mut number = 1u32;
            while offset < len {
                let size = part_size.min(len - offset);
                f.seek(SeekFrom::Start(offset)).map_err(io_err)?;
                let mut hr = crate::util::HashReader::new(Read::take(&mut *f, size));
                std::io::copy(&mut hr, &mut std::io::sink()).map_err(io_err)?;
                let (sha, n) = hr.finish();
                if n != size {
                    return Err(io_err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "staged archive shorter than expected",
                    )));
                }
                f.seek(SeekFrom::Start(offset)).map_err(io_err)?;
                let b64 = base64::engine::general_purpose::STANDARD.encode(sha);
                let q = vec![
                    ("partNumber".to_string(), number.to_string()),
                    ("uploadId".to_string(), upload_id.clone()),
                ];
                let h = vec![
                    (
                        "x-amz-sdk-checksum-algorithm".to_string(),
                        "SHA256".to_string(),
                    ),
                    ("x-amz-checksum-sha256".to_string(), b64.clone()),
                ];
                let mut body = Read::take(&mut *f, size);
                let r = self.request(
                    "UploadPart",
                    "PUT",
                    Some(&key),
                    &q,
                    &h,
                    Some((&mut body, size, hex::encode(sha))),
                )?;
                let etag = r.header("ETag").unwrap_or("").to_string();
                parts.push((number, etag, b64));
                offset += size;
                number += 1;
            }
            let mut xml = String::from("<CompleteMultipartUpload>");
            for (n, etag, b64) in &parts {
                xml.push_str(&format!(
                    "<Part><PartNumber>{n}</PartNumber><ETag>{}</ETag><ChecksumSHA256>{b64}</ChecksumSHA256></Part>",
                    etag.replace('&', "&amp;").replace('<', "&lt;")
                ));
            }
            xml.push_str("</CompleteMultipartUpload>");
            let sha: [u8; 32] = Sha256::digest(xml.as_bytes()).into();
            let q = vec![("uploadId".to_string(), upload_id.clone())];
            let r = self.request(
                "CompleteMultipartUpload",
                "POST",
                Some(&key),
                &q,
                &[],
                Some((&mut xml.as_bytes(), xml.len() as u64, hex::encode(sha))),
            )?;
            let version = r.header("x-amz-version-id").map(str::to_string);
            // S3 can answer 200 with an <Error> body here.
            let text = Self::read_body(r, "CompleteMultipartUpload", name)?;
            if let Some(code) = xml_tag(&text, "Code") {
                return Err(TargetError::S3 {
                    op: "CompleteMultipartUpload",
                    name: name.into(),
                    status: 200,
                    code,
                    message: xml_tag(&text, "Message").unwrap_or_default(),
                });
            }
            // The lock headers on CreateMultipartUpload are what S3 applies, but not every
            // S3-compatible server honours them there (moto 5 ignores them); setting the
            // retention explicitly on the completed version is valid everywhere and makes the
            // outcome not depend on the server.
            if let (Some(l), Some(v)) = (lock, version.as_deref()) {
                self.put_retention(name, v, l)?;
            }
            Ok(version)
        })();
        if result.is_err() {
            let q = vec![("uploadId".to_string(), upload_id)];
            let _ = self.request("AbortMultipartUpload", "DELETE", Some(&key), &q, &[], None);
        }
        result
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn host(&self) -> &str {
        let h = self
            .endpoint
            .split_once("://")
            .map(|(_, h)| h)
            .unwrap_or(&self.endpoint);
        h.split('/').next().unwrap_or(h)
    }

    /// Sends one signed request. `body` = (reader, length, sha256 hex).
    fn request(
        &self,
        op: &'static str,
        method: &str,
        key: Option<&str>,
        query: &[(String, String)],
        extra_headers: &[(String, String)],
        body: Option<(&mut dyn Read, u64, String)>,
    ) -> Result<ureq::Response, TargetError> {
        let name = key.unwrap_or("").to_string();
        let path = match key {
            Some(k) => format!("/{}/{}", self.bucket, k),
            None => format!("/{}", self.bucket),
        };
        let canonical_uri = uri_encode(&path, true);
        let amz_date = crate::util::compact(crate::util::now_unix());
        let payload = body
            .as_ref()
            .map(|b| b.2.clone())
            .unwrap_or_else(|| hex::encode(Sha256::digest(b"")));
        let mut headers: Vec<(String, String)> = vec![
            ("host".into(), self.host().to_string()),
            ("x-amz-date".into(), amz_date.clone()),
            ("x-amz-content-sha256".into(), payload.clone()),
        ];
        if let Some(t) = &self.creds.session_token {
            headers.push(("x-amz-security-token".into(), t.clone()));
        }
        headers.extend(extra_headers.iter().cloned());
        let auth = sigv4_authorization(
            &self.creds,
            &self.region,
            &SignRequest {
                method,
                canonical_uri: &canonical_uri,
                query,
                headers: &headers,
                payload_sha256_hex: &payload,
                amz_date: &amz_date,
            },
        );
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
        let url = if qs.is_empty() {
            format!("{}{canonical_uri}", self.endpoint)
        } else {
            format!("{}{canonical_uri}?{qs}", self.endpoint)
        };
        let mut req = self.agent.request(method, &url).set("Authorization", &auth);
        for (k, v) in &headers {
            if k != "host" {
                req = req.set(k, v);
            }
        }
        let res = match body {
            Some((r, len, _)) => req.set("Content-Length", &len.to_string()).send(r),
            None => req.call(),
        };
        match res {
            Ok(r) => Ok(r),
            Err(ureq::Error::Status(status, r)) => {
                let mut text = String::new();
                let _ = r.into_reader().take(MAX_XML).read_to_string(&mut text);
                let code = xml_tag(&text, "Code").unwrap_or_default();
                let message = xml_tag(&text, "Message").unwrap_or_default();
                if status == 404
                    && (code.is_empty() || code == "NoSuchKey" || code == "NoSuchVersion")
                {
                    return Err(TargetError::NotFound {
                        target: self.describe(),
                        name,
                    });
                }
                Err(TargetError::S3 {
                    op,
                    name,
                    status,
                    code,
                    message: message.chars().take(300).collect(),
                })
            }
            Err(e) => Err(TargetError::Transport {
                op,
                name,
                reason: e.to_string(),
            }),
        }
    }

    fn lock_headers(lock: Option<&LockInfo>) -> Vec<(String, String)> {
        match lock {
            Some(l) if l.mode == "COMPLIANCE" || l.mode == "GOVERNANCE" => vec![
                ("x-amz-object-lock-mode".into(), l.mode.clone()),
                (
                    "x-amz-object-lock-retain-until-date".into(),
                    l.retain_until.clone(),
                ),
            ],
            _ => Vec::new(),
        }
    }

    fn put(
        &self,
        name: &str,
        body: &mut dyn Read,
        len: u64,
        sha256: &[u8; 32],
        lock: Option<&LockInfo>,
    ) -> Result<Option<String>, TargetError> {
        let mut headers = Self::lock_headers(lock);
        // Object Lock PUTs must carry an integrity checksum (S3 rejects them otherwise);
        // SHA-256 is already known from the staging pass.
        headers.push(("x-amz-sdk-checksum-algorithm".into(), "SHA256".into()));
        headers.push((
            "x-amz-checksum-sha256".into(),
            base64::engine::general_purpose::STANDARD.encode(sha256),
        ));
        let r = self.request(
            "PUT",
            "PUT",
            Some(&self.key(name)),
            &[],
            &headers,
            Some((body, len, hex::encode(sha256))),
        )?;
        Ok(r.header("x-amz-version-id").map(str::to_string))
    }

    /// Sets (or extends) the retention of one object version (`PutObjectRetention`).
    pub fn put_retention(
        &self,
        name: &str,
        version_id: &str,
        lock: &LockInfo,
    ) -> Result<(), TargetError> {
        if lock.mode != "COMPLIANCE" && lock.mode != "GOVERNANCE" {
            return Ok(());
        }
        let body = format!(
            "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>{}</Mode><RetainUntilDate>{}</RetainUntilDate></Retention>",
            lock.mode, lock.retain_until
        );
        let sha: [u8; 32] = Sha256::digest(body.as_bytes()).into();
        let q = vec![
            ("retention".to_string(), String::new()),
            ("versionId".to_string(), version_id.to_string()),
        ];
        let h = vec![
            (
                "x-amz-sdk-checksum-algorithm".to_string(),
                "SHA256".to_string(),
            ),
            (
                "x-amz-checksum-sha256".to_string(),
                base64::engine::general_purpose::STANDARD.encode(sha),
            ),
        ];
        self.request(
            "PutObjectRetention",
            "PUT",
            Some(&self.key(name)),
            &q,
            &h,
            Some((&mut body.as_bytes(), body.len() as u64, hex::encode(sha))),
        )
        .map(|_| ())
    }

    /// Creates the bucket with Object Lock enabled (setup helper; idempotent when owned).
    pub fn create_bucket_with_lock(&self) -> Result<(), TargetError> {
        let headers = vec![("x-amz-bucket-object-lock-enabled".into(), "true".into())];
        match self.request("CreateBucket", "PUT", None, &[], &headers, None) {
            Ok(_) => Ok(()),
            Err(TargetError::S3 { code, .. }) if code == "BucketAlreadyOwnedByYou" => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every version (and delete marker) of objects under `name` exactly.
    pub fn versions(&self, name: &str) -> Result<Vec<ObjectVersion>, TargetError> {
        let key = self.key(name);
        let q = vec![
            ("prefix".to_string(), key.clone()),
            ("versions".to_string(), String::new()),
        ];
        let r = self.request("ListObjectVersions", "GET", None, &q, &[], None)?;
        let mut text = String::new();
        r.into_reader()
            .take(MAX_XML)
            .read_to_string(&mut text)
            .map_err(|e| TargetError::Transport {
                op: "ListObjectVersions",
                name: name.into(),
                reason: e.to_string(),
            })?;
        let mut out = Vec::new();
        for (tag, marker) in [("Version", false), ("DeleteMarker", true)] {
            for b in xml_blocks(&text, tag) {
                let (Some(k), Some(v)) = (xml_tag(b, "Key"), xml_tag(b, "VersionId")) else {
                    continue;
                };
                if k == key {
                    out.push(ObjectVersion {
                        key: k,
                        version_id: v,
                        is_latest: xml_tag(b, "IsLatest").as_deref() == Some("true"),
                        delete_marker: marker,
                    });
                }
            }
        }
        Ok(out)
    }

    /// Deletes one object version; a locked version is refused by the storage and that
    /// refusal is returned as [`TargetError::S3`] (AccessDenied on AWS and moto).
    pub fn delete_version(&self, name: &str, version_id: &str) -> Result<(), TargetError> {
        let q = vec![("versionId".to_string(), version_id.to_string())];
        self.request(
            "DeleteObject",
            "DELETE",
            Some(&self.key(name)),
            &q,
            &[],
            None,
        )
        .map(|_| ())
    }

    /// Writes a new version of `name` without a lock (what an attacker with the credentials
    /// could do); used by tests to prove the locked version survives.
    pub fn put_unlocked(&self, name: &str, data: &[u8]) -> Result<Option<String>, TargetError> {
        let sha: [u8; 32] = Sha256::digest(data).into();
        self.put(name, &mut &data[..], data.len() as u64, &sha, None)
    }
}

impl Target for S3Target {
    fn describe(&self) -> String {
        format!("s3://{}/{} at {}", self.bucket, self.prefix, self.endpoint)
    }

    fn put_file(
        &self,
        name: &str,
        staged: &Path,
        len: u64,
        sha256: &[u8; 32],
        lock: Option<&LockInfo>,
    ) -> Result<Option<String>, TargetError> {
        let mut f = std::fs::File::open(staged).map_err(|source| TargetError::Io {
            target: self.describe(),
            name: name.into(),
            source,
        })?;
        let v = if len > self.part_size {
            self.put_multipart(name, &mut f, len, lock)?
        } else {
            self.put(name, &mut f, len, sha256, lock)?
        };
        let _ = std::fs::remove_file(staged);
        Ok(v)
    }

    fn put_bytes(
        &self,
        name: &str,
        data: &[u8],
        lock: Option<&LockInfo>,
    ) -> Result<Option<String>, TargetError> {
        let sha: [u8; 32] = Sha256::digest(data).into();
        self.put(name, &mut &data[..], data.len() as u64, &sha, lock)
    }

    fn get(&self, name: &str, version: Option<&str>) -> Result<Box<dyn Read + Send>, TargetError> {
        let q: Vec<(String, String)> = version
            .map(|v| vec![("versionId".to_string(), v.to_string())])
            .unwrap_or_default();
        let r = self.request("GetObject", "GET", Some(&self.key(name)), &q, &[], None)?;
        Ok(Box::new(r.into_reader()))
    }

    fn list(&self) -> Result<Vec<ObjectInfo>, TargetError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut q = vec![
                ("list-type".to_string(), "2".to_string()),
                ("prefix".to_string(), self.prefix.clone()),
            ];
            if let Some(t) = &token {
                q.push(("continuation-token".to_string(), t.clone()));
            }
            let r = self.request("ListObjectsV2", "GET", None, &q, &[], None)?;
            let mut text = String::new();
            r.into_reader()
                .take(MAX_XML)
                .read_to_string(&mut text)
                .map_err(|e| TargetError::Transport {
                    op: "ListObjectsV2",
                    name: String::new(),
                    reason: e.to_string(),
                })?;
            for b in xml_blocks(&text, "Contents") {
                let Some(k) = xml_tag(b, "Key") else { continue };
                let Some(name) = k.strip_prefix(&self.prefix) else {
                    continue;
                };
                if name.contains('/') {
                    continue;
                }
                out.push(ObjectInfo {
                    name: name.to_string(),
                    size: xml_tag(b, "Size").and_then(|s| s.parse().ok()).unwrap_or(0),
                });
            }
            token = (xml_tag(&text, "IsTruncated").as_deref() == Some("true"))
                .then(|| xml_tag(&text, "NextContinuationToken"))
                .flatten();
            if token.is_none() {
                break;
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn lock_state(&self, name: &str) -> Result<Option<LockState>, TargetError> {
        let r = self.request("HeadObject", "HEAD", Some(&self.key(name)), &[], &[], None)?;
        let mode = r.header("x-amz-object-lock-mode").map(str::to_string);
        let until = r
            .header("x-amz-object-lock-retain-until-date")
            .and_then(crate::util::parse_utc);
        Ok(match (mode, until) {
            (Some(mode), Some(u)) => Some(LockState {
                mode,
                retain_until_unix: u,
            }),
            _ => None,
        })
    }

    fn delete(&self, name: &str) -> Result<(), TargetError> {
        let versions = self.versions(name)?;
        if versions.is_empty() {
            return Err(TargetError::NotFound {
                target: self.describe(),
                name: name.into(),
            });
        }
        for v in versions {
            self.delete_version(name, &v.version_id)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's published SigV4 example for S3 ("GET Object", examplebucket, 20130524).
    #[test]
    fn sigv4_matches_aws_documented_example() {
        let creds = Credentials::new(
            "AKIAIOSFODNN7EXAMPLE".into(),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            None,
        );
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let headers = vec![
            (
                "host".to_string(),
                "examplebucket.s3.amazonaws.com".to_string(),
            ),
            ("range".to_string(), "bytes=0-9".to_string()),
            ("x-amz-content-sha256".to_string(), empty.to_string()),
            ("x-amz-date".to_string(), "20130524T000000Z".to_string()),
        ];
        let auth = sigv4_authorization(
            &creds,
            "us-east-1",
            &SignRequest {
                method: "GET",
                canonical_uri: "/test.txt",
                query: &[],
                headers: &headers,
                payload_sha256_hex: empty,
                amz_date: "20130524T000000Z",
            },
        );
        assert!(
            auth.ends_with(
                "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
            ),
            "{auth}"
        );
    }

    #[test]
    fn credentials_debug_redacts_secret() {
        let c = Credentials::new("AKID".into(), "super-secret-key".into(), None);
        assert!(!format!("{c:?}").contains("super-secret"));
    }

    #[test]
    fn xml_helpers() {
        let x = "<a><Contents><Key>p/x&amp;y</Key><Size>3</Size></Contents><Contents><Key>z</Key></Contents></a>";
        let b = xml_blocks(x, "Contents");
        assert_eq!(b.len(), 2);
        assert_eq!(xml_tag(b[0], "Key").as_deref(), Some("p/x&y"));
        assert_eq!(xml_tag(x, "Nope"), None);
        assert!(xml_blocks("<Contents>unterminated", "Contents").is_empty());
    }
}

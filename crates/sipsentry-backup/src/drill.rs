//! Restore drills: restore a backup into a scratch directory and prove its content is usable.
//!
//! After the full verification (signature, hashes, every entry), each restored file is checked
//! by what it is (detected at create time, see [`ContentKind`]):
//!
//! * zip (e.g. a 3CX `3CXScheduledBackup.zip`): every entry is read and its CRC-32 checked; the
//!   expected entry patterns must all match; password-protected entries (3CX can encrypt its
//!   backups) are checked at the structure level only, and said so.
//! * SQLite: `PRAGMA integrity_check` must answer `ok`.
//! * PostgreSQL custom-format dump (`pg_dump -Fc`): restored with `pg_restore` into a throw-away
//!   cluster (`initdb` in a temp dir, socket-only, stopped and deleted afterwards), then every
//!   user table is counted.

use crate::archive::{self, VerifyError};
use crate::keys::{Decryption, VerifyKey};
use crate::manifest::ContentKind;
use crate::target::Target;
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A zip entry is read at most this far (zip bombs); past it the check fails.
pub const MAX_ZIP_UNCOMPRESSED: u64 = 64 << 30;
/// Entries per zip.
pub const MAX_ZIP_ENTRIES: usize = 1_000_000;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Check {
    /// `verify`, `zip`, `sqlite`, `postgres`.
    pub check: String,
    /// Restored path (inside the archive) or the backup ID.
    pub subject: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DrillReport {
    pub backup: String,
    pub target: String,
    pub ok: bool,
    pub checks: Vec<Check>,
    /// Where the files were restored (kept only with `keep_scratch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scratch: Option<PathBuf>,
}

impl DrillReport {
    /// The first failed check, if any.
    pub fn failure(&self) -> Option<&Check> {
        self.checks.iter().find(|c| !c.ok)
    }
}

#[derive(Debug, Clone, Default)]
pub struct DrillOptions {
    /// Glob patterns (`*` and `?`, case-insensitive) that some entry of every restored zip
    /// must match.
    pub expect_zip_entries: Vec<String>,
    /// Parent of the scratch directory (default: the system temp dir).
    pub scratch_parent: Option<PathBuf>,
    pub keep_scratch: bool,
}

/// Restores backup `id` into scratch space and validates it.
pub fn restore_test(
    target: &dyn Target,
    id: &str,
    trusted: &VerifyKey,
    decryption: &Decryption,
    opts: &DrillOptions,
) -> DrillReport {
    let mut report = DrillReport {
        backup: id.into(),
        target: target.describe(),
        ok: false,
        checks: Vec::new(),
        scratch: None,
    };
    let scratch = match tempfile::Builder::new()
        .prefix("sipsentry-restore-")
        .tempdir_in(
            opts.scratch_parent
                .clone()
                .unwrap_or_else(std::env::temp_dir),
        ) {
        Ok(s) => s,
        Err(e) => {
            report.checks.push(fail(
                "scratch",
                id,
                format!("cannot create scratch dir: {e}"),
            ));
            return report;
        }
    };
    if decryption.is_empty() {
        report.checks.push(fail(
            "verify",
            id,
            "a restore drill needs the decryption key (--identity or a passphrase)".into(),
        ));
        return report;
    }
    let restored_root = scratch.path().join("restore");
    let v = match archive::verify(target, id, trusted, Some(decryption), Some(&restored_root)) {
        Ok(v) => v,
        Err(e) => {
            report.checks.push(verify_fail(id, &e));
            return report;
        }
    };
    report.checks.push(Check {
        check: "verify".into(),
        subject: id.into(),
        ok: true,
        detail: format!(
            "signature, ciphertext and plaintext SHA-256 and {} entries match the manifest",
            v.entries_checked
        ),
    });
    for (path, entry) in &v.restored_files {
        let c = match entry.content {
            Some(ContentKind::Zip) => Some(("zip", check_zip(path, &opts.expect_zip_entries))),
            Some(ContentKind::Sqlite) => Some(("sqlite", check_sqlite(path))),
            Some(ContentKind::PgDump) => Some(("postgres", check_pg_dump(path))),
            _ => None,
        };
        if let Some((name, r)) = c {
            report.checks.push(Check {
                check: name.into(),
                subject: entry.path.clone(),
                ok: r.is_ok(),
                detail: r.unwrap_or_else(|e| e),
            });
        }
    }
    report.ok = report.checks.iter().all(|c| c.ok);
    if opts.keep_scratch {
        report.scratch = Some(scratch.keep());
    }
    report
}

fn fail(check: &str, subject: &str, detail: String) -> Check {
    Check {
        check: check.into(),
        subject: subject.into(),
        ok: false,
        detail,
    }
}

fn verify_fail(id: &str, e: &VerifyError) -> Check {
    fail("verify", id, format!("{} ({})", e, e.check()))
}

/// `*` and `?` glob, ASCII case-insensitive.
pub fn glob_match(pat: &str, s: &str) -> bool {
    let p: Vec<char> = pat.to_ascii_lowercase().chars().collect();
    let t: Vec<char> = s.to_ascii_lowercase().chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Reads every entry (CRC-32 checked by the zip reader at end of entry) and matches `expect`.
pub fn check_zip(path: &Path, expect: &[String]) -> Result<String, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let mut z = zip::ZipArchive::new(std::io::BufReader::new(f))
        .map_err(|e| format!("not a readable zip (central directory): {e}"))?;
    if z.is_empty() {
        return Err("zip has no entries".into());
    }
    if z.len() > MAX_ZIP_ENTRIES {
        return Err(format!("zip has more than {MAX_ZIP_ENTRIES} entries"));
    }
    let mut names = Vec::with_capacity(z.len());
    let mut total = 0u64;
    let mut encrypted = 0usize;
    for i in 0..z.len() {
        let enc = z
            .by_index_raw(i)
            .map_err(|e| format!("entry #{i}: {e}"))?
            .encrypted();
        if enc {
            encrypted += 1;
            names.push(z.name_for_index(i).unwrap_or_default().to_string());
            continue;
        }
        let mut e = z.by_index(i).map_err(|e| format!("entry #{i}: {e}"))?;
        let name = e.name().to_string();
        let n = std::io::copy(
            &mut (&mut e).take(MAX_ZIP_UNCOMPRESSED + 1),
            &mut std::io::sink(),
        )
        .map_err(|err| format!("entry {name}: {err} (CRC or data damage)"))?;
        total += n;
        if total > MAX_ZIP_UNCOMPRESSED {
            return Err(format!(
                "more than {MAX_ZIP_UNCOMPRESSED} bytes uncompressed"
            ));
        }
        names.push(name);
    }
    let missing: Vec<&String> = expect
        .iter()
        .filter(|p| !names.iter().any(|n| glob_match(p, n)))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "expected entries missing: {}",
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut d = format!(
        "{} entries, {} bytes uncompressed, every CRC-32 ok",
        names.len(),
        total
    );
    if !expect.is_empty() {
        d.push_str(&format!(
            ", {} expected entry patterns present",
            expect.len()
        ));
    }
    if encrypted > 0 {
        d.push_str(&format!(
            "; {encrypted} password-protected entries checked for structure only"
        ));
    }
    Ok(d)
}

/// `PRAGMA integrity_check` on a restored SQLite database.
pub fn check_sqlite(path: &Path) -> Result<String, String> {
    let c = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| format!("cannot open: {e}"))?;
    let rows: Vec<String> = c
        .prepare("PRAGMA integrity_check")
        .and_then(|mut s| {
            s.query_map([], |r| r.get::<_, String>(0))?
                .take(100)
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| format!("integrity_check failed to run: {e}"))?;
    if rows != ["ok"] {
        return Err(format!("integrity_check: {}", rows.join("; ")));
    }
    let tables: i64 = c
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type='table'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| format!("schema unreadable: {e}"))?;
    Ok(format!("integrity_check ok, {tables} tables"))
}

/// Directory holding PostgreSQL server binaries (`initdb`, `pg_ctl`), newest version first.
pub fn pg_bindir() -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let b = e.path().join("bin");
            b.join("initdb").exists().then_some((v, b))
        })
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, b)| b)
}

fn postgres_ids() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.first() == Some(&"postgres") && f.len() > 3)
            .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
            .flatten()
    })
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

struct PgCluster {
    bindir: PathBuf,
    data: PathBuf,
    as_postgres: bool,
    started: bool,
}

impl PgCluster {
    fn cmd(&self, prog: &str) -> Command {
        let exe = self.bindir.join(prog);
        if self.as_postgres {
            // initdb and the server refuse to run as root.
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if self.started {
            let _ = self
                .cmd("pg_ctl")
                .arg("-D")
                .arg(&self.data)
                .args(["-m", "immediate", "-w", "stop"])
                .output();
        }
    }
}

fn run(mut c: Command, what: &str) -> Result<String, String> {
    let out = c
        .output()
        .map_err(|e| format!("{what}: cannot run ({e}); install the Debian package postgresql"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "{what} failed: {}",
            err.trim().chars().take(600).collect::<String>()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Restores a `pg_dump -Fc` file into a throw-away cluster and counts every user table's rows.
pub fn check_pg_dump(dump: &Path) -> Result<String, String> {
    let bindir = pg_bindir()
        .ok_or("PostgreSQL server binaries not found under /usr/lib/postgresql: install the Debian package postgresql")?;
    // Short path: the socket path must fit in sun_path (108 bytes).
    let dir = tempfile::Builder::new()
        .prefix("ssbk-pg")
        .tempdir_in("/tmp")
        .map_err(|e| format!("temp dir: {e}"))?;
    let as_postgres = running_as_root();
    if as_postgres {
        let (uid, gid) = postgres_ids().ok_or("running as root but no postgres user exists")?;
        std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
            .map_err(|e| format!("chown: {e}"))?;
    }
    let data = dir.path().join("data");
    let sock = dir.path().to_path_buf();
    let mut pg = PgCluster {
        bindir: bindir.clone(),
        data: data.clone(),
        as_postgres,
        started: false,
    };
    let mut c = pg.cmd("initdb");
    c.arg("-D").arg(&data).args([
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--no-sync",
        "--no-instructions",
    ]);
    run(c, "initdb")?;
    let mut c = pg.cmd("pg_ctl");
    c.arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(dir.path().join("log"))
        .args(["-w", "-t", "60", "-o"])
        .arg(format!(
            "-k {} -c listen_addresses='' -c fsync=off -c full_page_writes=off",
            sock.display()
        ))
        .arg("start");
    pg.started = true;
    if let Err(e) = run(c, "pg_ctl start") {
        let log = std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();
        return Err(format!(
            "{e}; server log: {}",
            log.chars()
                .rev()
                .take(400)
                .collect::<String>()
                .chars()
                .rev()
                .collect::<String>()
        ));
    }
    let client = |prog: &str| {
        let mut c = Command::new(bindir.join(prog));
        c.arg("-h").arg(&sock).args(["-U", "postgres"]);
        c
    };
    let mut c = client("createdb");
    c.arg("drill");
    run(c, "createdb")?;
    let mut c = client("pg_restore");
    c.args(["-d", "drill", "--no-owner", "--exit-on-error"])
        .arg(dump);
    run(c, "pg_restore")?;
    let q = "SELECT n.nspname || '.' || c.relname, \
             (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1";
    let mut c = client("psql");
    c.args([
        "-d",
        "drill",
        "-At",
        "-F",
        "\t",
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        q,
    ]);
    let out = run(c, "psql query")?;
    let mut tables = 0u64;
    let mut rows = 0u64;
    for line in out.lines() {
        let Some((_, n)) = line.split_once('\t') else {
            continue;
        };
        tables += 1;
        rows += n.trim().parse::<u64>().unwrap_or(0);
    }
    if tables == 0 {
        return Err("pg_restore succeeded but the database has no user tables".into());
    }
    Ok(format!(
        "pg_restore into a throw-away PostgreSQL ok: {tables} tables, {rows} rows"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("*.xml", "Config/Backup.XML"));
        assert!(glob_match("db/*", "db/x.sql"));
        assert!(!glob_match("db/*", "dbx/x.sql"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match("*", ""));
    }
}

//! An offline table of known vulnerabilities in the SIP servers sipsentry fingerprints
//! (3CX, Asterisk, FreeSWITCH, Kamailio, OpenSIPS), shared by `sipsentry scan` (version seen on
//! the wire) and `sipsentry audit` (version read on the box).
//!
//! # How the rows were sourced
//!
//! The table is a **snapshot** (see [`SNAPSHOT`]), not a feed: it holds only rows whose affected
//! and fixed versions were read in a public record at the time of writing — the CVE Program's
//! record (`cvelistV5`), the vendor advisory, or a vulnerability database page quoting the NVD
//! description — and each row's [`Cve::source`] is the page that was read. Severity is the CVSS
//! v3 base severity quoted there; where the record carried no score the row says so in
//! [`Cve::severity_note`] and the severity is our assessment from the description. Rows are kept
//! only where the affected versions can be told from a version a server announces; a scan
//! match therefore means "this announced version is in an affected range", never "exploitable":
//! distributions backport fixes without changing the version string.
//!
//! Adding a row: copy an existing one, fill every field from the record you read, and run
//! `cargo test -p sipsentry-cve` (every row is checked for shape).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::cmp::Ordering;

/// When the table was last brought up to date.
pub const SNAPSHOT: &str = "2026-11-28";

/// The product a row applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Component {
    /// 3CX Phone System.
    ThreeCx,
    /// Asterisk (open source; certified branches are not modelled).
    Asterisk,
    /// FreeSWITCH.
    FreeSwitch,
    /// Kamailio.
    Kamailio,
    /// OpenSIPS.
    OpenSips,
}

impl Component {
    /// Lower-case name used in reports and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Component::ThreeCx => "3cx",
            Component::Asterisk => "asterisk",
            Component::FreeSwitch => "freeswitch",
            Component::Kamailio => "kamailio",
            Component::OpenSips => "opensips",
        }
    }

    /// Parse a product name (case-insensitive; `3cx`, `asterisk`, `freeswitch`, `kamailio`,
    /// `opensips`).
    pub fn parse(s: &str) -> Option<Component> {
        match s.to_ascii_lowercase().as_str() {
            "3cx" | "3cxphonesystem" => Some(Component::ThreeCx),
            "asterisk" => Some(Component::Asterisk),
            "freeswitch" => Some(Component::FreeSwitch),
            "kamailio" => Some(Component::Kamailio),
            "opensips" => Some(Component::OpenSips),
            _ => None,
        }
    }
}

/// Severity as published (CVSS v3 qualitative rating).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// CVSS 0.1–3.9.
    Low,
    /// CVSS 4.0–6.9.
    Medium,
    /// CVSS 7.0–8.9.
    High,
    /// CVSS 9.0–10.0.
    Critical,
}

/// One affected range: `introduced <= v < fixed`. `None` bounds are open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    /// First affected version (inclusive); `None` means "every earlier version".
    pub introduced: Option<&'static str>,
    /// First fixed version (exclusive); `None` means no fix in this branch.
    pub fixed: Option<&'static str>,
}

impl Range {
    /// Whether `v` falls in this range.
    pub fn contains(&self, v: &str) -> bool {
        let lo = self
            .introduced
            .is_none_or(|i| compare(v, i) != Ordering::Less);
        let hi = self.fixed.is_none_or(|f| compare(v, f) == Ordering::Less);
        lo && hi
    }
}

/// One known vulnerability.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cve {
    /// `CVE-YYYY-NNNN`.
    pub id: &'static str,
    /// Product.
    pub component: Component,
    /// Affected ranges (a version is affected when any range contains it).
    pub affected: &'static [Range],
    /// Fixed versions as published, for the remediation text.
    pub fixed: &'static [&'static str],
    /// Published severity.
    pub severity: Severity,
    /// Empty, or why the severity is ours rather than a published score.
    pub severity_note: &'static str,
    /// One-line summary.
    pub summary: &'static str,
    /// The page the row was read from.
    pub source: &'static str,
}

impl Cve {
    /// Whether `version` of this row's component is affected.
    pub fn affects(&self, version: &str) -> bool {
        self.affected.iter().any(|r| r.contains(version))
    }

    /// NVD page for the id.
    pub fn nvd_url(&self) -> String {
        format!("https://nvd.nist.gov/vuln/detail/{}", self.id)
    }
}

/// Compare two dotted version strings numerically (`16.2.0 < 16.14.1`, `5.6 == 5.6.0`).
///
/// Each string is cut at the first character that is neither a digit nor a dot; the leading
/// numeric part is compared component by component (missing components count as 0, a
/// component too large to count saturates). A trailing suffix (`-cert6`, `-rc1`, ` (x86_64)`) is
/// ignored: the table lists open-source release numbers only.
pub fn compare(a: &str, b: &str) -> Ordering {
    let pa = numeric_parts(a);
    let pb = numeric_parts(b);
    let n = pa.len().max(pb.len());
    for i in 0..n {
        let x = pa.get(i).copied().unwrap_or(0);
        let y = pb.get(i).copied().unwrap_or(0);
        match x.cmp(&y) {
            Ordering::Equal => continue,
            o => return o,
        }
    }
    Ordering::Equal
}

fn numeric_parts(v: &str) -> Vec<u64> {
    let v = v.trim().trim_start_matches(['v', 'V']);
    let end = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(v.len());
    v[..end]
        .split('.')
        .filter(|s| !s.is_empty())
        .take(8)
        .map(|s| {
            s.bytes().fold(0u64, |acc, d| {
                acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
            })
        })
        .collect()
}

/// Whether `v` looks like a version this crate can compare (starts with a digit).
pub fn is_version(v: &str) -> bool {
    !numeric_parts(v).is_empty()
}

/// Every row for `component` that affects `version`.
pub fn lookup(component: Component, version: &str) -> Vec<&'static Cve> {
    if !is_version(version) {
        return Vec::new();
    }
    TABLE
        .iter()
        .filter(|c| c.component == component && c.affects(version))
        .collect()
}

/// The whole table.
pub fn table() -> &'static [Cve] {
    TABLE
}

const fn r(introduced: Option<&'static str>, fixed: Option<&'static str>) -> Range {
    Range { introduced, fixed }
}

static TABLE: &[Cve] = &[
    Cve {
        id: "CVE-2023-49954",
        component: Component::ThreeCx,
        // The record: "The CRM Integration in 3CX before 18.0.9.23 and 20 before 20.0.0.1494".
        affected: &[r(None, Some("18.0.9.23")), r(Some("20.0"), Some("20.0.0.1494"))],
        fixed: &["18.0.9.23", "20.0.0.1494"],
        severity: Severity::High,
        severity_note: "the CVE record carries no CNA score; assessed from the description (SQL injection through caller-supplied CRM lookup fields)",
        summary: "SQL injection in the CRM integration via a caller's first name, search string or e-mail address",
        source: "https://raw.githubusercontent.com/CVEProject/cvelistV5/main/cves/2023/49xxx/CVE-2023-49954.json",
    },
    Cve {
        id: "CVE-2020-28242",
        component: Component::Asterisk,
        affected: &[
            r(Some("13.0"), Some("13.37.1")),
            r(Some("16.0"), Some("16.14.1")),
            r(Some("17.0"), Some("17.8.1")),
            r(Some("18.0"), Some("18.0.1")),
        ],
        fixed: &["13.37.1", "16.14.1", "17.8.1", "18.0.1"],
        severity: Severity::Medium,
        severity_note: "",
        summary: "Outbound INVITE challenged with a changing nonce loops, exhausting memory (DoS)",
        source: "https://www.strix.ai/cve/CVE-2020-28242",
    },
    Cve {
        id: "CVE-2023-49786",
        component: Component::Asterisk,
        affected: &[
            r(None, Some("18.20.1")),
            r(Some("19.0"), Some("20.5.1")),
            r(Some("21.0"), Some("21.0.1")),
        ],
        fixed: &["18.20.1", "20.5.1", "21.0.1"],
        severity: Severity::High,
        severity_note: "",
        summary: "DTLS hello race during call setup tears down DTLS-SRTP calls (DoS)",
        source: "https://www.clouddefense.ai/cve/2023/CVE-2023-49786",
    },
    Cve {
        id: "CVE-2018-19278",
        component: Component::Asterisk,
        affected: &[r(Some("15.0"), Some("15.6.2")), r(Some("16.0"), Some("16.0.1"))],
        fixed: &["15.6.2", "16.0.1"],
        severity: Severity::High,
        severity_note: "record has no CVSS score; assessed from the description (remote crash)",
        summary: "Buffer overflow in DNS SRV/NAPTR lookups lets a crafted DNS answer crash Asterisk",
        source: "https://raw.githubusercontent.com/CVEProject/cvelistV5/main/cves/2018/19xxx/CVE-2018-19278.json",
    },
    Cve {
        id: "CVE-2025-47779",
        component: Component::Asterisk,
        affected: &[
            r(None, Some("18.26.2")),
            r(Some("19.0"), Some("20.14.1")),
            r(Some("21.0"), Some("21.9.1")),
            r(Some("22.0"), Some("22.4.1")),
        ],
        fixed: &["18.26.2", "20.14.1", "21.9.1", "22.4.1"],
        severity: Severity::Medium,
        severity_note: "page quoted no score; assessed from the description (authenticated spoofing)",
        summary: "SIP MESSAGE authentication misalignment lets an authenticated user spoof any identity",
        source: "https://synscan.net/vuln/cve-2025-47779",
    },
    Cve {
        id: "CVE-2021-37624",
        component: Component::FreeSwitch,
        affected: &[r(None, Some("1.10.7"))],
        fixed: &["1.10.7"],
        severity: Severity::High,
        severity_note: "",
        summary: "SIP MESSAGE requests are not authenticated by default (spam, spoofing)",
        source: "https://www.strix.ai/cve/CVE-2021-37624",
    },
    Cve {
        id: "CVE-2023-51443",
        component: Component::FreeSwitch,
        affected: &[r(None, Some("1.10.11"))],
        fixed: &["1.10.11"],
        severity: Severity::High,
        severity_note: "",
        summary: "DTLS ClientHello with an invalid cipher suite tears down DTLS-SRTP calls (DoS)",
        source: "https://askarlabs.com/cve/CVE-2023-51443/",
    },
    Cve {
        id: "CVE-2018-8828",
        component: Component::Kamailio,
        affected: &[
            r(None, Some("4.4.7")),
            r(Some("5.0"), Some("5.0.6")),
            r(Some("5.1"), Some("5.1.2")),
        ],
        fixed: &["4.4.7", "5.0.6", "5.1.2"],
        severity: Severity::Critical,
        severity_note: "record has no CVSS score; assessed from the description (unauthenticated remote heap overflow)",
        summary: "Off-by-one heap overflow in tmx_check_pretran via a REGISTER with a malformed branch or From tag",
        source: "https://raw.githubusercontent.com/CVEProject/cvelistV5/main/cves/2018/8xxx/CVE-2018-8828.json",
    },
    Cve {
        id: "CVE-2020-28361",
        component: Component::Kamailio,
        affected: &[r(None, Some("5.4.0"))],
        fixed: &["5.4.0"],
        severity: Severity::Medium,
        severity_note: "record has no CVSS score; assessed from the description (header smuggling, needs credentials)",
        summary: "remove_hf header-removal protection bypassed with whitespace (header smuggling)",
        source: "https://raw.githubusercontent.com/CVEProject/cvelistV5/main/cves/2020/28xxx/CVE-2020-28361.json",
    },
    Cve {
        id: "CVE-2016-2385",
        component: Component::Kamailio,
        affected: &[r(None, Some("4.3.5"))],
        fixed: &["4.3.5"],
        severity: Severity::High,
        severity_note: "advisory has no CVSS score; assessed (remote heap overflow, only with the SEAS module)",
        summary: "Heap overflow in the SEAS module encode_msg() (only when as_relay_t() is used)",
        source: "https://raw.githubusercontent.com/urcuqui/exploit-database/7eac4c3a2ce5b0fc0bdcaf2e527b225d78df42ee/platforms/linux/dos/39638.txt",
    },
    Cve {
        id: "CVE-2023-28098",
        component: Component::OpenSips,
        affected: &[r(None, Some("3.1.7")), r(Some("3.2.0"), Some("3.2.4"))],
        fixed: &["3.1.7", "3.2.4"],
        severity: Severity::High,
        severity_note: "",
        summary: "Crafted Authorization header crashes OpenSIPS in parse_param_name() (www_authorize)",
        source: "https://www.cvelogic.com/cve/CVE-2023-28098",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_well_formed() {
        let mut ids = std::collections::HashSet::new();
        for c in TABLE {
            assert!(c.id.starts_with("CVE-"), "{}", c.id);
            let parts: Vec<&str> = c.id.split('-').collect();
            assert_eq!(parts.len(), 3, "{}", c.id);
            assert!(parts[1].len() == 4 && parts[1].bytes().all(|b| b.is_ascii_digit()));
            assert!(parts[2].len() >= 4 && parts[2].bytes().all(|b| b.is_ascii_digit()));
            assert!(ids.insert(c.id), "duplicate row {}", c.id);
            assert!(c.source.starts_with("https://"), "{} source", c.id);
            assert!(!c.summary.is_empty() && !c.affected.is_empty() && !c.fixed.is_empty());
            for range in c.affected {
                assert!(
                    range.introduced.is_some() || range.fixed.is_some(),
                    "{}",
                    c.id
                );
                if let (Some(i), Some(f)) = (range.introduced, range.fixed) {
                    assert!(is_version(i) && is_version(f), "{}", c.id);
                    assert_eq!(compare(i, f), Ordering::Less, "{}: empty range", c.id);
                }
            }
            // Every fixed version must itself be outside the affected ranges.
            for f in c.fixed {
                assert!(is_version(f), "{} fixed {f}", c.id);
                assert!(
                    !c.affects(f),
                    "{}: fixed version {f} listed as affected",
                    c.id
                );
            }
        }
    }

    #[test]
    fn compare_is_numeric_not_lexical() {
        assert_eq!(compare("16.2.0", "16.14.1"), Ordering::Less);
        assert_eq!(compare("5.6", "5.6.0"), Ordering::Equal);
        assert_eq!(compare("18.9-cert6", "18.9"), Ordering::Equal);
        assert_eq!(compare("1.10.7", "1.10.11"), Ordering::Less);
        assert_eq!(compare("99999999999999999999999", "1"), Ordering::Greater);
        assert_eq!(compare("", "1"), Ordering::Less);
    }

    #[test]
    fn lookup_matches_ranges() {
        let ids: Vec<&str> = lookup(Component::Asterisk, "16.2.0")
            .iter()
            .map(|c| c.id)
            .collect();
        assert!(ids.contains(&"CVE-2020-28242"));
        assert!(ids.contains(&"CVE-2023-49786"));
        assert!(!ids.contains(&"CVE-2018-19278"));
        assert!(lookup(Component::Asterisk, "22.6.0").is_empty());
        assert!(lookup(Component::Kamailio, "5.6.3").is_empty());
        assert_eq!(lookup(Component::Kamailio, "5.1.1").len(), 2);
        assert!(lookup(Component::Kamailio, "garbage").is_empty());
        // 3CX: the CRM SQL injection of the issue (CVE-2023-49954), both release lines.
        assert_eq!(
            lookup(Component::ThreeCx, "18.0.8.941")[0].id,
            "CVE-2023-49954"
        );
        assert_eq!(
            lookup(Component::ThreeCx, "20.0.0.1310")[0].id,
            "CVE-2023-49954"
        );
        assert!(lookup(Component::ThreeCx, "18.0.9.23").is_empty());
        assert!(lookup(Component::ThreeCx, "20.0.10.1234").is_empty());
        assert_eq!(lookup(Component::FreeSwitch, "1.10.10").len(), 1);
        assert_eq!(lookup(Component::OpenSips, "3.2.3").len(), 1);
        assert!(lookup(Component::OpenSips, "3.2.4").is_empty());
    }
}

//! Issue 7 proof for drift: baseline, change three settings, the diff shows exactly those three
//! (with before/after values and secrets hashed, never shown).

use sipsentry_audit::baseline::{self, Baseline};
use sipsentry_audit::{asterisk, threecx};
use std::path::{Path, PathBuf};

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const OLD_PW: &str = "vT7#qL9!xR2$mK5@";
const NEW_PW: &str = "Gq4%nW8^zP1&hJ6*";

fn write_ast(dir: &Path, media: &str, bind: &str, pw: &str) {
    std::fs::write(
        dir.join("pjsip.conf"),
        format!(
            "[transport-tls]\ntype=transport\nprotocol=tls\n[6001]\ntype=endpoint\nmedia_encryption={media}\n\
             [6001]\ntype=auth\nusername=6001\npassword={pw}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("manager.conf"),
        format!("[general]\nenabled=yes\nbindaddr={bind}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("logger.conf"),
        "[logfiles]\nsecurity.log => security\n",
    )
    .unwrap();
}

#[test]
fn asterisk_three_changes_are_exactly_three_drift_findings() {
    let d = TempDir(std::env::temp_dir().join(format!("sipsentry-drift-{}", std::process::id())));
    std::fs::create_dir_all(&d.0).unwrap();
    write_ast(&d.0, "sdes", "127.0.0.1", OLD_PW);
    let file = d.0.join("baseline.json");
    Baseline::new("asterisk", &asterisk::collect(&d.0).unwrap())
        .save(&file)
        .unwrap();
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(!saved.contains(OLD_PW), "baseline must not hold the secret");

    // An "upgrade" turns SRTP off, AMI onto all interfaces, and the password is rotated.
    write_ast(&d.0, "no", "0.0.0.0", NEW_PW);
    let before = Baseline::load(&file).unwrap();
    let changes = baseline::diff(&before.facts, &asterisk::collect(&d.0).unwrap());
    let keys: Vec<&str> = changes.iter().map(|c| c.key.as_str()).collect();
    assert_eq!(
        keys,
        vec![
            "ast.manager.bindaddr",
            "ast.pjsip.auth[6001].password",
            "ast.pjsip.endpoint[6001].media_encryption",
        ]
    );
    let f = baseline::findings(&changes);
    assert!(f.iter().all(|x| x.id == "DRIFT-CHANGED"));
    assert_eq!(f[0].evidence, vec!["before: 127.0.0.1", "after: 0.0.0.0"]);
    assert_eq!(f[2].evidence, vec!["before: sdes", "after: no"]);
    let pw = format!("{:?}", f[1]);
    assert!(
        !pw.contains(OLD_PW) && !pw.contains(NEW_PW) && pw.contains("sha256:"),
        "{pw}"
    );
}

#[test]
fn threecx_new_admin_widened_allow_list_and_srtp_off() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/3cx-xapi/hardened");
    let docs = threecx::load_export(&dir).unwrap();
    let before = threecx::facts_from(&docs);
    let mut after_docs = docs.clone();
    let users = after_docs.get_mut("Users").unwrap()["value"]
        .as_array_mut()
        .unwrap();
    let mut admin = users[0].clone();
    admin["Id"] = 9.into();
    admin["Number"] = "199".into();
    admin["Enable2FA"] = false.into();
    users.push(admin);
    after_docs.get_mut("ConsoleRestrictions").unwrap()["IpWhitelist"] =
        serde_json::json!(["192.0.2.0/24", "0.0.0.0/0"]);
    after_docs.get_mut("Trunks").unwrap()["value"][0]["Gateway"]["SRTPMode"] =
        "SRTPDisabled".into();
    let changes = baseline::diff(&before, &threecx::facts_from(&after_docs));
    let summary: Vec<(String, &str)> = changes.iter().map(|c| (c.key.clone(), c.kind())).collect();
    assert_eq!(
        summary,
        vec![
            ("3cx.console.whitelist".to_string(), "changed"),
            ("3cx.trunk[10000].srtp".to_string(), "changed"),
            ("3cx.user[199]".to_string(), "added"),
        ]
    );
    let f = baseline::findings(&changes);
    assert_eq!(
        f[0].evidence,
        vec!["before: 192.0.2.0/24", "after: 0.0.0.0/0,192.0.2.0/24"]
    );
    assert!(f[2]
        .evidence
        .contains(&"after: 3cx.user[199].roles = system_owners".to_string()));
}

#[test]
fn a_file_that_is_not_a_baseline_is_a_clear_error() {
    let p = std::env::temp_dir().join(format!("sipsentry-notbaseline-{}.json", std::process::id()));
    std::fs::write(&p, "{\"format\":\"other/9\",\"source\":\"x\",\"facts\":{}}").unwrap();
    let e = Baseline::load(&p).unwrap_err().to_string();
    let _ = std::fs::remove_file(&p);
    assert!(e.contains("not a sipsentry audit baseline"), "{e}");
}

//! Issue 7 proof: the stock Asterisk and FreeSWITCH samples yield their known dangers; hardened
//! variants written here yield none. Samples: tests/vectors/pbx-samples/INDEX.md.

use sipsentry_audit::{asterisk, evaluate, freeswitch, Facts, Policy};
use sipsentry_report::Finding;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/pbx-samples")
}

fn ids(f: &[Finding]) -> BTreeSet<String> {
    f.iter().map(|f| f.id.clone()).collect()
}

/// A scratch directory removed on drop (also when an assertion fails).
struct TempDir(PathBuf);
impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("sipsentry-audit-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn write(&self, name: &str, text: &str) {
        let p = self.0.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

fn audit_ast(dir: &Path) -> (Facts, Vec<Finding>) {
    let f = asterisk::collect(dir).unwrap();
    let findings = evaluate(&f, &Policy::default());
    (f, findings)
}

#[test]
fn stock_asterisk_samples_report_their_known_dangers() {
    let (facts, f) = audit_ast(&vectors().join("asterisk/configs/samples"));
    let got = ids(&f);
    for id in [
        "AST-SECURITY-LOG-OFF",
        "AST-SIP-ALLOWGUEST",
        "AST-SIP-DEPRECATED",
        "AST-SIP-NO-SRTP",
    ] {
        assert!(got.contains(id), "{id} missing from {got:?}");
    }
    // AMI is `enabled = no` in the sample: its 0.0.0.0 bind matters only once enabled.
    assert!(!got.contains("AST-AMI-EXPOSED"));
    assert_eq!(facts.get("ast.manager.bindaddr"), Some("0.0.0.0"));
    // `;alwaysauthreject = yes` is commented out but yes is the default: no finding.
    assert!(!got.contains("AST-SIP-AUTHREJECT-OFF"));
    // pjsip.conf.sample is entirely commented out: no endpoint, so no endpoint finding.
    assert!(facts.objects("ast.pjsip.endpoint[").is_empty());
    let guest = f.iter().find(|f| f.id == "AST-SIP-ALLOWGUEST").unwrap();
    assert!(
        guest.evidence[0].contains("context public"),
        "{:?}",
        guest.evidence
    );
}

#[test]
fn stock_ami_enabled_is_exposed_on_all_interfaces() {
    let d = TempDir::new("ami");
    copy_dir(&vectors().join("asterisk/configs/samples"), &d.0);
    let m = std::fs::read_to_string(d.0.join("manager.conf.sample")).unwrap();
    assert!(m.contains("enabled = no"));
    d.write(
        "manager.conf.sample",
        &m.replacen("enabled = no", "enabled = yes", 1),
    );
    let (_, f) = audit_ast(&d.0);
    let ami = f
        .iter()
        .find(|f| f.id == "AST-AMI-EXPOSED")
        .expect("AST-AMI-EXPOSED");
    assert!(
        ami.evidence[0].contains("bindaddr = 0.0.0.0"),
        "{:?}",
        ami.evidence
    );
}

#[test]
fn sample_pjsip_example_endpoint_has_no_media_encryption() {
    let (_, f) = audit_ast(&vectors().join("derived/asterisk-pjsip-example"));
    let got = ids(&f);
    for id in [
        "AST-PJSIP-NO-SRTP",
        "AST-PJSIP-NO-TLS",
        "AST-PJSIP-WEAK-PASSWORD",
    ] {
        assert!(got.contains(id), "{id} missing from {got:?}");
    }
    let srtp = f.iter().find(|f| f.id == "AST-PJSIP-NO-SRTP").unwrap();
    assert_eq!(
        srtp.evidence,
        vec!["endpoint [6001]: media_encryption = no"]
    );
}

#[test]
fn unauthenticated_options_and_authreject_off_are_reported() {
    let d = TempDir::new("opts");
    d.write(
        "pjsip.conf",
        "[t](!)\ntype=endpoint\nallow_unauthenticated_options=yes\n[trunk](t)\nmedia_encryption=sdes\n",
    );
    d.write(
        "sip.conf",
        "[general]\nalwaysauthreject=no\nallowguest=no\nencryption=yes\n",
    );
    let (_, f) = audit_ast(&d.0);
    let got = ids(&f);
    assert!(got.contains("AST-PJSIP-UNAUTH-OPTIONS"), "{got:?}");
    assert!(got.contains("AST-SIP-AUTHREJECT-OFF"), "{got:?}");
    assert!(!got.contains("AST-SIP-ALLOWGUEST"));
}

#[test]
fn guest_context_that_reaches_a_trunk_is_toll_fraud() {
    let d = TempDir::new("guest");
    copy_dir(&vectors().join("asterisk/configs/samples"), &d.0);
    // The stock [public] includes only [demo]; point guests at [international] instead.
    let s = std::fs::read_to_string(d.0.join("sip.conf.sample")).unwrap();
    d.write(
        "sip.conf.sample",
        &s.replacen("context=public", "context=international", 1),
    );
    let (_, f) = audit_ast(&d.0);
    let hit = f
        .iter()
        .find(|f| f.id == "AST-DIALPLAN-GUEST-DIALS-OUT")
        .expect("finding");
    assert!(
        hit.evidence.iter().any(|e| e.contains("trunkint")),
        "{:?}",
        hit.evidence
    );
    // The stock samples (guests in [public] → [demo]) do not dial out.
    let (_, f) = audit_ast(&vectors().join("asterisk/configs/samples"));
    assert!(!ids(&f).contains("AST-DIALPLAN-GUEST-DIALS-OUT"));
}

const STRONG: &str = "vT7#qL9!xR2$mK5@";

#[test]
fn hardened_asterisk_yields_no_finding() {
    let d = TempDir::new("ast-hard");
    d.write(
        "pjsip.conf",
        &format!(
            "[transport-tls]\ntype=transport\nprotocol=tls\nbind=0.0.0.0:5061\ncert_file=/etc/asterisk/keys/a.crt\n\
             [ep](!)\ntype=endpoint\ntransport=transport-tls\nmedia_encryption=sdes\ncontext=from-internal\n\
             [6001](ep)\nauth=6001\naors=6001\n[6001]\ntype=auth\nauth_type=userpass\nusername=6001\npassword={STRONG}\n\
             [6001]\ntype=aor\nmax_contacts=1\n\
             [office]\ntype=acl\ndeny=0.0.0.0/0.0.0.0\npermit=192.0.2.0/255.255.255.0\n"
        ),
    );
    d.write(
        "manager.conf",
        &format!(
            "[general]\nenabled = yes\nport = 5038\nbindaddr = 127.0.0.1\n\
             [crm]\nsecret = {STRONG}\ndeny = 0.0.0.0/0.0.0.0\npermit = 192.0.2.0/255.255.255.0\nread = call\nwrite = call,originate\n"
        ),
    );
    d.write(
        "http.conf",
        "[general]\nenabled=yes\nbindaddr=127.0.0.1\nbindport=8088\n",
    );
    d.write(
        "logger.conf",
        "[general]\n[logfiles]\nconsole => notice,warning,error\nsecurity.log => security\nsyslog.local0 => notice,warning,error,security\n",
    );
    d.write(
        "extensions.conf",
        "[from-internal]\nexten => _6XXX,1,Dial(PJSIP/${EXTEN})\n",
    );
    let (facts, f) = audit_ast(&d.0);
    assert!(f.is_empty(), "hardened Asterisk produced {f:#?}");
    // Secrets are hashed in facts.
    let dump = serde_json::to_string(&facts).unwrap();
    assert!(!dump.contains(STRONG));
}

#[test]
fn stock_freeswitch_reports_its_known_dangers() {
    let facts = freeswitch::collect(&vectors().join("freeswitch/conf/vanilla")).unwrap();
    let f = evaluate(&facts, &Policy::default());
    let got = ids(&f);
    for id in [
        "FS-DEFAULT-PASSWORD",
        "FS-ESL-EXPOSED",
        "FS-ESL-DEFAULT-PASSWORD",
        "FS-ESL-NO-ACL",
        "FS-PROFILE-AUTH-CALLS-OFF",
        "FS-LOG-AUTH-FAILURES-OFF",
        "FS-PROFILE-NO-TLS",
        "FS-TLS-OLD-VERSIONS",
        "FS-USER-WEAK-PASSWORD",
        "FS-ACL-DEFAULT-ALLOW",
        "FS-NO-SRTP",
    ] {
        assert!(got.contains(id), "{id} missing from {got:?}");
    }
    let by = |id: &'static str| f.iter().filter(move |x| x.id == id);
    assert!(by("FS-DEFAULT-PASSWORD").next().unwrap().evidence[0].contains("\"1234\""));
    assert_eq!(
        by("FS-ESL-EXPOSED").next().unwrap().evidence,
        vec!["listen-ip = ::, listen-port = 8021"]
    );
    assert!(by("FS-ESL-DEFAULT-PASSWORD").next().unwrap().evidence[0].contains("ClueCon"));
    // auth-calls=false on external only (internal gets $${internal_auth_calls}=true).
    let auth: Vec<_> = by("FS-PROFILE-AUTH-CALLS-OFF")
        .map(|x| x.target.clone())
        .collect();
    assert_eq!(auth, vec!["sip_profiles/external.xml (profile external)"]);
    let logf: Vec<_> = by("FS-LOG-AUTH-FAILURES-OFF")
        .map(|x| x.evidence[0].clone())
        .collect();
    assert!(
        logf.iter().any(|e| e == "log-auth-failures = false"),
        "{logf:?}"
    );
    assert_eq!(
        facts.get("fs.profile[external].param.auth-calls"),
        Some("false")
    );
    assert_eq!(
        facts.get("fs.profile[internal].param.auth-calls"),
        Some("true")
    );
}

#[test]
fn hardened_freeswitch_yields_no_finding() {
    let d = TempDir::new("fs-hard");
    d.write(
        "vars.xml",
        &format!(
            "<include>\n  <!-- <X-PRE-PROCESS cmd=\"set\" data=\"default_password=1234\"/> -->\n\
             <X-PRE-PROCESS cmd=\"set\" data=\"default_password={STRONG}\"/>\n\
             <X-PRE-PROCESS cmd=\"set\" data=\"sip_tls_version=tlsv1.2\"/>\n\
             <X-PRE-PROCESS cmd=\"set\" data=\"internal_ssl_enable=true\"/>\n\
             <X-PRE-PROCESS cmd=\"set\" data=\"rtp_secure_media=mandatory:AES_CM_128_HMAC_SHA1_80\"/>\n</include>\n"
        ),
    );
    d.write(
        "sip_profiles/internal.xml",
        "<profile name=\"internal\"><settings>\
         <param name=\"auth-calls\" value=\"true\"/><param name=\"log-auth-failures\" value=\"true\"/>\
         <param name=\"apply-inbound-acl\" value=\"domains\"/><param name=\"tls\" value=\"$${internal_ssl_enable}\"/>\
         <param name=\"tls-version\" value=\"$${sip_tls_version}\"/></settings></profile>",
    );
    d.write(
        "sip_profiles/external.xml",
        "<profile name=\"external\"><settings>\
         <param name=\"auth-calls\" value=\"false\"/><param name=\"apply-inbound-acl\" value=\"providers\"/>\
         <param name=\"log-auth-failures\" value=\"true\"/></settings></profile>",
    );
    d.write(
        "autoload_configs/event_socket.conf.xml",
        &format!(
            "<configuration name=\"event_socket.conf\"><settings><param name=\"listen-ip\" value=\"127.0.0.1\"/>\
             <param name=\"listen-port\" value=\"8021\"/><param name=\"password\" value=\"{STRONG}\"/>\
             <param name=\"apply-inbound-acl\" value=\"loopback.auto\"/></settings></configuration>"
        ),
    );
    d.write(
        "autoload_configs/acl.conf.xml",
        "<configuration name=\"acl.conf\"><network-lists><list name=\"providers\" default=\"deny\">\
         <node type=\"allow\" cidr=\"198.51.100.10/32\"/></list></network-lists></configuration>",
    );
    d.write(
        "directory/default/1000.xml",
        "<include><user id=\"1000\"><params><param name=\"password\" value=\"$${default_password}\"/>\
         <param name=\"vm-password\" value=\"739184\"/></params></user></include>",
    );
    let facts = freeswitch::collect(&d.0).unwrap();
    let f = evaluate(&facts, &Policy::default());
    assert!(f.is_empty(), "hardened FreeSWITCH produced {f:#?}");
    assert!(!serde_json::to_string(&facts).unwrap().contains(STRONG));
}

#[test]
fn clear_errors_for_wrong_directories() {
    let e = asterisk::collect(Path::new("/nonexistent/asterisk"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a directory"), "{e}");
    let d = TempDir::new("empty");
    let e = asterisk::collect(&d.0).unwrap_err().to_string();
    assert!(e.contains("Asterisk config directory"), "{e}");
    let e = freeswitch::collect(&d.0).unwrap_err().to_string();
    assert!(e.contains("FreeSWITCH conf directory"), "{e}");
    d.write("vars.xml", "<include><unclosed></include>");
    let e = freeswitch::collect(&d.0).unwrap_err().to_string();
    assert!(e.contains("not well-formed XML"), "{e}");
}

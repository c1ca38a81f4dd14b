//! Issue 7 proof: nftables rulesets created for real in a network namespace this test creates
//! (open, restricted, with a SIP helper) are classified correctly from the live ruleset
//! (`ip netns exec NS nft -j list ruleset`). Needs root, `nft` (package nftables) and `ip`
//! (package iproute2); the namespace is deleted by a Drop guard, also on failure.

use sipsentry_audit::{evaluate, firewall, host, Policy};
use std::collections::BTreeSet;
use std::process::{Command, Stdio};

struct Netns(String);

impl Netns {
    fn new(tag: &str) -> Netns {
        let name = format!("sipsentry-audit-{}-{tag}", std::process::id());
        let st = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .expect("`ip` not found: install the iproute2 package");
        assert!(
            st.success(),
            "ip netns add {name} failed (this test needs root)"
        );
        let ns = Netns(name);
        ns.run(&["ip", "link", "set", "lo", "up"], None);
        ns
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> String {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0]).args(args);
        c.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = c
            .spawn()
            .unwrap_or_else(|e| panic!("{args:?}: {e} (install iproute2 and nftables)"));
        if let Some(s) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{args:?} failed: {} (is the nftables package installed?)",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn load(&self, ruleset: &str) {
        self.run(&["nft", "flush", "ruleset"], None);
        self.run(&["nft", "-f", "-"], Some(ruleset));
    }

    fn audit(&self) -> BTreeSet<String> {
        let json = firewall::live_nft(Some(&self.0)).expect("nft -j list ruleset in the namespace");
        let mut rs = firewall::parse_nft_json(&json).unwrap();
        rs.origin = format!("netns {}", self.0);
        let p = Policy::default();
        evaluate(&firewall::facts_from(&rs, &p), &p)
            .into_iter()
            .map(|f| f.id)
            .collect()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

const OPEN: &str = r#"
table inet filter {
  chain input {
    type filter hook input priority 0; policy accept;
    iifname "lo" accept
    udp dport 5060 accept
    tcp dport { 5038, 8021 } accept
  }
}
"#;

const RESTRICTED: &str = r#"
table inet filter {
  set admins { type ipv4_addr; flags interval; elements = { 192.0.2.0/24 } }
  set trunks { type ipv4_addr; elements = { 198.51.100.10, 198.51.100.11 } }
  chain input {
    type filter hook input priority 0; policy drop;
    iifname "lo" accept
    ct state established,related accept
    ip saddr @admins tcp dport { 22, 5038, 8021, 5001 } accept
    ip saddr @trunks udp dport 5060 limit rate 50/second accept
    ip saddr @admins meta l4proto { tcp, udp } th dport 5060-5061 accept
    ip saddr { 192.0.2.0/24, 198.51.100.10 } udp dport 10000-20000 accept
    ip6 saddr ::/0 tcp dport 5038 accept
  }
}
"#;

const HELPER: &str = r#"
table inet raw {
  ct helper sip-5060 {
    type "sip" protocol udp;
  }
  chain pre {
    type filter hook prerouting priority -300;
    udp dport 5060 ct helper set "sip-5060"
  }
}
"#;

#[test]
fn live_nft_rulesets_in_a_namespace_are_classified() {
    let ns = Netns::new("fw");

    ns.load(OPEN);
    assert_eq!(
        ns.audit(),
        set(&[
            "FW-MGMT-OPEN-ANY",
            "FW-NO-RATE-LIMIT",
            "FW-RTP-OPEN-ANY",
            "FW-SIP-OPEN-ANY"
        ]),
        "open ruleset"
    );

    ns.load(RESTRICTED);
    // The ip6 rule matches only IPv6; the IPv4 probe stays dropped.
    assert_eq!(ns.audit(), set(&[]), "restricted ruleset");

    ns.load(&format!("{RESTRICTED}\n{HELPER}"));
    assert_eq!(
        ns.audit(),
        set(&["FW-SIP-HELPER"]),
        "restricted ruleset plus SIP helper"
    );

    ns.run(&["nft", "flush", "ruleset"], None);
    assert_eq!(
        ns.audit(),
        set(&["FW-NO-INPUT-FILTER", "FW-NO-RATE-LIMIT"]),
        "empty ruleset"
    );
}

#[test]
fn listening_management_socket_in_a_namespace_is_reported() {
    let ns = Netns::new("sock");
    // A real AMI-port listener on all interfaces inside the namespace (not on this host).
    let mut child = Command::new("ip")
        .args(["netns", "exec", &ns.0, "python3", "-c"])
        .arg("import socket,time\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('0.0.0.0',5038))\ns.listen()\nprint('up',flush=True)\ntime.sleep(30)")
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed to open a listener in the namespace");
    {
        use std::io::BufRead;
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "up");
    }
    let root = std::env::temp_dir().join(format!("sipsentry-audit-root-{}", std::process::id()));
    std::fs::create_dir_all(root.join("proc/net")).unwrap();
    for t in ["tcp", "tcp6", "udp", "udp6"] {
        let text = ns.run(&["cat", &format!("/proc/net/{t}")], None);
        std::fs::write(root.join("proc/net").join(t), text).unwrap();
    }
    std::fs::write(
        root.join("proc/modules"),
        "nf_nat_sip 16384 0 - Live 0x0\nnf_conntrack_sip 40960 1 nf_nat_sip, Live 0x0\n",
    )
    .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let p: Policy = Policy::parse("[services]\nlisten = [\"udp/5060\"]\n").unwrap();
    let facts = host::collect(&root);
    let f = evaluate(&facts, &p);
    let _ = std::fs::remove_dir_all(&root);
    let ids: BTreeSet<String> = f.iter().map(|x| x.id.clone()).collect();
    assert_eq!(
        ids,
        set(&[
            "HOST-MGMT-LISTENING",
            "HOST-SIP-ALG-LOADED",
            "HOST-UNEXPECTED-LISTENER"
        ])
    );
    let m = f.iter().find(|x| x.id == "HOST-MGMT-LISTENING").unwrap();
    assert_eq!(m.evidence, vec!["tcp 0.0.0.0 port 5038"]);
}

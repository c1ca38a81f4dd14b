//! `sipsentry watch` against real peers in network namespaces this test creates (and always
//! deletes): Kamailio 5.6 (registrar with digest auth) in a PBX namespace mirrors its traffic
//! by siptrace (HEP3, `trace_mode 1`) to the guard; sipvicious svwar and svcrack attack from an
//! attacker namespace; a legitimate office in a third namespace keeps registering and calling
//! throughout; a trusted trunk fails authentication 1000 times. The guard bans the attacker in
//! its own nftables table and the attacker's further packets are dropped, while nobody
//! legitimate is touched. Then restart (bans restored, none duplicated) and expiry.
//!
//! Addresses are RFC 5737 documentation ranges, which exist only inside these namespaces.
//! Needs root, iproute2, nftables, kamailio, sipsak and sipvicious (installed by .ci/run).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Output};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

const PBX_A: &str = "198.51.100.1"; // PBX address on the attacker's side
const ATTACKER: &str = "198.51.100.66";
const PBX_L: &str = "203.0.113.1"; // PBX address on the office side
const PHONE_1001: &str = "203.0.113.10";
const PHONE_1002: &str = "203.0.113.11";
const TRUNK: &str = "203.0.113.50"; // allow-listed
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn need(cmd: &str, package: &str) {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {cmd}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "{cmd} not found: install the Debian/PyPI package {package} (.ci/run does)"
    );
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn ok(cmd: &mut Command) -> String {
    let o = run(cmd);
    assert!(
        o.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The three namespaces, their processes, and cleanup on every exit path.
struct Lab {
    pbx: String,
    att: String,
    office: String,
    dir: tempfile::TempDir,
    children: Vec<(String, Child)>,
    stop: Arc<AtomicBool>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.stop.store(true, SeqCst);
        for (_, c) in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in [&self.pbx, &self.att, &self.office] {
            let _ = Command::new("ip")
                .args(["netns", "pids", ns])
                .output()
                .map(|o| {
                    for pid in String::from_utf8_lossy(&o.stdout).split_whitespace() {
                        let _ = Command::new("kill").args(["-9", pid]).status();
                    }
                });
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

impl Lab {
    fn in_ns(&self, ns: &str, prog: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns, prog]);
        c
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn new() -> Lab {
        for (c, p) in [
            ("ip", "iproute2"),
            ("nft", "nftables"),
            ("kamailio", "kamailio"),
            ("sipsak", "sipsak"),
            ("sipvicious_svwar", "sipvicious (pip)"),
        ] {
            need(c, p);
        }
        let id = std::process::id() % 100_000;
        let lab = Lab {
            pbx: format!("ssw-pbx-{id}"),
            att: format!("ssw-att-{id}"),
            office: format!("ssw-off-{id}"),
            dir: tempfile::tempdir().unwrap(),
            children: Vec::new(),
            stop: Arc::new(AtomicBool::new(false)),
        };
        for ns in [&lab.pbx, &lab.att, &lab.office] {
            ok(Command::new("ip").args(["netns", "add", ns]));
            ok(Command::new("ip").args(["-n", ns, "link", "set", "lo", "up"]));
        }
        let (a, b, c, d) = (
            format!("swa{id}"),
            format!("swb{id}"),
            format!("swc{id}"),
            format!("swd{id}"),
        );
        ok(Command::new("ip").args([
            "link", "add", &a, "netns", &lab.pbx, "type", "veth", "peer", "name", &b, "netns",
            &lab.att,
        ]));
        ok(Command::new("ip").args([
            "link",
            "add",
            &c,
            "netns",
            &lab.pbx,
            "type",
            "veth",
            "peer",
            "name",
            &d,
            "netns",
            &lab.office,
        ]));
        for (ns, dev, addrs) in [
            (&lab.pbx, &a, vec![PBX_A]),
            (&lab.att, &b, vec![ATTACKER]),
            (&lab.pbx, &c, vec![PBX_L]),
            (&lab.office, &d, vec![PHONE_1001, PHONE_1002, TRUNK]),
        ] {
            for addr in addrs {
                ok(Command::new("ip").args([
                    "-n",
                    ns,
                    "addr",
                    "add",
                    &format!("{addr}/24"),
                    "dev",
                    dev,
                ]));
            }
            ok(Command::new("ip").args(["-n", ns, "link", "set", dev, "up"]));
        }
        lab
    }

    fn spawn(&mut self, name: &str, mut cmd: Command) {
        let log = std::fs::File::create(self.path(&format!("{name}.log"))).unwrap();
        cmd.stdout(log.try_clone().unwrap()).stderr(log);
        let child = cmd.spawn().unwrap_or_else(|e| panic!("{name}: {e}"));
        self.children.push((name.to_string(), child));
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(&format!("{name}.log"))).unwrap_or_default()
    }

    /// `asterisk_log`: Asterisk is not packaged in Debian 12, so for the log-only test Kamailio
    /// writes, at each real authentication failure, the res_security_log line Asterisk would
    /// write (`ASTSEC` marker in its log; [`Lab::ship_security_log`] strips Kamailio's prefix).
    fn start_kamailio(&mut self, asterisk_log: bool) {
        let cfg = std::fs::read_to_string(format!("{ROOT}/lab/kamailio/kamailio.cfg")).unwrap();
        let cfg = cfg
            .replace(
                "listen=udp:127.0.0.20:5060\nlisten=tcp:127.0.0.20:5060",
                &format!("listen=udp:{PBX_A}:5060\nlisten=tcp:{PBX_A}:5060\nlisten=udp:{PBX_L}:5060\nlisten=tcp:{PBX_L}:5060"),
            )
            .replacen("loadmodule \"htable.so\"\n", "loadmodule \"htable.so\"\nloadmodule \"siptrace.so\"\n", 1)
            .replacen(
                "####### Routing logic #########",
                "modparam(\"siptrace\", \"duplicate_uri\", \"sip:127.0.0.1:9060\")\nmodparam(\"siptrace\", \"hep_mode_on\", 1)\nmodparam(\"siptrace\", \"trace_to_database\", 0)\nmodparam(\"siptrace\", \"hep_version\", 3)\nmodparam(\"siptrace\", \"hep_capture_id\", 7)\nmodparam(\"siptrace\", \"trace_on\", 1)\nmodparam(\"siptrace\", \"trace_mode\", 1)\n\n####### Routing logic #########",
                1,
            );
        let cfg = if asterisk_log {
            let ev = |name: &str, account: &str| {
                format!("xlog(\"L_NOTICE\", \"ASTSEC SecurityEvent=\\\"{name}\\\",EventTV=\\\"$timef(%Y-%m-%dT%H:%M:%S)\\\",Severity=\\\"Error\\\",Service=\\\"PJSIP\\\",EventVersion=\\\"1\\\",AccountID=\\\"{account}\\\",SessionID=\\\"$ci\\\",LocalAddress=\\\"IPV4/UDP/$Ri/$Rp\\\",RemoteAddress=\\\"IPV4/UDP/$si/$sp\\\"\\n\");\n\t\t")
            };
            cfg.replacen(
                "\t\tsl_send_reply(\"404\", \"Not Found\");\n\t\texit;\n\t}\n\n\t$var(pw) = $sht(users=>$tU);",
                &format!("\t\t{}sl_send_reply(\"404\", \"Not Found\");\n\t\texit;\n\t}}\n\n\t$var(pw) = $sht(users=>$tU);", ev("InvalidAccountID", "$tU")),
                1,
            )
            .replacen(
                "\t\t# no credentials, wrong password, stale nonce: (re)challenge\n",
                &format!("\t\t# no credentials, wrong password, stale nonce: (re)challenge\n\t\tif (is_present_hf(\"Authorization\")) {{ {} }}\n", ev("ChallengeResponseFailed", "$tU")),
                1,
            )
        } else {
            cfg
        };
        assert!(
            !asterisk_log || cfg.matches("ASTSEC").count() == 2,
            "lab config changed shape"
        );
        assert!(
            cfg.contains("siptrace.so") && cfg.contains(PBX_L),
            "lab config changed shape"
        );
        std::fs::write(self.path("kamailio.cfg"), cfg).unwrap();
        let run_dir = self.path("kam");
        std::fs::create_dir_all(&run_dir).unwrap();
        let mut c = self.in_ns(&self.pbx.clone(), "kamailio");
        c.arg("-f")
            .arg(self.path("kamailio.cfg"))
            .args(["-DD", "-E", "-Y"])
            .arg(&run_dir)
            .arg("-P")
            .arg(run_dir.join("pid"));
        self.spawn("kamailio", c);
        // Ready when it answers OPTIONS from the office side.
        let ready = (0..50).any(|_| {
            std::thread::sleep(Duration::from_millis(200));
            run(self.in_ns(&self.office.clone(), "sipsak").args([
                "-s",
                &format!("sip:{PBX_L}"),
                "--local-ip",
                PHONE_1001,
            ]))
            .status
            .success()
        });
        assert!(ready, "kamailio did not start:\n{}", self.log("kamailio"));
    }

    /// Moves the `ASTSEC` lines Kamailio logs into `security.log`, as Asterisk's
    /// res_security_log writes them (`[date] SECURITY[pid] res_security_log.c: ...`). Bounded by
    /// the stop flag.
    fn ship_security_log(&self) -> std::thread::JoinHandle<()> {
        let (src, dst, stop) = (
            self.path("kamailio.log"),
            self.path("security.log"),
            self.stop.clone(),
        );
        std::fs::write(&dst, "").unwrap();
        std::thread::spawn(move || {
            let mut shipped = 0;
            while !stop.load(SeqCst) {
                let text = std::fs::read_to_string(&src).unwrap_or_default();
                let lines: Vec<&str> = text
                    .lines()
                    .filter_map(|l| l.split_once("ASTSEC ").map(|(_, r)| r))
                    .collect();
                if lines.len() > shipped {
                    let mut f = std::fs::OpenOptions::new().append(true).open(&dst).unwrap();
                    for l in &lines[shipped..] {
                        let now = std::process::Command::new("date")
                            .arg("+%Y-%m-%d %H:%M:%S")
                            .output()
                            .unwrap();
                        let _ = writeln!(
                            f,
                            "[{}] SECURITY[4242] res_security_log.c: {l}",
                            String::from_utf8_lossy(&now.stdout).trim()
                        );
                    }
                    shipped = lines.len();
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    }

    fn write_config(&self, input: &str) {
        std::fs::write(self.path("token"), "test-token\n").unwrap();
        std::fs::write(
            self.path("policy.toml"),
            format!("trusted_networks = [\"{TRUNK}\"]\n"),
        )
        .unwrap();
        std::fs::write(
            self.path("watch.toml"),
            format!("policy = \"policy.toml\"\n{input}\n[response]\nmode = \"enforce\"\nprotect = [\"udp:5060\", \"tcp:5060\"]\n[store]\npath = \"guard.db\"\n[api]\nlisten = \"127.0.0.1:9961\"\ntoken_file = \"token\"\n"),
        )
        .unwrap();
    }

    fn start_watch(&mut self, run_no: u32) {
        let mut c = self.in_ns(&self.pbx.clone(), env!("CARGO_BIN_EXE_sipsentry"));
        c.args(["watch", "--config"]).arg(self.path("watch.toml"));
        self.spawn(&format!("watch{run_no}"), c);
        let pbx = self.pbx.clone();
        let up = (0..50).any(|_| {
            std::thread::sleep(Duration::from_millis(100));
            run(self
                .in_ns(&pbx, "nft")
                .args(["list", "set", "inet", "sipsentry", "ban4"]))
            .status
            .success()
                && self.log(&format!("watch{run_no}")).contains("watching")
        });
        assert!(
            up,
            "watch did not start:\n{}",
            self.log(&format!("watch{run_no}"))
        );
    }

    fn stop_watch(&mut self, run_no: u32) {
        let name = format!("watch{run_no}");
        let i = self.children.iter().position(|(n, _)| *n == name).unwrap();
        let (_, mut child) = self.children.remove(i);
        // The guard runs as a child of `ip netns exec`, which execs it: same pid.
        ok(Command::new("kill").args(["-TERM", &child.id().to_string()]));
        let status = child.wait().unwrap();
        assert!(
            status.success(),
            "watch exited with {status}:\n{}",
            self.log(&name)
        );
    }

    fn banned(&self) -> Vec<String> {
        let out = run(self.in_ns(&self.pbx, "nft").args([
            "-j",
            "list",
            "set",
            "inet",
            "sipsentry",
            "ban4",
        ]));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let mut found = Vec::new();
        for item in v["nftables"].as_array().into_iter().flatten() {
            for e in item["set"]["elem"].as_array().into_iter().flatten() {
                let ip = e["elem"]["val"]
                    .as_str()
                    .or_else(|| e.as_str())
                    .unwrap_or("");
                found.push(ip.to_string());
            }
        }
        found
    }

    fn drops(&self) -> u64 {
        let out = ok(self.in_ns(&self.pbx, "nft").args([
            "-j",
            "list",
            "counters",
            "table",
            "inet",
            "sipsentry",
        ]));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v["nftables"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i["counter"]["packets"].as_u64())
            .sum()
    }

    fn sipsentry(&self, args: &[&str]) -> Output {
        let mut c = self.in_ns(&self.pbx, env!("CARGO_BIN_EXE_sipsentry"));
        c.args(args).arg("--config").arg(self.path("watch.toml"));
        run(&mut c)
    }
}

fn password(user: &str) -> String {
    let cfg = std::fs::read_to_string(format!("{ROOT}/lab/kamailio/kamailio.cfg")).unwrap();
    let key = format!("$sht(users=>{user}) = \"");
    let line = cfg.lines().find(|l| l.contains(&key)).unwrap();
    line.split('"').nth(1).unwrap().to_string()
}

fn wait_for(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    (0..secs * 10).any(|_| {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
        false
    })
}

fn alerts_for(jsonl: &str, ip: &str) -> Vec<String> {
    jsonl
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| {
            v["event"] == "alert"
                && v["source"]
                    .as_str()
                    .is_some_and(|s| s.starts_with(&format!("{ip}:")))
        })
        .map(|v| v["id"].as_str().unwrap_or("").to_string())
        .collect()
}

struct Office {
    thread: std::thread::JoinHandle<()>,
    ok: Arc<AtomicU32>,
    fail: Arc<AtomicU32>,
}

impl Office {
    fn finish(self, lab: &Lab) {
        lab.stop.store(true, SeqCst);
        self.thread.join().unwrap();
        let (good, bad) = (self.ok.load(SeqCst), self.fail.load(SeqCst));
        assert!(good >= 5, "office registrations: {good} ok");
        assert_eq!(
            bad, 0,
            "office registrations failed {bad} times during the attack"
        );
    }
}

/// The office: 1001 re-registers every second throughout (Contact on its UAS, which answers
/// calls); counted. Bounded by the stop flag and a hard cap of 240 rounds.
fn office(lab: &mut Lab) -> Office {
    // The office: 1001 re-registers every second throughout (Contact on its UAS, which
    // answers calls); counted. Bounded by the stop flag and a hard cap of 240 rounds.
    let mut uas = lab.in_ns(&lab.office.clone(), "python3");
    uas.arg(format!("{ROOT}/lab/sipua.py")).args([
        "uas",
        "--bind",
        &format!("{PHONE_1001}:5061"),
        "--user",
        "1001",
        "--duration",
        "120",
    ]);
    lab.spawn("uas", uas);
    let (reg_ok, reg_fail) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
    let thread = {
        let (office, stop, okc, failc) = (
            lab.office.clone(),
            lab.stop.clone(),
            reg_ok.clone(),
            reg_fail.clone(),
        );
        let pw = password("1001");
        std::thread::spawn(move || {
            for _ in 0..240 {
                if stop.load(SeqCst) {
                    break;
                }
                let o = Command::new("ip")
                    .args([
                        "netns",
                        "exec",
                        &office,
                        "timeout",
                        "8",
                        "sipsak",
                        "--local-ip",
                        PHONE_1001,
                        "-H",
                        PHONE_1001,
                        "-U",
                        "-i",
                        "-x",
                        "60",
                    ])
                    .args([
                        "-C",
                        &format!("sip:1001@{PHONE_1001}:5061"),
                        "-s",
                        &format!("sip:1001@{PBX_L}"),
                        "-a",
                        &pw,
                    ])
                    .output()
                    .unwrap();
                if o.status.success() {
                    okc.fetch_add(1, SeqCst)
                } else {
                    failc.fetch_add(1, SeqCst)
                };
                std::thread::sleep(Duration::from_secs(1));
            }
        })
    };
    assert!(
        wait_for(20, || reg_ok.load(SeqCst) >= 2),
        "office could not register"
    );

    Office {
        thread,
        ok: reg_ok,
        fail: reg_fail,
    }
}

/// svwar enumerates from the attacker's namespace: the guard bans it; then svcrack and an
/// OPTIONS probe get no reply and the drop counters rise. Returns svwar's output.
fn attack_is_banned(lab: &mut Lab, watch_log: &str) -> String {
    // The attack: svwar enumerates, svcrack guesses 2000's password.
    let svwar = run(lab.in_ns(&lab.att.clone(), "timeout").args([
        "40",
        "sipvicious_svwar",
        "-m",
        "REGISTER",
        "-e1000-1020,2000",
        PBX_A,
    ]));
    let svwar_out = String::from_utf8_lossy(&svwar.stdout).to_string();
    assert!(
        wait_for(15, || lab.banned().contains(&ATTACKER.to_string())),
        "attacker not banned; sets: {:?}\nwatch:\n{}",
        lab.banned(),
        lab.log(watch_log)
    );
    let drops_before = lab.drops();
    let svcrack = run(lab
        .in_ns(&lab.att.clone(), "timeout")
        .args(["40", "sipvicious_svcrack", "-u", "2000", "-d"])
        .arg(format!("{ROOT}/lab/passwords.txt"))
        .arg(PBX_A));
    let svcrack_out = String::from_utf8_lossy(&svcrack.stdout).to_string()
        + &String::from_utf8_lossy(&svcrack.stderr);
    // Banned: the attacker gets no replies and its packets are counted as dropped.
    assert!(
        !svcrack_out.contains("| 2000 "),
        "svcrack still got answers after the ban:\n{svcrack_out}"
    );
    let probe = run(lab.in_ns(&lab.att.clone(), "timeout").args([
        "5",
        "sipsak",
        "-s",
        &format!("sip:{PBX_A}"),
        "--local-ip",
        ATTACKER,
    ]));
    assert!(
        !probe.status.success(),
        "attacker's OPTIONS was answered after the ban"
    );
    assert!(lab.drops() > drops_before, "nft drop counters did not rise");

    svwar_out
}

#[test]
fn watch_bans_sipvicious_via_kamailio_siptrace_while_the_office_keeps_working() {
    let mut lab = Lab::new();
    lab.start_kamailio(false);
    lab.write_config("[inputs.hep]\nudp = \"127.0.0.1:9060\"\ntcp = \"\"");
    lab.start_watch(1);
    let office = office(&mut lab);
    let svwar_out = attack_is_banned(&mut lab, "watch1");
    // A trusted trunk failing authentication 1000 times: alerted, never banned.
    let words: String = (0..1000).map(|i| format!("wrong{i}\n")).collect();
    std::fs::write(lab.path("wrong.txt"), words).unwrap();
    let _ = run(lab
        .in_ns(&lab.office.clone(), "timeout")
        .args([
            "90",
            "python3",
            &format!("{ROOT}/lab/sv_bind.py"),
            TRUNK,
            "svcrack",
            "-u",
            "2000",
            "-d",
        ])
        .arg(lab.path("wrong.txt"))
        .arg(PBX_L));

    // The office placed calls during all this: 1002 calls 1001 twice, authenticated.
    let calls = run(lab.in_ns(&lab.office.clone(), "timeout").args([
        "40",
        "python3",
        &format!("{ROOT}/lab/sipua.py"),
        "call",
        "--bind",
        &format!("{PHONE_1002}:5062"),
        "--user",
        "1002",
        "--password",
        &password("1002"),
        "--proxy",
        &format!("{PBX_L}:5060"),
        "--to",
        "1001",
        "--calls",
        "2",
        "--hold",
        "1",
        "--gap",
        "1",
    ]));
    assert!(
        calls.status.success(),
        "office calls failed: {}{}",
        String::from_utf8_lossy(&calls.stdout),
        String::from_utf8_lossy(&calls.stderr)
    );

    std::thread::sleep(Duration::from_secs(2));
    let jsonl = lab.log("watch1");
    let banned = lab.banned();
    assert_eq!(
        banned,
        vec![ATTACKER.to_string()],
        "only the attacker is banned"
    );
    for ip in [PHONE_1001, PHONE_1002] {
        assert!(
            alerts_for(&jsonl, ip).is_empty(),
            "legitimate {ip} alerted: {:?}",
            alerts_for(&jsonl, ip)
        );
    }
    let trunk_alerts = alerts_for(&jsonl, TRUNK);
    assert!(
        trunk_alerts.contains(&"AUTH-BRUTEFORCE".to_string()),
        "trunk failures not seen: {trunk_alerts:?}"
    );
    let trunk_bans = jsonl
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "ban" && v["net"] == format!("{TRUNK}/32"))
        .count();
    assert_eq!(trunk_bans, 0, "the trusted trunk was banned");
    // Kamailio logs every request it routes: the trunk really failed 1000 times.
    let kam = lab.log("kamailio");
    let trunk_requests = kam
        .lines()
        .filter(|l| l.contains("req REGISTER") && l.contains(&format!(" from {TRUNK}:")))
        .count();
    assert!(
        trunk_requests >= 1000,
        "trunk sent only {trunk_requests} REGISTERs"
    );
    let attacker_alerts = alerts_for(&jsonl, ATTACKER);
    assert!(
        attacker_alerts.contains(&"SIP-ENUMERATION".to_string())
            || attacker_alerts.contains(&"SIP-SCANNER".to_string()),
        "{attacker_alerts:?}"
    );
    // svwar found the extensions before the ban cut it off (the leak is real).
    assert!(
        svwar_out.contains("1001"),
        "svwar found nothing:\n{svwar_out}"
    );

    // Restart 1: the kernel still holds the ban; after restart it is there once, and the store
    // holds one active ban, not two.
    lab.stop_watch(1);
    lab.start_watch(2);
    assert_eq!(lab.banned(), vec![ATTACKER.to_string()]);
    let list = lab.sipsentry(&["ban", "list", "--json"]);
    let bans: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(bans.as_array().unwrap().len(), 1, "{bans}");
    // Restart 2 after the table was lost (reboot): restored from the store.
    lab.stop_watch(2);
    ok(lab
        .in_ns(&lab.pbx.clone(), "nft")
        .args(["delete", "table", "inet", "sipsentry"]));
    lab.start_watch(3);
    assert!(
        wait_for(5, || lab.banned() == vec![ATTACKER.to_string()]),
        "ban not restored: {:?}",
        lab.banned()
    );

    // By hand, with expiry: a 2 s ban appears in the kernel and is gone after it expires.
    let add = lab.sipsentry(&["ban", "add", "198.51.100.77", "--seconds", "2"]);
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    assert!(lab.banned().contains(&"198.51.100.77".to_string()));
    assert!(
        wait_for(6, || !lab.banned().contains(&"198.51.100.77".to_string())),
        "kernel kept an expired ban"
    );
    assert!(wait_for(3, || {
        let l = lab.sipsentry(&["ban", "list", "--json"]);
        !String::from_utf8_lossy(&l.stdout).contains("198.51.100.77")
    }));
    // Allow-listed and local addresses are refused by hand too.
    for net in [TRUNK, "127.0.0.1", PBX_L, "203.0.113.0/24"] {
        let o = lab.sipsentry(&["ban", "add", net]);
        assert!(!o.status.success(), "{net} was banned by hand");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("refused"),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    office.finish(&lab);
    lab.stop_watch(3);
}

/// The same defence with live capture (libpcap on the PBX namespace's interfaces) instead of
/// HEP: Kamailio sends no mirror at all here.
#[test]
fn watch_bans_sipvicious_from_live_capture() {
    let mut lab = Lab::new();
    lab.start_kamailio(false);
    lab.write_config("[inputs.capture]\ninterface = \"any\"\nsip_ports = [5060]");
    lab.start_watch(1);
    let office = office(&mut lab);
    attack_is_banned(&mut lab, "watch1");
    let jsonl = lab.log("watch1");
    for ip in [PHONE_1001, PHONE_1002] {
        assert!(alerts_for(&jsonl, ip).is_empty(), "legitimate {ip} alerted");
    }
    assert_eq!(lab.banned(), vec![ATTACKER.to_string()]);
    office.finish(&lab);
    lab.stop_watch(1);
}

/// The same defence with an Asterisk-format security log as the only input (no HEP, no
/// capture): the guard follows the file and bans from its lines.
#[test]
fn watch_bans_from_an_asterisk_security_log_alone() {
    let mut lab = Lab::new();
    lab.start_kamailio(true);
    let shipper = lab.ship_security_log();
    lab.write_config("[[inputs.log]]\npath = \"security.log\"");
    lab.start_watch(1);
    let office = office(&mut lab);
    attack_is_banned(&mut lab, "watch1");
    assert_eq!(lab.banned(), vec![ATTACKER.to_string()]);
    let log = std::fs::read_to_string(lab.path("security.log")).unwrap();
    assert!(
        log.contains("InvalidAccountID"),
        "no security events shipped"
    );
    office.finish(&lab);
    shipper.join().unwrap();
    lab.stop_watch(1);
}

//! Benchmark of the nftables owner, run by `bench/guard-bench.sh` (root; nftables, iproute2,
//! fail2ban). Everything happens in a network namespace this program creates and deletes.
//!
//! 1. latency: one ban per `ban_batch` call; time until the call returns (kernel transaction
//!    committed) and until `nft list set` shows the element; p50/p99 over N bans;
//! 2. throughput: elements/s for batches of 1, 100, 1000 (and 10 000) fresh elements, and for
//!    re-banning (refreshing) 1000 present ones;
//! 3. with `--fail2ban`: the same latency through fail2ban 1.0.x's `nftables-multiport` action
//!    (`fail2ban-client set JAIL banip IP`, and a failure line appended to a watched log file),
//!    and `banip` of 1000 addresses at once.
//!
//! Usage: nft_bench [--samples N] [--fail2ban]

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sipsentry_nft::{Ban, Firewall, FirewallConfig, IpNet, PortRange, Proto};

struct Ns(String);

impl Ns {
    fn new() -> Ns {
        let name = format!("ssg-bench-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        run(&["ip", "netns", "add", &name]);
        run(&["ip", "-n", &name, "link", "set", "lo", "up"]);
        Ns(name)
    }
    fn list_set(&self, table: &str, set: &str) -> String {
        run(&[
            "ip", "netns", "exec", &self.0, "nft", "list", "set", "inet", table, set,
        ])
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

fn run(args: &[&str]) -> String {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether `listing` (nft text output) holds `ip` as a whole token.
fn has_elem(listing: &str, ip: &str) -> bool {
    listing
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '{' | '}'))
        .any(|t| t == ip)
}

fn addr(block: u8, i: u32) -> Ipv4Addr {
    // 10.<block>.x.y: unique per benchmark phase, only inside the namespace
    Ipv4Addr::new(10, block, (i / 250) as u8, (i % 250 + 1) as u8)
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    let idx = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[idx]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn wait_visible(ns: &Ns, table: &str, set: &str, ip: &str, t0: Instant) -> Duration {
    let deadline = t0 + Duration::from_secs(30);
    loop {
        if has_elem(&ns.list_set(table, set), ip) {
            return t0.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "{ip} never appeared in {table}/{set}"
        );
    }
}

fn main() {
    let mut samples = 300usize;
    let mut with_f2b = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--samples" => {
                samples = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .expect("--samples N")
            }
            "--fail2ban" => with_f2b = true,
            _ => panic!("usage: nft_bench [--samples N] [--fail2ban]"),
        }
    }
    let samples = samples.clamp(10, 5_000);
    let ns = Ns::new();
    let fw = Firewall::new(FirewallConfig {
        netns: Some(ns.0.clone()),
        ports: vec![PortRange::one(Proto::Udp, 5060)],
        ..Default::default()
    })
    .unwrap();
    fw.install().unwrap();
    println!("nft_bench: {samples} samples, namespace {}", ns.0);
    println!("nft: {}", run(&["nft", "--version"]).trim());

    // 1. latency
    println!(
        "kernel updates timeouts on plain add (6.10+): {}",
        fw.add_refreshes_timeout()
    );
    println!("\n## sipsentry-nft: one ban per call ({samples} bans per row)");
    println!("| call | returns (transaction committed) p50 / p99 | element seen by a following `nft list set` p50 / p99 |\n|---|---|---|");
    let dance = Firewall::new(fw.config().clone()).unwrap();
    dance.assume_add_refreshes_timeout(false);
    for (label, f, block) in [
        ("ban_batch (auto: plain add on this kernel)", &fw, 1u8),
        (
            "ban_batch forced \"add, delete, add\" (pre-6.10 kernels)",
            &dance,
            2,
        ),
        ("add_bans (plain add)", &fw, 3),
    ] {
        let (mut call, mut vis) = (Vec::new(), Vec::new());
        for i in 0..samples as u32 {
            let ip = addr(block, i);
            let ban = [Ban {
                net: IpNet::host(IpAddr::V4(ip)),
                timeout: Duration::from_secs(3600),
            }];
            let t0 = Instant::now();
            let out = if block == 3 {
                f.add_bans(&ban)
            } else {
                f.ban_batch(&ban)
            }
            .unwrap();
            assert_eq!(out.applied.len(), 1);
            call.push(t0.elapsed());
            vis.push(wait_visible(&ns, "sipsentry", "ban4", &ip.to_string(), t0));
        }
        println!(
            "| {label} | {} / {} | {} / {} |",
            ms(pct(&mut call, 0.5)),
            ms(pct(&mut call, 0.99)),
            ms(pct(&mut vis, 0.5)),
            ms(pct(&mut vis, 0.99))
        );
    }

    // 2. throughput
    println!("\n## sipsentry-nft: batch throughput (fresh elements)");
    println!(
        "| batch size | batches | median batch time | elements/s (median) |\n|---|---|---|---|"
    );
    let mut block = 10u8;
    fw.remove().unwrap();
    fw.install().unwrap();
    for (size, reps) in [(1usize, 200usize), (100, 30), (1000, 10), (10_000, 3)] {
        let mut times = Vec::new();
        for _ in 0..reps {
            // a fresh 10.<block>.0.0/16 per batch, so every element is new
            block = block.wrapping_add(1);
            let bans: Vec<Ban> = (0..size as u32)
                .map(|i| Ban {
                    net: IpNet::host(IpAddr::V4(addr(block, i))),
                    timeout: Duration::from_secs(3600),
                })
                .collect();
            let t0 = Instant::now();
            fw.ban_batch(&bans).unwrap();
            times.push(t0.elapsed());
            if block > 250 {
                block = 10;
                fw.remove().unwrap();
                fw.install().unwrap();
            }
        }
        let med = pct(&mut times, 0.5);
        println!(
            "| {size} | {reps} | {} | {:.0} |",
            ms(med),
            size as f64 / med.as_secs_f64()
        );
    }
    // refresh of present elements (escalation re-ban)
    let bans: Vec<Ban> = (0..1000u32)
        .map(|i| Ban {
            net: IpNet::host(IpAddr::V4(addr(5, i))),
            timeout: Duration::from_secs(3600),
        })
        .collect();
    fw.ban_batch(&bans).unwrap();
    let mut times = Vec::new();
    for _ in 0..10 {
        let t0 = Instant::now();
        fw.ban_batch(&bans).unwrap();
        times.push(t0.elapsed());
    }
    let med = pct(&mut times, 0.5);
    println!(
        "| 1000 already present (refresh) | 10 | {} | {:.0} |",
        ms(med),
        1000.0 / med.as_secs_f64()
    );
    fw.remove().unwrap();

    if with_f2b {
        fail2ban(&ns, samples.min(100));
    }
}

struct F2b {
    dir: PathBuf,
    server: Child,
    ns: String,
}

impl F2b {
    fn client(&self, args: &[&str]) -> String {
        let conf = self.dir.join("conf");
        let sock = self.dir.join("f2b.sock");
        let mut a = vec![
            "ip",
            "netns",
            "exec",
            &self.ns,
            "/usr/bin/fail2ban-client",
            "-c",
            conf.to_str().unwrap(),
            "-s",
            sock.to_str().unwrap(),
        ];
        a.extend_from_slice(args);
        run(&a)
    }
}

impl Drop for F2b {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.client(&["stop"])));
        std::thread::sleep(Duration::from_millis(300));
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn fail2ban(ns: &Ns, samples: usize) {
    let dir = std::env::temp_dir().join(format!("ssg-f2b-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let conf = dir.join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    run(&["cp", "-r", "/etc/fail2ban/.", conf.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(conf.join("jail.d"));
    std::fs::create_dir_all(conf.join("jail.d")).unwrap();
    let log = dir.join("sip.log");
    std::fs::write(&log, "").unwrap();
    std::fs::write(
        conf.join("fail2ban.local"),
        format!(
            "[Definition]\nlogtarget = {}\ndbfile = :memory:\nsocket = {}\npidfile = {}\n",
            dir.join("f2b.log").display(),
            dir.join("f2b.sock").display(),
            dir.join("f2b.pid").display()
        ),
    )
    .unwrap();
    std::fs::write(
        conf.join("filter.d/ssg-bench.conf"),
        "[Definition]\nfailregex = ^auth failure from <HOST>$\ndatepattern = {NONE}\n",
    )
    .unwrap();
    std::fs::write(
        conf.join("jail.local"),
        format!(
            "[DEFAULT]\nbackend = auto\n\n[sip]\nenabled = true\nfilter = ssg-bench\nlogpath = {}\nmaxretry = 1\nfindtime = 600\nbantime = 3600\n\
             action = nftables-multiport[name=sip, port=\"5060\", protocol=udp]\n",
            log.display()
        ),
    )
    .unwrap();
    let server = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.0,
            "/usr/bin/fail2ban-server",
            "-f",
            "-x",
            "-c",
        ])
        .arg(&conf)
        .args(["-s"])
        .arg(dir.join("f2b.sock"))
        .args(["-p"])
        .arg(dir.join("f2b.pid"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start fail2ban-server");
    let f2b = F2b {
        dir: dir.clone(),
        server,
        ns: ns.0.clone(),
    };
    let t0 = Instant::now();
    loop {
        let ok = Command::new("ip")
            .args(["netns", "exec", &ns.0, "/usr/bin/fail2ban-client", "-c"])
            .arg(&conf)
            .arg("-s")
            .arg(dir.join("f2b.sock"))
            .args(["status", "sip"])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "fail2ban-server did not start; see {}",
            dir.join("f2b.log").display()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let version = run(&["/usr/bin/fail2ban-client", "--version"]);
    println!(
        "\n## fail2ban {} (nftables-multiport action, backend auto), same namespace",
        version.trim()
    );
    // the set appears with the first ban (actionstart runs lazily)
    let table = "f2b-table";
    let set = "addr-set-sip";

    let mut cmd = Vec::new();
    for i in 0..samples as u32 {
        let ip = addr(7, i).to_string();
        let t0 = Instant::now();
        f2b.client(&["set", "sip", "banip", &ip]);
        cmd.push(wait_visible(ns, table, set, &ip, t0));
    }
    let mut logl = Vec::new();
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    for i in 0..samples as u32 {
        let ip = addr(8, i).to_string();
        let t0 = Instant::now();
        writeln!(f, "auth failure from {ip}").unwrap();
        f.flush().unwrap();
        logl.push(wait_visible(ns, table, set, &ip, t0));
    }
    println!("| measure ({samples} bans) | p50 | p99 | max |\n|---|---|---|---|");
    let (mc, ml) = (*cmd.iter().max().unwrap(), *logl.iter().max().unwrap());
    println!(
        "| `fail2ban-client set sip banip IP` → element in set | {} | {} | {} |",
        ms(pct(&mut cmd, 0.5)),
        ms(pct(&mut cmd, 0.99)),
        ms(mc)
    );
    println!(
        "| failure line appended to the log → element in set | {} | {} | {} |",
        ms(pct(&mut logl, 0.5)),
        ms(pct(&mut logl, 0.99)),
        ms(ml)
    );

    // 1000 addresses in one banip command
    let ips: Vec<String> = (0..1000u32).map(|i| addr(9, i).to_string()).collect();
    let mut a = vec!["set", "sip", "banip"];
    a.extend(ips.iter().map(String::as_str));
    let t0 = Instant::now();
    f2b.client(&a);
    let last = ips.last().unwrap();
    let deadline = t0 + Duration::from_secs(600);
    loop {
        let l = ns.list_set(table, set);
        if ips.iter().all(|ip| has_elem(&l, ip)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "fail2ban did not ban 1000 addresses within 600 s (last {last})"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let el = t0.elapsed();
    println!(
        "| 1000 addresses in one `banip` → all in set | {} total | {:.0} elements/s | |",
        ms(el),
        1000.0 / el.as_secs_f64()
    );
    drop(f2b);
}

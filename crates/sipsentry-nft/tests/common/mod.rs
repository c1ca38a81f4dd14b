//! Network-namespace lab for the nftables tests: namespaces named `ssg-<tag>-<pid>`, created by
//! the test and deleted by a Drop guard (also when the test fails).
#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::{Duration, Instant};

use sipsentry_nft::{Firewall, FirewallConfig, PortRange, Proto};

/// Fails (never skips) when a tool is missing, naming the Debian package.
pub fn require_tools() {
    for (bin, pkg) in [("nft", "nftables"), ("ip", "iproute2")] {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
            .unwrap_or(false)
            || ["/usr/sbin", "/sbin"]
                .iter()
                .any(|d| std::path::Path::new(d).join(bin).is_file());
        assert!(
            found,
            "`{bin}` not found: install the Debian package `{pkg}` (see .ci/deps.d/20-guard.sh)"
        );
    }
    assert!(
        unsafe_geteuid_is_root(),
        "these tests create network namespaces and need root (CAP_SYS_ADMIN, CAP_NET_ADMIN)"
    );
}

fn unsafe_geteuid_is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Runs a command and returns stdout; panics with stderr on failure.
pub fn sh(args: &[&str]) -> String {
    let out = Command::new(args[0])
        .args(&args[1..])
        .env("LC_ALL", "C")
        .output()
        .unwrap_or_else(|e| panic!("run {args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A network namespace deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(tag: &str) -> Netns {
        let name = format!("ssg-{tag}-{}", std::process::id());
        // A leftover from a killed earlier run with the same pid would make `add` fail.
        let _ = Command::new("ip").args(["netns", "del", &name]).output();
        sh(&["ip", "netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    pub fn ip(&self, args: &[&str]) -> String {
        let mut a = vec!["ip", "-n", &self.name];
        a.extend_from_slice(args);
        sh(&a)
    }

    /// `nft` inside the namespace.
    pub fn nft(&self, args: &[&str]) -> String {
        let mut a = vec!["ip", "netns", "exec", &self.name, "nft"];
        a.extend_from_slice(args);
        sh(&a)
    }

    pub fn nft_script(&self, script: &str) {
        use std::io::Write;
        let mut c = Command::new("ip")
            .args(["netns", "exec", &self.name, "nft", "-f", "-"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        assert!(c.wait().unwrap().success(), "nft script failed:\n{script}");
    }

    /// Runs `f` on a thread that has entered this namespace (setns is per thread); sockets
    /// created there stay in the namespace wherever they are used afterwards.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let f_ns = std::fs::File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
            // SAFETY: valid fd of a network-namespace file; affects only this thread.
            let rc = unsafe { libc::setns(f_ns.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
            f()
        })
        .join()
        .expect("namespace thread panicked")
    }

    pub fn firewall(&self, table: &str) -> Firewall {
        Firewall::new(FirewallConfig {
            table: table.into(),
            ports: vec![
                PortRange::one(Proto::Udp, 5060),
                PortRange {
                    proto: Proto::Tcp,
                    lo: 5060,
                    hi: 5061,
                },
                PortRange {
                    proto: Proto::Udp,
                    lo: 10000,
                    hi: 20000,
                },
            ],
            netns: Some(self.name.clone()),
            ..Default::default()
        })
        .unwrap()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// Addresses of the two-namespace lab (private to the namespaces: nothing leaves them).
pub const PBX4: &str = "192.0.2.1";
pub const ATT4: &str = "192.0.2.2";
pub const GOOD4: &str = "192.0.2.3";
pub const PBX4B: &str = "198.51.100.1";
pub const ATT4NET: &str = "198.51.100.7";
pub const PBX6: &str = "2001:db8::1";
pub const ATT6: &str = "2001:db8::2";
pub const GOOD6: &str = "2001:db8::3";

/// The protected namespace (`pbx`) and an attacker namespace joined by a veth pair. The
/// attacker side holds a banned and a not-banned address of each kind.
pub struct Lab {
    pub pbx: Netns,
    pub att: Netns,
}

impl Lab {
    pub fn new(tag: &str) -> Lab {
        let pbx = Netns::new(&format!("{tag}p"));
        let att = Netns::new(&format!("{tag}a"));
        pbx.ip(&[
            "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", &att.name,
        ]);
        for (ns, dev, addrs) in [
            (
                &pbx,
                "veth0",
                vec![
                    format!("{PBX4}/24"),
                    format!("{PBX4B}/24"),
                    format!("{PBX6}/64"),
                ],
            ),
            (
                &att,
                "veth1",
                vec![
                    format!("{ATT4}/24"),
                    format!("{GOOD4}/24"),
                    format!("{ATT4NET}/24"),
                    format!("{ATT6}/64"),
                    format!("{GOOD6}/64"),
                ],
            ),
        ] {
            for a in addrs {
                let mut args = vec!["addr", "add", a.as_str(), "dev", dev];
                if a.contains(':') {
                    args.push("nodad");
                }
                ns.ip(&args);
            }
            ns.ip(&["link", "set", dev, "up"]);
        }
        let lab = Lab { pbx, att };
        lab.wait_reachable();
        lab
    }

    /// Waits until an unbanned UDP datagram gets through both ways (link up, ND done).
    fn wait_reachable(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.probe(&[(GOOD4, PBX4), (GOOD6, PBX6)], 5099);
            if got.len() == 2 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "lab never became reachable: {got:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends 3 datagrams from each `(src, dst)` to `dst:port`, where a UDP echo server listens
    /// in the PBX namespace, and returns the source addresses the server received from
    /// (deduplicated). Also asserts that exactly those sources got echo replies: a banned
    /// attacker gets no answers, everyone else does.
    pub fn probe(&self, pairs: &[(&str, &str)], port: u16) -> Vec<IpAddr> {
        let dsts: Vec<IpAddr> = pairs.iter().map(|p| p.1.parse().unwrap()).collect();
        let servers: Vec<UdpSocket> = self.pbx.run(move || {
            let mut v = Vec::new();
            let mut seen = Vec::new();
            for d in dsts {
                if seen.contains(&d) {
                    continue;
                }
                seen.push(d);
                let s = UdpSocket::bind(SocketAddr::new(d, port)).unwrap();
                s.set_read_timeout(Some(Duration::from_millis(800)))
                    .unwrap();
                v.push(s);
            }
            v
        });
        let srcs: Vec<IpAddr> = pairs.iter().map(|p| p.0.parse().unwrap()).collect();
        let clients: Vec<UdpSocket> = self.att.run(move || {
            srcs.into_iter()
                .map(|src| UdpSocket::bind(SocketAddr::new(src, 0)).unwrap())
                .collect()
        });
        // Echo servers: answer every datagram; stop after 800 ms without one (bounded).
        let echoes: Vec<_> = servers
            .into_iter()
            .map(|s| {
                std::thread::spawn(move || {
                    let mut from_ips = Vec::new();
                    let mut buf = [0u8; 64];
                    for _ in 0..10_000 {
                        match s.recv_from(&mut buf) {
                            Ok((n, from)) => {
                                let _ = s.send_to(&buf[..n], from);
                                if !from_ips.contains(&from.ip()) {
                                    from_ips.push(from.ip());
                                }
                            }
                            Err(_) => break,
                        }
                    }
                    from_ips
                })
            })
            .collect();
        let mut sent = 0;
        for (c, (_, d)) in clients.iter().zip(pairs) {
            let dst = SocketAddr::new(d.parse().unwrap(), port);
            for i in 0..3u8 {
                if c.send_to(&[b'x', i], dst).is_ok() {
                    sent += 1;
                }
            }
        }
        assert!(sent > 0);
        let mut got = Vec::new();
        for e in echoes {
            for ip in e.join().unwrap() {
                if !got.contains(&ip) {
                    got.push(ip);
                }
            }
        }
        // A heard source gets its echo (allow 3 s: the PBX may first have to resolve its
        // IPv6 neighbour); an unheard one cannot get any, since the server never answered it.
        let mut replied = Vec::new();
        let mut buf = [0u8; 64];
        for c in &clients {
            let me = c.local_addr().unwrap().ip();
            let wait = if got.contains(&me) { 3_000 } else { 50 };
            c.set_read_timeout(Some(Duration::from_millis(wait)))
                .unwrap();
            if c.recv_from(&mut buf).is_ok() {
                replied.push(me);
            }
        }
        let (mut a, mut b) = (got.clone(), replied);
        a.sort();
        b.sort();
        assert_eq!(
            a, b,
            "echo replies must reach exactly the sources the server heard"
        );
        got
    }
}

impl Lab {
    /// TCP connect from the attacker namespace (kernel-chosen source) to `dst:port` where the
    /// PBX listens; the source address the PBX accepted, or `None` if the connect failed
    /// within 1.5 s.
    pub fn tcp_connect(&self, dst: &str, port: u16) -> Option<IpAddr> {
        let addr = SocketAddr::new(dst.parse().unwrap(), port);
        let listener = self
            .pbx
            .run(move || std::net::TcpListener::bind(addr).unwrap());
        let connected = self.att.run(move || {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(1500)).ok()
        });
        let _keep = connected?;
        listener.set_nonblocking(false).unwrap();
        let (_s, peer) = listener.accept().ok()?;
        Some(peer.ip())
    }
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

//! sipsentry-nft against the real kernel, inside network namespaces each test creates (issue 5:
//! "nftables", "Allow-list", "Bans persist … restored on restart without duplicating", expiry).
//! Needs root, `nft` (Debian package nftables) and `ip` (iproute2): see .ci/deps.d/20-guard.sh.

mod common;

use std::time::{Duration, Instant};

use common::*;
use sipsentry_nft::{AllowKind, AllowList, Ban, IpNet, NftError, PersistedBan};

fn n(s: &str) -> IpNet {
    s.parse().unwrap()
}

const H: Duration = Duration::from_secs(3600);

fn nets(v: &[sipsentry_nft::KernelBan]) -> Vec<IpNet> {
    let mut x: Vec<IpNet> = v.iter().map(|k| k.net).collect();
    x.sort();
    x
}

#[test]
fn install_is_idempotent_and_keeps_bans_across_reinstall() {
    require_tools();
    let ns = Netns::new("inst");
    let fw = ns.firewall("sipsentry");
    assert!(!fw.is_installed().unwrap());
    fw.install().unwrap();
    assert!(fw.is_installed().unwrap());
    fw.ban_batch(&[
        Ban {
            net: n("192.0.2.50"),
            timeout: H,
        },
        Ban {
            net: n("2001:db8::/48"),
            timeout: H,
        },
    ])
    .unwrap();
    let first = ns.nft(&["list", "table", "inet", "sipsentry"]);
    fw.install().unwrap();
    fw.install().unwrap();
    let again = ns.nft(&["list", "table", "inet", "sipsentry"]);
    assert_eq!(
        again.lines().filter(|l| l.ends_with(" drop")).count(),
        8,
        "rules re-added, not appended:\n{again}"
    );
    assert_eq!(
        first.matches(" drop").count(),
        again.matches(" drop").count()
    );
    assert_eq!(
        nets(&fw.list().unwrap()),
        vec![n("192.0.2.50"), n("2001:db8::/48")]
    );
    assert!(
        again.contains("type filter hook input priority filter - 10; policy accept;"),
        "{again}"
    );
    assert!(
        again.contains("elements = { 5060, 10000-20000 }"),
        "{again}"
    );
    assert!(
        !again.contains("timeout_probe"),
        "the kernel probe leaves nothing behind"
    );
}

#[test]
fn banned_sources_are_dropped_while_others_get_through() {
    require_tools();
    let lab = Lab::new("drop");
    let fw = lab.pbx.firewall("sipsentry");
    fw.install().unwrap();
    let everyone = [
        (ATT4, PBX4),
        (GOOD4, PBX4),
        (ATT4NET, PBX4B),
        (ATT6, PBX6),
        (GOOD6, PBX6),
    ];
    let mut before = lab.probe(&everyone, 5060);
    before.sort();
    assert_eq!(
        before.len(),
        5,
        "all reach the PBX before any ban: {before:?}"
    );

    let out = fw
        .ban_batch(&[
            Ban {
                net: n(ATT4),
                timeout: H,
            },
            Ban {
                net: n("198.51.100.0/24"),
                timeout: H,
            },
            Ban {
                net: n(ATT6),
                timeout: H,
            },
        ])
        .unwrap();
    assert_eq!(out.applied.len(), 3, "{out:?}");
    let c0 = fw.drop_counters().unwrap();

    for port in [5060u16, 12_345] {
        let got = lab.probe(&everyone, port);
        assert!(
            got.contains(&ip(GOOD4)) && got.contains(&ip(GOOD6)),
            "port {port}: unbanned blocked: {got:?}"
        );
        for banned in [ATT4, ATT4NET, ATT6] {
            assert!(
                !got.contains(&ip(banned)),
                "port {port}: banned {banned} got through: {got:?}"
            );
        }
    }
    // a port outside the protected sets is not filtered
    let other = lab.probe(&[(ATT4, PBX4)], 5099);
    assert_eq!(other, vec![ip(ATT4)], "only SIP/RTP ports are protected");

    let c1 = fw.drop_counters().unwrap();
    // 3 datagrams per banned source per probed port, two ports
    assert_eq!(c1.ban4.packets - c0.ban4.packets, 6, "{c1:?}");
    assert_eq!(c1.ban4net.packets - c0.ban4net.packets, 6, "{c1:?}");
    assert_eq!(c1.ban6.packets - c0.ban6.packets, 6, "{c1:?}");
    assert_eq!(c1.ban6net.packets, 0);
    assert!(c1.ban4.bytes > 0);

    // TCP (SIP over TCP/TLS ports): the attacker's primary address is ATT4, so a plain
    // connect() from its namespace comes from the banned source and must not get through
    assert_eq!(
        lab.tcp_connect(PBX4, 5061),
        None,
        "banned TCP connect succeeded"
    );
    let c2 = fw.drop_counters().unwrap();
    assert!(c2.ban4.packets > c1.ban4.packets, "SYNs counted: {c2:?}");

    // unban: traffic flows again, counters stop
    assert!(fw.unban(&n(ATT4)).unwrap().removed);
    assert_eq!(
        lab.tcp_connect(PBX4, 5061),
        Some(ip(ATT4)),
        "TCP after unban"
    );
    let c1 = fw.drop_counters().unwrap();
    assert!(
        !fw.unban(&n(ATT4)).unwrap().removed,
        "second unban is a no-op"
    );
    let got = lab.probe(&[(ATT4, PBX4)], 5060);
    assert_eq!(got, vec![ip(ATT4)]);
    assert_eq!(fw.drop_counters().unwrap().ban4.packets, c1.ban4.packets);
}

#[test]
fn kernel_timeout_expiry_removes_the_element_and_traffic_resumes() {
    require_tools();
    let lab = Lab::new("exp");
    let fw = lab.pbx.firewall("sipsentry");
    fw.install().unwrap();
    fw.ban_batch(&[
        Ban {
            net: n(ATT4),
            timeout: Duration::from_millis(1500),
        },
        Ban {
            net: n("198.51.100.0/24"),
            timeout: Duration::from_millis(1500),
        },
        Ban {
            net: n(ATT6),
            timeout: Duration::from_secs(1),
        },
        Ban {
            net: n("192.0.2.99"),
            timeout: H,
        },
    ])
    .unwrap();
    assert_eq!(fw.list().unwrap().len(), 4);
    assert!(
        lab.probe(&[(ATT4, PBX4)], 5060).is_empty(),
        "banned while the ban lasts"
    );
    let t0 = Instant::now();
    loop {
        let left = fw.list().unwrap();
        if nets(&left) == vec![n("192.0.2.99")] {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "elements did not expire: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let got = lab.probe(&[(ATT4, PBX4), (ATT4NET, PBX4B), (ATT6, PBX6)], 5060);
    assert_eq!(got.len(), 3, "traffic resumes after expiry: {got:?}");
}

#[test]
fn rebanning_present_elements_neither_fails_nor_duplicates_and_refreshes_timeout() {
    require_tools();
    let ns = Netns::new("reban");
    let fw = ns.firewall("sipsentry");
    fw.install().unwrap();
    let batch = [
        Ban {
            net: n("192.0.2.10"),
            timeout: Duration::from_secs(60),
        },
        Ban {
            net: n("2001:db8::10"),
            timeout: Duration::from_secs(60),
        },
        Ban {
            net: n("198.51.100.0/24"),
            timeout: Duration::from_secs(60),
        },
    ];
    fw.ban_batch(&batch).unwrap();
    let escalated: Vec<Ban> = batch
        .iter()
        .map(|b| Ban {
            timeout: 10 * H,
            ..*b
        })
        .collect();
    let out = fw.ban_batch(&escalated).unwrap();
    assert_eq!(out.applied.len(), 3);
    let listed = fw.list().unwrap();
    assert_eq!(listed.len(), 3, "no duplicates: {listed:?}");
    for k in &listed {
        assert_eq!(
            k.timeout,
            Some(10 * H),
            "timeout refreshed to the escalated one: {k:?}"
        );
        assert!(k.expires_in.unwrap() > 9 * H);
    }
    // add_bans: present elements are neither an error nor duplicated
    let out = fw
        .add_bans(
            &batch
                .iter()
                .map(|b| Ban {
                    timeout: Duration::from_secs(5),
                    ..*b
                })
                .collect::<Vec<_>>(),
        )
        .unwrap();
    assert_eq!(out.covered, vec![n("198.51.100.0/24")], "{out:?}");
    let listed = fw.list().unwrap();
    assert_eq!(listed.len(), 3);
    // hosts: a plain add updates the timeout only on kernels that support it (6.10+); the
    // probe must have told the truth, since ban_batch relies on it
    let host_timeout = if fw.add_refreshes_timeout() {
        Duration::from_secs(5)
    } else {
        10 * H
    };
    for k in &listed {
        let want = if k.net.is_host() {
            host_timeout
        } else {
            10 * H
        };
        assert_eq!(k.timeout, Some(want), "{k:?}");
    }
    fw.ban_batch(&escalated).unwrap();
    // the "add, delete, add" path that pre-6.10 kernels need, forced on this kernel
    let old_kernel = ns.firewall("sipsentry");
    old_kernel.assume_add_refreshes_timeout(false);
    let out = old_kernel
        .ban_batch(
            &batch
                .iter()
                .map(|b| Ban {
                    timeout: 3 * H,
                    ..*b
                })
                .collect::<Vec<_>>(),
        )
        .unwrap();
    assert!(out.script.contains("delete element"), "{}", out.script);
    let listed = old_kernel.list().unwrap();
    assert_eq!(listed.len(), 3);
    assert!(
        listed.iter().all(|k| k.timeout == Some(3 * H)),
        "{listed:?}"
    );
    // the same batch twice in one call is fine too
    let twice: Vec<Ban> = escalated.iter().chain(escalated.iter()).copied().collect();
    fw.ban_batch(&twice).unwrap();
    assert_eq!(fw.list().unwrap().len(), 3);
}

#[test]
fn cidr_bans_nest_without_overlap_errors() {
    require_tools();
    let ns = Netns::new("cidr");
    let fw = ns.firewall("sipsentry");
    fw.install().unwrap();
    fw.ban_batch(&[Ban {
        net: n("198.51.100.128/25"),
        timeout: 5 * H,
    }])
    .unwrap();
    // broader ban replaces the narrower one, keeping the longer remaining time
    let out = fw
        .ban_batch(&[Ban {
            net: n("198.51.100.0/24"),
            timeout: H,
        }])
        .unwrap();
    assert_eq!(out.subsumed, vec![n("198.51.100.128/25")]);
    assert_eq!(out.applied, vec![n("198.51.100.0/24")]);
    let l = fw.list().unwrap();
    assert_eq!(nets(&l), vec![n("198.51.100.0/24")]);
    assert!(
        l[0].expires_in.unwrap() > 4 * H,
        "kept the subsumed ban's longer time: {l:?}"
    );
    // narrower ban inside it: covered, nothing changes
    let out = fw
        .ban_batch(&[Ban {
            net: n("198.51.100.64/26"),
            timeout: H,
        }])
        .unwrap();
    assert_eq!(out.covered, vec![n("198.51.100.64/26")]);
    assert!(out.script.is_empty());
    // host bans are independent of the interval sets
    fw.ban_batch(&[Ban {
        net: n("198.51.100.7"),
        timeout: H,
    }])
    .unwrap();
    assert_eq!(fw.list().unwrap().len(), 2);
    // one transaction that subsumes a narrower interval AND refreshes another exact one
    fw.ban_batch(&[
        Ban {
            net: n("203.0.113.0/24"),
            timeout: H,
        },
        Ban {
            net: n("192.0.2.128/25"),
            timeout: H,
        },
    ])
    .unwrap();
    let out = fw
        .ban_batch(&[
            Ban {
                net: n("203.0.113.0/24"),
                timeout: 2 * H,
            },
            Ban {
                net: n("192.0.2.0/24"),
                timeout: H,
            },
        ])
        .unwrap();
    assert_eq!(out.subsumed, vec![n("192.0.2.128/25")]);
    let l = fw.list().unwrap();
    assert_eq!(
        nets(&l),
        vec![
            n("192.0.2.0/24"),
            n("198.51.100.0/24"),
            n("198.51.100.7"),
            n("203.0.113.0/24")
        ]
    );
    assert_eq!(
        l.iter()
            .find(|k| k.net == n("203.0.113.0/24"))
            .unwrap()
            .timeout,
        Some(2 * H)
    );
    // IPv6 nets too
    fw.ban_batch(&[
        Ban {
            net: n("2001:db8:1::/48"),
            timeout: H,
        },
        Ban {
            net: n("2001:db8:1:2::/64"),
            timeout: H,
        },
    ])
    .unwrap();
    assert_eq!(fw.list().unwrap().len(), 5);
}

#[test]
fn reconcile_restores_remaining_time_and_is_idempotent() {
    require_tools();
    let ns = Netns::new("rec");
    let fw = ns.firewall("sipsentry");
    fw.install().unwrap();
    let now = 1_800_000_000i64;
    // already in the kernel before the "restart"
    fw.ban_batch(&[Ban {
        net: n("192.0.2.20"),
        timeout: H,
    }])
    .unwrap();
    let stored = [
        PersistedBan {
            net: n("192.0.2.20"),
            expires_unix: now + 3600,
        },
        PersistedBan {
            net: n("192.0.2.21"),
            expires_unix: now + 600,
        },
        PersistedBan {
            net: n("2001:db8::21"),
            expires_unix: now + 1200,
        },
        PersistedBan {
            net: n("198.51.100.0/24"),
            expires_unix: now + 900,
        },
        PersistedBan {
            net: n("198.51.100.128/25"),
            expires_unix: now + 900,
        },
        PersistedBan {
            net: n("192.0.2.22"),
            expires_unix: now - 1,
        },
        PersistedBan {
            net: n("192.0.2.23"),
            expires_unix: i64::MAX,
        },
    ];
    let r1 = fw.reconcile(&stored, now).unwrap();
    let mut added = r1.added.clone();
    added.sort();
    assert_eq!(
        added,
        vec![
            n("192.0.2.21"),
            n("192.0.2.23"),
            n("198.51.100.0/24"),
            n("2001:db8::21")
        ],
        "{r1:?}"
    );
    assert_eq!(r1.expired, vec![n("192.0.2.22")]);
    assert!(r1.present.contains(&n("192.0.2.20")));
    assert!(
        r1.present.contains(&n("198.51.100.128/25")),
        "covered by the /24"
    );
    let listed = fw.list().unwrap();
    assert_eq!(listed.len(), 5, "{listed:?}");
    let get = |s: &str| listed.iter().find(|k| k.net == n(s)).unwrap().clone();
    let t21 = get("192.0.2.21").expires_in.unwrap().as_secs();
    assert!(
        (595..=600).contains(&t21),
        "remaining time, not a fresh ban: {t21}"
    );
    assert_eq!(get("192.0.2.23").timeout, None, "permanent");

    let r2 = fw.reconcile(&stored, now).unwrap();
    assert!(r2.added.is_empty(), "second reconcile adds nothing: {r2:?}");
    assert!(r2.script.is_empty());
    assert_eq!(fw.list().unwrap().len(), 5, "no duplicates");

    // kernel elements the store no longer knows are reported, not touched
    let r3 = fw.reconcile(&stored[1..2], now).unwrap();
    assert_eq!(r3.unknown.len(), 4);
    assert_eq!(fw.list().unwrap().len(), 5);
}

#[test]
fn allow_list_refuses_loopback_own_address_trusted_and_containing_cidrs() {
    require_tools();
    let lab = Lab::new("allow");
    let mut allow = AllowList::new([n("203.0.113.10")])
        .with_host_addresses(Some(&lab.pbx.name))
        .unwrap();
    allow.add_trusted(n("2001:db8:ffff::/48"), "trunk: ITSP B");
    let hosts: Vec<IpNet> = allow
        .entries()
        .filter(|(_, k)| *k == AllowKind::HostAddress)
        .map(|(n, _)| n)
        .collect();
    assert!(
        hosts.contains(&n(PBX4)) && hosts.contains(&n(PBX6)),
        "read from the namespace: {hosts:?}"
    );
    let fw = lab.pbx.firewall("sipsentry").with_allow_list(allow);
    fw.install().unwrap();
    let out = fw
        .ban_batch(&[
            Ban {
                net: n("127.0.0.1"),
                timeout: H,
            },
            Ban {
                net: n(PBX4),
                timeout: H,
            },
            Ban {
                net: n(PBX6),
                timeout: H,
            },
            Ban {
                net: n("203.0.113.10"),
                timeout: H,
            },
            Ban {
                net: n("203.0.113.0/24"),
                timeout: H,
            },
            Ban {
                net: n("192.0.2.0/24"),
                timeout: H,
            },
            Ban {
                net: n("2001:db8:ffff:1::/64"),
                timeout: H,
            },
            Ban {
                net: n(ATT4),
                timeout: H,
            },
        ])
        .unwrap();
    assert_eq!(out.applied, vec![n(ATT4)]);
    let kinds: Vec<Option<AllowKind>> = out.refused.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        vec![
            Some(AllowKind::Loopback),
            Some(AllowKind::HostAddress),
            Some(AllowKind::HostAddress),
            Some(AllowKind::Trusted),
            Some(AllowKind::Trusted),
            Some(AllowKind::HostAddress),
            Some(AllowKind::Trusted),
        ]
    );
    assert!(
        out.refused[4].reason.contains("contains 203.0.113.10/32"),
        "{}",
        out.refused[4].reason
    );
    assert_eq!(
        nets(&fw.list().unwrap()),
        vec![n(ATT4)],
        "nothing refused reached the kernel"
    );
    // reconcile refuses them too (allow-list grew since they were stored)
    let r = fw
        .reconcile(
            &[PersistedBan {
                net: n("203.0.113.10"),
                expires_unix: i64::MAX,
            }],
            0,
        )
        .unwrap();
    assert_eq!(r.refused.len(), 1);
    assert!(r.added.is_empty());
}

#[test]
fn other_tables_are_untouched_by_install_ban_and_remove() {
    require_tools();
    let ns = Netns::new("other");
    ns.nft_script(
        "add table inet other\n\
         add set inet other keep { type ipv4_addr; flags timeout; }\n\
         add element inet other keep { 192.0.2.77 }\n\
         add chain inet other input { type filter hook input priority filter; policy accept; }\n\
         add rule inet other input udp dport 5060 counter accept\n\
         add table ip sipsentry\n",
    );
    let before = ns.nft(&["list", "ruleset"]);
    let fw = ns.firewall("sipsentry");
    fw.install().unwrap();
    fw.ban_batch(&[Ban {
        net: n("192.0.2.77"),
        timeout: H,
    }])
    .unwrap();
    fw.unban(&n("192.0.2.77")).unwrap();
    assert!(ns
        .nft(&["list", "table", "inet", "other"])
        .contains("192.0.2.77"));
    fw.remove().unwrap();
    assert!(!fw.is_installed().unwrap());
    fw.remove().unwrap();
    let after = ns.nft(&["list", "ruleset"]);
    assert_eq!(before, after, "ruleset differs after install/ban/remove");
    assert!(
        after.contains("table ip sipsentry"),
        "same name, other family: not ours"
    );
}

#[test]
fn failing_batch_is_atomic_and_reports_nft_error() {
    require_tools();
    let ns = Netns::new("atom");
    let fw = ns.firewall("sipsentry");
    // table not installed: the batch fails as a whole with nft's message
    let e = fw
        .ban_batch(&[Ban {
            net: n("192.0.2.30"),
            timeout: H,
        }])
        .unwrap_err();
    assert!(
        matches!(&e, NftError::Failed { stderr, .. } if stderr.contains("No such file")),
        "{e}"
    );
    fw.install().unwrap();
    assert!(fw.list().unwrap().is_empty());
}

#[test]
fn reconcile_of_a_flood_sized_store_is_split_and_never_duplicates() {
    require_tools();
    let ns = Netns::new("big");
    let fw = ns.firewall("sipsentry");
    fw.install().unwrap();
    let now = 1_800_000_000i64;
    // 100 000 stored bans (more than one transaction's MAX_BATCH), a tenth already in the kernel
    let stored: Vec<PersistedBan> = (0..100_000u32)
        .map(|i| PersistedBan {
            net: IpNet::host(std::net::IpAddr::V4(std::net::Ipv4Addr::from(
                0x0a00_0000 + i,
            ))),
            expires_unix: now + 3600,
        })
        .collect();
    let pre: Vec<Ban> = stored[..10_000]
        .iter()
        .map(|p| Ban {
            net: p.net,
            timeout: H,
        })
        .collect();
    fw.add_bans(&pre).unwrap();
    let t0 = Instant::now();
    let r1 = fw.reconcile(&stored, now).unwrap();
    let took = t0.elapsed();
    assert_eq!(r1.added.len(), 90_000);
    assert_eq!(r1.present.len(), 10_000);
    assert_eq!(fw.list().unwrap().len(), 100_000);
    let r2 = fw.reconcile(&stored, now).unwrap();
    assert!(r2.added.is_empty());
    assert_eq!(fw.list().unwrap().len(), 100_000, "no duplicates");
    eprintln!("reconcile of 100 000 stored bans (90 000 missing): {took:?}");
}

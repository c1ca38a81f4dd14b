use super::*;

fn n(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn dry() -> Firewall {
    Firewall::new(FirewallConfig {
        dry_run: true,
        ..Default::default()
    })
    .unwrap()
}

const H: Duration = Duration::from_secs(3600);

#[test]
fn escalate_is_recidive_like_and_bounded() {
    let base = Duration::from_secs(600);
    let max = Duration::from_secs(7 * 24 * 3600);
    assert_eq!(escalate(0, base, 4, max), base);
    assert_eq!(escalate(1, base, 4, max), Duration::from_secs(2400));
    assert_eq!(escalate(2, base, 4, max), Duration::from_secs(9600));
    assert_eq!(escalate(10, base, 4, max), max);
    assert_eq!(
        escalate(u32::MAX, base, 4, max),
        max,
        "bounded loop, saturating"
    );
    assert_eq!(
        escalate(u32::MAX, base, u32::MAX, Duration::MAX),
        Duration::MAX
    );
    assert_eq!(escalate(5, base, 1, max), base, "factor 1: no escalation");
    assert_eq!(escalate(5, base, 0, max), base, "factor 0: no escalation");
    assert_eq!(
        escalate(0, Duration::from_secs(10), 2, Duration::from_secs(5)),
        Duration::from_secs(5)
    );
    // monotonic in prior bans
    let mut last = Duration::ZERO;
    for k in 0..40 {
        let t = escalate(k, base, 3, max);
        assert!(t >= last);
        last = t;
    }
}

#[test]
fn config_is_validated() {
    let bad = |f: &dyn Fn(&mut FirewallConfig)| {
        let mut c = FirewallConfig::default();
        f(&mut c);
        matches!(Firewall::new(c), Err(NftError::Config(_)))
    };
    assert!(bad(&|c| c.table = String::new()));
    assert!(bad(&|c| c.table = "bad name; flush ruleset".into()));
    assert!(bad(&|c| c.table = "1abc".into()));
    assert!(bad(&|c| c.table = "a".repeat(40)));
    assert!(bad(&|c| c.ports.clear()));
    assert!(bad(&|c| c.ports = vec![PortRange {
        proto: Proto::Udp,
        lo: 10,
        hi: 5
    }]));
    assert!(bad(&|c| c.ports = vec![PortRange::one(Proto::Udp, 0)]));
    assert!(bad(&|c| c.netns = Some("-x".into())));
    assert!(bad(&|c| c.netns = Some("a b".into())));
    assert!(Firewall::new(FirewallConfig::default()).is_ok());
}

#[test]
fn overlapping_port_ranges_are_merged() {
    let ports = vec![
        PortRange::one(Proto::Udp, 5060),
        PortRange {
            proto: Proto::Udp,
            lo: 5060,
            hi: 5061,
        },
        PortRange {
            proto: Proto::Udp,
            lo: 5062,
            hi: 5070,
        },
        PortRange {
            proto: Proto::Udp,
            lo: 10000,
            hi: 20000,
        },
        PortRange {
            proto: Proto::Udp,
            lo: 15000,
            hi: 16000,
        },
        PortRange::one(Proto::Tcp, 5061),
    ];
    assert_eq!(
        merge_ranges(&ports, Proto::Udp),
        vec![(5060, 5070), (10000, 20000)]
    );
    assert_eq!(merge_ranges(&ports, Proto::Tcp), vec![(5061, 5061)]);
    assert_eq!(
        merge_ranges(
            &[
                PortRange {
                    proto: Proto::Udp,
                    lo: 65535,
                    hi: 65535
                },
                PortRange::one(Proto::Udp, 65534)
            ],
            Proto::Udp
        ),
        vec![(65534, 65535)]
    );
}

#[test]
fn install_script_owns_only_its_table() {
    let s = dry().install_script();
    for line in s.lines() {
        assert!(line.contains(" inet sipsentry "), "{line}");
        assert!(
            !line.starts_with("flush ruleset") && !line.contains("delete"),
            "{line}"
        );
    }
    assert!(s.contains("add set inet sipsentry ban4 { type ipv4_addr; flags timeout; }"));
    assert!(
        s.contains("add set inet sipsentry ban6net { type ipv6_addr; flags interval, timeout; }")
    );
    assert!(s.contains("add element inet sipsentry udp_ports { 5060, 10000-20000 }"));
    assert!(s.contains("add element inet sipsentry tcp_ports { 5060-5061 }"));
    assert!(s.contains("type filter hook input priority filter - 10; policy accept;"));
    assert!(s.contains(
        "add rule inet sipsentry input ip6 saddr @ban6net tcp dport @tcp_ports counter name \"dropped_ban6net\" drop"
    ));
    assert_eq!(s.matches("add rule").count(), 8);
    // ban sets are never flushed: elements survive a re-install
    assert!(!s.contains("flush set inet sipsentry ban"));
}

#[test]
fn dry_run_returns_the_script_and_runs_nothing() {
    // A binary that cannot exist: any attempt to run it would fail the call.
    let fw = Firewall::new(FirewallConfig {
        dry_run: true,
        nft_path: "/nonexistent/nft".into(),
        ..Default::default()
    })
    .unwrap();
    assert!(fw.install().unwrap().contains("add table inet sipsentry"));
    let out = fw
        .ban_batch(&[
            Ban {
                net: n("203.0.113.5"),
                timeout: H,
            },
            Ban {
                net: n("2001:db8::5"),
                timeout: Duration::from_millis(1500),
            },
            Ban {
                net: n("198.51.100.0/24"),
                timeout: H,
            },
        ])
        .unwrap();
    assert!(out.dry_run);
    assert_eq!(out.applied.len(), 3);
    assert!(
        out.script
            .contains("add element inet sipsentry ban4 { 203.0.113.5 timeout 3600000ms }"),
        "{}",
        out.script
    );
    assert!(out
        .script
        .contains("add element inet sipsentry ban6 { 2001:db8::5 timeout 1500ms }"));
    assert!(out
        .script
        .contains("add element inet sipsentry ban4net { 198.51.100.0/24 timeout 3600000ms }"));
    let u = fw.unban(&n("203.0.113.5")).unwrap();
    assert!(!u.removed);
    assert_eq!(
        u.script,
        "delete element inet sipsentry ban4 { 203.0.113.5 }\n"
    );
    assert!(fw.list().unwrap().is_empty());
    assert_eq!(fw.drop_counters().unwrap(), DropCounters::default());
    assert!(fw.remove().unwrap().contains("delete table inet sipsentry"));
    let r = fw
        .reconcile(
            &[PersistedBan {
                net: n("203.0.113.5"),
                expires_unix: 1_100,
            }],
            1_000,
        )
        .unwrap();
    assert_eq!(r.added, vec![n("203.0.113.5")]);
    assert!(
        r.script.contains("203.0.113.5 timeout 100000ms"),
        "{}",
        r.script
    );
}

#[test]
fn ban_script_refreshes_existing_elements_without_failing() {
    let out = dry()
        .ban_batch(&[
            Ban {
                net: n("192.0.2.7"),
                timeout: H,
            },
            Ban {
                net: n("192.0.2.8"),
                timeout: 2 * H,
            },
        ])
        .unwrap();
    let want = "add element inet sipsentry ban4 { 192.0.2.7, 192.0.2.8 }\n\
                delete element inet sipsentry ban4 { 192.0.2.7, 192.0.2.8 }\n\
                add element inet sipsentry ban4 { 192.0.2.7 timeout 3600000ms, 192.0.2.8 timeout 7200000ms }\n";
    assert_eq!(out.script, want);
}

#[test]
fn duplicate_bans_in_a_batch_keep_the_longest() {
    let out = dry()
        .ban_batch(&[
            Ban {
                net: n("192.0.2.7"),
                timeout: H,
            },
            Ban {
                net: n("192.0.2.7/32"),
                timeout: 3 * H,
            },
            Ban {
                net: n("192.0.2.7"),
                timeout: 2 * H,
            },
        ])
        .unwrap();
    assert_eq!(out.applied, vec![n("192.0.2.7")]);
    assert!(out.script.contains("192.0.2.7 timeout 10800000ms"));
    assert_eq!(out.script.matches("192.0.2.7").count(), 3);
}

#[test]
fn narrower_cidr_in_the_same_batch_is_covered() {
    let out = dry()
        .ban_batch(&[
            Ban {
                net: n("198.51.100.128/25"),
                timeout: H,
            },
            Ban {
                net: n("198.51.100.0/24"),
                timeout: H,
            },
        ])
        .unwrap();
    assert_eq!(out.applied, vec![n("198.51.100.0/24")]);
    assert_eq!(out.covered, vec![n("198.51.100.128/25")]);
}

#[test]
fn zero_timeout_and_allow_listed_bans_are_refused() {
    let fw = dry().with_allow_list(AllowList::new([n("203.0.113.10")]));
    let out = fw
        .ban_batch(&[
            Ban {
                net: n("127.0.0.1"),
                timeout: H,
            },
            Ban {
                net: n("203.0.113.0/24"),
                timeout: H,
            },
            Ban {
                net: n("192.0.2.1"),
                timeout: Duration::ZERO,
            },
            Ban {
                net: n("192.0.2.2"),
                timeout: H,
            },
        ])
        .unwrap();
    assert_eq!(out.applied, vec![n("192.0.2.2")]);
    assert_eq!(out.refused.len(), 3);
    assert!(!out.script.contains("127.0.0.1") && !out.script.contains("203.0.113"));
    assert_eq!(out.refused[2].reason, "ban time is zero");
}

#[test]
fn long_bans_become_permanent_elements() {
    let out = dry()
        .ban_batch(&[Ban {
            net: n("192.0.2.9"),
            timeout: Duration::MAX,
        }])
        .unwrap();
    assert!(
        out.script
            .ends_with("add element inet sipsentry ban4 { 192.0.2.9 }\n"),
        "{}",
        out.script
    );
    assert_eq!(
        kernel_timeout(Duration::from_nanos(1)),
        Some(Duration::from_millis(1))
    );
    assert_eq!(
        kernel_timeout(Duration::from_micros(1500)),
        Some(Duration::from_millis(2))
    );
    assert_eq!(kernel_timeout(MAX_KERNEL_TIMEOUT), Some(MAX_KERNEL_TIMEOUT));
}

#[test]
fn empty_batch_runs_nothing() {
    let fw = Firewall::new(FirewallConfig {
        nft_path: "/nonexistent/nft".into(),
        ..Default::default()
    })
    .unwrap();
    let out = fw.ban_batch(&[]).unwrap();
    assert!(out.script.is_empty() && out.applied.is_empty());
}

#[test]
fn missing_nft_binary_is_a_clear_error() {
    let fw = Firewall::new(FirewallConfig {
        nft_path: "/nonexistent/nft".into(),
        ..Default::default()
    })
    .unwrap();
    let e = fw.install().unwrap_err();
    assert!(matches!(e, NftError::Spawn { .. }), "{e}");
    assert!(e.to_string().contains("nftables package"), "{e}");
}

// JSON shapes printed by nft 1.0.6 (Debian 12) `nft -j list table inet sipsentry`, trimmed.
const LIST_JSON: &str = r#"{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
 {"table": {"family": "inet", "name": "sipsentry", "handle": 1}},
 {"counter": {"family": "inet", "name": "dropped_ban4", "table": "sipsentry", "handle": 2, "packets": 7, "bytes": 420}},
 {"counter": {"family": "inet", "name": "dropped_ban6", "table": "sipsentry", "handle": 3, "packets": 1, "bytes": 80}},
 {"set": {"family": "inet", "name": "ban4", "table": "sipsentry", "type": "ipv4_addr", "handle": 6, "flags": ["timeout"],
   "elem": [{"elem": {"val": "192.0.2.2", "timeout": 3600, "expires": 3599}}, "192.0.2.3"]}},
 {"set": {"family": "inet", "name": "ban6", "table": "sipsentry", "type": "ipv6_addr", "handle": 7, "flags": ["timeout"]}},
 {"set": {"family": "inet", "name": "ban4net", "table": "sipsentry", "type": "ipv4_addr", "handle": 8, "flags": ["interval", "timeout"],
   "elem": [{"elem": {"val": {"prefix": {"addr": "198.51.100.0", "len": 24}}, "timeout": 7200, "expires": 7199}},
            {"elem": {"val": {"range": ["10.0.0.0", "10.0.0.255"]}, "timeout": 60, "expires": 59}}]}}]}"#;

#[test]
fn parses_set_elements_of_all_shapes() {
    let v: Value = serde_json::from_str(LIST_JSON).unwrap();
    let b4 = parse_set_elems(&v, "ban4").unwrap();
    assert_eq!(
        b4,
        vec![
            KernelBan {
                net: n("192.0.2.2"),
                timeout: Some(H),
                expires_in: Some(Duration::from_secs(3599))
            },
            KernelBan {
                net: n("192.0.2.3"),
                timeout: None,
                expires_in: None
            },
        ]
    );
    assert!(parse_set_elems(&v, "ban6").unwrap().is_empty());
    let nets = parse_set_elems(&v, "ban4net").unwrap();
    assert_eq!(nets[0].net, n("198.51.100.0/24"));
    assert_eq!(nets[1].net, n("10.0.0.0/24"));
    assert_eq!(
        parse_counter(&v, "dropped_ban4").unwrap(),
        Counter {
            packets: 7,
            bytes: 420
        }
    );
    assert!(parse_counter(&v, "dropped_ban6net").is_err());
    assert!(parse_set_elems(&serde_json::json!({"x": 1}), "ban4").is_err());
    let bad = serde_json::json!({"nftables": [{"set": {"name": "ban4", "elem": [{"elem": {"val": 17}}]}}]});
    assert!(matches!(
        parse_set_elems(&bad, "ban4"),
        Err(NftError::Json(_))
    ));
}

#[test]
fn ranges_convert_only_when_exact_prefixes() {
    let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
    assert_eq!(
        range_to_net(ip("10.0.0.0"), ip("10.0.255.255")),
        Some(n("10.0.0.0/16"))
    );
    assert_eq!(
        range_to_net(ip("10.0.0.1"), ip("10.0.0.1")),
        Some(n("10.0.0.1"))
    );
    assert_eq!(range_to_net(ip("10.0.0.1"), ip("10.0.0.2")), None);
    assert_eq!(range_to_net(ip("10.0.0.5"), ip("10.0.0.1")), None);
    assert_eq!(
        range_to_net(ip("0.0.0.0"), ip("255.255.255.255")),
        Some(n("0.0.0.0/0"))
    );
    assert_eq!(
        range_to_net(ip("::"), ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
        None,
        "span overflows u128"
    );
    assert_eq!(
        range_to_net(ip("2001:db8::"), ip("2001:db8::ffff")),
        Some(n("2001:db8::/112"))
    );
    assert_eq!(range_to_net(ip("10.0.0.0"), ip("2001:db8::")), None);
}

#[test]
fn add_bans_uses_plain_adds() {
    let out = dry()
        .add_bans(&[
            Ban {
                net: n("192.0.2.7"),
                timeout: H,
            },
            Ban {
                net: n("2001:db8::/64"),
                timeout: H,
            },
        ])
        .unwrap();
    assert_eq!(
        out.script,
        "add element inet sipsentry ban4 { 192.0.2.7 timeout 3600000ms }\n\
         add element inet sipsentry ban6net { 2001:db8::/64 timeout 3600000ms }\n"
    );
}

#[test]
fn huge_batches_are_split_into_transactions() {
    let bans: Vec<Ban> = (0..(MAX_BATCH as u32 + 10))
        .map(|i| Ban {
            net: IpNet::host(std::net::IpAddr::V4(std::net::Ipv4Addr::from(
                0x0a00_0000 + i,
            ))),
            timeout: H,
        })
        .collect();
    let out = dry().add_bans(&bans).unwrap();
    assert_eq!(out.applied.len(), bans.len());
    assert_eq!(
        out.script.lines().count(),
        2,
        "two transactions, one add line each"
    );
}

#[test]
fn persisted_ban_parses_store_text() {
    let p = PersistedBan::parse("203.0.113.5/32", 42).unwrap();
    assert_eq!(
        p,
        PersistedBan {
            net: n("203.0.113.5"),
            expires_unix: 42
        }
    );
    assert!(PersistedBan::parse("garbage", 0).is_err());
}

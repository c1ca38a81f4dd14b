//! Saved rulesets are classified like live ones, and no input makes a parser panic.

use proptest::prelude::*;
use sipsentry_audit::{evaluate, firewall, host, ini, threecx, Policy};
use std::collections::BTreeSet;
use std::path::Path;

fn vectors() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn ids(rs: &firewall::Ruleset) -> BTreeSet<String> {
    let p = Policy::default();
    evaluate(&firewall::facts_from(rs, &p), &p)
        .into_iter()
        .map(|f| f.id)
        .collect()
}

#[test]
fn saved_nft_json_and_iptables_save_are_classified() {
    let text =
        std::fs::read_to_string(vectors().join("firewall/restricted-sip-helper.nft.json")).unwrap();
    let mut rs = firewall::parse_nft_json(&text).unwrap();
    rs.origin = "saved".into();
    assert_eq!(ids(&rs), BTreeSet::from(["FW-SIP-HELPER".to_string()]));
    let text = std::fs::read_to_string(vectors().join("firewall/open.iptables-save")).unwrap();
    let mut rs = firewall::parse_iptables_save(&text).unwrap();
    rs.origin = "saved".into();
    let got = ids(&rs);
    let want: BTreeSet<String> = [
        "FW-MGMT-OPEN-ANY",
        "FW-NO-RATE-LIMIT",
        "FW-RTP-OPEN-ANY",
        "FW-SIP-OPEN-ANY",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(got, want);
    let p = Policy::default();
    let f = evaluate(&firewall::facts_from(&rs, &p), &p);
    let mgmt = f.iter().find(|x| x.id == "FW-MGMT-OPEN-ANY").unwrap();
    assert!(mgmt.evidence.iter().any(|e| e.starts_with("tcp/5038 accepted from any source by: filter: -A INPUT -p tcp -m multiport --dports 5038,8088")), "{:?}", mgmt.evidence);
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[A-Za-z0-9@./:\\[\\] ]{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("value".to_string()),
                    Just("Number".to_string()),
                    Just("Groups".to_string()),
                    Just("Rights".to_string()),
                    Just("RoleName".to_string()),
                    Just("Gateway".to_string()),
                    Just("IPAddrMask".to_string()),
                    Just("Location".to_string()),
                    Just("Contents".to_string()),
                    "[A-Za-z]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn ini_never_panics(s in "(\\PC|[\\[\\]();=>#\\\\\n-]){0,400}") {
        let c = ini::parse_str(&s, Path::new("/nonexistent"));
        let _ = c.section("general");
    }

    #[test]
    fn iptables_and_proc_net_never_panic(s in "(\\PC|[-!:*\\n ]){0,400}") {
        if let Ok(rs) = firewall::parse_iptables_save(&s) {
            let _ = firewall::facts_from(&rs, &Policy::default());
        }
        let _ = host::parse_proc_net(&s, "tcp");
        let _ = host::parse_proc_net(&s, "udp");
    }

    #[test]
    fn nft_json_mutations_never_panic(pos in 0usize..3118, byte in any::<u8>(), v in arb_json()) {
        let mut text = std::fs::read(vectors().join("firewall/restricted-sip-helper.nft.json")).unwrap();
        let i = pos % text.len();
        text[i] = byte;
        if let Ok(rs) = firewall::parse_nft_json(&String::from_utf8_lossy(&text)) {
            let _ = firewall::facts_from(&rs, &Policy::default());
        }
        let doc = serde_json::json!({ "nftables": [ { "rule": { "family": "inet", "table": "t", "chain": "c", "expr": [v.clone()] } }, { "chain": { "family": "inet", "table": "t", "name": "c", "hook": "input" } } ] });
        if let Ok(rs) = firewall::parse_nft_json(&doc.to_string()) {
            let _ = firewall::facts_from(&rs, &Policy::default());
        }
    }

    #[test]
    fn threecx_documents_of_any_shape_never_panic(v in arb_json()) {
        let mut docs = threecx::Documents::new();
        for (name, _) in threecx::ENDPOINTS {
            docs.insert(name.to_string(), v.clone());
        }
        let f = threecx::facts_from(&docs);
        let _ = evaluate(&f, &Policy::default());
    }
}

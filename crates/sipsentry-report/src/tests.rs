use super::*;

fn f(id: &str, sev: Severity, target: &str) -> Finding {
    Finding {
        id: id.into(),
        severity: sev,
        title: format!("title of {id}"),
        target: target.into(),
        evidence: vec!["Server: <script>alert(1)</script>\x1b[31m | ```".into()],
        control: "C-1".into(),
        remediation: "fix it".into(),
    }
}

#[test]
fn sort_is_severity_then_id_then_target() {
    let mut v = vec![
        f("B", Severity::Low, "x"),
        f("A", Severity::Critical, "z"),
        f("A", Severity::Critical, "y"),
        f("C", Severity::High, "x"),
    ];
    sort(&mut v);
    let got: Vec<_> = v
        .iter()
        .map(|f| (f.id.as_str(), f.target.as_str()))
        .collect();
    assert_eq!(got, [("A", "y"), ("A", "z"), ("C", "x"), ("B", "x")]);
}

#[test]
fn fail_on_threshold() {
    let v = vec![f("A", Severity::Medium, "x")];
    assert!(fails(&v, Severity::Medium));
    assert!(fails(&v, Severity::Low));
    assert!(!fails(&v, Severity::High));
    assert!(!fails(&[], Severity::Info));
}

#[test]
fn severity_parses_case_insensitively_and_rejects_typos() {
    assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
    let e = "hgh".parse::<Severity>().unwrap_err();
    assert!(e
        .to_string()
        .contains("expected one of info, low, medium, high, critical"));
}

#[test]
fn table_groups_and_escapes_terminal_controls() {
    let t = table(&[f("A", Severity::High, "t"), f("B", Severity::Info, "t")]);
    assert!(t.contains("== HIGH (1)"));
    assert!(t.contains("== INFO (1)"));
    assert!(!t.contains('\x1b'), "escape reached the terminal: {t}");
    assert!(t.contains("\\u{1b}[31m"));
    assert!(t.ends_with("== 2 findings: 1 high, 1 info\n"));
    assert_eq!(table(&[]), "no findings\n");
}

#[test]
fn html_escapes_hostile_evidence() {
    let h = html(
        "report <x>",
        &["pre <b>".into()],
        &[f("A", Severity::Critical, "t")],
    );
    assert!(!h.contains("<script>"));
    assert!(h.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(h.contains("<title>report &lt;x&gt;</title>"));
    assert!(!h.contains('\x1b'));
    // Self-contained: no external fetches.
    assert!(!h.contains("src=\"http"));
    assert!(!h.contains("<link"));
}

#[test]
fn markdown_keeps_table_and_fence_intact() {
    let m = markdown("r", &[], &[f("A|B", Severity::Low, "t|u")]);
    assert!(m.contains("| `A|B` |") || m.contains("A\\|B"));
    assert!(m.contains("t\\|u"));
    // The evidence's ``` cannot close the fence early: exactly one opening and one closing fence.
    assert_eq!(m.matches("```").count(), 2, "{m}");
}

#[test]
fn sarif_shape_is_valid_2_1_0() {
    let rules = [RuleMeta {
        id: "A",
        title: "rule a",
        help: "help a",
    }];
    let v = sarif(
        "sipsentry",
        "0.1.0",
        &rules,
        &[
            f("A", Severity::High, "udp:127.0.0.1:5060"),
            f("Z", Severity::Info, "x"),
        ],
    );
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 2, "unknown IDs get a rule entry");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results[0]["ruleId"], "A");
    assert_eq!(results[0]["level"], "error");
    assert_eq!(results[1]["ruleIndex"], 1);
    assert_eq!(results[1]["level"], "note");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "udp%3A127.0.0.1%3A5060"
    );
}

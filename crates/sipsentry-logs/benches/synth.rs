//! Synthetic Asterisk log built from the fail2ban fixture lines, with the attacker address
//! (the labelled `"host"`) replaced by a different address on every line. Shared by the criterion
//! bench (`benches/parse.rs`) and `examples/synth_log.rs` so both measure the same file.

#![allow(dead_code)]

/// (template line, labelled host) pairs from `tests/vectors/logs/asterisk.fail2ban.log`.
pub fn templates(fixture: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut host: Option<String> = None;
    for line in fixture.lines() {
        if let Some(rest) = line.strip_prefix("# failJSON:") {
            host = rest.split("\"host\"").nth(1).and_then(|r| {
                let r = r
                    .trim_start()
                    .strip_prefix(':')?
                    .trim_start()
                    .strip_prefix('"')?;
                Some(r[..r.find('"')?].to_string())
            });
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some(h) = host.take() {
            out.push((line.to_string(), h));
        }
    }
    out
}

/// Address number `i`, IPv6 when the template's host was IPv6.
fn addr(i: usize, v6: bool) -> String {
    let n = i as u32;
    if v6 {
        format!("2001:db8:{:x}::{:x}", n >> 16, n & 0xffff)
    } else {
        format!("10.{}.{}.{}", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff)
    }
}

/// `n` lines cycling through the templates; every line gets a new source address.
pub fn generate(fixture: &str, n: usize) -> String {
    let t = templates(fixture);
    assert!(!t.is_empty(), "no templates in fixture");
    let mut s = String::with_capacity(n * 200);
    for i in 0..n {
        let (line, host) = &t[i % t.len()];
        // Replace the host only where it is a whole address token.
        let new = addr(i + 1, host.contains(':'));
        let mut rest = line.as_str();
        while let Some(p) = rest.find(host.as_str()) {
            let before = rest[..p].chars().last();
            let after = rest[p + host.len()..].chars().next();
            let boundary = |c: Option<char>| {
                c.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '.' || c == ':'))
                    || c == Some(':') && !host.contains(':')
            };
            let is_word =
                before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '.')) && boundary(after);
            s.push_str(&rest[..p]);
            s.push_str(if is_word { &new } else { host });
            rest = &rest[p + host.len()..];
        }
        s.push_str(rest);
        s.push('\n');
    }
    s
}

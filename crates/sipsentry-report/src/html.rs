//! One self-contained HTML file (no scripts, no external assets) a manager can open.
use crate::{counts, sort, Finding, Severity};

/// Render `findings` as a standalone page. Every piece of text is HTML-escaped: evidence comes
/// from hostile networks and configuration files.
pub fn html(title: &str, preamble: &[String], findings: &[Finding]) -> String {
    let mut sorted = findings.to_vec();
    sort(&mut sorted);
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
    out.push_str(&format!("<title>{}</title>\n", esc(title)));
    out.push_str(
        "<style>body{font-family:system-ui,sans-serif;max-width:70em;margin:2em auto;color:#222}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}\
.critical{background:#7b0000;color:#fff}.high{background:#d9534f;color:#fff}.medium{background:#f0ad4e}\
.low{background:#5bc0de}.info{background:#eee}pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap;word-break:break-all}\
section{border-top:1px solid #ddd;margin-top:1.5em}</style></head><body>\n",
    );
    out.push_str(&format!("<h1>{}</h1>\n", esc(title)));
    for line in preamble {
        out.push_str(&format!("<p>{}</p>\n", esc(line)));
    }
    out.push_str("<table><tr><th>severity</th><th>count</th></tr>\n");
    for (s, n) in counts(&sorted) {
        out.push_str(&format!(
            "<tr><td class=\"{}\">{}</td><td>{}</td></tr>\n",
            s.as_str(),
            s.as_str(),
            n
        ));
    }
    out.push_str("</table>\n");
    if sorted.is_empty() {
        out.push_str("<p>No findings.</p>\n");
    }
    for f in &sorted {
        out.push_str(&format!(
            "<section><h2><span class=\"{}\">{}</span> {} — {}</h2>\n<p><b>Target:</b> {}<br><b>Control:</b> {}</p>\n",
            f.severity.as_str(),
            sev_label(f.severity),
            esc(&f.id),
            esc(&f.title),
            esc(&f.target),
            esc(&f.control)
        ));
        if !f.evidence.is_empty() {
            out.push_str("<pre>");
            for e in &f.evidence {
                out.push_str(&esc(e));
                out.push('\n');
            }
            out.push_str("</pre>\n");
        }
        out.push_str(&format!(
            "<p><b>Remediation:</b> {}</p></section>\n",
            esc(&f.remediation)
        ));
    }
    out.push_str("</body></html>\n");
    out
}

fn sev_label(s: Severity) -> String {
    s.as_str().to_ascii_uppercase()
}

/// Escape for both text and attribute contexts; control characters become visible escapes.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

//! Read a log file, parse it, print event counts by kind and by source.
//!
//! Usage: `parse_log FILE [DEFAULT_YEAR] [--events]`

use sipsentry_logs::LogEventKind;
use sipsentry_logs::{detect_format, lines, LineContext, LogParser};
use std::collections::HashMap;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: parse_log FILE [DEFAULT_YEAR] [--events]");
        std::process::exit(2);
    };
    let mut year = 2024;
    let mut print_events = false;
    for a in args {
        if a == "--events" {
            print_events = true;
        } else if let Ok(y) = a.parse() {
            year = y;
        }
    }
    let buf = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let start = std::time::Instant::now();
    let format = detect_format(lines(&buf));
    let mut parser = LogParser::new(LineContext::new(year));
    let mut by_kind: Vec<(LogEventKind, u64)> = Vec::new();
    let mut by_source: HashMap<std::net::IpAddr, u64> = HashMap::with_capacity(1024);
    let mut on_event = |ev: sipsentry_logs::LogEvent<'_>| {
        match by_kind.iter_mut().find(|(k, _)| *k == ev.kind) {
            Some((_, n)) => *n += 1,
            None => by_kind.push((ev.kind, 1)),
        }
        *by_source.entry(ev.source).or_default() += 1;
        if print_events {
            println!(
                "{:?} {} {:?} {} {} user={:?}",
                ev.ts,
                ev.source,
                ev.source_port,
                ev.kind.as_str(),
                ev.reason,
                ev.user_lossy()
            );
        }
    };
    parser.push_buffer(&buf, &mut on_event);
    parser.finish(&mut on_event);
    let elapsed = start.elapsed();
    let st = parser.stats();
    println!("format: {format:?}");
    println!(
        "lines: {}  events: {}  ambiguous: {}  too_long: {}  no_trustworthy_source: {}  continuation: {}",
        st.lines, st.events, st.ambiguous, st.too_long, st.no_trustworthy_source, st.continuation
    );
    by_kind.sort();
    for (k, n) in &by_kind {
        println!("kind {}: {n}", k.as_str());
    }
    let mut top: Vec<_> = by_source.into_iter().collect();
    let n_sources = top.len();
    let order = |a: &(std::net::IpAddr, u64), b: &(std::net::IpAddr, u64)| {
        b.1.cmp(&a.1).then(a.0.cmp(&b.0))
    };
    if top.len() > 10 {
        top.select_nth_unstable_by(9, order);
        top.truncate(10);
    }
    top.sort_by(order);
    println!("sources: {n_sources}");
    for (ip, n) in top.iter().take(10) {
        println!("source {ip}: {n}");
    }
    println!(
        "parse time: {:.3} s ({:.0} lines/s)",
        elapsed.as_secs_f64(),
        st.lines as f64 / elapsed.as_secs_f64().max(1e-9)
    );
}

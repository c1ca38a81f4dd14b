//! Throughput of the parser on a ~1M-line synthetic Asterisk log (fixture lines, varied IPs).
//!
//! Run: `cargo bench -p sipsentry-logs --bench parse`

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sipsentry_logs::{lines, parse_line, LineContext, LogParser};

mod synth;

const LINES: usize = 1_000_000;

fn fixture() -> String {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/logs/asterisk.fail2ban.log"
    );
    std::fs::read_to_string(p).expect("fixture")
}

fn bench(c: &mut Criterion) {
    let log = synth::generate(&fixture(), LINES);
    let buf = log.as_bytes();
    let ctx = LineContext::new(2024);
    let mut g = c.benchmark_group("asterisk_1m_lines");
    g.throughput(Throughput::Elements(LINES as u64));
    g.sample_size(10);
    g.bench_function("parse_line", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for l in lines(buf) {
                n += usize::from(parse_line(l, &ctx).is_some());
            }
            n
        })
    });
    g.bench_function("log_parser", |b| {
        b.iter(|| {
            let mut p = LogParser::new(ctx.clone());
            let mut n = 0usize;
            p.push_buffer(buf, |_| n += 1);
            p.finish(|_| n += 1);
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Parser throughput on a realistic mix: REGISTER with Authorization, INVITE with SDP, 401, 200.
//!
//! Run: `cargo bench -p sipsentry-sip --bench parse`. Figures go to BENCHMARKS.md.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use sipsentry_sip::Message;

fn mix() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/mix");
    [
        "register_auth.sip",
        "invite_sdp.sip",
        "401.sip",
        "200_register.sip",
    ]
    .iter()
    .map(|f| std::fs::read(dir.join(f)).expect("mix vector"))
    .collect()
}

/// What a detector reads from every message.
#[inline(never)]
fn detector_view(buf: &[u8]) -> usize {
    let m = Message::parse(buf);
    let mut acc = m.anomalies().len();
    if let Some(Ok(v)) = m.top_via() {
        acc += v.branch().map_or(0, |b| b.len()) + v.host.len();
        acc += v.rport().map_or(0, |p| p.map_or(1, usize::from));
    }
    if let Some(Ok(f)) = m.from() {
        acc += f.tag().map_or(0, |t| t.len()) + f.uri.user.map_or(0, |u| u.len());
    }
    if let Some(Ok(t)) = m.to() {
        acc += t.tag().map_or(0, |t| t.len()) + t.uri.user.map_or(0, |u| u.len());
    }
    if let Some(Ok(c)) = m.cseq() {
        acc += c.seq as usize + c.method.len();
    }
    acc += m.call_id().map_or(0, |c| c.len());
    acc += m.user_agent().or(m.server()).map_or(0, |u| u.len());
    if let Some(Ok(a)) = m.authorization() {
        acc += a.param(b"username").map_or(0, |u| u.len());
        acc += a.param(b"realm").map_or(0, |u| u.len());
    }
    acc += m.status().unwrap_or(0) as usize;
    acc
}

fn bench(c: &mut Criterion) {
    let msgs = mix();
    let bytes: usize = msgs.iter().map(|m| m.len()).sum();
    let mut g = c.benchmark_group("sip-mix");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function("parse+detector-views/msgs", |b| {
        b.iter(|| {
            msgs.iter()
                .map(|m| detector_view(black_box(m)))
                .sum::<usize>()
        })
    });
    g.bench_function("parse-only/msgs", |b| {
        b.iter(|| {
            msgs.iter()
                .map(|m| Message::parse(black_box(m)).headers().len())
                .sum::<usize>()
        })
    });
    g.bench_function("parse-strict/msgs", |b| {
        b.iter(|| {
            msgs.iter()
                .map(|m| Message::parse_strict(black_box(m)).anomalies().len())
                .sum::<usize>()
        })
    });
    g.finish();
    let mut g = c.benchmark_group("sip-mix-bytes");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("parse+detector-views/bytes", |b| {
        b.iter(|| {
            msgs.iter()
                .map(|m| detector_view(black_box(m)))
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(4)).warm_up_time(std::time::Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);

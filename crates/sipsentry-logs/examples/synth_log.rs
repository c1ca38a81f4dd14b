//! Write the synthetic Asterisk log used by the benchmarks.
//!
//! Usage: `synth_log LINES OUTPUT [FIXTURE]` (fixture defaults to the fail2ban Asterisk fixture).

#[path = "../benches/synth.rs"]
mod synth;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!("usage: synth_log LINES OUTPUT [FIXTURE]");
        std::process::exit(2);
    }
    let n: usize = args[0].parse().unwrap_or_else(|_| {
        eprintln!("LINES must be a number");
        std::process::exit(2)
    });
    let fixture = args.get(2).cloned().unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/vectors/logs/asterisk.fail2ban.log"
        )
        .to_string()
    });
    let text = std::fs::read_to_string(&fixture).unwrap_or_else(|e| {
        eprintln!("{fixture}: {e}");
        std::process::exit(1)
    });
    let log = synth::generate(&text, n);
    if let Err(e) = std::fs::write(&args[1], log) {
        eprintln!("{}: {e}", args[1]);
        std::process::exit(1);
    }
}

#!/usr/bin/env bash
# Ban latency and batch throughput of sipsentry-nft, next to fail2ban's nftables-multiport action.
# Needs root, nftables, iproute2 and fail2ban (.ci/deps.d/20-guard.sh, 00-core.sh). Everything runs
# in a network namespace the benchmark creates and deletes (ssg-bench-<pid>); nothing touches the
# host's ruleset. Usage: bash bench/guard-bench.sh [SAMPLES]   (default 300)
set -euo pipefail
cd "$(dirname "$0")/.."
samples="${1:-300}"
for t in nft ip fail2ban-server; do
  command -v "$t" >/dev/null || { echo "missing $t: apt-get install nftables iproute2 fail2ban" >&2; exit 2; }
done
cargo build -q --release -p sipsentry-nft --example nft_bench
echo "# $(date -u +%FT%TZ) $(uname -r) $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
exec target/release/examples/nft_bench --samples "$samples" --fail2ban

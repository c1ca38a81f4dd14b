#!/usr/bin/env bash
# Peak memory of `sipsentry watch` while 1,000,000 distinct spoofed sources each send a request
# (mirrored as HEP3). Prints the guard's VmHWM (peak RSS) and what reached the detectors.
#
#   bench/watch-flood-memory.sh [N] [RATE]     (default 1000000 at 50000/s)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
RATE=${2:-50000}
cargo build --release -q -p sipsentry-cli
cargo build --release -q -p sipsentry-watch --example hep_flood
T=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$T"' EXIT
cat > "$T/w.toml" <<TOML
[inputs.hep]
udp = "127.0.0.1:19063"
tcp = ""
[response]
mode = "off"
[alerts]
stdout = false
[store]
path = "$T/g.db"
[api]
listen = "127.0.0.1:19964"
TOML
target/release/sipsentry watch --config "$T/w.toml" 2>/dev/null &
PID=$!
sleep 1
target/release/examples/hep_flood 127.0.0.1:19063 "$N" "$RATE"
sleep 2
echo "peak RSS (VmHWM): $(awk '/VmHWM/ {print $2, $3}' /proc/$PID/status)"
curl -s 127.0.0.1:19964/metrics | grep -E '^sipsentry_input_(received|dropped)_total\{input="hep_udp"\}|^sipsentry_alerts_total'

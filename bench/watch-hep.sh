#!/usr/bin/env bash
# HEP ingest rate of `sipsentry watch` on ONE core with zero drops.
#
#   bench/watch-hep.sh [RATES...]     (default: 100000 200000 300000 400000)
#
# The guard runs pinned to CPU 0 (taskset), the sender (examples/hep_blast) to CPU 1. For each
# rate the sender sends a bounded 5 s worth of the lab capture's messages as HEP3/UDP to
# 127.0.0.1; afterwards the guard's /metrics tell how many reached the detectors
# (sipsentry_input_received_total) and how many it dropped; the kernel's UDP receive-buffer
# errors (/proc/net/snmp, RcvbufErrors) are counted as drops too.
set -euo pipefail
cd "$(dirname "$0")/.."
RATES=("${@:-100000 200000 300000 400000}")
[[ $# -eq 0 ]] && RATES=(100000 200000 300000 400000)
cargo build --release -q -p sipsentry-cli
cargo build --release -q -p sipsentry-watch --example hep_blast
BIN=target/release/sipsentry
BLAST=target/release/examples/hep_blast
T=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$T"' EXIT
cat > "$T/w.toml" <<TOML
[inputs.hep]
udp = "127.0.0.1:19060"
tcp = ""
[response]
mode = "off"
[alerts]
stdout = false
[store]
path = "$T/g.db"
[api]
listen = "127.0.0.1:19961"
TOML
rcvbuf_errors() { awk '/^Udp:/ { if (h) { print $6; exit } h=1 }' /proc/net/snmp; }
metric() { curl -s 127.0.0.1:19961/metrics | awk -v k="$1" '$1 == k { print $2 }'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
echo "rate_target  sent  received  dropped_queue  dropped_kernel  rss_kb  guard_cpu_s  us_per_msg  one_core_capacity"
for rate in "${RATES[@]}"; do
  taskset -c 0 "$BIN" watch --config "$T/w.toml" 2>/dev/null &
  PID=$!
  sleep 1
  k0=$(rcvbuf_errors)
  c0=$(cpu_ticks $PID)
  total=$((rate * 5))
  out=$(taskset -c 1 "$BLAST" tests/vectors/lab/attack-lab.pcap 127.0.0.1:19060 "$total" "$rate")
  sleep 2
  k1=$(rcvbuf_errors)
  rec=$(metric 'sipsentry_input_received_total{input="hep_udp"}')
  drop=$(metric 'sipsentry_input_dropped_total{input="hep_udp"}')
  rss=$(awk '/VmHWM/ {print $2}' /proc/$PID/status)
  c1=$(cpu_ticks $PID)
  cpu=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" 'BEGIN { printf "%.2f", (b - a) / hz }')
  us=$(awk -v c="$cpu" -v n="$rec" 'BEGIN { printf "%.2f", c * 1e6 / n }')
  cap=$(awk -v u="$us" 'BEGIN { printf "%.0f", 1e6 / u }')
  echo "$rate  $total  $rec  $drop  $((k1 - k0))  $rss  $cpu  $us  $cap   # $out"
  kill $PID; wait $PID 2>/dev/null || true
done

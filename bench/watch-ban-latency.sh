#!/usr/bin/env bash
# Time from the packet that crosses a threshold to the ban being in the kernel's nft set.
#
#   bench/watch-ban-latency.sh [N]      (default 200 attackers)
#
# Everything runs inside a network namespace this script creates (and deletes): the guard in
# enforce mode with HEP input, and examples/ban_latency, which mirrors five failed digest
# authentications per fresh source and watches `nft monitor` for the element.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-200}
cargo build --release -q -p sipsentry-cli
cargo build --release -q -p sipsentry-watch --example ban_latency
NS=ssb-lat-$$
T=$(mktemp -d ${BENCH_TMP:+-p $BENCH_TMP})
cleanup() { kill "${PID:-0}" 2>/dev/null || true; ip netns del "$NS" 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
cat > "$T/w.toml" <<TOML
[inputs.hep]
udp = "127.0.0.1:19060"
tcp = ""
[response]
mode = "enforce"
[alerts]
stdout = false
[store]
path = "$T/g.db"
[api]
listen = ""
TOML
ip netns exec "$NS" target/release/sipsentry watch --config "$T/w.toml" 2>"$T/err" &
PID=$!
sleep 1
ip netns exec "$NS" target/release/examples/ban_latency 127.0.0.1:19060 "$N"

#!/usr/bin/env bash
# Compare sipsentry-logs with Debian's fail2ban-regex on the same synthetic Asterisk log.
#
#   crates/sipsentry-logs/benches/vs-fail2ban.sh [LINES] [RUNS]   (defaults: 200000 lines, 3 runs)
#
# Each side runs RUNS times; the best wall-clock time of each is compared. Our side is the whole
# `parse_log` process: read file, detect format, parse, count events by kind and by source.
# Needs `fail2ban-regex` (Debian package fail2ban). Builds the examples in release mode.
set -euo pipefail

LINES="${1:-200000}"
RUNS="${2:-3}"
CRATE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$CRATE_DIR/../.." && pwd)"
FILTER=/etc/fail2ban/filter.d/asterisk.conf

command -v fail2ban-regex >/dev/null || {
  echo "fail2ban-regex not found: apt-get install -y fail2ban" >&2
  exit 1
}

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
LOG="$WORK/asterisk-synth.log"

cd "$ROOT"
cargo build --release -q -p sipsentry-logs --example parse_log --example synth_log
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps 2>/dev/null \
  | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
TARGET_DIR="${TARGET_DIR:-$ROOT/target}"
BIN="$TARGET_DIR/release/examples"

"$BIN/synth_log" "$LINES" "$LOG"
echo "log: $LINES lines, $(wc -c <"$LOG") bytes (fixture lines of asterisk.fail2ban.log, varied IPs)"

now() { date +%s.%N; }
best() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }

f2b=""
ours=""
for _ in $(seq "$RUNS"); do
  t0=$(now)
  fail2ban-regex "$LOG" "$FILTER" >"$WORK/f2b.out" 2>&1
  t1=$(now)
  "$BIN/parse_log" "$LOG" >"$WORK/ours.out"
  t2=$(now)
  f2b=$(best "$f2b" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
  ours=$(best "$ours" "$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.3f", b - a }')")
done

echo "best of $RUNS runs each:"
echo "fail2ban-regex $(fail2ban-regex -V 2>/dev/null | head -1): ${f2b} s  ($(grep -E '^Lines:' "$WORK/f2b.out" || true))"
echo "sipsentry-logs parse_log (release, whole process): ${ours} s  ($(grep -E '^lines:' "$WORK/ours.out"))"
grep -E '^parse time:' "$WORK/ours.out" | sed 's/^/  sipsentry-logs /'
awk -v a="$f2b" -v b="$ours" 'BEGIN { printf "speed-up: %.1fx (fail2ban-regex time / sipsentry-logs time)\n", a / (b > 0 ? b : 0.001) }'

#!/usr/bin/env bash
# analyze vs tshark on generated captures of 100k and 1M SIP messages (same session, same files).
# Prints wall time and peak RSS (GNU time) for:
#   sipsentry analyze --summary-only --format json   (parse + summary)
#   sipsentry analyze --format jsonl                  (a JSON object per message)
#   sipsentry analyze                                 (table line per message + summary)
#   tshark -r FILE -Y sip                             (a summary line per SIP packet)
# usage: bench/analyze-vs-tshark.sh [RUNS]   (needs python3, tshark, GNU time at /usr/bin/time)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
tmp=${TMPDIR:-/tmp}/sipsentry-bench
mkdir -p "$tmp"
cargo build --release -q -p sipsentry-cli
bin=target/release/sipsentry
for n in 100000 1000000; do
  f="$tmp/sip-$n.pcap"
  [ -f "$f" ] || python3 bench/gen-capture.py "$n" "$f"
done
measure() { # label, command...
  local label=$1; shift
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "$label %e s %M KB" "$@" > /dev/null 2>> "$tmp/times.txt" || true
  done
}
: > "$tmp/times.txt"
for n in 100000 1000000; do
  f="$tmp/sip-$n.pcap"
  measure "summary-$n" "$bin" analyze --no-progress --summary-only --format json "$f"
  measure "decode-only-summary-$n" "$bin" analyze --no-progress --no-alerts --summary-only --format json "$f"
  measure "decode-only-table-$n" "$bin" analyze --no-progress --no-alerts "$f"
  measure "jsonl-$n" "$bin" analyze --no-progress --format jsonl "$f"
  measure "table-$n" "$bin" analyze --no-progress "$f"
  # tshark is slow: one run at 1M.
  if [ "$n" = 1000000 ]; then r=1; else r=$runs; fi
  for _ in $(seq "$r"); do
    /usr/bin/time -f "tshark-$n %e s %M KB" tshark -r "$f" -Y sip > /dev/null 2>> "$tmp/times.txt" || true
  done
done
python3 - "$tmp/times.txt" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list); mem = collections.defaultdict(int)
for line in open(sys.argv[1]):
    p = line.split()
    if len(p) == 5 and p[2] == "s" and p[4] == "KB":
        runs[p[0]].append(float(p[1])); mem[p[0]] = max(mem[p[0]], int(p[3]))
for k in sorted(runs):
    print(f"{k:<16} median {statistics.median(runs[k]):7.2f} s  peak RSS {mem[k]:8d} KB  ({len(runs[k])} runs)")
for n in ("100000", "1000000"):
    t = runs.get(f"tshark-{n}")
    if t:
        for mode in ("summary", "jsonl", "table", "decode-only-summary", "decode-only-table"):
            o = runs.get(f"{mode}-{n}")
            if o:
                print(f"ratio tshark/{mode} at {n}: {statistics.median(t) / statistics.median(o):.1f}x")
PY

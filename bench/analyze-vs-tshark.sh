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
  measure "jsonl-$n" "$bin" analyze --no-progress --format jsonl "$f"
  measure "table-$n" "$bin" analyze --no-progress "$f"
  # tshark is slow: one run at 1M.
  if [ "$n" = 1000000 ]; then r=1; else r=$runs; fi
  for _ in $(seq "$r"); do
    /usr/bin/time -f "tshark-$n %e s %M KB" tshark -r "$f" -Y sip > /dev/null 2>> "$tmp/times.txt" || true
  done
done
grep -E " s [0-9]+ KB$" "$tmp/times.txt" | sort | awk '
  { key=$1; t=$2; m=$4; n[key]++; ts[key, n[key]]=t; mem[key]=(m>mem[key]?m:mem[key]) }
  END { for (k in n) { c=n[k]; for(i=1;i<=c;i++) a[i]=ts[k,i]; asort(a); med=a[int((c+1)/2)];
        printf "%-16s median %7.2f s  peak RSS %8d KB  (%d runs)\n", k, med, mem[k], c; delete a } }' | sort

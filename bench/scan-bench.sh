#!/usr/bin/env bash
# Benchmarks for `sipsentry scan` (results in bench/scan-results.md):
#  1. default `3cx` profile scan of one loopback target (real Kamailio, WEAK profile);
#  2. enumeration of 10,000 extensions, sipvicious svwar vs sipsentry at svwar's packet rate.
# Needs: kamailio, python3 with sipvicious==0.3.8, a built `sipsentry` (debug is fine: both
# jobs are bound by the network and pacing, not CPU). Loopback only: 127.0.0.57 (PBX),
# 127.0.0.62/.63 (scanners).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${SIPSENTRY:-target/debug/sipsentry}
RUNS=${RUNS:-5}
PBX=127.0.0.57
WORK=$(mktemp -d)
MPATH=$(dirname "$(ls /usr/lib/*/kamailio/modules/tm.so | head -1)")/
sed -e "s/@IP@/$PBX/; s/@PORT@/5060/; s#@MPATH@#$MPATH#" crates/sipsentry-scan/tests/kamailio/weak.cfg >"$WORK/k.cfg"
kamailio -f "$WORK/k.cfg" -DD -E -Y "$WORK" -P "$WORK/k.pid" 2>"$WORK/k.log" &
KPID=$!
cleanup() { kill -TERM "$KPID" 2>/dev/null || true; wait "$KPID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 50); do (echo >/dev/tcp/$PBX/5060) 2>/dev/null && break; sleep 0.1; done
sleep 0.5

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "== 1. default 3cx profile scan of $PBX ($RUNS runs)"
: >"$WORK/t1"
for i in $(seq "$RUNS"); do
  s=$(now)
  "$BIN" scan --no-progress --bind 127.0.0.63 --domain weak.sipsentry.test --format json "$PBX" >"$WORK/scan.json" || true
  e=$(now); echo "$e - $s" | bc >>"$WORK/t1"
  sleep 1
done
echo "runs (s): $(tr '\n' ' ' <"$WORK/t1")"
echo "median (s): $(median <"$WORK/t1")"
python3 -c "import json,sys; d=json.load(open('$WORK/scan.json')); print('findings:', sorted({f['id'] for f in d['findings']})); print('packets sent:', d['targets'][0]['packets_sent'])"

echo "== 2. enumeration of 10,000 extensions (REGISTER), 3 runs each"
: >"$WORK/sv"; : >"$WORK/ss"
for i in 1 2 3; do
  s=$(now)
  timeout 600 python3 lab/sv_bind.py 127.0.0.62 svwar -m REGISTER -e1000-10999 "$PBX" >"$WORK/svwar.out" 2>&1 || true
  e=$(now); echo "$e - $s" | bc >>"$WORK/sv"
  sleep 1
done
SV=$(median <"$WORK/sv")
RATE=$(echo "10000 / $SV" | bc -l | cut -d. -f1)
echo "svwar runs (s): $(tr '\n' ' ' <"$WORK/sv") median $SV => $RATE requests/s"
echo "svwar found: $(grep -E '^\| [0-9]' "$WORK/svwar.out" | awk '{print $2}' | tr '\n' ' ')"
for i in 1 2 3; do
  s=$(now)
  "$BIN" scan --no-progress --bind 127.0.0.63 --domain weak.sipsentry.test --ports udp:5060 \
    --skip invite,register,burst,tls,mgmt --enum-methods REGISTER --range 1000-10999 \
    --rate "$RATE" --concurrency 64 --format json "$PBX" >"$WORK/enum.json" || true
  e=$(now); echo "$e - $s" | bc >>"$WORK/ss"
  sleep 1
done
echo "sipsentry at $RATE/s runs (s): $(tr '\n' ' ' <"$WORK/ss") median $(median <"$WORK/ss")"
python3 -c "import json; d=json.load(open('$WORK/enum.json')); print('sipsentry found:', ' '.join(d['targets'][0]['extensions'])); print('packets sent:', d['targets'][0]['packets_sent'])"

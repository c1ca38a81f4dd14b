#!/usr/bin/env bash
# Benchmark: `sipsentry backup create` / `verify` against `tar c | age -r` / `age -d | tar t`
# on a generated 2 GB source, in the same run, with peak RSS from GNU time.
#
# Usage: bench/backup-vs-age.sh [RUNS]   (default 3; needs: age, tar, /usr/bin/time, a release
# build: cargo build --release -p sipsentry-cli). Generates the source under /tmp and deletes
# everything it created at the end. Results: medians, printed as a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
BIN=${SIPSENTRY_BIN:-target/release/sipsentry}
for t in age tar /usr/bin/time "$BIN"; do
  command -v "$t" >/dev/null || { echo "missing $t (Debian packages: age tar time; or cargo build --release -p sipsentry-cli)" >&2; exit 2; }
done
W=$(mktemp -d /tmp/sipsentry-bench.XXXX)
trap 'chmod -R u+w "$W" 2>/dev/null; rm -rf "$W"' EXIT
SRC=$W/src
mkdir -p "$SRC/config"
# 2 GiB total: one 1.5 GiB incompressible file (a big 3CX backup with recordings) and 2048
# files of 256 KiB (a config/recordings tree).
head -c $((1536 << 20)) /dev/urandom > "$SRC/3CXScheduledBackup.zip.bin"
for i in $(seq 1 2048); do head -c $((256 << 10)) /dev/urandom > "$SRC/config/f$i.dat"; done
BYTES=$(du -sb "$SRC" | cut -f1)
"$BIN" backup keygen --out-dir "$W/keys" >/dev/null
REC=$(cat "$W/keys/backup-recipient.txt")
cat "$SRC"/config/* "$SRC"/*.bin > /dev/null   # warm the page cache for every contender

measure() { # name, command...: prints "name wall_s maxrss_kib cpu_s" (cpu = user+sys, all processes)
  local name=$1; shift
  /usr/bin/time -f '%e %M %U %S' -o "$W/time.out" "$@" >/dev/null
  read -r e m u sy < "$W/time.out"
  echo "$name $e $m $(awk -v u="$u" -v s="$sy" 'BEGIN {print u+s}')"
  return 0
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
: > "$W/results"
for r in $(seq 1 "$RUNS"); do
  rm -rf "$W/store" "$W/age"; mkdir -p "$W/age"
  measure sipsentry-create "$BIN" backup create --source "$SRC" --name bench --to "$W/store" \
    --recipients-file "$W/keys/backup-recipient.txt" --signing-key "$W/keys/backup-signing.key" >> "$W/results"
  measure tar-age-create bash -c "tar -cf - -C '$W' src | age -r '$REC' > '$W/age/src.tar.age'" >> "$W/results"
  # Same, plus fsync of the output: sipsentry fsyncs the archive before writing the manifest.
  rm -f "$W/age/src.tar.age"
  measure tar-age-create+fsync bash -c "tar -cf - -C '$W' src | age -r '$REC' > '$W/age/src.tar.age' && sync '$W/age/src.tar.age'" >> "$W/results"
  measure sipsentry-verify "$BIN" backup verify --target "$W/store" \
    --verify-key "$W/keys/backup-verify.pub" --identity "$W/keys/backup-identity.txt" >> "$W/results"
  measure age-tar-verify bash -c "age -d -i '$W/keys/backup-identity.txt' '$W/age/src.tar.age' | tar -tf - > /dev/null" >> "$W/results"
done
echo "load average before: $LOAD0; after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "source: $BYTES bytes, $RUNS runs, $(nproc) cores, $(age --version 2>&1 | head -1) / $(tar --version | head -1)"
echo
echo "| step | median wall s | min wall s | MB/s (min wall) | median CPU s (user+sys) | peak RSS MiB (max of runs) |"
echo "|---|---|---|---|---|---|"
med() { sort -n | awk '{t[NR]=$1} END {print (NR%2) ? t[(NR+1)/2] : (t[NR/2]+t[NR/2+1])/2}'; }
for n in sipsentry-create tar-age-create tar-age-create+fsync sipsentry-verify age-tar-verify; do
  mw=$(awk -v n="$n" '$1==n {print $2}' "$W/results" | med)
  mn=$(awk -v n="$n" '$1==n {print $2}' "$W/results" | sort -n | head -1)
  mc=$(awk -v n="$n" '$1==n {print $4}' "$W/results" | med)
  rss=$(awk -v n="$n" '$1==n && $3>m {m=$3} END {print m}' "$W/results")
  awk -v n="$n" -v b="$BYTES" -v mw="$mw" -v mn="$mn" -v mc="$mc" -v rss="$rss" \
    'BEGIN {printf "| %s | %.2f | %.2f | %.0f | %.2f | %.1f |\n", n, mw, mn, b/1e6/mn, mc, rss/1024}'
done
echo
echo "raw (name wall_s maxrss_kib cpu_s):"
cat "$W/results"

#!/usr/bin/env bash
# lab/record.sh -- record real SIP attack + legitimate traffic into a pcap.
#
# Starts the leaky lab PBX (Kamailio, lab/kamailio/kamailio.cfg) on
# 127.0.0.20:5060, captures loopback SIP with tshark, and drives:
#
#   legitimate (each host = its own loopback address)
#     127.0.0.31  user 1001: sipsak re-registers every 10 s (5 times); a tiny
#                 UAS (lab/sipua.py) on :5061 answers its calls
#     127.0.0.32  user 1002: sipsak registers over TCP, then lab/sipua.py
#                 places 2 authenticated calls to 1001 (INVITE/407/ACK/INVITE/
#                 100/180/200/ACK/BYE/200)
#     127.0.0.40  "NAT'd office": users 1003-1005 from one address, local
#                 ports 5061-5063, each REGISTER -> 401 -> REGISTER -> 200
#   attackers
#     127.0.0.66  sipvicious svmap   (scan)
#     127.0.0.67  sipvicious svwar   (extension enumeration, REGISTER)
#     127.0.0.68  sipvicious svcrack (password cracking of 2000, lab/passwords.txt)
#     127.0.0.69  sipsak -F          (OPTIONS flood, bounded count)
#
# and writes OUT_DIR/attack-lab.pcap + OUT_DIR/ground-truth.json, the latter
# built from what the tools themselves reported (not hard-coded).  Exits
# non-zero, with a message, if any tool finds nothing or a legit client fails.
#
# usage: sudo lab/record.sh [OUT_DIR]      (default: tests/vectors/lab)
#
# Network rule: loopback only.  Every address below is in 127.0.0.0/8 and all
# of 127/8 is routed to lo on Linux, so distinct addresses act as distinct hosts
# without touching any real interface.  Whole run is bounded (~50 s, hard
# watchdog at 90 s); every client runs under `timeout`.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$LAB_DIR")
CFG=$LAB_DIR/kamailio/kamailio.cfg
OUT_DIR=${1:-$ROOT/tests/vectors/lab}
# python that has sipvicious installed: $PYTHON if set, else the venv that
# lab/install-deps.sh creates on Debian (PEP 668 forbids system pip), else python3
LAB_VENV=${LAB_VENV:-/opt/sipsentry-lab-venv}
if [[ -n ${PYTHON:-} ]]; then
    PY=$PYTHON
elif [[ -x $LAB_VENV/bin/python ]]; then
    PY=$LAB_VENV/bin/python
else
    PY=python3
fi

PBX_IP=127.0.0.20
PBX_PORT=5060
PBX=$PBX_IP:$PBX_PORT
LEGIT_1001=127.0.0.31
LEGIT_1002=127.0.0.32
OFFICE=127.0.0.40
ATK_SVMAP=127.0.0.66
ATK_SVWAR=127.0.0.67
ATK_SVCRACK=127.0.0.68
ATK_FLOOD=127.0.0.69
FLOOD_COUNT=300
REG_1001_COUNT=5
REG_1001_EVERY=10

die() { echo "record.sh: ERROR: $*" >&2; exit 1; }
log() { printf '[%3ds] %s\n' "$SECONDS" "$*"; }
SECONDS=0

# ---------------------------------------------------------------- preflight
[[ $(id -u) -eq 0 ]] || die "must run as root (tshark captures on lo)"
for cmd in kamailio tshark sipsak ss timeout "$PY"; do
    command -v "$cmd" >/dev/null || die "missing '$cmd' (run lab/install-deps.sh)"
done
"$PY" -c 'import sipvicious' 2>/dev/null || die "$PY cannot import sipvicious (pip install sipvicious)"
# A stale run, or a system kamailio on the wildcard address, would either
# steal 127.0.0.20:5060 or mix foreign traffic into the capture.
while read -r _ _ _ _ local_addr _; do
    case ${local_addr%:*} in
        "$PBX_IP" | 0.0.0.0 | '*' | '[::]')
            die "port $PBX_PORT is taken on ${local_addr%:*} (stale lab run or system kamailio service?)" ;;
    esac
done < <(ss -Hlnut "sport = :$PBX_PORT" 2>/dev/null)
mkdir -p "$OUT_DIR"

# passwords live in one place only: the htable lines of the Kamailio config
pw_of() {
    local pw
    pw=$(sed -n "s/.*\$sht(users=>$1) = \"\([^\"]*\)\";.*/\1/p" "$CFG")
    [[ -n $pw ]] || die "no password for user $1 in $CFG"
    printf '%s' "$pw"
}

WORK=$(mktemp -d /tmp/sipsentry-lab.XXXXXX)
PIDS=()          # background jobs we started; cleanup kills exactly these
WATCHDOG=

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [[ -n $WATCHDOG ]] && { kill "$WATCHDOG" 2>/dev/null || true; }
    # reverse order: clients, then tshark, then kamailio
    local i
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        kill -TERM "${PIDS[i]}" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if [[ $rc -eq 0 ]]; then
        rm -rf "$WORK"
    else
        echo "record.sh: failed (rc=$rc); logs kept in $WORK" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
# turn signals into a normal exit so the EXIT trap cleans up
trap 'exit 130' INT
trap 'exit 143' TERM

# hard bound on the whole script, independent of any single step
(
    trap 'kill "$sp" 2>/dev/null; exit 0' TERM
    sleep 90 & sp=$!
    wait "$sp"
    echo "record.sh: watchdog: 90 s budget exceeded, aborting" >&2
    kill -TERM $$
) &
WATCHDOG=$!

# ---------------------------------------------------------------- PBX + capture
log "starting kamailio on $PBX (work dir $WORK)"
# -DD -E: foreground, log to stderr; -Y/-P: runtime dir and pid file in our
# temp dir, so nothing is written under /run or /var.  timeout = safety net.
timeout 95 kamailio -f "$CFG" -DD -E -Y "$WORK" -P "$WORK/kamailio.pid" \
    >"$WORK/kamailio.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
    [[ -n $(ss -Hlun "src $PBX" 2>/dev/null) ]] && break
    sleep 0.1
done
[[ -n $(ss -Hlun "src $PBX" 2>/dev/null) ]] || die "kamailio did not start (see $WORK/kamailio.log)"

log "starting tshark on lo"
# Filter on the PBX address as well as the port: other software on this box
# (e.g. unit tests) may use 5060 on 127.0.0.1; every lab flow touches the PBX.
# -F pcap: classic pcap, the most widely readable format.  -a: autostop bound.
timeout 95 tshark -q -i lo -f "host $PBX_IP and (udp port $PBX_PORT or tcp port $PBX_PORT)" \
    -a duration:88 -F pcap -w "$WORK/capture.pcap" >"$WORK/tshark.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
    grep -q "Capturing on" "$WORK/tshark.log" 2>/dev/null && break
    sleep 0.1
done
grep -q "Capturing on" "$WORK/tshark.log" || die "tshark did not start (see $WORK/tshark.log)"
sleep 1   # the brief's "give it a second": let the capture settle

# ---------------------------------------------------------------- legitimate traffic
# sipsak flags used throughout: --local-ip binds the source address, -H puts
# the same address in Via/Contact (otherwise sipsak advertises 127.0.0.1),
# -i silences the "Via insertion deactivated in usrloc mode" warning.

log "legit 127.0.0.31: UAS for 1001 on :5061"
timeout 75 "$PY" "$LAB_DIR/sipua.py" uas --bind "$LEGIT_1001:5061" --user 1001 --duration 60 \
    >"$WORK/uas-1001.log" 2>&1 &
PIDS+=($!)

# A phone that re-registers regularly.  Contact points at the UAS above so
# calls to 1001 are really answered.  Bounded: REG_1001_COUNT iterations.
register_1001_loop() {
    local pw i ok=0
    pw=$(pw_of 1001)
    for ((i = 1; i <= REG_1001_COUNT; i++)); do
        if timeout 8 sipsak --local-ip "$LEGIT_1001" -H "$LEGIT_1001" -U -i -x 30 \
            -C "sip:1001@$LEGIT_1001:5061" -s "sip:1001@$PBX" -a "$pw"; then
            ok=$((ok + 1))
        fi
        ((i < REG_1001_COUNT)) && sleep "$REG_1001_EVERY"
    done
    echo "registrations ok: $ok/$REG_1001_COUNT"
}
log "legit 127.0.0.31: user 1001 re-registers every ${REG_1001_EVERY}s x$REG_1001_COUNT"
register_1001_loop >"$WORK/reg-1001.log" 2>&1 &
PIDS+=($!)
REG_LOOP=$!
sleep 1

# NAT'd office: three phones behind one address, told apart by source port.
# --symmetric makes sipsak send from the port it listens on (like a phone).
for spec in 1003:5061 1004:5062 1005:5063; do
    user=${spec%%:*} port=${spec##*:}
    log "legit $OFFICE:$port (NAT'd office): user $user registers"
    timeout 8 sipsak --local-ip "$OFFICE" -H "$OFFICE" --local-port "$port" --symmetric \
        -U -i -x 120 -s "sip:$user@$PBX" -a "$(pw_of "$user")" >"$WORK/reg-$user.log" 2>&1 \
        || die "office phone $user failed to register (see $WORK/reg-$user.log)"
    sleep 1
done

# 1002: registers over TCP (so the capture has a TCP flow too) with a UDP
# Contact on :5062, where sipua.py then places the calls from.
log "legit $LEGIT_1002: user 1002 registers (TCP)"
timeout 8 sipsak -E tcp --local-ip "$LEGIT_1002" -H "$LEGIT_1002" -U -i -x 120 \
    -C "sip:1002@$LEGIT_1002:5062" -s "sip:1002@$PBX" -a "$(pw_of 1002)" \
    >"$WORK/reg-1002.log" 2>&1 || die "1002 failed to register (see $WORK/reg-1002.log)"
log "legit $LEGIT_1002: user 1002 calls 1001 twice"
timeout 30 "$PY" "$LAB_DIR/sipua.py" call --bind "$LEGIT_1002:5062" --user 1002 \
    --password "$(pw_of 1002)" --proxy "$PBX" --to 1001 --calls 2 --hold 2 --gap 1 \
    >"$WORK/calls-1002.log" 2>&1 || die "1002's calls failed (see $WORK/calls-1002.log)"
sleep 1

# ---------------------------------------------------------------- attackers
# sipvicious runs through lab/sv_bind.py, which only makes -b actually bind
# (svwar/svcrack 0.3.8 ignore it); exit codes are informative (40 = found),
# so success is judged from the parsed output below, not from $?.
log "attacker $ATK_SVMAP: svmap"
timeout 20 "$PY" "$LAB_DIR/sv_bind.py" "$ATK_SVMAP" svmap "$PBX_IP" \
    >"$WORK/svmap.log" 2>&1 || true
sleep 1
log "attacker $ATK_SVWAR: svwar -e1000-1020,2000 -m REGISTER"
timeout 30 "$PY" "$LAB_DIR/sv_bind.py" "$ATK_SVWAR" svwar -m REGISTER -e1000-1020,2000 "$PBX_IP" \
    >"$WORK/svwar.log" 2>&1 || true
sleep 1
log "attacker $ATK_SVCRACK: svcrack -u 2000 -d passwords.txt"
timeout 30 "$PY" "$LAB_DIR/sv_bind.py" "$ATK_SVCRACK" svcrack -u 2000 -d "$LAB_DIR/passwords.txt" "$PBX_IP" \
    >"$WORK/svcrack.log" 2>&1 || true
sleep 1
# -F -e N: flood mode stops after N messages (sipsak's documented count limit)
log "attacker $ATK_FLOOD: sipsak -F -e $FLOOD_COUNT (OPTIONS flood)"
timeout 20 sipsak -F -e "$FLOOD_COUNT" --local-ip "$ATK_FLOOD" -H "$ATK_FLOOD" -s "sip:$PBX" \
    >"$WORK/flood.log" 2>&1 || die "sipsak flood failed (see $WORK/flood.log)"

# ---------------------------------------------------------------- wind down
log "waiting for 1001's re-registration loop to finish"
wait "$REG_LOOP" || true
grep -q "registrations ok: $REG_1001_COUNT/$REG_1001_COUNT" "$WORK/reg-1001.log" \
    || die "1001 re-registrations incomplete: $(tail -1 "$WORK/reg-1001.log")"
sleep 1   # let the last replies land in the capture

log "stopping capture and PBX"
for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${PIDS[i]}" 2>/dev/null || true
done
wait "${PIDS[@]}" 2>/dev/null || true
PIDS=()

[[ -s $WORK/capture.pcap ]] || die "empty capture"

# ---------------------------------------------------------------- ground truth
versions() {
    echo "kamailio=$(kamailio -v 2>/dev/null | head -1)"
    echo "sipsak=$(sipsak --version 2>/dev/null | head -1)"
    echo "tshark=$(tshark --version 2>/dev/null | head -1)"
    echo "sipvicious=$("$PY" -c 'import importlib.metadata as m; print(m.version("sipvicious"))')"
}
versions >"$WORK/versions.txt"

WORK=$WORK PBX=$PBX FLOOD_COUNT=$FLOOD_COUNT \
LEGIT="$LEGIT_1001 $LEGIT_1002 $OFFICE" \
ATTACKERS="$ATK_SVMAP=scanner (svmap);$ATK_SVWAR=enumeration (svwar);$ATK_SVCRACK=password cracking (svcrack);$ATK_FLOOD=flood (sipsak -F)" \
"$PY" - <<'EOF'
import json, os, re, sys

work = os.environ["WORK"]

def table(name):
    """Rows of the ASCII table a sipvicious tool prints (header row dropped)."""
    rows = []
    with open(os.path.join(work, name), encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("|"):
                rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows[1:]

def fail(msg):
    sys.exit(f"record.sh: ERROR: {msg} (logs in {work})")

svmap = {r[0]: r[1] for r in table("svmap.log")}
if os.environ["PBX"] not in svmap:
    fail(f"svmap did not find the PBX {os.environ['PBX']}: {svmap}")
svwar = sorted((r[0] for r in table("svwar.log")), key=lambda x: (len(x), x))
if not svwar:
    fail("svwar found no extensions")
svcrack = {r[0]: r[1] for r in table("svcrack.log")}
if not svcrack:
    fail("svcrack cracked no password")
flood_log = open(os.path.join(work, "flood.log")).read()
m = re.search(r"to send (\d+) request", flood_log)
if not m:
    fail("could not read how many messages sipsak -F sent")
if int(m.group(1)) != int(os.environ["FLOOD_COUNT"]):
    fail(f"sipsak -F sent {m.group(1)} messages, expected {os.environ['FLOOD_COUNT']}")
tools = {k: v.strip() for k, v in (l.rstrip("\n").split("=", 1) for l in open(os.path.join(work, "versions.txt")))}

truth = {
    "pbx": os.environ["PBX"],
    "legitimate": os.environ["LEGIT"].split(),
    "legitimate_detail": {
        "127.0.0.31": "user 1001: sipsak re-registers every 10 s (5x); sipua.py UAS on :5061 answers calls",
        "127.0.0.32": "user 1002: sipsak REGISTER over TCP; sipua.py places 2 authenticated calls to 1001",
        "127.0.0.40": "NAT'd office: users 1003/1004/1005 from ports 5061/5062/5063, one challenged REGISTER each",
    },
    "attackers": dict(kv.split("=", 1) for kv in os.environ["ATTACKERS"].split(";")),
    "svmap_found": svmap,
    "svwar_found": svwar,
    "svcrack_found": svcrack,
    "flood_messages": int(m.group(1)),
    "tools": tools,
}
with open(os.path.join(work, "ground-truth.json"), "w") as f:
    json.dump(truth, f, indent=2)
    f.write("\n")
print(json.dumps({k: truth[k] for k in ("svmap_found", "svwar_found", "svcrack_found", "flood_messages")}))
EOF

# Only now, with every check passed, touch OUT_DIR: a failed run must never
# leave a new pcap next to an old ground truth.  0644 because tshark writes
# 0600 and these files are committed and read by tests.
install -m 0644 "$WORK/capture.pcap" "$OUT_DIR/attack-lab.pcap"
install -m 0644 "$WORK/ground-truth.json" "$OUT_DIR/ground-truth.json"
log "wrote $OUT_DIR/attack-lab.pcap ($(stat -c %s "$OUT_DIR/attack-lab.pcap") bytes) and $OUT_DIR/ground-truth.json"
tshark -r "$OUT_DIR/attack-lab.pcap" -Y sip -T fields -e ip.src -e sip.Method -e sip.Status-Code 2>/dev/null \
    | sort | uniq -c

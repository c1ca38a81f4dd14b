#!/usr/bin/env bash
# lab/install-deps.sh -- install what lab/record.sh needs on a fresh Debian box.
#
# Idempotent: apt runs only if a package is missing, pip only if sipvicious is
# not already importable at the pinned version.  Meant to be called from CI
# before lab/regenerate-check.sh.  Run as root.
#
#   apt:  kamailio (lab PBX), tshark (capture), sipsak (legit clients + flood),
#         python3 + python3-venv (sipvicious, lab/sipua.py), iproute2 (ss),
#         coreutils timeout is always there.
#   pip:  sipvicious==$SIPVICIOUS_VERSION -- pinned: the recorded ground truth
#         (and the -b workaround in lab/sv_bind.py) was made with this version.
#
# Python: if `${PYTHON:-python3}` already has the pinned sipvicious, nothing is
# installed.  Otherwise sipvicious goes into a venv at $LAB_VENV (Debian's
# system python is "externally managed", PEP 668, so plain `pip install` is
# refused); lab/record.sh picks that venv up automatically.
set -euo pipefail

SIPVICIOUS_VERSION=0.3.8
LAB_VENV=${LAB_VENV:-/opt/sipsentry-lab-venv}
PY=${PYTHON:-python3}
APT_PACKAGES=(kamailio tshark sipsak python3 python3-venv iproute2)

[[ $(id -u) -eq 0 ]] || { echo "install-deps.sh: run as root" >&2; exit 1; }

# ---------------------------------------------------------------- apt
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    # dpkg-query exits 0 for removed-but-configured packages too; check status
    if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done
if ((${#missing[@]})); then
    echo "install-deps.sh: apt installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # tshark's postinst asks whether non-root users may capture; answer "no"
    # up front so the install never blocks on a prompt (the lab runs as root)
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
else
    echo "install-deps.sh: apt packages already present"
fi

# The Debian kamailio package enables its system service, whose default
# config listens on all addresses, port 5060 -- that would steal
# 127.0.0.20:5060 from the lab PBX.  The lab runs its own foreground instance,
# so on a systemd-booted machine stop and disable the service.  In containers
# without systemd nothing starts it, so leave the unit files alone there.
if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null \
    && { systemctl is-active --quiet kamailio || systemctl is-enabled --quiet kamailio; } 2>/dev/null; then
    echo "install-deps.sh: stopping/disabling the kamailio system service (the lab runs its own)"
    systemctl disable --now kamailio
fi

# ---------------------------------------------------------------- sipvicious
has_pinned() {
    "$1" - "$SIPVICIOUS_VERSION" <<'EOF' 2>/dev/null
import importlib.metadata as m, sys
sys.exit(0 if m.version("sipvicious") == sys.argv[1] else 1)
EOF
}

if has_pinned "$PY"; then
    echo "install-deps.sh: $PY already has sipvicious $SIPVICIOUS_VERSION"
elif [[ -x $LAB_VENV/bin/python ]] && has_pinned "$LAB_VENV/bin/python"; then
    echo "install-deps.sh: $LAB_VENV already has sipvicious $SIPVICIOUS_VERSION"
else
    echo "install-deps.sh: installing sipvicious==$SIPVICIOUS_VERSION into $LAB_VENV"
    python3 -m venv "$LAB_VENV"
    "$LAB_VENV/bin/python" -m pip install --disable-pip-version-check -q "sipvicious==$SIPVICIOUS_VERSION"
    has_pinned "$LAB_VENV/bin/python" || { echo "install-deps.sh: sipvicious install failed" >&2; exit 1; }
fi

echo "install-deps.sh: done"
kamailio -v 2>/dev/null | head -1
sipsak --version 2>/dev/null | head -1
tshark --version 2>/dev/null | head -1

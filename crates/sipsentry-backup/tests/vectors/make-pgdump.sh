#!/usr/bin/env bash
# Regenerates pbx-cdr.dump (pg_dump custom format) from pbx-cdr.sql with a throw-away cluster.
# Run as root (uses the postgres user) or as a normal user; needs the Debian package postgresql.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
tmp=$(mktemp -d /tmp/mkpg.XXXX)
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$tmp"
trap 'run "$bin/pg_ctl" -D "$tmp/d" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
run "$bin/initdb" -D "$tmp/d" -U postgres -A trust --no-sync >/dev/null
run "$bin/pg_ctl" -D "$tmp/d" -w -o "-k $tmp -c listen_addresses=''" start >/dev/null
"$bin/psql" -q -h "$tmp" -U postgres -v ON_ERROR_STOP=1 -f "$here/pbx-cdr.sql" postgres
"$bin/pg_dump" -h "$tmp" -U postgres -Fc -Z 6 postgres > "$here/pbx-cdr.dump"

#!/bin/sh
# make fleet-demo: a PostgreSQL 15 of its own in a temporary folder on a free loopback port, then
# `sunbridge demo --fleet` on it (homes across the five vendors, three workers); everything is
# stopped and removed when the demo ends (Ctrl-C). Usage: scripts/fleet-demo.sh BINARY [demo flags]
set -eu
bin=${1:?usage: scripts/fleet-demo.sh path/to/sunbridge [demo flags]}
shift
pg=/usr/lib/postgresql/15/bin
[ -x "$pg/postgres" ] || { echo "fleet-demo: PostgreSQL 15 is not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
dir=$(mktemp -d /tmp/sunbridge-fleet-pg.XXXXXX)
# initdb refuses to run as root: then the server runs as the postgres user.
run_pg() { "$@"; }
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$dir"
  run_pg() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
fi
# A free port: the first of 55000.. that nothing listens on.
port=55000
while ss -ltn "sport = :$port" | grep -q LISTEN; do port=$((port + 1)); done
stop() {
  run_pg "$pg/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT
trap 'exit 130' INT TERM
run_pg "$pg/initdb" -D "$dir/data" -A trust -U sunbridge -E UTF8 --no-sync --no-instructions >/dev/null
run_pg "$pg/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
"$pg/createdb" -h 127.0.0.1 -p "$port" -U sunbridge fleet
echo "PostgreSQL 15 on 127.0.0.1:$port (data in $dir, removed at the end)"
"$bin" demo --fleet --db "postgresql://sunbridge@127.0.0.1:$port/fleet" "$@" || true

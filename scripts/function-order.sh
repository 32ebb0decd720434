#!/usr/bin/env bash
# Writes cmake/function-order.txt: the functions of `sunbridge` that a home's gateway runs, which
# the release link places next to each other at the start of the binary's code (lld's
# --symbol-ordering-file; docs/scale.md, "A home's code together"). The kernel maps a binary's
# code by blocks (64 KB around a page a process touches, or a whole page-cache folio), so a
# home's RSS follows how many blocks its code is spread over more than how much of it runs.
#
#   scripts/function-order.sh [BINARY] [SECONDS]      (default build/sunbridge, 90)
#
# How: two runs under valgrind's callgrind, each SECONDS long, their dashboard, REST API and
# /metrics read every 10 s and their states published to a Mosquitto broker on a loopback port
# when mosquitto is installed:
#   1. `sunbridge run` on a home's configuration: two sonnen batteries (API v1 and v2) and a
#      KOSTAL inverter, each simulator in a process of its own;
#   2. `sunbridge demo`: a home of each of the five vendors, the cloud ones among them, the
#      simulators in the same process.
# Every function of the binary that ran is kept except the simulators' own (sb::sim::), in
# groups, so that a home touches one run of code: first what the local home ran, then sonnen's
# and KOSTAL's code, then what only the demo ran, then the cloud vendors' code (the file's
# header lists them). Each group is sorted by name so that the file diffs well. Run it again
# after large changes: a function missing from the file only lands after the ordered ones, and
# a name no longer in the binary is ignored.
# Needs valgrind (Debian package valgrind), curl and c++filt.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(readlink -f "${1:-$root/build/sunbridge}")
seconds=${2:-90}
out=$root/cmake/function-order.txt
for tool in valgrind curl c++filt; do
  command -v "$tool" >/dev/null || { echo "function-order: $tool is missing (apt-get install ${tool/c++filt/binutils})" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "function-order: no binary at $bin (build first)" >&2; exit 1; }

work=$(mktemp -d /tmp/sunbridge-order-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

port=$((20000 + RANDOM % 20000))
mqtt=()
if command -v mosquitto >/dev/null; then
  mport=$((port + 1))
  printf 'listener %d 127.0.0.1\nallow_anonymous true\n' "$mport" >"$work/mosquitto.conf"
  mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
  pids+=($!)
  mqtt=(--mqtt "mqtt://127.0.0.1:$mport")
fi

# profile NAME PORT ARGS...: `sunbridge ARGS` under callgrind, its API on PORT read every 10 s
# for `seconds`, then stopped with SIGINT (callgrind writes its file as the process ends).
profile() {
  local name=$1 port=$2
  shift 2
  valgrind --tool=callgrind --callgrind-out-file="$work/$name.callgrind" --dump-instr=no \
    --compress-strings=no --demangle=no "$bin" "$@" >"$work/$name.log" 2>&1 &
  local pid=$!
  pids+=($pid)
  local url=http://127.0.0.1:$port
  for _ in $(seq 1 120); do
    curl -sf -o /dev/null --max-time 5 "$url/api/v1/health" && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/$name.log" >&2; exit 1; }
    sleep 1
  done
  local end=$((SECONDS + seconds))
  while [ $SECONDS -lt $end ]; do
    for path in / /static/style.css /api/v1/health /api/v1/sites /api/v1/devices /api/v1/live /metrics; do
      curl -s -o /dev/null --max-time 20 "$url$path" || true
    done
    curl -s -o /dev/null --compressed --max-time 20 "$url/metrics" || true
    sleep 10
  done
  kill -INT "$pid"
  wait "$pid" || true
  [ -s "$work/$name.callgrind" ] || { echo "function-order: callgrind wrote nothing for $name" >&2; exit 1; }
}

# simulator NAME VENDOR ARGS...: a simulator (not profiled) in the background; its endpoints,
# one "HOST PORT" line each, in $work/NAME.endpoints once it has started them all.
simulator() {
  local name=$1 vendor=$2
  shift 2
  "$bin" simulate "$vendor" --listen 127.0.0.1:0 "$@" >"$work/$name.sim" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 60); do
    grep -q 'listening on' "$work/$name.sim" && break
    sleep 1
  done
  sed -n 's|^listening on http://\(.*\):\([0-9]*\)$|\1 \2|p' "$work/$name.sim" >"$work/$name.endpoints"
  [ -s "$work/$name.endpoints" ] || { cat "$work/$name.sim" >&2; exit 1; }
}

# 1. `sunbridge run` as a home runs it: its configuration read, local devices polled (sonnen
# v1 and v2, KOSTAL), the simulators in their own processes.
simulator sonnen-v1 sonnen --devices 1
simulator sonnen-v2 sonnen --devices 1 --token order-token-0123456789
simulator kostal kostal --devices 1
{
  echo "gateway:"
  echo "  listen: 127.0.0.1:$port"
  echo "  database: $work/run.db"
  echo "  api_token: order-api-token-0123456789"
  echo "sites:"
  echo "  - {id: home, name: Home, latitude: 52.52, longitude: 13.4, timezone: Europe/Berlin}"
  echo "connections:"
  read -r h p <"$work/sonnen-v1.endpoints"
  echo "  - {name: battery, vendor: sonnen, host: $h, port: $p, poll_interval: 10s}"
  read -r h p <"$work/sonnen-v2.endpoints"
  echo "  - {name: battery2, vendor: sonnen, host: $h, port: $p, poll_interval: 10s, options: {token: order-token-0123456789}}"
  read -r h p <"$work/kostal.endpoints"
  echo "  - {name: inverter, vendor: kostal, host: $h, port: $p, poll_interval: 10s, options: {password: owner-password}}"
  if [ ${#mqtt[@]} -gt 0 ]; then
    echo "mqtt:"
    echo "  url: ${mqtt[1]}"
  fi
} >"$work/home.yaml"
profile run "$port" run -c "$work/home.yaml"

# 2. `sunbridge demo`: a home of each of the five vendors, the cloud ones among them.
port=$((port + 2))
profile demo "$port" demo --listen "127.0.0.1:$port" --db "$work/demo.db" --speed 10 "${mqtt[@]}"

# Functions with costs in the binary (fn= lines under its ob=), mangled, from the run given.
ran() {
  awk -v ob="$bin" '/^ob=/ { cur = substr($0, 4) } /^fn=/ && cur == ob { print substr($0, 4) }' \
    "$work/$1.callgrind" | grep -v -e '^0x' -e '^(below main)' | sort -u
}
ran run >"$work/run.fns"
ran demo >"$work/demo.fns"
# NAME<TAB>DEMANGLED<TAB>where: 1 when the home's own run ran it, 2 when only the demo did.
sort -u "$work/run.fns" "$work/demo.fns" >"$work/mangled"
c++filt <"$work/mangled" | paste "$work/mangled" - |
  awk -F'\t' 'NR == FNR { r[$1] = 1; next } { print $0 "\t" (($1 in r) ? 1 : 2) }' "$work/run.fns" - |
  awk -F'\t' 'index($2, "sb::sim::") == 0' >"$work/both"
# The groups in order: what the local home ran, its vendors' own code left out (the cloud
# vendors' code that every start runs, such as their registration, is in it); sonnen's code;
# KOSTAL's; what only the demo ran; FoxESS's, Enphase's and Solar-Log's code. A name with two
# vendors' namespaces goes with the first group that claims it.
# group VENDORS WHERE: the names whose vendor is one of VENDORS ("-": none) that run WHERE (1 the
# home, 2 only the demo, "" either) ran, less those an earlier group took.
group() {
  awk -F'\t' -v v=" $1 " -v w="$2" '
    { vendor = "-"; if (match($2, /sb::(sonnen|kostal|foxess|enphase|solarlog)::/)) vendor = substr($2, RSTART + 4, RLENGTH - 6) }
    index(v, " " vendor " ") && (w == "" || $3 == w) { print $1 }' "$work/both" |
    awk -v seen="$work/seen" 'BEGIN { while ((getline l < seen) > 0) s[l] = 1 } !($0 in s) { print; print >> seen }'
}
{
  echo "# The functions a home's gateway runs, placed first in the release binary by lld"
  echo "# (--symbol-ordering-file). Written by scripts/function-order.sh; do not edit by hand."
  echo "# Groups: what a local home runs, sonnen, kostal, what only cloud homes run, foxess,"
  echo "# enphase, solarlog."
  group "- foxess enphase solarlog" 1
  group sonnen ""
  group kostal ""
  group - 2
  group foxess ""
  group enphase ""
  group solarlog ""
} >"$out.new"
mv "$out.new" "$out"
echo "function-order: $(grep -vc '^#' "$out") functions in ${out#$root/}"

#!/usr/bin/env bash
# Interoperability check: a public KOSTAL client, the ioBroker plenticore adapter from the npm
# registry, logs in to `sunbridge simulate kostal`, polls, writes a setting and logs out.
# Needs node/npm and the npm registry (not part of `make test`, which stays offline).
# Usage: scripts/interop/kostal-iobroker.sh [path/to/sunbridge]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../../build/sunbridge}"
version="${IOBROKER_PLENTICORE_VERSION:-2.3.1}"
work="$(mktemp -d)"
sim_pid=""
cleanup() {
  [[ -n "$sim_pid" ]] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

command -v npm >/dev/null || { echo "npm is missing: apt-get install npm" >&2; exit 1; }
(cd "$work" && npm pack --silent "iobroker.plenticore@$version" >/dev/null && tar xzf ./*.tgz)
# The adapter's framework dependencies are replaced by the smallest stand-ins it calls.
mkdir -p "$work/node_modules/@strathcole/iob-lib" "$work/node_modules/suncalc2"
cat >"$work/node_modules/@strathcole/iob-lib/index.js" <<'JS'
const states = {};
module.exports.ioBLib = {states, createOrSetState(id, o, v) { if (v !== undefined) states[id] = v; },
                         delObjectIfExists() {}};
JS
cat >"$work/node_modules/suncalc2/index.js" <<'JS'
module.exports = {getTimes: (d) => ({sunrise: d, sunset: d}), getPosition: () => ({altitude: 0, azimuth: 0})};
JS
cp "$here/kostal-iobroker.js" "$work/"

# The adapter reads the settings ids of older firmware (scb:network Hostname, IPv4…).
"$bin" simulate kostal --listen 127.0.0.1:0 --firmware 2019 --password interop-pw >"$work/sim.out" &
sim_pid=$!
for _ in $(seq 50); do grep -q "^listening on" "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
port="$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$work/sim.out")"
[[ -n "$port" ]] || { echo "the simulator did not start:" >&2; cat "$work/sim.out" >&2; exit 1; }

echo "ioBroker plenticore $version against sunbridge simulate kostal on port $port"
NODE_PATH="$work/node_modules" node "$work/kostal-iobroker.js" "$work/package" "$port" interop-pw
echo "wrong password:"
if NODE_PATH="$work/node_modules" node "$work/kostal-iobroker.js" "$work/package" "$port" wrong; then
  echo "FAIL: a wrong password logged in" >&2
  exit 1
fi

#!/usr/bin/env bash
# Interoperability check: a public KOSTAL client, the ioBroker plenticore adapter from the npm
# registry, logs in to `sunbridge simulate kostal`, polls, writes a setting and logs out.
# Needs node/npm and the npm registry (not part of `make test`, which stays offline).
# Usage: scripts/interop/kostal-iobroker.sh [path/to/sunbridge]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../../build/sunbridge}"
version="${IOBROKER_PLENTICORE_VERSION:-2.3.1}"
source "$here/lib.sh"

npm_unpack "iobroker.plenticore@$version"
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
start_sim kostal --firmware 2019 --password interop-pw

echo "ioBroker plenticore $version against sunbridge simulate kostal on port $port"
NODE_PATH="$work/node_modules" node "$work/kostal-iobroker.js" "$work/package" "$port" interop-pw
echo "wrong password:"
if NODE_PATH="$work/node_modules" node "$work/kostal-iobroker.js" "$work/package" "$port" wrong; then
  echo "FAIL: a wrong password logged in" >&2
  exit 1
fi

#!/usr/bin/env bash
# Interoperability check: the public Solar-Log WEB Enerest client from the npm registry
# (solarlog-enerest, the one docs/vendors/solarlog.md takes its data calls from) signs in with
# client credentials at `sunbridge simulate solarlog`, lists a plant's inverters and reads their
# combined values, a month, the lifetime and a tracker range, the way it calls the real portal.
# Needs node/npm and the npm registry (not part of `make test`, which stays offline).
# Usage: scripts/interop/solarlog-enerest.sh [path/to/sunbridge]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../../build/sunbridge}"
version="${SOLARLOG_ENEREST_VERSION:-1.0.1}"
source "$here/lib.sh"

npm_unpack "solarlog-enerest@$version"
(cd "$work/package" && npm install --silent --omit=dev --no-audit --no-fund >/dev/null)
cp "$here/solarlog-enerest.mjs" "$work/package/"
start_sim solarlog

echo "solarlog-enerest $version against sunbridge simulate solarlog on port $port"
node "$work/package/solarlog-enerest.mjs" "$port"

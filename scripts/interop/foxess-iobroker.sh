#!/usr/bin/env bash
# Interoperability check: a public FoxESS client, the ioBroker foxesscloud adapter from the npm
# registry, signs its requests to `sunbridge simulate foxess`, lists the account's inverters and
# reads the real-time values it shows. Needs node/npm and the npm registry (not part of
# `make test`, which stays offline).
# Usage: scripts/interop/foxess-iobroker.sh [path/to/sunbridge]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../../build/sunbridge}"
version="${IOBROKER_FOXESSCLOUD_VERSION:-0.6.5}"
work="$(mktemp -d)"
sim_pid=""
cleanup() {
  [[ -n "$sim_pid" ]] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

command -v npm >/dev/null || { echo "npm is missing: apt-get install npm" >&2; exit 1; }
(cd "$work" && npm pack --silent "iobroker.foxesscloud@$version" >/dev/null && tar xzf ./*.tgz)
# The adapter framework is replaced by the smallest stand-in the adapter calls: states and
# objects in memory, the log, timers, the ready/unload events.
mkdir -p "$work/node_modules/@iobroker/adapter-core"
cat >"$work/node_modules/@iobroker/adapter-core/index.js" <<'JS'
const EventEmitter = require('events');
class Adapter extends EventEmitter {
  constructor(options) {
    super();
    this.name = options.name;
    this.namespace = options.name + '.0';
    this.config = module.exports.config;
    const log = (level) => (m) => module.exports.log(level, m);
    this.log = {silly() {}, debug() {}, info: log('info'), warn: log('warn'), error: log('error')};
    this.states = {};
    this.objects = {};
  }
  setState(id, v) { this.states[id] = v && typeof v === 'object' && 'val' in v ? v.val : v; return Promise.resolve(); }
  setStateAsync(id, v, ack) { return this.setState(id, v, ack); }
  getStateAsync(id) { return Promise.resolve(id in this.states ? {val: this.states[id]} : null); }
  setObjectNotExistsAsync(id, o) { if (!(id in this.objects)) this.objects[id] = o; return Promise.resolve(); }
  getForeignObjectAsync(id) { return Promise.resolve(this.objects[id] || null); }
  setForeignObjectAsync(id, o) { this.objects[id] = o; return Promise.resolve(); }
  extendForeignObjectAsync(id, o) { this.objects[id] = {...(this.objects[id] || {}), ...o}; return Promise.resolve(); }
  setInterval(f, ms) { return setInterval(f, ms); }
  clearInterval(h) { clearInterval(h); }
}
module.exports = {Adapter, config: {}, log() {}};
JS
cp "$here/foxess-iobroker.js" "$work/"

key="interop-$(date +%s)-key"
"$bin" simulate foxess --listen 127.0.0.1:0 --devices 3 --plants 2 --api-key "$key" >"$work/sim.out" &
sim_pid=$!
for _ in $(seq 50); do grep -q "^listening on" "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
port="$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$work/sim.out")"
[[ -n "$port" ]] || { echo "the simulator did not start:" >&2; cat "$work/sim.out" >&2; exit 1; }

echo "ioBroker foxesscloud $version against sunbridge simulate foxess on port $port"
NODE_PATH="$work/node_modules" node "$work/foxess-iobroker.js" "$work/package" "$port" "$key"

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
source "$here/lib.sh"

npm_unpack "iobroker.foxesscloud@$version"
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
start_sim foxess --devices 3 --plants 2 --api-key "$key"

echo "ioBroker foxesscloud $version against sunbridge simulate foxess on port $port"
NODE_PATH="$work/node_modules" node "$work/foxess-iobroker.js" "$work/package" "$port" "$key"

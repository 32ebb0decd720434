// Drives the client code of the ioBroker plenticore adapter (its lib/plenticore.js and its own
// SJCL-based lib/kostal.js, unchanged) against a KOSTAL endpoint: the SCRAM login with AES-GCM
// session creation, modules, one processdata + settings poll, a setting write read back by a
// second poll, logout. Only the adapter framework around it is replaced by the stubs below.
// Usage: node kostal-iobroker.js ADAPTER_DIR PORT PASSWORD. Exit 0 on success.
'use strict';
const path = require('path');
const [adapterDir, port, password] = process.argv.slice(2);
const ioBLib = require('@strathcole/iob-lib').ioBLib;
const p = require(path.join(adapterDir, 'lib', 'plenticore.js'));

const states = {};
const warnings = [];
const fail = (why) => {
  console.log('FAIL: ' + why);
  if (warnings.length) console.log('adapter warnings:\n  ' + warnings.join('\n  '));
  process.exit(1);
};
const adapter = {
  namespace: 'plenticore.0',
  config: {ipaddress: '127.0.0.1', port: Number(port), https: false, password, pollinterval: 1000,
           panel_surface: 10, panel_efficiency: 20, max_feed_in_power: 8000, battery_strategy: '1'},
  log: {debug() {}, info() {}, warn(m) { warnings.push(m); }, error(m) { warnings.push(m); }},
  setObjectNotExists(id, o, cb) { if (cb) cb(); },
  setState(id, v, ack, cb) {
    states[id] = (v && typeof v === 'object' && 'val' in v) ? v.val : v;
    if (typeof ack === 'function') ack(); else if (cb) cb();
  },
  getState(id, cb) { cb(null, states[id] !== undefined ? {val: states[id]} : null); },
  getForeignState(id, cb) { cb(null, null); },
  terminate() { fail('the adapter gave up (the device answered 401 or 403)'); },
};
const value = (id) => (id in states ? states[id] : ioBLib.states[id]);
const dataDir = require('fs').mkdtempSync(require('os').tmpdir() + '/iob-');
p.init(adapter, {getAbsoluteInstanceDataDir: () => dataDir},
       {getCity: () => 'x', getForecastUrl: () => 'u', getForecastHour: () => null});

p.setup(() => p.login((err) => {
  if (err) fail('login');
  console.log('login: ok (SCRAM proof, server signature verified, session created)');
  setTimeout(() => {
    if (warnings.length) fail('first poll');
    const soc = value('devices.local.battery.SoC'), minSoc = value('devices.local.battery.MinSoc');
    console.log('first poll: ' + Object.keys(states).length + ' states; SoC ' + soc +
                ' %, MinSoc ' + minSoc + ' %, AC ' + value('devices.local.ac.P') + ' W, yield total ' +
                value('scb.statistic.EnergyFlow.YieldTotal') + ' Wh');
    if (typeof soc !== 'number' || soc < 0 || soc > 100) fail('battery SoC ' + soc);
    const target = minSoc === 30 ? '35' : '30';
    p.apiCall('PUT', 'settings',
              [{moduleid: 'devices:local', settings: [{id: 'Battery:MinSoc', value: target}]}],
              (body, code) => {
                if (code !== 200) fail('PUT settings answered ' + code + ': ' + body);
                setTimeout(() => {
                  if (String(value('devices.local.battery.MinSoc')) !== target)
                    fail('MinSoc read back as ' + value('devices.local.battery.MinSoc'));
                  console.log('write: MinSoc ' + target + ' % read back by the next poll');
                  p.unload(() => setTimeout(() => {
                    if (warnings.length) fail('logout');
                    console.log('logout: ok');
                    process.exit(0);
                  }, 300));
                }, 1500);
              });
  }, 1500);
}));

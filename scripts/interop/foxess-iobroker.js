// Drives the ioBroker foxesscloud adapter (its main.js, unchanged) against a FoxESS Open API
// endpoint: its own signed requests (MD5 over path, literal \r\n, token, timestamp) for the
// device list and the real-time query of its 40 variables, parsed into its states. Only the
// adapter framework is replaced by the stand-in below, and its fixed https://www.foxesscloud.com
// is sent to 127.0.0.1:PORT over plain HTTP (the request itself is the adapter's).
// Usage: node foxess-iobroker.js ADAPTER_DIR PORT API_KEY. Exit 0 on success.
'use strict';
const path = require('path');
const http = require('node:http');
const https = require('node:https');
const [adapterDir, port, token] = process.argv.slice(2);

https.request = (options, callback) =>
  http.request({...options, hostname: '127.0.0.1', port: Number(port)}, callback);

const warnings = [];
const fail = (why) => {
  console.log('FAIL: ' + why);
  if (warnings.length) console.log('adapter log:\n  ' + warnings.join('\n  '));
  process.exit(1);
};
const core = require('@iobroker/adapter-core');
core.config = {token, sn: '', interval: 60, enableReporting: false, enablePvPowerJSON: false};
core.log = (level, m) => { if (level === 'warn' || level === 'error') warnings.push(m); };
const instance = require(path.join(adapterDir, 'main.js'))({});
if (!instance) fail('the adapter did not construct');

(async () => {
  // The adapter's own signed call, on another interface than the one it polls.
  const list = await instance.makeApiRequest('/op/v0/device/list', 'POST',
                                             {currentPage: 1, pageSize: 10});
  if (list.errno !== 0) fail('device list: errno ' + list.errno + ' ' + list.msg);
  const sn = list.result.data[0].deviceSN;
  console.log('device list: errno 0, ' + list.result.data.length + ' inverter(s), first ' + sn);
  instance.config.sn = sn;
  instance.emit('ready');
  setTimeout(() => {
    const s = instance.states;
    if (warnings.length) fail('the adapter logged errors');
    if (s['info.connection'] !== true) fail('info.connection is ' + s['info.connection']);
    for (const k of ['pvPower', 'generationPower', 'soc', 'load', 'gridConsumption',
                     'feedinPower', 'batCharge', 'batDischarge'])
      if (typeof s[k] !== 'number' || !Number.isFinite(s[k])) fail(k + ' is ' + s[k]);
    if (s.soc < 0 || s.soc > 100) fail('soc ' + s.soc);
    if (s.pvPower < 0 || s.pvPower > 30) fail('pvPower ' + s.pvPower + ' (kW expected)');
    const strings = Object.keys(s).filter((k) => /^pv\d+Power$/.test(k));
    console.log('real-time query: ' + Object.keys(s).length + ' states; PV ' + s.pvPower +
                ' kW over ' + strings.length + ' strings, SoC ' + s.soc + ' %, load ' + s.load +
                ' kW, grid in ' + s.gridConsumption + ' kW / out ' + s.feedinPower + ' kW');
    instance.emit('unload', () => process.exit(0));
    setTimeout(() => process.exit(0), 200);
  }, 1500);
})().catch((e) => fail(e.stack || String(e)));

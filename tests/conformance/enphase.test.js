// Every response of `sunbridge simulate enphase`, success and error, validated against the
// OpenAPI document (src/vendors/enphase/openapi/, a copy of shared/specs/enphase-openapi.yaml) with openapi-response-validator (pinned
// in package-lock.json): the status must be one the operation declares, the content type the one
// declared for it, the body must match its schema. Run by ctest:
//   node enphase.test.js <sunbridge binary> <enphase-openapi.yaml>
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const YAML = require('yaml');
const OpenAPIResponseValidator = require('openapi-response-validator').default;

const [bin, specPath] = process.argv.slice(2);
const doc = YAML.parse(fs.readFileSync(specPath, 'utf8'));

let failures = 0;
const covered = new Set();
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'not ok'} ${what}`);
  if (!ok) failures++;
}

// The operation a request answers to: the document's path template and method.
function operation(template, method) {
  const item = doc.paths[template];
  if (!item) throw new Error(`no path ${template} in the document`);
  const op = item[method.toLowerCase()];
  if (!op) throw new Error(`no ${method} ${template} in the document`);
  return op;
}

function validate(template, method, res, body, note) {
  const op = operation(template, method);
  covered.add(op.operationId);
  const what = `${op.operationId} ${res.status}${note ? ' (' + note + ')' : ''}`;
  const declared = op.responses[String(res.status)];
  if (!declared) return check(false, `${what}: status not declared (declared: ${Object.keys(op.responses).join(', ')})`);
  const types = Object.keys(declared.content || {});
  const type = (res.headers.get('content-type') || '').split(';')[0].trim();
  // live_data's errors are declared text/event-stream, and each description says "Response
  // content type is application/json": the simulator sends what the descriptions say.
  const jsonSaid = type === 'application/json' && /content type is\s+application\/json/i.test(declared.description || '');
  if (types.length && !types.includes(type) && !jsonSaid)
    return check(false, `${what}: content type '${type}', declared ${types.join(', ')}`);
  let parsed;
  try {
    parsed = JSON.parse(body);
  } catch (e) {
    return check(false, `${what}: body is not JSON: ${body.slice(0, 120)}`);
  }
  return checkSchema(what, declared, res.status, parsed);
}

function checkSchema(what, declared, status, parsed) {
  // One schema for every content type the response declares (they are the same here).
  const content = declared.content || {};
  const first = Object.keys(content)[0];
  if (first && first !== 'application/json')
    declared = { ...declared, content: { 'application/json': content[first] } };
  const validator = new OpenAPIResponseValidator({ responses: { [status]: declared }, components: doc.components });
  const errors = validator.validateResponse(status, parsed);
  check(!errors, `${what}${errors ? ': ' + JSON.stringify(errors.errors).slice(0, 400) : ''}`);
}

async function main() {
  // The validator itself must refuse what is wrong, or every check below would pass.
  const probe = new OpenAPIResponseValidator({ responses: { 200: operation('/api/v4/systems', 'GET').responses['200'] }, components: doc.components });
  check(!!probe.validateResponse(200, { total: 'many', systems: [{ system_id: 'x' }] }),
    'the validator refuses a wrong body (total and system_id as strings)');
  const sim = spawn(bin, ['simulate', 'enphase', '--listen', '127.0.0.1:0', '--devices', '7', '--plan', 'partner'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the simulator did not start')), 10000);
    let buf = '';
    sim.stdout.on('data', (d) => {
      buf += d;
      const parts = buf.split('\n');
      buf = parts.pop();
      lines.push(...parts);
      if (lines.some((l) => l.startsWith('api_key: '))) {
        clearTimeout(timer);
        resolve();
      }
    });
    sim.on('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  const base = lines.find((l) => l.startsWith('listening on ')).slice('listening on '.length);
  const token = lines.find((l) => l.startsWith('access_token: ')).slice('access_token: '.length);
  const key = lines.find((l) => l.startsWith('api_key: ')).slice('api_key: '.length);
  const neighbour = lines.find((l) => l.startsWith("another user's system: ")).split(' ')[3];
  const auth = { Authorization: 'Bearer ' + token, key };
  // `as`: the method actually sent, when it is not the document's (a 405 answers for the path).
  // `expect`: the status this case must get (default 200).
  async function call(template, method, target, { headers = auth, body, note, as, expect = 200 } = {}) {
    const res = await fetch(base + target, {
      method: as || method, headers: body ? { ...headers, 'Content-Type': 'application/json' } : headers,
      body: body ? JSON.stringify(body) : undefined, redirect: 'manual',
    });
    const text = await res.text();
    if (res.status !== expect) check(false, `${method} ${target}${note ? ' (' + note + ')' : ''}: status ${res.status}, expected ${expect}: ${text.slice(0, 200)}`);
    validate(template, method, res, text, note);
    return JSON.parse(text);
  }

  try {
    const list = await call('/api/v4/systems', 'GET', '/api/v4/systems?size=2');
    const id = list.systems[0].system_id;
    const sys = '/api/v4/systems/{system_id}';
    await call('/api/v4/systems', 'GET', '/api/v4/systems?sort_by=name', { note: 'bad sort', expect: 422 });
    await call('/api/v4/systems', 'GET', '/api/v4/systems', { headers: { key }, note: 'no token', expect: 401 });
    await call('/api/v4/systems/search', 'POST', '/api/v4/systems/search', { body: { system: { ids: [id] } } });
    await call('/api/v4/systems/search', 'POST', '/api/v4/systems/search', { body: { sort_by: 'id' }, note: 'no system', expect: 422 });
    await call('/api/v4/systems/search', 'POST', '/api/v4/systems/search', { headers: { Authorization: auth.Authorization }, body: { system: {} }, note: 'no key', expect: 401 });
    await call(sys, 'GET', `/api/v4/systems/${id}`);
    await call(sys, 'GET', '/api/v4/systems/1', { note: 'unknown', expect: 404 });
    await call(sys, 'GET', `/api/v4/systems/${id}`, { headers: { key: 'nope', Authorization: auth.Authorization }, note: 'wrong key', expect: 401 });
    await call(sys, 'GET', `/api/v4/systems/${id}`, { as: 'DELETE', note: 'DELETE: method not allowed', expect: 405 });
    await call(`${sys}/summary`, 'GET', `/api/v4/systems/${id}/summary`);
    await call(`${sys}/summary`, 'GET', '/api/v4/systems/1/summary', { note: 'unknown', expect: 404 });
    await call(`${sys}/devices`, 'GET', `/api/v4/systems/${id}/devices`);
    await call(`${sys}/devices`, 'GET', '/api/v4/systems/1/devices', { note: 'unknown', expect: 404 });
    const gateway = (await (await fetch(`${base}/api/v4/systems/${id}/devices`, { headers: auth })).json()).devices.gateways[0].serial_number;
    await call('/api/v4/systems/retrieve_system_id', 'GET', `/api/v4/systems/retrieve_system_id?serial_num=${gateway}`);
    await call('/api/v4/systems/retrieve_system_id', 'GET', '/api/v4/systems/retrieve_system_id', { note: 'no serial', expect: 422 });
    await call('/api/v4/systems/retrieve_system_id', 'GET', '/api/v4/systems/retrieve_system_id?serial_num=1', { note: 'unknown serial', expect: 404 });
    const inv = '/api/v4/systems/inverters_summary_by_envoy_or_site';
    await call(inv, 'GET', `${inv}?site_id=${id}&size=4`);
    await call(inv, 'GET', inv, { note: 'neither id', expect: 422 });
    for (const path of ['energy_lifetime', 'consumption_lifetime', 'battery_lifetime', 'energy_import_lifetime', 'energy_export_lifetime']) {
      const t = `${sys}/${path}`;
      await call(t, 'GET', `/api/v4/systems/${id}/${path}?start_date=2026-01-01&end_date=2026-01-31`);
      await call(t, 'GET', `/api/v4/systems/${id}/${path}`, { note: 'defaults' });
      await call(t, 'GET', `/api/v4/systems/${id}/${path}?end_date=2999-01-01`, { note: 'future', expect: 422 });
      await call(t, 'GET', `/api/v4/systems/1/${path}`, { note: 'unknown', expect: 404 });
    }
    await call(`${sys}/energy_lifetime`, 'GET', `/api/v4/systems/${id}/energy_lifetime?production=all&start_date=2026-03-01&end_date=2026-03-07`, { note: 'production=all' });
    for (const kind of ['production_micro', 'production_meter', 'battery', 'consumption_meter']) {
      const t = `${sys}/telemetry/${kind}`;
      await call(t, 'GET', `/api/v4/systems/${id}/telemetry/${kind}?start_date=2026-03-10`);
      await call(t, 'GET', `/api/v4/systems/${id}/telemetry/${kind}?granularity=15mins`, { note: '15mins today' });
      await call(t, 'GET', `/api/v4/systems/${id}/telemetry/${kind}?granularity=hour`, { note: 'bad granularity', expect: 422 });
      await call(t, 'GET', `/api/v4/systems/1/telemetry/${kind}`, { note: 'unknown', expect: 404 });
    }
    for (const path of ['energy_import_telemetry', 'energy_export_telemetry']) {
      await call(`${sys}/${path}`, 'GET', `/api/v4/systems/${id}/${path}?start_date=2026-03-10`);
      await call(`${sys}/${path}`, 'GET', `/api/v4/systems/${id}/${path}?granularity=hour`, { note: 'bad granularity', expect: 422 });
    }
    await call(`${sys}/latest_telemetry`, 'GET', `/api/v4/systems/${id}/latest_telemetry`);
    await call(`${sys}/latest_telemetry`, 'GET', '/api/v4/systems/1/latest_telemetry', { note: 'unknown', expect: 404 });
    const hourAgo = Math.floor(Date.now() / 1000) - 3600, weeks = Math.floor(Date.now() / 1000) - 60 * 86400;
    await call(`${sys}/events`, 'GET', `/api/v4/systems/${id}/events?start_time=${weeks}&end_time=${weeks + 7 * 86400}`);
    await call(`${sys}/events`, 'GET', `/api/v4/systems/${id}/events`, { note: 'no start_time', expect: 422 });
    await call(`${sys}/alarms`, 'GET', `/api/v4/systems/${id}/alarms?cleared=true&start_time=${weeks}&end_time=${weeks + 7 * 86400}`);
    await call(`${sys}/alarms`, 'GET', `/api/v4/systems/${id}/alarms?start_time=${hourAgo}`);
    await call(`${sys}/alarms`, 'GET', `/api/v4/systems/${id}/alarms?start_time=${weeks}&end_time=${hourAgo}`, { note: 'over a week', expect: 422 });
    await call('/api/v4/systems/event_types', 'GET', '/api/v4/systems/event_types');
    await call('/api/v4/systems/event_types', 'GET', '/api/v4/systems/event_types?event_type_id=12345', { note: 'unknown type', expect: 404 });

    // Meters and devices. System 0 has an IQ Battery and an EV charger, system 1 neither, system 3
    // an AC Battery.
    const systems = (await call('/api/v4/systems', 'GET', '/api/v4/systems?size=4')).systems;
    const [s0, s1, , s3] = systems.map((x) => x.system_id);
    const devices = async (sid) => (await (await fetch(`${base}/api/v4/systems/${sid}/devices`, { headers: auth })).json()).devices;
    const d0 = await devices(s0), d3 = await devices(s3);
    const pmr = `${sys}/production_meter_readings`;
    await call(pmr, 'GET', `/api/v4/systems/${s0}/production_meter_readings`);
    await call(pmr, 'GET', `/api/v4/systems/${s0}/production_meter_readings?end_at=${hourAgo}`, { note: 'end_at' });
    await call(pmr, 'GET', `/api/v4/systems/${s0}/production_meter_readings?end_at=yesterday`, { note: 'bad end_at', expect: 422 });
    await call(pmr, 'GET', '/api/v4/systems/1/production_meter_readings', { note: 'unknown', expect: 404 });
    const rgm = `${sys}/rgm_stats`;
    await call(rgm, 'GET', `/api/v4/systems/${s0}/rgm_stats?start_at=${weeks}`);
    await call(rgm, 'GET', `/api/v4/systems/${s0}/rgm_stats?start_at=${hourAgo}&end_at=${weeks}`, { note: 'end before start', expect: 422 });
    await call(rgm, 'GET', '/api/v4/systems/1/rgm_stats', { note: 'unknown', expect: 404 });
    const micro = `${sys}/devices/micros/{serial_no}/telemetry`;
    await call(micro, 'GET', `/api/v4/systems/${s0}/devices/micros/${d0.micros[0].serial_number}/telemetry?granularity=15mins`);
    await call(micro, 'GET', `/api/v4/systems/${s0}/devices/micros/${d0.micros[0].serial_number}/telemetry?start_date=2026-03-10`, { note: 'start_date' });
    await call(micro, 'GET', `/api/v4/systems/${s0}/devices/micros/1/telemetry`, { note: 'unknown micro', expect: 404 });
    const enc = `${sys}/devices/encharges/{serial_no}/telemetry`;
    await call(enc, 'GET', `/api/v4/systems/${s0}/devices/encharges/${d0.encharges[0].serial_number}/telemetry`);
    await call(enc, 'GET', `/api/v4/systems/${s0}/devices/encharges/1/telemetry`, { note: 'unknown battery', expect: 404 });
    const acb = `${sys}/devices/acbs/{serial_no}/telemetry`;
    await call(acb, 'GET', `/api/v4/systems/${s3}/devices/acbs/${d3.acbs[0].serial_number}/telemetry?granularity=week&start_at=${weeks}`);
    await call(acb, 'GET', `/api/v4/systems/${s3}/devices/acbs/${d3.acbs[0].serial_number}/telemetry?granularity=hour`, { note: 'bad granularity', expect: 422 });
    await call(acb, 'GET', `/api/v4/systems/${s0}/devices/acbs/1/telemetry`, { note: 'unknown ACB', expect: 404 });

    // Configuration, read and written.
    const cfg = '/api/v4/systems/config/{system_id}';
    await call(`${cfg}/battery_settings`, 'GET', `/api/v4/systems/config/${s0}/battery_settings`);
    await call(`${cfg}/battery_settings`, 'GET', `/api/v4/systems/config/${s1}/battery_settings`, { note: 'no battery', expect: 422 });
    const put = await call(`${cfg}/battery_settings`, 'PUT', `/api/v4/systems/config/${s0}/battery_settings`, { body: { battery_mode: 'Savings Mode', reserve_soc: 40, energy_independence: 'disabled' } });
    check(put.battery_mode === 'Savings Mode' && put.reserve_soc === 40, 'updateSystemBatterySettings answers with the new settings');
    await call(`${cfg}/battery_settings`, 'PUT', `/api/v4/systems/config/${s0}/battery_settings`, { body: { battery_mode: 'savings' }, note: 'mode in the wrong case', expect: 422 });
    await call(`${cfg}/battery_settings`, 'PUT', `/api/v4/systems/config/${s0}/battery_settings`, { body: { reserve_soc: 5 }, note: 'reserve below the limit', expect: 422 });
    await call(`${cfg}/battery_settings`, 'PUT', `/api/v4/systems/config/${s1}/battery_settings`, { body: { reserve_soc: 30 }, note: 'no battery', expect: 422 });
    await call(`${cfg}/storm_guard`, 'GET', `/api/v4/systems/config/${s0}/storm_guard`);
    await call(`${cfg}/storm_guard`, 'GET', `/api/v4/systems/config/${s1}/storm_guard`, { note: 'no battery', expect: 422 });
    await call(`${cfg}/storm_guard`, 'PUT', `/api/v4/systems/config/${s0}/storm_guard`, { body: { storm_guard_status: 'enabled' } });
    await call(`${cfg}/storm_guard`, 'PUT', `/api/v4/systems/config/${s0}/storm_guard`, { body: { storm_guard_status: 'on' }, note: 'bad value', expect: 422 });
    await call(`${cfg}/grid_status`, 'GET', `/api/v4/systems/config/${s0}/grid_status`);
    await call(`${cfg}/grid_status`, 'GET', '/api/v4/systems/config/1/grid_status', { note: 'unknown', expect: 404 });
    await call(`${cfg}/load_control`, 'GET', `/api/v4/systems/config/${s0}/load_control`);
    await call(`${cfg}/load_control`, 'PUT', `/api/v4/systems/config/${s0}/load_control`, { body: { name: 'NC1', mode: 'Advanced_BatteryPowered', soc_low: 40 } });
    await call(`${cfg}/load_control`, 'PUT', `/api/v4/systems/config/${s0}/load_control`, { body: { name: 'NC2', mode: 'Advanced_BatteryPowered' }, note: 'no soc_low', expect: 422 });
    await call(`${cfg}/load_control`, 'GET', `/api/v4/systems/config/${s0}/load_control`, { as: 'POST', note: 'POST: method not allowed', expect: 405 });

    // The EV charger (octet-stream answers).
    const ev = `${sys}/ev_charger`;
    const evs = await call(`${ev}/devices`, 'GET', `/api/v4/systems/${s0}/ev_charger/devices`);
    const charger = evs.devices.ev_chargers[0].serial_number;
    await call(`${ev}/devices`, 'GET', '/api/v4/systems/1/ev_charger/devices', { note: 'unknown system', expect: 400 });
    await call(`${ev}/devices`, 'GET', `/api/v4/systems/${s0}/ev_charger/devices`, { headers: { key }, note: 'no token', expect: 401 });
    await call(`${ev}/events`, 'GET', `/api/v4/systems/${s0}/ev_charger/events?limit=5`);
    await call(`${ev}/events`, 'GET', `/api/v4/systems/${s0}/ev_charger/events?offset=-1`, { note: 'bad offset', expect: 400 });
    const evsn = `${ev}/{serial_no}`;
    await call(`${evsn}/sessions`, 'GET', `/api/v4/systems/${s0}/ev_charger/${charger}/sessions?offset=1&limit=3`);
    await call(`${evsn}/sessions`, 'GET', `/api/v4/systems/${s0}/ev_charger/1/sessions`, { note: 'unknown charger', expect: 400 });
    await call(`${evsn}/schedules`, 'GET', `/api/v4/systems/${s0}/ev_charger/${charger}/schedules`);
    await call(`${evsn}/schedules`, 'GET', `/api/v4/systems/${s0}/ev_charger/1/schedules`, { note: 'unknown charger', expect: 400 });
    await call(`${evsn}/lifetime`, 'GET', `/api/v4/systems/${s0}/ev_charger/${charger}/lifetime?start_date=20260301&end_date=20260310`);
    await call(`${evsn}/lifetime`, 'GET', `/api/v4/systems/${s0}/ev_charger/${charger}/lifetime?start_date=2026-03-01`, { note: 'dashes', expect: 400 });
    await call(`${evsn}/telemetry`, 'GET', `/api/v4/systems/${s0}/ev_charger/${charger}/telemetry`);
    await call(`${evsn}/telemetry`, 'GET', `/api/v4/systems/${s0}/ev_charger/${charger}/telemetry?start_date=20260310&granularity=week`, { note: 'start_date, week' });
    await call(`${evsn}/telemetry`, 'GET', `/api/v4/systems/${s0}/ev_charger/${charger}/telemetry?granularity=15mins`, { note: 'bad granularity', expect: 400 });
    await call(`${evsn}/start_charging`, 'POST', `/api/v4/systems/${s0}/ev_charger/${charger}/start_charging`, { body: { connectorId: '1', chargingLevel: '40' }, expect: 202 });
    await call(`${evsn}/start_charging`, 'POST', `/api/v4/systems/${s0}/ev_charger/${charger}/start_charging`, { body: { connectorId: '1', chargingLevel: '140' }, note: 'level over 100', expect: 400 });
    await call(`${evsn}/stop_charging`, 'POST', `/api/v4/systems/${s0}/ev_charger/${charger}/stop_charging`, { expect: 202 });
    await call(`${evsn}/stop_charging`, 'POST', `/api/v4/systems/${s0}/ev_charger/1/stop_charging`, { note: 'unknown charger', expect: 400 });

    // live_data: each server-sent event's data checked against the stream's schema.
    const live = `${sys}/live_data`;
    {
      const res = await fetch(`${base}/api/v4/systems/${s0}/live_data`, { headers: { ...auth, duration: '30' } });
      const declared = operation(live, 'GET').responses['200'];
      const type = (res.headers.get('content-type') || '').split(';')[0].trim();
      check(res.status === 200 && type === 'text/event-stream', `getLiveData 200: status ${res.status}, content type ${type}`);
      covered.add('getLiveData');
      // Two events are enough; the rest of the stream is not waited for.
      const reader = res.body.getReader();
      let text = '';
      while ((text.match(/\n\n/g) || []).length < 2) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      reader.cancel();
      const events = text.split('\n\n').filter((e) => e.startsWith('data: '));
      check(events.length >= 2, `getLiveData sent ${events.length} events`);
      for (const e of events.slice(0, 2)) checkSchema('getLiveData 200 (one event)', declared, 200, { data: JSON.parse(e.slice(6)) });
    }
    await call(live, 'GET', `/api/v4/systems/${s0}/live_data`, { headers: { ...auth, duration: '10' }, note: 'duration under 30', expect: 461 });
    await call(live, 'GET', `/api/v4/systems/${s0}/live_data`, { headers: { ...auth, duration: '901' }, note: 'duration over 900', expect: 462 });
    await call(live, 'GET', `/api/v4/systems/${s0}/live_data`, { headers: { ...auth, duration: 'long' }, note: 'duration not a number', expect: 463 });
    await call(live, 'GET', '/api/v4/systems/1/live_data', { note: 'unknown system', expect: 468 });
    await call(live, 'GET', `/api/v4/systems/${s0}/live_data`, { headers: { key: 'nope', Authorization: auth.Authorization }, note: 'wrong key', expect: 401 });
    const all7 = (await call('/api/v4/systems', 'GET', '/api/v4/systems?size=10')).systems.map((x) => x.system_id);
    await call(live, 'GET', `/api/v4/systems/${all7[4]}/live_data`, { note: 'old gateway', expect: 466 });
    await call(live, 'GET', `/api/v4/systems/${all7[5]}/live_data`, { note: 'no consumption meter', expect: 472 });
    await call(live, 'GET', `/api/v4/systems/${all7[6]}/live_data`, { note: 'gateway not reporting', expect: 473 });
    await call(live, 'GET', `/api/v4/systems/${neighbour}/live_data`, { note: "another user's", expect: 403 });
    await call(rgm, 'GET', `/api/v4/systems/${all7[6]}/rgm_stats`, { note: 'gateway not reporting: data unavailable', expect: 500 });
    // Another user's system: 403 in each style.
    await call(sys, 'GET', `/api/v4/systems/${neighbour}`, { note: "another user's", expect: 403 });
    await call(`${cfg}/battery_settings`, 'GET', `/api/v4/systems/config/${neighbour}/battery_settings`, { note: "another user's", expect: 403 });
    await call(`${ev}/devices`, 'GET', `/api/v4/systems/${neighbour}/ev_charger/devices`, { note: "another user's", expect: 403 });
    await call(`${evsn}/sessions`, 'GET', `/api/v4/systems/${s0}/ev_charger/${charger}/sessions`, { as: 'DELETE', note: 'DELETE: method not allowed', expect: 405 });
    // The minute's calls spent (up to the Partner plan's 300), each 429 right after: a minute that
    // turns over between the two is spent again.
    const spend = async () => {
      for (let i = 0; i < 400; i++)
        if ((await fetch(`${base}/api/v4/systems`, { headers: auth })).status === 429) return;
    };
    for (const [t, target, note] of [
      ['/api/v4/systems', '/api/v4/systems', 'minute limit'],
      [`${sys}/summary`, `/api/v4/systems/${id}/summary`, 'minute limit, quota fields'],
      [`${sys}/battery_lifetime`, `/api/v4/systems/${id}/battery_lifetime`, 'minute limit'],
      [`${sys}/telemetry/battery`, `/api/v4/systems/${id}/telemetry/battery`, 'minute limit, quota fields'],
      [`${sys}/rgm_stats`, `/api/v4/systems/${id}/rgm_stats`, 'minute limit, quota fields'],
      [`${sys}/live_data`, `/api/v4/systems/${id}/live_data`, 'minute limit']]) {
      await spend();
      let res = await fetch(base + target, { headers: auth });
      if (res.status !== 429) {
        await spend();
        res = await fetch(base + target, { headers: auth });
      }
      const text = await res.text();
      check(res.status === 429, `${target} (${note}): status ${res.status}`);
      validate(t, 'GET', res, text, note);
    }
  } finally {
    sim.kill('SIGINT');
  }
  const all = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId)).filter(Boolean);
  console.log(`# operations covered: ${covered.size} of ${all.length}: ${[...covered].join(', ')}`);
  const missing = all.filter((id) => !covered.has(id));
  if (missing.length) check(false, `operations never called: ${missing.join(', ')}`);
  if (failures) {
    console.log(`# ${failures} failure(s)`);
    process.exit(1);
  }
}

main().catch((e) => {
  console.log('not ok the run: ' + (e.stack || e));
  process.exit(1);
});

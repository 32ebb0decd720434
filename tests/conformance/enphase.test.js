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
  if (types.length && !types.includes(type))
    return check(false, `${what}: content type '${type}', declared ${types.join(', ')}`);
  let parsed;
  try {
    parsed = JSON.parse(body);
  } catch (e) {
    return check(false, `${what}: body is not JSON: ${body.slice(0, 120)}`);
  }
  const validator = new OpenAPIResponseValidator({ responses: { [res.status]: declared }, components: doc.components });
  const errors = validator.validateResponse(res.status, parsed);
  check(!errors, `${what}${errors ? ': ' + JSON.stringify(errors.errors).slice(0, 400) : ''}`);
}

async function main() {
  // The validator itself must refuse what is wrong, or every check below would pass.
  const probe = new OpenAPIResponseValidator({ responses: { 200: operation('/api/v4/systems', 'GET').responses['200'] }, components: doc.components });
  check(!!probe.validateResponse(200, { total: 'many', systems: [{ system_id: 'x' }] }),
    'the validator refuses a wrong body (total and system_id as strings)');
  const sim = spawn(bin, ['simulate', 'enphase', '--listen', '127.0.0.1:0', '--devices', '3', '--plan', 'partner'],
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
      [`${sys}/telemetry/battery`, `/api/v4/systems/${id}/telemetry/battery`, 'minute limit, quota fields']]) {
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
  if (failures) {
    console.log(`# ${failures} failure(s)`);
    process.exit(1);
  }
}

main().catch((e) => {
  console.log('not ok the run: ' + (e.stack || e));
  process.exit(1);
});

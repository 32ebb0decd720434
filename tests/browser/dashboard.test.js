// The dashboard as its users see it: `sunbridge demo` in the background, Debian's Chromium
// headless (driven by playwright-core), at a phone's 360 px, a laptop's 1400 px and a desktop's
// 1920 px. Through each view (Overview, History, Control, System) it checks what the page shows
// against what the API answered (today's totals and shares, a day's power curve), that nothing
// overflows its card and no label is cut, that commands round-trip, that keyboard and a light
// system theme work, and keeps a screenshot of each view at each width as test artefacts.
// Every wait is on a condition with a generous limit: a loaded 2-core machine runs it beside
// the rest of the suite.
// Usage: node dashboard.test.js SUNBRIDGE_BINARY ARTEFACT_DIR. Exit 0 when every check passed.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const [binary, artefacts] = process.argv.slice(2);
const LIMIT = 60000;  // a condition's limit: minutes of CPU starvation are not a failure
let passed = 0, failed = 0;
const check = (ok, what) => {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
};
// Waits for `fn` in the page to return something truthy; its value, or null after the limit.
const until = (page, fn, arg, limit = LIMIT) =>
  page.waitForFunction(fn, arg, { timeout: limit, polling: 250 }).then((h) => h.jsonValue(), () => null);

function startDemo(dir) {
  return new Promise((resolve, reject) => {
    const demo = spawn(binary, ['demo', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'demo.db'), '--speed', '30']);
    let out = '';
    const timer = setTimeout(() => reject(new Error('the demo printed no address: ' + out)), 60000);
    demo.stdout.on('data', (b) => {
      out += b;
      const m = out.match(/dashboard\s+(http:\/\/127\.0\.0\.1:\d+\/#token=\w+)/);
      if (m) { clearTimeout(timer); resolve({ demo, url: m[1] }); }
    });
    demo.on('exit', (code) => reject(new Error('the demo exited with ' + code + ': ' + out)));
  });
}

// What sticks out of its card (outside a sideways-scrolling table), and text cut by its box.
function overflowing() {
  const bad = [];
  for (const card of document.querySelectorAll('main > .card:not([hidden])')) {
    const c = card.getBoundingClientRect();
    for (const e of card.querySelectorAll('*')) {
      if (e.closest('.scroll') || e.closest('.uplot')) continue;
      const r = e.getBoundingClientRect();
      if (r.width && (r.right > c.right + 1 || r.left < c.left - 1))
        bad.push(`${card.id}: ${e.tagName}${e.id ? '#' + e.id : ''} '${(e.textContent || '').trim().slice(0, 30)}' by ${Math.round(Math.max(r.right - c.right, c.left - r.left))} px`);
      else if (!(e instanceof SVGElement) && e.clientWidth && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible' && !['TABLE', 'TBODY', 'THEAD', 'TR'].includes(e.tagName))
        bad.push(`${card.id}: ${e.tagName}${e.id ? '#' + e.id : ''} '${(e.textContent || '').trim().slice(0, 30)}' cut (${e.scrollWidth} px in ${e.clientWidth})`);
    }
  }
  // The labels of the power flow and of the energy bars inside their drawings.
  for (const svg of document.querySelectorAll('main > .card:not([hidden]) svg')) {
    const s = svg.getBoundingClientRect();
    if (!s.width) continue;
    for (const t of svg.querySelectorAll('text')) {
      const r = t.getBoundingClientRect();
      if (r.width && (r.left < s.left - 1 || r.right > s.right + 1 || r.top < s.top - 1 || r.bottom > s.bottom + 1))
        bad.push(`${svg.closest('.card').id}: '${t.textContent}' cut by the drawing's edge`);
    }
  }
  if (document.scrollingElement.scrollWidth > innerWidth + 1)
    bad.push(`the page is ${document.scrollingElement.scrollWidth} px wide in ${innerWidth}`);
  return bad;
}

async function view(page, name) {
  await page.click(`#views a[data-view="${name}"]`);
  return until(page, (v) => document.querySelector(`#views a[data-view="${v}"]`).getAttribute('aria-current') === 'page', name);
}

async function shoot(page, width, name) {
  const bad = await page.evaluate(overflowing);
  check(bad.length === 0, `${width}: ${name}: nothing overflows its card${bad.length ? ': ' + bad.slice(0, 5).join(' | ') : ''}`);
  await page.screenshot({ path: path.join(artefacts, `dashboard-${width}-${name}.png`), fullPage: true });
}

// Response bodies of the API calls the page makes, newest last, for checking what it shows.
function recordApi(page) {
  const seen = [];
  page.on('response', async (r) => {
    if (!r.url().includes('/api/v1/sites/')) return;
    try { seen.push({ url: r.url(), body: await r.json() }); } catch (e) { /* not JSON */ }
  });
  return seen;
}

const kwh = (wh) => (wh === null || wh === undefined ? '–' : (wh / 1000).toFixed(1) + ' kWh');

async function exercise(browser, url, width, height) {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: width < 500 ? 2 : 1 });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const api = recordApi(page);
  const outside = [];  // everything is served by sunbridge: no request leaves its address
  page.on('request', (r) => { if (!r.url().startsWith(new URL(url).origin) && !r.url().startsWith('data:')) outside.push(r.url()); });
  await page.goto(url);
  check(await until(page, () => document.getElementById('health').textContent === 'ok') !== null, `${width}: the gateway reports ok`);

  // Overview, now: live values with their time, changing without a reload.
  const first = await until(page, () => document.getElementById('v-pv').textContent !== '–' && document.getElementById('flow-age').textContent);
  check(/^at /.test(first || ''), `${width}: live values with their time (${first})`);
  const changed = await until(page, (f) => { const t = document.getElementById('flow-age').textContent; return t !== f && t; }, first);
  check(changed !== null, `${width}: values update without a reload (${changed})`);

  // Today: the tiles show what the API answered for today, rounded to 0.1 kWh and whole %.
  const tiles = await until(page, () => {
    const t = document.getElementById('t-sufficiency');
    return t && [...document.querySelectorAll('#today .tile')].map((x) => [x.querySelector('.k').textContent, x.querySelector('.v').textContent.replace('≈', '')]);
  });
  // The page's last answer for today, or the one before when a refresh is landing just now.
  const answers = api.filter((a) => /\/energy\?period=day&from=/.test(a.url)).slice(-2).reverse();
  if (tiles && answers.length) {
    const shown = Object.fromEntries(tiles);
    const wants = answers.map((a) => {
      const row = a.body.rows[a.body.rows.length - 1];
      return {
        'PV produced': kwh(row['energy.pv_yield']), 'Home used': kwh(row['energy.load']),
        Imported: kwh(row['energy.grid_import']), Exported: kwh(row['energy.grid_export']),
        'Self-sufficiency': row.self_sufficiency === null ? '–' : Math.round(row.self_sufficiency) + ' %',
        'Self-consumption': row.self_consumption === null ? '–' : Math.round(row.self_consumption) + ' %',
      };
    });
    const same = wants.some((want) => Object.entries(want).every(([k, v]) => shown[k] === v));
    check(same, `${width}: today's tiles are the API's day (${JSON.stringify(shown)}${same ? '' : '; want ' + JSON.stringify(wants[0])})`);
    // Beside today's PV, what the site's arrays give under a clear sky (the demo configures them).
    const expected = await page.textContent('#t-expected').catch(() => null);
    const clear = answers.map((a) => a.body.rows[a.body.rows.length - 1].pv_expected);
    check(clear[0] > 0 && clear.some((wh) => expected === `clear sky: ${kwh(wh)} for the day`),
      `${width}: today's clear-sky yield is the API's (${expected}; ${clear.join(' or ')} Wh)`);
  } else {
    check(false, `${width}: today's tiles are drawn (${JSON.stringify(tiles)})`);
  }
  const peak = await until(page, () => /peak .* at /.test(document.getElementById('today').textContent) && document.querySelector('#today .tile .s').textContent);
  check(peak !== null, `${width}: today's PV peak with its time (${peak})`);
  await page.waitForSelector('#chart .uplot canvas', { timeout: LIMIT });
  const range = await until(page, () => /\(today\) · 1 min buckets/.test(document.getElementById('chart-range').textContent) && document.getElementById('chart-range').textContent);
  check(range !== null, `${width}: today's power curve in minutes (${range || await page.textContent('#chart-range')})`);
  await shoot(page, width, 'overview');

  // History: energy per day, month and year, with the unit on the axis.
  await view(page, 'history');
  const days = await until(page, () => document.querySelectorAll('#energy tbody tr').length === 7 && 7);
  check(days === 7, `${width}: energy of the last 7 days (${await page.$$eval('#energy tbody tr', (r) => r.length)} rows)`);
  check(await page.$eval('#energy-chart svg text', (t) => t.textContent) === 'kWh', `${width}: the energy axis says kWh`);
  const rules = await page.$$eval('#energy-chart line[stroke-dasharray]', (l) => l.length);
  check(rules === 7, `${width}: each day's clear-sky PV is drawn over its bars (${rules} of 7)`);
  // A day's row opens its power curve: the chart holds what the API answered for that day.
  await page.click('#ranges button[data-range="7d"]');
  await until(page, () => /– now · 30 min buckets/.test(document.getElementById('chart-range').textContent));
  api.length = 0;
  await page.click('#energy tbody tr:first-child button[data-day]');
  const curve = await until(page, () => {
    const u = charts.power;
    return u && /\(today\)/.test(document.getElementById('chart-range').textContent) && u.data[1].filter((v) => v !== null).length > 0 &&
      [u.data[0].length, u.data[1].filter((v) => v !== null).length];
  });
  const answered = api.filter((a) => /\/power\?from=.*&step=60s/.test(a.url)).pop();
  if (curve && answered) {
    const pv = answered.body.points.map((p) => p[1]);
    const same = await page.evaluate((want) => JSON.stringify(charts.power.data[1]) === JSON.stringify(want), pv);
    check(same && answered.body.points.length === curve[0], `${width}: a day's curve is the API's (${curve[1]} PV minutes of ${curve[0]})`);
  } else {
    check(false, `${width}: a day opens its curve (${JSON.stringify(curve)}, ${api.map((a) => a.url).join(' ')})`);
  }
  // The day before, with ‹; its date in the site's calendar.
  const before = await page.textContent('#chart-range');
  await page.click('#day-prev');
  const yesterday = await until(page, (b) => { const t = document.getElementById('chart-range').textContent; return t !== b && !/today/.test(t) && t; }, before);
  check(yesterday !== null, `${width}: ‹ shows the day before (${yesterday})`);
  await page.click('#periods button[data-period="month"]');
  check(await until(page, () => document.querySelectorAll('#energy tbody tr').length === 12) !== null, `${width}: energy of the last 12 months`);
  await page.click('#periods button[data-period="year"]');
  check(await until(page, () => document.querySelectorAll('#energy tbody tr').length === 5) !== null, `${width}: energy of the last 5 years`);
  await page.click('#periods button[data-period="day"]');
  await until(page, () => document.querySelectorAll('#energy tbody tr button[data-day]').length === 7);
  // The export: the chart's range as CSV, every metric a column.
  const csv = await page.evaluate(async () => {
    const r = await fetch(document.getElementById('export').href);
    return [r.status, r.headers.get('content-type'), (await r.text()).split('\r\n')[0]];
  });
  check(csv[0] === 200 && /text\/csv/.test(csv[1]) && /^time_utc,time_local,sonnen:battery /.test(csv[2]),
    `${width}: Export CSV gives the day's metrics (${csv[0]} ${csv[1]}: ${csv[2].slice(0, 80)}…)`);
  const gaps = await until(page, () => document.querySelectorAll('#gaps tbody tr').length > 0 && document.getElementById('gaps').textContent);
  check(/history is complete|filled|partial|estimated|unfillable|open/.test(gaps || ''), `${width}: the gaps table (${(gaps || '').slice(0, 60)})`);
  await shoot(page, width, 'history');

  // Control: a discharge command on the sonnen battery, held as a lease, handed back.
  await view(page, 'control');
  await page.selectOption('#ctl-device', 'sonnen:battery');
  const w = String(800 + width % 97);
  await page.fill('#in-battery-power', w);
  await page.fill('#dur-battery-power', '5');
  await page.click('#ctl-forms button[data-cmd="battery-power"][data-sign="1"]');
  const verified = await until(page, () => /verified/.test(document.getElementById('ctl-result').textContent) && document.getElementById('ctl-result').textContent);
  check(verified !== null, `${width}: discharge command → ${verified || await page.textContent('#ctl-result')}`);
  check(await until(page, (x) => document.getElementById('events').textContent.includes('battery-power ' + x), w) !== null, `${width}: the command is in the audit list`);
  const lease = await until(page, (x) => new RegExp(`battery-power ${x} by .* until .*Hand back`).test(document.getElementById('ctl-leases').textContent) &&
    document.getElementById('ctl-leases').textContent, w);
  check(lease !== null, `${width}: the lease is shown with its end (${lease})`);
  await shoot(page, width, 'control');
  await view(page, 'overview');
  const held = await until(page, () => !document.getElementById('held').hidden && document.getElementById('held').textContent);
  check(held !== null, `${width}: the overview says the battery is held (${held})`);
  await view(page, 'control');
  await page.click('#ctl-leases button[data-release]');
  const released = await until(page, () => /release .*→ verified/.test(document.getElementById('ctl-result').textContent) &&
    document.getElementById('ctl-leases').textContent === '' && document.getElementById('ctl-result').textContent);
  check(released !== null, `${width}: Hand back ends the lease → ${released || await page.textContent('#ctl-result')}`);

  // System: the FoxESS fleet's connection with its call budget.
  await page.selectOption('#site', 'fleet');
  await view(page, 'system');
  const budget = await until(page, () => {
    const cells = [...document.querySelectorAll('#connections tbody tr')].map((r) => r.lastElementChild.textContent);
    return cells.some((b) => /\d+ \/ \d+/.test(b)) && cells.join(', ');
  });
  check(budget !== null, `${width}: the fleet connection's call budget (${budget})`);
  await shoot(page, width, 'system');

  // The Enphase home's EV charger and the Solar-Log plant's wallbox in the power flow.
  await view(page, 'overview');
  await page.selectOption('#site', 'amsterdam');
  const ev = await until(page, () => {
    const n = document.getElementById('n-ev');
    return n && n.style.display !== 'none' && /W/.test(document.getElementById('v-ev').textContent) && document.getElementById('v-ev').textContent;
  });
  check(ev !== null, `${width}: the EV charger's node in the power flow (${ev})`);
  await page.selectOption('#site', 'freiburg');
  const plant = await until(page, () => {
    const pv = document.getElementById('v-pv').textContent, n = document.getElementById('n-ev');
    return /W/.test(pv) && n && n.style.display !== 'none' && pv;
  });
  check(plant !== null, `${width}: the Solar-Log plant's PV and its wallbox node (${plant})`);
  await shoot(page, width, 'overview-solarlog');
  await page.selectOption('#site', 'home');
  check(await until(page, () => document.getElementById('n-ev').style.display === 'none') !== null, `${width}: no EV node where there is no charger`);
  check(errors.length === 0, `${width}: no script errors${errors.length ? ': ' + errors.join('; ') : ''}`);
  check(outside.length === 0, `${width}: no request outside sunbridge${outside.length ? ': ' + outside.slice(0, 3).join(' ') : ''}`);
  await context.close();
}

// Everything on a site's page is that site's, in that site's time, from a browser in a zone
// whose date differs from the site's now; the control forms start from what the device has;
// the light theme follows the system; the energy bars answer the keyboard.
async function siteChecks(browser, url) {
  const berlinHour = Number(new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Berlin', hour: '2-digit', hourCycle: 'h23' }).format(new Date()));
  const browserZone = berlinHour < 12 ? 'Pacific/Pago_Pago' : 'Pacific/Kiritimati';
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: browserZone, locale: 'en-US', colorScheme: 'light' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const api = recordApi(page);
  await page.goto(url.replace('#', '#view=history&'));
  await until(page, () => document.getElementById('health').textContent === 'ok');
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  check(background === 'rgb(243, 245, 247)', `light system theme: a light page (${background})`);
  // The Berlin home's days, in Berlin.
  await until(page, () => document.querySelectorAll('#energy tbody tr').length >= 7);
  const day = await page.$eval('#energy tbody tr td', (td) => td.textContent.replace('*', '').trim());
  const berlinToday = new Date().toLocaleDateString('en-US', { weekday: 'short', day: 'numeric', month: 'numeric', timeZone: 'Europe/Berlin' });
  const browserToday = new Date().toLocaleDateString('en-US', { weekday: 'short', day: 'numeric', month: 'numeric', timeZone: browserZone });
  check(day === berlinToday && berlinToday !== browserToday,
    `site time: today is Berlin's ${berlinToday}, not the browser's ${browserToday} in ${browserZone} (${day})`);
  const range = await until(page, () => /\(today\)/.test(document.getElementById('chart-range').textContent) && document.getElementById('chart-range').textContent);
  check((range || '').startsWith(berlinToday), `site time: the chart's day is Berlin's (${range})`);
  const power = api.find((a) => /\/power\?from=/.test(a.url));
  const midnight = power && new Date(power.body.from);
  const wall = midnight && new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(midnight);
  check(wall === '00:00', `site time: "Today" starts at Berlin's midnight (${power && power.body.from}, ${wall} in Berlin)`);
  // The keyboard reaches a day's bars and Enter opens its curve.
  await page.click('#day-prev');
  await until(page, () => !/today/.test(document.getElementById('chart-range').textContent));
  await page.$$eval('#energy-chart rect.slot', (r) => r[r.length - 1].focus());
  await page.keyboard.press('Enter');
  check(await until(page, () => /\(today\)/.test(document.getElementById('chart-range').textContent)) !== null, 'keyboard: Enter on a day\'s bars opens its curve');
  // The Amsterdam page: its devices, connections and events only.
  await page.selectOption('#site', 'amsterdam');
  await view(page, 'control');
  const devices = await until(page, () => {
    const o = [...document.querySelectorAll('#ctl-device option')].map((x) => x.value);
    return o.length && o.every((v) => v.startsWith('enphase:')) && o.join(', ');
  });
  check(devices !== null, `site: Amsterdam's control offers only its own devices (${devices})`);
  await view(page, 'system');
  const conns = await until(page, () => {
    const names = [...document.querySelectorAll('#connections tbody tr td:first-child')].map((x) => x.textContent);
    return names.length && names.every((n) => n.startsWith('enphase')) && names.join(', ');
  });
  check(conns !== null, `site: Amsterdam's connections only (${conns})`);
  const events = await until(page, () => {
    const t = document.getElementById('events').textContent;
    return t.length > 0 && !/sonnen:|kostal:|foxess:|solarlog:/.test(t) && t.slice(0, 80);
  });
  check(events !== null, `site: Amsterdam's events only (${events})`);
  // The KOSTAL inverter's forms show its minimum SoC and strategy as the device has them.
  await page.selectOption('#site', 'munich');
  await view(page, 'control');
  const shown = await until(page, () => {
    const input = document.getElementById('in-min-soc'), device = document.getElementById('ctl-device').value;
    return input && device.startsWith('kostal:') &&
      /settings read from the device at/.test(document.getElementById('ctl-settings').textContent) && [input.value, device];
  });
  if (shown) {
    const settings = await page.evaluate((id) => fetch(`/api/v1/devices/${encodeURIComponent(id)}/settings`).then((r) => r.json()), shown[1]);
    check(Number(shown[0]) === settings.settings['min-soc'].value,
      `control: the minimum SoC form shows the inverter's ${settings.settings['min-soc'].value} % (${shown[0]})`);
    const strategy = await page.$eval('#in-battery-strategy', (s) => s.value);
    check(strategy === settings.settings['battery-strategy'].argument,
      `control: the strategy shown is the inverter's (${strategy}; ${JSON.stringify(settings.settings)})`);
  } else {
    check(false, `control: the KOSTAL forms are filled from its settings (${await page.textContent('#ctl-settings')})`);
  }
  await page.screenshot({ path: path.join(artefacts, 'dashboard-light-control.png'), fullPage: true });
  check(errors.length === 0, `site checks: no script errors${errors.length ? ': ' + errors.join('; ') : ''}`);
  await context.close();
}

(async () => {
  fs.mkdirSync(artefacts, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-browser-'));
  let demo, browser;
  try {
    let url;
    ({ demo, url } = await startDemo(dir));
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    await exercise(browser, url, 360, 780);
    await exercise(browser, url, 1400, 900);
    await exercise(browser, url, 1920, 1080);
    await siteChecks(browser, url);
  } catch (e) {
    check(false, 'the run: ' + (e.stack || e));
  } finally {
    if (browser) await browser.close();
    if (demo) demo.kill('SIGINT');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed; screenshots in ${artefacts}`);
  process.exit(failed ? 1 : 0);
})();

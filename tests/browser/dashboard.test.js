// The dashboard as a user sees it: `sunbridge demo` in the background, Debian's Chromium headless
// (driven by playwright-core), a phone-sized window, then a desktop one. Checks that the page
// loads without script errors, live values arrive and change, the power chart and the energy
// table are drawn, a battery command round-trips to "verified", nothing is wider than the
// phone's screen; keeps a screenshot of each as test artefacts.
// Usage: node dashboard.test.js SUNBRIDGE_BINARY ARTEFACT_DIR. Exit 0 when every check passed.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const [binary, artefacts] = process.argv.slice(2);
let passed = 0, failed = 0;
const check = (ok, what) => {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
};

function startDemo(dir) {
  return new Promise((resolve, reject) => {
    const demo = spawn(binary, ['demo', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'demo.db'), '--speed', '30']);
    let out = '';
    const timer = setTimeout(() => reject(new Error('the demo printed no address: ' + out)), 15000);
    demo.stdout.on('data', (b) => {
      out += b;
      const m = out.match(/dashboard\s+(http:\/\/127\.0\.0\.1:\d+\/#token=\w+)/);
      if (m) { clearTimeout(timer); resolve({ demo, url: m[1] }); }
    });
    demo.on('exit', (code) => reject(new Error('the demo exited with ' + code + ': ' + out)));
  });
}

async function exercise(browser, url, name, viewport) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: name === 'phone' ? 2 : 1 });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('health').textContent === 'ok', null, { timeout: 20000 });
  check(true, `${name}: the gateway reports ok`);
  // The demo's first site is the sonnen home: live values arrive.
  await page.waitForFunction(() => document.getElementById('v-pv').textContent !== '–', null, { timeout: 20000 });
  const first = await page.textContent('#flow-age');
  check(/^at /.test(first), `${name}: live values with their time (${first})`);
  // ... and change without a reload.
  const changed = await page.waitForFunction((f) => {
    const t = document.getElementById('flow-age').textContent;
    return t !== f && t;
  }, first, { timeout: 20000 }).then(() => true, () => false);
  check(changed, `${name}: values update without a reload (${await page.textContent('#flow-age')})`);
  // The power chart (uPlot, bundled) and the energy table.
  await page.waitForSelector('#chart .uplot canvas', { timeout: 20000 });
  check(true, `${name}: the power chart is drawn`);
  const today = await page.textContent('#chart-range');
  await page.click('#ranges button[data-range="7d"]');
  const seven = await page.waitForFunction((t) => {
    const now = document.getElementById('chart-range').textContent;
    return now !== t && /3600 s buckets/.test(now);  // 7 days in hours, from the rollups
  }, today, { timeout: 20000 }).then(() => true, () => false);
  check(seven, `${name}: a 7-day range can be chosen (${await page.textContent('#chart-range')})`);
  await page.waitForFunction(() => document.querySelectorAll('#energy tbody tr').length >= 7, null, { timeout: 20000 });
  const energyRows = await page.$$eval('#energy tbody tr', (r) => r.length);
  check(energyRows === 7, `${name}: energy of the last 7 days (${energyRows} rows)`);
  await page.click('#periods button[data-period="month"]');
  await page.waitForFunction(() => document.querySelectorAll('#energy tbody tr').length === 12, null, { timeout: 10000 })
    .then(() => check(true, `${name}: energy of the last 12 months`), () => check(false, `${name}: months`));
  // The FoxESS fleet reports lifetime counters: today's energy so far is a number.
  await page.selectOption('#site', 'fleet');
  await page.click('#periods button[data-period="day"]');
  const kwh = await page.waitForFunction(() => {
    const cell = document.querySelector('#energy tbody tr td:nth-child(2)');
    return cell && /kWh/.test(cell.textContent) && cell.textContent;
  }, null, { timeout: 20000 }).then((h) => h.jsonValue(), () => null);
  check(kwh !== null, `${name}: the fleet's PV energy today so far (${kwh})`);
  // The fleet's connection with its budget (the FoxESS account counts calls).
  const budget = await page.waitForFunction(() => {
    const cells = [...document.querySelectorAll('#connections tbody tr')].map((r) => r.lastElementChild.textContent);
    return cells.some((b) => /\d+ \/ \d+/.test(b)) && cells.join(', ');
  }, null, { timeout: 20000 }).then((h) => h.jsonValue(), () => null);
  check(budget !== null, `${name}: the fleet connection's call budget is shown (${budget})`);
  // The Enphase home has an EV charger: its node shows in the power flow, the others' do not.
  await page.selectOption('#site', 'amsterdam');
  const ev = await page.waitForFunction(() => {
    const n = document.getElementById('n-ev');
    return n && n.style.display !== 'none' && /W/.test(document.getElementById('v-ev').textContent) &&
      document.getElementById('v-ev').textContent;
  }, null, { timeout: 30000 }).then((h) => h.jsonValue(), () => null);
  check(ev !== null, `${name}: the EV charger's node in the power flow (${ev})`);
  // The Solar-Log plant in Freiburg: its values and its wallbox (an Advanced client's device).
  await page.selectOption('#site', 'freiburg');
  const plant = await page.waitForFunction(() => {
    const pv = document.getElementById('v-pv').textContent, n = document.getElementById('n-ev');
    return /W/.test(pv) && n && n.style.display !== 'none' && pv;
  }, null, { timeout: 30000 }).then((h) => h.jsonValue(), () => null);
  check(plant !== null, `${name}: the Solar-Log plant's PV and its wallbox node (${plant})`);
  await page.screenshot({ path: path.join(artefacts, `dashboard-${name}-solarlog.png`), fullPage: true });
  await page.selectOption('#site', 'home');
  check(await page.waitForFunction(() => document.getElementById('n-ev').style.display === 'none', null, { timeout: 10000 })
    .then(() => true, () => false), `${name}: no EV node where there is no charger`);
  // A command round trip on the sonnen battery.
  await page.selectOption('#ctl-device', 'sonnen:battery');
  await page.fill('#in-battery-power', name === 'phone' ? '1200' : '900');
  if (name === 'desktop') await page.fill('#dur-battery-power', '5');  // held for 5 minutes: a lease
  await page.click('#ctl-forms button[data-cmd="battery-power"][data-sign="1"]');
  const verified = await page.waitForFunction(() => /verified/.test(document.getElementById('ctl-result').textContent), null, { timeout: 20000 })
    .then(() => true, () => false);
  check(verified, `${name}: discharge command → ${await page.textContent('#ctl-result')}`);
  await page.waitForFunction((w) => document.getElementById('events').textContent.includes('battery-power ' + w), name === 'phone' ? '1200' : '900', { timeout: 10000 })
    .then(() => check(true, `${name}: the command is in the audit list`),
          async () => check(false, `${name}: the command is in the audit list: ${(await page.textContent('#events')).slice(0, 300)}`));
  if (name === 'desktop') {
    await page.waitForFunction(() => /battery-power 900 by .* until /.test(document.getElementById('ctl-leases').textContent), null, { timeout: 10000 })
      .then(async () => check(true, `desktop: the lease is shown (${await page.textContent('#ctl-leases')})`),
            async () => check(false, `desktop: the lease is shown: '${await page.textContent('#ctl-leases')}'`));
    await page.click('#ctl-forms button[data-cmd="release"]');
    const released = await page.waitForFunction(() => /release .*→ verified/.test(document.getElementById('ctl-result').textContent) &&
      document.getElementById('ctl-leases').textContent === '', null, { timeout: 20000 }).then(() => true, () => false);
    check(released, `desktop: release ends the lease → ${await page.textContent('#ctl-result')}`);
  }
  // The gaps card: the demo has no outage, so it says history is complete (or lists a gap).
  await page.waitForFunction(() => document.querySelectorAll('#gaps li').length > 0, null, { timeout: 10000 })
    .then(async () => {
      const text = await page.textContent('#gaps');
      check(/history is complete|filled|partial|estimated|unfillable|open/.test(text), `${name}: the gaps card (${text.slice(0, 80)})`);
    }, () => check(false, `${name}: the gaps card is filled in`));
  if (name === 'phone') {
    const width = await page.evaluate(() => [document.scrollingElement.scrollWidth, window.innerWidth]);
    const wide = width[0] > width[1] + 1 ? await page.evaluate((w) => [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > w + 1).slice(-3)
      .map((e) => e.tagName + (e.id ? '#' + e.id : '') + ' ' + (e.textContent || '').slice(0, 40)).join(' | '), width[1]) : '';
    check(width[0] <= width[1] + 1, `phone: nothing wider than the screen (${width[0]} px in ${width[1]}${wide ? ': ' + wide : ''})`);
  }
  await page.screenshot({ path: path.join(artefacts, `dashboard-${name}.png`), fullPage: true });
  check(errors.length === 0, `${name}: no script errors${errors.length ? ': ' + errors.join('; ') : ''}`);
  await context.close();
}

// Everything on a site's page is that site's, in that site's time: from a browser in a zone
// whose date differs from the site's now (it labelled the day starting 23:00 UTC "Thu 12/3" for
// Berlin's 4 December, and commanded the Berlin battery from the Amsterdam page). And the
// control forms start from what the device has now.
async function siteChecks(browser, url) {
  const berlinHour = Number(new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Berlin', hour: '2-digit', hourCycle: 'h23' }).format(new Date()));
  const browserZone = berlinHour < 12 ? 'Pacific/Pago_Pago' : 'Pacific/Kiritimati';
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: browserZone, locale: 'en-US' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('health').textContent === 'ok', null, { timeout: 30000 });
  // The Berlin home's days, in Berlin.
  await page.waitForFunction(() => document.querySelectorAll('#energy tbody tr').length >= 7, null, { timeout: 30000 });
  const day = await page.$eval('#energy tbody tr td', (td) => td.textContent.replace('*', '').trim());
  const berlinToday = new Date().toLocaleDateString('en-US', { weekday: 'short', day: 'numeric', month: 'numeric', timeZone: 'Europe/Berlin' });
  const browserToday = new Date().toLocaleDateString('en-US', { weekday: 'short', day: 'numeric', month: 'numeric', timeZone: browserZone });
  check(day === berlinToday && berlinToday !== browserToday,
    `site time: today is Berlin's ${berlinToday}, not the browser's ${browserToday} in ${browserZone} (${day})`);
  await page.waitForSelector('#chart .uplot canvas', { timeout: 30000 });
  const range = await page.textContent('#chart-range');
  check(/12:00:00\sAM – now/.test(range), `site time: "Today" starts at Berlin's midnight (${range})`);
  // The Amsterdam page: its devices, connections and events only.
  await page.selectOption('#site', 'amsterdam');
  const devices = await page.waitForFunction(() => {
    const o = [...document.querySelectorAll('#ctl-device option')].map((x) => x.value);
    return o.length && o.every((v) => v.startsWith('enphase:')) && o.join(', ');
  }, null, { timeout: 30000 }).then((h) => h.jsonValue(), () => null);
  check(devices !== null, `site: Amsterdam's control offers only its own devices (${devices})`);
  const conns = await page.waitForFunction(() => {
    const names = [...document.querySelectorAll('#connections tbody tr td:first-child')].map((x) => x.textContent);
    return names.length && names.every((n) => n.startsWith('enphase')) && names.join(', ');
  }, null, { timeout: 30000 }).then((h) => h.jsonValue(), () => null);
  check(conns !== null, `site: Amsterdam's connections only (${conns})`);
  const events = await page.waitForFunction(() => {
    const t = document.getElementById('events').textContent;
    return t.length > 0 && !/sonnen:|kostal:|foxess:|solarlog:/.test(t) && t.slice(0, 80);
  }, null, { timeout: 30000 }).then((h) => h.jsonValue(), () => null);
  check(events !== null, `site: Amsterdam's events only (${events})`);
  // The KOSTAL inverter's forms show its minimum SoC and strategy as the device has them.
  await page.selectOption('#site', 'munich');
  const shown = await page.waitForFunction(() => {
    const input = document.getElementById('in-min-soc'), device = document.getElementById('ctl-device').value;
    return input && device.startsWith('kostal:') &&
      /settings read from the device at/.test(document.getElementById('ctl-settings').textContent) && [input.value, device];
  }, null, { timeout: 30000 }).then((h) => h.jsonValue(), () => null);
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
  await page.screenshot({ path: path.join(artefacts, 'dashboard-site-time.png'), fullPage: true });
  check(errors.length === 0, `site checks: no script errors${errors.length ? ': ' + errors.join('; ') : ''}`);
  await context.close();
}

(async () => {
  fs.mkdirSync(artefacts, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-browser-'));
  const { demo, url } = await startDemo(dir);
  let browser;
  try {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    await exercise(browser, url, 'phone', { width: 390, height: 844 });
    await exercise(browser, url, 'desktop', { width: 1280, height: 900 });
    await siteChecks(browser, url);
  } catch (e) {
    check(false, 'the run: ' + (e.stack || e));
  } finally {
    if (browser) await browser.close();
    demo.kill('SIGINT');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();

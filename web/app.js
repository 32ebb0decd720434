// sunbridge dashboard: plain JavaScript, SVG for the power flow and the energy bars, uPlot
// (web/vendor, bundled) for the power chart; everything from our own REST API, nothing from the
// internet. Four views of one site: Overview (now and today), History (days, months and years,
// a day's power curve, gaps and their backfill), Control, System (connections and devices).
'use strict';

const $ = (id) => document.getElementById(id);
const state = { site: null, devices: [], sites: [], view: 'overview', range: 'day', day: null, period: 'day', leases: [] };
const css = (v) => getComputedStyle(document.documentElement).getPropertyValue(v).trim();
const FLOWS = [
  { metric: 'pv.power', label: 'PV', color: '--pv' },
  { metric: 'load.power', label: 'Home', color: '--home' },
  { metric: 'grid.power', label: 'Grid (+import)', color: '--grid' },
  { metric: 'battery.power', label: 'Battery (+discharge)', color: '--bat' },
  { metric: 'ev.power', label: 'EV', color: '--ev' },
];
const ENERGY = [
  { metric: 'energy.pv_yield', label: 'PV', color: '--pv' },
  { metric: 'energy.grid_import', label: 'import', color: '--grid' },
  { metric: 'energy.grid_export', label: 'export', color: '--ok' },
  { metric: 'energy.load', label: 'home', color: '--home' },
];
const HOUR = 3600000;

// Numbers for people: whole watts (kW to 0.01 from 1 kW), kWh to 0.1, never "-0".
const noNegZero = (x) => (Object.is(x, -0) || x === 0 ? 0 : x);
function fmtW(w) {
  if (w === undefined || w === null || Number.isNaN(w)) return '–';
  const a = Math.abs(w);
  return a >= 1000 ? noNegZero(Number((w / 1000).toFixed(2))).toFixed(2) + ' kW' : noNegZero(Math.round(w)) + ' W';
}
function fmtKWh(wh) {
  if (wh === null || wh === undefined) return '–';
  return noNegZero(Number((wh / 1000).toFixed(1))).toFixed(1) + ' kWh';
}
const fmtPct = (p) => (p === null || p === undefined ? '–' : Math.round(p) + ' %');
// A device's value in its unit's resolution (the same rule as `sunbridge read`).
function fmtValue(v, unit) {
  const places = { W: 0, Wh: 0, VA: 0, var: 0, '%': 1, V: 1, '°C': 1, A: 2, Hz: 2 }[unit];
  const text = places === undefined ? String(noNegZero(Math.round(v * 100) / 100))
    : noNegZero(Number(v.toFixed(places))).toFixed(places);
  return unit ? `${text} ${unit}` : text;
}
// Times and days are the site's, whatever zone the browser is in.
const siteInfo = () => state.sites.find((s) => s.id === state.site) || {};
const tz = () => siteInfo().timezone || undefined;
function fmtTime(iso) { return iso ? new Date(iso).toLocaleTimeString([], { timeZone: tz() }) : '–'; }
function fmtHm(iso) { return iso ? new Date(iso).toLocaleTimeString([], { timeZone: tz(), hour: '2-digit', minute: '2-digit' }) : '–'; }
function fmtDateTime(iso) { return iso ? new Date(iso).toLocaleString([], { timeZone: tz() }) : '–'; }
function fmtDay(t, zone) { return new Date(t).toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'numeric', timeZone: zone || tz() }); }
// The site's wall-clock time of `d` read as if it were UTC (for its date and its offset).
function wallOf(d, zone) {
  const p = {};
  for (const x of new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit',
    day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(d)) p[x.type] = x.value;
  return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour % 24, +p.minute, +p.second);
}
// The instant the site's day that holds `d` began (its local midnight).
function siteMidnight(d) {
  const zone = tz();
  if (!zone) { const m = new Date(d); m.setHours(0, 0, 0, 0); return m; }
  const wall = wallOf(d, zone);
  const midnightWall = wall - (wall % 86400000);
  let t = midnightWall - (wall - Math.floor(d / 1000) * 1000);  // with the offset at d
  t -= wallOf(new Date(t), zone) - midnightWall;                // with the offset at midnight
  return new Date(t);
}
// The next day's midnight: 26 hours on is inside the next day for days of 23, 24 and 25 hours.
const nextMidnight = (m) => siteMidnight(new Date(+m + 26 * HOUR));
const prevMidnight = (m) => siteMidnight(new Date(+m - 1));
function esc(s) { return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c])); }
function fmtSpan(s) {
  const m = Math.round(s / 60);
  if (m >= 48 * 60) return `${Math.round(m / 1440)} days`;
  return m >= 60 ? `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min` : `${m} min`;
}

async function api(path, opts) {
  const r = await fetch(path, opts);
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error((body.error && body.error.message) || ('HTTP ' + r.status));
  return body;
}
const siteDevices = () => state.devices.filter((d) => d.site === state.site);
const sitePath = () => `/api/v1/sites/${encodeURIComponent(state.site)}`;

// --- views ------------------------------------------------------------------------------
// The hash says the view and the site (#view=history&site=munich); the fleet page links
// /#site=ID, the demo prints /#token=... (read once into the token field, then dropped).
function readHash() {
  const h = new URLSearchParams(location.hash.slice(1));
  const views = ['overview', 'history', 'control', 'system'];
  if (views.includes(h.get('view'))) state.view = h.get('view');
  return h;
}
function writeHash() {
  const h = new URLSearchParams();
  h.set('view', state.view);
  if (state.site) h.set('site', state.site);
  history.replaceState(null, '', '#' + h.toString());
}
function showView(view) {
  state.view = view;
  for (const card of document.querySelectorAll('main > .card'))
    card.hidden = !card.dataset.views.split(' ').includes(view) || (card.id === 'control-card' && !state.controllable);
  for (const a of document.querySelectorAll('#views a'))
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  writeHash();
  refreshSlow().catch(() => {});
}
const visible = (id) => !$(id).hidden;

// --- power flow -------------------------------------------------------------------------
// The one place the node positions live; the SVG nodes are placed from it at start.
const NODES = { pv: [160, 60], grid: [48, 150], home: [272, 150], bat: [160, 240], ev: [272, 240] };
for (const [name, [x, y]] of Object.entries(NODES)) $('n-' + name).setAttribute('transform', `translate(${x},${y})`);
function line(from, to, watts, color) {
  const [x1, y1] = NODES[from], [x2, y2] = NODES[to];
  const idle = !(watts > 5);
  return `<path class="flowline${idle ? ' idle' : ''}" stroke="${color}" d="M${x1},${y1} L${x2},${y2}"/>`;
}
// A value that fits its circle: one decimal in kW, and a smaller font for a long one.
function setNode(id, w) {
  const el = $(id);
  el.textContent = Math.abs(w) >= 1000 ? noNegZero(Number((w / 1000).toFixed(1))).toFixed(1) + ' kW' : fmtW(w);
  el.style.fontSize = el.textContent.length > 7 ? '10px' : '';
}
function renderFlow(f) {
  const pv = f['pv.power'] || 0, load = f['load.power'] || 0;
  const grid = f['grid.power'] || 0, bat = f['battery.power'] || 0;
  setNode('v-pv', pv);
  setNode('v-home', load);
  setNode('v-grid', grid);
  setNode('v-bat', bat);
  // An EV charger, where the site has one: fed from the home's supply (its power is part of it).
  const hasEv = 'ev.power' in f;
  $('n-ev').style.display = hasEv ? '' : 'none';
  if (hasEv) setNode('v-ev', f['ev.power']);
  // Direction: grid import flows grid->home, export home->grid; battery discharge bat->home.
  $('lines').innerHTML =
    line('pv', 'home', pv, 'var(--pv)') +
    (grid >= 0 ? line('grid', 'home', grid, 'var(--grid)') : line('home', 'grid', -grid, 'var(--grid)')) +
    (bat >= 0 ? line('bat', 'home', bat, 'var(--bat)') : line('home', 'bat', -bat, 'var(--bat)')) +
    (hasEv ? line('home', 'ev', f['ev.power'], 'var(--ev)') : '');
}

async function refreshLive() {
  const live = await api('/api/v1/live');
  renderFlow((live.sites && live.sites[state.site]) || {});
  const soc = [];
  let newest = null;
  const rows = live.devices.filter((d) => d.site === state.site).map((d) => {
    const v = d.values || {};
    if (v['battery.soc']) soc.push(v['battery.soc'].value);
    if (d.last_success && (!newest || d.last_success > newest)) newest = d.last_success;
    const cells = Object.keys(v).filter((k) => !k.startsWith('vendor.')).sort().map((k) =>
      `<tr><td>${esc(k)}</td><td>${esc(fmtValue(v[k].value, v[k].unit))}${v[k].quality !== 'measured' ? ` <span class="muted">${esc(v[k].quality)}</span>` : ''}</td></tr>`).join('');
    return `<details${live.devices.length <= 3 ? ' open' : ''}><summary class="small">${esc(d.device)} ${d.online ? '' : '<span class="offline">offline</span>'}</summary><table>${cells}</table></details>`;
  });
  $('devices').innerHTML = rows.join('') || '<p class="muted">no devices yet</p>';
  // The chosen device as it is now, above its controls.
  const chosen = live.devices.find((d) => d.device === $('ctl-device').value);
  const cv = (chosen && chosen.values) || {};
  const now = [
    cv['battery.soc'] ? `state of charge ${fmtValue(cv['battery.soc'].value, '%')}` : '',
    cv['battery.power'] ? `battery ${fmtW(cv['battery.power'].value)} (${cv['battery.power'].value > 5 ? 'discharging' : cv['battery.power'].value < -5 ? 'charging' : 'idle'})` : '',
    cv['pv.power'] ? `PV ${fmtW(cv['pv.power'].value)}` : ''].filter(Boolean).join(' · ');
  $('ctl-now').textContent = now ? 'Now: ' + now : '';
  $('v-soc').textContent = soc.length ? Math.round(soc.reduce((a, b) => a + b) / soc.length) + ' %' : '–';
  $('flow-age').textContent = newest ? 'at ' + fmtTime(newest) : '';
}

// Whether a command holds the site's battery now (a lease), said under the flow.
function renderHeld() {
  const ids = new Set(siteDevices().map((d) => d.id));
  const held = state.leases.filter((l) => ids.has(l.device));
  $('held').hidden = held.length === 0;
  $('held').innerHTML = held.map((l) =>
    `<span class="badge warn">held</span> ${esc(l.command)} ${esc(l.argument || l.value)} on ${esc(l.device)} until ${esc(fmtHm(l.until))}`).join('<br>');
}

// --- today ------------------------------------------------------------------------------
function tile(cls, key, value, sub, estimated) {
  return `<div class="tile ${cls}"><div class="k">${esc(key)}</div><div class="v">${estimated ? '<span class="est" title="estimated from power: a device of this site reports no counter for it">≈</span>' : ''}${esc(value)}</div>${sub ? `<div class="s">${sub}</div>` : ''}</div>`;
}
function meter(p) { return p === null || p === undefined ? '' : `<div class="meter"><span style="width:${Math.max(0, Math.min(100, p))}%"></span></div>`; }

async function refreshToday() {
  const now = new Date();
  const [e, p] = await Promise.all([
    api(`${sitePath()}/energy?period=day&from=${now.toISOString()}&to=${now.toISOString()}`),
    api(`${sitePath()}/power?step=300s`)]);
  const r = e.rows[e.rows.length - 1] || {};
  const est = (m) => (r.estimated || []).includes(m);
  const peak = p.peak && p.peak['pv.power'];
  const chargeIn = r['energy.battery_charge'], chargeOut = r['energy.battery_discharge'];
  $('today').innerHTML =
    tile('pv', 'PV produced', fmtKWh(r['energy.pv_yield']), [
      peak ? `peak ${esc(fmtW(peak.w))} at ${esc(fmtHm(peak.at))}` : '',
      r.pv_expected ? `<span id="t-expected">clear sky: ${esc(fmtKWh(r.pv_expected))} for the day</span>` : ''].filter(Boolean).join('<br>'), est('energy.pv_yield')) +
    tile('home', 'Home used', fmtKWh(r['energy.load']), '', est('energy.load')) +
    tile('grid', 'Imported', fmtKWh(r['energy.grid_import']), '', est('energy.grid_import')) +
    tile('grid', 'Exported', fmtKWh(r['energy.grid_export']), '', est('energy.grid_export')) +
    (chargeIn !== null || chargeOut !== null
      ? tile('bat', 'Battery charged', fmtKWh(chargeIn), '', est('energy.battery_charge')) +
        tile('bat', 'Battery discharged', fmtKWh(chargeOut), '', est('energy.battery_discharge'))
      : '') +
    `<div class="tile" id="t-sufficiency"><div class="k">Self-sufficiency</div><div class="v">${fmtPct(r.self_sufficiency)}</div>${meter(r.self_sufficiency)}<div class="s">of the home's use not imported</div></div>` +
    `<div class="tile" id="t-consumption"><div class="k">Self-consumption</div><div class="v">${fmtPct(r.self_consumption)}</div>${meter(r.self_consumption)}<div class="s">of the PV used here</div></div>`;
  $('today-note').textContent = r.start ? fmtDay(r.start, e.timezone) + (r.complete ? '' : ' · so far') : '';
  const missing = ENERGY.filter((s) => r[s.metric] === null).map((s) => s.label);
  $('today-legend').textContent = [
    (r.estimated || []).length ? '≈ estimated from power where a device reports no counter' : '',
    missing.length ? `no device of this site reports ${missing.join(', ')}` : ''].filter(Boolean).join(' · ');
}

// --- power chart ------------------------------------------------------------------------
const charts = {};
function chartWidth(el) { return Math.max(260, Math.round(el.clientWidth || 600)); }
function makeChart(key, el, opts, data) {
  if (charts[key]) charts[key].destroy();
  charts[key] = new uPlot({ width: chartWidth(el), height: 220, ...opts }, data, el);
}
window.addEventListener('resize', () => {
  if (charts.power && visible('chart-card')) charts.power.setSize({ width: chartWidth($('chart')), height: 220 });
  if (state.bars && visible('energy-card')) drawBars(...state.bars);
});
const axis = (values, size) => {
  const a = { stroke: css('--muted'), grid: { stroke: css('--line') }, ticks: { stroke: css('--line') } };
  if (values) a.values = values;
  if (size) a.size = size;  // an explicit undefined would hide the axis
  return a;
};

// A vendor that reports every 5 minutes leaves empty minute buckets between its values: the line
// runs across holes shorter than 15 minutes and breaks at longer ones (outages, shaded).
function bridge(u, seriesIdx, idx0, idx1, nullGaps) {
  const x = u.scales.x.min;
  const width = u.valToPos(x + 15 * 60, 'x', true) - u.valToPos(x, 'x', true);
  return nullGaps.filter(([a, b]) => b - a > width);
}

// The chart's range: a whole day of the site (today, or one chosen in the energy bars or with
// ‹ ›) in minutes, or the last 24 hours, 7 or 30 days in the server's round steps.
function chartRange() {
  const now = new Date();
  if (state.range === 'day') {
    const from = state.day ? new Date(state.day) : siteMidnight(now);
    const end = nextMidnight(from);
    return { from, to: end < now ? end : now, end, step: '60s', exportStep: '60s' };
  }
  const hours = { '24h': 24, '7d': 24 * 7, '30d': 24 * 30 }[state.range];
  const exportStep = { '24h': '300s', '7d': '900s', '30d': '3600s' }[state.range];
  return { from: new Date(now - hours * HOUR), to: now, end: now, step: null, exportStep };
}
const stepText = (s) => (s >= 3600 ? `${s / 3600} h` : `${s / 60} min`);

async function refreshChart() {
  if (!state.site) return;
  const { from, to, end, step, exportStep } = chartRange();
  const q = `from=${from.toISOString()}&to=${to.toISOString()}`;
  const p = await api(`${sitePath()}/power?${q}${step ? '&step=' + step : ''}`);
  const cols = p.columns.slice(1);
  const shown = FLOWS.filter((f) => cols.includes(f.metric));
  const data = [p.points.map((r) => r[0] / 1000), ...shown.map((f) => p.points.map((r) => r[1 + cols.indexOf(f.metric)]))];
  // Holes of the site's devices in the range: the part backfill could not fill is shaded, and
  // says why under the pointer.
  const ids = new Set(siteDevices().map((d) => d.id));
  const holes = (await api(`/api/v1/gaps?from=${from.toISOString()}&to=${end.toISOString()}&limit=500`).catch(() => []))
    .filter((g) => g.metric === null && ids.has(g.device) && g.status !== 'filled');
  // A fresh site's first minutes: dots where a value stands alone, and today's axis from shortly
  // before the first value rather than a whole empty day.
  const values = data.slice(1).map((col) => col.filter((v) => v !== null).length);
  const sparse = Math.max(0, ...values) < 120;
  let x0 = from / 1000, x1 = end / 1000;
  const first = p.points.find((r) => r.slice(1).some((v) => v !== null));
  if (state.range === 'day' && !state.day && first && first[0] - from > 2 * HOUR) {
    const quarter = HOUR / 4;
    x0 = Math.max(+from, Math.floor((first[0] - 2 * quarter) / quarter) * quarter) / 1000;
    x1 = Math.min(+end, Math.ceil((Date.now() + 2 * quarter) / quarter) * quarter) / 1000;
  }
  const gapAt = (t) => holes.find((g) => Date.parse(g.from) / 1000 <= t && t <= Date.parse(g.to) / 1000);
  makeChart('power', $('chart'), {
    hooks: {
      drawAxes: [(u) => {
        const { ctx, bbox } = u;
        ctx.save();
        ctx.fillStyle = css('--gap');
        for (const g of holes) {
          const x0 = u.valToPos(Date.parse(g.from) / 1000, 'x', true);
          const x1 = u.valToPos(Date.parse(g.to) / 1000, 'x', true);
          const l = Math.max(bbox.left, x0), r = Math.min(bbox.left + bbox.width, x1);
          if (r > l) ctx.fillRect(l, bbox.top, r - l, bbox.height);
        }
        ctx.restore();
      }],
      setCursor: [(u) => {
        const g = u.cursor.left >= 0 ? gapAt(u.posToVal(u.cursor.left, 'x')) : null;
        u.over.title = g ? `gap (${g.status}): ${g.reason}${g.detail ? ' — ' + g.detail : ''}` : '';
      }],
    },
    series: [{}, ...shown.map((s) => ({ label: s.label, stroke: css(s.color), width: 1.5, value: (u, v) => fmtW(v),
      points: { show: sparse, size: 5, fill: css(s.color) }, gaps: bridge }))],
    axes: [axis(), axis((u, vals) => vals.map(fmtW), 72)],
    scales: { x: { time: true, range: [x0, x1] } },
    tzDate: (ts) => (tz() ? uPlot.tzDate(new Date(ts * 1e3), tz()) : new Date(ts * 1e3)),
  }, data);
  const today = +siteMidnight(new Date());
  const day = state.range === 'day';
  $('chart-range').textContent = (day ? fmtDay(from) + (+from === today ? ' (today)' : '') : `${fmtDateTime(from)} – now`) +
    ` · ${stepText(p.step_s)} buckets`;
  $('day-next').disabled = !day || +from >= today;
  $('ranges').querySelector('[data-range="today"]').classList.toggle('on', day && +from === today);
  const peak = p.peak && p.peak['pv.power'];
  $('chart-note').textContent = (first ? '' : 'nothing stored for this range') + (peak ? `PV peak ${fmtW(peak.w)} at ${fmtHm(peak.at)}` : '') +
    (holes.length ? `${peak ? ' · ' : ''}shaded: ${holes.length} gap${holes.length > 1 ? 's' : ''} in history` : '');
  $('export').href = `${sitePath()}/export?from=${from.toISOString()}&to=${end.toISOString()}&step=${exportStep}`;
}

// --- energy -----------------------------------------------------------------------------
async function refreshEnergy() {
  if (!state.site) return;
  const e = await api(`${sitePath()}/energy?period=${state.period}`);
  const rows = e.rows;
  // A row starts at the site's midnight (23:00 UTC for Berlin): it is labelled in the site's zone.
  const label = (r) => state.period === 'day' ? fmtDay(r.start, e.timezone)
    : state.period === 'month' ? new Date(r.start).toLocaleDateString(undefined, { month: 'short', year: 'numeric', timeZone: e.timezone })
      : new Date(r.start).toLocaleDateString(undefined, { year: 'numeric', timeZone: e.timezone });
  const cell = (r, m) => `${(r.estimated || []).includes(m) ? '<span class="est" title="estimated from power">≈</span>' : ''}${fmtKWh(r[m])}`;
  $('energy').querySelector('tbody').innerHTML = rows.slice().reverse().map((r) => {
    const name = state.period === 'day'
      ? `<button type="button" class="link" data-day="${esc(r.start)}" title="its power curve">${esc(label(r))}</button>` : esc(label(r));
    const battery = r['energy.battery_charge'] === null && r['energy.battery_discharge'] === null ? '–'
      : `${cell(r, 'energy.battery_charge')} / ${cell(r, 'energy.battery_discharge')}`;
    const expected = r.pv_expected ? ` <span class="muted small" title="what the site's arrays give under a clear sky">/ ${fmtKWh(r.pv_expected)}</span>` : '';
    return `<tr><td>${name}${r.complete ? '' : ' <span class="muted" title="counted from what sunbridge has stored">*</span>'}</td>` +
      ENERGY.map((s) => `<td>${cell(r, s.metric)}${s.metric === 'energy.pv_yield' ? expected : ''}</td>`).join('') +
      `<td class="opt">${battery}</td><td>${fmtPct(r.self_sufficiency)}</td></tr>`;
  }).join('');
  $('energy').querySelectorAll('button[data-day]').forEach((b) => { b.onclick = () => showDay(b.dataset.day); });
  const none = rows.every((r) => ENERGY.every((s) => r[s.metric] === null));
  const anyEstimated = rows.some((r) => (r.estimated || []).length);
  $('energy-note').textContent = none
    ? 'no device of this site reports energy, measured or estimated, in this range'
    : `kWh · ${e.timezone} · * not a whole ${state.period} of data${anyEstimated ? ' · ≈ estimated from power' : ''}` +
      (rows.some((r) => r.pv_expected) ? ' · PV / its clear-sky yield, dashed over the bars' : '');
  state.bars = [$('energy-chart'), rows.map(label), ENERGY.map((s) => ({
    color: css(s.color), label: s.label, values: rows.map((r) => r[s.metric]) })), state.period === 'day' ? rows.map((r) => r.start) : null,
  rows.map((r) => r.pv_expected)];
  drawBars(...state.bars);
}

// A day's power curve in the chart above (a click on its bars or its row).
function showDay(start) {
  state.range = 'day';
  state.day = siteMidnight(new Date(start)).getTime();
  $('ranges').querySelectorAll('button[data-range]').forEach((x) => x.classList.remove('on'));
  refreshChart().catch(() => {});
  $('chart-card').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

// Grouped bars, one group a period, in the element's own pixel width; the y axis in kWh. Days
// (`starts`) are buttons: a click or Enter shows that day's power curve.
function drawBars(el, labels, series, starts, expected) {
  const W = chartWidth(el), H = 200, L = 48, B = 20, T = 18;
  let top = 1000;
  for (const s of series) for (const v of s.values) if (v !== null) top = Math.max(top, v);
  for (const v of expected || []) if (v) top = Math.max(top, v);
  // Four rules on round numbers of kWh (0.25, 0.5, 1, 2, 2.5, 5, ... a rule).
  const raw = top / 4, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const rule = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((r) => r >= raw);
  const hi = rule * 4;
  const slot = (W - L) / Math.max(1, labels.length), bw = slot * 0.8 / series.length;
  const y = (v) => T + (1 - v / hi) * (H - T - B);
  const muted = css('--muted'), ruleColor = css('--line');
  let svg = `<text x="${L - 4}" y="10" fill="${muted}" font-size="10" text-anchor="end">kWh</text>`;
  for (let k = 0; k <= 4; k++) {
    const v = rule * k;
    svg += `<line x1="${L}" x2="${W}" y1="${y(v)}" y2="${y(v)}" stroke="${ruleColor}"/>` +
           `<text x="${L - 4}" y="${y(v) + 4}" fill="${muted}" font-size="10" text-anchor="end">${Number((v / 1000).toFixed(2))}</text>`;
  }
  const every = Math.ceil(labels.length / Math.max(1, Math.floor((W - L) / 70)));
  // Narrow: days without their weekday ("12/7").
  if (starts && (W - L) / labels.length < 60)
    labels = starts.map((t) => new Date(t).toLocaleDateString(undefined, { day: 'numeric', month: 'numeric', timeZone: tz() }));
  labels.forEach((lab, i) => {
    const x0 = L + i * slot + slot * 0.1;
    if (starts)
      svg += `<rect class="slot" x="${(L + i * slot).toFixed(1)}" y="${T}" width="${slot.toFixed(1)}" height="${H - T - B}" ` +
             `tabindex="0" role="button" data-day="${esc(starts[i])}" aria-label="${esc(lab)}: its power curve"><title>${esc(lab)}: its power curve</title></rect>`;
    series.forEach((s, k) => {
      const v = s.values[i];
      if (v === null || v === undefined) return;
      svg += `<rect x="${(x0 + k * bw).toFixed(1)}" y="${y(v).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" ` +
             `height="${(y(0) - y(v)).toFixed(1)}" fill="${s.color}" pointer-events="none"><title>${esc(lab)} ${esc(s.label)}: ${fmtKWh(v)}</title></rect>`;
    });
    // The PV the site's arrays give under a clear sky: a dashed rule over the group.
    if (expected && expected[i])
      svg += `<line x1="${(L + i * slot + slot * 0.05).toFixed(1)}" x2="${(L + (i + 1) * slot - slot * 0.05).toFixed(1)}" ` +
             `y1="${y(expected[i]).toFixed(1)}" y2="${y(expected[i]).toFixed(1)}" stroke="${series[0].color}" stroke-dasharray="4 3" pointer-events="none">` +
             `<title>${esc(lab)} clear sky: ${fmtKWh(expected[i])}</title></line>`;
    if (i % every === 0) {
      // Centred under its bars, but never past the drawing's edges.
      const x = L + (i + 0.5) * slot, half = lab.length * 2.8;
      const [at, anchor] = x + half > W ? [W - 1, 'end'] : x - half < 0 ? [1, 'start'] : [x, 'middle'];
      svg += `<text x="${at.toFixed(1)}" y="${H - 4}" fill="${muted}" font-size="10" text-anchor="${anchor}">${esc(lab)}</text>`;
    }
  });
  el.innerHTML = `<svg class="bars" viewBox="0 0 ${W} ${H}" role="img" aria-label="energy per period, kWh">${svg}</svg>` +
    `<div class="legend">${series.map((s) => `<span style="color:${s.color}">${esc(s.label)}</span>`).join('')}` +
    `${(expected || []).some((v) => v) ? `<span class="dashed" style="color:${series[0].color}">PV under a clear sky</span>` : ''}</div>`;
  el.querySelectorAll('rect.slot').forEach((r) => {
    r.onclick = () => showDay(r.dataset.day);
    r.onkeydown = (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); showDay(r.dataset.day); } };
  });
}

// --- health, events, gaps ---------------------------------------------------------------
async function refreshHealth() {
  const h = await api('/api/v1/health');
  const badge = $('health');
  badge.textContent = h.status;
  badge.className = 'badge ' + (h.status === 'ok' ? 'ok' : 'bad');
  $('clock').textContent = fmtTime(h.time);
  $('connections').querySelector('tbody').innerHTML = h.connections.filter((c) => c.site === state.site).map((c) => {
    const b = c.budget;
    // Compact, so that a monthly plan's 1,500,000 fits a phone: "1.5M".
    const n = (v) => (v >= 1e6 ? (v / 1e6).toFixed(v % 1e6 ? 2 : 0) + 'M' : v >= 1e4 ? Math.round(v / 1e3) + 'k' : String(v));
    const budget = b ? `${n(b.remaining)} / ${n(b.limit)}` : '–';
    return `<tr><td>${esc(c.name)} <span class="muted">${esc(c.vendor)}</span></td>` +
      `<td class="${c.state === 'ok' ? 'ok-text' : 'bad-text'}" title="${esc(c.last_error)}">${esc(c.state)}</td>` +
      `<td>${fmtTime(c.last_success)}</td><td>${c.polls} / ${c.failures}</td>` +
      `<td class="opt">${Math.round(c.last_latency_ms)} ms</td><td title="${b ? 'resets ' + esc(fmtDateTime(b.resets_at)) : ''}">${budget}</td></tr>`;
  }).join('');
}

async function refreshEvents() {
  const site = encodeURIComponent(state.site);
  const [events, commands] = await Promise.all([api(`/api/v1/events?site=${site}&limit=30`),
    api(`/api/v1/commands?site=${site}&limit=10`)]);
  const items = events.map((e) => ({ t: e.time, html: `<span class="sev-${esc(e.severity)}">${esc(e.code)}</span> ${esc(e.message)}` }))
    .concat(commands.map((c) => ({ t: c.requested_at, html: `<b>${esc(c.command)} ${esc(c.argument || c.value)}</b> → ${esc(c.status)} <span class="muted">${esc(c.device)} · ${esc(c.detail)}</span>` })));
  items.sort((a, b) => (a.t < b.t ? 1 : -1));
  $('events').innerHTML = items.map((i) => `<li><span class="muted">${fmtTime(i.t)}</span> ${i.html}</li>`).join('') ||
    '<li class="muted">nothing yet</li>';
}

// The site's gaps with their backfill: how much is done, at what pace, and when it will end.
async function refreshGaps() {
  const ids = new Set(siteDevices().map((d) => d.id));
  const gaps = (await api('/api/v1/gaps?limit=200')).filter((g) => g.metric === null && ids.has(g.device));
  const progress = (g) => {
    if (g.status === 'filled') return `<span class="ok-text">done</span> <span class="muted">${g.samples} samples</span>`;
    const pct = Math.round(g.progress * 100);
    const pace = g.pace ? ` · ${g.pace >= 10 ? Math.round(g.pace) : g.pace}× real time` : '';
    const eta = g.estimated_end ? ` · done about ${esc(fmtHm(g.estimated_end))}` : '';
    return `${pct} %${meter(pct)}<span class="muted small">${pace}${eta}</span>`;
  };
  $('gaps').querySelector('tbody').innerHTML = gaps.slice(0, 30).map((g) =>
    `<tr data-status="${esc(g.status)}"><td><span class="badge ${g.status === 'filled' ? 'ok' : g.status === 'open' ? 'warn' : 'bad'}">${esc(g.status)}</span></td>` +
    `<td>${esc(g.device)}</td><td>${esc(fmtDateTime(g.from))}</td><td>${fmtSpan(g.seconds)}</td><td>${progress(g)}</td>` +
    `<td class="opt small muted">${esc(g.reason)}${g.detail ? ' — ' + esc(g.detail) : ''}</td></tr>`).join('') ||
    '<tr><td colspan="6" class="muted">none: history is complete</td></tr>';
}

// --- control ----------------------------------------------------------------------------
// The forms for the commands a device takes, built from its capability answer (each command
// with its kind, widget, limits and label from the server's command table), filled with what the
// device has now (`now`: the settings the API read from it); each sends one command and shows
// its outcome. A command that can hold for a while gets a duration beside it.
function controlForms(c, now) {
  const cur = (cmd, key) => (now[cmd] ? now[cmd][key] : undefined);
  const shown = (v, fallback) => (v === undefined || v === null ? fallback : v);
  const range = (k) => `${k.unit}, ${k.min} … ${k.max}`;
  const duration = (k) => (k.holds ? `<label class="small">for <input type="number" id="dur-${k.name}" min="0" max="10080" step="5" value="0" style="width:5em"> min (0: until told otherwise; then handed back)</label>` : '');
  const set = (k, label = 'Set') => `<button type="button" data-cmd="${k.name}">${label}</button>`;
  const form = (k) => {
    const n = k.name;
    switch (k.widget) {
      case 'setpoint':
        return `<fieldset><legend>${esc(k.title)} (${esc(range(k))})</legend>` +
          `<div class="inline"><input type="number" id="in-${n}" step="${k.step}" value="${k.start}">` +
          `<button type="button" data-cmd="${n}" data-sign="-1">Charge</button>` +
          `<button type="button" data-cmd="${n}" data-sign="1">Discharge</button>${set(k)}</div>${duration(k)}</fieldset>`;
      case 'level':
        return `<fieldset><legend>${esc(k.title)} (${esc(range(k))})</legend><div class="inline"><input type="number" id="in-${n}" min="${k.min}" max="${k.max}" step="${k.step}" value="${k.start}">` +
          `${set(k, 'Start')}<button type="button" data-cmd="${n}" data-value="0">Stop</button></div></fieldset>`;
      case 'number':
        return `<fieldset><legend>${esc(k.title)} (${esc(range(k))})</legend><div class="inline"><input type="number" id="in-${n}" min="${k.min}" max="${k.max}" step="${k.step}" value="${esc(shown(cur(n, 'value'), k.start))}">` +
          `${set(k)}</div>${duration(k)}</fieldset>`;
      case 'toggle': {
        const v = cur(n, 'value');
        const state = ` <b class="${v ? 'ok-text' : 'muted'}" data-now="${n}">${v === undefined ? '' : v ? 'on' : 'off'}</b>`;
        return `<div class="row"><span class="small">${esc(k.title)}${state}</span> <button type="button" data-cmd="${n}" data-value="1"${v === 1 ? ' class="on"' : ''}>on</button>` +
          `<button type="button" data-cmd="${n}" data-value="0"${v === 0 ? ' class="on"' : ''}>off</button></div>`;
      }
      case 'select': {
        const now = cur(n, 'argument');
        const options = k.choices.includes(now) || !now ? k.choices : [now, ...k.choices];
        return `<fieldset><legend>${esc(k.title)} <span class="muted">now <span data-now="${n}">${esc(now || '–')}</span></span></legend><div class="inline"><select id="in-${n}">` +
          options.map((s) => `<option${s === now ? ' selected' : ''}>${esc(s)}</option>`).join('') + `</select>${set(k)}</div></fieldset>`;
      }
      case 'text': {
        const limits = [k.count ? `up to ${k.count}` : '', k.choices ? k.choices.join(', ') : ''].filter(Boolean).join('; ');
        return `<fieldset><legend>${esc(k.title)}${limits ? ` <span class="muted">(${esc(limits)})</span>` : ''}</legend><div class="inline"><input id="in-${n}" placeholder="${esc(k.hint || '')}" value="${esc(shown(cur(n, 'argument'), ''))}">` +
          `${set(k)}</div></fieldset>`;
      }
      case 'button':
        return `<div class="row">${set(k, esc(k.title))}</div>`;
      default:
        return '';
    }
  };
  return (c.commands || []).map(form).join('') || '<p class="muted small">this device takes no commands</p>';
}

async function send(cmd, button) {
  const device = $('ctl-device').value;
  const token = $('ctl-token').value.trim();
  localStorage.setItem('sunbridge.token', token);
  const body = { command: cmd };
  const input = $('in-' + cmd);
  const d = state.devices.find((x) => x.id === device);
  const k = ((d && d.capabilities && d.capabilities.commands) || []).find((x) => x.name === cmd) || {};
  if (button.dataset.value !== undefined) body.value = Number(button.dataset.value);
  else if (k.kind === 'choice' || k.kind === 'text') body.argument = input.value;
  else if (input) body.value = button.dataset.sign ? Number(button.dataset.sign) * Math.abs(Number(input.value) || 0) : Number(input.value);
  const minutes = $('dur-' + cmd) ? Number($('dur-' + cmd).value) || 0 : 0;
  if (minutes > 0) body.duration_s = Math.round(minutes * 60);
  const out = $('ctl-result');
  document.querySelectorAll('#control-card button').forEach((b) => { b.disabled = true; });
  out.textContent = `sending ${cmd} ${body.argument ?? body.value ?? ''} to ${device}…`;
  out.className = 'small';
  try {
    const r = await api(`/api/v1/devices/${encodeURIComponent(device)}/commands`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + token },
      body: JSON.stringify(body),
    });
    out.textContent = `${r.command} ${r.argument || r.value} → ${r.status}: ${r.detail}`;
    out.className = 'small ' + (r.status === 'verified' ? 'ok-text' : 'bad-text');
  } catch (e) {
    out.textContent = 'refused: ' + e.message;
    out.className = 'small bad-text';
  } finally {
    document.querySelectorAll('#control-card button').forEach((b) => { b.disabled = false; });
    refreshLive().catch(() => {});
    refreshEvents().catch(() => {});
    refreshLeases().catch(() => {});
    controlsShown = '';  // the fields show what the device has after the command
    renderControls(false);
  }
}

// Commands that hold for a while: the site's under the power flow, the chosen device's here,
// each with when it ends and a button that hands control back to the device at once.
async function refreshLeases() {
  state.leases = await api('/api/v1/leases?active=true');
  renderHeld();
  const device = $('ctl-device').value;
  const leases = state.leases.filter((l) => l.device === device);
  $('ctl-leases').innerHTML = leases.map((l) =>
    `<li>${esc(l.command)} ${esc(l.argument || l.value)} by ${esc(l.requested_by)} until ${esc(fmtTime(l.until))} ` +
    `<button type="button" data-release="${esc(l.device)}">Hand back</button></li>`).join('');
  $('ctl-free').hidden = leases.length > 0;
  $('ctl-leases').querySelectorAll('button[data-release]').forEach((b) => {
    b.onclick = () => send('release', b);
  });
}

// The chosen device's forms at once (from the settings read last time), then filled with its
// settings as the API has them (`refresh`: read from the device now, which costs a cloud
// vendor's calls). A field the user has typed into keeps what was typed.
const settingsSeen = {};
let controlsShown = '';
async function renderControls(refresh) {
  const id = $('ctl-device').value;
  const d = state.devices.find((x) => x.id === id);
  refreshLeases().catch(() => {});
  if (!d) { controlsShown = ''; $('ctl-forms').innerHTML = ''; $('ctl-settings').textContent = ''; return; }
  if (controlsShown !== id) {
    controlsShown = id;
    $('ctl-settings').textContent = 'reading its settings…';
    $('ctl-forms').innerHTML = controlForms(d.capabilities || {}, settingsSeen[id] || {});
    $('ctl-forms').querySelectorAll('button[data-cmd]').forEach((b) => { b.onclick = () => send(b.dataset.cmd, b); });
    $('ctl-forms').querySelectorAll('input, select').forEach((i) => { i.oninput = () => { i.dataset.edited = '1'; }; });
  }
  let note;
  try {
    const s = await api(`/api/v1/devices/${encodeURIComponent(id)}/settings${refresh ? '?refresh=true' : ''}`);
    if (controlsShown !== id) return;  // another device was chosen meanwhile
    settingsSeen[id] = s.settings;
    showSettings(s.settings);
    note = Object.keys(s.settings).length ? `settings read from the device at ${fmtTime(s.read_at)}` : '';
  } catch (e) {
    if (controlsShown !== id) return;
    note = 'its settings could not be read: ' + e.message;
  }
  $('ctl-settings').innerHTML = note ? `${esc(note)} · <a href="#" id="ctl-reread">read again</a>` : '';
  if ($('ctl-reread')) $('ctl-reread').onclick = (ev) => { ev.preventDefault(); renderControls(true); };
}

// Puts the device's settings into the forms shown: values into untouched fields, the state of
// each toggle, the strategy it follows.
function showSettings(now) {
  for (const [cmd, v] of Object.entries(now)) {
    const input = $('in-' + cmd);
    if (input && input.dataset.edited !== '1') {
      const want = v.value !== undefined ? String(v.value) : v.argument;
      if (input.tagName === 'SELECT' && ![...input.options].some((o) => o.value === want))
        input.insertAdjacentHTML('afterbegin', `<option>${esc(want)}</option>`);
      input.value = want;
    }
    const state = document.querySelector(`[data-now="${cmd}"]`);
    if (state) {
      const text = v.value !== undefined ? (v.value ? 'on' : 'off') : v.argument;
      state.textContent = text;
      state.className = v.value ? 'ok-text' : 'muted';
    }
    document.querySelectorAll(`#ctl-forms button[data-cmd="${cmd}"][data-value]`).forEach((b) => {
      b.classList.toggle('on', v.value !== undefined && Number(b.dataset.value) === v.value);
    });
  }
}

function setupButtons() {
  const h = readHash();
  state.asked = h.get('site');
  $('ctl-token').value = h.get('token') || localStorage.getItem('sunbridge.token') || '';
  if (h.get('token')) localStorage.setItem('sunbridge.token', h.get('token'));
  $('ctl-device').onchange = () => renderControls(false);
  $('ranges').querySelectorAll('button[data-range]').forEach((b) => {
    b.onclick = () => {
      $('ranges').querySelectorAll('button[data-range]').forEach((x) => x.classList.toggle('on', x === b));
      state.range = b.dataset.range === 'today' ? 'day' : b.dataset.range;
      state.day = null;
      refreshChart().catch(() => {});
    };
  });
  const shift = (next) => {
    const from = state.range === 'day' && state.day ? new Date(state.day) : siteMidnight(new Date());
    state.range = 'day';
    state.day = (next ? nextMidnight(from) : prevMidnight(from)).getTime();
    if (state.day >= +siteMidnight(new Date())) state.day = null;
    $('ranges').querySelectorAll('button[data-range]').forEach((x) => x.classList.remove('on'));
    refreshChart().catch(() => {});
  };
  $('day-prev').onclick = () => shift(false);
  $('day-next').onclick = () => shift(true);
  $('periods').querySelectorAll('button').forEach((b) => {
    b.onclick = () => {
      $('periods').querySelectorAll('button').forEach((x) => x.classList.toggle('on', x === b));
      state.period = b.dataset.period;
      refreshEnergy().catch(() => {});
    };
  });
  for (const a of document.querySelectorAll('#views a'))
    a.onclick = (ev) => { ev.preventDefault(); showView(a.dataset.view); };
  window.addEventListener('hashchange', () => {
    const before = state.view;
    const asked = readHash().get('site');
    if (asked && asked !== state.site && state.sites.some((s) => s.id === asked)) {
      state.site = asked;
      $('site').value = asked;
      tick(true);
    }
    if (state.view !== before) showView(state.view);
  });
}

const controllable = (c) => c && c.commands && c.commands.length > 0;

async function loadTopology() {
  state.sites = await api('/api/v1/sites');
  state.devices = await api('/api/v1/devices');
  const sel = $('site');
  if (!sel.options.length) {
    sel.innerHTML = state.sites.map((s) => `<option value="${esc(s.id)}">${esc(s.name)}</option>`).join('');
    sel.onchange = () => { state.site = sel.value; state.day = null; writeHash(); tick(true); };
  }
  // The fleet page links a site as /#site=ID.
  const asked = state.asked;
  if (!state.site && asked && state.sites.some((s) => s.id === asked)) state.site = asked;
  state.site = state.site || (state.sites[0] && state.sites[0].id);
  sel.value = state.site;
  // Only this site's devices: a command on the Amsterdam page must not reach the Berlin battery.
  const ids = siteDevices().filter((d) => controllable(d.capabilities)).map((d) => d.id);
  const ctl = $('ctl-device');
  const have = [...ctl.options].map((o) => o.value);
  if (ids.join() !== have.join()) {
    const cur = ctl.value;
    ctl.innerHTML = ids.map((id) => `<option>${esc(id)}</option>`).join('');
    if (ids.includes(cur)) ctl.value = cur;
    renderControls(false);
  }
  const was = state.controllable;
  state.controllable = ids.length > 0;
  $('views').querySelector('[data-view="control"]').hidden = !state.controllable;
  if (was !== state.controllable) showView(state.view === 'control' && !state.controllable ? 'overview' : state.view);
}

// What the shown view needs from the store: read every 30 s, and at once on a change of site,
// view or range.
async function refreshSlow() {
  if (!state.site) return;
  slowAt = Date.now();
  const work = [];
  if (visible('chart-card')) work.push(refreshChart());
  if (visible('today-card')) work.push(refreshToday());
  if (visible('energy-card')) work.push(refreshEnergy());
  if (visible('gaps-card')) work.push(refreshGaps());
  await Promise.all(work);
}

let slowAt = 0;
async function tick(force) {
  try {
    await loadTopology();
    await Promise.all([refreshLive(), refreshHealth(), refreshEvents(), refreshLeases()]);
    if (force || Date.now() - slowAt > 30000) await refreshSlow();
  } catch (e) {
    $('health').textContent = 'unreachable';
    $('health').className = 'badge bad';
  }
}

setupButtons();
showView(state.view);
tick(true);
setInterval(tick, 2000);

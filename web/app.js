// sunbridge dashboard: plain JavaScript, SVG for the power flow and uPlot (web/vendor, bundled)
// for the charts; everything from our own REST API, nothing from the internet.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { site: null, devices: [], sites: [], range: 'today', period: 'day' };
const css = (v) => getComputedStyle(document.documentElement).getPropertyValue(v).trim();
const SERIES = [
  { metric: 'pv.power', label: 'PV', color: '--pv' },
  { metric: 'load.power', label: 'Home', color: '--home' },
  { metric: 'grid.power', label: 'Grid (+import)', color: '--grid' },
  { metric: 'battery.power', label: 'Battery (+discharge)', color: '--bat' },
];
const ENERGY = [
  { metric: 'energy.pv_yield', label: 'PV', color: '--pv' },
  { metric: 'energy.grid_import', label: 'import', color: '--grid' },
  { metric: 'energy.grid_export', label: 'export', color: '--ok' },
  { metric: 'energy.load', label: 'home', color: '--home' },
];

function fmtW(w) {
  if (w === undefined || w === null || Number.isNaN(w)) return '–';
  const a = Math.abs(w);
  return a >= 1000 ? (w / 1000).toFixed(2) + ' kW' : Math.round(w) + ' W';
}
function fmtKWh(wh) { return wh === null || wh === undefined ? '–' : (wh / 1000).toFixed(1) + ' kWh'; }
// Times and days are the site's, whatever zone the browser is in.
const siteInfo = () => state.sites.find((s) => s.id === state.site) || {};
const tz = () => siteInfo().timezone || undefined;
function fmtTime(iso) { return iso ? new Date(iso).toLocaleTimeString([], { timeZone: tz() }) : '–'; }
function fmtDateTime(iso) { return iso ? new Date(iso).toLocaleString([], { timeZone: tz() }) : '–'; }
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
function esc(s) { return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c])); }

async function api(path, opts) {
  const r = await fetch(path, opts);
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error((body.error && body.error.message) || ('HTTP ' + r.status));
  return body;
}
const siteDevices = () => state.devices.filter((d) => d.site === state.site);

// --- power flow -------------------------------------------------------------------------
// The one place the node positions live; the SVG nodes are placed from it at start.
const NODES = { pv: [160, 60], grid: [40, 150], home: [280, 150], bat: [160, 225], ev: [280, 235] };
for (const [name, [x, y]] of Object.entries(NODES)) $('n-' + name).setAttribute('transform', `translate(${x},${y})`);
function line(from, to, watts, color) {
  const [x1, y1] = NODES[from], [x2, y2] = NODES[to];
  const idle = !(watts > 5);
  return `<path class="flowline${idle ? ' idle' : ''}" stroke="${color}" d="M${x1},${y1} L${x2},${y2}"/>`;
}
function renderFlow(f) {
  const pv = f['pv.power'] || 0, load = f['load.power'] || 0;
  const grid = f['grid.power'] || 0, bat = f['battery.power'] || 0;
  // One decimal in the circles: "-3.7 kW" fits, "-3.71 kW" touches the edge.
  const short = (w) => (Math.abs(w) >= 1000 ? (w / 1000).toFixed(1) + ' kW' : fmtW(w));
  $('v-pv').textContent = short(pv);
  $('v-home').textContent = short(load);
  $('v-grid').textContent = short(grid);
  $('v-bat').textContent = short(bat);
  // An EV charger, where the site has one: fed from the home's supply (its power is part of it).
  const hasEv = 'ev.power' in f;
  $('n-ev').style.display = hasEv ? '' : 'none';
  if (hasEv) $('v-ev').textContent = short(f['ev.power']);
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
  let soc = [], newest = null;
  const rows = live.devices.filter((d) => d.site === state.site).map((d) => {
    const v = d.values || {};
    if (v['battery.soc']) soc.push(v['battery.soc'].value);
    if (d.last_success && (!newest || d.last_success > newest)) newest = d.last_success;
    const cells = Object.keys(v).filter((k) => !k.startsWith('vendor.')).sort().map((k) =>
      `<tr><td>${esc(k)}</td><td>${esc(Math.round(v[k].value * 100) / 100)} ${esc(v[k].unit)}</td></tr>`).join('');
    return `<details><summary class="small">${esc(d.device)} ${d.online ? '' : '<span class="offline">offline</span>'}</summary><table>${cells}</table></details>`;
  });
  $('devices').innerHTML = rows.join('') || '<p class="muted">no devices yet</p>';
  $('v-soc').textContent = soc.length ? Math.round(soc.reduce((a, b) => a + b) / soc.length) + ' %' : '–';
  $('flow-age').textContent = newest ? 'at ' + fmtTime(newest) : '';
}

// --- charts -----------------------------------------------------------------------------
const charts = {};
function chartWidth(el) { return Math.max(260, Math.round(el.clientWidth || 600)); }
function makeChart(key, el, opts, data) {
  if (charts[key]) charts[key].destroy();
  charts[key] = new uPlot({ width: chartWidth(el), height: 220, ...opts }, data, el);
}
window.addEventListener('resize', () => {
  if (charts.power) charts.power.setSize({ width: chartWidth($('chart')), height: 220 });
});
const axis = (values, size) => {
  const a = { stroke: css('--muted'), grid: { stroke: '#2a333d' }, ticks: { stroke: '#2a333d' } };
  if (values) a.values = values;
  if (size) a.size = size;  // an explicit undefined would hide the axis
  return a;
};

function rangeOf(name) {
  const to = new Date();
  if (name === 'today') return [siteMidnight(to), to];
  const hours = { '24h': 24, '7d': 24 * 7, '30d': 24 * 30 }[name];
  return [new Date(to - hours * 3600000), to];
}

async function refreshChart() {
  const dev = siteDevices();
  let [from, to] = rangeOf(state.range);
  // Up to a day: minute buckets from the samples; longer: whole hours from an hour boundary,
  // which the store answers from its hourly rollups.
  const long = to - from > 86400000 * 1.5;
  const step = long ? 3600 * Math.max(1, Math.ceil((to - from) / 3600000 / 400))
                    : Math.max(60, Math.ceil((to - from) / 1000 / 500));
  if (long) {  // both ends on hour boundaries: the rollups serve whole hours only
    from = new Date(Math.floor(from / 3600000) * 3600000);
    to = new Date(Math.ceil(to / 3600000) * 3600000);
  }
  const buckets = new Map();  // time -> [values per series]
  await Promise.all(SERIES.map(async (s, i) => {
    await Promise.all(dev.map(async (d) => {
      const q = `/api/v1/devices/${encodeURIComponent(d.id)}/history?metric=${s.metric}` +
                `&from=${from.toISOString()}&to=${to.toISOString()}&step=${step}s`;
      const h = await api(q).catch(() => null);
      if (!h) return;
      for (const p of h.points) {
        const row = buckets.get(p[0]) || SERIES.map(() => null);
        row[i] = (row[i] || 0) + p[1];
        buckets.set(p[0], row);
      }
    }));
  }));
  const times = [...buckets.keys()].sort((a, b) => a - b);
  const data = [times.map((t) => t / 1000), ...SERIES.map((_, i) => times.map((t) => buckets.get(t)[i]))];
  // Holes of the site's devices in the range: the part backfill could not fill is shaded.
  const ids = new Set(dev.map((d) => d.id));
  const holes = (await api(`/api/v1/gaps?from=${from.toISOString()}&to=${to.toISOString()}&limit=500`).catch(() => []))
    .filter((g) => g.metric === null && ids.has(g.device) && g.status !== 'filled');
  makeChart('power', $('chart'), {
    hooks: { drawAxes: [(u) => {
      const { ctx, bbox } = u;
      ctx.save();
      ctx.fillStyle = 'rgba(255, 92, 122, 0.12)';
      for (const g of holes) {
        const x0 = u.valToPos(Date.parse(g.from) / 1000, 'x', true);
        const x1 = u.valToPos(Date.parse(g.to) / 1000, 'x', true);
        const l = Math.max(bbox.left, x0), r = Math.min(bbox.left + bbox.width, x1);
        if (r > l) ctx.fillRect(l, bbox.top, r - l, bbox.height);
      }
      ctx.restore();
    }] },
    series: [{}, ...SERIES.map((s) => ({ label: s.label, stroke: css(s.color), width: 1.5, value: (u, v) => fmtW(v) }))],
    axes: [axis(), axis((u, vals) => vals.map(fmtW), 72)],
    scales: { x: { time: true, range: [from / 1000, to / 1000] } },
    tzDate: (ts) => (tz() ? uPlot.tzDate(new Date(ts * 1e3), tz()) : new Date(ts * 1e3)),
  }, data);
  $('chart-range').textContent = `${fmtDateTime(from)} – now · ${step} s buckets`;
}

async function refreshEnergy() {
  if (!state.site) return;
  const e = await api(`/api/v1/sites/${encodeURIComponent(state.site)}/energy?period=${state.period}`);
  const rows = e.rows;
  // A row starts at the site's midnight (23:00 UTC for Berlin): it is labelled in the site's zone.
  const label = (r) => state.period === 'day'
    ? new Date(r.start).toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'numeric', timeZone: e.timezone })
    : new Date(r.start).toLocaleDateString(undefined, { month: 'short', year: 'numeric', timeZone: e.timezone });
  $('energy').querySelector('tbody').innerHTML = rows.slice().reverse().map((r) =>
    `<tr><td>${esc(label(r))}${r.complete ? '' : ' <span class="muted" title="counted from what sunbridge has stored">*</span>'}</td>` +
    ENERGY.map((s) => `<td>${fmtKWh(r[s.metric])}</td>`).join('') + '</tr>').join('');
  const none = rows.every((r) => ENERGY.every((s) => r[s.metric] === null));
  $('energy-note').textContent = none
    ? 'no device of this site reports energy counters'
    : `${e.timezone} · * not a whole ${state.period} of data`;
  drawBars($('energy-chart'), rows.map(label), ENERGY.map((s) => ({
    color: css(s.color), label: s.label, values: rows.map((r) => r[s.metric]) })));
}

// Grouped bars, one group a period, in the element's own pixel width.
function drawBars(el, labels, series) {
  const W = chartWidth(el), H = 200, L = 48, B = 20, T = 8;
  let hi = 1000;
  for (const s of series) for (const v of s.values) if (v !== null) hi = Math.max(hi, v);
  const slot = (W - L) / Math.max(1, labels.length), bw = slot * 0.8 / series.length;
  const y = (v) => T + (1 - v / hi) * (H - T - B);
  let svg = '';
  for (let k = 0; k <= 4; k++) {
    const v = hi * k / 4;
    svg += `<line x1="${L}" x2="${W}" y1="${y(v)}" y2="${y(v)}" stroke="#2a333d"/>` +
           `<text x="${L - 4}" y="${y(v) + 4}" fill="#8a96a3" font-size="10" text-anchor="end">${(v / 1000).toFixed(v < 10000 ? 1 : 0)}</text>`;
  }
  const every = Math.ceil(labels.length / Math.max(1, Math.floor((W - L) / 70)));
  labels.forEach((lab, i) => {
    const x0 = L + i * slot + slot * 0.1;
    series.forEach((s, k) => {
      const v = s.values[i];
      if (v === null || v === undefined) return;
      svg += `<rect x="${(x0 + k * bw).toFixed(1)}" y="${y(v).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" ` +
             `height="${(y(0) - y(v)).toFixed(1)}" fill="${s.color}"><title>${esc(lab)} ${esc(s.label)}: ${fmtKWh(v)}</title></rect>`;
    });
    if (i % every === 0)
      svg += `<text x="${(L + (i + 0.5) * slot).toFixed(1)}" y="${H - 4}" fill="#8a96a3" font-size="10" text-anchor="middle">${esc(lab)}</text>`;
  });
  el.innerHTML = `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="energy per period">${svg}</svg>` +
    `<div class="legend">${series.map((s) => `<span style="color:${s.color}">${esc(s.label)}</span>`).join('')}</div>`;
}

// --- health, events ---------------------------------------------------------------------
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
      `<td>${Math.round(c.last_latency_ms)} ms</td><td title="${b ? 'resets ' + esc(fmtDateTime(b.resets_at)) : ''}">${budget}</td></tr>`;
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

function fmtSpan(s) {
  const m = Math.round(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min` : `${m} min`;
}

async function refreshGaps() {
  const ids = new Set(siteDevices().map((d) => d.id));
  const gaps = (await api('/api/v1/gaps?limit=200')).filter((g) => g.metric === null && ids.has(g.device));
  $('gaps').innerHTML = gaps.slice(0, 20).map((g) =>
    `<li data-status="${esc(g.status)}"><span class="badge ${g.status === 'filled' ? 'ok' : g.status === 'open' ? '' : 'bad'}">${esc(g.status)}</span> ` +
    `${esc(g.device)} <span class="muted">${esc(fmtDateTime(g.from))} · ${fmtSpan(g.seconds)}</span>` +
    `<div class="small muted">${esc(g.reason)}${g.detail ? ' — ' + esc(g.detail) : ''}</div></li>`).join('') ||
    '<li class="muted">none: history is complete</li>';
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

// Commands that hold for a while on the chosen device, with when they end.
async function refreshLeases() {
  const device = $('ctl-device').value;
  const leases = (await api('/api/v1/leases?active=true')).filter((l) => l.device === device);
  $('ctl-leases').innerHTML = leases.map((l) =>
    `<li>${esc(l.command)} ${esc(l.argument || l.value)} by ${esc(l.requested_by)} until ${esc(fmtTime(l.until))}</li>`).join('');
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
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
  $('ctl-token').value = fromHash || localStorage.getItem('sunbridge.token') || '';
  $('ctl-device').onchange = () => renderControls(false);
  const group = (id, key, after) => $(id).querySelectorAll('button').forEach((b) => {
    b.onclick = () => {
      $(id).querySelectorAll('button').forEach((x) => x.classList.toggle('on', x === b));
      state[key] = b.dataset[key];
      after().catch(() => {});
    };
  });
  group('ranges', 'range', refreshChart);
  group('periods', 'period', refreshEnergy);
}

const controllable = (c) => c && c.commands && c.commands.length > 0;

async function loadTopology() {
  state.sites = await api('/api/v1/sites');
  state.devices = await api('/api/v1/devices');
  const sel = $('site');
  if (!sel.options.length) {
    sel.innerHTML = state.sites.map((s) => `<option value="${esc(s.id)}">${esc(s.name)}</option>`).join('');
    sel.onchange = () => { state.site = sel.value; tick(true); };
  }
  // The fleet page links a site as /#site=ID.
  const asked = new URLSearchParams(location.hash.slice(1)).get('site');
  if (!state.site && asked && state.sites.some((s) => s.id === asked)) {
    state.site = asked;
    sel.value = asked;
  }
  state.site = state.site || (state.sites[0] && state.sites[0].id);
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
  $('control-card').hidden = ids.length === 0;
}

let slowAt = 0;
async function tick(force) {
  try {
    await loadTopology();
    await Promise.all([refreshLive(), refreshHealth(), refreshEvents(), refreshLeases()]);
    if (force || Date.now() - slowAt > 30000) {
      slowAt = Date.now();
      await Promise.all([refreshChart(), refreshEnergy(), refreshGaps()]);
    }
  } catch (e) {
    $('health').textContent = 'unreachable';
    $('health').className = 'badge bad';
  }
}

setupButtons();
tick(true);
setInterval(tick, 2000);

// sunbridge dashboard: plain JavaScript and SVG, everything from our own REST API.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { site: null, devices: [], sites: [] };
const SERIES = [
  { metric: 'pv.power', label: 'PV', color: 'var(--pv)' },
  { metric: 'load.power', label: 'Home', color: 'var(--home)' },
  { metric: 'grid.power', label: 'Grid (+import)', color: 'var(--grid)' },
  { metric: 'battery.power', label: 'Battery (+discharge)', color: 'var(--bat)' },
];

function fmtW(w) {
  if (w === undefined || w === null || Number.isNaN(w)) return '–';
  const a = Math.abs(w);
  return a >= 1000 ? (w / 1000).toFixed(2) + ' kW' : Math.round(w) + ' W';
}
function fmtTime(iso) { return iso ? new Date(iso).toLocaleTimeString() : '–'; }
function esc(s) { return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c])); }

async function api(path, opts) {
  const r = await fetch(path, opts);
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error((body.error && body.error.message) || ('HTTP ' + r.status));
  return body;
}

// --- power flow -------------------------------------------------------------------------
// The one place the node positions live; the SVG nodes are placed from it at start.
const NODES = { pv: [160, 60], grid: [40, 150], home: [280, 150], bat: [160, 225] };
for (const [name, [x, y]] of Object.entries(NODES)) $('n-' + name).setAttribute('transform', `translate(${x},${y})`);
function line(from, to, watts, color) {
  const [x1, y1] = NODES[from], [x2, y2] = NODES[to];
  const idle = !(watts > 5);
  return `<path class="flowline${idle ? ' idle' : ''}" stroke="${color}" d="M${x1},${y1} L${x2},${y2}"/>`;
}
function renderFlow(f) {
  const pv = f['pv.power'] || 0, load = f['load.power'] || 0;
  const grid = f['grid.power'] || 0, bat = f['battery.power'] || 0;
  $('v-pv').textContent = fmtW(pv);
  $('v-home').textContent = fmtW(load);
  $('v-grid').textContent = fmtW(grid);
  $('v-bat').textContent = fmtW(bat);
  // Direction: grid import flows grid->home, export home->grid; battery discharge bat->home.
  $('lines').innerHTML =
    line('pv', 'home', pv, 'var(--pv)') +
    (grid >= 0 ? line('grid', 'home', grid, 'var(--grid)') : line('home', 'grid', -grid, 'var(--grid)')) +
    (bat >= 0 ? line('bat', 'home', bat, 'var(--bat)') : line('home', 'bat', -bat, 'var(--bat)'));
}

async function refreshLive() {
  const live = await api('/api/v1/live');
  const flows = (live.sites && live.sites[state.site]) || {};
  renderFlow(flows);
  let soc = null, newest = null;
  const rows = live.devices.filter((d) => d.site === state.site).map((d) => {
    const v = d.values || {};
    if (v['battery.soc']) soc = v['battery.soc'].value;
    if (d.last_success && (!newest || d.last_success > newest)) newest = d.last_success;
    const cells = Object.keys(v).sort().map((k) =>
      `<tr><td>${esc(k)}</td><td>${esc(Math.round(v[k].value * 100) / 100)} ${esc(v[k].unit)}</td></tr>`).join('');
    return `<h3 class="small">${esc(d.device)} ${d.online ? '' : '<span class="offline">offline</span>'}</h3><table>${cells}</table>`;
  });
  $('devices').innerHTML = rows.join('') || '<p class="muted">no devices yet</p>';
  $('v-soc').textContent = soc === null ? '–' : Math.round(soc) + ' %';
  $('flow-age').textContent = newest ? 'at ' + fmtTime(newest) : '';
}

// --- chart ------------------------------------------------------------------------------
function startOfToday() { const d = new Date(); d.setHours(0, 0, 0, 0); return d; }

async function refreshChart() {
  const dev = state.devices.filter((d) => d.site === state.site);
  if (!dev.length) return;
  const from = startOfToday(), to = new Date();
  const span = to - from;
  const step = Math.max(60, Math.ceil(span / 1000 / 600));  // at most ~600 buckets
  const series = [];
  for (const s of SERIES) {
    const sum = new Map();
    for (const d of dev) {
      const q = `/api/v1/devices/${encodeURIComponent(d.id)}/history?metric=${s.metric}` +
                `&from=${from.toISOString()}&to=${to.toISOString()}&step=${step}s`;
      const h = await api(q).catch(() => null);
      if (!h) continue;
      for (const p of h.points) sum.set(p[0], (sum.get(p[0]) || 0) + p[1]);
    }
    series.push({ ...s, points: [...sum.entries()].sort((a, b) => a[0] - b[0]) });
  }
  drawChart(series, from.getTime(), from.getTime() + 86400000);
  $('chart-range').textContent = `${from.toLocaleDateString()} · ${step}s buckets`;
}

function drawChart(series, t0, t1) {
  // Draw in the element's own pixel width: a stretched viewBox squeezes the axis text.
  const el = $('chart');
  const W = Math.max(280, Math.round(el.clientWidth || 600)), H = 240, L = 44, B = 20, T = 8;
  el.setAttribute('viewBox', `0 0 ${W} ${H}`);
  let lo = 0, hi = 100;
  for (const s of series) for (const [, v] of s.points) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  const x = (t) => L + (t - t0) / (t1 - t0) * (W - L - 4);
  const y = (v) => T + (hi - v) / (hi - lo) * (H - T - B);
  let svg = '';
  const ticks = 4;
  for (let i = 0; i <= ticks; i++) {
    const v = lo + (hi - lo) * i / ticks;
    svg += `<line x1="${L}" x2="${W}" y1="${y(v)}" y2="${y(v)}" stroke="#2a333d"/>` +
           `<text x="${L - 4}" y="${y(v) + 4}" fill="#8a96a3" font-size="10" text-anchor="end">${fmtW(v)}</text>`;
  }
  const every = W < 450 ? 6 : 3;  // fewer hour labels on a phone
  for (let h = 0; h <= 24; h += every) {
    const t = t0 + h * 3600000;
    const anchor = h === 24 ? 'end' : 'middle';
    svg += `<text x="${x(t)}" y="${H - 4}" fill="#8a96a3" font-size="10" text-anchor="${anchor}">${h}:00</text>`;
  }
  for (const s of series) {
    if (!s.points.length) continue;
    const d = s.points.map(([t, v], i) => `${i ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join('');
    svg += `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`;
    if (s.points.length === 1) {  // a lone bucket (just after start) is a dot, not nothing
      const [t, v] = s.points[0];
      svg += `<circle cx="${x(t)}" cy="${y(v)}" r="2.5" fill="${s.color}"/>`;
    }
  }
  $('chart').innerHTML = svg;
  $('legend').innerHTML = series.map((s) => `<span style="color:${s.color}">${esc(s.label)}</span>`).join('');
}

// --- health, events ---------------------------------------------------------------------
async function refreshHealth() {
  const h = await api('/api/v1/health');
  const badge = $('health');
  badge.textContent = h.status;
  badge.className = 'badge ' + (h.status === 'ok' ? 'ok' : 'bad');
  $('clock').textContent = fmtTime(h.time);
  $('connections').querySelector('tbody').innerHTML = h.connections.map((c) =>
    `<tr><td>${esc(c.name)}</td><td>${esc(c.vendor)}</td>` +
    `<td class="${c.state === 'ok' ? 'ok-text' : 'bad-text'}" title="${esc(c.last_error)}">${esc(c.state)}</td>` +
    `<td>${fmtTime(c.last_success)}</td><td>${c.polls} / ${c.failures}</td></tr>`).join('');
}

async function refreshEvents() {
  const [events, commands] = await Promise.all([api('/api/v1/events?limit=30'), api('/api/v1/commands?limit=10')]);
  const items = events.map((e) => ({ t: e.time, html: `<span class="sev-${esc(e.severity)}">${esc(e.code)}</span> ${esc(e.message)}` }))
    .concat(commands.map((c) => ({ t: c.requested_at, html: `<b>${esc(c.command)} ${esc(c.value)}</b> → ${esc(c.status)} <span class="muted">${esc(c.detail)}</span>` })));
  items.sort((a, b) => (a.t < b.t ? 1 : -1));
  $('events').innerHTML = items.map((i) => `<li><span class="muted">${fmtTime(i.t)}</span> ${i.html}</li>`).join('') ||
    '<li class="muted">nothing yet</li>';
}

// --- control ----------------------------------------------------------------------------
async function sendPower(watts) {
  const device = $('ctl-device').value;
  const token = $('ctl-token').value.trim();
  localStorage.setItem('sunbridge.token', token);
  const out = $('ctl-result');
  if (!device) { out.textContent = 'no controllable device'; return; }
  document.querySelectorAll('#control-card button').forEach((b) => { b.disabled = true; });
  out.textContent = `sending ${fmtW(watts)} to ${device}…`;
  out.className = 'small';
  try {
    const r = await api(`/api/v1/devices/${encodeURIComponent(device)}/commands`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + token },
      body: JSON.stringify({ command: 'battery-power', value: watts }),
    });
    out.textContent = `${r.status}: ${r.detail}`;
    out.className = 'small ' + (r.status === 'verified' ? 'ok-text' : 'bad-text');
  } catch (e) {
    out.textContent = 'refused: ' + e.message;
    out.className = 'small bad-text';
  } finally {
    document.querySelectorAll('#control-card button').forEach((b) => { b.disabled = false; });
    refreshLive().catch(() => {});
    refreshEvents().catch(() => {});
  }
}

function setupControls() {
  const w = () => Math.abs(Number($('ctl-watts').value) || 0);
  $('ctl-charge').onclick = () => sendPower(-w());
  $('ctl-discharge').onclick = () => sendPower(w());
  $('ctl-set').onclick = () => sendPower(Number($('ctl-watts').value) || 0);
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
  $('ctl-token').value = fromHash || localStorage.getItem('sunbridge.token') || '';
}

async function loadTopology() {
  state.sites = await api('/api/v1/sites');
  state.devices = await api('/api/v1/devices');
  const sel = $('site');
  if (!sel.options.length) {
    sel.innerHTML = state.sites.map((s) => `<option value="${esc(s.id)}">${esc(s.name)}</option>`).join('');
    sel.onchange = () => { state.site = sel.value; tick(true); };
  }
  state.site = state.site || (state.sites[0] && state.sites[0].id);
  const ctl = state.devices.filter((d) => d.capabilities && d.capabilities.battery_power_setpoint);
  const cur = $('ctl-device').value;
  $('ctl-device').innerHTML = ctl.map((d) => `<option>${esc(d.id)}</option>`).join('');
  if (cur) $('ctl-device').value = cur;
}

let chartAt = 0;
async function tick(force) {
  try {
    await loadTopology();
    await Promise.all([refreshLive(), refreshHealth(), refreshEvents()]);
    if (force || Date.now() - chartAt > 30000) { chartAt = Date.now(); await refreshChart(); }
  } catch (e) {
    $('health').textContent = 'unreachable';
    $('health').className = 'badge bad';
  }
}

setupControls();
tick(true);
setInterval(tick, 2000);

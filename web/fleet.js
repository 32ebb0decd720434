// sunbridge fleet page: one page of sites at a time from GET /api/v1/fleet/sites (filtered,
// sorted and paged on the server), refreshed every 5 s; a site opens in the one-site dashboard.
'use strict';

const $ = (id) => document.getElementById(id);
const view = { q: '', state: '', sort: 'site', order: 'asc', offset: 0, limit: 50, total: 0 };

function esc(s) { return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c])); }
function fmtW(w) {
  if (w === null || w === undefined) return '–';
  const r = Math.round(w);
  if (r === 0) return '0 W';
  return Math.abs(r) >= 1000 ? (r / 1000).toFixed(2) + ' kW' : r + ' W';
}
function fmtKWh(wh) { return wh === null || wh === undefined ? '–' : (wh / 1000).toFixed(1) + ' kWh'; }

async function load() {
  const p = new URLSearchParams({ sort: view.sort, order: view.order, offset: view.offset, limit: view.limit });
  if (view.q) p.set('q', view.q);
  if (view.state) p.set('state', view.state);
  const r = await fetch('/api/v1/fleet/sites?' + p);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error ? body.error.message : r.statusText);
  view.total = body.total;
  const states = Object.entries(body.states).map(([k, n]) => `${n} ${k}`).join(' · ');
  const bad = (body.states.failing || 0) + (body.states.unheld || 0);
  $('summary').textContent = states || 'no sites';
  $('summary').className = 'badge ' + (bad ? 'bad' : 'ok');
  $('sites').tBodies[0].innerHTML = body.sites.map((s) => {
    const today = s.today && s.today['energy.pv_yield'];
    const bat = s.battery_w === null ? '–' : fmtW(s.battery_w);
    return `<tr class="state-${esc(s.state)}">
      <td><a href="/#site=${encodeURIComponent(s.site)}">${esc(s.name || s.site)}</a><br><span class="muted small">${esc(s.site)}</span></td>
      <td>${esc(s.state)}</td>
      <td>${fmtW(s.pv_w)}</td>
      <td>${bat}</td>
      <td>${s.soc === null ? '–' : Math.round(s.soc) + ' %'}</td>
      <td>${fmtKWh(today)}</td>
      <td>${s.alarms ? `<span class="bad-text">${s.alarms}</span>` : '0'}${s.devices_offline ? ` <span class="muted small">(${s.devices_offline} offline)</span>` : ''}</td>
      <td class="small muted">${esc(s.workers.join(', ') || '–')}</td></tr>`;
  }).join('');
  const last = Math.min(view.offset + view.limit, view.total);
  $('range').textContent = view.total ? `${view.offset + 1}–${last} of ${view.total}` : 'no site matches';
  $('prev').disabled = view.offset === 0;
  $('next').disabled = last >= view.total;
  $('clock').textContent = new Date().toLocaleTimeString();
}

async function refresh() {
  try { await load(); } catch (e) { $('summary').textContent = 'unreachable: ' + e.message; $('summary').className = 'badge bad'; }
}

let typing = 0;
$('q').oninput = () => {
  clearTimeout(typing);
  typing = setTimeout(() => { view.q = $('q').value.trim(); view.offset = 0; refresh(); }, 250);
};
$('state').onchange = () => { view.state = $('state').value; view.offset = 0; refresh(); };
document.querySelectorAll('th button').forEach((b) => {
  b.onclick = () => {
    const key = b.dataset.sort;
    // The same column again flips the order; a new one starts with the sites to look at first
    // (names A to Z, the rest largest or worst first).
    if (view.sort === key) view.order = view.order === 'asc' ? 'desc' : 'asc';
    else view.order = key === 'site' ? 'asc' : 'desc';
    view.sort = key;
    view.offset = 0;
    document.querySelectorAll('th button').forEach((x) => x.classList.toggle('on', x === b));
    refresh();
  };
});
$('prev').onclick = () => { view.offset = Math.max(0, view.offset - view.limit); refresh(); };
$('next').onclick = () => { view.offset += view.limit; refresh(); };

refresh();
setInterval(refresh, 5000);

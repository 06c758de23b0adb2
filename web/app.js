/* tightrope dashboard: a hash-routed single page over the JSON API (docs/api.md).
 * No framework: an el() helper builds DOM nodes (text always via textContent, so names from
 * models and plans can never inject markup), uPlot draws the charts. */
'use strict';

const state = { token: null, charts: [], visit: 0 };

/* The token arrives once in the URL fragment (#token=...) printed by `tightrope serve`; keep it
 * for this browser session and take it out of the address bar. */
(function takeToken() {
  const m = location.hash.match(/token=([0-9a-f]{64})/);
  if (m) {
    sessionStorage.setItem('tightrope-token', m[1]);
    history.replaceState(null, '', location.pathname + '#overview');
  }
  state.token = sessionStorage.getItem('tightrope-token');
})();

function el(tag, attrs, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') n.className = v;
    else if (k === 'style') n.style.cssText = v; // CSSOM, which the CSP allows (attributes it does not)
    else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) n.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    n.appendChild(typeof kid === 'object' ? kid : document.createTextNode(String(kid)));
  }
  return n;
}

function status(msg, isError) {
  const s = document.getElementById('status');
  s.textContent = msg || '';
  s.className = isError ? 'error' : '';
}

async function api(method, path, body, raw) {
  const headers = {};
  if (state.token) headers['X-Tightrope-Token'] = state.token;
  let payload;
  if (body !== undefined) {
    if (raw) { payload = body; headers['Content-Type'] = 'text/csv'; }
    else { payload = JSON.stringify(body); headers['Content-Type'] = 'application/json'; }
  }
  const r = await fetch(path, { method, headers, body: payload });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) {
    const msg = (data.error && data.error.message) || r.statusText;
    throw new Error(r.status === 401 || r.status === 403
      ? msg + ' — open the URL with #token=… that `tightrope serve` printed' : msg);
  }
  return data;
}

function fmt(v, digits) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (typeof v !== 'number') return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
  return v.toLocaleString(undefined, { maximumFractionDigits: digits === undefined ? 2 : digits });
}

/* Axis numbers: 1.2M, 350k, 0.25. */
function short(v) {
  const a = Math.abs(v);
  if (a >= 1e9) return (v / 1e9).toFixed(1) + 'G';
  if (a >= 1e6) return (v / 1e6).toFixed(1) + 'M';
  if (a >= 1e4) return (v / 1e3).toFixed(0) + 'k';
  return +v.toPrecision(3) + '';
}

function clearCharts() {
  for (const c of state.charts) c.destroy();
  state.charts = [];
}

function chartWidth(host) {
  return Math.max(280, Math.min(host.clientWidth || 800, 1150));
}

/* A line chart: series = [{label, values, color, dash}] over x. */
function lineChart(host, title, x, series, opts) {
  const o = {
    title, width: chartWidth(host), height: 300,
    scales: { x: { time: false } },
    axes: [{ label: (opts && opts.xlabel) || 'Time' },
           { size: 70, values: (u, ticks) => ticks.map(short) }],
    series: [{ label: 'Time' }].concat(series.map(s => ({
      label: s.label, stroke: s.color || '#1f6feb', width: s.width || 2, dash: s.dash,
      fill: s.fill, points: { show: !!s.points },
    }))),
    bands: (opts && opts.bands) || [],
  };
  const u = new uPlot(o, [x].concat(series.map(s => s.values)), host);
  host.setAttribute('role', 'img');
  host.setAttribute('aria-label', title + ': ' + series.map(s => s.label).join(', '));
  state.charts.push(u);
  return u;
}

/* The percentile bands of variable `name` in a Monte Carlo result (POST /api/scenarios). */
function bandsOf(r, name) {
  const v = (r.variables || []).find(x => x.name === name);
  if (!v) throw new Error('no Monte Carlo result for ' + name);
  return { time: r.times, p5: v.p5, p25: v.p25, p50: v.p50, p75: v.p75, p95: v.p95 };
}

/* Fan chart from percentile bands {time, p5, p25, p50, p75, p95}. */
function fanChart(host, title, b) {
  const series = [
    { label: 'p5', values: b.p5, color: '#9ec5fe', width: 1 },
    { label: 'p95', values: b.p95, color: '#9ec5fe', width: 1 },
    { label: 'p25', values: b.p25, color: '#4d8df7', width: 1 },
    { label: 'p75', values: b.p75, color: '#4d8df7', width: 1 },
    { label: 'median', values: b.p50, color: '#0b3d91', width: 2 },
  ];
  return lineChart(host, title, b.time, series, {
    bands: [{ series: [2, 1], fill: 'rgba(31,111,235,0.12)' }, { series: [4, 3], fill: 'rgba(31,111,235,0.25)' }],
  });
}

function heading(text) {
  return el('h2', { id: 'page-title' }, text);
}

/* ---- pages ------------------------------------------------------------------------------ */

async function pageOverview(root) {
  root.append(heading('Overview'));
  const a = await api('GET', '/api/assess');
  root.append(el('div', { class: 'card' },
    el('div', { class: 'muted' }, 'Strategic Balance Index'),
    el('div', { class: 'big', 'data-testid': 'sbi' }, fmt(a.sbi, 3)),
    el('div', { class: 'muted' }, a.company ? a.company + ' · ' + (a.sector || '') : '')));
  const grid = el('div', { class: 'grid' });
  for (const t of a.tensions || []) {
    const pa = Math.max(0, Math.min(1, t.pole_a.score)), pb = Math.max(0, Math.min(1, t.pole_b.score));
    const total = pa + pb || 1;
    grid.append(el('div', { class: 'card tension' },
      el('h3', {}, t.name),
      el('div', { class: 'poles' }, el('span', {}, t.pole_a.name + ' ' + fmt(pa)), el('span', {}, fmt(pb) + ' ' + t.pole_b.name)),
      el('div', { class: 'bar', role: 'img', 'aria-label': `${t.pole_a.name} ${fmt(pa)}, ${t.pole_b.name} ${fmt(pb)}` },
        el('div', { class: 'pa', style: `width:${100 * pa / total}%` }),
        el('div', { class: 'pb', style: `width:${100 * pb / total}%` })),
      el('p', {}, 'Balanced ', el('strong', {}, fmt(t.balanced, 3)), ' · combined ', el('strong', {}, fmt(t.combined, 3))),
      el('p', { class: 'muted' }, t.over_served ? 'Over-served: ' + t.over_served : 'In balance')));
  }
  if (a.warning) root.append(el('p', { class: 'warning', role: 'alert' }, 'Warning: ' + a.warning));
  root.append(el('h3', {}, 'Tensions'), grid);
  const alerts = a.alerts || [];
  root.append(el('h3', {}, 'Active alerts'),
    alerts.length ? el('ul', {}, alerts.map(x => el('li', {}, `${x.kpi}: ${x.rule} at ${x.period} — ${x.message}`)))
      : el('p', { class: 'muted' }, 'No active alerts.'));
}

async function pageScenarios(root) {
  root.append(heading('Scenarios'));
  const plan = await api('GET', '/api/plan').catch(() => ({}));
  const model = await api('GET', '/api/model');
  const vars = model.variables.filter(v => !v.hidden).map(v => v.name);
  const pick = el('select', { id: 'sc-var' }, vars.map(v => el('option', { value: v }, v)));
  const cash = vars.find(v => /^cash$/i.test(v)) || vars.find(v => /cash/i.test(v));
  if (cash) pick.value = cash;
  const scen = el('select', { id: 'sc-name' }, el('option', { value: '' }, 'baseline'),
    (plan.scenarios || []).map(s => el('option', { value: s.name }, s.name)));
  const runs = el('input', { id: 'sc-runs', type: 'number', min: 10, max: 100000, value: 1000 });
  const out = el('div', { id: 'sc-out' });
  const go = el('button', { id: 'sc-go', type: 'button', onclick: () => runScenario(pick.value, scen.value, +runs.value, out) }, 'Run');
  root.append(el('div', { class: 'grid' },
    el('div', {}, el('label', { for: 'sc-var' }, 'Variable'), pick),
    el('div', {}, el('label', { for: 'sc-name' }, 'Scenario'), scen),
    el('div', {}, el('label', { for: 'sc-runs' }, 'Runs'), runs)), el('p', {}, go), out);
}

async function runScenario(v, scenario, runs, out) {
  clearCharts();
  out.replaceChildren(el('p', {}, 'Running…'));
  const job = await api('POST', '/api/scenarios', { runs, scenario: scenario || undefined, vars: [v] });
  let d;
  for (;;) {
    d = await api('GET', '/api/jobs/' + job.id);
    if (d.state === 'done' || d.state === 'failed' || d.state === 'cancelled') break;
    out.replaceChildren(el('p', {}, `Running… ${Math.round(100 * d.progress)}%`));
    await new Promise(r => setTimeout(r, 150));
  }
  if (d.state !== 'done') throw new Error('scenario job ' + d.state + (d.error ? ': ' + d.error : ''));
  const r = d.result;
  out.replaceChildren();
  const host = el('div', { class: 'chart', 'data-testid': 'fan' });
  out.append(host);
  fanChart(host, `${v} — ${scenario || 'baseline'} (${r.runs} runs)`, bandsOf(r, v));
  for (const w of r.warnings || []) out.append(el('p', { class: 'warning', role: 'alert' }, 'Warning: ' + w));
  const distress = (r.events || []).find(e => /cash/i.test(e.event));
  if (distress)
    out.append(el('p', {}, `Probability of distress (${distress.event} at any time): `,
      el('strong', { 'data-testid': 'distress' }, fmt(100 * distress.p_any_time, 1) + '%')));
  const bars = (r.tornado || []).filter(t => t.output === v || t.variable === v);
  if (bars.length) {
    out.append(el('h3', {}, `Tornado: final ${v}`));
    out.append(el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'Input'), el('th', { class: 'num' }, 'Low'), el('th', { class: 'num' }, 'High'), el('th', { class: 'num' }, 'Swing'))),
      el('tbody', {}, bars.map(t => el('tr', {}, el('td', {}, t.input), el('td', { class: 'num' }, fmt(t.low)), el('td', { class: 'num' }, fmt(t.high)), el('td', { class: 'num' }, fmt(Math.abs(t.high - t.low))))))));
  }
}

async function pageLevers(root) {
  root.append(heading('Levers'));
  const plan = await api('GET', '/api/plan');
  const levers = (plan.tensions || []).filter(t => t.lever);
  if (!levers.length) { root.append(el('p', {}, 'The plan declares no levers.')); return; }
  const model = await api('GET', '/api/model');
  const names = model.variables.filter(v => !v.hidden).map(v => v.name);
  const watch = el('select', { id: 'lv-var' }, names.map(v => el('option', { value: v }, v)));
  const guess = names.find(v => /^revenue$/i.test(v)) || names.find(v => /^cash$/i.test(v)) ||
    names.find(v => /revenue|cash/i.test(v));
  if (guess) watch.value = guess;
  const host = el('div', { class: 'chart', 'data-testid': 'lever-chart' });
  const values = {};
  const controls = levers.map(t => {
    const L = t.lever, id = 'lv-' + t.id;
    values[t.id] = L.value;
    const out = el('output', { for: id }, fmt(L.value));
    const input = el('input', { id, type: 'range', min: L.min, max: L.max, step: (L.max - L.min) / 100, value: L.value,
      'aria-describedby': id + '-desc',
      oninput: e => { values[t.id] = +e.target.value; out.textContent = fmt(+e.target.value); schedule(); } });
    return el('div', { class: 'card' }, el('label', { for: id }, `${t.name}: share to ${t.pole_a.name}`), input, out,
      el('div', { id: id + '-desc', class: 'muted' }, `${L.min}–${L.max}; plan value ${fmt(L.value)}`));
  });
  const save = el('button', { type: 'button', onclick: async () => {
    await api('PUT', '/api/plan/levers', values); status('Lever values saved to the plan.');
  } }, 'Save lever values to the plan');
  root.append(el('div', { class: 'grid' }, controls), el('label', { for: 'lv-var' }, 'Show'), watch, host, save);
  let timer = null, seq = 0;
  function schedule() { clearTimeout(timer); timer = setTimeout(redraw, 60); }
  async function redraw() {
    const my = ++seq;
    const [base, mc] = await Promise.all([
      api('POST', '/api/simulate', { levers: values, vars: [watch.value] }),
      api('POST', '/api/scenarios', { levers: values, vars: [watch.value], runs: 1000, wait: true }),
    ]);
    if (my !== seq) return;
    clearCharts(); host.replaceChildren();
    const b = bandsOf(mc, watch.value), planB = base.plan ? base.plan.variables[watch.value] : null;
    const series = [
      { label: 'p5', values: b.p5, color: '#9ec5fe', width: 1 },
      { label: 'p95', values: b.p95, color: '#9ec5fe', width: 1 },
      { label: 'this setting', values: base.variables[watch.value], color: '#0b3d91', width: 2 },
    ];
    if (planB) series.push({ label: 'current plan', values: planB, color: '#d1242f', dash: [6, 4] });
    lineChart(host, watch.value, base.time, series, { bands: [{ series: [2, 1], fill: 'rgba(31,111,235,0.15)' }] });
    host.dataset.version = String(my);
    const warn = base.warning || (mc.warnings || [])[0];
    status(warn ? 'Warning: ' + warn : '', !!warn);
  }
  watch.addEventListener('change', schedule);
  redraw();
}

function rag(status) {
  return el('span', { class: 'rag ' + status }, status);
}

async function pageScorecard(root) {
  root.append(heading('Scorecard'));
  const s = await api('GET', '/api/scorecard');
  root.append(el('p', {}, 'Total score ', el('strong', { 'data-testid': 'total' }, fmt(s.total, 3))));
  for (const p of s.perspectives || []) {
    root.append(el('h3', {}, `${p.name} — ${fmt(p.score, 3)}`));
    const rows = [];
    for (const o of p.objectives || []) {
      rows.push(el('tr', {}, el('th', { colspan: 5, scope: 'rowgroup' }, `${o.name} (${fmt(o.score, 3)})`)));
      for (const k of o.kpis || [])
        rows.push(el('tr', {}, el('td', {}, el('a', { href: '#kpi/' + encodeURIComponent(k.id) }, k.name)),
          el('td', { class: 'num' }, fmt(k.value)), el('td', { class: 'num' }, fmt(k.target)),
          el('td', { class: 'num' }, fmt(k.score, 3)), el('td', {}, rag(k.status))));
    }
    root.append(el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'KPI'), el('th', { class: 'num' }, 'Latest'),
      el('th', { class: 'num' }, 'Target'), el('th', { class: 'num' }, 'Score'), el('th', {}, 'Status'))), el('tbody', {}, rows)));
  }
  const file = el('input', { id: 'kpi-file', type: 'file', accept: '.csv,text/csv' });
  const up = el('button', { id: 'kpi-upload', type: 'button', onclick: async () => {
    if (!file.files.length) return status('Choose a CSV file first.', true);
    const text = await file.files[0].text();
    const r = await api('POST', '/api/kpis', text, true);
    await route(); // redraw the scorecard with the new observations, then say what happened
    status(`Imported ${r.imported} rows, rejected ${r.rejected}.` +
      (r.problems && r.problems.length ? ' ' + r.problems.slice(0, 3).join('; ') : ''), r.rejected > 0);
  } }, 'Upload');
  root.append(el('h3', {}, 'Import KPI data'), el('label', { for: 'kpi-file' }, 'CSV file (date,kpi,value)'), file, up);
}

async function pageKpi(root, id) {
  root.append(heading('KPIs'));
  const list = await api('GET', '/api/kpis');
  const pick = el('select', { id: 'kpi-pick', onchange: e => { location.hash = 'kpi/' + encodeURIComponent(e.target.value); } },
    (list.kpis || []).map(k => el('option', { value: k.id }, `${k.name || k.id} (${k.count} obs.)`)));
  root.append(el('label', { for: 'kpi-pick' }, 'KPI'), pick);
  id = id || (list.kpis && list.kpis.length ? list.kpis[0].id : null);
  if (!id) { root.append(el('p', {}, 'No KPI observations yet: import a CSV on the Scorecard page.')); return; }
  pick.value = id;
  const k = await api('GET', '/api/kpis/' + encodeURIComponent(id));
  const x = k.values.map((_, i) => i);
  const n = x.length, c = k.limits || {};
  const flat = v => x.map(() => v);
  const host = el('div', { class: 'chart', 'data-testid': 'control-chart' });
  root.append(host);
  const sig = new Set((k.signals || []).map(s => s.index));
  lineChart(host, `${k.name || id}: individuals chart`, x, [
    { label: k.name || id, values: k.values, color: '#0b3d91', points: true },
    { label: 'centre', values: flat(c.centre), color: '#1a7f37', width: 1 },
    { label: 'UNPL', values: flat(c.upper), color: '#cf222e', width: 1, dash: [4, 4] },
    { label: 'LNPL', values: flat(c.lower), color: '#cf222e', width: 1, dash: [4, 4] },
    { label: 'signal', values: k.values.map((v, i) => sig.has(i) ? v : null), color: '#cf222e', width: 0, points: true },
  ], { xlabel: `period (${n} observations from ${k.periods[0]})` });
  root.append(el('h3', {}, 'Signals'), (k.signals || []).length
    ? el('ul', {}, k.signals.map(s => el('li', {}, `${k.periods[s.index]} — ${s.rule}: ${s.message}`)))
    : el('p', { class: 'muted' }, 'No signals.'));
}

async function pageModel(root) {
  root.append(heading('Model'));
  const m = await api('GET', '/api/model');
  const q = el('input', { id: 'model-q', type: 'search', placeholder: 'name, equation or unit' });
  const body = el('tbody');
  function draw() {
    const s = q.value.toLowerCase();
    body.replaceChildren(...m.variables.filter(v => !v.hidden && (!s || (v.name + ' ' + (v.equation || '') + ' ' + (v.units || '')).toLowerCase().includes(s)))
      .map(v => el('tr', {}, el('td', {}, v.name), el('td', {}, v.kind), el('td', { class: 'eqn' }, v.equation || ''),
        el('td', { class: 'hide-narrow' }, v.units || ''), el('td', { class: 'hide-narrow muted' }, v.doc || ''))));
  }
  q.addEventListener('input', draw);
  root.append(el('p', { class: 'muted' }, `${m.name || ''} — ${m.variables.filter(v => !v.hidden).length} variables`),
    el('label', { for: 'model-q' }, 'Search'), q,
    el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'Variable'), el('th', {}, 'Kind'), el('th', {}, 'Equation'),
      el('th', { class: 'hide-narrow' }, 'Units'), el('th', { class: 'hide-narrow' }, 'Documentation'))), body));
  draw();
}

const pages = { overview: pageOverview, scenarios: pageScenarios, levers: pageLevers,
                scorecard: pageScorecard, kpi: pageKpi, model: pageModel };

async function route() {
  const [name, arg] = (location.hash.replace(/^#/, '') || 'overview').split('/');
  const page = pages[name] ? name : 'overview';
  for (const a of document.querySelectorAll('nav a'))
    a.toggleAttribute('aria-current', a.dataset.page === page) && a.setAttribute('aria-current', 'page');
  clearCharts();
  status('');
  // Each visit renders into its own section: a page still awaiting data when the user moves on
  // then fills a detached node instead of mixing into the new page.
  const root = el('section', { id: 'page', 'aria-labelledby': 'page-title' });
  document.getElementById('page').replaceWith(root);
  const mine = ++state.visit;
  try {
    await pages[page](root, arg ? decodeURIComponent(arg) : undefined);
    if (mine === state.visit) document.title = `tightrope — ${page}`;
  } catch (e) {
    if (mine === state.visit) status(e.message, true);
  }
}

window.addEventListener('hashchange', route);
window.addEventListener('unhandledrejection', e => status(e.reason && e.reason.message || String(e.reason), true));
route();

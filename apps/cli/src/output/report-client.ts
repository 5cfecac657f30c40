/**
 * The report page's script (plain ES2017, inlined into the page by
 * report-page.ts after uPlot). It reads the JSON in #report-data and draws:
 * for `run` and `diff` (one or two runs of RunReportData, report-data.ts) the
 * time charts with a shared, synced zoom (drag to select, double-click or
 * "reset" to zoom out, or type a UTC range), decision counts re-bucketed to
 * the zoom, the accounts table with its drill-down; for `backtest` the
 * scatter of realized loss over margin on a time axis and the per-account table.
 *
 * `window.clearsimReport` exposes zoom(from, to), showAccount(id) and the
 * current bucket count for the browser tests.
 *
 * Kept free of backticks and dollar-brace so it can live in a TS template.
 */
export const REPORT_CLIENT = String.raw`
(function () {
'use strict';
var payload = null;
var app = document.getElementById('app');
var SECOND = 1000, MINUTE = 60000, HOUR = 3600000, DAY = 86400000;
var BUCKETS = [SECOND, 5 * SECOND, 15 * SECOND, 30 * SECOND, MINUTE, 2 * MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 30 * DAY, 365 * DAY];
var PALETTE = ['#1c7ed6', '#f76707', '#2b8a3e', '#c2255c', '#7048e8', '#0c8599', '#e67700', '#495057', '#74b816', '#862e9c', '#d6336c', '#1098ad', '#5c940d', '#a61e4d', '#364fc7', '#e8590c', '#087f5b', '#9c36b5', '#c92a2a', '#3b5bdb'];
var STACK = [
  { type: 'MarginCallIssued', label: 'margin calls', color: '#f59f00' },
  { type: 'LiquidationStarted', label: 'liquidations', color: '#e8590c' },
  { type: 'AccountBankrupted', label: 'bankruptcies', color: '#c92a2a' },
  { type: 'PositionAutoDeleveraged', label: 'auto-deleverages', color: '#7048e8' }
];
// one line style per rule set of a diff (at most 8: the diff command refuses more with --report)
var DASH = [null, [6, 4], [2, 3], [10, 3, 2, 3], [14, 4], [1, 4], [8, 2, 2, 2, 2, 2], [4, 4]];
var DASH_NAMES = ['solid', 'dashed', 'dotted', 'dash-dot', 'long dashes', 'fine dots', 'dash-dot-dot', 'short dashes'];

function el(tag, attrs, children) {
  var e = document.createElement(tag);
  if (attrs) for (var k in attrs) {
    if (k === 'text') e.textContent = attrs[k];
    else if (k === 'html') e.innerHTML = attrs[k];
    else if (k === 'onclick') e.addEventListener('click', attrs[k]);
    else e.setAttribute(k, attrs[k]);
  }
  (children || []).forEach(function (c) { if (c != null) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
  return e;
}
function undelta(d) { var out = new Array(d.length), t = 0; for (var i = 0; i < d.length; i++) { t += d[i]; out[i] = t; } return out; }
function iso(ts) { return new Date(ts).toISOString().replace('T', ' ').replace('.000Z', 'Z'); }
function group(text) { var p = String(text).split('.'); return p[0].replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (p[1] ? '.' + p[1] : ''); }
function num(v) { if (v == null || !isFinite(v)) return '—'; var a = Math.abs(v); return a >= 1e6 ? (v / 1e6).toFixed(2) + 'M' : a >= 1e4 ? (v / 1e3).toFixed(1) + 'k' : a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(3) : v.toPrecision(4); }
function duration(ms) {
  if (ms < MINUTE) return Math.round(ms / SECOND) + ' s';
  if (ms < HOUR) return Math.round(ms / MINUTE) + ' min';
  if (ms < DAY) return Math.round(ms / HOUR) + ' h';
  return Math.round(ms / DAY) + ' d';
}
function lowerBound(a, v) { var lo = 0, hi = a.length; while (lo < hi) { var m = (lo + hi) >> 1; if (a[m] < v) lo = m + 1; else hi = m; } return lo; }
function parseUtc(text) {
  var t = String(text).trim();
  if (/^\d{1,2}:\d{2}(:\d{2})?$/.test(t) && zoomDay != null) t = zoomDay + 'T' + t + (t.length <= 5 ? ':00' : '') + 'Z';
  else if (!/[zZ]|[+-]\d{2}:?\d{2}$/.test(t)) t = t.replace(' ', 'T') + 'Z';
  var v = Date.parse(t);
  return isNaN(v) ? null : v;
}
var zoomDay = null;

// ---------------------------------------------------------------------------
// Charts: one zoom for every time chart
// ---------------------------------------------------------------------------
var timeCharts = [];
var syncing = false;
var fullRange = null;
var onZoom = [];
function width(of) { return Math.max(300, Math.floor((of && of.clientWidth) || app.clientWidth || 1100)); }
function utc(ts) { return uPlot.tzDate(new Date(ts), 'Etc/UTC'); }
function setRange(min, max) {
  syncing = true;
  timeCharts.forEach(function (u) { u.setScale('x', { min: min, max: max }); });
  syncing = false;
  onZoom.forEach(function (f) { f(min, max); });
  var label = document.getElementById('zoom-label');
  if (label) label.textContent = iso(min) + ' → ' + iso(max) + ' (' + duration(max - min) + ')';
}
function pad(n) { return (n < 10 ? '0' : '') + n; }
/** Time axis labels in 24-hour UTC; the date under the first label and wherever the day changes. */
function timeLabels(u, splits, axisIdx, space, incr) {
  var last = '';
  return splits.map(function (ts) {
    if (ts == null) return null;
    var d = new Date(ts);
    var day = d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate());
    var hm = pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()) + (incr < MINUTE ? ':' + pad(d.getUTCSeconds()) : '');
    var label = incr >= DAY ? day : hm + (day !== last ? '\n' + day : '');
    last = day;
    return label;
  });
}
function timeChart(host, opts, data) {
  opts.ms = 1;
  opts.tzDate = utc;
  opts.axes = opts.axes || [{}, {}];
  opts.axes[0] = Object.assign({ values: timeLabels, space: 60 }, opts.axes[0] || {});
  opts.axes[1] = Object.assign({ size: 70 }, opts.axes[1] || {});
  opts.width = width(host);
  opts.height = opts.height || 220;
  opts.cursor = Object.assign({ sync: { key: 'time', setSeries: false }, drag: { x: true, y: false } }, opts.cursor || {});
  opts.scales = Object.assign({ x: { time: true } }, opts.scales || {});
  opts.hooks = opts.hooks || {};
  var prev = opts.hooks.setScale || [];
  opts.hooks.setScale = prev.concat([function (u, key) {
    if (key !== 'x' || syncing || !u.ready) return;
    var min = u.scales.x.min, max = u.scales.x.max;
    if (min == null || max == null) return;
    setRange(min, max);
  }]);
  // a double-click zooms every chart out
  var u = new uPlot(opts, data, host);
  u.over.addEventListener('dblclick', function () { if (fullRange) setTimeout(function () { setRange(fullRange[0], fullRange[1]); }, 0); });
  u.ready = true;
  if (fullRange) { syncing = true; u.setScale('x', { min: fullRange[0], max: fullRange[1] }); syncing = false; }
  timeCharts.push(u);
  (host.closest('.chart') || host).setAttribute('data-points', String(data.slice(1).reduce(function (n, s) { return n + s.filter(function (v) { return v != null; }).length; }, 0)));
  return u;
}
function chartBox(parent, title, note) {
  var host = el('div', { class: 'chart' });
  if (title) host.appendChild(el('div', { class: 'title', text: title }));
  if (note) host.appendChild(el('div', { class: 'note', text: note }));
  var plot = el('div', { class: 'plot' });
  host.appendChild(plot);
  parent.appendChild(host);
  return plot;
}
function empty(parent, text) { parent.appendChild(el('p', { class: 'note empty', text: text })); }
function line(label, color, extra) { return Object.assign({ label: label, stroke: color, width: 1.5, value: function (u, v) { return num(v); } }, extra || {}); }
function pointsOnly(label, color, size) {
  return { label: label, stroke: color, fill: color, width: 0, paths: function () { return null; }, points: { show: true, size: size || 7, stroke: color, fill: color }, value: function (u, v) { return v == null ? '—' : num(v); } };
}
/** Series with their own x values on one x axis: the union of the xs, null where a series has no point. */
function join(list) { return list.length === 0 ? [[]] : uPlot.join(list.map(function (s) { return [s[0], s[1]]; })); }

// ---------------------------------------------------------------------------
// run / diff
// ---------------------------------------------------------------------------
function runPage(d) {
  var runs = d.runs, labels = d.labels;
  var diff = runs.length > 1;
  var first = runs[0];
  app.innerHTML = '';
  app.appendChild(el('h1', { text: payload.title }));
  var spans = runs.map(function (r) { return r.span; }).filter(Boolean);
  if (spans.length) fullRange = [Math.min.apply(null, spans.map(function (s) { return s[0]; })), Math.max.apply(null, spans.map(function (s) { return s[1]; }))];
  if (fullRange && fullRange[1] === fullRange[0]) fullRange = [fullRange[0] - 30000, fullRange[1] + 30000];
  if (fullRange) zoomDay = new Date(fullRange[0]).toISOString().slice(0, 10);
  app.appendChild(el('p', { class: 'meta', text: (diff ? 'rule sets ' + labels.map(function (l, i) { return l + ' (' + DASH_NAMES[i] + ')'; }).join(' vs ') : 'rules ' + first.rules) + ' · ' + (fullRange ? iso(fullRange[0]) + ' → ' + iso(fullRange[1]) + ' (' + duration(fullRange[1] - fullRange[0]) + ')' : 'empty log') + ' · ' + group(first.accountCount) + ' accounts' }));
  runs.forEach(function (r, i) {
    var s = r.summary;
    var stats = [['inputs', s.eventsIn], ['decisions', s.decisions], ['margin calls (met)', s.marginCalls + ' (' + s.marginCallsMet + ')'], ['liquidations', s.liquidations], ['bankruptcies', s.bankruptcies], ['insurance draws', s.insuranceDraws], ['insurance drawn', s.insuranceDrawn], ['auto-deleverages', s.autoDeleverages], ['losses socialized', s.lossesSocialized], ['final insurance fund', s.insuranceFund]];
    // under market impact, leveraged tokens, and once an ADL fill happened (docs/rules.md §11, §12, §16): overshoot = profit taken − deficit covered
    if (s.cascadeWaves != null) stats.push(['mark impacts', s.markImpacts], ['cascade waves', s.cascadeWaves]);
    if (s.tokenRebalances != null) stats.push(['token rebalances', s.tokenRebalances]);
    if (s.adl) stats.push(['ADL accounts', s.adl.accountsDeleveraged], ['ADL deficit covered', s.adl.deficitCovered], ['ADL profit taken', s.adl.profitTaken], ['ADL overshoot', s.adl.overshoot]);
    if (diff) app.appendChild(el('h3', { text: labels[i] + ' (' + DASH_NAMES[i] + ' lines)' }));
    app.appendChild(el('dl', { class: 'stats', 'data-run': String(i) }, stats.map(function (kv) { return el('div', null, [el('dt', { text: kv[0] }), el('dd', { text: group(kv[1]) })]); })));
    app.appendChild(el('p', { class: 'meta' }, ['outputHash ', el('code', { text: s.outputHash })]));
  });
  if (!fullRange) { empty(app, 'The log is empty: nothing to draw.'); return; }

  // toolbar: the zoom, by hand
  var from = el('input', { type: 'text', id: 'zoom-from', placeholder: 'from, e.g. 10:30 or 2020-03-12 10:30' });
  var to = el('input', { type: 'text', id: 'zoom-to', placeholder: 'to (UTC)' });
  var msg = el('span', { class: 'note', id: 'zoom-error' });
  function applyZoom() {
    var a = parseUtc(from.value), b = parseUtc(to.value);
    if (a == null || b == null || !(b > a)) { msg.textContent = 'give two UTC times, the second after the first (e.g. 10:30 and 10:50)'; return; }
    msg.textContent = '';
    setRange(a, b);
  }
  [from, to].forEach(function (i) { i.addEventListener('keydown', function (e) { if (e.key === 'Enter') applyZoom(); }); });
  app.appendChild(el('div', { class: 'toolbar' }, [
    el('b', { text: 'Time (UTC):' }), el('span', { id: 'zoom-label' }),
    el('span', { class: 'note', text: 'drag across a chart to zoom, double-click to zoom out;' }),
    from, to, el('button', { id: 'zoom-apply', onclick: applyZoom, text: 'zoom' }),
    el('button', { id: 'zoom-reset', onclick: function () { setRange(fullRange[0], fullRange[1]); }, text: 'reset' }), msg
  ]));

  pricesSection(runs, labels);
  decisionsSection(runs, labels);
  fundSection(runs, labels);
  aggregateSection(runs, labels);
  systemSection(runs, labels);
  var pick = accountsSection(runs, labels);
  adlSection(runs, labels, pick);
  bankruptcySection(runs, labels, pick);
  rulesSection(runs, labels);
  app.appendChild(el('footer', { text: 'clearsim · replayed from the log · ' + first.timelineRule + ' · series downsampled with LTTB' }));
  setRange(fullRange[0], fullRange[1]);
  window.clearsimReport = {
    zoom: function (a, b) { setRange(typeof a === 'number' ? a : parseUtc(a), typeof b === 'number' ? b : parseUtc(b)); },
    reset: function () { setRange(fullRange[0], fullRange[1]); },
    showAccount: pick,
    charts: timeCharts
  };
}

function pricesSection(runs, labels) {
  var sec = el('section', { id: 'prices' });
  app.appendChild(sec);
  sec.appendChild(el('h2', { text: 'Mark prices' }));
  var first = runs[0];
  if (first.instruments.length === 0) { empty(sec, 'no PriceUpdated or MarketMoved in the log'); return; }
  var indexed = el('input', { type: 'checkbox', id: 'indexed' });
  sec.appendChild(el('p', { class: 'note' }, [
    'Each instrument in its own units; ● liquidations, ◆ auto-deleverages at their fill price (hover for values). ',
    el('label', null, [indexed, ' indexed: all instruments on one chart, first price = 100'])
  ]));
  var grid = el('div', { class: 'small-multiples', id: 'price-grid' });
  var pending = [];
  var one = el('div', { id: 'price-indexed', style: 'display:none' });
  sec.appendChild(grid);
  sec.appendChild(one);
  first.instruments.forEach(function (ins, k) {
    var t = undelta(ins.t);
    var parts = [[t, ins.price]];
    var series = [{}, line(ins.id, PALETTE[k % PALETTE.length], { spanGaps: true })];
    runs.forEach(function (r, i) {
      var mine = r.instruments.filter(function (x) { return x.id === ins.id; })[0];
      if (!mine) return;
      var suffix = runs.length > 1 ? ' (' + labels[i] + ')' : '';
      if (mine.liquidations.total) { parts.push([undelta(mine.liquidations.t), mine.liquidations.price]); series.push(pointsOnly('liquidations ' + group(mine.liquidations.total) + (mine.liquidations.total > mine.liquidations.price.length ? ', ' + mine.liquidations.price.length + ' drawn' : '') + suffix, i ? '#fd7e14' : '#e8590c', i ? 5 : 6)); }
      if (mine.adl.total) { parts.push([undelta(mine.adl.t), mine.adl.price]); series.push(pointsOnly('ADL ' + group(mine.adl.total) + suffix, i ? '#9775fa' : '#7048e8', i ? 7 : 9)); }
    });
    var box = chartBox(grid, ins.id + ': ' + group(ins.first) + ' → ' + group(ins.last) + ' (low ' + group(ins.low) + ', high ' + group(ins.high) + ')', ins.points > ins.price.length ? group(ins.points) + ' marks, ' + ins.price.length + ' drawn (LTTB)' : null);
    box.parentNode.setAttribute('data-instrument', ins.id);
    pending.push(function () { timeChart(box, { height: 170, series: series }, join(parts)); });
  });
  // drawn once every box is in the grid, so each takes its column's final width
  pending.forEach(function (draw) { draw(); });
  var built = false;
  indexed.addEventListener('change', function () {
    grid.style.display = indexed.checked ? 'none' : '';
    one.style.display = indexed.checked ? '' : 'none';
    if (indexed.checked && !built) {
      built = true;
      var parts = first.instruments.map(function (ins) { var base = ins.price[0] || 1; return [undelta(ins.t), ins.price.map(function (p) { return (p / base) * 100; })]; });
      var series = [{}].concat(first.instruments.map(function (ins, k) { return line(ins.id, PALETTE[k % PALETTE.length], { spanGaps: true, dash: k >= PALETTE.length ? [5, 3] : undefined }); }));
      timeChart(chartBox(one, 'all instruments, indexed (first price = 100)'), { height: 320, series: series }, join(parts));
    }
  });
}

function decisionsSection(runs, labels) {
  var sec = el('section', { id: 'decisions' });
  app.appendChild(sec);
  var title = el('h2', { text: 'Margin decisions' });
  sec.appendChild(title);
  sec.appendChild(el('p', { class: 'note', text: 'Counts per time bucket; the buckets follow the zoom (about 120 across the view).' }));
  var times = runs.map(function (r) { var o = {}; STACK.forEach(function (s) { o[s.type] = undelta(r.decisionTimes[s.type] || []); }); return o; });
  var any = times.some(function (o) { return STACK.some(function (s) { return o[s.type].length > 0; }); });
  if (!any) { empty(sec, 'no margin calls, liquidations, bankruptcies or auto-deleverages'); return; }
  var charts = runs.map(function (r, i) {
    var raw = [];
    var series = [{}];
    // cumulative layers, drawn tallest first so each type shows as its own band
    for (var k = STACK.length - 1; k >= 0; k--) {
      (function (k) {
        series.push({ label: STACK[k].label, stroke: STACK[k].color, fill: STACK[k].color, width: 0, paths: uPlot.paths.bars({ size: [1, Infinity], align: 1, gap: 1 }), points: { show: false }, value: function (u, v, si, idx) { return idx == null || !raw[k] ? '—' : String(raw[k][idx]); } });
      })(k);
    }
    var box = chartBox(sec, runs.length > 1 ? labels[i] : null);
    box.parentNode.classList.add('decision-chart');
    var u = timeChart(box, { height: 200, series: series, scales: { y: { range: function (u, a, b) { return [0, Math.max(1, b) * 1.08]; } } } }, [[fullRange[0]], [0], [0], [0], [0]]);
    return { u: u, raw: raw, times: times[i], box: box };
  });
  function rebucket(min, max) {
    var w = BUCKETS.filter(function (b) { return (max - min) / b <= 120; })[0] || BUCKETS[BUCKETS.length - 1];
    var start = Math.floor(min / w) * w;
    var n = Math.max(1, Math.ceil((max - start) / w));
    var top = 0;
    var built = charts.map(function (c) {
      var xs = new Array(n);
      for (var i = 0; i < n; i++) xs[i] = start + i * w;
      var counts = STACK.map(function (s) {
        var ts = c.times[s.type], out = new Array(n).fill(0);
        var lo = lowerBound(ts, start), hi = lowerBound(ts, start + n * w);
        for (var j = lo; j < hi; j++) out[Math.floor((ts[j] - start) / w)]++;
        return out;
      });
      var cum = [];
      var run = new Array(n).fill(0);
      counts.forEach(function (cs) { run = run.map(function (v, i) { return v + cs[i]; }); cum.push(run); });
      for (var i2 = 0; i2 < n; i2++) top = Math.max(top, run[i2]);
      return { xs: xs, counts: counts, cum: cum };
    });
    charts.forEach(function (c, i) {
      var b = built[i];
      for (var k = 0; k < STACK.length; k++) c.raw[k] = b.counts[k];
      c.u.setData([b.xs].concat(b.cum.slice().reverse()), false);
      c.u.setScale('y', { min: 0, max: Math.max(1, top) * 1.08 });
      var inView = b.counts.reduce(function (s, cs) { return s + cs.reduce(function (a, v) { return a + v; }, 0); }, 0);
      c.box.parentNode.setAttribute('data-points', String(inView));
    });
    sec.setAttribute('data-buckets', String(n));
    sec.setAttribute('data-bucket-ms', String(w));
    title.textContent = 'Margin decisions per ' + duration(w) + ' (' + n + ' buckets in view)';
  }
  onZoom.push(rebucket);
}

function fundSection(runs, labels) {
  var sec = el('section', { id: 'fund' });
  app.appendChild(sec);
  sec.appendChild(el('h2', { text: 'Insurance fund' }));
  var parts = [], series = [{}];
  runs.forEach(function (r, i) {
    if (!r.fund.t.length) return;
    var suffix = runs.length > 1 ? ' (' + labels[i] + ')' : '';
    parts.push([undelta(r.fund.t), r.fund.balance]);
    series.push(line('fund ' + (r.fund.id || '') + suffix, '#2b8a3e', { paths: uPlot.paths.stepped({ align: 1 }), spanGaps: true, dash: DASH[i] }));
    if (r.fund.draws.t.length) {
      var dt = undelta(r.fund.draws.t);
      // a draw is drawn at the fund's balance right after it
      var ft = undelta(r.fund.t);
      var ys = dt.map(function (t) { var j = lowerBound(ft, t + 1) - 1; return j >= 0 ? r.fund.balance[j] : 0; });
      parts.push([dt, ys]);
      series.push(pointsOnly('draws ' + group(r.fund.draws.t.length) + suffix, '#c92a2a', 6));
    }
  });
  if (parts.length === 0) { empty(sec, 'the insurance fund never held anything'); return; }
  sec.appendChild(el('p', { class: 'note', text: 'Balance after every change (stepped); ● draws for bankruptcies.' }));
  timeChart(chartBox(sec), { series: series }, join(parts));
}

function aggregateSection(runs, labels) {
  var sec = el('section', { id: 'aggregate' });
  app.appendChild(sec);
  sec.appendChild(el('h2', { text: 'All accounts: equity against margin, and open interest' }));
  var cols = el('div', { class: 'cols' });
  sec.appendChild(cols);
  var left = el('div'), right = el('div');
  cols.appendChild(left); cols.appendChild(right);
  var parts = [], series = [{}];
  runs.forEach(function (r, i) {
    if (!r.aggregate.t.length) return;
    var t = undelta(r.aggregate.t), suffix = runs.length > 1 ? ' (' + labels[i] + ')' : '';
    parts.push([t, r.aggregate.equity]); series.push(line('equity' + suffix, '#1c7ed6', { dash: DASH[i] }));
    parts.push([t, r.aggregate.mm]); series.push(line('maintenance margin' + suffix, '#c92a2a', { dash: DASH[i] }));
    parts.push([t, r.aggregate.im]); series.push(line('initial margin' + suffix, '#f59f00', { dash: DASH[i] }));
  });
  if (parts.length) timeChart(chartBox(left, 'Σ equity, Σ MM, Σ IM over ' + group(runs[0].aggregate.accounts) + ' accounts', 'sampled at ' + runs[0].aggregate.t.length + ' instants over the run'), { series: series, axes: [{}, { size: 64 }] }, join(parts));
  var oparts = [], oseries = [{}];
  runs.forEach(function (r, i) {
    var t = undelta(r.openInterest.t), suffix = runs.length > 1 ? ' (' + labels[i] + ')' : '';
    r.openInterest.instruments.forEach(function (id, k) { oparts.push([t, r.openInterest.notional[k]]); oseries.push(line(id + suffix, PALETTE[k % PALETTE.length], { dash: DASH[i] })); });
  });
  if (oparts.length) timeChart(chartBox(right, 'Open interest (long side, notional at the mark)'), { series: oseries, axes: [{}, { size: 64 }] }, join(oparts));
  else empty(right, 'no open positions');
}

function systemSection(runs, labels) {
  var sec = el('section', { id: 'system' });
  app.appendChild(sec);
  sec.appendChild(el('h2', { text: 'System accounts: backstop, insurance, fees' }));
  var colors = { insurance: '#2b8a3e', backstop: '#862e9c', fees: '#495057' };
  var rows = [], byRole = {}, roles = [];
  runs.forEach(function (r, i) {
    var suffix = runs.length > 1 ? ' (' + labels[i] + ')' : '';
    r.system.forEach(function (s) {
      if (!byRole[s.role]) { byRole[s.role] = { parts: [], series: [{}], title: [] }; roles.push(s.role); }
      var g = byRole[s.role];
      if (s.t.length) { g.parts.push([undelta(s.t), s.cash]); g.series.push(line(s.id + suffix, colors[s.role], { paths: uPlot.paths.stepped({ align: 1 }), spanGaps: true, dash: DASH[i] })); }
      if (g.title.indexOf(s.id) < 0) g.title.push(s.id);
      rows.push(el('tr', null, [el('td', { text: s.role }), el('td', { text: s.id + suffix }), el('td', { class: 'n', text: group(s.final) })]));
    });
  });
  if (!roles.length) { empty(sec, 'no rules active: no system accounts'); return; }
  sec.appendChild(el('p', { class: 'note', text: 'Cash of each system account after every change, each on its own scale. The backstop takes over liquidated positions; the fees account collects liquidation fees.' }));
  var grid = el('div', { class: 'small-multiples' });
  sec.appendChild(grid);
  var boxes = roles.map(function (role) { return byRole[role].parts.length ? chartBox(grid, role + ': ' + byRole[role].title.join(', ')) : null; });
  roles.forEach(function (role, i) {
    var g = byRole[role];
    if (boxes[i]) timeChart(boxes[i], { height: 170, series: g.series }, join(g.parts));
  });
  sec.appendChild(el('table', null, [el('thead', null, [el('tr', null, [el('th', { text: 'role' }), el('th', { text: 'account' }), el('th', { class: 'n', text: 'final cash' })])]), el('tbody', null, rows)]));
}

function statusBadge(s) { return el('span', { class: 'badge ' + s, text: s }); }

function accountsSection(runs, labels) {
  var sec = el('section', { id: 'accounts' });
  app.appendChild(sec);
  sec.appendChild(el('h2', { text: 'Accounts' }));
  var first = runs[0];
  var byId = runs.map(function (r) { var m = {}; r.accounts.forEach(function (a) { m[a.id] = a; }); return m; });
  var decisions = runs.map(function (r) {
    var d = r.decisions, t = undelta(d.t), by = {};
    for (var i = 0; i < t.length; i++) {
      var a = d.names[d.account[i]];
      (by[a] = by[a] || []).push(i);
      var c = d.counterparty[i];
      if (c >= 0) { var cn = d.names[c]; if (cn !== a) (by[cn] = by[cn] || []).push(i); }
    }
    return { t: t, by: by, d: d };
  });
  var search = el('input', { type: 'search', id: 'account-search', placeholder: 'search an account id', style: 'width:260px' });
  var count = el('span', { class: 'note' });
  sec.appendChild(el('p', { class: 'note' }, ['Worst first (bankrupt by deficit, then lowest equity); click a row for its timeline, positions and decisions. ', search, ' ', count]));
  var lending = first.lending;
  var head = ['account'];
  runs.forEach(function (r, i) { var sfx = runs.length > 1 ? ' ' + labels[i] : ''; head.push('status' + sfx, 'equity' + sfx, 'deficit' + sfx); if (runs.length === 1) head.push('cash', 'net deposits', 'P&L', 'MM', 'IM'); if (lending) head.push('health factor' + sfx); });
  head.push('open positions');
  var tbody = el('tbody', { id: 'accounts-body' });
  var scroll = el('div', { class: 'scroll' }, [el('table', { id: 'accounts-table' }, [el('thead', null, [el('tr', null, head.map(function (h, i) { return el('th', { class: i === 0 || h === 'open positions' || h.indexOf('status') === 0 ? '' : 'n', text: h }); }))]), tbody])]);
  sec.appendChild(scroll);
  if (first.accountCount > first.accounts.length) sec.appendChild(el('p', { class: 'note', text: 'The table holds the ' + group(first.accounts.length) + ' worst of ' + group(first.accountCount) + ' accounts.' }));
  var drill = el('div', { id: 'drill', style: 'display:none' });
  sec.appendChild(drill);
  var ids = first.accounts.map(function (a) { return a.id; });
  if (runs.length > 1) runs[1].accounts.forEach(function (a) { if (!byId[0][a.id]) ids.push(a.id); });
  var chosenRow = null;
  function render() {
    var q = search.value.trim().toLowerCase();
    var match = q ? ids.filter(function (id) { return id.toLowerCase().indexOf(q) >= 0; }) : ids;
    tbody.innerHTML = '';
    match.slice(0, 300).forEach(function (id) {
      var cells = [el('td', { text: id })];
      runs.forEach(function (r, i) {
        var a = byId[i][id];
        if (!a) { cells.push(el('td', { text: '—' }), el('td', { class: 'n', text: '—' }), el('td', { class: 'n', text: '—' })); if (runs.length === 1) for (var z = 0; z < 5; z++) cells.push(el('td', { text: '—' })); if (lending) cells.push(el('td', { text: '—' })); return; }
        cells.push(el('td', null, [statusBadge(a.status)]), el('td', { class: 'n', text: group(a.equity) }), el('td', { class: 'n', text: a.deficit === '0' ? '—' : group(a.deficit) }));
        if (runs.length === 1) [a.cash, a.netDeposits, a.pnl, a.mm, a.im].forEach(function (v) { cells.push(el('td', { class: 'n', text: group(v) })); });
        if (lending) cells.push(el('td', { class: 'n', text: a.healthFactor == null ? '∞' : a.healthFactor }));
      });
      var any = byId[0][id] || byId[1 % runs.length][id];
      cells.push(el('td', { text: any.positions.length ? any.positions.slice(0, 3).join(', ') + (any.positions.length > 3 ? ' +' + (any.positions.length - 3) + ' more' : '') : '—' }));
      var tr = el('tr', { class: 'pick', 'data-account': id, onclick: function () { pick(id); } }, cells);
      tbody.appendChild(tr);
    });
    count.textContent = match.length > 300 ? '300 of ' + group(match.length) + ' shown' : group(match.length) + ' shown';
  }
  search.addEventListener('input', render);
  render();

  var drillChart = null;
  function pick(id) {
    if (chosenRow) chosenRow.classList.remove('chosen');
    chosenRow = tbody.querySelector('tr[data-account="' + (window.CSS && CSS.escape ? CSS.escape(id) : id) + '"]');
    if (chosenRow) chosenRow.classList.add('chosen');
    if (drillChart) { timeCharts.splice(timeCharts.indexOf(drillChart), 1); drillChart.destroy(); drillChart = null; }
    drill.innerHTML = '';
    drill.style.display = '';
    drill.setAttribute('data-account', id);
    drill.appendChild(el('h3', { text: 'Account ' + id }));
    runs.forEach(function (r, i) {
      var a = byId[i][id];
      var sfx = runs.length > 1 ? labels[i] + ': ' : '';
      if (!a) { drill.appendChild(el('p', { class: 'meta', text: sfx + 'not among the accounts of this run' })); return; }
      drill.appendChild(el('p', { class: 'meta' }, [sfx, statusBadge(a.status), ' equity ' + group(a.equity) + ' · MM ' + group(a.mm) + ' · IM ' + group(a.im) + ' · cash ' + group(a.cash) + ' · net deposits ' + group(a.netDeposits) + ' · P&L ' + group(a.pnl) + (a.deficit !== '0' ? ' · deficit ' + group(a.deficit) : '')]));
    });
    var parts = [], series = [{}], marks = [];
    runs.forEach(function (r, i) {
      var tl = r.timelines[id];
      if (!tl) return;
      var t = undelta(tl.t), sfx = runs.length > 1 ? ' (' + labels[i] + ')' : '';
      parts.push([t, tl.equity]); series.push(line('equity' + sfx, '#1c7ed6', { width: 2, dash: DASH[i] }));
      parts.push([t, tl.mm]); series.push(line('maintenance margin' + sfx, '#c92a2a', { dash: DASH[i] }));
      parts.push([t, tl.im]); series.push(line('initial margin' + sfx, '#f59f00', { dash: DASH[i] }));
    });
    decisions.forEach(function (dd, i) {
      (dd.by[id] || []).forEach(function (j) { marks.push({ t: dd.t[j], type: dd.d.types[dd.d.type[j]], run: i }); });
    });
    var colorOf = { MarginCallIssued: '#f59f00', LiquidationStarted: '#e8590c', PositionLiquidated: '#e8590c', AccountBankrupted: '#c92a2a', PositionAutoDeleveraged: '#7048e8', InsuranceFundDrawn: '#2b8a3e' };
    if (parts.length) {
      drill.appendChild(el('p', { class: 'note', text: 'Equity against maintenance and initial margin; vertical lines: its decisions (orange liquidation, red bankruptcy, amber margin call, purple ADL).' }));
      var box = chartBox(drill);
      box.id = 'drill-chart';
      drillChart = timeChart(box, {
        height: 260, series: series, axes: [{}, { size: 64 }],
        hooks: { draw: [function (u) {
          var ctx = u.ctx; ctx.save(); ctx.lineWidth = 1;
          marks.forEach(function (m) {
            var x = Math.round(u.valToPos(m.t, 'x', true));
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
            ctx.strokeStyle = colorOf[m.type] || '#adb5bd'; ctx.globalAlpha = 0.6;
            ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
          });
          ctx.restore();
        }] }
      }, join(parts));
      var cur = timeCharts[0].scales.x;
      syncing = true; drillChart.setScale('x', { min: cur.min, max: cur.max }); syncing = false;
    } else {
      drill.appendChild(el('p', { class: 'note', text: 'No timeline kept for this account (' + runs[0].timelineRule + '); its final figures and decisions are above and below.' }));
    }
    runs.forEach(function (r, i) {
      var a = byId[i][id];
      if (a) drill.appendChild(el('p', { class: 'meta', text: (runs.length > 1 ? labels[i] + ': ' : '') + 'open positions at the end: ' + (a.positions.length ? a.positions.join(', ') : 'none') }));
    });
    var rows = [];
    decisions.forEach(function (dd, i) {
      (dd.by[id] || []).forEach(function (j) {
        rows.push(el('tr', null, [runs.length > 1 ? el('td', { text: labels[i] }) : null, el('td', { text: iso(dd.t[j]) }), el('td', { text: dd.d.types[dd.d.type[j]] }), el('td', { text: dd.d.names[dd.d.account[j]] === id ? '' : 'as counterparty of ' + dd.d.names[dd.d.account[j]] }), el('td', { text: dd.d.text[j] })]));
      });
    });
    drill.appendChild(el('h3', { text: 'Decisions about ' + id + ' (' + rows.length + ')' }));
    if (rows.length) drill.appendChild(el('div', { class: 'scroll' }, [el('table', { id: 'drill-decisions' }, [el('tbody', null, rows)])]));
    else drill.appendChild(el('p', { class: 'note', text: 'none' }));
    drill.scrollIntoView({ block: 'nearest' });
  }
  return pick;
}

function adlSection(runs, labels, pick) {
  var sec = el('section', { id: 'adl' });
  app.appendChild(sec);
  sec.appendChild(el('h2', { text: 'ADL counterparties' }));
  runs.forEach(function (r, i) {
    if (runs.length > 1) sec.appendChild(el('h3', { text: labels[i] }));
    if (!r.adlCounterparties.length) { empty(sec, 'No position was auto-deleveraged.'); return; }
    sec.appendChild(el('p', { class: 'note', text: 'The profitable traders whose positions were closed against bankrupt accounts (most fills first); click for the account.' }));
    var rows = r.adlCounterparties.map(function (c) {
      return el('tr', { class: 'pick', 'data-account': c.account, onclick: function () { pick(c.account); } }, [el('td', { text: c.account }), el('td', { class: 'n', text: String(c.fills) }), el('td', { text: Object.keys(c.qty).map(function (k) { return k + ' ' + c.qty[k]; }).join(', ') }), el('td', { text: c.against.slice(0, 5).join(', ') + (c.against.length > 5 ? ' +' + (c.against.length - 5) : '') }), el('td', { text: iso(c.first) + (c.last !== c.first ? ' → ' + iso(c.last) : '') })]);
    });
    sec.appendChild(el('div', { class: 'scroll' }, [el('table', { class: 'adl-table' }, [el('thead', null, [el('tr', null, ['account', 'fills', 'position change', 'against (bankrupt)', 'when'].map(function (h, k) { return el('th', { class: k === 1 ? 'n' : '', text: h }); }))]), el('tbody', null, rows)])]));
  });
}

function bankruptcySection(runs, labels, pick) {
  var sec = el('section', { id: 'bankruptcies' });
  app.appendChild(sec);
  sec.appendChild(el('h2', { text: 'Largest bankruptcies' }));
  runs.forEach(function (r, i) {
    if (runs.length > 1) sec.appendChild(el('h3', { text: labels[i] }));
    if (!r.bankruptcies.length) { empty(sec, 'No account went bankrupt.'); return; }
    var top = r.bankruptcies.slice().sort(function (a, b) { return Number(b.deficit) - Number(a.deficit) || a.ts - b.ts; }).slice(0, 20);
    sec.appendChild(el('p', { class: 'note', text: (top.length < r.bankruptcies.length ? 'Top 20 of ' + r.bankruptcies.length : 'All ' + r.bankruptcies.length) + ' bankruptcies, by deficit.' }));
    sec.appendChild(el('table', null, [el('thead', null, [el('tr', null, ['account', 'time (UTC)', 'deficit', 'insurance drawn', 'ADL fills', 'socialized'].map(function (h, k) { return el('th', { class: k >= 2 ? 'n' : '', text: h }); }))]), el('tbody', null, top.map(function (b) {
      return el('tr', { class: 'pick', 'data-account': b.account, onclick: function () { pick(b.account); } }, [el('td', { text: b.account + (b.instrument ? ' (' + b.instrument + ')' : '') }), el('td', { text: iso(b.ts) }), el('td', { class: 'n', text: group(b.deficit) }), el('td', { class: 'n', text: b.drawn === '0' ? '—' : group(b.drawn) }), el('td', { class: 'n', text: b.adlFills ? String(b.adlFills) : '—' }), el('td', { class: 'n', text: b.socialized === '0' ? '—' : group(b.socialized) })]);
    }))]));
  });
}

function rulesSection(runs, labels) {
  var sec = el('section', { id: 'rules' });
  app.appendChild(sec);
  sec.appendChild(el('h2', { text: 'Active rules' }));
  var cols = el('div', { class: runs.length > 1 ? 'cols' : '' });
  sec.appendChild(cols);
  runs.forEach(function (r, i) {
    var box = el('div');
    cols.appendChild(box);
    if (runs.length > 1) box.appendChild(el('h3', { text: labels[i] }));
    if (!r.rulesText.length) { empty(box, 'no RulesActivated in the log'); return; }
    r.rulesText.forEach(function (x) {
      box.appendChild(el('p', { class: 'note', text: 'RulesActivated at ' + iso(x.ts) }));
      box.appendChild(el('pre', { text: x.text }));
    });
  });
}

// ---------------------------------------------------------------------------
// backtest
// ---------------------------------------------------------------------------
function backtestPage(d) {
  app.innerHTML = '';
  app.appendChild(el('h1', { text: payload.title }));
  app.appendChild(el('p', { class: 'meta', text: 'margin period ' + duration(d.periodMs) + ' · ' + d.margin + ' margin · confidence ' + d.confidence }));
  app.appendChild(el('p', { class: 'note', text: 'Each point is one account over one margin period, at the period\'s start: the loss its positions (held fixed) realized by the period\'s end, as a multiple of the margin it held at the start. Red points, above the dashed line at 1×, are exceedances. Drag to zoom, double-click to zoom out; hover a point for its account.' }));
  var ranges = d.models.map(function (m) { return m.range; }).filter(Boolean);
  if (ranges.length) fullRange = [Math.min.apply(null, ranges.map(function (r) { return r[0]; })), Math.max.apply(null, ranges.map(function (r) { return r[1]; })) + d.periodMs];
  var tip = el('div', { class: 'tip', style: 'display:none' });
  document.body.appendChild(tip);
  d.models.forEach(function (m) {
    var sec = el('section', { class: 'model', 'data-rules': m.rules });
    app.appendChild(sec);
    sec.appendChild(el('h2', { text: m.rules }));
    sec.appendChild(el('table', { class: 'summary' }, [el('tbody', null, Object.keys(m.summary).map(function (k) { return el('tr', null, [el('th', { text: k }), el('td', { text: String(m.summary[k]) })]); }))]));
    var p = m.points;
    var t = undelta(p.t);
    var note = group(m.total) + ' account-periods with margin; ' + group(t.length) + ' drawn (every exceedance, the others ' + (m.total > t.length ? 'thinned evenly' : 'all') + '). The axis runs from ' + d.clip[0] + '× to ' + d.clip[1] + '×: ' + m.beyond.above + ' points above and ' + m.beyond.below + ' below it are drawn on its edge as ▲ / ▼.';
    sec.appendChild(el('p', { class: 'note beyond', text: note }));
    if (!t.length) { empty(sec, 'no account held margin over a whole period'); return; }
    var box = chartBox(sec);
    var clip = d.clip;
    var u = timeChart(box, {
      height: 360,
      cursor: { sync: { key: 'bt' }, points: { show: false } },
      legend: { show: false },
      series: [{}, { label: 'points', stroke: 'transparent', paths: function () { return null; }, points: { show: false } }],
      scales: { y: { auto: false, range: [clip[0] - 0.3, clip[1] + 0.3] } },
      axes: [{}, { values: function (u, vs) { return vs.map(function (v) { return v + '×'; }); } }],
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx; ctx.save();
          var y1 = Math.round(u.valToPos(1, 'y', true));
          ctx.strokeStyle = '#868e96'; ctx.setLineDash([4, 3]); ctx.beginPath(); ctx.moveTo(u.bbox.left, y1); ctx.lineTo(u.bbox.left + u.bbox.width, y1); ctx.stroke(); ctx.setLineDash([]);
          var xmin = u.scales.x.min, xmax = u.scales.x.max;
          for (var i = 0; i < t.length; i++) {
            if (t[i] < xmin || t[i] > xmax) continue;
            var r = p.ratio[i], out = p.exceeded[i] === 1;
            var x = u.valToPos(t[i], 'x', true), y = u.valToPos(Math.max(clip[0], Math.min(clip[1], r)), 'y', true);
            ctx.fillStyle = out ? '#c53030' : 'rgba(43,108,176,0.35)';
            if (r > clip[1] || r < clip[0]) { var up = r > clip[1]; ctx.beginPath(); ctx.moveTo(x - 4, y + (up ? 4 : -4)); ctx.lineTo(x + 4, y + (up ? 4 : -4)); ctx.lineTo(x, y + (up ? -4 : 4)); ctx.closePath(); ctx.fill(); }
            else { ctx.beginPath(); ctx.arc(x, y, out ? 2.6 * devicePixelRatio : 1.6 * devicePixelRatio, 0, 2 * Math.PI); ctx.fill(); }
          }
          ctx.restore();
        }],
        setCursor: [function (u) {
          var l = u.cursor.left, top = u.cursor.top;
          if (l == null || l < 0) { tip.style.display = 'none'; return; }
          var best = -1, bestD = 64;
          for (var i = 0; i < t.length; i++) {
            var dx = u.valToPos(t[i], 'x') - l, dy = u.valToPos(Math.max(clip[0], Math.min(clip[1], p.ratio[i])), 'y') - top;
            var dd = dx * dx + dy * dy;
            if (dd < bestD) { bestD = dd; best = i; }
          }
          if (best < 0) { tip.style.display = 'none'; return; }
          var rect = u.over.getBoundingClientRect();
          tip.textContent = p.account[best] + ', period from ' + iso(t[best]) + '\nmargin ' + num(p.margin[best]) + ', loss ' + num(p.loss[best]) + ' (' + p.ratio[best].toFixed(2) + '×)';
          tip.style.left = (rect.left + window.scrollX + l + 12) + 'px';
          tip.style.top = (rect.top + window.scrollY + top + 12) + 'px';
          tip.style.display = '';
        }]
      }
    }, [[fullRange[0], fullRange[1]], [null, null]]);
    box.parentNode.setAttribute('data-points', String(t.length));
    var acc = m.accounts;
    sec.appendChild(el('h3', { text: m.rules + ': accounts, most exceeded first (' + acc.length + ')' }));
    sec.appendChild(el('div', { class: 'scroll' }, [el('table', { class: 'bt-accounts' }, [el('thead', null, [el('tr', null, ['account', 'periods', 'exceedances', 'coverage', 'Kupiec p', 'zone'].map(function (h, k) { return el('th', { class: k >= 1 && k <= 4 ? 'n' : '', text: h }); }))]), el('tbody', null, acc.map(function (a) {
      return el('tr', null, [el('td', { text: a.account }), el('td', { class: 'n', text: String(a.observations) }), el('td', { class: 'n', text: String(a.exceedances) }), el('td', { class: 'n', text: a.coverage }), el('td', { class: 'n', text: a.kupiecP }), el('td', { text: a.zone })]);
    }))])]));
    return u;
  });
  if (fullRange) setRange(fullRange[0], fullRange[1]);
  window.clearsimReport = { zoom: function (a, b) { setRange(a, b); }, charts: timeCharts };
}

// ---------------------------------------------------------------------------
// stress
// ---------------------------------------------------------------------------
function stressPage(d) {
  app.innerHTML = '';
  app.appendChild(el('h1', { text: payload.title }));
  app.appendChild(el('p', { class: 'meta', text: 'scenario "' + d.name + '" · ' + group(d.paths) + ' price paths · seed ' + d.seed + ' · rule sets ' + d.ruleSets.map(function (r) { return r.label; }).join(', ') }));
  app.appendChild(el('p', { class: 'note', text: 'Each chart: how many paths ended with each value of the figure (a histogram of up to 30 bins), one colour per rule set on the same axes; the table gives the nearest-rank percentiles from the best side (for the insurance fund low, lower is worse).' }));
  d.metrics.forEach(function (m) {
    var sec = el('section', { class: 'metric', 'data-metric': m.key });
    app.appendChild(sec);
    sec.appendChild(el('h2', { text: m.title }));
    var all = [];
    d.ruleSets.forEach(function (r) { all = all.concat(r.values[m.key]); });
    var lo = Math.min.apply(null, all), hi = Math.max.apply(null, all);
    var bins = Math.max(1, Math.min(30, new Set(all).size));
    var w = hi > lo ? (hi - lo) / bins : 1;
    var xs = [];
    for (var i = 0; i < bins; i++) xs.push(lo + i * w);
    var series = [{ label: m.title, value: function (u, v) { return v == null ? '—' : num(v) + ' – ' + num(v + w); } }];
    var data = [xs];
    d.ruleSets.forEach(function (r, k) {
      var counts = new Array(bins).fill(0);
      r.values[m.key].forEach(function (v) { counts[Math.min(bins - 1, Math.floor((v - lo) / w))]++; });
      data.push(counts);
      var color = PALETTE[k % PALETTE.length];
      series.push({ label: r.label + ' (paths)', stroke: color, fill: color + '88', width: 1, paths: uPlot.paths.bars({ size: [0.9 / d.ruleSets.length, Infinity], align: 1 }), points: { show: false } });
    });
    var box = chartBox(sec);
    new uPlot({ width: width(box), height: 200, scales: { x: { time: false, range: [lo, lo + bins * w] } }, series: series, axes: [{ values: function (u, vs) { return vs.map(num); } }, { size: 50 }] }, data, box);
    box.parentNode.setAttribute('data-points', String(all.length));
    var head = el('tr', null, [el('th', { text: 'rules' })].concat(['p50', 'p95', 'p99', 'worst'].map(function (p) { return el('th', { class: 'n', text: p }); })));
    sec.appendChild(el('table', { class: 'percentiles' }, [el('thead', null, [head]), el('tbody', null, d.ruleSets.map(function (r) {
      var p = r.percentiles[m.key];
      return el('tr', null, [el('td', { text: r.label })].concat(['p50', 'p95', 'p99', 'worst'].map(function (k) { return el('td', { class: 'n', text: group(p[k]) }); })));
    }))]));
  });
}

// the data: JSON, or gzipped JSON in base64 for a large run (report-page.ts, embedData)
function load() {
  var raw = JSON.parse(document.getElementById('report-data').textContent);
  if (typeof raw.gzip !== 'string') return Promise.resolve(raw);
  var bytes = Uint8Array.from(atob(raw.gzip), function (c) { return c.charCodeAt(0); });
  var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Response(stream).text().then(JSON.parse);
}
load().then(function (p) {
  payload = p;
  if (payload.kind === 'backtest') backtestPage(payload.data);
  else if (payload.kind === 'stress') stressPage(payload.data);
  else runPage(payload.data);
  document.body.setAttribute('data-ready', '1');
}).catch(function (e) {
  app.appendChild(el('pre', { text: 'The report could not be drawn: ' + (e && e.stack || e) }));
  console.error(e);
});
})();
`;

import { writeFile } from 'node:fs/promises';
import { accountTotals, ClearingEngine, statusOf, type AccountStatus, type RunSummary } from '@clearsim/clearing';
import { formatTimestamp, isInput, type DecisionType } from '@clearsim/events';
import { formatFixed, toNumber, type Fixed } from '@clearsim/money';
import { healthFactorFixed } from '@clearsim/margin';
import type { EventStore } from '@clearsim/store';

/**
 * `clearsim run --report FILE.html`: one self-contained HTML page (inline CSS
 * and SVG, no script, no network) that shows what the rules did during a run:
 * marks over time, margin decisions per time bucket, the insurance fund, the
 * largest bankruptcies and the accounts that ended worst.
 *
 * The log is replayed (`engine.apply`, nothing is decided again) so balances
 * over time come from the same fold as every other view.
 */
export async function writeReport(file: string, store: EventStore, options: { title: string }): Promise<void> {
  const data = await collect(store);
  await writeFile(file, renderReport(data, options.title));
}

// ---------------------------------------------------------------------------
// Collecting: one pass over the log
// ---------------------------------------------------------------------------

/** The decisions stacked in the "decisions over time" chart, bottom to top. */
const STACKED: { type: DecisionType; label: string; color: string }[] = [
  { type: 'MarginCallIssued', label: 'margin calls', color: '#f59f00' },
  { type: 'LiquidationStarted', label: 'liquidations', color: '#e8590c' },
  { type: 'AccountBankrupted', label: 'bankruptcies', color: '#c92a2a' },
  { type: 'PositionAutoDeleveraged', label: 'auto-deleverages', color: '#7048e8' },
];

const MARKER = '#c92a2a';
const PALETTE = ['#1c7ed6', '#f76707', '#2b8a3e', '#c2255c', '#7048e8', '#0c8599', '#e67700', '#495057', '#74b816', '#862e9c'];

interface PriceSeries {
  instrument: string;
  ts: number[];
  price: number[];
  first: Fixed;
  last: Fixed;
  low: Fixed;
  high: Fixed;
}

interface Bankruptcy {
  account: string;
  instrument?: string;
  ts: number;
  deficit: Fixed;
  drawn: Fixed;
  adlFills: number;
  socialized: Fixed;
}

interface Draw {
  ts: number;
  amount: Fixed;
  account: string;
  /** Fund balance right after the draw. */
  balance: number;
}

interface WorstAccount {
  id: string;
  status: AccountStatus;
  equity: Fixed;
  cash: Fixed;
  maintenanceMargin: Fixed;
  /** Deposits − approved withdrawals (the shard has one cash asset). */
  netDeposits: Fixed;
  positions: string[];
  /** `model: lending`: the health factor, rounded down (undefined: no debt, ∞). */
  healthFactor?: Fixed;
}

interface ReportData {
  summary: RunSummary;
  firstTs?: number;
  lastTs?: number;
  prices: PriceSeries[];
  decisionTimes: Map<DecisionType, number[]>;
  fund: { id?: string; ts: number[]; balance: number[] };
  draws: Draw[];
  bankruptcies: Bankruptcy[];
  worst: WorstAccount[];
  /** Non-system accounts at the end of the log. */
  accountCount: number;
  /** `model: lending`: the accounts table shows each health factor. */
  lending: boolean;
}

async function collect(store: EventStore): Promise<ReportData> {
  const engine = ClearingEngine.create();
  const prices = new Map<string, PriceSeries>();
  const decisionTimes = new Map<DecisionType, number[]>(STACKED.map((s) => [s.type, []]));
  const fund: ReportData['fund'] = { ts: [], balance: [] };
  const draws: Draw[] = [];
  const bankruptcies: Bankruptcy[] = [];
  const openBankruptcy = new Map<string, Bankruptcy>(); // account -> its latest bankruptcy (the waterfall follows it in the log)
  const netDeposits = new Map<string, Fixed>();
  let lastFund: Fixed | undefined;
  let firstTs: number | undefined;
  let lastTs: number | undefined;

  for await (const { event } of store.read(1)) {
    engine.apply(event);
    firstTs ??= event.ts;
    lastTs = event.ts;
    if (event.type === 'Deposited' || event.type === 'WithdrawalApproved') {
      netDeposits.set(event.account, (netDeposits.get(event.account) ?? 0n) + (event.type === 'Deposited' ? event.amount : -event.amount));
    }
    if (isInput(event)) {
      if (event.type === 'PriceUpdated' || event.type === 'InstrumentSettled') addPrice(prices, event.instrument, event.ts, event.price);
      // a market move's marks, each on its instrument's line
      if (event.type === 'MarketMoved') for (const mark of event.marks) addPrice(prices, mark.instrument, event.ts, mark.price);
    } else {
      decisionTimes.get(event.type)?.push(event.ts);
      switch (event.type) {
        case 'AccountBankrupted': {
          const record: Bankruptcy = { account: event.account, instrument: event.instrument, ts: event.ts, deficit: event.deficit, drawn: 0n, adlFills: 0, socialized: 0n };
          bankruptcies.push(record);
          openBankruptcy.set(event.account, record);
          break;
        }
        case 'InsuranceFundDrawn': {
          const record = openBankruptcy.get(event.account);
          if (record) record.drawn += event.amount;
          break;
        }
        case 'PositionAutoDeleveraged': {
          const record = openBankruptcy.get(event.counterparty);
          if (record) record.adlFills++;
          break;
        }
        case 'LossSocialized': {
          for (const loss of event.losses) {
            const record = openBankruptcy.get(loss.account);
            if (record) record.socialized += loss.amount;
          }
          break;
        }
        default:
          break;
      }
    }
    const fundId = engine.state.rules?.accounts.insurance;
    if (fundId !== undefined) {
      fund.id = fundId;
      const cash = engine.state.ledger.accounts.get(fundId)?.cash ?? 0n;
      if (cash !== lastFund) {
        fund.ts.push(event.ts);
        fund.balance.push(toNumber(cash));
        lastFund = cash;
      }
      if (event.type === 'InsuranceFundDrawn') draws.push({ ts: event.ts, amount: event.amount, account: event.account, balance: toNumber(cash) });
    }
  }

  const accounts: WorstAccount[] = [];
  const lending = engine.state.rules?.model === 'lending';
  for (const account of engine.state.ledger.accounts.values()) {
    const status = statusOf(engine.state, account.id);
    if (status === 'system') continue;
    // the totals are all the table needs: no per-position view (liquidation prices, greeks) per account
    const { equity, maintenanceMargin } = accountTotals(engine.state, account);
    const open = [...account.positions.values()].filter((p) => p.qty !== 0n).sort((a, b) => (a.instrument < b.instrument ? -1 : 1));
    accounts.push({
      id: account.id,
      status,
      equity,
      cash: account.cash,
      maintenanceMargin,
      netDeposits: netDeposits.get(account.id) ?? 0n,
      positions: open.map((p) => `${p.instrument} ${formatFixed(p.qty)}`),
      healthFactor: lending ? healthFactorFixed(engine.state.ledger, engine.state.rules!, account) : undefined,
    });
  }
  // lowest equity first; among equals (e.g. the wiped-out at 0) the biggest loss first
  const pnl = (a: WorstAccount): Fixed => a.equity - a.netDeposits;
  accounts.sort((a, b) => (a.equity !== b.equity ? (a.equity < b.equity ? -1 : 1) : pnl(a) !== pnl(b) ? (pnl(a) < pnl(b) ? -1 : 1) : a.id < b.id ? -1 : 1));

  return {
    summary: engine.summary({ accounts: false }),
    firstTs,
    lastTs,
    prices: [...prices.values()],
    decisionTimes,
    fund,
    draws,
    bankruptcies,
    worst: accounts.slice(0, 20),
    accountCount: accounts.length,
    lending,
  };
}

// ---------------------------------------------------------------------------
// Rendering the page
// ---------------------------------------------------------------------------

const TOP = 20;

/** One more point on an instrument's price line. */
function addPrice(prices: Map<string, PriceSeries>, instrument: string, ts: number, price: Fixed): void {
  let series = prices.get(instrument);
  if (!series) {
    series = { instrument, ts: [], price: [], first: price, last: price, low: price, high: price };
    prices.set(instrument, series);
  }
  series.ts.push(ts);
  series.price.push(toNumber(price));
  series.last = price;
  if (price < series.low) series.low = price;
  if (price > series.high) series.high = price;
}

function renderReport(data: ReportData, title: string): string {
  const { summary: s } = data;
  const domain = timeDomain(data.firstTs, data.lastTs);
  const span = data.firstTs === undefined || data.lastTs === undefined ? '—' : `${formatTimestamp(data.firstTs)} → ${formatTimestamp(data.lastTs)} (${duration(data.lastTs - data.firstTs)})`;
  const stats: [string, string][] = [
    ['inputs', count(s.eventsIn)],
    ['decisions', count(s.decisions)],
    ['margin calls (met)', `${count(s.marginCalls)} (${count(s.marginCallsMet)})`],
    ['liquidations', count(s.liquidations)],
    ['bankruptcies', count(s.bankruptcies)],
    ['insurance draws', count(s.insuranceDraws)],
    ['insurance drawn', money(s.insuranceDrawn)],
    ['auto-deleverages', count(s.autoDeleverages)],
    // once an ADL fill happened (docs/rules.md "ADL policies")
    ...(s.adl
      ? ([
          ['ADL accounts', count(s.adl.accountsDeleveraged)],
          ['ADL deficit covered', money(s.adl.deficitCovered)],
          ['ADL profit taken', money(s.adl.profitTaken)],
          ['ADL overshoot', money(s.adl.overshoot)],
        ] as [string, string][])
      : []),
    ['losses socialized', count(s.lossesSocialized)],
    // rules with market impact only (docs/rules.md §11)
    ...(s.markImpacts !== undefined ? ([['cascade waves', count(s.cascadeWaves ?? 0)]] as [string, string][]) : []),
    ['final insurance fund', money(s.insuranceFund)],
  ];

  const priceSeries: Series[] = data.prices.map((p, i) => {
    const base = toNumber(p.first);
    return {
      name: `${p.instrument}: ${money(formatFixed(p.first))} → ${money(formatFixed(p.last))} (low ${money(formatFixed(p.low))}, high ${money(formatFixed(p.high))})`,
      color: PALETTE[i % PALETTE.length]!,
      xs: p.ts,
      ys: p.price.map((v) => (v / base) * 100),
    };
  });
  const pricesChart = lineChart({ domain, series: priceSeries, yTitle: 'mark, first price = 100', empty: 'no PriceUpdated or MarketMoved in the log' });
  const bars = decisionBuckets(data.decisionTimes, domain);
  const decisionsChart = stackedBars({ domain, ...bars, empty: 'no margin calls, liquidations, bankruptcies or auto-deleverages' });
  const fundChart = lineChart({
    domain,
    series: data.fund.ts.length === 0 ? [] : [{ name: `insurance fund (${data.fund.id ?? '—'})`, color: '#2b8a3e', xs: data.fund.ts, ys: data.fund.balance, step: true }],
    markers: data.draws.map((d) => ({ x: d.ts, y: d.balance, label: `${formatTimestamp(d.ts)}: ${money(formatFixed(d.amount))} drawn for ${d.account}` })),
    markerName: 'draws',
    yTitle: 'balance',
    empty: 'the insurance fund never held anything',
  });

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} — clearsim report</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${esc(title)}</h1>
<p class="meta">rules <b>${esc(s.rules ?? '—')}</b> · ${esc(span)} · ${count(data.accountCount)} accounts</p>
<dl class="stats">${stats.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`).join('')}</dl>
<p class="meta">outputHash <code>${esc(s.outputHash)}</code></p>
</header>
<section><h2>Mark prices</h2><p class="note">Each instrument indexed to its first price (= 100); times UTC.</p>${pricesChart}</section>
<section><h2>Margin decisions per ${esc(duration(bars.width))}</h2>${decisionsChart}</section>
<section><h2>Insurance fund</h2><p class="note">Balance after every change; ▼ marks draws for bankruptcies (hover for details).</p>${fundChart}</section>
<section><h2>Largest bankruptcies</h2>${bankruptcyTable(data.bankruptcies)}</section>
<section><h2>Worst final equity</h2>${worstTable(data.worst, data.accountCount, data.lending)}</section>
<footer>clearsim · replayed from the log, ${count(s.eventsIn)} inputs and ${count(s.decisions)} decisions</footer>
</body>
</html>
`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#212529;margin:0 auto;padding:24px;max-width:1180px;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 6px}
.meta{color:#495057;margin:4px 0}.note{color:#868e96;margin:0 0 6px;font-size:13px}
code{font:12px ui-monospace,Menlo,Consolas,monospace;word-break:break-all}
.stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:8px;margin:12px 0}
.stats div{background:#f1f3f5;border-radius:6px;padding:8px 10px}.stats dt{font-size:12px;color:#495057}.stats dd{margin:0;font-size:17px;font-weight:600}
svg{display:block;width:100%;height:auto;font-size:11px}svg text{fill:#495057}
.grid{stroke:#e9ecef}.axis{stroke:#adb5bd}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{padding:4px 8px;border-bottom:1px solid #e9ecef;text-align:left}
th{background:#f8f9fa;font-weight:600}.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;color:#fff}
.bankrupt{background:#c92a2a}.liquidated{background:#e8590c}.margin-call{background:#f59f00}.healthy{background:#2b8a3e}
footer{margin-top:32px;color:#adb5bd;font-size:12px}
`;

function bankruptcyTable(all: Bankruptcy[]): string {
  if (all.length === 0) return '<p class="note">No account went bankrupt.</p>';
  const top = [...all].sort((a, b) => (a.deficit !== b.deficit ? (a.deficit > b.deficit ? -1 : 1) : a.ts - b.ts)).slice(0, TOP);
  const rows = top.map(
    (b, i) =>
      `<tr><td class="n">${i + 1}</td><td>${esc(b.account)}${b.instrument ? ` <small>(${esc(b.instrument)})</small>` : ''}</td><td>${esc(formatTimestamp(b.ts))}</td>` +
      `<td class="n">${money(formatFixed(b.deficit))}</td><td class="n">${amountOrDash(b.drawn)}</td><td class="n">${b.adlFills ? count(b.adlFills) : '—'}</td><td class="n">${amountOrDash(b.socialized)}</td></tr>`,
  );
  return `${shown(top.length, all.length, 'bankruptcies', 'by deficit')}<table><thead><tr><th class="n">#</th><th>account</th><th>time (UTC)</th><th class="n">deficit</th><th class="n">insurance drawn</th><th class="n">ADL fills</th><th class="n">socialized</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function worstTable(worst: WorstAccount[], total: number, lending: boolean): string {
  if (worst.length === 0) return '<p class="note">No trading accounts.</p>';
  // lending: the health factor (collateral × liquidation threshold / debt; ∞ without debt) beside the margin
  const hf = (a: WorstAccount): string => (lending ? `<td class="n">${a.healthFactor === undefined ? '∞' : esc(formatFixed(a.healthFactor))}</td>` : '');
  const rows = worst.map((a) => {
    const positions = a.positions.length === 0 ? '—' : a.positions.slice(0, 3).join(', ') + (a.positions.length > 3 ? ` +${a.positions.length - 3} more` : '');
    return `<tr><td>${esc(a.id)}</td><td><span class="badge ${a.status}">${esc(a.status)}</span></td><td class="n">${money(formatFixed(a.equity))}</td><td class="n">${money(formatFixed(a.cash))}</td><td class="n">${money(formatFixed(a.netDeposits))}</td><td class="n">${money(formatFixed(a.equity - a.netDeposits))}</td><td class="n">${money(formatFixed(a.maintenanceMargin))}</td>${hf(a)}<td>${esc(positions)}</td></tr>`;
  });
  return `${shown(worst.length, total, 'accounts', 'lowest equity first, system accounts excluded')}<table><thead><tr><th>account</th><th>status</th><th class="n">equity</th><th class="n">cash</th><th class="n">net deposits</th><th class="n">P&amp;L</th><th class="n">maint. margin</th>${lending ? '<th class="n">health factor</th>' : ''}<th>open positions</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function amountOrDash(v: Fixed): string {
  return v === 0n ? '—' : money(formatFixed(v));
}

function shown(n: number, total: number, what: string, order: string): string {
  return `<p class="note">${n < total ? `Top ${n} of ${count(total)} ${what}` : `All ${count(total)} ${what}`}, ${esc(order)}.</p>`;
}

// ---------------------------------------------------------------------------
// SVG charts
// ---------------------------------------------------------------------------

const W = 1100;
const M = { left: 64, right: 16, bottom: 44 };
const PLOT_W = W - M.left - M.right;
const PLOT_H = 222;

/** A chart's vertical layout: the legend rows on top, then the plot, then the time axis. */
interface Frame {
  legend: string;
  top: number;
  bottom: number;
}

/** Lays the legend out in rows that fit the width (11px text is ~6.2 px per character). */
function frame(items: { label: string; color: string }[]): Frame {
  let x = M.left;
  let y = 8;
  const legend = items.map((item) => {
    const width = 17 + item.label.length * 6.2 + 22;
    if (x > M.left && x + width > W - M.right) {
      x = M.left;
      y += 18;
    }
    const entry = `<rect x="${x}" y="${y}" width="12" height="12" rx="2" fill="${item.color}"/><text x="${x + 17}" y="${y + 10}">${esc(item.label)}</text>`;
    x += width;
    return entry;
  });
  const top = y + 26;
  return { legend: legend.join(''), top, bottom: top + PLOT_H };
}

interface Series {
  name: string;
  color: string;
  xs: number[];
  ys: number[];
  /** Draw as a step line (the value holds until the next point). */
  step?: boolean;
}

interface Marker {
  x: number;
  y: number;
  label: string;
}

/** Time series on a shared time axis; every series is down-sampled to ≤ 1500 points. */
function lineChart(o: { domain: [number, number]; series: Series[]; yTitle: string; empty: string; markers?: Marker[]; markerName?: string }): string {
  const series = o.series.filter((s) => s.xs.length > 0).map((s) => ({ ...s, ...downsample(s.xs, s.ys, o.domain) }));
  if (series.length === 0) return emptyChart(o.empty);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of [...series.flatMap((s) => s.ys), ...(o.markers ?? []).map((m) => m.y)]) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const y = niceTicks(lo, hi);
  const markerCount = o.markers?.length ?? 0;
  const f = frame([...series.map((s) => ({ label: s.name, color: s.color })), ...(markerCount ? [{ label: `${o.markerName ?? 'markers'} (${count(markerCount)})`, color: MARKER }] : [])]);
  const sx = scale(o.domain, [M.left, M.left + PLOT_W]);
  const sy = scale([y.min, y.max], [f.bottom, f.top]);
  const lines = series.map((s) => {
    let d = '';
    s.xs.forEach((x, i) => {
      const px = num(sx(x));
      const py = num(sy(s.ys[i]!));
      d += i === 0 ? `M${px} ${py}` : s.step ? `H${px}V${py}` : `L${px} ${py}`;
    });
    if (s.step) d += `H${num(sx(o.domain[1]))}`;
    return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5" stroke-linejoin="round"><title>${esc(s.name)}</title></path>`;
  });
  // one marker per pixel column, so thousands of draws stay readable
  const columns = new Map<number, Marker[]>();
  for (const m of o.markers ?? []) {
    const column = Math.round(sx(m.x));
    const list = columns.get(column);
    if (list) list.push(m);
    else columns.set(column, [m]);
  }
  const markers = [...columns].map(([px, ms]) => {
    const low = ms.reduce((min, m) => Math.min(min, m.y), Infinity);
    const label = ms.length <= 5 ? ms.map((m) => m.label).join('\n') : `${ms.length} ${o.markerName ?? 'markers'}\n${ms[0]!.label}\n…\n${ms[ms.length - 1]!.label}`;
    return `<path d="M${px - 4} ${num(sy(low) - 9)}h8l-4 7z" fill="${MARKER}"><title>${esc(label)}</title></path>`;
  });
  return svg(f, `${yAxis(f, y, sy, o.yTitle)}${timeAxis(f, o.domain, sx)}${lines.join('')}${markers.join('')}`);
}

/** Counts per time bucket, stacked bottom-to-top in `layers` order. */
function stackedBars(o: { domain: [number, number]; start: number; width: number; layers: { label: string; color: string; counts: number[] }[]; empty: string }): string {
  const buckets = o.layers[0]?.counts.length ?? 0;
  const totals = Array.from({ length: buckets }, (_, i) => o.layers.reduce((sum, l) => sum + l.counts[i]!, 0));
  if (totals.every((t) => t === 0)) return emptyChart(o.empty);
  const y = niceTicks(0, totals.reduce((a, b) => Math.max(a, b), 0));
  const domain: [number, number] = [Math.min(o.domain[0], o.start), Math.max(o.domain[1], o.start + buckets * o.width)];
  const f = frame(o.layers.map((l) => ({ label: `${l.label} (${count(l.counts.reduce((a, b) => a + b, 0))})`, color: l.color })));
  const sx = scale(domain, [M.left, M.left + PLOT_W]);
  const sy = scale([y.min, y.max], [f.bottom, f.top]);
  const barWidth = Math.max(1, sx(o.start + o.width) - sx(o.start) - 1);
  let rects = '';
  for (let i = 0; i < buckets; i++) {
    if (totals[i] === 0) continue;
    const from = o.start + i * o.width;
    let base = 0;
    for (const layer of o.layers) {
      const n = layer.counts[i]!;
      if (n === 0) continue;
      const top = sy(base + n);
      rects += `<rect x="${num(sx(from) + 0.5)}" y="${num(top)}" width="${num(barWidth)}" height="${num(sy(base) - top)}" fill="${layer.color}"><title>${esc(`${formatTimestamp(from)} – ${formatTimestamp(from + o.width)}: ${n} ${layer.label}`)}</title></rect>`;
      base += n;
    }
  }
  return svg(f, `${yAxis(f, y, sy, 'decisions')}${timeAxis(f, domain, sx)}${rects}`);
}

function decisionBuckets(times: Map<DecisionType, number[]>, domain: [number, number]): { start: number; width: number; layers: { label: string; color: string; counts: number[] }[] } {
  const width = BUCKETS.find((w) => (domain[1] - domain[0]) / w <= 120) ?? BUCKETS[BUCKETS.length - 1]!;
  const start = Math.floor(domain[0] / width) * width;
  const n = Math.max(1, Math.ceil((domain[1] - start) / width));
  const layers = STACKED.map((s) => {
    const counts = new Array<number>(n).fill(0);
    for (const t of times.get(s.type) ?? []) counts[Math.min(n - 1, Math.max(0, Math.floor((t - start) / width)))]!++;
    return { label: s.label, color: s.color, counts };
  });
  return { start, width, layers };
}

function svg(f: Frame, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${f.bottom + M.bottom}" role="img">${f.legend}${body}</svg>`;
}

function emptyChart(message: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} 60" role="img"><rect x="0.5" y="0.5" width="${W - 1}" height="59" fill="#f8f9fa" stroke="#e9ecef"/><text x="${W / 2}" y="35" text-anchor="middle">${esc(message)}</text></svg>`;
}

function yAxis(f: Frame, y: Ticks, sy: (v: number) => number, title: string): string {
  const ticks = y.ticks
    .map((v) => `<line class="grid" x1="${M.left}" x2="${M.left + PLOT_W}" y1="${num(sy(v))}" y2="${num(sy(v))}"/><text x="${M.left - 6}" y="${num(sy(v) + 4)}" text-anchor="end">${esc(tickLabel(v, y.step))}</text>`)
    .join('');
  const mid = f.top + PLOT_H / 2;
  return `${ticks}<text x="14" y="${mid}" transform="rotate(-90 14 ${mid})" text-anchor="middle">${esc(title)}</text>`;
}

/** UTC ticks at round times; the date is printed under the first tick and wherever the day changes. */
function timeAxis(f: Frame, domain: [number, number], sx: (t: number) => number): string {
  const step = TIME_STEPS.find((s) => (domain[1] - domain[0]) / s <= 9) ?? TIME_STEPS[TIME_STEPS.length - 1]!;
  const bottom = f.bottom;
  let out = `<line class="axis" x1="${M.left}" x2="${M.left + PLOT_W}" y1="${bottom}" y2="${bottom}"/>`;
  let lastDay = '';
  for (let t = Math.ceil(domain[0] / step) * step; t <= domain[1]; t += step) {
    const iso = formatTimestamp(t);
    const day = iso.slice(0, 10);
    const x = num(sx(t));
    const label = step >= DAY ? day : `${iso.slice(11, step < MINUTE ? 19 : 16)}${day !== lastDay ? `<tspan x="${x}" dy="14">${day}</tspan>` : ''}`;
    lastDay = day;
    out += `<line class="axis" x1="${x}" x2="${x}" y1="${bottom}" y2="${bottom + 4}"/><text x="${x}" y="${bottom + 16}" text-anchor="middle">${label}</text>`;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Numbers: scales, nice ticks, down-sampling, formatting
// ---------------------------------------------------------------------------

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const BUCKETS = [SECOND, 5 * SECOND, 15 * SECOND, 30 * SECOND, MINUTE, 2 * MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 30 * DAY, 365 * DAY];
const TIME_STEPS = [SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 365 * DAY];

/** The run's time span, widened when it is a single instant so every scale has a width. */
function timeDomain(first: number | undefined, last: number | undefined): [number, number] {
  if (first === undefined || last === undefined) return [0, MINUTE];
  return last > first ? [first, last] : [first - 30 * SECOND, first + 30 * SECOND];
}

function scale([d0, d1]: [number, number], [r0, r1]: [number, number]): (v: number) => number {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/** The "nice" number closest to `x`: 1, 2 or 5 × 10^k (after Heckbert, Graphics Gems I). */
function niceNumber(x: number): number {
  const exp = Math.floor(Math.log10(x));
  const f = x / 10 ** exp;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * 10 ** exp;
}

export interface Ticks {
  min: number;
  max: number;
  step: number;
  ticks: number[];
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): Ticks {
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.05;
    lo -= pad;
    hi += pad;
  }
  const step = niceNumber((hi - lo) / (count - 1));
  const min = Math.floor(lo / step) * step;
  const max = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let i = 0; min + i * step <= max + step / 2; i++) ticks.push(Number((min + i * step).toPrecision(12)));
  return { min, max, step, ticks };
}

/**
 * Reduces a series to at most ~`maxPoints` points: the domain is cut into
 * maxPoints/2 buckets and each keeps its lowest and its highest point (in time
 * order), so a one-tick crash wick survives any zoom level.
 */
export function downsample(xs: number[], ys: number[], domain: [number, number], maxPoints = 1500): { xs: number[]; ys: number[] } {
  if (xs.length <= maxPoints) return { xs, ys };
  const buckets = Math.floor(maxPoints / 2);
  const width = (domain[1] - domain[0]) / buckets || 1;
  const outX: number[] = [];
  const outY: number[] = [];
  let i = 0;
  while (i < xs.length) {
    const bucket = Math.min(buckets - 1, Math.floor((xs[i]! - domain[0]) / width));
    let lo = i;
    let hi = i;
    let j = i;
    for (; j < xs.length && Math.min(buckets - 1, Math.floor((xs[j]! - domain[0]) / width)) === bucket; j++) {
      if (ys[j]! < ys[lo]!) lo = j;
      if (ys[j]! > ys[hi]!) hi = j;
    }
    for (const k of lo === hi ? [lo] : lo < hi ? [lo, hi] : [hi, lo]) {
      outX.push(xs[k]!);
      outY.push(ys[k]!);
    }
    i = j;
  }
  return { xs: outX, ys: outY };
}

/** An SVG coordinate, one decimal. */
function num(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** Axis label: 25k, 1.5M, 0.02 — as many decimals as the step needs. */
export function tickLabel(v: number, step: number): string {
  if (v === 0) return '0';
  const max = Math.max(Math.abs(v), step);
  const [div, suffix] = max >= 1e9 ? [1e9, 'B'] : max >= 1e6 ? [1e6, 'M'] : max >= 1e4 ? [1e3, 'k'] : [1, ''];
  const decimals = Math.max(0, -Math.floor(Math.log10(step / div) + 1e-9));
  return (v / div).toFixed(Math.min(decimals, 8)).replace(/^-(0\.?0*)$/, '$1') + suffix;
}

/** A decimal string with its integer part grouped by thousands: exact, no rounding. */
function money(text: string): string {
  const [int, frac] = text.split('.');
  return int!.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (frac ? `.${frac}` : '');
}

function count(n: number): string {
  return money(String(n));
}

function duration(ms: number): string {
  if (ms < MINUTE) return `${Math.round(ms / SECOND)} s`;
  const minutes = Math.round(ms / MINUTE);
  if (minutes < 60) return `${minutes} min`;
  if (minutes < 24 * 60) return `${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
  const hours = Math.round(ms / HOUR);
  return `${Math.floor(hours / 24)} d${hours % 24 ? ` ${hours % 24} h` : ''}`;
}

/** Escapes text for HTML content and attribute values (SVG included). */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

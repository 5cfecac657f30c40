import { writeFile } from 'node:fs/promises';
import type { AccountPeriod } from '@clearsim/risk-models';
import { esc, niceTicks, tickLabel } from './html-report';

export interface BacktestModelResult {
  rules: string;
  rows: readonly AccountPeriod[];
  summary: Record<string, string | number>;
}

const W = 520;
const H = 420;
const PAD = 56;

const CLIP: [number, number] = [-3, 6];

/**
 * One scatter per rule set: each point an (account, period) — the period (x)
 * against the loss realized over it as a multiple of the margin held at its
 * start (y), clipped to [−3, 6]. Above the line at 1 is an exceedance (red).
 * Scale-free, so a market maker's book does not flatten the traders'.
 * Down-sampled deterministically to 4,000 points, keeping every exceedance.
 */
function scatter(model: BacktestModelResult): string {
  const rows = model.rows.filter((r) => r.margin > 0);
  const exceed = rows.filter((r) => r.realizedLoss > r.margin);
  const rest = rows.filter((r) => r.realizedLoss <= r.margin);
  const step = Math.max(1, Math.ceil(rest.length / Math.max(1, 4000 - exceed.length)));
  const points = [...rest.filter((_, i) => i % step === 0), ...exceed];
  const lastPeriod = Math.max(1, ...rows.map((r) => r.period));
  const xTicks = niceTicks(0, lastPeriod);
  const yTicks = niceTicks(CLIP[0], CLIP[1]);
  const x = (v: number) => PAD + (v / xTicks.max) * (W - PAD - 16);
  const y = (v: number) => H - PAD - ((v - yTicks.min) / (yTicks.max - yTicks.min)) * (H - PAD - 16);
  const grid = [
    ...xTicks.ticks.map((t) => `<line x1="${x(t)}" y1="${y(yTicks.min)}" x2="${x(t)}" y2="${y(yTicks.max)}" class="grid"/><text x="${x(t)}" y="${H - PAD + 16}" text-anchor="middle">${esc(tickLabel(t, xTicks.step))}</text>`),
    ...yTicks.ticks.map((t) => `<line x1="${x(0)}" y1="${y(t)}" x2="${x(xTicks.max)}" y2="${y(t)}" class="grid"/><text x="${PAD - 6}" y="${y(t) + 4}" text-anchor="end">${esc(tickLabel(t, yTicks.step))}×</text>`),
  ].join('');
  const limit = `<line x1="${x(0)}" y1="${y(1)}" x2="${x(xTicks.max)}" y2="${y(1)}" class="diag"/>`;
  const dots = points
    .map((p) => {
      const ratio = Math.min(CLIP[1], Math.max(CLIP[0], p.realizedLoss / p.margin));
      const out = p.realizedLoss > p.margin;
      return `<circle cx="${x(p.period).toFixed(1)}" cy="${y(ratio).toFixed(1)}" r="${out ? 2.6 : 1.6}" class="${out ? 'out' : 'in'}"><title>${esc(`${p.account}, period ${p.period}: margin ${p.margin.toFixed(2)}, loss ${p.realizedLoss.toFixed(2)}`)}</title></circle>`;
    })
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="realized loss over margin per period, ${esc(model.rules)}">${grid}${limit}${dots}<text x="${(W + PAD) / 2}" y="${H - 12}" text-anchor="middle" class="axis">margin period</text><text transform="translate(14 ${(H - PAD) / 2}) rotate(-90)" text-anchor="middle" class="axis">loss over the period ÷ margin held at its start</text></svg>`;
}

/** A self-contained HTML page: the statistics of each rule set and its scatter. */
export async function writeBacktestReport(file: string, title: string, models: readonly BacktestModelResult[]): Promise<void> {
  const sections = models
    .map(
      (m) => `<section><h2>${esc(m.rules)}</h2><table>${Object.entries(m.summary)
        .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`)
        .join('')}</table>${scatter(m)}</section>`,
    )
    .join('');
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222}section{display:inline-block;vertical-align:top;margin:0 24px 24px 0}
table{border-collapse:collapse;margin-bottom:8px}th,td{padding:2px 10px;border-bottom:1px solid #eee;text-align:left}
svg text{font-size:11px;fill:#555}.grid{stroke:#eee}.diag{stroke:#999;stroke-dasharray:4 3}.in{fill:#2b6cb0;fill-opacity:.35}.out{fill:#c53030}.axis{font-size:12px;fill:#333}
</style></head><body><h1>${esc(title)}</h1><p>Each point is one account over one margin period: the loss its positions (held fixed) realized by the end, as a multiple of the margin it held at the start. Red points, above the dashed line at 1×, are exceedances.</p>${sections}</body></html>`;
  await writeFile(file, html);
}

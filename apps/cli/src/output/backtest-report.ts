import { writeFile } from 'node:fs/promises';
import type { AccountBacktest, AccountPeriod } from '@clearsim/risk-models';
import { deltas } from './report-data';
import { renderPage } from './report-page';

export interface BacktestModelResult {
  rules: string;
  rows: readonly AccountPeriod[];
  summary: Record<string, string | number>;
  result: AccountBacktest;
}

/** The y axis of the scatter, in multiples of the margin held: points beyond it are drawn on its edge and counted. */
export const BACKTEST_AXIS: [number, number] = [-3, 6];
/** Points drawn per rule set: every exceedance, the others thinned evenly (a stride) to fill the rest. */
export const BACKTEST_POINTS = 4000;

export interface BacktestSettings {
  periodSeconds: number;
  confidence: number;
  margin: 'initial' | 'maintenance';
  /** The start (ms) of period 0: the first input's period. */
  origin: number;
}

const fmt = (x: number, digits = 4): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

/** The page's data for one rule set: the drawn points on a time axis, what lies beyond the axis, the per-account table. */
export function backtestModelData(model: BacktestModelResult, settings: BacktestSettings) {
  const periodMs = settings.periodSeconds * 1000;
  const rows = model.rows.filter((r) => r.margin > 0);
  const exceeded = rows.filter((r) => r.realizedLoss > r.margin);
  const rest = rows.filter((r) => r.realizedLoss <= r.margin);
  const step = Math.max(1, Math.ceil(rest.length / Math.max(1, BACKTEST_POINTS - exceeded.length)));
  const drawn = [...rest.filter((_, i) => i % step === 0), ...exceeded].sort((a, b) => a.period - b.period || (a.account < b.account ? -1 : 1));
  const ratio = (r: AccountPeriod): number => r.realizedLoss / r.margin;
  const round = (v: number): number => Number(v.toPrecision(6));
  const periods = rows.map((r) => r.period);
  const accounts = [...model.result.accounts]
    .sort((a, b) => b.exceedances - a.exceedances || (a.account < b.account ? -1 : 1))
    .map((a) => ({ account: a.account, observations: a.observations, exceedances: a.exceedances, coverage: fmt(a.coverage), kupiecP: fmt(a.kupiec.pValue), zone: a.zone }));
  return {
    rules: model.rules,
    summary: model.summary,
    total: rows.length,
    range: rows.length ? [settings.origin + Math.min(...periods) * periodMs, settings.origin + Math.max(...periods) * periodMs] : null,
    beyond: { above: rows.filter((r) => ratio(r) > BACKTEST_AXIS[1]).length, below: rows.filter((r) => ratio(r) < BACKTEST_AXIS[0]).length },
    points: {
      t: deltas(drawn.map((r) => settings.origin + r.period * periodMs)),
      ratio: drawn.map((r) => round(ratio(r))),
      exceeded: drawn.map((r) => (r.realizedLoss > r.margin ? 1 : 0)),
      account: drawn.map((r) => r.account),
      margin: drawn.map((r) => round(r.margin)),
      loss: drawn.map((r) => round(r.realizedLoss)),
    },
    accounts,
  };
}

/**
 * `clearsim backtest --report`: one self-contained page (report-page.ts) with,
 * per rule set, its statistics, a scatter of (account, period) — the loss
 * realized over the period as a multiple of the margin held at its start —
 * on a time axis, and the per-account table the CLI prints (all accounts).
 */
export async function writeBacktestReport(file: string, title: string, models: readonly BacktestModelResult[], settings: BacktestSettings): Promise<void> {
  const data = {
    periodMs: settings.periodSeconds * 1000,
    confidence: settings.confidence,
    margin: settings.margin,
    clip: BACKTEST_AXIS,
    models: models.map((m) => backtestModelData(m, settings)),
  };
  await writeFile(file, renderPage('backtest', title, data));
}

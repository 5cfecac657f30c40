import { toNumber } from '@clearsim/money';
import { isSystemAccount } from '@clearsim/rules';
import { backtestByAccount, type AccountBacktest, type AccountPeriod } from '@clearsim/risk-models';
import type { ClearingState } from './clearing.state';
import { accountTotals } from './views';

interface OpenObservation {
  margin: number;
  /** The positions held at the start of the period, and their value then. */
  positions: { instrument: string; qty: number; multiplier: number; mark: number }[];
}

/**
 * Collects backtest observations while a history is run: for every account
 * and every margin period, the margin held at the start (IM, or MM) and the
 * loss the positions held at the start realize over the period, revalued at
 * the marks at its end (a static portfolio — the hypothetical P&L of
 * regulatory backtesting: trades and liquidations within the period do not
 * count). Call `beforeInput` with each input's ts, before the engine handles it.
 */
export class BacktestRecorder {
  private period: number | undefined;
  private first = 0;
  private open = new Map<string, OpenObservation>();
  readonly rows: AccountPeriod[] = [];

  constructor(
    private readonly periodSeconds: number,
    private readonly margin: 'initial' | 'maintenance' = 'initial',
  ) {}

  beforeInput(state: ClearingState, ts: number): void {
    const period = Math.floor(ts / (this.periodSeconds * 1000));
    if (this.period === undefined) {
      this.period = period;
      this.first = period;
    }
    if (period === this.period) return;
    this.close(state);
    this.period = period;
    this.openAll(state);
  }

  /** Closes the open period at the current marks. */
  close(state: ClearingState): void {
    for (const [account, observation] of this.open) {
      let loss = 0;
      for (const p of observation.positions) {
        const end = state.ledger.instruments.get(p.instrument)?.mark;
        if (end !== undefined) loss -= p.qty * (toNumber(end) - p.mark) * p.multiplier;
      }
      // periods are numbered from the run's first (0)
      this.rows.push({ account, period: this.period! - this.first, margin: observation.margin, realizedLoss: loss });
    }
    this.open.clear();
  }

  private openAll(state: ClearingState): void {
    const rules = state.rules;
    if (!rules) return;
    for (const account of [...state.ledger.accounts.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
      if (isSystemAccount(rules, account.id)) continue;
      const positions = [...account.positions.values()].filter((p) => p.qty !== 0n);
      if (positions.length === 0) continue;
      const totals = accountTotals(state, account);
      const margin = this.margin === 'initial' ? totals.initialMargin : totals.maintenanceMargin;
      this.open.set(account.id, {
        margin: toNumber(margin),
        positions: positions.map((p) => {
          const instrument = state.ledger.instruments.get(p.instrument)!;
          return { instrument: p.instrument, qty: toNumber(p.qty), multiplier: toNumber(instrument.multiplier), mark: toNumber(instrument.mark!) };
        }),
      });
    }
  }

  /** Per account and pooled: observations, exceedances, coverage, Kupiec, Christoffersen, traffic light. */
  report(confidence: number): AccountBacktest {
    return backtestByAccount(this.rows, confidence);
  }
}

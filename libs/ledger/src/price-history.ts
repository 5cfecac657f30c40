import { toNumber, type Fixed } from '@clearsim/money';
import type { LedgerState } from './ledger.state';

/**
 * Records a price in an instrument's sampled history: log time is cut into
 * periods of `sampleMs`; the last price of a period is its close, and each new
 * period appends the simple return close(previous) → close(just ended),
 * keeping the newest `capacity`. Deterministic: only the log's own ts and prices.
 */
export function recordPrice(ledger: LedgerState, instrument: string, price: Fixed, ts: number, sampleMs: number, capacity: number): void {
  const period = Math.floor(ts / sampleMs);
  const value = toNumber(price);
  const series = ledger.priceHistory.get(instrument);
  if (!series) {
    ledger.priceHistory.set(instrument, { period, last: value, returns: [] });
    return;
  }
  if (period > series.period) {
    if (series.close !== undefined && series.close > 0) {
      series.returns.push(series.last / series.close - 1);
      if (series.returns.length > capacity) series.returns.splice(0, series.returns.length - capacity);
    }
    series.close = series.last;
    series.period = period;
  }
  series.last = value;
}

/** The returns of an instrument's history (oldest first), empty when none. */
export function returnsOf(ledger: LedgerState, instrument: string): readonly number[] {
  return ledger.priceHistory.get(instrument)?.returns ?? [];
}

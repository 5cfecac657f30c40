import { fromNumber, toNumber, type Fixed } from '@clearsim/money';
import { black76Price, volatilityFor, yearsToExpiry } from '@clearsim/options';
import type { Instrument, LedgerState } from './ledger.state';

/** The instrument whose price moves an instrument: its `underlying` if that is listed, else itself. */
export function underlyingOf(instrument: Instrument): string {
  return instrument.underlying ?? instrument.id;
}

/**
 * An option's mark by Black-76: the underlying's mark as the forward, T =
 * (expiry − ts) / 365 days, the implied vol of the surface at (strike,
 * expiry), r = the rules' riskFreeRate; rounded down to 10^-8. Undefined when
 * the underlying has no price or no vol is known (the mark then stays what it
 * was, e.g. a PriceUpdated on the option itself).
 */
export function optionMark(ledger: LedgerState, option: Instrument, ts: number, riskFreeRate: Fixed): Fixed | undefined {
  const underlying = option.underlying === undefined ? undefined : ledger.instruments.get(option.underlying);
  if (!underlying?.mark || option.strike === undefined || option.expiry === undefined) return undefined;
  const volatility = volatilityFor(ledger.volatility, underlying.id, toNumber(option.strike), option.expiry);
  if (volatility === undefined) return undefined;
  const price = black76Price({
    forward: toNumber(underlying.mark),
    strike: toNumber(option.strike),
    years: yearsToExpiry(option.expiry, ts),
    volatility,
    rate: toNumber(riskFreeRate),
    type: option.optionType ?? 'call',
  });
  return fromNumber(price, 'floor');
}

/** Re-derives the marks of the live options on `underlying` (all underlyings when undefined) at time `ts`. */
export function refreshOptionMarks(ledger: LedgerState, ts: number, riskFreeRate: Fixed, underlying?: string): void {
  // most price updates are of an instrument no option is written on: nothing to scan
  if (underlying !== undefined && !ledger.underlyingsWithOptions.has(underlying)) return;
  for (const instrument of ledger.instruments.values()) {
    if (!instrument.premiumStyle || instrument.settled) continue;
    if (underlying !== undefined && instrument.underlying !== underlying) continue;
    const mark = optionMark(ledger, instrument, ts, riskFreeRate);
    if (mark !== undefined) {
      instrument.mark = mark;
      instrument.markedAt = ts;
    }
  }
}

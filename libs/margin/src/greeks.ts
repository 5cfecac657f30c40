import { toNumber } from '@clearsim/money';
import { black76Greeks, positionGreeks, accountGreeksByUnderlying, UNDERLYING_GREEKS, volatilityFor, yearsToExpiry, type Greeks } from '@clearsim/options';
import { underlyingOf, type Account, type Instrument, type LedgerState, type Position } from '@clearsim/ledger';
import type { Rules } from '@clearsim/rules';

/**
 * Greeks of one unit of an instrument with respect to its underlying's price:
 * Black-76 for an option (at the vol of the surface, time from its last
 * marking), delta 1 for a future or perpetual. Undefined when an option
 * cannot be priced (no underlying price or vol).
 */
export function unitGreeks(ledger: LedgerState, rules: Rules, instrument: Instrument): Greeks | undefined {
  if (!instrument.premiumStyle) return UNDERLYING_GREEKS;
  const underlying = ledger.instruments.get(underlyingOf(instrument));
  if (!underlying?.mark || instrument.strike === undefined || instrument.expiry === undefined) return undefined;
  const volatility = volatilityFor(ledger.volatility, underlying.id, toNumber(instrument.strike), instrument.expiry);
  if (volatility === undefined) return undefined;
  return black76Greeks({
    forward: toNumber(underlying.mark),
    strike: toNumber(instrument.strike),
    years: yearsToExpiry(instrument.expiry, instrument.markedAt ?? instrument.expiry),
    volatility,
    rate: toNumber(rules.riskFreeRate),
    type: instrument.optionType ?? 'call',
  });
}

/** A position's greeks: unit greeks × qty × multiplier (delta in units of the underlying, vega per 1.00 of vol, theta per year). */
export function positionGreeksOf(ledger: LedgerState, rules: Rules, position: Position): Greeks | undefined {
  const instrument = ledger.instruments.get(position.instrument);
  const unit = instrument && unitGreeks(ledger, rules, instrument);
  return unit && positionGreeks(unit, toNumber(position.qty), toNumber(instrument!.multiplier));
}

/** An account's greeks per underlying, in underlying order. */
export function accountGreeks(ledger: LedgerState, rules: Rules, account: Account): { underlying: string; greeks: Greeks }[] {
  const positions = [...account.positions.values()]
    .filter((p) => p.qty !== 0n)
    .sort((a, b) => (a.instrument < b.instrument ? -1 : 1))
    .flatMap((p) => {
      const instrument = ledger.instruments.get(p.instrument)!;
      const greeks = unitGreeks(ledger, rules, instrument);
      return greeks ? [{ underlying: underlyingOf(instrument), qty: toNumber(p.qty), multiplier: toNumber(instrument.multiplier), greeks }] : [];
    });
  return accountGreeksByUnderlying(positions);
}

import { max, ZERO, type Fixed } from '@clearsim/money';
import type { OptionType } from './black76';

/**
 * The cash settlement of one unit at expiry, exact in ledger units: a call
 * pays max(S − K, 0), a put max(K − S, 0), S the underlying's settlement
 * price. Settlement is a payoff, not a model value, so it is computed on the
 * fixed-point prices and never through black76Price (no float, no rounding).
 * A position receives (or, short, pays) qty × this × multiplier, rounded as
 * the ledger rounds any amount that moves between two parties.
 */
export function intrinsicValue(type: OptionType, underlyingPrice: Fixed, strike: Fixed): Fixed {
  return type === 'call' ? max(underlyingPrice - strike, ZERO) : max(strike - underlyingPrice, ZERO);
}

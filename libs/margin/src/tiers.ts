import { abs, divRound, mul, mul3, SCALE, type Fixed } from '@clearsim/money';
import type { Tier } from '@clearsim/rules';

/**
 * The tier a notional falls in: the first with `notional <= upToNotional`;
 * a tier without `upToNotional` is unbounded; above every bounded tier, the last.
 */
export function tierFor(tiers: readonly Tier[], notional: Fixed): Tier {
  for (const tier of tiers) {
    if (tier.upToNotional === undefined || notional <= tier.upToNotional) return tier;
  }
  return tiers[tiers.length - 1]!;
}

/**
 * |qty| × mark × multiplier, rounded up (a larger notional never lowers a requirement);
 * inverse: |qty| × face / mark in coin (the position's value that BitMEX, Binance COIN-M
 * and Deribit margin, and pick the tier by), rounded up.
 */
export function notionalValue(qty: Fixed, mark: Fixed, multiplier: Fixed, inverse = false): Fixed {
  return inverse ? divRound(abs(qty) * multiplier, mark, 'ceil') : mul3(abs(qty), mark, multiplier, 'ceil');
}

/** IM = notional × initialRate, rounded up. */
export function initialMarginOf(notional: Fixed, tier: Tier): Fixed {
  return mul(notional, tier.initialRate, 'ceil');
}

/** MM = notional × maintenanceRate − maintenanceAmount, rounded up, never below 0. */
export function maintenanceMarginOf(notional: Fixed, tier: Tier): Fixed {
  const mm = divRound(notional * tier.maintenanceRate - tier.maintenanceAmount * SCALE, SCALE, 'ceil');
  return mm > 0n ? mm : 0n;
}

import { ZERO_GREEKS, type Greeks } from './black76';

/**
 * Position and account greeks: a unit option's greeks scaled by the signed
 * quantity and the contract multiplier, then summed. Units follow from
 * black76Greeks: delta in units of the underlying (× multiplier), gamma per
 * unit of price, vega per 1.00 of vol, theta per year, rho per 1.00 of rate —
 * all in the price currency.
 *
 * Summing deltas of different underlyings mixes units, so account totals are
 * also given per underlying. Floating-point sums depend on their order: pass
 * positions in a canonical order (e.g. by instrument id) for byte-identical
 * results across runs.
 */
export interface GreeksPosition {
  /** The option's (or future's) underlying, for the per-underlying totals. */
  readonly underlying: string;
  /** Signed quantity in contracts: > 0 long, < 0 short. */
  readonly qty: number;
  /** Units of the underlying per contract. */
  readonly multiplier: number;
  /** Greeks of one unit of the underlying (black76Greeks, or UNDERLYING_GREEKS). */
  readonly greeks: Greeks;
}

/** The greeks of one unit of a linear instrument on the underlying itself (a future or perpetual). */
export const UNDERLYING_GREEKS: Greeks = { delta: 1, gamma: 0, vega: 0, theta: 0, rho: 0 };

/** greeks × qty × multiplier. */
export function positionGreeks(greeks: Greeks, qty: number, multiplier: number): Greeks {
  const scale = qty * multiplier;
  return {
    delta: greeks.delta * scale,
    gamma: greeks.gamma * scale,
    vega: greeks.vega * scale,
    theta: greeks.theta * scale,
    rho: greeks.rho * scale,
  };
}

/** Σ positionGreeks over the list, in list order. */
export function accountGreeks(positions: readonly GreeksPosition[]): Greeks {
  let total = ZERO_GREEKS;
  for (const p of positions) total = addGreeks(total, positionGreeks(p.greeks, p.qty, p.multiplier));
  return total;
}

/** Σ positionGreeks per underlying, ascending by underlying id; within one, in list order. */
export function accountGreeksByUnderlying(
  positions: readonly GreeksPosition[],
): Array<{ readonly underlying: string; readonly greeks: Greeks }> {
  const totals = new Map<string, Greeks>();
  for (const p of positions) {
    const scaled = positionGreeks(p.greeks, p.qty, p.multiplier);
    totals.set(p.underlying, addGreeks(totals.get(p.underlying) ?? ZERO_GREEKS, scaled));
  }
  return [...totals.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([underlying, greeks]) => ({ underlying, greeks }));
}

export function addGreeks(a: Greeks, b: Greeks): Greeks {
  return {
    delta: a.delta + b.delta,
    gamma: a.gamma + b.gamma,
    vega: a.vega + b.vega,
    theta: a.theta + b.theta,
    rho: a.rho + b.rho,
  };
}

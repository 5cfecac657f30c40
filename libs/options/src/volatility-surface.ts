/**
 * The implied volatilities a mark needs: the latest `VolatilityUpdated` per
 * underlying (a flat vol), plus optional points per (strike, expiry). An
 * immutable value: `withVolatility` returns a new surface and never changes its
 * argument, so a state fold can keep it as is.
 *
 * Lookup, `volatilityFor(surface, underlying, strike, expiry)`:
 * 1. the point at exactly (strike, expiry), if one was quoted;
 * 2. else the smile of the nearest quoted expiry (by |Δt|; a tie goes to the
 *    earlier expiry), linearly interpolated in strike between its two
 *    neighbouring points and flat beyond its lowest and highest strike;
 * 3. else the underlying's flat vol;
 * 4. else undefined (no vol: the caller cannot mark the option).
 * No interpolation across expiries, no extrapolation in strike, no arbitrage
 * checks: a deliberately small model.
 *
 * Volatilities are fractions per year (0.25 = 25 %); strikes are in the
 * underlying's price units; expiries are epoch milliseconds.
 */
export interface SmilePoint {
  readonly strike: number;
  readonly volatility: number;
}

export interface Smile {
  readonly expiryMs: number;
  /** Ascending by strike, one point per strike. */
  readonly points: readonly SmilePoint[];
}

export interface UnderlyingVolatility {
  /** The latest vol quoted for the underlying without strike and expiry. */
  readonly flat: number | undefined;
  /** Ascending by expiry, one smile per expiry. */
  readonly smiles: readonly Smile[];
}

export type VolatilitySurface = ReadonlyMap<string, UnderlyingVolatility>;

/** A `VolatilityUpdated`, converted to numbers: strike and expiry come together or not at all. */
export interface VolatilityQuote {
  readonly underlying: string;
  readonly volatility: number;
  readonly strike?: number;
  readonly expiryMs?: number;
}

export const EMPTY_VOLATILITY_SURFACE: VolatilitySurface = new Map();

/**
 * The surface with one more quote: without strike and expiry it replaces the
 * underlying's flat vol; with both it replaces (or adds) the point at that
 * (strike, expiry). Other quotes are kept. Throws a RangeError for a negative
 * or non-finite vol, a non-positive strike, or a strike without an expiry (or
 * the reverse).
 */
export function withVolatility(surface: VolatilitySurface, quote: VolatilityQuote): VolatilitySurface {
  const { underlying, volatility, strike, expiryMs } = quote;
  if (!(Number.isFinite(volatility) && volatility >= 0)) {
    throw new RangeError(`volatility for ${underlying} must be finite and >= 0, got ${volatility}`);
  }
  if ((strike === undefined) !== (expiryMs === undefined)) {
    throw new RangeError(`volatility for ${underlying}: strike and expiry must be given together`);
  }
  const current = surface.get(underlying) ?? { flat: undefined, smiles: [] };
  let next: UnderlyingVolatility;
  if (strike === undefined || expiryMs === undefined) {
    next = { flat: volatility, smiles: current.smiles };
  } else {
    if (!(Number.isFinite(strike) && strike > 0)) {
      throw new RangeError(`volatility for ${underlying}: strike must be finite and > 0, got ${strike}`);
    }
    if (!Number.isFinite(expiryMs)) {
      throw new RangeError(`volatility for ${underlying}: expiry must be finite, got ${expiryMs}`);
    }
    next = { flat: current.flat, smiles: withPoint(current.smiles, expiryMs, { strike, volatility }) };
  }
  const copy = new Map(surface);
  copy.set(underlying, next);
  return copy;
}

/** The vol for an option on `underlying` at (strike, expiry), by the rules in the module comment. */
export function volatilityFor(
  surface: VolatilitySurface,
  underlying: string,
  strike: number,
  expiryMs: number,
): number | undefined {
  const entry = surface.get(underlying);
  if (entry === undefined) return undefined;
  const smile = nearestSmile(entry.smiles, expiryMs);
  if (smile === undefined) return entry.flat;
  return interpolate(smile.points, strike);
}

function withPoint(smiles: readonly Smile[], expiryMs: number, point: SmilePoint): Smile[] {
  const i = smiles.findIndex((s) => s.expiryMs >= expiryMs);
  if (i >= 0 && smiles[i]!.expiryMs === expiryMs) {
    const replaced = { expiryMs, points: withStrike(smiles[i]!.points, point) };
    return [...smiles.slice(0, i), replaced, ...smiles.slice(i + 1)];
  }
  const at = i < 0 ? smiles.length : i;
  return [...smiles.slice(0, at), { expiryMs, points: [point] }, ...smiles.slice(at)];
}

function withStrike(points: readonly SmilePoint[], point: SmilePoint): SmilePoint[] {
  const i = points.findIndex((p) => p.strike >= point.strike);
  if (i >= 0 && points[i]!.strike === point.strike) return [...points.slice(0, i), point, ...points.slice(i + 1)];
  const at = i < 0 ? points.length : i;
  return [...points.slice(0, at), point, ...points.slice(at)];
}

/** The smile whose expiry is closest to `expiryMs`; ties go to the earlier (smiles are ascending). */
function nearestSmile(smiles: readonly Smile[], expiryMs: number): Smile | undefined {
  let best: Smile | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const smile of smiles) {
    const distance = Math.abs(smile.expiryMs - expiryMs);
    if (distance < bestDistance) {
      best = smile;
      bestDistance = distance;
    }
  }
  return best;
}

/** Linear in strike between neighbours, flat beyond the ends; exact at a quoted strike. */
function interpolate(points: readonly SmilePoint[], strike: number): number {
  const first = points[0]!;
  const last = points[points.length - 1]!;
  if (strike <= first.strike) return first.volatility;
  if (strike >= last.strike) return last.volatility;
  let i = 1;
  while (points[i]!.strike < strike) i++;
  const hi = points[i]!;
  if (hi.strike === strike) return hi.volatility;
  const lo = points[i - 1]!;
  const w = (strike - lo.strike) / (hi.strike - lo.strike);
  return lo.volatility + w * (hi.volatility - lo.volatility);
}

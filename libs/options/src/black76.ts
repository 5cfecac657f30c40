import { normalCdf, normalPdf } from './normal';
import { DAYS_PER_YEAR } from './time';

/**
 * Black-76 (F. Black, "The pricing of commodity contracts", J. Financial
 * Economics 3, 1976) for European options, in float64. clearsim uses the
 * underlying's mark as the forward F, T = yearsToExpiry(expiry, ts) and
 * r = the rules' riskFreeRate (default 0):
 *
 *   s  = σ√T,  d1 = ln(F/K)/s + s/2,  d2 = d1 − s,  D = e^{−rT}
 *   call = D·[F·Φ(d1) − K·Φ(d2)]
 *   put  = D·[K·Φ(−d2) − F·Φ(−d1)]
 *
 * Units: prices are per one unit of the underlying, in the price currency
 * (multiply by qty × multiplier for a position). σ is a fraction per year
 * (0.25 = 25 %), r a continuously compounded rate per year, T in years.
 *
 * Numerics: the out-of-the-money side is computed from the formula (clamped at
 * 0) and the in-the-money side from it by put–call parity, C − P = D·(F − K),
 * so a price is never below its discounted intrinsic value, parity holds to
 * rounding, and deep in/out-of-the-money inputs give no NaN. ln(F/K) is
 * ln F − ln K, so extreme ratios do not overflow.
 *
 * Limits, all exact: s = 0 (T ≤ 0 or σ = 0), F = 0 or K = 0 → the discounted
 * intrinsic value D·max(±(F − K), 0) (and at T ≤ 0, D = 1: the intrinsic
 * value); s = ∞ → call D·F, put D·K.
 */
export type OptionType = 'call' | 'put';

export interface Black76Input {
  /** F: the forward — in clearsim the underlying's mark price. ≥ 0. */
  readonly forward: number;
  /** K: the strike, same units as F. ≥ 0. */
  readonly strike: number;
  /** T: years to expiry (see yearsToExpiry); T ≤ 0 means expired. */
  readonly years: number;
  /** σ: the implied volatility, a fraction per year (0.25 = 25 %). ≥ 0. */
  readonly volatility: number;
  /** r: the continuously compounded risk-free rate per year; default 0. */
  readonly rate?: number;
  readonly type: OptionType;
}

/**
 * Sensitivities of one option (one unit of the underlying), all with the
 * forward F as the variable (the underlying's price, held fixed while T or r
 * moves — Black-76, not Black–Scholes with carry).
 */
export interface Greeks {
  /** ∂V/∂F: call D·Φ(d1) ∈ [0, D], put −D·Φ(−d1) ∈ [−D, 0]. */
  readonly delta: number;
  /** ∂²V/∂F² = D·φ(d1) / (F·s); the same for calls and puts. */
  readonly gamma: number;
  /**
   * ∂V/∂σ = D·F·φ(d1)·√T, per 1.00 of volatility (i.e. per 100 vol points):
   * a 1-point move (0.25 → 0.26) changes the price by ≈ vega / 100.
   */
  readonly vega: number;
  /**
   * −∂V/∂T, per year of calendar time passing (negative for a long option
   * when r ≥ 0): r·V − D·F·φ(d1)·σ / (2√T). Per day: thetaPerDay(theta).
   */
  readonly theta: number;
  /** ∂V/∂r = −T·V, per 1.00 of rate (F held fixed). */
  readonly rho: number;
}

interface Parsed {
  readonly f: number;
  readonly k: number;
  readonly t: number;
  readonly sigma: number;
  readonly r: number;
  readonly call: boolean;
  readonly discount: number;
}

function parse(input: Black76Input): Parsed {
  const { forward: f, strike: k, years, volatility: sigma, type } = input;
  const r = input.rate ?? 0;
  if (!(Number.isFinite(f) && f >= 0)) throw new RangeError(`black76: forward must be finite and >= 0, got ${f}`);
  if (!(Number.isFinite(k) && k >= 0)) throw new RangeError(`black76: strike must be finite and >= 0, got ${k}`);
  if (!Number.isFinite(years)) throw new RangeError(`black76: years must be finite, got ${years}`);
  if (!(Number.isFinite(sigma) && sigma >= 0)) {
    throw new RangeError(`black76: volatility must be finite and >= 0, got ${sigma}`);
  }
  if (!Number.isFinite(r)) throw new RangeError(`black76: rate must be finite, got ${r}`);
  if (type !== 'call' && type !== 'put') throw new RangeError(`black76: type must be call or put, got ${String(type)}`);
  const t = years > 0 ? years : 0;
  const discount = Math.exp(-r * t);
  if (!(Number.isFinite(discount) && discount > 0)) {
    throw new RangeError(`black76: the discount factor e^(-rT) is out of range (r ${r}, T ${t})`);
  }
  return { f, k, t, sigma, r, call: type === 'call', discount };
}

/** Black-76 premium of one unit: see the module comment for the formula and its limits. */
export function black76Price(input: Black76Input): number {
  return evaluate(parse(input), false).price;
}

/** Black-76 delta, gamma, vega (per 1.00 vol), theta (per year) and rho (per 1.00 rate). */
export function black76Greeks(input: Black76Input): Greeks {
  return evaluate(parse(input), true).greeks;
}

/** Price and greeks together (one evaluation of d1, d2 and Φ). */
export function black76(input: Black76Input): { readonly price: number; readonly greeks: Greeks } {
  return evaluate(parse(input), true);
}

/** Theta per calendar day (of the 365-day option year) from theta per year. */
export function thetaPerDay(thetaPerYear: number): number {
  return thetaPerYear / DAYS_PER_YEAR;
}

/** Vega per volatility point (0.01 of vol) from vega per 1.00 of vol. */
export function vegaPerPoint(vegaPerUnit: number): number {
  return vegaPerUnit / 100;
}

export const ZERO_GREEKS: Greeks = { delta: 0, gamma: 0, vega: 0, theta: 0, rho: 0 };
const PDF_AT_ZERO = normalPdf(0);

function evaluate(p: Parsed, withGreeks: boolean): { price: number; greeks: Greeks } {
  const { f, k, t, sigma, r, call, discount } = p;
  const s = sigma * Math.sqrt(t);

  if (s === 0 || f === 0 || k === 0) {
    // Deterministic payoff: the discounted intrinsic value. Greeks are the
    // limits as s → 0 away from the money; at F = K the delta is the limit ½·D
    // and gamma (a Dirac mass there) is reported as 0; theta's −F·φ·σ/(2√T)
    // term, which diverges at T = 0 with F = K and σ > 0, is left out.
    const intrinsic = call ? Math.max(f - k, 0) : Math.max(k - f, 0);
    const price = discount * intrinsic;
    if (!withGreeks) return { price, greeks: ZERO_GREEKS };
    const itm = call ? f > k : f < k;
    const atm = f === k;
    const delta = (call ? 1 : -1) * discount * (itm ? 1 : atm ? 0.5 : 0);
    // σ → 0 with T > 0 at the money: vega tends to D·F·√T·φ(0); 0 elsewhere (and at T = 0)
    const vega = atm && f > 0 ? discount * f * Math.sqrt(t) * PDF_AT_ZERO : 0;
    return { price, greeks: { delta, gamma: 0, vega, theta: r * price, rho: -t * price } };
  }

  if (s === Number.POSITIVE_INFINITY) {
    // Infinite dispersion: the call is worth the forward, the put the strike.
    const price = discount * (call ? f : k);
    if (!withGreeks) return { price, greeks: ZERO_GREEKS };
    return { price, greeks: { delta: call ? discount : 0, gamma: 0, vega: 0, theta: r * price, rho: -t * price } };
  }

  const d1 = (Math.log(f) - Math.log(k)) / s + s / 2;
  const d2 = d1 - s;
  // the out-of-the-money side from the formula, the other by parity
  const callOtm = f <= k;
  const otm = callOtm
    ? Math.max(discount * (f * normalCdf(d1) - k * normalCdf(d2)), 0)
    : Math.max(discount * (k * normalCdf(-d2) - f * normalCdf(-d1)), 0);
  const price = call === callOtm ? otm : otm + (call ? 1 : -1) * discount * (f - k);
  if (!withGreeks) return { price, greeks: ZERO_GREEKS };

  const pdf = normalPdf(d1);
  const delta = call ? discount * normalCdf(d1) : -discount * normalCdf(-d1);
  const gamma = pdf === 0 ? 0 : (discount * pdf) / (f * s);
  const sqrtT = Math.sqrt(t);
  const vega = discount * f * pdf * sqrtT;
  const theta = r * price - (discount * f * pdf * sigma) / (2 * sqrtT);
  const rho = -t * price;
  return { price, greeks: { delta, gamma, vega, theta, rho } };
}

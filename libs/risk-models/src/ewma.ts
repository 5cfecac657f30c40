/**
 * EWMA volatility (RiskMetrics 1996) and filtered historical simulation
 * (Hull & White 1998). See README §3.
 *
 * Index convention, for returns r_0 … r_{n−1} (oldest first):
 * - σ²_t is the variance forecast for r_t made with the returns before it;
 * - σ²_0 (the seed) = (1/m) Σ_{i<m} r_i², the zero-mean sample variance of the
 *   first m = min(seedCount, n) returns (RiskMetrics assumes zero-mean returns,
 *   as the recursion does; the seed deliberately looks m returns ahead);
 * - σ²_t = λ σ²_{t−1} + (1 − λ) r²_{t−1}, for t = 1 … n;
 * - σ²_n, which has seen every return, is the current ("now") forecast.
 * All vols are per step of the return series (per day for a daily history),
 * never annualized.
 */

/** RiskMetrics' daily decay factor. */
export const RISKMETRICS_LAMBDA = 0.94;
/** Returns used for the seed variance when the caller does not say. */
export const DEFAULT_SEED_COUNT = 20;

export interface EwmaOptions {
  /** Decay λ in [0, 1]; default 0.94. */
  lambda?: number;
  /** m: the seed is the zero-mean variance of the first min(m, n) returns; default 20. */
  seedCount?: number;
}

function checkedOptions(returns: readonly number[], options: EwmaOptions): { lambda: number; m: number } {
  const { lambda = RISKMETRICS_LAMBDA, seedCount = DEFAULT_SEED_COUNT } = options;
  if (!(lambda >= 0 && lambda <= 1)) throw new RangeError(`lambda must be in [0, 1], got ${lambda}`);
  if (!Number.isInteger(seedCount) || seedCount < 1) throw new RangeError(`seedCount must be an integer >= 1, got ${seedCount}`);
  if (returns.length === 0) throw new RangeError('EWMA needs at least one return');
  returns.forEach((r, i) => {
    if (!Number.isFinite(r)) throw new RangeError(`return #${i} is ${r}`);
  });
  return { lambda, m: Math.min(seedCount, returns.length) };
}

/** σ²_0 … σ²_n for n returns (n + 1 values): the seed, then one forecast after each return. */
export function ewmaVariances(returns: readonly number[], options: EwmaOptions = {}): number[] {
  const { lambda, m } = checkedOptions(returns, options);
  let seed = 0;
  for (let i = 0; i < m; i++) seed += returns[i]! * returns[i]!;
  const variances = [seed / m];
  for (let t = 1; t <= returns.length; t++) {
    const r = returns[t - 1]!;
    variances.push(lambda * variances[t - 1]! + (1 - lambda) * r * r);
  }
  return variances;
}

/** The current EWMA volatility σ_n = √σ²_n (per step of the series). */
export function ewmaVolatility(returns: readonly number[], options: EwmaOptions = {}): number {
  const variances = ewmaVariances(returns, options);
  return Math.sqrt(variances[variances.length - 1]!);
}

export interface FilterOptions {
  /** m for the seed variance; default 20. */
  seedCount?: number;
  /**
   * Floor on σ_t in the denominator (default 0). A history that is flat for a
   * long stretch drives σ_t towards 0 and the first move after it would be
   * blown up by σ_now / σ_t: set a floor (e.g. a fraction of the reference vol)
   * for such series. Where the floored σ_t is still 0 the return is kept as is
   * (ratio 1: there is no volatility to rescale by).
   */
  minVol?: number;
}

/**
 * Filtered historical simulation (Hull–White): each return rescaled to today's
 * volatility, r̃_t = r_t × σ_now / σ_t, with σ_t the EWMA forecast made before
 * r_t and σ_now = σ_n. A calm-period return is scaled up when the market is
 * stormy now, a storm return scaled down when it is calm now.
 */
export function filteredHistoricalReturns(returns: readonly number[], lambda: number = RISKMETRICS_LAMBDA, options: FilterOptions = {}): number[] {
  const { minVol = 0, seedCount } = options;
  if (!(minVol >= 0) || !Number.isFinite(minVol)) throw new RangeError(`minVol must be finite and >= 0, got ${minVol}`);
  const variances = ewmaVariances(returns, seedCount === undefined ? { lambda } : { lambda, seedCount });
  const now = Math.sqrt(variances[returns.length]!);
  return returns.map((r, t) => {
    const sigma = Math.max(Math.sqrt(variances[t]!), minVol);
    return sigma > 0 ? (r * now) / sigma : r;
  });
}

/**
 * Historical-simulation Value-at-Risk and Expected Shortfall. See README §2.
 *
 * Sign: a loss is positive (loss = −P&L). Confidence c is in (0, 1), e.g. 0.99.
 *
 * Quantile convention — the upper empirical quantile: with n losses and
 * k = ⌈n(1 − c)⌉ (clamped to 1 … n), VaR is the k-th largest loss, i.e. the
 * order statistic L_(n−k+1) = L_(⌊nc⌋+1) of the ascending sample, and ES is
 * the mean of the k largest losses (the tail of size k, VaR included). At most
 * k − 1 < n(1 − c) losses exceed VaR and at least k ≥ n(1 − c) reach it. When
 * nc is not an integer this is the usual inf{l : F_n(l) ≥ c} = L_(⌈nc⌉); when it
 * is one (20 losses at 95 %, 500 at 99 %) it is one order statistic more
 * conservative, and ES is then exactly the mean of the worst n(1 − c) losses.
 * Float guard: k = ⌈n(1 − c) − 1e−9⌉, so that 20 × (1 − 0.95) =
 * 1.0000000000000009 counts as 1.
 */
import { compoundReturns } from './returns';
import { filteredHistoricalReturns, RISKMETRICS_LAMBDA } from './ewma';

export type RiskMeasure = 'var' | 'es';

const K_EPSILON = 1e-9;

export function assertConfidence(confidence: number): void {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
}

/** k = ⌈n(1 − c) − 1e−9⌉ clamped to [1, n]: how many of n losses form the tail. */
export function tailSize(n: number, confidence: number): number {
  assertConfidence(confidence);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`need at least one loss, got ${n}`);
  return Math.min(n, Math.max(1, Math.ceil(n * (1 - confidence) - K_EPSILON)));
}

export interface TailMeasures {
  var: number;
  es: number;
  /** k, the number of losses averaged into ES. */
  tailSize: number;
  /** n, the number of losses (scenarios). */
  scenarios: number;
}

/** VaR and ES of a loss sample under the convention above. Order of the input does not matter. */
export function tailMeasures(losses: readonly number[], confidence: number): TailMeasures {
  losses.forEach((l, i) => {
    if (!Number.isFinite(l)) throw new RangeError(`loss #${i} is ${l}`);
  });
  const k = tailSize(losses.length, confidence);
  const descending = [...losses].sort((a, b) => b - a);
  let sum = 0;
  for (let i = 0; i < k; i++) sum += descending[i]!; // largest first: a fixed summation order
  return { var: descending[k - 1]!, es: sum / k, tailSize: k, scenarios: losses.length };
}

/** The k-th largest loss, k = ⌈n(1 − c)⌉. */
export function historicalVaR(losses: readonly number[], confidence: number): number {
  return tailMeasures(losses, confidence).var;
}

/** The mean of the k largest losses (those at or beyond VaR), k = ⌈n(1 − c)⌉. */
export function expectedShortfall(losses: readonly number[], confidence: number): number {
  return tailMeasures(losses, confidence).es;
}

/** A position's exposure to one underlying: its value in quote currency (signed qty × mark × multiplier). */
export interface Exposure {
  underlying: string;
  exposure: number;
}

/** One-step return series per underlying, oldest first, all ending on the same date. */
export type ReturnHistories = ReadonlyMap<string, readonly number[]> | Readonly<Record<string, readonly number[]>>;

function historyOf(histories: ReturnHistories, underlying: string): readonly number[] | undefined {
  if (histories instanceof Map) return (histories as ReadonlyMap<string, readonly number[]>).get(underlying);
  const record = histories as Readonly<Record<string, readonly number[]>>;
  return Object.prototype.hasOwnProperty.call(record, underlying) ? record[underlying] : undefined;
}

/**
 * Net exposure per underlying, in underlying-id order (`<` on strings, i.e.
 * UTF-16 code units). Exposures to the same underlying are summed in
 * ascending numeric order, so the result does not depend on the input order.
 * Zero net exposures are dropped.
 */
export function netExposures(exposures: readonly Exposure[]): Exposure[] {
  exposures.forEach((e) => {
    if (!Number.isFinite(e.exposure)) throw new RangeError(`exposure to ${e.underlying} is ${e.exposure}`);
  });
  const sorted = [...exposures].sort((a, b) => (a.underlying < b.underlying ? -1 : a.underlying > b.underlying ? 1 : a.exposure - b.exposure));
  const out: Exposure[] = [];
  for (const e of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && last.underlying === e.underlying) last.exposure += e.exposure;
    else out.push({ underlying: e.underlying, exposure: e.exposure });
  }
  return out.filter((e) => e.exposure !== 0);
}

/**
 * Scenario P&L of a portfolio: P&L_t = Σ_i exposure_i × r_{i,t}, summed in
 * underlying-id order, for the scenarios common to every underlying. Histories
 * are aligned at their ends (the last entry of each is the same date); the
 * scenarios are the last L = min(length) entries. With simple returns the
 * revaluation is exact (V_i × r_i), so correlation comes from history alone.
 */
export function portfolioPnL(exposures: readonly Exposure[], histories: ReturnHistories): number[] {
  const net = netExposures(exposures);
  const series = net.map((e) => {
    const h = historyOf(histories, e.underlying);
    if (h === undefined) throw new RangeError(`no return history for ${e.underlying}`);
    return h;
  });
  if (series.length === 0) return [];
  const length = Math.min(...series.map((s) => s.length));
  const pnl: number[] = [];
  for (let t = 0; t < length; t++) {
    let sum = 0;
    net.forEach((e, i) => {
      const s = series[i]!;
      sum += e.exposure * s[s.length - length + t]!;
    });
    pnl.push(sum);
  }
  return pnl;
}

/** Scenario losses, −P&L_t. */
export function portfolioLosses(exposures: readonly Exposure[], histories: ReturnHistories): number[] {
  return portfolioPnL(exposures, histories).map((p) => -p);
}

export type HorizonMethod = 'sqrt-time' | 'overlapping';

export interface HistoricalSimulationParams {
  /** N: the one-step returns used per underlying (the newest N; fewer if a history is shorter). */
  lookback: number;
  /** Margin period of risk, in steps of the history (days for a daily history). */
  horizonDays: number;
  /**
   * 'sqrt-time' (default): one-step scenarios, VaR and ES × √horizon (exact for
   * i.i.d. normal returns, an approximation otherwise).
   * 'overlapping': h-step scenarios compounded from h consecutive one-step
   * returns, one per step (N − h + 1 scenarios), no scaling.
   */
  horizonMethod?: HorizonMethod;
  confidence: number;
  /** Which figure becomes the requirement. */
  measure: RiskMeasure;
  /** Filtered historical simulation: each underlying's returns rescaled by its EWMA vol before use. */
  filter?: { lambda?: number; seedCount?: number; minVol?: number };
}

export interface RiskMeasureResult extends TailMeasures {
  /** max(0, VaR or ES as chosen): a requirement is never negative. */
  requirement: number;
  /** √h for 'sqrt-time', 1 for 'overlapping'. */
  horizonScale: number;
}

/**
 * The portfolio requirement by (filtered) historical simulation:
 * 1. per underlying (id order), the one-step history, FHS-rescaled over the
 *    whole supplied history if `filter` is set, then its newest N entries;
 * 2. for 'overlapping', each series compounded into h-step windows;
 * 3. losses_t = −Σ exposure_i × R_{i,t} over the common, end-aligned scenarios;
 * 4. VaR/ES at `confidence`, × √h for 'sqrt-time';
 * 5. requirement = max(0, VaR or ES).
 * A portfolio without exposure needs 0 (scenarios 0). Throws if an exposed
 * underlying has no history or there are no scenarios.
 */
export function historicalSimulation(exposures: readonly Exposure[], histories: ReturnHistories, params: HistoricalSimulationParams): RiskMeasureResult {
  const { lookback, horizonDays, horizonMethod = 'sqrt-time', confidence, measure, filter } = params;
  if (!Number.isInteger(lookback) || lookback < 1) throw new RangeError(`lookback must be an integer >= 1, got ${lookback}`);
  if (!Number.isInteger(horizonDays) || horizonDays < 1) throw new RangeError(`horizonDays must be an integer >= 1, got ${horizonDays}`);
  assertConfidence(confidence);
  const net = netExposures(exposures);
  if (net.length === 0) return { var: 0, es: 0, requirement: 0, tailSize: 0, scenarios: 0, horizonScale: 1 };

  const scenarios = new Map<string, number[]>();
  for (const { underlying } of net) {
    const raw = historyOf(histories, underlying);
    if (raw === undefined) throw new RangeError(`no return history for ${underlying}`);
    const used = filter === undefined || raw.length === 0 ? [...raw] : filteredHistoricalReturns(raw, filter.lambda ?? RISKMETRICS_LAMBDA, filter);
    const window = used.slice(Math.max(0, used.length - lookback));
    scenarios.set(underlying, horizonMethod === 'overlapping' ? compoundReturns(window, horizonDays) : window);
  }
  const losses = portfolioLosses(net, scenarios);
  if (losses.length === 0) throw new RangeError(`no scenarios: histories too short for lookback ${lookback}, horizon ${horizonDays}`);
  const horizonScale = horizonMethod === 'sqrt-time' ? Math.sqrt(horizonDays) : 1;
  const tail = tailMeasures(losses, confidence);
  const scaled = { ...tail, var: tail.var * horizonScale, es: tail.es * horizonScale };
  return { ...scaled, requirement: Math.max(0, measure === 'var' ? scaled.var : scaled.es), horizonScale };
}

/**
 * Margin backtesting: coverage, Kupiec's proportion-of-failures test,
 * Christoffersen's independence and conditional-coverage tests, and the Basel
 * traffic light. See README §5.
 *
 * An exceedance is a period whose realized loss is strictly greater than the
 * margin held at its start (a loss equal to the margin is covered).
 * Likelihood terms use the convention 0 · ln 0 = 0. Every LR is clamped at 0
 * (float rounding can leave −1e−13 where the exact value is 0).
 */
import { assertConfidence } from './var-es';
import { binomialCdf, chiSquareSurvival } from './stats';

export interface LikelihoodRatio {
  /** The likelihood-ratio statistic, −2 ln(L_restricted / L_unrestricted) ≥ 0. */
  LR: number;
  /** P(χ²_dof > LR). */
  pValue: number;
}

/** count × ln(probability), with 0 · ln 0 = 0. */
function xlog(count: number, probability: number): number {
  return count === 0 ? 0 : count * Math.log(probability);
}

/** count × ln(1 − probability) via log1p, with 0 · ln 0 = 0. */
function xlog1m(count: number, probability: number): number {
  return count === 0 ? 0 : count * Math.log1p(-probability);
}

function lr(logRestricted: number, logUnrestricted: number, dof: number): LikelihoodRatio {
  const LR = Math.max(0, -2 * (logRestricted - logUnrestricted));
  return { LR, pValue: chiSquareSurvival(LR, dof) };
}

function checkCounts(observations: number, exceedances: number): void {
  if (!Number.isInteger(observations) || observations < 0) throw new RangeError(`observations must be an integer >= 0, got ${observations}`);
  if (!Number.isInteger(exceedances) || exceedances < 0 || exceedances > observations) {
    throw new RangeError(`exceedances must be an integer in [0, ${observations}], got ${exceedances}`);
  }
}

/**
 * Kupiec (1995) proportion of failures, p = 1 − confidence, x of n exceeded:
 *   LR_pof = −2 ln[ (1 − p)^{n−x} p^x / ((1 − x/n)^{n−x} (x/n)^x) ],  χ²(1).
 * x = 0 gives −2n ln(1 − p); x = n gives −2n ln p; n = 0 gives LR 0, p-value 1.
 */
export function kupiecPOF(observations: number, exceedances: number, confidence: number): LikelihoodRatio {
  checkCounts(observations, exceedances);
  assertConfidence(confidence);
  if (observations === 0) return { LR: 0, pValue: 1 };
  const n = observations;
  const x = exceedances;
  const p = 1 - confidence;
  const observed = x / n;
  return lr(xlog1m(n - x, p) + xlog(x, p), xlog1m(n - x, observed) + xlog(x, observed), 1);
}

/** Transitions between consecutive periods: n_ij counts I_{t−1} = i followed by I_t = j (1 = exceedance). */
export interface TransitionCounts {
  n00: number;
  n01: number;
  n10: number;
  n11: number;
}

export function transitionCounts(exceedanceSequence: readonly boolean[]): TransitionCounts {
  const counts = { n00: 0, n01: 0, n10: 0, n11: 0 };
  for (let t = 1; t < exceedanceSequence.length; t++) {
    const from = exceedanceSequence[t - 1]!;
    const to = exceedanceSequence[t]!;
    if (from) counts[to ? 'n11' : 'n10']++;
    else counts[to ? 'n01' : 'n00']++;
  }
  return counts;
}

/**
 * Christoffersen (1998) independence from the 2 × 2 transition counts:
 *   π01 = n01 / (n00 + n01), π11 = n11 / (n10 + n11), π = (n01 + n11) / (n00 + n01 + n10 + n11),
 *   LR_ind = −2 ln[ (1 − π)^{n00+n10} π^{n01+n11} / ((1 − π01)^{n00} π01^{n01} (1 − π11)^{n10} π11^{n11}) ],  χ²(1).
 * An empty row (say n10 + n11 = 0) has zero counts, so its terms vanish.
 */
export function christoffersenFromCounts(counts: TransitionCounts): LikelihoodRatio {
  const { n00, n01, n10, n11 } = counts;
  [n00, n01, n10, n11].forEach((c) => {
    if (!Number.isInteger(c) || c < 0) throw new RangeError(`transition counts must be integers >= 0, got ${JSON.stringify(counts)}`);
  });
  const total = n00 + n01 + n10 + n11;
  if (total === 0) return { LR: 0, pValue: 1 };
  const pi = (n01 + n11) / total;
  const pi01 = n00 + n01 > 0 ? n01 / (n00 + n01) : 0;
  const pi11 = n10 + n11 > 0 ? n11 / (n10 + n11) : 0;
  const restricted = xlog1m(n00 + n10, pi) + xlog(n01 + n11, pi);
  const unrestricted = xlog1m(n00, pi01) + xlog(n01, pi01) + xlog1m(n10, pi11) + xlog(n11, pi11);
  return lr(restricted, unrestricted, 1);
}

/** {@link christoffersenFromCounts} of the sequence's transitions (T periods → T − 1 transitions). */
export function christoffersenIndependence(exceedanceSequence: readonly boolean[]): LikelihoodRatio & { counts: TransitionCounts } {
  const counts = transitionCounts(exceedanceSequence);
  return { ...christoffersenFromCounts(counts), counts };
}

/**
 * Conditional coverage LR_cc = LR_pof + LR_ind, χ²(2): p = e^{−LR_cc/2}.
 * LR_pof is over all T periods, LR_ind over the T − 1 transitions (the usual
 * practice; Christoffersen's exact decomposition conditions the POF on the
 * first observation too, a difference of one period).
 */
export function conditionalCoverage(pof: LikelihoodRatio, independence: LikelihoodRatio): LikelihoodRatio {
  const LR = pof.LR + independence.LR;
  return { LR, pValue: chiSquareSurvival(LR, 2) };
}

export type TrafficLightZone = 'green' | 'yellow' | 'red';

/** Zone edges on the binomial cumulative probability (Basel 1996). */
export const TRAFFIC_LIGHT_GREEN_BELOW = 0.95;
export const TRAFFIC_LIGHT_YELLOW_BELOW = 0.9999;

/**
 * Basel traffic light: with P = P(X ≤ x), X ~ Binomial(n, 1 − confidence),
 * green if P < 95 %, yellow if P < 99.99 %, red otherwise. For 250
 * observations at 99 %: green 0–4, yellow 5–9, red 10 or more.
 * Zero exceedances are green at any n (also n = 0): the rule is built for
 * samples where P(X = 0) < 95 % (n ≥ 6 at 99 %); below that, P(X ≤ 0) alone
 * would make a clean record yellow.
 */
export function baselTrafficLight(observations: number, exceedances: number, confidence: number): TrafficLightZone {
  checkCounts(observations, exceedances);
  assertConfidence(confidence);
  if (exceedances === 0) return 'green';
  const cumulative = binomialCdf(exceedances, observations, 1 - confidence);
  if (cumulative < TRAFFIC_LIGHT_GREEN_BELOW) return 'green';
  if (cumulative < TRAFFIC_LIGHT_YELLOW_BELOW) return 'yellow';
  return 'red';
}

/** One margin period: the margin held at its start and the loss realized over it (positive = loss). */
export interface BacktestObservation {
  margin: number;
  realizedLoss: number;
}

export interface BacktestReport {
  observations: number;
  /** Periods with realizedLoss > margin. */
  exceedances: number;
  /** 1 − exceedances / observations (1 for no observations). */
  coverage: number;
  kupiec: LikelihoodRatio;
  christoffersen: LikelihoodRatio;
  conditionalCoverage: LikelihoodRatio;
  transitions: TransitionCounts;
  zone: TrafficLightZone;
}

function report(observations: number, exceedances: number, transitions: TransitionCounts, confidence: number): BacktestReport {
  const kupiec = kupiecPOF(observations, exceedances, confidence);
  const christoffersen = christoffersenFromCounts(transitions);
  return {
    observations,
    exceedances,
    coverage: observations === 0 ? 1 : 1 - exceedances / observations,
    kupiec,
    christoffersen,
    conditionalCoverage: conditionalCoverage(kupiec, christoffersen),
    transitions,
    zone: baselTrafficLight(observations, exceedances, confidence),
  };
}

function exceeded(o: BacktestObservation, index: number): boolean {
  if (!Number.isFinite(o.margin) || !Number.isFinite(o.realizedLoss)) throw new RangeError(`observation #${index} is not finite: ${JSON.stringify(o)}`);
  return o.realizedLoss > o.margin;
}

/** Backtest of one account's consecutive margin periods, in order. */
export function backtestCoverage(series: readonly BacktestObservation[], confidence: number): BacktestReport {
  const sequence = series.map(exceeded);
  const exceedances = sequence.filter((e) => e).length;
  return report(series.length, exceedances, transitionCounts(sequence), confidence);
}

/** One account's margin period, numbered by `period` (consecutive periods differ by 1). */
export interface AccountPeriod extends BacktestObservation {
  account: string;
  period: number;
}

export interface AccountBacktest {
  accounts: (BacktestReport & { account: string })[];
  /**
   * All periods of all accounts: counts summed, Kupiec and the zone on the
   * totals, Christoffersen on the summed transition counts (transitions never
   * cross accounts).
   */
  pooled: BacktestReport;
}

/**
 * Backtests per account, accounts in id order (`<` on strings), each
 * account's periods sorted by `period`; a transition is counted only between
 * periods p and p + 1 (a gap starts a new run). A repeated (account, period)
 * throws.
 */
export function backtestByAccount(rows: readonly AccountPeriod[], confidence: number): AccountBacktest {
  const sorted = [...rows].sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : a.period - b.period));
  const accounts: (BacktestReport & { account: string })[] = [];
  const pooledTransitions: TransitionCounts = { n00: 0, n01: 0, n10: 0, n11: 0 };
  let pooledObservations = 0;
  let pooledExceedances = 0;
  let start = 0;
  while (start < sorted.length) {
    const account = sorted[start]!.account;
    let end = start;
    while (end < sorted.length && sorted[end]!.account === account) end++;
    const periods = sorted.slice(start, end);
    const transitions: TransitionCounts = { n00: 0, n01: 0, n10: 0, n11: 0 };
    let exceedances = 0;
    periods.forEach((row, i) => {
      if (!Number.isInteger(row.period)) throw new RangeError(`period of ${account} must be an integer, got ${row.period}`);
      const hit = exceeded(row, start + i);
      if (hit) exceedances++;
      const previous = periods[i - 1];
      if (previous === undefined) return;
      if (previous.period === row.period) throw new RangeError(`period ${row.period} of ${account} appears twice`);
      if (row.period !== previous.period + 1) return;
      const from = previous.realizedLoss > previous.margin;
      if (from) transitions[hit ? 'n11' : 'n10']++;
      else transitions[hit ? 'n01' : 'n00']++;
    });
    accounts.push({ account, ...report(periods.length, exceedances, transitions, confidence) });
    pooledObservations += periods.length;
    pooledExceedances += exceedances;
    pooledTransitions.n00 += transitions.n00;
    pooledTransitions.n01 += transitions.n01;
    pooledTransitions.n10 += transitions.n10;
    pooledTransitions.n11 += transitions.n11;
    start = end;
  }
  return { accounts, pooled: report(pooledObservations, pooledExceedances, pooledTransitions, confidence) };
}

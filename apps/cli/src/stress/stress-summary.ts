import { formatFixed } from '@clearsim/money';
import type { PathFigures } from './stress-path';

/** The figures reported per rule set, in table order; `lowerIsWorse` flips the tail the percentiles look at. */
export const METRICS = [
  { key: 'bankruptcies', title: 'bankruptcies', amount: false, lowerIsWorse: false },
  { key: 'insuranceFundLow', title: 'insurance fund low', amount: true, lowerIsWorse: true },
  { key: 'autoDeleverages', title: 'ADL fills', amount: false, lowerIsWorse: false },
  { key: 'socializedLoss', title: 'socialized loss', amount: true, lowerIsWorse: false },
  { key: 'marginHeld', title: 'margin held (Σ IM)', amount: true, lowerIsWorse: false },
] as const satisfies readonly { key: keyof PathFigures; title: string; amount: boolean; lowerIsWorse: boolean }[];

export type MetricKey = (typeof METRICS)[number]['key'];

export interface Distribution<T> {
  p50: T;
  p95: T;
  p99: T;
  worst: T;
}

/**
 * Nearest-rank percentile: the value of rank ⌈p/100 × n⌉ (1-based) among the n
 * values ordered from best to worst, so p95 is the value that 95 % of the paths
 * do no worse than. For "higher is worse" figures that is the usual ascending
 * order (worst = max); for the insurance fund's low point, lower is worse, so
 * the order is descending (p95 is the 5th percentile in the usual sense, worst = min).
 */
export function nearestRank<T extends number | bigint>(values: readonly T[], p: number, lowerIsWorse: boolean): T {
  if (values.length === 0) throw new RangeError('no values');
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (lowerIsWorse) sorted.reverse();
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function distribution<T extends number | bigint>(values: readonly T[], lowerIsWorse: boolean): Distribution<T> {
  return {
    p50: nearestRank(values, 50, lowerIsWorse),
    p95: nearestRank(values, 95, lowerIsWorse),
    p99: nearestRank(values, 99, lowerIsWorse),
    worst: nearestRank(values, 100, lowerIsWorse),
  };
}

/** Per rule set, per metric: the distribution over the paths (`byPath[path][ruleSet]`), amounts as decimal strings. */
export function summarize(byPath: readonly PathFigures[][], ruleSets: number): Record<MetricKey, Distribution<string | number>>[] {
  return Array.from({ length: ruleSets }, (_, r) => {
    const out = {} as Record<MetricKey, Distribution<string | number>>;
    for (const metric of METRICS) {
      const values = byPath.map((figures) => figures[r]![metric.key]);
      const d = distribution(values, metric.lowerIsWorse);
      out[metric.key] = metric.amount ? mapDistribution(d, (v) => formatFixed(v as bigint)) : (d as Distribution<number>);
    }
    return out;
  });
}

function mapDistribution<T, U>(d: Distribution<T>, f: (value: T) => U): Distribution<U> {
  return { p50: f(d.p50), p95: f(d.p95), p99: f(d.p99), worst: f(d.worst) };
}

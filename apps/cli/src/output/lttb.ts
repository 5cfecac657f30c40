/**
 * Largest-Triangle-Three-Buckets (Steinarsson, "Downsampling Time Series for
 * Visual Representation", 2013): the indices of at most `threshold` points of
 * (xs, ys) that keep the series' visual shape. The first and last points are
 * always kept; the points between are cut into threshold − 2 buckets of equal
 * count, and each bucket keeps the point forming the largest triangle with the
 * point kept before it and the average of the next bucket — so a one-tick
 * crash wick survives, where averaging or striding would lose it.
 *
 * Pure and deterministic: the same series gives the same indices.
 */
export function lttbIndices(xs: ArrayLike<number>, ys: ArrayLike<number>, threshold: number): number[] {
  const n = xs.length;
  if (ys.length !== n) throw new RangeError(`lttb: ${n} x values but ${ys.length} y values`);
  if (!Number.isInteger(threshold) || threshold < 0) throw new RangeError(`lttb: threshold ${threshold} is not a whole number ≥ 0`);
  if (threshold >= n || n <= 2) return Array.from({ length: n }, (_, i) => i);
  if (threshold === 0) return [];
  if (threshold === 1) return [0];
  if (threshold === 2) return [0, n - 1];
  const kept = [0];
  const buckets = threshold - 2;
  // bucket b holds the inner points [1 + ⌊b(n−2)/buckets⌋, 1 + ⌊(b+1)(n−2)/buckets⌋): multiplying first keeps the bounds
  // exact (b × (n−2)/buckets in floating point can land just below an integer and drop the last inner point)
  const bound = (b: number) => Math.floor((b * (n - 2)) / buckets) + 1;
  let a = 0;
  for (let bucket = 0; bucket < buckets; bucket++) {
    // this bucket: [start, end); the next one (or the last point) gives the third vertex as an average
    const start = bound(bucket);
    const end = bound(bucket + 1);
    const nextStart = end;
    const nextEnd = bucket + 1 < buckets ? bound(bucket + 2) : n;
    let avgX = 0;
    let avgY = 0;
    for (let j = nextStart; j < nextEnd; j++) {
      avgX += xs[j]!;
      avgY += ys[j]!;
    }
    const count = nextEnd - nextStart;
    if (count > 0) {
      avgX /= count;
      avgY /= count;
    } else {
      avgX = xs[n - 1]!;
      avgY = ys[n - 1]!;
    }
    const ax = xs[a]!;
    const ay = ys[a]!;
    let best = start;
    let bestArea = -1;
    for (let j = start; j < end; j++) {
      // twice the triangle's area; the factor does not change the argmax
      const area = Math.abs((ax - avgX) * (ys[j]! - ay) - (ax - xs[j]!) * (avgY - ay));
      if (area > bestArea) {
        bestArea = area;
        best = j;
      }
    }
    kept.push(best);
    a = best;
  }
  kept.push(n - 1);
  return kept;
}

/** `lttbIndices` applied: the kept points of a series and of every column aligned with it. */
export function lttb<T extends Record<string, number[]>>(xs: number[], columns: T, by: keyof T, threshold: number): { xs: number[] } & T {
  const keep = lttbIndices(xs, columns[by]!, threshold);
  const out: Record<string, number[]> = {};
  for (const [name, values] of Object.entries(columns)) out[name] = keep.map((i) => values[i]!);
  return { xs: keep.map((i) => xs[i]!), ...(out as T) };
}

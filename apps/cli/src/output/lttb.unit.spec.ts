import fc from 'fast-check';
import { lttb, lttbIndices } from './lttb';

describe('lttbIndices (Largest-Triangle-Three-Buckets)', () => {
  it('keeps every point when the threshold is not below the length', () => {
    expect(lttbIndices([1, 2, 3], [5, 6, 7], 3)).toEqual([0, 1, 2]);
    expect(lttbIndices([1, 2, 3], [5, 6, 7], 10)).toEqual([0, 1, 2]);
  });

  it('keeps the one-tick wick of a flat series', () => {
    // 10 points, flat at 100 but for a crash to 40 at index 6; threshold 4 → first, last and 2 buckets.
    // The 8 inner points (1..8) make 2 buckets of 4: [1,5) and [5,9). In the second bucket the wick at 6 forms the
    // largest triangle with the point kept before it and the last point (area ∝ |Δy| = 60 against 0 for the others).
    const xs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const ys = [100, 100, 100, 100, 100, 100, 40, 100, 100, 100];
    const kept = lttbIndices(xs, ys, 4);
    expect(kept).toHaveLength(4);
    expect(kept[0]).toBe(0);
    expect(kept[3]).toBe(9);
    expect(kept).toContain(6);
  });

  it('a worked example: each bucket keeps the point farthest from the line to the next bucket', () => {
    // xs 0..5, ys [0, 1, 5, 2, 1, 0], threshold 4: every = (6 − 2) / 2 = 2, buckets [1,3) and [3,5).
    // bucket 1: a = (0,0), next bucket average = ((3+4)/2, (2+1)/2) = (3.5, 1.5);
    //   j=1: |(0−3.5)(1−0) − (0−1)(1.5−0)| = |−3.5 + 1.5| = 2; j=2: |(−3.5)(5) − (−2)(1.5)| = |−17.5 + 3| = 14.5 → keeps 2.
    // bucket 2: a = (2,5), next = the last point (5,0);
    //   j=3: |(2−5)(2−5) − (2−3)(0−5)| = |9 − 5| = 4; j=4: |(−3)(1−5) − (2−4)(−5)| = |12 − 10| = 2 → keeps 3.
    expect(lttbIndices([0, 1, 2, 3, 4, 5], [0, 1, 5, 2, 1, 0], 4)).toEqual([0, 2, 3, 5]);
  });

  it('small thresholds', () => {
    expect(lttbIndices([0, 1, 2, 3], [0, 1, 2, 3], 0)).toEqual([]);
    expect(lttbIndices([0, 1, 2, 3], [0, 1, 2, 3], 1)).toEqual([0]);
    expect(lttbIndices([0, 1, 2, 3], [0, 1, 2, 3], 2)).toEqual([0, 3]);
  });

  it('refuses mismatched columns and a bad threshold', () => {
    expect(() => lttbIndices([0, 1], [0], 2)).toThrow('2 x values but 1 y values');
    expect(() => lttbIndices([0, 1], [0, 1], 1.5)).toThrow('threshold 1.5');
  });

  it('property: exactly min(n, threshold) strictly increasing indices, the first and the last among them', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 3, maxLength: 300 }), fc.integer({ min: 3, max: 400 }), (ys, threshold) => {
        const xs = ys.map((_, i) => i * 1000);
        const kept = lttbIndices(xs, ys, threshold);
        expect(kept).toHaveLength(Math.min(ys.length, threshold));
        for (let i = 1; i < kept.length; i++) expect(kept[i]!).toBeGreaterThan(kept[i - 1]!);
        expect(kept[0]).toBe(0);
        expect(kept[kept.length - 1]).toBe(ys.length - 1);
        // deterministic
        expect(lttbIndices(xs, ys, threshold)).toEqual(kept);
      }),
      { numRuns: 200 },
    );
  });

  it('property: the global maximum and minimum of a series with one spike survive', () => {
    fc.assert(
      fc.property(fc.integer({ min: 50, max: 2000 }), fc.integer({ min: 1, max: 1998 }), fc.integer({ min: 10, max: 100 }), (n, at, threshold) => {
        const spike = Math.min(at, n - 2);
        const ys = Array.from({ length: n }, (_, i) => (i === spike ? 1000 : 1));
        const kept = lttbIndices(ys.map((_, i) => i), ys, threshold);
        expect(kept).toContain(spike);
      }),
      { numRuns: 100 },
    );
  });

  it('lttb picks the same rows of every aligned column', () => {
    const out = lttb([0, 1, 2, 3, 4, 5], { equity: [0, 1, 5, 2, 1, 0], mm: [10, 11, 12, 13, 14, 15] }, 'equity', 4);
    expect(out).toEqual({ xs: [0, 2, 3, 5], equity: [0, 5, 2, 0], mm: [10, 12, 13, 15] });
  });
});

import { distribution, nearestRank, summarize } from './stress-summary';

describe('nearest-rank percentiles', () => {
  it('take the value of rank ⌈p/100 × n⌉ from the best side (worked example)', () => {
    const values = [7, 1, 4, 9, 3, 0, 2, 8, 5, 6]; // sorted: 0 1 2 3 4 5 6 7 8 9, n = 10
    // p50: rank ⌈5⌉ = 5 → 4; p95: rank ⌈9.5⌉ = 10 → 9; p99: rank ⌈9.9⌉ = 10 → 9; worst: rank 10 → 9
    expect(distribution(values, false)).toEqual({ p50: 4, p95: 9, p99: 9, worst: 9 });
    // lower is worse: ordered 9 8 … 0, so p50 is rank 5 → 5 and worst is the minimum 0
    expect(distribution(values, true)).toEqual({ p50: 5, p95: 0, p99: 0, worst: 0 });
    // 100 values 1..100: p95 is rank 95 → 95, p99 rank 99 → 99
    const hundred = Array.from({ length: 100 }, (_, i) => BigInt(100 - i));
    expect(distribution(hundred, false)).toEqual({ p50: 50n, p95: 95n, p99: 99n, worst: 100n });
    expect(nearestRank([42], 1, false)).toBe(42);
  });

  it('summarize reports amounts as decimal strings, per rule set', () => {
    const path = (bankruptcies: number, low: bigint) => ({ bankruptcies, autoDeleverages: 0, socializedLoss: 0n, insuranceFundLow: low, marginHeld: 150_000_000n });
    const [first] = summarize([[path(1, 200_000_000n)], [path(3, 50_000_000n)]], 1);
    expect(first!.bankruptcies).toEqual({ p50: 1, p95: 3, p99: 3, worst: 3 });
    expect(first!.insuranceFundLow).toEqual({ p50: '2', p95: '0.5', p99: '0.5', worst: '0.5' });
    expect(first!.marginHeld.p50).toBe('1.5');
  });
});

import { ewmaVariances, ewmaVolatility, filteredHistoricalReturns, RISKMETRICS_LAMBDA } from '@clearsim/risk-models';

const relative = (actual: number, expected: number): number => Math.abs(actual - expected) / Math.abs(expected);

describe('EWMA variance σ²_t = λσ²_{t−1} + (1 − λ) r²_{t−1}', () => {
  it('follows the recursion from the zero-mean seed, by hand', () => {
    // r = 0.01, −0.02, 0.03; λ = 0.9; m = 2:
    // σ²_0 = (0.0001 + 0.0004) / 2             = 0.00025
    // σ²_1 = 0.9 × 0.00025  + 0.1 × 0.0001     = 0.000235
    // σ²_2 = 0.9 × 0.000235 + 0.1 × 0.0004     = 0.0002515
    // σ²_3 = 0.9 × 0.0002515 + 0.1 × 0.0009    = 0.00031635  (the "now" forecast)
    const v = ewmaVariances([0.01, -0.02, 0.03], { lambda: 0.9, seedCount: 2 });
    [0.00025, 0.000235, 0.0002515, 0.00031635].forEach((x, i) => expect(relative(v[i]!, x)).toBeLessThan(1e-13));
    expect(relative(ewmaVolatility([0.01, -0.02, 0.03], { lambda: 0.9, seedCount: 2 }), Math.sqrt(0.00031635))).toBeLessThan(1e-13);
  });

  it('defaults to RiskMetrics λ = 0.94 and a seed over min(20, n) returns', () => {
    expect(RISKMETRICS_LAMBDA).toBe(0.94);
    // 3 returns, seed over all 3: (0.0001 + 0.0004 + 0.0009) / 3 = 0.0014 / 3
    const v = ewmaVariances([0.01, -0.02, 0.03]);
    expect(relative(v[0]!, 0.0014 / 3)).toBeLessThan(1e-13);
    expect(relative(v[1]!, 0.94 * (0.0014 / 3) + 0.06 * 0.0001)).toBeLessThan(1e-13);
  });

  it('rejects an empty series, λ outside [0, 1] and non-finite returns', () => {
    expect(() => ewmaVariances([])).toThrow(RangeError);
    expect(() => ewmaVariances([0.01], { lambda: 1.1 })).toThrow(RangeError);
    expect(() => ewmaVariances([Number.POSITIVE_INFINITY])).toThrow(RangeError);
  });
});

describe('filtered historical simulation r̃_t = r_t × σ_now / σ_t on a two-regime series', () => {
  // 20 calm returns ±a (a = 1 %) then S = 30 stormy returns ±b (b = 4 %), λ = 0.94, seed over the first 20.
  // Calm: r² = a² every day and the seed is a², so σ²_t = a² for t = 0 … 20 (λa² + (1 − λ)a² = a²).
  // Storm: σ²_{20+j} = b² + (a² − b²) λ^j, so after S = 30 stormy days
  //   σ²_now = 0.0016 − 0.0015 × 0.94^30 = 0.0016 − 0.0015 × 0.156255606… = 0.001365616…
  //   σ_now = 0.0369542499687113…   (mpmath, 40 digits: 0.036954249968711349938)
  // so every calm return is scaled by σ_now / a = 3.69542499687113…: a 1 % calm day counts as a 3.7 % day now.
  const a = 0.01;
  const b = 0.04;
  const alternate = (size: number, n: number): number[] => Array.from({ length: n }, (_, i) => (i % 2 === 0 ? size : -size));
  const series = [...alternate(a, 20), ...alternate(b, 30)];

  it('scales the calm period up to the storm volatility', () => {
    const filtered = filteredHistoricalReturns(series, 0.94);
    expect(filtered).toHaveLength(50);
    for (let t = 0; t < 20; t++) expect(relative(filtered[t]! / series[t]!, 3.695424996871135)).toBeLessThan(1e-12);
    expect(relative(ewmaVolatility(series), 0.03695424996871135)).toBeLessThan(1e-12);
    // the last storm day is barely rescaled: σ_now / σ_49 = √(b² + (a² − b²)λ^30) / √(b² + (a² − b²)λ^29) = 1.00552303599601…
    expect(relative(filtered[49]! / series[49]!, 1.0055230359960103)).toBeLessThan(1e-12);
    // after a long storm the calm returns approach the storm size: ratio → b / a = 4
    const longStorm = filteredHistoricalReturns([...alternate(a, 20), ...alternate(b, 400)], 0.94);
    expect(longStorm[0]! / a).toBeCloseTo(4, 9);
  });

  it('scales a past storm down when it is calm now', () => {
    // 20 stormy returns seed σ = b; 200 calm returns bring σ_now back to ≈ a: the storm counts at ≈ a quarter
    const filtered = filteredHistoricalReturns([...alternate(b, 20), ...alternate(a, 200)], 0.94);
    expect(filtered[0]! / b).toBeCloseTo(0.25, 4);
  });

  it('a flat start leaves σ_t = 0: the return is kept (ratio 1) unless a floor is set', () => {
    // returns 0, 0, +2 %, −2 %; seed over the first 2 = 0, σ_1 = σ_2 = 0, then σ²_3 = 0.06 × 0.0004, σ²_4 = λσ²_3 + 0.06 × 0.0004
    const flat = [0, 0, 0.02, -0.02];
    const v = ewmaVariances(flat, { seedCount: 2 });
    const now = Math.sqrt(v[4]!);
    const kept = filteredHistoricalReturns(flat, 0.94, { seedCount: 2 });
    expect(kept[2]).toBe(0.02);
    expect(kept[3]).toBeCloseTo((-0.02 * now) / Math.sqrt(v[3]!), 15);
    const floored = filteredHistoricalReturns(flat, 0.94, { seedCount: 2, minVol: 0.01 });
    expect(floored[2]).toBeCloseTo((0.02 * now) / 0.01, 15);
  });
});

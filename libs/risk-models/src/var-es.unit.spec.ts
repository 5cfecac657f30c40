import { expectedShortfall, historicalSimulation, historicalVaR, portfolioLosses, tailMeasures, tailSize } from '@clearsim/risk-models';

// A hand-made series of 20 daily returns, in per cent.
const RETURNS_PCT = [0.5, -1.2, 0.8, -0.3, 1.5, -2.4, 0.2, -0.7, 1.1, -3.1, 0.4, -0.9, 0.6, -1.8, 2.0, -0.1, 0.9, -1.5, 0.3, -0.6];
const returns = RETURNS_PCT.map((r) => r / 100);
// A long position worth 1,000,000: loss_t = −1,000,000 × r_t
const longLosses = returns.map((r) => -1_000_000 * r);
// Losses sorted, largest first:
//   31,000  24,000  18,000  15,000  12,000  9,000  7,000  6,000  3,000  1,000
//   −2,000  −3,000  −4,000  −5,000  −6,000  −8,000  −9,000  −11,000  −15,000  −20,000

describe('historical VaR and ES on 20 hand-made returns (k = ⌈n(1 − c)⌉, VaR = k-th largest, ES = mean of the k largest)', () => {
  it.each([
    // 95 %: k = ⌈20 × 0.05⌉ = 1 → VaR = ES = the largest loss, 31,000
    [0.95, 1, 31_000, 31_000],
    // 90 %: k = ⌈20 × 0.10⌉ = 2 → VaR = 24,000; ES = (31,000 + 24,000) / 2 = 27,500
    [0.9, 2, 24_000, 27_500],
    // 80 %: k = 4 → VaR = 15,000; ES = (31 + 24 + 18 + 15) / 4 = 88 / 4 = 22 (thousand)
    [0.8, 4, 15_000, 22_000],
    // 75 %: k = 5 → VaR = 12,000; ES = (88 + 12) / 5 = 20 (thousand)
    [0.75, 5, 12_000, 20_000],
    // 97 %: 20 × 0.03 = 0.6 → k = 1 (at least one loss in the tail)
    [0.97, 1, 31_000, 31_000],
  ])('long at %p: k = %d, VaR %d, ES %d', (confidence, k, v, es) => {
    const m = tailMeasures(longLosses, confidence);
    expect(m.tailSize).toBe(k);
    expect(m.scenarios).toBe(20);
    expect(m.var).toBeCloseTo(v, 6);
    expect(m.es).toBeCloseTo(es, 6);
    expect(historicalVaR(longLosses, confidence)).toBe(m.var);
    expect(expectedShortfall(longLosses, confidence)).toBe(m.es);
  });

  it('a short position loses on the rises: 95 % VaR 20,000; 90 % VaR 15,000, ES 17,500', () => {
    // loss_t = +1,000,000 × r_t: largest 20,000 (+2.0 %), 15,000 (+1.5 %), 11,000 (+1.1 %)
    const shortLosses = returns.map((r) => 1_000_000 * r);
    expect(historicalVaR(shortLosses, 0.95)).toBeCloseTo(20_000, 6);
    expect(historicalVaR(shortLosses, 0.9)).toBeCloseTo(15_000, 6);
    expect(expectedShortfall(shortLosses, 0.9)).toBeCloseTo(17_500, 6);
  });

  it('the tail size at the usual sample sizes', () => {
    // 250 at 99 %: 2.5 → 3rd largest; 500 at 99 %: exactly 5 → 5th largest;
    // 20 at 95 %: 20 × (1 − 0.95) = 1.0000000000000009 in float, still k = 1
    expect(20 * (1 - 0.95)).toBeGreaterThan(1);
    expect(tailSize(20, 0.95)).toBe(1);
    expect(tailSize(250, 0.99)).toBe(3);
    expect(tailSize(500, 0.99)).toBe(5);
    expect(tailSize(250, 0.975)).toBe(7); // 6.25 → 7
    expect(tailSize(3, 0.01)).toBe(3); // clamped to n
    // losses 1 … 250 at 99 %: VaR = 248 (3rd largest), ES = (250 + 249 + 248) / 3 = 249
    const ladder = Array.from({ length: 250 }, (_, i) => i + 1);
    expect(tailMeasures(ladder, 0.99)).toEqual({ var: 248, es: 249, tailSize: 3, scenarios: 250 });
  });

  it('rejects an empty sample, a non-finite loss and a confidence outside (0, 1)', () => {
    expect(() => historicalVaR([], 0.99)).toThrow(RangeError);
    expect(() => historicalVaR([1, Number.NaN], 0.5)).toThrow(RangeError);
    expect(() => historicalVaR([1], 1)).toThrow(RangeError);
    expect(() => historicalVaR([1], 0)).toThrow(RangeError);
  });
});

describe('portfolio VaR: P&L_t = Σ exposure_i × r_{i,t}, correlation from history', () => {
  const histories = {
    A: [0.01, -0.02, 0.03, -0.01, 0.0],
    B: [-0.01, 0.02, -0.03, 0.01, 0.005],
  };

  it('a hedged pair has almost no VaR while each leg alone has plenty', () => {
    // long 1,000 of each: P&L = 1,000 × (r_A + r_B) = 0, 0, 0, 0, +5 → losses 0, 0, 0, 0, −5
    // 80 %: k = ⌈5 × 0.2⌉ = 1 → VaR = max loss = 0
    const both = [
      { underlying: 'A', exposure: 1000 },
      { underlying: 'B', exposure: 1000 },
    ];
    const losses = portfolioLosses(both, histories);
    losses.forEach((l, i) => expect(l).toBeCloseTo([0, 0, 0, 0, -5][i]!, 9));
    expect(historicalVaR(losses, 0.8)).toBeCloseTo(0, 9);
    // A alone: losses −10, 20, −30, 10, 0 → VaR 20; B alone: 10, −20, 30, −10, −5 → VaR 30
    expect(historicalVaR(portfolioLosses([both[0]!], histories), 0.8)).toBeCloseTo(20, 9);
    expect(historicalVaR(portfolioLosses([both[1]!], histories), 0.8)).toBeCloseTo(30, 9);
  });

  it('nets exposures per underlying and aligns histories at their ends', () => {
    // C's history is one longer; only the last 5 entries (dates common to all) are used.
    const withC = { ...histories, C: [0.5, 0.01, 0.01, 0.01, 0.01, 0.01] };
    const losses = portfolioLosses(
      [
        { underlying: 'C', exposure: 300 },
        { underlying: 'A', exposure: 1000 },
        { underlying: 'C', exposure: -200 },
      ],
      new Map(Object.entries(withC)),
    );
    // net C = 100: loss_t = −(1,000 r_A + 100 × 0.01) = −(10, −20, 30, −10, 0) − 1
    [-11, 19, -31, 9, -1].forEach((l, i) => expect(losses[i]).toBeCloseTo(l, 9));
  });

  it('throws when an exposed underlying has no history; zero exposure needs none', () => {
    expect(() => portfolioLosses([{ underlying: 'X', exposure: 1 }], histories)).toThrow(/no return history for X/);
    expect(portfolioLosses([{ underlying: 'X', exposure: 0 }], histories)).toEqual([]);
  });
});

describe('historicalSimulation: the requirement of a portfolio', () => {
  const position = [{ underlying: 'A', exposure: -1_000_000 }]; // short 1,000,000

  it('sqrt-time: one-day VaR and ES × √h', () => {
    // short losses are 1,000,000 × r: at 90 % (k = 2) VaR 15,000, ES 17,500; h = 4 → × 2
    const r = historicalSimulation(position, { A: returns }, { lookback: 20, horizonDays: 4, confidence: 0.9, measure: 'es' });
    expect(r.horizonScale).toBe(2);
    expect(r.var).toBeCloseTo(30_000, 6);
    expect(r.es).toBeCloseTo(35_000, 6);
    expect(r.requirement).toBe(r.es);
    expect(historicalSimulation(position, { A: returns }, { lookback: 20, horizonDays: 4, confidence: 0.9, measure: 'var' }).requirement).toBe(r.var);
  });

  it('overlapping: h-day scenarios compounded from consecutive days, no scaling', () => {
    // lookback 4 → the last four returns +0.9 %, −1.5 %, +0.3 %, −0.6 %; h = 2 → 3 windows:
    //   1.009 × 0.985 − 1 = −0.006135;  0.985 × 1.003 − 1 = −0.012045;  1.003 × 0.994 − 1 = −0.003018
    // short losses = 1,000,000 × R: −6,135, −12,045, −3,018; 90 %: k = ⌈0.3⌉ = 1 → VaR = −3,018
    const r = historicalSimulation(position, { A: returns }, { lookback: 4, horizonDays: 2, horizonMethod: 'overlapping', confidence: 0.9, measure: 'var' });
    expect(r.scenarios).toBe(3);
    expect(r.var).toBeCloseTo(-3018, 6);
    // the short gained in every scenario: a requirement is never negative
    expect(r.requirement).toBe(0);
  });

  it('no exposure needs nothing; too little history throws', () => {
    expect(historicalSimulation([], {}, { lookback: 10, horizonDays: 1, confidence: 0.99, measure: 'es' }).requirement).toBe(0);
    expect(() =>
      historicalSimulation(position, { A: [0.01] }, { lookback: 10, horizonDays: 2, horizonMethod: 'overlapping', confidence: 0.99, measure: 'es' }),
    ).toThrow(/no scenarios/);
  });
});

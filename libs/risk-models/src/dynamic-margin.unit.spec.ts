import { dynamicRate, dynamicRateMultiplier, ewmaVolatility, type AntiProcyclicality } from '@clearsim/risk-models';

const REF = 0.01; // reference vol: 1 % a day ↔ multiplier 1
const base = { referenceVol: REF, floor: 0.5, cap: 3 };

describe('base multiplier m = clamp(σ / σ_ref, floor, cap)', () => {
  it.each([
    [0.002, 0.5], // 0.2 → floor 0.5
    [0.008, 0.8],
    [0.015, 1.5],
    [0.05, 3], // 5 → cap 3
  ])('σ = %p → %p', (ewmaVol, m) => {
    expect(dynamicRateMultiplier({ ...base, ewmaVol })).toBeCloseTo(m, 12);
  });

  it('rejects a zero reference, floor > cap, and APC below the EMIR 25 %', () => {
    expect(() => dynamicRateMultiplier({ ...base, ewmaVol: 0.01, referenceVol: 0 })).toThrow(RangeError);
    expect(() => dynamicRateMultiplier({ ...base, ewmaVol: 0.01, floor: 2, cap: 1 })).toThrow(RangeError);
    expect(() => dynamicRateMultiplier({ ...base, ewmaVol: 0.01, apc: { kind: 'buffer', buffer: 0.2 } })).toThrow(/Art. 28/);
    expect(() => dynamicRateMultiplier({ ...base, ewmaVol: 0.01, apc: { kind: 'stressed-weight', weight: 0.1, stressedVol: 0.02 } })).toThrow(/Art. 28/);
  });
});

describe('APC (a): a 25 % buffer in calm times, consumed before the rate rises', () => {
  const apc: AntiProcyclicality = { kind: 'buffer', buffer: 0.25 };
  it.each([
    // M = min(cap, max(m, 1.25 × min(m, 1)))
    [0.008, 0.8, 1.0], // calm: 1.25 × 0.8
    [0.01, 1.0, 1.25], // at the reference: the full buffer on top
    [0.011, 1.1, 1.25], // buffer partly consumed: add-on 0.15
    [0.0125, 1.25, 1.25], // buffer gone, rate not yet risen
    [0.013, 1.3, 1.3], // the rate rises only now
    [0.04, 3, 3], // cap
  ])('σ = %p: m = %p, M = %p', (ewmaVol, m, multiplier) => {
    const r = dynamicRate({ ...base, ewmaVol, apc });
    expect(r.base).toBeCloseTo(m, 12);
    expect(r.multiplier).toBeCloseTo(multiplier, 12);
    expect(r.apcAddOn).toBeCloseTo(multiplier - m, 12);
  });
});

// A step jump in volatility: 60 calm days of ±0.8 % then 60 stormy days of ±2 %.
// The EWMA vol (λ = 0.94) climbs σ²_{t+1} = 0.94 σ²_t + 0.06 × 0.0004 from 0.008² towards 0.02²:
//   storm day 0: σ = 0.8 %, m = 0.8; day 1: σ² = 0.94 × 0.000064 + 0.000024 = 0.00008416, m = 0.9174;
//   day 2: m = 1.0154; … day 5: m = 1.2386; day 6: m = 1.2969; … day 59: m ≈ 1.98.
// A multiplier on the raw daily |r| / σ_ref would jump 0.8 → 2 in one day: the cliff the EWMA and the APC avoid.
describe('a step jump in volatility: no cliff', () => {
  const calm = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? 0.008 : -0.008));
  const storm = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? 0.02 : -0.02));
  const returns = [...calm, ...storm];
  // the vol known at the start of day t: the EWMA over the returns before it
  const path = (apc: AntiProcyclicality) =>
    Array.from({ length: 61 }, (_, d) => dynamicRate({ ...base, ewmaVol: ewmaVolatility(returns.slice(0, 60 + d)), apc }));

  it('buffer: calm margin carries 25 %, the buffer is used up on days 2–5 at M = 1.25, then the rate follows m', () => {
    const p = path({ kind: 'buffer', buffer: 0.25 });
    expect(p[0]!.base).toBeCloseTo(0.8, 9);
    expect(p[0]!.multiplier).toBeCloseTo(1.0, 9); // 0.8 + 25 %
    // day 1 still calm (m = 0.9174 < 1): M = 1.25 × 0.9174 = 1.1467
    expect(p[1]!.multiplier).toBeCloseTo(1.25 * 0.917388, 5);
    // days with 1 ≤ m ≤ 1.25: the margin holds at 1.25 while the add-on shrinks
    const consuming = p.map((r, d) => ({ ...r, d })).filter((r) => r.base >= 1 && r.base <= 1.25);
    expect(consuming.map((r) => r.d)).toEqual([2, 3, 4, 5]);
    consuming.forEach((r) => expect(r.multiplier).toBe(1.25));
    for (let i = 1; i < consuming.length; i++) expect(consuming[i]!.apcAddOn).toBeLessThan(consuming[i - 1]!.apcAddOn);
    // from day 6 the add-on is gone and M = m
    p.slice(6).forEach((r) => expect(r.multiplier).toBe(r.base));
    // smooth and bounded: M never falls, and a day's rise is at most 1.25 × the rise of m (≤ 0.147 here)
    for (let d = 1; d < p.length; d++) {
      const rise = p[d]!.multiplier - p[d - 1]!.multiplier;
      expect(rise).toBeGreaterThanOrEqual(0);
      expect(rise).toBeLessThanOrEqual(1.25 * (p[d]!.base - p[d - 1]!.base) + 1e-12);
      expect(rise).toBeLessThan(0.15);
    }
    // after 60 stormy days the margin is near the storm level 2 (m ≈ 1.98): 1.0 → 1.98, against 0.8 → 1.98 without APC
    expect(p[60]!.multiplier).toBeCloseTo(2, 1);
  });

  it('stressed weight: M = 0.75 m + 0.25 m_s; the jump moves M by only 75 % of the move in m', () => {
    // stressed vol 2 % → m_s = 2; calm: M = 0.75 × 0.8 + 0.25 × 2 = 1.1
    const p = path({ kind: 'stressed-weight', weight: 0.25, stressedVol: 0.02 });
    expect(p[0]!.multiplier).toBeCloseTo(1.1, 9);
    for (let d = 1; d < p.length; d++) {
      expect(p[d]!.multiplier - p[d - 1]!.multiplier).toBeCloseTo(0.75 * (p[d]!.base - p[d - 1]!.base), 12);
      expect(p[d]!.multiplier).toBeGreaterThanOrEqual(p[d]!.base);
    }
    // a vol beyond the stressed level counts as the new stressed level: σ = 3 % → m = m_s = 3 = cap
    expect(dynamicRateMultiplier({ ...base, ewmaVol: 0.03, apc: { kind: 'stressed-weight', weight: 0.25, stressedVol: 0.02 } })).toBe(3);
  });
});

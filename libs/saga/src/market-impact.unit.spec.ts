import { parseRules, rulesToJson } from '@clearsim/rules';
import { decayedResidual, impactDistance, impactLawOf, isqrt, relativeImpact } from './market-impact';

const base = { name: 't', model: 'cross', accounts: { insurance: 'i', fees: 'f', backstop: 'b' } };
const lawOf = (law: Record<string, unknown>, instrument = 'BTC-PERP') =>
  impactLawOf(parseRules({ ...base, impact: { instruments: { '*': { law: 'linear', k: '1', depth: '1000000', halfLifeSeconds: 600, ...law } } } }), instrument)!;
const units = (decimal: string) => BigInt(Math.round(Number(decimal) * 1e8));

describe('the impact law of one forced fill', () => {
  it('linear: Δp/p = k · notional / depth', () => {
    // 0.5 × 50,000 / 1,000,000 = 0.025
    expect(relativeImpact(lawOf({ k: '0.5' }), units('50000'))).toBe(units('0.025'));
  });

  it('square-root law: Δp/p = k · √(notional / depth)', () => {
    // 0.1 × √(250,000 / 1,000,000) = 0.1 × 0.5 = 0.05 (cap raised to 0.2)
    expect(relativeImpact(lawOf({ law: 'sqrt', k: '0.1', capPerFill: '0.2' }), units('250000'))).toBe(units('0.05'));
    // 0.1 × √(20,000 / 1,000,000) = 0.1 × 0.14142135 (√0.02, floored to 8 decimals) = 0.01414213 (floored)
    expect(relativeImpact(lawOf({ law: 'sqrt', k: '0.1' }), units('20000'))).toBe(1_414_213n);
    // the square-root law moves the mark more than linear for fills smaller than the depth, less for larger ones
    expect(relativeImpact(lawOf({ law: 'sqrt', k: '1', capPerFill: '0.99' }), units('10000'))).toBeGreaterThan(relativeImpact(lawOf({ k: '1' }), units('10000')));
  });

  it('one fill moves the mark at most capPerFill (default 5 %)', () => {
    // linear 1 × 200,000 / 1,000,000 = 0.2 → capped at 0.05
    expect(relativeImpact(lawOf({}), units('200000'))).toBe(units('0.05'));
    expect(relativeImpact(lawOf({ capPerFill: '0.1' }), units('200000'))).toBe(units('0.1'));
  });

  it('the distance in price is rounded up (a forced fill always moves the mark), and zero for a zero move', () => {
    // 9,450 × 0.00945 = 89.3025 exactly; 1 × 0.00000001 = 0.00000001
    expect(impactDistance(units('9450'), units('0.00945'))).toBe(units('89.3025'));
    expect(impactDistance(100_000_000n, 1n)).toBe(1n);
    expect(impactDistance(units('9450'), 0n)).toBe(0n);
  });

  it('per instrument, else "*"', () => {
    const rules = parseRules({ ...base, impact: { instruments: { '*': { law: 'linear', k: '1', depth: '1', halfLifeSeconds: 1 }, 'ETH-PERP': { law: 'sqrt', k: '2', depth: '1', halfLifeSeconds: 1 } } } });
    expect(impactLawOf(rules, 'ETH-PERP')!.law).toBe('sqrt');
    expect(impactLawOf(rules, 'BTC-PERP')!.law).toBe('linear');
    expect(impactLawOf(parseRules(base), 'BTC-PERP')).toBeUndefined();
  });

  it('isqrt is the exact integer square root', () => {
    for (const n of [0n, 1n, 2n, 3n, 4n, 15n, 16n, 17n, 10n ** 30n, 10n ** 30n - 1n, 10n ** 41n + 7n, (10n ** 20n + 3n) ** 2n, (10n ** 20n + 3n) ** 2n - 1n]) {
      const r = isqrt(n);
      expect(r * r <= n && (r + 1n) * (r + 1n) > n).toBe(true);
    }
  });
});

describe('decay of the residual impact', () => {
  it('halves it every half-life: residual · 2^(−Δt / halfLife), toward zero', () => {
    // −176.92508749 after 600 s of a 600 s half-life: × 0.5 = −88.462543745 → −88.46254374 (toward zero)
    expect(decayedResidual(-17_692_508_749n, 600_000, 600)).toBe(-8_846_254_374n);
    // two half-lives: a quarter; 100 × 0.25 = 25
    expect(decayedResidual(units('100'), 1_200_000, 600)).toBe(units('25'));
    // 300 s: × 2^(−0.5) = 0.70710678 (rounded to 8 decimals) → 70.710678
    expect(decayedResidual(units('100'), 300_000, 600)).toBe(units('70.710678'));
    // no time, no decay; after very long, nothing is left
    expect(decayedResidual(units('100'), 0, 600)).toBe(units('100'));
    expect(decayedResidual(units('100'), 600_000 * 60, 600)).toBe(0n);
  });
});

describe('rules impact', () => {
  it('round-trips through the recorded form of the rules', () => {
    const rules = parseRules({ ...base, impact: { instruments: { 'BTC-PERP': { law: 'sqrt', k: '0.7', depth: '5000000', capPerFill: '0.02', halfLifeSeconds: 300 } }, capPerInput: '0.1' } });
    expect(parseRules(rulesToJson(rules))).toEqual(rules);
  });

  it.each([
    [{ instruments: { '*': { law: 'cubic', k: '1', depth: '1', halfLifeSeconds: 1 } } }, /impact\.instruments\.\*\.law/],
    [{ instruments: { '*': { law: 'linear', k: '1', depth: '0', halfLifeSeconds: 1 } } }, /impact\.instruments\.\*\.depth: must be greater than 0/],
    [{ instruments: { '*': { law: 'linear', k: '-1', depth: '1', halfLifeSeconds: 1 } } }, /impact\.instruments\.\*\.k: must not be negative/],
    [{ instruments: { '*': { law: 'linear', k: '1', depth: '1', halfLifeSeconds: 0 } } }, /impact\.instruments\.\*\.halfLifeSeconds/],
    [{ instruments: { '*': { law: 'linear', k: '1', depth: '1', halfLifeSeconds: 1, capPerFill: '1' } } }, /impact\.instruments\.\*\.capPerFill: must be a fraction of the mark in \(0, 1\)/],
    [{ instruments: {}, capPerInput: '0' }, /impact\.capPerInput/],
  ])('refuses %j, naming the field', (impact, message) => {
    expect(() => parseRules({ ...base, impact })).toThrow(message);
  });
});

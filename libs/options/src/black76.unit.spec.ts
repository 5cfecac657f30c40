import fc from 'fast-check';
import { black76, black76Greeks, black76Price, thetaPerDay, vegaPerPoint, type Black76Input, type OptionType } from './black76';

const price = (f: number, k: number, years: number, volatility: number, rate: number, type: OptionType) =>
  black76Price({ forward: f, strike: k, years, volatility, rate, type });

describe('black76Price: published and independently computed values (to 1e-4)', () => {
  // Every `expected` below was recomputed with mpmath 1.3.0 at 50 digits from
  // the closed form (call = e^{-rT}[F·Φ(d1) − K·Φ(d2)], put = e^{-rT}[K·Φ(−d2) − F·Φ(−d1)]):
  //   python3 -c "import mpmath as mp; mp.mp.dps=50; ..."  (mp.ncdf for Φ)
  // and is written as the nearest double (its shortest decimal form).
  it.each<[string, number, number, number, number, number, OptionType, number]>([
    // J. C. Hull, "Options, Futures, and Other Derivatives", Black's model for
    // futures options, crude-oil example: a 4-month European put, F = K = 20,
    // r = 9 %, σ = 25 %; Hull prints 1.12 (from rounded table values of N);
    // mpmath: 1.1166414565589434795.
    ['Hull crude-oil put', 20, 20, 4 / 12, 0.25, 0.09, 'put', 1.1166414565589435],
    // at the money forward, so the call is worth the same
    ['Hull crude-oil call', 20, 20, 4 / 12, 0.25, 0.09, 'call', 1.1166414565589435],
    // E. G. Haug, "The Complete Guide to Option Pricing Formulas" (2nd ed.),
    // Black-76 example: F = K = 19, T = 0.75, r = 10 %, σ = 28 % → c = p = 1.7011;
    // mpmath: 1.7010507252362672931.
    ['Haug Black-76 call', 19, 19, 0.75, 0.28, 0.1, 'call', 1.7010507252362672],
    ['Haug Black-76 put', 19, 19, 0.75, 0.28, 0.1, 'put', 1.7010507252362672],
    // SAS FedSQL reference, BLACKCLPRC / BLACKPTPRC examples (Black model on
    // futures, arguments E, t, F, r, σ), published to 15 digits:
    //   support.sas.com/documentation/cdl/en/fedsqlref/69925/HTML/default/n1ia202pwpn3zcn18hwk4b8kfy2v.htm
    //   support.sas.com/documentation/cdl/en/fedsqlref/69925/HTML/default/p1m0bmkkpsu2ytn1jhsk50ewnaub.htm
    // blackclprc(50, .25, 48, .05, .25) = 1.55130142723117 (mpmath 1.5513014272311730855)
    ['SAS blackclprc example', 48, 50, 0.25, 0.25, 0.05, 'call', 1.5513014272311731],
    // blackptprc(298, .25, 350, .06, .25) = 1.85980563934967 (mpmath 1.8598056393496962879)
    ['SAS blackptprc example 1', 350, 298, 0.25, 0.25, 0.06, 'put', 1.8598056393496962],
    // blackptprc(145, .5, 170, .05, .2) = 1.41234979911583 (mpmath 1.41234979911582029)
    ['SAS blackptprc example 2', 170, 145, 0.5, 0.2, 0.05, 'put', 1.4123497991158203],
    // Computed independently with mpmath (no published source):
    ['OTM call, 6 months', 100, 110, 0.5, 0.3, 0.05, 'call', 4.62851246261809],
    ['ITM put, 6 months', 100, 110, 0.5, 0.3, 0.05, 'put', 14.381611582901417],
    ['crypto ITM call, 30 days, r = 0', 3000, 2500, 30 / 365, 0.8, 0, 'call', 575.8847469564914],
    ['crypto OTM put, 30 days, r = 0', 3000, 2500, 30 / 365, 0.8, 0, 'put', 75.8847469564914],
    ['ITM call, 2 years', 50, 40, 2, 0.15, 0.03, 'call', 10.08885766127736],
    ['OTM put, 2 years', 50, 40, 2, 0.15, 0.03, 'put', 0.6712123254348732],
    ['negative rate, ATM', 100, 100, 1, 0.2, -0.01, 'call', 8.045622739252837],
  ])('%s', (_name, f, k, t, vol, r, type, expected) => {
    expect(Math.abs(price(f, k, t, vol, r, type) - expected)).toBeLessThan(1e-4);
    // and, as the implementation is float64, much closer than that
    expect(Math.abs(price(f, k, t, vol, r, type) - expected)).toBeLessThan(1e-12 * Math.max(f, k));
  });

  it('keeps relative accuracy far out of the money (F = 100, K = 200, T = 0.25, σ = 0.2: mpmath 4.0829666316e-12)', () => {
    expect(Math.abs(price(100, 200, 0.25, 0.2, 0, 'call') / 4.0829666316e-12 - 1)).toBeLessThan(1e-6);
  });

  it('rate defaults to 0', () => {
    const input = { forward: 3000, strike: 2500, years: 30 / 365, volatility: 0.8, type: 'call' } as const;
    expect(black76Price(input)).toBe(black76Price({ ...input, rate: 0 }));
  });
});

describe('black76Greeks: independently computed values', () => {
  // mpmath 1.3.0 at 50 digits, numerical derivatives (mp.diff) of the closed
  // form at F = 100, K = 110, T = 0.5, σ = 0.3, r = 0.05; theta = −∂V/∂T.
  it.each<[OptionType, { delta: number; gamma: number; vega: number; theta: number; rho: number }]>([
    ['call', { delta: 0.35668306364, gamma: 0.01729278519, vega: 25.939177785, theta: -7.5503277123, rho: -2.3142562313 }],
    ['put', { delta: -0.61862684839, gamma: 0.01729278519, vega: 25.939177785, theta: -7.0626727563, rho: -7.1908057915 }],
  ])('%s', (type, expected) => {
    const g = black76Greeks({ forward: 100, strike: 110, years: 0.5, volatility: 0.3, rate: 0.05, type });
    for (const key of ['delta', 'gamma', 'vega', 'theta', 'rho'] as const) {
      expect(Math.abs(g[key] - expected[key])).toBeLessThan(1e-9 * Math.max(1, Math.abs(expected[key])));
    }
  });

  it('black76 returns the same price and greeks as the two functions', () => {
    const input: Black76Input = { forward: 100, strike: 90, years: 0.3, volatility: 0.4, rate: 0.02, type: 'put' };
    expect(black76(input)).toEqual({ price: black76Price(input), greeks: black76Greeks(input) });
  });

  it('per-day theta and per-point vega', () => {
    expect(thetaPerDay(-36.5)).toBeCloseTo(-0.1, 15);
    expect(vegaPerPoint(25)).toBe(0.25);
  });
});

// log-uniform positive prices, and realistic T, σ, r
const logUniform = (lo: number, hi: number) =>
  fc.double({ min: Math.log(lo), max: Math.log(hi), noNaN: true }).map((u) => Math.exp(u));
const optionType = fc.constantFrom<OptionType>('call', 'put');

describe('put–call parity: C − P = e^{−rT}(F − K)', () => {
  it('holds to 1e-9 of max(F, K) over random inputs', () => {
    fc.assert(
      fc.property(
        logUniform(0.01, 1e5),
        logUniform(0.01, 1e5),
        fc.double({ min: 0, max: 10, noNaN: true }),
        fc.double({ min: 0, max: 3, noNaN: true }),
        fc.double({ min: -0.05, max: 0.2, noNaN: true }),
        (f, k, t, vol, r) => {
          const c = price(f, k, t, vol, r, 'call');
          const p = price(f, k, t, vol, r, 'put');
          const parity = Math.exp(-r * t) * (f - k);
          expect(Math.abs(c - p - parity)).toBeLessThanOrEqual(1e-9 * Math.max(f, k));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('greeks against central finite differences (relative 1e-5)', () => {
  // |fd − analytic| ≤ 1e-5·|analytic| + floor, the floor (1e-9 of the greek's
  // natural scale) only matters where the greek is numerically zero (deep in or
  // out of the money, where e.g. Φ(d1) rounds to 1).
  const within = (fd: number, analytic: number, scale: number) =>
    expect(Math.abs(fd - analytic)).toBeLessThanOrEqual(1e-5 * Math.abs(analytic) + 1e-9 * scale);

  const inputs = fc.record({
    forward: logUniform(1, 1000),
    moneyness: fc.double({ min: -1, max: 1, noNaN: true }), // ln(K/F)
    years: fc.double({ min: 0.02, max: 5, noNaN: true }),
    volatility: fc.double({ min: 0.05, max: 1.5, noNaN: true }),
    rate: fc.double({ min: -0.05, max: 0.15, noNaN: true }),
    type: optionType,
  });

  it('delta = ∂V/∂F, gamma = ∂delta/∂F, vega = ∂V/∂σ, theta = −∂V/∂T, rho = ∂V/∂r', () => {
    fc.assert(
      fc.property(inputs, ({ forward, moneyness, years, volatility, rate, type }) => {
        const base: Black76Input = { forward, strike: forward * Math.exp(moneyness), years, volatility, rate, type };
        const g = black76Greeks(base);
        const v = (over: Partial<Black76Input>) => black76Price({ ...base, ...over });
        const d = (over: Partial<Black76Input>) => black76Greeks({ ...base, ...over }).delta;

        const hF = 1e-5 * forward;
        within((v({ forward: forward + hF }) - v({ forward: forward - hF })) / (2 * hF), g.delta, 1);
        within((d({ forward: forward + hF }) - d({ forward: forward - hF })) / (2 * hF), g.gamma, 1 / forward);
        const hS = 1e-5 * volatility;
        within((v({ volatility: volatility + hS }) - v({ volatility: volatility - hS })) / (2 * hS), g.vega, forward);
        const hT = 1e-5 * years;
        within(-(v({ years: years + hT }) - v({ years: years - hT })) / (2 * hT), g.theta, forward);
        const hR = 1e-5;
        within((v({ rate: rate + hR }) - v({ rate: rate - hR })) / (2 * hR), g.rho, forward);
      }),
      { numRuns: 1000 },
    );
  });

  it('gamma and vega are the same for a call and a put; delta_call − delta_put = e^{−rT}', () => {
    fc.assert(
      fc.property(inputs, ({ forward, moneyness, years, volatility, rate }) => {
        const base = { forward, strike: forward * Math.exp(moneyness), years, volatility, rate };
        const c = black76Greeks({ ...base, type: 'call' });
        const p = black76Greeks({ ...base, type: 'put' });
        expect(c.gamma).toBe(p.gamma);
        expect(c.vega).toBe(p.vega);
        expect(Math.abs(c.delta - p.delta - Math.exp(-rate * years))).toBeLessThan(1e-15);
      }),
    );
  });
});

describe('limits and shape', () => {
  it('T = 0 (and T < 0: expired) is the intrinsic value, undiscounted', () => {
    for (const years of [0, -1]) {
      expect(price(120, 100, years, 0.5, 0.1, 'call')).toBe(20);
      expect(price(120, 100, years, 0.5, 0.1, 'put')).toBe(0);
      expect(price(80, 100, years, 0.5, 0.1, 'put')).toBe(20);
      expect(price(80, 100, years, 0.5, 0.1, 'call')).toBe(0);
    }
  });

  it('σ = 0 is the discounted intrinsic value, and σ → 0 converges to it', () => {
    const d = Math.exp(-0.05 * 2);
    expect(price(120, 100, 2, 0, 0.05, 'call')).toBe(d * 20);
    expect(price(120, 100, 2, 0, 0.05, 'put')).toBe(0);
    expect(price(80, 100, 2, 1e-12, 0.05, 'put')).toBeCloseTo(d * 20, 12);
    expect(price(80, 100, 2, 1e-12, 0.05, 'call')).toBe(0);
    // at the money the time value is ≈ D·F·σ·√T/√(2π), so it vanishes with σ
    expect(price(100, 100, 2, 1e-12, 0.05, 'call')).toBeLessThan(1e-9);
  });

  it('greeks at the limits: step delta, no gamma, the σ → 0 vega at the money', () => {
    const d = Math.exp(-0.05 * 2);
    const at = (f: number, type: OptionType, years = 2) =>
      black76Greeks({ forward: f, strike: 100, years, volatility: 0, rate: 0.05, type });
    expect(at(120, 'call')).toMatchObject({ delta: d, gamma: 0, vega: 0 });
    expect(at(120, 'call').theta).toBeCloseTo(0.05 * d * 20, 14);
    expect(at(120, 'call').rho).toBeCloseTo(-2 * d * 20, 13);
    expect(at(120, 'put')).toEqual({ delta: -0, gamma: 0, vega: 0, theta: 0, rho: -0 });
    expect(at(80, 'put').delta).toBe(-d);
    expect(at(100, 'call').delta).toBe(d / 2);
    expect(at(100, 'call').vega).toBeCloseTo((d * 100 * Math.sqrt(2)) / Math.sqrt(2 * Math.PI), 12);
    expect(at(100, 'call', 0).vega).toBe(0);
  });

  it('is monotonic in the strike: calls fall, puts rise', () => {
    fc.assert(
      fc.property(
        logUniform(1, 1e4),
        logUniform(1, 1e4),
        fc.double({ min: 1e-6, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 5, noNaN: true }),
        fc.double({ min: 0, max: 2, noNaN: true }),
        fc.double({ min: -0.05, max: 0.2, noNaN: true }),
        (f, k, step, t, vol, r) => {
          const k2 = k * (1 + step);
          const tol = 1e-12 * Math.max(f, k2);
          expect(price(f, k2, t, vol, r, 'call')).toBeLessThanOrEqual(price(f, k, t, vol, r, 'call') + tol);
          expect(price(f, k2, t, vol, r, 'put')).toBeGreaterThanOrEqual(price(f, k, t, vol, r, 'put') - tol);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('stays within its no-arbitrage bounds: D·(F − K)⁺ ≤ C ≤ D·F, D·(K − F)⁺ ≤ P ≤ D·K', () => {
    fc.assert(
      fc.property(
        logUniform(1e-3, 1e6),
        logUniform(1e-3, 1e6),
        fc.double({ min: 0, max: 30, noNaN: true }),
        fc.double({ min: 0, max: 5, noNaN: true }),
        fc.double({ min: -0.05, max: 0.2, noNaN: true }),
        (f, k, t, vol, r) => {
          const d = Math.exp(-r * t);
          const tol = 1e-12 * Math.max(f, k);
          const c = price(f, k, t, vol, r, 'call');
          const p = price(f, k, t, vol, r, 'put');
          expect(c).toBeGreaterThanOrEqual(d * Math.max(f - k, 0) - tol);
          expect(c).toBeLessThanOrEqual(d * f + tol);
          expect(p).toBeGreaterThanOrEqual(d * Math.max(k - f, 0) - tol);
          expect(p).toBeLessThanOrEqual(d * k + tol);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it.each<[string, Black76Input]>([
    ['deep ITM call, tiny vol', { forward: 1e6, strike: 1e-6, years: 1, volatility: 1e-4, type: 'call' }],
    ['deep OTM call, tiny vol', { forward: 1e-6, strike: 1e6, years: 1, volatility: 1e-4, type: 'call' }],
    ['extreme ratio', { forward: 1e300, strike: 1e-300, years: 1, volatility: 0.3, type: 'put' }],
    ['huge vol and time', { forward: 100, strike: 100, years: 1000, volatility: 50, type: 'call' }],
    ['vol·√T overflows', { forward: 100, strike: 90, years: 1e300, volatility: 1e300, type: 'put' }],
    ['subnormal time', { forward: 100, strike: 101, years: 5e-324, volatility: 0.5, type: 'call' }],
    ['one millisecond to expiry, at the money', { forward: 100, strike: 100, years: 1 / 31_536_000_000, volatility: 0.5, type: 'call' }],
    ['strike 0', { forward: 100, strike: 0, years: 1, volatility: 0.5, rate: 0.05, type: 'call' }],
    ['forward 0', { forward: 0, strike: 100, years: 1, volatility: 0.5, rate: 0.05, type: 'put' }],
    ['both 0', { forward: 0, strike: 0, years: 1, volatility: 0.5, type: 'call' }],
  ])('no NaN, no negative price: %s', (_name, input) => {
    const { price: v, greeks } = black76(input);
    expect(Number.isFinite(v)).toBe(true);
    expect(v).toBeGreaterThanOrEqual(0);
    for (const value of Object.values(greeks)) expect(Number.isFinite(value)).toBe(true);
  });

  it('prices of the degenerate cases are the limits', () => {
    expect(price(100, 0, 1, 0.5, 0.05, 'call')).toBe(Math.exp(-0.05) * 100);
    expect(price(0, 100, 1, 0.5, 0.05, 'put')).toBe(Math.exp(-0.05) * 100);
    expect(price(100, 90, 1e300, 1e300, 0, 'put')).toBe(90);
    expect(price(100, 90, 1e300, 1e300, 0, 'call')).toBe(100);
  });

  it.each<[string, Partial<Black76Input>]>([
    ['negative forward', { forward: -1 }],
    ['NaN strike', { strike: Number.NaN }],
    ['negative vol', { volatility: -0.1 }],
    ['infinite time', { years: Number.POSITIVE_INFINITY }],
    ['NaN rate', { rate: Number.NaN }],
    ['discount factor overflow', { rate: -1, years: 1000 }],
    ['bad type', { type: 'straddle' as OptionType }],
  ])('refuses %s with a RangeError', (_name, over) => {
    const base: Black76Input = { forward: 100, strike: 100, years: 1, volatility: 0.2, type: 'call' };
    expect(() => black76Price({ ...base, ...over })).toThrow(RangeError);
  });
});

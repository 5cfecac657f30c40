import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { generateInputs, type InputJson } from './generate';
import { streamFor } from './prng';
import { parseScenario, ScenarioError } from './scenario';
import { MAX_STRESS_LOG_MOVE } from './scenario.schema';
import { garchVariances, marketShocks, poisson, standardNormal, stressedInputs, stressParameters, unconditionalVariance } from './stress-paths';

const rules = parseYaml(readFileSync(join(__dirname, '../../rules/presets/crypto-cross.yaml'), 'utf8')) as Record<string, unknown>;

const raw = (stress?: unknown) => ({
  name: 'stress-unit',
  rules: 'crypto-cross',
  seed: 7,
  start: '2020-03-12T00:00:00Z',
  instruments: { 'BTC-PERP': { kind: 'perpetual', underlying: 'BTC' }, 'ETH-PERP': { kind: 'perpetual', underlying: 'ETH' } },
  prices: {
    every: 60,
    noise: '0.001',
    paths: {
      'BTC-PERP': [
        { at: '2020-03-12T00:00:00Z', price: '8000' },
        { at: '2020-03-12T00:30:00Z', price: '7000' },
      ],
      'ETH-PERP': [
        { at: '2020-03-12T00:00:00Z', price: '200' },
        { at: '2020-03-12T00:20:30Z', price: '170' },
      ],
    },
  },
  accounts: { insurance: { deposit: '1000' }, fees: {}, mm: { deposit: '1000000' } },
  population: [{ prefix: 'long', count: 5, side: 'long', instrument: 'BTC-PERP', leverage: [2, 20], collateral: ['500', '5000'], counterparty: 'mm' }],
  events: [{ type: 'WithdrawalRequested', ts: '2020-03-12T00:05:00Z', requestId: 'w1', account: 'mm', asset: 'USD', amount: '10' }],
  ...(stress === undefined ? {} : { stress }),
});

const scenario = (stress?: unknown) => parseScenario(raw(stress), 'stress-unit.yaml');
const isMark = (e: InputJson) => e.type === 'PriceUpdated' || e.type === 'MarketMoved';
const withoutPrices = (e: InputJson) => (e.type === 'PriceUpdated' ? { ...e, price: '*' } : e.type === 'MarketMoved' ? { ...e, marks: (e.marks as { instrument: string }[]).map((m) => ({ ...m, price: '*' })) } : e);

describe('GARCH(1,1) recursion', () => {
  it('follows σ²_t = ω + α·r²_{t−1} + β·σ²_{t−1} from the unconditional variance (worked numbers)', () => {
    const garch = { omega: 0.0001, alpha: 0.1, beta: 0.8 };
    // σ²_0 = ω / (1 − α − β) = 0.0001 / 0.1 = 0.001, and r_0 = 0:
    // σ²_1 = 0.0001 + 0.1 × 0            + 0.8 × 0.001   = 0.0009
    // σ²_2 = 0.0001 + 0.1 × 0.02²        + 0.8 × 0.0009  = 0.0001 + 0.00004 + 0.00072  = 0.00086
    // σ²_3 = 0.0001 + 0.1 × (−0.05)²     + 0.8 × 0.00086 = 0.0001 + 0.00025 + 0.000688 = 0.001038
    // σ²_4 = 0.0001 + 0.1 × 0²           + 0.8 × 0.001038 = 0.0001 + 0.0008304          = 0.0009304
    expect(unconditionalVariance(garch)).toBeCloseTo(0.001, 15);
    const variances = garchVariances(garch, [0.02, -0.05, 0, 0.01]);
    [0.0009, 0.00086, 0.001038, 0.0009304].forEach((expected, i) => expect(variances[i]).toBeCloseTo(expected, 15));
  });
});

describe('random draws', () => {
  it('the jump count averages intensity × steps over many paths (fixed seed)', () => {
    // 400 paths of 1,000 steps at λ = 0.004 jumps per step: Poisson(4) per path, so the mean over
    // 400 paths has standard deviation √(4 / 400) = 0.1; ±0.5 is five standard deviations (a fixed
    // seed makes the test deterministic; the tolerance says a correct sampler cannot miss it).
    const times = Array.from({ length: 1000 }, (_, i) => i);
    const jumps = { intensity: 0.004, mean: -0.02, stdev: 0.03 };
    let total = 0;
    for (let p = 0; p < 400; p++) total += marketShocks(99n, p, times, jumps).reduce((sum, s) => sum + s.jumps, 0);
    expect(Math.abs(total / 400 - 4)).toBeLessThan(0.5);
  });

  it('poisson and standardNormal have the right first two moments (fixed seed, 5-sigma tolerances)', () => {
    const rng = streamFor(1n, 'moments');
    const n = 20_000;
    // Poisson(2): mean 2, variance 2 → the sample mean's sd is √(2 / 20000) = 0.01
    const counts = Array.from({ length: n }, () => poisson(rng, 2));
    const countMean = counts.reduce((a, b) => a + b, 0) / n;
    expect(Math.abs(countMean - 2)).toBeLessThan(0.05);
    // N(0, 1): the sample mean's sd is √(1 / 20000) ≈ 0.0071; the sample variance's sd ≈ √(2 / 20000) = 0.01
    const normals = Array.from({ length: n }, () => standardNormal(rng));
    const mean = normals.reduce((a, b) => a + b, 0) / n;
    const variance = normals.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
    expect(Math.abs(mean)).toBeLessThan(0.036);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });
});

describe('stressedInputs', () => {
  it('keeps every event but the generated marks, and keeps the tick times and the start price', () => {
    const s = scenario();
    const base = generateInputs(s, rules);
    const stressed = stressedInputs(s, rules, 5n, 0);
    expect(stressed.map(withoutPrices)).toEqual(base.map(withoutPrices));
    const firstMark = base.findIndex(isMark);
    expect(stressed[firstMark]).toEqual(base[firstMark]); // the opening mark at start: the population trades there
    const laterMarks = (events: InputJson[]) => events.filter((e, i) => i > firstMark && isMark(e)).map((e) => JSON.stringify(e));
    expect(laterMarks(stressed)).not.toEqual(laterMarks(base));
  });

  it('depends on (seed, path index) only: the same twice, another path differs', () => {
    const s = scenario();
    expect(stressedInputs(s, rules, 5n, 3)).toEqual(stressedInputs(s, rules, 5n, 3));
    expect(stressedInputs(s, rules, 5n, 3)).not.toEqual(stressedInputs(s, rules, 5n, 4));
    expect(stressedInputs(s, rules, 5n, 3)).not.toEqual(stressedInputs(s, rules, 6n, 3));
  });

  it('draws η from the stream stress/<path>/<instrument> and compounds r_t = σ_t·η_t through the GARCH recursion', () => {
    // one instrument on a flat path at 100 (8 decimals, no noise), no jumps, ρ = 0 (only η counts):
    // X_t = r_1 + … + r_t, r_t = √σ²_t · η_t, σ²_t = ω + α·r²_{t−1} + β·σ²_{t−1}, price_t = 100 × e^{X_t}
    const flat = {
      ...raw({ garch: { omega: 0.0001, alpha: 0.1, beta: 0.8 }, jumps: { intensity: 0 }, correlation: 0 }),
      instruments: { 'BTC-PERP': { kind: 'perpetual', underlying: 'BTC' } },
      prices: {
        every: 60,
        noise: '0',
        decimals: 8,
        paths: {
          'BTC-PERP': [
            { at: '2020-03-12T00:00:00Z', price: '100' },
            { at: '2020-03-12T00:10:00Z', price: '100' },
          ],
        },
      },
      population: [],
      events: [],
    };
    const marks = stressedInputs(parseScenario(flat, 'flat.yaml'), rules, 21n, 4).filter((e) => e.type === 'PriceUpdated').slice(1); // after the start mark
    expect(marks).toHaveLength(10);
    const eta = streamFor(21n, 'stress/4/BTC-PERP');
    const returns: number[] = [];
    let x = 0;
    marks.forEach((mark, t) => {
      const variance = garchVariances({ omega: 0.0001, alpha: 0.1, beta: 0.8 }, [...returns, 0])[t]!;
      const r = Math.sqrt(variance) * standardNormal(eta);
      returns.push(r);
      x += r;
      expect(Math.abs(Number(mark.price) - 100 * Math.exp(x))).toBeLessThanOrEqual(1e-8);
    });
  });

  it('with ω = 0 and no jumps, the path is the scenario path exactly', () => {
    const s = scenario({ garch: { omega: 0, alpha: 0, beta: 0 }, jumps: { intensity: 0 } });
    expect(stressedInputs(s, rules, 5n, 0)).toEqual(generateInputs(s, rules));
  });

  it('with correlation 1 and ω > 0, two instruments with the same tick times get the same log-shifts', () => {
    const same = raw({ correlation: 1, jumps: { intensity: 0.2 } });
    same.prices.paths['ETH-PERP'] = [
      { at: '2020-03-12T00:00:00Z', price: '200' },
      { at: '2020-03-12T00:30:00Z', price: '200' },
    ];
    same.prices.noise = '0';
    same.prices.paths['BTC-PERP'][1]!.price = '8000';
    const events = stressedInputs(parseScenario(same, 'same.yaml'), rules, 11n, 2).filter((e) => e.type === 'MarketMoved');
    for (const e of events) {
      const [btc, eth] = (e.marks as { price: string }[]).map((m) => Number(m.price));
      // both flat paths shifted by the same exp(X): 8000 × e^X and 200 × e^X, each rounded to 0.01
      expect(Math.abs(btc! / 40 - eth!)).toBeLessThanOrEqual(0.005 + 0.005 / 40 + 1e-9);
    }
  });
});

describe('the stress block', () => {
  const issues = (stress: unknown) => {
    try {
      scenario(stress);
    } catch (error) {
      if (error instanceof ScenarioError) return error.issues;
      throw error;
    }
    return [];
  };

  it('is optional: a scenario without it parses as before and gets the documented defaults', () => {
    expect(scenario().stress).toBeUndefined();
    expect(stressParameters(scenario())).toEqual({ garch: { omega: 5e-8, alpha: 0.05, beta: 0.9 }, jumps: { intensity: 0.001, mean: -0.02, stdev: 0.03 }, correlation: 0.8 });
    expect(stressParameters(scenario({ garch: { alpha: 0.08 } })).garch).toEqual({ omega: 5e-8, alpha: 0.08, beta: 0.9 });
  });

  it('refuses a non-stationary GARCH (α + β ≥ 1), naming the field', () => {
    expect(issues({ garch: { alpha: 0.5, beta: 0.5 } })).toEqual([{ path: 'stress.garch.beta', message: expect.stringContaining('alpha + beta must be < 1') }]);
    expect(issues({ garch: { alpha: 0.2, beta: 0.9 } })[0]?.path).toBe('stress.garch.beta');
  });

  it('refuses a negative ω, a correlation outside [0, 1], a negative jump stdev, and unknown fields', () => {
    expect(issues({ garch: { omega: -0.0001 } })).toEqual([{ path: 'stress.garch.omega', message: 'must be >= 0 (a per-step variance)' }]);
    expect(issues({ correlation: 1.5 })).toEqual([{ path: 'stress.correlation', message: 'must be <= 1 (a correlation in [0, 1])' }]);
    expect(issues({ jumps: { stdev: -1 } })).toEqual([{ path: 'stress.jumps.stdev', message: 'must be >= 0 (a standard deviation)' }]);
    expect(issues({ garch: { omega: '0.1' } })[0]?.path).toBe('stress.garch.omega');
    expect(issues({ volatility: 1 })).toEqual([{ path: 'stress', message: 'unknown field(s) "volatility"' }]);
  });

  it('bounds one step\'s typical log-move by ln(2^53 − 1), the log-range of the price-step counts a path can hold', () => {
    // the bound is the arithmetic's: e^36.7368 steps is still an exact count, one more ten-thousandth is not
    expect(MAX_STRESS_LOG_MOVE).toBe(36.7368);
    expect(Math.exp(MAX_STRESS_LOG_MOVE)).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
    expect(Math.exp(MAX_STRESS_LOG_MOVE + 1e-4)).toBeGreaterThan(Number.MAX_SAFE_INTEGER);

    // one jump of mean log-size 800 (a factor e^800) leaves the range whatever the price: refused, with the range
    expect(issues({ jumps: { mean: 800 } })).toEqual([{ path: 'stress.jumps.mean', message: expect.stringContaining('must be from -36.7368 to 36.7368 (the mean log-size of one jump') }]);
    expect(issues({ jumps: { mean: -36.7369 } })[0]?.path).toBe('stress.jumps.mean');
    expect(issues({ jumps: { mean: -36.7368, intensity: 0.5 } })).toEqual([]);
    expect(issues({ jumps: { stdev: 50 } })).toEqual([{ path: 'stress.jumps.stdev', message: expect.stringContaining('must be from 0 to 36.7368') }]);
    expect(issues({ jumps: { stdev: 36.7368 } })).toEqual([]);
    // 10 jumps of 30 a step: 300 expected; the intensity allowed with this mean is 36.7368 / 30 = 1.22456
    expect(issues({ jumps: { intensity: 10, mean: 30 } })).toEqual([{ path: 'stress.jumps.intensity', message: expect.stringContaining('must be from 0 to 1.22456 with this mean') }]);
    expect(issues({ jumps: { intensity: 1.22456, mean: 30 } })).toEqual([]);
    // the long-run standard deviation √(ω / (1 − α − β)): with α + β = 0.95, ω at most 36.7368² × 0.05 = 67.47962…
    expect(issues({ garch: { omega: 1e300 } })).toEqual([{ path: 'stress.garch.omega', message: expect.stringContaining('must be from 0 to 67.4796 with this alpha and beta') }]);
    expect(issues({ garch: { omega: 67.4796 } })).toEqual([]);
    expect(issues({ garch: { omega: 67.4797 } })[0]?.path).toBe('stress.garch.omega');
  });
});

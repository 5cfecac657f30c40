import fc from 'fast-check';
import { EMPTY_VOLATILITY_SURFACE, volatilityFor, withVolatility, type VolatilityQuote, type VolatilitySurface } from './volatility-surface';

const DAY = 86_400_000;
const MAR = 90 * DAY;
const JUN = 180 * DAY;

const build = (...quotes: VolatilityQuote[]): VolatilitySurface =>
  quotes.reduce(withVolatility, EMPTY_VOLATILITY_SURFACE);

// BTC: flat 0.60; March smile 0.70 @ 80k, 0.55 @ 100k, 0.65 @ 120k; June 0.50 @ 100k
const btc = build(
  { underlying: 'BTC', volatility: 0.6 },
  { underlying: 'BTC', volatility: 0.65, strike: 120_000, expiryMs: MAR },
  { underlying: 'BTC', volatility: 0.7, strike: 80_000, expiryMs: MAR },
  { underlying: 'BTC', volatility: 0.55, strike: 100_000, expiryMs: MAR },
  { underlying: 'BTC', volatility: 0.5, strike: 100_000, expiryMs: JUN },
);

describe('volatilityFor', () => {
  it('an unknown underlying has no vol', () => {
    expect(volatilityFor(btc, 'ETH', 3000, MAR)).toBeUndefined();
  });

  it('the exact (strike, expiry) point wins', () => {
    expect(volatilityFor(btc, 'BTC', 80_000, MAR)).toBe(0.7);
    expect(volatilityFor(btc, 'BTC', 100_000, JUN)).toBe(0.5);
  });

  it('between two strikes of the nearest expiry: linear in strike', () => {
    // 90k is halfway between 80k (0.70) and 100k (0.55): 0.625
    expect(volatilityFor(btc, 'BTC', 90_000, MAR)).toBeCloseTo(0.625, 15);
    // 115k is 3/4 of the way from 100k (0.55) to 120k (0.65): 0.625
    expect(volatilityFor(btc, 'BTC', 115_000, MAR)).toBeCloseTo(0.625, 15);
  });

  it('flat beyond the lowest and highest strikes', () => {
    expect(volatilityFor(btc, 'BTC', 10_000, MAR)).toBe(0.7);
    expect(volatilityFor(btc, 'BTC', 500_000, MAR)).toBe(0.65);
    expect(volatilityFor(btc, 'BTC', 10_000, JUN)).toBe(0.5);
  });

  it('uses the nearest expiry (a tie goes to the earlier), never interpolating between expiries', () => {
    expect(volatilityFor(btc, 'BTC', 80_000, MAR + 44 * DAY)).toBe(0.7); // closer to March
    expect(volatilityFor(btc, 'BTC', 80_000, MAR + 46 * DAY)).toBe(0.5); // closer to June
    expect(volatilityFor(btc, 'BTC', 80_000, MAR + 45 * DAY)).toBe(0.7); // halfway: March
    expect(volatilityFor(btc, 'BTC', 80_000, 0)).toBe(0.7); // before every expiry
    expect(volatilityFor(btc, 'BTC', 80_000, 10 * JUN)).toBe(0.5); // after every expiry
  });

  it('the flat vol when the underlying has no points', () => {
    const flat = build({ underlying: 'ETH', volatility: 0.8 });
    expect(volatilityFor(flat, 'ETH', 3000, MAR)).toBe(0.8);
  });

  it('points without a flat vol still answer', () => {
    const points = build({ underlying: 'ETH', volatility: 0.9, strike: 3000, expiryMs: MAR });
    expect(volatilityFor(points, 'ETH', 2500, JUN)).toBe(0.9);
  });

  it('stays within the quoted vols of the smile (interpolation never overshoots)', () => {
    fc.assert(
      fc.property(fc.double({ min: 1, max: 1e6, noNaN: true }), (strike) => {
        const v = volatilityFor(btc, 'BTC', strike, MAR)!;
        expect(v).toBeGreaterThanOrEqual(0.55);
        expect(v).toBeLessThanOrEqual(0.7);
      }),
    );
  });
});

describe('withVolatility', () => {
  it('the latest quote replaces the flat vol or the point, and keeps the rest', () => {
    const next = build(
      { underlying: 'BTC', volatility: 0.6 },
      { underlying: 'BTC', volatility: 0.7, strike: 80_000, expiryMs: MAR },
      { underlying: 'BTC', volatility: 0.4 },
      { underlying: 'BTC', volatility: 0.75, strike: 80_000, expiryMs: MAR },
      { underlying: 'ETH', volatility: 0.9 },
    );
    expect(next.get('BTC')).toEqual({ flat: 0.4, smiles: [{ expiryMs: MAR, points: [{ strike: 80_000, volatility: 0.75 }] }] });
    expect(next.get('ETH')).toEqual({ flat: 0.9, smiles: [] });
  });

  it('keeps smiles ascending by expiry and points ascending by strike, whatever the quote order', () => {
    const smiles = btc.get('BTC')!.smiles;
    expect(smiles.map((s) => s.expiryMs)).toEqual([MAR, JUN]);
    expect(smiles[0]!.points.map((p) => p.strike)).toEqual([80_000, 100_000, 120_000]);
  });

  it('never changes the surface it is given', () => {
    const before = build({ underlying: 'BTC', volatility: 0.6 });
    withVolatility(before, { underlying: 'BTC', volatility: 0.9 });
    withVolatility(before, { underlying: 'BTC', volatility: 0.9, strike: 1, expiryMs: MAR });
    expect(before.get('BTC')).toEqual({ flat: 0.6, smiles: [] });
    expect(EMPTY_VOLATILITY_SURFACE.size).toBe(0);
  });

  it.each<[string, VolatilityQuote]>([
    ['a negative vol', { underlying: 'BTC', volatility: -0.1 }],
    ['a NaN vol', { underlying: 'BTC', volatility: Number.NaN }],
    ['a strike without an expiry', { underlying: 'BTC', volatility: 0.5, strike: 100 }],
    ['an expiry without a strike', { underlying: 'BTC', volatility: 0.5, expiryMs: MAR }],
    ['a zero strike', { underlying: 'BTC', volatility: 0.5, strike: 0, expiryMs: MAR }],
    ['an infinite expiry', { underlying: 'BTC', volatility: 0.5, strike: 100, expiryMs: Number.POSITIVE_INFINITY }],
  ])('refuses %s', (_name, quote) => {
    expect(() => withVolatility(EMPTY_VOLATILITY_SURFACE, quote)).toThrow(RangeError);
  });
});

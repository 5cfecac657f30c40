import { SplitMix64, streamFor } from './prng';

describe('SplitMix64', () => {
  it('matches the reference sequence (Vigna, splitmix64.c)', () => {
    const fromZero = new SplitMix64(0n);
    expect([fromZero.next(), fromZero.next(), fromZero.next()]).toEqual([0xe220a8397b1dcdafn, 0x6e789e6aa1b965f4n, 0x06c45d188009454fn]);
    const from1234567 = new SplitMix64(1234567n);
    expect([from1234567.next(), from1234567.next(), from1234567.next()]).toEqual([6457827717110365317n, 3203168211198807973n, 9817491932198370423n]);
  });

  it('draws uniform integers inside the inclusive range, reaching both ends', () => {
    const rng = new SplitMix64(7n);
    const seen = new Set<bigint>();
    for (let i = 0; i < 2000; i++) {
      const x = rng.uniformBigInt(-3n, 3n);
      expect(x >= -3n && x <= 3n).toBe(true);
      seen.add(x);
    }
    expect([...seen].sort((a, b) => Number(a - b))).toEqual([-3n, -2n, -1n, 0n, 1n, 2n, 3n]);
  });

  it('handles ranges wider than 64 bits and single-value ranges', () => {
    const rng = new SplitMix64(9n);
    const hi = 10n ** 30n;
    for (let i = 0; i < 100; i++) {
      const x = rng.uniformBigInt(0n, hi);
      expect(x >= 0n && x <= hi).toBe(true);
    }
    expect(rng.uniformBigInt(5n, 5n)).toBe(5n);
    expect(() => rng.uniformBigInt(2n, 1n)).toThrow(RangeError);
  });

  it('derives independent, reproducible streams from a seed and a label', () => {
    const a = streamFor(42, 'noise/BTC-PERP');
    const b = streamFor(42, 'noise/BTC-PERP');
    const c = streamFor(42, 'noise/ETH-PERP');
    const d = streamFor(43, 'noise/BTC-PERP');
    const first = a.next();
    expect(b.next()).toBe(first);
    expect(c.next()).not.toBe(first);
    expect(d.next()).not.toBe(first);
  });
});

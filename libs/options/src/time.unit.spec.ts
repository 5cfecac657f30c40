import { MS_PER_YEAR, yearsToExpiry } from './time';

describe('yearsToExpiry', () => {
  const now = Date.UTC(2026, 0, 1);

  it('counts 365-day years of 86,400,000 ms', () => {
    expect(MS_PER_YEAR).toBe(31_536_000_000);
    expect(yearsToExpiry(now + MS_PER_YEAR, now)).toBe(1);
    expect(yearsToExpiry(now + 73 * 86_400_000, now)).toBe(0.2); // 73 / 365
    // 2028 is a leap year: 366 days are a little more than a year
    expect(yearsToExpiry(Date.UTC(2029, 0, 1), Date.UTC(2028, 0, 1))).toBeCloseTo(366 / 365, 15);
  });

  it('is 0 at and after the expiry', () => {
    expect(yearsToExpiry(now, now)).toBe(0);
    expect(yearsToExpiry(now - 1, now)).toBe(0);
  });

  it('refuses non-finite times', () => {
    expect(() => yearsToExpiry(Number.NaN, now)).toThrow(RangeError);
    expect(() => yearsToExpiry(now, Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

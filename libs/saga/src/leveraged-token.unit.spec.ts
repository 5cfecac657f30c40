import { desiredPosition, dailyRebalanceDue, outsideBand, timeOfDayMs, tokenLeverage } from './leveraged-token';

const ms = (iso: string) => Date.parse(iso);
const fixed = (n: string) => BigInt(Math.round(Number(n) * 1e8));

describe('leveraged token rule (pure)', () => {
  it('reads the daily instant as UTC time of day', () => {
    expect(timeOfDayMs('00:02')).toBe(120_000);
    expect(timeOfDayMs('23:59:30')).toBe(86_370_000);
  });

  it.each([
    // [clock before the input, the input's ts, due?]
    ['2020-03-12T00:01:59Z', '2020-03-12T00:02:00Z', true], // the instant itself is inside (after, ts]
    ['2020-03-12T00:02:00Z', '2020-03-12T00:03:00Z', false], // the clock already at the instant: it was this input's predecessor's
    ['2020-03-12T00:01:00Z', '2020-03-12T00:01:59Z', false],
    ['2020-03-12T12:00:00Z', '2020-03-13T00:05:00Z', true], // the next day's instant
    ['2020-03-10T12:00:00Z', '2020-03-13T00:01:00Z', true], // days with no input: due once, at the first input
  ])('after %s, an input at %s is due: %s', (after, upTo, due) => {
    expect(dailyRebalanceDue('00:02', ms(after), ms(upTo))).toBe(due);
  });

  it('the first input of a log (clock −∞) finds the instant due', () => {
    expect(dailyRebalanceDue('00:02', -Infinity, ms('2020-03-12T00:00:00Z'))).toBe(true);
  });

  it('FTX ETHBULL: DP = 3 × 11,500 / 210 = 164.28571428 (toward zero), leverage 31,500 / 11,500 = 2.73913043', () => {
    expect(desiredPosition(fixed('3'), fixed('11500'), fixed('210'), fixed('1'))).toBe(16_428_571_428n);
    expect(tokenLeverage(fixed('150'), fixed('210'), fixed('1'), fixed('11500'))).toBe(273_913_043n);
    // a short token: DP = −3 × 7,000 / 11,000 = −1.90909090… → −1.9090909 (toward zero, never past the target)
    expect(desiredPosition(fixed('-3'), fixed('7000'), fixed('11000'), fixed('1'))).toBe(-190_909_090n);
  });

  it('the band is tested by cross-multiplying: exactly 4× is inside, one unit more is outside', () => {
    const band = { min: fixed('2'), max: fixed('4') };
    // 4 × 2,500 = 10,000 = 1 × 10,000
    expect(outsideBand(band, fixed('1'), fixed('10000'), fixed('1'), fixed('2500'))).toBe(false);
    expect(outsideBand(band, fixed('1'), fixed('10000'), fixed('1'), fixed('2500') - 1n)).toBe(true);
    // exactly 2× is inside; below it outside (a short position's |·| is what counts)
    expect(outsideBand(band, fixed('-1'), fixed('10000'), fixed('1'), fixed('5000'))).toBe(false);
    expect(outsideBand(band, fixed('-1'), fixed('10000'), fixed('1'), fixed('5000') + 1n)).toBe(true);
  });
});

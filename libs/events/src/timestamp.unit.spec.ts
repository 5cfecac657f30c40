import fc from 'fast-check';
import { decodeLine, InputError } from './codec';
import { fastTimestamp } from './fast-codec';
import { parseTimestamp, timestampProblem } from './timestamp';

describe('timestamps: a timestamp must mean the instant it spells', () => {
  // Date.parse is lenient: each of these was accepted and moved (2026-02-30 → 2026-03-02, T24:00 → the next day)
  it.each([
    ['2026-02-30T00:00:00Z', 'is not a calendar date (2026-02 has 28 days)'],
    ['2025-02-29T00:00:00Z', 'is not a calendar date (2025-02 has 28 days)'],
    ['2100-02-29T00:00:00Z', 'is not a calendar date (2100-02 has 28 days)'], // divisible by 100, not by 400
    ['2026-04-31T00:00:00Z', 'is not a calendar date (2026-04 has 30 days)'],
    ['2026-01-00T00:00:00Z', 'is not a calendar date (2026-01 has 31 days)'],
    ['2026-13-01T00:00:00Z', 'has no month 13 (01–12)'],
    ['2026-00-01T00:00:00Z', 'has no month 00 (01–12)'],
    ['2026-01-01T24:00:00Z', 'has no hour 24 (00–23)'],
    ['2026-01-01T23:60:00Z', 'has no minute 60 (00–59)'],
    ['2016-12-31T23:59:60Z', 'has no second 60 (00–59; leap seconds are not represented)'],
    ['2026-01-01T00:00:00.0001Z', 'is finer than a millisecond'],
    ['2026-01-01 00:00:00Z', 'is not an ISO-8601 UTC timestamp (e.g. 2026-01-01T00:00:00Z)'],
    ['2026-01-01T00:00:00+01:00', 'is not an ISO-8601 UTC timestamp (e.g. 2026-01-01T00:00:00Z)'],
  ])('refuses %s: %s', (text, problem) => {
    expect(timestampProblem(text)).toBe(problem);
    expect(parseTimestamp(text)).toBeUndefined();
    expect(fastTimestamp(text)).toBeUndefined();
  });

  it.each([
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2000-02-29T23:59:59.999Z', Date.UTC(2000, 1, 29, 23, 59, 59, 999)], // divisible by 400: a leap year
    ['2026-01-01T00:00Z', Date.UTC(2026, 0, 1)],
    ['2026-01-01T00:00:00.123000Z', Date.UTC(2026, 0, 1, 0, 0, 0, 123)], // zeros below the millisecond say nothing more
    ['2026-01-01T00:00:00+00:00', Date.UTC(2026, 0, 1)],
  ])('accepts %s', (text, ms) => {
    expect(parseTimestamp(text)).toBe(ms);
  });

  it('every accepted timestamp formats back to the same fields (a round trip through the instant)', () => {
    const two = (min: number, max: number) => fc.integer({ min, max }).map((v) => String(v).padStart(2, '0'));
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 2999 }), two(0, 13), two(0, 32), two(0, 24), two(0, 60), two(0, 61), fc.constantFrom('', '.000', '.5', '.123', '.999'), (year, month, day, hour, minute, second, fraction) => {
        const text = `${year}-${month}-${day}T${hour}:${minute}:${second}${fraction}Z`;
        const ms = parseTimestamp(text);
        const fast = fastTimestamp(text);
        // the fast decoder's verdict on its own form is the schema's, both ways
        if (fraction === '' || fraction.length === 4) expect(fast).toBe(ms);
        if (ms === undefined) return;
        const iso = new Date(ms).toISOString();
        expect(iso.slice(0, 19)).toBe(text.slice(0, 19));
      }),
      { numRuns: 5000, seed: 10 },
    );
  });

  it('a JSONL line with an impossible date is refused naming ts, fast path or not', () => {
    const line = (ts: string) => `{"type":"PriceUpdated","ts":"${ts}","instrument":"BTC-PERP","price":"100"}`;
    expect(() => decodeLine(line('2026-02-30T00:00:00Z'), 'input', 'day.jsonl', 3)).toThrow('day.jsonl:line 3: field "ts": "2026-02-30T00:00:00Z" is not a calendar date (2026-02 has 28 days)');
    expect(() => decodeLine(line('2026-01-01T24:00:00Z'), 'input')).toThrow(InputError);
    expect(() => decodeLine(line('2026-01-01T24:00:00Z'), 'input')).toThrow('field "ts": "2026-01-01T24:00:00Z" has no hour 24 (00–23)');
  });

  it('quotes at most 40 characters of a refused timestamp', () => {
    const junk = '2'.repeat(100_000);
    expect(() => decodeLine(`{"type":"ClockAdvanced","ts":"${junk}"}`, 'input')).toThrow(/field "ts": "2{32}"… \(100000 characters\) is not an ISO-8601 UTC timestamp/);
  });
});

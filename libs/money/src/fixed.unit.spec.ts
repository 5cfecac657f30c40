import fc from 'fast-check';
import { DecimalFormatError, divRound, formatFixed, formatFixedPlaces, MAX_DECIMAL_LENGTH, mul, mul3, parseFixed, SCALE } from './fixed';

describe('parseFixed / formatFixed', () => {
  it.each([
    ['1000', 1000n * SCALE, '1000'],
    ['0.5', 50_000_000n, '0.5'],
    ['-12.34000', -1_234_000_000n, '-12.34'],
    ['1e-8', 1n, '0.00000001'],
    ['.25', 25_000_000n, '0.25'],
    ['1.500000000000', 150_000_000n, '1.5'],
    ['-0', 0n, '0'],
  ])('parses %s', (text, units, canonical) => {
    expect(parseFixed(text)).toBe(units);
    expect(formatFixed(parseFixed(text))).toBe(canonical);
  });

  it('accepts JSON numbers', () => {
    expect(parseFixed(10000)).toBe(10000n * SCALE);
    expect(parseFixed(0.1)).toBe(10_000_000n);
  });

  it.each([['abc'], ['1.2.3'], [''], ['1e'], ['0.000000001'], ['NaN'], ['Infinity']])('refuses %s', (text) => {
    expect(() => parseFixed(text)).toThrow();
  });

  it('refuses NaN and infinities given as numbers', () => {
    expect(() => parseFixed(Number.NaN)).toThrow(/finite/);
    expect(() => parseFixed(Number.POSITIVE_INFINITY)).toThrow(/finite/);
  });

  describe('bounds: refused from the text, before a digit string or bigint of the exponent is built', () => {
    // each of these once built a bigint of up to 10^9 digits (seconds of CPU, a GB of memory) or threw a RangeError
    it.each([
      ['1e30000000', /exponent beyond ±30/],
      ['1e999999999', /exponent beyond ±30/],
      ['635280.9688E246055307', /exponent beyond ±30/],
      ['1e-999999999', /exponent beyond ±30/],
      ['1e400', /exponent beyond ±30/],
      ['1e31', /exponent beyond ±30/],
      // 10^30 has 31 integer digits; 1e30 is spelled with an allowed exponent but is out of range
      ['1e30', /at most 30 digits before the point/],
      ['1' + '0'.repeat(30), /at most 30 digits before the point/],
      ['0.1e31', /exponent beyond ±30/],
      ['-' + '9'.repeat(31), /at most 30 digits before the point/],
      ['1'.repeat(65), /longer than 64 characters/],
    ])('refuses %s', (text, reason) => {
      expect(() => parseFixed(text)).toThrow(DecimalFormatError);
      expect(() => parseFixed(text)).toThrow(reason);
    });

    it.each([
      // the largest value: 30 nines before the point, 8 after
      ['9'.repeat(30) + '.99999999', 10n ** 38n - 1n],
      ['-' + '9'.repeat(30), -(10n ** 30n - 1n) * SCALE],
      // leading zeros are not digits of the value: 40 characters, 1 integer digit
      ['0'.repeat(39) + '1', SCALE],
      // 0.1 × 10^30 = 10^29: 30 integer digits once the exponent is applied
      ['0.1e30', 10n ** 29n * SCALE],
      ['1e-8', 1n],
      ['123.45e-2', 123_450_000n], // 1.2345 → 123,450,000 units
      // trailing zeros beyond the 8 decimals are dropped, up to the 64-character bound
      ['1.' + '0'.repeat(MAX_DECIMAL_LENGTH - 2), SCALE],
    ])('accepts %s at the edge of the bounds', (text, units) => {
      expect(parseFixed(text)).toBe(units);
    });

    it("a computed amount (a decision's, read back from the log) may hold up to 160 integer digits; an input 30", () => {
      // qty 10^15 × price 10^16 = a notional of 10^31: 32 digits, beyond an input's bound, within a computed one's
      const notional = '1' + '0'.repeat(31);
      expect(() => parseFixed(notional)).toThrow(/at most 30 digits before the point/);
      expect(parseFixed(notional, 'computed')).toBe(10n ** 31n * SCALE);
      // the largest computed value: 160 nines and 8 decimals (169 characters, beyond an input's 64)
      expect(parseFixed('9'.repeat(160) + '.99999999', 'computed')).toBe(10n ** 168n - 1n);
      expect(() => parseFixed('1' + '0'.repeat(160), 'computed')).toThrow(/at most 160 digits before the point/);
      expect(() => parseFixed('1'.repeat(195), 'computed')).toThrow(/longer than 194 characters/);
      // the other bounds are the same
      expect(() => parseFixed('1e31', 'computed')).toThrow(/exponent beyond ±30/);
      expect(() => parseFixed('0.000000001', 'computed')).toThrow(/more than 8 decimal places/);
    });

    it('numbers beyond the bounds are refused too (their text has an exponent)', () => {
      expect(() => parseFixed(1e31)).toThrow(/exponent beyond ±30/); // String(1e31) = "1e+31"
      expect(() => parseFixed(1e30)).toThrow(/at most 30 digits/); // String(1e30) = "1e+30": 31 integer digits
      expect(parseFixed(1e21)).toBe(10n ** 29n); // "1e+21" = 10^21 × 10^8 units
    });

    it('escapes control characters of a refused input (written to a terminal, an ESC would act on it)', () => {
      expect(() => parseFixed('x\u001b[2J')).toThrow('"x\\u001b[2J" is not a decimal number');
    });

    it('quotes at most 40 characters of a refused input', () => {
      const huge = 'x'.repeat(1_000_000);
      let message = '';
      try {
        parseFixed(huge);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/^"x{32}…" \(1000000 characters\) is longer than 64 characters/);
      expect(message.length).toBeLessThan(200);
    });

    it('any string: a value within the bounds or a DecimalFormatError, never another error', () => {
      const decimalish = fc.stringMatching(/^[+-]?\d{0,40}(\.\d{0,40})?([eE][+-]?\d{1,12})?$/);
      fc.assert(
        fc.property(fc.oneof(decimalish, fc.string({ maxLength: 80 })), (text) => {
          try {
            const units = parseFixed(text);
            const abs = units < 0n ? -units : units;
            return abs < 10n ** 38n;
          } catch (error) {
            return error instanceof DecimalFormatError;
          }
        }),
        { numRuns: 3000, seed: 10 },
      );
    });
  });

  // the reference formatter: bigint division only (formatFixed takes a float64 path below 2^53 units)
  const formatByBigint = (value: bigint): string => {
    const abs = value < 0n ? -value : value;
    const frac = abs % SCALE;
    const text = (abs / SCALE).toString() + (frac === 0n ? '' : '.' + frac.toString().padStart(8, '0').replace(/0+$/, ''));
    return value < 0n ? '-' + text : text;
  };

  it.each([
    [2n ** 53n - 1n, '90071992.54740991'], // the largest exact float64: 9007199254740991 units
    [2n ** 53n, '90071992.54740992'], // one more: formatted by bigint division
    [-(2n ** 53n - 1n), '-90071992.54740991'],
    [1n, '0.00000001'],
    [-100_000_000n, '-1'],
    [123_400_000n, '1.234'], // 1.234 × 10^8 units: two trailing zeros stripped, then 4 places → "1.234"
  ])('formats %s units as %s on both sides of 2^53', (units, text) => {
    expect(formatFixed(units)).toBe(text);
    expect(formatByBigint(units)).toBe(text);
  });

  it('formats like bigint division for any value, near 2^53 included', () => {
    const nearLimit = fc.bigInt({ min: 2n ** 53n - 10n ** 9n, max: 2n ** 53n + 10n ** 9n });
    const anyValue = fc.oneof(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), nearLimit, nearLimit.map((v) => -v));
    fc.assert(fc.property(anyValue, (units) => formatFixed(units) === formatByBigint(units)), { numRuns: 2000 });
  });

  it('round-trips any ledger value', () => {
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), (units) => parseFixed(formatFixed(units)) === units));
  });

  it('formats with fixed places for display', () => {
    expect(formatFixedPlaces(parseFixed('1.005'), 2)).toBe('1.00'); // half-even: 100.5 cents → 100
    expect(formatFixedPlaces(parseFixed('1.015'), 2)).toBe('1.02');
    expect(formatFixedPlaces(parseFixed('-3'), 2)).toBe('-3.00');
  });
});

describe('rounding', () => {
  it.each([
    [7n, 2n, 'floor', 3n],
    [7n, 2n, 'ceil', 4n],
    [7n, 2n, 'halfEven', 4n], // 3.5 → 4 (even)
    [5n, 2n, 'halfEven', 2n], // 2.5 → 2 (even)
    [-7n, 2n, 'floor', -4n],
    [-7n, 2n, 'ceil', -3n],
    [-5n, 2n, 'halfEven', -2n],
    [-7n, 3n, 'halfEven', -2n], // -2.33 → -2
    [7n, -2n, 'floor', -4n],
  ] as const)('%d / %d %s = %d', (n, d, mode, expected) => {
    expect(divRound(n, d, mode)).toBe(expected);
  });

  it('mul: 0.00000003 × 0.5 = 0.000000015 → floor 1, ceil 2 units', () => {
    expect(mul(3n, 50_000_000n, 'floor')).toBe(1n);
    expect(mul(3n, 50_000_000n, 'ceil')).toBe(2n);
    expect(mul(3n, 50_000_000n, 'halfEven')).toBe(2n);
  });

  it('mul3 with a multiplier of 1 rounds exactly like the general a·b·c / 10^16', () => {
    // 1.5 × 0.00000001 × 1 = 0.000000015: floor 1 unit, ceil 2, half-even 2 (1.5 → even 2)
    expect(mul3(150_000_000n, 1n, SCALE, 'floor')).toBe(1n);
    expect(mul3(150_000_000n, 1n, SCALE, 'ceil')).toBe(2n);
    expect(mul3(150_000_000n, 1n, SCALE, 'halfEven')).toBe(2n);
    const amount = fc.bigInt({ min: -(10n ** 14n), max: 10n ** 14n });
    const rounding = fc.constantFrom('floor' as const, 'ceil' as const, 'halfEven' as const);
    fc.assert(fc.property(amount, amount, rounding, (a, b, r) => mul3(a, b, SCALE, r) === divRound(a * b * SCALE, SCALE * SCALE, r)));
  });

  it('mul3 gives the general formula in any sequence of calls, repeated and negated operands included (it reuses the last division)', () => {
    // −1.5 × 0.00000001 × 1 = −0.000000015 right after +1.5 × …: floor −2 units, ceil −1, half-even −2
    expect(mul3(150_000_000n, 1n, SCALE, 'ceil')).toBe(2n);
    expect(mul3(-150_000_000n, 1n, SCALE, 'floor')).toBe(-2n);
    expect(mul3(-150_000_000n, 1n, SCALE, 'ceil')).toBe(-1n);
    expect(mul3(-150_000_000n, 1n, SCALE, 'halfEven')).toBe(-2n);
    const small = fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n });
    const rounding = fc.constantFrom('floor' as const, 'ceil' as const, 'halfEven' as const);
    const call = fc.record({ a: small, b: small, c: fc.oneof(fc.constant(SCALE), small), r: rounding, repeat: fc.constantFrom('new', 'same', 'negated', 'other-c') });
    fc.assert(
      fc.property(fc.array(call, { minLength: 1, maxLength: 12 }), (calls) => {
        let previous = calls[0]!;
        for (const next of calls) {
          const { a, b, c } = next.repeat === 'same' ? previous : next.repeat === 'negated' ? { ...previous, a: -previous.a } : next.repeat === 'other-c' ? { ...previous, c: next.c } : next;
          expect(mul3(a, b, c, next.r)).toBe(divRound(a * b * c, SCALE * SCALE, next.r));
          previous = { ...next, a, b, c };
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('mul3: 2 BTC × 10000 × multiplier 0.001 = 20', () => {
    expect(mul3(parseFixed('2'), parseFixed('10000'), parseFixed('0.001'), 'halfEven')).toBe(parseFixed('20'));
  });

  it('floor ≤ exact ≤ ceil, and they differ by at most one unit', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.bigInt({ min: 1n, max: 10n ** 12n }), (n, d) => {
        const f = divRound(n, d, 'floor');
        const c = divRound(n, d, 'ceil');
        const h = divRound(n, d, 'halfEven');
        return f * d <= n && n <= c * d && c - f <= 1n && (h === f || h === c);
      }),
    );
  });
});

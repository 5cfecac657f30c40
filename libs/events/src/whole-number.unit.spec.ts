import fc from 'fast-check';
import { wholeNumberOf } from './whole-number';

const MAX = Number.MAX_SAFE_INTEGER;

describe('wholeNumberOf: plain decimal digits within [min, max]', () => {
  it.each<[string, number, number, ReturnType<typeof wholeNumberOf>]>([
    ['10', 1, 100, { ok: true, value: 10 }],
    // leading zeros are decimal digits too: 10, not octal 8
    ['010', 1, 100, { ok: true, value: 10 }],
    ['0', 0, 5, { ok: true, value: 0 }],
    ['100', 1, 100, { ok: true, value: 100 }],
    [String(MAX), 1, MAX, { ok: true, value: MAX }],
    // what Number() also reads as a number: not digits
    ['0x10', 1, 100, { ok: false, reason: 'not-digits' }],
    ['1e2', 1, 1000, { ok: false, reason: 'not-digits' }],
    [' 10', 1, 100, { ok: false, reason: 'not-digits' }],
    ['10 ', 1, 100, { ok: false, reason: 'not-digits' }],
    ['+10', 1, 100, { ok: false, reason: 'not-digits' }],
    ['-1', 0, 100, { ok: false, reason: 'not-digits' }],
    ['10.0', 1, 100, { ok: false, reason: 'not-digits' }],
    ['0b11', 1, 100, { ok: false, reason: 'not-digits' }],
    ['0o7', 1, 100, { ok: false, reason: 'not-digits' }],
    ['Infinity', 1, MAX, { ok: false, reason: 'not-digits' }],
    ['１', 1, 100, { ok: false, reason: 'not-digits' }],
    ['', 0, 100, { ok: false, reason: 'not-digits' }],
    // digits out of the bounds
    ['0', 1, 100, { ok: false, reason: 'below-min' }],
    ['101', 1, 100, { ok: false, reason: 'above-max' }],
    // above MAX_SAFE_INTEGER: 2^53 and 2^53 + 1 (which Number() rounds to 2^53), and 400 nines (Infinity)
    ['9007199254740992', 1, MAX, { ok: false, reason: 'above-max' }],
    ['9007199254740993', 1, MAX, { ok: false, reason: 'above-max' }],
    ['9'.repeat(400), 1, MAX, { ok: false, reason: 'above-max' }],
  ])('%j in [%d, %d]', (text, min, max, expected) => {
    expect(wholeNumberOf(text, min, max)).toEqual(expected);
  });

  it('takes the digits of every whole number in the bounds, as the number they spell, with or without leading zeros', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.nat(3), (n, zeros) => {
        expect(wholeNumberOf('0'.repeat(zeros) + String(n), 0, MAX)).toEqual({ ok: true, value: n });
      }),
    );
  });

  it('refuses any text with a character other than 0-9', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), fc.string({ minLength: 1, maxLength: 3 }).filter((s) => /[^0-9]/.test(s)), fc.string({ maxLength: 8 }), (before, other, after) => {
        expect(wholeNumberOf(before + other + after, 0, MAX)).toEqual({ ok: false, reason: 'not-digits' });
      }),
    );
  });

  it('refuses bounds that are not 0 ≤ min ≤ max ≤ MAX_SAFE_INTEGER (a caller\'s mistake, not the text\'s)', () => {
    expect(() => wholeNumberOf('1', 2, 1)).toThrow(RangeError);
    expect(() => wholeNumberOf('1', -1, 1)).toThrow(RangeError);
    expect(() => wholeNumberOf('1', 0, MAX + 1)).toThrow(RangeError);
    expect(() => wholeNumberOf('1', 0.5, 1)).toThrow(RangeError);
  });
});

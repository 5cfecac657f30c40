// A whole number as the edges take one from text, in a module with no schema: the CLI's flags
// (apps/cli/src/io/whole-number-option.ts), the server's environment (apps/server/src/config/server.config.ts) and
// its query parameters (WholeNumberQuery, apps/server/src/common/validation.ts) each word the reason their own way.

/** Why a text is not a whole number of [min, max]: not plain decimal digits, or below `min`, or above `max`. */
export type WholeNumberReason = 'not-digits' | 'below-min' | 'above-max';

export type WholeNumber = { ok: true; value: number } | { ok: false; reason: WholeNumberReason };

/**
 * The whole number `text` spells in plain decimal digits, if it is one from `min` to `max` (0 ≤ min ≤ max ≤
 * Number.MAX_SAFE_INTEGER). Only the ASCII digits 0–9, at least one: leading zeros are decimal ("010" is 10, never
 * octal), and none of what Number() also takes is — a sign ("+10", "-1"), a space (" 10"), a point ("10.0"), an
 * exponent ("1e2"), a prefix ("0x10", "0b11", "0o7"), "Infinity", fullwidth digits ("１"), the empty text (Number
 * reads as 0). Digits beyond MAX_SAFE_INTEGER are above `max` however many there are: Number() of them is at least
 * 2^53 (or Infinity), never a rounded value within the bounds.
 */
export function wholeNumberOf(text: string, min: number, max: number): WholeNumber {
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 0 || min > max) throw new RangeError(`wholeNumberOf: bounds [${min}, ${max}] are not whole numbers with 0 ≤ min ≤ max ≤ 2^53 − 1`);
  if (text.length === 0) return { ok: false, reason: 'not-digits' };
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 /* 0 */ || code > 57 /* 9 */) return { ok: false, reason: 'not-digits' };
  }
  const value = Number(text);
  if (value < min) return { ok: false, reason: 'below-min' };
  if (value > max) return { ok: false, reason: 'above-max' };
  return { ok: true, value };
}

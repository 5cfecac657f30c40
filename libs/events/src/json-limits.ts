import type { FieldIssue } from './codec';

/**
 * Bounds on raw JSON text, checked on the text before (or instead of)
 * parsing it, in one pass of O(length) with no allocation unless a problem
 * is found:
 *
 * - nesting: at most `MAX_JSON_DEPTH` levels of objects and arrays. An event
 *   is two levels deep, a rules object about six; deeper text is refused
 *   before a recursive step (validation, canonical encoding) could run out of
 *   stack on it.
 * - numbers: a JSON number must mean exactly the decimal it spells once
 *   JSON.parse has made it a float64. At most `MAX_EXACT_DIGITS` (15)
 *   significant digits — every such decimal is its float64's shortest text,
 *   so String(JSON.parse(t)) gives the same value back — and an exponent of
 *   at most ±300 (beyond it a float64 underflows to 0 or overflows to
 *   Infinity). `12345678901234567890` would otherwise be read as
 *   12345678901234567000; such a value must be sent as a decimal string.
 */
export const MAX_JSON_DEPTH = 32;
export const MAX_EXACT_DIGITS = 15;
const MAX_NUMBER_EXPONENT = 300;

/** The first bound `text` breaks (the field names where), or undefined. Text that is not JSON passes: JSON.parse refuses it. */
export function jsonTextProblem(text: string, maxDepth = MAX_JSON_DEPTH): FieldIssue | undefined {
  const n = text.length;
  let depth = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i = stringEnd(text, i);
      continue;
    }
    if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > maxDepth) return { field: pathAt(text, i), message: `nested deeper than ${maxDepth} levels` };
      continue;
    }
    if (c === 125 /* } */ || c === 93 /* ] */) {
      depth--;
      continue;
    }
    if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      const end = numberEnd(text, i);
      if (!isExactNumber(text, i, end)) {
        const token = text.slice(i, Math.min(end, i + 40));
        return { field: pathAt(text, i), message: `the JSON number ${token}${end - i > 40 ? '…' : ''} cannot be represented exactly: send it as a decimal string ("${token}")` };
      }
      i = end - 1;
    }
  }
  return undefined;
}

/**
 * The index of the closing quote of the string opening at `from` (or the end of the text). Strings are most
 * of an event's text: indexOf skips them natively, and only a quote after a backslash is looked at twice.
 */
function stringEnd(text: string, from: number): number {
  let quote = text.indexOf('"', from + 1);
  while (quote > 0 && text.charCodeAt(quote - 1) === 92 /* \ */) {
    // escaped if an odd number of backslashes precede it
    let backslashes = 1;
    while (text.charCodeAt(quote - 1 - backslashes) === 92) backslashes++;
    if (backslashes % 2 === 0) break;
    quote = text.indexOf('"', quote + 1);
  }
  return quote < 0 ? text.length : quote;
}

const isNumberChar = (c: number): boolean => (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 || c === 101 || c === 69;

function numberEnd(text: string, from: number): number {
  let i = from;
  while (i < text.length && isNumberChar(text.charCodeAt(i))) i++;
  return i;
}

/** At most 15 significant digits in the mantissa and an exponent within ±300. */
function isExactNumber(text: string, from: number, end: number): boolean {
  let first = -1;
  let last = -1;
  let count = 0; // digits from the first non-zero one, the point not counted
  let significant = 0; // the same, up to the last non-zero one
  let i = from;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 101 || c === 69) break;
    if (c < 48 || c > 57) continue;
    if (first < 0 && c === 48) continue;
    if (first < 0) first = i;
    count++;
    if (c !== 48) {
      last = i;
      significant = count;
    }
  }
  if (last < 0) return true; // zero, whatever its exponent
  if (significant > MAX_EXACT_DIGITS) return false;
  if (i === end) return true;
  // the exponent: its digits past the leading zeros, compared without building a number of unbounded size
  let exponent = 0;
  for (i++; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) continue;
    exponent = exponent * 10 + (c - 48);
    if (exponent > MAX_NUMBER_EXPONENT) return false;
  }
  return true;
}

/**
 * The field at `index` of `text`, as the 400s name fields: object keys joined
 * with ".", array items as `[i]` (`[2].rules.instruments.BTC-PERP.tiers[0]`).
 * Only run once a problem is found.
 */
export function pathAt(text: string, index: number): string {
  const frames: { array: boolean; item: number; key: string }[] = [];
  let expectKey = false;
  for (let i = 0; i < index && i < text.length; i++) {
    const c = text.charCodeAt(i);
    const top = frames[frames.length - 1];
    if (c === 34) {
      const end = stringEnd(text, i);
      if (expectKey && top) {
        top.key = unquote(text.slice(i, end + 1));
        expectKey = false;
      }
      i = end;
    } else if (c === 123 || c === 91) {
      frames.push({ array: c === 91, item: 0, key: '' });
      expectKey = c === 123;
    } else if (c === 125 || c === 93) {
      frames.pop();
    } else if (c === 44 /* , */ && top) {
      if (top.array) top.item++;
      else expectKey = true;
    }
  }
  // the container opening at `index` is not part of the path: its parent's key or item is
  let path = '';
  for (const frame of frames) {
    if (frame.array) path += `[${frame.item}]`;
    else if (frame.key !== '') path += (path === '' ? '' : '.') + frame.key;
  }
  return path;
}

function unquote(literal: string): string {
  try {
    return String(JSON.parse(literal));
  } catch {
    return literal.slice(1, -1);
  }
}

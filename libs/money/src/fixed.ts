/**
 * Exact fixed-point decimals for the ledger.
 *
 * Every decimal in clearsim — cash, quantity, price, multiplier, rate — is a
 * `bigint` counting units of 10^-8 (the *ledger scale*, `SCALE`). `1.5` is
 * `150000000n`. Products and quotients are computed exactly on bigints and then
 * rounded back to the ledger scale with an explicit rounding mode:
 *
 * - `floor` / `ceil` are used *against the account*: a requirement
 *   (margin, fee, funding owed) rounds up, a value the account holds (equity,
 *   funding received) rounds down.
 * - `halfEven` is used where one amount moves between two parties (a trade's
 *   notional): both sides see the same number, so the rounding cannot create
 *   or destroy money.
 */
export type Fixed = bigint;
export type Rounding = 'floor' | 'ceil' | 'halfEven';

export const DECIMALS = 8;
export const SCALE = 100_000_000n;
export const ZERO = 0n;
export const ONE = SCALE;

const DECIMAL_RE = /^([+-])?(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$|^([+-])?\.(\d+)(?:[eE]([+-]?\d+))?$/;

/**
 * Bounds of a decimal input, checked on the text before any digit string or
 * bigint is built, so a refusal costs O(length) however large the number it
 * spells ("1e999999999" is refused as fast as "x"):
 * - at most `MAX_DECIMAL_LENGTH` characters (the longest sane decimal — 30
 *   integer digits, a point, 8 decimals, sign and exponent — is under 48);
 * - an exponent of at most ±`MAX_EXPONENT` as written;
 * - at most `MAX_INTEGER_DIGITS` digits before the decimal point once the
 *   exponent is applied and leading zeros dropped, i.e. |value| < 10^30
 *   (10^30 ledger units of anything is far beyond any notional: the largest
 *   token supplies are ~10^18 units, world GDP ~10^14 USD; the fast decoder's
 *   plain-decimal form allows the same 30 digits);
 * - at most `DECIMALS` (8) decimals once trailing zeros are dropped.
 */
export const MAX_DECIMAL_LENGTH = 64;
export const MAX_EXPONENT = 30;
export const MAX_INTEGER_DIGITS = 30;

/**
 * The bound of a decimal the engine computed (a decision's amount, read back
 * from the log): inputs of up to 30 integer digits multiply into more — a
 * notional is qty × price × multiplier (90 digits at most), a funding
 * payment that times a rate (120) — and add up over a log into a few more,
 * so a decision may legitimately hold more than an input may. The log's
 * reader must read whatever the engine wrote: 160 digits, with the text's
 * length bound to match.
 */
export const MAX_COMPUTED_INTEGER_DIGITS = 160;
const MAX_COMPUTED_LENGTH = MAX_COMPUTED_INTEGER_DIGITS + MAX_DECIMAL_LENGTH - MAX_INTEGER_DIGITS;

/** The bounds parseFixed checks: an input's (the default) or a computed amount's. */
export type DecimalBounds = 'input' | 'computed';

export class DecimalFormatError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** The input as quoted in an error message: at most 40 characters of it (a refused 16 MB string is not echoed back). */
function quoted(text: string): string {
  // JSON-escaped: a control character in a refused decimal is not written raw to the user's terminal
  return text.length <= 40 ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, 32) + '…')} (${text.length} characters)`;
}

/**
 * Parses a decimal string (or a JSON number) into ledger units. Refuses NaN,
 * infinities, anything finer than the ledger scale (silently rounding an
 * input would break exactness) and anything beyond the bounds above.
 */
export function parseFixed(input: string | number, bounds: DecimalBounds = 'input'): Fixed {
  const maxLength = bounds === 'input' ? MAX_DECIMAL_LENGTH : MAX_COMPUTED_LENGTH;
  const maxIntegerDigits = bounds === 'input' ? MAX_INTEGER_DIGITS : MAX_COMPUTED_INTEGER_DIGITS;
  let text: string;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new DecimalFormatError(`${input} is not a finite decimal`);
    text = String(input);
  } else if (typeof input === 'string') {
    // the bound applies to the text as given: trimming a 16 MB string of spaces would cost more than refusing it
    if (input.length > maxLength) {
      throw new DecimalFormatError(`${quoted(input)} is longer than ${maxLength} characters (a decimal has at most ${maxIntegerDigits} digits before the point and ${DECIMALS} after)`);
    }
    text = input.trim();
  } else {
    throw new DecimalFormatError('expected a decimal string or number');
  }
  const m = DECIMAL_RE.exec(text);
  if (!m) throw new DecimalFormatError(`${quoted(text)} is not a decimal number`);
  const sign = m[1] ?? m[5] ?? '+';
  const intPart = m[2] ?? '0';
  const fracPart = m[3] ?? m[6] ?? '';
  // the text is at most 64 characters, so the exponent's digits are too: Number() of them is cheap and exact enough to compare
  const exp = Number(m[4] ?? m[7] ?? '0');
  if (exp > MAX_EXPONENT || exp < -MAX_EXPONENT) {
    throw new DecimalFormatError(`${quoted(text)} has an exponent beyond ±${MAX_EXPONENT}`);
  }
  let digits = intPart + fracPart;
  let pointFromRight = fracPart.length - exp; // number of digits after the decimal point
  let leadingZeros = 0;
  while (leadingZeros < digits.length && digits.charCodeAt(leadingZeros) === 48) leadingZeros++;
  if (digits.length - leadingZeros - pointFromRight > maxIntegerDigits) {
    throw new DecimalFormatError(`${quoted(text)} is out of range: a decimal has at most ${maxIntegerDigits} digits before the point`);
  }
  if (pointFromRight < 0) {
    digits += '0'.repeat(-pointFromRight);
    pointFromRight = 0;
  }
  // strip trailing zeros beyond the scale so "1.500000000" still parses
  while (pointFromRight > DECIMALS && digits.endsWith('0')) {
    digits = digits.slice(0, -1);
    pointFromRight--;
  }
  if (pointFromRight > DECIMALS) {
    throw new DecimalFormatError(`${quoted(text)} has more than ${DECIMALS} decimal places`);
  }
  const units = BigInt(digits) * 10n ** BigInt(DECIMALS - pointFromRight);
  return sign === '-' ? -units : units;
}

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/** Canonical text: no exponent, no trailing zeros, no "-0". Used for hashing. */
export function formatFixed(value: Fixed): string {
  // most amounts fit a float64 exactly (|units| < 2^53): format them without bigint division
  if (value <= MAX_EXACT && value >= -MAX_EXACT) return formatExactNumber(Number(value));
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const int = abs / SCALE;
  const frac = abs % SCALE;
  let text = int.toString();
  if (frac !== 0n) {
    text += '.' + frac.toString().padStart(DECIMALS, '0').replace(/0+$/, '');
  }
  return negative ? '-' + text : text;
}

/** formatFixed of ledger units held exactly in a float64: % and the division of a multiple of 10^8 are exact there. */
function formatExactNumber(units: number): string {
  const abs = units < 0 ? -units : units;
  let frac = abs % 1e8;
  const text = String((abs - frac) / 1e8);
  const sign = units < 0 ? '-' : '';
  if (frac === 0) return sign + text;
  let places = DECIMALS;
  while (frac % 10 === 0) {
    frac /= 10;
    places--;
  }
  return sign + text + '.' + String(frac).padStart(places, '0');
}

/** Formats with exactly `places` decimals (display only), rounding half-even. */
export function formatFixedPlaces(value: Fixed, places: number): string {
  const step = 10n ** BigInt(DECIMALS - places);
  const rounded = divRound(value, step, 'halfEven');
  const negative = rounded < 0n;
  const abs = negative ? -rounded : rounded;
  const unit = 10n ** BigInt(places);
  const int = (abs / unit).toString();
  const frac = places > 0 ? '.' + (abs % unit).toString().padStart(places, '0') : '';
  return (negative ? '-' : '') + int + frac;
}

/** Integer division of bigints with an explicit rounding mode. */
export function divRound(numerator: bigint, denominator: bigint, rounding: Rounding): bigint {
  if (denominator === 0n) throw new RangeError('division by zero');
  if (denominator < 0n) {
    numerator = -numerator;
    denominator = -denominator;
  }
  const q = numerator / denominator; // truncates toward zero
  return roundTruncated(q, numerator - q * denominator, denominator, rounding);
}

/**
 * Rounds n ÷ d (d > 0) from its truncated quotient q and remainder r = n − q·d
 * (r has the sign of n, or is 0).
 */
function roundTruncated(q: bigint, r: bigint, denominator: bigint, rounding: Rounding): bigint {
  if (r === 0n) return q;
  switch (rounding) {
    case 'floor':
      return r < 0n ? q - 1n : q;
    case 'ceil':
      return r > 0n ? q + 1n : q;
    case 'halfEven': {
      const twice = r < 0n ? -2n * r : 2n * r;
      const away = r < 0n ? q - 1n : q + 1n;
      if (twice > denominator) return away;
      if (twice < denominator) return q;
      return q % 2n === 0n ? q : away;
    }
  }
}

/** a × b at ledger scale. */
export function mul(a: Fixed, b: Fixed, rounding: Rounding): Fixed {
  return divRound(a * b, SCALE, rounding);
}

const SCALE_SQUARED = SCALE * SCALE;

// The last mul3's operands and its truncated quotient and remainder: a position's notional (|qty| × mark ×
// multiplier, up), PnL and equity value (qty × mark × multiplier, down) are the same product rounded three ways,
// so the second and third cost no division. Only equal operands hit, so every result is exactly what it was.
let lastA = 0n;
let lastB = 0n;
let lastC = 0n;
let lastQ = 0n;
let lastR = 0n;

/** a × b × c at ledger scale, rounded once. */
export function mul3(a: Fixed, b: Fixed, c: Fixed, rounding: Rounding): Fixed {
  // a multiplier of 1 is the common case: a·b·10^8 / 10^16 is exactly a·b / 10^8, rounded the same way
  const denominator = c === SCALE ? SCALE : SCALE_SQUARED;
  if (b === lastB && c === lastC) {
    if (a === lastA) return roundTruncated(lastQ, lastR, denominator, rounding);
    // (−a)·b·c: the quotient and remainder change sign
    if (a === -lastA) return roundTruncated(-lastQ, -lastR, denominator, rounding);
  }
  const numerator = c === SCALE ? a * b : a * b * c;
  const q = numerator / denominator;
  lastA = a;
  lastB = b;
  lastC = c;
  lastQ = q;
  lastR = numerator - q * denominator;
  return roundTruncated(q, lastR, denominator, rounding);
}

/** a ÷ b at ledger scale. */
export function div(a: Fixed, b: Fixed, rounding: Rounding): Fixed {
  return divRound(a * SCALE, b, rounding);
}

export const abs = (a: Fixed): Fixed => (a < 0n ? -a : a);
export const min = (a: Fixed, b: Fixed): Fixed => (a < b ? a : b);
export const max = (a: Fixed, b: Fixed): Fixed => (a > b ? a : b);
export const sign = (a: Fixed): -1n | 0n | 1n => (a > 0n ? 1n : a < 0n ? -1n : 0n);

/** Approximate float64 value, for screening and risk models only — never for the ledger. */
export function toNumber(a: Fixed): number {
  return Number(a) / 1e8;
}

/**
 * Rounds a float64 risk figure to the ledger scale *against the account*
 * (`ceil` for a requirement, `floor` for a value the account holds).
 */
export function fromNumber(x: number, rounding: 'floor' | 'ceil'): Fixed {
  if (!Number.isFinite(x)) throw new RangeError(`${x} is not finite`);
  const scaled = x * 1e8;
  return BigInt(rounding === 'ceil' ? Math.ceil(scaled) : Math.floor(scaled));
}

import * as fixed from './fixed';

export type { DecimalBounds, Fixed, Rounding } from './fixed';
export { DecimalFormatError } from './fixed';

// Plain properties rather than `export *`: the CommonJS output turns a re-export into a getter shared by every
// name (a keyed load per call), and these are called millions of times per run from every other library.
export const { DECIMALS, SCALE, ZERO, ONE, MAX_DECIMAL_LENGTH, MAX_EXPONENT, MAX_INTEGER_DIGITS, MAX_COMPUTED_INTEGER_DIGITS, parseFixed, formatFixed, formatFixedPlaces, divRound, mul, mul3, div, abs, min, max, sign, toNumber, fromNumber } = fixed;

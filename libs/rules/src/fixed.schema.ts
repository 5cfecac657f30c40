import { z } from 'zod';
import { DecimalFormatError, formatFixed, parseFixed, type DecimalBounds, type Fixed } from '@clearsim/money';

const decimalOf = (bounds: DecimalBounds) =>
  z.union([z.string(), z.number()]).transform((value, ctx): Fixed => {
    try {
      return parseFixed(value, bounds);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof DecimalFormatError ? error.reason : 'not a decimal' });
      return z.NEVER;
    }
  });

/** A decimal given as a string (or a JSON number), parsed exactly to ledger units, within an input's bounds (parseFixed). */
export const fixed = decimalOf('input');

/** The refinements of a decimal, on any decimal schema (an input's, a computed one, a scenario's YAML decimal). */
export const refinePositive = <S extends z.ZodType<Fixed>>(decimal: S) => decimal.refine((v) => v > 0n, { message: 'must be greater than 0' });
export const refineNonNegative = <S extends z.ZodType<Fixed>>(decimal: S) => decimal.refine((v) => v >= 0n, { message: 'must not be negative' });
export const refineBetween = <S extends z.ZodType<Fixed>>(decimal: S, lo: Fixed, hi: Fixed, what: string) =>
  decimal.refine((v) => v >= lo && v <= hi, { message: `must be ${what} (${formatFixed(lo)}..${formatFixed(hi)})` });

export const positiveFixed = refinePositive(fixed);
export const nonNegativeFixed = refineNonNegative(fixed);
export const fixedBetween = (lo: Fixed, hi: Fixed, what: string) => refineBetween(fixed, lo, hi, what);

/**
 * A decimal the engine computed (a decision's amount, as the log holds it): within the wider bounds of
 * MAX_COMPUTED_INTEGER_DIGITS, since inputs within their bounds multiply and add up beyond them.
 */
export const computedFixed = decimalOf('computed');
export const computedPositiveFixed = refinePositive(computedFixed);
export const computedNonNegativeFixed = refineNonNegative(computedFixed);

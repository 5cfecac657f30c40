import { z } from 'zod';
import { DecimalFormatError, formatFixed, parseFixed, type Fixed } from '@clearsim/money';

/** A decimal given as a string (or a JSON number), parsed exactly to ledger units. */
export const fixed = z.union([z.string(), z.number()]).transform((value, ctx): Fixed => {
  try {
    return parseFixed(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: error instanceof DecimalFormatError ? error.reason : 'not a decimal' });
    return z.NEVER;
  }
});

export const positiveFixed = fixed.refine((v) => v > 0n, { message: 'must be greater than 0' });
export const nonNegativeFixed = fixed.refine((v) => v >= 0n, { message: 'must not be negative' });
export const fixedBetween = (lo: Fixed, hi: Fixed, what: string) =>
  fixed.refine((v) => v >= lo && v <= hi, { message: `must be ${what} (${formatFixed(lo)}..${formatFixed(hi)})` });

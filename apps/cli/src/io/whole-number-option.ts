import { quoteInput, wholeNumberOf } from '@clearsim/events';
import { UsageError } from '../cli-error';

/** The most rows a listing flag (`--history`, `--accounts`) takes: more than any table is worth printing. */
export const MAX_LISTED = 1_000_000;

/**
 * A flag's whole number from `min` to `max` (at most Number.MAX_SAFE_INTEGER), written in digits (wholeNumberOf, the
 * rule of every edge): refused naming the flag otherwise, one message whatever the reason. `Number()` alone took
 * "abc" (NaN: "last NaN of 5"), "-1" (every row but the first), "1.5" and "0x10".
 */
export function wholeNumberOption(flag: string, text: string, min: number, max: number): number {
  const whole = wholeNumberOf(text, min, max);
  if (!whole.ok) throw new UsageError(`${flag}: ${quoteInput(text)} is not a whole number from ${min} to ${max}`);
  return whole.value;
}

/** A listing flag's value: how many rows to print, from 0 to MAX_LISTED. */
export function countOption(flag: string, text: string): number {
  return wholeNumberOption(flag, text, 0, MAX_LISTED);
}

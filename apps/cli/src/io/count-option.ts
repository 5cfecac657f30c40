import { quoteInput } from '@clearsim/events';
import { UsageError } from '../cli-error';

/** The most rows a listing flag (`--history`, `--accounts`) takes: more than any table is worth printing. */
export const MAX_LISTED = 1_000_000;

/**
 * A listing flag's value: how many rows to print, a whole number from 0 to MAX_LISTED written in digits. `Number()`
 * took "abc" (NaN: "last NaN of 5"), "-1" (every row but the first), "1.5" and "0x10".
 */
export function countOption(flag: string, text: string): number {
  if (!/^\d{1,7}$/.test(text) || Number(text) > MAX_LISTED) throw new UsageError(`${flag}: ${quoteInput(text)} is not a whole number from 0 to ${MAX_LISTED}`);
  return Number(text);
}

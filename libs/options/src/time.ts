/** The option year: 365 days of 86,400,000 ms (no leap years, no business days). */
export const DAYS_PER_YEAR = 365;
export const MS_PER_DAY = 86_400_000;
export const MS_PER_YEAR = DAYS_PER_YEAR * MS_PER_DAY;

/**
 * T = (expiry − now) / (365 × 86,400,000 ms), floored at 0: an option at or
 * past its expiry has no time value left. Both times are epoch milliseconds
 * (the log's `ts`, never the wall clock).
 */
export function yearsToExpiry(expiryMs: number, nowMs: number): number {
  if (!Number.isFinite(expiryMs) || !Number.isFinite(nowMs)) {
    throw new RangeError(`yearsToExpiry: times must be finite (expiry ${expiryMs}, now ${nowMs})`);
  }
  const years = (expiryMs - nowMs) / MS_PER_YEAR;
  return years > 0 ? years : 0;
}

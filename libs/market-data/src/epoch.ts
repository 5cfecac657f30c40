import { formatTimestamp, parseTimestamp } from '@clearsim/events';

/** How a time column is written. `auto`: an ISO-8601 UTC text, or an epoch number whose magnitude says its unit. */
export type TimeFormat = 'auto' | 's' | 'ms' | 'us' | 'ns' | 'iso';
export const TIME_FORMATS: readonly TimeFormat[] = ['auto', 's', 'ms', 'us', 'ns', 'iso'];

const EPOCH = /^(\d{1,19})(?:\.(\d{1,12}))?$/;

/**
 * Milliseconds since the epoch from a time cell, or a reason it is not one.
 * Exchanges write seconds (Bybit, with a fraction), milliseconds (Binance
 * futures, OKX) or, since 2025, microseconds (Binance spot): under `auto` an
 * epoch's unit is read from its integer part's magnitude, which no date
 * between 1973 and 5138 makes ambiguous — < 10^11 seconds, < 10^14
 * milliseconds, < 10^17 microseconds, else nanoseconds. Sub-millisecond parts
 * are dropped (truncated toward the past): the log's clock has milliseconds.
 */
export function epochMillis(text: string, format: TimeFormat = 'auto'): number | string {
  const cell = text.trim();
  if (format === 'iso' || (format === 'auto' && cell.includes('-'))) {
    const ms = parseTimestamp(cell);
    // the date must exist: Date.parse rolls 2020-02-30 over to 1 March
    if (ms === undefined || formatTimestamp(ms).slice(0, 10) !== cell.slice(0, 10)) return `"${cell}" is not an ISO-8601 UTC time (e.g. 2020-03-12T10:30:00Z)`;
    return ms;
  }
  const match = EPOCH.exec(cell);
  if (!match) return `"${cell}" is not an epoch time (digits, optionally with a fraction)`;
  const whole = BigInt(match[1]);
  const fraction = match[2] ?? '';
  const unit = format === 'auto' ? unitOf(whole) : format;
  // milliseconds = whole × (ms per unit) + the fraction's part, exactly, in bigint
  const perUnit: Record<Exclude<TimeFormat, 'auto' | 'iso'>, [bigint, bigint]> = { s: [1000n, 1n], ms: [1n, 1n], us: [1n, 1000n], ns: [1n, 1_000_000n] };
  const [mul, div] = perUnit[unit];
  const scaledFraction = fraction === '' ? 0n : (BigInt(fraction) * mul) / 10n ** BigInt(fraction.length);
  const ms = (whole * mul) / div + (div === 1n ? scaledFraction : 0n);
  if (ms > 8_640_000_000_000_000n) return `"${cell}" is beyond the year 275760`;
  return Number(ms);
}

function unitOf(whole: bigint): 's' | 'ms' | 'us' | 'ns' {
  if (whole < 100_000_000_000n) return 's';
  if (whole < 100_000_000_000_000n) return 'ms';
  if (whole < 100_000_000_000_000_000n) return 'us';
  return 'ns';
}

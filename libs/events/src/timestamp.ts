/** Milliseconds since the Unix epoch, UTC. Time in clearsim is always the log's, never the wall clock. */
export type Timestamp = number;

const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:Z|[+-]00:?00)$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Why `text` is not a timestamp clearsim accepts, or undefined if it is one:
 * ISO-8601 in UTC whose fields name a real instant as written — a calendar
 * date (no February 30th, no month 13), hours 00–23 (no 24:00), minutes and
 * seconds 00–59 (no leap second 60: UTC instants in clearsim are POSIX
 * milliseconds, which have none), and no precision finer than a millisecond.
 * Date.parse alone would roll "2026-02-30" over to March 2nd and "T24:00"
 * to the next day; a timestamp must mean the instant it spells.
 */
export function timestampProblem(text: string): string | undefined {
  // the longest accepted form is 35 characters; longer text is refused before the regular expression runs
  const m = text.length <= 40 ? ISO_UTC.exec(text) : null;
  if (!m) return 'is not an ISO-8601 UTC timestamp (e.g. 2026-01-01T00:00:00Z)';
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12) return `has no month ${m[2]} (01–12)`;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
  if (day < 1 || day > days) return `is not a calendar date (${m[1]}-${m[2]} has ${days} days)`;
  if (Number(m[4]) > 23) return `has no hour ${m[4]} (00–23)`;
  if (Number(m[5]) > 59) return `has no minute ${m[5]} (00–59)`;
  if (m[6] !== undefined && Number(m[6]) > 59) return `has no second ${m[6]} (00–59; leap seconds are not represented)`;
  if (m[7] !== undefined && m[7].length > 3 && !/^0+$/.test(m[7].slice(3))) return 'is finer than a millisecond';
  return undefined;
}

export function parseTimestamp(text: string): Timestamp | undefined {
  if (timestampProblem(text) !== undefined) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The input as quoted in an error message: at most 40 characters of it. */
export const quoteInput = (text: string): string => (text.length <= 40 ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, 32))}… (${text.length} characters)`);

/** Canonical ISO-8601 UTC text, with milliseconds only when they are not zero. */
export function formatTimestamp(ts: Timestamp): string {
  // consecutive events mostly share a ts (an input and its decisions), or at least its minute: the text up to
  // the minute is kept, and only seconds and milliseconds are written
  if (ts === lastTs) return lastText;
  const minute = Math.floor(ts / 60_000);
  if (minute !== lastMinute || !Number.isInteger(ts) || ts > MAX_TIME || ts < -MAX_TIME) return formatTimestampByDate(ts);
  const inMinute = ts - minute * 60_000;
  const second = Math.floor(inMinute / 1000);
  const ms = inMinute - second * 1000;
  lastTs = ts;
  lastText = lastMinutePrefix + (second < 10 ? '0' : '') + second + (ms === 0 ? '' : ms < 10 ? '.00' + ms : ms < 100 ? '.0' + ms : '.' + ms) + 'Z';
  return lastText;
}

/** The largest time a Date holds (±10^8 days), in milliseconds. */
const MAX_TIME = 8.64e15;
let lastTs = NaN;
let lastText = '';
let lastMinute = NaN;
let lastMinutePrefix = '';

function formatTimestampByDate(ts: Timestamp): string {
  const iso = new Date(ts).toISOString(); // throws RangeError for a time a Date cannot hold
  lastTs = ts;
  lastText = iso.endsWith('.000Z') ? iso.slice(0, -5) + 'Z' : iso;
  if (Number.isInteger(ts)) {
    lastMinute = Math.floor(ts / 60_000);
    lastMinutePrefix = iso.slice(0, iso.length - 7); // "…THH:MM:" (the year can be longer than four digits)
  }
  return lastText;
}

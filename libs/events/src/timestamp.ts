import { z } from 'zod';

/** Milliseconds since the Unix epoch, UTC. Time in clearsim is always the log's, never the wall clock. */
export type Timestamp = number;

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]00:?00)$/;

export function parseTimestamp(text: string): Timestamp | undefined {
  if (!ISO_UTC.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

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

export const timestamp = z.string().transform((text, ctx): Timestamp => {
  const ms = parseTimestamp(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not an ISO-8601 UTC timestamp (e.g. 2026-01-01T00:00:00Z)` });
    return z.NEVER;
  }
  return ms;
});

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
  // consecutive events mostly share a ts (an input and its decisions): remember the last one
  if (ts === lastTs) return lastText;
  const iso = new Date(ts).toISOString();
  lastTs = ts;
  lastText = iso.endsWith('.000Z') ? iso.slice(0, -5) + 'Z' : iso;
  return lastText;
}
let lastTs = NaN;
let lastText = '';

export const timestamp = z.string().transform((text, ctx): Timestamp => {
  const ms = parseTimestamp(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not an ISO-8601 UTC timestamp (e.g. 2026-01-01T00:00:00Z)` });
    return z.NEVER;
  }
  return ms;
});

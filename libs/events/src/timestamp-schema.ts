import { z } from 'zod';
import { quoteInput, timestampProblem, type Timestamp } from './timestamp';

/** A timestamp field of an event: ISO-8601 UTC text (timestampProblem) read as milliseconds. */
export const timestamp = z.string().transform((text, ctx): Timestamp => {
  const problem = timestampProblem(text);
  const ms = problem === undefined ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: `${quoteInput(text)} ${problem ?? 'is not an ISO-8601 UTC timestamp (e.g. 2026-01-01T00:00:00Z)'}` });
    return z.NEVER;
  }
  return ms;
});

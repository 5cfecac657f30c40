import { parseTimestamp, quoteInput, timestampProblem } from '@clearsim/events';
import { UsageError } from '../cli-error';

/** Parses `--at`: an ISO-8601 UTC timestamp. */
export function parseAt(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ts = parseTimestamp(text);
  if (ts === undefined) {
    const problem = timestampProblem(text);
    throw new UsageError(`--at: ${quoteInput(text)} ${problem === undefined || problem.startsWith('is not an ISO-8601') ? 'is not an ISO-8601 UTC timestamp (e.g. 2020-03-13T02:16:00Z)' : problem}`);
  }
  return ts;
}

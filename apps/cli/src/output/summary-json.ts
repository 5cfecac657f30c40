import type { ClearingEngine } from '@clearsim/clearing';

/** Characters of JSON gathered before each write to stdout (on Linux a write to a pipe or file is synchronous, so at most this much waits). */
const WRITE_CHUNK = 1 << 20;

/**
 * Writes `JSON.stringify({ ...head, ...engine.summary() }) + '\n'` to stdout,
 * byte for byte, without ever holding every account's view at once: the
 * counters first, then the accounts streamed from `engine.accountsJson()`
 * (a million accounts' views would otherwise be ~700 MB of objects at once).
 */
export function writeJsonSummary(head: Record<string, unknown>, engine: ClearingEngine): void {
  const counters = JSON.stringify({ ...head, ...engine.summary({ accounts: false }) });
  // summary() puts `accounts` last, so the text ends with its empty object and the closing brace
  const EMPTY_ACCOUNTS = '"accounts":{}}';
  if (!counters.endsWith(EMPTY_ACCOUNTS)) throw new Error('the summary no longer ends with its accounts');
  let text = counters.slice(0, -2);
  let first = true;
  for (const [id, json] of engine.accountsJson()) {
    text += `${first ? '' : ','}${JSON.stringify(id)}:${JSON.stringify(json)}`;
    first = false;
    if (text.length >= WRITE_CHUNK) {
      process.stdout.write(text);
      text = '';
    }
  }
  process.stdout.write(text + '}}\n');
}


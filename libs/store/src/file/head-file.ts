import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** The small file that proves how far the log reached: rewritten (atomically) after every commit. */
export const HEAD_FILE = 'HEAD';
const FORMAT = 'clearsim-head';

/**
 * What HEAD records: the last commit the writer made durable (its position,
 * the log line it ends on, the byte length of the log and the chain there),
 * which log it belongs to, and the snapshots kept. A log shorter than HEAD
 * was truncated; a listed snapshot that is gone was deleted.
 */
export interface HeadRecord {
  log: string;
  position: number;
  line: number;
  bytes: number;
  chain: string;
  snapshots: number[];
}

export type HeadRead = { kind: 'none' } | { kind: 'unreadable'; detail: string } | { kind: 'ok'; head: HeadRecord };

export async function readHead(dir: string): Promise<HeadRead> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, HEAD_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    return { kind: 'unreadable', detail: (error as Error).message };
  }
  let value: Partial<HeadRecord & { format: unknown; version: unknown }>;
  try {
    value = JSON.parse(text) as typeof value;
  } catch {
    return { kind: 'unreadable', detail: text === '' ? 'it is empty' : 'it is not JSON' };
  }
  const whole = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
  if (
    value.format !== FORMAT ||
    value.version !== 1 ||
    typeof value.log !== 'string' ||
    !whole(value.position) ||
    !whole(value.line) ||
    !whole(value.bytes) ||
    typeof value.chain !== 'string' ||
    !Array.isArray(value.snapshots) ||
    !value.snapshots.every(whole)
  ) {
    return { kind: 'unreadable', detail: 'it is not a clearsim HEAD record' };
  }
  const { log, position, line, bytes, chain, snapshots } = value as HeadRecord;
  return { kind: 'ok', head: { log, position, line, bytes, chain, snapshots } };
}

/**
 * Replaces HEAD atomically (a temporary file renamed over it). Not fsynced,
 * on purpose: HEAD is written only after the log's own fsync, so whatever
 * version of HEAD survives a power failure never claims more than the log
 * holds; losing the newest one only weakens the proof for a moment, and an
 * unreadable HEAD is reported as a warning, never trusted.
 */
export async function writeHead(dir: string, head: HeadRecord): Promise<void> {
  const tmp = path.join(dir, `.${HEAD_FILE}.tmp-${process.pid}`);
  const { log, position, line, bytes, chain, snapshots } = head;
  await fs.writeFile(tmp, JSON.stringify({ format: FORMAT, version: 1, log, position, line, bytes, chain, snapshots }) + '\n', 'utf8');
  await fs.rename(tmp, path.join(dir, HEAD_FILE));
}

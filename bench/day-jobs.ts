import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { decodeLine } from '@clearsim/events';
import { ShardRunner } from '@clearsim/shard';
import { FileEventStore } from '@clearsim/store';

/**
 * The jobs of B1, B1-scale, B7 and B8 (each run in a child by the harness):
 * the baselines over a generated day, `clearsim run` itself, and a restart.
 */

const CHUNK = 1 << 20;
const NEWLINE = 0x0a;

/**
 * B1's baseline, the floor of "read the file and parse every line": 1 MB Buffer chunks, each decoded once up to
 * its last newline, split with indexOf, JSON.parse per line (a line cut by a chunk boundary is carried over).
 */
export function parseChunks(file: string): number {
  const fd = openSync(file, 'r');
  const buffer = Buffer.allocUnsafe(CHUNK);
  let carry = '';
  let parsed = 0;
  try {
    for (;;) {
      const read = readSync(fd, buffer, 0, CHUNK, null);
      if (read === 0) break;
      const last = buffer.lastIndexOf(NEWLINE, read - 1);
      if (last < 0) {
        carry += buffer.toString('utf8', 0, read);
        continue;
      }
      const text = carry + buffer.toString('utf8', 0, last);
      carry = buffer.toString('utf8', last + 1, read);
      let start = 0;
      for (;;) {
        const end = text.indexOf('\n', start);
        const line = end < 0 ? text.slice(start) : text.slice(start, end);
        if (line.length > 0 && JSON.parse(line)) parsed++;
        if (end < 0) break;
        start = end + 1;
      }
    }
    if (carry.length > 0 && JSON.parse(carry)) parsed++;
  } finally {
    closeSync(fd);
  }
  return parsed;
}

function lines(file: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK }), crlfDelay: Infinity });
}

/** The previous baseline (and the way `run` reads its input): node:readline, then JSON.parse per line. */
export async function parseReadline(file: string): Promise<number> {
  let parsed = 0;
  for await (const line of lines(file)) if (line.length > 0 && JSON.parse(line)) parsed++;
  return parsed;
}

/** readline + the input codec (JSON.parse and the zod schema: what every edge does before clearing anything). */
export async function decodeFile(file: string): Promise<number> {
  let decoded = 0;
  let n = 0;
  for await (const line of lines(file)) if (line.length > 0 && decodeLine(line, 'input', file, ++n)) decoded++;
  return decoded;
}

/**
 * `clearsim run FILE --store file:DIR --no-progress` in this process, through the CLI's own entry point: it
 * measures whatever `run` does (batching, streaming, its summary). Its output (with the outputHash) goes to
 * stdout, which the harness reads.
 */
export async function cliRun(file: string, store: string, snapshot: boolean): Promise<void> {
  const { main } = await import('../apps/cli/src/main');
  const code = await main(['node', 'clearsim', 'run', file, '--store', `file:${store}`, '--no-progress', ...(snapshot ? ['--snapshot'] : [])]);
  if (code !== 0) throw new Error(`clearsim run exited ${code}`);
}

/** A restart: ShardRunner.open on the file store (from its latest snapshot, or folding the whole log). */
export async function openShard(store: string, fullReplay: boolean): Promise<{ head: number; restoredFrom: number; outputHash: string }> {
  const events = await FileEventStore.open(store);
  try {
    const runner = await ShardRunner.open(events, { fullReplay });
    return { head: runner.head, restoredFrom: runner.restoredFrom, outputHash: runner.engine.outputHash };
  } finally {
    await events.close();
  }
}

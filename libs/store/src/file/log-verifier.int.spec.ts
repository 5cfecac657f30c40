import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CorruptLogError } from '../errors';
import { sampleEvents } from '../testing';
import { FileEventStore } from './file-event-store';
import { readHeader, verifyInHalves, verifyLog, type VerifiedLog } from './log-verifier';

/** verifyLog of `bytes` written to `file`: what it answers, or the CorruptLogError it throws. */
async function verifyBytes(
  file: string,
  bytes: Buffer,
  wantChainsAt: ReadonlySet<number>,
  options: { readBytes?: number; vouchedUpTo?: number; splitFrom?: number } = {},
): Promise<VerifiedLog | CorruptLogError> {
  fs.writeFileSync(file, bytes);
  const handle = await fs.promises.open(file, 'r');
  try {
    const header = (await readHeader(handle, file, bytes.length))!;
    return await verifyLog(handle, file, bytes.length, header, wantChainsAt, options.vouchedUpTo, options.readBytes, options.splitFrom);
  } catch (error) {
    if (error instanceof CorruptLogError) return error;
    throw error;
  } finally {
    await handle.close();
  }
}

/** What a verifyLog answer says, comparable with toEqual. */
const summary = (result: VerifiedLog | CorruptLogError) =>
  result instanceof CorruptLogError
    ? { error: result.message, line: result.line }
    : { head: result.head, committedBytes: result.committedBytes, committedLines: result.committedLines, chain: result.chain.toString('hex'), chainsAt: [...result.chainsAt], torn: result.tornBatch?.problem.message };

type Damage = 'flip' | 'tab' | 'remove' | 'cut';

/**
 * `original` damaged at its line index `line` (≥ 1: never the header): a digit changed (`flip`: a 0 made 1, anything
 * else made 0), a TAB put in the middle of the line (the first byte of a record, never in an event line), the line
 * removed, or (`cut`) the log's last 1 + column % 150 bytes cut off. `changedDigit`: a flip that changed a digit.
 */
function damage(original: Buffer, line: number, column: number, kind: Damage): { bytes: Buffer; changedDigit: boolean } {
  const lines = original.toString('latin1').split('\n');
  if (kind === 'remove') return { bytes: Buffer.from(lines.filter((_, i) => i !== line).join('\n'), 'latin1'), changedDigit: false };
  if (kind === 'cut') return { bytes: original.subarray(0, original.length - 1 - (column % 150)), changedDigit: false };
  const start = lines.slice(0, line).reduce((sum, text) => sum + text.length + 1, 0);
  const at = start + (column % Math.max(1, lines[line]!.length));
  const bytes = Buffer.from(original);
  const changedDigit = kind === 'flip' && bytes[at]! >= 0x30 && bytes[at]! <= 0x39;
  bytes[at] = kind === 'tab' ? 0x09 : bytes[at] === 0x30 ? 0x31 : 0x30;
  return { bytes, changedDigit };
}

/** In a describe: a store written by `write` in a temporary directory (removed after it), its log's path and bytes. */
function writtenLog(prefix: string, write: (dir: string) => Promise<void>): { file: string; original: Buffer } {
  const log = { file: '', original: Buffer.alloc(0) };
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    await write(dir);
    log.file = path.join(dir, 'events.jsonl');
    log.original = fs.readFileSync(log.file);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  return log;
}

/**
 * verifyLog reads the log in large pieces (16 MiB), carrying an unfinished line into the next read: a commit record
 * or a line may fall anywhere across two reads. Cut at every size, the walk must find what one read finds.
 */
describe('verifyLog across read boundaries', () => {
  const log = writtenLog('clearsim-log-verifier-', async (dir) => {
    const store = await FileEventStore.open(dir);
    // five batches of 1, 3, 2, 4 and 1 events (five commit records)
    let position = 0;
    for (const count of [1, 3, 2, 4, 1]) position = await store.append(sampleEvents(count, position), position);
    await store.close();
  });

  const walk = (bytes: Buffer, readBytes?: number, vouchedUpTo?: number) => verifyBytes(log.file, bytes, new Set([1, 4, 6, 10, 11]), { readBytes, vouchedUpTo });

  it('finds the same five commits, chains and byte counts whatever the read size', async () => {
    const whole = await walk(log.original);
    expect(summary(whole)).toMatchObject({ head: 11, committedBytes: log.original.length, committedLines: 1 + 11 + 5 });
    expect((whole as VerifiedLog).chainsAt.size).toBe(5);
    for (const readBytes of [1, 2, 3, 7, 64, 100, 127, 128, 129, 500, log.original.length - 1]) {
      expect(summary(await walk(log.original, readBytes))).toEqual(summary(whole));
    }
  });

  it('names the same line for a changed byte, a removed line or a torn tail whatever the read size', async () => {
    const lines = log.original.toString('latin1').split('\n');
    await fc.assert(
      fc.asyncProperty(fc.nat(lines.length - 2), fc.nat(200), fc.constantFrom<Damage>('flip', 'tab', 'remove', 'cut'), fc.oneof(fc.constantFrom(1, 2, 3), fc.integer({ min: 1, max: 300 })), async (lineIndex, column, kind, readBytes) => {
        const damaged = damage(log.original, Math.max(1, lineIndex), column, kind).bytes;
        const expected = summary(await walk(damaged));
        expect(summary(await walk(damaged, readBytes))).toEqual(expected);
        // vouched up to the fourth commit (position 10): a bad final batch is a torn batch, not an error
        expect(summary(await walk(damaged, readBytes, 10))).toEqual(summary(await walk(damaged, undefined, 10)));
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 1) * 60 },
    );
    fs.writeFileSync(log.file, log.original);
  });
});

/**
 * A version-3 log whose batches are cut by checkpoint records (the store written with a tiny CHECKPOINT_BYTES): the
 * walk verifies every checkpoint's chain, and verifyLog hashed in two halves (split at a record near `splitFrom`,
 * the second half from the chain that record carries) answers exactly what one walk from the start answers — for the
 * whole log, and for any damage (where the halves fall back to the one walk, which names the line).
 */
describe('verifyLog of a log with checkpoint records, whole or in two halves', () => {
  const log = writtenLog('clearsim-log-checkpoints-', async (dir) => {
    const store = await FileEventStore.open(dir, { checkpointBytes: 300 });
    let position = await store.append(sampleEvents(2), 0);
    // one transaction of five chunks: a checkpoint after each chunk that passes 300 bytes of lines
    const tx = await store.beginAppend(position);
    for (const count of [3, 1, 4, 2, 3]) position = await tx.append(sampleEvents(count, position));
    await tx.commit();
    position = await store.append(sampleEvents(3, position), position);
    await store.close();
  });

  const walk = (bytes: Buffer, options: { readBytes?: number; vouchedUpTo?: number; splitFrom?: number } = {}) => verifyBytes(log.file, bytes, new Set([2, 15, 18]), options);

  const textLines = () => log.original.toString('latin1').split('\n').slice(0, -1);

  it('holds checkpoint records inside the long batch, and verifies to its last line whatever the read size or split', async () => {
    const lines = textLines();
    const checkpoints = lines.filter((l) => l.startsWith('\t{"checkpoint":'));
    expect(checkpoints.length).toBeGreaterThanOrEqual(3);
    // each names the position of the line before it
    for (const [i, line] of lines.entries()) {
      if (!line.startsWith('\t{"checkpoint":')) continue;
      expect(line).toMatch(/^\t\{"checkpoint":\d+,"chain":"[0-9a-f]{64}"\}$/);
      expect(line).toContain(`"checkpoint":${JSON.parse(lines[i - 1]!).position},`);
    }
    const whole = summary(await walk(log.original));
    // every line of the file is committed: header, 18 events, checkpoints, 3 commit records
    expect(whole).toMatchObject({ head: 18, committedBytes: log.original.length, committedLines: lines.length });
    expect(lines.length).toBe(1 + 18 + checkpoints.length + 3);
    for (const readBytes of [1, 3, 64, 129, log.original.length]) expect(summary(await walk(log.original, { readBytes }))).toEqual(whole);
    // split anywhere: at every record after the header (a commit or a checkpoint), the halves give the same answer
    const recordsSplitAt = new Set<number>();
    fs.writeFileSync(log.file, log.original);
    const handle = await fs.promises.open(log.file, 'r');
    try {
      const header = (await readHeader(handle, log.file, log.original.length))!;
      for (let splitFrom = lines[0]!.length + 1; splitFrom < log.original.length; splitFrom += 17) {
        expect(summary(await walk(log.original, { splitFrom }))).toEqual(whole);
        expect(summary(await walk(log.original, { splitFrom, readBytes: 50 }))).toEqual(whole);
        // the halves themselves answer (not only the one walk they fall back to) wherever a record follows the split
        const halves = await verifyInHalves(handle, log.file, log.original.length, header, splitFrom, new Set([2, 15, 18]), 64);
        const recordAfter = log.original.indexOf('\n\t', splitFrom - 1);
        if (recordAfter >= 0) {
          expect(halves && summary(halves)).toEqual(whole);
          recordsSplitAt.add(recordAfter);
        } else expect(halves).toBeUndefined();
      }
    } finally {
      await handle.close();
    }
    // commit and checkpoint records were split at
    expect(recordsSplitAt.size).toBeGreaterThanOrEqual(4);
  });

  it('a changed byte, a removed line, a TAB or a cut: the halves answer as one walk does, and a changed digit is named at its line', async () => {
    const lines = textLines();
    await fc.assert(
      fc.asyncProperty(
        fc.nat(lines.length - 2),
        fc.nat(200),
        fc.constantFrom<Damage>('flip', 'tab', 'remove', 'cut'),
        fc.integer({ min: 1, max: log.original.length - 1 }),
        fc.oneof(fc.constant(undefined), fc.integer({ min: 1, max: 300 })),
        async (lineIndex, column, kind, splitFrom, readBytes) => {
          const line = Math.max(1, lineIndex);
          const { bytes: damaged, changedDigit } = damage(log.original, line, column, kind);
          const expected = summary(await walk(damaged));
          expect(summary(await walk(damaged, { splitFrom, readBytes }))).toEqual(expected);
          // a digit changed in a line of a batch before the last: an error naming that very line
          if (changedDigit && line < lines.length - 5) expect(expected).toMatchObject({ line: line + 1 });
          // vouched up to the second commit (position 15): a bad final batch is torn, not an error, split or not
          expect(summary(await walk(damaged, { splitFrom, readBytes, vouchedUpTo: 15 }))).toEqual(summary(await walk(damaged, { vouchedUpTo: 15 })));
        },
      ),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 1) * 80 },
    );
    fs.writeFileSync(log.file, log.original);
  });

  it('a long batch cut before its commit record (a crash mid-run) is the tail, checkpoints and all', async () => {
    const lines = textLines();
    const secondCommit = lines.findIndex((l) => l.startsWith('\t{"commit":15,'));
    const cut = Buffer.from(lines.slice(0, secondCommit).join('\n') + '\n', 'latin1');
    const firstCommitEnd = lines.slice(0, 4).reduce((sum, text) => sum + text.length + 1, 0);
    expect(lines[3]).toMatch(/^\t\{"commit":2,/);
    for (const splitFrom of [undefined, firstCommitEnd + 1, cut.length - 40]) {
      expect(summary(await walk(cut, { splitFrom }))).toMatchObject({ head: 2, committedBytes: firstCommitEnd, committedLines: 4 });
    }
    // its last checkpoint damaged too: still the tail (nothing after it commits it)
    const lastCheckpoint = lines.slice(0, secondCommit).reduce((found, l, i) => (l.startsWith('\t{"checkpoint":') ? i : found), -1);
    expect(lastCheckpoint).toBeGreaterThan(3);
    const damaged = Buffer.from(lines.slice(0, secondCommit).map((l, i) => (i === lastCheckpoint ? l.replace(/"chain":"./, '"chain":"0') : l)).join('\n') + '\n', 'latin1');
    expect(summary(await walk(damaged))).toMatchObject({ head: 2, committedBytes: firstCommitEnd, committedLines: 4 });
    fs.writeFileSync(log.file, log.original);
  });
});

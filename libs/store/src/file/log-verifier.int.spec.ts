import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CorruptLogError } from '../errors';
import { sampleEvents } from '../testing';
import { FileEventStore } from './file-event-store';
import { readHeader, verifyLog, type VerifiedLog } from './log-verifier';

/**
 * verifyLog reads the log in large pieces (16 MiB), carrying an unfinished line into the next read: a commit record
 * or a line may fall anywhere across two reads. Cut at every size, the walk must find what one read finds.
 */
describe('verifyLog across read boundaries', () => {
  let dir: string;
  let file: string;
  let original: Buffer;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clearsim-log-verifier-'));
    const store = await FileEventStore.open(dir);
    // five batches of 1, 3, 2, 4 and 1 events (five commit records)
    let position = 0;
    for (const count of [1, 3, 2, 4, 1]) position = await store.append(sampleEvents(count, position), position);
    await store.close();
    file = path.join(dir, 'events.jsonl');
    original = fs.readFileSync(file);
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const walk = async (bytes: Buffer, readBytes?: number, vouchedUpTo?: number): Promise<VerifiedLog | CorruptLogError> => {
    fs.writeFileSync(file, bytes);
    const handle = await fs.promises.open(file, 'r');
    try {
      const header = (await readHeader(handle, file, bytes.length))!;
      return await verifyLog(handle, file, bytes.length, header, new Set([1, 4, 6, 10, 11]), vouchedUpTo, readBytes);
    } catch (error) {
      if (error instanceof CorruptLogError) return error;
      throw error;
    } finally {
      await handle.close();
    }
  };

  const summary = (result: VerifiedLog | CorruptLogError) =>
    result instanceof CorruptLogError
      ? { error: result.message }
      : { head: result.head, committedBytes: result.committedBytes, committedLines: result.committedLines, chain: result.chain.toString('hex'), chainsAt: [...result.chainsAt], torn: result.tornBatch?.problem.message };

  it('finds the same five commits, chains and byte counts whatever the read size', async () => {
    const whole = await walk(original);
    expect(summary(whole)).toMatchObject({ head: 11, committedBytes: original.length, committedLines: 1 + 11 + 5 });
    expect((whole as VerifiedLog).chainsAt.size).toBe(5);
    for (const readBytes of [1, 2, 3, 7, 64, 100, 127, 128, 129, 500, original.length - 1]) {
      expect(summary(await walk(original, readBytes))).toEqual(summary(whole));
    }
  });

  it('names the same line for a changed byte, a removed line or a torn tail whatever the read size', async () => {
    const lines = original.toString('latin1').split('\n');
    await fc.assert(
      fc.asyncProperty(fc.nat(lines.length - 2), fc.nat(200), fc.constantFrom('flip', 'tab', 'remove', 'cut'), fc.oneof(fc.constantFrom(1, 2, 3), fc.integer({ min: 1, max: 300 })), async (lineIndex, column, damage, readBytes) => {
        const line = Math.max(1, lineIndex); // never the header
        let damaged: Buffer;
        if (damage === 'remove') {
          damaged = Buffer.from(lines.filter((_, i) => i !== line).join('\n'), 'latin1');
        } else if (damage === 'cut') {
          damaged = original.subarray(0, original.length - 1 - (column % 150));
        } else {
          const start = lines.slice(0, line).reduce((sum, text) => sum + text.length + 1, 0);
          const at = start + (column % Math.max(1, lines[line]!.length));
          damaged = Buffer.from(original);
          // a digit changed, or a TAB (the first byte of a commit record, never in an event line) in the middle of a line
          damaged[at] = damage === 'tab' ? 0x09 : damaged[at] === 0x30 ? 0x31 : 0x30;
        }
        const expected = summary(await walk(damaged));
        expect(summary(await walk(damaged, readBytes))).toEqual(expected);
        // vouched up to the fourth commit (position 10): a bad final batch is a torn batch, not an error
        expect(summary(await walk(damaged, readBytes, 10))).toEqual(summary(await walk(damaged, undefined, 10)));
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 1) * 60 },
    );
    fs.writeFileSync(file, original);
  });
});

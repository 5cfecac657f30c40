import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { encodeEvent, formatTimestamp } from '@clearsim/events';
import { columnInput, LINE_MARK, locatedInputs, type InputBatch } from '@clearsim/shard';
import { markColumnBatches } from './decode-thread';
import { jsonlBatches } from './input-source';

/** What a reader hands `run`, line by line (`line: canonical JSON`), then the error that ended it, if any. */
async function readAll(batches: AsyncIterable<InputBatch>): Promise<{ lines: string[]; error?: string }> {
  const lines: string[] = [];
  try {
    for await (const batch of batches) for (const { input, line } of locatedInputs(batch)) lines.push(`${line}: ${encodeEvent(input)}`);
  } catch (error) {
    return { lines, error: (error as Error).message };
  }
  return { lines };
}

/** The marks' log bytes and CRCs that the decode thread made: each is encodeEvent's line for the mark, and its CRC-32. */
async function checkMarkJson(batches: AsyncIterable<InputBatch>): Promise<number> {
  let marks = 0;
  try {
    for await (const batch of batches) {
      if (Array.isArray(batch) || !('kinds' in batch)) throw new Error('not MarkColumns');
      for (let i = 0; i < batch.count; i++) {
        if (batch.kinds[i] !== LINE_MARK) continue;
        const json = Buffer.from(batch.json!.subarray(batch.jsonStart![i], batch.jsonEnd![i]));
        expect(json.toString('latin1')).toBe(encodeEvent(columnInput(batch, i)!));
        expect(batch.crc![i]! >>> 0).toBe(crc32(json));
        marks++;
      }
    }
  } catch (error) {
    if (!(error instanceof Error && /line \d+/.test(error.message))) throw error;
  }
  return marks;
}

const T0 = Date.parse('2026-03-12T10:00:00Z');
const mark = (ms: number, instrument: string, price: string) => `{"ts":"${formatTimestamp(T0 + ms)}","type":"PriceUpdated","instrument":"${instrument}","price":"${price}"}`;

/** Lines of a venue day and of its mistakes: marks of the usual layout (valid and not), other inputs (valid and not), blank lines. */
const lineArb = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.integer({ min: 0, max: 200_000 }), fc.constantFrom('BTC-PERP', 'ETH-PERP', 'X'), fc.constantFrom('100', '0.5', '65000.12345678', '1', '999999999999999')).map(([ms, i, p]) => mark(ms, i, p)) },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.integer({ min: 0, max: 200_000 }), fc.constantFrom('BTC-PERP', 'ÉTH-PERP', 'A\\"B', ''), fc.constantFrom('0', '12x.5', '-1', '1.123456789', '1234567890123456', '1e5', '')).map(([ms, i, p]) => mark(ms, i, p)),
  },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 200_000 }).map((ms) => mark(ms, 'BTC-PERP', '100').replace('2026-03-12T', '2026-13-12T')) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 200_000 }).map((ms) => mark(ms, 'BTC-PERP', '100').replace('"price"', '"prize"')) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 200_000 }).map((ms) => `{"ts":"${formatTimestamp(T0 + ms)}","type":"Deposited","account":"a1","asset":"USD","amount":"100"}`) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 200_000 }).map((ms) => `{"ts":"${formatTimestamp(T0 + ms)}","type":"PriceUpdated","instrument":"BTC-PERP","price":"101","eventId":"e${ms}"}`) },
  { weight: 1, arbitrary: fc.constantFrom('{"type":"Deposited"}', 'not json', '{"ts":"2026-03-12T10:00:00Z","type":"Nope"}', '', '   ', '\t') },
);

describe('the decode thread (markColumnBatches) hands run what the single-thread reader does', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'clearsim-decode-thread-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the same inputs on the same lines, and the same error (file, line, field) where a line is refused', async () => {
    const file = join(dir, 'day.jsonl');
    await fc.assert(
      fc.asyncProperty(fc.array(lineArb, { maxLength: 40 }), fc.boolean(), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 16, max: 400 }), fc.integer({ min: 0, max: 6 }), async (lines, crlf, linesPerMessage, chunkBytes, handOverAfter) => {
        writeFileSync(file, lines.join(crlf ? '\r\n' : '\n'));
        const single = await readAll(jsonlBatches(file, { bytesRead: 0 }));
        const columns = await readAll(markColumnBatches(file, { bytesRead: 0 }, { thread: false, linesPerMessage, chunkBytes }));
        expect(columns).toEqual(single);
        await checkMarkJson(markColumnBatches(file, { bytesRead: 0 }, { thread: false, linesPerMessage, chunkBytes }));
        // the main thread decoding the first messages, then a second reader taking over after them (as the thread does)
        const handedOver = await readAll(markColumnBatches(file, { bytesRead: 0 }, { thread: 'in-process', handOverAfter, linesPerMessage, chunkBytes }));
        expect(handedOver).toEqual(single);
        await checkMarkJson(markColumnBatches(file, { bytesRead: 0 }, { thread: 'in-process', handOverAfter, linesPerMessage, chunkBytes }));
      }),
      { numRuns: 300 },
    );
  });

  it('a worked example: marks as columns with their log bytes, a deposit decoded by the schema, a refusal on line 5 after the lines before it', async () => {
    const file = join(dir, 'example.jsonl');
    const deposit = '{"ts":"2026-03-12T10:00:00Z","type":"Deposited","account":"a1","asset":"USD","amount":"100"}';
    writeFileSync(file, [mark(0, 'BTC-PERP', '65000.5'), '', deposit, mark(1500, 'BTC-PERP', '65001'), mark(2000, 'BTC-PERP', '12x.5'), mark(3000, 'BTC-PERP', '1')].join('\n') + '\n');
    const read = await readAll(markColumnBatches(file, { bytesRead: 0 }, { thread: false, linesPerMessage: 2 }));
    expect(read.lines).toEqual([
      '1: {"type":"PriceUpdated","v":1,"ts":"2026-03-12T10:00:00Z","instrument":"BTC-PERP","price":"65000.5"}',
      `3: ${encodeEvent({ type: 'Deposited', ts: T0, account: 'a1', asset: 'USD', amount: 10_000_000_000n })}`,
      '4: {"type":"PriceUpdated","v":1,"ts":"2026-03-12T10:00:01.500Z","instrument":"BTC-PERP","price":"65001"}',
    ]);
    expect(read.error).toBe(`${file}:line 5: field "price": "12x.5" is not a decimal number`);
    expect(await checkMarkJson(markColumnBatches(file, { bytesRead: 0 }, { thread: false, linesPerMessage: 2 }))).toBe(2);
  });

  it('a line too long for the reader is the reader\'s error, after the lines before it', async () => {
    const file = join(dir, 'long.jsonl');
    writeFileSync(file, `${mark(0, 'BTC-PERP', '1')}\n${'x'.repeat(20 << 20)}\n`);
    const read = await readAll(markColumnBatches(file, { bytesRead: 0 }, { thread: false }));
    expect(read.lines).toHaveLength(1);
    expect(read.error).toBe(`${file}:line 2: line longer than 16777216 characters`);
  });
});

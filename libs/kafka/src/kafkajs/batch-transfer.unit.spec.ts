import { createRequire } from 'node:module';
import { join } from 'node:path';
import fc from 'fast-check';
import type { InboundMessage } from '../kafka.port';
import { decodePriceUpdateBytes } from '@clearsim/events';
import { packBatch, PriceColumns, unpackBatch, type PackableMessage } from './batch-transfer';
import { fastBatch, fastDecodeMessages, FetchedRecord, kafkaJsDecoding } from './fast-records';
import { readHeaders } from './kafkajs-ports';

/**
 * The consumer thread's path (fast-records.ts decoding a fetch, batch-transfer.ts packing it into one
 * buffer and unpacking it on the clearing thread) against kafkajs's own: record batches are encoded with
 * kafkajs's encoder, decoded by kafkajs's decodeMessages and by the fast one, and both packed and
 * unpacked; every path must give the messages KafkaJsInputsConsumer makes of kafkajs's records.
 */

const { original, recordBatchDecoder, Decoder, Batch, root } = kafkaJsDecoding();
const FastBatch = fastBatch(Batch);
const load = createRequire(__filename);
const { RecordBatch } = load(join(root, 'src/protocol/recordBatch/v0/index.js')) as { RecordBatch: (spec: Record<string, unknown>) => Promise<{ buffer: Buffer }> };
const Record = load(join(root, 'src/protocol/recordBatch/record/v0/index.js')) as (spec: Record<string, unknown>) => unknown;
const Long = load(join(root, 'src/utils/long.js')) as { fromValue(value: bigint): unknown };
const fast = fastDecodeMessages(original, recordBatchDecoder, Decoder);

interface SpecRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string | string[]>;
  timestampDelta: number;
}
interface SpecBatch {
  /** Offsets skipped before this batch (compaction leaves gaps). */
  gap: number;
  gzip: boolean;
  records: SpecRecord[];
}

const bytes = (max: number) => fc.option(fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b)), { nil: null, freq: 4 });
const headerName = fc.string({ minLength: 1, maxLength: 6 });
const headerValue = fc.string({ maxLength: 8 });
const specRecord: fc.Arbitrary<SpecRecord> = fc.record({
  key: bytes(12),
  value: bytes(60),
  headers: fc.oneof(fc.constant({}), fc.dictionary(headerName, fc.oneof(headerValue, fc.array(headerValue, { minLength: 1, maxLength: 3 })), { maxKeys: 3 })),
  timestampDelta: fc.integer({ min: 0, max: 100_000 }),
});
const specBatch: fc.Arbitrary<SpecBatch> = fc.record({ gap: fc.nat({ max: 3 }), gzip: fc.boolean(), records: fc.array(specRecord, { minLength: 1, maxLength: 6 }) });

/** The bytes of a fetch response's records for one partition (int32 size, then the batches), as the broker sends them. */
async function fetchedBytes(firstOffset: bigint, batches: readonly SpecBatch[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  let offset = firstOffset;
  for (const batch of batches) {
    offset += BigInt(batch.gap);
    const encoded = await RecordBatch({
      compression: batch.gzip ? 1 : 0,
      firstOffset: Long.fromValue(offset),
      firstTimestamp: 1_780_000_000_000,
      maxTimestamp: 1_780_000_100_000,
      lastOffsetDelta: batch.records.length - 1,
      records: batch.records.map((r, i) => Record({ offsetDelta: i, timestampDelta: r.timestampDelta, key: r.key, value: r.value, headers: r.headers })),
    });
    parts.push(encoded.buffer);
    offset += BigInt(batch.records.length);
  }
  const body = Buffer.concat(parts);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

/** kafkajs's headers with every value as a string (repeated names keep their arrays). */
const rawHeaders = (headers: PackableMessage['headers']) =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([name, v]) => [name, Array.isArray(v) ? v.map(String) : String(v)]));

type KafkaJsRecord = PackableMessage & { timestamp: string; isControlRecord: boolean };

/** What KafkaJsInputsConsumer makes of a kafkajs record. */
const asInbound = (m: KafkaJsRecord): InboundMessage => ({ topic: 't', partition: 3, offset: m.offset, key: m.key ? m.key.toString() : null, value: m.value, headers: readHeaders(m.headers) });

/** The port's fields of each message (the unpacked ones make `offset` and `value` when read: getters, not own fields). */
const plain = (messages: readonly InboundMessage[]) =>
  messages.map((m) => ({ topic: m.topic, partition: m.partition, offset: m.offset, key: m.key, value: m.value === null ? null : Buffer.from(m.value).toString('hex'), headers: { ...m.headers } }));

async function decodeBoth(firstOffset: bigint, batches: readonly SpecBatch[]): Promise<{ kafkajs: KafkaJsRecord[]; ours: KafkaJsRecord[] }> {
  const fetched = await fetchedBytes(firstOffset, batches);
  const kafkajs = (await original(new Decoder(fetched))) as KafkaJsRecord[];
  const ours = (await fast(new Decoder(fetched))) as KafkaJsRecord[];
  return { kafkajs, ours };
}

describe('the consumer thread decodes and transfers fetched records as kafkajs has them', () => {
  it('fast-records.ts gives kafkajs records (offsets, keys, values, headers, timestamps); packed and unpacked, the messages KafkaJsInputsConsumer makes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 40n }), fc.constant(2n ** 53n - 3n), fc.constant(2n ** 62n)), fc.array(specBatch, { minLength: 1, maxLength: 4 }), async (firstOffset, batches) => {
        const { kafkajs, ours } = await decodeBoth(firstOffset, batches);
        expect(ours.length).toBe(kafkajs.length);
        for (let i = 0; i < kafkajs.length; i++) {
          const [a, b] = [kafkajs[i]!, ours[i]!];
          expect(b.offset).toBe(a.offset);
          expect(b.key === null ? null : b.key!.toString('hex')).toBe(a.key === null ? null : a.key!.toString('hex'));
          expect(b.value === null ? null : b.value.toString('hex')).toBe(a.value === null ? null : a.value.toString('hex'));
          expect(b.timestamp).toBe(a.timestamp);
          expect(b.isControlRecord).toBe(false);
          expect(rawHeaders(b.headers)).toEqual(rawHeaders(a.headers));
        }
        // kafkajs's Batch and ours keep the same records from any fetched offset (a fetch returns whole record batches)
        const total = kafkajs.length;
        for (const skip of [0, 1, Math.floor(total / 2), total]) {
          const fetchedOffset = kafkajs[Math.min(skip, total - 1)]!.offset;
          const theirs = new Batch('t', skip === total ? (BigInt(kafkajs[total - 1]!.offset) + 1n).toString() : fetchedOffset, { messages: kafkajs });
          const mine = new FastBatch('t', skip === total ? (BigInt(ours[total - 1]!.offset) + 1n).toString() : fetchedOffset, { messages: ours });
          expect((mine.messages as KafkaJsRecord[]).map((m) => m.offset)).toEqual((theirs.messages as KafkaJsRecord[]).map((m) => m.offset));
          expect(mine.messagesWithinOffset.length).toBe(theirs.messagesWithinOffset.length);
        }
        const expected = plain(kafkajs.map(asInbound));
        for (const records of [kafkajs, ours]) {
          const { buffer, length } = packBatch(records);
          expect(plain(unpackBatch('t', 3, buffer, length))).toEqual(expected);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('plain batches with offsets below 2^53 take the fast path; gzip and offsets past 2^53 are kafkajs own', async () => {
    const record: SpecRecord = { key: Buffer.from('k'), value: Buffer.from('{"a":1}'), headers: {}, timestampDelta: 0 };
    const low = await decodeBoth(100n, [{ gap: 0, gzip: false, records: [record, record] }, { gap: 0, gzip: true, records: [record] }]);
    expect(low.ours.map((r) => r instanceof FetchedRecord)).toEqual([true, true, false]);
    expect(low.ours.map((r) => r.offset)).toEqual(['100', '101', '102']);
    const high = await decodeBoth(2n ** 62n, [{ gap: 0, gzip: false, records: [record] }]);
    expect(high.ours[0]).not.toBeInstanceOf(FetchedRecord);
    expect(high.ours[0]!.offset).toBe('4611686018427387904');
  });

  it('a packed buffer is reused when large enough, and the batch read back from its first `length` bytes', () => {
    const first = packBatch([{ offset: '7', key: null, value: Buffer.from('x'.repeat(100)) }]);
    const second = packBatch([{ offset: '8', key: Buffer.from('ß'), value: null, headers: { h: Buffer.from('v'), twice: [Buffer.from('a'), Buffer.from('b')] } }], first.buffer);
    expect(second.buffer).toBe(first.buffer);
    expect(plain(unpackBatch('t', 0, second.buffer, second.length))).toEqual([{ topic: 't', partition: 0, offset: '8', key: 'ß', value: null, headers: { h: 'v', twice: 'b' } }]);
  });

  it('decodes the price updates as it packs them: the price columns hold decodePriceUpdateBytes of each value (none where it answers nothing), across batches handed over together', () => {
    // values the fast decoder takes (its layouts), ones it leaves to the full codec, and junk
    const instrument = fc.constantFrom('BTC-PERP', 'ETH-PERP', 'SOL-USD-20261231', 'BTC-PERP ', 'é-PERP');
    const ts = fc.constantFrom('2026-01-01T00:00:00Z', '2026-03-04T05:06:07.123Z', '2026-02-30T00:00:00Z', '2026-01-01');
    const price = fc.oneof(fc.nat({ max: 10_000_000 }).map(String), fc.constantFrom('0', '0.1', '12.12345678', '1.123456789', '1e5', '-1', '123456789012345678', '90071992547.40991'));
    const value = fc.oneof(
      fc.tuple(ts, instrument, price).map(([t, i, p]) => `{"type":"PriceUpdated","v":1,"ts":"${t}","instrument":"${i}","price":"${p}"}`),
      fc.tuple(ts, instrument, price).map(([t, i, p]) => JSON.stringify({ type: 'PriceUpdated', ts: t, instrument: i, price: p })),
      fc.tuple(ts, instrument, price).map(([t, i, p]) => JSON.stringify({ ts: t, type: 'PriceUpdated', instrument: i, price: p })),
      fc.tuple(ts, instrument, price).map(([t, i, p]) => JSON.stringify({ type: 'PriceUpdated', ts: t, instrument: i, price: p }, null, 1)),
      fc.string({ maxLength: 120 }),
    );
    const message = fc.record({ value: fc.option(value.map((v) => Buffer.from(v)), { nil: null, freq: 8 }), headers: fc.option(fc.constant({ 'schema-version': '1' }), { nil: undefined }) });
    const batch = fc.tuple(fc.oneof(fc.nat({ max: 1_000_000 }), fc.constant(2 ** 53 - 2)), fc.array(message, { minLength: 1, maxLength: 12 }));
    let columns = 0;
    fc.assert(
      fc.property(fc.array(batch, { minLength: 1, maxLength: 3 }), (batches) => {
        const prices = new PriceColumns();
        const messages: InboundMessage[] = [];
        const expected: InboundMessage[] = [];
        for (const [first, records] of batches) {
          // an offset past 2^53 makes the batch's offsets strings: no columns for it
          const packable = records.map((r, i) => ({ offset: (BigInt(first) + BigInt(i) * 2n).toString(), key: null, value: r.value, headers: r.headers }));
          const { buffer, length } = packBatch(packable);
          unpackBatch('t', 1, buffer, length, messages, prices);
          expected.push(...packable.map((m) => ({ topic: 't', partition: 1, offset: m.offset, key: null, value: m.value, headers: m.headers ?? {} })));
        }
        expect(plain(messages)).toEqual(plain(expected));
        expect(prices.count).toBe(messages.length);
        for (let i = 0; i < messages.length; i++) {
          const { value, offset } = messages[i]!;
          const decoded = value === null ? undefined : decodePriceUpdateBytes(value, 0, value.length);
          const k = prices.instrument[i]!;
          if (k < 0) {
            // only a batch with an offset past 2^53 leaves a price update undecoded
            if (decoded !== undefined) expect(Number.isSafeInteger(Number(offset) + 12)).toBe(false);
            continue;
          }
          expect({ type: 'PriceUpdated', ts: prices.ts[i], instrument: prices.names[k], price: BigInt(prices.units[i]!) }).toEqual(decoded);
          expect(prices.offsets[i]).toBe(Number(offset));
          columns++;
        }
      }),
      { numRuns: 300 },
    );
    expect(columns).toBeGreaterThan(100);
  });
});

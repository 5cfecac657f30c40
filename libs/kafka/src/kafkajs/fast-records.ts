import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The record decoding of the consumer thread. kafkajs decodes every record of
 * a fetch into an object whose offset and timestamp it computes with BigInt
 * arithmetic from the batch's decimal strings (a `BigInt(string)`, an add and
 * a `toString` each, per record), and whose key, value and headers are Buffer
 * slices: most of the consumer thread's CPU. Here a record batch (Kafka's
 * "RecordBatch", magic 2, as the protocol documents it) that is uncompressed
 * and neither transactional nor a control batch is read directly: offsets
 * as numbers (exact below 2^53, checked per batch), the key and value kept
 * as positions in the fetched buffer (Buffer views made only when asked for;
 * `packBatch` copies them from their positions), the timestamp computed only
 * when asked for. Anything else (compressed, transactional or control
 * batches, a batch whose offsets pass 2^53, the old message-set formats)
 * goes through kafkajs's own decoder, unchanged.
 *
 * kafkajs offers no hook for this: `installFastRecordDecoding` replaces the
 * module all its fetch versions (4–11) decode records with
 * (`src/protocol/requests/fetch/v4/decodeMessages.js`) and its consumer's
 * Batch (`src/consumer/batch.js`, see fastBatch), in the module cache
 * of the thread that calls it, before kafkajs is loaded there, and only for
 * the kafkajs version it was written against (any other keeps kafkajs's own).
 */

/** The kafkajs version whose fetch decoding this replaces. */
export const FAST_RECORDS_KAFKAJS_VERSION = '2.2.4';

const MAGIC_V2 = 2;
const COMPRESSION_MASK = 0x07;
const TIMESTAMP_TYPE_MASK = 0x08;
const TRANSACTIONAL_MASK = 0x10;
const CONTROL_MASK = 0x20;
/** kafkajs's floor for reading another batch (its RECORD_BATCH_OVERHEAD): below it the tail is left unread. */
const RECORD_BATCH_OVERHEAD = 49;
/** baseOffset, batchLength: the part of a batch before what batchLength counts. */
const LOG_OVERHEAD = 12;
/** Where a v2 batch's fields sit, from its start. */
const AT = { magic: 16, attributes: 21, firstTimestamp: 27, maxTimestamp: 35, producerId: 43, producerEpoch: 51, firstSequence: 53, count: 57, records: 61, partitionLeaderEpoch: 12, lastOffsetDelta: 23 } as const;

/** What kafkajs puts in a record's `batchContext` (the same fields, as strings where it has strings). */
export interface FetchedBatchContext {
  firstOffset: string;
  firstTimestamp: string;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  maxTimestamp: string;
  timestampType: number;
  magicByte: number;
}

type KafkaJsHeaders = Record<string, Buffer | null | (Buffer | null)[]>;

/** No headers: one frozen object shared. */
const NO_HEADERS: KafkaJsHeaders = Object.freeze({}) as KafkaJsHeaders;

/**
 * A record with kafkajs's fields (`offset`, `key`, `value`, `headers`, `timestamp`, `isControlRecord`,
 * `batchContext`, …), the key and value read from the fetched buffer on demand.
 */
export class FetchedRecord {
  readonly magicByte = MAGIC_V2;
  readonly isControlRecord = false;
  constructor(
    readonly buffer: Buffer,
    readonly batchContext: FetchedBatchContext,
    readonly attributes: number,
    readonly offset: string,
    /** The offset as a number (exact: the fast path takes only batches whose offsets are below 2^53). */
    readonly offsetNumber: number,
    private readonly timestampDelta: number,
    /** Start and end of the key in `buffer` (start −1: null). */
    readonly keyStart: number,
    readonly keyEnd: number,
    /** Start and end of the value in `buffer` (start −1: null). */
    readonly valueStart: number,
    readonly valueEnd: number,
    readonly headers: KafkaJsHeaders,
  ) {}

  get key(): Buffer | null {
    return this.keyStart < 0 ? null : this.buffer.subarray(this.keyStart, this.keyEnd);
  }

  get value(): Buffer | null {
    return this.valueStart < 0 ? null : this.buffer.subarray(this.valueStart, this.valueEnd);
  }

  get timestamp(): string {
    const { timestampType, maxTimestamp, firstTimestamp } = this.batchContext;
    // kafkajs: the batch's max timestamp for log-append time, else the first plus the delta
    if (timestampType === 1 && maxTimestamp) return maxTimestamp;
    return (BigInt(firstTimestamp) + BigInt(this.timestampDelta)).toString();
  }
}

/** A cursor over a buffer, reading Kafka's zig-zag varints. */
class Cursor {
  constructor(
    readonly buffer: Buffer,
    public at: number,
  ) {}

  /** A zig-zag varint or varlong as a number (exact up to 2^53, far past any length or delta a batch holds). */
  varint(): number {
    const buffer = this.buffer;
    let byte = buffer[this.at++]!;
    let value = byte & 0x7f;
    let scale = 128;
    while (byte & 0x80) {
      byte = buffer[this.at++]!;
      value += (byte & 0x7f) * scale;
      scale *= 128;
    }
    return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
  }
}

/**
 * The records of a v2 batch that the fast path takes, from `start` (where its baseOffset is), or undefined
 * when it does not take it (compressed, transactional, control, or offsets past 2^53).
 */
function decodePlainBatch(buffer: Buffer, start: number, end: number): FetchedRecord[] | undefined {
  const attributes = buffer.readInt16BE(start + AT.attributes);
  if ((attributes & (COMPRESSION_MASK | TRANSACTIONAL_MASK | CONTROL_MASK)) !== 0) return undefined;
  const baseOffset = buffer.readBigInt64BE(start);
  const lastOffsetDelta = buffer.readInt32BE(start + AT.lastOffsetDelta);
  const first = Number(baseOffset);
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(first + lastOffsetDelta)) return undefined;
  const context: FetchedBatchContext = {
    firstOffset: baseOffset.toString(),
    firstTimestamp: buffer.readBigInt64BE(start + AT.firstTimestamp).toString(),
    partitionLeaderEpoch: buffer.readInt32BE(start + AT.partitionLeaderEpoch),
    inTransaction: false,
    isControlBatch: false,
    lastOffsetDelta,
    producerId: buffer.readBigInt64BE(start + AT.producerId).toString(),
    producerEpoch: buffer.readInt16BE(start + AT.producerEpoch),
    firstSequence: buffer.readInt32BE(start + AT.firstSequence),
    maxTimestamp: buffer.readBigInt64BE(start + AT.maxTimestamp).toString(),
    timestampType: (attributes & TIMESTAMP_TYPE_MASK) !== 0 ? 1 : 0,
    magicByte: MAGIC_V2,
  };
  const count = buffer.readInt32BE(start + AT.count);
  const records = new Array<FetchedRecord>(count > 0 ? count : 0);
  const cursor = new Cursor(buffer, start + AT.records);
  for (let i = 0; i < count; i++) {
    const length = cursor.varint();
    const recordEnd = cursor.at + length;
    if (recordEnd > end) throw new Error(`a record of the batch at offset ${context.firstOffset} runs past its batch`);
    const recordAttributes = buffer.readInt8(cursor.at++);
    const timestampDelta = cursor.varint();
    const offsetDelta = cursor.varint();
    const keyLength = cursor.varint();
    const keyStart = keyLength < 0 ? -1 : cursor.at;
    if (keyLength > 0) cursor.at += keyLength;
    const valueLength = cursor.varint();
    const valueStart = valueLength < 0 ? -1 : cursor.at;
    if (valueLength > 0) cursor.at += valueLength;
    const headerCount = cursor.varint();
    let headers = NO_HEADERS;
    if (headerCount > 0) {
      headers = {};
      for (let h = 0; h < headerCount; h++) {
        const nameLength = cursor.varint();
        const name = buffer.toString('utf8', cursor.at, cursor.at + nameLength);
        cursor.at += nameLength;
        const headerLength = cursor.varint();
        let value: Buffer | null = null;
        if (headerLength >= 0) {
          value = buffer.subarray(cursor.at, cursor.at + headerLength);
          cursor.at += headerLength;
        }
        // kafkajs: a repeated name collects its values in an array, in order
        const seen = headers[name];
        headers[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
      }
    }
    if (cursor.at !== recordEnd) throw new Error(`a record of the batch at offset ${context.firstOffset} is ${length} bytes, but its fields end ${cursor.at - recordEnd} bytes past that`);
    records[i] = new FetchedRecord(buffer, context, recordAttributes, String(first + offsetDelta), first + offsetDelta, timestampDelta, keyStart, keyStart < 0 ? -1 : keyStart + keyLength, valueStart, valueStart < 0 ? -1 : valueStart + valueLength, headers);
  }
  return records;
}

/** kafkajs's Decoder, as far as this uses it. */
interface KafkaJsDecoder {
  buffer: Buffer;
  offset: number;
  readInt32(): number;
  canReadBytes(length: number): boolean;
  readBytes(length: number): Buffer;
}

/** What kafkajs's record-batch decoder (`recordBatch/v0/decoder.js`) is: it reads one batch from a decoder. */
type RecordBatchDecoder = (decoder: KafkaJsDecoder) => Promise<{ records: unknown[] }>;
type DecoderClass = new (buffer: Buffer) => KafkaJsDecoder;

/**
 * The records of a fetch response's partition ("messages", as kafkajs's decodeMessages reads them): the
 * same records kafkajs's decoder gives (offsets, keys, values, headers, timestamps), faster for plain batches.
 */
export function fastDecodeMessages(original: (decoder: KafkaJsDecoder) => Promise<unknown[]>, recordBatchDecoder: RecordBatchDecoder, Decoder: DecoderClass) {
  return async (decoder: KafkaJsDecoder): Promise<unknown[]> => {
    const at = decoder.offset;
    const buffer = decoder.buffer;
    // the old message-set formats (magic 0 and 1), or not enough bytes to tell: kafkajs's own path
    if (buffer.length - at < 4 + AT.magic + 1 || buffer[at + 4 + AT.magic] !== MAGIC_V2) return original(decoder);
    const size = decoder.readInt32();
    if (size <= 0 || !decoder.canReadBytes(size)) return [];
    const messages = decoder.readBytes(size);
    const records: unknown[] = [];
    let start = 0;
    while (messages.length - start >= RECORD_BATCH_OVERHEAD) {
      const end = start + LOG_OVERHEAD + messages.readInt32BE(start + 8);
      // the tail can be a partial batch (a fetch stops at its byte limit): left for the next fetch, as kafkajs does
      if (end > messages.length) break;
      const plain = messages[start + AT.magic] === MAGIC_V2 ? decodePlainBatch(messages, start, end) : undefined;
      if (plain !== undefined) {
        for (let i = 0; i < plain.length; i++) records.push(plain[i]);
      } else {
        const batch = await recordBatchDecoder(new Decoder(messages.subarray(start, end)));
        for (const record of batch.records) records.push(record);
      }
      start = end;
    }
    return records;
  };
}

/** kafkajs's Batch (`src/consumer/batch.js`), as far as this uses it. */
type BatchClass = new (topic: string, fetchedOffset: string, partitionData: { messages: unknown[]; abortedTransactions?: unknown[] }) => {
  rawMessages: unknown[];
  messagesWithinOffset: unknown[];
  messages: unknown[];
};

/**
 * kafkajs's Batch, for fetches of FetchedRecords only: kafkajs drops the records before the fetched
 * offset (a fetch returns whole record batches) with a BigInt parse of every record's offset string, and
 * then those of aborted transactions and control records; FetchedRecords come only from plain batches
 * (neither transactional nor control), so what is left is the records at or past the fetched offset,
 * compared as numbers. Any other fetch (kafkajs's own records among them, aborted transactions listed,
 * an offset past 2^53) goes through kafkajs's Batch unchanged.
 */
export function fastBatch(Batch: BatchClass): BatchClass {
  return class FastBatch extends Batch {
    constructor(topic: string, fetchedOffset: string, partitionData: { messages: unknown[]; abortedTransactions?: unknown[] }) {
      const all = partitionData.messages;
      const from = Number(fetchedOffset);
      const plain = Number.isSafeInteger(from) && !(partitionData.abortedTransactions?.length ?? 0) && all.every((m) => m instanceof FetchedRecord);
      super(topic, fetchedOffset, plain ? { ...partitionData, messages: [] } : partitionData);
      if (!plain) return;
      let first = 0;
      while (first < all.length && (all[first] as FetchedRecord).offsetNumber < from) first++;
      this.rawMessages = all;
      this.messagesWithinOffset = first === 0 ? all : all.slice(first);
      this.messages = this.messagesWithinOffset;
    }
  };
}

/**
 * Makes kafkajs, once loaded in this thread, decode fetched records with `fastDecodeMessages`. Call it
 * before anything in the thread loads kafkajs. Returns whether it did (false: another kafkajs version, or
 * its files are not where 2.2.4 has them; kafkajs's own decoding stays).
 */
export function installFastRecordDecoding(): boolean {
  const load = createRequire(__filename);
  let root: string;
  try {
    root = dirname(load.resolve('kafkajs/package.json'));
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    if (version !== FAST_RECORDS_KAFKAJS_VERSION) return false;
  } catch {
    return false;
  }
  const decodeMessagesPath = join(root, 'src/protocol/requests/fetch/v4/decodeMessages.js');
  if (load.cache[decodeMessagesPath] !== undefined) return false; // too late: kafkajs already holds its own
  const original = load(decodeMessagesPath) as (decoder: KafkaJsDecoder) => Promise<unknown[]>;
  const recordBatchDecoder = load(join(root, 'src/protocol/recordBatch/v0/decoder.js')) as RecordBatchDecoder;
  const Decoder = load(join(root, 'src/protocol/decoder.js')) as DecoderClass;
  const batchPath = join(root, 'src/consumer/batch.js');
  if (load.cache[batchPath] !== undefined) return false;
  const Batch = load(batchPath) as BatchClass;
  load.cache[decodeMessagesPath]!.exports = fastDecodeMessages(original, recordBatchDecoder, Decoder);
  load.cache[batchPath]!.exports = fastBatch(Batch);
  return true;
}

/** kafkajs's own decodeMessages and what it needs, for tests comparing the two. */
export function kafkaJsDecoding(): { original: (decoder: KafkaJsDecoder) => Promise<unknown[]>; recordBatchDecoder: RecordBatchDecoder; Decoder: DecoderClass; Batch: BatchClass; root: string } {
  const load = createRequire(__filename);
  const root = dirname(load.resolve('kafkajs/package.json'));
  return {
    root,
    original: load(join(root, 'src/protocol/requests/fetch/v4/decodeMessages.js')) as (decoder: KafkaJsDecoder) => Promise<unknown[]>,
    recordBatchDecoder: load(join(root, 'src/protocol/recordBatch/v0/decoder.js')) as RecordBatchDecoder,
    Decoder: load(join(root, 'src/protocol/decoder.js')) as DecoderClass,
    Batch: load(join(root, 'src/consumer/batch.js')) as BatchClass,
  };
}

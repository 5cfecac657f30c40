import type { IHeaders } from 'kafkajs';
import type { InboundMessage, MessageHeaders } from '../kafka.port';
import { FetchedRecord } from './fast-records';

/** A fetched record as the consumer thread has it: kafkajs's (offset, key, value, headers), or a FetchedRecord (its key and value copied from their positions). */
export interface PackableMessage {
  /** Kafka's int64 offset as a decimal string (kafkajs's form). */
  offset: string;
  key?: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

const NULL_LENGTH = -1;
/** Flag: the offsets are written as strings (one of them is past 2^53, which a float64 cannot hold exactly). */
const STRING_OFFSETS = 1;
/** The headers of a message that has none: one frozen object shared. */
const NO_HEADERS: MessageHeaders = Object.freeze({});
/** count, flags, where the data part starts. */
const HEAD = 12;

/** A record's headers as the port has them (strings; a repeated name's last value), as KafkaJsInputsConsumer reads them. */
function headersOf(m: PackableMessage): MessageHeaders {
  const raw = m.headers;
  if (raw === undefined) return NO_HEADERS;
  let out: MessageHeaders | undefined;
  for (const name in raw) {
    const v = raw[name];
    const s = v === undefined ? undefined : Array.isArray(v) ? String(v[v.length - 1]) : v.toString();
    if (s !== undefined) (out ??= {})[name] = s;
  }
  return out ?? NO_HEADERS;
}

/** A stretch of a fetched buffer copied whole into the data part (every key and value of a fetch's plain records). */
interface Span {
  buffer: Buffer;
  start: number;
  end: number;
  /** Where it lands in the packed buffer. */
  at: number;
}

/**
 * Packs a fetched batch into one ArrayBuffer, so the consumer thread
 * transfers it to the clearing thread instead of cloning a message object
 * per record. Layout, little-endian: u32 count, u32 flags, u32 where the data
 * part starts; then per message the offset (a float64, or with
 * STRING_OFFSETS a u16 length + ASCII digits), i32 key position (−1: null),
 * i32 key length, i32 value position (−1: null), i32 value length, u16 header
 * count + per header u32 length + name (UTF-8), u32 length + value (UTF-8);
 * then the data part: the keys and values. The keys and values of records
 * decoded by fast-records.ts are copied as the one stretch of the fetched
 * bytes that holds them (one copy per fetch, not two per record); others one
 * by one. `reuse` is a buffer the clearing thread sent back (used when large
 * enough; else a new one is made). Returns the buffer and how many of its
 * bytes hold the batch.
 */
export function packBatch(messages: readonly PackableMessage[], reuse?: ArrayBuffer): { buffer: ArrayBuffer; length: number } {
  let stringOffsets = false;
  for (let i = 0; i < messages.length; i++) {
    // offsets up to 2^53 are exact as a float64 (every offset a partition reaches in practice)
    const offset = messages[i]!.offset;
    if (offset.length > 15 && !Number.isSafeInteger(Number(offset))) stringOffsets = true;
  }
  const headers = messages.map(headersOf);
  // the index part's size, and the data part's: the spans of fetched buffers, then the other keys and values
  let indexSize = HEAD;
  let looseSize = 0;
  const spans: Span[] = [];
  let span: Span | undefined;
  /** The span of each fetched record's bytes (−1: none). */
  const spanOf = new Int32Array(messages.length).fill(-1);
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    indexSize += (stringOffsets ? 2 + m.offset.length : 8) + 16 + 2;
    const h = headers[i]!;
    if (h !== NO_HEADERS) for (const name in h) indexSize += 8 + Buffer.byteLength(name, 'utf8') + Buffer.byteLength(h[name]!, 'utf8');
    if (m instanceof FetchedRecord) {
      const from = m.keyStart >= 0 ? m.keyStart : m.valueStart >= 0 ? m.valueStart : -1;
      const to = m.valueStart >= 0 ? m.valueEnd : m.keyEnd;
      if (from < 0) continue;
      if (span === undefined || span.buffer !== m.buffer || from < span.end) spans.push((span = { buffer: m.buffer, start: from, end: to, at: 0 }));
      else span.end = to;
      spanOf[i] = spans.length - 1;
    } else {
      looseSize += (m.key?.length ?? 0) + (m.value?.length ?? 0);
    }
  }
  let dataSize = looseSize;
  for (const stretch of spans) {
    stretch.at = indexSize + dataSize - looseSize;
    dataSize += stretch.end - stretch.start;
  }
  const size = indexSize + dataSize;
  // a buffer of its own (Buffer.allocUnsafe may hand out a slice of the shared pool, which cannot be transferred)
  const buffer = reuse !== undefined && reuse.byteLength >= size ? reuse : new ArrayBuffer(Math.max(size, 64 * 1024));
  const out = Buffer.from(buffer, 0, size);
  out.writeUInt32LE(messages.length, 0);
  out.writeUInt32LE(stringOffsets ? STRING_OFFSETS : 0, 4);
  out.writeUInt32LE(indexSize, 8);
  for (const stretch of spans) stretch.buffer.copy(out, stretch.at, stretch.start, stretch.end);
  let loose = indexSize + dataSize - looseSize;
  let at = HEAD;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (stringOffsets) {
      at = out.writeUInt16LE(m.offset.length, at);
      at += out.write(m.offset, at, 'latin1');
    } else {
      at = out.writeDoubleLE(m instanceof FetchedRecord ? m.offsetNumber : Number(m.offset), at);
    }
    if (m instanceof FetchedRecord) {
      const stretch = spans[spanOf[i]!];
      at = writePosition(out, at, m.keyStart < 0 ? -1 : stretch!.at + m.keyStart - stretch!.start, m.keyEnd - m.keyStart);
      at = writePosition(out, at, m.valueStart < 0 ? -1 : stretch!.at + m.valueStart - stretch!.start, m.valueEnd - m.valueStart);
    } else {
      for (const bytes of [m.key ?? null, m.value]) {
        if (bytes === null) {
          at = writePosition(out, at, -1, 0);
        } else {
          at = writePosition(out, at, loose, bytes.length);
          loose += bytes.copy(out, loose);
        }
      }
    }
    const h = headers[i]!;
    const headersAt = at;
    let count = 0;
    at += 2;
    if (h !== NO_HEADERS) {
      for (const name in h) {
        count++;
        at = writeString(out, at, name);
        at = writeString(out, at, h[name]!);
      }
    }
    out.writeUInt16LE(count, headersAt);
  }
  if (at !== indexSize || loose !== size) throw new Error(`packing a batch of ${messages.length} message(s): wrote ${at} + ${loose} bytes, expected ${indexSize} + ${size}`);
  return { buffer, length: size };
}

function writePosition(out: Buffer, at: number, position: number, length: number): number {
  at = out.writeInt32LE(position, at);
  return out.writeInt32LE(position < 0 ? 0 : length, at);
}

function writeString(out: Buffer, at: number, text: string): number {
  const length = out.write(text, at + 4, 'utf8');
  out.writeUInt32LE(length, at);
  return at + 4 + length;
}

/**
 * The messages of a packed batch, appended to `into`. Values are views of
 * `buffer` (no copy): they are valid until the buffer is handed back to the
 * consumer thread. Keys, offsets and headers are strings, as the port has them.
 */
export function unpackBatch(topic: string, partition: number, buffer: ArrayBuffer, length: number, into: InboundMessage[] = []): InboundMessage[] {
  const bytes = Buffer.from(buffer, 0, length);
  const count = bytes.readUInt32LE(0);
  const stringOffsets = (bytes.readUInt32LE(4) & STRING_OFFSETS) !== 0;
  const indexEnd = bytes.readUInt32LE(8);
  let at = HEAD;
  for (let i = 0; i < count; i++) {
    let offset: string;
    if (stringOffsets) {
      const offsetLength = bytes.readUInt16LE(at);
      offset = bytes.toString('latin1', at + 2, at + 2 + offsetLength);
      at += 2 + offsetLength;
    } else {
      offset = String(bytes.readDoubleLE(at));
      at += 8;
    }
    const keyAt = bytes.readInt32LE(at);
    const key = keyAt === NULL_LENGTH ? null : bytes.toString('utf8', keyAt, keyAt + bytes.readInt32LE(at + 4));
    const valueAt = bytes.readInt32LE(at + 8);
    const value = valueAt === NULL_LENGTH ? null : bytes.subarray(valueAt, valueAt + bytes.readInt32LE(at + 12));
    at += 16;
    const headerCount = bytes.readUInt16LE(at);
    at += 2;
    let headers = NO_HEADERS;
    if (headerCount > 0) {
      headers = {};
      for (let h = 0; h < headerCount; h++) {
        const nameLength = bytes.readUInt32LE(at);
        const name = bytes.toString('utf8', at + 4, at + 4 + nameLength);
        at += 4 + nameLength;
        const valueBytes = bytes.readUInt32LE(at);
        headers[name] = bytes.toString('utf8', at + 4, at + 4 + valueBytes);
        at += 4 + valueBytes;
      }
    }
    into.push({ topic, partition, offset, key, value, headers });
  }
  if (at !== indexEnd) throw new Error(`a packed batch of ${count} message(s) has its index end at byte ${indexEnd}, but its messages end at byte ${at}`);
  return into;
}

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
/** Flag: some message has headers (else the batch has no variable part). */
const HAS_HEADERS = 2;
/** The headers of a message that has none: one frozen object shared. */
const NO_HEADERS: MessageHeaders = Object.freeze({});
/** count, flags, where the variable part starts, where the data part starts (16 bytes: the float64s after it are aligned). */
const HEAD = 16;

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
 * per record. Layout (little-endian, the typed arrays aligned): u32 count,
 * u32 flags, u32 where the variable part starts, u32 where the data part
 * starts; a float64 offset per message (NaN with STRING_OFFSETS); four
 * int32s per message: key position (−1: null), key length, value position
 * (−1: null), value length; the variable part, only with STRING_OFFSETS or
 * HAS_HEADERS: per message (u16 length + ASCII offset digits with
 * STRING_OFFSETS) u16 header count + per header u32 length + name (UTF-8),
 * u32 length + value (UTF-8); then the data part: the keys and values. The
 * keys and values of records decoded by fast-records.ts are copied as the
 * one stretch of the fetched bytes that holds them (one copy per fetch, not
 * two per record); others one by one. `reuse` is a buffer the clearing
 * thread sent back (used when large enough; else a new one is made).
 * Returns the buffer and how many of its bytes hold the batch.
 */
export function packBatch(messages: readonly PackableMessage[], reuse?: ArrayBuffer): { buffer: ArrayBuffer; length: number } {
  const count = messages.length;
  let stringOffsets = false;
  let hasHeaders = false;
  const headers = new Array<MessageHeaders>(count);
  for (let i = 0; i < count; i++) {
    const m = messages[i]!;
    // offsets up to 2^53 are exact as a float64 (every offset a partition reaches in practice)
    if (m.offset.length > 15 && !Number.isSafeInteger(Number(m.offset))) stringOffsets = true;
    const h = (headers[i] = headersOf(m));
    if (h !== NO_HEADERS) hasHeaders = true;
  }
  const offsetsAt = HEAD;
  const positionsAt = offsetsAt + 8 * count;
  const variableAt = positionsAt + 16 * count;
  let variableSize = 0;
  if (stringOffsets || hasHeaders) {
    for (let i = 0; i < count; i++) {
      variableSize += 2 + (stringOffsets ? 2 + messages[i]!.offset.length : 0);
      const h = headers[i]!;
      if (h !== NO_HEADERS) for (const name in h) variableSize += 8 + Buffer.byteLength(name, 'utf8') + Buffer.byteLength(h[name]!, 'utf8');
    }
  }
  const dataAt = variableAt + variableSize;
  // the data part: the spans of fetched buffers, then the other keys and values
  const spans: Span[] = [];
  let span: Span | undefined;
  /** The span of each fetched record's bytes (−1: none). */
  const spanOf = new Int32Array(count).fill(-1);
  let looseSize = 0;
  for (let i = 0; i < count; i++) {
    const m = messages[i]!;
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
  let at = dataAt;
  for (const stretch of spans) {
    stretch.at = at;
    at += stretch.end - stretch.start;
  }
  let loose = at;
  const size = at + looseSize;
  // a buffer of its own (Buffer.allocUnsafe may hand out a slice of the shared pool, which cannot be transferred)
  const buffer = reuse !== undefined && reuse.byteLength >= size ? reuse : new ArrayBuffer(Math.max(size, 64 * 1024));
  const out = Buffer.from(buffer, 0, size);
  const offsets = new Float64Array(buffer, offsetsAt, count);
  const positions = new Int32Array(buffer, positionsAt, 4 * count);
  out.writeUInt32LE(count, 0);
  out.writeUInt32LE((stringOffsets ? STRING_OFFSETS : 0) | (hasHeaders ? HAS_HEADERS : 0), 4);
  out.writeUInt32LE(variableAt, 8);
  out.writeUInt32LE(dataAt, 12);
  for (const stretch of spans) stretch.buffer.copy(out, stretch.at, stretch.start, stretch.end);
  let variable = variableAt;
  for (let i = 0; i < count; i++) {
    const m = messages[i]!;
    const p = 4 * i;
    if (m instanceof FetchedRecord) {
      offsets[i] = stringOffsets ? Number.NaN : m.offsetNumber;
      const stretch = spans[spanOf[i]!];
      positions[p] = m.keyStart < 0 ? NULL_LENGTH : stretch!.at + m.keyStart - stretch!.start;
      positions[p + 1] = m.keyStart < 0 ? 0 : m.keyEnd - m.keyStart;
      positions[p + 2] = m.valueStart < 0 ? NULL_LENGTH : stretch!.at + m.valueStart - stretch!.start;
      positions[p + 3] = m.valueStart < 0 ? 0 : m.valueEnd - m.valueStart;
    } else {
      offsets[i] = stringOffsets ? Number.NaN : Number(m.offset);
      const key = m.key ?? null;
      positions[p] = key === null ? NULL_LENGTH : loose;
      positions[p + 1] = key === null ? 0 : key.length;
      if (key !== null) loose += key.copy(out, loose);
      positions[p + 2] = m.value === null ? NULL_LENGTH : loose;
      positions[p + 3] = m.value === null ? 0 : m.value.length;
      if (m.value !== null) loose += m.value.copy(out, loose);
    }
    if (!stringOffsets && !hasHeaders) continue;
    if (stringOffsets) {
      variable = out.writeUInt16LE(m.offset.length, variable);
      variable += out.write(m.offset, variable, 'latin1');
    }
    const h = headers[i]!;
    const countAt = variable;
    let headerCount = 0;
    variable += 2;
    if (h !== NO_HEADERS) {
      for (const name in h) {
        headerCount++;
        variable = writeString(out, variable, name);
        variable = writeString(out, variable, h[name]!);
      }
    }
    out.writeUInt16LE(headerCount, countAt);
  }
  if (variable !== variableAt + variableSize || loose !== size) throw new Error(`packing a batch of ${count} message(s): wrote ${variable} + ${loose} bytes, expected ${variableAt + variableSize} + ${size}`);
  return { buffer, length: size };
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
  const flags = bytes.readUInt32LE(4);
  const variableAt = bytes.readUInt32LE(8);
  const dataAt = bytes.readUInt32LE(12);
  const stringOffsets = (flags & STRING_OFFSETS) !== 0;
  const variablePart = stringOffsets || (flags & HAS_HEADERS) !== 0;
  const offsets = new Float64Array(buffer, HEAD, count);
  const positions = new Int32Array(buffer, HEAD + 8 * count, 4 * count);
  let at = variableAt;
  for (let i = 0; i < count; i++) {
    const p = 4 * i;
    const keyAt = positions[p]!;
    const key = keyAt === NULL_LENGTH ? null : bytes.toString('utf8', keyAt, keyAt + positions[p + 1]!);
    const valueAt = positions[p + 2]!;
    const value = valueAt === NULL_LENGTH ? null : bytes.subarray(valueAt, valueAt + positions[p + 3]!);
    let offset: string;
    let headers = NO_HEADERS;
    if (!variablePart) {
      offset = String(offsets[i]);
    } else {
      if (stringOffsets) {
        const offsetLength = bytes.readUInt16LE(at);
        offset = bytes.toString('latin1', at + 2, at + 2 + offsetLength);
        at += 2 + offsetLength;
      } else {
        offset = String(offsets[i]);
      }
      const headerCount = bytes.readUInt16LE(at);
      at += 2;
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
    }
    into.push({ topic, partition, offset, key, value, headers });
  }
  if (variablePart && at !== dataAt) throw new Error(`a packed batch of ${count} message(s) has its data part at byte ${dataAt}, but its headers end at byte ${at}`);
  return into;
}

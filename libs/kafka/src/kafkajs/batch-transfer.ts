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

/**
 * The bytes a packed batch needs. Layout, little-endian: u32 count, u32 flags;
 * per message the offset (a float64, or with STRING_OFFSETS a u16 length +
 * ASCII digits), i32 key length (−1: null) + key, i32 value length (−1: null)
 * + value, u16 header count + per header u32 length + name (UTF-8), u32
 * length + value (UTF-8).
 */
function packedSize(messages: readonly PackableMessage[], headers: readonly MessageHeaders[], stringOffsets: boolean): number {
  let size = 8;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    size += (stringOffsets ? 2 + m.offset.length : 8) + 4 + keyLength(m) + 4 + valueLength(m) + 2;
    const h = headers[i]!;
    if (h !== NO_HEADERS) for (const name in h) size += 8 + Buffer.byteLength(name, 'utf8') + Buffer.byteLength(h[name]!, 'utf8');
  }
  return size;
}

const keyLength = (m: PackableMessage): number => (m instanceof FetchedRecord ? Math.max(0, m.keyEnd - m.keyStart) : (m.key?.length ?? 0));
const valueLength = (m: PackableMessage): number => (m instanceof FetchedRecord ? Math.max(0, m.valueEnd - m.valueStart) : (m.value?.length ?? 0));

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

/**
 * Packs a fetched batch into one ArrayBuffer, so the consumer thread
 * transfers it to the clearing thread instead of cloning a message object
 * per record. `reuse` is a buffer the clearing thread sent back (used when
 * large enough; else a new one is made). Returns the buffer and how many of
 * its bytes hold the batch.
 */
export function packBatch(messages: readonly PackableMessage[], reuse?: ArrayBuffer): { buffer: ArrayBuffer; length: number } {
  let stringOffsets = false;
  for (let i = 0; i < messages.length; i++) {
    // offsets up to 2^53 are exact as a float64 (every offset a partition reaches in practice)
    const offset = messages[i]!.offset;
    if (offset.length > 15 && !Number.isSafeInteger(Number(offset))) stringOffsets = true;
  }
  const headers = messages.map(headersOf);
  const size = packedSize(messages, headers, stringOffsets);
  // a buffer of its own (Buffer.allocUnsafe may hand out a slice of the shared pool, which cannot be transferred)
  const buffer = reuse !== undefined && reuse.byteLength >= size ? reuse : new ArrayBuffer(Math.max(size, 64 * 1024));
  const out = Buffer.from(buffer, 0, size);
  out.writeUInt32LE(messages.length, 0);
  out.writeUInt32LE(stringOffsets ? STRING_OFFSETS : 0, 4);
  let at = 8;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    if (stringOffsets) {
      at = out.writeUInt16LE(m.offset.length, at);
      at += out.write(m.offset, at, 'latin1');
    } else {
      at = out.writeDoubleLE(Number(m.offset), at);
    }
    if (m instanceof FetchedRecord) {
      at = writeRange(out, at, m.buffer, m.keyStart, m.keyEnd);
      at = writeRange(out, at, m.buffer, m.valueStart, m.valueEnd);
    } else {
      at = writeBytes(out, at, m.key ?? null);
      at = writeBytes(out, at, m.value);
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
  if (at !== size) throw new Error(`packing a batch of ${messages.length} message(s): wrote ${at} bytes, expected ${size}`);
  return { buffer, length: size };
}

function writeBytes(out: Buffer, at: number, bytes: Buffer | null): number {
  if (bytes === null) return out.writeInt32LE(NULL_LENGTH, at);
  at = out.writeInt32LE(bytes.length, at);
  return at + bytes.copy(out, at);
}

/** Bytes [start, end) of `from` (start −1: null), without a Buffer view of them. */
function writeRange(out: Buffer, at: number, from: Buffer, start: number, end: number): number {
  if (start < 0) return out.writeInt32LE(NULL_LENGTH, at);
  at = out.writeInt32LE(end - start, at);
  return at + from.copy(out, at, start, end);
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
  let at = 8;
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
    const keyLength = bytes.readInt32LE(at);
    at += 4;
    let key: string | null = null;
    if (keyLength !== NULL_LENGTH) {
      key = bytes.toString('utf8', at, at + keyLength);
      at += keyLength;
    }
    const valueLength = bytes.readInt32LE(at);
    at += 4;
    let value: Buffer | null = null;
    if (valueLength !== NULL_LENGTH) {
      value = bytes.subarray(at, at + valueLength);
      at += valueLength;
    }
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
  if (at !== length) throw new Error(`a packed batch of ${count} message(s) is ${length} bytes, but its messages end at byte ${at}`);
  return into;
}

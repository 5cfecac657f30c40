import type { IHeaders } from 'kafkajs';
import { decodePriceUpdateBytes } from '@clearsim/events';
import type { DecodedPrices, InboundMessage, MessageHeaders } from '../kafka.port';
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
/** Flag: the batch carries the price columns (some message's value is a price update decodePriceUpdateBytes decodes). */
const HAS_PRICES = 4;
/** The instrument index of a message whose value is not a decoded price update. */
const NOT_A_PRICE = -1;
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
  // the price updates, decoded here (off the clearing thread) by the codec the clearing thread would use
  const prices = stringOffsets ? undefined : decodePrices(messages);
  const pricesAt = positionsAt + 16 * count;
  const variableAt = prices === undefined ? pricesAt : pricesAt + 20 * count + prices.namesBytes;
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
  out.writeUInt32LE((stringOffsets ? STRING_OFFSETS : 0) | (hasHeaders ? HAS_HEADERS : 0) | (prices !== undefined ? HAS_PRICES : 0), 4);
  if (prices !== undefined) {
    new Float64Array(buffer, pricesAt, count).set(prices.ts);
    new Float64Array(buffer, pricesAt + 8 * count, count).set(prices.units);
    new Int32Array(buffer, pricesAt + 16 * count, count).set(prices.instrument);
    let at = pricesAt + 20 * count;
    at = out.writeUInt16LE(prices.names.length, at);
    for (const name of prices.names) {
      at = out.writeUInt16LE(name.length, at);
      at += out.write(name, at, 'latin1');
    }
  }
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

/** A batch's price updates as packBatch writes them (see DecodedPrices). */
interface PackedPrices {
  ts: Float64Array;
  units: Float64Array;
  instrument: Int32Array;
  names: string[];
  /** The bytes of the names table: u16 count, then per name u16 length + its characters (printable ASCII: the decoder takes no other). */
  namesBytes: number;
}

/** Scratch columns packBatch decodes into (grown, never shrunk: the consumer thread packs one batch at a time). */
let scratchPrices = { ts: new Float64Array(0), units: new Float64Array(0), instrument: new Int32Array(0) };

/** The price updates among `messages` (decodePriceUpdateBytes of each value), or undefined when there is none. */
function decodePrices(messages: readonly PackableMessage[]): PackedPrices | undefined {
  const count = messages.length;
  if (scratchPrices.ts.length < count) {
    const size = Math.max(count, 2 * scratchPrices.ts.length);
    scratchPrices = { ts: new Float64Array(size), units: new Float64Array(size), instrument: new Int32Array(size) };
  }
  const ts = scratchPrices.ts.subarray(0, count);
  const units = scratchPrices.units.subarray(0, count);
  const instrument = scratchPrices.instrument.subarray(0, count);
  const names: string[] = [];
  let namesBytes = 2;
  let lastName = '';
  let lastIndex = -1;
  let any = false;
  for (let i = 0; i < count; i++) {
    const m = messages[i]!;
    let price;
    if (m instanceof FetchedRecord) price = m.valueStart < 0 ? undefined : decodePriceUpdateBytes(m.buffer, m.valueStart, m.valueEnd);
    else price = m.value === null ? undefined : decodePriceUpdateBytes(m.value, 0, m.value.length);
    const priceUnits = price === undefined ? 0 : Number(price.price);
    if (price === undefined || !Number.isSafeInteger(priceUnits) || price.instrument.length > 0xffff) {
      instrument[i] = NOT_A_PRICE;
      continue;
    }
    any = true;
    ts[i] = price.ts;
    units[i] = priceUnits;
    // the decoder hands out one string per instrument (its cache): the last one's index is the usual answer
    if (price.instrument !== lastName || lastIndex < 0) {
      lastName = price.instrument;
      lastIndex = names.indexOf(lastName);
      if (lastIndex < 0) {
        lastIndex = names.push(lastName) - 1;
        namesBytes += 2 + lastName.length;
      }
    }
    instrument[i] = lastIndex;
  }
  return any ? { ts, units, instrument, names, namesBytes } : undefined;
}

function writeString(out: Buffer, at: number, text: string): number {
  const length = out.write(text, at + 4, 'utf8');
  out.writeUInt32LE(length, at);
  return at + 4 + length;
}

/**
 * A message of a packed batch: its value (a view of the batch's buffer, no copy) and its offset's text are
 * made when asked for — a price update decoded already is decided from the price columns, and only a step's
 * last offset is committed, so most messages never need either.
 */
class UnpackedMessage implements InboundMessage {
  private offsetText?: string;

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly offsetNumber: number,
    private readonly keyAt: number,
    private readonly keyLength: number,
    private readonly bytes: Buffer,
    private readonly valueAt: number,
    private readonly valueLength: number,
    readonly headers: MessageHeaders,
  ) {}

  get offset(): string {
    return (this.offsetText ??= String(this.offsetNumber));
  }

  // made when read (a dead letter carries it; a message applied never reads it): no string per message
  get key(): string | null {
    return this.keyAt === NULL_LENGTH ? null : this.bytes.toString('utf8', this.keyAt, this.keyAt + this.keyLength);
  }

  get value(): Buffer | null {
    return this.valueAt === NULL_LENGTH ? null : this.bytes.subarray(this.valueAt, this.valueAt + this.valueLength);
  }
}

/**
 * The price columns of the batches handed to one handler call (DecodedPrices), filled by unpackBatch
 * alongside the messages: grown as needed and reused by the next call (`clear`).
 */
export class PriceColumns implements DecodedPrices {
  instrument = new Int32Array(1024);
  ts = new Float64Array(1024);
  units = new Float64Array(1024);
  offsets = new Float64Array(1024);
  readonly names: string[] = [];
  /** How many messages the columns cover (the messages unpacked into the batch so far). */
  count = 0;

  clear(): void {
    this.count = 0;
    this.names.length = 0;
  }

  /** Room for `more` messages after `count`. */
  reserve(more: number): void {
    if (this.count + more <= this.instrument.length) return;
    const size = Math.max(this.count + more, 2 * this.instrument.length);
    const grow = <T extends Int32Array | Float64Array>(old: T, made: T): T => {
      made.set(old.subarray(0, this.count));
      return made;
    };
    this.instrument = grow(this.instrument, new Int32Array(size));
    this.ts = grow(this.ts, new Float64Array(size));
    this.units = grow(this.units, new Float64Array(size));
    this.offsets = grow(this.offsets, new Float64Array(size));
  }

  /** The index of `name` in `names` (added if new). */
  nameIndex(name: string): number {
    const names = this.names;
    for (let i = 0; i < names.length; i++) if (names[i] === name) return i;
    return names.push(name) - 1;
  }
}

/** The names of the instruments the clearing thread has seen in price columns: one string per name, not one per batch. */
const knownNames = new Map<string, string>();

/**
 * The messages of a packed batch, appended to `into`. Values are views of
 * `buffer` (no copy), and keys are read from it when asked for (a message
 * without headers): both are valid until the buffer is handed back to the
 * consumer thread. Keys, offsets and headers are strings, as the port has them.
 * With `prices`, the batch's price columns are appended to it, one entry per
 * message (NOT_A_PRICE where the batch has none).
 */
export function unpackBatch(topic: string, partition: number, buffer: ArrayBuffer, length: number, into: InboundMessage[] = [], prices?: PriceColumns): InboundMessage[] {
  const bytes = Buffer.from(buffer, 0, length);
  const count = bytes.readUInt32LE(0);
  const flags = bytes.readUInt32LE(4);
  const variableAt = bytes.readUInt32LE(8);
  const dataAt = bytes.readUInt32LE(12);
  const stringOffsets = (flags & STRING_OFFSETS) !== 0;
  const variablePart = stringOffsets || (flags & HAS_HEADERS) !== 0;
  const offsets = new Float64Array(buffer, HEAD, count);
  const positions = new Int32Array(buffer, HEAD + 8 * count, 4 * count);
  if (prices !== undefined) unpackPrices(bytes, count, (flags & HAS_PRICES) !== 0, offsets, prices);
  let at = variableAt;
  for (let i = 0; i < count; i++) {
    const p = 4 * i;
    const keyAt = positions[p]!;
    const valueAt = positions[p + 2]!;
    if (!variablePart) {
      into.push(new UnpackedMessage(topic, partition, offsets[i]!, keyAt, positions[p + 1]!, bytes, valueAt, positions[p + 3]!, NO_HEADERS));
      continue;
    }
    const key = keyAt === NULL_LENGTH ? null : bytes.toString('utf8', keyAt, keyAt + positions[p + 1]!);
    const value = valueAt === NULL_LENGTH ? null : bytes.subarray(valueAt, valueAt + positions[p + 3]!);
    let offset: string;
    let headers = NO_HEADERS;
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
    into.push({ topic, partition, offset, key, value, headers });
  }
  if (variablePart && at !== dataAt) throw new Error(`a packed batch of ${count} message(s) has its data part at byte ${dataAt}, but its headers end at byte ${at}`);
  return into;
}

/** Appends a packed batch's price columns (or NOT_A_PRICE for each message of a batch without them) to `prices`. */
function unpackPrices(bytes: Buffer, count: number, packed: boolean, offsets: Float64Array, prices: PriceColumns): void {
  prices.reserve(count);
  const from = prices.count;
  prices.count += count;
  if (!packed) {
    prices.instrument.fill(NOT_A_PRICE, from, from + count);
    return;
  }
  const buffer = bytes.buffer;
  const pricesAt = bytes.byteOffset + HEAD + 24 * count;
  prices.ts.set(new Float64Array(buffer, pricesAt, count), from);
  prices.units.set(new Float64Array(buffer, pricesAt + 8 * count, count), from);
  prices.offsets.set(offsets, from);
  // the batch's own name indexes, mapped to the columns' (batches handed over together may list names in another order)
  let at = HEAD + 24 * count + 20 * count;
  const nameCount = bytes.readUInt16LE(at);
  at += 2;
  const indexOf = new Int32Array(nameCount);
  for (let n = 0; n < nameCount; n++) {
    const nameLength = bytes.readUInt16LE(at);
    const text = bytes.toString('latin1', at + 2, at + 2 + nameLength);
    at += 2 + nameLength;
    let name = knownNames.get(text);
    if (name === undefined) {
      if (knownNames.size >= 10_000) knownNames.clear();
      knownNames.set(text, (name = text));
    }
    indexOf[n] = prices.nameIndex(name);
  }
  const local = new Int32Array(buffer, pricesAt + 16 * count, count);
  const instrument = prices.instrument;
  for (let i = 0; i < count; i++) {
    const k = local[i]!;
    instrument[from + i] = k === NOT_A_PRICE ? NOT_A_PRICE : indexOf[k]!;
  }
}

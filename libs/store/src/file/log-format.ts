import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';
// the codec's byte layer only: the decode thread of `clearsim run` loads this module, and with it no schema (zod)
import * as events from '@clearsim/events/bytes';
import type { ClearingEvent, PriceFields } from '@clearsim/events';

// read once: a re-exported binding is a getter call at every use in the compiled code (several per mark line)
const ENCODED_INTO_LAYOUT = events.ENCODED_INTO_LAYOUT;
const ENCODE_INTO_MAX_BYTES = events.ENCODE_INTO_MAX_BYTES;
const encodeEventInto = events.encodeEventInto;
const encodePriceFieldsInto = events.encodePriceFieldsInto;
const writeDecimalDigits = events.writeDecimalDigits;
const bytesAre = events.bytesAre;

/**
 * The bytes of the file store's log (`events.jsonl`), version 3 (version 2
 * is read too: the same without checkpoint records). See the FileEventStore
 * doc comment and libs/store/README.md for the whole format; this module only
 * builds and recognises lines.
 *
 *     {"format":"clearsim-log","version":3,"log":"<uuid>"}                     line 1: the header
 *     {"position":1,"crc":"1a2b3c4d","type":"Deposited",…}                     an event line
 *     {"position":2,"crc":"…",…}
 *     \t{"commit":2,"events":2,"chain":"<64 hex>"}                             closes positions 1..2
 *     …                                                                        a long batch's lines
 *     \t{"checkpoint":7000000,"chain":"<64 hex>"}                              the chain so far, inside the batch
 *     …
 *     \t{"commit":9000000,"events":8999998,"chain":"<64 hex>"}
 *
 * - `crc` is the CRC-32 (zlib.crc32) of the event's canonical JSON
 *   (`{"type":…}`, i.e. the line without its position and crc members), as
 *   8 lower-case hex digits: it names a changed line exactly.
 * - `chain` is SHA-256(previous chain ‖ every byte of the batch's event lines,
 *   newlines included), as hex; the chain before the first batch is
 *   SHA-256(header line with its newline), so it also binds the log's id.
 * - A commit record starts with a TAB (insignificant JSON whitespace). An
 *   event line never holds a raw TAB (canonical JSON escapes it in strings),
 *   so opening finds the commit records with a byte search (memchr speed)
 *   instead of looking at every line.
 * - A checkpoint record (version 3) cuts a long batch's chain every
 *   CHECKPOINT_BYTES of its lines: `chain` is the chain so far (SHA-256 of
 *   the chain before ‖ the lines since the batch's start or the previous
 *   checkpoint), and the chain goes on from it, over the checkpoint line
 *   itself first (so its position is covered too). It commits nothing (a
 *   batch without its commit record is still not part of the log); it lets
 *   opening hash the two halves of a long log on two threads, each from a
 *   chain written in the log and proved by the other half
 *   (log-verifier.ts). It starts with a TAB too.
 */

export const LOG_FORMAT = 'clearsim-log';
/** The version a new log is written in. */
export const LOG_VERSION = 3;
/** The versions this clearsim reads: 2 is 3 without checkpoint records (a log of version 2 is appended to without them). */
export type LogVersion = 2 | 3;
export const POSITION_PREFIX = '{"position":';
export const COMMIT_PREFIX = '\t{"commit":';
export const CHECKPOINT_PREFIX = '\t{"checkpoint":';
/** The first byte of a commit or checkpoint record, and of no event line. */
export const COMMIT_MARK = 0x09;
/**
 * A version-3 log's batch gets a checkpoint record after every this many bytes of its lines (at the end of a write,
 * so at most a write's ~8 MB later): ~22 in the 1.46 GB log of a 10^7-event run, one in a 10^6-event run's.
 */
export const CHECKPOINT_BYTES = 64 * 1024 * 1024;
/** `,"crc":"xxxxxxxx",` between the position and the rest of the event. */
const CRC_MEMBER_LENGTH = ',"crc":"'.length + 8 + '",'.length;
export const NEWLINE = 0x0a;

export interface LogHeader {
  format: typeof LOG_FORMAT;
  version: LogVersion;
  /** A random id of this log: HEAD and snapshots name it, so leftovers of a deleted log are told apart. */
  log: string;
}

export function headerLine(logId: string): string {
  return `{"format":"${LOG_FORMAT}","version":${LOG_VERSION},"log":"${logId}"}\n`;
}

/** The chain before the first batch. */
export function initialChain(header: Buffer): Buffer {
  return createHash('sha256').update(header).digest();
}

/** Parses a header line (without its newline); a string saying what is wrong otherwise. */
export function parseHeader(text: string): LogHeader | string {
  if (text.startsWith(POSITION_PREFIX)) return 'old-format';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return `the first line is not a clearsim log header (not JSON: ${JSON.stringify(text.slice(0, 60))})`;
  }
  const header = value as Partial<LogHeader>;
  if (header.format !== LOG_FORMAT) return `the first line is not a clearsim log header (format ${JSON.stringify(header.format)})`;
  if (header.version !== 2 && header.version !== 3) return `the log is format version ${JSON.stringify(header.version)}; this clearsim reads versions 2 and ${LOG_VERSION}`;
  if (typeof header.log !== 'string' || !/^[0-9a-f-]{36}$/.test(header.log)) return 'the header has no valid log id';
  return header as LogHeader;
}

function hex8(value: number): string {
  const text = value.toString(16);
  return text.length === 8 ? text : '00000000'.slice(text.length) + text;
}

/** The stored line (with its newline) of the event whose canonical JSON is `json` (the reference; the writer uses LineBatch). */
export function eventLine(position: number, json: string): string {
  return POSITION_PREFIX + position + ',"crc":"' + hex8(crc32(json)) + '",' + json.slice(1) + '\n';
}

/** CRC-32 tables for slicing-by-8 (table k advances a byte k places further). */
const CRC_TABLE = ((): Int32Array => {
  const table = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) table[k * 256 + n] = (table[(k - 1) * 256 + n]! >>> 8) ^ table[table[(k - 1) * 256 + n]! & 255]!;
  }
  return table;
})();

/**
 * zlib's CRC-32 of buffer[start, end), continuing from `previous`, in plain
 * JS (slicing-by-8): about twice as fast per line as zlib.crc32 on a
 * subarray, whose allocation dominates for lines this short.
 */
export function crc32Bytes(buffer: Uint8Array, start: number, end: number, previous = 0): number {
  const t = CRC_TABLE;
  let c = ~previous;
  let at = start;
  for (; end - at >= 8; at += 8) {
    c ^= buffer[at]! | (buffer[at + 1]! << 8) | (buffer[at + 2]! << 16) | (buffer[at + 3]! << 24);
    const high = buffer[at + 4]! | (buffer[at + 5]! << 8) | (buffer[at + 6]! << 16) | (buffer[at + 7]! << 24);
    c =
      t[1792 + (c & 255)]! ^
      t[1536 + ((c >>> 8) & 255)]! ^
      t[1280 + ((c >>> 16) & 255)]! ^
      t[1024 + (c >>> 24)]! ^
      t[768 + (high & 255)]! ^
      t[512 + ((high >>> 8) & 255)]! ^
      t[256 + ((high >>> 16) & 255)]! ^
      t[high >>> 24]!;
  }
  for (; at < end; at++) c = t[(c ^ buffer[at]!) & 255]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** crc32Bytes without its final inversion: the register after buffer[start, end), from the register `register` (~CRC). */
function crcRegister(buffer: Uint8Array, start: number, end: number, register: number): number {
  const t = CRC_TABLE;
  let c = register;
  for (let at = start; at < end; at++) c = t[(c ^ buffer[at]!) & 255]! ^ (c >>> 8);
  return c;
}

/**
 * The CRC-32 of a mark line's JSON without a pass over its repeated parts. The register's step on a byte b,
 * `c → T[(c ^ b) & 255] ^ (c >>> 8)`, is linear in c apart from T[b] (T is linear over GF(2)), so a run of bytes M
 * takes c to `Z_n(c) ^ R(M)`: Z_n the step on n zero bytes (n = M's length, a linear map, applied as four table
 * look-ups of c's bytes), R(M) the register M leaves from 0. The head and the minute (~50 bytes, the same for a
 * minute's lines) are folded once per minute; the instrument's middle (`","instrument":"…","price":"`, ~30 bytes) is
 * R(middle) and Z_n, kept per middle and per length; the seconds and the price's digits (~20 bytes) are stepped.
 */
class MarkLineCrc {
  private serial = -1;
  private afterMinute = 0;
  /** R(middle) by the codec's middle id; undefined until met. */
  private readonly middles: (number | undefined)[] = [];
  /** Z_n as four 256-entry tables (byte k of c at 256·k), by n. */
  private readonly zeroRuns: (Int32Array | undefined)[] = [];

  /** The CRC-32 of `{` ‖ buffer[jsonAt + 1, end), the line encodeEventInto just wrote at jsonAt (ENCODED_INTO_LAYOUT). */
  of(buffer: Uint8Array, jsonAt: number, end: number): number {
    const layout = ENCODED_INTO_LAYOUT;
    const secondsAt = layout[1]!;
    const middleAt = layout[2]!;
    const middleEnd = layout[3]!;
    const middleId = layout[4]!;
    if (layout[5] !== this.serial) {
      this.afterMinute = crcRegister(buffer, jsonAt + 1, secondsAt, ~BRACE_CRC);
      this.serial = layout[5]!;
    }
    let c = crcRegister(buffer, secondsAt, middleAt, this.afterMinute);
    if (middleId < 0) {
      c = crcRegister(buffer, middleAt, middleEnd, c);
    } else {
      let middle = this.middles[middleId];
      if (middle === undefined) this.middles[middleId] = middle = crcRegister(buffer, middleAt, middleEnd, 0);
      const length = middleEnd - middleAt;
      const z = this.zeroRuns[length] ?? this.zeroRun(length);
      c = z[c & 255]! ^ z[256 + ((c >>> 8) & 255)]! ^ z[512 + ((c >>> 16) & 255)]! ^ z[768 + (c >>> 24)]! ^ middle;
    }
    return ~crcRegister(buffer, middleEnd, end, c) >>> 0;
  }

  private zeroRun(length: number): Int32Array {
    const t = CRC_TABLE;
    const z = new Int32Array(1024);
    for (let k = 0; k < 4; k++) {
      for (let v = 0; v < 256; v++) {
        let c = v << (8 * k);
        for (let i = 0; i < length; i++) c = t[c & 255]! ^ (c >>> 8);
        z[256 * k + v] = c;
      }
    }
    this.zeroRuns[length] = z;
    return z;
  }
}

/** One for every LineBatch: what it keeps depends only on the codec's layout. */
const markLineCrc = new MarkLineCrc();

/**
 * A price update's canonical JSON (encodeEventInto's bytes) and their CRC-32, written where the caller wants them —
 * the decode thread of `clearsim run` makes a mark line's log bytes this way, for LineBatch.addEncoded to copy.
 */
export class MarkJsonEncoder {
  /** The CRC-32 of the JSON `encode` wrote last. */
  crc = 0;

  /** Writes `event`'s canonical JSON into `out` from `at` and sets `crc`; answers where it ends, or −1 (nothing meaningful written) for an event encodeEventInto declines or an `out` with less than ENCODE_INTO_MAX_BYTES of room after `at`. */
  encode(event: ClearingEvent, out: Uint8Array, at: number): number {
    if (out.length - at < ENCODE_INTO_MAX_BYTES) return -1;
    return this.checksum(out, at, encodeEventInto(event, out, at));
  }

  /** `encode` of the plain price update given by its fields (encodePriceFieldsInto: no event object): the same bytes and CRC. */
  encodeFields(fields: PriceFields, out: Uint8Array, at: number): number {
    return this.checksum(out, at, encodePriceFieldsInto(fields, out, at));
  }

  /** Sets `crc` to the CRC-32 of the JSON the codec just wrote into `out[at, end)` (none: end −1, answered as it is). */
  private checksum(out: Uint8Array, at: number, end: number): number {
    if (end < 0) return -1;
    this.crc = ENCODED_INTO_LAYOUT[0] === at ? markLineCrc.of(out, at, end) : crc32Bytes(out, at, end);
    return end;
  }
}

/** The room MarkJsonEncoder.encode needs after `at`. */
export const MARK_JSON_MAX_BYTES = ENCODE_INTO_MAX_BYTES;

const POSITION_PREFIX_BYTES = Buffer.from(POSITION_PREFIX, 'latin1');
/** CRC-32 of `{`: the CRC of an event's canonical JSON continues from it over the bytes after the crc member. */
const BRACE_CRC = crc32('{');
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const CRC_MEMBER_OPEN = Buffer.from(',"crc":"', 'latin1');
const QUOTE = 0x22;
const COMMA = 0x2c;
/** The most bytes a line takes besides its event's JSON: the prefix with a 16-digit position, the crc member, the newline. */
const LINE_OVERHEAD = POSITION_PREFIX.length + 16 + CRC_MEMBER_LENGTH + 1;

/**
 * Event lines built the fast way, the same bytes as `eventLine`, written
 * straight into one buffer: the prefix and position digits by hand, the
 * event's JSON by one UTF-8 write whose leading `{` is then overwritten by
 * the comma that ends the crc member, and the CRC computed over the line's
 * bytes in place (crc32Bytes). No string is built per line (a CRC of a JS
 * string would also encode every line to UTF-8 once more).
 */
export class LineBatch {
  /**
   * @param eventText an event's canonical JSON text (the codec's encodeEventForLog), for `addEvent`'s events that
   * encodeEventInto declines; given by the store's writer, not by a writer of encoded lines only (DetachedBatchWriter)
   */
  constructor(private readonly eventText?: (event: ClearingEvent) => string) {}

  private buffer = Buffer.allocUnsafe(0);
  private bytes = 0;
  private first = 0;
  private last = 0;

  /** Bytes so far (to decide when to flush). */
  get length(): number {
    return this.bytes;
  }

  add(position: number, json: string): void {
    // a UTF-16 code unit takes at most 3 bytes of UTF-8
    this.reserve(LINE_OVERHEAD + 3 * json.length);
    const jsonAt = this.writePrefix(position);
    const buffer = this.buffer;
    const end = jsonAt + buffer.write(json, jsonAt, 'utf8');
    this.finishLine(jsonAt, end);
  }

  /**
   * The line of `event`: its canonical JSON written straight into the buffer
   * where the codec can (encodeEventInto: a plain price update), else
   * encodeEvent's text as `add` writes it (for a decision, the text its
   * outputHash already encoded: encodeEventForLog). The same bytes either way.
   */
  addEvent(position: number, event: ClearingEvent): void {
    this.reserve(LINE_OVERHEAD + ENCODE_INTO_MAX_BYTES);
    const bytes = this.bytes;
    const jsonAt = this.writePrefix(position);
    const buffer = this.buffer;
    const end = encodeEventInto(event, buffer, jsonAt);
    if (end >= 0) {
      if (ENCODED_INTO_LAYOUT[0] === jsonAt) {
        buffer[jsonAt] = COMMA;
        this.finishWithCrc(jsonAt, end, markLineCrc.of(buffer, jsonAt, end));
      } else {
        this.finishLine(jsonAt, end);
      }
      return;
    }
    this.bytes = bytes;
    if (this.eventText === undefined) throw new Error('LineBatch.addEvent of an event encodeEventInto declines needs the codec\'s eventText (constructor)');
    this.add(position, this.eventText(event));
  }

  /**
   * The line of an event whose canonical JSON is already encoded: `json[start, end)` (starting with its `{`), whose
   * zlib CRC-32 is `crc` (MarkJsonEncoder makes both). The same bytes as addEvent of the event, copied.
   */
  addEncoded(position: number, json: Uint8Array, start: number, end: number, crc: number): void {
    this.reserve(LINE_OVERHEAD + end - start);
    const jsonAt = this.writePrefix(position);
    const buffer = this.buffer;
    // a native copy: ~3× a byte loop's speed on ~100 bytes, the view it makes included
    buffer.set(json.subarray(start + 1, end), jsonAt + 1);
    buffer[jsonAt] = COMMA;
    this.finishWithCrc(jsonAt, jsonAt + end - start, crc);
  }

  /**
   * The line of an event whose canonical JSON is the UTF-8 bytes `json[start, end)` (starting with its `{`): what
   * `add` writes for that JSON's text, copied instead of encoded (a writer on another thread gets the bytes).
   */
  addJsonBytes(position: number, json: Uint8Array, start: number, end: number): void {
    this.reserve(LINE_OVERHEAD + end - start);
    const jsonAt = this.writePrefix(position);
    this.buffer.set(json.subarray(start, end), jsonAt);
    this.finishLine(jsonAt, jsonAt + end - start);
  }

  /** Writes the position prefix and the crc member's frame; answers where the event's JSON starts (its `{`). */
  private writePrefix(position: number): number {
    const buffer = this.buffer;
    if (this.bytes === 0) this.first = position;
    this.last = position;
    let at = this.bytes;
    buffer.set(POSITION_PREFIX_BYTES, at);
    at += POSITION_PREFIX_BYTES.length;
    at = writeDecimalDigits(buffer, at, position);
    buffer.set(CRC_MEMBER_OPEN, at);
    const crcAt = at + CRC_MEMBER_OPEN.length;
    buffer[crcAt + 8] = QUOTE;
    // the JSON's "{" lands on the comma after the crc member's closing quote
    return crcAt + 9;
  }

  /** The JSON is at [jsonAt, end): its `{` becomes the comma, the CRC goes in the crc member, a newline ends the line. */
  private finishLine(jsonAt: number, end: number): void {
    const buffer = this.buffer;
    buffer[jsonAt] = COMMA;
    this.finishWithCrc(jsonAt, end, crc32Bytes(buffer, jsonAt + 1, end, BRACE_CRC));
  }

  /** finishLine with the JSON's CRC known (its `{` already the comma). */
  private finishWithCrc(jsonAt: number, end: number, crc: number): void {
    const buffer = this.buffer;
    const crcAt = jsonAt - 9;
    for (let digit = 7; digit >= 0; digit--) {
      buffer[crcAt + digit] = HEX_DIGITS[crc & 15]!;
      crc >>>= 4;
    }
    buffer[end] = NEWLINE;
    this.bytes = end + 1;
  }

  /**
   * The lines as bytes, CRCs filled in, still in the batch's own buffer: valid until the next line is added (then
   * overwritten). Empties the batch; a writer that is done with the bytes before adding more (it awaits their write)
   * reuses one buffer for every chunk instead of growing a new one from 64 KiB each time.
   */
  lend(): { buffer: Buffer; first: number; last: number } {
    const buffer = this.buffer.subarray(0, this.bytes);
    this.bytes = 0;
    return { buffer, first: this.first, last: this.last };
  }

  /** Forgets any lines not taken (a chunk that failed half-way). */
  clear(): void {
    this.bytes = 0;
  }

  /** The lines as bytes, CRCs filled in; empties the batch. Returns the positions it holds. */
  take(): { buffer: Buffer; first: number; last: number } {
    const buffer = this.buffer.subarray(0, this.bytes);
    const { first, last } = this;
    // the bytes are the caller's now: the next line starts a new buffer
    this.buffer = Buffer.allocUnsafe(0);
    this.bytes = 0;
    return { buffer, first, last };
  }

  private reserve(more: number): void {
    if (this.bytes + more <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(2 * this.buffer.length, this.bytes + more, 1 << 16));
    this.buffer.copy(grown, 0, 0, this.bytes);
    this.buffer = grown;
  }
}

export interface CommitRecord {
  /** The last position the batch closes. */
  commit: number;
  /** How many events the batch holds (positions commit − events + 1 .. commit). */
  events: number;
  /** The chain after the batch, hex. */
  chain: string;
}

export function commitLine(record: CommitRecord): string {
  return `${COMMIT_PREFIX}${record.commit},"events":${record.events},"chain":"${record.chain}"}\n`;
}

const COMMIT_PATTERN = /^\t\{"commit":([1-9]\d{0,15}),"events":([1-9]\d{0,15}),"chain":"([0-9a-f]{64})"\}$/;

/** Parses a commit record line (without its newline), exactly as commitLine writes it. */
export function parseCommit(text: string): CommitRecord | undefined {
  const match = COMMIT_PATTERN.exec(text);
  if (!match) return undefined;
  const commit = Number(match[1]);
  const events = Number(match[2]);
  if (!Number.isSafeInteger(commit) || events > commit) return undefined;
  return { commit, events, chain: match[3]! };
}

export interface CheckpointRecord {
  /** The last position before it (a position of its batch). */
  checkpoint: number;
  /** The chain after the lines before it, hex. */
  chain: string;
}

export function checkpointLine(record: CheckpointRecord): string {
  return `${CHECKPOINT_PREFIX}${record.checkpoint},"chain":"${record.chain}"}\n`;
}

const CHECKPOINT_PATTERN = /^\t\{"checkpoint":([1-9]\d{0,15}),"chain":"([0-9a-f]{64})"\}$/;

/** Parses a checkpoint record line (without its newline), exactly as checkpointLine writes it. */
export function parseCheckpoint(text: string): CheckpointRecord | undefined {
  const match = CHECKPOINT_PATTERN.exec(text);
  if (!match) return undefined;
  const checkpoint = Number(match[1]);
  if (!Number.isSafeInteger(checkpoint)) return undefined;
  return { checkpoint, chain: match[2]! };
}

/** The position an event line starts with, if it starts the way the store writes them. */
export function positionOf(linePrefix: string): number | undefined {
  if (!linePrefix.startsWith(POSITION_PREFIX)) return undefined;
  const comma = linePrefix.indexOf(',', POSITION_PREFIX.length);
  if (comma < 0) return undefined;
  const digits = linePrefix.slice(POSITION_PREFIX.length, comma);
  if (!/^[1-9]\d{0,15}$/.test(digits)) return undefined;
  const position = Number(digits);
  return Number.isSafeInteger(position) ? position : undefined;
}

export type SplitLine = { position: number; json: string; crcOk: boolean } | { problem: string };

/**
 * Splits an event line (without its newline) into its position and the
 * event's canonical JSON, checking the line's CRC.
 */
export function splitEventLine(line: string): SplitLine {
  const position = positionOf(line.slice(0, 40));
  if (position === undefined) return { problem: describeUnpositioned(line) };
  const crcStart = POSITION_PREFIX.length + String(position).length;
  const member = line.slice(crcStart, crcStart + CRC_MEMBER_LENGTH);
  if (!/^,"crc":"[0-9a-f]{8}",$/.test(member)) return { problem: 'the line has no "crc" member after its position' };
  const json = '{' + line.slice(crcStart + CRC_MEMBER_LENGTH);
  const crcOk = hex8(crc32(json)) === member.slice(8, 16);
  return { position, json, crcOk };
}

const CRC_MEMBER_START = Buffer.from(',"crc":"', 'latin1');

/**
 * The frame of an event line's bytes (buffer[start, end), no newline): its
 * position, the CRC it stores (the crc member's 8 lower-case hex digits read
 * as a number) and where the event's JSON continues after the comma that
 * replaced its brace. Undefined when the line is not shaped as the store
 * writes it. Every full read of the log passes each line through here, so it
 * compares bytes in a loop: no string, regular expression or Buffer.compare
 * per line (those were ~15 % of a replay's profile).
 */
export function eventLineFrame(buffer: Uint8Array, start: number, end: number): { position: number; storedCrc: number; restStart: number } | undefined {
  if (end - start < POSITION_PREFIX.length + CRC_MEMBER_LENGTH + 2) return undefined;
  if (!bytesAre(buffer, start, POSITION_PREFIX_BYTES)) return undefined;
  let at = start + POSITION_PREFIX.length;
  let position = 0;
  const digitsStart = at;
  for (; at < end && buffer[at]! >= 0x30 && buffer[at]! <= 0x39; at++) position = position * 10 + (buffer[at]! - 0x30);
  if (at === digitsStart || at - digitsStart > 16 || buffer[digitsStart] === 0x30 || !Number.isSafeInteger(position)) return undefined;
  if (at + CRC_MEMBER_START.length > end || !bytesAre(buffer, at, CRC_MEMBER_START)) return undefined;
  const crcAt = at + CRC_MEMBER_START.length;
  const restStart = crcAt + 10;
  if (restStart > end || buffer[crcAt + 8] !== QUOTE || buffer[crcAt + 9] !== COMMA) return undefined;
  let storedCrc = 0;
  for (let k = 0; k < 8; k++) {
    const digit = HEX_VALUE[buffer[crcAt + k]!]!;
    if (digit < 0) return undefined;
    storedCrc = storedCrc * 16 + digit;
  }
  return { position, storedCrc, restStart };
}

/**
 * `splitEventLine` on the bytes of a line (buffer[start, end), no newline),
 * without decoding it first: its frame (eventLineFrame), and its CRC checked
 * over the bytes. Undefined when the line is not shaped as the store writes it
 * (then splitEventLine on its text says what is wrong).
 */
export function splitEventLineBytes(buffer: Buffer, start: number, end: number): { position: number; restStart: number; crcOk: boolean } | undefined {
  const frame = eventLineFrame(buffer, start, end);
  if (frame === undefined) return undefined;
  const { position, restStart } = frame;
  return { position, restStart, crcOk: crc32Bytes(buffer, restStart, end, BRACE_CRC) === frame.storedCrc };
}

/** The value of a lower-case hex digit by its byte, −1 for any other byte (the store writes the CRC in lower case). */
const HEX_VALUE = ((): Int8Array => {
  const values = new Int8Array(256).fill(-1);
  for (let d = 0; d < 16; d++) values[HEX_DIGITS[d]!] = d;
  return values;
})();

function describeUnpositioned(line: string): string {
  if (line.startsWith(COMMIT_PREFIX)) return 'a malformed commit record';
  try {
    JSON.parse(line);
  } catch (error) {
    return `malformed JSON (${(error as Error).message})`;
  }
  return 'the line does not start with {"position":N,';
}

/** A running SHA-256 of one batch, seeded with the chain before it. */
export function batchHash(previousChain: Buffer): Hash {
  return createHash('sha256').update(previousChain);
}

/** The hash a batch goes on with after a checkpoint record: seeded with the record's chain, then the record's own line (newline included). */
export function hashAfterCheckpoint(chain: Buffer, recordLine: Uint8Array): Hash {
  return batchHash(chain).update(recordLine);
}

/**
 * The chain of one batch as its writer builds it (the store's own writer and the decode thread's): the lines hashed
 * as they are written, and in a version-3 log a checkpoint record due after every `checkpointBytes` of them.
 */
export class BatchChain {
  private hash: Hash;
  private sinceCheckpoint = 0;
  /** Checkpoint records made so far (each a line of the log). */
  checkpoints = 0;

  constructor(
    previousChain: Buffer,
    /** Infinity: none (a version-2 log). */
    private readonly checkpointBytes: number,
  ) {
    this.hash = batchHash(previousChain);
  }

  /**
   * Hashes `lines` (whole event lines, the last of them holding `lastPosition`), which the caller writes; answers the
   * checkpoint record to write right after them when one is due (already hashed into what follows), else undefined.
   */
  add(lines: Uint8Array, lastPosition: number): Buffer | undefined {
    this.hash.update(lines);
    this.sinceCheckpoint += lines.length;
    if (this.sinceCheckpoint < this.checkpointBytes) return undefined;
    const chain = this.hash.digest();
    const record = Buffer.from(checkpointLine({ checkpoint: lastPosition, chain: chain.toString('hex') }), 'latin1');
    this.hash = hashAfterCheckpoint(chain, record);
    this.sinceCheckpoint = 0;
    this.checkpoints++;
    return record;
  }

  /** The chain after every line added: what the commit record carries. The chain is done. */
  digest(): Buffer {
    return this.hash.digest();
  }
}

/** The checkpoint interval of a log of this header version. */
export const checkpointBytesOf = (version: LogVersion, bytes = CHECKPOINT_BYTES): number => (version >= 3 ? bytes : Infinity);

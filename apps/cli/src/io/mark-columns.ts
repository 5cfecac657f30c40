// light entry points: the decode thread loads this module (decode-worker.ts)
import * as events from '@clearsim/events/bytes';
import { LINE_BLANK, LINE_INPUT, LINE_MARK } from '@clearsim/shard/line-kinds';
import * as store from '@clearsim/store/detached-lines';
import { MarkJsonEncoder } from '@clearsim/store/detached-lines';
import { LINES_PER_MESSAGE } from './decode-worker-spawn';
import { readLineChunks, type ReadProgress } from './jsonl-reader';

/**
 * Lines of a JSONL input as the decode thread hands them to `clearsim run`'s main thread: line `firstLine + i` is,
 * by `kinds[i]` (LINE_* of @clearsim/shard), a mark line decoded into the columns (ts, ledger units, an index into
 * the name table: the names first met in this message are `newNames`, appended in order), any other line's text
 * (the next of `texts`, for the main thread's decodeLine: the schema stays the authority for every refusal), or a
 * blank line. A mark's canonical JSON for the log is `json[jsonStart[i], jsonEnd[i])` with its CRC-32 `crc[i]`
 * (jsonStart −1: not encoded). Typed arrays only, their memory transferred: no object per line crosses the threads.
 */
export interface LinesMessage {
  kind: 'lines';
  firstLine: number;
  count: number;
  kinds: Uint8Array<ArrayBuffer>;
  ts: Float64Array<ArrayBuffer>;
  units: Float64Array<ArrayBuffer>;
  instrument: Int32Array<ArrayBuffer>;
  newNames: string[];
  texts: string[];
  json: Uint8Array<ArrayBuffer>;
  jsonStart: Int32Array<ArrayBuffer>;
  jsonEnd: Int32Array<ArrayBuffer>;
  crc: Int32Array<ArrayBuffer>;
  /** How many bytes of the file were read when this message was made (the progress bar). */
  bytesRead: number;
  /**
   * The decode thread keeps the marks' JSON (`json`, `jsonEnd` and `crc` are then empty; `jsonStart[i]` ≥ 0 still
   * says line i is encoded) under this id, to write their log lines itself (log-thread.ts) when the main thread
   * refers to them.
   */
  held?: number;
}

/** A message's marks' log bytes as the decode thread keeps them (LinesMessage.held). */
export interface HeldJson {
  json: Uint8Array;
  jsonStart: Int32Array;
  jsonEnd: Int32Array;
  crc: Int32Array;
}

const NO_BYTES = new Uint8Array(0);
const NO_INTS = new Int32Array(0);

/** Keeps `message`'s marks' JSON out of it (into the answer), under the id `held`. */
export function holdJson(message: LinesMessage, held: number): HeldJson {
  const { json, jsonStart, jsonEnd, crc } = message;
  message.json = NO_BYTES;
  message.jsonEnd = NO_INTS;
  message.crc = NO_INTS;
  message.held = held;
  return { json, jsonStart, jsonEnd, crc };
}

/** An error of the reader (a line too long, an I/O error) as it crosses the threads; revived as the same error by the main thread. */
export interface ErrorMessage {
  kind: 'error';
  name: string;
  message: string;
  code?: string;
  /** An InputError's fields. */
  issues?: { field: string; message: string }[];
  source?: string;
  line?: number;
}

/** The thread has loaded its code and waits for its HandOver. */
export type DecodeMessage = LinesMessage | { kind: 'end' } | ErrorMessage | { kind: 'ready' };

/**
 * Where the decode thread takes over from the main thread, which decodes the first lines itself while the thread
 * starts (~0.3 s of loading code): the last line it decoded, and the names of its name table, in order.
 */
export interface HandOver {
  line: number;
  names: readonly string[];
}

// read once: a re-exported constant is a getter call at every use in the compiled code
const MARK = LINE_MARK;
const INPUT = LINE_INPUT;
const BLANK = LINE_BLANK;
const decodePriceBytesInto = events.decodePriceBytesInto;
const MARK_JSON_MAX_BYTES = store.MARK_JSON_MAX_BYTES;

export { LINES_PER_MESSAGE } from './decode-worker-spawn';

/** The buffers a message's memory is in (its transfer list). */
export const transferList = (message: LinesMessage): ArrayBuffer[] =>
  message.held !== undefined
    ? // jsonStart stays with the thread too (its HeldJson): the main thread gets a copy
      [message.kinds.buffer, message.ts.buffer, message.units.buffer, message.instrument.buffer]
    : [message.kinds.buffer, message.ts.buffer, message.units.buffer, message.instrument.buffer, message.json.buffer, message.jsonStart.buffer, message.jsonEnd.buffer, message.crc.buffer];

/**
 * The messages of a JSONL file's lines, in order: what the decode thread posts (and what `run` computes in-process
 * when no thread is used, e.g. under a test runner). Each mark line of the usual layout is decoded from its bytes
 * (decodePriceBytesInto, as the single-thread reader's decodePriceBytes does) and encoded for the log (MarkJsonEncoder); any other line is
 * decoded to text. A reader error (a line too long) is thrown after the messages of the lines before it.
 */
export async function* decodeMessages(
  file: string,
  progress: ReadProgress,
  linesPerMessage = LINES_PER_MESSAGE,
  chunkBytes?: number,
  from?: HandOver,
  /** Log bytes of messages written and done with (the decode thread's, once held and released), to fill again instead of new ones. */
  reuse?: () => HeldJson | undefined,
): AsyncGenerator<LinesMessage> {
  const names = new Map<string, number>();
  if (from) for (const name of from.names) names.set(name, names.size);
  const skip = from?.line ?? 0;
  const encoder = new MarkJsonEncoder();
  // each mark line's fields, read into one object (no event object or bigint price per line)
  const mark = new events.PriceFields();
  let line = 0;
  let message: LinesMessage | undefined;
  let jsonAt = 0;
  try {
    for await (const { bytes, ranges } of readLineChunks(file, chunkBytes, progress)) {
      let r = 0;
      if (line < skip) {
        // lines another reader decoded: split the same way, so the numbering goes on exactly
        const skipped = Math.min(skip - line, ranges.length / 2);
        line += skipped;
        r = 2 * skipped;
      }
      for (; r < ranges.length; r += 2) {
        if (message === undefined) {
          message = newMessage(line + 1, linesPerMessage, reuse?.());
          jsonAt = 0;
        }
        line++;
        const i = message.count++;
        const start = ranges[r]!;
        const end = ranges[r + 1]!;
        if (decodePriceBytesInto(bytes, start, end, mark)) {
          message.kinds[i] = MARK;
          message.ts[i] = mark.ts;
          message.units[i] = mark.units;
          let index = names.get(mark.instrument);
          if (index === undefined) {
            names.set(mark.instrument, (index = names.size));
            message.newNames.push(mark.instrument);
          }
          message.instrument[i] = index;
          if (message.json.length - jsonAt < MARK_JSON_MAX_BYTES) message.json = grown(message.json, jsonAt + MARK_JSON_MAX_BYTES);
          const jsonEnd = encoder.encodeFields(mark, message.json, jsonAt);
          if (jsonEnd >= 0) {
            message.jsonStart[i] = jsonAt;
            message.jsonEnd[i] = jsonEnd;
            message.crc[i] = encoder.crc;
            jsonAt = jsonEnd;
          } else message.jsonStart[i] = -1;
        } else {
          const text = bytes.toString('utf8', start, end);
          if (isBlank(text)) message.kinds[i] = BLANK;
          else {
            message.kinds[i] = INPUT;
            message.texts.push(text);
          }
        }
        if (message.count === message.kinds.length) {
          message.bytesRead = progress.bytesRead;
          yield message;
          message = undefined;
        }
      }
    }
  } catch (error) {
    // the reader's error comes after the lines before it
    if (message !== undefined) {
      message.bytesRead = progress.bytesRead;
      yield message;
    }
    throw error;
  }
  if (message !== undefined) {
    message.bytesRead = progress.bytesRead;
    yield message;
  }
}

function newMessage(firstLine: number, capacity: number, reused: HeldJson | undefined): LinesMessage {
  // a mark line's jsonStart is always set (its JSON's start, or -1), and only marks' are read: old values elsewhere do no harm
  const again = reused !== undefined && reused.jsonStart.length === capacity ? reused : undefined;
  return {
    kind: 'lines',
    firstLine,
    count: 0,
    kinds: new Uint8Array(capacity),
    ts: new Float64Array(capacity),
    units: new Float64Array(capacity),
    instrument: new Int32Array(capacity),
    newNames: [],
    texts: [],
    json: (again?.json as Uint8Array<ArrayBuffer> | undefined) ?? new Uint8Array(capacity * 112),
    jsonStart: (again?.jsonStart as Int32Array<ArrayBuffer> | undefined) ?? new Int32Array(capacity),
    jsonEnd: (again?.jsonEnd as Int32Array<ArrayBuffer> | undefined) ?? new Int32Array(capacity),
    crc: (again?.crc as Int32Array<ArrayBuffer> | undefined) ?? new Int32Array(capacity),
    bytesRead: 0,
  };
}

function grown(bytes: Uint8Array<ArrayBuffer>, atLeast: number): Uint8Array<ArrayBuffer> {
  const to = new Uint8Array(Math.max(2 * bytes.length, atLeast));
  to.set(bytes);
  return to;
}

/** `text.trim() === ''` without trimming a copy of every line that starts and ends with a non-space (every JSON line). */
export const isBlank = (text: string): boolean => text.length === 0 || ((text.charCodeAt(0) <= 32 || text.charCodeAt(0) >= 127) && text.trim() === '');

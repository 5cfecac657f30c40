import { open } from 'node:fs/promises';
import { InputError } from '@clearsim/events/bytes';

/** How far a reader has got in its file (for a progress bar). */
export interface ReadProgress {
  bytesRead: number;
}

/**
 * The longest line read, in characters: as large as the server's default body
 * (a batch of 10,000 inputs), far beyond any one input event. A file with no
 * line break is refused once this much of it is buffered, instead of being
 * held in memory whole.
 */
export const MAX_LINE_LENGTH = 16 * 1024 * 1024;

/**
 * A chunk of a file's complete lines as bytes: line `i` is
 * `bytes[ranges[2i], ranges[2i + 1])`, without its line break. `bytes` and
 * `ranges` are the reader's and are overwritten by the next chunk: use them
 * before asking for the next one.
 */
export interface LineChunk {
  bytes: Buffer;
  ranges: Int32Array;
}

/** Line ranges in one growing Int32Array, reused for every chunk (an array of ~80,000 numbers per chunk was garbage). */
class RangeList {
  values = new Int32Array(1024);
  length = 0;

  push(start: number, end: number): void {
    if (this.length + 2 > this.values.length) {
      const grown = new Int32Array(2 * this.values.length);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length] = start;
    this.values[this.length + 1] = end;
    this.length += 2;
  }

  /** The ranges pushed so far, as a view of the reused array (valid until the next chunk starts). */
  view(): Int32Array {
    return this.values.subarray(0, this.length);
  }
}

/**
 * The lines of a text file as byte ranges, read in large chunks and handed
 * out a chunk's worth at a time, never decoded: the caller decodes a line
 * (`bytes.toString('utf8', start, end)`) only if it needs its text. Split
 * exactly as `readline` (with `crlfDelay: Infinity`) splits the decoded
 * text: at "\n", "\r\n" and a lone "\r", the last line given even without a
 * final line break. Splitting the bytes is the same as splitting the text
 * because both breaks are ASCII, which UTF-8 never uses inside a multi-byte
 * character and which a decoder never swallows into a replacement
 * character; a line cut by a chunk boundary is carried over as bytes, so a
 * multi-byte character cut there is joined.
 */
export async function* readLineChunks(file: string, chunkBytes = 4 << 20, progress?: ReadProgress, maxLineLength = MAX_LINE_LENGTH): AsyncGenerator<LineChunk> {
  const handle = await open(file, 'r');
  let linesRead = 0;
  /** The unfinished line's bytes are too many: refused if its text is longer than the bound (it has at most as many characters as bytes). */
  const checkLength = (unfinished: Buffer): void => {
    if (unfinished.length > maxLineLength && unfinished.toString('utf8').length > maxLineLength) {
      throw new InputError([{ field: '', message: `line longer than ${maxLineLength} characters` }], file, linesRead + 1);
    }
  };
  try {
    // one buffer for every chunk: the unfinished line (carried) at its front, the next read after it (no concat per chunk)
    let buffer = Buffer.allocUnsafe(chunkBytes);
    let carried = 0;
    let pendingCr = false;
    // a UTF-8 byte-order mark before the first line (what some Windows editors and exports write) is not part of it
    let atFileStart = true;
    const ranges = new RangeList();
    for (;;) {
      // a read fills what the carried line leaves of the buffer; it grows only when that is less than half a chunk
      if (buffer.length - carried < chunkBytes / 2) {
        const grown = Buffer.allocUnsafe(carried + chunkBytes);
        buffer.copy(grown, 0, 0, carried);
        buffer = grown;
      }
      const { bytesRead } = await handle.read(buffer, carried, buffer.length - carried, null);
      if (bytesRead === 0) break;
      if (progress) progress.bytesRead += bytesRead;
      const bytes = buffer.subarray(0, carried + bytesRead);
      let start = 0;
      // a "\r" that ended the previous chunk was a line break; a "\n" right after it belongs to it
      if (pendingCr) {
        if (bytes[0] === LF) start = 1;
        pendingCr = false;
      }
      if (atFileStart) {
        // bytes[0] is the file's first byte until a line has been cut off the front (fewer than 3 bytes were read and
        // carried whole, or a break among them ends the first line: no mark there)
        if (bytes.length >= 3) {
          atFileStart = false;
          if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
        } else if (bytes.indexOf(LF) >= 0 || bytes.indexOf(CR) >= 0) atFileStart = false;
      }
      ranges.length = 0;
      const hasCr = bytes.indexOf(CR, start) >= 0;
      for (let nl = bytes.indexOf(LF, start); nl >= 0; nl = bytes.indexOf(LF, start)) {
        pushRanges(ranges, bytes, start, nl, hasCr, true);
        start = nl + 1;
      }
      if (hasCr) {
        // lone "\r" breaks inside the unfinished line: everything before the last one is complete
        const lastCr = bytes.lastIndexOf(CR);
        if (lastCr >= start) {
          pushRanges(ranges, bytes, start, lastCr, true, false);
          start = lastCr + 1;
          pendingCr = start === bytes.length;
        }
      }
      checkLength(bytes.subarray(start));
      linesRead += ranges.length / 2;
      if (ranges.length > 0) yield { bytes, ranges: ranges.view() };
      // the caller is done with the chunk: the unfinished line moves to the front, where the next read continues it
      carried = bytes.length - start;
      if (carried > 0 && start > 0) buffer.copyWithin(0, start, bytes.length);
    }
    const carry = buffer.subarray(0, carried);
    if (carry.length > 0) {
      checkLength(carry);
      ranges.length = 0;
      pushRanges(ranges, carry, 0, carry.length, carry.indexOf(CR) >= 0, false);
      yield { bytes: carry, ranges: ranges.view() };
    }
  } finally {
    await handle.close();
  }
}

const LF = 10;
const CR = 13;

/** The line ranges of one "\n"-terminated piece `bytes[start, end)` (`endedByNewline`) or an unterminated one, split at its "\r" breaks. */
function pushRanges(ranges: RangeList, bytes: Buffer, start: number, end: number, hasCr: boolean, endedByNewline: boolean): void {
  if (hasCr) {
    // "\r\n" is one break: drop the "\r" right before the "\n"
    if (endedByNewline && end > start && bytes[end - 1] === CR) end--;
    for (let cr = bytes.indexOf(CR, start); cr >= 0 && cr < end; cr = bytes.indexOf(CR, start)) {
      ranges.push(start, cr);
      start = cr + 1;
    }
  }
  ranges.push(start, end);
}

/** The lines of a text file as strings, a chunk at a time: readLineChunks's lines, decoded. */
export async function* readLineBatches(file: string, chunkBytes = 4 << 20, progress?: ReadProgress, maxLineLength = MAX_LINE_LENGTH): AsyncGenerator<string[]> {
  for await (const { bytes, ranges } of readLineChunks(file, chunkBytes, progress, maxLineLength)) {
    const lines: string[] = [];
    for (let i = 0; i < ranges.length; i += 2) lines.push(bytes.toString('utf8', ranges[i], ranges[i + 1]));
    yield lines;
  }
}

import type { FileHandle } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { CorruptLogError } from '../errors';
import {
  batchHash,
  COMMIT_MARK,
  initialChain,
  NEWLINE,
  parseCommit,
  parseHeader,
  positionOf,
  splitEventLine,
  type LogHeader,
} from './log-format';

/** Bytes read at a time while verifying (large reads, hashed as they are). */
const VERIFY_BUFFER_BYTES = 16 * 1024 * 1024;
/** A header line is far shorter. */
const HEADER_MAX_BYTES = 4096;

/** What a walk over the log found: its last complete commit and what lies after it. */
export interface VerifiedLog {
  header: LogHeader;
  /** The last committed position (0: no commit yet). */
  head: number;
  /** Bytes of the file up to and including the last commit record (or the header). */
  committedBytes: number;
  /** Lines up to there (the header is line 1). */
  committedLines: number;
  /** The chain after the last commit. */
  chain: Buffer;
  /** The chain after each commit that ends at one of the positions asked for. */
  chainsAt: Map<number, string>;
  /**
   * The final batch, when it did not verify and no commit the writer made
   * durable vouches for it (see `verifyLog`'s `vouchedUpTo`): a power
   * failure during its one fsync can leave its commit record on disk with
   * some of its lines not. It is not part of the log (it starts at
   * `committedBytes`); `problem` says what did not verify.
   */
  tornBatch?: { firstPosition: number; lastPosition: number; bytes: number; problem: CorruptLogError };
}

/** What lies after the last commit: an incomplete batch (a crash before its commit record) and/or a torn line. */
export interface LogTail {
  bytes: number;
  /** Positions of the complete event lines after the last commit, if any. */
  firstPosition?: number;
  lastPosition?: number;
  /** Bytes after the last newline (a torn write). */
  tornBytes: number;
}

/** The header line of the log, or what is wrong with it. `undefined`: no complete header (an empty file or one torn while created). */
export async function readHeader(handle: FileHandle, file: string, size: number): Promise<{ header: LogHeader; bytes: Buffer } | undefined> {
  const first = await readRange(handle, 0, Math.min(size, HEADER_MAX_BYTES));
  const newline = first.indexOf(NEWLINE);
  if (newline < 0) {
    if (size >= HEADER_MAX_BYTES || first.subarray(0, 12).toString('latin1') === '{"position":') {
      // not a header being written: an old log's first line or something else
      const parsed = parseHeader(first.toString('utf8'));
      throw headerError(file, parsed === 'old-format' ? parsed : 'the first line is not a clearsim log header');
    }
    return undefined;
  }
  const parsed = parseHeader(first.toString('utf8', 0, newline));
  if (typeof parsed === 'string') throw headerError(file, parsed);
  return { header: parsed, bytes: Buffer.from(first.subarray(0, newline + 1)) };
}

function headerError(file: string, problem: string): CorruptLogError {
  if (problem === 'old-format') {
    return new CorruptLogError(
      file,
      1,
      'this log was written by an older clearsim (event lines without a format header, checksums or commit records), which this version does not trust or upgrade: ' +
        're-run its inputs into a new store (clearsim run --reset, or another --store), or read it with the older clearsim',
      { kind: 'old-format' },
    );
  }
  return new CorruptLogError(file, 1, problem, { kind: 'malformed-line' });
}

/**
 * Walks the log from the header to `size`, hashing the raw bytes in large
 * reads: every batch's chain must match its commit record, and each commit
 * must continue the positions. No line is parsed on this path; a batch that
 * does not verify is then read line by line to name the exact line and what
 * is wrong with it (CorruptLogError). Returns the last complete commit; the
 * bytes after it are the caller's (see `describeTail`).
 */
export async function verifyLog(
  handle: FileHandle,
  file: string,
  size: number,
  header: { header: LogHeader; bytes: Buffer },
  wantChainsAt: ReadonlySet<number>,
  /**
   * The last position a durable commit vouches for (HEAD's, written only after
   * the commit's fsync; 0: none does). A final batch after it that does not
   * verify is returned as `tornBatch` instead of an error; anything else that
   * does not verify is an error naming its line. Undefined: no batch is
   * returned as torn.
   */
  vouchedUpTo?: number,
  /** Bytes per read (the tests cut the log at every byte with small ones). */
  readBytes = VERIFY_BUFFER_BYTES,
): Promise<VerifiedLog> {
  let chain = initialChain(header.bytes);
  let head = 0;
  let lines = 1;
  let committedBytes = header.bytes.length;
  const chainsAt = new Map<number, string>();

  let buffer = Buffer.allocUnsafe(Math.min(readBytes, Math.max(size - committedBytes, 1)));
  let windowStart = committedBytes; // file offset of buffer[0]
  let filled = 0; // bytes of buffer holding file data
  let cursor = 0; // buffer offset: next byte not yet hashed (always a line start)
  let hash = batchHash(chain);
  let fileOffset = committedBytes;

  while (fileOffset < size) {
    // an unfinished line fills the whole buffer: grow it
    if (filled === buffer.length) buffer = doubled(buffer, filled);
    const { bytesRead } = await handle.read(buffer, filled, Math.min(buffer.length - filled, size - fileOffset), fileOffset);
    if (bytesRead === 0) break; // the file shrank meanwhile (another process truncating an uncommitted tail)
    fileOffset += bytesRead;
    filled += bytesRead;
    const complete = buffer.lastIndexOf(NEWLINE, filled - 1) + 1; // buffer bytes [0, complete) are whole lines
    while (cursor < complete) {
      const commitAt = nextCommit(buffer, cursor, complete);
      if (commitAt < 0) {
        hash.update(buffer.subarray(cursor, complete));
        cursor = complete;
        break;
      }
      hash.update(buffer.subarray(cursor, commitAt));
      const end = buffer.indexOf(NEWLINE, commitAt);
      const record = parseCommit(buffer.toString('latin1', commitAt, end));
      const digest = hash.digest();
      if (record === undefined || record.commit - record.events !== head || record.chain !== digest.toString('hex')) {
        const batchStart = committedBytes;
        const recordText = buffer.toString('utf8', commitAt, end);
        const diagnosis = diagnose(handle, file, batchStart, windowStart + commitAt, lines, head, recordText);
        const recordEnd = windowStart + end + 1;
        if (vouchedUpTo === undefined || head < vouchedUpTo || (await commitRecordIn(handle, recordEnd, size))) return diagnosis;
        const problem = await diagnosis.catch((error: unknown) => error);
        if (!(problem instanceof CorruptLogError)) throw problem;
        const lastPosition = record && record.commit > head ? record.commit : head + 1;
        const tornBatch = { firstPosition: head + 1, lastPosition, bytes: size - batchStart, problem };
        return { header: header.header, head, committedBytes, committedLines: lines, chain, chainsAt, tornBatch };
      }
      head = record.commit;
      lines += record.events + 1;
      chain = digest;
      committedBytes = windowStart + end + 1;
      if (wantChainsAt.has(head)) chainsAt.set(head, record.chain);
      hash = batchHash(chain);
      cursor = end + 1;
    }
    // keep the unfinished last line (and nothing hashed twice): move [cursor, filled) to the front
    if (cursor > 0) {
      buffer.copyWithin(0, cursor, filled);
      windowStart += cursor;
      filled -= cursor;
      cursor = 0;
    }
  }
  return { header: header.header, head, committedBytes, committedLines: lines, chain, chainsAt };
}

/** Whether [from, size) of the file holds a commit record at a line start (`from` is a line start, the byte before it a newline). */
async function commitRecordIn(handle: FileHandle, from: number, size: number): Promise<boolean> {
  // chunks overlap by one byte, so each candidate's previous byte is in its chunk
  for (let start = from - 1; start + 1 < size; start += SCAN_BYTES - 1) {
    const chunk = await readRange(handle, start, Math.min(size, start + SCAN_BYTES));
    for (let at = chunk.indexOf(COMMIT_MARK, 1); at !== -1; at = chunk.indexOf(COMMIT_MARK, at + 1)) {
      if (chunk[at - 1] === NEWLINE) return true;
    }
  }
  return false;
}

/** Buffer offset of the next commit record starting at or after `from` (a line start), before `end`; -1 if none. */
function nextCommit(buffer: Buffer, from: number, end: number): number {
  for (let at = buffer.indexOf(COMMIT_MARK, from); at !== -1 && at < end; at = buffer.indexOf(COMMIT_MARK, at + 1)) {
    if (at === from || buffer[at - 1] === NEWLINE) return at;
  }
  return -1;
}

/**
 * The batch [start, commitOffset) and its commit record did not verify: reads
 * it line by line and throws the first thing wrong, naming the line (its
 * number in the file) and the position.
 */
async function diagnose(
  handle: FileHandle,
  file: string,
  start: number,
  commitOffset: number,
  linesBefore: number,
  headBefore: number,
  commitText: string,
): Promise<never> {
  let lineNo = linesBefore;
  let expected = headBefore + 1;
  const fail = (detail: string, kind: CorruptLogError['kind'], line = lineNo): never => {
    throw new CorruptLogError(file, line, detail, { kind });
  };
  for await (const { line, offset } of linesIn(handle, start, commitOffset)) {
    lineNo++;
    const nul = line.indexOf(0);
    if (nul >= 0) fail(`a NUL byte at byte offset ${offset + nul} (column ${nul + 1}) of the line holding position ${expected}`, 'invalid-bytes');
    if (!isUtf8(line)) fail(`bytes that are not UTF-8 in the line holding position ${expected} (from byte offset ${offset})`, 'invalid-bytes');
    const split = splitEventLine(line.toString('utf8'));
    if ('problem' in split) {
      fail(`${split.problem} (position ${expected} expected here)`, 'malformed-line');
    } else if (split.position > expected) {
      fail(
        `${split.position - 1 > expected ? `positions ${expected}..${split.position - 1}` : `position ${expected}`} missing: this line holds position ${split.position} (a line removed from the middle of the log?)`,
        'missing-line',
      );
    } else if (split.position < expected) {
      fail(`holds position ${split.position} where position ${expected} belongs (a line repeated or moved?)`, 'tampered-line');
    } else if (!split.crcOk) {
      fail(`position ${expected}: the line's bytes changed since it was written (its CRC-32 does not match: a changed field, e.g. an amount?)`, 'tampered-line');
    }
    expected++;
  }
  const commitLine = lineNo + 1;
  const record = parseCommit(commitText);
  if (record === undefined) return fail(`a malformed commit record (${JSON.stringify(commitText.slice(0, 120))})`, 'malformed-line', commitLine);
  const last = expected - 1;
  if (record.commit > last) {
    return fail(
      `the commit record closes position ${record.commit}, but the batch before it ends at position ${last}: positions ${last + 1}..${record.commit} missing`,
      'missing-line',
      commitLine,
    );
  }
  if (record.commit < last || record.commit - record.events !== headBefore) {
    return fail(
      `the commit record says ${record.events} event(s) up to position ${record.commit}, but the batch before it holds positions ${headBefore + 1}..${last} (a commit record removed or changed?)`,
      'tampered-line',
      commitLine,
    );
  }
  return fail(
    `the hash chain does not match the commit record of positions ${headBefore + 1}..${record.commit} although every line's CRC does: the commit record was changed`,
    'tampered-line',
    commitLine,
  );
}

/** The lines (without newlines) of [start, end) of the file, with their byte offsets. Slow path only. */
async function* linesIn(handle: FileHandle, start: number, end: number): AsyncGenerator<{ line: Buffer; offset: number }> {
  let buffer = Buffer.allocUnsafe(1024 * 1024);
  let carried = 0;
  let fileOffset = start;
  let lineOffset = start;
  while (fileOffset < end) {
    if (carried === buffer.length) {
      const bigger = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(bigger, 0, 0, carried);
      buffer = bigger;
    }
    const { bytesRead } = await handle.read(buffer, carried, Math.min(buffer.length - carried, end - fileOffset), fileOffset);
    if (bytesRead === 0) break;
    fileOffset += bytesRead;
    const view = buffer.subarray(0, carried + bytesRead);
    let lineStart = 0;
    for (let newline = view.indexOf(NEWLINE); newline !== -1; newline = view.indexOf(NEWLINE, lineStart)) {
      yield { line: view.subarray(lineStart, newline), offset: lineOffset };
      lineOffset += newline + 1 - lineStart;
      lineStart = newline + 1;
    }
    carried = view.length - lineStart;
    if (carried > 0) buffer.copyWithin(0, lineStart, view.length);
  }
}

/** Describes the bytes after the last commit, reading only their first and last lines. */
export async function describeTail(handle: FileHandle, committedBytes: number, size: number): Promise<LogTail> {
  const bytes = size - committedBytes;
  if (bytes <= 0) return { bytes: 0, tornBytes: 0 };
  const lastNewline = await lastNewlineBefore(handle, committedBytes, size);
  const tornBytes = size - (lastNewline + 1);
  if (lastNewline < committedBytes) return { bytes, tornBytes };
  const firstPosition = positionOf((await readRange(handle, committedBytes, Math.min(size, committedBytes + 40))).toString('utf8'));
  // the last of the last few whole lines that holds a position (a crash can leave garbage lines at the very end)
  let lastPosition: number | undefined;
  let lineEnd = lastNewline;
  for (let lines = 0; lines < 16 && lastPosition === undefined && lineEnd > committedBytes; lines++) {
    const lineStart = (await lastNewlineBefore(handle, committedBytes, lineEnd)) + 1;
    lastPosition = positionOf((await readRange(handle, lineStart, Math.min(lineEnd, lineStart + 40))).toString('utf8'));
    lineEnd = lineStart - 1;
  }
  return { bytes, tornBytes, firstPosition, lastPosition };
}

/** Says what a tail is, for the repair / skip warning. */
export function tailText(tail: LogTail, committedBytes: number): string {
  const parts: string[] = [];
  if (tail.firstPosition !== undefined) {
    const span = tail.lastPosition !== undefined && tail.lastPosition !== tail.firstPosition ? `${tail.firstPosition}..${tail.lastPosition}` : `${tail.firstPosition}`;
    parts.push(`an incomplete final batch (position${span.includes('..') ? 's' : ''} ${span}, no commit record)`);
  } else if (tail.bytes > tail.tornBytes) {
    parts.push(`${tail.bytes - tail.tornBytes} byte(s) of whole lines without a commit record`);
  }
  if (tail.tornBytes > 0) parts.push(`a torn write of ${tail.tornBytes} byte(s) after the last newline`);
  return `${parts.join(' and ')}: ${tail.bytes} byte(s) from byte offset ${committedBytes}`;
}

export async function readRange(handle: FileHandle, start: number, end: number): Promise<Buffer> {
  const buffer = Buffer.alloc(Math.max(0, end - start));
  let done = 0;
  while (done < buffer.length) {
    const { bytesRead } = await handle.read(buffer, done, buffer.length - done, start + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

const SCAN_BYTES = 64 * 1024;

/** Offset of the last newline in [floor, end), or floor − 1; reads backwards in chunks. */
async function lastNewlineBefore(handle: FileHandle, floor: number, end: number): Promise<number> {
  for (let chunkEnd = end; chunkEnd > floor; chunkEnd -= SCAN_BYTES) {
    const chunkStart = Math.max(floor, chunkEnd - SCAN_BYTES);
    const at = (await readRange(handle, chunkStart, chunkEnd)).lastIndexOf(NEWLINE);
    if (at !== -1) return chunkStart + at;
  }
  return floor - 1;
}

/** A buffer twice the size of `buffer` holding its first `keep` bytes (a line longer than the read buffer). */
export function doubled(buffer: Buffer<ArrayBuffer>, keep: number): Buffer<ArrayBuffer> {
  const bigger = Buffer.allocUnsafe(buffer.length * 2);
  buffer.copy(bigger, 0, 0, keep);
  return bigger;
}

import type { Hash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CorruptLogError } from '../errors';
import {
  batchHash,
  CHECKPOINT_BYTES,
  CHECKPOINT_PREFIX,
  COMMIT_MARK,
  COMMIT_PREFIX,
  hashAfterCheckpoint,
  initialChain,
  NEWLINE,
  parseCheckpoint,
  parseCommit,
  parseHeader,
  positionOf,
  splitEventLine,
  type CommitRecord,
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
 * reads: every batch's chain must match its commit record (and, inside a long
 * batch, each checkpoint record), and each commit must continue the
 * positions. No line is parsed on this path; a batch that does not verify is
 * then read line by line to name the exact line and what is wrong with it
 * (CorruptLogError). Returns the last complete commit; the bytes after it are
 * the caller's (see `describeTail`).
 *
 * A log of PARALLEL_MIN_BYTES or more is hashed in two halves at once, split
 * at a commit or checkpoint record near its middle: the second half on a
 * thread (verify-worker.ts) from the chain that record carries, the first on
 * this one up to that record, which proves the chain the second started
 * from. Only a log that verifies whole that way is answered from the halves;
 * anything else (a record that does not match, a torn batch, no record near
 * the middle) is walked again from the start on this thread, which names
 * what is wrong exactly as before.
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
  /** Where to look for the record to split at (tests), instead of the middle of a log of PARALLEL_MIN_BYTES or more. */
  splitFrom?: number,
): Promise<VerifiedLog> {
  const headerEnd = header.bytes.length;
  const setting = process.env[VERIFY_HALVES_ENV];
  const halvesFrom = setting === '0' ? Infinity : setting === '1' ? 1 : PARALLEL_MIN_BYTES;
  const split = splitFrom ?? (size - headerEnd >= halvesFrom ? headerEnd + Math.floor((size - headerEnd) / 2) : undefined);
  if (split !== undefined && split > headerEnd && split < size) {
    const halves = await verifyInHalves(handle, file, size, header, split, wantChainsAt, readBytes);
    if (halves !== undefined) return halves;
  }
  const end = await walkLog(handle, file, size, headerStart(header), wantChainsAt, readBytes, { vouchedUpTo });
  if (end === undefined) throw new Error('verifyLog: a walk that diagnoses gave no answer'); // never: only a strict walk answers undefined
  return { header: header.header, head: end.head!, committedBytes: end.committedBytes, committedLines: end.lines, chain: end.chain, chainsAt: end.chainsAt, ...(end.tornBatch ? { tornBatch: end.tornBatch } : {}) };
}

/** A log of at least this many bytes after its header is hashed in two halves at once (~0.1 s to start the thread: a smaller one gains nothing). */
export const PARALLEL_MIN_BYTES = 256 * 1024 * 1024;
/**
 * `0`: never hash a log in two halves (a machine of one core, or to compare); `1`: any log with a record after its
 * middle, whatever its size (the tests of the thread); unset: logs of PARALLEL_MIN_BYTES or more.
 */
export const VERIFY_HALVES_ENV = 'CLEARSIM_VERIFY_HALVES';
/** How far past the middle to look for a record to split at (a long batch has a checkpoint every CHECKPOINT_BYTES). */
const SPLIT_SEARCH_BYTES = 2 * CHECKPOINT_BYTES + 16 * 1024 * 1024;
/** A commit or checkpoint record is far shorter. */
const RECORD_MAX_BYTES = 256;
/** Bytes read at a time while looking for a record. */
const RECORD_SCAN_BYTES = 1024 * 1024;

/** Where a walk over the log starts: a line start, and what was proved up to there. */
export interface WalkStart {
  offset: number;
  /** The chain of the last commit or checkpoint record before `offset` (the initial chain at the header). */
  chain: Buffer;
  /** The running hash from there (seeded with `chain`, and after a checkpoint with its line). */
  hash: Hash;
  /** The last committed position; undefined: not known (a walk from a checkpoint record, inside a batch that started before it). */
  head: number | undefined;
  /** Lines up to the last commit (the header is line 1); a walk from a record counts the lines after it from 0. */
  lines: number;
}

/** Where a walk ended. */
export interface WalkEnd {
  /** The last committed position (undefined: a walk from a checkpoint that met no commit). */
  head: number | undefined;
  /** The file offset after the last commit record (or the start's offset, if none was met). */
  committedBytes: number;
  lines: number;
  /** The chain after the last commit record (the start's chain, if none was met). */
  chain: Buffer;
  chainsAt: Map<number, string>;
  /** Checkpoint records met since the last commit (lines of a batch not committed yet). */
  checkpointsSinceCommit: number;
  /** The file offset after the last commit or checkpoint record verified. */
  recordEnd: number;
  /** A walk from a checkpoint: the first commit record it met, whose batch started before the walk (its `commit − events` is checked by whoever knows that batch's start). */
  firstCommit?: { commit: number; events: number };
  tornBatch?: VerifiedLog['tornBatch'];
}

function headerStart(header: { bytes: Buffer }): WalkStart {
  const chain = initialChain(header.bytes);
  return { offset: header.bytes.length, chain, hash: batchHash(chain), head: 0, lines: 1 };
}

/**
 * Walks [start.offset, size) of the log as verifyLog says. `strict`: the first thing that does not verify ends the
 * walk with undefined (the caller walks again from the start, which names it); otherwise it is diagnosed (thrown
 * CorruptLogError), or answered as a torn final batch, or — a checkpoint of a final batch that has no commit record —
 * left to the caller as the tail it is.
 */
export async function walkLog(
  handle: FileHandle,
  file: string,
  size: number,
  start: WalkStart,
  wantChainsAt: ReadonlySet<number>,
  readBytes: number,
  options: { vouchedUpTo?: number; strict?: boolean },
): Promise<WalkEnd | undefined> {
  const { vouchedUpTo, strict = false } = options;
  let chain = start.chain;
  let head = start.head;
  let lines = start.lines;
  let committedBytes = start.offset;
  let recordEnd = start.offset;
  let checkpoints = 0;
  let firstCommit: WalkEnd['firstCommit'];
  const chainsAt = new Map<number, string>();
  const ended = (tornBatch?: VerifiedLog['tornBatch']): WalkEnd => ({
    head,
    committedBytes,
    lines,
    chain,
    chainsAt,
    checkpointsSinceCommit: checkpoints,
    recordEnd,
    ...(firstCommit ? { firstCommit } : {}),
    ...(tornBatch ? { tornBatch } : {}),
  });

  let buffer = Buffer.allocUnsafe(Math.min(readBytes, Math.max(size - committedBytes, 1)));
  let windowStart = committedBytes; // file offset of buffer[0]
  let filled = 0; // bytes of buffer holding file data
  let cursor = 0; // buffer offset: next byte not yet hashed (always a line start)
  let hash = start.hash;
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
      const recordAt = nextCommit(buffer, cursor, complete);
      if (recordAt < 0) {
        hash.update(buffer.subarray(cursor, complete));
        cursor = complete;
        break;
      }
      hash.update(buffer.subarray(cursor, recordAt));
      const end = buffer.indexOf(NEWLINE, recordAt);
      const text = buffer.toString('latin1', recordAt, end);
      const digest = hash.digest();
      if (text.startsWith(CHECKPOINT_PREFIX)) {
        const checkpoint = parseCheckpoint(text);
        if (checkpoint === undefined || checkpoint.chain !== digest.toString('hex') || (head !== undefined && checkpoint.checkpoint <= head)) {
          if (strict) return undefined;
          // a checkpoint of a final batch that no commit record closes: the tail of a crash, not part of the log
          const commits = await commitRecordsIn(handle, windowStart + end + 1, size);
          if (commits.count === 0) return ended();
          const diagnosis = diagnose(handle, file, committedBytes, windowStart + recordAt, lines, head!, text);
          if (vouchedUpTo === undefined || head! < vouchedUpTo || commits.count > 1) return diagnosis;
          const problem = await diagnosis.catch((error: unknown) => error);
          if (!(problem instanceof CorruptLogError)) throw problem;
          const lastPosition = commits.first && commits.first.commit > head! ? commits.first.commit : head! + 1;
          return ended({ firstPosition: head! + 1, lastPosition, bytes: size - committedBytes, problem });
        }
        checkpoints++;
        hash = hashAfterCheckpoint(digest, buffer.subarray(recordAt, end + 1));
        recordEnd = windowStart + end + 1;
        cursor = end + 1;
        continue;
      }
      const record = parseCommit(text);
      const continues = record !== undefined && (head === undefined ? firstCommit === undefined : record.commit - record.events === head);
      if (record === undefined || !continues || record.chain !== digest.toString('hex')) {
        if (strict || head === undefined) return undefined;
        const batchStart = committedBytes;
        const diagnosis = diagnose(handle, file, batchStart, windowStart + recordAt, lines, head, buffer.toString('utf8', recordAt, end));
        const afterRecord = windowStart + end + 1;
        if (vouchedUpTo === undefined || head < vouchedUpTo || (await commitRecordsIn(handle, afterRecord, size)).count > 0) return diagnosis;
        const problem = await diagnosis.catch((error: unknown) => error);
        if (!(problem instanceof CorruptLogError)) throw problem;
        const lastPosition = record && record.commit > head ? record.commit : head + 1;
        return ended({ firstPosition: head + 1, lastPosition, bytes: size - batchStart, problem });
      }
      if (head === undefined) firstCommit = { commit: record.commit, events: record.events };
      head = record.commit;
      lines += record.events + checkpoints + 1;
      checkpoints = 0;
      chain = digest;
      committedBytes = windowStart + end + 1;
      recordEnd = committedBytes;
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
  return ended();
}

/** A commit or checkpoint record found in the file: where its line starts and ends (after the newline), and its text. */
interface FoundRecord {
  offset: number;
  end: number;
  text: string;
}

/** The first commit or checkpoint record whose line starts in [from, limit) of the file (`from` need not be a line start). */
async function recordFrom(handle: FileHandle, from: number, limit: number, size: number): Promise<FoundRecord | undefined> {
  // chunks overlap by one byte, so each candidate's previous byte is in its chunk; 1 MiB at a time: the search for a
  // split passes over up to CHECKPOINT_BYTES before the thread can start
  for (let start = Math.max(0, from - 1); start + 1 < limit; start += RECORD_SCAN_BYTES - 1) {
    const chunk = await readRange(handle, start, Math.min(size, start + RECORD_SCAN_BYTES));
    for (let at = chunk.indexOf(COMMIT_MARK, 1); at !== -1; at = chunk.indexOf(COMMIT_MARK, at + 1)) {
      if (chunk[at - 1] !== NEWLINE || start + at < from || start + at >= limit) continue;
      const line = await readRange(handle, start + at, Math.min(size, start + at + RECORD_MAX_BYTES));
      const newline = line.indexOf(NEWLINE);
      if (newline < 0) return undefined;
      return { offset: start + at, end: start + at + newline + 1, text: line.toString('latin1', 0, newline) };
    }
  }
  return undefined;
}

/** Where the second half's walk starts, as plain data (it crosses to the thread). */
export interface SecondHalfStart {
  offset: number;
  /** The chain the split record carries, hex. */
  chain: string;
  /** A checkpoint record's line (newline included), which the chain goes on over; undefined for a commit record. */
  checkpointLine: string | undefined;
  /** The commit record's position; undefined for a checkpoint. */
  head: number | undefined;
}

/** The second half's WalkEnd as plain data (undefined: something did not verify). */
export interface SecondHalfEnd {
  head: number | undefined;
  committedBytes: number;
  lines: number;
  chain: string;
  chainsAt: [number, string][];
  firstCommit?: { commit: number; events: number };
}

/** What the verify thread is started with (verify-worker.ts). */
export interface SecondHalfJob {
  file: string;
  size: number;
  start: SecondHalfStart;
  wantChainsAt: number[];
  readBytes: number;
}

/** Walks the second half (strict: undefined at the first thing that does not verify, or a torn batch), through a handle of its own. */
export async function walkSecondHalf(job: SecondHalfJob): Promise<SecondHalfEnd | undefined> {
  const { file, size, start } = job;
  const handle = await open(file, 'r');
  try {
    const chain = Buffer.from(start.chain, 'hex');
    const hash = start.checkpointLine === undefined ? batchHash(chain) : hashAfterCheckpoint(chain, Buffer.from(start.checkpointLine, 'latin1'));
    const end = await walkLog(handle, file, size, { offset: start.offset, chain, hash, head: start.head, lines: 0 }, new Set(job.wantChainsAt), job.readBytes, { strict: true });
    if (end === undefined || end.tornBatch) return undefined;
    return {
      head: end.head,
      committedBytes: end.committedBytes,
      lines: end.lines,
      chain: end.chain.toString('hex'),
      chainsAt: [...end.chainsAt],
      ...(end.firstCommit ? { firstCommit: end.firstCommit } : {}),
    };
  } finally {
    await handle.close();
  }
}

const VERIFY_WORKER_SCRIPT = join(__dirname, 'verify-worker.js');

/**
 * walkSecondHalf on a thread of its own (the built verify-worker.js), or in this thread where it is not there (under
 * a test runner's sources: the two walks then take turns at their reads, with the same answers). Undefined when the
 * thread fails for any reason: the caller verifies the whole log itself.
 */
function verifySecondHalf(file: string, size: number, start: SecondHalfStart, wantChainsAt: number[], readBytes: number): Promise<SecondHalfEnd | undefined> {
  const job: SecondHalfJob = { file, size, start, wantChainsAt, readBytes };
  if (!existsSync(VERIFY_WORKER_SCRIPT)) return walkSecondHalf(job).catch(() => undefined);
  return new Promise((resolve) => {
    let answered = false;
    const answer = (end: SecondHalfEnd | undefined): void => {
      if (answered) return;
      answered = true;
      resolve(end);
    };
    const worker = new Worker(VERIFY_WORKER_SCRIPT, { workerData: job });
    worker.once('message', (end: SecondHalfEnd | null) => answer(end ?? undefined));
    worker.once('error', () => answer(undefined));
    worker.once('exit', () => answer(undefined));
  });
}

/**
 * verifyLog in two halves at once (see there): undefined whenever the answer is not "every record verified" (the
 * caller walks the whole log again, which says what is wrong), or when no record lies near `splitFrom`. Exported for
 * the tests (that the halves answer, not only the walk they fall back to).
 */
export async function verifyInHalves(
  handle: FileHandle,
  file: string,
  size: number,
  header: { header: LogHeader; bytes: Buffer },
  splitFrom: number,
  wantChainsAt: ReadonlySet<number>,
  readBytes: number,
): Promise<VerifiedLog | undefined> {
  const split = await recordFrom(handle, splitFrom, Math.min(size, splitFrom + SPLIT_SEARCH_BYTES), size);
  if (split === undefined) return undefined;
  const commit = parseCommit(split.text);
  const checkpoint = commit === undefined ? parseCheckpoint(split.text) : undefined;
  if (commit === undefined && checkpoint === undefined) return undefined;
  const secondStart: SecondHalfStart = {
    offset: split.end,
    chain: (commit ?? checkpoint)!.chain,
    // the record's line as recordFrom read it (latin1: its bytes one for one), with its newline
    checkpointLine: checkpoint ? `${split.text}\n` : undefined,
    head: commit ? commit.commit : undefined,
  };
  const second = verifySecondHalf(file, size, secondStart, [...wantChainsAt], readBytes);
  // the first half on this thread, up to the record the second one started from: it proves that record's chain
  const first = await walkLog(handle, file, split.end, headerStart(header), wantChainsAt, readBytes, { strict: true }).catch(() => undefined);
  const rest = await second;
  if (first === undefined || rest === undefined || first.tornBatch || first.recordEnd !== split.end || first.head === undefined) return undefined;
  if (commit !== undefined && first.head !== commit.commit) return undefined;
  // a split inside a batch: its commit record (met by the second half) must close the batch the first half began
  if (checkpoint !== undefined && rest.firstCommit !== undefined && rest.firstCommit.commit - rest.firstCommit.events !== first.head) return undefined;
  const chainsAt = new Map<number, string>([...first.chainsAt, ...rest.chainsAt]);
  if (rest.head === undefined) {
    // no commit after a checkpoint split: the batch it cuts is the uncommitted tail
    return { header: header.header, head: first.head, committedBytes: first.committedBytes, committedLines: first.lines, chain: first.chain, chainsAt };
  }
  return {
    header: header.header,
    head: rest.head,
    committedBytes: rest.committedBytes,
    committedLines: first.lines + first.checkpointsSinceCommit + rest.lines,
    chain: Buffer.from(rest.chain, 'hex'),
    chainsAt,
  };
}

/**
 * The commit records (not checkpoints) at line starts in [from, size) of the file (`from` is a line start, the byte
 * before it a newline): how many, up to 2, and the first one.
 */
async function commitRecordsIn(handle: FileHandle, from: number, size: number): Promise<{ count: number; first?: CommitRecord }> {
  let count = 0;
  let first: CommitRecord | undefined;
  for (let at = from; at < size && count < 2; ) {
    const record = await recordFrom(handle, at, size, size);
    if (record === undefined) break;
    if (record.text.startsWith(COMMIT_PREFIX)) {
      count++;
      first ??= parseCommit(record.text);
    }
    at = record.end;
  }
  return first ? { count, first } : { count };
}

/** Buffer offset of the next commit or checkpoint record starting at or after `from` (a line start), before `end`; -1 if none. */
function nextCommit(buffer: Buffer, from: number, end: number): number {
  for (let at = buffer.indexOf(COMMIT_MARK, from); at !== -1 && at < end; at = buffer.indexOf(COMMIT_MARK, at + 1)) {
    if (at === from || buffer[at - 1] === NEWLINE) return at;
  }
  return -1;
}

/**
 * The batch [start, commitOffset) and its commit record (or the checkpoint
 * record at commitOffset, inside the batch) did not verify: reads it line by
 * line and throws the first thing wrong, naming the line (its number in the
 * file) and the position.
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
    if (line[0] === COMMIT_MARK) {
      // a checkpoint record of this batch, its chain verified: what it says of the positions is checked here
      const checkpoint = parseCheckpoint(line.toString('latin1'));
      if (checkpoint === undefined) fail(`a malformed record inside a batch (${JSON.stringify(line.toString('latin1').slice(0, 120))}): only a checkpoint record may stand there`, 'malformed-line');
      else if (checkpoint.checkpoint !== expected - 1) fail(`the checkpoint record says position ${checkpoint.checkpoint}, but the lines before it end at position ${expected - 1} (a changed checkpoint record?)`, 'tampered-line');
      continue;
    }
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
  const last = expected - 1;
  if (commitText.startsWith(CHECKPOINT_PREFIX)) {
    const checkpoint = parseCheckpoint(commitText);
    if (checkpoint === undefined) return fail(`a malformed checkpoint record (${JSON.stringify(commitText.slice(0, 120))})`, 'malformed-line', commitLine);
    if (checkpoint.checkpoint !== last) {
      return fail(`the checkpoint record says position ${checkpoint.checkpoint}, but the lines before it end at position ${last} (a checkpoint record changed, or lines removed?)`, 'tampered-line', commitLine);
    }
    return fail(
      `the hash chain does not match the checkpoint record after position ${checkpoint.checkpoint} although every line's CRC does: the checkpoint record was changed (or one before it removed)`,
      'tampered-line',
      commitLine,
    );
  }
  const record = parseCommit(commitText);
  if (record === undefined) return fail(`a malformed commit record (${JSON.stringify(commitText.slice(0, 120))})`, 'malformed-line', commitLine);
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

import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { decodeLine, encodeEvent, InputError, type ClearingEvent } from '@clearsim/events';
import { anchorOf, BufferedAppendTransaction, checkExpectedPosition, checkReadRange, checkSnapshot, defaultWarn } from '../adapter-support';
import { ConcurrencyError, type AppendTransaction, type EventStore, type ReadOptions, type Snapshot, type StoredEvent } from '../event-store.port';
import { AppendInProgressError, CorruptLogError, ReadOnlyStoreError, StoreNotFoundError } from '../errors';
import { FileLock } from './file-lock';
import { FileSnapshots, fsyncDirectory, SNAPSHOTS_DIR } from './file-snapshots';

/** The log inside the store directory: one event per line, `{"position":N, ...canonical event}`. */
export const EVENTS_FILE = 'events.jsonl';
/** Holds the writer's pid while the store is open. */
export const LOCK_FILE = 'LOCK';
export { CorruptLogError };

/** An append is written in pieces of about this many characters (one write syscall each). */
const WRITE_CHUNK_CHARS = 8 * 1024 * 1024;
/** Read-buffer size for `read` (grows for longer lines). */
const READ_BUFFER_BYTES = 1024 * 1024;
/** Chunk size for the small scans (tail recovery, seeking). */
const SCAN_BYTES = 64 * 1024;
/** `read` bisects the file to find its start position until the range is this small, then scans. */
const SEEK_SCAN_BYTES = 1024 * 1024;
const POSITION_PREFIX = '{"position":';
const NEWLINE = 0x0a;

export interface FileEventStoreOptions {
  /** Receives recovery notices (a torn tail dropped, a stale lock taken over). Default: process.emitWarning. */
  warn?: (message: string) => void;
  /** The URL to name the store by in messages. Default `file:<dirPath>`. */
  url?: string;
  /** Read only: creates and modifies nothing, takes no lock; a missing or empty store is a StoreNotFoundError. */
  readOnly?: boolean;
}

/**
 * The embedded, default event store (DESIGN §1): an append-only JSON Lines
 * file in a directory, one writer at a time.
 *
 * - Line N holds the event at position N: `{"position":N,"type":…,"v":1,"ts":…,…}`
 *   (the event's canonical JSON with its position as the first key).
 * - `append` writes the whole batch with one positional write per ~8 MB and
 *   one fsync, and acknowledges only after the fsync. A failed write is cut
 *   off again, and the store then refuses further appends until reopened.
 * - `open` drops a torn last line (a write cut short by a crash: no final
 *   newline, or a last line that is not JSON) with a warning, and finds the
 *   head from the last line without reading the rest of the file.
 * - `read` reads a snapshot (the log as of its first step) with a 1 MB
 *   buffer, bisecting the file to find `fromPosition`; every line it passes
 *   must hold the position equal to its line number.
 *
 * - Snapshots live in `<dir>/snapshots/` (see FileSnapshots): written
 *   atomically, the newest 3 kept; `latestSnapshot` returns the highest one
 *   not beyond the head whose anchor matches the log, skipping (with a
 *   warning) any it cannot read.
 *
 * Crash semantics: no acknowledged event is ever lost. A crash in the middle of
 * an unacknowledged multi-event append can leave a prefix of that batch
 * (whole lines) in the log; the line format has no batch marker.
 */
export class FileEventStore implements EventStore {
  private queue: Promise<unknown> = Promise.resolve();
  private closing?: Promise<void>;
  private broken?: Error;
  private inTransaction = false;

  private constructor(
    readonly url: string,
    /** Absolute path of the log file. */
    readonly file: string,
    private readonly handle: FileHandle,
    private readonly lock: FileLock | undefined,
    private headPosition: number,
    /** Bytes of the file that hold acknowledged events (always ends at a newline). */
    private committedBytes: number,
    private readonly snapshots: FileSnapshots,
    private readonly warn: (message: string) => void,
  ) {}

  /** Opens (creating if needed) the store in `dirPath` for writing. Refused while another process has it open. */
  static async open(dirPath: string, options: FileEventStoreOptions = {}): Promise<FileEventStore> {
    const warn = options.warn ?? defaultWarn;
    const url = options.url ?? `file:${dirPath}`;
    const dir = path.resolve(dirPath);
    if (options.readOnly) return FileEventStore.openReadOnly(dir, url, warn);
    const firstCreated = await fs.mkdir(dir, { recursive: true });
    if (firstCreated !== undefined) await fsyncDirectory(path.dirname(firstCreated));
    const lock = await FileLock.acquire(path.join(dir, LOCK_FILE), `event store ${url}`, warn);
    let handle: FileHandle | undefined;
    try {
      const file = path.join(dir, EVENTS_FILE);
      try {
        handle = await fs.open(file, 'wx+');
        await fsyncDirectory(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        handle = await fs.open(file, 'r+');
      }
      const { head, bytes } = await recoverTail(handle, file, warn);
      return new FileEventStore(url, file, handle, lock, head, bytes, new FileSnapshots(path.join(dir, SNAPSHOTS_DIR), warn), warn);
    } catch (error) {
      await handle?.close();
      await lock.release();
      throw error;
    }
  }

  private static async openReadOnly(dir: string, url: string, warn: (message: string) => void): Promise<FileEventStore> {
    const file = path.join(dir, EVENTS_FILE);
    let handle: FileHandle;
    try {
      handle = await fs.open(file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const dirExists = await fs.stat(dir).then(
        () => true,
        () => false,
      );
      throw new StoreNotFoundError(url, dirExists ? `no ${EVENTS_FILE} in ${dir}` : 'no such directory');
    }
    try {
      const { head, bytes } = await recoverTail(handle, file, warn, true);
      if (head === 0) throw new StoreNotFoundError(url, `${EVENTS_FILE} holds no event`);
      return new FileEventStore(url, file, handle, undefined, head, bytes, new FileSnapshots(path.join(dir, SNAPSHOTS_DIR), warn), warn);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async head(): Promise<number> {
    this.assertOpen();
    return this.headPosition;
  }

  beginAppend(expectedPosition: number): Promise<AppendTransaction> {
    if (this.closing) return Promise.reject(this.closedError());
    return this.exclusive(async () => {
      this.assertWritable('beginAppend');
      checkExpectedPosition(expectedPosition);
      if (expectedPosition !== this.headPosition) throw new ConcurrencyError(expectedPosition, this.headPosition);
      this.inTransaction = true;
      return new BufferedAppendTransaction(
        this.url,
        expectedPosition,
        (events) => this.exclusive(() => this.writeBatch(events)),
        () => {
          this.inTransaction = false;
        },
      );
    });
  }

  private assertWritable(operation: string): void {
    if (this.lock === undefined) throw new ReadOnlyStoreError(this.url, operation);
    if (this.inTransaction) throw new AppendInProgressError(this.url, operation);
  }

  append(events: readonly ClearingEvent[], expectedPosition: number): Promise<number> {
    if (this.closing) return Promise.reject(this.closedError());
    return this.exclusive(async () => {
      this.assertWritable('append');
      if (this.broken) {
        throw new Error(`${this.url}: the store refuses appends after a failed write (${this.broken.message}); reopen it`, { cause: this.broken });
      }
      checkExpectedPosition(expectedPosition);
      if (expectedPosition !== this.headPosition) throw new ConcurrencyError(expectedPosition, this.headPosition);
      if (events.length === 0) return this.headPosition;
      return this.writeBatch(events);
    });
  }

  private async writeBatch(events: readonly ClearingEvent[]): Promise<number> {
    let position = this.headPosition;
    let offset = this.committedBytes;
    let parts: string[] = [];
    let chars = 0;
    const flush = async () => {
      const buffer = Buffer.from(parts.join(''), 'utf8');
      parts = [];
      chars = 0;
      await this.io(() => writeFully(this.handle, buffer, offset));
      offset += buffer.length;
    };
    try {
      for (const event of events) {
        const line = storedLine(++position, event);
        parts.push(line);
        chars += line.length;
        if (chars >= WRITE_CHUNK_CHARS) await flush();
      }
      if (parts.length > 0) await flush();
      await this.io(() => this.handle.sync());
    } catch (error) {
      if (offset > this.committedBytes || this.broken) await this.cutBack();
      throw error;
    }
    this.committedBytes = offset;
    this.headPosition = position;
    return position;
  }

  /** Runs a write or fsync; a failure leaves the file in an unknown state, so the store stops appending. */
  private async io<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      this.broken = error instanceof Error ? error : new Error(String(error));
      throw error;
    }
  }

  /** Best effort: removes the unacknowledged bytes of a failed append. */
  private async cutBack(): Promise<void> {
    try {
      await this.handle.truncate(this.committedBytes);
      await this.handle.sync();
    } catch (error) {
      this.broken ??= error instanceof Error ? error : new Error(String(error));
    }
  }

  read(fromPosition = 1, options: ReadOptions = {}): AsyncGenerator<StoredEvent> {
    this.assertOpen();
    return this.readOpen(fromPosition, options);
  }

  /** `read` without the closed check, for work queued before a close (a snapshot's anchor). */
  private async *readOpen(fromPosition: number, options: ReadOptions): AsyncGenerator<StoredEvent> {
    checkReadRange(fromPosition, options.toPosition);
    const { toPosition } = options;
    const last = Math.min(this.headPosition, toPosition ?? Infinity);
    const end = this.committedBytes;
    if (fromPosition > last) return;

    const handle = await fs.open(this.file, 'r');
    try {
      const start = await seek(handle, fromPosition, end);
      let buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      let carried = 0; // bytes of an unfinished line kept at the start of `buffer`
      let fileOffset = start.offset;
      let lineNo = start.position;
      while (fileOffset < end) {
        if (carried === buffer.length) {
          const bigger = Buffer.allocUnsafe(buffer.length * 2);
          buffer.copy(bigger, 0, 0, carried);
          buffer = bigger;
        }
        const { bytesRead } = await handle.read(buffer, carried, Math.min(buffer.length - carried, end - fileOffset), fileOffset);
        if (bytesRead === 0) {
          throw new Error(`${this.file}: the file ends at byte ${fileOffset}, but the store wrote ${end} bytes (was it truncated by another program?)`);
        }
        fileOffset += bytesRead;
        const view = buffer.subarray(0, carried + bytesRead);
        let lineStart = 0;
        for (let newline = view.indexOf(NEWLINE); newline !== -1; newline = view.indexOf(NEWLINE, lineStart)) {
          if (lineNo >= fromPosition) {
            yield { position: lineNo, event: this.decode(view.toString('utf8', lineStart, newline), lineNo) };
            if (lineNo >= last) return;
          } else {
            this.checkSkipped(view, lineStart, newline, lineNo);
          }
          lineNo++;
          lineStart = newline + 1;
        }
        carried = view.length - lineStart;
        if (carried > 0) buffer.copyWithin(0, lineStart, view.length);
      }
      throw new Error(`${this.file}: the log ended at line ${lineNo - 1}, before position ${last}`);
    } finally {
      await handle.close();
    }
  }

  private decode(line: string, lineNo: number): ClearingEvent {
    const split = splitPosition(line);
    if (split === undefined) throw new CorruptLogError(this.file, lineNo, describeUnpositioned(line));
    if (split.position !== lineNo) {
      throw new CorruptLogError(this.file, lineNo, `holds position ${split.position}, but line ${lineNo} must hold position ${lineNo}`);
    }
    try {
      return decodeLine(split.json, 'any', this.file, lineNo);
    } catch (error) {
      if (error instanceof InputError) throw new CorruptLogError(this.file, lineNo, InputError.describe(error.issues), { cause: error });
      throw error;
    }
  }

  /** A line before `fromPosition`: only its position is checked (decoding is the expensive part). */
  private checkSkipped(view: Buffer, start: number, end: number, lineNo: number): void {
    const position = positionOf(view.toString('utf8', start, Math.min(end, start + 40)));
    if (position !== lineNo) {
      const line = view.toString('utf8', start, end);
      throw new CorruptLogError(
        this.file,
        lineNo,
        position === undefined ? describeUnpositioned(line) : `holds position ${position}, but line ${lineNo} must hold position ${lineNo}`,
      );
    }
  }

  /**
   * Writes the snapshot atomically (after every append queued before it) and
   * prunes all but the newest 3. A snapshot beyond the head is stored without
   * an anchor, so it is never returned.
   */
  saveSnapshot(snapshot: Snapshot): Promise<void> {
    if (this.closing) return Promise.reject(this.closedError());
    return this.exclusive(async () => {
      this.assertWritable('saveSnapshot');
      checkSnapshot(snapshot);
      const anchor = snapshot.position <= this.headPosition ? await this.anchorAt(snapshot.position) : null;
      await this.snapshots.save({ position: snapshot.position, state: snapshot.state, anchor });
    });
  }

  async latestSnapshot(): Promise<Snapshot | undefined> {
    this.assertOpen();
    const head = this.headPosition;
    for (const position of await this.snapshots.positions()) {
      if (position > head) continue;
      const stored = await this.snapshots.load(position);
      if (stored === undefined) continue;
      if (stored.anchor !== (await this.anchorAt(position))) {
        this.warn(
          `${this.snapshots.dir}: ignoring the snapshot at position ${position}: ` +
            (stored.anchor === null
              ? 'it was saved when the log did not reach that position yet'
              : 'it was taken from another log (the event at that position differs; was the log reset or replaced?)'),
        );
        continue;
      }
      return { position, state: stored.state };
    }
    return undefined;
  }

  private async anchorAt(position: number): Promise<string> {
    if (position === 0) return anchorOf(undefined);
    for await (const { event } of this.readOpen(position, { toPosition: position })) return anchorOf(event);
    throw new Error(`${this.file}: no event at position ${position}`);
  }

  close(): Promise<void> {
    this.closing ??= this.exclusive(async () => {
      await this.handle.close();
      await this.lock?.release();
    });
    return this.closing;
  }

  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private assertOpen(): void {
    if (this.closing) throw this.closedError();
  }

  private closedError(): Error {
    return new Error(`event store ${this.url} is closed`);
  }
}

/** `{"position":N,` + the rest of the event's canonical JSON + newline. */
function storedLine(position: number, event: ClearingEvent): string {
  return `${POSITION_PREFIX}${position},${encodeEvent(event).slice(1)}\n`;
}

/** The position a stored line starts with, if it starts the way this store writes lines. */
function positionOf(linePrefix: string): number | undefined {
  if (!linePrefix.startsWith(POSITION_PREFIX)) return undefined;
  const comma = linePrefix.indexOf(',', POSITION_PREFIX.length);
  if (comma < 0) return undefined;
  const digits = linePrefix.slice(POSITION_PREFIX.length, comma);
  if (!/^[1-9]\d{0,15}$/.test(digits)) return undefined;
  const position = Number(digits);
  return Number.isSafeInteger(position) ? position : undefined;
}

/** Splits a stored line into its position and the event's own JSON (`{` + everything after the position). */
function splitPosition(line: string): { position: number; json: string } | undefined {
  const position = positionOf(line.slice(0, 40));
  if (position === undefined) return undefined;
  return { position, json: '{' + line.slice(POSITION_PREFIX.length + String(position).length + 1) };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function describeUnpositioned(line: string): string {
  try {
    JSON.parse(line);
  } catch (error) {
    return `malformed JSON (${(error as Error).message})`;
  }
  return 'the line does not start with {"position":N,';
}

async function writeFully(handle: FileHandle, buffer: Buffer, offset: number): Promise<void> {
  let done = 0;
  while (done < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, done, buffer.length - done, offset + done);
    done += bytesWritten;
  }
}

async function readRange(handle: FileHandle, start: number, end: number): Promise<Buffer> {
  const buffer = Buffer.alloc(end - start);
  let done = 0;
  while (done < buffer.length) {
    const { bytesRead } = await handle.read(buffer, done, buffer.length - done, start + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

/** Offset of the last newline in [0, end), or -1; reads backwards in chunks. */
async function lastNewlineBefore(handle: FileHandle, end: number): Promise<number> {
  for (let chunkEnd = end; chunkEnd > 0; chunkEnd -= SCAN_BYTES) {
    const chunkStart = Math.max(0, chunkEnd - SCAN_BYTES);
    const at = (await readRange(handle, chunkStart, chunkEnd)).lastIndexOf(NEWLINE);
    if (at !== -1) return chunkStart + at;
  }
  return -1;
}

/** Offset of the first newline in [start, end), or -1. */
async function firstNewlineFrom(handle: FileHandle, start: number, end: number): Promise<number> {
  for (let chunkStart = start; chunkStart < end; chunkStart += SCAN_BYTES) {
    const at = (await readRange(handle, chunkStart, Math.min(end, chunkStart + SCAN_BYTES))).indexOf(NEWLINE);
    if (at !== -1) return chunkStart + at;
  }
  return -1;
}

/**
 * Finds where the torn tail (if any) starts, cuts it off, and returns the
 * head. A torn tail is the bytes after the last newline, plus the last line
 * if it is not JSON (a crash can persist a newline before the bytes it ends).
 */
async function recoverTail(handle: FileHandle, file: string, warn: (message: string) => void, readOnly = false): Promise<{ head: number; bytes: number }> {
  const size = (await handle.stat()).size;
  let end = (await lastNewlineBefore(handle, size)) + 1;
  const reasons = end < size ? ['an unterminated last line'] : [];
  let head = 0;
  while (end > 0) {
    const start = (await lastNewlineBefore(handle, end - 1)) + 1;
    const line = (await readRange(handle, start, end - 1)).toString('utf8');
    if (!isJson(line)) {
      if (reasons.includes('a last line that is not JSON')) {
        throw new Error(`${file}: the last two lines (from byte offset ${start}) are not JSON; that is not a torn write, so nothing was dropped: repair the file by hand`);
      }
      reasons.push('a last line that is not JSON');
      end = start;
      continue;
    }
    const position = positionOf(line.slice(0, 40));
    if (position === undefined) throw new Error(`${file}: the last line (byte offset ${start}) does not start with {"position":N,; refusing to open`);
    head = position;
    break;
  }
  if (end < size && readOnly) {
    warn(`${file}: ignoring a torn write at the end of the log (${reasons.join(' and ')}): reading up to byte offset ${end}, ${size - end} byte(s) after it skipped`);
  } else if (end < size) {
    await handle.truncate(end);
    await handle.sync();
    warn(`${file}: dropped a torn write at the end of the log (${reasons.join(' and ')}): truncated at byte offset ${end}, ${size - end} byte(s) dropped`);
  }
  return { head, bytes: end };
}

/**
 * Where `read` starts: the offset and position of a line at or before
 * `fromPosition`, found by bisecting [0, end) on the positions of line starts.
 * Stops bisecting at a line it cannot parse and lets the scan report it.
 */
async function seek(handle: FileHandle, fromPosition: number, end: number): Promise<{ offset: number; position: number }> {
  let lo = 0; // a line start whose position is <= fromPosition
  let loPosition = 1;
  let hi = end; // no wanted line starts after hi
  while (hi - lo > SEEK_SCAN_BYTES && loPosition < fromPosition) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const newline = await firstNewlineFrom(handle, mid, hi);
    const lineStart = newline + 1;
    if (newline === -1 || lineStart >= end) {
      hi = mid;
      continue;
    }
    const position = positionOf((await readRange(handle, lineStart, Math.min(end, lineStart + 40))).toString('utf8'));
    if (position === undefined) break;
    if (position <= fromPosition) {
      lo = lineStart;
      loPosition = position;
    } else {
      hi = mid;
    }
  }
  return { offset: lo, position: loPosition };
}

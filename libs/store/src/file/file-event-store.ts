import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { bytesAre, decodeLine, decodeStoredPriceUpdateBytes, encodeEventForLog, InputError, isInputType, type ClearingEvent } from '@clearsim/events';
import { anchorOf, checkExpectedPosition, checkReadRange, checkSnapshot, defaultWarn, type TransactionState } from '../adapter-support';
import { AppendInProgressError, CorruptLogError, ReadOnlyStoreError, StoreNotFoundError, StoreUrlError, TransactionFinishedError } from '../errors';
import { ConcurrencyError, type AppendTransaction, type EncodedEvents, type EventStore, type ReadOptions, type Snapshot, type StoredEvent } from '../event-store.port';
import type { DetachableTransaction, DetachedBatchEnd, DetachedBatchStart } from './detached-batch';
import { FileLock } from './file-lock';
import { makeDirectories } from './make-directories';
import { FileSnapshots, fsyncDirectory, snapshotFileName, SNAPSHOTS_DIR, type SnapshotHeader } from './file-snapshots';
import { HEAD_FILE, HeadFile, readHead, type HeadRecord } from './head-file';
import { BatchChain, checkpointBytesOf, COMMIT_MARK, commitLine, eventLineFrame, headerLine, initialChain, LineBatch, LOG_VERSION, NEWLINE, positionOf, splitEventLine, splitEventLineBytes, type LogHeader } from './log-format';
import { describeTail, doubled, readHeader, readRange, tailText, verifyLog, type LogTail, type VerifiedLog } from './log-verifier';
import { writeFullySync } from './write-fully-sync';

/** The log inside the store directory (format: see FileEventStore). */
export const EVENTS_FILE = 'events.jsonl';
/** Holds the writer's pid while the store is open. */
export const LOCK_FILE = 'LOCK';
export { CorruptLogError, HEAD_FILE };

/** An append is written in pieces of about this many characters (one write syscall each). */
const WRITE_CHUNK_CHARS = 8 * 1024 * 1024;
/** Read-buffer size for `read` (grows for longer lines). */
const READ_BUFFER_BYTES = 1024 * 1024;
/** How a stored event's JSON starts after the comma that replaced its brace: its type first (canonical JSON). */
const TYPE_MEMBER_OPEN = Buffer.from('"type":"', 'latin1');
const QUOTE = 0x22;
/** Chunk size for the small scans (seeking). */
const SCAN_BYTES = 64 * 1024;
/** `read` bisects the file to find its start position until the range is this small, then scans. */
const SEEK_SCAN_BYTES = 1024 * 1024;

export interface FileEventStoreOptions {
  /** Receives recovery notices (a torn tail dropped or skipped, a stale lock taken over, a snapshot ignored). Default: process.emitWarning. */
  warn?: (message: string) => void;
  /** The URL to name the store by in messages. Default `file:<dirPath>`. */
  url?: string;
  /**
   * Read only: creates and modifies nothing (no directory, lock, truncation or
   * HEAD), never takes or waits for the writer lock, refuses writes
   * (ReadOnlyStoreError), reads the log as of its last complete commit
   * (an incomplete final batch is skipped with a warning), and refuses a
   * missing or empty store (StoreNotFoundError).
   */
  readOnly?: boolean;
  /**
   * Bytes of a batch's lines between two checkpoint records (log-format.ts CHECKPOINT_BYTES, the default), in a
   * version-3 log. Tests set it small, to write logs with checkpoints from a few events.
   */
  checkpointBytes?: number;
}

/** The store's view of the committed log. */
interface Committed {
  head: number;
  bytes: number;
  lines: number;
  chain: Buffer;
}

/**
 * The embedded, default event store (docs/architecture.md): an append-only JSON Lines
 * log in a directory that proves its own integrity, modelled on TigerBeetle
 * (every record checksummed and chained, the batch as the unit of append and
 * fsync). One writer at a time (`LOCK`), any number of read-only openers.
 *
 * `events.jsonl` (format version 3, version 2 read too; see log-format.ts):
 * - line 1, the header: `{"format":"clearsim-log","version":3,"log":"<uuid>"}`;
 * - one line per event: `{"position":N,"crc":"<crc32 hex>",…canonical event}`,
 *   the CRC-32 being that of the event's canonical JSON, so a changed field
 *   is named at its exact line;
 * - after each batch (one `append`, or one transaction's chunks), a commit
 *   record `\t{"commit":N,"events":K,"chain":"<hex>"}` (the TAB lets open find
 *   it with a byte search: no event line holds one): chain_k =
 *   SHA-256(chain_k−1 ‖ the bytes of the batch's event lines), chain_0 =
 *   SHA-256(the header line). Only a commit record makes a batch part of the
 *   log;
 * - inside a long batch (version 3), after every CHECKPOINT_BYTES of its lines,
 *   a checkpoint record `\t{"checkpoint":P,"chain":"<hex>"}`: the chain so far,
 *   from which the batch's chain goes on (over the record's line first). It
 *   commits nothing; it lets opening hash a long log's two halves at once.
 *
 * `HEAD` (updated in place after every commit, see head-file.ts) records
 * the last commit's position, line, byte length and chain, the log's id and
 * the snapshots kept; snapshots record the log's id and chain at their
 * position. Together they prove truncation: a log shorter than HEAD or than
 * one of its snapshots is refused.
 *
 * Opening verifies: the header (a log of the previous format, without commit
 * records, is refused with a message: it is not upgraded), then the chain of
 * every batch, hashing the raw bytes in 16 MB reads (a log of 256 MiB or
 * more in two halves on two threads, log-verifier.ts; no line is parsed unless
 * a batch fails; then its lines are read one by one to name the exact line:
 * a NUL byte or non-UTF-8, a position missing, a changed line by its CRC, a
 * changed commit record), then HEAD and the snapshots against the result.
 * The head is the last complete commit. What follows it (a crash before a
 * commit record: an incomplete batch and/or a torn line) is cut off with a
 * warning naming the positions and bytes on a writer open, and skipped with
 * a warning on a read-only open.
 *
 * Appending: lines are built by string concatenation and hashed as the large
 * buffers they are written from. `append` = write the lines and the commit
 * record in one write, fsync, update HEAD; it resolves after that. A
 * transaction (`beginAppend`) writes each chunk after the head without fsync,
 * hashing as it goes (memory stays flat), and commit() writes the record and
 * fsyncs once (the record's chain proves the bytes before it, so no fsync is
 * needed between them);
 * abort() (or a failed write) truncates back to the committed length and
 * fsyncs. Readers never see past the committed length they opened with.
 *
 * Snapshots live in `<dir>/snapshots/` (see FileSnapshots): written
 * atomically; the newest 3 kept. A snapshot listed in HEAD that is gone, or
 * one that is damaged, is a CorruptLogError (`corrupt-snapshot`); one of
 * another log (the log was reset while its snapshots stayed) is ignored with
 * a warning.
 */
export class FileEventStore implements EventStore {
  private queue: Promise<unknown> = Promise.resolve();
  private closing?: Promise<void>;
  private broken?: Error;
  private transaction?: FileAppendTransaction;
  private readonly headFile: HeadFile;
  /** The snapshots HEAD lists: read from the directory when HEAD is replaced (open, a snapshot saved), kept for the per-commit updates. */
  private snapshotsListed?: number[];

  private constructor(
    readonly url: string,
    /** Absolute path of the store directory. */
    readonly dir: string,
    /** Absolute path of the log file. */
    readonly file: string,
    private readonly handle: FileHandle,
    /** Undefined when read-only. */
    private readonly lock: FileLock | undefined,
    private readonly logId: string,
    private committed: Committed,
    private readonly snapshots: FileSnapshots,
    private readonly warn: (message: string) => void,
    /** Bytes of a batch's lines between checkpoint records (Infinity: none, a version-2 log). */
    private readonly checkpointBytes: number,
  ) {
    this.headFile = new HeadFile(dir);
  }

  /** Opens the store in `dirPath` (a writer creates it if needed). A writer is refused while another process has it open. */
  static async open(dirPath: string, options: FileEventStoreOptions = {}): Promise<FileEventStore> {
    const warn = options.warn ?? defaultWarn;
    const url = options.url ?? `file:${dirPath}`;
    const dir = path.resolve(dirPath);
    if (options.readOnly) return FileEventStore.openReadOnly(dir, url, warn);
    // folder by folder: Node's recursive mkdir never returns on a file system that refuses the folder (/proc)
    const firstCreated = await makeDirectories(dir).catch((error: NodeJS.ErrnoException) => {
      // a file where the store's directory (or one above it) should be: the user's path, not a bug
      if (error.code === 'EEXIST' || error.code === 'ENOTDIR') throw new StoreUrlError(`${url}: ${error.code === 'EEXIST' ? dir : 'a path above ' + dir} is a file, not a directory: a file store is a directory`);
      throw error;
    });
    if (firstCreated !== undefined) await fsyncDirectory(path.dirname(firstCreated));
    const lock = await FileLock.acquire(path.join(dir, LOCK_FILE), `event store ${url}`, warn);
    let handle: FileHandle | undefined;
    try {
      const file = path.join(dir, EVENTS_FILE);
      let created = false;
      try {
        handle = await fs.open(file, 'wx+');
        await fsyncDirectory(dir);
        created = true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        handle = await fs.open(file, 'r+');
      }
      return await FileEventStore.verifyAndOpen(url, dir, file, handle, lock, warn, created, options.checkpointBytes);
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
      const code = (error as NodeJS.ErrnoException).code;
      // a file where the store's directory (or one above it) should be: there is no store there
      if (code === 'ENOTDIR') throw new StoreNotFoundError(url, `${dir} or a path above it is a file, not a directory`);
      if (code !== 'ENOENT') throw error;
      const dirExists = await fs.stat(dir).then(
        () => true,
        () => false,
      );
      throw new StoreNotFoundError(url, dirExists ? `no ${EVENTS_FILE} in ${dir}` : 'no such directory');
    }
    try {
      const store = await FileEventStore.verifyAndOpen(url, dir, file, handle, undefined, warn);
      if (store.committed.head === 0) throw new StoreNotFoundError(url, `${EVENTS_FILE} holds no event`);
      return store;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Open = verify (see the class comment). `lock` undefined: read-only, nothing is written. */
  private static async verifyAndOpen(
    url: string,
    dir: string,
    file: string,
    handle: FileHandle,
    lock: FileLock | undefined,
    warn: (message: string) => void,
    /** The log file did not exist (a new store, or one whose log was deleted to reset it): HEAD and snapshots left over belong to another log. */
    created = false,
    checkpointBytes?: number,
  ): Promise<FileEventStore> {
    const readOnly = lock === undefined;
    const snapshots = new FileSnapshots(path.join(dir, SNAPSHOTS_DIR));
    // HEAD and the snapshots first, then the log: a writer only ever moves them after the log, so they never claim more than the log read after them
    let { head: recorded, snapshotHeaders } = await readHeadAndSnapshots(dir, snapshots, warn);
    const size = (await handle.stat()).size;
    let header = await readHeader(handle, file, size);
    if (header === undefined) {
      if (recorded && recorded.position > 0 && !created) {
        throw new CorruptLogError(
          file,
          1,
          `the log is ${size === 0 ? 'empty' : `${size} byte(s) without a complete header`}, but ${HEAD_FILE} records position ${recorded.position} committed (log ${recorded.log}): ` +
            `positions 1..${recorded.position} missing (the log was truncated)`,
          { kind: 'truncated-log' },
        );
      }
      if (readOnly) throw new StoreNotFoundError(url, size === 0 ? `${EVENTS_FILE} is empty` : `${EVENTS_FILE} holds only a torn header`);
      if (size > 0) warn(`${file}: dropped a torn header (${size} byte(s)) written by a crash while the log was created`);
      header = await writeNewHeader(handle);
    }
    const logId = header.header.log;
    if (recorded?.log === logId) ({ head: recorded, snapshotHeaders } = await checkListedSnapshots(dir, snapshots, warn, recorded, snapshotHeaders));
    const ours = recorded?.log === logId ? recorded : undefined;
    const wanted = new Set<number>();
    for (const snapshot of snapshotHeaders) if (snapshot.log === logId && snapshot.chain !== null) wanted.add(snapshot.position);
    if (ours) wanted.add(ours.position);

    const verified = await verifyLog(handle, file, size, header, wanted, ours?.position ?? 0);
    const torn = verified.tornBatch;
    const tail = !torn && size > verified.committedBytes ? await describeTail(handle, verified.committedBytes, size) : undefined;
    checkProofs(file, snapshots.dir, verified, ours, snapshotHeaders, tail);
    if (torn) await FileEventStore.handleTornBatch(handle, file, verified, torn, readOnly, warn);
    if (tail) await FileEventStore.handleTail(handle, file, verified, tail, readOnly, warn);

    const committed: Committed = { head: verified.head, bytes: verified.committedBytes, lines: verified.committedLines, chain: verified.chain };
    const store = new FileEventStore(url, dir, file, handle, lock, logId, committed, snapshots, warn, checkpointBytesOf(header.header.version, checkpointBytes));
    if (!readOnly) {
      if (recorded && !ours) warn(`${path.join(dir, HEAD_FILE)}: it belongs to another log (${recorded.log}; this log is ${logId}): replaced`);
      if (!ours || ours.position !== committed.head) await store.writeHeadFile('replace');
    }
    return store;
  }

  /**
   * A final batch that does not verify and that no durable commit vouches for
   * (HEAD, written after each commit's fsync, stops before it): the batch's
   * lines and commit record go to disk in one write and one fsync, so a power
   * failure during that fsync can keep the record and lose some of the lines
   * before it. It was never acknowledged; a writer cuts it off, a reader skips
   * it, each with a warning naming the positions and what did not verify.
   */
  private static async handleTornBatch(
    handle: FileHandle,
    file: string,
    verified: VerifiedLog,
    torn: NonNullable<VerifiedLog['tornBatch']>,
    readOnly: boolean,
    warn: (message: string) => void,
  ): Promise<void> {
    const what =
      `after the last commit vouched for (position ${verified.head}), a final batch (positions ${torn.firstPosition}..${torn.lastPosition}, ${torn.bytes} byte(s) from byte offset ${verified.committedBytes}) ` +
      `that does not verify (${torn.problem.message}) and that no durable commit vouches for (${HEAD_FILE} stops before it)`;
    if (readOnly) {
      warn(`${file}: skipping, ${what}: a commit interrupted by a crash, or a writer's commit in progress; not part of the log`);
      return;
    }
    await handle.truncate(verified.committedBytes);
    await handle.sync();
    warn(`${file}: dropped, ${what}: a commit interrupted by a crash (its fsync did not complete, so it was never acknowledged)`);
  }

  /** After the last commit: a writer cuts it off (with a warning naming it), a reader skips it (with a warning). */
  private static async handleTail(handle: FileHandle, file: string, verified: VerifiedLog, tail: LogTail, readOnly: boolean, warn: (message: string) => void): Promise<void> {
    if (readOnly) {
      warn(`${file}: skipping, after the last commit (position ${verified.head}), ${tailText(tail, verified.committedBytes)} (a writer's batch in progress, or a crash; not part of the log)`);
      return;
    }
    await handle.truncate(verified.committedBytes);
    await handle.sync();
    warn(`${file}: dropped, after the last commit (position ${verified.head}), ${tailText(tail, verified.committedBytes)} (a write cut short by a crash)`);
  }

  /** The log's id (its header). */
  get id(): string {
    return this.logId;
  }

  async head(): Promise<number> {
    this.assertOpen();
    return this.committed.head;
  }

  append(events: readonly ClearingEvent[], expectedPosition: number): Promise<number> {
    if (this.closing) return Promise.reject(this.closedError());
    return this.exclusive(async () => {
      this.assertWritable('append');
      checkExpectedPosition(expectedPosition);
      if (expectedPosition !== this.committed.head) throw new ConcurrencyError(expectedPosition, this.committed.head);
      if (events.length === 0) return this.committed.head;
      const batch = this.newBatch();
      try {
        await this.commitBatch(batch, events);
      } catch (error) {
        await this.cutBack().catch(() => undefined); // the store is `broken` then: it refuses appends until reopened
        throw error;
      }
      return this.committed.head;
    });
  }

  beginAppend(expectedPosition: number): Promise<AppendTransaction> {
    if (this.closing) return Promise.reject(this.closedError());
    return this.exclusive(async () => {
      this.assertWritable('beginAppend');
      checkExpectedPosition(expectedPosition);
      if (expectedPosition !== this.committed.head) throw new ConcurrencyError(expectedPosition, this.committed.head);
      return (this.transaction = new FileAppendTransaction(this, this.newBatch()));
    });
  }

  /** @internal FileAppendTransaction's steps, in the store's queue. */
  runExclusive<T>(operation: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(this.closedError());
    return this.exclusive(operation);
  }

  /** @internal */
  endTransaction(transaction: FileAppendTransaction): void {
    if (this.transaction === transaction) this.transaction = undefined;
  }

  private newBatch(): BatchWriter {
    if (this.broken) {
      throw new Error(`${this.url}: the store refuses appends after a failed write (${this.broken.message}); reopen it`, { cause: this.broken });
    }
    return new BatchWriter(this.committed, (operation) => this.io(operation), this.handle, this.checkpointBytes);
  }

  /**
   * @internal Writes the batch's last lines (`events`, if any) and its commit
   * record, fsyncs once, then updates HEAD. Once the record is durable the
   * batch is in the log: a HEAD that cannot be written then is a warning (it
   * only weakens the truncation proof until the next commit), never a failed
   * append.
   */
  async commitBatch(batch: BatchWriter, events: readonly ClearingEvent[] = []): Promise<void> {
    if (batch.events === 0 && events.length === 0) return;
    this.committed = await batch.commit(events);
    try {
      await this.writeHeadFile('update');
    } catch (error) {
      this.warn(`${path.join(this.dir, HEAD_FILE)}: not updated after the commit of position ${this.committed.head} (${(error as Error).message}); the commit itself is durable`);
    }
  }

  /** `replace` re-reads the snapshots kept (open, a snapshot saved); `update` (a commit) lists the same ones as the last HEAD did, in place. */
  private async writeHeadFile(how: 'replace' | 'update'): Promise<void> {
    const { head, lines, bytes, chain } = this.committed;
    if (how === 'replace' || this.snapshotsListed === undefined) this.snapshotsListed = await this.snapshots.kept();
    const record = { log: this.logId, position: head, line: lines, bytes, chain: chain.toString('hex'), snapshots: this.snapshotsListed };
    await (how === 'replace' ? this.headFile.replace(record) : this.headFile.update(record));
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

  /** @internal Removes every byte after the committed log (a failed append, an aborted transaction), and fsyncs. */
  async cutBack(): Promise<void> {
    try {
      await this.handle.truncate(this.committed.bytes);
      await this.handle.sync();
    } catch (error) {
      this.broken ??= error instanceof Error ? error : new Error(String(error));
      throw error;
    }
  }

  read(fromPosition = 1, options: ReadOptions = {}): AsyncGenerator<StoredEvent> {
    this.assertOpen();
    return this.readOpen(fromPosition, options);
  }

  /** `read` without the closed check, for work queued before a close (a snapshot's anchor). */
  private async *readOpen(fromPosition: number, options: ReadOptions): AsyncGenerator<StoredEvent> {
    checkReadRange(fromPosition, options.toPosition);
    const { head, bytes: end } = this.committed;
    const last = Math.min(head, options.toPosition ?? Infinity);
    if (fromPosition > last) return;

    const handle = await fs.open(this.file, 'r');
    try {
      const start = await seek(handle, fromPosition, end);
      let buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      let carried = 0; // bytes of an unfinished line kept at the start of `buffer`
      let fileOffset = start.offset;
      let expected = start.position; // the position of the next event line
      while (fileOffset < end) {
        if (carried === buffer.length) buffer = doubled(buffer, carried);
        const { bytesRead } = await handle.read(buffer, carried, Math.min(buffer.length - carried, end - fileOffset), fileOffset);
        if (bytesRead === 0) {
          throw new Error(`${this.file}: the file ends at byte ${fileOffset}, but the store committed ${end} bytes (was it truncated by another program?)`);
        }
        const viewStart = fileOffset - carried;
        fileOffset += bytesRead;
        const view = buffer.subarray(0, carried + bytesRead);
        let lineStart = 0;
        for (let newline = view.indexOf(NEWLINE); newline !== -1; newline = view.indexOf(NEWLINE, lineStart)) {
          if (view[lineStart] !== COMMIT_MARK) {
            if (expected >= fromPosition) {
              if (!(options.decisionsOnly && this.holdsInput(view, lineStart, newline, expected))) {
                yield { position: expected, event: this.decode(view, lineStart, newline, expected, viewStart + lineStart) };
              }
              if (expected >= last) return;
            } else {
              this.checkSkipped(view, lineStart, newline, expected, viewStart + lineStart);
            }
            expected++;
          }
          lineStart = newline + 1;
        }
        carried = view.length - lineStart;
        if (carried > 0) buffer.copyWithin(0, lineStart, view.length);
      }
      throw new Error(`${this.file}: the log ended at position ${expected - 1}, before position ${last}`);
    } finally {
      await handle.close();
    }
  }

  /**
   * Whether the line view[start, end) holds an input, told from its type's bytes without decoding it. Such a line
   * is passed over as a line before `fromPosition` is: its position checked, not its CRC (the open verified every
   * byte against the hash chain). False whenever the bytes are not laid out as the store writes them: the line is
   * then decoded, with every check of `decode`.
   */
  private holdsInput(view: Buffer, start: number, end: number, expected: number): boolean {
    // {"position":N,"crc":"xxxxxxxx","type":"NAME",…
    const frame = eventLineFrame(view, start, end);
    if (frame === undefined || frame.position !== expected) return false;
    const nameStart = frame.restStart + TYPE_MEMBER_OPEN.length;
    if (nameStart >= end || !bytesAre(view, frame.restStart, TYPE_MEMBER_OPEN)) return false;
    const nameEnd = view.indexOf(QUOTE, nameStart);
    if (nameEnd < 0 || nameEnd >= end || nameEnd - nameStart > 40) return false;
    return isInputType(view.toString('latin1', nameStart, nameEnd));
  }

  /** The event of the line view[start, end): its position and CRC checked on the bytes, then decoded. */
  private decode(view: Buffer, start: number, end: number, expected: number, offset: number): ClearingEvent {
    const corrupt = (detail: string, kind: CorruptLogError['kind']) =>
      new CorruptLogError(this.file, expected, `${detail} (line at byte offset ${offset}; it changed after the store was opened)`, { unit: 'position', kind });
    const split = splitEventLineBytes(view, start, end);
    if (split === undefined) {
      const problem = splitEventLine(view.toString('utf8', start, end));
      throw corrupt('problem' in problem ? problem.problem : 'the line is not shaped as the store writes it', 'malformed-line');
    }
    if (split.position !== expected) throw corrupt(`holds position ${split.position}, but position ${expected} belongs here`, 'missing-line');
    if (!split.crcOk) throw corrupt(`the line's bytes changed since it was written (its CRC-32 does not match)`, 'tampered-line');
    // a mark (most of a venue's log) straight from its bytes; any other line, or a mark the byte decoder declines, as text
    const mark = decodeStoredPriceUpdateBytes(view, split.restStart, end);
    if (mark !== undefined) return mark;
    try {
      return decodeLine('{' + view.toString('utf8', split.restStart, end), 'any', this.file, expected);
    } catch (error) {
      if (error instanceof InputError) {
        throw new CorruptLogError(this.file, expected, `${InputError.describe(error.issues)} (line at byte offset ${offset})`, { cause: error, unit: 'position' });
      }
      throw error;
    }
  }

  /** A line before `fromPosition`: only its position is checked (decoding is the expensive part). */
  private checkSkipped(view: Buffer, start: number, end: number, expected: number, offset: number): void {
    const position = positionOf(view.toString('utf8', start, Math.min(end, start + 40)));
    if (position !== expected) {
      throw new CorruptLogError(
        this.file,
        expected,
        `${position === undefined ? 'the line does not start with {"position":N,' : `holds position ${position}`} (line at byte offset ${offset}; it changed after the store was opened)`,
        { unit: 'position', kind: 'missing-line' },
      );
    }
  }

  /**
   * Writes the snapshot atomically (after every append queued before it),
   * records the kept set in HEAD, then prunes all but the newest 3. A snapshot
   * beyond the head is stored without an anchor, so it is never returned.
   * Allowed while a transaction is open (it sees only the committed log).
   */
  saveSnapshot(snapshot: Snapshot): Promise<void> {
    if (this.closing) return Promise.reject(this.closedError());
    return this.exclusive(async () => {
      if (this.lock === undefined) throw new ReadOnlyStoreError(this.url, 'saveSnapshot');
      checkSnapshot(snapshot);
      const { position, state } = snapshot;
      const { head } = this.committed;
      const anchor = position <= head ? await this.anchorAt(position) : null;
      const chain = position === head ? this.committed.chain.toString('hex') : null;
      await this.snapshots.save({ position, state, anchor, chain, log: this.logId });
      await this.writeHeadFile('replace');
      await this.snapshots.prune();
    });
  }

  async latestSnapshot(): Promise<Snapshot | undefined> {
    this.assertOpen();
    const { head } = this.committed;
    for (const position of await this.snapshots.positions()) {
      if (position > head) continue;
      const stored = await this.snapshots.load(position);
      if (stored === undefined) continue;
      const ignoring = `${this.snapshots.dir}: ignoring the snapshot at position ${position}: `;
      if (stored.log !== this.logId) {
        this.warn(`${ignoring}it was taken from another log (${stored.log ?? 'an older clearsim'}; this log is ${this.logId}: was the log reset or replaced?)`);
        continue;
      }
      if (stored.anchor === null) {
        this.warn(`${ignoring}it was saved when the log did not reach that position yet`);
        continue;
      }
      if (stored.anchor !== (await this.anchorAt(position))) {
        throw new CorruptLogError(
          path.join(this.snapshots.dir, snapshotFileName(position)),
          0,
          `the snapshot at position ${position} of this log does not match the event at that position (its anchor differs)`,
          { unit: 'file', kind: 'corrupt-snapshot' },
        );
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
      const open = this.transaction;
      if (open) await open.abortNow();
      await this.handle.close();
      await this.headFile.close();
      await this.lock?.release();
    });
    return this.closing;
  }

  private assertWritable(operation: string): void {
    if (this.lock === undefined) throw new ReadOnlyStoreError(this.url, operation);
    if (this.transaction) throw new AppendInProgressError(this.url, operation);
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

/**
 * One batch being written after the committed log: lines built by string
 * concatenation, written and hashed in ~8 MB buffers (never per line), so
 * memory stays flat however many events go in.
 */
class BatchWriter {
  events = 0;
  private position: number;
  private offset: number;
  private readonly chain: BatchChain;
  /** The checkpoint records another writer wrote (adopt): lines of the batch too. */
  private adoptedCheckpoints = 0;
  /** The lines being built, one buffer for the whole batch (see take). */
  private readonly lines = new LineBatch(encodeEventForLog);
  /** The chain after lines another writer wrote (adopt): what commit records instead of this.chain's. */
  private adoptedChain?: Buffer;

  constructor(
    private readonly base: Committed,
    private readonly io: <T>(operation: () => Promise<T>) => Promise<T>,
    private readonly handle: FileHandle,
    private readonly checkpointBytes: number,
  ) {
    this.position = base.head;
    this.offset = base.bytes;
    this.chain = new BatchChain(base.chain, checkpointBytes);
  }

  /** Writes the lines of `events` (no fsync); returns the position of the last one. */
  async write(events: readonly ClearingEvent[]): Promise<number> {
    const rest = await this.addLines(events);
    if (rest.length > 0) await this.flush(rest);
    return this.position;
  }

  /** `write` of entries some of which are already encoded (AppendTransaction.appendEncoded): the same lines. */
  async writeEncoded(entries: readonly (ClearingEvent | number)[], encoded: EncodedEvents): Promise<number> {
    const lines = this.lines;
    lines.clear();
    let position = this.position;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      if (typeof entry === 'number') lines.addEncoded(++position, encoded.json[entry]!, encoded.start[entry]!, encoded.end[entry]!, encoded.crc[entry]!);
      else lines.addEvent(++position, entry);
      if (lines.length >= WRITE_CHUNK_CHARS) await this.flush(lines);
    }
    if (lines.length > 0) await this.flush(lines);
    return this.position;
  }

  /** Where another writer's lines go (DetachedBatchWriter): after the committed log, none written here yet. */
  detach(): DetachedBatchStart {
    if (this.events > 0) throw new Error('a batch that has written lines of its own cannot be detached');
    return { fd: this.handle.fd, offset: this.offset, position: this.position, chain: this.base.chain.toString('hex'), checkpointBytes: this.checkpointBytes };
  }

  /** The lines another writer wrote after detach(), as if written here: commit() closes them with their chain. */
  adopt(end: DetachedBatchEnd): void {
    if (end.position - this.base.head !== end.events || end.offset < this.base.bytes || !/^[0-9a-f]{64}$/.test(end.chain)) {
      throw new Error(`the detached writer's end (position ${end.position}, ${end.events} events, byte ${end.offset}) does not follow the committed log (position ${this.base.head}, byte ${this.base.bytes})`);
    }
    this.position = end.position;
    this.offset = end.offset;
    this.events = end.events;
    this.adoptedCheckpoints = end.checkpoints ?? 0;
    this.adoptedChain = Buffer.from(end.chain, 'hex');
  }

  /** The lines of `events`, each full chunk written as it fills; answers the lines not written yet (in `this.lines`). */
  private async addLines(events: readonly ClearingEvent[]): Promise<LineBatch> {
    const lines = this.lines;
    // what a chunk that threw half-way left is not part of the log
    lines.clear();
    let position = this.position;
    // by index: a for-of over the array inside this async function allocates an iterator result per event
    for (let i = 0; i < events.length; i++) {
      lines.addEvent(++position, events[i]!);
      if (lines.length >= WRITE_CHUNK_CHARS) await this.flush(lines);
    }
    return lines;
  }

  private async flush(lines: LineBatch): Promise<void> {
    const buffer = this.take(lines);
    await this.io(() => writeFully(this.handle, buffer, this.offset));
    this.offset += buffer.length;
  }

  /**
   * Takes the lines out of `lines` into the batch (hashed, counted); answers their bytes, for the caller to write —
   * followed by a checkpoint record when one is due (BatchChain). The bytes may be lent (the buffer is reused by the
   * next line): every caller writes or copies them before adding more.
   */
  private take(lines: LineBatch): Buffer {
    const { buffer, last } = lines.lend();
    const checkpoint = this.chain.add(buffer, last);
    this.events += last - this.position;
    this.position = last;
    return checkpoint === undefined ? buffer : Buffer.concat([buffer, checkpoint]);
  }

  /**
   * Writes the lines of `events` (the batch's last ones, if any) and the
   * commit record in one write, then one fsync: the batch is part of the log.
   * One fsync is enough because the record proves its batch: opening hashes
   * the batch's bytes against the record's chain, and what follows the last
   * record that proves its batch is cut off (a crash) — so a record made
   * durable without all of its lines cannot pass for a complete batch.
   */
  async commit(events: readonly ClearingEvent[] = []): Promise<Committed> {
    const rest = await this.addLines(events);
    const last = rest.length > 0 ? this.take(rest) : undefined;
    const chain = this.adoptedChain ?? this.chain.digest();
    const record = Buffer.from(commitLine({ commit: this.position, events: this.events, chain: chain.toString('hex') }), 'latin1');
    const written = last ? Buffer.concat([last, record]) : record;
    await this.io(() => writeFully(this.handle, written, this.offset));
    this.offset += written.length;
    await this.io(() => this.handle.sync());
    return { head: this.position, bytes: this.offset, lines: this.base.lines + this.events + this.chain.checkpoints + this.adoptedCheckpoints + 1, chain };
  }
}

/** The file store's transaction: see the FileEventStore comment. Each step runs in the store's queue. */
class FileAppendTransaction implements DetachableTransaction {
  private state: TransactionState = 'open';
  /** A chunk failed: its bytes may be partly written, so only abort() is left. */
  private failed?: Error;
  /** Another writer writes the lines (detach): append refuses, commitDetached commits. */
  private detached = false;

  constructor(
    private readonly store: FileEventStore,
    private readonly batch: BatchWriter,
  ) {}

  append(events: readonly ClearingEvent[]): Promise<number> {
    return this.store.runExclusive(async () => {
      this.assertOpen('append');
      this.assertAttached('append');
      if (this.failed) throw this.refusal();
      try {
        return await this.batch.write(events);
      } catch (error) {
        this.failed = error instanceof Error ? error : new Error(String(error));
        throw error;
      }
    });
  }

  appendEncoded(entries: readonly (ClearingEvent | number)[], encoded: EncodedEvents): Promise<number> {
    return this.store.runExclusive(async () => {
      this.assertOpen('append');
      this.assertAttached('append');
      if (this.failed) throw this.refusal();
      try {
        return await this.batch.writeEncoded(entries, encoded);
      } catch (error) {
        this.failed = error instanceof Error ? error : new Error(String(error));
        throw error;
      }
    });
  }

  /**
   * Hands the writing of this transaction's lines to another writer — a DetachedBatchWriter, on another thread — before
   * any chunk is appended here: answers where they go. From then on `append` refuses; commitDetached (with what the
   * writer answers once it is done) writes the commit record and fsyncs, as commit() does; abort() cuts back as
   * always — once the other writer has stopped writing (the caller's part).
   */
  detach(): Promise<DetachedBatchStart> {
    return this.store.runExclusive(async () => {
      this.assertOpen('detach');
      this.assertAttached('detach');
      const start = this.batch.detach();
      this.detached = true;
      return start;
    });
  }

  /** commit() of a detached transaction: `end` is what its writer answered (DetachedBatchWriter.finish). */
  commitDetached(end: DetachedBatchEnd): Promise<number> {
    return this.store.runExclusive(async () => {
      this.assertOpen('commit');
      if (!this.detached) throw new Error(`${this.store.url}: commitDetached of a transaction that was not detached`);
      return this.commitBatchOrAbort(() => this.batch.adopt(end));
    });
  }

  commit(): Promise<number> {
    return this.store.runExclusive(async () => {
      this.assertOpen('commit');
      this.assertAttached('commit');
      if (this.failed) {
        await this.abortNow();
        throw this.refusal();
      }
      return this.commitBatchOrAbort();
    });
  }

  /** Commits the batch (after `prepare`, if given); on any failure cuts the log back first, so nothing of it stays. */
  private async commitBatchOrAbort(prepare?: () => void): Promise<number> {
    try {
      prepare?.();
      await this.store.commitBatch(this.batch);
    } catch (error) {
      await this.abortNow().catch(() => undefined);
      throw error;
    }
    this.finish('committed');
    return this.store.head();
  }

  abort(): Promise<void> {
    if (this.state !== 'open') return Promise.resolve();
    return this.store.runExclusive(() => this.abortNow());
  }

  /** @internal In the store's queue already (abort, or close with a transaction open). */
  async abortNow(): Promise<void> {
    if (this.state !== 'open') return;
    this.finish('aborted');
    await this.store.cutBack();
  }

  private finish(state: TransactionState): void {
    this.state = state;
    this.store.endTransaction(this);
  }

  private refusal(): Error {
    return new Error(`${this.store.url}: a chunk of this transaction failed (${this.failed!.message}); only abort() is left`, { cause: this.failed });
  }

  private assertOpen(operation: string): void {
    if (this.state !== 'open') throw new TransactionFinishedError(this.store.url, this.state, operation);
  }

  private assertAttached(operation: string): void {
    if (this.detached) throw new Error(`${this.store.url}: ${operation} refused: this transaction's lines are written by another writer (detach)`);
  }
}

/** Reads HEAD and the snapshot headers. */
async function readHeadAndSnapshots(
  dir: string,
  snapshots: FileSnapshots,
  warn: (message: string) => void,
): Promise<{ head: HeadRecord | undefined; snapshotHeaders: SnapshotHeader[] }> {
  const read = await readHead(dir);
  if (read.kind === 'unreadable') warn(`${path.join(dir, HEAD_FILE)}: ignored, ${read.detail} (truncation cannot be proved by it; a writer rewrites it)`);
  const headers: SnapshotHeader[] = [];
  for (const position of await snapshots.positions()) {
    const header = await snapshots.header(position);
    if (header) headers.push(header);
  }
  return { head: read.kind === 'ok' ? read.head : undefined, snapshotHeaders: headers };
}

/**
 * Every snapshot HEAD lists must be there (HEAD of this log). A reader may
 * race a writer that saved a snapshot and pruned an old one after the reader
 * read HEAD: then HEAD has changed, and the check runs again.
 */
async function checkListedSnapshots(
  dir: string,
  snapshots: FileSnapshots,
  warn: (message: string) => void,
  head: HeadRecord,
  snapshotHeaders: SnapshotHeader[],
): Promise<{ head: HeadRecord | undefined; snapshotHeaders: SnapshotHeader[] }> {
  for (let attempt = 0; ; attempt++) {
    const missing = head.snapshots.filter((position) => !snapshotHeaders.some((h) => h.position === position));
    if (missing.length === 0) return { head, snapshotHeaders };
    const again = await readHeadAndSnapshots(dir, snapshots, warn);
    if (attempt < 3 && again.head && JSON.stringify(again.head) !== JSON.stringify(head)) {
      ({ head, snapshotHeaders } = { head: again.head, snapshotHeaders: again.snapshotHeaders }); // a writer moved on meanwhile
      continue;
    }
    const many = missing.length > 1;
    throw new CorruptLogError(
      snapshots.dir,
      0,
      `the snapshot${many ? 's' : ''} at position${many ? 's' : ''} ${missing.join(', ')}, listed in ${HEAD_FILE}, ${many ? 'are' : 'is'} missing (deleted?); ` +
        `restore ${many ? 'them' : 'it'}, or delete ${HEAD_FILE} to accept the loss`,
      { unit: 'file', kind: 'corrupt-snapshot' },
    );
  }
}

/** What HEAD and the snapshots prove about the verified log: truncation, or a log rewritten under them. */
function checkProofs(
  file: string,
  snapshotDir: string,
  verified: VerifiedLog,
  head: HeadRecord | undefined,
  snapshotHeaders: readonly SnapshotHeader[],
  tail: LogTail | undefined,
): void {
  const logId = verified.header.log;
  const end = `the log ends at position ${verified.head} (line ${verified.committedLines}, byte ${verified.committedBytes})`;
  if (head && head.position > verified.head) {
    if (tail?.firstPosition !== undefined) {
      const kept = tail.lastPosition !== undefined && tail.lastPosition !== tail.firstPosition ? `positions ${tail.firstPosition}..${tail.lastPosition} are` : `position ${tail.firstPosition} is`;
      throw new CorruptLogError(
        file,
        verified.committedLines + 1,
        `a batch cut inside: ${kept} kept without the rest of its batch and its commit record (an input kept without its decisions?), ` +
          `but ${HEAD_FILE} records position ${head.position} committed: positions ${(tail.lastPosition ?? tail.firstPosition) + 1}..${head.position} missing (the log was truncated)`,
        { kind: 'missing-decisions' },
      );
    }
    throw new CorruptLogError(
      file,
      verified.committedLines,
      `${end}, but ${HEAD_FILE} records position ${head.position} committed (line ${head.line}): positions ${verified.head + 1}..${head.position} missing (the log was truncated)`,
      { kind: 'truncated-log' },
    );
  }
  if (head && head.position <= verified.head) {
    const chain = verified.chainsAt.get(head.position) ?? (head.position === 0 ? undefined : 'none');
    if (chain !== undefined && chain !== head.chain) {
      throw new CorruptLogError(
        file,
        head.line,
        `${HEAD_FILE} records chain ${head.chain.slice(0, 16)}… after position ${head.position}, but the log ${chain === 'none' ? 'has no commit there' : `has ${chain.slice(0, 16)}…`}: the log was rewritten`,
        { kind: 'tampered-line' },
      );
    }
  }
  for (const snapshot of snapshotHeaders) {
    if (snapshot.log !== logId || snapshot.anchor === null) continue;
    const named = path.join(snapshotDir, snapshotFileName(snapshot.position));
    if (snapshot.position > verified.head) {
      throw new CorruptLogError(
        file,
        verified.committedLines,
        `${end}, but the snapshot ${named} was taken at position ${snapshot.position} of this log: positions ${verified.head + 1}..${snapshot.position} missing (the log was truncated)`,
        { kind: 'truncated-log' },
      );
    }
    if (snapshot.chain !== null) {
      const chain = verified.chainsAt.get(snapshot.position);
      if (chain !== snapshot.chain) {
        throw new CorruptLogError(
          named,
          0,
          `it records chain ${snapshot.chain.slice(0, 16)}… at position ${snapshot.position}, but the log ${chain === undefined ? 'has no commit at that position' : `has ${chain.slice(0, 16)}…`}: the log or the snapshot was rewritten`,
          { unit: 'file', kind: 'corrupt-snapshot' },
        );
      }
    }
  }
}

async function writeNewHeader(handle: FileHandle): Promise<{ header: LogHeader; bytes: Buffer }> {
  const logId = randomUUID();
  const bytes = Buffer.from(headerLine(logId), 'latin1');
  await handle.truncate(0);
  await writeFully(handle, bytes, 0);
  await handle.sync();
  return { header: { format: 'clearsim-log', version: LOG_VERSION, log: logId }, bytes };
}

/**
 * A write up to this many bytes is a synchronous `pwrite` on the event loop:
 * a copy into the page cache of a few microseconds, where `FileHandle.write`
 * costs a thread-pool round trip and a promise (five to ten times the CPU,
 * and under load the woken pool thread preempts the event loop: 0.3 ms per
 * write in the server's profile; docs/performance.md, B5). The fsync stays on
 * the pool. Larger writes (a long transaction's chunks) stay asynchronous so
 * they never hold the event loop for a long copy.
 */
const SYNC_WRITE_MAX_BYTES = 64 * 1024;

async function writeFully(handle: FileHandle, buffer: Buffer, offset: number): Promise<void> {
  if (buffer.length <= SYNC_WRITE_MAX_BYTES) return writeFullySync(handle.fd, buffer, offset);
  let done = 0;
  while (done < buffer.length) {
    const { bytesWritten } = await handle.write(buffer, done, buffer.length - done, offset + done);
    done += bytesWritten;
  }
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
 * Where `read` starts: the offset of an event line at or before
 * `fromPosition` and its position, found by bisecting [0, end) on the
 * positions of line starts (commit and checkpoint records are stepped over). Starts after
 * the header; stops bisecting at a line it cannot parse and lets the scan
 * report it.
 */
async function seek(handle: FileHandle, fromPosition: number, end: number): Promise<{ offset: number; position: number }> {
  let lo = (await firstNewlineFrom(handle, 0, end)) + 1; // the first line after the header
  let loPosition = 1;
  let hi = end;
  while (hi - lo > SEEK_SCAN_BYTES && loPosition < fromPosition) {
    const mid = lo + Math.floor((hi - lo) / 2);
    let newline = await firstNewlineFrom(handle, mid, hi);
    let lineStart = newline + 1;
    // a commit or checkpoint record (a TAB first), or both in a row, stepped over
    while (newline !== -1 && lineStart < end && (await readRange(handle, lineStart, lineStart + 1))[0] === COMMIT_MARK) {
      newline = await firstNewlineFrom(handle, lineStart, hi);
      lineStart = newline + 1;
    }
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

/** The initial chain of a header line, for tests and tools that rebuild a log. */
export { initialChain };

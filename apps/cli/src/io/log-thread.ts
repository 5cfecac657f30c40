import type { MessagePort } from 'node:worker_threads';
import { isDecision, type ClearingEvent, type Sha256State } from '@clearsim/events';
import type { DecisionHashingTransaction, HeldEncodedEvents } from '@clearsim/shard';
import { isDetachable, type AppendTransaction, type DetachableTransaction, type EncodedEvents } from '@clearsim/store';
import { CONTROL, EVENT_DECISION, EVENT_INPUT, JSON_BYTES, type LogLines, type ThreadCommand, type WriterMessage } from './log-thread-protocol';

/**
 * `clearsim run`'s log written by its decode thread, which waits for credits most of the run anyway: the main thread
 * decides, and per chunk of the run hands the thread only what it does not have — the bytes of the decisions and
 * other inputs' canonical JSON, and where the mark lines (whose JSON the thread encoded and kept) go among them —
 * and goes on deciding; the thread builds the lines (the same bytes: LineBatch), runs the SHA-256 chain and writes
 * them after the committed log (DetachedBatchWriter). At the commit it answers where the lines end and the chain,
 * and the store writes the commit record and fsyncs as for a transaction of its own (commitDetached). A refusal or
 * any error stops the thread before the store cuts back. `CLEARSIM_LOG_THREAD=0` keeps the writing on the main
 * thread (the decode thread then only decodes).
 */
export const LOG_THREAD_ENV = 'CLEARSIM_LOG_THREAD';

export { CONTROL, type LogLines, type ThreadCommand, type WriterMessage } from './log-thread-protocol';

/** Log chunks the main thread may be ahead of the thread's writing before it waits (memory: the chunks' bytes and the messages they hold). */
const MAX_CHUNKS_AHEAD = 16;
/** The main thread wakes a sleeping thread for its chunks only once this many wait (it wakes for credits and the commit anyway). */
const CHUNKS_TO_WAKE = 2;

/** The main thread's side of the decode thread's control array and commands port (decode-thread.ts, ThreadProducer). */
export interface ThreadLink {
  readonly control: Int32Array<SharedArrayBuffer>;
  readonly commands: MessagePort;
  /** Posts a command; wakes the thread if it sleeps and `wake`. */
  send(command: ThreadCommand, wake: boolean, transfer?: ArrayBuffer[]): void;
  /** Wakes the thread if it sleeps. */
  wake(): void;
  /** The next WriterMessage (rejects if the thread ends first). */
  nextWriterMessage(): Promise<WriterMessage>;
  /** Stops the thread (and waits for that): it writes nothing more. */
  stop(): Promise<void>;
  /** Why the thread ended before it was stopped (an error, an exit), if it did. */
  readonly failure: Error | undefined;
}

/** Whether `run` writes its log on the decode thread (when it has one and the store is a file store): unless LOG_THREAD_ENV is 0. */
export const logThreadWanted = (): boolean => process.env[LOG_THREAD_ENV] !== '0';

/**
 * The store's transaction, its lines written by the decode thread of `link` (a store whose transactions cannot be
 * detached: unchanged). With `decisionsHash` (RunOptions.decisionsHashedByTransaction), the thread also hashes the
 * decisions it writes, from that state, and the transaction answers the state after them once committed.
 */
export async function writtenByThread(transaction: AppendTransaction, link: ThreadLink, decisionsHash?: Sha256State): Promise<AppendTransaction> {
  if (!isDetachable(transaction)) return transaction;
  const start = await transaction.detach();
  link.send({ kind: 'hold' }, false);
  link.send({ kind: 'write', start, ...(decisionsHash ? { decisionsHash } : {}) }, false);
  return decisionsHash ? new ThreadHashedTransaction(transaction, link, start.position) : new ThreadWrittenTransaction(transaction, link, start.position);
}

/** Atomics.waitAsync (Node 16+; not in this TypeScript's lib). */
const waitAsync = (Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number, timeout: number): { async: boolean; value: unknown } }).waitAsync;

const NO_MARKS: EncodedEvents = { json: [], start: [], end: [], crc: [] };

/** See LOG_THREAD_ENV. The runner calls it one step at a time (its flushes are awaited). */
class ThreadWrittenTransaction implements AppendTransaction {
  private posted = 0;
  private finished = false;

  constructor(
    private readonly inner: DetachableTransaction,
    private readonly link: ThreadLink,
    private position: number,
  ) {}

  append(events: readonly ClearingEvent[]): Promise<number> {
    return this.appendEncoded(events, NO_MARKS);
  }

  async appendEncoded(entries: readonly (ClearingEvent | number)[], encoded: EncodedEvents): Promise<number> {
    if (this.finished) throw new Error('the run\'s log transaction is finished');
    await this.throttle();
    const held = (encoded as Partial<HeldEncodedEvents>).held;
    const heldLine = (encoded as Partial<HeldEncodedEvents>).heldLine;
    const refs = new Int32Array(2 * entries.length);
    const events: ClearingEvent[] = [];
    let bytes = new Uint8Array(1 << 14);
    let at = 0;
    let lastHeld = -1;
    const reserve = (more: number) => {
      if (at + more <= bytes.length) return;
      const grown = new Uint8Array(Math.max(2 * bytes.length, at + more));
      grown.set(bytes.subarray(0, at));
      bytes = grown;
    };
    for (let e = 0; e < entries.length; e++) {
      const entry = entries[e]!;
      if (typeof entry === 'number') {
        const id = held !== undefined ? held[entry]! : -1;
        if (id >= 0) {
          refs[2 * e] = id;
          refs[2 * e + 1] = heldLine![entry]!;
          lastHeld = id;
          continue;
        }
        // a mark whose JSON is here (decoded on this thread before the hand-over)
        const start = encoded.start[entry]!;
        const length = encoded.end[entry]! - start;
        reserve(length);
        bytes.set(encoded.json[entry]!.subarray(start, start + length), at);
        refs[2 * e] = JSON_BYTES;
        refs[2 * e + 1] = length;
        at += length;
      } else {
        // the event itself (structured clone, in C++: ~0.35 µs, where its canonical JSON and hash here were ~2 µs);
        // the thread encodes it (encodeEvent, the same JSON) and, for a decision, hashes that line
        refs[2 * e] = isDecision(entry) ? EVENT_DECISION : EVENT_INPUT;
        events.push(entry);
      }
    }
    // the marks of held messages before the last one referred to are all in the log now (a chunk may end inside a message)
    const lines: LogLines = { kind: 'lines', count: entries.length, refs, bytes, events, release: lastHeld };
    this.posted++;
    this.link.send(lines, this.posted - Atomics.load(this.link.control, CONTROL.WRITTEN) >= CHUNKS_TO_WAKE, [refs.buffer, bytes.buffer]);
    this.position += entries.length;
    return this.position;
  }

  /** Waits while the thread is MAX_CHUNKS_AHEAD chunks behind; throws its error if its writing failed. */
  private async throttle(): Promise<void> {
    const control = this.link.control;
    for (;;) {
      if (Atomics.load(control, CONTROL.FAILED) !== 0) throw await this.writerError();
      // a thread that ended writes nothing more: waiting for it would be forever
      if (this.link.failure !== undefined) throw this.link.failure;
      const written = Atomics.load(control, CONTROL.WRITTEN);
      if (this.posted - written < MAX_CHUNKS_AHEAD) return;
      this.link.wake();
      // not Atomics.wait: the event loop must go on (the thread's end, its error message)
      const wait = waitAsync(control, CONTROL.WRITTEN, written, 100);
      if (wait.async) await wait.value;
    }
  }

  private async writerError(): Promise<Error> {
    for (;;) {
      const message = await this.link.nextWriterMessage();
      if (message.kind === 'write-error') return writeFailure(message);
    }
  }

  async commit(): Promise<number> {
    if (this.finished) throw new Error('the run\'s log transaction is finished');
    this.link.send({ kind: 'finish' }, true);
    const message = await this.link.nextWriterMessage();
    if (message.kind === 'write-error') throw writeFailure(message);
    this.finished = true;
    this.written = message;
    // the thread has written everything: it can end (not awaited: the input's close waits for it)
    void this.link.stop().catch(() => undefined);
    return this.inner.commitDetached(message.end);
  }

  /** The thread's answer to `finish`. */
  protected written: Extract<WriterMessage, { kind: 'written' }> | undefined;

  async abort(): Promise<void> {
    this.finished = true;
    // the thread writes nothing more once stopped: only then may the store cut back to its committed length
    await this.link.stop();
    await this.inner.abort();
  }
}

/** ThreadWrittenTransaction whose thread also hashes the decisions (writtenByThread's `decisionsHash`). */
class ThreadHashedTransaction extends ThreadWrittenTransaction implements DecisionHashingTransaction {
  decisionsHashAfterCommit(): Sha256State {
    const state = this.written?.decisionsHash;
    if (state === undefined) throw new Error("the decode thread gave no outputHash state with the run's log");
    return state;
  }
}

/** The thread's write error, as the main thread throws it (with the system error's code, e.g. ENOSPC). */
function writeFailure(message: Extract<WriterMessage, { kind: 'write-error' }>): NodeJS.ErrnoException {
  const error = new Error(`writing the log on the decode thread failed: ${message.message}`) as NodeJS.ErrnoException;
  if (message.code !== undefined) error.code = message.code;
  return error;
}

import type { MessagePort, Worker } from 'node:worker_threads';
import { decodeLine, InputError, type InputEvent, type Sha256State } from '@clearsim/events';
import { LINE_INPUT, type MarkColumns } from '@clearsim/shard';
import type { AppendTransaction } from '@clearsim/store';
import { CONTROL, writtenByThread, type ThreadCommand, type ThreadLink, type WriterMessage } from './log-thread';
import type { ReadProgress } from './jsonl-reader';
import { DECODE_CREDITS, DECODE_THREAD_ENV, SpawnedDecodeWorker } from './decode-worker-spawn';
import { takeEarlyDecodeThread } from './early-decode-thread';
import { decodeMessages, LINES_PER_MESSAGE, type DecodeMessage, type ErrorMessage, type HandOver, type LinesMessage } from './mark-columns';

export { DECODE_CREDITS, DECODE_THREAD_ENV, DECODE_THREAD_MIN_BYTES, decodeThreadFor } from './decode-worker-spawn';

/**
 * A thread out of credits is woken once this many are back, not at each: a wake-up is a system call, and on a busy
 * machine a context switch that can preempt the main thread; the main thread still holds the other messages.
 */
const CREDITS_TO_WAKE = DECODE_CREDITS / 2;

/** Lines per message the main thread decodes itself while the thread starts: small, so it hands over soon after the thread is ready. */
const LINES_PER_MESSAGE_BEFORE_HAND_OVER = 1024;
// read once: a re-exported constant is a getter call at every use in the compiled code
const INPUT = LINE_INPUT;

export interface MarkColumnOptions {
  /**
   * Decode on a worker thread (default), or in this thread through the same code (false: tests, no built worker
   * script), or ('in-process', tests) hand over after `handOverAfter` messages to a second reader in this thread, as
   * the main thread hands over to the decode thread once it has started.
   */
  thread?: boolean | 'in-process';
  handOverAfter?: number;
  linesPerMessage?: number;
  credits?: number;
  /** Bytes per read (jsonl-reader's default: 4 MiB); tests cut lines at chunk edges with small ones. */
  chunkBytes?: number;
  /**
   * The thread may write the run's log (startDecodeThread's `writeLog`): it then outlives the reading of the file
   * (the run's last chunk and its commit come after it) and is stopped by the log's commit or abort, or `close`.
   */
  forLog?: boolean;
}

/**
 * The lines of a JSONL file as MarkColumns batches: mark lines decoded (and encoded for the log) by the decode
 * thread, every other line decoded here by decodeLine, whose schema is the authority for every refusal. A line that
 * does not decode ends its batch (the lines before it are handed out first) and is thrown when the next batch is
 * asked for, so an earlier input refused by the engine is still the one reported — as the single-thread reader
 * does. The thread is stopped however the caller leaves the loop (the generator's `finally`), and its errors (a line
 * too long, a read error) are thrown here as the same errors. The thread starts when the first batch is asked for.
 */
export function markColumnBatches(file: string, read: ReadProgress, options: MarkColumnOptions = {}): AsyncGenerator<MarkColumns> {
  let producer: Producer | undefined;
  return columnsOf(() => (producer ??= newProducer(file, read, options)), file, read);
}

/**
 * The decode thread started now (its ~0.2–0.3 s of start-up, its modules loaded, overlaps the caller's opening of
 * the store): `batches` as markColumnBatches gives them. `close` stops it (and `batches` does once left), so a
 * caller that fails before taking them does not leave it running.
 */
export function startDecodeThread(
  file: string,
  read: ReadProgress,
  options: MarkColumnOptions = {},
): { batches: AsyncGenerator<MarkColumns>; close(): Promise<void>; writeLog?: (transaction: AppendTransaction, decisionsHash?: Sha256State) => Promise<AppendTransaction> } {
  const producer = newProducer(file, read, options);
  const link = producer instanceof HandOverProducer ? producer.link : producer instanceof ThreadProducer ? producer : undefined;
  return {
    batches: columnsOf(() => producer, file, read),
    // however the run ended: the thread is stopped even if it was writing the log
    close: async () => {
      await producer.close();
      await link?.stop();
    },
    writeLog: link && options.forLog ? (transaction, decisionsHash) => writtenByThread(transaction, link, decisionsHash) : undefined,
  };
}

function newProducer(file: string, read: ReadProgress, options: MarkColumnOptions): Producer {
  const linesPerMessage = options.linesPerMessage ?? LINES_PER_MESSAGE;
  if (options.thread === false) return new InlineProducer(file, read, linesPerMessage, options.chunkBytes);
  if (options.thread === 'in-process') return new HandOverProducer(file, read, new InProcessTakeOver(file, linesPerMessage, options.chunkBytes, options.handOverAfter ?? 1), linesPerMessage, options.chunkBytes);
  // started by the CLI's entry point before it loaded the commands, decoding from the first line: nothing to hand over
  const early = options.credits === undefined && options.linesPerMessage === undefined && options.chunkBytes === undefined ? takeEarlyDecodeThread(file) : undefined;
  if (early !== undefined) return new ThreadProducer(early, options.forLog ?? false);
  const thread = new ThreadProducer(new SpawnedDecodeWorker(file, options.credits ?? DECODE_CREDITS, linesPerMessage), options.forLog ?? false);
  return new HandOverProducer(file, read, thread, LINES_PER_MESSAGE_BEFORE_HAND_OVER, options.chunkBytes, process.env[DECODE_THREAD_ENV] === '1' ? thread.whenReady : undefined);
}

async function* columnsOf(start: () => Producer, file: string, read: ReadProgress): AsyncGenerator<MarkColumns> {
  const producer = start();
  const names: string[] = [];
  try {
    for (;;) {
      const message = await producer.next();
      if (message.kind === 'end') return;
      if (message.kind === 'error') throw revive(message);
      read.bytesRead = message.bytesRead;
      for (let n = 0; n < message.newNames.length; n++) names.push(message.newNames[n]!);
      const { count, kinds, texts, firstLine } = message;
      const inputs = new Array<InputEvent | undefined>(count);
      let decoded = count;
      let refusal: unknown;
      for (let i = 0, t = 0; i < count; i++) {
        if (kinds[i] !== INPUT) continue;
        try {
          inputs[i] = decodeLine(texts[t++]!, 'input', file, firstLine + i) as InputEvent;
        } catch (error) {
          refusal = error;
          decoded = i;
          break;
        }
      }
      if (decoded > 0) yield columnsFromMessage(message, decoded, inputs, names, file);
      if (refusal !== undefined) throw refusal;
      producer.credit();
    }
  } finally {
    await producer.close();
  }
}

function columnsFromMessage(message: LinesMessage, count: number, inputs: (InputEvent | undefined)[], names: readonly string[], source: string): MarkColumns {
  const { firstLine, kinds, ts, units, instrument, json, jsonStart, jsonEnd, crc, held } = message;
  if (held !== undefined) return { source, firstLine, count, kinds, inputs, ts, units, instrument, names, jsonStart, held };
  return { source, firstLine, count, kinds, inputs, ts, units, instrument, names, json, jsonStart, jsonEnd, crc };
}

/** The decode thread's error as the error the single-thread reader would have thrown. */
function revive(message: ErrorMessage): Error {
  if (message.name === 'InputError') return new InputError(message.issues ?? [], message.source, message.line);
  const error = new Error(message.message) as NodeJS.ErrnoException;
  if (message.code !== undefined) error.code = message.code;
  return error;
}

/** What a producer hands over: lines, their end, or an error (a thread's `ready` is its own business). */
type Produced = Exclude<DecodeMessage, { kind: 'ready' }>;

interface Producer {
  next(): Promise<Produced>;
  /** The main thread took a message: one more may come. */
  credit(): void;
  /** Stops it (if it has not ended), and waits for that. */
  close(): Promise<void>;
}

/** The messages from a worker thread (decode-worker.ts); its link (log-thread.ts) for the log's writing. */
class ThreadProducer implements Producer, ThreadLink {
  private readonly worker: Worker;
  private readonly queue: Produced[] = [];
  private waiting: { resolve: (message: Produced) => void; reject: (error: Error) => void } | undefined;
  failure: Error | undefined;
  private readonly exited: Promise<void>;
  /** The thread's credits, its signal… (CONTROL; decode-worker.ts). */
  readonly control: Int32Array<SharedArrayBuffer>;
  /** Commands to the thread, and its answers about the log. */
  readonly commands: MessagePort;
  private readonly writerMessages: WriterMessage[] = [];
  private writerWaiting: { resolve: (message: WriterMessage) => void; reject: (error: Error) => void } | undefined;
  /** Its `ready` message was read. */
  private readySeen = false;
  /** It writes the log (a `write` command was sent): close() leaves it running, stop() ends it. */
  private forLog: boolean;
  private signalReady: (() => void) | undefined;
  /** Resolves when `ready` is true (or the thread failed: next() says how). */
  readonly whenReady = new Promise<void>((resolve) => (this.signalReady = resolve));

  /** Reads what `spawned` posts (started now, or earlier: early-decode-thread.ts); `forLog`: it may write the run's log. */
  constructor(spawned: SpawnedDecodeWorker, forLog: boolean) {
    const { file, worker, control, commands: port1 } = spawned;
    this.forLog = forLog;
    this.worker = worker;
    this.control = control;
    this.commands = port1;
    port1.on('message', (message: WriterMessage) => {
      if (this.writerWaiting) {
        this.writerWaiting.resolve(message);
        this.writerWaiting = undefined;
      } else this.writerMessages.push(message);
    });
    // the run's end does not wait for this port: the thread's end (close) does
    port1.unref();
    let exited: () => void;
    this.exited = new Promise((resolve) => (exited = resolve));
    spawned.attach({
      message: (message: DecodeMessage) => {
        if (message.kind === 'ready') {
          this.readySeen = true;
          this.signalReady!();
        } else if (this.waiting) {
          this.waiting.resolve(message);
          this.waiting = undefined;
        } else this.queue.push(message);
      },
      error: (error) => this.fail(error),
      // messages posted before the thread ended are delivered before 'exit': one that ends now without `end` or an error failed
      exit: (code) => {
        this.fail(new Error(`the decode thread of ${file} stopped (exit code ${code}) before the end of the file or of the log's writing`));
        exited();
      },
    });
  }

  /** The thread has loaded its code and waits for `start`: from shared memory, so seen before its message is read. */
  get ready(): boolean {
    return this.readySeen || Atomics.load(this.control, CONTROL.READY) === 1;
  }

  next(): Promise<Produced> {
    const message = this.queue.shift();
    if (message !== undefined) return Promise.resolve(message);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  credit(): void {
    const credits = Atomics.add(this.control, CONTROL.CREDITS, 1) + 1;
    Atomics.add(this.control, CONTROL.SIGNAL, 1);
    if (credits >= CREDITS_TO_WAKE) this.wake();
  }

  /** Lets the thread take over after `from.line`. */
  start(from: HandOver): void {
    this.send({ kind: 'start', from }, true);
  }

  send(command: ThreadCommand, wake: boolean, transfer?: ArrayBuffer[]): void {
    this.commands.postMessage(command, transfer);
    Atomics.add(this.control, CONTROL.SIGNAL, 1);
    if (wake) this.wake();
  }

  wake(): void {
    // a wake-up (a system call) only for a thread that sleeps: it looks at the signal before it sleeps
    if (Atomics.load(this.control, CONTROL.SLEEPING) !== 0) Atomics.notify(this.control, CONTROL.SIGNAL);
  }

  nextWriterMessage(): Promise<WriterMessage> {
    const message = this.writerMessages.shift();
    if (message !== undefined) return Promise.resolve(message);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.writerWaiting = { resolve, reject }));
  }

  stop(): Promise<void> {
    this.forLog = false;
    return this.close();
  }

  private fail(error: Error): void {
    this.signalReady!();
    this.failure ??= error;
    this.waiting?.reject(this.failure);
    this.waiting = undefined;
    this.writerWaiting?.reject(this.failure);
    this.writerWaiting = undefined;
  }

  async close(): Promise<void> {
    // it may write the log: it outlives the reading, and stop() ends it (the run's commit or abort, or the input's close)
    if (this.forLog) return;
    // the thread holds no state worth a graceful stop (it only reads; what it wrote of the log is not committed, and
    // the store cuts it back): end it now, wherever it is (again: a no-op)
    await this.worker.terminate();
    await this.exited;
    this.commands.close();
  }
}

/** The same messages made in this thread, one at a time as asked for (the reader's own pace: no credits needed). */
class InlineProducer implements Producer {
  private readonly messages: AsyncGenerator<LinesMessage>;

  constructor(file: string, read: ReadProgress, linesPerMessage: number, chunkBytes: number | undefined) {
    this.messages = decodeMessages(file, read, linesPerMessage, chunkBytes);
  }

  async next(): Promise<Produced> {
    const { value, done } = await this.messages.next();
    return done ? { kind: 'end' } : value;
  }

  credit(): void {}

  async close(): Promise<void> {
    await this.messages.return(undefined);
  }
}

/** A reader that takes over from the main thread: the decode thread, or (tests) InProcessTakeOver. */
interface TakeOver extends Producer {
  /** It is ready to take over (the thread has loaded its code; or it failed, and its next() says how). */
  readonly ready: boolean;
  start(from: HandOver): void;
}

/**
 * The main thread decodes the first lines itself (the same code, in this thread) until the decode thread is ready,
 * then hands over at a message's end: the thread reads the file from its start, splits the lines the same way, skips
 * those decoded here and goes on with the same name table — the same messages as either alone would give.
 */
class HandOverProducer implements Producer {
  private inline: InlineProducer | undefined;
  private lastLine = 0;
  private readonly names: string[] = [];

  /** The decode thread's link, when the take-over is a thread (the log can be written there). */
  get link(): ThreadLink | undefined {
    return this.takeOver instanceof ThreadProducer ? this.takeOver : undefined;
  }

  constructor(
    file: string,
    read: ReadProgress,
    private readonly takeOver: TakeOver,
    linesPerMessage: number,
    chunkBytes: number | undefined,
    /** Wait for this (the thread's start) instead of decoding the first lines here. */
    private readonly waitFor?: Promise<void>,
  ) {
    this.inline = new InlineProducer(file, read, linesPerMessage, chunkBytes);
  }

  async next(): Promise<Produced> {
    if (this.inline !== undefined && this.waitFor !== undefined) await this.waitFor;
    if (this.inline !== undefined) {
      if (!this.takeOver.ready) {
        const message = await this.inline.next();
        if (message.kind === 'lines') {
          this.lastLine = message.firstLine + message.count - 1;
          for (let n = 0; n < message.newNames.length; n++) this.names.push(message.newNames[n]!);
        }
        return message;
      }
      await this.inline.close();
      this.inline = undefined;
      this.takeOver.start({ line: this.lastLine, names: this.names });
    }
    return this.takeOver.next();
  }

  credit(): void {
    // a message decoded here takes no credit of the thread's
    if (this.inline === undefined) this.takeOver.credit();
  }

  async close(): Promise<void> {
    await this.inline?.close();
    await this.takeOver.close();
  }
}

/** A second reader in this thread that takes over after `after` messages (tests of the hand-over). */
class InProcessTakeOver implements TakeOver {
  private messages: AsyncGenerator<LinesMessage> | undefined;
  private asked = 0;

  constructor(
    private readonly file: string,
    private readonly linesPerMessage: number,
    private readonly chunkBytes: number | undefined,
    private readonly after: number,
  ) {}

  get ready(): boolean {
    return this.asked++ >= this.after;
  }

  start(from: HandOver): void {
    this.messages = decodeMessages(this.file, { bytesRead: 0 }, this.linesPerMessage, this.chunkBytes, { line: from.line, names: [...from.names] });
  }

  async next(): Promise<Produced> {
    const { value, done } = await this.messages!.next();
    return done ? { kind: 'end' } : value;
  }

  credit(): void {}

  async close(): Promise<void> {
    await this.messages?.return(undefined);
  }
}

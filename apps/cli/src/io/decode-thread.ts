import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { decodeLine, InputError, type InputEvent } from '@clearsim/events';
import { LINE_INPUT, type MarkColumns } from '@clearsim/shard';
import type { ReadProgress } from './jsonl-reader';
import type { DecodeWorkerData } from './decode-worker';
import { decodeMessages, LINES_PER_MESSAGE, type DecodeMessage, type ErrorMessage, type LinesMessage } from './mark-columns';

/** Set to 0 to decode `run`'s JSONL input on the main thread as before (for comparison, or a machine of one core). */
export const DECODE_THREAD_ENV = 'CLEARSIM_DECODE_THREAD';

/** Messages the decode thread may post ahead of the one the main thread is deciding: what bounds its memory (~1.2 MB each). */
export const DECODE_CREDITS = 4;

const WORKER_SCRIPT = join(__dirname, 'decode-worker.js');
// read once: a re-exported constant is a getter call at every use in the compiled code
const INPUT = LINE_INPUT;

/** Whether `run` decodes its JSONL input on a thread of its own: the built worker script is there (not under a test runner's sources) and DECODE_THREAD_ENV is not 0. */
export const decodeThreadAvailable = (): boolean => process.env[DECODE_THREAD_ENV] !== '0' && existsSync(WORKER_SCRIPT);

export interface MarkColumnOptions {
  /** Decode on a worker thread (default), or in this thread through the same code (tests; no built worker script). */
  thread?: boolean;
  linesPerMessage?: number;
  credits?: number;
  /** Bytes per read (jsonl-reader's default: 4 MiB); tests cut lines at chunk edges with small ones. */
  chunkBytes?: number;
}

/**
 * The lines of a JSONL file as MarkColumns batches: mark lines decoded (and encoded for the log) by the decode
 * thread, every other line decoded here by decodeLine, whose schema is the authority for every refusal. A line that
 * does not decode ends its batch (the lines before it are handed out first) and is thrown when the next batch is
 * asked for, so an earlier input refused by the engine is still the one reported — as the single-thread reader
 * does. The thread is stopped however the caller leaves the loop (the generator's `finally`), and its errors (a line
 * too long, a read error) are thrown here as the same errors.
 */
export async function* markColumnBatches(file: string, read: ReadProgress, options: MarkColumnOptions = {}): AsyncGenerator<MarkColumns> {
  const linesPerMessage = options.linesPerMessage ?? LINES_PER_MESSAGE;
  const producer: Producer = options.thread === false ? new InlineProducer(file, read, linesPerMessage, options.chunkBytes) : new ThreadProducer(file, options.credits ?? DECODE_CREDITS, linesPerMessage);
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
      if (decoded > 0) yield columnsOf(message, decoded, inputs, names, file);
      if (refusal !== undefined) throw refusal;
      producer.credit();
    }
  } finally {
    await producer.close();
  }
}

function columnsOf(message: LinesMessage, count: number, inputs: (InputEvent | undefined)[], names: readonly string[], source: string): MarkColumns {
  const { firstLine, kinds, ts, units, instrument, json, jsonStart, jsonEnd, crc } = message;
  return { source, firstLine, count, kinds, inputs, ts, units, instrument, names, json, jsonStart, jsonEnd, crc };
}

/** The decode thread's error as the error the single-thread reader would have thrown. */
function revive(message: ErrorMessage): Error {
  if (message.name === 'InputError') return new InputError(message.issues ?? [], message.source, message.line);
  const error = new Error(message.message) as NodeJS.ErrnoException;
  if (message.code !== undefined) error.code = message.code;
  return error;
}

interface Producer {
  next(): Promise<DecodeMessage>;
  /** The main thread took a message: one more may come. */
  credit(): void;
  /** Stops it (if it has not ended), and waits for that. */
  close(): Promise<void>;
}

/** The messages from a worker thread (decode-worker.ts). */
class ThreadProducer implements Producer {
  private readonly worker: Worker;
  private readonly queue: DecodeMessage[] = [];
  private waiting: { resolve: (message: DecodeMessage) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;
  private readonly exited: Promise<void>;
  /** The thread's credits (decode-worker.ts). */
  private readonly credits = new Int32Array(new SharedArrayBuffer(4));

  constructor(file: string, credits: number, linesPerMessage: number) {
    this.credits[0] = credits;
    this.worker = new Worker(WORKER_SCRIPT, { workerData: { file, credits: this.credits, linesPerMessage } satisfies DecodeWorkerData });
    this.worker.on('message', (message: DecodeMessage) => {
      if (this.waiting) {
        this.waiting.resolve(message);
        this.waiting = undefined;
      } else this.queue.push(message);
    });
    this.worker.on('error', (error) => this.fail(error));
    // messages posted before the thread ended are delivered before 'exit': one that ends now without `end` or an error failed
    this.exited = new Promise((resolve) => this.worker.once('exit', (code) => {
      this.fail(new Error(`the decode thread of ${file} stopped (exit code ${code}) before the end of the file`));
      resolve();
    }));
  }

  next(): Promise<DecodeMessage> {
    const message = this.queue.shift();
    if (message !== undefined) return Promise.resolve(message);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  credit(): void {
    Atomics.add(this.credits, 0, 1);
    Atomics.notify(this.credits, 0);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.waiting?.reject(this.failure);
    this.waiting = undefined;
  }

  async close(): Promise<void> {
    // the thread holds no state worth a graceful stop (it only reads): end it now, wherever it is
    await this.worker.terminate();
    await this.exited;
  }
}

/** The same messages made in this thread, one at a time as asked for (the reader's own pace: no credits needed). */
class InlineProducer implements Producer {
  private readonly messages: AsyncGenerator<LinesMessage>;

  constructor(file: string, read: ReadProgress, linesPerMessage: number, chunkBytes: number | undefined) {
    this.messages = decodeMessages(file, read, linesPerMessage, chunkBytes);
  }

  async next(): Promise<DecodeMessage> {
    const { value, done } = await this.messages.next();
    return done ? { kind: 'end' } : value;
  }

  credit(): void {}

  async close(): Promise<void> {
    await this.messages.return(undefined);
  }
}

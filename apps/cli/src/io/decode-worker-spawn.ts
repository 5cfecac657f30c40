import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { CONTROL } from './log-thread-protocol';
import type { DecodeMessage, HandOver } from './mark-columns';

// The decode thread's worker, started: a module that loads nothing but node's own (and the protocol's constants), so
// the CLI's entry point can start the thread before it loads the commands (main.ts, early-decode-thread.ts).

/**
 * `run` decodes a JSONL input of at least DECODE_THREAD_MIN_BYTES on a thread of its own; set this to 0 to decode
 * every input on the main thread as before (for comparison, or a machine of one core), to 1 to use the thread
 * whatever the input's size and to let it decode every line (tests: the main thread waits for it to start instead of
 * decoding the first lines itself); `hand-over` (tests) to use it whatever the size, the main thread decoding the first
 * lines until it has started, as for a large input.
 */
export const DECODE_THREAD_ENV = 'CLEARSIM_DECODE_THREAD';

/**
 * Below this, the thread does not pay: it takes ~0.1 s to start (a worker's node, its light modules) and compiles its
 * own copy of the decoder, while the main thread decodes the first lines itself; a smaller file is done before the
 * thread could help.
 */
export const DECODE_THREAD_MIN_BYTES = 16 << 20;

/**
 * Messages the decode thread may post ahead of the one the main thread is deciding: what bounds its memory (~0.5 MB
 * each, with the marks' log bytes it keeps). 16 (~33,000 lines, ~30 ms of a day's ticks) rather than 8: the thread
 * shares its core with V8's compiles, and with 8 a compile of a few tens of ms left the main thread waiting. Not 32:
 * the messages queued on the main thread outlive a scavenge, and their buffers, freed only by a full collection, took
 * the 10^7-event day from 188 to 241 MiB of peak RSS for no time gained (docs/performance.md, B1 round 48).
 */
export const DECODE_CREDITS = 16;

/**
 * Lines per message (~0.3 MB in all). A message's buffers live while its lines are decided and are freed with the
 * object the main thread made of them: at a scavenge if it dies young, else only at a full collection, rare over a
 * large state. 8,192 lines a message (~20 ms of deciding, promoted) cost the 10^6-event day ~20 MiB more peak RSS
 * than 2,048 (193–197 against 174–178 MiB), with no CPU difference seen.
 */
export const LINES_PER_MESSAGE = 2048;

const WORKER_SCRIPT = join(__dirname, 'decode-worker.js');

// a young generation of 4 MB instead of 16: the thread's garbage dies at once (a mark line's fields, an event's JSON
// text), and the default's semi-spaces were ~20 MB of the run's peak RSS for nothing. Not 2 (until the thread also
// encoded and hashed the main thread's events, B1 round 52): its scavenges then took 12 % of its profile; 4 MB gave
// the 10^6-event day 0.982× the wall (12 pairs) for ~2 MiB more at 10^7 (8 MB: 0.978×, ~6 MiB)
const YOUNG_GENERATION_MB = 4;

/** Whether `run` decodes a JSONL input of `bytes` on a thread of its own: the built worker script is there (not under a test runner's sources), and DECODE_THREAD_ENV and the size say so. */
export function decodeThreadFor(bytes: number): boolean {
  const setting = process.env[DECODE_THREAD_ENV];
  if (setting === '0' || !existsSync(WORKER_SCRIPT)) return false;
  return setting === '1' || setting === 'hand-over' || bytes >= DECODE_THREAD_MIN_BYTES;
}

/** What the decode thread is started with (decode-worker.ts). */
export interface DecodeWorkerData {
  file: string;
  control: Int32Array<SharedArrayBuffer>;
  commands: MessagePort;
  linesPerMessage: number;
  /** Decode from here at once, with no `start` command: a thread started before the main thread could decode anything. */
  from?: HandOver;
}

/** What the worker says, as its Worker object says it. */
export interface DecodeWorkerEvents {
  message(message: DecodeMessage): void;
  error(error: Error): void;
  exit(code: number): void;
}

/**
 * The decode thread's worker with its shared control array and commands port. What it says before a reader attaches
 * (a worker started early, whose ThreadProducer is made later) is kept, and handed over in order by `attach`.
 */
export class SpawnedDecodeWorker {
  readonly worker: Worker;
  readonly control = new Int32Array(new SharedArrayBuffer(4 * CONTROL.LENGTH));
  /** The main thread's end of the commands port. */
  readonly commands: MessagePort;
  private kept: ((events: DecodeWorkerEvents) => void)[] = [];
  private events: DecodeWorkerEvents | undefined;

  /** `from`: decoding from there at once (see DecodeWorkerData.from); undefined: it waits for `start`. */
  constructor(
    readonly file: string,
    credits: number,
    linesPerMessage: number,
    from?: HandOver,
  ) {
    this.control[CONTROL.CREDITS] = credits;
    const { port1, port2 } = new MessageChannel();
    this.commands = port1;
    this.worker = new Worker(WORKER_SCRIPT, {
      workerData: { file, control: this.control, commands: port2, linesPerMessage, ...(from ? { from } : {}) } satisfies DecodeWorkerData,
      transferList: [port2],
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    this.worker.on('message', (message: DecodeMessage) => this.say((events) => events.message(message)));
    this.worker.on('error', (error: Error) => this.say((events) => events.error(error)));
    this.worker.once('exit', (code: number) => this.say((events) => events.exit(code)));
  }

  /** Where what the worker says goes from now on, after what it said before. */
  attach(events: DecodeWorkerEvents): void {
    this.events = events;
    const kept = this.kept;
    this.kept = [];
    for (const say of kept) say(events);
  }

  private say(event: (events: DecodeWorkerEvents) => void): void {
    if (this.events !== undefined) event(this.events);
    else this.kept.push(event);
  }
}

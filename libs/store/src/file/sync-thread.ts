import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

/** Slots of the shared control array (Int32). */
const REQUESTED = 0; // the number of the last fsync asked for
const DONE = 1; // the number of the last fsync finished
const FD = 2; // the descriptor to fsync
const FAILED = 3; // 1: the last fsync failed (its error is on the port)
const STOP = 4; // 1: the thread ends its loop
const SLOTS = 5;

/** `Atomics.waitAsync` (node ≥ 16; its type is in TypeScript's es2024 lib, which this build does not load). */
const waitAsync = (Atomics as unknown as { waitAsync(array: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> } }).waitAsync;

/**
 * The thread's loop, as source (a worker from a string: it needs no file of
 * its own next to the compiled code, and runs the same under ts-jest). It
 * sleeps on REQUESTED with `Atomics.wait`, fsyncs FD, publishes DONE and wakes
 * the waiter with `Atomics.notify`. A failure's details go over the port
 * before DONE moves, so they are there when the waiter looks.
 */
const LOOP = `
const { workerData } = require('node:worker_threads');
const { fsyncSync } = require('node:fs');
const control = new Int32Array(workerData.control);
const errors = workerData.errors;
let seen = 0; // the first request is number 1, whether or not it came before the thread started
while (Atomics.load(control, ${STOP}) === 0) {
  const requested = Atomics.load(control, ${REQUESTED});
  if (requested === seen) {
    Atomics.wait(control, ${REQUESTED}, seen);
    continue;
  }
  seen = requested;
  let failed = 0;
  try {
    fsyncSync(Atomics.load(control, ${FD}));
  } catch (error) {
    failed = 1;
    errors.postMessage({ message: String(error && error.message), code: error && error.code, errno: error && error.errno, syscall: error && error.syscall });
  }
  Atomics.store(control, ${FAILED}, failed);
  Atomics.store(control, ${DONE}, seen);
  Atomics.notify(control, ${DONE});
}
errors.close();
`;

/**
 * One long-lived thread that fsyncs a descriptor on request, so a commit's
 * fsync costs the event loop an `Atomics.notify` and the settling of one
 * `Atomics.waitAsync` instead of a libuv pool hand-off (queueing work, waking
 * a pool thread, its completion callback: 26–32 µs of the main thread per
 * fsync on the VM measured in docs/performance.md, B5 round 6).
 *
 * One fsync at a time (the file store asks from its exclusive queue). The
 * thread keeps the process alive only while an fsync is in flight, so a
 * store left open never holds the process at exit; `stop()` ends it. If the
 * thread dies, the fsync in flight and every later one are refused (the store
 * then stops appending, as after any failed fsync).
 */
export class SyncThread {
  private readonly control = new Int32Array(new SharedArrayBuffer(SLOTS * Int32Array.BYTES_PER_ELEMENT));
  private readonly worker: Worker;
  private readonly errors: MessagePort;
  private sequence = 0;
  private pending?: { resolve(): void; reject(error: Error): void };
  private dead?: Error;
  private stopping?: Promise<void>;

  private constructor() {
    const { port1, port2 } = new MessageChannel();
    this.errors = port1;
    this.worker = new Worker(LOOP, { eval: true, workerData: { control: this.control.buffer, errors: port2 }, transferList: [port2], stdout: false, stderr: false });
    this.worker.unref();
    this.worker.on('error', (error) => this.die(error));
    this.worker.on('exit', (code) => this.die(new Error(`the fsync thread exited (code ${code})`)));
  }

  /** Starts the thread (a few ms: a new V8 isolate). */
  static start(): SyncThread {
    return new SyncThread();
  }

  /** fsyncs `fd` on the thread; resolves when it returned, rejects with its error (code, errno, syscall as node's own). */
  sync(fd: number): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.pending) return Promise.reject(new Error('SyncThread.sync: one fsync at a time (the previous one is still in flight)'));
    const control = this.control;
    const previous = this.sequence;
    const sequence = (this.sequence = (previous + 1) | 0);
    const answer = new Promise<void>((resolve, reject) => (this.pending = { resolve, reject }));
    Atomics.store(control, FD, fd);
    Atomics.store(control, REQUESTED, sequence);
    Atomics.notify(control, REQUESTED);
    this.worker.ref();
    const waited = waitAsync(control, DONE, previous);
    if (waited.async) void waited.value.then(() => this.settle(sequence));
    else this.settle(sequence);
    return answer;
  }

  /** Ends the thread (after the fsync in flight, if any). Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      if (this.dead) return resolve();
      this.worker.once('exit', () => resolve());
      Atomics.store(this.control, STOP, 1);
      Atomics.notify(this.control, REQUESTED);
      this.worker.ref(); // until it has exited
    });
    return this.stopping;
  }

  private settle(sequence: number): void {
    const pending = this.pending;
    if (!pending || Atomics.load(this.control, DONE) !== sequence) return; // the thread died first (die() answered)
    this.pending = undefined;
    if (this.stopping === undefined) this.worker.unref();
    if (Atomics.load(this.control, FAILED) === 0) return pending.resolve();
    const details = receiveMessageOnPort(this.errors)?.message as { message: string; code?: string; errno?: number; syscall?: string } | undefined;
    const error: NodeJS.ErrnoException = new Error(details?.message ?? 'fsync failed');
    if (details?.code !== undefined) error.code = details.code;
    if (details?.errno !== undefined) error.errno = details.errno;
    if (details?.syscall !== undefined) error.syscall = details.syscall;
    pending.reject(error);
  }

  private die(error: Error): void {
    this.dead ??= error;
    this.errors.close();
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(new Error(`${this.dead.message}; the fsync in flight is not known to have completed`, { cause: this.dead }));
  }
}

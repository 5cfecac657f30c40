import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BatchHandler, CommittedOffset, InboundMessage, InputsConsumer } from '../kafka.port';
import { PriceColumns, unpackBatch } from './batch-transfer';
import { committedOffsetOf, type KafkaJsAdmin, type KafkaJsOptions } from './kafkajs-ports';

/**
 * Whether the inputs consumer runs kafkajs in a thread of its own (`clearsim serve --kafka-consumer-thread`,
 * env CLEARSIM_KAFKA_CONSUMER_THREAD): `on`, `off`, or `auto` (on when the machine has at least 2 cores to
 * run it beside the clearing thread; docs/performance.md, B6 round 4, has the measurements behind it).
 */
export type ConsumerThreadSetting = 'on' | 'off' | 'auto';

export const CONSUMER_THREAD_SETTINGS: readonly ConsumerThreadSetting[] = ['on', 'off', 'auto'];

/** The default of `--kafka-consumer-thread`. */
export const DEFAULT_CONSUMER_THREAD: ConsumerThreadSetting = 'auto';

/** The setting named by `text` (a flag's or the env variable's value); a clear error naming `field` otherwise. */
export function parseConsumerThreadSetting(text: string, field: string): ConsumerThreadSetting {
  const value = text.trim().toLowerCase();
  if ((CONSUMER_THREAD_SETTINGS as readonly string[]).includes(value)) return value as ConsumerThreadSetting;
  throw new Error(`${field}: "${text}" is not one of ${CONSUMER_THREAD_SETTINGS.join(', ')}`);
}

/** Whether a setting puts the consumer on a thread of its own on a machine with `cores` cores. */
export function consumerThreadOn(setting: ConsumerThreadSetting, cores: number = availableParallelism()): boolean {
  return setting === 'on' || (setting === 'auto' && cores >= 2);
}

/** What the consumer thread starts with: the consumer's options without `log` (functions cannot cross), and how many batches it may fetch ahead. */
export interface ConsumerThreadData {
  options: Omit<KafkaJsOptions, 'log' | 'consumerThread'>;
  ahead: number;
  /** The generation its batches carry (a thread started after another died continues the count). */
  generation: number;
}

/** Messages from the clearing thread to the consumer thread. */
export type ToConsumerThread =
  | { type: 'start'; id: number }
  | { type: 'handled'; generation: number; batches: number; buffers: ArrayBuffer[] }
  | { type: 'commit'; id: number; partition: number; offset: string; metadata: string | null }
  | { type: 'heartbeat'; id: number }
  | { type: 'restart'; id: number; generation: number }
  | { type: 'stop'; id: number };

/** Messages from the consumer thread. */
export type FromConsumerThread =
  | { type: 'batch'; generation: number; topic: string; partition: number; buffer: ArrayBuffer; length: number }
  | { type: 'reply'; id: number; error?: string; osThreadId?: number }
  | { type: 'log'; line: string };

type Arrived = Extract<FromConsumerThread, { type: 'batch' }>;

/** Batches the thread may fetch and hand over before the clearing thread has handled them. */
const DEFAULT_AHEAD = 4;

/** The consumer thread's script: the build's .js, or (tests from sources) the .ts through the test-only swc hook. */
function threadScript(): { file: string; execArgv?: string[] } {
  const js = join(__dirname, 'consumer-thread.js');
  if (existsSync(js)) return { file: js };
  return { file: join(__dirname, 'consumer-thread.ts'), execArgv: ['--require', join(__dirname, '..', 'testing', 'register.cjs')] };
}

/**
 * The inputs consumer with kafkajs in a worker thread of its own
 * (consumer-thread.ts): the fetches, the decoding of their records and the
 * group protocol stay off the thread that decides and appends, and the next
 * batch is fetched while this one is decided. A batch arrives as one
 * transferred ArrayBuffer (batch-transfer.ts) and is handed to the handler
 * here, one call at a time, in offset order (batches that arrived while the
 * handler was busy are handed over together); a commit goes to the thread
 * and resolves once the broker has it. The same contract as
 * KafkaJsInputsConsumer: offsets are committed only by `commit`; a batch the
 * handler fails is consumed again from the committed offset (the thread
 * rejoins, as kafkajs does after a failed batch); `stop` lets the batch in
 * hand finish (its commits included) before the thread leaves the group. If
 * the thread dies, the error is logged, the batch in hand fails at its next
 * commit, and a new thread rejoins the group from the committed offsets.
 */
export class ThreadedInputsConsumer implements InputsConsumer {
  private worker?: Worker;
  private handler?: BatchHandler;
  private nextId = 1;
  private readonly replies = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  /** The OS thread id (Linux) of the consumer thread, from its start: what /proc/self/task/<id>/stat reports its CPU time under. */
  osThreadId?: number;
  /** Bumped at every restart: batches of an earlier generation (fetched from a position since abandoned) are dropped. */
  private generation = 0;
  private queue: Promise<void> = Promise.resolve();
  private readonly arrived: Arrived[] = [];
  /** The price columns of the batch in hand (the thread decodes price updates as it packs them: batch-transfer.ts). */
  private readonly prices = new PriceColumns();
  private stopping = false;
  private lastHeartbeat = 0;
  private stopped?: Promise<void>;
  private readonly log: (line: string) => void;
  /** Threads started (the first, and one after each death); for tests and /readyz-style reporting. */
  threadsStarted = 0;
  /** Milliseconds the clearing thread had no batch in hand and none waiting (what it spent waiting for the consumer thread), and when that last began. */
  starvedMs = 0;
  private starvedSince?: number;

  constructor(
    private readonly options: KafkaJsOptions,
    private readonly admin: KafkaJsAdmin,
    private readonly ahead = DEFAULT_AHEAD,
  ) {
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  get topic(): string {
    return this.options.inputsTopic;
  }

  /** The thread resolves a batch's offsets when it hands it over (see InputsConsumer.fetchesAhead). */
  readonly fetchesAhead = true;

  get partitions(): readonly number[] {
    return this.options.partitions;
  }

  /** The thread running kafkajs now (tests end it to check the consumer rejoins). */
  get thread(): Worker | undefined {
    return this.worker;
  }

  committed(partition: number): Promise<CommittedOffset | undefined> {
    return committedOffsetOf(this.admin, this.options.groupId, this.options.inputsTopic, partition);
  }

  async start(handler: BatchHandler): Promise<void> {
    if (this.handler) throw new Error('the inputs consumer is already running');
    this.handler = handler;
    await this.spawn();
  }

  private async spawn(): Promise<void> {
    const { log: _log, consumerThread: _thread, ...options } = this.options;
    const { file, execArgv } = threadScript();
    const worker = new Worker(file, { workerData: { options, ahead: this.ahead, generation: this.generation } satisfies ConsumerThreadData, execArgv });
    this.worker = worker;
    this.threadsStarted++;
    worker.on('message', (message: FromConsumerThread) => this.receive(message));
    worker.on('error', (error) => this.log(`kafka: the inputs consumer thread failed: ${error.stack ?? error.message}`));
    worker.on('exit', (code) => this.exited(worker, code));
    await this.request({ type: 'start', id: 0 });
  }

  /** The thread ended: expected after `stop`; otherwise its batches are dropped and a new thread rejoins from the committed offsets. */
  private exited(worker: Worker, code: number): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const error = new Error(`the inputs consumer thread exited (code ${code})`);
    for (const { reject } of this.replies.values()) reject(error);
    this.replies.clear();
    if (this.stopping) return;
    this.log(`kafka: ${error.message}; a new one rejoins the group from the committed offsets`);
    this.generation++;
    this.arrived.length = 0;
    const again = (): void => {
      if (this.stopping) return;
      this.spawn().catch((spawnError: unknown) => {
        this.log(`kafka: restarting the inputs consumer thread failed (trying again in 1 s): ${(spawnError as Error).message}`);
        const dead = this.worker;
        this.worker = undefined;
        void dead?.terminate();
        setTimeout(again, 1000).unref();
      });
    };
    // after the batch in hand has failed (its next commit is refused), so the new thread's batches follow it
    this.queue = this.queue.then(again);
  }

  private receive(message: FromConsumerThread): void {
    switch (message.type) {
      case 'log':
        this.log(message.line);
        return;
      case 'reply': {
        const waiter = this.replies.get(message.id);
        this.replies.delete(message.id);
        if (message.osThreadId !== undefined) this.osThreadId = message.osThreadId;
        if (message.error === undefined) waiter?.resolve();
        else waiter?.reject(new Error(message.error));
        return;
      }
      case 'batch':
        if (this.starvedSince !== undefined) {
          this.starvedMs += performance.now() - this.starvedSince;
          this.starvedSince = undefined;
        }
        this.arrived.push(message);
        this.queue = this.queue.then(() => this.handle());
        return;
    }
  }

  /**
   * Hands the handler every batch that arrived meanwhile, of the partition of the first, as one (in offset
   * order): when deciding falls behind the fetches, a handler call (and the commit it waits for at its end)
   * covers several fetches.
   */
  private async handle(): Promise<void> {
    const first = this.arrived.shift();
    if (!first || first.generation !== this.generation || this.stopping || !this.handler) return;
    const { generation, topic, partition } = first;
    const messages: InboundMessage[] = [];
    const buffers = [first.buffer];
    // one handler call at a time (this.queue): its columns are reused by the next
    const prices = this.prices;
    prices.clear();
    unpackBatch(topic, partition, first.buffer, first.length, messages, prices);
    while (this.arrived.length > 0 && this.arrived[0]!.generation === generation && this.arrived[0]!.partition === partition) {
      const next = this.arrived.shift()!;
      unpackBatch(topic, partition, next.buffer, next.length, messages, prices);
      buffers.push(next.buffer);
    }
    const isRunning = () => !this.stopping && generation === this.generation;
    try {
      await this.handler({ topic, partition, messages, prices }, { heartbeat: () => this.heartbeat(), isRunning });
      // the handler is done with the messages (their values are views of these buffers): the thread packs the next batches into them
      this.worker?.postMessage({ type: 'handled', generation, batches: buffers.length, buffers } satisfies ToConsumerThread, buffers);
      if (this.arrived.length === 0) this.starvedSince = performance.now();
    } catch (error) {
      this.log(`kafka: handling a batch of "${topic}" partition ${partition} failed (consumed again from the committed offset): ${(error as Error).message}`);
      if (this.stopping || generation !== this.generation) return; // stopping, or the thread died and a new one rejoins
      this.generation++;
      this.arrived.length = 0;
      await this.request({ type: 'restart', id: 0, generation: this.generation }).catch((restartError: unknown) => {
        // a thread that cannot rejoin is ended: a new one is started (and retried) as after its death
        this.log(`kafka: restarting the inputs consumer failed (a new thread takes over): ${(restartError as Error).message}`);
        void this.worker?.terminate();
      });
    }
  }

  private request(message: ToConsumerThread & { id: number }): Promise<void> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error('the inputs consumer thread is not running'));
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.replies.set(id, { resolve, reject });
      worker.postMessage({ ...message, id });
    });
  }

  /**
   * A heartbeat goes to the thread at most once per heartbeat interval (kafkajs sends one no more often
   * anyway): the handler asks after every step, and a round trip to the thread per step is not free.
   */
  private heartbeat(): Promise<void> {
    const now = performance.now();
    if (now - this.lastHeartbeat < (this.options.heartbeatInterval ?? 1_000)) return Promise.resolve();
    this.lastHeartbeat = now;
    return this.request({ type: 'heartbeat', id: 0 });
  }

  commit(partition: number, nextOffset: string, metadata?: string): Promise<void> {
    return this.request({ type: 'commit', id: 0, partition, offset: nextOffset, metadata: metadata ?? null });
  }

  stop(): Promise<void> {
    return (this.stopped ??= (async () => {
      this.stopping = true;
      // the batch in hand finishes (its step appended and committed) before the thread leaves the group
      await this.queue.catch(() => undefined);
      const worker = this.worker;
      if (!worker) return;
      try {
        await this.request({ type: 'stop', id: 0 });
      } finally {
        this.worker = undefined;
        await worker.terminate();
      }
    })());
  }
}

import { Kafka, logLevel, Partitioners, type Admin, type Consumer, type ConsumerConfig, type EachBatchPayload, type IHeaders, type KafkaConfig, type LogEntry, type Producer } from 'kafkajs';
import type {
  BatchHandler,
  CommittedOffset,
  DeadLetter,
  DeadLetters,
  InboundMessage,
  InputsConsumer,
  KafkaPorts,
  MessageHeaders,
  OutboundMessage,
  TopicAdmin,
  TopicPublisher,
  TopicSpec,
} from '../kafka.port';
import { deadLetterMessage } from '../topics';
import { fixedPartitionsAssigner } from './fixed-partitions-assigner';
import { ThreadedInputsConsumer } from './threaded-consumer';

export interface KafkaJsClientOptions {
  brokers: string[];
  clientId?: string;
  /** kafkajs log level (default WARN); log lines go to `log` (default stderr). */
  logLevel?: logLevel;
  log?: (line: string) => void;
  /** Extra kafkajs client settings (ssl, sasl, retry, …). */
  client?: Partial<KafkaConfig>;
}

export interface KafkaJsOptions extends KafkaJsClientOptions {
  /** The consumer group, used as given (a shard's is shardGroupId(…), see KafkaShardWorker). */
  groupId: string;
  inputsTopic: string;
  /** Partitions of the inputs topic to consume (a shard's own). */
  partitions: readonly number[];
  decisionsTopic: string;
  deadLetterTopic: string;
  /** Group session timeout (ms); the broker's minimum is 6000 by default. Default 10000. */
  sessionTimeout?: number;
  /** Default 1000 ms. */
  heartbeatInterval?: number;
  /** Longest wait of a fetch for `minBytes` (ms). Default 100. */
  maxWaitTimeInMs?: number;
  /** Upper bound of bytes fetched per partition per request. Default 1 MiB. */
  maxBytesPerPartition?: number;
  /**
   * Run the inputs consumer (kafkajs's fetches, record decoding and group protocol) in a worker thread of
   * its own (ThreadedInputsConsumer), so the next batch is fetched and decoded while this one is decided.
   * `client` must then be structured-cloneable (no functions). Default false.
   */
  consumerThread?: boolean;
}

const LEVELS: Record<number, string> = { [logLevel.ERROR]: 'ERROR', [logLevel.WARN]: 'WARN', [logLevel.INFO]: 'INFO', [logLevel.DEBUG]: 'DEBUG' };

/** kafkajs log lines on one line each, to stderr by default. */
function logCreator(log: (line: string) => void) {
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      const { message, timestamp: _t, logger: _l, ...extra } = entry as LogEntry['log'] & { logger?: string };
      // two shards starting together both create the topics; the loser's error response is expected (the admin handles it)
      if (namespace === 'Connection' && message.startsWith('Response CreateTopics')) return;
      const rest = Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : '';
      log(`[kafkajs ${LEVELS[level] ?? level} ${namespace}] ${message}${rest}`);
    };
}

const str = (value: Buffer | string | (Buffer | string)[] | undefined): string | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? String(value[value.length - 1]) : value.toString();

/** The headers of a message that has none: one frozen object shared, not one per message. */
export const NO_HEADERS: MessageHeaders = Object.freeze({});

export function readHeaders(headers: IHeaders | undefined): MessageHeaders {
  let out: MessageHeaders | undefined;
  for (const [k, v] of Object.entries(headers ?? {})) {
    const s = str(v);
    if (s !== undefined) (out ??= {})[k] = s;
  }
  return out ?? NO_HEADERS;
}

/**
 * The Kafka port on kafkajs 2.x. One client, one idempotent producer
 * (`idempotent: true`, `maxInFlightRequests: 1`, `acks: -1`; kafkajs calls
 * its idempotent producer experimental), one consumer with auto-commit off
 * and the fixed-partition assigner, one admin client.
 */
export function createKafkaJsPorts(options: KafkaJsOptions): KafkaPorts {
  const kafka = createKafkaJsClient(options);
  const producer = new KafkaJsProducer(kafka);
  const admin = new KafkaJsAdmin(kafka);
  const consumer = options.consumerThread ? new ThreadedInputsConsumer(options, admin) : new KafkaJsInputsConsumer(kafka, options, admin);
  let closed: Promise<void> | undefined;
  return {
    admin,
    consumer,
    decisions: producer.publisherFor(options.decisionsTopic),
    deadLetters: new KafkaJsDeadLetters(producer.publisherFor(options.deadLetterTopic)),
    close: () =>
      (closed ??= (async () => {
        await consumer.stop();
        await producer.disconnect();
        await admin.disconnect();
      })()),
  };
}

export function createKafkaJsClient(options: KafkaJsClientOptions): Kafka {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  return new Kafka({
    clientId: options.clientId ?? 'clearsim',
    brokers: options.brokers,
    logLevel: options.logLevel ?? logLevel.WARN,
    logCreator: logCreator(log),
    ...options.client,
  });
}

/** Lazily connected, shared by the decisions and dead-letter publishers. */
export class KafkaJsProducer {
  private readonly producer: Producer;
  private connected?: Promise<void>;

  constructor(
    kafka: Kafka,
    private readonly maxRequestBytes = 256 * 1024,
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  private connect(): Promise<void> {
    return (this.connected ??= this.producer.connect().catch((error: unknown) => {
      this.connected = undefined;
      throw error;
    }));
  }

  publisherFor(topic: string): TopicPublisher {
    return {
      topic,
      publish: async (messages: readonly OutboundMessage[]) => {
        if (messages.length === 0) return;
        await this.connect();
        // one request per ~maxRequestBytes: a record batch larger than the broker's
        // message.max.bytes (1 MiB by default) is refused whole
        for (const chunk of chunkBySize(messages, this.maxRequestBytes)) {
          await this.producer.send({
            topic,
            acks: -1,
            messages: chunk.map((m) => ({ key: m.key, value: m.value, headers: m.headers, partition: m.partition })),
          });
        }
      },
    };
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = undefined;
    await this.producer.disconnect();
  }
}

const sizeOf = (m: OutboundMessage): number => {
  let size = 64 + (m.key?.length ?? 0) + m.value.length;
  for (const [k, v] of Object.entries(m.headers ?? {})) size += k.length + v.length + 8;
  return size;
};

/** Consecutive runs of messages of at most `maxBytes` (approximately; a single larger message is a run of its own). */
export function chunkBySize<T extends OutboundMessage>(messages: readonly T[], maxBytes: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = sizeOf(m);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

export class KafkaJsDeadLetters implements DeadLetters {
  constructor(private readonly publisher: TopicPublisher) {}

  get topic(): string {
    return this.publisher.topic;
  }

  send(letters: readonly DeadLetter[]): Promise<void> {
    return this.publisher.publish(letters.map(deadLetterMessage));
  }
}

/**
 * Broker errors that mean "not yet", not "no": a fresh broker is still loading
 * its group coordinator (__consumer_offsets) or propagating a new topic's
 * metadata. kafkajs retries them on the consumer and producer paths but not
 * on every admin call, so ours wait them out (up to ~30 s, backing off).
 */
const TRANSIENT = new Set(['GROUP_LOAD_IN_PROGRESS', 'GROUP_COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR_FOR_GROUP', 'UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION', 'REQUEST_TIMED_OUT']);

export async function retryTransient<T>(fn: () => Promise<T>, attempts = 12): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const e = error as { type?: string; retriable?: boolean };
      const transient = (e.type !== undefined && TRANSIENT.has(e.type)) || e.retriable === true;
      if (!transient || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** (attempt - 1), 4000)));
    }
  }
}

export class KafkaJsAdmin implements TopicAdmin {
  private readonly admin: Admin;
  private connected?: Promise<void>;

  constructor(kafka: Kafka) {
    this.admin = kafka.admin();
  }

  async client(): Promise<Admin> {
    await (this.connected ??= this.admin.connect().catch((error: unknown) => {
      this.connected = undefined;
      throw error;
    }));
    return this.admin;
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    const admin = await this.client();
    const existing = new Set(await retryTransient(() => admin.listTopics()));
    const missing = specs.filter((s) => !existing.has(s.topic));
    if (missing.length === 0) return;
    // createTopics resolves false (no error) when another process created them first
    await retryTransient(() =>
      admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({ topic: s.topic, numPartitions: s.partitions, replicationFactor: s.replicationFactor ?? -1 })),
      }),
    );
  }

  async partitionCount(topic: string): Promise<number | undefined> {
    const admin = await this.client();
    if (!(await retryTransient(() => admin.listTopics())).includes(topic)) return undefined;
    const { topics } = await retryTransient(() => admin.fetchTopicMetadata({ topics: [topic] }));
    return topics[0]?.partitions.length;
  }

  async endOffsets(topic: string): Promise<Map<number, string>> {
    const admin = await this.client();
    const offsets = await retryTransient(() => admin.fetchTopicOffsets(topic));
    return new Map(offsets.map((o) => [o.partition, o.high]));
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = undefined;
    await this.admin.disconnect();
  }
}

/** The inputs consumer's kafkajs settings (the same on the main thread and in the consumer thread). */
export function inputsConsumerConfig(options: Pick<KafkaJsOptions, 'groupId' | 'inputsTopic' | 'partitions' | 'sessionTimeout' | 'heartbeatInterval' | 'maxWaitTimeInMs' | 'maxBytesPerPartition'>, isOwner: () => boolean): ConsumerConfig {
  return {
    groupId: options.groupId,
    partitionAssigners: [fixedPartitionsAssigner(options.inputsTopic, options.partitions, isOwner)],
    sessionTimeout: options.sessionTimeout ?? 10_000,
    heartbeatInterval: options.heartbeatInterval ?? 1_000,
    maxWaitTimeInMs: options.maxWaitTimeInMs ?? 100,
    maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
    allowAutoTopicCreation: false,
  };
}

/** Reads the committed offset of a partition for the inputs consumers (either kind). */
export async function committedOffsetOf(admin: KafkaJsAdmin, groupId: string, inputsTopic: string, partition: number): Promise<CommittedOffset | undefined> {
  const client = await admin.client();
  const [topic] = await retryTransient(() => client.fetchOffsets({ groupId, topics: [inputsTopic] }));
  const found = topic?.partitions.find((p) => p.partition === partition);
  if (!found || BigInt(found.offset) < 0n) return undefined;
  return { offset: found.offset, metadata: found.metadata };
}

export class KafkaJsInputsConsumer implements InputsConsumer {
  private readonly consumer: Consumer;
  private running = false;
  /** Whether the group gave this member the partitions (it keeps them when a standby joins). */
  private owner = false;
  private stopped?: Promise<void>;
  /**
   * The batch in flight, per partition. Commits go through its
   * `commitOffsetsIfNecessary(offsets)`: `consumer.commitOffsets` silently
   * does nothing once the consumer is stopping, which would lose the commit
   * of the step a graceful stop drains. `resolveOffset` moves the fetch position.
   */
  private readonly inFlight = new Map<number, Pick<EachBatchPayload, 'resolveOffset' | 'commitOffsetsIfNecessary'>>();

  constructor(
    kafka: Kafka,
    private readonly options: KafkaJsOptions,
    private readonly admin: KafkaJsAdmin,
  ) {
    this.consumer = kafka.consumer(inputsConsumerConfig(options, () => this.owner));
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      this.owner = (payload.memberAssignment[options.inputsTopic] ?? []).length > 0;
    });
  }

  get topic(): string {
    return this.options.inputsTopic;
  }

  get partitions(): readonly number[] {
    return this.options.partitions;
  }

  committed(partition: number): Promise<CommittedOffset | undefined> {
    return committedOffsetOf(this.admin, this.options.groupId, this.options.inputsTopic, partition);
  }

  async start(handler: BatchHandler): Promise<void> {
    if (this.running) throw new Error('the inputs consumer is already running');
    this.running = true;
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.options.inputsTopic], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale()) return;
        const messages: InboundMessage[] = batch.messages.map((m) => ({
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key ? m.key.toString() : null,
          value: m.value,
          headers: readHeaders(m.headers),
        }));
        this.inFlight.set(batch.partition, { resolveOffset, commitOffsetsIfNecessary });
        try {
          await handler({ topic: batch.topic, partition: batch.partition, messages }, { heartbeat, isRunning: () => isRunning() && !isStale() });
        } finally {
          this.inFlight.delete(batch.partition);
        }
      },
    });
  }

  async commit(partition: number, nextOffset: string, metadata?: string): Promise<void> {
    const batch = this.inFlight.get(partition);
    if (!batch) {
      await this.consumer.commitOffsets([{ topic: this.options.inputsTopic, partition, offset: nextOffset, metadata: metadata ?? null }]);
      return;
    }
    const partitions = [{ partition, offset: nextOffset, metadata: metadata ?? null }];
    await batch.commitOffsetsIfNecessary({ topics: [{ topic: this.options.inputsTopic, partitions }] });
    batch.resolveOffset((BigInt(nextOffset) - 1n).toString());
  }

  stop(): Promise<void> {
    return (this.stopped ??= (async () => {
      if (this.running) await this.consumer.stop();
      await this.consumer.disconnect();
    })());
  }
}
